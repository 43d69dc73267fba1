"""The nndesk engine: a small standalone NumPy deep-learning library.

Importing it imports neither Numba nor anything else from nndesk. The names below
are the public API; see docs/engine.md.
"""

from __future__ import annotations

from .activations import ACTIVATIONS, get_activation
from .callbacks import Callback, EarlyStopping, History
from .errors import (
    ConfigError,
    DataError,
    GraphError,
    NNDeskError,
    NumericalError,
    ShapeError,
)
from .initializers import INITIALIZERS
from .layers import (
    LAYER_TYPES,
    Activation,
    Add,
    BatchNorm,
    Concatenate,
    Dense,
    Dropout,
    Flatten,
    Input,
    Layer,
    Reshape,
)
from .model import Model, Sequential

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "LAYER_TYPES",
    "Activation",
    "Add",
    "BatchNorm",
    "Callback",
    "Concatenate",
    "ConfigError",
    "DataError",
    "Dense",
    "Dropout",
    "EarlyStopping",
    "Flatten",
    "GraphError",
    "History",
    "Input",
    "Layer",
    "Model",
    "NNDeskError",
    "NumericalError",
    "Reshape",
    "Sequential",
    "ShapeError",
    "get_activation",
]
