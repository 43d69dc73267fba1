"""Saliency: which pixels of the chosen sample the chosen class depends on.

Four methods, all computed in the training thread by ``training.explain`` for every
class at each probe (so switching here never waits): the vanilla gradient, gradient
× input (signed: orange raises the class score, blue lowers it), SmoothGrad, and
Grad-CAM on a chosen convolution or pooling layer. Layers where Grad-CAM cannot
work (a 1×1 map) are greyed out in the layer list, with the reason as tooltip.
The sample is on the left, the map on its own and over the sample on the right.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from nndesk.training import explain
from nndesk.ui.training.probes import ModelInfo, ProbeResult

from ..combo import ElidingComboBox
from .base import PlotPanel, diverging_lut
from .sample_picker import (
    SamplePicker,
    compact_combo,
    heat_lut,
    notice_label,
    prediction_text,
    to_rgba,
)

__all__ = ["METHODS", "SaliencyPanel"]

METHODS = {
    "vanilla": "Gradient",
    "grad_x_input": "Gradient × input",
    "smooth": "SmoothGrad",
    "grad_cam": "Grad-CAM",
}
PREDICTED, TRUE = -1, -2
"""Class choices that follow the sample: its predicted and its true class."""
OVERLAY_ALPHA = 0.6


class SaliencyPanel(PlotPanel):
    """Saliency maps of the chosen sample for a chosen class.

    Signals
    -------
    sig_sample_requested(int)
        The user chose another sample (training index).
    """

    sig_sample_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Saliency", parent)
        self.picker = SamplePicker(self)
        self.picker.sig_sample_requested.connect(self.sig_sample_requested)
        # Named to the end with "…" when cut: at 1280x800 two 12-letter boxes set
        # the width of the whole tab group of the Decision Boundary (368 px).
        self.method_box = ElidingComboBox(self)
        for key, label in METHODS.items():
            self.method_box.addItem(label, key)
        self.method_box.setToolTip("How the map is computed")
        self.class_box = ElidingComboBox(self)
        self.class_box.setToolTip("The class whose score the map explains")
        self.layer_box = ElidingComboBox(self)
        self.layer_box.setToolTip("The layer Grad-CAM weighs the maps of")
        for box in (self.method_box, self.class_box, self.layer_box):
            compact_combo(box, 7)
            box.currentIndexChanged.connect(self._on_choice_changed)
        # A row of its own: the strip shows as many samples as the dock is wide.
        self.layout().insertWidget(0, self.picker)
        self.controls.insertWidget(0, self.method_box)
        self.controls.insertWidget(1, self.class_box)
        self.controls.insertWidget(2, self.layer_box)
        self.notice = notice_label(self)
        self.layout().addWidget(self.notice)
        self.status = QLabel("", self)
        self.status.setContentsMargins(6, 0, 6, 2)
        self.status.setWordWrap(True)
        bottom = QHBoxLayout()
        bottom.addWidget(self.picker.caption, 3)
        bottom.addWidget(self.status, 2)
        self.layout().addLayout(bottom)
        self.info: ModelInfo | None = None
        self.probe: ProbeResult | None = None
        self.shown: np.ndarray | None = None  # the map drawn, at its resolution
        self._heat, self._signed = heat_lut(), diverging_lut()
        self._build_plots()
        self.set_structure(None)

    def _build_plots(self) -> None:
        self.plots: list[pg.PlotItem] = []
        for col, title in enumerate(("sample", "map", "overlay")):
            plot = self.graphics.addPlot(row=0, col=col, title=title)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.invertY(True)
            plot.setAspectLocked(True)
            plot.hideAxis("left")
            plot.hideAxis("bottom")
            self.plots.append(plot)
            # Equal columns: by default a longer title makes its column wider.
            self.graphics.ci.layout.setColumnStretchFactor(col, 1)
        self.sample_image = pg.ImageItem(axisOrder="row-major")
        self.map_image = pg.ImageItem(axisOrder="row-major")
        self.under_image = pg.ImageItem(axisOrder="row-major")
        self.over_image = pg.ImageItem(axisOrder="row-major")
        self.over_image.setOpacity(OVERLAY_ALPHA)
        self.plots[0].addItem(self.sample_image)
        self.plots[1].addItem(self.map_image)
        self.plots[2].addItem(self.under_image)
        self.plots[2].addItem(self.over_image)
        self._apply_palette()

    # --- choices ------------------------------------------------------------------------------
    @property
    def method(self) -> str:
        """``"vanilla"``, ``"grad_x_input"``, ``"smooth"`` or ``"grad_cam"``."""
        return str(self.method_box.currentData())

    def set_method(self, method: str) -> None:
        """Choose the method (as the user would)."""
        self.method_box.setCurrentIndex(list(METHODS).index(method))

    @property
    def layer(self) -> str:
        """The Grad-CAM layer ("" when none can be used)."""
        return str(self.layer_box.currentData() or "")

    def layer_enabled(self, name: str) -> bool:
        """Whether the Grad-CAM list offers ``name`` (False: greyed out)."""
        model = self.layer_box.model()
        assert isinstance(model, QStandardItemModel)
        row = self.layer_box.findData(name)
        return row >= 0 and model.item(row).isEnabled()

    def set_layer(self, name: str) -> None:
        """Choose the Grad-CAM layer (refused, as in the list, when greyed out)."""
        if self.layer_enabled(name):
            self.layer_box.setCurrentIndex(self.layer_box.findData(name))

    def set_class(self, choice: int) -> None:
        """Choose the class: an index, ``PREDICTED`` or ``TRUE``."""
        self.class_box.setCurrentIndex(self.class_box.findData(choice))

    def _on_choice_changed(self, _index: int) -> None:
        self.layer_box.setVisible(
            self.method == "grad_cam" and self.splitter.isVisibleTo(self)
        )
        self.schedule_redraw()

    # --- structure ----------------------------------------------------------------------------
    def set_structure(
        self, info: ModelInfo | None, x: np.ndarray | None = None
    ) -> None:
        """Offer the classes and the Grad-CAM layers of ``info``."""
        self.info, self.probe, self.shown = info, None, None
        self.picker.set_samples(x)
        for box in (self.class_box, self.layer_box):
            box.blockSignals(True)
            box.clear()
        try:
            if info is None:
                self._say("No network yet: draw one and choose its data.")
                return
            if not info.is_image:
                self._say(
                    "Saliency maps need image inputs (height, width[, channels]); "
                    f"this network takes {tuple(info.input_shape)}."
                )
                return
            self._say("")
            self.class_box.addItem("Predicted class", PREDICTED)
            if info.task == "classification":
                self.class_box.addItem("True class", TRUE)
            k = explain.class_count(info.output.units, info.task)
            names = info.class_names if len(info.class_names) == k else ()
            for c in range(k):
                label = (
                    names[c]
                    if names
                    else (
                        f"class {c}" if info.task == "classification" else f"output {c}"
                    )
                )
                self.class_box.addItem(label, c)
            self._fill_layers(info)
        finally:
            for box in (self.class_box, self.layer_box):
                box.blockSignals(False)
            self._on_choice_changed(0)

    def _fill_layers(self, info: ModelInfo) -> None:
        model = self.layer_box.model()
        assert isinstance(model, QStandardItemModel)
        usable = -1
        for column in info.spatial:
            problem = explain.gradcam_problem(column.shape)
            h, w, c = column.shape
            self.layer_box.addItem(f"{column.name} ({h}×{w}×{c})", column.name)
            item = model.item(self.layer_box.count() - 1)
            if problem is None:
                usable = self.layer_box.count() - 1  # the last usable: most semantic
                item.setToolTip(f"Grad-CAM on {column.name}")
            else:
                item.setEnabled(False)
                item.setToolTip(f"{column.name}: {problem}")
        if self.layer_box.count() == 0:
            self.layer_box.addItem("no convolution layer", "")
            model.item(0).setEnabled(False)
            model.item(0).setToolTip("Grad-CAM needs a convolution or pooling layer.")
        elif usable >= 0:
            self.layer_box.setCurrentIndex(usable)

    def _say(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))
        # Nothing to choose when there is nothing to show: the line alone.
        for widget in (
            self.splitter,
            self.picker,
            self.picker.caption,
            self.status,
            self.method_box,
            self.class_box,
        ):
            widget.setVisible(not text)
        self._on_choice_changed(0)

    # --- data ------------------------------------------------------------------------------
    def set_probe(self, probe: ProbeResult) -> None:
        """Show the maps in ``probe`` (kept by reference)."""
        self.probe = probe
        if self.info is not None:
            self.picker.show_sample(
                probe.sample_index, prediction_text(probe, self.info)
            )
        self.schedule_redraw()

    def chosen_class(self) -> int | None:
        """The class explained now (None without a probe)."""
        probe, info = self.probe, self.info
        if probe is None or info is None:
            return None
        choice = self.class_box.currentData()
        if choice is None:
            return None
        if choice == PREDICTED:
            out = np.asarray(probe.activations.get(info.output.name, ())).reshape(1, -1)
            return int(explain.class_of(out, info.task)[0]) if out.size else None
        if choice == TRUE:
            if not probe.target:
                return None
            names = info.class_names
            return (
                names.index(probe.target)
                if probe.target in names
                else int(probe.target)
            )
        return int(choice)

    def current_map(self) -> tuple[np.ndarray | None, str]:
        """The map to draw and a status line (why there is none, or what it is)."""
        probe = self.probe
        if probe is None or probe.saliency is None:
            return None, "No probe of an image sample yet."
        s = probe.saliency
        cls = self.chosen_class()
        if cls is None:
            return None, "This sample's class is not known."
        if cls not in s.classes:
            return None, (
                f"Class {cls} is not explained for this sample: with more than "
                f"{explain.MAX_SALIENCY_CLASSES} classes only the predicted and the "
                "true class are."
            )
        method = self.method
        if method == "smooth" and cls not in s.smooth:
            return None, (
                "SmoothGrad is computed for the sample's predicted and true class "
                "only (8 passes each); choose one of them, or another method."
            )
        if method != "grad_cam":
            maps = {
                "vanilla": s.vanilla,
                "grad_x_input": s.grad_x_input,
                "smooth": s.smooth,
            }
            return maps[method][cls], METHODS[method]
        layer = self.layer
        if not layer or layer not in s.grad_cam:
            reason = s.cam_problems.get(layer, "no layer can be used")
            return None, f"Grad-CAM: {reason}."
        cam = s.grad_cam[layer][cls]
        if not cam.max() > 0:
            return cam, (
                f"Grad-CAM on {layer}: nothing here speaks for this class (every "
                "weighted sum of the maps is at most 0); try another layer."
            )
        return cam, f"Grad-CAM on {layer}"

    def _redraw(self) -> None:
        probe = self.probe
        if probe is None or self.info is None or not self.info.is_image:
            return
        picture = np.asarray(probe.sample, dtype=np.float64)
        if picture.ndim == 3 and picture.shape[-1] == 1:
            picture = picture[..., 0]
        self.sample_image.setImage(picture, autoLevels=True)
        self.under_image.setImage(picture, autoLevels=True)
        values, text = self.current_map()
        self.status.setText(text)
        self.shown = values
        if values is None:
            for image in (self.map_image, self.over_image):
                image.clear()
            return
        h, w = picture.shape[:2]
        if self.method == "grad_x_input":
            top = float(np.abs(values).max()) or 1.0
            rgba = to_rgba(values, self._signed, -top, top)
        else:
            top = float(values.max())
            rgba = to_rgba(values, self._heat, 0.0, top if top > 0 else 1.0)
        self.map_image.setImage(rgba, autoLevels=False)
        self.map_image.setRect(0, 0, w, h)
        if values.shape != (h, w):  # Grad-CAM at its layer's resolution
            values = explain.resize_bilinear(values, (h, w))
            top = float(values.max())
            rgba = to_rgba(values, self._heat, 0.0, top if top > 0 else 1.0)
        self.over_image.setImage(rgba, autoLevels=False)
        self.over_image.setRect(0, 0, w, h)

    def csv_columns(self) -> dict[str, Sequence[object] | np.ndarray]:
        if self.shown is None:
            return {}
        shown = np.asarray(self.shown)
        return {f"column_{j}": shown[:, j] for j in range(shown.shape[1])}
