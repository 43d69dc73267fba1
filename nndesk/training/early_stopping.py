"""Early stopping: end training when a metric stops improving, keeping the best weights.

``EarlyStopping`` watches one epoch-log key (``val_loss`` by default). After
``patience`` epochs in a row without improvement it asks the model to stop, and at the
end of training (stopped or not) it puts back the weights of the best epoch, as the
Keras callback does with ``restore_best_weights=True``.
``early_stopping_from_settings`` builds it from the network settings and refuses a
metric the logs will not have, before any epoch runs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from ..engine.callbacks import EarlyStopping
from ..engine.errors import ConfigError

log = logging.getLogger(__name__)

__all__ = ["EarlyStopping", "early_stopping_from_settings"]


def early_stopping_from_settings(
    settings: Mapping[str, Any],
    *,
    has_validation: bool,
    metrics: Sequence[str],
) -> EarlyStopping | None:
    """The early-stopping callback the settings ask for, or None when patience is 0.

    Parameters
    ----------
    settings : Mapping
        ``early_stopping_patience`` (0: off), ``early_stopping_metric`` and
        ``early_stopping_min_delta`` (0 when absent).
    has_validation : bool
        Whether validation data exists (``val_*`` metrics need it).
    metrics : sequence of str
        The metrics the model computes.

    Raises
    ------
    ConfigError
        When the monitored metric will not be logged (no validation data, or a
        metric that is not computed).
    """
    patience = int(settings.get("early_stopping_patience", 0))
    if patience <= 0:
        return None
    monitor = str(settings.get("early_stopping_metric", "val_loss"))
    base = monitor.removeprefix("val_")
    if monitor.startswith("val_") and not has_validation:
        raise ConfigError(
            f"Early stopping watches {monitor} but there is no validation data: set a "
            "validation split or watch a training metric."
        )
    if base != "loss" and base not in metrics:
        raise ConfigError(
            f"Early stopping watches {monitor} but {base} is not computed: add it to "
            "the metrics or watch the loss."
        )
    return EarlyStopping(
        monitor=monitor,
        patience=patience,
        min_delta=float(settings.get("early_stopping_min_delta", 0.0)),
        restore_best_weights=True,
    )
