"""GAN samples: a grid of images from fixed noise and an interpolation strip.

The grid is drawn from the same noise vectors at every probe, so what changes
from one picture to the next is the generator, not the noise. The strip walks
between two fixed noise vectors (``gan_views.interpolate_noise``): smooth changes
along it mean the generator has learnt a continuous map, jumps mean it has not.
The mosaics are made in the worker (``gan_views.ImagePicture``); this panel only
shows them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QWidget

from nndesk.training.gan_views import GanPicture

from .base import PlotPanel
from .sample_picker import notice_label

__all__ = ["GanSamplesPanel"]


class GanSamplesPanel(PlotPanel):
    """The sample grid above the interpolation strip.

    Call ``set_picture(picture)`` with each probe's ``GanPicture``.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("GAN Samples", parent)
        self.caption = QLabel("", self)
        self.caption.setWordWrap(True)
        self.caption.setToolTip(
            "The discriminator's mean output on real images and on these samples "
            "(the grid's noise is the same at every picture: what changes is the "
            "generator)"
        )
        self.controls.insertWidget(0, self.caption, 1)
        self.notice = notice_label(self)
        layout = self.layout()
        assert layout is not None
        layout.addWidget(self.notice)
        self.grid_box = self._box(0, "samples from fixed noise")
        self.strip_box = self._box(1, "from one noise vector to another")
        self.grid_image = pg.ImageItem(axisOrder="row-major")
        self.strip_image = pg.ImageItem(axisOrder="row-major")
        self.grid_box.addItem(self.grid_image)
        self.strip_box.addItem(self.strip_image)
        self.graphics.ci.layout.setRowStretchFactor(1, 5)
        self.graphics.ci.layout.setRowStretchFactor(3, 1)
        self.picture: GanPicture | None = None
        self.clear()

    def _box(self, index: int, title: str) -> pg.ViewBox:
        self.graphics.addLabel(title, row=2 * index, col=0, size="9pt")
        box = self.graphics.addViewBox(row=2 * index + 1, col=0, lockAspect=True)
        box.setMenuEnabled(False)
        box.setMouseEnabled(False, False)
        box.invertY(True)  # images read top down
        return box

    def clear(self) -> None:
        """Forget the samples (another network, or Reset Weights)."""
        self.picture = None
        self.grid_image.clear()
        self.strip_image.clear()
        self.caption.setText("")
        self._say("No image GAN yet: its samples appear here once it runs.")

    def _say(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))
        self.splitter.setVisible(not text)

    def set_picture(self, picture: GanPicture | None) -> None:
        """Show ``picture``'s images (a picture of 1-D or 2-D data says where to
        look instead)."""
        if picture is None:
            return
        if picture.image is None:
            self._say(
                "This GAN makes points, not images: the GAN picture panel shows them."
            )
            return
        self._say("")
        self.picture = picture
        self.schedule_redraw()

    def _redraw(self) -> None:
        picture = self.picture
        if picture is None or picture.image is None:
            return
        image = picture.image
        for item, box, mosaic in (
            (self.grid_image, self.grid_box, image.grid),
            (self.strip_image, self.strip_box, image.strip),
        ):
            first = item.image is None or item.image.shape != mosaic.shape
            item.setImage(mosaic, levels=(0.0, 1.0), autoLevels=False)
            if first:
                box.autoRange(padding=0.01)
        self.caption.setText(
            f"D(real) {picture.d_real:.2f}, D(fake) {picture.d_fake:.2f}"
        )

    def csv_columns(self) -> dict[str, Sequence[object] | np.ndarray]:
        """The grid's pixels row by row (one column per mosaic row)."""
        picture = self.picture
        if picture is None or picture.image is None:
            return {}
        grid = picture.image.grid
        flat = grid if grid.ndim == 2 else grid.mean(axis=2)
        return {f"row_{r}": flat[r] for r in range(flat.shape[0])}
