"""Callbacks for the trainer: the Keras-like hook base, a lambda adapter, progress text.

The hook interface is the engine's ``Callback``: ``on_train_begin(logs)``,
``on_epoch_begin(epoch, logs)``, ``on_batch_begin(batch, logs)``,
``on_batch_end(batch, logs)``, ``on_epoch_end(epoch, logs)``, ``on_train_end(logs)``,
with ``self.model`` set before training. The trainer adds progress information to
the logs it passes (see ``nndesk.training.trainer``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..engine.callbacks import Callback
from .history import PROGRESS_KEYS

__all__ = [
    "Callback",
    "LambdaCallback",
    "ProgressPrinter",
    "format_duration",
    "format_epoch_line",
]

Hook = Callable[..., None]


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=f)``.

    Each argument takes the arguments of the hook it replaces: ``on_epoch_end(epoch,
    logs)``, ``on_batch_end(batch, logs)``, ``on_train_end(logs)`` and so on.
    """

    def __init__(
        self,
        on_train_begin: Hook | None = None,
        on_train_end: Hook | None = None,
        on_epoch_begin: Hook | None = None,
        on_epoch_end: Hook | None = None,
        on_batch_begin: Hook | None = None,
        on_batch_end: Hook | None = None,
    ) -> None:
        super().__init__()
        hooks = {
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_batch_begin": on_batch_begin,
            "on_batch_end": on_batch_end,
        }
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)


def format_duration(seconds: float) -> str:
    """``75.2`` -> ``"1:15"``; ``3725`` -> ``"1:02:05"``."""
    total = max(0, int(round(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


_SKIP = (*PROGRESS_KEYS, "lr")


def format_epoch_line(epoch: int, logs: dict[str, Any]) -> str:
    """One line of epoch results for a terminal.

    ``epoch 3/10  loss 0.4123  accuracy 0.8812  val_loss 0.4500  val_accuracy 0.8700
    lr 0.001  1234 samples/s  ETA 0:12``; ``epoch`` is 0-based, shown 1-based.
    """
    total = logs.get("epochs")
    head = f"epoch {epoch + 1}/{int(total)}" if total else f"epoch {epoch + 1}"
    parts = [head]
    names = [k for k in logs if k not in _SKIP and not k.startswith("val_")]
    names += [k for k in logs if k.startswith("val_")]
    for key in names:
        parts.append(f"{key} {float(logs[key]):.4f}")
    if "lr" in logs:
        parts.append(f"lr {float(logs['lr']):.3g}")
    if "samples_per_sec" in logs:
        parts.append(f"{float(logs['samples_per_sec']):.0f} samples/s")
    if "eta" in logs:
        parts.append(f"ETA {format_duration(float(logs['eta']))}")
    return "  ".join(parts)


class ProgressPrinter(Callback):
    """Writes one line per epoch (``format_epoch_line``) through ``write``.

    Parameters
    ----------
    write : callable
        Receives each line without a newline, e.g. ``print`` or a logger method.
    """

    def __init__(self, write: Callable[[str], Any]) -> None:
        super().__init__()
        self._write = write

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._write(format_epoch_line(epoch, dict(logs or {})))
