"""Fixtures for the Qt tests: offscreen platform, test-mode settings, the main window."""

from __future__ import annotations

import os

# Must happen before any QApplication exists (pytest-qt creates it lazily).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QStandardPaths  # noqa: E402
from PySide6.QtGui import QUndoStack  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from ui_helpers import UnsavedQuestions  # noqa: E402

from nndesk.document.examples import spiral_classifier  # noqa: E402
from nndesk.ui.canvas.editor import CanvasEditor  # noqa: E402
from nndesk.ui.main_window import MainWindow  # noqa: E402
from nndesk.ui.settings import AppSettings  # noqa: E402
from nndesk.ui.theme import ThemeManager  # noqa: E402
from nndesk.ui.training.controller import (  # noqa: E402
    TrainingController,
    attach_training,
)


@pytest.fixture
def app_settings(qapp: QApplication, tmp_path: Path) -> AppSettings:
    """Settings in a temporary ini file; the user's settings are never touched."""
    QStandardPaths.setTestModeEnabled(True)
    return AppSettings.at_path(tmp_path / "settings.ini")


@pytest.fixture
def main_window(qtbot, app_settings: AppSettings) -> Iterator[MainWindow]:
    """The main window showing the spiral example, errors collected in ``.errors``.

    On teardown the window closes cleanly (unsaved changes discarded) and must have
    let go of the document: no subscriber of the document's events survives.
    """
    window = MainWindow(app_settings, ThemeManager("light"))
    errors: list[str] = []
    window.notify_error = errors.append
    window.errors = errors  # type: ignore[attr-defined]
    questions = UnsavedQuestions()
    window.ask_unsaved = questions
    window.questions = questions  # type: ignore[attr-defined]
    qtbot.addWidget(window)
    window.set_document(spiral_classifier())
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    doc = window.document
    yield window
    questions.answer = "discard"
    window.close()
    assert doc is not None
    live = [s.name for s in doc.events.signals() if len(s)]
    assert not live, f"document events still connected after close: {live}"


@pytest.fixture
def editor(qtbot) -> Iterator[CanvasEditor]:
    """A canvas editor on the spiral example in a shown 1000x700 view."""
    stack = QUndoStack()
    ed = CanvasEditor(stack)
    ed.set_document(spiral_classifier())
    ed.view.resize(1000, 700)
    ed.view.show()
    qtbot.addWidget(ed.view)
    qtbot.waitExposed(ed.view)
    ed.view.set_zoom(1.0)
    ed.view.centerOn(ed.scene.nodes_rect().center())
    ed.stack = stack  # type: ignore[attr-defined]
    yield ed
    ed.set_document(None)
    stack.clear()


@pytest.fixture
def training(main_window: MainWindow) -> TrainingController:
    """The window's training controller (attached here if the window has none)."""
    controller = getattr(main_window, "training", None)
    if controller is None:
        controller = attach_training(main_window)
    return controller
