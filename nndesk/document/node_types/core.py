"""Node types of the Input and Core categories: Input and Dense."""

from __future__ import annotations

from ...engine.layers.core import INPUT_DTYPES
from ..params import ParamSpec
from .spec import (
    NodeSpec,
    activation_param,
    alpha_param,
    initializer_param,
    layer_spec,
    penalty_param,
)

NODE_TYPES: list[NodeSpec] = [
    layer_spec(
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
            ParamSpec(
                "dtype",
                "choice",
                "float",
                choices=INPUT_DTYPES,
                help="What the values are: float numbers, or int for integer "
                "token ids (what an Embedding reads).",
            ),
        ),
        key_params=("shape",),
    ),
    layer_spec(
        "Dense",
        "Core",
        "Fully connected layer: every output unit is a weighted sum of all inputs "
        "plus a bias, followed by the activation. Needs 1-D features (insert "
        "Flatten after images); on (time, features) sequences it acts on every "
        "time step with the same weights.",
        (
            ParamSpec(
                "units",
                "int",
                16,
                min=1,
                max=1_000_000,
                help="Number of output units.",
            ),
            activation_param("relu"),
            ParamSpec("use_bias", "bool", True, help="Add a learned bias per unit."),
            initializer_param("kernel_initializer", "glorot_uniform", "weight matrix"),
            initializer_param("bias_initializer", "zeros", "bias"),
            penalty_param("l1"),
            penalty_param("l2"),
            alpha_param(optional=True),
        ),
        key_params=("units", "activation"),
    ),
]
