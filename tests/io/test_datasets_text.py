"""Character datasets (issue 14): windows, vocabulary, hostile files, speed, the file."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from nndesk.document import Document
from nndesk.engine.errors import ResourceError
from nndesk.engine.memory import MemoryBudget
from nndesk.io.datasets import DatasetError, load_dataset
from nndesk.io.datasets.spec import rebase_spec
from nndesk.io.datasets.text import (
    MAX_TEXT_BYTES,
    PYDOC,
    decode_ids,
    encode_text,
    pydoc_text,
    text_dataset,
)
from nndesk.io.errors import FileFormatError, ProjectSaveError
from nndesk.io.project_file import Project, load_project, save_project

TEXT = "hello world\nhello there\n"


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "hello.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def test_windows_and_next_character(text_file: Path) -> None:
    data = load_dataset("text:path=hello.txt,window=5", base_dir=text_file.parent)
    assert data.vocabulary == sorted(set(TEXT))
    assert data.input_shape == (5,) and len(data) == len(TEXT) - 5
    for i in (0, 7, len(data) - 1):
        assert decode_ids(data.x[i], data.vocabulary) == TEXT[i : i + 5]
        assert data.vocabulary[data.y[i]] == TEXT[i + 5]
    assert data.class_names[:2] == ["\\n", "␣"]  # newline and space, shown
    assert data.source == "text:path=hello.txt,window=5,step=1"
    assert data.name == "hello.txt"


def test_step_skips_window_starts(text_file: Path) -> None:
    data = text_dataset(text_file, window=4, step=3)
    assert len(data) == (len(TEXT) - 4 - 1) // 3 + 1
    assert decode_ids(data.x[2], data.vocabulary) == TEXT[6:10]
    assert data.vocabulary[data.y[2]] == TEXT[10]


def test_windows_are_a_read_only_view_not_a_copy(text_file: Path) -> None:
    data = text_dataset(text_file, window=6)
    assert data.x.base is not None and not data.x.flags.writeable
    # every window shares the one id array: its whole size is the text's
    assert np.shares_memory(data.x[0], data.x[1])
    assert data.x.strides[0] == 4


def test_pydoc_text_builds_fast_without_copying_windows() -> None:
    start = time.perf_counter()
    data = load_dataset("text:window=64")
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0, f"{elapsed:.2f} s"
    assert data.name == PYDOC and data.source == "text:window=64,step=1"
    n = len(pydoc_text()) - 64
    assert len(data) == n > 400_000
    assert np.shares_memory(data.x[:1], data.x[1:2])  # windows overlap in memory
    base = data.x
    while base.base is not None:
        base = base.base
    assert base.nbytes < data.x.nbytes / 50  # 1.9 MB of ids for 119 MB of windows


def test_encode_decode_round_trip_and_unknown_character(text_file: Path) -> None:
    vocabulary = text_dataset(text_file, window=3).vocabulary
    ids = encode_text("hello there", vocabulary)
    assert ids.dtype == np.float32
    assert decode_ids(ids, vocabulary) == "hello there"
    with pytest.raises(DatasetError, match="Character 'z' at position 6 of the text"):
        encode_text("hello zebra", vocabulary)
    with pytest.raises(DatasetError, match="Token id 99 is outside the vocabulary"):
        decode_ids([1, 99], vocabulary)


def test_vocabulary_round_trips_through_a_saved_network(
    text_file: Path, tmp_path: Path
) -> None:
    data = text_dataset(text_file, window=5)
    unicode = ["\n", " ", "é", "日", "😀", "\t"]
    for tokens in (data.vocabulary, unicode):
        path = tmp_path / "chars.nndesk"
        save_project(path, Project(document=Document(), vocabulary=tokens))
        loaded = load_project(path)
        assert loaded.vocabulary == tokens
    # the ids of a window map back to the same text after loading
    save_project(path, Project(document=Document(), vocabulary=data.vocabulary))
    assert decode_ids(data.x[3], load_project(path).vocabulary) == TEXT[3:8]


def test_a_file_without_vocabulary_keeps_its_older_format(tmp_path: Path) -> None:
    import json
    import zipfile

    save_project(tmp_path / "plain.nndesk", Project(document=Document()))
    save_project(
        tmp_path / "words.nndesk", Project(document=Document(), vocabulary=["a", "b"])
    )
    with zipfile.ZipFile(tmp_path / "plain.nndesk") as archive:
        assert "vocabulary.json" not in archive.namelist()
        assert json.loads(archive.read("metadata.json"))["format_version"] == 1
    with zipfile.ZipFile(tmp_path / "words.nndesk") as archive:
        assert json.loads(archive.read("vocabulary.json")) == {"tokens": ["a", "b"]}
        assert json.loads(archive.read("metadata.json"))["format_version"] == 4
    assert load_project(tmp_path / "plain.nndesk").vocabulary is None


@pytest.mark.parametrize(
    "tokens,fragment",
    [
        ([], "non-empty list of tokens"),
        (["a", "a"], "has the token 'a' twice (at 1)"),
        (["a", ""], "as token 1; tokens are texts of 1 to 256"),
        (["a", 3], "as token 1"),
        ("ab", "non-empty list of tokens"),
    ],
)
def test_a_bad_vocabulary_is_refused_on_save(
    tmp_path: Path, tokens: object, fragment: str
) -> None:
    with pytest.raises(ProjectSaveError) as info:
        save_project(tmp_path / "x.nndesk", Project(vocabulary=tokens))  # type: ignore[arg-type]
    assert fragment in str(info.value)
    assert not (tmp_path / "x.nndesk").exists()


def _rewrite_member(path: Path, member: str, data: bytes, version: int | None = None):
    import json
    import zipfile

    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    members[member] = data
    if version is not None:
        meta = json.loads(members["metadata.json"])
        meta["format_version"] = version
        members["metadata.json"] = json.dumps(meta).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)


def test_a_hostile_vocabulary_member_is_refused_on_load(tmp_path: Path) -> None:
    path = tmp_path / "v.nndesk"
    save_project(path, Project(vocabulary=["a", "b"]))
    _rewrite_member(path, "vocabulary.json", b'{"tokens": ["a", "a"]}')
    with pytest.raises(
        FileFormatError, match=r"vocabulary.json has the token 'a' twice"
    ):
        load_project(path)
    _rewrite_member(path, "vocabulary.json", b'{"tokens": ["a"], "extra": 1}')
    with pytest.raises(FileFormatError, match="has the unknown key 'extra'"):
        load_project(path)
    # a vocabulary in a file that claims format 3 is a member it cannot hold
    _rewrite_member(path, "vocabulary.json", b'{"tokens": ["a"]}', version=3)
    with pytest.raises(FileFormatError, match="unexpected member 'vocabulary.json'"):
        load_project(path)


# --- hostile text files ---------------------------------------------------------------
def test_not_utf8_names_file_line_and_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("line one\nline two\ncaf\xe9 au lait\n".encode("latin-1"))
    with pytest.raises(DatasetError) as info:
        text_dataset(path)
    assert str(info.value) == (
        "Text file latin1.txt is not UTF-8: line 3, byte 21 (0xe9) cannot be decoded."
    )


def test_a_byte_order_mark_is_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + "ab\nc\xff".encode("latin-1"))
    # byte offsets count from the file's start, the mark included
    with pytest.raises(DatasetError, match=r"line 2, byte 7 \(0xff\)"):
        text_dataset(path, window=1)
    path.write_bytes(b"\xef\xbb\xbfabcabc")
    assert text_dataset(path, window=2).vocabulary == ["a", "b", "c"]


@pytest.mark.parametrize(
    "content,fragment",
    [
        (b"", "Text file t.txt is empty."),
        (b"  \n\n ", "Text file t.txt is empty."),
        (b"abc\n\x00\x01\x02", "holds a NUL byte at line 2 (byte 4): it is binary"),
        (b"abc", "has 3 characters, too few for one window of 40"),
    ],
)
def test_empty_binary_or_short_text_is_refused(
    tmp_path: Path, content: bytes, fragment: str
) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(content)
    with pytest.raises(DatasetError) as info:
        text_dataset(path)
    assert fragment in str(info.value)


def test_a_huge_text_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with open(path, "wb") as f:  # sparse: nothing is written but the size
        f.truncate(MAX_TEXT_BYTES + 1)
    with pytest.raises(DatasetError) as info:
        text_dataset(path)
    assert str(info.value) == (
        f"Text file huge.txt is {MAX_TEXT_BYTES + 1:,} bytes; nndesk reads at most "
        f"{MAX_TEXT_BYTES:,} as a character dataset."
    )


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="Text file .*nope.txt does not exist."):
        load_dataset("text:path=nope.txt", base_dir=tmp_path)
    with pytest.raises(DatasetError, match="is a folder, not a text file"):
        text_dataset(tmp_path)


def test_windows_that_would_not_fit_in_memory_are_refused(text_file: Path) -> None:
    with pytest.raises(ResourceError, match="The 5-character windows of hello.txt"):
        text_dataset(text_file, window=5, budget=MemoryBudget(100, "test limit"))


@pytest.mark.parametrize(
    "spec,fragment",
    [
        ("text:window=0", "window must be 1..10,000"),
        ("text:window=ten", "window=ten in 'text:window=ten' must be a whole number"),
        ("text:target=a", "Option 'target' does not apply to text data"),
    ],
)
def test_bad_text_options(spec: str, fragment: str) -> None:
    with pytest.raises(DatasetError) as info:
        load_dataset(spec)
    assert fragment in str(info.value)


def test_the_text_path_moves_with_the_network_file(tmp_path: Path) -> None:
    spec = "text:path=hello.txt,window=5,step=1"
    (tmp_path / "hello.txt").write_text(TEXT)
    (tmp_path / "sub").mkdir()
    moved = rebase_spec(spec, tmp_path, tmp_path / "sub")
    assert moved == "text:path=../hello.txt,window=5,step=1"
    assert len(load_dataset(moved, base_dir=tmp_path / "sub")) == len(TEXT) - 5
    assert rebase_spec("text:window=64", tmp_path, tmp_path / "sub") == "text:window=64"


def test_a_character_model_trains_and_keeps_its_vocabulary(
    text_file: Path, tmp_path: Path
) -> None:
    """Embedding -> LSTM -> softmax on a text file; after save and load the
    network still maps its ids to the file's characters (the text is gone)."""
    import nndesk
    from nndesk.api import Network

    vocabulary = text_dataset(text_file, window=6).vocabulary
    doc = Document(
        {
            "dataset": "text:path=hello.txt,window=6",
            "epochs": 2,
            "batch_size": 8,
            "validation_split": 0.0,
            "metrics": ("accuracy",),
        }
    )
    x = doc.add_node("Input", {"shape": (6,), "dtype": "int"})
    chain = [
        ("Embedding", {"input_dim": len(vocabulary), "output_dim": 4}),
        ("LSTM", {"units": 8}),
        ("Dense", {"units": len(vocabulary), "activation": "softmax"}),
    ]
    prev = x
    for i, (type_name, params) in enumerate(chain):
        node = doc.add_node(type_name, params, pos=(200.0 * (i + 1), 0.0))
        doc.connect(prev, "out", node, "in")
        prev = node
    out = doc.add_node("Output", {"loss": "sparse_categorical_crossentropy"})
    doc.connect(prev, "out", out, "in")
    net = Network.from_document(doc, base_dir=text_file.parent)
    assert net.vocabulary is None  # nothing trained on yet
    history = net.fit()
    assert len(history["loss"]) == 2 and net.vocabulary == vocabulary
    net.save(tmp_path / "chars.nndesk")
    text_file.unlink()
    loaded = nndesk.load(tmp_path / "chars.nndesk")
    assert loaded.vocabulary == vocabulary
    ids = encode_text("hello ", loaded.vocabulary)[None, :]
    probs = loaded.predict(ids)
    assert probs.shape == (1, len(vocabulary))
    next_char = decode_ids(probs.argmax(axis=1), loaded.vocabulary)
    assert next_char in set(TEXT)
