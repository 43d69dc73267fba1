"""Network-level settings: dataset, optimizer, schedule, batches, early stopping.

Every document holds every setting (missing ones get these defaults), validated by
the same ``ParamSpec`` machinery as node parameters, so the inspector can show a form
for "no node selected" from ``SETTINGS``. The loss is not a setting: it belongs to
the Output node (``Output.loss``), next to the prediction it scores, so there is one
place to change it.

Names of optimizers, schedules and metrics come from the engine, and so do the
optimizer options: every constructor argument of an engine optimizer (momentum,
betas, epsilon, weight decay, clipping...) is a setting of the same name, and
``optimizer_options`` says which of them the chosen optimizer reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import MappingProxyType
from typing import Any

from ..engine import losses, optimizers
from ..engine.metrics import METRICS
from ..engine.optimizers import OPTIMIZERS
from ..engine.schedules import SCHEDULES
from .errors import ParamError
from .params import ParamSpec

CONSTANT_LR = "constant"
"""The ``lr_schedule`` value that keeps the learning rate fixed."""

SCALINGS: tuple[str, ...] = ("none", "standard", "minmax")
"""Feature scaling choices: none, standard (zero mean, unit variance), minmax (0-1)."""


def _monitor_choices() -> tuple[str, ...]:
    names = ["val_loss", "loss"]
    for m in METRICS:
        names += [f"val_{m}", m]
    return tuple(dict.fromkeys(names))


SETTINGS: tuple[ParamSpec, ...] = (
    ParamSpec(
        "dataset",
        "str",
        "",
        help="A generator spec such as 'spiral:n=1000,noise=0.2', or the path of a "
        "CSV or NPZ file or an MNIST-style IDX folder (relative paths are relative to "
        "the project file). Empty: no dataset chosen yet.",
    ),
    ParamSpec(
        "dataset_target",
        "str",
        "",
        label="target column",
        help="CSV only: name or 0-based index of the target column; empty means the "
        "last column.",
    ),
    ParamSpec(
        "validation_split",
        "float",
        0.2,
        min=0.0,
        max=1.0,
        max_inclusive=False,
        help="Fraction of the samples held out to validate after each epoch.",
    ),
    ParamSpec(
        "test_split",
        "float",
        0.0,
        min=0.0,
        max=1.0,
        max_inclusive=False,
        help="Fraction of the samples held out as a test set that training never "
        "sees (chosen by the seed); scored only on request. 0: no test set.",
    ),
    ParamSpec(
        "scaling",
        "choice",
        "none",
        choices=SCALINGS,
        help="Feature scaling fitted on the training split: none, standard (zero "
        "mean, unit variance) or minmax (to 0..1).",
    ),
    ParamSpec(
        "optimizer",
        "choice",
        "adam",
        choices=OPTIMIZERS,
        help="The update rule: " + ", ".join(OPTIMIZERS) + ".",
    ),
    ParamSpec(
        "learning_rate",
        "float",
        0.001,
        min=0.0,
        min_inclusive=False,
        max=10.0,
        help="Step size of the optimizer (Adam: about 0.001; SGD: about 0.01-0.1).",
    ),
    ParamSpec(
        "momentum",
        "float",
        0.0,
        min=0.0,
        max=1.0,
        max_inclusive=False,
        help="SGD and RMSprop: the fraction of the previous update kept in the next "
        "(torch's momentum); 0 turns momentum off, 0.9 is usual.",
    ),
    ParamSpec(
        "nesterov",
        "bool",
        False,
        label="Nesterov",
        help="SGD: Nesterov momentum, which steps with the gradient plus momentum "
        "times the new velocity; needs a momentum above 0.",
    ),
    ParamSpec(
        "beta1",
        "float",
        0.9,
        min=0.0,
        max=1.0,
        max_inclusive=False,
        help="Adam and AdamW: decay rate of the running mean of the gradient.",
    ),
    ParamSpec(
        "beta2",
        "float",
        0.999,
        min=0.0,
        max=1.0,
        max_inclusive=False,
        help="Adam and AdamW: decay rate of the running mean of the squared gradient.",
    ),
    ParamSpec(
        "alpha",
        "float",
        0.99,
        min=0.0,
        max=1.0,
        max_inclusive=False,
        label="RMSprop alpha",
        help="RMSprop: decay rate of the running mean of the squared gradient.",
    ),
    ParamSpec(
        "centered",
        "bool",
        False,
        help="RMSprop: divide by the running variance of the gradient (mean of the "
        "squares minus the square of the mean) instead of the mean of the squares.",
    ),
    ParamSpec(
        "initial_accumulator_value",
        "float",
        0.0,
        min=0.0,
        label="initial accumulator",
        help="Adagrad: the starting value of the sum of squared gradients.",
    ),
    ParamSpec(
        "eps",
        "float",
        None,
        min=0.0,
        optional=True,
        label="epsilon",
        help="Adam, AdamW, RMSprop and Adagrad: added to the denominator so it is "
        "never 0. Empty: the optimizer's default (1e-8; Adagrad 1e-10).",
    ),
    ParamSpec(
        "weight_decay",
        "float",
        None,
        min=0.0,
        optional=True,
        label="weight decay",
        help="L2 penalty added to the gradient as weight_decay * weight (AdamW: "
        "decoupled, the weights shrink by lr * weight_decay each step). Empty: the "
        "optimizer's default (0; AdamW 0.01).",
    ),
    ParamSpec(
        "clipnorm",
        "float",
        None,
        min=0.0,
        min_inclusive=False,
        optional=True,
        label="clip norm",
        help="Every optimizer: when the L2 norm of all gradients together exceeds "
        "this, scale them down to it before the update. Empty: no clipping.",
    ),
    ParamSpec(
        "clipvalue",
        "float",
        None,
        min=0.0,
        min_inclusive=False,
        optional=True,
        label="clip value",
        help="Every optimizer: clamp each gradient element to [-clipvalue, "
        "clipvalue] (after the norm clipping). Empty: no clipping.",
    ),
    ParamSpec(
        "batch_size",
        "int",
        32,
        min=1,
        max=1_000_000,
        help="Samples per gradient step.",
    ),
    ParamSpec(
        "epochs",
        "int",
        20,
        min=1,
        max=1_000_000,
        help="Passes over the training data.",
    ),
    ParamSpec(
        "shuffle",
        "bool",
        True,
        help="Draw a new order of the training samples every epoch (from the "
        "seed and the epoch number).",
    ),
    ParamSpec(
        "seed",
        "int",
        0,
        min=0,
        max=2**32 - 1,
        help="Seed of weight initialisation, shuffling, dropout and the data split; "
        "the same seed trains the same network bit for bit.",
    ),
    ParamSpec(
        "metrics",
        "multichoice",
        (),
        choices=METRICS,
        help="Metrics computed each epoch besides the loss and the default "
        "metrics (accuracy for a cross-entropy loss).",
    ),
    ParamSpec(
        "lr_schedule",
        "choice",
        CONSTANT_LR,
        choices=(CONSTANT_LR, *SCHEDULES),
        label="learning-rate schedule",
        help="How the learning rate changes over the run: constant, or "
        + ", ".join(SCHEDULES)
        + " (see the step size, gamma, minimum and warm-up settings). All but "
        "warmup_cosine change it once per epoch; warmup_cosine changes it every "
        "step.",
    ),
    ParamSpec(
        "lr_step_size",
        "int",
        10,
        min=1,
        label="schedule step size",
        help="Step schedule: epochs between two decays.",
    ),
    ParamSpec(
        "lr_gamma",
        "float",
        0.5,
        min=0.0,
        max=1.0,
        min_inclusive=False,
        label="schedule gamma",
        help="Step and exponential schedules: factor the learning rate is multiplied "
        "by at each decay.",
    ),
    ParamSpec(
        "lr_min",
        "float",
        0.0,
        min=0.0,
        label="schedule minimum",
        help="Cosine schedules: the learning rate reached at the end of the run.",
    ),
    ParamSpec(
        "lr_warmup_steps",
        "int",
        100,
        min=0,
        max=1_000_000_000,
        label="warm-up steps",
        help="warmup_cosine schedule: optimizer steps (batches) over which the "
        "learning rate rises linearly to its full value; a cosine decay then "
        "takes it to the minimum over the rest of the run's steps (the epochs "
        "times the batches per epoch). A warm-up as long as the run never reaches "
        "the full rate.",
    ),
    ParamSpec(
        "lr_warmup_epochs",
        "int",
        None,
        min=0,
        max=1_000_000,
        optional=True,
        label="warm-up epochs",
        help="warmup_cosine schedule in files from before step warm-ups: the "
        "warm-up counts epochs and the learning rate changes once per epoch, as "
        "it did. Clear it to count the warm-up in steps instead.",
    ),
    ParamSpec(
        "early_stopping_patience",
        "int",
        0,
        min=0,
        max=1_000_000,
        label="early-stopping patience",
        help="Stop after this many epochs without improvement of the monitored "
        "metric; 0 turns early stopping off.",
    ),
    ParamSpec(
        "early_stopping_min_delta",
        "float",
        0.0,
        min=0.0,
        label="early-stopping min delta",
        help="The least change of the monitored metric that counts as an "
        "improvement (0: any change).",
    ),
    ParamSpec(
        "early_stopping_metric",
        "choice",
        "val_loss",
        choices=_monitor_choices(),
        label="early-stopping metric",
        help="The metric early stopping watches (val_ metrics need a validation "
        "split).",
    ),
)
"""The schema of every network setting, in form order."""

_BY_NAME: Mapping[str, ParamSpec] = MappingProxyType({s.name: s for s in SETTINGS})


def get_setting_spec(name: str) -> ParamSpec:
    """The spec of setting ``name``.

    Raises
    ------
    ParamError
        For an unknown name, listing the known ones.
    """
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        raise ParamError(
            f"There is no setting {name!r}; the settings are: {', '.join(_BY_NAME)}."
        ) from None


def default_settings() -> dict[str, Any]:
    """A fresh dict of every setting at its default."""
    return {s.name: s.default for s in SETTINGS}


@cache
def optimizer_options(name: str) -> tuple[str, ...]:
    """The settings optimizer ``name`` reads besides the learning rate.

    They are the engine optimizer's constructor arguments (its ``get_config()``
    keys), each a setting of the same name.

    Examples
    --------
    >>> optimizer_options("sgd")
    ('momentum', 'nesterov', 'weight_decay', 'clipnorm', 'clipvalue')
    """
    return tuple(k for k in optimizers.get(name).get_config() if k != "lr")


def optimizer_default(name: str, option: str) -> Any:
    """The engine's default for ``option`` of optimizer ``name`` (e.g. AdamW's
    weight decay, 0.01), which an empty optional setting stands for."""
    return optimizers.get(name).get_config()[option]


def optimizer_arguments(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of the settings' optimizer: ``lr`` and its options.

    Options left empty (None) are left out, so the engine's default applies; a file
    written before the options existed therefore trains as it did.
    """
    name = str(settings["optimizer"])
    arguments: dict[str, Any] = {"lr": float(settings["learning_rate"])}
    for option in optimizer_options(name):
        value = settings.get(option)
        if value is not None:
            arguments[option] = value
    return arguments


def is_classification_loss(loss: str) -> bool:
    """Whether ``loss`` scores classes: the cross-entropies, which pair with a
    sigmoid or softmax output."""
    return losses.get(loss).fuses_with is not None


def default_metrics(loss: str) -> tuple[str, ...]:
    """The metrics every network with this loss computes, chosen or not: accuracy
    for a cross-entropy loss, none for a regression loss."""
    return ("accuracy",) if is_classification_loss(loss) else ()


_SCHEDULE_OPTIONS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        CONSTANT_LR: (),
        "step": ("lr_step_size", "lr_gamma"),
        "exponential": ("lr_gamma",),
        "cosine": ("lr_min",),
        "warmup_cosine": ("lr_warmup_steps", "lr_warmup_epochs", "lr_min"),
    }
)
"""The settings each learning-rate schedule reads (besides the learning rate);
``warmup_cosine`` reads one of its two warm-ups (``warmup_unit``)."""


def warmup_unit(settings: Mapping[str, Any]) -> str:
    """What the ``warmup_cosine`` warm-up counts: ``"steps"`` (``lr_warmup_steps``,
    the rate changes every step), or ``"epochs"`` when ``lr_warmup_epochs`` holds a
    number (a file from before step warm-ups; the rate changes once per epoch)."""
    return "steps" if settings.get("lr_warmup_epochs") is None else "epochs"


def settings_of_old_files(stored: Mapping[str, Any]) -> dict[str, Any]:
    """Settings that make a file written before step warm-ups train as it did.

    Such a file has no ``lr_warmup_steps``. Its ``warmup_cosine`` schedule keeps
    its warm-up in epochs (``lr_warmup_epochs``, 1 when the file leaves it out,
    the default then); any other schedule gets an empty ``lr_warmup_epochs``, so
    choosing ``warmup_cosine`` later warms up in steps as in a new network.

    Parameters
    ----------
    stored : Mapping
        The settings as the file holds them (before defaults are filled in).

    Returns
    -------
    dict
        Settings to put over the stored ones; empty for newer files.
    """
    if "lr_warmup_steps" in stored:
        return {}
    if stored.get("lr_schedule") == "warmup_cosine":
        return {} if "lr_warmup_epochs" in stored else {"lr_warmup_epochs": 1}
    return {"lr_warmup_epochs": None}


def inactive_settings(settings: Mapping[str, Any]) -> frozenset[str]:
    """The settings that have no effect given the others, which forms hide.

    Options of the optimizers not chosen, options of the schedules not chosen, and
    the early-stopping metric and min delta while early stopping is off. Their values stay in the
    document (and the file), so choosing the optimizer again brings them back.

    Examples
    --------
    >>> sorted(inactive_settings({**default_settings(), "optimizer": "sgd"}))[:4]
    ['alpha', 'beta1', 'beta2', 'centered']
    """
    chosen = str(settings["optimizer"])
    every_option = {o for name in OPTIMIZERS for o in optimizer_options(name)}
    inactive = every_option - set(optimizer_options(chosen))
    schedule = str(settings["lr_schedule"])
    if schedule in _SCHEDULE_OPTIONS:
        every_schedule_option = {o for opts in _SCHEDULE_OPTIONS.values() for o in opts}
        inactive |= every_schedule_option - set(_SCHEDULE_OPTIONS[schedule])
        if schedule == "warmup_cosine":
            steps = warmup_unit(settings) == "steps"
            inactive.add("lr_warmup_epochs" if steps else "lr_warmup_steps")
    if int(settings["early_stopping_patience"]) == 0:
        inactive |= {"early_stopping_metric", "early_stopping_min_delta"}
    return frozenset(inactive)
