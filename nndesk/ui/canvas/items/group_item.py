"""Display of one group: a titled frame behind its nodes, or one collapsed box.

Expanded, the frame surrounds the member nodes with a title bar on top; collapsed,
the members and the edges among them are hidden and the group is drawn as one
node-like box with the title, the parameter count, a summary of shapes and
problems, and a port per outside connection (the edges are re-routed to it). The
item holds display state only; the scene sets its geometry (``set_layout``).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from nndesk.document.groups import Group

from ...theme import LIGHT, Theme
from .node_item import NODE_WIDTH

FRAME_MARGIN = 18.0
"""Space between the member nodes and the frame."""
TITLE_HEIGHT = 24.0
"""Height of the title bar (the part of the frame a drag grabs)."""
BOX_HEADER = 26.0
BOX_LINE = 17.0
PORT_STEP = 22.0
PORT_RADIUS = 5.0
BUTTON_SIZE = 16.0


@dataclass(frozen=True)
class GroupSummary:
    """What the collapsed box says about its members."""

    param_count: int = 0
    shape_text: str = ""
    problems: int = 0
    first_problem: str | None = None
    waiting: bool = False


class GroupItem(QGraphicsItem):
    """A group's frame (expanded) or box (collapsed); selectable, behind nodes.

    Parameters
    ----------
    group : Group
        The record shown.
    theme : Theme
        Colours.
    """

    def __init__(self, group: Group, theme: Theme = LIGHT) -> None:
        super().__init__()
        self.group = group
        self.theme = theme
        self.summary = GroupSummary()
        self.inputs: list[str] = []  # "node.port" of each input anchor, top first
        self.outputs: list[str] = []
        self._rect = QRectF(0, 0, NODE_WIDTH, BOX_HEADER + 2 * BOX_LINE)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self._apply_z()

    # -- state --------------------------------------------------------------------------

    @property
    def group_id(self) -> str:
        """The id of the group shown."""
        return self.group.id

    @property
    def collapsed(self) -> bool:
        """Whether the group is shown as one box."""
        return self.group.collapsed

    def set_group(self, group: Group) -> None:
        """Show a changed record (title, members, collapsed state)."""
        self.group = group
        self._apply_z()
        self.update()

    def _apply_z(self) -> None:
        # A frame lies behind edges and nodes; a box stands where its nodes stood.
        self.setZValue(10.0 if self.group.collapsed else -5.0)

    def set_theme(self, theme: Theme) -> None:
        """Repaint in another theme."""
        self.theme = theme
        self.update()

    def set_layout(
        self,
        rect: QRectF,
        inputs: list[str] | None = None,
        outputs: list[str] | None = None,
    ) -> None:
        """Place the item: ``rect`` in scene coordinates (the frame, or the box with
        its port lists ``inputs`` / ``outputs``)."""
        inputs, outputs = inputs or [], outputs or []
        if (
            rect == self.sceneBoundingRect()
            and inputs == self.inputs
            and outputs == self.outputs
        ):
            return
        self.prepareGeometryChange()
        self.setPos(rect.topLeft())
        self._rect = QRectF(0, 0, rect.width(), rect.height())
        self.inputs, self.outputs = inputs, outputs
        self.update()

    def set_summary(self, summary: GroupSummary) -> None:
        """Show new shapes, parameter count and problems on the box."""
        if summary != self.summary:
            self.summary = summary
            self.setToolTip(summary.first_problem or self.group.title)
            self.update()

    @staticmethod
    def box_size(n_inputs: int, n_outputs: int) -> tuple[float, float]:
        """Width and height of a collapsed box with that many ports."""
        ports = max(n_inputs, n_outputs, 1)
        body = max(3 * BOX_LINE + 8.0, ports * PORT_STEP + 8.0)
        return NODE_WIDTH + 16.0, BOX_HEADER + body

    # -- anchors (edges re-routed to the collapsed box) ---------------------------------

    def anchor(self, key: str, is_input: bool) -> QPointF:
        """Scene position of the port ``key`` ("node.port") on the collapsed box."""
        ports = self.inputs if is_input else self.outputs
        i = ports.index(key) if key in ports else 0
        x = 0.0 if is_input else self._rect.width()
        return self.mapToScene(QPointF(x, self._port_y(i, len(ports))))

    def _port_y(self, i: int, n: int) -> float:
        body = self._rect.height() - BOX_HEADER
        top = BOX_HEADER + (body - n * PORT_STEP) / 2
        return top + (i + 0.5) * PORT_STEP

    def button_rect(self) -> QRectF:
        """The collapse/expand button in the title bar (item coordinates)."""
        h = BOX_HEADER if self.collapsed else TITLE_HEIGHT
        return QRectF(
            self._rect.width() - BUTTON_SIZE - 5.0,
            (h - BUTTON_SIZE) / 2,
            BUTTON_SIZE,
            BUTTON_SIZE,
        )

    def on_handle(self, scene_pos: QPointF) -> bool:
        """Whether a press at ``scene_pos`` grabs the group: the title bar or the
        border of a frame, anywhere on a box. Presses inside a frame belong to the
        nodes and the rubber band."""
        p = self.mapFromScene(scene_pos)
        if not self._rect.contains(p):
            return False
        if self.collapsed:
            return True
        inner = self._rect.adjusted(8.0, TITLE_HEIGHT, -8.0, -8.0)
        return not inner.contains(p)

    def on_button(self, scene_pos: QPointF) -> bool:
        """Whether ``scene_pos`` is on the collapse/expand button."""
        return (
            self.button_rect()
            .adjusted(-3, -3, 3, 3)
            .contains(self.mapFromScene(scene_pos))
        )

    # -- painting -----------------------------------------------------------------------

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-PORT_RADIUS - 2, -2, PORT_RADIUS + 2, 2)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        if self.collapsed:
            path.addRect(self._rect)
            return path
        # Only the title bar and the border take clicks: the inside stays the
        # canvas (rubber band, nodes).
        outer = QPainterPath()
        outer.addRect(self._rect)
        inner = QPainterPath()
        inner.addRect(self._rect.adjusted(8.0, TITLE_HEIGHT, -8.0, -8.0))
        return outer.subtracted(inner)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.collapsed:
            self._paint_box(painter)
        else:
            self._paint_frame(painter)
        self._paint_button(painter)

    def _accent(self) -> QColor:
        return self.theme.category_color("Attention")

    def _border_pen(self) -> QPen:
        if self.isSelected():
            return QPen(self.theme.color("node_selected"), 2.0)
        if self.summary.problems and self.collapsed:
            return QPen(self.theme.color("error"), 2.0)
        return QPen(self._accent().darker(120), 1.2)

    def _paint_frame(self, painter: QPainter) -> None:
        fill = QColor(self._accent())
        fill.setAlpha(28 if not self.theme.is_dark else 40)
        painter.setPen(self._border_pen())
        painter.setBrush(QBrush(fill))
        painter.drawRoundedRect(self._rect, 8.0, 8.0)
        title = QRectF(0, 0, self._rect.width(), TITLE_HEIGHT)
        head = QColor(self._accent())
        head.setAlpha(90)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(head))
        path = QPainterPath()
        path.addRoundedRect(title, 8.0, 8.0)
        painter.drawPath(path)
        self._draw_title(painter, title, self.group.title)

    def _draw_title(self, painter: QPainter, rect: QRectF, text: str) -> None:
        font = QFont(painter.font())
        font.setBold(True)
        font.setPointSizeF(9.5)
        painter.setFont(font)
        painter.setPen(self.theme.color("text"))
        room = rect.adjusted(10.0, 0, -BUTTON_SIZE - 12.0, 0)
        elided = painter.fontMetrics().elidedText(
            text, Qt.TextElideMode.ElideRight, int(room.width())
        )
        painter.drawText(room, Qt.AlignmentFlag.AlignVCenter, elided)

    def _paint_box(self, painter: QPainter) -> None:
        painter.setPen(self._border_pen())
        painter.setBrush(QBrush(self.theme.color("node_fill")))
        painter.drawRoundedRect(self._rect, 6.0, 6.0)
        # a second outline hints at the nodes stacked inside
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(self._accent().darker(110), 1.0))
        painter.drawRoundedRect(self._rect.adjusted(3, 3, -3, -3), 4.0, 4.0)
        header = QRectF(0, 0, self._rect.width(), BOX_HEADER)
        path = QPainterPath()
        path.addRoundedRect(header, 6.0, 6.0)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(self._accent()))
        painter.drawPath(path)
        self._draw_title(painter, header, self.group.title)
        self._paint_lines(painter)
        self._paint_ports(painter)

    def _paint_lines(self, painter: QPainter) -> None:
        font = QFont(painter.font())
        font.setBold(False)
        font.setPointSizeF(8.5)
        painter.setFont(font)
        s = self.summary
        n = len(self.group.node_ids)
        lines = [
            (f"{n} nodes · {_count(s.param_count)}", "text"),
            (s.shape_text, "text_muted"),
        ]
        if s.problems:
            word = "problem" if s.problems == 1 else "problems"
            lines.append((f"⚠ {s.problems} {word} inside", "error"))
        elif s.waiting:
            lines.append(("waiting on an earlier node", "text_muted"))
        y = BOX_HEADER + 4.0
        for text, colour in lines:
            if not text:
                continue
            painter.setPen(self.theme.color(colour))
            rect = QRectF(12.0, y, self._rect.width() - 24.0, BOX_LINE)
            elided = painter.fontMetrics().elidedText(
                text, Qt.TextElideMode.ElideRight, int(rect.width())
            )
            painter.drawText(rect, Qt.AlignmentFlag.AlignVCenter, elided)
            y += BOX_LINE

    def _paint_ports(self, painter: QPainter) -> None:
        painter.setPen(QPen(self.theme.color("node_border"), 1.0))
        painter.setBrush(QBrush(self.theme.color("port_fill")))
        for ports, x in ((self.inputs, 0.0), (self.outputs, self._rect.width())):
            for i in range(len(ports)):
                y = self._port_y(i, len(ports))
                painter.drawEllipse(QPointF(x, y), PORT_RADIUS, PORT_RADIUS)

    def _paint_button(self, painter: QPainter) -> None:
        rect = self.button_rect()
        painter.setPen(QPen(self.theme.color("text"), 1.2))
        painter.setBrush(QBrush(self.theme.color("base")))
        painter.drawRoundedRect(rect, 3.0, 3.0)
        c = rect.center()
        painter.drawLine(QPointF(c.x() - 4, c.y()), QPointF(c.x() + 4, c.y()))
        if self.collapsed:  # "+": expand
            painter.drawLine(QPointF(c.x(), c.y() - 4), QPointF(c.x(), c.y() + 4))

    def itemChange(
        self, change: QGraphicsItem.GraphicsItemChange, value: object
    ) -> object:
        if change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self.update()
        return super().itemChange(change, value)


def _count(n: int) -> str:
    # status.py imports node items; importing it at the top would be circular
    from ..status import format_count

    return format_count(n)
