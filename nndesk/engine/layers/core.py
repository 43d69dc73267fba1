"""Core layers: Input, Dense, Activation, Dropout, Flatten and Reshape.

Arrays are ``(batch, *shape)`` in the layer's dtype; shapes in messages and shape
rules are per sample (no batch axis).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..activations import ActivationFunction, get_activation
from ..errors import ConfigError, GraphError
from ..initializers import get_initializer, initialize
from ..kernels import layers as K
from .base import Layer, Shape, SymbolicTensor, format_shape

__all__ = ["Activation", "Dense", "Dropout", "Flatten", "Input", "Reshape"]


def _positive_int(value: object, what: str, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{label}: {what} must be a positive integer, got {value!r}.")
    return int(value)


def _shape_tuple(value: object, what: str, label: str, allow_minus_one: bool) -> Shape:
    items = (value,) if isinstance(value, (int, np.integer)) else value
    try:
        dims = tuple(items)  # type: ignore[arg-type]
    except TypeError:
        raise ConfigError(f"{label}: {what} must be a tuple of integers.") from None
    ok = all(
        not isinstance(d, bool)
        and isinstance(d, (int, np.integer))
        and (d >= 1 or (allow_minus_one and d == -1))
        for d in dims
    )
    if not ok:
        allowed = (
            "positive integers (one -1 allowed)"
            if allow_minus_one
            else "positive integers"
        )
        raise ConfigError(f"{label}: {what} must hold {allowed}, got {value!r}.")
    return tuple(int(d) for d in dims)


# Layers up to this many multiply-adds per batch run in one compiled call when Numba
# is on; past it BLAS wins.
_SMALL_MACS = 4096


def _nonnegative(value: object, what: str, label: str) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"{label}: {what} must be a number, got {value!r}.") from None
    if not math.isfinite(v) or v < 0:
        raise ConfigError(f"{label}: {what} must be finite and >= 0, got {value!r}.")
    return v


INPUT_DTYPES = ("float", "int")
"""What an Input's values are: numbers, or integer ids (tokens for an Embedding)."""


class Input(Layer):
    """Entry point of a model: a placeholder for ``(batch, *shape)`` data.

    ``Input((2,))`` is already a graph node; call other layers on it. ``dtype``
    declares what the values are: ``"float"``, or ``"int"`` for integer token ids
    (they still travel in the model's float dtype, exact below 2**24; layers that
    read ids, such as Embedding, check them).
    """

    type_name = "Input"
    min_inputs = 0
    max_inputs = 0

    def __init__(
        self,
        shape: tuple[int, ...] | int,
        dtype: str = "float",
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        self.shape = _shape_tuple(shape, "shape", self.label, allow_minus_one=False)
        if dtype not in INPUT_DTYPES:
            raise self.config_error(
                f"dtype must be 'float' or 'int' (token ids), got {dtype!r}."
            )
        self.values = dtype
        self._graph_shape = self.shape

    def __call__(self, inputs: Any) -> SymbolicTensor:
        raise GraphError(f"{self.label} takes no inputs; it starts a graph.")

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        self.check_input_count(len(input_shapes))
        return self.shape

    def forward(self, inputs: Sequence[np.ndarray], training: bool) -> np.ndarray:
        return inputs[0]

    def backward(self, dy: np.ndarray) -> list[np.ndarray | None]:
        return []

    def get_config(self) -> dict[str, Any]:
        return {"shape": list(self.shape), "dtype": self.values, "name": self.name}


class _ActivationMixin:
    """Shared activation handling of Dense and Activation."""

    _act: ActivationFunction
    _z: np.ndarray | None
    _y: np.ndarray | None
    keep_preactivation: bool

    @property
    def activation_name(self) -> str:
        """Canonical name of the activation this layer ends with."""
        return self._act.name

    @property
    def preactivation(self) -> np.ndarray | None:
        """Pre-activation values of the last forward pass when the model asked to
        keep them (``keep_preactivation``), else possibly overwritten."""
        return self._z

    def _activate(self, z: np.ndarray, owns_z: bool) -> np.ndarray:
        act = self._act
        if act.name == "linear":
            return z
        if owns_z and act.grad_from_output and not self.keep_preactivation:
            return act.forward(z, z)  # z is our buffer and backward needs only y
        return act.forward(z, self._buffer("y", z.shape))  # type: ignore[attr-defined]

    def _activation_backward(self, dy: np.ndarray) -> np.ndarray:
        act = self._act
        if act.name == "linear":
            return dy
        out = self._buffer("dz", self._y.shape)  # type: ignore[attr-defined,union-attr]
        return act.backward(dy, self._z, self._y, out)


def _make_activation(
    activation: str, alpha: float | None, label: str
) -> ActivationFunction:
    try:
        return get_activation(activation, alpha)
    except ConfigError as exc:
        raise ConfigError(f"{label}: {exc}") from None


class KernelPenaltyMixin:
    """L1/L2 penalties on a layer's ``kernel`` (Dense and the convolutions).

    The layer sets ``l1`` and ``l2`` (>= 0); the penalty is
    ``l1 * sum|w| + l2 * sum w**2`` over the kernel, never the bias.
    """

    l1: float
    l2: float
    params: dict[str, np.ndarray]
    grads: dict[str, np.ndarray]

    def _set_kernel_options(
        self, kernel_initializer: str, bias_initializer: str, l1: float, l2: float, label: str
    ) -> None:
        """Check and keep the initializers and the penalties (one sentence per error)."""
        for init in (kernel_initializer, bias_initializer):
            try:
                get_initializer(init)
            except ConfigError as exc:
                raise ConfigError(f"{label}: {exc}") from None
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.l1 = _nonnegative(l1, "l1", label)
        self.l2 = _nonnegative(l2, "l2", label)

    @property
    def has_regularization(self) -> bool:
        return self.l1 > 0 or self.l2 > 0

    def regularization_loss(self) -> float:
        w = self.params["kernel"]
        loss = 0.0
        if self.l1 > 0:
            loss += self.l1 * float(np.abs(w).sum())
        if self.l2 > 0:
            loss += self.l2 * float(np.vdot(w, w))
        return loss

    def add_regularization_grads(self) -> None:
        w, g = self.params["kernel"], self.grads["kernel"]
        tmp = self._buffer("reg", w.shape)  # type: ignore[attr-defined]
        if self.l1 > 0:
            np.sign(w, out=tmp)
            tmp *= self.l1
            g += tmp
        if self.l2 > 0:
            np.multiply(w, 2 * self.l2, out=tmp)
            g += tmp


class Dense(_ActivationMixin, KernelPenaltyMixin, Layer):
    """Fully connected layer ``y = act(x @ kernel + bias)``.

    ``x`` is ``(batch, in)``, ``kernel`` is ``(in, units)`` (Keras layout), ``bias``
    is ``(units,)``. On sequences ``(batch, time, in)`` it applies to the last
    axis, the same weights at every step (``(batch, time, units)``). ``l1``/``l2`` add ``l1*sum|kernel| + l2*sum(kernel**2)`` to
    the training loss. ``alpha`` parameterises leaky_relu and elu.
    """

    type_name = "Dense"

    def __init__(
        self,
        units: int,
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
        self.units = _positive_int(units, "units", label)
        self._act = _make_activation(activation, alpha, label)
        self.activation = self._act.name
        self.alpha = None if alpha is None else float(alpha)
        self.use_bias = bool(use_bias)
        self._set_kernel_options(kernel_initializer, bias_initializer, l1, l2, label)
        self._x: np.ndarray | None = None
        self._z: np.ndarray | None = None
        self._y: np.ndarray | None = None
        self._lead: tuple[int, ...] | None = None  # (batch, time) of sequences
        self._small = False
        self._small_act = K.DENSE_ACTIVATIONS.get(self._act.name, -1)
        self._macs_per_row = 0
        self._no_bias = np.empty(0, dtype=self.dtype)
        self._no_dx = np.empty((0, 0), dtype=self.dtype)

    def build(
        self,
        input_shapes: Sequence[Shape],
        rng: np.random.Generator,
        dtype: np.dtype | type = np.float32,
    ) -> None:
        super().build(input_shapes, rng, dtype)
        self._macs_per_row = self.input_shapes[0][-1] * self.units
        self._no_bias = np.empty(0, dtype=self.dtype)
        self._no_dx = np.empty((0, 0), dtype=self.dtype)
        self._small = False

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        self.check_input_count(len(input_shapes))
        shape = tuple(input_shapes[0])
        if len(shape) not in (1, 2):
            fix = ": insert Flatten." if len(shape) > 2 else "."
            raise self.shape_error(
                "expects 1-D features or (time, features) sequences but receives "
                f"{format_shape(shape)}{fix}"
            )
        return (*shape[:-1], self.units)

    def param_shapes(self, input_shapes: Sequence[Shape]) -> dict[str, Shape]:
        self.output_shape(input_shapes)
        shapes = {"kernel": (int(input_shapes[0][-1]), self.units)}
        if self.use_bias:
            shapes["bias"] = (self.units,)
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

    def forward(self, inputs: Sequence[np.ndarray], training: bool) -> np.ndarray:
        x = inputs[0]
        if x.ndim == 2:
            self._lead = None
            return self._forward_rows(x)
        # Sequences: every (sample, step) is a row of one matrix product.
        self._lead = x.shape[:-1]
        y = self._forward_rows(x.reshape(-1, x.shape[-1]))
        return y.reshape(*self._lead, self.units)

    @property
    def preactivation(self) -> np.ndarray | None:
        """Pre-activation values of the last forward pass (in the output's shape)
        when the model asked to keep them (``keep_preactivation``)."""
        z = self._z
        if z is None or self._lead is None:
            return z
        return z.reshape(*self._lead, self.units)

    def _rows(self, d: np.ndarray) -> np.ndarray:
        """An output-shaped gradient as ``(rows, units)``."""
        return d if d.ndim == 2 else d.reshape(-1, self.units)

    def _unrows(self, dxs: list[np.ndarray | None]) -> list[np.ndarray | None]:
        """The input gradient back in the input's shape."""
        dx = dxs[0]
        if dx is None or self._lead is None:
            return dxs
        return [dx.reshape(*self._lead, dx.shape[-1])]

    def _forward_rows(self, x: np.ndarray) -> np.ndarray:
        z = self._buffer("z", (x.shape[0], self.units))
        self._x, self._z = x, z
        if (
            self._small_act >= 0
            and x.shape[0] * self._macs_per_row <= _SMALL_MACS
            and K.dense_forward.uses_numba
        ):
            # One compiled call for the whole layer (see kernels/layers.py).
            y = self._buffer("y", z.shape) if self.keep_preactivation else z
            params = self.params
            K.dense_forward(
                x,
                params["kernel"],
                params.get("bias", self._no_bias),
                z,
                y,
                self._small_act,
            )
            self._small = True
            self._y = y
            return y
        self._small = False
        np.matmul(x, self.params["kernel"], out=z)
        if self.use_bias:
            K.bias_add(z, self.params["bias"])
        self._y = self._activate(z, owns_z=True)
        return self._y

    def backward(self, dy: np.ndarray) -> list[np.ndarray | None]:
        dy = self._rows(dy)
        if self._small:
            return self._unrows(self._small_backward(dy, self._small_act))
        return self.backward_from_preactivation(self._activation_backward(dy))

    def _small_backward(self, dy: np.ndarray, act: int) -> list[np.ndarray | None]:
        x = self._x
        grads = self.grads
        dx = self._buffer("dx", x.shape) if self.needs_input_grad else self._no_dx
        K.dense_backward(
            dy,
            self._y,
            x,
            self.params["kernel"],
            grads["kernel"],
            grads.get("bias", self._no_bias),
            self._buffer("dz", dy.shape),
            dx,
            act,
        )
        return [dx] if self.needs_input_grad else [None]

    def backward_from_preactivation(self, dz: np.ndarray) -> list[np.ndarray | None]:
        """Gradients given ``dz``, the gradient with respect to the pre-activation."""
        dz = self._rows(dz)
        if self._small:
            return self._unrows(self._small_backward(dz, 0))
        x = self._x
        np.matmul(x.T, dz, out=self.grads["kernel"])
        if self.use_bias:
            K.column_sum(dz, self.grads["bias"])
        if not self.needs_input_grad:
            return [None]
        dx = self._buffer("dx", x.shape)
        np.matmul(dz, self.params["kernel"].T, out=dx)
        return self._unrows([dx])

    def set_backward_inputs(self, x: np.ndarray, y: np.ndarray) -> None:
        """Make ``backward`` act on input ``x`` and output ``y`` as if ``forward``
        had produced them: for a training step computed elsewhere
        (kernels/chain.py). The pre-activation is not kept (``preactivation`` is
        None then); the activations of such steps need only ``y``."""
        self._x, self._y, self._z = x, y, None
        self._lead = None
        self._small = False

    def get_config(self) -> dict[str, Any]:
        return {
            "units": self.units,
            "activation": self.activation,
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer,
            "bias_initializer": self.bias_initializer,
            "l1": self.l1,
            "l2": self.l2,
            "alpha": self.alpha,
            "name": self.name,
        }


class Activation(_ActivationMixin, Layer):
    """Applies an activation elementwise (softmax: over the last axis)."""

    type_name = "Activation"

    def __init__(
        self, activation: str, alpha: float | None = None, name: str | None = None
    ) -> None:
        super().__init__(name)
        self._act = _make_activation(activation, alpha, self.label)
        self.activation = self._act.name
        self.alpha = None if alpha is None else float(alpha)
        self._z: np.ndarray | None = None
        self._y: np.ndarray | None = None

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        self.check_input_count(len(input_shapes))
        shape = tuple(input_shapes[0])
        if self.activation == "softmax" and len(shape) == 0:
            raise self.shape_error(
                "(softmax) needs at least 1-D features to normalise over, but "
                "receives scalars per sample."
            )
        return shape

    def forward(self, inputs: Sequence[np.ndarray], training: bool) -> np.ndarray:
        self._z = inputs[0]
        self._y = self._activate(self._z, owns_z=False)
        return self._y

    def backward(self, dy: np.ndarray) -> list[np.ndarray | None]:
        return [self._activation_backward(dy)]

    def backward_from_preactivation(self, dz: np.ndarray) -> list[np.ndarray | None]:
        """The gradient with respect to this layer's input is ``dz`` itself."""
        return [dz]

    def get_config(self) -> dict[str, Any]:
        return {"activation": self.activation, "alpha": self.alpha, "name": self.name}


class Dropout(Layer):
    """Inverted dropout: in training, zero each value with probability ``rate`` and
    scale the rest by ``1 / (1 - rate)``; identity at inference.

    The mask is drawn from ``self.rng`` (the model's generator).
    """

    type_name = "Dropout"
    pass_through = True

    def __init__(self, rate: float, name: str | None = None) -> None:
        super().__init__(name)
        try:
            r = float(rate)
        except (TypeError, ValueError):
            r = math.nan
        if not 0.0 <= r < 1.0:
            raise self.config_error(f"rate must be in [0, 1), got {rate!r}.")
        self.rate = r
        self._mask: np.ndarray | None = None

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        self.check_input_count(len(input_shapes))
        return tuple(input_shapes[0])

    def forward(self, inputs: Sequence[np.ndarray], training: bool) -> np.ndarray:
        x = inputs[0]
        if not training or self.rate == 0.0:
            self._mask = None
            return x
        if self.rng is None:
            raise GraphError(
                f"{self.label} has no random generator: build the model first."
            )
        u = self._buffer("u", x.shape)
        self.rng.random(dtype=self.dtype.type, out=u)
        mask = self._buffer("mask", x.shape)
        y = self._buffer("y", x.shape)
        scale = 1.0 / (1.0 - self.rate)
        K.dropout_forward(
            x.reshape(-1),
            u.reshape(-1),
            self.rate,
            scale,
            mask.reshape(-1),
            y.reshape(-1),
        )
        self._mask = mask
        return y

    def backward(self, dy: np.ndarray) -> list[np.ndarray | None]:
        if self._mask is None:
            return [dy]
        dx = self._buffer("dx", dy.shape)
        np.multiply(dy, self._mask, out=dx)
        return [dx]

    def get_config(self) -> dict[str, Any]:
        return {"rate": self.rate, "name": self.name}


class Flatten(Layer):
    """Flattens each sample to 1-D: ``(batch, *shape)`` -> ``(batch, prod(shape))``."""

    type_name = "Flatten"
    pass_through = True

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        self.check_input_count(len(input_shapes))
        return (math.prod(input_shapes[0]),)

    def forward(self, inputs: Sequence[np.ndarray], training: bool) -> np.ndarray:
        x = inputs[0]
        self._in_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy: np.ndarray) -> list[np.ndarray | None]:
        return [dy.reshape(self._in_shape)]


class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (one ``-1`` is inferred)."""

    type_name = "Reshape"
    pass_through = True

    def __init__(self, target_shape: tuple[int, ...], name: str | None = None) -> None:
        super().__init__(name)
        shape = _shape_tuple(
            target_shape, "target_shape", self.label, allow_minus_one=True
        )
        if shape.count(-1) > 1:
            raise self.config_error(
                f"target_shape {format_shape(shape)} has more than one -1."
            )
        self.target_shape = shape

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        self.check_input_count(len(input_shapes))
        size = math.prod(input_shapes[0])
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if size % known:
                raise self.shape_error(
                    f"cannot reshape {format_shape(input_shapes[0])} ({size} values) "
                    f"into {format_shape(self.target_shape)}: {size} is not a "
                    f"multiple of {known}."
                )
            return tuple(size // known if d == -1 else d for d in self.target_shape)
        if known != size:
            raise self.shape_error(
                f"cannot reshape {format_shape(input_shapes[0])} ({size} values) into "
                f"{format_shape(self.target_shape)} ({known} values)."
            )
        return self.target_shape

    def forward(self, inputs: Sequence[np.ndarray], training: bool) -> np.ndarray:
        x = inputs[0]
        self._in_shape = x.shape
        return x.reshape((x.shape[0], *self.target_shape))

    def backward(self, dy: np.ndarray) -> list[np.ndarray | None]:
        return [dy.reshape(self._in_shape)]

    def get_config(self) -> dict[str, Any]:
        return {"target_shape": list(self.target_shape), "name": self.name}
