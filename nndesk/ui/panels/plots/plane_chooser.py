"""Choosing the plane the decision boundary of a many-input network is drawn on.

A network with more than two inputs has its boundary drawn on a plane through
its input space (``nndesk.training.planes``). The chooser offers, for tabular
inputs, **two features** (the others held at the mean or at a sample's values,
each movable with its own slider) and, for any input, the **PCA plane** of the
training data and the plane **through three samples** (for images: three images,
shown as thumbnails). It makes the ``Plane`` and says so with
``sig_plane_changed``; the boundary panel projects its points on it and the
worker computes the grid on it.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nndesk.engine.errors import NNDeskError
from nndesk.training import planes
from nndesk.ui.training.probes import ModelInfo

from .sample_picker import compact_combo

__all__ = ["MAX_SLIDERS", "PlaneChooser", "thumbnail"]

MAX_SLIDERS = 100
"""Held features with a slider (the first ones; tabular data rarely has more)."""
SLIDER_STEPS = 200
THUMB = 40
"""Edge of a three-image thumbnail in pixels."""
DELAY_MS = 40
"""A slider dragged makes a plane at most this often (the preview redraws each)."""
LETTERS = ("A", "B", "C")

_MODES = {
    "features": "Two features",
    "pca": "PCA plane",
    "points": "Three samples",
}


def thumbnail(image: np.ndarray, edge: int = THUMB) -> QPixmap:
    """A picture of one image sample (``(h, w)``, ``(h, w, 1)`` or ``(h, w, 3)``, any
    scale: stretched to its own range) as a pixmap ``edge`` pixels wide."""
    a = np.asarray(image, dtype=np.float64)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
    g = np.ascontiguousarray(
        np.clip((a - lo) / ((hi - lo) or 1.0) * 255, 0, 255).astype(np.uint8)
    )
    h, w = g.shape[:2]
    if g.ndim == 3:
        rgb = np.ascontiguousarray(g[..., :3])
        qimage = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    else:
        qimage = QImage(g.data, w, h, w, QImage.Format.Format_Grayscale8)
    return QPixmap.fromImage(qimage.copy()).scaled(
        QSize(edge, edge),
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.FastTransformation,
    )


class PlaneChooser(QWidget):
    """The plane controls above the decision boundary, and the held-feature sliders.

    Call ``set_data(info, x, y, shown)`` with the training data as the network sees
    it; ``plane`` is then the plane chosen (None when the inputs take none).
    ``sliders`` is a separate widget (the panel puts it beside the map).

    Signals
    -------
    sig_plane_changed(object)
        The new ``Plane`` (or None).
    """

    sig_plane_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plane: planes.Plane | None = None
        self.error = ""
        self.info: ModelInfo | None = None
        self._x: np.ndarray | None = None
        self._labels: np.ndarray | None = None
        self._shown: np.ndarray | None = None  # the points that set the extent
        self._key: tuple[int, int, tuple[int, ...]] | None = None
        self._mean: np.ndarray | None = None
        self._pca: planes.Plane | None = None
        self._held = np.zeros(0)
        self._lo = self._hi = np.zeros(0)
        self._building = False
        self._next_pick = 0  # the slot a clicked point fills next
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DELAY_MS)
        self._timer.timeout.connect(self._update_plane)
        self._build()
        self.setVisible(False)

    # --- widgets --------------------------------------------------------------------------
    def _build(self) -> None:
        # Everything fits a 250 px wide panel (the Decision Boundary dock at
        # 1280x800): the mode box goes in the panel's top row (``mode_box``), the
        # feature boxes have no labels (the map's axes are named after them), the
        # three samples stack their thumbnail over their index.
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(2)
        self.mode_box = compact_combo(QComboBox(self), 7)
        self.mode_box.setToolTip(
            "The plane of the input space the boundary is drawn on: two features "
            "(the others held), the two principal components of the training "
            "data, or the plane through three samples"
        )
        self.mode_box.hide()
        self.features_row = QWidget(self)
        first = QHBoxLayout(self.features_row)
        first.setContentsMargins(0, 0, 0, 0)
        first.setSpacing(4)
        self.x_box = compact_combo(QComboBox(self.features_row), 4)
        self.y_box = compact_combo(QComboBox(self.features_row), 4)
        self.x_box.setToolTip("The feature along the map's horizontal axis")
        self.y_box.setToolTip("The feature along the map's vertical axis")
        for w in (self.x_box, QLabel("against", self.features_row), self.y_box):
            first.addWidget(w)
        first.addStretch(1)
        layout.addWidget(self.features_row)

        self.held_row = QWidget(self)
        held = QHBoxLayout(self.held_row)
        held.setContentsMargins(0, 0, 0, 0)
        held.setSpacing(4)
        self.held_box = compact_combo(QComboBox(self.held_row), 5)
        self.held_box.addItems(["the mean", "a sample"])
        self.held_box.setToolTip(
            "What the other features are held at (move each with its slider)"
        )
        self.held_sample = QSpinBox(self.held_row)
        self.held_sample.setToolTip("The training sample whose values are held")
        for w in (QLabel("others at", self.held_row), self.held_box, self.held_sample):
            held.addWidget(w)
        held.addStretch(1)
        layout.addWidget(self.held_row)

        self.points_row = QWidget(self)
        row = QHBoxLayout(self.points_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        self.point_boxes: list[QSpinBox] = []
        self.thumbs: list[QLabel] = []
        for letter in LETTERS:
            slot = QVBoxLayout()
            slot.setSpacing(1)
            box = QSpinBox(self.points_row)
            box.setPrefix(f"{letter} ")
            box.setToolTip(
                f"The training sample {letter} of the plane (or click points on "
                "the map: they become A, B and C in turn)"
            )
            thumb = QLabel(self.points_row)
            thumb.setFixedSize(THUMB, THUMB)
            thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
            slot.addWidget(thumb, 0, Qt.AlignmentFlag.AlignHCenter)
            slot.addWidget(box)
            row.addLayout(slot)
            self.point_boxes.append(box)
            self.thumbs.append(thumb)
            box.valueChanged.connect(self._on_choice_changed)
        row.addStretch(1)
        layout.addWidget(self.points_row)

        self.message = QLabel("", self)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c0392b;")
        self.message.hide()
        layout.addWidget(self.message)

        self.sliders = QScrollArea()
        self.sliders.setWidgetResizable(True)
        self.sliders.setMinimumWidth(120)
        self._slider_host = QWidget()
        self._slider_grid = QGridLayout(self._slider_host)
        self._slider_grid.setContentsMargins(4, 4, 4, 4)
        self._slider_grid.setVerticalSpacing(2)
        self.reset_button = QToolButton(self._slider_host)
        self.reset_button.setText("Reset")
        self.reset_button.setToolTip("Put the moved sliders back")
        self.sliders.setWidget(self._slider_host)
        self.sliders.hide()
        self.slider_rows: list[tuple[QLabel, QSlider, QLabel]] = []

        self.mode_box.currentIndexChanged.connect(self._on_choice_changed)
        self.x_box.currentIndexChanged.connect(self._on_choice_changed)
        self.y_box.currentIndexChanged.connect(self._on_choice_changed)
        self.held_box.currentIndexChanged.connect(self._on_held_source_changed)
        self.held_sample.valueChanged.connect(self._on_held_source_changed)
        self.reset_button.clicked.connect(self._on_held_source_changed)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    @property
    def mode(self) -> str:
        """``"features"``, ``"pca"`` or ``"points"``."""
        return str(self.mode_box.currentData() or "pca")

    # --- data -----------------------------------------------------------------------------
    def set_data(
        self,
        info: ModelInfo | None,
        x: np.ndarray | None,
        y: np.ndarray | None,
        shown: np.ndarray | None = None,
    ) -> None:
        """The network's description and its training data ``(n, *input_shape)``
        with their targets; ``shown``: the indices of the points drawn (they set
        the plane's extent; default all). The same data keep the choice made."""
        takes = (
            info is not None
            and info.takes_planes
            and x is not None
            and len(x) >= 3
            and tuple(x.shape[1:]) == tuple(info.input_shape)
        )
        self.setVisible(takes)
        self.mode_box.setVisible(takes)
        if not takes or x is None or info is None:
            self.info = self._x = None
            self._key = None
            self.sliders.hide()
            self._set_plane(None)
            return
        key = (id(x), len(x), tuple(info.input_shape))
        self.info, self._x = info, x
        self._labels = _class_labels(y, info) if y is not None else None
        self._shown = (
            np.arange(len(x)) if shown is None else np.asarray(shown, dtype=np.int64)
        )
        if key != self._key or self.mode_box.count() == 0:
            self._key = key
            self._reset_choice()
        self._update_plane()

    def _reset_choice(self) -> None:
        """Choices for new data: the modes its inputs take, the first two features
        at the mean (tabular) or the PCA plane (images), three samples of three
        classes."""
        info, x = self.info, self._x
        assert info is not None and x is not None
        self._building = True
        try:
            self._mean, self._pca = None, None
            flat = x.reshape(len(x), -1)
            d = flat.shape[1]
            modes = ["pca", "points"] if not info.is_tabular else list(_MODES)
            self.mode_box.clear()
            for mode in modes:
                text = _MODES[mode]
                if mode == "points" and info.is_image:
                    text = "Three images"
                self.mode_box.addItem(text, mode)
            self.mode_box.setCurrentIndex(
                modes.index("features" if info.is_tabular else "pca")
            )
            names = [
                info.feature_names[i] if i < len(info.feature_names) else f"feature {i}"
                for i in range(d)
            ]
            for box, pick in ((self.x_box, 0), (self.y_box, 1)):
                box.clear()
                if info.is_tabular:
                    box.addItems(names)
                    box.setCurrentIndex(pick)
            for box in (*self.point_boxes, self.held_sample):
                box.setRange(0, len(x) - 1)
            for box, index in zip(
                self.point_boxes, self._three_defaults(), strict=True
            ):
                box.setValue(index)
            self.held_sample.setValue(0)
            self.held_box.setCurrentIndex(0)
            if info.is_tabular:
                self._lo = flat.min(axis=0).astype(np.float64)
                self._hi = flat.max(axis=0).astype(np.float64)
                self._held = self._held_source()
                self._make_sliders(names)
        finally:
            self._building = False

    def _three_defaults(self) -> list[int]:
        """The first samples of three different classes (0, 1, 2 without)."""
        labels = self._labels
        if labels is None or len(labels) < 3:
            return [0, 1, 2]
        _, first = np.unique(labels, return_index=True)
        first = sorted(int(i) for i in first)
        picked = first[:3]
        for i in range(len(labels)):
            if len(picked) == 3:
                break
            if i not in picked:
                picked.append(i)
        return picked

    def _make_sliders(self, names: list[str]) -> None:
        while self._slider_grid.count():
            item = self._slider_grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None and widget is not self.reset_button:
                widget.deleteLater()
        self.slider_rows = []
        self._slider_grid.addWidget(
            QLabel("Held features", self._slider_host), 0, 0, 1, 2
        )
        self._slider_grid.addWidget(self.reset_button, 0, 2)
        for i, name in enumerate(names[:MAX_SLIDERS], start=1):
            label = QLabel(name, self._slider_host)
            slider = QSlider(Qt.Orientation.Horizontal, self._slider_host)
            slider.setRange(0, SLIDER_STEPS)
            slider.setMinimumWidth(40)
            value = QLabel("", self._slider_host)
            value.setMinimumWidth(value.fontMetrics().horizontalAdvance("-0.000"))
            slider.valueChanged.connect(self._on_slider_moved)
            self._slider_grid.addWidget(label, i, 0)
            self._slider_grid.addWidget(slider, i, 1)
            self._slider_grid.addWidget(value, i, 2)
            self.slider_rows.append((label, slider, value))
        if len(names) > MAX_SLIDERS:
            more = QLabel(
                f"The other {len(names) - MAX_SLIDERS} features stay at their value.",
                self._slider_host,
            )
            more.setWordWrap(True)
            self._slider_grid.addWidget(more, MAX_SLIDERS + 1, 0, 1, 3)
        self._slider_grid.setRowStretch(len(self.slider_rows) + 2, 1)
        self._show_held()

    # --- choices --------------------------------------------------------------------------
    def _held_source(self) -> np.ndarray:
        """The held values the sliders start from: the mean or the chosen sample."""
        assert self._x is not None
        if self.held_box.currentIndex() == 1:
            return self._x[self.held_sample.value()].reshape(-1).astype(np.float64)
        return self._data_mean().copy()

    def _data_mean(self) -> np.ndarray:
        assert self._x is not None
        if self._mean is None:
            self._mean = self._x.reshape(len(self._x), -1).mean(
                axis=0, dtype=np.float64
            )
        return self._mean

    def set_held_value(self, feature: int, value: float) -> None:
        """Hold ``feature`` at ``value`` (what its slider does; clipped to it)."""
        if feature >= len(self.slider_rows):
            self._held[feature] = float(value)
            self._timer.start()
            return
        slider = self.slider_rows[feature][1]
        lo, hi = self._lo[feature], self._hi[feature]
        step = round((float(value) - lo) / ((hi - lo) or 1.0) * SLIDER_STEPS)
        slider.setValue(int(np.clip(step, 0, SLIDER_STEPS)))

    def _on_slider_moved(self, _value: int) -> None:
        if self._building:
            return
        for i, (_, slider, label) in enumerate(self.slider_rows):
            if self.sender() is slider:
                lo, hi = self._lo[i], self._hi[i]
                self._held[i] = lo + (hi - lo) * slider.value() / SLIDER_STEPS
                label.setText(self._held_text(i))
        self._timer.start()

    def _show_held(self) -> None:
        """Sliders and value labels to the held values (no plane made here)."""
        self._building = True
        try:
            first, second = self.x_box.currentIndex(), self.y_box.currentIndex()
            for i, (name, slider, label) in enumerate(self.slider_rows):
                lo, hi = self._lo[i], self._hi[i]
                step = (self._held[i] - lo) / ((hi - lo) or 1.0) * SLIDER_STEPS
                slider.setValue(int(np.clip(round(step), 0, SLIDER_STEPS)))
                on_axis = i in (first, second)
                slider.setEnabled(not on_axis)
                name.setEnabled(not on_axis)
                label.setText("axis" if on_axis else self._held_text(i))
        finally:
            self._building = False

    def _held_text(self, feature: int) -> str:
        """A held value to the slider's resolution (a mean of standardised data,
        -7.4e-09, reads 0)."""
        step = (self._hi[feature] - self._lo[feature]) / SLIDER_STEPS or 1.0
        value = round(self._held[feature] / step) * step
        return f"{value:.3g}" if abs(value) >= step / 2 else "0"

    def _on_held_source_changed(self, *_args: object) -> None:
        if self._building or self._x is None:
            return
        self.held_sample.setEnabled(self.held_box.currentIndex() == 1)
        self._held = self._held_source()
        self._show_held()
        self._timer.start()

    def pick_sample(self, index: int) -> None:
        """Make training sample ``index`` the next of A, B and C (in turn: a click
        on the map's points picks them)."""
        box = self.point_boxes[self._next_pick]
        self._next_pick = (self._next_pick + 1) % len(self.point_boxes)
        box.setValue(int(index))

    def _on_choice_changed(self, *_args: object) -> None:
        if self._building or self._x is None:
            return
        self._show_held()
        self._timer.start()

    # --- the plane ------------------------------------------------------------------------
    def _update_plane(self) -> None:
        """Make the plane chosen now (a refused choice keeps the last plane and
        says why)."""
        self._timer.stop()
        if self._x is None or self.info is None:
            return
        mode = self.mode
        features = mode == "features"
        for w in (self.features_row, self.held_row):
            w.setVisible(features)
        self.held_sample.setEnabled(self.held_box.currentIndex() == 1)
        self.sliders.setVisible(features and bool(self.slider_rows))
        self.points_row.setVisible(mode == "points")
        if mode == "points":
            self._show_thumbs()
        try:
            plane = self._make_plane(mode)
        except NNDeskError as exc:
            self.error = str(exc)
            self.message.setText(self.error)
            self.message.show()
            return
        self.error = ""
        self.message.hide()
        self._set_plane(plane)

    def _make_plane(self, mode: str) -> planes.Plane:
        x, info = self._x, self.info
        assert x is not None and info is not None
        shown = x[self._shown] if self._shown is not None else x
        if mode == "pca":
            if self._pca is None:
                self._pca = planes.pca_plane(x)
            return self._pca
        if mode == "points":
            a, b, c = (x[box.value()] for box in self.point_boxes)
            names = [
                self._sample_name(box.value(), k)
                for k, box in enumerate(self.point_boxes)
            ]
            return planes.three_point_plane(a, b, c, names, points=shown)
        names = [self.x_box.itemText(i) for i in range(self.x_box.count())]
        return planes.feature_plane(
            self._held.reshape(info.input_shape),
            self.x_box.currentIndex(),
            self.y_box.currentIndex(),
            names,
            points=shown,
        )

    def _sample_name(self, index: int, k: int) -> str:
        return f"{LETTERS[k]} (sample {index})"

    def _show_thumbs(self) -> None:
        x, info = self._x, self.info
        assert x is not None and info is not None
        for k, (box, thumb) in enumerate(
            zip(self.point_boxes, self.thumbs, strict=True)
        ):
            index = box.value()
            caption = f"{LETTERS[k]}: sample {index}"
            if self._labels is not None and info.class_names:
                label = int(self._labels[index])
                if label < len(info.class_names):
                    caption += f" · {info.class_names[label]}"
            thumb.setToolTip(caption)
            box.setToolTip(caption)
            if info.is_image:
                thumb.setPixmap(thumbnail(x[index]))
                thumb.show()
            else:
                thumb.hide()

    def _set_plane(self, plane: planes.Plane | None) -> None:
        if plane is self.plane:
            return
        self.plane = plane
        self.sig_plane_changed.emit(plane)


def _class_labels(y: np.ndarray, info: ModelInfo) -> np.ndarray | None:
    """``(n,)`` class of each target row (None for regression)."""
    if info.task != "classification":
        return None
    rows = np.asarray(y).reshape(len(y), -1)
    if rows.shape[1] > 1:
        return rows.argmax(axis=1)
    return np.rint(rows[:, 0]).astype(np.int64)
