"""Text sampling: what a character model writes after a prompt, at the temperature
the slider picks. Every slider stop (``sequence_views.TEMPERATURES``) is drawn at
once, so moving the slider never waits. Low temperatures repeat the likeliest
characters; high ones invent more.

The prompt is typed (empty: the chosen training sequence). Generating never runs
on the GUI thread: Generate (or Enter) samples in a pool thread on a model of the
sampler's own with a copy of the latest probe's weights (``TextSampler``), the
latest request winning; during a run the worker also draws for the prompt at each
epoch end, and between runs new weights are sampled in the pool thread again.
"""

from __future__ import annotations

import hashlib
import html
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QTextBrowser,
    QWidget,
)

from nndesk.io.errors import DatasetError
from nndesk.training.sequence_views import (
    MAX_SAMPLE_LENGTH,
    SAMPLE_LENGTH,
    TEMPERATURES,
    TextPrompt,
    TextSampler,
    prompt_window,
    sampling_rng,
)
from nndesk.ui.training.probes import ProbeResult

from .base import PlotPanel
from .hidden_state import NO_RECURRENT, SequenceChooser
from .sample_picker import notice_label

__all__ = ["Shown", "TextSamplingPanel", "weights_key"]

NOT_CHARACTER_MODEL = (
    "Text sampling needs a character model: token ids in (an Input of "
    "integer ids from a text dataset) and one probability per character "
    "out (a softmax over the vocabulary)."
)


def weights_key(weights: Mapping[str, np.ndarray]) -> bytes:
    """A digest of a probe's weights: equal weights, equal key (about 1 ms a MB)."""
    h = hashlib.blake2b(digest_size=16)
    for name in sorted(weights):
        h.update(name.encode())
        h.update(np.ascontiguousarray(weights[name]).view(np.uint8))
    return h.digest()


@dataclass(frozen=True)
class Shown:
    """Samples the panel shows or is generating.

    ``key`` says what they continue (prompt text or training index, length and
    seed), ``weights`` which weights drew them (``weights_key``), ``epoch`` when.
    """

    key: tuple[object, int, int]
    weights: bytes
    epoch: int
    prompt: str = ""
    samples: Mapping[float, str] | None = None


class _SampleJob(QRunnable):
    """Samples text in a pool thread; the answer comes back by signal."""

    class Signals(QObject):
        sig_done = Signal(int, object)  # generation, dict of texts, None or str

    def __init__(
        self,
        generation: int,
        sampler: TextSampler,
        weights: Mapping[str, np.ndarray],
        ids: np.ndarray,
        length: int,
        rng: np.random.Generator,
    ) -> None:
        super().__init__()
        self.signals = _SampleJob.Signals()
        self.cancelled = threading.Event()
        self._args = (generation, sampler, weights, ids, length, rng)

    def run(self) -> None:
        generation, sampler, weights, ids, length, rng = self._args
        try:
            answer: object = sampler.sample(
                weights, ids, length, rng, self.cancelled.is_set
            )
        except Exception as exc:  # noqa: BLE001 - one sentence reaches the panel
            answer = f"The text could not be sampled: {exc}"
        self.signals.sig_done.emit(generation, answer)


class TextSamplingPanel(PlotPanel):
    """The prompt (grey) and its sampled continuation.

    Attributes
    ----------
    request : TextPrompt
        The prompt, length and seed asked for last (Generate, Enter).
    shown : Shown or None
        What the text shows.
    generating : bool
        Whether a pool thread samples now.

    Signals
    -------
    sig_sample_requested(int)
        The user chose another sequence as the prompt (training index).
    sig_prompt_requested(TextPrompt)
        The user asked for text after another prompt, length or seed (a run
        draws for it from its next epoch end on).
    sig_generated
        A pool-thread sample arrived (shown or dropped for a newer request).
    """

    sig_prompt_requested = Signal(object)
    sig_generated = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Text Sampling", parent)
        self.chooser = SequenceChooser(self)
        self.chooser.setToolTip(
            "Training sequence the text continues while the prompt is empty"
        )
        self.sig_sample_requested = self.chooser.sig_sample_requested
        self.prompt_edit = QLineEdit(self)
        self.prompt_edit.setPlaceholderText(
            "Type a prompt and press Enter (empty: the chosen training sequence)"
        )
        self.prompt_edit.setClearButtonEnabled(True)
        self.prompt_edit.returnPressed.connect(self.generate)
        self.generate_button = QPushButton("Generate", self)
        self.generate_button.setToolTip(
            "Sample new text after the prompt (Enter in the prompt)"
        )
        self.generate_button.clicked.connect(self.generate)
        self.length_box = QSpinBox(self)
        self.length_box.setRange(1, MAX_SAMPLE_LENGTH)
        self.length_box.setValue(SAMPLE_LENGTH)
        self.length_box.setKeyboardTracking(False)
        self.length_box.setToolTip(
            "Characters to generate after the prompt (each is a forward pass of the model; a run "
            "draws them at every temperature at each epoch end)"
        )
        self.length_box.valueChanged.connect(self._on_length_box_value_changed)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(0, len(TEMPERATURES) - 1)
        self.slider.setValue(TEMPERATURES.index(0.8) if 0.8 in TEMPERATURES else 0)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setPageStep(1)
        self.slider.setToolTip(
            "Temperature: low repeats the likeliest characters, high invents"
        )
        self.slider.setMaximumWidth(160)
        self.slider.setMinimumWidth(80)
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        self.temperature_label = QLabel("", self)
        widest = self.temperature_label.fontMetrics().horizontalAdvance(
            "temperature 0.00"
        )
        self.temperature_label.setFixedWidth(widest + 8)
        for k, widget in enumerate(
            (QLabel("Prompt", self), self.prompt_edit, self.generate_button)
        ):
            self.controls.insertWidget(
                k, widget, 1 if widget is self.prompt_edit else 0
            )
        self.options = QHBoxLayout()
        self.options.setContentsMargins(4, 2, 4, 0)
        self.options.setSpacing(6)
        for widget in (
            QLabel("Sequence", self),
            self.chooser,
            QLabel("Length", self),
            self.length_box,
            self.slider,
            self.temperature_label,
        ):
            self.options.addWidget(widget)
        self.options.addStretch(1)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.status.setContentsMargins(6, 2, 6, 2)
        layout = self.layout()
        layout.insertLayout(1, self.options)  # type: ignore[attr-defined]
        layout.insertWidget(2, self.status)  # type: ignore[attr-defined]
        self.text = QTextBrowser(self)
        self.text.setOpenLinks(False)
        self.splitter.addWidget(self.text)
        self.graphics.hide()
        self.fold_side = False
        self.notice = notice_label(self)
        layout.addWidget(self.notice)
        self.request = TextPrompt()
        self.shown: Shown | None = None
        self.latest: ProbeResult | None = None
        self.running = False  # a training run feeds the probes
        self._wanted: Shown | None = None  # what the pool thread samples now
        self._job: _SampleJob | None = None
        self._generation = 0
        self._note = ""
        self._error = ""
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.cancel)
        self._show_temperature()
        self.set_structure()

    # --- state -------------------------------------------------------------------------
    @property
    def temperature(self) -> float:
        """The temperature the slider picks."""
        return float(TEMPERATURES[self.slider.value()])

    @property
    def seed(self) -> int:
        """The seed of the text asked for (one more with every Generate)."""
        return int(self.request.seed)

    @property
    def generating(self) -> bool:
        return self._job is not None

    @property
    def sampler(self) -> TextSampler | None:
        """The latest probe's sampler (None: not a character model yet)."""
        return self.latest.sampler if self.latest is not None else None

    def set_temperature(self, t: float) -> None:
        """Move the slider to the stop nearest ``t`` (as the user would)."""
        self.slider.setValue(int(np.argmin([abs(v - t) for v in TEMPERATURES])))

    def set_running(self, running: bool) -> None:
        """A run starts (its epoch ends bring text) or ends (new weights are
        sampled in the pool thread)."""
        self.running = bool(running)

    def set_structure(self, n_samples: int = 0) -> None:
        """Forget the samples; ``n_samples`` training sequences to prompt with."""
        self.chooser.setMaximum(max(0, n_samples - 1))
        self.cancel()
        self.latest = self.shown = None
        self.text.clear()
        self._say("No network yet: draw a character model and choose a text dataset.")

    def cancel(self) -> None:
        """Stop the pool thread's sample (its answer is dropped)."""
        self._generation += 1
        self._wanted = None
        if self._job is not None:
            self._job.cancelled.set()
            self._job = None

    def _say(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))
        for widget in (self.splitter, self.status, self.prompt_edit):
            widget.setVisible(not text)
        for layout in (self.controls, self.options):
            for k in range(layout.count()):
                widget = layout.itemAt(k).widget()
                if widget is not None and widget is not self.export_button:
                    widget.setVisible(not text)

    def _show_status(self) -> None:
        state = self._error
        if not state and self._job is not None:
            state = (
                f"Generating {self.request.length} characters at "
                f"{len(TEMPERATURES)} temperatures…"
            )
        self.status.setText(" ".join(p for p in (state, self._note) if p))
        # A refused prompt or a failed sample reads as an error.
        self.status.setStyleSheet("color: #c0392b;" if self._error else "")
        self.status.setVisible(bool(self.status.text()) and not self.notice.isVisible())

    # --- probes ------------------------------------------------------------------------
    def set_probe(self, probe: ProbeResult) -> None:
        """Show the samples of ``probe`` when they are for the prompt asked for, or
        sample its weights in the pool thread (between runs)."""
        seq = probe.sequence
        if seq is None:
            self.latest = None
            self._say(NO_RECURRENT)
            return
        if not seq.samples and probe.sampler is None:
            self.latest = None
            self._say(NOT_CHARACTER_MODEL)
            return
        if self.notice.isVisible():
            self._say("")
            self._show_status()
        self.chooser.show_index(probe.sample_index)
        self.latest = probe
        key = self._key()
        if seq.samples and seq.sample_request is not None:
            drawn = seq.sample_request
            drawn_key = (drawn.text or probe.sample_index, drawn.length, drawn.seed)
            shown = self.shown
            if drawn_key == key and (
                shown is None or shown.key != key or shown.epoch != seq.sample_epoch
            ):
                weights = weights_key(probe.weights)
                self._show(
                    Shown(key, weights, seq.sample_epoch, seq.prompt, dict(seq.samples))
                )
                return
        if probe.sampler is None:
            return
        if self.running:
            # A run's text comes at its epoch ends; a new prompt is sampled now.
            if self._current_key() != key:
                self._start(probe)
            return
        if self._current_key() != key or self._current_weights() != weights_key(
            probe.weights
        ):
            self._start(probe)

    def _key(self) -> tuple[object, int, int]:
        index = self.latest.sample_index if self.latest is not None else 0
        r = self.request
        return (r.text or index, int(r.length), int(r.seed))

    def _current_key(self) -> tuple[object, int, int] | None:
        current = self._wanted or self.shown
        return current.key if current is not None else None

    def _current_weights(self) -> bytes | None:
        current = self._wanted or self.shown
        return current.weights if current is not None else None

    # --- generating --------------------------------------------------------------------
    def generate(self) -> bool:
        """Ask for new text after the typed prompt (Generate, Enter). False when
        the prompt is refused (the reason shows in the panel's status line)."""
        text = self.prompt_edit.text()
        sampler = self.sampler
        self._error = ""
        if text:
            if sampler is None:
                self._error = (
                    "There is no character model to sample from yet: train one or "
                    "choose a text dataset."
                )
                self._show_status()
                return False
            try:
                window = prompt_window(text, sampler.vocabulary, sampler.window)
            except DatasetError as exc:
                self._error = str(exc)
                self._note = ""
                self._show_status()
                return False
            self._note = window.notes(len(sampler.vocabulary))
            text = window.text
        else:
            self._note = ""
        self.request = TextPrompt(text, self.length_box.value(), self.seed + 1)
        self.sig_prompt_requested.emit(self.request)
        if self.latest is not None and sampler is not None:
            self._start(self.latest)
        self._show_status()
        return True

    def _start(self, probe: ProbeResult) -> None:
        """Sample ``probe``'s weights for the request in the pool thread; a job
        under way is cancelled and its answer dropped (the latest request wins)."""
        sampler = probe.sampler
        assert sampler is not None and probe.sequence is not None
        request = self.request
        if request.text:
            try:  # again: another network may read other characters
                window = prompt_window(request.text, sampler.vocabulary, sampler.window)
            except DatasetError as exc:
                self._error, self._note = str(exc), ""
                self._show_status()
                return
            ids, prompt = window.ids, request.text
        else:
            ids, prompt = probe.sample, "".join(probe.sequence.tokens)
        self.cancel()
        self._wanted = Shown(
            self._key(), weights_key(probe.weights), probe.epoch, prompt
        )
        job = _SampleJob(
            self._generation,
            sampler,
            probe.weights,
            np.array(ids, dtype=np.float32),
            request.length,
            sampling_rng(request.seed, probe.epoch),
        )
        job.signals.sig_done.connect(self._on_job_done)
        self._job = job
        QThreadPool.globalInstance().start(job)
        self._show_status()

    def _on_job_done(self, generation: int, answer: object) -> None:
        wanted = self._wanted
        if generation == self._generation and wanted is not None:
            self._wanted = None
            self._job = None
            if isinstance(answer, dict):
                self._show(
                    Shown(
                        wanted.key, wanted.weights, wanted.epoch, wanted.prompt, answer
                    )
                )
            elif isinstance(answer, str):
                self._error = answer
        self._show_status()
        self.sig_generated.emit()

    def _show(self, shown: Shown) -> None:
        self.shown = shown
        self._error = ""
        self._show_status()
        self.schedule_redraw()

    # --- drawing -----------------------------------------------------------------------
    def sample(self) -> str:
        """The text shown for the current temperature ("" without one)."""
        shown = self.shown
        if shown is None or shown.samples is None:
            return ""
        return shown.samples.get(self.temperature, "")

    def _show_temperature(self) -> None:
        self.temperature_label.setText(f"temperature {self.temperature:.2g}")

    def _on_slider_value_changed(self, _value: int) -> None:
        self._show_temperature()
        self.schedule_redraw()

    def _on_length_box_value_changed(self, value: int) -> None:
        if self.latest is not None:
            self.generate()
        else:  # no model yet: the next sample is this long
            self.request = replace(self.request, length=int(value))

    def _redraw(self) -> None:
        shown = self.shown
        if shown is None:
            return
        grey = self.palette().color(self.palette().ColorRole.PlaceholderText).name()
        body = (
            f'<p style="color:{grey}">epoch {shown.epoch + 1} · seed '
            f"{shown.key[2]} · temperature {self.temperature:.2g}</p>"
            f'<pre style="white-space: pre-wrap"><span style="color:{grey}">'
            f"{html.escape(shown.prompt)}</span><b>{html.escape(self.sample())}</b></pre>"
        )
        self.text.setHtml(body)

    def export_png(self, path: str | Path) -> Path:
        self.flush()
        out = Path(path)
        self.text.grab().save(str(out))
        return out

    def export_svg(self, path: str | Path) -> Path:
        return self.export_png(Path(path).with_suffix(".png"))

    def csv_columns(self) -> dict[str, Sequence[object] | np.ndarray]:
        shown = self.shown
        if shown is None or shown.samples is None:
            return {}
        return {
            "temperature": list(shown.samples),
            "text": [shown.prompt + t for t in shown.samples.values()],
        }
