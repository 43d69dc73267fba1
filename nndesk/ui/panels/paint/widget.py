"""A ready paint widget: a plot of the painted set with the paint toolbar above it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QVBoxLayout, QWidget

from nndesk.document.graph import Document

from ..plots.base import style_plot
from .commands import Push
from .tool import PaintTool
from .toolbar import PaintToolbar

__all__ = ["MIN_PLOT_HEIGHT", "PaintWidget"]

MIN_PLOT_HEIGHT = 220
"""Least height of the PaintWidget's plot, in pixels."""


class PaintWidget(QWidget):
    """A plot of the painted set with the toolbar above it, painting always on.

    Parameters
    ----------
    push
        The canvas editor's ``push``; None shows the points read-only.

    Signals
    -------
    sig_message(str)
        One sentence for the status bar.
    """

    sig_message = Signal(str)

    def __init__(self, push: Push | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = pg.PlotWidget(self)
        self.view.setMenuEnabled(False)
        # Room to paint in even where the panel is short (a scrolling dock).
        self.view.setMinimumHeight(MIN_PLOT_HEIGHT)
        self.plot: pg.PlotItem = self.view.getPlotItem()
        self.plot.setAspectLocked(True)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setXRange(-1.0, 1.0)
        self.plot.setYRange(-1.0, 1.0)
        self.tool = PaintTool(self.plot, push)
        self.toolbar = PaintToolbar(self.tool, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.view, 1)
        self.tool.sig_message.connect(self.sig_message)
        self.tool.set_active(push is not None)
        self._apply_palette()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()  # the theme changed (light or dark)

    def _apply_palette(self) -> None:
        palette = self.palette()
        self.view.setBackground(palette.color(QPalette.ColorRole.Base))
        style_plot(self.plot, palette)

    def set_document(self, doc: Document | None) -> None:
        """Show and paint ``doc``'s painted set; frames its points when it has some."""
        self.tool.set_document(doc)
        self.frame()

    def frame(self) -> None:
        """Fit the view to the painted points (the -1..1 square when there are none)."""
        xy = self.tool.painted.xy
        if len(xy):
            lo, hi = xy.min(axis=0), xy.max(axis=0)
            pad = np.maximum((hi - lo) * 0.1, 0.25)
            self.plot.setXRange(float(lo[0] - pad[0]), float(hi[0] + pad[0]), padding=0)
            self.plot.setYRange(float(lo[1] - pad[1]), float(hi[1] + pad[1]), padding=0)
        else:
            self.plot.setXRange(-1.0, 1.0)
            self.plot.setYRange(-1.0, 1.0)

    def viewport_pos(self, x: float, y: float) -> Any:
        """Where the data point ``(x, y)`` is in ``view.viewport()`` pixels
        (for tests that drive the mouse)."""
        scene = self.tool.box.mapViewToScene(QPointF(x, y))
        return self.view.mapFromScene(scene)
