"""Hostile dataset files (issue 19): each ends in one sentence, fast and small.

Every test builds one kind of bad file, a few hundred bytes to a few MB, and checks
the sentence a user would see. ``refusal`` also asserts that the refusal took under
a second of CPU time (CPU, not wall clock, so other jobs on a shared machine cannot
fail it) and that Python and NumPy allocated little on the way (tracemalloc sees
NumPy's buffers), so none of these can hide a hang or an allocation sized by a
lying header. The last test runs every case through the real ``nndesk train``
under a 2 GiB address-space limit.
"""

from __future__ import annotations

import gzip
import io
import os
import resource
import struct
import subprocess
import sys
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from numpy.lib import format as npy_format

from nndesk.engine.errors import ResourceError
from nndesk.engine.memory import MemoryBudget
from nndesk.io.datasets import (
    Dataset,
    DatasetError,
    load_idx,
    read_csv,
    read_idx_file,
    read_npz,
)
from nndesk.io.datasets.base import MAX_CLASSES
from nndesk.io.datasets.csv_reader import MAX_COLUMNS
from nndesk.io.datasets.npz_reader import MAX_NPZ_MEMBERS

_MAX_CPU_SECONDS = 1.0
_MAX_PEAK_BYTES = 32 << 20
_SMALL = MemoryBudget(64 << 20, "test budget")  # 64 MB usable, 51 MB safe


@pytest.fixture(autouse=True)
def _memory_guard_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NNDESK_NO_MEMORY_GUARD", raising=False)


def refusal(call: Callable[[], object], error: type[Exception] = DatasetError) -> str:
    """Run ``call`` expecting ``error``; check CPU time and peak allocation."""
    tracemalloc.start()
    start = time.process_time()
    try:
        with pytest.raises(error) as info:
            call()
        seconds = time.process_time() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seconds < _MAX_CPU_SECONDS, f"took {seconds:.2f} s of CPU"
    assert peak < _MAX_PEAK_BYTES, f"allocated {peak:,} bytes"
    message = str(info.value)
    assert "\n" not in message and message.endswith("."), message
    return message


# --- building bad files ------------------------------------------------------------
def npy_bytes(shape: tuple[int, ...], body: bytes, descr: str = "<f4") -> bytes:
    """A .npy member: a real header declaring ``shape`` followed by ``body``."""
    out = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    npy_format.write_array_header_1_0(out, header)
    return out.getvalue() + body


def labels_npy(n: int = 60) -> bytes:
    return npy_bytes((n,), bytes(8 * n), "<i8")


def write_zip(path: Path, members: dict[str, bytes], method: int) -> Path:
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def lying_npz(path: Path, shape: tuple[int, ...]) -> Path:
    """``x`` declares ``shape`` of float32 over a 960-byte body."""
    members = {"x.npy": npy_bytes(shape, bytes(960)), "y.npy": labels_npy()}
    return write_zip(path, members, zipfile.ZIP_DEFLATED)


def zero_deflate(size: int, prefix: bytes = b"") -> tuple[bytes, int]:
    """A raw deflate stream of ``prefix`` plus ``size`` zero bytes, and its CRC-32.

    Each 1 MB block is compressed once and repeated: after a full flush a block does
    not refer to earlier ones, so a GB of zeros costs a CRC pass, not a deflate pass.
    """
    block = 1 << 20

    def deflate(data: bytes, final: bool = False) -> bytes:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        out = compressor.compress(data)
        return out + (
            compressor.flush() if final else compressor.flush(zlib.Z_FULL_FLUSH)
        )

    first = min(size, block - len(prefix)) if size else 0
    crc = zlib.crc32(prefix + bytes(first))
    full, rest = divmod(size - first, block)
    zeros = bytes(block)
    for _ in range(full):
        crc = zlib.crc32(zeros, crc)
    crc = zlib.crc32(bytes(rest), crc)
    stream = deflate(prefix + bytes(first)) + deflate(zeros) * full
    return stream + deflate(bytes(rest), final=True), crc


def zero_images_gz(path: Path, n: int, rows: int = 28, cols: int = 28) -> Path:
    """A gzip IDX file of ``n`` zero images with a consistent header (tiny on disk)."""
    header = bytes([0, 0, 0x08, 3]) + struct.pack(">3I", n, rows, cols)
    stream, crc = zero_deflate(n * rows * cols, header)
    size = len(header) + n * rows * cols
    path.write_bytes(
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
        + stream
        + struct.pack("<II", crc, size & 0xFFFFFFFF)
    )
    return path


def zero_labels_gz(path: Path, n: int) -> Path:
    path.write_bytes(
        gzip.compress(bytes([0, 0, 8, 1]) + struct.pack(">I", n) + bytes(n))
    )
    return path


def zero_features_npz(path: Path, n: int, width: int = 4) -> Path:
    """An NPZ of ``n x width`` float32 zeros ``x`` and int64 zeros ``y``, deflated
    and consistent throughout, forged by hand (zipfile would deflate every zero)."""
    members = []
    for name, shape, descr in (("x.npy", (n, width), "<f4"), ("y.npy", (n,), "<i8")):
        header = npy_bytes(shape, b"", descr)
        size = int(np.prod(shape)) * int(descr[-1])
        stream, crc = zero_deflate(size, header)
        members.append((name, stream, crc, len(header) + size))
    path.write_bytes(forged_zip(members))
    return path


def forged_zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip of deflated members given as (name, raw deflate stream, CRC, size)."""
    body, directory = b"", b""
    for name, stream, crc, size in members:
        raw = name.encode()
        sizes = (crc, len(stream), size, len(raw))
        local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, *sizes, 0)
        directory += struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, *sizes, 0, 0, 0, 0,
            0, len(body),
        ) + raw  # fmt: skip
        body += local + raw + stream
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(directory),
        len(body), 0,
    )  # fmt: skip
    return body + directory + end


def find_central(data: bytes, name: str) -> int:
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_len] == name.encode():
            return at
        at = data.find(b"PK\x01\x02", at + 4)
    raise AssertionError(f"{name} not in the directory")


def good_npz(path: Path, n: int = 60) -> Path:
    np.savez_compressed(path, x=np.zeros((n, 4), np.float32), y=np.arange(n) % 3)
    return path


# --- 1. labels that size a list ----------------------------------------------------
def test_a_huge_label_is_refused_before_it_sizes_anything(tmp_path: Path) -> None:
    y = np.zeros(60, np.int64)
    y[3] = 2**62
    np.savez(tmp_path / "labels.npz", x=np.zeros((60, 4), np.float32), y=y)
    message = refusal(lambda: read_npz(tmp_path / "labels.npz"))
    assert message == (
        "Dataset 'labels.npz' class label at index 3 is 4611686018427387904, which "
        "implies 4,611,686,018,427,387,905 classes, but nndesk reads at most "
        f"{MAX_CLASSES:,} classes; store class names with the data if the labels "
        "are right."
    )


def test_labels_imply_no_more_classes_than_samples(tmp_path: Path) -> None:
    y = np.arange(10)
    y[7] = 500
    np.savez(tmp_path / "few.npz", x=np.zeros((10, 2)), y=y)
    message = refusal(lambda: read_npz(tmp_path / "few.npz"))
    assert "label at index 7 is 500, which implies 501 classes" in message
    assert "there are only 10 samples" in message
    # With class names stored, the labels are only checked against them.
    names = np.array([f"c{i}" for i in range(501)])
    np.savez(tmp_path / "named.npz", x=np.zeros((10, 2)), y=y, class_names=names)
    assert read_npz(tmp_path / "named.npz").n_classes == 501


@pytest.mark.parametrize(
    "y,fragment",
    [
        (np.array([0, 1, -7, 1]), "class label at index 2 is -7; class labels are"),
        (np.array([0, 1, -(2**62), 1]), f"index 2 is {-(2**62)}; class labels are"),
        (np.array([0.0, 1.0, -3.0, 2.0]), "class label at index 2 is -3; class"),
        (np.array([0, 1, 2**64 - 1, 1], np.uint64), f"index 2 is {2**64 - 1}, which"),
        (np.array([0.0, 1.0, 1e300, 0.0]), "index 2 is 1e+300, which implies"),
    ],
)
def test_negative_and_out_of_range_labels(
    tmp_path: Path, y: np.ndarray, fragment: str
) -> None:
    path = tmp_path / "neg.npz"
    np.savez(path, x=np.zeros((4, 2)), y=y)
    assert fragment in refusal(lambda: read_npz(path, task="classification"))


def test_labels_beyond_named_classes_keep_their_value() -> None:
    # A uint64 label past int64 once wrapped to a negative number in the message.
    with pytest.raises(DatasetError, match=f"index 1 is {2**64 - 1}, outside 0..1"):
        Dataset(
            x=np.zeros((2, 1)),
            y=np.array([0, 2**64 - 1], np.uint64),
            task="classification",
            class_names=["a", "b"],
        )


def test_too_many_class_names_are_refused() -> None:
    names = [str(i) for i in range(MAX_CLASSES + 1)]
    with pytest.raises(DatasetError, match=f"has {MAX_CLASSES + 1:,} class names"):
        Dataset(x=np.zeros((2, 1)), y=[0, 1], task="classification", class_names=names)


# --- 2. headers that lie ---------------------------------------------------------------
def test_a_header_declaring_a_billion_rows_over_960_bytes(tmp_path: Path) -> None:
    path = lying_npz(tmp_path / "lie.npz", (10**9, 4))
    assert path.stat().st_size < 1000
    assert refusal(lambda: read_npz(path)) == (
        "lie.npz array 'x' declares shape (1000000000, 4) of float32 "
        "(16,000,000,000 bytes) but its member holds 960 bytes."
    )


def test_a_sixty_dimensional_header(tmp_path: Path) -> None:
    path = lying_npz(tmp_path / "dims.npz", (2,) * 60)
    assert refusal(lambda: read_npz(path)) == (
        "dims.npz array 'x' declares shape (2, 2, 2, 2, ... 60 dimensions) of float32 "
        "(4,611,686,018,427,387,904 bytes) but its member holds 960 bytes."
    )


def test_a_zip_directory_claiming_a_gib_for_the_shape(tmp_path: Path) -> None:
    # The header is consistent with the size the zip directory claims (1 GiB of
    # float32), but 84 compressed bytes cannot expand to that.
    members = {"x.npy": npy_bytes((2**28,), bytes(960)), "y.npy": labels_npy()}
    data = bytearray(
        write_zip(tmp_path / "c.npz", members, zipfile.ZIP_DEFLATED).read_bytes()
    )
    claimed = len(npy_bytes((2**28,), b"")) + 2**30
    struct.pack_into("<L", data, find_central(bytes(data), "x.npy") + 24, claimed)
    struct.pack_into("<L", data, data.index(b"PK\x03\x04") + 22, claimed)
    (tmp_path / "claim.npz").write_bytes(bytes(data))
    message = refusal(lambda: read_npz(tmp_path / "claim.npz"))
    assert message.startswith(
        f"claim.npz member 'x.npy' is corrupt: the zip directory claims {claimed:,} "
        "bytes from "
    )
    assert message.endswith("compressed bytes, more than deflate can produce.")


def test_a_zip_member_holding_a_real_gib_of_zeros(tmp_path: Path) -> None:
    # Everything is consistent and the member really inflates to 1 GiB: refused by
    # the memory guard before a byte of it is inflated.
    path = zero_features_npz(tmp_path / "gib.npz", 2**26)
    assert path.stat().st_size < 2 << 20
    message = refusal(lambda: read_npz(path, budget=_SMALL), ResourceError)
    assert message == (
        "The data in gib.npz needs about 3.6 GB of memory, but only 67.1 MB is "
        "available (the test budget)."
    )


def test_the_memory_guard_lets_a_consistent_archive_through(tmp_path: Path) -> None:
    path = zero_features_npz(tmp_path / "fits.npz", 100_000)
    data = read_npz(path, budget=_SMALL)
    assert data.x.shape == (100_000, 4) and not data.x.any()
    assert data.y.shape == (100_000,)


def test_a_malformed_header_is_called_malformed(tmp_path: Path) -> None:
    broken = b"\x93NUMPY\x01\x00\x20\x00{'descr': '<f4', 'shape': (((}\n" + bytes(960)
    members = {"x.npy": broken, "y.npy": labels_npy()}
    path = write_zip(tmp_path / "m.npz", members, zipfile.ZIP_STORED)
    message = refusal(lambda: read_npz(path))
    assert message.startswith("m.npz member 'x.npy' has a malformed .npy header (")
    assert "Python objects" not in message


@pytest.mark.parametrize(
    "member,fragment",
    [
        (b"\x93NUMPY\x03\x00" + bytes(20), "malformed .npy header (.npy format 3.0"),
        (b"not an array at all", "is not a .npy array"),
        (b"\x93NUMPY\x01\x00\xff\xff" + bytes(100), "malformed .npy header"),
        (npy_bytes((-5, 4), b""), "has a negative dimension"),
        (npy_bytes((4,), bytes(32), "<M8[s]"), "has dtype datetime64[s]; nndesk"),
        (npy_bytes((4,), bytes(32), "|V8"), "has dtype |V8; nndesk reads arrays"),
    ],
)
def test_other_bad_headers(tmp_path: Path, member: bytes, fragment: str) -> None:
    path = write_zip(tmp_path / "h.npz", {"x.npy": member, "y.npy": labels_npy()}, 0)
    message = refusal(lambda: read_npz(path))
    assert fragment in message and message.startswith("h.npz ")


def test_object_arrays_stay_refused_as_pickles(tmp_path: Path) -> None:
    path = tmp_path / "obj.npz"
    np.savez(path, x=np.array([None, {}], dtype=object), y=np.array([0, 1]))
    assert refusal(lambda: read_npz(path)) == (
        "obj.npz array 'x' holds Python objects (pickled data), which nndesk does "
        "not load; store numbers and strings only."
    )


# --- 3. corrupt zips ------------------------------------------------------------------
def _flip(data: bytes, at: int, mask: int = 0x40) -> bytes:
    out = bytearray(data)
    out[at] ^= mask
    return bytes(out)


def _corruptions(good: bytes) -> dict[str, bytes]:
    x_dir = find_central(good, "x.npy")
    x_local = good.index(b"PK\x03\x04")
    return {
        "method": _flip(good, x_dir + 10),
        "encrypted": _flip(good, x_dir + 8, 0x01),
        "deflate": _flip(good, x_local + 30 + 5 + 40, 0xFF),
        "crc": _flip(good, x_dir + 16, 0xFF),
        "truncated": good[: len(good) // 2],
        "directory": _flip(good, x_dir + 1),
        "local header": _flip(good, x_local + 1),
        "name length": _flip(good, x_dir + 28, 0x7F),
    }


@pytest.mark.parametrize(
    "kind,start",
    [
        ("method", "c.npz member 'x.npy' is corrupt or uses zip compression method "),
        ("encrypted", "c.npz member 'x.npy' is encrypted"),
        ("deflate", "c.npz is corrupt: member 'x.npy' cannot be read ("),
        ("crc", "c.npz is corrupt: member 'x.npy' cannot be read (Bad CRC-32"),
        ("truncated", "c.npz is not a readable .npz archive ("),
        ("directory", "c.npz is not a readable .npz archive ("),
        ("local header", "c.npz is corrupt: member 'x.npy' cannot be read (Bad magic"),
        ("name length", "c.npz is not a readable .npz archive ("),
    ],
)
def test_corrupt_zips_name_the_file_and_member(
    tmp_path: Path, kind: str, start: str
) -> None:
    good = good_npz(tmp_path / "good.npz", 500).read_bytes()
    path = tmp_path / "c.npz"
    path.write_bytes(_corruptions(good)[kind])
    assert refusal(lambda: read_npz(path)).startswith(start)


def test_a_directory_of_too_many_entries_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "many.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(MAX_NPZ_MEMBERS + 1):
            archive.writestr(f"a{i}.txt", b"")
    assert refusal(lambda: read_npz(path)) == (
        f"many.npz lists {MAX_NPZ_MEMBERS + 1:,} zip entries; an .npz dataset may "
        f"hold at most {MAX_NPZ_MEMBERS:,}."
    )


def test_a_zip64_directory_claiming_ten_million_entries(tmp_path: Path) -> None:
    # Only the end records: ZIP64 record, its locator, and the classic record whose
    # 0xFFFF count sends a reader to the ZIP64 one.
    count = 10_000_000
    zip64 = struct.pack(
        "<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, 0, 0
    )
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, 0, 1)
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0
    )
    path = tmp_path / "many.npz"
    path.write_bytes(zip64 + locator + end)
    assert refusal(lambda: read_npz(path)) == (
        f"many.npz lists {count:,} zip entries; an .npz dataset may hold at most "
        f"{MAX_NPZ_MEMBERS:,}."
    )


# --- 4. big but consistent ---------------------------------------------------------------
def test_a_consistent_gzip_idx_too_big_for_the_budget_is_refused_unread(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    images = zero_images_gz(folder / "train-images-idx3-ubyte.gz", 60_000)
    zero_labels_gz(folder / "train-labels-idx1-ubyte.gz", 60_000)
    assert images.stat().st_size < 100_000
    message = refusal(lambda: load_idx(folder, budget=_SMALL), ResourceError)
    assert message == (
        "The data in big (train) needs about 282.8 MB of memory, but only 67.1 MB is "
        "available (the test budget)."
    )
    tiny = MemoryBudget(32 << 20, "test budget")
    message = refusal(lambda: read_idx_file(images, budget=tiny), ResourceError)
    assert message.startswith("The data in train-images-idx3-ubyte.gz needs about 47.0")


def test_a_small_idx_folder_fits_the_same_budget(tmp_path: Path) -> None:
    folder = tmp_path / "small"
    folder.mkdir()
    zero_images_gz(folder / "train-images-idx3-ubyte.gz", 2_000)
    zero_labels_gz(folder / "train-labels-idx1-ubyte.gz", 2_000)
    data = load_idx(folder, budget=_SMALL)
    assert data.x.shape == (2_000, 28, 28) and not data.x.any()


# --- 5. a million columns -----------------------------------------------------------------
def test_a_million_columns_are_refused_within_a_second(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    row = ",".join("0" for _ in range(1_000_000))
    path.write_text(row + "\n" + row + "\n")
    start = time.perf_counter()
    message = refusal(lambda: read_csv(path))
    assert time.perf_counter() - start < 2.0  # wall clock, with slack for a busy box
    assert message == (
        f"wide.csv has 1,000,000 columns in its first row; nndesk reads at most "
        f"{MAX_COLUMNS:,}."
    )


def test_a_wide_file_within_the_cap_reads(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    header = ",".join(f"c{j}" for j in range(20_000))
    rows = [",".join(str((i + j) % 3) for j in range(20_000)) for i in range(3)]
    path.write_text("\n".join([header, *rows]) + "\n")
    data = read_csv(path)
    assert data.x.shape == (3, 19_999) and data.feature_names[-1] == "c19998"
    assert data.x[1, 0] == 1.0 and data.x[2, 19_998] == (2 + 19_998) % 3


def test_a_csv_too_big_to_parse_in_the_budget_is_refused_unparsed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "long.csv"
    path.write_text("0,1,2,3,4,5,6,7,8,9\n" * 100_000)
    message = refusal(lambda: read_csv(path, budget=_SMALL), ResourceError)
    assert message == (
        "Reading long.csv needs about 88.0 MB of memory, but only 67.1 MB is "
        "available (the test budget)."
    )
    assert read_csv(path, budget=MemoryBudget(1 << 30, "test")).x.shape == (100_000, 9)


# --- names the file system refuses ------------------------------------------------------
@pytest.mark.parametrize("reader", [read_csv, read_npz, read_idx_file, load_idx])
def test_a_name_too_long_for_the_file_system_does_not_exist(
    tmp_path: Path, reader: Callable[[Path], object]
) -> None:
    path = tmp_path / ("x" * 5000)
    message = refusal(lambda: reader(path))
    assert message.endswith(f"{path} does not exist.")


# --- 6. the real command line under a 2 GiB address-space limit --------------------------
def _hostile_files(folder: Path) -> dict[str, Path]:
    y = np.zeros(60, np.int64)
    y[3] = 2**62
    np.savez(folder / "labels.npz", x=np.zeros((60, 2), np.float32), y=y)
    good = good_npz(folder / "good.npz", 500).read_bytes()
    (folder / "method.npz").write_bytes(_corruptions(good)["method"])
    big = folder / "big"
    big.mkdir()
    zero_images_gz(big / "train-images-idx3-ubyte.gz", 1_370_000)
    zero_labels_gz(big / "train-labels-idx1-ubyte.gz", 1_370_000)
    wide = folder / "wide.csv"
    wide.write_text(",".join("0" for _ in range(1_000_000)) + "\n")
    return {
        "labels": folder / "labels.npz",
        "lie": lying_npz(folder / "lie.npz", (10**9, 4)),
        "dims": lying_npz(folder / "dims.npz", (2,) * 60),
        "method": folder / "method.npz",
        "big": big / "train-images-idx3-ubyte.gz",
        "wide": wide,
    }


def _limit_address_space() -> None:
    """In the child: what ``prlimit --as=2147483648`` does."""
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


@pytest.mark.slow
def test_every_case_through_the_real_cli_under_2_gib(tmp_path: Path) -> None:
    from nndesk.training.examples import copy_example

    net = tmp_path / "spiral.nndesk"
    copy_example("spiral", net)
    env = {k: v for k, v in os.environ.items() if k != "NNDESK_NO_MEMORY_GUARD"}
    cli = [sys.executable, "-m", "nndesk", "train", str(net), "--epochs", "1"]
    for case, path in _hostile_files(tmp_path).items():
        start = time.perf_counter()
        result = subprocess.run(
            [*cli, "--data", str(path)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            preexec_fn=_limit_address_space,
        )
        seconds = time.perf_counter() - start
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2, (case, result.stderr[-2000:])
        assert len(lines) == 1 and "Traceback" not in result.stderr, (case, lines)
        assert lines[0].startswith("nndesk train: error: "), (case, lines)
        assert "MemoryError" not in lines[0], (case, lines)
        assert seconds < 15, (case, seconds)  # wall clock: start-up included
