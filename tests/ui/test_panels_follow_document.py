"""The plot panels follow the window's document: emptied on New and Close, redrawn
for an opened example or file, and the gradients of the last run stay after it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ui_helpers import OFFSCREEN_NOISE

from nndesk.document.examples import xor_network
from nndesk.ui.main_window import MainWindow
from nndesk.ui.training.controller import TrainingController

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

RUN_TIMEOUT = 30_000


def drawn_layers(training: TrainingController) -> list[str]:
    """The layer columns the Network panel draws."""
    return list(training.network.columns)


def wait_drawn(qtbot, training: TrainingController, layers: list[str]) -> None:
    qtbot.waitUntil(lambda: drawn_layers(training) == layers, timeout=10_000)


def train(qtbot, window: MainWindow, training: TrainingController, epochs: int) -> None:
    assert window.edit_setting("epochs", epochs)
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT):
        training.actions.train.trigger()
    training.evaluate()


def assert_every_panel_empty(training: TrainingController) -> None:
    t = training
    assert t.view.info is None
    assert t.network.columns == {} and t.network.links == [] and t.network.weights == {}
    assert t.network.info is None
    assert t.boundary.info is None and t.boundary.grid is None
    assert not t.boundary.plot.isVisible()
    assert t.boundary.points.data.size == 0
    assert t.histograms.weight_curves == {} and t.histograms.grad_curves == {}
    assert t.histograms.weight_hist == {} and t.histograms.grad_hist == {}
    assert t.activations.plots == {} and t.activations.probe is None
    assert t.activations.caption.text() == ""
    assert t.evaluation.evaluation is None and t.evaluation.cm_plot is None
    assert t.evaluation.scatter_plot is None and t.evaluation.table.rowCount() == 0
    assert t.curves.batch_count == 0 and t.curves.table_model.rows() == []
    for panel in (t.network, t.boundary, t.histograms, t.activations, t.evaluation):
        assert panel.csv_columns() == {} or all(
            len(v) == 0 for v in panel.csv_columns().values()
        )


def spiral_layers(window: MainWindow) -> list[str]:
    return [n.id for n in window.document.nodes if n.type_name != "Output"]


@pytest.fixture
def trained(qtbot, main_window: MainWindow, training: TrainingController):
    """The spiral trained for 2 epochs and evaluated: every panel shows something."""
    wait_drawn(qtbot, training, spiral_layers(main_window))
    train(qtbot, main_window, training, 2)
    t = training
    assert t.network.columns and t.network.weights
    assert t.boundary.info is not None and t.boundary.plot.isVisible()
    assert t.histograms.grad_hist and t.activations.plots
    assert t.evaluation.evaluation is not None
    return main_window


@pytest.mark.parametrize("how", ["new", "close"])
def test_new_and_close_empty_every_panel(
    qtbot, trained: MainWindow, training: TrainingController, how: str
) -> None:
    action = trained.actions.new if how == "new" else trained.actions.close
    action.trigger()
    assert trained.document is not None and not list(trained.document.nodes)
    assert_every_panel_empty(training)
    training.refresh_preview()  # what the preview's timer runs: nothing to show
    assert_every_panel_empty(training)
    assert "No network" in training.boundary.note.text()
    assert trained.errors == []


def test_another_example_is_drawn_in_place_of_the_old_network(
    qtbot, trained: MainWindow, training: TrainingController
) -> None:
    old = drawn_layers(training)
    assert trained.open_example("xor")
    expected = [n.id for n in xor_network().nodes if n.type_name != "Output"]
    assert expected != old
    wait_drawn(qtbot, training, expected)
    t = training
    units = [c.info.units for c in t.network.columns.values()]
    assert units == [c.units for c in t.view.info.layers]
    assert units[0] == 2 and units[-1] == 1  # xor: 2 inputs, one sigmoid unit
    assert t.boundary.info is t.view.info and t.boundary.plot.isVisible()
    assert set(t.histograms.weight_curves) == {
        c.name for c in t.view.info.layers if c.kernel
    }
    # Fresh weights, no run yet: no gradients, no evaluation, no curves.
    assert t.histograms.grad_hist == {}
    assert t.evaluation.evaluation is None and t.curves.batch_count == 0
    assert list(t.activations.plots) == [c.name for c in t.view.info.layers]
    assert trained.errors == []


def test_an_opened_file_is_drawn_with_its_weights(
    qtbot, trained: MainWindow, training: TrainingController, tmp_path: Path
) -> None:
    # A different network saved with weights of its own.
    assert trained.open_example("xor")
    wait_drawn(qtbot, training, [n.id for n in xor_network().nodes][:-1])
    train(qtbot, trained, training, 3)
    saved = training.session.model.get_weights()
    path = tmp_path / "xor.nndesk"
    assert trained.save_as(path)
    assert trained.open_example("spiral")
    wait_drawn(qtbot, training, spiral_layers(trained))

    assert trained.open_file(path)
    expected = [n.id for n in trained.document.nodes if n.type_name != "Output"]
    wait_drawn(qtbot, training, expected)
    qtbot.waitUntil(lambda: bool(training.network.weights), timeout=10_000)
    for key, value in saved.items():
        np.testing.assert_array_equal(training.network.weights[key], value)
    assert training.curves.table_model.rows()  # the file's history
    assert training.evaluation.evaluation is None  # not evaluated since it opened
    assert trained.errors == []


def test_gradient_histograms_keep_the_last_run_after_it_ends(
    qtbot, trained: MainWindow, training: TrainingController
) -> None:
    h = training.histograms
    # The preview after the run (a model that never trains) must not replace them.
    training.refresh_preview()
    assert set(h.grad_hist) == set(h.weight_curves)
    for name, (edges, counts) in h.grad_hist.items():
        assert np.count_nonzero(counts) > 1, name  # more than one bar
        assert edges[-1] - edges[0] > 1e-3, name  # not the 1e-3 bin of all-zeros
    h.flush()
    for name, curve in h.grad_curves.items():
        x, y = curve.getData()
        np.testing.assert_array_equal(x, h.grad_hist[name][0])
        assert np.count_nonzero(y) > 1
    # Choosing another sample probes the preview again: still the run's gradients.
    before = {k: (e.copy(), c.copy()) for k, (e, c) in h.grad_hist.items()}
    training.activations.sample_box.setValue(5)
    qtbot.waitUntil(lambda: training.activations.probe.sample_index == 5)
    for name, (edges, counts) in before.items():
        np.testing.assert_array_equal(h.grad_hist[name][0], edges)
        np.testing.assert_array_equal(h.grad_hist[name][1], counts)


def test_reset_weights_forgets_the_gradients_and_redraws_fresh_weights(
    qtbot, trained: MainWindow, training: TrainingController
) -> None:
    trained_weights = dict(training.network.weights)
    training.actions.reset.trigger()
    layers = spiral_layers(trained)
    wait_drawn(qtbot, training, layers)
    qtbot.waitUntil(lambda: bool(training.network.weights), timeout=10_000)
    key = next(k for k in trained_weights if k.endswith("/kernel"))
    assert not np.array_equal(training.network.weights[key], trained_weights[key])
    assert training.histograms.grad_hist == {}
    assert training.histograms.weight_hist


def test_new_during_a_run_empties_the_panels_and_the_old_run_draws_nothing(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    w = main_window
    wait_drawn(qtbot, training, spiral_layers(w))
    assert w.edit_setting("epochs", 500)
    training.actions.train.trigger()
    qtbot.waitUntil(lambda: training.curves.batch_count > 30, timeout=RUN_TIMEOUT)
    w.questions.answer = "discard"
    assert w.new_document()
    assert_every_panel_empty(training)
    qtbot.waitUntil(lambda: not training.is_active, timeout=RUN_TIMEOUT)
    qtbot.waitUntil(lambda: training.state == "idle", timeout=RUN_TIMEOUT)
    training.refresh_preview()
    assert_every_panel_empty(training)
    assert w.errors == []
