"""Forecast: a time-series model on the chosen window (its values, the true and the
predicted next values, and a multi-step rollout that feeds each prediction back as
input) and, beside it, true against predicted over the probe's windows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QWidget

from nndesk.training.sequence_views import Forecast
from nndesk.ui.training.probes import ProbeResult

from .base import PlotPanel
from .hidden_state import NO_RECURRENT, SequenceChooser
from .sample_picker import notice_label

__all__ = ["ForecastPanel"]

BLUE, ORANGE, GREEN = (8, 119, 189), (245, 147, 34), (44, 160, 44)


class ForecastPanel(PlotPanel):
    """The chosen window's forecast and rollout, and true vs predicted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Forecast", parent)
        self.chooser = SequenceChooser(self)
        self.sig_sample_requested = self.chooser.sig_sample_requested
        self.controls.insertWidget(0, QLabel("Window", self))
        self.controls.insertWidget(1, self.chooser)
        self.notice = notice_label(self)
        self.layout().addWidget(self.notice)
        self.series = self.graphics.addPlot(row=0, col=0)
        self.series.setTitle("window, next value, rollout", size="9pt")
        self.series.setLabel("bottom", "time step")
        self.series.addLegend(offset=(6, 6))
        self.window_curve = self.series.plot(pen=pg.mkPen(*BLUE, width=2), name="input")
        self.rollout_curve = self.series.plot(
            pen=pg.mkPen(*ORANGE, width=2, style=pg.QtCore.Qt.PenStyle.DashLine),
            name="rollout",
        )
        self.target_points = self.series.plot(
            pen=None, symbol="o", symbolBrush=GREEN, symbolPen=None, name="true next"
        )
        self.predicted_points = self.series.plot(
            pen=None,
            symbol="x",
            symbolBrush=ORANGE,
            symbolPen=pg.mkPen(*ORANGE),
            symbolSize=11,
            name="predicted",
        )
        self.scatter = self.graphics.addPlot(row=0, col=1)
        self.scatter.setTitle("true vs predicted", size="9pt")
        self.scatter.setLabel("bottom", "true")
        self.scatter.setLabel("left", "predicted")
        self.diagonal = self.scatter.plot(pen=pg.mkPen(150, 150, 150))
        self.points = pg.ScatterPlotItem(size=5, brush=pg.mkBrush(*BLUE, 140), pen=None)
        self.scatter.addItem(self.points)
        for plot in (self.series, self.scatter):
            plot.setMenuEnabled(False)
            plot.hideButtons()
        self.graphics.ci.layout.setColumnStretchFactor(0, 3)
        self.graphics.ci.layout.setColumnStretchFactor(1, 2)
        self.forecast: Forecast | None = None
        self._apply_palette()
        self.set_structure()

    def set_structure(self, n_samples: int = 0) -> None:
        """Forget the forecast; ``n_samples`` training windows to choose from."""
        self.chooser.setMaximum(max(0, n_samples - 1))
        self.forecast = None
        self._say("No network yet: draw a recurrent forecaster and choose a series.")

    def _say(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))
        self.splitter.setVisible(not text)
        self.chooser.setVisible(not text)

    def set_probe(self, probe: ProbeResult) -> None:
        """Show the forecast of ``probe`` (kept by reference)."""
        seq = probe.sequence
        if seq is None:
            self.forecast = None
            self._say(NO_RECURRENT)
            return
        if seq.forecast is None:
            self.forecast = None
            self._say(
                "Forecasts are for regression on sequences of values (a window of "
                "a series in, its next values out)."
            )
            return
        self._say("")
        self.chooser.show_index(probe.sample_index)
        self.forecast = seq.forecast
        self.schedule_redraw()

    def _redraw(self) -> None:
        f = self.forecast
        if f is None:
            return
        steps = len(f.window)
        self.window_curve.setData(np.arange(steps), f.window)
        ahead = np.arange(steps, steps + len(f.target))
        self.target_points.setData(ahead, f.target)
        self.predicted_points.setData(
            ahead[: len(f.predicted)], f.predicted[: len(ahead)]
        )
        # The rollout starts at the window's last value, so the two join.
        roll_x = np.arange(steps - 1, steps + len(f.rollout))
        self.rollout_curve.setData(roll_x, np.concatenate([f.window[-1:], f.rollout]))
        self.points.setData(f.true, f.pred)
        both = np.concatenate([f.true, f.pred]) if len(f.true) else np.zeros(1)
        finite = both[np.isfinite(both)]
        lo, hi = (
            (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        )
        self.diagonal.setData([lo, hi], [lo, hi])
        if len(f.true):
            err = float(np.mean((f.true - f.pred) ** 2))
            self.scatter.setTitle(
                f"MSE {err:.2g} ({len(f.true)} windows)",
                size="9pt",
                color=self.text_color.name(),
            )

    def csv_columns(self) -> dict[str, Sequence[object] | np.ndarray]:
        f = self.forecast
        if f is None:
            return {}
        return {
            "window": f.window,
            "true_next": f.target,
            "predicted_next": f.predicted,
            "rollout": f.rollout,
            "probe_true": f.true,
            "probe_predicted": f.pred,
        }
