"""Node types of the Convolution and Pooling categories (and UpSampling2D in
Reshape): Conv2D, Conv2DTranspose, Conv1D, MaxPool2D, AvgPool2D, GlobalAvgPool2D,
GlobalMaxPool2D.

Their engine classes are ``nndesk.engine.layers.conv`` and ``.pooling``; images
are ``(height, width, channels)`` per sample (channels last), sequences ``(steps,
channels)``. Sizes are single integers in the editor (square kernels and windows,
the same stride along both axes); the engine and the Python API also take pairs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...engine.layers.conv import PADDINGS
from ..params import ParamSpec
from .spec import (
    CategorySpec,
    NodeSpec,
    activation_param,
    alpha_param,
    initializer_param,
    layer_spec,
    penalty_param,
)

CATEGORIES = (
    CategorySpec("Convolution", after="Core"),
    CategorySpec("Pooling", after="Convolution"),
)

_IMAGE = (
    "Needs (height, width, channels) images: give a grey-scale Input the "
    "shape (height, width, 1)."
)


def _size(name: str, default: int, top: int, text: str) -> ParamSpec:
    return ParamSpec(name, "int", default, min=1, max=top, help=text)


def _padding(what: str) -> ParamSpec:
    return ParamSpec(
        "padding",
        "choice",
        "valid",
        choices=PADDINGS,
        help=f"valid: the {what} stays inside the input, so the output shrinks; "
        f"same: the input is padded with zeros so that, at stride 1, the output "
        "keeps its height and width.",
    )


def _conv_params(rank: int) -> tuple[ParamSpec, ...]:
    """Every parameter of a convolution node; ``rank`` 1 speaks of steps."""
    span = "steps" if rank == 1 else "rows and columns (a square kernel)"
    return (
        _size("filters", 32, 4096, "Number of filters: the channels of the output."),
        _size("kernel_size", 3, 31, f"Size of each filter in {span}."),
        _size(
            "strides",
            1,
            16,
            "Step between two filter positions; 2 halves the output size.",
        ),
        _padding("filter"),
        _size(
            "dilation_rate",
            1,
            16,
            "Spacing between the taps of a filter: 2 spreads a 3-wide kernel over "
            "5 input positions (atrous convolution).",
        ),
        activation_param("relu"),
        ParamSpec("use_bias", "bool", True, help="Add a learned bias per filter."),
        initializer_param("kernel_initializer", "glorot_uniform", "kernels"),
        initializer_param("bias_initializer", "zeros", "bias"),
        penalty_param("l1"),
        penalty_param("l2"),
        alpha_param(optional=True),
    )


def _window_text(p: Mapping[str, Any], size: str, square: bool = True) -> str:
    """``3x3``, then a stride other than 1 (``/2``), dilation and ``same``."""
    k = p[size]
    text = f"{k}x{k}" if square else str(k)
    stride = p["strides"]
    if stride is not None and stride != (1 if size == "kernel_size" else k):
        text += f" /{stride}"
    if p.get("dilation_rate", 1) != 1:
        text += f" dil {p['dilation_rate']}"
    return text + (" same" if p["padding"] == "same" else "")


def _conv_text(square: bool) -> Any:
    def text(p: Mapping[str, Any]) -> str:
        return f"{p['filters']} × {_window_text(p, 'kernel_size', square)} · " + str(
            p["activation"]
        )

    return text


def _pool_text(p: Mapping[str, Any]) -> str:
    return _window_text(p, "pool_size")


def _pool_params() -> tuple[ParamSpec, ...]:
    return (
        _size("pool_size", 2, 16, "Height and width of each window (square)."),
        ParamSpec(
            "strides",
            "int",
            None,
            min=1,
            max=16,
            optional=True,
            help="Step between two windows; empty uses the pool size (windows "
            "side by side, the output shrinks by that factor).",
        ),
        _padding("window"),
    )


NODE_TYPES: list[NodeSpec] = [
    layer_spec(
        "Conv2D",
        "Convolution",
        "2-D convolution: slides each filter over the image and outputs one "
        "channel per filter, plus a bias, through the activation. " + _IMAGE,
        _conv_params(2),
        key_params=("filters", "kernel_size", "activation"),
        key_text=_conv_text(square=True),
        id_prefix="conv2d",
    ),
    layer_spec(
        "Conv2DTranspose",
        "Convolution",
        "Transposed 2-D convolution: spreads each input pixel over a kernel-sized "
        "patch, so stride 2 doubles height and width (decoders, generators). " + _IMAGE,
        _conv_params(2),
        key_params=("filters", "kernel_size", "activation"),
        key_text=_conv_text(square=True),
        id_prefix="conv2d_transpose",
    ),
    layer_spec(
        "Conv1D",
        "Convolution",
        "1-D convolution over sequences: slides each filter along the steps and "
        "outputs one channel per filter. Needs (steps, channels) inputs.",
        _conv_params(1),
        key_params=("filters", "kernel_size", "activation"),
        key_text=_conv_text(square=False),
        id_prefix="conv1d",
    ),
    layer_spec(
        "MaxPool2D",
        "Pooling",
        "Keeps the largest value of each window, per channel: a 2x2 pool halves "
        "height and width. " + _IMAGE,
        _pool_params(),
        key_params=("pool_size",),
        key_text=_pool_text,
        id_prefix="maxpool",
    ),
    layer_spec(
        "AvgPool2D",
        "Pooling",
        "Averages each window, per channel: a 2x2 pool halves height and width. "
        + _IMAGE,
        _pool_params(),
        key_params=("pool_size",),
        key_text=_pool_text,
        id_prefix="avgpool",
    ),
    layer_spec(
        "GlobalAvgPool2D",
        "Pooling",
        "Averages each channel over the whole image: (height, width, channels) "
        "becomes (channels,), ready for a Dense layer without Flatten.",
        id_prefix="global_avgpool",
    ),
    layer_spec(
        "GlobalMaxPool2D",
        "Pooling",
        "Keeps the largest value of each channel over the whole image: (height, "
        "width, channels) becomes (channels,).",
        id_prefix="global_maxpool",
    ),
    layer_spec(
        "UpSampling2D",
        "Reshape",
        "Repeats every pixel size times along height and width (nearest "
        "neighbour): 2 doubles the image. " + _IMAGE,
        (_size("size", 2, 16, "How many times each pixel is repeated per axis."),),
        key_params=("size",),
        key_text=lambda p: f"× {p['size']}",
        id_prefix="upsampling",
    ),
]
