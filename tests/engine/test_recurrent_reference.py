"""SimpleRNN, LSTM, GRU and Embedding against PyTorch (committed fixtures).

The fixtures ``fixtures/rnn_*.npz`` are written by ``make_rnn_fixtures.py`` (run
by hand with torch; this test never imports it). Each case is rebuilt from its
JSON spec alone, in float64 with the fixture's weights: the output, the input and
parameter gradients of ``sum(out * dy)``, and the weights after 5 SGD-momentum
and 5 Adam steps on the MSE (to zero for single layers, to a stored target for
networks). The file layout and loader are the convolution fixtures'.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_conv_reference import FIXTURES, OPTIMIZERS, assert_close, load, prefixed

from nndesk.engine import optimizers
from nndesk.engine.layers import LAYER_TYPES, Input
from nndesk.engine.model import Model

LAYER_FILES = ("rnn_simple", "rnn_lstm", "rnn_gru")


def check_case(model: Model, a: dict[str, np.ndarray], key, what: str) -> None:
    """Forward, gradients of sum(out * dy), and 5 steps of each optimizer."""
    weights = {key(k): v for k, v in prefixed(a, "w/").items()}
    model.set_weights(weights)
    (out,) = model.forward(a["x"], training=True)
    assert_close(out, a["out"], f"{what} output")
    (dx,) = model.backward([a["dy"]])
    if "dx" in a:
        assert_close(dx, a["dx"], f"{what} input gradient")
    grads = model.gradients()
    expected = {key(k): v for k, v in prefixed(a, "g/").items()}
    assert sorted(grads) == sorted(expected)
    for k, g in expected.items():
        assert_close(grads[k], g, f"{what} gradient {k}")
    target = a.get("y", np.zeros_like(a["out"]))
    for label, (name, kwargs) in OPTIMIZERS.items():
        model.set_weights(weights)
        model.compile(loss="mse", optimizer=optimizers.get(name, **kwargs))
        for _ in range(5):
            model.train_on_batch(a["x"], target)
        now = model.get_weights()
        for k, w in prefixed(a, f"{label}/").items():
            assert_close(now[key(k)], w, f"{what} {k} after 5 {label} steps")


def layer_model(type_name: str, kwargs: dict, input_shape) -> Model:
    x = Input(tuple(input_shape), name="x")
    y = LAYER_TYPES[type_name](name="layer", **kwargs)(x)
    return Model(x, y, dtype=np.float64, seed=0)


CASES = [(stem, case) for stem in LAYER_FILES for case in sorted(load(stem)[1])]


def test_fixture_set_is_complete():
    """Every layer with and without return_sequences and bidirectional, at
    sequence lengths 1, 2 and 17; both SimpleRNN activations; small files."""
    for stem in LAYER_FILES:
        _, spec = load(stem)
        grid = {
            (
                s["kwargs"].get("return_sequences", False),
                s["kwargs"].get("bidirectional", False),
                s["input_shape"][0],
            )
            for s in spec.values()
        }
        for combo in [
            (r, b, n) for r in (False, True) for b in (False, True) for n in (1, 2, 17)
        ]:
            assert combo in grid, f"{stem} lacks {combo}"
        assert any(not s["kwargs"].get("use_bias", True) for s in spec.values())
    acts = {s["kwargs"]["activation"] for s in load("rnn_simple")[1].values()}
    assert acts == {"tanh", "relu"}
    types = {s["type"] for stem in LAYER_FILES for s in load(stem)[1].values()}
    assert types == {"SimpleRNN", "LSTM", "GRU"}
    total = sum(p.stat().st_size for p in FIXTURES.glob("rnn_*.npz"))
    assert total < 200_000


@pytest.mark.parametrize(("stem", "case"), CASES)
def test_layer_matches_torch(stem, case, kernel_path):
    cases, spec = load(stem)
    s = spec[case]
    model = layer_model(s["type"], s["kwargs"], s["input_shape"])
    check_case(model, cases[case], lambda k: f"layer/{k}", f"{stem}/{case}")


@pytest.mark.parametrize("case", sorted(load("rnn_embedding")[1]))
def test_embedding_matches_torch(case):
    cases, spec = load("rnn_embedding")
    s = spec[case]
    model = layer_model("Embedding", s["kwargs"], s["input_shape"])
    check_case(model, cases[case], lambda k: f"layer/{k}", f"rnn_embedding/{case}")


@pytest.mark.parametrize("case", sorted(load("rnn_net")[1]))
def test_network_matches_torch(case, kernel_path):
    cases, spec = load("rnn_net")
    net = spec[case]
    h = x = Input(tuple(net["input_shape"]), name="x")
    for type_name, name, kwargs in net["layers"]:
        h = LAYER_TYPES[type_name](name=name, **kwargs)(h)
    model = Model(x, h, dtype=np.float64, seed=0)
    check_case(model, cases[case], lambda k: k, f"rnn_net/{case}")


def test_the_cases_reach_every_layer_class():
    """A layer class added to the recurrent modules without a fixture fails here."""
    ours = {
        name
        for name, cls in LAYER_TYPES.items()
        if cls.__module__.endswith((".recurrent", ".embedding"))
    }
    covered = {s["type"] for stem in LAYER_FILES for s in load(stem)[1].values()}
    covered |= {"Embedding"}
    assert ours == covered
