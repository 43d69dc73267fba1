"""The node-type registry: one ``NodeSpec`` per node type the editor offers.

The palette, the inspector, shape inference, the file format and compilation all read
this one table. A spec names its engine layer class (``nndesk.engine.layers``) and
lists its parameters, which are exactly that class's keyword arguments. The entries
live in the modules of ``nndesk.document.node_types``, one per family of layers,
and this module gathers every one of them: adding a node type is one entry there
plus one engine class, and a new family of layers is a new module in each of the
two packages (docs/engine.md, "Adding a layer type"). The lists of activations,
initializers and losses come from the engine, so they have one source of truth.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType, ModuleType
from typing import Any

from ..engine import losses
from .errors import UnknownNodeTypeError
from .node_types import node_type_modules
from .node_types.spec import (
    ALPHA_DEFAULTS,
    BASE_CATEGORIES,
    CategorySpec,
    NodeSpec,
    PortSpec,
)

__all__ = [
    "ALPHA_DEFAULTS",
    "CATEGORIES",
    "REGISTRY",
    "CategorySpec",
    "NodeSpec",
    "PortSpec",
    "build_loss",
    "get_spec",
    "specs_in",
]


def _categories(modules: list[ModuleType]) -> tuple[str, ...]:
    """The base categories with each module's ``CATEGORIES`` inserted after its
    anchor, and after the categories inserted there before it."""
    order = list(BASE_CATEGORIES)
    anchor_of: dict[str, str] = {}

    def descends_from(name: str, anchor: str) -> bool:
        while name in anchor_of:
            name = anchor_of[name]
            if name == anchor:
                return True
        return False

    pending = []
    for module in modules:
        for cat in getattr(module, "CATEGORIES", ()):
            if not isinstance(cat, CategorySpec):
                raise TypeError(f"{module.__name__}.CATEGORIES holds {cat!r}")
            pending.append((module, cat))
    # A category may follow one a later module adds ('Attention' after
    # 'Recurrent'): insert in passes until every anchor is there.
    while pending:
        ready = [(m, c) for m, c in pending if c.after in order or c.name in order]
        if not ready:
            module, cat = pending[0]
            raise ValueError(
                f"{module.__name__}: category '{cat.name}' comes after "
                f"'{cat.after}', which no node-type module defines."
            )
        pending = [p for p in pending if p not in ready]
        for _module, cat in ready:
            if cat.name in order:
                continue
            pos = order.index(cat.after) + 1
            while pos < len(order) and descends_from(order[pos], cat.after):
                pos += 1
            order.insert(pos, cat.name)
            anchor_of[cat.name] = cat.after
    return tuple(order)


def _build_registry(
    modules: list[ModuleType], categories: tuple[str, ...]
) -> dict[str, NodeSpec]:
    table: dict[str, NodeSpec] = {}
    for module in modules:
        for spec in getattr(module, "NODE_TYPES", ()):
            if spec.type_name in table:
                raise RuntimeError(f"node type '{spec.type_name}' registered twice")
            if spec.category not in categories:
                raise ValueError(
                    f"node type '{spec.type_name}' ({module.__name__}) has the "
                    f"unknown category '{spec.category}'."
                )
            table[spec.type_name] = spec
    order = {c: i for i, c in enumerate(categories)}
    return dict(sorted(table.items(), key=lambda kv: order[kv[1].category]))


_MODULES = node_type_modules()

CATEGORIES: tuple[str, ...] = _categories(_MODULES)
"""Palette categories in palette order: ``BASE_CATEGORIES`` and those that
node-type modules add."""

REGISTRY: Mapping[str, NodeSpec] = MappingProxyType(
    _build_registry(_MODULES, CATEGORIES)
)
"""Every node type by ``type_name``, grouped by category in ``CATEGORIES`` order."""


def get_spec(type_name: str) -> NodeSpec:
    """The spec of ``type_name``.

    Raises
    ------
    UnknownNodeTypeError
        Naming the unknown type.
    """
    try:
        return REGISTRY[type_name]
    except (KeyError, TypeError):
        raise UnknownNodeTypeError(
            f"Unknown node type {type_name!r}; see the palette for the available types."
        ) from None


def specs_in(category: str) -> tuple[NodeSpec, ...]:
    """The node types of one palette category, in registry order."""
    return tuple(s for s in REGISTRY.values() if s.category == category)


def build_loss(params: Mapping[str, Any]) -> losses.Loss:
    """The engine loss an Output node with these params trains with.

    Parameters
    ----------
    params : Mapping
        The Output node's params (``loss``, and ``delta`` used by huber only).

    Raises
    ------
    ParamError
        If a value is invalid.
    """
    checked = get_spec("Output").check_params(params)
    name = checked["loss"]
    kwargs = {"delta": checked["delta"]} if name == "huber" else {}
    return losses.get(name, **kwargs)
