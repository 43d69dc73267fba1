"""Hypothesis: any project built through Document edits survives save and load exactly."""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nndesk.document import Document
from nndesk.engine.activations import ACTIVATIONS
from nndesk.engine.metrics import METRICS
from nndesk.engine.optimizers import OPTIMIZERS
from nndesk.io import Project, expected_weight_shapes, load_project, save_project
from nndesk.io.datasets import Scaler

EXAMPLES = settings(
    max_examples=int(os.environ.get("NNDESK_HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

positions = st.tuples(
    st.floats(-1e5, 1e5, allow_nan=False), st.floats(-1e5, 1e5, allow_nan=False)
)
labels = st.none() | st.text(max_size=12)
LAYERS = ("Dense", "BatchNorm", "Dropout", "ReLU", "Tanh", "Activation", "Add",
          "Concatenate", "Flatten")  # fmt: skip
STATE_SUFFIXES = ("/running_mean", "/running_var")


def layer_params(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    if kind == "Dense":
        return {
            "units": draw(st.integers(1, 6)),
            "activation": draw(st.sampled_from(ACTIVATIONS)),
            "use_bias": draw(st.booleans()),
            "l2": draw(st.floats(0, 1)),
        }
    if kind == "Dropout":
        return {"rate": draw(st.floats(0, 0.9))}
    if kind == "BatchNorm":
        return {"momentum": draw(st.floats(0.01, 1.0))}
    if kind == "Activation":
        return {"activation": draw(st.sampled_from(ACTIVATIONS))}
    return {}


@st.composite
def documents(draw: st.DrawFn) -> Document:
    """A random network made by the edits a user makes: add, connect, remove, set."""
    doc = Document(
        {
            "learning_rate": draw(st.floats(1e-5, 1.0)),
            "epochs": draw(st.integers(1, 500)),
            "optimizer": draw(st.sampled_from(OPTIMIZERS)),
            "metrics": tuple(draw(st.lists(st.sampled_from(METRICS), unique=True))),
            "dataset": draw(st.text(max_size=20)),
        }
    )
    width = draw(st.integers(1, 5))
    outputs = [
        doc.add_node("Input", {"shape": (width,)}, draw(positions), draw(labels))
    ]
    first = doc.add_node("Dense", layer_params(draw, "Dense"), draw(positions))
    doc.connect(outputs[0], "out", first, "in")
    outputs.append(first)
    for _ in range(draw(st.integers(0, 7))):
        kind = draw(st.sampled_from(LAYERS))
        node = doc.add_node(
            kind, layer_params(draw, kind), draw(positions), draw(labels)
        )
        count = 2 if kind in ("Add", "Concatenate") else 1
        for src in draw(
            st.lists(st.sampled_from(outputs), min_size=count, max_size=count)
        ):
            if doc.can_connect(src, "out", node, "in") is None:
                doc.connect(src, "out", node, "in")
        outputs.append(node)
    if len(outputs) > 2 and draw(st.booleans()):
        doc.remove_node(draw(st.sampled_from(outputs[1:])))  # ids with gaps, loose ends
    last = doc.node_ids[-1]
    out = doc.add_node("Output", {"loss": "mse"}, draw(positions))
    if doc.can_connect(last, "out", out, "in") is None:
        doc.connect(last, "out", out, "in")
    return doc


def random_bits(rng: np.random.Generator, shape: tuple[int, ...], dtype) -> np.ndarray:
    """Every bit pattern, NaN payloads, infinities and subnormals included."""
    dtype = np.dtype(dtype)
    raw = rng.integers(
        0, 256, size=int(np.prod(shape)) * dtype.itemsize, dtype=np.uint8
    )
    return raw.view(dtype).reshape(shape)


@st.composite
def projects(draw: st.DrawFn) -> Project:
    doc = draw(documents())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    shapes = expected_weight_shapes(doc)
    weights: dict[str, np.ndarray] = {}
    state: dict[str, np.ndarray] = {}
    if draw(st.integers(0, 3)):  # mostly trained
        weights = {k: random_bits(rng, s, dtype) for k, s in shapes.items()}
    if weights and draw(st.integers(0, 2)):
        state["iterations"] = np.array(draw(st.integers(0, 2**40)), dtype=np.int64)
        slots = draw(st.lists(st.sampled_from(["m", "v", "momentum"]), unique=True))
        for key, shape in shapes.items():
            if key.endswith(STATE_SUFFIXES):
                continue
            for slot in slots:
                state[f"{key}/{slot}"] = random_bits(rng, shape, dtype)
            if draw(st.booleans()):
                state[f"{key}/step"] = np.array(
                    draw(st.integers(0, 99)), dtype=np.int64
                )
    preprocessing = None
    if draw(st.booleans()):
        width = doc.node("input_1").params["shape"][0]
        scaler = Scaler(
            draw(st.sampled_from(["standard", "minmax"])),
            draw(st.sampled_from(["feature", "global"])),
        )
        preprocessing = scaler.fit(rng.standard_normal((7, width)) * 10).to_dict()
    history = draw(
        st.dictionaries(
            st.text(min_size=1, max_size=20),
            st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=12),
            max_size=4,
        )
    )
    return Project(
        document=doc,
        weights=weights,
        optimizer_state=state,
        history=history,
        preprocessing=preprocessing,
        optimizer_name=draw(st.none() | st.sampled_from(OPTIMIZERS)),
    )


def same_numbers(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(
        (math.isnan(x) and math.isnan(y))
        or (x == y and math.copysign(1, x) == math.copysign(1, y))
        for x, y in zip(a, b, strict=True)
    )


@EXAMPLES
@given(projects())
def test_any_project_round_trips_exactly(project: Project) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "random.nndesk"
        save_project(path, project)
        loaded = load_project(path, allow_nonfinite=True)
        assert os.listdir(folder) == ["random.nndesk"]
    assert loaded.document.to_dict() == project.document.to_dict()
    assert loaded.document == project.document
    for mine, theirs in (
        (loaded.weights, project.weights),
        (loaded.optimizer_state, project.optimizer_state),
    ):
        assert list(mine) == list(theirs)
        for key, array in theirs.items():
            assert mine[key].dtype == array.dtype and mine[key].shape == array.shape
            assert mine[key].tobytes() == array.tobytes(), key  # bit for bit
    assert list(loaded.history) == list(project.history)
    for metric, values in project.history.items():
        assert same_numbers(loaded.history[metric], values), metric
    assert loaded.preprocessing == project.preprocessing
    assert loaded.optimizer_name == project.optimizer_name
    assert loaded.metadata.created == project.metadata.created
