"""One generator option as a slider and a spin box that move together.

The slider covers the range a user explores (``SLIDER_RANGES``: up to 5,000
samples, noise up to 1), the spin box the whole range the generator accepts
(``ParamSpec.minimum``..``maximum``), so a typed 100,000 samples is fine and the
slider then rests at its end.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QSlider,
    QSpinBox,
    QWidget,
)

from nndesk.io.datasets.toy import ParamSpec

__all__ = ["SLIDER_RANGES", "GeneratorField"]

SLIDER_RANGES: dict[str, tuple[float, float]] = {"n": (20, 5000), "noise": (0.0, 1.0)}
"""The slider's span for options whose accepted range is far wider than useful."""
_SLIDER_STEPS = 200
_LABELS = {"n": "Samples", "noise": "Noise"}


class GeneratorField(QWidget):
    """A slider and a spin box for one ``ParamSpec``.

    Signals
    -------
    sig_moved()
        The value changed (while dragging too): preview it.
    sig_committed()
        The user finished a change (slider released, spin box Enter or focus
        out): it becomes a document edit.
    """

    sig_moved = Signal()
    sig_committed = Signal()

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.setObjectName(f"option_{spec.name}")
        self.setToolTip(spec.help)
        is_int = spec.kind == "int"
        lo = spec.minimum if spec.minimum is not None else -1e9
        hi = spec.maximum if spec.maximum is not None else 1e9
        slider_lo, slider_hi = SLIDER_RANGES.get(spec.name, (lo, hi))
        self._slider_lo, self._slider_hi = max(lo, slider_lo), min(hi, slider_hi)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName(f"slider_{spec.name}")
        span = self._slider_hi - self._slider_lo
        steps = int(span) if is_int and span <= _SLIDER_STEPS else _SLIDER_STEPS
        self.slider.setRange(0, max(1, steps))
        self.slider.setPageStep(max(1, steps // 10))
        self.spin: QSpinBox | QDoubleSpinBox
        if is_int:
            self.spin = QSpinBox(self)
            self.spin.setRange(int(lo), int(min(hi, 2**31 - 1)))
            self.spin.setGroupSeparatorShown(True)
        else:
            self.spin = QDoubleSpinBox(self)
            self.spin.setDecimals(3)
            self.spin.setRange(float(lo), float(hi))
            self.spin.setSingleStep(0.01 if hi <= 1 else 0.05)
        self.spin.setObjectName(f"spin_{spec.name}")
        self.spin.setKeyboardTracking(False)
        self.spin.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.UpDownArrows)
        self.spin.setMinimumWidth(
            self.fontMetrics().horizontalAdvance("0,000,000") + 30
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        self.slider.sliderReleased.connect(self.sig_committed)
        self.spin.valueChanged.connect(self._on_spin_value_changed)

    def label_text(self) -> str:
        """The form's label: "Samples", "Noise", or the option's name."""
        return _LABELS.get(self.spec.name, self.spec.name.capitalize())

    @property
    def dragging(self) -> bool:
        """Whether the slider is held down (its changes commit on release)."""
        return self.slider.isSliderDown()

    def value(self) -> int | float:
        """The value shown."""
        value = self.spin.value()
        return int(value) if self.spec.kind == "int" else float(value)

    def set_value(self, value: float) -> None:
        """Show ``value`` without signalling (the document's value)."""
        self.spin.blockSignals(True)
        self.slider.blockSignals(True)
        try:
            self.spin.setValue(value)
            self.slider.setValue(self._to_slider(float(value)))
        finally:
            self.spin.blockSignals(False)
            self.slider.blockSignals(False)

    def _to_slider(self, value: float) -> int:
        span = self._slider_hi - self._slider_lo
        if span <= 0:
            return 0
        u = (min(max(value, self._slider_lo), self._slider_hi) - self._slider_lo) / span
        return round(u * self.slider.maximum())

    def _from_slider(self, position: int) -> float:
        u = position / max(1, self.slider.maximum())
        value = self._slider_lo + u * (self._slider_hi - self._slider_lo)
        return float(round(value)) if self.spec.kind == "int" else round(value, 3)

    def _on_slider_value_changed(self, position: int) -> None:
        self.spin.blockSignals(True)
        try:
            self.spin.setValue(self._from_slider(position))
        finally:
            self.spin.blockSignals(False)
        self.sig_moved.emit()
        if not self.slider.isSliderDown():
            self.sig_committed.emit()  # a key or a click on the groove: one step

    def _on_spin_value_changed(self, value: float) -> None:
        self.slider.blockSignals(True)
        try:
            self.slider.setValue(self._to_slider(float(value)))
        finally:
            self.slider.blockSignals(False)
        self.sig_committed.emit()
