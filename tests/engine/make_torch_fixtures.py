"""Write the PyTorch and scikit-learn reference fixtures in tests/engine/fixtures/.

Run by hand (it needs torch and scikit-learn, which the test suite never imports)::

    .venv/bin/python tests/engine/make_torch_fixtures.py

Everything is float64 and drawn from fixed seeds, so a rerun rewrites the same
numbers. Each ``.npz`` carries a JSON ``spec`` (a 0-d unicode array) describing what
it holds, so ``test_torch_reference.py`` rebuilds each case from the file alone:

- ``losses.npz``: per case, predictions or logits, targets, the mean loss and its
  gradient, from torch.nn loss modules.
- ``net_<name>.npz``: a small network given as a layer list in nndesk's
  vocabulary (layer type, name, inputs, constructor keywords), its weights in
  nndesk's layout (Dense kernel ``(in, out)``, i.e. torch's weight transposed),
  inputs, targets, the training-mode output, the loss, input and parameter
  gradients, and, after one SGD step with lr=0.1, the weights, BatchNorm running
  statistics and the inference-mode output.
- ``optim_<name>.npz``: one network trained 5 steps (a new batch each step) with an
  optimizer configuration: the raw gradients of each step and the weights after it.
- ``metrics.npz``: classification, ROC and regression cases scored by scikit-learn.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn import metrics as skm
from torch import nn

OUT = Path(__file__).resolve().parent / "fixtures"
torch.set_default_dtype(torch.float64)


def save(name: str, arrays: dict[str, np.ndarray], spec: dict) -> None:
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    arrays["spec"] = np.array(json.dumps(spec, sort_keys=True))
    np.savez_compressed(OUT / f"{name}.npz", **arrays)


def t(a: np.ndarray, grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def n(x: torch.Tensor) -> np.ndarray:
    return x.detach().numpy().copy()


# --- losses -------------------------------------------------------------------------------
def torch_loss(
    name: str, kwargs: dict, out: torch.Tensor, y: np.ndarray
) -> torch.Tensor:
    """The torch loss matching nndesk's ``name(**kwargs)`` for output ``out``."""
    from_logits = kwargs.get("from_logits", False)
    if name == "mse":
        return nn.MSELoss()(out, t(y).reshape(out.shape))
    if name == "mae":
        return nn.L1Loss()(out, t(y).reshape(out.shape))
    if name == "huber":
        return nn.HuberLoss(delta=kwargs.get("delta", 1.0))(
            out, t(y).reshape(out.shape)
        )
    if name == "binary_crossentropy":
        target = t(y).reshape(out.shape)
        if from_logits:
            return nn.BCEWithLogitsLoss()(out, target)
        return nn.BCELoss()(out, target)
    if name == "categorical_crossentropy":
        target = t(y)
        if from_logits:
            # Class-probability targets over the last axis, averaged over samples.
            flat = out.reshape(-1, out.shape[-1])
            return nn.CrossEntropyLoss()(flat, target.reshape(flat.shape))
        return -(target * torch.log(out)).sum(-1).mean()
    if name == "sparse_categorical_crossentropy":
        labels = torch.tensor(np.asarray(y).reshape(-1), dtype=torch.long)
        flat = out.reshape(-1, out.shape[-1])
        if from_logits:
            return nn.CrossEntropyLoss()(flat, labels)
        return nn.NLLLoss()(torch.log(flat), labels)
    raise ValueError(name)


def make_losses(rng: np.random.Generator) -> None:
    def softmax(z: np.ndarray) -> np.ndarray:
        e = np.exp(z - z.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)

    def onehot(labels: np.ndarray, k: int) -> np.ndarray:
        return np.eye(k)[labels]

    cases: dict[str, tuple[str, dict, str, np.ndarray, np.ndarray]] = {}
    cases["mse"] = ("mse", {}, "pred", rng.normal(size=(5, 3)), rng.normal(size=(5, 3)))
    cases["mse_column"] = (
        "mse",
        {},
        "pred",
        rng.normal(size=(5, 1)),
        rng.normal(size=5),
    )
    cases["mae"] = ("mae", {}, "pred", rng.normal(size=(5, 3)), rng.normal(size=(5, 3)))
    cases["huber"] = (
        "huber",
        {},
        "pred",
        2 * rng.normal(size=(6, 2)),
        rng.normal(size=(6, 2)),
    )
    cases["huber_delta"] = (
        "huber",
        {"delta": 0.5},
        "pred",
        rng.normal(size=(6, 2)),
        rng.normal(size=(6, 2)),
    )
    cases["bce"] = (
        "binary_crossentropy",
        {},
        "pred",
        rng.uniform(0.02, 0.98, size=(6, 2)),
        rng.integers(0, 2, size=(6, 2)),
    )
    cases["bce_soft"] = (
        "binary_crossentropy",
        {},
        "pred",
        rng.uniform(0.02, 0.98, size=(6, 1)),
        rng.uniform(0, 1, size=(6, 1)),
    )
    cases["bce_logits"] = (
        "binary_crossentropy",
        {"from_logits": True},
        "logits",
        np.r_[rng.normal(size=5) * 3, 30.0, -30.0].reshape(7, 1),
        rng.integers(0, 2, size=(7, 1)),
    )
    cases["bce_logits_extreme"] = (
        "binary_crossentropy",
        {"from_logits": True},
        "logits",
        np.array([[1000.0], [-1000.0], [1000.0], [-1000.0]]),
        np.array([[1.0], [0.0], [0.0], [1.0]]),
    )
    z = rng.normal(size=(5, 4)) * 2
    lab = rng.integers(0, 4, size=5)
    cases["cce"] = ("categorical_crossentropy", {}, "pred", softmax(z), onehot(lab, 4))
    soft = softmax(rng.normal(size=(5, 4)))
    cases["cce_logits_soft"] = (
        "categorical_crossentropy",
        {"from_logits": True},
        "logits",
        z,
        soft,
    )
    cases["cce_logits"] = (
        "categorical_crossentropy",
        {"from_logits": True},
        "logits",
        z,
        onehot(lab, 4),
    )
    cases["cce_logits_extreme"] = (
        "categorical_crossentropy",
        {"from_logits": True},
        "logits",
        np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]]),
        onehot(np.array([2, 0]), 3),
    )
    cases["sparse"] = ("sparse_categorical_crossentropy", {}, "pred", softmax(z), lab)
    cases["sparse_logits"] = (
        "sparse_categorical_crossentropy",
        {"from_logits": True},
        "logits",
        z,
        lab,
    )
    z3 = rng.normal(size=(3, 5, 4))
    cases["sparse_logits_nd"] = (
        "sparse_categorical_crossentropy",
        {"from_logits": True},
        "logits",
        z3,
        rng.integers(0, 4, size=(3, 5)),
    )

    arrays: dict[str, np.ndarray] = {}
    spec: dict[str, dict] = {}
    for case, (name, kwargs, kind, pred, y) in cases.items():
        x = t(pred, grad=True)
        loss = torch_loss(name, kwargs, x, y)
        loss.backward()
        arrays[f"{case}/input"] = pred
        arrays[f"{case}/y_true"] = y
        arrays[f"{case}/loss"] = n(loss)
        arrays[f"{case}/grad"] = n(x.grad)
        spec[case] = {"loss": name, "kwargs": kwargs, "input": kind}
    save("losses", arrays, spec)


# --- networks ----------------------------------------------------------------------------
ACT = {
    "linear": lambda x, a: x,
    "relu": lambda x, a: F.relu(x),
    "leaky_relu": lambda x, a: F.leaky_relu(x, 0.01 if a is None else a),
    "elu": lambda x, a: F.elu(x, 1.0 if a is None else a),
    "gelu": lambda x, a: F.gelu(x),
    "silu": lambda x, a: F.silu(x),
    "sigmoid": lambda x, a: torch.sigmoid(x),
    "tanh": lambda x, a: torch.tanh(x),
    "softplus": lambda x, a: F.softplus(x),
    "softmax": lambda x, a: F.softmax(x, dim=-1),
}


class TorchNet(nn.Module):
    """A torch network built from the nndesk layer list of a fixture spec."""

    def __init__(self, spec: dict, shapes: dict[str, tuple[int, ...]]) -> None:
        super().__init__()
        self.spec = spec
        self.mods = nn.ModuleDict()
        self.shapes = dict(shapes)  # per-sample shapes of every tensor
        for type_name, name, inputs, kw in spec["layers"]:
            ins = [self.shapes[i] for i in inputs]
            if type_name == "Dense":
                self.mods[name] = nn.Linear(
                    ins[0][-1], kw["units"], bias=kw.get("use_bias", True)
                )
                out = (kw["units"],)
            elif type_name == "BatchNorm":
                self.mods[name] = nn.BatchNorm1d(
                    ins[0][-1],
                    eps=kw.get("epsilon", 1e-5),
                    momentum=kw.get("momentum", 0.1),
                )
                out = ins[0]
            elif type_name == "Flatten":
                out = (math.prod(ins[0]),)
            elif type_name == "Reshape":
                target = list(kw["target_shape"])
                if -1 in target:
                    target[target.index(-1)] = math.prod(ins[0]) // -math.prod(target)
                out = tuple(target)
            elif type_name == "Concatenate":
                out = (*ins[0][:-1], sum(s[-1] for s in ins))
            else:  # Activation, Add
                out = ins[0]
            self.shapes[name] = out

    def forward(self, xs: dict[str, torch.Tensor]) -> torch.Tensor:
        h = dict(xs)
        for type_name, name, inputs, kw in self.spec["layers"]:
            a = [h[i] for i in inputs]
            if type_name == "Dense":
                h[name] = ACT[kw.get("activation", "linear")](
                    self.mods[name](a[0]), kw.get("alpha")
                )
            elif type_name == "Activation":
                h[name] = ACT[kw["activation"]](a[0], kw.get("alpha"))
            elif type_name == "BatchNorm":
                x = a[0]
                if x.dim() == 2:
                    h[name] = self.mods[name](x)
                else:  # channels last (batch, length, channels) -> torch's (N, C, L)
                    h[name] = self.mods[name](x.transpose(1, 2)).transpose(1, 2)
            elif type_name in ("Flatten", "Reshape"):
                h[name] = a[0].reshape(a[0].shape[0], *self.shapes[name])
            elif type_name == "Add":
                h[name] = sum(a[1:], a[0])
            elif type_name == "Concatenate":
                h[name] = torch.cat(a, dim=-1)
            else:
                raise ValueError(type_name)
        return h[self.spec["outputs"][0]]

    def penalty(self) -> torch.Tensor:
        total = torch.zeros(())
        for type_name, name, _, kw in self.spec["layers"]:
            if type_name == "Dense":
                w = self.mods[name].weight
                total = (
                    total
                    + kw.get("l1", 0.0) * w.abs().sum()
                    + kw.get("l2", 0.0) * (w**2).sum()
                )
        return total

    # nndesk layout <-> torch parameters
    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        with torch.no_grad():
            for key, value in weights.items():
                layer, param = key.split("/")
                mod = self.mods[layer]
                if param == "kernel":
                    mod.weight.copy_(t(value.T))
                elif param in ("bias", "running_mean", "running_var"):
                    getattr(mod, param).copy_(t(value))
                elif param == "gamma":
                    mod.weight.copy_(t(value))
                elif param == "beta":
                    mod.bias.copy_(t(value))

    def nndesk_keys(self) -> list[tuple[str, str, torch.Tensor, bool]]:
        """(nndesk key, kind, tensor, transpose) for every parameter and buffer."""
        out = []
        for type_name, name, _, kw in self.spec["layers"]:
            mod = self.mods[name] if name in self.mods else None
            if type_name == "Dense":
                out.append((f"{name}/kernel", "param", mod.weight, True))
                if kw.get("use_bias", True):
                    out.append((f"{name}/bias", "param", mod.bias, False))
            elif type_name == "BatchNorm":
                out += [
                    (f"{name}/gamma", "param", mod.weight, False),
                    (f"{name}/beta", "param", mod.bias, False),
                    (f"{name}/running_mean", "state", mod.running_mean, False),
                    (f"{name}/running_var", "state", mod.running_var, False),
                ]
        return out

    def get_weights(self) -> dict[str, np.ndarray]:
        return {k: n(v.T if tr else v) for k, _, v, tr in self.nndesk_keys()}

    def get_grads(self) -> dict[str, np.ndarray]:
        return {
            k: n(v.grad.T if tr else v.grad)
            for k, kind, v, tr in self.nndesk_keys()
            if kind == "param"
        }


def initial_weights(net: TorchNet, rng: np.random.Generator) -> dict[str, np.ndarray]:
    weights = {}
    for key, _, v, tr in net.nndesk_keys():
        shape = tuple(v.T.shape) if tr else tuple(v.shape)
        if key.endswith("running_mean"):
            weights[key] = np.zeros(shape)
        elif key.endswith("running_var"):
            weights[key] = np.ones(shape)
        elif key.endswith("gamma"):
            weights[key] = 1.0 + 0.2 * rng.normal(size=shape)
        elif key.endswith("kernel"):
            weights[key] = rng.normal(size=shape) / math.sqrt(shape[0])
        else:
            weights[key] = 0.3 * rng.normal(size=shape)
    return weights


def make_targets(
    loss: dict, shape: tuple[int, ...], rng: np.random.Generator
) -> np.ndarray:
    name = loss["name"]
    if name == "binary_crossentropy":
        return rng.integers(0, 2, size=shape).astype(np.float64)
    if name == "categorical_crossentropy":
        return np.eye(shape[-1])[rng.integers(0, shape[-1], size=shape[:-1])]
    if name == "sparse_categorical_crossentropy":
        return rng.integers(0, shape[-1], size=shape[:-1])
    return rng.normal(size=shape)


def make_net(name: str, spec: dict, batch: int, rng: np.random.Generator) -> None:
    shapes = {k: tuple(s) for k, s in spec["inputs"]}
    net = TorchNet(spec, shapes)
    weights = initial_weights(net, rng)
    net.set_weights(weights)
    xs_np = {k: rng.normal(size=(batch, *s)) for k, s in shapes.items()}
    out_shape = (batch, *net.shapes[spec["outputs"][0]])
    y = make_targets(spec["loss"], out_shape, rng)

    xs = {k: t(v, grad=True) for k, v in xs_np.items()}
    net.train()
    out = net(xs)
    loss = (
        torch_loss(spec["loss"]["name"], spec["loss"]["kwargs"], out, y) + net.penalty()
    )
    loss.backward()
    arrays = {f"x/{k}": v for k, v in xs_np.items()}
    arrays |= {f"w/{k}": v for k, v in weights.items()}
    arrays |= {"y": y, "out": n(out), "loss": n(loss)}
    arrays |= {f"dx/{k}": n(v.grad) for k, v in xs.items()}
    arrays |= {f"g/{k}": v for k, v in net.get_grads().items()}
    torch.optim.SGD(net.parameters(), lr=0.1).step()
    arrays |= {f"after/w/{k}": v for k, v in net.get_weights().items()}
    net.eval()
    with torch.no_grad():
        arrays["after/out_eval"] = n(net({k: t(v) for k, v in xs_np.items()}))
    save(f"net_{name}", arrays, spec)


def dense_stack(act: str, alpha: float | None = None) -> dict:
    kw = {"units": 5, "activation": act}
    if alpha is not None:
        kw["alpha"] = alpha
    return {
        "inputs": [["x", [4]]],
        "layers": [
            ["Dense", "d1", ["x"], kw],
            ["Dense", "d2", ["d1"], {"units": 3}],
        ],
        "outputs": ["d2"],
        "loss": {"name": "mse", "kwargs": {}},
    }


def loss_head(
    k: int, act: str, loss: str, kwargs: dict | None = None, unfused: bool = False
) -> dict:
    layers = [
        ["Dense", "d1", ["x"], {"units": 6, "activation": "tanh"}],
        ["Dense", "d2", ["d1"], {"units": k, "activation": act}],
    ]
    if unfused:  # a trailing identity keeps the model from fusing the activation
        layers.append(["Activation", "a", ["d2"], {"activation": "linear"}])
    return {
        "inputs": [["x", [4]]],
        "layers": layers,
        "outputs": [layers[-1][1]],
        "loss": {"name": loss, "kwargs": kwargs or {}},
    }


MSE = {"name": "mse", "kwargs": {}}

NETS: dict[str, dict] = {
    **{
        f"act_{a}": dense_stack(a)
        for a in (
            "linear",
            "relu",
            "leaky_relu",
            "elu",
            "gelu",
            "silu",
            "sigmoid",
            "tanh",
            "softplus",
            "softmax",
        )
    },
    "act_leaky_relu_alpha": dense_stack("leaky_relu", 0.2),
    "act_elu_alpha": dense_stack("elu", 0.5),
    "act_layer_elu": {
        "inputs": [["x", [4]]],
        "layers": [
            ["Dense", "d1", ["x"], {"units": 5}],
            ["Activation", "a1", ["d1"], {"activation": "elu", "alpha": 0.7}],
            ["Dense", "d2", ["a1"], {"units": 3}],
        ],
        "outputs": ["d2"],
        "loss": MSE,
    },
    "nobias_regularized": {
        "inputs": [["x", [4]]],
        "layers": [
            [
                "Dense",
                "d1",
                ["x"],
                {"units": 5, "activation": "relu", "l1": 0.01, "l2": 0.02},
            ],
            ["Dense", "d2", ["d1"], {"units": 3, "use_bias": False, "l2": 0.05}],
        ],
        "outputs": ["d2"],
        "loss": MSE,
    },
    "loss_mse": loss_head(3, "linear", "mse"),
    "loss_mae": loss_head(3, "linear", "mae"),
    "loss_huber": loss_head(3, "linear", "huber", {"delta": 0.5}),
    "loss_bce": loss_head(1, "sigmoid", "binary_crossentropy"),
    "loss_bce_multilabel": loss_head(3, "sigmoid", "binary_crossentropy"),
    "loss_bce_unfused": loss_head(1, "sigmoid", "binary_crossentropy", unfused=True),
    "loss_bce_logits": loss_head(
        1, "linear", "binary_crossentropy", {"from_logits": True}
    ),
    "loss_cce": loss_head(4, "softmax", "categorical_crossentropy"),
    "loss_cce_unfused": loss_head(
        4, "softmax", "categorical_crossentropy", unfused=True
    ),
    "loss_cce_logits": loss_head(
        4, "linear", "categorical_crossentropy", {"from_logits": True}
    ),
    "loss_sparse": loss_head(4, "softmax", "sparse_categorical_crossentropy"),
    "loss_sparse_unfused": loss_head(
        4, "softmax", "sparse_categorical_crossentropy", unfused=True
    ),
    "loss_sparse_logits": loss_head(
        4, "linear", "sparse_categorical_crossentropy", {"from_logits": True}
    ),
    "batchnorm": {
        "inputs": [["x", [4]]],
        "layers": [
            ["Dense", "d1", ["x"], {"units": 5}],
            ["BatchNorm", "bn", ["d1"], {}],
            ["Activation", "a", ["bn"], {"activation": "relu"}],
            ["Dense", "d2", ["a"], {"units": 3}],
        ],
        "outputs": ["d2"],
        "loss": MSE,
    },
    "batchnorm_nd": {
        "inputs": [["x", [12]]],
        "layers": [
            ["Reshape", "r", ["x"], {"target_shape": [3, 4]}],
            ["BatchNorm", "bn", ["r"], {"momentum": 0.2, "epsilon": 1e-3}],
            ["Flatten", "f", ["bn"], {}],
            ["Dense", "d", ["f"], {"units": 2}],
        ],
        "outputs": ["d"],
        "loss": MSE,
    },
    "skip_add": {
        "inputs": [["x", [4]]],
        "layers": [
            ["Dense", "d1", ["x"], {"units": 5, "activation": "relu"}],
            ["Dense", "d2", ["d1"], {"units": 5, "activation": "tanh"}],
            ["Add", "add", ["d1", "d2"], {}],
            ["Dense", "d3", ["add"], {"units": 2}],
        ],
        "outputs": ["d3"],
        "loss": MSE,
    },
    "concat": {
        "inputs": [["x", [4]]],
        "layers": [
            ["Dense", "d1", ["x"], {"units": 3, "activation": "relu"}],
            ["Dense", "d2", ["x"], {"units": 4, "activation": "sigmoid"}],
            ["Concatenate", "cat", ["d1", "d2"], {}],
            ["Dense", "d3", ["cat"], {"units": 2}],
        ],
        "outputs": ["d3"],
        "loss": MSE,
    },
    "two_inputs": {
        "inputs": [["a", [3]], ["b", [2]]],
        "layers": [
            ["Dense", "da", ["a"], {"units": 4, "activation": "tanh"}],
            ["Concatenate", "cat", ["da", "b"], {}],
            ["Dense", "d", ["cat"], {"units": 2}],
        ],
        "outputs": ["d"],
        "loss": MSE,
    },
    "flatten_reshape": {
        "inputs": [["x", [2, 3, 4]]],
        "layers": [
            ["Flatten", "f", ["x"], {}],
            ["Dense", "d1", ["f"], {"units": 6, "activation": "tanh"}],
            ["Reshape", "r", ["d1"], {"target_shape": [3, -1]}],
            ["Flatten", "f2", ["r"], {}],
            ["Dense", "d2", ["f2"], {"units": 2}],
        ],
        "outputs": ["d2"],
        "loss": MSE,
    },
}


# --- optimizers -------------------------------------------------------------------------
OPT_NET = {
    "inputs": [["x", [4]]],
    "layers": [
        ["Dense", "d1", ["x"], {"units": 6, "activation": "tanh"}],
        ["Dense", "d2", ["d1"], {"units": 3}],
    ],
    "outputs": ["d2"],
    "loss": MSE,
}

OPTIMIZER_CASES: dict[str, tuple[str, dict, dict | None]] = {
    "sgd": ("sgd", {"lr": 0.1}, None),
    "sgd_momentum": ("sgd", {"lr": 0.05, "momentum": 0.9}, None),
    "sgd_nesterov": ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True}, None),
    "sgd_weight_decay": (
        "sgd",
        {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1},
        None,
    ),
    "sgd_clipnorm": ("sgd", {"lr": 0.1, "clipnorm": 0.5}, None),
    "sgd_clipvalue": ("sgd", {"lr": 0.1, "clipvalue": 0.05}, None),
    "sgd_step_decay": (
        "sgd",
        {"lr": 0.2, "momentum": 0.9},
        {"name": "step", "kwargs": {"step_size": 2, "gamma": 0.5}},
    ),
    "adam": ("adam", {"lr": 0.01}, None),
    "adam_betas": ("adam", {"lr": 0.02, "beta1": 0.8, "beta2": 0.9, "eps": 1e-6}, None),
    "adam_weight_decay": ("adam", {"lr": 0.01, "weight_decay": 0.1}, None),
    "adam_clipnorm": ("adam", {"lr": 0.01, "clipnorm": 0.5}, None),
    "adam_step_decay": (
        "adam",
        {"lr": 0.05},
        {"name": "step", "kwargs": {"step_size": 2, "gamma": 0.5}},
    ),
    "adamw": ("adamw", {"lr": 0.01, "weight_decay": 0.1}, None),
    "adamw_clipnorm": ("adamw", {"lr": 0.01, "clipnorm": 0.5}, None),
    "rmsprop": ("rmsprop", {"lr": 0.01}, None),
    "rmsprop_centered_momentum": (
        "rmsprop",
        {"lr": 0.01, "centered": True, "momentum": 0.5},
        None,
    ),
    "rmsprop_weight_decay": (
        "rmsprop",
        {"lr": 0.01, "alpha": 0.9, "weight_decay": 0.1},
        None,
    ),
    "rmsprop_clipnorm": ("rmsprop", {"lr": 0.01, "clipnorm": 0.5}, None),
    "adagrad": ("adagrad", {"lr": 0.1}, None),
    "adagrad_initial_weight_decay": (
        "adagrad",
        {"lr": 0.1, "initial_accumulator_value": 0.1, "weight_decay": 0.1},
        None,
    ),
    "adagrad_clipnorm": ("adagrad", {"lr": 0.1, "clipnorm": 0.5}, None),
}

SCHEDULES = {
    "step": lambda opt, kw: torch.optim.lr_scheduler.StepLR(
        opt, kw["step_size"], kw["gamma"]
    )
}


def torch_optimizer(name: str, kw: dict, params) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(
            params,
            lr=kw["lr"],
            momentum=kw.get("momentum", 0.0),
            nesterov=kw.get("nesterov", False),
            weight_decay=kw.get("weight_decay", 0.0),
        )
    if name in ("adam", "adamw"):
        cls = torch.optim.Adam if name == "adam" else torch.optim.AdamW
        return cls(
            params,
            lr=kw["lr"],
            betas=(kw.get("beta1", 0.9), kw.get("beta2", 0.999)),
            eps=kw.get("eps", 1e-8),
            weight_decay=kw.get("weight_decay", 0.0 if name == "adam" else 0.01),
        )
    if name == "rmsprop":
        return torch.optim.RMSprop(
            params,
            lr=kw["lr"],
            alpha=kw.get("alpha", 0.99),
            eps=kw.get("eps", 1e-8),
            weight_decay=kw.get("weight_decay", 0.0),
            momentum=kw.get("momentum", 0.0),
            centered=kw.get("centered", False),
        )
    if name == "adagrad":
        return torch.optim.Adagrad(
            params,
            lr=kw["lr"],
            weight_decay=kw.get("weight_decay", 0.0),
            initial_accumulator_value=kw.get("initial_accumulator_value", 0.0),
            eps=kw.get("eps", 1e-10),
        )
    raise ValueError(name)


def make_optimizer_case(case: str, rng: np.random.Generator, steps: int = 5) -> None:
    opt_name, kw, schedule = OPTIMIZER_CASES[case]
    spec = {
        **OPT_NET,
        "optimizer": {"name": opt_name, "kwargs": kw},
        "schedule": schedule,
        "steps": steps,
    }
    net = TorchNet(spec, {"x": (4,)})
    weights = initial_weights(net, rng)
    net.set_weights(weights)
    opt = torch_optimizer(opt_name, kw, net.parameters())
    sched = SCHEDULES[schedule["name"]](opt, schedule["kwargs"]) if schedule else None
    arrays = {f"w/{k}": v for k, v in weights.items()}
    for step in range(steps):
        x = rng.normal(size=(8, 4))
        y = 2.0 * rng.normal(size=(8, 3))  # far targets, so clipnorm=0.5 is active
        opt.zero_grad()
        loss = torch_loss("mse", {}, net({"x": t(x)}), y)
        loss.backward()
        arrays[f"x/{step}"] = x
        arrays[f"y/{step}"] = y
        arrays |= {f"grads/{step}/{k}": v for k, v in net.get_grads().items()}
        if "clipnorm" in kw:
            norm = nn.utils.clip_grad_norm_(net.parameters(), kw["clipnorm"])
            assert float(norm) > kw["clipnorm"], f"{case}: clipping inactive at {step}"
        if "clipvalue" in kw:
            nn.utils.clip_grad_value_(net.parameters(), kw["clipvalue"])
        arrays[f"lr/{step}"] = np.array(opt.param_groups[0]["lr"])
        opt.step()
        if sched is not None:
            sched.step()
        arrays |= {f"params/{step}/{k}": v for k, v in net.get_weights().items()}
    save(f"optim_{case}", arrays, spec)


# --- metrics --------------------------------------------------------------------------------
def make_metrics(rng: np.random.Generator) -> None:
    arrays: dict[str, np.ndarray] = {}
    spec: dict[str, dict] = {}

    # Binary, with tied scores (rounded to one decimal).
    y = rng.integers(0, 2, size=40)
    score = np.clip(np.round(0.35 * y + rng.uniform(0, 0.65, size=40), 1), 0, 1)
    pred = (score >= 0.5).astype(int)
    fpr, tpr, thr = skm.roc_curve(y, score, drop_intermediate=False)
    arrays |= {
        "binary/y_true": y,
        "binary/y_pred": score,
        "binary/accuracy": skm.accuracy_score(y, pred),
        "binary/precision": skm.precision_score(y, pred, zero_division=0),
        "binary/recall": skm.recall_score(y, pred, zero_division=0),
        "binary/f1": skm.f1_score(y, pred, zero_division=0),
        "binary/precision_macro": skm.precision_score(
            y, pred, average="macro", zero_division=0
        ),
        "binary/confusion_matrix": skm.confusion_matrix(y, pred, labels=[0, 1]),
        "binary/roc_fpr": fpr,
        "binary/roc_tpr": tpr,
        "binary/roc_thresholds": thr,
        "binary/auc": skm.roc_auc_score(y, score),
    }
    spec["binary"] = {"kind": "binary"}

    def multiclass(case: str, y: np.ndarray, prob: np.ndarray, with_auc: bool) -> None:
        k = prob.shape[1]
        pred = prob.argmax(1)
        labels = list(range(k))
        arrays.update(
            {
                f"{case}/y_true": y,
                f"{case}/y_pred": prob,
                f"{case}/accuracy": skm.accuracy_score(y, pred),
                f"{case}/confusion_matrix": skm.confusion_matrix(
                    y, pred, labels=labels
                ),
            }
        )
        for m, fn in (
            ("precision", skm.precision_score),
            ("recall", skm.recall_score),
            ("f1", skm.f1_score),
        ):
            arrays[f"{case}/{m}"] = fn(y, pred, average="macro", zero_division=0)
            arrays[f"{case}/{m}_weighted"] = fn(
                y, pred, average="weighted", zero_division=0
            )
            arrays[f"{case}/{m}_per_class"] = fn(
                y, pred, labels=labels, average=None, zero_division=0
            )
        if with_auc:
            arrays[f"{case}/auc"] = skm.roc_auc_score(
                y, prob, multi_class="ovr", average="macro"
            )
            for c in range(k):
                fpr, tpr, thr = skm.roc_curve(
                    y == c, prob[:, c], drop_intermediate=False
                )
                arrays.update(
                    {
                        f"{case}/roc{c}_fpr": fpr,
                        f"{case}/roc{c}_tpr": tpr,
                        f"{case}/roc{c}_thresholds": thr,
                    }
                )
        spec[case] = {"kind": "multiclass", "classes": k, "auc": with_auc}

    y = rng.integers(0, 4, size=50)
    logits = rng.normal(size=(50, 4)) + 1.5 * np.eye(4)[y]
    prob = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    multiclass("multiclass", y, prob, with_auc=True)

    # Class 4 never true, class 3 never predicted: zero divisions and absent classes.
    y = rng.choice([0, 1, 2, 3], size=30)
    logits = rng.normal(size=(30, 5)) + 2.0 * np.eye(5)[y]
    logits[:, 3] = -10.0
    logits[:5, 4] = 10.0
    prob = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    multiclass("absent", y, prob, with_auc=False)

    for case, shape in (("regression", (30,)), ("regression_multi", (30, 3))):
        yt = rng.normal(size=shape)
        yp = yt + 0.5 * rng.normal(size=shape)
        arrays |= {
            f"{case}/y_true": yt,
            f"{case}/y_pred": yp,
            f"{case}/mse": skm.mean_squared_error(yt, yp),
            f"{case}/mae": skm.mean_absolute_error(yt, yp),
            f"{case}/rmse": math.sqrt(skm.mean_squared_error(yt, yp)),
            f"{case}/r2": skm.r2_score(yt, yp),
        }
        spec[case] = {"kind": "regression"}
    yt = np.ones(10)
    yp = np.linspace(0.5, 1.5, 10)
    arrays |= {
        "constant/y_true": yt,
        "constant/y_pred": yp,
        "constant/r2": skm.r2_score(yt, yp),
    }
    spec["constant"] = {"kind": "r2_only"}
    save("metrics", arrays, spec)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for old in OUT.glob("*.npz"):
        if not old.name.startswith("conv_"):  # make_conv_fixtures.py writes those
            old.unlink()
    make_losses(np.random.default_rng(1))
    for i, (name, spec) in enumerate(NETS.items()):
        batch = 6
        make_net(name, spec, batch, np.random.default_rng(100 + i))
    for i, case in enumerate(OPTIMIZER_CASES):
        make_optimizer_case(case, np.random.default_rng(200 + i))
    make_metrics(np.random.default_rng(3))
    total = sum(p.stat().st_size for p in OUT.glob("*.npz"))
    print(
        f"wrote {len(list(OUT.glob('*.npz')))} fixtures, {total / 1024:.0f} KiB, torch {torch.__version__}"
    )


if __name__ == "__main__":
    main()
