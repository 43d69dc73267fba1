"""Training without Qt: compile a document, prepare its data, train under control.

- ``compile_network(view)`` -> ``CompiledNetwork`` (an engine Model named by node id);
  ``transfer_weights`` keeps weights of unchanged nodes across edits.
- ``load_settings_dataset`` / ``prepare_data`` -> ``PreparedData`` (split, scaling,
  targets as the loss needs them).
- ``Trainer`` runs epochs and batches under a thread-safe ``TrainingControl``
  (pause, resume, step, stop, learning rate), with callbacks, schedules, early
  stopping and a resumable ``TrainingHistory``.
- ``TrainingSession`` is the one owner of a trained network (compiled model,
  weights, optimizer state, history, feature scaling) and ties it to ``.nndesk``
  projects: the command line, the Python API (``nndesk.load``) and the window's
  training worker all train through it; ``capture()`` copies its state into a
  ``TrainedState`` (the window takes one between two batches to save mid-run).
"""

from __future__ import annotations

from .callbacks import Callback, LambdaCallback, ProgressPrinter
from .compile import CompiledNetwork, compile_network, transfer_weights
from .control import TrainingControl
from .data import PreparedData, load_settings_dataset, prepare_data
from .early_stopping import EarlyStopping
from .errors import CompileError, DataMismatchError
from .history import TrainingHistory
from .session import TrainedState, TrainingSession
from .trainer import TrainConfig, Trainer

__all__ = [
    "Callback",
    "CompileError",
    "CompiledNetwork",
    "DataMismatchError",
    "EarlyStopping",
    "LambdaCallback",
    "PreparedData",
    "ProgressPrinter",
    "TrainConfig",
    "TrainedState",
    "Trainer",
    "TrainingControl",
    "TrainingHistory",
    "TrainingSession",
    "compile_network",
    "load_settings_dataset",
    "prepare_data",
    "transfer_weights",
]
