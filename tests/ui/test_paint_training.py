"""Painting in the main window: paint on the Decision Boundary with the mouse, train
on exactly those points, save and reopen, export CSV, and paint during a run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from ui_helpers import OFFSCREEN_NOISE, drag

from nndesk.document.painted import PaintedPoints
from nndesk.io.datasets import read_csv
from nndesk.io.project_file import load_project
from nndesk.ui.main_window import MainWindow
from nndesk.ui.panels.paint import start_painting
from nndesk.ui.training.controller import TrainingController, attach_training

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

RUN_TIMEOUT = 30_000
LEFT, RIGHT = Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton
SPOTS = [(-1.5 + 0.3 * k, 0.8) for k in range(5)] + [
    (-1.5 + 0.3 * k, -0.8) for k in range(5)
]


@pytest.fixture
def training(main_window: MainWindow) -> TrainingController:
    controller = getattr(main_window, "training", None)
    return controller if controller is not None else attach_training(main_window)


def boundary_pos(training: TrainingController, x: float, y: float):
    panel = training.boundary
    scene = panel.paint.box.mapViewToScene(QPointF(x, y))
    return panel.graphics.mapFromScene(scene)


def click(qtbot, training: TrainingController, x: float, y: float) -> None:
    viewport = training.boundary.graphics.viewport()
    pos = boundary_pos(training, x, y)
    qtbot.mousePress(viewport, LEFT, pos=pos)
    qtbot.mouseRelease(viewport, LEFT, pos=pos)


def paint_on_boundary(qtbot, window: MainWindow, training: TrainingController) -> None:
    """An empty painted set as the dataset, Paint on, and a -2..2 view."""
    doc = window.document
    assert doc is not None
    assert window.edit_setting("validation_split", 0.0)
    assert start_painting(window.editor.push, doc, None)
    dock = training.docks["boundary"]
    dock.show()
    dock.raise_()
    training.boundary.paint_button.click()
    assert training.boundary.paint.active
    qtbot.waitUntil(lambda: training.boundary.plot.isVisible())
    training.boundary.plot.setRange(xRange=(-2, 2), yRange=(-2, 2), padding=0)
    qtbot.wait(20)


def test_paint_ten_points_erase_undo_train_save_reopen_export(
    qtbot, main_window: MainWindow, training: TrainingController, tmp_path: Path
) -> None:
    window, doc = main_window, main_window.document
    paint_on_boundary(qtbot, window, training)
    for k, (x, y) in enumerate(SPOTS):
        training.boundary.paint.set_value(0 if k < 5 else 1)
        click(qtbot, training, x, y)
    assert len(doc.painted) == 10
    assert doc.painted.class_counts().tolist() == [5, 5]
    ten = doc.painted
    # erase the lower row's first two points with a right drag (a 4 px brush)
    training.boundary.paint_bar.brush.setValue(4)
    assert training.boundary.paint.brush_px == 4
    viewport = training.boundary.graphics.viewport()
    drag(qtbot, viewport, boundary_pos(training, -1.65, -0.8),
         boundary_pos(training, -1.2, -0.8), steps=6, button=RIGHT)  # fmt: skip
    assert len(doc.painted) == 8 and doc.painted.class_counts().tolist() == [5, 3]
    window.undo_stack.undo()
    assert doc.painted == ten
    window.undo_stack.redo()
    assert len(doc.painted) == 8
    window.undo_stack.undo()
    assert doc.painted == ten

    # train: the model saw exactly those ten points
    assert window.edit_setting("epochs", 2)
    qtbot.waitUntil(lambda: window.dataset is not None and len(window.dataset) == 10)
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT) as run:
        training.actions.train.trigger()
    outcome = run.args[0]
    assert outcome.status == "completed", outcome.message
    data = outcome.session.data
    np.testing.assert_array_equal(data.x_train, ten.xy)
    np.testing.assert_array_equal(data.y_train[:, 0], ten.values)
    assert outcome.session.history.epochs == 2
    assert window.errors == []

    # save and reopen: the painted points are back
    path = tmp_path / "painted.nndesk"
    assert window.save_as(path)
    assert load_project(path).document.painted == ten
    assert window.new_document()
    assert window.document.painted == PaintedPoints.empty()
    assert window.open_file(path)
    assert window.document.painted == ten
    assert window.document.settings["dataset"] == "painted"

    # export CSV through the toolbar and read it back
    bar = training.boundary.paint_bar
    target = tmp_path / "points.csv"
    bar.ask_path = lambda: str(target)
    training.boundary.paint_button.click()  # Paint on again for the new document
    bar.export.click()
    back = read_csv(target)
    np.testing.assert_array_equal(back.x, ten.xy)
    np.testing.assert_array_equal(back.y, ten.values)


def test_paint_on_a_generator_starts_from_its_points(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    window, doc = main_window, main_window.document
    qtbot.waitUntil(lambda: window.dataset is not None)
    spiral = window.dataset
    training.docks["boundary"].show()
    qtbot.waitUntil(lambda: training.boundary.paint_button.isEnabled())
    training.boundary.paint_button.click()
    assert doc.settings["dataset"] == "painted"
    np.testing.assert_array_equal(doc.painted.xy, spiral.x)
    assert training.boundary.paint.active and training.boundary.paint_bar.isVisible()
    window.undo_stack.undo()  # one step back to the generator
    assert doc.settings["dataset"].startswith("spiral")
    assert doc.painted == PaintedPoints.empty()


def test_painting_during_a_run_is_trained_on_at_the_next_epoch(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    window, doc = main_window, main_window.document
    paint_on_boundary(qtbot, window, training)
    for k, (x, y) in enumerate(SPOTS):
        training.boundary.paint.set_value(k // 5)
        click(qtbot, training, x, y)
    assert window.edit_setting("epochs", 100_000)
    qtbot.waitUntil(lambda: window.dataset is not None and len(window.dataset) == 10)
    with qtbot.waitSignal(training.sig_epoch_finished, timeout=RUN_TIMEOUT):
        training.actions.train.trigger()
    training.pause()
    assert training.control.wait_until_waiting(timeout=10)
    session = training._worker.job.session
    assert session.trainer.data.n_train == 10
    # paint two more points while paused (at a batch boundary, maybe mid-epoch)
    click(qtbot, training, 1.0, 1.0)
    click(qtbot, training, 1.2, -1.0)
    assert len(doc.painted) == 12
    assert training.state == "paused"  # painting does not restart the run
    epochs_before = len(training.curves.epoch_values("loss"))
    training.actions.resume.trigger()
    # the boundary shows the new training points once the worker took them
    qtbot.waitUntil(
        lambda: training.boundary._x is not None and len(training.boundary._x) == 12,
        timeout=RUN_TIMEOUT,
    )
    with qtbot.waitSignal(training.sig_epoch_finished, timeout=RUN_TIMEOUT):
        pass
    assert len(training.curves.epoch_values("loss")) > epochs_before
    training.pause()
    assert training.control.wait_until_waiting(timeout=10)
    assert session.trainer.data.n_train == 12
    np.testing.assert_array_equal(session.trainer.data.x_train, doc.painted.xy)
    assert training.panel.message.text() == ""
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT):
        training.stop()
    assert window.errors == []
