"""Display of one canvas note: text on a pale card, edited in place.

A double-click (or Enter on a selected note) starts editing; a click elsewhere,
Ctrl+Enter or focus leaving the note ends it and hands the text to
``on_edited(note_id, text)``, which pushes the undo step; Escape drops the edit.
The item never changes the document itself.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFocusEvent, QKeyEvent, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsTextItem,
    QStyle,
    QStyleOptionGraphicsItem,
    QWidget,
)

from nndesk.document.groups import Note

from ...theme import LIGHT, Theme

NOTE_WIDTH = 220.0
"""Width of a note's text; lines wrap inside it."""
NOTE_PADDING = 8.0
PLACEHOLDER = "Double-click to write a note"


class NoteItem(QGraphicsTextItem):
    """A note on the canvas; selectable, moved by the MoveNote gesture."""

    def __init__(self, note: Note, theme: Theme = LIGHT) -> None:
        super().__init__()
        self.note = note
        self.theme = theme
        self.editing = False
        self.on_edited: Callable[[str, str], object] | None = None
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setTextWidth(NOTE_WIDTH)
        self.document().setDocumentMargin(NOTE_PADDING)
        self.setZValue(15.0)  # above nodes: a note explains what lies under it
        self.set_note(note)
        self.set_theme(theme)

    @property
    def note_id(self) -> str:
        """The id of the note shown."""
        return self.note.id

    def set_note(self, note: Note) -> None:
        """Show a changed record (text, position)."""
        self.note = note
        if not self.editing and self.toPlainText() != note.text:
            self.setPlainText(note.text)
        self.setPos(*note.pos)
        self.setToolTip("" if note.text else PLACEHOLDER)

    def set_theme(self, theme: Theme) -> None:
        """Repaint in another theme."""
        self.theme = theme
        self.setDefaultTextColor(QColor("#2b2b2b"))
        self.update()

    # -- editing ------------------------------------------------------------------------

    def start_editing(self) -> None:
        """Make the text editable, select it all and take the keyboard focus."""
        self.editing = True
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextEditorInteraction)
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        cursor = self.textCursor()
        cursor.select(cursor.SelectionType.Document)
        self.setTextCursor(cursor)

    def finish_editing(self, keep: bool = True) -> None:
        """End editing; with ``keep`` report the text (Escape passes False)."""
        if not self.editing:
            return
        self.editing = False
        text = self.toPlainText()
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        cursor = self.textCursor()
        cursor.clearSelection()
        self.setTextCursor(cursor)
        self.clearFocus()
        if not keep:
            self.setPlainText(self.note.text)
        elif text != self.note.text and self.on_edited is not None:
            self.on_edited(self.note.id, text)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.editing and event.key() == Qt.Key.Key_Escape:
            self.finish_editing(keep=False)
            event.accept()
            return
        ctrl = event.modifiers() & Qt.KeyboardModifier.ControlModifier
        if (
            self.editing
            and ctrl
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self.finish_editing()
            event.accept()
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.finish_editing()

    # -- painting -----------------------------------------------------------------------

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        rect = self.boundingRect()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        border = (
            QPen(self.theme.color("node_selected"), 2.0)
            if self.isSelected() or self.editing
            else QPen(QColor("#c9b458"), 1.0)
        )
        painter.setPen(border)
        painter.setBrush(QBrush(QColor("#fff6bf")))
        painter.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), 4.0, 4.0)
        if not self.toPlainText() and not self.editing:
            painter.setPen(QColor("#8a7d3a"))
            painter.drawText(
                rect.adjusted(NOTE_PADDING, 0, -NOTE_PADDING, 0),
                Qt.AlignmentFlag.AlignVCenter,
                PLACEHOLDER,
            )
        # the selection frame Qt would draw is replaced by the border above
        option.state &= ~QStyle.StateFlag.State_Selected
        option.state &= ~QStyle.StateFlag.State_HasFocus
        super().paint(painter, option, widget)

    def boundingRect(self) -> QRectF:
        rect = super().boundingRect()
        return QRectF(rect.x(), rect.y(), rect.width(), max(rect.height(), 34.0))
