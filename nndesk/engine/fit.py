"""The epoch loop behind ``Model.fit``: batches, callbacks, validation, schedules
(once per epoch, or before every batch for a ``per_step`` schedule)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .callbacks import Callback, History
from .data import (
    check_batch_size,
    check_finite,
    prepare_inputs,
    prepare_targets,
)
from .errors import ConfigError, NumericalError

if TYPE_CHECKING:
    from .model import Model

log = logging.getLogger(__name__)


def run_fit(
    model: Model,
    x: Any,
    y: Any,
    epochs: int,
    batch_size: int,
    shuffle: bool,
    validation_data: tuple[Any, Any] | None,
    callbacks: Sequence[Callback],
    verbose: int,
    initial_epoch: int,
) -> History:
    """``Model.fit``; see its docstring."""
    model.require_compiled()
    batch_size = check_batch_size(batch_size)
    xs = prepare_inputs(model, x)
    check_finite(model, xs)
    n = len(xs[0])
    ys = prepare_targets(model, y, n)
    val = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ConfigError("validation_data must be a pair (x_val, y_val).")
        xv = prepare_inputs(model, validation_data[0], what="validation x")
        check_finite(model, xv, what="validation x")
        val = (xv, prepare_targets(model, validation_data[1], len(xv[0])))
    history = History()
    model.history = history
    cbs: list[Callback] = [history, *callbacks]
    for cb in cbs:
        cb.set_model(model)
    model.stop_training = False
    logs: dict[str, float] = {}
    for cb in cbs:
        cb.on_train_begin({})
    schedule = model.lr_schedule
    per_step = schedule is not None and bool(getattr(schedule, "per_step", False))
    for epoch in range(int(initial_epoch), int(epochs)):
        if schedule is not None and not per_step:
            model.optimizer.lr = schedule(epoch, model.base_lr)  # type: ignore[union-attr]
        for cb in cbs:
            cb.on_epoch_begin(epoch, {})
        logs = _fit_epoch(model, epoch, xs, ys, batch_size, shuffle, cbs, per_step)
        if val is not None:
            logs.update({f"val_{k}": v for k, v in model.evaluate_arrays(*val, 256).items()})
        if model.lr_schedule is not None:
            logs["lr"] = float(model.optimizer.lr)  # type: ignore[union-attr]
        for cb in cbs:
            cb.on_epoch_end(epoch, logs)
        if verbose:
            text = " - ".join(f"{k}: {v:.4g}" for k, v in logs.items())
            log.info("Epoch %d/%d - %s", epoch + 1, epochs, text)
        if model.stop_training:
            break
    for cb in cbs:
        cb.on_train_end(logs)
    return history


def _fit_epoch(
    model: Model,
    epoch: int,
    xs: list[np.ndarray],
    ys: list[np.ndarray],
    batch_size: int,
    shuffle: bool,
    cbs: Sequence[Callback],
    per_step: bool = False,
) -> dict[str, float]:
    n = len(xs[0])
    batches = max(1, -(-n // batch_size))
    order = model.rng.permutation(n) if shuffle else None
    sums = [0.0] * (len(model.outputs) + 1)
    seen = 0
    # The epoch's predictions, for the metrics: written in place batch by batch
    # rather than kept per batch and joined (which held them twice).
    preds = (
        [np.empty((n, *s), dtype=model.dtype) for s in model.output_shapes]
        if any(model.metric_functions)
        else None
    )
    batch_logs: dict[str, float] = {}
    gather = model.batch_buffers.gather
    for b, start in enumerate(range(0, n, batch_size)):
        stop = min(start + batch_size, n)
        m = stop - start
        idx = slice(start, stop) if order is None else order[start:stop]
        xb = [gather(a, idx, ("x", k)) for k, a in enumerate(xs)]
        yb = [gather(a, idx, ("y", k)) for k, a in enumerate(ys)]
        batch_logs = {"size": float(m)}
        model.batch_rows = idx
        if per_step:  # before the callbacks, which may still change it
            model.optimizer.lr = model.lr_schedule.rate(  # type: ignore[union-attr]
                epoch, b, batches, model.base_lr
            )
        for cb in cbs:
            cb.on_batch_begin(b, batch_logs)
        try:
            total, parts, outs = model.train_step(xb, yb)
        except NumericalError as exc:
            raise NumericalError(f"Epoch {epoch + 1}, batch {b + 1}: {exc}") from None
        sums[0] += m * total
        for k, part in enumerate(parts):
            sums[k + 1] += m * part
        if preds is not None:
            for k, o in enumerate(outs):
                preds[k][seen : seen + m] = o
        seen += m
        batch_logs = {"size": float(m), **model.loss_logs(total, parts)}
        for cb in cbs:
            cb.on_batch_end(b, batch_logs)
        if model.stop_training:
            break
    logs = model.loss_logs(sums[0] / seen, [v / seen for v in sums[1:]])
    if preds is not None and seen:
        if order is None:
            y_seen = [a[:seen] for a in ys]
        else:
            y_seen = [a[order[:seen]] for a in ys]
        logs.update(model.metric_logs(y_seen, [p[:seen] for p in preds]))
    return logs
