"""The QThread bridge: a TrainingWorker trains a ``TrainingSession`` in its own thread.

The worker gets a ``TrainingJob``: the session to train (the one owner of the
trained state, compiled in the GUI thread from a snapshot of the document, with
whatever it carries over) and the dataset. It never touches a widget or the live
document. It prepares the data through the session (which decides about a stored
scaler), trains through ``TrainingSession.make_trainer`` under a
``ReportingControl`` exactly as the command line does, and reports through
signals, always with fresh copies of arrays (the next batch mutates the model's
own). While the thread runs, the session belongs to it: the GUI thread asks for a
copy of its state through the control (``capture_state``), which the worker takes
between two batches and goes on.

- ``sig_started(StartInfo)``: the model's structure and the data, once.
- ``sig_batch_logged(dict)``: progress and every batch loss since the last emit,
  throttled by time (about ``BATCH_HZ`` per second).
- ``sig_epoch_finished(dict)``: each epoch's logs, never throttled.
- ``sig_probe_ready(ProbeResult)``: weights, histograms, activations, decision grid,
  at an adaptive rate that keeps probing to a few percent of the time.
- ``sig_histograms((step, weight_hist, grad_hist))``: the layers' histograms
  alone at an epoch's end no probe looked at (a column of the distributions over
  time), within the probes' share of the time.
- ``sig_evaluated(Evaluation)``: scores on the validation data, now and then.
- ``sig_data_replaced(DataUpdate)``: the painted training set changed between two
  epochs (``set_painted``); the next epochs train on it.
- ``sig_gradient_flow(FlowReport)``: per-layer gradient norms, update ratios and
  dead units (``nndesk.training.gradient_flow``), at most 2% of the time.
- ``sig_failed(str)``: one sentence for the user.
- ``sig_finished(TrainingOutcome)``: always last; the session, back to the GUI.

Connect them to bound slots of GUI-thread objects (a lambda would run in the
worker's thread).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from nndesk.document.painted import PaintedPoints
from nndesk.engine.callbacks import Callback
from nndesk.engine.errors import NNDeskError
from nndesk.io.datasets import Dataset
from nndesk.io.datasets.painted import is_painted_spec, painted_dataset
from nndesk.training.compile import warmup_note
from nndesk.training.control import TrainingControl
from nndesk.training.data import PreparedData
from nndesk.training.gradient_flow import GradientFlow
from nndesk.training.planes import Plane
from nndesk.training.sequence_views import TextPrompt
from nndesk.training.session import TrainedState, TrainingSession

from ..log_file import error_sentence
from .blas import lower_helper_priority, threads_for_models, threads_for_training
from .probes import (
    Evaluation,
    ModelInfo,
    Prober,
    evaluate_model,
    session_prober,
)

log = logging.getLogger(__name__)

__all__ = [
    "BATCH_HZ",
    "DataUpdate",
    "ReportingControl",
    "StartInfo",
    "TrainingJob",
    "TrainingOutcome",
    "TrainingWorker",
    "describe_error",
    "lower_thread_priority",
    "short_gil_slices",
]

BATCH_HZ = 10.0
"""Most progress emits per second."""
PROBE_MIN_INTERVAL = 0.25
PROBE_MAX_SHARE = 0.02
"""Probing may take at most this share of the training time."""
WORKER_NICENESS = 10
"""How much lower than the GUI thread's the training thread's CPU priority is."""
GIL_SWITCH_INTERVAL = 0.0005
"""Seconds a thread may keep the GIL while another waits for it, during a run."""
EVAL_INTERVAL = 2.0
"""Least seconds between two live evaluations (at epoch ends)."""
EVAL_MAX_SHARE = 0.02
"""Live evaluations may take at most this share of the training time: a slow one
(a CNN predicting 10,000 samples takes seconds) makes the next wait longer. The
last one of a run, and one at each pause, are always made."""
MAX_EVAL_SAMPLES = 10_000
"""Live evaluations during a run score at most this many samples (the first ones
of the validation data, and the Evaluation panel says so); Evaluate scores all."""


class ReportingControl(TrainingControl):
    """A TrainingControl that lets the worker report right before it blocks.

    ``before_wait`` (set by the worker, called in its thread) runs when the trainer
    asks for the next batch while paused, so the panels always show the exact state
    training is paused in, whatever moment the pause arrived at. Copies of the
    trained state are asked for with ``call_between_batches(session.capture)``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.before_wait: Callable[[], None] | None = None

    def wait_for_batch(self) -> bool:
        # The check and the wait happen under the control's re-entrant lock, so no
        # pause request can slip in between them and leave a pause unreported.
        with self._cond:
            hook = self.before_wait
            if hook is not None and self.state == "paused":
                hook()
            return super().wait_for_batch()


@dataclass(frozen=True)
class TrainingJob:
    """What one training run starts from (built in the GUI thread).

    Attributes
    ----------
    session : TrainingSession
        The network to train, with the weights, optimizer state, history and
        scaling it carries; it belongs to the worker's thread until the run ends.
    dataset : Dataset or None
        The loaded dataset; None to load it in the worker from the settings.
    epochs : int or None
        Epochs to train (default: the ``epochs`` setting).
    sample_index : int
        The sample whose activations are probed.
    text_prompt : TextPrompt
        What a character model's sampled text continues (drawn at epoch ends).
    plane : Plane or None
        The plane of the input space the decision boundary is drawn on (inputs
        that are not 2-D).
    callbacks : tuple of Callback
        More trainer callbacks, run in the worker's thread (the timeline's
        checkpoint recorder).
    """

    session: TrainingSession
    dataset: Dataset | None = None
    epochs: int | None = None
    sample_index: int = 0
    text_prompt: TextPrompt = TextPrompt()
    plane: Plane | None = None
    callbacks: tuple[Callback, ...] = ()


@dataclass
class StartInfo:
    """Sent once the model is compiled and the data prepared.

    ``x_train``/``y_train`` are the worker's own arrays: the GUI may read them but
    must not write them.
    """

    info: ModelInfo
    dataset: Dataset
    x_train: np.ndarray
    y_train: np.ndarray
    n_val: int
    kept: list[str]
    first_epoch: int
    last_epoch: int
    preprocessing: dict[str, Any] | None
    note: str | None = None  # a setting that trains, but not as meant


@dataclass
class DataUpdate:
    """The painted training set changed and the next epochs train on it.

    ``x_train``/``y_train`` are the worker's own arrays (read, never write);
    ``message`` is why the new points could not be used (then the arrays are
    None and training goes on with the data it had).
    """

    info: ModelInfo
    epoch: int
    x_train: np.ndarray | None = None
    y_train: np.ndarray | None = None
    n_train: int = 0
    n_val: int = 0
    message: str = ""


@dataclass
class TrainingOutcome:
    """How a run ended, and the session it trained.

    ``status`` is ``"completed"``, ``"stopped"``, ``"early_stopped"`` or
    ``"failed"``; ``message`` is the failure sentence (empty otherwise).
    ``session`` is the job's session, with this run's training in it (back in
    the GUI thread's hands once the thread has ended); ``state`` is a copy of it
    taken at the end, or None when the run failed before training began.
    """

    status: str
    session: TrainingSession
    message: str = ""
    state: TrainedState | None = None


def lower_thread_priority(niceness: int) -> bool:
    """Raise the calling thread's nice value by ``niceness`` (Linux; else a no-op).

    The training thread then yields the CPU to the GUI thread whenever both want
    it, so redraws are not queued behind training on a busy machine; when the GUI
    thread idles, training still gets the whole core. OpenBLAS's helper threads,
    which share its matrix products, get the same nice value (see .blas). Returns
    whether it applied.
    """
    if niceness <= 0 or not hasattr(os, "setpriority"):
        return False
    try:
        # On Linux a thread id names the thread alone for PRIO_PROCESS.
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        nice = min(19, current + niceness)
        os.setpriority(os.PRIO_PROCESS, tid, nice)
    except OSError as exc:
        log.debug("could not lower the training thread's priority: %s", exc)
        return False
    lower_helper_priority(nice)
    return True


@contextlib.contextmanager
def short_gil_slices(interval: float = GIL_SWITCH_INTERVAL) -> Iterator[None]:
    """Let threads hand the GIL over every ``interval`` seconds (at most) meanwhile.

    Training releases the GIL inside its kernels but needs it between them, tens of
    times a batch; a redrawing GUI thread holds it in Python code for milliseconds.
    With Python's default 5 ms slices the training thread then waits up to 5 ms for
    each of those moments and barely advances while panels redraw; short slices
    keep it going (and the GUI thread waits less for the GIL the other way round).
    The interval is process-wide: the previous one comes back afterwards, unless
    someone else changed it meanwhile.
    """
    previous = sys.getswitchinterval()
    wanted = min(previous, float(interval))
    sys.setswitchinterval(wanted)
    applied = sys.getswitchinterval()
    try:
        yield
    finally:
        if sys.getswitchinterval() == applied:
            sys.setswitchinterval(previous)


def describe_error(exc: BaseException) -> str:
    """One sentence for the user about a failed run (``error_sentence``)."""
    return error_sentence(exc, "Training failed")


class TrainingWorker(QObject):
    """Trains one ``TrainingJob`` when its thread starts (``run``), then finishes.

    Parameters
    ----------
    job : TrainingJob
        What to train.
    control : TrainingControl
        Shared with the GUI, which pauses, steps, stops and sets the learning rate
        through it.
    """

    sig_started = Signal(object)
    sig_batch_logged = Signal(object)
    sig_epoch_finished = Signal(object)
    sig_probe_ready = Signal(object)
    sig_histograms = Signal(object)
    sig_evaluated = Signal(object)
    sig_data_replaced = Signal(object)
    sig_failed = Signal(str)
    sig_finished = Signal(object)
    sig_gradient_flow = Signal(object)

    def __init__(self, job: TrainingJob, control: TrainingControl) -> None:
        super().__init__()
        self.job = job
        self.control = control
        self._lock = threading.Lock()
        self._sample_index = int(job.sample_index)
        self._text_prompt = job.text_prompt
        self._plane = job.plane
        self._evaluation_requested = False
        self._epoch_stepping = False
        self._painted: PaintedPoints | None = None

    # --- requests from the GUI thread (plain flags, read between batches) ------------------
    def set_sample_index(self, index: int) -> None:
        """Probe this training sample from now on."""
        with self._lock:
            self._sample_index = int(index)

    def set_text_prompt(self, prompt: TextPrompt) -> None:
        """Sample text after ``prompt`` from the next epoch end on (immutable: kept
        as it is)."""
        with self._lock:
            self._text_prompt = prompt

    def set_plane(self, plane: Plane | None) -> None:
        """Draw the decision boundary on ``plane`` from the next probe on
        (immutable: kept as it is)."""
        with self._lock:
            self._plane = plane

    def request_evaluation(self) -> None:
        """Evaluate after the next batch."""
        with self._lock:
            self._evaluation_requested = True

    def set_epoch_stepping(self, on: bool) -> None:
        """Tell the worker a step-epoch request runs (report at its end, not per batch)."""
        with self._lock:
            self._epoch_stepping = bool(on)

    def set_painted(self, painted: PaintedPoints) -> None:
        """The painted points changed: train on them from the next epoch on (when
        the run trains on the painted set). The value is immutable, so keeping a
        reference is keeping a copy of the points as they are now."""
        with self._lock:
            self._painted = painted

    def take_painted(self) -> PaintedPoints | None:
        """The painted points handed over since the last call (None: none)."""
        with self._lock:
            painted, self._painted = self._painted, None
            return painted

    @property
    def trains_painted(self) -> bool:
        """Whether this run's dataset is the painted set."""
        return is_painted_spec(self.job.session.settings.get("dataset"))

    def _take_flags(self) -> tuple[bool, bool]:
        """(evaluation requested since the last call, stepping an epoch)."""
        with self._lock:
            asked, self._evaluation_requested = self._evaluation_requested, False
            return asked, self._epoch_stepping

    @property
    def sample_index(self) -> int:
        """The sample whose activations are probed."""
        with self._lock:
            return self._sample_index

    @property
    def text_prompt(self) -> TextPrompt:
        """What sampled text continues."""
        with self._lock:
            return self._text_prompt

    @property
    def plane(self) -> Plane | None:
        """The plane the decision boundary is drawn on."""
        with self._lock:
            return self._plane

    # --- the worker thread -----------------------------------------------------------------
    @Slot()
    def run(self) -> None:
        """Train the job; every outcome ends with ``sig_finished``."""
        outcome = TrainingOutcome(status="failed", session=self.job.session)
        if threading.current_thread() is not threading.main_thread():
            # Never the GUI thread (tests call run() directly in it).
            lower_thread_priority(WORKER_NICENESS)
        try:
            data, dataset = self._prepare()
            # Every core once OpenBLAS's helpers run niced like this thread,
            # else one core stays free for the GUI thread's redraws (see .blas).
            with short_gil_slices(), threads_for_training(self.blas_threads()):
                self._train(data, dataset, outcome)
        except Exception as exc:  # noqa: BLE001 - one sentence reaches the user
            if not isinstance(exc, NNDeskError):
                log.exception("training failed")
            outcome.message = describe_error(exc)
            self.sig_failed.emit(outcome.message)
        finally:
            # Copies asked for after the last batch are answered from the end state.
            self.control.serve_calls()
            self.sig_finished.emit(outcome)

    def blas_threads(self) -> int | None:
        """OpenBLAS threads for this run (None: ``gui_friendly_threads``)."""
        session = self.job.session
        return threads_for_models([session.model], int(session.settings["batch_size"]))

    def _prepare(self) -> tuple[PreparedData, Dataset]:
        session, dataset = self.job.session, self.job.dataset
        if dataset is None:
            dataset = session.load_dataset()
        return session.prepare(dataset), dataset

    def _train(
        self, data: PreparedData, dataset: Dataset, outcome: TrainingOutcome
    ) -> None:
        job, session = self.job, self.job.session
        prober = session_prober(session, data, dataset)
        info = prober.info
        bridge = _Bridge(self, session, data, info, prober)
        # Before training starts: its sub-model shares the model's layers.
        bridge.flow = GradientFlow(
            session.model,
            data.x_train,
            int(session.settings["batch_size"]),
            self.sig_gradient_flow.emit,
            seed=int(session.settings["seed"]),
        )
        trainer = session.make_trainer(
            data,
            callbacks=[bridge, bridge.flow, *job.callbacks],
            control=self.control,
            epochs=job.epochs,
        )
        first = trainer.epoch
        bridge.epoch, bridge.step = first, float(first)
        self.sig_started.emit(
            StartInfo(
                info=info,
                dataset=dataset,
                x_train=data.x_train,
                y_train=data.y_train,
                n_val=data.n_val,
                kept=list(session.kept_nodes),
                first_epoch=first,
                last_epoch=first + int(trainer.config.epochs),
                preprocessing=session.preprocessing,
                note=warmup_note(
                    trainer.config.schedule,
                    max(1, math.ceil(data.n_train / trainer.config.batch_size)),
                ),
            )
        )
        # No probe yet: the GUI's preview already shows the starting weights.
        bridge._last_probe = time.perf_counter()
        if isinstance(self.control, ReportingControl):
            self.control.before_wait = bridge.before_wait
        try:
            trainer.run(job.epochs)
            outcome.status = trainer.status
        except NNDeskError as exc:
            outcome.message = describe_error(exc)
            self.sig_failed.emit(outcome.message)
        finally:
            if isinstance(self.control, ReportingControl):
                self.control.before_wait = None
        try:
            # An evaluation at the last epoch's end already shows the end state
            # (a CNN's takes seconds: not twice), unless early stopping put the
            # best weights back since.
            if outcome.status != "completed":
                bridge.changed_since_evaluation = True
            bridge.report(force_probe=True, evaluate=bridge.changed_since_evaluation)
        except Exception:  # noqa: BLE001 - a last look must not lose the weights
            log.exception("the final probe failed")
        outcome.state = session.capture()


class _Bridge(Callback):
    """Runs in the worker thread inside the trainer; turns hooks into throttled signals."""

    def __init__(
        self,
        worker: TrainingWorker,
        session: TrainingSession,
        data: PreparedData,
        info: ModelInfo,
        prober: Prober,
    ) -> None:
        super().__init__()
        self.worker = worker
        self.session = session
        self.data = data
        self.info = info
        self.prober = prober
        self.flow: GradientFlow | None = None  # gradient flow and dead units
        self.steps: list[float] = []
        self.losses: list[float] = []
        self.progress: dict[str, Any] = {}
        self.epoch = 0
        self.step = 0.0
        self._last_emit = 0.0
        self._last_probe = 0.0
        self._probe_interval = PROBE_MIN_INTERVAL
        self._hist_at = 0.0  # when histograms alone were last taken
        self._hist_cost = 0.0  # and what they cost
        self._last_eval = time.perf_counter()
        self._eval_interval = EVAL_INTERVAL
        self.changed_since_evaluation = True  # trained since the last evaluation
        self._unreported = 0  # batches since the last forced report
        self._eval_x, self._eval_y, self._eval_split, self._eval_total = (
            self._evaluation_data()
        )

    def _evaluation_data(self) -> tuple[np.ndarray, np.ndarray, str, int]:
        """The first ``MAX_EVAL_SAMPLES`` of the validation data (training data
        without a split), its name and its whole size."""
        data = self.data
        if data.x_val is not None and data.y_val is not None:
            x, y, split = data.x_val, data.y_val, "validation"
        else:
            x, y, split = data.x_train, data.y_train, "training"
        return x[:MAX_EVAL_SAMPLES], y[:MAX_EVAL_SAMPLES], split, len(x)

    # --- hooks (worker thread) ----------------------------------------------------------------
    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch = int(epoch)

    def on_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if batch == 0:  # points painted while paused at the epoch boundary
            self._use_painted()

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        batches = max(1, int(logs.get("batches", 1)))
        self.step = self.epoch + (batch + 1) / batches
        self.steps.append(self.step)
        self.losses.append(float(logs.get("loss", np.nan)))
        self.progress = logs  # read (copied) only when emitted
        self._unreported += 1
        self.changed_since_evaluation = True
        evaluate, _ = self.worker._take_flags()
        if evaluate or time.perf_counter() - self._last_emit >= 1.0 / BATCH_HZ:
            self.report(evaluate=evaluate)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        values = dict(logs or {})
        values["epoch"] = int(epoch)
        self._emit_batches()
        self.worker.sig_epoch_finished.emit(values)
        # A step-epoch request ends with the epoch; the pause after it reports.
        self.worker.set_epoch_stepping(False)
        evaluate, _ = self.worker._take_flags()
        due = time.perf_counter() - self._last_eval >= self._eval_interval
        # A character model's text is drawn here, once per epoch, for the prompt
        # the panel asks for now.
        probed = self._last_probe
        self.report(evaluate=evaluate or due, samples=self.prober.samples_text)
        if self._last_probe == probed:
            self._epoch_histograms()
        self._use_painted()

    def _epoch_histograms(self) -> None:
        """The layers' histograms at an epoch's end no probe looked at, so the
        distributions over time get a column per epoch; skipped when they would
        take more than ``PROBE_MAX_SHARE`` of the time since the last ones."""
        now = time.perf_counter()
        if now - self._hist_at < self._hist_cost / PROBE_MAX_SHARE:
            return
        weights, gradients = self.prober.histograms()
        self._hist_at = time.perf_counter()
        self._hist_cost = self._hist_at - now
        self.worker.sig_histograms.emit((self.step, weights, gradients))

    def _use_painted(self) -> None:
        """Hand the points painted since the last look to the trainer: they are the
        training set from the next epoch on (split and scaled as the session's
        settings and scaler say)."""
        painted = self.worker.take_painted()
        trainer = self.session.trainer
        if painted is None or trainer is None or not self.worker.trains_painted:
            return
        try:
            dataset = painted_dataset(painted)
            data = self.session.prepare(dataset)
            trainer.replace_data(data)
            prober = session_prober(self.session, data, dataset)
        except NNDeskError as exc:
            self.worker.sig_data_replaced.emit(
                DataUpdate(
                    self.info,
                    self.epoch,
                    message=f"The painted points are not trained on yet: {exc}",
                )
            )
            return
        self.data, self.prober = data, prober
        if self.flow is not None:
            self.flow.use_data(data.x_train)
        self._eval_x, self._eval_y, self._eval_split, self._eval_total = (
            self._evaluation_data()
        )
        self.worker.sig_data_replaced.emit(
            DataUpdate(
                prober.info,
                self.epoch,
                data.x_train,
                data.y_train,
                data.n_train,
                data.n_val,
            )
        )

    def before_wait(self) -> None:
        """Called by ``ReportingControl`` when training is about to wait while paused."""
        _, stepping_epoch = self.worker._take_flags()
        if self._unreported and not stepping_epoch:
            self.report(force_probe=True, evaluate=True)

    # --- reporting ---------------------------------------------------------------------------
    def _emit_batches(self) -> None:
        if not self.steps:
            return
        chunk: dict[str, Any] = {
            k: float(v) for k, v in self.progress.items() if isinstance(v, (int, float))
        }
        chunk["steps"] = np.asarray(self.steps, dtype=np.float64)
        chunk["losses"] = np.asarray(self.losses, dtype=np.float64)
        self.steps, self.losses = [], []
        self._last_emit = time.perf_counter()
        self.worker.sig_batch_logged.emit(chunk)

    def report(
        self, force_probe: bool = False, evaluate: bool = False, samples: bool = False
    ) -> None:
        """Emit pending batch losses, and a probe and an evaluation when due
        (a probe with freshly sampled text with ``samples``)."""
        if force_probe:
            self._unreported = 0
        self._emit_batches()
        now = time.perf_counter()
        if force_probe or samples or now - self._last_probe >= self._probe_interval:
            started = time.perf_counter()
            probe = self.prober.probe(
                self.worker.sample_index,
                self.epoch,
                self.step,
                prompt=self.worker.text_prompt,
                samples=samples,
                plane=self.worker.plane,
            )
            spent = time.perf_counter() - started
            self._last_probe = time.perf_counter()
            # Probe less often when probing is slow, so it stays a small share
            # (the epoch's text sample, once an epoch, does not count).
            if not samples:
                self._probe_interval = max(PROBE_MIN_INTERVAL, spent / PROBE_MAX_SHARE)
            self.worker.sig_probe_ready.emit(probe)
        if evaluate:
            self.worker.sig_evaluated.emit(self.evaluate())

    def evaluate(self) -> Evaluation:
        """Score the model on the evaluation data now."""
        started = time.perf_counter()
        self.changed_since_evaluation = False
        result = evaluate_model(
            self.session.model,
            self._eval_x,
            self._eval_y,
            self.info,
            split=self._eval_split,
            epoch=self.epoch,
            total=self._eval_total,
        )
        self._last_eval = time.perf_counter()
        self._eval_interval = max(
            EVAL_INTERVAL, (self._last_eval - started) / EVAL_MAX_SHARE
        )
        return result
