"""Select the nodes and edges a rectangle dragged on empty canvas touches."""

from __future__ import annotations

from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QPointF, QRectF, QSignalBlocker, Qt
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsSceneMouseEvent,
)

from .base import Gesture, extends_selection

if TYPE_CHECKING:
    from ..editor import CanvasEditor

BAND_Z = 1000.0


class RubberBandSelect(Gesture):
    """Press on empty canvas and drag: everything the rectangle touches is
    selected (with Ctrl or Shift, added to the selection).

    A plain press clears the selection first, so a click on empty canvas
    deselects. Selecting is not an edit of the document, so the band pushes
    nothing; Escape gives back the selection it started with.
    """

    def __init__(self, editor: CanvasEditor, event: QGraphicsSceneMouseEvent) -> None:
        super().__init__(editor)
        self.press_pos = QPointF(event.scenePos())
        self.extend = extends_selection(event)
        self.before: set[QGraphicsItem] = set()
        self.band = QGraphicsRectItem()
        self.band.setZValue(BAND_Z)

    def start(self) -> None:
        self.before = set(self.scene.selectedItems())
        if not self.extend:
            self._select(set())
        colour = QColor(self.scene.theme.highlight)
        pen = QPen(colour, 0)  # cosmetic: one pixel at any zoom
        colour.setAlpha(40)
        self.band.setPen(pen)
        self.band.setBrush(QBrush(colour))
        self.band.setRect(QRectF(self.press_pos, self.press_pos))
        self.scene.addItem(self.band)

    def mouse_move(self, event: QGraphicsSceneMouseEvent) -> None:
        rect = QRectF(self.press_pos, event.scenePos()).normalized()
        self.band.setRect(rect)
        path = QPainterPath()
        path.addRect(rect)
        flag = QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
        hits = {
            item
            for item in self.scene.items(path, Qt.ItemSelectionMode.IntersectsItemShape)
            if item.flags() & flag
        }
        self._select((self._kept() if self.extend else set()) | hits)

    def _kept(self) -> set[QGraphicsItem]:
        # An undo while the button is down may have removed a selected item.
        return {
            item
            for item in self.before
            if shiboken6.isValid(item) and item.scene() is self.scene
        }

    def _select(self, wanted: set[QGraphicsItem]) -> None:
        current = set(self.scene.selectedItems())
        if current == wanted:
            return
        # Qt emits selectionChanged per item; listeners only need the end result.
        with QSignalBlocker(self.scene):
            for item in current - wanted:
                item.setSelected(False)
            for item in wanted - current:
                item.setSelected(True)
        self.scene.selectionChanged.emit()

    def mouse_release(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() == self.button:
            self._remove_band()
            self.end()

    def restore(self) -> None:
        self._remove_band()
        self._select(self._kept())

    def _remove_band(self) -> None:
        if self.band.scene() is not None:
            self.scene.removeItem(self.band)
