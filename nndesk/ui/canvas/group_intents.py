"""The editor's intents for groups, notes and templates (a mixin of CanvasEditor).

Each intent builds one undo command and hands it to ``CanvasEditor.push`` (tried on
a copy of the document first), like the rest of the editor: group the selection
with a title, ungroup, collapse or expand, rename; add, edit, move and delete
canvas notes; insert a palette template (a wired fragment pasted as one group,
spliced into an edge or after the selected node) in one undo step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import QInputDialog, QMenu, QWidget

from nndesk.document.graph import Document, Edge, Pos
from nndesk.document.groups import Group, Note
from nndesk.document.templates import get_template, incoming_features
from nndesk.engine.errors import NNDeskError

from .commands import (
    ConnectCommand,
    DisconnectCommand,
    MacroCommand,
    MoveNodesCommand,
    PasteCommand,
    SetGroupCommand,
    SetNoteCommand,
)
from .items.node_item import NODE_WIDTH

if TYPE_CHECKING:
    from .scene import CanvasScene
    from .view import CanvasView

AskText = Callable[[QWidget, str, str, str], "str | None"]


def ask_text(parent: QWidget, title: str, label: str, text: str) -> str | None:
    """A one-line text dialog; None when cancelled."""
    value, ok = QInputDialog.getText(parent, title, label, text=text)
    return value if ok else None


class GroupIntents:
    """Group, note and template intents; mixed into ``CanvasEditor``."""

    scene: CanvasScene
    view: CanvasView
    _doc: Document | None
    # How the title of a new group is asked; tests may replace it.
    ask_text: AskText = staticmethod(ask_text)  # type: ignore[assignment]

    if TYPE_CHECKING:  # CanvasEditor's

        def push(
            self, build: Callable[[Document], QUndoCommand]
        ) -> QUndoCommand | None: ...

        def show_message(self, text: str) -> None: ...

    # -- groups -------------------------------------------------------------------------

    def select_group(self, group_id: str) -> None:
        """Select the group (its frame or box) and nothing else."""
        item = self.scene.overlay.groups.get(group_id)
        if item is None:
            return
        self.scene.clearSelection()
        item.setSelected(True)

    def selected_group_ids(self) -> list[str]:
        """Ids of the selected groups, and of groups a selected node belongs to."""
        doc = self._doc
        if doc is None:
            return []
        ids = [
            gid for gid, item in self.scene.overlay.groups.items() if item.isSelected()
        ]
        for node_id in self.scene.selected_node_ids():
            group = doc.group_of(node_id)
            if group is not None and group.id not in ids:
                ids.append(group.id)
        return ids

    def group_selection(self, title: str | None = None) -> str | None:
        """Put the selected nodes in a new group titled ``title`` (asked when None).

        Returns the group id, or None if nothing was grouped (the reason is shown).
        """
        doc = self._doc
        node_ids = self.scene.selected_node_ids()
        if doc is None or not node_ids:
            self.show_message("Select the nodes to group first.")
            return None
        group_id = doc.new_group_id()
        if title is None:
            title = self.ask_text(
                self.view, "Group Selection", "Title of the group:", "Group"
            )
            if title is None:
                return None
        group = Group(group_id, title, tuple(node_ids))
        text = f"Group {len(node_ids)} Nodes"
        if self.push(lambda d: SetGroupCommand(d, group_id, group, text)) is None:
            return None
        self.select_group(group_id)
        self.show_message(f"Grouped {len(node_ids)} nodes as '{title.strip()}'.")
        return group_id

    def ungroup_selection(self) -> bool:
        """Dissolve the selected groups (their nodes stay, selected), one undo step."""
        doc = self._doc
        ids = self.selected_group_ids()
        if doc is None or not ids:
            self.show_message("Select a group to ungroup.")
            return False
        members = [n for gid in ids for n in doc.group(gid).node_ids]

        def build(d: Document) -> QUndoCommand:
            command = MacroCommand("Ungroup")
            for gid in ids:
                command.add(SetGroupCommand(d, gid, None, "Ungroup"))
            return command

        if self.push(build) is None:
            return False
        self.scene.select_nodes(members)
        return True

    def toggle_group_collapsed(self, group_id: str) -> bool:
        """Collapse an expanded group to one box, or expand a collapsed one."""
        doc = self._doc
        if doc is None:
            return False
        group = doc.group(group_id)
        new = Group(group.id, group.title, group.node_ids, not group.collapsed)
        text = f"{'Collapse' if new.collapsed else 'Expand'} {group.title}"
        if self.push(lambda d: SetGroupCommand(d, group_id, new, text)) is None:
            return False
        self.select_group(group_id)
        return True

    def toggle_selected_groups(self) -> bool:
        """Collapse or expand the selected groups (each flips)."""
        ids = self.selected_group_ids()
        if not ids:
            self.show_message("Select a group to collapse or expand.")
            return False
        return all([self.toggle_group_collapsed(gid) for gid in ids])

    def rename_group(self, group_id: str, title: str | None = None) -> bool:
        """Give a group a new title (asked when None)."""
        doc = self._doc
        if doc is None:
            return False
        group = doc.group(group_id)
        if title is None:
            title = self.ask_text(self.view, "Rename Group", "Title:", group.title)
            if title is None:
                return False
        new = Group(group.id, title, group.node_ids, group.collapsed)
        return (
            self.push(lambda d: SetGroupCommand(d, group_id, new, "Rename Group"))
            is not None
        )

    # -- notes --------------------------------------------------------------------------

    def add_note(self, scene_pos: QPointF | None = None, text: str = "") -> str | None:
        """Put a note at ``scene_pos`` (default: the view centre) and start editing it."""
        doc = self._doc
        if doc is None:
            return None
        if scene_pos is None:
            scene_pos = self.view.visible_scene_rect().center()
        pos = self.scene.snap_point(scene_pos)
        note_id = doc.new_note_id()
        note = Note(note_id, text, (pos.x(), pos.y()))
        if self.push(lambda d: SetNoteCommand(d, note_id, note, "Add Note")) is None:
            return None
        self.edit_note(note_id)
        return note_id

    def edit_note(self, note_id: str) -> None:
        """Start editing a note's text in place."""
        item = self.scene.overlay.notes.get(note_id)
        if item is not None:
            self.scene.clearSelection()
            item.setSelected(True)
            self.view.setFocus()
            item.start_editing()

    def set_note_text(self, note_id: str, text: str) -> bool:
        """Replace a note's text (one undo step)."""
        doc = self._doc
        if doc is None or doc.note_or_none(note_id) is None:
            return False
        old = doc.note(note_id)
        if old.text == text:
            return True
        note = Note(note_id, text, old.pos)
        return (
            self.push(lambda d: SetNoteCommand(d, note_id, note, "Edit Note"))
            is not None
        )

    def move_note(self, note_id: str, pos: Pos) -> bool:
        """Move a note (one undo step)."""
        doc = self._doc
        if doc is None or doc.note_or_none(note_id) is None:
            return False
        note = Note(note_id, doc.note(note_id).text, pos)
        return (
            self.push(lambda d: SetNoteCommand(d, note_id, note, "Move Note"))
            is not None
        )

    def selected_note_ids(self) -> list[str]:
        """Ids of the selected notes."""
        return [n for n, item in self.scene.overlay.notes.items() if item.isSelected()]

    # -- templates ----------------------------------------------------------------------

    def insert_template(
        self,
        name: str,
        scene_pos: QPointF | None = None,
        edge: Edge | None = None,
    ) -> list[str]:
        """Insert a palette template as one group, in one undo step.

        Into ``edge`` when given (its source feeds the fragment, which feeds its
        destination); else, without ``scene_pos``, after the one selected node;
        else unconnected at ``scene_pos``. The fragment is sized by the features
        arriving (the template's default when unknown). Returns the new node ids.
        """
        doc = self._doc
        if doc is None:
            return []
        template = get_template(name)
        source = self._template_source(doc, edge, scene_pos)
        d = None
        if source is not None:
            self.scene.flush()
            report = self.scene.status.report
            result = report.nodes.get(source[0]) if report is not None else None
            d = incoming_features(result.output_shape if result is not None else None)
        try:
            fragment = template.make(d)
        except NNDeskError as exc:
            self.show_message(str(exc))
            return []
        offset = self._template_offset(doc, source, scene_pos)
        data = fragment.data
        room = self._make_room(doc, fragment, offset, edge)

        def build(target: Document) -> QUndoCommand:
            ids = target.copy().paste_dict(data, offset)  # the ids paste will give
            command = MacroCommand(f"Insert {template.title}")
            if room:
                command.add(MoveNodesCommand(target, room, "Make Room"))
            if edge is not None:
                command.add(DisconnectCommand(target, edge))
            command.add(PasteCommand(target, data, offset, template.title))
            if source is not None:
                for index, port in fragment.entries:
                    wire = Edge(source[0], source[1], ids[index], port)
                    command.add(ConnectCommand(target, wire))
            if edge is not None:
                out = Edge(
                    ids[fragment.exit[0]],
                    fragment.exit[1],
                    edge.dst_node,
                    edge.dst_port,
                )
                command.add(ConnectCommand(target, out))
            command.new_ids = ids  # type: ignore[attr-defined]
            return command

        command = self.push(build)
        if command is None:
            return []
        ids = list(command.new_ids)  # type: ignore[attr-defined]
        group = self._doc.group_of(ids[0]) if self._doc is not None else None
        if group is not None:
            self.select_group(group.id)
        size = f" for {d} features" if d is not None else f" ({template.title} default)"
        self.show_message(f"Inserted {template.title}{size}.")
        return ids

    def _make_room(
        self, doc: Document, fragment: Any, offset: Pos, edge: Edge | None
    ) -> dict[str, tuple[Pos, Pos]]:
        """Moves that shift the nodes after the edge right, past the fragment, so
        the inserted block covers none of them (as inserting a node does)."""
        if edge is None:
            return {}
        right = offset[0] + max(n["pos"][0] for n in fragment.data["nodes"])
        after = [edge.dst_node] + [
            n
            for n in doc.node_ids
            if n != edge.dst_node and doc.reaches(edge.dst_node, n)
        ]
        left = min(doc.node(n).pos[0] for n in after)
        shift = right + NODE_WIDTH + 90.0 - left
        if shift <= 0:
            return {}
        moves = {}
        for n in after:
            x, y = doc.node(n).pos
            moves[n] = ((x, y), (x + shift, y))
        return moves

    def _template_source(
        self, doc: Document, edge: Edge | None, scene_pos: QPointF | None
    ) -> tuple[str, str] | None:
        if edge is not None:
            return (edge.src_node, edge.src_port)
        selected = self.scene.selected_node_ids()
        if scene_pos is None and len(selected) == 1:
            outputs = doc.output_ports(selected[0])
            if outputs:
                return (selected[0], outputs[0].name)
        return None

    def _template_offset(
        self, doc: Document, source: tuple[str, str] | None, scene_pos: QPointF | None
    ) -> Pos:
        if scene_pos is not None:
            p = self.scene.snap_point(scene_pos)
            return (p.x(), p.y())
        if source is not None:
            x, y = doc.node(source[0]).pos
            return (x + 250.0, y)
        c = self.view.visible_scene_rect().center()
        return (c.x(), c.y())

    # -- the context menu's part --------------------------------------------------------

    def add_overlay_actions(self, menu: QMenu, scene_pos: QPointF) -> None:
        """Group and note entries for the canvas context menu at ``scene_pos``."""
        groups = self.selected_group_ids()
        if self.scene.selected_node_ids():
            _add(menu, "Group Selection…", lambda: self.group_selection())
        if groups:
            doc = self._doc
            collapsed = doc is not None and doc.group(groups[0]).collapsed
            _add(
                menu, "Expand" if collapsed else "Collapse", self.toggle_selected_groups
            )
            _add(menu, "Rename Group…", lambda: self.rename_group(groups[0]))
            _add(menu, "Ungroup", self.ungroup_selection)
        _add(menu, "Add Note Here", lambda: self.add_note(scene_pos))

    def select_overlay_under(self, scene_pos: QPointF) -> bool:
        """A right-click on a note or a group handle selects it; True if it did."""
        note = self.scene.overlay.note_at(scene_pos)
        group = self.scene.overlay.group_at(scene_pos) if note is None else None
        item: Any = note or group
        if (
            item is None
            or self.scene.node_at(scene_pos) is not None
            and not (group is not None and group.collapsed)
        ):
            return False
        if not item.isSelected():
            self.scene.clearSelection()
            item.setSelected(True)
        return True


def _add(menu: QMenu, text: str, slot: Callable[[], object]) -> None:
    action = menu.addAction(text)
    action.triggered.connect(slot)
