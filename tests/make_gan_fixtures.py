"""Write the PyTorch reference fixtures of GAN training steps in tests/fixtures/gan/.

Run by hand with the reference venv (it needs torch, which the tests never import)::

    /work/refvenv/bin/python tests/make_gan_fixtures.py

For each loss (standard, least_squares, wasserstein) a small GAN document is
compiled by nndesk (float32, seeded), its initial weights are copied into a
hand-written PyTorch generator and discriminator, and PyTorch trains them with
the step docs/gan.md describes: a discriminator step on a real batch and a
generated one (two passes, gradients summed), then a generator step through the
discriminator; after the first such round, ``rounds - 1`` more rounds of k
discriminator steps and one generator step. Each ``gan_<loss>.npz`` holds:

- ``graph``: the document as JSON (``Document.to_dict()``), so the test rebuilds
  the networks from the file alone;
- ``w0/<key>``: the initial weights of both networks in nndesk's layout (Dense
  kernel ``(in, units)``: torch's ``Linear.weight`` transposed);
- ``real_<r>_<j>``, ``noise_d_<r>_<j>``, ``noise_g_<r>``: the batches of round r;
- ``after_d/<key>``, ``after_g/<key>``: every weight after the first discriminator
  step and after the first generator step; ``final/<key>`` after all rounds;
- ``d_loss``, ``g_loss``: the losses of every step, in order.

Everything runs in float32 from fixed seeds, so a rerun writes the same numbers.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nndesk.document import Document
from nndesk.training.gan import GanTrainer, compile_gan

OUT = Path(__file__).resolve().parent / "fixtures" / "gan"
torch.set_default_dtype(torch.float32)


def gan_document(loss: str) -> Document:
    """A small 2-D GAN: BatchNorm in the generator (standard), in the
    discriminator (least squares), plain Dense layers for Wasserstein."""
    optimizer = "rmsprop" if loss == "wasserstein" else "adam"
    doc = Document(
        {"dataset": "moons", "batch_size": 6, "seed": 3, "optimizer": optimizer}
    )
    noise = doc.add_node(
        "Noise",
        {
            "shape": (3,),
            "gan_loss": loss,
            "d_steps": 2 if loss == "wasserstein" else 1,
            "generator_lr": 0.01,
            "discriminator_lr": 0.02,
            "clip_value": 0.05,
            "distribution": "uniform" if loss == "least_squares" else "normal",
        },
    )
    chain = [noise]
    chain.append(doc.add_node("Dense", {"units": 8, "activation": "relu"}))
    if loss == "standard":
        chain.append(doc.add_node("BatchNorm"))
    chain.append(doc.add_node("Dense", {"units": 2, "activation": "linear"}))
    for a, b in zip(chain, chain[1:], strict=False):
        doc.connect(a, "out", b, "in")
    end = "sigmoid" if loss == "standard" else "linear"
    chain = [doc.add_node("Input", {"shape": (2,)})]
    chain.append(
        doc.add_node("Dense", {"units": 8, "activation": "leaky_relu", "alpha": 0.2})
    )
    if loss == "least_squares":
        chain.append(doc.add_node("BatchNorm"))
    chain.append(doc.add_node("Dense", {"units": 1, "activation": end}))
    chain.append(doc.add_node("Output", {"loss": "binary_crossentropy"}))
    for a, b in zip(chain, chain[1:], strict=False):
        doc.connect(a, "out", b, "in")
    return doc


class Net(nn.Module):
    """A torch copy of an nndesk engine model of Dense and BatchNorm layers."""

    def __init__(self, model) -> None:  # noqa: ANN001 - an engine Model
        super().__init__()
        self.names: list[str] = []
        self.kinds: list[str] = []
        self.acts: list[tuple[str, float | None]] = []
        mods = []
        weights = model.get_weights()
        for layer in model.layers[1:]:
            cfg = layer.get_config()
            if layer.type_name == "Dense":
                kernel = weights[f"{layer.name}/kernel"]
                lin = nn.Linear(*kernel.shape)
                mods.append(lin)
                self.acts.append((cfg["activation"], cfg.get("alpha")))
            elif layer.type_name == "BatchNorm":
                width = weights[f"{layer.name}/gamma"].shape[0]
                mods.append(
                    nn.BatchNorm1d(width, momentum=cfg["momentum"], eps=cfg["epsilon"])
                )
                self.acts.append(("linear", None))
            else:
                raise ValueError(layer.type_name)
            self.names.append(layer.name)
            self.kinds.append(layer.type_name)
        self.mods = nn.ModuleList(mods)
        self.load(weights)

    def load(self, weights: dict[str, np.ndarray]) -> None:
        with torch.no_grad():
            for name, kind, mod in zip(self.names, self.kinds, self.mods, strict=True):
                if kind == "Dense":
                    mod.weight.copy_(torch.tensor(weights[f"{name}/kernel"].T))
                    mod.bias.copy_(torch.tensor(weights[f"{name}/bias"]))
                else:
                    mod.weight.copy_(torch.tensor(weights[f"{name}/gamma"]))
                    mod.bias.copy_(torch.tensor(weights[f"{name}/beta"]))
                    mod.running_mean.copy_(
                        torch.tensor(weights[f"{name}/running_mean"])
                    )
                    mod.running_var.copy_(torch.tensor(weights[f"{name}/running_var"]))

    def dump(self) -> dict[str, np.ndarray]:
        out = {}
        for name, kind, mod in zip(self.names, self.kinds, self.mods, strict=True):
            if kind == "Dense":
                out[f"{name}/kernel"] = mod.weight.detach().numpy().T.copy()
                out[f"{name}/bias"] = mod.bias.detach().numpy().copy()
            else:
                out[f"{name}/gamma"] = mod.weight.detach().numpy().copy()
                out[f"{name}/beta"] = mod.bias.detach().numpy().copy()
                out[f"{name}/running_mean"] = mod.running_mean.numpy().copy()
                out[f"{name}/running_var"] = mod.running_var.numpy().copy()
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for mod, (act, alpha) in zip(self.mods, self.acts, strict=True):
            x = mod(x)
            if act == "relu":
                x = F.relu(x)
            elif act == "leaky_relu":
                x = F.leaky_relu(x, alpha)
            elif act == "tanh":
                x = torch.tanh(x)
            elif act != "linear":
                raise ValueError(act)
        return x


def d_term(kind: str, s: torch.Tensor, real: bool) -> torch.Tensor:
    if kind == "standard":
        target = torch.ones_like(s) if real else torch.zeros_like(s)
        return F.binary_cross_entropy_with_logits(s, target)
    if kind == "least_squares":
        return 0.5 * ((s - (1.0 if real else 0.0)) ** 2).mean()
    return -s.mean() if real else s.mean()


def g_term(kind: str, s: torch.Tensor) -> torch.Tensor:
    if kind == "standard":
        return F.binary_cross_entropy_with_logits(s, torch.ones_like(s))
    if kind == "least_squares":
        return 0.5 * ((s - 1.0) ** 2).mean()
    return -s.mean()


def torch_optimizer(config: dict, name: str, params) -> torch.optim.Optimizer:  # noqa: ANN001
    if name == "adam":
        return torch.optim.Adam(
            params,
            lr=config["lr"],
            betas=(config["beta1"], config["beta2"]),
            eps=config["eps"],
        )
    return torch.optim.RMSprop(
        params, lr=config["lr"], alpha=config["alpha"], eps=config["eps"]
    )


def make_case(kind: str, rounds: int = 3) -> None:
    doc = gan_document(kind)
    gan = compile_gan(doc)
    trainer = GanTrainer(gan)
    k = trainer.config.d_steps
    clip = trainer.config.clip_value
    opt_name = str(doc.settings["optimizer"])
    net_g, net_d = Net(gan.generator), Net(gan.discriminator)
    net_g.train()
    net_d.train()
    opt_g = torch_optimizer(
        trainer.g_optimizer.get_config(), opt_name, net_g.parameters()
    )
    opt_d = torch_optimizer(
        trainer.d_optimizer.get_config(), opt_name, net_d.parameters()
    )
    rng = np.random.default_rng(
        ["standard", "least_squares", "wasserstein"].index(kind)
    )
    arrays: dict[str, np.ndarray] = {
        f"w0/{key}": v for key, v in trainer.get_weights().items()
    }
    d_losses, g_losses = [], []
    bs = trainer.config.batch_size
    for r in range(rounds):
        for j in range(1 if r == 0 else k):
            real = rng.normal(size=(bs, 2)).astype(np.float32)
            noise = trainer.noise(bs, rng)
            arrays[f"real_{r}_{j}"], arrays[f"noise_d_{r}_{j}"] = real, noise
            opt_d.zero_grad()
            fake = net_g(torch.tensor(noise)).detach()
            loss_real = d_term(kind, net_d(torch.tensor(real)), True)
            loss_real.backward()
            loss_fake = d_term(kind, net_d(fake), False)
            loss_fake.backward()
            opt_d.step()
            if kind == "wasserstein":
                with torch.no_grad():
                    for p in net_d.parameters():
                        p.clamp_(-clip, clip)
            d_losses.append(loss_real.item() + loss_fake.item())
            if r == 0:
                after = {**net_g.dump(), **net_d.dump()}
                arrays.update({f"after_d/{key}": v for key, v in after.items()})
        noise = trainer.noise(bs, rng)
        arrays[f"noise_g_{r}"] = noise
        opt_g.zero_grad()
        loss_g = g_term(kind, net_d(net_g(torch.tensor(noise))))
        loss_g.backward()
        opt_g.step()
        g_losses.append(loss_g.item())
        if r == 0:
            after = {**net_g.dump(), **net_d.dump()}
            arrays.update({f"after_g/{key}": v for key, v in after.items()})
    arrays.update(
        {f"final/{key}": v for key, v in {**net_g.dump(), **net_d.dump()}.items()}
    )
    arrays["d_loss"] = np.array(d_losses)
    arrays["g_loss"] = np.array(g_losses)
    arrays["rounds"] = np.array(rounds)
    arrays["graph"] = np.array(json.dumps(doc.to_dict(), sort_keys=True))
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT / f"gan_{kind}.npz", **arrays)
    print(f"gan_{kind}.npz: {len(d_losses)} D steps, {len(g_losses)} G steps")


if __name__ == "__main__":
    for loss in ("standard", "least_squares", "wasserstein"):
        make_case(loss)
