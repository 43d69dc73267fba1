"""ONNX export: an engine model (layers named by node id) as an ONNX graph, opset 17.

One function per engine layer type (``LAYER_EXPORTERS``) writes the ONNX nodes of
one layer; each takes the layer, the names of its input tensors and the name its
output tensor must have (the node id), so a new layer type is one more function.
The graph keeps nndesk's names: the graph input is the Input node's id, every
layer's output tensor is its node id, the ONNX nodes of a layer are named after
it (``dense_1`` for the Gemm, ``dense_1/relu`` for its activation) and weights are
initializers named by their weight keys (``dense_1/kernel``). The batch dimension
is symbolic (``batch``).

Arrays are channels-last in nndesk and channels-first in ONNX's BatchNormalization
(and convolutions), so such layers on (batch, ..., channels) tensors are wrapped in
two Transposes (to channels-first and back) and the weights keep nndesk's layout.

The feature scaling stored with a network (``Scaler``) becomes a Sub and a Div at
the input, so the ONNX model takes raw features exactly like ``nndesk predict``.
What ONNX cannot hold (settings, canvas positions, the Output node's loss, the
scaler's exact statistics, initializer choices) goes into the model's
``metadata_props`` under ``nndesk.*`` keys, which ``onnx_import`` reads back.
"""

from __future__ import annotations

import importlib
import json
import logging
import math
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..._version import __version__
from ...document.view import GraphView
from ...engine.activations import get_activation
from ...engine.layers import Layer
from ._files import write_file_atomically
from ._onnx import IR_VERSION, OPSET, PRODUCER, require_onnx
from .errors import ExportError

__all__ = [
    "ACTIVATION_OPS",
    "LAYER_EXPORTERS",
    "META_DOCUMENT",
    "META_PREPROCESSING",
    "SCALING_PREFIX",
    "export_onnx",
    "model_to_onnx",
]

log = logging.getLogger(__name__)

META_DOCUMENT = "nndesk.document"
"""Metadata key: the network document as JSON (settings, nodes, positions)."""

META_PREPROCESSING = "nndesk.preprocessing"
"""Metadata key: the feature scaling (``Scaler.to_dict()``) as JSON."""

SCALING_PREFIX = "nndesk_scaling"
"""Name stem of the Sub/Div nodes and constants of the input scaling."""

BATCH = "batch"

MAX_ONNX_WEIGHTS = (2 << 30) - (64 << 20)
"""Largest weights exported: protobuf, and so an ONNX file, holds at most 2 GiB
(64 MiB is left for the graph and the metadata)."""


class OnnxGraph:
    """The ONNX nodes, initializers and value infos written so far."""

    def __init__(self, onnx: Any) -> None:
        self.onnx = onnx
        self.helper = onnx.helper
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._names: set[str] = set()

    def op(
        self,
        op_type: str,
        inputs: Sequence[str],
        output: str,
        name: str,
        **attrs: Any,
    ) -> str:
        """Append one node with one output; returns the output's name."""
        self.nodes.append(
            self.helper.make_node(op_type, list(inputs), [output], name=name, **attrs)
        )
        return output

    def const(self, name: str, value: np.ndarray) -> str:
        """Add an initializer (kept bit for bit); returns its name."""
        if name in self._names:
            raise ExportError(f"Cannot export: two ONNX constants are named '{name}'.")
        self._names.add(name)
        array = np.array(value, order="C")  # ascontiguousarray would make 0-d 1-d
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name


Exporter = Callable[[OnnxGraph, Layer, list[str], str], None]


# --- activations ----------------------------------------------------------------------


def _float(g: OnnxGraph, name: str, value: float, dtype: np.dtype) -> str:
    return g.const(name, np.asarray(value, dtype=dtype))


def _gelu(g: OnnxGraph, x: str, out: str, name: str, dtype: np.dtype) -> None:
    # Opset 17 has no Gelu: 0.5 * x * (1 + erf(x / sqrt(2))), PyTorch's exact form
    # and the pattern its exporter writes, so the importer reads both alike.
    t = g.op(
        "Div",
        [x, _float(g, f"{name}/sqrt2", math.sqrt(2.0), dtype)],
        f"{name}/scaled",
        f"{name}/div",
    )
    t = g.op("Erf", [t], f"{name}/erf_out", f"{name}/erf")
    t = g.op(
        "Add",
        [t, _float(g, f"{name}/one", 1.0, dtype)],
        f"{name}/one_plus",
        f"{name}/add",
    )
    t = g.op("Mul", [x, t], f"{name}/x_times", f"{name}/mul")
    g.op("Mul", [t, _float(g, f"{name}/half", 0.5, dtype)], out, f"{name}/half_mul")


def _silu(g: OnnxGraph, x: str, out: str, name: str, dtype: np.dtype) -> None:
    sig = g.op("Sigmoid", [x], f"{name}/sigmoid_out", f"{name}/sigmoid")
    g.op("Mul", [x, sig], out, f"{name}/mul")


ACTIVATION_OPS: Mapping[str, str] = {
    "relu": "Relu",
    "leaky_relu": "LeakyRelu",
    "elu": "Elu",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "softplus": "Softplus",
    "softmax": "Softmax",
}
"""Activations that are one ONNX operator (gelu and silu are composed)."""


def _activation(
    g: OnnxGraph,
    activation: str,
    alpha: float | None,
    x: str,
    out: str,
    name: str,
    dtype: np.dtype,
) -> None:
    """The ONNX nodes of ``activation`` from tensor ``x`` to tensor ``out``."""
    if activation == "linear":
        g.op("Identity", [x], out, name)
    elif activation == "gelu":
        _gelu(g, x, out, name, dtype)
    elif activation == "silu":
        _silu(g, x, out, name, dtype)
    elif activation in ("leaky_relu", "elu"):
        g.op(ACTIVATION_OPS[activation], [x], out, name, alpha=float(alpha or 0.0))
    elif activation == "softmax":
        g.op("Softmax", [x], out, name, axis=-1)
    elif activation in ACTIVATION_OPS:
        g.op(ACTIVATION_OPS[activation], [x], out, name)
    else:
        raise ExportError(
            f"Cannot export node '{name.split('/')[0]}' to ONNX: the {activation} "
            "activation has no ONNX form in nndesk yet."
        )


def _alpha(layer: Any) -> float | None:
    """The alpha the layer's activation uses (its default when none was given)."""
    return get_activation(layer.activation, layer.alpha).alpha


# --- one function per layer type -------------------------------------------------------


def _dense(g: OnnxGraph, layer: Any, inputs: list[str], out: str) -> None:
    name = layer.name
    act = layer.activation
    linear_out = out if act == "linear" else f"{name}/linear"
    kernel = g.const(f"{name}/kernel", layer.params["kernel"])
    sequence = len(layer.input_shapes[0]) > 1  # (time, features): Gemm is 2-D only
    if layer.use_bias and not sequence:
        bias = g.const(f"{name}/bias", layer.params["bias"])
        g.op("Gemm", [inputs[0], kernel, bias], linear_out, name)
    elif layer.use_bias:
        bias = g.const(f"{name}/bias", layer.params["bias"])
        product = g.op("MatMul", [inputs[0], kernel], f"{name}/product", name)
        g.op("Add", [product, bias], linear_out, f"{name}/bias_add")
    else:
        g.op("MatMul", [inputs[0], kernel], linear_out, name)
    if act != "linear":
        _activation(
            g, act, _alpha(layer), linear_out, out, f"{name}/{act}", layer.dtype
        )


def _activation_layer(g: OnnxGraph, layer: Any, inputs: list[str], out: str) -> None:
    _activation(
        g, layer.activation, _alpha(layer), inputs[0], out, layer.name, layer.dtype
    )


def _dropout(g: OnnxGraph, layer: Any, inputs: list[str], out: str) -> None:
    # Inference form: the identity. The ratio is kept so the rate survives import.
    ratio = _float(g, f"{layer.name}/ratio", layer.rate, layer.dtype)
    g.op("Dropout", [inputs[0], ratio], out, layer.name)


def _to_channels_first(
    g: OnnxGraph, x: str, rank: int, name: str
) -> tuple[str, Callable[[str, str], None]]:
    """Transpose a ``(batch, *spatial, channels)`` tensor to channels-first; returns
    the new tensor and a function that writes the transpose back."""
    if rank <= 2:
        return x, lambda y, out: g.op("Identity", [y], out, f"{name}/identity")
    perm = [0, rank - 1, *range(1, rank - 1)]
    back = [0, *range(2, rank), 1]
    t = g.op(
        "Transpose",
        [x],
        f"{name}/channels_first",
        f"{name}/to_channels_first",
        perm=perm,
    )

    def restore(y: str, out: str) -> None:
        g.op("Transpose", [y], out, f"{name}/to_channels_last", perm=back)

    return t, restore


def _batch_norm(g: OnnxGraph, layer: Any, inputs: list[str], out: str) -> None:
    name = layer.name
    rank = len(layer.input_shapes[0]) + 1
    args = [
        g.const(f"{name}/gamma", layer.params["gamma"]),
        g.const(f"{name}/beta", layer.params["beta"]),
        g.const(f"{name}/running_mean", layer.state["running_mean"]),
        g.const(f"{name}/running_var", layer.state["running_var"]),
    ]
    # ONNX's momentum weighs the running value, nndesk's (PyTorch's) the batch.
    attrs = {"epsilon": layer.epsilon, "momentum": 1.0 - layer.momentum}
    if rank <= 2:
        g.op("BatchNormalization", [inputs[0], *args], out, name, **attrs)
        return
    x, restore = _to_channels_first(g, inputs[0], rank, name)
    y = g.op("BatchNormalization", [x, *args], f"{name}/normalized", name, **attrs)
    restore(y, out)


def _flatten(g: OnnxGraph, layer: Any, inputs: list[str], out: str) -> None:
    g.op("Flatten", [inputs[0]], out, layer.name, axis=1)


def _reshape(g: OnnxGraph, layer: Any, inputs: list[str], out: str) -> None:
    # 0 copies the batch dimension (allowzero=0), so the batch stays symbolic.
    shape = np.asarray([0, *layer.target_shape], dtype=np.int64)
    g.op("Reshape", [inputs[0], g.const(f"{layer.name}/shape", shape)], out, layer.name)


def _add(g: OnnxGraph, layer: Any, inputs: list[str], out: str) -> None:
    if len(inputs) == 2:
        g.op("Add", inputs, out, layer.name)
    else:
        g.op("Sum", inputs, out, layer.name)


def _concatenate(g: OnnxGraph, layer: Any, inputs: list[str], out: str) -> None:
    # A per-sample axis: ONNX counts the batch axis too, except from the back.
    axis = layer.axis if layer.axis < 0 else layer.axis + 1
    g.op("Concat", inputs, out, layer.name, axis=axis)


def _channels_first(g: OnnxGraph, x: str, rank: int, name: str) -> str:
    """``(batch, *spatial, c)`` -> ``(batch, c, *spatial)``: ONNX's Conv and pools
    are channels-first, nndesk is channels-last (weights keep nndesk's layout in
    the file and are permuted here, so the math is the same)."""
    perm = [0, rank - 1, *range(1, rank - 1)]
    return g.op(
        "Transpose",
        [x],
        f"{name}/channels_first",
        f"{name}/to_channels_first",
        perm=perm,
    )


def _channels_last(g: OnnxGraph, y: str, rank: int, out: str, name: str) -> str:
    back = [0, *range(2, rank), 1]
    return g.op("Transpose", [y], out, f"{name}/to_channels_last", perm=back)


def _window_attrs(geo: Any) -> dict[str, Any]:
    r, c = geo.rows, geo.cols
    return {
        "kernel_shape": [r.kernel, c.kernel],
        "strides": [r.stride, c.stride],
        "pads": [r.before, c.before, r.after, c.after],
    }


def _conv(g: OnnxGraph, layer: Any, inputs: list[str], out: str) -> None:
    name = layer.name
    one_d = layer.type_name == "Conv1D"
    rank = 3 if one_d else 4
    geo = layer.geometry(layer.input_shapes[0])
    attrs = _window_attrs(geo)
    attrs["dilations"] = [geo.rows.dilation, geo.cols.dilation]
    kernel = layer.params["kernel"]
    if one_d:  # (k, in, out) -> (out, in, k); the height axis of 1 is dropped
        weight = kernel.transpose(2, 1, 0)
        attrs = {k: v[1:] if k != "pads" else [v[1], v[3]] for k, v in attrs.items()}
    else:  # (kh, kw, in, out) -> (out, in, kh, kw)
        weight = kernel.transpose(3, 2, 0, 1)
    args = [
        _channels_first(g, inputs[0], rank, name),
        g.const(f"{name}/kernel", np.ascontiguousarray(weight)),
    ]
    if layer.use_bias:
        args.append(g.const(f"{name}/bias", layer.params["bias"]))
    y = g.op("Conv", args, f"{name}/conv_out", name, **attrs)
    act = layer.activation
    linear_out = out if act == "linear" else f"{name}/linear"
    _channels_last(g, y, rank, linear_out, name)
    if act != "linear":
        _activation(
            g, act, _alpha(layer), linear_out, out, f"{name}/{act}", layer.dtype
        )


def _transpose_attrs(layer: Any) -> dict[str, Any]:
    """ConvTranspose's attributes for nndesk's Conv2DTranspose: the output is the
    full adjoint output ``(n - 1) * stride + span`` cropped at ``crop`` to ``out``
    ("same" crops as Conv2D pads, the extra at the bottom and right); when ``out``
    reaches past the full output ("same" with a stride above the span) the rows
    past it come from ``output_padding`` (bias only, as in the engine)."""
    geo = layer.geometry(layer.input_shapes[0])
    _, crops, outs = layer.output_window(layer.input_shapes[0])
    before, after, extra = [], [], []
    for axis, n, crop, out in zip(
        (geo.rows, geo.cols), layer.input_shapes[0][:2], crops, outs, strict=True
    ):
        whole = (n - 1) * axis.stride + axis.span
        before.append(crop)
        after.append(max(whole - crop - out, 0))
        extra.append(max(crop + out - whole, 0))
    attrs: dict[str, Any] = {
        "kernel_shape": [geo.rows.kernel, geo.cols.kernel],
        "strides": [geo.rows.stride, geo.cols.stride],
        "dilations": [geo.rows.dilation, geo.cols.dilation],
        "pads": before + after,
    }
    if any(extra):
        attrs["output_padding"] = extra
    return attrs


def _conv_transpose(g: OnnxGraph, layer: Any, inputs: list[str], out: str) -> None:
    name = layer.name
    # (kh, kw, in, out) -> ConvTranspose's (in, out, kh, kw)
    weight = layer.params["kernel"].transpose(2, 3, 0, 1)
    args = [
        _channels_first(g, inputs[0], 4, name),
        g.const(f"{name}/kernel", np.ascontiguousarray(weight)),
    ]
    if layer.use_bias:
        args.append(g.const(f"{name}/bias", layer.params["bias"]))
    attrs = _transpose_attrs(layer)
    y = g.op("ConvTranspose", args, f"{name}/conv_out", name, **attrs)
    act = layer.activation
    linear_out = out if act == "linear" else f"{name}/linear"
    _channels_last(g, y, 4, linear_out, name)
    if act != "linear":
        _activation(
            g, act, _alpha(layer), linear_out, out, f"{name}/{act}", layer.dtype
        )


def _pool(op: str, **extra: Any) -> Exporter:
    def export(g: OnnxGraph, layer: Any, inputs: list[str], out: str) -> None:
        name = layer.name
        attrs = _window_attrs(layer.geometry(layer.input_shapes[0]))
        x = _channels_first(g, inputs[0], 4, name)
        y = g.op(op, [x], f"{name}/pooled", name, **attrs, **extra)
        _channels_last(g, y, 4, out, name)

    return export


def _global_pool(op: str) -> Exporter:
    def export(g: OnnxGraph, layer: Any, inputs: list[str], out: str) -> None:
        g.op(op, [inputs[0]], out, layer.name, axes=[1, 2], keepdims=0)

    return export


def _upsampling(g: OnnxGraph, layer: Any, inputs: list[str], out: str) -> None:
    sh, sw = layer.size
    scales = g.const(f"{layer.name}/scales", np.asarray([1, sh, sw, 1], np.float32))
    g.op(
        "Resize",
        [inputs[0], "", scales],
        out,
        layer.name,
        mode="nearest",
        coordinate_transformation_mode="asymmetric",
        nearest_mode="floor",
    )


LAYER_EXPORTERS: dict[str, Exporter] = {
    "Conv2D": _conv,
    "Conv1D": _conv,
    "Conv2DTranspose": _conv_transpose,
    "MaxPool2D": _pool("MaxPool"),
    "AvgPool2D": _pool("AveragePool", count_include_pad=0),
    "GlobalAvgPool2D": _global_pool("ReduceMean"),
    "GlobalMaxPool2D": _global_pool("ReduceMax"),
    "UpSampling2D": _upsampling,
    "Dense": _dense,
    "Activation": _activation_layer,
    "Dropout": _dropout,
    "BatchNorm": _batch_norm,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Add": _add,
    "Concatenate": _concatenate,
}
"""Engine ``type_name`` -> the function writing that layer's ONNX nodes (Input is the
graph input and needs none). A family of layers brings its own in a module
``onnx_layers_<family>.py`` of this package defining ``EXPORTERS`` (merged here),
so it needs no edit of this file."""


def _family_exporters() -> dict[str, Exporter]:
    """The ``EXPORTERS`` of every ``onnx_layers_*`` module of this package (they
    must not import this module: they receive the graph object)."""
    found: dict[str, Exporter] = {}
    package = __name__.rpartition(".")[0]
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)])):
        if info.name.startswith("onnx_layers_"):
            module = importlib.import_module(f"{package}.{info.name}")
            found.update(module.EXPORTERS)
    return found


LAYER_EXPORTERS.update(_family_exporters())


# --- the whole model -------------------------------------------------------------------


def _elem_type(onnx: Any, dtype: np.dtype) -> int:
    return onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def _scaling(
    g: OnnxGraph, x: str, preprocessing: Mapping[str, Any], dtype: np.dtype
) -> str:
    """Sub and Div nodes that scale raw features as ``Scaler.transform`` does."""
    offset = np.asarray(preprocessing["offset"], dtype=np.float64)
    scale = np.asarray(preprocessing["scale"], dtype=np.float64)
    p = SCALING_PREFIX
    t = g.op(
        "Sub",
        [x, g.const(f"{p}/offset", offset.astype(dtype))],
        f"{p}/centered",
        f"{p}/sub",
    )
    return g.op(
        "Div",
        [t, g.const(f"{p}/scale", scale.astype(dtype))],
        f"{p}/scaled",
        f"{p}/div",
    )


def _metadata(
    document: GraphView | None, preprocessing: Mapping[str, Any] | None
) -> dict[str, str]:
    meta = {}
    if document is not None:
        meta[META_DOCUMENT] = json.dumps(document.to_dict(), allow_nan=False)
    if preprocessing:
        meta[META_PREPROCESSING] = json.dumps(dict(preprocessing), allow_nan=False)
    return meta


def model_to_onnx(
    model: Any,
    *,
    preprocessing: Mapping[str, Any] | None = None,
    document: GraphView | None = None,
) -> Any:
    """The ONNX ``ModelProto`` of a built engine model.

    Parameters
    ----------
    model : nndesk.engine.Model
        Built, with one input and one output; its layer names become the ONNX names.
    preprocessing : Mapping, optional
        ``Scaler.to_dict()`` of the network's feature scaling; the ONNX model then
        scales its raw input the same way.
    document : GraphView, optional
        The network document, kept in the metadata for a faithful import.

    Returns
    -------
    onnx.ModelProto
        Opset 17, IR version 8, input ``(batch, *input_shape)`` float32.

    Raises
    ------
    ExportError
        Naming the first node that has no ONNX form.
    MissingDependencyError
        When the onnx package is not installed.
    """
    onnx = require_onnx("ONNX export")
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ExportError(
            "Cannot export to ONNX: nndesk exports networks with one input and one "
            "output."
        )
    for layer in model.layers:
        if layer.type_name != "Input" and layer.type_name not in LAYER_EXPORTERS:
            raise ExportError(
                f"Cannot export node '{layer.name}' to ONNX: {layer.type_name} layers "
                "have no ONNX form in nndesk yet."
            )
    if not model.built:
        model.build()
    size = sum(int(w.nbytes) for w in model.get_weights().values())
    if size > MAX_ONNX_WEIGHTS:
        raise ExportError(
            f"Cannot export to ONNX: the weights take {size / 2**30:.1f} GiB, and an "
            "ONNX file holds at most 2 GiB."
        )
    g = OnnxGraph(onnx)
    dtype = np.dtype(model.dtype)
    elem = _elem_type(onnx, dtype)
    (inp,) = model.inputs
    tensors: dict[str, str] = {inp.name: inp.name}
    if preprocessing:
        tensors[inp.name] = _scaling(g, inp.name, preprocessing, dtype)
    for layer in model.layers:
        if layer.type_name == "Input":
            continue
        ins = [tensors[src.name] for src in layer.inbound]
        LAYER_EXPORTERS[layer.type_name](g, layer, ins, layer.name)
        tensors[layer.name] = layer.name
    (out,) = model.outputs
    h = onnx.helper
    graph = h.make_graph(
        g.nodes,
        "network",
        [h.make_tensor_value_info(inp.name, elem, [BATCH, *model.input_shapes[0]])],
        [h.make_tensor_value_info(out.name, elem, [BATCH, *model.output_shapes[0]])],
        initializer=g.initializers,
    )
    proto = h.make_model(
        graph,
        opset_imports=[h.make_opsetid("", OPSET)],
        producer_name=PRODUCER,
        producer_version=__version__,
    )
    proto.ir_version = IR_VERSION
    h.set_model_props(proto, _metadata(document, preprocessing))
    return proto


def export_onnx(
    model: Any,
    path: str | Path,
    *,
    preprocessing: Mapping[str, Any] | None = None,
    document: GraphView | None = None,
) -> None:
    """Write ``model`` as an ONNX file, atomically (see ``model_to_onnx``).

    The model is checked with ``onnx.checker.check_model(full_check=True)`` before
    a byte is written, so a file that exists is a valid model.

    Raises
    ------
    ExportError
        For a node without an ONNX form, a model the checker refuses, or a file
        that cannot be written (nothing is left behind then).
    """
    proto = model_to_onnx(model, preprocessing=preprocessing, document=document)
    onnx = require_onnx("ONNX export")
    try:
        onnx.checker.check_model(proto, full_check=True)
    except onnx.checker.ValidationError as exc:  # a bug of ours, said plainly
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid"
        raise ExportError(
            f"Cannot export to ONNX: the ONNX checker refuses the model ({first})."
        ) from exc
    target = Path(path)
    write_file_atomically(target, proto.SerializeToString(), target.name)
    log.info("Exported %s (ONNX opset %d)", target, OPSET)
