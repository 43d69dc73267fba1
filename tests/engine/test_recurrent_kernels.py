"""The recurrent kernels' float32 fast paths against the exact NumPy arithmetic.

With Numba the float32 LSTM forward step evaluates tanh and sigmoid by a rational
approximation (no libm call, so the loop vectorises); these tests hold it to a few
float32 ulps of NumPy's exact functions, and the layer's float32 outputs and
gradients to the per-step NumPy path. PyTorch equality is
``test_recurrent_reference.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from nndesk.engine import kernels
from nndesk.engine.kernels import recurrent as RK
from nndesk.engine.layers import LSTM

numba = pytest.importorskip("numba")


@pytest.fixture
def numba_on():
    kernels.set_numba_enabled(True)
    yield
    kernels.set_numba_enabled(None)


def _tanh_loop():
    """A compiled loop applying ``_tanh32`` (and ``_sig32``) to a float32 array."""
    from nndesk.engine.kernels.jit import _with_helpers

    def apply(x, t_out, s_out):
        for k in range(x.size):
            t_out[k] = _tanh32(x[k])  # noqa: F821 - bound by _with_helpers
            s_out[k] = _sig32(x[k])  # noqa: F821

    return numba.njit(_with_helpers(apply, (RK._tanh32, RK._sig32), numba.njit))


def test_float32_tanh_and_sigmoid_are_within_a_few_ulps(numba_on):
    x = np.concatenate(
        [np.linspace(-20, 20, 400_001), [0.0, -0.0, 1e-30, -1e-30, 1e4, -1e4]]
    ).astype(np.float32)
    t, s = np.empty_like(x), np.empty_like(x)
    _tanh_loop()(x, t, s)
    exact = np.tanh(x.astype(np.float64))
    assert np.abs(t - exact).max() < 4e-7
    assert np.abs(s - 0.5 * (1 + np.tanh(0.5 * x.astype(np.float64)))).max() < 4e-7
    assert np.all(t[x == 0] == 0.0)
    assert t.max() <= 1.0 and t.min() >= -1.0 and s.min() >= 0.0 and s.max() <= 1.0


@pytest.mark.parametrize("batch, units", [(3, 5), (16, 16), (32, 128)])
def test_float32_lstm_step_matches_the_numpy_step(numba_on, batch, units):
    rng = np.random.default_rng(units)
    a0 = rng.normal(scale=3, size=(batch, 4 * units)).astype(np.float32)
    xp = rng.normal(scale=3, size=(batch, 4 * units)).astype(np.float32)
    c_prev = rng.normal(size=(batch, units)).astype(np.float32)
    results = []
    for step in (RK.lstm_forward, RK.lstm_forward32):
        a, c, tc, h = a0.copy(), *(np.empty_like(c_prev) for _ in range(3))
        step(a, xp, c_prev, c, tc, h)
        results.append((a, c, tc, h))
    assert RK.lstm_forward32.uses_numba == kernels.numba_enabled()
    for ours, exact in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(ours, exact, rtol=0, atol=2e-6)


def _lstm_pass(numba_on: bool, return_sequences: bool, bidirectional: bool):
    kernels.set_numba_enabled(numba_on)
    try:
        layer = LSTM(16, return_sequences=return_sequences, bidirectional=bidirectional)
        layer.build([(7, 5)], np.random.default_rng(0))
        rng = np.random.default_rng(1)
        x = rng.normal(size=(16, 7, 5)).astype(np.float32)
        y = layer.forward([x], True).copy()
        dy = rng.normal(size=y.shape).astype(np.float32)
        (dx,) = layer.backward(dy)
        return y, dx.copy(), {k: g.copy() for k, g in layer.grads.items()}
    finally:
        kernels.set_numba_enabled(None)


@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_small_lstm_whole_sequence_kernels_match_the_numpy_steps(
    return_sequences, bidirectional
):
    """batch * units = 256: each direction runs in one compiled call forward and
    backward; the NumPy path runs the whole-sequence twins with exact tanh."""
    assert 16 * 16 <= RK.SMALL_STEP
    y, dx, grads = _lstm_pass(True, return_sequences, bidirectional)
    y0, dx0, grads0 = _lstm_pass(False, return_sequences, bidirectional)
    np.testing.assert_allclose(y, y0, rtol=0, atol=2e-6)
    np.testing.assert_allclose(dx, dx0, rtol=1e-4, atol=1e-5)
    assert grads.keys() == grads0.keys()
    for key, g in grads.items():
        np.testing.assert_allclose(g, grads0[key], rtol=1e-4, atol=1e-4, err_msg=key)
