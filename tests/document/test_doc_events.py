"""The pure-Python emitter: order, weak references, errors, blocking."""

from __future__ import annotations

import gc

import pytest

from nndesk.document.events import DocumentEvents, NodeMoved, Signal


class View:
    def __init__(self) -> None:
        self.seen: list[object] = []

    def on_event(self, event: object) -> None:
        self.seen.append(event)


def test_subscribers_are_called_in_connection_order() -> None:
    sig = Signal("x")
    calls: list[str] = []
    sig.connect(lambda e: calls.append(f"a{e}"))
    sig.connect(lambda e: calls.append(f"b{e}"))
    sig.emit(1)
    assert calls == ["a1", "b1"]


def test_connect_twice_calls_once_and_disconnect_reports() -> None:
    sig = Signal("x")
    calls: list[object] = []

    def cb(e: object) -> None:
        calls.append(e)

    assert sig.connect(cb) is cb
    sig.connect(cb)
    sig.emit(0)
    assert calls == [0]
    assert sig.disconnect(cb) is True
    assert sig.disconnect(cb) is False
    sig.emit(1)
    assert calls == [0]


def test_bound_methods_are_weak() -> None:
    sig = Signal("x")
    view = View()
    sig.connect(view.on_event)
    sig.emit("a")
    assert view.seen == ["a"]
    assert len(sig) == 1
    del view
    gc.collect()
    assert len(sig) == 0
    sig.emit("b")  # must not fail on the dead reference


def test_bound_method_disconnect() -> None:
    sig = Signal("x")
    view = View()
    sig.connect(view.on_event)
    assert sig.disconnect(view.on_event)
    sig.emit(1)
    assert view.seen == []


def test_lambdas_are_kept_alive() -> None:
    sig = Signal("x")
    seen: list[object] = []
    sig.connect(lambda e: seen.append(e))
    gc.collect()
    sig.emit(3)
    assert seen == [3]


def test_a_failing_subscriber_does_not_starve_the_others() -> None:
    sig = Signal("x")
    seen: list[object] = []

    def bad(e: object) -> None:
        raise RuntimeError("boom")

    sig.connect(bad)
    sig.connect(seen.append)
    with pytest.raises(RuntimeError, match="boom"):
        sig.emit(7)
    assert seen == [7]


def test_connect_refuses_non_callables() -> None:
    with pytest.raises(TypeError, match="callable"):
        Signal("x").connect(42)  # type: ignore[arg-type]


def test_blocked_nests() -> None:
    sig = Signal("x")
    seen: list[object] = []
    sig.connect(seen.append)
    with sig.blocked():
        with sig.blocked():
            sig.emit(1)
        sig.emit(2)
    sig.emit(3)
    assert seen == [3]


def test_document_events_route_to_changed_after_the_specific_signal() -> None:
    events = DocumentEvents()
    order: list[str] = []
    events.node_moved.connect(lambda e: order.append("node_moved"))
    events.changed.connect(lambda e: order.append("changed"))
    events.node_added.connect(lambda e: order.append("node_added"))
    ev = NodeMoved("n", (0.0, 0.0), (1.0, 1.0))
    events.emit(ev)
    assert order == ["node_moved", "changed"]
    with events.blocked():
        events.emit(ev)
    assert order == ["node_moved", "changed"]


def test_every_event_kind_has_a_signal() -> None:
    events = DocumentEvents()
    names = [s.name for s in events.signals()]
    assert names[-1] == "changed"
    assert len(set(names)) == len(names) == 12  # group_changed, note_changed
