"""Number fields say no: refused text stays as typed, marked, and is never applied;
the network settings show the chosen optimizer's options, and they reach the engine."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from ui_helpers import OFFSCREEN_NOISE

from nndesk.training.compile import compile_network
from nndesk.ui.main_window import MainWindow
from nndesk.ui.panels.inspector import NumberEdit, ParamField

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]


def type_into(qtbot, field: ParamField, text: str, commit: Qt.Key) -> NumberEdit:
    edit = field.widget
    assert isinstance(edit, NumberEdit)
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, commit)
    return edit


def settings_field(window: MainWindow, name: str) -> ParamField:
    window.editor.scene.select_nodes([])
    return window.inspector.fields[name]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-0.5", "learning_rate must be a number > 0 and ≤ 10, got -0.5."),
        ("1e9", "learning_rate must be a number > 0 and ≤ 10, got 1000000000.0."),
        ("0", "learning_rate must be a number > 0 and ≤ 10, got 0.0."),
        ("fast", "learning_rate must be a number > 0 and ≤ 10, got 'fast'."),
    ],
)
def test_a_refused_learning_rate_is_shown_as_typed_with_the_reason(
    qtbot, main_window: MainWindow, text: str, reason: str
) -> None:
    doc = main_window.document
    before = doc.settings["learning_rate"]
    field = settings_field(main_window, "learning_rate")
    edit = type_into(qtbot, field, text, Qt.Key.Key_Return)
    assert doc.settings["learning_rate"] == before  # not applied
    assert main_window.undo_stack.count() == 0
    assert edit.text() == text  # not replaced or clamped
    assert field.is_invalid
    assert field.error.isVisible() and field.error.text() == reason
    assert edit.toolTip() == reason
    assert "border" in edit.styleSheet()
    # a valid value applies and clears the mark
    type_into(qtbot, field, "0.05", Qt.Key.Key_Return)
    assert doc.settings["learning_rate"] == 0.05
    assert not field.is_invalid and not field.error.isVisible()
    assert edit.styleSheet() == "" and "Step size" in edit.toolTip()
    assert main_window.undo_stack.count() == 1


def test_zero_units_is_refused_on_focus_out(qtbot, main_window: MainWindow) -> None:
    doc = main_window.document
    main_window.editor.scene.select_nodes(["dense_1"])
    field = main_window.inspector.fields["units"]
    edit = type_into(qtbot, field, "0", Qt.Key.Key_Tab)  # Tab: focus leaves
    assert not edit.hasFocus()
    assert doc.node("dense_1").params["units"] == 8
    assert edit.text() == "0" and field.is_invalid
    assert "units must be an integer ≥ 1" in field.error.text()
    assert main_window.undo_stack.count() == 0
    type_into(qtbot, field, "2.5", Qt.Key.Key_Return)
    assert doc.node("dense_1").params["units"] == 8 and field.is_invalid
    type_into(qtbot, field, "16", Qt.Key.Key_Return)
    assert doc.node("dense_1").params["units"] == 16 and not field.is_invalid


def test_an_edit_of_the_document_replaces_a_refused_text(
    qtbot, main_window: MainWindow
) -> None:
    before = main_window.document.settings["batch_size"]
    field = settings_field(main_window, "batch_size")
    type_into(qtbot, field, "64", Qt.Key.Key_Return)
    edit = type_into(qtbot, field, "-3", Qt.Key.Key_Return)
    assert field.is_invalid
    main_window.undo_stack.undo()  # the field shows the document's value again
    assert edit.text() == str(before) != "64" and not field.is_invalid


def test_up_and_down_keys_step_within_the_range(qtbot, main_window: MainWindow) -> None:
    doc = main_window.document
    main_window.editor.scene.select_nodes(["dense_1"])
    units = main_window.inspector.fields["units"].widget
    units.setFocus()
    qtbot.keyClick(units, Qt.Key.Key_Up)
    qtbot.keyClick(units, Qt.Key.Key_PageUp)
    assert doc.node("dense_1").params["units"] == 19
    for _ in range(3):
        qtbot.keyClick(units, Qt.Key.Key_PageDown)
    assert doc.node("dense_1").params["units"] == 1  # stops at the minimum
    assert units.text() == "1"
    rate = settings_field(main_window, "learning_rate").widget
    assert rate.text() == repr(doc.settings["learning_rate"])
    rate.setFocus()
    qtbot.keyClick(rate, Qt.Key.Key_Up)
    assert doc.settings["learning_rate"] == pytest.approx(0.011)


def test_the_chosen_optimizer_shows_its_options(qtbot, main_window: MainWindow) -> None:
    inspector = main_window.inspector
    settings_field(main_window, "optimizer")
    shown = inspector.is_field_shown
    assert main_window.document.settings["optimizer"] == "adam"
    assert shown("beta1") and shown("beta2") and shown("eps")
    assert not shown("momentum") and not shown("nesterov") and not shown("centered")
    assert shown("clipnorm") and shown("weight_decay")
    inspector.fields["optimizer"].widget.setCurrentText("sgd")
    assert shown("momentum") and shown("nesterov")
    assert not shown("beta1") and not shown("eps")
    inspector.fields["optimizer"].widget.setCurrentText("adamw")
    decay = inspector.fields["weight_decay"].widget
    assert decay.text() == "" and decay.placeholderText() == "default: 0.01"
    assert inspector.fields["clipnorm"].widget.placeholderText() == "off"
    main_window.undo_stack.undo()
    main_window.undo_stack.undo()
    assert shown("beta1") and not shown("momentum")


def test_optimizer_options_typed_in_the_inspector_reach_the_engine(
    qtbot, main_window: MainWindow
) -> None:
    doc = main_window.document
    inspector = main_window.inspector
    settings_field(main_window, "optimizer").widget.setCurrentText("sgd")
    type_into(qtbot, inspector.fields["momentum"], "0.9", Qt.Key.Key_Return)
    inspector.fields["nesterov"].widget.click()
    type_into(qtbot, inspector.fields["clipnorm"], "1.5", Qt.Key.Key_Return)
    type_into(qtbot, inspector.fields["weight_decay"], "0.0001", Qt.Key.Key_Return)
    optimizer = compile_network(doc).model.optimizer
    assert optimizer.get_config() == {
        "lr": doc.settings["learning_rate"],
        "momentum": 0.9,
        "nesterov": True,
        "weight_decay": 0.0001,
        "clipnorm": 1.5,
        "clipvalue": None,
    }
    # momentum 1 is refused by the field, so the optimizer keeps 0.9
    field = inspector.fields["momentum"]
    type_into(qtbot, field, "1", Qt.Key.Key_Return)
    assert field.is_invalid and doc.settings["momentum"] == 0.9


def test_nesterov_without_momentum_is_listed_in_problems(
    main_window: MainWindow,
) -> None:
    inspector = main_window.inspector
    settings_field(main_window, "optimizer").widget.setCurrentText("sgd")
    inspector.fields["nesterov"].widget.click()
    main_window.editor.scene.flush()
    assert any(
        "nesterov needs a momentum" in m for m in main_window.problems.messages()
    )
    main_window.undo_stack.undo()
    main_window.editor.scene.flush()
    assert not any("nesterov" in m for m in main_window.problems.messages())
