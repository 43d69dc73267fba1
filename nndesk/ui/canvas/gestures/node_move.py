"""Move nodes with the mouse: one MoveNodesCommand per drag, clicks select."""

from __future__ import annotations

from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QGraphicsSceneMouseEvent

from nndesk.document.graph import Pos

from ..items.node_item import NodeItem
from .base import Gesture, extends_selection

if TYPE_CHECKING:
    from ..editor import CanvasEditor
    from ..scene import CanvasScene


def dragged_items(
    scene: CanvasScene, pressed: NodeItem, extend: bool
) -> list[NodeItem]:
    """The nodes a drag from ``pressed`` moves, as Qt's item moves choose them: the
    selection and the pressed node, or the pressed node alone when a plain press
    lands outside the selection (it then becomes the selection)."""
    if not extend and not pressed.isSelected():
        return [pressed]
    items = [item for item in scene.node_items() if item.isSelected()]
    if pressed not in items:
        items.append(pressed)
    return items


class MoveNodes(Gesture):
    """Press on a node and drag: the dragged nodes follow the mouse (snapped to the
    grid when it is on) and the release pushes one MoveNodesCommand.

    A press without Ctrl/Shift on an unselected node selects it alone; a release
    where the press was (a click) selects the node alone, or with Ctrl/Shift
    toggles it, as in Qt. Escape puts the nodes back where they were.
    """

    def __init__(
        self, editor: CanvasEditor, pressed: NodeItem, event: QGraphicsSceneMouseEvent
    ) -> None:
        super().__init__(editor)
        self.pressed = pressed
        self.press_pos = QPointF(event.scenePos())
        self.extend = extends_selection(event)
        self.items: list[NodeItem] = []
        self.origins: dict[NodeItem, QPointF] = {}
        self.moved = False

    def start(self) -> None:
        self.items = dragged_items(self.scene, self.pressed, self.extend)
        if not self.extend and not self.pressed.isSelected():
            self.scene.select_nodes([self.pressed.node_id])
        self.origins = {item: QPointF(item.pos()) for item in self.items}

    def mouse_move(self, event: QGraphicsSceneMouseEvent) -> None:
        delta = event.scenePos() - self.press_pos
        if not self.moved and delta.isNull():
            return
        self.moved = True
        for item, origin in self._live_origins():
            item.setPos(origin + delta)  # NodeItem.itemChange snaps to the grid
        self.scene.overlay.refit_frames()  # group frames follow their nodes

    def _live_origins(self) -> list[tuple[NodeItem, QPointF]]:
        # An undo while the button is down may have removed a dragged node.
        doc = self.editor.document
        return [
            (item, origin)
            for item, origin in self.origins.items()
            if shiboken6.isValid(item) and doc is not None and item.node_id in doc
        ]

    def mouse_release(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() != self.button:
            return
        if event.scenePos() == self.press_pos and not self.moved:
            self.end()
            self._click()
            return
        moves = self.moves()
        self.end()
        if moves:
            self.commit(moves)

    def _click(self) -> None:
        if self.extend:
            self.pressed.setSelected(not self.pressed.isSelected())
        else:
            self.scene.select_nodes([self.pressed.node_id])

    def moves(self) -> dict[str, tuple[Pos, Pos]]:
        """Dragged node id → (document position, position now shown)."""
        doc = self.editor.document
        assert doc is not None
        moves = {}
        for item, _origin in self._live_origins():
            old, new = doc.node(item.node_id).pos, item.model_pos()
            if new != old:
                moves[item.node_id] = (old, new)
        return moves

    def commit(self, moves: dict[str, tuple[Pos, Pos]]) -> None:
        """Push the drag (subclasses may push something else instead)."""
        if not self.editor.move_nodes(moves):
            self._put_back()  # refused (cannot happen for plain moves)

    def restore(self) -> None:
        self._put_back()

    def _put_back(self) -> None:
        doc = self.editor.document
        for item, _origin in self._live_origins():
            assert doc is not None
            item.set_model_pos(doc.node(item.node_id).pos)
        self.scene.overlay.refit_frames()
