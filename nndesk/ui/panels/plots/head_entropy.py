"""Per-head entropy over training: one plot per attention layer, a curve per head.

A head's entropy (``attention_views.head_entropy``, nats, averaged over the probe
batch) starts near that of looking everywhere evenly (the dashed line, the mean
``log`` of the keys each query may see) and falls as the head learns to look at
a few positions. The points come with each probe and are kept for the whole run,
thinned evenly past ``MAX_POINTS``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from nndesk.ui.training.probes import ProbeResult

from .attention_maps import NO_ATTENTION
from .base import PlotPanel
from .colors import class_color
from .sample_picker import notice_label

__all__ = ["MAX_POINTS", "HeadEntropyPanel", "uniform_entropy"]

MAX_POINTS = 2000
"""Points kept per curve; past it every second one of the run is dropped."""


def uniform_entropy(queries: int, keys: int, causal: bool) -> float:
    """Mean entropy of attention spread evenly: ``log(keys)``, or for a causal
    layer the mean of ``log(i + 1)`` over the queries ``i``."""
    if causal:
        return float(np.mean([math.log(min(i + 1, keys)) for i in range(queries)]))
    return math.log(keys)


class HeadEntropyPanel(PlotPanel):
    """Each head's attention entropy against training time (epochs)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Head Entropy", parent)
        self.notice = notice_label(self)
        self.layout().addWidget(self.notice)
        self.steps: list[float] = []
        self.values: dict[str, list[np.ndarray]] = {}
        self.uniform: dict[str, float] = {}
        self._plots: dict[str, pg.PlotItem] = {}
        self._curves: dict[str, list[pg.PlotDataItem]] = {}
        self._guides: dict[str, pg.InfiniteLine] = {}
        self.set_structure()

    def set_structure(self) -> None:
        """Forget the curves (another network, or Reset Weights)."""
        self.steps, self.values, self.uniform = [], {}, {}
        self.graphics.ci.clear()
        self._plots, self._curves, self._guides = {}, {}, {}
        self._say("No network yet: draw one with an attention layer and train it.")

    def _say(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))
        self.splitter.setVisible(not text)

    def set_probe(self, probe: ProbeResult) -> None:
        """Add the probe's per-head entropy at its step."""
        att = probe.attention
        if att is None:
            self._say(NO_ATTENTION)
            return
        self._say("")
        if set(att.entropy) != set(self.values):
            self.steps, self.values = [], {name: [] for name in att.entropy}
        if self.steps and att.step <= self.steps[-1]:
            # A probe of the same moment (another sequence, a pause): replace it.
            while self.steps and self.steps[-1] >= att.step:
                self.steps.pop()
                for v in self.values.values():
                    v.pop()
        self.steps.append(att.step)
        for name, e in att.entropy.items():
            self.values[name].append(np.asarray(e, dtype=np.float64))
            tq, tk = att.maps[name].shape[1:]
            # A causal map has zeros above its diagonal from the first step on.
            causal = tq == tk > 1 and not np.any(np.triu(att.maps[name][0], 1))
            self.uniform[name] = uniform_entropy(tq, tk, causal)
        if len(self.steps) > MAX_POINTS:
            self.steps = self.steps[::2]
            self.values = {k: v[::2] for k, v in self.values.items()}
        self.schedule_redraw()

    def curves(self, layer: str) -> tuple[np.ndarray, np.ndarray]:
        """``(steps (k,), entropy (k, heads))`` of ``layer``."""
        v = self.values.get(layer, [])
        if not v:
            return np.zeros(0), np.zeros((0, 0))
        return np.asarray(self.steps), np.stack(v)

    def _ensure_plots(self) -> None:
        if list(self._plots) == list(self.values):
            return
        self.graphics.ci.clear()
        self._plots, self._curves, self._guides = {}, {}, {}
        for row, name in enumerate(self.values):
            plot = self.graphics.ci.addPlot(row=row, col=0)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setTitle(name, size="9pt")
            plot.setLabel("left", "entropy (nats)")
            plot.setLabel("bottom", "epoch")
            plot.addLegend(offset=(6, -6), colCount=4)  # bottom left: entropy falls from the top
            heads = len(self.values[name][0]) if self.values[name] else 0
            self._curves[name] = [
                plot.plot(
                    [], [], pen=pg.mkPen(*class_color(h), width=2), name=f"head {h + 1}"
                )
                for h in range(heads)
            ]
            guide = pg.InfiniteLine(
                angle=0,
                pen=pg.mkPen(130, 130, 130, style=Qt.PenStyle.DashLine),
                label="even",
                labelOpts={"position": 0.05, "color": (110, 110, 110)},
            )
            plot.addItem(guide)
            self._guides[name] = guide
            self._plots[name] = plot
        self._apply_palette()

    def _redraw(self) -> None:
        if not self.steps:
            return
        self._ensure_plots()
        for name in self.values:
            x, e = self.curves(name)
            for h, curve in enumerate(self._curves[name]):
                curve.setData(x, e[:, h])
            self._guides[name].setValue(self.uniform.get(name, 0.0))
            top = max(self.uniform.get(name, 0.0), float(e.max()) if e.size else 0.0)
            self._plots[name].setYRange(0.0, top * 1.08 + 1e-3, padding=0)

    def csv_columns(self) -> dict[str, Sequence[object] | np.ndarray]:
        out: dict[str, Sequence[object] | np.ndarray] = {"epoch": list(self.steps)}
        for name in self.values:
            _, e = self.curves(name)
            for h in range(e.shape[1] if e.ndim == 2 else 0):
                out[f"{name} head {h + 1}"] = e[:, h]
        return out
