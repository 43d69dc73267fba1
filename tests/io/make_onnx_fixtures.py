"""Make the PyTorch-exported ONNX fixtures of tests/io/test_onnx_import.py.

Run with the reference environment (PyTorch is never imported by the tests):

    /work/refvenv/bin/python tests/io/make_onnx_fixtures.py [NAME ...]

For each model it writes ``tests/io/data/onnx/<name>.onnx`` (``torch.onnx.export``,
the TorchScript exporter, opset 17, dynamic batch) and ``<name>.npz`` holding the
input ``x`` and PyTorch's output ``y`` (float32, eval mode; CNN inputs are
channels-first, as PyTorch's). Weights and running
statistics are seeded and moved away from their initial values, so a mapping
error (a transposed kernel, ONNX's momentum) shows in the outputs.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

OUT = Path(__file__).parent / "data" / "onnx"
OPSET = 17


class Skip(nn.Module):
    """Add and Concat, and a dense layer written as ``x @ w + b`` (MatMul + Add)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(6, 8)
        self.fc2 = nn.Linear(8, 8)
        self.w = nn.Parameter(torch.randn(14, 1) * 0.3)
        self.b = nn.Parameter(torch.randn(1) * 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.fc1(x))
        h = h + torch.tanh(self.fc2(h))
        z = torch.cat([h, x], dim=1)
        return torch.sigmoid(z @ self.w + self.b)


def mlp() -> nn.Module:
    """Fashion-MNIST-style MLP on 5x5 inputs."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(25, 16),
        nn.ReLU(),
        nn.Linear(16, 12),
        nn.Tanh(),
        nn.Linear(12, 4),
        nn.Softmax(dim=-1),
    )


def mlp_extras() -> nn.Module:
    """BatchNorm1d, Dropout and the other activations."""
    return nn.Sequential(
        nn.Linear(7, 10),
        nn.BatchNorm1d(10, momentum=0.2, eps=1e-3),
        nn.LeakyReLU(0.2),
        nn.Dropout(0.3),
        nn.Linear(10, 9),
        nn.GELU(),
        nn.Linear(9, 8),
        nn.SiLU(),
        nn.ELU(0.7),
        nn.Linear(8, 6),
        nn.Softplus(),
        nn.Linear(6, 1),
        nn.Sigmoid(),
    )


def cnn() -> nn.Module:
    """A small channels-first CNN: Conv (same and valid), BatchNorm2d, pools."""
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3),
        nn.BatchNorm2d(6),
        nn.Tanh(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(6 * 2 * 2, 5),
        nn.Softmax(dim=-1),
    )


def cnn_global() -> nn.Module:
    """Strided convolution and a global average pool (AdaptiveAvgPool2d(1))."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 1),
        nn.Sigmoid(),
    )


def deconv() -> nn.Module:
    """Transposed convolutions: DCGAN's doubling (kernel 4, stride 2, padding 1,
    nndesk's "same") and a "valid" one."""
    return nn.Sequential(
        nn.ConvTranspose2d(2, 4, 4, stride=2, padding=1),
        nn.ReLU(),
        nn.ConvTranspose2d(4, 3, 3),
        nn.Flatten(),
        nn.Linear(3 * 12 * 12, 2),
    )


class SeqLSTM(nn.Module):
    """An LSTM over (batch, time, features) (batch_first) whose last state feeds a
    Linear: torch writes Transpose, LSTM (gates i, o, f, c) and a Gather of Y_h."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(3, 8, batch_first=True)
        self.fc = nn.Linear(8, 2)
        with torch.no_grad():  # biases off zero, so a swapped gate shows
            for p in self.lstm.parameters():
                p.add_(torch.randn_like(p) * 0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.lstm(x)
        return self.fc(h[-1])


MODELS = {
    "torch_mlp": (mlp, (5, 5)),
    "torch_mlp_extras": (mlp_extras, (7,)),
    "torch_skip": (Skip, (6,)),
    "torch_cnn": (cnn, (2, 12, 12)),
    "torch_cnn_global": (cnn_global, (3, 9, 9)),
    "torch_lstm": (SeqLSTM, (7, 3)),
    "torch_deconv": (deconv, (2, 5, 5)),
}


def make(name: str, build, shape: tuple[int, ...], seed: int) -> None:
    torch.manual_seed(seed)
    model = build()
    model.train()
    with torch.no_grad():
        for _ in range(3):  # move BatchNorm's running statistics off 0 and 1
            model(torch.randn(32, *shape) * 2 + 0.5)
    model.eval()
    x = torch.randn(11, *shape) * 1.5
    with torch.no_grad():
        y = model(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (x,),
            str(OUT / f"{name}.onnx"),
            dynamo=False,
            opset_version=OPSET,
            input_names=["x"],
            output_names=["y"],
            dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
        )
    np.savez(OUT / f"{name}.npz", x=x.numpy(), y=y.numpy())
    print(f"{name}: {(OUT / f'{name}.onnx').stat().st_size} bytes")


def main(names: list[str]) -> None:
    """Make the fixtures named (all without names)."""
    OUT.mkdir(parents=True, exist_ok=True)
    for seed, (name, (build, shape)) in enumerate(MODELS.items()):
        if not names or name in names:
            make(name, build, shape, seed)


if __name__ == "__main__":
    main(sys.argv[1:])
