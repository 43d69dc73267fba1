"""Read MNIST-style IDX files (raw or gzip) and the standard four-file folders.

An IDX file is a 4-byte magic (two zero bytes, a data-type code, the rank), one
big-endian uint32 per dimension, then the values, big-endian. The header is
checked against the size of the file *before* anything large is allocated: a raw
file must hold exactly the bytes its header describes, and a gzip file cannot hold
more than deflate's maximum ratio (1032:1) allows, so a 1 KB file claiming 10^9
images is refused at once. A header that is consistent but large (a 1 MB gzip of
zeros holding a million images) is refused when the prepared data (the raw bytes
plus the float32 images) would not fit in the memory available
(``nndesk.engine.memory.check_fits``), before anything is decompressed. Data is
then read in bounded chunks into one buffer of the declared size.

:func:`load_idx` turns an image file and its label file into a Dataset: images
``(n, rows, cols)`` uint8 become float32 in [0, 1] (divided by 255), labels become
int64 class indices.
"""

from __future__ import annotations

import gzip
import logging
import math
import os
import stat
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ...engine.memory import MemoryBudget, check_fits
from .._zipcheck import read_into
from ..errors import DatasetError
from .base import CLASSIFICATION, Dataset, stat_path

log = logging.getLogger(__name__)

__all__ = [
    "DIGIT_CLASSES",
    "FASHION_CLASSES",
    "IDX_SPLITS",
    "load_idx",
    "read_idx_file",
    "read_idx_header",
    "write_idx_file",
]

FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
DIGIT_CLASSES = tuple(str(d) for d in range(10))
IDX_SPLITS = ("train", "test", "all")

# IDX data-type codes -> big-endian NumPy dtypes.
_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_MAX_RANK = 8
# Deflate cannot expand data by more than about 1032:1, so a gzip file of m bytes
# holds at most this many bytes once decompressed (plus a little slack for headers).
_GZIP_MAX_RATIO = 1032
_CHUNK = 1 << 22
_PREFIXES = {"train": ("train",), "test": ("t10k", "test")}


# --- one file ----------------------------------------------------------------------
@dataclass(frozen=True)
class _Header:
    """An IDX header checked against the size of its file."""

    dtype: np.dtype
    dims: tuple[int, ...]

    @property
    def count(self) -> int:
        return math.prod(self.dims)

    @property
    def payload(self) -> int:
        return self.count * self.dtype.itemsize

    @property
    def loaded_size(self) -> int:
        """Bytes ``read_idx_file`` holds at its peak: the raw data, plus a native
        copy when the values need a byte swap."""
        return self.payload * (1 if self.dtype.itemsize == 1 else 2)


def read_idx_file(
    path: str | Path, *, budget: MemoryBudget | None = None
) -> np.ndarray:
    """Read one IDX file (raw or gzip-compressed, detected from its content).

    Parameters
    ----------
    path : str or Path
    budget : MemoryBudget, optional
        The memory the data may use (default: ``memory_budget()`` now).

    Returns
    -------
    np.ndarray
        The array with the header's shape and native byte order (uint8 for
        MNIST images ``(n, 28, 28)`` and labels ``(n,)``).

    Raises
    ------
    DatasetError
        For a missing file, a bad magic number or type code, a header whose shape
        does not match the data, or a damaged gzip stream.
    ResourceError
        When the data would not fit in the memory available.
    """
    path = Path(path)
    with _opened(path) as (stream, header):
        check_fits(header.loaded_size, f"The data in {path.name}", budget)
        return _read_data(path, stream, header)


def read_idx_header(path: str | Path) -> tuple[np.dtype, tuple[int, ...]]:
    """The dtype and shape an IDX file's header declares, checked against the size
    of the file, without reading its data.

    Raises
    ------
    DatasetError
        As :func:`read_idx_file` does for the header.
    """
    with _opened(Path(path)) as (_stream, header):
        return header.dtype, header.dims


@contextmanager
def _opened(path: Path) -> Iterator[tuple[BinaryIO, _Header]]:
    """The file's data stream, positioned after a header that passed the checks."""
    info = stat_path(path, f"IDX file {path}")
    if info is None or stat.S_ISDIR(info.st_mode):
        what = "does not exist" if info is None else "is a folder, not an IDX file"
        raise DatasetError(f"IDX file {path} {what}.")
    try:
        with open(path, "rb") as raw:
            size = os.fstat(raw.fileno()).st_size
            compressed = raw.read(2) == b"\x1f\x8b"
            raw.seek(0)
            if compressed:
                with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                    yield stream, _checked_header(path, stream, size, compressed=True)
            else:
                yield raw, _checked_header(path, raw, size, compressed=False)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise DatasetError(f"{path.name} is a damaged gzip file ({exc}).") from None
    except OSError as exc:
        raise DatasetError(
            f"IDX file {path} cannot be read: {exc.strerror or exc}."
        ) from None


def _checked_header(
    path: Path, stream: BinaryIO, file_size: int, compressed: bool
) -> _Header:
    dtype, dims = _read_header(path, stream)
    header = _Header(dtype, dims)
    header_bytes = 4 + 4 * len(dims)
    if compressed:
        limit = file_size * _GZIP_MAX_RATIO + 1024
        if header_bytes + header.payload > limit:
            raise DatasetError(
                f"{path.name}: {_claim(header)}, more than a {file_size:,}-byte gzip "
                "file can hold."
            )
    elif header_bytes + header.payload != file_size:
        raise DatasetError(
            f"{path.name}: {_claim(header)} but the file holds "
            f"{file_size - header_bytes:,} data bytes."
        )
    return header


def _claim(header: _Header) -> str:
    shape_text = " x ".join(str(d) for d in header.dims) or "scalar"
    return (
        f"its header claims {shape_text} {header.dtype.name} values "
        f"({header.payload:,} bytes)"
    )


def _read_data(path: Path, stream: BinaryIO, header: _Header) -> np.ndarray:
    data = np.empty(header.payload, dtype=np.uint8)
    got = read_into(stream, memoryview(data), _CHUNK)
    if got < header.payload:
        raise DatasetError(
            f"{path.name}: {_claim(header)} but the file holds only {got:,} data bytes."
        )
    if stream.read(1):
        raise DatasetError(
            f"{path.name}: {_claim(header)} but the file holds more data than that."
        )
    array = data.view(header.dtype).reshape(header.dims)
    # uint8 needs no byte swap, so copy=False keeps the 47 MB of MNIST images uncopied.
    return array.astype(header.dtype.newbyteorder("="), copy=False)


def _read_header(path: Path, stream: BinaryIO) -> tuple[np.dtype, tuple[int, ...]]:
    magic = stream.read(4)
    if len(magic) < 4 or magic[0] != 0 or magic[1] != 0:
        raise DatasetError(
            f"{path.name} is not an IDX file (its first bytes are {magic.hex() or 'missing'}"
            ", not 0000 followed by a type code and a rank)."
        )
    code, rank = magic[2], magic[3]
    if code not in _DTYPES:
        valid = ", ".join(f"0x{c:02X}" for c in _DTYPES)
        raise DatasetError(
            f"{path.name} has IDX data-type code 0x{code:02X}; valid codes are {valid}."
        )
    if not 1 <= rank <= _MAX_RANK:
        raise DatasetError(
            f"{path.name} has IDX rank {rank}; 1..{_MAX_RANK} is supported."
        )
    raw_dims = stream.read(4 * rank)
    if len(raw_dims) < 4 * rank:
        raise DatasetError(
            f"{path.name} ends inside its IDX header ({rank} dimensions)."
        )
    dims = tuple(int(d) for d in np.frombuffer(raw_dims, dtype=">u4"))
    return np.dtype(_DTYPES[code]), dims


def write_idx_file(
    path: str | Path, array: np.ndarray, compress: bool | None = None
) -> None:
    """Write ``array`` as an IDX file that :func:`read_idx_file` reads back equal.

    Parameters
    ----------
    path : str or Path
    array : np.ndarray
        Of rank 1..8 and dtype uint8, int8, int16, int32, float32 or float64.
    compress : bool, optional
        gzip the file; by default when ``path`` ends in ``.gz``.

    Raises
    ------
    DatasetError
        For a dtype or rank IDX cannot store, or a dimension above 2**32 - 1.
    """
    path = Path(path)
    arr = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in _DTYPES.items()}
    code = codes.get(arr.dtype.newbyteorder("="))
    if code is None or not 1 <= arr.ndim <= _MAX_RANK:
        raise DatasetError(
            f"IDX cannot store an array of dtype {arr.dtype} and rank {arr.ndim} "
            f"({path.name})."
        )
    if any(d > 0xFFFFFFFF for d in arr.shape):
        raise DatasetError(f"IDX dimensions must be below 2**32, got {arr.shape}.")
    header = bytes([0, 0, code, arr.ndim]) + np.array(arr.shape, dtype=">u4").tobytes()
    body = arr.astype(np.dtype(_DTYPES[code]), copy=False).tobytes()
    if compress is None:
        compress = path.suffix == ".gz"
    data = gzip.compress(header + body, mtime=0) if compress else header + body
    path.write_bytes(data)


# --- image + label pairs -----------------------------------------------------------------
def load_idx(
    path: str | Path,
    *,
    split: str | None = None,
    class_names: tuple[str, ...] | list[str] | None = None,
    budget: MemoryBudget | None = None,
) -> Dataset:
    """Load MNIST-style images and labels from a folder or one image/label file.

    Parameters
    ----------
    path : str or Path
        A folder holding ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
        ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (each optionally
        ``.gz``; ``.idx3-ubyte`` spellings work too), or one of those files, whose
        partner is looked up beside it.
    split : {"train", "test", "all"}, optional
        Which part of a folder to load; ``"all"`` is train followed by test. The
        default is ``"train"`` when the training files exist; a folder with only the
        test files loads its test split, with a note in ``Dataset.notes`` (asking
        for ``"train"`` there is an error). Not allowed with a file path.
    class_names : sequence of str, optional
        Override the class names. By default a path containing "fashion" gets the
        Fashion-MNIST names, anything else the digits "0".."9".
    budget : MemoryBudget, optional
        The memory the data may use (default: ``memory_budget()`` now). The
        prepared size (raw bytes, float32 images, int64 labels) is checked against
        it from the headers, before any data is decompressed.

    Returns
    -------
    Dataset
        ``x`` float32 ``(n, rows, cols)`` (uint8 images scaled to [0, 1]; other
        types cast as they are), ``y`` int64 ``(n,)``.

    Raises
    ------
    DatasetError
        For missing files, corrupt headers, image/label count mismatches or labels
        outside the class range.
    ResourceError
        When the prepared data would not fit in the memory available.
    """
    path = Path(path)
    if split is not None and split not in IDX_SPLITS:
        raise DatasetError(
            f"Unknown split {split!r} for {path}; valid splits are {', '.join(IDX_SPLITS)}."
        )
    info = stat_path(path, f"Dataset path {path}")
    if info is None:
        raise DatasetError(f"Dataset path {path} does not exist.")
    names = list(class_names) if class_names is not None else _default_names(path)
    notes: list[str] = []
    if stat.S_ISDIR(info.st_mode):
        split, pairs = _folder_pairs(path, split, notes)
        label = f"{path.name} ({split})"
        source = f"{path}:split={split}"
    else:
        if split is not None:
            raise DatasetError(
                f"split={split} applies to an IDX folder, not to the single file {path}."
            )
        pairs = [_file_pair(path)]
        label, source = pairs[0][0].name, str(path)
    check_fits(_prepared_size(pairs), f"The data in {label}", budget)
    xs, ys = zip(
        *(_read_pair(img, lab, names, budget) for img, lab in pairs), strict=True
    )
    x = xs[0] if len(xs) == 1 else np.concatenate(xs)
    y = ys[0] if len(ys) == 1 else np.concatenate(ys)
    return Dataset(
        x=x,
        y=y,
        task=CLASSIFICATION,
        class_names=names,
        name=label,
        source=source,
        notes=notes,
    )


def _default_names(path: Path) -> list[str]:
    resolved = path.resolve()
    # The folder's own name (and a file's name), not every parent: a home folder
    # called "fashionista" should not relabel digits.
    names = (
        [resolved.name] if resolved.is_dir() else [resolved.name, resolved.parent.name]
    )
    is_fashion = any("fashion" in n.lower() for n in names)
    return list(FASHION_CLASSES if is_fashion else DIGIT_CLASSES)


def _find(folder: Path, split: str, kind: str) -> Path | None:
    rank = "3" if kind == "images" else "1"
    for prefix in _PREFIXES[split]:
        for sep in ("-", "."):
            for ext in (".gz", ""):
                candidate = folder / f"{prefix}-{kind}{sep}idx{rank}-ubyte{ext}"
                if _is_file(candidate):
                    return candidate
    return None


def _folder_pairs(
    folder: Path, split: str | None, notes: list[str]
) -> tuple[str, list[tuple[Path, Path]]]:
    found = {
        s: (_find(folder, s, "images"), _find(folder, s, "labels"))
        for s in ("train", "test")
    }
    complete = [s for s, (img, lab) in found.items() if img and lab]
    if split is None:
        if "train" in complete:
            split = "train"
        elif "test" in complete:
            split = "test"
            note = (
                f"{folder.name} has no complete training split; loaded its test split."
            )
            notes.append(note)
            log.info(note)
        else:
            raise DatasetError(
                f"{folder} holds no MNIST-style IDX files (train-images-idx3-ubyte[.gz] "
                "with train-labels-idx1-ubyte[.gz], or the t10k-... pair)."
            )
    pairs = []
    for s in ["train", "test"] if split == "all" else [split]:
        img, lab = found[s]
        if img is None or lab is None:
            prefix = _PREFIXES[s][0]
            kind = "images-idx3" if img is None else "labels-idx1"
            others = [o for o in complete if o != s]
            hint = f"; load split={others[0]} instead" if others else ""
            raise DatasetError(
                f"{folder} has no {s} split: {prefix}-{kind}-ubyte[.gz] is missing{hint}."
            )
        pairs.append((img, lab))
    return split, pairs


def _is_file(path: Path) -> bool:
    # A partner's name is the file's plus ".gz": it may be one the file system
    # refuses (too long), which is no file.
    info = stat_path(path, f"IDX file {path}")
    return info is not None and stat.S_ISREG(info.st_mode)


def _file_pair(path: Path) -> tuple[Path, Path]:
    name = path.name
    for img_part, lab_part in (
        ("images-idx3", "labels-idx1"),
        ("images.idx3", "labels.idx1"),
    ):
        if img_part in name:
            images, partner = path, name.replace(img_part, lab_part)
            break
        if lab_part in name:
            images, partner = None, name.replace(lab_part, img_part)
            break
    else:
        raise DatasetError(
            f"{name} is not named like an MNIST image or label file "
            "(...-images-idx3-ubyte or ...-labels-idx1-ubyte)."
        )
    stem = partner[:-3] if partner.endswith(".gz") else partner
    other = next(
        (path.parent / c for c in (stem + ".gz", stem) if _is_file(path.parent / c)),
        None,
    )
    if other is None:
        raise DatasetError(
            f"{name} needs its partner file {stem}[.gz] in the same folder."
        )
    return (images, other) if images is not None else (other, path)


def _prepared_size(pairs: list[tuple[Path, Path]]) -> int:
    """Peak bytes of loading ``pairs``, from their headers: each file as read, the
    float32 images and int64 labels made from them, the Dataset's finiteness mask,
    and one more copy of the images and labels when several pairs are joined."""
    raw = prepared = 0
    for images_path, labels_path in pairs:
        images = _Header(*read_idx_header(images_path))
        labels = _Header(*read_idx_header(labels_path))
        raw += images.loaded_size + labels.loaded_size
        prepared += images.count * (4 + 1) + labels.count * 8
    return raw + prepared * (2 if len(pairs) > 1 else 1)


def _read_pair(
    images_path: Path, labels_path: Path, names: list[str], budget: MemoryBudget | None
) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx_file(images_path, budget=budget)
    labels = read_idx_file(labels_path, budget=budget)
    if images.ndim != 3:
        raise DatasetError(
            f"{images_path.name} holds an array of shape {images.shape}; images of shape "
            "(n, rows, cols) are needed."
        )
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise DatasetError(
            f"{labels_path.name} holds {labels.dtype} values of shape {labels.shape}; "
            "integer labels of shape (n,) are needed."
        )
    if len(labels) != len(images):
        raise DatasetError(
            f"{labels_path.name} has {len(labels):,} labels but {images_path.name} has "
            f"{len(images):,} images."
        )
    if len(images) == 0:
        raise DatasetError(f"{images_path.name} holds no images.")
    bad = (labels < 0) | (labels >= len(names))
    if bad.any():
        i = int(np.argmax(bad))
        raise DatasetError(
            f"{labels_path.name} label {i} is {int(labels[i])}, outside 0..{len(names) - 1} "
            f"for {len(names)} classes."
        )
    if images.dtype == np.uint8:
        x = np.divide(images, np.float32(255.0), dtype=np.float32)
    else:
        x = images.astype(np.float32)
    return x, labels.astype(np.int64)
