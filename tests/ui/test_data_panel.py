"""The Data panel: generators with live preview, data files, target column, splits,
the test split, drops on the window, errors beside the source; all undoable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QStyle, QStyleOptionSlider
from ui_helpers import OFFSCREEN_NOISE

from nndesk.io.datasets import GENERATORS, write_idx_file
from nndesk.training.data import held_out_indices, split_order
from nndesk.training.session import TrainingSession
from nndesk.ui.main_window import MainWindow
from nndesk.ui.panels.data import DataPanel
from nndesk.ui.panels.data.fields import GeneratorField
from nndesk.ui.training.controller import TrainingController, attach_training

RUN_TIMEOUT = 60_000
pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]


def panel_of(window: MainWindow) -> DataPanel:
    dock = window.docks["data_dock"]
    dock.show()
    dock.raise_()
    return window.data_panel


def field(panel: DataPanel, name: str) -> GeneratorField:
    return next(f for f in panel._fields if f.spec.name == name)


def write_csv(path: Path, species_last: bool = False) -> Path:
    rng = np.random.default_rng(0)
    lines = [
        "width,height,weight,species" if species_last else "width,height,species,weight"
    ]
    for i in range(60):
        w, h = rng.normal(size=2)
        species = ("setosa", "virginica")[i % 2]
        cells = [f"{w:.4f}", f"{h:.4f}", species, str(50 + i)]
        if species_last:
            cells[2:] = cells[3], cells[2]
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def drag_slider(qtbot, field: GeneratorField, fraction: float) -> None:
    """Press the slider's handle and drag it to ``fraction`` of the groove."""
    slider = field.slider
    option = QStyleOptionSlider()
    slider.initStyleOption(option)
    style = slider.style()
    handle = style.subControlRect(
        QStyle.ComplexControl.CC_Slider,
        option,
        QStyle.SubControl.SC_SliderHandle,
        slider,
    )
    start = handle.center()
    end = QPoint(int(slider.width() * fraction), start.y())
    QTest.mousePress(
        slider, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start
    )
    for step in range(1, 6):
        x = start.x() + (end.x() - start.x()) * step // 5
        QTest.mouseMove(slider, QPoint(x, start.y()))
    QTest.mouseRelease(
        slider, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end
    )


# --- generators ------------------------------------------------------------------------


def test_every_generator_is_listed_with_its_options(main_window: MainWindow) -> None:
    panel = panel_of(main_window)
    for name, spec in GENERATORS.items():
        index = panel.source_combo.findData(f"generator:{name}")
        assert index >= 0, name
        panel.source_combo.activated.emit(index)
        assert main_window.document.settings["dataset"].startswith(f"{name}:")
        assert [f.spec.name for f in panel._fields] == [p.name for p in spec.params]
        # points are a scatter, sequences (time, features) traces, token ids rows
        shape = main_window.dataset.input_shape
        expected = {1: "scatter", 2: "sequences"}[len(shape)]
        if len(shape) == 1 and shape[0] > 2:
            expected = "table"
        assert panel.preview.mode == expected, name
    assert panel.source_combo.findText("Paint your own…") >= 0


def test_dragging_a_slider_previews_live_and_commits_one_undo_step(
    qtbot, main_window: MainWindow
) -> None:
    panel = panel_of(main_window)
    doc = main_window.document
    before = doc.settings["dataset"]
    shown_before = panel.preview.shown[0].copy()
    stack = main_window.undo_stack
    count = stack.count()
    noise = field(panel, "noise")
    drag_slider(qtbot, noise, 0.6)
    # The preview follows the drag, the document gets one edit on release.
    qtbot.waitUntil(lambda: not np.array_equal(panel.preview.shown[0], shown_before))
    assert stack.count() == count + 1
    spec = doc.settings["dataset"]
    assert spec != before and "noise=" in spec
    assert float(spec.split("noise=")[1].split(",")[0]) == pytest.approx(noise.value())
    assert noise.value() > 0.3
    # The window's dataset (what training uses) follows the spec.
    qtbot.waitUntil(lambda: main_window.dataset is not None)
    assert main_window.dataset.source == f"{spec},seed=0"
    stack.undo()
    assert doc.settings["dataset"] == before
    assert noise.value() == pytest.approx(0.1)
    stack.redo()
    assert doc.settings["dataset"] == spec


def test_a_big_generator_previews_a_subsample(qtbot, main_window: MainWindow) -> None:
    panel = panel_of(main_window)
    samples = field(panel, "n")
    samples.spin.setValue(200_000)  # typed: beyond the slider's span
    qtbot.waitUntil(lambda: panel.preview.shown is not None)
    assert len(panel.preview.shown[0]) <= 2000
    assert main_window.document.settings["dataset"].startswith("spiral:n=200000")


def test_a_bad_spec_is_said_next_to_the_source_and_in_problems(
    qtbot, main_window: MainWindow
) -> None:
    panel = panel_of(main_window)
    panel.spec_edit.setText("spiral:n=400,wobble=3")
    panel.spec_edit.editingFinished.emit()
    assert main_window.document.settings["dataset"] == "spiral:n=400,wobble=3"
    qtbot.waitUntil(lambda: panel.error_label.isVisible())
    assert "no option 'wobble'" in panel.error_label.text()
    problems = main_window.problems.list
    texts = [problems.item(i).text() for i in range(problems.count())]
    assert any("wobble" in t for t in texts)
    assert main_window.errors == []  # never a dialog
    main_window.undo_stack.undo()
    qtbot.waitUntil(lambda: not panel.error_label.isVisible())


# --- files ----------------------------------------------------------------------------


def test_open_a_csv_through_the_dialog_and_choose_its_target(
    qtbot, main_window: MainWindow, tmp_path: Path, monkeypatch
) -> None:
    csv_path = write_csv(tmp_path / "plants.csv")
    panel = panel_of(main_window)
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *a, **k: (str(csv_path), "")
    )
    doc = main_window.document
    count = main_window.undo_stack.count()
    assert panel.open_data_file()
    assert doc.settings["dataset"] == str(csv_path)
    # Header, column types and first rows are shown; the target defaults to the last.
    combo = panel.target_combo
    assert combo.isVisible()
    assert [combo.itemData(i) for i in range(combo.count())] == [
        "width",
        "height",
        "species",
        "weight",
    ]
    assert combo.itemText(2) == "species (text)"
    assert combo.currentIndex() == 3
    # The last column is the target until told otherwise: the text column then
    # stops the read, said beside the source (no dialog).
    assert "column 'species': 'setosa' is not a number" in panel.error_label.text()
    assert main_window.errors == []
    table = panel.preview.table
    assert table.isVisible() and table.rowCount() == 5
    assert table.horizontalHeaderItem(0).text() == "width\nnumber"
    # Choose the species column: the spec and the training data follow.
    combo.setCurrentIndex(2)
    combo.activated.emit(2)
    assert doc.settings["dataset"] == f"{csv_path}:target=species"
    qtbot.waitUntil(lambda: main_window.dataset is not None)
    data = main_window.dataset
    assert data.is_classification and data.class_names == ["setosa", "virginica"]
    assert data.feature_names == ["width", "height", "weight"]
    assert tuple(doc.node("input_1").params["shape"]) == (3,)  # the Input followed
    assert table.horizontalHeaderItem(2).text() == "species\ntarget"
    assert "Class counts: setosa: 30 · virginica: 30" in panel.preview.counts.text()
    session = TrainingSession(doc.snapshot())
    assert session.load_dataset().class_names == ["setosa", "virginica"]
    # Two steps: open, choose; undo restores the spiral and its shape.
    assert main_window.undo_stack.count() == count + 2
    main_window.undo_stack.undo()
    main_window.undo_stack.undo()
    assert doc.settings["dataset"] == "spiral:n=400,noise=0.1"
    assert tuple(doc.node("input_1").params["shape"]) == (2,)


def test_a_bad_cell_is_named_beside_the_source(
    qtbot, main_window: MainWindow, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("x1,x2,y\n1,2,0\n3,NaN,1\n" + "1,1,0\n" * 5, encoding="utf-8")
    panel = panel_of(main_window)
    assert panel.use_path(path)
    qtbot.waitUntil(lambda: panel.error_label.isVisible())
    assert "row 3, column 'x2': 'NaN' is not a finite number" in (
        panel.error_label.text()
    )
    assert main_window.errors == []


def test_an_idx_folder_shows_a_strip_of_images_with_labels(
    qtbot, main_window: MainWindow, tmp_path: Path, monkeypatch
) -> None:
    folder = tmp_path / "fashion-tiny"
    folder.mkdir()
    rng = np.random.default_rng(1)
    images = rng.integers(0, 255, size=(30, 28, 28), dtype=np.uint8)
    labels = (np.arange(30) % 10).astype(np.uint8)
    write_idx_file(folder / "train-images-idx3-ubyte", images)
    write_idx_file(folder / "train-labels-idx1-ubyte", labels)
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder)
    )
    panel = panel_of(main_window)
    assert panel.open_data_folder()
    qtbot.waitUntil(lambda: panel.preview.mode == "images")
    strip = panel.preview.strip
    labels_shown = [strip.item(i).text() for i in range(strip.count())]
    assert len(labels_shown) == 12
    assert set(labels_shown) <= {
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    }  # fmt: skip
    assert "Class counts: T-shirt/top: 3" in panel.preview.counts.text()


# --- splits ---------------------------------------------------------------------------


def test_fractions_are_undoable_and_training_never_sees_test_rows(
    qtbot, main_window: MainWindow
) -> None:
    panel = panel_of(main_window)
    doc = main_window.document
    panel.test_spin.setValue(0.25)
    panel.val_spin.setValue(0.15)
    assert doc.settings["test_split"] == 0.25
    assert doc.settings["validation_split"] == 0.15
    assert panel.split_label.text() == (
        "Train 240 · validation 60 · test 100 of 400 samples"
    )
    dataset = main_window.dataset
    order, n_train = split_order(dataset, doc.settings)
    held = held_out_indices(dataset, doc.settings)
    assert len(order) == 300 and n_train == 240 and len(held) == 100
    assert not set(order.tolist()) & set(held.tolist())
    # Too much held out: refused beside the source, the setting unchanged.
    panel.val_spin.setValue(0.8)
    assert doc.settings["validation_split"] == 0.15
    assert panel.val_spin.value() == pytest.approx(0.15)
    assert "leave nothing to train on" in panel.error_label.text()
    main_window.undo_stack.undo()
    assert doc.settings["validation_split"] == 0.2
    assert panel.val_spin.value() == pytest.approx(0.2)


@pytest.fixture
def training(main_window: MainWindow) -> TrainingController:
    controller = getattr(main_window, "training", None)
    return controller if controller is not None else attach_training(main_window)


def test_the_test_split_is_evaluated_from_the_panel_and_training_never_saw_it(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    panel = panel_of(main_window)
    doc = main_window.document
    panel.test_spin.setValue(0.25)
    assert main_window.edit_setting("epochs", 2)
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT):
        training.train()
    session = training.session
    assert isinstance(session, TrainingSession) and session.data is not None
    dataset = main_window.dataset
    held = held_out_indices(dataset, doc.settings)
    seen = {r.tobytes() for r in np.vstack([session.data.x_train, session.data.x_val])}
    assert len(seen) == 300
    assert not seen & {r.tobytes() for r in dataset.x[held]}
    assert panel.evaluate_test_button.isEnabled()
    panel.evaluate_test_button.click()
    result = training.evaluation.evaluation
    assert result is not None and result.split == "test" and result.n == 100
    expected = session.evaluate(dataset.subset(held, "test"))
    accuracy = np.trace(result.confusion) / result.confusion.sum()
    assert accuracy == pytest.approx(expected["accuracy"])


def test_evaluating_a_generator_without_a_test_split_says_why(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    panel = panel_of(main_window)
    assert not panel.evaluate_test_button.isEnabled()
    training.evaluate_test()
    assert "set a test split (test_split)" in training.last_error
    assert main_window.errors == []


# --- the spec line --------------------------------------------------------------------


def test_the_spec_line_and_the_widgets_follow_each_other(
    qtbot, main_window: MainWindow
) -> None:
    panel = panel_of(main_window)
    panel.spec_edit.setText("blobs:n=300,centers=5,noise=0.2")
    panel.spec_edit.editingFinished.emit()
    assert panel.source_combo.currentText() == "Blobs"
    assert field(panel, "centers").value() == 5
    assert field(panel, "n").value() == 300
    assert main_window.dataset.n_classes == 5
    field(panel, "centers").spin.setValue(4)
    assert panel.spec_edit.text() == "blobs:n=300,centers=4,noise=0.2"
    assert main_window.dataset.n_classes == 4


# --- drops ----------------------------------------------------------------------------


def drop_on(widget, path: Path) -> QDropEvent:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    actions = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(
        pos.toPoint(), actions, mime, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        pos, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, drop)
    return drop


def test_dropping_a_csv_on_the_window_makes_it_the_dataset(
    qtbot, main_window: MainWindow, tmp_path: Path
) -> None:
    csv_path = write_csv(tmp_path / "plants.csv", species_last=True)
    drop = drop_on(main_window, csv_path)
    assert drop.isAccepted()
    doc = main_window.document
    assert doc.settings["dataset"] == str(csv_path)
    qtbot.waitUntil(lambda: main_window.dataset is not None)
    assert main_window.dataset.name == "plants.csv"
    assert main_window.data_panel.isVisible()
    main_window.undo_stack.undo()
    assert doc.settings["dataset"] == "spiral:n=400,noise=0.1"


def test_a_file_that_is_no_data_is_not_taken(main_window: MainWindow, tmp_path):
    path = tmp_path / "notes.pdf"
    path.write_bytes(b"%PDF")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(
        QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(main_window, enter)
    assert not enter.isAccepted()


# --- painting -------------------------------------------------------------------------


def test_paint_your_own_shows_the_paint_widget_and_trains_on_the_points(
    qtbot, main_window: MainWindow
) -> None:
    panel = panel_of(main_window)
    doc = main_window.document
    spiral = main_window.dataset
    index = panel.source_combo.findText("Paint your own…")
    panel.source_combo.setCurrentIndex(index)
    panel.source_combo.activated.emit(index)
    # One undo step: the painted set starts from the spiral's 400 points.
    assert doc.settings["dataset"] == "painted"
    assert len(doc.painted) == 400
    assert panel.preview.mode == "custom"
    paint = panel.paint_widget
    assert paint is not None and paint.isVisibleTo(panel)
    data = main_window.dataset
    assert data is not None and data.name == "painted" and len(data) == 400
    np.testing.assert_allclose(np.sort(data.x[:, 0]), np.sort(spiral.x[:, 0]))
    # An edit of the points (a stroke, here the document method the tool calls)
    # is the window's dataset at once.
    doc.set_painted(doc.painted.removed(list(range(100))))
    assert len(main_window.dataset) == 300
    main_window.undo_stack.undo()  # the start of painting
    assert doc.settings["dataset"] == "spiral:n=400,noise=0.1"
    assert panel.preview.mode == "scatter"
    assert panel.source_combo.currentText() == "Spiral"


# --- big files, scaling, folders ------------------------------------------------------


def test_a_big_file_loads_in_the_background_while_the_panel_says_so(
    qtbot, main_window: MainWindow, tmp_path: Path
) -> None:
    csv_path = write_csv(tmp_path / "plants.csv", species_last=True)
    main_window.datasets.quick_bytes = 0  # every file counts as big: a thread reads it
    panel = panel_of(main_window)
    assert panel.use_path(csv_path)
    assert main_window.dataset_loading
    assert panel.busy.isVisibleTo(panel)
    assert panel.preview.note.text() == "Loading plants.csv…"
    qtbot.waitUntil(lambda: not main_window.dataset_loading, timeout=RUN_TIMEOUT)
    assert not panel.busy.isVisibleTo(panel)
    assert "Class counts: setosa: 30 · virginica: 30" in panel.preview.counts.text()
    # The Input shape followed when the data arrived, in the same undo step.
    assert tuple(main_window.document.node("input_1").params["shape"]) == (3,)
    main_window.undo_stack.undo()
    assert tuple(main_window.document.node("input_1").params["shape"]) == (2,)


def test_scaling_is_an_undoable_setting(main_window: MainWindow) -> None:
    panel = panel_of(main_window)
    combo = panel.scaling_combo
    index = combo.findText("standard")
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    assert main_window.document.settings["scaling"] == "standard"
    main_window.undo_stack.undo()
    assert main_window.document.settings["scaling"] == "none"
    assert combo.currentText() == "none"


def test_dropping_an_idx_folder_makes_it_the_dataset(
    qtbot, main_window: MainWindow, tmp_path: Path
) -> None:
    folder = tmp_path / "digits"
    folder.mkdir()
    images = np.zeros((20, 8, 8), dtype=np.uint8)
    images[:, 2:6, 2:6] = 200
    write_idx_file(folder / "train-images-idx3-ubyte", images)
    write_idx_file(
        folder / "train-labels-idx1-ubyte", np.arange(20, dtype=np.uint8) % 4
    )
    drop = drop_on(main_window, folder)
    assert drop.isAccepted()
    assert main_window.document.settings["dataset"] == str(folder)
    qtbot.waitUntil(lambda: main_window.dataset is not None)
    assert main_window.dataset.input_shape == (8, 8)
    assert main_window.data_panel.preview.mode == "images"
