"""Undoable training steps on the window's undo stack."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand

from nndesk.training.session import TrainedState

if TYPE_CHECKING:
    from .controller import TrainingController

__all__ = ["ResetWeightsCommand"]


class ResetWeightsCommand(QUndoCommand):
    """Reset Weights as an undoable step: undo brings the trained state back
    (a copy of the weights, optimizer state, history, scaling and run state),
    redo forgets it again."""

    def __init__(
        self,
        controller: TrainingController,
        kept: TrainedState | None,
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
