"""What the Data panel knows about dataset specs and files, without Qt.

A spec string (``nndesk.io.datasets.spec``) is the one truth the document stores;
the panel's widgets are a view of it. ``describe`` reads a spec into the form's
terms (a generator and its options, a file and its options, the painted set, or
something only the spec line can say), ``generator_spec`` and ``file_spec`` write
one back. ``csv_head`` reads the first rows of a CSV file for the column table
and the target chooser (a few kilobytes, whatever the file's size).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nndesk.io.datasets import GENERATORS, DatasetError, format_spec, parse_spec
from nndesk.io.datasets.csv_reader import SERIES_PARAMS
from nndesk.io.datasets.text import PYDOC, TEXT, TEXT_PARAMS
from nndesk.io.datasets.toy import ParamSpec

__all__ = [
    "DATA_FILE_FILTER",
    "PAINTED",
    "CsvHead",
    "SourceChoice",
    "csv_head",
    "data_path_kind",
    "describe",
    "file_spec",
    "exists",
    "generator_spec",
    "is_folder",
    "option_params",
    "options_description",
    "options_spec",
    "preview_spec",
    "text_spec",
]

PAINTED = "painted"
"""The spec head of the data painted into the network file (see docs/datasets.md)."""

DATA_FILE_FILTER = (
    "Data files (*.csv *.tsv *.txt *.npz *idx*ubyte *idx*ubyte.gz *ubyte *ubyte.gz);;"
    "CSV files (*.csv *.tsv *.txt);;NPZ archives (*.npz);;"
    "MNIST IDX files (*idx* *ubyte *ubyte.gz);;All files (*)"
)
_CSV_SUFFIXES = (".csv", ".tsv", ".txt")
_HEAD_BYTES = 1 << 16  # enough for the header and the first rows of any sane file
_HEAD_ROWS = 50  # rows looked at to tell the column types


@dataclass(frozen=True)
class SourceChoice:
    """A spec in the form's terms.

    Attributes
    ----------
    kind : str
        ``"none"`` (empty spec), ``"generator"``, ``"file"``, ``"painted"``,
        ``"text"`` (characters, ``text:...``) or ``"custom"`` (a spec the form
        cannot show, e.g. one that does not parse).
    head : str
        The generator name, the file path as written, or "".
    options : dict of str to str
        The spec's options.
    """

    kind: str
    head: str = ""
    options: dict[str, str] = field(default_factory=dict)

    @property
    def file_kind(self) -> str:
        """``"csv"``, ``"npz"`` or ``"idx"`` for a file source, else ""."""
        return data_path_kind(Path(self.head)) if self.kind == "file" else ""


def describe(spec: str) -> SourceChoice:
    """The form's view of ``spec`` (never raises: a bad spec is ``"custom"``)."""
    if not spec.strip():
        return SourceChoice("none")
    try:
        head, options = parse_spec(spec)
    except DatasetError:
        return SourceChoice("custom", spec)
    if head in GENERATORS:
        return SourceChoice("generator", head, options)
    if head == PAINTED:
        return SourceChoice("painted", head, options)
    if head == TEXT:
        return SourceChoice("text", head, options)
    return SourceChoice("file", head, options)


def option_params(choice: SourceChoice) -> tuple[ParamSpec, ...]:
    """The numeric options the form shows for ``choice``: a generator's, a
    text's window and step, a CSV time series' window and horizon (a CSV spec
    with ``series=``); none for anything else."""
    if choice.kind == "generator":
        return GENERATORS[choice.head].params
    if choice.kind == "text":
        return TEXT_PARAMS
    if choice.kind == "file" and "series" in choice.options:
        return SERIES_PARAMS
    return ()


def options_spec(choice: SourceChoice, values: Mapping[str, Any]) -> str:
    """``choice``'s spec with the form's ``values`` for its ``option_params``
    (other options, a generator's ``seed``, a text's ``path``, kept)."""
    if choice.kind == "generator":
        keep = {k: v for k, v in choice.options.items() if k == "seed"}
        return generator_spec(choice.head, values, keep)
    options = dict(choice.options)
    for p in option_params(choice):
        options[p.name] = _number_text(values.get(p.name, p.default), p.kind)
    return format_spec(choice.head, options)


def options_description(choice: SourceChoice) -> str:
    """What a text or time-series source makes, in a sentence ("" otherwise)."""
    if choice.kind == "text":
        source = choice.options.get("path") or PYDOC
        return (
            f"Characters of {source}: a window of characters -> the next one "
            "(token ids; the vocabulary is saved with the network)."
        )
    if choice.kind == "file" and "series" in choice.options:
        columns = " + ".join(c for c in choice.options["series"].split("+") if c)
        target = choice.options.get("target") or columns.split(" + ")[0]
        return (
            f"Time series of {columns}: a window of rows -> the next value(s) of "
            f"{target}."
        )
    return ""


def text_spec(path: str | None = None) -> str:
    """The spec of a character dataset of ``path`` (None: Python's documentation)
    with the default window and step."""
    options = {p.name: str(p.default) for p in TEXT_PARAMS}
    return format_spec(TEXT, {"path": path, **options} if path else options)


def generator_spec(
    name: str, values: Mapping[str, Any], keep: Mapping[str, str]
) -> str:
    """The spec of generator ``name`` with the form's ``values``.

    Options the form does not show (``seed=``) are kept from ``keep``; values at
    their default are written too, so the spec says what it makes.
    """
    options: dict[str, Any] = {}
    for p in GENERATORS[name].params:
        value = values.get(p.name, p.default)
        options[p.name] = _number_text(value, p.kind)
    for key, value in keep.items():
        if key not in options:
            options[key] = value
    return format_spec(name, options)


def preview_spec(spec: str, most: int) -> str:
    """``spec`` with a generator's ``n`` capped at ``most`` (a quick look at a
    large set while its widgets move); other specs are returned as they are."""
    choice = describe(spec)
    if choice.kind != "generator":
        return spec
    n = choice.options.get("n", GENERATORS[choice.head].defaults().get("n", most))
    try:
        capped = min(int(float(n)), most)
    except ValueError:
        return spec
    return format_spec(choice.head, {**choice.options, "n": capped})


def file_spec(path: str, options: Mapping[str, str] | None = None) -> str:
    """The spec of a data file or IDX folder with ``options`` (target, split…).

    Raises
    ------
    DatasetError
        When the path holds ``,`` ``=`` or ``:`` after its last colon in a way a spec
        cannot carry, or an option value does.
    """
    return format_spec(path, dict(options or {}))


def data_path_kind(path: Path) -> str:
    """``"csv"``, ``"npz"`` or ``"idx"`` by the name (as the spec reader decides
    for the common names), "" when the name says nothing."""
    name = path.name.lower()
    if path.suffix.lower() in _CSV_SUFFIXES:
        return "csv"
    if path.suffix.lower() == ".npz":
        return "npz"
    if "idx" in name or "ubyte" in name or is_folder(path):
        return "idx"
    return ""


def is_folder(path: Path) -> bool:
    """Whether ``path`` is a folder; a name the file system refuses (too long, a
    NUL byte) is none."""
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def exists(path: Path) -> bool:
    """Whether ``path`` exists; a name the file system refuses does not."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def _number_text(value: Any, kind: str) -> str:
    if kind == "int":
        return str(int(value))
    text = f"{float(value):.6g}"
    return text if any(c in text for c in ".e") else text + ".0"


# --- CSV head -----------------------------------------------------------------------------
@dataclass(frozen=True)
class CsvHead:
    """The first rows of a CSV file, for showing and for choosing the target.

    Attributes
    ----------
    columns : list of str
        Header names, or ``"column 0"``, ``"column 1"``… without a header.
    has_header : bool
        Whether the first row is a header (the reader's rule, on the first rows).
    types : list of str
        Per column: ``"whole number"``, ``"number"`` or ``"text"`` in the rows read.
    rows : list of list of str
        Up to ``most`` data rows.
    """

    columns: list[str]
    has_header: bool
    types: list[str]
    rows: list[list[str]]


def csv_head(path: Path, most: int = 5) -> CsvHead:
    """Read the header and first rows of a CSV file (at most 64 KB of it).

    The delimiter and the header follow the reader's rules (``read_csv``): ``,``
    unless the first line has none but a tab or a semicolon; the first row is a
    header when its cells are text where the rows below hold numbers.

    Raises
    ------
    DatasetError
        When the file cannot be read or is not UTF-8 text (one sentence naming it).
    """
    try:
        with open(path, "rb") as f:
            raw = f.read(_HEAD_BYTES)
    except OSError as exc:
        raise DatasetError(
            f"Dataset file {path} cannot be read: {exc.strerror}."
        ) from None
    text = raw.decode("utf-8-sig", errors="ignore")
    lines = text.splitlines()
    if len(raw) == _HEAD_BYTES and lines:
        lines = lines[:-1]  # the last line may be cut in the middle
    lines = [line for line in lines if line.strip()][: _HEAD_ROWS + 1]
    if not lines:
        raise DatasetError(f"{path.name} is empty.")
    delimiter = _delimiter(lines[0])
    rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
    width = len(rows[0])
    rows = [r for r in rows if len(r) == width]
    header = _looks_like_header(rows)
    body = rows[1:] if header else rows
    columns = (
        [c.strip() or f"column {j}" for j, c in enumerate(rows[0])]
        if header
        else [f"column {j}" for j in range(width)]
    )
    types = [_column_type([r[j] for r in body]) for j in range(width)]
    return CsvHead(columns, header, types, body[:most])


def _delimiter(line: str) -> str:
    if "," not in line:
        for candidate in ("\t", ";"):
            if candidate in line:
                return candidate
    return ","


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _looks_like_header(rows: list[list[str]]) -> bool:
    first, sample = rows[0], rows[1:]
    if not sample:
        return not all(_is_number(c) for c in first)
    numeric = [
        j
        for j in range(len(first))
        if sum(_is_number(r[j]) for r in sample) * 2 > len(sample)
    ]
    texts = sum(not _is_number(first[j]) for j in numeric)
    return bool(numeric) and texts * 2 >= len(numeric)


def _column_type(cells: list[str]) -> str:
    if not cells or not all(_is_number(c) for c in cells):
        return "text"
    if all(float(c).is_integer() for c in cells):
        return "whole number"
    return "number"
