"""Activation functions: forward and backward on preallocated buffers, by name.

Each activation is a small object with ``forward(z, out)`` and
``backward(dy, z, y, out)``; arrays are ``(batch, ...)`` in the layer's dtype and
``out`` is a contiguous buffer the caller owns. Softmax runs over the last axis.
``grad_from_output`` says the derivative needs only the output ``y``, so a layer
may compute the activation in place over its pre-activation buffer.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .errors import ConfigError
from .kernels import layers as K

__all__ = [
    "ACTIVATIONS",
    "ALIASES",
    "ActivationFunction",
    "canonical_name",
    "get_activation",
]


def _flat(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1)


def _rows(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1, a.shape[-1])


class ActivationFunction:
    """Base class; subclasses set ``name`` and implement ``forward``/``backward``."""

    name: ClassVar[str] = "linear"
    grad_from_output: ClassVar[bool] = True
    default_alpha: ClassVar[float | None] = None

    def __init__(self, alpha: float | None = None) -> None:
        # alpha is ignored by activations without one, so a form that keeps an
        # alpha value while the user switches activation stays valid.
        if self.default_alpha is None or alpha is None:
            self.alpha = self.default_alpha
        else:
            self.alpha = float(alpha)

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Write ``f(z)`` into ``out`` (same shape; may be ``z`` itself when
        ``grad_from_output``) and return ``out``."""
        if out is not z:
            np.copyto(out, z)
        return out

    def backward(
        self, dy: np.ndarray, z: np.ndarray, y: np.ndarray, out: np.ndarray
    ) -> np.ndarray:
        """Write ``dy * f'(z)`` into ``out`` and return it.

        ``z`` is the pre-activation and ``y = f(z)`` the output; when
        ``grad_from_output`` is true ``z`` may already be overwritten by ``y``.
        ``dy`` is never modified (``out`` may not alias it).
        """
        np.copyto(out, dy)
        return out

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """Allocate and return ``f(z)`` (convenience for tests and plots)."""
        z = np.ascontiguousarray(z)
        if not np.issubdtype(z.dtype, np.floating):
            z = z.astype(np.float64)
        return self.forward(z, np.empty_like(z))

    def derivative(self, z: np.ndarray) -> np.ndarray:
        """Allocate and return ``f'(z)`` elementwise (not for softmax)."""
        z = np.ascontiguousarray(z)
        if not np.issubdtype(z.dtype, np.floating):
            z = z.astype(np.float64)
        y = self(z)
        return self.backward(np.ones_like(z), z, y, np.empty_like(z))

    def get_config(self) -> dict[str, object]:
        cfg: dict[str, object] = {"activation": self.name}
        if self.default_alpha is not None:
            cfg["alpha"] = self.alpha
        return cfg

    def __repr__(self) -> str:
        if self.default_alpha is None:
            return f"{type(self).__name__}()"
        return f"{type(self).__name__}(alpha={self.alpha})"


class Linear(ActivationFunction):
    name = "linear"


class ReLU(ActivationFunction):
    name = "relu"

    def forward(self, z, out):
        return np.maximum(z, 0, out=out)

    def backward(self, dy, z, y, out):
        K.relu_backward(_flat(dy), _flat(y), _flat(out))
        return out


class LeakyReLU(ActivationFunction):
    name = "leaky_relu"
    grad_from_output = False
    default_alpha = 0.01

    def forward(self, z, out):
        K.leaky_relu_forward(_flat(z), self.alpha, _flat(out))
        return out

    def backward(self, dy, z, y, out):
        K.leaky_relu_backward(_flat(dy), _flat(z), self.alpha, _flat(out))
        return out


class ELU(ActivationFunction):
    name = "elu"
    grad_from_output = False
    default_alpha = 1.0

    def forward(self, z, out):
        K.elu_forward(_flat(z), self.alpha, _flat(out))
        return out

    def backward(self, dy, z, y, out):
        K.elu_backward(_flat(dy), _flat(z), self.alpha, _flat(out))
        return out


class GELU(ActivationFunction):
    """Exact GELU ``z * Phi(z)`` with the erf form, as PyTorch's default."""

    name = "gelu"
    grad_from_output = False

    def forward(self, z, out):
        f32 = z.dtype == np.float32 and out.dtype == np.float32
        (K.gelu_forward32 if f32 else K.gelu_forward)(_flat(z), _flat(out))
        return out

    def backward(self, dy, z, y, out):
        if z.dtype == np.float32 and dy.dtype == np.float32 and y.dtype == np.float32:
            # Without Numba, Phi(z) = y / z spares recomputing erf.
            K.gelu_backward32y(_flat(dy), _flat(z), _flat(y), _flat(out))
        else:
            K.gelu_backward(_flat(dy), _flat(z), _flat(out))
        return out


class SiLU(ActivationFunction):
    name = "silu"
    grad_from_output = False

    def forward(self, z, out):
        K.silu_forward(_flat(z), _flat(out))
        return out

    def backward(self, dy, z, y, out):
        K.silu_backward(_flat(dy), _flat(z), _flat(out))
        return out


class Sigmoid(ActivationFunction):
    name = "sigmoid"

    def forward(self, z, out):
        K.sigmoid_forward(_flat(z), _flat(out))
        return out

    def backward(self, dy, z, y, out):
        K.sigmoid_backward(_flat(dy), _flat(y), _flat(out))
        return out


class Tanh(ActivationFunction):
    name = "tanh"

    def forward(self, z, out):
        return np.tanh(z, out=out)

    def backward(self, dy, z, y, out):
        K.tanh_backward(_flat(dy), _flat(y), _flat(out))
        return out


class Softplus(ActivationFunction):
    name = "softplus"
    grad_from_output = False

    def forward(self, z, out):
        K.softplus_forward(_flat(z), _flat(out))
        return out

    def backward(self, dy, z, y, out):
        K.softplus_backward(_flat(dy), _flat(z), _flat(out))
        return out


class Softmax(ActivationFunction):
    """Softmax over the last axis, shifted by the row maximum for stability."""

    name = "softmax"

    def forward(self, z, out):
        K.softmax_forward(_rows(z), _rows(out))
        return out

    def backward(self, dy, z, y, out):
        K.softmax_backward(_rows(dy), _rows(y), _rows(out))
        return out

    def derivative(self, z: np.ndarray) -> np.ndarray:
        raise ConfigError("softmax has a Jacobian, not an elementwise derivative.")


_CLASSES: dict[str, type[ActivationFunction]] = {
    c.name: c
    for c in (
        Linear,
        ReLU,
        LeakyReLU,
        ELU,
        GELU,
        SiLU,
        Sigmoid,
        Tanh,
        Softplus,
        Softmax,
    )
}

ACTIVATIONS: tuple[str, ...] = tuple(_CLASSES)
"""Canonical activation names, in the order menus show them."""

ALIASES: dict[str, str] = {"swish": "silu", "identity": "linear", "none": "linear"}
"""Other accepted spellings and the canonical name each stands for."""


def canonical_name(name: str) -> str:
    """The canonical spelling of an activation name (``"swish"`` -> ``"silu"``).

    Raises
    ------
    ConfigError
        For an unknown name; the message lists the valid ones.
    """
    key = str(name).strip().lower()
    key = ALIASES.get(key, key)
    if key not in _CLASSES:
        raise ConfigError(
            f"Unknown activation '{name}'; valid activations are "
            f"{', '.join(ACTIVATIONS)} (or swish for silu)."
        )
    return key


def get_activation(
    name: str | ActivationFunction, alpha: float | None = None
) -> ActivationFunction:
    """Make the activation called ``name``.

    Parameters
    ----------
    name
        A name from ``ACTIVATIONS`` or ``ALIASES`` (case-insensitive), or an
        ``ActivationFunction``, returned unchanged.
    alpha
        Negative slope of leaky_relu (default 0.01) or scale of elu (default 1.0);
        other activations ignore it.

    Raises
    ------
    ConfigError
        For an unknown name.
    """
    if isinstance(name, ActivationFunction):
        return name
    return _CLASSES[canonical_name(name)](alpha)
