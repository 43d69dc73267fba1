"""The run state of a network file: what continuing a training run exactly needs.

A trainer exports it (``nndesk.training.Trainer.run_state()``) and accepts it back,
so a network trained 3 epochs, saved, loaded and trained 2 more ends bit for bit
where 5 epochs in one go would. It is a dict of plain values and two sets of
weights::

    {
        "epoch": 3,                  # epochs finished when it was taken
        "batch": 0,                  # batches of an unfinished epoch already applied
        "learning_rate": 0.001,      # the base rate in force (changed mid-run or not)
        "learning_rate_setting": 0.001,  # the learning_rate setting the run had
        "weights_sha256": "9f2c...",  # digest of the weights it belongs to
        "early_stopping": {          # or None when early stopping was off
            "monitor": "val_loss", "best": 0.41, "best_epoch": 1, "wait": 1,
            "stopped_epoch": None,
        },
        "resume_weights": {...},     # "<node_id>/<param>" -> array, or {}
        "best_weights": {...},       # the same keys, or {}
    }

``resume_weights`` are the weights training continues from when they are not the
file's weights (early stopping put the best epoch's weights back at the end of the
run); ``best_weights`` are the weights early stopping would put back when they are
not the file's weights (a file saved mid-run). In a file the plain values are
``run_state.json`` and the weight sets ``run_state.npz``, keyed
``"resume/<node_id>/<param>"`` and ``"best/<node_id>/<param>"``. The checks here
are the file format's (types, ranges, keys and shapes); whether a run state applies
to the network it travels with is the trainer's business.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..document import GraphView
from ._values import check_keys, short
from ._weights import check_weights

__all__ = [
    "EARLY_STOPPING_KEYS",
    "RUN_STATE_KEYS",
    "WEIGHT_SETS",
    "check_run_state",
    "run_state_from_members",
    "run_state_to_members",
]

RUN_STATE_KEYS: tuple[str, ...] = (
    "epoch",
    "batch",
    "learning_rate",
    "learning_rate_setting",
    "weights_sha256",
    "early_stopping",
)
"""The plain keys of a run state (``run_state.json``), all required."""

EARLY_STOPPING_KEYS: tuple[str, ...] = (
    "monitor",
    "best",
    "best_epoch",
    "wait",
    "stopped_epoch",
)
"""The keys of its ``early_stopping`` object, all required."""

WEIGHT_SETS: dict[str, str] = {"resume_weights": "resume/", "best_weights": "best/"}
"""Each weight set of a run state and the prefix of its keys in ``run_state.npz``."""

_MAX_EPOCH = 10**9
_MAX_NAME = 200
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check_run_state(value: Any, where: str, error: type[Exception]) -> dict[str, Any]:
    """The plain part of a run state, checked and normalised (ints, floats, None).

    Parameters
    ----------
    value : Any
        A run state, or its ``run_state.json`` (the weight sets are ignored here).
    where : str
        How messages name it (``"spiral.nndesk: run_state.json"``).
    error : type
        The exception raised (FileFormatError, ProjectSaveError, ConfigError).

    Returns
    -------
    dict
        Exactly ``RUN_STATE_KEYS``.

    Raises
    ------
    error
        One sentence naming ``where`` and the first key at fault.
    """
    if not isinstance(value, Mapping):
        raise error(f"{where} must be an object of run-state values.")
    check_keys(value, (*RUN_STATE_KEYS, *WEIGHT_SETS), RUN_STATE_KEYS, where, error)
    epoch = _whole(value["epoch"], "epoch", 0, where, error)
    state: dict[str, Any] = {
        "epoch": epoch,
        "batch": _whole(value["batch"], "batch", 0, where, error),
        "learning_rate": _rate(value["learning_rate"], "learning_rate", where, error),
        "learning_rate_setting": _rate(
            value["learning_rate_setting"], "learning_rate_setting", where, error
        ),
    }
    digest = value["weights_sha256"]
    if not isinstance(digest, str) or not _SHA256.match(digest):
        raise error(f"{where} has a weights_sha256 that is not 64 hex digits.")
    state["weights_sha256"] = digest
    es = value["early_stopping"]
    state["early_stopping"] = (
        None if es is None else _check_early_stopping(es, epoch, where, error)
    )
    return state


def _check_early_stopping(
    value: Any, epoch: int, where: str, error: type[Exception]
) -> dict[str, Any]:
    where = f"{where} early_stopping"
    if not isinstance(value, Mapping):
        raise error(f"{where} must be null or an object.")
    check_keys(value, EARLY_STOPPING_KEYS, EARLY_STOPPING_KEYS, where, error)
    monitor = value["monitor"]
    if not isinstance(monitor, str) or not 0 < len(monitor) <= _MAX_NAME:
        raise error(f"{where} has a monitor that is not a metric name.")
    best = value["best"]
    best_epoch = _whole(value["best_epoch"], "best_epoch", -1, where, error)
    if best is None:
        if best_epoch != -1:
            raise error(f"{where} has a best_epoch but no best value.")
    else:
        best = _number(best, "best", where, error)
        if not 0 <= best_epoch < epoch:
            raise error(
                f"{where} has best_epoch {best_epoch}, not one of the {epoch} epochs "
                "trained."
            )
    wait = _whole(value["wait"], "wait", 0, where, error)
    if wait > epoch:
        raise error(f"{where} waited {wait} epochs of {epoch} trained.")
    stopped = value["stopped_epoch"]
    if stopped is not None:
        stopped = _whole(stopped, "stopped_epoch", 0, where, error)
        if stopped >= epoch:
            raise error(
                f"{where} has stopped_epoch {stopped}, not one of the {epoch} epochs "
                "trained."
            )
    return {
        "monitor": monitor,
        "best": best,
        "best_epoch": best_epoch,
        "wait": wait,
        "stopped_epoch": stopped,
    }


def run_state_to_members(
    run_state: Any,
    view: GraphView,
    weights: Mapping[str, np.ndarray],
    where: str,
    error: type[Exception],
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """A run state as ``run_state.json`` content and ``run_state.npz`` arrays.

    Raises
    ------
    error
        When the plain values are malformed, or a weight set does not fit the
        graph and the weights it travels with.
    """
    plain = check_run_state(run_state, where, error)
    if not weights:
        raise error(f"{where} is there, but the network has no weights.")
    arrays: dict[str, np.ndarray] = {}
    for name, prefix in WEIGHT_SETS.items():
        group = run_state.get(name) or {}
        if not isinstance(group, Mapping) or not all(
            isinstance(k, str) and isinstance(a, np.ndarray) for k, a in group.items()
        ):
            raise error(f"{where} has {name} that are not a dict of arrays.")
        _check_set(view, weights, group, f"{where} {name}", error, True)
        arrays.update({prefix + k: a for k, a in group.items()})
    return plain, arrays


def run_state_from_members(
    data: Any,
    arrays: Mapping[str, np.ndarray],
    view: GraphView,
    weights: Mapping[str, np.ndarray],
    name: str,
    error: type[Exception],
    allow_nonfinite: bool,
) -> dict[str, Any]:
    """The run state of a file from its ``run_state.json`` and ``run_state.npz``.

    Raises
    ------
    error
        One sentence naming the file, the member and the value or array at fault.
    NonFiniteWeightsError
        For NaN or Inf in a weight set when ``allow_nonfinite`` is False.
    """
    state = check_run_state(data, f"{name}: run_state.json", error)
    if not weights:
        raise error(f"{name} holds a run state but the network has no weights.")
    where = f"{name}: run_state.npz"
    groups: dict[str, dict[str, np.ndarray]] = {k: {} for k in WEIGHT_SETS}
    for key, array in arrays.items():
        for set_name, prefix in WEIGHT_SETS.items():
            if key.startswith(prefix):
                groups[set_name][key[len(prefix) :]] = array
                break
        else:
            raise error(
                f"{where} holds {key!r}, which is not 'resume/<weight>' or "
                "'best/<weight>'."
            )
    for set_name, group in groups.items():
        _check_set(view, weights, group, where, error, allow_nonfinite)
        state[set_name] = group
    return state


def _check_set(
    view: GraphView,
    weights: Mapping[str, np.ndarray],
    group: Mapping[str, np.ndarray],
    where: str,
    error: type[Exception],
    allow_nonfinite: bool,
) -> None:
    """A weight set is empty, or every weight of the graph in the weights' dtype."""
    if not group:
        return
    check_weights(view, group, where, error, allow_nonfinite)
    for key, array in group.items():
        own = weights.get(key)
        if own is None or own.dtype.itemsize != array.dtype.itemsize:
            raise error(
                f"{where} has {key!r} as {array.dtype}, but the weights are "
                f"{next(iter(weights.values())).dtype if weights else 'absent'}."
            )


def _whole(value: Any, key: str, low: int, where: str, error: type[Exception]) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise error(f"{where} has {key} {short(value)}, not a whole number.")
    if not low <= int(value) <= _MAX_EPOCH:
        raise error(f"{where} has {key} {int(value)}, outside {low}..{_MAX_EPOCH:,}.")
    return int(value)


def _number(value: Any, key: str, where: str, error: type[Exception]) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise error(f"{where} has {key} {short(value)}, not a number.")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise error(f"{where} has {key} {short(value)}, not a finite number.")
    return number


def _rate(value: Any, key: str, where: str, error: type[Exception]) -> float:
    number = _number(value, key, where, error)
    if number < 0:
        raise error(f"{where} has {key} {number:g}, below 0.")
    return number
