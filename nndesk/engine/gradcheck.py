"""Finite-difference gradient checks in float64: the one implementation the test
suite and the app's Training > Check gradients command share.

The scalar checked for a model is ``sum_k sum(w_k * output_k)`` over its outputs,
with every ``w_k`` drawn once from ``seed``: its gradient with respect to the
outputs is ``w_k`` itself, so ``Model.backward(w)`` gives the analytic gradients of
every parameter and input, which central differences of the scalar then check.
The model runs in training mode (Dropout active); its generator is reset to
``seed`` before every pass, so each pass draws the same masks.

How close is close: for a correct layer in float64 with ``eps = 1e-6`` the
relative error (``relative_error``) is typically below 1e-7; between 1e-7 and
1e-4 is suspicious (a kink of ReLU or max pooling crossed by the perturbation can
cause it); above 1e-4 the backward pass is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ConfigError

__all__ = [
    "GOOD_ERROR",
    "WRONG_ERROR",
    "ArrayCheck",
    "GradientCheck",
    "GradientPair",
    "check_model",
    "model_gradients",
    "numerical_gradient",
    "relative_error",
]

GOOD_ERROR = 1e-7
"""Relative errors up to this are what float64 central differences reach."""
WRONG_ERROR = 1e-4
"""Relative errors above this mean the analytic gradient is wrong."""


def numerical_gradient(
    f: Callable[[], float],
    x: np.ndarray,
    eps: float = 1e-6,
    indices: np.ndarray | None = None,
) -> np.ndarray:
    """Central-difference gradient of the scalar ``f()`` with respect to ``x``.

    Parameters
    ----------
    f
        Callable with no arguments returning a scalar; it must read ``x`` (the
        same array object) each time it is called.
    x
        float64 contiguous array perturbed in place, one element at a time, and
        restored.
    eps
        Step of the central difference.
    indices
        Flat indices of the elements to differentiate; None: all of them.

    Returns
    -------
    np.ndarray
        float64, shaped like ``x`` (``indices`` None) or ``(len(indices),)``.
    """
    if x.dtype != np.float64:
        raise TypeError(f"gradient checks need float64 arrays, got {x.dtype}")
    flat = x.reshape(-1)  # a view for contiguous x, so writes reach f
    if flat.size and not np.shares_memory(flat, x):
        raise TypeError("gradient checks need a contiguous array")
    which = np.arange(flat.size) if indices is None else np.asarray(indices)
    grad = np.zeros(len(which), dtype=np.float64)
    for k, i in enumerate(which):
        old = flat[i]
        flat[i] = old + eps
        f_plus = float(f())
        flat[i] = old - eps
        f_minus = float(f())
        flat[i] = old
        grad[k] = (f_plus - f_minus) / (2.0 * eps)
    return grad.reshape(x.shape) if indices is None else grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """``|a - n| / (|a| + |n|)`` with Euclidean norms over the arrays; 0 when
    both are zero (a layer no gradient reaches, checked as such)."""
    a = np.asarray(analytic, dtype=np.float64).reshape(-1)
    n = np.asarray(numeric, dtype=np.float64).reshape(-1)
    scale = float(np.linalg.norm(a) + np.linalg.norm(n))
    diff = float(np.linalg.norm(a - n))
    if scale == 0.0:
        return 0.0 if diff == 0.0 else float("inf")
    return diff / scale


@dataclass(frozen=True)
class GradientPair:
    """The analytic and numerical gradient of one array at its checked elements.

    Attributes
    ----------
    key : str
        ``"<layer>/<param>"`` for a parameter, ``"input <k>"`` for model input k.
    layer : str
        The layer's name (the Input's name for an input gradient).
    size : int
        Elements of the whole array.
    indices : np.ndarray
        ``(m,)`` flat indices of the checked elements.
    analytic, numeric : np.ndarray
        ``(m,)`` float64 gradients at those elements.
    """

    key: str
    layer: str
    size: int
    indices: np.ndarray
    analytic: np.ndarray
    numeric: np.ndarray

    @property
    def relative_error(self) -> float:
        return relative_error(self.analytic, self.numeric)

    @property
    def max_abs_error(self) -> float:
        if not self.analytic.size:
            return 0.0
        return float(np.max(np.abs(self.analytic - self.numeric)))


@dataclass(frozen=True)
class ArrayCheck:
    """One row of a check's report: an array, how much of it was checked, its error."""

    key: str
    layer: str
    checked: int
    size: int
    relative_error: float
    max_abs_error: float


@dataclass(frozen=True)
class GradientCheck:
    """The result of ``check_model``: one ``ArrayCheck`` per input and parameter."""

    arrays: tuple[ArrayCheck, ...]
    batch: int
    eps: float

    def per_layer(self) -> dict[str, float]:
        """Layer name -> the largest relative error over its arrays, in model order
        (an Input's row is its input gradient)."""
        out: dict[str, float] = {}
        for row in self.arrays:
            out[row.layer] = max(out.get(row.layer, 0.0), row.relative_error)
        return out

    @property
    def worst(self) -> float:
        """The largest relative error of all (0 for a model without arrays)."""
        return max((row.relative_error for row in self.arrays), default=0.0)


def _entries(size: int, limit: int | None, rng: np.random.Generator) -> np.ndarray:
    if limit is None or size <= limit:
        return np.arange(size)
    return np.sort(rng.choice(size, size=int(limit), replace=False))


def model_gradients(
    model: Any,
    x: np.ndarray | Sequence[np.ndarray],
    *,
    seed: int = 0,
    eps: float = 1e-6,
    max_entries: int | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[GradientPair]:
    """Analytic and central-difference gradients of a built float64 model.

    Parameters
    ----------
    model
        A built ``Model`` computing in float64.
    x
        ``(batch, *input_shape)`` float inputs, or one array per model input.
    seed
        Draws the output weights ``w``, the Dropout masks and (``max_entries``)
        the checked elements.
    eps
        Step of the central differences.
    max_entries
        Check at most this many elements of each array (drawn at random without
        repetition); None checks every element.
    should_stop
        Asked before each array; True ends the check early (the pairs so far).

    Returns
    -------
    list of GradientPair
        The model inputs first, then every parameter in model order.

    Raises
    ------
    ConfigError
        For a model that does not compute in float64.
    """
    if np.dtype(model.dtype) != np.float64:
        raise ConfigError(
            f"A gradient check needs a float64 model; '{model.name}' computes in "
            f"{np.dtype(model.dtype).name}."
        )
    # Token ids (an Embedding's input) stay integers and get no input check.
    xs = [
        a if np.asarray(a).dtype.kind in "iu" else np.ascontiguousarray(a, np.float64)
        for a in (x if isinstance(x, (list, tuple)) else [x])
    ]

    def run() -> list[np.ndarray]:
        model.set_rng(np.random.default_rng(seed))
        return model.forward(xs, training=True)

    ys = run()
    rng = np.random.default_rng(seed + 1)
    ws = [rng.standard_normal(y.shape) for y in ys]

    def f() -> float:
        return float(sum(np.sum(w * y) for w, y in zip(ws, run(), strict=True)))

    f()
    dxs = model.backward([w.copy() for w in ws])
    # Read now: the numerical passes overwrite the layers' caches, not the grads,
    # but a copy keeps the pairs independent of the model.
    grads = {k: np.array(g, dtype=np.float64) for k, g in model.gradients().items()}
    pick = np.random.default_rng(seed + 2)
    arrays: list[tuple[str, str, np.ndarray, np.ndarray]] = [
        (f"input {k}", str(name), xi, np.array(dx, dtype=np.float64))
        for k, (name, xi, dx) in enumerate(zip(model.input_names, xs, dxs, strict=True))
        if dx is not None and xi.dtype == np.float64
    ]
    arrays += [
        (key, key.rpartition("/")[0], p, grads[key])
        for key, p in model.trainable_weights().items()
    ]
    pairs: list[GradientPair] = []
    for key, layer, array, analytic in arrays:
        if should_stop is not None and should_stop():
            break
        idx = _entries(array.size, max_entries, pick)
        numeric = numerical_gradient(f, array, eps, idx)
        pairs.append(
            GradientPair(
                key, layer, int(array.size), idx, analytic.reshape(-1)[idx], numeric
            )
        )
    return pairs


def check_model(
    model: Any,
    x: np.ndarray | Sequence[np.ndarray],
    *,
    seed: int = 0,
    eps: float = 1e-6,
    max_entries: int | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> GradientCheck:
    """``model_gradients`` summed up: the relative error of every array.

    See ``model_gradients`` for the parameters; the result's ``per_layer()``
    gives the worst relative error of each layer.
    """
    pairs = model_gradients(
        model, x, seed=seed, eps=eps, max_entries=max_entries, should_stop=should_stop
    )
    xs = x if isinstance(x, (list, tuple)) else [x]
    rows = tuple(
        ArrayCheck(
            key=p.key,
            layer=p.layer,
            checked=len(p.indices),
            size=p.size,
            relative_error=p.relative_error,
            max_abs_error=p.max_abs_error,
        )
        for p in pairs
    )
    return GradientCheck(arrays=rows, batch=len(xs[0]), eps=float(eps))
