"""Loss functions: value and gradient with respect to the predictions (or the logits).

Every loss reduces to the mean, as PyTorch's default ``reduction="mean"``:
regression losses (``mse``, ``mae``, ``huber``) and ``binary_crossentropy`` average
over all elements; ``categorical_crossentropy`` and
``sparse_categorical_crossentropy`` average over samples (every position but the
class axis, which is the last one).

A loss is used in two calls per batch: ``forward(y_pred, y_true)`` returns the value
and caches what ``backward()`` needs, which returns ``d mean-loss / d y_pred`` with
the shape and dtype of ``y_pred``.

Fused cross-entropy. A model whose output layer ends in the activation named by
``loss.fuses_with`` ("sigmoid" for binary, "softmax" for categorical cross-entropy)
calls ``forward_from_logits(z, y_true)`` / ``backward_from_logits()`` with the
pre-activation values instead. These use the stable forms
``max(z, 0) - z*y + log1p(exp(-|z|))`` and ``logsumexp(z) - z[y]``, and return
``dz = (p - y) / N``, which stays finite for logits of any size where the
unfused route would divide by a probability that rounded to 0.

``from_logits=True`` means the predictions given to ``forward`` are logits already
(a linear output layer); ``fuses_with`` is then None.

Cross-entropy from probabilities clips them to ``[eps, 1 - eps]`` with
``eps = 1e-7``, as Keras does, so a probability of exactly 0 costs ``-log(1e-7)``
(about 16.1) rather than infinity; the gradient is zero where the clip is active.
Probabilities outside ``[0, 1]`` are a ConfigError (the output layer lacks its
sigmoid or softmax).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .errors import ConfigError, DataError, ShapeError
from .kernels import optim as K
from .lookup import canonical, construct

__all__ = [
    "LOSSES",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "Huber",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
    "check_label_range",
    "get",
]

EPSILON = 1e-7
"""Probability clip for cross-entropy from probabilities (Keras' ``epsilon()``)."""


class Loss:
    """Base class: a mean loss over a batch and its gradient.

    Subclasses implement ``_forward`` (value, caching what the gradient needs) and
    ``_backward``, and their ``_forward_logits``/``_backward_logits`` twins when a
    fused form exists; ``_targets`` shapes and converts the targets and
    ``validate_targets`` checks their values.
    """

    name: ClassVar[str] = "loss"
    fuses_with: str | None = None

    def __init__(self) -> None:
        self._cache: tuple[Any, ...] | None = None
        self._cache_from_logits = False

    # --- public API ------------------------------------------------------------
    def forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        """Mean loss of a batch.

        Parameters
        ----------
        y_pred
            Float array ``(batch, *features)``: model outputs (probabilities for
            cross-entropy unless ``from_logits``).
        y_true
            Targets shaped like ``y_pred`` (or ``(batch, ...)`` integer class
            labels for the sparse loss); any numeric dtype.

        Returns
        -------
        float
            The mean loss.

        Raises
        ------
        ShapeError
            When the target shape does not fit the prediction shape.
        DataError
            When targets hold NaN/Inf or labels out of range.
        """
        self._cache = None  # a failed call must not leave an old gradient behind
        y_pred = _check_pred(y_pred, self.name)
        y_true = self._targets(y_pred, y_true)
        self._cache_from_logits = False
        return self._forward(y_pred, y_true)

    def backward(self) -> np.ndarray:
        """Gradient of the last ``forward`` value with respect to ``y_pred``.

        Returns
        -------
        np.ndarray
            Same shape and dtype as that ``y_pred``.
        """
        if self._cache is None or self._cache_from_logits:
            raise RuntimeError(f"{self.name}: backward() called before forward().")
        return self._backward()

    def forward_from_logits(self, logits: np.ndarray, y_true: np.ndarray) -> float:
        """Mean loss computed from the pre-activation ``logits`` (fused, stable).

        For losses without a fused form (regression) the logits are the
        predictions, as for a linear output layer.
        """
        self._cache = None
        logits = _check_pred(logits, self.name)
        y_true = self._targets(logits, y_true)
        self._cache_from_logits = True
        return self._forward_logits(logits, y_true)

    def backward_from_logits(self) -> np.ndarray:
        """Gradient of the last ``forward_from_logits`` value w.r.t. the logits."""
        if self._cache is None or not self._cache_from_logits:
            raise RuntimeError(
                f"{self.name}: backward_from_logits() called before "
                "forward_from_logits()."
            )
        return self._backward_logits()

    def keep_gradient(self, grad: np.ndarray, from_logits: bool) -> None:
        """Have the next ``backward`` (``backward_from_logits`` when
        ``from_logits``) return ``grad``: for a training step that computed this
        loss and its gradient itself (kernels/chain.py). Only for losses whose
        backward returns the gradient the forward pass computed (mse and the
        fused cross-entropies)."""
        self._cache = (grad,)
        self._cache_from_logits = from_logits

    def __call__(self, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        return self.forward(y_pred, y_true)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments; ``get(loss.name, **loss.get_config())`` rebuilds it."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    # --- subclass hooks ----------------------------------------------------------
    def _targets(self, y_pred: np.ndarray, y_true: Any) -> np.ndarray:
        """Targets shaped like and in the dtype of ``y_pred`` (values unchecked)."""
        y = _match_shape(y_pred, y_true, self.name)
        return np.ascontiguousarray(y, dtype=y_pred.dtype)

    def validate_targets(self, y: np.ndarray) -> None:
        """Raise DataError for target values this loss cannot use."""
        _check_finite(y, self.name)

    def reject_targets(self, y: np.ndarray) -> None:
        """A kernel found an invalid target: raise the detailed error."""
        self.validate_targets(y)
        raise DataError(f"Loss '{self.name}': y_true holds an invalid value.")

    def _run_kernel(
        self,
        kernel: Any,
        x: np.ndarray,
        y_true: np.ndarray,
        n: int,
        x_shape: tuple[int, ...] = (-1,),
        y_shape: tuple[int, ...] = (-1,),
    ) -> float:
        """Mean loss from a fused kernel ``(x, y, grad_out, 1/n) -> (sum, bad)``.

        The kernel writes d(mean loss)/dx into ``grad_out`` (cached for the backward
        pass) and returns the first invalid target's index in ``bad`` (or -1);
        ``x_shape``/``y_shape`` are the flat views it takes.
        """
        x = np.ascontiguousarray(x)
        grad = np.empty_like(x)
        total, bad = kernel(
            x.reshape(x_shape), y_true.reshape(y_shape), grad.reshape(x_shape), 1.0 / n
        )
        if bad >= 0:
            self.reject_targets(y_true)
        self._cache = (grad,)
        return total / n

    def _forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        raise NotImplementedError

    def _backward(self) -> np.ndarray:
        raise NotImplementedError

    def _forward_logits(self, logits: np.ndarray, y_true: np.ndarray) -> float:
        return self._forward(logits, y_true)

    def _backward_logits(self) -> np.ndarray:
        return self._backward()


# --- regression ------------------------------------------------------------------
class MeanSquaredError(Loss):
    """``mean((y_pred - y_true)**2)`` over all elements."""

    name = "mse"

    def _forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        return self._run_kernel(K.mse, y_pred, y_true, y_pred.size)

    def _backward(self) -> np.ndarray:
        return self._cache[0]  # type: ignore[index]


class MeanAbsoluteError(Loss):
    """``mean(|y_pred - y_true|)`` over all elements (gradient 0 where equal)."""

    name = "mae"

    def _forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        self.validate_targets(y_true)
        diff = np.subtract(y_pred, y_true)
        self._cache = (diff,)
        return float(np.abs(diff).sum()) / diff.size

    def _backward(self) -> np.ndarray:
        (diff,) = self._cache  # type: ignore[misc]
        grad = np.sign(diff)
        grad *= 1.0 / diff.size
        return grad


class Huber(Loss):
    """Huber loss as PyTorch's ``HuberLoss``: quadratic within ``delta``, then linear.

    Per element ``0.5 * d**2`` if ``|d| < delta`` else ``delta * (|d| - 0.5 * delta)``
    with ``d = y_pred - y_true``; mean over all elements.
    """

    name = "huber"

    def __init__(self, delta: float = 1.0) -> None:
        super().__init__()
        delta = float(delta)
        if not delta > 0 or not np.isfinite(delta):
            raise ConfigError(f"Loss 'huber' needs delta > 0, got {delta}.")
        self.delta = delta

    def _forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        self.validate_targets(y_true)
        diff = np.subtract(y_pred, y_true)
        self._cache = (diff,)
        absd = np.abs(diff)
        small = absd < self.delta
        per = np.where(small, 0.5 * diff * diff, self.delta * (absd - 0.5 * self.delta))
        return float(per.sum()) / diff.size

    def _backward(self) -> np.ndarray:
        (diff,) = self._cache  # type: ignore[misc]
        grad = np.clip(diff, -self.delta, self.delta)
        grad *= 1.0 / diff.size
        return grad

    def get_config(self) -> dict[str, Any]:
        return {"delta": self.delta}


# --- classification ----------------------------------------------------------------
class _CrossEntropy(Loss):
    """Shared ``from_logits`` handling for the three cross-entropy losses."""

    activation: ClassVar[str] = ""

    def __init__(self, from_logits: bool = False) -> None:
        super().__init__()
        self.from_logits = bool(from_logits)
        self.fuses_with = None if self.from_logits else self.activation

    def forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        if self.from_logits:
            return self.forward_from_logits(y_pred, y_true)
        return super().forward(y_pred, y_true)

    def backward(self) -> np.ndarray:
        if self.from_logits:
            return self.backward_from_logits()
        return super().backward()

    def get_config(self) -> dict[str, Any]:
        return {"from_logits": self.from_logits}

    def validate_targets(self, y: np.ndarray) -> None:
        # Binary and one-hot targets: 0/1 or soft labels (sparse labels override).
        _check_finite(y, self.name)
        _check_unit_range(y, self.name)

    def _check_probabilities(self, p: np.ndarray) -> None:
        lo, hi = float(p.min()), float(p.max())
        if lo < 0.0 or hi > 1.0:
            raise ConfigError(
                f"Loss '{self.name}' expects probabilities in [0, 1] but the "
                f"predictions range over [{lo:.4g}, {hi:.4g}]: end the model with a "
                f"{self.activation} or use from_logits=True."
            )


class BinaryCrossentropy(_CrossEntropy):
    """Binary cross-entropy, mean over all elements (independent binary outputs).

    Targets are 0/1 or soft labels in ``[0, 1]``, shaped like the predictions.
    """

    name = "binary_crossentropy"
    activation = "sigmoid"

    def _forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        self.validate_targets(y_true)
        self._check_probabilities(y_pred)
        p = np.clip(y_pred, EPSILON, 1.0 - EPSILON)
        self._cache = (y_pred, p, y_true)
        per = y_true * np.log(p)
        per += (1.0 - y_true) * np.log1p(-p)
        return -float(per.sum()) / p.size

    def _backward(self) -> np.ndarray:
        y_pred, p, y = self._cache  # type: ignore[misc]
        grad = (p - y) / (p * (1.0 - p))
        # The clip has zero slope outside [eps, 1 - eps].
        grad[(y_pred < EPSILON) | (y_pred > 1.0 - EPSILON)] = 0.0
        grad *= 1.0 / p.size
        return grad.astype(y_pred.dtype, copy=False)

    def _forward_logits(self, logits: np.ndarray, y_true: np.ndarray) -> float:
        return self._run_kernel(K.bce_logits, logits, y_true, logits.size)

    def _backward_logits(self) -> np.ndarray:
        return self._cache[0]  # type: ignore[index]


class CategoricalCrossentropy(_CrossEntropy):
    """Categorical cross-entropy over the last axis, mean over samples.

    Targets are one-hot (or soft labels in ``[0, 1]``) shaped like the predictions.
    """

    name = "categorical_crossentropy"
    activation = "softmax"

    def _targets(self, y_pred: np.ndarray, y_true: Any) -> np.ndarray:
        y_true = np.asarray(y_true)
        if (
            y_pred.ndim >= 2
            and y_true.shape
            in (
                y_pred.shape[:-1],
                (*y_pred.shape[:-1], 1),
            )
            and y_pred.shape[-1] > 1
        ):
            raise ShapeError(
                f"Loss '{self.name}' receives y_true of shape {y_true.shape} for "
                f"y_pred of shape {y_pred.shape}: these look like integer labels, "
                "use sparse_categorical_crossentropy or one-hot encode them."
            )
        return super()._targets(y_pred, y_true)

    def _forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        self.validate_targets(y_true)
        self._check_probabilities(y_pred)
        p = np.clip(y_pred, EPSILON, 1.0 - EPSILON)
        self._cache = (y_pred, p, y_true)
        n = _samples(y_pred)
        return -float(np.vdot(y_true, np.log(p))) / n

    def _backward(self) -> np.ndarray:
        y_pred, p, y = self._cache  # type: ignore[misc]
        grad = -y / p
        grad[(y_pred < EPSILON) | (y_pred > 1.0 - EPSILON)] = 0.0
        grad *= 1.0 / _samples(y_pred)
        return grad.astype(y_pred.dtype, copy=False)

    def _forward_logits(self, logits: np.ndarray, y_true: np.ndarray) -> float:
        k = logits.shape[-1]
        return self._run_kernel(
            K.cce_logits, logits, y_true, _samples(logits), (-1, k), (-1, k)
        )

    def _backward_logits(self) -> np.ndarray:
        return self._cache[0]  # type: ignore[index]


class SparseCategoricalCrossentropy(_CrossEntropy):
    """Categorical cross-entropy with integer class labels, mean over samples.

    ``y_pred`` is ``(batch, ..., classes)``; ``y_true`` holds integer labels in
    ``[0, classes)`` shaped ``(batch, ...)`` or ``(batch, ..., 1)`` (integer or
    integer-valued float dtype).
    """

    name = "sparse_categorical_crossentropy"
    activation = "softmax"

    def _targets(self, y_pred: np.ndarray, y_true: Any) -> np.ndarray:
        y = np.asarray(y_true)
        if y_pred.ndim < 2:
            raise ShapeError(
                f"Loss '{self.name}' needs predictions of shape (batch, classes) but "
                f"receives y_pred of shape {y_pred.shape}."
            )
        lead = y_pred.shape[:-1]
        if y.shape == (*lead, 1):
            y = y.reshape(lead)
        elif y.shape != lead:
            raise ShapeError(
                f"Loss '{self.name}' receives y_true of shape {y.shape} for y_pred "
                f"of shape {y_pred.shape}; labels must be shaped {lead}."
            )
        self._classes = y_pred.shape[-1]
        return np.ascontiguousarray(_as_labels(y, self.name))

    def validate_targets(self, y: np.ndarray) -> None:
        check_label_range(y, self._classes, self.name)

    def _picked(self, a: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """``a[..., labels]`` per sample, flattened to ``(samples,)``."""
        flat = a.reshape(-1, a.shape[-1])
        return flat[np.arange(flat.shape[0]), labels.reshape(-1)]

    def _forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        self.validate_targets(y_true)
        self._check_probabilities(y_pred)
        picked = self._picked(y_pred, y_true)
        p = np.clip(picked, EPSILON, 1.0 - EPSILON)
        self._cache = (y_pred, picked, p, y_true)
        return -float(np.log(p).sum()) / max(p.size, 1)

    def _backward(self) -> np.ndarray:
        y_pred, picked, p, labels = self._cache  # type: ignore[misc]
        g = -1.0 / p
        g[(picked < EPSILON) | (picked > 1.0 - EPSILON)] = 0.0
        g *= 1.0 / max(p.size, 1)
        grad = np.zeros_like(y_pred)
        flat = grad.reshape(-1, grad.shape[-1])
        flat[np.arange(flat.shape[0]), labels.reshape(-1)] = g
        return grad

    def _forward_logits(self, logits: np.ndarray, y_true: np.ndarray) -> float:
        k = logits.shape[-1]
        return self._run_kernel(
            K.sparse_logits, logits, y_true, _samples(logits), (-1, k), (-1,)
        )

    def _backward_logits(self) -> np.ndarray:
        return self._cache[0]  # type: ignore[index]


# --- helpers -----------------------------------------------------------------------
def _check_pred(y_pred: Any, name: str) -> np.ndarray:
    if not isinstance(y_pred, np.ndarray) or y_pred.dtype.kind != "f":
        y_pred = np.asarray(y_pred)
        if y_pred.dtype.kind not in "fiub":
            raise DataError(
                f"Loss '{name}' needs numeric predictions, got dtype {y_pred.dtype}."
            )
        y_pred = y_pred.astype(np.float64)
    if y_pred.ndim == 0 or y_pred.size == 0:
        raise ShapeError(
            f"Loss '{name}' needs a non-empty batch of predictions, got shape "
            f"{y_pred.shape}."
        )
    return y_pred


def _match_shape(y_pred: np.ndarray, y_true: Any, name: str) -> np.ndarray:
    """``y_true`` shaped like ``y_pred``; ``(n,)`` and ``(n, 1)`` fit each other."""
    y = np.asarray(y_true)
    if y.dtype.kind not in "fiub":
        raise DataError(f"Loss '{name}' needs numeric targets, got dtype {y.dtype}.")
    if y.shape == y_pred.shape:
        return y
    if y.size == y_pred.size and (
        y.shape == (*y_pred.shape, 1) or (*y.shape, 1) == y_pred.shape
    ):
        return y.reshape(y_pred.shape)
    raise ShapeError(
        f"Loss '{name}' receives y_true of shape {y.shape} for y_pred of shape "
        f"{y_pred.shape}; they must match."
    )


def _check_finite(y: np.ndarray, name: str) -> None:
    if y.dtype.kind != "f":
        return
    # One reduction instead of a mask: a NaN/Inf makes the sum non-finite; a sum
    # that overflows from finite values is settled by the exact test below.
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(y.sum()):
            return
    bad = ~np.isfinite(y)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise DataError(
            f"Loss '{name}': y_true holds {int(bad.sum())} NaN/Inf value(s), the "
            f"first in row {row}."
        )


def _check_unit_range(y: np.ndarray, name: str) -> None:
    lo, hi = float(y.min(initial=0.0)), float(y.max(initial=0.0))
    if lo < 0.0 or hi > 1.0:
        bad = (y < 0) | (y > 1)
        row = int(np.argwhere(bad)[0][0])
        value = y[tuple(np.argwhere(bad)[0])]
        raise DataError(
            f"Loss '{name}' needs targets in [0, 1] but y_true holds {value:g} in "
            f"row {row}."
        )


def _as_labels(y: np.ndarray, name: str) -> np.ndarray:
    """Integer class labels as an intp array; DataError for other values."""
    if y.dtype.kind == "b" or y.dtype.kind not in "iuf":
        raise DataError(
            f"Loss '{name}' needs integer class labels, got dtype {y.dtype}."
        )
    if y.dtype.kind == "f":
        _check_finite(y, name)
        frac = y != np.floor(y)
        if frac.any():
            i = np.argwhere(frac)[0]
            raise DataError(
                f"Loss '{name}': label {y[tuple(i)]:g} in row {int(i[0])} is not an "
                "integer."
            )
    return y.astype(np.intp, copy=False)


def check_label_range(y: np.ndarray, classes: int, name: str) -> None:
    """DataError naming loss ``name``, the first label outside ``[0, classes)``
    and its row, if there is one."""
    if y.size:
        bad = (y < 0) | (y >= classes)
        if bad.any():
            i = np.argwhere(bad)[0]
            raise DataError(
                f"Loss '{name}': label {y[tuple(i)]} in row {int(i[0])} is outside "
                f"[0, {classes}) for {classes} classes."
            )


def _samples(a: np.ndarray) -> int:
    """Number of samples for a mean over all axes but the class axis."""
    return max(a.size // a.shape[-1], 1) if a.ndim else 1


# --- registry ----------------------------------------------------------------------
_CLASSES: dict[str, type[Loss]] = {
    cls.name: cls
    for cls in (
        MeanSquaredError,
        MeanAbsoluteError,
        Huber,
        BinaryCrossentropy,
        CategoricalCrossentropy,
        SparseCategoricalCrossentropy,
    )
}

LOSSES: tuple[str, ...] = tuple(_CLASSES)
"""Canonical loss names, in display order."""

_ALIASES = {
    "mean_squared_error": "mse",
    "mean_absolute_error": "mae",
    "huber_loss": "huber",
    "bce": "binary_crossentropy",
    "binary_cross_entropy": "binary_crossentropy",
    "categorical_cross_entropy": "categorical_crossentropy",
    "cross_entropy": "categorical_crossentropy",
    "sparse_categorical_cross_entropy": "sparse_categorical_crossentropy",
}


def get(name_or_obj: str | Loss, **kwargs: Any) -> Loss:
    """A loss object from its name (plus constructor arguments) or the object itself.

    Parameters
    ----------
    name_or_obj
        One of ``LOSSES`` (a few long aliases such as ``"mean_squared_error"`` are
        accepted), or a ``Loss`` instance, returned unchanged.
    **kwargs
        Constructor arguments, e.g. ``get("huber", delta=0.5)``.

    Raises
    ------
    ConfigError
        For an unknown name (the message lists the valid ones) or parameter.
    """
    if isinstance(name_or_obj, Loss):
        if kwargs:
            raise ConfigError(
                f"Loss '{name_or_obj.name}' is already built; parameters "
                f"{sorted(kwargs)} cannot be applied to it."
            )
        return name_or_obj
    key = canonical(name_or_obj, LOSSES, _ALIASES, "loss")
    return construct(_CLASSES[key], kwargs, f"Loss '{key}'")
