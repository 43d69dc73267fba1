"""Zip and .npy checks shared by the project-file and .npz-dataset readers.

Both readers treat their input as hostile; what they check is the same, what they
refuse and how they say so is not. So this module answers questions (which end
record, which problem with a member, how many bytes a header declares) and raises
no user-facing error itself: each caller turns an answer into its own
``FileFormatError`` or ``DatasetError`` with its own wording and limits.
"""

from __future__ import annotations

import enum
import math
import struct
import tokenize
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from typing import IO

import numpy as np

__all__ = [
    "READ_ERRORS",
    "ZIP_ERRORS",
    "EndRecord",
    "EntryProblem",
    "NpyVersionError",
    "RatioLimit",
    "declared_nbytes",
    "entry_problem",
    "fill",
    "find_end_record",
    "npy_dtype_problem",
    "read_into",
    "read_npy_header",
    "reason",
    "zip64_entry_count",
    "zip64_locator_offset",
]

# Everything zipfile, zlib and numpy's header parser raise on malformed input.
# NotImplementedError (an unknown compression method) and zipfile's "password
# required" are RuntimeErrors; numpy re-tokenizes .npy headers it cannot parse.
READ_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    struct.error,
    RuntimeError,
    KeyError,
    IndexError,
    OverflowError,
    TypeError,
    SyntaxError,
    RecursionError,
    tokenize.TokenError,
)
# The subset that means the zip data itself is damaged (not an .npy header in it).
ZIP_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    OSError,
    struct.error,
    RuntimeError,
)

_EOCD = struct.Struct("<4s4H2LH")  # end of central directory record (22 bytes)
_EOCD_SIG = b"PK\x05\x06"
_ZIP64_LOCATOR = struct.Struct("<4sLQL")  # 20 bytes, right before the end record
_ZIP64_LOCATOR_SIG = b"PK\x06\x07"
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_ZIP64_EOCD_SIG = b"PK\x06\x06"
_ENCRYPTED = 0x1
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_MAX_NPY_HEADER = 10_000  # numpy's own default limit on a header's length


# --- the end of central directory record ----------------------------------------------


@dataclass(frozen=True)
class EndRecord:
    """The fields of a zip end record and where it starts in the file."""

    offset: int
    disk: int
    directory_disk: int
    disk_entries: int
    entries: int
    directory_size: int
    directory_offset: int
    comment_length: int


def find_end_record(fp: IO[bytes], size: int, max_comment: int) -> EndRecord | None:
    """The last end record among the final ``22 + max_comment`` bytes, or None.

    With ``max_comment=0`` only a record starting exactly 22 bytes before ``size``
    is found (the layout ``zipfile`` takes as it is); the comment length it
    declares is the caller's to check. None also when the last signature found
    leaves no room for a whole record.
    """
    tail_size = min(size, _EOCD.size + max_comment)
    fp.seek(size - tail_size)
    tail = fp.read(tail_size)
    if max_comment == 0:
        at = 0 if len(tail) == _EOCD.size and tail[:4] == _EOCD_SIG else -1
    else:
        at = tail.rfind(_EOCD_SIG)  # zipfile's own search when a comment may follow
    if at < 0 or at + _EOCD.size > len(tail):
        return None
    _sig, *fields = _EOCD.unpack_from(tail, at)
    return EndRecord(size - tail_size + at, *fields)


def zip64_locator_offset(fp: IO[bytes], record: EndRecord) -> int | None:
    """Offset of the ZIP64 end record a ZIP64 locator before ``record`` names.

    None when no locator signature sits right before the end record.
    """
    if record.offset < _ZIP64_LOCATOR.size:
        return None
    fp.seek(record.offset - _ZIP64_LOCATOR.size)
    raw = fp.read(_ZIP64_LOCATOR.size)
    if len(raw) != _ZIP64_LOCATOR.size or raw[:4] != _ZIP64_LOCATOR_SIG:
        return None
    return int(_ZIP64_LOCATOR.unpack(raw)[2])


def zip64_entry_count(fp: IO[bytes], record: EndRecord, size: int) -> int | None:
    """Total entries of the ZIP64 end record behind ``record`` (None if absent)."""
    offset = zip64_locator_offset(fp, record)
    if offset is None or offset + _ZIP64_EOCD.size > size:
        return None
    fp.seek(offset)
    raw = fp.read(_ZIP64_EOCD.size)
    if len(raw) != _ZIP64_EOCD.size or raw[:4] != _ZIP64_EOCD_SIG:
        return None
    return int(_ZIP64_EOCD.unpack(raw)[7])  # entries in total


# --- members as the directory describes them ------------------------------------------


class EntryProblem(enum.Enum):
    """What is wrong with a member's directory entry, checked in this order."""

    ENCRYPTED = "encrypted"
    METHOD = "method"  # neither stored nor deflated
    TOO_LARGE = "too large"  # more uncompressed bytes than the caller reads
    STORED_SIZES = "stored sizes"  # stored, but the two sizes differ
    RATIO = "ratio"  # expands more than the caller's ratio limit allows


@dataclass(frozen=True)
class RatioLimit:
    """A member may hold at most ``max_ratio * compressed + slack`` bytes, unless it
    holds no more than ``floor`` bytes."""

    max_ratio: float
    floor: int = 0
    slack: int = 0

    def exceeded(self, file_size: int, compress_size: int) -> bool:
        return (
            file_size > self.floor
            and file_size > self.max_ratio * compress_size + self.slack
        )


def entry_problem(
    info: zipfile.ZipInfo, ratio: RatioLimit, max_size: int | None = None
) -> EntryProblem | None:
    """The first problem of a member's directory entry, before any byte is read."""
    if info.flag_bits & _ENCRYPTED:
        return EntryProblem.ENCRYPTED
    if info.compress_type not in _METHODS:
        return EntryProblem.METHOD
    if max_size is not None and info.file_size > max_size:
        return EntryProblem.TOO_LARGE
    if (
        info.compress_type == zipfile.ZIP_STORED
        and info.compress_size != info.file_size
    ):
        return EntryProblem.STORED_SIZES
    if ratio.exceeded(info.file_size, info.compress_size):
        return EntryProblem.RATIO
    return None


# --- .npy headers ---------------------------------------------------------------------


class NpyVersionError(ValueError):
    """An .npy format other than 1.0 and 2.0."""

    def __init__(self, version: tuple[int, int]) -> None:
        super().__init__(f".npy format {version[0]}.{version[1]} is not read")
        self.version = version


def read_npy_header(
    stream: IO[bytes], version: tuple[int, int]
) -> tuple[tuple[int, ...], bool, np.dtype]:
    """Shape, Fortran order and dtype of the .npy header after the magic bytes.

    The header text is bounded (numpy's default 10,000 bytes) and parsed without
    unpickling; numpy's literal parser may warn about odd escapes in a damaged
    header, which is ignored since the error that follows is what matters.

    Raises
    ------
    NpyVersionError
        For a format other than 1.0 and 2.0 (a ``ValueError``).
    Exception
        Any of ``READ_ERRORS`` for a damaged header or stream.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if version == (1, 0):
            header = np.lib.format.read_array_header_1_0(stream, _MAX_NPY_HEADER)
        elif version == (2, 0):
            header = np.lib.format.read_array_header_2_0(stream, _MAX_NPY_HEADER)
        else:
            raise NpyVersionError(version)
    shape, fortran_order, dtype = header
    return shape, fortran_order, dtype


def npy_dtype_problem(dtype: np.dtype, kinds: str) -> str | None:
    """``"objects"`` for a dtype holding Python objects, ``"kind"`` for a record,
    sub-array or a kind outside ``kinds``; None for a dtype the caller reads."""
    if dtype.hasobject:
        return "objects"
    if (
        dtype.fields is not None
        or dtype.subdtype is not None
        or dtype.kind not in kinds
    ):
        return "kind"
    return None


def declared_nbytes(shape: tuple[int, ...], dtype: np.dtype) -> int:
    """Bytes an .npy header declares, in Python integers so a hostile shape cannot
    overflow into a plausible size."""
    return math.prod(int(d) for d in shape) * dtype.itemsize


# --- reading --------------------------------------------------------------------------


def read_into(stream: IO[bytes], view: memoryview, chunk: int) -> int:
    """Fill ``view`` from ``stream`` in reads of at most ``chunk`` bytes; the bytes
    filled (fewer when the stream ends first)."""
    got = 0
    total = len(view)
    while got < total:
        data = stream.read(min(chunk, total - got))
        if not data:
            break
        view[got : got + len(data)] = data
        got += len(data)
    return got


def fill(stream: IO[bytes], view: memoryview, chunk: int) -> tuple[int, bool]:
    """``read_into``, and whether the stream holds more.

    Reading on to the end of a ``zipfile`` member is what runs its CRC check. For
    a buffer sized after a memory check (the NPZ reader); ``_archive.read_member``
    grows its own instead, so memory follows the bytes a member really has.
    """
    got = read_into(stream, view, chunk)
    return got, bool(stream.read(1))


def reason(
    exc: BaseException, *, max_length: int | None = None, token_message: bool = False
) -> str:
    """An exception's text for a message: stripped, without its final period.

    ``token_message`` keeps only the message of a tokenizer error (its args are a
    (message, position) pair); ``max_length`` cuts long texts with ``...``.
    """
    first: object = exc
    if token_message and isinstance(exc, tokenize.TokenError) and exc.args:
        first = exc.args[0]
    text = str(first).strip().rstrip(".")
    if max_length is not None and len(text) > max_length:
        text = text[: max_length - 3] + "..."
    return text or type(exc).__name__
