"""GAN curves: both networks' losses and the discriminator's mean output on real
and generated data, over training; the modes covered, for 2-D mixtures.

A GAN's losses do not fall together as a classifier's loss does: the two
networks play against each other. D(real) and D(fake) say who is ahead: near 1
and 0 the discriminator wins (the generator gets little gradient), both near 0.5
the generator fools it. A fall of the covered modes shows mode collapse.

The x axis counts epochs (passes over the real data), as the learning curves
do. Batch values come throttled from the worker
(``add_points``), into growing buffers; the curves are redrawn on the panel
scheduler's timer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from .base import GrowingBuffer, PlotPanel, steady_axis
from .gan_picture import FAKE_COLOR, REAL_COLOR

__all__ = ["SERIES", "GanCurvesPanel"]

SERIES = {
    "d_loss": ("losses", "D", (214, 39, 40)),
    "g_loss": ("losses", "G", (31, 119, 180)),
    "d_real": ("outputs", "real", REAL_COLOR),
    "d_fake": ("outputs", "fake", FAKE_COLOR),
    "modes": ("modes", "covered", FAKE_COLOR),
}
"""Series name -> (plot, legend label, colour)."""

_PLOTS = (("losses", "loss"), ("outputs", "mean D(x)"), ("modes", "modes"))


class GanCurvesPanel(PlotPanel):
    """Losses, mean D outputs and covered modes against epochs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("GAN Curves", parent)
        self.buffers: dict[str, tuple[GrowingBuffer, GrowingBuffer]] = {
            name: (GrowingBuffer(), GrowingBuffer()) for name in SERIES
        }
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.mode_total = 0
        for row, (key, label) in enumerate(_PLOTS):
            plot = self.graphics.addPlot(row=row, col=0)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setLabel("left", label)
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            steady_axis(plot.getAxis("left"))
            if row:
                plot.setXLink(self.plots["losses"])
            self.plots[key] = plot
        self.plots["modes"].setLabel("bottom", "epoch")
        self.plots["outputs"].setYRange(0.0, 1.0, padding=0.04)
        # Three labels: six crowded a plot 40 px tall (seen at 1280x800).
        self._output_ticks = [[(v, f"{v:g}") for v in (0.0, 0.5, 1.0)]]
        self.plots["outputs"].getAxis("left").setTicks(self._output_ticks)
        self._outputs_fixed = True
        half = pg.InfiniteLine(
            pos=0.5, angle=0, pen=pg.mkPen(150, 150, 150, style=Qt.PenStyle.DashLine)
        )
        self.plots["outputs"].addItem(half)
        titles: dict[str, list[str]] = {key: [] for key, _ in _PLOTS}
        for name, (plot, label, color) in SERIES.items():
            self.curves[name] = self.plots[plot].plot(
                [], [], pen=pg.mkPen(*color, width=2)
            )
            hex_color = "#{:02x}{:02x}{:02x}".format(*color)
            titles[plot].append(f'<span style="color:{hex_color}">━ {label}</span>')
        # The legend is the title, above the curves: a legend box inside a plot
        # covered them wherever it stood.
        for key, parts in titles.items():
            self.plots[key].setTitle(" &nbsp; ".join(parts), size="8pt")
        self._apply_palette()
        self.clear()

    def clear(self) -> None:
        """Forget every point (another network, or Reset Weights)."""
        for xs, ys in self.buffers.values():
            xs.clear()
            ys.clear()
        for curve in self.curves.values():
            curve.setData([], [])
        self.mode_total = 0
        self._show_modes(False)

    def _show_modes(self, on: bool) -> None:
        self.plots["modes"].setVisible(on)
        self.plots["outputs"].setLabel("bottom", "" if on else "epoch")

    def add_points(self, steps: np.ndarray, values: Mapping[str, np.ndarray]) -> None:
        """Append ``values[name]`` (same length as ``steps``) to each series named
        in ``SERIES``; others are ignored. Non-finite values are dropped (a
        diverging loss must not blank the plot)."""
        steps = np.asarray(steps, dtype=np.float64).reshape(-1)
        for name, column in values.items():
            if name not in self.buffers:
                continue
            v = np.asarray(column, dtype=np.float64).reshape(-1)
            ok = np.isfinite(v) & np.isfinite(steps[: len(v)])
            xs, ys = self.buffers[name]
            xs.extend(steps[: len(v)][ok])
            ys.extend(v[ok])
        self.schedule_redraw()

    def set_history(self, history: Mapping[str, Sequence[float]]) -> None:
        """Show a saved history's epoch means (``history[key][e]``: epoch ``e``,
        drawn at ``e + 1``) in place of the points shown."""
        self.clear()
        for name, values in history.items():
            if name in self.buffers:
                steps = np.arange(1, len(values) + 1, dtype=np.float64)
                self.add_points(steps, {name: np.asarray(values, dtype=np.float64)})
        self.schedule_redraw()

    def add_modes(self, step: float, covered: int, total: int) -> None:
        """The modes covered at ``step`` (of ``total``, from a probe)."""
        if total != self.mode_total:
            self.mode_total = total
            self.plots["modes"].setYRange(0.0, total + 0.3, padding=0)
            ticks = sorted({0, total // 2, total})
            self.plots["modes"].getAxis("left").setTicks([[(t, str(t)) for t in ticks]])
            self._show_modes(True)
        self.add_points(np.array([step]), {"modes": np.array([float(covered)])})

    def series(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(steps, values)`` of series ``name`` (views)."""
        xs, ys = self.buffers[name]
        return xs.view, ys.view

    def _redraw(self) -> None:
        for name, curve in self.curves.items():
            xs, ys = self.buffers[name]
            curve.setData(xs.view, ys.view)
        self._frame_outputs()

    def _frame_outputs(self) -> None:
        """Probabilities stay on [0, 1]; the raw scores of the least-squares and
        Wasserstein losses may leave it: then the plot follows them."""
        values = [self.buffers[k][1].view for k in ("d_real", "d_fake")]
        values = [v for v in values if len(v)]
        if not values:
            return
        lo = min(float(v.min()) for v in values)
        hi = max(float(v.max()) for v in values)
        fixed = lo >= 0.0 and hi <= 1.0
        plot = self.plots["outputs"]
        if fixed != self._outputs_fixed:
            self._outputs_fixed = fixed
            plot.getAxis("left").setTicks(self._output_ticks if fixed else None)
        if fixed:
            plot.setYRange(0.0, 1.0, padding=0.04)
        else:
            plot.setYRange(lo, hi if hi > lo else lo + 1.0, padding=0.05)

    def csv_columns(self) -> dict[str, Sequence[object] | np.ndarray]:
        out: dict[str, Sequence[object] | np.ndarray] = {}
        for name in SERIES:
            xs, ys = self.series(name)
            if len(xs):
                out[f"{name}_step"], out[name] = xs, ys
        return out
