"""Fuzzing: thousands of mutated network files load cleanly or raise FileFormatError.

Raw mutations (bit flips, truncations, insertions) mostly die at the zip layer, so
most cases mutate one level deeper and re-zip with valid CRCs: member bytes, the
JSON tree, the .npy headers inside weights.npz, and the member list itself. The
seed is fixed, so a failure names a case that reproduces. Time limits count CPU
time, which other jobs on a shared machine do not inflate.
"""

from __future__ import annotations

import io
import json
import random
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from make_sample_files import V0_SAMPLE, Entry, forge_zip, read_members, sample_project

from nndesk.io import FileFormatError, load_project, save_project

SEED = 20240611
CASES = 3000
MAX_SECONDS_PER_CASE = 1.0

Members = list[tuple[str, bytes]]


# --- byte-level mutations ------------------------------------------------------------


def flip_bits(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))]


def insert_bytes(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.randbytes(rng.randint(1, 16)) + data[at:]


def delete_range(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data))
    return data[:at] + data[at + rng.randint(1, 64) :]


def overwrite_range(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data))
    chunk = rng.randbytes(rng.randint(1, 16))
    return data[:at] + chunk + data[at + len(chunk) :]


def interesting_value(data: bytes, rng: random.Random) -> bytes:
    """Overwrite 4 bytes with a boundary integer (sizes, offsets, counts)."""
    at = rng.randrange(max(1, len(data) - 4))
    value = rng.choice(
        [0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000, 0xFFFF, 65536, 22, 30]
    )
    return data[:at] + value.to_bytes(4, "little") + data[at + 4 :]


BYTE_MUTATIONS: list[Callable[[bytes, random.Random], bytes]] = [
    flip_bits,
    truncate,
    insert_bytes,
    delete_range,
    overwrite_range,
    interesting_value,
]


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return rng.randbytes(rng.randint(0, 8))
    return rng.choice(BYTE_MUTATIONS)(data, rng)


# --- structure-aware mutations ---------------------------------------------------------

ODD_VALUES: list[Any] = [
    None, True, False, 0, -1, 1, 2**31, 2**70, -(2**63), 0.5, -0.0, 1e308, "", "x",
    "Dense", "input_1", "out", "in", "NaN", "Infinity", [], {}, [1, 2], [[2]],
    {"a": 1}, {"shape": [2]}, "9" * 50, list(range(50)),
]  # fmt: skip


def mutate_json(data: bytes, rng: random.Random) -> bytes:
    try:
        tree = json.loads(data)
    except ValueError:
        return mutate_bytes(data, rng)
    containers = _containers(tree)
    target = rng.choice(containers)
    if isinstance(target, dict):
        keys = list(target)
        op = rng.randrange(3) if keys else 2
        if op == 0:
            target[rng.choice(keys)] = rng.choice(ODD_VALUES)
        elif op == 1:
            del target[rng.choice(keys)]
        else:
            target[
                rng.choice(["extra", "id", "type_name", "format_version", "loss"])
            ] = rng.choice(ODD_VALUES)
    elif target:
        op = rng.randrange(3)
        i = rng.randrange(len(target))
        if op == 0:
            target[i] = rng.choice(ODD_VALUES)
        elif op == 1:
            del target[i]
        else:
            target.insert(i, target[rng.randrange(len(target))])
    else:
        target.append(rng.choice(ODD_VALUES))
    return json.dumps(tree).encode()


def _containers(tree: Any) -> list[Any]:
    found, stack = [], [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, (dict, list)):
            found.append(item)
            stack.extend(item.values() if isinstance(item, dict) else item)
    return found


def mutate_npz(data: bytes, rng: random.Random) -> bytes:
    """Change one .npy member inside the .npz, mostly in its header, keep CRCs valid."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inner = [(i.filename, archive.read(i)) for i in archive.infolist()]
    except (zipfile.BadZipFile, ValueError):
        return mutate_bytes(data, rng)
    if not inner:
        return mutate_bytes(data, rng)
    i = rng.randrange(len(inner))
    name, npy = inner[i]
    head, rest = npy[:128], npy[128:]
    if rng.random() < 0.7:
        npy = mutate_bytes(head, rng) + rest
    else:
        npy = mutate_bytes(npy, rng)
    inner[i] = (name, npy)
    method = rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
    return forge_zip([Entry(n, d, method=method) for n, d in inner])


def mutate_member(members: Members, rng: random.Random) -> Members:
    out = list(members)
    i = rng.randrange(len(out))
    name, data = out[i]
    if name.endswith(".json"):
        data = mutate_json(data, rng) if rng.random() < 0.7 else mutate_bytes(data, rng)
    else:
        data = mutate_npz(data, rng) if rng.random() < 0.7 else mutate_bytes(data, rng)
    out[i] = (name, data)
    return out


def shuffle_members(members: Members, rng: random.Random) -> Members:
    out = list(members)
    op = rng.randrange(5)
    i, j = rng.randrange(len(out)), rng.randrange(len(out))
    if op == 0:  # swap two members' contents
        out[i], out[j] = (out[i][0], out[j][1]), (out[j][0], out[i][1])
    elif op == 1:
        del out[i]
    elif op == 2:
        out.append(out[i])
    elif op == 3:
        out[i] = (
            rng.choice(["evil.py", "../graph.json", "/abs", "graph.json "]),
            out[i][1],
        )
    else:
        rng.shuffle(out)
    return out


def mutated_file(members: Members, raw: bytes, rng: random.Random) -> tuple[str, bytes]:
    roll = rng.random()
    if roll < 0.25:
        return "raw bytes", mutate_bytes(raw, rng)
    if roll < 0.85:
        changed = mutate_member(members, rng)
        kind = "member content"
    else:
        changed = shuffle_members(members, rng)
        kind = "member list"
    method = rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
    return kind, forge_zip([Entry(n, d, method=method) for n, d in changed])


# --- the test ------------------------------------------------------------------------------


@pytest.mark.slow
def test_mutated_files_load_or_raise_file_format_error(tmp_path: Path) -> None:
    base = tmp_path / "base.nndesk"
    save_project(base, sample_project())
    bases = [(list(read_members(p).items()), p.read_bytes()) for p in (base, V0_SAMPLE)]
    target = tmp_path / "fuzz.nndesk"
    rng = random.Random(SEED)
    outcomes = {"loaded": 0, "refused": 0}
    failures: list[str] = []
    slowest = (0.0, "")
    for case in range(CASES):
        members, raw = bases[case % len(bases)]
        kind, data = mutated_file(members, raw, rng)
        target.write_bytes(data)
        start = time.process_time()
        try:
            project = load_project(target)
        except FileFormatError:
            outcomes["refused"] += 1
        except Exception as exc:  # the bug this test exists to find
            failures.append(f"case {case} ({kind}): {type(exc).__name__}: {exc}")
        else:
            outcomes["loaded"] += 1
            # Whatever loads must save again and load back.
            save_project(tmp_path / "again.nndesk", project)
            load_project(tmp_path / "again.nndesk")
        elapsed = time.process_time() - start
        if elapsed > slowest[0]:
            slowest = (elapsed, f"case {case} ({kind})")
    assert not failures, f"{len(failures)} cases raised other errors:\n" + "\n".join(
        failures[:20]
    )
    assert slowest[0] < MAX_SECONDS_PER_CASE, (
        f"slowest: {slowest[1]} took {slowest[0]:.2f} s"
    )
    # The mutations must reach past the zip layer often enough to mean something.
    assert outcomes["refused"] > CASES // 2
    assert outcomes["loaded"] > 0
