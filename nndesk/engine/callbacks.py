"""Training callbacks: the hook interface ``Model.fit`` calls, History and EarlyStopping.

Hooks receive ``logs``, a dict of floats: per batch ``{"size", "loss", ...}``, per
epoch ``{"loss", <metrics>, "val_loss", "val_<metrics>", ("lr")}``. A callback
stops training by setting ``self.model.stop_training = True``; ``fit`` checks the
flag after every batch and every epoch.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ConfigError

if TYPE_CHECKING:
    from .model import Model

log = logging.getLogger(__name__)

__all__ = ["Callback", "EarlyStopping", "History"]


class Callback:
    """Base class with no-op hooks; override the ones you need."""

    def __init__(self) -> None:
        self.model: Model | None = None

    def set_model(self, model: Model) -> None:
        """Called by ``fit`` before training starts."""
        self.model = model

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Before the first epoch."""

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """After the last epoch (also when stopped early); logs of the last epoch."""

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Before the first batch of ``epoch`` (0-based)."""

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """After the epoch's last batch and its validation."""

    def on_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Before training step ``batch`` (0-based within the epoch)."""

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """After training step ``batch``; ``logs["loss"]`` is that batch's loss."""


class History(Callback):
    """Records the epoch logs: ``history["loss"][e]`` is epoch ``e``'s mean loss.

    Attributes
    ----------
    history
        Metric name -> list of per-epoch values, as Keras' ``History.history``.
    epoch
        The epoch numbers recorded, in order.
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))


class EarlyStopping(Callback):
    """Stops training when ``monitor`` has not improved for ``patience`` epochs.

    Parameters
    ----------
    monitor
        Epoch-log key to watch (``"val_loss"``, ``"val_accuracy"``, ...).
    mode
        ``"min"``, ``"max"``, or ``"auto"`` (max for accuracy-like names, else min).
    patience
        Epochs in a row without improvement after which training stops (Keras's
        meaning: patience 2, best at epoch 4, stop at the end of epoch 6).
    min_delta
        Smallest change that counts as an improvement.
    restore_best_weights
        Put back the weights of the best epoch when stopping or at the end.

    Notes
    -----
    ``get_state()`` and ``set_state()`` carry the callback from one ``fit`` to the
    next (a training run continued later): the best value and epoch, the epochs
    waited and the best weights survive the next ``on_train_begin``.
    """

    _MAX_NAMES = ("accuracy", "acc", "auc", "precision", "recall", "f1", "r2")

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "auto",
        patience: int = 0,
        min_delta: float = 0.0,
        restore_best_weights: bool = False,
    ) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ConfigError(
                f"EarlyStopping: mode must be 'auto', 'min' or 'max', got {mode!r}."
            )
        if mode == "auto":
            base = monitor.removeprefix("val_")
            mode = "max" if base in self._MAX_NAMES else "min"
        self.monitor = monitor
        self.mode = mode
        self.patience = int(patience)
        self.min_delta = abs(float(min_delta))
        self.restore_best_weights = bool(restore_best_weights)
        self.best: float = math.inf if mode == "min" else -math.inf
        self.best_epoch = -1
        self.stopped_epoch: int | None = None
        self._wait = 0
        self._best_weights: dict[str, np.ndarray] | None = None
        self._carried = False

    @property
    def wait(self) -> int:
        """Epochs in a row without improvement so far."""
        return self._wait

    @property
    def best_weights(self) -> dict[str, np.ndarray] | None:
        """The weights of the best epoch (what ``on_train_end`` puts back), if kept."""
        return self._best_weights

    def get_state(self) -> dict[str, Any]:
        """What the callback has seen, as plain values.

        Returns
        -------
        dict
            ``monitor``; ``best`` (a float, None before any finite improvement);
            ``best_epoch`` (-1 before it); ``wait`` (epochs without improvement);
            ``stopped_epoch`` (the epoch it stopped training at, or None).
        """
        found = self.best_epoch >= 0 and math.isfinite(self.best)
        return {
            "monitor": self.monitor,
            "best": float(self.best) if found else None,
            "best_epoch": int(self.best_epoch) if found else -1,
            "wait": int(self._wait),
            "stopped_epoch": self.stopped_epoch,
        }

    def set_state(
        self,
        state: dict[str, Any],
        best_weights: dict[str, np.ndarray] | None = None,
    ) -> None:
        """Carry on from ``get_state()`` of an earlier run (and its best weights).

        ``stopped_epoch`` is not carried: the run that carries on has not stopped.
        The next ``on_train_begin`` keeps this state instead of starting afresh, so
        a run continued later stops and restores exactly as one long run would.

        Raises
        ------
        ConfigError
            When ``state`` watched another metric.
        """
        if state.get("monitor") != self.monitor:
            raise ConfigError(
                f"EarlyStopping watches '{self.monitor}' but the state to carry on "
                f"from watched {state.get('monitor')!r}."
            )
        best = state.get("best")
        none = math.inf if self.mode == "min" else -math.inf
        self.best = none if best is None else float(best)
        self.best_epoch = int(state.get("best_epoch", -1)) if best is not None else -1
        self._wait = int(state.get("wait", 0))
        self.stopped_epoch = None  # the run carried on has not stopped (yet)
        self._best_weights = None if best_weights is None else dict(best_weights)
        self._carried = True

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if self._carried:
            self._carried = False
            return
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = -1
        self.stopped_epoch = None
        self._wait = 0
        self._best_weights = None

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        if self.monitor not in logs:
            raise ConfigError(
                f"EarlyStopping monitors '{self.monitor}', which the epoch logs lack "
                f"(they have {', '.join(sorted(logs)) or 'nothing'})."
            )
        value = float(logs[self.monitor])
        if math.isfinite(value) and self._improved(value):
            self.best, self.best_epoch, self._wait = value, epoch, 0
            if self.restore_best_weights and self.model is not None:
                self._best_weights = self.model.get_weights()
            return
        self._wait += 1
        if self._wait >= max(self.patience, 1) and self.model is not None:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            log.info(
                "Early stopping at epoch %d (best epoch %d).", epoch, self.best_epoch
            )

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._best_weights is not None and self.model is not None:
            self.model.set_weights(self._best_weights)
