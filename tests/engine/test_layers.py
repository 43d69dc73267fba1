"""Layers: shape rules, parameter counts, config round-trips, gradients, semantics."""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from gradcheck import check_layer_gradients

from nndesk.engine.activations import ACTIVATIONS
from nndesk.engine.errors import ConfigError, GraphError, ShapeError
from nndesk.engine.layers import (
    LAYER_TYPES,
    Activation,
    Add,
    BatchNorm,
    Concatenate,
    Dense,
    Dropout,
    Flatten,
    Input,
    Layer,
    Reshape,
)

# One configured instance per layer type, with input shapes that fit it.
EXAMPLES: dict[str, tuple[Layer, list[tuple[int, ...]]]] = {
    "Input": (Input((3, 4), name="inp"), []),
    "Dense": (
        Dense(5, activation="leaky_relu", alpha=0.2, l1=0.01, l2=0.02, name="d"),
        [(4,)],
    ),
    "Activation": (Activation("elu", alpha=0.5, name="act"), [(2, 3)]),
    "Dropout": (Dropout(0.25, name="drop"), [(6,)]),
    "BatchNorm": (BatchNorm(momentum=0.2, epsilon=1e-3, name="bn"), [(3, 4)]),
    "Flatten": (Flatten(name="flat"), [(2, 3, 4)]),
    "Reshape": (Reshape((4, -1), name="resh"), [(2, 6)]),
    "Add": (Add(name="add"), [(3,), (3,), (3,)]),
    "Concatenate": (Concatenate(axis=0, name="cat"), [(2, 3), (4, 3)]),
}


# The ``example_inputs(type_name, shapes, rng, batch)`` functions of those test
# modules: inputs for layers that take something other than normal draws (token
# ids), or None for the others.
INPUT_MAKERS: list = []


def _family_examples() -> dict[str, tuple[Layer, list[tuple[int, ...]]]]:
    """The ``LAYER_EXAMPLES`` of the other test modules here: a new family of
    layers lists its examples in its own test file (``test_conv.py``), and the
    generic tests below (config round trip, gradients, dtypes) cover it too. A
    module whose layers need special inputs also defines ``example_inputs``."""
    found: dict[str, tuple[Layer, list[tuple[int, ...]]]] = {}
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        if path.stem == Path(__file__).stem:
            continue
        if not re.search(r"^LAYER_EXAMPLES\b", path.read_text("utf-8"), re.M):
            continue
        if path.stem not in sys.modules:  # pytest may have imported it already
            pytest.register_assert_rewrite(path.stem)
        module = importlib.import_module(path.stem)
        found.update(module.LAYER_EXAMPLES)
        if hasattr(module, "example_inputs"):
            INPUT_MAKERS.append(module.example_inputs)
    return found


EXAMPLES.update(_family_examples())


def build(layer: Layer, shapes, seed: int = 0, dtype=np.float64) -> Layer:
    layer.build(shapes, np.random.default_rng(seed), dtype)
    return layer


def inputs_for(shapes, rng, batch: int = 4, type_name: str = "") -> list[np.ndarray]:
    for make in INPUT_MAKERS:
        made = make(type_name, shapes, rng, batch)
        if made is not None:
            return made
    return [rng.normal(size=(batch, *s)) for s in shapes]


def test_registry_covers_every_layer_type():
    assert set(LAYER_TYPES) == set(EXAMPLES)
    for type_name, cls in LAYER_TYPES.items():
        assert cls.type_name == type_name


@pytest.mark.parametrize("type_name", sorted(EXAMPLES))
def test_config_round_trip_through_json(type_name):
    layer, shapes = EXAMPLES[type_name]
    config = json.loads(json.dumps(layer.get_config()))
    clone = LAYER_TYPES[type_name].from_config(config)
    assert type(clone) is type(layer)
    assert clone.get_config() == layer.get_config()
    assert clone.output_shape(shapes) == layer.output_shape(shapes)
    assert clone.param_count(shapes) == layer.param_count(shapes)


def test_layer_classes_register_themselves():
    """Classes of nndesk.engine.layers register by defining type_name; a class
    defined elsewhere only with register=True; a type name names one class."""
    import nndesk.engine.layers as layers_package

    for cls in LAYER_TYPES.values():
        assert cls.__module__.startswith("nndesk.engine.layers.")
        assert getattr(layers_package, cls.__name__) is cls

    class Local(Layer):
        type_name = "LocalTestLayer"

    assert "LocalTestLayer" not in LAYER_TYPES
    try:

        class Opted(Layer, register=True):
            type_name = "OptedTestLayer"

        assert LAYER_TYPES["OptedTestLayer"] is Opted
        with pytest.raises(RuntimeError, match="'Dense' is registered twice"):

            class Clash(Layer, register=True):
                type_name = "Dense"

        assert LAYER_TYPES["Dense"] is Dense
    finally:
        LAYER_TYPES.pop("OptedTestLayer", None)


def test_per_type_facts_live_on_the_class():
    moving = {name for name, cls in LAYER_TYPES.items() if cls.pass_through}
    assert {"Dropout", "Flatten", "Reshape"} <= moving
    assert not moving & {"Input", "Dense", "Activation", "BatchNorm", "Add"}
    assert Dense(3, activation="tanh").activation_name == "tanh"
    assert Activation("softmax").activation_name == "softmax"
    assert BatchNorm().activation_name is None
    assert Flatten().activation_name is None


# --- shape rules and counts -------------------------------------------------------------
@pytest.mark.parametrize(
    ("layer", "shapes", "out", "params"),
    [
        (Input((28, 28)), [], (28, 28), 0),
        (Dense(10), [(784,)], (10,), 7850),
        (Dense(10), [(5, 784)], (5, 10), 7850),  # per time step of a sequence
        (Dense(10, use_bias=False), [(784,)], (10,), 7840),
        (Activation("softmax"), [(3, 10)], (3, 10), 0),
        (Dropout(0.5), [(7, 2)], (7, 2), 0),
        (BatchNorm(), [(16,)], (16,), 32),
        (BatchNorm(), [(5, 8)], (5, 8), 16),
        (Flatten(), [(28, 28)], (784,), 0),
        (Flatten(), [()], (1,), 0),
        (Reshape((7, 4, 28)), [(784,)], (7, 4, 28), 0),
        (Reshape((-1, 2)), [(3, 4)], (6, 2), 0),
        (Add(), [(4, 2), (4, 2)], (4, 2), 0),
        (Concatenate(), [(3,), (5,), (1,)], (9,), 0),
        (Concatenate(axis=0), [(2, 3), (4, 3)], (6, 3), 0),
        (Concatenate(axis=-2), [(2, 3), (4, 3)], (6, 3), 0),
    ],
)
def test_output_shape_and_param_count(layer, shapes, out, params):
    assert layer.output_shape(shapes) == out
    assert layer.param_count(shapes) == params


def test_batchnorm_counts_state_separately():
    assert BatchNorm().state_count([(16,)]) == 32
    assert Dense(3).state_count([(2,)]) == 0


@pytest.mark.parametrize(
    ("layer", "shapes", "message"),
    [
        (
            Dense(10, name="dense_2"),
            [(28, 28, 1)],
            r"^Dense 'dense_2' expects 1-D features or \(time, features\) sequences "
            r"but receives \(28, 28, 1\): insert Flatten\.$",
        ),
        (Dense(3), [(2,), (2,)], r"^Dense takes 1 input\(s\) but receives 2\.$"),
        (Add(name="a"), [(3,)], r"Add 'a' takes at least 2 input\(s\) but receives 1"),
        (
            Add(name="a"),
            [(16,), (8,)],
            r"Add 'a' needs inputs of one shape but receives \(16,\), \(8,\)\.",
        ),
        (
            Concatenate(name="c"),
            [(2, 3), (2, 4, 1)],
            r"Concatenate 'c' needs inputs of one rank .* \(2, 3\), \(2, 4, 1\)",
        ),
        (
            Concatenate(axis=0, name="c"),
            [(2, 3), (2, 4)],
            r"Concatenate 'c' needs inputs that agree on every axis but 0",
        ),
        (
            Concatenate(axis=2, name="c"),
            [(2, 3), (2, 3)],
            r"Concatenate 'c' cannot join along axis 2 of 2-D samples",
        ),
        (
            Reshape((5, -1), name="r"),
            [(12,)],
            r"Reshape 'r' cannot reshape \(12,\) \(12 values\) into \(5, -1\)",
        ),
        (
            Reshape((5, 5), name="r"),
            [(12,)],
            r"Reshape 'r' cannot reshape \(12,\) \(12 values\) into \(5, 5\) \(25",
        ),
        (BatchNorm(name="bn"), [()], r"BatchNorm 'bn' needs at least 1-D features"),
        (Activation("softmax"), [()], r"softmax\) needs at least 1-D features"),
        (Input((3,)), [(3,)], r"Input takes 0 input\(s\) but receives 1"),
    ],
)
def test_shape_errors_name_layer_and_shapes(layer, shapes, message):
    with pytest.raises(ShapeError, match=message):
        layer.output_shape(shapes)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Dense(0), r"Dense: units must be a positive integer, got 0"),
        (lambda: Dense(2.5), r"units must be a positive integer"),
        (lambda: Dense(3, activation="foo"), r"Dense: Unknown activation 'foo'"),
        (lambda: Dense(3, kernel_initializer="bar"), r"Unknown initializer 'bar'"),
        (lambda: Dense(3, l2=-1), r"l2 must be finite and >= 0"),
        (lambda: Dropout(1.0), r"Dropout: rate must be in \[0, 1\)"),
        (lambda: Dropout("x"), r"rate must be in"),
        (lambda: BatchNorm(momentum=2), r"momentum must be in \[0, 1\]"),
        (lambda: BatchNorm(epsilon=0), r"epsilon must be positive"),
        (lambda: Reshape((-1, -1)), r"more than one -1"),
        (lambda: Reshape((0, 3)), r"target_shape must hold positive integers"),
        (lambda: Input((0,)), r"shape must hold positive integers"),
        (lambda: Concatenate(axis=1.5), r"axis must be an integer"),
        (lambda: Dense(3, name="a/b"), r"name 'a/b' is invalid"),
    ],
)
def test_bad_configuration(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_input_accepts_an_int_and_refuses_calls():
    assert Input(3).shape == (3,)
    with pytest.raises(GraphError, match="takes no inputs"):
        Input(3)(Input(2))


# --- gradients ----------------------------------------------------------------------
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_gradients(activation, use_bias, kernel_path, rng):
    layer = build(Dense(3, activation=activation, use_bias=use_bias, name="d"), [(4,)])
    x = rng.normal(size=(5, 4))
    check_layer_gradients(layer, [x])


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_activation_layer_gradients(activation, kernel_path, rng):
    layer = build(Activation(activation, name="a"), [(3, 4)])
    x = rng.normal(size=(2, 3, 4))
    x[np.abs(x) < 1e-3] = 0.3  # away from relu kinks
    check_layer_gradients(layer, [x])


@pytest.mark.parametrize("type_name", sorted(set(EXAMPLES) - {"Input"}))
def test_every_layer_type_gradients(type_name, kernel_path, rng):
    proto, shapes = EXAMPLES[type_name]
    layer = build(LAYER_TYPES[type_name].from_config(proto.get_config()), shapes)
    check_layer_gradients(layer, inputs_for(shapes, rng, type_name=type_name))


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 2, 3)])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_gradients(shape, training, rng):
    layer = build(BatchNorm(name="bn"), [shape])
    layer.params["gamma"][:] = rng.uniform(0.5, 2.0, size=shape[-1])
    layer.params["beta"][:] = rng.normal(size=shape[-1])
    layer.state["running_mean"][:] = rng.normal(size=shape[-1])
    layer.state["running_var"][:] = rng.uniform(0.5, 2.0, size=shape[-1])
    check_layer_gradients(layer, [rng.normal(size=(6, *shape))], training=training)


def test_dropout_gradients_with_a_fixed_mask(rng):
    layer = build(Dropout(0.5, name="drop"), [(20,)])
    check_layer_gradients(layer, [rng.normal(size=(8, 20))], training=True)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_gradients(axis, rng):
    shapes = [(2, 3), (2, 3), (2, 3)]
    layer = build(Concatenate(axis=axis, name="c"), shapes)
    check_layer_gradients(layer, inputs_for(shapes, rng))


def test_dense_regularization_gradient(rng):
    from gradcheck import assert_gradient

    layer = build(Dense(3, l1=0.03, l2=0.2, name="d"), [(4,)])
    w = layer.params["kernel"]
    assert layer.has_regularization
    assert layer.regularization_loss() == pytest.approx(
        0.03 * np.abs(w).sum() + 0.2 * (w**2).sum()
    )
    layer.grads["kernel"][:] = 0
    layer.add_regularization_grads()
    assert_gradient(layer.regularization_loss, w, layer.grads["kernel"].copy())


# --- semantics ------------------------------------------------------------------------
def test_dense_uses_keras_layout(rng):
    layer = build(Dense(2, activation="relu"), [(3,)])
    x = rng.normal(size=(4, 3))
    want = np.maximum(x @ layer.params["kernel"] + layer.params["bias"], 0)
    np.testing.assert_allclose(layer.forward([x], False), want)
    assert layer.params["kernel"].shape == (3, 2)


def test_default_params_are_float32():
    layer = Dense(4)
    layer.build([(3,)], np.random.default_rng(0))
    assert layer.params["kernel"].dtype == np.float32
    assert layer.params["bias"].dtype == np.float32
    assert np.all(layer.params["bias"] == 0)


def test_batchnorm_follows_pytorch_semantics(rng):
    layer = build(BatchNorm(momentum=0.1, epsilon=1e-5), [(2, 3)])
    x = rng.normal(loc=2.0, scale=3.0, size=(5, 2, 3))
    y = layer.forward([x], training=True)
    flat = x.reshape(-1, 3)
    mean, var = flat.mean(axis=0), flat.var(axis=0)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-5), atol=1e-12)
    np.testing.assert_allclose(layer.state["running_mean"], 0.1 * mean)
    unbiased = flat.var(axis=0, ddof=1)
    np.testing.assert_allclose(layer.state["running_var"], 0.9 + 0.1 * unbiased)
    y_eval = layer.forward([x], training=False)
    rm, rv = layer.state["running_mean"], layer.state["running_var"]
    np.testing.assert_allclose(y_eval, (x - rm) / np.sqrt(rv + 1e-5), atol=1e-12)


def test_batchnorm_single_sample_batch_is_finite():
    layer = build(BatchNorm(), [(3,)])
    y = layer.forward([np.ones((1, 3))], training=True)
    np.testing.assert_array_equal(y, np.zeros((1, 3)))
    np.testing.assert_array_equal(layer.state["running_var"], np.ones(3))
    assert np.all(np.isfinite(layer.backward(np.ones((1, 3)))[0]))


def test_dropout_scales_and_masks(kernel_path):
    layer = build(Dropout(0.25), [(1000,)], dtype=np.float32)
    x = np.ones((20, 1000), dtype=np.float32)
    y = layer.forward([x], training=True)
    kept = y != 0
    assert kept.mean() == pytest.approx(0.75, abs=0.01)
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    dx = layer.backward(np.ones_like(x))[0]
    np.testing.assert_array_equal(dx, y)
    assert layer.forward([x], training=False) is x


def test_dropout_same_seed_same_mask(kernel_path):
    def mask(seed):
        layer = build(Dropout(0.5), [(50,)], seed=seed)
        return layer.forward([np.ones((4, 50))], training=True) != 0

    np.testing.assert_array_equal(mask(7), mask(7))
    assert not np.array_equal(mask(7), mask(8))


def test_flatten_and_reshape_round_trip(rng):
    x = rng.normal(size=(3, 2, 3, 4))
    flat = build(Flatten(), [(2, 3, 4)])
    y = flat.forward([x], False)
    assert y.shape == (3, 24)
    np.testing.assert_array_equal(flat.backward(y)[0], x)
    resh = build(Reshape((4, 6)), [(2, 3, 4)])
    assert resh.forward([x], False).shape == (3, 4, 6)


def test_merges_forward(rng):
    a, b, c = (rng.normal(size=(2, 3)) for _ in range(3))
    np.testing.assert_allclose(
        build(Add(), [(3,)] * 3).forward([a, b, c], False), a + b + c
    )
    cat = build(Concatenate(), [(3,)] * 3)
    np.testing.assert_array_equal(cat.forward([a, b, c], False), np.hstack([a, b, c]))


@pytest.mark.parametrize("type_name", sorted(set(EXAMPLES) - {"Input"}))
def test_forward_and_backward_leave_arguments_alone(type_name, rng):
    proto, shapes = EXAMPLES[type_name]
    layer = build(LAYER_TYPES[type_name].from_config(proto.get_config()), shapes)
    xs = inputs_for(shapes, rng, type_name=type_name)
    saved = [x.copy() for x in xs]
    y = layer.forward(xs, training=True)
    dy = rng.normal(size=y.shape)
    dy_saved = dy.copy()
    layer.backward(dy)
    for x, s in zip(xs, saved, strict=True):
        np.testing.assert_array_equal(x, s)
    np.testing.assert_array_equal(dy, dy_saved)


def test_layer_is_used_once():
    x = Input((3,))
    d = Dense(2)
    d(x)
    with pytest.raises(GraphError, match="already connected"):
        d(x)
    with pytest.raises(GraphError, match="not the output of a layer in a graph"):
        Dense(2)(np.zeros((1, 3)))
    with pytest.raises(ShapeError, match="insert Flatten"):
        Dense(2)(Input((3, 3, 1)))


def test_symbolic_tensor_reports_shape():
    t = Dense(4, name="d")(Input((3,)))
    assert t.shape == (4,)
    assert "(None, 4)" in repr(t) and "Dense 'd'" in repr(t)
