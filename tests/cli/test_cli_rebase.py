"""``nndesk train --out`` into another folder keeps a relative dataset path working."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from nndesk import cli
from nndesk.io.datasets import load_dataset
from nndesk.io.project_file import load_project, save_project
from nndesk.training.examples import example_path


def test_train_out_into_another_folder_rebases_the_dataset_path(tmp_path: Path) -> None:
    data = tmp_path / "bad" / "good.csv"
    data.parent.mkdir()
    rows = [f"{i % 7 * 0.3},{i % 5 * 0.2},{i % 2}" for i in range(60)]
    data.write_text("a,b,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    net = tmp_path / "net" / "spiral.nndesk"
    net.parent.mkdir()
    shutil.copy(str(example_path("spiral")), net)
    project = load_project(net)
    project.document.set_setting("dataset", "../bad/good.csv")
    project.document.set_setting("epochs", 1)
    save_project(net, project)
    out_dir = tmp_path / "net" / "deep" / "er"
    out_dir.mkdir(parents=True)

    def run(*args: str) -> int:
        err = io.StringIO()
        code = cli.main(list(args), out=io.StringIO(), err=err)
        assert code == 0, err.getvalue()
        return code

    run("train", str(net), "--out", str(out_dir / "more.nndesk"), "--quiet")
    saved = load_project(out_dir / "more.nndesk").document.settings["dataset"]
    assert saved == "../../../bad/good.csv"
    assert load_project(net).document.settings["dataset"] == "../bad/good.csv"
    # The copy trains on from its own folder; in place, nothing is rewritten.
    run("train", str(out_dir / "more.nndesk"), "--quiet")
    again = load_project(out_dir / "more.nndesk")
    assert again.document.settings["dataset"] == "../../../bad/good.csv"
    assert len(again.history["loss"]) == 2


def test_the_api_saves_elsewhere_with_the_path_rebased(tmp_path: Path) -> None:
    import nndesk

    data = tmp_path / "bad" / "good.csv"
    data.parent.mkdir()
    rows = [f"{i % 7 * 0.3},{i % 5 * 0.2},{i % 2}" for i in range(60)]
    data.write_text("a,b,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    net = tmp_path / "net" / "spiral.nndesk"
    net.parent.mkdir()
    shutil.copy(str(example_path("spiral")), net)
    project = load_project(net)
    project.document.set_setting("dataset", "../bad/good.csv")
    save_project(net, project)
    other = tmp_path / "elsewhere" / "copy.nndesk"
    other.parent.mkdir()
    nndesk.load(net).save(other)
    assert load_project(other).document.settings["dataset"] == "../bad/good.csv"
    deeper = tmp_path / "net" / "a" / "b" / "copy.nndesk"
    deeper.parent.mkdir(parents=True)
    nndesk.load(net).save(deeper)
    assert load_project(deeper).document.settings["dataset"] == "../../../bad/good.csv"
    spec = load_project(deeper).document.settings["dataset"]
    assert len(load_dataset(spec, base_dir=deeper.parent)) == 60
