"""The race view: the variants' loss curves overlaid, their standings, and a column per
variant of the decision boundary, weight histograms and evaluation.

The per-variant panels are the window's own panel classes (``BoundaryPanel``,
``HistogramsPanel``, ``EvaluationPanel``), one instance per variant, fed exactly as
the training docks feed theirs. ``RaceView`` only shows; ``RaceMode`` (race_mode.py)
runs the race and calls ``begin``, ``add_batches``, ``add_epoch``, ``show_probe``,
``show_evaluation`` and ``show_standings``.

Inputs of more than two values are compared on one plane: the boundary tab has
its own ``PlaneChooser`` above the columns (starting from the main Decision
Boundary's choice, ``begin(names, choice)``), fed with the race's data (every
variant trains on the same data and scaling), and every column draws on the
plane it makes; ``sig_plane_changed`` asks the race for grids on it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from nndesk.training.planes import Plane
from nndesk.training.race import Standing, best_cell

from ..panels.plots.base import GrowingBuffer, PlotPanel, steady_axis
from ..panels.plots.boundary import MAX_POINTS, BoundaryPanel
from ..panels.plots.evaluation import EvaluationPanel
from ..panels.plots.histograms import HistogramsPanel
from ..panels.plots.plane_chooser import PlaneChooser
from .docks import class_names_of
from .probes import Evaluation, GridResult, ModelInfo, ProbeResult

__all__ = ["VARIANT_COLORS", "RaceCurvesPanel", "RaceView"]

VARIANT_COLORS: tuple[tuple[int, int, int], ...] = (
    (31, 119, 180),
    (214, 39, 40),
    (44, 160, 44),
    (148, 103, 189),
)
"""The colour of variant i in every race plot and label."""

# Two-line headers keep the nine columns within half of a 1240 px window.
_COLUMNS = ("variant", "epochs", "loss", "val\nloss", "best\nval loss", "metric",
            "best\nmetric", "s per\nepoch", "status")  # fmt: skip


class RaceCurvesPanel(PlotPanel):
    """Every variant's batch losses (thin) and epoch validation losses (or training
    losses without validation data, with markers), one colour and name each."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Race curves", parent)
        self.plot = self.graphics.addPlot(row=0, col=0)
        self.plot.setLabel("left", "loss")
        self.plot.setLabel("bottom", "epoch")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setClipToView(True)
        self.plot.setDownsampling(auto=True, mode="peak")
        steady_axis(self.plot.getAxis("left"))
        self.legend = self.plot.addLegend(offset=(-10, 10), labelTextSize="8pt")
        self.names: list[str] = []
        self._batch: list[pg.PlotDataItem] = []
        self._epoch: list[pg.PlotDataItem] = []
        self._bx: list[GrowingBuffer] = []
        self._by: list[GrowingBuffer] = []
        self._ex: list[list[float]] = []
        self._ey: list[list[float]] = []
        self._apply_palette()

    def begin(self, names: Sequence[str]) -> None:
        """One pair of curves per variant (drops what was shown)."""
        for item in [*self._batch, *self._epoch]:
            self.plot.removeItem(item)
        self.legend.clear()
        self.names = list(names)
        self._batch, self._epoch = [], []
        for i, name in enumerate(self.names):
            color = VARIANT_COLORS[i % len(VARIANT_COLORS)]
            self._batch.append(
                self.plot.plot([], [], pen=pg.mkPen(*color, 70, width=1))
            )
            self._epoch.append(
                self.plot.plot(
                    [],
                    [],
                    pen=pg.mkPen(*color, width=2),
                    name=name,
                    symbol="o",
                    symbolSize=5,
                    symbolBrush=color,
                    symbolPen=None,
                )  # fmt: skip
            )
        n = len(self.names)
        self._bx = [GrowingBuffer() for _ in range(n)]
        self._by = [GrowingBuffer() for _ in range(n)]
        self._ex = [[] for _ in range(n)]
        self._ey = [[] for _ in range(n)]
        self.schedule_redraw()

    def add_batches(self, index: int, steps: np.ndarray, losses: np.ndarray) -> None:
        ok = np.isfinite(steps) & np.isfinite(losses)
        self._bx[index].extend(np.asarray(steps, dtype=np.float64)[ok])
        self._by[index].extend(np.asarray(losses, dtype=np.float64)[ok])
        self.schedule_redraw()

    def add_epoch(self, index: int, logs: Mapping[str, Any]) -> None:
        value = logs.get("val_loss", logs.get("loss"))
        if value is None or not np.isfinite(float(value)):
            return
        self._ex[index].append(float(logs["epoch"]) + 1.0)
        self._ey[index].append(float(value))
        self.schedule_redraw()

    def epoch_values(self, index: int) -> list[float]:
        """The epoch values shown for variant ``index``."""
        return list(self._ey[index])

    def _redraw(self) -> None:
        for i in range(len(self.names)):
            self._batch[i].setData(self._bx[i].view, self._by[i].view)
            self._epoch[i].setData(self._ex[i], self._ey[i])

    def csv_columns(self) -> dict[str, Sequence[object] | np.ndarray]:
        columns: dict[str, Sequence[object] | np.ndarray] = {}
        for i, name in enumerate(self.names):
            columns[f"{name} step"] = self._bx[i].view
            columns[f"{name} batch loss"] = self._by[i].view
            columns[f"{name} epoch"] = self._ex[i]
            columns[f"{name} epoch loss"] = self._ey[i]
        return columns


class _Column(QWidget):
    """A variant's name above one of its panels."""

    def __init__(self, name: str, color: tuple[int, int, int], panel: QWidget) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        self.label = QLabel(name, self)
        self.label.setStyleSheet(f"color: {QColor(*color).name()}; font-weight: bold;")
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.label)
        layout.addWidget(panel, 1)


class RaceView(QWidget):
    """What a race shows, with its controls.

    Signals
    -------
    sig_pause_requested, sig_resume_requested, sig_stop_requested
    sig_promote_requested(int)
        Promote the variant of this index into the main document.
    sig_plane_changed(object)
        The plane every boundary column draws on (a ``Plane``; None for 2-D
        inputs and inputs that take none).
    """

    sig_pause_requested = Signal()
    sig_resume_requested = Signal()
    sig_stop_requested = Signal()
    sig_promote_requested = Signal(int)
    sig_plane_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("race_view")
        self.status = QLabel("No race yet: Training > Race… starts one.", self)
        self.status.setWordWrap(True)
        self.pause_button = QPushButton("Pause", self)
        self.pause_button.setCheckable(True)
        self.pause_button.setToolTip("Pause the race after the current batch")
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip("End the race after the current batch")
        self.winner = QComboBox(self)
        self.winner.setToolTip("The variant to promote (the leader is chosen)")
        self.promote_button = QPushButton("Promote winner", self)
        self.promote_button.setToolTip(
            "Put this variant's network, settings and trained weights into the "
            "document (one undo step)"
        )
        top = QHBoxLayout()
        top.setContentsMargins(4, 2, 4, 2)
        top.addWidget(self.status, 1)
        for w in (
            self.pause_button,
            self.stop_button,
            self.winner,
            self.promote_button,
        ):
            top.addWidget(w)

        self.curves = RaceCurvesPanel(self)
        self.table = QTableWidget(0, len(_COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(_COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        upper = QSplitter(Qt.Orientation.Horizontal, self)
        upper.addWidget(self.curves)
        upper.addWidget(self.table)
        upper.setStretchFactor(0, 1)
        upper.setStretchFactor(1, 1)
        self.upper = upper
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.rows: dict[str, QWidget] = {}
        for key, title in (
            ("boundary", "Decision boundary"),
            ("histograms", "Weight histograms"),
            ("evaluation", "Evaluation"),
        ):
            page = QWidget(self.tabs)
            QHBoxLayout(page).setContentsMargins(0, 0, 0, 0)
            self.rows[key] = page
            if key == "boundary":
                # One plane for every column, chosen above them.
                holder = QWidget(self.tabs)
                column = QVBoxLayout(holder)
                column.setContentsMargins(0, 0, 0, 0)
                column.setSpacing(0)
                self.plane_chooser = PlaneChooser(holder)
                self.plane_chooser.set_compact(True)  # no table beside the columns
                self.plane_chooser.restored_from = "The Decision Boundary's plane"
                # The compact slider at the race window's full width was 1100 px.
                self.plane_chooser.setMaximumWidth(40 * self.fontMetrics().height())
                chooser_row = QHBoxLayout()
                chooser_row.setContentsMargins(4, 2, 4, 0)
                chooser_row.addWidget(self.plane_chooser.mode_box)
                chooser_row.addStretch(1)
                column.addLayout(chooser_row)
                column.addWidget(self.plane_chooser)
                column.addWidget(page, 1)
                self.tabs.addTab(holder, title)
                continue
            self.tabs.addTab(page, title)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(upper)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(split, 1)

        self.boundaries: list[BoundaryPanel] = []
        self.histograms: list[HistogramsPanel] = []
        self.evaluations: list[EvaluationPanel] = []
        self.names: list[str] = []
        self._sized = False
        self._jobs: deque[Callable[[], None]] = deque()
        self._job_timer = QTimer(self)
        self._job_timer.setInterval(0)
        self._job_timer.timeout.connect(self._on_job_timer_timeout)
        self.pause_button.toggled.connect(self._on_pause_button_toggled)
        self.stop_button.clicked.connect(self.sig_stop_requested)
        self.promote_button.clicked.connect(self._on_promote_button_clicked)
        self.plane_chooser.sig_plane_changed.connect(self._on_plane_changed)
        self.plane: Plane | None = None
        self.set_running(False, can_promote=False)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._sized:
            # The standings need as much room as the curves.
            self._sized = True
            width = max(self.width(), 400)
            self.upper.setSizes([int(width * 0.5), int(width * 0.5)])

    # --- the race's life -------------------------------------------------------------
    def begin(self, names: Sequence[str], choice: dict[str, Any] | None = None) -> None:
        """Empty columns for ``names`` (the panels are filled by ``set_structure``);
        ``choice``: the plane to start from (``PlaneChooser.choice()``, the main
        Decision Boundary's), taken with the race's data."""
        self.names = list(names)
        self.plane_chooser.set_data(None, None, None)
        self.plane_chooser.forget()
        self.plane_chooser.restore(choice)
        self._jobs.clear()
        self.curves.begin(self.names)
        for page in self.rows.values():
            layout = page.layout()
            while layout.count():
                item = layout.takeAt(0)
                widget = item.widget() if item is not None else None
                if widget is not None:
                    widget.deleteLater()
        self.boundaries = [BoundaryPanel(choose_plane=False) for _ in self.names]
        self.histograms = [HistogramsPanel() for _ in self.names]
        self.evaluations = [EvaluationPanel() for _ in self.names]
        for i, name in enumerate(self.names):
            color = VARIANT_COLORS[i % len(VARIANT_COLORS)]
            # Painting belongs to the document's own boundary panel.
            self.boundaries[i].paint_button.hide()
            for key, panels in (
                ("boundary", self.boundaries),
                ("histograms", self.histograms),
                ("evaluation", self.evaluations),
            ):
                self.rows[key].layout().addWidget(_Column(name, color, panels[i]), 1)
        self.table.setRowCount(0)
        self.winner.clear()
        self.winner.addItems(self.names)
        self.status.setText(f"Racing {len(self.names)} variants…")

    @property
    def busy(self) -> bool:
        """Whether panel updates still wait for their turn of the event loop."""
        return bool(self._jobs)

    def _later(self, job: Callable[[], None]) -> None:
        self._jobs.append(job)
        if not self._job_timer.isActive():
            self._job_timer.start()

    def _on_job_timer_timeout(self) -> None:
        if self._jobs:
            self._jobs.popleft()()
        if not self._jobs:
            self._job_timer.stop()

    def set_structure(
        self,
        index: int,
        info: ModelInfo,
        x: np.ndarray,
        y: np.ndarray,
        preprocessing: dict[str, Any] | None,
    ) -> None:
        """The network of variant ``index`` and the data it trains on.

        Building a panel's plots takes a while (0.2-0.4 s for the histograms of a
        small network on a busy machine): the panels are built one per turn of the
        event loop, those of the tab in front first, and the probes and
        evaluations that arrive meanwhile queue behind them.
        """
        if index == 0:
            shows = info.is_plane or info.takes_planes
            self.tabs.setTabEnabled(0, shows)
            if not shows and self.tabs.currentIndex() == 0:
                self.tabs.setCurrentIndex(2)
        jobs = {
            "boundary": lambda: self._build_boundary(index, info, x, y, preprocessing),
            "histograms": lambda: self.histograms[index].set_structure(
                [c.name for c in info.layers if c.kernel or c.bias]
            ),
            "evaluation": lambda: self.evaluations[index].prepare(
                info.task, class_names_of(info)
            ),
        }
        front = list(self.rows)[self.tabs.currentIndex()]
        for key in (front, *(k for k in jobs if k != front)):
            self._later(jobs[key])

    def _build_boundary(
        self,
        index: int,
        info: ModelInfo,
        x: np.ndarray,
        y: np.ndarray,
        preprocessing: dict[str, Any] | None,
    ) -> None:
        boundary = self.boundaries[index]
        boundary.set_structure(info)
        # The output map alone: in a column this narrow the per-unit maps beside
        # it were a few pixels wide.
        boundary.maps_layout.clear()
        boundary.unit_maps = {}
        boundary.graphics.ci.layout.setColumnStretchFactor(1, 0)
        boundary.set_points(x if info.is_plane or info.takes_planes else None, y)
        boundary.set_scaling(preprocessing)
        if index == 0 and info.takes_planes:
            # Every variant trains on these data (the race checks the scaling
            # agrees): one plane through them serves every column.
            keep = np.linspace(0, len(x) - 1, min(len(x), MAX_POINTS))
            self.plane_chooser.set_data(info, x, y, keep.astype(np.int64))
        boundary.set_plane(self.plane)

    def _on_plane_changed(self, plane: Plane | None) -> None:
        self.plane = plane
        for boundary in self.boundaries:
            boundary.set_plane(plane)
        self.sig_plane_changed.emit(plane)

    def show_grid(self, index: int, grid: GridResult | None) -> None:
        """A decision grid of variant ``index`` alone (a plane chosen after the
        race)."""
        if self._jobs:
            self._later(lambda: self.boundaries[index].set_grid(grid))
        else:
            self.boundaries[index].set_grid(grid)

    def show_probe(self, index: int, probe: ProbeResult) -> None:
        """The boundary and histograms of variant ``index`` from a probe."""
        if self._jobs:
            # Queued jobs run as they come: re-checking _jobs when this one's turn
            # comes would queue it again behind any other, forever.
            self._later(lambda: self._show_probe_now(index, probe))
        else:
            self._show_probe_now(index, probe)

    def _show_probe_now(self, index: int, probe: ProbeResult) -> None:
        grid = probe.grid
        if grid is not None and grid.hidden:
            grid = replace(grid, hidden={})  # no unit maps (see _build_boundary)
        self.boundaries[index].set_grid(grid)
        self.histograms[index].set_histograms(
            probe.weight_hist, probe.grad_hist, probe.step
        )

    def show_evaluation(self, index: int, evaluation: Evaluation) -> None:
        """The evaluation of variant ``index``."""
        if self._jobs:
            self._later(lambda: self.evaluations[index].set_evaluation(evaluation))
        else:
            self.evaluations[index].set_evaluation(evaluation)

    def show_standings(self, standings: Sequence[Standing], leader: int) -> None:
        """The table, one row per variant; the leader is chosen to promote."""
        self.table.setRowCount(len(standings))
        first = next((s for s in standings if s.metric), None)
        if first is not None:
            val = "val " if first.val_metric_value is not None else ""
            name = f"{val}{first.metric}"
            self.table.setHorizontalHeaderItem(
                5, QTableWidgetItem(name.replace(" ", "\n"))
            )
            self.table.setHorizontalHeaderItem(6, QTableWidgetItem(f"best\n{name}"))
        loss = next((s.best[0] for s in standings if s.best), "val_loss")
        self.table.setHorizontalHeaderItem(
            4, QTableWidgetItem("best\n" + loss.replace("_", " "))
        )
        for row, s in enumerate(standings):
            shown = (
                s.val_metric_value
                if s.val_metric_value is not None
                else (s.metric_value)
            )
            metric = _fmt(shown) if s.metric else "–"
            cells = [
                ("★ " if row == leader else "") + s.name,
                str(s.epochs),
                _fmt(s.loss),
                _fmt(s.val_loss),
                best_cell(s.best),
                metric,
                best_cell(s.best_metric),
                _fmt(s.seconds_per_epoch, "{:.3f}"),
                s.status.replace("_", " "),
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if s.message:
                    item.setToolTip(s.message)  # why it dropped out
                if col == 0:
                    color = VARIANT_COLORS[row % len(VARIANT_COLORS)]
                    item.setForeground(QColor(*color))
                self.table.setItem(row, col, item)
        if 0 <= leader < self.winner.count() and not self.promote_button.isEnabled():
            self.winner.setCurrentIndex(leader)

    def set_running(self, running: bool, can_promote: bool = True) -> None:
        """Enable the run controls or the promote controls."""
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        if not running:
            self.pause_button.blockSignals(True)
            self.pause_button.setChecked(False)
            self.pause_button.setText("Pause")
            self.pause_button.blockSignals(False)
        self.winner.setEnabled(not running and can_promote)
        self.promote_button.setEnabled(not running and can_promote)

    def _on_pause_button_toggled(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        if paused:
            self.sig_pause_requested.emit()
        else:
            self.sig_resume_requested.emit()

    def _on_promote_button_clicked(self) -> None:
        index = self.winner.currentIndex()
        if index >= 0:
            self.sig_promote_requested.emit(index)


def _fmt(value: float | None, form: str = "{:.4f}") -> str:
    if value is None:
        return "–"
    return form.format(value) if np.isfinite(value) else str(value)
