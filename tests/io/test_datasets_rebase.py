"""Dataset specs when the network file moves: relative paths follow, the rest stays."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from nndesk.io.datasets import load_dataset, parse_spec
from nndesk.io.datasets.spec import rebase_spec


def write_csv(path: Path, rows: int = 12) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["a,b,label"] + [f"{i},{i * 0.5},{i % 2}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """work/net (the network's folder), work/bad/good.csv, work/net/here.csv."""
    write_csv(tmp_path / "work" / "bad" / "good.csv")
    write_csv(tmp_path / "work" / "net" / "here.csv")
    (tmp_path / "work" / "net" / "deep" / "er").mkdir(parents=True)
    return tmp_path / "work"


def test_a_relative_path_names_the_same_file_from_the_new_folder(tree: Path) -> None:
    old, new = tree / "net", tree / "net" / "deep" / "er"
    moved = rebase_spec("../bad/good.csv", old, new)
    assert moved == "../../../bad/good.csv"
    assert (new / moved).resolve() == (tree / "bad" / "good.csv").resolve()
    before = load_dataset("../bad/good.csv", base_dir=old)
    after = load_dataset(moved, base_dir=new)
    np.testing.assert_array_equal(before.x, after.x)
    np.testing.assert_array_equal(before.y, after.y)
    # And back again.
    assert rebase_spec(moved, new, old) == "../bad/good.csv"


def test_options_are_kept(tree: Path) -> None:
    spec = "../bad/good.csv:target=label,task=classification,header=true"
    moved = rebase_spec(spec, tree / "net", tree / "net" / "deep")
    head, options = parse_spec(moved)
    assert head == "../../bad/good.csv"
    assert options == {"target": "label", "task": "classification", "header": "true"}
    loaded = load_dataset(moved, base_dir=tree / "net" / "deep")
    assert loaded.task == "classification" and len(loaded) == 12


def test_a_file_beside_the_network_is_rebased_too(tree: Path) -> None:
    assert rebase_spec("here.csv", tree / "net", tree / "bad") == "../net/here.csv"
    assert rebase_spec("./here.csv", tree / "net", tree) == "net/here.csv"
    assert rebase_spec("../bad/good.csv", tree / "net", tree / "bad") == "good.csv"


@pytest.mark.parametrize(
    "spec",
    [
        "spiral:n=200,noise=0.1",
        "xor",
        "blobs:n=50,centers=3,seed=2",
        "",
        "   ",
        "fashion-mnist",  # a bare name no file in the old folder: the data folders'
        "missing.csv",
    ],
)
def test_generators_and_names_looked_up_elsewhere_stay(tree: Path, spec: str) -> None:
    assert rebase_spec(spec, tree / "net", tree / "net" / "deep") == spec


def test_absolute_paths_stay(tree: Path) -> None:
    absolute = str(tree / "bad" / "good.csv") + ":target=label"
    assert rebase_spec(absolute, tree / "net", tree / "net" / "deep") == absolute
    home = "~/data/x.csv:task=regression"
    assert rebase_spec(home, tree / "net", tree) == home


def test_the_same_folder_changes_nothing(tree: Path) -> None:
    spec = "./../bad/good.csv"
    assert rebase_spec(spec, tree / "net", tree / "net") == spec
    assert rebase_spec(spec, tree / "net", tree / "net" / "deep" / "..") == spec


def test_an_unsaved_network_is_relative_to_the_current_folder(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree / "net")
    new = tree / "net" / "deep" / "er"
    assert rebase_spec("../bad/good.csv", None, new) == "../../../bad/good.csv"


def test_a_broken_spec_is_left_for_the_loader_to_report(tree: Path) -> None:
    spec = "../bad/good.csv:target=a,target=b"
    assert rebase_spec(spec, tree / "net", tree) == spec


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_links_are_followed_as_the_file_system_does(tree: Path) -> None:
    # net/link -> net/deep/er: "link/.." is net/deep, not net.
    link = tree / "net" / "link"
    link.symlink_to(tree / "net" / "deep" / "er", target_is_directory=True)
    moved = rebase_spec("../bad/good.csv", tree / "net", link)
    assert (link / moved).resolve() == (tree / "bad" / "good.csv").resolve()
    assert len(load_dataset(moved, base_dir=link)) == 12
