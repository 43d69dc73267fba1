"""Engine layers and the ``LAYER_TYPES`` registry (stable ``type_name`` -> class)."""

from __future__ import annotations

from .base import Layer, Shape, SymbolicTensor
from .core import Activation, Dense, Dropout, Flatten, Input, Reshape
from .merge import Add, Concatenate
from .normalization import BatchNorm

LAYER_TYPES: dict[str, type[Layer]] = {
    cls.type_name: cls
    for cls in (
        Input,
        Dense,
        Activation,
        Dropout,
        BatchNorm,
        Flatten,
        Reshape,
        Add,
        Concatenate,
    )
}
"""Every layer class by its ``type_name``; files and the document registry use it."""

__all__ = [
    "LAYER_TYPES",
    "Activation",
    "Add",
    "BatchNorm",
    "Concatenate",
    "Dense",
    "Dropout",
    "Flatten",
    "Input",
    "Layer",
    "Reshape",
    "Shape",
    "SymbolicTensor",
]
