"""Painting 2-D data with the mouse: points, strokes, erasing, undo, classes, CSV."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack
from ui_helpers import OFFSCREEN_NOISE, drag

from nndesk.document.examples import spiral_classifier
from nndesk.document.painted import PaintedPoints
from nndesk.io.datasets import read_csv
from nndesk.ui.canvas.editor import CanvasEditor
from nndesk.ui.panels.paint import PaintWidget, start_painting

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

LEFT, RIGHT = Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton


@pytest.fixture
def painting(qtbot) -> Iterator[tuple[PaintWidget, CanvasEditor, QUndoStack]]:
    """A PaintWidget on the spiral example's document, edits through an editor."""
    stack = QUndoStack()
    editor = CanvasEditor(stack)
    doc = spiral_classifier()
    editor.set_document(doc)
    widget = PaintWidget(push=editor.push)
    qtbot.addWidget(widget)
    widget.resize(600, 500)
    widget.set_document(doc)
    widget.show()
    qtbot.waitExposed(widget)
    widget.plot.setXRange(-2.0, 2.0, padding=0)
    widget.plot.setYRange(-2.0, 2.0, padding=0)
    qtbot.wait(10)
    yield widget, editor, stack
    widget.set_document(None)
    editor.set_document(None)
    stack.clear()


def click(qtbot, widget: PaintWidget, x: float, y: float, button=LEFT) -> None:
    pos = widget.viewport_pos(x, y)
    qtbot.mousePress(widget.view.viewport(), button, pos=pos)
    qtbot.mouseRelease(widget.view.viewport(), button, pos=pos)


def test_clicks_add_points_of_the_chosen_class_where_clicked(qtbot, painting):
    widget, editor, stack = painting
    doc = editor.document
    click(qtbot, widget, -1.0, 0.5)
    widget.toolbar.class_box.setCurrentIndex(1)
    widget.toolbar.class_box.activated.emit(1)
    click(qtbot, widget, 1.0, -0.5)
    painted = doc.painted
    assert len(painted) == 2 and stack.count() == 2
    assert painted.values.tolist() == [0, 1]
    # within a pixel of where the mouse went down
    px = max(widget.tool.box.viewPixelSize())
    np.testing.assert_allclose(painted.xy, [[-1.0, 0.5], [1.0, -0.5]], atol=1.5 * px)


def test_ten_points_of_two_classes_right_drag_erases_undo_redo(qtbot, painting):
    widget, editor, stack = painting
    doc = editor.document
    spots = [(-1.5 + 0.3 * k, 1.0) for k in range(5)] + [
        (-1.5 + 0.3 * k, -1.0) for k in range(5)
    ]
    for k, (x, y) in enumerate(spots):
        widget.tool.set_value(0 if k < 5 else 1)
        click(qtbot, widget, x, y)
    assert len(doc.painted) == 10
    assert doc.painted.class_counts().tolist() == [5, 5]
    before = doc.painted
    # a right drag along the lower row's first three points erases them
    viewport = widget.view.viewport()
    drag(qtbot, viewport, widget.viewport_pos(-1.6, -1.0),
         widget.viewport_pos(-0.85, -1.0), steps=8, button=RIGHT)  # fmt: skip
    assert len(doc.painted) == 7
    assert doc.painted.class_counts().tolist() == [5, 2]
    assert stack.count() == 11 and stack.undoText() == "Erase 3 points"
    stack.undo()
    assert doc.painted == before
    stack.redo()
    assert len(doc.painted) == 7
    # the scatter shows what the document holds
    assert widget.tool.shown_count() == 7


def test_a_left_drag_is_one_stroke_and_one_undo_step(qtbot, painting):
    widget, editor, stack = painting
    doc = editor.document
    viewport = widget.view.viewport()
    drag(qtbot, viewport, widget.viewport_pos(-1.5, 0.0),
         widget.viewport_pos(1.5, 0.0), steps=12)  # fmt: skip
    n = len(doc.painted)
    # 3 data units at 500/4 px per unit, one point every 0.6 * 14 px
    assert 30 <= n <= 50
    assert stack.count() == 1
    assert np.all(np.abs(doc.painted.xy[:, 1]) < 0.05)
    stack.undo()
    assert len(doc.painted) == 0


def test_erase_toggle_and_clear_are_undoable(qtbot, painting):
    widget, editor, stack = painting
    doc = editor.document
    for x in (-1.0, 0.0, 1.0):
        click(qtbot, widget, x, 0.0)
    widget.toolbar.erase.click()
    assert widget.tool.erasing
    click(qtbot, widget, 0.0, 0.0)
    assert len(doc.painted) == 2
    widget.toolbar.clear.click()
    assert len(doc.painted) == 0 and doc.painted.n_classes == 2
    stack.undo()
    assert len(doc.painted) == 2


def test_class_count_and_regression_values(qtbot, painting):
    widget, editor, stack = painting
    doc = editor.document
    bar = widget.toolbar
    bar.classes.setValue(4)
    bar.classes.editingFinished.emit()
    assert doc.painted.n_classes == 4 and bar.class_box.count() == 4
    widget.tool.set_value(3)
    click(qtbot, widget, 0.5, 0.5)
    assert doc.painted.values.tolist() == [3]
    # going down to 3 classes would orphan class 3: refused, with a sentence
    messages = []
    widget.sig_message.connect(messages.append)
    bar.classes.setValue(3)
    bar.classes.editingFinished.emit()
    assert doc.painted.n_classes == 4 and bar.classes.value() == 4
    assert "class 3 has points" in messages[-1]
    # values: the points keep their place, classes become targets
    bar.task.setCurrentIndex(1)
    bar.task.activated.emit(1)
    assert doc.painted.task == "regression" and bar.value_box.isVisible()
    bar.value_box.setValue(-0.25)
    click(qtbot, widget, -0.5, -0.5)
    assert doc.painted.values.tolist() == [3.0, -0.25]
    stack.undo()
    stack.undo()
    assert doc.painted.n_classes == 4


def test_export_csv_reads_back_as_the_same_dataset(qtbot, painting, tmp_path):
    widget, editor, stack = painting
    doc = editor.document
    for k, (x, y) in enumerate([(-1.2, 0.3), (0.7, -0.9), (1.1, 1.3)]):
        widget.tool.set_value(k % 2)
        click(qtbot, widget, x, y)
    target = tmp_path / "mine.csv"
    widget.toolbar.ask_path = lambda: str(target)
    widget.toolbar.export.click()
    data = read_csv(target)
    np.testing.assert_array_equal(data.x, doc.painted.xy)
    np.testing.assert_array_equal(data.y, doc.painted.values)
    assert data.feature_names == ["x", "y"]


def test_start_painting_copies_the_generator_points_in_one_undo_step(qtbot, painting):
    widget, editor, stack = painting
    doc = editor.document
    from nndesk.io.datasets import load_dataset

    spiral = load_dataset("spiral:n=60,noise=0.1")
    assert start_painting(editor.push, doc, spiral)
    assert doc.settings["dataset"] == "painted"
    np.testing.assert_array_equal(doc.painted.xy, spiral.x)
    np.testing.assert_array_equal(doc.painted.values, spiral.y)
    assert stack.count() == 1
    stack.undo()
    assert doc.painted == PaintedPoints.empty()
    assert doc.settings["dataset"] != "painted"


def test_keys_pick_a_class_toggle_erase_and_cancel_a_stroke(qtbot, painting):
    widget, editor, stack = painting
    widget.toolbar.classes.setValue(3)
    widget.toolbar.classes.editingFinished.emit()
    click(qtbot, widget, 0.0, 0.0)  # gives the plot the focus
    viewport = widget.view.viewport()
    qtbot.keyClick(viewport, Qt.Key.Key_3)
    assert widget.tool.value == 2 and widget.toolbar.class_box.currentIndex() == 2
    qtbot.keyClick(viewport, Qt.Key.Key_E)
    assert widget.tool.erasing and widget.toolbar.erase.isChecked()
    qtbot.keyClick(viewport, Qt.Key.Key_E)
    assert not widget.tool.erasing
    # Esc during a drag drops the stroke: nothing reaches the document
    start, end = widget.viewport_pos(-1.5, 1.0), widget.viewport_pos(1.5, 1.0)
    qtbot.mousePress(viewport, LEFT, pos=start)
    qtbot.mouseMove(viewport, end)
    qtbot.keyClick(viewport, Qt.Key.Key_Escape)
    qtbot.mouseRelease(viewport, LEFT, pos=end)
    assert len(editor.document.painted) == 1 and stack.count() == 2


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.tuples(st.sampled_from(["add", "erase", "clear"]), st.integers(0, 1)),
        min_size=1,
        max_size=8,
    )
)
def test_undo_all_then_redo_all_walks_every_state(qtbot, script) -> None:
    """Hypothesis drives strokes through the tool's one door (``edit``); undoing
    them all and redoing them all passes through every state in order."""
    stack = QUndoStack()
    editor = CanvasEditor(stack)
    doc = spiral_classifier()
    editor.set_document(doc)
    widget = PaintWidget(push=editor.push)
    widget.set_document(doc)
    states = [doc.painted]
    rng = np.random.default_rng(len(script))
    for kind, value in script:
        painted = doc.painted
        if kind == "add":
            widget.tool.edit(painted.added(rng.uniform(-1, 1, (3, 2)), value), "Paint")
        elif kind == "erase" and len(painted):
            widget.tool.edit(painted.removed([0]), "Erase")
        elif kind == "clear":
            widget.toolbar.clear_points()
        if doc.painted != states[-1]:
            states.append(doc.painted)
    assert stack.count() == len(states) - 1
    for state in reversed(states[:-1]):
        stack.undo()
        assert doc.painted == state
    for state in states[1:]:
        stack.redo()
        assert doc.painted == state
    assert widget.tool.shown_count() == len(doc.painted)
    widget.set_document(None)
    editor.set_document(None)
    widget.deleteLater()
