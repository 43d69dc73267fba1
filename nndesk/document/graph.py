"""The network document: nodes, edges and settings, their mutations and events.

``Document`` is the one truth the editor and the trainer share. Every mutation
validates its arguments, changes the state, sends exactly one event on
``doc.events`` and returns what its inverse needs, so an undo command is two
document calls:

=========================  ==========================================
do                         undo
=========================  ==========================================
``id = add_node(...)``     ``removed = remove_node(id)``
``removed = remove_node``  ``restore_node(removed)``
``edge = connect(...)``    ``disconnect(edge)``
``i = disconnect(edge)``   ``connect(*edge, index=i)``
``old = set_param(...)``   ``set_param(id, name, old)``
``old = move_node(...)``   ``move_node(id, old)``
``old = set_label(...)``   ``set_label(id, old)``
``old = set_setting(...)`` ``set_setting(name, old)``
``old = set_painted(p)``   ``set_painted(old)``
``old = set_group(id, g)`` ``set_group(id, old)``
``old = set_note(id, n)``  ``set_note(id, old)``
=========================  ==========================================

Redo repeats the call with the ids the first call returned (``add_node(...,
node_id=id)``). Node records (``Node``) and edges (``Edge``) are immutable; a change
replaces the record, so a ``snapshot()`` for the trainer shares them safely.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ConnectionRefused, DocumentError, ParamError
from .events import (
    DocumentEvents,
    EdgeAdded,
    EdgeRemoved,
    GroupChanged,
    LabelChanged,
    NodeAdded,
    NodeMoved,
    NodeRemoved,
    NoteChanged,
    PaintedChanged,
    ParamChanged,
    SettingsChanged,
)
from .groups import (
    Group,
    Note,
    Overlay,
    OverlayView,
    check_group,
    check_note,
    next_id,
)
from .painted import PaintedDataError, PaintedPoints
from .registry import get_spec
from .settings import get_setting_spec
from .view import Edge, GraphView, Node, Pos

_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class RemovedNode:
    """What ``remove_node`` took out, for ``restore_node`` to put back exactly.

    Attributes
    ----------
    node : Node
        The node record.
    index : int
        Its position in the node order.
    edges : tuple of (int, Edge)
        The edges that touched it with their positions in the edge list, ascending.
    """

    node: Node
    index: int
    edges: tuple[tuple[int, Edge], ...] = field(default_factory=tuple)


class Snapshot(GraphView, OverlayView):
    """A frozen copy of a document for the trainer; editing the document later
    leaves it unchanged.

    Parameters
    ----------
    nodes, edges, settings, painted
        Parts to hold; ``Document.snapshot()`` is the usual way to get one. Parts
        are taken as given (no validation), so tests can build odd graphs.
    """

    def __init__(
        self,
        nodes: Iterable[Node] = (),
        edges: Iterable[Edge] = (),
        settings: Mapping[str, Any] | None = None,
        painted: PaintedPoints | None = None,
        overlay: Overlay | None = None,
    ) -> None:
        self._init_parts(nodes, edges, settings, painted)
        self._overlay = overlay or Overlay()

    def to_document(self) -> Document:
        """An editable Document with the same content (not validated again)."""
        doc = Document()
        doc._init_parts(
            self._nodes.values(), self._edges, self._settings, self._painted
        )
        doc._overlay = self._overlay
        return doc


class Document(GraphView, OverlayView):
    """An editable network: the model behind the canvas, the inspector and files.

    Parameters
    ----------
    settings : Mapping, optional
        Initial network settings; missing names get their defaults.

    Attributes
    ----------
    events : DocumentEvents
        ``node_added``, ``node_removed``, ``edge_added``, ``edge_removed``,
        ``param_changed``, ``node_moved``, ``label_changed``, ``settings_changed``,
        ``painted_changed`` and the catch-all ``changed``.

    Examples
    --------
    >>> doc = Document()
    >>> x = doc.add_node("Input", {"shape": (2,)})
    >>> h = doc.add_node("Dense", {"units": 8, "activation": "tanh"}, pos=(220, 0))
    >>> doc.connect(x, "out", h, "in")
    Edge(src_node='input_1', src_port='out', dst_node='dense_1', dst_port='in')
    """

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        self._init_parts()
        self._overlay = Overlay()
        self.events = DocumentEvents()
        for name, value in (settings or {}).items():
            self._settings[name] = get_setting_spec(name).validate(value, "Settings")

    # --- nodes -----------------------------------------------------------------------
    def new_node_id(self, type_name: str) -> str:
        """The id ``add_node`` would give a new node of this type: ``<prefix>_<n>``
        with n one more than the largest n in use for that prefix."""
        prefix = get_spec(type_name).id_prefix
        # ids a group still lists are taken too: a new node must not join a group
        grouped = (n for g in self._overlay.groups for n in g.node_ids)
        return next_id(prefix, [*self._nodes, *grouped])

    def add_node(
        self,
        type_name: str,
        params: Mapping[str, Any] | None = None,
        pos: Pos = (0.0, 0.0),
        label: str | None = None,
        node_id: str | None = None,
    ) -> str:
        """Add a node and return its id; emits ``node_added``.

        Parameters
        ----------
        type_name : str
            A registry type name.
        params : Mapping, optional
            Parameter values; missing ones get the type's defaults.
        pos : (float, float)
            Canvas position.
        label : str, optional
            A user label.
        node_id : str, optional
            The id to use (redo passes the id the first call returned); by default
            a new one from ``new_node_id``.

        Raises
        ------
        UnknownNodeTypeError, ParamError, DocumentError
            For an unknown type, an invalid parameter or position, or an id that is
            taken or malformed.
        """
        spec = get_spec(type_name)
        node_id = self._check_new_id(node_id) if node_id is not None else None
        node_id = node_id or self.new_node_id(type_name)
        node = Node(
            id=node_id,
            type_name=type_name,
            params=spec.check_params(params or {}, f"{spec.title} '{node_id}'"),
            pos=_check_pos(pos, node_id),
            label=_check_label(label, node_id),
        )
        self._nodes[node_id] = node
        self.events.emit(NodeAdded(node, len(self._nodes) - 1))
        return node_id

    def remove_node(self, node_id: str) -> RemovedNode:
        """Remove a node and every edge touching it; emits one ``node_removed``.

        Returns
        -------
        RemovedNode
            The record, its position and the removed edges with their positions;
            ``restore_node`` puts everything back.
        """
        node = self.node(node_id)
        index = list(self._nodes).index(node_id)
        removed = tuple(
            (i, e)
            for i, e in enumerate(self._edges)
            if node_id in (e.src_node, e.dst_node)
        )
        gone = {i for i, _ in removed}
        self._edges = [e for i, e in enumerate(self._edges) if i not in gone]
        self._edges_changed()
        del self._nodes[node_id]
        self.events.emit(NodeRemoved(node, index, tuple(e for _, e in removed)))
        return RemovedNode(node, index, removed)

    def restore_node(self, removed: RemovedNode) -> str:
        """Undo ``remove_node``: same id, position in the order, and edges at their
        old positions; emits one ``node_added`` carrying those edges.

        Raises
        ------
        DocumentError
            If the id is taken again or an edge's other node no longer exists.
        """
        node = removed.node
        self._check_new_id(node.id)
        for _, e in removed.edges:
            other = e.dst_node if e.src_node == node.id else e.src_node
            if other != node.id and other not in self._nodes:
                raise DocumentError(
                    f"Cannot restore '{node.id}': its neighbour '{other}' is gone."
                )
        items = list(self._nodes.items())
        items.insert(removed.index, (node.id, node))
        self._nodes = dict(items)
        for i, e in removed.edges:
            self._edges.insert(i, e)
        self._edges_changed()
        index = list(self._nodes).index(node.id)
        self.events.emit(NodeAdded(node, index, tuple(e for _, e in removed.edges)))
        return node.id

    def set_param(self, node_id: str, name: str, value: Any) -> Any:
        """Set one parameter; returns the old value. Emits ``param_changed``, or
        nothing when the value equals the current one.

        Raises
        ------
        ParamError
            Unknown parameter or invalid value (one sentence naming both).
        """
        node = self.node(node_id)
        spec = node.spec
        if not spec.has_param(name):
            names = ", ".join(p.name for p in spec.params) or "none"
            raise ParamError(
                f"{node.title} has no parameter '{name}' (it has: {names})."
            )
        new = spec.param(name).validate(value, node.title)
        old = node.params[name]
        if _same(old, new):
            return old
        params = dict(node.params)
        params[name] = new
        self._replace(Node(node.id, node.type_name, params, node.pos, node.label))
        self.events.emit(ParamChanged(node_id, name, old, new))
        return old

    def move_node(self, node_id: str, pos: Pos) -> Pos:
        """Move a node on the canvas; returns the old position (emits ``node_moved``
        unless the position is unchanged)."""
        node = self.node(node_id)
        new = _check_pos(pos, node_id)
        old = node.pos
        if new == old:
            return old
        self._replace(Node(node.id, node.type_name, node.params, new, node.label))
        self.events.emit(NodeMoved(node_id, old, new))
        return old

    def set_label(self, node_id: str, label: str | None) -> str | None:
        """Set or clear (None or "") a node's label; returns the old one."""
        node = self.node(node_id)
        new = _check_label(label, node_id)
        old = node.label
        if new == old:
            return old
        self._replace(Node(node.id, node.type_name, node.params, node.pos, new))
        self.events.emit(LabelChanged(node_id, old, new))
        return old

    # --- edges -----------------------------------------------------------------------
    def can_connect(
        self, src_node: str, src_port: str, dst_node: str, dst_port: str
    ) -> str | None:
        """Why this edge cannot be added, as one sentence, or None if it can.

        The editor calls this while an edge is dragged over a port. Shapes are not
        checked here: a connection whose shapes do not fit is allowed and shape
        inference marks the node.
        """
        for n in (src_node, dst_node):
            if n not in self._nodes:
                return f"There is no node {n!r}."
        src, dst = self._nodes[src_node], self._nodes[dst_node]
        if src.spec.output_port(src_port) is None:
            if not src.spec.outputs:
                return f"{src.title} has no outputs."
            return f"{src.title} has no output port '{src_port}'."
        in_port = dst.spec.input_port(dst_port)
        if in_port is None:
            if not dst.spec.inputs:
                return f"{dst.title} takes no inputs."
            return f"{dst.title} has no input port '{dst_port}'."
        if src_node == dst_node:
            return f"{src.title} cannot be connected to itself."
        if self.has_edge(Edge(src_node, src_port, dst_node, dst_port)):
            return f"{src.title} is already connected to {dst.title}."
        if not in_port.multiple and self.edges_in(dst_node, dst_port):
            return (
                f"Port '{dst_port}' of {dst.title} already has an input: "
                "disconnect it first."
            )
        if self.reaches(dst_node, src_node):
            return f"Connecting {src.title} to {dst.title} would make a cycle."
        return None

    def connect(
        self,
        src_node: str,
        src_port: str,
        dst_node: str,
        dst_port: str,
        index: int | None = None,
    ) -> Edge:
        """Add an edge; emits ``edge_added``.

        Parameters
        ----------
        src_node, src_port, dst_node, dst_port : str
            The output port and the input port to join.
        index : int, optional
            Position in the edge list (undo of ``disconnect`` passes the index it
            returned, which restores the input order of merges); default: last.

        Raises
        ------
        ConnectionRefused
            With the sentence ``can_connect`` gives.
        """
        reason = self.can_connect(src_node, src_port, dst_node, dst_port)
        if reason is not None:
            raise ConnectionRefused(reason)
        edge = Edge(src_node, src_port, dst_node, dst_port)
        if index is None:
            index = len(self._edges)
        elif not 0 <= index <= len(self._edges):
            raise DocumentError(
                f"Edge position {index} is outside 0..{len(self._edges)}."
            )
        self._edges.insert(index, edge)
        if index == len(self._edges) - 1:
            self._edge_appended(edge)
        else:
            self._edges_changed()  # the per-node input order must be rebuilt
        self.events.emit(EdgeAdded(edge, index))
        return edge

    def disconnect(self, edge: Edge) -> int:
        """Remove an edge; returns its former position. Emits ``edge_removed``.

        Raises
        ------
        EdgeNotFoundError
            If the edge is not in the document.
        """
        index = self.edge_index(edge)
        del self._edges[index]
        self._edge_removed(edge)
        self.events.emit(EdgeRemoved(edge, index))
        return index

    # --- settings ----------------------------------------------------------------------
    def set_setting(self, name: str, value: Any) -> Any:
        """Set one network setting; returns the old value. Emits ``settings_changed``
        unless the value is unchanged.

        Raises
        ------
        ParamError
            Unknown setting or invalid value.
        """
        new = get_setting_spec(name).validate(value, "Settings")
        old = self._settings[name]
        if _same(old, new):
            return old
        self._settings[name] = new
        self.events.emit(SettingsChanged(name, old, new))
        return old

    # --- painted data ------------------------------------------------------------------
    def set_painted(self, painted: PaintedPoints) -> PaintedPoints:
        """Replace the painted 2-D data; returns the old set. Emits ``painted_changed``
        unless the new set equals the current one.

        Raises
        ------
        PaintedDataError
            If ``painted`` is not a ``PaintedPoints``.
        """
        if not isinstance(painted, PaintedPoints):
            raise PaintedDataError(
                f"Painted data must be PaintedPoints, got {type(painted).__name__}."
            )
        old = self._painted
        if painted == old:
            return old
        self._painted = painted
        self.events.emit(PaintedChanged(old, painted))
        return old

    # --- groups and notes -------------------------------------------------------------
    def new_group_id(self) -> str:
        """The id for a new group: ``group_<n>``."""
        return next_id("group", (g.id for g in self._overlay.groups))

    def new_note_id(self) -> str:
        """The id for a new note: ``note_<n>``."""
        return next_id("note", (n.id for n in self._overlay.notes))

    def set_group(self, group_id: str, group: Group | None) -> Group | None:
        """Add, replace or (with None) remove a group; returns the old record (None
        if there was none). Emits ``group_changed`` unless nothing changes.

        Raises
        ------
        DocumentError
            For a record whose id differs from ``group_id``, an empty title, no
            members, a member that is no node or belongs to another group.
        """
        old = self.group_or_none(group_id)
        if group is not None:
            if group.id != group_id:
                raise DocumentError(f"Group '{group.id}' cannot replace '{group_id}'.")
            group = check_group(group, self._nodes)
            for other in self._overlay.groups:
                both = set(other.node_ids) & set(group.node_ids) & set(self._nodes)
                if other.id != group_id and both:
                    raise DocumentError(
                        f"'{sorted(both)[0]}' is already in group '{other.title}'."
                    )
        elif old is None:
            raise DocumentError(f"There is no group '{group_id}'.")
        if old == group:
            return old
        self._overlay = self._overlay.with_group(group_id, group)
        self.events.emit(GroupChanged(group_id, old, group))
        return old

    def set_note(self, note_id: str, note: Note | None) -> Note | None:
        """Add, replace or (with None) remove a canvas note; returns the old one.
        Emits ``note_changed`` unless nothing changes.

        Raises
        ------
        DocumentError
            For a malformed record or removing a note that does not exist.
        """
        old = self.note_or_none(note_id)
        if note is not None:
            if note.id != note_id:
                raise DocumentError(f"Note '{note.id}' cannot replace '{note_id}'.")
            note = check_note(note)
        elif old is None:
            raise DocumentError(f"There is no note '{note_id}'.")
        if old == note:
            return old
        self._overlay = self._overlay.with_note(note_id, note)
        self.events.emit(NoteChanged(note_id, old, note))
        return old

    # --- copies ------------------------------------------------------------------------
    def copy(self) -> Document:
        """An independent document with the same content and no subscribers."""
        doc = Document()
        doc._init_parts(
            self._nodes.values(), self._edges, self._settings, self._painted
        )
        doc._overlay = self._overlay
        return doc

    def __copy__(self) -> Document:
        return self.copy()

    def __deepcopy__(self, memo: dict[int, Any]) -> Document:
        # subscribers belong to the original's views, never to a copy
        return self.copy()

    def snapshot(self) -> Snapshot:
        """A frozen view of the current content, safe to hand to another thread.

        Nodes and edges are immutable records, so this copies two lists and a
        dict; later edits to the document never show in the snapshot.
        """
        return Snapshot(
            self._nodes.values(),
            self._edges,
            self._settings,
            self._painted,
            self._overlay,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "graph.json") -> Document:
        """Build a document from ``to_dict`` data (checked and migrated).

        Raises
        ------
        SchemaError
            Naming ``source`` and the bad key.
        """
        from .schema import document_from_dict

        return document_from_dict(data, source=source)

    def paste_dict(
        self, data: Mapping[str, Any], offset: Pos = (0.0, 0.0)
    ) -> list[str]:
        """Add the nodes and internal edges of clipboard data under new ids.

        A compound edit: emits one ``node_added`` per node, then one ``edge_added``
        per edge. Undo removes the returned ids. The data is checked completely
        before anything is added, so a bad clipboard changes nothing.

        Parameters
        ----------
        data : Mapping
            ``subgraph_dict`` (or ``to_dict``) output.
        offset : (float, float)
            Added to every pasted position.

        Returns
        -------
        list of str
            The new ids, in the order of the pasted nodes.

        Raises
        ------
        SchemaError
            If the data is not valid clipboard data.
        """
        from .schema import parse_subgraph

        nodes, edges, overlay = parse_subgraph(data, source="clipboard", overlay=True)
        dx, dy = _check_pos(offset, "paste offset")
        mapping: dict[str, str] = {}
        for n in nodes:
            mapping[n.id] = self.add_node(
                n.type_name, n.params, (n.pos[0] + dx, n.pos[1] + dy), n.label
            )
        for e in edges:
            self.connect(
                mapping[e.src_node], e.src_port, mapping[e.dst_node], e.dst_port
            )
        for g in overlay.groups:  # a copied group is pasted as a group
            group_id = self.new_group_id()
            members = tuple(mapping[n] for n in g.node_ids)
            self.set_group(group_id, Group(group_id, g.title, members, g.collapsed))
        return [mapping[n.id] for n in nodes]

    # --- helpers -----------------------------------------------------------------------
    def _replace(self, node: Node) -> None:
        self._nodes[node.id] = node  # same key: keeps the node's place in the order

    def _check_new_id(self, node_id: str) -> str:
        if not isinstance(node_id, str) or not _ID_RE.match(node_id):
            raise DocumentError(
                f"Node id {node_id!r} is not valid: use letters, digits and "
                "underscores, starting with a letter."
            )
        if node_id in self._nodes:
            raise DocumentError(f"Node id '{node_id}' is already in use.")
        return node_id


def _check_pos(pos: Any, where: str) -> Pos:
    try:
        x, y = pos
        fx, fy = float(x), float(y)
    except (TypeError, ValueError):
        raise DocumentError(
            f"Position of '{where}' must be two numbers, got {pos!r}."
        ) from None
    if not (math.isfinite(fx) and math.isfinite(fy)):
        raise DocumentError(f"Position of '{where}' must be finite, got {pos!r}.")
    return (fx, fy)


def _check_label(label: Any, where: str) -> str | None:
    if label is None or label == "":
        return None
    if not isinstance(label, str):
        raise DocumentError(f"Label of '{where}' must be text, got {label!r}.")
    return label


def _same(a: Any, b: Any) -> bool:
    # 1 == 1.0 == True in Python; a change of type is a change for the document
    return type(a) is type(b) and a == b


__all__ = [
    "Document",
    "Edge",
    "GraphView",
    "Node",
    "Pos",
    "RemovedNode",
    "Snapshot",
]
