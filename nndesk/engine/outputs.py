"""Per-output losses and metrics for ``Model.compile``: resolved by output name, and
fused with the output's activation where the loss allows it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import losses as losses_mod
from . import metrics as metrics_mod
from .errors import ConfigError

if TYPE_CHECKING:
    from .model import Model

log = logging.getLogger(__name__)

MetricList = list[tuple[str, Callable[..., float]]]


def resolve_losses(loss: Any, output_names: Sequence[str]) -> list[Any]:
    """One loss object per output, from ``Model.compile``'s ``loss`` argument.

    Parameters
    ----------
    loss
        A name or loss object for every output, a list with one per output, or a
        dict keyed by output name.
    output_names
        The model's output layer names, in output order.

    Raises
    ------
    ConfigError
        When a list or dict does not match the outputs, or a name is unknown.
    """
    n = len(output_names)
    if isinstance(loss, Mapping):
        unknown = set(loss) - set(output_names)
        missing = [name for name in output_names if name not in loss]
        if unknown or missing:
            raise ConfigError(
                f"The losses must be keyed by the output names "
                f"{', '.join(output_names)}; got {', '.join(map(str, loss))}."
            )
        items = [loss[name] for name in output_names]
    elif isinstance(loss, (list, tuple)):
        if len(loss) != n:
            raise ConfigError(
                f"The model has {n} output(s) but compile received {len(loss)} losses."
            )
        items = list(loss)
    else:
        items = [loss] * n
    # A fresh object per output when a name is given: losses cache between
    # forward and backward.
    return [losses_mod.get(item) for item in items]


def resolve_metrics(
    metrics: Sequence[Any] | Mapping[str, Sequence[Any]], output_names: Sequence[str]
) -> list[MetricList]:
    """One list of (log name, function) per output, from ``compile``'s ``metrics``.

    Parameters
    ----------
    metrics
        Names or functions ``f(y_true, y_pred)`` for every output, or a dict
        output name -> list of them.
    output_names
        The model's output layer names, in output order.

    Raises
    ------
    ConfigError
        For a dict key that is not an output name, or an unknown metric.
    """
    if isinstance(metrics, Mapping):
        unknown = set(metrics) - set(output_names)
        if unknown:
            raise ConfigError(
                f"Metrics are keyed by output names ({', '.join(output_names)})"
                f"; '{sorted(unknown)[0]}' is not one."
            )
        per_output = [list(metrics.get(name, ())) for name in output_names]
    elif isinstance(metrics, str):
        per_output = [[metrics]] * len(output_names)
    else:
        per_output = [list(metrics)] * len(output_names)
    return [[_resolve_metric(m) for m in ms] for ms in per_output]


def _resolve_metric(metric: Any) -> tuple[str, Callable[..., float]]:
    fn = metrics_mod.get(metric)
    if isinstance(metric, str):
        for name in metrics_mod.METRICS:
            if metrics_mod.get(name) is fn:
                return name, fn
    return str(getattr(fn, "name", getattr(fn, "__name__", "metric"))), fn


def fuse_losses(model: Model) -> list[bool]:
    """Per output, whether its loss runs from the pre-activation (softmax or sigmoid
    folded into the loss); tells each output layer whether to keep it.

    An output can fuse when its loss names the layer's activation and no other
    layer reads the activated output.
    """
    graph = model.graph
    fused_per_output = []
    for k, (i, fn) in enumerate(
        zip(graph.output_positions, model.loss_functions, strict=True)
    ):
        layer = model.layers[i]
        fused = (
            fn.fuses_with is not None
            and getattr(layer, "activation_name", None) == fn.fuses_with
            and not graph.consumers[i]
        )
        layer.keep_preactivation = fused
        fused_per_output.append(fused)
        log.debug("Output %d (%s): fused loss %s", k, layer.name, fused)
    return fused_per_output
