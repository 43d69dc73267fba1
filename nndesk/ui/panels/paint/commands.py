"""Painting's undo step and the "paint your own data" edit (see ``nndesk.ui.panels.paint``)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand

from nndesk.document.graph import Document
from nndesk.document.painted import PaintedPoints
from nndesk.io.datasets import Dataset
from nndesk.io.datasets.painted import PAINTED, painted_from_dataset

from ...canvas.commands import MacroCommand, SetParamCommand, SetSettingCommand

__all__ = ["PaintCommand", "Push", "start_painting"]

Push = Callable[[Callable[[Document], QUndoCommand]], "QUndoCommand | None"]
"""The canvas editor's ``push``: builds a command, tries it on a copy, pushes it."""


class PaintCommand(QUndoCommand):
    """Replace the painted set (a stroke, an erase, a clear, a class change);
    undo puts the previous set back."""

    def __init__(self, doc: Document, painted: PaintedPoints, text: str) -> None:
        super().__init__()
        self._doc = doc
        self._new = painted
        self._old: PaintedPoints | None = None
        self.setText(text)

    def redo(self) -> None:
        self._old = self._doc.set_painted(self._new)

    def undo(self) -> None:
        assert self._old is not None
        self._doc.set_painted(self._old)


def start_painting(
    push: Push, doc: Document, dataset: Dataset | None = None, *, keep: bool = False
) -> bool:
    """Make the painted set the network's dataset, as one undo step.

    Parameters
    ----------
    push
        The canvas editor's ``push``.
    doc
        The document.
    dataset
        A 2-D dataset whose points (and classes or targets) the painting starts
        from, e.g. the current generator's; None starts from an empty canvas.
    keep
        Keep the painted points the document already has (``dataset`` is then
        ignored unless the set is empty).

    Returns
    -------
    bool
        False when refused (the reason is shown by ``push``'s owner), e.g. a
        dataset that is not 2-D points.

    Raises
    ------
    NNDeskError
        When ``dataset`` cannot be painted on (not 2-D, too many points).
    """
    if keep and len(doc.painted):
        start = doc.painted
    elif dataset is not None:
        start = painted_from_dataset(dataset)
    else:
        start = doc.painted.cleared()
    shape = (2,)
    inputs = [n.id for n in doc.nodes_of_type("Input") if n.params["shape"] != shape]

    def build(d: Document) -> QUndoCommand:
        command = MacroCommand("Paint Your Own Data")
        command.add(PaintCommand(d, start, "Paint"))
        command.add(SetSettingCommand(d, "dataset", PAINTED))
        for node_id in inputs:
            command.add(SetParamCommand(d, node_id, "shape", shape))
        return command

    return push(build) is not None
