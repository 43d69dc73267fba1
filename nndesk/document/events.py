"""A tiny pure-Python event emitter and the events a Document sends.

Each document mutation sends exactly one event object on its own signal
(``doc.events.node_added``, ...) and the same object on ``doc.events.changed``, so a
view can listen to the precise events and a window can listen to ``changed`` alone to
mark the document modified.

Subscribers are plain callables taking the event object. Bound methods are held
through weak references, so a view that is deleted stops receiving without an
explicit disconnect; functions and lambdas are held strongly and stay connected until
``disconnect`` is called. Qt objects whose C++ side is deleted while the Python
wrapper lives on must still disconnect explicitly.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from .graph import Edge, Node
    from .groups import Group, Note
    from .painted import PaintedPoints

log = logging.getLogger(__name__)

Callback = Callable[[Any], object]


class Signal:
    """One kind of event with its subscribers, called in connection order.

    Parameters
    ----------
    name : str
        The event name, as in ``doc.events.<name>``; used in log messages.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._slots: list[weakref.WeakMethod[Callback] | Callback] = []
        self._blocked = 0

    def connect(self, callback: Callback) -> Callback:
        """Subscribe ``callback(event)``; returns it, so it works as a decorator.

        Connecting the same callable twice has no effect.
        """
        if not callable(callback):
            raise TypeError(f"event '{self.name}' needs a callable, got {callback!r}")
        if self._index(callback) is None:
            self._slots.append(_reference(callback))
        return callback

    def disconnect(self, callback: Callback) -> bool:
        """Unsubscribe ``callback``; returns whether it was connected."""
        i = self._index(callback)
        if i is None:
            return False
        del self._slots[i]
        return True

    def emit(self, event: object) -> None:
        """Call every live subscriber with ``event``.

        A subscriber that raises does not stop the others: the first exception is
        re-raised once all have run, so one broken view cannot leave the rest stale.
        """
        if self._blocked:
            return
        first_error: BaseException | None = None
        for callback in self._live():
            try:
                callback(event)
            except Exception as exc:
                log.exception("subscriber of '%s' failed", self.name)
                if first_error is None:
                    first_error = exc
        if first_error is not None:
            raise first_error

    @contextmanager
    def blocked(self) -> Iterator[None]:
        """Context in which ``emit`` calls nobody (nests)."""
        self._blocked += 1
        try:
            yield
        finally:
            self._blocked -= 1

    def __len__(self) -> int:
        """Number of live subscribers."""
        return len(self._live())

    def _live(self) -> list[Callback]:
        callbacks: list[Callback] = []
        dead = False
        for slot in self._slots:
            cb = slot() if isinstance(slot, weakref.WeakMethod) else slot
            if cb is None:
                dead = True
            else:
                callbacks.append(cb)
        if dead:
            self._slots = [
                s
                for s in self._slots
                if not (isinstance(s, weakref.WeakMethod) and s() is None)
            ]
        return callbacks

    def _index(self, callback: Callback) -> int | None:
        for i, slot in enumerate(self._slots):
            cb = slot() if isinstance(slot, weakref.WeakMethod) else slot
            if cb is not None and cb == callback:
                return i
        return None

    def __repr__(self) -> str:
        return f"<Signal {self.name!r} ({len(self)} subscribers)>"


def _reference(callback: Callback) -> weakref.WeakMethod[Callback] | Callback:
    # A bound method object is created afresh at each attribute access, so a plain
    # weakref to it would die at once; WeakMethod tracks the instance instead.
    if hasattr(callback, "__self__") and hasattr(callback, "__func__"):
        try:
            return weakref.WeakMethod(callback)  # type: ignore[arg-type]
        except TypeError:  # an instance that does not support weak references
            return callback
    return callback


# --- event objects ------------------------------------------------------------------


@dataclass(frozen=True)
class NodeAdded:
    """A node entered the document (``add_node``, ``restore_node``, ``paste_dict``).

    ``edges`` holds the edges that came back with it (``restore_node`` only), in
    document order; a view adds the node first, then these edges.
    """

    kind: ClassVar[str] = "node_added"
    node: Node
    index: int
    edges: tuple[Edge, ...] = ()


@dataclass(frozen=True)
class NodeRemoved:
    """A node left the document together with every edge that touched it."""

    kind: ClassVar[str] = "node_removed"
    node: Node
    index: int
    edges: tuple[Edge, ...] = ()


@dataclass(frozen=True)
class EdgeAdded:
    """An edge was added at position ``index`` of the document's edge list."""

    kind: ClassVar[str] = "edge_added"
    edge: Edge
    index: int


@dataclass(frozen=True)
class EdgeRemoved:
    """An edge was removed from position ``index`` of the edge list."""

    kind: ClassVar[str] = "edge_removed"
    edge: Edge
    index: int


@dataclass(frozen=True)
class ParamChanged:
    """A node parameter changed from ``old`` to ``new``."""

    kind: ClassVar[str] = "param_changed"
    node_id: str
    name: str
    old: Any
    new: Any


@dataclass(frozen=True)
class NodeMoved:
    """A node's canvas position changed."""

    kind: ClassVar[str] = "node_moved"
    node_id: str
    old: tuple[float, float]
    new: tuple[float, float]


@dataclass(frozen=True)
class LabelChanged:
    """A node's label changed (``None`` means no label)."""

    kind: ClassVar[str] = "label_changed"
    node_id: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class SettingsChanged:
    """A network-level setting changed."""

    kind: ClassVar[str] = "settings_changed"
    name: str
    old: Any
    new: Any


@dataclass(frozen=True)
class PaintedChanged:
    """The painted 2-D data (``Document.painted``) was replaced by ``new``."""

    kind: ClassVar[str] = "painted_changed"
    old: PaintedPoints
    new: PaintedPoints


@dataclass(frozen=True)
class GroupChanged:
    """A group was added (``old`` None), changed, or removed (``new`` None)."""

    kind: ClassVar[str] = "group_changed"
    group_id: str
    old: Group | None
    new: Group | None


@dataclass(frozen=True)
class NoteChanged:
    """A canvas note was added (``old`` None), changed, or removed (``new`` None)."""

    kind: ClassVar[str] = "note_changed"
    note_id: str
    old: Note | None
    new: Note | None


DocumentEvent = (
    NodeAdded
    | NodeRemoved
    | EdgeAdded
    | EdgeRemoved
    | ParamChanged
    | NodeMoved
    | LabelChanged
    | SettingsChanged
    | PaintedChanged
    | GroupChanged
    | NoteChanged
)

EVENT_TYPES: tuple[type, ...] = (
    NodeAdded,
    NodeRemoved,
    EdgeAdded,
    EdgeRemoved,
    ParamChanged,
    NodeMoved,
    LabelChanged,
    SettingsChanged,
    PaintedChanged,
    GroupChanged,
    NoteChanged,
)


class DocumentEvents:
    """The signals of one document: one per event kind plus ``changed``.

    Attributes
    ----------
    node_added, node_removed, edge_added, edge_removed, param_changed, node_moved,
    label_changed, settings_changed, painted_changed, group_changed,
    note_changed : Signal
        One per mutation kind; each receives the matching event object.
    changed : Signal
        Receives every event, after the specific signal's subscribers ran.
    """

    def __init__(self) -> None:
        self.node_added = Signal("node_added")
        self.node_removed = Signal("node_removed")
        self.edge_added = Signal("edge_added")
        self.edge_removed = Signal("edge_removed")
        self.param_changed = Signal("param_changed")
        self.node_moved = Signal("node_moved")
        self.label_changed = Signal("label_changed")
        self.settings_changed = Signal("settings_changed")
        self.painted_changed = Signal("painted_changed")
        self.group_changed = Signal("group_changed")
        self.note_changed = Signal("note_changed")
        self.changed = Signal("changed")

    def signals(self) -> tuple[Signal, ...]:
        """Every signal, ``changed`` last."""
        return tuple(getattr(self, t.kind) for t in EVENT_TYPES) + (self.changed,)

    def emit(self, event: DocumentEvent) -> None:
        """Send ``event`` on its own signal, then on ``changed``."""
        signal: Signal = getattr(self, event.kind)
        try:
            signal.emit(event)
        finally:
            self.changed.emit(event)

    @contextmanager
    def blocked(self) -> Iterator[None]:
        """Context in which no signal of this document emits anything."""
        for s in self.signals():
            s._blocked += 1
        try:
            yield
        finally:
            for s in self.signals():
                s._blocked -= 1
