"""Optimizers: SGD, Adam, AdamW, RMSprop and Adagrad with PyTorch 2.x semantics.

``optimizer.step(params, grads)`` updates every parameter array in place from its
gradient; both dicts use the model's weight keys (``"dense_1/kernel"``) and must
hold the same keys and shapes. State (moments, accumulators) is created on the
first step for each key, in the parameter's dtype, and reused afterwards: a step
allocates nothing. The fused updates live in ``kernels.optim`` (one Numba pass per
parameter when Numba is available, in-place NumPy otherwise); the ``Optimizer``
base class, which checks, clips, plans those calls and keeps the state, lives in
``optimizer_base``.

Every optimizer also clips gradients before its update, as the usual PyTorch
recipe does: ``clipnorm`` rescales all gradients together when their global L2 norm
exceeds it (``torch.nn.utils.clip_grad_norm_``), then ``clipvalue`` clamps each
element to ``[-clipvalue, clipvalue]`` (``clip_grad_value_``). The gradient arrays
passed in are never modified.

``optimizer.lr`` may be changed between steps (that is how schedules apply, see
``nndesk.engine.schedules``). ``get_state()``/``set_state()`` save and restore
everything a step depends on besides the config, so a restored optimizer built
with ``get(opt.name, **opt.get_config())`` continues bit-identically.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from .errors import ConfigError
from .kernels import optim as K
from .lookup import canonical, construct
from .optimizer_base import FusedPlan, Optimizer, empty_placeholder, step_count

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSprop",
    "get",
]


class SGD(Optimizer):
    """Stochastic gradient descent as ``torch.optim.SGD`` (dampening 0).

    ``g += weight_decay * p``; with momentum ``b = momentum * b + g`` and the step
    uses ``b`` (or ``g + momentum * b`` with ``nesterov``); ``p -= lr * step``.
    """

    name = "sgd"
    _kernel = K.sgd_update

    def __init__(
        self,
        lr: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
    ) -> None:
        super().__init__(lr, clipnorm, clipvalue)
        self.momentum = self._non_negative("momentum", momentum)
        self.nesterov = bool(nesterov)
        self.weight_decay = self._non_negative("weight_decay", weight_decay)
        if self.nesterov and self.momentum == 0.0:
            raise ConfigError("Optimizer 'sgd': nesterov needs a momentum > 0.")
        self.slots = ("momentum",) if self.momentum else ()

    def _kernel_arrays(
        self, p: np.ndarray, state: tuple[np.ndarray, ...]
    ) -> tuple[np.ndarray, ...]:
        return state if state else (empty_placeholder(p.dtype),)

    def _scalar_values(self, key: str, scale: float, clip: float) -> tuple[Any, ...]:
        return (
            self.lr,
            self.momentum,
            self.nesterov,
            self.weight_decay,
            scale,
            clip,
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "momentum": self.momentum,
            "nesterov": self.nesterov,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
        }


class Adam(Optimizer):
    """Adam as ``torch.optim.Adam``; ``weight_decay`` is L2 added to the gradient.

    ``m = b1*m + (1-b1)*g``, ``v = b2*v + (1-b2)*g**2`` and
    ``p -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)``, with ``t``
    counted per parameter (saved as ``"<key>/step"``).
    """

    name = "adam"
    _kernel = K.adam_update
    _decoupled: ClassVar[bool] = False

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
    ) -> None:
        super().__init__(lr, clipnorm, clipvalue)
        self.beta1 = self._beta("beta1", beta1)
        self.beta2 = self._beta("beta2", beta2)
        self.eps = self._non_negative("eps", eps)
        self.weight_decay = self._non_negative("weight_decay", weight_decay)
        self.slots = ("m", "v")
        self._steps: dict[str, int] = {}

    def _scalars(self, dtype: np.dtype, key: str) -> tuple[Any, ...]:
        # Called once per key and step: count the key's step (torch keeps one
        # per parameter), which the bias corrections depend on.
        t = self._steps.get(key, 0) + 1
        self._steps[key] = t
        values = self._scalar_cache.get((dtype, t))
        if values is None:
            values = self._cast_scalars(dtype, key)
            self._scalar_cache[(dtype, t)] = values
        return values

    def _steps_aligned(self, keys: tuple[str, ...]) -> bool:
        steps = self._steps
        t = steps.get(keys[0], 0)
        return all(steps.get(k, 0) == t for k in keys)

    def advance_fused(self, fused: FusedPlan) -> tuple[Any, ...]:
        keys = fused.keys
        self._steps.update(dict.fromkeys(keys, self._steps.get(keys[0], 0) + 1))
        return super().advance_fused(fused)

    def undo_fused(self, fused: FusedPlan) -> None:
        keys = fused.keys
        self._steps.update(dict.fromkeys(keys, self._steps[keys[0]] - 1))
        super().undo_fused(fused)

    def _fused_scalars(self, dtype: np.dtype, keys: tuple[str, ...]) -> tuple[Any, ...]:
        steps = self._steps
        t = steps.get(keys[0], 0) + 1
        for k in keys:
            steps[k] = t
        return self._cast_scalars(dtype, keys[0])

    def _scalar_values(self, key: str, scale: float, clip: float) -> tuple[Any, ...]:
        t = self._steps[key]
        lr, wd = self.lr, self.weight_decay
        if self._decoupled:
            l2, decay = 0.0, 1.0 - lr * wd
        else:
            l2, decay = wd, 1.0
        return (
            lr / (1.0 - self.beta1**t),  # step size
            1.0 - self.beta1,
            self.beta2,
            1.0 - self.beta2,
            math.sqrt(1.0 - self.beta2**t),
            self.eps,
            l2,
            decay,
            scale,
            clip,
        )

    def reset(self) -> None:
        super().reset()
        self._steps.clear()

    def _extra_slots(self) -> tuple[str, ...]:
        return ("step",)

    def _extra_state(self, key: str) -> dict[str, np.ndarray]:
        return {f"{key}/step": np.array(self._steps.get(key, 0), dtype=np.int64)}

    def _restore_extra(self, key: str, slots: Mapping[str, np.ndarray]) -> None:
        self._steps[key] = step_count(slots["step"], self.name, f"{key}/step")

    def set_state(self, state: Mapping[str, np.ndarray]) -> None:
        steps = dict(self._steps)
        self._steps = {}
        try:
            super().set_state(state)
        except Exception:
            self._steps = steps
            raise

    def get_config(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "beta1": self.beta1,
            "beta2": self.beta2,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
        }


class AdamW(Adam):
    """AdamW as ``torch.optim.AdamW``: decoupled decay ``p *= 1 - lr * weight_decay``
    before the Adam step (default ``weight_decay=0.01``)."""

    name = "adamw"
    _decoupled = True

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
    ) -> None:
        super().__init__(lr, beta1, beta2, eps, weight_decay, clipnorm, clipvalue)


class RMSprop(Optimizer):
    """RMSprop as ``torch.optim.RMSprop``.

    ``s = alpha*s + (1-alpha)*g**2``; ``centered`` also tracks ``a = mean(g)`` and
    divides by ``sqrt(s - a**2) + eps`` instead of ``sqrt(s) + eps``; ``momentum``
    accumulates ``b = momentum*b + g/denominator`` and steps by ``lr * b``.
    """

    name = "rmsprop"
    _kernel = K.rmsprop_update

    def __init__(
        self,
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        momentum: float = 0.0,
        centered: bool = False,
        weight_decay: float = 0.0,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
    ) -> None:
        super().__init__(lr, clipnorm, clipvalue)
        self.alpha = self._beta("alpha", alpha)
        self.eps = self._non_negative("eps", eps)
        self.momentum = self._non_negative("momentum", momentum)
        self.centered = bool(centered)
        self.weight_decay = self._non_negative("weight_decay", weight_decay)
        self._used = (True, self.centered, self.momentum > 0.0)
        self.slots = tuple(
            s
            for s, u in zip(
                ("square_avg", "grad_avg", "momentum"), self._used, strict=True
            )
            if u
        )

    def _kernel_arrays(
        self, p: np.ndarray, state: tuple[np.ndarray, ...]
    ) -> tuple[np.ndarray, ...]:
        it = iter(state)
        return tuple(
            next(it) if used else empty_placeholder(p.dtype) for used in self._used
        )

    def _scalar_values(self, key: str, scale: float, clip: float) -> tuple[Any, ...]:
        return (
            self.lr,
            self.alpha,
            1.0 - self.alpha,
            self.eps,
            self.weight_decay,
            self.momentum,
            self.centered,
            scale,
            clip,
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "alpha": self.alpha,
            "eps": self.eps,
            "momentum": self.momentum,
            "centered": self.centered,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
        }


class Adagrad(Optimizer):
    """Adagrad as ``torch.optim.Adagrad`` (no lr decay).

    ``s += g**2`` (``s`` starts at ``initial_accumulator_value``) and
    ``p -= lr * g / (sqrt(s) + eps)``.
    """

    name = "adagrad"
    _kernel = K.adagrad_update

    def __init__(
        self,
        lr: float = 0.01,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        weight_decay: float = 0.0,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
    ) -> None:
        super().__init__(lr, clipnorm, clipvalue)
        self.initial_accumulator_value = self._non_negative(
            "initial_accumulator_value", initial_accumulator_value
        )
        self.eps = self._non_negative("eps", eps)
        self.weight_decay = self._non_negative("weight_decay", weight_decay)
        self.slots = ("sum",)

    def _initial_value(self, slot: str) -> float:
        return self.initial_accumulator_value

    def _scalar_values(self, key: str, scale: float, clip: float) -> tuple[Any, ...]:
        return (self.lr, self.eps, self.weight_decay, scale, clip)

    def get_config(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "initial_accumulator_value": self.initial_accumulator_value,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
        }


# --- registry ----------------------------------------------------------------------
_CLASSES: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, Adam, AdamW, RMSprop, Adagrad)
}

OPTIMIZERS: tuple[str, ...] = tuple(_CLASSES)
"""Canonical optimizer names, in display order."""


def get(name_or_obj: str | Optimizer, **kwargs: Any) -> Optimizer:
    """An optimizer from its name (plus constructor arguments) or the object itself.

    Parameters
    ----------
    name_or_obj
        One of ``OPTIMIZERS`` (case-insensitive), or an ``Optimizer``, returned
        unchanged.
    **kwargs
        Constructor arguments, e.g. ``get("adam", lr=1e-3, clipnorm=1.0)``.

    Raises
    ------
    ConfigError
        For an unknown name (the message lists the valid ones) or parameter.
    """
    if isinstance(name_or_obj, Optimizer):
        if kwargs:
            raise ConfigError(
                f"Optimizer '{name_or_obj.name}' is already built; parameters "
                f"{sorted(kwargs)} cannot be applied to it."
            )
        return name_or_obj
    key = canonical(name_or_obj, OPTIMIZERS, {}, "optimizer")
    return construct(_CLASSES[key], kwargs, f"Optimizer '{key}'")
