"""Losses: finite-difference gradients, hand-computed values, fusion and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gradcheck import assert_gradient

from nndesk.engine import losses
from nndesk.engine.errors import ConfigError, DataError, NNDeskError, ShapeError


@pytest.fixture(autouse=True)
def _both_kernel_paths(kernel_path):
    """Every loss test runs with the Numba kernels and with the NumPy ones."""
    yield


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


REGRESSION = [("mse", {}), ("mae", {}), ("huber", {"delta": 0.7})]


def _regression_data(rng: np.random.Generator):
    y = rng.normal(size=(5, 3))
    d = rng.uniform(0.1, 0.6, size=(5, 3)) * rng.choice([-1.0, 1.0], size=(5, 3))
    d[0] *= 3.0  # beyond huber's delta (0.7): the linear branch
    return y + d, y


# --- gradient checks (float64, every loss, both routes) --------------------------------
@pytest.mark.parametrize("name,kwargs", REGRESSION)
def test_regression_gradients(name, kwargs):
    pred, y = _regression_data(np.random.default_rng(0))
    loss = losses.get(name, **kwargs)
    loss.forward(pred, y)
    assert_gradient(lambda: loss.forward(pred, y), pred, loss.backward(), what=name)
    loss.forward_from_logits(pred, y)
    grad = loss.backward_from_logits()
    assert_gradient(lambda: loss.forward_from_logits(pred, y), pred, grad, what=name)


def _classification_data(name: str, rng: np.random.Generator, shape=(6, 4)):
    z = rng.normal(size=shape) * 2.0
    if name == "binary_crossentropy":
        return z, rng.integers(0, 2, size=shape).astype(np.float64), _sigmoid
    if name == "categorical_crossentropy":
        return (
            z,
            np.eye(shape[-1])[rng.integers(0, shape[-1], size=shape[:-1])],
            _softmax,
        )
    return z, rng.integers(0, shape[-1], size=shape[:-1]), _softmax


CLASSIFICATION = [
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
]


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_cross_entropy_gradients_from_probabilities(name):
    z, y, act = _classification_data(name, np.random.default_rng(1))
    p = act(z)
    loss = losses.get(name)
    loss.forward(p, y)
    assert_gradient(lambda: loss.forward(p, y), p, loss.backward(), what=name)


@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize("fused", ["from_logits_flag", "fused_route"])
def test_cross_entropy_gradients_from_logits(name, fused):
    z, y, _ = _classification_data(name, np.random.default_rng(2))
    if fused == "fused_route":
        loss = losses.get(name)
        forward, backward = loss.forward_from_logits, loss.backward_from_logits
    else:
        loss = losses.get(name, from_logits=True)
        forward, backward = loss.forward, loss.backward
    forward(z, y)
    assert_gradient(lambda: forward(z, y), z, backward(), what=name)


def test_soft_categorical_targets_gradient():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(4, 3))
    y = rng.uniform(0, 1, size=(4, 3))  # rows need not sum to 1
    loss = losses.CategoricalCrossentropy(from_logits=True)
    loss.forward(z, y)
    assert_gradient(lambda: loss.forward(z, y), z, loss.backward(), what="soft cce")


def test_sparse_gradients_for_sequence_outputs():
    rng = np.random.default_rng(4)
    z = rng.normal(size=(3, 5, 4))
    labels = rng.integers(0, 4, size=(3, 5))
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    value = loss.forward(z, labels)
    assert_gradient(lambda: loss.forward(z, labels), z, loss.backward(), what="seq")
    flat = losses.SparseCategoricalCrossentropy(from_logits=True)
    assert value == pytest.approx(flat.forward(z.reshape(15, 4), labels.reshape(15)))


# --- values --------------------------------------------------------------------------------
def test_regression_values_by_hand():
    pred = np.array([[1.0, 2.0], [3.0, -1.0]])
    y = np.array([[0.0, 2.0], [1.0, 1.0]])
    # differences 1, 0, 2, -2
    assert losses.MeanSquaredError()(pred, y) == pytest.approx((1 + 0 + 4 + 4) / 4)
    assert losses.MeanAbsoluteError()(pred, y) == pytest.approx((1 + 0 + 2 + 2) / 4)
    huber = losses.Huber(delta=1.5)
    expected = (0.5 * 1 + 0 + 1.5 * (2 - 0.75) * 2) / 4
    assert huber(pred, y) == pytest.approx(expected)
    huber.forward(pred, y)
    np.testing.assert_allclose(huber.backward(), np.array([[1, 0], [1.5, -1.5]]) / 4)
    mae = losses.MeanAbsoluteError()
    mae.forward(pred, y)
    np.testing.assert_allclose(mae.backward(), np.array([[1, 0], [1, -1]]) / 4)


def test_cross_entropy_values_by_hand():
    p = np.array([[0.8], [0.3]])
    y = np.array([[1.0], [0.0]])
    bce = losses.BinaryCrossentropy()
    assert bce(p, y) == pytest.approx(-(math.log(0.8) + math.log(0.7)) / 2)
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    cce = losses.CategoricalCrossentropy()
    onehot = np.array([[0, 1, 0], [0, 0, 1]])
    expected = -(math.log(0.2) + math.log(0.8)) / 2
    assert cce(probs, onehot) == pytest.approx(expected)
    assert losses.SparseCategoricalCrossentropy()(probs, [1, 2]) == pytest.approx(
        expected
    )
    z = np.array([[2.0, 0.0, -1.0]])
    lse = math.log(math.exp(2) + 1 + math.exp(-1))
    sparse = losses.SparseCategoricalCrossentropy(from_logits=True)
    assert sparse(z, [1]) == pytest.approx(lse - 0.0)


def test_probability_clip_like_keras():
    bce = losses.BinaryCrossentropy()
    value = bce.forward(np.array([[0.0], [1.0]]), np.array([[1.0], [1.0]]))
    assert value == pytest.approx(-math.log(losses.EPSILON) / 2)
    grad = bce.backward()
    assert np.all(np.isfinite(grad))
    assert grad[0, 0] == 0.0  # the clip is flat there
    cce = losses.CategoricalCrossentropy()
    assert cce(np.array([[1.0, 0.0]]), np.array([[0, 1]])) == pytest.approx(
        -math.log(losses.EPSILON)
    )


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_fused_matches_unfused_on_moderate_logits(name):
    z, y, act = _classification_data(name, np.random.default_rng(5))
    p = act(z)
    fused = losses.get(name)
    plain = losses.get(name)
    assert fused.forward_from_logits(z, y) == pytest.approx(
        plain.forward(p, y), rel=1e-12
    )
    dz = fused.backward_from_logits()
    dp = plain.backward()
    if name == "binary_crossentropy":
        chained = dp * p * (1 - p)
    else:  # softmax Jacobian: dz = p * (dp - sum(dp * p))
        chained = p * (dp - (dp * p).sum(-1, keepdims=True))
    np.testing.assert_allclose(dz, chained, rtol=1e-10, atol=1e-14)


def test_extreme_logits_stay_finite_and_exact():
    cce = losses.CategoricalCrossentropy(from_logits=True)
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])
    value = cce(z, np.array([[0, 0, 1], [0, 1, 0]]))
    assert value == pytest.approx((1000.0 + math.log1p(math.exp(-1))) / 2)
    assert np.all(np.isfinite(cce.backward()))
    bce = losses.BinaryCrossentropy(from_logits=True)
    zb = np.array([[1000.0], [-1000.0], [1000.0], [-1000.0]], dtype=np.float32)
    value = bce(zb, np.array([[1], [0], [0], [1]]))
    assert value == pytest.approx(2 * 1000.0 / 4)
    grad = bce.backward()
    np.testing.assert_array_equal(grad, np.array([[0], [0], [1], [-1]]) / 4)
    assert grad.dtype == np.float32


# --- dtype, shapes, config ----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", losses.LOSSES)
def test_backward_keeps_shape_and_dtype(name, dtype):
    rng = np.random.default_rng(6)
    z = rng.normal(size=(4, 3)).astype(dtype)
    if name == "sparse_categorical_crossentropy":
        y = np.array([0, 2, 1, 2])
    elif name in ("binary_crossentropy", "categorical_crossentropy"):
        y = np.eye(3, dtype=np.int64)[[0, 2, 1, 2]]
    else:
        y = rng.normal(size=(4, 3))
    loss = losses.get(name)
    pred = _softmax(z) if loss.fuses_with else z
    value = loss.forward(pred, y)
    assert isinstance(value, float) and math.isfinite(value)
    grad = loss.backward()
    assert grad.shape == z.shape and grad.dtype == dtype
    loss.forward_from_logits(z, y)
    grad = loss.backward_from_logits()
    assert grad.shape == z.shape and grad.dtype == dtype


def test_fuses_with():
    assert losses.get("binary_crossentropy").fuses_with == "sigmoid"
    assert losses.get("categorical_crossentropy").fuses_with == "softmax"
    assert losses.get("sparse_categorical_crossentropy").fuses_with == "softmax"
    assert losses.get("categorical_crossentropy", from_logits=True).fuses_with is None
    for name in ("mse", "mae", "huber"):
        assert losses.get(name).fuses_with is None


def test_column_and_flat_targets_fit():
    pred = np.array([[0.5], [1.5], [2.0]])
    flat = losses.MeanSquaredError()(pred, np.array([0.0, 1.0, 2.0]))
    assert flat == pytest.approx((0.25 + 0.25 + 0) / 3)
    bce = losses.BinaryCrossentropy()
    assert bce(np.array([0.2, 0.9]), np.array([[0], [1]])) == pytest.approx(
        -(math.log(0.8) + math.log(0.9)) / 2
    )
    sparse = losses.SparseCategoricalCrossentropy()
    probs = np.array([[0.5, 0.5], [0.25, 0.75]])
    assert sparse(probs, np.array([[0], [1]])) == pytest.approx(
        -(math.log(0.5) + math.log(0.75)) / 2
    )


def test_registry_and_config_round_trip():
    assert losses.LOSSES == (
        "mse",
        "mae",
        "huber",
        "binary_crossentropy",
        "categorical_crossentropy",
        "sparse_categorical_crossentropy",
    )
    for name in losses.LOSSES:
        loss = losses.get(name)
        assert loss.name == name
        again = losses.get(loss.name, **loss.get_config())
        assert type(again) is type(loss) and again.get_config() == loss.get_config()
    assert losses.get("huber", delta=0.3).get_config() == {"delta": 0.3}
    assert losses.get("Mean_Squared_Error").name == "mse"
    obj = losses.Huber()
    assert losses.get(obj) is obj


def test_registry_errors():
    with pytest.raises(ConfigError, match=r"Unknown loss 'msee'.*mse, mae, huber"):
        losses.get("msee")
    with pytest.raises(ConfigError, match=r"Loss 'mse' has no parameter 'delta'"):
        losses.get("mse", delta=1.0)
    with pytest.raises(ConfigError, match="delta > 0"):
        losses.Huber(delta=0)
    with pytest.raises(ConfigError, match="already built"):
        losses.get(losses.Huber(), delta=2.0)


# --- bad input ----------------------------------------------------------------------------------
def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ShapeError, match=r"\(4, 2\).*\(4, 3\)"):
        losses.MeanSquaredError()(np.zeros((4, 3)), np.zeros((4, 2)))
    with pytest.raises(ShapeError, match=r"\(5, 3\).*\(4, 3\)"):
        losses.MeanSquaredError()(np.zeros((4, 3)), np.zeros((5, 3)))


def test_integer_labels_given_to_categorical_crossentropy():
    with pytest.raises(ShapeError, match="sparse_categorical_crossentropy"):
        losses.CategoricalCrossentropy()(np.full((3, 4), 0.25), np.array([0, 1, 3]))


def test_sparse_label_out_of_range_names_label_row_and_classes():
    probs = np.full((4, 3), 1 / 3)
    loss = losses.SparseCategoricalCrossentropy()
    with pytest.raises(DataError, match=r"label 3 in row 2 is outside \[0, 3\) for 3"):
        loss(probs, np.array([0, 1, 3, 2]))
    with pytest.raises(DataError, match=r"label -1 in row 0"):
        loss(probs, np.array([-1, 1, 2, 2]))
    with pytest.raises(DataError, match=r"label 1.5 in row 1 is not an integer"):
        loss(probs, np.array([0, 1.5, 2, 2]))
    with pytest.raises(ShapeError, match=r"labels must be shaped \(4,\)"):
        loss(probs, np.array([0, 1, 2]))


def test_nan_targets_are_data_errors():
    y = np.array([[0.0], [np.nan], [1.0]])
    for name in ("mse", "binary_crossentropy"):
        with pytest.raises(DataError, match="1 NaN/Inf value.*row 1"):
            losses.get(name)(np.full((3, 1), 0.5), y)
    with pytest.raises(DataError):
        losses.SparseCategoricalCrossentropy()(
            np.full((3, 2), 0.5), np.array([0, np.nan, 1])
        )


def test_targets_out_of_unit_range():
    with pytest.raises(DataError, match=r"targets in \[0, 1\].*2 in row 1"):
        losses.BinaryCrossentropy()(np.full((3, 1), 0.5), np.array([[0], [2], [1]]))
    with pytest.raises(DataError, match=r"targets in \[0, 1\]"):
        losses.CategoricalCrossentropy()(
            np.full((2, 2), 0.5), np.array([[0, -1], [1, 0]])
        )


def test_probabilities_out_of_range_suggest_the_fix():
    with pytest.raises(
        ConfigError, match="end the model with a sigmoid or use from_logits"
    ):
        losses.BinaryCrossentropy()(np.array([[-0.5], [1.3]]), np.array([[0], [1]]))
    with pytest.raises(ConfigError, match="softmax"):
        losses.CategoricalCrossentropy()(np.array([[2.0, -1.0]]), np.array([[1, 0]]))


def test_non_numeric_and_empty_input():
    with pytest.raises(DataError, match="numeric targets"):
        losses.MeanSquaredError()(np.zeros((2, 1)), np.array([["a"], ["b"]]))
    with pytest.raises(ShapeError, match="non-empty"):
        losses.MeanSquaredError()(np.zeros((0, 1)), np.zeros((0, 1)))


def test_every_error_is_an_nndesk_error_not_a_numpy_one():
    loss = losses.SparseCategoricalCrossentropy()
    for y in (
        np.array([[0, 1], [1, 0]]),
        np.array(["x", "y"]),
        np.array([True, False]),
    ):
        with pytest.raises(NNDeskError):
            loss(np.full((2, 2), 0.5), y)


def test_backward_before_forward():
    with pytest.raises(RuntimeError, match="before forward"):
        losses.MeanSquaredError().backward()
    loss = losses.BinaryCrossentropy()
    loss.forward(np.array([[0.5]]), np.array([[1.0]]))
    with pytest.raises(RuntimeError, match="before forward_from_logits"):
        loss.backward_from_logits()


def test_a_failed_forward_leaves_no_stale_gradient():
    loss = losses.MeanSquaredError()
    loss.forward(np.zeros((2, 1)), np.ones((2, 1)))
    with pytest.raises(DataError):
        loss.forward(np.zeros((2, 1)), np.array([[np.nan], [1.0]]))
    with pytest.raises(RuntimeError, match="before forward"):
        loss.backward()


def test_huge_finite_targets_are_accepted_without_warnings():
    y = np.full((4, 1), 3e38, dtype=np.float32)  # the float32 sum overflows
    loss = losses.MeanAbsoluteError()
    assert loss(y, y) == 0.0
