"""Filters: the convolution kernels as pictures, live.

The first convolution's filters are small images (in colour when the input has 3
channels); a deeper convolution is a grid of tiles, one row per filter and one
column per input channel. Weights are blue (negative) to orange (positive) on one
scale per layer. A filter whose output never rises above 0 on the probe batch
(after a ReLU it passes nothing: a dead filter) is tinted red and badged "dead".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QWidget

from nndesk.training import explain
from nndesk.ui.training.probes import LayerInfo, ModelInfo, ProbeResult

from .base import PlotPanel, diverging_lut
from .sample_picker import notice_label, to_rgba

__all__ = ["FiltersPanel"]

MAX_BADGES = 24
"""Dead badges drawn per layer (the title counts them all)."""
_DEAD = np.array([214, 39, 40], dtype=np.float64)


class FiltersPanel(PlotPanel):
    """Each convolution layer's kernel as one image, with dead filters marked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Filters", parent)
        self.notice = notice_label(self)
        self.layout().addWidget(self.notice)
        self.info: ModelInfo | None = None
        self.probe: ProbeResult | None = None
        self.layers: list[LayerInfo] = []
        self.plots: dict[str, pg.PlotItem] = {}
        self.images: dict[str, pg.ImageItem] = {}
        self.badges: dict[str, list[pg.TextItem]] = {}
        self.dead: dict[str, np.ndarray] = {}
        self.tiles: dict[str, list[tuple[int, int, int, int]]] = {}
        self.hover_text = ""
        self._mouse = pg.SignalProxy(
            self.graphics.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse_moved
        )
        self._lut = diverging_lut()
        self.set_structure(None)

    def set_structure(self, info: ModelInfo | None) -> None:
        """One plot per convolution layer of ``info``."""
        self.graphics.clear()
        self.plots, self.images, self.badges, self.dead = {}, {}, {}, {}
        self.tiles = {}
        self.info, self.probe = info, None
        self.layers = [c for c in info.spatial if c.kernel] if info is not None else []
        if info is None:
            self._say("No network yet: draw one and choose its data.")
            return
        if not self.layers:
            self._say(
                "Filters are shown for 2-D convolution layers (kernels of "
                "height × width × in × out); this network has none."
            )
            return
        self._say("")
        for k, column in enumerate(self.layers):
            plot = self.graphics.addPlot(row=0, col=k, title=column.name)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.invertY(True)
            plot.setAspectLocked(True)
            plot.hideAxis("left")
            plot.hideAxis("bottom")
            image = pg.ImageItem(axisOrder="row-major")
            plot.addItem(image)
            self.plots[column.name], self.images[column.name] = plot, image
            self.badges[column.name] = []
        self._apply_palette()

    def _say(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))
        self.splitter.setVisible(not text)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self.probe is not None:
            self.schedule_redraw()  # the badges fit tiles of another size now

    def set_probe(self, probe: ProbeResult) -> None:
        """Show the kernels in ``probe`` (kept by reference)."""
        self.probe = probe
        self.schedule_redraw()

    # --- drawing ----------------------------------------------------------------------------
    def picture(
        self, column: LayerInfo
    ) -> tuple[np.ndarray, list[tuple[int, int, int, int]]] | None:
        """The RGBA image of a layer's filters and each filter's tile
        ``(row, col, height, width)`` in it (None without its weights)."""
        probe = self.probe
        kernel = None if probe is None else probe.weights.get(column.kernel or "")
        if kernel is None or kernel.ndim != 4:
            return None
        kh, kw, cin, cout = kernel.shape
        first = self.layers and column.name == self.layers[0].name
        if cin == 3:
            grid, cols = explain.filter_grid(kernel)
            rgba = np.zeros((*grid.shape[:2], 4), np.uint8)
            ok = np.isfinite(grid).all(axis=-1)
            rgba[ok, :3] = (grid[ok] * 255).astype(np.uint8)
            rgba[ok, 3] = 255
            tiles = [
                (o // cols * (kh + 1), o % cols * (kw + 1), kh, kw) for o in range(cout)
            ]
        elif first and cin == 1:
            top = float(np.abs(kernel).max()) or 1.0
            maps = kernel[:, :, 0, :] / top
            cols = explain.grid_columns(cout, kh / kw)
            rgba = to_rgba(explain.channel_grid(maps, cols), self._lut, -1.0, 1.0)
            tiles = [
                (o // cols * (kh + 1), o % cols * (kw + 1), kh, kw) for o in range(cout)
            ]
        else:
            grid, _ = explain.filter_grid(kernel)
            rgba = to_rgba(grid, self._lut, -1.0, 1.0)
            tiles = [(o * (kh + 1), 0, kh, grid.shape[1]) for o in range(cout)]
        return rgba, tiles

    def _redraw(self) -> None:
        probe = self.probe
        if probe is None:
            return
        for column in self.layers:
            drawn = self.picture(column)
            if drawn is None:
                continue
            rgba, tiles = drawn
            self.tiles[column.name] = tiles
            peaks = probe.channel_peaks.get(column.name)
            dead = (
                np.flatnonzero(peaks <= 0)
                if peaks is not None and len(peaks) == len(tiles)
                else np.zeros(0, np.int64)
            )
            self.dead[column.name] = dead
            for o in dead:
                r, c, h, w = tiles[o]
                tile = rgba[r : r + h, c : c + w, :3].astype(np.float64)
                rgba[r : r + h, c : c + w, :3] = (0.45 * tile + 0.55 * _DEAD).astype(
                    np.uint8
                )
            self.images[column.name].setImage(rgba, autoLevels=False)
            self._badge(column.name, [tiles[o] for o in dead[:MAX_BADGES]])
            title = f"{column.name} · {len(tiles)} filters"
            if len(dead):
                title += f" · {len(dead)} dead"
            self.plots[column.name].setTitle(title, color=self.text_color.name())

    def _badge(self, name: str, tiles: list[tuple[int, int, int, int]]) -> None:
        pool = self.badges[name]
        while len(pool) < len(tiles):
            badge = pg.TextItem(
                "dead",
                color=(255, 255, 255),
                fill=pg.mkBrush(*_DEAD.astype(int), 220),
                anchor=(0, 0),
            )
            badge.setZValue(10)
            self.plots[name].addItem(badge)
            pool.append(badge)
        # A badge wider than its tile would cover its neighbours: then the red
        # tint and the title's count say it alone.
        pixel = self.plots[name].vb.viewPixelSize()[0]
        fits = bool(pool) and bool(tiles) and pixel > 0
        if fits:
            tile_px = tiles[0][3] / pixel
            fits = tile_px >= pool[0].boundingRect().width()
        for i, badge in enumerate(pool):
            if i < len(tiles) and fits:
                r, c, _, _ = tiles[i]
                badge.setPos(c, r)
                badge.show()
            else:
                badge.hide()

    # --- hover -----------------------------------------------------------------------------
    def describe_at(self, name: str, x: float, y: float) -> str:
        """What hovering layer ``name``'s image at ``(x, y)`` shows: the filter (and
        input channel), its weights' range and its peak output on the probe batch."""
        probe = self.probe
        column = next((c for c in self.layers if c.name == name), None)
        if probe is None or column is None or name not in self.tiles:
            return ""
        kernel = probe.weights.get(column.kernel or "")
        if kernel is None or kernel.ndim != 4:
            return ""
        kh, kw, cin, _ = kernel.shape
        for o, (r, c, h, w) in enumerate(self.tiles[name]):
            if r <= y < r + h and c <= x < c + w:
                channel = None if w == kw else int((x - c) // (kw + 1))
                if channel is not None and (x - c) % (kw + 1) >= kw:
                    return ""  # the gap between two tiles
                weights = (
                    kernel[..., o] if channel is None else kernel[:, :, channel, o]
                )
                text = f"{name} filter {o}"
                if channel is not None:
                    text += f", input channel {channel}"
                text += f": weights {weights.min():+.3g} to {weights.max():+.3g}"
                peaks = probe.channel_peaks.get(name)
                if peaks is not None and o < len(peaks):
                    text += f", peak output {peaks[o]:.3g}"
                    text += " (dead)" if peaks[o] <= 0 else ""
                return text
        return ""

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
        probe = self.probe
        if probe is None:
            return {}
        columns: dict[str, Sequence[object] | np.ndarray] = {}
        for column in self.layers:
            peaks = probe.channel_peaks.get(column.name)
            if peaks is not None:
                columns[f"{column.name}_filter_peak"] = peaks
                columns[f"{column.name}_dead"] = (peaks <= 0).astype(np.int64)
        return columns
