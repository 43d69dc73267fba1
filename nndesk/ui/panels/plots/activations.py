"""Neuron activations per layer for one chosen sample, with the batch mean beside it.

One small bar plot per layer (bars: the chosen sample, drawn as one filled step
curve, which paints far faster than a bar item per unit; a step line: the mean
over a fixed batch of training samples). Image inputs show the sample itself as a
picture; other inputs show their feature values as bars. The caption above the
plots names the prediction and the true target.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QSizePolicy, QSpinBox, QWidget

from nndesk.ui.training.probes import ModelInfo, ProbeResult

from .base import PlotPanel, SteadyRange, steady_axis

__all__ = ["ActivationsPanel"]

_BAR = (31, 119, 180)
_MEAN = (214, 39, 40)
MAX_PLOTS_PER_ROW = 5
MIN_PLOT_WIDTH = 110
"""Pixels a layer's plot needs to be read (its axis, title and bars)."""
MAX_BARS = 1024
"""Most bars drawn for one layer (a wider layer is drawn by runs of units)."""


class ActivationsPanel(PlotPanel):
    """Per-layer activations of a chosen sample and the batch mean.

    Signals
    -------
    sig_sample_requested(int)
        The user chose another sample (index into the training data).
    """

    sig_sample_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Activations", parent)
        self.sample_box = QSpinBox(self)
        self.sample_box.setRange(0, 0)
        self.sample_box.setToolTip(
            "Index of the training sample whose activations are shown"
        )
        self.sample_box.setKeyboardTracking(False)
        self.sample_box.valueChanged.connect(self._on_sample_box_value_changed)
        # Room for the largest index: squashed to "0" the box hid what was typed.
        digits = self.sample_box.fontMetrics().horizontalAdvance("0000000")
        self.sample_box.setMinimumWidth(digits + 24)
        self.caption = QLabel("", self)
        # A line of its own under the controls, wrapped, two lines high whatever
        # it says: in the controls' row it was cut ("sample 0 · true: 1 · pred"),
        # and its text changes with every probe, which must not move the plots.
        self.caption.setWordWrap(True)
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.caption.setFixedHeight(2 * self.caption.fontMetrics().lineSpacing() + 4)
        self.caption.setContentsMargins(4, 0, 4, 0)
        self.controls.insertWidget(0, QLabel("Sample", self))
        self.controls.insertWidget(1, self.sample_box)
        layout = self.layout()
        layout.insertWidget(layout.indexOf(self.splitter), self.caption)
        self._columns = 0
        self.graphics.installEventFilter(self)
        self.info: ModelInfo | None = None
        self.probe: ProbeResult | None = None
        self.plots: dict[str, pg.PlotItem] = {}
        self.bars: dict[str, pg.PlotDataItem] = {}
        self.means: dict[str, pg.PlotDataItem] = {}
        self.image: pg.ImageItem | None = None
        self._ranges: dict[str, SteadyRange] = {}

    # --- structure ---------------------------------------------------------------------
    def set_structure(self, info: ModelInfo | None, n_samples: int = 0) -> None:
        """Create one plot per column of ``info`` (and the input picture)."""
        self.graphics.clear()
        self.plots, self.bars, self.means, self.image = {}, {}, {}, None
        self._ranges = {}
        self.info, self.probe = info, None
        self.caption.setText("")
        self.caption.setToolTip("")
        self.sample_box.setRange(0, max(0, n_samples - 1))
        if info is None:
            return
        self._columns = 0
        for k, column in enumerate(info.layers):
            plot = pg.PlotItem(title=column.name)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            self.plots[column.name] = plot
            if k == 0 and info.is_image:
                self.image = pg.ImageItem(axisOrder="row-major")
                plot.addItem(self.image)
                plot.invertY(True)
                plot.setAspectLocked(True)
                plot.hideAxis("left")
                plot.hideAxis("bottom")
                continue
            units = column.units
            steady_axis(plot.getAxis("left"))
            plot.hideAxis("bottom")  # the unit index; hovering the network names units
            edges = np.arange(units + 1) - 0.5
            bar = plot.plot(
                edges, np.zeros(units), stepMode="center", fillLevel=0,
                pen=pg.mkPen(*_BAR, width=1), brush=pg.mkBrush(*_BAR, 170),
            )  # fmt: skip
            mean = plot.plot(
                np.arange(units + 1) - 0.5, np.zeros(units), stepMode="center",
                pen=pg.mkPen(*_MEAN, width=1.5), name="batch mean",
            )  # fmt: skip
            self.bars[column.name] = bar
            self.means[column.name] = mean
            self._ranges[column.name] = SteadyRange(plot, "y")
            plot.setXRange(-0.5, units - 0.5, padding=0.02)
        self._arrange()
        self._apply_palette()

    def plots_per_row(self) -> int:
        """How many layer plots a row holds at the panel's width (at least one)."""
        width = self.graphics.viewport().width()
        return max(1, min(MAX_PLOTS_PER_ROW, int(width // MIN_PLOT_WIDTH)))

    def _arrange(self) -> None:
        """Lay the plots out in rows of ``plots_per_row``: side by side in a narrow
        dock they were laid out wider than the view, and the last layers were cut
        off at its right edge."""
        columns = self.plots_per_row()
        if columns == self._columns or not self.plots:
            return
        self._columns = columns
        layout = self.graphics.ci
        for plot in self.plots.values():
            if plot in layout.items:
                layout.removeItem(plot)
        for k, plot in enumerate(self.plots.values()):
            layout.addItem(plot, row=k // columns, col=k % columns)
        layout.setGeometry(self.graphics.range)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.graphics and event.type() == QEvent.Type.Resize:
            QTimer.singleShot(0, self._arrange)
        return super().eventFilter(watched, event)

    # --- data ---------------------------------------------------------------------------
    @property
    def sample_index(self) -> int:
        """The chosen sample."""
        return int(self.sample_box.value())

    def set_probe(self, probe: ProbeResult) -> None:
        """Show the activations in ``probe`` (kept by reference)."""
        self.probe = probe
        self.schedule_redraw()

    def _on_sample_box_value_changed(self, value: int) -> None:
        self.sig_sample_requested.emit(int(value))

    def _redraw(self) -> None:
        probe, info = self.probe, self.info
        if probe is None or info is None:
            return
        first = info.layers[0].name
        if self.image is not None:
            self.image.setImage(_picture(probe.sample), autoLevels=True)
        elif first in self.bars:
            self._set_bars(first, probe.sample.reshape(-1), None)
        for name, values in probe.activations.items():
            if name in self.bars:
                self._set_bars(name, values, probe.mean_activations.get(name))
        self._caption(probe, info)

    def _set_bars(self, name: str, values: np.ndarray, mean: np.ndarray | None) -> None:
        values = np.nan_to_num(np.asarray(values, dtype=np.float64))
        units = self.info.layer(name).units if self.info is not None else -1
        if len(values) != units:
            return
        edges, shown = _peaks(values)
        self.bars[name].setData(edges, shown, stepMode="center", fillLevel=0)
        lo, hi = min(0.0, float(values.min())), max(0.0, float(values.max()))
        if mean is not None and len(mean) == len(values):
            mean = np.nan_to_num(np.asarray(mean, dtype=np.float64))
            self.means[name].setData(*_peaks(mean), stepMode="center")
            lo, hi = min(lo, float(mean.min())), max(hi, float(mean.max()))
        self._ranges[name].fit(lo, hi)

    def _caption(self, probe: ProbeResult, info: ModelInfo) -> None:
        out = probe.activations.get(info.output.name)
        text = f"sample {probe.sample_index}"
        if probe.target:
            text += f" · true: {probe.target}"
        if out is not None and out.size:
            text += f" · predicted: {_prediction_text(out, info)}"
        self.caption.setText(text)
        self.caption.setToolTip(text)  # in a narrow dock the label cuts it short

    def csv_columns(self) -> dict[str, Sequence[object] | np.ndarray]:
        if self.probe is None:
            return {}
        columns: dict[str, Sequence[object] | np.ndarray] = {}
        for name, values in self.probe.activations.items():
            columns[f"{name}_sample{self.probe.sample_index}"] = values
            mean = self.probe.mean_activations.get(name)
            if mean is not None:
                columns[f"{name}_batch_mean"] = mean
        return columns


def _peaks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bar edges and heights of ``values``, one bar per unit up to ``MAX_BARS``
    units; beyond, one bar per run of units, the value of largest magnitude in it
    (a convolution's 21,632 units as a filled step path took 200 ms to redraw and
    paint, more than any panel may take at once)."""
    units = len(values)
    step = max(1, -(-units // MAX_BARS))
    if step == 1:
        return np.arange(units + 1) - 0.5, values
    n = -(-units // step)
    runs = np.zeros(n * step)
    runs[:units] = values
    runs = runs.reshape(n, step)
    peaks = runs[np.arange(n), np.abs(runs).argmax(axis=1)]
    edges = np.minimum(np.arange(n + 1) * step, units) - 0.5
    return edges, peaks


def _picture(sample: np.ndarray) -> np.ndarray:
    """A 2-D (or RGB) image of an image sample: ``(h, w)`` or ``(h, w, 3)``."""
    if sample.ndim == 3 and sample.shape[-1] == 1:
        return sample[..., 0]
    return sample


def _prediction_text(out: np.ndarray, info: ModelInfo) -> str:
    out = np.asarray(out).reshape(-1)
    if info.task != "classification":
        return ", ".join(f"{v:.4g}" for v in out[:3])
    names = info.class_names
    if out.size == 1:
        p = float(out[0])
        label = 1 if p >= 0.5 else 0
        name = names[label] if len(names) > label else str(label)
        return f"{name} (p={max(p, 1 - p):.2f})"
    label = int(out.argmax())
    name = names[label] if label < len(names) else str(label)
    return f"{name} (p={float(out[label]):.2f})"
