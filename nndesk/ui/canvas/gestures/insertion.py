"""Insert a node into an edge (src → node → dst) by dropping it there."""

from __future__ import annotations

from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QPointF
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import QGraphicsSceneMouseEvent

from nndesk.document.graph import Document, Edge, Pos
from nndesk.document.registry import NodeSpec

from ..commands import ConnectCommand, DisconnectCommand, MacroCommand, MoveNodesCommand
from ..items.edge_item import EdgeItem
from ..items.node_item import NODE_WIDTH, PORT_Y, NodeItem
from .base import extends_selection
from .node_move import MoveNodes, dragged_items

if TYPE_CHECKING:
    from ..editor import CanvasEditor


def passes_through(spec: NodeSpec) -> bool:
    """Whether a node of this type can sit inside an edge (one input, one output)."""
    return bool(spec.inputs) and bool(spec.outputs)


def splice(
    d: Document, command: MacroCommand, edge: Edge, node_id: str, spec: NodeSpec
) -> None:
    """Add to ``command`` the steps that route ``edge`` through ``node_id``."""
    # The edge into the old destination keeps its place in the edge list, so a
    # merge node (Concatenate) keeps the order of its inputs.
    index = d.edge_index(edge)
    command.add(DisconnectCommand(d, edge))
    in_port, out_port = spec.inputs[0].name, spec.outputs[0].name
    command.add(ConnectCommand(d, Edge(edge.src_node, edge.src_port, node_id, in_port)))
    out_edge = Edge(node_id, out_port, edge.dst_node, edge.dst_port)
    command.add(ConnectCommand(d, out_edge, index=index))


class EdgeTarget:
    """The edge a dragged node would go into: highlighted and named in the status
    bar while the drag hovers it."""

    def __init__(self, editor: CanvasEditor) -> None:
        self.editor = editor
        self.item: EdgeItem | None = None

    @property
    def edge(self) -> Edge | None:
        """The document edge targeted, or None."""
        if self.item is None or not shiboken6.isValid(self.item):
            return None
        return self.item.edge

    def set(self, item: EdgeItem | None) -> None:
        """Target ``item`` (None: nothing)."""
        if item is self.item:
            return
        had = self.item is not None
        if had and shiboken6.isValid(self.item) and self.item.scene() is not None:
            self.item.set_highlighted(False)
        self.item = item
        if item is not None and item.edge is not None:
            item.set_highlighted(True)
            self.editor.show_message(f"Drop to insert into the edge {item.edge}.")
        elif had:
            self.editor.show_message("")


class InsertNode(MoveNodes):
    """Drag one unconnected node that has an input and an output onto an edge:
    the release inserts it there (move and reconnect in one undo step); elsewhere
    the drag is a plain move."""

    def __init__(
        self, editor: CanvasEditor, pressed: NodeItem, event: QGraphicsSceneMouseEvent
    ) -> None:
        super().__init__(editor, pressed, event)
        self.target = EdgeTarget(editor)

    @staticmethod
    def applies(
        editor: CanvasEditor, pressed: NodeItem, event: QGraphicsSceneMouseEvent
    ) -> bool:
        """Whether a drag from this press moves only ``pressed`` and it could go
        into an edge."""
        if not passes_through(pressed.spec) or pressed.edges:
            return False
        extend = extends_selection(event)
        return dragged_items(editor.scene, pressed, extend) == [pressed]

    def mouse_move(self, event: QGraphicsSceneMouseEvent) -> None:
        super().mouse_move(event)
        item = self.pressed
        if not self.moved or not shiboken6.isValid(item):
            return
        centre = item.mapToScene(QPointF(NODE_WIDTH / 2, PORT_Y))
        self.target.set(self.scene.edge_at(centre))

    def commit(self, moves: dict[str, tuple[Pos, Pos]]) -> None:
        edge = self.target.edge
        self.target.set(None)
        node_id = self.pressed.node_id
        if edge is None or list(moves) != [node_id]:
            super().commit(moves)
            return
        spec = self.pressed.spec

        def build(d: Document) -> QUndoCommand:
            command = MacroCommand(f"Insert {node_id}")
            command.add(MoveNodesCommand(d, moves))
            splice(d, command, edge, node_id, spec)
            return command

        if self.editor.push(build) is None:
            super().commit(moves)  # refused (the reason is shown): a plain move

    def restore(self) -> None:
        self.target.set(None)
        super().restore()
