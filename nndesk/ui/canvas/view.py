"""The canvas view: zoom under the cursor, pan, fit, grid, and drops from the palette."""

from __future__ import annotations

import logging
import math
from pathlib import Path

from PySide6.QtCore import (
    QEvent,
    QLineF,
    QMimeData,
    QPoint,
    QPointF,
    QRectF,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFontMetricsF,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QApplication, QGraphicsScene, QGraphicsView, QWidget

from ..theme import LIGHT, Theme
from .items.text_cache import canvas_fonts
from .scene import CanvasScene

log = logging.getLogger(__name__)

NODE_MIME_TYPE = "application/x-nndesk-node-type"
PROJECT_SUFFIX = ".nndesk"

MIN_SCALE = 0.1
MAX_SCALE = 4.0
ZOOM_STEP = 1.25
GRID_SIZE = 20.0
GRID_MAJOR_EVERY = 5
# The scene is a large fixed plane so panning never hits an edge; scroll bars are
# hidden, so their integer range only has to hold it at MAX_SCALE.
SCENE_EXTENT = 50_000.0
NUDGE_STEP = GRID_SIZE / 2


def node_type_from_mime(mime: QMimeData) -> str | None:
    """The node type name a palette drag carries, or None."""
    if not mime.hasFormat(NODE_MIME_TYPE):
        return None
    return bytes(mime.data(NODE_MIME_TYPE).data()).decode("utf-8") or None


def project_path_from_mime(mime: QMimeData) -> str | None:
    """The first local ``.nndesk`` file (or ``.onnx`` model) in a file drag, or None."""
    if not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile() and url.toLocalFile().lower().endswith(
            (PROJECT_SUFFIX, ".onnx")
        ):
            return url.toLocalFile()
    return None


class CanvasView(QGraphicsView):
    """Shows the canvas scene; owns navigation, forwards intents as signals.

    Signals
    -------
    sig_node_drop_requested(str, QPointF)
        A palette entry was dropped: type name and scene position.
    sig_node_drag_moved(str, QPointF)
        A palette drag moves over the canvas (to preview inserting on an edge).
    sig_node_drag_left()
        The palette drag left the canvas or ended.
    sig_file_drop_requested(str)
        A ``.nndesk`` file was dropped on the canvas.
    sig_nudge_requested(float, float, bool)
        Arrow keys: move the selection by (dx, dy); the flag is Qt's auto-repeat.
    sig_search_requested(QPoint, str)
        Tab or typing on the canvas: open the add-node search at a view position,
        starting with the typed text.
    sig_zoom_changed(float)
        The view scale changed.
    sig_cancel_requested()
        Escape: abort the gesture in progress, or clear the selection.
    """

    sig_node_drop_requested = Signal(str, QPointF)
    sig_node_drag_moved = Signal(str, QPointF)
    sig_node_drag_left = Signal()
    sig_file_drop_requested = Signal(str)
    sig_nudge_requested = Signal(float, float, bool)
    sig_search_requested = Signal(QPoint, str)
    sig_zoom_changed = Signal(float)
    sig_cancel_requested = Signal()

    def __init__(self, scene: QGraphicsScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self._theme = LIGHT
        self._pan_origin: QPoint | None = None
        self._space_held = False
        self.setObjectName("canvas_view")
        self.setRenderHints(
            QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing
        )
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        # The rubber band is a gesture of the editor (gestures/rubber_band.py).
        self.setDragMode(QGraphicsView.DragMode.NoDrag)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        extent = SCENE_EXTENT
        self.setSceneRect(QRectF(-extent, -extent, 2 * extent, 2 * extent))
        self.centerOn(0.0, 0.0)

    # -- appearance ------------------------------------------------------------------

    def set_theme(self, theme: Theme) -> None:
        """Use ``theme``'s canvas and grid colours."""
        self._theme = theme
        self.setBackgroundBrush(QColor(theme.canvas))
        self.resetCachedContent()
        self.viewport().update()

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, QColor(self._theme.canvas))
        # Grid lines are axis-aligned: antialiasing would only blur them (and costs).
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        scale = self.scale_factor()
        # Minor lines closer than ~8 device pixels are noise; major lines stay longer.
        step = GRID_SIZE
        while step * scale < 8.0:
            step *= GRID_MAJOR_EVERY
        major = step * GRID_MAJOR_EVERY
        self._draw_grid(painter, rect, step, QColor(self._theme.grid_minor))
        self._draw_grid(painter, rect, major, QColor(self._theme.grid_major))

    @staticmethod
    def _draw_grid(painter: QPainter, rect: QRectF, step: float, color: QColor) -> None:
        pen = QPen(color, 0)  # width 0: cosmetic, one device pixel at any zoom or DPI
        painter.setPen(pen)
        left = math.floor(rect.left() / step) * step
        top = math.floor(rect.top() / step) * step
        lines: list[QLineF] = []
        x = left
        while x <= rect.right():
            lines.append(QLineF(x, rect.top(), x, rect.bottom()))
            x += step
        y = top
        while y <= rect.bottom():
            lines.append(QLineF(rect.left(), y, rect.right(), y))
            y += step
        painter.drawLines(lines)

    # -- zoom ------------------------------------------------------------------------

    def scale_factor(self) -> float:
        """The current zoom (1.0 = one scene unit per logical pixel)."""
        return self.transform().m11()

    def zoom_by(self, factor: float, anchor: QPoint | None = None) -> None:
        """Zoom by ``factor``, keeping the scene point under ``anchor`` fixed.

        ``anchor`` is a viewport position; ``None`` zooms around the view centre.
        The resulting scale is clamped to [MIN_SCALE, MAX_SCALE].
        """
        current = self.scale_factor()
        target = min(MAX_SCALE, max(MIN_SCALE, current * factor))
        if math.isclose(target, current):
            return
        if anchor is None:
            anchor = self.viewport().rect().center()
        scene_anchor = self.mapToScene(anchor)
        ratio = target / current
        self.scale(ratio, ratio)
        # Move the view so the anchored scene point is back under the cursor.
        moved = self.mapToScene(anchor)
        delta = moved - scene_anchor
        self._scroll_scene_by(-delta.x(), -delta.y())
        self.sig_zoom_changed.emit(target)

    def set_zoom(self, scale: float) -> None:
        """Set an absolute zoom around the view centre."""
        self.zoom_by(scale / self.scale_factor())

    def zoom_in(self) -> None:
        """One zoom step in, around the view centre."""
        self.zoom_by(ZOOM_STEP)

    def zoom_out(self) -> None:
        """One zoom step out, around the view centre."""
        self.zoom_by(1.0 / ZOOM_STEP)

    def fit_to_view(self, rect: QRectF | None = None) -> None:
        """Show ``rect`` (default: every item) as large as fits, within zoom limits."""
        scene = self.scene()
        if rect is None and isinstance(scene, CanvasScene):
            rect = scene.nodes_rect()  # also nodes whose items are still to come
        elif rect is None:
            rect = scene.itemsBoundingRect() if scene is not None else QRectF()
        if rect.isEmpty():
            self.centerOn(0.0, 0.0)
            return
        margin = 40.0
        rect = rect.adjusted(-margin, -margin, margin, margin)
        view = self.viewport().rect()
        scale = min(view.width() / rect.width(), view.height() / rect.height())
        scale = min(max(scale, MIN_SCALE), 1.5)
        current = self.scale_factor()
        self.scale(scale / current, scale / current)
        self.centerOn(rect.center())
        self.sig_zoom_changed.emit(scale)

    def readable_scale(self) -> float:
        """The zoom at which the smallest node text (node details, a point smaller
        than the application font) is as tall on screen as the application's
        normal text."""
        fonts = canvas_fonts()
        app = QFontMetricsF(QApplication.font()).height()
        smallest = min(
            QFontMetricsF(fonts.small).height(), QFontMetricsF(fonts.title).height()
        )
        return min(MAX_SCALE, app / max(smallest, 1.0))

    def show_network(self, rect: QRectF | None = None) -> None:
        """Show a network just opened: whole if it fits at a readable zoom (as large
        as fits, up to 150 %), else at the readable zoom from its inputs (its left
        edge), the rest a pan or a scroll away. Issue 11: fitting everything opened
        Fashion-MNIST at 47 % with unreadable node text.

        ``rect`` defaults to every node.
        """
        scene = self.scene()
        if rect is None and isinstance(scene, CanvasScene):
            rect = scene.nodes_rect()
        if rect is None or rect.isEmpty():
            self.fit_to_view(rect)
            return
        margin = 40.0
        rect = rect.adjusted(-margin, -margin, margin, margin)
        view = self.viewport().rect()
        fit = min(view.width() / rect.width(), view.height() / rect.height())
        readable = self.readable_scale()
        if fit >= readable:
            self.fit_to_view(rect.adjusted(margin, margin, -margin, -margin))
            return
        current = self.scale_factor()
        self.scale(readable / current, readable / current)
        shown_w, shown_h = view.width() / readable, view.height() / readable
        x = rect.left() + shown_w / 2
        y = rect.center().y() if rect.height() <= shown_h else rect.top() + shown_h / 2
        self.centerOn(x, y)
        self.sig_zoom_changed.emit(readable)

    def pan_by(self, dx: float, dy: float) -> None:
        """Scroll by (dx, dy) viewport pixels (content moves by the opposite)."""
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(h.value() + round(dx))
        v.setValue(v.value() + round(dy))

    def _scroll_scene_by(self, dx: float, dy: float) -> None:
        scale = self.scale_factor()
        self.pan_by(dx * scale, dy * scale)

    def visible_scene_rect(self) -> QRectF:
        """The part of the scene the viewport shows."""
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y()
        if delta == 0:
            # A horizontal wheel or a touchpad sideways swipe pans.
            pixels = event.pixelDelta()
            self.pan_by(-pixels.x(), -pixels.y())
            event.accept()
            return
        # 120 units is one notch; a notch zooms by ~1.2, touchpads give smaller steps.
        factor = math.pow(1.0015, delta)
        self.zoom_by(factor, event.position().toPoint())
        event.accept()

    # -- panning (middle button, or space + left button) ----------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        panning = event.button() == Qt.MouseButton.MiddleButton or (
            self._space_held and event.button() == Qt.MouseButton.LeftButton
        )
        if panning:
            self._pan_origin = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan_origin is not None:
            pos = event.position().toPoint()
            delta = pos - self._pan_origin
            self._pan_origin = pos
            self.pan_by(-delta.x(), -delta.y())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_origin is not None and event.button() in (
            Qt.MouseButton.MiddleButton,
            Qt.MouseButton.LeftButton,
        ):
            self._pan_origin = None
            self._update_cursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)
        # The view took the press (a click or rubber band on empty canvas ends
        # here), so the release is handled too, even when no item wanted it.
        event.accept()

    def _update_cursor(self) -> None:
        if self._space_held:
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        else:
            self.viewport().unsetCursor()

    # -- keys ------------------------------------------------------------------------

    _ARROWS = {
        Qt.Key.Key_Left: (-1.0, 0.0),
        Qt.Key.Key_Right: (1.0, 0.0),
        Qt.Key.Key_Up: (0.0, -1.0),
        Qt.Key.Key_Down: (0.0, 1.0),
    }

    def keyPressEvent(self, event: QKeyEvent) -> None:
        scene = self.scene()
        if scene is not None and getattr(scene.focusItem(), "editing", False):
            super().keyPressEvent(event)  # a note being edited takes every key
            return
        key = event.key()
        if key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self._update_cursor()
            event.accept()
            return
        if key == Qt.Key.Key_Escape:
            self.sig_cancel_requested.emit()
            event.accept()
            return
        if key in self._ARROWS and self.scene() is not None:
            dx, dy = self._ARROWS[Qt.Key(key)]
            # Shift moves by a larger step, as in drawing programs.
            step = NUDGE_STEP * (
                5 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1
            )
            self.sig_nudge_requested.emit(dx * step, dy * step, event.isAutoRepeat())
            event.accept()
            return
        if self._starts_search(event):
            self.sig_search_requested.emit(self.search_anchor(), event.text())
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            self._update_cursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:
        # A space released while another widget has focus never reaches us.
        self._space_held = False
        self._pan_origin = None
        self._update_cursor()
        super().focusOutEvent(event)

    def _starts_search(self, event: QKeyEvent) -> bool:
        if self.scene() is not None and self.scene().focusItem() is not None:
            return False  # an item (e.g. a label being edited) takes the keys
        mods = event.modifiers() & ~Qt.KeyboardModifier.ShiftModifier
        if mods & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        text = event.text()
        return len(text) == 1 and (text.isalnum() or text == "_")

    def search_anchor(self) -> QPoint:
        """Where the add-node search opens: under the mouse, else the view centre."""
        pos = self.viewport().mapFromGlobal(self.cursor().pos())
        if self.viewport().rect().contains(pos):
            return pos
        return self.viewport().rect().center()

    def event(self, event: QEvent) -> bool:
        # Tab would otherwise move the focus away; on the canvas it opens the search.
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() == Qt.Key.Key_Tab and not event.modifiers():
                self.sig_search_requested.emit(self.search_anchor(), "")
                return True
        return super().event(event)

    # -- drops -----------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if node_type_from_mime(mime) or project_path_from_mime(mime):
            event.acceptProposedAction()
            return
        event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        mime = event.mimeData()
        type_name = node_type_from_mime(mime)
        if type_name:
            scene_pos = self.mapToScene(event.position().toPoint())
            self.sig_node_drag_moved.emit(type_name, scene_pos)
            event.acceptProposedAction()
        elif project_path_from_mime(mime):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event) -> None:
        self.sig_node_drag_left.emit()
        event.accept()

    def dropEvent(self, event: QDropEvent) -> None:
        mime = event.mimeData()
        type_name = node_type_from_mime(mime)
        if type_name:
            scene_pos = self.mapToScene(event.position().toPoint())
            self.sig_node_drag_left.emit()
            self.sig_node_drop_requested.emit(type_name, scene_pos)
            # A copy, always: the palette keeps its entry.
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
            return
        path = project_path_from_mime(mime)
        if path:
            event.acceptProposedAction()
            self.sig_file_drop_requested.emit(str(Path(path)))
            return
        event.ignore()
