"""The GAN picture: GAN Lab's layered view of 2-D data, or D(x) over 1-D data.

For 2-D data (``gan_views.PlanePicture``) one plot layers, from the back: the
discriminator's output over the plane (green where it says "real", purple where it
says "fake"), the generator's image of a regular grid of noise (the deformed
mesh; with more than two noise dimensions a 2-D slice of it, as the caption
says), the real samples (green), the generated ones (purple) and, from each
generated sample, a line along the gradient its generator loss gives it (where
the next generator step moves it). Each layer has a toggle in the row above. The
**mode-coverage meter** beside them counts the modes of a 2-D mixture that have
generated samples within 3 sigma (a collapsed generator covers one or two).

For 1-D data (``gan_views.LinePicture``) the plot shows the densities of the real
and generated values and, below, D(x).

The pictures are computed in the worker; this panel only draws them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolButton, QWidget

from nndesk.training.gan_views import GanPicture, LinePicture, PlanePicture

from .base import PlotPanel
from .sample_picker import notice_label

__all__ = [
    "FAKE_COLOR",
    "LAYERS",
    "REAL_COLOR",
    "GanPicturePanel",
    "ModeCoverageMeter",
    "arrow_segments",
    "mesh_lines",
    "real_fake_lut",
]

REAL_COLOR = (34, 139, 84)
FAKE_COLOR = (142, 68, 173)
LAYERS = (
    ("heatmap", "D(x)", "Heatmap: the discriminator's output over the plane "
     "(green: says real, purple: says fake)"),
    ("mesh", "Mesh", "The generator's image of a regular grid of noise"),
    ("real", "Real", "Samples of the data (green)"),
    ("fake", "Fake", "Samples the generator makes (purple)"),
    ("arrows", "Arrows", "Where the generator's loss pushes each generated sample"),
)  # fmt: skip
"""The picture's layers, back to front: key, toggle label, tooltip."""
ARROW_EVERY = 4
"""One generated sample in this many gets an arrow."""
ARROW_SHARE = 0.08
"""Length of the longest arrows (their 95th percentile) as a share of the frame."""


def real_fake_lut(n: int = 256) -> np.ndarray:
    """``(n, 4)`` uint8 colours of D(x) in [0, 1]: purple (fake) through near
    white (undecided, 0.5) to green (real), light enough for points on top."""
    cmap = pg.ColorMap(
        [0.0, 0.5, 1.0],
        [(205, 170, 222), (246, 246, 246), (160, 214, 180)],
    )
    return cmap.getLookupTable(0.0, 1.0, n, alpha=True)


def mesh_lines(mesh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x, y`` of a mesh's rows and columns, one polyline each, NaN-separated
    (``connect="finite"``). ``mesh`` is ``(rows, cols, 2)``."""
    rows, cols = mesh.shape[:2]
    lines = [mesh[i] for i in range(rows)]
    if rows > 1:
        lines += [mesh[:, j] for j in range(cols)]
    gap = np.full((1, 2), np.nan, dtype=np.float64)
    joined = np.concatenate([part for line in lines for part in (line, gap)])
    return joined[:, 0], joined[:, 1]


def arrow_segments(
    start: np.ndarray, vectors: np.ndarray, length: float
) -> tuple[np.ndarray, np.ndarray]:
    """``x, y`` of one segment per point (``connect="pairs"``) from ``start`` along
    ``vectors``, scaled so their 95th-percentile length is ``length`` (the
    directions and relative sizes are what matter)."""
    v = np.nan_to_num(np.asarray(vectors, dtype=np.float64))
    norms = np.linalg.norm(v, axis=1)
    ref = float(np.percentile(norms, 95)) if len(norms) else 0.0
    scale = length / ref if ref > 0 else 0.0
    end = start + v * scale
    pairs = np.empty((2 * len(start), 2), dtype=np.float64)
    pairs[0::2], pairs[1::2] = start, end
    return pairs[:, 0], pairs[:, 1]


class ModeCoverageMeter(QWidget):
    """A row of dots, one per mode of the data, filled when generated samples
    cover it, and the count ("6/8 modes")."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.covered: np.ndarray = np.zeros(0, dtype=bool)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setToolTip(
            "Modes of the data with generated samples within 3 sigma of their "
            "centre: a generator that collapses covers few."
        )

    def set_counts(self, counts: np.ndarray | None) -> None:
        """Generated samples per mode (None: no modes to count; hides the meter)."""
        self.covered = np.zeros(0, dtype=bool) if counts is None else counts > 0
        self.setVisible(counts is not None)
        self.updateGeometry()
        self.update()

    @property
    def text(self) -> str:
        """``"6/8 modes"``."""
        return f"{int(self.covered.sum())}/{len(self.covered)} modes"

    def _dot(self) -> int:
        return max(6, self.fontMetrics().height() // 2)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        fm = self.fontMetrics()
        dots = len(self.covered) * (self._dot() + 3)
        return QSize(dots + fm.horizontalAdvance(" 25/25 modes") + 4, fm.height() + 4)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        d, h = self._dot(), self.height()
        fake = QColor(*FAKE_COLOR)
        for k, on in enumerate(self.covered):
            painter.setPen(fake)
            painter.setBrush(fake if on else Qt.BrushStyle.NoBrush)
            painter.drawEllipse(QRectF(k * (d + 3) + 1, (h - d) / 2, d, d))
        painter.setPen(self.palette().windowText().color())
        left = len(self.covered) * (d + 3) + 4
        painter.drawText(
            QRectF(left, 0, self.width() - left, h),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            self.text,
        )
        painter.end()


class GanPicturePanel(PlotPanel):
    """The layered picture of a GAN on 2-D data (or D(x) on 1-D data).

    Call ``set_picture(picture)`` with each probe's ``GanPicture``; ``clear()``
    for another network.

    Attributes
    ----------
    toggles : dict[str, QToolButton]
        One checkable button per layer of ``LAYERS``.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("GAN Picture", parent)
        self.toggles: dict[str, QToolButton] = {}
        for k, (key, label, tip) in enumerate(LAYERS):
            # Tool buttons, not check boxes: five check boxes made the dock 570 px
            # wide at least, more than it gets at 1280x800.
            box = QToolButton(self)
            box.setText(label)
            box.setCheckable(True)
            box.setChecked(True)
            box.setToolTip(f"{tip} (click to hide or show)")
            box.toggled.connect(self._on_toggle_toggled)
            self.controls.insertWidget(k, box)
            self.toggles[key] = box
        # Below the plots: the numbers and the coverage meter.
        self.caption = QLabel("", self)
        self.caption.setWordWrap(True)
        self.meter = ModeCoverageMeter(self)
        self.meter.hide()
        footer = QHBoxLayout()
        footer.setContentsMargins(6, 0, 6, 2)
        footer.addWidget(self.caption, 1)
        footer.addWidget(self.meter)
        self.notice = notice_label(self)
        layout = self.layout()
        assert layout is not None
        layout.addLayout(footer)  # type: ignore[attr-defined]
        layout.addWidget(self.notice)
        self.picture: GanPicture | None = None
        self._placed: tuple[float, float, float, float] | None = None
        self._build_plane()
        self._build_line()
        self.clear()

    # --- building --------------------------------------------------------------------------
    def _build_plane(self) -> None:
        plot = self.graphics.addPlot(row=0, col=0)
        plot.setAspectLocked(True)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        self.plot = plot
        self.heatmap = pg.ImageItem(axisOrder="row-major")
        self.heatmap.setLookupTable(real_fake_lut())
        self.heatmap.setZValue(-10)
        self.mesh = pg.PlotDataItem(
            pen=pg.mkPen(70, 70, 70, 150, width=1), connect="finite"
        )
        self.real = pg.ScatterPlotItem(
            size=5, pen=None, brush=pg.mkBrush(*REAL_COLOR, 200)
        )
        self.fake = pg.ScatterPlotItem(
            size=5, pen=None, brush=pg.mkBrush(*FAKE_COLOR, 220)
        )
        self.arrows = pg.PlotDataItem(
            pen=pg.mkPen(90, 30, 110, 200, width=1), connect="pairs"
        )
        self.items: dict[str, pg.GraphicsObject] = {
            "heatmap": self.heatmap,
            "mesh": self.mesh,
            "real": self.real,
            "fake": self.fake,
            "arrows": self.arrows,
        }
        for item in self.items.values():
            plot.addItem(item)

    def _build_line(self) -> None:
        hist = self.graphics.addPlot(row=1, col=0)
        hist.setMenuEnabled(False)
        hist.hideButtons()
        hist.setLabel("left", "density")
        hist.addLegend(offset=(-6, 6))
        self.real_hist = pg.PlotDataItem(
            stepMode="center",
            fillLevel=0,
            pen=pg.mkPen(*REAL_COLOR, width=2),
            brush=pg.mkBrush(*REAL_COLOR, 60),
            name="real",
        )
        self.fake_hist = pg.PlotDataItem(
            stepMode="center",
            fillLevel=0,
            pen=pg.mkPen(*FAKE_COLOR, width=2),
            brush=pg.mkBrush(*FAKE_COLOR, 60),
            name="generated",
        )
        hist.addItem(self.real_hist)
        hist.addItem(self.fake_hist)
        d = self.graphics.addPlot(row=2, col=0)
        d.setMenuEnabled(False)
        d.hideButtons()
        d.setLabel("left", "D(x)")
        d.setYRange(0.0, 1.0, padding=0.05)
        d.setXLink(hist)
        self.d_curve = d.plot([], [], pen=pg.mkPen(60, 60, 60, width=2))
        half = pg.InfiniteLine(
            pos=0.5, angle=0, pen=pg.mkPen(150, 150, 150, style=Qt.PenStyle.DashLine)
        )
        d.addItem(half)
        self.hist_plot, self.d_plot = hist, d
        self._apply_palette()

    # --- data --------------------------------------------------------------------------------
    def clear(self) -> None:
        """Forget the picture (another network, or Reset Weights)."""
        self.picture = None
        self._placed = None
        for item in (self.mesh, self.arrows, self.real_hist, self.fake_hist):
            item.setData([], [])
        self.real.setData([], [])
        self.fake.setData([], [])
        self.d_curve.setData([], [])
        self.heatmap.clear()
        self.meter.set_counts(None)
        self._show("none")
        self._say(
            "No GAN yet: open the GAN examples (File > New from Example) or draw one."
        )

    def set_picture(self, picture: GanPicture | None) -> None:
        """Show ``picture`` (kept by reference: the worker made it for the GUI)."""
        if picture is None:
            return
        self.picture = picture
        if picture.kind == "plane":
            self._say("")
            self._show("plane")
        elif picture.kind == "line":
            self._say("")
            self._show("line")
        else:
            self._say(
                "The GAN picture draws 1-D or 2-D data; the samples panel shows "
                "images, and the curves panel every GAN."
            )
        self.meter.set_counts(picture.mode_counts)
        self.schedule_redraw()

    def _say(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))
        self.splitter.setVisible(not text)
        self.caption.setVisible(not text and bool(self.caption.text()))

    def _show(self, kind: str) -> None:
        plane, line = kind == "plane", kind == "line"
        # A hidden plot keeps its row in the layout: it gives up its height too.
        for row, (plot, on) in enumerate(
            ((self.plot, plane), (self.hist_plot, line), (self.d_plot, line))
        ):
            plot.setVisible(on)
            plot.setMaximumHeight(16_777_215 if on else 0)
            self.graphics.ci.layout.setRowStretchFactor(
                row, (1, 3, 2)[row] if on else 0
            )
        for box in self.toggles.values():
            box.setVisible(plane)

    def _on_toggle_toggled(self, _on: bool) -> None:
        for key, item in self.items.items():
            item.setVisible(self.toggles[key].isChecked())
        self.schedule_redraw()

    def layer_shown(self, key: str) -> bool:
        """Whether layer ``key`` is toggled on."""
        return self.toggles[key].isChecked()

    # --- drawing -----------------------------------------------------------------------------
    def _redraw(self) -> None:
        picture = self.picture
        if picture is None:
            return
        if picture.plane is not None:
            self._draw_plane(picture.plane)
        elif picture.line is not None:
            self._draw_line(picture.line)

    def _draw_plane(self, p: PlanePicture) -> None:
        # Hidden layers are not drawn: their data waits for the next redraw.
        if self.layer_shown("heatmap"):
            self.heatmap.setImage(p.heatmap, levels=p.levels, autoLevels=False)
        if self.layer_shown("mesh"):
            self.mesh.setData(*mesh_lines(p.mesh))
        if self.layer_shown("real"):
            self.real.setData(p.real[:, 0], p.real[:, 1])
        if self.layer_shown("fake"):
            self.fake.setData(p.fake[:, 0], p.fake[:, 1])
        x0, x1, y0, y1 = p.extent
        if self.layer_shown("arrows"):
            # One arrow in four: 512 of them hid the samples under them.
            self.arrows.setData(
                *arrow_segments(
                    p.fake[::ARROW_EVERY],
                    p.arrows[::ARROW_EVERY],
                    ARROW_SHARE * (x1 - x0),
                )
            )
        if self._placed != p.extent:
            self.heatmap.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
            self.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.0)
            self._placed = p.extent
        text = self._caption(p)
        if text != self.caption.text():
            self.caption.setText(text)
            self.caption.setVisible(bool(text))

    def _caption(self, p: PlanePicture) -> str:
        picture = self.picture
        assert picture is not None
        mesh = (
            f"mesh: noise dimensions {p.mesh_dims[0] + 1} and {p.mesh_dims[1] + 1}"
            + (", others 0" if p.noise_dim > 2 else "")
            if p.mesh_dims[0] != p.mesh_dims[1]
            else "mesh: the noise line"
        )
        return f"D(real) {picture.d_real:.2f} · D(fake) {picture.d_fake:.2f} · {mesh}"

    def _draw_line(self, p: LinePicture) -> None:
        self.real_hist.setData(p.edges, p.real)
        self.fake_hist.setData(p.edges, p.fake)
        self.d_curve.setData(p.xs, p.d)
        top = float(max(p.real.max(initial=0.0), p.fake.max(initial=0.0)))
        self.hist_plot.setYRange(0.0, top * 1.08 or 1.0, padding=0)
        self.hist_plot.setXRange(float(p.edges[0]), float(p.edges[-1]), padding=0)
        picture = self.picture
        assert picture is not None
        self.caption.setText(
            f"D(real) {picture.d_real:.2f} · D(fake) {picture.d_fake:.2f}"
        )
        self.caption.setVisible(True)

    # --- export --------------------------------------------------------------------------------
    def csv_columns(self) -> dict[str, Sequence[object] | np.ndarray]:
        """The samples, the arrows and the heatmap grid (2-D); bins and D (1-D)."""
        picture = self.picture
        out: dict[str, Sequence[object] | np.ndarray] = {}
        if picture is None:
            return out
        if picture.plane is not None:
            p = picture.plane
            out["real_x"], out["real_y"] = p.real[:, 0], p.real[:, 1]
            out["fake_x"], out["fake_y"] = p.fake[:, 0], p.fake[:, 1]
            out["grad_x"], out["grad_y"] = p.arrows[:, 0], p.arrows[:, 1]
            g = p.heatmap.shape[0]
            x0, x1, y0, y1 = p.extent
            cx = x0 + (np.arange(g) + 0.5) * (x1 - x0) / g
            cy = y0 + (np.arange(g) + 0.5) * (y1 - y0) / g
            xx, yy = np.meshgrid(cx, cy)
            out["grid_x"], out["grid_y"] = xx.reshape(-1), yy.reshape(-1)
            out["d_grid"] = p.heatmap.reshape(-1)
        elif picture.line is not None:
            line = picture.line
            out["bin_left"], out["bin_right"] = line.edges[:-1], line.edges[1:]
            out["real_density"], out["fake_density"] = line.real, line.fake
            out["x"], out["d"] = line.xs, line.d
        return out
