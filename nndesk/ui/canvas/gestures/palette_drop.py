"""Drop a palette entry on the canvas: a new node there, or inserted into an edge."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, Qt

from nndesk.document.registry import get_spec
from nndesk.document.templates import is_template
from nndesk.engine.errors import NNDeskError

from ..items.edge_item import EdgeItem
from .base import Gesture
from .insertion import EdgeTarget, passes_through

if TYPE_CHECKING:
    from ..editor import CanvasEditor


class PaletteDrop(Gesture):
    """A node type dragged from the palette over the canvas.

    While it hovers an edge the new node could sit in, the edge is highlighted;
    the drop adds the node there (one undo step: add and reconnect), or at the drop
    point elsewhere. Leaving the canvas cancels it. The platform's drag loop holds
    the mouse, so no canvas button belongs to it.
    """

    button = Qt.MouseButton.NoButton

    def __init__(self, editor: CanvasEditor) -> None:
        super().__init__(editor)
        self.target = EdgeTarget(editor)

    def edge_at(self, type_name: str, scene_pos: QPointF) -> EdgeItem | None:
        """The edge a node of ``type_name`` dropped at ``scene_pos`` would go into
        (a template goes into any edge)."""
        if is_template(type_name):
            return self.scene.edge_at(scene_pos)
        try:
            spec = get_spec(type_name)
        except NNDeskError:
            return None
        if not passes_through(spec):
            return None
        return self.scene.edge_at(scene_pos)

    def drag_move(self, type_name: str, scene_pos: QPointF) -> None:
        self.target.set(self.edge_at(type_name, scene_pos))

    def drag_leave(self) -> None:
        self.cancel()

    def drop(self, type_name: str, scene_pos: QPointF) -> None:
        item = self.edge_at(type_name, scene_pos)
        self.target.set(None)
        self.end()
        if item is not None and item.edge is not None:
            self.editor.insert_new_node(type_name, scene_pos, item.edge)
        else:
            self.editor.add_node(type_name, scene_pos)
        self.editor.view.setFocus()

    def restore(self) -> None:
        self.target.set(None)
