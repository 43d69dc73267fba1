"""Tests for the NPZ reader and writer: round trips, layouts and refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nndesk.io.datasets import Dataset, DatasetError, generate, read_npz, save_npz


def _error(path: Path, **kwargs: object) -> str:
    with pytest.raises(DatasetError) as info:
        read_npz(path, **kwargs)
    return str(info.value)


@pytest.mark.parametrize("name", ["blobs", "sine"])
def test_round_trip_of_generated_sets(tmp_path: Path, name: str) -> None:
    data = generate(name, n=50, seed=2)
    path = tmp_path / "set.npz"
    save_npz(data, path)
    again = read_npz(path)
    np.testing.assert_array_equal(again.x, data.x)
    np.testing.assert_array_equal(again.y, data.y)
    assert again.task == data.task
    assert again.class_names == data.class_names
    assert again.feature_names == data.feature_names
    assert again.name == "set.npz"
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_round_trip_of_images_with_unicode_names(tmp_path: Path) -> None:
    x = np.random.default_rng(0).random((6, 4, 4)).astype(np.float32)
    data = Dataset(
        x=x,
        y=[0, 1, 2, 0, 1, 2],
        task="classification",
        class_names=["chat", "chien", "éléphant"],
    )
    save_npz(data, tmp_path / "img.npz")
    again = read_npz(tmp_path / "img.npz")
    assert again.input_shape == (4, 4)
    assert again.class_names == ["chat", "chien", "éléphant"]


def test_plain_arrays_guess_the_task(tmp_path: Path) -> None:
    np.savez(
        tmp_path / "c.npz", x=np.ones((4, 2), dtype=np.uint8), y=np.array([0, 1, 1, 0])
    )
    np.savez(tmp_path / "r.npz", x=np.ones((4, 2)), y=np.linspace(0, 1, 4))
    c, r = read_npz(tmp_path / "c.npz"), read_npz(tmp_path / "r.npz")
    assert c.task == "classification" and c.class_names == ["0", "1"]
    assert c.x.dtype == np.float32  # cast, not scaled
    np.testing.assert_array_equal(c.x, 1.0)
    assert r.task == "regression" and r.y.shape == (4, 1)
    forced = read_npz(tmp_path / "c.npz", task="regression")
    assert forced.task == "regression" and forced.y.dtype == np.float32


def test_keras_style_archive_with_splits(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "k.npz",
        x_train=rng.integers(0, 255, (5, 3, 3), dtype=np.uint8),
        y_train=np.array([0, 1, 2, 3, 4], dtype=np.uint8),
        x_test=rng.integers(0, 255, (2, 3, 3), dtype=np.uint8),
        y_test=np.array([2, 1], dtype=np.uint8),
    )
    train = read_npz(tmp_path / "k.npz")
    test = read_npz(tmp_path / "k.npz", split="test")
    assert len(train) == 5 and len(test) == 2
    assert test.name == "k.npz (test)" and test.source.endswith("k.npz:split=test")
    np.testing.assert_array_equal(test.y, [2, 1])
    # Both parts take their class names from all the labels, so indices agree.
    assert train.class_names == test.class_names == ["0", "1", "2", "3", "4"]


def test_object_arrays_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "obj.npz"
    np.savez(path, x=np.ones((2, 2)), y=np.array([{"a": 1}, None], dtype=object))
    assert _error(path) == (
        "obj.npz array 'y' holds Python objects (pickled data), which nndesk does not "
        "load; store numbers and strings only."
    )


def test_pickle_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    np.save(
        tmp_path / "evil.npy", np.array([object()], dtype=object), allow_pickle=True
    )
    (tmp_path / "evil.npy").rename(path)
    assert _error(path).startswith("evil.npz is not a readable .npz archive")


@pytest.mark.parametrize(
    "arrays,kwargs,expected",
    [
        (
            {"a": np.ones(2)},
            {},
            "bad.npz needs arrays 'x' and 'y' (or 'x_train' and 'y_train') but holds a.",
        ),
        (
            {"x": np.ones((3, 2)), "y": np.ones(2)},
            {},
            "bad.npz arrays 'x' (3, 2) and 'y' (2,) need the same number of rows.",
        ),
        (
            {"x": np.array([["a", "b"]]), "y": np.ones(1)},
            {},
            "bad.npz array 'x' has dtype <U1; real numbers are needed.",
        ),
        (
            {"x": np.ones((2, 2)), "y": np.array(["a", "b"])},
            {},
            "bad.npz array 'y' has dtype <U1; numbers are needed.",
        ),
        (
            {
                "x": np.ones((2, 2)),
                "y": np.array([0, 1]),
                "class_names": np.array([1, 2]),
            },
            {},
            "bad.npz entry 'class_names' must be a 1-D array of strings.",
        ),
        (
            {"x": np.ones((2, 2)), "y": np.array([0, 1]), "task": np.array(["a", "b"])},
            {},
            "bad.npz entry 'task' must be a single string.",
        ),
        (
            {"x": np.ones((2, 2)), "y": np.array([0, 1]), "task": np.array("ranking")},
            {},
            "bad.npz stores task 'ranking'; valid tasks are classification, regression.",
        ),
        (
            {"x": np.ones((2, 2)), "y": np.array([0, 1])},
            {"split": "test"},
            "bad.npz holds one dataset (x and y), so it has no 'test' split.",
        ),
        (
            {"x": np.ones((2, 2)), "y": np.array([0, 1])},
            {"split": "val"},
            "Unknown split 'val' for bad.npz; valid splits are train, test.",
        ),
        (
            {"x": np.ones((2, 2)), "y": np.array([0, 1])},
            {"task": "ranking"},
            "Unknown task 'ranking'; valid tasks are classification, regression.",
        ),
    ],
)
def test_bad_archives(
    tmp_path: Path, arrays: dict, kwargs: dict, expected: str
) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    assert _error(path, **kwargs) == expected


def test_single_npy_array_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "one.npz"
    with open(path, "wb") as f:
        np.save(f, np.ones((3, 2)))
    assert _error(path) == (
        "one.npz is a single .npy array, not an .npz archive with x and y."
    )


def test_labels_outside_the_class_names(tmp_path: Path) -> None:
    path = tmp_path / "l.npz"
    np.savez(
        path, x=np.ones((3, 1)), y=np.array([0, 1, 2]), class_names=np.array(["a", "b"])
    )
    assert "class label at index 2 is 2, outside 0..1" in _error(path)


def test_nan_features_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "n.npz"
    np.savez(path, x=np.array([[1.0], [np.nan]]), y=np.array([0, 1]))
    assert "'n.npz' features hold NaN or Inf" in _error(path)


def test_missing_and_corrupt_files(tmp_path: Path) -> None:
    missing = tmp_path / "none.npz"
    assert _error(missing) == f"Dataset file {missing} does not exist."
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"PK\x03\x04 definitely not a zip archive")
    assert _error(junk).startswith("junk.npz is not a readable .npz archive")
    good = tmp_path / "good.npz"
    save_npz(generate("xor", n=20), good)
    cut = tmp_path / "cut.npz"
    cut.write_bytes(good.read_bytes()[:-40])
    assert _error(cut).startswith("cut.npz ")
