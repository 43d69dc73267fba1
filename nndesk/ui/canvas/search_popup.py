"""The quick "search to add" popup of the canvas (Tab, or start typing)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nndesk.document.registry import REGISTRY, NodeSpec

TYPE_ROLE = Qt.ItemDataRole.UserRole + 1
SpecFilter = Callable[[NodeSpec], bool]


def spec_matches(spec: NodeSpec, text: str) -> bool:
    """Whether every word of ``text`` occurs in the type's title, name, category or help."""
    words = text.lower().split()
    haystack = " ".join(
        (spec.title, spec.type_name, spec.category, spec.description)
    ).lower()
    return all(word in haystack for word in words)


def match_rank(spec: NodeSpec, text: str) -> int:
    """How well ``spec`` matches ``text``: 0 exact title or type name, 1 their
    prefix, 2 inside the title, 3 elsewhere (category, help text). A type whose
    help merely mentions the word ("insert Flatten after images") never comes
    before the type of that name."""
    query = text.strip().lower()
    names = (spec.title.lower(), spec.type_name.lower())
    if not query or query in names:
        return 0
    if any(name.startswith(query) for name in names):
        return 1
    return 2 if query in names[0] else 3


def rank_specs(specs: Iterable[NodeSpec], text: str) -> list[NodeSpec]:
    """Matching specs, best first (``match_rank``), then by title."""
    query = text.strip().lower()
    return sorted(
        (s for s in specs if spec_matches(s, query)),
        key=lambda s: (match_rank(s, query), s.title.lower()),
    )


class NodeSearchPopup(QFrame):
    """A popup with a search field and the matching node types.

    Enter or a click chooses the highlighted type (``sig_chosen``); Escape or a click
    outside closes it (``sig_cancelled``). ``allowed`` limits the offered types, e.g.
    to those with an input when an edge was dropped on empty canvas.
    """

    sig_chosen = Signal(str)
    sig_cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("node_search_popup")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._allowed: SpecFilter | None = None
        self._chosen = False
        self.title = QLabel("Add node", self)
        self.field = QLineEdit(self)
        self.field.setPlaceholderText("Type to search…")
        self.list = QListWidget(self)
        self.list.setUniformItemSizes(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.field)
        layout.addWidget(self.list)
        self.field.textChanged.connect(self._refresh)
        self.field.installEventFilter(self)
        self.list.itemActivated.connect(self._on_item_activated)
        self.list.itemClicked.connect(self._on_item_activated)
        metrics = self.fontMetrics()
        self.resize(metrics.averageCharWidth() * 34, metrics.height() * 18)

    def open_at(
        self,
        global_pos: QPoint,
        text: str = "",
        allowed: SpecFilter | None = None,
        title: str = "Add node",
    ) -> None:
        """Show at ``global_pos`` with ``text`` already typed."""
        self._allowed = allowed
        self._chosen = False
        self.title.setText(title)
        self.field.setText(text)
        self._refresh(text)
        self.move(global_pos)
        self.show()
        self.raise_()
        self.activateWindow()
        self.field.setFocus(Qt.FocusReason.PopupFocusReason)

    def offered_types(self) -> list[str]:
        """Type names currently listed, in order."""
        return [
            str(self.list.item(i).data(TYPE_ROLE)) for i in range(self.list.count())
        ]

    def choose(self, type_name: str) -> None:
        """Pick ``type_name`` as if the user clicked it."""
        self._chosen = True
        self.hide()
        self.sig_chosen.emit(type_name)

    def _refresh(self, text: str) -> None:
        specs = [
            s for s in REGISTRY.values() if self._allowed is None or self._allowed(s)
        ]
        self.list.clear()
        for spec in rank_specs(specs, text):
            item = QListWidgetItem(f"{spec.title}  —  {spec.category}")
            item.setData(TYPE_ROLE, spec.type_name)
            item.setToolTip(spec.description)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def _on_item_activated(self, item: QListWidgetItem) -> None:
        self.choose(str(item.data(TYPE_ROLE)))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.field and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (
                Qt.Key.Key_Down,
                Qt.Key.Key_Up,
                Qt.Key.Key_PageDown,
                Qt.Key.Key_PageUp,
            ):
                self.list.keyPressEvent(event)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                item = self.list.currentItem()
                if item is not None:
                    self.choose(str(item.data(TYPE_ROLE)))
                return True
        return super().eventFilter(watched, event)

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        if not self._chosen:
            self._chosen = True  # emit the cancellation once
            self.sig_cancelled.emit()
