"""Kernels: the Numba loops and their NumPy twins agree; Numba loads lazily."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from nndesk.engine import kernels
from nndesk.engine.kernels import layers as K

numba = pytest.importorskip("numba")

SPECIAL = np.array([0.0, -0.0, 1e-6, -1e-6, 30.0, -30.0, 100.0, -100.0, 700.0, -700.0])


def _data(dtype, rng, n=257):
    return np.concatenate([rng.normal(scale=4, size=n), SPECIAL]).astype(dtype)


# (kernel, argument builder) -> the output array is the last argument.
def _elementwise_cases(dtype, rng):
    z, dy = _data(dtype, rng), _data(dtype, rng)
    y = np.tanh(z)
    sig = 1 / (1 + np.exp(-np.clip(z, -50, 50)))
    out = np.empty_like(z)
    return {
        "relu_backward": (K.relu_backward, (dy, np.maximum(z, 0), out)),
        "leaky_relu_forward": (K.leaky_relu_forward, (z, 0.1, out)),
        "leaky_relu_backward": (K.leaky_relu_backward, (dy, z, 0.1, out)),
        "elu_forward": (K.elu_forward, (z, 1.5, out)),
        "elu_backward": (K.elu_backward, (dy, z, 1.5, out)),
        "tanh_backward": (K.tanh_backward, (dy, y, out)),
        "sigmoid_forward": (K.sigmoid_forward, (z, out)),
        "sigmoid_backward": (K.sigmoid_backward, (dy, sig.astype(dtype), out)),
        "gelu_forward": (K.gelu_forward, (z, out)),
        "gelu_backward": (K.gelu_backward, (dy, z, out)),
        "silu_forward": (K.silu_forward, (z, out)),
        "silu_backward": (K.silu_backward, (dy, z, out)),
        "softplus_forward": (K.softplus_forward, (z, out)),
        "softplus_backward": (K.softplus_backward, (dy, z, out)),
        "softmax_forward": (
            K.softmax_forward,
            (z[:264].reshape(8, 33), out[:264].reshape(8, 33)),
        ),
        "softmax_backward": (
            K.softmax_backward,
            (
                dy[:264].reshape(8, 33),
                np.full((8, 33), 1 / 33, dtype),
                out[:264].reshape(8, 33),
            ),
        ),
    }


def _run(kern, args, use_numba):
    """Call one implementation of ``kern`` on copies of ``args``; return the output."""
    args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    kernels.set_numba_enabled(use_numba)
    try:
        kern(*args)
        assert kern.uses_numba == use_numba
    finally:
        kernels.set_numba_enabled(None)
    return args[-1]


CASES = list(_elementwise_cases(np.float64, np.random.default_rng(0)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", CASES)
def test_numba_and_numpy_agree(name, dtype):
    kern, args = _elementwise_cases(dtype, np.random.default_rng(42))[name]
    a = _run(kern, args, use_numba=False)
    b = _run(kern, args, use_numba=True)
    assert a.dtype == b.dtype == dtype
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(b))
    # Values are O(1); float32 loops may round intermediate results differently.
    tol = 2e-6 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_kernel_agrees(dtype):
    rng = np.random.default_rng(0)
    x = rng.normal(size=500).astype(dtype)
    u = rng.random(500).astype(dtype)
    results = []
    for use_numba in (False, True):
        mask = np.empty_like(x)
        y = _run(
            K.dropout_forward, (x, u, 0.3, 1 / 0.7, mask, np.empty_like(x)), use_numba
        )
        results.append(y)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)
    kept = u >= 0.3
    np.testing.assert_allclose(results[0][kept], x[kept] / 0.7, rtol=1e-6)
    assert np.all(results[0][~kept] == 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(10, 8), (128, 33)])
def test_bias_kernels_agree(shape, dtype):
    rng = np.random.default_rng(1)
    z = rng.normal(size=shape).astype(dtype)
    b = rng.normal(size=shape[1]).astype(dtype)
    for use_numba in (False, True):
        zz = z.copy()
        _run_value(K.bias_add, (zz, b), use_numba)  # in place on its first argument
        np.testing.assert_allclose(zz, z + b, rtol=1e-6)
        out = np.empty(shape[1], dtype)
        got = _run(K.column_sum, (z, out), use_numba)
        want = z.astype(np.float64).sum(axis=0)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    # A non-contiguous gradient (a slice of a Concatenate's dy) works too.
    wide = rng.normal(size=(6, 10)).astype(dtype)
    out = np.empty(4, dtype)
    got = _run(K.column_sum, (wide[:, 3:7], out), True)
    np.testing.assert_allclose(got, wide[:, 3:7].sum(axis=0), rtol=1e-5)


@pytest.mark.parametrize("use_numba", [False, True])
def test_all_finite(use_numba):
    def check(a):
        return _run_value(K.all_finite, (a,), use_numba)

    assert check(np.ones(5, np.float32))
    assert check(np.full(4, 3e38, np.float32))  # the sum overflows, values do not
    assert not check(np.array([1.0, np.nan]))
    assert not check(np.array([np.inf, 1.0], np.float32))
    assert check(np.zeros(0))


def _run_value(kern, args, use_numba):
    kernels.set_numba_enabled(use_numba)
    try:
        return kern(*args)
    finally:
        kernels.set_numba_enabled(None)


def test_switching_paths():
    kernels.set_numba_enabled(False)
    assert not K.tanh_backward.uses_numba
    kernels.set_numba_enabled(True)
    assert K.tanh_backward.uses_numba
    kernels.set_numba_enabled(None)


def _python(code: str, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
        timeout=120,
    )
    return result.stdout.strip()


def test_importing_the_engine_does_not_import_numba():
    code = (
        "import sys, nndesk, nndesk.engine, nndesk.engine.model; "
        "print('numba' in sys.modules)"
    )
    assert _python(code) == "False"


def test_env_var_forces_numpy():
    code = (
        "import numpy as np; from nndesk.engine.kernels import layers as K; "
        "K.tanh_backward(np.ones(3), np.zeros(3), np.empty(3)); "
        "import sys; print(K.tanh_backward.uses_numba, 'numba' in sys.modules)"
    )
    assert _python(code, NNDESK_NUMBA="0") == "False False"
    assert _python(code, NNDESK_NUMBA="1") == "True True"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_column_sum_numpy_paths(dtype):
    # The GEMV path (matching dtypes), the reduce path (mixed dtypes) and a
    # non-contiguous gradient all give the column sums.
    rng = np.random.default_rng(2)
    wide = rng.normal(size=(7, 12)).astype(dtype)
    for dz in (wide, wide[:, 2:9], wide[::2]):
        want = dz.astype(np.float64).sum(axis=0)
        for out_dtype in (dtype, np.float64 if dtype == np.float32 else np.float32):
            out = np.full(dz.shape[1], np.nan, out_dtype)
            K.column_sum.fallback(dz, out)  # direct: a copy would be contiguous
            np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-6)
