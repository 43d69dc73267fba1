"""Every kind of GAN data the issue names trains a GAN and gets its picture
(issue 16): the ring and the 5x5 grid of Gaussians, the swiss roll, two moons,
points painted in the Data panel, the 1-D Gaussian mixture, and one class of
Fashion-MNIST images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nndesk.document import Document
from nndesk.document.painted import PaintedPoints
from nndesk.io.datasets.generative import mixture_of
from nndesk.training.gan import GanSession
from nndesk.training.gan_views import GanProber, TrainerNets

FASHION = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "fashion-mnist"
)


def dense_gan(dataset: str, shape: tuple[int, ...], noise: int = 2) -> Document:
    """Noise -> 16 -> sample of ``shape`` (sigmoid for images); Input -> 16 -> 1."""
    doc = Document(
        {"dataset": dataset, "batch_size": 64, "learning_rate": 0.002, "seed": 0}
    )
    size = int(np.prod(shape))
    chain = [doc.add_node("Noise", {"shape": (noise,)})]
    chain.append(doc.add_node("Dense", {"units": 16, "activation": "relu"}))
    end = "sigmoid" if len(shape) > 1 else "linear"
    chain.append(doc.add_node("Dense", {"units": size, "activation": end}))
    if len(shape) > 1:
        chain.append(doc.add_node("Reshape", {"target_shape": shape}))
    for a, b in zip(chain, chain[1:], strict=False):
        doc.connect(a, "out", b, "in")
    chain = [doc.add_node("Input", {"shape": shape})]
    if len(shape) > 1:
        chain.append(doc.add_node("Flatten"))
    chain.append(doc.add_node("Dense", {"units": 16, "activation": "relu"}))
    chain.append(doc.add_node("Dense", {"units": 1, "activation": "sigmoid"}))
    chain.append(doc.add_node("Output"))
    for a, b in zip(chain, chain[1:], strict=False):
        doc.connect(a, "out", b, "in")
    return doc


def train_and_probe(doc: Document, steps: int = 6):
    """A few batches of the document's GAN, then one picture of it."""
    session = GanSession(doc)
    dataset = session.load_dataset()
    real = session.prepare(dataset)
    before = session.trainer.get_weights()
    for _ in range(steps):
        logs = session.step()
        assert np.isfinite(logs["d_loss"])
    after = session.trainer.get_weights()
    assert any(not np.array_equal(before[k], after[k]) for k in before)
    mixture = mixture_of(str(dataset.source or ""))
    prober = GanProber(
        TrainerNets(session.trainer),
        real,
        coverage=None if mixture is None else mixture.coverage,
    )
    return session, real, prober.probe(session.epoch)


@pytest.mark.parametrize(
    ("spec", "modes"),
    [
        ("ring-gaussians:n=256", 8),
        ("grid-gaussians:n=250", 25),
        ("swiss-roll:n=256", None),
        ("moons:n=256", None),
    ],
)
def test_2d_data_trains_and_gets_the_layered_picture(spec: str, modes) -> None:
    session, real, picture = train_and_probe(dense_gan(spec, (2,)))
    assert real.shape == (int(spec.split("n=")[1]), 2)
    assert picture.kind == "plane" and picture.plane is not None
    assert picture.plane.heatmap.shape == (48, 48)
    assert picture.plane.mesh.shape == (15, 15, 2)
    assert picture.plane.arrows.shape == picture.plane.fake.shape == (512, 2)
    if modes is None:
        assert picture.coverage is None  # no modes to count: the meter is off
    else:
        assert picture.coverage is not None and picture.coverage[1] == modes


def test_painted_points_train_a_gan() -> None:
    rng = np.random.default_rng(0)
    doc = dense_gan("painted", (2,))
    points = np.concatenate([rng.normal((-0.5, 0.5), 0.05, (40, 2)),
                             rng.normal((0.5, -0.5), 0.05, (40, 2))])  # fmt: skip
    doc.set_painted(PaintedPoints.empty().added(points, 0))
    session, real, picture = train_and_probe(doc)
    np.testing.assert_allclose(real, points.astype(np.float32))
    assert picture.kind == "plane" and picture.coverage is None


def test_a_1d_mixture_trains_and_gets_densities_and_modes() -> None:
    session, real, picture = train_and_probe(dense_gan("mixture-1d:n=300", (1,), 1))
    assert real.shape == (300, 1)
    assert picture.kind == "line" and picture.line is not None
    assert picture.coverage is not None and picture.coverage[1] == 3


@pytest.mark.skipif(not FASHION.is_dir(), reason="shared fashion-mnist is missing")
def test_one_class_of_fashion_mnist_trains_and_gets_a_grid_and_a_strip() -> None:
    doc = dense_gan(f"{FASHION}:class=sneaker,split=test", (28, 28), noise=8)
    session, real, picture = train_and_probe(doc, steps=3)
    assert real.shape == (1000, 28, 28) and 0.0 <= real.min() and real.max() <= 1.0
    assert picture.kind == "image" and picture.image is not None
    assert picture.image.count == 36
    grid, strip = picture.image.grid, picture.image.strip
    assert grid.ndim == 2 and 6 * 28 <= grid.shape[0] < 7 * 28
    assert strip.shape[0] < 2 * 28 and strip.shape[1] >= 10 * 28  # one row of ten
    # Neighbours on the strip differ (it walks from one noise vector to another).
    cells = [strip[:28, i * (strip.shape[1] // 10) :][:, :28] for i in range(10)]
    assert not np.array_equal(cells[0], cells[-1])
