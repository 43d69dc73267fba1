"""The GAN views' numbers (issue 16), against engine models and hand computations."""

from __future__ import annotations

import numpy as np
import pytest

from nndesk.engine.layers import Dense, Input
from nndesk.engine.model import Model, Sequential
from nndesk.training.gan_views import (
    GanProber,
    data_kind,
    frame,
    image_picture,
    interpolate_noise,
    line_picture,
    noise_grid,
    plane_picture,
    tile_images,
)


class EngineGan:
    """``GanNets`` over two engine models, the non-saturating generator loss."""

    def __init__(
        self, generator: Model, discriminator: Model, noise: str = "normal"
    ) -> None:
        self.generator, self.discriminator = generator, discriminator
        self.noise_dim = int(generator.input_shapes[0][0])
        self.noise = noise
        self.probabilities = True

    def sample(self, z: np.ndarray) -> np.ndarray:
        return self.generator.predict(np.asarray(z, np.float32))

    def discriminate(self, x: np.ndarray) -> np.ndarray:
        return self.discriminator.predict(np.asarray(x, np.float32))

    def sample_gradients(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # L_G = -log D(x): dL/dD = -1 / D.
        x = self.sample(z)
        d = self.discriminator.forward(x)[0]
        return x, self.discriminator.backward([-1.0 / np.maximum(d, 1e-7)])[0].copy()


def affine_gan(noise_dim: int = 2, out: int = 2, noise: str = "normal") -> EngineGan:
    """G(z) = A z + b (linear), D(x) = sigmoid(w.x + c), weights set by hand."""
    g = Sequential([Input((noise_dim,)), Dense(out)], seed=0)
    d = Sequential([Input((out,)), Dense(1, activation="sigmoid")], seed=0)
    a = np.zeros((noise_dim, out), np.float32)
    a[0, 0] = 2.0
    if noise_dim > 1 and out > 1:
        a[1, 1] = 0.5
    g.set_weights({"dense_1/kernel": a, "dense_1/bias": np.full(out, 1.0, np.float32)})
    w = np.zeros((out, 1), np.float32)
    w[0, 0] = 1.5
    d.set_weights({"dense_1/kernel": w, "dense_1/bias": np.zeros(1, np.float32)})
    return EngineGan(g, d, noise)


def sigmoid(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


def test_data_kinds() -> None:
    assert data_kind((2,)) == "plane"
    assert data_kind((1,)) == "line"
    assert data_kind((28, 28)) == "image"
    assert data_kind((28, 28, 1)) == "image"
    assert data_kind((784,)) == "image"
    assert data_kind((5,)) == "none"
    assert data_kind((4, 4, 7)) == "none"


def test_noise_grid_is_a_slice_of_the_first_two_dimensions() -> None:
    grid = noise_grid(4, lines=5, span=2.0)
    assert grid.shape == (5, 5, 4)
    assert np.allclose(grid[0, :, 0], [-2, -1, 0, 1, 2])  # dims[0] along a row
    assert np.allclose(grid[:, 0, 1], [-2, -1, 0, 1, 2])  # dims[1] down a column
    assert not grid[..., 2:].any()  # the others at the centre
    other = noise_grid(4, lines=3, span=1.0, dims=(3, 1))
    assert np.allclose(other[0, :, 3], [-1, 0, 1]) and not other[..., 0].any()
    assert noise_grid(1, lines=4).shape == (1, 4, 1)
    with pytest.raises(ValueError, match="dims"):
        noise_grid(3, dims=(0, 0))


def test_slerp_keeps_the_norm_of_orthogonal_unit_vectors() -> None:
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    path = interpolate_noise(a, b, steps=5, kind="normal")
    assert np.allclose(path[0], a) and np.allclose(path[-1], b)
    assert np.allclose(np.linalg.norm(path, axis=1), 1.0, atol=1e-6)
    straight = interpolate_noise(a, b, steps=3, kind="uniform")
    assert np.allclose(straight[1], [0.5, 0.5])


def test_plane_picture_of_an_affine_gan_matches_hand_computation() -> None:
    nets = affine_gan()
    rng = np.random.default_rng(1)
    real = rng.normal(size=(100, 2)).astype(np.float32)
    z = rng.normal(size=(20, 2)).astype(np.float32)
    pic = plane_picture(nets, real, z, cells=8, lines=5)
    want_fake = np.stack([2 * z[:, 0] + 1, 0.5 * z[:, 1] + 1], axis=1)
    assert np.allclose(pic.fake, want_fake, atol=1e-6)
    # -dL/dx = (1/D) * D (1 - D) * w = (1 - D) w, w = (1.5, 0).
    d = sigmoid(1.5 * want_fake[:, 0])
    assert np.allclose(pic.arrows[:, 0], (1 - d) * 1.5, atol=1e-5)
    assert np.allclose(pic.arrows[:, 1], 0.0, atol=1e-7)
    x0, x1, y0, y1 = pic.extent
    # Heatmap cell centres, rows going up in y.
    cx = x0 + (np.arange(8) + 0.5) * (x1 - x0) / 8
    assert np.allclose(pic.heatmap[3], sigmoid(1.5 * cx), atol=1e-5)
    assert np.allclose(pic.heatmap[:, 2], pic.heatmap[0, 2])  # D ignores y
    # The mesh: the generator's image of the noise grid over [-2, 2]^2.
    ticks = np.linspace(-2, 2, 5)
    assert np.allclose(pic.mesh[0, :, 0], 2 * ticks + 1, atol=1e-6)
    assert np.allclose(pic.mesh[:, 0, 1], 0.5 * ticks + 1, atol=1e-6)
    assert pic.mesh_dims == (0, 1)


def test_plane_picture_with_one_noise_dimension_draws_a_curve() -> None:
    nets = affine_gan(noise_dim=1)
    z = np.zeros((4, 1), np.float32)
    pic = plane_picture(nets, np.zeros((3, 2)), z, lines=7)
    assert pic.mesh.shape == (1, 7, 2)
    assert np.allclose(pic.mesh[0, :, 0], 2 * np.linspace(-2, 2, 7) + 1, atol=1e-6)


def test_frame_takes_in_fakes_up_to_three_times_the_data() -> None:
    real = np.array([[-1.0, -1.0], [1.0, 1.0]])
    x0, x1, y0, y1 = frame(real, margin=0.0)
    assert (x0, x1, y0, y1) == (-1.0, 1.0, -1.0, 1.0)
    near = np.full((50, 2), 1.8)
    assert frame(real, near, margin=0.0)[1] == pytest.approx(1.8)
    far = np.full((50, 2), 100.0)
    assert frame(real, far, margin=0.0)[1] == pytest.approx(3.0)
    nan = np.full((5, 2), np.nan)
    assert frame(real, nan, margin=0.0) == (-1.0, 1.0, -1.0, 1.0)


def test_tile_images_places_and_scales() -> None:
    imgs = np.stack([np.full((2, 3), v) for v in (-1.0, 0.0, 1.0)])
    mosaic = tile_images(imgs, columns=2, value_range=(-1.0, 1.0), gap=1)
    assert mosaic.shape == (5, 7)
    assert np.allclose(mosaic[:2, :3], 0.0) and np.allclose(mosaic[:2, 4:], 0.5)
    assert np.allclose(mosaic[3:, :3], 1.0)
    assert np.allclose(mosaic[2], 1.0) and np.allclose(mosaic[3:, 4:], 1.0)


def test_image_picture_grid_and_strip_follow_the_generator() -> None:
    nets = affine_gan(noise_dim=3, out=16)
    fixed = np.random.default_rng(0).normal(size=(9, 3)).astype(np.float32)
    ends = (np.array([-1.0, 0, 0]), np.array([1.0, 0, 0]))
    pic = image_picture(nets, fixed, ends, (4, 4), steps=4, value_range=(-3.0, 5.0))
    assert pic.columns == 3 and pic.count == 9
    assert pic.grid.shape == (3 * 4 + 2, 3 * 4 + 2)
    assert pic.strip.shape == (4, 4 * 4 + 3)
    # Pixel 0 of sample k is 2 z_k0 + 1, shown as (v + 3) / 8.
    want = np.clip((2 * fixed[:, 0] + 1 + 3) / 8, 0, 1)
    got = pic.grid[0::5, 0::5][:3, :3].reshape(-1)
    assert np.allclose(got, want, atol=1e-6)
    ends_seen = pic.strip[0, [0, 15]]
    assert np.allclose(ends_seen, [(-2 + 1 + 3) / 8, (2 + 1 + 3) / 8], atol=1e-6)


def test_line_picture_densities_and_d_curve() -> None:
    nets = affine_gan(noise_dim=1, out=1)
    real = np.linspace(0.0, 1.0, 1000)
    z = np.zeros((50, 1), np.float32)  # every fake is G(0) = 1
    pic = line_picture(nets, real, z, bins=10, points=5, span=(0.0, 2.0))
    width = 0.2
    assert np.sum(pic.real) * width == pytest.approx(1.0)
    assert np.sum(pic.fake) * width == pytest.approx(1.0)
    assert pic.fake[5] * width == pytest.approx(1.0)  # all in [1.0, 1.2)
    assert np.allclose(pic.d, sigmoid(1.5 * np.linspace(0, 2, 5)), atol=1e-6)


def test_prober_uses_fixed_noise_and_a_steady_frame() -> None:
    nets = affine_gan()
    real = np.random.default_rng(3).normal(size=(5000, 2)).astype(np.float32)
    calls: list[int] = []

    def coverage(fake: np.ndarray) -> tuple[int, int, np.ndarray]:
        calls.append(len(fake))
        return 3, 8, np.arange(8)

    prober = GanProber(nets, real, seed=7, coverage=coverage)
    first, second = prober.probe(1.0), prober.probe(2.0)
    assert first.kind == "plane" and len(prober.real) == 1024
    assert np.array_equal(first.plane.fake, second.plane.fake)
    assert first.plane.extent == second.plane.extent
    assert first.coverage == (3, 8) and calls == [512, 512]
    d_real = sigmoid(1.5 * prober.real[:, 0].astype(np.float64)).mean()
    assert first.d_real == pytest.approx(d_real, rel=1e-5)
    assert first.d_fake == pytest.approx(
        sigmoid(1.5 * first.plane.fake[:, 0].astype(np.float64)).mean(), rel=1e-5
    )
    # The generator moves far away: the frame follows.
    nets.generator.set_weights(
        {"dense_1/bias": np.array([6.0, 0.0], np.float32)}, strict=False
    )
    moved = prober.probe(3.0)
    assert moved.plane.extent[1] > first.plane.extent[1]


def test_prober_of_images_and_other_shapes() -> None:
    nets = affine_gan(noise_dim=4, out=64)
    real = np.random.default_rng(0).uniform(-1, 1, size=(50, 64))  # 8 x 8
    pic = GanProber(nets, real.astype(np.float32)).probe()
    assert pic.kind == "image" and pic.image is not None and pic.plane is None
    assert pic.image.count == 36 and pic.image.grid.shape == (6 * 8 + 5,) * 2
    odd = affine_gan(noise_dim=2, out=5)
    none = GanProber(odd, np.zeros((10, 5), np.float32)).probe()
    assert none.kind == "none" and none.image is none.plane is none.line is None
    assert 0.0 < none.d_fake < 1.0


def test_trainer_nets_show_a_compiled_gan() -> None:
    from nndesk.document.examples import _chain
    from nndesk.document.graph import Document
    from nndesk.training.gan import GanSession
    from nndesk.training.gan_views import TrainerNets

    doc = Document({"dataset": "ring-gaussians:n=200", "batch_size": 50, "seed": 0})
    _chain(doc, [("Noise", {"shape": (3,)}), ("Dense", {"units": 8}),
                 ("Dense", {"units": 2, "activation": "linear"})])  # fmt: skip
    _chain(doc, [("Input", {"shape": (2,)}), ("Dense", {"units": 8, "activation": "tanh"}),
                 ("Dense", {"units": 1, "activation": "sigmoid"}), ("Output", {})],
           row=1)  # fmt: skip
    session = GanSession(doc)
    session.prepare(session.load_dataset())
    nets = TrainerNets(session.trainer)
    assert (nets.noise_dim, nets.noise, nets.probabilities) == (3, "normal", True)
    z = np.random.default_rng(0).normal(size=(16, 3)).astype(np.float32)
    pic = plane_picture(nets, session.data, z, cells=6, lines=4)
    fake, grads = session.trainer.sample_gradients(z)
    assert np.allclose(pic.fake, fake) and np.allclose(pic.arrows, -grads)
    assert pic.mesh.shape == (4, 4, 2) and pic.levels == (0.0, 1.0)
    assert ((pic.heatmap > 0) & (pic.heatmap < 1)).all()
    # A generator step moves each sample along its arrow (on average).
    before = nets.sample(z)
    session.trainer.generator_step(z)
    moved = nets.sample(z) - before
    assert np.sum(moved * pic.arrows) > 0
