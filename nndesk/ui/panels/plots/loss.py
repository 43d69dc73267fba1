"""Learning curves: batch and epoch loss, validation loss, metrics, and the epoch table.

The x axis counts epochs: a batch loss is drawn at ``epoch + (batch + 1) / batches``
and an epoch's values at the end of that epoch (``epoch + 1``), so the smoothed
batch curve and the epoch curve line up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
)
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QCheckBox, QHeaderView, QTableView, QWidget

from nndesk.training.history import PROGRESS_KEYS

from .base import GrowingBuffer, PlotPanel, steady_axis

__all__ = ["CurvesPanel", "EpochTableModel", "smooth_ema"]

_LEGEND_SIZE = "8pt"

MARKERS_UP_TO = 40
"""Epoch points get markers while there are at most this many epochs."""

SMOOTHING = 0.9
"""Weight of the past in the smoothed batch loss (an exponential moving average)."""

_COLORS = {
    "batch": (150, 150, 150, 60),
    "smooth": (31, 119, 180),
    "loss": (214, 39, 40),
    "val": (44, 160, 44),
}
_METRIC_COLORS = [(148, 103, 189), (255, 127, 14), (23, 190, 207), (188, 189, 34)]

Index = QModelIndex | QPersistentModelIndex


def smooth_ema(
    values: np.ndarray, beta: float, state: tuple[float, int]
) -> tuple[np.ndarray, tuple[float, int]]:
    """Debiased exponential moving average of ``values``, continuing from ``state``.

    Parameters
    ----------
    values : np.ndarray
        ``(n,)`` new raw values.
    beta : float
        Weight of the past, in [0, 1).
    state : tuple of (float, int)
        ``(biased average, count)`` after the previous values; ``(0.0, 0)`` to start.

    Returns
    -------
    smoothed : np.ndarray
        ``(n,)`` float64; each value divided by ``1 - beta**count`` so the start is
        not pulled toward zero (as TensorBoard does).
    state : tuple of (float, int)
        To pass with the next values.
    """
    avg, count = state
    out = np.empty(len(values), dtype=np.float64)
    for i, v in enumerate(values):
        avg = beta * avg + (1.0 - beta) * float(v)
        count += 1
        out[i] = avg / (1.0 - beta**count)
    return out, (avg, count)


class EpochTableModel(QAbstractTableModel):
    """Rows of epoch results: epoch (1-based), loss, val loss, metrics, lr."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._columns: list[str] = ["epoch"]
        self._rows: list[dict[str, float]] = []

    # --- Qt model ------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        key = self._columns[index.column()]
        value = self._rows[index.row()].get(key)
        if role == Qt.ItemDataRole.DisplayRole:
            if value is None:
                return ""
            if key == "epoch":
                return str(int(value))
            return f"{value:.4g}"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(  # noqa: N802 - Qt override
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
        ):
            return self._columns[section].replace("_", " ")
        return None

    # --- content --------------------------------------------------------------------
    @property
    def columns(self) -> list[str]:
        """Column keys in display order."""
        return list(self._columns)

    def rows(self) -> list[dict[str, float]]:
        """Every row as a dict (copies)."""
        return [dict(r) for r in self._rows]

    def append(self, epoch: int, values: Mapping[str, float]) -> None:
        """Add the row of ``epoch`` (0-based); new keys add columns."""
        new = [k for k in values if k not in self._columns]
        if new:
            self.beginResetModel()
            self._columns = _ordered([*self._columns, *new])
            self.endResetModel()
        row = {"epoch": float(epoch + 1), **{k: float(v) for k, v in values.items()}}
        n = len(self._rows)
        self.beginInsertRows(QModelIndex(), n, n)
        self._rows.append(row)
        self.endInsertRows()

    def set_rows(self, rows: Sequence[Mapping[str, float]]) -> None:
        """Replace every row at once (``rows[e]`` holds epoch ``e``'s values)."""
        self.beginResetModel()
        keys: list[str] = ["epoch"]
        for row in rows:
            keys += [k for k in row if k not in keys]
        self._columns = _ordered(keys)
        self._rows = [
            {"epoch": float(e + 1), **{k: float(v) for k, v in row.items()}}
            for e, row in enumerate(rows)
        ]
        self.endResetModel()

    def clear(self) -> None:
        """Remove every row and column but the epoch."""
        self.beginResetModel()
        self._columns = ["epoch"]
        self._rows = []
        self.endResetModel()


def _ordered(keys: Sequence[str]) -> list[str]:
    """epoch, loss, val_loss, train metrics, val metrics, lr."""

    def rank(key: str) -> tuple[int, str]:
        if key == "epoch":
            return (0, "")
        if key == "loss":
            return (1, "")
        if key == "val_loss":
            return (2, "")
        if key == "lr":
            return (5, "")
        return (4 if key.startswith("val_") else 3, key.removeprefix("val_"))

    return sorted(dict.fromkeys(keys), key=rank)


def _epoch_values(logs: Mapping[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in logs.items():
        if key in PROGRESS_KEYS or isinstance(value, bool):
            continue
        try:
            out[key] = float(value)
        except (TypeError, ValueError):
            continue
    return out


class CurvesPanel(PlotPanel):
    """Loss curves (batch, smoothed batch, epoch, validation), metric curves and the
    epoch table.

    Feed it with ``add_batches`` (every batch loss, in chunks), ``add_epoch`` (each
    epoch's logs) or ``set_history`` (a saved history); it redraws on its timer.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Learning curves", parent)
        self.log_scale = QCheckBox("Log scale")
        self.log_scale.setToolTip("Show the loss on a logarithmic axis")
        self.log_scale.toggled.connect(self._on_log_scale_toggled)
        self.controls.insertWidget(0, self.log_scale)

        # Each plot's legend is a row of its own above the plot: inside the plot
        # it covered the curves and, in a narrow dock, ran off the left edge
        # ("ccuracy", issue 11).
        self.loss_plot = self.graphics.addPlot(row=1, col=0)
        self.loss_plot.setLabel("left", "loss")
        self.loss_plot.showGrid(x=True, y=True, alpha=0.2)
        self.metric_plot = self.graphics.addPlot(row=3, col=0)
        self.metric_plot.setLabel("left", "metrics")
        self.metric_plot.setLabel("bottom", "epoch")
        self.metric_plot.showGrid(x=True, y=True, alpha=0.2)
        self.metric_plot.setXLink(self.loss_plot)
        self.legends = [
            self._legend_row(self.loss_plot, 0),
            self._legend_row(self.metric_plot, 2),
        ]
        self.graphics.ci.layout.setRowStretchFactor(1, 3)
        self.graphics.ci.layout.setRowStretchFactor(3, 2)
        self.graphics.installEventFilter(self)
        for plot in (self.loss_plot, self.metric_plot):
            steady_axis(plot.getAxis("left"))
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")

        self.batch_curve = self._curve(self.loss_plot, "batch", _COLORS["batch"], 1)
        self.smooth_curve = self._curve(
            self.loss_plot, "smoothed", _COLORS["smooth"], 2
        )
        self.epoch_curve = self._curve(
            self.loss_plot, "epoch", _COLORS["loss"], 2, symbol=True
        )
        self.val_curve = self._curve(
            self.loss_plot, "validation", _COLORS["val"], 2, symbol=True
        )
        self.metric_curves: dict[str, pg.PlotDataItem] = {}
        self._running = False

        self._batch_x = GrowingBuffer()
        self._batch_y = GrowingBuffer()
        self._smooth_y = GrowingBuffer()
        self._smooth_state: tuple[float, int] = (0.0, 0)
        self._epoch_x: dict[str, GrowingBuffer] = {}
        self._epoch_y: dict[str, GrowingBuffer] = {}

        self.table_model = EpochTableModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.table_model)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.setAlternatingRowColors(True)
        self.splitter.addWidget(self.table)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.table_model.rowsInserted.connect(self._on_rows_inserted)
        self._apply_palette()

    def _legend_row(self, plot: pg.PlotItem, row: int) -> pg.LegendItem:
        """A legend laid out in its own row of the panel, listing ``plot``'s curves
        (as many side by side as the width holds, see ``_fit_legends``)."""
        legend = pg.LegendItem(
            frame=False, labelTextSize=_LEGEND_SIZE, horSpacing=12, colCount=1
        )
        self.graphics.addItem(legend, row=row, col=0)
        plot.legend = legend  # PlotItem.plot(name=...) lists its curves here
        return legend

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        was_narrow = self.is_narrow
        super().resizeEvent(event)
        if self.is_narrow != was_narrow:
            self._fit_table_width()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.graphics and event.type() == QEvent.Type.Resize:
            # The plots' width changes with the panel's and with the table's.
            QTimer.singleShot(0, self._fit_legends)
        return super().eventFilter(watched, event)

    def _fit_legends(self) -> None:
        """As many legend columns as fit the plots' width (at least one): a legend
        wider than the view would widen the plots past its right edge."""
        width = max(1.0, self.graphics.viewport().width() - 8.0)
        for legend in self.legends:
            if not legend.items:
                continue
            columns = len(legend.items)
            while True:
                if columns != legend.columnCount:
                    legend.setColumnCount(columns)
                needed = legend.layout.effectiveSizeHint(Qt.SizeHint.MinimumSize)
                if columns == 1 or needed.width() <= width:
                    break
                columns -= 1
            legend.updateGeometry()
        # The view sized its layout when it last resized, no narrower than the
        # legends were then: size it to the view again.
        self.graphics.ci.setGeometry(self.graphics.range)

    @staticmethod
    def _curve(
        plot: pg.PlotItem,
        name: str,
        color: tuple[int, ...],
        width: float,
        symbol: bool = False,
    ) -> pg.PlotDataItem:
        pen = pg.mkPen(color=color, width=width)
        if not name:  # not listed in the legend
            return plot.plot([], [], pen=pen)
        if symbol:
            return plot.plot(
                [], [], pen=pen, name=name, symbol="o", symbolSize=5,
                symbolBrush=color, symbolPen=None,
            )  # fmt: skip
        return plot.plot([], [], pen=pen, name=name)

    # --- data in ---------------------------------------------------------------------
    def add_batches(
        self, steps: Sequence[float] | np.ndarray, losses: Sequence[float] | np.ndarray
    ) -> None:
        """Append batch losses at ``steps`` (fractional epochs); NaN/Inf are skipped."""
        x = np.asarray(steps, dtype=np.float64).reshape(-1)
        y = np.asarray(losses, dtype=np.float64).reshape(-1)
        ok = np.isfinite(x) & np.isfinite(y)
        if not ok.any():
            return
        x, y = x[ok], y[ok]
        smooth, self._smooth_state = smooth_ema(y, SMOOTHING, self._smooth_state)
        self._batch_x.extend(x)
        self._batch_y.extend(y)
        self._smooth_y.extend(smooth)
        self.schedule_redraw()

    def add_epoch(self, epoch: int, logs: Mapping[str, Any]) -> None:
        """Append the results of ``epoch`` (0-based): loss, val_loss, metrics, lr."""
        values = _epoch_values(logs)
        self.table_model.append(epoch, values)
        for key, value in values.items():
            if key != "lr" and math.isfinite(value):
                self._epoch_x.setdefault(key, GrowingBuffer(64)).append(epoch + 1.0)
                self._epoch_y.setdefault(key, GrowingBuffer(64)).append(value)
        self.schedule_redraw()

    def set_history(self, history: Mapping[str, Sequence[float]]) -> None:
        """Show a whole saved history (``history[key][e]``: epoch ``e``); no batches."""
        self.clear()
        n = max((len(v) for v in history.values()), default=0)
        rows = [
            {k: float(v[e]) for k, v in history.items() if e < len(v)} for e in range(n)
        ]
        self.table_model.set_rows(rows)
        for key, values in history.items():
            if key == "lr":
                continue
            y = np.asarray(values, dtype=np.float64)
            x = np.arange(1, len(y) + 1, dtype=np.float64)
            ok = np.isfinite(y)
            self._epoch_x.setdefault(key, GrowingBuffer(max(64, n))).extend(x[ok])
            self._epoch_y.setdefault(key, GrowingBuffer(max(64, n))).extend(y[ok])
        self.schedule_redraw()

    def clear(self) -> None:
        """Forget every point and row (the curves stay, empty)."""
        for buf in (self._batch_x, self._batch_y, self._smooth_y):
            buf.clear()
        self._smooth_state = (0.0, 0)
        for buf in (*self._epoch_x.values(), *self._epoch_y.values()):
            buf.clear()
        self.table_model.clear()
        self.schedule_redraw()

    def begin_run(self, first: float, last: float) -> None:
        """A run from epoch ``first`` to ``last`` starts: hold the layout still.

        The epoch axis is fixed to ``[0, last]``, so the curves grow into a still
        frame and the axis is not laid out anew on every redraw (its tick labels
        are a good part of a redraw's cost); the table widens only after the run.
        """
        self._running = True
        start = min(0.0, float(first))
        self.loss_plot.setXRange(start, max(float(last), start + 1.0), padding=0.02)

    def end_run(self) -> None:
        """The run ended: the epoch axis follows the data again, the table widens."""
        self._running = False
        self.loss_plot.enableAutoRange(axis=pg.ViewBox.XAxis)
        self._fit_table_width()

    # --- reading -----------------------------------------------------------------------
    def epoch_values(self, key: str) -> np.ndarray:
        """The finite per-epoch values of ``key`` held (a copy)."""
        buf = self._epoch_y.get(key)
        return np.array([]) if buf is None else buf.view.copy()

    @property
    def batch_count(self) -> int:
        """Number of batch losses held."""
        return len(self._batch_y)

    # --- drawing -----------------------------------------------------------------------
    def _redraw(self) -> None:
        log_y = self.log_scale.isChecked()
        self._set(self.batch_curve, self._batch_x.view, self._batch_y.view, log_y)
        self._set(self.smooth_curve, self._batch_x.view, self._smooth_y.view, log_y)
        # Markers help while there are few epochs and clutter once there are many.
        marker = "o" if len(self._epoch_y.get("loss", ())) <= MARKERS_UP_TO else None
        for key, curve in (("loss", self.epoch_curve), ("val_loss", self.val_curve)):
            curve.setSymbol(marker)
            if key in self._epoch_y:
                self._set(
                    curve, self._epoch_x[key].view, self._epoch_y[key].view, log_y
                )
            else:
                curve.setData([], [])
        for key in self._epoch_y:
            if key in ("loss", "val_loss") or key.endswith("_loss"):
                continue
            curve = self.metric_curves.get(key) or self._add_metric_curve(key)
            curve.setData(self._epoch_x[key].view, self._epoch_y[key].view)

    @staticmethod
    def _set(curve: pg.PlotDataItem, x: np.ndarray, y: np.ndarray, log_y: bool) -> None:
        if log_y:
            # A zero loss has no logarithm; clamp it to the smallest positive float32.
            y = np.maximum(y, np.finfo(np.float32).tiny)
        curve.setData(x, y)

    def _add_metric_curve(self, key: str) -> pg.PlotDataItem:
        base = key.removeprefix("val_")
        # Colours in the order metrics first came (a metric and its validation
        # twin share one): by sorted name, a later 'd_fake' took 'd_real''s.
        names = list(dict.fromkeys(k.removeprefix("val_") for k in self.metric_curves))
        names += [] if base in names else [base]
        color = _METRIC_COLORS[names.index(base) % len(_METRIC_COLORS)]
        style = (
            Qt.PenStyle.DashLine if key.startswith("val_") else Qt.PenStyle.SolidLine
        )
        label = f"validation {base}" if key.startswith("val_") else base
        curve = self.metric_plot.plot(
            [], [], pen=pg.mkPen(color=color, width=2, style=style), name=label
        )
        self.metric_curves[key] = curve
        self._fit_legends()
        return curve

    def _on_log_scale_toggled(self, checked: bool) -> None:
        self.loss_plot.setLogMode(y=checked)
        self._dirty = True
        self.flush()

    def _on_rows_inserted(self) -> None:
        self.table.scrollToBottom()
        if not self._running:
            # During a run a wider table would resize every dock of the window,
            # and repaint them all, in the middle of training.
            self._fit_table_width()

    def _fit_table_width(self) -> None:
        # Keep every column readable: the splitter may not squeeze the table below
        # the width its (content-sized) columns need.
        header = self.table.horizontalHeader()
        frame = 2 * self.table.frameWidth()
        scrollbar = self.table.verticalScrollBar().sizeHint().width()
        # ... but not over 40 % of the panel: the curves need room too (the table
        # scrolls sideways then).
        wanted = header.length() + frame + scrollbar
        if self.is_narrow:  # folded away: the curves take the width
            self.table.setMinimumWidth(0)
            return
        self.table.setMinimumWidth(min(wanted, max(120, int(self.width() * 0.4))))

    # --- export --------------------------------------------------------------------------
    def csv_columns(self) -> dict[str, np.ndarray | list[float]]:
        columns: dict[str, np.ndarray | list[float]] = {}
        rows = self.table_model.rows()
        for key in self.table_model.columns:
            columns[key] = [r.get(key, math.nan) for r in rows]
        columns["batch_step"] = self._batch_x.view.copy()
        columns["batch_loss"] = self._batch_y.view.copy()
        columns["batch_loss_smoothed"] = self._smooth_y.view.copy()
        return columns
