"""Hidden state over time: a recurrent layer's units x time heatmap for the chosen
sequence, the input's steps (characters or values) along the time axis.

The numbers come with each probe (``training.sequence_views``); hovering a unit's
row frames it and draws that unit over time below, with the steps where it fires
(beyond half its largest magnitude) marked, as LSTMVis highlights text. Also
home of what the recurrent views share: the sequence chooser and time-axis ticks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QSignalBlocker, Signal
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QComboBox, QLabel, QSpinBox, QWidget

from nndesk.training.sequence_views import LayerTrace, SequenceProbe
from nndesk.ui.training.probes import ProbeResult

from .base import PlotPanel, diverging_lut
from .sample_picker import compact_combo, notice_label, to_rgba

__all__ = [
    "NO_RECURRENT",
    "HiddenStatePanel",
    "SequenceChooser",
    "firing_steps",
    "set_time_ticks",
    "time_ticks",
]

NO_RECURRENT = (
    "These views need a recurrent layer (SimpleRNN, LSTM or GRU); this network "
    "has none."
)
MAX_TICKS = 40
"""Most time-axis labels shown (every k-th step beyond it)."""
FIRE_SHARE = 0.5
"""A unit fires at a step where its magnitude exceeds this share of its largest."""


def time_ticks(tokens: Sequence[str], most: int = MAX_TICKS) -> list[tuple[float, str]]:
    """Bottom-axis ticks at step centres: each step's token (spaces and line
    breaks made visible), every k-th one beyond ``most`` steps."""
    every = max(1, -(-len(tokens) // max(1, most)))
    shown = {" ": "␣", "\n": "↵", "\t": "⇥"}
    return [(k + 0.5, shown.get(t, t)) for k, t in enumerate(tokens) if k % every == 0]


def set_time_ticks(plot: pg.PlotItem, tokens: Sequence[str]) -> None:
    """Label ``plot``'s time axis with ``tokens``, as many as fit its width
    without overlapping (values like "-0.98" need more room than characters)."""
    axis = plot.getAxis("bottom")
    metrics = QFontMetrics(axis.style["tickFont"] or axis.font())
    widest = max((metrics.horizontalAdvance(t) for t in tokens), default=8)
    room = max(1.0, plot.vb.width() or plot.width())
    most = min(MAX_TICKS, int(room // (widest + 8)))
    axis.setTicks([time_ticks(tokens, most), []])


def firing_steps(values: np.ndarray, share: float = FIRE_SHARE) -> np.ndarray:
    """Steps where a unit's ``(time,)`` values exceed ``share`` of its largest
    magnitude (none for a unit that stays at zero)."""
    v = np.abs(np.asarray(values, dtype=np.float64))
    peak = float(v.max()) if v.size else 0.0
    if peak <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(v >= share * peak)


class SequenceChooser(QSpinBox):
    """The training sequence the recurrent views show; a change asks the window
    for a probe of it (``sig_sample_requested``), as the other views' pickers do."""

    sig_sample_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRange(0, 0)
        self.setKeyboardTracking(False)
        self.setToolTip("Index of the training sequence shown")
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("0000000") + 24)
        self.valueChanged.connect(self.sig_sample_requested)

    def show_index(self, index: int) -> None:
        """Follow a probe's sequence without asking for it again."""
        with QSignalBlocker(self):
            self.setValue(int(index))


def image_plot(layout: pg.GraphicsLayout, row: int, title: str) -> pg.PlotItem:
    """A plot for a units x time heatmap: units down, time across."""
    plot = layout.addPlot(row=row, col=0, title=title)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.invertY(True)
    plot.setLabel("left", "unit")
    plot.setMouseEnabled(x=False, y=False)
    return plot


class HiddenStatePanel(PlotPanel):
    """The chosen sequence's hidden (or LSTM cell) state, unit by step.

    Signals
    -------
    sig_sample_requested(int)
        The user chose another sequence (training index).
    """

    sig_sample_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Hidden State", parent)
        self.chooser = SequenceChooser(self)
        self.chooser.sig_sample_requested.connect(self.sig_sample_requested)
        self.layer_box = compact_combo(QComboBox(self), 10)
        self.layer_box.setToolTip("The recurrent layer shown")
        self.state_box = compact_combo(QComboBox(self), 6)
        self.state_box.setToolTip("The hidden state h, or an LSTM's cell state c")
        for box in (self.layer_box, self.state_box):
            box.currentIndexChanged.connect(self._on_choice_changed)
        for k, widget in enumerate(
            (QLabel("Sequence", self), self.chooser, self.layer_box, self.state_box)
        ):
            self.controls.insertWidget(k, widget)
        self.notice = notice_label(self)
        self.layout().addWidget(self.notice)
        self.heat = image_plot(self.graphics.ci, 0, "hidden state")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.heat.addItem(self.image)
        self.frame = pg.PlotCurveItem(pen=pg.mkPen(40, 40, 40, width=1.5))
        self.heat.addItem(self.frame)
        self.unit_plot = self.graphics.addPlot(
            row=1, col=0, title="hover a unit's row above"
        )
        self.unit_plot.setMenuEnabled(False)
        self.unit_plot.hideButtons()
        self.unit_plot.setXLink(self.heat)
        self.graphics.ci.layout.setRowStretchFactor(0, 3)
        self.graphics.ci.layout.setRowStretchFactor(1, 1)
        self.fire_bars = pg.BarGraphItem(
            x=[], height=[], width=1.0, brush=(245, 147, 34, 90), pen=None
        )
        self.unit_plot.addItem(self.fire_bars)
        self.unit_curve = self.unit_plot.plot(
            [], [], pen=pg.mkPen(8, 119, 189, width=2)
        )
        self.hover_unit: int | None = None
        self.hover_text = ""
        self.probe: SequenceProbe | None = None
        self._lut = diverging_lut()
        self._mouse = pg.SignalProxy(
            self.graphics.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse_moved
        )
        self._apply_palette()
        self.set_structure()

    # --- structure and data ------------------------------------------------------------
    def set_structure(self, n_samples: int = 0) -> None:
        """Forget what was shown; ``n_samples`` training sequences to choose from."""
        self.chooser.setMaximum(max(0, n_samples - 1))
        self.probe = None
        self.hover_unit = None
        with QSignalBlocker(self.layer_box):
            self.layer_box.clear()
        self._say(
            "No network yet: draw one with a recurrent layer and choose its data."
        )

    def _say(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))
        for widget in (self.splitter, self.layer_box, self.state_box, self.chooser):
            widget.setVisible(not text)

    def set_probe(self, probe: ProbeResult) -> None:
        """Show the sequence part of ``probe`` (kept by reference)."""
        seq = probe.sequence
        if seq is None:
            self.probe = None
            self._say(NO_RECURRENT)
            return
        self._say("")
        self.chooser.show_index(probe.sample_index)
        self.probe = seq
        names = list(seq.layers)
        if [self.layer_box.itemText(i) for i in range(self.layer_box.count())] != names:
            with QSignalBlocker(self.layer_box):
                self.layer_box.clear()
                self.layer_box.addItems(names)
        self._fill_states()
        self.schedule_redraw()

    def _fill_states(self) -> None:
        trace = self.trace
        wanted = (
            ["hidden", "cell"]
            if trace is not None and trace.cell is not None
            else ["hidden"]
        )
        if [
            self.state_box.itemData(i) for i in range(self.state_box.count())
        ] != wanted:
            current = self.state
            with QSignalBlocker(self.state_box):
                self.state_box.clear()
                for key in wanted:
                    self.state_box.addItem(key, key)
                self.state_box.setCurrentIndex(
                    max(0, wanted.index(current) if current in wanted else 0)
                )

    @property
    def trace(self) -> LayerTrace | None:
        """The chosen layer's trace in the last probe."""
        if self.probe is None:
            return None
        return self.probe.layers.get(self.layer_box.currentText())

    @property
    def state(self) -> str:
        """``"hidden"`` or ``"cell"``."""
        return str(self.state_box.currentData() or "hidden")

    def set_layer(self, name: str) -> None:
        """Show layer ``name`` (as the user would choose it)."""
        self.layer_box.setCurrentText(name)

    def set_state(self, state: str) -> None:
        """Show the ``"hidden"`` or ``"cell"`` state."""
        index = self.state_box.findData(state)
        if index >= 0:
            self.state_box.setCurrentIndex(index)

    def values(self) -> np.ndarray | None:
        """``(units, time)`` the state drawn (None without one)."""
        trace = self.trace
        if trace is None:
            return None
        states = (
            trace.cell
            if self.state == "cell" and trace.cell is not None
            else trace.hidden
        )
        return np.asarray(states, dtype=np.float64).T

    def _on_choice_changed(self, _index: int) -> None:
        self._fill_states()
        self.hover_unit = None
        self.schedule_redraw()

    # --- drawing ---------------------------------------------------------------------------
    def _redraw(self) -> None:
        v = self.values()
        if v is None or self.probe is None:
            return
        span = float(np.abs(v).max()) or 1.0
        self.image.setImage(to_rgba(v, self._lut, -span, span), autoLevels=False)
        units, steps = v.shape
        self.heat.setTitle(
            f"{self.layer_box.currentText()} · {self.state} state · {units} units × "
            f"{steps} steps (±{span:.2g})",
            size="9pt",
            color=self.text_color.name(),
        )
        for plot in (self.heat, self.unit_plot):
            set_time_ticks(plot, self.probe.tokens)
        self.heat.setLimits(xMin=0, xMax=steps, yMin=0, yMax=units)
        self.heat.setRange(xRange=(0, steps), yRange=(0, units), padding=0)
        self._draw_unit()

    def _draw_unit(self) -> None:
        v = self.values()
        u = self.hover_unit
        if v is None or u is None or u >= len(v):
            self.frame.setData([], [])
            self.unit_curve.setData([], [])
            self.fire_bars.setOpts(x=[], height=[])
            return
        steps = v.shape[1]
        self.frame.setData([0, steps, steps, 0, 0], [u, u, u + 1, u + 1, u])
        row = v[u]
        self.unit_curve.setData(np.arange(steps) + 0.5, row)
        fires = firing_steps(row)
        self.fire_bars.setOpts(x=fires + 0.5, height=row[fires], width=1.0)
        self.unit_plot.setTitle(
            f"unit {u}: fires at {len(fires)} of {steps} steps",
            size="9pt",
            color=self.text_color.name(),
        )

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self.probe is not None:
            self.schedule_redraw()  # as many time labels as the new width holds

    # --- hover -------------------------------------------------------------------------------
    def hover(self, unit: int | None) -> str:
        """Highlight ``unit`` (None: none); returns the description shown."""
        v = self.values()
        self.hover_unit = (
            unit if v is not None and unit is not None and 0 <= unit < len(v) else None
        )
        self._draw_unit()
        if self.hover_unit is None or v is None or self.probe is None:
            self.hover_text = ""
        else:
            row = v[self.hover_unit]
            fires = firing_steps(row)
            tokens = self.probe.tokens
            where = "".join(tokens[k] for k in fires[:20]) if tokens else ""
            self.hover_text = (
                f"unit {self.hover_unit}: min {row.min():.3g}, max {row.max():.3g}; "
                f"fires at steps {', '.join(str(k) for k in fires[:12])}"
                + (f" ({where!r})" if where else "")
            )
        self.graphics.setToolTip(self.hover_text)
        return self.hover_text

    def _on_mouse_moved(self, event: tuple[QPointF]) -> None:
        pos = event[0]
        if not self.heat.vb.sceneBoundingRect().contains(pos):
            return
        point = self.heat.vb.mapSceneToView(pos)
        self.hover(int(np.floor(point.y())))

    def csv_columns(self) -> dict[str, Sequence[object] | np.ndarray]:
        v = self.values()
        if v is None or self.probe is None:
            return {}
        columns: dict[str, Sequence[object] | np.ndarray] = {
            "step_token": list(self.probe.tokens)
        }
        for u, row in enumerate(v):
            columns[f"unit_{u}"] = row
        return columns
