"""Gates: an LSTM's input, forget and output gates or a GRU's update and reset gates
over the chosen sequence, each a units x time heatmap in [0, 1], and a saturation
scatter: per unit and gate, the share of time the gate sits shut (below 0.1,
across) against open (above 0.9, up), over the probe's sequences. A gate stuck at
a corner has stopped learning from its input.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QWidget

from nndesk.training.sequence_views import (
    GATE_HIGH,
    GATE_LOW,
    LayerTrace,
    SequenceProbe,
)
from nndesk.ui.training.probes import ProbeResult

from .base import PlotPanel
from .hidden_state import NO_RECURRENT, SequenceChooser, image_plot, set_time_ticks
from .sample_picker import compact_combo, heat_lut, notice_label, to_rgba

__all__ = ["GATE_COLORS", "GatesPanel"]

GATE_COLORS = {
    "input": (8, 119, 189),
    "forget": (214, 39, 40),
    "output": (44, 160, 44),
    "update": (214, 39, 40),
    "reset": (8, 119, 189),
}
MAX_GATES = 3


class GatesPanel(PlotPanel):
    """The chosen sequence's gate activations and every unit's gate saturation.

    Signals
    -------
    sig_sample_requested(int)
        The user chose another sequence (training index).
    """

    sig_sample_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Gates", parent)
        self.chooser = SequenceChooser(self)
        self.chooser.sig_sample_requested.connect(self.sig_sample_requested)
        self.layer_box = compact_combo(QComboBox(self), 10)
        self.layer_box.setToolTip("The LSTM or GRU layer shown")
        self.layer_box.currentIndexChanged.connect(self._on_layer_box_changed)
        for k, widget in enumerate(
            (QLabel("Sequence", self), self.chooser, self.layer_box)
        ):
            self.controls.insertWidget(k, widget)
        self.notice = notice_label(self)
        self.layout().addWidget(self.notice)
        self.plots: list[pg.PlotItem] = []
        self.images: list[pg.ImageItem] = []
        for row in range(MAX_GATES):
            plot = image_plot(self.graphics.ci, row, "")
            plot.hideAxis("left")  # three short heatmaps: unit numbers would overlap
            image = pg.ImageItem(axisOrder="row-major")
            plot.addItem(image)
            self.plots.append(plot)
            self.images.append(image)
        self.scatter_plot = self.graphics.addPlot(row=0, col=1, rowspan=MAX_GATES)
        self.scatter_plot.setTitle("saturation per unit", size="9pt")
        self.scatter_plot.setMenuEnabled(False)
        self.scatter_plot.hideButtons()
        self.scatter_plot.setLabel("bottom", f"time shut (&lt; {GATE_LOW})")
        self.scatter_plot.setLabel("left", f"time open (> {GATE_HIGH})")
        self.scatter_plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.05)
        self.scatter_plot.setMouseEnabled(x=False, y=False)
        self.scatter_plot.addLegend(offset=(-6, 6))
        self.scatter_plot.plot(
            [0, 1], [1, 0], pen=pg.mkPen(150, 150, 150, style=Qt.PenStyle.DashLine)
        )
        self.scatters: dict[str, pg.ScatterPlotItem] = {}
        layout = self.graphics.ci.layout
        layout.setColumnStretchFactor(0, 3)
        layout.setColumnStretchFactor(1, 2)
        self.probe: SequenceProbe | None = None
        self._lut = heat_lut()
        self._apply_palette()
        self.set_structure()

    # --- structure and data ------------------------------------------------------------
    def set_structure(self, n_samples: int = 0) -> None:
        """Forget what was shown; ``n_samples`` training sequences to choose from."""
        self.chooser.setMaximum(max(0, n_samples - 1))
        self.probe = None
        with QSignalBlocker(self.layer_box):
            self.layer_box.clear()
        self._say(
            "No network yet: draw one with an LSTM or GRU layer and choose its data."
        )

    def _say(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))
        for widget in (self.splitter, self.layer_box, self.chooser):
            widget.setVisible(not text)

    def set_probe(self, probe: ProbeResult) -> None:
        """Show the gates in ``probe`` (kept by reference)."""
        seq = probe.sequence
        gated = [n for n, t in seq.layers.items() if t.gates] if seq is not None else []
        if seq is None:
            self.probe = None
            self._say(NO_RECURRENT)
            return
        if not gated:
            self.probe = None
            self._say(
                "Gates belong to LSTM and GRU layers; this network's recurrent "
                "layers are SimpleRNNs, which have none."
            )
            return
        self._say("")
        self.chooser.show_index(probe.sample_index)
        self.probe = seq
        if [self.layer_box.itemText(i) for i in range(self.layer_box.count())] != gated:
            with QSignalBlocker(self.layer_box):
                self.layer_box.clear()
                self.layer_box.addItems(gated)
        self.schedule_redraw()

    @property
    def trace(self) -> LayerTrace | None:
        """The chosen layer's trace in the last probe."""
        if self.probe is None:
            return None
        return self.probe.layers.get(self.layer_box.currentText())

    def set_layer(self, name: str) -> None:
        """Show layer ``name`` (as the user would choose it)."""
        self.layer_box.setCurrentText(name)

    def _on_layer_box_changed(self, _index: int) -> None:
        self.schedule_redraw()

    # --- drawing ---------------------------------------------------------------------------
    def _redraw(self) -> None:
        trace, probe = self.trace, self.probe
        if trace is None or probe is None:
            return
        names = list(trace.gates)[:MAX_GATES]
        color = self.text_color.name()
        for k, (plot, image) in enumerate(zip(self.plots, self.images, strict=True)):
            plot.setVisible(k < len(names))
            if k >= len(names):
                continue
            g = np.asarray(trace.gates[names[k]], dtype=np.float64).T
            image.setImage(to_rgba(g, self._lut, 0.0, 1.0), autoLevels=False)
            units, steps = g.shape
            plot.setTitle(f"{names[k]} gate (0 to 1)", size="9pt", color=color)
            set_time_ticks(plot, probe.tokens)
            plot.setRange(xRange=(0, steps), yRange=(0, units), padding=0)
        for name in list(self.scatters):
            if name not in names:
                self.scatter_plot.removeItem(self.scatters.pop(name))
                if self.scatter_plot.legend is not None:
                    self.scatter_plot.legend.removeItem(name)
        for name in names:
            shut, open_ = trace.saturation[name]
            item = self.scatters.get(name)
            if item is None:
                rgb = GATE_COLORS.get(name, (120, 120, 120))
                item = pg.ScatterPlotItem(
                    size=7, brush=pg.mkBrush(*rgb, 170), pen=None, name=name
                )
                self.scatter_plot.addItem(item)
                self.scatters[name] = item
            item.setData(shut, open_)

    def csv_columns(self) -> dict[str, Sequence[object] | np.ndarray]:
        trace = self.trace
        if trace is None:
            return {}
        columns: dict[str, Sequence[object] | np.ndarray] = {}
        for name, (shut, open_) in trace.saturation.items():
            columns[f"{name}_share_shut"] = shut
            columns[f"{name}_share_open"] = open_
            columns[f"{name}_mean_over_time"] = trace.gates[name].mean(axis=0)
        return columns
