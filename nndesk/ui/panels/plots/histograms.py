"""Weight and gradient histograms per layer, now and over the epochs, updated live.

Each layer with parameters gets a row: its weights' histogram now, their
distribution epoch by epoch (a heatmap: epochs along, values up, darker where
more values are; TensorBoard's distributions view), and the same two for its
gradients. The bins are counted in the worker with NumPy (``probes.histogram``);
the history is ``training.distributions.DistributionHistory`` (at most
``HISTORY_COLUMNS`` histograms per layer and kind: its docstring gives the memory
bound). Plots and items are created once per layer; redraws call ``setData`` and
``setImage``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QWidget

from nndesk.training.distributions import DistributionHistory

from .base import PlotPanel, SteadyRange, steady_axis

__all__ = ["HistogramsPanel", "kind_lut"]

Histogram = tuple[np.ndarray, np.ndarray]

_WEIGHT = (31, 119, 180)
_GRAD = (214, 39, 40)
_KINDS = (("weights", _WEIGHT), ("gradients", _GRAD))


def kind_lut(color: tuple[int, int, int], n: int = 256) -> np.ndarray:
    """``(n, 4)`` uint8 from transparent (no values) to ``color`` (the most), with
    a square-root ramp so thin tails still show."""
    ramp = np.sqrt(np.linspace(0.0, 1.0, n))[:, None]
    lut = np.empty((n, 4), dtype=np.uint8)
    lut[:, :3] = np.asarray(color, dtype=np.float64)[None, :] * 0.85
    lut[:, 3] = (ramp[:, 0] * 255).astype(np.uint8)
    return lut


class HistogramsPanel(PlotPanel):
    """Per layer with parameters: weights now and by epoch, gradients now and by epoch."""

    redraw_hz = 2.0  # distributions drift slowly: twice a second shows it

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Weight histograms", parent)
        self.weight_curves: dict[str, pg.PlotDataItem] = {}
        self.grad_curves: dict[str, pg.PlotDataItem] = {}
        self.weight_hist: dict[str, Histogram] = {}
        self.grad_hist: dict[str, Histogram] = {}
        self.heatmaps: dict[tuple[str, str], pg.ImageItem] = {}
        self.history: dict[tuple[str, str], DistributionHistory] = {}
        self._ranges: dict[int, SteadyRange] = {}  # by id of the curve
        self._luts = {kind: kind_lut(color) for kind, color in _KINDS}

    def set_structure(self, layers: Sequence[str]) -> None:
        """One row of plots per layer name (the layers that have parameters); the
        history starts afresh."""
        self.graphics.clear()
        self.weight_curves, self.grad_curves = {}, {}
        self.weight_hist, self.grad_hist = {}, {}
        self.heatmaps, self.history = {}, {}
        self._ranges = {}
        curves = {"weights": self.weight_curves, "gradients": self.grad_curves}
        for row, name in enumerate(layers):
            for k, (kind, color) in enumerate(_KINDS):
                plot = self.graphics.addPlot(row=row, col=2 * k, title=f"{name} {kind}")
                plot.setMenuEnabled(False)
                plot.hideButtons()
                # Counts need no scale to compare shapes, and every axis costs a
                # re-layout per update.
                plot.hideAxis("left")
                curves[kind][name] = plot.plot(
                    [0.0, 1.0], [0.0], stepMode="center", fillLevel=0,
                    pen=pg.mkPen(*color, width=1), brush=pg.mkBrush(*color, 90),
                )  # fmt: skip
                self._ranges[id(curves[kind][name])] = SteadyRange(plot, "x")
                self._add_heatmap(row, 2 * k + 1, name, kind)
        layout = self.graphics.ci.layout
        for col in range(4):
            layout.setColumnStretchFactor(col, 2 if col % 2 == 0 else 3)
        self._apply_palette()

    def _add_heatmap(self, row: int, col: int, name: str, kind: str) -> None:
        plot = self.graphics.addPlot(row=row, col=col, title=f"{kind} by epoch")
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(False, False)
        steady_axis(plot.getAxis("left"), "-0.00")
        image = pg.ImageItem(axisOrder="row-major")
        image.setLookupTable(self._luts[kind])
        plot.addItem(image)
        self.heatmaps[(name, kind)] = image
        self.history[(name, kind)] = DistributionHistory()

    def set_histograms(
        self,
        weights: Mapping[str, Histogram],
        gradients: Mapping[str, Histogram],
        step: float | None = None,
    ) -> None:
        """New ``layer -> (edges, counts)`` for the weights and the gradients.

        Empty ``gradients`` (a look at a model that is not training) keep the
        last gradients shown: they are still the latest real ones. A look at a
        training model (with gradients) at ``step`` (its position in epochs:
        epoch + batches done / batches) is recorded in the history as epoch
        ``ceil(step) - 1``'s, the epoch that state was reached in; other looks
        (the preview, a look back at a checkpoint) are not.
        """
        self.weight_hist = dict(weights)
        if gradients:
            self.grad_hist = dict(gradients)
        if gradients and step is not None:
            epoch = max(0, math.ceil(float(step) - 1e-9) - 1)
            for kind, hist in (("weights", weights), ("gradients", gradients)):
                for name, (edges, counts) in hist.items():
                    history = self.history.get((name, kind))
                    if history is not None:
                        history.record(epoch, edges, counts)
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
        for key, image in self.heatmaps.items():
            heat = self.history[key].heatmap()
            if heat is None:
                image.clear()
                continue
            image.setImage(heat.image, levels=(0.0, 1.0), autoLevels=False)
            (e0, e1), (v0, v1) = heat.epochs, heat.values
            rect = QRectF(e0, v0, e1 - e0, v1 - v0)
            if image.mapRectToParent(image.boundingRect()) != rect:
                image.setRect(rect)
                image.getViewBox().setRange(rect, padding=0.0)

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
        for (name, kind), history in self.history.items():
            if not len(history):
                continue
            # One row per bin of each kept epoch (long format).
            prefix = f"{name}_{kind}_by_epoch"
            columns[f"{prefix}_epoch"] = np.concatenate(
                [
                    np.full(len(c), e)
                    for e, (_, c) in zip(
                        history.epochs, history.histograms, strict=True
                    )
                ]
            )
            columns[f"{prefix}_bin_left"] = np.concatenate(
                [e[:-1] for e, _ in history.histograms]
            )
            columns[f"{prefix}_bin_right"] = np.concatenate(
                [e[1:] for e, _ in history.histograms]
            )
            columns[f"{prefix}_count"] = np.concatenate(
                [c for _, c in history.histograms]
            )
        return columns
