"""Hypothesis: random graphs round-trip through JSON; random edits undo and redo exactly."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from conftest import EventLog, make_merge
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nndesk.document import (
    REGISTRY,
    SETTINGS,
    Document,
    ParamSpec,
    infer_shapes,
    validate,
)

TYPES = sorted(REGISTRY)
FAST = settings(
    max_examples=int(os.environ.get("NNDESK_HYPOTHESIS_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def values(p: ParamSpec) -> st.SearchStrategy[Any]:
    """Valid values of one parameter (ranges kept small where sizes would grow)."""
    if p.kind == "int":
        lo = int(p.min) if p.min is not None else -4
        hi = int(p.max) if p.max is not None else 64
        base: st.SearchStrategy[Any] = st.integers(lo, min(hi, lo + 40))
    elif p.kind == "float":
        base = st.floats(
            min_value=p.min if p.min is not None else -1e3,
            max_value=p.max if p.max is not None else 1e3,
            exclude_min=not p.min_inclusive and p.min is not None,
            exclude_max=not p.max_inclusive and p.max is not None,
            allow_nan=False,
        )
    elif p.kind == "bool":
        base = st.booleans()
    elif p.kind == "choice":
        base = st.sampled_from(p.choices)
    elif p.kind == "multichoice":
        base = st.lists(st.sampled_from(p.choices), unique=True, max_size=3).map(tuple)
    elif p.kind == "shape":
        dims = st.lists(st.integers(1, 6), min_size=1, max_size=3)
        if p.wildcard:
            dims = dims.flatmap(
                lambda d: st.integers(0, len(d)).map(
                    lambda i: [(-1 if j == i else v) for j, v in enumerate(d)]
                )
            )
        base = dims.map(tuple)
    else:
        base = st.text(max_size=12)
    if p.optional:
        base = st.none() | base
    return base.filter(p.is_valid)


def params_for(type_name: str) -> st.SearchStrategy[dict[str, Any]]:
    specs = REGISTRY[type_name].params
    return st.fixed_dictionaries({}, optional={p.name: values(p) for p in specs})


positions = st.tuples(
    st.floats(-1e5, 1e5, allow_nan=False), st.floats(-1e5, 1e5, allow_nan=False)
)
labels = st.none() | st.text(max_size=10)


def connectable(doc: Document) -> list[tuple[str, str, str, str]]:
    return [
        (s.id, sp.name, d.id, dp.name)
        for s in doc.nodes
        for sp in s.spec.outputs
        for d in doc.nodes
        for dp in d.spec.inputs
        if doc.can_connect(s.id, sp.name, d.id, dp.name) is None
    ]


def random_document(data: st.DataObject, steps: int) -> Document:
    doc = Document()
    for _ in range(steps):
        candidates = connectable(doc)
        if candidates and data.draw(st.booleans()):
            doc.connect(*data.draw(st.sampled_from(candidates)))
        else:
            t = data.draw(st.sampled_from(TYPES))
            doc.add_node(
                t, data.draw(params_for(t)), data.draw(positions), data.draw(labels)
            )
    for spec in data.draw(st.lists(st.sampled_from(SETTINGS), max_size=4)):
        doc.set_setting(spec.name, data.draw(values(spec)))
    return doc


@FAST
@given(st.data())
def test_random_graphs_round_trip_through_json(data: st.DataObject) -> None:
    doc = random_document(data, data.draw(st.integers(0, 14)))
    text = json.dumps(doc.to_dict(), allow_nan=False)
    again = Document.from_dict(json.loads(text))
    assert again == doc
    assert again.to_dict() == doc.to_dict()
    # whatever the graph, inference and validation answer instead of raising
    report = infer_shapes(again)
    assert set(report.nodes) == set(doc.node_ids)
    for problem in validate(again, shapes=report):
        assert problem.message.endswith(".")
    order = doc.topological_order()  # never raises: a Document has no cycle
    for e in doc.edges:
        assert order.index(e.src_node) < order.index(e.dst_node)


@FAST
@given(st.data())
def test_random_subgraphs_paste_with_internal_edges(data: st.DataObject) -> None:
    doc = random_document(data, data.draw(st.integers(1, 10)))
    chosen = data.draw(st.lists(st.sampled_from(doc.node_ids), unique=True, min_size=1))
    clip = json.loads(json.dumps(doc.subgraph_dict(chosen)))
    before = doc.copy()
    new_ids = doc.paste_dict(clip, offset=(10, 10))
    assert len(new_ids) == len(chosen)
    assert not set(new_ids) & set(before.node_ids)
    internal = [
        e for e in before.edges if e.src_node in chosen and e.dst_node in chosen
    ]
    assert len(doc.edges) == len(before.edges) + len(internal)
    for node_id in reversed(new_ids):
        doc.remove_node(node_id)
    assert doc == before


Command = tuple[Callable[[], object], Callable[[], object]]  # (undo, redo)


def random_edit(doc: Document, data: st.DataObject) -> Command | None:
    """Apply one random mutation; return its undo and redo as document calls."""
    kinds = ["add", "setting"]
    if len(doc):
        kinds += ["remove", "param", "move", "label"]
    if doc.edges:
        kinds.append("disconnect")
    candidates = connectable(doc)
    if candidates:
        kinds.append("connect")
    kind = data.draw(st.sampled_from(kinds))
    if kind == "add":
        t = data.draw(st.sampled_from(TYPES))
        args = (t, data.draw(params_for(t)), data.draw(positions), data.draw(labels))
        node_id = doc.add_node(*args)
        return (
            lambda: doc.remove_node(node_id),
            lambda: doc.add_node(*args, node_id=node_id),
        )
    if kind == "setting":
        spec = data.draw(st.sampled_from(SETTINGS))
        value = data.draw(values(spec))
        old = doc.set_setting(spec.name, value)
        return (
            lambda: doc.set_setting(spec.name, old),
            lambda: doc.set_setting(spec.name, value),
        )
    if kind == "connect":
        edge = doc.connect(*data.draw(st.sampled_from(candidates)))
        return (lambda: doc.disconnect(edge), lambda: doc.connect(*edge))
    if kind == "disconnect":
        edge = data.draw(st.sampled_from(doc.edges))
        index = doc.disconnect(edge)
        return (lambda: doc.connect(*edge, index=index), lambda: doc.disconnect(edge))
    node_id = data.draw(st.sampled_from(doc.node_ids))
    if kind == "remove":
        removed = doc.remove_node(node_id)
        return (lambda: doc.restore_node(removed), lambda: doc.remove_node(node_id))
    if kind == "move":
        pos = data.draw(positions)
        old_pos = doc.move_node(node_id, pos)
        return (
            lambda: doc.move_node(node_id, old_pos),
            lambda: doc.move_node(node_id, pos),
        )
    if kind == "label":
        label = data.draw(labels)
        old_label = doc.set_label(node_id, label)
        return (
            lambda: doc.set_label(node_id, old_label),
            lambda: doc.set_label(node_id, label),
        )
    spec = doc.spec(node_id)
    if not spec.params:
        return None
    p = data.draw(st.sampled_from(spec.params))
    value = data.draw(values(p))
    old_value = doc.set_param(node_id, p.name, value)
    return (
        lambda: doc.set_param(node_id, p.name, old_value),
        lambda: doc.set_param(node_id, p.name, value),
    )


def assert_index_consistent(doc: Document) -> None:
    """The cached per-node edge lists agree with the edge list itself."""
    for n in doc.node_ids:
        assert doc.edges_in(n) == tuple(e for e in doc.edges if e.dst_node == n)
        assert doc.edges_out(n) == tuple(e for e in doc.edges if e.src_node == n)


@FAST
@given(st.data())
def test_random_edits_undo_and_redo_exactly(data: st.DataObject) -> None:
    doc = make_merge()
    original = doc.copy()
    log = EventLog(doc.events)
    commands: list[Command] = []
    states = [doc.to_dict()]
    for _ in range(data.draw(st.integers(1, 12))):
        before = doc.copy()
        command = random_edit(doc, data)
        specific = log.specific()
        # exactly one event when something changed, none otherwise
        assert len(specific) == (0 if doc == before else 1)
        assert len(log.calls) == 2 * len(specific)
        log.clear()
        assert_index_consistent(doc)
        if command is not None:
            commands.append(command)
            states.append(doc.to_dict())
    final = doc.copy()
    for i, (undo, _) in enumerate(reversed(commands)):
        undo()
        assert doc.to_dict() == states[len(commands) - 1 - i]
        assert_index_consistent(doc)
    assert doc == original
    for _, redo in commands:
        redo()
        assert_index_consistent(doc)
    assert doc == final
