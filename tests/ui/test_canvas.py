"""The canvas driven like a user: palette drops, port drags, selection, clipboard, undo."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from ui_helpers import OFFSCREEN_NOISE, drag, node_point, port_point, view_point

from nndesk.document.graph import Document, Edge
from nndesk.ui.canvas.editor import CanvasEditor
from nndesk.ui.canvas.items.node_item import NodeItem
from nndesk.ui.canvas.items.port_item import PortState
from nndesk.ui.canvas.scene import BUILD_AT_ONCE
from nndesk.ui.canvas.view import NODE_MIME_TYPE

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]


def drop_mime(editor: CanvasEditor, mime: QMimeData, pos: QPoint) -> None:
    """Deliver a real drag-enter/move/drop sequence to the view's viewport.

    QDrag.exec() runs a platform drag loop that the offscreen platform cannot
    drive, so the events a drop produces are sent directly.
    """
    viewport = editor.view.viewport()
    action = Qt.DropAction.CopyAction
    buttons = Qt.MouseButton.LeftButton
    mods = Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos, action, mime, buttons, mods)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    move = QDragMoveEvent(pos, action, mime, buttons, mods)
    QApplication.sendEvent(viewport, move)
    drop = QDropEvent(QPointF(pos), action, mime, buttons, mods)
    QApplication.sendEvent(viewport, drop)
    assert drop.isAccepted()


def node_mime(type_name: str) -> QMimeData:
    mime = QMimeData()
    mime.setData(NODE_MIME_TYPE, type_name.encode())
    return mime


def test_scene_mirrors_the_document(editor: CanvasEditor) -> None:
    doc = editor.document
    assert doc is not None
    assert [i.node_id for i in editor.scene.node_items()] == list(doc.node_ids)
    assert {i.edge for i in editor.scene.edge_items()} == set(doc.edges)
    dense = editor.scene.node_item("dense_1")
    assert dense.text("key") == "8 · tanh"
    assert dense.text("shape").startswith("(8,)")
    assert "24 params" in dense.text("shape")
    label = editor.scene.edge_item(Edge("dense_1", "out", "dense_2", "in")).label
    assert label == "(8,)"


def test_drop_from_palette_creates_node_at_drop_point(editor: CanvasEditor) -> None:
    doc = editor.document
    assert doc is not None
    target = QPoint(200, 600)  # empty canvas below the chain
    drop_mime(editor, node_mime("Dropout"), target)
    assert doc.has_node("dropout_1")
    item = editor.scene.node_item("dropout_1")
    centre = item.sceneBoundingRect().center()
    expected = editor.view.mapToScene(target)
    assert abs(centre.x() - expected.x()) < 5 and abs(centre.y() - expected.y()) < 5
    assert editor.selected_node_ids() == ["dropout_1"]
    editor.undo_stack.undo()
    assert not doc.has_node("dropout_1")


def test_palette_drag_carries_the_type(qtbot, editor: CanvasEditor) -> None:
    from nndesk.ui.panels.palette import PalettePanel

    palette = PalettePanel()
    qtbot.addWidget(palette)
    mime = palette.tree.mimeData([palette.type_item("Dense")])
    drop_mime(editor, mime, QPoint(300, 620))
    assert editor.document is not None and editor.document.has_node("dense_4")


def test_drag_between_ports_connects(qtbot, editor: CanvasEditor) -> None:
    doc = editor.document
    assert doc is not None
    edge = Edge("dense_1", "out", "dense_2", "in")
    editor.disconnect_edges([edge])
    assert not doc.has_edge(edge)
    before = doc.to_dict()
    viewport = editor.view.viewport()
    drag(
        qtbot,
        viewport,
        port_point(editor, "dense_1", "out", False),
        port_point(editor, "dense_2", "in", True),
    )
    assert doc.has_edge(edge)
    after = doc.to_dict()
    editor.undo_stack.undo()
    assert doc.to_dict() == before
    editor.undo_stack.redo()
    assert doc.to_dict() == after


def test_drag_backwards_from_a_free_input_connects(qtbot, editor: CanvasEditor) -> None:
    doc = editor.document
    assert doc is not None
    edge = Edge("dense_2", "out", "dense_3", "in")
    editor.disconnect_edges([edge])
    drag(
        qtbot,
        editor.view.viewport(),
        port_point(editor, "dense_3", "in", True),
        port_point(editor, "dense_2", "out", False),
    )
    assert doc.has_edge(edge)


def test_incompatible_connection_is_refused_with_its_reason(
    qtbot, editor: CanvasEditor
) -> None:
    doc = editor.document
    assert doc is not None
    editor.disconnect_edges([Edge("input_1", "out", "dense_1", "in")])
    spare = editor.add_node("Dropout", QPointF(0, 400))
    before = doc.to_dict()
    reason = doc.can_connect("dense_3", "out", "dense_1", "in")
    assert reason is not None and "cycle" in reason
    viewport = editor.view.viewport()
    start = port_point(editor, "dense_3", "out", False)
    end = port_point(editor, "dense_1", "in", True)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for i in range(1, 7):
        qtbot.mouseMove(viewport, start + (end - start) * (i / 6))
    target = editor.scene.port_item("dense_1", "in", True)
    assert target.state is PortState.REFUSED
    assert target.toolTip() == reason
    assert editor.last_message == reason
    # While dragging, ports that can take the edge are highlighted.
    assert editor.scene.port_item(spare, "in", True).state is PortState.COMPATIBLE
    assert editor.scene.port_item("output_1", "in", True).state is PortState.NORMAL
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    assert doc.to_dict() == before
    assert editor.last_message == reason
    assert target.state is PortState.NORMAL


def test_dragging_onto_a_taken_input_replaces_its_edge(
    qtbot, editor: CanvasEditor
) -> None:
    doc = editor.document
    assert doc is not None
    drag(
        qtbot,
        editor.view.viewport(),
        port_point(editor, "input_1", "out", False),
        port_point(editor, "dense_2", "in", True),
    )
    assert doc.has_edge(Edge("input_1", "out", "dense_2", "in"))
    assert not doc.has_edge(Edge("dense_1", "out", "dense_2", "in"))
    editor.undo_stack.undo()
    assert doc.has_edge(Edge("dense_1", "out", "dense_2", "in"))


def test_picking_up_an_edge_and_dropping_it_on_canvas_deletes_it(
    qtbot, editor: CanvasEditor
) -> None:
    doc = editor.document
    assert doc is not None
    start = port_point(editor, "dense_2", "in", True)
    drag(qtbot, editor.view.viewport(), start, start + QPoint(0, 200))
    assert not doc.has_edge(Edge("dense_1", "out", "dense_2", "in"))
    assert editor.undo_stack.count() == 1


def test_edge_dropped_on_empty_canvas_offers_a_connected_node(
    qtbot, editor: CanvasEditor
) -> None:
    doc = editor.document
    assert doc is not None
    start = port_point(editor, "dense_3", "out", False)
    end = start + QPoint(40, 220)
    drag(qtbot, editor.view.viewport(), start, end)
    popup = editor.popup
    assert popup.isVisible()
    offered = popup.offered_types()
    assert "Dense" in offered and "Output" in offered
    assert "Input" not in offered  # it has no input to take the edge
    qtbot.keyClicks(popup.field, "drop")
    assert popup.offered_types()[0] == "Dropout"
    qtbot.keyClick(popup.field, Qt.Key.Key_Return)
    assert not popup.isVisible()
    assert doc.has_edge(Edge("dense_3", "out", "dropout_1", "in"))
    port = editor.scene.port_item("dropout_1", "in", True).scene_anchor()
    expected = editor.view.mapToScene(end)
    assert abs(port.x() - expected.x()) < 2 and abs(port.y() - expected.y()) < 2
    editor.undo_stack.undo()
    assert not doc.has_node("dropout_1")


def test_tab_and_typing_open_the_add_node_search(qtbot, editor: CanvasEditor) -> None:
    doc = editor.document
    assert doc is not None
    editor.view.setFocus()
    qtbot.keyClick(editor.view, Qt.Key.Key_B, Qt.KeyboardModifier.NoModifier)
    assert editor.popup.isVisible()
    assert editor.popup.field.text() == "b"
    qtbot.keyClicks(editor.popup.field, "atch")
    qtbot.keyClick(editor.popup.field, Qt.Key.Key_Return)
    assert doc.has_node("batchnorm_1")
    editor.view.setFocus()
    qtbot.keyClick(editor.view, Qt.Key.Key_Tab)
    assert editor.popup.isVisible() and editor.popup.field.text() == ""
    qtbot.keyClick(editor.popup.field, Qt.Key.Key_Escape)
    assert not editor.popup.isVisible()
    assert len(doc) == 6


def test_drag_moves_nodes_with_one_undo_step(qtbot, editor: CanvasEditor) -> None:
    doc = editor.document
    assert doc is not None
    old = doc.node("dense_2").pos
    start = node_point(editor, "dense_2")
    drag(qtbot, editor.view.viewport(), start, start + QPoint(0, 150), steps=10)
    new = doc.node("dense_2").pos
    assert new[0] == pytest.approx(old[0]) and new[1] == pytest.approx(old[1] + 150)
    assert editor.undo_stack.count() == 1
    editor.undo_stack.undo()
    assert doc.node("dense_2").pos == old
    item = editor.scene.node_item("dense_2")
    assert (item.pos().x(), item.pos().y()) == old


def test_arrow_keys_nudge_the_selection_in_one_step(
    qtbot, editor: CanvasEditor
) -> None:
    doc = editor.document
    assert doc is not None
    editor.scene.select_nodes(["dense_1", "dense_2"])
    old = {n: doc.node(n).pos for n in ("dense_1", "dense_2")}
    editor.view.setFocus()
    for _ in range(3):
        qtbot.keyClick(editor.view, Qt.Key.Key_Right)
    for n in old:
        assert doc.node(n).pos == (old[n][0] + 30.0, old[n][1])
    assert editor.undo_stack.count() == 1
    editor.undo_stack.undo()
    assert {n: doc.node(n).pos for n in old} == old


def test_click_shift_click_and_rubber_band_select(qtbot, editor: CanvasEditor) -> None:
    viewport = editor.view.viewport()
    qtbot.mouseClick(
        viewport, Qt.MouseButton.LeftButton, pos=node_point(editor, "dense_1")
    )
    assert editor.selected_node_ids() == ["dense_1"]
    qtbot.mouseClick(
        viewport,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.ShiftModifier,
        node_point(editor, "dense_3"),
    )
    assert editor.selected_node_ids() == ["dense_1", "dense_3"]
    qtbot.mouseClick(
        viewport,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.ControlModifier,
        node_point(editor, "dense_1"),
    )
    assert editor.selected_node_ids() == ["dense_3"]
    # A rubber band from empty canvas around the two first nodes.
    rect = editor.scene.nodes_rect(["input_1", "dense_1"])
    start = view_point(editor, rect.topLeft() - QPointF(20, 20))
    end = view_point(editor, rect.bottomRight() + QPointF(5, 20))
    drag(qtbot, viewport, start, end)
    assert editor.selected_node_ids() == ["input_1", "dense_1"]
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=start)
    assert editor.selected_node_ids() == []


def test_delete_key_removes_a_selected_edge(qtbot, main_window) -> None:
    editor = main_window.editor
    doc = main_window.document
    edge = Edge("dense_1", "out", "dense_2", "in")
    item = editor.scene.edge_item(edge)
    # Click a point on the curve away from its shape label.
    point = view_point(editor, item.path().pointAtPercent(0.25))
    qtbot.mouseClick(editor.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert editor.scene.selected_edges() == [edge]
    editor.view.setFocus()
    qtbot.keyClick(editor.view, Qt.Key.Key_Delete)
    assert not doc.has_edge(edge)
    assert len(doc) == 5


def test_delete_removes_nodes_with_their_edges_and_undo_restores(
    editor: CanvasEditor,
) -> None:
    doc = editor.document
    assert doc is not None
    before = doc.to_dict()
    editor.scene.select_nodes(["dense_1", "dense_3"])
    assert editor.delete_selection()
    assert not doc.has_node("dense_1") and not doc.has_node("dense_3")
    assert len(doc.edges) == 0
    assert len(editor.scene.edge_items()) == 0
    editor.undo_stack.undo()
    assert doc.to_dict() == before
    assert len(editor.scene.edge_items()) == 4


def test_copy_paste_keeps_internal_edges_with_new_ids(editor: CanvasEditor) -> None:
    doc = editor.document
    assert doc is not None
    editor.scene.select_nodes(["dense_1", "dense_2", "dense_3"])
    assert editor.copy_selection() == 3
    new = editor.paste()
    assert new == ["dense_4", "dense_5", "dense_6"]
    assert editor.selected_node_ids() == new
    assert doc.has_edge(Edge("dense_4", "out", "dense_5", "in"))
    assert doc.has_edge(Edge("dense_5", "out", "dense_6", "in"))
    assert doc.edges_in("dense_4") == ()  # the edge from input_1 was not copied
    assert doc.node("dense_4").params == doc.node("dense_1").params
    x1, y1 = doc.node("dense_1").pos
    assert doc.node("dense_4").pos == (x1 + 30.0, y1 + 30.0)
    again = editor.paste()
    assert doc.node(again[0]).pos == (x1 + 60.0, y1 + 60.0)
    editor.undo_stack.undo()
    editor.undo_stack.undo()
    assert len(doc) == 5


def test_cut_then_paste_restores_the_nodes_under_new_ids(editor: CanvasEditor) -> None:
    doc = editor.document
    assert doc is not None
    editor.scene.select_nodes(["dense_2"])
    assert editor.cut_selection() == 1
    assert not doc.has_node("dense_2")
    assert editor.paste() == ["dense_4"]


def test_duplicate_leaves_the_clipboard_alone(editor: CanvasEditor) -> None:
    doc = editor.document
    assert doc is not None
    QApplication.clipboard().clear()
    editor.scene.select_nodes(["dense_1"])
    assert editor.duplicate_selection() == ["dense_4"]
    assert editor.paste() == []
    assert "no nndesk nodes" in editor.last_message


def test_dropping_a_palette_node_on_an_edge_inserts_it(editor: CanvasEditor) -> None:
    doc = editor.document
    assert doc is not None
    edge = Edge("dense_1", "out", "dense_2", "in")
    middle = editor.scene.edge_item(edge).path().pointAtPercent(0.5)
    drop_mime(editor, node_mime("Dropout"), view_point(editor, middle))
    assert not doc.has_edge(edge)
    assert doc.has_edge(Edge("dense_1", "out", "dropout_1", "in"))
    assert doc.has_edge(Edge("dropout_1", "out", "dense_2", "in"))
    assert editor.undo_stack.count() == 1
    editor.undo_stack.undo()
    assert doc.has_edge(edge) and not doc.has_node("dropout_1")


def test_dragging_a_free_node_onto_an_edge_inserts_it(
    qtbot, editor: CanvasEditor
) -> None:
    doc = editor.document
    assert doc is not None
    node_id = editor.add_node("Dropout", QPointF(0, 300))
    assert node_id is not None
    editor.scene.clearSelection()
    edge = Edge("dense_2", "out", "dense_3", "in")
    item = editor.scene.node_item(node_id)
    grab = item.mapToScene(QPointF(30, 50))
    from nndesk.ui.canvas.items.node_item import NODE_WIDTH, PORT_Y

    centre = item.mapToScene(QPointF(NODE_WIDTH / 2, PORT_Y))
    middle = editor.scene.edge_item(edge).path().pointAtPercent(0.5)
    end = grab + (middle - centre)
    drag(
        qtbot, editor.view.viewport(), view_point(editor, grab), view_point(editor, end)
    )
    assert doc.has_edge(Edge("dense_2", "out", node_id, "in"))
    assert doc.has_edge(Edge(node_id, "out", "dense_3", "in"))
    editor.undo_stack.undo()
    assert doc.has_edge(edge)


def test_wheel_zoom_keeps_the_point_under_the_cursor(
    qtbot, editor: CanvasEditor
) -> None:
    from PySide6.QtGui import QWheelEvent

    view = editor.view
    anchor = QPoint(700, 250)
    before = view.mapToScene(anchor)
    scale = view.scale_factor()
    event = QWheelEvent(
        QPointF(anchor),
        QPointF(view.viewport().mapToGlobal(anchor)),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), event)
    assert view.scale_factor() > scale * 1.1
    after = view.mapToScene(anchor)
    assert abs(after.x() - before.x()) < 2 and abs(after.y() - before.y()) < 2
    for _ in range(40):
        view.zoom_in()
    assert view.scale_factor() == pytest.approx(4.0)
    for _ in range(80):
        view.zoom_out()
    assert view.scale_factor() == pytest.approx(0.1)


def test_middle_button_and_space_drag_pan(qtbot, editor: CanvasEditor) -> None:
    view = editor.view
    viewport = view.viewport()
    centre = viewport.rect().center()
    before = view.mapToScene(centre)
    drag(
        qtbot,
        viewport,
        centre,
        centre + QPoint(100, 40),
        button=Qt.MouseButton.MiddleButton,
    )
    moved = view.mapToScene(centre)
    assert moved.x() == pytest.approx(before.x() - 100, abs=1)
    assert moved.y() == pytest.approx(before.y() - 40, abs=1)
    view.setFocus()
    qtbot.keyPress(view, Qt.Key.Key_Space)
    drag(qtbot, viewport, centre, centre + QPoint(-50, 0))
    qtbot.keyRelease(view, Qt.Key.Key_Space)
    assert view.mapToScene(centre).x() == pytest.approx(moved.x() + 50, abs=1)
    assert editor.selected_node_ids() == []  # panning never selects


def test_fit_to_view_shows_every_node(editor: CanvasEditor) -> None:
    view = editor.view
    view.set_zoom(4.0)
    view.fit_to_view()
    visible = view.visible_scene_rect()
    assert visible.contains(editor.scene.nodes_rect())


def test_auto_layout_puts_nodes_in_columns_by_depth(editor: CanvasEditor) -> None:
    doc = editor.document
    assert doc is not None
    for i, node_id in enumerate(doc.node_ids):
        editor.scene.node_item(node_id)
        doc.move_node(node_id, (0.0, 100.0 * i))  # stacked: a mess to tidy
    before = doc.to_dict()
    assert editor.auto_layout()
    xs = [doc.node(n).pos[0] for n in doc.topological_order()]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    assert editor.undo_stack.count() == 1
    assert editor.undo_stack.command(0).text() == "Auto Layout"
    editor.undo_stack.undo()
    assert doc.to_dict() == before


def test_grid_snapping_rounds_dragged_positions(qtbot, editor: CanvasEditor) -> None:
    doc = editor.document
    assert doc is not None
    editor.scene.set_grid_snap(20.0)
    start = node_point(editor, "dense_2")
    drag(qtbot, editor.view.viewport(), start, start + QPoint(13, 47))
    x, y = doc.node("dense_2").pos
    assert x % 20 == 0 and y % 20 == 0


def test_param_edit_updates_shapes_downstream(qtbot, editor: CanvasEditor) -> None:
    assert editor.set_param("dense_1", "units", 5)
    qtbot.waitUntil(
        lambda: editor.scene.node_item("dense_1").text("shape").startswith("(5,)")
    )
    assert "15 params" in editor.scene.node_item("dense_1").text("shape")
    assert "48 params" in editor.scene.node_item("dense_2").text("shape")
    label = editor.scene.edge_item(Edge("dense_1", "out", "dense_2", "in")).label
    assert label == "(5,)"


def test_a_refused_param_value_changes_nothing(editor: CanvasEditor) -> None:
    doc = editor.document
    assert doc is not None
    assert not editor.set_param("dense_1", "units", 0)
    assert doc.node("dense_1").params["units"] == 8
    assert "units" in editor.last_message
    assert editor.undo_stack.count() == 0


def test_problem_outlines_the_node_and_explains_in_the_tooltip(
    qtbot, editor: CanvasEditor
) -> None:
    editor.set_param("output_1", "loss", "sparse_categorical_crossentropy")
    editor.scene.flush()
    item = editor.scene.node_item("output_1")
    assert item.status.problem is not None and "1" in item.status.problem
    assert item.status.problem in item.toolTip()
    messages = [p.message for p in editor.scene.status.problems]
    assert item.status.problem in messages
    editor.undo_stack.undo()
    editor.scene.flush()
    assert editor.scene.node_item("output_1").status.problem is None


def test_escape_cancels_an_edge_drag(qtbot, editor: CanvasEditor) -> None:
    doc = editor.document
    assert doc is not None
    before = doc.to_dict()
    viewport = editor.view.viewport()
    start = port_point(editor, "dense_3", "out", False)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(viewport, start + QPoint(50, 80))
    editor.view.setFocus()
    qtbot.keyClick(editor.view, Qt.Key.Key_Escape)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=start + QPoint(50, 80))
    assert doc.to_dict() == before
    assert not editor.popup.isVisible()
    assert all(i.edge is not None for i in editor.scene.edge_items())


def test_context_menu_offers_the_edits(qtbot, editor: CanvasEditor) -> None:
    from PySide6.QtWidgets import QMenu

    shown: list[list[str]] = []

    def fake_exec(menu: QMenu, *args: object) -> None:
        texts = [a.text() for a in menu.actions() if a.text()]
        shown.append(texts)
        next(a for a in menu.actions() if a.text() == "Duplicate").trigger()

    editor.exec_menu = fake_exec
    viewport = editor.view.viewport()
    point = node_point(editor, "dense_2")
    from PySide6.QtGui import QContextMenuEvent

    event = QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, point, viewport.mapToGlobal(point)
    )
    QApplication.sendEvent(viewport, event)
    assert shown and shown[0][:3] == ["Duplicate", "Copy", "Delete"]
    assert "Add Node…" in shown[0] and "Paste Here" in shown[0]
    assert editor.document is not None and editor.document.has_node("dense_4")


def test_palette_drags_copy_and_never_move(qtbot) -> None:
    from nndesk.ui.panels.palette import PalettePanel

    palette = PalettePanel()
    qtbot.addWidget(palette)
    assert palette.tree.model().supportedDragActions() == Qt.DropAction.CopyAction


def test_undo_in_the_middle_of_an_edge_drag_is_harmless(
    qtbot, editor: CanvasEditor
) -> None:
    doc = editor.document
    assert doc is not None
    node_id = editor.add_node("Dropout", QPointF(0, 300))
    assert node_id is not None
    viewport = editor.view.viewport()
    start = port_point(editor, node_id, "out", False)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(viewport, start + QPoint(30, 30))
    editor.undo_stack.undo()  # e.g. Ctrl+Z while the button is down
    assert not doc.has_node(node_id)
    before = doc.to_dict()
    qtbot.mouseMove(viewport, start + QPoint(60, 60))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=start + QPoint(60, 60))
    if editor.popup.isVisible():
        editor.popup.choose("Dense")  # the edge's node is gone: nothing to connect
    assert doc.to_dict() == before


def long_chain(n: int) -> Document:
    """Input followed by ``n - 1`` Dense layers, laid out in rows of 25."""
    doc = Document({"dataset": "spiral:n=100"})
    prev = doc.add_node("Input", {"shape": (4,)}, pos=(0.0, 0.0))
    for i in range(1, n):
        node = doc.add_node(
            "Dense", {"units": 4}, pos=(220.0 * (i % 25), 110.0 * (i // 25))
        )
        doc.connect(prev, "out", node, "in")
        prev = node
    return doc


def test_a_large_network_is_drawn_over_several_event_loop_turns(
    qtbot, editor: CanvasEditor
) -> None:
    n = BUILD_AT_ONCE * 2
    doc = long_chain(n)
    statuses: list[object] = []
    editor.scene.sig_status_changed.connect(statuses.append)
    editor.set_document(doc)
    scene = editor.scene
    assert scene.is_building and scene.items() == []  # the window stays responsive
    # Shape inference ran first: the problems list need not wait for the items.
    assert len(statuses) == 1 and statuses[0] is scene.status
    assert not editor.view.viewport().updatesEnabled()
    assert str(n) in editor.last_message
    # Fitting does not wait for the items: the document knows where nodes are.
    assert scene.nodes_rect().contains(
        NodeItem.bounds_at(*doc.node(doc.node_ids[-1]).pos)
    )
    turns = 0
    while scene.is_building:
        QApplication.processEvents()
        turns += 1
    assert turns > 1
    assert [i.node_id for i in scene.node_items()] == list(doc.node_ids)
    assert {i.edge for i in scene.edge_items()} == set(doc.edges)
    assert scene.node_item(doc.node_ids[-1]).text("shape").startswith("(4,)")
    assert editor.view.viewport().updatesEnabled() and editor.last_message == ""


def test_an_edit_while_drawing_finishes_the_drawing_first(editor: CanvasEditor) -> None:
    doc = long_chain(BUILD_AT_ONCE * 2)
    editor.set_document(doc)
    QApplication.processEvents()  # one slice: part of the items exist
    assert editor.scene.is_building
    middle = doc.node_ids[len(doc) // 2]
    editor.scene.select_nodes([middle])
    assert editor.delete_selection()
    scene = editor.scene
    assert not scene.is_building and middle not in doc
    assert [i.node_id for i in scene.node_items()] == list(doc.node_ids)
    assert {i.edge for i in scene.edge_items()} == set(doc.edges)
    editor.undo_stack.undo()
    assert [i.node_id for i in scene.node_items()] == list(doc.node_ids)
    assert {i.edge for i in scene.edge_items()} == set(doc.edges)


def test_closing_a_network_while_it_is_drawn_leaves_the_canvas_painting(
    editor: CanvasEditor,
) -> None:
    editor.set_document(long_chain(BUILD_AT_ONCE * 2))
    assert editor.scene.is_building and not editor.view.viewport().updatesEnabled()
    editor.set_document(None)
    assert not editor.scene.is_building and editor.scene.items() == []
    assert editor.view.viewport().updatesEnabled() and editor.last_message == ""


def test_document_changes_while_drawing_keep_the_scene_true(
    editor: CanvasEditor,
) -> None:
    doc = long_chain(BUILD_AT_ONCE * 2)
    editor.set_document(doc)
    QApplication.processEvents()  # one slice: the last nodes are not drawn yet
    scene = editor.scene
    last = doc.node_ids[-1]
    assert scene.is_building and last not in scene._nodes
    doc.remove_node(last)  # straight through the document: no query came first
    assert not scene.is_building
    extra = doc.add_node("Dense", {"units": 3}, pos=(0.0, -200.0))
    doc.connect(doc.node_ids[0], "out", extra, "in")
    assert [i.node_id for i in scene.node_items()] == list(doc.node_ids)
    assert sorted(map(str, (i.edge for i in scene.edge_items()))) == sorted(
        map(str, doc.edges)
    )
    assert len(scene.items()) == len({*scene.node_items(), *scene.edge_items()}) + sum(
        len(i.inputs) + len(i.outputs) for i in scene.node_items()
    )
