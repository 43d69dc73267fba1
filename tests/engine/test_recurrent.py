"""Recurrent layers and Embedding: shape rules, errors, float64 gradient checks,
semantics (directions, final states, zero initial state), buffers and learning.

``LAYER_EXAMPLES`` feeds the generic layer tests of ``test_layers.py``; the
PyTorch equality is ``test_recurrent_reference.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import check_layer_gradients, check_model_gradients

from nndesk.engine import optimizers
from nndesk.engine.errors import ConfigError, DataError, ShapeError
from nndesk.engine.layers import (
    GRU,
    LSTM,
    Dense,
    Embedding,
    Input,
    Layer,
    SimpleRNN,
)
from nndesk.engine.model import Model

LAYER_EXAMPLES: dict[str, tuple[Layer, list[tuple[int, ...]]]] = {
    "SimpleRNN": (SimpleRNN(3, activation="relu", name="rnn"), [(4, 2)]),
    "LSTM": (LSTM(3, return_sequences=True, name="lstm"), [(4, 2)]),
    "GRU": (GRU(2, bidirectional=True, name="gru"), [(3, 2)]),
    "Embedding": (Embedding(6, 3, name="emb"), [(5,)]),
}


def example_inputs(type_name: str, shapes, rng, batch: int = 4):
    """Inputs that fit the example of ``type_name`` (``test_layers`` calls it):
    whole-number ids below ``input_dim`` for Embedding, else None (the generic
    normal draws fit)."""
    if type_name != "Embedding":
        return None
    layer = LAYER_EXAMPLES[type_name][0]
    return [
        rng.integers(0, layer.input_dim, size=(batch, *s)).astype(np.float64)
        for s in shapes
    ]


CELLS = {
    "rnn_tanh": lambda **kw: SimpleRNN(3, activation="tanh", name="r", **kw),
    "rnn_relu": lambda **kw: SimpleRNN(3, activation="relu", name="r", **kw),
    "lstm": lambda **kw: LSTM(3, name="r", **kw),
    "gru": lambda **kw: GRU(3, name="r", **kw),
}


def built(layer: Layer, shapes, seed: int = 0) -> Layer:
    layer.build(shapes, np.random.default_rng(seed), np.float64)
    rng = np.random.default_rng(seed + 7)
    for v in layer.params.values():  # non-zero biases exercise every term
        v[...] = rng.normal(size=v.shape) * 0.6
    return layer


# --- shapes, counts and errors -------------------------------------------------------
@pytest.mark.parametrize(
    ("layer", "shape", "out", "params"),
    [
        (SimpleRNN(8), (10, 3), (8,), 8 * 3 + 8 * 8 + 16),
        (SimpleRNN(8, return_sequences=True), (10, 3), (10, 8), 104),
        (LSTM(16), (5, 4), (16,), 4 * 16 * (4 + 16) + 8 * 16),  # torch's count
        (LSTM(16, bidirectional=True), (5, 4), (32,), 2 * (4 * 16 * 20 + 128)),
        (LSTM(16, return_sequences=True, bidirectional=True), (5, 4), (5, 32), 2816),
        (GRU(4, use_bias=False), (7, 2), (4,), 3 * 4 * (2 + 4)),
        (GRU(4, return_sequences=True), (1, 2), (1, 4), 3 * 4 * 6 + 24),
        (Embedding(100, 8), (20,), (20, 8), 800),
        (Embedding(10, 2), (3, 4), (3, 4, 2), 20),
    ],
)
def test_output_shape_and_param_count(layer, shape, out, params):
    assert layer.output_shape([shape]) == out
    assert layer.param_count([shape]) == params


def test_weight_names_follow_torch_per_direction():
    names = sorted(LSTM(2, bidirectional=True).param_shapes([(3, 5)]))
    assert names == sorted(
        f"{k}{d}"
        for k in ("kernel", "recurrent_kernel", "bias", "recurrent_bias")
        for d in ("", "_reverse")
    )
    assert LSTM(2).param_shapes([(3, 5)])["kernel"] == (5, 8)
    assert GRU(2).param_shapes([(3, 5)])["recurrent_kernel"] == (2, 6)


@pytest.mark.parametrize(
    ("layer", "shape", "message"),
    [
        (
            LSTM(4, name="lstm_2"),
            (32,),
            r"^LSTM 'lstm_2' expects \(time, features\) sequences but receives "
            r"\(32,\): it has no time axis; set return_sequences on the recurrent "
            r"layer before it, or Reshape\(\(32, 1\)\) a single series\.$",
        ),
        (
            GRU(4, name="g"),
            (8, 8, 3),
            r"^GRU 'g' expects \(time, features\) sequences but receives \(8, 8, 3\): "
            r"Reshape it to \(time, features\) first\.$",
        ),
        (
            Embedding(5, 2, name="e"),
            (),
            r"^Embedding 'e' needs at least one id per sample but receives scalars\.$",
        ),
    ],
)
def test_shape_errors_name_the_layer_and_the_fix(layer, shape, message):
    with pytest.raises(ShapeError, match=message):
        layer.output_shape([shape])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: LSTM(0, name="l"), r"^LSTM 'l': units must be a positive integer"),
        (
            lambda: SimpleRNN(3, activation="sigmoid", name="s"),
            r"^SimpleRNN 's': activation must be 'tanh' or 'relu'",
        ),
        (
            lambda: GRU(3, kernel_initializer="nope", name="g"),
            r"^GRU 'g': Unknown initializer 'nope'",
        ),
        (lambda: Embedding(0, 3), r"^Embedding: input_dim must be a positive"),
    ],
)
def test_bad_configuration(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


@pytest.mark.parametrize("bad", [2.5, -1.0, 6.0, np.nan])
def test_embedding_refuses_ids_that_are_not_tokens(bad):
    layer = built(Embedding(6, 2, name="emb"), [(3,)])
    x = np.array([[0.0, 1.0, 2.0], [3.0, bad, 5.0]])
    with pytest.raises(
        DataError,
        match=r"^Embedding 'emb' needs integer token ids "
        r"in \[0, 6\) but sample 1 holds",
    ):
        layer.forward([x], training=False)


def test_embedding_accepts_ids_with_float_noise():
    layer = built(Embedding(6, 2, name="emb"), [(2,)])
    y = layer.forward([np.array([[2.9999998, 1.0000001]])], training=False)
    np.testing.assert_array_equal(y[0], layer.params["embeddings"][[3, 1]])


# --- gradients --------------------------------------------------------------------------
@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("steps", [1, 2, 17])
def test_gradients_float64(cell, return_sequences, bidirectional, steps, kernel_path):
    layer = CELLS[cell](return_sequences=return_sequences, bidirectional=bidirectional)
    built(layer, [(steps, 2)])
    x = np.random.default_rng(steps).normal(size=(3, steps, 2))
    check_layer_gradients(layer, [x])


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_gradients_without_bias(cell, kernel_path):
    layer = built(CELLS[cell](use_bias=False, return_sequences=True), [(4, 3)])
    check_layer_gradients(layer, [np.random.default_rng(1).normal(size=(2, 4, 3))])


def test_embedding_gradient_adds_repeated_ids():
    layer = built(Embedding(4, 2, name="e"), [(3,)])
    x = np.array([[1.0, 1.0, 3.0]])
    layer.forward([x], training=True)
    dy = np.arange(6.0).reshape(1, 3, 2)
    layer.backward(dy)
    g = layer.grads["embeddings"]
    np.testing.assert_array_equal(g, [[0, 0], [2, 4], [0, 0], [4, 5]])


def test_a_sequence_model_end_to_end_float64():
    """Embedding -> bidirectional LSTM (sequences) -> GRU -> Dense: every weight
    and the gradient reaching the sequence input of a second branch."""
    x = Input((5, 3), name="x")
    h = LSTM(3, return_sequences=True, bidirectional=True, name="l")(x)
    h = GRU(2, name="g")(h)
    y = Dense(2, activation="tanh", name="d")(h)
    model = Model(x, y, dtype=np.float64, seed=3)
    check_model_gradients(model, np.random.default_rng(0).normal(size=(2, 5, 3)))


# --- semantics ---------------------------------------------------------------------------
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_final_state_is_the_last_step_of_the_sequence(cell):
    x = np.random.default_rng(0).normal(size=(2, 6, 3))
    seq = built(CELLS[cell](return_sequences=True, bidirectional=True), [(6, 3)])
    last = built(CELLS[cell](bidirectional=True), [(6, 3)])
    ys = seq.forward([x], False).copy()
    yl = last.forward([x], False)
    np.testing.assert_allclose(yl[:, :3], ys[:, -1, :3])  # forward: after step T-1
    np.testing.assert_allclose(yl[:, 3:], ys[:, 0, 3:])  # reverse: after step 0


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_reverse_direction_reads_the_sequence_backwards(cell):
    """The reverse half equals a forward layer with the _reverse weights run on
    the time-reversed sequence."""
    x = np.random.default_rng(1).normal(size=(2, 5, 3))
    bi = built(CELLS[cell](return_sequences=True, bidirectional=True), [(5, 3)])
    one = built(CELLS[cell](return_sequences=True), [(5, 3)])
    for k in one.params:
        one.params[k][...] = bi.params[k + "_reverse"]
    np.testing.assert_allclose(
        bi.forward([x], False)[:, :, 3:], one.forward([x[:, ::-1]], False)[:, ::-1]
    )


def test_lstm_by_hand_one_step():
    """One step from the zero state, written out with torch's gate order."""
    layer = built(LSTM(2, name="l"), [(1, 3)])
    x = np.random.default_rng(2).normal(size=(1, 1, 3))
    p = layer.params
    z = x[:, 0] @ p["kernel"] + p["bias"] + p["recurrent_bias"]
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    i, g, o = sig(z[:, :2]), np.tanh(z[:, 4:6]), sig(z[:, 6:])
    np.testing.assert_allclose(layer.forward([x], False), o * np.tanh(i * g))


def test_gru_applies_the_reset_gate_after_the_recurrent_product():
    """n = tanh(x W_n + b_in + r * (h R_n + b_hn)): the torch/ONNX
    linear_before_reset form, checked by hand over two steps."""
    layer = built(GRU(2, name="g"), [(2, 3)])
    x = np.random.default_rng(3).normal(size=(1, 2, 3))
    p = layer.params
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    h = np.zeros((1, 2))
    for t in range(2):
        xp = x[:, t] @ p["kernel"] + p["bias"]
        hp = h @ p["recurrent_kernel"] + p["recurrent_bias"]
        r, z = sig(xp[:, :2] + hp[:, :2]), sig(xp[:, 2:4] + hp[:, 2:4])
        n = np.tanh(xp[:, 4:] + r * hp[:, 4:])
        h = (1 - z) * n + z * h
    np.testing.assert_allclose(layer.forward([x], False), h)


def test_buffers_are_reused_and_batch_sizes_mix():
    layer = LSTM(4, return_sequences=True)
    layer.build([(6, 3)], np.random.default_rng(0))
    rng = np.random.default_rng(1)
    a = rng.normal(size=(5, 6, 3)).astype(np.float32)
    b = rng.normal(size=(2, 6, 3)).astype(np.float32)
    ya = layer.forward([a], True).copy()
    layer.forward([b], True)
    again = layer.forward([a], True)
    assert again.dtype == np.float32
    np.testing.assert_array_equal(again, ya)
    xp = layer._passes[0].xp
    layer.forward([a], True)
    assert layer._passes[0].xp is xp  # the same per-step buffer, not a new one


def test_scratch_size_counts_the_per_step_buffers():
    small, large = (
        LSTM(4).scratch_size([(10, 3)], True),
        LSTM(4).scratch_size([(20, 3)], True),
    )
    assert large == 2 * small > 0
    assert LSTM(4, bidirectional=True).scratch_size([(10, 3)], False) > LSTM(
        4
    ).scratch_size([(10, 3)], False)


# --- learning ------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_tanh"])
def test_learns_the_sum_of_a_sequence(cell):
    """Regression on the sum of 6 values: each cell gets the MSE far below the
    variance of the target (6) within a few hundred steps."""
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(256, 6, 1)).astype(np.float32)
    ys = xs.sum(axis=(1, 2))[:, None]
    make = {"lstm": LSTM, "gru": GRU, "rnn_tanh": SimpleRNN}[cell]
    x = Input((6, 1))
    y = Dense(1)(make(16)(x))
    model = Model(x, y, seed=0)
    model.compile(loss="mse", optimizer=optimizers.get("adam", lr=0.01))
    history = model.fit(xs, ys, epochs=40, batch_size=32, verbose=False)
    assert history.history["loss"][-1] < 0.1 * float(ys.var())


def test_embedding_and_gru_learn_token_order():
    """Is the first token smaller than the last? Needs the ids' meaning and order."""
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 8, size=(512, 5)).astype(np.float32)
    ys = (ids[:, 0] < ids[:, -1]).astype(np.float32)[:, None]
    x = Input((5,))
    h = GRU(16)(Embedding(8, 4)(x))
    model = Model(x, Dense(1, activation="sigmoid")(h), seed=0)
    model.compile(loss="binary_crossentropy", optimizer=optimizers.get("adam", lr=0.02))
    model.fit(ids, ys, epochs=30, batch_size=64, verbose=False)
    pred = model.predict(ids)
    assert float(((pred > 0.5) == (ys > 0.5)).mean()) > 0.9


# --- Dense, losses and metrics on (batch, time, features) -----------------------------
@pytest.mark.parametrize("activation", ["linear", "relu", "softmax", "sigmoid"])
def test_dense_acts_on_every_time_step(activation, kernel_path, rng):
    seq = Dense(3, activation=activation, name="d")
    seq.build([(5, 4)], np.random.default_rng(0), np.float64)
    rows = Dense(3, activation=activation, name="d")
    rows.build([(4,)], np.random.default_rng(0), np.float64)
    x = rng.normal(size=(2, 5, 4))
    y = seq.forward([x], True)
    assert y.shape == (2, 5, 3)
    np.testing.assert_allclose(
        y, rows.forward([x.reshape(10, 4)], True).reshape(y.shape)
    )
    check_layer_gradients(seq, [x])


def test_a_sequence_of_dense_steps_trains_like_its_rows():
    """One SGD step of Input((time, f)) -> Dense -> Dense on MSE equals the step on
    the (batch*time, f) rows: the mean runs over every step (the rows take the
    Dense-chain fast path, the sequences the layer-by-layer one)."""
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(4, 6, 3)).astype(np.float32)
    ys = rng.normal(size=(4, 6, 1)).astype(np.float32)
    weights = []
    for shape, x, y in (((6, 3), xs, ys), ((3,), xs.reshape(24, 3), ys.reshape(24, 1))):
        inp = Input(shape)
        out = Dense(1, name="b")(Dense(5, activation="tanh", name="a")(inp))
        model = Model(inp, out, seed=1)
        model.compile(loss="mse", optimizer=optimizers.get("sgd", lr=0.1))
        for _ in range(3):
            model.train_on_batch(x, y)
        weights.append(model.get_weights())
    for k in weights[0]:
        np.testing.assert_allclose(weights[0][k], weights[1][k], rtol=1e-5, atol=1e-6)


def test_a_tagger_learns_per_step_labels_with_metrics_over_every_step():
    """Embedding -> LSTM (sequences) -> Dense softmax per step, sparse labels
    (batch, time): the fused softmax/cross-entropy and accuracy count every step."""
    rng = np.random.default_rng(2)
    ids = rng.integers(0, 5, size=(256, 6)).astype(np.float32)
    labels = np.roll(ids, 1, axis=1).astype(np.int64)  # the previous token
    labels[:, 0] = 0
    x = Input((6,))
    h = LSTM(12, return_sequences=True)(Embedding(5, 4)(x))
    model = Model(x, Dense(5, activation="softmax")(h), seed=0)
    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=optimizers.get("adam", lr=0.02),
        metrics=["accuracy"],
    )
    history = model.fit(ids, labels, epochs=25, batch_size=32, verbose=False)
    assert history.history["accuracy"][-1] > 0.95
    pred = model.predict(ids)
    logs = model.evaluate(ids, labels)
    picked = np.take_along_axis(pred, labels[..., None], axis=-1)
    assert logs["loss"] == pytest.approx(-np.log(picked).mean(), rel=1e-4)
    assert logs["accuracy"] == pytest.approx(np.mean(pred.argmax(-1) == labels))


def test_sequence_metrics_and_their_errors():
    from nndesk.engine import metrics

    pred = np.random.default_rng(0).random((3, 4, 5))
    labels = pred.argmax(-1)
    labels[0, 0] = (labels[0, 0] + 1) % 5
    assert metrics.accuracy(labels, pred) == pytest.approx(11 / 12)
    assert metrics.accuracy(np.eye(5)[labels], pred) == pytest.approx(11 / 12)
    with pytest.raises(ShapeError, match="one label per sample and time step"):
        metrics.accuracy(labels[:, :2], pred)
