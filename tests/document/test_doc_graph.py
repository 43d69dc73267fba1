"""Document mutations: state change, exactly one event, and undo/redo from the returns."""

from __future__ import annotations

import copy
import json

import pytest
from conftest import EventLog, make_chain

from nndesk.document import (
    ConnectionRefused,
    Document,
    DocumentError,
    Edge,
    EdgeNotFoundError,
    NodeNotFoundError,
    ParamError,
    SchemaError,
    UnknownNodeTypeError,
)
from nndesk.document.events import (
    EdgeAdded,
    EdgeRemoved,
    LabelChanged,
    NodeAdded,
    NodeMoved,
    NodeRemoved,
    ParamChanged,
    SettingsChanged,
)


def one_event(log: EventLog, kind: str):
    """The single event of ``kind`` the last mutation sent (also seen on changed)."""
    assert log.names() == [kind, "changed"]
    (name, event), (_, again) = log.calls
    assert event is again
    assert event.kind == kind
    log.clear()
    return event


# --- add / remove / restore -------------------------------------------------------------


def test_add_node_fills_defaults_and_emits_once() -> None:
    doc = Document()
    log = EventLog(doc.events)
    node_id = doc.add_node("Dense", {"units": 4}, pos=(10, 20), label="hidden")
    assert node_id == "dense_1"
    node = doc.node(node_id)
    assert node.params["units"] == 4
    assert node.params["activation"] == doc.spec(node_id).param("activation").default
    assert node.pos == (10.0, 20.0)
    assert node.label == "hidden"
    event = one_event(log, "node_added")
    assert isinstance(event, NodeAdded)
    assert event.node == node and event.index == 0 and event.edges == ()


def test_add_node_undo_and_redo() -> None:
    doc = make_chain()
    before = doc.copy()
    node_id = doc.add_node("Dropout", {"rate": 0.3}, pos=(5, 5))
    after = doc.copy()
    doc.remove_node(node_id)
    assert doc == before
    assert (
        doc.add_node("Dropout", {"rate": 0.3}, pos=(5, 5), node_id=node_id) == node_id
    )
    assert doc == after


def test_new_ids_count_per_prefix() -> None:
    doc = Document()
    assert [doc.add_node("Dense") for _ in range(3)] == [
        "dense_1",
        "dense_2",
        "dense_3",
    ]
    assert doc.add_node("ReLU") == "relu_1"
    assert doc.add_node("BatchNorm") == "batchnorm_1"
    doc.remove_node("dense_2")
    assert doc.new_node_id("Dense") == "dense_4"
    doc.remove_node("dense_3")
    assert doc.new_node_id("Dense") == "dense_2"


@pytest.mark.parametrize("bad", ["dense 1", "1dense", "a/b", "", "_x"])
def test_add_node_refuses_malformed_ids(bad: str) -> None:
    doc = Document()
    with pytest.raises(DocumentError, match="is not valid"):
        doc.add_node("Dense", node_id=bad)
    assert len(doc) == 0


def test_add_node_refuses_taken_id_unknown_type_and_bad_params() -> None:
    doc = Document()
    log = EventLog(doc.events)
    doc.add_node("Dense", node_id="d")
    log.clear()
    with pytest.raises(DocumentError, match="Node id 'd' is already in use."):
        doc.add_node("Dense", node_id="d")
    with pytest.raises(UnknownNodeTypeError, match="Unknown node type 'Dense3'"):
        doc.add_node("Dense3")
    with pytest.raises(ParamError, match=r"^Dense 'dense_1': units must be"):
        doc.add_node("Dense", {"units": -1})
    with pytest.raises(ParamError, match="has no parameter 'unit'"):
        doc.add_node("Dense", {"unit": 3})
    with pytest.raises(
        DocumentError, match="Position of 'dense_1' must be two numbers"
    ):
        doc.add_node("Dense", pos=(1, 2, 3))  # type: ignore[arg-type]
    with pytest.raises(DocumentError, match="must be finite"):
        doc.add_node("Dense", pos=(float("nan"), 0))
    with pytest.raises(DocumentError, match="Label of 'dense_1' must be text"):
        doc.add_node("Dense", label=3)  # type: ignore[arg-type]
    assert doc.node_ids == ("d",)
    assert log.calls == []


def test_remove_node_takes_its_edges_and_restore_puts_all_back(merge: Document) -> None:
    original = merge.copy()
    log = EventLog(merge.events)
    removed = merge.remove_node("dense_1")  # the first input of the concatenation
    assert "dense_1" not in merge
    assert all("dense_1" not in (e.src_node, e.dst_node) for e in merge.edges)
    event = one_event(log, "node_removed")
    assert isinstance(event, NodeRemoved)
    assert event.node == original.node("dense_1")
    assert event.index == 1
    assert event.edges == (
        Edge("input_1", "out", "dense_1", "in"),
        Edge("dense_1", "out", "concatenate_1", "in"),
    )
    assert [i for i, _ in removed.edges] == [0, 2]

    assert merge.restore_node(removed) == "dense_1"
    assert merge == original
    assert merge.node_ids == original.node_ids
    assert merge.edges == original.edges  # the input order of the merge is back
    event = one_event(log, "node_added")
    assert event.edges == tuple(e for _, e in removed.edges)
    assert event.index == 1


def test_restore_refuses_when_a_neighbour_is_gone(chain: Document) -> None:
    removed = chain.remove_node("dense_1")
    chain.remove_node("input_1")
    with pytest.raises(DocumentError, match="neighbour 'input_1' is gone"):
        chain.restore_node(removed)
    assert "dense_1" not in chain


def test_restore_refuses_a_taken_id(chain: Document) -> None:
    removed = chain.remove_node("dense_2")
    chain.add_node("Dense", node_id="dense_2")
    with pytest.raises(DocumentError, match="already in use"):
        chain.restore_node(removed)


def test_unknown_node_is_named() -> None:
    doc = Document()
    for call in (
        lambda: doc.node("ghost"),
        lambda: doc.remove_node("ghost"),
        lambda: doc.set_param("ghost", "units", 3),
        lambda: doc.move_node("ghost", (0, 0)),
        lambda: doc.set_label("ghost", "x"),
        lambda: doc.edges_in("ghost"),
    ):
        with pytest.raises(NodeNotFoundError, match="There is no node 'ghost'."):
            call()


# --- parameters, positions, labels, settings ----------------------------------------------


def test_set_param_round_trip(chain: Document) -> None:
    before = chain.copy()
    log = EventLog(chain.events)
    old = chain.set_param("dense_1", "units", 32)
    assert old == 8
    assert chain.node("dense_1").params["units"] == 32
    event = one_event(log, "param_changed")
    assert event == ParamChanged("dense_1", "units", 8, 32)
    chain.set_param("dense_1", "units", old)
    assert chain == before
    one_event(log, "param_changed")


def test_set_param_with_the_same_value_changes_nothing(chain: Document) -> None:
    log = EventLog(chain.events)
    record = chain.node("dense_1")
    assert chain.set_param("dense_1", "units", 8) == 8
    assert chain.set_param("dense_1", "units", 8.0) == 8  # canonicalised to int 8
    assert log.calls == []
    assert chain.node("dense_1") is record


def test_set_param_refuses_bad_values_without_change(chain: Document) -> None:
    before = chain.copy()
    log = EventLog(chain.events)
    with pytest.raises(ParamError, match=r"^Dense 'dense_1': units must be an integer"):
        chain.set_param("dense_1", "units", 0)
    with pytest.raises(ParamError, match=r"activation must be one of"):
        chain.set_param("dense_1", "activation", "swishy")
    with pytest.raises(ParamError, match=r"Dense 'dense_1' has no parameter 'size'"):
        chain.set_param("dense_1", "size", 3)
    with pytest.raises(
        ParamError, match=r"ReLU 'relu_1' has no parameter 'alpha' \(it has: none\)"
    ):
        chain.add_node("ReLU")
        log.clear()
        chain.set_param("relu_1", "alpha", 0.1)
    chain.remove_node("relu_1")
    assert chain == before


def test_param_records_are_read_only(chain: Document) -> None:
    with pytest.raises(TypeError):
        chain.node("dense_1").params["units"] = 3  # type: ignore[index]
    with pytest.raises(AttributeError):
        chain.node("dense_1").pos = (1.0, 1.0)  # type: ignore[misc]


def test_move_node_round_trip(chain: Document) -> None:
    log = EventLog(chain.events)
    old = chain.move_node("dense_2", (50, -7.5))
    assert old == (400.0, 0.0)
    assert chain.node("dense_2").pos == (50.0, -7.5)
    assert one_event(log, "node_moved") == NodeMoved(
        "dense_2", (400.0, 0.0), (50.0, -7.5)
    )
    assert chain.move_node("dense_2", (50.0, -7.5)) == (50.0, -7.5)
    assert log.calls == []
    chain.move_node("dense_2", old)
    assert chain == make_chain()


def test_move_keeps_the_node_order(chain: Document) -> None:
    order = chain.node_ids
    chain.move_node("input_1", (999, 999))
    assert chain.node_ids == order


def test_set_label_round_trip(chain: Document) -> None:
    log = EventLog(chain.events)
    assert chain.set_label("dense_1", "encoder") is None
    assert one_event(log, "label_changed") == LabelChanged("dense_1", None, "encoder")
    assert chain.set_label("dense_1", "") == "encoder"  # "" clears
    assert chain.node("dense_1").label is None
    one_event(log, "label_changed")
    assert chain.set_label("dense_1", None) is None
    assert log.calls == []
    assert chain == make_chain()


def test_set_setting_round_trip(chain: Document) -> None:
    log = EventLog(chain.events)
    old = chain.set_setting("learning_rate", 0.05)
    assert old == 0.001
    assert chain.settings["learning_rate"] == 0.05
    assert one_event(log, "settings_changed") == SettingsChanged(
        "learning_rate", 0.001, 0.05
    )
    chain.set_setting("learning_rate", 0.05)
    assert log.calls == []
    chain.set_setting("learning_rate", old)
    assert chain == make_chain()
    chain.set_setting("metrics", ["accuracy"])
    assert chain.settings["metrics"] == ("accuracy",)


def test_set_setting_refuses_unknown_names_and_bad_values(chain: Document) -> None:
    with pytest.raises(
        ParamError, match=r"There is no setting 'lr'; the settings are: "
    ):
        chain.set_setting("lr", 0.1)
    with pytest.raises(
        ParamError, match=r"^Settings: batch_size must be an integer ≥ 1"
    ):
        chain.set_setting("batch_size", 0)
    with pytest.raises(ParamError, match=r"optimizer must be one of sgd"):
        chain.set_setting("optimizer", "lbfgs")
    with pytest.raises(TypeError):
        chain.settings["epochs"] = 3  # type: ignore[index]
    assert chain == make_chain()


def test_document_settings_argument_is_validated() -> None:
    assert Document({"epochs": 3}).settings["epochs"] == 3
    with pytest.raises(ParamError, match="epochs"):
        Document({"epochs": -3})


# --- edges -------------------------------------------------------------------------------


def test_connect_and_disconnect_round_trip(chain: Document) -> None:
    chain.add_node("Dense", node_id="extra")
    before = chain.copy()
    log = EventLog(chain.events)
    edge = chain.connect("input_1", "out", "extra", "in")
    assert edge == Edge("input_1", "out", "extra", "in")
    assert chain.edges[-1] == edge
    assert one_event(log, "edge_added") == EdgeAdded(edge, 3)
    index = chain.disconnect(edge)
    assert index == 3
    assert one_event(log, "edge_removed") == EdgeRemoved(edge, 3)
    assert chain == before


def test_disconnect_then_reconnect_at_index_restores_merge_order(
    merge: Document,
) -> None:
    original = merge.copy()
    first = merge.edges_in("concatenate_1")[0]
    index = merge.disconnect(first)
    assert merge.predecessors("concatenate_1") == ("dense_2",)
    merge.connect(*first, index=index)
    assert merge == original
    assert merge.predecessors("concatenate_1") == ("dense_1", "dense_2")


def test_disconnect_unknown_edge(chain: Document) -> None:
    ghost = Edge("input_1", "out", "output_1", "in")
    with pytest.raises(
        EdgeNotFoundError, match=r"There is no edge input_1.out -> output_1.in"
    ):
        chain.disconnect(ghost)


def test_connect_index_out_of_range(chain: Document) -> None:
    chain.add_node("Dense", node_id="extra")
    with pytest.raises(DocumentError, match="Edge position 9 is outside 0..3"):
        chain.connect("input_1", "out", "extra", "in", index=9)
    assert chain.edges_in("extra") == ()


@pytest.mark.parametrize(
    ("edge", "reason"),
    [
        (("ghost", "out", "dense_1", "in"), "There is no node 'ghost'."),
        (("input_1", "out", "ghost", "in"), "There is no node 'ghost'."),
        (("input_1", "y", "free", "in"), "Input 'input_1' has no output port 'y'."),
        (("output_1", "out", "free", "in"), "Output 'output_1' has no outputs."),
        (("free", "out", "free", "x"), "Dense 'free' has no input port 'x'."),
        (("free", "out", "input_1", "in"), "Input 'input_1' takes no inputs."),
        (("free", "out", "free", "in"), "Dense 'free' cannot be connected to itself."),
        (
            ("input_1", "out", "dense_1", "in"),
            "Input 'input_1' is already connected to Dense 'dense_1'.",
        ),
        (
            ("free", "out", "dense_1", "in"),
            "Port 'in' of Dense 'dense_1' already has an input: disconnect it first.",
        ),
        (
            ("dense_2", "out", "free", "in"),
            None,
        ),
    ],
)
def test_can_connect_reasons(chain: Document, edge, reason) -> None:
    chain.add_node("Dense", node_id="free")
    assert chain.can_connect(*edge) == reason
    if reason is not None:
        before = chain.copy()
        with pytest.raises(ConnectionRefused) as info:
            chain.connect(*edge)
        assert str(info.value) == reason
        assert chain == before


def test_cycles_are_refused(chain: Document) -> None:
    chain.add_node("Add", node_id="merge")
    chain.connect("dense_1", "out", "merge", "in")
    chain.connect("input_1", "out", "merge", "in")
    chain.disconnect(Edge("dense_1", "out", "dense_2", "in"))
    chain.connect("merge", "out", "dense_2", "in")
    reason = chain.can_connect("dense_2", "out", "merge", "in")
    assert reason == "Connecting Dense 'dense_2' to Add 'merge' would make a cycle."


def test_merge_ports_take_many_inputs_in_order(merge: Document) -> None:
    spec_port = merge.input_ports("concatenate_1")[0]
    assert spec_port.multiple
    assert not merge.input_ports("dense_1")[0].multiple
    merge.add_node("Dense", node_id="third")
    merge.connect("input_1", "out", "third", "in")
    merge.connect("third", "out", "concatenate_1", "in")
    assert merge.predecessors("concatenate_1") == ("dense_1", "dense_2", "third")


def test_free_input_port(chain: Document, merge: Document) -> None:
    assert chain.free_input_port("dense_1") is None
    assert chain.free_input_port("input_1") is None
    chain.add_node("Dense", node_id="new")
    assert chain.free_input_port("new") == "in"
    assert merge.free_input_port("concatenate_1") == "in"


def test_ports_of_each_kind(chain: Document) -> None:
    assert [p.name for p in chain.input_ports("input_1")] == []
    assert [p.name for p in chain.output_ports("input_1")] == ["out"]
    assert [p.name for p in chain.output_ports("output_1")] == []
    assert chain.edges_out("input_1") == (Edge("input_1", "out", "dense_1", "in"),)
    assert chain.edges_in("dense_1", "in") == chain.edges_in("dense_1")
    assert chain.edges_in("dense_1", "other") == ()
    assert chain.successors("input_1") == ("dense_1",)


# --- queries ------------------------------------------------------------------------------


def test_topological_order_is_deterministic(merge: Document) -> None:
    assert merge.topological_order() == [
        "input_1",
        "dense_1",
        "dense_2",
        "concatenate_1",
        "dense_3",
        "output_1",
    ]


def test_topological_order_follows_edges_not_insertion() -> None:
    doc = Document()
    out = doc.add_node("Output")
    d = doc.add_node("Dense")
    x = doc.add_node("Input")
    doc.connect(d, "out", out, "in")
    doc.connect(x, "out", d, "in")
    assert doc.topological_order() == [x, d, out]


def test_equality_compares_content_not_identity(chain: Document) -> None:
    other = make_chain()
    assert chain == other and chain is not other
    other.set_label("dense_1", "x")
    assert chain != other
    assert chain != "not a document"
    with pytest.raises(TypeError):
        hash(chain)


def test_copy_is_independent_and_has_no_subscribers(chain: Document) -> None:
    seen: list[object] = []
    chain.events.changed.connect(seen.append)
    dup = chain.copy()
    assert dup == chain
    dup.set_param("dense_1", "units", 99)
    dup.remove_node("output_1")
    assert chain == make_chain()
    assert seen == []
    assert copy.deepcopy(chain) == chain


def test_snapshot_is_frozen_while_the_document_changes(chain: Document) -> None:
    snap = chain.snapshot()
    data = snap.to_dict()
    chain.set_param("dense_1", "units", 64)
    chain.remove_node("dense_2")
    chain.set_setting("epochs", 7)
    assert snap.to_dict() == data
    assert snap.node("dense_1").params["units"] == 8
    assert snap.topological_order()[-1] == "output_1"
    assert not hasattr(snap, "add_node")
    assert snap.to_document() == make_chain()


def test_subgraph_and_paste_keep_internal_edges_with_new_ids(chain: Document) -> None:
    data = chain.subgraph_dict(["dense_2", "dense_1"])
    assert [n["id"] for n in data["nodes"]] == ["dense_1", "dense_2"]
    assert data["edges"] == [
        {
            "src_node": "dense_1",
            "src_port": "out",
            "dst_node": "dense_2",
            "dst_port": "in",
        }
    ]
    assert "settings" not in data
    text = json.dumps(data)  # the clipboard carries JSON text

    log = EventLog(chain.events)
    new_ids = chain.paste_dict(json.loads(text), offset=(30, 40))
    assert new_ids == ["dense_3", "dense_4"]
    assert log.names() == ["node_added", "changed"] * 2 + ["edge_added", "changed"]
    assert chain.edges[-1] == Edge("dense_3", "out", "dense_4", "in")
    assert chain.node("dense_3").pos == (230.0, 40.0)
    assert chain.node("dense_4").params == chain.node("dense_2").params
    for node_id in reversed(new_ids):  # undo of a paste
        chain.remove_node(node_id)
    assert chain == make_chain()


def test_paste_of_bad_clipboard_changes_nothing(chain: Document) -> None:
    data = chain.subgraph_dict(["dense_1", "dense_2"])
    data["edges"].append(
        {"src_node": "dense_2", "src_port": "out", "dst_node": "zzz", "dst_port": "in"}
    )
    log = EventLog(chain.events)
    with pytest.raises(
        SchemaError, match="clipboard: edge 1 refers to missing node 'zzz'."
    ):
        chain.paste_dict(data)
    assert log.calls == []
    assert chain == make_chain()


def test_subgraph_of_unknown_node(chain: Document) -> None:
    with pytest.raises(NodeNotFoundError):
        chain.subgraph_dict(["nope"])


def test_node_title_and_repr(chain: Document) -> None:
    assert chain.node("dense_1").title == "Dense 'dense_1'"
    assert repr(chain) == "<Document 4 nodes, 3 edges>"
    assert str(chain.edges[0]) == "input_1.out -> dense_1.in"


def test_deepcopy_leaves_subscribers_behind(chain: Document) -> None:
    seen: list[object] = []
    chain.events.changed.connect(seen.append)
    dup = copy.deepcopy(chain)
    assert dup == chain
    dup.set_label("dense_1", "x")
    assert seen == []
    assert len(dup.events.changed) == 0
