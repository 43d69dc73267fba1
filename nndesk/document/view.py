"""Read-only graph records and queries: Node, Edge and GraphView.

``Node`` and ``Edge`` are immutable records. ``GraphView`` answers every question
about a graph (nodes, edges, ports, order, settings) without changing it; the
editable ``Document`` and the frozen ``Snapshot`` (graph.py) both build on it, and
shape inference, validation and compilation accept either.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .errors import DocumentError, EdgeNotFoundError, NodeNotFoundError
from .painted import PaintedPoints
from .registry import NodeSpec, PortSpec, get_spec
from .settings import default_settings, get_setting_spec

Pos = tuple[float, float]
"""A canvas position ``(x, y)``."""

_Adjacency = tuple[dict[str, list["Edge"]], dict[str, list["Edge"]]]


@dataclass(frozen=True)
class Node:
    """One node: an immutable record (a change replaces it in the document).

    Attributes
    ----------
    id : str
        Stable id made by the document (``"dense_3"``); the engine layer's name.
    type_name : str
        Key of its ``NodeSpec`` in the registry.
    params : Mapping
        Every parameter of the type, validated (read-only view).
    pos : tuple of float
        Canvas position ``(x, y)`` of the node's top-left corner.
    label : str or None
        Optional user label.
    """

    id: str
    type_name: str
    params: Mapping[str, Any]
    pos: Pos = (0.0, 0.0)
    label: str | None = None

    def __post_init__(self) -> None:
        # copy, so no outside dict can change a record after the fact
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    @property
    def spec(self) -> NodeSpec:
        """The registry entry of this node's type."""
        return get_spec(self.type_name)

    @property
    def title(self) -> str:
        """How messages name this node: ``Dense 'dense_2'``."""
        return f"{self.spec.title} '{self.id}'"

    def __deepcopy__(self, memo: dict[int, Any]) -> Node:
        return self  # immutable: sharing is a copy

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            Node,
            (self.id, self.type_name, dict(self.params), self.pos, self.label),
        )


@dataclass(frozen=True)
class Edge:
    """A connection from an output port of one node to an input port of another."""

    src_node: str
    src_port: str
    dst_node: str
    dst_port: str

    def __iter__(self) -> Iterator[str]:
        """Unpacks as ``src_node, src_port, dst_node, dst_port``."""
        return iter((self.src_node, self.src_port, self.dst_node, self.dst_port))

    def __str__(self) -> str:
        return f"{self.src_node}.{self.src_port} -> {self.dst_node}.{self.dst_port}"


class GraphView:
    """Read-only queries over nodes, edges and settings.

    ``Document`` (editable, with events) and ``Snapshot`` (frozen) share these, and
    shape inference, validation and compilation accept either.
    """

    _nodes: dict[str, Node]
    _edges: list[Edge]
    _settings: dict[str, Any]
    _painted: PaintedPoints

    def _init_parts(
        self,
        nodes: Iterable[Node] = (),
        edges: Iterable[Edge] = (),
        settings: Mapping[str, Any] | None = None,
        painted: PaintedPoints | None = None,
    ) -> None:
        self._nodes = {n.id: n for n in nodes}
        self._edges = list(edges)
        self._settings = dict(default_settings() if settings is None else settings)
        self._painted = painted if painted is not None else PaintedPoints.empty()
        self._adjacency: _Adjacency | None = None

    def _edges_changed(self) -> None:
        """Forget the edge index; every method that changes ``_edges`` calls it
        (or one of the two cheaper updates below)."""
        self._adjacency = None

    def _edge_appended(self, edge: Edge) -> None:
        if self._adjacency is not None:
            ins, outs = self._adjacency
            ins.setdefault(edge.dst_node, []).append(edge)
            outs.setdefault(edge.src_node, []).append(edge)

    def _edge_removed(self, edge: Edge) -> None:
        if self._adjacency is not None:
            ins, outs = self._adjacency
            ins[edge.dst_node].remove(edge)
            outs[edge.src_node].remove(edge)

    def _adjacent(self) -> _Adjacency:
        # Built on demand: shape inference and drag feedback ask for the edges of
        # every node, which would be quadratic with a scan of the edge list each.
        if self._adjacency is None:
            ins: dict[str, list[Edge]] = {}
            outs: dict[str, list[Edge]] = {}
            for e in self._edges:
                ins.setdefault(e.dst_node, []).append(e)
                outs.setdefault(e.src_node, []).append(e)
            self._adjacency = (ins, outs)
        return self._adjacency

    # --- nodes -----------------------------------------------------------------------
    @property
    def nodes(self) -> tuple[Node, ...]:
        """All nodes in document order."""
        return tuple(self._nodes.values())

    @property
    def node_ids(self) -> tuple[str, ...]:
        """All node ids in document order."""
        return tuple(self._nodes)

    def node(self, node_id: str) -> Node:
        """The node with this id.

        Raises
        ------
        NodeNotFoundError
            If there is none.
        """
        try:
            return self._nodes[node_id]
        except (KeyError, TypeError):
            raise NodeNotFoundError(f"There is no node {node_id!r}.") from None

    def has_node(self, node_id: str) -> bool:
        """Whether a node with this id exists."""
        return node_id in self._nodes

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def spec(self, node_id: str) -> NodeSpec:
        """The registry entry of a node's type."""
        return self.node(node_id).spec

    def nodes_of_type(self, type_name: str) -> tuple[Node, ...]:
        """Nodes of one type, in document order."""
        return tuple(n for n in self._nodes.values() if n.type_name == type_name)

    # --- ports and edges -------------------------------------------------------------
    @property
    def edges(self) -> tuple[Edge, ...]:
        """All edges in document order (which is the input order of merge nodes)."""
        return tuple(self._edges)

    def has_edge(self, edge: Edge) -> bool:
        """Whether this exact edge exists."""
        return edge in self._adjacent()[1].get(edge.src_node, ())

    def edge_index(self, edge: Edge) -> int:
        """Position of ``edge`` in the edge list.

        Raises
        ------
        EdgeNotFoundError
            If the edge is not in the document.
        """
        try:
            return self._edges.index(edge)
        except ValueError:
            raise EdgeNotFoundError(f"There is no edge {edge}.") from None

    def edges_in(self, node_id: str, port: str | None = None) -> tuple[Edge, ...]:
        """Edges into a node (optionally one port), in input order."""
        self.node(node_id)
        edges = self._adjacent()[0].get(node_id, ())
        return tuple(e for e in edges if port is None or e.dst_port == port)

    def edges_out(self, node_id: str, port: str | None = None) -> tuple[Edge, ...]:
        """Edges out of a node (optionally one port), in document order."""
        self.node(node_id)
        edges = self._adjacent()[1].get(node_id, ())
        return tuple(e for e in edges if port is None or e.src_port == port)

    def input_ports(self, node_id: str) -> tuple[PortSpec, ...]:
        """The input ports of a node (``PortSpec.multiple`` says if one takes many)."""
        return self.spec(node_id).inputs

    def output_ports(self, node_id: str) -> tuple[PortSpec, ...]:
        """The output ports of a node."""
        return self.spec(node_id).outputs

    def free_input_port(self, node_id: str) -> str | None:
        """Where a new incoming edge would go: the first single port without an edge
        or the first port that takes several; None when every input is taken.

        An edge into a port that takes several is appended after the existing ones.
        """
        for port in self.input_ports(node_id):
            if port.multiple or not self.edges_in(node_id, port.name):
                return port.name
        return None

    def predecessors(self, node_id: str) -> tuple[str, ...]:
        """Source nodes of the edges into ``node_id``, in input order."""
        return tuple(e.src_node for e in self.edges_in(node_id))

    def successors(self, node_id: str) -> tuple[str, ...]:
        """Destination nodes of the edges out of ``node_id``, without repeats."""
        return tuple(dict.fromkeys(e.dst_node for e in self.edges_out(node_id)))

    def topological_order(self) -> list[str]:
        """Node ids so that every edge goes from an earlier to a later node.

        Ties keep document order, so the result is deterministic.

        Raises
        ------
        nndesk.document.errors.DocumentError
            If the graph has a cycle (a Document never has one; a view built from
            raw parts might), naming the nodes on it.
        """
        order, rest = self.partial_order()
        if rest:
            names = ", ".join(f"'{n}'" for n in rest)
            raise DocumentError(f"Nodes {names} are on or behind a cycle.")
        return order

    def partial_order(self) -> tuple[list[str], list[str]]:
        """Topological order of the nodes that can be ordered, and the rest: nodes on
        a cycle or downstream of one, in document order (never raises)."""
        indegree = dict.fromkeys(self._nodes, 0)
        children: dict[str, list[str]] = {n: [] for n in self._nodes}
        for e in self._edges:
            if e.src_node in indegree and e.dst_node in indegree:
                indegree[e.dst_node] += 1
                children[e.src_node].append(e.dst_node)
        position = {n: i for i, n in enumerate(self._nodes)}
        ready = [n for n, d in indegree.items() if d == 0]
        order: list[str] = []
        while ready:
            ready.sort(key=position.__getitem__, reverse=True)
            n = ready.pop()
            order.append(n)
            for c in children[n]:
                indegree[c] -= 1
                if indegree[c] == 0:
                    ready.append(c)
        rest = [n for n in self._nodes if indegree[n] > 0]
        return order, rest

    def reaches(self, start: str, goal: str) -> bool:
        """Whether a directed path leads from ``start`` to ``goal`` (or they are one)."""
        outs = self._adjacent()[1]
        seen = {start}
        stack = [start]
        while stack:
            n = stack.pop()
            if n == goal:
                return True
            for e in outs.get(n, ()):
                if e.dst_node not in seen:
                    seen.add(e.dst_node)
                    stack.append(e.dst_node)
        return False

    # --- settings ----------------------------------------------------------------------
    @property
    def settings(self) -> Mapping[str, Any]:
        """Network-level settings (read-only view); see ``nndesk.document.settings``."""
        return MappingProxyType(self._settings)

    def setting(self, name: str) -> Any:
        """One setting's value (ParamError for an unknown name)."""
        get_setting_spec(name)
        return self._settings[name]

    # --- painted data ------------------------------------------------------------------
    @property
    def painted(self) -> PaintedPoints:
        """The painted 2-D data (``nndesk.document.painted``), which the dataset
        spec ``painted`` trains on; empty until something is painted."""
        return self._painted

    # --- whole-graph -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible data (see ``nndesk.document.schema``)."""
        from .schema import document_to_dict  # schema builds Documents: import late

        return document_to_dict(self)

    def subgraph_dict(self, node_ids: Iterable[str]) -> dict[str, Any]:
        """The chosen nodes and the edges between them, as clipboard data.

        The result has the ``to_dict`` layout without settings; ``paste_dict`` reads
        it. Unknown ids raise NodeNotFoundError.
        """
        from .schema import subgraph_to_dict

        chosen = [self.node(n).id for n in node_ids]
        return subgraph_to_dict(self, chosen)

    def same_content(self, other: GraphView) -> bool:
        """Equal nodes (in order), edges (in order), settings and painted data."""
        return (
            list(self._nodes.values()) == list(other._nodes.values())
            and self._edges == other._edges
            and self._settings == other._settings
            and self._painted == other._painted
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GraphView):
            return NotImplemented
        return self.same_content(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {len(self._nodes)} nodes, "
            f"{len(self._edges)} edges>"
        )
