"""Names the file system refuses (too long, a NUL byte) are files that do not exist:
one sentence from the readers, the spec loader, the data folders and the CLI."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from nndesk import cli
from nndesk.io.datasets import (
    DatasetError,
    data_search_path,
    load_dataset,
    load_idx,
    read_csv,
    read_npz,
)
from nndesk.io.datasets.spec import DATA_PATH_ENV, rebase_spec
from nndesk.training.examples import example_path

LONG = "d" * 5000


@pytest.mark.parametrize(
    "spec, start",
    [
        (LONG + ".csv", "Dataset file "),
        (LONG + ".npz:split=test", "Dataset file "),
        (f"{LONG}/{LONG}.csv", "Dataset file "),
        ("sub/" + LONG, "Dataset file "),
        (LONG, "Unknown dataset 'ddd"),  # a bare name: maybe a misspelt generator
        ("x\0y.csv", "Dataset file "),
    ],
)
def test_load_dataset_says_no_such_file_in_one_short_sentence(
    tmp_path: Path, spec: str, start: str
) -> None:
    with pytest.raises(DatasetError) as info:
        load_dataset(spec, base_dir=tmp_path)
    message = str(info.value)
    assert message.startswith(start) and "\n" not in message
    assert len(message) < 600, "a 5,000-character name is cut short"
    if len(spec) > 1000:
        assert "characters)" in message


@pytest.mark.parametrize(
    "read",
    [
        lambda p: read_csv(p / (LONG + ".csv")),
        lambda p: read_npz(p / (LONG + ".npz")),
        lambda p: load_idx(p / LONG),
        lambda p: load_idx(p / (LONG + "-images-idx3-ubyte")),
    ],
)
def test_the_readers_say_no_such_file(tmp_path: Path, read) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        read(tmp_path)


def test_an_idx_file_whose_partner_name_is_too_long_is_missing_its_partner(
    tmp_path: Path,
) -> None:
    # 253 characters are a valid name; its partner's name with .gz (256) is not.
    suffix = "-images-idx3-ubyte"
    name = "a" * (253 - len(suffix)) + suffix
    (tmp_path / name).write_bytes(b"\x00\x00\x08\x03" + b"\x00\x00\x00\x01" * 3 + b"\0")
    with pytest.raises(DatasetError, match="needs its partner file"):
        load_idx(tmp_path / name)


def test_data_folders_with_refused_names_are_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = tmp_path / "data"
    good.mkdir()
    monkeypatch.setenv(DATA_PATH_ENV, f"{tmp_path / LONG}:{good}")
    assert data_search_path()[0] == good


def test_rebase_leaves_a_refused_bare_name_alone(tmp_path: Path) -> None:
    assert rebase_spec(LONG, tmp_path, tmp_path / "deeper") == LONG
    moved = rebase_spec(f"./{LONG}.csv", tmp_path, tmp_path / "deeper")
    assert moved == f"../{LONG}.csv"


def test_the_command_line_says_no_such_file_in_one_line(tmp_path: Path) -> None:
    net = tmp_path / "spiral.nndesk"
    shutil.copy(str(example_path("spiral")), net)
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["train", str(net), "--data", LONG + ".csv"], out=out, err=err)
    text = err.getvalue()
    assert code == 2 and text.count("\n") == 1 and "Traceback" not in text
    assert "does not exist" in text and len(text) < 700
