"""Weight and gradient distributions over the epochs in the Weight Histograms panel."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from ui_helpers import OFFSCREEN_NOISE

from nndesk.ui.main_window import MainWindow
from nndesk.ui.panels.plots.histograms import HistogramsPanel
from nndesk.ui.training import worker as worker_module
from nndesk.ui.training.controller import attach_training
from nndesk.ui.training.probes import histogram

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

RUN_TIMEOUT = 30_000


def _width(panel: HistogramsPanel, name: str, kind: str) -> int:
    image = panel.heatmaps[(name, kind)].image
    return 0 if image is None else int(image.shape[1])


def test_the_heatmap_grows_by_one_column_per_epoch_stepped(
    qtbot, main_window: MainWindow
) -> None:
    training = getattr(main_window, "training", None) or attach_training(main_window)
    assert main_window.edit_setting("epochs", 50)
    panel = training.histograms
    training.docks["histograms"].show()
    training.docks["histograms"].raise_()
    qtbot.waitUntil(lambda: bool(panel.heatmaps), timeout=RUN_TIMEOUT)  # the preview
    layers = [name for name, kind in panel.heatmaps if kind == "weights"]
    assert layers == ["dense_1", "dense_2", "dense_3"]  # the spiral's 2-8-8-1
    for epochs in (1, 2, 3):
        training.actions.step_epoch.trigger()
        qtbot.waitUntil(
            lambda e=epochs: len(training.curves.epoch_values("loss")) == e,
            timeout=RUN_TIMEOUT,
        )
        assert training.control.wait_until_waiting(timeout=10)
        # The pause's probe is the epoch's last look: one column per epoch (the
        # preview's looks before and between the steps are not recorded).
        qtbot.waitUntil(
            lambda e=epochs: len(panel.history[("dense_3", "gradients")]) == e
        )
        panel.flush()
        assert _width(panel, "dense_1", "weights") == epochs
        assert _width(panel, "dense_3", "gradients") == epochs
    history = panel.history[("dense_2", "weights")]
    assert history.epochs == [0, 1, 2]
    # The last column is the histogram the panel shows now.
    edges, counts = panel.weight_hist["dense_2"]
    np.testing.assert_array_equal(history.histograms[-1][1], counts)
    heat = history.heatmap()
    assert heat is not None and heat.epochs == (0.0, 3.0)
    # The image spans the epochs along x and the values along y.
    rect = panel.heatmaps[("dense_2", "weights")].mapRectToParent(
        panel.heatmaps[("dense_2", "weights")].boundingRect()
    )
    assert rect.left() == pytest.approx(0.0) and rect.right() == pytest.approx(3.0)
    assert rect.top() == pytest.approx(heat.values[0])
    # ... and the views follow: every heatmap shows epochs 0 to 3, each column
    # labelled with its epoch as the learning curves count them.
    for image in panel.heatmaps.values():
        x0, x1 = image.getViewBox().viewRange()[0]
        assert (x0, x1) == (pytest.approx(0.0), pytest.approx(3.0))
        axis = image.getViewBox().parentItem().getAxis("bottom")
        assert axis._tickLevels[0] == [(0.5, "1"), (1.5, "2"), (2.5, "3")]
    training.actions.stop.trigger()
    qtbot.waitUntil(lambda: training.state == "idle", timeout=RUN_TIMEOUT)
    # Reset weights starts the history over.
    training.reset_weights()
    qtbot.waitUntil(lambda: len(panel.history[("dense_1", "weights")]) <= 1)


def test_histories_are_bounded_and_exported(qtbot, tmp_path: Path) -> None:
    panel = HistogramsPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 300)
    panel.show()
    panel.set_structure(["dense_1"])
    rng = np.random.default_rng(0)
    capacity = panel.history[("dense_1", "weights")].capacity
    for epoch in range(3 * capacity):
        w = histogram(rng.normal(scale=1 + epoch / 100, size=400))
        g = histogram(rng.normal(scale=0.01, size=400))
        panel.set_histograms({"dense_1": w}, {"dense_1": g}, epoch + 0.5)
        panel.set_histograms({"dense_1": w}, {"dense_1": g}, epoch + 1.0)
    assert len(panel.history[("dense_1", "weights")]) <= capacity
    # Looks outside training (no gradients) are not recorded.
    panel.set_histograms(
        {"dense_1": histogram(rng.normal(size=9))}, {}, 3.0 * capacity + 5
    )
    assert panel.history[("dense_1", "gradients")].epochs[-1] == 3 * capacity - 1
    panel.flush()
    assert _width(panel, "dense_1", "weights") == capacity
    # The spread grows over the epochs: the heatmap's last column is wider.
    image = panel.heatmaps[("dense_1", "weights")].image
    assert (image[:, -1] > 0.05).sum() > (image[:, 0] > 0.05).sum()
    path = panel.export_csv(tmp_path / "hist.csv")
    with path.open() as f:
        header = next(csv.reader(f))
    assert "dense_1_weights_by_epoch_epoch" in header
    assert "dense_1_gradients_by_epoch_count" in header


def test_four_plots_a_row_when_wide_two_when_narrow(qtbot) -> None:
    panel = HistogramsPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 300)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_structure(["dense_1", "dense_2"])

    def cells() -> list[tuple[int, int]]:
        layout = panel.graphics.ci
        return [layout.items[item][0] for _, _, h, m in panel._plots for item in (h, m)]

    assert cells() == [(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 1), (1, 2), (1, 3)]
    panel.resize(300, 300)
    qtbot.waitUntil(lambda: cells()[2] == (1, 0))
    assert cells() == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1), (3, 0), (3, 1)]


def test_a_run_records_every_epoch_not_only_the_probed_ones(
    qtbot, main_window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No time budget: every epoch end sends its histograms (with the 2% budget,
    # how many do depends on the machine's load: 3 to 8 of the spiral's 30 were
    # seen; even a budget of all the time let a busy GUI thread skip some).
    monkeypatch.setattr(worker_module, "PROBE_MAX_SHARE", math.inf)
    training = getattr(main_window, "training", None) or attach_training(main_window)
    assert main_window.edit_setting("epochs", 30)
    probes: list[float] = []
    panel = training.histograms
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT):
        training.actions.train.trigger()
        worker = training._worker
        assert worker is not None
        worker.sig_probe_ready.connect(lambda p: probes.append(p.step))
    epochs = panel.history[("dense_1", "weights")].epochs
    # Probes come at most every 0.25 s (a 30-epoch spiral run takes about a
    # second); the epoch ends between them send the histograms alone.
    assert len(probes) < 10
    assert epochs == list(range(30))
    assert panel.history[("dense_3", "gradients")].epochs == epochs
