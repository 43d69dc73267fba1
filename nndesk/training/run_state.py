"""What a trainer carries from one run to the next, so that continuing is exact.

``Trainer.run_state()`` exports it and ``Trainer(..., run_state=...)`` takes it back
(the layout is described in ``nndesk.io.run_state``, which also checks it). This
module holds the two pieces the trainer needs around it: a digest that ties a run
state to the weights it was taken with, and the decision of what a carried state
changes at the start of the next run.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..engine.callbacks import EarlyStopping
from ..engine.errors import ConfigError
from ..engine.model import Model
from ..io.run_state import WEIGHT_SETS, check_run_state

log = logging.getLogger(__name__)

__all__ = ["checked_run_state", "carry_on", "same_weights", "weights_sha256"]


def weights_sha256(weights: Mapping[str, np.ndarray]) -> str:
    """SHA-256 of a set of weights: keys, dtypes, shapes and bytes, in key order.

    Parameters
    ----------
    weights : Mapping[str, np.ndarray]
        ``"<node_id>/<param>"`` -> array (``Model.get_weights()``).

    Returns
    -------
    str
        64 lowercase hex digits; equal weights (bit for bit) give equal digests.
    """
    h = hashlib.sha256()
    for key in sorted(weights):
        a = np.ascontiguousarray(weights[key])
        h.update(f"{key}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.data)
    return h.hexdigest()


def same_weights(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray]) -> bool:
    """Whether two weight sets are equal bit for bit (keys, dtypes, values)."""
    return a.keys() == b.keys() and all(
        a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]) for k in a
    )


def checked_run_state(value: Mapping[str, Any]) -> dict[str, Any]:
    """A run state handed to a trainer, checked, with its weight sets copied.

    Raises
    ------
    ConfigError
        For a malformed run state, naming the value at fault.
    """
    state = check_run_state(value, "The run state", ConfigError)
    for name in WEIGHT_SETS:
        group = value.get(name) or {}
        if not isinstance(group, Mapping) or not all(
            isinstance(a, np.ndarray) for a in group.values()
        ):
            raise ConfigError(f"The run state's {name} must be a dict of arrays.")
        state[name] = {str(k): np.array(a) for k, a in group.items()}
    return state


def carry_on(
    state: Mapping[str, Any],
    model: Model,
    epoch: int,
    learning_rate: float,
    early_stopping: EarlyStopping | None,
) -> float | None:
    """Apply a carried run state at the start of a run; the base rate to use.

    The state applies only to the weights it was taken with (same digest) at the
    epoch it was taken at; otherwise it is dropped (logged) and the run starts
    from the model as it is. When it applies:

    - the model gets the weights the last run would have gone on with
      (``resume_weights``), unless early stopping ended that run: then training
      continues from the best weights it put back;
    - early stopping (watching the same metric) keeps its best value, best epoch,
      best weights and the epochs it has waited; after an early stop the wait
      starts again at 0, so the new run has ``patience`` epochs to do better;
    - a learning rate changed during the last run stays, unless the
      ``learning_rate`` setting was changed since.

    Parameters
    ----------
    state : Mapping
        From ``checked_run_state``.
    model : Model
        The model about to train.
    epoch : int
        The first epoch of the run (the history's length).
    learning_rate : float
        The ``learning_rate`` setting of this run.
    early_stopping : EarlyStopping or None
        This run's callback, before ``fit`` starts.

    Returns
    -------
    float or None
        The base learning rate to train with, or None to keep the setting's.
    """
    if state["epoch"] != epoch:
        log.info(
            "Run state of epoch %d dropped: the history has %d epochs.",
            state["epoch"],
            epoch,
        )
        return None
    weights = model.get_weights()
    if weights_sha256(weights) != state["weights_sha256"]:
        log.info("Run state dropped: the weights changed since it was taken.")
        return None
    if state["batch"]:
        log.info(
            "Epoch %d restarts: %d of its batches were applied before the last run "
            "stopped, so this run does not match one uninterrupted run.",
            epoch + 1,
            state["batch"],
        )
    es_state = state["early_stopping"]
    fired = es_state is not None and es_state["stopped_epoch"] is not None
    if state["resume_weights"] and not fired:
        model.set_weights(state["resume_weights"])
    if early_stopping is not None and es_state is not None:
        if es_state["monitor"] == early_stopping.monitor:
            kept = dict(es_state, wait=0) if fired else dict(es_state)
            found = es_state["best"] is not None
            best = state["best_weights"] or (weights if found else None)
            early_stopping.set_state(kept, best)
        else:
            log.info(
                "Early stopping starts afresh: it watched %s and now watches %s.",
                es_state["monitor"],
                early_stopping.monitor,
            )
    if learning_rate == state["learning_rate_setting"]:
        return float(state["learning_rate"])
    return None
