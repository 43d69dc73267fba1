"""Read and write datasets as NumPy .npz archives, never unpickling anything.

Layout: ``x`` (features, ``(n, ...)``, any real numeric dtype) and ``y`` (targets),
optionally ``class_names`` and ``feature_names`` (1-D string arrays) and ``task``
(a 0-d string array). Keras-style archives with ``x_train``/``y_train``/
``x_test``/``y_test`` are read too, choosing the part with ``split``. Without a
``task`` entry, integer or boolean ``y`` means classification and float ``y``
regression. Values are cast to float32 as they are (no scaling).

The archive is read as if an enemy wrote it, and nothing is allocated from a size
that has not been checked: the zip directory's entry count is read from the end
record before ``zipfile`` parses the directory; each ``.npy`` header is parsed on its
own (bounded length, no objects) and the bytes it declares must equal the member's
uncompressed size in the zip directory, which in turn cannot exceed what deflate can
expand the compressed bytes to; the memory the prepared dataset needs is checked
against the memory available (``nndesk.engine.memory.check_fits``); only then is
each array filled from the member in bounded chunks, with zip's CRC check at its
end. Every failure of ``zipfile``, ``zlib`` or NumPy's header parser becomes one
``DatasetError`` naming the file and member.
"""

from __future__ import annotations

import math
import os
import stat
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from ...engine.memory import MemoryBudget, check_fits
from .._zipcheck import (
    READ_ERRORS,
    ZIP_ERRORS,
    EntryProblem,
    RatioLimit,
    declared_nbytes,
    entry_problem,
    fill,
    find_end_record,
    npy_dtype_problem,
    read_npy_header,
    reason,
    zip64_entry_count,
)
from ..errors import DatasetError
from .base import (
    CLASSIFICATION,
    REGRESSION,
    TASKS,
    Dataset,
    class_names_from_labels,
    stat_path,
)

__all__ = ["MAX_NPZ_MEMBERS", "read_npz", "save_npz"]

_SPLITS = ("train", "test")

MAX_NPZ_MEMBERS = 1000
"""Most entries an .npz dataset's zip directory may list (a dataset uses up to 9)."""

_NPY_MAGIC = b"\x93NUMPY"
# Deflate expands at most about 1032:1; 1 KiB of slack covers tiny members.
_DEFLATE_LIMIT = RatioLimit(max_ratio=1032, slack=1024)
_CHUNK = 1 << 22
_MAX_COMMENT = 0xFFFF  # an .npz may end with a zip comment; zipfile reads it
_ARRAY_KINDS = "biufcUS"  # numbers and strings


@dataclass(frozen=True)
class _Member:
    """One ``.npy`` member whose header passed the checks."""

    key: str
    info: zipfile.ZipInfo
    dtype: np.dtype
    shape: tuple[int, ...]
    fortran_order: bool
    header_size: int

    @property
    def count(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return declared_nbytes(self.shape, self.dtype)


def read_npz(
    path: str | Path,
    *,
    split: str | None = None,
    task: str | None = None,
    budget: MemoryBudget | None = None,
) -> Dataset:
    """Read a dataset from the .npz archive ``path``.

    Parameters
    ----------
    path : str or Path
    split : {"train", "test"}, optional
        For archives holding ``x_train``/``x_test``: which part (default "train").
        Giving it for an archive with plain ``x``/``y`` is an error.
    task : {"classification", "regression"}, optional
        Overrides the task stored in or guessed from the archive.
    budget : MemoryBudget, optional
        The memory the data may use (default: ``memory_budget()`` now).

    Returns
    -------
    Dataset

    Raises
    ------
    DatasetError
        For a missing or corrupt file (naming the member), a malformed .npy header,
        a header that declares more data than its member holds, object (pickled)
        arrays, missing keys, bad shapes or dtypes, or labels out of range.
    ResourceError
        When the prepared data would not fit in the memory available.
    """
    path = Path(path)
    if task is not None and task not in TASKS:
        raise DatasetError(
            f"Unknown task {task!r}; valid tasks are {', '.join(TASKS)}."
        )
    arrays, (x_key, y_key) = _load(path, split, budget)
    x = arrays[x_key]
    y = arrays[y_key]
    stored_task = _text(path, arrays, "task")
    if task is None:
        task = stored_task or (CLASSIFICATION if y.dtype.kind in "biu" else REGRESSION)
    if task not in TASKS:
        raise DatasetError(
            f"{path.name} stores task {task!r}; valid tasks are {', '.join(TASKS)}."
        )
    if x.dtype.kind not in "biuf":
        raise DatasetError(
            f"{path.name} array '{x_key}' has dtype {x.dtype}; real numbers are needed."
        )
    if y.dtype.kind not in "biuf":
        raise DatasetError(
            f"{path.name} array '{y_key}' has dtype {y.dtype}; numbers are needed."
        )
    if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
        raise DatasetError(
            f"{path.name} arrays '{x_key}' {x.shape} and '{y_key}' {y.shape} need the "
            "same number of rows."
        )
    class_names = _names(path, arrays, "class_names")
    if task == REGRESSION:
        class_names = None
    elif class_names is None and x_key != "x":
        class_names = _shared_class_names(path, arrays)
    feature_names = _names(path, arrays, "feature_names")
    part = "" if x_key == "x" else f" ({x_key.split('_')[1]})"
    return Dataset(
        x=x,
        y=y,
        task=task,
        class_names=class_names,
        feature_names=feature_names,
        name=path.name + part,
        source=str(path) + (f":split={x_key.split('_')[1]}" if part else ""),
    )


def save_npz(dataset: Dataset, path: str | Path) -> None:
    """Write ``dataset`` to ``path`` as a compressed .npz that :func:`read_npz` reads.

    The file is written to a temporary name in the same folder and then moved into
    place, so an interrupted save never leaves a half-written file.
    """
    path = Path(path)
    arrays: dict[str, np.ndarray] = {
        "x": dataset.x,
        "y": dataset.y,
        "task": np.array(dataset.task),
    }
    if dataset.class_names is not None:
        arrays["class_names"] = np.array(dataset.class_names, dtype=str)
    if dataset.feature_names is not None:
        arrays["feature_names"] = np.array(dataset.feature_names, dtype=str)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load(
    path: Path, split: str | None, budget: MemoryBudget | None
) -> tuple[dict[str, np.ndarray], tuple[str, str]]:
    """The arrays a dataset needs and its (x, y) keys, read after every check."""
    info = stat_path(path, f"Dataset file {path}")
    if info is None:
        raise DatasetError(f"Dataset file {path} does not exist.")
    if stat.S_ISDIR(info.st_mode):
        raise DatasetError(f"Dataset path {path} is a folder, not an .npz archive.")
    try:
        fp = open(path, "rb")
    except OSError as exc:
        raise DatasetError(
            f"Dataset file {path} cannot be read: {exc.strerror or exc}."
        ) from None
    with fp:
        _refuse_single_npy(path, fp)
        count = _entry_count(path, fp, os.fstat(fp.fileno()).st_size)
        try:
            archive = zipfile.ZipFile(fp)
        except READ_ERRORS as exc:
            raise DatasetError(
                f"{path.name} is not a readable .npz archive ({_reason(exc)})."
            ) from None
        with archive:
            if count is not None and len(archive.infolist()) != count:
                raise DatasetError(
                    f"{path.name} is not a readable .npz archive (its zip directory "
                    f"holds {len(archive.infolist())} entries but its end record "
                    f"says {count})."
                )
            members = _members(path, archive)
            keys = _keys(path, members, split)
            wanted = _wanted(members, keys)
            check_fits(
                _prepared_size(members, keys, wanted),
                f"The data in {path.name}",
                budget,
            )
            arrays = {key: _read_array(path, archive, members[key]) for key in wanted}
    return arrays, keys


def _refuse_single_npy(path: Path, fp: IO[bytes]) -> None:
    if fp.read(len(_NPY_MAGIC)) != _NPY_MAGIC:
        fp.seek(0)
        return
    fp.seek(0)
    try:
        version = np.lib.format.read_magic(fp)
        _shape, _order, dtype = _read_header(fp, version)
    except READ_ERRORS as exc:
        raise DatasetError(
            f"{path.name} is not a readable .npz archive (a single .npy array with a "
            f"malformed header: {_reason(exc)})."
        ) from None
    if dtype.hasobject:
        # NumPy's loader once answered this; the message stays what it was.
        raise DatasetError(
            f"{path.name} is not a readable .npz archive (a single .npy array of "
            "Python objects, which nndesk does not load)."
        )
    raise DatasetError(
        f"{path.name} is a single .npy array, not an .npz archive with x and y."
    )


def _entry_count(path: Path, fp: IO[bytes], size: int) -> int | None:
    """The entry count of the zip end record (None without one), refused past
    ``MAX_NPZ_MEMBERS`` before ``zipfile`` builds an object for each entry."""
    record = find_end_record(fp, size, _MAX_COMMENT)
    if record is None:
        fp.seek(0)
        return None  # not a zip: zipfile says so in its own words
    count = record.entries
    if count == 0xFFFF:
        zip64_count = zip64_entry_count(fp, record, size)
        if zip64_count is not None:
            count = zip64_count
    fp.seek(0)
    if count > MAX_NPZ_MEMBERS:
        raise DatasetError(
            f"{path.name} lists {count:,} zip entries; an .npz dataset may hold at "
            f"most {MAX_NPZ_MEMBERS:,}."
        )
    return count


def _members(path: Path, archive: zipfile.ZipFile) -> dict[str, _Member]:
    """Every ``.npy`` member with a checked header, by key (name without .npy)."""
    members: dict[str, _Member] = {}
    for info in archive.infolist():
        name = info.filename
        if not name.endswith(".npy") or name.endswith("/"):
            continue  # not an array; np.load would hand it out as raw bytes
        key = name[: -len(".npy")]
        if key in members:
            raise DatasetError(
                f"{path.name} is corrupt: it holds two members {name!r}."
            )
        members[key] = _member(path, archive, info, key)
    return members


def _member(
    path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, key: str
) -> _Member:
    _check_zip_entry(path, info)
    where = f"{path.name} member {info.filename!r}"
    try:
        with archive.open(info) as stream:
            magic = stream.read(len(_NPY_MAGIC))
            if magic != _NPY_MAGIC:
                raise DatasetError(
                    f"{where} is not a .npy array (it does not start with the .npy "
                    "magic bytes)."
                )
            version = (stream.read(1) or b"\x00")[0], (stream.read(1) or b"\x00")[0]
            shape, fortran_order, dtype = _read_header(stream, version)
            header_size = stream.tell()
    except DatasetError:
        raise
    except ZIP_ERRORS as exc:
        raise _corrupt(path, info, exc) from None
    except READ_ERRORS as exc:
        raise DatasetError(
            f"{where} has a malformed .npy header ({_reason(exc)})."
        ) from None
    member = _Member(key, info, dtype, shape, fortran_order, header_size)
    _check_declared_size(path, member)
    return member


def _check_zip_entry(path: Path, info: zipfile.ZipInfo) -> None:
    """What the zip directory says about a member, before any byte of it is read."""
    problem = entry_problem(info, _DEFLATE_LIMIT)
    if problem is None:
        return
    where = f"{path.name} member {info.filename!r}"
    raise DatasetError(
        {
            EntryProblem.ENCRYPTED: (
                f"{where} is encrypted, which nndesk does not read."
            ),
            EntryProblem.METHOD: (
                f"{where} is corrupt or uses zip compression method "
                f"{info.compress_type}, which nndesk does not read (only stored and "
                "deflated members)."
            ),
            EntryProblem.STORED_SIZES: (
                f"{where} is corrupt: the zip directory gives it {info.file_size:,} "
                f"bytes stored in {info.compress_size:,}."
            ),
            EntryProblem.RATIO: (
                f"{where} is corrupt: the zip directory claims {info.file_size:,} "
                f"bytes from {info.compress_size:,} compressed bytes, more than "
                "deflate can produce."
            ),
        }[problem]
    )


def _read_header(
    stream: IO[bytes], version: tuple[int, int]
) -> tuple[tuple[int, ...], bool, np.dtype]:
    """Shape, order and dtype of a .npy header (format 1.0 or 2.0), checked."""
    shape, fortran_order, dtype = read_npy_header(stream, version)
    if any(d < 0 for d in shape):
        raise ValueError(f"the shape {_shape_text(shape)} has a negative dimension")
    return tuple(int(d) for d in shape), bool(fortran_order), dtype


def _check_declared_size(path: Path, member: _Member) -> None:
    where = f"{path.name} array '{member.key}'"
    dtype = member.dtype
    problem = npy_dtype_problem(dtype, _ARRAY_KINDS)
    if problem == "objects":
        # NumPy refuses object arrays without allow_pickle; unpickling could run code.
        raise DatasetError(
            f"{where} holds Python objects (pickled data), which nndesk does not "
            "load; store numbers and strings only."
        )
    if problem == "kind":
        raise DatasetError(
            f"{where} has dtype {dtype}; nndesk reads arrays of numbers and strings "
            "only."
        )
    held = member.info.file_size - member.header_size
    if member.nbytes != held:
        raise DatasetError(
            f"{where} declares shape {_shape_text(member.shape)} of {dtype} "
            f"({member.nbytes:,} bytes) but its member holds {max(held, 0):,} bytes."
        )


def _wanted(members: dict[str, _Member], keys: tuple[str, str]) -> list[str]:
    """The members a dataset is made of: x, y, its descriptions, and for a split
    archive without class names the other split's labels (to share class names)."""
    wanted = [
        *keys,
        *(k for k in ("task", "class_names", "feature_names") if k in members),
    ]
    if keys[0] != "x" and "class_names" not in members:
        wanted += [
            f"y_{s}" for s in _SPLITS if f"y_{s}" in members and f"y_{s}" != keys[1]
        ]
    return wanted


def _prepared_size(
    members: dict[str, _Member], keys: tuple[str, str], wanted: Iterable[str]
) -> int:
    """Bytes of the arrays as read plus the float32 features, the targets as
    int64 (or float32) and the finiteness masks the Dataset builds from them."""
    x, y = members[keys[0]], members[keys[1]]
    raw = sum(members[k].nbytes for k in wanted)
    return raw + x.count * (4 + 1) + y.count * (8 + 1)


def _read_array(path: Path, archive: zipfile.ZipFile, member: _Member) -> np.ndarray:
    """The array of a checked member, filled in bounded chunks (CRC checked)."""
    flat = np.empty(member.count, dtype=member.dtype)
    view = memoryview(flat.view(np.uint8)) if member.nbytes else memoryview(b"")
    try:
        with archive.open(member.info) as stream:
            stream.read(member.header_size)
            got, extra = fill(stream, view, _CHUNK)  # reads on to the CRC check
    except READ_ERRORS as exc:
        raise _corrupt(path, member.info, exc) from None
    if got != member.nbytes or extra:
        raise DatasetError(
            f"{path.name} is corrupt: member {member.info.filename!r} holds "
            f"{'fewer' if got < member.nbytes else 'more'} bytes than its header "
            "declares."
        )
    if member.fortran_order:
        return flat.reshape(member.shape[::-1]).transpose()
    return flat.reshape(member.shape)


def _corrupt(path: Path, info: zipfile.ZipInfo, exc: BaseException) -> DatasetError:
    return DatasetError(
        f"{path.name} is corrupt: member {info.filename!r} cannot be read "
        f"({_reason(exc)})."
    )


def _shared_class_names(path: Path, arrays: dict[str, np.ndarray]) -> list[str] | None:
    """Class names from the labels of every split, so train and test agree."""
    labels = [arrays[f"y_{s}"] for s in _SPLITS if f"y_{s}" in arrays]
    if any(y.dtype.kind not in "biu" or y.ndim != 1 for y in labels):
        return None  # the Dataset reports what is wrong with the labels it gets
    return class_names_from_labels(np.concatenate(labels), path.name)


def _shape_text(shape: tuple[int, ...]) -> str:
    if len(shape) <= 8:
        return str(shape)
    return f"({', '.join(map(str, shape[:4]))}, ... {len(shape)} dimensions)"


def _reason(exc: BaseException) -> str:
    # The tokenizer's error is a (message, position) pair; the message is the news.
    return reason(exc, max_length=120, token_message=True)


def _keys(path: Path, arrays: dict[str, _Member], split: str | None) -> tuple[str, str]:
    if split is not None and split not in _SPLITS:
        raise DatasetError(
            f"Unknown split {split!r} for {path.name}; valid splits are {', '.join(_SPLITS)}."
        )
    if "x" in arrays and "y" in arrays:
        if split is not None:
            raise DatasetError(
                f"{path.name} holds one dataset (x and y), so it has no '{split}' split."
            )
        return "x", "y"
    part = split or "train"
    x_key, y_key = f"x_{part}", f"y_{part}"
    if x_key in arrays and y_key in arrays:
        return x_key, y_key
    found = ", ".join(sorted(arrays)) or "nothing"
    raise DatasetError(
        f"{path.name} needs arrays 'x' and 'y' (or '{x_key}' and '{y_key}') but holds "
        f"{found}."
    )


def _text(path: Path, arrays: dict[str, np.ndarray], key: str) -> str | None:
    if key not in arrays:
        return None
    value = arrays[key]
    if value.ndim != 0 or value.dtype.kind not in "US":
        raise DatasetError(f"{path.name} entry '{key}' must be a single string.")
    return _strings(path, key, value)[0]


def _names(path: Path, arrays: dict[str, np.ndarray], key: str) -> list[str] | None:
    if key not in arrays:
        return None
    value = arrays[key]
    if value.ndim != 1 or value.dtype.kind not in "US":
        raise DatasetError(f"{path.name} entry '{key}' must be a 1-D array of strings.")
    return _strings(path, key, value)


def _strings(path: Path, key: str, value: np.ndarray) -> list[str]:
    """The texts of a string array, refusing bytes that are not text.

    UTF-32 code points past U+10FFFF (a byte-swapped header makes them) would
    crash the conversion to Python strings, so they are checked first.
    """
    flat = np.ascontiguousarray(value.reshape(-1))
    if flat.dtype.kind == "U" and flat.dtype.itemsize:
        codes = flat.astype(flat.dtype.newbyteorder("=")).view(np.uint32)
        if (codes > 0x10FFFF).any():
            raise DatasetError(
                f"{path.name} entry '{key}' holds characters that are not Unicode."
            )
    try:
        return [
            v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in flat.tolist()
        ]
    except UnicodeDecodeError as exc:
        raise DatasetError(
            f"{path.name} entry '{key}' holds bytes that are not UTF-8 text "
            f"(byte {exc.start} of one of its strings)."
        ) from None
