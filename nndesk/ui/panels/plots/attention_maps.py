"""Attention maps: every layer x head of a network with attention as a query x key
heatmap of the chosen sequence, its tokens on both axes, live during training.

A timeline slider steps back through the snapshots kept during the run
(``attention_views.Timeline``, bounded), so the user can watch a head form; at
its right end the panel follows training. Clicking a head mutes it (click again
to unmute): the validation loss and accuracy with the muted heads are scored in
a pool thread on a model of their own (``attention_views.HeadAblator``) with the
weights of the latest probe, so neither the GUI thread nor the run waits and the
weights never change. The numbers come with each probe (``ui.training.probes``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QSlider, QWidget

from nndesk.training.attention_views import (
    AblationResult,
    AttentionProbe,
    HeadAblator,
    Timeline,
)
from nndesk.ui.training.probes import ProbeResult

from .base import PlotPanel
from .hidden_state import SequenceChooser, set_time_ticks
from .sample_picker import notice_label, to_rgba

__all__ = ["NO_ATTENTION", "AttentionMapsPanel", "ablation_text"]

NO_ATTENTION = (
    "These views need an attention layer (Multi-Head Attention); this network has none."
)
_MUTED = (214, 39, 40)


def _lut() -> np.ndarray:
    """White (no attention) to deep blue (all of it)."""
    t = np.linspace(0.0, 1.0, 256)[:, None]
    white, blue = np.array([255.0, 255.0, 255.0]), np.array([8.0, 48.0, 107.0])
    rgb = white + (blue - white) * t
    return np.concatenate([rgb, np.full((256, 1), 255.0)], axis=1).astype(np.uint8)


def _percent(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f} %"


def ablation_text(result: AblationResult, split: str) -> str:
    """One line: the muted heads and the change in loss and accuracy."""
    heads = ", ".join(f"{name} head {h + 1}" for name, h in result.muted)
    parts = [
        f"{heads} muted: {split} loss {result.loss:.4g} → {result.muted_loss:.4g} "
        f"({result.loss_change:+.4g})",
        f"accuracy {_percent(result.accuracy)} → {_percent(result.muted_accuracy)} "
        f"({100 * result.accuracy_change:+.1f} points)",
    ]
    if result.sequence_accuracy is not None:
        parts.append(
            f"whole sequences {_percent(result.sequence_accuracy)} → "
            f"{_percent(result.muted_sequence_accuracy)}"
        )
    parts.append(f"{result.rows} {split} samples, weights at epoch {result.step:.2f}")
    return " · ".join(parts)


class _AblationJob(QRunnable):
    """Scores an ablation in a pool thread; the answer comes back by signal."""

    class Signals(QObject):
        sig_done = Signal(int, object)  # generation, AblationResult or str

    def __init__(
        self,
        generation: int,
        ablator: HeadAblator,
        weights: dict[str, np.ndarray],
        muted: list[tuple[str, int]],
        step: float,
    ) -> None:
        super().__init__()
        self.signals = _AblationJob.Signals()
        self._args = (generation, ablator, weights, muted, step)

    def run(self) -> None:
        generation, ablator, weights, muted, step = self._args
        try:
            answer: object = ablator.run(weights, muted, step)
        except Exception as exc:  # noqa: BLE001 - one sentence reaches the panel
            answer = f"The heads could not be muted: {exc}"
        self.signals.sig_done.emit(generation, answer)


class AttentionMapsPanel(PlotPanel):
    """Query x key attention of the chosen sequence, one heatmap per layer x head.

    Attributes
    ----------
    timeline : Timeline
        The snapshots of this run's chosen sequence.
    muted : list of (str, int)
        The heads muted for the ablation, in the order clicked.
    ablation : AblationResult or None
        The last ablation scored.

    Signals
    -------
    sig_sample_requested(int)
        The user chose another sequence (training index).
    sig_ablation_finished()
        An ablation was scored (or failed; ``ablation_label`` says).
    """

    sig_sample_requested = Signal(int)
    sig_ablation_finished = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Attention Maps", parent)
        self.chooser = SequenceChooser(self)
        self.chooser.sig_sample_requested.connect(self.sig_sample_requested)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setToolTip(
            "Timeline: step back through the maps kept during the run (right end: live)"
        )
        self.slider.setPageStep(1)
        self.slider.setMinimumWidth(48)
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        self.when_label = QLabel("", self)
        self.when_label.setMinimumWidth(
            self.when_label.fontMetrics().horizontalAdvance("epoch 99.99 (live)") + 4
        )
        self.unmute_button = QPushButton("Unmute", self)
        self.unmute_button.setToolTip("Give every muted head its voice back")
        self.unmute_button.clicked.connect(self.unmute_all)
        for k, widget in enumerate(
            (
                QLabel("Sequence", self),
                self.chooser,
                QLabel("Timeline", self),
                self.slider,
                self.when_label,
                self.unmute_button,
            )
        ):
            self.controls.insertWidget(k, widget)
        self.controls.setStretch(3, 1)
        self.ablation_label = QLabel("Click a head to mute it.", self)
        self.ablation_label.setWordWrap(True)
        self.ablation_label.setContentsMargins(6, 2, 6, 2)
        self.layout().insertWidget(1, self.ablation_label)
        self.notice = notice_label(self)
        self.layout().addWidget(self.notice)
        self.timeline = Timeline()
        self.muted: list[tuple[str, int]] = []
        self.ablation: AblationResult | None = None
        self.latest: ProbeResult | None = None
        self.shown: AttentionProbe | None = None
        self._plots: dict[tuple[str, int], pg.PlotItem] = {}
        self._images: dict[tuple[str, int], pg.ImageItem] = {}
        self._layout_key: tuple[tuple[str, int, int, int], ...] = ()
        self._lut = _lut()
        self._generation = 0
        self._running = False
        self._rerun = False
        self._scored_epoch = -1
        self.graphics.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.set_structure()

    # --- structure and data ------------------------------------------------------------
    def set_structure(self, n_samples: int = 0) -> None:
        """Forget what was shown; ``n_samples`` training sequences to choose from."""
        self.chooser.setMaximum(max(0, n_samples - 1))
        self.timeline.clear()
        self.latest = self.shown = None
        self.muted, self.ablation = [], None
        self._generation += 1
        self._scored_epoch = -1
        self._sync_slider()
        self.ablation_label.setText("Click a head to mute it.")
        self._say(
            "No network yet: draw one with an attention layer and choose its data."
        )

    def _say(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))
        for widget in (self.splitter, self.ablation_label):
            widget.setVisible(not text)
        for k in range(self.controls.count() - 2):  # all but stretch and Export
            item = self.controls.itemAt(k)
            if item is not None and item.widget() is not None:
                item.widget().setVisible(not text)

    def set_probe(self, probe: ProbeResult) -> None:
        """Keep the attention part of ``probe`` (by reference) in the timeline."""
        att = probe.attention
        if att is None:
            self.latest = None
            self._say(NO_ATTENTION)
            return
        self._say("")
        self.chooser.show_index(probe.sample_index)
        if self.timeline and self.timeline[len(self.timeline) - 1].index != att.index:
            self.timeline.clear()  # another sequence: its own history from now on
        live = self.is_live
        self.latest = probe
        self.timeline.add(att)
        self._sync_slider(live)
        if self.muted and probe.epoch != self._scored_epoch:
            self._start_ablation()
        self.schedule_redraw()

    @property
    def is_live(self) -> bool:
        """Whether the slider is at the newest snapshot (the panel follows)."""
        return self.slider.value() >= self.slider.maximum()

    def _sync_slider(self, follow: bool = True) -> None:
        n = len(self.timeline)
        held = self.slider.value()
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, n - 1))
        self.slider.setValue(max(0, n - 1) if follow else min(held, max(0, n - 1)))
        self.slider.blockSignals(False)
        self._pick_snapshot()

    def _pick_snapshot(self) -> None:
        if not len(self.timeline):
            self.shown = None
            self.when_label.setText("")
            return
        self.shown = self.timeline[self.slider.value()]
        live = " (live)" if self.is_live else ""
        self.when_label.setText(f"epoch {self.shown.step:.2f}{live}")

    def _on_slider_value_changed(self, _value: int) -> None:
        self._pick_snapshot()
        self.schedule_redraw()

    # --- head ablation -----------------------------------------------------------------
    def toggle_head(self, layer: str, head: int) -> None:
        """Mute the head, or unmute it if muted, and score the change."""
        key = (str(layer), int(head))
        if key in self.muted:
            self.muted.remove(key)
        else:
            self.muted.append(key)
        self._start_ablation()
        self.schedule_redraw()

    def unmute_all(self) -> None:
        """Unmute every head."""
        self.muted = []
        self._start_ablation()
        self.schedule_redraw()

    def _start_ablation(self) -> None:
        self._generation += 1
        probe = self.latest
        if not self.muted:
            self.ablation = None
            self.ablation_label.setText("Click a head to mute it.")
            return
        if probe is None or probe.ablator is None:
            self.ablation_label.setText(
                "Muting needs a softmax over classes trained with sparse labels; "
                "this network's output cannot be scored that way."
            )
            return
        if self._running:
            self._rerun = True
            return
        self._running, self._rerun = True, False
        self._scored_epoch = probe.epoch
        ablator = probe.ablator
        self.ablation_label.setText(
            f"Scoring {ablator.rows} {ablator.split} samples with "
            f"{len(self.muted)} head(s) muted…"
        )
        job = _AblationJob(
            self._generation, ablator, probe.weights, list(self.muted), probe.step
        )
        job.signals.sig_done.connect(self._on_job_done)
        QThreadPool.globalInstance().start(job)

    def _on_job_done(self, generation: int, answer: object) -> None:
        self._running = False
        if self._rerun or generation != self._generation:
            if self.muted:
                self._start_ablation()
            return
        if isinstance(answer, AblationResult):
            self.ablation = answer
            probe = self.latest
            split = probe.ablator.split if probe and probe.ablator else "validation"
            self.ablation_label.setText(ablation_text(answer, split))
        else:
            self.ablation = None
            self.ablation_label.setText(str(answer))
        self.sig_ablation_finished.emit()

    def _on_scene_clicked(self, event: object) -> None:
        pos = event.scenePos()  # type: ignore[attr-defined]
        for key, plot in self._plots.items():
            if plot.isVisible() and plot.sceneBoundingRect().contains(pos):
                self.toggle_head(*key)
                return

    # --- drawing -----------------------------------------------------------------------
    def _ensure_plots(self, probe: AttentionProbe) -> None:
        key = tuple((name, *m.shape) for name, m in probe.maps.items())
        if key == self._layout_key:
            return
        self._layout_key = key
        self.graphics.ci.clear()
        self._plots, self._images = {}, {}
        for row, (name, maps) in enumerate(probe.maps.items()):
            for head in range(len(maps)):
                plot = self.graphics.ci.addPlot(row=row, col=head)
                plot.setMenuEnabled(False)
                plot.hideButtons()
                plot.invertY(True)
                plot.setMouseEnabled(x=False, y=False)
                plot.setAspectLocked(False)
                image = pg.ImageItem(axisOrder="row-major")
                plot.addItem(image)
                self._plots[(name, head)] = plot
                self._images[(name, head)] = image
        self._apply_palette()

    def _redraw(self) -> None:
        probe = self.shown
        if probe is None:
            return
        self._ensure_plots(probe)
        tokens = list(probe.tokens)
        for (name, head), plot in self._plots.items():
            a = probe.maps[name][head]
            muted = (name, head) in self.muted
            self._images[(name, head)].setImage(to_rgba(a, self._lut), autoLevels=False)
            self._images[(name, head)].setOpacity(0.35 if muted else 1.0)
            tq, tk = a.shape
            plot.setXRange(0, tk, padding=0)
            plot.setYRange(0, tq, padding=0)
            title = f"{name} · head {head + 1}"
            if muted:
                title += " · muted"
            color = pg.mkColor(*_MUTED) if muted else self.text_color
            plot.setTitle(title, color=color.name(), size="9pt")
            keys = tokens[:tk] if len(tokens) >= tk else [str(k) for k in range(tk)]
            queries = tokens[:tq] if len(tokens) >= tq else [str(k) for k in range(tq)]
            set_time_ticks(plot, keys)
            shown = {" ": "␣", "\n": "↵", "\t": "⇥"}
            # As many query labels as fit the plot's height without overlapping.
            room = plot.vb.height() or plot.height()
            fit = max(1, int(room // (self.fontMetrics().height() + 2)))
            every = max(1, math.ceil(tq / min(16, fit)))
            plot.getAxis("left").setTicks(
                [
                    [
                        (k + 0.5, shown.get(t, t))
                        for k, t in enumerate(queries)
                        if k % every == 0
                    ],
                    [],
                ]
            )
        self.graphics.ci.setToolTip(
            "Rows: queries (the position reading), columns: keys (the positions "
            "read). Click a head to mute it."
        )

    def csv_columns(self) -> dict[str, Sequence[object] | np.ndarray]:
        probe = self.shown
        if probe is None:
            return {}
        out: dict[str, Sequence[object] | np.ndarray] = {"query": list(probe.tokens)}
        for name, maps in probe.maps.items():
            for head, a in enumerate(maps):
                for k in range(a.shape[1]):
                    out[f"{name} head {head + 1} key {k}"] = a[:, k]
        return out
