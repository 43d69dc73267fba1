"""The training timeline: in-memory checkpoints of a run, runs side by side, forks.

While a run trains, a ``CheckpointRecorder`` (a trainer callback) copies the
weights, the optimizer state and the run state (``Trainer.run_state()``: what
continuing exactly needs besides those) into a ``Timeline``'s bounded
``CheckpointStore``:

- at the start of a run and at its end (stopped mid-epoch included);
- at every epoch end;
- within the first ``DENSE_EPOCHS`` epochs of the training, ``BATCH_CHECKPOINTS``
  times per epoch (every few batches), when one checkpoint is small (at most
  ``DENSE_SHARE`` of the bound): copying a large network every few batches would
  cost a noticeable share of the training, and thinning would drop them anyway.

The store keeps the total bytes (the exact sum of the arrays' ``nbytes``) under
its bound (``DEFAULT_BOUND``, 300 MB, lowered to a quarter of the memory this
process can use when that is less) and at most ``MAX_CHECKPOINTS`` checkpoints.
Over the bound it thins: it never drops the first or the last checkpoint of a run
(nor one a fork started from), and drops the one whose two neighbours are closest
together, so what is left is spread over the run rather than crowded where the
dense early checkpoints were. A checkpoint larger than the bound is not kept at
all (``CheckpointStore.refused`` says how large it was): the timeline is then off
for that network.

A checkpoint restores exactly: its weights into another model of the same
network (``restore_weights``, for the panels: the run itself is not touched), or
as a new run (``Timeline.fork``): a ``TrainedState`` with the checkpoint's
weights, optimizer state, run state and the history up to it, which
``TrainingSession.from_state`` takes with changed settings (learning rate,
optimizer) or an edited graph (nodes whose shapes did not change keep their
weights). From an epoch-end checkpoint with unchanged settings a fork goes on bit
for bit as the original run did. From a checkpoint inside an epoch the fork
trains that epoch again from its first batch (the trainer starts epochs whole),
from the checkpoint's weights.

No Qt here; the window's timeline (``nndesk.ui.training.timeline``) shows it.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..document.graph import GraphView, Snapshot
from ..engine.callbacks import Callback
from ..engine.errors import ConfigError
from ..engine.memory import format_bytes, memory_budget
from ..engine.model import Model
from ..io.runs import MAX_CHECKPOINT_ARRAYS, MAX_SAVED_CHECKPOINTS
from .history import TrainingHistory
from .session import TrainedState, TrainingSession

log = logging.getLogger(__name__)

__all__ = [
    "BATCH_CHECKPOINTS",
    "DEFAULT_BOUND",
    "DENSE_EPOCHS",
    "DENSE_SHARE",
    "MAX_CHECKPOINTS",
    "Checkpoint",
    "CheckpointRecorder",
    "CheckpointStore",
    "Run",
    "Timeline",
    "checkpoint_bound",
    "describe_fork",
    "restore_weights",
]

DEFAULT_BOUND = 300_000_000
"""Most bytes the checkpoints of a window hold (300 MB)."""
MAX_CHECKPOINTS = 1000
"""Most checkpoints kept, however small (a slider has no more useful positions)."""
DENSE_EPOCHS = 2
"""Epochs at the start of a training with checkpoints inside the epoch too."""
BATCH_CHECKPOINTS = 10
"""Checkpoints per epoch in those first epochs (every ``ceil(batches / 10)``)."""
DENSE_SHARE = 0.01
"""Checkpoints inside an epoch are taken only when one is at most this share of
the bound."""


def checkpoint_bound(usable: int | None = None) -> int:
    """The store's bound: ``DEFAULT_BOUND``, or a quarter of ``usable`` bytes (the
    memory this process can use now, by default) when that is smaller."""
    if usable is None:
        usable = memory_budget().usable
    if usable is None:
        return DEFAULT_BOUND
    return int(max(1 << 20, min(DEFAULT_BOUND, usable // 4)))


def _nbytes(arrays: Mapping[str, np.ndarray]) -> int:
    return sum(int(a.nbytes) for a in arrays.values())


@dataclass(frozen=True, eq=False)
class Checkpoint:
    """One moment of a run: everything continuing from it needs.

    Attributes
    ----------
    run : int
        The index of its run in ``Timeline.runs``.
    epoch : int
        Epochs finished (the history's length) when it was taken.
    batch : int
        Batches of epoch ``epoch`` already applied (0 at an epoch end).
    batches : int
        Batches per epoch of the run.
    step : int
        Optimizer steps so far (``iterations``: every batch trained).
    weights, optimizer_state : dict
        ``Model.get_weights()`` and ``Optimizer.get_state()`` (copies).
    run_state : dict or None
        ``Trainer.run_state()`` at that moment.
    """

    run: int
    epoch: int
    batch: int
    batches: int
    step: int
    weights: dict[str, np.ndarray]
    optimizer_state: dict[str, np.ndarray]
    run_state: dict[str, Any] | None = None
    nbytes: int = field(init=False)

    def __post_init__(self) -> None:
        total = _nbytes(self.weights) + _nbytes(self.optimizer_state)
        if self.run_state is not None:
            total += _nbytes(self.run_state.get("resume_weights") or {})
            total += _nbytes(self.run_state.get("best_weights") or {})
        object.__setattr__(self, "nbytes", total)

    @property
    def position(self) -> float:
        """Where it is in epochs: ``epoch + batch / batches``."""
        return self.epoch + self.batch / max(1, self.batches)

    def label(self) -> str:
        """ "epoch 3" at an epoch end, "epoch 2, batch 40/94" inside one."""
        if self.batch == 0:
            return f"epoch {self.epoch}"
        return f"epoch {self.epoch + 1}, batch {self.batch}/{self.batches}"


@dataclass
class Run:
    """One training line of the timeline.

    Attributes
    ----------
    name : str
        Shown in the curves' legend ("run 1", "run 2 (lr 0.01)").
    parent : int or None
        The run it was forked from (an index in ``Timeline.runs``).
    fork_epoch, fork_batch : int
        Where in the parent it starts (epochs finished, batches of the next).
    history : dict
        Per-epoch values, the parent's epochs before the fork point included.
    snapshot : Snapshot or None
        The network and settings it last trained (None before it trained).
    preprocessing : dict or None
        Its feature scaling.
    vocabulary : list of str or None
        The text of each token id of its data.
    """

    name: str
    parent: int | None = None
    fork_epoch: int = 0
    fork_batch: int = 0
    history: dict[str, list[float]] = field(default_factory=dict)
    snapshot: Snapshot | None = None
    preprocessing: dict[str, Any] | None = None
    vocabulary: list[str] | None = None

    @property
    def epochs(self) -> int:
        """Finished epochs in its history."""
        return TrainingHistory(self.history).epochs


class CheckpointStore:
    """Checkpoints under a byte bound, thinned so they spread over each run.

    Thread-safe: the training thread adds, the GUI thread reads.

    Parameters
    ----------
    bound : int, optional
        Most bytes held (default ``checkpoint_bound()``).
    max_count : int
        Most checkpoints held.

    Attributes
    ----------
    refused : int
        Bytes of the last checkpoint refused as larger than the bound (0: none).
    """

    def __init__(self, bound: int | None = None, max_count: int = MAX_CHECKPOINTS):
        if bound is not None and bound < 1:
            raise ConfigError(f"The checkpoint bound must be >= 1 byte, got {bound}.")
        self.bound = int(bound) if bound is not None else checkpoint_bound()
        self.max_count = int(max_count)
        self.refused = 0
        self._items: list[Checkpoint] = []
        self._pinned: set[int] = set()  # ids of checkpoints forks started from
        self._lock = threading.Lock()
        self._total = 0

    # --- reading -----------------------------------------------------------------
    @property
    def nbytes(self) -> int:
        """Bytes held: the sum of every kept array's ``nbytes``."""
        return self._total

    def __len__(self) -> int:
        return len(self._items)

    def checkpoints(self, run: int | None = None) -> list[Checkpoint]:
        """The kept checkpoints (of ``run`` only, if given), oldest first."""
        with self._lock:
            items = list(self._items)
        return items if run is None else [c for c in items if c.run == run]

    def last(self, run: int) -> Checkpoint | None:
        """The newest checkpoint of ``run``."""
        found = self.checkpoints(run)
        return found[-1] if found else None

    def describe(self) -> str:
        """ "Checkpoints: 42 · 118 MB of 300 MB", or why there are none."""
        if self.refused and not self._items:
            return (
                f"Checkpoints off: one takes {format_bytes(self.refused)}, over the "
                f"{format_bytes(self.bound)} bound"
            )
        return (
            f"Checkpoints: {len(self._items)} · {format_bytes(self._total)} of "
            f"{format_bytes(self.bound)}"
        )

    # --- changing ----------------------------------------------------------------
    def add(self, checkpoint: Checkpoint) -> bool:
        """Keep ``checkpoint`` (thinning the others to stay under the bound).

        Returns
        -------
        bool
            False when it alone is larger than the bound (not kept; ``refused``
            holds its size).
        """
        if checkpoint.nbytes > self.bound:
            self.refused = checkpoint.nbytes
            log.info(
                "Checkpoint not kept: %s is over the %s bound.",
                format_bytes(checkpoint.nbytes),
                format_bytes(self.bound),
            )
            return False
        with self._lock:
            self._items.append(checkpoint)
            self._total += checkpoint.nbytes
            self._thin()
        return True

    def pin(self, checkpoint: Checkpoint) -> None:
        """Never thin ``checkpoint`` away (a fork starts from it)."""
        with self._lock:
            self._pinned.add(id(checkpoint))

    def drop_run(self, run: int) -> None:
        """Forget every checkpoint of ``run`` (its training was undone)."""
        with self._lock:
            kept = [c for c in self._items if c.run != run]
            self._items = kept
            self._total = sum(c.nbytes for c in kept)

    def clear(self) -> None:
        """Forget every checkpoint."""
        with self._lock:
            self._items, self._total, self._pinned = [], 0, set()
            self.refused = 0

    def _thin(self) -> None:
        while self._total > self.bound or len(self._items) > self.max_count:
            k = self._thinnest()
            if k is None:
                # Only run ends (or pinned ones) are left: the oldest goes, never
                # the newest.
                if len(self._items) <= 1:
                    return
                k = 0
            gone = self._items.pop(k)
            self._pinned.discard(id(gone))
            self._total -= gone.nbytes

    def _thinnest(self) -> int | None:
        """The index of the checkpoint whose neighbours in its run are closest
        together (never a run's first or last, nor a pinned one)."""
        best, best_gap = None, math.inf
        by_run: dict[int, list[int]] = {}
        for i, c in enumerate(self._items):
            by_run.setdefault(c.run, []).append(i)
        for indices in by_run.values():
            for j in range(1, len(indices) - 1):
                c = self._items[indices[j]]
                if id(c) in self._pinned:
                    continue
                before = self._items[indices[j - 1]]
                after = self._items[indices[j + 1]]
                gap = after.step - before.step
                if gap < best_gap:
                    best, best_gap = indices[j], gap
        return best


class Timeline:
    """The runs of one network and their checkpoints.

    Attributes
    ----------
    runs : list of Run
        Every run, in the order they began; forks name their parent.
    current : int
        The run the next training continues.
    store : CheckpointStore
        Their checkpoints.
    """

    def __init__(self, store: CheckpointStore | None = None) -> None:
        self.store = store if store is not None else CheckpointStore()
        self.runs: list[Run] = [Run("run 1")]
        self.current = 0

    def reset(self, history: Mapping[str, Iterable[float]] | None = None) -> None:
        """Start over with one run holding ``history`` (another network, a file
        opened, the weights reset)."""
        self.store.clear()
        hist = {k: [float(v) for v in vs] for k, vs in (history or {}).items()}
        self.runs = [Run("run 1", history=hist)]
        self.current = 0

    def recorder(self, session: TrainingSession) -> CheckpointRecorder:
        """A callback recording ``session``'s next run into the current run.

        When ``session`` does not go on from where the current run's last
        checkpoint left it, a new run begins: without a parent when it starts
        untrained (the weights were reset), else forked from that checkpoint
        (the graph was edited between two runs, or another state was put back,
        e.g. by Undo), named by what changed.
        """
        last = self.store.last(self.current)
        if last is not None and not _continues(self.runs[self.current], last, session):
            parent = self.runs[self.current]
            fresh = session.history.epochs == 0 and not session.trained
            name = f"run {len(self.runs) + 1}"
            changes = "" if fresh else describe_fork(parent.snapshot, session.snapshot)
            self.runs.append(
                Run(
                    f"{name} ({changes})" if changes else name,
                    parent=None if fresh else self.current,
                    fork_epoch=0 if fresh else session.history.epochs,
                    history=session.history.as_dict(),
                )
            )
            self.current = len(self.runs) - 1
        run = self.runs[self.current]
        run.snapshot = session.snapshot
        run.preprocessing = session.preprocessing
        run.vocabulary = session.vocabulary
        return CheckpointRecorder(self, self.current, session)

    def update_history(self, history: Mapping[str, Iterable[float]]) -> None:
        """The current run's history is now ``history`` (after a run)."""
        self.runs[self.current].history = {
            k: [float(v) for v in vs] for k, vs in history.items()
        }

    def fork_state(self, checkpoint: Checkpoint) -> TrainedState:
        """The trained state of ``checkpoint``: its run's network, the
        checkpoint's weights, optimizer state and run state, and its run's
        history up to it.

        Raises
        ------
        ConfigError
            When its run never trained (no network to go with the weights).
        """
        run = self.runs[checkpoint.run]
        if run.snapshot is None:
            raise ConfigError(
                f"The checkpoint at {checkpoint.label()} of {run.name} has no "
                "network recorded with it, so it cannot be restored."
            )
        history = {k: list(v[: checkpoint.epoch]) for k, v in run.history.items()}
        return TrainedState(
            snapshot=run.snapshot,
            weights=checkpoint.weights,
            optimizer_state=checkpoint.optimizer_state,
            optimizer_name=str(run.snapshot.settings["optimizer"]),
            history=history,
            preprocessing=run.preprocessing,
            trained=True,
            run_state=checkpoint.run_state,
            vocabulary=run.vocabulary,
        )

    def fork(
        self,
        checkpoint: Checkpoint,
        view: GraphView | None = None,
        *,
        name: str | None = None,
        **session_options: Any,
    ) -> TrainingSession:
        """A new run from ``checkpoint``, made the current one.

        Parameters
        ----------
        checkpoint : Checkpoint
            Kept in the store (pinned: thinning keeps it).
        view : GraphView, optional
            The network to go on with (default: the checkpoint's own): changed
            settings apply, an edited graph keeps the weights of nodes whose
            shapes did not change (``TrainingSession.from_state``).
        name : str, optional
            Default ``"run N"``.
        session_options
            Passed to ``TrainingSession.from_state`` (``base_dir``, ``metadata``).

        Returns
        -------
        TrainingSession
            The fork's session: train it to continue.
        """
        state = self.fork_state(checkpoint)
        session = TrainingSession.from_state(state, view, **session_options)
        self.store.pin(checkpoint)
        run = Run(
            name or f"run {len(self.runs) + 1}",
            parent=checkpoint.run,
            fork_epoch=checkpoint.epoch,
            fork_batch=checkpoint.batch,
            history={k: list(v) for k, v in state.history.items()},
            snapshot=session.snapshot,
            preprocessing=state.preprocessing,
            vocabulary=state.vocabulary,
        )
        self.runs.append(run)
        self.current = len(self.runs) - 1
        return session

    def lineage(self, run: int) -> list[Checkpoint]:
        """The checkpoints leading to ``run``'s newest: its parents' up to where
        it was forked, then its own, oldest first."""
        r = self.runs[run]
        own = self.store.checkpoints(run)
        if r.parent is None or not 0 <= r.parent < len(self.runs):
            return own
        before = [
            c
            for c in self.lineage(r.parent)
            if (c.epoch, c.batch) < (r.fork_epoch, r.fork_batch)
            or (not own and (c.epoch, c.batch) == (r.fork_epoch, r.fork_batch))
        ]
        return before + own

    def to_plain(self) -> list[dict[str, Any]]:
        """The runs as plain values (``nndesk.io.runs`` layout), for a file."""
        return [
            {
                "name": r.name,
                "parent": r.parent,
                "fork_epoch": r.fork_epoch,
                "fork_batch": r.fork_batch,
                "history": {k: list(v) for k, v in r.history.items()},
            }
            for r in self.runs
        ]

    def saved_checkpoints(
        self, weights: Mapping[str, np.ndarray]
    ) -> list[dict[str, Any]]:
        """The checkpoints to save with a file whose weights are ``weights``: those
        of the same network (same weight keys and shapes), spread evenly (the
        first and last kept) down to what a file holds (``MAX_SAVED_CHECKPOINTS``
        and ``MAX_CHECKPOINT_ARRAYS``)."""
        shapes = {k: a.shape for k, a in weights.items()}
        fits = [
            c
            for c in self.store.checkpoints()
            if {k: a.shape for k, a in c.weights.items()} == shapes
        ]
        if not fits:
            return []
        per = max(_arrays_of(c) for c in fits)
        most = max(1, min(MAX_SAVED_CHECKPOINTS, MAX_CHECKPOINT_ARRAYS // per))
        if len(fits) > most:
            picks = np.unique(np.linspace(0, len(fits) - 1, most).round().astype(int))
            fits = [fits[i] for i in picks]
        return [
            {
                "run": c.run,
                "epoch": c.epoch,
                "batch": c.batch,
                "batches": c.batches,
                "step": c.step,
                "weights": c.weights,
                "optimizer_state": c.optimizer_state,
                "run_state": c.run_state,
            }
            for c in fits
        ]

    def load_checkpoints(
        self,
        items: Iterable[Mapping[str, Any]],
        snapshot: Snapshot,
        preprocessing: dict[str, Any] | None,
        vocabulary: list[str] | None,
    ) -> None:
        """Take the checkpoints of a file (``saved_checkpoints``' layout) for
        its network ``snapshot``; the store thins them to its own bound."""
        for item in items:
            run = self.runs[int(item["run"])]
            run.snapshot = run.snapshot or snapshot
            run.preprocessing = run.preprocessing or preprocessing
            run.vocabulary = run.vocabulary or vocabulary
            self.store.add(
                Checkpoint(
                    run=int(item["run"]),
                    epoch=int(item["epoch"]),
                    batch=int(item["batch"]),
                    batches=int(item["batches"]),
                    step=int(item["step"]),
                    weights=dict(item["weights"]),
                    optimizer_state=dict(item["optimizer_state"]),
                    run_state=item["run_state"],
                )
            )

    def load_plain(
        self, runs: list[Mapping[str, Any]], current: int | None = None
    ) -> None:
        """Take the runs of a file (``to_plain``'s layout; checked by io)."""
        self.store.clear()
        self.runs = [
            Run(
                str(r["name"]),
                parent=r["parent"],
                fork_epoch=int(r["fork_epoch"]),
                fork_batch=int(r["fork_batch"]),
                history={k: list(v) for k, v in r["history"].items()},
            )
            for r in runs
        ] or [Run("run 1")]
        self.current = len(self.runs) - 1 if current is None else int(current)


_NAMED_SETTINGS = (
    ("learning_rate", "lr {}"),
    ("optimizer", "{}"),
    ("batch_size", "batch {}"),
)


def describe_fork(before: GraphView | None, after: GraphView) -> str:
    """What a fork changes, for its name: "lr 0.01, sgd, edited graph" ("" when
    nothing)."""
    if before is None:
        return ""
    parts = [
        text.format(
            f"{after.settings[key]:g}"
            if key == "learning_rate"
            else after.settings[key]
        )
        for key, text in _NAMED_SETTINGS
        if before.settings.get(key) != after.settings.get(key)
    ]

    def graph(view: GraphView) -> tuple[Any, ...]:
        nodes = [(n.id, n.type_name, dict(n.params)) for n in view.nodes]
        return (nodes, list(view.edges))

    if graph(before) != graph(after):
        parts.append("edited graph")
    return ", ".join(parts)


def restore_weights(model: Model, checkpoint: Checkpoint) -> None:
    """Put ``checkpoint``'s weights into ``model`` (another model of the same
    network: the run it came from is not touched)."""
    model.set_weights(checkpoint.weights)


def _continues(run: Run, last: Checkpoint, session: TrainingSession) -> bool:
    """Whether ``session`` starts where ``last`` (its run's newest checkpoint) is:
    the same number of optimizer steps, epochs and the same graph."""
    optimizer = session.model.optimizer
    steps = int(optimizer.iterations) if optimizer is not None else 0
    if steps != last.step or session.history.epochs != last.epoch:
        return False
    return run.snapshot is None or not describe_fork(run.snapshot, session.snapshot)


def _arrays_of(checkpoint: Checkpoint) -> int:
    run_state = checkpoint.run_state or {}
    sets = len(run_state.get("resume_weights") or {}) + len(
        run_state.get("best_weights") or {}
    )
    return len(checkpoint.weights) + len(checkpoint.optimizer_state) + sets


def _digest_of(run_state: Mapping[str, Any] | None) -> str | None:
    return None if run_state is None else str(run_state["weights_sha256"])


def _digest(checkpoint: Checkpoint) -> str | None:
    return _digest_of(checkpoint.run_state)


class CheckpointRecorder(Callback):
    """Takes checkpoints of a session's run into a timeline (in the training thread).

    Add it to the trainer's callbacks (``TrainingSession.make_trainer``); it reads
    the session's trainer for the run state.
    """

    def __init__(self, timeline: Timeline, run: int, session: TrainingSession):
        super().__init__()
        self.timeline = timeline
        self.run = run
        self.session = session
        self.batches = 1
        self.epoch = 0
        self.spent = 0.0  # seconds spent copying (a share of the run, measured)
        self.refused = False  # a checkpoint was over the bound: take no more

    def _take(self, epoch: int, batch: int | None = None) -> None:
        if self.refused:
            return  # the network's checkpoints do not fit: no copies at all
        started = time.perf_counter()
        model = self.session.model
        trainer = self.session.trainer
        optimizer = model.optimizer
        state = optimizer.get_state() if optimizer is not None else {}
        step = int(optimizer.iterations) if optimizer is not None else 0
        run_state = trainer.run_state() if trainer is not None else None
        if batch is None:
            batch = int(run_state["batch"]) if run_state is not None else 0
        last = self.timeline.store.last(self.run)
        if (
            last is not None
            and last.step == step
            and _digest(last) == _digest_of(run_state)
        ):
            return  # the same moment (a run ending where the next one begins)
        checkpoint = Checkpoint(
            run=self.run,
            epoch=epoch,
            batch=batch,
            batches=self.batches,
            step=step,
            weights=model.get_weights(),
            optimizer_state=state,
            run_state=run_state,
        )
        self.refused = not self.timeline.store.add(checkpoint)
        self.spent += time.perf_counter() - started

    def _dense_every(self) -> int | None:
        store = self.timeline.store
        last = store.last(self.run)
        if last is None or last.nbytes > DENSE_SHARE * store.bound:
            return None
        return max(1, math.ceil(self.batches / BATCH_CHECKPOINTS))

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        trainer = self.session.trainer
        if trainer is None:
            return
        self.batches = max(
            1, math.ceil(trainer.data.n_train / int(trainer.config.batch_size))
        )
        self.epoch = trainer.epoch
        self._take(trainer.epoch)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch = int(epoch)

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        self.batches = max(1, int(logs.get("batches", self.batches)))
        done = batch + 1
        if self.epoch >= DENSE_EPOCHS or done >= self.batches:
            return
        every = self._dense_every()
        if every is not None and done % every == 0:
            self._take(self.epoch, done)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._take(int(epoch) + 1, 0)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        trainer = self.session.trainer
        if trainer is None:
            return
        # A run stopped inside an epoch ends there (early stopping's weights put
        # back at an epoch end are taken too: what the session holds now).
        self._take(trainer.epoch)
        run = self.timeline.runs[self.run]
        run.history = trainer.history.as_dict()
