"""Seeded random networks covering every layer type, for the export/import checks.

``random_network(seed)`` draws a document (every node reaches the Output), random
weights (BatchNorm's running statistics too, so inference is not the identity)
and, for some seeds, a feature scaler. ``EXPORTABLE`` lists what a suite of seeds
must cover between them; the tests assert they do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nndesk.document.graph import Document
from nndesk.document.registry import REGISTRY
from nndesk.document.shapes import infer_shapes
from nndesk.engine.activations import ACTIVATIONS
from nndesk.training.session import TrainingSession

LAYER_TYPES = (
    "Input",
    "Dense",
    "Activation",
    "Dropout",
    "BatchNorm",
    "Flatten",
    "Reshape",
    "Add",
    "Concatenate",
)
"""Engine layer types the random suite must cover."""


@dataclass
class RandomNetwork:
    document: Document
    session: TrainingSession
    x: np.ndarray
    used: set[str]


class _Maker:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.doc = Document({"seed": seed})
        self.col = 0
        self.used: set[str] = set()

    def add(self, type_name: str, params: dict[str, Any], *srcs: str) -> str:
        self.col += 1
        node = self.doc.add_node(type_name, params, pos=(self.col * 200.0, 0.0))
        for src in srcs:
            self.doc.connect(src, "out", node, "in")
        self.used.add(self.doc.spec(node).layer_type or type_name)
        return node

    def activation(self) -> tuple[str, dict[str, Any]]:
        act = str(self.rng.choice([a for a in ACTIVATIONS if a != "softmax"]))
        return act, {"alpha": float(self.rng.uniform(0.05, 0.5))} if act in (
            "leaky_relu",
            "elu",
        ) else {}

    def dense(self, src: str, units: int) -> str:
        act, extra = self.activation()
        params = {
            "units": units,
            "activation": act,
            "use_bias": bool(self.rng.random() < 0.8),
        }
        return self.add("Dense", {**params, **extra}, src)

    def activation_node(self, src: str) -> str:
        act, extra = self.activation()
        if self.rng.random() < 0.5:
            return self.add("Activation", {"activation": act, **extra}, src)
        for spec in REGISTRY.values():
            if spec.fixed.get("activation") == act:
                return self.add(spec.type_name, extra, src)
        return self.add("Activation", {"activation": act, **extra}, src)

    def step(self, cur: str, shape: tuple[int, ...]) -> str:
        """One random block after ``cur`` (per-sample ``shape``); its last node."""
        r = self.rng
        choice = int(r.integers(0, 7))
        if choice == 0 and len(shape) > 1:
            return self.add("Flatten", {}, cur)
        if choice == 1:
            target: tuple[int, ...] = (-1,)
            if len(shape) > 1:
                target = tuple(reversed(shape))
            elif shape[0] % 2 == 0:
                target = (2, -1)
            return self.add("Reshape", {"target_shape": target}, cur)
        if choice == 2:
            params = {
                "momentum": float(r.uniform(0.05, 0.5)),
                "epsilon": float(r.choice([1e-5, 1e-3])),
            }
            return self.add("BatchNorm", params, cur)
        if choice == 3:
            return self.add("Dropout", {"rate": float(r.uniform(0, 0.6))}, cur)
        if choice == 4:
            return self.activation_node(cur)
        if choice == 5 and len(shape) == 1:
            units = int(r.integers(2, 9))
            branches = [self.dense(cur, units) for _ in range(int(r.integers(2, 4)))]
            return self.add("Add", {}, *branches)
        if choice in (5, 6):
            axis = int(r.integers(-len(shape), len(shape)))
            return self.add(
                "Concatenate", {"axis": axis}, cur, self.activation_node(cur)
            )
        src = cur if len(shape) == 1 else self.add("Flatten", {}, cur)
        return self.dense(src, int(r.integers(2, 9)))


def random_network(seed: int, steps: int = 6) -> RandomNetwork:
    """A random network of ``steps`` blocks with random weights and test inputs."""
    m = _Maker(seed)
    rng = m.rng
    rank = int(rng.integers(1, 4))
    input_shape = tuple(int(d) for d in rng.integers(2, 5, size=rank))
    cur = m.add("Input", {"shape": input_shape})
    shape: tuple[int, ...] = input_shape
    for _ in range(steps):
        cur = m.step(cur, shape)
        shape = _shape(m.doc, cur)
    if len(shape) > 1:
        cur = m.add("Flatten", {}, cur)
    last = m.add(
        "Dense", {"units": int(rng.integers(1, 5)), "activation": "linear"}, cur
    )
    out = m.doc.add_node("Output", {"loss": "mse"}, pos=((m.col + 1) * 200.0, 0.0))
    m.doc.connect(last, "out", out, "in")
    session = TrainingSession(m.doc)
    weights = {}
    for key, w in session.model.get_weights().items():
        value = rng.normal(0, 0.7, size=w.shape)
        if key.endswith("running_var"):
            value = rng.uniform(0.3, 2.0, size=w.shape)
        weights[key] = value.astype(np.float32)
    session.model.set_weights(weights)
    x = rng.normal(0, 2, size=(9, *input_shape)).astype(np.float32)
    if rng.random() < 0.4:
        feature = rng.random() < 0.5
        stat_shape = input_shape if feature else ()
        session.preprocessing = {
            "method": "standard",
            "axis": "feature" if feature else "global",
            "input_shape": list(input_shape),
            "offset": rng.normal(0, 1, size=stat_shape).tolist(),
            "scale": rng.uniform(0.5, 3, size=stat_shape).tolist(),
        }
    return RandomNetwork(m.doc, session, x, m.used)


def _shape(doc: Document, node: str) -> tuple[int, ...]:
    result = infer_shapes(doc)[node]
    assert result.ok, result.message
    return tuple(result.output_shape or ())


CONV_BLOCKS: tuple[tuple[tuple[int, ...], list[tuple[str, dict[str, Any]]]], ...] = (
    ((9, 8, 2), [("Conv2D", {"filters": 3, "kernel_size": 3, "padding": "same"})]),
    (
        (9, 8, 2),
        [
            (
                "Conv2D",
                {
                    "filters": 4,
                    "kernel_size": 2,
                    "strides": 2,
                    "padding": "same",
                    "activation": "tanh",
                },
            )
        ],
    ),
    (
        (10, 9, 3),
        [
            (
                "Conv2D",
                {
                    "filters": 2,
                    "kernel_size": 3,
                    "dilation_rate": 2,
                    "activation": "elu",
                    "use_bias": False,
                },
            )
        ],
    ),
    (
        (12, 3),
        [
            (
                "Conv1D",
                {
                    "filters": 4,
                    "kernel_size": 3,
                    "strides": 2,
                    "padding": "same",
                    "activation": "gelu",
                },
            )
        ],
    ),
    ((7, 8, 2), [("MaxPool2D", {"pool_size": 3, "strides": 2, "padding": "same"})]),
    ((7, 8, 2), [("AvgPool2D", {"pool_size": 3, "strides": 2, "padding": "same"})]),
    ((6, 6, 2), [("AvgPool2D", {"pool_size": 2})]),
    ((5, 4, 3), [("GlobalAvgPool2D", {})]),
    ((5, 4, 3), [("GlobalMaxPool2D", {})]),
    ((3, 4, 2), [("UpSampling2D", {"size": 2})]),
    (
        (6, 6, 2),
        [
            ("Conv2D", {"filters": 3, "kernel_size": 3}),
            ("BatchNorm", {}),
            ("MaxPool2D", {"pool_size": 2}),
        ],
    ),
)
"""Per-sample input shapes and the convolution/pooling nodes after them."""

TRANSPOSE_BLOCKS: tuple[
    tuple[tuple[int, ...], list[tuple[str, dict[str, Any]]]], ...
] = (
    ((4, 5, 2), [("Conv2DTranspose", {"filters": 3, "kernel_size": 3})]),
    (
        (4, 5, 2),
        [("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "padding": "same"})],
    ),
    (
        (3, 4, 2),
        [
            (
                "Conv2DTranspose",
                {"filters": 2, "kernel_size": 3, "strides": 2, "activation": "relu"},
            )
        ],
    ),
    (
        (3, 4, 3),
        [
            (
                "Conv2DTranspose",
                {"filters": 2, "kernel_size": 4, "strides": 2, "padding": "same"},
            )
        ],
    ),
    (
        (5, 3, 2),
        [
            (
                "Conv2DTranspose",
                {
                    "filters": 3,
                    "kernel_size": 3,
                    "strides": 2,
                    "padding": "same",
                    "use_bias": False,
                },
            )
        ],
    ),
    (
        (3, 3, 2),
        [
            (
                "Conv2DTranspose",
                {"filters": 2, "kernel_size": 2, "strides": 3, "padding": "same"},
            )
        ],
    ),
    (
        (4, 4, 2),
        [
            (
                "Conv2DTranspose",
                {
                    "filters": 2,
                    "kernel_size": 3,
                    "dilation_rate": 2,
                    "padding": "same",
                    "activation": "tanh",
                },
            )
        ],
    ),
)
"""Conv2DTranspose over strides 1, 2 and 3 (above the span), 'valid' and 'same',
odd and even sizes and kernels, dilation: exported, not imported."""


def conv_network(index: int) -> RandomNetwork:
    """Block ``index`` of ``CONV_BLOCKS + TRANSPOSE_BLOCKS`` between an Input and a Flatten-Dense head,
    with random weights (running statistics included)."""
    blocks = CONV_BLOCKS + TRANSPOSE_BLOCKS
    shape, block = blocks[index]
    m = _Maker(index)
    cur = m.add("Input", {"shape": shape})
    for type_name, params in block:
        cur = m.add(type_name, params, cur)
    if len(_shape(m.doc, cur)) > 1:
        cur = m.add("Flatten", {}, cur)
    last = m.add("Dense", {"units": 3, "activation": "linear"}, cur)
    out = m.doc.add_node("Output", {"loss": "mse"}, pos=((m.col + 1) * 200.0, 0.0))
    m.doc.connect(last, "out", out, "in")
    session = TrainingSession(m.doc)
    rng = m.rng
    weights = {}
    for key, w in session.model.get_weights().items():
        value = rng.normal(0, 0.5, size=w.shape)
        if key.endswith("running_var"):
            value = rng.uniform(0.3, 2.0, size=w.shape)
        weights[key] = value.astype(np.float32)
    session.model.set_weights(weights)
    x = rng.normal(0, 1.5, size=(5, *shape)).astype(np.float32)
    return RandomNetwork(m.doc, session, x, m.used)


def example_inputs(session: TrainingSession, n: int, seed: int = 0) -> np.ndarray:
    """``n`` inputs for a network: token ids below the vocabulary size when an
    Embedding reads them, standard normal values otherwise (float32)."""
    rng = np.random.default_rng(seed)
    shape = session.model.input_shapes[0]
    vocab = [
        layer.input_dim
        for layer in session.model.layers
        if layer.type_name == "Embedding"
    ]
    if vocab:
        return rng.integers(0, min(vocab), size=(n, *shape)).astype(np.float32)
    return rng.normal(size=(n, *shape)).astype(np.float32)
