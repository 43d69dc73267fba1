"""Dataset spec strings: one line that names a dataset and recreates it exactly.

A spec is ``HEAD`` or ``HEAD:key=value,key=value``, where HEAD is

- a generator name from ``GENERATORS`` (``spiral:n=1000,noise=0.2``,
  ``blobs:n=500,centers=4,seed=3``);
- ``painted``: the points painted in the network's document (given to
  ``load_dataset`` as ``painted=``, see ``nndesk.io.datasets.painted``);
- ``text``: a character dataset (``text:path=notes.txt,window=40``; without a
  path, Python's documentation; see ``nndesk.io.datasets.text``);
- a path to a CSV file (``data.csv:target=species``, or as a time series
  ``data.csv:series=temp+wind,window=24,horizon=1``), an NPZ archive
  (``data.npz``, ``mnist.npz:split=test``), or an MNIST IDX folder or file
  (``../shared/data/fashion-mnist``, ``.../mnist:split=test``, one class only:
  ``fashion-mnist:class=Sneaker`` or ``class=7``).

Relative paths are resolved against ``base_dir`` (e.g. the folder of the network
file); a bare name that is no generator and no file there is looked up in the data
folders of :func:`data_search_path`. Options may not contain ``,``, ``=`` or ``:``.
Every dataset made here gets a canonical spec in ``Dataset.source``. When the
network file moves to another folder, :func:`rebase_spec` rewrites a relative path
so that it names the same file from there.

A name the file system refuses (too long, a NUL byte) is a file that does not
exist, as everywhere in the readers (``base.stat_path``).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DatasetError
from .base import TASKS, Dataset, stat_path
from .csv_reader import read_csv, read_csv_series
from .idx import IDX_SPLITS, load_idx
from .npz_reader import read_npz
from .painted import PAINTED, painted_dataset
from .text import TEXT, text_from_options
from .toy import GENERATORS, SeedLike, generate

if TYPE_CHECKING:
    from ...document.painted import PaintedPoints

__all__ = [
    "DATA_PATH_ENV",
    "data_search_path",
    "format_spec",
    "load_dataset",
    "parse_spec",
    "rebase_spec",
]

DATA_PATH_ENV = "NNDESK_DATA"

_OPTION = r"\s*[A-Za-z_]\w*\s*=[^,=:]*"
_OPTIONS_RE = re.compile(rf"^{_OPTION}(,{_OPTION})*$")
_CSV_SUFFIXES = (".csv", ".tsv", ".txt")
_DELIMITERS = {"comma": ",", "tab": "\t", "semicolon": ";", "space": " ", "pipe": "|"}
_BOOLS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
_SHOWN_PATH = 160  # longer paths are cut short in messages
# Options each file kind accepts (generators take their registry parameters + seed).
_FILE_OPTIONS = {
    "csv": (
        "target",
        "task",
        "header",
        "delimiter",
        "max_classes",
        "series",
        "window",
        "horizon",
    ),
    "npz": ("split", "task"),
    "idx": ("split", "class"),
}


def parse_spec(spec: str) -> tuple[str, dict[str, str]]:
    """Split a spec into its head and its options (values as strings).

    The options are what follows the last ``:`` when that part looks like
    ``key=value,...``; otherwise the whole spec is the head, so Windows paths such
    as ``C:\\data\\x.csv`` stay whole.

    Raises
    ------
    DatasetError
        For an empty spec or an option given twice.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise DatasetError(f"A dataset spec must be a non-empty string, got {spec!r}.")
    head, sep, tail = spec.strip().rpartition(":")
    if not sep or not _OPTIONS_RE.match(tail):
        if sep and not tail.strip() and head:
            return head.strip(), {}  # "spiral:" with nothing after the colon
        return spec.strip(), {}
    options: dict[str, str] = {}
    for item in tail.split(","):
        key, _, value = item.partition("=")
        key = key.strip()
        if key in options:
            raise DatasetError(
                f"Option '{key}' appears twice in dataset spec '{spec}'."
            )
        options[key] = value.strip()
    return head.strip(), options


def format_spec(head: str, options: Mapping[str, Any] | None = None) -> str:
    """Join a head and options into a spec string (``spiral:n=1000,noise=0.2``).

    Raises
    ------
    DatasetError
        When a value holds ``,``, ``=`` or ``:``, which a spec cannot carry.
    """
    parts = []
    for key, value in (options or {}).items():
        text = str(value)
        if any(c in text for c in ",=:"):
            raise DatasetError(
                f"Option '{key}' value {text!r} cannot be written in a dataset spec "
                "(it holds ',', '=' or ':')."
            )
        parts.append(f"{key}={text}")
    return f"{head}:{','.join(parts)}" if parts else head


def data_search_path() -> list[Path]:
    """Folders searched for a dataset given by bare name (e.g. ``fashion-mnist``).

    First the folders in the ``NNDESK_DATA`` environment variable (separated by
    ``os.pathsep``), then ``shared/data`` beside the source checkout, if present.
    """
    folders = [
        Path(p) for p in os.environ.get(DATA_PATH_ENV, "").split(os.pathsep) if p
    ]
    checkout = Path(__file__).resolve().parents[3]
    folders.append(checkout.parent / "shared" / "data")
    return [f for f in folders if _is_dir(f)]


def rebase_spec(spec: str, old_dir: str | Path | None, new_dir: str | Path) -> str:
    """The spec that names, from ``new_dir``, the file ``spec`` names from ``old_dir``.

    A relative dataset path is relative to the network file's folder; when the
    file is saved in another folder (Save As), the path is rewritten so the same
    dataset keeps loading. Generators, absolute paths (``~`` included) and bare
    names that are no file in ``old_dir`` (names looked up in the data folders)
    stay as they are; options are kept. Nothing is read but the folders' links.

    Parameters
    ----------
    spec : str
        A dataset spec (see the module docstring); "" stays "".
    old_dir : str or Path or None
        The folder relative paths were relative to (None: the current folder, as
        for a network never saved).
    new_dir : str or Path
        The folder they are to be relative to.

    Returns
    -------
    str
        The rebased spec (``spec`` itself when nothing changes).

    Examples
    --------
    >>> rebase_spec("../bad/good.csv:target=y", "/w/net", "/w/net/deep/er")
    '../../../bad/good.csv:target=y'
    >>> rebase_spec("spiral:n=100", "/a", "/b")
    'spiral:n=100'
    """
    if not isinstance(spec, str) or not spec.strip():
        return spec
    try:
        head, options = parse_spec(spec)
    except DatasetError:
        return spec  # a broken spec says so when it is loaded
    if head == TEXT:
        if not options.get("path"):
            return spec
        moved = rebase_spec(options["path"], old_dir, new_dir)
        return format_spec(head, {**options, "path": moved})
    path = Path(head)
    if head in GENERATORS or head == PAINTED or path.expanduser().is_absolute():
        return spec
    old = Path(old_dir) if old_dir is not None else Path.cwd()
    old, new = _real(old), _real(Path(new_dir))
    if old == new or (_is_bare(head) and not _is_entry(old / path)):
        return spec
    target = _real(old / path.parent) / path.name
    try:
        moved = os.path.relpath(target, new)
    except ValueError:  # another drive (Windows): only an absolute path reaches it
        moved = str(target)
    return format_spec(moved, options)


def load_dataset(
    spec: str,
    *,
    target: str | int | None = None,
    task: str | None = None,
    seed: SeedLike = 0,
    base_dir: str | Path | None = None,
    painted: PaintedPoints | None = None,
) -> Dataset:
    """Make or read the dataset a spec string names.

    Parameters
    ----------
    spec : str
        See the module docstring.
    target : str or int, optional
        CSV target column (name or 0-based index); same as the ``target=`` option.
    task : {"classification", "regression"}, optional
        Force the task of a CSV or NPZ dataset; same as the ``task=`` option.
    seed : int or np.random.Generator
        Seed for a generator when the spec has no ``seed=`` option.
    base_dir : str or Path, optional
        Folder that relative paths are resolved against (default: the current one).
    painted : PaintedPoints, optional
        The document's painted points, which the spec ``painted`` names.

    Returns
    -------
    Dataset
        With ``source`` set to a canonical spec that recreates it.

    Raises
    ------
    DatasetError
        For an unknown generator, option or value (listing the valid ones), a
        missing file (naming the path) or anything the readers refuse.
    """
    head, options = parse_spec(spec)
    if head == PAINTED:
        return painted_dataset(painted, options)
    if head in GENERATORS or head == TEXT:
        if target is not None or task is not None:
            raise DatasetError(
                f"Generator '{head}' takes no target or task; they apply to CSV and NPZ files."
            )
        if head == TEXT:
            return _text(options, base_dir, spec)
        return _generated(head, options, seed)
    path = _resolve(head, base_dir)
    kind = _file_kind(path)
    extra = {"target": target, "task": task} if kind != "idx" else {}
    if kind == "idx" and (target is not None or task is not None):
        raise DatasetError(
            f"An MNIST IDX dataset ({head}) takes no target or task option."
        )
    _merge_options(options, extra, spec)
    _check_options(kind, options, spec)
    dataset = _read(kind, path, options)
    if kind == "idx" and _is_dir(path) and "split" not in options:
        # Record the split load_idx chose, so the spec keeps meaning the same data.
        options["split"] = dataset.source.rpartition(":split=")[2]
    if "class" in options:
        dataset = _one_class(dataset, options["class"], spec)
    try:
        dataset.source = format_spec(head, options)
    except DatasetError as exc:
        # A target name with ',' or ':' cannot go into a spec; the data is still fine.
        dataset.source = ""
        dataset.notes.append(f"No dataset spec can recreate this dataset: {exc}")
    return dataset


# --- generators ---------------------------------------------------------------------
def _generated(name: str, options: dict[str, str], seed: SeedLike) -> Dataset:
    options = dict(options)
    if "seed" in options:
        text = options.pop("seed")
        if not text.isdigit():
            raise DatasetError(
                f"Option 'seed' of generator '{name}' must be a whole number >= 0, got {text!r}."
            )
        seed = int(text)
    return generate(name, seed=seed, **options)


def _text(options: dict[str, str], base_dir: str | Path | None, spec: str) -> Dataset:
    dataset = text_from_options(options, base_dir, spec)
    canonical = {
        "window": options.get("window", "40"),
        "step": options.get("step", "1"),
    }
    if options.get("path"):
        canonical = {"path": options["path"], **canonical}
    dataset.source = format_spec(TEXT, canonical)
    return dataset


# --- files ----------------------------------------------------------------------------
def _shown(text: str | Path) -> str:
    """A path or name for a message: a very long one is cut in the middle."""
    text = str(text)
    if len(text) <= _SHOWN_PATH:
        return text
    half = _SHOWN_PATH // 2
    return f"{text[:half]}…{text[-half:]} ({len(text):,} characters)"


def _exists(path: Path) -> bool:
    return stat_path(path, f"Dataset path {_shown(path)}") is not None


def _is_entry(path: Path) -> bool:
    try:
        return _exists(path)
    except DatasetError:
        return True  # there, but not to be examined: it is still that entry


def _is_dir(path: Path) -> bool:
    try:
        info = stat_path(path, f"Dataset path {_shown(path)}")
    except DatasetError:
        return False  # a folder that cannot be examined is no data folder
    return info is not None and stat.S_ISDIR(info.st_mode)


def _is_bare(head: str) -> bool:
    """A name without a folder part, which may also name a data folder's entry."""
    return not any(sep in head for sep in ("/", "\\")) and not head.startswith(".")


def _real(path: Path) -> Path:
    # Through links, as the file system walks "..": a relative path from one real
    # folder to another then lands where it should.
    return Path(os.path.realpath(path.expanduser()))


def _resolve(head: str, base_dir: str | Path | None) -> Path:
    path = Path(head).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    if _exists(path):
        return path
    bare = _is_bare(head)
    if bare:
        for folder in data_search_path():
            if _exists(folder / head):
                return folder / head
    if bare and not Path(head).suffix:
        raise DatasetError(
            f"Unknown dataset '{_shown(head)}': valid generators are "
            f"{', '.join(GENERATORS)}; '{TEXT}' makes a character dataset; anything "
            "else must be a path to a .csv, .npz "
            "or MNIST IDX file or folder."
        )
    raise DatasetError(f"Dataset file {_shown(path)} does not exist.")


def _file_kind(path: Path) -> str:
    if _is_dir(path):
        return "idx"
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return "npz"
    if suffix in _CSV_SUFFIXES:
        return "csv"
    if "idx" in path.name.lower():
        return "idx"
    try:
        with open(path, "rb") as f:
            magic = f.read(2)
    except OSError as exc:
        raise DatasetError(
            f"Dataset file {path} cannot be read: {exc.strerror}."
        ) from None
    if magic == b"PK":
        return "npz"
    if magic in (b"\x1f\x8b", b"\x00\x00"):
        return "idx"
    return "csv"


def _merge_options(options: dict[str, str], extra: dict[str, Any], spec: str) -> None:
    for key, value in extra.items():
        if value is None:
            continue
        text = str(value)
        if key in options and options[key] != text:
            raise DatasetError(
                f"Dataset spec '{spec}' says {key}={options[key]} but {key}={text} was "
                "also given; give it once."
            )
        options[key] = text


def _check_options(kind: str, options: dict[str, str], spec: str) -> None:
    valid = _FILE_OPTIONS[kind]
    for key in options:
        if key not in valid:
            raise DatasetError(
                f"Option '{key}' does not apply to {kind.upper()} data ('{spec}'); "
                f"valid options are {', '.join(valid)}."
            )
    if "task" in options and options["task"] not in TASKS:
        raise DatasetError(
            f"Option task={options['task']} in '{spec}' is unknown; valid tasks are "
            f"{', '.join(TASKS)}."
        )
    splits = IDX_SPLITS if kind == "idx" else ("train", "test")
    if "split" in options and options["split"] not in splits:
        raise DatasetError(
            f"Option split={options['split']} in '{spec}' is unknown; valid splits are "
            f"{', '.join(splits)}."
        )
    if "header" in options and options["header"].lower() not in _BOOLS:
        raise DatasetError(
            f"Option header={options['header']} in '{spec}' must be true or false."
        )
    if "max_classes" in options and not options["max_classes"].isdigit():
        raise DatasetError(
            f"Option max_classes={options['max_classes']} in '{spec}' must be a whole number."
        )
    for key in ("window", "horizon"):
        if key in options and not options[key].isdigit():
            raise DatasetError(
                f"Option {key}={options[key]} in '{spec}' must be a whole number."
            )
    series_only = [k for k in ("window", "horizon") if k in options]
    if series_only and "series" not in options:
        raise DatasetError(
            f"Option '{series_only[0]}' in '{spec}' applies to a time series; name its "
            "columns with series=col1+col2."
        )
    if "series" in options:
        if "window" not in options:
            raise DatasetError(
                f"The time series of '{spec}' needs window=, the time steps of a sample."
            )
        for key in ("task", "max_classes"):
            if key in options:
                raise DatasetError(
                    f"Option '{key}' does not apply to a time series ('{spec}'); a "
                    "series forecasts values (regression)."
                )
    if "delimiter" in options and _delimiter(options["delimiter"]) is None:
        raise DatasetError(
            f"Option delimiter={options['delimiter']} in '{spec}' is unknown; valid "
            f"delimiters are {', '.join(_DELIMITERS)} or a single character."
        )


def _one_class(dataset: Dataset, wanted: str, spec: str) -> Dataset:
    """The samples of one class (by 0-based index or name, any case), e.g. a GAN's
    images of sneakers; the class names stay, so labels keep their meaning."""
    names = dataset.class_names or []
    lowered = [n.lower() for n in names]
    if wanted.isdigit() and int(wanted) < len(names):
        index = int(wanted)
    elif wanted.strip().lower() in lowered:
        index = lowered.index(wanted.strip().lower())
    else:
        by_name = names != [str(i) for i in range(len(names))]
        listed = f" or {', '.join(names)}" if by_name else ""
        raise DatasetError(
            f"Option class={wanted} in '{_shown(spec)}' names no class of "
            f"{dataset.name}; valid classes are 0..{len(names) - 1}{listed}."
        )
    rows = np.flatnonzero(dataset.y == index)
    if not len(rows):
        raise DatasetError(
            f"Option class={wanted} in '{_shown(spec)}' selects no samples: "
            f"{dataset.name} holds no {names[index]!r}."
        )
    return dataset.subset(rows, f"{dataset.name}, class {names[index]}")


def _delimiter(text: str) -> str | None:
    if text.lower() in _DELIMITERS:
        return _DELIMITERS[text.lower()]
    return text if len(text) == 1 else None


def _read(kind: str, path: Path, options: dict[str, str]) -> Dataset:
    if kind == "idx":
        return load_idx(path, split=options.get("split"))
    if kind == "npz":
        return read_npz(path, split=options.get("split"), task=options.get("task"))
    header = options.get("header")
    delimiter = options.get("delimiter")
    if "series" in options:
        return read_csv_series(
            path,
            series=[c for c in options["series"].split("+") if c.strip()],
            window=int(options["window"]),
            horizon=int(options.get("horizon", 1)),
            target=options.get("target"),
            header=None if header is None else _BOOLS[header.lower()],
            delimiter=None if delimiter is None else _delimiter(delimiter),
        )
    return read_csv(
        path,
        target=options.get("target"),
        task=options.get("task"),
        header=None if header is None else _BOOLS[header.lower()],
        delimiter=None if delimiter is None else _delimiter(delimiter),
        max_classes=int(options.get("max_classes", 20)),
    )
