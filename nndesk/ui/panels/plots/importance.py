"""Feature importance of a tabular network: which input columns its predictions use.

Two bar charts, one bar per feature, most important first: the mean |gradient ×
input| over the evaluated samples, and the drop in the metric (accuracy or R²)
when one column is shuffled (permutation importance, with its spread over the
shuffles as error bars). The numbers come with each evaluation (during training,
or from Evaluate, which the Compute button runs); "Export CSV…" saves them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from nndesk.engine.errors import NNDeskError
from nndesk.training.explain import Importance
from nndesk.ui.training.probes import ModelInfo

from .base import PlotPanel
from .sample_picker import notice_label

log = logging.getLogger(__name__)

__all__ = ["ImportancePanel"]

_GRADIENT = (31, 119, 180)
_PERMUTATION = (245, 147, 34)
MAX_LABELLED = 40
"""Features up to which every bar is named on the axis."""
STACK_BELOW = 560
"""Below this panel width the two charts are stacked instead of side by side."""


class ImportancePanel(PlotPanel):
    """Per-feature importance bars and their CSV export.

    Signals
    -------
    sig_compute_requested
        The user asked for the importance now (the window evaluates the model).
    """

    sig_compute_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Feature Importance", parent)
        self.summary = QLabel("", self)
        # Its text changes with each evaluation; the dock's width must not.
        self.summary.setSizePolicy(
            QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred
        )
        self.compute_button = QPushButton("Compute", self)
        self.compute_button.setToolTip(
            "Evaluate the network now and compute the importance of each feature"
        )
        self.compute_button.clicked.connect(self.sig_compute_requested)
        self.csv_button = QPushButton("Export CSV…", self)
        self.csv_button.setToolTip("Save the importance of every feature as a CSV file")
        self.csv_button.clicked.connect(self._on_csv_button_clicked)
        self.controls.insertWidget(0, self.compute_button)
        self.controls.insertWidget(1, self.csv_button)
        self.notice = notice_label(self)
        self.layout().addWidget(self.notice)
        self.summary.setContentsMargins(6, 0, 6, 2)
        self.layout().addWidget(self.summary)  # under the charts: room for it
        self.info: ModelInfo | None = None
        self.importance: Importance | None = None
        self.order: np.ndarray = np.zeros(0, np.int64)
        self.gradient_plot = self._bar_plot(0, "mean |gradient × input|")
        self.permutation_plot = self._bar_plot(1, "drop when shuffled")
        self.stacked = False
        self.gradient_bars = pg.BarGraphItem(
            x0=[], y=[], width=[], height=0.7, brush=pg.mkBrush(*_GRADIENT)
        )
        self.permutation_bars = pg.BarGraphItem(
            x0=[], y=[], width=[], height=0.7, brush=pg.mkBrush(*_PERMUTATION)
        )
        self.error_bars = pg.ErrorBarItem(
            x=np.zeros(0), y=np.zeros(0), pen=pg.mkPen(90, 90, 90)
        )
        self.gradient_plot.addItem(self.gradient_bars)
        self.permutation_plot.addItem(self.permutation_bars)
        self.permutation_plot.addItem(self.error_bars)
        self._apply_palette()
        self.set_structure(None)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        # Side by side, each chart needs about 280 px; in a narrower dock the
        # second one ran past the panel's edge.
        stacked = event.size().width() < STACK_BELOW
        if stacked != self.stacked:
            self.stacked = stacked
            layout = self.graphics.ci
            layout.removeItem(self.permutation_plot)
            if stacked:
                layout.addItem(self.permutation_plot, row=1, col=0)
            else:
                layout.addItem(self.permutation_plot, row=0, col=1)

    def _bar_plot(self, col: int, title: str) -> pg.PlotItem:
        plot = self.graphics.addPlot(row=0, col=col, title=title)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.invertY(True)  # the most important feature on top
        plot.showGrid(x=True, y=False, alpha=0.2)
        return plot

    # --- structure and data --------------------------------------------------------------------
    def set_structure(self, info: ModelInfo | None) -> None:
        """Forget the numbers; say whether the view applies to ``info``."""
        self.info = info
        self.set_importance(None)
        if info is None:
            self._say("No network yet: draw one and choose its data.")
        elif not info.is_tabular:
            self._say(
                "Feature importance is for tabular data (one row of features per "
                f"sample); this network takes {tuple(info.input_shape)}."
            )
        else:
            self._say("")

    def _say(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))
        self.splitter.setVisible(not text)
        self.compute_button.setEnabled(not text)
        self.csv_button.setEnabled(not text and self.importance is not None)

    def set_importance(self, importance: Importance | None) -> None:
        """Show ``importance`` (None: no numbers yet)."""
        self.importance = importance
        self.csv_button.setEnabled(
            importance is not None and not self.notice.isVisible()
        )
        if importance is None:
            self.summary.setText("Not computed yet: train, or press Compute.")
            self.order = np.zeros(0, np.int64)
        else:
            self.summary.setText(
                f"{importance.n} samples · {importance.metric} "
                f"{importance.baseline:.4g} before shuffling"
            )
            self.order = np.argsort(-importance.permutation, kind="stable")
            self.permutation_plot.setTitle(
                f"{importance.metric} drop when shuffled", color=self.text_color.name()
            )
        self.schedule_redraw()

    def _redraw(self) -> None:
        imp = self.importance
        if imp is None:
            for bars in (self.gradient_bars, self.permutation_bars):
                bars.setOpts(x0=[], y=[], width=[])
            self.error_bars.setData(x=np.zeros(0), y=np.zeros(0))
            return
        order = self.order
        rows = np.arange(len(order), dtype=np.float64)
        names = [imp.features[j] for j in order]
        ticks = (
            [list(zip(rows, names, strict=True))]
            if len(order) <= MAX_LABELLED
            else None
        )
        for plot, bars, values in (
            (self.gradient_plot, self.gradient_bars, imp.gradient[order]),
            (self.permutation_plot, self.permutation_bars, imp.permutation[order]),
        ):
            x0 = np.minimum(values, 0.0)
            bars.setOpts(x0=x0, y=rows, width=np.abs(values), height=0.7)
            plot.getAxis("left").setTicks(ticks)
            reach = imp.permutation_std[order] if plot is self.permutation_plot else 0.0
            lo = min(0.0, float((values - reach).min()))
            hi = max(float((values + reach).max()), 1e-12)
            plot.setXRange(lo, hi, padding=0.05)
            plot.setYRange(-0.5, len(order) - 0.5, padding=0.02)
        std = imp.permutation_std[order]
        self.error_bars.setData(
            x=imp.permutation[order], y=rows, left=std, right=std, beam=0.25
        )

    # --- export -------------------------------------------------------------------------------
    def csv_columns(self) -> dict[str, Sequence[object] | np.ndarray]:
        imp = self.importance
        if imp is None:
            return {}
        metric = "accuracy" if imp.metric == "accuracy" else "r2"
        return {
            "feature": list(imp.features),
            "gradient_x_input": imp.gradient,
            f"permutation_{metric}_drop": imp.permutation,
            "permutation_std": imp.permutation_std,
        }

    def _on_csv_button_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export feature importance", "feature_importance.csv", "CSV (*.csv)"
        )
        if not path:
            return
        try:
            self.export_csv(path)
        except NNDeskError as exc:
            log.warning("%s", exc)
            QMessageBox.warning(self, "Export feature importance", str(exc))
