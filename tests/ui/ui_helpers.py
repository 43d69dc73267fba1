"""Helpers for the Qt tests: drive the canvas view with the mouse like a person."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QWidget

from nndesk.ui.canvas.editor import CanvasEditor

# The offscreen platform cannot raise or resize native windows and says so as Qt
# warnings; they are not ours, everything else still fails the test.
OFFSCREEN_NOISE = "This plugin does not support"


class UnsavedQuestions:
    """Stands in for the Save/Discard/Cancel dialog: records names, gives answers."""

    def __init__(self, answer: str = "discard") -> None:
        self.answer = answer
        self.asked: list[str] = []

    def __call__(self, name: str) -> str:
        self.asked.append(name)
        return self.answer


def view_point(editor: CanvasEditor, scene_pos: QPointF) -> QPoint:
    """Viewport coordinates of a scene point."""
    return editor.view.mapFromScene(scene_pos)


def port_point(editor: CanvasEditor, node_id: str, port: str, is_input: bool) -> QPoint:
    """Viewport coordinates of a port's centre."""
    item = editor.scene.port_item(node_id, port, is_input)
    return view_point(editor, item.scene_anchor())


def node_point(editor: CanvasEditor, node_id: str) -> QPoint:
    """Viewport coordinates of a point on a node's body (left of centre, off the text)."""
    item = editor.scene.node_item(node_id)
    rect = item.sceneBoundingRect()
    return view_point(editor, QPointF(rect.left() + 30, rect.center().y()))


def drag(
    qtbot,
    widget: QWidget,
    start: QPoint,
    end: QPoint,
    steps: int = 6,
    button: Qt.MouseButton = Qt.MouseButton.LeftButton,
    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    """Press at ``start``, move in steps, release at ``end``."""
    qtbot.mousePress(widget, button, modifiers, start)
    for i in range(1, steps + 1):
        p = start + (end - start) * (i / steps)
        qtbot.mouseMove(widget, p)
    qtbot.mouseRelease(widget, button, modifiers, end)
