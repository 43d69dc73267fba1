"""Tests for IDX files: hand-made files, corrupt headers, folders and real MNIST data."""

from __future__ import annotations

import gzip
import struct
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from nndesk.io.datasets import (
    DIGIT_CLASSES,
    FASHION_CLASSES,
    DatasetError,
    load_idx,
    read_idx_file,
    write_idx_file,
)

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
FASHION = SHARED_DATA / "fashion-mnist"
MNIST = SHARED_DATA / "mnist"


def _error(call, *args: object, **kwargs: object) -> str:  # noqa: ANN001
    with pytest.raises(DatasetError) as info:
        call(*args, **kwargs)
    return str(info.value)


def _idx_bytes(code: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    """An IDX file built byte by byte, independent of write_idx_file."""
    return (
        bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + payload
    )


def _tiny_folder(
    folder: Path, n_train: int = 6, n_test: int = 4, gz: bool = True
) -> None:
    rng = np.random.default_rng(0)
    ext = ".gz" if gz else ""
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        if n == 0:
            continue
        images = rng.integers(0, 256, size=(n, 5, 4), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        write_idx_file(folder / f"{prefix}-images-idx3-ubyte{ext}", images)
        write_idx_file(folder / f"{prefix}-labels-idx1-ubyte{ext}", labels)


# --- single files --------------------------------------------------------------------
def test_hand_made_file_reads_as_expected(tmp_path: Path) -> None:
    payload = bytes(range(24))
    (tmp_path / "a.idx").write_bytes(_idx_bytes(0x08, (2, 3, 4), payload))
    array = read_idx_file(tmp_path / "a.idx")
    assert array.dtype == np.uint8 and array.shape == (2, 3, 4)
    np.testing.assert_array_equal(array.ravel(), np.arange(24))
    big_endian = struct.pack(">3i", 1, -2, 70000)
    (tmp_path / "b.idx").write_bytes(_idx_bytes(0x0C, (3,), big_endian))
    np.testing.assert_array_equal(read_idx_file(tmp_path / "b.idx"), [1, -2, 70000])


@pytest.mark.parametrize(
    "dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]
)
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_write_read_round_trip(tmp_path: Path, dtype: type, suffix: str) -> None:
    array = (np.arange(60).reshape(3, 4, 5) - 7).astype(dtype)
    path = tmp_path / f"x-idx3-ubyte{suffix}"
    write_idx_file(path, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    again = read_idx_file(path)
    assert again.dtype == np.dtype(dtype) and again.dtype.isnative
    np.testing.assert_array_equal(again, array)


def test_compression_is_detected_from_content(tmp_path: Path) -> None:
    labels = np.arange(10, dtype=np.uint8)
    gz_named_raw = tmp_path / "raw.gz"
    write_idx_file(gz_named_raw, labels, compress=False)
    raw_named_gz = tmp_path / "plain-idx1-ubyte"
    write_idx_file(raw_named_gz, labels, compress=True)
    np.testing.assert_array_equal(read_idx_file(gz_named_raw), labels)
    np.testing.assert_array_equal(read_idx_file(raw_named_gz), labels)


@pytest.mark.parametrize(
    "data,fragment",
    [
        (
            b"\x01\x02\x08\x01\x00\x00\x00\x01\x05",
            "is not an IDX file (its first bytes are 01020801",
        ),
        (b"\x00\x00", "its first bytes are 0000, not 0000 followed"),
        (b"", "its first bytes are missing"),
        (
            _idx_bytes(0x07, (1,), b"\x00"),
            "has IDX data-type code 0x07; valid codes are 0x08",
        ),
        (_idx_bytes(0x08, (), b""), "has IDX rank 0; 1..8 is supported"),
        (bytes([0, 0, 8, 9]) + b"\x00" * 36, "has IDX rank 9"),
        (
            bytes([0, 0, 8, 3]) + b"\x00\x00\x00\x02",
            "ends inside its IDX header (3 dimensions)",
        ),
        (
            _idx_bytes(0x08, (2, 3), b"\x00" * 5),
            "its header claims 2 x 3 uint8 values (6 bytes) but the file holds 5 data bytes",
        ),
        (
            _idx_bytes(0x08, (2, 3), b"\x00" * 7),
            "(6 bytes) but the file holds 7 data bytes",
        ),
        (_idx_bytes(0x0B, (2,), b"\x00" * 3), "2 int16 values (4 bytes)"),
    ],
)
def test_corrupt_raw_files(tmp_path: Path, data: bytes, fragment: str) -> None:
    path = tmp_path / "bad-idx"
    path.write_bytes(data)
    message = _error(read_idx_file, path)
    assert message.startswith("bad-idx")
    assert fragment in message


@pytest.mark.parametrize("compress", [False, True])
def test_huge_claimed_size_is_refused_fast_without_allocating(
    tmp_path: Path, compress: bool
) -> None:
    # A header claiming 10**9 MNIST images in a file of about 1 KB.
    data = _idx_bytes(0x08, (10**9, 28, 28), bytes(1000))
    path = tmp_path / "huge-idx3-ubyte"
    path.write_bytes(gzip.compress(data) if compress else data)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        message = _error(read_idx_file, path)
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "1000000000 x 28 x 28 uint8 values (784,000,000,000 bytes)" in message
    assert elapsed < 0.5  # typically about a millisecond; slack for a busy machine
    assert peak < 1_000_000


def test_gzip_payload_shorter_or_longer_than_the_header(tmp_path: Path) -> None:
    # Random pixels do not compress, so only reading the stream can find the gap.
    pixels = np.random.default_rng(0).integers(0, 256, 28 * 28 * 10, dtype=np.uint8)
    short = tmp_path / "short.gz"
    short.write_bytes(gzip.compress(_idx_bytes(0x08, (100, 28, 28), pixels.tobytes())))
    assert "(78,400 bytes) but the file holds only 7,840 data bytes" in _error(
        read_idx_file, short
    )
    long = tmp_path / "long.gz"
    long.write_bytes(gzip.compress(_idx_bytes(0x08, (10,), bytes(11))))
    assert "but the file holds more data than that" in _error(read_idx_file, long)


def test_damaged_gzip_stream(tmp_path: Path) -> None:
    whole = gzip.compress(
        _idx_bytes(0x08, (1000,), np.arange(1000).astype(np.uint8).tobytes())
    )
    cut = tmp_path / "cut.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    assert _error(read_idx_file, cut).startswith("cut.gz is a damaged gzip file")
    flipped = bytearray(whole)
    flipped[len(whole) // 2] ^= 0xFF
    bad = tmp_path / "flip.gz"
    bad.write_bytes(bytes(flipped))
    assert _error(read_idx_file, bad).startswith("flip.gz ")


def test_missing_file_and_folder(tmp_path: Path) -> None:
    assert (
        _error(read_idx_file, tmp_path / "x")
        == f"IDX file {tmp_path / 'x'} does not exist."
    )
    assert "is a folder, not an IDX file" in _error(read_idx_file, tmp_path)


def test_writer_refuses_what_idx_cannot_hold(tmp_path: Path) -> None:
    assert "dtype int64" in _error(
        write_idx_file, tmp_path / "a", np.zeros(3, np.int64)
    )
    assert "rank 0" in _error(write_idx_file, tmp_path / "a", np.uint8(3))


# --- image/label pairs --------------------------------------------------------------------
@pytest.mark.parametrize("gz", [True, False])
def test_folder_loads_train_by_default(tmp_path: Path, gz: bool) -> None:
    _tiny_folder(tmp_path / "digits", gz=gz)
    data = load_idx(tmp_path / "digits")
    assert data.x.shape == (6, 5, 4) and data.x.dtype == np.float32
    images = read_idx_file(
        tmp_path / "digits" / f"train-images-idx3-ubyte{'.gz' if gz else ''}"
    )
    np.testing.assert_array_equal(data.x, images.astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(data.y, np.arange(6))
    assert data.y.dtype == np.int64
    assert data.class_names == list(DIGIT_CLASSES)
    assert data.name == "digits (train)" and data.notes == []
    assert data.source == f"{tmp_path / 'digits'}:split=train"


def test_folder_splits(tmp_path: Path) -> None:
    _tiny_folder(tmp_path / "d")
    test = load_idx(tmp_path / "d", split="test")
    both = load_idx(tmp_path / "d", split="all")
    assert len(test) == 4 and len(both) == 10
    np.testing.assert_array_equal(both.x[6:], test.x)
    assert "valid splits are train, test, all" in _error(
        load_idx, tmp_path / "d", split="val"
    )


def test_test_only_folder_loads_test_with_a_note(tmp_path: Path) -> None:
    _tiny_folder(tmp_path / "only", n_train=0)
    data = load_idx(tmp_path / "only")
    assert len(data) == 4 and data.name == "only (test)"
    assert data.notes == ["only has no complete training split; loaded its test split."]
    assert _error(load_idx, tmp_path / "only", split="train") == (
        f"{tmp_path / 'only'} has no train split: train-images-idx3-ubyte[.gz] is "
        "missing; load split=test instead."
    )


def test_empty_folder_and_missing_path(tmp_path: Path) -> None:
    assert "holds no MNIST-style IDX files" in _error(load_idx, tmp_path)
    assert (
        _error(load_idx, tmp_path / "no")
        == f"Dataset path {tmp_path / 'no'} does not exist."
    )


def test_dotted_spelling_and_single_file_with_partner(tmp_path: Path) -> None:
    labels = np.array([3, 1], dtype=np.uint8)
    write_idx_file(tmp_path / "t10k-images.idx3-ubyte", np.zeros((2, 2, 2), np.uint8))
    write_idx_file(tmp_path / "t10k-labels.idx1-ubyte.gz", labels)
    np.testing.assert_array_equal(load_idx(tmp_path).y, labels)
    from_labels = load_idx(tmp_path / "t10k-labels.idx1-ubyte.gz")
    from_images = load_idx(tmp_path / "t10k-images.idx3-ubyte")
    np.testing.assert_array_equal(from_labels.y, labels)
    assert from_images.name == "t10k-images.idx3-ubyte"
    assert "applies to an IDX folder" in _error(
        load_idx, tmp_path / "t10k-images.idx3-ubyte", split="test"
    )


def test_single_file_errors(tmp_path: Path) -> None:
    write_idx_file(tmp_path / "train-images-idx3-ubyte", np.zeros((2, 2, 2), np.uint8))
    assert _error(load_idx, tmp_path / "train-images-idx3-ubyte") == (
        "train-images-idx3-ubyte needs its partner file train-labels-idx1-ubyte[.gz] "
        "in the same folder."
    )
    write_idx_file(tmp_path / "stuff.bin", np.zeros(2, np.uint8))
    assert "is not named like an MNIST image or label file" in _error(
        load_idx, tmp_path / "stuff.bin"
    )


@pytest.mark.parametrize(
    "images,labels,fragment",
    [
        (
            np.zeros((3, 2, 2), np.uint8),
            np.zeros(2, np.uint8),
            "has 2 labels but t10k-images-idx3-ubyte has 3 images",
        ),
        (
            np.zeros((2, 2, 2), np.uint8),
            np.array([0, 10], np.uint8),
            "label 1 is 10, outside 0..9 for 10 classes",
        ),
        (
            np.zeros((2, 4), np.uint8),
            np.zeros(2, np.uint8),
            "holds an array of shape (2, 4); images of shape (n, rows, cols)",
        ),
        (
            np.zeros((2, 2, 2), np.uint8),
            np.zeros((2, 1), np.uint8),
            "integer labels of shape (n,) are needed",
        ),
        (
            np.zeros((2, 2, 2), np.uint8),
            np.zeros(2, np.float32),
            "holds float32 values",
        ),
        (np.zeros((0, 2, 2), np.uint8), np.zeros(0, np.uint8), "holds no images"),
    ],
)
def test_inconsistent_pairs(
    tmp_path: Path, images: np.ndarray, labels: np.ndarray, fragment: str
) -> None:
    write_idx_file(tmp_path / "t10k-images-idx3-ubyte", images)
    write_idx_file(tmp_path / "t10k-labels-idx1-ubyte", labels)
    assert fragment in _error(load_idx, tmp_path)


def test_class_names_from_folder_name_or_override(tmp_path: Path) -> None:
    _tiny_folder(tmp_path / "Fashion-MNIST")
    assert load_idx(tmp_path / "Fashion-MNIST").class_names == list(FASHION_CLASSES)
    names = [f"c{i}" for i in range(10)]
    assert load_idx(tmp_path / "Fashion-MNIST", class_names=names).class_names == names
    _tiny_folder(tmp_path / "fashion-work" / "digits")
    assert load_idx(tmp_path / "fashion-work" / "digits").class_names == list(
        DIGIT_CLASSES
    )
    few = ["a", "b", "c"]
    assert "outside 0..2 for 3 classes" in _error(
        load_idx, tmp_path / "Fashion-MNIST", class_names=few
    )


def test_non_uint8_images_are_cast_not_scaled(tmp_path: Path) -> None:
    images = np.full((2, 2, 2), 300, dtype=np.int16)
    write_idx_file(tmp_path / "t10k-images-idx3-ubyte", images)
    write_idx_file(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(2, np.uint8))
    np.testing.assert_array_equal(load_idx(tmp_path).x, 300.0)


# --- real data (../shared/data beside the repository) ----------------------------------------
needs_fashion = pytest.mark.skipif(
    not FASHION.is_dir(), reason=f"{FASHION} not present"
)
needs_mnist = pytest.mark.skipif(not MNIST.is_dir(), reason=f"{MNIST} not present")


@needs_fashion
def test_fashion_mnist_train_split() -> None:
    start = time.perf_counter()
    data = load_idx(FASHION)
    elapsed = time.perf_counter() - start
    assert data.x.shape == (60000, 28, 28) and data.x.dtype == np.float32
    assert data.y.shape == (60000,) and data.y.dtype == np.int64
    assert data.x.min() == 0.0 and data.x.max() == 1.0
    np.testing.assert_array_equal(data.class_counts(), np.full(10, 6000))
    assert data.class_names == list(FASHION_CLASSES)
    assert data.class_names[9] == "Ankle boot"
    assert elapsed < 10.0  # about 1 s on the development machine


@needs_fashion
def test_fashion_mnist_test_split_matches_an_independent_decode() -> None:
    data = load_idx(FASHION, split="test")
    np.testing.assert_array_equal(data.class_counts(), np.full(10, 1000))
    raw = gzip.decompress((FASHION / "t10k-images-idx3-ubyte.gz").read_bytes())
    assert raw[:4] == b"\x00\x00\x08\x03"
    pixels = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(10000, 28, 28)
    np.testing.assert_array_equal(np.rint(data.x * 255).astype(np.uint8), pixels)


@needs_mnist
def test_mnist_folder_without_training_images() -> None:
    data = load_idx(MNIST)
    assert data.x.shape == (10000, 28, 28) and data.name == "mnist (test)"
    assert data.notes and "no complete training split" in data.notes[0]
    np.testing.assert_array_equal(
        data.class_counts(), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    )
    assert data.class_names == list(DIGIT_CLASSES)
    assert "has no train split" in _error(load_idx, MNIST, split="train")
    train_labels = read_idx_file(MNIST / "train-labels-idx1-ubyte.gz")
    assert train_labels.shape == (60000,) and train_labels.max() == 9
