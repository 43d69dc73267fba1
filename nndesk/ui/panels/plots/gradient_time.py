"""Gradient through time: how much of the prediction's gradient reaches each time
step of every recurrent layer's input, live (log scale). A SimpleRNN's curve falls
steeply towards the first steps (the vanishing gradient); gates keep an LSTM's or
GRU's flatter. The curve of the first probe of a run stays, faint, for comparison.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from nndesk.ui.training.probes import ProbeResult

from .base import PlotPanel
from .hidden_state import NO_RECURRENT
from .sample_picker import notice_label

__all__ = ["GradientTimePanel", "decay_ratio"]

COLORS = ((8, 119, 189), (214, 39, 40), (44, 160, 44), (148, 103, 189))
TINY = 1e-30
"""Floor of a norm on the log axis (an exact zero has no logarithm)."""


def decay_ratio(norms: np.ndarray) -> float:
    """How many times smaller the gradient at the first step is than at the last
    (inf when nothing reaches the first step)."""
    first, last = float(norms[0]), float(norms[-1])
    return last / first if first > 0 else float("inf")


class GradientTimePanel(PlotPanel):
    """One curve per recurrent layer: mean gradient norm at each time step."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Gradient Through Time", parent)
        self.notice = notice_label(self)
        self.layout().addWidget(self.notice)
        self.plot = self.graphics.addPlot(row=0, col=0)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setLogMode(y=True)
        self.plot.setLabel("bottom", "time step")
        self.plot.setLabel("left", "gradient norm")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.addLegend(offset=(-6, -6))
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.first_curves: dict[str, pg.PlotDataItem] = {}
        self.norms: dict[str, np.ndarray] = {}
        self.first: dict[str, np.ndarray] = {}
        self.epoch = 0
        self._apply_palette()
        self.set_structure()

    def set_structure(self) -> None:
        """Forget the curves (a new network or run)."""
        for item in [*self.curves.values(), *self.first_curves.values()]:
            self.plot.removeItem(item)
        if self.plot.legend is not None:
            self.plot.legend.clear()
        self.curves, self.first_curves = {}, {}
        self.norms, self.first = {}, {}
        self._say("No network yet: draw one with a recurrent layer and train it.")

    def _say(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))
        self.splitter.setVisible(not text)

    def set_probe(self, probe: ProbeResult) -> None:
        """Take the gradients of ``probe`` (a probe without any keeps the last)."""
        seq = probe.sequence
        if seq is None:
            self._say(NO_RECURRENT)
            return
        if not seq.grad_norms:
            if not self.norms:
                self._say("The gradient through time shows once training runs.")
            return
        self._say("")
        self.norms = {
            k: np.asarray(v, dtype=np.float64) for k, v in seq.grad_norms.items()
        }
        for name, v in self.norms.items():
            self.first.setdefault(name, v.copy())
        self.epoch = probe.epoch
        self.schedule_redraw()

    def _redraw(self) -> None:
        for k, (name, v) in enumerate(self.norms.items()):
            rgb = COLORS[k % len(COLORS)]
            if name not in self.curves:
                self.first_curves[name] = self.plot.plot(
                    name=f"{name} at the start",
                    pen=pg.mkPen(
                        *rgb, 90, width=1, style=pg.QtCore.Qt.PenStyle.DashLine
                    ),
                )
                self.curves[name] = self.plot.plot(
                    pen=pg.mkPen(*rgb, width=2), name=name
                )
            steps = np.arange(len(v))
            self.curves[name].setData(steps, np.maximum(v, TINY))
            first = self.first[name]
            self.first_curves[name].setData(
                np.arange(len(first)), np.maximum(first, TINY)
            )
        ratios = ", ".join(
            f"{name} {decay_ratio(v):.2g}×" for name, v in self.norms.items()
        )
        self.plot.setTitle(
            f"epoch {self.epoch + 1} · last/first step: {ratios}",
            size="9pt",
            color=self.text_color.name(),
        )

    def csv_columns(self) -> dict[str, Sequence[object] | np.ndarray]:
        columns: dict[str, Sequence[object] | np.ndarray] = {}
        for name, v in self.norms.items():
            columns[f"{name}_step"] = np.arange(len(v))
            columns[f"{name}_gradient_norm"] = v
        return columns
