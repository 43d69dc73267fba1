"""Groups and notes: titled sets of nodes and text notes drawn on the canvas.

Neither changes what the network computes: a group (even collapsed) is a view of
its nodes, which compile and train as if it were not there; a note is text. Both
are saved in ``graph.json`` (``groups`` and ``notes``, see docs/file-format.md) and
edited through ``Document.set_group`` / ``Document.set_note``, which return the old
record so an undo command is two calls.

A group lists node ids. Removing a node leaves its id in the group, so undoing the
removal brings the node back into its group; ``Document.new_node_id`` never hands
out an id a group still lists, so a new node cannot join a group by accident. Only
ids of existing nodes are saved, and a group left with none is not saved at all.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import DocumentError, SchemaError

MAX_TITLE = 200
"""Longest group title, in characters."""
MAX_NOTE = 10_000
"""Longest note text, in characters."""
MAX_GROUPS = 1000
"""Most groups (and most notes) a graph may hold."""

_GROUP_ID_RE = re.compile(r"^group_(\d+)$")
_NOTE_ID_RE = re.compile(r"^note_(\d+)$")
_GROUP_KEYS = ("id", "title", "nodes", "collapsed")
_NOTE_KEYS = ("id", "text", "pos")


@dataclass(frozen=True)
class Group:
    """A titled set of nodes drawn in one frame; ``collapsed`` shows it as one box.

    Attributes
    ----------
    id : str
        ``group_<n>``, stable and saved.
    title : str
        Shown on the frame and on the collapsed box (never empty).
    node_ids : tuple of str
        The members, in the order they were grouped.
    collapsed : bool
        A view state only: the members still compile and train.
    """

    id: str
    title: str
    node_ids: tuple[str, ...]
    collapsed: bool = False

    def members(self, node_ids: Iterable[str]) -> tuple[str, ...]:
        """The member ids among ``node_ids`` (the nodes that exist), in group order."""
        present = set(node_ids)
        return tuple(n for n in self.node_ids if n in present)


@dataclass(frozen=True)
class Note:
    """A text note on the canvas at ``pos`` (its top-left corner)."""

    id: str
    text: str
    pos: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True)
class Overlay:
    """The groups and notes of a document: an immutable value shared by copies."""

    groups: tuple[Group, ...] = ()
    notes: tuple[Note, ...] = field(default_factory=tuple)

    def with_group(self, group_id: str, group: Group | None) -> Overlay:
        """A copy with ``group_id`` replaced by ``group`` (added last; None removes)."""
        return Overlay(_replace(self.groups, group_id, group), self.notes)

    def with_note(self, note_id: str, note: Note | None) -> Overlay:
        """A copy with ``note_id`` replaced by ``note`` (added last; None removes)."""
        return Overlay(self.groups, _replace(self.notes, note_id, note))


class OverlayView:
    """Read access to the groups and notes of a Document or Snapshot."""

    _overlay: Overlay
    _nodes: Mapping[str, Any]

    @property
    def overlay(self) -> Overlay:
        """Groups and notes as one immutable value."""
        return self._overlay

    @property
    def groups(self) -> tuple[Group, ...]:
        """The groups that have at least one node, members limited to nodes."""
        out = []
        for g in self._overlay.groups:
            members = g.members(self._nodes)
            if members:
                out.append(Group(g.id, g.title, members, g.collapsed))
        return tuple(out)

    @property
    def notes(self) -> tuple[Note, ...]:
        """The canvas notes, in the order they were added."""
        return self._overlay.notes

    def group_or_none(self, group_id: str) -> Group | None:
        """The stored group record (members not limited), or None."""
        return next((g for g in self._overlay.groups if g.id == group_id), None)

    def group(self, group_id: str) -> Group:
        """A group as ``groups`` lists it.

        Raises
        ------
        DocumentError
            If there is no such group (or it has no node left).
        """
        found = next((g for g in self.groups if g.id == group_id), None)
        if found is None:
            raise DocumentError(f"There is no group '{group_id}'.")
        return found

    def group_of(self, node_id: str) -> Group | None:
        """The group ``node_id`` belongs to, or None."""
        return next((g for g in self.groups if node_id in g.node_ids), None)

    def note_or_none(self, note_id: str) -> Note | None:
        """The note ``note_id``, or None."""
        return next((n for n in self._overlay.notes if n.id == note_id), None)

    def note(self, note_id: str) -> Note:
        """The note ``note_id``.

        Raises
        ------
        DocumentError
            If there is no such note.
        """
        found = self.note_or_none(note_id)
        if found is None:
            raise DocumentError(f"There is no note '{note_id}'.")
        return found


def _replace(items: tuple[Any, ...], item_id: str, new: Any) -> tuple[Any, ...]:
    out = [x for x in items if x.id != item_id or new is not None]
    for i, x in enumerate(out):
        if x.id == item_id:
            out[i] = new
            return tuple(out)
    return tuple(out) + ((new,) if new is not None else ())


def next_id(prefix: str, used: Iterable[str]) -> str:
    """``<prefix>_<n>`` with n one more than the largest in ``used``."""
    pattern = re.compile(rf"^{re.escape(prefix)}_(\d+)$")
    numbers = [int(m.group(1)) for u in used if (m := pattern.match(u))]
    return f"{prefix}_{max(numbers, default=0) + 1}"


def check_group(group: Any, node_ids: Iterable[str]) -> Group:
    """Check a group record against the document's nodes.

    Raises
    ------
    DocumentError
        For a malformed id, an empty or over-long title, no members, a member that
        is not a node, or a node listed twice.
    """
    if not isinstance(group, Group):
        raise DocumentError(f"A group must be a Group, got {type(group).__name__}.")
    if not isinstance(group.id, str) or not _GROUP_ID_RE.match(group.id):
        raise DocumentError(f"Group id {group.id!r} is not of the form group_<n>.")
    title = _check_title(group.title, group.id)
    if not group.node_ids:
        raise DocumentError(f"Group '{group.id}' has no nodes.")
    present = set(node_ids)
    seen: set[str] = set()
    for n in group.node_ids:
        if n not in present:
            raise DocumentError(f"Group '{group.id}' lists '{n}', which is no node.")
        if n in seen:
            raise DocumentError(f"Group '{group.id}' lists '{n}' twice.")
        seen.add(n)
    return Group(group.id, title, tuple(group.node_ids), bool(group.collapsed))


def check_note(note: Any) -> Note:
    """Check a note record.

    Raises
    ------
    DocumentError
        For a malformed id, text that is not text or too long, or a bad position.
    """
    if not isinstance(note, Note):
        raise DocumentError(f"A note must be a Note, got {type(note).__name__}.")
    if not isinstance(note.id, str) or not _NOTE_ID_RE.match(note.id):
        raise DocumentError(f"Note id {note.id!r} is not of the form note_<n>.")
    if not isinstance(note.text, str):
        raise DocumentError(
            f"Note '{note.id}' must hold text, got {type(note.text).__name__}."
        )
    if len(note.text) > MAX_NOTE:
        raise DocumentError(
            f"Note '{note.id}' has {len(note.text)} characters; the most is {MAX_NOTE}."
        )
    return Note(note.id, note.text, _check_point(note.pos, f"note '{note.id}'"))


def _check_title(title: Any, where: str) -> str:
    if not isinstance(title, str) or not title.strip():
        raise DocumentError(f"Group '{where}' needs a title, got {repr(title)[:40]}.")
    if len(title) > MAX_TITLE:
        raise DocumentError(
            f"Title of group '{where}' has {len(title)} characters; "
            f"the most is {MAX_TITLE}."
        )
    return title.strip()


def _check_point(pos: Any, where: str) -> tuple[float, float]:
    ok = (
        isinstance(pos, (list, tuple))
        and len(pos) == 2
        and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for v in pos
        )
    )
    if not ok:
        raise DocumentError(
            f"Position of {where} must be two finite numbers, got {repr(pos)[:40]}."
        )
    return (float(pos[0]), float(pos[1]))


# --- plain data ------------------------------------------------------------------------


def overlay_to_dict(
    overlay: Overlay, node_ids: Iterable[str], notes: bool = True
) -> dict[str, Any]:
    """``groups`` (over the nodes in ``node_ids``) and ``notes`` as plain data.

    A group keeps only its members among ``node_ids``; a group with none is left
    out. Empty lists are left out too, so a graph without groups or notes is
    written exactly as before they existed.
    """
    present = list(node_ids)
    out: dict[str, Any] = {}
    groups = []
    for g in overlay.groups:
        members = g.members(present)
        if members:
            groups.append(
                {
                    "id": g.id,
                    "title": g.title,
                    "nodes": list(members),
                    "collapsed": g.collapsed,
                }
            )
    if groups:
        out["groups"] = groups
    if notes and overlay.notes:
        out["notes"] = [
            {"id": n.id, "text": n.text, "pos": [n.pos[0], n.pos[1]]}
            for n in overlay.notes
        ]
    return out


def overlay_from_dict(
    data: Mapping[str, Any], node_ids: Iterable[str], source: str
) -> Overlay:
    """Read ``groups`` and ``notes`` (both optional) of graph data.

    Raises
    ------
    SchemaError
        One sentence naming ``source`` and the group or note: not a list, too many,
        unknown or missing keys, a bad id, title, member, text or position, an id
        used twice, or a node in two groups.
    """
    present = list(node_ids)
    groups: list[Group] = []
    owner: dict[str, str] = {}
    for i, item in enumerate(_items(data, "groups", source)):
        where = _where("group", item, i)
        _keys(item, _GROUP_KEYS, ("id", "title", "nodes"), source, where)
        nodes, collapsed = item["nodes"], item.get("collapsed", False)
        if not isinstance(nodes, list) or not all(isinstance(n, str) for n in nodes):
            raise SchemaError(f"{source}: {where} needs 'nodes' as a list of ids.")
        if not isinstance(collapsed, bool):
            raise SchemaError(f"{source}: {where} has 'collapsed' {collapsed!r}.")
        group = _checked(
            check_group,
            source,
            Group(item["id"], item["title"], tuple(nodes), collapsed),
            present,
        )
        if any(g.id == group.id for g in groups):
            raise SchemaError(f"{source}: group id '{group.id}' appears twice.")
        for n in group.node_ids:
            if n in owner:
                raise SchemaError(
                    f"{source}: node '{n}' is in both '{owner[n]}' and '{group.id}'."
                )
            owner[n] = group.id
        groups.append(group)
    notes: list[Note] = []
    for i, item in enumerate(_items(data, "notes", source)):
        where = _where("note", item, i)
        _keys(item, _NOTE_KEYS, _NOTE_KEYS, source, where)
        note = _checked(check_note, source, Note(item["id"], item["text"], item["pos"]))
        if any(n.id == note.id for n in notes):
            raise SchemaError(f"{source}: note id '{note.id}' appears twice.")
        notes.append(note)
    return Overlay(tuple(groups), tuple(notes))


def _items(data: Mapping[str, Any], key: str, source: str) -> list[Any]:
    items = data.get(key, [])
    if not isinstance(items, list):
        raise SchemaError(f"{source}: '{key}' must be a list, got {_kind(items)}.")
    if len(items) > MAX_GROUPS:
        raise SchemaError(
            f"{source}: '{key}' has {len(items)} entries; the most is {MAX_GROUPS}."
        )
    return items


def _where(kind: str, item: Any, i: int) -> str:
    if isinstance(item, Mapping) and isinstance(item.get("id"), str):
        return f"{kind} '{item['id'][:40]}'"
    return f"{kind} {i}"


def _keys(
    item: Any,
    allowed: tuple[str, ...],
    required: tuple[str, ...],
    source: str,
    where: str,
) -> None:
    if not isinstance(item, Mapping):
        raise SchemaError(f"{source}: {where} must be an object, got {_kind(item)}.")
    for key in item:
        if key not in allowed:
            raise SchemaError(f"{source}: {where} has unknown key {str(key)[:40]!r}.")
    for key in required:
        if key not in item:
            raise SchemaError(f"{source}: {where} is missing the key '{key}'.")


def _checked(check: Any, source: str, *args: Any) -> Any:
    try:
        return check(*args)
    except DocumentError as exc:
        raise SchemaError(f"{source}: {exc}") from None


def _kind(v: Any) -> str:
    return type(v).__name__ if v is not None else "null"


__all__ = [
    "Group",
    "MAX_GROUPS",
    "MAX_NOTE",
    "MAX_TITLE",
    "Note",
    "Overlay",
    "OverlayView",
    "check_group",
    "check_note",
    "next_id",
    "overlay_from_dict",
    "overlay_to_dict",
]
