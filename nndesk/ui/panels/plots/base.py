"""What every live plot panel shares: coalesced redraws, palette colours, export actions.

A panel stores the latest values it is given (cheap, on every signal) and marks
itself dirty. One scheduler for all panels then redraws the dirty, visible ones on
a QTimer, one panel per tick, so a single pass of the event loop never repaints
every panel at once (the GUI stays responsive to input), and each panel at most
``redraw_hz`` times a second (``REDRAW_HZ`` unless the panel says less), less
often when its redraw is slow: a panel may use about ``PANEL_SHARE`` of the GUI
thread's time, all panels together ``TOTAL_SHARE``. The cost counted is wall-clock
time, the redraw and the paint of its view, so on a busy machine (where a redraw
waits for a CPU and takes longer) the panels redraw less often and leave training
its share; no dirty panel waits longer than ``MAX_WAIT`` seconds all the same. A
hidden panel redraws when shown. Plots and their items are created once; redraws
call ``setData``/``setImage``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QFontMetrics, QPalette, QResizeEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QGraphicsItem,
    QHBoxLayout,
    QMenu,
    QMessageBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nndesk.engine.errors import NNDeskError

from .export import export_png, export_svg, write_columns_csv

log = logging.getLogger(__name__)

__all__ = [
    "REDRAW_HZ",
    "GrowingBuffer",
    "PlotPanel",
    "SteadyRange",
    "diverging_lut",
    "show_latest_soon",
    "steady_axis",
    "style_plot",
]

REDRAW_HZ = 4.0
"""Upper bound of redraws per second per panel (a panel's ``redraw_hz``): curves
moving four times a second look smooth, and the data of most panels (probes of
the model) change no faster."""

PANEL_SHARE = 0.02
"""Share of the GUI thread's time one panel's redraws (and paints) may take."""

TOTAL_SHARE = 0.05
"""Share of the GUI thread's time the redraws of all panels together may take: after
a redraw or paint costing ``c`` seconds the next redraw (of any panel) waits
``c / TOTAL_SHARE``. Training competes with the GUI thread for the CPU, so this
bounds what watching costs even when every panel is shown and a run lasts only
seconds."""

MAX_WAIT = 2.0
"""Seconds a dirty, visible panel waits for its redraw at most, whatever the
budgets say (a very busy machine makes every redraw slow)."""

TICK_MS = 12
"""Interval of the redraw scheduler's timer."""


class _RedrawScheduler(QObject):
    """Redraws dirty panels one per timer tick, each no sooner than it may.

    The timer is set for the moment the first queued panel may redraw (at least
    ``TICK_MS`` ahead), not left ticking: while every dirty panel waits for the
    budget, the GUI thread sleeps instead of waking 80 times a second to find
    nothing due (each wake-up also preempts a training thread's half of a
    matrix product).
    """

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._queue: list[PlotPanel] = []
        self._next_any = 0.0  # no redraw of any panel before this time
        self._due_at = 0.0  # when the timer fires next (perf_counter), if active
        self._budget_off_until = 0.0  # till then only each panel's rate holds
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer_timeout)

    def add(self, panel: PlotPanel) -> None:
        if panel not in self._queue:
            self._queue.append(panel)
        self._arm(time.perf_counter(), panel)

    def discard(self, panel: PlotPanel) -> None:
        if panel in self._queue:
            self._queue.remove(panel)

    def charge(self, seconds: float) -> None:
        """A panel spent ``seconds`` redrawing or painting: the next redraw of any
        panel waits ``seconds / TOTAL_SHARE`` more (``MAX_WAIT`` at most)."""
        now = time.perf_counter()
        self._next_any = min(
            max(self._next_any, now) + seconds / TOTAL_SHARE, now + MAX_WAIT
        )

    def waive_budget(self, seconds: float) -> None:
        """For the next ``seconds``, panels redraw as often as their rate allows,
        whatever their redraws cost: nothing trains to leave the time to."""
        now = time.perf_counter()
        self._budget_off_until = now + seconds
        if self._queue:
            self._arm(now)

    def _due(self, panel: PlotPanel, now: float) -> float:
        """When ``panel`` may redraw (perf_counter seconds; ``now`` if it may now)."""
        if not panel.redraw_count:  # a new panel shows its data at once
            return now
        if now < self._budget_off_until:
            allowed = panel.last_redraw_at + 1.0 / panel.redraw_hz
        else:
            allowed = max(self._next_any, panel.next_redraw)
        return max(now, min(allowed, panel.dirty_since + MAX_WAIT))

    def _arm(self, now: float, panel: PlotPanel | None = None) -> None:
        """Set the timer for the first due panel of the queue (or of ``panel``
        alone when only it was added: it can only bring the timer forward)."""
        candidates = [panel] if panel is not None else self._queue
        due = min(
            (self._due(p, now) for p in candidates if shiboken6.isValid(p)),
            default=None,
        )
        if due is None:
            if not self._queue:
                self._timer.stop()
            return
        due = max(due, now + TICK_MS / 1000.0)
        if panel is not None and self._timer.isActive() and self._due_at <= due:
            return  # it fires early enough already
        self._due_at = due
        self._timer.start(max(TICK_MS, round(1000.0 * (due - now))))

    def _on_timer_timeout(self) -> None:
        now = time.perf_counter()
        for panel in list(self._queue):
            if not shiboken6.isValid(panel) or not panel.dirty:
                self._queue.remove(panel)
            elif not panel.isVisible():
                self._queue.remove(panel)  # showEvent brings it back
            elif self._due(panel, now) <= now:
                self._queue.remove(panel)
                panel.flush()
                # Its paint, which follows, is charged when it happens.
                panel.owe_paint()
                self.charge(panel.last_redraw_seconds)
                break
        if self._queue:
            self._arm(time.perf_counter())
        else:
            self._timer.stop()


_scheduler: _RedrawScheduler | None = None


def show_latest_soon(seconds: float = 2.0) -> None:
    """A run ended: for ``seconds`` every dirty panel redraws as soon as its rate
    allows, not when the redraw budget (there to leave training its CPU) says,
    so the run's end state shows at once (a 1-epoch spiral run's boundary waited
    the whole ``MAX_WAIT``)."""
    _redraw_scheduler().waive_budget(seconds)


def _redraw_scheduler() -> _RedrawScheduler:
    global _scheduler
    if _scheduler is None or not shiboken6.isValid(_scheduler):
        app = QCoreApplication.instance()
        assert app is not None, "panels need a QApplication"
        _scheduler = _RedrawScheduler(app)
    return _scheduler


class GrowingBuffer:
    """A preallocated float64 array that doubles when full; ``view`` is the filled part.

    Curves are fed views of it, so appending a point never reallocates the data
    the plot already holds (amortised O(1) per point).
    """

    def __init__(self, capacity: int = 256) -> None:
        self._data = np.empty(max(1, int(capacity)), dtype=np.float64)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def view(self) -> np.ndarray:
        """The filled part (a view, not a copy)."""
        return self._data[: self._size]

    def extend(self, values: Sequence[float] | np.ndarray) -> None:
        """Append ``values`` (1-D)."""
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        need = self._size + values.size
        if need > self._data.size:
            capacity = self._data.size
            while capacity < need:
                capacity *= 2
            grown = np.empty(capacity, dtype=np.float64)
            grown[: self._size] = self._data[: self._size]
            self._data = grown
        self._data[self._size : need] = values
        self._size = need

    def append(self, value: float) -> None:
        """Append one value."""
        self.extend((value,))

    def clear(self) -> None:
        """Forget every value (the storage is kept)."""
        self._size = 0


def diverging_lut(n: int = 256) -> np.ndarray:
    """A blue-white-orange lookup table ``(n, 4)`` uint8 for signed values.

    Negative values are blue, zero is near white, positive values orange: the
    colours of the TensorFlow Playground, readable on light and dark backgrounds.
    """
    cmap = pg.ColorMap(
        [0.0, 0.5, 1.0],
        [(8, 119, 189), (232, 234, 235), (245, 147, 34)],
    )
    return cmap.getLookupTable(0.0, 1.0, n, alpha=True)


def steady_axis(axis: pg.AxisItem, widest: str = "-0.000") -> None:
    """Give a vertical axis a constant width, room for tick labels like ``widest``.

    By default an axis resizes to its tick labels, and a resized axis lays out
    its whole plot grid again; with live data the labels change on most redraws.
    """
    metrics = QFontMetrics(axis.style["tickFont"] or axis.font())
    axis.setStyle(
        autoExpandTextSpace=False,
        tickTextWidth=metrics.horizontalAdvance(widest) + 2,
    )
    # pyqtgraph puts at least two major ticks on an axis however short: on a plot
    # 60 px tall (the learning curves at 1280x800) their labels overlapped.
    # Shadowing the method on this one axis keeps every other axis as it was.
    axis.tickSpacing = partial(_spaced_ticks, axis, 1.2 * metrics.height())


def _spaced_ticks(
    axis: pg.AxisItem, gap: float, lo: float, hi: float, size: float
) -> list[tuple[float, float]]:
    """pyqtgraph's tick levels, with majors at least ``gap`` pixels apart: when
    they would be closer, one level of 2 or 5 times the spacing, or a single tick
    at the round value nearest the middle."""
    levels = pg.AxisItem.tickSpacing(axis, lo, hi, size)
    span = abs(hi - lo)
    if not levels or span == 0 or size <= 0:
        return levels
    major = levels[0][0]
    if major / span * size >= gap:
        return levels
    low, high = min(lo, hi), max(lo, hi)
    for factor in (2.0, 5.0):
        spacing = major * factor
        if spacing / span * size >= gap and np.ceil(low / spacing) * spacing <= high:
            return [(spacing, 0.0)]
    # One label then, at the round value nearest the middle.
    middle = round((low + high) / 2 / major) * major
    return [(10.0 * span, middle)]


class SteadyRange:
    """One axis of a plot's view, kept still while the data stay well inside it.

    Auto-range follows every change of the data, and each change lays out the
    axis's tick labels anew, a good part of a live plot's redraw. This range moves
    only when the data leave it or fill less than ``slack`` of it, and then frames
    them with a ``margin`` (share of their span) on both sides.
    """

    def __init__(
        self, plot: pg.PlotItem, axis: str, margin: float = 0.08, slack: float = 0.5
    ) -> None:
        self.view = plot.getViewBox()
        self.axis = axis
        self.margin, self.slack = float(margin), float(slack)
        self.range: tuple[float, float] | None = None
        self.view.enableAutoRange(axis=self._axis_id(), enable=False)

    def _axis_id(self) -> int:
        return pg.ViewBox.XAxis if self.axis == "x" else pg.ViewBox.YAxis

    def fit(self, lo: float, hi: float) -> None:
        """Make sure ``[lo, hi]`` is in view (a no-op while it comfortably is)."""
        if not (np.isfinite(lo) and np.isfinite(hi)):
            return
        if hi - lo < 1e-12:
            half = max(abs(hi), 1.0) * 0.05
            lo, hi = lo - half, hi + half
        now = self.range
        if now is not None and now[0] <= lo and hi <= now[1]:
            if hi - lo >= self.slack * (now[1] - now[0]):
                return
        pad = self.margin * (hi - lo)
        self.range = (lo - pad, hi + pad)
        if self.axis == "x":
            self.view.setXRange(*self.range, padding=0)
        else:
            self.view.setYRange(*self.range, padding=0)

    def reset(self) -> None:
        """Frame the data afresh on the next ``fit``."""
        self.range = None


def style_plot(plot: pg.PlotItem, palette: QPalette) -> None:
    """Axis and title colours from the widget palette (light or dark theme)."""
    text = palette.color(QPalette.ColorRole.WindowText)
    pen = pg.mkPen(QColor(text))
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        axis.setPen(pen)
        axis.setTextPen(pen)
        # "loss (x0.001)" reads worse than plain 0.2, 0.4 ... Turning the prefix off
        # keeps the scale of the moment it was turned off (pyqtgraph 0.14): an
        # epoch axis styled while its range was 0..1 then read "20000" for 20.
        axis.setSIPrefixEnableRanges(())
        axis.enableAutoSIPrefix(False)
        # An axis reaches into its plot (tick marks, grid lines), so every redraw
        # of the plot repainted it, glyph by glyph: a quarter of a redraw's cost.
        # Cached, it is blitted until its range or style changes.
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    plot.titleLabel.setAttr("color", text.name())
    if plot.titleLabel.text:
        plot.titleLabel.setText(plot.titleLabel.text)
    if plot.legend is not None:
        plot.legend.setLabelTextColor(text)
        for _, label in plot.legend.items:
            label.setText(label.text)  # the new colour applies on the next setText
        base = QColor(palette.color(QPalette.ColorRole.Base))
        base.setAlpha(200)
        plot.legend.setBrush(pg.mkBrush(base))


class _PanelGraphics(pg.GraphicsLayoutWidget):
    """The panel's plots; the time painting them counts against its redraw budget."""

    def __init__(self, panel: PlotPanel) -> None:
        super().__init__()
        self._panel = panel

    def paintEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        start = time.perf_counter()
        super().paintEvent(event)
        self._panel.charge_paint(time.perf_counter() - start)


class PlotPanel(QWidget):
    """Base of the live plot panels.

    Subclasses build their plots inside ``self.graphics`` (one GraphicsLayoutWidget,
    so one export covers the whole panel), put optional controls in
    ``self.controls`` (a row above the plots), keep data in ``set_*`` methods that
    end with ``self.schedule_redraw()``, and implement ``_redraw`` and
    ``csv_columns``.

    Signals
    -------
    sig_redrawn
        After each redraw (tests and benchmarks count them).
    """

    sig_redrawn = Signal()

    redraw_hz = REDRAW_HZ
    """Most redraws per second (a panel whose data change slowly says less)."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.side_share = (0.68, 0.32)
        self._sized = False
        self._narrow = False
        self.fold_side = True  # False: the panel arranges its side table itself
        self.redraw_count = 0
        self.next_redraw = 0.0
        self.redraw_seconds = 0.0  # smoothed cost of one redraw and its paint
        self.last_redraw_seconds = 0.0  # the cost of the last one
        self.last_redraw_at = 0.0  # when it ended (perf_counter)
        self.dirty_since = 0.0  # when data came that it does not show yet
        self.redraw_seconds_total = 0.0  # CPU time of every redraw (benchmarks)
        self.paint_seconds_total = 0.0  # wall time of every paint (benchmarks)
        self._dirty = False
        self._paint_owed = False  # a redraw's paint is still to come

        self.graphics = _PanelGraphics(self)
        # The scene's own "Export..." menu offers pyqtgraph's broken SVG exporter;
        # the panel's Export button replaces it.
        self.graphics.scene().contextMenu = []
        self.controls = QHBoxLayout()
        self.controls.setContentsMargins(4, 2, 4, 0)
        self.controls.setSpacing(6)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(self.controls)
        # Panels with a table or a list put it next to the plots in this splitter.
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.graphics)
        layout.addWidget(self.splitter, 1)
        self.export_button = self._make_export_button()
        self._apply_palette()

    # --- redraw scheduling -----------------------------------------------------------
    def schedule_redraw(self) -> None:
        """Redraw soon (coalesced: many calls before the redraw make one redraw)."""
        if not self._dirty:
            self.dirty_since = time.perf_counter()
        self._dirty = True
        _redraw_scheduler().add(self)

    def flush(self) -> None:
        """Redraw now if anything changed (tests, exports, screenshots)."""
        if not self._dirty:
            return
        self._dirty = False
        start, cpu = time.perf_counter(), time.thread_time()
        self._redraw()
        if self.isVisible():
            # Let the scene digest the changes now, inside this call: its queued
            # update paints the changed parts of the view at once, so the whole
            # cost is measured, and left for later it would pile up with other
            # panels' paints in one pass of the event loop. (An explicit repaint
            # after it would paint a second time.) Auto-ranges are settled first,
            # or the paint would change them and paint again.
            scene = self.graphics.scene()
            scene.prepareForPaint()
            QCoreApplication.sendPostedEvents(scene, QEvent.Type.MetaCall)
        self.last_redraw_at = time.perf_counter()
        # Wall-clock time: a redraw that waited for a CPU cost training as much.
        cost = self.last_redraw_at - start
        self.redraw_seconds_total += time.thread_time() - cpu
        self.last_redraw_seconds = cost
        self.redraw_seconds = (
            cost if not self.redraw_count else (0.7 * self.redraw_seconds + 0.3 * cost)
        )
        self.next_redraw = self.last_redraw_at + max(
            1.0 / self.redraw_hz, self.redraw_seconds / PANEL_SHARE
        )
        self.redraw_count += 1
        self.sig_redrawn.emit()

    def owe_paint(self) -> None:
        """The scheduler redrew the panel: charge the paint that follows to it."""
        self._paint_owed = self.isVisible()

    def charge_paint(self, seconds: float) -> None:
        """The view took ``seconds`` to paint. The paint of a redraw counts as part
        of it: the panel's next redraw, and the next of any panel, wait in
        proportion (other paints, after a resize say, are not held against it)."""
        self.paint_seconds_total += seconds
        if self._paint_owed:
            self._paint_owed = False
            self.next_redraw += seconds / PANEL_SHARE
            _redraw_scheduler().charge(seconds)

    @property
    def dirty(self) -> bool:
        """Whether data arrived since the last redraw."""
        return self._dirty

    def showEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._sized and self.splitter.count() > 1 and not self._narrow:
            # A side table gets a third of the width the first time it is shown.
            self._sized = True
            width = max(self.width(), 300)
            self.splitter.setSizes(
                [int(width * self.side_share[0]), int(width * self.side_share[1])]
            )
        if self._dirty:
            _redraw_scheduler().add(self)

    def narrow_width(self) -> int:
        """Below this width a side table gives its room to the plots (it stays
        behind the splitter handle at the right edge, which drags it out)."""
        return 24 * self.fontMetrics().height()

    @property
    def is_narrow(self) -> bool:
        """Whether the side table is folded away for lack of width."""
        return self._narrow

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self.splitter.count() < 2 or not self.fold_side:
            return
        width = event.size().width()
        narrow = width < self.narrow_width()
        if narrow == self._narrow:
            return
        # Only when the width crosses the limit: a split the user dragged stays.
        self._narrow = narrow
        self.splitter.setCollapsible(1, narrow)
        if narrow:
            self.splitter.setSizes([width, 0])
        else:
            self.splitter.setSizes(
                [int(width * self.side_share[0]), int(width * self.side_share[1])]
            )

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()

    def _redraw(self) -> None:
        raise NotImplementedError

    # --- appearance ----------------------------------------------------------------
    def _apply_palette(self) -> None:
        palette = self.palette()
        self.graphics.setBackground(palette.color(QPalette.ColorRole.Base))
        for item in self.graphics.ci.items:
            if isinstance(item, pg.PlotItem):
                style_plot(item, palette)

    @property
    def text_color(self) -> QColor:
        """The palette's text colour (for labels drawn in the plots)."""
        return self.palette().color(QPalette.ColorRole.WindowText)

    # --- export --------------------------------------------------------------------
    def csv_columns(self) -> Mapping[str, Sequence[object] | np.ndarray]:
        """The plotted data by column name (ragged lengths allowed)."""
        raise NotImplementedError

    def export_png(self, path: str | Path) -> Path:
        """Write the panel's plots to a PNG file."""
        self.flush()
        return export_png(self.graphics.ci, path)

    def export_svg(self, path: str | Path) -> Path:
        """Write the panel's plots to an SVG file (vector)."""
        self.flush()
        return export_svg(self.graphics.ci, path, title=self.title)

    def export_csv(self, path: str | Path) -> Path:
        """Write the panel's data to a CSV file."""
        return write_columns_csv(path, self.csv_columns())

    def _make_export_button(self) -> QToolButton:
        button = QToolButton(self)
        button.setText("Export")
        button.setToolTip(f"Export the {self.title.lower()} as PNG, SVG or CSV")
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(button)
        for label, kind in (
            ("Image (PNG)…", "png"),
            ("Vector image (SVG)…", "svg"),
            ("Data (CSV)…", "csv"),
        ):
            action = QAction(label, menu)
            action.setData(kind)
            menu.addAction(action)
        menu.triggered.connect(self._on_export_menu_triggered)
        button.setMenu(menu)
        self.controls.addStretch(1)
        self.controls.addWidget(button)
        return button

    def _on_export_menu_triggered(self, action: QAction) -> None:
        kind = str(action.data())
        stem = self.title.lower().replace(" ", "_")
        path, _ = QFileDialog.getSaveFileName(
            self, f"Export {self.title}", f"{stem}.{kind}", f"{kind.upper()} (*.{kind})"
        )
        if not path:
            return
        try:
            getattr(self, f"export_{kind}")(path)
        except NNDeskError as exc:
            log.warning("%s", exc)
            QMessageBox.warning(self, f"Export {self.title}", str(exc))
