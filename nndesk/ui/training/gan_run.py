"""Training a GAN in the window (issue 16): the worker's GAN run and its reports.

A document with a Noise node trains as a GAN (``nndesk.training.gan``): the
controller hands a ``GanWorker`` a ``TrainingJob`` whose session is a
``GanSession``. The worker trains it through ``GanSession.fit`` under the shared
control, as the command line does, and reports through the ``TrainingWorker``
signals (progress, epochs, failure, the end) plus two of its own:

- ``sig_gan_started(GanStart)``: once the data is prepared;
- ``sig_gan_probe(GanPicture)``: what the GAN views show (``gan_views``), at an
  adaptive rate that keeps probing to a few percent of the time, and after every
  step in slow motion.

Besides the schedule's steps (k discriminator steps, then a generator step) the
controls ask for one discriminator step or one generator step alone
(``request_step``): the worker takes it while paused, between two batches.
Probing never changes training: the pictures come from inference passes and
noise of their own, so a watched run is the run the command line makes.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import Signal

from nndesk.document.gan import is_gan
from nndesk.document.graph import GraphView
from nndesk.engine.callbacks import Callback
from nndesk.engine.errors import NNDeskError
from nndesk.io.datasets import Dataset
from nndesk.io.datasets.generative import mixture_of
from nndesk.io.datasets.painted import painted_dataset
from nndesk.training.control import BatchBoundaryCall
from nndesk.training.gan import GAN_LOG_KEYS, GanSession, GanState
from nndesk.training.gan_views import REALS, GanPicture, GanProber, TrainerNets

from .blas import threads_for_models
from .worker import (
    BATCH_HZ,
    PROBE_MIN_INTERVAL,
    DataUpdate,
    TrainingOutcome,
    TrainingWorker,
    describe_error,
)

log = logging.getLogger(__name__)

__all__ = [
    "SLOW_STEPS_PER_SECOND",
    "GanStart",
    "GanWorker",
    "gan_prober",
    "gan_session",
    "is_gan",
    "probe_now",
]

SLOW_STEPS_PER_SECOND = 4.0
"""Batches a second in slow motion (each one shown)."""
GAN_PROBE_SHARE = 0.05
"""Most share of the training time a GAN's pictures may take: more than other
networks' probes (``worker.PROBE_MAX_SHARE``, 2 %) because the picture is what a
GAN run is watched for, well inside the issue's bound (0.85 of headless
throughput). A 2-D probe of the ring example costs 1.4 ms alone and 20-50 ms
beside a drawing GUI thread on a busy 2-core machine: a picture every 0.25-1 s."""
PROBE_SEED = 12345
"""Seeds the probes' fixed noise (the same pictures for the same weights)."""


def gan_session(source: object, view: GraphView, base_dir: object = None) -> GanSession:
    """A ``GanSession`` of ``view`` carrying on from ``source`` (a GanSession or
    GanState of an earlier run; anything else: fresh weights).

    Raises
    ------
    NNDeskError
        When the drawing is not a GAN that compiles (``CompileError``), or does
        not fit in memory.
    """
    state = None
    if isinstance(source, GanSession):
        state = source.capture()
    elif isinstance(source, GanState):
        state = source
    return GanSession(view, state=state, base_dir=base_dir)  # type: ignore[arg-type]


def gan_prober(session: GanSession, real: np.ndarray, source: str) -> GanProber:
    """The prober of ``session``'s networks on the real samples ``real`` (shaped
    as its Input takes them) of the dataset ``source`` names; it counts the
    covered modes of a mixture dataset (ring, grid, 1-D mixture, blobs)."""
    try:
        mixture = mixture_of(str(source or ""))
    except NNDeskError:
        mixture = None
    coverage = None
    if mixture is not None and mixture.centres.shape[1] == np.prod(real.shape[1:]):
        coverage = mixture.coverage
    return GanProber(
        TrainerNets(session.trainer), real, seed=PROBE_SEED, coverage=coverage
    )


def _source(session: GanSession, dataset: Dataset) -> str:
    return str(dataset.source or session.settings.get("dataset") or "")


@dataclass(frozen=True)
class GanStart:
    """Sent once a GAN run's data is prepared.

    Attributes
    ----------
    first_epoch, last_epoch : int
        The run trains from ``first_epoch`` to ``last_epoch`` (finished epochs).
    kind : str
        Which picture its data gets (``gan_views.data_kind``).
    n_samples : int
        Real samples it trains on.
    """

    first_epoch: int
    last_epoch: int
    kind: str
    n_samples: int


class GanWorker(TrainingWorker):
    """Trains a ``GanSession`` (the job's session) in its thread.

    Signals (besides ``TrainingWorker``'s)
    ---------------------------------------
    sig_gan_started(GanStart)
    sig_gan_probe(GanPicture)
    """

    sig_gan_started = Signal(object)
    sig_gan_probe = Signal(object)

    def __init__(self, job: Any, control: Any) -> None:
        super().__init__(job, control)
        self._slow = 0.0
        self._bridge: _GanBridge | None = None

    # --- requests from the GUI thread ---------------------------------------------------
    def set_slow_motion(self, steps_per_second: float) -> None:
        """Train at most ``steps_per_second`` batches a second and show each
        (0: full speed)."""
        with self._lock:
            self._slow = max(0.0, float(steps_per_second))

    @property
    def slow_motion(self) -> float:
        """Batches a second in slow motion (0: off)."""
        with self._lock:
            return self._slow

    @property
    def stepping_epoch(self) -> bool:
        """Whether a Step Epoch request runs (its batches are not shown one by
        one: the trainer counts as paused between them)."""
        with self._lock:
            return self._epoch_stepping

    def request_step(self, mode: str) -> BatchBoundaryCall:
        """Have the training thread make one ``"discriminator"`` or
        ``"generator"`` step alone between two batches (a paused run takes it at
        once and stays paused), and report it."""
        return self.control.call_between_batches(lambda: self._single_step(mode))

    def _single_step(self, mode: str) -> None:
        bridge = self._bridge
        if bridge is None:  # the run ended before the request arrived
            return
        try:
            logs = self.job.session.step(mode)
        except NNDeskError as exc:
            self.sig_failed.emit(describe_error(exc))
            return
        logs.pop("epoch_ended", None)
        bridge.add_batch(logs)
        bridge.report(force_probe=True)

    # --- the worker thread ---------------------------------------------------------------
    def blas_threads(self) -> int | None:
        session: GanSession = self.job.session
        gan = session.gan
        return threads_for_models(
            [gan.generator, gan.discriminator], session.config.batch_size
        )

    def _prepare(self) -> tuple[Any, Dataset]:
        session, dataset = self.job.session, self.job.dataset
        if dataset is None:
            dataset = session.load_dataset()
        return session.prepare(dataset), dataset

    def _train(self, data: Any, dataset: Dataset, outcome: TrainingOutcome) -> None:
        session: GanSession = self.job.session
        epochs = int(self.job.epochs or session.config.epochs)
        prober = gan_prober(session, data, _source(session, dataset))
        bridge = _GanBridge(self, session, prober, epochs)
        self._bridge = bridge
        self.sig_gan_started.emit(
            GanStart(
                first_epoch=session.epoch,
                last_epoch=session.epoch + epochs,
                kind=bridge.prober.kind,
                n_samples=len(data),
            )
        )
        control = self.control
        control.before_wait = bridge.before_wait  # type: ignore[attr-defined]
        try:
            session.fit(epochs=epochs, callbacks=[bridge], control=control)
            outcome.status = "stopped" if control.stop_requested else "completed"
        except NNDeskError as exc:
            outcome.message = describe_error(exc)
            self.sig_failed.emit(outcome.message)
        finally:
            control.before_wait = None  # type: ignore[attr-defined]
        try:
            bridge.report(force_probe=True)
        except Exception:  # noqa: BLE001 - a last look must not lose the weights
            log.exception("the final GAN probe failed")
        self._bridge = None
        outcome.state = session.capture()  # type: ignore[assignment]


class _GanBridge(Callback):
    """Runs in the worker thread inside ``GanSession.fit``; turns its hooks into
    throttled signals."""

    def __init__(
        self, worker: GanWorker, session: GanSession, prober: GanProber, epochs: int
    ) -> None:
        super().__init__()
        self.worker, self.session, self.prober = worker, session, prober
        self.first = session.epoch + session.batch / session.batches_per_epoch()
        self.epochs = epochs
        self.steps: list[float] = []
        self.values: dict[str, list[float]] = {k: [] for k in GAN_LOG_KEYS}
        self.batches_done = 0
        self.started = self._epoch_start = time.perf_counter()
        self._last_emit = 0.0
        self._last_probe = time.perf_counter()  # the preview shows the start
        self._last_step = 0.0
        self._probe_interval = PROBE_MIN_INTERVAL
        self._probe_costs: list[float] = []  # the last few probes' seconds
        self._unreported = 0

    @property
    def position(self) -> float:
        """Where training is, in epochs (finished epochs + the share of this one)."""
        s = self.session
        return s.epoch + s.batch / s.batches_per_epoch()

    def add_batch(self, logs: dict[str, Any]) -> None:
        """Keep a batch's logs for the next emit (absent keys as NaN)."""
        self.steps.append(self.position)
        for key, values in self.values.items():
            values.append(float(logs.get(key, math.nan)))
        self._unreported += 1

    # --- hooks (worker thread) -------------------------------------------------------------
    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.add_batch(logs or {})
        self.batches_done += 1
        slow = self.worker.slow_motion
        if slow > 0:
            self.report(force_probe=True)
            self._pace(slow)
            return
        # The picture is due on its own clock: the epoch ends emit the batches,
        # and with epochs under 0.1 s (the ring example's) the batch clock
        # alone never came round, so a whole run showed no picture.
        now = time.perf_counter()
        if (
            now - self._last_emit >= 1.0 / BATCH_HZ
            or now - self._last_probe >= self._probe_interval
        ):
            self.report()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        values = dict(logs or {})
        values["epoch"] = int(epoch)
        now = time.perf_counter()
        values["epoch_time"] = now - self._epoch_start
        self._epoch_start = now
        self.worker.set_epoch_stepping(False)  # a Step Epoch ends here
        self._emit_batches()
        self.worker.sig_epoch_finished.emit(values)
        self._use_painted()

    def _use_painted(self) -> None:
        """Points painted during the run are the real data from the next epoch
        on, as for any network trained on the painted set (docs/datasets.md);
        the pictures show them from then on too."""
        worker, session = self.worker, self.session
        painted = worker.take_painted()
        if painted is None or not worker.trains_painted:
            return
        try:
            dataset = painted_dataset(painted)
            data = session.prepare(dataset)
            self.prober = gan_prober(session, data, _source(session, dataset))
        except NNDeskError as exc:
            message = f"The painted points are not trained on yet: {exc}"
            # Only the message is read when there are no arrays (the GAN has no
            # ModelInfo to give).
            worker.sig_data_replaced.emit(
                DataUpdate(None, session.epoch, message=message)  # type: ignore[arg-type]
            )

    def before_wait(self) -> None:
        """Training is about to wait while paused: show the state it waits in.
        Not between the batches of a Step Epoch: the control counts as paused
        there, and a picture before each batch made the ring example's epoch
        take 1.9-3.5 s instead of 0.1 s."""
        if self._unreported and not self.worker.stepping_epoch:
            self.report(force_probe=True)

    def _pace(self, steps_per_second: float) -> None:
        """Sleep out the rest of the slow-motion step (a pause or stop ends it)."""
        until = self._last_step + 1.0 / steps_per_second
        control = self.worker.control
        while time.perf_counter() < until and control.state == "running":
            time.sleep(min(0.02, max(0.0, until - time.perf_counter())))
        self._last_step = time.perf_counter()

    # --- reporting ----------------------------------------------------------------------
    def _progress(self) -> dict[str, float]:
        s = self.session
        batches = s.batches_per_epoch()
        done = self.position - self.first
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        rate = self.batches_done * s.config.batch_size / elapsed
        left = max(0.0, self.epochs - done) * batches * s.config.batch_size
        # The batch just finished: the last of the previous epoch at a boundary.
        epoch, batch = (s.epoch, s.batch - 1) if s.batch else (s.epoch - 1, batches - 1)
        return {
            "epoch": float(max(0, epoch)),
            "epochs": float(int(self.first) + self.epochs),
            "batch": float(batch),
            "batches": float(batches),
            "progress": min(1.0, done / self.epochs) if self.epochs else 1.0,
            "samples_per_sec": rate,
            "eta": left / rate if rate > 0 else 0.0,
        }

    def _emit_batches(self) -> None:
        if not self.steps:
            return
        chunk: dict[str, Any] = dict(self._progress())
        chunk["steps"] = np.asarray(self.steps, dtype=np.float64)
        for key, values in self.values.items():
            chunk[key] = np.asarray(values, dtype=np.float64)
            values.clear()
        # The learning-curves panel draws "losses": the discriminator's.
        chunk["losses"] = chunk["d_loss"]
        self.steps = []
        self._last_emit = time.perf_counter()
        self.worker.sig_batch_logged.emit(chunk)

    def report(self, force_probe: bool = False) -> None:
        """Emit the pending batches, and a picture when due (or forced)."""
        self._emit_batches()
        now = time.perf_counter()
        if force_probe or now - self._last_probe >= self._probe_interval:
            self._unreported = 0
            picture = self.prober.probe(self.position)
            spent = time.perf_counter() - now
            self._last_probe = time.perf_counter()
            if not force_probe:
                self._probe_interval = self._next_interval(spent)
            self.worker.sig_gan_probe.emit(picture)

    def _next_interval(self, spent: float) -> float:
        """The wait before the next picture, keeping probes to
        ``GAN_PROBE_SHARE`` of the time. The cheapest of the last three probes
        sets it: one slow probe (Numba compiling the first one's kernels, 0.5 s,
        or the GUI thread holding the GIL) set the interval to 25 s and froze the
        picture for the rest of a short run. The run's first probe does not
        count: it is the one that compiles."""
        if not self._probe_costs:
            self._probe_costs = [math.inf]
            return PROBE_MIN_INTERVAL
        self._probe_costs = [*self._probe_costs[-2:], spent]
        return max(PROBE_MIN_INTERVAL, min(self._probe_costs) / GAN_PROBE_SHARE)


def probe_now(session: GanSession, dataset: Dataset) -> GanPicture:
    """A picture of ``session`` as it is, on (at most ``gan_views.REALS`` of)
    ``dataset``'s samples: the window's preview when no run is under way."""
    x = np.asarray(dataset.x)
    keep = np.linspace(0, len(x) - 1, min(len(x), REALS)).astype(np.int64)
    want = tuple(session.gan.discriminator.input_shapes[0])
    real = np.asarray(x[keep], dtype=np.float32).reshape(len(keep), *want)
    prober = gan_prober(session, real, _source(session, dataset))
    return prober.probe(session.epoch + session.batch / max(1, _batches(session)))


def _batches(session: GanSession) -> int:
    return session.batches_per_epoch() if session.data is not None else 1
