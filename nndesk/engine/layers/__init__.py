"""Engine layers and the ``LAYER_TYPES`` registry (stable ``type_name`` -> class).

Every module of this package is imported here, and each layer class in one
registers itself under its ``type_name`` (``Layer.__init_subclass__``). A new
module, e.g. ``conv.py``, therefore needs no edit anywhere else: its classes are
in ``LAYER_TYPES`` and importable from ``nndesk.engine.layers`` by class name.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import LAYER_TYPES, Layer, Shape, SymbolicTensor
from .core import Activation, Dense, Dropout, Flatten, Input, Reshape
from .merge import Add, Concatenate
from .normalization import BatchNorm

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")

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

# The classes of modules added later are names of this package too.
for _cls in LAYER_TYPES.values():
    if _cls.__name__ not in globals():
        globals()[_cls.__name__] = _cls
        __all__.append(_cls.__name__)  # noqa: PYI056
