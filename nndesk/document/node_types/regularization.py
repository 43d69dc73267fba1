"""Node types of the Regularization category: Dropout and BatchNorm."""

from __future__ import annotations

from ..params import ParamSpec
from .spec import NodeSpec, layer_spec

NODE_TYPES: list[NodeSpec] = [
    layer_spec(
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
    layer_spec(
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
]
