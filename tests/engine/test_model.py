"""Model: graph tracing, naming, predict, weights, summary, data checks, gradients."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import check_model_gradients

from nndesk.engine import (
    Activation,
    Add,
    BatchNorm,
    Concatenate,
    ConfigError,
    DataError,
    Dense,
    Dropout,
    Flatten,
    GraphError,
    Input,
    Model,
    Reshape,
    Sequential,
    ShapeError,
)


def two_branch_model(**kw) -> Model:
    """Two inputs, a skip connection, a concatenation and two outputs."""
    a = Input((3,), name="a")
    b = Input((2,), name="b")
    h = Dense(4, activation="tanh")(a)
    h2 = Dense(4, activation="relu")(h)
    s = Add()([h, h2])
    c = Concatenate()([s, b])
    y1 = Dense(2, activation="softmax", name="probs")(c)
    y2 = Dense(1, name="value")(s)
    return Model(inputs=[a, b], outputs=[y1, y2], **kw)


# --- graph --------------------------------------------------------------------------
def test_topological_order_and_auto_names():
    m = two_branch_model()
    names = [layer.name for layer in m.layers]
    assert names == [
        "a",
        "dense_1",
        "dense_2",
        "add_1",
        "b",
        "concatenate_1",
        "probs",
        "value",
    ]
    pos = {n: i for i, n in enumerate(names)}
    for layer in m.layers:
        for src in layer.inbound:
            assert pos[src.name] < pos[layer.name]
    assert m.input_names == ["a", "b"] and m.output_names == ["probs", "value"]
    assert m.output_shapes == [(2,), (1,)]
    assert m.inbound_names("concatenate_1") == ["add_1", "b"]


def test_auto_names_skip_explicit_ones():
    x = Input((2,))
    h = Dense(3, name="dense_1")(x)
    y = Dense(1)(Dense(2)(h))
    m = Model(x, y)
    assert [layer.name for layer in m.layers] == [
        "input_1",
        "dense_1",
        "dense_2",
        "dense_3",
    ]
    assert m.layer("dense_3").units == 1
    assert BatchNorm.name_prefix() == "batch_norm"


def test_graph_errors():
    x = Input((2,), name="x")
    with pytest.raises(GraphError, match="Two layers are named 'same'"):
        Model(x, Dense(1, name="same")(Dense(2, name="same")(x)))
    other = Input((2,), name="other")
    y = Add()([Dense(2)(x), other])
    with pytest.raises(GraphError, match="depend on Input 'other'.*not among"):
        Model(x, y)
    lonely = Input((2,), name="lonely")
    with pytest.raises(GraphError, match="Input 'lonely' does not reach any output"):
        Model([x, other, lonely], y)
    with pytest.raises(GraphError, match="must be Input layers"):
        Model(Dense(2)(x), y)
    with pytest.raises(GraphError, match="listed twice"):
        Model([x, x, other], y)
    with pytest.raises(GraphError, match="not connected to a graph"):
        Model(x, Dense(3))
    with pytest.raises(ConfigError, match="no layer named 'nope'"):
        Model([x, other], y).layer("nope")


def test_sequential():
    m = Sequential([Input((4,)), Dense(3, activation="relu"), Dense(2)], seed=0)
    assert [layer.type_name for layer in m.layers] == ["Input", "Dense", "Dense"]
    assert m.predict(np.ones((5, 4))).shape == (5, 2)
    with pytest.raises(GraphError, match="starts with an Input"):
        Sequential([Dense(3)])


# --- predict ------------------------------------------------------------------------
def test_multi_input_multi_output_predict_matches_manual_computation():
    m = two_branch_model(seed=1, dtype=np.float64)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(7, 3)), rng.normal(size=(7, 2))
    w = m.get_weights()
    h = np.tanh(a @ w["dense_1/kernel"] + w["dense_1/bias"])
    s = h + np.maximum(h @ w["dense_2/kernel"] + w["dense_2/bias"], 0)
    z = np.hstack([s, b]) @ w["probs/kernel"] + w["probs/bias"]
    probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    value = s @ w["value/kernel"] + w["value/bias"]
    p1, p2 = m.predict([a, b], batch_size=3)
    np.testing.assert_allclose(p1, probs, rtol=1e-12)
    np.testing.assert_allclose(p2, value, rtol=1e-12)
    q1, q2 = m.predict({"b": b, "a": a})  # batch 256: BLAS may round differently
    np.testing.assert_allclose(q1, p1, rtol=1e-12)
    np.testing.assert_allclose(q2, p2, rtol=1e-12)


def test_predict_returns_copies_and_model_dtype():
    m = Sequential([Input((2,)), Dense(3)], seed=0)
    x = np.ones((4, 2))
    p = m.predict(x)
    assert p.dtype == np.float32
    m.predict(2 * x)
    np.testing.assert_array_equal(p, m.predict(x))


def test_float64_mode():
    m = Sequential([Input((2,)), Dense(3), BatchNorm()], dtype=np.float64, seed=0)
    assert all(w.dtype == np.float64 for w in m.get_weights().values())
    assert m.predict(np.ones((2, 2), dtype=np.float32)).dtype == np.float64
    m.build(seed=0, dtype=np.float32)
    assert all(w.dtype == np.float32 for w in m.get_weights().values())
    with pytest.raises(ConfigError, match="float32 or float64"):
        m.build(dtype=np.int32)


# --- weights ------------------------------------------------------------------------
def test_weight_keys_and_round_trip():
    m = Sequential([Input((3,)), Dense(4, name="d"), BatchNorm(name="bn")], seed=0)
    w = m.get_weights()
    assert list(w) == [
        "d/kernel",
        "d/bias",
        "bn/gamma",
        "bn/beta",
        "bn/running_mean",
        "bn/running_var",
    ]
    w["d/kernel"] += 1  # a copy: the model is untouched
    assert not np.array_equal(m.get_weights()["d/kernel"], w["d/kernel"])
    m2 = Sequential([Input((3,)), Dense(4, name="d"), BatchNorm(name="bn")], seed=5)
    m2.set_weights(w)
    for key, value in m2.get_weights().items():
        np.testing.assert_array_equal(value, w[key].astype(np.float32))
    x = np.random.default_rng(0).normal(size=(5, 3))
    m.set_weights(w)
    np.testing.assert_array_equal(m.predict(x), m2.predict(x))


def test_set_weights_errors_leave_the_model_unchanged():
    m = Sequential([Input((3,)), Dense(4, name="d")], seed=0)
    before = m.get_weights()
    bad = dict(before, **{"d/bias": np.zeros(4) + 7, "d/kernel": np.zeros((2, 4))})
    with pytest.raises(
        ShapeError, match=r"'d/kernel' has shape \(3, 4\) in the model but \(2, 4\)"
    ):
        m.set_weights(bad)
    np.testing.assert_array_equal(m.get_weights()["d/bias"], before["d/bias"])
    with pytest.raises(ConfigError, match="no weight 'x/kernel'"):
        m.set_weights({**before, "x/kernel": np.zeros(1)})
    with pytest.raises(ConfigError, match="'d/bias' is missing"):
        m.set_weights({"d/kernel": before["d/kernel"]})
    m.set_weights({"d/bias": np.ones(4), "x/kernel": np.zeros(1)}, strict=False)
    np.testing.assert_array_equal(m.get_weights()["d/bias"], np.ones(4))
    with pytest.raises(ConfigError, match="holds <U1 values"):
        m.set_weights({"d/bias": np.array(list("abcd"))}, strict=False)


def test_count_params_and_submodel_sharing_weights():
    x = Input((3,))
    h = Dense(4, name="h")(x)
    y = Dense(2, name="y")(BatchNorm(name="bn")(h))
    m = Model(x, y, seed=0)
    assert m.count_params() == 16 + 16 + 10
    m.build(seed=0)
    features = Model(x, h)  # layers already built: no new weights are drawn
    assert features.built
    np.testing.assert_array_equal(
        features.get_weights()["h/kernel"], m.get_weights()["h/kernel"]
    )


# --- summary ------------------------------------------------------------------------
def test_summary_of_a_chain():
    m = Sequential(
        [
            Input((28, 28)),
            Flatten(),
            Dense(64, activation="relu"),
            BatchNorm(),
            Dense(10, activation="softmax"),
        ],
        name="mnist",
    )
    text = m.summary()
    lines = text.splitlines()
    assert lines[0] == 'Model: "mnist"'
    assert any(
        line.split()[:4] == ["flatten_1", "(Flatten)", "(None,", "784)"]
        for line in lines
    )
    row = next(line for line in lines if line.startswith("dense_1 (Dense)"))
    assert "(None, 64)" in row and "50,240" in row and "relu" in row
    assert "Total params: 51,146" in text
    assert "Trainable params: 51,018" in text
    assert "Non-trainable params: 128" in text
    assert "Connected to" not in text


def test_summary_of_a_dag_shows_connections():
    m = two_branch_model()
    text = m.summary()
    assert "Connected to" in text
    row = next(line for line in text.splitlines() if line.startswith("concatenate_1"))
    assert "add_1, b" in row
    rows = m.summary_rows()
    assert rows[-1] == {
        "name": "value",
        "type": "Dense",
        "output_shape": (None, 1),
        "params": 5,
        "trainable": 5,
        "activation": "linear",
        "inputs": ["add_1"],
    }


# --- data checks ----------------------------------------------------------------------
def test_input_data_errors():
    m = two_branch_model(seed=0)
    m.compile(loss=["categorical_crossentropy", "mse"], optimizer="sgd")
    a, b = np.zeros((4, 3)), np.zeros((4, 2))
    y = [np.eye(2)[[0, 1, 0, 1]], np.zeros((4, 1))]
    with pytest.raises(
        ShapeError, match=r"Input 'a' expects samples of shape \(3,\).*shape \(4, 5\)"
    ):
        m.predict([np.zeros((4, 5)), b])
    bad = a.copy()
    bad[0, 0], bad[2, 1] = np.nan, np.inf
    with pytest.raises(DataError, match="Input 'a' \\(x\\) contains 2 NaN/Inf"):
        m.predict([bad, b])
    with pytest.raises(DataError, match="Input 'a' \\(validation x\\) contains 2"):
        m.fit([a, b], y, validation_data=([bad, b], y))
    with pytest.raises(
        DataError, match="different numbers of samples \\('a': 4, 'b': 3\\)"
    ):
        m.predict([a, b[:3]])
    with pytest.raises(
        DataError, match="x has 4 samples but y for output 'value' has 3"
    ):
        m.fit([a, b], [y[0], y[1][:3]])
    with pytest.raises(ConfigError, match="2 inputs.*list of 2 arrays"):
        m.predict(a)
    with pytest.raises(ConfigError, match="keyed by a but the model expects a, b"):
        m.predict({"a": a})
    with pytest.raises(DataError, match="no samples"):
        m.predict([a[:0], b[:0]])
    with pytest.raises(DataError, match="not numbers"):
        m.predict([np.array([["x"] * 3] * 4), b])


def test_bad_batch_size():
    m = Sequential([Input((2,)), Dense(1)], seed=0)
    m.compile("mse", "sgd")
    for bad in (0, -3, 2.5, "8", True):
        with pytest.raises(ConfigError, match="batch_size must be a positive integer"):
            m.predict(np.zeros((3, 2)), batch_size=bad)
    with pytest.raises(ConfigError, match="batch_size"):
        m.fit(np.zeros((3, 2)), np.zeros(3), batch_size=0)


def test_huge_finite_values_are_not_reported_as_nan(kernel_path):
    m = Sequential([Input((2,)), Dense(1)], seed=0)
    x = np.full((10, 2), 3e38, dtype=np.float32)  # the sum overflows, values do not
    assert m.predict(x).shape == (10, 1)


def test_one_dimensional_data_for_scalar_inputs_and_outputs():
    m = Sequential([Input((1,)), Dense(1)], seed=0)
    m.compile("mse", "sgd")
    x = np.linspace(0, 1, 8)
    assert m.predict(x).shape == (8, 1)
    assert "loss" in m.train_on_batch(x, 2 * x)


def test_training_needs_compile():
    m = Sequential([Input((2,)), Dense(1)], seed=0)
    with pytest.raises(ConfigError, match="not compiled"):
        m.fit(np.zeros((2, 2)), np.zeros((2, 1)))
    with pytest.raises(ConfigError, match="Unknown loss 'foo'"):
        m.compile(loss="foo")
    with pytest.raises(ConfigError, match="2 losses"):
        m.compile(loss=["mse", "mse"])


# --- gradients ----------------------------------------------------------------------
def test_dag_model_gradients_end_to_end(kernel_path):
    a = Input((3,), name="a")
    b = Input((4,), name="b")
    h = Dense(5, activation="tanh")(a)
    h = BatchNorm()(h)
    skip = Add()([h, Dense(5, activation="gelu")(h)])
    d = Dropout(0.3)(skip)
    c = Concatenate()([d, Dense(2, activation="elu")(b), b])
    r = Reshape((11, 1))(c)
    f = Flatten()(r)
    y1 = Dense(3, activation="softmax")(f)
    y2 = Activation("sigmoid")(Dense(2)(skip))
    m = Model([a, b], [y1, y2], dtype=np.float64, seed=0)
    m.build()
    rng = np.random.default_rng(0)
    check_model_gradients(m, [rng.normal(size=(6, 3)), rng.normal(size=(6, 4))])


def test_backward_checks_gradient_count():
    m = Sequential([Input((2,)), Dense(1)], seed=0)
    m.forward(np.ones((3, 2)))
    with pytest.raises(ShapeError, match="needs 1 output gradient"):
        m.backward([])


def test_gradients_with_a_tensor_used_twice_by_one_layer(kernel_path):
    x = Input((3,))
    h = Dense(4, activation="tanh")(x)
    doubled = Add()([h, h])  # Add returns one array for both inputs
    y = Dense(2)(Concatenate()([doubled, h, x]))
    m = Model(x, y, dtype=np.float64, seed=0).build()
    check_model_gradients(m, np.random.default_rng(1).normal(size=(5, 3)))


def test_training_mode_skips_unneeded_input_gradients():
    x = Input((3,))
    first = Dense(4, name="first")
    second = Dense(2, name="second")
    m = Model(x, second(first(x)), seed=0)
    m.compile("mse", "sgd")
    m.train_on_batch(np.ones((2, 3)), np.ones((2, 2)))
    assert not first.needs_input_grad and second.needs_input_grad
    dx = m.backward([np.ones((2, 2), np.float32)])[0]  # asks for input gradients
    assert dx.shape == (2, 3) and first.needs_input_grad
