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
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget

from nndesk.training.distributions import DistributionHistory

from .base import PlotPanel, SteadyRange

__all__ = ["HistogramsPanel", "kind_lut"]

Histogram = tuple[np.ndarray, np.ndarray]

_WEIGHT = (31, 119, 180)
_GRAD = (214, 39, 40)
_KINDS = (("weights", _WEIGHT), ("gradients", _GRAD))
WIDE_WIDTH = 520
"""Panel width (px) from which a layer's four plots share one row."""
MAX_LABELLED_EPOCHS = 8
"""Up to this many epochs a heatmap labels each column with its epoch."""
ROW_HEIGHT = 110
"""Least height (px) of a row of plots; more rows than fit scroll."""


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
        self._plots: list[tuple[int, int, pg.PlotItem, pg.PlotItem]] = []
        self._wide: bool | None = None
        self._framed: dict[tuple[str, str], QRectF] = {}  # each heatmap's view
        # Rows keep a readable height (ROW_HEIGHT) and scroll: a network's layers
        # squeezed into a 300 px dock left lines instead of histograms.
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.splitter.replaceWidget(self.splitter.indexOf(self.graphics), self.scroll)
        self.scroll.setWidget(self.graphics)

    def set_structure(self, layers: Sequence[str]) -> None:
        """A row of plots per layer name (the layers that have parameters); the
        history starts afresh."""
        self.graphics.clear()
        self.weight_curves, self.grad_curves = {}, {}
        self.weight_hist, self.grad_hist = {}, {}
        self.heatmaps, self.history = {}, {}
        self._ranges = {}
        self._plots = []
        self._framed = {}
        curves = {"weights": self.weight_curves, "gradients": self.grad_curves}
        for row, name in enumerate(layers):
            for k, (kind, color) in enumerate(_KINDS):
                plot = pg.PlotItem()
                # Small titles: a title's width is its plot's least width, and
                # two plots share the 180 px of the dock at 1280x800.
                plot.setTitle(f"{name} {kind}", size="8pt")
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
                self._plots.append((row, k, plot, self._make_heatmap(name, kind)))
        self._wide: bool | None = None
        self._arrange()
        self._apply_palette()

    def _make_heatmap(self, name: str, kind: str) -> pg.PlotItem:
        plot = pg.PlotItem()
        plot.setTitle("by epoch", size="8pt")
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(False, False)
        # The values run up as along the histogram's axis beside it: no axis of
        # its own.
        plot.hideAxis("left")
        image = pg.ImageItem(axisOrder="row-major")
        image.setLookupTable(self._luts[kind])
        plot.addItem(image)
        self.heatmaps[(name, kind)] = image
        self.history[(name, kind)] = DistributionHistory()
        return plot

    def _arrange(self) -> None:
        """Four plots a layer in a row when the panel is wide enough, else the
        weights' pair over the gradients' pair (the dock is 270 px wide at
        1280x800, where four plots a row were cut off)."""
        plots = self._plots
        wide = self.graphics.width() >= WIDE_WIDTH
        if wide == self._wide or not plots:
            self._wide = wide
            if not plots:
                self.graphics.setMinimumHeight(0)
            return
        self._wide = wide
        layout = self.graphics.ci
        for _, _, hist, heat in plots:
            for item in (hist, heat):
                if item in layout.items:
                    layout.removeItem(item)
        for row, k, hist, heat in plots:
            r, c = (row, 2 * k) if wide else (2 * row + k, 0)
            layout.addItem(hist, row=r, col=c)
            layout.addItem(heat, row=r, col=c + 1)
        for col in range(4):
            stretch = (2 if col % 2 == 0 else 3) if wide or col < 2 else 0
            layout.layout.setColumnStretchFactor(col, stretch)
        rows = len(plots) // 2 if wide else len(plots)
        self.graphics.setMinimumHeight(rows * ROW_HEIGHT)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._arrange()

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
            image.setRect(rect)  # the image's columns and scale may both change
            if self._framed.get(key) != rect:
                self._framed[key] = rect
                image.getViewBox().setRange(rect, padding=0.0)
                self._label_epochs(image, int(e0), int(e1))

    @staticmethod
    def _label_epochs(image: pg.ImageItem, first: int, last: int) -> None:
        """A few epochs: each column labelled with its epoch's number (1-based, as
        the learning curves count), under its middle; automatic ticks beyond (one
        epoch's span got ticks 59.2, 59.4, ... written over each other)."""
        view = image.getViewBox()
        plot = view.parentItem() if view is not None else None
        while plot is not None and not isinstance(plot, pg.PlotItem):
            plot = plot.parentItem()
        if plot is None:
            return
        axis = plot.getAxis("bottom")
        if last - first <= MAX_LABELLED_EPOCHS:
            axis.setTicks([[(e + 0.5, str(e + 1)) for e in range(first, last)], []])
        else:
            axis.setTicks(None)

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
