"""Feature maps: every convolution and pooling layer's channels for one sample.

Each layer is one image (its channels tiled in a near-square grid, computed by
``training.explain``) in one plot, so a redraw is one ``setImage`` per layer. The
colour scope decides what spans the full colour range: each channel, each layer
(the default: a layer whose maps grow or die shows it) or the whole network.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QComboBox, QLabel, QWidget

from nndesk.training import explain
from nndesk.ui.training.probes import ModelInfo, ProbeResult

from .base import PlotPanel
from .sample_picker import (
    SamplePicker,
    compact_combo,
    heat_lut,
    notice_label,
    prediction_text,
    to_rgba,
)

__all__ = ["SCOPE_LABELS", "FeatureMapsPanel"]

SCOPE_LABELS = {
    "channel": "Per channel",
    "layer": "Per layer",
    "network": "Whole network",
}
TITLE_PX = 24
"""Height of a layer plot's title."""
PLOT_WIDTH = 150
"""The fewest pixels a layer's plot takes in a row; more when its title
("maxpool_1 · 13×13×32") is wider. A narrower dock puts fewer layers in a row
(four in a row ran past a 560 px dock and cut titles at 370 px)."""


class FeatureMapsPanel(PlotPanel):
    """The chosen sample's feature maps, live.

    Signals
    -------
    sig_sample_requested(int)
        The user chose another sample (training index).
    """

    sig_sample_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Feature Maps", parent)
        self.picker = SamplePicker(self)
        self.picker.sig_sample_requested.connect(self.sig_sample_requested)
        self.scope_box = QComboBox(self)
        for key, label in SCOPE_LABELS.items():
            self.scope_box.addItem(label, key)
        self.scope_box.setCurrentIndex(list(SCOPE_LABELS).index("layer"))
        self.scope_box.setToolTip(
            "What spans the full colour range: each channel, each layer, or all "
            "layers together"
        )
        self.scope_box.currentIndexChanged.connect(self._on_scope_box_changed)
        compact_combo(self.scope_box, 8)
        # A row of its own: the strip shows as many samples as the dock is wide.
        self.layout().insertWidget(0, self.picker)
        self.scope_label = QLabel("Colours", self)
        self.controls.insertWidget(0, self.scope_label)
        self.controls.insertWidget(1, self.scope_box)
        self.notice = notice_label(self)
        self.layout().addWidget(self.notice)
        self.layout().addWidget(self.picker.caption)
        self.hover_text = ""
        self._mouse = pg.SignalProxy(
            self.graphics.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse_moved
        )
        self.info: ModelInfo | None = None
        self.probe: ProbeResult | None = None
        self.plots: dict[str, pg.PlotItem] = {}
        self.images: dict[str, pg.ImageItem] = {}
        self.per_row = 0
        self.plot_width = PLOT_WIDTH
        self._full_titles: dict[str, tuple[str, float]] = {}
        self._lut = heat_lut()
        self.set_structure(None)

    @property
    def scope(self) -> str:
        """The colour scope: ``"channel"``, ``"layer"`` or ``"network"``."""
        return str(self.scope_box.currentData())

    def set_scope(self, scope: str) -> None:
        """Choose the colour scope (as the user would)."""
        self.scope_box.setCurrentIndex(list(SCOPE_LABELS).index(scope))

    # --- structure ---------------------------------------------------------------------
    def set_structure(
        self, info: ModelInfo | None, x: np.ndarray | None = None
    ) -> None:
        """One plot per convolution or pooling layer of ``info``."""
        self.graphics.clear()
        self.plots, self.images = {}, {}
        self.info, self.probe = info, None
        self.picker.set_samples(x)
        layers = info.spatial if info is not None else ()
        if info is None:
            self._say("No network yet: draw one and choose its data.")
            return
        if not layers:
            self._say(
                "Feature maps need 2-D convolution or pooling layers (outputs of "
                "height × width × channels); this network has none."
            )
            return
        self._say("")
        for k, column in enumerate(layers):
            h, w, c = column.shape
            plot = self.graphics.addPlot(
                row=k,
                col=0,
                title=f"{column.name} · {h}×{w}×{c}",
                size="9pt",
            )
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.invertY(True)
            plot.setAspectLocked(True)
            plot.hideAxis("left")
            plot.hideAxis("bottom")
            image = pg.ImageItem(axisOrder="row-major")
            plot.addItem(image)
            self.plots[column.name] = plot
            self.images[column.name] = image
        self.per_row = 0
        # A plot narrower than its full title shows the layer's name alone (its
        # shape is in the hover); no plot is narrower than that name.
        self._full_titles = {
            name: (p.titleLabel.text, p.titleLabel.item.boundingRect().width())
            for name, p in self.plots.items()
        }
        names = [p.titleLabel.item.boundingRect().width() for p in self.plots.values()]
        for name, plot in self.plots.items():
            plot.setTitle(name, size="9pt")
            names.append(plot.titleLabel.item.boundingRect().width())
        self.plot_width = max(PLOT_WIDTH, int(max(names[len(self.plots) :])) + 24)
        self._arrange()
        self._apply_palette()

    def _arrange(self, width: int | None = None, height: int | None = None) -> None:
        """Lay the layers' plots out in the rows that give their maps the most room
        (a row no narrower per plot than its title)."""
        n = len(self.plots)
        if not n:
            return
        width = self.width() if width is None else width
        height = self.height() if height is None else height
        # The room for plots: below the picker and the controls, above the caption.
        room = max(1, height - (self.height() - self.graphics.height()))

        def side(k: int) -> float:  # the edge of a map grid with k plots a row
            return min(width / k, room / -(-n // k) - TITLE_PX)

        fitting = [k for k in range(1, n + 1) if width / k >= self.plot_width] or [1]
        per_row = max(fitting, key=side)
        if per_row == self.per_row:
            return
        self.per_row = per_row
        layout = self.graphics.ci
        for plot in self.plots.values():
            layout.removeItem(plot)
        for k, plot in enumerate(self.plots.values()):
            layout.addItem(plot, row=k // per_row, col=k % per_row)
        for name, plot in self.plots.items():
            full, full_width = self._full_titles[name]
            title = full if full_width + 24 <= width / per_row else name
            plot.setTitle(title, size="9pt", color=self.text_color.name())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._arrange(event.size().width(), event.size().height())

    def set_samples(self, x: np.ndarray | None) -> None:
        """The training inputs the picker offers."""
        self.picker.set_samples(x)

    def _say(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))
        # Nothing to choose when there is nothing to show: the line alone.
        for widget in (
            self.splitter,
            self.picker,
            self.picker.caption,
            self.scope_label,
            self.scope_box,
        ):
            widget.setVisible(not text)

    # --- data -----------------------------------------------------------------------------
    def set_probe(self, probe: ProbeResult) -> None:
        """Show the maps in ``probe`` (kept by reference)."""
        self.probe = probe
        if self.info is not None:
            self.picker.show_sample(
                probe.sample_index, prediction_text(probe, self.info)
            )
        self.schedule_redraw()

    def maps(self) -> dict[str, np.ndarray]:
        """Layer name -> ``(h, w, c)`` the probed sample's maps (empty without a probe)."""
        probe, info = self.probe, self.info
        if probe is None or info is None:
            return {}
        out = {}
        for column in info.spatial:
            values = probe.activations.get(column.name)
            if values is not None and values.size == column.units:
                out[column.name] = values.reshape(column.shape)
        return out

    def grids(self) -> dict[str, np.ndarray]:
        """Layer name -> the tiled, scaled grid drawn (NaN between tiles)."""
        scaled = explain.scale_maps(self.maps(), self.scope)
        return {name: explain.channel_grid(m) for name, m in scaled.items()}

    def _on_scope_box_changed(self, _index: int) -> None:
        self.schedule_redraw()

    def _redraw(self) -> None:
        for name, grid in self.grids().items():
            image = self.images.get(name)
            if image is not None:
                image.setImage(to_rgba(grid, self._lut), autoLevels=False)

    # --- hover -----------------------------------------------------------------------------
    def describe_at(self, name: str, x: float, y: float) -> str:
        """What hovering layer ``name``'s grid at image coordinates ``(x, y)`` shows:
        the channel and the value there ("" between tiles or outside)."""
        m = self.maps().get(name)
        if m is None:
            return ""
        h, w, c = m.shape
        cols = explain.grid_columns(c, h / max(w, 1))
        col, row = int(np.floor(x)), int(np.floor(y))
        (tr, i), (tc, j) = divmod(row, h + 1), divmod(col, w + 1)
        channel = tr * cols + tc
        if min(row, col) < 0 or i >= h or j >= w or tc >= cols or channel >= c:
            return ""
        value = float(m[i, j, channel])
        peak = float(m[..., channel].max())
        return (
            f"{name} channel {channel}: {value:.4g} at ({i}, {j}), max {peak:.4g} "
            f"(maps {h}×{w}×{c})"
        )

    def _on_mouse_moved(self, event: tuple[QPointF]) -> None:
        pos, text = event[0], ""
        for name, plot in self.plots.items():
            if plot.vb.sceneBoundingRect().contains(pos):
                point = plot.vb.mapSceneToView(pos)
                text = self.describe_at(name, point.x(), point.y())
                break
        self.hover_text = text
        self.graphics.setToolTip(text)

    def csv_columns(self) -> dict[str, Sequence[object] | np.ndarray]:
        columns: dict[str, Sequence[object] | np.ndarray] = {}
        for name, m in self.maps().items():
            columns[f"{name}_channel_mean"] = m.mean(axis=(0, 1))
            columns[f"{name}_channel_max"] = m.max(axis=(0, 1))
        return columns
