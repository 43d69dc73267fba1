"""The node-type registry: one ``NodeSpec`` per node type the editor offers.

The palette, the inspector, shape inference, the file format and compilation all read
this one table. A spec names its engine layer class (``nndesk.engine.layers``) and
lists its parameters, which are exactly that class's keyword arguments, so adding a
node type is one entry here plus one engine class. The lists of activations,
initializers and losses come from the engine, so they have one source of truth.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..engine import losses
from ..engine.activations import ACTIVATIONS, get_activation
from ..engine.initializers import INITIALIZERS
from ..engine.layers import LAYER_TYPES, Layer
from ..engine.losses import LOSSES
from .errors import UnknownNodeTypeError
from .params import ParamSpec, check_params

CATEGORIES: tuple[str, ...] = (
    "Input",
    "Core",
    "Activations",
    "Regularization",
    "Reshape",
    "Merge",
    "Output",
)


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
        One of ``CATEGORIES``; the palette groups by it.
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
    id_prefix: str = ""
    min_inputs: int = 1
    max_inputs: int | None = 1

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"node type '{self.type_name}' has unknown category")
        if not self.id_prefix:
            object.__setattr__(self, "id_prefix", _snake(self.type_name))
        object.__setattr__(self, "fixed", MappingProxyType(dict(self.fixed)))

    def __hash__(self) -> int:
        # type_name is unique in the registry; `fixed` (a mapping) is not hashable
        return hash(self.type_name)

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
        if self.layer_type is None:
            return None
        kwargs = dict(self.fixed)
        kwargs.update(self.check_params(params, f"{self.title} '{name}'"))
        return LAYER_TYPES[self.layer_type](name=name, **kwargs)

    def key_param_text(self, params: Mapping[str, Any]) -> str:
        """The key parameters as short canvas text, e.g. ``"256 · relu"``."""
        parts = []
        for key in self.key_params:
            value = params.get(key, self.param(key).default)
            text = self.param(key).format(value)
            if text:
                parts.append(text)
        return " · ".join(parts)


# --- building the table ---------------------------------------------------------------

_IN = PortSpec("in")
_MERGE_IN = PortSpec("in", label="inputs", multiple=True)
_OUT = PortSpec("out")

_ACTIVATION_TITLES = {
    "relu": "ReLU",
    "leaky_relu": "LeakyReLU",
    "elu": "ELU",
    "gelu": "GELU",
    "silu": "SiLU",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "softplus": "Softplus",
    "softmax": "Softmax",
    "linear": "Linear",
}

_ACTIVATION_HELP = {
    "linear": "Passes values through unchanged (no activation).",
    "relu": "max(0, x): the usual hidden-layer activation.",
    "leaky_relu": "x for x > 0, alpha·x otherwise; keeps a small gradient for x < 0.",
    "elu": "x for x > 0, alpha·(exp(x) − 1) otherwise; smooth and zero-centred.",
    "gelu": "x·Φ(x) (exact erf form), as in transformers.",
    "silu": "x·sigmoid(x), also called swish.",
    "sigmoid": "1 / (1 + exp(−x)): squashes to (0, 1); the output of binary "
    "classifiers.",
    "tanh": "Hyperbolic tangent: squashes to (−1, 1), zero-centred.",
    "softplus": "log(1 + exp(x)): a smooth ReLU.",
    "softmax": "Exponentiates and normalises over the last axis into class "
    "probabilities; the output of multi-class classifiers.",
}

# Activations that take the alpha parameter, with the engine's default values.
ALPHA_DEFAULTS: Mapping[str, float] = MappingProxyType(
    {
        name: alpha
        for name in ACTIVATIONS
        if (alpha := get_activation(name).default_alpha) is not None
    }
)

_ALPHA_HELP = (
    "Shape parameter of "
    + ", ".join(ALPHA_DEFAULTS)
    + " (the slope for x < 0 of leaky_relu, the saturation value of elu); empty uses "
    + "the default ("
    + ", ".join(f"{a:g} for {n}" for n, a in ALPHA_DEFAULTS.items())
    + "). Other activations ignore it."
)


def _snake(type_name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", type_name).lower()


def _title(activation: str) -> str:
    return _ACTIVATION_TITLES.get(
        activation, "".join(w.capitalize() for w in activation.split("_"))
    )


def _alpha(optional: bool, default: float | None = None) -> ParamSpec:
    return ParamSpec(
        "alpha",
        "float",
        default,
        help=_ALPHA_HELP,
        min=0.0,
        optional=optional,
    )


def _activation_param(default: str) -> ParamSpec:
    return ParamSpec(
        "activation",
        "choice",
        default,
        choices=ACTIVATIONS,
        help="Non-linearity applied to the output: " + ", ".join(ACTIVATIONS) + ".",
    )


def _layer(
    type_name: str,
    category: str,
    description: str,
    params: tuple[ParamSpec, ...] = (),
    *,
    layer_type: str | None = None,
    title: str | None = None,
    fixed: Mapping[str, Any] | None = None,
    key_params: tuple[str, ...] = (),
    id_prefix: str = "",
) -> NodeSpec:
    """A spec whose ports and input counts come from its engine layer class."""
    layer_type = layer_type or type_name
    cls = LAYER_TYPES[layer_type]
    lo, hi = cls.min_inputs, cls.max_inputs
    if hi == 0:
        inputs: tuple[PortSpec, ...] = ()
    else:
        inputs = (_IN,) if hi == 1 else (_MERGE_IN,)
    return NodeSpec(
        type_name=type_name,
        title=title or type_name,
        category=category,
        description=description,
        inputs=inputs,
        outputs=(_OUT,),
        params=params,
        layer_type=layer_type,
        fixed=fixed or {},
        key_params=key_params,
        id_prefix=id_prefix,
        min_inputs=lo,
        max_inputs=hi,
    )


def _core_specs() -> list[NodeSpec]:
    init_help = "How the {} is filled before training: " + ", ".join(INITIALIZERS) + "."
    return [
        _layer(
            "Input",
            "Input",
            "Where the data enters the network. Its shape is the shape of one sample "
            "(no batch dimension); the application sets it from the dataset.",
            (
                ParamSpec(
                    "shape",
                    "shape",
                    (2,),
                    help="Shape of one sample, e.g. (2,) for 2-D points or (28, 28) "
                    "for images.",
                ),
            ),
            key_params=("shape",),
        ),
        _layer(
            "Dense",
            "Core",
            "Fully connected layer: every output unit is a weighted sum of all inputs "
            "plus a bias, followed by the activation. Needs 1-D features (insert "
            "Flatten after images).",
            (
                ParamSpec(
                    "units",
                    "int",
                    16,
                    min=1,
                    max=1_000_000,
                    help="Number of output units.",
                ),
                _activation_param("relu"),
                ParamSpec(
                    "use_bias", "bool", True, help="Add a learned bias per unit."
                ),
                ParamSpec(
                    "kernel_initializer",
                    "choice",
                    "glorot_uniform",
                    choices=INITIALIZERS,
                    help=init_help.format("weight matrix"),
                ),
                ParamSpec(
                    "bias_initializer",
                    "choice",
                    "zeros",
                    choices=INITIALIZERS,
                    help=init_help.format("bias"),
                ),
                ParamSpec(
                    "l1",
                    "float",
                    0.0,
                    min=0.0,
                    label="L1",
                    help="L1 penalty factor on the weights (l1·Σ|W| is added to the "
                    "loss).",
                ),
                ParamSpec(
                    "l2",
                    "float",
                    0.0,
                    min=0.0,
                    label="L2",
                    help="L2 penalty factor on the weights (l2·ΣW² is added to the "
                    "loss).",
                ),
                _alpha(optional=True),
            ),
            key_params=("units", "activation"),
        ),
    ]


def _activation_specs() -> list[NodeSpec]:
    specs = [
        _layer(
            "Activation",
            "Activations",
            "Applies the chosen non-linearity element-wise; the shape is unchanged.",
            (_activation_param("relu"), _alpha(optional=True)),
            key_params=("activation",),
        )
    ]
    for name in ACTIVATIONS:
        if name == "linear":
            continue  # an identity node would only clutter the palette
        params = (
            (_alpha(False, ALPHA_DEFAULTS[name]),) if name in ALPHA_DEFAULTS else ()
        )
        specs.append(
            _layer(
                _title(name),
                "Activations",
                _ACTIVATION_HELP.get(name, f"The {name} activation, element-wise.")
                + " The shape is unchanged.",
                params,
                layer_type="Activation",
                fixed={"activation": name},
                key_params=tuple(p.name for p in params),
                id_prefix=name,
            )
        )
    return specs


def _other_specs() -> list[NodeSpec]:
    return [
        _layer(
            "Dropout",
            "Regularization",
            "During training, zeroes each value with probability rate and scales the "
            "rest by 1/(1 − rate); does nothing at inference.",
            (
                ParamSpec(
                    "rate",
                    "float",
                    0.2,
                    min=0.0,
                    max=1.0,
                    max_inclusive=False,
                    help="Fraction of values dropped during training.",
                ),
            ),
            key_params=("rate",),
        ),
        _layer(
            "BatchNorm",
            "Regularization",
            "Normalises each feature over the batch, then scales and shifts it with "
            "learned gamma and beta; uses running statistics at inference.",
            (
                ParamSpec(
                    "momentum",
                    "float",
                    0.1,
                    min=0.0,
                    max=1.0,
                    min_inclusive=False,
                    help="Weight of the current batch in the running statistics "
                    "(PyTorch convention).",
                ),
                ParamSpec(
                    "epsilon",
                    "float",
                    1e-5,
                    min=0.0,
                    min_inclusive=False,
                    help="Added to the variance to avoid division by zero.",
                ),
            ),
            title="Batch Norm",
            id_prefix="batchnorm",
        ),
        _layer(
            "Flatten",
            "Reshape",
            "Flattens each sample to one dimension, e.g. (28, 28) to (784,).",
        ),
        _layer(
            "Reshape",
            "Reshape",
            "Gives each sample a new shape with the same number of values; one "
            "dimension may be -1 to infer it.",
            (
                ParamSpec(
                    "target_shape",
                    "shape",
                    (-1,),
                    wildcard=True,
                    help="The new per-sample shape, e.g. (28, 28); one dimension may "
                    "be -1.",
                ),
            ),
            key_params=("target_shape",),
        ),
        _layer(
            "Add",
            "Merge",
            "Adds its inputs element-wise (a skip connection); all inputs need the "
            "same shape.",
        ),
        _layer(
            "Concatenate",
            "Merge",
            "Joins its inputs along an axis, in the order they were connected; the "
            "other dimensions must match.",
            (
                ParamSpec(
                    "axis",
                    "int",
                    -1,
                    help="Per-sample axis to join along (-1: the last).",
                ),
            ),
            key_params=("axis",),
        ),
        NodeSpec(
            type_name="Output",
            title="Output",
            category="Output",
            description="The network's prediction and the loss it is trained with. "
            "Connect the last layer to it; it adds no layer of its own.",
            inputs=(_IN,),
            outputs=(),
            params=(
                ParamSpec(
                    "loss",
                    "choice",
                    "sparse_categorical_crossentropy",
                    choices=LOSSES,
                    help="mse/mae/huber for regression; binary_crossentropy for one "
                    "sigmoid unit; categorical (one-hot labels) or "
                    "sparse_categorical (integer labels) cross-entropy for a "
                    "softmax over classes.",
                ),
                ParamSpec(
                    "delta",
                    "float",
                    1.0,
                    min=0.0,
                    min_inclusive=False,
                    help="Huber loss only: where the loss turns from quadratic to "
                    "linear.",
                ),
            ),
            key_params=("loss",),
            id_prefix="output",
            min_inputs=1,
            max_inputs=1,
        ),
    ]


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


def _build_registry() -> dict[str, NodeSpec]:
    specs = _core_specs() + _activation_specs() + _other_specs()
    table: dict[str, NodeSpec] = {}
    for spec in specs:
        if spec.type_name in table:
            raise RuntimeError(f"node type '{spec.type_name}' registered twice")
        table[spec.type_name] = spec
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return dict(sorted(table.items(), key=lambda kv: order[kv[1].category]))


REGISTRY: Mapping[str, NodeSpec] = MappingProxyType(_build_registry())
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
