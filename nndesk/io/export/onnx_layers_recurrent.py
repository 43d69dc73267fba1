"""ONNX export of the recurrent layers and Embedding (opset 17).

ONNX's RNN, LSTM and GRU take the sequence time-major ``(time, batch,
features)`` and weights per direction ``W (dirs, G*u, features)``, ``R (dirs,
G*u, u)``, ``B (dirs, 2*G*u)`` (input biases, then recurrent ones), with their
own gate orders: LSTM ``i, o, f, c`` (torch and nndesk: ``i, f, g, o``), GRU
``z, r, h`` (torch and nndesk: ``r, z, n``). The blocks are reordered here, GRU
gets ``linear_before_reset=1`` (the reset gate after the recurrent product, as
torch and nndesk), and the output is brought back to nndesk's batch-first
``(batch, time, dirs*u)`` or, without ``return_sequences``, the final states
``(batch, dirs*u)``. Embedding is a Gather on the ids cast to int64.

``EXPORTERS`` maps engine type names to the export functions; ``onnx_export``
merges it into its ``LAYER_EXPORTERS`` (as every ``onnx_layers_*`` module's), so
this module must not import ``onnx_export``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["EXPORTERS", "gate_order"]

# Position (in nndesk's/torch's order) of each block of ONNX's order.
_ONNX_GATES = {"SimpleRNN": (0,), "LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2)}


def gate_order(type_name: str) -> tuple[int, ...]:
    """For each gate block in ONNX's order, its index in nndesk's order:
    LSTM ``(0, 3, 1, 2)`` (i, o, f, c from i, f, g, o), GRU ``(1, 0, 2)``."""
    return _ONNX_GATES[type_name]


def _blocks(w: np.ndarray, order: tuple[int, ...], units: int) -> np.ndarray:
    """The last axis of ``w`` (``G*units`` columns) with its blocks reordered."""
    return np.concatenate([w[..., k * units : (k + 1) * units] for k in order], -1)


def _weights(layer: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """ONNX's ``W``, ``R`` and ``B`` of a built recurrent layer."""
    order, u = gate_order(layer.type_name), layer.units
    suffixes = ("", "_reverse")[: layer.directions]
    p = layer.params
    w = np.stack([_blocks(p["kernel" + s], order, u).T for s in suffixes])
    r = np.stack([_blocks(p["recurrent_kernel" + s], order, u).T for s in suffixes])
    if not layer.use_bias:
        return w, r, None
    b = np.stack(
        [
            np.concatenate(
                [
                    _blocks(p["bias" + s], order, u),
                    _blocks(p["recurrent_bias" + s], order, u),
                ]
            )
            for s in suffixes
        ]
    )
    return w, r, b


def _recurrent(g: Any, layer: Any, inputs: list[str], out: str) -> None:
    name, u, dirs = layer.name, layer.units, layer.directions
    op = {"SimpleRNN": "RNN", "LSTM": "LSTM", "GRU": "GRU"}[layer.type_name]
    w, r, b = _weights(layer)
    x = g.op(
        "Transpose",
        [inputs[0]],
        f"{name}/time_major",
        f"{name}/to_time_major",
        perm=[1, 0, 2],
    )
    args = [x, g.const(f"{name}/W", w), g.const(f"{name}/R", r)]
    if b is not None:
        args.append(g.const(f"{name}/B", b))
    attrs: dict[str, Any] = {
        "hidden_size": u,
        "direction": "bidirectional" if dirs == 2 else "forward",
    }
    if op == "RNN":
        attrs["activations"] = [layer.activation.capitalize()] * dirs
    if op == "GRU":
        attrs["linear_before_reset"] = 1
    seq, last = f"{name}/Y", f"{name}/Y_h"
    g.nodes.append(g.helper.make_node(op, args, [seq, last], name=name, **attrs))
    shape = g.const(f"{name}/shape", np.array([0, dirs * u], dtype=np.int64))
    if not layer.return_sequences:
        # Y_h (dirs, batch, u) -> (batch, dirs, u) -> (batch, dirs*u)
        t = g.op(
            "Transpose",
            [last],
            f"{name}/h_batch_first",
            f"{name}/h_to_batch",
            perm=[1, 0, 2],
        )
        g.op("Reshape", [t, shape], out, f"{name}/h_reshape")
        return
    # Y (time, dirs, batch, u) -> (batch, time, dirs, u) -> (batch, time, dirs*u)
    t = g.op(
        "Transpose",
        [seq],
        f"{name}/y_batch_first",
        f"{name}/y_to_batch",
        perm=[2, 0, 1, 3],
    )
    seq_shape = g.const(f"{name}/seq_shape", np.array([0, 0, dirs * u], dtype=np.int64))
    g.op("Reshape", [t, seq_shape], out, f"{name}/y_reshape")


def _embedding(g: Any, layer: Any, inputs: list[str], out: str) -> None:
    name = layer.name
    table = g.const(f"{name}/embeddings", layer.params["embeddings"])
    ids = g.op("Cast", [inputs[0]], f"{name}/ids", f"{name}/to_int64", to=7)  # INT64
    g.op("Gather", [table, ids], out, name, axis=0)


EXPORTERS = {
    "SimpleRNN": _recurrent,
    "LSTM": _recurrent,
    "GRU": _recurrent,
    "Embedding": _embedding,
}
