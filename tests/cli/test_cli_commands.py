"""The headless command line: summary, train, evaluate, predict, and bad input."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nndesk import cli
from nndesk.io.project_file import load_project
from nndesk.training.examples import example_path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def spiral(tmp_path: Path) -> Path:
    """The spiral example, with a small dataset so training takes milliseconds."""
    project = load_project(Path(str(example_path("spiral"))))
    project.document.set_setting("dataset", "spiral:n=200,noise=0.1")
    from nndesk.io.project_file import save_project

    path = tmp_path / "spiral.nndesk"
    save_project(path, project)
    return path


@pytest.fixture
def sine(tmp_path: Path) -> Path:
    path = tmp_path / "sine.nndesk"
    shutil.copy(str(example_path("sine")), path)
    return path


def assert_one_line_error(code: int, out: str, err: str, *fragments: str) -> None:
    assert code == 2
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


# --- summary --------------------------------------------------------------------------


def test_summary_prints_the_table_and_the_totals(spiral):
    code, out, err = run("summary", str(spiral))
    assert code == 0 and err == ""
    expected = (
        "dense_1 (Dense)",
        "(None, 8)",
        "tanh",
        "sigmoid",
        "Total params: 105",
        "Trainable params: 105",
        "binary_crossentropy",
        "Trained: not yet.",
    )
    for text in expected:
        assert text in out


# --- train ----------------------------------------------------------------------------


def test_train_prints_one_line_per_epoch_and_saves(spiral, tmp_path):
    target = tmp_path / "trained.nndesk"
    code, out, err = run("train", str(spiral), "--epochs", "3", "--out", str(target))
    assert code == 0, err
    lines = out.splitlines()
    epoch_lines = [line for line in lines if line.startswith("epoch ")]
    assert [line.split()[1] for line in epoch_lines] == ["1/3", "2/3", "3/3"]
    for part in ("loss", "val_loss", "accuracy", "samples/s", "ETA"):
        assert part in epoch_lines[-1]
    assert lines[-1].startswith(f"Saved {target}")
    project = load_project(target)
    assert len(project.history["loss"]) == 3
    assert project.weights and project.optimizer_state
    assert project.preprocessing is None  # the example does not scale
    # The original file is untouched.
    assert load_project(spiral).history == {}


def test_train_again_continues_the_history_in_place(spiral):
    assert run("train", str(spiral), "--epochs", "2", "-q")[0] == 0
    code, out, _ = run("train", str(spiral), "--epochs", "2")
    assert code == 0
    assert "epoch 3/4" in out and "epoch 4/4" in out
    assert len(load_project(spiral).history["loss"]) == 4


def test_train_options_override_the_settings(spiral, tmp_path):
    target = tmp_path / "sgd.nndesk"
    options = "--epochs 1 --lr 0.05 --optimizer sgd --batch-size 32 --seed 4"
    code, _, err = run(
        "train",
        str(spiral),
        *options.split(),
        "--data",
        "moons:n=100",
        "--out",
        str(target),
    )
    assert code == 0, err
    settings = load_project(target).document.settings
    assert (settings["learning_rate"], settings["optimizer"]) == (0.05, "sgd")
    assert (settings["batch_size"], settings["seed"], settings["epochs"]) == (32, 4, 1)
    assert settings["dataset"] == "spiral:n=200,noise=0.1"  # --data is not stored


def test_train_on_a_csv_with_a_target_column(spiral, tmp_path):
    rows = ["label,x,y"] + [f"{i % 2},{(i % 7) / 7},{(i % 5) / 5}" for i in range(60)]
    data = tmp_path / "points.csv"
    data.write_text("\n".join(rows) + "\n")
    code, out, err = run(
        "train", str(spiral), "--data", str(data), "--target", "label", "--epochs", "1"
    )
    assert code == 0, err
    assert "points.csv: 60 samples" in out


# --- evaluate and predict -------------------------------------------------------------


def test_evaluate_prints_metrics_and_a_json_last_line(spiral):
    run("train", str(spiral), "--epochs", "2", "-q")
    code, out, err = run("evaluate", str(spiral), "--split", "val")
    assert code == 0, err
    lines = out.splitlines()
    record = json.loads(lines[-1])
    assert record["split"] == "val" and record["samples"] == 40
    assert set(record) >= {"loss", "accuracy"}
    assert lines[0] == f"loss {record['loss']:.6g}"
    full = json.loads(run("evaluate", str(spiral))[1].splitlines()[-1])
    assert full["samples"] == 200


def test_predict_writes_one_row_per_sample(spiral, tmp_path):
    run("train", str(spiral), "--epochs", "1", "-q")
    target = tmp_path / "preds.csv"
    code, out, err = run("predict", str(spiral), "--out", str(target))
    assert code == 0, err
    with target.open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["predicted", "p_1", "target"]
    assert len(rows) == 201
    for predicted, p, _ in rows[1:]:
        assert predicted == ("1" if float(p) >= 0.5 else "0")


def test_predict_for_a_regression_network_to_stdout(sine):
    code, out, err = run("predict", str(sine), "--data", "sine:n=5", "--out", "-")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["predicted", "target"] and len(rows) == 6


def test_predict_with_softmax_lists_class_probabilities(tmp_path):
    from nndesk.document.examples import fashion_mnist_mlp
    from nndesk.io.project_file import Project, save_project

    path = tmp_path / "f.nndesk"
    save_project(path, Project(document=fashion_mnist_mlp()))
    npz = tmp_path / "small.npz"
    x = np.random.default_rng(0).random((10, 28, 28)).astype(np.float32)
    np.savez(npz, x=x, y=np.arange(10))
    code, out, err = run("predict", str(path), "--data", str(npz), "--out", "-")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["predicted", *(f"p_{i}" for i in range(10)), "target"]
    assert len(rows) == 11
    for row in rows[1:]:
        assert sum(float(v) for v in row[1:11]) == pytest.approx(1.0, abs=1e-4)


# --- bad input: exit code 2 and one line ----------------------------------------------


def test_missing_file(tmp_path):
    assert_one_line_error(*run("summary", str(tmp_path / "nope.nndesk")), "nope.nndesk")


def test_corrupt_file(tmp_path):
    bad = tmp_path / "bad.nndesk"
    bad.write_bytes(b"this is not a zip file")
    assert_one_line_error(
        *run("evaluate", str(bad)), "nndesk evaluate: error:", "bad.nndesk"
    )


def test_unknown_generator(spiral):
    assert_one_line_error(
        *run("train", str(spiral), "--data", "spirall:n=10"),
        "Unknown dataset 'spirall'",
    )


def test_bad_csv_cell(spiral, tmp_path):
    data = tmp_path / "bad.csv"
    data.write_text("a,b,label\n1,2,0\n3,oops,1\n")
    assert_one_line_error(
        *run("evaluate", str(spiral), "--data", str(data)), "row 3", "'b'", "oops"
    )


def test_dataset_that_does_not_fit(spiral):
    assert_one_line_error(
        *run("evaluate", str(spiral), "--data", "sine:n=10"), "set the Input shape"
    )


def test_no_test_split_for_a_generator(spiral):
    assert_one_line_error(
        *run("evaluate", str(spiral), "--split", "test"), "no test part"
    )


def test_bad_option_values(spiral):
    assert_one_line_error(*run("train", str(spiral), "--epochs", "many"), "--epochs")
    assert_one_line_error(*run("train", str(spiral), "--lr", "-1"), "learning_rate")
    assert_one_line_error(
        *run("train", str(spiral), "--optimizer", "adamm"), "optimizer"
    )
    assert_one_line_error(*run("predict", str(spiral)), "--out")
    assert_one_line_error(*run("evaluate", str(spiral), "--split", "dev"), "--split")


def test_output_folder_must_exist(spiral, tmp_path):
    assert_one_line_error(
        *run("train", str(spiral), "--out", str(tmp_path / "no" / "x.nndesk")),
        "does not exist",
    )


def test_help_and_no_command():
    code, out, _ = run()
    assert code == 0 and "summary" in out and "train" in out
    for command in cli.SUBCOMMANDS:
        assert run(command, "--help")[0] == 0


def test_a_real_subprocess_trains_and_saves(spiral, tmp_path):
    target = tmp_path / "out.nndesk"
    env = dict(os.environ, NNDESK_NUMBA="0")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "nndesk",
            "train",
            str(spiral),
            "--data",
            "spiral:n=100,noise=0.1",
            "--epochs",
            "2",
            "--out",
            str(target),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "epoch 2/2" in result.stdout
    assert len(load_project(target).history["loss"]) == 2
    bad = subprocess.run(
        [sys.executable, "-m", "nndesk", "train", str(tmp_path / "missing.nndesk")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
    )
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
