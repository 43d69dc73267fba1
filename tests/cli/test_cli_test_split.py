"""`nndesk evaluate --split test` scores the rows the test_split setting held out."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from nndesk import cli
from nndesk.io.project_file import load_project, save_project
from nndesk.training.data import held_out_indices
from nndesk.training.examples import example_path
from nndesk.training.session import TrainingSession


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _spiral(tmp_path: Path, test_split: float) -> Path:
    project = load_project(Path(str(example_path("spiral"))))
    project.document.set_setting("dataset", "spiral:n=200,noise=0.1")
    project.document.set_setting("test_split", test_split)
    project.document.set_setting("epochs", 2)
    path = tmp_path / "spiral.nndesk"
    save_project(path, project)
    return path


def test_evaluate_split_test_scores_the_held_out_rows(tmp_path):
    path = _spiral(tmp_path, 0.25)
    code, _, err = run("train", str(path), "-q")
    assert code == 0, err
    code, out, err = run("evaluate", str(path), "--split", "test")
    assert code == 0 and err == ""
    record = json.loads(out.strip().splitlines()[-1])
    assert record["split"] == "test" and record["samples"] == 50
    # The same 50 rows, scored by hand: the seeded held-out part of the dataset.
    session = TrainingSession.open(path)
    dataset = session.load_dataset()
    rows = held_out_indices(dataset, session.settings)
    scores = session.evaluate(dataset.subset(rows, "held out"))
    assert record["loss"] == pytest.approx(scores["loss"], rel=1e-6)
    assert record["accuracy"] == pytest.approx(scores["accuracy"])
    # and the setting survived save and reload
    assert load_project(path).document.settings["test_split"] == 0.25


def test_the_training_part_leaves_the_test_rows_out(tmp_path):
    path = _spiral(tmp_path, 0.25)
    code, out, _ = run("evaluate", str(path), "--split", "train")
    assert code == 0
    # 200 samples: 50 test, 40 validation (0.2 of 200), 110 training
    assert json.loads(out.strip().splitlines()[-1])["samples"] == 110
    code, out, _ = run("predict", str(path), "--split", "test", "--out", "-")
    assert code == 0
    assert len(out.strip().splitlines()) == 1 + 50


def test_a_generator_without_a_test_split_says_how_to_get_one(tmp_path):
    path = _spiral(tmp_path, 0.0)
    code, out, err = run("evaluate", str(path), "--split", "test")
    assert code == 2 and "Traceback" not in err
    assert "set a test split (test_split)" in err
