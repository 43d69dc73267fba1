"""Evaluation plots: confusion matrix, per-class table and ROC curves, or, for regression,
predicted against actual values with R², MAE and RMSE.

The numbers come from the worker (``probes.evaluate_model``, built on
``nndesk.engine.metrics``); the panel lays them out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QResizeEvent
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from nndesk.document.text import counted
from nndesk.ui.training.probes import Evaluation

from .base import PlotPanel, style_plot
from .boundary import CLASS_COLORS

__all__ = ["ROC_DRAWN_POINTS", "CellCounts", "EvaluationPanel", "thin_curve"]

NARROW_WIDTH = 720
"""Below this panel width the per-class table moves under the plots."""

MAX_CELL_LABELS = 20
"""Classes up to which the confusion matrix prints its counts in the cells."""

SIDE_BY_SIDE_NAMES = 4
"""Classes up to which the predicted-class axis prints names (else numbers)."""

MIN_COUNT_PX = 7.0
"""The smallest text height (pixels) a confusion-matrix count is printed at."""

ROC_LEGEND_UP_TO = 10
"""Classes up to which the ROC curves have a legend (beside the plot); with more,
the plot's title gives their mean AUC."""

_REPORT_COLUMNS = ("precision", "recall", "f1", "support")


ROC_DRAWN_POINTS = 400
"""Points drawn per ROC curve (the CSV export keeps every point)."""


class CellCounts(pg.GraphicsObject):
    """The counts printed in the cells of a ``k`` x ``k`` matrix image, one item.

    Cell ``(i, j)`` is centred on ``(j, i)`` in its plot's coordinates. Its text is
    drawn at a constant pixel size with the painter itself: a ``TextItem`` per cell
    costs a document layout per changed count, a hundred per evaluation.
    """

    def __init__(self, k: int) -> None:
        super().__init__()
        self.k = int(k)
        self.counts = np.zeros((self.k, self.k), dtype=np.int64)
        self.light = np.zeros((self.k, self.k), dtype=bool)  # white text on dark
        self.shown = False

    def set_counts(self, counts: np.ndarray | None, light: np.ndarray | None) -> None:
        """Show ``counts`` (``(k, k)``; None: nothing), light text where ``light``."""
        if counts is None:
            self.shown = False
        else:
            self.counts = np.asarray(counts, dtype=np.int64).reshape(self.k, self.k)
            self.light = np.zeros_like(self.light) if light is None else light
            self.shown = True
        self.update()

    def texts(self) -> list[str]:
        """The text of every cell, row by row ("" when nothing is shown)."""
        if not self.shown:
            return [""] * (self.k * self.k)
        return [str(int(c)) for c in self.counts.reshape(-1)]

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return QRectF(-0.5, -0.5, self.k, self.k)

    def text_font(self, base: QFont, width: float, height: float) -> QFont | None:
        """``base``, made smaller if the widest count would not fit a cell of
        ``width`` x ``height`` pixels; None when even the smallest readable size
        (``MIN_COUNT_PX``) would not (a count running into its neighbours reads as
        one long wrong number)."""
        widest = str(int(self.counts.max())) if self.counts.size else "0"
        metrics = QFontMetricsF(base)
        scale = min(
            1.0,
            (width - 2.0) / max(1.0, metrics.horizontalAdvance(widest)),
            (height - 1.0) / max(1.0, metrics.height()),
        )
        if scale <= 0.0:
            return None
        font = QFont(base)
        size = base.pointSizeF() if base.pointSizeF() > 0 else 9.0
        while scale < 1.0:
            font.setPointSizeF(size * scale)
            # Font sizes come in steps: shrink on until the count really fits.
            metrics = QFontMetricsF(font)
            if metrics.height() < MIN_COUNT_PX:
                return None
            if metrics.horizontalAdvance(widest) <= width - 2.0:
                break
            scale *= 0.95
        if QFontMetricsF(font).height() < MIN_COUNT_PX:
            return None
        return font

    def paint(self, painter: QPainter, *args: object) -> None:
        if not self.shown:
            return
        to_device = painter.transform()
        size = to_device.map(QPointF(1.0, 1.0)) - to_device.map(QPointF(0.0, 0.0))
        w, h = abs(size.x()), abs(size.y())
        font = self.text_font(painter.font(), w, h)
        if font is None:
            return  # cells too small to hold a number
        painter.save()
        painter.setFont(font)
        painter.resetTransform()  # text at a constant pixel size
        colours = (QColor(20, 20, 20), QColor(250, 250, 250))
        align = Qt.AlignmentFlag.AlignCenter
        for i in range(self.k):
            for j in range(self.k):
                centre = to_device.map(QPointF(j, i))
                painter.setPen(colours[int(self.light[i, j])])
                cell = QRectF(centre.x() - w / 2, centre.y() - h / 2, w, h)
                painter.drawText(cell, align, str(int(self.counts[i, j])))
        painter.restore()


class EvaluationPanel(PlotPanel):
    """Shows the latest ``Evaluation``; plots are rebuilt only when the task or the
    classes change, and updated in place otherwise.

    Signals
    -------
    sig_cell_clicked(int, int)
        A confusion-matrix cell was clicked: (true class, predicted class).
    sig_evaluation_shown(object)
        Every evaluation given to the panel (or None), for the views that show
        other parts of it.
    """

    sig_cell_clicked = Signal(int, int)
    sig_evaluation_shown = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Evaluation", parent)
        self.graphics.scene().sigMouseClicked.connect(self._on_scene_mouse_clicked)
        self.side_share = (0.74, 0.26)
        self.fold_side = False  # narrow, the table goes under the plots instead
        self.summary = QLabel("No evaluation yet: train or press Evaluate.", self)
        # A line of its own under the controls, wrapped, two lines high: in the
        # controls' row it set the dock's minimum width (324 px), and wrapped
        # there it took the plots' height in a narrow dock.
        self.summary.setWordWrap(True)
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.summary.setFixedHeight(2 * self.summary.fontMetrics().lineSpacing() + 4)
        self.summary.setContentsMargins(4, 0, 4, 0)
        layout = self.layout()
        layout.insertWidget(layout.indexOf(self.splitter), self.summary)
        self.table = QTableWidget(0, len(_REPORT_COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(_REPORT_COLUMNS))
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.splitter.addWidget(self.table)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.evaluation: Evaluation | None = None
        self._layout_key: tuple[object, ...] | None = None
        self.cm_plot: pg.PlotItem | None = None
        self.cm_image: pg.ImageItem | None = None
        self.cell_counts: CellCounts | None = None
        self.roc_plot: pg.PlotItem | None = None
        self.roc_curves: dict[str, pg.PlotDataItem] = {}
        self.scatter_plot: pg.PlotItem | None = None
        self.scatter: pg.ScatterPlotItem | None = None
        self._cm_names: tuple[str, ...] = ()
        self._mean_auc: float | None = None

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        # The per-class table needs about 300 px: in a narrow dock it goes below
        # the plots instead of squeezing them.
        wide = event.size().width() >= NARROW_WIDTH
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if self.splitter.orientation() != orientation:
            self.splitter.setOrientation(orientation)
            total = event.size().width() if wide else event.size().height()
            share = self.side_share if wide else (0.72, 0.28)  # the matrix first
            self.splitter.setSizes([int(total * share[0]), int(total * share[1])])
        self._fit_roc_legend()

    def set_evaluation(self, evaluation: Evaluation | None) -> None:
        """Show ``evaluation`` (kept by reference); None empties the plots (their
        items stay, for the next evaluation of the same task)."""
        self.evaluation = evaluation
        self.sig_evaluation_shown.emit(evaluation)
        if evaluation is None:
            self._clear_content()
            self.summary.setText("No evaluation yet: train or press Evaluate.")
            return
        self.schedule_redraw()

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """(true, predicted) class of the confusion-matrix cell at a scene point."""
        plot, ev = self.cm_plot, self.evaluation
        if plot is None or ev is None or ev.confusion is None:
            return None
        if not plot.vb.sceneBoundingRect().contains(scene_pos):
            return None
        point = plot.vb.mapSceneToView(scene_pos)
        k = len(ev.confusion)
        row, col = int(round(point.y())), int(round(point.x()))
        return (row, col) if 0 <= row < k and 0 <= col < k else None

    def _on_scene_mouse_clicked(self, event: object) -> None:
        cell = self.cell_at(event.scenePos())  # type: ignore[attr-defined]
        if cell is not None:
            self.sig_cell_clicked.emit(*cell)

    def reset(self) -> None:
        """Forget the plots of the network shown (another network comes, or none)."""
        self.evaluation = None
        self._layout_key = None
        self.graphics.clear()
        self.cm_plot = self.cm_image = self.roc_plot = None
        self.scatter_plot = self.scatter = None
        self.cell_counts, self.roc_curves = None, {}
        self.table.setRowCount(0)
        self.summary.setText("No evaluation yet: train or press Evaluate.")

    def prepare(self, task: str, class_names: tuple[str, ...]) -> None:
        """Build the plots for a task and its classes ahead of the first evaluation
        (building them costs a noticeable moment; better before training than in it)."""
        key = (task, tuple(class_names))
        if key != self._layout_key:
            self._build(
                Evaluation(split="", task=task, n=0, epoch=0, class_names=key[1])
            )
            self._layout_key = key
            self._clear_content()

    def _clear_content(self) -> None:
        if self.cm_image is not None:
            k = len(self._layout_key[1]) if self._layout_key else 0
            self.cm_image.setImage(np.zeros((k, k)), levels=(0.0, 1.0))
        if self.cell_counts is not None:
            self.cell_counts.set_counts(None, None)
        for curve in self.roc_curves.values():
            curve.setData([], [])
        if self.scatter is not None:
            self.scatter.setData([], [])
        for r in range(self.table.rowCount()):
            for c in range(self.table.columnCount()):
                item = self.table.item(r, c)
                if item is not None:
                    item.setText("")

    # --- layout -----------------------------------------------------------------------------
    def _build(self, ev: Evaluation) -> None:
        self.graphics.clear()
        self.cm_plot = self.cm_image = self.roc_plot = None
        self.scatter_plot = self.scatter = None
        self.cell_counts, self.roc_curves = None, {}
        if ev.task == "classification":
            self._build_classification(ev.class_names)
            self.table.show()
        else:
            self._build_regression()
            self.table.hide()
        for item in self.graphics.ci.items:
            if isinstance(item, pg.PlotItem):
                style_plot(item, self.palette())

    def _build_classification(self, names: Sequence[str]) -> None:
        k = len(names)
        plot = self.graphics.addPlot(row=0, col=0, title="Confusion matrix")
        plot.setToolTip(
            "Click a cell to see one of its samples in Feature Maps and Saliency"
        )
        plot.setMenuEnabled(False)
        plot.invertY(True)
        plot.setAspectLocked(True)
        plot.setLabel("left", "true class")
        plot.setLabel("bottom", "predicted class")
        # Names side by side under narrow columns run into each other: past
        # SIDE_BY_SIDE_NAMES classes the columns are numbered, in the order of the
        # rows' names ("Coat (4)"); see _thin_cm_ticks.
        image = pg.ImageItem(axisOrder="row-major")
        image.setLookupTable(pg.colormap.get("CET-L12").getLookupTable(0.0, 1.0, 256))
        image.setImage(np.zeros((k, k)), levels=(0.0, 1.0))
        image.setRect(-0.5, -0.5, k, k)
        plot.addItem(image)
        if k <= MAX_CELL_LABELS:
            self.cell_counts = CellCounts(k)
            plot.addItem(self.cell_counts)
        self.cm_plot, self.cm_image = plot, image
        self._cm_names = tuple(names)
        plot.vb.sigResized.connect(self._thin_cm_ticks)
        self._thin_cm_ticks()

        roc = self.graphics.addPlot(row=0, col=1, title="ROC curves")
        roc.setMenuEnabled(False)
        roc.setLabel("bottom", "false positive rate")
        roc.setLabel("left", "true positive rate")
        roc.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)
        # Fixed ticks: automatic ones crowd into each other in a narrow dock.
        rates = [[(v, f"{v:g}") for v in (0.0, 0.5, 1.0)]]
        roc.getAxis("bottom").setTicks(rates)
        roc.getAxis("left").setTicks(rates)
        if k <= ROC_LEGEND_UP_TO:
            # Beside the plot, not over the curves it names.
            legend = pg.LegendItem(frame=False, labelTextSize="8pt")
            self.graphics.addItem(legend, row=0, col=2)
            roc.legend = legend  # roc.plot(name=...) lists its curves here
        roc.plot(
            [0, 1],
            [0, 1],
            pen=pg.mkPen(150, 150, 150, width=1, style=Qt.PenStyle.DashLine),
        )
        self.roc_plot = roc
        # One curve per class made now, ahead of the first evaluation: making them
        # (with their legend rows) was most of the first draw during a run (17 of
        # 23 ms for 10 classes, measured offscreen; 180 ms in a loaded window).
        for name in names:
            self._roc_curve(name)
        # The matrix holds the counts: it gets the larger share of the width.
        self.graphics.ci.layout.setColumnStretchFactor(0, 3)
        self.graphics.ci.layout.setColumnStretchFactor(1, 2)

    def cm_tick_labels(self) -> dict[str, list[tuple[float, str]]]:
        """The labelled ticks of the confusion matrix's axes ("left", "bottom")."""
        if self.cm_plot is None:
            return {}
        return {
            name: [t for t in self.cm_plot.getAxis(name)._tickLevels[0] if t[1]]
            for name in ("left", "bottom")
        }

    def _thin_cm_ticks(self) -> None:
        """Label every class while the labels fit, else every n-th (30 classes in
        a short dock printed their names on top of each other)."""
        plot, names = self.cm_plot, self._cm_names
        if plot is None or not names:
            return
        k = len(names)
        vb = plot.vb
        cell = min(vb.width(), vb.height()) / max(1, k)  # aspect locked: square
        left, bottom = plot.getAxis("left"), plot.getAxis("bottom")
        metrics = QFontMetricsF(left.style["tickFont"] or left.font())
        numbered = k > SIDE_BY_SIDE_NAMES
        rows = [f"{n} ({i})" if numbered else str(n) for i, n in enumerate(names)]
        cols = [str(i) if numbered else str(n) for i, n in enumerate(names)]
        widest = max(metrics.horizontalAdvance(c) for c in cols) + 4
        row_step = _label_step(metrics.height() + 1, cell)
        col_step = _label_step(widest, cell)
        for axis, labels, step in ((left, rows, row_step), (bottom, cols, col_step)):
            major = [(i, t) for i, t in enumerate(labels) if i % step == 0]
            minor = [(i, "") for i in range(k) if i % step]
            axis.setTicks([major, minor])

    def _build_regression(self) -> None:
        plot = self.graphics.addPlot(row=0, col=0, title="Predicted vs actual")
        plot.setMenuEnabled(False)
        plot.setLabel("bottom", "actual")
        plot.setLabel("left", "predicted")
        plot.addItem(
            pg.InfiniteLine(
                angle=45, pen=pg.mkPen(150, 150, 150, style=Qt.PenStyle.DashLine)
            )
        )
        self.scatter = pg.ScatterPlotItem(
            size=4, pen=None, brush=pg.mkBrush(31, 119, 180, 140)
        )
        plot.addItem(self.scatter)
        self.scatter_plot = plot

    # --- drawing ----------------------------------------------------------------------------
    def _redraw(self) -> None:
        ev = self.evaluation
        if ev is None:
            return
        key = (ev.task, tuple(ev.class_names))
        if key != self._layout_key:
            self._build(ev)
            self._layout_key = key
        count = (
            f"first {ev.n:,} of {counted(ev.total, 'sample')}"
            if ev.total > ev.n
            else counted(ev.n, "sample")
        )
        where = f"{ev.split} data, {count}, after epoch {ev.epoch + 1}"
        if ev.task == "classification":
            self._draw_classification(ev)
            accuracy = ev.report["accuracy"] if ev.report else float("nan")
            self.summary.setText(f"Accuracy {accuracy:.4f} on the {where}")
        else:
            self._draw_regression(ev)
            self.summary.setText(
                f"R² {ev.r2:.4f} · MAE {ev.mae:.4g} · RMSE {ev.rmse:.4g} on the {where}"
            )

    def _draw_classification(self, ev: Evaluation) -> None:
        cm = ev.confusion
        if cm is not None and self.cm_image is not None:
            support = cm.sum(axis=1, keepdims=True)
            share = np.divide(cm, support, out=np.zeros(cm.shape), where=support > 0)
            self.cm_image.setImage(share, levels=(0.0, 1.0), autoLevels=False)
            if self.cell_counts is not None:
                self.cell_counts.set_counts(cm, share > 0.55)
        drawn = {name for name, *_ in ev.roc}
        for name, curve in list(self.roc_curves.items()):
            if name not in drawn:  # no positives (or a one-output binary model)
                self._drop_roc_curve(name, curve)
        for name, fpr, tpr, area in ev.roc:
            curve = self.roc_curves.get(name) or self._roc_curve(name)
            if curve is not None:
                curve.setData(*thin_curve(fpr, tpr, ROC_DRAWN_POINTS))
                # One curve (a binary classifier) needs no class name.
                text = f"AUC {area:.3f}" if len(ev.roc) == 1 else f"{name} {area:.2f}"
                curve.opts["name"] = text
        self._mean_auc = (
            float(np.mean([area for *_, area in ev.roc])) if ev.roc else None
        )
        if self.roc_plot is not None and self.roc_plot.legend is not None:
            legend = self.roc_plot.legend
            changed = False
            for sample, label in legend.items:
                text = sample.item.opts.get("name", "")
                if label.text != text:
                    label.setText(text)
                    changed = True
            if changed:
                legend.updateSize()
        self._fit_roc_legend()
        self._fill_table(ev)

    def _roc_curve(self, name: str) -> pg.PlotDataItem | None:
        """The ROC curve of a class, made (with its legend row) when first needed."""
        if self.roc_plot is None:
            return None
        names = self._cm_names
        k = names.index(name) if name in names else len(self.roc_curves)
        color = CLASS_COLORS[k % len(CLASS_COLORS)].astype(int)
        curve = self.roc_plot.plot([], [], pen=pg.mkPen(*color, width=2), name=name)
        self.roc_curves[name] = curve
        return curve

    def _drop_roc_curve(self, name: str, curve: pg.PlotDataItem) -> None:
        """Take a class's curve (and its legend row) away: the evaluation has none."""
        if self.roc_plot is not None:
            if self.roc_plot.legend is not None:
                self.roc_plot.legend.removeItem(curve)
            self.roc_plot.removeItem(curve)
        del self.roc_curves[name]

    def roc_legend_shown(self) -> bool:
        """Whether the ROC curves' legend is laid out beside their plot."""
        roc = self.roc_plot
        return roc is not None and roc.legend is not None and roc.legend.isVisible()

    def _fit_roc_legend(self) -> None:
        """The legend beside the ROC plot while both plots keep a useful width;
        otherwise (and past ROC_LEGEND_UP_TO classes) the title gives the mean AUC."""
        roc = self.roc_plot
        if roc is None:
            return
        legend = roc.legend
        em = self.fontMetrics().height()
        # Narrower than two readable plots, the ROC curves give way to the matrix
        # (squeezed beside it they were a strip of axis labels).
        self._show_roc(self.graphics.width() >= 2 * 13 * em)
        room = (
            legend is not None
            and roc.isVisible()
            and self.graphics.width() >= legend.boundingRect().width() + 2 * 14 * em
        )
        if legend is not None and room != legend.isVisible():
            layout = self.graphics.ci
            if room:
                layout.addItem(legend, row=0, col=2)
                legend.show()
            else:
                layout.removeItem(legend)
                legend.hide()
        several = self._mean_auc is not None and len(self.roc_curves) > 1
        title = (
            f"ROC, mean AUC {self._mean_auc:.3f}"
            if several and not room
            else "ROC curves"
        )
        if roc.titleLabel.text != title:
            roc.setTitle(title)
            style_plot(roc, self.palette())

    def roc_shown(self) -> bool:
        """Whether the ROC plot is laid out beside the confusion matrix."""
        return self.roc_plot is not None and self.roc_plot.isVisible()

    def _show_roc(self, shown: bool) -> None:
        roc = self.roc_plot
        if roc is None or shown == roc.isVisible():
            return
        layout = self.graphics.ci
        if shown:
            layout.addItem(roc, row=0, col=1)
            roc.show()
        else:
            layout.removeItem(roc)
            roc.hide()
            if roc.legend is not None and roc.legend.isVisible():
                layout.removeItem(roc.legend)
                roc.legend.hide()
        layout.setGeometry(self.graphics.range)

    def _fill_table(self, ev: Evaluation) -> None:
        report = ev.report or {}
        rows = [*ev.class_names, "macro avg", "weighted avg"]
        self.table.setRowCount(len(rows))
        self.table.setVerticalHeaderLabels(rows)
        for r, name in enumerate(rows):
            entry = report.get(name, {})
            for c, key in enumerate(_REPORT_COLUMNS):
                value = entry.get(key)
                text = (
                    ""
                    if value is None
                    else (str(int(value)) if key == "support" else f"{value:.3f}")
                )
                item = self.table.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                    self.table.setItem(r, c, item)
                item.setText(text)

    def _draw_regression(self, ev: Evaluation) -> None:
        if self.scatter is None or ev.y_true is None or ev.y_pred is None:
            return
        self.scatter.setData(ev.y_true, ev.y_pred)

    # --- export ------------------------------------------------------------------------------
    def csv_columns(self) -> dict[str, Sequence[object] | np.ndarray]:
        ev = self.evaluation
        if ev is None:
            return {}
        if ev.task != "classification":
            return {
                "actual": ev.y_true if ev.y_true is not None else [],
                "predicted": ev.y_pred if ev.y_pred is not None else [],
            }
        columns: dict[str, Sequence[object] | np.ndarray] = {
            "true_class": list(ev.class_names)
        }
        if ev.confusion is not None:
            for j, name in enumerate(ev.class_names):
                columns[f"predicted_{name}"] = ev.confusion[:, j]
        report = ev.report or {}
        for key in _REPORT_COLUMNS:
            columns[key] = [report.get(n, {}).get(key, "") for n in ev.class_names]
        for name, fpr, tpr, area in ev.roc:
            columns[f"roc_{name}_fpr"] = fpr
            columns[f"roc_{name}_tpr"] = tpr
            columns[f"roc_{name}_auc"] = [area]
        return columns


def _label_step(label_px: float, cell_px: float) -> int:
    """Label every n-th of a row of cells ``cell_px`` apart so that labels
    ``label_px`` long do not touch."""
    return max(1, math.ceil(label_px / max(cell_px, 1e-6)))


def thin_curve(
    x: np.ndarray, y: np.ndarray, max_points: int
) -> tuple[np.ndarray, np.ndarray]:
    """At most about ``max_points`` points of a curve, spread evenly along its length.

    Parameters
    ----------
    x, y : np.ndarray
        ``(n,)`` float coordinates of a curve in the unit square (an ROC curve).
    max_points : int
        Roughly how many points to keep; the first and last are always kept.

    Returns
    -------
    tuple of np.ndarray
        The kept ``x`` and ``y``, ``(m,)`` with ``m <= max_points + 2``. A step
        between kept points is at most ``1 / max_points`` of the curve's length,
        below a pixel in a panel, while thousands of segments cost tens of
        milliseconds of painting on the GUI thread.
    """
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if x.size <= max_points + 2:
        return x, y
    step = np.abs(np.diff(x)) + np.abs(np.diff(y))
    length = np.concatenate(([0.0], np.cumsum(step)))
    total = length[-1]
    if not np.isfinite(total) or total <= 0.0:
        return x[[0, -1]], y[[0, -1]]
    bins = np.floor(length * (max_points / total))
    _, first = np.unique(bins, return_index=True)
    keep = np.union1d(first, [x.size - 1])
    return x[keep], y[keep]
