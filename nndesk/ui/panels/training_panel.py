"""The training dock: control buttons, learning rate and epochs, progress, latest results.

The buttons show the training controller's actions (so menu, toolbar and panel stay
in step); edits of the learning rate and epochs leave as signals, the controller
turns them into undoable setting changes.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nndesk.document.settings import get_setting_spec

from .inspector import ParamField

__all__ = ["ProgressBar", "TrainingPanel"]

_STATE_TEXT = {
    "idle": "Ready",
    "starting": "Starting…",
    "running": "Training",
    "paused": "Paused",
    "stopping": "Stopping…",
}


class ProgressBar(QProgressBar):
    """A progress bar that repaints with the next paint pass instead of at once.

    ``QProgressBar.setValue`` repaints synchronously whenever the shown value
    changes; during training that is a paint per batch report on the GUI thread,
    which the training thread then waits for. ``show_value`` coalesces it.
    """

    def show_value(self, value: int, text: str) -> None:
        """Show ``value`` (within the range) with the caption ``text``."""
        if value == self.value() and text == self.format():
            return
        self.setUpdatesEnabled(False)  # setValue's repaint() becomes a no-op
        try:
            self.setValue(value)
            self.setFormat(text)
        finally:
            self.setUpdatesEnabled(True)  # schedules an ordinary update()


class TrainingPanel(QWidget):
    """Controls and progress of training.

    Signals
    -------
    sig_learning_rate_edited(float)
        The user set a learning rate (applied live while training runs).
    sig_epochs_edited(int)
        The user set the number of epochs per Train.
    """

    sig_learning_rate_edited = Signal(float)
    sig_epochs_edited = Signal(int)

    def __init__(
        self, actions: Sequence[QAction], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        buttons = QGridLayout()
        buttons.setSpacing(4)
        self.buttons: dict[str, QToolButton] = {}
        # Three columns: four of these buttons side by side made the right dock
        # column 440 px wide at 1280x800, narrowing the canvas and the plots.
        columns = 3
        for k, action in enumerate(actions):
            button = QToolButton(self)
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            buttons.addWidget(button, k // columns, k % columns)
            self.buttons[action.objectName()] = button

        # The same checked number fields as the inspector's: a refused value (a
        # negative rate, 0 epochs) stays as typed, marked, and is not applied.
        self.lr_field = ParamField(
            get_setting_spec("learning_rate"),
            self._on_learning_rate_entered,
            self._on_field_refused,
            self,
        )
        self.learning_rate = self.lr_field.widget
        self.learning_rate.setToolTip(
            "Step size of the optimizer; changes apply at the next batch"
        )
        self.epochs_field = ParamField(
            get_setting_spec("epochs"),
            self._on_epochs_entered,
            self._on_field_refused,
            self,
        )
        self.epochs = self.epochs_field.widget
        self.epochs.setToolTip("Epochs each press of Train runs")
        form = QFormLayout()
        form.addRow("Learning rate", self.lr_field.row)
        form.addRow("Epochs per run", self.epochs_field.row)

        self.state = QLabel(_STATE_TEXT["idle"], self)
        self.progress = ProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.results = QLabel("", self)
        self.results.setWordWrap(True)
        self.results.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.message = QLabel("", self)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )

        status = QHBoxLayout()
        status.addWidget(self.state)
        status.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addLayout(form)
        layout.addLayout(status)
        layout.addWidget(self.results)
        layout.addWidget(self.message)
        layout.addStretch(1)

    # --- model -> widgets -----------------------------------------------------------------
    def set_learning_rate(self, value: float) -> None:
        """Show ``value`` without emitting an edit."""
        self.lr_field.show(float(value))

    def set_epochs(self, value: int) -> None:
        """Show ``value`` without emitting an edit."""
        self.epochs_field.show(int(value))

    def set_state(self, state: str) -> None:
        """``"idle"``, ``"starting"``, ``"running"``, ``"paused"`` or ``"stopping"``."""
        self.state.setText(_STATE_TEXT.get(state, state))

    def set_progress(self, fraction: float, text: str) -> None:
        """Progress through the run (0..1) and its caption."""
        self.progress.show_value(int(round(max(0.0, min(1.0, fraction)) * 1000)), text)

    def set_results(self, text: str) -> None:
        """The latest epoch's results."""
        self.results.setText(text)

    def set_message(self, text: str, error: bool = False) -> None:
        """A sentence about the last run (an error in the palette's error colour)."""
        self.message.setText(text)
        self.message.setStyleSheet("color: #d62728;" if error else "")

    # --- widgets -> signals ------------------------------------------------------------------
    def _on_learning_rate_entered(self, value: float) -> None:
        self.sig_learning_rate_edited.emit(float(value))

    def _on_epochs_entered(self, value: int) -> None:
        self.sig_epochs_edited.emit(int(value))

    def _on_field_refused(self, reason: str) -> None:
        # The field shows the reason under itself; nothing reaches the document.
        pass
