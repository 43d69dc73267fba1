"""Learning-rate schedules: the learning rate of an epoch from the base rate.

A schedule is a pure function of the epoch, applied once per epoch by whoever runs
the training loop, before the epoch's first step::

    for epoch in range(epochs):
        optimizer.lr = schedule(epoch, base_lr)
        ...  # the epoch's batches

Epochs count from 0, and epoch 0 runs at ``base_lr`` (after a warm-up's first
step for ``warmup_cosine``). The values are the closed forms of PyTorch's StepLR,
ExponentialLR and CosineAnnealingLR stepped once per epoch.

A schedule class registers itself under its ``name`` when it is defined in this
module (``Schedule.__init_subclass__``), as layers do; one defined elsewhere
registers with ``class MySchedule(Schedule, register=True)``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, ClassVar

from .errors import ConfigError
from .lookup import canonical, construct

__all__ = [
    "SCHEDULES",
    "CosineDecay",
    "ExponentialDecay",
    "Schedule",
    "StepDecay",
    "WarmupCosine",
    "get",
]


_CLASSES: dict[str, type[Schedule]] = {}


class Schedule:
    """Base class: ``schedule(epoch, base_lr) -> lr``."""

    name: ClassVar[str] = "schedule"

    def __init_subclass__(cls, register: bool | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if register is None:
            register = "name" in cls.__dict__ and cls.__module__ == __name__
        if register:
            held = _CLASSES.get(cls.name)
            if held is not None and held.__qualname__ != cls.__qualname__:
                raise RuntimeError(
                    f"Schedule '{cls.name}' is registered twice: by "
                    f"{held.__qualname__} and {cls.__qualname__}."
                )
            _CLASSES[cls.name] = cls

    def __call__(self, epoch: int, base_lr: float) -> float:
        """Learning rate for ``epoch`` (0-based) given the optimizer's base rate.

        Raises
        ------
        ConfigError
            For a negative or non-integer epoch.
        """
        if not _is_int(epoch) or epoch < 0:
            raise ConfigError(
                f"Schedule '{self.name}' needs an epoch that is an integer >= 0, "
                f"got {epoch!r}."
            )
        return self._rate(int(epoch), float(base_lr))

    def _rate(self, epoch: int, base_lr: float) -> float:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments; ``get(s.name, **s.get_config())`` rebuilds it."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def _check(self, what: str, value: Any, *, positive: bool = True) -> float:
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"Schedule '{self.name}': {what} must be a number, got {value!r}."
            ) from None
        if not math.isfinite(v) or (v <= 0 if positive else v < 0):
            bound = "> 0" if positive else ">= 0"
            raise ConfigError(
                f"Schedule '{self.name}': {what} must be a finite number {bound}, "
                f"got {value!r}."
            )
        return v


class StepDecay(Schedule):
    """``base_lr * gamma ** (epoch // step_size)`` (torch's StepLR)."""

    name = "step"

    def __init__(self, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = _positive_int("step", "step_size", step_size)
        self.gamma = self._check("gamma", gamma)

    def _rate(self, epoch: int, base_lr: float) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)

    def get_config(self) -> dict[str, Any]:
        return {"step_size": self.step_size, "gamma": self.gamma}


class ExponentialDecay(Schedule):
    """``base_lr * gamma ** epoch`` (torch's ExponentialLR)."""

    name = "exponential"

    def __init__(self, gamma: float) -> None:
        self.gamma = self._check("gamma", gamma)

    def _rate(self, epoch: int, base_lr: float) -> float:
        return base_lr * self.gamma**epoch

    def get_config(self) -> dict[str, Any]:
        return {"gamma": self.gamma}


class CosineDecay(Schedule):
    """Half a cosine from ``base_lr`` at epoch 0 to ``min_lr`` at ``total_epochs``.

    ``min_lr + (base_lr - min_lr) * (1 + cos(pi * epoch / total_epochs)) / 2``, the
    closed form of torch's CosineAnnealingLR with ``T_max=total_epochs``. Past
    ``total_epochs`` the rate stays at ``min_lr`` (torch's closed form would climb
    back up along the cosine).
    """

    name = "cosine"

    def __init__(self, total_epochs: int, min_lr: float = 0.0) -> None:
        self.total_epochs = _positive_int("cosine", "total_epochs", total_epochs)
        self.min_lr = self._check("min_lr", min_lr, positive=False)

    def _rate(self, epoch: int, base_lr: float) -> float:
        t = min(epoch, self.total_epochs) / self.total_epochs
        return self.min_lr + (base_lr - self.min_lr) * (1.0 + math.cos(math.pi * t)) / 2

    def get_config(self) -> dict[str, Any]:
        return {"total_epochs": self.total_epochs, "min_lr": self.min_lr}


class WarmupCosine(Schedule):
    """A linear warm-up over ``warmup_epochs``, then half a cosine to ``min_lr``.

    Epoch ``e < warmup_epochs`` runs at ``base_lr * (e + 1) / (warmup_epochs +
    1)`` (never 0, so no epoch is wasted); from ``warmup_epochs`` on, the cosine of
    ``CosineDecay`` over the remaining ``total_epochs - warmup_epochs`` epochs,
    starting at ``base_lr`` and held at ``min_lr`` after ``total_epochs``. With
    ``warmup_epochs=0`` it is ``CosineDecay``. In torch: ``LambdaLR`` with this
    function of the epoch, divided by ``base_lr``.
    """

    name = "warmup_cosine"

    def __init__(
        self, warmup_epochs: int, total_epochs: int, min_lr: float = 0.0
    ) -> None:
        if not _is_int(warmup_epochs) or warmup_epochs < 0:
            raise ConfigError(
                "Schedule 'warmup_cosine': warmup_epochs must be an integer >= 0, "
                f"got {warmup_epochs!r}."
            )
        self.warmup_epochs = int(warmup_epochs)
        self.total_epochs = _positive_int("warmup_cosine", "total_epochs", total_epochs)
        if self.total_epochs <= self.warmup_epochs:
            raise ConfigError(
                f"Schedule 'warmup_cosine': total_epochs ({total_epochs}) must exceed "
                f"warmup_epochs ({warmup_epochs}), so the cosine has epochs to run."
            )
        self.min_lr = self._check("min_lr", min_lr, positive=False)

    def _rate(self, epoch: int, base_lr: float) -> float:
        w = self.warmup_epochs
        if epoch < w:
            return base_lr * (epoch + 1) / (w + 1)
        t = min(epoch - w, self.total_epochs - w) / (self.total_epochs - w)
        return self.min_lr + (base_lr - self.min_lr) * (1.0 + math.cos(math.pi * t)) / 2

    def get_config(self) -> dict[str, Any]:
        return {
            "warmup_epochs": self.warmup_epochs,
            "total_epochs": self.total_epochs,
            "min_lr": self.min_lr,
        }


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _positive_int(schedule: str, what: str, value: Any) -> int:
    if not _is_int(value) or value < 1:
        raise ConfigError(
            f"Schedule '{schedule}': {what} must be an integer >= 1, got {value!r}."
        )
    return int(value)


SCHEDULES: tuple[str, ...] = tuple(_CLASSES)
"""Canonical schedule names: "step", "exponential", "cosine", "warmup_cosine"
(every class of this module, in definition order)."""

_ALIASES = {
    "step_decay": "step",
    "steplr": "step",
    "exponential_decay": "exponential",
    "exponentiallr": "exponential",
    "cosine_decay": "cosine",
    "cosineannealinglr": "cosine",
    "warmup": "warmup_cosine",
}


def get(name_or_obj: str | Schedule, **kwargs: Any) -> Schedule:
    """A schedule from its name plus constructor arguments, or the object itself.

    Examples
    --------
    >>> get("step", step_size=10, gamma=0.5)(25, 0.1)
    0.025

    Raises
    ------
    ConfigError
        For an unknown name (the message lists the valid ones), a missing or
        unknown parameter, or an invalid value.
    """
    if isinstance(name_or_obj, Schedule):
        if kwargs:
            raise ConfigError(
                f"Schedule '{name_or_obj.name}' is already built; parameters "
                f"{sorted(kwargs)} cannot be applied to it."
            )
        return name_or_obj
    key = canonical(name_or_obj, tuple(_CLASSES), _ALIASES, "schedule")
    return construct(_CLASSES[key], kwargs, f"Schedule '{key}'")
