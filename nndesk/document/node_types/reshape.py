"""Node types of the Reshape category: Flatten and Reshape."""

from __future__ import annotations

from ..params import ParamSpec
from .spec import NodeSpec, layer_spec

NODE_TYPES: list[NodeSpec] = [
    layer_spec(
        "Flatten",
        "Reshape",
        "Flattens each sample to one dimension, e.g. (28, 28) to (784,).",
    ),
    layer_spec(
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
]
