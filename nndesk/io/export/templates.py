"""The text templates of the PyTorch project export (``@NAME@`` marks a blank).

Plain strings in a module, so the wheel and the packaged app carry them without
package-data rules; ``torch_project`` fills them in. Nothing here runs in nndesk.
"""

from __future__ import annotations

MODEL_PY = '''"""The nndesk network @TITLE@ as a PyTorch module (written by nndesk @VERSION@).

Tensors are (batch, *shape) and channels-last, as in nndesk. One attribute per
canvas node, named by its node id; forward follows the graph. forward(x) returns
what nndesk's predict returns; forward(x, logits=True) leaves out the final
sigmoid or softmax, which the training loss applies itself.

weights.npz holds nndesk's weights under nndesk's keys ("dense_1/kernel");
WEIGHTS below says how each maps to the module (Dense and convolution kernels
change layout, everything else keeps it).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

INPUT_SHAPE = @INPUT_SHAPE@


class BatchNormLast(nn.BatchNorm1d):
    """BatchNorm over the last axis (channels-last), as nndesk's BatchNorm."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(x.shape[0], -1, x.shape[-1]).transpose(1, 2)
        return super().forward(rows).transpose(1, 2).reshape(x.shape)


class Reshape(nn.Module):
    """Each sample to a new shape (one -1 inferred)."""

    def __init__(self, *shape: int) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)


class Add(nn.Module):
    """Element-wise sum of the inputs, in edge order."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Concatenate(nn.Module):
    """Joins the inputs along a per-sample axis (-1: the last)."""

    def __init__(self, axis: int) -> None:
        super().__init__()
        self.axis = axis if axis < 0 else axis + 1

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=self.axis)


def _same_pads(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """nndesk's (and Keras') "same": the odd padding goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


class ChannelsLast(nn.Module):
    """Runs a channels-first convolution or pool on channels-last tensors, with
    nndesk's padding ("same" pads after when the total is odd)."""

    def __init__(self, inner: nn.Module, kernel, stride, dilation, padding: str,
                 fill: float = 0.0) -> None:
        super().__init__()
        self.inner = inner
        self.window = (tuple(kernel), tuple(stride), tuple(dilation))
        self.padding = padding
        self.fill = fill

    def pads(self, spatial) -> list[int]:
        if self.padding != "same":
            return []
        pads: list[int] = []
        for size, k, s, d in reversed(list(zip(spatial, *self.window))):
            pads += _same_pads(size, k, s, d)
        return pads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rank = x.ndim
        y = x.permute(0, rank - 1, *range(1, rank - 1))
        pads = self.pads(x.shape[1:-1])
        if any(pads):
            y = F.pad(y, pads, value=self.fill)
        y = self.inner(y)
        return y.permute(0, *range(2, rank), 1)


class ConvTransposeLast(nn.Module):
    """A ConvTranspose2d on channels-last tensors with nndesk's output size:
    "valid" keeps the full (n - 1) * stride + span, "same" crops it to n * stride
    as Conv2D pads (the extra at the bottom and right); rows past the full output
    (a stride above the span) come from output_size (bias only)."""

    def __init__(self, inner: nn.ConvTranspose2d, padding: str) -> None:
        super().__init__()
        self.inner = inner
        self.padding = padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        full, crop, out = [], [], []
        inner = self.inner
        window = zip(x.shape[1:3], inner.kernel_size, inner.stride, inner.dilation)
        for n, k, s, d in window:
            whole = (n - 1) * s + d * (k - 1) + 1
            start = max(d * (k - 1) + 1 - s, 0) // 2 if self.padding == "same" else 0
            size = n * s if self.padding == "same" else whole
            full.append(max(whole, start + size))
            crop.append(start)
            out.append(size)
        y = self.inner(x.permute(0, 3, 1, 2), output_size=full)
        y = y[:, :, crop[0] : crop[0] + out[0], crop[1] : crop[1] + out[1]]
        return y.permute(0, 2, 3, 1)


class AvgPoolLast(ChannelsLast):
    """Mean over each window, leaving padded positions out (as nndesk)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sums = super().forward(x)
        pads = self.pads(x.shape[1:-1])
        if not any(pads):
            return sums
        ones = torch.ones_like(x[..., :1])
        return sums / super().forward(ones)


class GlobalPool(nn.Module):
    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "max":
            return x.amax(dim=(1, 2))
        return x.mean(dim=(1, 2))


class UpSampling(nn.Module):
    def __init__(self, rows: int, cols: int) -> None:
        super().__init__()
        self.size = (rows, cols)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.repeat_interleave(self.size[0], 1).repeat_interleave(self.size[1], 2)


@HELPERS@
class Network(nn.Module):
    def __init__(self) -> None:
        super().__init__()
@ATTRIBUTES@

    def forward(self, x: torch.Tensor, logits: bool = False) -> torch.Tensor:
@FORWARD@


# nndesk weight key -> (state_dict key, axes: nndesk's array.transpose(axes) is
# PyTorch's, e.g. a Dense kernel (in, out) -> (out, in), a Conv2D kernel
# (kh, kw, in, out) -> (out, in, kh, kw); None keeps the layout)
WEIGHTS = @WEIGHTS@


def load_weights(model: Network, path: str = "weights.npz") -> None:
    """Copy nndesk's weights (weights.npz, or a network's weights) into ``model``."""
    arrays = np.load(path, allow_pickle=False) if isinstance(path, str) else path
    state = {}
    for key, (name, axes) in WEIGHTS.items():
        value = np.asarray(arrays[key], dtype=np.float32)
        if axes is not None:
            value = value.transpose(axes)
        state[name] = torch.from_numpy(np.ascontiguousarray(value))
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ValueError(f"weights do not fit the model: {missing or unexpected}")


def nndesk_weights(model: Network) -> dict[str, np.ndarray]:
    """The model's weights under nndesk's keys and layouts (float32)."""
    state = model.state_dict()
    out = {}
    for key, (name, axes) in WEIGHTS.items():
        value = state[name].detach().cpu().numpy().astype(np.float32)
        if axes is not None:
            value = value.transpose(np.argsort(axes))
        out[key] = np.ascontiguousarray(value)
    return out
'''

SETUP_FUNCTION = '''def setup(device_name: str):
    """Rank, world size and device; joins the process group under torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world > 1:
        cuda = device_name == "cuda" or (
            device_name == "auto" and torch.cuda.is_available()
        )
        dist.init_process_group("nccl" if cuda else "gloo")
        if cuda:
            local = int(os.environ.get("LOCAL_RANK", "0"))
            torch.cuda.set_device(local)
            return rank, world, torch.device("cuda", local)
        return rank, world, torch.device("cpu")
    if device_name == "auto":
        device_name = "cuda" if torch.cuda.is_available() else "cpu"
    return rank, world, torch.device(device_name)
'''
"""``setup`` of both exported train.py files (a network's and a GAN's)."""

TRAIN_PY = (
    '''"""Train the exported network with PyTorch, on one process or many (nndesk @VERSION@).

    python train.py --device cpu              # one process (or --device cuda)
    torchrun --nproc_per_node=4 train.py      # DistributedDataParallel

The data is the dataset network.nndesk names, read by nndesk (pip install nndesk)
with the same readers, validation split and feature scaling as the app. The loss,
optimizer, learning-rate schedule, batch size, epochs and early stopping are the
network's settings (CONFIG below). Under torchrun each process trains on its
DistributedSampler share (set_epoch every epoch; gloo on CPU, NCCL on CUDA) with
batch_size / world_size samples per step, so a step sees the settings' batch size.
Rank 0 logs, writes checkpoint.npz after every epoch, and at the end writes the
trained network, its history extended by this run, to --out (trained.nndesk).
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from model import Network, load_weights, nndesk_weights

HERE = Path(__file__).resolve().parent

CONFIG = @CONFIG@


def load_data(network: Path):
    """nndesk's training and validation arrays: split, scaled and encoded."""
    from nndesk.training.session import TrainingSession

    session = TrainingSession.open(network)
    data = session.prepare(session.load_dataset())
    return data.x_train, data.y_train, data.x_val, data.y_val


def targets(y: np.ndarray) -> torch.Tensor:
    """Class ids (one per sample, or one per time step: (n, time)) or values."""
    if CONFIG["loss"] == "sparse_categorical_crossentropy":
        y = np.asarray(y)
        shape = (len(y),) if y.size == len(y) else (len(y), -1)
        return torch.as_tensor(y.reshape(shape), dtype=torch.long)
    return torch.as_tensor(np.asarray(y, dtype=np.float32).reshape(len(y), -1))


def scored(loss_fn: nn.Module, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The loss of logits ``out``; class ids per time step count as one batch of
    positions (nndesk's mean over every position)."""
    if CONFIG["loss"] == "sparse_categorical_crossentropy":
        return loss_fn(out.reshape(-1, out.shape[-1]), y.reshape(-1))
    return loss_fn(out, y)


def make_loss() -> nn.Module:
    return eval(CONFIG["loss_module"], {"nn": nn})  # noqa: S307 (a literal above)


def make_optimizer(params) -> torch.optim.Optimizer:
    args = dict(CONFIG["optimizer_arguments"])
    lr = args.pop("lr")
    args.pop("clipnorm", None)
    args.pop("clipvalue", None)
    name = CONFIG["optimizer"]
    if name in ("adam", "adamw"):
        betas = (args.pop("beta1"), args.pop("beta2"))
        cls = torch.optim.Adam if name == "adam" else torch.optim.AdamW
        return cls(params, lr=lr, betas=betas, **args)
    classes = {
        "sgd": torch.optim.SGD,
        "rmsprop": torch.optim.RMSprop,
        "adagrad": torch.optim.Adagrad,
    }
    return classes[name](params, lr=lr, **args)


def schedule_per_step() -> bool:
    """Whether the schedule steps after every batch (a warm-up counted in steps)
    rather than after every epoch."""
    warm = CONFIG["lr_schedule"] == "warmup_cosine"
    return warm and CONFIG["lr_warmup_epochs"] is None


def make_schedule(optimizer: torch.optim.Optimizer, batches: int = 1):
    """The settings' schedule; ``batches`` per epoch sizes a per-step one."""
    name = CONFIG["lr_schedule"]
    if name == "step":
        return torch.optim.lr_scheduler.StepLR(
            optimizer, CONFIG["lr_step_size"], CONFIG["lr_gamma"]
        )
    if name == "exponential":
        return torch.optim.lr_scheduler.ExponentialLR(optimizer, CONFIG["lr_gamma"])
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, CONFIG["epochs"], CONFIG["lr_min"]
        )
    if name == "warmup_cosine":
        # Counted in steps (after every batch) or, in networks from before step
        # warm-ups, in epochs; linear to 1, then a cosine to lr_min at the end.
        if schedule_per_step():
            warmup, total = CONFIG["lr_warmup_steps"], CONFIG["epochs"] * batches
        else:
            warmup, total = CONFIG["lr_warmup_epochs"], CONFIG["epochs"]
        base, low = CONFIG["optimizer_arguments"]["lr"], CONFIG["lr_min"]

        def factor(t: int) -> float:
            if t < warmup:
                return (t + 1) / (warmup + 1)
            x = 1.0  # a warm-up as long as the run leaves no cosine
            if total > warmup:
                x = min(t - warmup, total - warmup) / (total - warmup)
            return (low + (base - low) * (1 + math.cos(math.pi * x)) / 2) / base

        return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    return None


def penalty(model: nn.Module) -> torch.Tensor | float:
    """The L1/L2 terms nndesk adds for layers that have them."""
    total: torch.Tensor | float = 0.0
    for name, (l1, l2) in CONFIG["regularized"].items():
        layer = getattr(model, name)
        w = (layer.inner if hasattr(layer, "inner") else layer).weight
        total = total + l1 * w.abs().sum() + l2 * (w * w).sum()
    return total


def train_step(model, optimizer, loss_fn, x, y) -> float:
    """One optimizer step on one batch; returns the batch loss."""
    optimizer.zero_grad()
    loss = scored(loss_fn, model(x, logits=True), y) + penalty(_plain(model))
    loss.backward()
    args = CONFIG["optimizer_arguments"]
    if args.get("clipnorm"):
        nn.utils.clip_grad_norm_(model.parameters(), args["clipnorm"])
    if args.get("clipvalue"):
        nn.utils.clip_grad_value_(model.parameters(), args["clipvalue"])
    optimizer.step()
    return float(loss.detach())


@torch.no_grad()
def evaluate(model, loss_fn, x, y) -> dict[str, float]:
    model.eval()
    out = model(x, logits=True)
    logs = {"loss": float(scored(loss_fn, out, y)) + float(penalty(_plain(model)))}
    if CONFIG["classifier"]:
        logs["accuracy"] = accuracy(out, y)
    model.train()
    return logs


def accuracy(out: torch.Tensor, y: torch.Tensor) -> float:
    if out.shape[-1] == 1:
        predicted = (out.reshape(-1) > 0).long()
        truth = y.reshape(-1).long()
    else:
        predicted = out.argmax(-1)
        truth = y if not y.is_floating_point() else y.argmax(-1)  # ids or one-hot
    return float((predicted == truth).float().mean())


def _plain(model: nn.Module) -> Network:
    return model.module if isinstance(model, DistributedDataParallel) else model


'''
    + SETUP_FUNCTION
    + '''

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--epochs", type=int, default=CONFIG["epochs"])
    parser.add_argument("--network", default=str(HERE / "network.nndesk"))
    parser.add_argument("--weights", default=str(HERE / "weights.npz"))
    parser.add_argument("--out", default=str(HERE / "trained.nndesk"))
    args = parser.parse_args(argv)
    rank, world, device = setup(args.device)
    torch.manual_seed(CONFIG["seed"])
    x_train, y_train, x_val, y_val = load_data(Path(args.network))
    model = Network()
    load_weights(model, args.weights)
    model.to(device)
    net = DistributedDataParallel(model) if world > 1 else model
    loss_fn = make_loss()
    optimizer = make_optimizer(net.parameters())
    train = TensorDataset(torch.as_tensor(x_train), targets(y_train))
    sampler = DistributedSampler(
        train, num_replicas=world, rank=rank, shuffle=CONFIG["shuffle"],
        seed=CONFIG["seed"],
    )
    batch = max(1, math.ceil(CONFIG["batch_size"] / world))
    loader = DataLoader(train, batch_size=batch, sampler=sampler)
    schedule = make_schedule(optimizer, len(loader))
    per_step = schedule is not None and schedule_per_step()
    val = None
    if x_val is not None and len(x_val):
        val = (torch.as_tensor(x_val).to(device), targets(y_val).to(device))
    history: dict[str, list[float]] = {}
    monitor = CONFIG["early_stopping_metric"]
    patience = CONFIG["early_stopping_patience"]
    best, best_weights, waited = math.inf, None, 0
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        net.train()
        total = torch.zeros(2, dtype=torch.float64, device=device)
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            total[0] += train_step(net, optimizer, loss_fn, xb, yb) * len(xb)
            total[1] += len(xb)
            if per_step:
                schedule.step()
        if world > 1:
            dist.all_reduce(total)
        logs = {"loss": float(total[0] / total[1])}
        if val is not None:  # every rank scores all of it, so all decide alike
            logs.update({f"val_{k}": v for k, v in evaluate(net, loss_fn, *val).items()})
        for key, value in logs.items():
            history.setdefault(key, []).append(value)
        if schedule is not None and not per_step:
            schedule.step()
        if rank == 0:
            line = "  ".join(f"{k} {v:.4f}" for k, v in logs.items())
            print(f"epoch {epoch + 1}/{args.epochs}  {line}", flush=True)
            np.savez(HERE / "checkpoint.npz", **nndesk_weights(model))
        if patience > 0 and monitor in logs:
            if logs[monitor] < best - CONFIG["early_stopping_min_delta"]:
                best, best_weights, waited = logs[monitor], nndesk_weights(model), 0
            else:
                waited += 1
                if waited >= patience:
                    if rank == 0:
                        print(f"early stopping: {monitor} has not improved for "
                              f"{patience} epochs; restoring the best weights")
                    load_weights(model, best_weights)
                    break
    if rank == 0:
        write_network(Path(args.network), Path(args.out), nndesk_weights(model), history)
        print(f"wrote {args.out}", flush=True)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


def write_network(source: Path, target: Path, weights, history) -> None:
    """The network file with the trained weights and this run in its history."""
    from nndesk.io.project_file import load_project, save_project

    project = load_project(source)
    project.weights = weights
    project.optimizer_state, project.optimizer_name = {}, None
    project.run_state = None
    for key, values in history.items():
        project.history.setdefault(key, []).extend(values)
    save_project(target, project)


if __name__ == "__main__":
    main()
'''
)

README_MD = """# @TITLE@ as a PyTorch project

Written by nndesk @VERSION@. Needs PyTorch and nndesk (for the data and the network
file): `pip install torch nndesk`.

- `model.py`: the network as an `nn.Module`, one attribute per canvas node.
- `weights.npz`: its weights under nndesk's keys (no pickle); `load_weights` maps them.
- `network.nndesk`: the network file (settings, dataset, scaling) train.py reads.
- `train.py`: trains it with the network's settings.

```sh
python train.py --device cpu                 # one process
torchrun --nproc_per_node=4 train.py         # 4 processes, DistributedDataParallel
```

Rank 0 writes `trained.nndesk` at the end: open it in nndesk to see the run in the
learning curves and keep working on the network.
"""
