"""Small GAN documents for the export tests: a 2-D dense GAN and a DCGAN on images."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nndesk.document.graph import Document
from nndesk.training.gan import CompiledGan, GanTrainer, compile_gan

Layers = Sequence[tuple[str, Mapping[str, Any]]]


def _chain(doc: Document, start: str, layers: Layers) -> list[str]:
    ids, prev = [], start
    for type_name, params in layers:
        node = doc.add_node(type_name, dict(params))
        doc.connect(prev, "out", node, "in")
        ids.append(node)
        prev = node
    return ids


def _noise(doc: Document, shape: tuple[int, ...], loss: str, **setup: Any) -> str:
    return doc.add_node(
        "Noise", {"shape": shape, "gan_loss": loss, "distribution": "normal", **setup}
    )


def dense_gan(
    loss: str = "standard",
    *,
    optimizer: str = "adam",
    d_steps: int = 1,
    extra: Mapping[str, Any] | None = None,
    regularize: bool = False,
    noise: str = "normal",
    batchnorm: bool = False,
) -> Document:
    """Noise (4,) -> 16 relu -> 2 (the sample); Input (2,) -> 16 leaky -> 1.

    The discriminator ends in a sigmoid for the standard loss and is linear for
    the others. ``regularize`` gives one node of each network L1/L2 terms;
    ``batchnorm`` puts a BatchNorm after the discriminator's hidden layer (its
    running statistics move on the real and on the fake batch).
    """
    doc = Document(
        {
            "dataset": "ring-gaussians:n=192",
            "optimizer": optimizer,
            "learning_rate": 0.01,
            "batch_size": 32,
            "epochs": 2,
            **(extra or {}),
        }
    )
    z = _noise(doc, (4,), loss, d_steps=d_steps, distribution=noise)
    penalty = {"l1": 0.001, "l2": 0.01} if regularize else {}
    _chain(
        doc,
        z,
        [
            ("Dense", {"units": 16, "activation": "relu", **penalty}),
            ("Dense", {"units": 2, "activation": "linear"}),
        ],
    )
    x = doc.add_node("Input", {"shape": (2,)})
    last = "sigmoid" if loss == "standard" else "linear"
    hidden = [("Dense", {"units": 16, "activation": "leaky_relu", **penalty})]
    if batchnorm:
        hidden.append(("BatchNorm", {}))
    _chain(
        doc,
        x,
        [*hidden, ("Dense", {"units": 1, "activation": last}), ("Output", {})],
    )
    return doc


def image_gan(loss: str = "standard") -> Document:
    """A small DCGAN on 8x8 images: Noise (6,) -> Dense 4*4*4 -> Reshape ->
    BatchNorm -> Conv2DTranspose (stride 2, same, tanh) -> (8, 8, 1); Input
    (8, 8, 1) -> Conv2D (stride 2) -> LeakyReLU -> Flatten -> Dense 1."""
    doc = Document(
        {
            "dataset": "",
            "optimizer": "adam",
            "learning_rate": 0.002,
            "batch_size": 16,
            "epochs": 1,
        }
    )
    z = _noise(doc, (6,), loss)
    _chain(
        doc,
        z,
        [
            ("Dense", {"units": 64, "activation": "relu"}),
            ("Reshape", {"target_shape": (4, 4, 4)}),
            ("BatchNorm", {}),
            (
                "Conv2DTranspose",
                {
                    "filters": 1,
                    "kernel_size": 4,
                    "strides": 2,
                    "padding": "same",
                    "activation": "tanh",
                },
            ),
        ],
    )
    x = doc.add_node("Input", {"shape": (8, 8, 1)})
    last = "sigmoid" if loss == "standard" else "linear"
    _chain(
        doc,
        x,
        [
            ("Conv2D", {"filters": 4, "kernel_size": 3, "strides": 2}),
            ("LeakyReLU", {"alpha": 0.2}),
            ("Flatten", {}),
            ("Dense", {"units": 1, "activation": last}),
            ("Output", {}),
        ],
    )
    return doc


def trained(
    doc: Document, steps: int = 3, seed: int = 0
) -> tuple[CompiledGan, GanTrainer]:
    """The compiled GAN after a few steps on random real samples (weights that
    are not the initial draw)."""
    gan = compile_gan(doc)
    trainer = GanTrainer(gan)
    rng = np.random.default_rng(seed)
    shape = tuple(gan.discriminator.input_shapes[0])
    for _ in range(steps):
        real = rng.normal(0.0, 0.5, size=(16, *shape)).astype(np.float32)
        trainer.train_batch(real)
    return gan, trainer
