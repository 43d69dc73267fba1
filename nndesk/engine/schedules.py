"""Learning-rate schedules: the learning rate of an epoch, or of a step, from the base rate.

A schedule is a pure function of where training is, applied by whoever runs the
training loop. Most change the rate once per epoch, before the epoch's first step::

    for epoch in range(epochs):
        optimizer.lr = schedule(epoch, base_lr)
        ...  # the epoch's batches

A schedule whose ``per_step`` is true (``warmup_cosine`` with ``warmup_steps``)
changes it before every step instead; every schedule answers ``rate(epoch, batch,
batches, base_lr)``, the rate of batch ``batch`` of ``epoch`` when an epoch has
``batches`` batches, so a loop can simply ask before each batch::

    for epoch in range(epochs):
        for batch in range(batches):
            optimizer.lr = schedule.rate(epoch, batch, batches, base_lr)
            ...  # the step

Epochs, batches and steps count from 0, and epoch 0 runs at ``base_lr`` (after a
warm-up for ``warmup_cosine``). The values are the closed forms of PyTorch's
StepLR, ExponentialLR and CosineAnnealingLR stepped once per epoch, and of a
``LambdaLR`` stepped once per epoch (``warmup_epochs``) or once per batch
(``warmup_steps``) for ``warmup_cosine``.

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
    per_step: bool = False
    """Whether the rate changes at every step (ask ``rate``) or once per epoch."""

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

    def rate(self, epoch: int, batch: int, batches: int, base_lr: float) -> float:
        """Learning rate of batch ``batch`` of ``epoch`` (both 0-based) when an
        epoch has ``batches`` batches: what a training loop sets before each step.

        A per-epoch schedule gives every batch of an epoch ``self(epoch,
        base_lr)``; a per-step one counts steps, ``epoch * batches + batch``.

        Raises
        ------
        ConfigError
            For a negative or non-integer epoch or batch, or ``batches < 1``.
        """
        if not _is_int(batches) or batches < 1:
            raise ConfigError(
                f"Schedule '{self.name}' needs a number of batches per epoch that "
                f"is an integer >= 1, got {batches!r}."
            )
        if not _is_int(batch) or not 0 <= batch < batches:
            raise ConfigError(
                f"Schedule '{self.name}' needs a batch that is an integer from 0 "
                f"to {batches - 1}, got {batch!r}."
            )
        if not self.per_step:
            return self(epoch, base_lr)
        if not _is_int(epoch) or epoch < 0:
            raise ConfigError(
                f"Schedule '{self.name}' needs an epoch that is an integer >= 0, "
                f"got {epoch!r}."
            )
        return self._step_rate(int(epoch), int(batch), int(batches), float(base_lr))

    def _rate(self, epoch: int, base_lr: float) -> float:
        raise NotImplementedError

    def _step_rate(self, epoch: int, batch: int, batches: int, base_lr: float) -> float:
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
    """A linear warm-up, then half a cosine to ``min_lr`` at the run's end.

    The warm-up counts optimizer steps (``warmup_steps``, the usual way for
    Transformers: minGPT, PyTorch's ``LambdaLR`` stepped per batch) or epochs
    (``warmup_epochs``, how nndesk counted it before step warm-ups; the rate then
    changes once per epoch). Give one of the two. The run is ``total_epochs``
    long; per step it has ``T = total_epochs * batches`` steps.

    Per step, step ``s = epoch * batches + batch`` with ``W = warmup_steps``:
    ``s < W`` runs at ``base_lr * (s + 1) / (W + 1)`` (never 0, so no step is
    wasted, and the last warm-up step is one even stride below ``base_lr``); from
    ``W`` on, the cosine of ``CosineDecay`` over the remaining ``T - W`` steps,
    ``min_lr + (base_lr - min_lr) * (1 + cos(pi * (s - W) / (T - W))) / 2``,
    starting at ``base_lr`` and held at ``min_lr`` from step ``T`` on. Per epoch
    it is the same with epochs for steps. With a warm-up of 0 it is
    ``CosineDecay`` (per step or per epoch).

    A warm-up as long as the run or longer is allowed: the rate rises through the
    whole run and never reaches ``base_lr`` (as ``LambdaLR`` with this function
    would do); ``warmup_outlasts`` tells a caller so it can say it.

    In torch: ``LambdaLR`` with this function of the step (stepped after every
    batch) or of the epoch (stepped after every epoch), divided by ``base_lr``.
    """

    name = "warmup_cosine"

    def __init__(
        self,
        warmup_epochs: int | None = None,
        total_epochs: int | None = None,
        min_lr: float = 0.0,
        warmup_steps: int | None = None,
    ) -> None:
        if (warmup_epochs is None) == (warmup_steps is None):
            raise ConfigError(
                "Schedule 'warmup_cosine' needs one of warmup_steps (a warm-up "
                "counted in steps) and warmup_epochs (counted in epochs), got "
                + ("neither." if warmup_steps is None else "both.")
            )
        unit = "warmup_steps" if warmup_epochs is None else "warmup_epochs"
        warmup = warmup_steps if warmup_epochs is None else warmup_epochs
        if not _is_int(warmup) or warmup < 0:
            raise ConfigError(
                f"Schedule 'warmup_cosine': {unit} must be an integer >= 0, "
                f"got {warmup!r}."
            )
        if total_epochs is None:
            raise ConfigError(
                "Schedule 'warmup_cosine' needs parameter 'total_epochs'."
            )
        self.total_epochs = _positive_int("warmup_cosine", "total_epochs", total_epochs)
        self.warmup = int(warmup)
        self.per_step = warmup_epochs is None
        self.min_lr = self._check("min_lr", min_lr, positive=False)

    @property
    def warmup_steps(self) -> int | None:
        """The warm-up in steps; None when it counts epochs."""
        return self.warmup if self.per_step else None

    @property
    def warmup_epochs(self) -> int | None:
        """The warm-up in epochs; None when it counts steps."""
        return None if self.per_step else self.warmup

    def __call__(self, epoch: int, base_lr: float) -> float:
        """The rate of ``epoch`` for a warm-up counted in epochs.

        Raises
        ------
        ConfigError
            For a warm-up counted in steps (the rate changes within an epoch: ask
            ``rate``), or a negative or non-integer epoch.
        """
        if self.per_step:
            raise ConfigError(
                "Schedule 'warmup_cosine' with warmup_steps changes the rate at "
                "every step: ask it with rate(epoch, batch, batches, base_lr)."
            )
        return super().__call__(epoch, base_lr)

    def _rate(self, epoch: int, base_lr: float) -> float:
        return self._closed_form(epoch, self.total_epochs, base_lr)

    def _step_rate(self, epoch: int, batch: int, batches: int, base_lr: float) -> float:
        return self._closed_form(
            epoch * batches + batch, self.total_epochs * batches, base_lr
        )

    def _closed_form(self, t: int, total: int, base_lr: float) -> float:
        w = self.warmup
        if t < w:
            return base_lr * (t + 1) / (w + 1)
        # A warm-up as long as the run leaves no cosine: past it, min_lr.
        x = min(t - w, total - w) / (total - w) if total > w else 1.0
        return self.min_lr + (base_lr - self.min_lr) * (1.0 + math.cos(math.pi * x)) / 2

    def warmup_outlasts(self, batches: int) -> bool:
        """Whether the warm-up is as long as the run or longer (``batches`` per
        epoch), so the rate never reaches the base rate."""
        total = self.total_epochs * batches if self.per_step else self.total_epochs
        return self.warmup >= total

    def get_config(self) -> dict[str, Any]:
        unit = "warmup_steps" if self.per_step else "warmup_epochs"
        return {
            unit: self.warmup,
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
