"""A node on the canvas: type, label, key parameters, output shape and parameter count."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QPainter,
    QPainterPath,
    QPen,
    QStaticText,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from nndesk.document.graph import Node
from nndesk.document.registry import NodeSpec

from ...theme import LIGHT, Theme
from .port_item import PORT_RADIUS, PortItem
from .text_cache import canvas_fonts, elided_text, metrics, static_text

if TYPE_CHECKING:
    from .edge_item import EdgeItem

NODE_WIDTH = 164.0
HEADER_HEIGHT = 26.0
LINE_HEIGHT = 19.0
PADDING = 8.0
CORNER = 6.0
# Levels of detail, from the fonts (NodeItem.lod_limits): while the detail lines
# would be at least MIN_TEXT_PX high on screen the node shows everything; below
# that only its title, drawn larger as the zoom shrinks (up to the header's
# height) so it stays MIN_TEXT_PX high; below that, boxes only. Text is most of a
# node's paint cost, so this keeps zooming a 500-node graph smooth
# (benchmarks/canvas_scale.py).
MIN_TEXT_PX = 8.0
"""The smallest on-screen text height (pixels) a node draws (issue 11: 5-6 px
details at 56 % were unreadable)."""
NODE_HEIGHT = HEADER_HEIGHT + 2 * LINE_HEIGHT + PADDING
# How far port dots (at their largest, as a drop target) reach beyond the body.
PORT_DRAW_EXTENT = PORT_RADIUS + 4.0
# Vertical position of a node's (single) input and output port, from its top.
PORT_Y = HEADER_HEIGHT + (NODE_HEIGHT - HEADER_HEIGHT) / 2


@dataclass(frozen=True)
class NodeStatus:
    """What shape inference says about one node, as display text.

    ``problem`` is the one-sentence error (outline in the error colour, tooltip);
    ``waiting`` marks nodes downstream of a problem (shown muted, not as errors);
    ``params_short`` is the count rounded, for a line with no room for
    ``params_text``.
    """

    shape_text: str = ""
    params_text: str = ""
    input_text: str = ""
    problem: str | None = None
    waiting: bool = False
    severity: str = "error"
    params_short: str = ""


class NodeItem(QGraphicsItem):
    """Display of one document node; holds display state only.

    The document is the truth: the scene calls ``set_node`` when the record changes
    and ``set_status`` after shape inference. Moving the item with the mouse only
    moves the picture; the editor turns the drag into a MoveNodesCommand on release.
    """

    def __init__(
        self,
        node: Node,
        spec: NodeSpec,
        theme: Theme = LIGHT,
        status: NodeStatus | None = None,
    ) -> None:
        super().__init__()
        self.node_id = node.id
        self.spec = spec
        self.theme = theme
        self.node = node
        self.status = NodeStatus()
        self.edges: list[EdgeItem] = []
        self.snap: Callable[[QPointF], QPointF] | None = None
        self._applying_model = False
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        )
        # No item cache: benchmarks/canvas_scale.py measured DeviceCoordinateCache
        # slower (every zoom step re-renders 500 caches) and panning already
        # scrolls the viewport, so paint() is kept cheap instead (cached paths and
        # pens, level of detail).
        self.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        self.setAcceptHoverEvents(True)
        self.setZValue(10.0)
        self.inputs = {
            p.name: PortItem(self, p.name, True, p.multiple) for p in spec.inputs
        }
        self.outputs = {p.name: PortItem(self, p.name, False) for p in spec.outputs}
        self._fonts()
        self._height = NODE_HEIGHT
        self._layout_ports()
        # paint() runs often (zoom rebuilds the device cache): keep its paths ready.
        body = QRectF(0, 0, NODE_WIDTH, self._height)
        self._body = QPainterPath()
        self._body.addRoundedRect(body, CORNER, CORNER)
        self._ring = QPainterPath()
        self._ring.addRoundedRect(
            body.adjusted(-2.5, -2.5, 2.5, 2.5), CORNER + 2, CORNER + 2
        )
        self._header = _header_path(body)
        self._bounds = NodeItem.bounds_at(0.0, 0.0)
        self._body_rect = body
        self._header_rect = QRectF(0, 0, NODE_WIDTH, HEADER_HEIGHT)
        line1 = QRectF(
            PADDING, HEADER_HEIGHT + 3, NODE_WIDTH - 2 * PADDING, LINE_HEIGHT
        )
        self._rects = {
            "title": QRectF(PADDING, 0, NODE_WIDTH - 2 * PADDING, HEADER_HEIGHT),
            "key": line1,
            "shape": line1.translated(0, LINE_HEIGHT),
        }
        self._ports = [*self.inputs.values(), *self.outputs.values()]
        self._texts: dict[str, str] = {}
        self._static: dict[str, tuple[QPointF, QStaticText]] = {}
        if status is not None and status != self.status:
            self.set_status(status)  # lays out the texts
        else:
            self._set_texts()
        self.set_model_pos(node.pos)

    # -- model → display ---------------------------------------------------------------

    def set_node(self, node: Node) -> None:
        """Show a changed record (params, label); the position goes via set_model_pos."""
        self.node = node
        self._set_texts()
        self.update()

    def set_model_pos(self, pos: tuple[float, float]) -> None:
        """Place the item at the document position, bypassing grid snapping."""
        self._applying_model = True
        try:
            self.setPos(QPointF(pos[0], pos[1]))
        finally:
            self._applying_model = False

    def set_status(self, status: NodeStatus) -> None:
        """Show shape inference's result for this node."""
        if status == self.status:
            return
        self.status = status
        self._set_texts()
        tip = f"<b>{self.spec.title}</b> — {self.node_id}"
        if status.problem:
            tip += f"<br><span>{status.problem}</span>"
        elif status.params_text:  # exact, where the node may show it rounded
            tip += f"<br>{status.shape_text} · {status.params_text}"
        tip += f"<br><small>{self.spec.description}</small>"
        self.setToolTip(tip)
        self.update()

    def refresh_texts(self) -> None:
        """Recompute the displayed texts (an edge came or went)."""
        self._set_texts()
        self.update()

    def set_theme(self, theme: Theme) -> None:
        """Repaint with another theme's colours."""
        self.theme = theme
        self.update()
        for port in (*self.inputs.values(), *self.outputs.values()):
            port.update()

    # -- geometry ----------------------------------------------------------------------

    def _fonts(self) -> None:
        fonts = canvas_fonts()
        self._title_font, self._small_font = fonts.title, fonts.small
        self._title_key, self._small_key = fonts.title_key, fonts.small_key
        self._title_px = metrics(fonts.title, fonts.title_key).height()
        self._small_px = metrics(fonts.small, fonts.small_key).height()
        # The title may grow to fill the header (a pixel of room above and below).
        self._title_grow = max(1.0, (HEADER_HEIGHT - 2.0) / self._title_px)
        self._big_titles: dict[float, QStaticText] = {}

    def lod_limits(self) -> tuple[float, float]:
        """``(text, detail)``: the zooms from which the node draws its (enlarged)
        title, and from which its detail lines too, each at least MIN_TEXT_PX high."""
        text = MIN_TEXT_PX / (self._title_px * self._title_grow)
        detail = MIN_TEXT_PX / min(self._small_px, self._title_px)
        return text, detail

    def title_scale(self, lod: float) -> float:
        """How much larger than its font the title is drawn at zoom ``lod`` (1.0
        while the details are shown; in 0.1 steps, so the layouts can be kept)."""
        if lod >= self.lod_limits()[1]:
            return 1.0
        wanted = MIN_TEXT_PX / (self._title_px * max(lod, 1e-6))
        return min(self._title_grow, max(1.0, math.ceil(wanted * 10.0) / 10.0))

    def smallest_text_px(self, lod: float) -> float:
        """The on-screen height of the smallest text drawn at zoom ``lod`` (0.0:
        none, the node is a plain box)."""
        text, detail = self.lod_limits()
        if lod < text:
            return 0.0
        if lod >= detail:
            return min(self._small_px, self._title_px) * lod
        return self._title_px * self.title_scale(lod) * lod

    def _layout_ports(self) -> None:
        body_top = HEADER_HEIGHT
        body_mid = body_top + (self._height - body_top) / 2
        for ports, x in ((self.inputs, 0.0), (self.outputs, NODE_WIDTH)):
            n = len(ports)
            for i, port in enumerate(ports.values()):
                y = body_mid + (i - (n - 1) / 2) * LINE_HEIGHT
                port.place(x, y)

    def port_item(self, name: str, is_input: bool) -> PortItem | None:
        """The input or output port item called ``name``."""
        return (self.inputs if is_input else self.outputs).get(name)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(QRectF(0, 0, NODE_WIDTH, self._height), CORNER, CORNER)
        return path

    @staticmethod
    def bounds_at(x: float, y: float) -> QRectF:
        """The scene rectangle a node item placed at ``(x, y)`` covers: its body,
        with margins for the outline drawn outside it and the port dots that stick
        out on both sides (the node paints its ports)."""
        m, p = 3.0, PORT_DRAW_EXTENT
        return QRectF(x - p, y - m, NODE_WIDTH + 2 * p, NODE_HEIGHT + 2 * m)

    def body_rect(self) -> QRectF:
        """The node's box in item coordinates."""
        return QRectF(0, 0, NODE_WIDTH, self._height)

    # -- texts -------------------------------------------------------------------------

    def _set_texts(self) -> None:
        node = self.node
        tf, tk = self._title_font, self._title_key
        sf, sk = self._small_font, self._small_key
        width = NODE_WIDTH - 2 * PADDING
        title = self.spec.title
        ident = node.label or node.id
        ident_width = min(metrics(sf, sk).horizontalAdvance(ident), width * 0.55)
        title_width = width - ident_width - PADDING
        key = self.spec.key_param_text(node.params)
        status = self.status
        if status.problem and not status.waiting:
            shape_line = "⚠ " + status.problem
        elif status.waiting:
            shape_line = "waiting on upstream"
        elif status.params_text:
            # The exact count if it fits, else closer, rounded ("18.5k params"),
            # the shape without spaces last: "(11,11,64) · 18.5k params".
            shape, short = status.shape_text, status.params_short or status.params_text
            lines = (
                f"{shape}  ·  {status.params_text}",
                f"{shape} · {status.params_text}",
                f"{shape} · {short}",
                f"{shape.replace(', ', ',')} · {short}",
            )
            fm = metrics(sf, sk)
            shape_line = next(
                (line for line in lines if fm.horizontalAdvance(line) <= width),
                lines[-1],
            )
        else:
            shape_line = status.shape_text
        texts = {
            "title": elided_text(title, tf, tk, title_width),
            "ident": elided_text(ident, sf, sk, width * 0.55),
            "key": elided_text(key or self._fallback_key(), sf, sk, width),
            "shape": elided_text(shape_line, sf, sk, width),
        }
        if texts == self._texts:
            return
        self._texts = texts
        # QStaticText keeps the laid-out glyphs: several times faster to draw than
        # drawText, which matters with hundreds of nodes on screen.
        self._static = {}
        for part, text in texts.items():
            font, font_key = (tf, tk) if part == "title" else (sf, sk)
            static = static_text(text, font, font_key)
            rect = self._rects["title" if part == "ident" else part]
            size = static.size()
            x = rect.right() - size.width() if part == "ident" else rect.left()
            y = rect.top() + (rect.height() - size.height()) / 2
            self._static[part] = (QPointF(x, y), static)

    def _fallback_key(self) -> str:
        # Types without key parameters (Flatten, merges, Batch Norm) show what
        # comes in instead: the input shapes, or how many inputs a merge joins.
        if self.status.input_text:
            return "in " + self.status.input_text
        if any(p.multiple for p in self.spec.inputs):
            n = sum(
                1 for e in self.edges if e.dst is not None and e.dst.node_item is self
            )
            return f"{n} input{'s' if n != 1 else ''}"
        return ""

    def text(self, part: str) -> str:
        """The displayed text of one part: "title", "ident", "key" or "shape"."""
        return self._texts[part]

    # -- painting ----------------------------------------------------------------------

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        style = _node_style(self.theme, self.spec.category)
        selected = self.isSelected()
        status = self.status
        problem = bool(status.problem) and not status.waiting
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        text_lod, detail_lod = self.lod_limits()
        if lod < text_lod:
            self._paint_small(painter, style, selected, problem)
            return
        # The view does not save painter state per item (it is faster), so each
        # paint sets the hints it needs.
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        border = self._border(style, selected, problem)
        # Fill and outline in one call each: two antialiased paths per node. The
        # header's outline also draws the line under it.
        painter.setPen(border)
        painter.setBrush(style.fill)
        painter.drawPath(self._body)
        painter.setBrush(style.header)
        painter.drawPath(self._header)
        if selected and problem:
            # Both states at once: an outer ring in the selection colour.
            painter.setPen(style.ring)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(self._ring)
        for port in self._ports:
            port.paint_on(painter, self.theme)
        if lod >= detail_lod:
            self._paint_texts(painter, style, problem)
        else:
            self._paint_big_title(painter, style, self.title_scale(lod))

    def _border(self, style: _NodeStyle, selected: bool, problem: bool) -> QPen:
        """Outline pen: the problem's colour, else the selection's, else plain."""
        if problem:
            return style.error if self.status.severity == "error" else style.warning
        return style.selected if selected else style.border

    def _paint_small(
        self, painter: QPainter, style: _NodeStyle, selected: bool, problem: bool
    ) -> None:
        # Zoomed far out a node is a few pixels: plain rectangles without
        # antialiasing cost a fraction of rounded paths, and nothing is lost.
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(self._border(style, selected, problem))
        painter.setBrush(style.fill)
        painter.drawRect(self._body_rect)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(style.header)
        painter.drawRect(self._header_rect)

    def _paint_big_title(self, painter: QPainter, style: _NodeStyle, k: float) -> None:
        # Zoomed out, the title alone, ``k`` times its font size, across the header.
        static = self._big_titles.get(k)
        if static is None:
            width = (NODE_WIDTH - 2 * PADDING) / k
            tf, tk = self._title_font, self._title_key
            static = static_text(elided_text(self.spec.title, tf, tk, width), tf, tk)
            self._big_titles[k] = static
        painter.setPen(style.title_pen)
        painter.setFont(self._title_font)
        painter.save()
        painter.translate(PADDING, (HEADER_HEIGHT - static.size().height() * k) / 2)
        painter.scale(k, k)
        painter.drawStaticText(QPointF(0.0, 0.0), static)
        painter.restore()

    def _paint_texts(self, painter: QPainter, style: _NodeStyle, problem: bool) -> None:
        static = self._static
        painter.setPen(style.title_pen)
        painter.setFont(self._title_font)
        painter.drawStaticText(*static["title"])
        painter.setFont(self._small_font)
        painter.setPen(style.ident_pen)
        painter.drawStaticText(*static["ident"])
        painter.setPen(style.text_pen)
        painter.drawStaticText(*static["key"])
        if not problem:
            pen = style.muted_pen
        elif self.status.severity == "error":
            pen = style.error_text
        else:
            pen = style.warning_text
        painter.setPen(pen)
        painter.drawStaticText(*static["shape"])

    # -- interaction hooks --------------------------------------------------------------

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        if (
            change == QGraphicsItem.GraphicsItemChange.ItemPositionChange
            and not self._applying_model
            and self.snap is not None
        ):
            return self.snap(value)
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:
                edge.update_path()
        if change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self.setZValue(11.0 if value else 10.0)
        return super().itemChange(change, value)

    def model_pos(self) -> tuple[float, float]:
        """The item's current position as the document stores it."""
        p = self.pos()
        return (p.x(), p.y())


@dataclass(frozen=True)
class _NodeStyle:
    """Brushes and pens of one node look; made once per theme and category."""

    fill: QBrush
    header: QBrush
    border: QPen
    selected: QPen
    error: QPen
    warning: QPen
    ring: QPen
    title_pen: QPen
    ident_pen: QPen
    text_pen: QPen
    muted_pen: QPen
    error_text: QPen
    warning_text: QPen


_STYLES: dict[tuple[str, str], _NodeStyle] = {}


def _cosmetic(color: str | QColor, width: float) -> QPen:
    pen = QPen(QColor(color), width)
    pen.setCosmetic(True)  # the same on-screen width at every zoom and DPI
    return pen


def _node_style(theme: Theme, category: str) -> _NodeStyle:
    cached = _STYLES.get((theme.name, category))
    if cached is not None:
        return cached
    style = _NodeStyle(
        fill=QBrush(QColor(theme.node_fill)),
        header=QBrush(theme.category_color(category)),
        border=_cosmetic(theme.node_border, 1.0),
        selected=_cosmetic(theme.node_selected, 2.0),
        error=_cosmetic(theme.error, 2.0),
        warning=_cosmetic(theme.warning, 2.0),
        ring=_cosmetic(theme.node_selected, 1.0),
        title_pen=QPen(QColor("#ffffff")),
        ident_pen=QPen(QColor(255, 255, 255, 215)),
        text_pen=QPen(QColor(theme.text)),
        muted_pen=QPen(QColor(theme.text_muted)),
        error_text=QPen(QColor(theme.error)),
        warning_text=QPen(QColor(theme.warning)),
    )
    _STYLES[(theme.name, category)] = style
    return style


def _header_path(rect: QRectF) -> QPainterPath:
    # Rounded top corners only: a rounded rect clipped to the header band.
    path = QPainterPath()
    path.addRoundedRect(rect, CORNER, CORNER)
    band = QPainterPath()
    band.addRect(QRectF(rect.left(), rect.top(), rect.width(), HEADER_HEIGHT))
    return path.intersected(band)
