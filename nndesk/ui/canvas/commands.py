"""Undo commands for every edit of the canvas; redo/undo call document methods only.

Each command is the pair of document calls the Document's docstring lists (``add_node``
/ ``remove_node`` ...). Commands never touch graphics items: the scene follows the
document's events. Compound edits (delete a selection, insert a node into an edge,
auto layout) are MacroCommands, so one undo step reverts them all.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PySide6.QtGui import QUndoCommand

from nndesk.document.graph import Document, Edge, Pos, RemovedNode
from nndesk.document.groups import Group, Note

# Command ids for QUndoCommand.mergeWith (consecutive edits of one value merge).
MOVE_ID = 1
SET_PARAM_ID = 2
SET_SETTING_ID = 3
# Edits of one value further apart than this stay separate undo steps.
MERGE_WINDOW_S = 2.0


class AddNodeCommand(QUndoCommand):
    """Add one node; redo reuses the id the first redo got."""

    def __init__(
        self,
        doc: Document,
        type_name: str,
        params: Mapping[str, Any] | None = None,
        pos: Pos = (0.0, 0.0),
        label: str | None = None,
        node_id: str | None = None,
    ) -> None:
        super().__init__()
        self._doc = doc
        self._type_name = type_name
        self._params = dict(params or {})
        self._pos = pos
        self._label = label
        self.node_id: str | None = node_id
        self.setText(f"Add {doc_title(type_name)}")

    def redo(self) -> None:
        self.node_id = self._doc.add_node(
            self._type_name, self._params, self._pos, self._label, node_id=self.node_id
        )

    def undo(self) -> None:
        assert self.node_id is not None
        self._doc.remove_node(self.node_id)


class RemoveNodesCommand(QUndoCommand):
    """Remove nodes (and their edges); undo restores them at their old places."""

    def __init__(self, doc: Document, node_ids: Sequence[str]) -> None:
        super().__init__()
        self._doc = doc
        self._node_ids = list(node_ids)
        self._removed: list[RemovedNode] = []
        n = len(self._node_ids)
        self.setText(f"Delete {n} Nodes" if n != 1 else f"Delete {self._node_ids[0]}")

    def redo(self) -> None:
        self._removed = [self._doc.remove_node(n) for n in self._node_ids]

    def undo(self) -> None:
        # Reverse order: each RemovedNode's positions were taken after the earlier
        # removals, so restoring backwards rebuilds the exact node and edge order.
        for removed in reversed(self._removed):
            self._doc.restore_node(removed)
        self._removed = []


class ConnectCommand(QUndoCommand):
    """Add one edge, at ``index`` in the edge list (default: last)."""

    def __init__(
        self,
        doc: Document,
        edge: Edge,
        index: int | None = None,
    ) -> None:
        super().__init__()
        self._doc = doc
        self.edge = edge
        self._index: int | None = index
        self.setText(f"Connect {edge.src_node} to {edge.dst_node}")

    def redo(self) -> None:
        self._doc.connect(*self.edge, index=self._index)

    def undo(self) -> None:
        self._index = self._doc.disconnect(self.edge)


class DisconnectCommand(QUndoCommand):
    """Remove one edge; undo puts it back at its old position in the edge list."""

    def __init__(self, doc: Document, edge: Edge) -> None:
        super().__init__()
        self._doc = doc
        self.edge = edge
        self._index: int | None = None
        self.setText(f"Disconnect {edge.src_node} from {edge.dst_node}")

    def redo(self) -> None:
        self._index = self._doc.disconnect(self.edge)

    def undo(self) -> None:
        self._doc.connect(*self.edge, index=self._index)


class MoveNodesCommand(QUndoCommand):
    """Move nodes to new positions (one drag, one nudge burst, one layout).

    ``moves`` maps node id to (old position, new position). With ``mergeable`` a
    following move of the same nodes merges into this one (arrow-key bursts).
    """

    def __init__(
        self,
        doc: Document,
        moves: Mapping[str, tuple[Pos, Pos]],
        text: str = "",
        mergeable: bool = False,
    ) -> None:
        super().__init__()
        self._doc = doc
        self.moves = dict(moves)
        self.mergeable = mergeable
        self.stamp = time.monotonic()
        n = len(self.moves)
        self.setText(
            text or (f"Move {n} Nodes" if n != 1 else f"Move {next(iter(self.moves))}")
        )

    def id(self) -> int:
        return MOVE_ID if self.mergeable else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, MoveNodesCommand) or not other.mergeable:
            return False
        if set(other.moves) != set(self.moves):
            return False
        if other.stamp - self.stamp > MERGE_WINDOW_S:
            return False
        self.moves = {n: (self.moves[n][0], other.moves[n][1]) for n in self.moves}
        self.stamp = other.stamp
        return True

    def redo(self) -> None:
        for node_id, (_old, new) in self.moves.items():
            self._doc.move_node(node_id, new)

    def undo(self) -> None:
        for node_id, (old, _new) in self.moves.items():
            self._doc.move_node(node_id, old)


class SetParamCommand(QUndoCommand):
    """Set one node parameter; consecutive edits of the same parameter merge."""

    def __init__(
        self,
        doc: Document,
        node_id: str,
        name: str,
        value: Any,
    ) -> None:
        super().__init__()
        self._doc = doc
        self.node_id = node_id
        self.name = name
        self.value = value
        self._old: Any = doc.node(node_id).params[name]
        self.stamp = time.monotonic()
        self.setText(f"Set {node_id} {name}")

    def id(self) -> int:
        return SET_PARAM_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetParamCommand):
            return False
        if (other.node_id, other.name) != (self.node_id, self.name):
            return False
        if other.stamp - self.stamp > MERGE_WINDOW_S:
            return False
        self.value = other.value
        self.stamp = other.stamp
        return True

    def redo(self) -> None:
        self._old = self._doc.set_param(self.node_id, self.name, self.value)

    def undo(self) -> None:
        self._doc.set_param(self.node_id, self.name, self._old)


class SetLabelCommand(QUndoCommand):
    """Set or clear a node's label."""

    def __init__(
        self,
        doc: Document,
        node_id: str,
        label: str | None,
    ) -> None:
        super().__init__()
        self._doc = doc
        self.node_id = node_id
        self.label = label
        self._old: str | None = doc.node(node_id).label
        self.setText(f"Rename {node_id}")

    def redo(self) -> None:
        self._old = self._doc.set_label(self.node_id, self.label)

    def undo(self) -> None:
        self._doc.set_label(self.node_id, self._old)


class SetSettingCommand(QUndoCommand):
    """Set one network setting; consecutive edits of the same setting merge."""

    def __init__(self, doc: Document, name: str, value: Any) -> None:
        super().__init__()
        self._doc = doc
        self.name = name
        self.value = value
        self._old: Any = doc.settings[name]
        self.stamp = time.monotonic()
        self.setText(f"Set {name.replace('_', ' ')}")

    def id(self) -> int:
        return SET_SETTING_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetSettingCommand) or other.name != self.name:
            return False
        if other.stamp - self.stamp > MERGE_WINDOW_S:
            return False
        self.value = other.value
        self.stamp = other.stamp
        return True

    def redo(self) -> None:
        self._old = self._doc.set_setting(self.name, self.value)

    def undo(self) -> None:
        self._doc.set_setting(self.name, self._old)

    def map_values(self, rewrite: Callable[[Any], Any]) -> None:
        """Rewrite the value this step sets and the one it restores (a relative
        dataset path after the network file moved to another folder)."""
        self.value = rewrite(self.value)
        self._old = rewrite(self._old)


class PasteCommand(QUndoCommand):
    """Paste clipboard data under new ids; redo after undo restores the same ids."""

    def __init__(
        self,
        doc: Document,
        data: Mapping[str, Any],
        offset: Pos,
        text: str = "Paste",
    ) -> None:
        super().__init__()
        self._doc = doc
        self._data = data
        self._offset = offset
        self.node_ids: list[str] = []
        self._removed: list[RemovedNode] = []
        self._groups: list[Group] = []
        self.setText(text)

    def redo(self) -> None:
        if self._removed:
            for removed in reversed(self._removed):
                self._doc.restore_node(removed)
            self._removed = []
            for group in self._groups:
                self._doc.set_group(group.id, group)
        else:
            before = {g.id for g in self._doc.overlay.groups}
            self.node_ids = self._doc.paste_dict(self._data, self._offset)
            self._groups = [g for g in self._doc.overlay.groups if g.id not in before]

    def undo(self) -> None:
        for group in reversed(self._groups):  # pasted groups go with their nodes
            self._doc.set_group(group.id, None)
        # Remove the last pasted node first; reversed removal records restore in
        # forward order, so edges come back in the order paste made them.
        self._removed = [self._doc.remove_node(n) for n in reversed(self.node_ids)]


class SetGroupCommand(QUndoCommand):
    """Add, change or (``group`` None) remove one group; undo puts the old back."""

    def __init__(
        self, doc: Document, group_id: str, group: Group | None, text: str
    ) -> None:
        super().__init__()
        self._doc = doc
        self.group_id = group_id
        self.group = group
        self._old: Group | None = None
        self.setText(text)

    def redo(self) -> None:
        self._old = self._doc.set_group(self.group_id, self.group)

    def undo(self) -> None:
        if self._old is None:
            self._doc.set_group(self.group_id, None)
        else:
            self._doc.set_group(self.group_id, self._old)


class SetNoteCommand(QUndoCommand):
    """Add, change or (``note`` None) remove one canvas note."""

    def __init__(
        self, doc: Document, note_id: str, note: Note | None, text: str
    ) -> None:
        super().__init__()
        self._doc = doc
        self.note_id = note_id
        self.note = note
        self._old: Note | None = None
        self.setText(text)

    def redo(self) -> None:
        self._old = self._doc.set_note(self.note_id, self.note)

    def undo(self) -> None:
        self._doc.set_note(self.note_id, self._old)


class MacroCommand(QUndoCommand):
    """Several commands as one undo step: redo in order, undo in reverse.

    The children live in a Python list rather than as Qt child commands: PySide
    does not keep the Python side of a child QUndoCommand alive, so its redo/undo
    overrides would be lost (or crash) once the builder returns.
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self.setText(text)
        self.commands: list[QUndoCommand] = []

    def add(self, command: QUndoCommand) -> QUndoCommand:
        """Append ``command``; returns it."""
        self.commands.append(command)
        return command

    def redo(self) -> None:
        for command in self.commands:
            command.redo()

    def undo(self) -> None:
        for command in reversed(self.commands):
            command.undo()


def doc_title(type_name: str) -> str:
    """A node type's display title for command texts (the type name if unknown)."""
    from nndesk.document.registry import REGISTRY

    spec = REGISTRY.get(type_name)
    return spec.title if spec is not None else type_name
