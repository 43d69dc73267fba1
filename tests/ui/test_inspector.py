"""The inspector: forms generated from ParamSpecs, edits through undo commands."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit
from ui_helpers import OFFSCREEN_NOISE

from nndesk.document.registry import REGISTRY
from nndesk.document.settings import SETTINGS
from nndesk.ui.main_window import MainWindow
from nndesk.ui.panels.inspector import MultiChoiceButton, NumberEdit

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]


def select(window: MainWindow, *node_ids: str) -> None:
    window.editor.scene.select_nodes(node_ids)


def test_nothing_selected_shows_the_network_settings(main_window: MainWindow) -> None:
    inspector = main_window.inspector
    select(main_window)
    assert inspector.node_id is None
    assert inspector.title.text() == "Network settings"
    names = [s.name for s in SETTINGS]
    assert list(inspector.fields) == names[:2] + ["loss"] + names[2:]
    doc = main_window.document
    assert inspector.fields["learning_rate"].value() == doc.settings["learning_rate"]
    assert inspector.fields["dataset"].value() == doc.settings["dataset"]


def test_one_selected_node_shows_its_parameters(main_window: MainWindow) -> None:
    inspector = main_window.inspector
    select(main_window, "dense_1")
    assert inspector.node_id == "dense_1"
    spec = REGISTRY["Dense"]
    assert list(inspector.fields) == [p.name for p in spec.params]
    units = inspector.fields["units"].widget
    assert isinstance(units, NumberEdit)
    assert units.spec.min == 1 and units.text() == "8"
    assert isinstance(inspector.fields["activation"].widget, QComboBox)
    assert isinstance(inspector.fields["use_bias"].widget, QCheckBox)
    assert isinstance(inspector.fields["l2"].widget, NumberEdit)
    assert isinstance(inspector.fields["alpha"].widget, NumberEdit)  # optional float
    assert "output units" in units.toolTip().lower()
    select(main_window, "dense_1", "dense_2")
    assert inspector.node_id is None and "2 nodes" in inspector.title.text()


@pytest.mark.parametrize("type_name", sorted(REGISTRY))
def test_every_node_type_gets_a_form_showing_its_defaults(
    main_window: MainWindow, type_name: str
) -> None:
    node_id = main_window.editor.add_node(type_name)
    assert node_id is not None
    fields = main_window.inspector.fields
    node = main_window.document.node(node_id)
    assert set(fields) == set(node.params)
    for name, field in fields.items():
        assert field.value_or_none() == node.params[name], name


def test_editing_units_updates_the_document_and_the_node(
    qtbot, main_window: MainWindow
) -> None:
    doc = main_window.document
    select(main_window, "dense_1")
    box = main_window.inspector.fields["units"].widget
    assert isinstance(box, NumberEdit)
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, "12")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert doc.node("dense_1").params["units"] == 12
    item = main_window.editor.scene.node_item("dense_1")
    qtbot.waitUntil(lambda: item.text("shape").startswith("(12,)"))
    assert item.text("key") == "12 · tanh"
    assert main_window.undo_stack.count() == 1
    main_window.undo_stack.undo()
    assert doc.node("dense_1").params["units"] == 8
    assert box.text() == "8"  # model → widget, without pushing a new command
    assert main_window.undo_stack.count() == 1


def test_spin_arrows_merge_into_one_undo_step(qtbot, main_window: MainWindow) -> None:
    select(main_window, "dense_2")
    box = main_window.inspector.fields["units"].widget
    assert isinstance(box, NumberEdit)
    for _ in range(4):
        box.stepUp()
    assert main_window.document.node("dense_2").params["units"] == 12
    assert main_window.undo_stack.count() == 1
    main_window.undo_stack.undo()
    assert main_window.document.node("dense_2").params["units"] == 8


def test_choice_and_bool_fields_push_commands(main_window: MainWindow) -> None:
    doc = main_window.document
    select(main_window, "dense_3")
    combo = main_window.inspector.fields["activation"].widget
    assert isinstance(combo, QComboBox)
    combo.setCurrentText("relu")
    assert doc.node("dense_3").params["activation"] == "relu"
    check = main_window.inspector.fields["use_bias"].widget
    assert isinstance(check, QCheckBox)
    check.click()
    assert doc.node("dense_3").params["use_bias"] is False
    main_window.editor.scene.flush()
    # sigmoid → relu before binary cross-entropy: the Output node now has a problem.
    assert main_window.problems.messages()


def test_an_invalid_shape_is_refused_with_a_sentence(
    qtbot, main_window: MainWindow
) -> None:
    doc = main_window.document
    select(main_window, "input_1")
    edit = main_window.inspector.fields["shape"].widget
    assert isinstance(edit, QLineEdit)
    assert edit.text() == "(2,)"
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, "2, zero")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert doc.node("input_1").params["shape"] == (2,)
    assert "shape" in main_window.inspector.help.text()
    assert main_window.undo_stack.count() == 0
    edit.selectAll()
    qtbot.keyClicks(edit, "28x28")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert doc.node("input_1").params["shape"] == (28, 28)
    main_window.editor.scene.flush()
    assert "Flatten" in " ".join(main_window.problems.messages())


def test_optional_float_takes_empty_text_as_default(
    qtbot, main_window: MainWindow
) -> None:
    doc = main_window.document
    select(main_window, "dense_1")
    edit = main_window.inspector.fields["alpha"].widget
    assert isinstance(edit, QLineEdit) and edit.text() == ""
    edit.setFocus()
    qtbot.keyClicks(edit, "0.2")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert doc.node("dense_1").params["alpha"] == pytest.approx(0.2)
    edit.clear()
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert doc.node("dense_1").params["alpha"] is None


def test_label_edit_renames_the_node_on_the_canvas(
    qtbot, main_window: MainWindow
) -> None:
    select(main_window, "dense_2")
    edit = main_window.inspector.label_edit
    assert edit is not None
    edit.setFocus()
    qtbot.keyClicks(edit, "hidden")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert main_window.document.node("dense_2").label == "hidden"
    assert main_window.editor.scene.node_item("dense_2").text("ident") == "hidden"


def test_settings_edits_push_commands(qtbot, main_window: MainWindow) -> None:
    doc = main_window.document
    select(main_window)
    fields = main_window.inspector.fields
    optimizer = fields["optimizer"].widget
    assert isinstance(optimizer, QComboBox)
    optimizer.setCurrentText("sgd")
    assert doc.settings["optimizer"] == "sgd"
    rate = fields["learning_rate"].widget
    assert isinstance(rate, NumberEdit)
    rate.setFocus()
    rate.selectAll()
    qtbot.keyClicks(rate, "0.0005")
    qtbot.keyClick(rate, Qt.Key.Key_Return)
    assert doc.settings["learning_rate"] == pytest.approx(0.0005)
    assert rate.text() == "0.0005"
    metrics = fields["metrics"].widget
    assert isinstance(metrics, MultiChoiceButton)
    metrics.choice_actions["f1"].trigger()
    assert doc.settings["metrics"] == ("accuracy", "f1")
    main_window.undo_stack.undo()
    assert doc.settings["metrics"] == ("accuracy",)
    assert metrics.values() == ("accuracy",)


def test_the_loss_in_the_settings_edits_the_output_node(
    main_window: MainWindow,
) -> None:
    doc = main_window.document
    select(main_window)
    loss = main_window.inspector.fields["loss"].widget
    assert isinstance(loss, QComboBox)
    assert loss.currentText() == "binary_crossentropy"
    loss.setCurrentText("mse")
    assert doc.node("output_1").params["loss"] == "mse"
    main_window.undo_stack.undo()
    assert loss.currentText() == "binary_crossentropy"


def test_changing_the_dataset_sets_the_input_shape_in_one_step(
    qtbot, main_window: MainWindow
) -> None:
    doc = main_window.document
    select(main_window)
    edit = main_window.inspector.fields["dataset"].widget
    assert isinstance(edit, QLineEdit)
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, "sine:n=50")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert doc.settings["dataset"] == "sine:n=50"
    assert doc.node("input_1").params["shape"] == (1,)
    assert main_window.dataset is not None and len(main_window.dataset) == 50
    assert main_window.undo_stack.count() == 1
    main_window.undo_stack.undo()
    assert doc.node("input_1").params["shape"] == (2,)
    assert main_window.dataset is not None and main_window.dataset.input_shape == (2,)


def test_a_bad_dataset_spec_is_explained(qtbot, main_window: MainWindow) -> None:
    select(main_window)
    edit = main_window.inspector.fields["dataset"].widget
    assert isinstance(edit, QLineEdit)
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, "spirul:n=50")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert main_window.dataset is None
    assert (
        main_window.dataset_error is not None and "spirul" in main_window.dataset_error
    )
    assert main_window.dataset_label.text() == "Data: error"
