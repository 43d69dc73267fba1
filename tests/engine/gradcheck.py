"""Finite-difference gradient checks: central differences in float64 for any callable.

Two levels of use:

- ``numerical_gradient(f, x)`` / ``assert_gradient(f, x, analytic)`` check the
  gradient of any scalar function ``f()`` with respect to an array ``x`` that ``f``
  reads (``x`` is perturbed in place and restored), so losses, regularisers and
  single layers all fit.
- ``check_layer_gradients(layer, inputs)`` builds the scalar ``sum(w * layer(x))``
  with a fixed random ``w`` and compares ``layer.backward(w)`` (input gradients and
  ``layer.grads``) against central differences for every input and parameter.

Import it from a test in this folder with ``from gradcheck import ...``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = [
    "assert_gradient",
    "check_layer_gradients",
    "check_model_gradients",
    "numerical_gradient",
]


def numerical_gradient(
    f: Callable[[], float], x: np.ndarray, eps: float = 1e-6
) -> np.ndarray:
    """Central-difference gradient of the scalar ``f()`` with respect to ``x``.

    Parameters
    ----------
    f
        Callable with no arguments returning a scalar; it must read ``x`` (the
        same array object) each time it is called.
    x
        float64 array perturbed in place, one element at a time, and restored.
    eps
        Step of the central difference.

    Returns
    -------
    np.ndarray
        float64 array shaped like ``x``.
    """
    if x.dtype != np.float64:
        raise TypeError(f"gradient checks need float64 arrays, got {x.dtype}")
    grad = np.zeros(x.shape, dtype=np.float64)
    flat = x.reshape(-1)  # a view for contiguous x, so writes reach f
    if not np.shares_memory(flat, x):
        raise TypeError("gradient checks need a contiguous array")
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        f_plus = float(f())
        flat[i] = old - eps
        f_minus = float(f())
        flat[i] = old
        grad.reshape(-1)[i] = (f_plus - f_minus) / (2.0 * eps)
    return grad


def assert_gradient(
    f: Callable[[], float],
    x: np.ndarray,
    analytic: np.ndarray,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    eps: float = 1e-6,
    what: str = "gradient",
) -> None:
    """Assert that ``analytic`` matches the central-difference gradient of ``f``.

    Raises
    ------
    AssertionError
        Naming ``what``, the worst element, both values and the tolerances.
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    if analytic.shape != x.shape:
        raise AssertionError(
            f"{what}: analytic gradient has shape {analytic.shape}, "
            f"the array has shape {x.shape}"
        )
    numeric = numerical_gradient(f, x, eps)
    err = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    if err.size and err.max() > 0:
        i = np.unravel_index(int(np.argmax(err)), err.shape)
        raise AssertionError(
            f"{what}: mismatch at index {tuple(int(k) for k in i)}: analytic "
            f"{analytic[i]!r}, numerical {numeric[i]!r} (rtol={rtol}, atol={atol}); "
            f"max abs diff {np.abs(analytic - numeric).max():.3g}"
        )


def check_layer_gradients(
    layer,
    inputs: Sequence[np.ndarray],
    *,
    training: bool = True,
    seed: int = 0,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    eps: float = 1e-6,
) -> None:
    """Check a built float64 layer's input and parameter gradients.

    The scalar checked is ``sum(w * layer.forward(inputs, training))`` with ``w``
    drawn once from ``seed``. Before every forward pass ``layer.rng`` is reset to a
    generator seeded with ``seed`` so random layers (Dropout) draw the same mask
    each time.

    Parameters
    ----------
    layer
        A layer built with ``dtype=np.float64``.
    inputs
        One float64 array per input port, each ``(batch, *input_shape)``.
    """
    inputs = [np.ascontiguousarray(a, dtype=np.float64) for a in inputs]

    def run() -> np.ndarray:
        layer.rng = np.random.default_rng(seed)
        return layer.forward(inputs, training)

    y = run()
    w = np.random.default_rng(seed + 1).standard_normal(y.shape)

    def f() -> float:
        return float(np.sum(w * run()))

    f()
    dxs = layer.backward(w.copy())
    # Parameter gradients are read now, before numerical passes overwrite caches.
    grads = {k: np.array(g, dtype=np.float64) for k, g in layer.grads.items()}
    dxs = [None if d is None else np.array(d, dtype=np.float64) for d in dxs]
    if len(dxs) != len(inputs):
        raise AssertionError(
            f"{layer.label}: backward returned {len(dxs)} gradients "
            f"for {len(inputs)} inputs"
        )
    for k, (x, dx) in enumerate(zip(inputs, dxs, strict=True)):
        assert_gradient(
            f, x, dx, rtol=rtol, atol=atol, eps=eps, what=f"{layer.label} input {k}"
        )
    for key, p in layer.params.items():
        assert_gradient(
            f, p, grads[key], rtol=rtol, atol=atol, eps=eps, what=f"{layer.label} {key}"
        )


def check_model_gradients(
    model,
    x: np.ndarray | Sequence[np.ndarray],
    *,
    seed: int = 0,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    eps: float = 1e-6,
) -> None:
    """Check a built float64 model end to end: inputs and every parameter.

    The scalar is ``sum_k sum(w_k * output_k)`` over the model outputs (training
    mode, Dropout masks fixed by resetting the model's generator before each pass).
    """
    xs = [
        np.ascontiguousarray(a, dtype=np.float64)
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
    dxs = [
        np.array(d, dtype=np.float64) for d in model.backward([w.copy() for w in ws])
    ]
    grads = {k: np.array(g, dtype=np.float64) for k, g in model.gradients().items()}
    for k, (xi, dx) in enumerate(zip(xs, dxs, strict=True)):
        assert_gradient(f, xi, dx, rtol=rtol, atol=atol, eps=eps, what=f"input {k}")
    for key, p in model.trainable_weights().items():
        assert_gradient(f, p, grads[key], rtol=rtol, atol=atol, eps=eps, what=key)
