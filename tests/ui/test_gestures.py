"""Each canvas gesture object driven with real mouse events through the view.

For every gesture: it is the active one while the button is down, a completed
gesture is one undo step (the rubber band none: selecting is not an edit), Escape
in the middle cancels it with nothing pushed and everything back as it was, and no
other gesture (nor a palette drop, nor a context menu) starts while it is active.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import (
    QContextMenuEvent,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
)
from PySide6.QtWidgets import QApplication, QGraphicsItem
from ui_helpers import OFFSCREEN_NOISE, drag, node_point, port_point, view_point

from nndesk.document.graph import Document, Edge
from nndesk.ui.canvas.editor import CanvasEditor
from nndesk.ui.canvas.gestures import (
    DragEdge,
    DuplicateDrag,
    Gesture,
    InsertNode,
    MoveNodes,
    PaletteDrop,
    RubberBandSelect,
)
from nndesk.ui.canvas.items.node_item import NODE_WIDTH, PORT_Y
from nndesk.ui.canvas.view import NODE_MIME_TYPE

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

LEFT = Qt.MouseButton.LeftButton
NONE = Qt.KeyboardModifier.NoModifier
ALT = Qt.KeyboardModifier.AltModifier


@dataclass
class Scenario:
    """A press, a path and what the completed gesture must have done."""

    gesture: type[Gesture]
    start: QPoint
    end: QPoint
    modifiers: Qt.KeyboardModifier
    steps: int  # undo steps the completed gesture adds
    done: Callable[[Document], bool]


BAND_NODES = ["dense_1", "dense_2"]


def _empty_point(editor: CanvasEditor) -> QPoint:
    """Empty canvas inside the viewport, above and left of BAND_NODES."""
    rect = editor.scene.nodes_rect(BAND_NODES)
    point = view_point(editor, rect.topLeft() - QPointF(20, 20))
    assert editor.view.viewport().rect().contains(point)
    scene_point = editor.view.mapToScene(point)
    assert editor.scene.node_at(scene_point) is None
    assert editor.scene.edge_at(scene_point) is None
    return point


def edge_scenario(editor: CanvasEditor) -> Scenario:
    start = port_point(editor, "input_1", "out", False)
    end = port_point(editor, "dense_2", "in", True)
    new = Edge("input_1", "out", "dense_2", "in")
    return Scenario(DragEdge, start, end, NONE, 1, lambda d: d.has_edge(new))


def pickup_scenario(editor: CanvasEditor) -> Scenario:
    start = port_point(editor, "dense_2", "in", True)  # taken: picks its edge up
    old = Edge("dense_1", "out", "dense_2", "in")
    return Scenario(
        DragEdge,
        start,
        start + QPoint(-30, 200),
        NONE,
        1,
        lambda d: not d.has_edge(old),
    )


def move_scenario(editor: CanvasEditor) -> Scenario:
    start = node_point(editor, "dense_2")
    old = editor.document.node("dense_2").pos  # type: ignore[union-attr]
    return Scenario(
        MoveNodes,
        start,
        start + QPoint(0, 150),
        NONE,
        1,
        lambda d: d.node("dense_2").pos == (old[0], old[1] + 150),
    )


def insert_scenario(editor: CanvasEditor) -> Scenario:
    doc = editor.document
    assert doc is not None
    # Straight through the document: the scene follows, the undo stack stays empty.
    node_id = doc.add_node("Dropout", pos=(300.0, 250.0))
    item = editor.scene.node_item(node_id)
    grab = item.mapToScene(QPointF(30, 50))
    centre = item.mapToScene(QPointF(NODE_WIDTH / 2, PORT_Y))
    edge = Edge("dense_2", "out", "dense_3", "in")
    middle = editor.scene.edge_item(edge).path().pointAtPercent(0.5)
    return Scenario(
        InsertNode,
        view_point(editor, grab),
        view_point(editor, grab + (middle - centre)),
        NONE,
        1,
        lambda d: d.has_edge(Edge(node_id, "out", "dense_3", "in")),
    )


def duplicate_scenario(editor: CanvasEditor) -> Scenario:
    start = node_point(editor, "dense_2")
    return Scenario(
        DuplicateDrag,
        start,
        start + QPoint(40, 160),
        ALT,
        1,
        lambda d: d.has_node("dense_4") and d.has_node("dense_2"),
    )


def band_scenario(editor: CanvasEditor) -> Scenario:
    rect = editor.scene.nodes_rect(BAND_NODES)
    end = view_point(editor, rect.bottomRight() + QPointF(5, 20))
    return Scenario(
        RubberBandSelect,
        _empty_point(editor),
        end,
        NONE,
        0,
        lambda d: editor.selected_node_ids() == BAND_NODES,
    )


SCENARIOS = {
    "edge": edge_scenario,
    "pickup": pickup_scenario,
    "move": move_scenario,
    "insert": insert_scenario,
    "duplicate": duplicate_scenario,
    "band": band_scenario,
}


def press_and_move(qtbot, editor: CanvasEditor, s: Scenario, steps: int = 6) -> None:
    """Press at the start and move to the end, the button still down."""
    viewport = editor.view.viewport()
    qtbot.mousePress(viewport, LEFT, s.modifiers, s.start)
    for i in range(1, steps + 1):
        qtbot.mouseMove(viewport, s.start + (s.end - s.start) * (i / steps))


def positions_match_the_document(editor: CanvasEditor) -> bool:
    doc = editor.document
    assert doc is not None
    return all(
        i.model_pos() == doc.node(i.node_id).pos for i in editor.scene.node_items()
    )


def node_mime(type_name: str) -> QMimeData:
    mime = QMimeData()
    mime.setData(NODE_MIME_TYPE, type_name.encode())
    return mime


def palette_drag(editor: CanvasEditor, pos: QPoint, drop: bool) -> None:
    """Enter and move a palette drag of a Dropout over the canvas, then drop it."""
    viewport, mime = editor.view.viewport(), node_mime("Dropout")
    action = Qt.DropAction.CopyAction
    QApplication.sendEvent(viewport, QDragEnterEvent(pos, action, mime, LEFT, NONE))
    QApplication.sendEvent(viewport, QDragMoveEvent(pos, action, mime, LEFT, NONE))
    if drop:
        event = QDropEvent(QPointF(pos), action, mime, LEFT, NONE)
        QApplication.sendEvent(viewport, event)


def selected_items(editor: CanvasEditor) -> set[QGraphicsItem]:
    return set(editor.scene.selectedItems())


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_completed_gesture_is_one_undo_step(
    qtbot, editor: CanvasEditor, name: str
) -> None:
    s = SCENARIOS[name](editor)
    doc = editor.document
    assert doc is not None
    before = doc.to_dict()
    press_and_move(qtbot, editor, s)
    assert type(editor.scene.gesture) is s.gesture
    qtbot.mouseRelease(editor.view.viewport(), LEFT, s.modifiers, s.end)
    assert editor.scene.gesture is None
    assert s.done(doc)
    assert editor.undo_stack.count() == s.steps
    if s.steps:
        after = doc.to_dict()
        editor.undo_stack.undo()
        assert doc.to_dict() == before
        assert positions_match_the_document(editor)
        editor.undo_stack.redo()
        assert doc.to_dict() == after
    assert positions_match_the_document(editor)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_escape_mid_gesture_cancels_and_restores(
    qtbot, editor: CanvasEditor, name: str
) -> None:
    s = SCENARIOS[name](editor)
    doc = editor.document
    assert doc is not None
    editor.scene.select_nodes(["output_1"])
    before, selection = doc.to_dict(), selected_items(editor)
    items = set(editor.scene.items())
    press_and_move(qtbot, editor, s)
    gesture = editor.scene.gesture
    assert type(gesture) is s.gesture
    if name in ("edge", "pickup", "band", "duplicate"):  # loose edge, band, copies
        assert set(editor.scene.items()) != items
    qtbot.keyClick(editor.view, Qt.Key.Key_Escape)
    assert editor.scene.gesture is None
    assert doc.to_dict() == before
    assert editor.undo_stack.count() == 0
    assert positions_match_the_document(editor)
    assert set(editor.scene.items()) == items  # no band, ghost or loose edge left
    assert not any(i.highlighted for i in editor.scene.edge_items())
    assert all(i.isVisible() for i in editor.scene.edge_items())
    if name in ("band", "edge", "pickup"):
        assert selected_items(editor) == selection
    # The rest of the cancelled drag does nothing; the next gesture works.
    qtbot.mouseMove(editor.view.viewport(), s.end + QPoint(3, 3))
    qtbot.mouseRelease(editor.view.viewport(), LEFT, s.modifiers, s.end)
    assert doc.to_dict() == before and editor.undo_stack.count() == 0
    assert not editor.popup.isVisible()
    drag(qtbot, editor.view.viewport(), s.start, s.end, modifiers=s.modifiers)
    assert s.done(doc) and editor.undo_stack.count() == s.steps


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_nothing_else_starts_while_a_gesture_is_active(
    qtbot, editor: CanvasEditor, name: str
) -> None:
    s = SCENARIOS[name](editor)
    doc = editor.document
    assert doc is not None
    nodes = len(doc)
    press_and_move(qtbot, editor, s)
    gesture = editor.scene.gesture
    assert type(gesture) is s.gesture
    # Another gesture offered to the scene is refused and never started.
    other = PaletteDrop(editor)
    assert not editor.scene.start_gesture(other)
    assert editor.scene.gesture is gesture
    # A palette entry dropped meanwhile adds nothing.
    palette_drag(editor, _empty_point(editor) + QPoint(0, 300), drop=True)
    assert len(doc) == nodes
    assert editor.scene.gesture is gesture
    # Right-click, arrow keys and typing do nothing in the middle of it.
    shown: list[object] = []
    editor.exec_menu = lambda menu, pos: shown.append(menu)
    viewport = editor.view.viewport()
    event = QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, s.end, viewport.mapToGlobal(s.end)
    )
    QApplication.sendEvent(viewport, event)
    qtbot.keyClick(editor.view, Qt.Key.Key_Right)
    qtbot.keyClick(editor.view, Qt.Key.Key_B)
    assert shown == [] and not editor.popup.isVisible()
    assert editor.undo_stack.count() == 0 and editor.scene.gesture is gesture
    qtbot.mouseRelease(viewport, LEFT, s.modifiers, s.end)
    assert s.done(doc) and editor.undo_stack.count() == s.steps


def test_a_lost_release_does_not_lock_the_canvas(qtbot, editor: CanvasEditor) -> None:
    """A dialog that takes the mouse mid-drag swallows the release; the next press
    cancels the stale gesture and starts its own."""
    doc = editor.document
    assert doc is not None
    s = move_scenario(editor)
    press_and_move(qtbot, editor, s)
    stale = editor.scene.gesture
    assert isinstance(stale, MoveNodes)
    # The release went elsewhere; the next press is a new left press.
    band = band_scenario(editor)
    drag(qtbot, editor.view.viewport(), band.start, band.end)
    assert editor.scene.gesture is None
    assert band.done(doc)
    assert editor.undo_stack.count() == 0 and positions_match_the_document(editor)


def test_palette_drop_is_a_gesture_that_escape_cancels(
    qtbot, editor: CanvasEditor
) -> None:
    doc = editor.document
    assert doc is not None
    before = doc.to_dict()
    edge = Edge("dense_1", "out", "dense_2", "in")
    item = editor.scene.edge_item(edge)
    middle = view_point(editor, item.path().pointAtPercent(0.5))
    palette_drag(editor, middle, drop=False)
    assert isinstance(editor.scene.gesture, PaletteDrop)
    assert item.highlighted and "insert" in editor.last_message
    qtbot.keyClick(editor.view, Qt.Key.Key_Escape)
    assert editor.scene.gesture is None and not item.highlighted
    assert editor.last_message == ""
    QApplication.sendEvent(editor.view.viewport(), QDragLeaveEvent())
    assert doc.to_dict() == before and editor.undo_stack.count() == 0
    # Leaving the canvas cancels it too; a drop there is one undo step.
    palette_drag(editor, middle, drop=False)
    QApplication.sendEvent(editor.view.viewport(), QDragLeaveEvent())
    assert editor.scene.gesture is None and not item.highlighted
    palette_drag(editor, middle, drop=True)
    assert doc.has_edge(Edge("dropout_1", "out", "dense_2", "in"))
    assert editor.undo_stack.count() == 1 and editor.scene.gesture is None


def test_alt_drag_duplicates_the_selection_with_its_edges(
    qtbot, editor: CanvasEditor
) -> None:
    doc = editor.document
    assert doc is not None
    editor.scene.select_nodes(["dense_1", "dense_2"])
    originals = {n: doc.node(n).pos for n in ("dense_1", "dense_2")}
    items = len(editor.scene.items())
    start = node_point(editor, "dense_2")
    viewport = editor.view.viewport()
    qtbot.mousePress(viewport, LEFT, ALT, start)
    qtbot.mouseMove(viewport, start + QPoint(1, 1))  # under the drag distance
    gesture = editor.scene.gesture
    assert isinstance(gesture, DuplicateDrag) and not gesture.copying
    for i in range(1, 7):
        qtbot.mouseMove(viewport, start + QPoint(10, 40) * i)
    # Two translucent copies and the edge between them follow the mouse.
    assert len(editor.scene.items()) > items
    assert [i.node_id for i in editor.scene.node_items()] == list(doc.node_ids)
    assert {n: doc.node(n).pos for n in originals} == originals
    assert editor.view.viewport().cursor().shape() == Qt.CursorShape.DragCopyCursor
    assert editor.last_message == "Release to place copies of 2 nodes; Esc cancels."
    qtbot.mouseRelease(viewport, LEFT, ALT, start + QPoint(60, 240))
    assert editor.selected_node_ids() == ["dense_4", "dense_5"]
    assert doc.has_edge(Edge("dense_4", "out", "dense_5", "in"))
    assert doc.edges_in("dense_4") == ()  # the edge from outside is not copied
    for old, new in (("dense_1", "dense_4"), ("dense_2", "dense_5")):
        x, y = originals[old]
        assert doc.node(new).pos == (x + 60.0, y + 240.0)
        assert doc.node(new).params == doc.node(old).params
    assert {n: doc.node(n).pos for n in originals} == originals
    assert editor.undo_stack.count() == 1
    assert editor.undo_stack.command(0).text() == "Duplicate"
    assert "Duplicate: 2 nodes" in editor.last_message
    assert len(editor.scene.items()) > items  # the copies are real nodes now
    editor.undo_stack.undo()
    assert len(doc) == 5 and len(editor.scene.items()) == items
    editor.undo_stack.redo()
    assert doc.has_node("dense_5") and editor.scene.node_item("dense_5").isVisible()


def test_alt_click_without_moving_only_selects(qtbot, editor: CanvasEditor) -> None:
    doc = editor.document
    assert doc is not None
    editor.scene.select_nodes(["dense_1", "dense_3"])
    viewport = editor.view.viewport()
    qtbot.mouseClick(viewport, LEFT, ALT, node_point(editor, "dense_2"))
    assert editor.selected_node_ids() == ["dense_2"]
    assert len(doc) == 5 and editor.undo_stack.count() == 0


def test_alt_drag_snaps_the_copies_to_the_grid(qtbot, editor: CanvasEditor) -> None:
    doc = editor.document
    assert doc is not None
    editor.scene.set_grid_snap(20.0)
    start = node_point(editor, "dense_2")
    drag(qtbot, editor.view.viewport(), start, start + QPoint(33, 171), modifiers=ALT)
    x, y = doc.node("dense_4").pos
    assert x % 20 == 0 and y % 20 == 0


def test_shift_drag_on_empty_canvas_adds_to_the_selection(
    qtbot, editor: CanvasEditor
) -> None:
    editor.scene.select_nodes(["output_1"])
    s = band_scenario(editor)
    drag(
        qtbot,
        editor.view.viewport(),
        s.start,
        s.end,
        modifiers=Qt.KeyboardModifier.ShiftModifier,
    )
    assert editor.selected_node_ids() == [*BAND_NODES, "output_1"]
    assert editor.undo_stack.count() == 0


def test_a_shrinking_band_lets_go_of_what_it_no_longer_touches(
    qtbot, editor: CanvasEditor
) -> None:
    editor.scene.select_nodes(["output_1"])
    s = band_scenario(editor)
    viewport = editor.view.viewport()
    qtbot.mousePress(viewport, LEFT, Qt.KeyboardModifier.ControlModifier, s.start)
    qtbot.mouseMove(viewport, s.end)
    assert editor.selected_node_ids() == [*BAND_NODES, "output_1"]
    qtbot.mouseMove(viewport, s.start + QPoint(5, 5))
    assert editor.selected_node_ids() == ["output_1"]
    qtbot.mouseRelease(viewport, LEFT, Qt.KeyboardModifier.ControlModifier, s.start)
    assert editor.scene.gesture is None


def test_a_click_on_a_node_selects_it_and_pushes_nothing(
    qtbot, editor: CanvasEditor
) -> None:
    editor.scene.select_nodes(["dense_1", "dense_2"])
    viewport = editor.view.viewport()
    # A press on a selected node keeps the selection (to drag it all); the
    # release of a click selects that node alone, as Qt does.
    qtbot.mousePress(viewport, LEFT, NONE, node_point(editor, "dense_2"))
    assert editor.selected_node_ids() == ["dense_1", "dense_2"]
    qtbot.mouseRelease(viewport, LEFT, NONE, node_point(editor, "dense_2"))
    assert editor.selected_node_ids() == ["dense_2"]
    assert editor.undo_stack.count() == 0


def test_dragging_a_selection_moves_it_all_in_one_step(
    qtbot, editor: CanvasEditor
) -> None:
    doc = editor.document
    assert doc is not None
    editor.scene.select_nodes(["dense_1", "dense_3"])
    old = {n: doc.node(n).pos for n in ("dense_1", "dense_2", "dense_3")}
    start = node_point(editor, "dense_3")
    drag(qtbot, editor.view.viewport(), start, start + QPoint(-20, 90))
    assert doc.node("dense_1").pos == (old["dense_1"][0] - 20, old["dense_1"][1] + 90)
    assert doc.node("dense_3").pos == (old["dense_3"][0] - 20, old["dense_3"][1] + 90)
    assert doc.node("dense_2").pos == old["dense_2"]
    assert editor.undo_stack.count() == 1
    assert editor.undo_stack.command(0).text() == "Move 2 Nodes"


def test_undo_between_press_and_release_of_a_click_is_harmless(
    qtbot, editor: CanvasEditor
) -> None:
    doc = editor.document
    assert doc is not None
    node_id = editor.add_node("Dropout", QPointF(0, 300))
    assert node_id is not None
    editor.scene.clearSelection()
    viewport = editor.view.viewport()
    point = node_point(editor, node_id)
    qtbot.mousePress(viewport, LEFT, NONE, point)
    editor.undo_stack.undo()
    qtbot.mouseRelease(viewport, LEFT, NONE, point)
    assert not doc.has_node(node_id) and editor.scene.gesture is None
    assert editor.selected_node_ids() == []


def test_undo_in_the_middle_of_an_alt_drag_copies_nothing(
    qtbot, editor: CanvasEditor
) -> None:
    doc = editor.document
    assert doc is not None
    node_id = editor.add_node("Dropout", QPointF(0, 300))
    assert node_id is not None
    editor.scene.select_nodes(["dense_1", node_id])
    items = len(editor.scene.items())
    viewport = editor.view.viewport()
    start = node_point(editor, "dense_1")
    qtbot.mousePress(viewport, LEFT, ALT, start)
    for i in range(1, 4):
        qtbot.mouseMove(viewport, start + QPoint(0, 30 * i))
    editor.undo_stack.undo()  # Ctrl+Z with the button down removes the Dropout
    qtbot.mouseMove(viewport, start + QPoint(0, 120))
    qtbot.mouseRelease(viewport, LEFT, ALT, start + QPoint(0, 120))
    assert list(doc.node_ids) == [
        "input_1",
        "dense_1",
        "dense_2",
        "dense_3",
        "output_1",
    ]
    assert "an undo removed a node" in editor.last_message
    assert len(editor.scene.items()) < items  # the Dropout and every copy are gone
    assert editor.scene.gesture is None and editor.undo_stack.index() == 0


def test_undo_in_the_middle_of_a_node_drag_is_harmless(
    qtbot, editor: CanvasEditor
) -> None:
    doc = editor.document
    assert doc is not None
    node_id = editor.add_node("Dropout", QPointF(0, 300))
    assert node_id is not None
    editor.scene.select_nodes(["dense_1", node_id])
    viewport = editor.view.viewport()
    start = node_point(editor, "dense_1")
    qtbot.mousePress(viewport, LEFT, NONE, start)
    qtbot.mouseMove(viewport, start + QPoint(0, 40))
    editor.undo_stack.undo()  # Ctrl+Z with the button down removes the Dropout
    assert not doc.has_node(node_id)
    qtbot.mouseMove(viewport, start + QPoint(0, 80))
    qtbot.mouseRelease(viewport, LEFT, NONE, start + QPoint(0, 80))
    assert doc.node("dense_1").pos == (220.0, 80.0)
    assert editor.undo_stack.count() == 1  # the move replaced the undone add
    assert positions_match_the_document(editor)


def test_a_new_document_cancels_the_gesture(qtbot, editor: CanvasEditor) -> None:
    from nndesk.document.examples import spiral_classifier

    s = duplicate_scenario(editor)
    press_and_move(qtbot, editor, s)
    assert isinstance(editor.scene.gesture, DuplicateDrag)
    editor.set_document(spiral_classifier())
    assert editor.scene.gesture is None
    assert editor.view.viewport().cursor().shape() == Qt.CursorShape.ArrowCursor
    assert editor.last_message == ""
    qtbot.mouseRelease(editor.view.viewport(), LEFT, ALT, s.end)
    assert editor.document is not None and len(editor.document) == 5


def test_a_double_click_then_drag_is_a_move_like_any_other(
    qtbot, editor: CanvasEditor
) -> None:
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QMouseEvent

    doc = editor.document
    assert doc is not None
    old = doc.node("dense_2").pos
    viewport = editor.view.viewport()
    start = node_point(editor, "dense_2")
    qtbot.mouseClick(viewport, LEFT, NONE, start)
    double = QMouseEvent(
        QEvent.Type.MouseButtonDblClick,
        QPointF(start),
        QPointF(viewport.mapToGlobal(start)),
        LEFT,
        LEFT,
        NONE,
    )
    QApplication.sendEvent(viewport, double)
    assert isinstance(editor.scene.gesture, MoveNodes)
    for i in range(1, 4):
        qtbot.mouseMove(viewport, start + QPoint(0, 30 * i))
    qtbot.mouseRelease(viewport, LEFT, NONE, start + QPoint(0, 90))
    assert doc.node("dense_2").pos == (old[0], old[1] + 90)
    assert editor.undo_stack.count() == 1 and positions_match_the_document(editor)


def test_help_lists_the_mouse_gestures(qtbot, main_window) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox

    seen: list[str] = []

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen.append(box.text())
            box.accept()
        else:
            QTimer.singleShot(20, answer)

    QTimer.singleShot(0, answer)
    main_window.actions.help.trigger()
    assert seen, "the help box did not open"
    assert "Alt+drag a node" in seen[0] and "Duplicate" in seen[0]
    assert "Esc" in seen[0] and "Drag on empty canvas" in seen[0]
    tip = main_window.actions.duplicate.toolTip()
    assert "Alt+drag" in tip and "Ctrl+D" in tip


class Recorder(Gesture):
    """A gesture made only here: the interface is all the scene needs."""

    def __init__(self, editor: CanvasEditor) -> None:
        super().__init__(editor)
        self.seen: list[str] = []

    def start(self) -> None:
        self.seen.append("start")

    def mouse_move(self, event) -> None:
        self.seen.append("move")

    def mouse_release(self, event) -> None:
        self.seen.append("release")
        self.end()

    def key_press(self, event) -> bool:
        self.seen.append(f"key {event.text()}")
        return event.text() == "!"

    def restore(self) -> None:
        self.seen.append("restore")


def test_the_scene_hands_any_gesture_its_events(qtbot, editor: CanvasEditor) -> None:
    viewport = editor.view.viewport()
    point = _empty_point(editor)
    recorder = Recorder(editor)
    assert editor.scene.start_gesture(recorder) and recorder.active
    qtbot.mouseMove(viewport, point)
    qtbot.keyClick(editor.view, Qt.Key.Key_Exclam, Qt.KeyboardModifier.ShiftModifier)
    qtbot.mouseRelease(viewport, LEFT, NONE, point)
    # (Shift, pressed first, is a key too.)
    assert recorder.seen == ["start", "move", "key ", "key !", "release"]
    assert editor.scene.gesture is None and not recorder.active
    # Escape reaches it as cancel: restore, then the scene is free again.
    again = Recorder(editor)
    editor.scene.start_gesture(again)
    qtbot.keyClick(editor.view, Qt.Key.Key_Escape)
    assert again.seen == ["start", "restore"] and editor.scene.gesture is None
    assert editor.undo_stack.count() == 0
