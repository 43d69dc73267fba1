"""Seeded fuzzing of the dataset readers: mutated files load or raise an NNDeskError.

Valid NPZ (deflated and stored), IDX (raw and gzip) and CSV files are mutated with
bit flips, byte overwrites, truncation, insertions and edits aimed at their headers
(the .npy header text, the IDX dimensions, the CSV first row). Every case must give
a Dataset or an NNDeskError (a DatasetError, or a ResourceError from the memory
guard); any other exception, or an allocation far beyond the file's honest size,
fails the test with the case that caused it, reproducible from its seed.
"""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from nndesk.engine.errors import NNDeskError
from nndesk.io.datasets import load_idx, read_csv, read_npz, write_idx_file

SEED = 19
CASES_PER_FILE = 60
# The valid files are a few KB; deflate can at most expand them 1032:1, and the
# reader's own state is small. A header allocation would be gigabytes.
_MAX_PEAK_BYTES = 64 << 20

Mutation = Callable[[bytes, np.random.Generator], bytes]


# --- valid files -----------------------------------------------------------------------
def _npz(compressed: bool) -> bytes:
    rng = np.random.default_rng(0)
    out = io.BytesIO()
    save = np.savez_compressed if compressed else np.savez
    save(
        out,
        x=rng.random((40, 3)).astype(np.float32),
        y=np.arange(40) % 4,
        class_names=np.array(["a", "b", "c", "d"]),
        task=np.array("classification"),
    )
    return out.getvalue()


def _idx_folder(folder: Path, gz: bool) -> dict[str, bytes]:
    rng = np.random.default_rng(1)
    ext = ".gz" if gz else ""
    folder.mkdir()
    files = {
        f"train-images-idx3-ubyte{ext}": rng.integers(0, 256, (30, 6, 5), np.uint8),
        f"train-labels-idx1-ubyte{ext}": (np.arange(30) % 10).astype(np.uint8),
    }
    out = {}
    for name, array in files.items():
        write_idx_file(folder / name, array)
        out[name] = (folder / name).read_bytes()
    return out


def _csv() -> bytes:
    rng = np.random.default_rng(2)
    lines = ["a,b,c,label"]
    for i in range(40):
        a, b, c = rng.random(3)
        lines.append(f"{a:.4f},{b:.4f},{c:.4f},{'xyz'[i % 3]}")
    return ("\n".join(lines) + "\n").encode()


# --- mutations -------------------------------------------------------------------------
def bit_flips(data: bytes, rng: np.random.Generator) -> bytes:
    out = bytearray(data)
    for _ in range(int(rng.integers(1, 9))):
        out[int(rng.integers(len(out)))] ^= 1 << int(rng.integers(8))
    return bytes(out)


def byte_overwrite(data: bytes, rng: np.random.Generator) -> bytes:
    out = bytearray(data)
    at = int(rng.integers(len(out)))
    value = rng.choice([0x00, 0xFF, 0x7F, 0x80, int(rng.integers(256))])
    out[at : at + int(rng.integers(1, 5))] = bytes([int(value)]) * 4
    return bytes(out)


def truncation(data: bytes, rng: np.random.Generator) -> bytes:
    return data[: int(rng.integers(len(data)))]


def insertion(data: bytes, rng: np.random.Generator) -> bytes:
    at = int(rng.integers(len(data) + 1))
    return data[:at] + rng.bytes(int(rng.integers(1, 33))) + data[at:]


def header_edit(data: bytes, rng: np.random.Generator) -> bytes:
    """Flip or replace bytes in the first 128: .npy headers, IDX dims, CSV header.

    For an NPZ the first member's local header and .npy header start the file; a
    later member's .npy header is hit by ``npy_header_edit``.
    """
    out = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        at = int(rng.integers(min(128, len(out))))
        out[at] = int(rng.choice([ord("9"), ord(","), ord("("), ord("'"), 0xFF, 0]))
    return bytes(out)


def npy_header_edit(data: bytes, rng: np.random.Generator) -> bytes:
    """Rewrite an NPZ member's .npy header text (shape, dtype), keeping the zip
    valid, so the reader's header checks rather than zip's CRC see the lie."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    victim = int(rng.integers(len(source.infolist())))
    edits = [
        (b"'shape': (", b"'shape': (99999999999, "),
        (b"'shape': (", b"'shape': (" + b"2, " * 40),
        (b"'shape': (", b"'shape': (-3, "),
        (b"'descr': '", b"'descr': '|O"),
        (b"'descr': '<", b"'descr': '>"),
        (b"'fortran_order': False", b"'fortran_order': True"),
        (b"{", b"{{"),
        (b"}", b")"),
    ]
    old, new = edits[int(rng.integers(len(edits)))]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for i, info in enumerate(source.infolist()):
            member = source.read(info)
            if i == victim:
                member = member.replace(old, new, 1)
            target.writestr(info.filename, member)
    return out.getvalue()


MUTATIONS: list[Mutation] = [
    bit_flips,
    byte_overwrite,
    truncation,
    insertion,
    header_edit,
]


def _mutants(
    data: bytes, rng: np.random.Generator, extra: list[Mutation] = ()
) -> list[tuple[str, bytes]]:
    mutations = [*MUTATIONS, *extra]
    cases = []
    for _ in range(CASES_PER_FILE):
        mutation = mutations[int(rng.integers(len(mutations)))]
        cases.append((mutation.__name__, mutation(data, rng)))
    return cases


def _check(read: Callable[[], object], label: str) -> str:
    """Run one case: a Dataset or an NNDeskError, with a bounded allocation."""
    tracemalloc.start()
    try:
        read()
        outcome = "loaded"
    except NNDeskError as exc:
        message = str(exc)
        assert message and "\n" not in message, (label, message)
        outcome = type(exc).__name__
    except Exception as exc:  # noqa: BLE001 - the failure this test exists for
        pytest.fail(f"{label}: {type(exc).__name__}: {exc}")
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < _MAX_PEAK_BYTES, f"{label}: allocated {peak:,} bytes"
    return outcome


# --- the fuzz runs -----------------------------------------------------------------------
@pytest.mark.parametrize("compressed", [True, False], ids=["deflated", "stored"])
def test_mutated_npz_files(tmp_path: Path, compressed: bool) -> None:
    rng = np.random.default_rng([SEED, int(compressed)])
    path = tmp_path / "data.npz"
    outcomes = []
    for i, (name, data) in enumerate(
        _mutants(_npz(compressed), rng, [npy_header_edit])
    ):
        path.write_bytes(data)
        outcomes.append(_check(lambda: read_npz(path), f"npz case {i} ({name})"))
    assert outcomes.count("DatasetError") > CASES_PER_FILE // 2  # the mutations bite


@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "raw"])
def test_mutated_idx_files(tmp_path: Path, gz: bool) -> None:
    rng = np.random.default_rng([SEED, 2 + int(gz)])
    valid = _idx_folder(tmp_path / "valid", gz)
    folder = tmp_path / "mutant"
    folder.mkdir()
    outcomes = []
    for target in valid:
        for i, (name, data) in enumerate(_mutants(valid[target], rng)):
            for other, good in valid.items():
                (folder / other).write_bytes(data if other == target else good)
            label = f"idx {target} case {i} ({name})"
            outcomes.append(_check(lambda: load_idx(folder), label))
    assert outcomes.count("DatasetError") > CASES_PER_FILE // 2


def test_mutated_csv_files(tmp_path: Path) -> None:
    rng = np.random.default_rng([SEED, 4])
    path = tmp_path / "data.csv"
    outcomes = []
    for i, (name, data) in enumerate(_mutants(_csv(), rng)):
        path.write_bytes(data)
        outcomes.append(_check(lambda: read_csv(path), f"csv case {i} ({name})"))
    assert outcomes.count("DatasetError") > 5 and "loaded" in outcomes
