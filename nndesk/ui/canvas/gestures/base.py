"""The small interface every canvas gesture follows (drag an edge, move, select...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QGraphicsSceneMouseEvent

if TYPE_CHECKING:
    from ..editor import CanvasEditor


class Gesture:
    """One user gesture in progress: the scene hands it events while it is active.

    Lifecycle: the editor makes a gesture for a press (``gesture_for_press``) or a
    palette drag and offers it to ``CanvasScene.start_gesture``, which refuses it
    while another gesture is active and otherwise calls ``start``. While active,
    the scene gives it every mouse event and the keys the view passes on; the
    editor forwards Escape as ``cancel`` and palette drags as ``drag_move``,
    ``drag_leave`` and ``drop``. A gesture ends in one of two ways, then calls
    ``end``:

    - it completes (on release, or on drop) by pushing at most one command, always
      through ``CanvasEditor.push`` or an intent method that uses it, so a refused
      edit never reaches the undo stack;
    - it is cancelled (Escape, a new document): ``restore`` puts back everything it
      changed on screen (item positions, highlights, selection) and nothing is
      pushed.

    Subclasses override the event methods they need; the defaults ignore events.

    Attributes
    ----------
    button
        The mouse button the gesture holds down (``NoButton`` for a palette drag):
        a press of that button while the gesture is active means its release was
        lost (a dialog took the mouse), so the scene cancels it.
    """

    button = Qt.MouseButton.LeftButton

    def __init__(self, editor: CanvasEditor) -> None:
        self.editor = editor
        self.scene = editor.scene

    @property
    def active(self) -> bool:
        """Whether the scene is handing events to this gesture."""
        return self.scene.gesture is self

    def start(self) -> None:
        """Called by the scene when the gesture is installed: show what it shows."""

    def mouse_move(self, event: QGraphicsSceneMouseEvent) -> None:
        """The mouse moved (with or without the button)."""

    def mouse_release(self, event: QGraphicsSceneMouseEvent) -> None:
        """A button was released; the gesture's own button usually completes it."""

    def key_press(self, event: QKeyEvent) -> bool:
        """A key the view did not take; True when the gesture used it."""
        return False

    def drag_move(self, type_name: str, scene_pos: QPointF) -> None:
        """A palette entry is dragged over the canvas (only palette drops use it)."""

    def drag_leave(self) -> None:
        """The palette drag left the canvas (only palette drops use it)."""

    def drop(self, type_name: str, scene_pos: QPointF) -> None:
        """A palette entry was dropped (only palette drops use it)."""

    def cancel(self) -> None:
        """Abort: restore what the gesture changed on screen; push nothing."""
        self.restore()
        self.end()

    def restore(self) -> None:
        """Put back item positions, highlights and selection (subclasses)."""

    def end(self) -> None:
        """Hand the scene back: no gesture is active afterwards."""
        self.scene.end_gesture(self)


def extends_selection(event: QGraphicsSceneMouseEvent) -> bool:
    """Whether a click adds to the selection: Ctrl as in Qt, and Shift as users expect."""
    mods = event.modifiers()
    return bool(
        mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    )
