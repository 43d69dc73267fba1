"""Weight initializers: named recipes that draw arrays from an explicit Generator.

Fans follow Keras for a Dense kernel of shape ``(fan_in, fan_out)``; for
higher-rank kernels (``(*receptive_field, in, out)``, as convolutions will use)
both fans are multiplied by the receptive-field size. Every draw goes through the
``np.random.Generator`` passed in, so a seed fixes the weights bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .errors import ConfigError

__all__ = ["INITIALIZERS", "compute_fans", "get_initializer", "initialize"]

Initializer = Callable[[tuple[int, ...], np.random.Generator], np.ndarray]


def compute_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of this shape (Keras convention)."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def _uniform(limit: float, shape, rng) -> np.ndarray:
    return rng.uniform(-limit, limit, size=shape)


def _normal(std: float, shape, rng) -> np.ndarray:
    # Keras and PyTorch use a truncated normal for the *_normal schemes in some
    # versions; we use the plain normal with the scheme's variance, as
    # torch.nn.init.kaiming_normal_ and xavier_normal_ do.
    return rng.normal(0.0, std, size=shape)


def glorot_uniform(shape, rng):
    fan_in, fan_out = compute_fans(shape)
    return _uniform(math.sqrt(6.0 / (fan_in + fan_out)), shape, rng)


def glorot_normal(shape, rng):
    fan_in, fan_out = compute_fans(shape)
    return _normal(math.sqrt(2.0 / (fan_in + fan_out)), shape, rng)


def he_uniform(shape, rng):
    return _uniform(math.sqrt(6.0 / compute_fans(shape)[0]), shape, rng)


def he_normal(shape, rng):
    return _normal(math.sqrt(2.0 / compute_fans(shape)[0]), shape, rng)


def lecun_uniform(shape, rng):
    return _uniform(math.sqrt(3.0 / compute_fans(shape)[0]), shape, rng)


def lecun_normal(shape, rng):
    return _normal(math.sqrt(1.0 / compute_fans(shape)[0]), shape, rng)


def zeros(shape, rng):
    return np.zeros(shape)


def ones(shape, rng):
    return np.ones(shape)


_RECIPES: dict[str, Initializer] = {
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "lecun_uniform": lecun_uniform,
    "lecun_normal": lecun_normal,
    "zeros": zeros,
    "ones": ones,
}

INITIALIZERS: tuple[str, ...] = (*_RECIPES, "constant")
"""Initializer names; ``"constant"`` takes a ``value`` (``"constant:0.1"`` too)."""

ALIASES = {
    "xavier_uniform": "glorot_uniform",
    "xavier_normal": "glorot_normal",
    "kaiming_uniform": "he_uniform",
    "kaiming_normal": "he_normal",
}


def get_initializer(name: str, value: float | None = None) -> Initializer:
    """The initializer called ``name``: a function ``(shape, rng) -> float64 array``.

    Parameters
    ----------
    name
        One of ``INITIALIZERS`` (case-insensitive; ``xavier_*``/``kaiming_*`` are
        accepted aliases). ``"constant"`` fills with ``value`` (default 0); the
        spelling ``"constant:0.1"`` carries the value in the name.
    value
        The fill value of ``"constant"``.

    Raises
    ------
    ConfigError
        For an unknown name or a constant value that is not a number.
    """
    key = str(name).strip().lower()
    if key.startswith("constant"):
        head, _, tail = key.partition(":")
        if head == "constant":
            try:
                fill = float(tail) if tail else float(0.0 if value is None else value)
            except ValueError:
                raise ConfigError(
                    f"Initializer '{name}': the constant value must be a number."
                ) from None
            return lambda shape, rng: np.full(shape, fill)
    key = ALIASES.get(key, key)
    if key not in _RECIPES:
        raise ConfigError(
            f"Unknown initializer '{name}'; valid initializers are "
            f"{', '.join(INITIALIZERS)}."
        )
    return _RECIPES[key]


def initialize(
    name: str,
    shape: tuple[int, ...],
    rng: np.random.Generator,
    dtype: np.dtype | type = np.float32,
    value: float | None = None,
) -> np.ndarray:
    """Draw a fresh ``shape`` array with initializer ``name``, cast to ``dtype``.

    The draw is made in float64 and then cast, so float32 and float64 models built
    from the same seed start from the same (rounded) weights.
    """
    return np.asarray(get_initializer(name, value)(tuple(shape), rng)).astype(dtype)
