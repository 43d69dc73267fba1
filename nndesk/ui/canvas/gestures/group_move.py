"""Drag a group by its frame's title bar or border, or its collapsed box: all its
nodes move as a whole, one undo step. A click selects the group (its button
collapses or expands it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QGraphicsSceneMouseEvent

from nndesk.document.graph import Pos

from ..items.group_item import GroupItem
from ..items.node_item import NodeItem
from .base import Gesture, extends_selection

if TYPE_CHECKING:
    from ..editor import CanvasEditor


class MoveGroup(Gesture):
    """The group's nodes (shown or hidden in a collapsed box) and its item follow
    the mouse; the release pushes one MoveNodesCommand named "Move Group". Escape
    puts everything back."""

    def __init__(
        self,
        editor: CanvasEditor,
        pressed: GroupItem,
        event: QGraphicsSceneMouseEvent,
        click: bool = True,
    ) -> None:
        super().__init__(editor)
        self.pressed = pressed
        self.click = click  # False: a release without a move does nothing
        self.press_pos = QPointF(event.scenePos())
        self.extend = extends_selection(event)
        self.on_button = pressed.on_button(event.scenePos())
        self.items: dict[NodeItem, QPointF] = {}
        self.frame_origin = QPointF(pressed.pos())
        self.moved = False

    def start(self) -> None:
        self.items = {
            self.scene.node_item(n): QPointF(self.scene.node_item(n).pos())
            for n in self.pressed.group.node_ids
        }
        if not self.pressed.isSelected() and not self.extend:
            self.editor.select_group(self.pressed.group_id)

    def _delta(self, event: QGraphicsSceneMouseEvent) -> QPointF:
        delta = event.scenePos() - self.press_pos
        if not self.items:
            return delta
        first = next(iter(self.items.values()))
        return self.scene.snap_point(first + delta) - first  # the grid, if on

    def mouse_move(self, event: QGraphicsSceneMouseEvent) -> None:
        delta = self._delta(event)
        if not self.moved and delta.isNull():
            return
        self.moved = True
        for item, origin in self._live():
            item.setPos(origin + delta)
        self.pressed.setPos(self.frame_origin + delta)

    def _live(self) -> list[tuple[NodeItem, QPointF]]:
        # An undo while the button is down may have removed a node of the group.
        doc = self.editor.document
        return [
            (item, origin)
            for item, origin in self.items.items()
            if shiboken6.isValid(item) and doc is not None and item.node_id in doc
        ]

    def mouse_release(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() != self.button:
            return
        if not self.moved:
            self.end()
            if not self.click or not shiboken6.isValid(self.pressed):
                return
            if self.on_button:
                self.editor.toggle_group_collapsed(self.pressed.group_id)
            elif self.extend:
                self.pressed.setSelected(not self.pressed.isSelected())
            else:
                self.editor.select_group(self.pressed.group_id)
            return
        moves = self.moves()
        self.end()
        if not moves or not self.editor.move_nodes(moves, "Move Group"):
            self.restore()

    def moves(self) -> dict[str, tuple[Pos, Pos]]:
        """Node id → (document position, position now shown)."""
        doc = self.editor.document
        assert doc is not None
        out = {}
        for item, _origin in self._live():
            old, new = doc.node(item.node_id).pos, item.model_pos()
            if new != old:
                out[item.node_id] = (old, new)
        return out

    def restore(self) -> None:
        doc = self.editor.document
        for item, _origin in self._live():
            assert doc is not None
            item.set_model_pos(doc.node(item.node_id).pos)
        if shiboken6.isValid(self.pressed):
            self.pressed.setPos(self.frame_origin)
        self.scene.overlay.sync()
