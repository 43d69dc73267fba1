"""The training timeline in the window: a slider under the learning curves, Fork from
Here, the runs overlaid on the curves, the checkpoint memory in the status bar.

``TimelinePart`` holds the window's ``nndesk.training.checkpoints.Timeline``: every
run the controller starts records its checkpoints into it (a recorder among the
worker's callbacks). Dragging the slider shows every panel as the network was at
that checkpoint: its weights go into a *view* model of its own (compiled once per
network) in a background thread, which probes it as the worker probes the live
model, and the panels draw that probe. The run itself is not touched, so a paused
run stays exactly where it paused; live probes are held back from the panels
while the slider is away from its right end ("Live" brings them back). Only the
latest position is probed: positions passed while a probe was running are
skipped, so dragging never queues work and the GUI thread only draws.

Fork from Here (Training menu, the slider's context menu, Ctrl+Shift+F) starts a
new run from the checkpoint shown, with the document as it is now: changed
settings (learning rate, optimizer, ...) apply, edited nodes start fresh and the
others keep the checkpoint's weights. A paused run is stopped first (its
checkpoints and history stay in the timeline). See docs/timeline.md.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence, QResizeEvent, QUndoCommand
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QLabel,
    QLayout,
    QSizePolicy,
    QSlider,
    QToolButton,
    QWidget,
)

from nndesk.engine.errors import NNDeskError
from nndesk.io.datasets import Dataset
from nndesk.training.checkpoints import Checkpoint, Timeline, describe_fork
from nndesk.training.session import TrainedState, TrainingSession

from ..hint_gate import HintGate
from .probes import Evaluation, ProbeResult, evaluate_model, session_prober
from .worker import MAX_EVAL_SAMPLES

if TYPE_CHECKING:
    from .controller import TrainingController

log = logging.getLogger(__name__)

__all__ = ["FORK_SHORTCUT", "TimelineBar", "TimelinePart"]

FORK_SHORTCUT = "Ctrl+Shift+F"
GAN_NOTE = (
    "The timeline keeps no checkpoints of a GAN's runs: save the file to keep "
    "a state of both networks"
)
"""The timeline bar's tooltip while the document is a GAN (issue 16)."""
STATUS_MS = 500
"""How often the status bar's checkpoint memory is read during a run."""
_RUN_COLORS = [(140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34),
               (23, 190, 207), (255, 127, 14)]  # fmt: skip


class TimelineBar(QWidget):
    """The slider, where it is, Live and Fork buttons (under the learning curves).

    Signals
    -------
    sig_moved(int)
        The slider's position (an index into ``checkpoints``), by the user.
    """

    sig_moved = Signal(int)

    def __init__(self, fork: QAction, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timeline_bar")
        self.checkpoints: list[Checkpoint] = []
        self.run_names: list[str] = []  # of each checkpoint's run, when several
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName("timeline_slider")
        self.slider.setMinimumWidth(60)
        self.slider.setToolTip(
            "Timeline: drag to show every panel as the network was at a checkpoint"
        )
        self.slider.setEnabled(False)
        self.label = QLabel("No checkpoints yet", self)
        self.label.setMinimumWidth(self.fontMetrics().horizontalAdvance("x" * 14))
        self.runs = QComboBox(self)
        self.runs.setObjectName("timeline_runs")
        self.runs.setToolTip("The run whose line the slider goes along")
        # Narrow (names elided, the list pops up wide): at 1280x800 the curves'
        # dock is about 500 px wide and the row must fit it.
        self.runs.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.runs.setMinimumContentsLength(5)
        self.runs.hide()  # shown once there are two runs
        self.live = QToolButton(self)
        self.live.setText("Live")
        self.live.setToolTip("Show the network as it is now")
        self.live.setEnabled(False)
        self.fork = QToolButton(self)
        self.fork.setText("Fork")
        self.fork.setToolTip(fork.toolTip())
        self.fork.clicked.connect(fork.trigger)
        fork.changed.connect(lambda: self.fork.setEnabled(fork.isEnabled()))
        self.fork.setEnabled(fork.isEnabled())
        self.caption = QLabel("Timeline", self)
        grid = QGridLayout(self)
        grid.setContentsMargins(6, 2, 6, 2)
        grid.setVerticalSpacing(2)
        # The bar decides its own arrangement (one row, or the slider on a row
        # of its own when narrow): its layout must not widen the window.
        grid.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._grid = grid
        self.wide: bool | None = None
        self._arrange(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.addAction(fork)
        self.slider.valueChanged.connect(self._on_value_changed)
        self._quiet = False

    def _row(self) -> tuple[QWidget, ...]:
        return (self.caption, self.runs, self.slider, self.label, self.live, self.fork)

    def _arrange(self, wide: bool) -> None:
        """One row (``wide``), or the slider on a row of its own above the rest."""
        if wide == self.wide:
            return
        self.wide = wide
        grid = self._grid
        for widget in self._row():
            grid.removeWidget(widget)
        for column in range(6):
            grid.setColumnStretch(column, 0)
        self.caption.setVisible(wide)
        if wide:
            for column, widget in enumerate(self._row()):
                grid.addWidget(widget, 0, column)
            grid.setColumnStretch(2, 1)
        else:
            # The slider across the bar; below it no caption (the room is the
            # position's): the slider's tooltip names it.
            grid.addWidget(self.slider, 0, 0, 1, 6)
            grid.addWidget(self.runs, 1, 1)
            grid.addWidget(self.label, 1, 2, 1, 2)
            grid.addWidget(self.live, 1, 4)
            grid.addWidget(self.fork, 1, 5)
            grid.setColumnStretch(2, 1)
        self.setFixedHeight(grid.sizeHint().height())
        self.fit_minimum()

    def wide_width(self) -> int:
        """The width one row needs (the slider 160 px)."""
        shown = [w for w in self._row() if not w.isHidden() and w is not self.slider]
        if self.caption.isHidden():
            shown.append(self.caption)  # hidden by the narrow arrangement
        margins = self._grid.contentsMargins()
        spacing = max(0, self._grid.horizontalSpacing())
        return (
            sum(w.sizeHint().width() for w in shown)
            + 160
            + spacing * len(shown)
            + margins.left()
            + margins.right()
        )

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._arrange(self.width() >= self.wide_width())

    def fit_minimum(self) -> None:
        """The bar's least width: the narrow arrangement's second row (no caption,
        no slider). Set explicitly, as the layout's own minimum is not used.

        Room for the runs box is kept before a second run shows it: a minimum
        that grew as the second run started widened the curves' dock and
        re-laid out and repainted the whole window (213 ms in the GUI
        benchmark's CNN case). The position label needs its text's width."""
        spacing = max(0, self._grid.horizontalSpacing())
        margins = self._grid.contentsMargins()
        widths = [
            self.runs.minimumSizeHint().width(),
            self.label.minimumSizeHint().width(),
            self.live.minimumSizeHint().width(),
            self.fork.minimumSizeHint().width(),
        ]
        self.setMinimumWidth(
            sum(widths)
            + spacing * (len(widths) + 1)  # the grid's spanned and empty cells
            + margins.left()
            + margins.right()
        )

    @property
    def at_end(self) -> bool:
        """Whether the slider is at its right end (the newest checkpoint)."""
        return self.slider.value() >= self.slider.maximum()

    def set_checkpoints(
        self,
        checkpoints: list[Checkpoint],
        follow: bool,
        run_names: list[str] | None = None,
    ) -> None:
        """Offer ``checkpoints``; the slider stays on the one it showed (or goes
        to the newest with ``follow``). ``run_names`` names their runs when the
        slider crosses from one run into another."""
        shown = self.current()
        self.checkpoints = checkpoints
        self.run_names = list(run_names or [])
        self._quiet = True
        try:
            self.slider.setEnabled(bool(checkpoints))
            self.slider.setRange(0, max(0, len(checkpoints) - 1))
            if follow or shown is None or shown not in checkpoints:
                self.slider.setValue(self.slider.maximum())
            else:
                self.slider.setValue(checkpoints.index(shown))
        finally:
            self._quiet = False
        self._say()

    def current(self) -> Checkpoint | None:
        """The checkpoint under the slider."""
        if not self.checkpoints:
            return None
        return self.checkpoints[min(self.slider.value(), len(self.checkpoints) - 1)]

    def _say(self) -> None:
        c = self.current()
        if c is None:
            self.label.setText("No checkpoints yet")
            return
        text = c.label()
        if len(set(self.run_names)) > 1:
            text = f"{text} · {self.run_names[self.slider.value()]}"
        self.label.setText(text)
        self.label.setToolTip("")

    def _on_value_changed(self, value: int) -> None:
        self._say()
        if not self._quiet:
            self.sig_moved.emit(int(value))


class _ViewProber(QObject):
    """Probes checkpoints in its own thread, on a model of its own; the latest
    request wins (earlier ones are skipped)."""

    sig_probed = Signal(object)  # (request id, ProbeResult, Evaluation or None)
    sig_failed = Signal(str)
    _sig_wake = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._request: tuple[int, Any] | None = None
        self._session: TrainingSession | None = None
        self._key: tuple[int, int] | None = None
        self._prober: Any = None
        self._sig_wake.connect(self._work, Qt.ConnectionType.QueuedConnection)

    def forget(self) -> None:
        """Let go of the view model and its data (another network is shown)."""
        with self._lock:
            self._request = (-1, None)
        self._sig_wake.emit()

    def ask(self, request_id: int, request: Any) -> None:
        """Probe ``request`` (from any thread; replaces one not started yet)."""
        with self._lock:
            self._request = (request_id, request)
        self._sig_wake.emit()

    @Slot()
    def _work(self) -> None:
        with self._lock:
            taken, self._request = self._request, None
        if taken is None:
            return  # an earlier wake took it
        if taken[1] is None:  # forget()
            self._session = self._prober = self._key = None
            return
        request_id, (timeline, checkpoint, dataset, reuse, sample, evaluate, plane) = (
            taken
        )
        try:
            result = self._probe(
                timeline, checkpoint, dataset, reuse, sample, evaluate, plane
            )
        except NNDeskError as exc:
            self.sig_failed.emit(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - said, not raised in a thread
            log.exception("the timeline's probe failed")
            self.sig_failed.emit(f"The checkpoint could not be shown: {exc}")
            return
        self.sig_probed.emit((request_id, *result))

    def _probe(
        self,
        timeline: Timeline,
        checkpoint: Checkpoint,
        dataset: Dataset,
        reuse: TrainingSession | None,
        sample: int,
        evaluate: bool,
        plane: Any,
    ) -> tuple[ProbeResult, Evaluation | None]:
        run = timeline.runs[checkpoint.run]
        key = (id(run.snapshot), id(dataset))
        if self._session is None or self._key != key:
            session = TrainingSession.from_state(timeline.fork_state(checkpoint))
            data = session.prepare(dataset, reuse=reuse)
            self._prober = session_prober(session, data, dataset)
            self._session, self._key = session, key
        session = self._session
        session.model.set_weights(checkpoint.weights)
        epoch = max(0, int(np.ceil(checkpoint.position)) - 1)
        extra = {"plane": plane} if plane is not None else {}
        probe = self._prober.probe(
            sample, epoch, checkpoint.position, gradients=False, samples=False, **extra
        )
        result = None
        if evaluate and session.data is not None:
            data = session.data
            if data.x_val is not None and data.y_val is not None:
                x, y, split = data.x_val, data.y_val, "validation"
            else:
                x, y, split = data.x_train, data.y_train, "training"
            result = evaluate_model(
                session.model,
                x[:MAX_EVAL_SAMPLES],
                y[:MAX_EVAL_SAMPLES],
                self._prober.info,
                split=split,
                epoch=epoch,
                total=len(x),
            )
        return probe, result


class ForkCommand(QUndoCommand):
    """Fork from Here as an undoable step: Undo brings back the state the window
    showed before (a copy) and the run it belonged to; Redo forks again from the
    same checkpoint. The fork's run stays in the timeline either way (with
    whatever it trained), so nothing trained is lost."""

    def __init__(
        self,
        part: TimelinePart,
        checkpoint: Checkpoint,
        snapshot: Any,
        session: TrainingSession,
        kept: TrainedState | None,
        before: tuple[int, int],
    ) -> None:
        run = part.timeline.runs[-1]
        super().__init__(f"Fork {run.name}")
        self._part = part
        self._checkpoint = checkpoint
        self._snapshot = snapshot
        self._session: TrainingSession | None = session
        self._kept = kept
        self._run = len(part.timeline.runs) - 1
        self._back = before  # the current run and the run viewed before

    def redo(self) -> None:
        part, timeline = self._part, self._part.timeline
        session = self._session
        self._session = None  # the first time: the fork made in fork()
        if session is None:
            try:
                state = timeline.fork_state(self._checkpoint)
                session = TrainingSession.from_state(
                    state, self._snapshot, base_dir=part.controller._base_dir()
                )
            except NNDeskError as exc:
                part.controller._refuse(exc)
                return
            timeline.runs[self._run].history = {
                k: list(v) for k, v in state.history.items()
            }
        timeline.current = self._run
        run, c = timeline.runs[self._run], self._checkpoint
        parent = timeline.runs[c.run]
        note = (
            ""
            if c.batch == 0
            else f"; epoch {c.epoch + 1} trains again from its first batch"
        )
        part._adopt_fork(
            session, f"Forked {run.name} from {parent.name} at {c.label()}{note}."
        )

    def undo(self) -> None:
        part, timeline = self._part, self._part.timeline
        current, view = self._back
        timeline.current = current
        part.controller.adopt_session(self._kept)
        part.view_run = view if view < len(timeline.runs) else current
        part.shows_past = False
        part.draw_runs()
        part.refresh()
        part.controller.panel.set_message(
            f"Back to {timeline.runs[current].name}; "
            f"{timeline.runs[self._run].name} stays in the timeline."
        )


class TimelinePart(QObject):
    """The window's timeline: checkpoints of every run, scrubbing, forks, overlays.

    Attributes
    ----------
    timeline : Timeline
        The runs and their checkpoints.
    bar : TimelineBar
        Under the learning curves.
    fork_action : QAction
        Fork from Here.
    memory_label : QLabel
        The checkpoint memory, in the status bar.
    shows_past : bool
        Whether the panels show a checkpoint rather than the network now.
    """

    sig_shown = Signal(object)  # the Checkpoint drawn in the panels

    def __init__(self, controller: TrainingController) -> None:
        super().__init__(controller)
        self.controller = controller
        self.timeline = Timeline()
        self.shows_past = False
        self.view_run = 0  # the run whose line the slider goes along
        self.last_shown: Checkpoint | None = None
        self.last_probe: ProbeResult | None = None
        self.message = ""
        self._request_id = 0
        self._overlays: list[pg.PlotDataItem] = []
        window = controller.window

        self.fork_action = QAction("&Fork from Here", self)
        self.fork_action.setObjectName("fork_from_here")
        self.fork_action.setShortcut(QKeySequence(FORK_SHORTCUT))
        tip = "Train a new run from the checkpoint the timeline shows"
        self.fork_action.setStatusTip(tip)
        self.fork_action.setToolTip(f"{tip} ({FORK_SHORTCUT})")
        self.fork_action.triggered.connect(self.fork)
        window.addAction(self.fork_action)
        self.save_checkpoints = QAction("Save Checkpoints with the &Network", self)
        self.save_checkpoints.setObjectName("save_checkpoints")
        self.save_checkpoints.setCheckable(True)
        self.save_checkpoints.setStatusTip(
            "Save writes the timeline's checkpoints into the network file too "
            "(up to 300 MB more)"
        )
        menu = controller.view.menu
        menu.insertAction(controller.actions.reset, self.fork_action)
        menu.insertAction(controller.actions.reset, self.save_checkpoints)

        curves = controller.curves
        self.bar = TimelineBar(self.fork_action, curves)
        layout = curves.layout()
        assert layout is not None
        layout.addWidget(self.bar)
        self.bar.sig_moved.connect(self._on_moved)
        self.bar.slider.sliderReleased.connect(self._on_released)
        self.bar.live.clicked.connect(self.go_live)
        self.bar.runs.activated.connect(self._on_run_chosen)
        self.cursors = [
            pg.InfiniteLine(
                angle=90, movable=False, pen=pg.mkPen((90, 90, 90), width=1)
            )
            for _ in (curves.loss_plot, curves.metric_plot)
        ]
        for plot, line in zip(
            (curves.loss_plot, curves.metric_plot), self.cursors, strict=True
        ):
            plot.addItem(line, ignoreBounds=True)
            line.hide()

        self.memory_label = QLabel("")
        self.memory_label.setObjectName("checkpoint_memory")
        self.memory_label.setContentsMargins(8, 0, 8, 0)
        self.memory_label.setToolTip(
            "Checkpoints of the training timeline kept in memory, and their bound"
        )
        # Its text changes while training: HintGate keeps that from re-laying out
        # the main window unless the label needs another width.
        window.statusBar().addPermanentWidget(HintGate(self.memory_label))

        self._thread = QThread(self)
        self._thread.setObjectName("nndesk-timeline")
        self._prober = _ViewProber()
        self._prober.moveToThread(self._thread)
        self._prober.sig_probed.connect(self._on_probed)
        self._prober.sig_failed.connect(self._on_probe_failed)
        # Started by the first scrub: a window that never scrubs (a self-test, a
        # window closed before its controller's shutdown) has no thread to leave
        # running, which aborted the process at exit ("QThread: Destroyed while
        # thread 'nndesk-timeline' is still running").

        self._timer = QTimer(self)
        self._timer.setInterval(STATUS_MS)
        self._timer.timeout.connect(self.refresh)
        controller.sig_state_changed.connect(self._on_state_changed)
        controller.sig_run_finished.connect(self._on_run_finished)
        window.sig_document_replaced.connect(self._on_document_replaced)
        window.sig_project_opened.connect(self._on_project_opened)
        self._update_fork()
        self.refresh()

    # --- what the controller asks ------------------------------------------------------------
    def recorder(self, session: TrainingSession) -> Any:
        """The callback that records ``session``'s run (for the worker's job)."""
        return self.timeline.recorder(session)

    def lineage(self) -> list[Checkpoint]:
        """The checkpoints the slider offers: the chosen run's (the current one
        unless another is chosen), after its parents' up to where it was forked."""
        if not 0 <= self.view_run < len(self.timeline.runs):
            self.view_run = self.timeline.current
        return self.timeline.lineage(self.view_run)

    def add_runs_to(self, project: Any) -> Any:
        """``project`` with the runs (for Save)."""
        if project is not None:
            self.timeline.update_history(project.history)
            project.runs = self.timeline.to_plain()
            project.current_run = self.timeline.current
            if self.save_checkpoints.isChecked() and project.weights:
                project.checkpoints = self.timeline.saved_checkpoints(project.weights)
        return project

    def shutdown(self) -> None:
        """End the probing thread."""
        self._timer.stop()
        self._thread.quit()
        self._thread.wait(10_000)

    # --- showing ------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the store: the slider's checkpoints, the status bar's memory."""
        store = self.timeline.store
        self.memory_label.setText(
            store.describe() if len(store) or store.refused else ""
        )
        # A GAN's runs are not recorded (docs/timeline.md): the bar says so
        # rather than "No checkpoints yet", and offers no other run's to fork.
        gan = self.controller.gan.active
        lineage = [] if gan else self.lineage()
        self.bar.set_checkpoints(lineage, not self.shows_past, self._names(lineage))
        if gan:
            self.bar.label.setText("Not kept for a GAN")
            self.bar.label.setToolTip(GAN_NOTE)
        names = [run.name for run in self.timeline.runs]
        combo = self.bar.runs
        if [combo.itemText(i) for i in range(combo.count())] != names:
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(names)
            combo.blockSignals(False)
        combo.setCurrentIndex(self.view_run)
        if combo.isHidden() == (len(names) > 1):
            combo.setVisible(len(names) > 1)
            self.bar.fit_minimum()
            self.bar._arrange(self.bar.width() >= self.bar.wide_width())
        self._update_fork()

    def _names(self, checkpoints: list[Checkpoint]) -> list[str]:
        runs = self.timeline.runs
        return [runs[c.run].name for c in checkpoints]

    def _on_moved(self, index: int) -> None:
        checkpoint = self.bar.current()
        if checkpoint is None:
            return
        live_end = self.bar.at_end and self.view_run == self.timeline.current
        if live_end and self.controller.state == "running":
            self.go_live()
            return
        self.show_checkpoint(checkpoint, evaluate=not self.bar.slider.isSliderDown())

    def _on_released(self) -> None:
        checkpoint = self.bar.current()
        if checkpoint is not None and self.shows_past:
            self.show_checkpoint(checkpoint, evaluate=True)

    def show_checkpoint(self, checkpoint: Checkpoint, evaluate: bool = True) -> bool:
        """Draw ``checkpoint`` in every panel (probed in the background). False
        when there is no data to probe on."""
        dataset = self.controller._dataset()
        if dataset is None:
            self.bar.label.setText("No data to show it on")
            return False
        self.shows_past = True
        self.bar.live.setEnabled(True)
        for line in self.cursors:
            line.setValue(checkpoint.position)
            line.show()
        if checkpoint.epoch > 0:  # its epoch's row in the table
            table = self.controller.curves.table
            table.selectRow(checkpoint.epoch - 1)
        self._request_id += 1
        reuse = self.controller.preview.session
        if not self._thread.isRunning():
            self._thread.start()
        self._prober.ask(
            self._request_id,
            (
                self.timeline,
                checkpoint,
                dataset,
                reuse,
                self.controller._sample_index,
                evaluate,
                getattr(self.controller, "_plane", None),
            ),
        )
        return True

    def _on_probed(self, result: tuple[int, ProbeResult, Evaluation | None]) -> None:
        request_id, probe, evaluation = result
        if not self.shows_past:
            return  # back to live meanwhile
        checkpoint = self.bar.current()
        self.last_probe = probe
        self.controller.view.show_probe(probe)
        if evaluation is not None:
            self.controller.evaluation.set_evaluation(evaluation)
        if request_id == self._request_id:
            self.last_shown = checkpoint
            self.sig_shown.emit(checkpoint)

    def _on_probe_failed(self, message: str) -> None:
        self.bar.label.setText("Cannot show this checkpoint")
        self.bar.label.setToolTip(message)
        self.message = message

    def go_live(self) -> None:
        """Show the network as it is now again."""
        self.view_run = self.timeline.current
        if not self.shows_past:
            return
        self.shows_past = False
        self.last_shown = None
        self.bar.live.setEnabled(False)
        for line in self.cursors:
            line.hide()
        lineage = self.lineage()
        self.bar.set_checkpoints(lineage, True, self._names(lineage))
        probe = self.controller.last_probe
        if probe is not None:
            self.controller.view.show_probe(probe)
        if self.controller.state != "running":
            self.controller.refresh_preview()

    def _on_run_chosen(self, index: int) -> None:
        """Go along another run's line: the panels show its newest checkpoint
        (the current run: the network as it is now)."""
        self.view_run = int(index)
        if index == self.timeline.current:
            self.go_live()
            self.refresh()
            return
        self.shows_past = True  # the slider stays where it is put below
        lineage = self.lineage()
        self.bar.set_checkpoints(lineage, True, self._names(lineage))
        if lineage:
            self.show_checkpoint(lineage[-1])

    # --- forking -----------------------------------------------------------------------------
    def _update_fork(self) -> None:
        state = self.controller.state
        ok = state in ("idle", "paused") and self.bar.current() is not None
        ok = ok and not self.controller.gan.active
        self.fork_action.setEnabled(ok)

    def fork(self) -> bool:
        """Fork from the checkpoint the slider shows (the newest when live), as
        one step on the window's undo stack.

        Returns
        -------
        bool
            Whether a new run was made (the reason is in the training panel if not).
        """
        c = self.controller
        checkpoint = self.bar.current()
        doc = c.window.document
        if checkpoint is None or doc is None or c.state not in ("idle", "paused"):
            return False
        parent = self.timeline.runs[checkpoint.run]
        try:
            snapshot = doc.snapshot()
            name = f"run {len(self.timeline.runs) + 1}"
            changes = describe_fork(parent.snapshot, snapshot)
            if changes:
                name = f"{name} ({changes})"
            kept = c.current_state()  # what Undo brings back
            before = (self.timeline.current, self.view_run)
            session = self.timeline.fork(
                checkpoint, snapshot, name=name, base_dir=c._base_dir()
            )
        except NNDeskError as exc:
            c._refuse(exc)
            return False
        command = ForkCommand(self, checkpoint, snapshot, session, kept, before)
        c.window.undo_stack.push(command)
        return True

    def _adopt_fork(self, session: TrainingSession, message: str) -> None:
        """Show the fork ``session`` as the window's trained state."""
        c = self.controller
        if c.is_active:
            c._abandon_run()  # a paused run ends: its checkpoints and history stay
        self.shows_past = False
        self.last_shown = None
        for line in self.cursors:
            line.hide()
        self.bar.live.setEnabled(False)
        self.view_run = self.timeline.current
        c.adopt_session(session)
        c.window.mark_modified()
        c.panel.set_message(message)
        self.draw_runs()
        self.refresh()

    # --- the runs on the curves -----------------------------------------------------------------
    def draw_runs(self) -> None:
        """Overlay every run but the current one on the loss plot, each named."""
        plot = self.controller.curves.loss_plot
        for item in self._overlays:
            plot.removeItem(item)
        self._overlays = []
        for i, run in enumerate(self.timeline.runs):
            if i == self.timeline.current:
                continue
            color = _RUN_COLORS[i % len(_RUN_COLORS)]
            # One legend entry per run: its loss solid, its validation loss dashed.
            for key, style, label in (
                ("loss", Qt.PenStyle.SolidLine, run.name),
                ("val_loss", Qt.PenStyle.DashLine, None),
            ):
                values = np.asarray(run.history.get(key, []), dtype=np.float64)
                if not len(values):
                    continue
                x = np.arange(1, len(values) + 1, dtype=np.float64)
                ok = np.isfinite(values)
                first = run.fork_epoch if run.parent is not None else 0
                ok[:first] = False  # the parent's epochs are the parent's curve
                item = plot.plot(
                    x[ok],
                    values[ok],
                    pen=pg.mkPen(color=color, width=1.5, style=style),
                    name=label,
                )
                self._overlays.append(item)
        self.controller.curves._fit_legends()

    # --- following the controller ---------------------------------------------------------------
    def _on_state_changed(self, state: str) -> None:
        if state in ("running", "paused", "starting", "stopping"):
            self._timer.start()
        else:
            self._timer.stop()
        if state in ("running", "paused") and not self.shows_past:
            # A new run may have begun (weights reset, graph edited): follow it.
            self.view_run = self.timeline.current
            self.draw_runs()
        self.refresh()

    def _on_run_finished(self, outcome: Any) -> None:
        if outcome.state is not None:
            self.timeline.update_history(outcome.state.history)
        self.draw_runs()
        self.refresh()

    def _on_document_replaced(self, doc: Any) -> None:
        self.shows_past = False
        for line in self.cursors:
            line.hide()
        self.timeline.reset()
        self._prober.forget()
        self.view_run = 0
        self.draw_runs()
        self.refresh()

    def _on_project_opened(self, project: Any) -> None:
        runs = getattr(project, "runs", None)
        if runs:
            self.timeline.load_plain(runs, getattr(project, "current_run", None))
        else:
            self.timeline.reset(project.history)
        checkpoints = getattr(project, "checkpoints", None)
        if checkpoints:
            self.timeline.load_checkpoints(
                checkpoints,
                project.document.snapshot(),
                project.preprocessing,
                project.vocabulary,
            )
        self.shows_past = False
        self.view_run = self.timeline.current
        self.draw_runs()
        self.refresh()
