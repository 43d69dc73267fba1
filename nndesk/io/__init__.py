"""Reading and writing what nndesk keeps on disk: network files and datasets.

No Qt here. ``project_file`` is the ``.nndesk`` format; ``datasets`` holds the
dataset readers and generators (import them from ``nndesk.io.datasets``).
"""

from __future__ import annotations

from .errors import FileFormatError, NonFiniteWeightsError, ProjectSaveError
from .project_file import (
    FILE_FORMAT_VERSION,
    Project,
    ProjectMetadata,
    expected_weight_shapes,
    load_project,
    peek_project_metadata,
    save_project,
)

__all__ = [
    "FILE_FORMAT_VERSION",
    "FileFormatError",
    "NonFiniteWeightsError",
    "Project",
    "ProjectMetadata",
    "ProjectSaveError",
    "expected_weight_shapes",
    "load_project",
    "peek_project_metadata",
    "save_project",
]
