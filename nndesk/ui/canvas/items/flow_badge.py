"""A layer's live gradient flow under its node: gradient norm, update ratio, dead units.

``FlowBadges`` keeps one ``FlowBadge`` per measured layer as a child of its
``NodeItem`` (so it moves with the node and goes with it), just below the node's
box: ``∇ 3.1e-03  Δw/w 1.2e-03`` and, for ReLU layers, ``dead 4/16``. A vanishing
layer's badge is drawn in the warning colour, an exploding one's in the error
colour, and says so; the tooltip is the warning's sentence.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from nndesk.training.gradient_flow import FlowReport, LayerFlow

from ...theme import LIGHT, Theme
from ..scene import CanvasScene
from .node_item import MIN_TEXT_PX, NODE_WIDTH, NodeItem
from .text_cache import canvas_fonts, metrics

__all__ = ["FlowBadge", "FlowBadges", "badge_lines"]

GAP = 4.0
"""Space between the node's box and its badge."""
PAD = 4.0


def _num(value: float | None) -> str:
    if value is None:
        return "–"
    if value != value or value in (float("inf"), float("-inf")):  # NaN, inf
        return str(value)
    return f"{value:.1e}"


def badge_lines(entry: LayerFlow, narrow: bool = False) -> list[str]:
    """The text lines of a layer's badge (``narrow``: the two values on lines of
    their own)."""
    lines = []
    if entry.grad_norm is not None:
        grad, ratio = f"∇ {_num(entry.grad_norm)}", f"Δw/w {_num(entry.update_ratio)}"
        lines += [grad, ratio] if narrow else [f"{grad}   {ratio}"]
    extra = []
    if entry.status != "ok":
        extra.append(entry.status)
    if entry.dead is not None:
        extra.append(f"dead {entry.dead}/{entry.units}")
    if extra:
        lines.append(" · ".join(extra))
    return lines


class FlowBadge(QGraphicsItem):
    """The badge of one layer (display state only)."""

    def __init__(self, parent: NodeItem, theme: Theme = LIGHT) -> None:
        super().__init__()
        self.theme = theme
        self.entry: LayerFlow | None = None
        self.lines: list[str] = []
        fonts = canvas_fonts()
        self._font = fonts.small
        self._line_h = metrics(fonts.small, fonts.small_key).height()
        self._rect = QRectF()
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setZValue(-1.0)  # under the node's own ports and outline
        self.setParentItem(parent)  # once boundingRect can answer

    def set_entry(self, entry: LayerFlow) -> None:
        """Show ``entry``."""
        self.prepareGeometryChange()
        self.entry = entry
        self.lines = badge_lines(entry)
        parent = self.parentItem()
        assert isinstance(parent, NodeItem)
        top = parent.body_rect().bottom() + GAP
        height = len(self.lines) * self._line_h + 2 * PAD
        self._rect = QRectF(0.0, top, NODE_WIDTH, height)
        self.setToolTip(entry.warning())
        self.update()

    @property
    def color_role(self) -> str:
        """The theme colour of the text: ``error`` (exploding), ``warning``
        (vanishing or mostly dead) or ``text_muted``."""
        if self.entry is None:
            return "text_muted"
        if self.entry.status == "exploding":
            return "error"
        if self.entry.status == "vanishing" or self.entry.dead_warning:
            return "warning"
        return "text_muted"

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        if not self.lines:
            return
        scene = self.scene()
        # The scene's theme now (the user may have switched it since).
        theme = scene.theme if isinstance(scene, CanvasScene) else self.theme
        color = theme.color(self.color_role)
        fill = QColor(theme.node_fill)
        fill.setAlpha(235)
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if lod * self._line_h < MIN_TEXT_PX:
            # Zoomed out too far to read: the box alone, filled in its colour.
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(fill if self.color_role == "text_muted" else color))
            painter.drawRoundedRect(self._rect, 4.0, 4.0)
            return
        painter.setPen(QPen(color, 1.0 if self.color_role == "text_muted" else 1.6))
        painter.setBrush(QBrush(fill))
        painter.drawRoundedRect(self._rect, 4.0, 4.0)
        painter.setFont(self._font)
        painter.setPen(
            theme.color("text") if self.color_role == "text_muted" else color
        )
        y = self._rect.top() + PAD
        for line in self.lines:
            painter.drawText(
                QRectF(PAD, y, NODE_WIDTH - 2 * PAD, self._line_h),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                line,
            )
            y += self._line_h


class FlowBadges:
    """The badges of one scene, from the latest ``FlowReport``."""

    def __init__(self, scene: CanvasScene) -> None:
        self.scene = scene
        self.badges: dict[str, FlowBadge] = {}
        self.report: FlowReport | None = None

    def show(self, report: FlowReport) -> None:
        """Put ``report``'s values under the nodes it names (others get none)."""
        self.report = report
        items = {item.node_id: item for item in self.scene.node_items()}
        wanted = {e.name for e in report.layers if e.name in items}
        for name in list(self.badges):
            if name not in wanted:
                self._drop(name)
        for entry in report.layers:
            item = items.get(entry.name)
            if item is None:
                continue
            badge = self.badges.get(entry.name)
            if (
                badge is None
                or not shiboken6.isValid(badge)
                or badge.parentItem() is not item
            ):
                badge = FlowBadge(item, self.scene.theme)
                self.badges[entry.name] = badge
            badge.set_entry(entry)

    def clear(self) -> None:
        """Remove every badge."""
        for name in list(self.badges):
            self._drop(name)
        self.report = None

    def _drop(self, name: str) -> None:
        badge = self.badges.pop(name)
        if shiboken6.isValid(badge) and badge.scene() is not None:
            badge.scene().removeItem(badge)
