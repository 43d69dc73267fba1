"""Painting 2-D data: a paint tool for any pyqtgraph plot, its toolbar, a ready widget.

The painted points live in the document (``Document.painted``, a
``nndesk.document.painted.PaintedPoints``); every edit is one ``PaintCommand`` on
the window's undo stack, pushed through the canvas editor's ``push`` (tried on a
copy first, like every edit). The tool only draws the document's set and follows
its ``painted_changed`` events, so undo and redo repaint by themselves.

Mouse: left click adds a point of the chosen class (or target value), a left drag
adds points along the path (one per ``spacing`` pixels), a right drag erases the
points under the brush circle (so does a left drag with Erase on). Each stroke is
one undo step, pushed on release. Keys (with the plot focused): 1-9 and 0 pick a
class, E toggles Erase, Esc cancels a stroke.

Embedding, as the Data panel does (a plot, the toolbar and the tool in one)::

    paint = PaintWidget(push=window.editor.push)
    paint.set_document(window.document)       # again on sig_document_replaced
    paint.sig_message.connect(window.statusBar().showMessage)

On a plot you already have, as the Decision Boundary panel does::

    tool = PaintTool(plot_item, push=editor.push)
    toolbar = PaintToolbar(tool)
    tool.set_document(doc)
    tool.set_active(True)     # off: the plot pans and zooms as usual

``start_painting(push, doc, dataset)`` makes the painted set the network's
dataset in one undo step, starting from ``dataset``'s points (a 2-D generator's,
say) or from an empty canvas.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QIcon,
    QKeyEvent,
    QPainter,
    QPalette,
    QPixmap,
    QUndoCommand,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QGraphicsObject,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QSpinBox,
    QStyleOptionGraphicsItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nndesk.document.graph import Document
from nndesk.document.painted import MAX_CLASSES, PaintedPoints
from nndesk.engine.errors import NNDeskError
from nndesk.io.datasets import Dataset, Scaler
from nndesk.io.datasets.painted import PAINTED, export_painted_csv, painted_from_dataset

from ..canvas.commands import MacroCommand, SetParamCommand, SetSettingCommand
from .plots.base import diverging_lut, style_plot
from .plots.colors import class_color

log = logging.getLogger(__name__)

__all__ = [
    "PaintCommand",
    "PaintTool",
    "PaintToolbar",
    "PaintWidget",
    "Push",
    "start_painting",
]

Push = Callable[[Callable[[Document], QUndoCommand]], "QUndoCommand | None"]
"""The canvas editor's ``push``: builds a command, tries it on a copy, pushes it."""

BRUSH_PX = 14
"""Default radius of the brush (the eraser circle), in screen pixels."""
SPACING_SHARE = 0.6
"""A drag adds a point every ``SPACING_SHARE * brush`` pixels (at least 4)."""
POINT_SIZE = 8
COLOR_BANDS = 10
"""Colours the points are drawn in: the class colours (classes past 10 repeat
them, as everywhere), or as many steps of the value map for regression."""
MIN_PLOT_HEIGHT = 220
"""Least height of the PaintWidget's plot, in pixels."""


class PaintCommand(QUndoCommand):
    """Replace the painted set (a stroke, an erase, a clear, a class change);
    undo puts the previous set back."""

    def __init__(self, doc: Document, painted: PaintedPoints, text: str) -> None:
        super().__init__()
        self._doc = doc
        self._new = painted
        self._old: PaintedPoints | None = None
        self.setText(text)

    def redo(self) -> None:
        self._old = self._doc.set_painted(self._new)

    def undo(self) -> None:
        assert self._old is not None
        self._doc.set_painted(self._old)


def start_painting(
    push: Push, doc: Document, dataset: Dataset | None = None, *, keep: bool = False
) -> bool:
    """Make the painted set the network's dataset, as one undo step.

    Parameters
    ----------
    push
        The canvas editor's ``push``.
    doc
        The document.
    dataset
        A 2-D dataset whose points (and classes or targets) the painting starts
        from, e.g. the current generator's; None starts from an empty canvas.
    keep
        Keep the painted points the document already has (``dataset`` is then
        ignored unless the set is empty).

    Returns
    -------
    bool
        False when refused (the reason is shown by ``push``'s owner), e.g. a
        dataset that is not 2-D points.

    Raises
    ------
    NNDeskError
        When ``dataset`` cannot be painted on (not 2-D, too many points).
    """
    if keep and len(doc.painted):
        start = doc.painted
    elif dataset is not None:
        start = painted_from_dataset(dataset)
    else:
        start = doc.painted.cleared()
    shape = (2,)
    inputs = [n.id for n in doc.nodes_of_type("Input") if n.params["shape"] != shape]

    def build(d: Document) -> QUndoCommand:
        command = MacroCommand("Paint Your Own Data")
        command.add(PaintCommand(d, start, "Paint"))
        command.add(SetSettingCommand(d, "dataset", PAINTED))
        for node_id in inputs:
            command.add(SetParamCommand(d, node_id, "shape", shape))
        return command

    return push(build) is not None


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


class PaintTool(pg.QtCore.QObject):
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


class FlowLayout(QLayout):
    """Lays its items out left to right and wraps them onto more rows when the
    width runs out (the Qt flow-layout example, for the paint toolbar)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._gap = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 - Qt override
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt override
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt override
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 - Qt override
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt override
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt override
        return self._arrange(QRect(0, 0, width, 0), place=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 - Qt override
        super().setGeometry(rect)
        self._arrange(rect, place=True)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        width = sum(i.sizeHint().width() + self._gap for i in self._shown())
        height = max((i.sizeHint().height() for i in self._shown()), default=0)
        return QSize(max(0, width - self._gap), height)

    def minimumSize(self) -> QSize:  # noqa: N802 - Qt override
        size = QSize()
        for item in self._shown():
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _shown(self) -> list[QLayoutItem]:
        return [i for i in self._items if not i.isEmpty()]

    def _arrange(self, rect: QRect, place: bool) -> int:
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, row = area.x(), area.y(), 0
        for item in self._shown():
            hint = item.sizeHint()
            if x > area.x() and x + hint.width() > area.right() + 1:
                x, y, row = area.x(), y + row + self._gap // 2, 0
            if place:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._gap
            row = max(row, hint.height())
        return y + row - rect.y() + m.bottom()


def _group(parent: QWidget, *widgets: QWidget) -> QWidget:
    """Widgets kept on one row of the toolbar."""
    group = QWidget(parent)
    row = QHBoxLayout(group)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(4)
    for widget in widgets:
        row.addWidget(widget)
    return group


def _swatch(k: int) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(*class_color(k)))
    return QIcon(pixmap)


class PaintToolbar(QWidget):
    """Class (or value) picker, class count, brush, Erase, Clear and Export CSV for a
    ``PaintTool``; it follows the tool (and so the document)."""

    def __init__(self, tool: PaintTool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tool = tool
        # Groups that wrap onto further rows when the panel is narrow, so the
        # toolbar never makes its panel (or the window) wider.
        layout = FlowLayout(self, spacing=10)
        self.task = QComboBox(self)
        self.task.addItems(["Classes", "Values"])
        self.task.setToolTip(
            "Paint classes (classification) or target values (regression)."
        )
        self.classes = QSpinBox(self)
        self.classes.setRange(2, MAX_CLASSES)
        self.classes.setPrefix("")
        self.classes.setToolTip("Number of classes of the painted data.")
        self.class_box = QComboBox(self)
        self.class_box.setToolTip("The class new points get (keys 1-9, 0).")
        self.value_box = QDoubleSpinBox(self)
        self.value_box.setRange(-1e6, 1e6)
        self.value_box.setDecimals(3)
        self.value_box.setSingleStep(0.1)
        self.value_box.setToolTip("The target value new points get.")
        self.brush = QSpinBox(self)
        self.brush.setRange(2, 80)
        self.brush.setPrefix("Brush ")
        self.brush.setSuffix(" px")
        self.brush.setToolTip("Brush radius: the eraser circle and a drag's spacing.")
        self.erase = QToolButton(self)
        self.erase.setText("Erase")
        self.erase.setCheckable(True)
        self.erase.setToolTip("Left drags erase too (a right drag always erases). E")
        self.clear = QToolButton(self)
        self.clear.setText("Clear")
        self.clear.setToolTip("Remove every painted point (Undo brings them back).")
        self.export = QToolButton(self)
        self.export.setText("Export CSV…")
        self.export.setToolTip("Save the painted points as a CSV file (x, y, class).")
        self.count = QLabel(self)
        self._class_label = QLabel("Class", self)
        self._classes_label = QLabel("of", self)
        self._value_label = QLabel("Value", self)
        layout.addWidget(
            _group(
                self,
                self.task,
                self._class_label,
                self.class_box,
                self._classes_label,
                self.classes,
                self._value_label,
                self.value_box,
            )
        )
        layout.addWidget(_group(self, self.brush, self.erase, self.clear))
        layout.addWidget(_group(self, self.export, self.count))
        self.task.activated.connect(self._on_task_activated)
        self.classes.editingFinished.connect(self._on_classes_edited)
        self.class_box.activated.connect(self._on_class_box_activated)
        self.value_box.valueChanged.connect(self._on_value_box_changed)
        self.brush.valueChanged.connect(self._on_brush_changed)
        self.erase.toggled.connect(self._on_erase_toggled)
        self.clear.clicked.connect(self.clear_points)
        self.export.clicked.connect(self._on_export_clicked)
        tool.sig_changed.connect(self.sync)
        # How Export asks for a file; tests replace it.
        self.ask_path: Callable[[], str] = self._ask_path
        self.sync()

    def sync(self) -> None:
        """Show the tool's state (the document's set, the value, the brush)."""
        tool, painted = self.tool, self.tool.painted
        classes = painted.is_classification
        widgets = (self.task, self.classes, self.class_box, self.value_box)
        for w in widgets:
            w.blockSignals(True)
        try:
            self.task.setCurrentIndex(0 if classes else 1)
            for w in (self._class_label, self.class_box, self._classes_label):
                w.setVisible(classes)
            self.classes.setVisible(classes)
            self._value_label.setVisible(not classes)
            self.value_box.setVisible(not classes)
            if classes:
                self.classes.setValue(painted.n_classes)
                if self.class_box.count() != painted.n_classes:
                    self.class_box.clear()
                    for k in range(painted.n_classes):
                        self.class_box.addItem(_swatch(k), str(k))
                self.class_box.setCurrentIndex(int(tool.value))
            else:
                self.value_box.setValue(float(tool.value))
        finally:
            for w in widgets:
                w.blockSignals(False)
        self.brush.blockSignals(True)
        self.brush.setValue(tool.brush_px)
        self.brush.blockSignals(False)
        self.erase.blockSignals(True)
        self.erase.setChecked(tool.erasing)
        self.erase.blockSignals(False)
        has_doc = tool.document is not None and tool.push is not None
        for w in (self.task, self.classes, self.clear, self.export):
            w.setEnabled(has_doc)
        self.clear.setEnabled(has_doc and len(painted) > 0)
        self.export.setEnabled(has_doc and len(painted) > 0)
        n = len(painted)
        self.count.setText(f"{n} point{'s' if n != 1 else ''}")
        self.count.setToolTip(painted.summary())

    def clear_points(self) -> bool:
        """Remove every painted point (one undo step)."""
        painted = self.tool.painted
        if not len(painted):
            return False
        return self.tool.edit(painted.cleared(), "Clear Painted Points")

    def export_csv(self, path: str | Path) -> Path | None:
        """Write the painted points to ``path`` as CSV (x, y, class or target)."""
        try:
            written = export_painted_csv(self.tool.painted, path)
        except NNDeskError as exc:
            self.tool.sig_message.emit(str(exc))
            return None
        self.tool.sig_message.emit(
            f"Exported {len(self.tool.painted)} points to {written}."
        )
        return written

    def _ask_path(self) -> str:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export Painted Points", "painted.csv", "CSV files (*.csv)"
        )
        return path

    def _on_export_clicked(self) -> None:
        path = self.ask_path()
        if path:
            self.export_csv(path)

    def _on_task_activated(self, index: int) -> None:
        painted = self.tool.painted
        wanted = 0 if index == 1 else max(2, self.classes.value())
        if (wanted == 0) == (not painted.is_classification):
            return
        self._change_classes(wanted, "Paint Values" if wanted == 0 else "Paint Classes")

    def _on_classes_edited(self) -> None:
        n = self.classes.value()
        if n != self.tool.painted.n_classes:
            self._change_classes(n, f"Set {n} Painted Classes")

    def _change_classes(self, n: int, text: str) -> None:
        try:
            new = self.tool.painted.with_classes(n)
        except NNDeskError as exc:
            self.tool.sig_message.emit(str(exc))
            self.sync()
            return
        if not self.tool.edit(new, text):
            self.sync()

    def _on_class_box_activated(self, index: int) -> None:
        self.tool.set_value(index)

    def _on_value_box_changed(self, value: float) -> None:
        self.tool.set_value(value)

    def _on_brush_changed(self, value: int) -> None:
        self.tool.set_brush(value)

    def _on_erase_toggled(self, on: bool) -> None:
        self.tool.set_erasing(on)


class PaintWidget(QWidget):
    """A plot of the painted set with the toolbar above it, painting always on.

    Parameters
    ----------
    push
        The canvas editor's ``push``; None shows the points read-only.

    Signals
    -------
    sig_message(str)
        One sentence for the status bar.
    """

    sig_message = Signal(str)

    def __init__(self, push: Push | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = pg.PlotWidget(self)
        self.view.setMenuEnabled(False)
        # Room to paint in even where the panel is short (a scrolling dock).
        self.view.setMinimumHeight(MIN_PLOT_HEIGHT)
        self.plot: pg.PlotItem = self.view.getPlotItem()
        self.plot.setAspectLocked(True)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setXRange(-1.0, 1.0)
        self.plot.setYRange(-1.0, 1.0)
        self.tool = PaintTool(self.plot, push)
        self.toolbar = PaintToolbar(self.tool, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.view, 1)
        self.tool.sig_message.connect(self.sig_message)
        self.tool.set_active(push is not None)
        self._apply_palette()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()  # the theme changed (light or dark)

    def _apply_palette(self) -> None:
        palette = self.palette()
        self.view.setBackground(palette.color(QPalette.ColorRole.Base))
        style_plot(self.plot, palette)

    def set_document(self, doc: Document | None) -> None:
        """Show and paint ``doc``'s painted set; frames its points when it has some."""
        self.tool.set_document(doc)
        self.frame()

    def frame(self) -> None:
        """Fit the view to the painted points (the -1..1 square when there are none)."""
        xy = self.tool.painted.xy
        if len(xy):
            lo, hi = xy.min(axis=0), xy.max(axis=0)
            pad = np.maximum((hi - lo) * 0.1, 0.25)
            self.plot.setXRange(float(lo[0] - pad[0]), float(hi[0] + pad[0]), padding=0)
            self.plot.setYRange(float(lo[1] - pad[1]), float(hi[1] + pad[1]), padding=0)
        else:
            self.plot.setXRange(-1.0, 1.0)
            self.plot.setYRange(-1.0, 1.0)

    def viewport_pos(self, x: float, y: float) -> Any:
        """Where the data point ``(x, y)`` is in ``view.viewport()`` pixels
        (for tests that drive the mouse)."""
        scene = self.tool.box.mapViewToScene(QPointF(x, y))
        return self.view.mapFromScene(scene)
