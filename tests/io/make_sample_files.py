"""Sample network files for the project-file tests, and the helpers that build them.

Run ``python tests/io/make_sample_files.py`` to (re)write the committed samples:

- ``data/spiral_v0.nndesk``: a file as the pre-release nndesk wrote it (graph.json in
  document format 0), built here with only zipfile, json and NumPy, so the loader's
  migration path always has a real old file to read.
- ``data/spiral_v1.nndesk``: the same network saved by ``save_project`` (format 1);
  once the format moves on, it becomes the next old-version sample.

The functions are also imported by the tests: a sample project with real Adam
state, member-level rewriting of a saved file, and a small zip writer that can forge
any header field (lying sizes, overlapping entries, odd flags).
"""

from __future__ import annotations

import io
import json
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).resolve().parent / "data"
V0_SAMPLE = DATA / "spiral_v0.nndesk"
V1_SAMPLE = DATA / "spiral_v1.nndesk"


# --- projects ---------------------------------------------------------------------------


def sample_document():  # -> Document (imported lazily so the module runs standalone)
    """Input(2) -> Dense(8, tanh) -> BatchNorm -> Dense(3, softmax) -> Output."""
    from nndesk.document import Document

    doc = Document({"dataset": "spiral:n=400,noise=0.1", "learning_rate": 0.01})
    ids = [
        doc.add_node("Input", {"shape": (2,)}),
        doc.add_node("Dense", {"units": 8, "activation": "tanh"}, pos=(220.0, 0.0)),
        doc.add_node("BatchNorm", {}, pos=(440.0, 0.0)),
        doc.add_node("Dense", {"units": 3, "activation": "softmax"}, pos=(660.0, 0.0)),
        doc.add_node(
            "Output", {"loss": "sparse_categorical_crossentropy"}, (880.0, 0.0)
        ),
    ]
    for src, dst in zip(ids, ids[1:], strict=False):
        doc.connect(src, "out", dst, "in")
    return doc


def sample_project(seed: int = 0):  # -> Project
    """A trained-looking project: weights, Adam state, history and a fitted scaler."""
    from nndesk.io import Project, expected_weight_shapes
    from nndesk.io.datasets import Scaler

    rng = np.random.default_rng(seed)
    doc = sample_document()
    weights = {
        key: rng.standard_normal(shape).astype(np.float32)
        for key, shape in expected_weight_shapes(doc).items()
    }
    weights["batchnorm_1/running_var"] = np.abs(weights["batchnorm_1/running_var"])
    # Adam's state layout (Optimizer.get_state): moments per trainable weight.
    state = {"iterations": np.array(3, dtype=np.int64)}
    for key, w in weights.items():
        if not key.endswith(("running_mean", "running_var")):
            state[f"{key}/m"] = (0.1 * rng.standard_normal(w.shape)).astype(np.float32)
            state[f"{key}/v"] = (0.01 * rng.random(w.shape)).astype(np.float32)
    scaler = Scaler("standard").fit(rng.standard_normal((50, 2)))
    return Project(
        document=doc,
        weights=weights,
        optimizer_state=state,
        history={"loss": [1.1, 0.7, 0.4], "val_loss": [1.2, 0.8, 0.5]},
        preprocessing=scaler.to_dict(),
        optimizer_name="adam",
    )


# --- members of a saved file -----------------------------------------------------------


def read_members(path: Path) -> dict[str, bytes]:
    """Member name -> bytes of a zip file, in archive order."""
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def write_members(
    path: Path,
    members: dict[str, bytes] | list[tuple[str, bytes]],
    method: int = zipfile.ZIP_DEFLATED,
) -> Path:
    """Write members with plain zipfile (duplicates allowed when given as a list)."""
    items = members.items() if isinstance(members, dict) else members
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        for name, data in items:
            archive.writestr(name, data)
    return path


def npz_bytes(arrays: dict[str, np.ndarray], **kwargs: Any) -> bytes:
    """``np.savez`` into memory."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays, **kwargs)
    return buffer.getvalue()


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, indent=2).encode("utf-8")


# --- a zip writer that can lie ------------------------------------------------------


@dataclass
class Entry:
    """One member for ``forge_zip``; the overrides go into the central directory."""

    name: str
    data: bytes
    method: int = zipfile.ZIP_DEFLATED
    flags: int = 0
    declared_size: int | None = None
    offset: int | None = None  # point the directory entry at another member's header
    local_name: str | None = None


_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01


def forge_zip(entries: list[Entry], tail: bytes = b"") -> bytes:
    """A zip archive laid out exactly as told (``tail`` is appended after the end)."""
    body = bytearray()
    central = bytearray()
    for e in entries:
        payload = _compress(e.data, e.method)
        crc = zlib.crc32(e.data)
        local_name = (e.local_name or e.name).encode()
        offset = len(body)
        body += _LOCAL.pack(
            b"PK\x03\x04", 20, e.flags, e.method, 0, _DOS_DATE, crc,
            len(payload), len(e.data), len(local_name), 0,
        )  # fmt: skip
        body += local_name + payload
        name = e.name.encode()
        size = len(e.data) if e.declared_size is None else e.declared_size
        central += _CENTRAL.pack(
            b"PK\x01\x02", 20, 20, e.flags, e.method, 0, _DOS_DATE, crc,
            len(payload), size, len(name), 0, 0, 0, 0, 0,
            offset if e.offset is None else e.offset,
        )  # fmt: skip
        central += name
    end = _END.pack(
        b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), len(body), 0
    )
    return bytes(body + central + end) + tail


def _compress(data: bytes, method: int) -> bytes:
    if method == zipfile.ZIP_DEFLATED:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        return packer.compress(data) + packer.flush()
    return data


# --- the committed samples ---------------------------------------------------------------


def write_v0_sample(path: Path) -> None:
    """The spiral network as the pre-release nndesk wrote it, graph format 0."""
    from nndesk.io import expected_weight_shapes

    graph_v0 = {
        "version": 0,
        "nodes": {
            "input_1": {"type": "Input", "params": {"shape": [2]}, "x": 0, "y": 0},
            "dense_1": {
                "type": "Dense",
                "params": {"units": 8, "activation": "tanh"},
                "x": 220,
                "y": 0,
                "label": "hidden",
            },
            "dense_2": {
                "type": "Dense",
                "params": {"units": 1, "activation": "sigmoid"},
                "x": 440,
                "y": 0,
            },
            "output_1": {"type": "Output", "params": {}, "x": 660, "y": 0},
        },
        "edges": [
            ["input_1", "out", "dense_1", "in"],
            ["dense_1", "out", "dense_2", "in"],
            ["dense_2", "out", "output_1", "in"],
        ],
        "training": {
            "dataset": "spiral:n=400,noise=0.1",
            "optimizer": "sgd",
            "lr": 0.05,
            "batch_size": 16,
            "epochs": 50,
            "loss": "binary_crossentropy",
        },
    }
    rng = np.random.default_rng(2024)
    shapes = {"dense_1/kernel": (2, 8), "dense_1/bias": (8,)}
    shapes.update({"dense_2/kernel": (8, 1), "dense_2/bias": (1,)})
    weights = {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}
    metadata = {
        "format": "nndesk",
        "format_version": 1,
        "app_version": "0.0.1",
        "created": "2024-05-01T09:30:00+00:00",
        "modified": "2024-05-02T17:45:10+00:00",
    }
    write_members(
        path,
        {
            "metadata.json": json_bytes(metadata),
            "graph.json": json_bytes(graph_v0),
            "history.json": json_bytes({"loss": [0.69, 0.52, 0.31]}),
            "weights.npz": npz_bytes(weights),
        },
    )
    # Self-check against the current graph rules, so a sample never rots unseen.
    from nndesk.io import load_project

    assert set(expected_weight_shapes(load_project(path).document)) == set(shapes)


def write_v1_sample(path: Path) -> None:
    """The sample project saved by this version of nndesk."""
    from nndesk.io import ProjectMetadata, save_project

    project = sample_project(seed=1)
    when = datetime(2025, 3, 14, 15, 9, 26, tzinfo=timezone.utc)
    project.metadata = ProjectMetadata("0.1.0", when, when)
    save_project(path, project)


def main() -> int:
    DATA.mkdir(exist_ok=True)
    write_v0_sample(V0_SAMPLE)
    write_v1_sample(V1_SAMPLE)
    for path in (V0_SAMPLE, V1_SAMPLE):
        sys.stdout.write(f"wrote {path} ({path.stat().st_size} bytes)\n")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    raise SystemExit(main())
