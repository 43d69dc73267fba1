"""ONNX import: an ONNX graph of the operators nndesk exports becomes a network file.

The graph is read node by node (ONNX lists nodes in topological order). One
function per ONNX operator (``OP_IMPORTERS``) turns a node into a layer, passes its
input through (Identity), or, seeing the pattern a layer was exported as, takes
the following nodes along: MatMul then Add of a constant is one Dense layer, Div
Erf Add Mul Mul is a GELU, Sigmoid then Mul is a SiLU, Transpose BatchNormalization
Transpose is a channels-last BatchNorm, and Sub then Div of constants right at the
input is the feature scaling. Every node no function reads is collected, so one
message lists all of them by name and operator.

A model nndesk wrote carries its document in the metadata (``nndesk.document``):
the ONNX nodes of one canvas node share a name stem (``dense_1``, ``dense_1/relu``),
so they are one node again, with the node's id, position, label, settings and the
parameters ONNX has no word for (initializers, L1/L2). Structure and weights always
come from the ONNX graph itself. A foreign model (PyTorch's exporter) gets one
canvas node per layer, automatic ids, the ONNX node names as labels, a layout left
to right and a loss guessed from its last activation.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...document.errors import DocumentError
from ...document.examples import STEP_X, STEP_Y
from ...document.graph import Document
from ...document.registry import REGISTRY, get_spec
from ...document.shapes import infer_shapes
from ...engine.activations import get_activation
from ...engine.errors import NNDeskError
from ..project_file import Project, expected_weight_shapes
from . import onnx_import_sequences as sequences
from ._onnx import PRODUCER, require_onnx
from .errors import ModelImportError
from .onnx_export import ACTIVATION_OPS, META_DOCUMENT, META_PREPROCESSING

__all__ = ["MAX_MODEL_SIZE", "OP_IMPORTERS", "import_onnx", "onnx_to_project"]

log = logging.getLogger(__name__)

MAX_MODEL_SIZE = 2 << 30
"""Largest ONNX file read (2 GiB, protobuf's own limit)."""

MIN_OPSET = 13
"""Oldest opset read: Softmax, Dropout and Reshape changed meaning before it."""

_OP_ACTIVATIONS = {op: act for act, op in ACTIVATION_OPS.items()}


@dataclass
class Piece:
    """One layer-to-be: an engine layer type with parameters, weights and inputs.

    ``inputs`` are indices of other pieces (0 is the Input); ``onnx_name`` names the
    first ONNX node it came from; ``group`` is the nndesk node id its ONNX names
    share (nndesk-made models only).
    """

    layer_type: str
    params: dict[str, Any]
    inputs: list[int]
    onnx_name: str
    group: str | None = None
    weights: dict[str, np.ndarray] = field(default_factory=dict)


class _Reader:
    """The state of one import: constants, tensor producers and the pieces so far."""

    def __init__(
        self,
        onnx: Any,
        graph: Any,
        source: str,
        nndesk_made: bool,
        shapes: Mapping[str, tuple[int | None, ...]],
    ) -> None:
        self.onnx = onnx
        self.shapes = shapes
        self.ranks = {k: len(v) for k, v in shapes.items()}
        self.source = source
        self.nndesk_made = nndesk_made
        self.nodes = list(graph.node)
        self.consts: dict[str, np.ndarray] = {
            t.name: onnx.numpy_helper.to_array(t) for t in graph.initializer
        }
        self.consumers: dict[str, list[int]] = {}
        for i, node in enumerate(self.nodes):
            for name in node.input:
                self.consumers.setdefault(name, []).append(i)
        self.graph_outputs = {o.name for o in graph.output}
        self.pieces: list[Piece] = []
        self.tensor: dict[str, int] = {}  # ONNX tensor -> piece index
        self.done: set[int] = set()
        self.unsupported: list[str] = []
        self.blocked: set[str] = set()  # outputs of unsupported nodes
        self.preprocessing: dict[str, Any] | None = None
        # Channels-first data (a PyTorch CNN) held channels-last in nndesk:
        # "nchw" for images, ("chw", (c, h, w)) for their flattened rows, "c11"
        # for a global pool's (batch, c, 1, 1).
        self.layout: dict[str, Any] = {}
        self.zero_states: set[str] = set()  # zero initial states of recurrent nodes

    # --- helpers -------------------------------------------------------------------
    def fail(self, node: Any, reason: str) -> ModelImportError:
        return ModelImportError(
            f"Cannot import {self.source}: ONNX node '{node.name}' ({node.op_type}) "
            f"{reason}."
        )

    def attrs(self, node: Any) -> dict[str, Any]:
        h = self.onnx.helper
        return {a.name: h.get_attribute_value(a) for a in node.attribute}

    def const(self, name: str) -> np.ndarray | None:
        return self.consts.get(name)

    def nodes_input(self, node: Any) -> str:
        """The data input of a node wrapped in Transposes: the first Transpose's."""
        producer = {o: n for n in self.nodes for o in n.output}
        transpose = producer.get(node.input[0])
        return transpose.input[0] if transpose is not None else node.input[0]

    def sole_consumer(self, tensor: str) -> int | None:
        """The one node reading ``tensor`` (None if several, none, or an output)."""
        users = self.consumers.get(tensor, [])
        if len(users) != 1 or tensor in self.graph_outputs:
            return None
        return users[0]

    def source_of(self, node: Any, tensor: str) -> int:
        if tensor in self.tensor:
            return self.tensor[tensor]
        if tensor in self.consts:
            raise self.fail(
                node,
                f"reads the constant '{tensor}' where nndesk needs "
                "data from the previous layer",
            )
        raise self.fail(node, f"reads '{tensor}', which no supported node computes")

    def group_of(self, node: Any) -> str | None:
        return node.name.split("/")[0] if self.nndesk_made and node.name else None

    def add(
        self,
        node: Any,
        layer_type: str,
        params: dict[str, Any],
        inputs: list[int],
        weights: dict[str, np.ndarray] | None = None,
        output: str | None = None,
    ) -> None:
        inputs = [self._distinct(node, src, inputs[:k]) for k, src in enumerate(inputs)]
        self.pieces.append(
            Piece(
                layer_type,
                params,
                inputs,
                node.name,
                self.group_of(node),
                weights or {},
            )
        )
        self.tensor[output or node.output[0]] = len(self.pieces) - 1

    def _distinct(self, node: Any, src: int, earlier: list[int]) -> int:
        """``src``, or a linear Activation after it when ``node`` already reads it:
        a canvas node takes one edge from another (Concat(x, x) is legal ONNX)."""
        if src not in earlier:
            return src
        self.pieces.append(
            Piece("Activation", {"activation": "linear"}, [src], f"{node.name}/copy")
        )
        return len(self.pieces) - 1

    def follow(self, tensor: str, op_type: str) -> tuple[int, Any] | None:
        """The sole consumer of ``tensor`` if it is an ``op_type`` node."""
        j = self.sole_consumer(tensor)
        if j is None or j in self.done or self.nodes[j].op_type != op_type:
            return None
        return j, self.nodes[j]

    def other_input(self, node: Any, tensor: str) -> str | None:
        ins = list(node.input)
        if len(ins) != 2 or tensor not in ins:
            return None
        return ins[1] if ins[0] == tensor else ins[0]


def _f32(value: Any) -> float:
    """A float ONNX held in float32, as its shortest decimal (1e-05, not
    9.999999747378752e-06)."""
    return float(str(np.float32(value)))


def _is_scalar(value: np.ndarray | None, target: float, tol: float = 1e-6) -> bool:
    return (
        value is not None
        and value.size == 1
        and abs(float(value.reshape(())) - target) <= tol
    )


# --- one function per ONNX operator ------------------------------------------------------

Importer = Callable[[_Reader, int, Any], None]


def _dense(
    r: _Reader, node: Any, kernel: np.ndarray, bias: np.ndarray | None, output: str
) -> None:
    if kernel.ndim != 2:
        raise r.fail(node, f"has a {kernel.ndim}-D weight; a dense layer needs 2-D")
    units = kernel.shape[1]
    tag = r.layout.get(node.input[0])
    if isinstance(tag, tuple):  # rows flattened (c, h, w); nndesk's are (h, w, c)
        c, h, w = tag[1]
        kernel = kernel.reshape(c, h, w, units).transpose(1, 2, 0, 3).reshape(-1, units)
    elif tag == "nchw":
        raise r.fail(node, "multiplies channels-first images; flatten them first")
    weights = {"kernel": np.ascontiguousarray(kernel)}
    if bias is not None:
        if bias.size != units:
            raise r.fail(node, f"has {bias.size} biases for {units} units")
        weights["bias"] = bias.reshape(units)
    params = {"units": int(units), "activation": "linear", "use_bias": bias is not None}
    r.add(node, "Dense", params, [r.source_of(node, node.input[0])], weights, output)


def _gemm(r: _Reader, i: int, node: Any) -> None:
    a = r.attrs(node)
    if (
        a.get("transA", 0)
        or a.get("alpha", 1.0) != 1.0
        or (len(node.input) > 2 and a.get("beta", 1.0) != 1.0)
    ):
        raise r.fail(
            node, "uses transA, alpha or beta, which a dense layer has no form for"
        )
    kernel = r.const(node.input[1])
    if kernel is None:
        raise r.fail(
            node, "computes its weights at run time; nndesk needs them as constants"
        )
    if a.get("transB", 0):
        kernel = kernel.T  # PyTorch's Linear: (out, in)
    bias = r.const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    _dense(r, node, np.ascontiguousarray(kernel), bias, node.output[0])


def _matmul(r: _Reader, i: int, node: Any) -> None:
    if node.name.endswith("/q_matmul") and sequences.attention(r, i, node):
        return
    kernel = r.const(node.input[1])
    if kernel is None:
        raise r.fail(
            node,
            "multiplies two computed tensors; nndesk reads MatMul with "
            "constant weights (a dense layer) only",
        )
    bias, output = None, node.output[0]
    follow = r.follow(node.output[0], "Add")
    if follow is not None:
        j, add = follow
        other = r.other_input(add, node.output[0])
        b = r.const(other) if other is not None else None
        if b is not None and b.size == kernel.shape[-1]:
            bias, output = b, add.output[0]
            r.done.add(j)
    _dense(r, node, kernel, bias, output)


def _activation(
    r: _Reader,
    node: Any,
    act: str,
    alpha: float | None = None,
    output: str | None = None,
) -> None:
    params: dict[str, Any] = {"activation": act}
    if alpha is not None:
        params["alpha"] = _f32(alpha)
    r.add(node, "Activation", params, [r.source_of(node, node.input[0])], None, output)


def _simple_activation(r: _Reader, i: int, node: Any) -> None:
    a = r.attrs(node)
    act = _OP_ACTIVATIONS[node.op_type]
    if node.op_type == "Softmax" and a.get("axis", -1) not in (-1,):
        rank = _rank(r, node.input[0])
        if rank is None or a["axis"] != rank - 1:
            raise r.fail(node, "normalises over another axis than the last")
    alpha = a.get("alpha", 0.01 if act == "leaky_relu" else 1.0)
    _activation(r, node, act, alpha if act in ("leaky_relu", "elu") else None)


def _sigmoid(r: _Reader, i: int, node: Any) -> None:
    follow = r.follow(node.output[0], "Mul")
    if follow is not None and r.other_input(follow[1], node.output[0]) == node.input[0]:
        r.done.add(follow[0])
        _activation(r, node, "silu", output=follow[1].output[0])
        return
    _activation(r, node, "sigmoid")


def _gelu_op(r: _Reader, i: int, node: Any) -> None:
    if r.attrs(node).get("approximate", "none") != "none":
        raise r.fail(node, "is the tanh approximation; nndesk's GELU is the exact form")
    _activation(r, node, "gelu")


def _gelu_chain(r: _Reader, node: Any) -> list[int] | None:
    """Indices of Erf, Add, Mul, Mul after ``node`` (a Div by sqrt 2), if they form
    0.5 * x * (1 + erf(x / sqrt 2))."""
    x = node.input[0]
    if not _is_scalar(r.const(node.input[1]), math.sqrt(2.0)):
        return None
    erf = r.follow(node.output[0], "Erf")
    add = erf and r.follow(erf[1].output[0], "Add")
    if not add or not _is_scalar(
        r.const(r.other_input(add[1], erf[1].output[0]) or ""), 1.0
    ):
        return None
    mul = r.follow(add[1].output[0], "Mul")
    if not mul or r.other_input(mul[1], add[1].output[0]) != x:
        return None
    half = r.follow(mul[1].output[0], "Mul")
    if not half or not _is_scalar(
        r.const(r.other_input(half[1], mul[1].output[0]) or ""), 0.5
    ):
        return None
    return [erf[0], add[0], mul[0], half[0]]


def _div(r: _Reader, i: int, node: Any) -> None:
    chain = _gelu_chain(r, node)
    if chain is None:
        _unsupported(r, i, node)
        return
    r.done.update(chain)
    _activation(r, node, "gelu", output=r.nodes[chain[-1]].output[0])


def _sub(r: _Reader, i: int, node: Any) -> None:
    """Sub then Div of constants on the raw input: the feature scaling."""
    offset = r.const(node.input[1])
    div = r.follow(node.output[0], "Div")
    scale = r.const(div[1].input[1]) if div else None
    fits = (
        r.tensor.get(node.input[0]) == 0
        and r.preprocessing is None
        and offset is not None
        and scale is not None
        and div is not None
        and div[1].input[0] == node.output[0]
    )
    if not fits:
        _unsupported(r, i, node)
        return
    assert div is not None and offset is not None and scale is not None
    r.done.add(div[0])
    r.tensor[div[1].output[0]] = 0
    r.preprocessing = {"offset": offset, "scale": scale}


def _identity(r: _Reader, i: int, node: Any) -> None:
    group = r.group_of(node)
    if group is not None and group == node.name:
        # An nndesk Activation node set to linear exports as an Identity of its own.
        _activation(r, node, "linear")
        return
    r.tensor[node.output[0]] = r.source_of(node, node.input[0])


def _dropout(r: _Reader, i: int, node: Any) -> None:
    if len(node.output) > 1 and node.output[1] and r.consumers.get(node.output[1]):
        raise r.fail(node, "has its mask read by other nodes")
    if len(node.input) > 2 and node.input[2]:
        mode = r.const(node.input[2])
        if mode is None or bool(mode.reshape(())):
            raise r.fail(node, "runs in training mode")
    ratio = r.const(node.input[1]) if len(node.input) > 1 and node.input[1] else None
    rate = _f32(ratio.reshape(())) if ratio is not None else 0.5
    r.add(node, "Dropout", {"rate": rate}, [r.source_of(node, node.input[0])])


def _batch_norm_piece(r: _Reader, node: Any, src: int, output: str) -> None:
    a = r.attrs(node)
    if a.get("training_mode", 0):
        raise r.fail(node, "runs in training mode")
    names = ("gamma", "beta", "running_mean", "running_var")
    weights = {}
    for key, name in zip(names, node.input[1:5], strict=False):
        value = r.const(name)
        if value is None:
            raise r.fail(node, f"computes its {key} at run time")
        weights[key] = value
    params = {
        "epsilon": _f32(a.get("epsilon", 1e-5)),
        "momentum": _f32(1.0 - _f32(a.get("momentum", 0.9))),
    }
    r.add(node, "BatchNorm", params, [src], weights, output)


def _batch_norm(r: _Reader, i: int, node: Any) -> None:
    rank = _rank(r, node.input[0])
    if rank is not None and rank > 2 and r.layout.get(node.input[0]) != "nchw":
        raise r.fail(
            node,
            "normalises channels-first data; nndesk's BatchNorm "
            "normalises the last axis",
        )
    _batch_norm_piece(r, node, r.source_of(node, node.input[0]), node.output[0])


_WRAPPED = ("BatchNormalization", "Conv", "ConvTranspose", "MaxPool", "AveragePool")


def _transpose(r: _Reader, i: int, node: Any) -> None:
    """Transpose to channels-first, one of ``_WRAPPED``, Transpose back: the form
    nndesk writes its channels-last BatchNorm, convolutions and pools in."""
    perm = list(r.attrs(node).get("perm", []))
    rank = len(perm)
    j = r.sole_consumer(node.output[0])
    inner = r.nodes[j] if j is not None and j not in r.done else None
    back = r.follow(inner.output[0], "Transpose") if inner is not None else None
    first = [0, rank - 1, *range(1, rank - 1)]
    last = [0, *range(2, rank), 1]
    if not (
        inner is not None
        and inner.op_type in _WRAPPED
        and back
        and rank > 2
        and perm == first
        and list(r.attrs(back[1]).get("perm", [])) == last
    ):
        if perm != [1, 0, 2] or not sequences.recurrent(r, node):
            _unsupported(r, i, node)
        return
    assert j is not None
    r.done.update((j, back[0]))
    src = r.source_of(node, node.input[0])
    output = back[1].output[0]
    if inner.op_type == "BatchNormalization":
        _batch_norm_piece(r, inner, src, output)
    elif inner.op_type == "Conv":
        _conv_piece(r, inner, src, output, rank)
    elif inner.op_type == "ConvTranspose":
        _conv_transpose_piece(r, inner, src, output)
    else:
        _pool_piece(r, inner, src, output)


def _square(r: _Reader, node: Any, values: list[int], what: str) -> int:
    if len(set(values)) != 1:
        raise r.fail(node, f"has a {what} of {tuple(values)}; nndesk's are square")
    return int(values[0])


def _padding(r: _Reader, node: Any, a: dict[str, Any], in_shape: Any) -> str:
    """'valid' or 'same' for the node's pads (nndesk's same: extra pad after)."""
    pads = list(a.get("pads", []))
    if a.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID", b"NOTSET", b"VALID"):
        raise r.fail(node, "pads automatically; nndesk reads explicit pads")
    if not any(pads):
        return "valid"
    n = len(pads) // 2
    kernel = list(a["kernel_shape"])
    strides = list(a.get("strides", [1] * n))
    dilations = list(a.get("dilations", [1] * n))
    for axis in range(n):
        size = in_shape[axis] if in_shape else None
        if size is None:
            raise r.fail(node, "pads an input of unknown size")
        out = -(-size // strides[axis])
        span = dilations[axis] * (kernel[axis] - 1) + 1
        total = max((out - 1) * strides[axis] + span - size, 0)
        if [pads[axis], pads[axis + n]] != [total // 2, total - total // 2]:
            raise r.fail(
                node,
                f"pads {tuple(pads)}, which is neither 'valid' nor nndesk's 'same'",
            )
    return "same"


def _spatial(r: _Reader, tensor: str) -> list[int] | None:
    """The spatial sizes of a channels-last nndesk tensor feeding a wrapped node."""
    shape = r.shapes.get(tensor)
    return None if shape is None else list(shape[1:-1])


def _conv_piece(
    r: _Reader,
    node: Any,
    src: int,
    output: str,
    rank: int,
    spatial: list[int] | None = None,
) -> None:
    a = r.attrs(node)
    weight = r.const(node.input[1])
    if weight is None:
        raise r.fail(node, "computes its weights at run time")
    if a.get("group", 1) != 1:
        raise r.fail(node, "is a grouped convolution")
    one_d = rank == 3
    kernel = weight.transpose(2, 1, 0) if one_d else weight.transpose(2, 3, 1, 0)
    n = rank - 2
    size = _square(r, node, list(a["kernel_shape"]), "kernel")
    params = {
        "filters": int(weight.shape[0]),
        "kernel_size": size,
        "strides": _square(r, node, list(a.get("strides", [1] * n)), "stride"),
        "dilation_rate": _square(
            r, node, list(a.get("dilations", [1] * n)), "dilation"
        ),
        "padding": _padding(r, node, a, spatial or _spatial(r, r.nodes_input(node))),
        "activation": "linear",
        "use_bias": len(node.input) > 2 and bool(node.input[2]),
    }
    weights = {"kernel": np.ascontiguousarray(kernel)}
    if params["use_bias"]:
        weights["bias"] = r.const(node.input[2])
    r.add(node, "Conv1D" if one_d else "Conv2D", params, [src], weights, output)


def _transpose_padding(
    r: _Reader, node: Any, a: dict[str, Any], in_shape: list[int] | None
) -> str:
    """'valid' or 'same' for a ConvTranspose's pads and output_padding (nndesk's
    Conv2DTranspose: "same" crops the full output to ``n * stride``, the odd
    pixel after, and pads past the full output with ``output_padding``)."""
    if a.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID", b"NOTSET", b"VALID"):
        raise r.fail(node, "pads automatically; nndesk reads explicit pads")
    if a.get("output_shape"):
        raise r.fail(node, "sets its output shape; nndesk reads pads")
    pads = list(a.get("pads", [0, 0, 0, 0]))
    extra = list(a.get("output_padding", [0, 0]))
    if not any(pads) and not any(extra):
        return "valid"
    if not in_shape or None in in_shape:
        raise r.fail(node, "pads an input of unknown size")
    kernel = list(a["kernel_shape"])
    strides = list(a.get("strides", [1, 1]))
    dilations = list(a.get("dilations", [1, 1]))
    for axis in range(2):
        n, s = in_shape[axis], strides[axis]
        span = dilations[axis] * (kernel[axis] - 1) + 1
        whole = (n - 1) * s + span
        crop = max(span - s, 0) // 2
        after = max(whole - crop - n * s, 0)
        if [pads[axis], pads[axis + 2], extra[axis]] != [
            crop,
            after,
            max(crop + n * s - whole, 0),
        ]:
            raise r.fail(
                node,
                f"pads {tuple(pads)} with output_padding {tuple(extra)}, which is "
                "neither 'valid' nor nndesk's 'same'",
            )
    return "same"


def _conv_transpose_piece(
    r: _Reader, node: Any, src: int, output: str, spatial: list[int] | None = None
) -> None:
    a = r.attrs(node)
    weight = r.const(node.input[1])
    if weight is None:
        raise r.fail(node, "computes its weights at run time")
    if a.get("group", 1) != 1 or weight.ndim != 4:
        raise r.fail(node, "is a grouped or not 2-D transposed convolution")
    params = {
        "filters": int(weight.shape[1]),
        "kernel_size": _square(r, node, list(a["kernel_shape"]), "kernel"),
        "strides": _square(r, node, list(a.get("strides", [1, 1])), "stride"),
        "dilation_rate": _square(r, node, list(a.get("dilations", [1, 1])), "dilation"),
        "padding": _transpose_padding(
            r, node, a, spatial or _spatial(r, r.nodes_input(node))
        ),
        "activation": "linear",
        "use_bias": len(node.input) > 2 and bool(node.input[2]),
    }
    # ONNX's (in, out, kh, kw) -> nndesk's (kh, kw, in, out)
    weights = {"kernel": np.ascontiguousarray(weight.transpose(2, 3, 0, 1))}
    if params["use_bias"]:
        weights["bias"] = r.const(node.input[2])
    r.add(node, "Conv2DTranspose", params, [src], weights, output)


def _pool_piece(
    r: _Reader, node: Any, src: int, output: str, spatial: list[int] | None = None
) -> None:
    a = r.attrs(node)
    if (
        node.op_type == "AveragePool"
        and a.get("count_include_pad", 0)
        and any(a.get("pads", []))
    ):
        raise r.fail(node, "counts the padding in its means; nndesk's pools do not")
    size = _square(r, node, list(a["kernel_shape"]), "window")
    stride = _square(r, node, list(a.get("strides", [1, 1])), "stride")
    params = {
        "pool_size": size,
        "strides": None if stride == size else stride,
        "padding": _padding(r, node, a, spatial or _spatial(r, r.nodes_input(node))),
    }
    layer = "MaxPool2D" if node.op_type == "MaxPool" else "AvgPool2D"
    r.add(node, layer, params, [src], None, output)


def _nchw_input(r: _Reader, node: Any) -> list[int]:
    """The spatial sizes of a channels-first input (a PyTorch CNN's)."""
    if r.layout.get(node.input[0]) != "nchw":
        raise r.fail(
            node, "reads data that is not an image nndesk can lay out channels-last"
        )
    shape = r.shapes.get(node.input[0])
    return list(shape[2:]) if shape is not None else []


def _conv_nchw(r: _Reader, i: int, node: Any) -> None:
    spatial = _nchw_input(r, node)
    rank = _rank(r, node.input[0]) or 4
    if rank != 4:
        raise r.fail(node, "is a channels-first convolution of another rank than 2-D")
    _conv_piece(r, node, r.source_of(node, node.input[0]), node.output[0], 4, spatial)
    r.layout[node.output[0]] = "nchw"


def _conv_transpose_nchw(r: _Reader, i: int, node: Any) -> None:
    spatial = _nchw_input(r, node)
    src = r.source_of(node, node.input[0])
    _conv_transpose_piece(r, node, src, node.output[0], spatial)
    r.layout[node.output[0]] = "nchw"


def _pool_nchw(r: _Reader, i: int, node: Any) -> None:
    spatial = _nchw_input(r, node)
    _pool_piece(r, node, r.source_of(node, node.input[0]), node.output[0], spatial)
    r.layout[node.output[0]] = "nchw"


def _global_pool_nchw(r: _Reader, i: int, node: Any) -> None:
    _nchw_input(r, node)
    layer = (
        "GlobalAvgPool2D" if node.op_type == "GlobalAveragePool" else "GlobalMaxPool2D"
    )
    r.add(node, layer, {}, [r.source_of(node, node.input[0])])
    r.layout[node.output[0]] = "c11"


def _global_pool(r: _Reader, i: int, node: Any) -> None:
    a = r.attrs(node)
    axes = r.const(node.input[1]) if len(node.input) > 1 else a.get("axes")
    if (
        axes is None
        or sorted(int(v) for v in np.ravel(axes)) != [1, 2]
        or a.get("keepdims", 1)
    ):
        _unsupported(r, i, node)
        return
    layer = "GlobalAvgPool2D" if node.op_type == "ReduceMean" else "GlobalMaxPool2D"
    r.add(node, layer, {}, [r.source_of(node, node.input[0])])


def _resize(r: _Reader, i: int, node: Any) -> None:
    a = r.attrs(node)
    scales = r.const(node.input[2]) if len(node.input) > 2 else None
    mode = a.get("mode", b"nearest")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if scales is None or mode != "nearest" or len(scales) != 4:
        _unsupported(r, i, node)
        return
    sh, sw = float(scales[1]), float(scales[2])
    if scales[0] != 1 or scales[3] != 1 or sh != int(sh) or sw != int(sw):
        raise r.fail(node, "scales other than whole factors of height and width")
    size = int(sh) if sh == sw else [int(sh), int(sw)]
    r.add(node, "UpSampling2D", {"size": size}, [r.source_of(node, node.input[0])])


def _flatten(r: _Reader, i: int, node: Any) -> None:
    if r.attrs(node).get("axis", 1) != 1:
        raise r.fail(node, "keeps more than the batch axis apart")
    r.add(node, "Flatten", {}, [r.source_of(node, node.input[0])])
    tag = r.layout.get(node.input[0])
    shape = r.shapes.get(node.input[0])
    if tag == "nchw":
        if shape is None or None in shape[1:]:
            raise r.fail(node, "flattens channels-first images of unknown size")
        r.layout[node.output[0]] = ("chw", tuple(shape[1:]))


def _reshape(r: _Reader, i: int, node: Any) -> None:
    if r.layout.get(node.input[0]) is not None:
        raise r.fail(
            node,
            "reshapes channels-first images, whose order nndesk's "
            "channels-last layers do not keep",
        )
    shape = r.const(node.input[1])
    if shape is None:
        raise r.fail(node, "computes its target shape at run time")
    dims = [int(d) for d in shape.reshape(-1)]
    if r.attrs(node).get("allowzero", 0) or not dims or dims[0] not in (0, -1):
        raise r.fail(
            node, f"reshapes to {tuple(dims)}, which does not keep the batch axis first"
        )
    target = dims[1:]
    if dims[0] == -1 and -1 in target:
        raise r.fail(node, "has two -1 dimensions")
    if any(d == 0 for d in target):
        raise r.fail(node, "copies a dimension other than the batch (0)")
    r.add(
        node,
        "Reshape",
        {"target_shape": tuple(target)},
        [r.source_of(node, node.input[0])],
    )


def _add(r: _Reader, i: int, node: Any) -> None:
    if any(name in r.consts for name in node.input):
        # Adding a constant table is a PositionalEmbedding; any other constant is
        # no nndesk layer of its own.
        if not sequences.positional(r, node):
            _unsupported(r, i, node)
        return
    r.add(node, "Add", {}, [r.source_of(node, name) for name in node.input])


def _concat(r: _Reader, i: int, node: Any) -> None:
    axis = int(r.attrs(node).get("axis", 1))
    rank = _rank(r, node.input[0])
    if axis == 0 or (rank is not None and axis == -rank):
        raise r.fail(node, "joins along the batch axis")
    if r.layout.get(node.input[0]) == "nchw":
        axis = {1: 3, 2: 1, 3: 2}[axis % 4]  # channels-first axis -> channels-last
        r.layout[node.output[0]] = "nchw"
    r.add(
        node,
        "Concatenate",
        {"axis": axis - 1 if axis > 0 else axis},
        [r.source_of(node, name) for name in node.input],
    )


def _cast(r: _Reader, i: int, node: Any) -> None:
    if not sequences.embedding(r, node):
        _unsupported(r, i, node)


def _constant(r: _Reader, i: int, node: Any) -> None:
    a = r.attrs(node)
    if "value" in a:
        value = r.onnx.numpy_helper.to_array(a["value"])
    elif "value_float" in a or "value_int" in a:
        value = np.asarray(a.get("value_float", a.get("value_int")))
    elif "value_floats" in a or "value_ints" in a:
        value = np.asarray(a.get("value_floats", a.get("value_ints")))
    else:
        raise r.fail(node, "holds a kind of constant nndesk does not read")
    r.consts[node.output[0]] = value


def _unsupported(r: _Reader, i: int, node: Any) -> None:
    r.unsupported.append(f"'{node.name or '(unnamed)'}' ({node.op_type})")
    r.blocked.update(node.output)


def _rank(r: _Reader, tensor: str) -> int | None:
    return r.ranks.get(tensor)


OP_IMPORTERS: dict[str, Importer] = {
    "Gemm": _gemm,
    "MatMul": _matmul,
    **{op: _simple_activation for op in _OP_ACTIVATIONS if op != "Sigmoid"},
    "Sigmoid": _sigmoid,
    "Gelu": _gelu_op,
    "Div": _div,
    "Sub": _sub,
    "Identity": _identity,
    "Dropout": _dropout,
    "BatchNormalization": _batch_norm,
    "Transpose": _transpose,
    "Conv": _conv_nchw,
    "ConvTranspose": _conv_transpose_nchw,
    "MaxPool": _pool_nchw,
    "AveragePool": _pool_nchw,
    "GlobalAveragePool": _global_pool_nchw,
    "GlobalMaxPool": _global_pool_nchw,
    "ReduceMean": _global_pool,
    "ReduceMax": _global_pool,
    "Resize": _resize,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Add": _add,
    "Sum": _add,
    "Concat": _concat,
    "Cast": _cast,
    "LayerNormalization": sequences.layer_norm,
}
"""ONNX ``op_type`` -> the function reading that node (and the pattern it starts)."""


# --- the whole model ---------------------------------------------------------------------


def import_onnx(path: str | Path) -> Project:
    """Read an ONNX file as an nndesk network (document, weights, scaling).

    Parameters
    ----------
    path : str or Path
        An ``.onnx`` file with one float input ``(batch, *shape)`` and one output.

    Returns
    -------
    Project
        Untrained history; weights keyed ``"<node_id>/<param>"`` (float32).

    Raises
    ------
    ModelImportError
        For a file that is not an ONNX model, an operator nndesk has no layer for
        (all of them, by name and type, in one message) or a node whose form
        nndesk cannot hold (naming it and the reason).
    MissingDependencyError
        When the onnx package is not installed.
    """
    onnx = require_onnx("ONNX import")
    path = Path(path)
    name = path.name
    try:
        size = os.stat(path).st_size
        if size > MAX_MODEL_SIZE:
            raise ModelImportError(
                f"Cannot import {name}: it holds {size / 2**30:.1f} GiB, more than "
                "the 2 GiB an ONNX file can hold."
            )
        data = path.read_bytes()
    except OSError as exc:
        raise ModelImportError(f"Cannot import {name}: {exc.strerror or exc}.") from exc
    try:
        proto = onnx.load_model_from_string(data)
    except Exception as exc:  # protobuf's DecodeError and friends
        raise ModelImportError(
            f"Cannot import {name}: it is not an ONNX model ({type(exc).__name__})."
        ) from exc
    return onnx_to_project(proto, name)


def onnx_to_project(proto: Any, source: str = "the model") -> Project:
    """The nndesk network of an ONNX ``ModelProto`` (see ``import_onnx``)."""
    onnx = require_onnx("ONNX import")
    graph = proto.graph
    _check_header(proto, source)
    meta = {p.key: p.value for p in proto.metadata_props}
    nndesk_made = proto.producer_name == PRODUCER and META_DOCUMENT in meta
    reader = _Reader(onnx, graph, source, nndesk_made, _shapes(onnx, proto))
    input_name, input_shape = _graph_input(reader, graph)
    if (
        not nndesk_made
        and len(input_shape) == 3
        and any(
            n.op_type in ("Conv", "ConvTranspose", "MaxPool", "AveragePool")
            for n in graph.node
        )
    ):
        # A channels-first image (PyTorch): nndesk holds it channels-last.
        c, h, w = input_shape
        input_shape = (h, w, c)
        reader.layout[input_name] = "nchw"
    reader.pieces.append(
        Piece(
            "Input",
            {"shape": input_shape},
            [],
            input_name,
            input_name if nndesk_made else None,
        )
    )
    reader.tensor[input_name] = 0
    for i, node in enumerate(reader.nodes):  # constants first: patterns look ahead
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            reader.done.add(i)
            _constant(reader, i, node)
    sequences.mark_zero_states(reader)
    for i, node in enumerate(reader.nodes):
        if i in reader.done:
            continue
        reader.done.add(i)
        importer = (
            OP_IMPORTERS.get(node.op_type) if node.domain in ("", "ai.onnx") else None
        )
        if importer is None:
            _unsupported(reader, i, node)
        elif any(t in reader.blocked for t in node.input):
            reader.blocked.update(node.output)  # downstream of an unsupported node
        else:
            importer(reader, i, node)
            _carry_layout(reader, node)
    if reader.unsupported:
        n = len(reader.unsupported)
        raise ModelImportError(
            f"Cannot import {source}: nndesk has no layer for {n} ONNX node"
            f"{'s' if n > 1 else ''}: {', '.join(reader.unsupported)}."
        )
    (output,) = [o.name for o in graph.output]
    if reader.layout.get(output) in ("nchw", "c11"):
        raise ModelImportError(
            f"Cannot import {source}: its output '{output}' is a channels-first "
            "image, which nndesk would give channels-last."
        )
    if output not in reader.tensor:
        raise ModelImportError(
            f"Cannot import {source}: the output '{output}' is not computed by any "
            "node nndesk reads."
        )
    pieces, where = _fuse_activations(reader.pieces, reader.nndesk_made)
    saved = _saved_document(meta, source) if nndesk_made else None
    prediction = where[reader.tensor[output]]
    doc, ids = _document(pieces, prediction, saved, source)
    weights = _weights(pieces, ids)
    _check(doc, weights, pieces, ids, source)
    preprocessing = _preprocessing(reader, meta, input_shape, source)
    return Project(document=doc, weights=weights, preprocessing=preprocessing)


_ELEMENTWISE = frozenset(
    {
        *_OP_ACTIVATIONS,
        "Gelu",
        "Dropout",
        "Identity",
        "BatchNormalization",
        "Add",
        "Sum",
        "Div",
        "Sub",
    }
)


def _carry_layout(r: _Reader, node: Any) -> None:
    """An element-wise node's output is laid out as its data input."""
    if node.op_type not in _ELEMENTWISE or not node.input:
        return
    tag = r.layout.get(node.input[0])
    if tag is not None and node.op_type == "Softmax" and tag != "c11":
        raise r.fail(
            node,
            "normalises channels-first images over an axis nndesk lays out differently",
        )
    if tag is not None:
        r.layout.setdefault(node.output[0], tag)


def _check_header(proto: Any, source: str) -> None:
    opsets = {o.domain: o.version for o in proto.opset_import}
    version = opsets.get("", opsets.get("ai.onnx"))
    if version is None or version < MIN_OPSET:
        raise ModelImportError(
            f"Cannot import {source}: it uses ONNX opset {version}; nndesk reads "
            f"opset {MIN_OPSET} and newer (convert it with onnx.version_converter)."
        )
    for t in proto.graph.initializer:
        if t.data_location == 1:  # EXTERNAL
            raise ModelImportError(
                f"Cannot import {source}: the weight '{t.name}' is stored in a "
                "separate file; save the model with its weights inside."
            )


def _shapes(onnx: Any, proto: Any) -> dict[str, tuple[int | None, ...]]:
    """The shape of every tensor shape inference can tell (None: unknown size)."""
    try:
        inferred = onnx.shape_inference.infer_shapes(proto)
    except Exception:  # inference is a help, not a requirement
        return {}
    shapes = {}
    g = inferred.graph
    for vi in (*g.input, *g.value_info, *g.output):
        t = vi.type.tensor_type
        if t.HasField("shape"):
            shapes[vi.name] = tuple(
                d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim
            )
    return shapes


def _graph_input(r: _Reader, graph: Any) -> tuple[str, tuple[int, ...]]:
    inputs = [i for i in graph.input if i.name not in r.consts]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise ModelImportError(
            f"Cannot import {r.source}: it has {len(inputs)} inputs and "
            f"{len(graph.output)} outputs; nndesk networks have one of each."
        )
    (inp,) = inputs
    t = inp.type.tensor_type
    dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
    if t.elem_type not in (1, 11) or len(dims) < 2 or any(d is None for d in dims[1:]):
        raise ModelImportError(
            f"Cannot import {r.source}: its input '{inp.name}' is not a float tensor "
            "(batch, ...) with known sizes after the batch axis."
        )
    return inp.name, tuple(int(d) for d in dims[1:])  # type: ignore[arg-type]


def _fuse_activations(
    pieces: list[Piece], nndesk_made: bool
) -> tuple[list[Piece], dict[int, int]]:
    """Merge a linear Dense and the activation right after it into one Dense when
    both came from one nndesk node (their ONNX names share its id).

    Returns the pieces left and where each old piece index went.
    """
    readers: dict[int, list[int]] = {}
    for k, p in enumerate(pieces):
        for src in p.inputs:
            readers.setdefault(src, []).append(k)
    joins: dict[int, int] = {}  # activation piece -> the Dense it joins
    for k, p in enumerate(pieces):
        if not nndesk_made or p.layer_type != "Activation" or len(p.inputs) != 1:
            continue
        (src,) = p.inputs
        dense = pieces[src]
        if (
            dense.layer_type in ("Dense", "Conv2D", "Conv1D", "Conv2DTranspose")
            and dense.group == p.group
            and dense.params["activation"] == "linear"
            and readers[src] == [k]
        ):
            dense.params["activation"] = p.params["activation"]
            if "alpha" in p.params:
                dense.params["alpha"] = p.params["alpha"]
            joins[k] = src
    kept = [k for k in range(len(pieces)) if k not in joins]
    where = {k: i for i, k in enumerate(kept)}
    for k, src in joins.items():
        where[k] = where[src]
    out = []
    for k in kept:
        p = pieces[k]
        p.inputs = [where[s] for s in p.inputs]
        out.append(p)
    return out, where


def _saved_document(meta: Mapping[str, str], source: str) -> dict[str, Any] | None:
    try:
        data = json.loads(meta[META_DOCUMENT])
    except (ValueError, KeyError):
        log.warning("%s: the nndesk document in its metadata is not JSON", source)
        return None
    return data if isinstance(data, dict) else None


def _doc_type(piece: Piece) -> tuple[str, dict[str, Any]]:
    """The palette node type and params of a piece (ReLU, not Activation(relu))."""
    if piece.layer_type != "Activation":
        return piece.layer_type, dict(piece.params)
    act = piece.params["activation"]
    for spec in REGISTRY.values():
        if spec.layer_type == "Activation" and spec.fixed.get("activation") == act:
            params = {k: v for k, v in piece.params.items() if k != "activation"}
            return spec.type_name, params
    return "Activation", dict(piece.params)


def _saved_node(
    saved: Mapping[str, Any] | None, node_id: str | None, layer_type: str
) -> dict[str, Any] | None:
    """The saved record of node ``node_id`` if it builds a ``layer_type`` layer."""
    if saved is None or node_id is None:
        return None
    for record in saved.get("nodes", ()):
        if not isinstance(record, dict) or record.get("id") != node_id:
            continue
        try:
            spec = get_spec(str(record.get("type_name")))
        except NNDeskError:
            return None
        return record if spec.layer_type == layer_type else None
    return None


def _node_args(
    piece: Piece, record: Mapping[str, Any] | None
) -> tuple[str, dict[str, Any]]:
    """Type and params: the saved node's, with every value the ONNX graph holds
    taken from the graph (a saved ReLU node stays a ReLU node, not an Activation)."""
    type_name, params = _doc_type(piece)
    if record is None:
        return type_name, params
    spec = get_spec(str(record["type_name"]))
    fixed = spec.fixed.get("activation")
    if fixed is not None and fixed != piece.params.get("activation"):
        return type_name, params
    merged = {
        k: v for k, v in dict(record.get("params") or {}).items() if spec.has_param(k)
    }
    for key, value in piece.params.items():
        if not spec.has_param(key):
            continue
        saved = merged.get(key)
        # ONNX holds floats in float32 (BatchNorm's momentum as 1 - momentum):
        # keep the saved value the graph's was rounded from.
        if not (
            isinstance(value, float)
            and isinstance(saved, (int, float))
            and math.isclose(saved, value, rel_tol=1e-5, abs_tol=1e-7)
        ) and not (key == "alpha" and saved is None and _default_alpha(piece, value)):
            merged[key] = value
    return spec.type_name, merged


def _default_alpha(piece: Piece, value: float) -> bool:
    """Whether ``value`` is the default alpha of the piece's activation (a saved
    node that left alpha empty keeps it empty)."""
    default = get_activation(str(piece.params.get("activation"))).default_alpha
    return default is not None and math.isclose(default, value, rel_tol=1e-6)


def _layout(pieces: list[Piece]) -> list[tuple[float, float]]:
    """Left to right by depth from the input; parallel branches stacked."""
    depth = [0] * len(pieces)
    for k, p in enumerate(pieces):
        depth[k] = max((depth[s] + 1 for s in p.inputs), default=0)
    rows: dict[int, int] = {}
    count = {d: depth.count(d) for d in set(depth)}
    pos = []
    for k in range(len(pieces)):
        d = depth[k]
        row = rows.get(d, 0)
        rows[d] = row + 1
        pos.append((d * STEP_X, (row - (count[d] - 1) / 2) * STEP_Y))
    return pos


def _guess_loss(piece: Piece) -> str:
    act = piece.params.get("activation")
    if act == "softmax":
        return "sparse_categorical_crossentropy"
    if act == "sigmoid":
        return "binary_crossentropy"
    return "mse"


def _document(
    pieces: list[Piece], prediction: int, saved: Mapping[str, Any] | None, source: str
) -> tuple[Document, list[str]]:
    """The document of the pieces (plus an Output node) and each piece's node id."""
    settings = saved.get("settings") if saved else None
    try:
        doc = Document(settings if isinstance(settings, dict) else None)
    except NNDeskError as exc:
        raise ModelImportError(
            f"Cannot import {source}: its nndesk settings are invalid ({exc})"
        ) from exc
    layout = _layout(pieces)
    ids: list[str] = []
    for k, piece in enumerate(pieces):
        record = _saved_node(saved, piece.group, piece.layer_type)
        type_name, params = _node_args(piece, record)
        pos = tuple(record["pos"]) if record and record.get("pos") else layout[k]
        label = record.get("label") if record else piece.onnx_name or None
        node_id = piece.group if record is not None else None
        try:
            ids.append(doc.add_node(type_name, params, pos, _label(label), node_id))
        except NNDeskError as exc:
            raise ModelImportError(
                f"Cannot import {source}: ONNX node '{piece.onnx_name}' gives a "
                f"{type_name} layer nndesk refuses ({exc})"
            ) from exc
        for src in piece.inputs:
            try:
                doc.connect(ids[src], "out", ids[k], "in")
            except NNDeskError as exc:
                raise ModelImportError(
                    f"Cannot import {source}: ONNX node '{piece.onnx_name}' cannot "
                    f"be connected as drawn ({exc})"
                ) from exc
    _add_output(doc, pieces[prediction], ids[prediction], saved, len(pieces))
    return doc, ids


def _label(label: Any) -> str | None:
    if not isinstance(label, str) or not label.strip():
        return None
    return label.strip()[:80]


def _add_output(
    doc: Document, piece: Piece, pred_id: str, saved: Mapping[str, Any] | None, n: int
) -> None:
    record = None
    for r in (saved or {}).get("nodes", ()):
        if isinstance(r, dict) and r.get("type_name") == "Output":
            record = r
    params = (
        dict(record.get("params") or {}) if record else {"loss": _guess_loss(piece)}
    )
    pos = (
        tuple(record["pos"])
        if record and record.get("pos")
        else (doc.node(pred_id).pos[0] + STEP_X, doc.node(pred_id).pos[1])
    )
    node_id = record.get("id") if record else None
    try:
        out = doc.add_node(
            "Output",
            params,
            pos,
            _label(record.get("label") if record else None),
            node_id if isinstance(node_id, str) and node_id not in doc else None,
        )
    except (NNDeskError, DocumentError):
        out = doc.add_node("Output", {"loss": _guess_loss(piece)}, pos)
    doc.connect(pred_id, "out", out, "in")


def _weights(pieces: list[Piece], ids: list[str]) -> dict[str, np.ndarray]:
    weights = {}
    for piece, node_id in zip(pieces, ids, strict=True):
        for key, value in piece.weights.items():
            weights[f"{node_id}/{key}"] = np.ascontiguousarray(value, dtype=np.float32)
    return weights


def _check(
    doc: Document,
    weights: Mapping[str, np.ndarray],
    pieces: list[Piece],
    ids: list[str],
    source: str,
) -> None:
    """Refuse a graph whose shapes do not fit nndesk's layers, naming the node."""
    onnx_name = dict(zip(ids, (p.onnx_name for p in pieces), strict=True))
    report = infer_shapes(doc)
    for node_id, message in report.errors:
        if node_id is not None and node_id in onnx_name:
            raise ModelImportError(
                f"Cannot import {source}: ONNX node '{onnx_name[node_id]}' does not "
                f"fit as an nndesk layer: {message}"
            )
    expected = expected_weight_shapes(doc)
    for key, value in weights.items():
        if expected.get(key) != value.shape:
            node_id = key.split("/")[0]
            raise ModelImportError(
                f"Cannot import {source}: ONNX node '{onnx_name[node_id]}' has a "
                f"{key.split('/')[1]} of shape {value.shape} where nndesk expects "
                f"{expected.get(key)}."
            )
    if not all(np.isfinite(w).all() for w in weights.values()):
        raise ModelImportError(
            f"Cannot import {source}: its weights hold NaN or infinity."
        )


def _preprocessing(
    r: _Reader, meta: Mapping[str, str], shape: tuple[int, ...], source: str
) -> dict[str, Any] | None:
    """The scaler of the Sub/Div at the input; the exact statistics when the
    metadata holds a scaler that agrees with them (in float32)."""
    found = r.preprocessing
    if found is None:
        return None
    offset = np.asarray(found["offset"], dtype=np.float64)
    scale = np.asarray(found["scale"], dtype=np.float64)
    if META_PREPROCESSING in meta:
        try:
            saved = json.loads(meta[META_PREPROCESSING])
            same = all(
                np.array_equal(
                    np.asarray(saved[key], dtype=np.float32).reshape(-1),
                    found[key].astype(np.float32).reshape(-1),
                )
                for key in ("offset", "scale")
            )
            if same:
                return dict(saved)
        except (ValueError, KeyError, TypeError):
            log.warning("%s: the nndesk scaling in its metadata is unreadable", source)
    if offset.size == 1 and scale.size == 1:
        offset, scale, axis = offset.reshape(()), scale.reshape(()), "global"
    else:
        try:
            offset = np.broadcast_to(offset, shape).copy()
            scale = np.broadcast_to(scale, shape).copy()
        except ValueError:
            raise ModelImportError(
                f"Cannot import {source}: the input scaling has statistics of shape "
                f"{offset.shape}, which do not fit the input {shape}."
            ) from None
        axis = "feature"
    if not (
        np.isfinite(scale).all() and (scale > 0).all() and np.isfinite(offset).all()
    ):
        raise ModelImportError(
            f"Cannot import {source}: the input scaling divides by a value that is not "
            "positive and finite."
        )
    return {
        "method": "standard",
        "axis": axis,
        "input_shape": list(shape),
        "offset": offset.tolist(),
        "scale": scale.tolist(),
    }
