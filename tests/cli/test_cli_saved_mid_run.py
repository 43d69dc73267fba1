"""A file saved in the middle of a run (as the window saves one: a copy of the state
taken between two batches) trains on from the command line."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np

from nndesk import cli
from nndesk.document.examples import spiral_classifier
from nndesk.document.graph import Document
from nndesk.io.project_file import load_project, save_project
from nndesk.training.control import TrainingControl
from nndesk.training.session import TrainedState, TrainingSession


def network() -> Document:
    doc = spiral_classifier()
    doc.set_setting("dataset", "spiral:n=200,noise=0.1")
    doc.set_setting("scaling", "standard")
    doc.set_setting("early_stopping_patience", 3)
    return doc


def state_between_batches(control: TrainingControl, session: TrainingSession):
    call = control.call_between_batches(session.capture)
    assert call.wait(30)
    state = call.result()
    assert isinstance(state, TrainedState)
    return state


def test_a_run_saved_paused_at_an_epoch_end_continues_bit_for_bit(tmp_path: Path):
    session = TrainingSession(network())
    data = session.prepare(session.load_dataset())
    control = TrainingControl()
    control.step_epoch()  # one epoch, then paused (as Step Epoch in the window)
    trainer = session.make_trainer(data, control=control, epochs=5)
    thread = threading.Thread(target=trainer.run)
    thread.start()
    try:
        assert control.wait_until_waiting(timeout=30)
        state = state_between_batches(control, session)
    finally:
        control.stop()
        thread.join(30)
    path = tmp_path / "paused.nndesk"
    save_project(path, state.to_project())
    assert load_project(path).history["loss"] == state.history["loss"]

    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["train", str(path), "--epochs", "2", "-q"], out=out, err=err)
    assert code == 0, err.getvalue()
    continued = TrainingSession.open(path)
    straight = TrainingSession(network())
    straight.fit(epochs=3)
    assert continued.history.as_dict() == straight.history.as_dict()
    for key, value in straight.model.get_weights().items():
        np.testing.assert_array_equal(continued.model.get_weights()[key], value, key)


def test_a_run_saved_mid_epoch_trains_on_from_its_batches(tmp_path: Path):
    session = TrainingSession(network())
    data = session.prepare(session.load_dataset())
    control = TrainingControl()
    for _ in range(13):  # one epoch and 3 batches (10 batches an epoch), paused
        control.step_batch()
    trainer = session.make_trainer(data, control=control, epochs=500)
    thread = threading.Thread(target=trainer.run)
    thread.start()
    try:
        assert control.wait_until_waiting(timeout=30)
        state = state_between_batches(control, session)
    finally:
        control.stop()
        thread.join(30)
    batches = int(state.optimizer_state["iterations"])
    assert batches == 13 and state.epochs == 1
    path = tmp_path / "running.nndesk"
    save_project(path, state.to_project())
    saved = load_project(path)
    assert saved.preprocessing == state.preprocessing is not None
    assert len(saved.history.get("loss", [])) == batches // 10  # 10 batches/epoch

    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["train", str(path), "--epochs", "1", "-q"], out=out, err=err)
    assert code == 0, err.getvalue()
    after = load_project(path)
    assert int(after.optimizer_state["iterations"]) == batches + 10
    assert after.preprocessing == saved.preprocessing  # the stored scaler is kept
