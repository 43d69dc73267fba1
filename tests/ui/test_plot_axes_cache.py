"""Plot axes are cached as pixmaps (a redraw of the data blits them) and still
repaint when their range changes."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import QGraphicsItem
from ui_helpers import OFFSCREEN_NOISE

from nndesk.ui.panels.plots.evaluation import EvaluationPanel
from nndesk.ui.panels.plots.histograms import HistogramsPanel
from nndesk.ui.panels.plots.loss import CurvesPanel

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]


def axes_of(panel) -> list[pg.AxisItem]:
    return [
        item.getAxis(name)
        for item in panel.graphics.ci.items
        if isinstance(item, pg.PlotItem)
        for name in ("left", "bottom")
    ]


def test_every_axis_of_the_panels_is_cached(qtbot) -> None:
    curves, histograms = CurvesPanel(), HistogramsPanel()
    evaluation = EvaluationPanel()
    for panel in (curves, histograms, evaluation):
        qtbot.addWidget(panel)
    histograms.set_structure(["dense_1", "dense_2"])
    evaluation.prepare("classification", ("a", "b", "c"))
    for panel in (curves, histograms):
        axes = axes_of(panel)
        assert axes
        for axis in axes:
            assert axis.cacheMode() == QGraphicsItem.CacheMode.DeviceCoordinateCache


def test_a_cached_axis_repaints_its_labels_when_its_range_changes(qtbot) -> None:
    panel = CurvesPanel()
    qtbot.addWidget(panel)
    panel.resize(500, 400)
    panel.show()
    qtbot.waitExposed(panel)
    panel.add_batches(np.linspace(0.01, 1.0, 50), np.linspace(2.0, 0.5, 50))
    panel.flush()
    axis = panel.loss_plot.getAxis("left")

    def left_axis_pixels() -> np.ndarray:
        qtbot.wait(20)
        image = panel.graphics.grab().toImage()
        # The labels only: the axis's grid lines reach across the plot's data.
        rect = axis.mapRectToScene(axis.boundingRect())
        rect.setRight(panel.loss_plot.getViewBox().sceneBoundingRect().left() - 1)
        rect = rect.toRect()
        crop = image.copy(rect).convertToFormat(image.Format.Format_RGBA8888)
        data = np.frombuffer(crop.constBits(), np.uint8, crop.sizeInBytes())
        return data.copy()

    def settled_pixels() -> np.ndarray:
        # The axis sizes itself to its labels over a few event-loop turns (more
        # of them after other tests left timers behind): grab until it holds still.
        previous = left_axis_pixels()
        for _ in range(50):
            current = left_axis_pixels()
            if current.shape == previous.shape and np.array_equal(current, previous):
                return current
            previous = current
        return previous

    before = settled_pixels()
    # The same data redrawn: the cached axis looks the same.
    panel.add_batches([1.01], [0.5])
    panel.flush()
    np.testing.assert_array_equal(settled_pixels(), before)
    # Another range: new tick labels are painted, not the cached old ones.
    panel.loss_plot.setYRange(100.0, 900.0, padding=0)
    assert not np.array_equal(left_axis_pixels(), before)
