"""CSV columns as a time series (issue 14): windows of rows -> the next values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nndesk.io.datasets import DatasetError, load_dataset
from nndesk.io.datasets.csv_reader import read_csv_series

ROWS = 30


@pytest.fixture
def weather(tmp_path: Path) -> Path:
    path = tmp_path / "weather.csv"
    lines = ["hour,temp,wind,rain"]
    lines += [f"{t},{10 + t * 0.5},{t % 7},{t * t}" for t in range(ROWS)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_windows_of_several_columns_and_the_next_values(weather: Path) -> None:
    spec = "weather.csv:series=temp+wind,window=5,horizon=2"
    data = load_dataset(spec, base_dir=weather.parent)
    assert data.task == "regression" and data.source == spec
    assert len(data) == ROWS - 5 - 2 + 1
    assert data.input_shape == (5, 2) and data.y.shape == (len(data), 2)
    t = np.arange(ROWS, dtype=np.float64)
    temp, wind = 10 + t * 0.5, t % 7
    for i in (0, 11, len(data) - 1):
        np.testing.assert_allclose(data.x[i, :, 0], temp[i : i + 5])
        np.testing.assert_allclose(data.x[i, :, 1], wind[i : i + 5])
        np.testing.assert_allclose(data.y[i], temp[i + 5 : i + 7])  # first column
    assert np.shares_memory(data.x[0], data.x[1])  # windows are views of the columns


def test_target_may_be_another_column_by_name_or_index(weather: Path) -> None:
    by_name = read_csv_series(weather, series=["temp"], window=3, target="rain")
    by_index = read_csv_series(weather, series=["1"], window=3, target="3")
    np.testing.assert_array_equal(by_name.x, by_index.x)
    np.testing.assert_array_equal(by_name.y[:, 0], np.arange(3, ROWS) ** 2)


@pytest.mark.parametrize(
    "options,fragment",
    [
        ("series=temp", "needs window=, the time steps of a sample"),
        (
            "window=4",
            "Option 'window' in 'weather.csv:window=4' applies to a time series",
        ),
        ("series=temp,window=x", "window=x in"),
        ("series=temp,window=4,task=classification", "Option 'task' does not apply"),
        ("series=snow,window=4", "has no column named 'snow'"),
        ("series=temp,window=29,horizon=2", "30 data rows, too few for a window of 29"),
    ],
)
def test_bad_series_options(weather: Path, options: str, fragment: str) -> None:
    with pytest.raises(DatasetError) as info:
        load_dataset(f"weather.csv:{options}", base_dir=weather.parent)
    assert fragment in str(info.value)


def test_a_bad_cell_names_its_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "gap.csv"
    path.write_text("a,b\n1,2\n3,\n5,6\n7,8\n")
    with pytest.raises(DatasetError) as info:
        load_dataset(f"{path}:series=a+b,window=2")
    assert str(info.value) == "gap.csv row 3, column 'b': the cell is empty."
