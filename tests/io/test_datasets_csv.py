"""Tests for the CSV reader: header detection, targets, tasks and every error."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nndesk.io.datasets import DatasetError, read_csv

DATA = Path(__file__).resolve().parent / "data"


def _write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def _error(path: Path, **kwargs: object) -> str:
    with pytest.raises(DatasetError) as info:
        read_csv(path, **kwargs)
    return str(info.value)


# --- sample files --------------------------------------------------------------------
def test_flowers_with_header_and_string_target() -> None:
    data = read_csv(DATA / "flowers.csv")
    assert data.task == "classification"
    assert data.feature_names == [
        "sepal_length",
        "sepal_width",
        "petal_length",
        "petal_width",
    ]
    assert data.class_names == ["setosa", "versicolor", "virginica"]
    assert data.x.shape == (12, 4) and data.x.dtype == np.float32
    np.testing.assert_array_equal(data.x[0], np.float32([5.0, 3.4, 1.5, 0.2]))
    np.testing.assert_array_equal(data.y[:4], [0, 0, 0, 1])
    np.testing.assert_array_equal(data.class_counts(), [4, 4, 4])
    assert data.name == "flowers.csv"


def test_the_bad_cell_message_from_the_issue() -> None:
    message = _error(DATA / "bad_cell.csv")
    assert (
        message == "bad_cell.csv row 17, column 'petal_width': 'abc' is not a number."
    )


def test_semicolon_file_is_regression_with_named_target() -> None:
    data = read_csv(DATA / "houses_semicolon.csv", target="price")
    assert data.task == "regression" and data.y.shape == (5, 1)
    assert data.feature_names == ["size", "rooms", "age"]
    np.testing.assert_allclose(data.y[:, 0], [181.25, 264.5, 120.0, 402.75, 219.0])
    by_rooms = read_csv(DATA / "houses_semicolon.csv", target="rooms")
    assert by_rooms.task == "classification"  # whole numbers, few values
    assert by_rooms.class_names == ["0", "1", "2", "3", "4"]


# --- header detection ---------------------------------------------------------------------
def test_no_header_when_first_row_is_numeric(tmp_path: Path) -> None:
    data = read_csv(_write(tmp_path, "1,2,0\n3,4,1\n5,6,1\n"))
    assert len(data) == 3
    assert data.feature_names == ["column 1", "column 2"]
    np.testing.assert_array_equal(data.y, [0, 1, 1])


def test_header_detected_with_categorical_first_data_row(tmp_path: Path) -> None:
    data = read_csv(_write(tmp_path, "a,b,label\n1,2,cat\n3,4,dog\n"))
    assert len(data) == 2 and data.feature_names == ["a", "b"]
    assert data.class_names == ["cat", "dog"]


def test_string_target_in_first_row_is_not_a_header(tmp_path: Path) -> None:
    # Only the target column is text, and it is text in every row: that is data.
    data = read_csv(_write(tmp_path, "1,2,cat\n3,4,dog\n5,6,cat\n"))
    assert len(data) == 3 and data.class_names == ["cat", "dog"]


def test_typo_in_the_first_row_is_not_a_header(tmp_path: Path) -> None:
    path = _write(tmp_path, "1,2x,7,0\n3,4,8,1\n5,6,9,0\n")
    assert _error(path) == "data.csv row 1, column 2: '2x' is not a number."
    years = read_csv(_write(tmp_path, "id,2019,2020,y\n1,2,3,0\n4,5,6,1\n", "y.csv"))
    assert years.feature_names == ["id", "2019", "2020"]


def test_header_can_be_forced(tmp_path: Path) -> None:
    path = _write(tmp_path, "10,20,30\n1,2,0\n3,4,1\n")
    assert len(read_csv(path)) == 3
    forced = read_csv(path, header=True)
    assert len(forced) == 2 and forced.feature_names == ["10", "20"]
    as_data = _write(tmp_path, "x,y\n1,2\n", "d2.csv")
    assert "'x' is not a number" in _error(as_data, header=False)


def test_header_only_and_single_text_row(tmp_path: Path) -> None:
    message = _error(_write(tmp_path, "a,b,c\n"))
    assert message == "data.csv has a header row but no data rows."


# --- target and task ------------------------------------------------------------------------
def test_target_by_index_name_and_digit_string(tmp_path: Path) -> None:
    path = _write(tmp_path, "a,b,c\n1,0,5.5\n2,1,6.5\n3,1,7.5\n")
    for target in (1, -2, "b", "1"):
        data = read_csv(path, target=target)
        assert data.feature_names == ["a", "c"], target
        np.testing.assert_array_equal(data.y, [0, 1, 1])
    first = read_csv(path, target=0)
    assert first.task == "classification" and first.class_names == ["0", "1", "2", "3"]


def test_numeric_labels_keep_or_map_their_values(tmp_path: Path) -> None:
    identity = read_csv(_write(tmp_path, "1,0\n2,2\n3,2\n", "i.csv"))
    assert identity.class_names == ["0", "1", "2"]
    np.testing.assert_array_equal(identity.y, [0, 2, 2])
    shifted = read_csv(_write(tmp_path, "1,-1\n2,1\n3,5\n", "s.csv"))
    assert shifted.class_names == ["-1", "1", "5"]
    np.testing.assert_array_equal(shifted.y, [0, 1, 2])
    decimals = read_csv(_write(tmp_path, "1,2.0\n2,3.0\n3,2.0\n", "d.csv"))
    assert decimals.task == "classification" and decimals.class_names == [
        "0",
        "1",
        "2",
        "3",
    ]


def test_task_guessing_and_forcing(tmp_path: Path) -> None:
    many = "\n".join(f"{i},{i * 3}" for i in range(30)) + "\n"
    path = _write(tmp_path, many)
    assert read_csv(path).task == "regression"  # 30 distinct whole numbers
    forced = read_csv(path, task="classification")
    # 0, 3, ..., 87 reach past max_classes, so they map to their sorted positions.
    assert forced.task == "classification" and forced.n_classes == 30
    assert forced.class_names[:3] == ["0", "3", "6"]
    np.testing.assert_array_equal(forced.y, np.arange(30))
    assert read_csv(path, max_classes=40).task == "classification"
    small = _write(tmp_path, "1,0\n2,1\n3,1\n", "s.csv")
    reg = read_csv(small, task="regression")
    assert reg.task == "regression" and reg.y.dtype == np.float32


def test_stray_text_in_a_numeric_target_is_not_taken_for_classes(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, "a,price\n1,10.5\n2,1O.25\n3,7.75\n")
    assert _error(path) == (
        "data.csv row 3, column 'price': '1O.25' is not a number though most of the "
        "column is; fix the cell, or pass task='classification' to use the values as "
        "class names."
    )
    forced = read_csv(path, task="classification")
    assert forced.class_names == ["10.5", "1O.25", "7.75"]
    half = read_csv(_write(tmp_path, "a,y\n1,1\n2,x\n", "h.csv"))
    assert half.class_names == ["1", "x"]


def test_task_that_does_not_fit_the_target(tmp_path: Path) -> None:
    floats = _write(tmp_path, "a,y\n1,0.5\n2,1.0\n")
    assert _error(floats, task="classification") == (
        "data.csv row 2, column 'y': '0.5' is not a whole number, so the column "
        "cannot hold class labels; use task='regression'."
    )
    text = _write(tmp_path, "a,y\n1,2\n2,cat\n", "t.csv")
    assert (
        _error(text, task="regression")
        == "t.csv row 3, column 'y': 'cat' is not a number."
    )
    assert "valid tasks are" in _error(floats, task="ranking")


# --- every error message ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "text,kwargs,expected",
    [
        ("a,b,y\n1,2,0\n3,,1\n", {}, "data.csv row 3, column 'b': the cell is empty."),
        (
            "a,b,y\n1,2,0\n3,nan,1\n",
            {},
            "data.csv row 3, column 'b': 'nan' is not a finite number.",
        ),
        (
            "a,b,y\n1,2,0\n3,inf,1\n",
            {},
            "data.csv row 3, column 'b': 'inf' is not a finite number.",
        ),
        (
            "a,b,y\n1,2,0\n3,1e39,1\n",
            {},
            "data.csv row 3, column 'b': '1e39' is too large for float32.",
        ),
        ("a,b,y\n1,2,0\n3,4,\n", {}, "data.csv row 3, column 'y': the cell is empty."),
        (
            "a,b,y\n1,2,0\n3,4,nan\n",
            {"task": "regression"},
            "data.csv row 3, column 'y': 'nan' is not a finite number.",
        ),
        (
            "1,2,0\n3,x4,1\n5,6,0\n",
            {},
            "data.csv row 2, column 2: 'x4' is not a number.",
        ),
        (
            "a,b,y\n1,2,0\n3,4\n",
            {},
            "data.csv row 3 has 2 fields but the first row has 3.",
        ),
        (
            "a,b,y\n1,2,0\n3,4,5,6\n",
            {},
            "data.csv row 3 has 4 fields but the first row has 3.",
        ),
        (
            "a,b,y\n1,2,0\n",
            {"target": "z"},
            "data.csv has no column named 'z'; its columns are 'a', 'b', 'y'.",
        ),
        (
            "a,b,y\n1,2,0\n",
            {"target": 3},
            "Target column index 3 is out of range for data.csv, which has 3 columns (0..2).",
        ),
        (
            "a,a,y\n1,2,0\n",
            {"target": "a"},
            "data.csv has 2 columns named 'a'; give the target column by index instead.",
        ),
        (
            "1,2,0\n",
            {"target": "z"},
            "data.csv has no column named 'z'; its columns are none (no header row).",
        ),
        (
            "a\n1\n2\n",
            {},
            "data.csv has only one column; it needs at least one feature column and a target column.",
        ),
        ("", {}, "data.csv is empty."),
        ("\n\n  \n", {}, "data.csv is empty."),
        # An unterminated quote swallows the rest of the line into one field.
        ('a,b,y\n1,"2,0\n', {}, "data.csv row 2 has 2 fields but the first row has 3."),
    ],
)
def test_error_messages(tmp_path: Path, text: str, kwargs: dict, expected: str) -> None:
    assert _error(_write(tmp_path, text), **kwargs) == expected


def test_row_numbers_count_blank_lines_and_header(tmp_path: Path) -> None:
    text = "a,b,y\n\n1,2,0\n\n\n3,oops,1\n"
    assert (
        _error(_write(tmp_path, text))
        == "data.csv row 6, column 'b': 'oops' is not a number."
    )


def test_missing_file_folder_and_bad_encoding(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    assert _error(missing) == f"Dataset file {missing} does not exist."
    assert "is a folder" in _error(tmp_path)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("a,b,y\n1,2,caf\xe9\n".encode("latin-1"))
    assert _error(latin).startswith("latin.csv is not UTF-8 text")


# --- formats -----------------------------------------------------------------------------------
def test_bom_tabs_quotes_and_whitespace(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_bytes(
        '\ufeff"w 1"\tw2\tkind\n 1.5 \t2\t" big "\n3\t4e-1\tsmall\n'.encode()
    )
    data = read_csv(path)
    assert data.feature_names == ["w 1", "w2"]
    np.testing.assert_allclose(data.x, [[1.5, 2.0], [3.0, 0.4]])
    assert data.class_names == ["big", "small"]
    forced = read_csv(_write(tmp_path, "1|2|0\n3|4|1\n", "p.csv"), delimiter="|")
    assert forced.x.shape == (2, 2)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    table=st.integers(1, 6).flatmap(
        lambda cols: st.lists(
            st.lists(
                st.floats(width=32, allow_nan=False, allow_infinity=False),
                min_size=cols + 1,
                max_size=cols + 1,
            ),
            min_size=1,
            max_size=30,
        )
    ),
    with_header=st.booleans(),
)
def test_round_trip_random_numeric_table(
    tmp_path: Path, table: list, with_header: bool
) -> None:
    path = tmp_path / "round.csv"
    width = len(table[0])
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        if with_header:
            writer.writerow([f"f{j}" for j in range(width)])
        writer.writerows([[repr(v) for v in row] for row in table])
    data = read_csv(path, task="regression", header=with_header)
    expected = np.array(table, dtype=np.float32)
    np.testing.assert_array_equal(data.x, expected[:, :-1])
    np.testing.assert_array_equal(data.y[:, 0], expected[:, -1])


def test_larger_file_reads_correctly(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(size=(20_000, 8)).round(5)
    labels = rng.integers(0, 3, size=20_000)
    path = tmp_path / "big.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([f"f{j}" for j in range(8)] + ["label"])
        writer.writerows(np.column_stack([values, labels]).tolist())
    data = read_csv(path)
    np.testing.assert_array_equal(data.x, values.astype(np.float32))
    np.testing.assert_array_equal(data.y, labels)
