"""Convolution layers: Conv2D, Conv2DTranspose and Conv1D, channels-last.

Samples are ``(height, width, channels)`` (Conv1D: ``(steps, channels)``); kernels
are stored ``(kh, kw, in, out)`` (Conv1D: ``(k, in, out)``) as in Keras, so a
kernel reshaped to ``(kh*kw*in, out)`` multiplies the im2col matrix of
``kernels/conv.py`` directly. ``padding`` is ``"valid"`` or ``"same"`` with the
Keras/TensorFlow rule (an odd total pads the extra row at the bottom and the extra
column at the right). docs/engine.md gives the exact mapping to PyTorch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from ..errors import ConfigError
from ..initializers import initialize
from ..kernels import layers as K
from ..kernels.conv import (
    FUSED_ACTIVATIONS,
    AxisGeometry,
    WindowGeometry,
    activation_bias_backward,
    axis_geometry,
    backward_needs_mask,
    bias_activation,
    col2im,
    im2col,
    pad_into,
    product_block,
)
from .base import Layer, Shape, format_shape
from .core import (
    KernelPenaltyMixin,
    _ActivationMixin,
    _make_activation,
    _positive_int,
)

__all__ = ["Conv1D", "Conv2D", "Conv2DTranspose"]

PADDINGS = ("valid", "same")


def int_tuple(value: object, n: int, what: str, label: str) -> tuple[int, ...]:
    """``3`` -> ``(3, 3)`` (for ``n = 2``); a sequence of ``n`` positive integers
    stays as it is. Raises ConfigError naming ``label`` and ``what`` otherwise."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        items: Sequence[object] = (value,) * n
    elif isinstance(value, (list, tuple)) and len(value) == n:
        items = value
    else:
        want = "a positive integer" if n == 1 else f"a positive integer or {n} of them"
        raise ConfigError(f"{label}: {what} must be {want}, got {value!r}.")
    return tuple(_positive_int(v, what, label) for v in items)


def check_padding(padding: object, label: str) -> str:
    """``"valid"`` or ``"same"`` (any case); ConfigError otherwise."""
    p = padding.lower() if isinstance(padding, str) else padding
    if p not in PADDINGS:
        raise ConfigError(
            f"{label}: padding must be 'valid' or 'same', got {padding!r}."
        )
    return str(p)


def image_shape(layer: Layer, shape: Shape, rank: int) -> Shape:
    """``shape`` when it has ``rank`` spatial axes plus channels, else a ShapeError
    that names ``layer``, the shape and the fix."""
    if len(shape) == rank + 1:
        return shape
    want = "(height, width, channels)" if rank == 2 else "(steps, channels)"
    if len(shape) == rank:
        fix = f": add a channel axis, e.g. Reshape({format_shape((*shape, 1))})"
    elif len(shape) == 1 and rank == 2:
        fix = ": reshape it to an image first, e.g. Reshape((height, width, 1))"
    else:
        fix = ""
    raise layer.shape_error(
        f"expects {want} inputs but receives {format_shape(shape)}{fix}."
    )


def window_geometry(
    layer: Layer,
    shape: Shape,
    kernel: tuple[int, int],
    strides: tuple[int, int],
    dilation: tuple[int, int],
    padding: str,
    what: str = "kernel",
    rank: int = 2,
) -> WindowGeometry:
    """The 2-D window geometry over ``shape`` ``(h, w, c)``, or a ShapeError naming
    ``layer`` when the window is larger than the input under ``"valid"``; with
    ``rank`` 1 (``h`` is 1) the message speaks of the 1-D window and input."""
    h, w, c = shape
    rows = axis_geometry(h, kernel[0], strides[0], dilation[0], padding)
    cols = axis_geometry(w, kernel[1], strides[1], dilation[1], padding)
    if rows is None or cols is None:
        span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))
        if rank == 1:
            size, shown, dilated = f"{kernel[1]}-step", shape[1:], f"{span[1]} steps"
        else:
            size, shown = f"{kernel[0]}x{kernel[1]}", shape
            dilated = f"{span[0]}x{span[1]}"
        dil = f" (dilated to {dilated})" if span != kernel else ""
        raise layer.shape_error(
            f"has a {size} {what}{dil} larger than its input "
            f"{format_shape(shown)} with padding 'valid': use a smaller {what}, "
            "padding 'same', or a larger input."
        )
    return WindowGeometry(rows, cols, c)


class _Conv(_ActivationMixin, KernelPenaltyMixin, Layer):
    """What Conv2D, Conv2DTranspose and Conv1D share: config, weights, the
    activation, regularisation and the column buffers.

    Subclasses set ``rank`` (spatial axes) and implement ``_geometry``,
    ``output_shape``, ``forward`` and ``_kernel_and_input_grads``.
    """

    rank: ClassVar[int] = 2

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        dilation_rate: int | Sequence[int] = 1,
        activation: str = "linear",
        use_bias: bool = True,
        kernel_initializer: str = "glorot_uniform",
        bias_initializer: str = "zeros",
        l1: float = 0.0,
        l2: float = 0.0,
        alpha: float | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        label = self.label
        n = self.rank
        self.filters = _positive_int(filters, "filters", label)
        self.kernel_size = int_tuple(kernel_size, n, "kernel_size", label)
        self.strides = int_tuple(strides, n, "strides", label)
        self.dilation_rate = int_tuple(dilation_rate, n, "dilation_rate", label)
        self.padding = check_padding(padding, label)
        self._act = _make_activation(activation, alpha, label)
        self.activation = self._act.name
        self.alpha = None if alpha is None else float(alpha)
        self.use_bias = bool(use_bias)
        self._set_kernel_options(kernel_initializer, bias_initializer, l1, l2, label)
        self._z: np.ndarray | None = None
        self._y: np.ndarray | None = None
        self._x: np.ndarray | None = None
        self._cols: np.ndarray | None = None
        self._geo: WindowGeometry | None = None
        self._no_bias = np.empty(0, dtype=self.dtype)

    # --- 2-D view of the kernel (Conv1D adds a height axis of 1) -------------------
    def _spatial(self, values: tuple[int, ...]) -> tuple[int, int]:
        return (1, values[0]) if self.rank == 1 else (values[0], values[1])

    def _image(self, shape: Shape) -> Shape:
        """The per-sample input as ``(h, w, c)`` (Conv1D: ``(1, steps, c)``)."""
        shape = image_shape(self, tuple(shape), self.rank)
        return (1, *shape) if self.rank == 1 else shape

    def _kernel_shape(self, in_channels: int) -> Shape:
        return (*self.kernel_size, in_channels, self.filters)

    def _in_channels(self, input_shapes: Sequence[Shape]) -> int:
        return int(image_shape(self, tuple(input_shapes[0]), self.rank)[-1])

    def param_shapes(self, input_shapes: Sequence[Shape]) -> dict[str, Shape]:
        self.output_shape(input_shapes)
        shapes = {"kernel": self._kernel_shape(self._in_channels(input_shapes))}
        if self.use_bias:
            shapes["bias"] = (self.filters,)
        return shapes

    def init_params(self, input_shapes, rng):
        shapes = self.param_shapes(input_shapes)
        params = {
            "kernel": initialize(
                self.kernel_initializer, shapes["kernel"], rng, np.float64
            )
        }
        if self.use_bias:
            params["bias"] = initialize(
                self.bias_initializer, shapes["bias"], rng, np.float64
            )
        return params

    def build(
        self,
        input_shapes: Sequence[Shape],
        rng: np.random.Generator,
        dtype: np.dtype | type = np.float32,
    ) -> None:
        super().build(input_shapes, rng, dtype)
        self._geo = self._geometry(self.input_shapes[0])
        self._out_shape = self.output_shape(self.input_shapes)
        self._no_bias = np.empty(0, dtype=self.dtype)

    def _geometry(self, shape: Shape) -> WindowGeometry:
        raise NotImplementedError

    def geometry(self, input_shape: Sequence[int]) -> WindowGeometry:
        """The window geometry (kernel, stride, dilation, padding per axis) over a
        per-sample input shape; exporters read it."""
        return self._geometry(tuple(input_shape))

    def _kernel_matrix(self) -> np.ndarray:
        """The kernel as ``(kh*kw*in, out)`` (a view)."""
        k = self.params["kernel"]
        return k.reshape(-1, k.shape[-1])

    def _kernel_grad_matrix(self) -> np.ndarray:
        g = self.grads["kernel"]
        return g.reshape(-1, g.shape[-1])

    def _padded(self, x: np.ndarray, g: WindowGeometry, key: str) -> np.ndarray:
        """``x`` ``(n, h, w, c)`` zero-padded per ``g`` (``x`` itself without
        padding); the buffer is reused, only its border and middle rewritten."""
        if not g.has_padding:
            return np.ascontiguousarray(x)
        xp = self._buffer(key, (x.shape[0], *g.padded_shape, x.shape[3]))
        pad_into(x, g, xp, 0.0)
        return xp

    def _unpad(self, dxp: np.ndarray, g: WindowGeometry, n: int) -> np.ndarray:
        """The input-sized middle of a padded gradient (a contiguous buffer)."""
        if not g.has_padding:
            return dxp
        r, c = g.rows, g.cols
        dx = self._buffer("dx", (n, r.size, c.size, g.channels))
        np.copyto(
            dx, dxp[:, r.before : r.before + r.size, c.before : c.before + c.size]
        )
        return dx

    def _fused_code(self) -> int:
        """The activation's code in ``FUSED_ACTIVATIONS`` when bias and activation
        run as one pass over the output (and their gradients as one pass back):
        ReLU or linear, with no pre-activation to keep. -1 otherwise."""
        if self.keep_preactivation:
            return -1
        return FUSED_ACTIVATIONS.get(self._act.name, -1)

    def _finish(self, z: np.ndarray) -> np.ndarray:
        """Bias, then activation, of the pre-activation buffer ``z`` (any shape
        with filters last); returns the output in the layer's output shape."""
        code = self._fused_code()
        if code >= 0:
            # ReLU's gradient needs only the output, so z becomes the output.
            bias = self.params["bias"] if self.use_bias else self._no_bias
            bias_activation(z.reshape(-1, self.filters), bias, code)
            self._z = self._y = z
            return z
        if self.use_bias:
            z += self.params["bias"]
        self._z = z
        self._y = self._activate(z, owns_z=True)
        return self._y

    def backward(self, dy: np.ndarray) -> list[np.ndarray | None]:
        code = self._fused_code()
        if code < 0:
            return self.backward_from_preactivation(self._activation_backward(dy))
        f = self.filters
        dy = np.ascontiguousarray(dy)
        # linear: dz is dy itself, and the pass only sums the bias gradient.
        dz = self._buffer("dz", dy.shape) if code else dy
        bias_grad = self.grads["bias"] if self.use_bias else self._no_bias
        if code or self.use_bias:
            rows = dy.size // f
            activation_bias_backward(
                dy.reshape(rows, f), self._y.reshape(rows, f), code,
                dz.reshape(rows, f), bias_grad, self._mask((rows, f)),
            )  # fmt: skip
        return self._kernel_and_input_grads(dz)

    def _mask(self, shape: Shape) -> np.ndarray:
        """A reusable bool array for the ReLU mask of the NumPy path; empty when
        the compiled kernel needs none."""
        if not backward_needs_mask():
            shape = (0, 0)
        buf = self._buffers.get(("mask", shape))
        if buf is None or buf.dtype != np.bool_:
            buf = self._buffers[("mask", shape)] = np.empty(shape, dtype=np.bool_)
        return buf

    def backward_from_preactivation(self, dz: np.ndarray) -> list[np.ndarray | None]:
        """Gradients given ``dz``, the gradient with respect to the pre-activation."""
        if self.use_bias:
            K.column_sum(dz.reshape(-1, self.filters), self.grads["bias"])
        return self._kernel_and_input_grads(dz)

    def _kernel_and_input_grads(self, dz: np.ndarray) -> list[np.ndarray | None]:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        def plain(v: tuple[int, ...]) -> int | list[int]:
            return v[0] if self.rank == 1 else list(v)

        return {
            "filters": self.filters,
            "kernel_size": plain(self.kernel_size),
            "strides": plain(self.strides),
            "padding": self.padding,
            "dilation_rate": plain(self.dilation_rate),
            "activation": self.activation,
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer,
            "bias_initializer": self.bias_initializer,
            "l1": self.l1,
            "l2": self.l2,
            "alpha": self.alpha,
            "name": self.name,
        }


class Conv2D(_Conv):
    """2-D convolution (cross-correlation, as in every framework):
    ``y = act(conv(x, kernel) + bias)``.

    ``x`` is ``(batch, h, w, in)``, ``kernel`` ``(kh, kw, in, filters)``, ``bias``
    ``(filters,)``, ``y`` ``(batch, out_h, out_w, filters)``. With ``"valid"``
    padding ``out = (size - span) // stride + 1`` where ``span = dilation * (k -
    1) + 1``; with ``"same"``, ``out = ceil(size / stride)``. ``l1``/``l2``
    penalise the kernel as in Dense.
    """

    type_name = "Conv2D"
    rank = 2

    def _geometry(self, shape: Shape) -> WindowGeometry:
        return window_geometry(
            self,
            self._image(shape),
            self._spatial(self.kernel_size),
            self._spatial(self.strides),
            self._spatial(self.dilation_rate),
            self.padding,
            rank=self.rank,
        )

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        self.check_input_count(len(input_shapes))
        oh, ow = self._geometry(tuple(input_shapes[0])).out_shape
        return (ow, self.filters) if self.rank == 1 else (oh, ow, self.filters)

    def scratch_size(self, input_shapes: Sequence[Shape], training: bool) -> int:
        """Values per sample of the padded input and the column matrix, twice in
        training (their gradients)."""
        g = self._geometry(tuple(input_shapes[0]))
        oh, ow = g.out_shape
        ph, pw = g.padded_shape
        values = oh * ow * g.taps + (ph * pw * g.channels if g.has_padding else 0)
        return 2 * values if training else values

    def _pointwise(self, g: WindowGeometry) -> bool:
        """A 1x1 kernel at stride 1: the input rows are the columns (no copy)."""
        return g.taps == g.channels and g.rows.stride == g.cols.stride == 1

    def forward(self, inputs: Sequence[np.ndarray], training: bool) -> np.ndarray:
        x = inputs[0]
        g = self._geo
        n = x.shape[0]
        xp = self._padded(x.reshape(n, *self._image(x.shape[1:])), g, "xp")
        oh, ow = g.out_shape
        rows = n * oh * ow
        if self._pointwise(g):
            cols = xp.reshape(rows, g.channels)
        else:
            cols = im2col(xp, g, self._buffer("cols", (rows, g.taps)))
        self._x, self._cols = x, cols
        z = self._buffer("z", (rows, self.filters))
        f = self.filters
        block = product_block(rows, cols.shape[1], f)
        if block == rows:
            np.matmul(cols, self._kernel_matrix(), out=z)
        else:  # thin columns: blocks of rows (kernels/conv.py product_block)
            blocks = (rows // block, block)
            np.matmul(
                cols.reshape(*blocks, -1), self._kernel_matrix(),
                out=z.reshape(*blocks, f),
            )  # fmt: skip
        return self._finish(z.reshape(n, *self._out_shape))

    def _kernel_and_input_grads(self, dz: np.ndarray) -> list[np.ndarray | None]:
        g = self._geo
        f = self.filters
        dz2 = dz.reshape(-1, f)
        cols = self._cols
        rows, taps = cols.shape
        block = product_block(rows, taps, f)
        if block == rows:
            np.matmul(cols.T, dz2, out=self._kernel_grad_matrix())
        else:  # one product per block of rows, then their sum
            parts = self._buffer("kernel_parts", (rows // block, taps, f))
            np.matmul(
                cols.reshape(-1, block, taps).transpose(0, 2, 1),
                dz2.reshape(-1, block, f),
                out=parts,
            )
            np.sum(parts, axis=0, out=self._kernel_grad_matrix())
        if not self.needs_input_grad:
            return [None]
        x = self._x
        n = x.shape[0]
        if self._pointwise(g):
            dx = self._buffer("dx", self._cols.shape)
            np.matmul(dz2, self._kernel_matrix().T, out=dx)
            return [dx.reshape(x.shape)]
        # Tap-major column gradient, (kh*kw, rows, in): one stacked product.
        k = self.params["kernel"]
        taps = k.reshape(-1, k.shape[-2], k.shape[-1]).transpose(0, 2, 1)
        dtaps = self._buffer("dtaps", (taps.shape[0], dz2.shape[0], g.channels))
        np.matmul(dz2, taps, out=dtaps)
        key = "dxp" if g.has_padding else "dx"
        dxp = col2im(dtaps, g, self._buffer(key, (n, *g.padded_shape, g.channels)))
        return [self._unpad(dxp, g, n).reshape(x.shape)]


class Conv1D(Conv2D):
    """1-D convolution over ``(batch, steps, in)``: a Conv2D of height 1.

    ``kernel`` is ``(k, in, filters)``, ``bias`` ``(filters,)``, ``y`` ``(batch,
    out_steps, filters)``; ``kernel_size``, ``strides`` and ``dilation_rate`` are
    single integers. Padding, activation and regularisation are Conv2D's.
    """

    type_name = "Conv1D"
    rank = 1


class Conv2DTranspose(_Conv):
    """Transposed 2-D convolution (the gradient of Conv2D with respect to its
    input), the upsampling layer of decoders and generators.

    ``x`` is ``(batch, h, w, in)``, ``kernel`` ``(kh, kw, in, filters)`` (the same
    axis order as Conv2D, so ``in`` is this layer's input; Keras stores ``(kh, kw,
    filters, in)``), ``y`` ``(batch, out_h, out_w, filters)`` with ``out = (size
    - 1) * stride + span`` for ``"valid"`` and ``out = size * stride`` for
    ``"same"``: exactly the input shape of the Conv2D whose gradient this is, its
    padding split as Conv2D splits it (extra at the bottom and right).
    """

    type_name = "Conv2DTranspose"
    rank = 2

    def _sizes(
        self, shape: Shape
    ) -> tuple[Shape, tuple[int, int], tuple[int, int], tuple[int, int]]:
        """The input image, and per axis the full (uncropped) output size, where
        the output starts in it, and the output size."""
        image = self._image(shape)
        full, crop, out = [], [], []
        kernel = self._spatial(self.kernel_size)
        strides = self._spatial(self.strides)
        dilation = self._spatial(self.dilation_rate)
        for size, k, s, d in zip(image[:2], kernel, strides, dilation, strict=True):
            span = d * (k - 1) + 1
            whole = (size - 1) * s + span
            if self.padding == "same":
                total = max(span - s, 0)
                out.append(size * s)
                crop.append(total // 2)
            else:
                out.append(whole)
                crop.append(0)
            full.append(max(whole, crop[-1] + out[-1]))
        return image, (full[0], full[1]), (crop[0], crop[1]), (out[0], out[1])

    def _geometry(self, shape: Shape) -> WindowGeometry:
        """The Conv2D geometry whose adjoint this layer computes: windows over the
        full (uncropped) output, one per input position."""
        image, full, _, _ = self._sizes(shape)
        axes = []
        for size, k, s, d, n_in in zip(
            full,
            self._spatial(self.kernel_size),
            self._spatial(self.strides),
            self._spatial(self.dilation_rate),
            image[:2],
            strict=True,
        ):
            # One window per input position; the full buffer may end in rows no
            # window reaches ("same" with a stride above the span).
            axes.append(AxisGeometry(size, k, s, d, n_in, 0, 0))
        return WindowGeometry(axes[0], axes[1], self.filters)

    def output_window(
        self, input_shape: Sequence[int]
    ) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
        """Per axis (rows, columns): the full (uncropped) output size, where the
        output starts in it and the output size; exporters read it."""
        _, full, crop, out = self._sizes(tuple(input_shape))
        return full, crop, out

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        self.check_input_count(len(input_shapes))
        _, _, _, (oh, ow) = self._sizes(tuple(input_shapes[0]))
        return (oh, ow, self.filters)

    def scratch_size(self, input_shapes: Sequence[Shape], training: bool) -> int:
        """Values per sample of the column matrix and the full output, twice in
        training (their gradients)."""
        image, (fh, fw), _, _ = self._sizes(tuple(input_shapes[0]))
        g = self._geometry(tuple(input_shapes[0]))
        values = image[0] * image[1] * g.taps + fh * fw * self.filters
        return 2 * values if training else values

    def _kernel_taps(self, params: dict[str, np.ndarray]) -> np.ndarray:
        """The kernel (or its gradient) as ``(kh*kw, in, filters)``: a view."""
        k = params["kernel"]
        return k.reshape(-1, k.shape[-2], k.shape[-1])

    def forward(self, inputs: Sequence[np.ndarray], training: bool) -> np.ndarray:
        x = inputs[0]
        g = self._geo
        n, h, w, cin = x.shape
        x2 = np.ascontiguousarray(x).reshape(n * h * w, cin)
        # Tap-major columns (kh*kw, n*h*w, filters): one stacked product.
        taps = self._kernel_taps(self.params)
        ctaps = self._buffer("ctaps", (taps.shape[0], n * h * w, self.filters))
        np.matmul(x2, taps, out=ctaps)
        _, full, (top, left), (oh, ow) = self._sizes(x.shape[1:])
        key = "z" if full == (oh, ow) else "full"
        whole = col2im(ctaps, g, self._buffer(key, (n, *full, self.filters)))
        if key == "z":
            z = whole
        else:
            z = self._buffer("z", (n, oh, ow, self.filters))
            np.copyto(z, whole[:, top : top + oh, left : left + ow])
        self._x = x2
        return self._finish(z)

    def _kernel_and_input_grads(self, dz: np.ndarray) -> list[np.ndarray | None]:
        g = self._geo
        n = dz.shape[0]
        _, full, (top, left), (oh, ow) = self._sizes(self.input_shapes[0])
        if full == (oh, ow):
            dfull = np.ascontiguousarray(dz)
        else:
            dfull = self._buffer("dfull", (n, *full, self.filters))
            dfull.fill(0)
            dfull[:, top : top + oh, left : left + ow] = dz
        rows = self._x.shape[0]
        dcols = im2col(dfull, g, self._buffer("dcols", (rows, g.taps)))
        taps = self._kernel_taps(self.params)
        kk, cin, cout = taps.shape
        # Per tap, kernel gradient x.T @ dcols[:, tap]: one stacked product
        # written straight into the (kh, kw, in, filters) gradient.
        per_tap = dcols.reshape(rows, kk, cout).transpose(1, 0, 2)
        np.matmul(self._x.T, per_tap, out=self._kernel_taps(self.grads))
        if not self.needs_input_grad:
            return [None]
        wt = self._buffer("wt", (kk * cout, cin))
        np.copyto(wt.reshape(kk, cout, cin), taps.transpose(0, 2, 1))
        dx = self._buffer("dx", self._x.shape)
        np.matmul(dcols, wt, out=dx)
        return [dx.reshape(n, *self.input_shapes[0])]
