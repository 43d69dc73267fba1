"""MultiHeadAttention, LayerNormalization and a Transformer block against PyTorch.

The fixtures ``fixtures/attn_*.npz`` are written by ``make_attention_fixtures.py``
(run by hand with torch; this test never imports it) against
``torch.nn.MultiheadAttention(batch_first=True)`` and ``torch.nn.LayerNorm``.
Each case is rebuilt from its JSON spec alone, in float64 with the fixture's
weights: the output, the input and parameter gradients of ``sum(out * dy)``, and
the weights after 5 Adam and 5 AdamW steps on the MSE (to zero for single layers,
to a stored target for the block). The file layout and loader are the
convolution fixtures'.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_conv_reference import FIXTURES, assert_close, load, prefixed

from nndesk.engine import optimizers
from nndesk.engine.layers import (
    LAYER_TYPES,
    Add,
    Dense,
    Embedding,
    Input,
    LayerNormalization,
    MultiHeadAttention,
    PositionalEmbedding,
)
from nndesk.engine.model import Model

OPTIMIZERS = {
    "adam": ("adam", {"lr": 0.01}),
    "adamw": ("adamw", {"lr": 0.01, "weight_decay": 0.1}),
}
LAYER_FILES = ("attn_mha", "attn_layernorm")


def check_case(model: Model, a: dict[str, np.ndarray], key, what: str) -> None:
    """Forward, gradients of sum(out * dy), and 5 steps of each optimizer."""
    xs = [a["x"], a["x2"]] if "x2" in a else [a["x"]]
    weights = {key(k): v for k, v in prefixed(a, "w/").items()}
    model.set_weights(weights)
    (out,) = model.forward(xs, training=True)
    assert_close(out, a["out"], f"{what} output")
    dxs = model.backward([a["dy"]])
    for name, dx in zip(("dx", "dx2"), dxs, strict=False):
        if name in a:
            assert_close(dx, a[name], f"{what} {name}")
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
            model.train_on_batch(xs, target)
        now = model.get_weights()
        for k, w in prefixed(a, f"{label}/").items():
            assert_close(now[key(k)], w, f"{what} {k} after 5 {label} steps")


def layer_model(type_name: str, kwargs: dict, input_shapes) -> Model:
    xs = [Input(tuple(s), name=f"x{i}") for i, s in enumerate(input_shapes)]
    y = LAYER_TYPES[type_name](name="layer", **kwargs)(xs)
    return Model(xs, y, dtype=np.float64, seed=0)


CASES = [(stem, case) for stem in LAYER_FILES for case in sorted(load(stem)[1])]


def test_fixture_set_is_complete():
    """1, 2 and 4 heads, causal and not, cross-attention (different lengths,
    and causal), no bias; LayerNorm on sequences and other ranks; small files."""
    _, spec = load("attn_mha")
    grid = {
        (s["kwargs"]["num_heads"], s["kwargs"].get("causal", False))
        for s in spec.values()
        if len(s["input_shapes"]) == 1
    }
    assert {(h, c) for h in (1, 2, 4) for c in (False, True)} <= grid
    cross = [s for s in spec.values() if len(s["input_shapes"]) == 2]
    assert any(s["input_shapes"][0] != s["input_shapes"][1] for s in cross)
    assert any(s["kwargs"].get("causal") for s in cross)
    assert any(not s["kwargs"].get("use_bias", True) for s in spec.values())
    ranks = {len(s["input_shapes"][0]) for s in load("attn_layernorm")[1].values()}
    assert ranks == {1, 2, 3}
    total = sum(p.stat().st_size for p in FIXTURES.glob("attn_*.npz"))
    assert total < 150_000


@pytest.mark.parametrize(("stem", "case"), CASES)
def test_layer_matches_torch(stem, case, kernel_path):
    cases, spec = load(stem)
    s = spec[case]
    model = layer_model(s["type"], s["kwargs"], s["input_shapes"])
    check_case(model, cases[case], lambda k: f"layer/{k}", f"{stem}/{case}")


def block_model(net: dict) -> Model:
    """The fixture's pre-norm block, with the fixture's layer names."""
    d, heads = net["d"], net["heads"]
    ids = Input((net["steps"],), name="ids", dtype="int")
    h = Embedding(net["vocab"], d, name="emb")(ids)
    h = PositionalEmbedding(net["encoding"], name="pos")(h)
    a = LayerNormalization(name="ln1")(h)
    a = MultiHeadAttention(heads, d // heads, causal=True, name="att")(a)
    h = Add(name="res1")([h, a])
    f = LayerNormalization(name="ln2")(h)
    f = Dense(2 * d, activation="gelu", name="ff1")(f)
    f = Dense(d, name="ff2")(f)
    h = Add(name="res2")([h, f])
    out = Dense(net["vocab"], name="head")(h)
    return Model(ids, out, dtype=np.float64, seed=0)


@pytest.mark.parametrize("case", sorted(load("attn_net")[1]))
def test_transformer_block_matches_torch(case, kernel_path):
    cases, spec = load("attn_net")
    model = block_model(spec[case])
    check_case(model, cases[case], lambda k: k, f"attn_net/{case}")


def test_the_cases_reach_every_layer_class():
    """A layer class added to the attention module without a fixture fails here."""
    ours = {
        name
        for name, cls in LAYER_TYPES.items()
        if cls.__module__.endswith(".attention")
    }
    covered = {s["type"] for stem in LAYER_FILES for s in load(stem)[1].values()}
    covered |= {"PositionalEmbedding"}  # both encodings in attn_net
    assert {s["encoding"] for s in load("attn_net")[1].values()} == {
        "learned",
        "sinusoidal",
    }
    assert ours == covered
