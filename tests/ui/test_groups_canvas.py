"""Groups, notes and the Transformer block template on the canvas, driven with real
mouse and key events: Ctrl+G, dragging a frame, collapse/expand, copy-paste of a
group, dropping the template (which compiles and trains), notes; undo/redo of each."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QUndoStack
from PySide6.QtWidgets import QApplication
from ui_helpers import OFFSCREEN_NOISE, drag, node_point, view_point

from nndesk.api import Network
from nndesk.document.graph import Document
from nndesk.document.shapes import infer_shapes
from nndesk.ui.canvas.editor import CanvasEditor
from nndesk.ui.canvas.items.group_item import TITLE_HEIGHT
from nndesk.ui.canvas.view import NODE_MIME_TYPE

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

LEFT = Qt.MouseButton.LeftButton
NONE = Qt.KeyboardModifier.NoModifier
CTRL = Qt.KeyboardModifier.ControlModifier
BLOCK = "template:TransformerBlock"


def _sequence_doc() -> Document:
    """Input (6, 8) -> Flatten -> Dense 1 -> Output (mse), spread out."""
    doc = Document()
    x = doc.add_node("Input", {"shape": (6, 8)}, pos=(0.0, 0.0))
    f = doc.add_node("Flatten", {}, pos=(600.0, 0.0))
    h = doc.add_node("Dense", {"units": 1}, pos=(850.0, 0.0))
    o = doc.add_node("Output", {"loss": "mse"}, pos=(1100.0, 0.0))
    doc.connect(x, "out", f, "in")
    doc.connect(f, "out", h, "in")
    doc.connect(h, "out", o, "in")
    return doc


@pytest.fixture
def seq_editor(qtbot) -> Iterator[CanvasEditor]:
    stack = QUndoStack()
    ed = CanvasEditor(stack)
    ed.set_document(_sequence_doc())
    ed.view.resize(1200, 800)
    ed.view.show()
    qtbot.addWidget(ed.view)
    qtbot.waitExposed(ed.view)
    ed.view.set_zoom(0.6)
    ed.view.centerOn(ed.scene.nodes_rect().center())
    ed.stack = stack  # type: ignore[attr-defined]
    yield ed
    ed.set_document(None)
    stack.clear()


def _drop(editor: CanvasEditor, name: str, pos: QPoint) -> None:
    viewport, mime = editor.view.viewport(), QMimeData()
    mime.setData(NODE_MIME_TYPE, name.encode())
    action = Qt.DropAction.CopyAction
    QApplication.sendEvent(viewport, QDragEnterEvent(pos, action, mime, LEFT, NONE))
    QApplication.sendEvent(viewport, QDragMoveEvent(pos, action, mime, LEFT, NONE))
    QApplication.sendEvent(viewport, QDropEvent(QPointF(pos), action, mime, LEFT, NONE))


def _title_point(editor: CanvasEditor, group_id: str) -> QPoint:
    item = editor.scene.overlay.groups[group_id]
    rect = item.sceneBoundingRect()
    return view_point(editor, QPointF(rect.left() + 40, item.pos().y() + 10))


def _insert_block_on_edge(editor: CanvasEditor) -> list[str]:
    edge = editor.document.edges_out("input_1")[0]  # type: ignore[union-attr]
    item = editor.scene.edge_item(edge)
    mid = item.path().pointAtPercent(0.5)
    before = set(editor.document.node_ids)  # type: ignore[union-attr]
    _drop(editor, BLOCK, view_point(editor, mid))
    return [n for n in editor.document.node_ids if n not in before]  # type: ignore[union-attr]


def test_the_template_dropped_on_an_edge_is_one_group_sized_by_the_incoming_shape(
    seq_editor: CanvasEditor,
) -> None:
    editor, doc = seq_editor, seq_editor.document
    assert doc is not None
    new = _insert_block_on_edge(editor)
    assert len(new) == 7 and editor.stack.count() == 1  # type: ignore[attr-defined]
    group = doc.group_of(new[0])
    assert group is not None and group.title == "Transformer block"
    assert set(group.node_ids) == set(new)
    report = infer_shapes(doc)
    assert report.ok, report.errors
    types = {doc.node(n).type_name: doc.node(n) for n in new}
    assert types["MultiHeadAttention"].params["num_heads"] == 4  # 8 features
    dense = [doc.node(n) for n in new if doc.node(n).type_name == "Dense"]
    assert sorted(n.params["units"] for n in dense) == [8, 32]
    assert {n.params["activation"] for n in dense} == {"gelu", "linear"}
    for n in new:
        assert report[n].output_shape in ((6, 8), (6, 32))
    # the block sits between the input and the Flatten, with two residual Adds
    assert len(doc.edges_out("input_1")) == 2
    flatten_in = doc.edges_in("flatten_1")[0].src_node
    assert doc.node(flatten_in).type_name == "Add"
    # the nodes after the edge moved right, past the block, in the same step
    block_right = max(doc.node(n).pos[0] for n in new)
    assert doc.node("flatten_1").pos[0] > block_right + 164
    assert doc.node("output_1").pos[0] > doc.node("dense_1").pos[0]
    editor.stack.undo()  # type: ignore[attr-defined]
    assert len(doc) == 4 and doc.groups == () and infer_shapes(doc).ok
    assert doc.node("flatten_1").pos == (600.0, 0.0)
    editor.stack.redo()  # type: ignore[attr-defined]
    assert len(doc) == 11 and len(doc.groups) == 1 and infer_shapes(doc).ok
    # it compiles and trains on random sequences through the API
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6, 8)).astype(np.float32)
    y = x.mean(axis=(1, 2), keepdims=False)[:, None].astype(np.float32)
    net = Network.from_document(doc)
    history = net.fit(x, y, epochs=3, batch_size=16, learning_rate=0.003)
    assert len(history["loss"]) == 3 and np.isfinite(history["loss"]).all()
    assert history["loss"][-1] < history["loss"][0]


def test_double_click_on_the_palette_entry_inserts_after_the_selected_node(
    seq_editor: CanvasEditor,
) -> None:
    editor, doc = seq_editor, seq_editor.document
    assert doc is not None
    editor.scene.select_nodes(["flatten_1"])
    new = editor.insert_template(BLOCK)
    assert doc.node(new[1]).params["num_heads"] == 4  # Flatten gives 48 features
    assert doc.node(new[4]).params["units"] == 4 * 48


def test_ctrl_g_groups_the_selection_and_undo_redo_follow(main_window, qtbot) -> None:
    editor = main_window.editor
    editor.ask_text = lambda parent, title, label, text: "Hidden layers"
    editor.scene.select_nodes(["dense_1", "dense_2"])
    editor.view.setFocus()
    qtbot.keyClick(editor.view, Qt.Key.Key_G, CTRL)
    doc = main_window.document
    assert [(g.title, g.node_ids) for g in doc.groups] == [
        ("Hidden layers", ("dense_1", "dense_2"))
    ]
    assert editor.scene.overlay.groups["group_1"].isSelected()
    main_window.undo_stack.undo()
    assert doc.groups == () and not editor.scene.overlay.groups
    main_window.undo_stack.redo()
    assert doc.group("group_1").title == "Hidden layers"
    editor.scene.select_nodes(["dense_1"])  # a node of the group is enough
    qtbot.keyClick(editor.view, Qt.Key.Key_G, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert doc.groups == ()
    assert set(editor.selected_node_ids()) == {"dense_1", "dense_2"}
    main_window.undo_stack.undo()
    assert len(doc.groups) == 1


def _grouped(editor: CanvasEditor, nodes: list[str], title: str = "G") -> str:
    editor.scene.select_nodes(nodes)
    group_id = editor.group_selection(title)
    assert group_id is not None
    return group_id


def test_dragging_the_frame_moves_every_node_of_the_group_in_one_undo_step(
    qtbot, editor: CanvasEditor
) -> None:
    doc = editor.document
    assert doc is not None
    gid = _grouped(editor, ["dense_1", "dense_2"])
    before = {n: doc.node(n).pos for n in doc.node_ids}
    steps = editor.stack.count()  # type: ignore[attr-defined]
    start = _title_point(editor, gid)
    drag(qtbot, editor.view.viewport(), start, start + QPoint(60, 40))
    assert editor.stack.count() == steps + 1  # type: ignore[attr-defined]
    for n in ("dense_1", "dense_2"):
        bx, by = before[n]
        x, y = doc.node(n).pos
        assert (x - bx, y - by) == pytest.approx((60.0, 40.0), abs=1.0)
    for n in set(doc.node_ids) - {"dense_1", "dense_2"}:
        assert doc.node(n).pos == before[n]
    frame = editor.scene.overlay.groups[gid].sceneBoundingRect()
    assert frame.contains(editor.scene.nodes_rect(["dense_1", "dense_2"]))
    editor.stack.undo()  # type: ignore[attr-defined]
    assert {n: doc.node(n).pos for n in doc.node_ids} == before


def test_escape_during_a_frame_drag_puts_everything_back(
    qtbot, editor: CanvasEditor
) -> None:
    doc = editor.document
    assert doc is not None
    gid = _grouped(editor, ["dense_1", "dense_2"])
    before = {n: doc.node(n).pos for n in doc.node_ids}
    steps = editor.stack.count()  # type: ignore[attr-defined]
    start = _title_point(editor, gid)
    viewport = editor.view.viewport()
    qtbot.mousePress(viewport, LEFT, NONE, start)
    qtbot.mouseMove(viewport, start + QPoint(50, 50))
    assert editor.scene.gesture is not None
    qtbot.keyClick(editor.view, Qt.Key.Key_Escape)
    qtbot.mouseRelease(viewport, LEFT, NONE, start + QPoint(50, 50))
    assert editor.stack.count() == steps  # type: ignore[attr-defined]
    assert {n: doc.node(n).pos for n in doc.node_ids} == before
    assert all(editor.scene.node_item(n).model_pos() == before[n] for n in doc.node_ids)


def test_collapse_shows_one_box_with_the_outside_ports_and_expand_restores(
    qtbot, seq_editor: CanvasEditor
) -> None:
    editor, doc = seq_editor, seq_editor.document
    assert doc is not None
    new = _insert_block_on_edge(editor)
    gid = doc.group_of(new[0]).id  # type: ignore[union-attr]
    item = editor.scene.overlay.groups[gid]
    editor.scene.clearSelection()
    # double-click on the title bar collapses
    qtbot.mouseDClick(editor.view.viewport(), LEFT, NONE, _title_point(editor, gid))
    assert doc.group(gid).collapsed
    editor.scene.flush()
    assert all(not editor.scene.node_item(n).isVisible() for n in new)
    assert item.inputs == [f"{new[0]}.in", f"{new[2]}.in"]
    assert item.outputs == [f"{new[6]}.out"]
    into = [e for e in doc.edges if e.dst_node in new and e.src_node not in new]
    for e in into:
        edge_item = editor.scene.edge_item(e)
        assert edge_item.isVisible()
        assert edge_item.endpoints()[1] == item.anchor(
            f"{e.dst_node}.{e.dst_port}", True
        )
    inside = [e for e in doc.edges if e.src_node in new and e.dst_node in new]
    assert not any(editor.scene.edge_item(e).isVisible() for e in inside)
    assert item.summary.param_count == sum(
        infer_shapes(doc)[n].param_count for n in new
    )
    assert item.summary.shape_text == "(6, 8) → (6, 8)"
    # choosing a hidden node (the Problems list does) selects its box
    editor.scene.clearSelection()
    editor.focus_node(new[1])
    assert item.isSelected() and new[1] in editor.selected_node_ids()
    # the box is what a click at a hidden node's place hits
    assert editor.scene.node_at(item.sceneBoundingRect().center()) is None
    # it still compiles unchanged
    assert infer_shapes(doc).ok
    Network.from_document(doc)
    # the button expands again
    button = item.mapToScene(item.button_rect().center())
    qtbot.mouseClick(editor.view.viewport(), LEFT, NONE, view_point(editor, button))
    assert not doc.group(gid).collapsed
    assert all(editor.scene.node_item(n).isVisible() for n in new)
    for e in into:
        edge = editor.scene.edge_item(e)
        assert edge.dst_anchor is None
        assert edge.endpoints()[1] == edge.dst.scene_anchor()  # type: ignore[union-attr]
    editor.stack.undo()  # type: ignore[attr-defined]
    assert doc.group(gid).collapsed
    editor.stack.undo()  # type: ignore[attr-defined]
    assert not doc.group(gid).collapsed


def test_problems_inside_a_collapsed_group_show_on_its_box(
    editor: CanvasEditor,
) -> None:
    doc = editor.document
    assert doc is not None
    gid = _grouped(editor, ["dense_1", "dense_2"])
    editor.toggle_group_collapsed(gid)
    editor.scene.flush()
    assert editor.scene.overlay.groups[gid].summary.problems == 0
    doc.disconnect(doc.edges_in("dense_1")[0])
    editor.scene.flush()
    summary = editor.scene.overlay.groups[gid].summary
    assert summary.problems >= 1
    assert summary.first_problem is not None
    assert summary.first_problem.startswith("dense_1: ")


def test_copy_paste_and_duplicate_of_a_group_keep_it_a_group(
    qtbot, main_window
) -> None:
    editor = main_window.editor
    doc = main_window.document
    editor.ask_text = lambda *a: "Pair"
    editor.scene.select_nodes(["dense_1", "dense_2"])
    gid = editor.group_selection()
    editor.toggle_group_collapsed(gid)
    editor.select_group(gid)
    editor.view.setFocus()
    qtbot.keyClick(editor.view, Qt.Key.Key_C, CTRL)
    qtbot.keyClick(editor.view, Qt.Key.Key_V, CTRL)
    assert len(doc.groups) == 2
    pasted = doc.groups[1]
    assert pasted.title == "Pair" and pasted.collapsed and len(pasted.node_ids) == 2
    assert pasted.node_ids != doc.group(gid).node_ids
    assert editor.scene.overlay.groups[pasted.id].isVisible()
    main_window.undo_stack.undo()
    assert len(doc.groups) == 1 and len(doc) == 5
    main_window.undo_stack.redo()
    assert len(doc.groups) == 2 and doc.groups[1] == pasted
    editor.select_group(gid)
    qtbot.keyClick(editor.view, Qt.Key.Key_D, CTRL)
    assert len(doc.groups) == 3 and doc.groups[2].title == "Pair"


def test_notes_are_added_edited_moved_deleted_and_undone(qtbot, main_window) -> None:
    editor = main_window.editor
    doc = main_window.document
    stack = main_window.undo_stack
    editor.view.setFocus()
    qtbot.keyClick(editor.view, Qt.Key.Key_N, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert [n.text for n in doc.notes] == [""]
    item = editor.scene.overlay.notes["note_1"]
    assert item.editing
    qtbot.keyClicks(editor.view, "Two hidden layers")
    qtbot.keyClick(editor.view, Qt.Key.Key_Return, CTRL)
    assert not item.editing
    assert doc.note("note_1").text == "Two hidden layers"
    assert stack.undoText() == "Edit Note"
    # a double-click edits again; Escape drops the change
    centre = view_point(editor, item.sceneBoundingRect().center())
    qtbot.mouseDClick(editor.view.viewport(), LEFT, NONE, centre)
    assert item.editing
    qtbot.keyClicks(editor.view, "scrap")
    qtbot.keyClick(editor.view, Qt.Key.Key_Escape)
    assert doc.note("note_1").text == "Two hidden layers"
    assert item.toPlainText() == "Two hidden layers"
    # drag it: one undo step
    old = doc.note("note_1").pos
    end = centre + QPoint(80, 30)
    moved = editor.view.mapToScene(end) - editor.view.mapToScene(centre)
    drag(qtbot, editor.view.viewport(), centre, end)
    x, y = doc.note("note_1").pos
    assert (x - old[0], y - old[1]) == pytest.approx((moved.x(), moved.y()), abs=1.0)
    assert stack.undoText() == "Move Note"
    stack.undo()
    assert doc.note("note_1").pos == old
    assert item.pos() == QPointF(*old)
    stack.undo()
    assert doc.note("note_1").text == ""
    stack.redo()
    assert item.toPlainText() == "Two hidden layers"
    # select and delete
    qtbot.mouseClick(
        editor.view.viewport(),
        LEFT,
        NONE,
        view_point(editor, item.sceneBoundingRect().center()),
    )
    assert item.isSelected()
    qtbot.keyClick(editor.view, Qt.Key.Key_Delete)
    assert doc.notes == () and not editor.scene.overlay.notes
    stack.undo()
    assert doc.note("note_1").text == "Two hidden layers"


def test_the_palette_lists_the_template(main_window) -> None:
    palette = main_window.palette
    item = palette.type_item(BLOCK)
    assert item.text(0) == "Transformer block"
    assert item.parent().text(0) == "Attention"
    palette.search.setText("transformer")
    assert BLOCK in palette.visible_types()
    assert palette.tree.currentItem() is item  # the best match: Enter inserts it


def test_the_frame_title_bar_sits_above_the_nodes(editor: CanvasEditor) -> None:
    gid = _grouped(editor, ["dense_1"])
    frame = editor.scene.overlay.groups[gid].sceneBoundingRect()
    node = editor.scene.node_item("dense_1").sceneBoundingRect()
    assert frame.top() + TITLE_HEIGHT <= node.top()
    assert editor.scene.node_at(node.center()) is editor.scene.node_item("dense_1")


def test_a_frame_follows_a_member_node_while_it_is_dragged(
    qtbot, editor: CanvasEditor
) -> None:
    gid = _grouped(editor, ["dense_1", "dense_2"])
    frame = editor.scene.overlay.groups[gid]
    before = frame.sceneBoundingRect()
    viewport = editor.view.viewport()
    start = node_point(editor, "dense_2")
    qtbot.mousePress(viewport, LEFT, NONE, start)
    qtbot.mouseMove(viewport, start + QPoint(30, 120))
    qtbot.mouseMove(viewport, start + QPoint(60, 240))
    moving = frame.sceneBoundingRect()
    assert moving.bottom() > before.bottom() + 100
    assert moving.contains(editor.scene.node_item("dense_2").sceneBoundingRect())
    qtbot.keyClick(editor.view, Qt.Key.Key_Escape)  # back where it was
    qtbot.mouseRelease(viewport, LEFT, NONE, start + QPoint(60, 240))
    assert frame.sceneBoundingRect() == before


def _menu_answer(editor: CanvasEditor, choice: str, scene_pos: QPointF) -> list[str]:
    """Send a context-menu event at ``scene_pos``; trigger ``choice`` in the menu
    the editor builds (instead of running it modally); its entries."""
    from PySide6.QtGui import QContextMenuEvent

    entries: list[str] = []

    def answer(menu, _pos) -> None:  # type: ignore[no-untyped-def]
        actions = [a for a in menu.actions() if not a.isSeparator()]
        entries.extend(a.text() for a in actions)
        next(a for a in actions if a.text() == choice).trigger()

    editor.exec_menu = answer
    viewport = editor.view.viewport()
    point = editor.view.mapFromScene(scene_pos)
    event = QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, point, viewport.mapToGlobal(point)
    )
    QApplication.sendEvent(viewport, event)
    return entries


def test_the_context_menu_renames_collapses_and_ungroups(editor: CanvasEditor) -> None:
    doc = editor.document
    assert doc is not None
    gid = _grouped(editor, ["dense_1", "dense_2"], "Old")
    editor.scene.clearSelection()
    bar = editor.view.mapToScene(_title_point(editor, gid))
    editor.ask_text = lambda parent, title, label, text: "New title"
    entries = _menu_answer(editor, "Rename Group…", bar)
    assert {"Collapse", "Rename Group…", "Ungroup", "Add Note Here"} <= set(entries)
    assert doc.group(gid).title == "New title"
    editor.stack.undo()  # type: ignore[attr-defined]
    assert doc.group(gid).title == "Old"
    _menu_answer(editor, "Collapse", bar)
    assert doc.group(gid).collapsed
    box = editor.scene.overlay.groups[gid].sceneBoundingRect().center()
    entries = _menu_answer(editor, "Ungroup", box)
    assert "Expand" in entries
    assert doc.groups == ()
    assert editor.scene.node_item("dense_1").isVisible()
    empty = editor.scene.nodes_rect().bottomRight() + QPointF(40, 80)
    _menu_answer(editor, "Add Note Here", empty)
    (note,) = doc.notes
    assert note.pos == pytest.approx((empty.x(), empty.y()), abs=1.0)
