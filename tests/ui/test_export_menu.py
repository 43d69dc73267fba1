"""File > Export > ONNX… and File > Open of an .onnx model, driven in the window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from PySide6.QtGui import QKeySequence
from ui_helpers import OFFSCREEN_NOISE

from nndesk.io.project_file import load_project
from nndesk.training.session import TrainingSession
from nndesk.ui import exchange
from nndesk.ui.main_window import MainWindow

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

FIXTURES = Path(__file__).resolve().parents[1] / "io" / "data" / "onnx"


def export_action(window: MainWindow):
    titles = [a.text() for a in window.export_menu.actions()]
    assert titles == ["&ONNX…", "&PyTorch Project…"]
    return window.export_menu.actions()[0]


def test_export_menu_writes_an_onnx_model_that_predicts_like_the_window(
    main_window: MainWindow, tmp_path: Path, monkeypatch
) -> None:
    target = tmp_path / "spiral"  # no suffix typed: .onnx is added
    asked = []

    def ask(parent, title, start, kind):
        asked.append((title, Path(start).name, kind))
        return target

    monkeypatch.setattr(exchange, "_ask_path", ask)
    action = export_action(main_window)
    assert action.shortcut() == QKeySequence("Ctrl+Shift+E")
    action.trigger()
    assert asked == [("Export as ONNX", "network.onnx", "onnx")]
    assert main_window.errors == []
    written = tmp_path / "spiral.onnx"
    assert written.exists()
    assert "Exported spiral.onnx as ONNX" in main_window.statusBar().currentMessage()
    session = TrainingSession.from_project(main_window.current_project())
    x = np.random.default_rng(0).normal(size=(20, 2)).astype(np.float32)
    runtime = ort.InferenceSession(str(written), providers=["CPUExecutionProvider"])
    got = runtime.run(None, {"input_1": x})[0]
    np.testing.assert_allclose(got, session.predict(x), rtol=1e-5, atol=1e-5)


def test_cancelled_dialog_writes_nothing(main_window, tmp_path, monkeypatch):
    monkeypatch.setattr(exchange, "_ask_path", lambda *args: None)
    assert not main_window.export_as("onnx")
    assert not any(p.suffix == ".onnx" for p in tmp_path.iterdir())
    assert main_window.errors == []


def test_export_to_a_missing_folder_is_one_sentence(main_window, tmp_path):
    assert not main_window.export_as("onnx", tmp_path / "nope" / "x.onnx")
    assert len(main_window.errors) == 1
    assert "does not exist" in main_window.errors[0]
    assert not (tmp_path / "nope").exists()


def test_export_of_a_broken_network_names_the_problem(main_window, tmp_path):
    doc = main_window.document
    doc.disconnect(doc.edges_in("dense_1")[0])
    assert not main_window.export_as("onnx", tmp_path / "x.onnx")
    assert len(main_window.errors) == 1 and "dense_1" in main_window.errors[0]
    assert not (tmp_path / "x.onnx").exists()


def test_open_accepts_an_onnx_model_as_a_new_unsaved_network(
    main_window: MainWindow, tmp_path: Path
) -> None:
    assert main_window.open_file(FIXTURES / "torch_mlp.onnx")
    doc = main_window.document
    assert [n.type_name for n in doc.nodes][:3] == ["Input", "Flatten", "Dense"]
    assert main_window.path is None and main_window.is_modified()
    assert "Imported torch_mlp.onnx" in main_window.statusBar().currentMessage()
    assert main_window.errors == []
    # Saving keeps the imported weights.
    target = tmp_path / "mlp.nndesk"
    assert main_window.save_as(target)
    saved = load_project(target)
    data = np.load(FIXTURES / "torch_mlp.npz")
    predicted = TrainingSession.from_project(saved).predict(data["x"])
    np.testing.assert_allclose(predicted, data["y"], atol=1e-5)


def test_open_of_an_unreadable_onnx_model_is_one_sentence(main_window, tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"nonsense" * 20)
    before = main_window.document
    assert not main_window.open_file(bad)
    assert main_window.errors == [
        "Cannot import bad.onnx: it is not an ONNX model (DecodeError)."
    ]
    assert main_window.document is before


def test_export_menu_writes_a_pytorch_project(main_window, tmp_path, monkeypatch):
    monkeypatch.setattr(exchange, "_ask_path", lambda *args: tmp_path / "spiral-pt")
    main_window.export_menu.actions()[1].trigger()
    assert main_window.errors == []
    folder = tmp_path / "spiral-pt"
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.md",
        "model.py",
        "network.nndesk",
        "train.py",
        "weights.npz",
    ]
    assert "as a PyTorch project" in main_window.statusBar().currentMessage()
    weights = np.load(folder / "weights.npz", allow_pickle=False)
    current = TrainingSession.from_project(main_window.current_project())
    for key, value in current.model.get_weights().items():
        assert weights[key].tobytes() == value.tobytes()
