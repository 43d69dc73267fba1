"""Drag a canvas note: it follows the mouse and the release pushes one undo step;
a click selects it (a double-click edits it, see the editor)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QGraphicsSceneMouseEvent

from ..items.note_item import NoteItem
from .base import Gesture, extends_selection

if TYPE_CHECKING:
    from ..editor import CanvasEditor


class MoveNote(Gesture):
    """Move one note; Escape puts it back."""

    def __init__(
        self, editor: CanvasEditor, pressed: NoteItem, event: QGraphicsSceneMouseEvent
    ) -> None:
        super().__init__(editor)
        self.pressed = pressed
        self.press_pos = QPointF(event.scenePos())
        self.origin = QPointF(pressed.pos())
        self.extend = extends_selection(event)
        self.moved = False

    def start(self) -> None:
        if not self.extend and not self.pressed.isSelected():
            self.scene.clearSelection()
            self.pressed.setSelected(True)

    def mouse_move(self, event: QGraphicsSceneMouseEvent) -> None:
        delta = event.scenePos() - self.press_pos
        if not self.moved and delta.isNull():
            return
        self.moved = True
        self.pressed.setPos(self.scene.snap_point(self.origin + delta))

    def mouse_release(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() != self.button:
            return
        self.end()
        if not shiboken6.isValid(self.pressed):
            return
        if not self.moved:
            if self.extend:
                self.pressed.setSelected(not self.pressed.isSelected())
            else:
                self.scene.clearSelection()
                self.pressed.setSelected(True)
            return
        pos = self.pressed.pos()
        if not self.editor.move_note(self.pressed.note_id, (pos.x(), pos.y())):
            self.restore()

    def restore(self) -> None:
        if shiboken6.isValid(self.pressed):
            self.pressed.setPos(self.origin)
