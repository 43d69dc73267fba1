"""The window as the training controller sees it: a small declared interface."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import SignalInstance
from PySide6.QtGui import QUndoStack

from nndesk.document.graph import Document
from nndesk.io.datasets import Dataset

if TYPE_CHECKING:
    from ..canvas.editor import CanvasEditor
    from ..dataset_source import DatasetSource
    from ..main_window import TrainingPart
    from ..panels.problems import ProblemsPanel

__all__ = ["TrainingHost"]


class TrainingHost(Protocol):
    """What the training controller needs from the window it works for.

    ``nndesk.ui.main_window.MainWindow`` is one; the training docks add their
    panels, menu and toolbar to it as a QMainWindow.
    """

    sig_document_replaced: SignalInstance  # (Document): New, Open, Close
    sig_project_opened: SignalInstance  # (Project): after sig_document_replaced
    sig_dataset_changed: SignalInstance  # (Dataset or None)
    sig_shown: SignalInstance  # the window was shown for the first time
    sig_evaluate_test_requested: SignalInstance  # the Data panel's button
    undo_stack: QUndoStack
    datasets: DatasetSource
    editor: CanvasEditor  # its push is the door of every edit (painting too)
    problems: ProblemsPanel  # live training warnings join its list

    @property
    def document(self) -> Document | None: ...

    @property
    def path(self) -> Path | None: ...

    @property
    def dataset(self) -> Dataset | None: ...

    @property
    def dataset_error(self) -> str | None: ...

    @property
    def dataset_loading(self) -> bool: ...

    def edit_setting(self, name: str, value: Any) -> bool: ...

    def show_error(self, message: str) -> None: ...

    def mark_modified(self) -> None: ...

    def attach_training(self, part: TrainingPart) -> None: ...
