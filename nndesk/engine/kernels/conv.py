"""Window arithmetic of convolutions and pooling: geometry, im2col and col2im.

Tensors are channels-last, ``(batch, height, width, channels)``. A convolution
reads its input through a strided view of shape ``(batch, out_h, out_w, kh, kw,
channels)`` (no copy), copies it once into a ``(batch*out_h*out_w, kh*kw*channels)``
column matrix (im2col) and multiplies that by the kernel reshaped to ``(kh*kw*in,
out)``: one matrix product forward, two backward. The way back (col2im) adds the
column gradient into the input gradient one kernel offset at a time: ``kh*kw``
strided slice-adds of whole ``(batch, out_h, out_w, channels)`` blocks instead of
``np.add.at`` over every element.

Padding follows Keras/TensorFlow: ``"valid"`` uses no padding; ``"same"`` gives
``ceil(size / stride)`` outputs and pads ``max((out - 1) * stride + span - size,
0)`` in all, half of it (rounded down) before and the rest after, so an odd total
puts the extra row at the bottom and the extra column at the right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = [
    "AxisGeometry",
    "WindowGeometry",
    "axis_geometry",
    "col2im",
    "im2col",
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


def im2col(xp: np.ndarray, g: WindowGeometry, cols: np.ndarray) -> np.ndarray:
    """Fill ``cols`` ``(batch*out_h*out_w, kh*kw*channels)`` with every window of
    the padded input ``xp``, taps in ``(kh, kw, channels)`` order; returns ``cols``."""
    n = xp.shape[0]
    oh, ow = g.out_shape
    target = cols.reshape(n, oh, ow, g.rows.kernel, g.cols.kernel, xp.shape[3])
    np.copyto(target, window_view(xp, g))
    return cols


def col2im(dtaps: np.ndarray, g: WindowGeometry, dxp: np.ndarray) -> np.ndarray:
    """The adjoint of ``im2col``, from tap-major columns: ``dtaps`` is ``(kh*kw,
    batch*out_h*out_w, channels)``, one block per kernel tap (what one stacked
    matrix product ``dz @ kernel[tap].T`` gives). ``dxp`` (the padded input shape)
    is zeroed and every block added where its tap read; returns ``dxp``.

    One strided slice-add per kernel tap (``kh*kw`` of them) instead of
    ``np.add.at`` over every element; tap-major blocks are contiguous, so each add
    runs over whole rows (``out_w * channels`` values) rather than single pixels.
    """
    n, ch = dxp.shape[0], dxp.shape[3]
    oh, ow = g.out_shape
    dxp.fill(0)
    for t, (_, _, rs, cs) in enumerate(g.offsets()):
        dxp[:, rs, cs] += dtaps[t].reshape(n, oh, ow, ch)
    return dxp
