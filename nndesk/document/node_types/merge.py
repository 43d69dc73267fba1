"""Node types of the Merge category: Add and Concatenate."""

from __future__ import annotations

from ..params import ParamSpec
from .spec import NodeSpec, layer_spec

NODE_TYPES: list[NodeSpec] = [
    layer_spec(
        "Add",
        "Merge",
        "Adds its inputs element-wise (a skip connection); all inputs need the "
        "same shape.",
    ),
    layer_spec(
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
]
