"""The Transformer examples learn what issue 15 asks, trained by `nndesk train` as a
user would and scored on held-out data (slow: they run in CI)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import pytest

import nndesk
from nndesk import cli
from nndesk.document.examples import EXAMPLES, character_transformer, sort_transformer
from nndesk.io.datasets import generate
from nndesk.io.project_file import Project, load_project, save_project

pytestmark = pytest.mark.slow


def train(tmp_path: Path, doc, name: str, epochs: int) -> Path:
    path = tmp_path / f"{name}.nndesk"
    save_project(path, Project(document=doc))
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    code = cli.main(["train", str(path), "--epochs", str(epochs)], out=out, err=err)
    assert code == 0, err.getvalue()
    print(f"{name}: {epochs} epochs in {time.perf_counter() - start:.0f} s")
    return path


def test_the_two_transformer_examples_are_in_the_menu():
    titles = {e.title for e in EXAMPLES.values()}
    assert {"Sort digits (Transformer)", "Character model (Transformer)"} <= titles


def test_sort_digits_sorts_every_unseen_sequence(tmp_path):
    """Measured: 57,219 parameters; with the warm-up of 40 steps per step, the
    sequences absent from the 2,000 training draws (184 of 3,000 fresh ones) all
    sorted by runs of 2, 4, 5, 6 and 8 epochs for each of seeds 0-4 (3 epochs: 4
    of 5; 1 epoch: 61-97 %), as the warm-up of one epoch did from 3 epochs on
    (2 epochs: 2 of 5); 6 epochs in 12 s at load 3. Minimum asked here: 100 % on
    the unseen sequences after 6 epochs."""
    path = train(tmp_path, sort_transformer(), "sort", 6)
    net = nndesk.load(path)
    seen = {tuple(r) for r in generate("sort", n=2000, seed=0).x.astype(int)}
    fresh = generate("sort", n=3000, seed=7)
    unseen = np.array([tuple(r) not in seen for r in fresh.x.astype(int)])
    assert unseen.sum() >= 100  # 3^6 = 729 sequences, so most are seen
    predicted = net.predict(fresh.x[unseen]).argmax(-1)
    sequence_accuracy = (predicted == fresh.y[unseen]).all(axis=1).mean()
    print(f"sort: {unseen.sum()} unseen sequences, accuracy {sequence_accuracy}")
    assert sequence_accuracy == 1.0


def test_a_one_epoch_run_of_the_sort_example_trains_past_its_warmup(tmp_path):
    """A warm-up counted in steps (40 of an epoch's 50 batches) leaves any run of
    one epoch or more a cosine: 1 epoch is not refused, and ends near lr_min."""
    path = train(tmp_path, sort_transformer(), "sort", 1)
    history = load_project(path).history
    assert len(history["loss"]) == 1
    assert history["lr"][0] < 0.0001  # the cosine's last step of 10
    assert history["val_accuracy"][0] > 0.9


def test_character_transformer_validation_loss_falls_below_23_in_3_epochs(tmp_path):
    """Python's documentation, a window every 20 characters (221,431 parameters):
    validation loss per epoch of this 3-epoch run measured 2.58, 2.17, 2.14 with
    the warm-up of 100 steps (2.58, 2.34, 2.18, 2.10 with one warm-up epoch) —
    chance is ln 103 = 4.63 —, 15-120 s an epoch at load 3-9; the bound 2.3 after
    3 epochs, each epoch lower than the one before."""
    path = train(tmp_path, character_transformer(), "chars", 3)
    project = load_project(path)
    losses = list(project.history["val_loss"])
    print(f"character Transformer validation loss per epoch: {losses}")
    assert len(losses) == 3
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False))
    assert losses[-1] < 2.3
