"""Tests for feature scaling: statistics, JSON round trip, training-split fitting."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nndesk.io.datasets import Dataset, DatasetError, Scaler


def _data(seed: int = 0, n: int = 200) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(loc=[3.0, -2.0, 0.0], scale=[5.0, 0.1, 1.0], size=(n, 3))
    x[:, 2] = 7.0  # a constant feature
    return x.astype(np.float32)


def test_standard_scaling_centres_and_scales() -> None:
    x = _data()
    out = Scaler("standard").fit_transform(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[:, :2].mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(out[:, :2].std(axis=0), 1.0, rtol=1e-4)
    # The constant feature is shifted to 0 instead of dividing by a zero std.
    np.testing.assert_array_equal(out[:, 2], 0.0)


def test_minmax_scaling_maps_training_data_to_unit_interval() -> None:
    x = _data()
    out = Scaler("minmax").fit_transform(x)
    np.testing.assert_allclose(out[:, :2].min(axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(out[:, :2].max(axis=0), 1.0, atol=1e-6)
    np.testing.assert_array_equal(out[:, 2], 0.0)


def test_transform_uses_the_training_statistics() -> None:
    train, other = _data(seed=0), _data(seed=1) * 10 + 4
    scaler = Scaler("standard").fit(train)
    t64 = train.astype(np.float64)
    mean, std = t64.mean(axis=0), t64.std(axis=0)
    std[std == 0] = 1.0
    np.testing.assert_allclose(
        scaler.transform(other), (other - mean) / std, rtol=1e-5, atol=1e-5
    )


def test_global_axis_uses_one_statistic() -> None:
    images = np.random.default_rng(0).integers(0, 256, size=(50, 4, 4)).astype(np.uint8)
    scaler = Scaler("standard", axis="global").fit(images)
    assert scaler.offset.shape == () and scaler.scale.shape == ()
    out = scaler.transform(images)
    assert out.shape == (50, 4, 4)
    assert abs(out.mean()) < 1e-5 and abs(out.std() - 1) < 1e-4


def test_per_feature_statistics_for_images_keep_their_shape() -> None:
    images = np.random.default_rng(1).random((20, 3, 5))
    scaler = Scaler("minmax").fit(images)
    assert scaler.offset.shape == (3, 5) and scaler.input_shape == (3, 5)


@pytest.mark.parametrize("method", ["standard", "minmax"])
@pytest.mark.parametrize("axis", ["feature", "global"])
def test_json_round_trip_gives_identical_answers(method: str, axis: str) -> None:
    x = _data()
    scaler = Scaler(method, axis=axis).fit(x)
    data = json.loads(json.dumps(scaler.to_dict()))
    again = Scaler.from_dict(data)
    raw = _data(seed=5)
    np.testing.assert_array_equal(scaler.transform(raw), again.transform(raw))
    np.testing.assert_array_equal(scaler.offset, again.offset)
    assert again.to_dict() == scaler.to_dict()


def test_inverse_transform_undoes_transform() -> None:
    x = _data()
    scaler = Scaler("standard").fit(x)
    np.testing.assert_allclose(
        scaler.inverse_transform(scaler.transform(x)), x, rtol=1e-5, atol=1e-5
    )


def test_splits_scale_fits_on_train_only() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 2))
    data = Dataset(x=x, y=np.arange(100) % 2, task="classification")
    parts = data.split(val=0.3, seed=0)
    parts.val.x[:] += 1000.0  # would move the statistics if val took part
    scaled, scaler = parts.scale("standard")
    expected = Scaler("standard").fit(parts.train.x)
    np.testing.assert_array_equal(scaler.offset, expected.offset)
    np.testing.assert_allclose(scaled.train.x.mean(axis=0), 0.0, atol=1e-5)
    assert scaled.val.x.mean() > 100  # scaled with training stats, far from 0
    np.testing.assert_array_equal(scaled.val.y, parts.val.y)
    assert scaled.test is None


@pytest.mark.parametrize(
    "call,fragment",
    [
        (lambda: Scaler("robust"), "valid methods are standard, minmax"),
        (lambda: Scaler("standard", axis="row"), "valid axes are feature, global"),
        (lambda: Scaler().transform(np.zeros((2, 3))), "not fitted"),
        (lambda: Scaler().fit(np.zeros((0, 3))), "n >= 1"),
        (lambda: Scaler().fit(np.array([[np.nan]])), "NaN or Inf"),
        (
            lambda: Scaler().fit(np.zeros((4, 3))).transform(np.zeros((4, 2))),
            "fitted on samples of shape (3,) but receives features of shape (4, 2)",
        ),
        (lambda: Scaler.from_dict({"method": "standard"}), "lacks the key(s) axis"),
        (
            lambda: Scaler.from_dict(
                {
                    "method": "minmax",
                    "axis": "feature",
                    "input_shape": [2],
                    "offset": [0.0],
                    "scale": [1.0],
                }
            ),
            "(2,) is needed",
        ),
        (
            lambda: Scaler.from_dict(
                {
                    "method": "minmax",
                    "axis": "global",
                    "input_shape": [2],
                    "offset": 0.0,
                    "scale": 0.0,
                }
            ),
            "positive scales",
        ),
        (
            lambda: Scaler.from_dict(
                {
                    "method": "minmax",
                    "axis": "global",
                    "input_shape": [2],
                    "offset": "x",
                    "scale": 1.0,
                }
            ),
            "not a number",
        ),
    ],
)
def test_scaler_errors(call, fragment: str) -> None:  # noqa: ANN001
    with pytest.raises(DatasetError) as info:
        call()
    assert fragment in str(info.value)
