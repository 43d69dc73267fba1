"""The training QActions (menu, toolbar and the training panel share them) and their states."""

from __future__ import annotations

from PySide6.QtCore import QObject, QRectF, Qt
from PySide6.QtGui import (
    QAction,
    QFont,
    QIcon,
    QKeySequence,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QApplication, QStyle

__all__ = ["TrainingActions", "letter_icon"]

SP = QStyle.StandardPixmap


def letter_icon(text: str, size: int = 32) -> QIcon:
    """An icon of one or two letters on a rounded square (the GAN's step
    actions have no standard icon)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    color = QApplication.palette().color(QPalette.ColorRole.WindowText)
    painter.setPen(QPen(color, size / 16))
    painter.drawRoundedRect(QRectF(2, 2, size - 4, size - 4), size / 6, size / 6)
    font = QFont(QApplication.font())
    font.setBold(True)
    font.setPixelSize(int(size * (0.55 if len(text) == 1 else 0.4)))
    painter.setFont(font)
    painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return QIcon(pixmap)


class TrainingActions(QObject):
    """Train, Pause, Resume, Step (batch, epoch), Stop, Reset weights, Evaluate.

    ``update(state, trained)`` enables each one when it makes sense; the controller
    connects their ``triggered`` signals.
    """

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.train = self._make(
            "train",
            "&Train",
            "F5",
            SP.SP_MediaPlay,
            "Train the network for the set number of epochs",
        )
        self.pause = self._make(
            "pause", "&Pause", "F6", SP.SP_MediaPause, "Pause after the current batch"
        )
        self.resume = self._make(
            "resume", "&Resume", "F7", SP.SP_MediaPlay, "Continue a paused training"
        )
        self.step_batch = self._make(
            "step_batch",
            "Step &Batch",
            "F10",
            SP.SP_MediaSkipForward,
            "Train one batch, then pause",
        )
        self.step_epoch = self._make(
            "step_epoch",
            "Step &Epoch",
            "Shift+F10",
            SP.SP_MediaSeekForward,
            "Train to the end of the epoch, then pause",
        )
        self.stop = self._make(
            "stop",
            "&Stop",
            "Shift+F5",
            SP.SP_MediaStop,
            "Stop training after the current batch",
        )
        self.reset = self._make(
            "reset",
            "Reset &Weights",
            None,
            SP.SP_BrowserReload,
            "Forget the trained weights and the history",
        )
        self.evaluate = self._make(
            "evaluate",
            "E&valuate",
            None,
            SP.SP_DialogApplyButton,
            "Score the network on the validation data",
        )
        self.evaluate_test = self._make(
            "evaluate_test",
            "Evaluate on &Test Split",
            None,
            None,
            "Score the network on the held-out test samples",
        )
        self.show_all = self._make("show_all", "Show All Training &Panels", None, None,
                                   "Show every training panel side by side")  # fmt: skip
        # A GAN's own steps (issue 16): shown only while the document is a GAN.
        self.step_discriminator = self._make(
            "step_discriminator",
            "Step &Discriminator",
            "F8",
            None,
            "Train the discriminator on one batch (the generator stays), then pause",
        )
        self.step_generator = self._make(
            "step_generator",
            "Step &Generator",
            "F9",
            None,
            "Train the generator one step (the discriminator stays), then pause",
        )
        self.step_both = self._make(
            "step_both",
            "Step B&oth",
            "Shift+F9",
            None,
            "Train one GAN step (the discriminator's steps, then the generator's), "
            "then pause",
        )
        self.slow_motion = self._make(
            "slow_motion",
            "S&low Motion",
            "Shift+F8",
            None,
            "Train a GAN a few steps a second and show every step",
        )
        self.slow_motion.setCheckable(True)
        # Their names as toolbar text took a third of the toolbar at 1280x800.
        for action, letters in zip(
            self.gan_controls(), ("D", "G", "DG", "½×"), strict=True
        ):
            action.setIcon(letter_icon(letters))
        self.gan = False
        self._state, self._trained = "idle", False
        self.set_gan(False)

    def _make(
        self, name: str, text: str, shortcut: str | None, icon: SP | None, tip: str
    ) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if icon is not None:
            action.setIcon(QApplication.style().standardIcon(icon))
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.setToolTip(f"{tip} ({shortcut})" if shortcut else tip)
        return action

    def controls(self) -> tuple[QAction, ...]:
        """The actions of the training panel and toolbar, in display order."""
        return (
            self.train,
            self.pause,
            self.resume,
            self.stop,
            self.step_batch,
            self.step_epoch,
            self.reset,
            self.evaluate,
        )

    def gan_controls(self) -> tuple[QAction, ...]:
        """The GAN's step and speed actions, in display order."""
        return (
            self.step_discriminator,
            self.step_generator,
            self.step_both,
            self.slow_motion,
        )

    def set_gan(self, gan: bool) -> None:
        """Show the GAN actions (the document is a GAN) or hide them."""
        self.gan = bool(gan)
        for action in self.gan_controls():
            action.setVisible(self.gan)
        self.update(self._state, self._trained)

    def update(self, state: str, trained: bool) -> None:
        """Enable what fits ``state`` (idle, starting, running, paused, stopping)."""
        self._state, self._trained = state, trained
        idle, paused, running = state == "idle", state == "paused", state == "running"
        for action in self.gan_controls()[:3]:
            action.setEnabled(self.gan and (idle or paused))
        self.slow_motion.setEnabled(self.gan)
        self.train.setEnabled(idle)
        self.pause.setEnabled(running)
        self.resume.setEnabled(paused)
        self.step_batch.setEnabled(idle or paused)
        self.step_epoch.setEnabled(idle or paused)
        self.stop.setEnabled(running or paused or state == "starting")
        self.reset.setEnabled(idle and trained)
        # A GAN has no targets to score.
        scoring = state in ("idle", "running", "paused") and not self.gan
        self.evaluate.setEnabled(scoring)
        self.evaluate_test.setEnabled(scoring)
