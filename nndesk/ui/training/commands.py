"""Undoable training steps on the window's undo stack."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand

from nndesk.training.session import TrainedState, TrainingSession

if TYPE_CHECKING:
    from .controller import TrainingController

__all__ = ["ResetWeightsCommand"]


class ResetWeightsCommand(QUndoCommand):
    """Reset Weights as an undoable step: undo brings the trained session back
    (weights, optimizer state, history, scaling), redo forgets it again."""

    def __init__(
        self,
        controller: TrainingController,
        kept: TrainingSession | TrainedState | None,
    ) -> None:
        super().__init__("Reset Weights")
        self._controller = controller
        self._kept = kept

    def redo(self) -> None:
        self._controller.adopt_session(None)
        self._controller.panel.set_message(
            "Weights reset: the next run starts from fresh weights (Undo brings "
            "them back)."
        )

    def undo(self) -> None:
        self._controller.adopt_session(self._kept)
        self._controller.panel.set_message("The trained weights are back.")
