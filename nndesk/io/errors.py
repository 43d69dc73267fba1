"""Errors raised by nndesk.io: dataset readers, generators and file formats.

Every message is one sentence that names the file, row, column or option at fault,
fit to be shown to a user as it is.
"""

from __future__ import annotations

from ..engine.errors import DataError, NNDeskError

__all__ = [
    "DatasetError",
    "FileFormatError",
    "NonFiniteWeightsError",
    "ProjectSaveError",
]


class DatasetError(DataError):
    """A dataset that cannot be made or read: a bad file, cell, spec or option."""


class FileFormatError(NNDeskError, ValueError):
    """A network file (.nndesk) that cannot be read: corrupt, foreign or too new."""


class NonFiniteWeightsError(FileFormatError):
    """A network file whose weights or optimizer state hold NaN or Inf.

    The file itself is sound (a diverged training saved as it was), so a caller may
    offer to open it anyway with ``load_project(path, allow_nonfinite=True)``.
    """


class ProjectSaveError(NNDeskError):
    """A network file that could not be written: a full disk, a missing folder, no
    permission, or contents that would not load back (weights that do not fit)."""
