"""An edge on the canvas: a smooth cubic curve from an output port to an input port."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
    QStaticText,
    QTransform,
)
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from nndesk.document.graph import Edge

from ...theme import LIGHT, Theme

if TYPE_CHECKING:
    from .port_item import PortItem

EDGE_WIDTH = 1.6
HIT_WIDTH = 12.0
LABEL_MIN_LOD = 0.5
SMALL_LOD = 0.5
THIN_LOD = 1.0


def _static_text(text: str, font: QFont) -> QStaticText:
    # Laid out once, drawn many times (cheaper than drawText per paint).
    static = QStaticText(text)
    static.setTextFormat(Qt.TextFormat.PlainText)
    static.setPerformanceHint(QStaticText.PerformanceHint.AggressiveCaching)
    static.prepare(QTransform(), font)
    return static


def cubic_path(start: QPointF, end: QPointF) -> QPainterPath:
    """A left-to-right S curve: horizontal tangents at both ends."""
    dx = max(abs(end.x() - start.x()) * 0.5, 40.0)
    path = QPainterPath(start)
    path.cubicTo(
        QPointF(start.x() + dx, start.y()), QPointF(end.x() - dx, end.y()), end
    )
    return path


class EdgeItem(QGraphicsItem):
    """Display of one document edge, labelled with the tensor shape it carries.

    A temporary edge (while dragging a new connection) has ``edge=None`` and follows
    ``set_free_end``.
    """

    def __init__(
        self,
        edge: Edge | None,
        src: PortItem | None,
        dst: PortItem | None,
        theme: Theme = LIGHT,
    ) -> None:
        super().__init__()
        self.edge = edge
        self.src = src
        self.dst = dst
        self.theme = theme
        self.label = ""
        self.highlighted = False
        self._free_end = QPointF()
        self._path = QPainterPath()
        self._hit = QPainterPath()
        self._bounds = QRectF()
        self._label_rect = QRectF()
        font = QFont(QApplication.font())
        size = font.pointSizeF()
        if size > 0:
            font.setPointSizeF(max(size - 1.5, 6.0))
        self._font = font
        self._static = _static_text("", font)
        if edge is not None:
            self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
            self.setToolTip(str(edge))
        self.setZValue(0.0 if edge is not None else 20.0)
        self.update_path()

    def set_label(self, text: str) -> None:
        """Show ``text`` (the tensor shape) at the middle of the curve."""
        if text != self.label:
            self.prepareGeometryChange()
            self.label = text
            self._static = _static_text(text, self._font)
            self._layout_label()
            self.update()

    def set_theme(self, theme: Theme) -> None:
        """Repaint with another theme's colours."""
        self.theme = theme
        self.update()

    def set_highlighted(self, on: bool) -> None:
        """Mark the edge as the target of a node being dropped onto it."""
        if on != self.highlighted:
            self.highlighted = on
            self.update()

    def set_free_end(self, pos: QPointF) -> None:
        """Move the loose end of a temporary edge to ``pos`` (scene coordinates)."""
        self._free_end = QPointF(pos)
        self.update_path()

    def endpoints(self) -> tuple[QPointF, QPointF]:
        """Start and end of the curve in scene coordinates."""
        start = self.src.scene_anchor() if self.src is not None else self._free_end
        end = self.dst.scene_anchor() if self.dst is not None else self._free_end
        return start, end

    def update_path(self) -> None:
        """Recompute the cached curve after a node moved."""
        start, end = self.endpoints()
        self.prepareGeometryChange()
        self._path = cubic_path(start, end)
        stroker = QPainterPathStroker()
        stroker.setWidth(HIT_WIDTH)
        self._hit = stroker.createStroke(self._path)
        self._layout_label()
        self._bounds = self._hit.boundingRect().united(self._label_rect)

    def _layout_label(self) -> None:
        if not self.label:
            self._label_rect = QRectF()
            return
        metrics = QFontMetricsF(self._font)
        w = metrics.horizontalAdvance(self.label) + 8.0
        h = metrics.height() + 2.0
        mid = self._path.pointAtPercent(0.5)
        self._label_rect = QRectF(mid.x() - w / 2, mid.y() - h - 3.0, w, h)
        self._bounds = self._hit.boundingRect().united(self._label_rect)

    def path(self) -> QPainterPath:
        """The curve in scene coordinates (the item sits at the origin)."""
        return self._path

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        return self._hit

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        selected = self.isSelected()
        if self.edge is None:
            key = "temp"
        elif selected or self.highlighted:
            key = "selected"
        else:
            key = "normal"
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        small = lod < SMALL_LOD
        if small and key == "normal":
            key = "small"
        elif lod < THIN_LOD and key == "normal":
            # Raster engines stroke curves of width <= 1 on a fast path; wider
            # ones only where few edges are on screen.
            key = "thin"
        pen, label_brush, label_pen = _edge_style(self.theme, key)
        # Zoomed far out, thin aliased curves are several times cheaper to stroke.
        # (The view does not save painter state per item: set the hint each time.)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, not small)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if self.label and lod >= LABEL_MIN_LOD:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(label_brush)
            painter.drawRoundedRect(self._label_rect, 3.0, 3.0)
            painter.setPen(label_pen)
            painter.setFont(self._font)
            size = self._static.size()
            rect = self._label_rect
            corner = QPointF(
                rect.center().x() - size.width() / 2,
                rect.center().y() - size.height() / 2,
            )
            painter.drawStaticText(corner, self._static)


_STYLES: dict[tuple[str, str], tuple[QPen, QBrush, QPen]] = {}


def _edge_style(theme: Theme, key: str) -> tuple[QPen, QBrush, QPen]:
    """Curve pen, label background and label text pen; made once per theme."""
    cached = _STYLES.get((theme.name, key))
    if cached is not None:
        return cached
    if key == "small":
        pen = QPen(QColor(theme.edge), 0.0)
    elif key == "thin":
        pen = QPen(QColor(theme.edge), 1.0)
    elif key == "normal":
        pen = QPen(QColor(theme.edge), EDGE_WIDTH)
    else:
        pen = QPen(QColor(theme.edge_selected), EDGE_WIDTH + 1.2)
    pen.setCosmetic(True)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    if key == "temp":
        pen.setStyle(Qt.PenStyle.DashLine)
    background = QColor(theme.canvas)
    background.setAlpha(220)
    style = (pen, QBrush(background), QPen(QColor(theme.text_muted)))
    _STYLES[(theme.name, key)] = style
    return style
