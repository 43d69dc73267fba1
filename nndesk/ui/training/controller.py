"""Training in the main window: actions, panels, status-bar progress and the worker thread.

``attach_training(window)`` adds a Training menu and toolbar, the training dock and
the plot docks, and a progress bar in the status bar, and returns the
``TrainingController`` that runs one ``TrainingWorker`` at a time in a QThread.

The controller keeps no trained state of its own: ``session``, a
``nndesk.training.TrainingSession``, owns it (weights, optimizer state, history,
feature scaling, compiled model), as it does for the command line and the API.
A run trains that session in the worker's thread; meanwhile the controller asks
the worker for copies of its state between two batches (to save, predict or show
a paused run). Editing the network while training is paused or stopped is
allowed: the next run trains ``session.recompiled(document)``, which keeps the
weights of every node whose shapes did not change.

The window it works for is a ``TrainingHost``: a small declared interface, so the
controller neither probes the window nor handles its events. The window asks the
controller (a ``nndesk.ui.main_window.TrainingPart``) for what Save writes and to
stop when it closes.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QObject,
    Qt,
    QThread,
    QTimer,
    Signal,
    SignalInstance,
)
from PySide6.QtWidgets import QApplication

from nndesk.document import events as ev
from nndesk.document.graph import Document
from nndesk.engine.errors import NNDeskError
from nndesk.io.datasets import Dataset
from nndesk.io.datasets.painted import is_painted_spec
from nndesk.io.project_file import Project
from nndesk.training.data import load_settings_dataset
from nndesk.training.errors import CompileError, TrainingStateError
from nndesk.training.gan import GanState
from nndesk.training.gradient_flow import FlowReport
from nndesk.training.history import TrainingHistory
from nndesk.training.planes import Plane
from nndesk.training.sequence_views import TextPrompt
from nndesk.training.session import TrainedState, TrainingSession

from ..panels.paint import start_painting
from ..panels.plots.base import show_latest_soon
from .actions import TrainingActions
from .commands import ResetWeightsCommand
from .diagnostics import Diagnostics
from .docks import TrainingDocks
from .gan_control import GAN_MODES, GanPart
from .gan_run import GanStart, GanWorker
from .host import TrainingHost
from .preview import Preview, Source
from .probes import Evaluation, ProbeResult
from .race_mode import RaceMode
from .run_copy import RunCopy
from .timeline import TimelinePart
from .warmup import KernelWarmup
from .worker import (
    DataUpdate,
    ReportingControl,
    StartInfo,
    TrainingJob,
    TrainingOutcome,
    TrainingWorker,
)

if TYPE_CHECKING:
    from ..main_window import MainWindow

log = logging.getLogger(__name__)

__all__ = ["TrainingController", "attach_training"]

# Settings whose change does not alter the model a paused run trains.
_LIVE_SETTINGS = ("learning_rate", "epochs")
PREVIEW_DELAY_MS = 250
STOP_TIMEOUT_MS = 60_000
CAPTURE_TIMEOUT_S = 60.0
"""Longest wait for a running worker to reach a batch boundary (one batch)."""


def attach_training(window: MainWindow) -> TrainingController:
    """Add training to ``window``: menu, toolbar, docks, status-bar progress.

    Returns
    -------
    TrainingController
        Attached to the window (``window.training``): the window asks it for what
        Save writes, and to stop before it closes.
    """
    return TrainingController(window)


class TrainingController(QObject):
    """Runs training for the window's document and feeds the panels.

    Signals
    -------
    sig_state_changed(str)
        ``"idle"``, ``"starting"``, ``"running"``, ``"paused"`` or ``"stopping"``.
    sig_epoch_finished(int)
        An epoch ended (its 0-based number); the panels have its values.
    sig_run_finished(object)
        A run ended (its ``TrainingOutcome``); the controller is idle again unless a
        queued request started the next run.

    Attributes
    ----------
    session : TrainingSession, TrainedState or None
        The owner of the trained state: what the last run (or the opened file)
        left; None before any training (the seeded initialisation). A worker
        trains it while a run is under way. An opened file whose network does not
        compile is held as its ``TrainedState`` until it does.
    last_error : str
        The sentence of the last failure ("" after a clean run).
    last_epoch_logs : dict
        The logs of the last epoch a worker reported (progress keys included).
    """

    sig_state_changed = Signal(str)
    sig_epoch_finished = Signal(int)
    sig_run_finished = Signal(object)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        host: TrainingHost = window
        self.window = host
        self.control = ReportingControl()
        self.state = "idle"
        self.session: Source = None
        self.last_error = ""
        self.last_epoch_logs: dict[str, Any] = {}
        self.preview = Preview()
        self.last_probe: ProbeResult | None = None
        self._doc: Document | None = None
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None
        self._outcome: TrainingOutcome | None = None
        # A paused run's state, copied once per pause (a new batch or probe drops
        # it), asked for without waiting on the worker for more than a batch.
        self._copy = RunCopy(self)
        self._copy.sig_ready.connect(self._on_preview_ready)
        # Numba loads in the background; the preview waits for it (see .warmup).
        self._warmup = KernelWarmup(self)
        self._warmup.sig_done.connect(self._on_preview_ready)
        self._evaluate_on_copy = False
        self._pending: str | None = None
        self._discard = False
        self._stale = False
        self._closing = False
        self._sample_index = 0
        self._text_prompt = TextPrompt()
        self._plane: Plane | None = None

        self.actions = TrainingActions(self)
        self.view = TrainingDocks(window, self.actions)
        v = self.view
        self.panel, self.docks = v.panel, v.docks
        self.curves, self.boundary, self.network = v.curves, v.boundary, v.network
        self.activations, self.histograms = v.activations, v.histograms
        self.evaluation = v.evaluation
        v.menu.insertAction(self.actions.reset, self.actions.evaluate_test)
        self.gan = GanPart(v, self.control)
        self._connect()
        # Checkpoints of every run, the slider under the curves, Fork from Here.
        self.timeline = TimelinePart(self)
        # Gradient flow on the canvas, Check Gradients and Speed (issue 17).
        self.diagnostics = Diagnostics(self)
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self.refresh_preview)
        # Race mode: Training > Race…, the race dock, Promote winner (issue 17).
        self.race = RaceMode(self)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        host.attach_training(self)
        self._follow(host.document)
        self.refresh_preview()

    def _connect(self) -> None:
        a, w = self.actions, self.window
        a.train.triggered.connect(self.train)
        a.pause.triggered.connect(self.pause)
        a.resume.triggered.connect(self.resume)
        a.step_batch.triggered.connect(self.step_batch)
        a.step_epoch.triggered.connect(self.step_epoch)
        a.step_discriminator.triggered.connect(self.step_discriminator)
        a.step_generator.triggered.connect(self.step_generator)
        a.step_both.triggered.connect(self.step_both)
        a.stop.triggered.connect(self.stop)
        a.reset.triggered.connect(self.reset_weights)
        a.evaluate.triggered.connect(self.evaluate)
        a.evaluate_test.triggered.connect(self.evaluate_test)
        a.show_all.triggered.connect(self.show_all_panels)
        self.panel.sig_learning_rate_edited.connect(self._on_panel_learning_rate_edited)
        self.panel.sig_epochs_edited.connect(self._on_panel_epochs_edited)
        self.activations.sig_sample_requested.connect(self._on_sample_requested)
        self.view.text_sampling.sig_prompt_requested.connect(
            self._on_text_prompt_requested
        )
        w.sig_document_replaced.connect(self._on_window_document_replaced)
        w.sig_project_opened.connect(self.restore_project)
        w.sig_dataset_changed.connect(self._on_window_dataset_changed)
        w.sig_shown.connect(self._on_window_shown)
        self.boundary.sig_paint_requested.connect(self._on_boundary_paint_requested)
        self.boundary.sig_plane_changed.connect(self._on_boundary_plane_changed)
        w.sig_evaluate_test_requested.connect(self.evaluate_test)
        # The boundary's plane is saved with the network (view.json): opening a
        # file brings it back, choosing one is an unsaved change (docs/timeline.md).
        w.sig_document_replaced.connect(self._on_document_replaced_plane)
        w.sig_project_opened.connect(self._restore_boundary_plane)
        self.boundary.chooser.sig_choice_edited.connect(w.mark_modified)
        w.view_source = self.view_state  # type: ignore[attr-defined]

    # --- what it holds ----------------------------------------------------------------------
    @property
    def is_active(self) -> bool:
        """Whether a worker thread exists (starting, running, paused or stopping)."""
        return self._thread is not None

    @property
    def trained(self) -> bool:
        """Whether the kept state carries any training (outside a run)."""
        return self.session is not None and self.session.trained

    @property
    def history(self) -> dict[str, list[float]]:
        """A copy of the history the window shows: every finished epoch (during a
        run, as of its last finished batch)."""
        if self._thread is not None:
            state = self.current_state()
            return state.history if state is not None else {}
        return self._kept_history().as_dict()

    def current_state(self) -> TrainedState | None:
        """A copy of the trained state the window shows now: a running or paused
        run's as of its last finished batch (taken by the worker between two
        batches; the run goes on), else the session's. None before any training.

        Raises
        ------
        TrainingStateError
            When a running worker does not reach a batch boundary in time.
        """
        if self._worker is not None and self._thread is not None:
            return self._capture_running(self._worker.job.session, self._thread)
        if isinstance(self.session, TrainingSession):
            return self.session.capture()
        return self.session

    def _capture_running(
        self, session: TrainingSession, thread: QThread
    ) -> TrainedState:
        call = self.control.call_between_batches(session.capture)
        deadline = time.monotonic() + CAPTURE_TIMEOUT_S
        busy = False
        try:
            while not call.wait(0.05):
                if not busy:
                    # An explicit Save or predict waits (the worker may be loading
                    # kernels or evaluating): the cursor says so meanwhile.
                    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
                    busy = True
                if thread.isFinished():
                    # The worker is done with the session: the GUI thread may read it.
                    return session.capture()
                if time.monotonic() > deadline:
                    raise TrainingStateError(
                        f"The training run did not reach the end of a batch within "
                        f"{CAPTURE_TIMEOUT_S:g} s, so its state could not be copied."
                    )
        finally:
            if busy:
                QApplication.restoreOverrideCursor()
        state = call.result()
        # A GAN run's copy is a GanState (issue 16): Save during a GAN run failed
        # this check.
        assert isinstance(state, (TrainedState, GanState))
        return state  # type: ignore[return-value]

    # --- the document -----------------------------------------------------------------------
    def _follow(self, doc: Document | None) -> None:
        if self._doc is not None:
            self._doc.events.changed.disconnect(self._on_document_changed)
        self._doc = doc
        self.gan.follow(doc)
        push = self.window.editor.push if doc is not None else None
        self.boundary.set_paint_target(doc, push)
        if doc is not None:
            doc.events.changed.connect(self._on_document_changed)
            self.panel.set_learning_rate(float(doc.settings["learning_rate"]))
            self.panel.set_epochs(int(doc.settings["epochs"]))

    def _on_window_document_replaced(self, doc: Document) -> None:
        if self._thread is not None:
            # The old network's run is of no use any more: stop it, drop its result.
            self._discard = True
            self._pending = None
            self.control.stop()
            self._set_state("stopping")
        self._follow(doc)
        self.session = None
        self._forget_shown()
        # Compiling a large network takes a while: not in the same turn of the
        # event loop as the canvas's own start on it.
        self._schedule_preview()

    def _on_window_dataset_changed(self, dataset: object) -> None:
        self._schedule_preview()

    def _on_window_shown(self) -> None:
        # Sizes from the window's real first size (it is resized after building).
        self.view.default_sizes()

    def _on_document_changed(self, event: ev.DocumentEvent) -> None:
        if event.kind in ("node_moved", "label_changed"):
            return
        if isinstance(event, ev.PaintedChanged) and self._thread is not None:
            # The model does not change: a run goes on, on the new points from
            # its next epoch when it trains on the painted set (docs/datasets.md).
            if self._worker is not None:
                self._worker.set_painted(event.new)
            return
        if isinstance(event, ev.SettingsChanged):
            if event.name == "learning_rate":
                self.panel.set_learning_rate(float(event.new))
                if self._thread is not None:
                    self.control.set_lr(float(event.new))
            elif event.name == "epochs":
                self.panel.set_epochs(int(event.new))
            if event.name in _LIVE_SETTINGS:
                return
        if self._thread is not None:
            self._stale = True
        if self.gan.follow(self._doc):
            self._forget_shown()  # a GAN now, or no longer: other panels apply
            self.timeline.refresh()  # its bar says a GAN's runs are not kept
        self._schedule_preview()

    def _forget_shown(self) -> None:
        self.last_probe = None
        self.last_error = ""
        # The preview keeps its prepared data: the dataset did not change, and
        # preparing a large one again would freeze the window for seconds.
        self.preview.release()
        self.view.clear()
        self._update_actions()

    def adopt_session(self, session: Source) -> None:
        """Make ``session`` the owner of the trained state (None: untrained), and
        show it. A run under way is stopped and its result dropped first (Undo or
        Redo of Reset Weights during a run)."""
        if self._thread is not None:
            self._abandon_run()
        self.session = session
        self._forget_shown()
        history = self._kept_history()
        if history.epochs:
            self.curves.set_history(history.as_dict())
        self.refresh_preview()

    def _abandon_run(self) -> None:
        """Stop the run, wait for its thread and drop its result (nothing it
        reports afterwards reaches the panels)."""
        thread = self._thread
        self._discard = True
        self._pending = None
        self.control.stop()
        if thread is not None:
            thread.finished.disconnect(self._on_thread_finished)
            if not thread.wait(STOP_TIMEOUT_MS):
                log.error("the training thread did not stop in %d ms", STOP_TIMEOUT_MS)
        # What the worker queued before it ended arrives now, while it is ignored.
        QCoreApplication.sendPostedEvents(self, QEvent.Type.MetaCall)
        self._on_thread_finished()

    # --- requests -----------------------------------------------------------------------------
    def train(self) -> None:
        """Train ``epochs`` more epochs (continuing from the kept state)."""
        self._request("run")

    def step_batch(self) -> None:
        """Train one batch, then pause."""
        self._request("step_batch")

    def step_epoch(self) -> None:
        """Train to the end of the current epoch, then pause."""
        self._request("step_epoch")

    def step_discriminator(self) -> None:
        """A GAN: train the discriminator on one batch, then pause."""
        self._request("step_discriminator")

    def step_generator(self) -> None:
        """A GAN: train the generator one step, then pause."""
        self._request("step_generator")

    def step_both(self) -> None:
        """A GAN: train the discriminator's steps of the schedule and then the
        generator's, then pause."""
        self._request("step_both")

    def resume(self) -> None:
        """Continue a paused run (restarting it on the edited network if edited)."""
        self._request("run")

    def pause(self) -> None:
        """Pause after the current batch."""
        if self.state == "running":
            self.control.pause()
            self._set_state("paused")

    def stop(self) -> None:
        """End the run after the current batch; the trained state is kept."""
        if self._thread is None:
            return
        self._pending = None
        self.control.stop()
        self._set_state("stopping")

    def _request(self, mode: str) -> None:
        if self._closing:
            return
        if self._thread is None:
            self._start(mode)
            return
        if self.state == "stopping" or self._stale:
            # The run in flight trains an older network (or is ending): finish it,
            # then start again from its state.
            self._pending = mode
            if self.state != "stopping":
                self.control.stop()
                self._set_state("stopping")
            return
        assert self._worker is not None
        if mode == "run":
            self.control.resume()
            self._set_state("running")
        elif mode == "step_batch":
            self.control.step_batch()
            self._set_state("paused")
        elif mode in GAN_MODES:
            if self.state == "running":
                self.control.pause()
            self.gan.step(mode)
            self._set_state("paused")
        else:
            self._worker.set_epoch_stepping(True)
            self.control.step_epoch()
            self._set_state("paused")

    def reset_weights(self) -> None:
        """Forget the trained weights, optimizer state and history (when idle), as
        one step on the window's undo stack."""
        if self._thread is not None or not self.trained:
            return
        # The command keeps a copy of the state, not the session with its data.
        self.window.undo_stack.push(ResetWeightsCommand(self, self.current_state()))

    def evaluate(self) -> None:
        """Score the network on the validation data and show it in the Evaluation panel."""
        if self.state == "running" and self._worker is not None:
            self._worker.request_evaluation()
            return
        try:
            if not self._show_current(wait=False):
                self._evaluate_on_copy = True  # evaluated when the copy arrives
                return
            result = self.preview.evaluate(max(0, self._epoch_count() - 1))
        except NNDeskError as exc:
            self._refuse(exc)
            return
        if result is not None:
            self._on_worker_evaluated(result)
            self.docks["evaluation"].raise_()

    def evaluate_test(self) -> None:
        """Score the network on the test part (the samples the ``test_split``
        setting holds out, else the dataset's own test part: what ``nndesk
        evaluate --split test`` scores) and show it in the Evaluation panel. A
        running run is copied at its next batch boundary (busy cursor meanwhile).
        """
        if self.state not in ("idle", "running", "paused"):
            return
        try:
            self._show_current(wait=True)
            result = self.preview.evaluate_test(max(0, self._epoch_count() - 1))
        except NNDeskError as exc:
            # Said in the training panel (no dialog): e.g. a generated dataset
            # without a test split.
            self.last_error = str(exc)
            self.panel.set_message(self.last_error, error=True)
            return
        if result is not None:
            self._on_worker_evaluated(result)
            self.docks["evaluation"].show()
            self.docks["evaluation"].raise_()

    def set_learning_rate(self, lr: float) -> bool:
        """Set the learning-rate setting (undoable); a running training uses it at
        the next batch. False when the value is refused."""
        return bool(self.window.edit_setting("learning_rate", float(lr)))

    # --- the worker's life ----------------------------------------------------------------------
    def _start(self, mode: str) -> None:
        doc = self.window.document
        if doc is None:
            return
        self.last_error = ""
        self.panel.set_message("")
        dataset = self._dataset()
        if dataset is None and not self.window.dataset_loading:
            reason = self._missing_data_reason(doc)
            if reason is not None:
                # The Problems list holds it already: said in the panel, no dialog.
                self.last_error = reason
                self.panel.set_message(reason, error=True)
                return
        try:
            if self.gan.active:
                session: Any = self.gan.session(
                    self.session, doc.snapshot(), self._base_dir()
                )
            else:
                session = self.preview.update(
                    self.session, doc.snapshot(), dataset, self._base_dir()
                )
        except NNDeskError as exc:
            self._refuse(exc)
            return
        # From here on the worker's thread owns the session.
        self.preview.release()
        session.base_dir = self._base_dir()
        self.control.reset()
        if mode == "step_batch":
            self.control.step_batch()
        elif mode == "step_epoch":
            self.control.step_epoch()
        job = TrainingJob(
            session=session,
            dataset=dataset,
            sample_index=self._sample_index,
            text_prompt=self._text_prompt,
            # A GAN's run is not recorded on the timeline (its state is another).
            callbacks=() if self.gan.active else (self.timeline.recorder(session),),
            plane=self._plane,
        )
        worker_type = GanWorker if self.gan.active else TrainingWorker
        worker = worker_type(job, self.control)
        worker.set_epoch_stepping(mode == "step_epoch")
        if isinstance(worker, GanWorker):
            self.gan.attach(worker)
            if mode in GAN_MODES:
                self.gan.prime(mode)
        thread = QThread()
        thread.setObjectName("nndesk-training")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # Direct: quit must reach the thread even while the GUI thread waits for it.
        worker.sig_finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        for signal, slot in self._worker_slots(worker):
            signal.connect(slot)
        thread.finished.connect(self._on_thread_finished)
        self._worker, self._thread = worker, thread
        self._stale = self._discard = False
        self._outcome = None
        self.view.set_running(True)
        self._set_state("running" if mode == "run" else "paused")
        thread.start()

    def _worker_slots(self, worker: TrainingWorker) -> list[tuple[SignalInstance, Any]]:
        return [
            (worker.sig_started, self._on_worker_started),
            (worker.sig_batch_logged, self._on_worker_batch_logged),
            (worker.sig_epoch_finished, self._on_worker_epoch_finished),
            (worker.sig_probe_ready, self._on_worker_probe_ready),
            (worker.sig_histograms, self._on_worker_histograms),
            (worker.sig_evaluated, self._on_worker_evaluated),
            (worker.sig_data_replaced, self._on_worker_data_replaced),
            (worker.sig_failed, self._on_worker_failed),
            (worker.sig_finished, self._on_worker_finished),
            (worker.sig_gradient_flow, self._on_worker_gradient_flow),
            *self._gan_slots(worker),
        ]

    def _gan_slots(self, worker: TrainingWorker) -> list[tuple[SignalInstance, Any]]:
        if not isinstance(worker, GanWorker):
            return []
        return [
            (worker.sig_gan_started, self._on_worker_gan_started),
            (worker.sig_gan_probe, self._on_worker_gan_probe),
        ]

    def _on_worker_gan_started(self, start: GanStart) -> None:
        if not self._ignoring():
            self.curves.begin_run(start.first_epoch, start.last_epoch)

    def _on_worker_gan_probe(self, picture: object) -> None:
        if not self._ignoring():
            self.view.show_gan(picture)  # type: ignore[arg-type]

    def _on_worker_started(self, start: StartInfo) -> None:
        if self._ignoring():
            return
        self.view.show_structure(start.info, start.x_train, start.y_train)
        self.boundary.set_scaling(start.preprocessing)
        self.curves.begin_run(start.first_epoch, start.last_epoch)
        if start.kept:
            fresh = [
                c.name
                for c in start.info.layers
                if c.kernel and c.name not in start.kept
            ]
            if fresh:
                self.panel.set_message(
                    f"Kept the weights of {len(start.kept)} unchanged layer(s); "
                    f"{', '.join(fresh)} start(s) from fresh weights."
                )
        if start.note:  # e.g. a warm-up as long as the run: trains, not as meant
            self.panel.set_message(start.note)

    def _on_worker_batch_logged(self, chunk: dict[str, Any]) -> None:
        self._copy.drop()
        if self._ignoring():
            return
        # Every batch changes the weights the file would hold.
        self.window.mark_modified()
        self.view.show_progress(chunk)

    def _on_worker_epoch_finished(self, logs: dict[str, Any]) -> None:
        if self._ignoring():
            return
        self.window.mark_modified()
        self.last_epoch_logs = dict(logs)
        self.view.show_epoch(logs)
        self.sig_epoch_finished.emit(int(logs["epoch"]))

    def _on_worker_probe_ready(self, probe: ProbeResult) -> None:
        self._copy.drop()
        if not self._ignoring():
            self._show_probe(probe)

    def _on_worker_histograms(self, update: tuple[float, Any, Any]) -> None:
        if not self._ignoring():
            step, weights, gradients = update
            self.histograms.set_histograms(weights, gradients, step)

    def _on_worker_gradient_flow(self, report: FlowReport) -> None:
        if not self._ignoring():
            self.diagnostics.show_flow(report)

    def _on_worker_evaluated(self, result: Evaluation) -> None:
        if self._ignoring():
            return
        self.evaluation.set_evaluation(result)

    def _on_worker_data_replaced(self, update: DataUpdate) -> None:
        if self._ignoring():
            return
        if update.x_train is None or update.y_train is None:
            self.panel.set_message(update.message, error=True)
            return
        self.view.show_structure(update.info, update.x_train, update.y_train)

    def _on_boundary_paint_requested(self, on: bool) -> None:
        """Paint on the decision boundary: the painted set becomes the dataset
        first (starting from the current 2-D data, or keeping points painted
        before), as one undo step."""
        doc = self.window.document
        if not on or doc is None:
            self.boundary.set_painting(False)
            return
        if not is_painted_spec(doc.settings.get("dataset")):
            dataset = self.window.dataset
            plane = dataset is not None and dataset.input_shape == (2,)
            try:
                started = start_painting(
                    self.window.editor.push, doc, dataset if plane else None, keep=True
                )
            except NNDeskError as exc:
                self.window.editor.show_message(str(exc))
                started = False
            if not started:
                self.boundary.set_painting(False)
                return
            self.window.editor.show_message(
                f"Painting: the dataset is now the painted set "
                f"({doc.painted.summary()}); Undo goes back."
            )
        self.boundary.set_painting(True)

    def _on_worker_failed(self, message: str) -> None:
        if self._ignoring():
            return
        self._fail(message)

    def _on_worker_finished(self, outcome: TrainingOutcome) -> None:
        self._outcome = outcome

    def _on_thread_finished(self) -> None:
        thread, worker, outcome = self._thread, self._worker, self._outcome
        if thread is None:
            return  # already handled (a run abandoned and waited for)
        self._thread = self._worker = None
        self.gan.detach()
        self._copy.forget()
        self._evaluate_on_copy = False
        thread.wait()
        thread.deleteLater()
        if worker is not None:
            worker.deleteLater()
        discard, self._discard = self._discard, False
        if self._closing:
            return
        if outcome is not None and not discard:
            self._keep(outcome)
        self.view.set_running(False)
        self._set_state("idle")
        pending, self._pending = self._pending, None
        if pending is not None:
            self._start(pending)
        else:
            show_latest_soon()  # the end state at once, not when a budget says
            self._schedule_preview()
        if outcome is not None and not discard:
            self.sig_run_finished.emit(outcome)

    def _keep(self, outcome: TrainingOutcome) -> None:
        if outcome.state is not None:
            self.session = outcome.session
        if outcome.status == "early_stopped":
            self.panel.set_message(
                "Early stopping ended the run and restored the best weights."
            )
        elif outcome.status == "stopped" and not outcome.message:
            self.panel.set_message("Stopped; the weights and history are kept.")
        self._update_actions()

    def _ignoring(self) -> bool:
        return self._closing or self._discard

    def _refuse(self, exc: NNDeskError) -> None:
        """Say why Train or Evaluate cannot run now."""
        if isinstance(exc, CompileError):
            # The Problems panel lists them already: no dialog repeating every
            # problem at each press of Train (found by random input, issue 19).
            count = len(exc.problems)
            message = (
                f"The network has {count} problems; the Problems panel lists them."
            )
            self.last_error = str(exc) if count == 1 else message
            self.panel.set_message(self.last_error, error=True)
            return
        self._fail(str(exc))

    def _fail(self, message: str) -> None:
        self.last_error = message
        self.panel.set_message(message, error=True)
        self.window.show_error(message)

    def _set_state(self, state: str) -> None:
        if state == self.state:
            return
        self.state = state
        self.panel.set_state(state)
        self._update_actions()
        self.sig_state_changed.emit(state)

    def _update_actions(self) -> None:
        self.actions.update(self.state, trained=self.trained)

    def _show_probe(self, probe: ProbeResult) -> None:
        self.last_probe = probe
        if not self.timeline.shows_past:  # the timeline shows a checkpoint
            self.view.show_probe(probe)

    def show_all_panels(self) -> None:
        """Show every training panel at once, side by side in the bottom area."""
        self.view.show_all()

    # --- the preview ----------------------------------------------------------------------------
    def _schedule_preview(self) -> None:
        if not self._closing:
            self._preview_timer.start()

    def refresh_preview(self) -> None:
        """Show the document as it is now with the trained state in the panels
        (skipped while a worker runs: its probes feed the panels then)."""
        self._preview_timer.stop()
        doc = self.window.document
        if self._closing or doc is None or self.state in ("running", "starting"):
            return
        dataset = self._dataset()
        if dataset is None:
            return
        if self.gan.active:
            # A GAN's picture of the kept state (a paused run's comes from its
            # worker, which reports before it waits).
            if self._thread is None:
                self.gan.preview(self.session, doc, dataset, self._base_dir())
            return
        try:
            if not self._show_current(dataset, wait=False):
                return
        except NNDeskError as exc:
            log.debug("no preview: %s", exc)
            return
        data, info = self.preview.data, self.preview.info
        assert data is not None and info is not None
        self.view.show_structure(info, data.x_train, data.y_train)
        shown_session = self.preview.session
        self.boundary.set_scaling(
            shown_session.preprocessing if shown_session is not None else None
        )
        probe = self.preview.probe(
            self._sample_index, max(0, self._epoch_count() - 1), self._plane
        )
        if probe is not None:
            self._show_probe(probe)
        shown = self.preview.session
        if shown is not None and shown.history.epochs:
            if not self.curves.table_model.rows():
                self.curves.set_history(shown.history.as_dict())

    def _show_current(self, dataset: Dataset | None = None, wait: bool = True) -> bool:
        """Put the state the window shows into the preview (a paused run's copy,
        or the session's), for the document as it is now. False (with ``wait``
        off) when the run's copy or the compiled kernels are not at hand yet:
        ``_on_preview_ready`` shows it once they are.

        Raises
        ------
        NNDeskError
            When the network does not compile or the data does not fit.
        """
        doc = self.window.document
        if doc is None:
            return False
        source: Source = self.session
        if not wait and not self._warmup.ready:
            return False  # the forward pass would wait for Numba's import
        if self._thread is not None:
            copy = self._copy.state
            if copy is None and wait:
                copy = self._copy.state = self.current_state()
            elif copy is None and self._worker is not None:
                copy = self._copy.ask(self.control, self._worker.job.session.capture)
                if copy is None:
                    return False  # shown when it arrives (_on_preview_ready)
            source = copy
        self.preview.update(
            source, doc.snapshot(), dataset or self._dataset(), self._base_dir()
        )
        return True

    def _on_preview_ready(self) -> None:
        if self._closing:
            return
        self.refresh_preview()
        if self._evaluate_on_copy:
            self._evaluate_on_copy = False
            self.evaluate()

    def _on_sample_requested(self, index: int) -> None:
        self._sample_index = int(index)
        if self.state == "running" and self._worker is not None:
            self._worker.set_sample_index(index)
            return
        try:
            if not self._show_current(wait=False):
                return
        except NNDeskError as exc:
            log.debug("no preview: %s", exc)
            return
        probe = self.preview.probe(index, max(0, self._epoch_count() - 1), self._plane)
        if probe is not None:
            self._show_probe(probe)

    def _on_boundary_plane_changed(self, plane: Plane | None) -> None:
        """The decision boundary's plane changed: a run draws on it from its next
        probe, otherwise the preview draws on it now."""
        self._plane = plane
        if self._worker is not None:
            self._worker.set_plane(plane)
        if self.state == "running":
            return
        self._on_sample_requested(self._sample_index)

    def _on_document_replaced_plane(self, _doc: Document) -> None:
        self.boundary.chooser.forget()  # New, Open, Close: its data are going

    def _restore_boundary_plane(self, project: Project) -> None:
        """The opened file's plane, taken with its data (or the sentence why not)."""
        view = project.view or {}
        chooser = self.boundary.chooser
        chooser.restore(view.get("boundary_plane"))
        if project.view_problem:
            log.info("%s", project.view_problem)
            chooser.say(project.view_problem)  # under the map

    def view_state(self) -> dict[str, Any] | None:
        """What Save keeps of the panels (``Project.view``): the boundary's plane
        when it is not the default one."""
        plane = self.boundary.chooser.choice()
        return {"boundary_plane": plane} if plane else None

    def _on_text_prompt_requested(self, prompt: TextPrompt) -> None:
        # The panel samples the weights it has at once; a run draws from the
        # prompt at each epoch end.
        self._text_prompt = prompt
        if self._worker is not None:
            self._worker.set_text_prompt(prompt)

    def _on_panel_learning_rate_edited(self, lr: float) -> None:
        if not self.set_learning_rate(lr) and self._doc is not None:
            self.panel.set_learning_rate(float(self._doc.settings["learning_rate"]))

    def _on_panel_epochs_edited(self, epochs: int) -> None:
        self.window.edit_setting("epochs", int(epochs))

    # --- data --------------------------------------------------------------------------------------
    def _base_dir(self) -> Path | None:
        path = self.window.path
        return path.parent if path is not None else None

    def _dataset(self) -> Dataset | None:
        """The window's dataset when it is the one the settings name, else None."""
        doc = self.window.document
        if doc is None:
            return None
        try:
            return self.window.datasets.load(doc.settings, self._base_dir())
        except NNDeskError:
            return None

    def _missing_data_reason(self, doc: Document) -> str | None:
        """Why there is no data to train on (the window's sentence), or None when
        the settings name a dataset that did not fail."""
        if not str(doc.settings.get("dataset") or "").strip():
            try:
                load_settings_dataset(doc.settings)
            except NNDeskError as exc:
                return str(exc)
        return self.window.dataset_error

    def _epoch_count(self) -> int:
        if self.last_probe is not None and self._thread is not None:
            return self.last_probe.epoch + 1
        return self._kept_history().epochs

    def _kept_history(self) -> TrainingHistory:
        return TrainingHistory(self.session.history if self.session else None)

    # --- files -------------------------------------------------------------------------------------
    def project(self) -> Project | None:
        """What File > Save writes: the window's document with the trained state it
        shows, at any moment (the window's ``TrainingPart``).

        A running or paused run is copied at a batch boundary (it goes on): its
        weights, optimizer state, history of the finished epochs and scaling. An
        edited network is saved with the weights it has now (trained ones where the
        shapes still fit, the preview's fresh ones elsewhere). None when there is
        no trained state to add (the window then keeps the file's own).

        Raises
        ------
        TrainingStateError
            When a running worker does not reach a batch boundary in time.
        """
        doc = self.window.document
        if doc is None:
            return None
        if self._thread is not None:
            state = self.current_state()
            metadata = self._worker.job.session.metadata if self._worker else None
            if state is None:
                return None
            project = state.to_project(doc, metadata)
            # The timeline records no GAN run (docs/timeline.md): nothing to add.
            return project if self.gan.active else self.timeline.add_runs_to(project)
        if self.gan.active:
            return self.session.to_project(doc) if self.session is not None else None
        try:
            self._show_current()
            shown = self.preview.session
        except NNDeskError:
            shown = None  # does not compile: keep what still fits of the session
        if shown is not None and shown.snapshot.same_content(doc):
            return self.timeline.add_runs_to(shown.to_project(doc))
        if self.session is not None:
            return self.timeline.add_runs_to(self.session.to_project(doc))
        return None

    def restore_project(self, project: Project) -> None:
        """Take over the trained state of an opened file (call right after the
        window shows ``project.document``)."""
        if self._thread is not None and not self._discard:
            log.warning("restore_project while training: ignored")
            return
        try:
            if self.gan.active:
                self.session = self.gan.restore(project, self._base_dir())  # type: ignore[assignment]
            else:
                self.session = TrainingSession.from_project(
                    project, base_dir=self._base_dir()
                )
        except NNDeskError as exc:
            # A file saved mid-edit: its state waits, uncompiled, until the network
            # compiles again (the preview and the next run take it over then).
            log.info("the opened network does not compile: %s", exc)
            self.session = TrainedState.from_project(project)
        self.curves.set_history({k: list(v) for k, v in project.history.items()})
        if self.gan.active:
            self.view.gan_curves.set_history(project.history)
        self._update_actions()
        self.refresh_preview()

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predictions of the network the window shows for raw inputs
        ``(n, *input_shape)`` (a running run's as of its last finished batch)."""
        doc = self.window.document
        if self._thread is not None or doc is None:
            state = self.current_state()
            if state is None:
                raise TrainingStateError("There is no network to predict with.")
            return TrainingSession.from_state(state).predict(np.asarray(x))
        self._show_current()
        return self.preview.predict(x)

    # --- shutting down -------------------------------------------------------------------------------
    def shutdown(self, timeout_ms: int = STOP_TIMEOUT_MS) -> bool:
        """Stop training and wait for the worker's thread to end (idempotent).

        The main window calls it when it closes, after the unsaved-changes question
        (whose Save copied a running run's state first).

        Returns
        -------
        bool
            False if the thread did not end within ``timeout_ms``.
        """
        self._closing = True
        self.race.shutdown()
        self.timeline.shutdown()
        self._preview_timer.stop()
        self._follow(None)
        thread = self._thread
        if thread is None:
            return True
        self._pending = None
        self.control.stop()
        finished = thread.wait(timeout_ms)
        if not finished:
            log.error("the training thread did not stop within %d ms", timeout_ms)
        return bool(finished)
