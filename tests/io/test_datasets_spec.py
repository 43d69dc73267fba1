"""Tests for dataset spec strings: parsing, dispatch, options and canonical sources."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from nndesk.io.datasets import (
    GENERATORS,
    DatasetError,
    data_search_path,
    format_spec,
    load_dataset,
    parse_spec,
    save_npz,
    write_idx_file,
)

DATA = Path(__file__).resolve().parent / "data"
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _error(spec: str, **kwargs: object) -> str:
    with pytest.raises(DatasetError) as info:
        load_dataset(spec, **kwargs)
    return str(info.value)


def _same(a, b) -> None:  # noqa: ANN001
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert a.class_names == b.class_names and a.task == b.task


# --- parsing -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "spec,head,options",
    [
        ("spiral", "spiral", {}),
        ("spiral:", "spiral", {}),
        (" spiral:n=1000, noise=0.2 ", "spiral", {"n": "1000", "noise": "0.2"}),
        (
            "blobs:n=500,centers=4,seed=3",
            "blobs",
            {"n": "500", "centers": "4", "seed": "3"},
        ),
        ("../shared/data/mnist:split=test", "../shared/data/mnist", {"split": "test"}),
        (r"C:\data\iris.csv", r"C:\data\iris.csv", {}),
        (
            r"C:\data\iris.csv:target=species",
            r"C:\data\iris.csv",
            {"target": "species"},
        ),
        ("data.csv:target=", "data.csv", {"target": ""}),
        ("a:b:c", "a:b:c", {}),
    ],
)
def test_parse_spec(spec: str, head: str, options: dict) -> None:
    assert parse_spec(spec) == (head, options)


def test_parse_spec_errors() -> None:
    with pytest.raises(DatasetError, match="appears twice"):
        parse_spec("spiral:n=1,n=2")
    with pytest.raises(DatasetError, match="non-empty string"):
        parse_spec("  ")


def test_format_spec_round_trips_and_refuses_separators() -> None:
    spec = format_spec("blobs", {"n": 10, "centers": 4})
    assert spec == "blobs:n=10,centers=4"
    assert parse_spec(spec) == ("blobs", {"n": "10", "centers": "4"})
    assert format_spec("x.csv") == "x.csv"
    with pytest.raises(DatasetError, match="cannot be written in a dataset spec"):
        format_spec("x.csv", {"target": "a,b"})


# --- generators ----------------------------------------------------------------------------
def test_generator_spec_with_options_and_seed() -> None:
    data = load_dataset("blobs:n=500,centers=4,seed=3")
    assert len(data) == 500 and data.n_classes == 4
    assert data.source == "blobs:n=500,centers=4,noise=0.15,seed=3"
    _same(data, load_dataset(data.source))
    # The seed keyword only applies when the spec has no seed option.
    _same(load_dataset("blobs:n=50", seed=9), load_dataset("blobs:n=50,seed=9"))
    _same(load_dataset("blobs:n=50,seed=1", seed=9), load_dataset("blobs:n=50,seed=1"))


@pytest.mark.parametrize(
    "spec,kwargs,expected",
    [
        (
            "spiral:n=abc",
            {},
            "Option 'n' in generator 'spiral' must be a whole number, got 'abc'.",
        ),
        (
            "spiral:depth=3",
            {},
            "Generator 'spiral' has no option 'depth'; valid options are n, noise, turns, seed.",
        ),
        (
            "blobs:centers=0",
            {},
            "Option 'centers' in generator 'blobs' is 0, outside 2..20.",
        ),
        (
            "spiral:seed=x",
            {},
            "Option 'seed' of generator 'spiral' must be a whole number >= 0, got 'x'.",
        ),
        (
            "spiral",
            {"target": "y"},
            "Generator 'spiral' takes no target or task; they apply to CSV and NPZ files.",
        ),
        (
            "galaxy:n=3",
            {},
            "Unknown dataset 'galaxy': valid generators are spiral, spirals, circles, moons, "
            "xor, blobs, checkerboard, sine, plane, sine-forecast, sines-forecast, "
            "adding, parity, copy, brackets, digit-addition, sort, reverse, "
            "ring-gaussians, grid-gaussians, swiss-roll, mixture-1d; 'text' makes "
            "a character "
            "dataset; anything else must be a path to a .csv, "
            ".npz or MNIST IDX file or folder.",
        ),
    ],
)
def test_generator_spec_errors(spec: str, kwargs: dict, expected: str) -> None:
    assert _error(spec, **kwargs) == expected


def test_every_registered_generator_has_a_working_spec() -> None:
    for name, gen in GENERATORS.items():
        options = ",".join(f"{p.name}={p.default}" for p in gen.params)
        data = load_dataset(f"{name}:{options}")
        assert data.task == gen.task
        assert data.source == f"{name}:{options},seed=0"


# --- files --------------------------------------------------------------------------------------
def test_csv_spec_with_target_keyword_records_it_in_the_source(tmp_path: Path) -> None:
    shutil.copy(DATA / "houses_semicolon.csv", tmp_path / "houses.csv")
    data = load_dataset("houses.csv", target="price", base_dir=tmp_path)
    assert data.task == "regression" and data.feature_names == ["size", "rooms", "age"]
    assert data.source == "houses.csv:target=price"
    _same(data, load_dataset(data.source, base_dir=tmp_path))
    same = load_dataset("houses.csv:target=price", target="price", base_dir=tmp_path)
    _same(data, same)


@pytest.mark.parametrize(
    "spec,kwargs,fragment",
    [
        (
            "flowers.csv:split=test",
            {},
            "Option 'split' does not apply to CSV data ('flowers.csv:split=test'); valid options are target, task, header, delimiter, max_classes, series, window, horizon.",
        ),
        (
            "flowers.csv:target=species",
            {"target": "petal_width"},
            "says target=species but target=petal_width was also given",
        ),
        (
            "flowers.csv:task=ranking",
            {},
            "Option task=ranking in 'flowers.csv:task=ranking' is unknown",
        ),
        ("flowers.csv:header=maybe", {}, "must be true or false"),
        (
            "flowers.csv:delimiter=colonish",
            {},
            "valid delimiters are comma, tab, semicolon, space, pipe or a single character",
        ),
        ("flowers.csv:max_classes=lots", {}, "must be a whole number"),
        ("flowers.csv:target=colour", {}, "flowers.csv has no column named 'colour'"),
        ("missing.csv", {}, "missing.csv does not exist."),
    ],
)
def test_csv_spec_errors(spec: str, kwargs: dict, fragment: str) -> None:
    assert fragment in _error(spec, base_dir=DATA, **kwargs)


def test_csv_options_reach_the_reader(tmp_path: Path) -> None:
    (tmp_path / "p.txt").write_text("10|20|1\n1|2|0\n3|4|1\n")
    data = load_dataset("p.txt:delimiter=pipe,header=yes", base_dir=tmp_path)
    assert len(data) == 2 and data.feature_names == ["10", "20"]
    assert data.source == "p.txt:delimiter=pipe,header=yes"
    reg = load_dataset("p.txt:delimiter=|,task=regression", base_dir=tmp_path)
    assert reg.task == "regression" and len(reg) == 3


def test_target_name_that_cannot_be_written_leaves_a_note(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text('a,"b,c"\n1,0\n2,1\n')
    data = load_dataset("c.csv", target="b,c", base_dir=tmp_path)
    assert data.source == "" and "No dataset spec can recreate" in data.notes[0]


def test_npz_and_idx_specs(tmp_path: Path) -> None:
    original = load_dataset("moons:n=40")
    save_npz(original, tmp_path / "m.npz")
    _same(load_dataset("m.npz", base_dir=tmp_path), original)
    assert _error("m.npz:target=y", base_dir=tmp_path) == (
        "Option 'target' does not apply to NPZ data ('m.npz:target=y'); valid options "
        "are split, task."
    )

    folder = tmp_path / "digits"
    folder.mkdir()
    write_idx_file(folder / "t10k-images-idx3-ubyte.gz", np.zeros((3, 2, 2), np.uint8))
    write_idx_file(folder / "t10k-labels-idx1-ubyte.gz", np.array([1, 2, 3], np.uint8))
    data = load_dataset("digits", base_dir=tmp_path)
    assert data.source == "digits:split=test" and len(data) == 3
    _same(load_dataset(data.source, base_dir=tmp_path), data)
    assert "valid splits are train, test, all" in _error(
        "digits:split=dev", base_dir=tmp_path
    )
    assert "takes no target or task" in _error("digits", base_dir=tmp_path, target=1)
    single = load_dataset(str(folder / "t10k-labels-idx1-ubyte.gz"))
    assert len(single) == 3 and ":split=" not in single.source


def test_kind_is_sniffed_from_content_without_a_suffix(tmp_path: Path) -> None:
    save_npz(load_dataset("xor:n=20"), tmp_path / "tmp.npz")
    (tmp_path / "tmp.npz").rename(tmp_path / "archive")
    assert len(load_dataset("archive", base_dir=tmp_path)) == 20
    (tmp_path / "table").write_text("1,2,0\n3,4,1\n")
    assert len(load_dataset("table", base_dir=tmp_path)) == 2
    write_idx_file(tmp_path / "lonely", np.zeros(3, np.uint8))
    assert "is not named like an MNIST" in _error("lonely", base_dir=tmp_path)


def test_bare_names_are_searched_in_the_data_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "store"
    store.mkdir()
    shutil.copy(DATA / "flowers.csv", store / "flowers.csv")
    monkeypatch.setenv("NNDESK_DATA", str(store))
    assert data_search_path()[0] == store
    data = load_dataset("flowers.csv", base_dir=tmp_path / "elsewhere")
    assert len(data) == 12 and data.source == "flowers.csv"
    # A path with a folder part is never searched for.
    assert "does not exist" in _error("sub/flowers.csv", base_dir=tmp_path)


@pytest.mark.skipif(
    not (SHARED_DATA / "mnist").is_dir(), reason="shared MNIST data absent"
)
def test_shared_mnist_by_relative_path_and_by_name() -> None:
    repo = Path(__file__).resolve().parents[2]
    data = load_dataset("../shared/data/mnist:split=test", base_dir=repo)
    assert data.x.shape == (10000, 28, 28)
    assert data.source == "../shared/data/mnist:split=test"
    by_name = load_dataset("mnist")  # found beside the checkout
    assert by_name.source == "mnist:split=test"
    assert "has no train split" in _error("mnist:split=train")
