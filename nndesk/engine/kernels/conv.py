"""Window arithmetic of convolutions and pooling: geometry, im2col, col2im and
max pooling.

Tensors are channels-last, ``(batch, height, width, channels)``. A convolution
reads its input through a strided view of shape ``(batch, out_h, out_w, kh, kw,
channels)`` (no copy), copies it once into a ``(batch*out_h*out_w, kh*kw*channels)``
column matrix (im2col) and multiplies that by the kernel reshaped to ``(kh*kw*in,
out)``: one matrix product forward, two backward. The way back (col2im) adds the
column gradient into the input gradient one kernel offset at a time: ``kh*kw``
strided slice-adds of whole ``(batch, out_h, out_w, channels)`` blocks instead of
``np.add.at`` over every element. Max pooling keeps the tap of each window's
first maximum (an int8 mask) for its backward pass.

Padding follows Keras/TensorFlow: ``"valid"`` uses no padding; ``"same"`` gives
``ceil(size / stride)`` outputs and pads ``max((out - 1) * stride + span - size,
0)`` in all, half of it (rounded down) before and the rest after, so an odd total
puts the extra row at the bottom and the extra column at the right.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .jit import kernel

__all__ = [
    "AxisGeometry",
    "WindowGeometry",
    "axis_geometry",
    "backward_needs_mask",
    "col2im",
    "product_block",
    "im2col",
    "max_pool",
    "max_pool_backward",
    "pad_into",
    "window_view",
]


@dataclass(frozen=True)
class AxisGeometry:
    """How a window slides along one spatial axis.

    Attributes
    ----------
    size : int
        Input length along the axis (unpadded).
    kernel, stride, dilation : int
        Window length, step between windows, step between window taps.
    out : int
        Number of windows (output length).
    before, after : int
        Zero (or -inf) padding added before and after the input.
    """

    size: int
    kernel: int
    stride: int
    dilation: int
    out: int
    before: int
    after: int

    @property
    def span(self) -> int:
        """Input length one window covers: ``dilation * (kernel - 1) + 1``."""
        return self.dilation * (self.kernel - 1) + 1

    @property
    def padded(self) -> int:
        """Length of the padded input."""
        return self.size + self.before + self.after


def axis_geometry(
    size: int, kernel: int, stride: int, dilation: int, padding: str
) -> AxisGeometry | None:
    """The window geometry along one axis, or None when the window is longer than
    the (padded) input (``"valid"`` only; ``"same"`` always fits)."""
    span = dilation * (kernel - 1) + 1
    if padding == "same":
        out = -(-size // stride)
        total = max((out - 1) * stride + span - size, 0)
        before = total // 2
        return AxisGeometry(size, kernel, stride, dilation, out, before, total - before)
    if size < span:
        return None
    out = (size - span) // stride + 1
    return AxisGeometry(size, kernel, stride, dilation, out, 0, 0)


@dataclass(frozen=True)
class WindowGeometry:
    """The geometry of a 2-D window over ``(height, width, channels)`` samples."""

    rows: AxisGeometry
    cols: AxisGeometry
    channels: int

    @property
    def out_shape(self) -> tuple[int, int]:
        return self.rows.out, self.cols.out

    @property
    def padded_shape(self) -> tuple[int, int]:
        return self.rows.padded, self.cols.padded

    @property
    def has_padding(self) -> bool:
        r, c = self.rows, self.cols
        return bool(r.before or r.after or c.before or c.after)

    @property
    def taps(self) -> int:
        """Values one window reads: ``kh * kw * channels``."""
        return self.rows.kernel * self.cols.kernel * self.channels

    def offsets(self):
        """``(i, j, row_slice, col_slice)`` per kernel tap: the input rows and
        columns (of the padded input) that tap ``(i, j)`` reads for every window."""
        r, c = self.rows, self.cols
        for i in range(r.kernel):
            r0 = i * r.dilation
            rs = slice(r0, r0 + r.stride * (r.out - 1) + 1, r.stride)
            for j in range(c.kernel):
                c0 = j * c.dilation
                yield i, j, rs, slice(c0, c0 + c.stride * (c.out - 1) + 1, c.stride)


def pad_into(x: np.ndarray, g: WindowGeometry, out: np.ndarray, fill: float) -> None:
    """Copy ``x`` ``(batch, h, w, c)`` into the middle of ``out`` (the padded shape)
    and set the border to ``fill``; only the border strips are written besides."""
    r, c = g.rows, g.cols
    h, w = r.size, c.size
    if r.before:
        out[:, : r.before] = fill
    if r.after:
        out[:, r.before + h :] = fill
    if c.before:
        out[:, r.before : r.before + h, : c.before] = fill
    if c.after:
        out[:, r.before : r.before + h, c.before + w :] = fill
    out[:, r.before : r.before + h, c.before : c.before + w] = x


def window_view(xp: np.ndarray, g: WindowGeometry) -> np.ndarray:
    """Read-only view ``(batch, out_h, out_w, kh, kw, channels)`` of the padded
    input ``xp`` ``(batch, padded_h, padded_w, channels)``: every window, no copy."""
    r, c = g.rows, g.cols
    sn, sh, sw, sc = xp.strides
    return as_strided(
        xp,
        shape=(xp.shape[0], r.out, c.out, r.kernel, c.kernel, xp.shape[3]),
        strides=(
            sn,
            sh * r.stride,
            sw * c.stride,
            sh * r.dilation,
            sw * c.dilation,
            sc,
        ),
        writeable=False,
    )


# --- im2col and col2im ------------------------------------------------------------------
# After the input array: kernel (kh, kw), strides (sh, sw), dilation (dh, dw) and
# the number of windows (oh, ow); the output array comes last.
def _im2col_numpy(xp, kh, kw, sh, sw, dh, dw, oh, ow, cols):
    n, _, _, ch = xp.shape
    if ch == 1:
        # One copy per tap: whole image rows at a time rather than the window's
        # rows of kw values (64x28x28x1, 3x3: 2.64 -> 0.29 ms, bests of 11
        # rounds at load 12; with 3 channels and more the single copy wins).
        cols5 = cols.reshape(n, oh, ow, kh * kw)
        for i in range(kh):
            rs = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            for j in range(kw):
                cs = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
                np.copyto(cols5[:, :, :, i * kw + j], xp[:, rs, cs, 0])
        return
    s_n, s_h, s_w, s_c = xp.strides
    view = as_strided(
        xp,
        shape=(n, oh, ow, kh, kw, ch),
        strides=(s_n, s_h * sh, s_w * sw, s_h * dh, s_w * dw, s_c),
        writeable=False,
    )
    np.copyto(cols.reshape(n, oh, ow, kh, kw, ch), view)


def _col2im_loop(dtaps, kh, kw, sh, sw, dh, dw, oh, ow, dxp):
    n = dxp.shape[0]
    ch = dxp.shape[3]
    dxp[:] = 0
    for t in range(kh * kw):
        i = t // kw
        j = t - i * kw
        for b in range(n):
            for y in range(oh):
                r = y * sh + i * dh
                for x in range(ow):
                    c0 = x * sw + j * dw
                    row = (b * oh + y) * ow + x
                    for k in range(ch):
                        dxp[b, r, c0, k] += dtaps[t, row, k]


def _col2im_numpy(dtaps, kh, kw, sh, sw, dh, dw, oh, ow, dxp):
    n, _, _, ch = dxp.shape
    dxp.fill(0)
    for i in range(kh):
        rs = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
        for j in range(kw):
            cs = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            dxp[:, rs, cs] += dtaps[i * kw + j].reshape(n, oh, ow, ch)


# im2col stays NumPy: a compiled copy loop was slower (3x3 over 64x13x13x32: 0.9
# ms NumPy, 10 ms compiled; equal for one channel). col2im is compiled from 8
# channels up, where the loop wins and the slice-adds pay NumPy's per-row cost
# (3x3, batch 64, medians of 5 rounds at load 4-6: 13x13x32 0.56 vs 4.0 ms,
# 14x14x64 1.9 vs 13.1 ms, 28x28x8 6.2 vs 10.3 ms) but not below (28x28x1: 1.3
# vs 0.35 ms; and a first layer, fed by data, computes no input gradient).
_col2im_kernel = kernel(_col2im_loop, _col2im_numpy)
_COMPILED_COL2IM_CHANNELS = 8


def _args(g: WindowGeometry) -> tuple[int, ...]:
    r, c = g.rows, g.cols
    return r.kernel, c.kernel, r.stride, c.stride, r.dilation, c.dilation, r.out, c.out


# OpenBLAS multiplies a tall, thin column matrix (an image of one or three
# channels: 9-27 taps) several times faster in blocks of a few hundred rows than
# in one call, whatever the block size from 169 to 1,352 rows (batch 64, 3x3 to
# 32 filters, medians (bests) of 21 rounds at load 8.3: 28x28x1 forward 2.25
# (0.48) -> 0.39 (0.29) ms, kernel gradient 3.38 (1.61) -> 0.38 (0.32) ms;
# 30x30 windows of 3 channels 7.4 (4.0) -> 4.2 (2.2) and 9.6 (5.3) -> 5.7 (2.1)
# ms). Wide columns (32 channels: 288 taps) gain nothing and stay one product.
_BLOCK_VALUES = 2**18  # rows * taps * filters of one block, at most
_MIN_BLOCK_ROWS = 128


@lru_cache(maxsize=64)
def product_block(rows: int, taps: int, filters: int) -> int:
    """Rows per block of the column products ``(rows, taps) @ (taps, filters)``:
    the largest divisor of ``rows`` whose block holds at most 2**18 multiply-adds,
    or ``rows`` (one product) when that block would be under 128 rows."""
    most = _BLOCK_VALUES // max(taps * filters, 1)
    if most >= rows:
        return rows
    if most < _MIN_BLOCK_ROWS:
        return rows
    best = rows
    for d in range(most, _MIN_BLOCK_ROWS - 1, -1):
        if rows % d == 0:
            best = d
            break
    return best


def im2col(xp: np.ndarray, g: WindowGeometry, cols: np.ndarray) -> np.ndarray:
    """Fill ``cols`` ``(batch*out_h*out_w, kh*kw*channels)`` with every window of
    the padded input ``xp``, taps in ``(kh, kw, channels)`` order; returns
    ``cols``. Without Numba, one copy of the strided window view."""
    _im2col_numpy(xp, *_args(g), cols)
    return cols


def col2im(dtaps: np.ndarray, g: WindowGeometry, dxp: np.ndarray) -> np.ndarray:
    """The adjoint of ``im2col``, from tap-major columns: ``dtaps`` is ``(kh*kw,
    batch*out_h*out_w, channels)``, one block per kernel tap (what one stacked
    matrix product ``dz @ kernel[tap].T`` gives). ``dxp`` (the padded input shape)
    is zeroed and every block added where its tap read; returns ``dxp``.

    With Numba and at least 8 channels, one compiled loop; otherwise one strided
    slice-add per kernel tap (``kh*kw`` of them) instead of ``np.add.at`` over
    every element; tap-major blocks are contiguous, so each add runs over whole
    rows (``out_w * channels`` values).
    """
    if g.channels >= _COMPILED_COL2IM_CHANNELS:
        _col2im_kernel(dtaps, *_args(g), dxp)
    else:
        _col2im_numpy(dtaps, *_args(g), dxp)
    return dxp


# --- max pooling ------------------------------------------------------------------------
# NumPy needs four whole-array passes per tap over strided views whose rows are
# one pixel's channels; the compiled loop reads every window once (2x2 pooling
# forward + backward at batch 64, medians of 9 rounds at load 5.5-6.3: 26x26x32
# 6.1 -> 1.9 ms, 11x11x64 1.6 -> 0.7 ms). After the padded input: pool (kh, kw) and strides (sh, sw); windows (oh, ow) come
# from the output's shape. ``arg`` holds the tap (row-major within the window) of
# each output's first maximum. NumPy's scratch arrays (``better``, ``step``) are
# unused by the loop.
def _max_pool_loop(xp, kh, kw, sh, sw, y, arg, better, step):
    n, oh, ow, ch = y.shape
    for b in range(n):
        for r in range(oh):
            for c in range(ow):
                ym = y[b, r, c]
                am = arg[b, r, c]
                first = xp[b, r * sh, c * sw]
                for k in range(ch):
                    ym[k] = first[k]
                    am[k] = 0
                for t in range(1, kh * kw):
                    i = t // kw
                    tap = xp[b, r * sh + i, c * sw + t - i * kw]
                    for k in range(ch):
                        v = tap[k]
                        if v > ym[k]:
                            ym[k] = v
                            am[k] = t
                        elif v != v:  # NaN spreads, as np.maximum spreads it
                            ym[k] = v


def _max_pool_numpy(xp, kh, kw, sh, sw, y, arg, better, step):
    _, oh, ow, _ = y.shape
    g = WindowGeometry(
        AxisGeometry(xp.shape[1], kh, sh, 1, oh, 0, 0),
        AxisGeometry(xp.shape[2], kw, sw, 1, ow, 0, 0),
        xp.shape[3],
    )
    view = window_view(xp, g)
    np.copyto(y, view[:, :, :, 0, 0])
    arg.fill(0)
    # Branch-free: masked copies (copyto where=) are ten times slower on random
    # masks. Tap k is later than every index in arg, so where it is strictly
    # larger (the first maximum wins) max(arg, k * better) is k.
    for k in range(1, kh * kw):
        tap = view[:, :, :, k // kw, k % kw]
        np.greater(tap, y, out=better)
        np.maximum(y, tap, out=y)
        np.multiply(better.view(np.int8), arg.dtype.type(k), out=step)
        np.maximum(arg, step, out=arg)


def _max_pool_backward_loop(dy, arg, kh, kw, sh, sw, tiled, dxp, hit, part):
    n, oh, ow, ch = dy.shape
    if not tiled:
        dxp[:] = 0
    for b in range(n):
        for r in range(oh):
            for c in range(ow):
                d = dy[b, r, c]
                a = arg[b, r, c]
                if tiled:  # every input value is in one window: write them all
                    for t in range(kh * kw):
                        i = t // kw
                        out = dxp[b, r * sh + i, c * sw + t - i * kw]
                        for k in range(ch):
                            out[k] = d[k] if a[k] == t else 0
                else:
                    for k in range(ch):
                        i = a[k] // kw
                        dxp[b, r * sh + i, c * sw + a[k] - i * kw, k] += d[k]


def _max_pool_backward_numpy(dy, arg, kh, kw, sh, sw, tiled, dxp, hit, part):
    _, oh, ow, _ = dy.shape
    if not tiled:
        dxp.fill(0)
    for k in range(kh * kw):
        i, j = divmod(k, kw)
        rs = slice(i, i + sh * (oh - 1) + 1, sh)
        cs = slice(j, j + sw * (ow - 1) + 1, sw)
        np.equal(arg, k, out=hit)
        if tiled:
            np.multiply(dy, hit, out=dxp[:, rs, cs])
        else:
            np.multiply(dy, hit, out=part)
            dxp[:, rs, cs] += part


_max_pool_kernel = kernel(_max_pool_loop, _max_pool_numpy)
_max_pool_backward_kernel = kernel(_max_pool_backward_loop, _max_pool_backward_numpy)


def max_pool(
    xp: np.ndarray,
    g: WindowGeometry,
    y: np.ndarray,
    arg: np.ndarray,
    scratch: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """The largest value of every window of the padded input ``xp`` ``(batch,
    padded_h, padded_w, channels)`` into ``y`` ``(batch, out_h, out_w, channels)``,
    and into ``arg`` (same shape, int8 or int32) the tap of its first maximum,
    row-major within the window; returns ``y``. NaN wins a window.

    With Numba, one compiled pass; without, four whole-array operations per tap
    (``scratch`` is a bool and an ``arg``-typed array of ``y``'s shape for them).
    """
    r, c = g.rows, g.cols
    _max_pool_kernel(xp, r.kernel, c.kernel, r.stride, c.stride, y, arg, *scratch)
    return y


def max_pool_backward(
    dy: np.ndarray,
    arg: np.ndarray,
    g: WindowGeometry,
    tiled: bool,
    dxp: np.ndarray,
    scratch: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """The adjoint of ``max_pool``: ``dy`` goes to the tap ``arg`` names in every
    window of the padded gradient ``dxp``; returns ``dxp``. ``tiled`` (windows
    that neither overlap nor leave gaps) writes every value, else ``dxp`` is
    zeroed and the shares added. ``scratch``: a bool and a float array of
    ``dy``'s shape for the NumPy path."""
    r, c = g.rows, g.cols
    _max_pool_backward_kernel(
        dy, arg, r.kernel, c.kernel, r.stride, c.stride, tiled, dxp, *scratch
    )
    return dxp


# --- bias and activation, fused ----------------------------------------------------------
# Activation codes of the fused kernels: what a convolution may end with and
# still have its bias and activation done in one pass.
FUSED_ACTIVATIONS = {"linear": 0, "relu": 1}


def _bias_activation_loop(z, b, act):
    rows, n = z.shape
    has_bias = b.size > 0
    for r in range(rows):
        zr = z[r]
        for j in range(n):
            v = zr[j] + b[j] if has_bias else zr[j]
            # NaN < 0 is false: NaN passes through, as in np.maximum.
            zr[j] = v - v if act == 1 and v < 0 else v


def _wide_rows(z):
    """``z`` ``(rows, n)`` (contiguous) as ``(rows / m, m * n)``, with ``m`` the
    largest divisor of ``rows`` that keeps a row within 4,096 values; and ``m``."""
    rows, n = z.shape
    m = max(1, min(rows, 4096 // max(n, 1)))
    while rows % m:
        m -= 1
    return z.reshape(rows // m, m * n), m


def _bias_activation_numpy(z, b, act):
    # NumPy vectorises a binary ufunc only over operands that both advance:
    # adding a (n,) bias row by row, or taking the maximum with the scalar 0,
    # runs several times slower than over 4,096-wide rows against a row of
    # the same width (1.4M values: 0.96 -> 0.27 ms and 0.95 -> 0.28 ms, best
    # of 15 rounds at load 8).
    wide, m = _wide_rows(z)
    if b.size:
        np.add(wide, np.tile(b, m), out=wide)
    if act == 1:
        np.maximum(wide, np.zeros(wide.shape[1], wide.dtype), out=wide)


def _activation_bias_backward_loop(dy, y, act, dz, gb, mask):
    rows, n = dy.shape
    acc = np.zeros(n)  # float64 accumulators, as column_sum
    for r in range(rows):
        dyr = dy[r]
        yr = y[r]
        dzr = dz[r]
        for j in range(n):
            d = dyr[j] if act == 0 or yr[j] > 0 else dyr[j] * 0
            dzr[j] = d
            acc[j] += d
    for j in range(gb.size):
        gb[j] = acc[j]


def _activation_bias_backward_numpy(dy, y, act, dz, gb, mask):
    if act == 1:
        # The mask as floats, then a float product: multiplying by the bool
        # mask itself casts it on the fly, twice as slow.
        np.greater(y, 0, out=mask)
        np.copyto(dz, mask)
        np.multiply(dz, dy, out=dz)
    elif not np.may_share_memory(dz, dy):
        np.copyto(dz, dy)
    if gb.size:  # one BLAS product: far faster than add.reduce down the rows
        np.dot(np.ones(len(dz), dz.dtype), dz, out=gb)


_bias_activation_kernel = kernel(_bias_activation_loop, _bias_activation_numpy)
_activation_bias_backward_kernel = kernel(
    _activation_bias_backward_loop, _activation_bias_backward_numpy
)


def bias_activation(z: np.ndarray, bias: np.ndarray, act: int) -> np.ndarray:
    """Add ``bias`` ``(n,)`` (empty: none) to every row of ``z`` ``(rows, n)`` and
    apply activation ``act`` (``FUSED_ACTIVATIONS``), in place; returns ``z``.
    With Numba, one pass."""
    _bias_activation_kernel(z, bias, act)
    return z


def backward_needs_mask() -> bool:
    """Whether ``activation_bias_backward`` uses its ``mask`` argument: only the
    NumPy path does (with Numba an empty array will do)."""
    return not _activation_bias_backward_kernel.uses_numba


def activation_bias_backward(
    dy: np.ndarray,
    y: np.ndarray,
    act: int,
    dz: np.ndarray,
    bias_grad: np.ndarray,
    mask: np.ndarray,
) -> np.ndarray:
    """The gradient ``dz`` ``(rows, n)`` with respect to the pre-activation, from
    ``dy`` and the output ``y`` (ReLU's derivative needs only ``y``), and the
    column sums of ``dz`` into ``bias_grad`` ``(n,)`` (empty: none); returns
    ``dz``. ``mask`` is a bool array of ``dy``'s shape for the NumPy path (see
    ``backward_needs_mask``). With Numba, one pass, the sums in float64."""
    _activation_bias_backward_kernel(dy, y, act, dz, bias_grad, mask)
    return dz
