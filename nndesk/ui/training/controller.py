"""Training in the main window: actions, panels, status-bar progress and the worker thread.

``attach_training(window)`` adds a Training menu and toolbar, the training dock and
the plot docks, and a progress bar in the status bar, and returns the
``TrainingController`` that runs one ``TrainingWorker`` at a time in a QThread.

The controller keeps what training produced (weights, optimizer state, history,
feature scaling) between runs; each run continues from it. Editing the network
while training is paused or stopped is allowed: the next run compiles the edited
network and keeps the weights of every node whose shapes did not change.
"""

from __future__ import annotations

import logging
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
)
from PySide6.QtGui import QCloseEvent

from nndesk.document import events as ev
from nndesk.document.graph import Document
from nndesk.engine.errors import NNDeskError
from nndesk.io.datasets import Dataset
from nndesk.io.project_file import Project, expected_weight_shapes

from ..workers import (
    ReportingControl,
    StartInfo,
    TrainingJob,
    TrainingOutcome,
    TrainingWorker,
)
from .actions import TrainingActions
from .docks import TrainingDocks
from .preview import Preview
from .probes import Evaluation, ProbeResult

if TYPE_CHECKING:
    from ..main_window import MainWindow

log = logging.getLogger(__name__)

__all__ = ["TrainingController", "attach_training"]

# Settings whose change does not alter the model a paused run trains.
_LIVE_SETTINGS = ("learning_rate", "epochs")
# Settings after whose change the stored feature scaling no longer applies.
_SCALING_SETTINGS = ("dataset", "dataset_target", "scaling")
PREVIEW_DELAY_MS = 250
STOP_TIMEOUT_MS = 60_000


def attach_training(window: MainWindow) -> TrainingController:
    """Add training to ``window``: menu, toolbar, docks, status-bar progress.

    The window must offer ``add_panel``, ``document``, ``path``, ``dataset``,
    ``edit_setting``, ``show_error``, ``sig_document_replaced`` and
    ``sig_dataset_changed`` (``nndesk.ui.main_window.MainWindow`` does).

    Returns
    -------
    TrainingController
        Call its ``shutdown()`` before the window goes away (closing the window
        does it too, after the unsaved-changes question).
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
    weights, optimizer_state : dict or None
        What the last run (or the opened file) left; None before any training.
    history : dict
        Per-epoch values of every run so far.
    preprocessing : dict or None
        The feature scaling fitted on the training data.
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
        self.window = window
        self.control = ReportingControl()
        self.state = "idle"
        self.weights: dict[str, np.ndarray] | None = None
        self.optimizer_state: dict[str, np.ndarray] | None = None
        self.optimizer_name: str | None = None
        self.history: dict[str, list[float]] = {}
        self.preprocessing: dict[str, Any] | None = None
        self.last_error = ""
        self.last_outcome: TrainingOutcome | None = None
        self.last_epoch_logs: dict[str, Any] = {}
        self.preview = Preview()
        self.last_probe: ProbeResult | None = None
        self._doc: Document | None = None
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None
        self._outcome: TrainingOutcome | None = None
        self._pending: str | None = None
        self._discard = False
        self._stale = False
        self._closing = False
        self._sample_index = 0
        self._shown = False

        self.actions = TrainingActions(self)
        self.view = TrainingDocks(window, self.actions)
        v = self.view
        self.panel, self.docks = v.panel, v.docks
        self.curves, self.boundary, self.network = v.curves, v.boundary, v.network
        self.activations, self.histograms = v.activations, v.histograms
        self.evaluation = v.evaluation
        self._connect()
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self.refresh_preview)
        window.installEventFilter(self)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._follow(window.document)
        self.refresh_preview()

    def _connect(self) -> None:
        a, w = self.actions, self.window
        a.train.triggered.connect(self.train)
        a.pause.triggered.connect(self.pause)
        a.resume.triggered.connect(self.resume)
        a.step_batch.triggered.connect(self.step_batch)
        a.step_epoch.triggered.connect(self.step_epoch)
        a.stop.triggered.connect(self.stop)
        a.reset.triggered.connect(self.reset_weights)
        a.evaluate.triggered.connect(self.evaluate)
        a.show_all.triggered.connect(self.show_all_panels)
        self.panel.sig_learning_rate_edited.connect(self._on_panel_learning_rate_edited)
        self.panel.sig_epochs_edited.connect(self._on_panel_epochs_edited)
        self.activations.sig_sample_requested.connect(self._on_sample_requested)
        w.sig_document_replaced.connect(self._on_window_document_replaced)
        # Save writes what training produced; Open hands the file's back.
        if hasattr(w, "project_source"):
            w.project_source = self.project
        if hasattr(w, "sig_project_opened"):
            w.sig_project_opened.connect(self.restore_project)
        w.sig_dataset_changed.connect(self._on_window_dataset_changed)

    # --- the document -----------------------------------------------------------------------
    def _follow(self, doc: Document | None) -> None:
        if self._doc is not None:
            self._doc.events.changed.disconnect(self._on_document_changed)
        self._doc = doc
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
        self._forget_training()
        # Compiling a large network takes a while: not in the same turn of the
        # event loop as the canvas's own start on it.
        self._schedule_preview()

    def _on_window_dataset_changed(self, dataset: object) -> None:
        self._schedule_preview()

    def _on_document_changed(self, event: ev.DocumentEvent) -> None:
        if event.kind in ("node_moved", "label_changed"):
            return
        if isinstance(event, ev.SettingsChanged):
            if event.name == "learning_rate":
                self.panel.set_learning_rate(float(event.new))
                if self._thread is not None:
                    self.control.set_lr(float(event.new))
            elif event.name == "epochs":
                self.panel.set_epochs(int(event.new))
            if event.name in _SCALING_SETTINGS:
                self.preprocessing = None
            if event.name in _LIVE_SETTINGS:
                return
        if self._thread is not None:
            self._stale = True
        self._schedule_preview()

    def _forget_training(self) -> None:
        self.weights = self.optimizer_state = None
        self.optimizer_name = None
        self.history = {}
        self.preprocessing = None
        self.last_probe = None
        self.last_error = ""
        # The preview keeps its prepared data: the dataset did not change, and
        # preparing a large one again would freeze the window for seconds.
        self.preview.forget_weights()
        self.view.clear()
        self._update_actions()

    # --- requests -----------------------------------------------------------------------------
    @property
    def is_active(self) -> bool:
        """Whether a worker thread exists (starting, running, paused or stopping)."""
        return self._thread is not None

    def train(self) -> None:
        """Train ``epochs`` more epochs (continuing from the kept weights)."""
        self._request("run")

    def step_batch(self) -> None:
        """Train one batch, then pause."""
        self._request("step_batch")

    def step_epoch(self) -> None:
        """Train to the end of the current epoch, then pause."""
        self._request("step_epoch")

    def resume(self) -> None:
        """Continue a paused run (restarting it on the edited network if edited)."""
        self._request("run")

    def pause(self) -> None:
        """Pause after the current batch."""
        if self.state == "running":
            self.control.pause()
            self._set_state("paused")

    def stop(self) -> None:
        """End the run after the current batch; weights and history are kept."""
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
            # then start again from its weights.
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
        else:
            self._worker.set_epoch_stepping(True)
            self.control.step_epoch()
            self._set_state("paused")

    def reset_weights(self) -> None:
        """Forget the trained weights, optimizer state and history (when idle)."""
        if self._thread is not None:
            return
        self._forget_training()
        self.panel.set_message("Weights reset: the next run starts from fresh weights.")
        self.refresh_preview()

    def evaluate(self) -> None:
        """Score the network on the validation data and show it in the Evaluation panel."""
        if self.state == "running" and self._worker is not None:
            self._worker.request_evaluation()
            return
        self._sync_preview_weights()
        try:
            result = self.preview.evaluate(
                self._epoch_count() - 1 if self.history else 0
            )
        except NNDeskError as exc:
            self._fail(str(exc))
            return
        if result is not None:
            self._on_worker_evaluated(result)
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
        snapshot = doc.snapshot()
        dataset = self._dataset()
        data = None
        if dataset is not None:
            try:
                self.preview.update(snapshot, dataset, self.weights, self.preprocessing)
                data = self.preview.data
            except NNDeskError as exc:
                self._fail(str(exc))
                return
        self.control.reset()
        if mode == "step_batch":
            self.control.step_batch()
        elif mode == "step_epoch":
            self.control.step_epoch()
        job = TrainingJob(
            snapshot=snapshot,
            dataset=dataset,
            base_dir=self._base_dir(),
            weights=self.weights,
            optimizer_state=self.optimizer_state,
            optimizer_name=self.optimizer_name,
            history=self.history,
            preprocessing=self.preprocessing,
            data=data,
            sample_index=self._sample_index,
        )
        worker = TrainingWorker(job, self.control)
        worker.set_epoch_stepping(mode == "step_epoch")
        thread = QThread()
        thread.setObjectName("nndesk-training")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # Direct: quit must reach the thread even while the GUI thread waits for it.
        worker.sig_finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.sig_started.connect(self._on_worker_started)
        worker.sig_batch_logged.connect(self._on_worker_batch_logged)
        worker.sig_epoch_finished.connect(self._on_worker_epoch_finished)
        worker.sig_probe_ready.connect(self._on_worker_probe_ready)
        worker.sig_evaluated.connect(self._on_worker_evaluated)
        worker.sig_failed.connect(self._on_worker_failed)
        worker.sig_finished.connect(self._on_worker_finished)
        thread.finished.connect(self._on_thread_finished)
        self._worker, self._thread = worker, thread
        self._stale = self._discard = False
        self._outcome = None
        self.view.set_running(True)
        self._set_state("running" if mode == "run" else "paused")
        thread.start()

    def _on_worker_started(self, start: StartInfo) -> None:
        if self._ignoring():
            return
        self.view.show_structure(start.info, start.x_train, start.y_train)
        self.curves.begin_run(start.first_epoch, start.last_epoch)
        if start.kept and self.weights:
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

    def _on_worker_batch_logged(self, chunk: dict[str, Any]) -> None:
        if not self._ignoring():
            self.view.show_progress(chunk)

    def _on_worker_epoch_finished(self, logs: dict[str, Any]) -> None:
        if self._ignoring():
            return
        self.last_epoch_logs = dict(logs)
        self.view.show_epoch(logs)
        self.sig_epoch_finished.emit(int(logs["epoch"]))

    def _on_worker_probe_ready(self, probe: ProbeResult) -> None:
        if not self._ignoring():
            self._show_probe(probe)

    def _on_worker_evaluated(self, result: Evaluation) -> None:
        if self._ignoring():
            return
        self.evaluation.set_evaluation(result)

    def _on_worker_failed(self, message: str) -> None:
        if self._ignoring():
            return
        self._fail(message)

    def _on_worker_finished(self, outcome: TrainingOutcome) -> None:
        self._outcome = outcome

    def _on_thread_finished(self) -> None:
        thread, worker, outcome = self._thread, self._worker, self._outcome
        self._thread = self._worker = None
        if thread is not None:
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
            self._schedule_preview()
        if outcome is not None and not discard:
            self.sig_run_finished.emit(outcome)

    def _keep(self, outcome: TrainingOutcome) -> None:
        self.last_outcome = outcome
        if outcome.weights is not None:
            self.weights = outcome.weights
            self.optimizer_state = outcome.optimizer_state
            self.optimizer_name = outcome.optimizer_name
            self.history = outcome.history
            self.preprocessing = outcome.preprocessing
        if outcome.status == "early_stopped":
            self.panel.set_message(
                "Early stopping ended the run and restored the best weights."
            )
        elif outcome.status == "stopped" and not outcome.message:
            self.panel.set_message("Stopped; the weights and history are kept.")
        self._update_actions()

    def _ignoring(self) -> bool:
        return self._closing or self._discard

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
        self.actions.update(self.state, trained=bool(self.weights or self.history))

    def _show_probe(self, probe: ProbeResult) -> None:
        self.last_probe = probe
        self.view.show_probe(probe)

    def show_all_panels(self) -> None:
        """Show every training panel at once, side by side in the bottom area."""
        self.view.show_all()

    def _schedule_preview(self) -> None:
        if not self._closing:
            self._preview_timer.start()

    def refresh_preview(self) -> None:
        """Recompile the document in the GUI thread and show it with the kept weights
        (skipped while a worker runs: its probes feed the panels then)."""
        self._preview_timer.stop()
        doc = self.window.document
        if self._closing or doc is None or self.state in ("running", "starting"):
            return
        dataset = self._dataset()
        if dataset is None:
            return
        try:
            self.preview.update(
                doc.snapshot(), dataset, self._current_weights(), self.preprocessing
            )
        except NNDeskError as exc:
            log.debug("no preview: %s", exc)
            return
        data, info = self.preview.data, self.preview.info
        assert data is not None and info is not None
        self.view.show_structure(info, data.x_train, data.y_train)
        probe = self.preview.probe(self._sample_index, max(0, self._epoch_count() - 1))
        if probe is not None:
            self._show_probe(probe)
        if self.history and not self.curves.table_model.rows():
            self.curves.set_history(self.history)

    def _current_weights(self) -> dict[str, np.ndarray] | None:
        # A paused run holds newer weights than the last finished one.
        if self._thread is not None and self.last_probe is not None:
            return self.last_probe.weights
        return self.weights

    def _sync_preview_weights(self) -> None:
        if self.preview.net is None:
            self.refresh_preview()
        weights = self._current_weights()
        if weights:
            self.preview.set_weights(weights)

    def _on_sample_requested(self, index: int) -> None:
        self._sample_index = int(index)
        if self.state == "running" and self._worker is not None:
            self._worker.set_sample_index(index)
            return
        self._sync_preview_weights()
        probe = self.preview.probe(index, max(0, self._epoch_count() - 1))
        if probe is not None:
            self._show_probe(probe)

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
        source = getattr(self.window, "datasets", None)
        if source is None:
            return self.window.dataset
        try:
            return source.load(doc.settings, self._base_dir())
        except NNDeskError:
            return None

    def _epoch_count(self) -> int:
        return len(self.history.get("loss", ()))

    # --- files -------------------------------------------------------------------------------------
    def project(self) -> Project:
        """The window's network with what training produced, ready for ``save_project``
        (the window's ``project_source``).

        A file holds weights for every layer or for none: after an edit that changed
        some shapes, the weights are those the network has now (trained ones where
        the shapes still fit, fresh ones elsewhere), or none when it does not
        compile. During a run the latest weights are saved without optimizer state
        (the worker's is not at hand).
        """
        doc = self.window.document if self.window.document is not None else Document()
        weights = dict(self._current_weights() or {})
        state = dict(self.optimizer_state or {}) if self._thread is None else {}
        fits = expected_weight_shapes(doc)
        if weights and {k: np.shape(v) for k, v in weights.items()} != fits:
            state = {}
            weights = {}
            self.refresh_preview()
            net = self.preview.net
            if net is not None and net.snapshot.same_content(doc):
                self._sync_preview_weights()
                weights = net.model.get_weights()
        return Project(
            document=doc,
            weights=weights,
            optimizer_state=state,
            history={k: list(v) for k, v in self.history.items()},
            preprocessing=self.preprocessing,
            optimizer_name=self.optimizer_name,
        )

    def restore_project(self, project: Project) -> None:
        """Take over the weights, optimizer state, history and scaling of an opened file
        (call right after the window shows ``project.document``)."""
        if self._thread is not None and not self._discard:
            log.warning("restore_project while training: ignored")
            return
        self.weights = dict(project.weights) or None
        self.optimizer_state = dict(project.optimizer_state) or None
        self.optimizer_name = project.optimizer_name
        self.history = {k: list(v) for k, v in project.history.items()}
        self.preprocessing = project.preprocessing
        self.curves.set_history(self.history)
        self._update_actions()
        self.refresh_preview()

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predictions of the current network for raw inputs ``(n, *input_shape)``."""
        self._sync_preview_weights()
        return self.preview.predict(x)

    # --- shutting down -------------------------------------------------------------------------------
    def shutdown(self, timeout_ms: int = STOP_TIMEOUT_MS) -> bool:
        """Stop training and wait for the worker's thread to end (idempotent).

        The main window calls it when it closes, after the unsaved-changes question.

        Returns
        -------
        bool
            False if the thread did not end within ``timeout_ms``.
        """
        self._closing = True
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

    request_stop_and_wait = shutdown

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if (
            watched is self.window
            and event.type() == QEvent.Type.Show
            and not self._shown
        ):
            # Sizes from the window's real first size (it is resized after building).
            self._shown = True
            self.view.default_sizes()
        if (
            watched is self.window
            and event.type() == QEvent.Type.Close
            and isinstance(event, QCloseEvent)
            and not self._closing
        ):
            # Let the window ask about unsaved changes first; stop training only if
            # it really closes.
            self.window.closeEvent(event)
            if event.isAccepted():
                self.shutdown()
            return True
        return super().eventFilter(watched, event)
