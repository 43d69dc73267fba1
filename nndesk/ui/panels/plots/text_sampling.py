"""Text sampling: what a character model writes after the chosen sequence, at the
temperature the slider picks, drawn in the training thread once per epoch at every
slider stop (``sequence_views.TEMPERATURES``), so moving the slider never waits.
Low temperatures repeat the likeliest characters; high ones invent more.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSlider, QTextBrowser, QWidget

from nndesk.training.sequence_views import TEMPERATURES, SequenceProbe
from nndesk.ui.training.probes import ProbeResult

from .base import PlotPanel
from .hidden_state import NO_RECURRENT, SequenceChooser
from .sample_picker import notice_label

__all__ = ["TextSamplingPanel"]


class TextSamplingPanel(PlotPanel):
    """The prompt (the chosen sequence, grey) and its sampled continuation.

    Signals
    -------
    sig_sample_requested(int)
        The user chose another sequence as the prompt (training index).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Text Sampling", parent)
        self.chooser = SequenceChooser(self)
        self.sig_sample_requested = self.chooser.sig_sample_requested
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(0, len(TEMPERATURES) - 1)
        self.slider.setValue(TEMPERATURES.index(0.8) if 0.8 in TEMPERATURES else 0)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setPageStep(1)
        self.slider.setToolTip(
            "Temperature: low repeats the likeliest characters, high invents"
        )
        self.slider.setMaximumWidth(160)
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        self.temperature_label = QLabel("", self)
        widest = self.temperature_label.fontMetrics().horizontalAdvance(
            "temperature 0.00"
        )
        self.temperature_label.setFixedWidth(widest + 8)
        for k, widget in enumerate(
            (QLabel("Prompt", self), self.chooser, self.slider, self.temperature_label)
        ):
            self.controls.insertWidget(k, widget)
        self.text = QTextBrowser(self)
        self.text.setOpenLinks(False)
        self.splitter.addWidget(self.text)
        self.graphics.hide()
        self.fold_side = False
        self.notice = notice_label(self)
        self.layout().addWidget(self.notice)
        self.probe: SequenceProbe | None = None
        self._show_temperature()
        self.set_structure()

    @property
    def temperature(self) -> float:
        """The temperature the slider picks."""
        return float(TEMPERATURES[self.slider.value()])

    def set_temperature(self, t: float) -> None:
        """Move the slider to the stop nearest ``t`` (as the user would)."""
        self.slider.setValue(int(np.argmin([abs(v - t) for v in TEMPERATURES])))

    def set_structure(self, n_samples: int = 0) -> None:
        """Forget the samples; ``n_samples`` training sequences to prompt with."""
        self.chooser.setMaximum(max(0, n_samples - 1))
        self.probe = None
        self.text.clear()
        self._say("No network yet: draw a character model and choose a text dataset.")

    def _say(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))
        for widget in (
            self.splitter,
            self.chooser,
            self.slider,
            self.temperature_label,
        ):
            widget.setVisible(not text)

    def set_probe(self, probe: ProbeResult) -> None:
        """Show the samples of ``probe`` (kept by reference)."""
        seq = probe.sequence
        if seq is None:
            self.probe = None
            self._say(NO_RECURRENT)
            return
        if not seq.samples:
            self.probe = None
            self._say(
                "Text sampling needs a character model: token ids in (an Input of "
                "integer ids from a text dataset) and one probability per character "
                "out (a softmax over the vocabulary)."
            )
            return
        self._say("")
        self.chooser.show_index(probe.sample_index)
        self.probe = seq
        self.schedule_redraw()

    def sample(self) -> str:
        """The text shown for the current temperature ("" without one)."""
        if self.probe is None:
            return ""
        return self.probe.samples.get(self.temperature, "")

    def _show_temperature(self) -> None:
        self.temperature_label.setText(f"temperature {self.temperature:.2g}")

    def _on_slider_value_changed(self, _value: int) -> None:
        self._show_temperature()
        self.schedule_redraw()

    def _redraw(self) -> None:
        probe = self.probe
        if probe is None:
            return
        grey = self.palette().color(self.palette().ColorRole.PlaceholderText).name()
        body = (
            f'<p style="color:{grey}">epoch {probe.sample_epoch + 1} · temperature '
            f"{self.temperature:.2g}</p>"
            f'<pre style="white-space: pre-wrap"><span style="color:{grey}">'
            f"{html.escape(probe.prompt)}</span><b>{html.escape(self.sample())}</b></pre>"
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
        if self.probe is None:
            return {}
        return {
            "temperature": list(self.probe.samples),
            "text": [self.probe.prompt + t for t in self.probe.samples.values()],
        }
