"""Node types of the Attention category: MultiHeadAttention, LayerNormalization
and PositionalEmbedding, the parts of a Transformer block.

Their engine classes are ``nndesk.engine.layers.attention``; sequences are
``(time, features)`` per sample, so edges show both axes. The engine's shape
rules are the Problems before training: a width that is not num_heads × key_dim
(with the key_dim that fits), a 1-D input without a time axis, keys and values
of another width than the queries, causal cross-attention between sequences of
different lengths.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ...engine.layers.attention import POSITION_ENCODINGS
from ..params import ParamSpec
from .spec import CategorySpec, NodeSpec, PortSpec, initializer_param, layer_spec

CATEGORIES = (CategorySpec("Attention", after="Recurrent"),)

ATTENTION_IN = PortSpec("in", label="query, key/value", multiple=True)
"""One input is self-attention; a second edge brings the keys and values."""


def _attention_text(params: Mapping[str, Any]) -> str:
    """Canvas text: ``"4 heads × 16 · causal"`` (``"4 heads"`` when key_dim is
    left to the input)."""
    heads = int(params["num_heads"])
    text = f"{heads} head{'s' if heads != 1 else ''}"
    if params["key_dim"] is not None:
        text += f" × {params['key_dim']}"
    return text + (" · causal" if params["causal"] else "")


NODE_TYPES: list[NodeSpec] = [
    replace(
        layer_spec(
            "MultiHeadAttention",
            "Attention",
            "Multi-head attention: each step looks at every step (self-attention, "
            "one input) or at the steps of a second sequence (cross-attention: "
            "connect the queries first, then the keys and values) and mixes their "
            "values by learned relevance, in num_heads heads at once "
            "(torch.nn.MultiheadAttention). num_heads must divide the sequence's "
            "features.",
            (
                ParamSpec(
                    "num_heads",
                    "int",
                    1,
                    min=1,
                    max=1024,
                    help="Number of attention heads; each has its own queries, keys "
                    "and values of key_dim features.",
                ),
                ParamSpec(
                    "key_dim",
                    "int",
                    None,
                    min=1,
                    max=100_000,
                    optional=True,
                    help="Features per head; empty takes the input's features ÷ "
                    "num_heads. num_heads × key_dim must equal the features of the "
                    "input sequence.",
                ),
                ParamSpec(
                    "causal",
                    "bool",
                    False,
                    help="Each step sees only itself and earlier steps (for models that "
                    "predict the next token).",
                ),
                ParamSpec(
                    "dropout",
                    "float",
                    0.0,
                    min=0.0,
                    max=1.0,
                    max_inclusive=False,
                    help="Fraction of attention weights dropped during training.",
                ),
                ParamSpec(
                    "use_bias",
                    "bool",
                    True,
                    help="Add learned biases to the projections.",
                ),
                initializer_param(
                    "kernel_initializer", "glorot_uniform", "projections"
                ),
            ),
            key_params=("num_heads", "key_dim", "causal"),
            key_text=_attention_text,
            title="Attention",
            id_prefix="attention",
        ),
        inputs=(ATTENTION_IN,),
    ),
    layer_spec(
        "LayerNormalization",
        "Attention",
        "Layer normalization: normalises the features of each step of each "
        "sample to mean 0 and variance 1, then scales and shifts them with "
        "learned gamma and beta (torch.nn.LayerNorm); the same in training and "
        "inference.",
        (
            ParamSpec(
                "epsilon",
                "float",
                1e-5,
                min=0.0,
                min_inclusive=False,
                help="Added to the variance to avoid division by zero.",
            ),
        ),
        title="LayerNorm",
        id_prefix="norm",
    ),
    layer_spec(
        "PositionalEmbedding",
        "Attention",
        "Positional embedding: adds a vector per position to a (time, features) "
        "sequence, so attention can tell the steps apart: a learned table, or the "
        "fixed sine and cosine waves of the original Transformer.",
        (
            ParamSpec(
                "encoding",
                "choice",
                "learned",
                choices=POSITION_ENCODINGS,
                help="learned: a trained (time, features) table; sinusoidal: fixed "
                "sines and cosines, no weights.",
            ),
            initializer_param("embeddings_initializer", "glorot_uniform", "table"),
        ),
        key_params=("encoding",),
        title="Positions",
        id_prefix="positions",
    ),
]
