"""Canvas gestures: objects the scene hands mouse events to while they are active.

Each gesture is a ``Gesture`` (base.py) in its own module; ``gesture_for_press``
picks the one a press begins. A new gesture is a new module and a line here; the
editor only offers presses to this function and Escape to the scene.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QGraphicsSceneMouseEvent

from .base import Gesture
from .duplicate_drag import DuplicateDrag
from .edge_drag import DragEdge
from .group_move import MoveGroup
from .insertion import EdgeTarget, InsertNode, passes_through, splice
from .node_move import MoveNodes
from .note_move import MoveNote
from .palette_drop import PaletteDrop
from .rubber_band import RubberBandSelect

if TYPE_CHECKING:
    from ..editor import CanvasEditor

__all__ = [
    "DragEdge",
    "DuplicateDrag",
    "EdgeTarget",
    "Gesture",
    "InsertNode",
    "MoveGroup",
    "MoveNodes",
    "MoveNote",
    "PaletteDrop",
    "RubberBandSelect",
    "gesture_for_press",
    "passes_through",
    "splice",
]


def gesture_for_press(
    editor: CanvasEditor, event: QGraphicsSceneMouseEvent
) -> Gesture | None:
    """The gesture a left-button press on the canvas begins.

    On a note: move it (a double-click edits it). On a group's title bar, border
    or collapsed box: move the group (a double-click collapses or expands it).
    On a port: drag an edge. On a node: Alt duplicates, a lone unconnected node
    that fits into an edge may be inserted, anything else moves. On empty canvas:
    a rubber band. None on an edge: Qt's own item click selects it.
    """
    scene, pos = editor.scene, event.scenePos()
    note = scene.overlay.note_at(pos)
    if note is not None:  # notes lie above nodes
        if note.editing:
            return None  # the text editor takes the press
        if event.type() == QEvent.Type.GraphicsSceneMouseDoubleClick:
            editor.edit_note(note.note_id)
            return None
        return MoveNote(editor, note, event)
    group = scene.overlay.group_at(pos)
    if group is not None and (group.collapsed or scene.node_at(pos) is None):
        if event.type() != QEvent.Type.GraphicsSceneMouseDoubleClick:
            return MoveGroup(editor, group, event)
        # the first click of a double-click on the button has toggled already
        if not group.on_button(pos):
            editor.toggle_group_collapsed(group.group_id)
        return MoveGroup(editor, group, event, click=False)
    port = scene.port_at(pos)
    if port is not None:
        return DragEdge(editor, port)
    node = scene.node_at(pos)
    if node is not None:
        if event.modifiers() & Qt.KeyboardModifier.AltModifier:
            return DuplicateDrag(editor, node, event)
        if InsertNode.applies(editor, node, event):
            return InsertNode(editor, node, event)
        return MoveNodes(editor, node, event)
    if scene.edge_at(pos) is not None:
        return None
    return RubberBandSelect(editor, event)
