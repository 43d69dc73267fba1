"""The runs of a network file and, optionally, the checkpoints of its timeline.

``runs.json`` (format 5) lists the training runs side by side, each with its
whole history, and which run the file's weights belong to::

    {
        "current": 1,
        "runs": [
            {"name": "run 1", "parent": null, "fork_epoch": 0, "fork_batch": 0,
             "history": {"loss": [...], "val_loss": [...]}},
            {"name": "run 2 (lr 0.01)", "parent": 0, "fork_epoch": 3,
             "fork_batch": 0, "history": {...}}
        ],
        "checkpoints": [
            {"run": 0, "epoch": 3, "batch": 0, "batches": 20, "step": 60,
             "run_state": {...} or null}
        ]
    }

``checkpoints.npz`` (format 5, only when checkpoints were saved) holds each
checkpoint ``i``'s arrays: ``"<i>/weights/<node_id>/<param>"``,
``"<i>/optimizer/<key>"`` and its run state's weight sets
``"<i>/resume/<key>"``, ``"<i>/best/<key>"``. Only checkpoints whose weights
fit the file's network are saved (a run forked with an edited graph keeps its
parent's history, not the parent's checkpoints). The checks are the file
format's: types, ranges, a parent that is an earlier run, and every array
against the shapes the graph implies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..document import GraphView
from ._members import history_to_json, parse_history
from ._values import short
from ._weights import check_optimizer_state, check_weights
from .run_state import run_state_from_members, run_state_to_members

__all__ = [
    "MAX_CHECKPOINT_ARRAYS",
    "MAX_RUNS",
    "MAX_SAVED_CHECKPOINTS",
    "runs_from_members",
    "runs_to_members",
]

MAX_RUNS = 1000
"""Most runs a file holds."""
MAX_SAVED_CHECKPOINTS = 1000
"""Most checkpoints a file holds."""
MAX_CHECKPOINT_ARRAYS = 20_000
"""Most arrays ``checkpoints.npz`` holds (the loader's limit for any ``.npz``)."""
_MAX_NAME = 200
_PARTS = ("weights", "optimizer", "resume", "best")
_RUN_KEYS = ("name", "parent", "fork_epoch", "fork_batch", "history")
_CHECKPOINT_KEYS = ("run", "epoch", "batch", "batches", "step", "run_state")


def _whole(value: Any, low: int, what: str, where: str, error: type[Exception]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise error(f"{where} has {what} {short(value)}, not a whole number >= {low}.")
    return int(value)


def _check_run(
    value: Any, i: int, where: str, error: type[Exception]
) -> dict[str, Any]:
    at = f"{where} run {i}"
    if not isinstance(value, Mapping) or set(value) != set(_RUN_KEYS):
        raise error(f"{at} must be an object with exactly {', '.join(_RUN_KEYS)}.")
    name = value["name"]
    if not isinstance(name, str) or not 0 < len(name) <= _MAX_NAME:
        raise error(f"{at} has the name {short(name)}, not 1-200 characters of text.")
    parent = value["parent"]
    if parent is not None:
        parent = _whole(parent, 0, "the parent", at, error)
        if parent >= i:
            raise error(f"{at} names run {parent} as its parent, not an earlier run.")
    return {
        "name": name,
        "parent": parent,
        "fork_epoch": _whole(value["fork_epoch"], 0, "fork_epoch", at, error),
        "fork_batch": _whole(value["fork_batch"], 0, "fork_batch", at, error),
        "history": value["history"],
    }


def runs_to_members(
    runs: Sequence[Mapping[str, Any]],
    current: int,
    checkpoints: Sequence[Mapping[str, Any]] | None,
    view: GraphView,
    where: str,
    error: type[Exception],
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``runs.json`` content and ``checkpoints.npz`` arrays (empty without
    checkpoints).

    Parameters
    ----------
    runs : sequence of dict
        ``name``, ``parent``, ``fork_epoch``, ``fork_batch``, ``history``.
    current : int
        The run the file's weights belong to.
    checkpoints : sequence of dict or None
        ``run``, ``epoch``, ``batch``, ``batches``, ``step``, ``weights``,
        ``optimizer_state``, ``run_state`` (``nndesk.training.checkpoints``).

    Raises
    ------
    error
        One sentence naming the run or checkpoint at fault.
    """
    if not isinstance(runs, Sequence) or not 0 < len(runs) <= MAX_RUNS:
        raise error(f"{where} must be a list of 1 to {MAX_RUNS} runs.")
    plain_runs = []
    for i, run in enumerate(runs):
        checked = _check_run(run, i, where, error)
        checked["history"] = history_to_json(run["history"], f"{where} run {i} history")
        plain_runs.append(checked)
    current = _whole(current, 0, "the current run", where, error)
    if current >= len(runs):
        raise error(f"{where} names run {current} as current, of {len(runs)} runs.")
    plain: dict[str, Any] = {"current": current, "runs": plain_runs, "checkpoints": []}
    arrays: dict[str, np.ndarray] = {}
    for i, c in enumerate(checkpoints or ()):
        if i >= MAX_SAVED_CHECKPOINTS:
            raise error(f"{where} has more than {MAX_SAVED_CHECKPOINTS} checkpoints.")
        at = f"{where} checkpoint {i}"
        entry = {k: c[k] for k in _CHECKPOINT_KEYS if k != "run_state"}
        for key in ("run", "epoch", "batch", "step"):
            _whole(entry[key], 0, key, at, error)
        _whole(entry["batches"], 1, "batches", at, error)
        if entry["run"] >= len(runs):
            raise error(f"{at} belongs to run {entry['run']}, of {len(runs)} runs.")
        weights = dict(c["weights"])
        trainable = check_weights(view, weights, f"{at} weights", error, True)
        state = dict(c["optimizer_state"])
        check_optimizer_state(
            state, trainable, True, f"{at} optimizer state", error, True
        )
        arrays.update({f"{i}/weights/{k}": a for k, a in weights.items()})
        arrays.update({f"{i}/optimizer/{k}": a for k, a in state.items()})
        entry["run_state"] = None
        if c.get("run_state") is not None:
            run_plain, run_arrays = run_state_to_members(
                c["run_state"], view, weights, f"{at} run state", error
            )
            entry["run_state"] = run_plain
            arrays.update({f"{i}/{k}": a for k, a in run_arrays.items()})
        plain["checkpoints"].append(entry)
    return plain, arrays


def runs_from_members(
    data: Any,
    arrays: Mapping[str, np.ndarray],
    view: GraphView,
    name: str,
    error: type[Exception],
    allow_nonfinite: bool,
) -> tuple[list[dict[str, Any]], int, list[dict[str, Any]]]:
    """The runs, the current run and the checkpoints of a file.

    Raises
    ------
    error
        One sentence naming the file, the member and the value at fault.
    """
    where = f"{name}: runs.json"
    if not isinstance(data, Mapping) or set(data) != {"current", "runs", "checkpoints"}:
        raise error(f"{where} must be an object of current, runs and checkpoints.")
    raw_runs = data["runs"]
    if not isinstance(raw_runs, list) or not 0 < len(raw_runs) <= MAX_RUNS:
        raise error(f"{where} must list 1 to {MAX_RUNS} runs.")
    runs = []
    for i, raw in enumerate(raw_runs):
        run = _check_run(raw, i, where, error)
        run["history"] = parse_history(run["history"], f"{where} run {i}")
        runs.append(run)
    current = _whole(data["current"], 0, "the current run", where, error)
    if current >= len(runs):
        raise error(f"{where} names run {current} as current, of {len(runs)} runs.")
    raw_points = data["checkpoints"]
    if not isinstance(raw_points, list) or len(raw_points) > MAX_SAVED_CHECKPOINTS:
        raise error(f"{where} must list at most {MAX_SAVED_CHECKPOINTS} checkpoints.")
    groups: dict[int, dict[str, dict[str, np.ndarray]]] = {}
    for key, array in arrays.items():
        index, _, rest = key.partition("/")
        part, _, weight = rest.partition("/")
        if not index.isdigit() or part not in _PARTS or not weight:
            raise error(
                f"{name}: checkpoints.npz holds {key!r}, which is not "
                "'<checkpoint>/<weights|optimizer|resume|best>/<key>'."
            )
        groups.setdefault(int(index), {}).setdefault(part, {})[weight] = array
    if groups and max(groups) >= len(raw_points):
        raise error(
            f"{name}: checkpoints.npz holds arrays of checkpoint {max(groups)}, "
            f"but runs.json lists {len(raw_points)}."
        )
    checkpoints = []
    for i, raw in enumerate(raw_points):
        at = f"{where} checkpoint {i}"
        if not isinstance(raw, Mapping) or set(raw) != set(_CHECKPOINT_KEYS):
            raise error(f"{at} must have exactly {', '.join(_CHECKPOINT_KEYS)}.")
        entry: dict[str, Any] = {
            key: _whole(raw[key], 1 if key == "batches" else 0, key, at, error)
            for key in ("run", "epoch", "batch", "batches", "step")
        }
        if entry["run"] >= len(runs):
            raise error(f"{at} belongs to run {entry['run']}, of {len(runs)} runs.")
        parts = groups.get(i, {})
        weights = parts.get("weights", {})
        if not weights:
            raise error(f"{name}: checkpoints.npz has no weights of checkpoint {i}.")
        npz = f"{name}: checkpoints.npz checkpoint {i}"
        trainable = check_weights(view, weights, npz, error, allow_nonfinite)
        state = parts.get("optimizer", {})
        check_optimizer_state(state, trainable, True, npz, error, allow_nonfinite)
        entry["weights"], entry["optimizer_state"] = weights, state
        entry["run_state"] = None
        if raw["run_state"] is not None:
            sets = {
                f"{p}/{k}": a
                for p in ("resume", "best")
                for k, a in parts.get(p, {}).items()
            }
            entry["run_state"] = run_state_from_members(
                raw["run_state"], sets, view, weights, npz, error, allow_nonfinite
            )
        checkpoints.append(entry)
    return runs, current, checkpoints
