"""The GAN state of a network file (``gan.json``, format 5).

A GAN file (a document with a Noise node, docs/gan.md) keeps both networks'
weights in ``weights.npz`` (node ids tell them apart) and both optimizers'
moments in ``optimizer.npz``, each keyed by its own weights; ``optimizer.npz``'s
``iterations`` is the discriminator optimizer's. ``gan.json`` holds the rest of
what continuing the run exactly needs::

    {
        "generator_iterations": 120,   # the generator optimizer's step count
        "d_steps_done": 240,           # discriminator updates so far
        "g_steps_done": 120,           # generator updates so far
        "since_generator_step": 0,     # schedule: D steps since the last G step
        "epoch": 3,                    # epochs finished
        "batch": 5,                    # batches done in the epoch under way
        "partial": {"d_loss": [3.1, 5], ...},  # sum and count of each log so far
        "lr_factor": 0.5               # optional: both learning rates scaled mid-run
    }

Every draw of a GAN run is a function of the seed and these counters, so
nothing random is stored. The checks here are the file format's (keys, types,
ranges); whether the state fits the document is the session's business.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ._values import check_keys, short

__all__ = [
    "GAN_OPTIONAL_KEYS",
    "GAN_PARTIAL_KEYS",
    "GAN_STATE_KEYS",
    "check_gan_state",
]

GAN_STATE_KEYS: tuple[str, ...] = (
    "generator_iterations",
    "d_steps_done",
    "g_steps_done",
    "since_generator_step",
    "epoch",
    "batch",
    "partial",
)
"""The keys of ``gan.json`` that are required."""

GAN_OPTIONAL_KEYS: tuple[str, ...] = ("lr_factor",)
"""Keys ``gan.json`` may hold: ``lr_factor``, the factor both learning rates were
scaled by during the run (a rate changed in the window while training)."""

GAN_PARTIAL_KEYS: tuple[str, ...] = ("d_loss", "g_loss", "d_real", "d_fake")
"""The logs whose running sums ``partial`` may hold."""

_MAX_COUNT = 1 << 53  # exact in a float, far beyond any run


def check_gan_state(value: Any, where: str, error: type[Exception]) -> dict[str, Any]:
    """``value`` checked as a GAN state, as plain ints and floats.

    Raises
    ------
    error
        One sentence naming ``where`` and the bad key or value.
    """
    if not isinstance(value, Mapping):
        raise error(f"{where} must be an object, not {short(value)}.")
    check_keys(value, GAN_STATE_KEYS + GAN_OPTIONAL_KEYS, GAN_STATE_KEYS, where, error)
    out: dict[str, Any] = {}
    for key in GAN_STATE_KEYS[:-1]:
        out[key] = _count(value[key], f"{where} {key}", error)
    partial = value["partial"]
    if not isinstance(partial, Mapping):
        raise error(f"{where} partial must be an object, not {short(partial)}.")
    check_keys(partial, GAN_PARTIAL_KEYS, (), f"{where} partial", error)
    sums: dict[str, list[float | int]] = {}
    for key, pair in partial.items():
        what = f"{where} partial {key}"
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise error(f"{what} must be [sum, count], not {short(pair)}.")
        total = pair[0]
        if (
            isinstance(total, bool)
            or not isinstance(total, int | float)
            or not math.isfinite(total)
        ):
            raise error(f"{what} has the sum {short(total)}, not a finite number.")
        sums[key] = [float(total), _count(pair[1], f"{what} count", error)]
    out["partial"] = sums
    if "lr_factor" in value:
        factor = value["lr_factor"]
        if (
            isinstance(factor, bool)
            or not isinstance(factor, int | float)
            or not math.isfinite(factor)
            or not 0 < factor <= 1e6
        ):
            raise error(
                f"{where} lr_factor must be a number above 0 and at most 1e6, "
                f"not {short(factor)}."
            )
        out["lr_factor"] = float(factor)
    return out


def _count(value: Any, what: str, error: type[Exception]) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise error(f"{what} must be a whole number, not {short(value)}.")
    if not 0 <= value <= _MAX_COUNT:
        raise error(f"{what} is {short(value)}, outside 0 to {_MAX_COUNT:,}.")
    return int(value)
