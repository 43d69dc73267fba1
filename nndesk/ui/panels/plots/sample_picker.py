"""What the explanation panels share: the sample picker (index box and image strip),
the one-line notice shown when a view does not apply, and colouring of maps.

The picker never chooses a sample itself: it asks (``sig_sample_requested``), and
the window answers with a probe of that sample, which every panel then shows.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSpinBox,
    QWidget,
)

from nndesk.ui.training.probes import ModelInfo, ProbeResult

__all__ = [
    "SamplePicker",
    "compact_combo",
    "SampleStrip",
    "heat_lut",
    "notice_label",
    "prediction_text",
    "to_rgba",
]

STRIP_COUNT = 12
"""Samples in the image strip (a page of the training data)."""
THUMB = 36
"""Edge of a strip thumbnail in pixels."""


def heat_lut(n: int = 256) -> np.ndarray:
    """``(n, 4)`` uint8: black-red-yellow-white, for magnitudes (saliency, maps)."""
    return pg.colormap.get("inferno").getLookupTable(0.0, 1.0, n, alpha=True)


def to_rgba(
    values: np.ndarray, lut: np.ndarray, lo: float = 0.0, hi: float = 1.0
) -> np.ndarray:
    """``(h, w)`` floats -> ``(h, w, 4)`` uint8 through ``lut``; NaN is transparent.

    Colouring in NumPy gives one ``setImage`` per grid whatever it holds (gaps
    between tiles included), instead of an item per tile.
    """
    v = np.asarray(values, dtype=np.float64)
    nan = ~np.isfinite(v)
    span = hi - lo if hi > lo else 1.0
    idx = np.clip(
        (np.nan_to_num(v, nan=lo) - lo) / span * (len(lut) - 1), 0, len(lut) - 1
    )
    out = lut[idx.astype(np.int64)].copy()
    out[nan] = 0
    return out


def compact_combo(box: QComboBox, letters: int = 10) -> QComboBox:
    """Let a combo box shrink to about ``letters`` characters in a narrow dock
    (by default it is as wide as its longest item, which sets the dock's width)."""
    box.setSizeAdjustPolicy(
        QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
    )
    box.setMinimumContentsLength(letters)
    return box


def notice_label(parent: QWidget) -> QLabel:
    """The one-line label a panel shows instead of its plots when it does not apply."""
    label = QLabel("", parent)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setContentsMargins(12, 12, 12, 12)
    label.hide()
    return label


def prediction_text(probe: ProbeResult, info: ModelInfo) -> str:
    """The caption of a probed sample: its index, true and predicted class."""
    out = np.asarray(probe.activations.get(info.output.name, ())).reshape(-1)
    text = f"sample {probe.sample_index}"
    if probe.target:
        text += f" · true: {probe.target}"
    if out.size and info.task == "classification":
        names = info.class_names
        if out.size == 1:
            p = float(out[0])
            label = int(p >= 0.5)
            p = max(p, 1.0 - p)
        else:
            label = int(out.argmax())
            p = float(out[label])
        name = names[label] if label < len(names) else str(label)
        text += f" · predicted: {name} (p={p:.2f})"
    elif out.size:
        text += " · predicted: " + ", ".join(f"{v:.4g}" for v in out[:3])
    return text


class SampleStrip(QWidget):
    """A row of thumbnails of image samples; clicking one asks for it.

    Shows the page of ``STRIP_COUNT`` training samples that holds the current
    one, with the current one framed.

    Signals
    -------
    sig_sample_requested(int)
        A thumbnail was clicked (its training index).
    """

    sig_sample_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.x: np.ndarray | None = None
        self.current = 0
        self.first = 0
        self._image: QImage | None = None
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setToolTip("Click a sample to show it")
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(STRIP_COUNT * (THUMB + 2), THUMB + 4)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        # One thumbnail: a narrow dock keeps its plots; the strip shows what fits.
        return QSize(THUMB + 4, THUMB + 4)

    def set_samples(self, x: np.ndarray | None) -> None:
        """The images to pick from, ``(n, h, w[, c])`` (read, never written)."""
        self.x = x
        self._page(self.current, force=True)

    def set_current(self, index: int) -> None:
        """Frame sample ``index`` (turning the page when needed)."""
        self.current = int(index)
        self._page(self.current)
        self.update()

    @property
    def per_page(self) -> int:
        """Thumbnails that fit the strip's width (at most ``STRIP_COUNT``)."""
        return max(1, min(STRIP_COUNT, (self.width() - 2) // (THUMB + 2)))

    def visible_indices(self) -> range:
        """Training indices of the thumbnails shown, left to right."""
        n = 0 if self.x is None else len(self.x)
        return range(self.first, min(n, self.first + self.per_page))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._page(self.current, force=True)

    def _page(self, index: int, force: bool = False) -> None:
        per_page = self.per_page
        first = (max(0, index) // per_page) * per_page
        if first == self.first and not force and self._image is not None:
            return
        self.first = first
        self._image = None
        if self.x is None or len(self.x) == 0 or self.x.ndim < 3:
            return
        pics = np.asarray(self.x[first : first + per_page], dtype=np.float64)
        if pics.ndim == 4 and pics.shape[-1] not in (1, 3):
            return
        if pics.ndim == 4 and pics.shape[-1] == 1:
            pics = pics[..., 0]
        # Each thumbnail on its own 1st-99th percentile range: standardized pixels
        # (a near-constant corner pixel becomes huge) would leave a shared range dark.
        flat = pics.reshape(len(pics), -1)
        lo = np.nanpercentile(flat, 1, axis=1).reshape(-1, *([1] * (pics.ndim - 1)))
        hi = np.nanpercentile(flat, 99, axis=1).reshape(lo.shape)
        scaled = np.clip((pics - lo) / np.where(hi > lo, hi - lo, 1.0), 0, 1)
        gray = (scaled * 255).astype(np.uint8)
        if gray.ndim == 3:
            gray = np.repeat(gray[..., None], 3, axis=-1)
        count, h, w, _ = gray.shape
        row = np.full((h, count * (w + 1), 3), 255, np.uint8)
        for i in range(count):
            row[:, i * (w + 1) : i * (w + 1) + w] = gray[i]
        data = np.ascontiguousarray(row)
        self._image = QImage(
            data.data, data.shape[1], h, data.strides[0], QImage.Format.Format_RGB888
        ).copy()
        self._tile = (w, h)

    def _thumb_rect(self, i: int) -> QRect:
        return QRect(2 + i * (THUMB + 2), 2, THUMB, THUMB)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        if self._image is None:
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignVCenter, "  no images")
            return
        w, h = self._tile
        for i, index in enumerate(self.visible_indices()):
            source = QRect(i * (w + 1), 0, w, h)
            painter.drawImage(self._thumb_rect(i), self._image, source)
            if index == self.current:
                pen = QPen(self.palette().color(QPalette.ColorRole.Highlight))
                pen.setWidth(2)
                painter.setPen(pen)
                painter.drawRect(self._thumb_rect(i).adjusted(-1, -1, 1, 1))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        for i, index in enumerate(self.visible_indices()):
            if self._thumb_rect(i).contains(event.position().toPoint()):
                self.sig_sample_requested.emit(index)
                return
        super().mousePressEvent(event)


class SamplePicker(QWidget):
    """The "Sample [12]" box and the image strip, and a caption naming the
    prediction (``caption``: the panel places it where it has room).

    Signals
    -------
    sig_sample_requested(int)
        The user chose a sample (training index) by the box or the strip.
    """

    sig_sample_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None, strip: bool = True) -> None:
        super().__init__(parent)
        self.box = QSpinBox(self)
        self.box.setRange(0, 0)
        self.box.setKeyboardTracking(False)
        self.box.setToolTip("Index of the training sample shown")
        self.box.valueChanged.connect(self._on_box_value_changed)
        self.strip = SampleStrip(self)
        self.strip.sig_sample_requested.connect(self._on_strip_sample_requested)
        self.strip.setVisible(strip)
        self.caption = QLabel("")
        self.caption.setContentsMargins(6, 0, 6, 2)
        self.caption.setSizePolicy(
            QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 0)
        layout.setSpacing(6)
        layout.addWidget(QLabel("Sample", self))
        layout.addWidget(self.box)
        layout.addWidget(self.strip, 1)

    @property
    def index(self) -> int:
        """The sample shown (or asked for)."""
        return int(self.box.value())

    def set_samples(self, x: np.ndarray | None) -> None:
        """The training inputs (the strip shows them when they are images)."""
        self.box.blockSignals(True)
        self.box.setMaximum(max(0, (0 if x is None else len(x)) - 1))
        self.box.blockSignals(False)
        self.strip.set_samples(x)

    def show_sample(self, index: int, caption: str = "") -> None:
        """Reflect the sample a probe shows, without asking for it again."""
        self.box.blockSignals(True)
        self.box.setValue(int(index))
        self.box.blockSignals(False)
        self.strip.set_current(index)
        self.caption.setText(caption)
        self.caption.setToolTip(caption)

    def _on_box_value_changed(self, value: int) -> None:
        self.strip.set_current(value)
        self.sig_sample_requested.emit(int(value))

    def _on_strip_sample_requested(self, index: int) -> None:
        self.box.setValue(index)  # emits through _on_box_value_changed
