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
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..engine.callbacks import Callback
from ..engine.errors import ConfigError

log = logging.getLogger(__name__)

__all__ = ["EarlyStopping", "early_stopping_from_settings", "monitor_mode"]

_MAX_METRICS = ("accuracy", "precision", "recall", "f1", "auc", "r2")


def monitor_mode(monitor: str) -> str:
    """``"max"`` for metrics that grow when better (accuracy, r2...), else ``"min"``."""
    return "max" if monitor.removeprefix("val_") in _MAX_METRICS else "min"


class EarlyStopping(Callback):
    """Stop after ``patience`` epochs without improvement of ``monitor``.

    Parameters
    ----------
    monitor : str
        Epoch-log key, e.g. ``"val_loss"`` or ``"val_accuracy"``.
    patience : int
        Epochs without improvement tolerated; the next one stops training
        (patience 2: best at epoch 4, stop at the end of epoch 6).
    mode : {"auto", "min", "max"}
        Whether smaller or larger is better; ``"auto"`` asks ``monitor_mode``.
    min_delta : float
        Smallest change that counts as an improvement.
    restore_best_weights : bool
        At the end of training, put back the weights of the best epoch.

    Attributes
    ----------
    best : float
        Best value seen in this run.
    best_epoch : int
        Epoch (absolute index) of ``best``; -1 before the first epoch.
    stopped_epoch : int or None
        The epoch after which training was stopped, or None.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        mode: str = "auto",
        min_delta: float = 0.0,
        restore_best_weights: bool = True,
    ) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ConfigError(
                f"Early stopping mode must be 'auto', 'min' or 'max', got {mode!r}."
            )
        if isinstance(patience, bool) or int(patience) < 1:
            raise ConfigError(
                f"Early stopping patience must be an integer >= 1, got {patience!r}."
            )
        self.monitor = monitor
        self.patience = int(patience)
        self.mode = monitor_mode(monitor) if mode == "auto" else mode
        self.min_delta = abs(float(min_delta))
        self.restore_best_weights = bool(restore_best_weights)
        self._reset()

    def _reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = -1
        self.stopped_epoch: int | None = None
        self._wait = 0
        self._best_weights: dict[str, np.ndarray] | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._reset()

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        if self.monitor not in logs:
            raise ConfigError(
                f"Early stopping watches '{self.monitor}', which the epoch logs lack "
                f"(they have {', '.join(sorted(logs)) or 'nothing'})."
            )
        value = float(logs[self.monitor])
        if math.isfinite(value) and self._improved(value):
            self.best, self.best_epoch, self._wait = value, epoch, 0
            if self.restore_best_weights and self.model is not None:
                self._best_weights = self.model.get_weights()
            return
        self._wait += 1
        if self._wait >= self.patience and self.model is not None:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            log.info(
                "Early stopping after epoch %d: %s has not improved since epoch %d.",
                epoch + 1,
                self.monitor,
                self.best_epoch + 1,
            )

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._best_weights is not None and self.model is not None:
            self.model.set_weights(self._best_weights)


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
        ``early_stopping_patience`` (0: off) and ``early_stopping_metric``.
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
    return EarlyStopping(monitor=monitor, patience=patience)
