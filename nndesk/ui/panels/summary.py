"""The Summary panel: the Keras-style model summary of the current network.

The text is the one ``nndesk summary FILE`` prints (``Model.summary()`` of the model
the network compiles to), made without building any weight, so it follows every
edit at once and also describes networks too large to train. A network that does
not compile shows why instead. Copy puts the text on the clipboard.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nndesk.document import events as ev
from nndesk.document.graph import Document
from nndesk.engine.errors import NNDeskError
from nndesk.training.compile import summary_model

log = logging.getLogger(__name__)

REFRESH_DELAY_MS = 120
"""Edits within this time share one refresh (a drag of many nodes, an undo macro)."""

# Events that cannot change the summary.
_IGNORED = (ev.NodeMoved, ev.LabelChanged)


class SummaryPanel(QWidget):
    """Shows the model summary of a document and keeps it current.

    Signals
    -------
    sig_copied(str)
        The text just put on the clipboard.
    """

    sig_copied = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("summary_panel")
        self._doc: Document | None = None
        self._stale = False
        self.text = QPlainTextEdit(self)
        self.text.setObjectName("summary_text")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.status = QLabel(self)
        self.status.setObjectName("summary_status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.copy_button = QToolButton(self)
        self.copy_button.setObjectName("summary_copy")
        self.copy_button.setText("Copy")
        self.copy_button.setToolTip("Copy the summary to the clipboard")
        self.copy_button.clicked.connect(self.copy_to_clipboard)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.text, 1)
        self.refresh()

    # --- the document ----------------------------------------------------------------
    def set_document(self, doc: Document | None) -> None:
        """Follow ``doc`` (None: show nothing and let go of the old one)."""
        if self._doc is not None:
            self._doc.events.changed.disconnect(self._on_document_changed)
        self._doc = doc
        if doc is not None:
            doc.events.changed.connect(self._on_document_changed)
        self.refresh()

    def _on_document_changed(self, event: object) -> None:
        if isinstance(event, _IGNORED):
            return
        self._stale = True
        # A panel out of sight (a closed dock, a tab behind another) refreshes
        # when it comes into view.
        if self._in_view():
            self._timer.start()

    def set_in_view(self, in_view: bool) -> None:
        """Slot for the dock's ``visibilityChanged``: catch up when brought into
        view (a dock tabbed behind another stays "visible" to Qt)."""
        if in_view and self._stale:
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def _in_view(self) -> bool:
        return self.isVisible() and not self.visibleRegion().isEmpty()

    # --- the text --------------------------------------------------------------------
    def refresh(self) -> None:
        """Recompute the summary from the document now."""
        self._timer.stop()
        self._stale = False
        if self._doc is None:
            self._show("", "No network.")
            return
        try:
            summary = summary_model(self._doc).summary()
        except NNDeskError as exc:
            self._show("", f"No summary while the network has problems: {exc}")
            return
        self._show(summary, "The layers as nndesk summary prints them.")

    def _show(self, summary: str, status: str) -> None:
        if summary != self.text.toPlainText():
            self.text.setPlainText(summary)
        self.status.setText(status)
        self.copy_button.setEnabled(bool(summary))

    def summary_text(self) -> str:
        """The summary shown (empty when the network does not compile)."""
        return self.text.toPlainText()

    def copy_to_clipboard(self) -> None:
        """Put the summary on the clipboard."""
        text = self.summary_text()
        if not text:
            return
        QApplication.clipboard().setText(text)
        self.sig_copied.emit(text)
