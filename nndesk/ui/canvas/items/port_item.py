"""A node's port: a small circle edges attach to and edge drags start from."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from ...theme import Theme

if TYPE_CHECKING:
    from .node_item import NodeItem

PORT_RADIUS = 5.5
# The clickable area is larger than the drawn dot so ports are easy to grab.
HIT_RADIUS = 11.0


class PortState(Enum):
    """How a port looks while an edge is being dragged."""

    NORMAL = "normal"
    COMPATIBLE = "compatible"
    REFUSED = "refused"
    TARGET = "target"


class PortItem(QGraphicsItem):
    """Display of one input or output port; a child of its NodeItem.

    Parameters
    ----------
    node_item
        The owning node item.
    name
        The port name from the NodeSpec (``"in"``, ``"out"``).
    is_input
        True for input ports (left side), False for outputs (right side).
    multiple
        Whether the input port takes several edges (merges).
    """

    def __init__(
        self, node_item: NodeItem, name: str, is_input: bool, multiple: bool = False
    ) -> None:
        super().__init__(node_item)
        self.node_item = node_item
        self.name = name
        self.is_input = is_input
        self.multiple = multiple
        self.state = PortState.NORMAL
        self.connected = False
        self.setAcceptHoverEvents(True)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setZValue(1.0)
        kind = "input" if is_input else "output"
        extra = " (takes several inputs)" if multiple else ""
        self.setToolTip(f"{kind} '{name}'{extra}: drag to connect")
        self._hovered = False
        self._centre = QPointF()

    def place(self, x: float, y: float) -> None:
        """Put the port at (x, y) in its node's coordinates."""
        self._centre = QPointF(x, y)
        self.setPos(self._centre)

    @property
    def node_id(self) -> str:
        """Id of the node this port belongs to."""
        return self.node_item.node_id

    def scene_anchor(self) -> QPointF:
        """Where edges attach, in scene coordinates."""
        # Nodes are never rotated or scaled: their position plus the port's offset
        # is its scene position (mapToScene costs ~0.1 ms per call with 1000 items).
        return self.node_item.pos() + self._centre

    def set_state(self, state: PortState) -> None:
        """Show the port as normal, compatible, refused or the drop target."""
        if state != self.state:
            self.state = state
            self.node_item.update()

    def set_connected(self, connected: bool) -> None:
        """Filled when at least one edge is attached."""
        if connected != self.connected:
            self.connected = connected
            self.node_item.update()

    def boundingRect(self) -> QRectF:
        r = HIT_RADIUS
        return QRectF(-r, -r, 2 * r, 2 * r)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addEllipse(QPointF(0.0, 0.0), HIT_RADIUS, HIT_RADIUS)
        return path

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        # Never called (ItemHasNoContents): the node paints its ports with its body,
        # which halves the Python paint calls on a large canvas.
        return

    def paint_on(self, painter: QPainter, theme: Theme) -> None:
        """Draw this port onto the owning node's painter (item coordinates of the node)."""
        state = self.state
        if state == PortState.NORMAL and self._hovered:
            key = "hover"
        elif state == PortState.NORMAL:
            key = "connected" if self.connected else "normal"
        else:
            key = state.value
        pen, brush, radius = _port_style(theme, key)
        centre = self._centre
        painter.setPen(pen)
        painter.setBrush(brush)
        painter.drawEllipse(centre, radius, radius)
        if state == PortState.REFUSED:
            d = radius * 0.55
            painter.drawLine(centre + QPointF(-d, -d), centre + QPointF(d, d))
            painter.drawLine(centre + QPointF(-d, d), centre + QPointF(d, -d))

    def hoverEnterEvent(self, event) -> None:
        self._hovered = True
        self.node_item.update()
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event) -> None:
        self._hovered = False
        self.node_item.update()
        super().hoverLeaveEvent(event)


_STYLES: dict[tuple[str, str], tuple[QPen, QBrush, float]] = {}


def _port_style(theme: Theme, key: str) -> tuple[QPen, QBrush, float]:
    """Pen, brush and radius of a port look, made once per theme (paint is hot)."""
    cached = _STYLES.get((theme.name, key))
    if cached is not None:
        return cached
    border, fill, radius = theme.node_border, theme.port_fill, PORT_RADIUS
    if key == "connected":
        fill = theme.edge
    elif key == "hover":
        border, radius = theme.node_selected, PORT_RADIUS + 1.0
    elif key == "compatible":
        border = fill = theme.port_compatible
        radius = PORT_RADIUS + 1.0
    elif key == "target":
        border = fill = theme.port_compatible
        radius = PORT_RADIUS + 2.5
    elif key == "refused":
        border, fill = theme.port_refused, theme.node_fill
    pen = QPen(QColor(border), 1.5)
    pen.setCosmetic(True)
    style = (pen, QBrush(QColor(fill)), radius)
    _STYLES[(theme.name, key)] = style
    return style
