"""Save/open plumbing of the window: the one place that reads and writes network files.

The window calls ``save_network`` and ``load_network`` only; the format itself (a
zip of graph, training settings, history and weights) is ``nndesk.io.project_file``.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from nndesk.document.graph import Document
from nndesk.io.export import import_onnx
from nndesk.io.project_file import (
    Project,
    expected_weight_shapes,
    load_project,
    save_project,
)

log = logging.getLogger(__name__)

PROJECT_SUFFIX = ".nndesk"
FILE_FILTER = "nndesk networks (*.nndesk);;All files (*)"
OPEN_FILTER = (
    "Networks and ONNX models (*.nndesk *.onnx);;nndesk networks (*.nndesk);;"
    "ONNX models (*.onnx);;All files (*)"
)
ONNX_SUFFIX = ".onnx"

__all__ = [
    "FILE_FILTER",
    "OPEN_FILTER",
    "PROJECT_SUFFIX",
    "Project",
    "carry_over",
    "is_onnx",
    "load_network",
    "save_network",
    "with_suffix",
]


def with_suffix(path: str | Path) -> Path:
    """``path`` ending in ``.nndesk`` (added when the user typed no suffix)."""
    path = Path(path)
    return path if path.suffix else path.with_suffix(PROJECT_SUFFIX)


def save_network(path: str | Path, project: Project) -> None:
    """Write ``project`` to ``path`` atomically.

    Raises
    ------
    nndesk.io.errors.ProjectSaveError
        When the file cannot be written (one sentence naming it and the reason).
    """
    save_project(path, project)


def load_network(path: str | Path) -> Project:
    """Read a network file (graph, weights, history, ...), or import an ONNX model
    (a path ending in ``.onnx``).

    Raises
    ------
    nndesk.io.errors.FileFormatError
        When the file is missing, unreadable or not a sound network file (one
        sentence naming the file and the cause).
    nndesk.io.export.ModelImportError
        When an ONNX model cannot be imported (naming the ONNX nodes at fault).
    """
    if is_onnx(path):
        return import_onnx(path)
    return load_project(path)


def is_onnx(path: str | Path) -> bool:
    """Whether ``path`` names an ONNX model (opened by importing it)."""
    return Path(path).suffix.lower() == ONNX_SUFFIX


def carry_over(opened: Project | None, doc: Document) -> Project:
    """What to save when no trainer supplies the project: ``doc`` with the weights,
    history and scaling of the file it came from.

    A file holds weights for every layer or none, so when an edit changed the
    shape of any weight since the file was opened, the weights and the optimizer
    state are left out (the network needs training again); the history stays.
    """
    if opened is None:
        return Project(document=doc)
    fits = expected_weight_shapes(doc)
    still = {k: w.shape for k, w in opened.weights.items()}
    if still == fits:
        return dataclasses.replace(opened, document=doc)
    if opened.weights:
        log.info("the network changed shape since it was opened: saving it untrained")
    return dataclasses.replace(opened, document=doc, weights={}, optimizer_state={})
