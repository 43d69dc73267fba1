"""Race mode: two to four variants of a network trained on identical batches, in lockstep.

A race trains each variant — another learning rate, optimizer, activation,
initialiser or graph — through its own ``TrainingSession`` (the one owner of a
trained state), on the same dataset, split and scaling, so that every variant sees
**the same samples in the same batches in the same order**:

- The variants must agree on everything that decides the batches: the batch size,
  the seed (it seeds the split, each epoch's shuffle and dropout), shuffling, the
  validation and test split and the scaling (``BATCH_SETTINGS``); a race refuses
  variants that do not, in one sentence naming the setting and both values.
- **Lockstep, epoch by epoch.** Round ``e`` trains epoch ``e`` of every variant
  still racing, one after the other (variant 1's batches, then variant 2's...),
  before any variant begins epoch ``e + 1``. Each variant's trainer runs one epoch
  per round (``Trainer.run(1)``), which continues exactly as one long run would,
  so a race of two variants gives each, bit for bit, the weights and history of a
  separate ``fit`` of that many epochs.
- **Proof of identical batches.** A ``BatchLedger`` on every variant records the
  rows of every batch it trains (``Model.batch_rows``, set by ``Model.fit``) as a
  digest per epoch; after each round the race compares them and stops with a
  ``RaceError`` should two variants ever have trained different batches.
- A variant whose loss becomes NaN or infinite drops out ("diverged", the sentence
  kept); one that early stopping ends stops there; the others race on.

Memory: ``check_race_memory`` estimates all variants together before any is
compiled (``nndesk.training.memory`` per network, plus the prepared data once) and
refuses in one sentence: "Racing 3 variants needs about 12.5 GB of memory to train
at batch size 32, but only 4.1 GB is available (the address-space limit)."

``race_table`` formats ``Race.standings()``: final and best loss and metrics and
the time per epoch of each variant.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..document.graph import GraphView, Snapshot
from ..engine.callbacks import Callback
from ..engine.errors import NNDeskError, NumericalError
from ..engine.memory import check_fits
from ..io.datasets import Dataset
from ..io.datasets.spec import rebase_spec
from ..io.project_file import load_project
from .compile import make_optimizer, summary_model
from .control import TrainingControl
from .data import PreparedData, check_dataset_fits, load_settings_dataset
from .memory import estimate_training_memory
from .session import TrainedState, TrainingSession
from .trainer import Trainer

log = logging.getLogger(__name__)

__all__ = [
    "BATCH_SETTINGS",
    "MAX_VARIANTS",
    "MIN_VARIANTS",
    "BatchLedger",
    "Entrant",
    "Race",
    "RaceError",
    "Runner",
    "Standing",
    "best_cell",
    "check_entrants",
    "check_race_memory",
    "check_same_dataset",
    "check_variants_fit",
    "open_race",
    "race_table",
    "variant_name",
    "variant_of",
]

MIN_VARIANTS, MAX_VARIANTS = 2, 4
BATCH_SETTINGS: tuple[str, ...] = (
    "batch_size",
    "seed",
    "shuffle",
    "validation_split",
    "test_split",
    "scaling",
)
"""Settings that decide which samples form each batch: equal in every variant."""

_LOWER_IS_BETTER = ("loss", "mse", "mae", "rmse", "error")
"""Parts of metric names for which lower is better (the others: higher)."""

CHANGES: dict[str, str] = {
    "learning_rate": "learning rate",
    "optimizer": "optimizer",
    "activation": "activation",
    "kernel_initializer": "initialiser",
}
"""What ``variant_of`` changes, and how the window's Race dialog names it: two
settings, and a parameter of the layers (the hidden ones for the activation)."""


class RaceError(NNDeskError, ValueError):
    """Variants that cannot race together (one sentence naming the variant)."""


@dataclass(frozen=True)
class Entrant:
    """One variant before it is compiled.

    Attributes
    ----------
    name : str
        Shown in the table, the legend and the race view ("lr 0.01", a file name).
    view : GraphView
        The network with its settings.
    state : TrainedState, optional
        What it starts from (a file's weights, optimizer state and history); None
        for the seeded initial weights of ``view``.
    base_dir : Path, optional
        The folder its relative dataset path is relative to (its file's).
    """

    name: str
    view: GraphView
    state: TrainedState | None = None
    base_dir: Path | None = None


# --- variants of one network --------------------------------------------------------


def variant_of(view: GraphView, change: str, value: Any) -> Snapshot:
    """``view`` with one thing changed, for a race against it.

    Parameters
    ----------
    view : GraphView
        The network (not changed).
    change : {"learning_rate", "optimizer", "activation", "kernel_initializer"}
        A setting, or a parameter set on every layer that has it: the activation
        of the hidden layers (the layer feeding the Output keeps its own, which
        suits the loss), the kernel initialiser of all layers.
    value
        The new value, checked like any edit.

    Raises
    ------
    RaceError
        When the network has no layer with that parameter, or ``change`` is
        none of the four.
    ParamError
        For a value the setting or parameter refuses.
    """
    doc = Snapshot(view.nodes, view.edges, view.settings, view.painted).to_document()
    if change in ("learning_rate", "optimizer"):
        doc.set_setting(change, value)
        return doc.snapshot()
    if change not in CHANGES:
        raise RaceError(
            f"A variant changes one of {', '.join(CHANGES)}, not '{change}'."
        )
    keep = set()
    if change == "activation":
        for output in doc.nodes_of_type("Output"):
            keep.update(doc.predecessors(output.id))
    nodes = [
        n.id
        for n in doc.nodes
        if n.id not in keep and any(p.name == change for p in n.spec.params)
    ]
    if not nodes:
        what = (
            "hidden layer with an activation"
            if change == "activation"
            else ("layer with a kernel initialiser")
        )
        raise RaceError(f"The network has no {what} to change.")
    for node_id in nodes:
        doc.set_param(node_id, change, value)
    return doc.snapshot()


def variant_name(change: str, value: Any) -> str:
    """A short name for a variant: "lr 0.01", "sgd", "relu", "init he_normal"."""
    if change == "learning_rate":
        return f"lr {float(value):g}"
    if change == "kernel_initializer":
        return f"init {value}"
    return str(value)


# --- checks before anything is compiled ----------------------------------------------


def check_entrants(entrants: Sequence[Entrant]) -> None:
    """Refuse a field of variants that cannot race on identical batches.

    Raises
    ------
    RaceError
        For fewer than two or more than four variants, two with one name, or a
        variant whose batch settings (``BATCH_SETTINGS``) differ from the first's.
    """
    n = len(entrants)
    if not MIN_VARIANTS <= n <= MAX_VARIANTS:
        raise RaceError(
            f"A race takes {MIN_VARIANTS} to {MAX_VARIANTS} variants, not {n}."
        )
    names = [e.name for e in entrants]
    twice = next((x for x in names if names.count(x) > 1), None)
    if twice is not None:
        raise RaceError(f"Two variants are both named '{twice}': give each its own.")
    first = entrants[0]
    for other in entrants[1:]:
        for key in BATCH_SETTINGS:
            a, b = first.view.settings.get(key), other.view.settings.get(key)
            if a != b:
                raise RaceError(
                    f"Variant '{other.name}' has {key} {b!r} but '{first.name}' has "
                    f"{a!r}: racing variants train on the same batches, so they "
                    f"must agree on {', '.join(BATCH_SETTINGS)}."
                )


def check_same_dataset(entrants: Sequence[Entrant]) -> None:
    """Refuse variants whose settings name different datasets (or target columns);
    relative paths are compared as the files they name.

    Raises
    ------
    RaceError
        Naming the first variant that differs and both datasets.
    """
    first = entrants[0]
    home = first.base_dir or Path.cwd()
    want = str(first.view.settings.get("dataset") or "")
    for other in entrants[1:]:
        spec = str(other.view.settings.get("dataset") or "")
        if rebase_spec(spec, other.base_dir, home) != want or other.view.settings.get(
            "dataset_target"
        ) != first.view.settings.get("dataset_target"):
            raise RaceError(
                f"Variant '{other.name}' trains on '{spec}' but '{first.name}' on "
                f"'{want}': pass one dataset for all (--data) or give them the same."
            )


def check_variants_fit(entrants: Sequence[Entrant], dataset: Dataset) -> None:
    """Refuse a variant that does not fit ``dataset`` (input shape, classes, task).

    Raises
    ------
    RaceError
        "Variant 'wide': The dataset 'spiral' does not fit the network: ..."
    """
    for entrant in entrants:
        try:
            check_dataset_fits(entrant.view, dataset)
        except NNDeskError as exc:
            raise RaceError(f"Variant '{entrant.name}': {exc}") from None


def race_memory(views: Sequence[GraphView], dataset: Dataset | None = None) -> int:
    """Bytes all ``views`` need to train together, estimated before compiling.

    Each network counts its own peak (``estimate_training_memory``: weights,
    gradients, optimizer state, the trainer's copies, activations at its batch
    size); the prepared data counts once, as float32 inputs and targets.
    """
    total = 0
    for view in views:
        settings = view.settings
        estimate = estimate_training_memory(
            summary_model(view),
            make_optimizer(settings),
            int(settings["batch_size"]),
            early_stopping=int(settings["early_stopping_patience"]) > 0,
        )
        total += estimate.peak
    if dataset is not None:
        total += 4 * (int(dataset.x.size) + 2 * int(dataset.y.size))
    return total


def check_race_memory(
    views: Sequence[GraphView], dataset: Dataset | None = None
) -> int:
    """Refuse a race that would not fit in memory, before anything is compiled.

    Returns
    -------
    int
        The estimate in bytes, when it fits.

    Raises
    ------
    ResourceError
        "Racing 3 variants needs about 12.5 GB of memory to train at batch size
        32, but only 4.1 GB is available (the address-space limit)."
    """
    needed = race_memory(views, dataset)
    batch = int(views[0].settings["batch_size"]) if views else 0
    check_fits(
        needed,
        f"Racing {len(views)} variants",
        purpose=f" to train at batch size {batch}",
    )
    return needed


# --- the proof of identical batches -------------------------------------------------


class BatchLedger(Callback):
    """Records which rows of the training data every batch of a variant held.

    After each batch it reads ``Model.batch_rows`` (what ``Model.fit`` gathered)
    into a SHA-256 digest per epoch; with ``keep_rows`` it also keeps the rows
    themselves (for tests: ``rows[epoch]`` is the list of each batch's rows).
    """

    def __init__(self, keep_rows: bool = False) -> None:
        super().__init__()
        self.keep_rows = keep_rows
        self.digests: dict[int, str] = {}
        self.batches: dict[int, int] = {}
        self.rows: dict[int, list[np.ndarray]] = {}
        self._epoch = 0
        self._hash = hashlib.sha256()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch = int(epoch)
        self._hash = hashlib.sha256()
        self.batches[self._epoch] = 0
        if self.keep_rows:
            self.rows[self._epoch] = []

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        rows = self.model.batch_rows
        if isinstance(rows, slice):
            rows = np.arange(rows.start or 0, rows.stop)
        taken = np.asarray(rows, dtype=np.int64)
        self._hash.update(len(taken).to_bytes(8, "little"))
        self._hash.update(taken.tobytes())
        self.batches[self._epoch] += 1
        if self.keep_rows:
            self.rows[self._epoch].append(taken.copy())

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.digests[int(epoch)] = self._hash.hexdigest()


# --- the race -----------------------------------------------------------------------


@dataclass
class Runner:
    """A variant in the race: its session, trainer, ledger and how it is doing.

    ``status`` is "racing", "completed", "early_stopped", "diverged" or
    "stopped"; ``message`` says why a diverged variant dropped out.
    """

    name: str
    session: TrainingSession
    ledger: BatchLedger
    trainer: Trainer | None = None
    status: str = "racing"
    message: str = ""
    first_epoch: int = 0
    epoch_times: list[float] = field(default_factory=list)

    @property
    def racing(self) -> bool:
        return self.status == "racing"


@dataclass(frozen=True)
class Standing:
    """One row of the results table (values None when the history lacks them;
    ``best`` and ``best_metric`` are ``(key, epoch, value)`` of the best validation
    loss and metric, or the training ones without validation data; ``message``
    says why a diverged variant dropped out)."""

    name: str
    status: str
    epochs: int
    loss: float | None
    val_loss: float | None
    best: tuple[str, int, float] | None
    metric: str
    metric_value: float | None
    val_metric_value: float | None
    seconds_per_epoch: float | None
    best_metric: tuple[str, int, float] | None = None
    message: str = ""


class Race:
    """Train two to four compiled variants on identical batches, epoch by epoch.

    Parameters
    ----------
    runners : sequence of (str, TrainingSession)
        The named variants (build them with ``Race.start`` to check memory first).
    dataset : Dataset
        What every variant trains on.
    epochs : int, optional
        Rounds to race (default: the first variant's ``epochs`` setting).
    control : TrainingControl, optional
        Shared by every variant: pause, resume and stop reach whichever trains.
    callbacks_for : callable, optional
        ``callbacks_for(index)`` -> callbacks of variant ``index`` (progress, probes).
    keep_rows : bool
        Keep every batch's rows in the ledgers (for tests).

    Raises
    ------
    RaceError
        When the variants cannot race together (see ``check_entrants``), or one
        does not fit the dataset (naming it).
    ResourceError
        When a variant's training would not fit in memory (``Trainer``).
    """

    def __init__(
        self,
        runners: Sequence[tuple[str, TrainingSession]],
        dataset: Dataset,
        *,
        epochs: int | None = None,
        control: TrainingControl | None = None,
        callbacks_for: Callable[[int], Iterable[Callback]] | None = None,
        keep_rows: bool = False,
    ) -> None:
        check_entrants([Entrant(name, s.snapshot) for name, s in runners])
        self.dataset = dataset
        self.control = control if control is not None else TrainingControl()
        first = runners[0][1]
        self.epochs = int(epochs if epochs is not None else first.settings["epochs"])
        if self.epochs < 1:
            raise RaceError(f"A race needs at least 1 epoch, not {self.epochs}.")
        self.runners: list[Runner] = []
        check_variants_fit([Entrant(name, s.snapshot) for name, s in runners], dataset)
        for name, session in runners:
            self.runners.append(Runner(name, session, BatchLedger(keep_rows)))
        self.data: list[PreparedData] = []
        for index, runner in enumerate(self.runners):
            # Variants with the same loss and output share one prepared copy of
            # the data (prepare takes another session's when its key matches).
            net = runner.session.net
            reuse = next(
                (
                    r.session
                    for r in self.runners[:index]
                    if (r.session.net.loss, r.session.net.output_units)
                    == (net.loss, net.output_units)
                ),
                None,
            )
            data = runner.session.prepare(dataset, reuse=reuse)
            extra = list(callbacks_for(index)) if callbacks_for is not None else []
            runner.trainer = runner.session.make_trainer(
                data, callbacks=[runner.ledger, *extra], control=self.control, epochs=1
            )
            runner.first_epoch = runner.session.history.epochs
            self.data.append(data)
        self.round = 0
        self.stopped = False

    @classmethod
    def start(
        cls,
        entrants: Sequence[Entrant],
        dataset: Dataset,
        **options: Any,
    ) -> Race:
        """Check the field, that every variant fits the data and the memory of all
        variants together, then compile them.

        ``options`` go to ``Race`` (``epochs``, ``control``, ``callbacks_for``,
        ``keep_rows``).
        """
        check_entrants(entrants)
        check_variants_fit(entrants, dataset)
        check_race_memory([e.view for e in entrants], dataset)
        runners = []
        for e in entrants:
            if e.state is not None:
                session = TrainingSession.from_state(
                    e.state, e.view, base_dir=e.base_dir
                )
            else:
                session = TrainingSession(e.view, base_dir=e.base_dir)
            runners.append((e.name, session))
        return cls(runners, dataset, **options)

    # --- racing -----------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        """Whether every round is run, every variant out, or the race stopped."""
        return (
            self.stopped
            or self.round >= self.epochs
            or not any(r.racing for r in self.runners)
        )

    def rounds(self) -> Iterator[int]:
        """Run the race, yielding after each round (its 0-based number); pausing
        and stopping go through ``control``."""
        while not self.finished:
            self.run_round()
            yield self.round - 1

    def run(self) -> list[Standing]:
        """Run every round; returns ``standings()``."""
        for _ in self.rounds():
            pass
        return self.standings()

    def run_round(self) -> None:
        """Train one more epoch of every variant still racing, one after the other,
        then check they trained the same batches.

        Raises
        ------
        RaceError
            When two variants trained different batches in this round.
        """
        for runner in self.runners:
            if not runner.racing:
                continue
            self._train_epoch(runner)
            if self.stopped:
                break
        self._check_lockstep()
        self.round += 1
        if self.round >= self.epochs:
            for runner in self.runners:
                if runner.racing:
                    runner.status = "completed"

    def _train_epoch(self, runner: Runner) -> None:
        trainer = runner.trainer
        assert trainer is not None
        try:
            trainer.run(1)
        except NumericalError as exc:
            runner.status, runner.message = "diverged", str(exc)
            log.info("race variant %s diverged: %s", runner.name, exc)
            return
        if trainer.status == "stopped":
            self.stopped = True
            runner.status = "stopped"
            for other in self.runners:
                if other.racing:
                    other.status = "stopped"
            return
        runner.epoch_times.append(float(trainer.last_logs.get("epoch_time", 0.0)))
        if trainer.status == "early_stopped":
            runner.status = "early_stopped"

    def _check_lockstep(self) -> None:
        epoch_of = {id(r): r.first_epoch + self.round for r in self.runners}
        seen = {
            r.name: r.ledger.digests[epoch_of[id(r)]]
            for r in self.runners
            if epoch_of[id(r)] in r.ledger.digests
        }
        if len(set(seen.values())) > 1:
            names = " and ".join(f"'{n}'" for n in seen)
            raise RaceError(
                f"Variants {names} trained different batches in round "
                f"{self.round + 1}, so the race stopped."
            )

    # --- results ----------------------------------------------------------------------
    def leader(self) -> int:
        """The index of the best variant so far: the lowest final validation loss
        (training loss without validation data); diverged variants last."""

        def score(i: int) -> tuple[int, float]:
            s = self.standings()[i]
            value = s.val_loss if s.val_loss is not None else s.loss
            bad = s.status == "diverged" or value is None or not math.isfinite(value)
            return (1 if bad else 0, value if not bad else math.inf)

        return min(range(len(self.runners)), key=score)

    def standings(self) -> list[Standing]:
        """One ``Standing`` per variant, in the race's order."""
        return [_standing(r) for r in self.runners]

    def states(self) -> list[TrainedState]:
        """A copy of every variant's trained state (call between rounds)."""
        return [r.session.capture() for r in self.runners]


def _standing(runner: Runner) -> Standing:
    history = runner.session.history
    metric = next(
        (k for k in history if not k.startswith("val_") and k not in ("loss", "lr")),
        "",
    )
    key = "val_loss" if "val_loss" in history else "loss"
    best = history.best(key)
    metric_key = f"val_{metric}" if f"val_{metric}" in history else metric
    lower = any(part in metric for part in _LOWER_IS_BETTER)
    best_metric = (
        history.best(metric_key, "min" if lower else "max") if metric else None
    )
    times = runner.epoch_times
    return Standing(
        name=runner.name,
        status=runner.status,
        epochs=history.epochs - runner.first_epoch,
        loss=history.last("loss"),
        val_loss=history.last("val_loss"),
        best=(key, best[0], best[1]) if best is not None else None,
        metric=metric,
        metric_value=history.last(metric) if metric else None,
        val_metric_value=history.last(f"val_{metric}") if metric else None,
        seconds_per_epoch=float(np.median(times)) if times else None,
        best_metric=(metric_key, *best_metric) if best_metric is not None else None,
        message=runner.message,
    )


def race_table(standings: Sequence[Standing], leader: int | None = None) -> str:
    """The results as a plain-text table, one row per variant (``*`` marks the
    leader): epochs, final loss and validation loss, the best (validation) loss
    and its 1-based epoch, the final and best value of the first metric, the median
    seconds per epoch (a first epoch's one-time costs, such as compiling kernels,
    do not count)."""
    metric = next((s for s in standings if s.metric), None)
    loss_key = next((s.best[0] for s in standings if s.best), "loss")
    header = ["variant", "epochs", "loss", "val_loss", f"best {loss_key}"]
    if metric is not None:
        best_key = metric.best_metric[0] if metric.best_metric else metric.metric
        header += [metric.metric, f"val_{metric.metric}", f"best {best_key}"]
    header += ["s/epoch", "status"]
    rows = [header]
    for i, s in enumerate(standings):
        row = [
            ("* " if i == leader else "  ") + s.name,
            str(s.epochs),
            _num(s.loss),
            _num(s.val_loss),
            best_cell(s.best),
        ]
        if metric is not None:
            row += [
                _num(s.metric_value),
                _num(s.val_metric_value),
                best_cell(s.best_metric),
            ]
        row += [_num(s.seconds_per_epoch, "{:.3f}"), s.status.replace("_", " ")]
        rows.append(row)
    widths = [max(len(r[c]) for r in rows) for c in range(len(header))]
    rows[0][0] = "  " + rows[0][0]
    widths[0] = max(widths[0], len(rows[0][0]))
    lines = [
        "  ".join(cell.ljust(w) if c == 0 else cell.rjust(w)
                  for c, (cell, w) in enumerate(zip(r, widths, strict=True)))
        for r in rows
    ]  # fmt: skip
    return "\n".join(line.rstrip() for line in lines)


def best_cell(best: tuple[str, int, float] | None) -> str:
    """``"0.2402 @15"``: a best value and its 1-based epoch ("-" when none)."""
    return f"{best[2]:.4g} @{best[1] + 1}" if best is not None else "-"


def _num(value: float | None, form: str = "{:.4f}") -> str:
    if value is None:
        return "-"
    return form.format(value) if math.isfinite(value) else str(value)


# --- files --------------------------------------------------------------------------


def open_race(
    paths: Sequence[str | Path],
    *,
    data: str | None = None,
    target: str | int | None = None,
    epochs: int | None = None,
    control: TrainingControl | None = None,
    callbacks_for: Callable[[int], Iterable[Callback]] | None = None,
) -> Race:
    """A race of ``.nndesk`` files, each going on from what it holds (weights,
    optimizer state, history), on ``data`` (default: the dataset their settings
    name, which must then be the same file for all).

    Raises
    ------
    RaceError
        For fewer than 2 or more than 4 files, variants that cannot race together,
        or one that does not fit the data.
    FileFormatError, DatasetError, CompileError, ResourceError
        For a file, dataset, network or memory problem (one sentence each).
    """
    if not MIN_VARIANTS <= len(paths) <= MAX_VARIANTS:
        raise RaceError(
            f"A race takes {MIN_VARIANTS} to {MAX_VARIANTS} network files, "
            f"not {len(paths)}."
        )
    names = _names([Path(p) for p in paths])
    entrants = []
    for name, path in zip(names, paths, strict=True):
        project = load_project(path)
        entrants.append(
            Entrant(
                name,
                project.document.snapshot(),
                TrainedState.from_project(project),
                Path(path).resolve().parent,
            )
        )
    check_entrants(entrants)
    first = entrants[0]
    if data is None:
        check_same_dataset(entrants)
    dataset = load_settings_dataset(
        first.view.settings,
        spec=data,
        target=target,
        base_dir=first.base_dir if data is None else None,
        painted=first.view.painted,
    )
    return Race.start(
        entrants, dataset, epochs=epochs, control=control, callbacks_for=callbacks_for
    )


def _names(paths: Sequence[Path]) -> list[str]:
    """File names without ``.nndesk``; the whole path where two would be equal."""
    stems = [p.stem if p.suffix == ".nndesk" else p.name for p in paths]
    if len(set(stems)) == len(stems):
        return stems
    return [str(p) for p in paths]
