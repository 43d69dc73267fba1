"""Kernels of the attention family: LayerNormalization forward and backward.

Each is one pass per row with Numba (row sums in float64), against about ten
NumPy passes over the whole array, which made a LayerNorm slower than the
attention it feeds. Arrays are ``(rows, features)``: ``x2``/``dy2`` the input or
output gradient, ``xhat`` the normalised values and ``inv_std`` ``(rows, 1)``
``1/sqrt(var + eps)``, both kept for backward. The NumPy twins take the row
means as matrix-vector products (704x48, min of 40 at load 11: forward 71
against 119 µs, backward 118 against 160; 2048x128: 410 against 577, 652
against 809).
"""

from __future__ import annotations

import math

import numpy as np

from .jit import kernel

__all__ = ["layer_norm_backward", "layer_norm_forward"]


def _forward_loop(x2, gamma, beta, eps, y, xhat, inv_std):
    rows, n = x2.shape
    for r in range(rows):
        s = 0.0
        for j in range(n):
            s += x2[r, j]
        mean = s / n
        v = 0.0
        for j in range(n):
            d = x2[r, j] - mean
            v += d * d
        inv = 1.0 / math.sqrt(v / n + eps)
        inv_std[r, 0] = inv
        for j in range(n):
            h = (x2[r, j] - mean) * inv
            xhat[r, j] = h
            y[r, j] = h * gamma[j] + beta[j]


_MEANS: dict[tuple[int, np.dtype], np.ndarray] = {}


def _row_means(a: np.ndarray, out: np.ndarray) -> None:
    """``out`` ``(rows,)`` = the mean of each row of the contiguous 2-D ``a``, as
    one matrix-vector product: NumPy's reduction over rows of a few dozen values
    cost 3-5x more (704 rows of 48)."""
    n = a.shape[1]
    key = (n, a.dtype)
    w = _MEANS.get(key)
    if w is None:
        if len(_MEANS) >= 32:
            _MEANS.clear()
        w = _MEANS[key] = np.full(n, 1.0 / n, a.dtype)
    if a.flags.c_contiguous and out.dtype == a.dtype:
        np.dot(a, w, out=out)
    else:
        np.mean(a, axis=1, out=out)


def _forward_numpy(x2, gamma, beta, eps, y, xhat, inv_std):
    col = inv_std[:, 0]
    _row_means(x2, col)
    np.subtract(x2, inv_std, out=xhat)
    np.multiply(xhat, xhat, out=y)  # y is scratch until the output is written
    _row_means(y, col)
    inv_std += eps
    np.sqrt(inv_std, out=inv_std)
    np.reciprocal(inv_std, out=inv_std)
    xhat *= inv_std
    np.multiply(xhat, gamma, out=y)
    y += beta


def _backward_loop(dy2, xhat, inv_std, gamma, dgamma, dbeta, dx, need_dx):
    rows, n = dy2.shape
    for j in range(n):
        dgamma[j] = 0.0
        dbeta[j] = 0.0
    for r in range(rows):
        sg = 0.0
        sgx = 0.0
        for j in range(n):
            d = dy2[r, j]
            h = xhat[r, j]
            dgamma[j] += d * h
            dbeta[j] += d
            g = d * gamma[j]
            sg += g
            sgx += g * h
        if need_dx:
            mg = sg / n
            mgx = sgx / n
            inv = inv_std[r, 0]
            for j in range(n):
                dx[r, j] = inv * (dy2[r, j] * gamma[j] - mg - xhat[r, j] * mgx)


def _backward_numpy(dy2, xhat, inv_std, gamma, dgamma, dbeta, dx, need_dx):
    # dx is scratch until the gradient is written
    np.multiply(dy2, xhat, out=dx)
    np.add.reduce(dx, axis=0, out=dgamma)
    np.add.reduce(dy2, axis=0, out=dbeta)
    if not need_dx:
        return
    # With g = dy * gamma: dx = inv_std * (g - mean(g) - xhat * mean(g * xhat)).
    g = np.multiply(dy2, gamma)
    np.multiply(g, xhat, out=dx)
    means = np.empty((2, dx.shape[0], 1), dx.dtype)
    _row_means(dx, means[0, :, 0])
    _row_means(g, means[1, :, 0])
    g -= means[1]
    np.multiply(xhat, means[0], out=dx)
    np.subtract(g, dx, out=dx)
    dx *= inv_std


layer_norm_forward = kernel(_forward_loop, _forward_numpy)
layer_norm_backward = kernel(_backward_loop, _backward_numpy)
