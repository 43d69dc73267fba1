"""Alt+drag a node: drag a copy of the selected nodes away (one undo step)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication, QGraphicsItem, QGraphicsSceneMouseEvent

from ..items.edge_item import EdgeItem
from ..items.node_item import NodeItem
from .base import Gesture, extends_selection
from .node_move import dragged_items

if TYPE_CHECKING:
    from ..editor import CanvasEditor

GHOST_OPACITY = 0.5
GHOST_Z = 30.0


class DuplicateDrag(Gesture):
    """Alt+press on a node and drag: translucent copies of the selected nodes
    (with the edges among them) follow the mouse, the originals stay; the release
    pastes the copies there as one "Duplicate" undo step and selects them.

    The nodes copied are the ones a plain drag would move. Until the mouse has
    moved the platform's drag distance it is a click (Alt+click selects as a
    click does). Escape removes the copies and pushes nothing.
    """

    def __init__(
        self, editor: CanvasEditor, pressed: NodeItem, event: QGraphicsSceneMouseEvent
    ) -> None:
        super().__init__(editor)
        self.pressed = pressed
        self.pressed_id = pressed.node_id
        self.press_pos = QPointF(event.scenePos())
        self.extend = extends_selection(event)
        self.node_ids: list[str] = []
        self.ghosts: dict[str, NodeItem] = {}
        self.ghost_edges: list[EdgeItem] = []
        self.offset = QPointF()

    def start(self) -> None:
        items = dragged_items(self.scene, self.pressed, self.extend)
        if not self.extend and not self.pressed.isSelected():
            self.scene.select_nodes([self.pressed.node_id])
        self.node_ids = [item.node_id for item in items]

    @property
    def copying(self) -> bool:
        """Whether the copies are shown (the mouse moved far enough)."""
        return bool(self.ghosts)

    def mouse_move(self, event: QGraphicsSceneMouseEvent) -> None:
        pos = event.scenePos()
        if not self.copying:
            view = self.editor.view
            moved = view.mapFromScene(pos) - view.mapFromScene(self.press_pos)
            if moved.manhattanLength() < QApplication.startDragDistance():
                return
            if not self._show_ghosts():
                return
        doc = self.editor.document
        if doc is None or not all(n in doc for n in self.node_ids):
            return  # an undo removed a node meanwhile: the release copies nothing
        # The pressed node lands on the grid; the others keep their distances.
        anchor = QPointF(*doc.node(self.pressed_id).pos)
        self.offset = self.scene.snap_point(anchor + pos - self.press_pos) - anchor
        for node_id, ghost in self.ghosts.items():
            x, y = doc.node(node_id).pos
            ghost.set_model_pos((x + self.offset.x(), y + self.offset.y()))

    def _show_ghosts(self) -> bool:
        doc = self.editor.document
        if doc is None or not all(n in doc for n in self.node_ids):
            return False  # an undo removed a node meanwhile
        status = self.scene.status.nodes
        for node_id in self.node_ids:
            node = doc.node(node_id)
            ghost = NodeItem(node, node.spec, self.scene.theme, status.get(node_id))
            # Shown only: not selectable, not movable, no hover highlight.
            ghost.setFlags(QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
            ghost.setAcceptHoverEvents(False)
            ghost.setOpacity(GHOST_OPACITY)
            ghost.setZValue(GHOST_Z)
            self.scene.addItem(ghost)
            self.ghosts[node_id] = ghost
        inside = set(self.node_ids)
        for edge in doc.edges:
            if edge.src_node not in inside or edge.dst_node not in inside:
                continue
            src = self.ghosts[edge.src_node].port_item(edge.src_port, False)
            dst = self.ghosts[edge.dst_node].port_item(edge.dst_port, True)
            line = EdgeItem(None, src, dst, self.scene.theme)
            for port in (src, dst):
                if port is not None:
                    port.node_item.edges.append(line)
            self.scene.addItem(line)
            self.ghost_edges.append(line)
        self.editor.view.viewport().setCursor(Qt.CursorShape.DragCopyCursor)
        n = len(self.node_ids)
        copies = "a copy" if n == 1 else f"copies of {n} nodes"
        self.editor.show_message(f"Release to place {copies}; Esc cancels.")
        return True

    def mouse_release(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() != self.button:
            return
        copying, offset = self.copying, (self.offset.x(), self.offset.y())
        self.restore()
        self.end()
        doc = self.editor.document
        if doc is None or not all(n in doc for n in self.node_ids):
            if copying:
                self.editor.show_message(
                    "Nothing was duplicated: an undo removed a node being copied."
                )
            return
        if not copying:
            if self.extend:
                self.pressed.setSelected(not self.pressed.isSelected())
            else:
                self.scene.select_nodes([self.pressed_id])
        elif offset != (0.0, 0.0):
            data = doc.subgraph_dict(self.node_ids)
            self.editor.paste_data(data, offset, "Duplicate")

    def restore(self) -> None:
        if self.copying:
            self.editor.show_message("")
        for item in (*self.ghost_edges, *self.ghosts.values()):
            if item.scene() is not None:
                self.scene.removeItem(item)
        self.ghost_edges.clear()
        self.ghosts.clear()
        self.editor.view.viewport().unsetCursor()
