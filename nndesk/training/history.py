"""The per-epoch training history of a network, continued across training runs.

``history["loss"][e]`` is the mean training loss of epoch ``e`` (counted over every
run the network has had); ``val_*`` entries are the validation values and ``lr`` the
learning rate the epoch ran at. A loaded project hands its history back to the
trainer, which appends to it, so epoch numbers, learning-rate schedules and the
shuffling order carry on where the last run ended.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..engine.errors import ConfigError

__all__ = ["PROGRESS_KEYS", "TrainingHistory"]

PROGRESS_KEYS: tuple[str, ...] = (
    "epoch",
    "epochs",
    "batch",
    "batches",
    "size",
    "samples_per_sec",
    "eta",
    "epoch_time",
    "progress",
)
"""Keys of the progress information in the logs; the history does not keep them."""


class TrainingHistory(Mapping[str, list[float]]):
    """Metric name -> list of per-epoch values (a read-only mapping plus ``append``).

    Parameters
    ----------
    history : Mapping[str, Sequence[float]], optional
        What earlier runs recorded (``Project.history``), copied.

    Notes
    -----
    Each list holds the epochs that logged that key: ``loss`` has one value per
    epoch, ``val_loss`` only exists when there was validation data.
    """

    def __init__(self, history: Mapping[str, Sequence[float]] | None = None) -> None:
        self._data: dict[str, list[float]] = {}
        for key, values in (history or {}).items():
            try:
                self._data[str(key)] = [float(v) for v in values]
            except (TypeError, ValueError):
                raise ConfigError(
                    f"History entry '{key}' must be a list of numbers."
                ) from None

    # --- Mapping -------------------------------------------------------------------
    def __getitem__(self, key: str) -> list[float]:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"<TrainingHistory {self.epochs} epochs: {', '.join(self._data)}>"

    # --- reading ----------------------------------------------------------------------
    @property
    def epochs(self) -> int:
        """Number of epochs recorded (the length of the ``loss`` list)."""
        if "loss" in self._data:
            return len(self._data["loss"])
        return max((len(v) for v in self._data.values()), default=0)

    def last(self, key: str) -> float | None:
        """The latest value of ``key``, or None if never logged."""
        values = self._data.get(key)
        return values[-1] if values else None

    def as_dict(self) -> dict[str, list[float]]:
        """A plain copy, e.g. for ``Project.history`` or JSON."""
        return {k: list(v) for k, v in self._data.items()}

    # --- writing ----------------------------------------------------------------------
    def append(self, logs: Mapping[str, Any]) -> None:
        """Record one epoch's logs (progress keys and non-numbers are skipped)."""
        for key, value in logs.items():
            if key in PROGRESS_KEYS or isinstance(value, bool):
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            self._data.setdefault(key, []).append(number)

    def best(self, key: str, mode: str = "min") -> tuple[int, float] | None:
        """``(epoch, value)`` of the best finite value of ``key``, or None."""
        values = [
            (i, v) for i, v in enumerate(self._data.get(key, ())) if math.isfinite(v)
        ]
        if not values:
            return None
        pick = min if mode == "min" else max
        return pick(values, key=lambda iv: iv[1])
