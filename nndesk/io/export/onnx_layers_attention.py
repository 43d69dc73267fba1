"""ONNX export of the attention layers (opset 17).

LayerNormalization is opset 17's ``LayerNormalization`` over the last axis.
PositionalEmbedding adds its ``(time, features)`` table (learned, or the
sinusoids computed at export) as a constant. MultiHeadAttention is written out
in primitives: a MatMul and Add per projection, Reshape and Transpose to
``(batch, heads, time, key_dim)``, MatMul of the scaled queries with the
transposed keys, the causal mask added as a constant of 0 and -inf, Softmax on
the last axis, MatMul with the values, the heads transposed back side by side and
the output projection; a ``head_mask`` set on the layer is a Mul on the heads.

``EXPORTERS`` maps engine type names to the export functions; ``onnx_export``
merges it into its ``LAYER_EXPORTERS`` (as every ``onnx_layers_*`` module's), so
this module must not import ``onnx_export``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["EXPORTERS"]


def _layer_norm(g: Any, layer: Any, inputs: list[str], out: str) -> None:
    name = layer.name
    scale = g.const(f"{name}/gamma", layer.params["gamma"])
    bias = g.const(f"{name}/beta", layer.params["beta"])
    g.op(
        "LayerNormalization",
        [inputs[0], scale, bias],
        out,
        name,
        axis=-1,
        epsilon=float(layer.epsilon),
    )


def _positional(g: Any, layer: Any, inputs: list[str], out: str) -> None:
    table = g.const(f"{layer.name}/table", np.asarray(layer.table(), dtype=layer.dtype))
    g.op("Add", [inputs[0], table], out, layer.name)


def _projection(
    g: Any, layer: Any, x: str, block: int, heads: int, key_dim: int, perm: list[int]
) -> str:
    """Block ``block`` (0 query, 1 key, 2 value) of the packed projection of
    ``x``, as ``(batch, heads, time, key_dim)`` after ``perm``."""
    name, d = layer.name, heads * key_dim
    part = "qkv"[block]
    cols = slice(block * d, (block + 1) * d)
    w = g.const(f"{name}/W{part}", layer.params["in_kernel"][:, cols])
    t = g.op("MatMul", [x, w], f"{name}/{part}_product", f"{name}/{part}_matmul")
    if layer.use_bias:
        b = g.const(f"{name}/b{part}", layer.params["in_bias"][cols])
        t = g.op("Add", [t, b], f"{name}/{part}_biased", f"{name}/{part}_bias_add")
    shape = g.const(
        f"{name}/{part}_heads_shape", np.array([0, 0, heads, key_dim], dtype=np.int64)
    )
    t = g.op("Reshape", [t, shape], f"{name}/{part}_heads", f"{name}/{part}_reshape")
    return g.op(
        "Transpose", [t], f"{name}/{part}_bh", f"{name}/{part}_transpose", perm=perm
    )


def _attention(g: Any, layer: Any, inputs: list[str], out: str) -> None:
    name = layer.name
    (tq, d), tk = layer.input_shapes[0], layer.input_shapes[-1][0]
    heads = layer.num_heads
    key_dim = d // heads
    dtype = layer.dtype
    kv = inputs[-1]
    q = _projection(g, layer, inputs[0], 0, heads, key_dim, [0, 2, 1, 3])
    k = _projection(g, layer, kv, 1, heads, key_dim, [0, 2, 3, 1])  # keys transposed
    v = _projection(g, layer, kv, 2, heads, key_dim, [0, 2, 1, 3])
    scale = g.const(f"{name}/scale", np.asarray(1.0 / math.sqrt(key_dim), dtype=dtype))
    q = g.op("Mul", [q, scale], f"{name}/q_scaled", f"{name}/q_scale")
    s = g.op("MatMul", [q, k], f"{name}/scores", f"{name}/scores_matmul")
    if layer.causal:
        mask = np.triu(np.full((tq, tk), -np.inf), 1).astype(dtype)
        s = g.op(
            "Add",
            [s, g.const(f"{name}/causal_mask", mask)],
            f"{name}/scores_masked",
            f"{name}/causal",
        )
    p = g.op("Softmax", [s], f"{name}/weights", f"{name}/softmax", axis=-1)
    ctx = g.op("MatMul", [p, v], f"{name}/context", f"{name}/context_matmul")
    if layer.head_mask is not None:
        hm = np.asarray(layer.head_mask, dtype=dtype).reshape(1, heads, 1, 1)
        ctx = g.op(
            "Mul",
            [ctx, g.const(f"{name}/head_mask", hm)],
            f"{name}/context_masked",
            f"{name}/head_mask_mul",
        )
    t = g.op(
        "Transpose", [ctx], f"{name}/merged_heads", f"{name}/merge", perm=[0, 2, 1, 3]
    )
    shape = g.const(f"{name}/merged_shape", np.array([0, 0, d], dtype=np.int64))
    t = g.op("Reshape", [t, shape], f"{name}/merged", f"{name}/merge_reshape")
    w = g.const(f"{name}/out_kernel", layer.params["out_kernel"])
    if not layer.use_bias:
        g.op("MatMul", [t, w], out, f"{name}/out_matmul")
        return
    t = g.op("MatMul", [t, w], f"{name}/out_product", f"{name}/out_matmul")
    g.op("Add", [t, g.const(f"{name}/out_bias", layer.params["out_bias"])], out, name)


EXPORTERS = {
    "LayerNormalization": _layer_norm,
    "MultiHeadAttention": _attention,
    "PositionalEmbedding": _positional,
}
