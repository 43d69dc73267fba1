"""Choosing the plane the decision boundary of a many-input network is drawn on.

A network with more than two inputs has its boundary drawn on a plane through
its input space (``nndesk.training.planes``). The chooser offers, for tabular
inputs, **two features** (the others held at the mean or at a sample's values,
each movable with its own slider) and, for any input, the **PCA plane** of the
training data and the plane **through three samples** (for images: three images,
shown as thumbnails). It makes the ``Plane`` and says so with
``sig_plane_changed``; the boundary panel projects its points on it and the
worker computes the grid on it.

The held features' sliders are a table beside the map (``sliders``: each
feature's name and value over a slider as wide as the table, scrolling when
there are many) and, when that table is folded away in a narrow dock (the
Decision Boundary dock at 1280x800 is 250 px wide), one compact row under the
plane controls: the held feature to move, chosen in a box, and its slider
(``set_compact``). Both move the same values.

``choice()`` is the choice as plain data (what ``view.json`` keeps,
``nndesk.io.view_state``) and ``restore(choice)`` brings one back with the next
data; a choice that does not fit them gives the default plane and one sentence.
``sig_choice_edited`` says the user changed the choice (the window counts it as
an unsaved change).
"""

from __future__ import annotations

import logging
from typing import Any

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

log = logging.getLogger(__name__)

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
    sig_choice_edited()
        The user changed the choice (``set_data`` and ``restore`` do not say it).
    """

    sig_plane_changed = Signal(object)
    sig_choice_edited = Signal()

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
        self._pending: dict[str, Any] | None = None  # a choice for the next data
        self.notice = ""  # why a restored choice was not taken
        self.restored_from = "The plane saved with the network"
        """Where ``restore``'s choices come from, as a message names it."""
        self._fresh = False  # the data came after the last ``forget``
        # The choice for the data before, kept for the next of the same document.
        self._carry: tuple[dict[str, Any] | None, np.ndarray | None] = (None, None)
        self.compact = False
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

        # The held features' sliders when their table is folded away: one feature
        # at a time, chosen in the box, its slider taking the rest of the row.
        self.move_row = QWidget(self)
        move = QHBoxLayout(self.move_row)
        move.setContentsMargins(0, 0, 0, 0)
        move.setSpacing(4)
        self.move_box = compact_combo(QComboBox(self.move_row), 5)
        self.move_box.setToolTip("The held feature the slider beside moves")
        self.move_slider = QSlider(Qt.Orientation.Horizontal, self.move_row)
        self.move_slider.setRange(0, SLIDER_STEPS)
        self.move_slider.setMinimumWidth(60)
        self.move_slider.setToolTip("Move the chosen held feature")
        self.move_value = QLabel("", self.move_row)
        self.move_value.setMinimumWidth(
            self.move_value.fontMetrics().horizontalAdvance("-0.000")
        )
        move.addWidget(self.move_box)
        move.addWidget(self.move_slider, 1)
        move.addWidget(self.move_value)
        self.move_row.hide()
        layout.addWidget(self.move_row)
        self.move_box.currentIndexChanged.connect(self._on_move_box_changed)
        self.move_slider.valueChanged.connect(self._on_move_slider_moved)

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
        self._slider_grid.setVerticalSpacing(0)
        self._slider_grid.setColumnStretch(0, 1)
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
        the plane's extent; default all). The same data keep the choice made;
        new data of the same document (the network edited, the data reloaded)
        keep it too where it fits them (the held values only on equal data)."""
        self._keep_choice()
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
            carry, old = self._carry
            self._carry = (None, None)
            self._reset_choice()
            if self._pending is not None:
                self._apply(self._pending)
                self._pending = None
            elif carry is not None and self._fresh:
                if "held_values" in carry and not _same_data(old, x):
                    del carry["held_values"]  # other values: the mean or sample's
                if not self._apply(carry):
                    self.notice = ""  # the data changed: the default, unsaid
            self._fresh = True
        self._update_plane()

    def _keep_choice(self) -> None:
        """Note the choice made for the data shown before other data replace them."""
        if self._x is not None and self._fresh and self._pending is None:
            choice = self.choice()
            # The data are kept only to compare held values (a table's, small).
            held = choice is not None and "held_values" in choice
            self._carry = (choice, self._x if held else None)

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
        self._slider_grid.addWidget(QLabel("Held features", self._slider_host), 0, 0)
        self._slider_grid.addWidget(self.reset_button, 0, 1)
        # Two lines a feature: its name and value, then a slider the table's
        # width (beside them it was 40 px of a 165 px table at 1920x1080).
        for i, name in enumerate(names[:MAX_SLIDERS]):
            label = QLabel(name, self._slider_host)
            label.setToolTip(name)
            slider = QSlider(Qt.Orientation.Horizontal, self._slider_host)
            slider.setRange(0, SLIDER_STEPS)
            slider.setMinimumWidth(60)
            slider.setToolTip(f"Hold {name} at another value")
            value = QLabel("", self._slider_host)
            value.setAlignment(Qt.AlignmentFlag.AlignRight)
            value.setMinimumWidth(value.fontMetrics().horizontalAdvance("-0.000"))
            slider.valueChanged.connect(self._on_slider_moved)
            self._slider_grid.addWidget(label, 2 * i + 1, 0)
            self._slider_grid.addWidget(value, 2 * i + 1, 1)
            self._slider_grid.addWidget(slider, 2 * i + 2, 0, 1, 2)
            self.slider_rows.append((label, slider, value))
        last = 2 * len(self.slider_rows) + 1
        if len(names) > MAX_SLIDERS:
            more = QLabel(
                f"The other {len(names) - MAX_SLIDERS} features stay at their value.",
                self._slider_host,
            )
            more.setWordWrap(True)
            self._slider_grid.addWidget(more, last, 0, 1, 2)
            last += 1
        self._slider_grid.setRowStretch(last, 1)
        self.move_box.blockSignals(True)
        self.move_box.clear()
        for i, (label, _, _) in enumerate(self.slider_rows):
            self.move_box.addItem(label.text(), i)
        self.move_box.blockSignals(False)
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
        self._sync_move()
        self._timer.start()
        self.sig_choice_edited.emit()

    # --- the compact row ------------------------------------------------------------------
    def set_compact(self, compact: bool) -> None:
        """Show the held features' sliders as one compact row (True: their table
        is folded away) or in the table only."""
        self.compact = bool(compact)
        self._show_move_row()

    def _show_move_row(self) -> None:
        features = self._x is not None and self.mode == "features"
        self.move_row.setVisible(self.compact and features and bool(self.slider_rows))

    def _on_move_box_changed(self, _index: int) -> None:
        self._sync_move()

    def _on_move_slider_moved(self, value: int) -> None:
        feature = self.move_box.currentData()
        if self._building or feature is None or feature >= len(self.slider_rows):
            return
        self.slider_rows[int(feature)][1].setValue(value)  # moves the plane

    def _sync_move(self) -> None:
        """The compact row to the chosen feature's slider and value."""
        feature = self.move_box.currentData()
        if feature is None or feature >= len(self.slider_rows):
            self.move_value.setText("")
            return
        _, slider, value = self.slider_rows[int(feature)]
        self.move_slider.blockSignals(True)
        self.move_slider.setValue(slider.value())
        self.move_slider.blockSignals(False)
        self.move_slider.setEnabled(slider.isEnabled())
        self.move_value.setText(value.text())

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
            # The compact row offers the held features only: the axes move nothing.
            model = self.move_box.model()
            for i in range(self.move_box.count()):
                item = model.item(i)  # type: ignore[attr-defined]
                item.setEnabled(i not in (first, second))
            current = self.move_box.currentIndex()
            if current in (first, second) or current < 0:
                free = [
                    i for i in range(self.move_box.count()) if i not in (first, second)
                ]
                if free:
                    self.move_box.setCurrentIndex(free[0])
        finally:
            self._building = False
        self._sync_move()

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
        self.sig_choice_edited.emit()

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
        self.sig_choice_edited.emit()

    # --- the choice as data ---------------------------------------------------------------
    def choice(self) -> dict[str, Any] | None:
        """The choice as plain data (``view.json``'s ``boundary_plane``), None for
        the default plane or no data; a restored choice still waiting for its data
        is returned as it is (Save keeps it)."""
        if self._pending is not None:
            return dict(self._pending)
        info = self.info
        if self._x is None or info is None or self.mode_box.count() == 0:
            return None
        mode = self.mode
        out: dict[str, Any] = {"mode": mode}
        if mode == "features":
            out["features"] = [self.x_box.currentIndex(), self.y_box.currentIndex()]
            sample = self.held_box.currentIndex() == 1
            out["held"] = "sample" if sample else "mean"
            if sample:
                out["held_sample"] = self.held_sample.value()
            source = self._held_source()
            if len(self._held) == len(source) and not np.allclose(
                self._held, source, rtol=0.0, atol=1e-12
            ):
                out["held_values"] = [float(v) for v in self._held]
        elif mode == "points":
            out["points"] = [box.value() for box in self.point_boxes]
        default = (
            {"mode": "features", "features": [0, 1], "held": "mean"}
            if info.is_tabular
            else {"mode": "pca"}
        )
        return None if out == default else out

    def forget(self) -> None:
        """Another document: the data the chooser has are on their way out (a
        choice restored now waits for the next data)."""
        self._pending = None
        self._fresh = False
        self._carry = (None, None)

    def restore(self, choice: dict[str, Any] | None) -> None:
        """Take ``choice`` (``choice()``'s form, from a file) with the data of the
        document it came with: now if they came after ``forget``, else with the
        next (``set_data``); None: the default plane. A choice that does not fit
        the data gives the default plane and one sentence under the map."""
        self.notice = ""
        if choice and self._x is not None and self._fresh:
            self._pending = None
            self.apply_choice(dict(choice))
            return
        self._pending = dict(choice) if choice else None

    def say(self, notice: str) -> None:
        """Show ``notice`` under the map (why a saved plane was not taken): now
        for the document's data, else with the next plane made."""
        self.notice = notice
        if self._x is not None and self._fresh:
            self.message.setText(notice)
            self.message.setVisible(bool(notice))
            self.notice = ""

    def apply_choice(self, choice: dict[str, Any]) -> bool:
        """Take ``choice`` now, for the data the chooser has; False (the default
        plane, and the sentence why under the map) when it does not fit them."""
        if self._x is None:
            self.restore(choice)
            return True
        self._reset_choice()
        ok = self._apply(choice)
        self._update_plane()
        return ok

    def _apply(self, choice: dict[str, Any]) -> bool:
        """Set the widgets to ``choice`` (after ``_reset_choice``); the default
        plane and ``notice`` when it does not fit the data."""
        x, info = self._x, self.info
        assert x is not None and info is not None
        try:
            self._check_fits(choice, x, info)
        except NNDeskError as exc:
            self.notice = str(exc)
            log.info("plane choice not restored: %s", exc)
            return False
        self._building = True
        try:
            mode = choice.get("mode", "features")
            self.mode_box.setCurrentIndex(self.mode_box.findData(mode))
            if "features" in choice:
                self.x_box.setCurrentIndex(int(choice["features"][0]))
                self.y_box.setCurrentIndex(int(choice["features"][1]))
            self.held_box.setCurrentIndex(1 if choice.get("held") == "sample" else 0)
            self.held_sample.setValue(int(choice.get("held_sample", 0)))
            if "points" in choice:
                for box, index in zip(self.point_boxes, choice["points"], strict=True):
                    box.setValue(int(index))
            if info.is_tabular:
                values = choice.get("held_values")
                self._held = (
                    np.asarray(values, dtype=np.float64)
                    if values is not None
                    else self._held_source()
                )
        finally:
            self._building = False
        if info.is_tabular:
            self._show_held()
        return True

    def _check_fits(self, choice: dict[str, Any], x: np.ndarray, info: Any) -> None:
        """Refuse a choice these data cannot show, in one sentence."""
        n, d = len(x), int(np.prod(x.shape[1:], dtype=np.int64))
        mode = choice.get("mode", "features")
        said = self.restored_from
        fallback = "the default plane is shown."
        if mode not in [
            self.mode_box.itemData(i) for i in range(self.mode_box.count())
        ]:
            raise NNDeskError(
                f"{said} is of two features, but these inputs are not a table of "
                f"features; {fallback}"
            )
        for feature in choice.get("features", ()) if mode == "features" else ():
            if not 0 <= int(feature) < d:
                raise NNDeskError(
                    f"{said} uses feature {int(feature)}, but the data have "
                    f"{d} features (0 to {d - 1}); {fallback}"
                )
        samples = list(choice.get("points", ())) if mode == "points" else []
        if mode == "features" and choice.get("held") == "sample":
            samples.append(choice.get("held_sample", 0))
        for sample in samples:
            if not 0 <= int(sample) < n:
                raise NNDeskError(
                    f"{said} uses training sample {int(sample)}, but the data have "
                    f"{n} samples (0 to {n - 1}); {fallback}"
                )
        values = choice.get("held_values")
        if mode == "features" and values is not None and len(values) != d:
            raise NNDeskError(
                f"{said} holds {len(values)} feature values, but the data have "
                f"{d} features; {fallback}"
            )

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
        self._show_move_row()
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
        self.message.setText(self.notice)
        self.message.setVisible(bool(self.notice))
        self.notice = ""  # said once: the next choice clears it
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


def _same_data(a: np.ndarray | None, b: np.ndarray) -> bool:
    """Whether ``a`` holds exactly the values of ``b``."""
    return a is not None and a.shape == b.shape and bool(np.array_equal(a, b))


def _class_labels(y: np.ndarray, info: ModelInfo) -> np.ndarray | None:
    """``(n,)`` class of each target row (None for regression)."""
    if info.task != "classification":
        return None
    rows = np.asarray(y).reshape(len(y), -1)
    if rows.shape[1] > 1:
        return rows.argmax(axis=1)
    return np.rint(rows[:, 0]).astype(np.int64)
