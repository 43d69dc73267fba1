"""Gradient flow on the canvas and the Network panel, its warnings in Problems,
Training > Check Gradients and Training > Speed, in the real main window."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from ui_helpers import OFFSCREEN_NOISE

from nndesk.engine.gradcheck import relative_error
from nndesk.training import diagnostics
from nndesk.training.compile import compile_network
from nndesk.training.gradient_flow import FlowReport, LayerFlow
from nndesk.training.session import TrainingSession
from nndesk.ui.canvas.items.flow_badge import FlowBadge, badge_lines
from nndesk.ui.main_window import MainWindow
from nndesk.ui.panels.plots.network import NetworkPanel
from nndesk.ui.training.controller import TrainingController
from nndesk.ui.training.probes import LayerInfo, ModelInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from gradcheck import check_model_gradients  # noqa: E402 - the suite's checker

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

RUN_TIMEOUT = 30_000


def _train(qtbot, window: MainWindow, training: TrainingController, epochs: int):
    assert window.edit_setting("epochs", epochs)
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT) as blocker:
        training.actions.train.trigger()
    return blocker.args[0]


def test_a_run_labels_every_layer_on_the_canvas_and_in_the_network_panel(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    outcome = _train(qtbot, main_window, training, 3)
    assert outcome.status == "completed"
    report = training.diagnostics.last_report
    assert report is not None and report.layers
    scene = main_window.editor.scene
    dense = [i.node_id for i in scene.node_items() if i.spec.type_name == "Dense"]
    assert sorted(e.name for e in report.layers if e.grad_norm is not None) == sorted(
        dense
    )
    for node_id in dense:
        item = scene.node_item(node_id)
        badges = [c for c in item.childItems() if isinstance(c, FlowBadge)]
        assert len(badges) == 1
        entry = report.layer(node_id)
        assert badges[0].lines[0] == (
            f"∇ {entry.grad_norm:.1e}   Δw/w {entry.update_ratio:.1e}"
        )
        # Under the node's box, never over its texts.
        box = item.body_rect()
        assert badges[0].boundingRect().top() >= box.bottom()
        # The Network panel: the lines where they fit between its columns, else
        # the mark, with the lines in the tooltip.
        label = training.network.flow_labels[node_id]
        full = "\n".join(badge_lines(entry, narrow=True))
        assert full.startswith(f"∇ {entry.grad_norm:.1e}\nΔw/w ")
        mark = {"vanishing": "∇▼", "exploding": "∇▲"}.get(entry.status, "∇")
        short = f"{mark}{entry.grad_norm:.0e}\nΔ{entry.update_ratio:.0e}"
        assert label.textItem.toPlainText() in (full, short, mark)
        assert label.toolTip() == (entry.warning() or full)
    assert main_window.errors == []


def _report(status: str) -> FlowReport:
    bad = LayerFlow("dense_1", 1e-9, 2.0, 1e-10, status, "use He initialisation")
    ok = LayerFlow("dense_2", 0.3, 2.0, 1e-3, dead=7, units=8)
    return FlowReport(epoch=3, step=3.5, layers=(bad, ok), batch=16)


def test_a_vanishing_layer_is_coloured_and_named_in_problems(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    scene = main_window.editor.scene
    assert "dense_1" in {i.node_id for i in scene.node_items()}
    training.diagnostics.show_flow(_report("vanishing"))
    problems = main_window.problems
    messages = problems.messages()
    assert (
        "Layer 'dense_1' has vanishing gradients (norm 1e-09, update ratio 1e-10): "
        "use He initialisation." in messages
    )
    assert (
        "Layer 'dense_2' has 7 of 8 ReLU units dead (no output above zero for a "
        "whole batch): lower the learning rate, or use leaky ReLU or He "
        "initialisation." in messages
    )
    badge = training.diagnostics.badges.badges["dense_1"]
    assert badge.color_role == "warning" and badge.lines[1] == "vanishing"
    assert training.diagnostics.badges.badges["dense_2"].lines[-1] == "dead 7/8"
    # Clicking the warning selects the layer's node.
    problems.list.setCurrentRow(
        messages.index(next(m for m in messages if "dense_1" in m))
    )
    problems._on_item_clicked(problems.list.currentItem())
    assert scene.selected_node_ids() == ["dense_1"]
    # A healthy measurement takes the warnings away; the network's own stay.
    training.diagnostics.show_flow(
        FlowReport(0, 1.0, (LayerFlow("dense_1", 0.2, 2.0, 1e-3),), 16)
    )
    assert not any("gradients" in m for m in problems.messages())
    training.diagnostics.show_flow(_report("exploding"))
    assert training.diagnostics.badges.badges["dense_1"].color_role == "error"
    # Deleting the layer takes its badge and its warning away; undo the deletion.
    main_window.editor.scene.select_nodes(["dense_1"])
    main_window.editor.delete_selection()
    main_window.editor.scene.flush()
    qtbot.waitUntil(lambda: not any("dense_1" in m for m in problems.messages()))
    assert any("dense_2" in m for m in problems.messages())
    main_window.undo_stack.undo()
    # Another document: no badges and no live warnings left.
    main_window.set_document(main_window.document.copy())
    assert problems.live == () and training.diagnostics.badges.badges == {}


def test_check_gradients_equals_the_suite_checker(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    _train(qtbot, main_window, training, 3)
    dialog = training.diagnostics.open_gradient_check()
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(
        lambda: dialog.result is not None or bool(dialog.error), timeout=60_000
    )
    assert dialog.error == ""
    # The suite's checker on the same network, weights and batch.
    project = training.project()
    session = TrainingSession.from_project(project)
    data = session.prepare(main_window.dataset)
    model = compile_network(project.document, dtype=np.float64).model
    model.set_weights(project.weights, strict=False)
    pairs = check_model_gradients(model, data.x_train[: diagnostics.CHECK_BATCH])
    suite: dict[str, float] = {}
    for pair in pairs:
        suite[pair.layer] = max(
            suite.get(pair.layer, 0.0), relative_error(pair.analytic, pair.numeric)
        )
    assert dialog.result.per_layer() == suite
    table = dialog.table
    shown = {
        table.item(r, 0).text(): table.item(r, 3).text()
        for r in range(table.rowCount())
    }
    assert shown == {layer: f"{err:.2e}" for layer, err in suite.items()}
    assert all(table.item(r, 4).text() == "right" for r in range(table.rowCount()))
    assert "the gradients are right" in dialog.status.text()
    dialog.close()
    assert main_window.errors == []


@pytest.mark.slow
def test_speed_readout_times_both_paths(
    qtbot, main_window: MainWindow, training: TrainingController, monkeypatch
) -> None:
    monkeypatch.setattr(training.diagnostics, "SPEED_BATCHES", 5)
    dialog = training.diagnostics.open_speed()
    assert dialog is not None
    qtbot.waitUntil(lambda: not dialog.busy, timeout=120_000)
    qtbot.wait(50)  # the last queued signal
    paths = [r.path for r in dialog.results]
    assert paths == ["numpy", "numba"]
    numpy, numba = dialog.results
    assert numpy.samples_per_sec > 0 and not numpy.compiled
    assert dialog.table.item(0, 0).text() == "NumPy"
    if diagnostics.numba_installed():
        assert numba.samples_per_sec > 0 and numba.compiled
        assert "as fast as NumPy" in dialog.status.text()
        assert "compiled" in dialog.kernels.text()
    else:
        assert "Numba is not installed." in dialog.status.text()
    dialog.close()


def _two_layer_info() -> ModelInfo:
    return ModelInfo(
        layers=(
            LayerInfo("input_1", "Input", 2, shape=(2,)),
            LayerInfo("dense_1", "Dense", 4, ("input_1",), "dense_1/kernel",
                      "dense_1/bias", "relu", shape=(4,)),
            LayerInfo("dense_2", "Dense", 1, ("dense_1",), "dense_2/kernel",
                      "dense_2/bias", "sigmoid", True, shape=(1,)),
        ),
        input_shape=(2,),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("width", "shown"),
    [
        (1400, "∇ 2.0e-06\nΔw/w 3.0e-07\nvanishing · dead 3/4"),
        (220, "∇▼2e-06\nΔ3e-07"),
        (110, "∇▼"),
    ],
)
def test_network_panel_lines_under_columns_or_marks_when_narrow(
    qtbot, width: int, shown: str
) -> None:
    panel = NetworkPanel()
    qtbot.addWidget(panel)
    panel.resize(width, 420)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_structure(_two_layer_info())
    report = FlowReport(
        0,
        1.0,
        (
            LayerFlow("dense_1", 2e-6, 1.0, 3e-7, "vanishing", "add BatchNorm", 3, 4),
            LayerFlow("dense_2", 0.4, 1.0, 2e-3),
        ),
    )
    panel.set_gradient_flow(report)
    label = panel.flow_labels["dense_1"]
    text = label.textItem.toPlainText()
    assert text == shown
    assert label.toolTip() == report.layers[0].warning()
    # Below the column, inside the view.
    column = panel.columns["dense_1"]
    assert label.pos().y() > column.bottom
    (_, _), (y0, y1) = panel.box.viewRange()
    assert y0 < label.pos().y() < y1
    assert label.color.name() == "#c87800"
    panel.set_gradient_flow(None)
    assert panel.flow_labels == {}


def test_closing_the_check_stops_it_and_drops_its_result(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    dialog = training.diagnostics.open_gradient_check()
    assert dialog is not None and dialog.job is not None
    job = dialog.job
    dialog.close()
    assert job.stopped
    qtbot.waitUntil(lambda: not dialog.busy, timeout=60_000)
    qtbot.wait(50)  # a result would have been queued by now
    assert dialog.result is None and dialog.error == ""
    # Opened again, it checks afresh and shows its result.
    again = training.diagnostics.open_gradient_check()
    assert again is dialog and dialog.job is not job
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=60_000)
    assert dialog.table.rowCount() == 4


def test_commands_without_a_network_say_why_without_a_dialog(
    main_window: MainWindow, training: TrainingController
) -> None:
    # Random input pressed Ctrl+F7 on an empty canvas: an error dialog each time.
    main_window.undo_stack.setClean()
    assert main_window.close_document()
    assert training.diagnostics.open_gradient_check() is None
    assert training.diagnostics.open_speed() is None
    assert main_window.errors == []
    assert "no network to check" in training.panel.message.text()
