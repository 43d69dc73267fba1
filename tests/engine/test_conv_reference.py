"""Convolution, pooling and channels-last BatchNorm against PyTorch (committed fixtures).

The fixtures ``fixtures/conv_*.npz`` are written by ``make_conv_fixtures.py`` (run
by hand with torch; this test never imports it). Each case is rebuilt from its
JSON spec alone: the layer (or a small network) in float64 with the fixture's
weights, then the training-mode output, the input and parameter gradients of
``sum(out * dy)``, and the weights after 5 SGD-momentum and 5 Adam steps on the
MSE (to zero for single layers, to a stored target for networks).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from nndesk.engine import optimizers
from nndesk.engine.layers import LAYER_TYPES, Input, Layer
from nndesk.engine.model import Model

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FILES = ("conv_conv2d", "conv_conv1d", "conv_transpose", "conv_pool")
# The fixtures hold float32 roundings of float64 results (relative error 6e-8).
RTOL = 1e-5
ATOL = 1e-6
OPTIMIZERS = {
    "sgd": ("sgd", {"lr": 0.05, "momentum": 0.9}),
    "adam": ("adam", {"lr": 0.01}),
}


def load(stem: str) -> tuple[dict[str, dict[str, np.ndarray]], dict]:
    """``{case: {array name: float64 array}}`` and the spec of one file."""
    with np.load(FIXTURES / f"{stem}.npz", allow_pickle=False) as data:
        spec = json.loads(str(data["spec"]))
        cases = {}
        for case, entry in spec.items():
            flat = data[case].astype(np.float64)
            arrays, start = {}, 0
            for name, shape in entry["arrays"]:
                size = math.prod(shape)
                arrays[name] = flat[start : start + size].reshape(shape)
                start += size
            assert start == flat.size, f"{stem}/{case}: {flat.size - start} left over"
            cases[case] = arrays
    return cases, spec


def prefixed(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}


def assert_close(actual, expected, what: str) -> None:
    actual = np.asarray(actual, dtype=np.float64)
    assert actual.shape == expected.shape, (
        f"{what}: shape {actual.shape}, PyTorch {expected.shape}"
    )
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL, err_msg=what)


def layer_model(type_name: str, kwargs: dict, input_shape) -> Model:
    x = Input(tuple(input_shape), name="x")
    y = LAYER_TYPES[type_name](name="layer", **kwargs)(x)
    return Model(x, y, dtype=np.float64, seed=0)


def check_case(model: Model, a: dict[str, np.ndarray], key, what: str) -> None:
    """Forward, gradients of sum(out * dy), and 5 steps of each optimizer."""
    weights = {key(k): v for k, v in prefixed(a, "w/").items()}
    model.set_weights(weights, strict=False)
    (out,) = model.forward(a["x"], training=True)
    assert_close(out, a["out"], f"{what} output")
    (dx,) = model.backward([a["dy"]])
    assert_close(dx, a["dx"], f"{what} input gradient")
    grads = model.gradients()
    expected = {key(k): v for k, v in prefixed(a, "g/").items()}
    assert sorted(grads) == sorted(expected)
    for k, g in expected.items():
        assert_close(grads[k], g, f"{what} gradient {k}")
    target = a.get("y", np.zeros_like(a["out"]))
    for label, (name, kwargs) in OPTIMIZERS.items():
        after = {key(k): v for k, v in prefixed(a, f"{label}/").items()}
        if not after:
            continue
        model.set_weights(weights, strict=False)
        model.compile(loss="mse", optimizer=optimizers.get(name, **kwargs))
        for _ in range(5):
            model.train_on_batch(a["x"], target)
        now = model.get_weights()
        for k, w in after.items():
            assert_close(now[k], w, f"{what} {k} after 5 {label} steps")


CASES = [(stem, case) for stem in FILES for case in sorted(load(stem)[1])]


def test_fixture_set_is_complete():
    """The grid the issue asks for is there, and the files stay small."""
    _, spec = load("conv_conv2d")
    configs = [
        {k: tuple(v) if isinstance(v, list) else v for k, v in s["kwargs"].items()}
        for s in spec.values()
    ]
    shapes = [s["input_shape"] for s in spec.values()]
    assert {c.get("kernel_size") for c in configs} >= {1, 3, 5}
    assert {c.get("strides", 1) for c in configs} >= {1, 2}
    assert {c.get("padding", "valid") for c in configs} == {"valid", "same"}
    assert {c.get("dilation_rate", 1) for c in configs} >= {1, 2}
    assert {c.get("use_bias", True) for c in configs} == {True, False}
    assert {s[-1] for s in shapes} >= {1, 3, 8}
    assert {c["filters"] for c in configs} >= {1, 3, 8}
    assert any(h != w for h, w, _ in shapes)
    assert {h % 2 for h, _, _ in shapes} == {0, 1}
    assert any(
        c.get("kernel_size") in (2, 4) and c.get("padding") == "same" for c in configs
    )  # asymmetric 'same' padding
    types = {s["type"] for stem in FILES for s in load(stem)[1].values()}
    assert types == {
        "Conv2D",
        "Conv1D",
        "Conv2DTranspose",
        "MaxPool2D",
        "AvgPool2D",
        "GlobalAvgPool2D",
        "GlobalMaxPool2D",
        "UpSampling2D",
    }
    total = sum(p.stat().st_size for p in FIXTURES.glob("conv_*.npz"))
    assert total < 400_000


@pytest.mark.parametrize(("stem", "case"), CASES)
def test_layer_matches_torch(stem, case):
    cases, spec = load(stem)
    s = spec[case]
    model = layer_model(s["type"], s["kwargs"], s["input_shape"])
    check_case(model, cases[case], lambda k: f"layer/{k}", f"{stem}/{case}")


@pytest.mark.parametrize("case", sorted(load("conv_net")[1]))
def test_network_matches_torch(case):
    cases, spec = load("conv_net")
    net = spec[case]
    h = x = Input(tuple(net["input_shape"]), name="x")
    for type_name, name, kwargs in net["layers"]:
        h = LAYER_TYPES[type_name](name=name, **kwargs)(h)
    model = Model(x, h, dtype=np.float64, seed=0)
    check_case(model, cases[case], lambda k: k, f"conv_net/{case}")


@pytest.mark.parametrize("case", sorted(load("conv_batchnorm")[1]))
def test_batchnorm_over_channels_matches_torch_batchnorm2d(case):
    cases, spec = load("conv_batchnorm")
    a = cases[case]
    model = layer_model("BatchNorm", spec[case]["kwargs"], spec[case]["input_shape"])
    model.set_weights(
        {f"layer/{k}": v for k, v in prefixed(a, "w/").items()}, strict=False
    )
    (out,) = model.forward(a["x"], training=True)
    assert_close(out, a["out"], f"{case} output")
    (dx,) = model.backward([a["dy"]])
    assert_close(dx, a["dx"], f"{case} input gradient")
    for k, g in prefixed(a, "g/").items():
        assert_close(model.gradients()[f"layer/{k}"], g, f"{case} gradient {k}")
    for k, v in prefixed(a, "state/").items():
        assert_close(model.get_weights()[f"layer/{k}"], v, f"{case} {k}")
    (out_eval,) = model.forward(a["x"], training=False)
    assert_close(out_eval, a["out_eval"], f"{case} inference output")


def test_the_cases_reach_every_layer_class():
    """A layer class added to the conv modules without a fixture fails here."""
    ours = {
        name
        for name, cls in LAYER_TYPES.items()
        if cls.__module__.endswith((".conv", ".pooling"))
    }
    covered = {s["type"] for stem in FILES for s in load(stem)[1].values()}
    assert ours == covered
    assert all(issubclass(LAYER_TYPES[n], Layer) for n in ours)
