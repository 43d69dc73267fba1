"""Decision boundary: the output over the input plane, with the data on top.

The big map is the network's output on a grid of the plane (probability for one
sigmoid output, the winning class shaded by confidence for several classes, the
value for regression); the small maps beside it are each hidden unit's activation
over the same grid, the picture the TensorFlow Playground made familiar. The grid
values are computed in the worker; this panel only colours and shows them.

**Paint** turns on painting on the map (``nndesk.ui.panels.paint``): the panel
asks for it with ``sig_paint_requested``; whoever owns the document (the training
controller) makes the painted set the dataset if it is not yet and calls
``set_painting``. The map shows the inputs as the network sees them, so the paint
tool maps through the network's feature scaling (``set_scaling``).

Inputs of more than two values are shown on a plane through the input space,
chosen above the map (``plane_chooser``: two features with the others held,
the PCA plane, or the plane through three samples or images); the data are
projected onto it and the worker computes the grid on it (``sig_plane_changed``).
The held features' sliders sit beside the map when the panel has the width, and
fold into one compact row above it when it has not (a 250 px dock at 1280x800).
A panel made with ``choose_plane=False`` (a race column) has no chooser: it is
given its plane with ``set_plane``, so several panels show one plane.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QToolButton, QWidget

from nndesk.document.graph import Document
from nndesk.engine.errors import NNDeskError
from nndesk.io.datasets import Scaler
from nndesk.training.planes import Plane
from nndesk.ui.training.probes import MAX_HIDDEN_MAPS, GridResult, ModelInfo

from ..paint import PaintTool, PaintToolbar, Push
from .base import PlotPanel, diverging_lut
from .colors import CLASS_COLORS
from .plane_chooser import LETTERS, PlaneChooser

__all__ = ["CLASS_COLORS", "BoundaryPanel", "class_shading"]

MAX_POINTS = 2000
MAPS_PER_ROW = 4
MIN_MAPS_WIDTH = 80.0
"""Narrowest the column of per-unit maps is drawn (pixels); narrower, it is left out."""
MAPS_SHARE = 0.45
"""Most of the panel's width the per-unit maps may take."""
SIDE_MIN = 100
"""Narrowest the held features' table is used (pixels); narrower, or folded away,
the sliders are the chooser's compact row."""


def class_shading(probs: np.ndarray) -> np.ndarray:
    """RGB picture of class probabilities: the winner's colour, faded by uncertainty.

    Parameters
    ----------
    probs : np.ndarray
        ``(h, w, k)`` probabilities, ``k >= 2``.

    Returns
    -------
    np.ndarray
        ``(h, w, 3)`` uint8; white where the classes are equally likely.
    """
    k = probs.shape[-1]
    winner = probs.argmax(axis=-1)
    top = probs.max(axis=-1)
    confidence = np.clip((top - 1.0 / k) / (1.0 - 1.0 / k), 0.0, 1.0)[..., None]
    colors = CLASS_COLORS[winner % len(CLASS_COLORS)]
    white = np.full(3, 245.0)
    return (white * (1 - 0.8 * confidence) + colors * 0.8 * confidence).astype(np.uint8)


class BoundaryPanel(PlotPanel):
    """The output map with the data points, and small per-unit maps.

    Call ``set_structure(info)``, ``set_points(x, y)`` once per dataset and
    ``set_grid(grid)`` with each probe.

    Signals
    -------
    sig_paint_requested(bool)
        The Paint button was toggled: paint on the map (True) or stop.
    sig_plane_changed(object)
        The plane of the input space to draw the boundary on (a ``Plane``; None
        for 2-D inputs and networks that take none).
    """

    sig_paint_requested = Signal(bool)
    sig_plane_changed = Signal(object)

    def __init__(
        self, parent: QWidget | None = None, *, choose_plane: bool = True
    ) -> None:
        super().__init__("Decision boundary", parent)
        self.choose_plane = choose_plane
        self.note = QLabel("", self)
        # A row of its own under the controls, wrapping: one line of it set the
        # dock's minimum width (390 px at 1280x800), and wrapped beside the
        # controls it stood five lines tall in a 370 px dock.
        self.note.setWordWrap(True)
        self.note.setContentsMargins(4, 0, 4, 0)
        self.note.hide()  # shown when it has something to say
        self.layout().insertWidget(1, self.note)
        self.controls.insertStretch(0, 1)
        self.paint_button = QToolButton(self)
        self.paint_button.setText("Paint")
        self.paint_button.setCheckable(True)
        self.paint_button.setToolTip(
            "Paint your own points on the map: click or drag to add, right-drag to "
            "erase; the painted set becomes the dataset (Undo goes back)."
        )
        self.controls.insertWidget(1, self.paint_button)
        self.paint_button.toggled.connect(self._on_paint_button_toggled)
        self.lut = diverging_lut()
        self.plot = self.graphics.addPlot(row=0, col=0)
        self.plot.setAspectLocked(True)
        self.plot.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-10)
        self.plot.addItem(self.image)
        self.points = pg.ScatterPlotItem(
            size=6, pen=pg.mkPen(255, 255, 255, 200, width=1)
        )
        self.plot.addItem(self.points)
        self.points.sigClicked.connect(self._on_points_clicked)
        self._keep: np.ndarray | None = None  # training index of each point drawn
        self.paint = PaintTool(self.plot)
        self.paint.show_when_idle = False
        self.paint.set_active(False)
        self.paint_bar = PaintToolbar(self.paint, self)
        self.paint_bar.setContentsMargins(4, 2, 4, 2)
        self.paint_bar.hide()
        layout = self.layout()
        assert layout is not None
        layout.insertWidget(1, self.paint_bar)  # type: ignore[attr-defined]
        self.chooser = PlaneChooser(self)
        layout.insertWidget(1, self.chooser)  # type: ignore[attr-defined]
        self.controls.insertWidget(1, self.chooser.mode_box)
        self.splitter.addWidget(self.chooser.sliders)
        self.side_share = (0.62, 0.38)
        self.chooser.sig_plane_changed.connect(self._on_chooser_plane_changed)
        self.splitter.splitterMoved.connect(self._on_splitter_moved)
        self.plane: Plane | None = None
        self.anchors = pg.ScatterPlotItem(
            size=14, symbol="star", pen=pg.mkPen(20, 20, 20, 230, width=1.5)
        )
        self.anchors.setZValue(5)
        self.plot.addItem(self.anchors)
        self.anchor_labels: list[pg.TextItem] = []
        self.maps_layout = self.graphics.addLayout(row=0, col=1)
        self.graphics.ci.layout.setColumnStretchFactor(0, 3)
        self.graphics.ci.layout.setColumnStretchFactor(1, 2)
        self.unit_maps: dict[str, list[pg.ImageItem]] = {}
        self.info: ModelInfo | None = None
        self.grid: GridResult | None = None
        self._x: np.ndarray | None = None
        self._y: np.ndarray | None = None
        self._placed: tuple[float, ...] | None = None

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        # The unit maps would take all the width they can; the output map comes first
        # and, its aspect being locked, needs about as much width as it has height
        # (otherwise it shrinks to a small square in a tall, empty plot).
        self._fit_maps()
        self._fit_sliders()

    def _on_splitter_moved(self, _pos: int, _index: int) -> None:
        self._fit_sliders()

    def _fit_sliders(self) -> None:
        """The held features' sliders in their table beside the map when it has
        room, else in the chooser's compact row (the table folded away)."""
        sizes = self.splitter.sizes()
        table = sizes[1] if len(sizes) > 1 else 0
        self.chooser.set_compact(self.is_narrow or table < SIDE_MIN)

    def _fit_maps(self) -> None:
        width, height = self.graphics.width(), self.graphics.height()
        share = min(width * MAPS_SHARE, width - height)
        if self.paint.active:
            share = 0.0  # painting: the whole width for the map
        if self.chooser.sliders.isVisible() and width < 2 * height:
            # The held features' sliders take the side: the unit maps would
            # leave the map a thumbnail (80 px of a 300 px panel at 1920x1080).
            share = 0.0
        # Below 80 px the unit maps were slivers a few pixels wide (a 250 px panel
        # at 1280x800): then the output map takes the whole width.
        self.maps_layout.setMaximumWidth(share if share >= MIN_MAPS_WIDTH else 0.0)

    # --- structure ---------------------------------------------------------------------
    def _set_note(self, text: str) -> None:
        """The line under the controls (hidden when empty: no blank row)."""
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def set_structure(self, info: ModelInfo | None) -> None:
        """Prepare the maps for ``info`` (or say why there is no boundary to show)."""
        self.info, self.grid, self._placed = info, None, None
        self.maps_layout.clear()
        self.unit_maps = {}
        self.image.clear()
        plane = info is not None and (info.is_plane or info.takes_planes)
        self._set_axis_labels(None)
        if info is None or not info.takes_planes:
            self.chooser.set_data(None, None, None)
        if not plane and self.paint.active:
            # Nothing trains yet (no points, say): the plane stays to paint on.
            self._set_note("The boundary appears once the network can train.")
            self.plot.show()
            self._frame_painted()
            self._draw_points()
            return
        if info is None or not plane:
            self._set_note(
                "No network to show."
                if info is None
                else "A decision boundary needs inputs of two or more real values "
                f"(inputs of shape {info.input_shape} are a sequence or one value)."
            )
            self.plot.hide()
            self._draw_points()
            return
        self._set_note("")
        self.plot.show()
        row = 0
        for column in info.hidden:
            if column.is_spatial:
                continue  # maps of a convolution's first values say little
            count = min(column.units, MAX_HIDDEN_MAPS)
            rows = -(-count // MAPS_PER_ROW)
            self.maps_layout.addLabel(
                column.name,
                row=row,
                col=0,
                rowspan=rows,
                angle=-90,
                color=self.text_color.name(),
            )
            items = []
            for k in range(count):
                r, c = divmod(k, MAPS_PER_ROW)
                box = self.maps_layout.addViewBox(
                    row=row + r, col=c + 1, lockAspect=True
                )
                box.setMenuEnabled(False)
                box.setMouseEnabled(False, False)
                item = pg.ImageItem(axisOrder="row-major")
                item.setLookupTable(self.lut)
                box.addItem(item)
                items.append(item)
            self.unit_maps[column.name] = items
            row += rows
        self.schedule_redraw()

    # --- painting -------------------------------------------------------------------------
    def set_paint_target(self, doc: Document | None, push: Push | None) -> None:
        """Paint ``doc``'s painted set through ``push`` (the canvas editor's); another
        document starts with painting off (its dataset may be no painted set)."""
        changed = doc is not self.paint.document
        self.paint.push = push
        self.paint.set_document(doc)
        # Painting needs no network yet: Paint makes the painted set the dataset
        # (and the Input 2-D) first, and an empty plane is there to paint on.
        self.paint_button.setEnabled(doc is not None and push is not None)
        if changed:
            self.set_painting(False)

    def set_painting(self, on: bool) -> None:
        """Paint on the map (True) or pan and zoom it (False)."""
        self.paint_button.blockSignals(True)
        self.paint_button.setChecked(on)
        self.paint_button.blockSignals(False)
        self.paint.set_active(on)
        self.paint_bar.setVisible(on)
        self.points.setVisible(not on)
        self.plot.setMouseEnabled(not on, not on)
        self.maps_layout.setVisible(not on)
        self._fit_maps()
        if self.info is None or not self.info.is_plane:
            self.set_structure(self.info)  # shows or hides the bare plane

    def _frame_painted(self) -> None:
        xy = self.paint.painted.xy
        if not len(xy):
            self.plot.setRange(xRange=(-1.0, 1.0), yRange=(-1.0, 1.0), padding=0.0)
            return
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        pad = np.maximum((hi - lo) * 0.1, 0.25)
        self.plot.setRange(
            xRange=(float(lo[0] - pad[0]), float(hi[0] + pad[0])),
            yRange=(float(lo[1] - pad[1]), float(hi[1] + pad[1])),
            padding=0.0,
        )

    def set_scaling(self, preprocessing: dict[str, Any] | None) -> None:
        """The network's feature scaling (``Scaler.to_dict()``; None: none): the
        map's coordinates are the scaled inputs."""
        scaler = None
        if preprocessing and list(preprocessing.get("input_shape", ())) == [2]:
            try:
                scaler = Scaler.from_dict(dict(preprocessing))
            except NNDeskError:
                scaler = None
        self.paint.set_scaling(scaler)

    def _on_paint_button_toggled(self, on: bool) -> None:
        self.sig_paint_requested.emit(on)

    # --- data ---------------------------------------------------------------------------
    def set_points(self, x: np.ndarray | None, y: np.ndarray | None) -> None:
        """The data drawn over the map: ``x`` ``(n, *input_shape)`` as the model sees
        it and ``y`` ``(n,)`` class indices (or values for regression); at most
        ``MAX_POINTS`` are drawn. Inputs of two values are drawn as they are;
        others are projected onto the plane chosen (the chooser gets all of ``x``
        to make it: the mean, the PCA plane, the three samples)."""
        info = self.info
        plane_data = (
            x is not None
            and y is not None
            and info is not None
            and info.takes_planes
            and tuple(x.shape[1:]) == tuple(info.input_shape)
        )
        two = x is not None and y is not None and x.ndim == 2 and x.shape[1] == 2
        if x is None or y is None or not (two or plane_data):
            self._x = self._y = None
            self.chooser.set_data(None, None, None)
        else:
            keep = np.linspace(0, len(x) - 1, min(len(x), MAX_POINTS)).astype(np.int64)
            self._x, self._y = x[keep], np.asarray(y).reshape(len(y), -1)[keep]
            self._keep = keep
            if plane_data and self.choose_plane:
                self.chooser.set_data(info, x, y, keep)
        self._draw_points()

    def _on_chooser_plane_changed(self, plane: Plane | None) -> None:
        if self.is_narrow:
            # The held features' sliders, shown now, fold like any side table:
            # the map keeps the width (the handle at the right edge drags them out)
            # and the chooser's compact row moves them.
            self.splitter.setSizes([self.splitter.width(), 0])
        self._fit_sliders()
        self.set_plane(plane)
        self.sig_plane_changed.emit(plane)

    def set_plane(self, plane: Plane | None) -> None:
        """Draw on ``plane`` (what the chooser does; a panel without one is given
        the plane of another chooser this way)."""
        if (
            plane is not None
            and self.info is not None
            and tuple(plane.input_shape) != tuple(self.info.input_shape)
        ):
            plane = None  # another network's plane, on its way out
        self.plane = plane
        self._fit_maps()
        self._set_axis_labels(plane)
        self._set_note(plane.note if plane is not None else "")
        self._draw_points()
        self._placed = None
        if self.grid is not None and not self._shows(self.grid):
            self.image.clear()
        self.schedule_redraw()

    def _shows(self, grid: GridResult) -> bool:
        """Whether ``grid`` belongs on the map shown: the 2-D plane's for 2-D inputs;
        else one on the plane chosen, or on one with the same axes (a held feature
        moved: the next probe brings the grid of the new plane)."""
        if grid.plane is None or self.plane is None:
            return grid.plane is None and self.plane is None
        a, b = grid.plane, self.plane
        return a is b or (
            a.kind == b.kind
            and a.labels == b.labels
            and a.extent == b.extent
            and np.array_equal(a.basis, b.basis)
        )

    def _set_axis_labels(self, plane: Plane | None) -> None:
        for axis, k in (("bottom", 0), ("left", 1)):
            item = self.plot.getAxis(axis)
            if plane is None:
                item.showLabel(False)
            else:
                item.setLabel(plane.labels[k], color=self.text_color.name())

    def _plot_points(self) -> np.ndarray | None:
        """``(m, 2)`` positions of the drawn points on the map (projected)."""
        if self._x is None:
            return None
        if self.plane is None:
            return self._x if self._x.ndim == 2 and self._x.shape[1] == 2 else None
        return self.plane.project(self._x)

    def set_grid(self, grid: GridResult | None) -> None:
        """Show a new grid of outputs (kept by reference)."""
        if grid is None and self.grid is None:
            return
        self.grid = grid
        self.schedule_redraw()

    def _draw_points(self) -> None:
        self._draw_anchors()
        xy = self._plot_points()
        if xy is None or self._y is None or self.info is None:
            self.points.setData([], [])
            return
        if self.info.task == "classification":
            labels = self._y.argmax(axis=1) if self._y.shape[1] > 1 else self._y[:, 0]
            colors = CLASS_COLORS[labels.astype(np.int64) % len(CLASS_COLORS)]
        else:
            values = self._y[:, 0]
            lo, hi = float(values.min()), float(values.max())
            idx = ((values - lo) / ((hi - lo) or 1.0) * 255).astype(np.int64)
            colors = self.lut[np.clip(idx, 0, 255), :3].astype(np.float64)
        brushes = [pg.mkBrush(*c) for c in colors.astype(np.int64)]
        self.points.setData(xy[:, 0], xy[:, 1], brush=brushes, data=self._keep)

    def _on_points_clicked(
        self, _item: object, points: Sequence[Any], _ev: object
    ) -> None:
        """On the plane through three samples, a clicked point becomes A, B and C
        in turn (``PlaneChooser.pick_sample``)."""
        if self.plane is None or self.plane.kind != "points" or not len(points):
            return
        self.chooser.pick_sample(int(points[0].data()))

    def _draw_anchors(self) -> None:
        """Stars at the three samples a plane goes through, lettered."""
        for label in self.anchor_labels:
            self.plot.removeItem(label)
        self.anchor_labels = []
        plane = self.plane
        if plane is None or not len(plane.anchors):
            self.anchors.setData([], [])
            return
        a = plane.anchors
        self.anchors.setData(a[:, 0], a[:, 1], brush=pg.mkBrush(255, 215, 0, 230))
        for letter, (s, t) in zip(LETTERS, a, strict=False):
            label = pg.TextItem(letter, color=(20, 20, 20), anchor=(-0.4, 0.5))
            label.setZValue(6)
            label.setPos(float(s), float(t))
            self.plot.addItem(label)
            self.anchor_labels.append(label)

    def _redraw(self) -> None:
        grid = self.grid
        if grid is None or self.info is None or not self._shows(grid):
            return
        self._draw_output(grid)
        for name, items in self.unit_maps.items():
            maps = grid.hidden.get(name)
            if maps is None:
                continue
            for item, values in zip(items, maps, strict=False):
                m = float(np.nanmax(np.abs(values))) or 1.0
                item.setImage(values, levels=(-m, m), autoLevels=False)
        if self._placed != grid.extent:
            self._place(grid.extent)

    def _draw_output(self, grid: GridResult) -> None:
        out = grid.output
        if out.ndim == 3:
            self.image.setImage(class_shading(out), autoLevels=False, levels=(0, 255))
            return
        self.image.setLookupTable(self.lut)
        if self.info is not None and self.info.task == "classification":
            self.image.setImage(out, levels=(0.0, 1.0), autoLevels=False)
        else:
            lo, hi = float(np.nanmin(out)), float(np.nanmax(out))
            self.image.setImage(
                out, levels=(lo, hi if hi > lo else lo + 1.0), autoLevels=False
            )

    def _place(self, extent: tuple[float, float, float, float]) -> None:
        x0, x1, y0, y1 = extent
        rect = QRectF(x0, y0, x1 - x0, y1 - y0)
        self.image.setRect(rect)
        for items in self.unit_maps.values():
            for item in items:
                if item.image is not None:
                    item.setRect(rect)
        if not self.paint.active:
            # While painting the view stays where the user has it: a point painted
            # outside the map widens the grid, and a view that followed would move
            # the points under the brush.
            self.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.0)
        self._placed = extent

    # --- export ---------------------------------------------------------------------------
    def csv_columns(self) -> dict[str, Sequence[object] | np.ndarray]:
        """The grid (x, y, output per class) and the data points."""
        columns: dict[str, Sequence[object] | np.ndarray] = {}
        grid = self.grid
        if grid is not None:
            g = grid.output.shape[0]
            x0, x1, y0, y1 = grid.extent
            xx, yy = np.meshgrid(np.linspace(x0, x1, g), np.linspace(y0, y1, g))
            columns["grid_x"] = xx.reshape(-1)
            columns["grid_y"] = yy.reshape(-1)
            out = grid.output.reshape(g * g, -1)
            for k in range(out.shape[1]):
                columns[f"output_{k}"] = out[:, k]
        xy = self._plot_points()
        if xy is not None and self._y is not None:
            columns["point_x"] = xy[:, 0]
            columns["point_y"] = xy[:, 1]
            columns["point_target"] = (
                self._y[:, 0] if self._y.shape[1] == 1 else self._y.argmax(axis=1)
            )
        return columns
