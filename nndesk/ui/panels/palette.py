"""The palette: node types from the registry, grouped by category, searchable, draggable."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QKeyEvent, QPainter, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nndesk.document.registry import CATEGORIES, REGISTRY
from nndesk.document.templates import TEMPLATES, templates_in

from ..canvas.search_popup import match_rank, spec_matches
from ..canvas.view import NODE_MIME_TYPE
from ..theme import LIGHT, Theme

log = logging.getLogger(__name__)

TYPE_ROLE = Qt.ItemDataRole.UserRole + 1


def category_icon(color: QColor, size: int = 12) -> QIcon:
    """A small rounded swatch in a category's colour (drawn at 2x for high DPI)."""
    ratio = 2
    pixmap = QPixmap(size * ratio, size * ratio)
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawRoundedRect(1, 1, size - 2, size - 2, 3, 3)
    painter.end()
    return QIcon(pixmap)


class _PaletteTree(QTreeWidget):
    """The tree of node types; drags carry the type name in NODE_MIME_TYPE."""

    sig_activated = Signal(str)
    sig_resized = Signal()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self.sig_resized.emit()

    def mimeTypes(self) -> list[str]:
        return [NODE_MIME_TYPE]

    def supportedDropActions(self) -> Qt.DropAction:
        # Drags use these actions too: copy only, or a canvas accepting a "move"
        # would make the tree delete the dragged entry.
        return Qt.DropAction.CopyAction

    def mimeData(self, items: Sequence[QTreeWidgetItem]) -> QMimeData:
        mime = QMimeData()
        for item in items:
            type_name = item.data(0, TYPE_ROLE)
            if type_name:
                mime.setData(NODE_MIME_TYPE, str(type_name).encode("utf-8"))
                mime.setText(str(type_name))
                break
        return mime

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            item = self.currentItem()
            if item is not None and item.data(0, TYPE_ROLE):
                self.sig_activated.emit(str(item.data(0, TYPE_ROLE)))
                event.accept()
                return
        super().keyPressEvent(event)


class PalettePanel(QWidget):
    """Lists every node type; drag one onto the canvas, or double-click to add it.

    Signals
    -------
    sig_add_requested(str)
        Double-click or Enter on a node type: add it at the canvas centre.
    """

    sig_add_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("palette_panel")
        self._theme = LIGHT
        self.search = QLineEdit(self)
        self.search.setObjectName("palette_search")
        self.search.setPlaceholderText("Search nodes…")
        self.search.setClearButtonEnabled(True)
        self.tree = _PaletteTree(self)
        self.tree.setObjectName("palette_tree")
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(True)
        self.tree.setIndentation(12)
        self.tree.setUniformRowHeights(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setIconSize(QSize(12, 12))
        # Names are short; a sideways scroll bar would only take a row's height.
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self._category_items: dict[str, QTreeWidgetItem] = {}
        self._type_items: dict[str, QTreeWidgetItem] = {}
        self._populate()
        self.search.textChanged.connect(self._on_search_changed)
        self.search.returnPressed.connect(self._on_search_return)
        self.tree.itemDoubleClicked.connect(self._on_item_double_clicked)
        self.tree.sig_activated.connect(self.sig_add_requested)

    def _populate(self) -> None:
        # templates (graph fragments, document/templates.py) in categories of
        # their own after the node types', or in a node category they name
        extra = [t.category for t in TEMPLATES.values() if t.category not in CATEGORIES]
        for category in (*CATEGORIES, *dict.fromkeys(extra)):
            specs: list[Any] = [s for s in REGISTRY.values() if s.category == category]
            specs += templates_in(category)
            if not specs:
                continue
            parent = QTreeWidgetItem(self.tree, [category])
            parent.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = parent.font(0)
            font.setBold(True)
            parent.setFont(0, font)
            self._category_items[category] = parent
            for spec in specs:
                name = getattr(spec, "type_name", None) or spec.name
                item = QTreeWidgetItem(parent, [spec.title])
                item.setData(0, TYPE_ROLE, name)
                item.setToolTip(0, f"<b>{spec.title}</b><br>{spec.description}")
                item.setStatusTip(0, spec.description)
                item.setFlags(
                    Qt.ItemFlag.ItemIsEnabled
                    | Qt.ItemFlag.ItemIsSelectable
                    | Qt.ItemFlag.ItemIsDragEnabled
                )
                self._type_items[name] = item
        self.tree.expandAll()
        self._apply_icons()
        self._fitting = False
        self._fitted_height = -1
        self.tree.itemExpanded.connect(self._on_item_expanded)
        self.tree.sig_resized.connect(self._on_tree_resized)

    # -- every category header in view ------------------------------------------------

    def _on_tree_resized(self) -> None:
        # Only a change of height counts: a scroll bar coming or going resizes the
        # viewport too, and must not undo the categories the user opened.
        if not self.search.text() and self.tree.height() != self._fitted_height:
            self.fit_categories()

    def _rows_needed(self) -> int:
        rows = 0
        for parent in self._category_items.values():
            if parent.isHidden():
                continue
            rows += 1
            if parent.isExpanded():
                rows += sum(
                    not parent.child(i).isHidden() for i in range(parent.childCount())
                )
        return rows

    def _rows_fitting(self) -> int:
        row = max(1, self.tree.sizeHintForRow(0))
        return max(1, self.tree.viewport().height() // row)

    def fit_categories(self) -> None:
        """Open categories, in order, while every header still fits without
        scrolling; the rest stay closed (at 1280x800 Reshape and Output were
        below the fold). A click opens another one (``_on_item_expanded``)."""
        self._fitting = True
        self._fitted_height = self.tree.height()
        try:
            room = self._rows_fitting() - len(self._category_items)
            for parent in self._category_items.values():
                size = parent.childCount()
                parent.setExpanded(size <= room)
                if size <= room:
                    room -= size
        finally:
            self._fitting = False

    def _on_item_expanded(self, opened: QTreeWidgetItem) -> None:
        # Opening a category in a short palette closes others, the farthest first,
        # until every header is in view again (an accordion).
        if self._fitting or self.search.text():
            return
        self._fitting = True
        try:
            parents = list(self._category_items.values())
            here = parents.index(opened)
            others = sorted(
                (p for p in parents if p is not opened and p.isExpanded()),
                key=lambda p: -abs(parents.index(p) - here),
            )
            for parent in others:
                if self._rows_needed() <= self._rows_fitting():
                    break
                parent.setExpanded(False)
            self.tree.scrollToItem(opened)
        finally:
            self._fitting = False

    def categories_in_view(self) -> bool:
        """Whether every category header is inside the tree's viewport."""
        area = self.tree.viewport().rect()
        return all(
            area.contains(self.tree.visualItemRect(parent))
            for parent in self._category_items.values()
            if not parent.isHidden()
        )

    def set_theme(self, theme: Theme) -> None:
        """Recolour the category swatches."""
        self._theme = theme
        self._apply_icons()

    def _apply_icons(self) -> None:
        for category, item in self._category_items.items():
            item.setIcon(0, category_icon(self._theme.category_color(category)))

    def type_item(self, type_name: str) -> QTreeWidgetItem:
        """The tree row of a node type (tests and keyboard navigation)."""
        return self._type_items[type_name]

    def visible_types(self) -> list[str]:
        """Node types the current search leaves visible, in display order."""
        return [t for t, item in self._type_items.items() if not item.isHidden()]

    def _on_search_changed(self, text: str) -> None:
        for parent in self._category_items.values():
            any_visible = False
            for i in range(parent.childCount()):
                child = parent.child(i)
                spec = _entry(str(child.data(0, TYPE_ROLE)))
                visible = spec_matches(spec, text)
                child.setHidden(not visible)
                any_visible = any_visible or visible
            parent.setHidden(not any_visible)
            # While searching every group with a match is open.
            if text and any_visible:
                parent.setExpanded(True)
        if not text:
            self.fit_categories()
        # The best match is highlighted (Enter adds it): the first in the tree of
        # those matching best. The first match alone would make "Flatten" pick
        # Dense, whose help mentions Flatten.
        shown = self.visible_types() if text else []
        if shown:
            best = min(shown, key=lambda t: match_rank(_entry(t), text))
            item = self._type_items[best]
            self.tree.setCurrentItem(item)
            self.tree.scrollToItem(item)

    def _on_search_return(self) -> None:
        item = self.tree.currentItem()
        if item is not None and not item.isHidden() and item.data(0, TYPE_ROLE):
            self.sig_add_requested.emit(str(item.data(0, TYPE_ROLE)))

    def _on_item_double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        type_name = item.data(0, TYPE_ROLE)
        if type_name:
            self.sig_add_requested.emit(str(type_name))


def _entry(name: str) -> Any:
    """The registry spec of a node type, or a template seen the same way (title,
    name, category, description) by the search."""
    if name in REGISTRY:
        return REGISTRY[name]
    t = TEMPLATES[name]
    return SimpleNamespace(
        title=t.title, type_name=t.name, category=t.category, description=t.description
    )
