"""Undo commands: each edit undoes and redoes to exactly the same document."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QPointF
from PySide6.QtGui import QUndoStack

from nndesk.document.examples import EXAMPLES, spiral_classifier
from nndesk.document.graph import Document, Edge
from nndesk.document.registry import REGISTRY
from nndesk.ui.canvas.commands import (
    AddNodeCommand,
    ConnectCommand,
    DisconnectCommand,
    MacroCommand,
    MoveNodesCommand,
    PasteCommand,
    RemoveNodesCommand,
    SetLabelCommand,
    SetParamCommand,
    SetSettingCommand,
)
from nndesk.ui.canvas.editor import CanvasEditor
from nndesk.ui.canvas.layout import layered_positions

pytestmark = pytest.mark.gui


def check_round_trip(doc: Document, stack: QUndoStack, command) -> None:
    """Push, then undo → original, redo → edited, for one command."""
    before = doc.to_dict()
    stack.push(command)
    after = doc.to_dict()
    assert after != before
    stack.undo()
    assert doc.to_dict() == before
    stack.redo()
    assert doc.to_dict() == after


@pytest.fixture
def doc_stack(qapp) -> tuple[Document, QUndoStack]:
    return spiral_classifier(), QUndoStack()


def test_add_node(doc_stack) -> None:
    doc, stack = doc_stack
    command = AddNodeCommand(doc, "Dropout", {"rate": 0.5}, (10.0, 20.0), "drop")
    check_round_trip(doc, stack, command)
    assert command.node_id == "dropout_1"
    assert doc.node("dropout_1").label == "drop"
    assert command.text() == "Add Dropout"


def test_remove_nodes_restores_edge_order(doc_stack) -> None:
    doc, stack = doc_stack
    check_round_trip(doc, stack, RemoveNodesCommand(doc, ["dense_2", "dense_1"]))
    assert len(doc) == 3


def test_connect_and_disconnect(doc_stack) -> None:
    doc, stack = doc_stack
    edge = Edge("dense_1", "out", "dense_2", "in")
    check_round_trip(doc, stack, DisconnectCommand(doc, edge))
    assert not doc.has_edge(edge)
    check_round_trip(doc, stack, ConnectCommand(doc, edge, index=1))
    assert doc.edge_index(edge) == 1


def test_move_set_param_label_setting(doc_stack) -> None:
    doc, stack = doc_stack
    moves = {"dense_1": (doc.node("dense_1").pos, (5.0, 6.0))}
    check_round_trip(doc, stack, MoveNodesCommand(doc, moves))
    check_round_trip(doc, stack, SetParamCommand(doc, "dense_1", "units", 3))
    check_round_trip(doc, stack, SetLabelCommand(doc, "dense_1", "first"))
    check_round_trip(doc, stack, SetSettingCommand(doc, "epochs", 7))


def test_paste_redo_restores_the_same_ids(doc_stack) -> None:
    doc, stack = doc_stack
    data = doc.subgraph_dict(["dense_1", "dense_2"])
    command = PasteCommand(doc, data, (0.0, 100.0))
    check_round_trip(doc, stack, command)
    assert command.node_ids == ["dense_4", "dense_5"]
    assert doc.has_edge(Edge("dense_4", "out", "dense_5", "in"))


def test_macro_undoes_in_reverse(doc_stack) -> None:
    doc, stack = doc_stack
    edge = Edge("dense_1", "out", "dense_2", "in")
    macro = MacroCommand("Insert Dropout")
    macro.add(DisconnectCommand(doc, edge))
    macro.add(AddNodeCommand(doc, "Dropout", node_id="dropout_1"))
    macro.add(ConnectCommand(doc, Edge("dense_1", "out", "dropout_1", "in")))
    macro.add(ConnectCommand(doc, Edge("dropout_1", "out", "dense_2", "in"), index=1))
    check_round_trip(doc, stack, macro)
    assert stack.count() == 1


def test_consecutive_param_edits_merge(doc_stack) -> None:
    doc, stack = doc_stack
    for units in (9, 10, 11):
        stack.push(SetParamCommand(doc, "dense_1", "units", units))
    assert stack.count() == 1
    stack.undo()
    assert doc.node("dense_1").params["units"] == 8
    stack.push(SetParamCommand(doc, "dense_1", "units", 9))
    stack.push(SetParamCommand(doc, "dense_2", "units", 9))
    assert stack.count() == 2  # another node: a step of its own


def test_only_mergeable_moves_merge(doc_stack) -> None:
    doc, stack = doc_stack
    x, y = doc.node("dense_1").pos
    stack.push(MoveNodesCommand(doc, {"dense_1": ((x, y), (x + 1, y))}, mergeable=True))
    stack.push(
        MoveNodesCommand(doc, {"dense_1": ((x + 1, y), (x + 2, y))}, mergeable=True)
    )
    stack.push(MoveNodesCommand(doc, {"dense_1": ((x + 2, y), (x + 3, y))}))
    assert stack.count() == 2
    stack.undo()
    stack.undo()
    assert doc.node("dense_1").pos == (x, y)


def test_layout_places_every_node_by_depth(qapp) -> None:
    doc = EXAMPLES["residual"].build()
    positions = layered_positions(doc, 100.0, 50.0, (0.0, 0.0))
    assert set(positions) == set(doc.node_ids)
    for edge in doc.edges:
        assert positions[edge.src_node][0] < positions[edge.dst_node][0]
    assert len(set(positions.values())) == len(positions)  # no two on one spot


# -- random editing sessions ----------------------------------------------------

TYPES = sorted(REGISTRY)

actions = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.sampled_from(TYPES)),
        st.tuples(st.just("connect"), st.integers(0, 50), st.integers(0, 50)),
        st.tuples(st.just("delete"), st.integers(0, 50)),
        st.tuples(st.just("move"), st.integers(0, 50)),
        st.tuples(st.just("units"), st.integers(0, 50), st.integers(1, 64)),
        st.tuples(st.just("duplicate"), st.integers(0, 50)),
        st.tuples(
            st.just("layout"),
        ),
    ),
    min_size=1,
    max_size=12,
)


def apply(editor: CanvasEditor, action: tuple) -> None:
    doc = editor.document
    assert doc is not None
    ids = list(doc.node_ids)
    kind = action[0]
    if kind == "add":
        editor.add_node(action[1], QPointF(len(ids) * 40.0, 0.0))
        return
    if not ids:
        return
    if kind == "connect":
        src, dst = ids[action[1] % len(ids)], ids[action[2] % len(ids)]
        outs, ins = doc.output_ports(src), doc.input_ports(dst)
        if outs and ins:
            editor.connect_edge(Edge(src, outs[0].name, dst, ins[0].name))
    elif kind == "delete":
        editor.scene.select_nodes([ids[action[1] % len(ids)]])
        editor.delete_selection()
    elif kind == "move":
        node_id = ids[action[1] % len(ids)]
        x, y = doc.node(node_id).pos
        editor.move_nodes({node_id: ((x, y), (x + 7.0, y - 3.0))})
    elif kind == "units":
        dense = [n for n in ids if doc.node(n).type_name == "Dense"]
        if dense:
            editor.set_param(dense[action[1] % len(dense)], "units", action[2])
    elif kind == "duplicate":
        editor.scene.select_nodes([ids[action[1] % len(ids)]])
        editor.duplicate_selection()
    elif kind == "layout":
        editor.auto_layout()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(actions)
def test_random_edits_undo_to_the_start_and_redo_to_the_end(qapp, steps) -> None:
    stack = QUndoStack()
    editor = CanvasEditor(stack)
    editor.set_document(spiral_classifier())
    doc = editor.document
    assert doc is not None
    start = doc.to_dict()
    for step in steps:
        apply(editor, step)
        # The scene always mirrors the document.
        assert [i.node_id for i in editor.scene.node_items()] == list(doc.node_ids)
        assert {i.edge for i in editor.scene.edge_items()} == set(doc.edges)
    end = doc.to_dict()
    while stack.canUndo():
        stack.undo()
    assert doc.to_dict() == start
    while stack.canRedo():
        stack.redo()
    assert doc.to_dict() == end
    assert {i.edge for i in editor.scene.edge_items()} == set(doc.edges)
    editor.set_document(None)
    editor.view.deleteLater()
