"""Node types of the Activations category: the generic Activation node and one
node per engine activation (ReLU, Tanh...), all building the engine's Activation."""

from __future__ import annotations

from ...engine.activations import ACTIVATIONS
from .spec import ALPHA_DEFAULTS, NodeSpec, activation_param, alpha_param, layer_spec

_TITLES = {
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

_HELP = {
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


def _title(activation: str) -> str:
    return _TITLES.get(
        activation, "".join(w.capitalize() for w in activation.split("_"))
    )


def _specs() -> list[NodeSpec]:
    specs = [
        layer_spec(
            "Activation",
            "Activations",
            "Applies the chosen non-linearity element-wise; the shape is unchanged.",
            (activation_param("relu"), alpha_param(optional=True)),
            key_params=("activation",),
        )
    ]
    for name in ACTIVATIONS:
        if name == "linear":
            continue  # an identity node would only clutter the palette
        params = (
            (alpha_param(False, ALPHA_DEFAULTS[name]),)
            if name in ALPHA_DEFAULTS
            else ()
        )
        specs.append(
            layer_spec(
                _title(name),
                "Activations",
                _HELP.get(name, f"The {name} activation, element-wise.")
                + " The shape is unchanged.",
                params,
                layer_type="Activation",
                fixed={"activation": name},
                key_params=tuple(p.name for p in params),
                id_prefix=name,
            )
        )
    return specs


NODE_TYPES: list[NodeSpec] = _specs()
