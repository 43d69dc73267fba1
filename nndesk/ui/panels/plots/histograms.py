"""Weight and gradient histograms per layer, updated live.

The bins are counted in the worker with NumPy (``probes.histogram``); this panel
draws each histogram as one filled step curve, created once per layer and updated
with ``setData``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from .base import PlotPanel, SteadyRange

__all__ = ["HistogramsPanel"]

Histogram = tuple[np.ndarray, np.ndarray]

_WEIGHT = (31, 119, 180)
_GRAD = (214, 39, 40)


class HistogramsPanel(PlotPanel):
    """Two histograms per layer with parameters: its weights and its gradients."""

    redraw_hz = 2.0  # distributions drift slowly: twice a second shows it

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Weight histograms", parent)
        self.weight_curves: dict[str, pg.PlotDataItem] = {}
        self.grad_curves: dict[str, pg.PlotDataItem] = {}
        self.weight_hist: dict[str, Histogram] = {}
        self.grad_hist: dict[str, Histogram] = {}
        self._ranges: dict[int, SteadyRange] = {}  # by id of the curve

    def set_structure(self, layers: Sequence[str]) -> None:
        """One row of plots per layer name (the layers that have parameters)."""
        self.graphics.clear()
        self.weight_curves, self.grad_curves = {}, {}
        self.weight_hist, self.grad_hist = {}, {}
        self._ranges = {}
        for row, name in enumerate(layers):
            for col, (kind, color, store) in enumerate(
                (
                    ("weights", _WEIGHT, self.weight_curves),
                    ("gradients", _GRAD, self.grad_curves),
                )
            ):
                plot = self.graphics.addPlot(row=row, col=col, title=f"{name} {kind}")
                plot.setMenuEnabled(False)
                plot.hideButtons()
                # Counts need no scale to compare shapes, and every axis costs a
                # re-layout per update.
                plot.hideAxis("left")
                store[name] = plot.plot(
                    [0.0, 1.0], [0.0], stepMode="center", fillLevel=0,
                    pen=pg.mkPen(*color, width=1), brush=pg.mkBrush(*color, 90),
                )  # fmt: skip
                self._ranges[id(store[name])] = SteadyRange(plot, "x")
        self._apply_palette()

    def set_histograms(
        self, weights: Mapping[str, Histogram], gradients: Mapping[str, Histogram]
    ) -> None:
        """New ``layer -> (edges, counts)`` for the weights and the gradients.

        Empty ``gradients`` (a look at a model that is not training) keep the
        last gradients shown: they are still the latest real ones.
        """
        self.weight_hist = dict(weights)
        if gradients:
            self.grad_hist = dict(gradients)
        self.schedule_redraw()

    def _redraw(self) -> None:
        for hist, curves in (
            (self.weight_hist, self.weight_curves),
            (self.grad_hist, self.grad_curves),
        ):
            for name, (edges, counts) in hist.items():
                curve = curves.get(name)
                if curve is not None and len(edges) == len(counts) + 1:
                    curve.setData(edges, counts, stepMode="center", fillLevel=0)
                    self._ranges[id(curve)].fit(float(edges[0]), float(edges[-1]))

    def csv_columns(self) -> dict[str, Sequence[object] | np.ndarray]:
        columns: dict[str, Sequence[object] | np.ndarray] = {}
        for kind, hist in (
            ("weights", self.weight_hist),
            ("gradients", self.grad_hist),
        ):
            for name, (edges, counts) in hist.items():
                columns[f"{name}_{kind}_bin_left"] = edges[:-1]
                columns[f"{name}_{kind}_bin_right"] = edges[1:]
                columns[f"{name}_{kind}_count"] = counts
        return columns
