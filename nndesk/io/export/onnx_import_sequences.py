"""ONNX import of the sequence layers: recurrent, Embedding and attention.

``onnx_import`` calls these readers from its per-operator functions (this module
must not import it: the reader object is passed in). They read back what
``onnx_layers_recurrent`` and ``onnx_layers_attention`` write, and PyTorch's form
of the same layers:

- RNN, LSTM and GRU after a ``Transpose`` to time-major: the weights' gate blocks
  go back from ONNX's order (LSTM i, o, f, c; GRU z, r, h) to nndesk's and
  PyTorch's (i, f, g, o; r, z, n); the output is the whole sequence (``Y`` brought
  batch-first) or the final state (``Y_h``, by nndesk's Transpose and Reshape or
  PyTorch's Gather of the last layer). Initial states must be zeros: absent,
  zero constants, or PyTorch's ``ConstantOfShape`` of the batch size (its shape
  arithmetic is taken along). GRU must have ``linear_before_reset=1``.
- ``Cast`` to integers then ``Gather`` from a constant table: Embedding.
- ``LayerNormalization`` over the last axis: LayerNormalization.
- ``Add`` of a constant ``(time, features)`` table: PositionalEmbedding
  ("sinusoidal" when the table is nndesk's sinusoids bit for bit, else learned).
- MultiHeadAttention only as nndesk writes it: the nodes named
  ``<node>/q_matmul`` ... ``<node>/out_matmul`` (and ``<node>``, the output
  bias), recognised by their names, operators, wiring and constants together.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...engine.layers.attention import sinusoids
from .onnx_layers_recurrent import gate_order

__all__ = [
    "attention",
    "embedding",
    "layer_norm",
    "mark_zero_states",
    "positional",
    "recurrent",
]

RECURRENT_OPS = {"RNN": "SimpleRNN", "LSTM": "LSTM", "GRU": "GRU"}
"""ONNX operator -> nndesk layer type."""

_DEFAULT_ACTIVATIONS = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"]}
_RNN_ACTIVATIONS = {"Tanh": "tanh", "Relu": "relu"}
_SHAPE_OPS = frozenset(
    {"Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Slice", "Cast", "Constant"}
)
"""Operators of the batch-size arithmetic before PyTorch's zero initial states."""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _producers(r: Any) -> dict[str, int]:
    return {o: k for k, n in enumerate(r.nodes) for o in n.output if o}


def mark_zero_states(r: Any) -> None:
    """Find the initial states of recurrent nodes that are zeros computed from the
    batch size (PyTorch: Shape, Gather, Unsqueeze, Concat, ConstantOfShape(0)),
    take those nodes out of the import and remember the tensors as zeros."""
    made = _producers(r)
    r.zero_states = set()
    for node in r.nodes:
        if node.op_type not in RECURRENT_OPS:
            continue
        for name in list(node.input)[5:7]:
            k = made.get(name)
            if k is None or r.nodes[k].op_type != "ConstantOfShape":
                continue
            value = r.attrs(r.nodes[k]).get("value")
            if value is not None and r.onnx.numpy_helper.to_array(value).any():
                continue
            readers = r.consumers.get(name, [])
            if all(r.nodes[j].op_type in RECURRENT_OPS for j in readers):
                r.zero_states.add(name)
                _take_exclusive(r, made, k)


def _take_exclusive(r: Any, made: dict[str, int], start: int) -> None:
    """Mark ``start`` done, then every shape-arithmetic node all of whose outputs
    feed only nodes already taken."""
    taken = {start}
    r.done.add(start)
    frontier = [start]
    while frontier:
        k = frontier.pop()
        for name in r.nodes[k].input:
            p = made.get(name)
            if p is None or p in taken or r.nodes[p].op_type not in _SHAPE_OPS:
                continue
            users = {j for o in r.nodes[p].output for j in r.consumers.get(o, [])}
            if users <= taken:
                taken.add(p)
                r.done.add(p)
                frontier.append(p)


def _is_zero(r: Any, name: str) -> bool:
    if not name or name in r.zero_states:
        return True
    value = r.const(name)
    return value is not None and not value.any()


def _unblock(w: np.ndarray, type_name: str, units: int) -> np.ndarray:
    """The last axis of ``w`` from ONNX's gate order back to nndesk's."""
    order = gate_order(type_name)
    back = [order.index(k) for k in range(len(order))]
    blocks = [w[..., j * units : (j + 1) * units] for j in back]
    return np.ascontiguousarray(np.concatenate(blocks, -1))


def _recurrent_params(r: Any, node: Any, type_name: str) -> dict[str, Any]:
    a = r.attrs(node)
    direction = _text(a.get("direction", "forward"))
    if direction not in ("forward", "bidirectional"):
        raise r.fail(node, "runs in reverse only; nndesk reads forward or both ways")
    dirs = 2 if direction == "bidirectional" else 1
    if a.get("clip") is not None or a.get("input_forget", 0) or a.get("layout", 0):
        raise r.fail(node, "uses clip, input_forget or a batch-major layout")
    acts = [_text(v) for v in a.get("activations", [])]
    params: dict[str, Any] = {"units": int(a["hidden_size"])}
    if type_name == "SimpleRNN":
        kinds = set(acts) or {"Tanh"}
        if len(kinds) != 1 or next(iter(kinds)) not in _RNN_ACTIVATIONS:
            raise r.fail(
                node, f"uses the activations {acts}; nndesk's are Tanh or Relu"
            )
        params["activation"] = _RNN_ACTIVATIONS[next(iter(kinds))]
    elif acts and acts != _DEFAULT_ACTIVATIONS[node.op_type] * dirs:
        raise r.fail(node, f"uses the activations {acts} instead of the standard ones")
    if type_name == "GRU" and a.get("linear_before_reset", 0) != 1:
        raise r.fail(
            node,
            "has linear_before_reset=0 (the reset gate before the recurrent "
            "product), while nndesk's GRU, like PyTorch's, needs 1",
        )
    params["bidirectional"] = dirs == 2
    return params


def _recurrent_weights(
    r: Any, node: Any, type_name: str, units: int, dirs: int
) -> dict[str, np.ndarray]:
    ins = list(node.input) + [""] * 8
    w, rec = r.const(ins[1]), r.const(ins[2])
    bias = r.const(ins[3]) if ins[3] else None
    if w is None or rec is None or (ins[3] and bias is None):
        raise r.fail(node, "computes its weights at run time")
    if ins[4]:
        raise r.fail(node, "takes sequence lengths; nndesk's sequences are all full")
    if not all(_is_zero(r, n) for n in ins[5:7]) or ins[7]:
        raise r.fail(node, "starts from a state other than zeros or has peepholes")
    weights = {}
    for d, suffix in enumerate(("", "_reverse")[:dirs]):
        weights["kernel" + suffix] = _unblock(w[d].T, type_name, units)
        weights["recurrent_kernel" + suffix] = _unblock(rec[d].T, type_name, units)
        if bias is not None:
            half = bias.shape[-1] // 2
            weights["bias" + suffix] = _unblock(bias[d, :half], type_name, units)
            weights["recurrent_bias" + suffix] = _unblock(
                bias[d, half:], type_name, units
            )
    return weights


def _shape_const(r: Any, node: Any) -> list[int] | None:
    value = r.const(node.input[1]) if len(node.input) > 1 else None
    return None if value is None else [int(v) for v in value.reshape(-1)]


def _perm(r: Any, node: Any) -> list[int]:
    return [int(v) for v in r.attrs(node).get("perm", [])]


def _tail(r: Any, tensor: str, steps: list[tuple[str, Any]]) -> tuple[str, list[int]]:
    """Follow ``tensor`` through ``steps`` (operator, check of the node); the last
    output and the node indices, or ("", []) when the nodes differ."""
    taken = []
    for op, check in steps:
        found = r.follow(tensor, op)
        if found is None or not check(found[1]):
            return "", []
        taken.append(found[0])
        tensor = found[1].output[0]
    return tensor, taken


def _recurrent_output(
    r: Any, node: Any, units: int, dirs: int
) -> tuple[bool, str, list[int]]:
    """(return_sequences, the batch-first output tensor, the tail's nodes)."""
    outs = list(node.output) + ["", "", ""]
    used = [
        bool(o) and (bool(r.consumers.get(o)) or o in r.graph_outputs) for o in outs[:3]
    ]
    if used[2]:
        raise r.fail(
            node, "passes its cell state on; nndesk's LSTM gives its output only"
        )
    if used[0] == used[1]:
        raise r.fail(
            node, "uses both or neither of its sequence and final-state outputs"
        )
    width = dirs * units
    if used[0]:
        tails = [
            [
                ("Transpose", lambda n: _perm(r, n) == [2, 0, 1, 3]),
                ("Reshape", lambda n: _shape_const(r, n) == [0, 0, width]),
            ],
            [
                ("Squeeze", lambda n: dirs == 1 and _shape_const(r, n) == [1]),
                ("Transpose", lambda n: _perm(r, n) == [1, 0, 2]),
            ],
        ]
        source = outs[0]
    else:
        tails = [
            [
                ("Transpose", lambda n: _perm(r, n) == [1, 0, 2]),
                ("Reshape", lambda n: _shape_const(r, n) == [0, width]),
            ],
            [("Gather", lambda n: dirs == 1 and _last_layer(r, n))],
            [("Squeeze", lambda n: dirs == 1 and _shape_const(r, n) == [0])],
        ]
        source = outs[1]
    for steps in tails:
        out, taken = _tail(r, source, steps)
        if taken:
            return used[0], out, taken
    raise r.fail(node, "brings its output batch-first in a way nndesk does not read")


def _last_layer(r: Any, node: Any) -> bool:
    index = r.const(node.input[1])
    axis = r.attrs(node).get("axis", 0)
    return axis == 0 and index is not None and index.size == 1 and int(index) in (0, -1)


def recurrent(r: Any, transpose: Any) -> bool:
    """Read ``transpose`` (batch-first to time-major) and the RNN, LSTM or GRU
    after it as one recurrent layer; False when no such node follows."""
    j = r.sole_consumer(transpose.output[0])
    if j is None or j in r.done or r.nodes[j].op_type not in RECURRENT_OPS:
        return False
    node = r.nodes[j]
    if list(node.input)[0] != transpose.output[0]:
        return False
    type_name = RECURRENT_OPS[node.op_type]
    params = _recurrent_params(r, node, type_name)
    units, dirs = params["units"], 1 + params["bidirectional"]
    weights = _recurrent_weights(r, node, type_name, units, dirs)
    sequences, output, tail = _recurrent_output(r, node, units, dirs)
    params["return_sequences"] = sequences
    params["use_bias"] = "bias" in weights
    r.done.add(j)
    r.done.update(tail)
    src = r.source_of(transpose, transpose.input[0])
    r.add(node, type_name, params, [src], weights, output)
    return True


def embedding(r: Any, node: Any) -> bool:
    """A Cast to integers read as the indices of a Gather from a constant table:
    an Embedding (False for any other Cast)."""
    if r.attrs(node).get("to") not in (6, 7):  # INT32, INT64
        return False
    found = r.follow(node.output[0], "Gather")
    if found is None:
        return False
    k, gather = found
    table = r.const(gather.input[0])
    if (
        table is None
        or table.ndim != 2
        or gather.input[1] != node.output[0]
        or r.attrs(gather).get("axis", 0) != 0
    ):
        return False
    r.done.add(k)
    params = {"input_dim": int(table.shape[0]), "output_dim": int(table.shape[1])}
    weights = {"embeddings": np.ascontiguousarray(table)}
    src = r.source_of(node, node.input[0])
    r.add(gather, "Embedding", params, [src], weights, gather.output[0])
    return True


def layer_norm(r: Any, i: int, node: Any) -> None:
    """LayerNormalization over the last axis with constant scale and bias."""
    a = r.attrs(node)
    rank = r.ranks.get(node.input[0])
    axis = int(a.get("axis", -1))
    if axis != -1 and (rank is None or axis != rank - 1):
        raise r.fail(node, "normalises over more than the last axis")
    gamma = r.const(node.input[1])
    beta = r.const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    if gamma is None or (len(node.input) > 2 and node.input[2] and beta is None):
        raise r.fail(node, "computes its scale or bias at run time")
    if beta is None:
        beta = np.zeros_like(gamma)
    extra = [o for o in list(node.output)[1:] if o and r.consumers.get(o)]
    if extra:
        raise r.fail(node, "has its mean or deviation read by other nodes")
    params = {"epsilon": float(str(np.float32(a.get("epsilon", 1e-5))))}
    weights = {"gamma": gamma.reshape(-1), "beta": beta.reshape(-1)}
    r.add(
        node, "LayerNormalization", params, [r.source_of(node, node.input[0])], weights
    )


def positional(r: Any, node: Any) -> bool:
    """An Add of a constant ``(time, features)`` table to a ``(batch, time,
    features)`` tensor: a PositionalEmbedding (False for any other Add)."""
    consts = [n for n in node.input if n in r.consts]
    if len(node.input) != 2 or len(consts) != 1:
        return False
    (name,) = consts
    (data,) = [n for n in node.input if n != name]
    table = r.consts[name]
    shape = r.shapes.get(data)
    if shape is None or len(shape) != 3 or tuple(table.shape) != tuple(shape[1:]):
        return False
    fixed = sinusoids(*table.shape).astype(table.dtype)
    if table.dtype == np.float32 and fixed.tobytes() == table.tobytes():
        params, weights = {"encoding": "sinusoidal"}, {}
    else:
        params, weights = {"encoding": "learned"}, {"embeddings": table}
    r.add(node, "PositionalEmbedding", params, [r.source_of(node, data)], weights)
    return True


# --- MultiHeadAttention as nndesk writes it ---------------------------------------------

_PROJECTION = ("matmul", "bias_add", "reshape", "transpose")
_KEY_PERMS = {"q": [0, 2, 1, 3], "k": [0, 2, 3, 1], "v": [0, 2, 1, 3]}


def _expected_ops(use_bias: bool, causal: bool) -> dict[str, str]:
    """Node name suffix -> operator of nndesk's exported attention."""
    ops = {}
    for part in "qkv":
        ops[f"{part}_matmul"] = "MatMul"
        if use_bias:
            ops[f"{part}_bias_add"] = "Add"
        ops[f"{part}_reshape"] = "Reshape"
        ops[f"{part}_transpose"] = "Transpose"
    ops.update(
        q_scale="Mul",
        scores_matmul="MatMul",
        softmax="Softmax",
        context_matmul="MatMul",
        merge="Transpose",
        merge_reshape="Reshape",
        out_matmul="MatMul",
    )
    if causal:
        ops["causal"] = "Add"
    return ops


def attention(r: Any, i: int, node: Any) -> bool:
    """Read the nodes of one MultiHeadAttention nndesk exported, starting at its
    ``<name>/q_matmul``; False when they are not exactly that pattern."""
    name = node.name.removesuffix("/q_matmul")
    group = {
        n.name.removeprefix(name + "/") if n.name != name else "": (k, n)
        for k, n in enumerate(r.nodes)
        if k not in r.done or k == i
        if n.name == name or n.name.startswith(name + "/")
    }
    use_bias = "" in group
    causal = "causal" in group
    if "head_mask_mul" in group:
        raise r.fail(
            node, "mutes attention heads (a head mask), which nndesk does not import"
        )
    expected = _expected_ops(use_bias, causal)
    if use_bias:
        expected[""] = "Add"
    if {k: n.op_type for k, (_, n) in group.items()} != expected:
        return False
    found = _attention_parts(r, name, group, use_bias, causal)
    if found is None:
        return False
    params, weights, sources, output = found
    r.done.update(k for k, _ in group.values())
    inputs = [r.source_of(node, t) for t in dict.fromkeys(sources)]
    r.add(node, "MultiHeadAttention", params, inputs, weights, output)
    return True


def _attention_parts(
    r: Any, name: str, group: dict[str, tuple[int, Any]], use_bias: bool, causal: bool
) -> tuple[dict[str, Any], dict[str, np.ndarray], list[str], str] | None:
    """Parameters, weights, the query and key/value inputs and the output tensor
    of an attention group, or None when its wiring or constants differ."""
    n = {k: v[1] for k, v in group.items()}
    inside = {o for node in n.values() for o in node.output}
    w = [r.const(n[f"{p}_matmul"].input[1]) for p in "qkv"]
    heads_shape = _shape_const(r, n["q_reshape"])
    out_kernel = r.const(n["out_matmul"].input[1])
    if any(x is None for x in w) or out_kernel is None or heads_shape is None:
        return None
    heads, key_dim = heads_shape[2], heads_shape[3]
    q_src, kv_src = n["q_matmul"].input[0], n["k_matmul"].input[0]
    scale = r.const(n["q_scale"].input[1])
    reads_outside = [
        t
        for k, node in n.items()
        if not k.endswith("matmul") or k in ("scores_matmul", "context_matmul")
        for t in node.input
        if t not in inside and t not in r.consts
    ]
    if (
        n["v_matmul"].input[0] != kv_src
        or reads_outside
        or any(_perm(r, n[f"{p}_transpose"]) != _KEY_PERMS[p] for p in "qkv")
        or _perm(r, n["merge"]) != [0, 2, 1, 3]
        or r.attrs(n["softmax"]).get("axis", -1) not in (-1, 3)
        or scale is None
        or scale.size != 1
        or not math.isclose(float(scale), 1.0 / math.sqrt(key_dim), rel_tol=1e-6)
    ):
        return None
    weights = {"in_kernel": np.ascontiguousarray(np.concatenate(w, axis=1))}
    if use_bias:
        b = [r.const(n[f"{p}_bias_add"].input[1]) for p in "qkv"]
        out_bias = r.const(n[""].input[1])
        if any(x is None for x in b) or out_bias is None:
            return None
        weights["in_bias"] = np.ascontiguousarray(np.concatenate(b))
        weights["out_bias"] = out_bias
    weights["out_kernel"] = out_kernel
    d = w[0].shape[0]
    params = {
        "num_heads": int(heads),
        "key_dim": None if heads * key_dim == d else int(key_dim),
        "causal": causal,
        "use_bias": use_bias,
    }
    output = (n[""] if use_bias else n["out_matmul"]).output[0]
    return params, weights, [q_src, kv_src], output
