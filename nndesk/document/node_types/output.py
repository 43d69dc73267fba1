"""The Output node: the network's prediction and the loss it trains with."""

from __future__ import annotations

from ...engine.losses import LOSSES
from ..params import ParamSpec
from .spec import IN, NodeSpec

NODE_TYPES: list[NodeSpec] = [
    NodeSpec(
        type_name="Output",
        title="Output",
        category="Output",
        description="The network's prediction and the loss it is trained with. "
        "Connect the last layer to it; it adds no layer of its own.",
        inputs=(IN,),
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
