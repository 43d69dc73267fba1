"""A model's weights as arrays: packed into one buffer at build, copied in by key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .errors import ConfigError, ShapeError
from .layers.base import Layer


def pack_parameters(layers: Sequence[Layer], dtype: np.dtype) -> None:
    """Move every parameter into one contiguous buffer, and every gradient into
    another, as views in weight-key order.

    The optimizer recognises the layout and updates all weights in one kernel
    call instead of one per array, which is most of a small network's step.

    Parameters
    ----------
    layers
        Built layers, in the model's order; their ``params`` and ``grads`` dicts
        are rebound to the views (values kept, gradients zeroed).
    dtype
        The model dtype (float32 or float64) of both buffers.
    """
    refs = [(layer, k) for layer in layers for k in layer.params]
    total = sum(layer.params[k].size for layer, k in refs)
    flat_p = np.empty(total, dtype=dtype)
    flat_g = np.zeros(total, dtype=dtype)
    start = 0
    for layer, k in refs:
        p = layer.params[k]
        stop = start + p.size
        view = flat_p[start:stop].reshape(p.shape)
        view[...] = p
        layer.params[k] = view
        layer.grads[k] = flat_g[start:stop].reshape(p.shape)
        start = stop


def assign_weights(
    model_name: str,
    targets: Mapping[str, np.ndarray],
    weights: Mapping[str, Any],
    strict: bool,
) -> None:
    """Copy ``weights`` into ``targets`` (weight key -> the model's live array) by
    key, all or nothing; ``Model.set_weights`` documents the rules and errors, and
    ``model_name`` is named in them."""
    if strict:
        unknown = [k for k in weights if k not in targets]
        missing = [k for k in targets if k not in weights]
        if unknown:
            raise ConfigError(
                f"set_weights: model '{model_name}' has no weight "
                f"'{unknown[0]}' (it has {', '.join(targets)})."
            )
        if missing:
            raise ConfigError(
                f"set_weights: weight '{missing[0]}' is missing "
                f"({len(missing)} missing in all)."
            )
    pending = []
    for key, value in weights.items():
        if key not in targets:
            continue
        arr = np.asarray(value)
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise ConfigError(f"set_weights: '{key}' holds {arr.dtype} values.")
        if arr.shape != targets[key].shape:
            raise ShapeError(
                f"set_weights: '{key}' has shape {targets[key].shape} in the "
                f"model but {arr.shape} in the weights."
            )
        pending.append((targets[key], arr))
    for target, arr in pending:
        target[...] = arr
