"""The app's QActions with their standard shortcuts, created in one place for menus and toolbar."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QIcon, QKeySequence, QUndoStack

from .icons import make_icon
from .theme import Theme

StandardKey = QKeySequence.StandardKey

CANVAS_GESTURES: tuple[tuple[str, str], ...] = (
    ("Drag a node", "moves it, with the rest of the selection"),
    ("Alt+drag a node", "drags a copy of the selection away (Duplicate)"),
    ("Drag a node or a palette entry onto an edge", "inserts it there"),
    ("Drag from a port", "connects; released on empty canvas, adds a connected node"),
    ("Drag on empty canvas", "selects what the band touches (Shift or Ctrl adds)"),
    ("Esc", "cancels the drag in progress and puts everything back"),
)
"""The canvas's mouse gestures (``nndesk/ui/canvas/gestures``), for Help next to
the keys; a drag that changes the network is one undo step."""


def gestures_html() -> str:
    """CANVAS_GESTURES as a paragraph for the Help box."""
    rows = "".join(f"<li><b>{what}</b>: {does}</li>" for what, does in CANVAS_GESTURES)
    return f"<p><b>Mouse</b> (each edit is one undo step):</p><ul>{rows}</ul>"


class Actions(QObject):
    """Every menu/toolbar action of the main window; the window connects them.

    Attributes are named after what they do (``new``, ``open``, ``save``, ``undo`` ...).
    Undo/Redo come from the ``QUndoStack`` so their text names the edit they revert.
    """

    def __init__(self, undo_stack: QUndoStack, parent: QObject) -> None:
        super().__init__(parent)
        self._icons: dict[QAction, str] = {}
        self._tips: dict[QAction, str] = {}
        # Every action's key sequences on this platform, best first; an action
        # keeps only those no other action has ahead of it (_assign_shortcuts).
        self._bindings: dict[QAction, list[QKeySequence]] = {}
        self.new = self._make("&New", StandardKey.New, "new", "Start a new network")
        self.open = self._make(
            "&Open…", StandardKey.Open, "open", "Open a .nndesk file or an ONNX model"
        )
        self.save = self._make("&Save", StandardKey.Save, "save", "Save the network")
        self.save_as = self._make(
            "Save &As…", StandardKey.SaveAs, None, "Save under a new name"
        )
        self.export_onnx = self._make(
            "&ONNX…",
            QKeySequence("Ctrl+Shift+E"),
            None,
            "Export the network with its weights as an ONNX model",
        )
        self.export_pytorch = self._make(
            "&PyTorch Project…",
            None,
            None,
            "Export model.py, the weights and a train.py that runs under torchrun",
        )
        self.close = self._make("&Close", StandardKey.Close, None, "Close this network")
        self.quit = self._make("&Quit", StandardKey.Quit, None, "Quit nndesk")
        if not self._bindings[self.quit]:
            # Windows (and Qt's offscreen platform) bind no key to Quit, leaving
            # it to the window manager's Alt+F4; the documented Ctrl+Q works too.
            self._bindings[self.quit] = [QKeySequence("Ctrl+Q")]
        self.quit.setMenuRole(QAction.MenuRole.QuitRole)
        self.clear_recent = self._make("Clear Recent Files", None, None, "")

        self.undo = undo_stack.createUndoAction(self, "&Undo")
        self._bindings[self.undo] = _bindings(StandardKey.Undo)
        self._icons[self.undo] = "undo"
        self.redo = undo_stack.createRedoAction(self, "&Redo")
        self._bindings[self.redo] = _bindings(StandardKey.Redo)
        self._icons[self.redo] = "redo"
        self.cut = self._make("Cu&t", StandardKey.Cut, "cut", "Cut the selection")
        self.copy = self._make("&Copy", StandardKey.Copy, "copy", "Copy the selection")
        self.paste = self._make("&Paste", StandardKey.Paste, "paste", "Paste nodes")
        self.duplicate = self._make(
            "D&uplicate",
            QKeySequence("Ctrl+D"),
            "duplicate",
            "Duplicate the selection (or Alt+drag a node)",
        )
        self.delete = self._make(
            "&Delete",
            StandardKey.Delete,
            "delete",
            "Delete the selected nodes and edges",
        )
        # Backspace deletes too: what Mac users and most node editors expect.
        self._bindings[self.delete].append(QKeySequence("Backspace"))
        self.select_all = self._make("Select &All", StandardKey.SelectAll, None, "")
        self.group = self._make(
            "&Group Selection…",
            QKeySequence("Ctrl+G"),
            None,
            "Put the selected nodes in a titled group",
        )
        self.ungroup = self._make(
            "U&ngroup",
            QKeySequence("Ctrl+Shift+G"),
            None,
            "Dissolve the selected groups",
        )
        self.collapse_group = self._make(
            "Collapse/E&xpand Group",
            QKeySequence("Ctrl+E"),
            None,
            "Show the selected groups as one box, or their nodes again",
        )
        self.add_note = self._make(
            "Add N&ote",
            QKeySequence("Ctrl+Shift+N"),
            None,
            "Put a text note on the canvas",
        )

        self.zoom_in = self._make("Zoom &In", StandardKey.ZoomIn, "zoom_in", "Zoom in")
        self.zoom_out = self._make(
            "Zoom &Out", StandardKey.ZoomOut, "zoom_out", "Zoom out"
        )
        self.fit = self._make(
            "&Fit to View", QKeySequence("Ctrl+0"), "fit", "Show the whole network"
        )
        self.auto_layout = self._make(
            "Auto &Layout",
            QKeySequence("Ctrl+L"),
            "layout",
            "Arrange nodes left to right",
        )
        # Ctrl+Shift+G is Ungroup, as in most drawing tools (issue 15)
        self.snap_to_grid = self._make(
            "&Snap to Grid", QKeySequence("Ctrl+Alt+G"), "grid", "Snap dragged nodes"
        )
        self.snap_to_grid.setCheckable(True)
        # Tab must keep moving focus between widgets, so this shortcut only works
        # while the canvas has focus (the window gives the action to the view).
        self.add_node = self._make(
            "Add &Node…", QKeySequence("Tab"), None, "Search for a node type to add"
        )
        self.add_node.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.reset_layout = self._make("&Reset Window Layout", None, None, "")

        self.help = self._make("nndesk &Help", StandardKey.HelpContents, None, "")
        self.about = self._make("&About nndesk", None, "about", "")
        self.about.setMenuRole(QAction.MenuRole.AboutRole)
        self._assign_shortcuts()

    def _make(
        self,
        text: str,
        shortcut: QKeySequence | StandardKey | None,
        icon: str | None,
        tip: str,
    ) -> QAction:
        action = QAction(text, self)
        if isinstance(shortcut, StandardKey):
            self._bindings[action] = _bindings(shortcut)
        elif shortcut is not None:
            self._bindings[action] = [shortcut]
        if tip:
            action.setStatusTip(tip)
            self._tips[action] = tip
        self._icons[action] = icon or ""
        return action

    def _assign_shortcuts(self) -> None:
        """Give each key sequence to one action: the one that lists it earliest.

        The platform's standard bindings overlap: on Linux, Delete is [Del, Ctrl+D]
        while Duplicate is Ctrl+D, and Qt fires neither action for a sequence two
        enabled actions share (issue 19). A sequence stays with the action that has
        it as its first choice (ties: the action made first) and is dropped from
        the others, so Delete keeps Del and Backspace here.
        """
        owner: dict[str, tuple[int, int]] = {}
        actions = list(self._bindings)
        for order, action in enumerate(actions):
            for rank, seq in enumerate(self._bindings[action]):
                key = seq.toString()
                owner[key] = min(owner.get(key, (rank, order)), (rank, order))
        for order, action in enumerate(actions):
            owned = [
                seq
                for rank, seq in enumerate(self._bindings[action])
                if owner[seq.toString()] == (rank, order)
            ]
            action.setShortcuts(owned)
        for action, tip in self._tips.items():
            shortcut_text = action.shortcut().toString(
                QKeySequence.SequenceFormat.NativeText
            )
            action.setToolTip(f"{tip} ({shortcut_text})" if shortcut_text else tip)

    def shortcut_owners(self) -> dict[str, QAction]:
        """Each key sequence (portable text) bound here, with the action it fires."""
        return {
            seq.toString(): action
            for action in self._bindings
            for seq in action.shortcuts()
        }

    def apply_theme(self, theme: Theme) -> None:
        """Redraw the icons in the theme's text colour."""
        for action, name in self._icons.items():
            action.setIcon(make_icon(name, theme.text) if name else QIcon())

    def edit_actions(self) -> tuple[QAction, ...]:
        """Actions that act on the canvas selection (enabled with the canvas)."""
        return (
            self.cut,
            self.copy,
            self.paste,
            self.duplicate,
            self.delete,
            self.select_all,
            self.group,
            self.ungroup,
            self.collapse_group,
            self.add_note,
        )


def _bindings(key: StandardKey) -> list[QKeySequence]:
    """The running platform's sequences for a standard key, without repeats."""
    seen: list[QKeySequence] = []
    for seq in QKeySequence.keyBindings(key):
        if not seq.isEmpty() and seq not in seen:
            seen.append(seq)
    return seen
