"""Painted data in a network file (painted.npz) and as a dataset: round trips, CSV,
and one clear sentence for every broken or hostile painted member."""

from __future__ import annotations

import io
import json
import pickle
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from make_sample_files import npz_bytes, read_members, sample_project, write_members

from nndesk.document.painted import MAX_POINTS, PaintedPoints
from nndesk.io import FileFormatError, load_project, project_file, save_project
from nndesk.io.datasets import (
    CLASSIFICATION,
    Dataset,
    DatasetError,
    load_dataset,
    read_csv,
)
from nndesk.io.datasets.painted import (
    export_painted_csv,
    painted_from_dataset,
    painted_to_arrays,
)

NAME = "spiral.nndesk"


def painted_sample() -> PaintedPoints:
    rng = np.random.default_rng(3)
    return PaintedPoints(rng.normal(size=(25, 2)), rng.integers(0, 3, 25), 3)


def project_with(painted: PaintedPoints):
    project = sample_project()
    project.document.set_painted(painted)
    return project


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / NAME


@pytest.fixture(scope="module")
def members(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    path = tmp_path_factory.mktemp("painted") / NAME
    save_project(path, project_with(painted_sample()))
    return read_members(path)


def load_error(path: Path) -> str:
    start = time.process_time()
    with pytest.raises(FileFormatError) as info:
        load_project(path)
    assert time.process_time() - start < 1.0
    return str(info.value)


def with_painted(members: dict[str, bytes], data: bytes) -> dict[str, bytes]:
    changed = dict(members)
    changed["painted.npz"] = data
    return changed


# --- round trips ------------------------------------------------------------------


def test_painted_points_round_trip_as_format_3(path: Path) -> None:
    painted = painted_sample()
    save_project(path, project_with(painted))
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        meta = json.loads(archive.read("metadata.json"))
        kind = archive.getinfo("painted.npz").compress_type
    assert names == list(project_file.MEMBERS[:6]) + ["painted.npz"]
    assert meta["format_version"] == 3 and kind == zipfile.ZIP_STORED
    loaded = load_project(path).document
    assert loaded.painted == painted
    assert loaded.painted.xy.tobytes() == painted.xy.tobytes()
    assert loaded.painted.values.dtype == np.int64
    assert loaded == project_with(painted).document


def test_regression_values_and_an_empty_set_with_more_classes_round_trip(
    path: Path,
) -> None:
    values = PaintedPoints([[0.5, -1.0], [2.0, 3.0]], [0.25, -7.5], 0)
    save_project(path, project_with(values))
    assert load_project(path).document.painted == values
    empty4 = PaintedPoints.empty(4)
    save_project(path, project_with(empty4))
    assert load_project(path).document.painted == empty4


def test_no_painted_data_writes_no_member(path: Path) -> None:
    save_project(path, sample_project())
    with zipfile.ZipFile(path) as archive:
        assert "painted.npz" not in archive.namelist()
        assert json.loads(archive.read("metadata.json"))["format_version"] == 1
    assert load_project(path).document.painted == PaintedPoints.empty()


def test_the_painted_spec_is_the_documents_points() -> None:
    painted = painted_sample()
    data = load_dataset("painted", painted=painted)
    assert data.name == data.source == "painted"
    np.testing.assert_array_equal(data.x, painted.xy)
    np.testing.assert_array_equal(data.y, painted.values)
    assert data.n_classes == 3 and data.feature_names == ["x", "y"]
    regression = load_dataset("painted", painted=painted.with_classes(0))
    assert regression.task == "regression" and regression.y.shape == (25, 1)


def test_the_painted_spec_without_points_or_with_options_says_why() -> None:
    with pytest.raises(DatasetError, match="has no points yet: paint some"):
        load_dataset("painted", painted=PaintedPoints.empty())
    with pytest.raises(DatasetError, match="has no points yet"):
        load_dataset("painted")
    with pytest.raises(DatasetError, match="takes no options, got 'n'"):
        load_dataset("painted:n=5", painted=painted_sample())


def test_a_generator_is_copied_in_exactly() -> None:
    spiral = load_dataset("spirals:n=90,classes=3")
    painted = painted_from_dataset(spiral)
    assert painted.n_classes == 3
    np.testing.assert_array_equal(painted.xy, spiral.x)
    np.testing.assert_array_equal(painted.values, spiral.y)
    with pytest.raises(DatasetError, match="Only 2-D points can be painted"):
        painted_from_dataset(
            Dataset(np.ones((4, 3)), np.array([0, 1, 0, 1]), CLASSIFICATION)
        )


def test_csv_export_reads_back_as_the_same_dataset(tmp_path: Path) -> None:
    painted = painted_sample()
    csv = export_painted_csv(painted, tmp_path / "p.csv")
    back = read_csv(csv)
    np.testing.assert_array_equal(back.x, painted.xy)
    np.testing.assert_array_equal(back.y, painted.values)
    values = painted.with_classes(0).added([[0.1, 0.2]], 0.3)
    back = read_csv(export_painted_csv(values, tmp_path / "v.csv"), task="regression")
    np.testing.assert_array_equal(back.y[:, 0], values.values)
    with pytest.raises(DatasetError, match="no painted points to export"):
        export_painted_csv(PaintedPoints.empty(), tmp_path / "e.csv")
    with pytest.raises(DatasetError, match="does not exist"):
        export_painted_csv(painted, tmp_path / "missing" / "p.csv")


# --- broken and hostile members ------------------------------------------------------


def arrays_of(painted: PaintedPoints, **changes) -> bytes:
    arrays = painted_to_arrays(painted)
    arrays.update(changes)
    return npz_bytes({k: v for k, v in arrays.items() if v is not None})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"values": None}, "painted.npz is missing its array 'values'."),
        ({"extra": np.zeros(3)}, "painted.npz holds the unexpected array 'extra'."),
        (
            {"n_classes": np.array([2, 3])},
            "painted.npz: 'n_classes' must be one whole number.",
        ),
        (
            {"n_classes": np.array(50)},
            "painted.npz: Painted data has 2 to 20 classes (or 0 for regression), "
            "not 50.",
        ),
        (
            {"values": np.full(25, 7, dtype=np.int64)},
            "painted.npz: Painted class 7 is outside 0..2 (3 classes).",
        ),
        (
            {"values": np.zeros(25, dtype=np.float32)},
            "painted.npz: 'values' must hold whole numbers (classes), not float32.",
        ),
        (
            {"xy": np.zeros((25, 3), dtype=np.float32)},
            "painted.npz: Painted points must be an (n, 2) array of x and y, got "
            "shape (25, 3).",
        ),
        (
            {"xy": np.full((25, 2), np.nan, dtype=np.float32)},
            "painted.npz: Painted point coordinates must be finite and within +-1e+06.",
        ),
        (
            {"xy": np.zeros((25, 2), dtype=np.int64)},
            "painted.npz: 'xy' must hold floats, not int64.",
        ),
        (
            {"values": np.zeros(24, dtype=np.int64)},
            "painted.npz: Painted data has 25 points but values of shape (24,).",
        ),
    ],
)
def test_a_bad_painted_member_gets_one_sentence(
    path: Path, members: dict[str, bytes], changes, message: str
) -> None:
    write_members(path, with_painted(members, arrays_of(painted_sample(), **changes)))
    assert load_error(path) == f"{NAME}: {message}"


def test_too_many_points_are_refused(path: Path, members: dict[str, bytes]) -> None:
    n = MAX_POINTS + 1
    big = {
        "xy": np.zeros((n, 2), dtype=np.float32),
        "values": np.zeros(n, dtype=np.int64),
        "n_classes": np.array(2),
    }
    changed = with_painted(members, npz_bytes(big))
    write_members(path, changed, method=zipfile.ZIP_STORED)
    assert load_error(path) == (
        f"{NAME}: painted.npz: Painted data holds at most 100,000 points, not 100,001."
    )


def test_a_pickled_painted_member_is_refused_unread(
    path: Path, members: dict[str, bytes]
) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, xy=np.array([object()], dtype=object))
    write_members(path, with_painted(members, buffer.getvalue()))
    message = load_error(path)
    assert message.startswith(f"{NAME}: painted.npz") and "object" in message
    write_members(path, with_painted(members, pickle.dumps({"xy": [1, 2]})))
    assert load_error(path).startswith(f"{NAME}: painted.npz")


def test_painted_data_in_an_older_format_is_refused(
    path: Path, members: dict[str, bytes]
) -> None:
    meta = json.loads(members["metadata.json"])
    meta["format_version"] = 2
    changed = dict(members)
    changed["metadata.json"] = json.dumps(meta).encode()
    write_members(path, changed)
    assert load_error(path) == f"{NAME} holds the unexpected member 'painted.npz'."
