"""The per-step gate arithmetic of LSTM and GRU.

A step of a recurrent layer is one matrix product (the state times the recurrent
kernel, every gate at once) plus a dozen elementwise operations on ``(batch,
units)`` blocks. Gate blocks are in torch's order (LSTM ``i, f, g, o``; GRU ``r,
z, n``); ``a`` holds one step's gates ``(batch, G*units)``.

The backward step runs as one compiled loop when Numba is on (no transcendental
functions there: it reads the saved activations). Measured per step, 1 thread,
median of 200 under load: LSTM 32x128 16 µs against 40 µs for the NumPy
sequence, 16x16 3.5 against 38 µs.

The float32 LSTM forward step is one compiled loop at every size: its tanh and
sigmoid are a rational approximation (``_tanh32``, error below 3.5e-7) in float32
arithmetic over 1-D gate views, which LLVM vectorises; with ``math.tanh`` the
loop made scalar libm calls and lost to NumPy's SIMD tanh (32x128: 382 µs against
60). Per step, median of 300 at load 4-8: 32x128 15 µs (NumPy 70), 16x16 2.4 µs
(NumPy 35, the exact loop 13). Other dtypes (float64 gradient checks) keep exact
functions: NumPy from ``SMALL_STEP`` values per gate block up, below it the loop
with ``math.tanh``, where the dozen NumPy calls cost more than their arithmetic.

Without Numba a small LSTM still runs each direction in one call each way: the
NumPy twins of the whole-sequence kernels work on feature-major copies of the
gates, so each gate block is contiguous (elementwise calls on the column blocks
of ``(batch, 4*units)`` cost 3-4x more at 16x16) and a step is 9 NumPy calls
forward and 6 backward (13 and 22 before). 16x16, 20 steps, min of 300
interleaved at load 15: forward 140 against 379 µs step by step, backward 157
against 496. At 32x128 the bulk transposes cost more than they save, so larger
layers keep the per-step path. The LSTM layer hands the NumPy kernels weights
whose sigmoid gates are halved already (``lstm_forward_halved``, the twin's
``halved``) and its own work arrays, which the backward twin reads instead of
transposed copies (docs/engine.md has the measurements).
"""

from __future__ import annotations

import math
import threading

import numpy as np

from .jit import kernel

__all__ = [
    "SMALL_STEP",
    "gru_backward",
    "gru_forward",
    "gru_forward_small",
    "lstm_backward",
    "lstm_forward",
    "lstm_forward32",
    "lstm_forward_halved",
    "lstm_forward_small",
    "lstm_sequence32",
    "lstm_sequence_numpy",
    "lstm_sequence_store",
    "lstm_sequence_backward",
    "lstm_sequence_backward_numpy",
]

SMALL_STEP = 256
"""Largest ``batch * units`` whose forward step runs compiled (see above)."""


def _sig(v):
    return 1.0 / (1.0 + math.exp(-v))


# float32 tanh without a libm call, so LLVM vectorises the loops that use it: the
# rational approximation of Eigen's ``generic_fast_tanh_float`` (odd degree 13 over
# even degree 6, input clamped to +-7.9053), in float32 arithmetic. Its error
# against tanh is below 3.5e-7 over the whole line (measured on 2e6 points), a few
# float32 ulps; the float64 path keeps ``math.tanh``.
_F = np.float32
_TANH_CLAMP = _F(7.90531110763549805)
_T13, _T11, _T9, _T7 = map(
    _F,
    (
        -2.76076847742355e-16,
        2.00018790482477e-13,
        -8.60467152213735e-11,
        5.12229709037114e-08,
    ),
)
_T5, _T3, _T1 = map(
    _F, (1.48572235717979e-05, 6.37261928875436e-04, 4.89352455891786e-03)
)
_Q6, _Q4, _Q2, _Q0 = map(
    _F,
    (
        1.19825839466702e-06,
        1.18534705686654e-04,
        2.26843463243900e-03,
        4.89352518554385e-03,
    ),
)
_HALF = _F(0.5)


def _tanh32(v):
    v = min(max(v, -_TANH_CLAMP), _TANH_CLAMP)
    x2 = v * v
    p = _T13 * x2 + _T11
    p = p * x2 + _T9
    p = p * x2 + _T7
    p = p * x2 + _T5
    p = p * x2 + _T3
    p = p * x2 + _T1
    q = _Q6 * x2 + _Q4
    q = q * x2 + _Q2
    q = q * x2 + _Q0
    return v * p / q


def _sig32(v):
    return _HALF * _tanh32(_HALF * v) + _HALF


_CONSTS: dict[np.dtype, tuple[np.ndarray, np.ndarray]] = {}


def _half_one(dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """0.5 and 1 as 0-d arrays of ``dtype``: as ufunc operands they cost about
    1 µs less per call than Python or NumPy scalars (NumPy 2.4: 0.9 against 2.0
    µs for a 48x16 multiply), the same arithmetic. The NumPy twins make a dozen
    such calls per step."""
    c = _CONSTS.get(dtype)
    if c is None:
        c = _CONSTS[dtype] = (np.array(0.5, dtype), np.array(1.0, dtype))
    return c


def _sigmoid_numpy(v: np.ndarray) -> None:
    half, _ = _half_one(v.dtype)
    v *= half
    np.tanh(v, out=v)
    v *= half
    v += half


# --- LSTM --------------------------------------------------------------------------------
def lstm_forward(a, xp, c_prev, c, tc, h):
    """``a`` (the recurrent product) plus ``xp`` through the gates; the new cell
    state ``c``, its tanh ``tc`` and the state ``h``."""
    u = h.shape[1]
    half, _ = _half_one(a.dtype)
    a += xp
    # sigmoid(v) = 0.5 * tanh(v / 2) + 0.5: halve i, f and o, then one tanh over
    # the four blocks (the same values; 32x128: 51 against 59 µs a step).
    a[:, : 2 * u] *= half
    a[:, 3 * u :] *= half
    np.tanh(a, out=a)
    for block in (a[:, : 2 * u], a[:, 3 * u :]):
        block *= half
        block += half
    i, f, g, o = a[:, :u], a[:, u : 2 * u], a[:, 2 * u : 3 * u], a[:, 3 * u :]
    np.multiply(f, c_prev, out=c)
    np.multiply(i, g, out=tc)
    c += tc
    np.tanh(c, out=tc)
    np.multiply(o, tc, out=h)


def lstm_forward_halved(a, xp, c_prev, c, tc, h):
    """``lstm_forward`` for a product ``a`` and projection ``xp`` whose sigmoid
    gates (i, f, o) come halved already: the layer halves those columns of the
    kernels and biases once per batch (exact: a power of two), which spares two
    strided passes a step (32x128: 31 against 39 µs a step, the same values).
    NumPy only; ufuncs with positional outputs (0.05-0.1 µs less per call than
    ``out=`` or an in-place operator)."""
    u = h.shape[1]
    half, _ = _half_one(a.dtype)
    mul, add, tanh = np.multiply, np.add, np.tanh
    add(a, xp, a)
    tanh(a, a)
    for block in (a[:, : 2 * u], a[:, 3 * u :]):
        mul(block, half, block)
        add(block, half, block)
    mul(a[:, u : 2 * u], c_prev, c)
    mul(a[:, :u], a[:, 2 * u : 3 * u], tc)
    add(c, tc, c)
    tanh(c, tc)
    mul(a[:, 3 * u :], tc, h)


def _lstm_forward_loop(a, xp, c_prev, c, tc, h):
    n, u = h.shape
    for b in range(n):
        for j in range(u):
            i = _sig(a[b, j] + xp[b, j])
            f = _sig(a[b, u + j] + xp[b, u + j])
            g = math.tanh(a[b, 2 * u + j] + xp[b, 2 * u + j])
            o = _sig(a[b, 3 * u + j] + xp[b, 3 * u + j])
            a[b, j] = i
            a[b, u + j] = f
            a[b, 2 * u + j] = g
            a[b, 3 * u + j] = o
            cv = f * c_prev[b, j] + i * g
            c[b, j] = cv
            t = math.tanh(cv)
            tc[b, j] = t
            h[b, j] = o * t


def _lstm_forward32_loop(a, xp, c_prev, c, tc, h):
    # Gate blocks as 1-D views: indexes the compiler can prove non-negative, so
    # the loop over units vectorises.
    n, u = h.shape
    for b in range(n):
        ai, af, ag, ao = a[b, :u], a[b, u : 2 * u], a[b, 2 * u : 3 * u], a[b, 3 * u :]
        xi, xf = xp[b, :u], xp[b, u : 2 * u]
        xg, xo = xp[b, 2 * u : 3 * u], xp[b, 3 * u :]
        cp, cb, tb, hb = c_prev[b], c[b], tc[b], h[b]
        for j in range(u):
            i = _sig32(ai[j] + xi[j])
            f = _sig32(af[j] + xf[j])
            g = _tanh32(ag[j] + xg[j])
            o = _sig32(ao[j] + xo[j])
            ai[j] = i
            af[j] = f
            ag[j] = g
            ao[j] = o
            cv = f * cp[j] + i * g
            cb[j] = cv
            t = _tanh32(cv)
            tb[j] = t
            hb[j] = o * t


def _lstm_backward_loop(a, c_prev, tc, dh, dc, dz, tmp):
    # 1-D gate views, as in the float32 forward step, so the loop vectorises.
    n, u = dh.shape
    for b in range(n):
        ai, af, ag, ao = a[b, :u], a[b, u : 2 * u], a[b, 2 * u : 3 * u], a[b, 3 * u :]
        di, df, dg, do = (
            dz[b, :u], dz[b, u : 2 * u], dz[b, 2 * u : 3 * u], dz[b, 3 * u :]
        )  # fmt: skip
        cp, tb, dhb, dcb = c_prev[b], tc[b], dh[b], dc[b]
        for j in range(u):
            i, f, g, o = ai[j], af[j], ag[j], ao[j]
            t = tb[j]
            d = dhb[j]
            dcv = dcb[j] + d * o * (1.0 - t * t)
            di[j] = dcv * g * i * (1.0 - i)
            df[j] = dcv * cp[j] * f * (1.0 - f)
            dg[j] = dcv * i * (1.0 - g * g)
            do[j] = d * t * o * (1.0 - o)
            dcb[j] = dcv * f


def _lstm_backward_numpy(a, c_prev, tc, dh, dc, dz, tmp):
    """Gate pre-activation gradients ``dz`` of one step from ``dh`` (reaching its
    state) and ``dc`` (reaching its cell state), which becomes the cell gradient
    reaching the previous step; ``tmp`` is a ``(batch, units)`` work array."""
    u = dh.shape[1]
    _, one = _half_one(dh.dtype)
    i, f, g, o = a[:, :u], a[:, u : 2 * u], a[:, 2 * u : 3 * u], a[:, 3 * u :]
    di, df, dg, do = dz[:, :u], dz[:, u : 2 * u], dz[:, 2 * u : 3 * u], dz[:, 3 * u :]
    np.multiply(tc, tc, out=tmp)
    np.subtract(one, tmp, out=tmp)
    tmp *= o
    tmp *= dh
    dc += tmp
    np.multiply(dh, tc, out=do)
    np.subtract(one, o, out=tmp)
    tmp *= o
    do *= tmp
    np.subtract(one, i, out=tmp)
    tmp *= i
    np.multiply(dc, g, out=di)
    di *= tmp
    np.subtract(one, f, out=tmp)
    tmp *= f
    np.multiply(dc, c_prev, out=df)
    df *= tmp
    np.multiply(g, g, out=tmp)
    np.subtract(one, tmp, out=tmp)
    tmp *= i
    np.multiply(dc, tmp, out=dg)
    dc *= f


# --- LSTM, a whole sequence in one call (small layers) ------------------------------
def _product_loop(x, w, out, n, k, m):
    # out (n, m) = x (n, k) @ w (k, m), all flat and C-ordered: flat indexes
    # vectorise the innermost run best at these sizes (16x64x16: about twice
    # faster than row views, within 2x of a BLAS call without its call overhead).
    for i in range(n * m):
        out[i] = 0.0
    for b in range(n):
        xo, oo = b * k, b * m
        for q in range(k):
            v, wo = x[xo + q], q * m
            for j in range(m):
                out[oo + j] += v * w[wo + j]


def _lstm_sequence32_loop(xp, rk, a, h, c, tc, reverse):
    # Each step's recurrent product as a plain loop (the innermost run over the
    # gates vectorises), then the step above; one call per direction instead of
    # two per step.
    steps, n, g = a.shape
    u = g // 4
    for s in range(steps):
        t = steps - 1 - s if reverse else s
        prev = t + 1 if reverse else t
        new = t if reverse else t + 1
        at, hp = a[t], h[prev]
        _product_loop(hp.reshape(-1), rk.reshape(-1), at.reshape(-1), n, u, g)
        _lstm_forward32_loop(at, xp[t], c[prev], c[new], tc[t], h[new])


def _lstm_sequence_backward_loop(a, c, tc, rk_t, dy, seq, dz, dh, dc, tmp, reverse):
    steps = a.shape[0]
    n, u = dh.shape
    g = 4 * u
    for s in range(steps):
        t = s if reverse else steps - 1 - s
        prev = t + 1 if reverse else t
        if seq:
            for b in range(n):
                dhb, dyb = dh[b], dy[b, t]
                for j in range(u):
                    dhb[j] += dyb[j]
        _lstm_backward_loop(a[t], c[prev], tc[t], dh, dc, dz[t], tmp)
        _product_loop(dz[t].reshape(-1), rk_t.reshape(-1), dh.reshape(-1), n, g, u)


# --- LSTM, a whole sequence in one call: the NumPy twins --------------------------------
# Feature-major ("transposed") work arrays: a step's gates are the rows of one
# contiguous ``(gates * units, batch)`` block, so every gate block is contiguous
# (NumPy's elementwise loops on the ``(batch, units)`` column blocks of a
# ``(batch, 4 * units)`` array ran 3-4x slower than on contiguous ones at 16x16)
# and the step's product is one ``np.dot`` into it. The gates are kept in the order
# o, i, f, g, followed by the previous cell state: the sigmoid gates are one block
# and ``[i, f] * [g, c_prev]`` is one multiply. The layer's buffers (time order,
# gates i, f, g, o) are read and written in bulk before and after the loop.
_local = threading.local()
_WORK_SHAPES = 4
"""Shapes whose work arrays a thread keeps per kernel (the layers of one model)."""


def _work(name: str, key: tuple, make, cache: dict | None = None):
    """The work arrays (and their per-step views) ``make`` builds for ``key``
    (shapes, dtype, direction), kept per thread for the next call (or in
    ``cache``, a layer's own, one dict per ``name`` in it): building the views
    cost as much as the loop at 16x16."""
    if cache is None:
        cache = getattr(_local, name, None)
        if cache is None:
            cache = {}
            setattr(_local, name, cache)
    else:
        cache = cache.setdefault(name, {})
    work = cache.get(key)
    if work is None:
        if len(cache) >= _WORK_SHAPES:
            cache.clear()
        work = cache[key] = make()
    return work


def _lstm_sequence_numpy(
    xp, rk, a, h, c, tc, reverse, halved=False, cache=None, project=None
):
    """The forward pass of one direction: gates ``a``, states ``h`` and cell
    states ``c`` (``time + 1`` rows, the initial one zero already) and ``tc``
    (tanh of ``c``) from the input projections ``xp``, as the step above.
    ``halved``: the sigmoid gates' columns of ``xp`` and ``rk`` come halved
    already (the layer scales its weights, see ``lstm_forward_halved``).

    Returns the feature-major gates, cell states and tanh of the cell states
    for ``_lstm_sequence_backward_numpy``'s ``forward``: valid while their
    owner (``handle[-1][0]``) is ``a``, the next call of this shape replaces
    them. With ``cache`` (a dict the layer owns, so no other layer's call
    replaces them) ``a``, ``c`` and ``tc`` are left unwritten until
    ``lstm_sequence_store`` (the backward reads the work arrays; 16x16, 20
    steps: 4 transposing copies fewer). ``project``: ``(x, kernel, bias)``, the
    time-major inputs ``(time, batch, features)`` and the (halved) kernel and
    bias (or None), whose projections this call makes itself, feature-major,
    instead of reading ``xp`` (one product per step in one call, no transposed
    copy of the projections: 16x16, 20 steps, about 5 µs less)."""
    steps, n, g = a.shape
    u = g // 4
    dt = a.dtype
    order = slice(None, None, -1) if reverse else slice(None)

    def make():
        z = np.empty((steps + 1, 5 * u, n), dt)  # [o, i, f, g, c_prev] per step
        xpt = np.empty((steps, 4 * u, n), dt)
        ht = np.empty((steps + 1, u, n), dt)
        tct = np.empty((steps, u, n), dt)
        prod = np.empty((2 * u, n), dt)
        rkt = np.empty((4 * u, u), dt)
        views = (
            list(z[:steps, : 4 * u]),  # the gates' pre-activations, then values
            list(z[:steps, : 3 * u]),  # the sigmoid gates
            list(z[:steps, u : 3 * u]),  # [i, f]
            list(z[:steps, 3 * u :]),  # [g, c_prev]
            list(z[1:, 4 * u :]),  # the new cell state
            list(z[:steps, :u]),  # o
            list(xpt),
            list(ht[:-1]),
            list(ht[1:]),
            list(tct),
        )
        ht[0] = 0.0  # the initial state and cell state: never written after
        z[0, 4 * u :] = 0.0
        # For the backward: the gates, the forget gate per step, and the array
        # ``a`` whose values these are (set below, once they are).
        handle = (z, tct, list(z[:steps, 2 * u : 3 * u]), [None])
        return z, xpt, ht, tct, prod, rkt, views, handle

    z, xpt, ht, tct, prod, rkt, views, handle = _work(
        "forward", (steps, n, u, dt, reverse), make, cache
    )
    handle[-1][0] = None  # rewritten below
    zs, sig, i_f, g_c, c_new, o, xps, h_prev, h_new, tcs = views
    # Recurrent kernel and projections transposed, gates as o, i, f, g, with the
    # sigmoid gates' halved: sigmoid(v) = 0.5 * tanh(v / 2) + 0.5 (exact halving).
    half, _ = _half_one(dt)
    if project is not None:  # halved, like rk
        x, kernel, bias = project
        features = x.shape[2]
        kt, xtt = _work(
            "project",
            (steps, n, u, features, dt),
            lambda: (
                np.empty((4 * u, features), dt),
                np.empty((steps, features, n), dt),
            ),
            cache,
        )
        np.copyto(kt[:u], kernel[:, 3 * u :].T)
        np.copyto(kt[u:], kernel[:, : 3 * u].T)
        np.copyto(xtt, x[order].transpose(0, 2, 1))
        np.matmul(kt, xtt, out=xpt)
        if bias is not None:
            bt = np.empty((4 * u, 1), dt)
            bt[:u, 0], bt[u:, 0] = bias[3 * u :], bias[: 3 * u]
            np.add(xpt, bt, xpt)
    xpo = xp[order]
    if halved:
        np.copyto(rkt[:u], rk[:, 3 * u :].T)
        np.copyto(rkt[u:], rk[:, : 3 * u].T)
    if halved and project is None:
        np.copyto(xpt[:, :u], xpo[:, :, 3 * u :].transpose(0, 2, 1))
        np.copyto(xpt[:, u:], xpo[:, :, : 3 * u].transpose(0, 2, 1))
    elif not halved:  # halved in the transposing copies
        np.multiply(rk[:, 3 * u :].T, half, rkt[:u])
        np.multiply(rk[:, : 2 * u].T, half, rkt[u : 3 * u])
        rkt[3 * u :] = rk[:, 2 * u : 3 * u].T
        np.multiply(xpo[:, :, 3 * u :].transpose(0, 2, 1), half, xpt[:, :u])
        np.multiply(xpo[:, :, : 2 * u].transpose(0, 2, 1), half, xpt[:, u : 3 * u])
        np.copyto(xpt[:, 3 * u :], xpo[:, :, 2 * u : 3 * u].transpose(0, 2, 1))
    p_ig, p_fc = prod[:u], prod[u:]
    # Positional outputs: 0.05-0.1 µs less per call than out= or ``+=``.
    dot, tanh, mul, add = np.dot, np.tanh, np.multiply, np.add
    for s in range(steps):
        zt = zs[s]
        dot(rkt, h_prev[s], zt)
        add(zt, xps[s], zt)
        tanh(zt, zt)
        st = sig[s]
        mul(st, half, st)
        add(st, half, st)
        mul(i_f[s], g_c[s], prod)  # [i * g, f * c_prev]
        cn = c_new[s]
        add(p_ig, p_fc, cn)
        tanh(cn, tcs[s])
        mul(o[s], tcs[s], h_new[s])
    # Back to the layer's buffers, in time order.
    after = slice(steps - 1, None, -1) if reverse else slice(1, None)
    np.copyto(h[after], ht[1:].transpose(0, 2, 1))
    handle[-1][0] = a
    if cache is None:
        lstm_sequence_store(handle, a, c, tc, reverse)
    return handle


def lstm_sequence_store(handle, a, c, tc, reverse):
    """Write the gates ``a``, cell states ``c`` and ``tc`` of the forward that
    returned ``handle`` into the layer's time-major buffers."""
    z, tct, _, owner = handle
    if owner[0] is not a:
        raise RuntimeError("LSTM work arrays no longer hold this pass's values.")
    steps, _, g = a.shape
    u = g // 4
    order = slice(None, None, -1) if reverse else slice(None)
    ao = a[order]
    np.copyto(ao[:, :, : 3 * u], z[:steps, u : 4 * u].transpose(0, 2, 1))
    np.copyto(ao[:, :, 3 * u :], z[:steps, :u].transpose(0, 2, 1))
    after = slice(steps - 1, None, -1) if reverse else slice(1, None)
    np.copyto(c[after], z[1:, 4 * u :].transpose(0, 2, 1))
    np.copyto(tc[order], tct.transpose(0, 2, 1))


def _lstm_sequence_backward_numpy(
    a, c, tc, rk_t, dy, seq, dz, dh, dc, tmp, reverse, forward=None, to_start=True
):
    """Backpropagation through time of one direction: the gate pre-activation
    gradients ``dz`` of every step. ``dh`` and ``dc`` come in as the gradients
    reaching the direction's last state (``dy`` itself without ``seq``; zeros
    with it, when ``dy`` ``(batch, time, units)`` adds each step's part) and
    leave as those reaching its initial state; ``rk_t`` is the recurrent kernel
    transposed, ``tmp`` a work array. ``forward``: what the forward twin
    returned for ``a``; while it still holds ``a``'s values, its feature-major
    gates and cell states are read instead of transposed copies of ``a``, ``c``
    and ``tc`` (16x16, 20 steps: 3 transposing copies fewer). ``to_start``
    False leaves ``dh`` and ``dc`` as they are (the layer needs no gradient
    reaching the zero initial state)."""
    steps, n, g = a.shape
    u = g // 4
    dt = a.dtype
    order = slice(None, None, -1) if reverse else slice(None)

    def make():
        gates = np.empty((steps, 4 * u, n), dt)  # o, i, f, g
        fh = np.empty((steps, u, n), dt)  # d(loss)/dh -> do
        k1 = np.empty((steps, u, n), dt)  # d(loss)/dh -> dc
        fc = np.empty((steps, 3 * u, n), dt)  # dc -> [di, df, dg]
        # Per step the gradients [do, di, df, dg] and the output gradient of
        # the step before: the product with [rk, I] gives that step's dh.
        dzy = np.empty((steps + 1, 5 * u, n), dt)
        rki = np.empty((u, 5 * u), dt)
        dht = np.empty((u, n), dt)
        dct = np.empty((1, u, n), dt)
        work = np.empty((u, n), dt)
        views = (
            list(dzy[1:]),
            list(k1),
            list(dzy[:steps, :u]),
            list(fh),
            list(fc.reshape(steps, 3, u, n)),
            list(dzy[:steps, u : 4 * u].reshape(steps, 3, u, n)),
            list(gates[:, 2 * u : 3 * u]),
        )
        rki[:, 4 * u :] = np.eye(u, dtype=dt)  # constant; rk's part per call
        dzy[steps, : 4 * u] = 0.0  # no step after the last
        return gates, fh, k1, fc, dzy, rki, dht, dct, work, views

    gates, fh, k1, fc, dzy, rki, dht, dct, work, views = _work(
        "backward", (steps, n, u, dt, reverse), make
    )
    dzy_next, k1s, do, fhs, fc3, difg3, f = views
    _, one = _half_one(dt)
    fi, ff, fg = fc[:, :u], fc[:, u : 2 * u], fc[:, 2 * u :]
    if forward is not None and forward[-1][0] is a:
        # The forward twin's arrays: [o, i, f, g, c_prev] per step, tanh(c).
        z, tcs, f, _ = forward
        gates, c_prev = z[:steps, : 4 * u], z[:steps, 4 * u :]
    else:  # the saved activations, feature-major in processing order
        ao = a[order]
        np.copyto(gates[:, :u], ao[:, :, 3 * u :].transpose(0, 2, 1))
        np.copyto(gates[:, u:], ao[:, :, : 3 * u].transpose(0, 2, 1))
        tcs = fh  # tanh(c) for now
        np.copyto(tcs, tc[order].transpose(0, 2, 1))
        before = slice(steps, 0, -1) if reverse else slice(None, steps)
        c_prev = ff
        np.copyto(c_prev, c[before].transpose(0, 2, 1))
    go, gi, gf, gg = (gates[:, k * u : (k + 1) * u] for k in range(4))
    # k1 = o * (1 - tanh(c)^2); fh = tanh(c) * o * (1 - o)
    np.multiply(tcs, tcs, out=k1)
    np.subtract(one, k1, out=k1)
    k1 *= go
    np.subtract(one, go, out=fi)
    fi *= go
    np.multiply(tcs, fi, out=fh)
    # fc = [g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g^2)]
    np.subtract(one, gf, out=fg)
    fg *= gf
    np.multiply(c_prev, fg, out=ff)
    np.subtract(one, gi, out=fi)
    fi *= gi
    fi *= gg
    np.multiply(gg, gg, out=fg)
    np.subtract(one, fg, out=fg)
    fg *= gi
    # Recurrent kernel as [rk (gates o, i, f, g), I].
    np.copyto(rki[:, :u], rk_t[3 * u :].T)
    np.copyto(rki[:, u : 4 * u], rk_t[: 3 * u].T)
    dyt = dzy[1:, 4 * u :]
    if seq:
        np.copyto(dyt, dy.transpose(1, 2, 0)[order])
    else:
        dyt[:] = 0.0
    dyt[-1] += dh.T
    np.copyto(dct[0], dc.T)
    dc2 = dct[0]
    dot, mul, add = np.dot, np.multiply, np.add
    for s in range(steps - 1, -1, -1):
        dot(rki, dzy_next[s], dht)
        mul(dht, k1s[s], work)
        add(dc2, work, dc2)
        mul(dht, fhs[s], do[s])
        mul(fc3[s], dct, difg3[s])
        mul(dc2, f[s], dc2)
    if to_start:  # the gradients reaching the initial state
        np.copyto(dh, np.dot(rki[:, : 4 * u], dzy[0, : 4 * u]).T)
        np.copyto(dc, dc2.T)
    # dz in the layer's order
    dzo = dz[order]
    np.copyto(dzo[:, :, : 3 * u], dzy[:steps, u : 4 * u].transpose(0, 2, 1))
    np.copyto(dzo[:, :, 3 * u :], dzy[:steps, :u].transpose(0, 2, 1))


# --- GRU ---------------------------------------------------------------------------------
def gru_forward(xp, hr, a, h_prev, h):
    """Gates ``a`` from the input projection ``xp`` and the recurrent product
    ``hr`` (bias included); the new state ``h``."""
    u = h.shape[1]
    rz = a[:, : 2 * u]
    np.add(xp[:, : 2 * u], hr[:, : 2 * u], out=rz)
    _sigmoid_numpy(rz)
    r, z, nv = a[:, :u], a[:, u : 2 * u], a[:, 2 * u :]
    np.multiply(r, hr[:, 2 * u :], out=nv)
    nv += xp[:, 2 * u :]
    np.tanh(nv, out=nv)
    np.subtract(h_prev, nv, out=h)
    h *= z
    h += nv


def _gru_forward_loop(xp, hr, a, h_prev, h):
    n, u = h.shape
    for b in range(n):
        for j in range(u):
            r = _sig(xp[b, j] + hr[b, j])
            z = _sig(xp[b, u + j] + hr[b, u + j])
            nv = math.tanh(xp[b, 2 * u + j] + r * hr[b, 2 * u + j])
            a[b, j] = r
            a[b, u + j] = z
            a[b, 2 * u + j] = nv
            h[b, j] = nv + z * (h_prev[b, j] - nv)


def _gru_backward_loop(a, hr, h_prev, dh, dz, drec, carry, tmp):
    n, u = dh.shape
    for b in range(n):
        for j in range(u):
            r = a[b, j]
            z = a[b, u + j]
            nv = a[b, 2 * u + j]
            d = dh[b, j]
            dn = d * (1.0 - z) * (1.0 - nv * nv)
            dzz = d * (h_prev[b, j] - nv) * z * (1.0 - z)
            dr = dn * hr[b, 2 * u + j] * r * (1.0 - r)
            dz[b, j] = dr
            dz[b, u + j] = dzz
            dz[b, 2 * u + j] = dn
            drec[b, j] = dr
            drec[b, u + j] = dzz
            drec[b, 2 * u + j] = dn * r
            carry[b, j] = d * z


def _gru_backward_numpy(a, hr, h_prev, dh, dz, drec, carry, tmp):
    """Gate pre-activation gradients ``dz`` and the recurrent products' gradient
    ``drec`` of one step from ``dh``; ``carry`` gets the part of ``dh`` reaching
    the previous state directly (``z * dh``); ``tmp`` is a work array."""
    u = dh.shape[1]
    _, one = _half_one(dh.dtype)
    r, z, nv = a[:, :u], a[:, u : 2 * u], a[:, 2 * u :]
    dr, dzz, dn = dz[:, :u], dz[:, u : 2 * u], dz[:, 2 * u :]
    np.multiply(nv, nv, out=tmp)
    np.subtract(one, tmp, out=tmp)
    np.subtract(one, z, out=dn)
    dn *= tmp
    dn *= dh
    np.subtract(one, z, out=tmp)
    tmp *= z
    np.subtract(h_prev, nv, out=dzz)
    dzz *= dh
    dzz *= tmp
    np.subtract(one, r, out=tmp)
    tmp *= r
    np.multiply(dn, hr[:, 2 * u :], out=dr)
    dr *= tmp
    drec[:, : 2 * u] = dz[:, : 2 * u]
    np.multiply(dn, r, out=drec[:, 2 * u :])
    np.multiply(dh, z, out=carry)


lstm_forward_small = kernel(_lstm_forward_loop, lstm_forward, helpers=(_sig,))
gru_forward_small = kernel(_gru_forward_loop, gru_forward, helpers=(_sig,))
lstm_forward32 = kernel(_lstm_forward32_loop, lstm_forward, helpers=(_tanh32, _sig32))
lstm_backward = kernel(_lstm_backward_loop, _lstm_backward_numpy)
lstm_sequence_numpy = _lstm_sequence_numpy
"""The NumPy forward of a whole small direction, with its ``halved`` option."""
lstm_sequence_backward_numpy = _lstm_sequence_backward_numpy
"""Its backward, which can read the forward's work arrays."""
lstm_sequence32 = kernel(
    _lstm_sequence32_loop,
    _lstm_sequence_numpy,
    helpers=(_tanh32, _sig32, _lstm_forward32_loop, _product_loop),
)
lstm_sequence_backward = kernel(
    _lstm_sequence_backward_loop,
    _lstm_sequence_backward_numpy,
    helpers=(_lstm_backward_loop, _product_loop),
)
gru_backward = kernel(_gru_backward_loop, _gru_backward_numpy)
