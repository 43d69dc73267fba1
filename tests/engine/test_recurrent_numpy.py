"""The NumPy twins of the whole-sequence LSTM kernels against the step-by-step
NumPy arithmetic.

Without Numba a small LSTM (batch * units up to ``SMALL_STEP``) runs each
direction forward and backward in one call that works on feature-major copies of
its gates (``kernels/recurrent.py``). These tests hold it to the per-step
functions it replaced, every output buffer, both directions, with and without a
whole output sequence, float32 and float64; the float64 gradient checks and the
PyTorch fixtures cover the layer on both kernel paths.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from nndesk.engine import kernels
from nndesk.engine.kernels import recurrent as RK
from nndesk.engine.layers import LSTM


def _steps_forward(xp, rk, a, h, c, tc, reverse):
    steps = a.shape[0]
    for s in range(steps):
        t = steps - 1 - s if reverse else s
        prev, new = (t + 1, t) if reverse else (t, t + 1)
        np.matmul(h[prev], rk, out=a[t])
        RK.lstm_forward(a[t], xp[t], c[prev], c[new], tc[t], h[new])


def _steps_backward(a, c, tc, rk_t, dy, seq, dz, dh, dc, tmp, reverse):
    steps = a.shape[0]
    for s in range(steps):
        t = s if reverse else steps - 1 - s
        prev = t + 1 if reverse else t
        if seq:
            dh += dy[:, t]
        RK._lstm_backward_numpy(a[t], c[prev], tc[t], dh, dc, dz[t], tmp)
        np.matmul(dz[t], rk_t, out=dh)


def _run(forward, backward, dtype, batch, steps, units, reverse, seq, seed=0):
    rng = np.random.default_rng([seed, batch, steps, units])
    xp = rng.normal(scale=2.0, size=(steps, batch, 4 * units)).astype(dtype)
    rk = rng.normal(scale=0.5, size=(units, 4 * units)).astype(dtype)
    a = np.full((steps, batch, 4 * units), np.nan, dtype)
    h, c = (np.full((steps + 1, batch, units), np.nan, dtype) for _ in range(2))
    tc = np.full((steps, batch, units), np.nan, dtype)
    first = steps if reverse else 0
    h[first], c[first] = 0.0, 0.0
    forward(xp, rk, a, h, c, tc, reverse)
    dy_all = rng.normal(size=(batch, steps, units)).astype(dtype)
    if seq:
        dy, dh = dy_all, np.zeros((batch, units), dtype)
    else:
        dh = dy_all[:, -1].copy()
        dy = dh[:, None, :]
    dc = np.zeros((batch, units), dtype)
    dz = np.full_like(a, np.nan)
    tmp = np.empty((batch, units), dtype)
    backward(a, c, tc, np.ascontiguousarray(rk.T), dy, seq, dz, dh, dc, tmp, reverse)
    return {"a": a, "h": h, "c": c, "tc": tc, "dz": dz, "dh": dh, "dc": dc}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("seq", [True, False])
@pytest.mark.parametrize("batch, steps, units", [(16, 20, 16), (3, 1, 5), (5, 7, 3)])
def test_whole_sequence_twins_match_the_steps(dtype, reverse, seq, batch, steps, units):
    want = _run(
        _steps_forward, _steps_backward, dtype, batch, steps, units, reverse, seq
    )
    got = _run(
        RK._lstm_sequence_numpy,
        RK._lstm_sequence_backward_numpy,
        dtype, batch, steps, units, reverse, seq,
    )  # fmt: skip
    # The forward pass does the same operations; backward sums in another order.
    tol = 5e-6 if dtype == np.float32 else 1e-13
    for key, value in want.items():
        assert not np.isnan(got[key]).any(), key
        np.testing.assert_allclose(got[key], value, rtol=0, atol=tol, err_msg=key)


def test_the_layer_takes_the_whole_sequence_twin_without_numba(monkeypatch):
    kernels.set_numba_enabled(False)
    calls = []
    real = RK._lstm_sequence_numpy

    def spy(*args):
        calls.append(args[2].shape)
        return real(*args)

    # The layer calls the twin directly, its weights' sigmoid gates halved.
    monkeypatch.setattr(RK, "lstm_sequence_numpy", spy)
    kernels.reset_kernels()
    try:
        for dtype in (np.float32, np.float64):
            layer = LSTM(16, bidirectional=True)
            layer.build([(5, 3)], np.random.default_rng(0), dtype=dtype)
            x = np.random.default_rng(1).normal(size=(16, 5, 3)).astype(dtype)
            layer.forward([x], True)
        # batch 16 x 16 units is small: both directions, both dtypes
        assert calls == [(5, 16, 64)] * 4
        # batch 17 is not: the per-step path
        layer.forward([np.zeros((17, 5, 3))], True)
        assert len(calls) == 4
    finally:
        kernels.set_numba_enabled(None)


def test_work_arrays_are_kept_per_thread():
    """The twins keep their work arrays between calls of one shape, one set per
    thread: two trainings in two threads must not write into each other's."""
    key = ("test", 3, np.float32)
    mine = RK._work("forward", key, lambda: [np.zeros(3)])
    assert RK._work("forward", key, lambda: [np.ones(3)]) is mine
    other = []
    t = threading.Thread(
        target=lambda: other.append(RK._work("forward", key, lambda: [np.ones(3)]))
    )
    t.start()
    t.join()
    assert other[0] is not mine and other[0][0][0] == 1.0
    assert RK._work("forward", key, lambda: [np.ones(3)]) is mine


@pytest.mark.parametrize("batch", [16, 17])  # the whole-sequence twin; per step
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("use_bias", [True, False])
def test_halved_weights_give_the_same_values(monkeypatch, batch, dtype, use_bias):
    """Without Numba the layer halves its sigmoid gates' weight columns once per
    batch instead of their pre-activations every step: a power of two, so the
    outputs, the saved gates and every gradient equal the unhalved path's bit
    for bit."""
    kernels.set_numba_enabled(False)
    try:
        rng = np.random.default_rng(3)
        x = rng.normal(size=(batch, 6, 3)).astype(dtype)
        dy = rng.normal(size=(batch, 6, 32)).astype(dtype)
        biases = rng.normal(size=(3, 64))
        results = []
        for halved in (True, False):
            if not halved:
                monkeypatch.setattr(LSTM, "_numpy_steps", lambda self, batch: False)
            layer = LSTM(
                16, return_sequences=True, bidirectional=True, use_bias=use_bias
            )
            layer.build([(6, 3)], np.random.default_rng(0), dtype=dtype)
            names = ("bias", "recurrent_bias", "bias_reverse")
            for key, bias in zip(names, biases, strict=True):
                if use_bias:
                    layer.params[key][...] = bias  # nonzero biases
            y = layer.forward([x], True).copy()
            assert layer._halved is halved
            (dx,) = layer.backward(dy)
            trace = layer.trace()  # after the backward, as the live views ask
            grads = {k: v.copy() for k, v in layer.grads.items()}
            results.append((y, trace, dx.copy(), grads))
        (y1, t1, dx1, g1), (y2, t2, dx2, g2) = results
        assert np.array_equal(y1, y2)
        assert np.array_equal(dx1, dx2)
        for key in t1:
            assert np.array_equal(t1[key], t2[key]), key
        for key in g1:
            assert np.array_equal(g1[key], g2[key]), key
    finally:
        kernels.set_numba_enabled(None)


def test_lstm_forward_halved_matches_the_step():
    rng = np.random.default_rng(4)
    u, n = 128, 32
    a = rng.normal(size=(n, 4 * u)).astype(np.float32)
    xp = rng.normal(size=(n, 4 * u)).astype(np.float32)
    c_prev = rng.normal(size=(n, u)).astype(np.float32)
    scale = np.full(4 * u, 0.5, np.float32)
    scale[2 * u : 3 * u] = 1.0
    out1 = [np.empty((n, u), np.float32) for _ in range(3)]
    out2 = [np.empty((n, u), np.float32) for _ in range(3)]
    a1, a2 = a.copy(), a * scale
    RK.lstm_forward(a1, xp, c_prev, *out1)
    RK.lstm_forward_halved(a2, xp * scale, c_prev, *out2)
    assert np.array_equal(a1, a2)
    for o1, o2 in zip(out1, out2, strict=True):
        assert np.array_equal(o1, o2)


def test_backward_reads_the_forward_arrays_only_while_they_are_its_own():
    """The backward twin reads the forward twin's work arrays, which the next
    forward of the same shape overwrites when they are the thread's (not a
    layer's own): for an ``a`` whose forward was followed by another's it must
    go back to ``a``, ``c`` and ``tc``, the same as when nothing ran between."""
    rng = np.random.default_rng(5)
    steps, n, u = 7, 16, 16
    rk = rng.normal(size=(u, 4 * u)).astype(np.float32) * 0.3
    rk_t = np.ascontiguousarray(rk.T)
    dy = rng.normal(size=(n, steps, u)).astype(np.float32)

    def forward(seed):
        xp = np.random.default_rng(seed).normal(size=(steps, n, 4 * u))
        a = np.empty((steps, n, 4 * u), np.float32)
        h, c = (np.zeros((steps + 1, n, u), np.float32) for _ in range(2))
        tc = np.empty((steps, n, u), np.float32)
        bufs = (a, h, c, tc)
        handle = RK.lstm_sequence_numpy(xp.astype(np.float32), rk, *bufs, False)
        return bufs, handle

    def backward(bufs, handle):
        a, _, c, tc = bufs
        dz = np.empty_like(a)
        dh, dc, tmp = (np.zeros((n, u), np.float32) for _ in range(3))
        RK.lstm_sequence_backward_numpy(
            a, c, tc, rk_t, dy, True, dz, dh, dc, tmp, False, handle
        )
        return dz

    mine, handle = forward(0)
    alone = backward(mine, handle)
    mine, handle = forward(0)
    forward(1)  # the same work arrays, other values
    assert np.array_equal(backward(mine, handle), alone)
