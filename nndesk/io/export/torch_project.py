"""PyTorch project export: a folder with model.py, weights.npz, train.py and a README.

Written from text templates; nothing here imports PyTorch. ``model.py`` is a
readable ``nn.Module`` with one attribute per canvas node and a ``forward`` that
follows the graph (node ids as variable names, the nodes as comments). Tensors are
channels-last as in nndesk, so no weight changes layout except Dense kernels
(nndesk ``(in, out)``, ``nn.Linear`` ``(out, in)``). ``weights.npz`` keeps nndesk's
keys and layouts (pickle-free); ``model.load_weights`` and ``model.nndesk_weights``
map them both ways. ``train.py`` reads the dataset through nndesk (the same
readers, split and scaling as the app), trains with the settings' loss, optimizer,
schedule, batch size, epochs and early stopping, runs alone or under ``torchrun``
(DistributedDataParallel), and rank 0 writes the result back as a network file.
"""

from __future__ import annotations

import importlib
import io
import logging
import pkgutil
import pprint
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..._version import __version__
from ...document.settings import optimizer_arguments
from ...document.view import GraphView
from ...engine import losses, optimizers
from ...engine.activations import get_activation
from . import templates
from ._files import write_folder_atomically
from .errors import ExportError

__all__ = ["LAYER_WRITERS", "TRAIN_LOSSES", "export_pytorch", "model_source"]

log = logging.getLogger(__name__)

# (attribute expression, forward expression) of one layer; ``{x}`` is the input
# variable (or the tuple of inputs of a merge).
Writer = Callable[[Any, Sequence[str]], tuple[str | None, str]]

_ACT_MODULES = {
    "linear": "nn.Identity()",
    "relu": "nn.ReLU()",
    "sigmoid": "nn.Sigmoid()",
    "tanh": "nn.Tanh()",
    "softplus": "nn.Softplus()",
    "gelu": "nn.GELU()",
    "silu": "nn.SiLU()",
    "softmax": "nn.Softmax(dim=-1)",
}
_ACT_CALLS = {
    "relu": "torch.relu({})",
    "sigmoid": "torch.sigmoid({})",
    "tanh": "torch.tanh({})",
    "softplus": "F.softplus({})",
    "gelu": "F.gelu({})",
    "silu": "F.silu({})",
    "softmax": "torch.softmax({}, dim=-1)",
}


def _alpha(layer: Any) -> float | None:
    return get_activation(layer.activation, layer.alpha).alpha


def _act_module(layer: Any) -> str:
    act = layer.activation
    if act == "leaky_relu":
        return f"nn.LeakyReLU({_alpha(layer)!r})"
    if act == "elu":
        return f"nn.ELU({_alpha(layer)!r})"
    return _ACT_MODULES[act]


def _act_call(layer: Any, x: str) -> str:
    act = layer.activation
    if act == "linear":
        return x
    if act == "leaky_relu":
        return f"F.leaky_relu({x}, {_alpha(layer)!r})"
    if act == "elu":
        return f"F.elu({x}, {_alpha(layer)!r})"
    return _ACT_CALLS[act].format(x)


def _dense(layer: Any, xs: Sequence[str]) -> tuple[str | None, str]:
    n_in = layer.input_shapes[0][-1]  # features: the last axis (also of sequences)
    bias = "" if layer.use_bias else ", bias=False"
    attr = f"nn.Linear({n_in}, {layer.units}{bias})"
    return attr, _act_call(layer, f"self.{layer.name}({xs[0]})")


def _activation(layer: Any, xs: Sequence[str]) -> tuple[str | None, str]:
    return _act_module(layer), f"self.{layer.name}({xs[0]})"


def _simple(make: Callable[[Any], str]) -> Writer:
    def write(layer: Any, xs: Sequence[str]) -> tuple[str | None, str]:
        return make(layer), f"self.{layer.name}({', '.join(xs)})"

    return write


def _conv(layer: Any, xs: Sequence[str]) -> tuple[str | None, str]:
    one_d = layer.type_name == "Conv1D"
    cls = "nn.Conv1d" if one_d else "nn.Conv2d"
    n_in = layer.input_shapes[0][-1]
    g = layer.geometry(layer.input_shapes[0])
    axes = (g.cols,) if one_d else (g.rows, g.cols)
    k = tuple(a.kernel for a in axes)
    st = tuple(a.stride for a in axes)
    d = tuple(a.dilation for a in axes)
    bias = "" if layer.use_bias else ", bias=False"
    inner = f"{cls}({n_in}, {layer.filters}, {k}, stride={st}, dilation={d}{bias})"
    attr = f"ChannelsLast({inner}, {k}, {st}, {d}, {layer.padding!r})"
    return attr, _act_call(layer, f"self.{layer.name}({xs[0]})")


def _conv_transpose(layer: Any, xs: Sequence[str]) -> tuple[str | None, str]:
    n_in = layer.input_shapes[0][-1]
    g = layer.geometry(layer.input_shapes[0])
    k = (g.rows.kernel, g.cols.kernel)
    st = (g.rows.stride, g.cols.stride)
    d = (g.rows.dilation, g.cols.dilation)
    bias = "" if layer.use_bias else ", bias=False"
    inner = (
        f"nn.ConvTranspose2d({n_in}, {layer.filters}, {k}, stride={st}, "
        f"dilation={d}{bias})"
    )
    attr = f"ConvTransposeLast({inner}, {layer.padding!r})"
    return attr, _act_call(layer, f"self.{layer.name}({xs[0]})")


def _pool(kind: str) -> Writer:
    def write(layer: Any, xs: Sequence[str]) -> tuple[str | None, str]:
        g = layer.geometry(layer.input_shapes[0])
        k = (g.rows.kernel, g.cols.kernel)
        st = (g.rows.stride, g.cols.stride)
        if kind == "max":
            inner = f"nn.MaxPool2d({k}, {st})"
            attr = f"ChannelsLast({inner}, {k}, {st}, (1, 1), {layer.padding!r}, "
            attr += "fill=float('-inf'))"
        else:
            inner = f"nn.AvgPool2d({k}, {st}, divisor_override=1)"
            attr = f"AvgPoolLast({inner}, {k}, {st}, (1, 1), {layer.padding!r})"
            if layer.padding != "same":
                inner = f"nn.AvgPool2d({k}, {st})"
                attr = f"ChannelsLast({inner}, {k}, {st}, (1, 1), 'valid')"
        return attr, f"self.{layer.name}({xs[0]})"

    return write


LAYER_WRITERS: dict[str, Writer] = {
    "Conv2D": _conv,
    "Conv1D": _conv,
    "Conv2DTranspose": _conv_transpose,
    "MaxPool2D": _pool("max"),
    "AvgPool2D": _pool("avg"),
    "GlobalAvgPool2D": _simple(lambda layer: "GlobalPool('mean')"),
    "GlobalMaxPool2D": _simple(lambda layer: "GlobalPool('max')"),
    "UpSampling2D": _simple(lambda layer: f"UpSampling{tuple(layer.size)}"),
    "Dense": _dense,
    "Activation": _activation,
    "Dropout": _simple(lambda layer: f"nn.Dropout({layer.rate!r})"),
    "BatchNorm": _simple(
        lambda layer: (
            f"BatchNormLast({layer.input_shapes[0][-1]}, "
            f"eps={layer.epsilon!r}, momentum={layer.momentum!r})"
        )
    ),
    "Flatten": _simple(lambda layer: "nn.Flatten()"),
    "Reshape": _simple(lambda layer: f"Reshape{tuple(layer.target_shape)!r}"),
    "Add": _simple(lambda layer: "Add()"),
    "Concatenate": _simple(lambda layer: f"Concatenate({layer.axis})"),
}
"""Engine ``type_name`` -> the writer of its ``nn.Module`` attribute and forward line."""

WeightMap = Callable[[Any], dict[str, tuple[str, tuple[int, ...] | None]]]


def _families() -> tuple[dict[str, WeightMap], str]:
    """Merge the ``torch_layers_*`` modules of this package: a family of layers
    brings ``WRITERS`` (into ``LAYER_WRITERS``), ``WEIGHTS`` (type name -> the
    layer's weight map, as ``_weight_map`` gives) and ``HELPERS`` (the source of
    the ``nn.Module`` classes its attributes use, written into model.py), so it
    needs no edit here. Such a module must not import this one."""
    weights: dict[str, WeightMap] = {}
    helpers = []
    package = __name__.rpartition(".")[0]
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)])):
        if info.name.startswith("torch_layers_"):
            module = importlib.import_module(f"{package}.{info.name}")
            LAYER_WRITERS.update(module.WRITERS)
            weights.update(module.WEIGHTS)
            helpers.append(module.HELPERS.strip("\n") + "\n\n")
    return weights, "\n".join(helpers)


_FAMILY_WEIGHTS, _FAMILY_HELPERS = _families()

TRAIN_LOSSES: Mapping[str, str] = {
    "mse": "nn.MSELoss()",
    "mae": "nn.L1Loss()",
    "huber": "nn.HuberLoss(delta={delta})",
    "binary_crossentropy": "nn.BCEWithLogitsLoss()",
    "categorical_crossentropy": "nn.CrossEntropyLoss()",
    "sparse_categorical_crossentropy": "nn.CrossEntropyLoss()",
}
"""nndesk loss -> its PyTorch loss (cross-entropies on logits, as nndesk fuses them)."""


def _describe(layer: Any) -> str:
    cfg = {k: v for k, v in layer.get_config().items() if k != "name"}
    keep = ("units", "activation", "rate", "target_shape", "axis", "momentum")
    text = ", ".join(f"{k}={cfg[k]!r}" for k in keep if k in cfg and cfg[k] is not None)
    return f"{layer.type_name}({text})" if text else layer.type_name


_KERNEL_AXES = {
    "Dense": (1, 0),
    "Conv2D": (3, 2, 0, 1),
    "Conv1D": (2, 1, 0),
    "Conv2DTranspose": (2, 3, 0, 1),  # (kh, kw, in, out) -> (in, out, kh, kw)
}
_WRAPPED_IN_CHANNELS_LAST = ("Conv2D", "Conv1D", "Conv2DTranspose")


def _weight_map(model: Any) -> dict[str, tuple[str, tuple[int, ...] | None]]:
    """nndesk weight key -> (state_dict key, axes from nndesk's layout to torch's)."""
    names = {"gamma": "weight", "beta": "bias", "kernel": "weight"}
    out = {}
    for layer in model.layers:
        family = _FAMILY_WEIGHTS.get(layer.type_name)
        if family is not None:
            out.update(family(layer))
            continue
        prefix = layer.name
        if layer.type_name in _WRAPPED_IN_CHANNELS_LAST:
            prefix += ".inner"
        for key in (*layer.params, *layer.state):
            axes = _KERNEL_AXES.get(layer.type_name) if key == "kernel" else None
            out[f"{layer.name}/{key}"] = (f"{prefix}.{names.get(key, key)}", axes)
    return out


def model_source(model: Any, title: str, final_activation: str | None) -> str:
    """The text of model.py for a built engine model.

    ``final_activation`` is the activation the loss fuses with (``forward(x,
    logits=True)`` leaves it out), or None for a regression network.
    """
    attrs: list[str] = []
    lines: list[str] = []
    (inp,) = model.inputs
    (out,) = model.outputs
    lines.append(
        f"        {inp.name} = x  # {inp.name}: Input, shape {tuple(inp.shape)}"
    )
    for layer in model.layers:
        if layer.type_name == "Input":
            continue
        writer = LAYER_WRITERS.get(layer.type_name)
        if writer is None:
            raise ExportError(
                f"Cannot export node '{layer.name}' as PyTorch: {layer.type_name} "
                "layers have no PyTorch form in nndesk yet."
            )
        xs = [src.name for src in layer.inbound]
        attr, expr = writer(layer, xs)
        if attr is not None:
            attrs.append(f"        self.{layer.name} = {attr}")
        lines.append(f"        # {layer.name}: {_describe(layer)}")
        if layer is out and final_activation is not None:
            lines += _final_lines(layer, xs, expr, final_activation)
        else:
            lines.append(f"        {layer.name} = {expr}")
    if final_activation is None:
        lines.append(f"        return {out.name}")
    return (
        templates.MODEL_PY.replace("@TITLE@", title)
        .replace("@VERSION@", __version__)
        .replace("@INPUT_SHAPE@", repr(tuple(inp.shape)))
        .replace("@HELPERS@", _FAMILY_HELPERS)
        .replace("@ATTRIBUTES@", "\n".join(attrs))
        .replace("@FORWARD@", "\n".join(lines))
        .replace("@WEIGHTS@", _weights_literal(_weight_map(model)))
    )


def _final_lines(layer: Any, xs: Sequence[str], expr: str, act: str) -> list[str]:
    """The prediction's line, split so ``logits=True`` skips its activation."""
    if layer.type_name == "Dense":
        logits = f"self.{layer.name}({xs[0]})"
    else:  # an Activation node: its input is the logits
        logits = xs[0]
    call = "torch.sigmoid({})" if act == "sigmoid" else "torch.softmax({}, dim=-1)"
    return [
        f"        {layer.name} = {logits}",
        "        if logits:  # the loss applies the activation itself",
        f"            return {layer.name}",
        f"        return {call.format(layer.name)}",
    ]


def _weights_literal(mapping: Mapping[str, tuple[str, Any]]) -> str:
    rows = [f"    {k!r}: ({v[0]!r}, {v[1]!r})," for k, v in mapping.items()]
    return "{\n" + "\n".join(rows) + "\n}"


def _training_config(
    document: GraphView, loss: str, prediction_units: int
) -> dict[str, Any]:
    s = document.settings
    (output,) = document.nodes_of_type("Output")
    regularized = {
        n.id: [float(n.params["l1"]), float(n.params["l2"])]
        for n in document.nodes
        if n.params.get("l1") or n.params.get("l2")
    }
    return {
        "loss": loss,
        "loss_module": TRAIN_LOSSES[loss].format(delta=output.params.get("delta", 1.0)),
        "classifier": losses.get(loss).fuses_with is not None,
        "units": prediction_units,
        "optimizer": s["optimizer"],
        # Every option, defaults included: the engine's equal PyTorch's.
        "optimizer_arguments": optimizers.get(
            str(s["optimizer"]), **optimizer_arguments(s)
        ).get_config(),
        "lr_schedule": s["lr_schedule"],
        "lr_step_size": s["lr_step_size"],
        "lr_gamma": s["lr_gamma"],
        "lr_min": s["lr_min"],
        "lr_warmup_steps": s["lr_warmup_steps"],
        "lr_warmup_epochs": s["lr_warmup_epochs"],
        "batch_size": s["batch_size"],
        "epochs": s["epochs"],
        "shuffle": s["shuffle"],
        "seed": s["seed"],
        "early_stopping_patience": s["early_stopping_patience"],
        "early_stopping_min_delta": s["early_stopping_min_delta"],
        "early_stopping_metric": s.get("early_stopping_metric", "val_loss"),
        "regularized": regularized,
    }


def export_pytorch(
    model: Any,
    document: GraphView,
    path: str | Path,
    *,
    save_network: Callable[[Path], None],
    title: str = "network",
) -> None:
    """Write the PyTorch project folder of a built engine model.

    Parameters
    ----------
    model : nndesk.engine.Model
        Built; layer names are node ids.
    document : GraphView
        Its network document (settings, Output loss, L1/L2 of Dense nodes).
    path : str or Path
        The folder to write (replaced as a whole, atomically).
    save_network : callable
        Writes the network file (``network.nndesk``) to the path it is given;
        ``TrainingSession.save``, which keeps relative dataset paths working.
    title : str
        How model.py's docstring names the network.

    Raises
    ------
    ExportError
        For a layer without a PyTorch form, an unsupported setting, or a folder
        that cannot be written (nothing is left behind then).
    """
    (output,) = document.nodes_of_type("Output")
    loss = str(output.params["loss"])
    fuses = losses.get(loss).fuses_with
    source = model_source(model, title, fuses)
    config = _training_config(document, loss, int(np.prod(model.output_shapes[0])))
    train = templates.TRAIN_PY.replace("@VERSION@", __version__).replace(
        "@CONFIG@", pprint.pformat(config, sort_dicts=False)
    )
    readme = templates.README_MD.replace("@TITLE@", title).replace(
        "@VERSION@", __version__
    )
    weights = model.get_weights()

    def fill(folder: Path) -> None:
        (folder / "model.py").write_text(source, encoding="utf-8")
        (folder / "train.py").write_text(train, encoding="utf-8")
        (folder / "README.md").write_text(readme, encoding="utf-8")
        buffer = io.BytesIO()
        np.savez(buffer, **weights)
        (folder / "weights.npz").write_bytes(buffer.getvalue())
        save_network(folder / "network.nndesk")

    target = Path(path)
    write_folder_atomically(target, fill, f"the PyTorch project {target.name}")
    log.info("Exported the PyTorch project %s", target)
