"""The text templates of a GAN's PyTorch project (``@NAME@`` marks a blank).

``gan_export`` fills them in; generator.py and discriminator.py are written by
``torch_project.model_source`` as for any network. Nothing here runs in nndesk.
"""

from __future__ import annotations

from .templates import SETUP_FUNCTION

GAN_TRAIN_PY = (
    '''"""Train the exported GAN with PyTorch, on one process or many (nndesk @VERSION@).

    python train.py --device cpu              # one process (or --device cuda)
    torchrun --nproc_per_node=4 train.py      # data parallel, 4 processes

The real samples are the dataset network.nndesk names, read by nndesk (pip
install nndesk) as the app reads them (labels ignored). Every batch of real
samples is one discriminator step; after every CONFIG["d_steps"] of them comes
one generator step on a batch of fresh noise, as nndesk's GanTrainer does. The
loss is the GAN's ("standard": the non-saturating loss on the discriminator's
logit; "least_squares"; "wasserstein" with the discriminator's weights clipped
after each of its steps), with two optimizers of the settings' kind and their
own learning rates (CONFIG below).

Under torchrun each process takes its DistributedSampler share of the real
samples and draws its own noise (batch_size / world_size each), and the
gradients are averaged across processes before every step (gloo on CPU, NCCL on
CUDA), so a step sees the settings' batch size. The averaging is written out
rather than left to DistributedDataParallel, whose one-forward-one-backward
bookkeeping does not fit a discriminator that scores two batches per step.
Rank 0 logs, writes checkpoint.npz after every epoch, and at the end writes the
trained GAN, its history extended by this run, to --out (trained.nndesk).
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F  # noqa: N812
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

import discriminator as discriminator_module
import generator as generator_module

HERE = Path(__file__).resolve().parent

CONFIG = @CONFIG@

LOG_KEYS = ("d_loss", "g_loss", "d_real", "d_fake")


def load_data(network: Path) -> np.ndarray:
    """nndesk's real samples, shaped as the discriminator's Input takes them."""
    from nndesk.training.gan import GanSession

    session = GanSession.open(network)
    return session.prepare(session.load_dataset())


def make_optimizer(params, lr: float) -> torch.optim.Optimizer:
    """The settings' optimizer (CONFIG["optimizer_arguments"]) at rate ``lr``."""
    args = dict(CONFIG["optimizer_arguments"])
    args.pop("lr")
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


def noise(n: int, rng: torch.Generator) -> torch.Tensor:
    """``n`` noise samples: standard normal, or uniform on [-1, 1]."""
    shape = (n, *CONFIG["noise_shape"])
    if CONFIG["distribution"] == "uniform":
        return torch.rand(shape, generator=rng) * 2.0 - 1.0
    return torch.randn(shape, generator=rng)


def discriminator_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The discriminator's loss on its raw outputs (logits for "standard")."""
    kind = CONFIG["loss"]
    if kind == "standard":  # BCE(sigmoid(real), 1) + BCE(sigmoid(fake), 0)
        return F.softplus(-real).mean() + F.softplus(fake).mean()
    if kind == "least_squares":
        return 0.5 * ((real - 1.0) ** 2).mean() + 0.5 * (fake**2).mean()
    return fake.mean() - real.mean()  # wasserstein


def generator_loss(fake: torch.Tensor) -> torch.Tensor:
    """The generator's loss on the discriminator's raw outputs for its samples."""
    kind = CONFIG["loss"]
    if kind == "standard":  # non-saturating: -log D(G(z))
        return F.softplus(-fake).mean()
    if kind == "least_squares":
        return 0.5 * ((fake - 1.0) ** 2).mean()
    return -fake.mean()  # wasserstein


def mean_output(out: torch.Tensor) -> float:
    """The discriminator's mean output: a probability for "standard"."""
    if CONFIG["loss"] == "standard":
        return float(torch.sigmoid(out).mean())
    return float(out.mean())


def penalty(model: nn.Module, which: str) -> torch.Tensor | float:
    """The L1/L2 terms nndesk adds for the layers of one network that have them."""
    total: torch.Tensor | float = 0.0
    for name, (l1, l2) in CONFIG[f"regularized_{which}"].items():
        layer = getattr(model, name)
        w = (layer.inner if hasattr(layer, "inner") else layer).weight
        total = total + l1 * w.abs().sum() + l2 * (w * w).sum()
    return total


def finish_gradients(model: nn.Module, world: int) -> None:
    """Average the gradients over the processes, then clip as the settings say."""
    params = [p for p in model.parameters() if p.grad is not None]
    if world > 1:
        for p in params:
            dist.all_reduce(p.grad)
            p.grad /= world
    args = CONFIG["optimizer_arguments"]
    if args.get("clipnorm"):
        nn.utils.clip_grad_norm_(params, args["clipnorm"])
    if args.get("clipvalue"):
        nn.utils.clip_grad_value_(params, args["clipvalue"])


def discriminator_step(g, d, optimizer, real, z, world: int = 1) -> dict[str, float]:
    """One discriminator update on real samples and the generator's samples of
    ``z`` (the generator runs in training mode, as in nndesk, but learns nothing)."""
    with torch.no_grad():
        fake = g(z)
    optimizer.zero_grad()
    real_out = d(real, logits=True)
    fake_out = d(fake, logits=True)
    loss = discriminator_loss(real_out, fake_out) + penalty(d, "discriminator")
    loss.backward()
    finish_gradients(d, world)
    optimizer.step()
    if CONFIG["loss"] == "wasserstein":
        with torch.no_grad():
            for p in d.parameters():
                p.clamp_(-CONFIG["clip_value"], CONFIG["clip_value"])
    return {
        "d_loss": float(loss.detach()),
        "d_real": mean_output(real_out.detach()),
        "d_fake": mean_output(fake_out.detach()),
    }


def generator_step(g, d, optimizer, z, world: int = 1) -> dict[str, float]:
    """One generator update through the discriminator, whose weights stay."""
    optimizer.zero_grad()
    out = d(g(z), logits=True)
    loss = generator_loss(out) + penalty(g, "generator")
    loss.backward()
    finish_gradients(g, world)
    optimizer.step()
    return {"g_loss": float(loss.detach())}


'''
    + SETUP_FUNCTION
    + '''

def nndesk_weights(g, d) -> dict[str, np.ndarray]:
    """Both networks' weights under nndesk's keys."""
    return {**generator_module.nndesk_weights(g), **discriminator_module.nndesk_weights(d)}


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
    rng = torch.Generator().manual_seed(CONFIG["seed"] * 1009 + rank)
    real_samples = load_data(Path(args.network))
    g = generator_module.Network()
    d = discriminator_module.Network()
    weights = np.load(args.weights, allow_pickle=False)
    generator_module.load_weights(g, weights)
    discriminator_module.load_weights(d, weights)
    g.to(device).train()
    d.to(device).train()
    g_opt = make_optimizer(g.parameters(), CONFIG["generator_lr"])
    d_opt = make_optimizer(d.parameters(), CONFIG["discriminator_lr"])
    data = TensorDataset(torch.as_tensor(real_samples))
    sampler = DistributedSampler(
        data, num_replicas=world, rank=rank, shuffle=True, seed=CONFIG["seed"]
    )
    batch = max(1, math.ceil(CONFIG["batch_size"] / world))
    loader = DataLoader(data, batch_size=batch, sampler=sampler)
    history: dict[str, list[float]] = {}
    since_generator_step = 0
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        sums = torch.zeros(2 * len(LOG_KEYS), dtype=torch.float64)
        for (real,) in loader:
            real = real.to(device)
            z = noise(len(real), rng).to(device)
            logs = discriminator_step(g, d, d_opt, real, z, world)
            since_generator_step += 1
            if since_generator_step >= CONFIG["d_steps"]:
                since_generator_step = 0
                z = noise(batch, rng).to(device)
                logs.update(generator_step(g, d, g_opt, z, world))
            for i, key in enumerate(LOG_KEYS):
                if key in logs:
                    sums[2 * i] += logs[key]
                    sums[2 * i + 1] += 1
        if world > 1:
            dist.all_reduce(sums)
        means = {
            key: float(sums[2 * i] / sums[2 * i + 1])
            for i, key in enumerate(LOG_KEYS)
            if sums[2 * i + 1] > 0
        }
        for key, value in means.items():
            history.setdefault(key, []).append(value)
        if rank == 0:
            line = "  ".join(f"{k} {v:.4f}" for k, v in means.items())
            print(f"epoch {epoch + 1}/{args.epochs}  {line}", flush=True)
            np.savez(HERE / "checkpoint.npz", **nndesk_weights(g, d))
    if rank == 0:
        write_network(Path(args.network), Path(args.out), nndesk_weights(g, d), history)
        print(f"wrote {args.out}", flush=True)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


def write_network(source: Path, target: Path, weights, history) -> None:
    """The GAN file with the trained weights and this run in its history (the
    optimizers' moments and step counters start afresh in nndesk)."""
    from nndesk.io.project_file import load_project, save_project

    project = load_project(source)
    project.weights = weights
    project.optimizer_state, project.optimizer_name = {}, None
    project.run_state = None
    project.gan_state = None
    for key, values in history.items():
        project.history.setdefault(key, []).extend(values)
    save_project(target, project)


if __name__ == "__main__":
    main()
'''
)

GAN_README_MD = """# @TITLE@ as a PyTorch project (a GAN)

Written by nndesk @VERSION@. Needs PyTorch and nndesk (for the data and the network
file): `pip install torch nndesk`.

- `generator.py`: the generator as an `nn.Module` (`Network`), noise -> sample,
  one attribute per canvas node.
- `discriminator.py`: the discriminator, sample -> score; `forward(x)` gives the
  probability of being real for the standard loss, `forward(x, logits=True)` the
  logit the loss reads.
- `weights.npz`: both networks' weights under nndesk's keys (no pickle); each
  module's `load_weights` takes its own.
- `network.nndesk`: the GAN file (settings, dataset) train.py reads.
- `train.py`: trains both with the GAN's loss, its discriminator steps per
  generator step and learning rates.

```sh
python train.py --device cpu                 # one process
torchrun --nproc_per_node=4 train.py         # 4 processes, gradients averaged
```

Rank 0 writes `trained.nndesk` at the end: open it in nndesk to see the run in the
GAN curves and keep working on it.
"""
