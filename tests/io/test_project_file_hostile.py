"""Hostile and broken network files: each gets one clear FileFormatError, fast and small.

Every test builds one kind of bad file and checks the exact sentence a user would
see. ``load_error`` also asserts the refusal took under a second of CPU time (CPU,
not wall clock, so other jobs on a shared machine cannot fail it) and allocated
little, so none of these can hide a hang or a large allocation.
"""

from __future__ import annotations

import json
import pickle
import time
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from make_sample_files import (
    V0_SAMPLE,
    Entry,
    forge_zip,
    json_bytes,
    npz_bytes,
    read_members,
    sample_project,
    write_members,
)

from nndesk.io import (
    FileFormatError,
    NonFiniteWeightsError,
    load_project,
    peek_project_metadata,
    project_file,
    save_project,
)
from nndesk.io._archive import ZipLimits
from nndesk.io._members import FILE_FORMAT_VERSION

NAME = "spiral.nndesk"
_MAX_SECONDS = 1.0
_MAX_PEAK_BYTES = 64 << 20


@pytest.fixture(scope="module")
def members(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    path = tmp_path_factory.mktemp("base") / NAME
    save_project(path, sample_project())
    return read_members(path)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / NAME


def load_error(path: Path, **kwargs) -> str:
    """Load ``path`` expecting a FileFormatError; check time and memory; return it."""
    tracemalloc.start()
    start = time.process_time()
    try:
        with pytest.raises(FileFormatError) as info:
            load_project(path, **kwargs)
        elapsed = time.process_time() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < _MAX_SECONDS, f"refusal took {elapsed:.2f} s"
    assert peak < _MAX_PEAK_BYTES, f"refusal allocated {peak:,} bytes"
    return str(info.value)


def with_member(members: dict[str, bytes], name: str, data: bytes) -> dict[str, bytes]:
    changed = dict(members)
    changed[name] = data
    return changed


def graph_of(members: dict[str, bytes]) -> dict:
    return json.loads(members["graph.json"])


def weights_of(members: dict[str, bytes]) -> dict[str, np.ndarray]:
    import io

    with np.load(io.BytesIO(members["weights.npz"])) as npz:
        return {k: npz[k] for k in npz.files}


# --- not a network file at all -------------------------------------------------------


def test_missing_file(path: Path) -> None:
    assert load_error(path) == "spiral.nndesk does not exist."


def test_empty_file(path: Path) -> None:
    path.write_bytes(b"")
    assert load_error(path) == "spiral.nndesk is empty."


def test_directory(path: Path) -> None:
    path.mkdir()
    assert load_error(path) == "spiral.nndesk is a folder, not a network file."


def test_non_zip_data(path: Path) -> None:
    path.write_bytes(b"This is a text file that someone renamed.\n" * 20)
    assert load_error(path) == (
        "spiral.nndesk is not a zip archive, or it is truncated or has data appended."
    )


def test_pickle_file_is_never_unpickled(path: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path.write_bytes(pickle.dumps(_Touch(marker)))
    assert "is not a zip archive" in load_error(path)
    assert not marker.exists()


def test_truncated_file(path: Path, members: dict[str, bytes]) -> None:
    write_members(path, members)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert load_error(path) == (
        "spiral.nndesk is not a zip archive, or it is truncated or has data appended."
    )


def test_data_appended_after_the_archive(path: Path, members: dict[str, bytes]) -> None:
    write_members(path, members)
    path.write_bytes(path.read_bytes() + b"trailing garbage")
    assert (
        "is not a zip archive, or it is truncated or has data appended"
        in load_error(path)
    )


def test_bit_flip_in_stored_weights_is_a_crc_error(path: Path, members) -> None:
    save_project(path, sample_project())
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("weights.npz")
    data[info.header_offset + 30 + len("weights.npz") + info.compress_size - 5] ^= 0x10
    path.write_bytes(bytes(data))
    assert load_error(path) == (
        "spiral.nndesk has a damaged member 'weights.npz' "
        "(Bad CRC-32 for file 'weights.npz')."
    )


def test_bit_flip_in_deflated_json(path: Path, members: dict[str, bytes]) -> None:
    save_project(path, sample_project())
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("graph.json")
    data[info.header_offset + 30 + len("graph.json") + 10] ^= 0xFF
    path.write_bytes(bytes(data))
    assert load_error(path).startswith(
        "spiral.nndesk has a damaged member 'graph.json' ("
    )


def test_foreign_zip_with_a_metadata_json(path: Path) -> None:
    keras_like = {"keras_version": "3.0.0", "date_saved": "2024-01-01@00:00:00"}
    write_members(path, {"metadata.json": json_bytes(keras_like)})
    assert load_error(path) == (
        "spiral.nndesk is not an nndesk network file (metadata.json names another "
        "format)."
    )


def test_zip_without_metadata(path: Path) -> None:
    write_members(path, {"graph.json": b"{}"})
    assert load_error(path) == (
        "spiral.nndesk is not an nndesk network file (it has no metadata.json)."
    )


def test_missing_graph(path: Path, members: dict[str, bytes]) -> None:
    write_members(path, {"metadata.json": members["metadata.json"]})
    assert load_error(path) == "spiral.nndesk is missing its graph.json."


# --- member names ----------------------------------------------------------------------


def test_absolute_member_path(path: Path, members: dict[str, bytes]) -> None:
    path.write_bytes(forge_zip([Entry("metadata.json", members["metadata.json"]),
                                Entry("/etc/passwd", b"root:x:0:0")]))  # fmt: skip
    assert load_error(path) == (
        "spiral.nndesk has a member with the unsafe path '/etc/passwd'."
    )


def test_dot_dot_member_path(path: Path, members: dict[str, bytes]) -> None:
    path.write_bytes(forge_zip([Entry("metadata.json", members["metadata.json"]),
                                Entry("../../.bashrc", b"evil")]))  # fmt: skip
    assert load_error(path) == (
        "spiral.nndesk has a member with the unsafe path '../../.bashrc'."
    )


def test_unexpected_member(path: Path, members: dict[str, bytes]) -> None:
    write_members(path, with_member(members, "notes.txt", b"hello"))
    assert load_error(path) == "spiral.nndesk holds the unexpected member 'notes.txt'."


def test_duplicate_member_names(path: Path, members: dict[str, bytes]) -> None:
    items = list(members.items()) + [("graph.json", b'{"format_version": 1}')]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile: "Duplicate name"
        write_members(path, items)
    assert load_error(path) == "spiral.nndesk has two members named 'graph.json'."


def test_encrypted_member(path: Path, members: dict[str, bytes]) -> None:
    path.write_bytes(
        forge_zip([Entry("metadata.json", members["metadata.json"], flags=0x1)])
    )
    assert load_error(path) == "spiral.nndesk has the encrypted member 'metadata.json'."


def test_unsupported_compression(path: Path, members: dict[str, bytes]) -> None:
    write_members(path, members, method=zipfile.ZIP_BZIP2)
    assert load_error(path) == (
        "spiral.nndesk has member 'metadata.json' compressed with zip method 12; only "
        "stored and deflated members are read."
    )


# --- zip bombs -------------------------------------------------------------------------


def test_high_compression_ratio_is_a_bomb(
    path: Path, members: dict[str, bytes]
) -> None:
    bomb = b"0" * (30 << 20)
    write_members(path, with_member(members, "history.json", bomb))
    message = load_error(path)
    assert message.startswith(
        "spiral.nndesk has member 'history.json' that would expand "
    )
    assert message.endswith("(a zip bomb).")


def test_overlapping_members(path: Path, members: dict[str, bytes]) -> None:
    # Two directory entries sharing one local header: the non-recursive bomb layout.
    entries = [
        Entry("metadata.json", members["metadata.json"]),
        Entry("graph.json", members["graph.json"]),
        Entry("history.json", members["graph.json"], offset=0),
    ]
    path.write_bytes(forge_zip(entries))
    assert load_error(path) == (
        "spiral.nndesk has members 'metadata.json' and 'history.json' that overlap (a "
        "zip bomb trick)."
    )


def test_declared_size_smaller_than_the_data(path: Path, members) -> None:
    entries = [Entry(n, d) for n, d in members.items()]
    entries[1].declared_size = 100  # graph.json claims 100 bytes, unpacks to more
    path.write_bytes(forge_zip(entries))
    assert load_error(path) == (
        "spiral.nndesk has a damaged member 'graph.json' (Bad CRC-32 for file "
        "'graph.json')."
    )


def test_declared_size_larger_than_the_data(path: Path, members) -> None:
    entries = [Entry(n, d) for n, d in members.items()]
    entries[1].declared_size = 1 << 20  # within the ratio limit, but a lie
    path.write_bytes(forge_zip(entries))
    assert load_error(path).startswith(
        "spiral.nndesk has a damaged member 'graph.json'"
    )


def test_member_over_its_size_cap(path: Path, members: dict[str, bytes]) -> None:
    meta = json.loads(members["metadata.json"])
    meta["app_version"] = "x" * 100_000
    data = json_bytes(meta)
    write_members(path, with_member(members, "metadata.json", data), zipfile.ZIP_STORED)
    assert load_error(path) == (
        f"spiral.nndesk has member 'metadata.json' of {len(data):,} bytes; at most "
        "65,536 are read."
    )


def test_total_unpacked_size_is_capped(path: Path, members, monkeypatch) -> None:
    small = ZipLimits(max_members=64, max_directory_size=1 << 16,
                      max_member_size=1 << 20, max_total_size=4000)  # fmt: skip
    monkeypatch.setattr(project_file, "_FILE_LIMITS", small)
    write_members(path, members)
    assert load_error(path) == (
        "spiral.nndesk would unpack to more than 4,000 bytes, which is too large."
    )


def test_too_many_zip_entries(path: Path) -> None:
    path.write_bytes(forge_zip([Entry(f"m{i}", b"") for i in range(65)]))
    assert load_error(path) == "spiral.nndesk has 65 zip entries; at most 64 are read."


def test_zip64_end_record(path: Path, members: dict[str, bytes]) -> None:
    import struct

    plain = forge_zip([Entry(n, d) for n, d in members.items()])
    end = plain[-22:]
    count, cd_size, cd_offset = struct.unpack("<2xHLL", end[8:20])
    zip64_end = struct.pack(
        "<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, cd_size, cd_offset
    )
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, len(plain) - 22, 1)
    path.write_bytes(plain[:-22] + zip64_end + locator + end)
    assert load_error(path) == (
        "spiral.nndesk uses ZIP64 records, which nndesk files never need."
    )


# --- JSON members ----------------------------------------------------------------------


def test_json_too_large(path: Path, members: dict[str, bytes]) -> None:
    huge = b'{"format_version": 1, "nodes": [], "edges": []' + b" " * (5 << 20) + b"}"
    write_members(path, with_member(members, "graph.json", huge), zipfile.ZIP_STORED)
    assert load_error(path) == (
        "spiral.nndesk has member 'graph.json' of 5,242,927 bytes; at most 4,194,304 are "
        "read."
    )


def test_json_nested_beyond_the_recursion_limit(path: Path, members) -> None:
    deep = b"[" * 200_000 + b"]" * 200_000
    write_members(path, with_member(members, "history.json", deep))
    assert load_error(path) == (
        "spiral.nndesk: history.json is nested more than 32 levels deep."
    )


def test_json_nested_a_little_too_deep(path: Path, members: dict[str, bytes]) -> None:
    graph = graph_of(members)
    graph["nodes"][0]["label"] = json.loads("[" * 40 + "]" * 40)
    write_members(path, with_member(members, "graph.json", json_bytes(graph)))
    assert (
        load_error(path)
        == "spiral.nndesk: graph.json is nested more than 32 levels deep."
    )


def test_invalid_json(path: Path, members: dict[str, bytes]) -> None:
    write_members(path, with_member(members, "training.json", b'{"optimizer": adam}'))
    assert load_error(path) == (
        "spiral.nndesk: training.json is not valid JSON (Expecting value at line 1, "
        "column 15)."
    )


def test_json_nan_token(path: Path, members: dict[str, bytes]) -> None:
    write_members(path, with_member(members, "history.json", b'{"loss": [NaN]}'))
    assert load_error(path) == (
        "spiral.nndesk: history.json is not valid JSON (NaN is not a JSON number)."
    )


def test_json_duplicate_keys(path: Path, members: dict[str, bytes]) -> None:
    text = b'{"optimizer": "adam", "optimizer": "sgd"}'
    write_members(path, with_member(members, "training.json", text))
    assert load_error(path) == (
        "spiral.nndesk: training.json is not valid JSON (the key 'optimizer' appears "
        "twice in one object)."
    )


def test_json_not_utf8(path: Path, members: dict[str, bytes]) -> None:
    write_members(path, with_member(members, "history.json", b'{"l\xe9": []}'))
    assert load_error(path) == "spiral.nndesk: history.json is not UTF-8 text (byte 3)."


def test_json_integer_with_too_many_digits(path: Path, members) -> None:
    text = b'{"loss": [' + b"9" * 5000 + b"]}"
    write_members(path, with_member(members, "history.json", text))
    assert load_error(path).startswith(
        "spiral.nndesk: history.json is not valid JSON ("
    )


# --- versions and the graph ------------------------------------------------------------


def test_newer_file_format(path: Path, members: dict[str, bytes]) -> None:
    meta = json.loads(members["metadata.json"])
    newer = FILE_FORMAT_VERSION + 1
    meta["format_version"] = newer
    meta["something_new"] = True
    write_members(path, with_member(members, "metadata.json", json_bytes(meta)))
    assert load_error(path) == (
        f"spiral.nndesk was made by a newer nndesk (format {newer}; this build reads "
        f"up to {FILE_FORMAT_VERSION}): update nndesk to open it."
    )
    with pytest.raises(FileFormatError, match=rf"newer nndesk \(format {newer};"):
        peek_project_metadata(path)


def test_newer_graph_format(path: Path, members: dict[str, bytes]) -> None:
    graph = graph_of(members)
    graph["format_version"] = 7
    write_members(path, with_member(members, "graph.json", json_bytes(graph)))
    assert load_error(path) == (
        "spiral.nndesk was made by a newer nndesk (graph format 7; this build reads up "
        "to 1): update nndesk to open it."
    )


def test_unknown_metadata_key(path: Path, members: dict[str, bytes]) -> None:
    meta = json.loads(members["metadata.json"])
    meta["author"] = "me"
    write_members(path, with_member(members, "metadata.json", json_bytes(meta)))
    assert (
        load_error(path) == "spiral.nndesk: metadata.json has the unknown key 'author'."
    )


def test_bad_timestamp(path: Path, members: dict[str, bytes]) -> None:
    meta = json.loads(members["metadata.json"])
    meta["modified"] = "yesterday"
    write_members(path, with_member(members, "metadata.json", json_bytes(meta)))
    assert load_error(path) == (
        "spiral.nndesk: metadata.json has no valid modified time (ISO 8601 expected, "
        "got 'yesterday')."
    )


def test_unknown_node_type(path: Path, members: dict[str, bytes]) -> None:
    graph = graph_of(members)
    graph["nodes"][1]["type_name"] = "Dense3"
    write_members(path, with_member(members, "graph.json", json_bytes(graph)))
    assert load_error(path) == (
        "spiral.nndesk: graph.json: node 'dense_1' has unknown type 'Dense3'."
    )


def test_node_type_naming_a_python_object_is_just_unknown(path: Path, members) -> None:
    graph = graph_of(members)
    graph["nodes"][1]["type_name"] = "os.system"
    write_members(path, with_member(members, "graph.json", json_bytes(graph)))
    assert "has unknown type 'os.system'" in load_error(path)


def test_old_graph_with_params_that_are_not_an_object(path: Path) -> None:
    write_v0 = read_members(V0_SAMPLE)
    graph = json.loads(write_v0["graph.json"])
    graph["nodes"]["dense_1"]["params"] = 5
    write_members(path, with_member(write_v0, "graph.json", json_bytes(graph)))
    assert load_error(path).startswith("spiral.nndesk: graph.json")


def test_too_many_nodes(path: Path, members: dict[str, bytes]) -> None:
    graph = graph_of(members)
    node = graph["nodes"][2]
    graph["nodes"] = [
        dict(node, id=f"relu_{i}") for i in range(project_file.MAX_NODES + 1)
    ]
    graph["edges"] = []
    write_members(path, with_member(members, "graph.json", json_bytes(graph)))
    assert load_error(path) == (
        "spiral.nndesk: graph.json has 1,001 nodes; nndesk opens at most 1,000."
    )


def test_too_many_edges(path: Path, members: dict[str, bytes]) -> None:
    graph = graph_of(members)
    edge = graph["edges"][0]
    graph["edges"] = [edge] * (project_file.MAX_EDGES + 1)
    write_members(path, with_member(members, "graph.json", json_bytes(graph)))
    assert load_error(path) == (
        "spiral.nndesk: graph.json has 2,001 edges; nndesk opens at most 2,000."
    )


def test_largest_graph_opened_loads_within_a_second(path: Path, members) -> None:
    """Node and edge limits, in the worst edge order for the cycle checks: a chain
    listed backwards, then merges fed by the end of the chain."""
    merges = 40
    chain = ["input_1"] + [
        f"relu_{i}" for i in range(project_file.MAX_NODES - 1 - merges)
    ]
    nodes = [{"id": "input_1", "type_name": "Input", "params": {"shape": [2]},
              "pos": [0, 0]}]  # fmt: skip
    nodes += [{"id": n, "type_name": "ReLU", "pos": [0, 0]} for n in chain[1:]]
    nodes += [{"id": f"concatenate_{i}", "type_name": "Concatenate", "pos": [0, 0]}
              for i in range(merges)]  # fmt: skip
    pairs = list(zip(chain, chain[1:], strict=False))[::-1]
    tail = chain[-40:]
    pairs += [(src, f"concatenate_{i}") for i in range(merges) for src in tail]
    pairs = pairs[: project_file.MAX_EDGES]
    edges = [{"src_node": a, "src_port": "out", "dst_node": b, "dst_port": "in"}
             for a, b in pairs]  # fmt: skip
    graph = {"format_version": 1, "nodes": nodes, "edges": edges}
    write_members(path, with_member(members, "graph.json", json_bytes(graph)) | {
        "weights.npz": npz_bytes({}), "optimizer.npz": npz_bytes({})})  # fmt: skip
    start = time.process_time()
    project = load_project(path)
    assert time.process_time() - start < _MAX_SECONDS
    assert len(project.document) == project_file.MAX_NODES
    assert len(project.document.edges) == project_file.MAX_EDGES


# --- arrays ----------------------------------------------------------------------------


def with_weights(members, **changes) -> dict[str, bytes]:
    weights = weights_of(members)
    for key, value in changes.items():
        key = key.replace("__", "/")
        if value is None:
            del weights[key]
        else:
            weights[key] = value
    return with_member(members, "weights.npz", npz_bytes(weights))


def test_weights_missing_an_array(path: Path, members: dict[str, bytes]) -> None:
    write_members(path, with_weights(members, dense_1__kernel=None))
    assert load_error(path) == (
        "spiral.nndesk: weights.npz is missing the array 'dense_1/kernel'."
    )


def test_weights_with_an_extra_array(path: Path, members: dict[str, bytes]) -> None:
    write_members(path, with_weights(members, dense_9__kernel=np.zeros(3, np.float32)))
    assert load_error(path) == (
        "spiral.nndesk: weights.npz holds the array 'dense_9/kernel', which no node of "
        "the graph has."
    )


def test_weights_with_the_wrong_shape(path: Path, members: dict[str, bytes]) -> None:
    write_members(path, with_weights(members, dense_1__kernel=np.zeros((2, 16), "f4")))
    assert load_error(path) == (
        "spiral.nndesk: weights.npz has 'dense_1/kernel' of shape (2, 16), but node "
        "'dense_1' needs (2, 8)."
    )


def test_weights_that_are_integers(path: Path, members: dict[str, bytes]) -> None:
    write_members(path, with_weights(members, dense_1__bias=np.zeros(8, np.int32)))
    assert load_error(path) == (
        "spiral.nndesk: weights.npz has 'dense_1/bias' as int32; weights must be "
        "float32 or float64."
    )


def test_weights_of_mixed_precision(path: Path, members: dict[str, bytes]) -> None:
    write_members(path, with_weights(members, dense_1__bias=np.zeros(8, np.float64)))
    assert load_error(path) == (
        "spiral.nndesk: weights.npz has 'dense_1/bias' as float64 but 'dense_1/kernel' "
        "as float32; all weights must share one type."
    )


def test_weights_with_nan(path: Path, members: dict[str, bytes]) -> None:
    bad = np.ones(3, np.float32)
    bad[1] = np.inf
    write_members(path, with_weights(members, dense_2__bias=bad))
    with pytest.raises(NonFiniteWeightsError) as info:
        load_project(path)
    assert str(info.value) == (
        "spiral.nndesk: weights.npz has NaN or infinite values in 'dense_2/bias' (the "
        "training that saved it diverged)."
    )
    assert load_project(path, allow_nonfinite=True).weights["dense_2/bias"][1] == np.inf


def test_object_array_is_never_unpickled(path: Path, members, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = np.array([_Touch(marker)], dtype=object)
    write_members(path, with_weights(members, dense_1__kernel=evil))
    assert load_error(path) == (
        "spiral.nndesk: weights.npz stores 'dense_1/kernel' as Python objects, which "
        "nndesk never loads."
    )
    assert not marker.exists()


def test_weights_member_that_is_a_pickle(path: Path, members, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    write_members(
        path, with_member(members, "weights.npz", pickle.dumps(_Touch(marker)))
    )
    assert load_error(path) == (
        "spiral.nndesk: weights.npz is not a zip archive, or it is truncated or has data "
        "appended."
    )
    assert not marker.exists()


def test_structured_array(path: Path, members: dict[str, bytes]) -> None:
    record = np.zeros(8, dtype=[("a", "<f4"), ("b", "<i4")])
    write_members(path, with_weights(members, dense_1__bias=record))
    assert (
        "stores 'dense_1/bias' as [('a', '<f4'), ('b', '<i4')], which is not a plain"
        in (load_error(path))
    )


def test_npy_header_promising_a_huge_array(path: Path, members) -> None:
    """The header claims 4 GB; nothing of that size may ever be allocated."""
    header = {"descr": "<f4", "fortran_order": False, "shape": (1_000_000_000,)}
    npy = _npy(header, b"\0" * 32)
    inner = forge_zip([Entry("dense_1/kernel.npy", npy, method=zipfile.ZIP_STORED)])
    write_members(path, with_member(members, "weights.npz", inner))
    assert load_error(path) == (
        "spiral.nndesk: weights.npz declares 'dense_1/kernel' as float32 of shape "
        "(1000000000,) (4,000,000,000 bytes) but stores 32 bytes."
    )


def test_npy_header_with_negative_shape(path: Path, members) -> None:
    npy = _npy({"descr": "<f4", "fortran_order": False, "shape": (-4,)}, b"")
    inner = forge_zip([Entry("dense_1/kernel.npy", npy)])
    write_members(path, with_member(members, "weights.npz", inner))
    assert load_error(path) == (
        "spiral.nndesk: weights.npz declares 'dense_1/kernel' with the impossible shape "
        "(-4,)."
    )


def test_npz_member_that_is_not_an_array(path: Path, members) -> None:
    inner = forge_zip([Entry("readme.txt", b"hello")])
    write_members(path, with_member(members, "weights.npz", inner))
    assert load_error(path) == (
        "spiral.nndesk: weights.npz holds 'readme.txt', which is not an array (.npy) "
        "member."
    )


def test_npz_with_overlapping_arrays(path: Path, members) -> None:
    npy = _npy({"descr": "<f4", "fortran_order": False, "shape": (8,)}, b"\0" * 32)
    inner = forge_zip([Entry("dense_1/bias.npy", npy),
                       Entry("dense_2/bias.npy", npy, offset=0)])  # fmt: skip
    write_members(path, with_member(members, "weights.npz", inner))
    assert load_error(path) == (
        "spiral.nndesk: weights.npz has members 'dense_1/bias.npy' and "
        "'dense_2/bias.npy' that overlap (a zip bomb trick)."
    )


def test_optimizer_state_without_iterations(path: Path, members) -> None:
    import io

    with np.load(io.BytesIO(members["optimizer.npz"])) as npz:
        state = {k: npz[k] for k in npz.files if k != "iterations"}
    write_members(path, with_member(members, "optimizer.npz", npz_bytes(state)))
    assert load_error(path) == (
        "spiral.nndesk: optimizer.npz is missing the array 'iterations'."
    )


def test_optimizer_slot_of_the_wrong_shape(path: Path, members) -> None:
    import io

    with np.load(io.BytesIO(members["optimizer.npz"])) as npz:
        state = {k: npz[k] for k in npz.files}
    state["dense_1/kernel/m"] = np.zeros((8, 2), np.float32)
    write_members(path, with_member(members, "optimizer.npz", npz_bytes(state)))
    assert load_error(path) == (
        "spiral.nndesk: optimizer.npz has 'dense_1/kernel/m' of shape (8, 2), but its "
        "weight 'dense_1/kernel' has shape (2, 8)."
    )


def test_optimizer_slot_for_running_statistics(path: Path, members) -> None:
    import io

    with np.load(io.BytesIO(members["optimizer.npz"])) as npz:
        state = {k: npz[k] for k in npz.files}
    state["batchnorm_1/running_mean/m"] = np.zeros(8, np.float32)
    write_members(path, with_member(members, "optimizer.npz", npz_bytes(state)))
    assert load_error(path) == (
        "spiral.nndesk: optimizer.npz holds 'batchnorm_1/running_mean/m', which is not "
        "'<weight>/<slot>' for a trainable weight of the graph."
    )


def test_optimizer_state_without_weights(path: Path, members) -> None:
    write_members(path, with_member(members, "weights.npz", npz_bytes({})))
    assert load_error(path) == (
        "spiral.nndesk: optimizer.npz holds optimizer state but the network has no "
        "weights."
    )


# --- training.json and history.json -----------------------------------------------------


def test_unknown_optimizer_name(path: Path, members: dict[str, bytes]) -> None:
    training = json.loads(members["training.json"])
    training["optimizer"] = "lion"
    write_members(path, with_member(members, "training.json", json_bytes(training)))
    assert load_error(path).startswith(
        "spiral.nndesk: training.json optimizer names 'lion', which is not an optimizer "
        "of this nndesk ("
    )


def test_broken_preprocessing(path: Path, members: dict[str, bytes]) -> None:
    training = json.loads(members["training.json"])
    training["preprocessing"]["scale"] = [0.0, -1.0]
    write_members(path, with_member(members, "training.json", json_bytes(training)))
    assert load_error(path) == (
        "spiral.nndesk: training.json preprocessing is not usable: Scaler statistics "
        "must be finite with positive scales."
    )


def test_history_that_is_not_numbers(path: Path, members: dict[str, bytes]) -> None:
    text = json_bytes({"loss": [0.5, {"x": 1}]})
    write_members(path, with_member(members, "history.json", text))
    assert load_error(path) == (
        "spiral.nndesk: history.json has {'x': 1} at epoch 1 of 'loss', not a number."
    )


def test_history_number_beyond_float(path: Path, members: dict[str, bytes]) -> None:
    text = b'{"loss": [1' + b"0" * 400 + b"]}"
    write_members(path, with_member(members, "history.json", text))
    assert "at epoch 0 of 'loss', not a number." in load_error(path)


# --- helpers ---------------------------------------------------------------------------


class _Touch:
    """Unpickling this creates ``marker``: proof that a loader ran pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _npy(header: dict, data: bytes) -> bytes:
    """A format 1.0 .npy file with any header, true or not."""
    text = repr(header).encode("latin1")
    pad = 64 - (10 + len(text) + 1) % 64
    text += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + data
