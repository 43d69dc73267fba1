"""Pooling and resampling layers over ``(height, width, channels)`` samples.

MaxPool2D and AvgPool2D slide a window as Conv2D does (Keras/TensorFlow
``"valid"``/``"same"`` rule; ``strides`` defaults to the pool size).
GlobalAvgPool2D and GlobalMaxPool2D reduce each channel to one value;
UpSampling2D repeats every pixel (nearest neighbour).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from ..kernels.conv import (
    WindowGeometry,
    max_pool,
    max_pool_backward,
    pad_into,
)
from .base import Layer, Shape
from .conv import check_padding, image_shape, int_tuple, window_geometry

__all__ = [
    "AvgPool2D",
    "GlobalAvgPool2D",
    "GlobalMaxPool2D",
    "MaxPool2D",
    "UpSampling2D",
]


class _Pool2D(Layer):
    """What MaxPool2D and AvgPool2D share: config, geometry, padded buffers."""

    pad_value: ClassVar[float] = 0.0

    def __init__(
        self,
        pool_size: int | Sequence[int] = 2,
        strides: int | Sequence[int] | None = None,
        padding: str = "valid",
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        label = self.label
        self.pool_size = int_tuple(pool_size, 2, "pool_size", label)
        self.strides = (
            self.pool_size
            if strides is None
            else int_tuple(strides, 2, "strides", label)
        )
        self.padding = check_padding(padding, label)
        self._geo: WindowGeometry | None = None

    def _geometry(self, shape: Shape) -> WindowGeometry:
        return window_geometry(
            self,
            image_shape(self, tuple(shape), 2),
            self.pool_size,  # type: ignore[arg-type]
            self.strides,  # type: ignore[arg-type]
            (1, 1),
            self.padding,
            what="pool window",
        )

    def geometry(self, input_shape: Sequence[int]) -> WindowGeometry:
        """The window geometry (pool size, stride, padding per axis) over a
        per-sample input shape; exporters read it."""
        return self._geometry(tuple(input_shape))

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        self.check_input_count(len(input_shapes))
        g = self._geometry(tuple(input_shapes[0]))
        return (*g.out_shape, g.channels)

    def scratch_size(self, input_shapes: Sequence[Shape], training: bool) -> int:
        """Values per sample of the padded input (and its gradient in training)
        and, in training, one output-sized array (the per-tap gradient share; the
        byte-sized max-pool masks count as one more)."""
        g = self._geometry(tuple(input_shapes[0]))
        ph, pw = g.padded_shape
        padded = ph * pw * g.channels if g.has_padding else 0
        if not training:
            return padded
        oh, ow = g.out_shape
        return 2 * padded + 2 * oh * ow * g.channels

    def build(
        self,
        input_shapes: Sequence[Shape],
        rng: np.random.Generator,
        dtype: np.dtype | type = np.float32,
    ) -> None:
        super().build(input_shapes, rng, dtype)
        self._geo = self._geometry(self.input_shapes[0])

    def _padded(self, x: np.ndarray) -> np.ndarray:
        g = self._geo
        if not g.has_padding:
            return x
        xp = self._buffer("xp", (x.shape[0], *g.padded_shape, g.channels))
        pad_into(x, g, xp, self.pad_value)
        return xp

    def _input_grad(self, dxp: np.ndarray) -> np.ndarray:
        """The input-sized part of a gradient computed over the padded input."""
        g = self._geo
        if not g.has_padding:
            return dxp
        r, c = g.rows, g.cols
        dx = self._buffer("dx", (dxp.shape[0], r.size, c.size, g.channels))
        np.copyto(
            dx, dxp[:, r.before : r.before + r.size, c.before : c.before + c.size]
        )
        return dx

    def _grad_buffer(self, n: int) -> tuple[np.ndarray, bool]:
        """The gradient over the padded input (uninitialised), and whether each
        tap's share can be written rather than added: windows that neither
        overlap nor leave a gap (stride = pool size, covering the padded input)
        write every value exactly once, so the buffer needs no zeroing then."""
        g = self._geo
        key = "dxp" if g.has_padding else "dx"
        dxp = self._buffer(key, (n, *g.padded_shape, g.channels))
        r, c = g.rows, g.cols
        tiled = (
            r.stride == r.kernel
            and c.stride == c.kernel
            and r.out * r.kernel == r.padded
            and c.out * c.kernel == c.padded
        )
        return dxp, tiled

    def get_config(self) -> dict[str, Any]:
        return {
            "pool_size": list(self.pool_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "name": self.name,
        }


class MaxPool2D(_Pool2D):
    """The largest value of each window, per channel.

    ``x`` is ``(batch, h, w, c)``, ``y`` ``(batch, out_h, out_w, c)``. The
    gradient goes to the first largest value of each window (row-major order, as
    PyTorch picks it); ``"same"`` padding never wins a window (it pads with -inf).
    """

    type_name = "MaxPool2D"
    pad_value = -np.inf

    def forward(self, inputs: Sequence[np.ndarray], training: bool) -> np.ndarray:
        x = inputs[0]
        g = self._geo
        shape = (x.shape[0], *g.out_shape, g.channels)
        y = self._buffer("y", shape)
        # The argmax mask: which tap of its window each output came from.
        arg = self._typed_buffer("arg", shape, np.int8 if g.taps < 128 else np.int32)
        scratch = (
            self._typed_buffer("better", shape, np.bool_),
            self._typed_buffer("step", shape, arg.dtype),
        )
        max_pool(np.ascontiguousarray(self._padded(x)), g, y, arg, scratch)
        self._arg = arg
        return y

    def backward(self, dy: np.ndarray) -> list[np.ndarray | None]:
        dxp, tiled = self._grad_buffer(dy.shape[0])
        scratch = (
            self._typed_buffer("better", dy.shape, np.bool_),
            self._buffer("part", dy.shape),
        )
        max_pool_backward(dy, self._arg, self._geo, tiled, dxp, scratch)
        return [self._input_grad(dxp)]

    def _typed_buffer(self, key: str, shape: Shape, dtype: type) -> np.ndarray:
        """Like ``_buffer``, for the integer and boolean masks."""
        buf = self._buffers.get((key, shape))
        if buf is None or buf.dtype != dtype:
            buf = self._buffers[(key, shape)] = np.empty(shape, dtype=dtype)
        return buf


class AvgPool2D(_Pool2D):
    """The mean of each window, per channel.

    ``x`` is ``(batch, h, w, c)``, ``y`` ``(batch, out_h, out_w, c)``. With
    ``"same"`` padding the padded positions are left out of the mean (Keras;
    PyTorch's ``count_include_pad=False``).
    """

    type_name = "AvgPool2D"

    def build(
        self,
        input_shapes: Sequence[Shape],
        rng: np.random.Generator,
        dtype: np.dtype | type = np.float32,
    ) -> None:
        super().build(input_shapes, rng, dtype)
        g = self._geo
        ones = np.zeros(g.padded_shape)
        r, c = g.rows, g.cols
        ones[r.before : r.before + r.size, c.before : c.before + c.size] = 1
        counts = np.zeros(g.out_shape)
        for _, _, rs, cs in g.offsets():
            counts += ones[rs, cs]
        # (out_h, out_w, 1): broadcasts over batch and channels.
        self._inv_count = (1.0 / counts)[:, :, None].astype(self.dtype)

    def forward(self, inputs: Sequence[np.ndarray], training: bool) -> np.ndarray:
        x = inputs[0]
        g = self._geo
        xp = self._padded(x)
        y = self._buffer("y", (x.shape[0], *g.out_shape, g.channels))
        y.fill(0)
        for _, _, rs, cs in g.offsets():
            y += xp[:, rs, cs]
        y *= self._inv_count
        return y

    def backward(self, dy: np.ndarray) -> list[np.ndarray | None]:
        g = self._geo
        share = self._buffer("share", dy.shape)
        np.multiply(dy, self._inv_count, out=share)
        dxp, tiled = self._grad_buffer(dy.shape[0])
        if not tiled:
            dxp.fill(0)
        for _, _, rs, cs in g.offsets():
            if tiled:
                dxp[:, rs, cs] = share
            else:
                dxp[:, rs, cs] += share
        return [self._input_grad(dxp)]


class _GlobalPool2D(Layer):
    """``(batch, h, w, c)`` -> ``(batch, c)``."""

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        self.check_input_count(len(input_shapes))
        shape = image_shape(self, tuple(input_shapes[0]), 2)
        return (shape[-1],)


class GlobalAvgPool2D(_GlobalPool2D):
    """The mean of each channel over height and width: ``(batch, c)``."""

    type_name = "GlobalAvgPool2D"

    def forward(self, inputs: Sequence[np.ndarray], training: bool) -> np.ndarray:
        x = inputs[0]
        n, h, w, c = x.shape
        y = self._buffer("y", (n, c))
        np.mean(x.reshape(n, h * w, c), axis=1, out=y)
        return y

    def backward(self, dy: np.ndarray) -> list[np.ndarray | None]:
        n, h, w, c = (dy.shape[0], *self.input_shapes[0])
        dx = self._buffer("dx", (n, h, w, c))
        np.multiply(dy[:, None, None, :], 1.0 / (h * w), out=dx)
        return [dx]


class GlobalMaxPool2D(_GlobalPool2D):
    """The largest value of each channel over height and width: ``(batch, c)``;
    the gradient goes to its first position (row-major)."""

    type_name = "GlobalMaxPool2D"

    def forward(self, inputs: Sequence[np.ndarray], training: bool) -> np.ndarray:
        x = inputs[0]
        n, h, w, c = x.shape
        x3 = x.reshape(n, h * w, c)
        self._arg = np.argmax(x3, axis=1)[:, None, :]
        y = self._buffer("y", (n, c))
        np.copyto(y, np.take_along_axis(x3, self._arg, axis=1)[:, 0])
        return y

    def backward(self, dy: np.ndarray) -> list[np.ndarray | None]:
        n, h, w, c = (dy.shape[0], *self.input_shapes[0])
        dx = self._buffer("dx", (n, h, w, c))
        dx.fill(0)
        np.put_along_axis(dx.reshape(n, h * w, c), self._arg, dy[:, None, :], axis=1)
        return [dx]


class UpSampling2D(Layer):
    """Repeats every pixel ``size`` times along height and width (nearest
    neighbour): ``(batch, h, w, c)`` -> ``(batch, h*sh, w*sw, c)``."""

    type_name = "UpSampling2D"

    def __init__(self, size: int | Sequence[int] = 2, name: str | None = None) -> None:
        super().__init__(name)
        self.size = int_tuple(size, 2, "size", self.label)

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        self.check_input_count(len(input_shapes))
        h, w, c = image_shape(self, tuple(input_shapes[0]), 2)
        return (h * self.size[0], w * self.size[1], c)

    def forward(self, inputs: Sequence[np.ndarray], training: bool) -> np.ndarray:
        x = inputs[0]
        n, h, w, c = x.shape
        sh, sw = self.size
        y = self._buffer("y", (n, h * sh, w * sw, c))
        y6 = y.reshape(n, h, sh, w, sw, c)
        y6[...] = x[:, :, None, :, None, :]
        return y

    def backward(self, dy: np.ndarray) -> list[np.ndarray | None]:
        n = dy.shape[0]
        h, w, c = self.input_shapes[0]
        sh, sw = self.size
        dx = self._buffer("dx", (n, h, w, c))
        np.sum(dy.reshape(n, h, sh, w, sw, c), axis=(2, 4), out=dx)
        return [dx]

    def get_config(self) -> dict[str, Any]:
        return {"size": list(self.size), "name": self.name}
