"""The recurrent examples learn what issue 14 asks, trained by `nndesk train` and
scored by `nndesk evaluate` as a user would (slow: they run in CI)."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest

from nndesk import cli
from nndesk.document.examples import (
    EXAMPLES,
    character_lstm,
    parity_gru,
    pydoc_characters,
    sine_forecast_lstm,
)
from nndesk.io.datasets.text import pydoc_text
from nndesk.io.project_file import Project, load_project, save_project

pytestmark = pytest.mark.slow


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def train_and_score(tmp_path: Path, doc, name: str, epochs: int) -> dict:
    path = tmp_path / f"{name}.nndesk"
    save_project(path, Project(document=doc))
    start = time.perf_counter()
    code, out, err = run("train", str(path), "--epochs", str(epochs))
    assert code == 0, err
    code, out, err = run("evaluate", str(path), "--split", "val")
    assert code == 0, err
    scores = json.loads(out.splitlines()[-1])
    print(f"{name}: {time.perf_counter() - start:.0f} s, validation {scores}")
    return scores


def test_the_three_recurrent_examples_are_in_the_menu():
    titles = {e.title for e in EXAMPLES.values()}
    assert {
        "Sine forecast (LSTM)",
        "Parity (GRU)",
        "Character model (LSTM on Python's docs)",
    } <= titles


def test_sine_forecast_reaches_validation_mse_1e3(tmp_path):
    """Measured: validation MSE 7e-4 after 2 epochs, under 1e-4 after 5 (11 s for
    30 epochs at load 8 on 2 cores)."""
    scores = train_and_score(tmp_path, sine_forecast_lstm(), "sine", 10)
    assert scores["loss"] <= 1e-3


def test_parity_of_8_bits_reaches_099_validation_accuracy(tmp_path):
    """Measured: validation accuracy 1.0 from epoch 8 (seed 1, the example's)."""
    scores = train_and_score(tmp_path, parity_gru(), "parity", 30)
    assert scores["accuracy"] >= 0.99


def test_character_model_validation_loss_falls_below_22_in_3_epochs(tmp_path):
    """Python's documentation, a window every 20 characters: validation loss per
    epoch measured 2.48, 2.18, 2.04 (chance: ln 103 = 4.63) in 101 s at load 8;
    the bound 2.2 after 3 epochs, every epoch lower than the one before."""
    path = tmp_path / "chars.nndesk"
    save_project(path, Project(document=character_lstm()))
    code, out, err = run("train", str(path), "--epochs", "3")
    assert code == 0, err
    project = load_project(path)
    losses = list(project.history["val_loss"])
    print(f"character model validation loss per epoch: {losses}")
    assert len(losses) == 3
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False))
    assert losses[-1] < 2.2
    # The example counts its classes from this Python's documentation (103 in 3.11).
    assert project.vocabulary is not None
    assert len(project.vocabulary) == pydoc_characters() == len(set(pydoc_text()))
