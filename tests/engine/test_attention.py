"""LayerNormalization, MultiHeadAttention and PositionalEmbedding: float64
gradient checks, shape rules, dropout, causal masks, head masks and speed-minded
buffer reuse.

``LAYER_EXAMPLES`` feeds the generic layer tests of ``test_layers.py``; the
PyTorch equality is ``test_attention_reference.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import check_layer_gradients, check_model_gradients

from nndesk.engine import optimizers
from nndesk.engine.errors import ConfigError, ShapeError
from nndesk.engine.layers import (
    Add,
    Dense,
    Input,
    Layer,
    LayerNormalization,
    MultiHeadAttention,
    PositionalEmbedding,
)
from nndesk.engine.layers.attention import sinusoids
from nndesk.engine.model import Model

LAYER_EXAMPLES: dict[str, tuple[Layer, list[tuple[int, ...]]]] = {
    "LayerNormalization": (LayerNormalization(name="ln"), [(4, 6)]),
    "MultiHeadAttention": (MultiHeadAttention(2, 3, causal=True, name="att"), [(4, 6)]),
    "PositionalEmbedding": (PositionalEmbedding(name="pos"), [(4, 3)]),
}


def built(layer: Layer, shapes, rng, scale: float = 0.5) -> Layer:
    """``layer`` built in float64 with random weights (not the initial ones: a
    LayerNorm starts at gamma 1, beta 0, which would hide a swapped gradient)."""
    layer.build(shapes, np.random.default_rng(0), np.float64)
    for p in layer.params.values():
        p[...] = scale * rng.normal(size=p.shape)
    return layer


@pytest.mark.parametrize("shape", [(5,), (4, 6), (2, 3, 4)])
def test_layer_norm_gradients(shape, kernel_path, rng):
    layer = built(LayerNormalization(epsilon=1e-3, name="ln"), [shape], rng)
    check_layer_gradients(layer, [rng.normal(size=(3, *shape))])


@pytest.mark.parametrize("heads", [1, 2, 4])
@pytest.mark.parametrize("causal", [False, True])
def test_self_attention_gradients(heads, causal, rng):
    layer = built(
        MultiHeadAttention(heads, 8 // heads, causal=causal, name="a"), [(5, 8)], rng
    )
    check_layer_gradients(layer, [rng.normal(size=(2, 5, 8))])


@pytest.mark.parametrize(
    ("shapes", "causal", "use_bias"),
    [
        ([(4, 6), (7, 6)], False, True),
        ([(5, 6), (5, 6)], True, True),
        ([(3, 6), (2, 6)], False, False),
    ],
)
def test_cross_attention_gradients(shapes, causal, use_bias, rng):
    layer = built(
        MultiHeadAttention(3, 2, causal=causal, use_bias=use_bias, name="a"),
        shapes,
        rng,
    )
    check_layer_gradients(layer, [rng.normal(size=(2, *s)) for s in shapes])


def test_attention_dropout_gradients_with_a_fixed_mask(rng):
    layer = built(MultiHeadAttention(2, 2, dropout=0.4, name="a"), [(6, 4)], rng)
    check_layer_gradients(layer, [rng.normal(size=(3, 6, 4))], training=True)


def test_head_mask_gradients_and_muting(rng):
    layer = built(MultiHeadAttention(2, 3, name="a"), [(4, 6)], rng)
    x = rng.normal(size=(2, 4, 6))
    layer.head_mask = np.array([1.0, 0.0])
    check_layer_gradients(layer, [x])
    muted = layer.forward([x], training=False).copy()
    # With head 1 muted, the output is head 0's context through its rows of the
    # output kernel, plus the bias.
    layer.head_mask = None
    layer.forward([x], training=False)
    p, v = layer.attention_weights, layer._cache["v"]
    ctx0 = (p[:, 0] @ v[:, 0]).reshape(2 * 4, 3)
    expected = ctx0 @ layer.params["out_kernel"][:3] + layer.params["out_bias"]
    np.testing.assert_allclose(muted.reshape(8, 6), expected, atol=1e-12)
    layer.head_mask = np.ones(3)
    with pytest.raises(ConfigError, match="head_mask needs 2 values"):
        layer.forward([x], training=False)


@pytest.mark.parametrize("encoding", ["learned", "sinusoidal"])
def test_positional_embedding_gradients(encoding, rng):
    layer = built(PositionalEmbedding(encoding, name="p"), [(5, 4)], rng)
    check_layer_gradients(layer, [rng.normal(size=(3, 5, 4))])
    assert layer.param_count([(5, 4)]) == (20 if encoding == "learned" else 0)


def test_sinusoids_follow_the_paper():
    table = sinusoids(50, 7)
    for pos in (0, 3, 49):
        for i in range(7):
            angle = pos / 10000 ** ((i - i % 2) / 7)
            want = np.sin(angle) if i % 2 == 0 else np.cos(angle)
            assert table[pos, i] == pytest.approx(want, abs=1e-12)
    layer = PositionalEmbedding("sinusoidal", name="p")
    layer.build([(50, 7)], np.random.default_rng(0))
    x = np.zeros((2, 50, 7), np.float32)
    np.testing.assert_allclose(layer.forward([x], False)[1], table, atol=1e-6)


def test_attention_weights_are_rows_of_a_softmax(rng):
    layer = built(MultiHeadAttention(4, 2, causal=True, name="a"), [(6, 8)], rng, 2.0)
    x = 30.0 * rng.normal(size=(3, 6, 8))  # large scores: the stable softmax
    y = layer.forward([x], training=False)
    p = layer.attention_weights
    assert p.shape == (3, 4, 6, 6)
    assert np.isfinite(y).all()
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, atol=1e-12)
    assert (p[..., np.triu_indices(6, 1)[0], np.triu_indices(6, 1)[1]] == 0).all()
    # causal: changing the last step leaves the earlier outputs unchanged
    y0 = y.copy()
    x[:, -1] += 1.0
    y1 = layer.forward([x], training=False)
    np.testing.assert_allclose(y1[:, :-1], y0[:, :-1], atol=1e-12)
    assert not np.allclose(y1[:, -1], y0[:, -1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_skips_the_row_maximum_only_where_it_is_safe(dtype, rng):
    """Rows of ordinary scores take exp / sum without the row maximum; rows that
    would overflow (scores near 100) or underflow (all near -80, -200) and NaN
    take the stable form; every row equals the float64 stable softmax."""
    from nndesk.engine.layers.attention import _softmax_rows

    base = 3.0 * rng.normal(size=(5, 2, 7, 9))
    cases = [base, base + 100.0, base - 80.0, base - 200.0, 40.0 * base]
    masked = base.copy()
    masked[..., np.triu_indices(7, 1)[0], np.triu_indices(7, 1)[1] % 9] = -np.inf
    cases.append(masked)
    for scores in cases:
        s = scores.astype(dtype)
        want = np.exp(s - s.max(axis=-1, keepdims=True).astype(np.float64))
        want /= want.sum(axis=-1, keepdims=True)
        _softmax_rows(s, np.empty_like(s))
        assert np.isfinite(s).all()
        tol = 2e-6 if dtype == np.float32 else 1e-14
        np.testing.assert_allclose(s, want, rtol=0, atol=tol)
    s = base.astype(dtype)
    s[1, 1, 3, 4] = np.nan
    _softmax_rows(s, np.empty_like(s))
    nan_row = np.zeros(s.shape[:3], bool)
    nan_row[1, 1, 3] = True
    assert np.isnan(s[nan_row]).all() and np.isfinite(s[~nan_row]).all()


def test_attention_matches_the_formula(rng):
    """One head written out with NumPy, including the scale 1/sqrt(key_dim)."""
    layer = built(MultiHeadAttention(1, 4, name="a"), [(3, 4)], rng)
    x = rng.normal(size=(2, 3, 4))
    w, b = layer.params["in_kernel"], layer.params["in_bias"]
    q, k, v = np.split(x @ w + b, 3, axis=-1)
    s = q @ k.transpose(0, 2, 1) / 2.0
    a = np.exp(s - s.max(-1, keepdims=True))
    a /= a.sum(-1, keepdims=True)
    want = (a @ v) @ layer.params["out_kernel"] + layer.params["out_bias"]
    np.testing.assert_allclose(layer.forward([x], False), want, atol=1e-12)


def test_dropout_only_in_training(rng):
    layer = built(MultiHeadAttention(2, 2, dropout=0.5, name="a"), [(8, 4)], rng)
    layer.rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 8, 4))
    a = layer.forward([x], training=False).copy()
    b = layer.forward([x], training=False).copy()
    np.testing.assert_array_equal(a, b)
    c = layer.forward([x], training=True)
    assert not np.allclose(a, c)
    mask = layer._cache["mask"]
    assert set(np.unique(mask)) == {0.0, 2.0}
    assert 0.35 < (mask == 0).mean() < 0.65


def test_float32_block_trains(kernel_path, rng):
    """A float32 pre-norm block with residuals and GELU: the loss falls."""
    x_in = Input((6, 8), name="x")
    h = LayerNormalization(name="ln")(x_in)
    h = MultiHeadAttention(2, 4, name="att")(h)
    h = Add(name="res")([x_in, h])
    h = Dense(16, activation="gelu", name="ff")(h)
    out = Dense(1, name="out")(h)
    model = Model(x_in, out, seed=0)
    model.compile(loss="mse", optimizer=optimizers.get("adamw", lr=0.01))
    x = rng.normal(size=(64, 6, 8)).astype(np.float32)
    y = x.mean(axis=1, keepdims=True).sum(-1, keepdims=True).repeat(6, 1)
    first = model.train_on_batch(x, y)["loss"]
    for _ in range(60):
        last = model.train_on_batch(x, y)["loss"]
    assert last < 0.5 * first
    assert model.predict(x[:2]).dtype == np.float32


def test_block_model_gradients(rng):
    x_in = Input((4, 6), name="x")
    kv_in = Input((5, 6), name="kv")
    h = PositionalEmbedding(name="pos")(x_in)
    h = LayerNormalization(name="ln")(h)
    h = MultiHeadAttention(3, 2, name="self", causal=True)(h)
    c = MultiHeadAttention(2, 3, name="cross")([h, kv_in])
    out = Add(name="res")([h, c])
    model = Model([x_in, kv_in], out, seed=0, dtype=np.float64)
    model.build()
    check_model_gradients(
        model, [rng.normal(size=(2, 4, 6)), rng.normal(size=(2, 5, 6))]
    )


@pytest.mark.parametrize(
    ("layer", "shapes", "message"),
    [
        (
            MultiHeadAttention(4, 8, name="att"),
            [(10, 48)],
            r"MultiHeadAttention 'att' needs num_heads × key_dim = 4 × 8 = 32 "
            r"features but receives \(10, 48\): set key_dim to 12 \(or leave it empty\)\.",
        ),
        (
            MultiHeadAttention(5, 8, name="att"),
            [(10, 48)],
            r"choose num_heads dividing 48\.",
        ),
        (
            MultiHeadAttention(5, name="att"),
            [(10, 48)],
            r"MultiHeadAttention 'att' splits its 48 features into 5 heads, which "
            r"does not divide them \(\(10, 48\)\): choose num_heads dividing 48\.",
        ),
        (
            MultiHeadAttention(2, 4, name="att"),
            [(8,)],
            r"MultiHeadAttention 'att' expects \(time, features\) sequences as "
            r"queries but receives \(8,\): it has no time axis",
        ),
        (
            MultiHeadAttention(2, 4, name="att"),
            [(5, 8), (5, 6)],
            r"needs keys and values of 8 features .* insert a Dense\(8\)",
        ),
        (
            MultiHeadAttention(2, 4, causal=True, name="att"),
            [(5, 8), (7, 8)],
            r"is causal but its queries have 5 steps and its keys 7",
        ),
        (
            PositionalEmbedding(name="pos"),
            [(4, 4, 3)],
            r"PositionalEmbedding 'pos' expects \(time, features\) sequences but "
            r"receives \(4, 4, 3\): Reshape",
        ),
        (LayerNormalization(name="ln"), [()], r"receives scalars per sample"),
    ],
)
def test_shape_errors_name_layer_and_fix(layer, shapes, message):
    with pytest.raises(ShapeError, match=message):
        layer.output_shape(shapes)


def test_three_inputs_are_refused():
    with pytest.raises(ShapeError, match="takes 1 to 2 input"):
        MultiHeadAttention(1, 2).output_shape([(3, 2)] * 3)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: MultiHeadAttention(0, 4), "num_heads must be a positive integer"),
        (lambda: MultiHeadAttention(2, 4, dropout=1.0), r"dropout must be in \[0, 1\)"),
        (lambda: MultiHeadAttention(2, 4, kernel_initializer="nope"), "nope"),
        (lambda: LayerNormalization(epsilon=0), "epsilon must be positive"),
        (lambda: PositionalEmbedding("rotary"), "learned, sinusoidal"),
    ],
)
def test_bad_configuration(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_key_dim_defaults_to_features_per_head(rng):
    layer = built(MultiHeadAttention(4, name="att"), [(5, 8)], rng)
    assert layer.output_shape([(5, 8)]) == (5, 8)
    layer.forward([rng.normal(size=(2, 5, 8))], training=False)
    assert layer.attention_weights.shape == (2, 4, 5, 5)
    assert layer._cache["q"].shape == (2, 4, 5, 2)


def test_param_counts_match_torch():
    # torch.nn.MultiheadAttention(48, 3): 4*48*48 + 4*48 = 9408 parameters
    assert MultiHeadAttention(3, 16).param_count([(11, 48)]) == 9408
    assert MultiHeadAttention(3, 16, use_bias=False).param_count([(11, 48)]) == 9216
    assert LayerNormalization().param_count([(11, 48)]) == 96


def test_buffers_are_reused_between_batches(rng):
    layer = built(MultiHeadAttention(2, 4, name="a"), [(6, 8)], rng)
    x = rng.normal(size=(4, 6, 8))
    layer.forward([x], training=True)
    layer.backward(rng.normal(size=(4, 6, 8)))
    held = {k: id(v) for k, v in layer._buffers.items()}
    layer.forward([x], training=True)
    layer.backward(rng.normal(size=(4, 6, 8)))
    assert {k: id(v) for k, v in layer._buffers.items()} == held


@pytest.mark.slow
def test_a_small_transformer_learns_to_sort_digits():
    """minGPT's sort task (6 digits of 0-2): one pre-norm block with learned
    positions, AdamW and the warm-up cosine schedule sorts held-out sequences."""
    from nndesk.engine import schedules
    from nndesk.engine.layers import Embedding

    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, size=(2000, 6)).astype(np.float32)
    y = np.sort(x, axis=1)
    ids = Input((6,), dtype="int")
    h = PositionalEmbedding()(Embedding(3, 24)(ids))
    h = Add()([h, MultiHeadAttention(3)(LayerNormalization()(h))])
    f = Dense(96, activation="gelu")(LayerNormalization()(h))
    h = Add()([h, Dense(24)(f)])
    out = Dense(3, activation="softmax")(LayerNormalization()(h))
    model = Model(ids, out, seed=0)
    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=optimizers.get("adamw", lr=3e-3),
        lr_schedule=schedules.get("warmup_cosine", warmup_epochs=1, total_epochs=6),
    )
    model.fit(x[:1600], y[:1600], epochs=6, batch_size=32)
    predicted = model.predict(x[1600:]).argmax(-1)
    accuracy = (predicted == y[1600:]).all(axis=1).mean()
    assert accuracy >= 0.99, accuracy
