"""The paint tool: paints the document's painted set on any pyqtgraph plot."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QKeyEvent, QPainter
from PySide6.QtWidgets import (
    QGraphicsObject,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from nndesk.document.graph import Document
from nndesk.document.painted import PaintedPoints
from nndesk.engine.errors import NNDeskError
from nndesk.io.datasets import Scaler

from ..plots.base import diverging_lut
from ..plots.colors import class_color
from .commands import PaintCommand, Push

__all__ = ["BRUSH_PX", "COLOR_BANDS", "PaintTool"]

BRUSH_PX = 14
"""Default radius of the brush (the eraser circle), in screen pixels."""
SPACING_SHARE = 0.6
"""A drag adds a point every ``SPACING_SHARE * brush`` pixels (at least 4)."""
POINT_SIZE = 8
COLOR_BANDS = 10
"""Colours the points are drawn in: the class colours (classes past 10 repeat
them, as everywhere), or as many steps of the value map for regression."""


class _Surface(QGraphicsObject):
    """An invisible item over a ViewBox that takes the mouse while painting."""

    def __init__(self, tool: PaintTool, box: pg.ViewBox) -> None:
        super().__init__(box)
        self._tool = tool
        self._box = box
        self.setZValue(1e6)
        self.setAcceptHoverEvents(True)
        self.setFlag(QGraphicsObject.GraphicsItemFlag.ItemIsFocusable, True)
        self.setAcceptedMouseButtons(
            Qt.MouseButton.LeftButton | Qt.MouseButton.RightButton
        )
        box.sigResized.connect(self._on_box_resized)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._box.boundingRect()

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        pass  # the points and the brush ring are pyqtgraph items of their own

    def _on_box_resized(self) -> None:
        self.prepareGeometryChange()

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        self.setFocus()
        erase = event.button() == Qt.MouseButton.RightButton
        self._tool.begin_stroke(event.pos(), erase)
        event.accept()

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        self._tool.continue_stroke(event.pos())
        event.accept()

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        self._tool.continue_stroke(event.pos())
        self._tool.end_stroke()
        event.accept()

    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:  # noqa: N802
        self._tool.show_brush(event.pos())

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:  # noqa: N802
        self._tool.show_brush(None)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if not self._tool.handle_key(event.key()):
            event.ignore()


class PaintTool(QObject):
    """Paints the document's painted set on a pyqtgraph ``PlotItem``.

    Parameters
    ----------
    plot
        The plot to draw the points on and to paint in.
    push
        The canvas editor's ``push`` (None: the tool only shows the points).

    Attributes
    ----------
    value : int or float
        The class (classification) or target value (regression) new points get.
    brush_px : int
        Brush radius in screen pixels: the eraser circle and the spacing of a drag.
    erasing : bool
        Whether a left drag erases too (a right drag always does).
    show_when_idle : bool
        Show the painted points while the mouse does not paint (the Decision
        Boundary shows the training points then instead).

    Signals
    -------
    sig_message(str)
        One sentence for the status bar (an edit refused, a count).
    sig_changed()
        The painted set, the value or a tool setting changed (toolbars follow).
    """

    sig_message = Signal(str)
    sig_changed = Signal()

    def __init__(self, plot: pg.PlotItem, push: Push | None = None) -> None:
        super().__init__(plot)
        self.plot = plot
        self.push = push
        self.value: int | float = 0
        self.brush_px = BRUSH_PX
        self.erasing = False
        self.show_when_idle = True
        self._doc: Document | None = None
        self._scaler: Scaler | None = None
        self._active = False
        self._mode: str | None = None  # "add" or "erase" during a stroke
        self._added: list[tuple[float, float]] = []
        self._erased: set[int] = set()
        self._last: QPointF | None = None
        self._lut = diverging_lut()
        box = plot.getViewBox()
        self.box: pg.ViewBox = box
        # One item per colour (a class, or a band of target values), each with one
        # brush: pyqtgraph draws a single-brush item from one cached symbol, while
        # a brush per point cost 60 ms a redraw at 400 points and 1.6 s at 10,000.
        self.layers = [self._points_item(20) for _ in range(COLOR_BANDS)]
        # The stroke under way: its new points, and the points it will erase.
        self.stroke = self._points_item(22)
        self.doomed = self._points_item(23)
        self.doomed.setSymbol("x")
        self.doomed.setBrush(pg.mkBrush(40, 40, 40, 230))
        self.doomed.setPen(pg.mkPen(255, 255, 255, 230, width=1))
        self._band_brushes = [pg.mkBrush(*class_color(k)) for k in range(COLOR_BANDS)]
        self.ring = pg.ScatterPlotItem(
            symbol="o", pen=pg.mkPen(128, 128, 128, 230, width=1.5), brush=None
        )
        self.ring.setZValue(21)
        plot.addItem(self.ring)
        self.surface = _Surface(self, box)
        self.surface.setVisible(False)

    # --- what it paints on -------------------------------------------------------------
    @property
    def document(self) -> Document | None:
        """The document whose painted set is shown."""
        return self._doc

    @property
    def painted(self) -> PaintedPoints:
        """The painted set shown (empty without a document)."""
        return self._doc.painted if self._doc is not None else PaintedPoints.empty()

    def set_document(self, doc: Document | None) -> None:
        """Show and paint ``doc``'s painted set (None: nothing)."""
        self.cancel_stroke()
        if self._doc is not None:
            self._doc.events.painted_changed.disconnect(self._on_painted_changed)
        self._doc = doc
        if doc is not None:
            doc.events.painted_changed.connect(self._on_painted_changed)
        self._fit_value()
        self.redraw()
        self.sig_changed.emit()

    def set_scaling(self, scaler: Scaler | None) -> None:
        """Plot coordinates are ``scaler.transform`` of the data's (the decision
        boundary shows the inputs as the network sees them); None: the same."""
        self._scaler = scaler
        self.redraw()

    @property
    def active(self) -> bool:
        """Whether the mouse paints (else the plot pans and zooms)."""
        return self._active

    def set_active(self, on: bool) -> None:
        """Paint with the mouse (True) or give it back to the plot (False)."""
        self._active = bool(on)
        if not on:
            self.cancel_stroke()
            self.show_brush(None)
        self.surface.setVisible(self._active)
        for item in (*self.layers, self.stroke, self.doomed):
            item.setVisible(self._active or self.show_when_idle)
        self.sig_changed.emit()

    def set_value(self, value: float) -> None:
        """The class (or target value) the next points get."""
        painted = self.painted
        if painted.is_classification:
            self.value = int(min(max(int(value), 0), painted.n_classes - 1))
        else:
            self.value = float(value)
        self.sig_changed.emit()

    def set_brush(self, pixels: int) -> None:
        """The brush radius in screen pixels."""
        self.brush_px = max(2, int(pixels))
        self.sig_changed.emit()

    def set_erasing(self, on: bool) -> None:
        """Left drags erase (True) or add points (False)."""
        self.erasing = bool(on)
        self.sig_changed.emit()

    # --- strokes (surface coordinates are the ViewBox's own) ------------------------------
    def begin_stroke(self, pos: QPointF, erase: bool = False) -> None:
        """Start a stroke at ``pos``: adding points, or erasing (``erase`` or Erase on)."""
        if self._doc is None or self.push is None:
            return
        self._mode = "erase" if erase or self.erasing else "add"
        self._added, self._erased = [], set()
        self._last = None
        self.continue_stroke(pos)

    def continue_stroke(self, pos: QPointF) -> None:
        """Extend the stroke to ``pos`` (points every few pixels, or erase along)."""
        if self._mode is None:
            return
        self.show_brush(pos)
        step = max(4.0, SPACING_SHARE * self.brush_px)
        if self._mode == "erase":
            step = max(2.0, self.brush_px / 2)
        last = self._last
        if last is None:
            spots = [pos]
        else:
            dx, dy = pos.x() - last.x(), pos.y() - last.y()
            count = int(math.hypot(dx, dy) // step)
            spots = [
                QPointF(last.x() + dx * k / max(count, 1), last.y() + dy * k / count)
                for k in range(1, count + 1)
            ]
        for spot in spots:
            self._apply(spot)
        if spots:
            self._last = spots[-1]
        self._draw_stroke()

    def _apply(self, spot: QPointF) -> None:
        x, y = self._to_data(spot)
        if self._mode == "add":
            if math.isfinite(x) and math.isfinite(y):
                self._added.append((x, y))
            return
        rx, ry = self._brush_radius()
        found = self.painted.near((x, y), (rx, ry))
        self._erased.update(int(i) for i in found)

    def end_stroke(self) -> None:
        """Push the stroke as one undo step (nothing when it changed nothing)."""
        mode, added, erased = self._mode, self._added, self._erased
        self.cancel_stroke()
        doc, push = self._doc, self.push
        if mode is None or doc is None or push is None:
            return
        painted = doc.painted
        try:
            if mode == "add" and added:
                new = painted.added(added, self.value)
                n = len(added)
                what = self._value_text()
                text = f"Paint {n} point{'s' if n != 1 else ''} ({what})"
            elif mode == "erase" and erased:
                new = painted.removed(sorted(erased))
                n = len(erased)
                text = f"Erase {n} point{'s' if n != 1 else ''}"
            else:
                return
        except NNDeskError as exc:
            self.sig_message.emit(str(exc))
            return
        self.edit(new, text)

    def cancel_stroke(self) -> None:
        """Drop the stroke under way (nothing reaches the document)."""
        had = self._mode is not None
        self._mode, self._added, self._erased, self._last = None, [], set(), None
        if had:
            self._draw_stroke()

    def edit(self, painted: PaintedPoints, text: str) -> bool:
        """Push ``painted`` as the document's painted set (one undo step)."""
        if self._doc is None or self.push is None:
            return False
        command = self.push(lambda d: PaintCommand(d, painted, text))
        if command is None:
            return False
        self.sig_message.emit(f"{text}: {self.painted.summary()}.")
        return True

    def handle_key(self, key: int) -> bool:
        """Keys while the plot has focus: digits pick a class, E erases, Esc cancels."""
        if Qt.Key.Key_0 <= key <= Qt.Key.Key_9 and self.painted.is_classification:
            digit = int(key) - int(Qt.Key.Key_0)
            self.set_value(9 if digit == 0 else digit - 1)
            return True
        if key == Qt.Key.Key_E:
            self.set_erasing(not self.erasing)
            return True
        if key == Qt.Key.Key_Escape and self._mode is not None:
            self.cancel_stroke()
            return True
        return False

    # --- drawing --------------------------------------------------------------------------
    def redraw(self) -> None:
        """Draw the painted set (after it changed) and the stroke under way."""
        painted = self.painted
        shown = self._to_plot(painted.xy.astype(np.float64))
        bands, brushes = self._bands(painted)
        for k, item in enumerate(self.layers):
            mine = bands == k
            if not mine.any():
                item.setData([], [])
                continue
            item.setData(shown[mine, 0], shown[mine, 1], brush=brushes[k])
        self._draw_stroke()

    def _draw_stroke(self) -> None:
        """Draw only the stroke under way (every mouse move): its new points in
        the chosen colour, the points it erases crossed out."""
        if self._added:
            xy = self._to_plot(np.asarray(self._added, dtype=np.float64))
            painted = self.painted
            one = np.array([float(self.value)])
            bands, brushes = self._bands(painted, one)
            self.stroke.setData(xy[:, 0], xy[:, 1], brush=brushes[int(bands[0])])
        else:
            self.stroke.setData([], [])
        if self._erased:
            index = np.fromiter(self._erased, dtype=np.int64)
            xy = self._to_plot(self.painted.xy[index].astype(np.float64))
            self.doomed.setData(xy[:, 0], xy[:, 1])
        else:
            self.doomed.setData([], [])

    def shown_count(self) -> int:
        """Points drawn for the painted set (without the stroke under way)."""
        return sum(len(item.data) for item in self.layers)

    def _bands(
        self, painted: PaintedPoints, values: np.ndarray | None = None
    ) -> tuple[np.ndarray, list[Any]]:
        """The colour band of each value (of ``painted``'s own by default) and the
        brushes of the bands: a class's colour, or one of ``COLOR_BANDS`` steps of
        the diverging map over the set's target range."""
        v = painted.values if values is None else values
        if painted.is_classification:
            return np.asarray(v, dtype=np.int64) % COLOR_BANDS, self._band_brushes
        span = painted.values if len(painted.values) else np.zeros(1)
        lo, hi = float(span.min()), float(span.max())
        ratio = (np.asarray(v, dtype=np.float64) - lo) / ((hi - lo) or 1.0)
        bands = np.clip((ratio * COLOR_BANDS).astype(np.int64), 0, COLOR_BANDS - 1)
        steps = np.linspace(0, len(self._lut) - 1, COLOR_BANDS).astype(np.int64)
        return bands, [pg.mkBrush(*self._lut[i, :3]) for i in steps]

    def _points_item(self, z: int) -> pg.ScatterPlotItem:
        item = pg.ScatterPlotItem(
            size=POINT_SIZE, pen=pg.mkPen(255, 255, 255, 220, width=1)
        )
        item.setZValue(z)
        self.plot.addItem(item)
        return item

    def show_brush(self, pos: QPointF | None) -> None:
        """Draw the brush circle at ``pos`` (surface coordinates); None hides it."""
        if pos is None or not self._active:
            self.ring.setData([], [])
            return
        point = self.box.mapToView(pos)
        self.ring.setData([point.x()], [point.y()], size=2 * self.brush_px)

    def _fit_value(self) -> None:
        painted = self.painted
        if painted.is_classification:
            if not isinstance(self.value, int) or self.value >= painted.n_classes:
                self.value = 0
        elif isinstance(self.value, int):
            self.value = float(self.value)

    def _on_painted_changed(self, event: object) -> None:
        self._fit_value()
        self.redraw()
        self.sig_changed.emit()

    # --- coordinates ---------------------------------------------------------------------------
    def _to_data(self, spot: QPointF) -> tuple[float, float]:
        point = self.box.mapToView(spot)
        xy = np.array([[point.x(), point.y()]], dtype=np.float64)
        if self._scaler is not None:
            xy = self._scaler.inverse_transform(xy.astype(np.float32)).astype(
                np.float64
            )
        return float(xy[0, 0]), float(xy[0, 1])

    def _to_plot(self, xy: np.ndarray) -> np.ndarray:
        if self._scaler is None:
            return xy
        return self._scaler.transform(xy.astype(np.float32)).astype(np.float64)

    def _brush_radius(self) -> tuple[float, float]:
        """The brush radius in data units, per axis."""
        px, py = self.box.viewPixelSize()
        rx, ry = px * self.brush_px, py * self.brush_px
        if self._scaler is not None:
            corner = np.array([[rx, ry]], dtype=np.float32)
            zero = np.zeros((1, 2), dtype=np.float32)
            a = self._scaler.inverse_transform(corner) - self._scaler.inverse_transform(
                zero
            )
            rx, ry = abs(float(a[0, 0])), abs(float(a[0, 1]))
        return rx, ry

    def _value_text(self) -> str:
        if self.painted.is_classification:
            return f"class {int(self.value)}"
        return f"value {float(self.value):g}"
