"""Drag an edge from a port to another port (or pick an existing edge up)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QGraphicsSceneMouseEvent

from nndesk.document.graph import Document, Edge, GraphView

from ..items.edge_item import EdgeItem
from ..items.port_item import PortItem, PortState
from .base import Gesture

if TYPE_CHECKING:
    from ..editor import CanvasEditor

log = logging.getLogger(__name__)


def ancestors(view: GraphView, node_id: str) -> set[str]:
    """Nodes with a path to ``node_id`` (one pass over the edges, then a walk)."""
    parents: dict[str, list[str]] = {}
    for e in view.edges:
        parents.setdefault(e.dst_node, []).append(e.src_node)
    return _walk(parents, node_id)


def descendants(view: GraphView, node_id: str) -> set[str]:
    """Nodes reachable from ``node_id``."""
    children: dict[str, list[str]] = {}
    for e in view.edges:
        children.setdefault(e.src_node, []).append(e.dst_node)
    return _walk(children, node_id)


def _walk(links: dict[str, list[str]], start: str) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        for nxt in links.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


class DragEdge(Gesture):
    """Drag from a port to another port to connect them.

    Starting on an output port drags a new edge forward; starting on a free input
    port drags backwards to an output. Starting on a taken single input picks up
    its edge: dropping it on another input moves it, dropping it on empty canvas
    deletes it. A single input that already has an edge can still be a target:
    the new edge replaces the old one. While dragging, ports that can take the edge
    are highlighted; hovering one that cannot shows ``can_connect``'s reason.
    Releasing over empty canvas (for a new edge) offers the add-node search, limited
    to node types that can take the edge.
    """

    def __init__(self, editor: CanvasEditor, port: PortItem) -> None:
        super().__init__(editor)
        doc = editor.document
        assert doc is not None
        self.doc = doc
        self.detached: Edge | None = None
        anchor = port
        if port.is_input and not port.multiple:
            taken = doc.edges_in(port.node_id, port.name)
            if taken:
                self.detached = taken[0]
                anchor = self.scene.port_item(
                    taken[0].src_node, taken[0].src_port, False
                )
        self.anchor = anchor
        self.forward = not anchor.is_input
        # A private copy without the picked-up edge answers "could it go there?".
        self.probe: Document = doc.copy()
        if self.detached is not None:
            self.probe.disconnect(self.detached)
        self.temp = EdgeItem(
            None,
            anchor if self.forward else None,
            None if self.forward else anchor,
            self.scene.theme,
        )
        self.target: PortItem | None = None
        self.target_reason: str | None = None
        self.replaces: Edge | None = None
        self._rest: dict[PortItem, PortState] = {}
        self._tips: dict[PortItem, str] = {}

    def start(self) -> None:
        if self.detached is not None:
            self.scene.edge_item(self.detached).setVisible(False)
        self.temp.set_free_end(self.anchor.scene_anchor())
        self.scene.addItem(self.temp)
        self._mark_candidates()

    # -- which ports fit -----------------------------------------------------------------

    def _opposite_ports(self) -> Iterable[PortItem]:
        for item in self.scene.node_items():
            ports = item.inputs if self.forward else item.outputs
            yield from ports.values()

    def _mark_candidates(self) -> None:
        """Highlight ports the edge may go to (a cheap pass; the hovered one is
        re-checked with the document's can_connect)."""
        node = self.anchor.node_id
        blocked = (
            ancestors(self.probe, node)
            if self.forward
            else descendants(self.probe, node)
        )
        existing = set(self.probe.edges)
        for port in self._opposite_ports():
            ok = port.node_id != node and port.node_id not in blocked
            ok = ok and self.edge_to(port) not in existing
            state = PortState.COMPATIBLE if ok else PortState.NORMAL
            self._rest[port] = state
            self._tips[port] = port.toolTip()
            port.set_state(state)

    def edge_to(self, port: PortItem) -> Edge:
        """The edge that dropping on ``port`` would create."""
        if self.forward:
            return Edge(self.anchor.node_id, self.anchor.name, port.node_id, port.name)
        return Edge(port.node_id, port.name, self.anchor.node_id, self.anchor.name)

    def check(self, port: PortItem) -> tuple[str | None, Edge | None]:
        """``(reason or None, edge it would replace or None)`` for dropping on ``port``."""
        edge = self.edge_to(port)
        reason = self.probe.can_connect(*edge)
        if reason is None:
            return None, None
        dst_spec = self.probe.spec(edge.dst_node).input_port(edge.dst_port)
        taken = self.probe.edges_in(edge.dst_node, edge.dst_port)
        if (
            dst_spec is not None
            and not dst_spec.multiple
            and taken
            and taken[0] != edge
        ):
            trial = self.probe.copy()
            trial.disconnect(taken[0])
            deeper = trial.can_connect(*edge)
            if deeper is None:
                return None, taken[0]
            # Replacing would not help either: say what really stands in the way.
            return deeper, None
        return reason, None

    # -- events --------------------------------------------------------------------------

    def mouse_move(self, event: QGraphicsSceneMouseEvent) -> None:
        pos = event.scenePos()
        self.temp.set_free_end(pos)
        self._hover(self._target_at(pos))

    def _target_at(self, pos: QPointF) -> PortItem | None:
        port = self.scene.port_at(pos)
        if port is None or port is self.anchor or port.is_input != self.forward:
            return None
        return port

    def _hover(self, port: PortItem | None) -> None:
        if port is self.target:
            return
        if self.target is not None:
            self.target.set_state(self._rest.get(self.target, PortState.NORMAL))
            self.target.setToolTip(self._tips.get(self.target, ""))
        self.target = port
        self.target_reason = None
        self.replaces = None
        if port is None:
            self.editor.show_message("")
            return
        reason, replaces = self.check(port)
        self.target_reason = reason
        self.replaces = replaces
        if reason is None:
            port.set_state(PortState.TARGET)
            edge = self.edge_to(port)
            text = f"Connect {edge.src_node} to {edge.dst_node}"
            if replaces is not None:
                text += f" (replaces the edge from {replaces.src_node})"
            self.editor.show_message(text + ".")
        else:
            port.set_state(PortState.REFUSED)
            port.setToolTip(reason)
            self.editor.show_message(reason)

    def mouse_release(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() != self.button:
            return
        pos = event.scenePos()
        self._hover(self._target_at(pos))
        target, reason, replaces = self.target, self.target_reason, self.replaces
        self.restore()
        self.end()
        if target is not None and reason is None:
            self.editor.connect_edge(self.edge_to(target), replaces, self.detached)
        elif target is not None:
            self.editor.show_message(reason or "")
        elif self.detached is not None:
            self.editor.disconnect_edges([self.detached])
        else:
            self.editor.offer_connected_node(self.anchor, pos)

    def cancel(self) -> None:
        super().cancel()
        self.editor.show_message("")

    def restore(self) -> None:
        for port, tip in self._tips.items():
            if not shiboken6.isValid(port):
                continue  # its node was removed meanwhile (an undo mid-drag)
            port.set_state(PortState.NORMAL)
            port.setToolTip(tip)
        if self.temp.scene() is not None:
            self.scene.removeItem(self.temp)
        if self.detached is not None and self.doc.has_edge(self.detached):
            self.scene.edge_item(self.detached).setVisible(True)
