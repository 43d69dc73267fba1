"""Tests for the Dataset container: validation, loss targets and splits."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nndesk.engine.errors import DataError, NNDeskError
from nndesk.io.datasets import Dataset, DatasetError, Splits
from nndesk.io.errors import FileFormatError


def _classes(n: int = 30, k: int = 3, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    # Feature 0 is the sample's id, so splits can be checked for cover/disjointness.
    x = np.stack([np.arange(n), rng.normal(size=n)], axis=1)
    return Dataset(x=x, y=np.arange(n) % k, task="classification", name="toy")


def _regression(n: int = 30) -> Dataset:
    x = np.arange(n, dtype=np.float64).reshape(-1, 1)
    return Dataset(x=x, y=2.0 * x[:, 0] + 1.0, task="regression", name="line")


def test_error_classes_hang_off_the_nndesk_hierarchy() -> None:
    assert issubclass(DatasetError, DataError)
    assert issubclass(FileFormatError, NNDeskError)
    assert not issubclass(FileFormatError, DataError)


# --- construction and validation ------------------------------------------------------
def test_construction_normalises_dtypes_and_shapes() -> None:
    data = Dataset(
        x=np.arange(6), y=np.array([0, 1, 1, 0, 2, 1]), task="classification"
    )
    assert data.x.dtype == np.float32 and data.x.shape == (6, 1)
    assert data.y.dtype == np.int64
    assert data.class_names == ["0", "1", "2"] and data.n_classes == 3
    reg = _regression(5)
    assert reg.y.shape == (5, 1) and reg.y.dtype == np.float32
    assert reg.n_classes is None and reg.class_names is None and reg.n_targets == 1


def test_whole_float_labels_are_accepted() -> None:
    data = Dataset(
        x=np.zeros((3, 2)), y=np.array([0.0, 2.0, 1.0]), task="classification"
    )
    np.testing.assert_array_equal(data.y, [0, 2, 1])


@pytest.mark.parametrize(
    "kwargs,fragment",
    [
        (dict(x=[[np.nan, 1.0]], y=[0]), "hold NaN or Inf"),
        (dict(x=[[1e39, 1.0]], y=[0]), "too large for float32"),
        (dict(x=np.array([["a"]]), y=[0]), "numbers are needed"),
        (dict(x=np.zeros((3, 2)), y=[0, 1]), "3 feature rows but 2 targets"),
        (dict(x=np.zeros((2, 2)), y=[0, 3], class_names=["a", "b"]), "outside 0..1"),
        (dict(x=np.zeros((2, 2)), y=[0, -1]), "index 1 is -1"),
        (dict(x=np.zeros((2, 2)), y=[0.5, 1.0]), "not a whole number"),
        # (n, time) labels are one per time step (issue 14); three axes are none
        (dict(x=np.zeros((2, 2)), y=np.zeros((2, 3, 2))), "one label per sample"),
        (dict(x=np.zeros((2, 2)), y=[0, 1], feature_names=["a"]), "1 feature names"),
    ],
)
def test_bad_classification_data_is_refused(kwargs: dict, fragment: str) -> None:
    with pytest.raises(DatasetError) as info:
        Dataset(task="classification", name="bad", **kwargs)
    assert fragment in str(info.value)
    assert "'bad'" in str(info.value)


def test_bad_task_and_regression_targets_are_refused() -> None:
    with pytest.raises(
        DatasetError, match="valid tasks are classification, regression"
    ):
        Dataset(x=np.zeros((2, 1)), y=[0, 1], task="clustering")
    with pytest.raises(DatasetError, match="regression targets hold NaN"):
        Dataset(x=np.zeros((2, 1)), y=[0.0, np.inf], task="regression")
    with pytest.raises(DatasetError, match="cannot have class names"):
        Dataset(x=np.zeros((2, 1)), y=[0.0, 1.0], task="regression", class_names=["a"])


# --- targets as the losses need them -------------------------------------------------
def test_targets_for_each_loss() -> None:
    data = _classes(n=6, k=3)
    np.testing.assert_array_equal(
        data.targets_for("sparse_categorical_crossentropy"), data.y
    )
    one_hot = data.targets_for("categorical_crossentropy")
    assert one_hot.dtype == np.float32 and one_hot.shape == (6, 3)
    np.testing.assert_array_equal(one_hot.argmax(axis=1), data.y)
    np.testing.assert_array_equal(one_hot.sum(axis=1), 1.0)
    np.testing.assert_array_equal(data.targets_for("mse"), one_hot)

    two = _classes(n=6, k=2)
    binary = two.targets_for("binary_crossentropy")
    assert binary.dtype == np.float32 and binary.shape == (6, 1)
    np.testing.assert_array_equal(binary[:, 0], two.y)
    assert two.targets_for("mse").shape == (6, 1)
    assert two.targets_for("huber", n_outputs=2).shape == (6, 2)

    reg = _regression(4)
    for loss in ("mse", "mae", "huber"):
        assert reg.targets_for(loss) is reg.y


def test_every_engine_loss_has_a_target_encoding() -> None:
    from nndesk.engine.losses import LOSSES

    data, reg = _classes(n=6, k=2), _regression(6)
    for loss in LOSSES:
        fits = reg if loss in ("mse", "mae", "huber") else data
        assert len(fits.targets_for(loss)) == 6


@pytest.mark.parametrize(
    "data,loss,fragment",
    [
        (_classes(k=3), "binary_crossentropy", "Binary targets need 2 classes"),
        (_regression(), "sparse_categorical_crossentropy", "needs class labels"),
        (_regression(), "categorical_crossentropy", "use mse, mae or huber"),
        (_classes(), "hinge", "valid losses are sparse_categorical_crossentropy"),
    ],
)
def test_targets_that_do_not_fit_the_loss(
    data: Dataset, loss: str, fragment: str
) -> None:
    with pytest.raises(DatasetError) as info:
        data.targets_for(loss)
    assert fragment in str(info.value)


def test_regression_has_no_class_counts_or_one_hot() -> None:
    with pytest.raises(DatasetError, match="regression dataset and has no one-hot"):
        _regression().one_hot()
    with pytest.raises(DatasetError, match="class counts"):
        _regression().class_counts()


# --- splits ------------------------------------------------------------------------------
def _ids(part: Dataset | None) -> set[int]:
    return set() if part is None else {int(v) for v in part.x[:, 0]}


def test_split_is_seeded_disjoint_and_complete() -> None:
    data = _classes(n=100, k=4)
    a = data.split(val=0.2, test=0.1, seed=3)
    b = data.split(val=0.2, test=0.1, seed=3)
    c = data.split(val=0.2, test=0.1, seed=4)
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(getattr(a, name).x, getattr(b, name).x)
    assert not np.array_equal(a.val.x, c.val.x)
    train, val, test = _ids(a.train), _ids(a.val), _ids(a.test)
    assert (len(train), len(val), len(test)) == (70, 20, 10)
    assert train | val | test == set(range(100))
    assert not (train & val or train & test or val & test)
    assert a.train.name == "toy (train)" and a.train.class_names == data.class_names
    assert a.train.source == ""


def test_stratified_split_keeps_proportions() -> None:
    y = np.array([0] * 60 + [1] * 30 + [2] * 10)
    data = Dataset(x=np.arange(100.0), y=y, task="classification")
    parts = data.split(val=0.2, test=0.1, seed=0)
    np.testing.assert_array_equal(parts.val.class_counts(), [12, 6, 2])
    np.testing.assert_array_equal(parts.test.class_counts(), [6, 3, 1])
    np.testing.assert_array_equal(parts.train.class_counts(), [42, 21, 7])


def test_unstratified_split_and_regression() -> None:
    parts = _regression(50).split(val=0.3, seed=1)
    assert parts.test is None and len(parts.val) == 15 and len(parts.train) == 35
    assert _ids(parts.train) | _ids(parts.val) == set(range(50))
    plain = _classes(n=40).split(val=0.25, seed=1, stratify=False)
    assert len(plain.val) == 10
    assert list(Splits(train=plain.train).parts()) == ["train"]


def test_split_without_validation() -> None:
    parts = _classes(n=10).split(val=0.0)
    assert parts.val is None and parts.test is None and len(parts.train) == 10


def test_tiny_fraction_still_gets_one_sample() -> None:
    parts = _classes(n=10).split(val=0.01, test=0.01)
    assert len(parts.val) == 1 and len(parts.test) == 1 and len(parts.train) == 8


@pytest.mark.parametrize(
    "val,test,n,fragment",
    [
        (1.0, 0.0, 10, "val=1.0 for dataset 'toy' must be in [0, 1)"),
        (-0.1, 0.0, 10, "must be in [0, 1)"),
        (0.6, 0.5, 10, "leave nothing to train on"),
        (0.5, 0.4, 2, "too few for val=0.5 and test=0.4"),
    ],
)
def test_bad_split_fractions(val: float, test: float, n: int, fragment: str) -> None:
    with pytest.raises(DatasetError) as info:
        _classes(n=n).split(val=val, test=test)
    assert fragment in str(info.value)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(3, 300),
    k=st.integers(1, 6),
    val=st.floats(0.0, 0.45),
    test=st.floats(0.0, 0.45),
    seed=st.integers(0, 2**32 - 1),
    skew=st.integers(0, 3),
)
def test_split_property(
    n: int, k: int, val: float, test: float, seed: int, skew: int
) -> None:
    rng = np.random.default_rng(seed)
    # Skewed labels make some classes rare, which is where stratification is hard.
    labels = np.minimum(rng.geometric(1 / (1 + skew), size=n) - 1, k - 1)
    data = Dataset(
        x=np.arange(n, dtype=np.float64),
        y=labels,
        task="classification",
        class_names=[str(i) for i in range(k)],
        name="p",
    )
    n_val = max(round(n * val), 1 if val > 0 else 0)
    n_test = max(round(n * test), 1 if test > 0 else 0)
    if n - n_val - n_test < 1:
        with pytest.raises(DatasetError):
            data.split(val=val, test=test, seed=seed)
        return
    parts = data.split(val=val, test=test, seed=seed)
    ids = [_ids(parts.train), _ids(parts.val), _ids(parts.test)]
    assert [len(i) for i in ids] == [n - n_val - n_test, n_val, n_test]
    assert set().union(*ids) == set(range(n))
    assert sum(len(i) for i in ids) == n
    counts = np.bincount(labels, minlength=k)
    for part, size in ((parts.val, n_val), (parts.test, n_test)):
        if part is None:
            continue
        # Each class within one sample of its exact proportional share, or exhausted.
        share = counts * size / n
        got = part.class_counts()
        assert (np.abs(got - share) < 2).all(), (got, share)
