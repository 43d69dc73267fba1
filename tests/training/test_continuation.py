"""Continuing a run is exact: 3 + 2 epochs equal 5, and 1 + 1 + 1 equal 3, bit for bit.

The network is the Fashion-MNIST example (early stopping, patience 3) on the first
1,200 training images at a learning rate of 0.003, where the validation loss is
best at epoch 1 and early stopping fires at epoch 4: each run's end puts the best
weights back, so continuing needs the run state (the weights to go on from, early
stopping's best value, best epoch, wait and best weights). Runs go through the
Python objects, through a saved and reloaded file, and through the command line.
"""

from __future__ import annotations

import gzip
import io
import struct
from pathlib import Path

import numpy as np
import pytest
from training_helpers import SHARED_DATA, compiled_with_data, spiral_document

from nndesk import cli
from nndesk.engine.errors import ConfigError
from nndesk.io.project_file import Project, load_project, save_project
from nndesk.training.callbacks import LambdaCallback
from nndesk.training.control import TrainingControl
from nndesk.training.examples import load_example
from nndesk.training.run_state import weights_sha256
from nndesk.training.session import TrainingSession
from nndesk.training.trainer import TrainConfig, Trainer

FASHION = SHARED_DATA / "fashion-mnist"
SUBSET = 1200
LR = 0.003


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path) as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _write_idx(path: Path, array: np.ndarray) -> None:
    head = struct.pack(">BBBB", 0, 0, 8, array.ndim)
    path.write_bytes(
        head + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    )


@pytest.fixture(scope="module")
def subset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 1,200 Fashion-MNIST training images and labels, as IDX files."""
    folder = tmp_path_factory.mktemp("fashion-mnist")
    for kind in ("images-idx3", "labels-idx1"):
        array = _read_idx(FASHION / f"train-{kind}-ubyte.gz")[:SUBSET]
        _write_idx(folder / f"train-{kind}-ubyte", array)
    return folder


@pytest.fixture(scope="module")
def dataset(subset: Path):
    return TrainingSession(load_example("fashion_mnist").document).load_dataset(
        str(subset)
    )


def _example() -> Project:
    project = load_example("fashion_mnist")
    project.document.set_setting("learning_rate", LR)
    return project


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def _largest_difference(a: dict, b: dict) -> float:
    return max(float(np.abs(a[k] - b[k]).max()) for k in a)


def _in_parts(dataset, parts, tmp_path: Path, *, drop_run_state: bool = False):
    """Train ``parts`` epochs, saving and loading the file between the parts."""
    path = tmp_path / "parts.nndesk"
    project = _example()
    for epochs in parts:
        session = TrainingSession.from_project(project)
        session.fit(dataset, epochs=epochs)
        save_project(path, session.to_project())
        project = load_project(path)
        if drop_run_state:
            project.run_state = None
    return session, project


@pytest.fixture(scope="module")
def five_at_once(dataset):
    session = TrainingSession.from_project(_example())
    session.fit(dataset, epochs=5)
    return session


def test_the_example_needs_the_run_state(five_at_once):
    """The validation loss is best at epoch 1 and early stopping fires at epoch 4,
    so every run boundary here falls where the best weights were put back."""
    history = five_at_once.history
    assert history.epochs == 4 and five_at_once.trainer.status == "early_stopped"
    assert int(np.argmin(history["val_loss"])) == 0


def test_three_then_two_epochs_through_the_file_equal_five(
    dataset, five_at_once, tmp_path
):
    session, project = _in_parts(dataset, (3, 2), tmp_path)
    assert _same(session.model.get_weights(), five_at_once.model.get_weights())
    assert _same(project.weights, five_at_once.model.get_weights())
    assert session.history.as_dict() == five_at_once.history.as_dict()
    assert session.trainer.status == "early_stopped"
    state = session.model.optimizer.get_state()
    assert _same(state, five_at_once.model.optimizer.get_state())


def test_without_the_run_state_the_parts_differ(dataset, five_at_once, tmp_path):
    """What continuing did before run states were saved (issue 19)."""
    session, _ = _in_parts(dataset, (3, 2), tmp_path, drop_run_state=True)
    theirs = five_at_once.model.get_weights()
    assert _largest_difference(session.model.get_weights(), theirs) > 1e-3


def test_one_epoch_three_times_through_the_file_equals_three(dataset, tmp_path):
    at_once = TrainingSession.from_project(_example())
    at_once.fit(dataset, epochs=3)
    session, project = _in_parts(dataset, (1, 1, 1), tmp_path)
    assert _same(session.model.get_weights(), at_once.model.get_weights())
    assert session.history.as_dict() == at_once.history.as_dict()
    es = session.trainer.early_stopping.get_state()
    assert es == at_once.trainer.early_stopping.get_state()
    assert es["best_epoch"] == 0 and es["wait"] == 2
    assert project.run_state["resume_weights"], "the last epoch was not the best"


def test_one_trainer_run_three_times_equals_one_run_of_three(dataset):
    at_once = TrainingSession.from_project(_example())
    at_once.fit(dataset, epochs=3)
    session = TrainingSession.from_project(_example())
    trainer = session.make_trainer(session.prepare(dataset), epochs=1)
    for _ in range(3):
        trainer.run()
    assert _same(session.model.get_weights(), at_once.model.get_weights())


def _train_cli(*args: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["train", *args, "-q"], out=out, err=err) == 0, err.getvalue()


def test_the_command_line_continues_exactly(subset, tmp_path):
    a, b, c = (tmp_path / f"{x}.nndesk" for x in "abc")
    save_project(a, _example())
    data = ("--data", str(subset))
    _train_cli(str(a), *data, "--epochs", "3", "--out", str(b))
    _train_cli(str(b), *data, "--epochs", "2")
    _train_cli(str(a), *data, "--epochs", "5", "--out", str(c))
    parts, at_once = load_project(b), load_project(c)
    assert _same(parts.weights, at_once.weights)
    assert parts.history == at_once.history
    assert _same(parts.optimizer_state, at_once.optimizer_state)
    assert parts.run_state["early_stopping"] == at_once.run_state["early_stopping"]


# --- the rules of carrying on, on the small spiral network ---------------------------


def _trainer(doc, **kwargs) -> Trainer:
    net, data = compiled_with_data(doc)
    return Trainer(
        net.model,
        data,
        TrainConfig.from_settings(net.settings),
        metrics=net.metrics,
        **kwargs,
    )


def _spiral(**settings):
    base = {
        "early_stopping_patience": 2,
        "learning_rate": 0.1,
        "seed": 2,
        "validation_split": 0.25,
        "dataset": "spiral:n=200,noise=0.2",
    }
    return spiral_document(**{**base, **settings})


def test_after_an_early_stop_the_next_run_starts_from_the_best_weights():
    """Decided behaviour: when early stopping ended the last run, training again
    goes on from the best weights it put back; early stopping keeps its best value
    and best weights and waits ``patience`` epochs afresh."""
    first = _trainer(_spiral())
    first.run(40)
    assert first.status == "early_stopped"
    state = first.run_state()
    assert state["early_stopping"]["stopped_epoch"] is not None
    assert state["resume_weights"], "the stopped epoch was not the best"
    best = first.model.get_weights()

    starts: list[dict] = []
    second = _trainer(_spiral(), history=first.history.as_dict(), run_state=state)
    second.model.set_weights(best)
    second.model.optimizer.set_state(first.model.optimizer.get_state())
    second.callbacks.append(
        LambdaCallback(
            on_train_begin=lambda logs: starts.append(second.model.get_weights())
        )
    )
    second.run(1)
    assert _same(starts[0], best)
    es = second.early_stopping
    carried = state["early_stopping"]
    if es.best_epoch == carried["best_epoch"]:  # the new epoch did no better
        assert es.best == carried["best"] and es.wait == 1
    else:
        assert es.best < carried["best"] and es.wait == 0


def test_a_learning_rate_changed_mid_run_is_carried(tmp_path):
    def change_at_epoch_1(control: TrainingControl):
        def hook(batch, logs):
            if logs["epoch"] == 1 and batch == 2:
                control.set_lr(0.0123)

        return LambdaCallback(on_batch_end=hook)

    control = TrainingControl()
    doc = _spiral(early_stopping_patience=0)
    at_once = _trainer(doc, control=control, callbacks=[change_at_epoch_1(control)])
    at_once.run(4)

    control = TrainingControl()
    first = _trainer(doc, control=control, callbacks=[change_at_epoch_1(control)])
    first.run(2)
    state = first.run_state()
    assert state["learning_rate"] == pytest.approx(0.0123)
    assert state["learning_rate_setting"] == 0.1
    second = _trainer(doc, history=first.history.as_dict(), run_state=state)
    second.model.set_weights(first.model.get_weights())
    second.model.optimizer.set_state(first.model.optimizer.get_state())
    second.run(2)
    assert second.history["lr"] == at_once.history["lr"] == [0.1] + [0.0123] * 3
    assert _same(second.model.get_weights(), at_once.model.get_weights())


def test_a_new_learning_rate_setting_wins_over_the_carried_one():
    control = TrainingControl()
    control.set_lr(0.05)
    first = _trainer(_spiral(), control=control)
    first.run(1)
    second = _trainer(
        _spiral(learning_rate=0.02),
        history=first.history.as_dict(),
        run_state=first.run_state(),
    )
    second.model.set_weights(first.model.get_weights())
    second.run(1)
    assert second.history["lr"] == [0.05, 0.02]


def test_a_run_state_of_other_weights_is_not_applied():
    first = _trainer(_spiral())
    first.run(3)
    state = first.run_state()
    weights = first.model.get_weights()
    weights["dense_1/bias"][0] += 1.0  # edited since the state was taken
    second = _trainer(_spiral(), history=first.history.as_dict(), run_state=state)
    second.model.set_weights(weights)
    second.run(1)
    es = second.early_stopping
    assert es.best_epoch == 3 and es.wait == 0  # started afresh at this run


def test_a_run_state_of_another_epoch_is_not_applied():
    first = _trainer(_spiral())
    first.run(3)
    second = _trainer(_spiral(), run_state=first.run_state())  # no history
    second.model.set_weights(first.model.get_weights())
    second.run(1)
    assert second.early_stopping.best_epoch == 0


def test_a_run_stopped_mid_epoch_says_how_many_batches_it_applied():
    control = TrainingControl()

    def stop(batch, logs):
        if logs["epoch"] == 1 and batch == 3:
            control.stop()

    trainer = _trainer(
        _spiral(), control=control, callbacks=[LambdaCallback(on_batch_end=stop)]
    )
    trainer.run(3)
    assert trainer.status == "stopped"
    state = trainer.run_state()
    assert state["epoch"] == 1 and state["batch"] == 4
    assert state["weights_sha256"] == weights_sha256(trainer.model.get_weights())


def test_the_run_state_during_a_run_is_that_of_the_batch():
    seen: list[dict] = []
    trainer = None

    def snapshot(batch, logs):
        if logs["epoch"] == 2 and batch == 1:
            seen.append(trainer.run_state())
            seen.append(trainer.model.get_weights())

    trainer = _trainer(_spiral(), callbacks=[LambdaCallback(on_batch_end=snapshot)])
    trainer.run(3)
    state, weights = seen
    assert state["epoch"] == 2 and state["batch"] == 2
    assert state["weights_sha256"] == weights_sha256(weights)
    assert state["resume_weights"] == {}
    assert state["early_stopping"]["best_epoch"] <= 1


def test_a_malformed_run_state_is_refused():
    with pytest.raises(ConfigError, match="The run state has the unknown key 'x'"):
        _trainer(_spiral(), run_state={"x": 1})
    first = _trainer(_spiral())
    first.run(1)
    state = first.run_state()
    state["early_stopping"] = dict(state["early_stopping"], wait=-1)
    with pytest.raises(ConfigError, match="wait -1, outside 0"):
        _trainer(_spiral(), run_state=state)
