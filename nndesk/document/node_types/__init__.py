"""The node types the editor offers, one module per family of layers.

Every module of this package that defines ``NODE_TYPES`` (a list of ``NodeSpec``)
contributes those entries to ``nndesk.document.registry``; one that defines
``CATEGORIES`` (a sequence of ``CategorySpec``) adds palette categories. The
registry imports every module here, so a new family of layers (convolution,
recurrent, attention) is one new module, e.g. ``conv.py``::

    from ..params import ParamSpec
    from .spec import CategorySpec, NodeSpec, activation_param, layer_spec

    CATEGORIES = (CategorySpec("Convolution", after="Core"),)
    NODE_TYPES: list[NodeSpec] = [
        layer_spec("Conv2D", "Convolution", "One sentence or three.", (...)),
    ]

plus its engine classes in a new module of ``nndesk.engine.layers`` and its tests:
no other file changes. docs/engine.md ("Adding a layer type") has the recipe.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def node_type_modules() -> list[ModuleType]:
    """Every module of this package that defines ``NODE_TYPES`` or
    ``CATEGORIES``, in the order of their names."""
    found = []
    for name in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        module = importlib.import_module(f"{__name__}.{name}")
        if hasattr(module, "NODE_TYPES") or hasattr(module, "CATEGORIES"):
            found.append(module)
    return found
