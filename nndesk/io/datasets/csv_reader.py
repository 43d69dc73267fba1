"""Read a CSV table of numeric features and one target column into a Dataset.

Rules, in the order they apply:

- Text is UTF-8 (a byte-order mark is ignored). The delimiter is ``,`` unless the
  first line has no comma but a tab or a semicolon (or ``delimiter=`` is given).
- At most ``MAX_COLUMNS`` columns: the first row is counted before any other row
  is parsed, so a file a million columns wide is refused at once.
- Blank lines are skipped. Every other row must have as many fields as the first.
- Header: the first row is a header when its cells are not numbers in at least
  half of the columns whose data rows are (mostly) numbers. ``header=True/False``
  overrides.
- Target: ``target=`` names a column (header name) or gives its 0-based index
  (negative counts from the end); the default is the last column.
- Features must all be finite numbers: an empty cell, text, NaN or Inf stops the
  read with a DatasetError naming the file, the row (1-based, as a spreadsheet
  counts it, header and blank lines included) and the column.
- Target with any non-number → classification with the sorted distinct strings as
  class names. Whole numbers with at most ``max_classes`` distinct values →
  classification. Anything else → regression. ``task=`` forces either.
- Whole-number labels that are all in ``0 .. max(max_classes, k) - 1`` (k distinct
  values) are their own class index, with names ``"0" .. str(max)``; other labels
  are mapped to their sorted position (-1, 1, 5 → 0, 1, 2 named "-1", "1", "5").

``read_csv_series`` reads columns as a time series instead (rows are time steps):
windows of ``window`` rows of the chosen columns -> the next ``horizon`` values
of one column.
"""

from __future__ import annotations

import csv
import logging
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ...engine.memory import MemoryBudget, check_fits
from ..errors import DatasetError
from .base import CLASSIFICATION, REGRESSION, TASKS, Dataset, stat_path
from .toy import ParamSpec

log = logging.getLogger(__name__)

__all__ = ["MAX_COLUMNS", "SERIES_PARAMS", "read_csv", "read_csv_series"]

MAX_COLUMNS = 100_000
"""Most columns a CSV file may have (features plus the target)."""

_HEADER_SAMPLE = 50  # data rows looked at to decide whether row 1 is a header
_SNIFF = 1 << 16  # characters of the first line looked at to guess the delimiter
_COUNT_CHUNK = 1 << 22
_BYTES_PER_CELL = 49 + 3 * 8 + 8 + 4 + 1  # see _parse_size
_FLOAT32_MAX = float(np.finfo(np.float32).max)

SERIES_PARAMS = (
    ParamSpec("window", "int", 24, 1, 10_000, "Rows (time steps) per sample."),
    ParamSpec("horizon", "int", 1, 1, 1000, "Next values of the target to predict."),
)
"""The numeric options of a CSV time series (a form shows them as a generator's)."""


class _Table:
    """Parsed rows of one file plus what is needed to name a place in it."""

    def __init__(self, path: Path, delimiter: str, rows: list[list[str]]) -> None:
        self.path = path
        self.delimiter = delimiter
        self.rows = rows
        self.header: list[str] | None = None

    @property
    def data(self) -> list[list[str]]:
        return self.rows[1:] if self.header is not None else self.rows

    def row_number(self, data_index: int) -> int:
        """Spreadsheet row (1-based, header and blank lines counted) of a data row."""
        wanted = data_index + (1 if self.header is not None else 0)
        kept = -1
        with _open(self.path) as f:
            for number, row in enumerate(csv.reader(f, delimiter=self.delimiter), 1):
                if not _is_blank(row):
                    kept += 1
                    if kept == wanted:
                        return number
        return wanted + 1  # unreachable for indices of rows we parsed

    def column_label(self, j: int) -> str:
        if self.header is not None and self.header[j].strip():
            return f"column '{self.header[j].strip()}'"
        return f"column {j + 1}"

    def where(self, data_index: int, j: int) -> str:
        return f"{self.path.name} row {self.row_number(data_index)}, {self.column_label(j)}"


def read_csv(
    path: str | Path,
    *,
    target: str | int | None = None,
    task: str | None = None,
    header: bool | None = None,
    delimiter: str | None = None,
    max_classes: int = 20,
    budget: MemoryBudget | None = None,
) -> Dataset:
    """Read ``path`` into a Dataset (see the module docstring for the rules).

    Parameters
    ----------
    path : str or Path
        The CSV file.
    target : str or int, optional
        Target column by header name or 0-based index; default: the last column.
        A string of digits that is not a column name is taken as an index.
    task : {"classification", "regression"}, optional
        Force the task instead of guessing it from the target column.
    header : bool, optional
        Force whether the first row is a header.
    delimiter : str, optional
        Field delimiter; guessed from the first line when omitted.
    max_classes : int
        Most distinct whole-number target values still taken as classes.
    budget : MemoryBudget, optional
        The memory parsing may use (default: ``memory_budget()`` now); the
        estimate counts the file's cells before any row is parsed.

    Returns
    -------
    Dataset
        ``x`` float32 ``(n, n_columns - 1)``, ``y`` int64 ``(n,)`` or float32
        ``(n, 1)``, ``feature_names`` from the header (``"column 3"`` without one).

    Raises
    ------
    DatasetError
        For a missing or unreadable file, a ragged row, a bad cell (naming row and
        column), an unknown target column, or a target that does not fit ``task``.
    ResourceError
        When the parsed table would not fit in the memory available.
    """
    if task is not None and task not in TASKS:
        raise DatasetError(
            f"Unknown task {task!r}; valid tasks are {', '.join(TASKS)}."
        )
    table = _read_rows(Path(path), delimiter, budget)
    _check_ragged(table)
    table.header = table.rows[0] if _has_header(table.rows, header) else None
    n_cols = len(table.rows[0])
    if n_cols < 2:
        raise DatasetError(
            f"{table.path.name} has only one column; it needs at least one feature "
            "column and a target column."
        )
    if not table.data:
        raise DatasetError(f"{table.path.name} has a header row but no data rows.")
    t = _target_index(table, target)
    feature_idx = [j for j in range(n_cols) if j != t]
    x = _features(table, t, feature_idx)
    target_cells = [row[t] for row in table.data]
    y, class_names, task_found = _target(table, t, target_cells, task, max_classes)
    names = [_feature_name(table, j) for j in feature_idx]
    log.debug(
        "read %s: %d rows, %d features, %s", table.path, len(x), x.shape[1], task_found
    )
    return Dataset(
        x=x,
        y=y,
        task=task_found,
        class_names=class_names,
        feature_names=names,
        name=table.path.name,
        source=str(path),
    )


# --- reading rows -------------------------------------------------------------------
def _open(path: Path) -> TextIO:
    # newline="" is what the csv module needs; utf-8-sig drops a byte-order mark.
    return open(path, newline="", encoding="utf-8-sig")


def _is_blank(row: list[str]) -> bool:
    return not row or (len(row) == 1 and not row[0].strip())


def _read_rows(
    path: Path, delimiter: str | None, budget: MemoryBudget | None
) -> _Table:
    info = stat_path(path, f"Dataset file {path}")
    if info is None:
        raise DatasetError(f"Dataset file {path} does not exist.")
    if stat.S_ISDIR(info.st_mode):
        raise DatasetError(f"Dataset path {path} is a folder, not a CSV file.")
    reader = None
    try:
        with _open(path) as f:
            first = f.readline(_SNIFF)
            while first and not first.strip():
                first = f.readline(_SNIFF)
            delim = delimiter or _guess_delimiter(first)
            check_fits(_parse_size(path, delim), f"Reading {path.name}", budget)
            f.seek(0)
            reader = csv.reader(f, delimiter=delim)
            rows: list[list[str]] = []
            for row in reader:
                if _is_blank(row):
                    continue
                if not rows and len(row) > MAX_COLUMNS:
                    raise DatasetError(
                        f"{path.name} has {len(row):,} columns in its first row; "
                        f"nndesk reads at most {MAX_COLUMNS:,}."
                    )
                rows.append(row)
    except UnicodeDecodeError as exc:
        raise DatasetError(
            f"{path.name} is not UTF-8 text (byte {exc.start} cannot be decoded)."
        ) from None
    except csv.Error as exc:
        line = reader.line_num if reader is not None else 0
        raise DatasetError(
            f"{path.name} line {line} is not valid CSV: {exc}."
        ) from None
    except OSError as exc:
        raise DatasetError(
            f"Dataset file {path} cannot be read: {exc.strerror}."
        ) from None
    if not rows:
        raise DatasetError(f"{path.name} is empty.")
    return _Table(path, delim, rows)


def _parse_size(path: Path, delimiter: str) -> int:
    """Bytes the parsed table takes at its peak, from a count of the file's cells.

    Each cell becomes a Python string (49 bytes plus its text) held in a row list,
    a feature row and a column (8 bytes each), then float64, float32 and a mask
    byte: about 80 bytes per cell besides its text, the file's size.
    """
    sep = delimiter.encode("utf-8")
    cells = size = 1
    with open(path, "rb") as f:
        while chunk := f.read(_COUNT_CHUNK):
            cells += chunk.count(sep) + chunk.count(b"\n")
            size += len(chunk)
    return cells * _BYTES_PER_CELL + size


def _guess_delimiter(line: str) -> str:
    if "," not in line:
        for candidate in ("\t", ";"):
            if candidate in line:
                return candidate
    return ","


def _check_ragged(table: _Table) -> None:
    width = len(table.rows[0])
    for i, row in enumerate(table.rows):
        if len(row) != width:
            # The header is not decided yet, so row_number counts from row 1.
            number = table.row_number(i)
            raise DatasetError(
                f"{table.path.name} row {number} has {len(row)} fields but the first "
                f"row has {width}."
            )


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _all_numbers(cells: Sequence[Sequence[str]]) -> bool:
    """Whether every cell of a block parses as a float (one NumPy call when so)."""
    try:
        np.array(cells, dtype=np.float64)
    except ValueError:
        return False
    return True


def _has_header(rows: list[list[str]], forced: bool | None) -> bool:
    if forced is not None:
        return forced
    first, sample = rows[0], rows[1 : 1 + _HEADER_SAMPLE]
    if not sample:
        # A single row is a header exactly when it is not all numbers.
        return not all(_is_number(c) for c in first)
    if _all_numbers(sample):  # the common case, without a Python loop per cell
        numeric_columns = list(range(len(first)))
    else:
        numeric_columns = [
            j
            for j in range(len(first))
            if sum(_is_number(r[j]) for r in sample) * 2 > len(sample)
        ]
    if _all_numbers([first]):
        return False
    texts = sum(not _is_number(first[j]) for j in numeric_columns)
    # At least half, not just one: a single typo in the first data row should be
    # reported as a bad cell, not silently swallowed as a header.
    return bool(numeric_columns) and texts * 2 >= len(numeric_columns)


# --- columns --------------------------------------------------------------------------
def _target_index(table: _Table, target: str | int | None) -> int:
    n_cols = len(table.rows[0])
    if target is None:
        return n_cols - 1
    if isinstance(target, str):
        names = [h.strip() for h in table.header] if table.header is not None else []
        hits = [j for j, h in enumerate(names) if h == target.strip()]
        if len(hits) > 1:
            raise DatasetError(
                f"{table.path.name} has {len(hits)} columns named '{target}'; give the "
                "target column by index instead."
            )
        if hits:
            return hits[0]
        if not target.strip().lstrip("-").isdigit():
            shown = ", ".join(f"'{h}'" for h in names[:20]) or "none (no header row)"
            more = ", ..." if len(names) > 20 else ""
            raise DatasetError(
                f"{table.path.name} has no column named '{target}'; its columns are "
                f"{shown}{more}."
            )
        target = int(target)
    if isinstance(target, bool) or not isinstance(target, (int, np.integer)):
        raise DatasetError(
            f"A CSV target must be a column name or index, got {target!r}."
        )
    if not -n_cols <= target < n_cols:
        raise DatasetError(
            f"Target column index {target} is out of range for {table.path.name}, "
            f"which has {n_cols} columns (0..{n_cols - 1})."
        )
    return int(target) % n_cols


def _feature_name(table: _Table, j: int) -> str:
    if table.header is not None and table.header[j].strip():
        return table.header[j].strip()
    return f"column {j + 1}"


def _features(table: _Table, t: int, feature_idx: list[int]) -> np.ndarray:
    """The feature columns as float32 ``(n, len(feature_idx))``.

    All cells are converted in one NumPy call; only when that fails (or finds a
    NaN, Inf or huge value) are the columns examined one by one to name the first
    bad cell.
    """
    data = table.data
    try:
        values = np.array([row[:t] + row[t + 1 :] for row in data], dtype=np.float64)
    except ValueError:
        values = None
    if values is not None:
        values = values.reshape(len(data), len(feature_idx))
        bad = ~np.isfinite(values) | (np.abs(values) > _FLOAT32_MAX)
        if not bad.any():
            return values.astype(np.float32)
    x = np.empty((len(data), len(feature_idx)), dtype=np.float32)
    for out_j, j in enumerate(feature_idx):
        x[:, out_j] = _numeric_column(table, j, [row[j] for row in data])
    return x


def _numeric_column(table: _Table, j: int, cells: Sequence[str]) -> np.ndarray:
    """Column ``j`` as float64; DatasetError at the first cell that is no finite number."""
    try:
        values = np.array(cells, dtype=np.float64)
    except ValueError:
        values = None
    if values is not None:
        bad = ~np.isfinite(values) | (np.abs(values) > _FLOAT32_MAX)
        if not bad.any():
            return values
    for i, cell in enumerate(cells):
        _check_cell(table, i, j, cell)
    raise AssertionError("a bad cell was expected")  # pragma: no cover


def _check_cell(table: _Table, i: int, j: int, cell: str) -> None:
    if not cell.strip():
        raise DatasetError(f"{table.where(i, j)}: the cell is empty.")
    try:
        value = float(cell)
    except ValueError:
        raise DatasetError(
            f"{table.where(i, j)}: {cell.strip()!r} is not a number."
        ) from None
    if not np.isfinite(value):
        raise DatasetError(
            f"{table.where(i, j)}: {cell.strip()!r} is not a finite number."
        )
    if abs(value) > _FLOAT32_MAX:
        raise DatasetError(
            f"{table.where(i, j)}: {cell.strip()!r} is too large for float32."
        )


def _target(
    table: _Table, t: int, cells: Sequence[str], task: str | None, max_classes: int
) -> tuple[np.ndarray, list[str] | None, str]:
    """Target column → (y, class names, task)."""
    try:
        values = np.array(cells, dtype=np.float64)
    except ValueError:
        values = None
    if values is None:
        if task == REGRESSION:
            _numeric_column(table, t, cells)  # raises at the first non-number
        if task is None:
            _refuse_stray_text(table, t, cells)
        return _categorical(table, t, cells)
    if not (np.isfinite(values) & (np.abs(values) <= _FLOAT32_MAX)).all():
        _numeric_column(table, t, cells)  # raises naming the NaN/Inf/huge cell
    whole = bool(np.all(values == np.round(values)))
    distinct = np.unique(values)
    if task is None:
        task = CLASSIFICATION if whole and len(distinct) <= max_classes else REGRESSION
    if task == REGRESSION:
        return values.reshape(-1, 1), None, REGRESSION
    if not whole:
        i = int(np.argmax(values != np.round(values)))
        raise DatasetError(
            f"{table.where(i, t)}: {cells[i].strip()!r} is not a whole number, so the "
            "column cannot hold class labels; use task='regression'."
        )
    if distinct[0] >= 0 and distinct[-1] < max(max_classes, len(distinct)):
        top = int(distinct[-1])
        return values.astype(np.int64), [str(k) for k in range(top + 1)], CLASSIFICATION
    labels = np.searchsorted(distinct, values).astype(np.int64)
    return labels, [_int_text(v) for v in distinct], CLASSIFICATION


def _refuse_stray_text(table: _Table, t: int, cells: Sequence[str]) -> None:
    """A mostly numeric target with a few text cells is a typo, not class names.

    Guessing classification there would silently turn, say, prices with one bad
    cell into thousands of classes; the user can still force it with ``task=``.
    """
    numeric = [_is_number(c) for c in cells]
    if sum(numeric) * 2 <= len(cells):
        return
    i = numeric.index(False)
    if not cells[i].strip():
        raise DatasetError(f"{table.where(i, t)}: the cell is empty.")
    raise DatasetError(
        f"{table.where(i, t)}: {cells[i].strip()!r} is not a number though most of "
        "the column is; fix the cell, or pass task='classification' to use the "
        "values as class names."
    )


def _categorical(
    table: _Table, t: int, cells: Sequence[str]
) -> tuple[np.ndarray, list[str], str]:
    stripped = np.array([c.strip() for c in cells])
    empty = stripped == ""
    if empty.any():
        raise DatasetError(
            f"{table.where(int(np.argmax(empty)), t)}: the cell is empty."
        )
    names, labels = np.unique(stripped, return_inverse=True)
    return labels.astype(np.int64), [str(s) for s in names], CLASSIFICATION


def _int_text(value: float) -> str:
    return str(int(value))


# --- time series ------------------------------------------------------------------------
def read_csv_series(
    path: str | Path,
    *,
    series: Sequence[str],
    window: int,
    horizon: int = 1,
    target: str | None = None,
    header: bool | None = None,
    delimiter: str | None = None,
    budget: MemoryBudget | None = None,
) -> Dataset:
    """Columns of a CSV file as a time series: ``window`` rows -> the next values.

    The rows are the time steps, in file order. Sample ``i`` holds rows ``i ..
    i + window - 1`` of the ``series`` columns and its targets are the ``target``
    column's next ``horizon`` values (rows ``i + window .. i + window + horizon
    - 1``).

    Parameters
    ----------
    path : str or Path
        The CSV file (the rules of :func:`read_csv` for text, delimiter, header).
    series : sequence of str
        The input columns, by header name or 0-based index.
    window, horizon : int
        Time steps the network sees, and the values after them it predicts.
    target : str, optional
        The column to forecast (name or index; need not be a series column);
        default: the first series column.
    header, delimiter, budget
        As for :func:`read_csv`.

    Returns
    -------
    Dataset
        ``x`` float32 ``(n, window, len(series))``, a view of the columns (no
        copy per window); ``y`` float32 ``(n, horizon)``; ``n = rows - window -
        horizon + 1``; regression.

    Raises
    ------
    DatasetError
        For an unknown column, a cell that is no finite number (naming row and
        column), or fewer rows than one window and its horizon.
    """
    if not series:
        raise DatasetError(f"A series of {Path(path).name} needs at least one column.")
    if window < 1 or horizon < 1:
        raise DatasetError(
            f"A series of {Path(path).name} needs window >= 1 and horizon >= 1, got "
            f"window={window}, horizon={horizon}."
        )
    table = _read_rows(Path(path), delimiter, budget)
    _check_ragged(table)
    table.header = table.rows[0] if _has_header(table.rows, header) else None
    columns = [_target_index(table, c) for c in series]
    t = _target_index(table, target) if target is not None else columns[0]
    data = table.data
    values = np.empty((len(data), len(columns) + 1), dtype=np.float32)
    for out_j, j in enumerate([*columns, t]):
        values[:, out_j] = _numeric_column(table, j, [row[j] for row in data])
    n = len(data) - window - horizon + 1
    if n < 1:
        raise DatasetError(
            f"{table.path.name} has {len(data)} data rows, too few for a window of "
            f"{window} and a horizon of {horizon}."
        )
    inputs = values[: n + window - 1, : len(columns)]
    x = sliding_window_view(inputs, window, axis=0).transpose(0, 2, 1)
    y = sliding_window_view(values[window:, -1], horizon)[:n]
    return Dataset(
        x=x,
        y=np.ascontiguousarray(y),
        task=REGRESSION,
        name=table.path.name,
        source=str(path),
    )
