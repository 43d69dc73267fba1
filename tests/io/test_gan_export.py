"""ONNX export of a GAN: both networks run in onnxruntime as the engine runs them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from gan_graphs import dense_gan, image_gan, trained

from nndesk.document.examples import EXAMPLES
from nndesk.document.gan import is_gan
from nndesk.io.export import ExportError, export_gan, import_onnx
from nndesk.io.export.gan_export import (
    META_GAN,
    export_gan_onnx,
    gan_onnx_paths,
    gan_to_onnx,
)
from nndesk.training.session import TrainingSession

TOLERANCE = 1e-5


def run(path: Path, feed: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (name,) = [i.name for i in session.get_inputs()]
    return session.run(None, {name: feed})[0]


@pytest.mark.parametrize("loss", ["standard", "least_squares", "wasserstein"])
def test_both_parts_compute_what_the_engine_computes(loss: str, tmp_path: Path) -> None:
    gan, trainer = trained(dense_gan(loss))
    paths = export_gan_onnx(
        gan.generator, gan.discriminator, gan.setup, tmp_path / "ring.onnx"
    )
    assert paths == {
        "generator": tmp_path / "ring-generator.onnx",
        "discriminator": tmp_path / "ring-discriminator.onnx",
    }
    z = trainer.noise(257, 5)
    samples = run(paths["generator"], z)
    np.testing.assert_allclose(samples, trainer.sample(z), atol=TOLERANCE)
    scores = run(paths["discriminator"], samples)
    assert scores.shape == (257, 1)
    # The standard loss's discriminator gives the probability of being real.
    np.testing.assert_allclose(
        scores[:, 0], trainer.discriminate(samples), atol=TOLERANCE
    )
    if loss == "standard":
        assert 0 < scores.min() and scores.max() < 1
    else:
        assert "Sigmoid" not in {
            n.op_type for n in onnx.load(paths["discriminator"]).graph.node
        }


@pytest.mark.parametrize(
    "name", sorted(n for n, e in EXAMPLES.items() if is_gan(e.build()))
)
def test_every_gan_example_exports_both_parts(name: str, tmp_path: Path) -> None:
    gan, trainer = trained(EXAMPLES[name].build())
    paths = export_gan_onnx(
        gan.generator, gan.discriminator, gan.setup, tmp_path / f"{name}.onnx"
    )
    z = trainer.noise(33, 1)
    samples = run(paths["generator"], z)
    np.testing.assert_allclose(samples, trainer.sample(z), atol=TOLERANCE)
    scores = run(paths["discriminator"], samples)
    np.testing.assert_allclose(
        scores[:, 0], trainer.discriminate(samples), atol=TOLERANCE
    )


def test_an_image_gan_with_transposed_convolutions(tmp_path: Path) -> None:
    gan, trainer = trained(image_gan())
    paths = export_gan_onnx(
        gan.generator, gan.discriminator, gan.setup, tmp_path / "dcgan"
    )
    assert paths["generator"].name == "dcgan-generator.onnx"
    z = trainer.noise(40, 1)
    images = run(paths["generator"], z)
    assert images.shape == (40, 8, 8, 1)
    np.testing.assert_allclose(images, trainer.sample(z), atol=TOLERANCE)
    np.testing.assert_allclose(
        run(paths["discriminator"], images)[:, 0],
        trainer.discriminate(images),
        atol=TOLERANCE,
    )


def test_names_and_metadata_say_which_part_is_which() -> None:
    gan, _ = trained(dense_gan("wasserstein"))
    protos = gan_to_onnx(gan.generator, gan.discriminator, gan.setup)
    g, d = protos["generator"], protos["discriminator"]
    assert [i.name for i in g.graph.input] == [gan.setup.noise_id]
    assert [o.name for o in g.graph.output] == [gan.setup.sample_id]
    assert [i.name for i in d.graph.input] == [gan.setup.input_id]
    assert [o.name for o in d.graph.output] == [gan.setup.score_id]
    assert (g.graph.name, d.graph.name) == ("generator", "discriminator")
    meta = json.loads({p.key: p.value for p in g.metadata_props}[META_GAN])
    assert meta == {
        "part": "generator",
        "noise_shape": [4],
        "distribution": "normal",
        "loss": "wasserstein",
        "sample_shape": [2],
    }
    meta = json.loads({p.key: p.value for p in d.metadata_props}[META_GAN])
    assert meta["part"] == "discriminator"


def test_the_standard_discriminator_ends_in_a_named_sigmoid() -> None:
    gan, _ = trained(dense_gan("standard"))
    d = gan_to_onnx(gan.generator, gan.discriminator, gan.setup, ["discriminator"])
    last = d["discriminator"].graph.node[-1]
    score = gan.setup.score_id
    assert (last.op_type, list(last.input), list(last.output)) == (
        "Sigmoid",
        [f"{score}/logit"],
        [score],
    )
    assert last.name == f"{score}/sigmoid"


def test_one_part_is_written_at_the_path_itself(tmp_path: Path) -> None:
    gan, trainer = trained(dense_gan())
    target = tmp_path / "g.onnx"
    written = export_gan_onnx(
        gan.generator, gan.discriminator, gan.setup, target, parts=["generator"]
    )
    assert written == {"generator": target}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.onnx"]
    z = trainer.noise(8, 0)
    np.testing.assert_allclose(run(target, z), trainer.sample(z), atol=TOLERANCE)


@pytest.mark.parametrize(
    "path,expected",
    [
        ("a/ring.onnx", ["a/ring-generator.onnx", "a/ring-discriminator.onnx"]),
        ("a/ring.ONNX", ["a/ring-generator.onnx", "a/ring-discriminator.onnx"]),
        ("a/ring", ["a/ring-generator.onnx", "a/ring-discriminator.onnx"]),
        ("a/my.gan.onnx", ["a/my.gan-generator.onnx", "a/my.gan-discriminator.onnx"]),
    ],
)
def test_paths_of_both_parts(path: str, expected: list[str]) -> None:
    assert [str(p) for p in gan_onnx_paths(path).values()] == expected


@pytest.mark.parametrize("parts", [(), ("encoder",), ("generator", "generator")])
def test_parts_that_are_no_choice_are_refused(parts: tuple[str, ...]) -> None:
    with pytest.raises(
        ExportError, match="are not a choice of generator, discriminator"
    ):
        gan_onnx_paths("x.onnx", parts)


def test_a_failed_write_leaves_nothing_and_old_files_untouched(tmp_path: Path) -> None:
    gan, _ = trained(dense_gan())
    (tmp_path / "ring-generator.onnx").write_text("old")
    (tmp_path / "ring-discriminator.onnx").mkdir()  # a folder in the way
    with pytest.raises(
        ExportError, match="a folder named .*ring-discriminator.onnx is in the way"
    ):
        export_gan_onnx(
            gan.generator, gan.discriminator, gan.setup, tmp_path / "ring.onnx"
        )
    assert (tmp_path / "ring-generator.onnx").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ring-discriminator.onnx",
        "ring-generator.onnx",
    ]
    with pytest.raises(ExportError, match="the folder .*missing does not exist"):
        export_gan_onnx(
            gan.generator, gan.discriminator, gan.setup, tmp_path / "missing" / "r.onnx"
        )


def test_an_exported_generator_imports_back_as_a_network(tmp_path: Path) -> None:
    gan, trainer = trained(dense_gan())
    paths = export_gan_onnx(gan.generator, gan.discriminator, gan.setup, tmp_path / "r")
    project = import_onnx(paths["generator"])
    session = TrainingSession.from_project(project)
    z = trainer.noise(16, 3)
    np.testing.assert_allclose(
        session.model.predict(z), trainer.sample(z), atol=TOLERANCE
    )


def test_export_gan_chooses_the_form_and_refuses_what_cannot_be(tmp_path: Path) -> None:
    gan, _ = trained(dense_gan())
    saved: list[Path] = []
    written = export_gan(gan, "onnx", tmp_path / "r.onnx", save_network=saved.append)
    assert [p.name for p in written] == ["r-generator.onnx", "r-discriminator.onnx"]
    one = export_gan(
        gan,
        "onnx",
        tmp_path / "d.onnx",
        save_network=saved.append,
        parts=["discriminator"],
    )
    assert one == [tmp_path / "d.onnx"] and saved == []
    with pytest.raises(ExportError, match="valid formats are onnx, pytorch"):
        export_gan(gan, "keras", tmp_path / "k", save_network=saved.append)
    with pytest.raises(ExportError, match="one part of a GAN as a PyTorch project"):
        export_gan(
            gan,
            "pytorch",
            tmp_path / "p",
            save_network=saved.append,
            parts=["generator"],
        )
    assert not (tmp_path / "p").exists() and not (tmp_path / "k").exists()
