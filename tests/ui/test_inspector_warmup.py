"""The warm-up + cosine schedule in the settings form (issue 15): a new network's
warm-up counts steps; a network from before step warm-ups shows its warm-up epochs
instead, and clearing them brings the steps back, all through undo."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox
from ui_helpers import OFFSCREEN_NOISE

from nndesk.ui.main_window import MainWindow
from nndesk.ui.panels.inspector import NumberEdit

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]


def _type(qtbot, edit: NumberEdit, text: str) -> None:
    edit.setFocus()
    edit.selectAll()
    if text:
        qtbot.keyClicks(edit, text)
    else:
        qtbot.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def test_the_warmup_counts_steps_and_old_networks_show_epochs(
    qtbot, main_window: MainWindow
) -> None:
    doc = main_window.document
    main_window.editor.scene.select_nodes(())
    panel = main_window.inspector
    assert not panel.is_field_shown("lr_warmup_steps")
    schedule = panel.fields["lr_schedule"].widget
    assert isinstance(schedule, QComboBox)
    schedule.setCurrentText("warmup_cosine")
    assert doc.settings["lr_schedule"] == "warmup_cosine"
    assert panel.is_field_shown("lr_warmup_steps") and panel.is_field_shown("lr_min")
    assert not panel.is_field_shown("lr_warmup_epochs")
    steps = panel.fields["lr_warmup_steps"].widget
    assert isinstance(steps, NumberEdit)
    _type(qtbot, steps, "40")
    assert doc.settings["lr_warmup_steps"] == 40
    main_window.undo_stack.undo()
    assert doc.settings["lr_warmup_steps"] == 100 and steps.text() == "100"

    doc.set_setting("lr_warmup_epochs", 2)  # as a file from before step warm-ups
    assert panel.is_field_shown("lr_warmup_epochs")
    assert not panel.is_field_shown("lr_warmup_steps")
    epochs = panel.fields["lr_warmup_epochs"].widget
    assert isinstance(epochs, NumberEdit) and epochs.text() == "2"
    _type(qtbot, epochs, "")  # cleared: the warm-up counts steps again
    assert doc.settings["lr_warmup_epochs"] is None
    assert panel.is_field_shown("lr_warmup_steps")
    assert not panel.is_field_shown("lr_warmup_epochs")
    main_window.undo_stack.undo()
    assert doc.settings["lr_warmup_epochs"] == 2
    assert panel.is_field_shown("lr_warmup_epochs")
