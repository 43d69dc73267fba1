"""The Qt-free training loop: epochs and batches under a TrainingControl.

``Trainer`` runs ``Model.fit`` one run at a time and steers it from inside, between
batches: it blocks while the control is paused, applies learning-rate changes and the
settings' schedule, seeds each epoch's shuffle and dropout from ``(seed, epoch)``,
keeps the history across runs, adds progress information to the logs, and guards
against a loss that becomes NaN or infinite.

Logs the callbacks receive:

- ``on_batch_end(batch, logs)``: ``loss`` (this batch), ``size``, ``epoch``,
  ``epochs`` (the run's last epoch + 1), ``batch``, ``batches`` (per epoch), ``lr``,
  ``samples_per_sec``, ``eta`` (seconds left in the run, time spent paused not
  counted) and ``progress`` (0..1 through the run).
- ``on_epoch_end(epoch, logs)``: ``loss`` and the metrics (over the epoch's
  predictions), ``val_loss`` and ``val_<metric>`` when there is validation data,
  ``lr``, ``epoch_time``, ``samples_per_sec``, ``eta``, ``epochs``.

Epoch numbers are absolute: a network trained for 5 epochs and trained again starts
at epoch 5. The shuffle and dropout of epoch ``e`` depend only on ``(seed, e)``, and
the rest of what a run depends on travels in its run state (``run_state()``: early
stopping's best value, best epoch, wait and best weights, the weights to go on from
when early stopping put the best ones back, a learning rate changed mid-run). So
training 3 epochs, saving (weights, optimizer state, history, run state), loading
and training 2 more gives the same weights, bit for bit, as 5 epochs at once.

New data between epochs: ``replace_data`` (called from the training thread, e.g. by
a callback's ``on_epoch_end``) hands the trainer other prepared data; the epoch
under way ends on the data it began with and the next epoch trains (and
validates) on the new data. Data handed over before an epoch's first batch (a
callback's ``on_batch_begin``, e.g. while paused at an epoch boundary) already
trains that epoch. The run goes on as one run: the epoch count, the
history, the optimizer state, the learning rate, early stopping and the
callbacks (``on_train_begin``/``on_train_end`` once per run) all carry on. The
window uses it for painted data: see docs/datasets.md, "Painted data".

The model is used only by the thread that calls ``run``; other threads talk to the
trainer through its ``TrainingControl``. A GUI worker copies weights out in its
callbacks (``model.get_weights()`` returns copies).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from ..engine.callbacks import Callback
from ..engine.errors import ConfigError, NumericalError
from ..engine.model import Model
from ..engine.schedules import Schedule
from .compile import make_schedule, warmup_note
from .control import TrainingControl
from .data import PreparedData
from .early_stopping import EarlyStopping, early_stopping_from_settings
from .history import TrainingHistory
from .memory import check_training_memory
from .run_state import carry_on, checked_run_state, same_weights, weights_sha256

log = logging.getLogger(__name__)

__all__ = ["Status", "TrainConfig", "Trainer"]

Status = Literal["idle", "completed", "stopped", "early_stopped"]


@dataclass(frozen=True)
class TrainConfig:
    """How to train, usually from the network settings.

    Attributes
    ----------
    epochs : int
        Epochs per ``Trainer.run`` call (unless the call says otherwise).
    batch_size : int
        Samples per step.
    seed : int
        Seeds each epoch's shuffle and dropout masks, with the epoch number.
    learning_rate : float
        The base learning rate (schedules scale it per epoch or per step).
    schedule : Schedule or None
        Learning-rate schedule, applied at each epoch start, or before every batch
        when its ``per_step`` is true; None keeps the rate constant.
    early_stopping_patience : int
        0 turns early stopping off.
    early_stopping_metric : str
        The epoch-log key early stopping watches.
    early_stopping_min_delta : float
        The least change of the watched value that counts as an improvement.
    shuffle : bool
        Draw a new sample order every epoch.
    """

    epochs: int = 10
    batch_size: int = 32
    seed: int = 0
    learning_rate: float = 0.001
    schedule: Schedule | None = None
    early_stopping_patience: int = 0
    early_stopping_metric: str = "val_loss"
    early_stopping_min_delta: float = 0.0
    shuffle: bool = True

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, Any], **overrides: Any
    ) -> TrainConfig:
        """The configuration the network settings describe, with ``overrides``
        (``epochs=``, ``batch_size=``, ``learning_rate=``, ``seed=``...) applied."""
        config = cls(
            epochs=int(settings["epochs"]),
            batch_size=int(settings["batch_size"]),
            seed=int(settings["seed"]),
            learning_rate=float(settings["learning_rate"]),
            schedule=make_schedule(settings),
            early_stopping_patience=int(settings["early_stopping_patience"]),
            early_stopping_metric=str(settings["early_stopping_metric"]),
            early_stopping_min_delta=float(settings["early_stopping_min_delta"]),
            shuffle=bool(settings["shuffle"]),
        )
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(config, **given) if given else config

    def as_settings(self) -> dict[str, Any]:
        """The early-stopping part in settings form."""
        return {
            "early_stopping_patience": self.early_stopping_patience,
            "early_stopping_metric": self.early_stopping_metric,
            "early_stopping_min_delta": self.early_stopping_min_delta,
        }


class _StopRequested(Exception):
    """Raised inside fit's batch loop to end a run at a batch boundary."""


class _NewDataFirst(Exception):
    """Raised before an epoch's first batch when new data arrived meanwhile (while
    paused at the epoch boundary): the epoch begins again on the new data."""


class _WeightGuard:
    """Keeps the weights of the last two batch starts, to undo a diverged step.

    The model refuses a step whose loss is not finite, but the step before it may
    already have produced NaN or Inf weights (a huge SGD step). Two copies, taken
    alternately before each batch, always include finite weights: those of the last
    batch whose loss was finite.
    """

    def __init__(self, model: Model) -> None:
        self._live = [
            a
            for layer in model.layers
            for a in (*layer.params.values(), *layer.state.values())
        ]
        self._copies = [[np.empty_like(a) for a in self._live] for _ in range(2)]
        self._taken = [False, False]
        self._newest = 1

    def save(self) -> None:
        k = 1 - self._newest
        for dst, src in zip(self._copies[k], self._live, strict=True):
            np.copyto(dst, src)
        self._taken[k] = True
        self._newest = k

    def restore(self) -> bool:
        """Put back the most recent finite copy; False when there is none."""
        for k in (self._newest, 1 - self._newest):
            copy = self._copies[k]
            if self._taken[k] and all(np.isfinite(a).all() for a in copy):
                for dst, src in zip(self._live, copy, strict=True):
                    np.copyto(dst, src)
                return True
        return False


class _Steering(Callback):
    """The trainer's own hooks inside ``Model.fit`` (always the first callback)."""

    def __init__(self, trainer: Trainer, first: int, last: int, n_train: int) -> None:
        super().__init__()
        self.t = trainer
        self.first, self.last = first, last
        self.n_train = n_train
        self.batches = max(1, math.ceil(n_train / trainer.config.batch_size))
        self.epoch = first
        self.batch = 0
        self.active = 0.0  # seconds spent training, pauses excluded
        self.samples = 0
        self._mark = 0.0
        self._epoch_start = 0.0
        self._epoch_samples = 0

    # --- time -----------------------------------------------------------------
    def _tick(self) -> None:
        now = time.perf_counter()
        self.active += now - self._mark
        self._mark = now

    def _rate(self) -> float:
        """Samples per second in the current epoch (so one-time costs such as the
        first batch's kernel compilation fade after an epoch), else overall."""
        spent = self.active - self._epoch_start
        if self._epoch_samples and spent > 0:
            return self._epoch_samples / spent
        return self.samples / self.active if self.active > 0 else 0.0

    def _eta(self, done_in_epoch: int) -> float:
        rate = self._rate()
        if rate <= 0:
            return 0.0
        left = (self.last - self.epoch - 1) * self.n_train + (
            self.n_train - done_in_epoch
        )
        return left / rate

    def use_data(self, n_train: int) -> None:
        """The next epochs train on ``n_train`` samples (new data between epochs);
        progress (a share of the run's epochs) and ETA count with the new size."""
        self.n_train = n_train
        self.batches = max(1, math.ceil(n_train / self.t.config.batch_size))

    # --- hooks ----------------------------------------------------------------
    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._mark = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        t = self.t
        self.epoch, self.batch = epoch, 0
        self._epoch_start, self._epoch_samples = self.active, 0
        seed = t.config.seed
        t.model.set_rng(np.random.default_rng([seed, epoch]))
        t._apply_lr(epoch)

    def on_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        t = self.t
        self._tick()
        go = t.control.wait_for_batch()
        self._mark = time.perf_counter()  # time spent paused does not count
        if not go:
            raise _StopRequested
        lr = t.control.take_lr()
        if lr is not None:
            t.base_lr = lr
        if lr is not None or t._lr_per_step:
            t._apply_lr(self.epoch, batch)
        self.batch = batch
        if t._guard is not None:
            t._guard.save()

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._tick()
        logs = logs if logs is not None else {}
        size = int(logs.get("size", 0))
        self.samples += size
        self._epoch_samples += size
        run_total = (self.last - self.first) * self.n_train
        done = (self.epoch - self.first) * self.n_train + self._epoch_samples
        logs.update(
            epoch=self.epoch,
            epochs=self.last,
            batch=batch,
            batches=self.batches,
            lr=self.t.model.optimizer.lr,  # type: ignore[union-attr]
            samples_per_sec=self._rate(),
            eta=self._eta(self._epoch_samples),
            progress=done / run_total if run_total else 1.0,
        )
        self.t._partial = batch + 1
        self.t.control.batch_done(epoch_ended=batch == self.batches - 1)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._tick()
        logs = logs if logs is not None else {}
        logs.update(
            lr=self.t.model.optimizer.lr,  # type: ignore[union-attr]
            epoch_time=self.active - self._epoch_start,
            samples_per_sec=self._rate(),
            eta=self._eta(self.n_train),
            epochs=self.last,
        )
        self.t.history.append(logs)
        self.t.last_logs = dict(logs)
        self.t._partial = 0

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        # Runs before early stopping's own on_train_end puts the best weights back.
        self.t._keep_live_weights()


class _Relay(Callback):
    """The one callback ``Model.fit`` gets: hands its epoch and batch hooks to the
    trainer's hooks, and ends a ``fit`` at an epoch boundary when new data waits
    (``Trainer.replace_data``). The trainer calls the hooks' ``on_train_begin`` and
    ``on_train_end`` itself, once per run, around every ``fit`` the run makes."""

    def __init__(self, trainer: Trainer, hooks: list[Callback], last: int) -> None:
        super().__init__()
        self.t = trainer
        self.hooks = hooks
        self.last = last

    def set_model(self, model: Model) -> None:
        super().set_model(model)
        for hook in self.hooks:
            hook.set_model(model)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        for hook in self.hooks:
            hook.on_epoch_begin(epoch, logs)

    def on_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        for hook in self.hooks:
            hook.on_batch_begin(batch, logs)
        if batch == 0 and self.t._next_data is not None:
            raise _NewDataFirst  # no batch of this epoch ran yet

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        for hook in self.hooks:
            hook.on_batch_end(batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        for hook in self.hooks:
            hook.on_epoch_end(epoch, logs)
        model = self.t.model
        if self.t._next_data is not None and epoch + 1 < self.last:
            if not model.stop_training:  # early stopping ends the run instead
                model.stop_training = True
                self.t._switching = True


class Trainer:
    """Trains a compiled model on prepared data, steerable from another thread.

    Parameters
    ----------
    model : Model
        Compiled and built (``compile_network(...).model``); its optimizer state
        may already hold a loaded project's state.
    data : PreparedData
        Training (and validation) arrays.
    config : TrainConfig
        Batch size, seed, base learning rate, schedule, early stopping.
    callbacks : iterable of Callback
        Keras-like hooks, called after the trainer's own.
    control : TrainingControl, optional
        Pause/step/stop/lr requests; a fresh one by default.
    history : Mapping, optional
        The history of earlier runs (``Project.history``); training continues its
        epoch count.
    metrics : sequence of str, optional
        Names of the metrics the model was compiled with
        (``CompiledNetwork.metrics``), so early stopping on a metric that is not
        computed is refused before the first epoch rather than after it.
    guard_weights : bool
        Keep two weight copies per batch so a diverged step can be undone
        (``NumericalError`` then restores the last finite weights).
    run_state : Mapping, optional
        ``run_state()`` of the trainer that made the model's weights (e.g.
        ``Project.run_state`` of a loaded file), so the next run goes on exactly
        as that trainer's would have. It applies only to the weights it was
        taken with, at the epoch it was taken at; otherwise the run starts from
        the model as it is (see ``nndesk.training.run_state.carry_on``).

    Raises
    ------
    ResourceError
        When training at this batch size, with this data, would need more memory
        than this process can use (``nndesk.training.memory``), before anything
        is allocated for the run.

    Attributes
    ----------
    history : TrainingHistory
        Every epoch so far, earlier runs included.
    status : {"idle", "completed", "stopped", "early_stopped"}
        How the last run ended.
    last_logs : dict
        The logs of the last finished epoch.
    """

    def __init__(
        self,
        model: Model,
        data: PreparedData,
        config: TrainConfig,
        *,
        callbacks: Iterable[Callback] = (),
        control: TrainingControl | None = None,
        history: Mapping[str, Sequence[float]] | None = None,
        metrics: Sequence[str] | None = None,
        guard_weights: bool = True,
        run_state: Mapping[str, Any] | None = None,
    ) -> None:
        if model.optimizer is None:
            raise ConfigError("The model is not compiled: compile it before training.")
        if int(config.batch_size) < 1:
            raise ConfigError(f"The batch size must be >= 1, got {config.batch_size}.")
        # Before the weight copies and the first batch (issue 10).
        check_training_memory(
            model,
            model.optimizer,
            int(config.batch_size),
            data=data,
            guard_weights=guard_weights,
            early_stopping=int(config.early_stopping_patience) > 0,
        )
        self.model = model
        self.data = data
        self.config = config
        self.callbacks = list(callbacks)
        self.control = control if control is not None else TrainingControl()
        self.history = (
            history
            if isinstance(history, TrainingHistory)
            else TrainingHistory(history)
        )
        self.metrics = None if metrics is None else tuple(metrics)
        self.base_lr = float(config.learning_rate)
        self.status: Status = "idle"
        self.last_logs: dict[str, Any] = {}
        self.early_stopping: EarlyStopping | None = None
        self._guard = _WeightGuard(model) if guard_weights else None
        self._guard_weights = guard_weights
        self._next_data: PreparedData | None = None
        self._switching = False
        self._steering: _Steering | None = None
        self._carried = None if run_state is None else checked_run_state(run_state)
        self._live: dict[str, np.ndarray] | None = None  # before a restore
        self._partial = 0  # batches applied in the unfinished epoch
        self._running = False

    @property
    def epoch(self) -> int:
        """The number of epochs recorded so far (the next epoch's index)."""
        return self.history.epochs

    def replace_data(self, data: PreparedData) -> None:
        """Train on ``data`` from the next epoch on.

        Call it from the thread that trains (a callback, or a function run through
        ``TrainingControl.call_between_batches``), or between runs. During a run
        the epoch under way ends on its data; every later epoch trains and
        validates on ``data``. A request during the run's last epoch applies to
        the next run. ``data`` must fit the model (the same input shape and
        target encoding: ``TrainingSession.prepare`` makes it so).

        Raises
        ------
        ResourceError
            When training on ``data`` would not fit in memory (nothing changes).
        """
        check_training_memory(
            self.model,
            self.model.optimizer,  # type: ignore[arg-type]
            int(self.config.batch_size),
            data=data,
            guard_weights=self._guard_weights,
            early_stopping=int(self.config.early_stopping_patience) > 0,
        )
        if self._running:
            self._next_data = data
        else:
            self.data, self._next_data = data, None

    def run_state(self) -> dict[str, Any] | None:
        """What the next run depends on besides weights, optimizer state and history.

        Save it with the weights it belongs to (``Project.run_state``) and hand it
        to the trainer that continues (``Trainer(..., run_state=...)``). Between
        runs it is the state the last run ended with (None before any run unless
        one was given); during a run (from the training thread, between batches,
        e.g. through ``TrainingControl.call_between_batches``) it is the state at
        that batch.

        Returns
        -------
        dict or None
            The layout of ``nndesk.io.run_state``: ``epoch``, ``batch`` (batches
            of an unfinished epoch already applied), ``learning_rate``,
            ``learning_rate_setting``, ``weights_sha256`` (of
            ``model.get_weights()`` now), ``early_stopping`` (``get_state()`` of
            the callback, or None), ``resume_weights`` and ``best_weights`` (weight
            dicts, empty when they are the model's weights). Arrays are copies.
        """
        if self._running:
            return self._capture()
        if self._carried is None:
            return None
        state = dict(self._carried)
        for name in ("resume_weights", "best_weights"):
            state[name] = {k: a.copy() for k, a in state[name].items()}
        return state

    def _capture(self) -> dict[str, Any]:
        weights = self.model.get_weights()
        live = self._live
        es = self.early_stopping
        best = es.best_weights if es is not None else None
        return {
            "epoch": self.history.epochs,
            "batch": self._partial,
            "learning_rate": float(self.base_lr),
            "learning_rate_setting": float(self.config.learning_rate),
            "weights_sha256": weights_sha256(weights),
            "early_stopping": es.get_state() if es is not None else None,
            "resume_weights": (
                live if live is not None and not same_weights(live, weights) else {}
            ),
            "best_weights": (
                {k: a.copy() for k, a in best.items()}
                if best is not None and not same_weights(best, weights)
                else {}
            ),
        }

    def _keep_live_weights(self) -> None:
        """Copy the weights before early stopping puts the best ones back."""
        es = self.early_stopping
        if es is not None and es.best_weights is not None:
            self._live = self.model.get_weights()

    @property
    def _lr_per_step(self) -> bool:
        schedule = self.config.schedule
        return schedule is not None and schedule.per_step

    def _apply_lr(self, epoch: int, batch: int = 0) -> None:
        """The schedule's rate for ``batch`` of ``epoch`` (every batch of an epoch
        alike unless the schedule is per step), or the base rate."""
        schedule = self.config.schedule
        if schedule is None:
            lr = self.base_lr
        else:
            batches = self._steering.batches if self._steering is not None else 1
            lr = schedule.rate(epoch, batch, batches, self.base_lr)
        self.model.optimizer.lr = lr  # type: ignore[union-attr]

    def _early_stopping(self) -> EarlyStopping | None:
        monitor = self.config.early_stopping_metric.removeprefix("val_")
        # Without the metric names, trust the monitor; the callback still refuses
        # a missing key at the first epoch end.
        known = self.metrics if self.metrics is not None else (monitor,)
        return early_stopping_from_settings(
            self.config.as_settings(),
            has_validation=self.data.validation_data is not None,
            metrics=known,
        )

    def run(self, epochs: int | None = None) -> TrainingHistory:
        """Train ``epochs`` more epochs (default: ``config.epochs``).

        Returns when the epochs are done, when early stopping ends the run, or when
        the control asks to stop (then after the current batch; an unfinished epoch
        is not recorded in the history, though its batches changed the weights).

        Returns
        -------
        TrainingHistory
            ``self.history``, with this run's epochs appended.

        Raises
        ------
        NumericalError
            When the loss becomes NaN or infinite: names the epoch and batch,
            suggests a lower learning rate; the last finite weights are back in the
            model and the optimizer state is cleared if it was not finite.
        ConfigError
            When early stopping watches a metric the logs will not have.
        """
        count = self.config.epochs if epochs is None else int(epochs)
        if count < 1:
            raise ConfigError(f"The number of epochs must be >= 1, got {epochs!r}.")
        first = self.history.epochs
        if self._next_data is not None:  # asked for during the last run's end
            self.data, self._next_data = self._next_data, None
        self.early_stopping = self._early_stopping()
        steering = _Steering(self, first, first + count, self.data.n_train)
        self._steering = steering
        note = warmup_note(self.config.schedule, steering.batches)
        if note is not None:
            log.warning(note)
        hooks: list[Callback] = [steering]
        if self.early_stopping is not None:
            hooks.append(self.early_stopping)
        hooks += self.callbacks
        self.status = "idle"
        self._carry_on(first)
        relay = _Relay(self, hooks, first + count)
        try:
            self._running = True
            for hook in hooks:
                hook.set_model(self.model)
                hook.on_train_begin({})
            self._fit_all(relay, steering, first + count)
            for hook in hooks:
                hook.on_train_end(dict(self.last_logs))
        except _StopRequested:
            self.status = "stopped"
            self._keep_live_weights()
            for cb in hooks[1:]:
                cb.on_train_end(dict(self.last_logs))
            return self.history
        except NumericalError as exc:
            self._recover(exc, steering)
        finally:
            self._running = False
            self._carried = self._capture()
        if (
            self.early_stopping is not None
            and self.early_stopping.stopped_epoch is not None
        ):
            self.status = "early_stopped"
        else:
            self.status = "completed" if not self.model.stop_training else "stopped"
        return self.history

    def _fit_all(self, relay: _Relay, steering: _Steering, last: int) -> None:
        """``Model.fit`` up to epoch ``last``, once more on the new data after each
        epoch boundary at which ``replace_data`` handed some over."""
        while True:
            self._switching = False
            data = self.data
            try:
                self.model.fit(
                    data.x_train,
                    data.y_train,
                    epochs=last,
                    initial_epoch=self.history.epochs,
                    batch_size=int(self.config.batch_size),
                    shuffle=self.config.shuffle,
                    validation_data=data.validation_data,
                    callbacks=[relay],
                )
            except _NewDataFirst:
                self.control.refund_batch()
            else:
                if not self._switching or self._next_data is None:
                    return
            self.data, self._next_data = self._next_data, None
            self.model.stop_training = False
            steering.use_data(self.data.n_train)
            log.info(
                "training data replaced at epoch %d: %d training samples",
                self.history.epochs,
                self.data.n_train,
            )

    def _carry_on(self, first: int) -> None:
        """Put the carried run state into the model, early stopping and the rate."""
        carried, self._carried = self._carried, None
        self._live, self._partial = None, 0
        if carried is None:
            return
        lr = carry_on(
            carried,
            self.model,
            first,
            float(self.config.learning_rate),
            self.early_stopping,
        )
        if lr is not None:
            self.base_lr = lr

    def _recover(self, exc: NumericalError, steering: _Steering) -> None:
        restored = self._guard.restore() if self._guard is not None else False
        opt = self.model.optimizer
        if opt is not None and not all(
            np.isfinite(a).all() for a in opt.get_state().values()
        ):
            opt.reset()
        self.status = "stopped"
        what = (
            "the last finite weights are back"
            if restored
            else "the weights may not be finite"
        )
        raise NumericalError(
            f"The loss became NaN or infinite at epoch {steering.epoch + 1}, batch "
            f"{steering.batch + 1}, so training stopped and {what}: lower the "
            f"learning rate (it was {opt.lr if opt is not None else self.base_lr:g})."
        ) from exc
