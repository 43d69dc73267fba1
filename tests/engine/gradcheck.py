"""Finite-difference gradient checks: central differences in float64 for any callable.

Two levels of use:

- ``numerical_gradient(f, x)`` / ``assert_gradient(f, x, analytic)`` check the
  gradient of any scalar function ``f()`` with respect to an array ``x`` that ``f``
  reads (``x`` is perturbed in place and restored), so losses, regularisers and
  single layers all fit.
- ``check_layer_gradients(layer, inputs)`` builds the scalar ``sum(w * layer(x))``
  with a fixed random ``w`` and compares ``layer.backward(w)`` (input gradients and
  ``layer.grads``) against central differences for every input and parameter.

Import it from a test in this folder with ``from gradcheck import ...``. The
differences themselves are computed by ``nndesk.engine.gradcheck`` (the app's
Training > Check gradients runs the same code); this module adds the assertions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from nndesk.engine.gradcheck import GradientPair, model_gradients, numerical_gradient

__all__ = [
    "assert_gradient",
    "check_layer_gradients",
    "check_model_gradients",
    "numerical_gradient",
]


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
) -> list[GradientPair]:
    """Check a built float64 model end to end: inputs and every parameter.

    The scalar is ``sum_k sum(w_k * output_k)`` over the model outputs (training
    mode, Dropout masks fixed by resetting the model's generator before each pass);
    ``nndesk.engine.gradcheck.model_gradients`` computes both gradients. Returns
    the pairs it checked (every element of every array).
    """
    pairs = model_gradients(model, x, seed=seed, eps=eps)
    for pair in pairs:
        numeric, analytic = pair.numeric, pair.analytic
        err = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
        if err.size and err.max() > 0:
            i = int(np.argmax(err))
            raise AssertionError(
                f"{pair.key}: mismatch at flat index {int(pair.indices[i])}: analytic "
                f"{analytic[i]!r}, numerical {numeric[i]!r} (rtol={rtol}, "
                f"atol={atol}); max abs diff {pair.max_abs_error:.3g}"
            )
    return pairs
