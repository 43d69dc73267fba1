"""The canvas editor: turns user intents into undo commands on the document.

The view and the scene only display; everything the user does on the canvas lands in
one of the intent methods here (``add_node``, ``connect_edge``, ``delete_selection``
...), which builds a command, checks it on a throw-away copy of the document and then
pushes it. Mouse gestures are objects of their own (``gestures/``): the scene hands
them the events and they end in one of these methods. Tests call these methods
directly or drive the view with the mouse.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from PySide6.QtCore import QMimeData, QObject, QPoint, QPointF, Signal
from PySide6.QtGui import QAction, QGuiApplication, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QGraphicsSceneContextMenuEvent,
    QGraphicsSceneMouseEvent,
    QMenu,
)

from nndesk.document.graph import Document, Edge, Pos
from nndesk.document.registry import NodeSpec, get_spec
from nndesk.document.templates import is_template
from nndesk.engine.errors import NNDeskError

from .commands import (
    AddNodeCommand,
    ConnectCommand,
    DisconnectCommand,
    MacroCommand,
    MoveNodesCommand,
    PasteCommand,
    RemoveNodesCommand,
    SetLabelCommand,
    SetNoteCommand,
    SetParamCommand,
    SetSettingCommand,
)
from .gestures import Gesture, PaletteDrop, gesture_for_press, passes_through, splice
from .group_intents import GroupIntents
from .items.node_item import NODE_HEIGHT, NODE_WIDTH, PORT_Y
from .items.port_item import PortItem
from .layout import layered_positions
from .scene import CanvasScene
from .search_popup import NodeSearchPopup
from .view import CanvasView

log = logging.getLogger(__name__)

CLIPBOARD_MIME_TYPE = "application/x-nndesk-nodes+json"
PASTE_STEP = 30.0

CommandBuilder = Callable[[Document], QUndoCommand]


class CanvasEditor(QObject, GroupIntents):
    """Owns the canvas scene and view and the edits made on them.

    Parameters
    ----------
    undo_stack
        Where every edit goes; the window's Undo/Redo actions use the same stack.
    parent
        Qt parent; the view is created without one, the caller places it.

    Signals
    -------
    sig_message(str)
        A one-sentence status text (why a connection is refused, what was pasted).
    sig_selection_changed(list)
        Ids of the selected nodes, in document order.
    """

    sig_message = Signal(str)
    sig_selection_changed = Signal(list)

    def __init__(self, undo_stack: QUndoStack, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = undo_stack
        self.scene = CanvasScene(self)
        self.scene.handler = self
        self.view = CanvasView(self.scene)
        self.popup = NodeSearchPopup(self.view)
        self.last_message = ""
        # How context menus run (modal); tests may replace it to pick an entry.
        self.exec_menu: Callable[[QMenu, QPoint], object] = _exec_menu
        self._doc: Document | None = None
        self._pending_search: Callable[[str], object] | None = None
        self._paste_count = 0
        self._selection: list[str] = []
        self.view.sig_node_drop_requested.connect(self._on_view_node_dropped)
        self.view.sig_node_drag_moved.connect(self._on_view_node_drag_moved)
        self.view.sig_node_drag_left.connect(self._on_view_node_drag_left)
        self.view.sig_nudge_requested.connect(self.nudge_selection)
        self.view.sig_search_requested.connect(self._on_view_search_requested)
        self.view.sig_cancel_requested.connect(self.cancel)
        self.popup.sig_chosen.connect(self._on_popup_chosen)
        self.popup.sig_cancelled.connect(self._on_popup_cancelled)
        self.scene.selectionChanged.connect(self._on_scene_selection_changed)
        self.scene.sig_built.connect(self._on_scene_built)
        self.scene.overlay.on_note_edited = self.set_note_text

    # -- document ----------------------------------------------------------------------

    @property
    def document(self) -> Document | None:
        """The document being edited."""
        return self._doc

    def set_document(self, doc: Document | None) -> None:
        """Edit ``doc``; the caller clears the undo stack when it replaces a document."""
        self.cancel()
        self._doc = doc
        self._paste_count = 0
        self.scene.set_document(doc)
        if self.scene.is_building:
            # A large network is built a slice per event-loop turn; painting the
            # growing picture after each slice would cost more than the slices.
            self.view.viewport().setUpdatesEnabled(False)
            self.show_message(f"Drawing {len(doc or ())} nodes…")
        else:
            self._on_scene_built()  # a build this replaced may have been unfinished
        self._on_scene_selection_changed()

    def _on_scene_built(self) -> None:
        viewport = self.view.viewport()
        if not viewport.updatesEnabled():
            viewport.setUpdatesEnabled(True)  # and paints
            self.show_message("")

    def show_message(self, text: str) -> None:
        """Send a status text (empty clears it)."""
        self.last_message = text
        self.sig_message.emit(text)

    # -- the one way edits reach the document -------------------------------------------

    def push(self, build: CommandBuilder) -> QUndoCommand | None:
        """Build a command, try it on a copy of the document, then push it.

        A command the document refuses is not pushed; its one-sentence reason goes
        to the status bar and None is returned.
        """
        doc = self._doc
        if doc is None:
            return None
        try:
            build(doc.copy()).redo()
        except NNDeskError as exc:
            self.show_message(str(exc))
            return None
        command = build(doc)
        self.undo_stack.push(command)
        return command

    # -- nodes -------------------------------------------------------------------------

    def add_node(
        self,
        type_name: str,
        scene_pos: QPointF | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> str | None:
        """Add a node centred at ``scene_pos`` (default: the view centre); select it.

        Returns the new id, or None if the document refused (the reason is shown).
        A template name inserts the template (returning its first node's id).
        """
        if is_template(type_name):
            return next(iter(self.insert_template(type_name, scene_pos)), None)
        if scene_pos is None:
            scene_pos = self.view.visible_scene_rect().center()
        top_left = self._free_spot(
            self.scene.snap_point(scene_pos - QPointF(NODE_WIDTH / 2, NODE_HEIGHT / 2))
        )
        pos = (top_left.x(), top_left.y())
        command = self.push(lambda d: AddNodeCommand(d, type_name, params, pos))
        if command is None:
            return None
        assert isinstance(command, AddNodeCommand)
        self.scene.select_nodes([command.node_id or ""])
        return command.node_id

    def _free_spot(self, pos: QPointF) -> QPointF:
        # Adding twice at the same spot would hide the first node under the second.
        taken = {item.model_pos() for item in self.scene.node_items()}
        while (pos.x(), pos.y()) in taken:
            pos += QPointF(PASTE_STEP, PASTE_STEP)
        return pos

    def delete_selection(self) -> bool:
        """Delete the selected nodes (with their edges) and the selected edges."""
        doc = self._doc
        if doc is None:
            return False
        node_ids = self.scene.selected_node_ids()
        gone = set(node_ids)
        edges = [
            e
            for e in self.scene.selected_edges()
            if e.src_node not in gone and e.dst_node not in gone
        ]
        notes = self.selected_note_ids()
        if not node_ids and not edges and not notes:
            return False

        def build(d: Document) -> QUndoCommand:
            if node_ids and not edges and not notes:
                return RemoveNodesCommand(d, node_ids)
            command = MacroCommand("Delete" if node_ids or notes else "Disconnect")
            for edge in edges:
                command.add(DisconnectCommand(d, edge))
            if node_ids:
                command.add(RemoveNodesCommand(d, node_ids))
            for note_id in notes:
                command.add(SetNoteCommand(d, note_id, None, "Delete Note"))
            return command

        return self.push(build) is not None

    def move_nodes(
        self,
        moves: Mapping[str, tuple[Pos, Pos]],
        text: str = "",
        mergeable: bool = False,
    ) -> bool:
        """Push one move of several nodes: id → (old position, new position)."""
        if not moves:
            return False
        return (
            self.push(lambda d: MoveNodesCommand(d, moves, text, mergeable)) is not None
        )

    def nudge_selection(self, dx: float, dy: float, auto_repeat: bool = False) -> bool:
        """Move the selected nodes by (dx, dy); a burst of key presses is one undo step."""
        doc = self._doc
        if doc is None or self.scene.gesture is not None:
            return False  # the keys would fight the mouse
        moves = {}
        for node_id in self.scene.selected_node_ids():
            x, y = doc.node(node_id).pos
            moves[node_id] = ((x, y), (x + dx, y + dy))
        return self.move_nodes(moves, "Move with Keys", mergeable=True)

    def set_param(self, node_id: str, name: str, value: Any) -> bool:
        """Set a node parameter through SetParamCommand; False (with the reason shown)
        if the value is refused. An unchanged value pushes nothing."""
        doc = self._doc
        if doc is None:
            return False
        node = doc.node(node_id)
        try:
            canonical = node.spec.param(name).validate(value, node.title)
        except NNDeskError as exc:
            self.show_message(str(exc))
            return False
        current = node.params[name]
        if type(current) is type(canonical) and current == canonical:
            return True
        return (
            self.push(lambda d: SetParamCommand(d, node_id, name, canonical))
            is not None
        )

    def set_label(self, node_id: str, label: str | None) -> bool:
        """Set or clear a node's label."""
        doc = self._doc
        if doc is None:
            return False
        label = (label or "").strip() or None
        if doc.node(node_id).label == label:
            return True
        return self.push(lambda d: SetLabelCommand(d, node_id, label)) is not None

    def set_setting(self, name: str, value: Any) -> bool:
        """Set a network setting through SetSettingCommand (False if refused)."""
        doc = self._doc
        if doc is None:
            return False
        current = doc.settings.get(name)
        if type(current) is type(value) and current == value:
            return True
        return self.push(lambda d: SetSettingCommand(d, name, value)) is not None

    # -- edges -------------------------------------------------------------------------

    def connect_edge(
        self, edge: Edge, replaces: Edge | None = None, detached: Edge | None = None
    ) -> bool:
        """Connect; ``replaces`` (an edge on the same single input) and ``detached``
        (an edge being moved) are removed in the same undo step."""
        if detached is not None and detached == edge:
            return True  # the edge was dropped back where it was
        text = f"Connect {edge.src_node} to {edge.dst_node}"

        def build(d: Document) -> QUndoCommand:
            if replaces is None and detached is None:
                return ConnectCommand(d, edge)
            command = MacroCommand(text)
            for old in (detached, replaces):
                if old is not None:
                    command.add(DisconnectCommand(d, old))
            command.add(ConnectCommand(d, edge))
            return command

        pushed = self.push(build) is not None
        if pushed:
            self.show_message(text + ".")
        return pushed

    def connect_ports(
        self, src_node: str, src_port: str, dst_node: str, dst_port: str
    ) -> bool:
        """Connect an output port to an input port (no replacing)."""
        return self.connect_edge(Edge(src_node, src_port, dst_node, dst_port))

    def disconnect_edges(self, edges: Iterable[Edge]) -> bool:
        """Remove edges in one undo step."""
        edges = list(edges)
        if not edges:
            return False

        def build(d: Document) -> QUndoCommand:
            if len(edges) == 1:
                return DisconnectCommand(d, edges[0])
            command = MacroCommand(f"Disconnect {len(edges)} Edges")
            for edge in edges:
                command.add(DisconnectCommand(d, edge))
            return command

        return self.push(build) is not None

    def insert_new_node(
        self, type_name: str, scene_pos: QPointF, edge: Edge
    ) -> str | None:
        """Add a node of ``type_name`` into ``edge`` (src → new → dst), one undo step."""
        doc = self._doc
        if doc is None:
            return None
        if is_template(type_name):
            return next(iter(self.insert_template(type_name, scene_pos, edge)), None)
        spec = get_spec(type_name)
        if not passes_through(spec):
            self.show_message(f"{spec.title} cannot be inserted into an edge.")
            return None
        node_id = doc.new_node_id(type_name)
        top_left = self.scene.snap_point(scene_pos - QPointF(NODE_WIDTH / 2, PORT_Y))
        pos = (top_left.x(), top_left.y())

        def build(d: Document) -> QUndoCommand:
            command = MacroCommand(f"Insert {spec.title}")
            command.add(AddNodeCommand(d, type_name, None, pos, node_id=node_id))
            splice(d, command, edge, node_id, spec)
            return command

        if self.push(build) is None:
            return None
        self.scene.select_nodes([node_id])
        return node_id

    def offer_connected_node(self, port: PortItem, scene_pos: QPointF) -> None:
        """An edge dropped on empty canvas: offer node types that can take it there."""
        node_id, port_name, forward = port.node_id, port.name, not port.is_input

        def allowed(spec: NodeSpec) -> bool:
            return bool(spec.inputs if forward else spec.outputs)

        def chosen(type_name: str) -> None:
            self.add_connected_node(type_name, scene_pos, node_id, port_name, forward)

        title = "Connect a new node" if forward else "Feed from a new node"
        self.open_search(self.view.mapFromScene(scene_pos), "", allowed, chosen, title)

    def add_connected_node(
        self, type_name: str, scene_pos: QPointF, node_id: str, port: str, forward: bool
    ) -> str | None:
        """Add a node at ``scene_pos`` connected to an existing port, one undo step."""
        doc = self._doc
        if doc is None:
            return None
        spec = get_spec(type_name)
        new_id = doc.new_node_id(type_name)
        if forward:
            edge = Edge(node_id, port, new_id, spec.inputs[0].name)
            top_left = scene_pos - QPointF(0.0, PORT_Y)
        else:
            edge = Edge(new_id, spec.outputs[0].name, node_id, port)
            top_left = scene_pos - QPointF(NODE_WIDTH, PORT_Y)
        top_left = self.scene.snap_point(top_left)
        pos = (top_left.x(), top_left.y())

        def build(d: Document) -> QUndoCommand:
            command = MacroCommand(f"Add {spec.title}")
            command.add(AddNodeCommand(d, type_name, None, pos, node_id=new_id))
            command.add(ConnectCommand(d, edge))
            return command

        if self.push(build) is None:
            return None
        self.scene.select_nodes([new_id])
        return new_id

    # -- clipboard ---------------------------------------------------------------------

    def copy_selection(self) -> int:
        """Put the selected nodes and the edges among them on the clipboard."""
        doc = self._doc
        node_ids = self.scene.selected_node_ids()
        if doc is None or not node_ids:
            return 0
        text = json.dumps(doc.subgraph_dict(node_ids))
        mime = QMimeData()
        mime.setData(CLIPBOARD_MIME_TYPE, text.encode("utf-8"))
        mime.setText(text)
        QGuiApplication.clipboard().setMimeData(mime)
        self._paste_count = 0
        self.show_message(
            f"Copied {len(node_ids)} node{'s' if len(node_ids) != 1 else ''}."
        )
        return len(node_ids)

    def cut_selection(self) -> int:
        """Copy, then delete the selection (one undo step for the delete)."""
        count = self.copy_selection()
        if count:
            self.delete_selection()
        return count

    def paste(self, scene_pos: QPointF | None = None) -> list[str]:
        """Paste the clipboard's nodes under new ids and select them.

        At ``scene_pos`` when given (context menu), else offset a little from where
        they were copied, further at each paste.
        """
        data = self._clipboard_data()
        if data is None:
            self.show_message("The clipboard holds no nndesk nodes.")
            return []
        return self.paste_data(data, self._paste_offset(data, scene_pos), "Paste")

    def duplicate_selection(self) -> list[str]:
        """Copy the selection in place (offset a little), leaving the clipboard alone."""
        doc = self._doc
        node_ids = self.scene.selected_node_ids()
        if doc is None or not node_ids:
            return []
        self._paste_count = 0
        data = doc.subgraph_dict(node_ids)
        return self.paste_data(data, self._paste_offset(data, None), "Duplicate")

    def _paste_offset(self, data: dict[str, Any], scene_pos: QPointF | None) -> Pos:
        # At scene_pos (the nodes' top left corner there), else a step further
        # from the copied nodes at each paste.
        nodes = data.get("nodes") or []
        if scene_pos is not None and nodes:
            left = min(float(n["pos"][0]) for n in nodes)
            top = min(float(n["pos"][1]) for n in nodes)
            target = self.scene.snap_point(scene_pos)
            return (target.x() - left, target.y() - top)
        self._paste_count += 1
        step = PASTE_STEP * self._paste_count
        return (step, step)

    def paste_data(self, data: dict[str, Any], offset: Pos, text: str) -> list[str]:
        """Paste ``subgraph_dict`` data moved by ``offset`` as one undo step named
        ``text``; select and return the new ids."""
        if not data.get("nodes"):
            return []
        command = self.push(lambda d: PasteCommand(d, data, offset, text))
        if command is None:
            return []
        assert isinstance(command, PasteCommand)
        self.scene.select_nodes(command.node_ids)
        count = len(command.node_ids)
        self.show_message(f"{text}: {count} node{'s' if count != 1 else ''}.")
        return list(command.node_ids)

    @staticmethod
    def _clipboard_data() -> dict[str, Any] | None:
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None:
            return None
        if mime.hasFormat(CLIPBOARD_MIME_TYPE):
            raw = bytes(mime.data(CLIPBOARD_MIME_TYPE).data()).decode("utf-8")
        elif mime.hasText():
            raw = mime.text()
        else:
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
            return None
        return data

    # -- selection and layout ----------------------------------------------------------

    def select_all(self) -> None:
        """Select every node and edge."""
        self.scene.select_all()

    def selected_node_ids(self) -> list[str]:
        """Ids of the selected nodes, in document order."""
        return self.scene.selected_node_ids()

    def focus_node(self, node_id: str) -> None:
        """Select one node and bring it into view (problems list, search)."""
        if self._doc is None or node_id not in self._doc:
            return
        group = self._doc.group_of(node_id)
        if group is not None and group.collapsed:  # the node is inside a box
            self.select_group(group.id)
            self.view.ensureVisible(self.scene.overlay.groups[group.id], 60, 60)
            return
        self.scene.select_nodes([node_id])
        self.view.ensureVisible(self.scene.node_item(node_id), 60, 60)

    def auto_layout(self) -> bool:
        """Arrange all nodes in columns by depth, left to right (one undo step)."""
        doc = self._doc
        if doc is None or len(doc) == 0:
            return False
        rect = self.scene.nodes_rect()
        origin = (
            (rect.left() + 3.0, rect.top() + 3.0) if not rect.isEmpty() else (0.0, 0.0)
        )
        positions = layered_positions(doc, NODE_WIDTH, NODE_HEIGHT, origin)
        moves = {
            node_id: (doc.node(node_id).pos, pos)
            for node_id, pos in positions.items()
            if doc.node(node_id).pos != pos
        }
        if not moves:
            return False

        def build(d: Document) -> QUndoCommand:
            command = MacroCommand("Auto Layout")
            command.add(MoveNodesCommand(d, moves, "Auto Layout"))
            return command

        pushed = self.push(build) is not None
        if pushed:
            self.view.fit_to_view(self.scene.nodes_rect())
        return pushed

    # -- the add-node search ----------------------------------------------------------

    def open_search(
        self,
        view_pos: QPoint,
        text: str = "",
        allowed: Callable[[NodeSpec], bool] | None = None,
        on_chosen: Callable[[str], object] | None = None,
        title: str = "Add node",
    ) -> None:
        """Show the search popup at a viewport position; the chosen type is added there
        (or handed to ``on_chosen``)."""
        if self._doc is None:
            return
        scene_pos = self.view.mapToScene(view_pos)
        self._pending_search = on_chosen or (lambda t: self.add_node(t, scene_pos))
        global_pos = self.view.viewport().mapToGlobal(view_pos)
        self.popup.open_at(global_pos, text, allowed, title)

    def _on_view_search_requested(self, view_pos: QPoint, text: str) -> None:
        if self.scene.gesture is None:  # typing mid-drag opens nothing
            self.open_search(view_pos, text)

    def _on_popup_chosen(self, type_name: str) -> None:
        action, self._pending_search = self._pending_search, None
        if action is not None:
            action(type_name)
        self.view.setFocus()

    def _on_popup_cancelled(self) -> None:
        self._pending_search = None

    # -- gestures: palette drags and presses start them, Escape cancels -----------------

    def _palette_gesture(self) -> Gesture | None:
        # A palette drag over the canvas starts a PaletteDrop unless another
        # gesture is active; that one then receives (and ignores) the drag.
        if self._doc is not None and self.scene.gesture is None:
            self.scene.start_gesture(PaletteDrop(self))
        return self.scene.gesture

    def _on_view_node_drag_moved(self, type_name: str, scene_pos: QPointF) -> None:
        gesture = self._palette_gesture()
        if gesture is not None:
            gesture.drag_move(type_name, scene_pos)

    def _on_view_node_drag_left(self) -> None:
        if self.scene.gesture is not None:
            self.scene.gesture.drag_leave()

    def _on_view_node_dropped(self, type_name: str, scene_pos: QPointF) -> None:
        gesture = self._palette_gesture()
        if gesture is not None:
            gesture.drop(type_name, scene_pos)

    def gesture_for_press(self, event: QGraphicsSceneMouseEvent) -> Gesture | None:
        """The gesture a left-button press on the canvas begins (the scene asks)."""
        return gesture_for_press(self, event) if self._doc is not None else None

    def cancel(self) -> None:
        """Escape: cancel the gesture in progress, else clear the selection."""
        if not self.scene.cancel_gesture() and self.scene.selectedItems():
            self.scene.clearSelection()

    def scene_context_menu(self, event: QGraphicsSceneContextMenuEvent) -> bool:
        if self._doc is None:
            return False
        scene_pos = event.scenePos()
        if not self.select_overlay_under(scene_pos):
            self._select_under(scene_pos)
        menu = QMenu(self.view)
        view_pos = self.view.mapFromScene(scene_pos)
        if self.scene.selected_node_ids():
            _add(menu, "Duplicate", self.duplicate_selection)
            _add(menu, "Copy", self.copy_selection)
        if self.scene.selectedItems():
            _add(menu, "Delete", self.delete_selection)
            menu.addSeparator()
        _add(menu, "Add Node…", lambda: self.open_search(view_pos))
        _add(menu, "Paste Here", lambda: self.paste(scene_pos))
        _add(menu, "Auto Layout", self.auto_layout)
        menu.addSeparator()
        self.add_overlay_actions(menu, scene_pos)
        self.exec_menu(menu, event.screenPos())
        menu.deleteLater()  # parented to the view: each right-click would keep one
        event.accept()
        return True

    def _select_under(self, scene_pos: QPointF) -> None:
        # A right-click acts on what is under it: select that node or edge unless
        # it is already part of the selection.
        node = self.scene.node_at(scene_pos)
        if node is not None:
            if not node.isSelected():
                self.scene.select_nodes([node.node_id])
            return
        edge = self.scene.edge_at(scene_pos)
        if edge is not None and not edge.isSelected():
            self.scene.clearSelection()
            edge.setSelected(True)

    def _on_scene_selection_changed(self) -> None:
        ids = self.scene.selected_node_ids() if self._doc is not None else []
        if ids != self._selection:
            self._selection = ids
            self.sig_selection_changed.emit(ids)


def _exec_menu(menu: QMenu, screen_pos: QPoint) -> object:
    # Bound call: PySide6 6.11 rejects the unbound QMenu.exec(menu, pos) with a
    # TypeError (it tries the exec(actions, pos) overload), issue 10.
    return menu.exec(screen_pos)


def _add(menu: QMenu, text: str, slot: Callable[[], object]) -> QAction:
    action = menu.addAction(text)
    action.triggered.connect(slot)
    return action
