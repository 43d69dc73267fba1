"""Errors of compilation and training; each message is one sentence fit for a user."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..engine.errors import DataError, NNDeskError

if TYPE_CHECKING:
    from ..document.validate import Problem

__all__ = ["CompileError", "DataMismatchError", "TrainingStateError"]


class CompileError(NNDeskError, ValueError):
    """A network that cannot be turned into a model; ``problems`` lists each problem.

    The message lists every blocking problem in one sentence, each prefixed with
    the node it concerns, so a command line can print it on one line.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        parts = [
            f"{p.node_id}: {p.message}" if p.node_id else p.message
            for p in self.problems
        ]
        count = len(parts)
        head = (
            "The network has a problem"
            if count == 1
            else f"The network has {count} problems"
        )
        super().__init__(f"{head}: " + " ".join(parts))

    def __reduce__(self) -> tuple[type[CompileError], tuple[list[Problem]]]:
        return (CompileError, (self.problems,))


class DataMismatchError(DataError):
    """A dataset that does not fit the network (input shape, classes, task)."""


class TrainingStateError(NNDeskError):
    """The trained state cannot be had right now (e.g. a run does not reach the end
    of a batch in time to be copied)."""
