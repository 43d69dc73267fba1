"""File > Export of a GAN in the window: both networks, as ONNX files or a project."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from ui_helpers import OFFSCREEN_NOISE

from nndesk.document.graph import Document
from nndesk.training.gan import GanSession
from nndesk.ui import exchange
from nndesk.ui.main_window import MainWindow

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]


def least_squares_gan() -> Document:
    """Noise (3,) -> 8 relu -> 2; Input (2,) -> 8 tanh -> 1 linear -> Output."""
    doc = Document({"dataset": "ring-gaussians:n=64", "batch_size": 16})
    chain = [doc.add_node("Noise", {"shape": (3,), "gan_loss": "least_squares"})]
    chain.append(doc.add_node("Dense", {"units": 8, "activation": "relu"}))
    chain.append(doc.add_node("Dense", {"units": 2, "activation": "linear"}))
    critic = [doc.add_node("Input", {"shape": (2,)})]
    critic.append(doc.add_node("Dense", {"units": 8, "activation": "tanh"}))
    critic.append(doc.add_node("Dense", {"units": 1, "activation": "linear"}))
    critic.append(doc.add_node("Output", {}))
    for nodes in (chain, critic):
        for a, b in zip(nodes, nodes[1:], strict=False):
            doc.connect(a, "out", b, "in")
    return doc


def open_gan(window: MainWindow, tmp_path: Path) -> GanSession:
    session = GanSession(least_squares_gan(), base_dir=tmp_path)
    rng = np.random.default_rng(0)
    for _ in range(3):  # trained weights, not the initial draw
        session.trainer.train_batch(rng.normal(size=(16, 2)).astype(np.float32))
    path = tmp_path / "ring.nndesk"
    session.save(path)
    assert window.open_file(path)
    return GanSession.open(path)


def test_onnx_export_of_a_gan_writes_both_networks(
    main_window: MainWindow, tmp_path: Path, monkeypatch
) -> None:
    saved = open_gan(main_window, tmp_path)
    monkeypatch.setattr(exchange, "_ask_path", lambda *args: tmp_path / "ring")
    assert main_window.export_as("onnx")
    assert main_window.errors == []
    message = main_window.statusBar().currentMessage()
    assert "Exported ring-generator.onnx and ring-discriminator.onnx as ONNX" in message
    z = saved.trainer.noise(32, 1)
    runtime = ort.InferenceSession(
        str(tmp_path / "ring-generator.onnx"), providers=["CPUExecutionProvider"]
    )
    got = runtime.run(None, {saved.gan.setup.noise_id: z})[0]
    np.testing.assert_allclose(got, saved.trainer.sample(z), atol=1e-5)
    assert (tmp_path / "ring-discriminator.onnx").exists()


def test_pytorch_export_of_a_gan_writes_a_gan_project(
    main_window: MainWindow, tmp_path: Path
) -> None:
    open_gan(main_window, tmp_path)
    assert main_window.export_as("pytorch", tmp_path / "proj")
    assert main_window.errors == []
    assert sorted(p.name for p in (tmp_path / "proj").iterdir()) == [
        "README.md",
        "discriminator.py",
        "generator.py",
        "network.nndesk",
        "train.py",
        "weights.npz",
    ]
    assert (
        "Exported proj as a PyTorch project" in main_window.statusBar().currentMessage()
    )
