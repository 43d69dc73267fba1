"""The scene's group and note items, kept in step with the document.

``OverlayItems`` belongs to the ``CanvasScene``: it makes a ``GroupItem`` per group
and a ``NoteItem`` per note, and after every document change (``sync``) fits each
frame around its nodes, or, for a collapsed group, hides the members and the edges
among them, places the box where the nodes were and re-routes the outside edges to
the box's ports. Shapes and problems of the members are summarised on the box.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF

from nndesk.document.graph import Document, Edge
from nndesk.document.groups import Group

from .items.group_item import FRAME_MARGIN, TITLE_HEIGHT, GroupItem, GroupSummary
from .items.note_item import NoteItem
from .status import format_shape

if TYPE_CHECKING:
    from .scene import CanvasScene


class OverlayItems:
    """Group frames/boxes and notes of one scene."""

    def __init__(self, scene: CanvasScene) -> None:
        self.scene = scene
        self.groups: dict[str, GroupItem] = {}
        self.notes: dict[str, NoteItem] = {}
        self.on_note_edited: Callable[[str, str], object] | None = None
        self._rerouted: set[Edge] = set()
        self._hidden: set[str] = set()

    # -- building -----------------------------------------------------------------------

    def clear(self) -> None:
        """Remove every group and note item."""
        for item in (*self.groups.values(), *self.notes.values()):
            self.scene.removeItem(item)
        self.groups.clear()
        self.notes.clear()
        self._rerouted.clear()
        self._hidden = set()

    def rebuild(self, doc: Document) -> None:
        """Make items for the groups and notes of ``doc`` (after the nodes)."""
        self.clear()
        for note in doc.notes:
            self._add_note(note.id, doc)
        self.sync()

    def _add_note(self, note_id: str, doc: Document) -> NoteItem:
        item = NoteItem(doc.note(note_id), self.scene.theme)
        item.on_edited = self._note_edited
        self.scene.addItem(item)
        self.notes[note_id] = item
        return item

    def _note_edited(self, note_id: str, text: str) -> None:
        if self.on_note_edited is not None:
            self.on_note_edited(note_id, text)

    def on_note_changed(self, note_id: str) -> None:
        """The document's note ``note_id`` was added, changed or removed."""
        doc = self.scene.document
        assert doc is not None
        note = doc.note_or_none(note_id)
        item = self.notes.get(note_id)
        if note is None:
            if item is not None:
                self.scene.removeItem(self.notes.pop(note_id))
        elif item is None:
            self._add_note(note_id, doc)
        else:
            item.set_note(note)

    def set_theme(self) -> None:
        """Repaint every item in the scene's theme."""
        for item in (*self.groups.values(), *self.notes.values()):
            item.set_theme(self.scene.theme)

    # -- keeping frames, boxes and edges in step ---------------------------------------

    def sync(self) -> None:
        """Fit every group item to the document as it is now."""
        doc = self.scene.document
        if doc is None or self.scene.is_building:
            return
        if not doc.overlay.groups and not self.groups and not self._hidden:
            return
        groups = {g.id: g for g in doc.groups}
        for gid in [g for g in self.groups if g not in groups]:
            self.scene.removeItem(self.groups.pop(gid))
        hidden: set[str] = set()
        anchors: dict[tuple[Edge, bool], QPointF] = {}
        for group in groups.values():
            item = self.groups.get(group.id)
            if item is None:
                item = GroupItem(group, self.scene.theme)
                self.scene.addItem(item)
                self.groups[group.id] = item
            elif item.group != group:
                item.set_group(group)
            if group.collapsed:
                hidden.update(group.node_ids)
                self._place_box(doc, item, anchors)
            else:
                item.set_layout(self._frame_rect(group))
            item.set_summary(self._summary(group))
        self._show_members(doc, hidden, anchors)

    def refit_frames(self) -> None:
        """Fit the expanded groups' frames to where their nodes are shown now (a
        node drag moves items before the document hears of it)."""
        for item in self.groups.values():
            if not item.collapsed:
                item.set_layout(self._frame_rect(item.group))

    def _frame_rect(self, group: Group) -> QRectF:
        rect = self.scene.nodes_rect(group.node_ids)
        m = FRAME_MARGIN
        return rect.adjusted(-m, -m - TITLE_HEIGHT, m, m)

    def _place_box(
        self,
        doc: Document,
        item: GroupItem,
        anchors: dict[tuple[Edge, bool], QPointF],
    ) -> None:
        members = set(item.group.node_ids)
        ins: list[str] = []
        outs: list[str] = []
        crossing: list[tuple[Edge, bool, str]] = []
        for edge in doc.edges:
            src_in, dst_in = edge.src_node in members, edge.dst_node in members
            if dst_in and not src_in:
                key = f"{edge.dst_node}.{edge.dst_port}"
                ins += [key] if key not in ins else []
                crossing.append((edge, False, key))
            elif src_in and not dst_in:
                key = f"{edge.src_node}.{edge.src_port}"
                outs += [key] if key not in outs else []
                crossing.append((edge, True, key))
        # The box stands where the members' frame began, so expanding puts the
        # nodes back around it.
        top_left = self.scene.nodes_rect(item.group.node_ids).topLeft()
        w, h = GroupItem.box_size(len(ins), len(outs))
        item.set_layout(QRectF(top_left.x(), top_left.y(), w, h), ins, outs)
        for edge, is_src, key in crossing:
            anchors[(edge, is_src)] = item.anchor(key, is_input=not is_src)

    def _show_members(
        self,
        doc: Document,
        hidden: set[str],
        anchors: dict[tuple[Edge, bool], QPointF],
    ) -> None:
        scene = self.scene
        touched = hidden | self._hidden
        if not touched and not self._rerouted:
            return  # no collapsed group now or before: nothing to show or hide
        for node_id in touched:
            if node_id in doc:
                scene.node_item(node_id).setVisible(node_id not in hidden)
        rerouted: set[Edge] = set()
        for edge in doc.edges:
            if edge.src_node not in touched and edge.dst_node not in touched:
                continue
            item = scene.edge_item(edge)
            inside = edge.src_node in hidden and edge.dst_node in hidden
            src_box = anchors.get((edge, True))
            dst_box = anchors.get((edge, False))
            # both ends hidden in two different collapsed groups: box to box
            item.setVisible(not inside or (src_box is not None and dst_box is not None))
            if src_box is not None or dst_box is not None:
                rerouted.add(edge)
            if (item.src_anchor, item.dst_anchor) != (src_box, dst_box):
                item.src_anchor, item.dst_anchor = src_box, dst_box
                item.update_path()
        for edge in self._rerouted - rerouted:
            if doc.has_edge(edge):
                item = scene.edge_item(edge)
                item.src_anchor = item.dst_anchor = None
                item.update_path()
        self._rerouted = rerouted
        self._hidden = hidden

    def _summary(self, group: Group) -> GroupSummary:
        report = self.scene.status.report
        nodes = self.scene.status.nodes
        params, problems, first, waiting = 0, 0, None, False
        shape = ""
        for node_id in group.node_ids:
            status = nodes.get(node_id)
            if status is not None and status.problem and not status.waiting:
                problems += 1
                first = first or f"{node_id}: {status.problem}"
            waiting = waiting or bool(status is not None and status.waiting)
            result = report.nodes.get(node_id) if report is not None else None
            if result is not None:
                params += result.param_count
                if result.ok:
                    ins = " + ".join(format_shape(s) for s in result.input_shapes)
                    if node_id == group.node_ids[0] and ins:
                        shape = ins
        last = report.nodes.get(group.node_ids[-1]) if report is not None else None
        out = format_shape(last.output_shape) if last is not None and last.ok else ""
        text = f"{shape} → {out}" if shape and out else (out or shape)
        return GroupSummary(params, text, problems, first, waiting)

    # -- queries ------------------------------------------------------------------------

    def group_at(self, pos: QPointF) -> GroupItem | None:
        """The group item whose handle (title bar, border, box) is at ``pos``."""
        for item in self.scene.items(pos):
            if isinstance(item, GroupItem) and item.on_handle(pos):
                return item
        return None

    def note_at(self, pos: QPointF) -> NoteItem | None:
        """The note under ``pos``."""
        for item in self.scene.items(pos):
            if isinstance(item, NoteItem):
                return item
        return None

    def selected_group_members(self) -> list[str]:
        """Node ids of the selected groups (a collapsed group's nodes are hidden and
        cannot be selected themselves)."""
        out: list[str] = []
        for item in self.groups.values():
            if item.isSelected():
                out.extend(item.group.node_ids)
        return out
