"""The race's QThread bridge: a RaceWorker trains a ``Race`` and reports through signals.

The worker gets a ``RaceJob`` (the variants as document snapshots, the window's
dataset, the epochs) and does everything heavy in its own thread: compiling the
variants, preparing the data, the race itself (``nndesk.training.race``: identical
batches, epoch by epoch in lockstep), probing and evaluating each variant. It never
touches a widget or the live document; every array it sends is a copy or the
race's own read-only data.

- ``sig_started(RaceStart)``: names, model structure and data of every variant.
- ``sig_progress(RaceProgress)``: the batch losses and epoch logs of every variant
  since the last emit and the latest standings, at most ``BATCH_HZ`` times a
  second (a small network races hundreds of epochs a second: one signal per epoch
  queued up faster than the GUI thread handled them, which froze it for 1.5 s).
- ``sig_probe_ready(RaceProbe)``: weights, histograms and decision grid of one
  variant, at its epoch ends (at most every ``PROBE_INTERVAL`` s per variant) and
  for every variant at the end. Inputs of more than two values have their grid
  on the plane ``set_plane`` gave last (the race view's chooser: one plane for
  every variant); ``probers`` stay after the race for a plane chosen then.
- ``sig_evaluated(RaceEvaluation)``: one variant scored on the validation data
  (at most every ``EVAL_INTERVAL`` s per variant, and at the end).
- ``sig_failed(str)``: one sentence for the user.
- ``sig_finished(RaceOutcome)``: always last.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from nndesk.engine.callbacks import Callback
from nndesk.engine.errors import NNDeskError
from nndesk.io.datasets import Dataset
from nndesk.training.control import TrainingControl
from nndesk.training.planes import Plane
from nndesk.training.race import Entrant, Race, Standing
from nndesk.training.session import TrainedState

from .probes import (
    Evaluation,
    ModelInfo,
    Prober,
    ProbeResult,
    evaluate_model,
    session_prober,
)
from .worker import (
    BATCH_HZ,
    MAX_EVAL_SAMPLES,
    WORKER_NICENESS,
    describe_error,
    lower_thread_priority,
    short_gil_slices,
)

log = logging.getLogger(__name__)

__all__ = [
    "RaceEvaluation",
    "RaceJob",
    "RaceOutcome",
    "RaceProbe",
    "RaceProgress",
    "RaceRound",
    "RaceStart",
    "RaceWorker",
]

PROBE_INTERVAL = 0.5
"""Least seconds between two probes of one variant during the race."""
EVAL_INTERVAL = 2.0
"""Least seconds between two live evaluations of one variant."""


@dataclass(frozen=True)
class RaceJob:
    """What a race starts from (built in the GUI thread)."""

    entrants: tuple[Entrant, ...]
    dataset: Dataset
    epochs: int


@dataclass
class RaceStart:
    """Sent once every variant is compiled and its data prepared.

    ``data`` holds each variant's ``(x_train, y_train)`` (the race's own arrays:
    read, never write); ``preprocessing`` each one's feature scaling.
    """

    names: list[str]
    infos: list[ModelInfo]
    data: list[tuple[np.ndarray, np.ndarray]]
    preprocessing: list[dict[str, Any] | None]
    first_epochs: list[int]
    epochs: int


@dataclass
class RaceRound:
    round: int
    standings: list[Standing]
    leader: int


@dataclass
class RaceProgress:
    """What happened since the last emit.

    ``batches`` maps a variant index to its ``(steps, losses)`` (steps in epochs,
    fractional); ``epochs`` lists ``(index, logs)`` of the epochs that ended, in
    order (``logs["epoch"]`` is the 0-based epoch); ``round`` is the latest
    standings (None when no round ended since).
    """

    batches: dict[int, tuple[np.ndarray, np.ndarray]]
    epochs: list[tuple[int, dict[str, Any]]]
    round: RaceRound | None = None


@dataclass
class RaceProbe:
    index: int
    probe: ProbeResult


@dataclass
class RaceEvaluation:
    index: int
    evaluation: Evaluation


@dataclass
class RaceOutcome:
    """How the race ended: ``status`` "completed", "stopped" or "failed";
    ``states`` a copy of every variant's trained state (empty when it failed
    before training), ``snapshots`` the networks they belong to."""

    status: str
    message: str = ""
    names: list[str] = field(default_factory=list)
    standings: list[Standing] = field(default_factory=list)
    states: list[TrainedState] = field(default_factory=list)
    leader: int = 0


class _Reporter(Callback):
    """One variant's hooks inside the race: batch losses, epoch logs, probes."""

    def __init__(self, worker: RaceWorker, index: int) -> None:
        super().__init__()
        self.worker = worker
        self.index = index
        self.epoch = 0
        self.batches = 1

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch = int(epoch)

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        self.batches = max(1, int(logs.get("batches", 1)))
        step = self.epoch + (batch + 1) / self.batches
        self.worker.add_batch(self.index, step, float(logs.get("loss", np.nan)))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        values = {**(logs or {}), "epoch": int(epoch)}
        self.worker.add_epoch(self.index, values)
        self.worker.look(self.index, int(epoch), final=False)


class RaceWorker(QObject):
    """Runs one ``RaceJob`` when its thread starts (``run``), then finishes.

    Parameters
    ----------
    job : RaceJob
    control : TrainingControl
        Shared with the GUI: pause, resume and stop reach every variant.
    """

    sig_started = Signal(object)
    sig_progress = Signal(object)
    sig_probe_ready = Signal(object)
    sig_evaluated = Signal(object)
    sig_failed = Signal(str)
    sig_finished = Signal(object)

    def __init__(self, job: RaceJob, control: TrainingControl) -> None:
        super().__init__()
        self.job = job
        self.control = control
        self.race: Race | None = None
        self.probers: list[Prober] = []
        self.plane: Plane | None = None  # set from the GUI thread, read here
        self._pending: dict[int, tuple[list[float], list[float]]] = {}
        self._epochs: list[tuple[int, dict[str, Any]]] = []
        self._round: RaceRound | None = None
        self._last_emit = 0.0
        self._last_probe: dict[int, float] = {}
        self._last_eval: dict[int, float] = {}
        # The plane of the last probes' grids: a plane chosen as a short race
        # ended can reach the worker after its final probes.
        self.probed_plane: Plane | None = None

    def set_plane(self, plane: Plane | None) -> None:
        """The plane the decision grids of inputs beyond 2-D lie on, from the next
        probe (called from the GUI thread; a plane is read-only, the assignment
        atomic)."""
        self.plane = plane

    # --- called from the race's callbacks (the worker thread) ------------------------
    def add_batch(self, index: int, step: float, loss: float) -> None:
        steps, losses = self._pending.setdefault(index, ([], []))
        steps.append(step)
        losses.append(loss)
        self._maybe_flush()

    def add_epoch(self, index: int, logs: dict[str, Any]) -> None:
        self._epochs.append((index, logs))
        self._maybe_flush()

    def add_round(self, done: RaceRound) -> None:
        self._round = done
        self._maybe_flush()

    def _maybe_flush(self) -> None:
        if time.perf_counter() - self._last_emit >= 1.0 / BATCH_HZ:
            self.flush()

    def flush(self) -> None:
        """Emit what is pending (if anything) now."""
        if self._pending or self._epochs or self._round is not None:
            batches = {
                i: (np.array(s), np.array(v)) for i, (s, v) in self._pending.items()
            }
            self.sig_progress.emit(RaceProgress(batches, self._epochs, self._round))
            self._pending, self._epochs, self._round = {}, [], None
        self._last_emit = time.perf_counter()

    def look(self, index: int, epoch: int, final: bool) -> None:
        """Probe and evaluate variant ``index`` when it is time (always if final)."""
        now = time.perf_counter()
        if final or now - self._last_probe.get(index, -np.inf) >= PROBE_INTERVAL:
            plane = self.plane
            probe = self.probers[index].probe(
                0, epoch, float(epoch + 1), gradients=True, samples=False,
                plane=plane,
            )  # fmt: skip
            self.probed_plane = plane
            self.sig_probe_ready.emit(RaceProbe(index, probe))
            self._last_probe[index] = time.perf_counter()
        if final or now - self._last_eval.get(index, -np.inf) >= EVAL_INTERVAL:
            evaluation = self._evaluate(index, epoch)
            if evaluation is not None:
                self.sig_evaluated.emit(RaceEvaluation(index, evaluation))
            self._last_eval[index] = time.perf_counter()

    def _evaluate(self, index: int, epoch: int) -> Evaluation | None:
        assert self.race is not None
        data = self.race.data[index]
        split = "validation"
        x, y = data.validation_data or (None, None)
        if x is None or y is None:
            x, y, split = data.x_train, data.y_train, "training"
        total = len(x)
        x, y = x[:MAX_EVAL_SAMPLES], y[:MAX_EVAL_SAMPLES]
        model = self.race.runners[index].session.model
        info = self.probers[index].info
        return evaluate_model(model, x, y, info, split=split, epoch=epoch, total=total)

    # --- the thread ------------------------------------------------------------------
    @Slot()
    def run(self) -> None:
        """Race; every outcome ends with ``sig_finished``."""
        job = self.job
        outcome = RaceOutcome(status="failed", names=[e.name for e in job.entrants])
        if threading.current_thread() is not threading.main_thread():
            lower_thread_priority(WORKER_NICENESS)
        try:
            with short_gil_slices():
                self._race(outcome)
        except Exception as exc:  # noqa: BLE001 - one sentence reaches the user
            if not isinstance(exc, NNDeskError):
                log.exception("the race failed")
            outcome.status = "failed"
            outcome.message = describe_error(exc)
            self.sig_failed.emit(outcome.message)
        finally:
            self.sig_finished.emit(outcome)

    def _race(self, outcome: RaceOutcome) -> None:
        job = self.job
        race = Race.start(
            list(job.entrants),
            job.dataset,
            epochs=job.epochs,
            control=self.control,
            callbacks_for=lambda i: [_Reporter(self, i)],
        )
        self.race = race
        self.probers = [
            session_prober(r.session, data, job.dataset)
            for r, data in zip(race.runners, race.data, strict=True)
        ]
        self.sig_started.emit(
            RaceStart(
                names=[r.name for r in race.runners],
                infos=[p.info for p in self.probers],
                data=[(d.x_train, d.y_train) for d in race.data],
                preprocessing=[r.session.preprocessing for r in race.runners],
                first_epochs=[r.first_epoch for r in race.runners],
                epochs=race.epochs,
            )
        )
        for done in race.rounds():
            self.add_round(RaceRound(done, race.standings(), race.leader()))
        self.flush()
        for index, runner in enumerate(race.runners):
            last = runner.session.history.epochs - 1
            if last >= 0:
                self.look(index, last, final=True)
        outcome.status = "stopped" if race.stopped else "completed"
        outcome.standings = race.standings()
        outcome.states = race.states()
        outcome.leader = race.leader()
