"""The Training panel's learning-rate and epoch fields say no instead of clamping."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from ui_helpers import OFFSCREEN_NOISE

from nndesk.ui.main_window import MainWindow
from nndesk.ui.training.controller import TrainingController, attach_training

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]


@pytest.fixture
def training(main_window: MainWindow) -> TrainingController:
    controller = getattr(main_window, "training", None)
    return controller if controller is not None else attach_training(main_window)


def type_into(qtbot, field, text: str) -> None:
    field.setFocus()
    field.selectAll()
    qtbot.keyClicks(field, text)
    qtbot.keyClick(field, Qt.Key.Key_Return)


@pytest.mark.parametrize("text", ["-0.5", "1e9", "0", "fast"])
def test_a_refused_learning_rate_stays_as_typed_and_is_not_applied(
    qtbot, main_window: MainWindow, training: TrainingController, text: str
) -> None:
    before = main_window.document.settings["learning_rate"]
    undo_steps = main_window.undo_stack.count()
    field = training.panel.lr_field
    type_into(qtbot, field.widget, text)
    assert field.widget.text() == text
    assert field.is_invalid
    assert field.error.text()
    assert main_window.document.settings["learning_rate"] == before
    assert main_window.undo_stack.count() == undo_steps


def test_a_valid_learning_rate_applies_and_clears_the_mark(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    field = training.panel.lr_field
    type_into(qtbot, field.widget, "-0.5")
    assert field.is_invalid
    type_into(qtbot, field.widget, "0.02")
    assert not field.is_invalid
    assert main_window.document.settings["learning_rate"] == 0.02


def test_zero_epochs_is_refused(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    before = main_window.document.settings["epochs"]
    field = training.panel.epochs_field
    type_into(qtbot, field.widget, "0")
    assert field.is_invalid
    assert main_window.document.settings["epochs"] == before
    type_into(qtbot, field.widget, "7")
    assert main_window.document.settings["epochs"] == 7
