"""``nndesk export`` of a GAN: both networks as ONNX (or one with --part), or a
PyTorch project; one-line errors."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from nndesk import cli
from nndesk.document.graph import Document
from nndesk.io.project_file import Project, save_project
from nndesk.training.gan import GanSession


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def ring_gan() -> Document:
    """Noise (2,) -> 16 relu -> 2; Input (2,) -> 16 relu -> 1 sigmoid -> Output."""
    doc = Document(
        {"dataset": "ring-gaussians:n=128", "batch_size": 32, "learning_rate": 0.01}
    )
    g = [doc.add_node("Noise", {"shape": (2,)})]
    g.append(doc.add_node("Dense", {"units": 16, "activation": "relu"}))
    g.append(doc.add_node("Dense", {"units": 2, "activation": "linear"}))
    d = [doc.add_node("Input", {"shape": (2,)})]
    d.append(doc.add_node("Dense", {"units": 16, "activation": "relu"}))
    d.append(doc.add_node("Dense", {"units": 1, "activation": "sigmoid"}))
    d.append(doc.add_node("Output", {}))
    for nodes in (g, d):
        for a, b in zip(nodes, nodes[1:], strict=False):
            doc.connect(a, "out", b, "in")
    return doc


@pytest.fixture
def gan_file(tmp_path: Path) -> Path:
    path = tmp_path / "ring.nndesk"
    GanSession(ring_gan(), base_dir=tmp_path).save(path)
    code, _, err = run("train", str(path), "--epochs", "2", "-q")
    assert code == 0, err
    return path


def test_export_onnx_writes_both_networks(gan_file: Path, tmp_path: Path) -> None:
    code, out, err = run(
        "export",
        str(gan_file),
        "--format",
        "onnx",
        "--out",
        str(tmp_path / "ring.onnx"),
    )
    assert (code, err) == (0, "")
    g, d = tmp_path / "ring-generator.onnx", tmp_path / "ring-discriminator.onnx"
    assert out == (
        f"Wrote {g}: the generator as an ONNX model (opset 17).\n"
        f"Wrote {d}: the discriminator as an ONNX model (opset 17).\n"
    )
    session = GanSession.open(gan_file)
    assert session.trained
    z = session.trainer.noise(30, 2)
    runtime = ort.InferenceSession(str(g), providers=["CPUExecutionProvider"])
    samples = runtime.run(None, {"noise_1": z})[0]
    np.testing.assert_allclose(samples, session.trainer.sample(z), atol=1e-5)
    runtime = ort.InferenceSession(str(d), providers=["CPUExecutionProvider"])
    scores = runtime.run(None, {"input_1": samples})[0][:, 0]
    np.testing.assert_allclose(scores, session.trainer.discriminate(samples), atol=1e-5)


def test_export_one_part_to_the_path(gan_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "g.onnx"
    code, out, err = run(
        "export", str(gan_file), "--format", "onnx", "--out", str(target),
        "--part", "generator",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out == f"Wrote {target}: the generator as an ONNX model (opset 17).\n"
    assert sorted(p.name for p in tmp_path.glob("*.onnx")) == ["g.onnx"]


def test_export_pytorch_writes_the_gan_project(gan_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "proj"
    code, out, err = run(
        "export", str(gan_file), "--format", "pytorch", "--out", str(target)
    )
    assert (code, err) == (0, "")
    assert out.startswith(f"Wrote {target}: PyTorch project of the generator and")
    assert (target / "generator.py").exists() and (target / "train.py").exists()
    assert GanSession.open(target / "network.nndesk").trained


def test_an_untrained_gan_is_noted(tmp_path: Path) -> None:
    path = tmp_path / "fresh.nndesk"
    GanSession(ring_gan(), base_dir=tmp_path).save(path)
    code, out, _ = run(
        "export", str(path), "--format", "onnx", "--out", str(tmp_path / "f.onnx")
    )
    assert code == 0
    assert out.startswith("Note: the GAN is untrained; it holds its initial weights.")


def test_errors_are_one_line(gan_file: Path, tmp_path: Path) -> None:
    code, out, err = run(
        "export", str(gan_file), "--format", "pytorch", "--out", str(tmp_path / "p"),
        "--part", "generator",
    )  # fmt: skip
    assert code != 0 and out == ""
    assert err.count("\n") == 1 and "one part of a GAN as a PyTorch project" in err
    assert not (tmp_path / "p").exists()
    plain = tmp_path / "plain.nndesk"
    doc = Document({"dataset": "moons"})
    x = doc.add_node("Input", {"shape": (2,)})
    y = doc.add_node("Dense", {"units": 1, "activation": "sigmoid"})
    doc.connect(x, "out", y, "in")
    doc.connect(y, "out", doc.add_node("Output", {"loss": "binary_crossentropy"}), "in")
    save_project(plain, Project(document=doc))
    code, out, err = run(
        "export", str(plain), "--format", "onnx", "--out", str(tmp_path / "x.onnx"),
        "--part", "discriminator",
    )  # fmt: skip
    assert code != 0 and "--part applies to a GAN" in err and err.count("\n") == 1
