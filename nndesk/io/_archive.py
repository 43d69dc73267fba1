"""Bounded, checked reading of untrusted zip archives, JSON members and .npz arrays.

Everything here assumes the bytes were written by an enemy: sizes in headers may
lie, members may overlap (the trick behind non-recursive zip bombs), JSON may be
nested a million levels deep and an .npy header may promise a terabyte. Each check
runs before the allocation it protects, and every refusal is one ``FileFormatError``
whose message starts with the ``where`` the caller passes ("spiral.nndesk" or
"spiral.nndesk: weights.npz").

Python 3.11's ``zipfile`` checks neither member overlap nor declared sizes against
the directory, so this module reads the end record and every local header itself
before trusting ``zipfile`` with the rest (decompression, CRC checks).
"""

from __future__ import annotations

import io
import json
import os
import stat
import struct
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from ._zipcheck import (
    READ_ERRORS,
    EntryProblem,
    NpyVersionError,
    RatioLimit,
    declared_nbytes,
    entry_problem,
    find_end_record,
    npy_dtype_problem,
    read_npy_header,
    reason,
    zip64_locator_offset,
)
from .errors import FileFormatError

__all__ = [
    "ZipLimits",
    "checked_zip",
    "open_checked_file",
    "parse_json",
    "read_member",
    "read_npz",
]

_LOCAL = struct.Struct("<4s5H3L2H")  # local file header (30 bytes)
_LOCAL_SIG = b"PK\x03\x04"
_READ_CHUNK = 1 << 20


@dataclass(frozen=True)
class ZipLimits:
    """What an archive may hold before it is refused unread.

    Attributes
    ----------
    max_members : int
        Entries in the central directory.
    max_directory_size : int
        Bytes of the central directory (bounds what ``zipfile`` parses).
    max_member_size : int
        Uncompressed bytes of one member.
    max_total_size : int
        Uncompressed bytes of all members together.
    max_ratio : float
        Largest uncompressed/compressed size ratio of a member bigger than
        ``ratio_floor`` (deflate cannot exceed about 1030; bombs sit near that).
    ratio_floor : int
        Members up to this many uncompressed bytes may compress any amount.
    """

    max_members: int
    max_directory_size: int
    max_member_size: int
    max_total_size: int
    max_ratio: float = 100.0
    ratio_floor: int = 1 << 20


def fail(where: str, predicate: str) -> FileFormatError:
    """``FileFormatError("<where> <predicate>")``: the one way messages are built."""
    return FileFormatError(f"{where} {predicate}")


# --- opening --------------------------------------------------------------------------


@contextmanager
def open_checked_file(
    path: Path, where: str, limits: ZipLimits, max_file_size: int
) -> Iterator[zipfile.ZipFile]:
    """Open a file on disk as a checked zip archive (see ``checked_zip``).

    Raises
    ------
    FileFormatError
        When the path is missing, a folder, not a regular file, empty, too large,
        unreadable, or fails any archive check.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise fail(where, "does not exist.") from None
    except OSError as exc:
        raise fail(where, f"cannot be read: {exc.strerror or exc}.") from None
    if stat.S_ISDIR(info.st_mode):
        raise fail(where, "is a folder, not a network file.")
    if not stat.S_ISREG(info.st_mode):
        raise fail(where, "is not a regular file.")
    if info.st_size == 0:
        raise fail(where, "is empty.")
    if info.st_size > max_file_size:
        raise fail(
            where,
            f"is {info.st_size:,} bytes; nndesk opens network files of up to "
            f"{max_file_size:,} bytes.",
        )
    try:
        fp = open(path, "rb")
    except OSError as exc:
        raise fail(where, f"cannot be read: {exc.strerror or exc}.") from None
    with fp:
        # The size the checks use must be the size of what we read, not a stale stat.
        size = os.fstat(fp.fileno()).st_size
        with checked_zip(fp, size, where, limits) as archive:
            yield archive


@contextmanager
def checked_zip(
    fp: IO[bytes], size: int, where: str, limits: ZipLimits
) -> Iterator[zipfile.ZipFile]:
    """A ``ZipFile`` over ``fp`` whose layout passed every check.

    Checked before ``zipfile`` parses anything: a plain end record (no comment, no
    ZIP64, one disk) closing the file right after the directory, member count and
    directory size. Checked after: member names (duplicates, absolute or ``..``
    paths), encryption, compression method, declared sizes against ``limits``,
    compression ratio, and that the members' local headers and data lie inside the
    file, before the directory, without overlapping.

    Raises
    ------
    FileFormatError
        Naming ``where`` and the first problem found.
    """
    try:
        count, directory_offset = _end_record(fp, size, where, limits)
        archive = zipfile.ZipFile(fp)
    except FileFormatError:
        raise
    except READ_ERRORS as exc:
        raise fail(where, f"is not a readable zip archive ({reason(exc)}).") from None
    with archive:
        infos = archive.infolist()
        if len(infos) != count:
            raise fail(where, "has a zip directory that disagrees with its end record.")
        _check_members(fp, infos, directory_offset, where, limits)
        yield archive


def _end_record(
    fp: IO[bytes], size: int, where: str, limits: ZipLimits
) -> tuple[int, int]:
    """Entry count and directory offset from the end record, after checking it."""
    not_zip = "is not a zip archive, or it is truncated or has data appended."
    # zipfile takes an end record with an empty comment at the very end as it is,
    # so insisting on that layout guarantees both of us read the same record.
    record = find_end_record(fp, size, max_comment=0)
    if record is None or record.comment_length != 0:
        raise fail(where, not_zip)
    count, cd_size, cd_offset = (
        record.entries,
        record.directory_size,
        record.directory_offset,
    )
    if record.disk != 0 or record.directory_disk != 0 or record.disk_entries != count:
        raise fail(where, "is a multi-part zip archive, which nndesk does not read.")
    if zip64_locator_offset(fp, record) is not None:
        raise fail(where, "uses ZIP64 records, which nndesk files never need.")
    if count > limits.max_members:
        raise fail(
            where,
            f"has {count:,} zip entries; at most {limits.max_members:,} are read.",
        )
    if cd_size > limits.max_directory_size:
        raise fail(
            where, f"has a zip directory of {cd_size:,} bytes, which is too large."
        )
    if cd_offset + cd_size != record.offset:
        raise fail(
            where, "has its zip directory in the wrong place (corrupt or truncated)."
        )
    return count, cd_offset


def _check_members(
    fp: IO[bytes],
    infos: list[zipfile.ZipInfo],
    directory_offset: int,
    where: str,
    limits: ZipLimits,
) -> None:
    seen: set[str] = set()
    spans: list[tuple[int, int, str]] = []
    total = 0
    for info in infos:
        name = info.filename
        if name in seen:
            raise fail(where, f"has two members named {name!r}.")
        seen.add(name)
        if is_unsafe_name(info.orig_filename):
            raise fail(
                where, f"has a member with the unsafe path {info.orig_filename!r}."
            )
        _check_member_sizes(info, where, limits)
        total += info.file_size
        if total > limits.max_total_size:
            raise fail(
                where,
                f"would unpack to more than {limits.max_total_size:,} bytes, "
                "which is too large.",
            )
        start, end = _member_span(fp, info, where)
        if end > directory_offset:
            raise fail(where, f"has member {name!r} running into the zip directory.")
        spans.append((start, end, name))
    spans.sort()
    for (_, end, first), (start, _, second) in zip(spans, spans[1:], strict=False):
        if start < end:
            raise fail(
                where,
                f"has members {first!r} and {second!r} that overlap (a zip bomb trick).",
            )


def _check_member_sizes(info: zipfile.ZipInfo, where: str, limits: ZipLimits) -> None:
    ratio = RatioLimit(limits.max_ratio, floor=limits.ratio_floor)
    problem = entry_problem(info, ratio, max_size=limits.max_member_size)
    if problem is None:
        return
    name = info.filename
    predicate = {
        EntryProblem.ENCRYPTED: f"has the encrypted member {name!r}.",
        EntryProblem.METHOD: (
            f"has member {name!r} compressed with zip method {info.compress_type}; "
            "only stored and deflated members are read."
        ),
        EntryProblem.TOO_LARGE: (
            f"has member {name!r} of {info.file_size:,} bytes; at most "
            f"{limits.max_member_size:,} are read."
        ),
        EntryProblem.STORED_SIZES: (
            f"has the stored member {name!r} with inconsistent sizes."
        ),
        EntryProblem.RATIO: (
            f"has member {name!r} that would expand {info.file_size:,} bytes from "
            f"{info.compress_size:,} (a zip bomb)."
        ),
    }[problem]
    raise fail(where, predicate)


def _member_span(fp: IO[bytes], info: zipfile.ZipInfo, where: str) -> tuple[int, int]:
    """Byte range of a member's local header and data, read from the local header."""
    fp.seek(info.header_offset)
    raw = fp.read(_LOCAL.size)
    if len(raw) != _LOCAL.size or raw[:4] != _LOCAL_SIG:
        raise fail(where, f"has a broken local header for member {info.filename!r}.")
    fields = _LOCAL.unpack(raw)
    name_len, extra_len = fields[-2], fields[-1]
    start = info.header_offset
    return start, start + _LOCAL.size + name_len + extra_len + info.compress_size


def is_unsafe_name(name: str) -> bool:
    """Whether a member name is absolute, has a drive, ``..``, a backslash or NUL.

    nndesk never extracts members to disk, but a file holding such names was not
    written by nndesk and deserves to be named for what it is.
    """
    parts = name.split("/")
    return (
        name == ""
        or name.startswith("/")
        or "\\" in name
        or "\x00" in name
        or (len(name) >= 2 and name[1] == ":")
        or ".." in parts
    )


# --- reading members ------------------------------------------------------------------


def read_member(archive: zipfile.ZipFile, name: str, where: str, cap: int) -> bytes:
    """The bytes of one member, refusing more than ``cap`` whatever headers claim.

    Raises
    ------
    FileFormatError
        For a member over the cap, a CRC error, or data shorter than declared.
    """
    info = archive.getinfo(name)
    if info.file_size > cap:
        raise fail(
            where,
            f"has member {name!r} of {info.file_size:,} bytes; at most {cap:,} are read.",
        )
    # Grown chunk by chunk, not allocated from the size the directory claims, so
    # memory follows the bytes really there (a deflated member may claim 100x them).
    chunks: list[bytes] = []
    got = 0
    try:
        with archive.open(info) as stream:
            while got <= cap:
                chunk = stream.read(min(_READ_CHUNK, cap + 1 - got))
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
    except READ_ERRORS as exc:
        raise fail(where, f"has a damaged member {name!r} ({reason(exc)}).") from None
    if got != info.file_size:
        raise fail(where, f"has a damaged member {name!r} (its size is wrong).")
    return b"".join(chunks)


def parse_json(data: bytes, where: str, max_depth: int) -> Any:
    """Parse UTF-8 JSON strictly: no NaN/Infinity, no duplicate keys, bounded depth.

    The size is bounded by the caller (``read_member``'s cap) before this runs.

    Raises
    ------
    FileFormatError
        Saying what is wrong and where (line and column for syntax errors).
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(where, f"is not UTF-8 text (byte {exc.start}).") from None
    try:
        value = json.loads(
            text, object_pairs_hook=_unique_keys, parse_constant=_no_constant
        )
    except RecursionError:
        raise fail(where, f"is nested more than {max_depth} levels deep.") from None
    except json.JSONDecodeError as exc:
        # Some of json's messages end in "at" ("Unterminated string starting at"):
        # one "at" before the place, not "starting at at line 75".
        what = exc.msg.removesuffix(" at")
        raise fail(
            where,
            f"is not valid JSON ({what} at line {exc.lineno}, column {exc.colno}).",
        ) from None
    except ValueError as exc:  # duplicate keys, NaN, integers of 4300+ digits
        raise fail(where, f"is not valid JSON ({reason(exc)}).") from None
    if _depth(value) > max_depth:
        raise fail(where, f"is nested more than {max_depth} levels deep.")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


def _no_constant(token: str) -> Any:
    raise ValueError(f"{token} is not a JSON number")


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            items: Any = item.values()
        elif isinstance(item, list):
            items = item
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in items)
    return deepest


def read_npz(
    data: bytes, where: str, limits: ZipLimits, max_ndim: int = 32
) -> dict[str, np.ndarray]:
    """Arrays of an .npz archive, loaded with ``allow_pickle=False`` after checks.

    The archive gets the ``checked_zip`` checks; then every member must be a
    ``<key>.npy`` of format 1.0 or 2.0 whose header declares a plain numeric dtype
    (no objects, no records) and exactly as many data bytes as the member holds.
    Only then does ``np.load`` materialise anything.

    Returns
    -------
    dict[str, np.ndarray]
        Arrays by key (member name without ``.npy``), in archive order.

    Raises
    ------
    FileFormatError
        Naming ``where`` and the array at fault.
    """
    with checked_zip(io.BytesIO(data), len(data), where, limits) as archive:
        names = [info.filename for info in archive.infolist()]
        for info in archive.infolist():
            _check_npy_member(archive, info, where, max_ndim)
    if not names:
        return {}
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {name[: -len(".npy")]: npz[name] for name in names}
    except READ_ERRORS as exc:
        raise fail(where, f"has a damaged array ({reason(exc)}).") from None


def _check_npy_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, max_ndim: int
) -> None:
    name = info.filename
    if not name.endswith(".npy") or name == ".npy":
        raise fail(where, f"holds {name!r}, which is not an array (.npy) member.")
    key = name[: -len(".npy")]
    try:
        with archive.open(info) as stream:
            version = np.lib.format.read_magic(stream)
            shape, _, dtype = read_npy_header(stream, version)
            header_size = stream.tell()
    except NpyVersionError as exc:
        major, minor = exc.version
        raise fail(
            where,
            f"stores {key!r} in .npy format {major}.{minor}, which nndesk does not "
            "read.",
        ) from None
    except READ_ERRORS as exc:
        raise fail(where, f"has a damaged array {key!r} ({reason(exc)}).") from None
    _check_npy_header(key, shape, dtype, info.file_size - header_size, where, max_ndim)


def _check_npy_header(
    key: str,
    shape: tuple[int, ...],
    dtype: np.dtype,
    size: int,
    where: str,
    max_ndim: int,
) -> None:
    problem = npy_dtype_problem(dtype, "biuf")
    if problem == "objects":
        raise fail(
            where, f"stores {key!r} as Python objects, which nndesk never loads."
        )
    if problem == "kind":
        raise fail(
            where, f"stores {key!r} as {dtype}, which is not a plain number type."
        )
    if len(shape) > max_ndim or any(d < 0 for d in shape):
        raise fail(where, f"declares {key!r} with the impossible shape {shape}.")
    needed = declared_nbytes(shape, dtype)
    if needed != size:
        raise fail(
            where,
            f"declares {key!r} as {dtype} of shape {shape} ({needed:,} bytes) but "
            f"stores {size:,} bytes.",
        )
