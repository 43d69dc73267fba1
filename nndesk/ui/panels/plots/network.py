"""The network view: neurons by layer, weighted edges, biases, and values on hover.

Columns are laid out left to right in topological order. A column of at most
``WIDE_UNITS`` units shows one circle per neuron, filled by its bias; a wider
column is a thin strip coloured by the biases. Between two narrow columns each
weight is a line, orange for positive and blue for negative, thicker and more
opaque the larger it is; the lines are grouped into a few buckets of equal pen
(one curve item per bucket, drawn as disconnected pairs), so a layer pair costs a
handful of items whatever its size. When either side is wide, the weight matrix
is drawn as a heatmap tile instead, so a 784-256-128-10 network stays fluid.

A column whose output is maps, ``(height, width, channels)`` (a convolution,
pooling or image input), is a stack of cards, one per channel up to ``MAX_CARDS``,
as tall as its maps are high (relative to the network's largest) and each filled
by its channel's bias; a kernel between two stacks is a funnel labelled with the
kernel's size, never one line per weight.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QResizeEvent
from PySide6.QtWidgets import QGraphicsRectItem, QWidget

from nndesk.training.gradient_flow import FlowReport
from nndesk.ui.canvas.items.flow_badge import badge_lines
from nndesk.ui.training.probes import LayerInfo, ModelInfo

from .base import PlotPanel, diverging_lut

__all__ = ["WIDE_UNITS", "NetworkPanel"]

WIDE_UNITS = 64
"""Columns wider than this are drawn as strips, and their weights as heatmap tiles."""

X_STEP = 6.0
WIDE_STEP = 14.0
RADIUS = 0.32
WIDE_HEIGHT = 24.0
STRIP_WIDTH = 0.7
# Weight magnitude buckets (fraction of the pair's largest |w|): pen width, alpha.
_LEVELS = ((0.25, 0.6, 70), (0.5, 1.2, 120), (0.75, 2.0, 180), (1.01, 3.0, 235))
_POS = (245, 147, 34)
_NEG = (8, 119, 189)
_NEUTRAL = (150, 150, 150)
HOVER_PIXELS = 6.0
_FLOW_COLORS = {"exploding": QColor(214, 39, 40), "vanishing": QColor(200, 120, 0)}
_FLOW_MARKS = {"exploding": "∇▲", "vanishing": "∇▼"}
MAX_CARDS = 8
"""Cards drawn per stack of maps (the label gives the channel count)."""
CARD_WIDTH = 3.0
CARD_OFFSET = 0.7
MIN_STACK_SHARE = 0.3
"""The smallest maps' stack is at least this share of the largest's height."""


@dataclass
class _Column:
    info: LayerInfo
    x: float
    ys: np.ndarray  # neuron centres (narrow) or unit rows (wide), top to bottom
    wide: bool
    dots: pg.ScatterPlotItem | None = None
    strip: pg.ImageItem | None = None
    label: pg.TextItem | None = None
    cards: list[QGraphicsRectItem] = field(default_factory=list)

    @property
    def is_stack(self) -> bool:
        """Drawn as a stack of feature maps."""
        return bool(self.cards)

    @property
    def highest(self) -> float:
        """The top of what the column draws (a stack's back card is higher)."""
        return self.top - max(0, len(self.cards) - 1) * CARD_OFFSET

    @property
    def top(self) -> float:
        return float(self.ys[0]) if len(self.ys) else 0.0

    @property
    def bottom(self) -> float:
        return float(self.ys[-1]) if len(self.ys) else 0.0


@dataclass
class _Link:
    src: _Column
    dst: _Column
    kernel: str | None
    curves: list[pg.PlotCurveItem] = field(default_factory=list)
    tile: pg.ImageItem | None = None
    rect: QRectF | None = None
    segments: np.ndarray | None = None  # (n_edges, 4) x0, y0, x1, y1 of every edge
    note: pg.TextItem | None = None  # the kernel's size, on a funnel between stacks


def _is_maps(layer: LayerInfo) -> bool:
    return len(layer.shape) == 3


def _column_ys(units: int) -> tuple[np.ndarray, bool]:
    if units > WIDE_UNITS:
        return np.linspace(-WIDE_HEIGHT / 2, WIDE_HEIGHT / 2, units), True
    return np.arange(units, dtype=np.float64) - (units - 1) / 2.0, False


class NetworkPanel(PlotPanel):
    """Neurons, weights and biases of the network, updated live.

    Call ``set_structure(info)`` when the model changes and ``set_weights(weights)``
    with each new copy of the weights; hovering shows a value in ``hover_text``.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Network", parent)
        self.box = self.graphics.addViewBox()
        self.box.invertY(True)
        self.box.setAspectLocked(True)
        self.box.setMenuEnabled(False)
        self.lut = diverging_lut()
        self.columns: dict[str, _Column] = {}
        self.links: list[_Link] = []
        self.weights: dict[str, np.ndarray] = {}
        self.hover_text = ""
        self.info: ModelInfo | None = None
        self.flow_labels: dict[str, pg.TextItem] = {}
        # name -> (full lines, short values, mark), the first that fits is shown
        self._flow_texts: dict[str, tuple[str, str, str]] = {}
        self._hover_label = pg.TextItem(
            "", anchor=(0, 1), fill=pg.mkBrush(40, 40, 40, 210)
        )
        self._hover_label.setColor(QColor(240, 240, 240))
        self._hover_label.setZValue(100)
        self._hover_label.hide()
        self.box.addItem(self._hover_label, ignoreBounds=True)
        self._mouse = pg.SignalProxy(
            self.graphics.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse_moved
        )

    # --- structure ---------------------------------------------------------------------
    def set_structure(self, info: ModelInfo | None) -> None:
        """Build the items of a model's columns and links (removing the old ones)."""
        for item in list(self.box.addedItems):
            if item is not self._hover_label:
                self.box.removeItem(item)
        self.columns, self.links, self.info = {}, [], info
        self.weights = {}
        self.flow_labels = {}  # removed with the other items above
        self._show_hover("", None)
        if info is None:
            return
        x = 0.0
        tallest = max((c.shape[0] for c in info.layers if _is_maps(c)), default=1)
        for layer in info.layers:
            if layer.inputs:
                widest = max(self.columns[src].wide for src in layer.inputs)
                x += WIDE_STEP if widest or layer.units > WIDE_UNITS else X_STEP
            if _is_maps(layer):
                self.columns[layer.name] = self._make_stack(layer, x, tallest)
            else:
                self.columns[layer.name] = self._make_column(layer, x)
        top = min(c.highest for c in self.columns.values()) - 0.8
        for column in self.columns.values():
            assert column.label is not None
            column.label.setPos(column.x, top)
        for layer in info.layers:
            for src in layer.inputs:
                kernel = layer.kernel if len(layer.inputs) == 1 else None
                self.links.append(
                    self._make_link(self.columns[src], self.columns[layer.name], kernel)
                )
        self._frame()
        self.schedule_redraw()

    def _make_column(self, layer: LayerInfo, x: float) -> _Column:
        ys, wide = _column_ys(layer.units)
        column = _Column(layer, x, ys, wide)
        if wide:
            column.strip = pg.ImageItem(axisOrder="row-major")
            column.strip.setLookupTable(self.lut)
            # An ImageItem can take its rectangle only once it holds an image.
            column.strip.setImage(np.zeros((len(ys), 1)), levels=(-1.0, 1.0))
            column.strip.setRect(
                QRectF(x - STRIP_WIDTH / 2, ys[0], STRIP_WIDTH, ys[-1] - ys[0])
            )
            column.strip.setZValue(5)
            self.box.addItem(column.strip)
        else:
            column.dots = pg.ScatterPlotItem(
                x=np.full(len(ys), x), y=ys, size=2 * RADIUS, pxMode=False,
                pen=pg.mkPen(90, 90, 90, 200, width=1), brush=pg.mkBrush(*_NEUTRAL),
            )  # fmt: skip
            column.dots.setZValue(10)
            self.box.addItem(column.dots)
        title = f"{layer.name}\n{layer.units}"
        if layer.activation and layer.activation != "linear":
            title += f" · {layer.activation}"
        column.label = pg.TextItem(title, anchor=(0.5, 1.0), color=self.text_color)
        self.box.addItem(column.label)
        return column

    def _make_stack(self, layer: LayerInfo, x: float, tallest: int) -> _Column:
        """A stack of cards for a column of maps (its ``ys`` span the front card)."""
        h, w, c = layer.shape
        height = WIDE_HEIGHT * max(MIN_STACK_SHARE, h / max(1, tallest))
        ys = np.linspace(-height / 2, height / 2, max(2, h))
        column = _Column(layer, x, ys, wide=True)
        n = min(c, MAX_CARDS)
        pen = pg.mkPen(70, 70, 70, 220, width=1)
        pen.setCosmetic(True)
        # Back to front: the last card added is drawn on top, at the column's x.
        for k in reversed(range(n)):
            card = QGraphicsRectItem(
                x - CARD_WIDTH / 2 + k * CARD_OFFSET,
                ys[0] - k * CARD_OFFSET,
                CARD_WIDTH,
                height,
            )
            card.setPen(pen)
            card.setBrush(pg.mkBrush(*_NEUTRAL))
            card.setZValue(5 + (n - k) * 0.01)
            self.box.addItem(card)
            column.cards.insert(0, card)  # cards[k] is channel k
        title = f"{layer.name}\n{h}×{w}×{c}"
        if layer.activation and layer.activation != "linear":
            title += f" · {layer.activation}"
        column.label = pg.TextItem(title, anchor=(0.5, 1.0), color=self.text_color)
        self.box.addItem(column.label)
        return column

    def _make_funnel(self, src: _Column, dst: _Column, link: _Link) -> None:
        """Lines from the edges of one stack to the next, labelled with the kernel."""
        x0 = src.x + CARD_WIDTH / 2 + (len(src.cards) - 1) * CARD_OFFSET
        x1 = dst.x - CARD_WIDTH / 2
        xs = [x0, x1, x0, x1]
        ys = [src.top, dst.top, src.bottom, dst.bottom]
        curve = pg.PlotCurveItem(
            xs, ys, pen=pg.mkPen(*_NEUTRAL, 170, width=1.5), connect="pairs"
        )
        self.box.addItem(curve)
        link.curves.append(curve)
        link.rect = QRectF(x0, min(src.top, dst.top), x1 - x0, 0.0)
        link.rect.setBottom(max(src.bottom, dst.bottom))
        link.note = pg.TextItem("", anchor=(0.5, 0.5), color=self.text_color)
        link.note.setPos((x0 + x1) / 2, (dst.top + dst.bottom) / 2)
        self.box.addItem(link.note)

    def _make_link(self, src: _Column, dst: _Column, kernel: str | None) -> _Link:
        link = _Link(src, dst, kernel)
        x0, x1 = src.x + RADIUS * 1.2, dst.x - RADIUS * 1.2
        if src.is_stack and dst.is_stack:
            self._make_funnel(src, dst, link)
            return link
        if src.is_stack:
            x0 = src.x + CARD_WIDTH / 2 + (len(src.cards) - 1) * CARD_OFFSET
        elif dst.is_stack:
            x1 = dst.x - CARD_WIDTH / 2
        if kernel is None or len(dst.info.shape) > 1:
            # A connection without weights (into Add, Concatenate, Activation...),
            # or with a kernel that is not a matrix (Conv1D, into a stack): its
            # weights are no (in units, out units) tile.
            link.curves.append(self._make_passage(src, dst, x0, x1))
        elif src.wide or dst.wide:
            top = min(src.top, dst.top, -WIDE_HEIGHT / 2)
            bottom = max(src.bottom, dst.bottom, WIDE_HEIGHT / 2)
            link.rect = QRectF(x0 + 0.4, top, (x1 - x0) - 0.8, bottom - top)
            link.tile = pg.ImageItem(axisOrder="row-major")
            link.tile.setLookupTable(self.lut)
            rows = src.info.units if src.is_stack else len(src.ys)
            link.tile.setImage(np.zeros((rows, len(dst.ys))), levels=(-1.0, 1.0))
            link.tile.setRect(link.rect)
            self.box.addItem(link.tile)
        else:
            a, b = np.meshgrid(src.ys, dst.ys, indexing="ij")  # kernel rows: src units
            link.segments = np.column_stack(
                [np.full(a.size, x0), a.reshape(-1), np.full(a.size, x1), b.reshape(-1)]
            )
            for sign in (_POS, _NEG):
                for _, width, alpha in _LEVELS:
                    curve = pg.PlotCurveItem(pen=pg.mkPen(*sign, alpha, width=width))
                    self.box.addItem(curve)
                    link.curves.append(curve)
        return link

    def _make_passage(
        self, src: _Column, dst: _Column, x0: float, x1: float
    ) -> pg.PlotCurveItem:
        """Unit-to-unit lines for a weightless link; a dashed line when widths differ."""
        pen = pg.mkPen(*_NEUTRAL, 130, width=1)
        offset = 0
        if dst.info.kind == "Concatenate":
            for name in dst.info.inputs:
                if name == src.info.name:
                    break
                offset += self.columns[name].info.units
        n = len(src.ys)
        if offset + n <= len(dst.ys):
            xs = np.tile([x0, x1], n)
            ys = np.column_stack([src.ys, dst.ys[offset : offset + n]]).reshape(-1)
            curve = pg.PlotCurveItem(xs, ys, pen=pen, connect="pairs")
        else:
            y0 = (src.top + src.bottom) / 2
            y1 = (dst.top + dst.bottom) / 2
            curve = pg.PlotCurveItem(
                [x0, x1], [y0, y1], pen=pg.mkPen(*_NEUTRAL, 160, width=2, dash=[4, 3])
            )
        self.box.addItem(curve)
        return curve

    def _frame(self) -> None:
        """Show every column and its title."""
        if not self.columns:
            return
        top = min(c.highest for c in self.columns.values())
        bottom = max(c.bottom for c in self.columns.values())
        right = max(c.x for c in self.columns.values())
        # Room for the gradient-flow lines under the columns once there are some.
        y_range = (top - 3.0, bottom + (3.5 if self.flow_labels else 1.0))
        self.box.setRange(
            xRange=(-X_STEP * 0.4, right + X_STEP * 0.4), yRange=y_range, padding=0.02
        )
        self._fit_labels(y_range)
        for link in self.links:
            self._fit_note(link)
        self._fit_flow()

    def _fit_labels(self, y_range: tuple[float, float]) -> None:
        """Column titles wrap to the room between columns, and the view widens for
        the first and last ones (issue 11: at 1280x800 neighbours ran into each
        other and the outer ones were cut at the edges)."""
        columns = sorted(self.columns.values(), key=lambda c: c.x)
        gaps = [b.x - a.x for a, b in zip(columns, columns[1:], strict=False)]
        # Widening the view shrinks the room between columns: a second pass.
        for _ in range(2):
            (x0, x1), _ = self.box.viewRange()
            per_unit = self.box.width() / max(x1 - x0, 1e-9)  # pixels per x unit
            if per_unit <= 0:
                return
            room = min(gaps) * per_unit - 8.0 if gaps else None
            for column in columns:
                assert column.label is not None
                column.label.setTextWidth(-1)  # its own width first
                natural = column.label.textItem.boundingRect().width()
                if room is not None and natural > room:
                    column.label.setTextWidth(max(room, 30.0))
            halves = [
                c.label.textItem.boundingRect().width() / 2 / per_unit  # type: ignore[union-attr]
                for c in (columns[0], columns[-1])
            ]
            left, right = columns[0].x - halves[0], columns[-1].x + halves[1]
            if left >= x0 and right <= x1:
                return
            self.box.setRange(
                xRange=(min(x0, left), max(x1, right)), yRange=y_range, padding=0.02
            )

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        # The aspect-locked box can fit the whole network only once it has a size.
        self._frame()

    # --- gradient flow --------------------------------------------------------------------
    def set_gradient_flow(self, report: FlowReport | None) -> None:
        """Show each layer's gradient norm, update ratio and dead units under its
        column (None: remove them); vanishing layers in the warning colour,
        exploding ones in the error colour."""
        if report is None:
            for label in self.flow_labels.values():
                self.box.removeItem(label)
            self.flow_labels = {}
            self._frame()
            return
        first = not self.flow_labels
        # One row under the whole network: a narrow column's centre is mid-height.
        row = max((c.bottom for c in self.columns.values()), default=0.0) + 0.6
        for entry in report.layers:
            column = self.columns.get(entry.name)
            if column is None:
                continue
            label = self.flow_labels.get(entry.name)
            if label is None:
                label = pg.TextItem("", anchor=(0.5, 0.0))
                self.box.addItem(label)
                self.flow_labels[entry.name] = label
            label.setPos(column.x, row)
            full = "\n".join(badge_lines(entry, narrow=True))
            mark = _FLOW_MARKS.get(entry.status, "∇")
            short = mark
            if entry.grad_norm is not None and entry.update_ratio is not None:
                short = f"{mark}{entry.grad_norm:.0e}\nΔ{entry.update_ratio:.0e}"
            self._flow_texts[entry.name] = (full, short, mark)
            label.setColor(_FLOW_COLORS.get(entry.status, self.text_color))
            label.setToolTip(entry.warning() or full)
        if first and self.flow_labels:
            self._frame()
        else:
            self._fit_flow()

    def _fit_flow(self) -> None:
        """Gradient-flow lines where they fit between the columns, else the two
        values in short, else a mark (∇▼ vanishing, ∇▲ exploding); the tooltip
        gives the lines."""
        if not self.flow_labels:
            return
        (x0, x1), _ = self.box.viewRange()
        per_unit = self.box.width() / max(x1 - x0, 1e-9)
        xs = sorted(c.x for c in self.columns.values())
        gaps = [b - a for a, b in zip(xs, xs[1:], strict=False)]
        room = min(gaps) * per_unit - 6.0 if gaps else float("inf")
        for name, label in self.flow_labels.items():
            for text in self._flow_texts[name]:
                label.setText(text)
                if label.textItem.boundingRect().width() <= room:
                    break

    # --- data ---------------------------------------------------------------------------
    def set_weights(self, weights: Mapping[str, np.ndarray]) -> None:
        """Show these weights (``"<layer>/<param>"`` -> array); kept by reference."""
        self.weights = dict(weights)
        self.schedule_redraw()

    def _redraw(self) -> None:
        for column in self.columns.values():
            self._draw_column(column)
        for link in self.links:
            if link.note is not None:
                self._draw_funnel(link)
                continue
            if link.kernel is None or (link.tile is None and link.segments is None):
                continue  # drawn once, as a passage
            kernel = self.weights.get(link.kernel)
            rows = link.src.info.units if link.src.is_stack else len(link.src.ys)
            if kernel is None or kernel.shape != (rows, len(link.dst.ys)):
                continue
            if link.tile is not None:
                self._draw_tile(link, kernel)
            else:
                self._draw_edges(link, kernel)

    def _draw_funnel(self, link: _Link) -> None:
        assert link.note is not None
        kernel = self.weights.get(link.kernel) if link.kernel else None
        if kernel is not None and kernel.ndim == 4:
            kh, kw, cin, cout = kernel.shape
            link.note.setText(f"{kh}×{kw}\n{cin}→{cout}")
        else:
            link.note.setText("")
        self._fit_note(link)

    def _fit_note(self, link: _Link) -> None:
        """Show a funnel's kernel size only where it fits between the stacks (the
        hover still names the kernel)."""
        if link.note is None or link.rect is None:
            return
        pixel = self.box.viewPixelSize()[0]
        room = link.rect.width() / pixel if pixel > 0 else 0.0
        link.note.setVisible(room >= link.note.boundingRect().width() + 8)

    def _draw_column(self, column: _Column) -> None:
        key = column.info.bias
        bias = self.weights.get(key) if key else None
        if column.is_stack:
            self._draw_stack(column, bias)
            return
        if bias is not None and bias.size != len(column.ys):
            bias = None
        if column.strip is not None:
            values = (
                np.zeros((len(column.ys), 1)) if bias is None else bias.reshape(-1, 1)
            )
            m = _scale(values)
            column.strip.setImage(values, levels=(-m, m), autoLevels=False)
        elif column.dots is not None:
            if bias is None:
                column.dots.setBrush(pg.mkBrush(*_NEUTRAL))
            else:
                m = _scale(bias)
                idx = np.clip(((bias / m + 1) / 2 * 255).astype(np.int64), 0, 255)
                column.dots.setBrush([pg.mkBrush(*self.lut[i]) for i in idx])

    def _draw_stack(self, column: _Column, bias: np.ndarray | None) -> None:
        """Each card takes its channel's bias colour (neutral without biases)."""
        channels = column.info.shape[-1]
        if bias is None or bias.size != channels:
            for card in column.cards:
                card.setBrush(pg.mkBrush(*_NEUTRAL))
            return
        m = _scale(bias)
        idx = np.clip(((bias / m + 1) / 2 * 255).astype(np.int64), 0, 255)
        for k, card in enumerate(column.cards):
            card.setBrush(pg.mkBrush(*self.lut[idx[k]]))

    def _draw_tile(self, link: _Link, kernel: np.ndarray) -> None:
        m = _scale(kernel)
        assert link.tile is not None
        link.tile.setImage(kernel, levels=(-m, m), autoLevels=False)

    def _draw_edges(self, link: _Link, kernel: np.ndarray) -> None:
        assert link.segments is not None
        w = kernel.reshape(-1)
        rel = np.abs(w) / _scale(w)
        level = np.searchsorted([lv[0] for lv in _LEVELS], rel, side="right")
        level = np.minimum(level, len(_LEVELS) - 1)
        k = 0
        for positive in (True, False):
            side = w >= 0 if positive else w < 0
            for lv in range(len(_LEVELS)):
                chosen = link.segments[side & (level == lv)]
                curve = link.curves[k]
                k += 1
                if len(chosen) == 0:
                    curve.setData([], [])
                    continue
                xs = chosen[:, [0, 2]].reshape(-1)
                ys = chosen[:, [1, 3]].reshape(-1)
                curve.setData(xs, ys, connect="pairs")

    # --- hover ----------------------------------------------------------------------------
    def _on_mouse_moved(self, event: tuple[QPointF]) -> None:
        pos = event[0]
        if not self.box.sceneBoundingRect().contains(pos):
            self._show_hover("", None)
            return
        point = self.box.mapSceneToView(pos)
        self._show_hover(self.describe_at(point.x(), point.y()), point)

    def describe_at(self, x: float, y: float) -> str:
        """The text hovering at view coordinates ``(x, y)`` shows ("" for nothing)."""
        pixel = self.box.viewPixelSize()
        tol_x, tol_y = HOVER_PIXELS * pixel[0], HOVER_PIXELS * pixel[1]
        for column in self.columns.values():
            text = self._describe_column(column, x, y, tol_x)
            if text:
                return text
        for link in self.links:
            text = self._describe_link(link, x, y, tol_x, tol_y)
            if text:
                return text
        return ""

    def _describe_column(self, column: _Column, x: float, y: float, tol: float) -> str:
        if column.is_stack:
            return self._describe_stack(column, x, y, tol)
        reach = STRIP_WIDTH / 2 if column.wide else RADIUS
        if abs(x - column.x) > reach + tol or not len(column.ys):
            return ""
        i = int(np.argmin(np.abs(column.ys - y)))
        spacing = (column.ys[-1] - column.ys[0]) / max(1, len(column.ys) - 1) or 1.0
        if abs(column.ys[i] - y) > max(reach if not column.wide else spacing, tol):
            return ""
        text = f"{column.info.name} unit {i}"
        key = column.info.bias
        bias = self.weights.get(key) if key else None
        if bias is not None and i < bias.size:
            text += f": bias {float(bias.reshape(-1)[i]):+.4g}"
        return text

    def _describe_stack(self, column: _Column, x: float, y: float, tol: float) -> str:
        n = len(column.cards)
        left = column.x - CARD_WIDTH / 2 - tol
        right = column.x + CARD_WIDTH / 2 + (n - 1) * CARD_OFFSET + tol
        top = column.top - (n - 1) * CARD_OFFSET - tol
        if not (left <= x <= right and top <= y <= column.bottom + tol):
            return ""
        h, w, c = column.info.shape
        text = f"{column.info.name}: {c} maps of {h}×{w}"
        key = column.info.bias
        bias = self.weights.get(key) if key else None
        if bias is not None and bias.size == c:
            text += f", biases {float(bias.min()):+.3g} to {float(bias.max()):+.3g}"
        return text

    def _describe_link(
        self, link: _Link, x: float, y: float, tol_x: float, tol_y: float
    ) -> str:
        kernel = self.weights.get(link.kernel) if link.kernel else None
        if link.note is not None:
            r = link.rect
            if kernel is None or r is None or not r.contains(QPointF(x, y)):
                return ""
            return (
                f"{link.src.info.name} → {link.dst.info.name}: kernel "
                f"{'×'.join(str(d) for d in kernel.shape)}, |w| up to "
                f"{float(np.abs(kernel).max()):.3g}"
            )
        if kernel is None or kernel.ndim != 2:
            return ""
        if link.rect is not None:
            r = link.rect
            if not r.contains(QPointF(x, y)):
                return ""
            i = min(
                int((y - r.top()) / r.height() * kernel.shape[0]), kernel.shape[0] - 1
            )
            j = min(
                int((x - r.left()) / r.width() * kernel.shape[1]), kernel.shape[1] - 1
            )
        else:
            seg = link.segments
            assert seg is not None
            if not (seg[0, 0] <= x <= seg[0, 2]):
                return ""
            t = (x - seg[:, 0]) / (seg[:, 2] - seg[:, 0])
            gap = np.abs(seg[:, 1] + t * (seg[:, 3] - seg[:, 1]) - y)
            best = int(np.argmin(gap))
            if gap[best] > max(tol_y, 0.08):
                return ""
            i, j = divmod(best, kernel.shape[1])
        return (
            f"{link.src.info.name}[{i}] → {link.dst.info.name}[{j}]: "
            f"weight {float(kernel[i, j]):+.4g}"
        )

    def _show_hover(self, text: str, point: QPointF | None) -> None:
        self.hover_text = text
        if not text or point is None:
            self._hover_label.hide()
            return
        self._hover_label.setText(text)
        self._hover_label.setPos(point)
        self._hover_label.show()

    # --- export ---------------------------------------------------------------------------
    def csv_columns(self) -> dict[str, np.ndarray]:
        """One row per weight: layer, parameter, row, column (-1 for a vector), value."""
        parts: dict[str, list[np.ndarray]] = {
            k: [] for k in ("layer", "param", "row", "col", "value")
        }
        for key, array in self.weights.items():
            layer, _, param = key.partition("/")
            flat = (
                np.asarray(array).reshape(len(array), -1)
                if array.ndim
                else array.reshape(1, 1)
            )
            rows, cols = np.indices(flat.shape).reshape(2, -1)
            if array.ndim < 2:
                cols = np.full_like(cols, -1)
            parts["layer"].append(np.full(rows.size, layer, dtype=object))
            parts["param"].append(np.full(rows.size, param, dtype=object))
            parts["row"].append(rows)
            parts["col"].append(cols)
            parts["value"].append(flat.reshape(-1).astype(np.float64))
        return {k: np.concatenate(v) if v else np.array([]) for k, v in parts.items()}


def _scale(values: np.ndarray) -> float:
    """The largest finite |value| (1 when there is none), for symmetric colour levels."""
    finite = np.abs(values[np.isfinite(values)])
    m = float(finite.max()) if finite.size else 0.0
    return m if m > 0 else 1.0
