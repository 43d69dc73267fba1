"""What a registry entry is: ``NodeSpec`` and ``PortSpec``, plus the building
blocks the node-type modules of this package share (``layer_spec``, the common
parameters).

A node-type module (any module of ``nndesk.document.node_types`` defining
``NODE_TYPES``) imports from here, never from ``nndesk.document.registry``, so it
can be imported on its own and the registry can import every such module.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ...engine.activations import ACTIVATIONS, get_activation
from ...engine.initializers import INITIALIZERS
from ...engine.layers import LAYER_TYPES, Layer
from ..params import ParamSpec, check_params

BASE_CATEGORIES: tuple[str, ...] = (
    "Input",
    "Core",
    "Activations",
    "Regularization",
    "Reshape",
    "Merge",
    "Output",
)
"""The palette categories every installation has, in palette order; a node-type
module adds its own with ``CategorySpec``."""


@dataclass(frozen=True)
class CategorySpec:
    """A palette category a node-type module adds.

    Parameters
    ----------
    name : str
        Shown as the palette group's title.
    after : str
        The category it follows in the palette (a base category or one added by
        another module). Categories added after the same one keep the order of
        their modules' names, each after the ones added before it.
    """

    name: str
    after: str


@dataclass(frozen=True)
class PortSpec:
    """One port of a node type.

    Parameters
    ----------
    name : str
        Port name used in edges (``"in"``, ``"out"``).
    label : str
        Text shown next to the port; empty for the usual single port.
    multiple : bool
        For input ports: accepts several edges (merge layers). The inputs then reach
        the layer in the order of their edges in the document; a new edge is appended
        last. Output ports always fan out to any number of edges.
    """

    name: str
    label: str = ""
    multiple: bool = False


@dataclass(frozen=True)
class NodeSpec:
    """Everything the application knows about one node type.

    Attributes
    ----------
    type_name : str
        Stable identifier saved in files (``"Dense"``); never rename one.
    title : str
        Display name in the palette and on nodes.
    category : str
        A palette category (``registry.CATEGORIES``); the palette groups by it.
    description : str
        Help text (one to three sentences).
    inputs, outputs : tuple of PortSpec
        Ports in display order.
    params : tuple of ParamSpec
        Editable parameters, in inspector order.
    layer_type : str or None
        Key of the engine class in ``LAYER_TYPES``; None for nodes that build no
        layer (Output).
    fixed : Mapping
        Extra engine keyword arguments that are not editable (the activation of a
        "ReLU" node).
    key_params : tuple of str
        Parameters worth showing on the canvas node.
    key_text : callable or None
        Words the key parameters itself (all params, defaults filled in ->
        text), where their values alone would be ambiguous: ``"32 × 3x3 · relu"``
        for a convolution rather than ``"32 · 3 · relu"``.
    id_prefix : str
        Stem of new node ids (``"dense"`` gives ``dense_1``, ``dense_2``...).
    min_inputs, max_inputs : int, int or None
        How many incoming edges the node needs in total (None: no upper bound).
    """

    type_name: str
    title: str
    category: str
    description: str
    inputs: tuple[PortSpec, ...]
    outputs: tuple[PortSpec, ...]
    params: tuple[ParamSpec, ...] = ()
    layer_type: str | None = None
    fixed: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    key_params: tuple[str, ...] = ()
    key_text: Callable[[Mapping[str, Any]], str] | None = None
    id_prefix: str = ""
    min_inputs: int = 1
    max_inputs: int | None = 1

    def __post_init__(self) -> None:
        if not self.id_prefix:
            object.__setattr__(self, "id_prefix", _snake(self.type_name))
        object.__setattr__(self, "fixed", MappingProxyType(dict(self.fixed)))
        if self.layer_type is not None and self.layer_type not in LAYER_TYPES:
            raise ValueError(
                f"node type '{self.type_name}' names the engine layer "
                f"'{self.layer_type}', which no module of nndesk.engine.layers "
                "defines."
            )

    def __hash__(self) -> int:
        # type_name is unique in the registry; `fixed` (a mapping) is not hashable
        return hash(self.type_name)

    @property
    def layer_class(self) -> type[Layer] | None:
        """The engine class this node builds (None for Output); the per-type facts
        of the engine (``pass_through``, ``activation_name``) live on it."""
        return None if self.layer_type is None else LAYER_TYPES[self.layer_type]

    def param(self, name: str) -> ParamSpec:
        """The spec of parameter ``name``.

        Raises
        ------
        KeyError
            If this type has no such parameter (a programming error; user input is
            checked by ``check_params``, which raises ParamError).
        """
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"{self.type_name} has no parameter '{name}'")

    def has_param(self, name: str) -> bool:
        """Whether this type has a parameter called ``name``."""
        return any(p.name == name for p in self.params)

    def defaults(self) -> dict[str, Any]:
        """A fresh params dict holding every default."""
        return {p.name: p.default for p in self.params}

    def check_params(
        self, params: Mapping[str, Any], owner: str = ""
    ) -> dict[str, Any]:
        """Validate ``params`` (missing names get defaults); see ``params.check_params``."""
        return check_params(self.params, dict(params), owner or self.title)

    def input_port(self, name: str) -> PortSpec | None:
        """The input port called ``name``, or None."""
        return next((p for p in self.inputs if p.name == name), None)

    def output_port(self, name: str) -> PortSpec | None:
        """The output port called ``name``, or None."""
        return next((p for p in self.outputs if p.name == name), None)

    def build_layer(self, params: Mapping[str, Any], name: str) -> Layer | None:
        """The engine layer for a node with these params (None for Output).

        Parameters
        ----------
        params : Mapping
            The node's parameters; validated here, missing ones get defaults.
        name : str
            The layer name; the document passes the node id, so weight keys read
            ``"<node_id>/kernel"``.

        Raises
        ------
        ParamError
            If a parameter value is invalid.
        nndesk.engine.errors.ConfigError
            If the engine refuses the configuration.
        """
        cls = self.layer_class
        if cls is None:
            return None
        kwargs = dict(self.fixed)
        kwargs.update(self.check_params(params, f"{self.title} '{name}'"))
        return cls(name=name, **kwargs)

    def key_param_text(self, params: Mapping[str, Any]) -> str:
        """The key parameters as short canvas text, e.g. ``"256 · relu"``."""
        if self.key_text is not None:
            return self.key_text({**self.defaults(), **params})
        parts = []
        for key in self.key_params:
            value = params.get(key, self.param(key).default)
            text = self.param(key).format(value)
            if text:
                parts.append(text)
        return " · ".join(parts)


# --- building blocks of node-type modules ------------------------------------------------

IN = PortSpec("in")
"""The usual single input port."""
MERGE_IN = PortSpec("in", label="inputs", multiple=True)
"""The input port of layers taking any number of inputs (merges)."""
OUT = PortSpec("out")
"""The usual output port."""


def _snake(type_name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", type_name).lower()


def layer_spec(
    type_name: str,
    category: str,
    description: str,
    params: tuple[ParamSpec, ...] = (),
    *,
    layer_type: str | None = None,
    title: str | None = None,
    fixed: Mapping[str, Any] | None = None,
    key_params: tuple[str, ...] = (),
    key_text: Callable[[Mapping[str, Any]], str] | None = None,
    id_prefix: str = "",
) -> NodeSpec:
    """The entry of a node that builds the engine layer ``layer_type`` (default:
    ``type_name``); its ports and input counts come from that class."""
    layer_type = layer_type or type_name
    cls = LAYER_TYPES[layer_type]
    lo, hi = cls.min_inputs, cls.max_inputs
    if hi == 0:
        inputs: tuple[PortSpec, ...] = ()
    else:
        inputs = (IN,) if hi == 1 else (MERGE_IN,)
    return NodeSpec(
        type_name=type_name,
        title=title or type_name,
        category=category,
        description=description,
        inputs=inputs,
        outputs=(OUT,),
        params=params,
        layer_type=layer_type,
        fixed=fixed or {},
        key_params=key_params,
        key_text=key_text,
        id_prefix=id_prefix,
        min_inputs=lo,
        max_inputs=hi,
    )


ALPHA_DEFAULTS: Mapping[str, float] = MappingProxyType(
    {
        name: alpha
        for name in ACTIVATIONS
        if (alpha := get_activation(name).default_alpha) is not None
    }
)
"""Activations that take the alpha parameter, with the engine's default values."""

_ALPHA_HELP = (
    "Shape parameter of "
    + ", ".join(ALPHA_DEFAULTS)
    + " (the slope for x < 0 of leaky_relu, the saturation value of elu); empty uses "
    + "the default ("
    + ", ".join(f"{a:g} for {n}" for n, a in ALPHA_DEFAULTS.items())
    + "). Other activations ignore it."
)


def alpha_param(optional: bool, default: float | None = None) -> ParamSpec:
    """The ``alpha`` parameter of leaky_relu and elu (optional beside a choice of
    activation; required on a LeakyReLU or ELU node)."""
    return ParamSpec(
        "alpha",
        "float",
        default,
        help=_ALPHA_HELP,
        min=0.0,
        optional=optional,
    )


def activation_param(default: str) -> ParamSpec:
    """The ``activation`` parameter: a choice of every engine activation."""
    return ParamSpec(
        "activation",
        "choice",
        default,
        choices=ACTIVATIONS,
        help="Non-linearity applied to the output: " + ", ".join(ACTIVATIONS) + ".",
    )


def initializer_param(name: str, default: str, what: str) -> ParamSpec:
    """An initializer choice, e.g. ``initializer_param("kernel_initializer",
    "glorot_uniform", "weight matrix")``."""
    return ParamSpec(
        name,
        "choice",
        default,
        choices=INITIALIZERS,
        help=f"How the {what} is filled before training: "
        + ", ".join(INITIALIZERS)
        + ".",
    )


def penalty_param(name: str) -> ParamSpec:
    """The ``l1`` or ``l2`` weight-penalty factor of a layer with a kernel."""
    if name == "l1":
        text = "L1 penalty factor on the weights (l1·Σ|W| is added to the loss)."
    elif name == "l2":
        text = "L2 penalty factor on the weights (l2·ΣW² is added to the loss)."
    else:
        raise ValueError(f"no weight penalty called '{name}'")
    return ParamSpec(name, "float", 0.0, min=0.0, label=name.upper(), help=text)
