"""Elementwise kernels of the layers and activations, as Numba loops with NumPy twins.

Every kernel works on flat (1-D) contiguous arrays, or on 2-D ``(rows, n)`` arrays
for the row-wise softmax, and writes its result into ``out``; callers pass
``a.reshape(-1)`` views of their buffers. The loop and the fallback of a pair
compute the same thing; the tests check that they agree.
"""

from __future__ import annotations

import math

import numpy as np

from .jit import kernel

_SQRT_HALF = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327

# erfc(x) = t * exp(-x**2 + P(t)), t = 1 / (1 + x / 2) for x >= 0: the form of
# Numerical Recipes' erfcc with a degree-14 polynomial fitted by least squares on
# Chebyshev nodes against math.erfc over [0, 26]; relative error below 4e-11.
_ERFC_COEFFS = (
    -1.2655122250417836,
    1.0000060437976492,
    0.37484318692343793,
    0.08568815359020138,
    -0.10885995573532761,
    0.009705685470029923,
    -0.8222588916179537,
    2.5443163337459485,
    -6.150232531745327,
    11.386565044998111,
    -14.063478144279198,
    11.172396299120816,
    -5.539037735470588,
    1.572120628716322,
    -0.19626189249776768,
)


def _erfc_nonneg(a: np.ndarray) -> np.ndarray:
    """erfc(a) for a >= 0, straight from the fitted form (no cancellation)."""
    t = 1.0 / (1.0 + 0.5 * a)
    poly = np.full_like(t, _ERFC_COEFFS[-1])
    for c in _ERFC_COEFFS[-2::-1]:
        poly *= t
        poly += c
    return t * np.exp(poly - a * a)


def _as_float(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)


def erf(x: np.ndarray) -> np.ndarray:
    """Vectorised error function (no SciPy), accurate to about 1e-10 in float64.

    Parameters
    ----------
    x
        Array of any shape; float32 stays float32.

    Returns
    -------
    np.ndarray
        ``erf(x)``, same shape and floating dtype as ``x``.
    """
    x = _as_float(x)
    return np.copysign(1.0 - _erfc_nonneg(np.abs(x)), x).astype(x.dtype, copy=False)


def normal_cdf(z: np.ndarray) -> np.ndarray:
    """Standard normal CDF ``Phi(z) = erfc(-z / sqrt(2)) / 2``, accurate in both tails.

    Computing the small tail directly (not as ``1 + erf``) keeps the relative
    precision of tiny values, in float32 too.
    """
    z = _as_float(z)
    half_tail = 0.5 * _erfc_nonneg(np.abs(z) * _SQRT_HALF)
    return np.where(z < 0, half_tail, 1.0 - half_tail).astype(z.dtype, copy=False)


# --- ReLU ------------------------------------------------------------------------
def _relu_backward_loop(dy, y, out):
    for i in range(out.size):
        out[i] = dy[i] if y[i] > 0 else 0


def _relu_backward_numpy(dy, y, out):
    np.multiply(dy, y > 0, out=out)


relu_backward = kernel(_relu_backward_loop, _relu_backward_numpy)


# --- Leaky ReLU ----------------------------------------------------------------------
def _leaky_relu_forward_loop(z, alpha, out):
    for i in range(out.size):
        zi = z[i]
        out[i] = zi if zi > 0 else alpha * zi


def _leaky_relu_forward_numpy(z, alpha, out):
    np.multiply(z, np.where(z > 0, 1.0, alpha).astype(out.dtype), out=out)


def _leaky_relu_backward_loop(dy, z, alpha, out):
    for i in range(out.size):
        out[i] = dy[i] if z[i] > 0 else alpha * dy[i]


def _leaky_relu_backward_numpy(dy, z, alpha, out):
    np.multiply(dy, np.where(z > 0, 1.0, alpha).astype(out.dtype), out=out)


leaky_relu_forward = kernel(_leaky_relu_forward_loop, _leaky_relu_forward_numpy)
leaky_relu_backward = kernel(_leaky_relu_backward_loop, _leaky_relu_backward_numpy)


# --- ELU -----------------------------------------------------------------------------
def _elu_forward_loop(z, alpha, out):
    for i in range(out.size):
        zi = z[i]
        out[i] = zi if zi > 0 else alpha * math.expm1(zi)


def _elu_forward_numpy(z, alpha, out):
    # expm1 of min(z, 0) never overflows and keeps precision near zero.
    neg = alpha * np.expm1(np.minimum(z, 0))
    np.copyto(out, np.where(z > 0, z, neg))


def _elu_backward_loop(dy, z, alpha, out):
    for i in range(out.size):
        zi = z[i]
        out[i] = dy[i] if zi > 0 else dy[i] * alpha * math.exp(zi)


def _elu_backward_numpy(dy, z, alpha, out):
    slope = np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0)))
    np.multiply(dy, slope, out=out, casting="same_kind")


elu_forward = kernel(_elu_forward_loop, _elu_forward_numpy)
elu_backward = kernel(_elu_backward_loop, _elu_backward_numpy)


# --- tanh ----------------------------------------------------------------------------
def _tanh_backward_loop(dy, y, out):
    for i in range(out.size):
        yi = y[i]
        out[i] = dy[i] * (1 - yi * yi)


def _tanh_backward_numpy(dy, y, out):
    np.multiply(y, y, out=out)
    np.subtract(1, out, out=out)
    np.multiply(out, dy, out=out)


tanh_backward = kernel(_tanh_backward_loop, _tanh_backward_numpy)


# --- sigmoid -------------------------------------------------------------------------
def scalar_sigmoid(z):
    """The logistic function of one value; exp never overflows."""
    if z >= 0:
        return 1 / (1 + math.exp(-z))
    e = math.exp(z)
    return e / (1 + e)


def _sigmoid_forward_loop(z, out):
    for i in range(out.size):
        out[i] = scalar_sigmoid(z[i])


def _sigmoid_forward_numpy(z, out):
    # exp(-|z|) lies in (0, 1]: no overflow, and tiny outputs keep their precision.
    e = np.exp(-np.abs(z))
    np.divide(np.where(z >= 0, 1, e), 1 + e, out=out, casting="same_kind")


def _sigmoid_backward_loop(dy, y, out):
    for i in range(out.size):
        yi = y[i]
        out[i] = dy[i] * yi * (1 - yi)


def _sigmoid_backward_numpy(dy, y, out):
    np.subtract(1, y, out=out)
    np.multiply(out, y, out=out)
    np.multiply(out, dy, out=out)


sigmoid_forward = kernel(_sigmoid_forward_loop, _sigmoid_forward_numpy, (scalar_sigmoid,))
sigmoid_backward = kernel(_sigmoid_backward_loop, _sigmoid_backward_numpy)


# --- GELU (exact, erf form) ------------------------------------------------------------
def _gelu_forward_loop(z, out):
    for i in range(out.size):
        zi = z[i]
        out[i] = 0.5 * zi * math.erfc(-zi * _SQRT_HALF)


def _gelu_forward_numpy(z, out):
    np.multiply(z, normal_cdf(z), out=out, casting="same_kind")


def _gelu_backward_loop(dy, z, out):
    for i in range(out.size):
        zi = z[i]
        cdf = 0.5 * math.erfc(-zi * _SQRT_HALF)
        pdf = _INV_SQRT_2PI * math.exp(-0.5 * zi * zi)
        out[i] = dy[i] * (cdf + zi * pdf)


def _gelu_backward_numpy(dy, z, out):
    pdf = _INV_SQRT_2PI * np.exp(-0.5 * z * z)
    np.multiply(dy, normal_cdf(z) + z * pdf, out=out, casting="same_kind")


gelu_forward = kernel(_gelu_forward_loop, _gelu_forward_numpy)
gelu_backward = kernel(_gelu_backward_loop, _gelu_backward_numpy)


# float32 GELU without libm calls, so LLVM vectorises the loops (math.erfc and
# math.exp were scalar calls: 1M values took 16 ms forward, 24 ms backward). erf is
# the rational approximation of Eigen's ``generic_fast_erf_float`` (odd degree 13
# over even degree 8 on [-4, 4], exactly +-1 beyond; error 6.5e-8), exp(-z*z/2)
# a degree-7 fit of exp on [-17/16, 0] (error 2.2e-9) raised to the 16th power by
# squaring, and zero below -17 (where z * pdf < 1e-7). All in float32 arithmetic:
# within 1.1e-6 of exact GELU forward (near z = -5.6, where 1 + erf cancels) and
# 3.1e-7 backward (tests/engine/test_gelu32.py). 1M values: 0.57 ms forward, 1.06 ms
# backward.
# float64 arrays keep the exact kernels above. Without Numba the twins run the
# same rational erf (and np.exp) as float32 NumPy passes over 32k-value chunks:
# 1M values 5.1 ms forward and 6.7 ms backward, against 14 and 20 ms for the
# float64-accurate NumPy GELU (before the trims below: 27 passes forward instead
# of 33, and the activation's gradient ``gelu_backward32y`` takes Phi(z) from the
# forward output in 11 passes instead of recomputing erf in 35).
_F = np.float32
_ERF_P = tuple(map(_F, (
    -2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
    -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03,
    -1.60960333262415e-02,
)))  # fmt: skip
_ERF_Q = tuple(map(_F, (
    -1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
    -7.37332916720468e-03, -1.42647390514189e-02,
)))  # fmt: skip
_EXP_FIT = tuple(map(_F, (
    0.00011767357263124648, 0.0012623504254069605, 0.008225014267174889,
    0.04161428105760757, 0.1666527724170247, 0.4999981800765249,
    0.999999908868555, 0.9999999992495772,
)))  # fmt: skip
_P0, _P1, _P2, _P3, _P4, _P5, _P6 = _ERF_P
_Q0, _Q1, _Q2, _Q3, _Q4 = _ERF_Q
_E0, _E1, _E2, _E3, _E4, _E5, _E6, _E7 = _EXP_FIT
_F_SQRT_HALF, _F_INV_SQRT_2PI = _F(_SQRT_HALF), _F(_INV_SQRT_2PI)
_F_HALF, _F_ONE, _F_FOUR, _F_ZERO = _F(0.5), _F(1.0), _F(4.0), _F(0.0)
_F_EXP_FLOOR, _F_SIXTEENTH = _F(-17.0), _F(1.0 / 16.0)


def _erf32(x):
    c = min(max(x, -_F_FOUR), _F_FOUR)
    x2 = c * c
    p = _P0 * x2 + _P1
    p = p * x2 + _P2
    p = p * x2 + _P3
    p = p * x2 + _P4
    p = p * x2 + _P5
    p = p * x2 + _P6
    q = _Q0 * x2 + _Q1
    q = q * x2 + _Q2
    q = q * x2 + _Q3
    q = q * x2 + _Q4
    e = c * p / q
    if x >= _F_FOUR:
        e = _F_ONE
    if x <= -_F_FOUR:
        e = -_F_ONE
    return e


def _exp_neg32(y):
    """exp(y) for y <= 0 (0 below -17)."""
    w = max(y, _F_EXP_FLOOR) * _F_SIXTEENTH
    e = _E0 * w + _E1
    e = e * w + _E2
    e = e * w + _E3
    e = e * w + _E4
    e = e * w + _E5
    e = e * w + _E6
    e = e * w + _E7
    e = e * e
    e = e * e
    e = e * e
    e = e * e
    if y < _F_EXP_FLOOR:
        e = _F_ZERO
    return e


def _gelu_forward32_loop(z, out):
    for i in range(out.size):
        zi = z[i]
        out[i] = _F_HALF * zi * (_F_ONE + _erf32(zi * _F_SQRT_HALF))


def _gelu_backward32_loop(dy, z, out):
    for i in range(out.size):
        zi = z[i]
        cdf = _F_HALF * (_F_ONE + _erf32(zi * _F_SQRT_HALF))
        pdf = _F_INV_SQRT_2PI * _exp_neg32(-_F_HALF * zi * zi)
        out[i] = dy[i] * (cdf + zi * pdf)


_GELU32_CHUNK = 32_768
"""Values per NumPy pass of the float32 twins: their dozen work arrays stay in
the L2 cache."""


def _np32(value) -> np.ndarray:
    """A 0-d float32 array: as a ufunc operand it costs about 1.5 µs less per
    call than a NumPy or Python scalar (NumPy 2.4), the same arithmetic."""
    return np.array(value, np.float32)


_ERF_P_HALF = tuple(_np32(_F_HALF * c) for c in _ERF_P)
"""``_ERF_P`` halved: the numerator then gives erf / 2 (halving is exact)."""
_ERF_Q_NP = tuple(_np32(c) for c in _ERF_Q)
_N_SQRT_HALF, _N_FOUR, _N_MINUS_FOUR = _np32(_SQRT_HALF), _np32(4.0), _np32(-4.0)
_N_HALF, _N_MINUS_HALF, _N_INV_SQRT_2PI = _np32(0.5), _np32(-0.5), _np32(_INV_SQRT_2PI)


def _cdf32_numpy(z: np.ndarray, e: np.ndarray, x2: np.ndarray, q: np.ndarray) -> None:
    """``e`` = Phi(z) by the same rational erf as ``_erf32``, in float32 NumPy
    passes over one chunk (``x2`` and ``q`` are work arrays).

    Beyond the fit's range the clipped argument is exactly +-4, where the
    rational gives exactly +-1 in float32 (``test_gelu32``): the saturation needs
    no pass of its own. The numerator's coefficients are halved, so the quotient
    is erf / 2 and Phi one addition away (bit-equal to halving afterwards).
    """
    np.multiply(z, _N_SQRT_HALF, out=e)
    np.clip(e, _N_MINUS_FOUR, _N_FOUR, out=e)
    np.multiply(e, e, out=x2)
    np.multiply(x2, _ERF_P_HALF[0], out=q)
    q += _ERF_P_HALF[1]
    for c in _ERF_P_HALF[2:]:
        q *= x2
        q += c
    e *= q
    np.multiply(x2, _ERF_Q_NP[0], out=q)
    q += _ERF_Q_NP[1]
    for c in _ERF_Q_NP[2:]:
        q *= x2
        q += c
    e /= q
    e += _N_HALF


def _gelu_forward32_numpy(z, out):
    n = z.size
    work = np.empty((3, min(n, _GELU32_CHUNK)), np.float32)
    for lo in range(0, n, _GELU32_CHUNK):
        hi = min(lo + _GELU32_CHUNK, n)
        e, x2, q = work[0, : hi - lo], work[1, : hi - lo], work[2, : hi - lo]
        _cdf32_numpy(z[lo:hi], e, x2, q)
        np.multiply(z[lo:hi], e, out=out[lo:hi])


def _gelu_backward32_numpy(dy, z, out):
    n = z.size
    work = np.empty((3, min(n, _GELU32_CHUNK)), np.float32)
    for lo in range(0, n, _GELU32_CHUNK):
        hi = min(lo + _GELU32_CHUNK, n)
        e, x2, q = work[0, : hi - lo], work[1, : hi - lo], work[2, : hi - lo]
        zc = z[lo:hi]
        _cdf32_numpy(zc, e, x2, q)
        np.multiply(zc, zc, out=x2)
        x2 *= _N_MINUS_HALF
        np.exp(x2, out=x2)
        x2 *= zc
        x2 *= _N_INV_SQRT_2PI
        e += x2
        np.multiply(dy[lo:hi], e, out=out[lo:hi])


def _gelu_backward32y_loop(dy, z, y, out):
    # Compiled, Phi(z) costs less than reading y: the loop above, y unused.
    for i in range(out.size):
        zi = z[i]
        cdf = _F_HALF * (_F_ONE + _erf32(zi * _F_SQRT_HALF))
        pdf = _F_INV_SQRT_2PI * _exp_neg32(-_F_HALF * zi * zi)
        out[i] = dy[i] * (cdf + zi * pdf)


_F_TINY = _F(1e-30)


def _gelu_backward32y_numpy(dy, z, y, out):
    """The float32 GELU gradient given the forward output ``y = z * Phi(z)`` too:
    ``Phi(z) = y / z`` (within 2 ulps of the forward's Phi; 0.5 where ``|z| <
    1e-30``) spares the rational erf, 11 passes instead of 35 (135k values:
    about 3.5x faster)."""
    n = z.size
    work = np.empty((2, min(n, _GELU32_CHUNK)), np.float32)
    for lo in range(0, n, _GELU32_CHUNK):
        hi = min(lo + _GELU32_CHUNK, n)
        e, w = work[0, : hi - lo], work[1, : hi - lo]
        zc = z[lo:hi]
        np.multiply(zc, _N_MINUS_HALF, out=w)  # z * pdf(z)
        w *= zc
        np.exp(w, out=w)
        w *= zc
        w *= _N_INV_SQRT_2PI
        with np.errstate(divide="ignore", invalid="ignore"):
            np.divide(y[lo:hi], zc, out=e)
        np.copyto(e, _N_HALF, where=np.abs(zc) < _F_TINY)
        e += w
        np.multiply(dy[lo:hi], e, out=out[lo:hi])


gelu_forward32 = kernel(_gelu_forward32_loop, _gelu_forward32_numpy, helpers=(_erf32,))
gelu_backward32 = kernel(
    _gelu_backward32_loop, _gelu_backward32_numpy, helpers=(_erf32, _exp_neg32)
)
gelu_backward32y = kernel(
    _gelu_backward32y_loop, _gelu_backward32y_numpy, helpers=(_erf32, _exp_neg32)
)


# --- SiLU (swish) --------------------------------------------------------------------
def _silu_forward_loop(z, out):
    for i in range(out.size):
        zi = z[i]
        if zi >= 0:
            out[i] = zi / (1 + math.exp(-zi))
        else:
            e = math.exp(zi)
            out[i] = zi * e / (1 + e)


def _silu_forward_numpy(z, out):
    _sigmoid_forward_numpy(z, out)
    np.multiply(out, z, out=out)


def _silu_backward_loop(dy, z, out):
    for i in range(out.size):
        zi = z[i]
        s = scalar_sigmoid(zi)
        out[i] = dy[i] * s * (1 + zi * (1 - s))


def _silu_backward_numpy(dy, z, out):
    s = np.empty_like(out)
    _sigmoid_forward_numpy(z, s)
    np.multiply(dy, s * (1 + z * (1 - s)), out=out, casting="same_kind")


silu_forward = kernel(_silu_forward_loop, _silu_forward_numpy)
silu_backward = kernel(_silu_backward_loop, _silu_backward_numpy, (scalar_sigmoid,))


# --- softplus -------------------------------------------------------------------------
def _softplus_forward_loop(z, out):
    for i in range(out.size):
        zi = z[i]
        out[i] = max(zi, 0) + math.log1p(math.exp(-abs(zi)))


def _softplus_forward_numpy(z, out):
    # max(z, 0) + log1p(exp(-|z|)): exact for both tails, never overflows.
    np.add(np.maximum(z, 0), np.log1p(np.exp(-np.abs(z))), out=out, casting="same_kind")


def _softplus_backward_loop(dy, z, out):
    for i in range(out.size):
        out[i] = dy[i] * scalar_sigmoid(z[i])


def _softplus_backward_numpy(dy, z, out):
    _sigmoid_forward_numpy(z, out)
    np.multiply(out, dy, out=out)


softplus_forward = kernel(_softplus_forward_loop, _softplus_forward_numpy)
softplus_backward = kernel(
    _softplus_backward_loop, _softplus_backward_numpy, (scalar_sigmoid,)
)


# --- softmax over the last axis of a 2-D (rows, n) array -------------------------------
def _softmax_forward_loop(z, out):
    rows, n = z.shape
    for r in range(rows):
        m = z[r, 0]
        for j in range(1, n):
            if z[r, j] > m:
                m = z[r, j]
        total = 0.0
        for j in range(n):
            e = math.exp(z[r, j] - m)
            out[r, j] = e
            total += e
        inv = 1 / total
        for j in range(n):
            out[r, j] *= inv


def _softmax_forward_numpy(z, out):
    np.subtract(z, z.max(axis=-1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=-1, keepdims=True)


def _softmax_backward_loop(dy, y, out):
    rows, n = y.shape
    for r in range(rows):
        dot = 0.0
        for j in range(n):
            dot += dy[r, j] * y[r, j]
        for j in range(n):
            out[r, j] = y[r, j] * (dy[r, j] - dot)


def _softmax_backward_numpy(dy, y, out):
    np.multiply(dy, y, out=out)
    dot = out.sum(axis=-1, keepdims=True)
    np.subtract(dy, dot, out=out)
    np.multiply(out, y, out=out)


softmax_forward = kernel(_softmax_forward_loop, _softmax_forward_numpy)
softmax_backward = kernel(_softmax_backward_loop, _softmax_backward_numpy)


# --- inverted dropout ------------------------------------------------------------------
def _dropout_forward_loop(x, u, rate, scale, mask, out):
    for i in range(out.size):
        m = scale if u[i] >= rate else 0
        mask[i] = m
        out[i] = x[i] * m


def _dropout_forward_numpy(x, u, rate, scale, mask, out):
    np.multiply(u >= rate, scale, out=mask, casting="unsafe")
    np.multiply(x, mask, out=out)


dropout_forward = kernel(_dropout_forward_loop, _dropout_forward_numpy)


# --- Dense bias: add to each row, and sum the rows (the bias gradient) ------------
def _bias_add_loop(z, b):
    rows, n = z.shape
    for r in range(rows):
        for j in range(n):
            z[r, j] += b[j]


def _bias_add_numpy(z, b):
    z += b


def _column_sum_loop(dz, out):
    rows, n = dz.shape
    acc = np.zeros(n)  # float64 accumulators: batch sums keep full precision
    for r in range(rows):
        for j in range(n):
            acc[j] += dz[r, j]
    for j in range(n):
        out[j] = acc[j]


# One ones-vector per (rows, dtype): a training run sees one or two batch sizes.
_ONES: dict[tuple[int, np.dtype], np.ndarray] = {}


def _column_sum_numpy(dz, out):
    if dz.dtype == out.dtype and dz.dtype.char in "fd" and out.flags.c_contiguous:
        # ones @ dz is one BLAS GEMV, 2-4x faster than add.reduce on small batches.
        key = (dz.shape[0], dz.dtype)
        ones = _ONES.get(key)
        if ones is None:
            if len(_ONES) >= 32:  # many batch sizes: start over rather than grow
                _ONES.clear()
            ones = _ONES[key] = np.ones(dz.shape[0], dz.dtype)
        np.dot(ones, dz, out=out)
    else:
        np.add.reduce(dz, axis=0, out=out)


# Small batches spend most of their time in NumPy's per-call overhead (broadcasting
# is the slow path), which one compiled loop avoids.
bias_add = kernel(_bias_add_loop, _bias_add_numpy)
column_sum = kernel(_column_sum_loop, _column_sum_numpy)


# --- data checks ---------------------------------------------------------------------
def _all_finite_loop(x):
    for i in range(x.size):
        if not math.isfinite(x[i]):
            return False
    return True


def _all_finite_numpy(x):
    # One BLAS call, no temporary and no floating-point warning: any NaN/Inf makes
    # x.x non-finite; an overflow of finite values is settled by the exact test.
    if x.dtype.kind == "f" and math.isfinite(np.vdot(x, x)):
        return True
    return bool(np.isfinite(x).all())


all_finite = kernel(_all_finite_loop, _all_finite_numpy)


# --- small Dense layers in one call ---------------------------------------------------
# For a few hundred multiply-adds NumPy's per-call cost (matmul, bias, activation:
# about a microsecond each) outweighs the arithmetic, so small layers run their whole
# forward or backward pass in one compiled loop. Activation codes: DENSE_ACTIVATIONS.
DENSE_ACTIVATIONS = {"linear": 0, "relu": 1, "tanh": 2, "sigmoid": 3}


def act_value(z, act):
    """Activation code ``act`` (DENSE_ACTIVATIONS) at the pre-activation ``z``."""
    if act == 1:
        # NaN < 0 is false, so NaN passes through as in np.maximum.
        return z - z if z < 0 else z
    if act == 2:
        return math.tanh(z)
    if act == 3:
        return scalar_sigmoid(z)
    return z


def act_grad(d, y, act):
    """``d`` through activation code ``act``, given its output ``y``."""
    if act == 1:
        return d if y > 0 else 0.0
    if act == 2:
        return d * (1 - y * y)
    if act == 3:
        return d * y * (1 - y)
    return d


def _dense_forward_loop(x, w, b, z, y, act):
    """``z = x @ w + b`` (``b`` empty for no bias) and ``y = act(z)``; ``y`` may
    be ``z``."""
    rows, n_in = x.shape
    n_out = w.shape[1]
    for r in range(rows):
        for j in range(n_out):
            acc = 0.0
            for i in range(n_in):
                acc += x[r, i] * w[i, j]
            if b.size > 0:
                acc += b[j]
            z[r, j] = acc
            y[r, j] = act_value(z[r, j], act)


def _dense_forward_numpy(x, w, b, z, y, act):
    np.matmul(x, w, out=z)
    if b.size > 0:
        z += b
    if act == 1:
        np.maximum(z, 0, out=y)
    elif act == 2:
        np.tanh(z, out=y)
    elif act == 3:
        _sigmoid_forward_numpy(z.reshape(-1), y.reshape(-1))
    elif y is not z:
        np.copyto(y, z)


def _dense_backward_loop(dy, y, x, w, gw, gb, dz, dx, act):
    """From the output gradient ``dy`` (the pre-activation gradient when ``act`` is
    0): ``dz``, ``gw = x.T @ dz``, ``gb = dz.sum(0)`` (when ``gb`` is not empty) and
    ``dx = dz @ w.T`` (when ``dx`` is not empty)."""
    rows, n_out = dy.shape
    n_in = x.shape[1]
    for r in range(rows):
        for j in range(n_out):
            dz[r, j] = act_grad(dy[r, j], y[r, j], act)
    for i in range(n_in):
        for j in range(n_out):
            acc = 0.0
            for r in range(rows):
                acc += x[r, i] * dz[r, j]
            gw[i, j] = acc
    if gb.size > 0:
        for j in range(n_out):
            acc = 0.0
            for r in range(rows):
                acc += dz[r, j]
            gb[j] = acc
    if dx.size > 0:
        for r in range(rows):
            for i in range(n_in):
                acc = 0.0
                for j in range(n_out):
                    acc += dz[r, j] * w[i, j]
                dx[r, i] = acc


def _dense_backward_numpy(dy, y, x, w, gw, gb, dz, dx, act):
    if act == 1:
        np.multiply(dy, y > 0, out=dz)
    elif act == 2:
        _tanh_backward_numpy(dy.reshape(-1), y.reshape(-1), dz.reshape(-1))
    elif act == 3:
        _sigmoid_backward_numpy(dy.reshape(-1), y.reshape(-1), dz.reshape(-1))
    else:
        np.copyto(dz, dy)
    np.matmul(x.T, dz, out=gw)
    if gb.size > 0:
        np.add.reduce(dz, axis=0, out=gb)
    if dx.size > 0:
        np.matmul(dz, w.T, out=dx)


dense_forward = kernel(
    _dense_forward_loop, _dense_forward_numpy, (scalar_sigmoid, act_value)
)
dense_backward = kernel(_dense_backward_loop, _dense_backward_numpy, (act_grad,))
