"""An edge on the canvas: a smooth cubic curve from an output port to an input port."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from nndesk.document.graph import Edge

from ...theme import LIGHT, Theme
from .text_cache import canvas_fonts, metrics, static_text

if TYPE_CHECKING:
    from .port_item import PortItem

EDGE_WIDTH = 1.6
HIT_WIDTH = 12.0
LABEL_MIN_LOD = 0.5
SMALL_LOD = 0.5
THIN_LOD = 1.0


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
        self.src_anchor: QPointF | None = None  # set by the scene for collapsed
        self.dst_anchor: QPointF | None = None  # groups (group_item.py)
        self._path = QPainterPath()
        self._hit: QPainterPath | None = None
        self._bounds = QRectF()
        self._label_rect = QRectF()
        fonts = canvas_fonts()
        self._font, self._font_key = fonts.edge, fonts.edge_key
        self._static = static_text("", self._font, self._font_key)
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
            self._static = static_text(text, self._font, self._font_key)
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
        # an end inside a collapsed group is drawn at the group box's port
        return self.src_anchor or start, self.dst_anchor or end

    def update_path(self) -> None:
        """Recompute the cached curve after a node moved."""
        start, end = self.endpoints()
        self.prepareGeometryChange()
        self._path = cubic_path(start, end)
        self._hit = None  # made when first asked for: most edges never are
        self._layout_label()

    def _layout_label(self) -> None:
        if not self.label:
            self._label_rect = QRectF()
            self._bounds = self._curve_bounds()
            return
        fm = metrics(self._font, self._font_key)
        w = fm.horizontalAdvance(self.label) + 8.0
        h = fm.height() + 2.0
        mid = self._path.pointAtPercent(0.5)
        self._label_rect = QRectF(mid.x() - w / 2, mid.y() - h - 3.0, w, h)
        self._bounds = self._curve_bounds().united(self._label_rect)

    def _curve_bounds(self) -> QRectF:
        # The curve's box grown by half the hit width holds the hit stroke too.
        half = HIT_WIDTH / 2
        return self._path.boundingRect().adjusted(-half, -half, half, half)

    def path(self) -> QPainterPath:
        """The curve in scene coordinates (the item sits at the origin)."""
        return self._path

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        if self._hit is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(HIT_WIDTH)
            self._hit = stroker.createStroke(self._path)
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
