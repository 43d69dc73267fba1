"""Numba kernels of the training side: fused optimizer updates and fused losses.

Every kernel updates ``p`` and its state arrays in place from the raw gradient
``g``. The gradient is first scaled by ``scale`` (global-norm clipping, 1 when
off), then clamped to ``[-clip, clip]`` (value clipping, off when ``clip <= 0``),
then gets ``wd * p`` added (L2 weight decay, as torch.optim); ``g`` itself is never
written. The Numba loops take flat 1-D views; the NumPy fallbacks take arrays of
any shape plus two scratch arrays ``t1``, ``t2`` shaped like ``p`` (the loops
ignore them), so a step allocates nothing.

Scalars arrive already cast to the parameter dtype and derived constants such as
``1 - beta1`` are passed in, so a float32 loop never widens to float64 and LLVM
vectorises it. The formulas follow the single-tensor code paths of torch.optim 2.x.
"""

from __future__ import annotations

import math

import numpy as np

from .jit import kernel


def _effective_grad_numpy(p, g, t1, t2, scale, clip, wd):
    """``t1 = clamp(g * scale) + wd * p``; returns ``t1``."""
    if scale != 1:
        np.multiply(g, scale, out=t1)
    else:
        np.copyto(t1, g)
    if clip > 0:
        np.clip(t1, -clip, clip, out=t1)
    if wd != 0:
        np.multiply(p, wd, out=t2)
        t1 += t2
    return t1


# --- per-element steps shared by the compiled loops (and the Dense-chain step) ------
def grad_in(g, p, scale, clip, wd):
    """The gradient an update uses: ``g * scale``, clamped to ``[-clip, clip]`` when
    ``clip > 0``, plus the L2 term ``wd * p``."""
    gi = g * scale
    if clip > 0:
        gi = min(max(gi, -clip), clip)
    if wd != 0:
        gi += wd * p
    return gi


def momentum_step(gi, b, momentum, nesterov):
    """SGD momentum: ``(new buffer, direction to step along)``."""
    # buf starts at zero, so the first step gives buf = g as torch's clone.
    b = momentum * b + gi
    return b, (gi + momentum * b if nesterov else b)


def adam_step(p, gi, m, v, step_size, w1, beta2, w2, bc2_sqrt, eps, decay):
    """One Adam update of one value: ``(p, m, v)`` after it."""
    # m += (1 - beta1) * (g - m) is torch's lerp_; w1 = 1 - beta1, w2 = 1 - beta2.
    mi = m + w1 * (gi - m)
    vi = beta2 * v + w2 * (gi * gi)
    return p * decay - step_size * mi / (math.sqrt(vi) / bc2_sqrt + eps), mi, vi


# --- SGD (with momentum and Nesterov) ----------------------------------------------
def _sgd_loop(p, g, buf, t1, t2, lr, momentum, nesterov, wd, scale, clip):
    for i in range(p.size):
        gi = grad_in(g[i], p[i], scale, clip, wd)
        if momentum != 0:
            buf[i], gi = momentum_step(gi, buf[i], momentum, nesterov)
        p[i] -= lr * gi


def _sgd_numpy(p, g, buf, t1, t2, lr, momentum, nesterov, wd, scale, clip):
    if momentum != 0 and not nesterov:
        # The common case in three passes: buf = momentum * buf + d, p -= lr * buf.
        d = (
            g
            if scale == 1 and clip <= 0 and wd == 0
            else (_effective_grad_numpy(p, g, t1, t2, scale, clip, wd))
        )
        buf *= momentum
        buf += d
        np.multiply(buf, lr, out=t1)
        p -= t1
        return
    d = _effective_grad_numpy(p, g, t1, t2, scale, clip, wd)
    if momentum != 0:
        buf *= momentum
        buf += d
        np.multiply(buf, momentum, out=t2)
        d += t2
    d *= lr
    p -= d


sgd_update = kernel(_sgd_loop, _sgd_numpy, (grad_in, momentum_step))


# --- Adam / AdamW ---------------------------------------------------------------------
def _adam_loop(
    p, g, m, v, t1, t2, step_size, w1, beta2, w2, bc2_sqrt, eps, wd, decay, scale, clip
):
    for i in range(p.size):
        gi = grad_in(g[i], p[i], scale, clip, wd)
        p[i], m[i], v[i] = adam_step(
            p[i], gi, m[i], v[i], step_size, w1, beta2, w2, bc2_sqrt, eps, decay
        )


def _adam_numpy(
    p, g, m, v, t1, t2, step_size, w1, beta2, w2, bc2_sqrt, eps, wd, decay, scale, clip
):
    # Without clipping or decay the raw gradient is read directly: every pass over
    # the arrays counts (this update is up to 40 % of a small-batch step).
    if scale != 1 or clip > 0 or wd != 0:
        d = _effective_grad_numpy(p, g, t1, t2, scale, clip, wd)
    else:
        d = g
    if decay != 1:
        p *= decay
    np.subtract(d, m, out=t2)
    t2 *= w1
    m += t2
    v *= beta2
    np.multiply(d, d, out=t2)
    t2 *= w2
    v += t2
    # sqrt(v) / bc2 + eps == (sqrt(v) + eps * bc2) / bc2: folding bc2 into the two
    # scalars (as torch's foreach Adam does) saves a pass; equal within rounding.
    np.sqrt(v, out=t2)
    t2 += eps * bc2_sqrt
    np.divide(m, t2, out=t2)
    t2 *= step_size * bc2_sqrt
    p -= t2


adam_update = kernel(_adam_loop, _adam_numpy, (grad_in, adam_step))


# --- RMSprop ----------------------------------------------------------------------
def _rmsprop_loop(
    p, g, sq, gavg, buf, t1, t2, lr, alpha, w, eps, wd, momentum, centered, scale, clip
):
    for i in range(p.size):
        gi = grad_in(g[i], p[i], scale, clip, wd)
        s = alpha * sq[i] + w * (gi * gi)
        sq[i] = s
        if centered:
            ga = gavg[i] + w * (gi - gavg[i])
            gavg[i] = ga
            var = s - ga * ga
            if var < 0:
                # Rounding can push it a hair below zero (torch gives NaN there);
                # var - var is 0 in the array's own dtype.
                var = var - var
            avg = math.sqrt(var) + eps
        else:
            avg = math.sqrt(s) + eps
        if momentum > 0:
            b = momentum * buf[i] + gi / avg
            buf[i] = b
            p[i] -= lr * b
        else:
            p[i] -= lr * gi / avg


def _rmsprop_numpy(
    p, g, sq, gavg, buf, t1, t2, lr, alpha, w, eps, wd, momentum, centered, scale, clip
):
    d = _effective_grad_numpy(p, g, t1, t2, scale, clip, wd)
    sq *= alpha
    np.multiply(d, d, out=t2)
    t2 *= w
    sq += t2
    if centered:
        np.subtract(d, gavg, out=t2)
        t2 *= w
        gavg += t2
        np.multiply(gavg, gavg, out=t2)
        np.subtract(sq, t2, out=t2)
        np.maximum(t2, 0, out=t2)
        np.sqrt(t2, out=t2)
    else:
        np.sqrt(sq, out=t2)
    t2 += eps
    np.divide(d, t2, out=d)
    if momentum > 0:
        buf *= momentum
        buf += d
        np.multiply(buf, lr, out=d)
    else:
        d *= lr
    p -= d


rmsprop_update = kernel(_rmsprop_loop, _rmsprop_numpy, (grad_in,))


# --- Adagrad ----------------------------------------------------------------------
def _adagrad_loop(p, g, acc, t1, t2, lr, eps, wd, scale, clip):
    for i in range(p.size):
        gi = grad_in(g[i], p[i], scale, clip, wd)
        a = acc[i] + gi * gi
        acc[i] = a
        p[i] -= lr * gi / (math.sqrt(a) + eps)


def _adagrad_numpy(p, g, acc, t1, t2, lr, eps, wd, scale, clip):
    d = _effective_grad_numpy(p, g, t1, t2, scale, clip, wd)
    np.multiply(d, d, out=t2)
    acc += t2
    np.sqrt(acc, out=t2)
    t2 += eps
    np.divide(d, t2, out=d)
    d *= lr
    p -= d


adagrad_update = kernel(_adagrad_loop, _adagrad_numpy, (grad_in,))


# --- fused losses -------------------------------------------------------------------
# Each returns (sum of the per-sample losses, index of the first invalid target or
# -1) and writes d mean-loss / d logits into ``grad``; ``inv_n`` is 1 / (number of
# terms in the mean). A target is invalid when it is NaN or outside [0, 1] (or, for
# labels, outside [0, classes)); the caller raises the error with the details.
def _bce_logits_loop(z, y, grad, inv_n):
    total = 0.0
    bad = -1
    for i in range(z.size):
        yi = y[i]
        if not (yi >= 0 and yi <= 1):
            if bad < 0:
                bad = i
            continue
        zi = z[i]
        # e = exp(-|z|) never overflows and gives both the loss and the sigmoid.
        e = math.exp(-abs(zi))
        total += max(zi, 0.0) - zi * yi + math.log1p(e)
        p = 1.0 / (1.0 + e) if zi >= 0 else e / (1.0 + e)
        grad[i] = (p - yi) * inv_n
    return total, bad


def _bce_logits_numpy(z, y, grad, inv_n):
    invalid = ~((y >= 0) & (y <= 1))
    if invalid.any():
        return 0.0, int(np.argmax(invalid))
    e = np.exp(-np.abs(z))
    per = np.log1p(e)
    per += np.maximum(z, 0)
    per -= z * y
    np.divide(np.where(z >= 0, 1, e), 1 + e, out=grad)
    grad -= y
    grad *= inv_n
    return float(per.sum(dtype=np.float64)), -1


bce_logits = kernel(_bce_logits_loop, _bce_logits_numpy)


def _cce_logits_loop(z, y, grad, inv_n):
    """``z``, ``y``, ``grad`` are ``(samples, classes)``."""
    total = 0.0
    bad = -1
    rows, k = z.shape
    for r in range(rows):
        zmax = z[r, 0]
        ysum = 0.0
        for c in range(k):
            yc = y[r, c]
            if not (yc >= 0 and yc <= 1):
                if bad < 0:
                    bad = r * k + c
            ysum += yc
            if z[r, c] > zmax:
                zmax = z[r, c]
        s = 0.0
        for c in range(k):
            e = math.exp(z[r, c] - zmax)
            grad[r, c] = e
            s += e
        lse = zmax + math.log(s)
        for c in range(k):
            yc = y[r, c]
            total += yc * (lse - z[r, c])
            # d/dz of -sum(y * log_softmax(z)) is p * sum(y) - y.
            grad[r, c] = (grad[r, c] / s * ysum - yc) * inv_n
    return total, bad


def _cce_logits_numpy(z, y, grad, inv_n):
    invalid = ~((y >= 0) & (y <= 1))
    if invalid.any():
        return 0.0, int(np.argmax(invalid))
    shifted = z - z.max(axis=1, keepdims=True)
    np.exp(shifted, out=grad)
    s = grad.sum(axis=1, keepdims=True)
    grad /= s
    shifted -= np.log(s)
    total = -float(np.vdot(y, shifted))
    grad *= y.sum(axis=1, keepdims=True)
    grad -= y
    grad *= inv_n
    return total, -1


cce_logits = kernel(_cce_logits_loop, _cce_logits_numpy)


def _sparse_logits_loop(z, labels, grad, inv_n):
    """``z``, ``grad`` are ``(samples, classes)``; ``labels`` is ``(samples,)``."""
    total = 0.0
    bad = -1
    rows, k = z.shape
    for r in range(rows):
        label = labels[r]
        if label < 0 or label >= k:
            if bad < 0:
                bad = r
            continue
        zmax = z[r, 0]
        for c in range(k):
            if z[r, c] > zmax:
                zmax = z[r, c]
        s = 0.0
        for c in range(k):
            e = math.exp(z[r, c] - zmax)
            grad[r, c] = e
            s += e
        total += zmax + math.log(s) - z[r, label]
        scale = inv_n / s
        for c in range(k):
            grad[r, c] = grad[r, c] * scale
        grad[r, label] -= inv_n
    return total, bad


def _sparse_logits_numpy(z, labels, grad, inv_n):
    k = z.shape[1]
    invalid = (labels < 0) | (labels >= k)
    if invalid.any():
        return 0.0, int(np.argmax(invalid))
    rows = np.arange(z.shape[0])
    shifted = z - z.max(axis=1, keepdims=True)
    np.exp(shifted, out=grad)
    s = grad.sum(axis=1, keepdims=True)
    total = float(np.log(s).sum() - shifted[rows, labels].sum())
    grad *= inv_n / s
    grad[rows, labels] -= inv_n
    return total, -1


sparse_logits = kernel(_sparse_logits_loop, _sparse_logits_numpy)


def _mse_loop(pred, y, grad, inv_n):
    total = 0.0
    bad = -1
    two = 2.0 * inv_n
    for i in range(pred.size):
        yi = y[i]
        if not abs(yi) < np.inf:  # NaN or Inf
            if bad < 0:
                bad = i
            continue
        d = pred[i] - yi
        total += d * d
        grad[i] = d * two
    return total, bad


def _mse_numpy(pred, y, grad, inv_n):
    invalid = ~np.isfinite(y)
    if invalid.any():
        return 0.0, int(np.argmax(invalid))
    np.subtract(pred, y, out=grad)
    total = float(np.vdot(grad, grad))
    grad *= 2 * inv_n
    return total, -1


mse = kernel(_mse_loop, _mse_numpy)
