"""Toolbar icons drawn as vector strokes in the theme's text colour, sharp at any DPI."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QIcon,
    QIconEngine,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
)

# Each drawer strokes into a 24x24 design box; the engine scales it to the target rect.
_Drawer = Callable[[QPainterPath], None]


def _page(p: QPainterPath) -> None:
    p.moveTo(6, 3)
    p.lineTo(14, 3)
    p.lineTo(19, 8)
    p.lineTo(19, 21)
    p.lineTo(6, 21)
    p.closeSubpath()
    p.moveTo(14, 3)
    p.lineTo(14, 8)
    p.lineTo(19, 8)


def _folder(p: QPainterPath) -> None:
    p.moveTo(3, 6)
    p.lineTo(9, 6)
    p.lineTo(11, 8)
    p.lineTo(21, 8)
    p.lineTo(21, 19)
    p.lineTo(3, 19)
    p.closeSubpath()
    p.moveTo(3, 11)
    p.lineTo(21, 11)


def _save(p: QPainterPath) -> None:
    p.moveTo(4, 4)
    p.lineTo(17, 4)
    p.lineTo(20, 7)
    p.lineTo(20, 20)
    p.lineTo(4, 20)
    p.closeSubpath()
    p.addRect(QRectF(8, 4, 7, 5))
    p.addRect(QRectF(7, 13, 10, 7))


def _arrow_back(p: QPainterPath, mirror: bool) -> None:
    def x(v: float) -> float:
        return 24 - v if mirror else v

    p.moveTo(x(9), 5)
    p.lineTo(x(4), 10)
    p.lineTo(x(9), 15)
    p.moveTo(x(4), 10)
    p.cubicTo(x(14), 10, x(20), 10, x(20), 15)
    p.cubicTo(x(20), 18, x(17), 19, x(14), 19)


def _undo(p: QPainterPath) -> None:
    _arrow_back(p, mirror=False)


def _redo(p: QPainterPath) -> None:
    _arrow_back(p, mirror=True)


def _trash(p: QPainterPath) -> None:
    p.moveTo(4, 6)
    p.lineTo(20, 6)
    p.moveTo(9, 6)
    p.lineTo(9, 3)
    p.lineTo(15, 3)
    p.lineTo(15, 6)
    p.moveTo(6, 6)
    p.lineTo(7, 21)
    p.lineTo(17, 21)
    p.lineTo(18, 6)
    p.moveTo(10, 10)
    p.lineTo(10, 17)
    p.moveTo(14, 10)
    p.lineTo(14, 17)


def _magnifier(p: QPainterPath) -> None:
    p.addEllipse(QPointF(10, 10), 6, 6)
    p.moveTo(14.5, 14.5)
    p.lineTo(20, 20)


def _zoom_in(p: QPainterPath) -> None:
    _magnifier(p)
    p.moveTo(7, 10)
    p.lineTo(13, 10)
    p.moveTo(10, 7)
    p.lineTo(10, 13)


def _zoom_out(p: QPainterPath) -> None:
    _magnifier(p)
    p.moveTo(7, 10)
    p.lineTo(13, 10)


def _fit(p: QPainterPath) -> None:
    for cx, cy in ((4, 4), (20, 4), (20, 20), (4, 20)):
        dx = 5 if cx < 12 else -5
        dy = 5 if cy < 12 else -5
        p.moveTo(cx + dx, cy)
        p.lineTo(cx, cy)
        p.lineTo(cx, cy + dy)
    p.addRect(QRectF(9, 9, 6, 6))


def _layout(p: QPainterPath) -> None:
    p.addRect(QRectF(2, 9, 5, 6))
    p.addRect(QRectF(10, 3, 5, 6))
    p.addRect(QRectF(10, 15, 5, 6))
    p.addRect(QRectF(18, 9, 4, 6))
    p.moveTo(7, 12)
    p.lineTo(10, 6)
    p.moveTo(7, 12)
    p.lineTo(10, 18)
    p.moveTo(15, 6)
    p.lineTo(18, 12)
    p.moveTo(15, 18)
    p.lineTo(18, 12)


def _copy(p: QPainterPath) -> None:
    p.addRect(QRectF(8, 8, 12, 13))
    p.moveTo(5, 16)
    p.lineTo(4, 16)
    p.lineTo(4, 3)
    p.lineTo(16, 3)
    p.lineTo(16, 5)


def _paste(p: QPainterPath) -> None:
    p.moveTo(8, 5)
    p.lineTo(5, 5)
    p.lineTo(5, 21)
    p.lineTo(19, 21)
    p.lineTo(19, 5)
    p.lineTo(16, 5)
    p.addRect(QRectF(8, 3, 8, 4))


def _cut(p: QPainterPath) -> None:
    p.addEllipse(QPointF(7, 18), 3, 3)
    p.addEllipse(QPointF(17, 18), 3, 3)
    p.moveTo(9, 16)
    p.lineTo(18, 3)
    p.moveTo(15, 16)
    p.lineTo(6, 3)


def _info(p: QPainterPath) -> None:
    p.addEllipse(QPointF(12, 12), 9, 9)
    p.moveTo(12, 11)
    p.lineTo(12, 17)
    p.moveTo(12, 7)
    p.lineTo(12, 7.5)


def _duplicate(p: QPainterPath) -> None:
    _copy(p)
    p.moveTo(11, 14.5)
    p.lineTo(17, 14.5)
    p.moveTo(14, 11.5)
    p.lineTo(14, 17.5)


def _grid(p: QPainterPath) -> None:
    for v in (4, 12, 20):
        p.moveTo(v, 3)
        p.lineTo(v, 21)
        p.moveTo(3, v)
        p.lineTo(21, v)


_DRAWERS: dict[str, _Drawer] = {
    "new": _page,
    "open": _folder,
    "save": _save,
    "undo": _undo,
    "redo": _redo,
    "delete": _trash,
    "zoom_in": _zoom_in,
    "zoom_out": _zoom_out,
    "fit": _fit,
    "layout": _layout,
    "copy": _copy,
    "paste": _paste,
    "cut": _cut,
    "duplicate": _duplicate,
    "about": _info,
    "grid": _grid,
}

ICON_NAMES = tuple(_DRAWERS)


class _StrokeIconEngine(QIconEngine):
    """Paints one stroked path at the requested size, so icons stay sharp at 2x."""

    def __init__(self, path: QPainterPath, color: QColor) -> None:
        super().__init__()
        self._path = path
        self._color = QColor(color)

    def paint(
        self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State
    ) -> None:
        color = QColor(self._color)
        if mode == QIcon.Mode.Disabled:
            color.setAlphaF(0.35)
        side = min(rect.width(), rect.height())
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.translate(
            rect.x() + (rect.width() - side) / 2, rect.y() + (rect.height() - side) / 2
        )
        painter.scale(side / 24.0, side / 24.0)
        pen = QPen(color, 1.7)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        painter.restore()

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self.scaledPixmap(size, mode, state, 1.0)

    def scaledPixmap(
        self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float
    ) -> QPixmap:
        # The base class paints onto an uninitialised pixmap: start from transparent,
        # and render at the device pixel ratio so 2x screens get sharp strokes.
        pixmap = QPixmap(size * scale)
        pixmap.setDevicePixelRatio(scale)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        self.paint(painter, QRect(QPoint(0, 0), size), mode, state)
        painter.end()
        return pixmap

    def clone(self) -> QIconEngine:
        return _StrokeIconEngine(self._path, self._color)


def make_icon(name: str, color: QColor | str) -> QIcon:
    """A toolbar icon by name (one of ``ICON_NAMES``) stroked in ``color``."""
    try:
        drawer = _DRAWERS[name]
    except KeyError:
        raise ValueError(
            f"no icon named {name!r}; known: {', '.join(ICON_NAMES)}"
        ) from None
    path = QPainterPath()
    drawer(path)
    return QIcon(_StrokeIconEngine(path, QColor(color)))


def app_icon() -> QIcon:
    """The application icon (an SVG shipped as package data), rendered at usual sizes."""
    data = resources.files(__name__).joinpath("nndesk.svg").read_bytes()
    icon = QIcon()
    for size in (16, 24, 32, 48, 64, 128, 256):
        pixmap = QPixmap(size, size)
        if pixmap.loadFromData(data, "SVG"):
            icon.addPixmap(pixmap.scaled(size, size))
    return icon
