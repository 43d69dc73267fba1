"""Write the PyTorch reference fixtures of the convolution layers (conv_*.npz).

Run by hand with the reference venv (it has torch; the test suite never imports
it)::

    /work/refvenv/bin/python tests/engine/make_conv_fixtures.py

Like ``make_torch_fixtures.py`` every file carries a JSON ``spec`` (a 0-d unicode
array) from which ``test_conv_reference.py`` rebuilds each case with nndesk alone.
A file holds many cases, each stored as one float32 vector named after the case;
``spec[case]["arrays"]`` lists the arrays in it (name and shape, in order).
Everything is computed in float64 from fixed seeds; the arrays are stored as
float32 (inputs and weights are rounded to float32 *before* torch sees them, so
they are exact; results keep a relative precision of 6e-8, far inside the test's
1e-5) to keep the files small.

Per layer case (``conv_conv2d``, ``conv_conv1d``, ``conv_transpose``,
``conv_pool``, ``conv_batchnorm``):

- ``x`` the input (channels-last), ``w/<param>`` the weights in nndesk's layout;
- ``out`` the training-mode output, ``dy`` a random output gradient, and for the
  scalar ``sum(out * dy)``: ``dx`` and ``g/<param>``;
- layers with weights: ``sgd/<param>`` and ``adam/<param>``, the weights after 5
  steps on ``mean(out**2)`` (the MSE to a zero target) with SGD (lr 0.05,
  momentum 0.9) and with Adam (lr 0.01);
- BatchNorm: ``state/<name>`` the running statistics after the training pass and
  ``out_eval`` the inference output with them.

``conv_net.npz`` holds small CNNs as nndesk layer lists (as ``net_*.npz`` do),
with the same arrays for the whole model plus the weights after 5 SGD-momentum
and 5 Adam steps on MSE to a stored target.

Layouts (docs/engine.md has them both ways): Conv2D kernel ``(kh, kw, in, out)``
= torch ``weight.permute(2, 3, 1, 0)``; Conv1D ``(k, in, out)`` = torch
``weight.permute(2, 1, 0)``; Conv2DTranspose ``(kh, kw, in, out)`` = torch
``ConvTranspose2d.weight.permute(2, 3, 0, 1)``; tensors NHWC = torch NCHW
``.permute(0, 2, 3, 1)``. Padding ``"same"`` follows Keras/TensorFlow (the extra
row and column of an odd total go to the bottom and right); the script checks
that torch's own ``padding="same"`` (stride 1) pads the same way.
"""

from __future__ import annotations

import itertools
import json
import math
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

OUT = Path(__file__).resolve().parent / "fixtures"
torch.set_default_dtype(torch.float64)

SGD = {"name": "sgd", "kwargs": {"lr": 0.05, "momentum": 0.9}}
ADAM = {"name": "adam", "kwargs": {"lr": 0.01}}
STEPS = 5


def save(name: str, arrays: dict[str, np.ndarray], spec: dict) -> None:
    """Write ``arrays`` (keys ``<case>/<name>``) as one float32 vector per case;
    ``spec[case]["arrays"]`` lists each array's name and shape in vector order
    (one .npy member per array would cost more in headers than in values)."""
    cases: dict[str, list[tuple[str, np.ndarray]]] = {}
    for key, value in arrays.items():
        case, _, array_name = key.partition("/")
        cases.setdefault(case, []).append((array_name, np.asarray(value)))
    stored = {}
    for case, items in cases.items():
        spec[case]["arrays"] = [[k, list(v.shape)] for k, v in items]
        stored[case] = np.concatenate([v.reshape(-1) for _, v in items]).astype(
            np.float32
        )
    stored["spec"] = np.array(json.dumps(spec, sort_keys=True))
    np.savez_compressed(OUT / f"{name}.npz", **stored)


def f32(a: np.ndarray) -> np.ndarray:
    """``a`` rounded to float32, kept as float64 (exactly what the file holds)."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def t(a: np.ndarray, grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def n(x: torch.Tensor) -> np.ndarray:
    return x.detach().numpy().copy()


# --- padding and layouts -------------------------------------------------------------
def same_pads(size: int, k: int, s: int, d: int) -> tuple[int, int]:
    """Keras/TensorFlow 'same': (before, after), the extra one after."""
    span = d * (k - 1) + 1
    out = -(-size // s)
    total = max((out - 1) * s + span - size, 0)
    return total // 2, total - total // 2


def pads2d(x_nchw: torch.Tensor, kw: dict, kernel, strides, dilation) -> tuple:
    """F.pad's (left, right, top, bottom) for a layer config on this input."""
    if kw.get("padding", "valid") != "same":
        return (0, 0, 0, 0)
    top, bottom = same_pads(x_nchw.shape[2], kernel[0], strides[0], dilation[0])
    left, right = same_pads(x_nchw.shape[3], kernel[1], strides[1], dilation[1])
    return (left, right, top, bottom)


def pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def nchw(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 3, 1, 2)


def nhwc(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 2, 3, 1)


ACT = {
    "linear": lambda z: z,
    "relu": F.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
}


# --- the layers in torch, on channels-last tensors ------------------------------------
def conv2d(x: torch.Tensor, p: dict, kw: dict) -> torch.Tensor:
    k, s, d = (
        pair(kw["kernel_size"]),
        pair(kw.get("strides", 1)),
        pair(kw.get("dilation_rate", 1)),
    )
    xc = F.pad(nchw(x), pads2d(nchw(x), kw, k, s, d))
    weight = (
        p["kernel"].permute(3, 2, 0, 1).contiguous()
    )  # (kh, kw, in, out) -> (out, in, kh, kw)
    z = F.conv2d(xc, weight, p.get("bias"), stride=s, dilation=d)
    return ACT[kw.get("activation", "linear")](nhwc(z))


def conv1d(x: torch.Tensor, p: dict, kw: dict) -> torch.Tensor:
    k, s, d = kw["kernel_size"], kw.get("strides", 1), kw.get("dilation_rate", 1)
    xc = x.permute(0, 2, 1)  # (N, L, C) -> (N, C, L)
    if kw.get("padding", "valid") == "same":
        xc = F.pad(xc, same_pads(xc.shape[2], k, s, d))
    weight = p["kernel"].permute(2, 1, 0).contiguous()  # (k, in, out) -> (out, in, k)
    z = F.conv1d(xc, weight, p.get("bias"), stride=s, dilation=d)
    return ACT[kw.get("activation", "linear")](z.permute(0, 2, 1))


def conv2d_transpose(x: torch.Tensor, p: dict, kw: dict) -> torch.Tensor:
    k, s, d = (
        pair(kw["kernel_size"]),
        pair(kw.get("strides", 1)),
        pair(kw.get("dilation_rate", 1)),
    )
    weight = (
        p["kernel"].permute(2, 3, 0, 1).contiguous()
    )  # (kh, kw, in, out) -> (in, out, kh, kw)
    full = F.conv_transpose2d(nchw(x), weight, stride=s, dilation=d)
    if kw.get("padding", "valid") == "same":
        # Keep rows [start, start + size) of the full output: F.pad crops with
        # negative and zero-fills with positive widths (width first).
        crop = []
        for axis in (1, 0):
            span = d[axis] * (k[axis] - 1) + 1
            start = max(span - s[axis], 0) // 2
            size = x.shape[1 + axis] * s[axis]
            crop += [-start, start + size - full.shape[2 + axis]]
        full = F.pad(full, tuple(crop))
    z = nhwc(full)
    if p.get("bias") is not None:  # after the crop: zero-filled rows get it too
        z = z + p["bias"]
    return ACT[kw.get("activation", "linear")](z)


def pool2d(x: torch.Tensor, kw: dict, kind: str) -> torch.Tensor:
    k = pair(kw.get("pool_size", 2))
    s = pair(kw.get("strides") or k)
    xc = nchw(x)
    pads = pads2d(xc, kw, k, s, (1, 1))
    if kind == "max":
        return nhwc(F.max_pool2d(F.pad(xc, pads, value=-math.inf), k, s))
    total = F.avg_pool2d(F.pad(xc, pads), k, s, divisor_override=1)
    count = F.avg_pool2d(F.pad(torch.ones_like(xc), pads), k, s, divisor_override=1)
    return nhwc(total / count)


def global_max(x: torch.Tensor) -> torch.Tensor:
    flat = x.reshape(x.shape[0], -1, x.shape[3])
    return flat.max(dim=1).values


def upsample(x: torch.Tensor, kw: dict) -> torch.Tensor:
    sh, sw = pair(kw.get("size", 2))
    return x.repeat_interleave(sh, dim=1).repeat_interleave(sw, dim=2)


class BatchNormHWC(torch.nn.Module):
    """torch BatchNorm2d on channels-last tensors."""

    def __init__(self, channels: int, kw: dict) -> None:
        super().__init__()
        self.bn = torch.nn.BatchNorm2d(
            channels, eps=kw.get("epsilon", 1e-5), momentum=kw.get("momentum", 0.1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nhwc(self.bn(nchw(x)))


def apply(type_name: str, x: torch.Tensor, p: dict, kw: dict) -> torch.Tensor:
    if type_name == "Conv2D":
        return conv2d(x, p, kw)
    if type_name == "Conv1D":
        return conv1d(x, p, kw)
    if type_name == "Conv2DTranspose":
        return conv2d_transpose(x, p, kw)
    if type_name == "MaxPool2D":
        return pool2d(x, kw, "max")
    if type_name == "AvgPool2D":
        return pool2d(x, kw, "avg")
    if type_name == "GlobalAvgPool2D":
        return x.mean(dim=(1, 2))
    if type_name == "GlobalMaxPool2D":
        return global_max(x)
    if type_name == "UpSampling2D":
        return upsample(x, kw)
    if type_name == "Dense":
        return ACT[kw.get("activation", "linear")](x @ p["kernel"] + p["bias"])
    if type_name == "Flatten":
        return x.reshape(x.shape[0], -1)
    if type_name == "Activation":
        return ACT[kw["activation"]](x)
    raise ValueError(type_name)


def param_shapes(type_name: str, in_shape: tuple, kw: dict) -> dict[str, tuple]:
    if type_name in ("Conv2D", "Conv2DTranspose"):
        k = pair(kw["kernel_size"])
        shapes = {"kernel": (*k, in_shape[-1], kw["filters"])}
    elif type_name == "Conv1D":
        shapes = {"kernel": (kw["kernel_size"], in_shape[-1], kw["filters"])}
    elif type_name == "Dense":
        shapes = {"kernel": (in_shape[-1], kw["units"])}
        return {**shapes, "bias": (kw["units"],)}
    else:
        return {}
    if kw.get("use_bias", True):
        shapes["bias"] = (kw["filters"],)
    return shapes


def draw_params(shapes: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
    out = {}
    for key, shape in shapes.items():
        if key == "kernel":
            fan_in = math.prod(shape[:-1])
            out[key] = f32(rng.normal(size=shape) / math.sqrt(fan_in))
        else:
            out[key] = f32(0.3 * rng.normal(size=shape))
    return out


def train_steps(
    forward, params: dict[str, torch.Tensor], x: torch.Tensor, target, opt_spec: dict
) -> dict[str, np.ndarray]:
    """The weights after ``STEPS`` steps on ``mean((forward(x) - target)**2)``."""
    leaves = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    kw = opt_spec["kwargs"]
    if opt_spec["name"] == "sgd":
        opt = torch.optim.SGD(leaves.values(), lr=kw["lr"], momentum=kw["momentum"])
    else:
        opt = torch.optim.Adam(leaves.values(), lr=kw["lr"])
    for _ in range(STEPS):
        opt.zero_grad()
        out = forward(x, leaves)
        ((out - target) ** 2).mean().backward()
        opt.step()
    return {k: n(v) for k, v in leaves.items()}


# --- single-layer cases -----------------------------------------------------------------
def layer_case(
    arrays: dict,
    spec: dict,
    case: str,
    type_name: str,
    kw: dict,
    in_shape: tuple,
    rng: np.random.Generator,
    batch: int = 2,
    x: np.ndarray | None = None,
) -> None:
    if x is None:
        x = f32(rng.normal(size=(batch, *in_shape)))
    params_np = draw_params(param_shapes(type_name, in_shape, kw), rng)
    params = {k: t(v, grad=True) for k, v in params_np.items()}
    xt = t(x, grad=True)
    out = apply(type_name, xt, params, kw)
    dy = f32(rng.normal(size=tuple(out.shape)))
    (out * t(dy)).sum().backward()
    a = {"x": x, "out": n(out), "dy": dy, "dx": n(xt.grad)}
    a |= {f"w/{k}": v for k, v in params_np.items()}
    a |= {f"g/{k}": n(v.grad) for k, v in params.items()}
    if params:

        def fwd(xx, pp):
            return apply(type_name, xx, pp, kw)

        zero = torch.zeros(())
        a |= {
            f"sgd/{k}": v for k, v in train_steps(fwd, params, t(x), zero, SGD).items()
        }
        a |= {
            f"adam/{k}": v
            for k, v in train_steps(fwd, params, t(x), zero, ADAM).items()
        }
    arrays |= {f"{case}/{k}": v for k, v in a.items()}
    spec[case] = {"type": type_name, "kwargs": kw, "input_shape": list(in_shape)}


def conv2d_grid(rng: np.random.Generator) -> tuple[dict, dict]:
    """Every kernel size (1, 3, 5), stride (1, 2), padding and dilation (1, 2)
    combination, on odd and even, non-square inputs, with 1, 3 and 8 channels in
    and out, with and without bias; plus even and non-square kernels under 'same'
    (the asymmetric padding) and activations."""
    arrays: dict = {}
    spec: dict = {}
    sizes = [(5, 4), (4, 7), (7, 6), (6, 5)]  # odd/even in each axis, non-square
    channels = [(1, 3), (3, 8), (8, 1), (3, 3)]
    for i, (k, s, pad, d) in enumerate(
        itertools.product((1, 3, 5), (1, 2), ("valid", "same"), (1, 2))
    ):
        h, w = sizes[i % 4]
        cin, cout = channels[(i // 4 + i) % 4]
        span = d * (k - 1) + 1
        if pad == "valid" and span > min(h, w):
            h, w = max(h, span), max(w, span) + 1
            cin = 1  # a large input: keep it to one channel
        if k == 5 and cin * cout > 9:  # keep the 5x5 kernels small
            cin, cout = 1, 3
        kw = {
            "filters": cout,
            "kernel_size": k,
            "strides": s,
            "padding": pad,
            "dilation_rate": d,
            "use_bias": i % 3 != 2,
        }
        name = f"k{k}_s{s}_{pad}_d{d}_{h}x{w}x{cin}_f{cout}"
        layer_case(arrays, spec, name, "Conv2D", kw, (h, w, cin), rng)
    extra = [
        ({"filters": 2, "kernel_size": 2, "padding": "same"}, (5, 6, 2)),
        ({"filters": 2, "kernel_size": 4, "padding": "same"}, (5, 6, 2)),
        (
            {"filters": 3, "kernel_size": [2, 3], "strides": [2, 1], "padding": "same"},
            (7, 6, 2),
        ),
        (
            {
                "filters": 2,
                "kernel_size": [3, 1],
                "strides": [1, 2],
                "padding": "valid",
                "dilation_rate": [2, 1],
                "activation": "relu",
            },
            (8, 7, 3),
        ),
        ({"filters": 3, "kernel_size": 3, "activation": "tanh"}, (5, 4, 2)),
        ({"filters": 2, "kernel_size": 6, "strides": 3, "padding": "same"}, (4, 5, 1)),
    ]
    for j, (kw, shape) in enumerate(extra):
        layer_case(arrays, spec, f"extra{j}", "Conv2D", kw, shape, rng)
    return arrays, spec


def check_torch_same_padding(rng: np.random.Generator) -> None:
    """Torch's padding='same' (stride 1) pads like Keras: extra at the end."""
    for k, d in ((2, 1), (4, 1), (3, 2), (2, 3)):
        x = t(rng.normal(size=(1, 2, 5, 6)))
        w = t(rng.normal(size=(3, 2, k, k)))
        ours = F.conv2d(
            F.pad(x, pads2d(x, {"padding": "same"}, (k, k), (1, 1), (d, d))),
            w,
            dilation=d,
        )
        with warnings.catch_warnings():  # torch's note on even kernels
            warnings.simplefilter("ignore", UserWarning)
            theirs = F.conv2d(x, w, padding="same", dilation=d)
        assert torch.allclose(ours, theirs), (k, d)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for old in OUT.glob("conv_*.npz"):
        old.unlink()
    check_torch_same_padding(np.random.default_rng(9))

    arrays, spec = conv2d_grid(np.random.default_rng(10))
    save("conv_conv2d", arrays, spec)

    rng = np.random.default_rng(11)
    arrays, spec = {}, {}
    for i, (kw, shape) in enumerate(
        [
            ({"filters": 3, "kernel_size": 3}, (9, 2)),
            ({"filters": 2, "kernel_size": 4, "strides": 2, "padding": "same"}, (9, 3)),
            (
                {
                    "filters": 4,
                    "kernel_size": 3,
                    "dilation_rate": 2,
                    "padding": "same",
                    "activation": "tanh",
                },
                (8, 1),
            ),
            ({"filters": 2, "kernel_size": 1, "use_bias": False}, (5, 3)),
        ]
    ):
        layer_case(arrays, spec, f"c{i}", "Conv1D", kw, shape, rng)
    save("conv_conv1d", arrays, spec)

    rng = np.random.default_rng(12)
    arrays, spec = {}, {}
    for i, (kw, shape) in enumerate(
        [
            ({"filters": 3, "kernel_size": 3, "strides": 2}, (3, 4, 2)),
            (
                {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"},
                (4, 3, 3),
            ),
            (
                {
                    "filters": 2,
                    "kernel_size": 4,
                    "strides": 2,
                    "padding": "same",
                    "activation": "sigmoid",
                },
                (3, 3, 2),
            ),
            (
                {"filters": 3, "kernel_size": 2, "strides": 1, "padding": "same"},
                (3, 4, 1),
            ),
            (
                {
                    "filters": 2,
                    "kernel_size": 1,
                    "strides": 2,
                    "padding": "same",
                    "use_bias": False,
                },
                (3, 2, 3),
            ),
            (
                {
                    "filters": 2,
                    "kernel_size": [3, 2],
                    "strides": [1, 2],
                    "dilation_rate": [2, 1],
                    "padding": "valid",
                },
                (3, 3, 2),
            ),
            (
                {"filters": 1, "kernel_size": 5, "strides": 3, "padding": "same"},
                (2, 3, 2),
            ),
        ]
    ):
        layer_case(arrays, spec, f"t{i}", "Conv2DTranspose", kw, shape, rng)
    save("conv_transpose", arrays, spec)

    rng = np.random.default_rng(13)
    arrays, spec = {}, {}
    pools = [
        ("MaxPool2D", {}, (6, 7, 2)),
        ("MaxPool2D", {"pool_size": 3, "strides": 2, "padding": "same"}, (7, 6, 2)),
        (
            "MaxPool2D",
            {"pool_size": [2, 3], "strides": [1, 2], "padding": "valid"},
            (5, 7, 1),
        ),
        ("MaxPool2D", {"pool_size": 2, "padding": "same"}, (5, 5, 3)),
        ("AvgPool2D", {}, (6, 7, 2)),
        ("AvgPool2D", {"pool_size": 3, "strides": 2, "padding": "same"}, (7, 6, 2)),
        ("AvgPool2D", {"pool_size": 2, "strides": 1, "padding": "same"}, (4, 5, 1)),
        ("GlobalAvgPool2D", {}, (4, 5, 3)),
        ("GlobalMaxPool2D", {}, (4, 5, 3)),
        ("UpSampling2D", {}, (3, 4, 2)),
        ("UpSampling2D", {"size": [3, 1]}, (2, 3, 2)),
    ]
    for i, (type_name, kw, shape) in enumerate(pools):
        layer_case(arrays, spec, f"p{i}_{type_name}", type_name, kw, shape, rng)
    # Ties: ReLU-like zeros fill whole windows; the gradient goes to the first.
    x = f32(np.maximum(rng.normal(size=(2, 6, 6, 2)) - 1.0, 0.0))
    layer_case(arrays, spec, "ties_MaxPool2D", "MaxPool2D", {}, (6, 6, 2), rng, x=x)
    save("conv_pool", arrays, spec)

    make_batchnorm(np.random.default_rng(14))
    make_nets(np.random.default_rng(15))
    files = sorted(OUT.glob("conv_*.npz"))
    total = sum(p.stat().st_size for p in files)
    print(
        f"wrote {len(files)} fixtures, {total / 1024:.0f} KiB, torch {torch.__version__}"
    )


def make_batchnorm(rng: np.random.Generator) -> None:
    arrays: dict = {}
    spec: dict = {}
    for case, kw, shape in (
        ("bn0", {}, (4, 5, 3)),
        ("bn1", {"momentum": 0.3, "epsilon": 1e-3}, (3, 2, 4)),
    ):
        x = f32(rng.normal(loc=1.0, scale=2.0, size=(3, *shape)))
        c = shape[-1]
        mod = BatchNormHWC(c, kw)
        gamma, beta = f32(1 + 0.2 * rng.normal(size=c)), f32(0.3 * rng.normal(size=c))
        with torch.no_grad():
            mod.bn.weight.copy_(t(gamma))
            mod.bn.bias.copy_(t(beta))
        mod.train()
        xt = t(x, grad=True)
        out = mod(xt)
        dy = f32(rng.normal(size=tuple(out.shape)))
        (out * t(dy)).sum().backward()
        mod.eval()
        with torch.no_grad():
            out_eval = mod(t(x))
        a = {
            "x": x,
            "w/gamma": gamma,
            "w/beta": beta,
            "out": n(out),
            "dy": dy,
            "dx": n(xt.grad),
            "g/gamma": n(mod.bn.weight.grad),
            "g/beta": n(mod.bn.bias.grad),
            "state/running_mean": n(mod.bn.running_mean),
            "state/running_var": n(mod.bn.running_var),
            "out_eval": n(out_eval),
        }
        arrays |= {f"{case}/{k}": v for k, v in a.items()}
        spec[case] = {"type": "BatchNorm", "kwargs": kw, "input_shape": list(shape)}
    save("conv_batchnorm", arrays, spec)


# --- whole networks ----------------------------------------------------------------------
NETS = {
    "cnn": {
        "input_shape": [8, 7, 2],
        "layers": [
            [
                "Conv2D",
                "c1",
                {
                    "filters": 4,
                    "kernel_size": 3,
                    "padding": "same",
                    "activation": "relu",
                },
            ],
            ["MaxPool2D", "p1", {}],
            ["Conv2D", "c2", {"filters": 3, "kernel_size": 2, "activation": "tanh"}],
            ["Flatten", "f", {}],
            ["Dense", "d", {"units": 3}],
        ],
    },
    "autoencoder": {
        "input_shape": [6, 6, 1],
        "layers": [
            [
                "Conv2D",
                "e1",
                {
                    "filters": 3,
                    "kernel_size": 3,
                    "strides": 2,
                    "padding": "same",
                    "activation": "relu",
                },
            ],
            ["AvgPool2D", "a1", {"pool_size": 3, "strides": 1, "padding": "same"}],
            [
                "Conv2DTranspose",
                "t1",
                {
                    "filters": 2,
                    "kernel_size": 3,
                    "strides": 2,
                    "padding": "same",
                    "activation": "tanh",
                },
            ],
            ["UpSampling2D", "u1", {"size": [1, 1]}],
            ["Conv2D", "o", {"filters": 1, "kernel_size": 1, "activation": "sigmoid"}],
        ],
    },
    "global": {
        "input_shape": [5, 6, 3],
        "layers": [
            [
                "Conv2D",
                "c1",
                {
                    "filters": 4,
                    "kernel_size": 3,
                    "dilation_rate": 2,
                    "padding": "same",
                    "use_bias": False,
                },
            ],
            ["GlobalMaxPool2D", "g", {}],
            ["Dense", "d", {"units": 2, "activation": "tanh"}],
        ],
    },
}


def make_nets(rng: np.random.Generator) -> None:
    arrays: dict = {}
    spec: dict = {}
    for case, net in NETS.items():
        shape = tuple(net["input_shape"])
        params_np: dict[str, np.ndarray] = {}
        shapes = [shape]
        for type_name, name, kw in net["layers"]:
            for k, v in draw_params(
                param_shapes(type_name, shapes[-1], kw), rng
            ).items():
                params_np[f"{name}/{k}"] = v
            probe = torch.zeros((1, *shapes[-1]))
            local = {
                k.split("/")[1]: t(v)
                for k, v in params_np.items()
                if k.startswith(f"{name}/")
            }
            shapes.append(tuple(apply(type_name, probe, local, kw).shape[1:]))

        def forward(x, p, layers=net["layers"]):
            h = x
            for type_name, name, kw in layers:
                local = {
                    k.split("/")[1]: v for k, v in p.items() if k.startswith(f"{name}/")
                }
                h = apply(type_name, h, local, kw)
            return h

        x = f32(rng.normal(size=(3, *shape)))
        y = f32(rng.normal(size=(3, *shapes[-1])))
        params = {k: t(v, grad=True) for k, v in params_np.items()}
        xt = t(x, grad=True)
        out = forward(xt, params)
        dy = f32(rng.normal(size=tuple(out.shape)))
        (out * t(dy)).sum().backward()
        a = {"x": x, "y": y, "out": n(out), "dy": dy, "dx": n(xt.grad)}
        a |= {f"w/{k}": v for k, v in params_np.items()}
        a |= {f"g/{k}": n(v.grad) for k, v in params.items()}
        target = t(y)
        for label, opt in (("sgd", SGD), ("adam", ADAM)):
            after = train_steps(forward, params, t(x), target, opt)
            a |= {f"{label}/{k}": v for k, v in after.items()}
        arrays |= {f"{case}/{k}": v for k, v in a.items()}
        spec[case] = net
    save("conv_net", arrays, spec)


if __name__ == "__main__":
    main()
