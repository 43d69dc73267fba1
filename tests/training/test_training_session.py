"""TrainingSession: projects in and out, scaling that travels, editing while paused."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from training_helpers import SHARED_DATA, Runner, spiral_document

from nndesk.engine.model import Model
from nndesk.io.datasets import load_dataset
from nndesk.io.errors import DatasetError
from nndesk.io.project_file import Project, load_project
from nndesk.training.control import TrainingControl
from nndesk.training.session import TrainingSession
from nndesk.training.trainer import _WeightGuard


def test_scaling_statistics_travel_with_the_file(tmp_path):
    session = TrainingSession(spiral_document(scaling="standard"))
    session.fit(epochs=2)
    assert session.preprocessing["method"] == "standard"
    path = tmp_path / "s.nndesk"
    session.save(path)
    loaded = TrainingSession.open(path)
    assert loaded.preprocessing == session.preprocessing
    raw = load_dataset("spiral:n=50,seed=9").x
    assert np.array_equal(loaded.predict(raw), session.predict(raw))
    # The raw inputs really are scaled first: unscaled inputs give other answers.
    assert not np.array_equal(loaded.model.predict(raw), loaded.predict(raw))


def test_a_loaded_project_continues_with_its_stored_scaler(tmp_path):
    session = TrainingSession(spiral_document(scaling="minmax"))
    session.fit(epochs=1)
    stored = dict(session.preprocessing)
    path = tmp_path / "m.nndesk"
    session.save(path)
    loaded = TrainingSession.open(path)
    loaded.fit(load_dataset("spiral:n=200,noise=0.3,seed=5"), epochs=1)
    assert loaded.preprocessing == stored  # not refitted on the new data
    assert loaded.history.epochs == 2


def test_a_changed_scaling_setting_fits_a_new_scaler():
    session = TrainingSession(
        spiral_document(scaling="standard"),
        preprocessing={
            "method": "minmax",
            "axis": "feature",
            "input_shape": [2],
            "offset": [0.0, 0.0],
            "scale": [1.0, 1.0],
        },
    )
    session.fit(epochs=1)
    assert session.preprocessing["method"] == "standard"


def test_untrained_sessions_save_no_weights(tmp_path):
    session = TrainingSession(spiral_document())
    project = session.to_project()
    assert project.weights == {} and project.optimizer_state == {}
    assert project.history == {} and project.optimizer_name is None
    session.save(tmp_path / "u.nndesk")
    assert load_project(tmp_path / "u.nndesk").weights == {}


def test_optimizer_state_of_another_optimizer_is_dropped():
    trained = TrainingSession(spiral_document())
    trained.fit(epochs=1)
    project = trained.to_project()
    project.document.set_setting("optimizer", "sgd")
    session = TrainingSession.from_project(project)
    assert session.kept_nodes == ["dense_1", "dense_2", "dense_3"]
    assert session.model.optimizer.get_state() == {"iterations": 0}
    same = TrainingSession.from_project(trained.to_project())
    assert int(same.model.optimizer.get_state()["iterations"]) == 10


def test_editing_while_paused_keeps_the_weights_of_unchanged_nodes():
    doc = spiral_document()
    session = TrainingSession(doc)
    data = session.prepare(session.load_dataset())
    control = TrainingControl()
    trainer = session.make_trainer(data, control=control, epochs=50)
    control.step_epoch()
    runner = Runner(trainer.run)
    assert control.wait_until_waiting(20)
    control.stop()
    runner.join(20)
    assert session.history.epochs == 1
    before = session.model.get_weights()

    doc.set_param("dense_2", "units", 12)  # changes dense_2 and dense_3
    doc.set_param("dense_3", "units", 1)
    edited = session.recompiled(doc)
    assert edited.kept_nodes == ["dense_1"]
    after = edited.model.get_weights()
    assert np.array_equal(after["dense_1/kernel"], before["dense_1/kernel"])
    assert after["dense_2/kernel"].shape == (8, 12)
    state = edited.model.optimizer.get_state()
    assert "dense_1/kernel/m" in state and "dense_2/kernel/m" not in state
    edited.fit(epochs=1)
    assert edited.history.epochs == 2 and session.history.epochs == 1


def test_parts_and_test_splits():
    session = TrainingSession(spiral_document(validation_split=0.25))
    dataset = session.load_dataset()
    assert len(session.part(dataset, "val")) == 50
    assert len(session.part(dataset, "train")) == 150
    assert session.part(dataset, "all") is dataset
    with pytest.raises(DatasetError, match="no test part"):
        session.load_dataset(split="test")
    with pytest.raises(DatasetError, match="Unknown split"):
        session.part(dataset, "dev")
    no_val = TrainingSession(spiral_document(validation_split=0.0))
    with pytest.raises(DatasetError, match="no 'val' part"):
        no_val.part(no_val.load_dataset(), "val")


@pytest.mark.skipif(not (SHARED_DATA / "mnist").is_dir(), reason="no shared MNIST")
def test_idx_test_part_is_loaded_by_split():
    from nndesk.document.examples import fashion_mnist_mlp

    session = TrainingSession(fashion_mnist_mlp(str(SHARED_DATA / "mnist")))
    test = session.load_dataset(split="test")
    assert len(test) == 10_000
    assert set(session.evaluate(test)) == {"loss", "accuracy"}


def test_relative_dataset_paths_follow_the_file(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    rows = ["a,b,label"] + [f"{i / 10},{(i % 4) / 4},{i % 2}" for i in range(30)]
    (folder / "points.csv").write_text("\n".join(rows) + "\n")
    session = TrainingSession(spiral_document(dataset="points.csv"))
    from nndesk.io.project_file import save_project

    save_project(folder / "net.nndesk", session.to_project())
    opened = TrainingSession.open(folder / "net.nndesk")
    assert len(opened.load_dataset()) == 30


def test_weight_guard_restores_the_last_finite_copy():
    model = TrainingSession(spiral_document()).model
    assert isinstance(model, Model)
    guard = _WeightGuard(model)
    assert not guard.restore()  # nothing saved yet
    kernel = model.layer("dense_1").params["kernel"]
    guard.save()
    good = kernel.copy()
    kernel += 1.0
    guard.save()
    kernel[0, 0] = np.nan  # a diverged step
    assert guard.restore()
    assert np.array_equal(kernel, good + 1.0)
    guard.save()  # the newest copy now equals the current finite weights
    kernel[:] = np.inf
    guard.save()  # a copy of diverged weights: the older one must win
    assert guard.restore()
    assert np.array_equal(kernel, good + 1.0)


def test_to_project_keeps_the_creation_time(tmp_path):
    session = TrainingSession(spiral_document())
    path = tmp_path / "t.nndesk"
    session.save(path)
    first = load_project(path).metadata.created
    reopened = TrainingSession.open(path)
    reopened.fit(epochs=1)
    reopened.save(path)
    assert load_project(path).metadata.created == first
    assert isinstance(reopened.to_project(), Project)


def test_nodes_off_the_output_path_get_weights_in_the_file(tmp_path):
    """A file holds weights for every node with known shapes, used or not yet."""
    doc = spiral_document()
    spare = doc.add_node("Dense", {"units": 5})
    doc.connect("dense_1", "out", spare, "in")
    session = TrainingSession(doc)
    session.fit(epochs=1)
    session.save(tmp_path / "spare.nndesk")
    weights = load_project(tmp_path / "spare.nndesk").weights
    assert weights[f"{spare}/kernel"].shape == (8, 5)
    reopened = TrainingSession.open(tmp_path / "spare.nndesk")
    assert np.array_equal(
        reopened.model.get_weights()["dense_1/kernel"],
        session.model.get_weights()["dense_1/kernel"],
    )


def test_saving_an_edited_document_keeps_what_still_fits(tmp_path):
    doc = spiral_document()
    session = TrainingSession(doc)
    session.fit(epochs=1)
    trained = session.model.get_weights()
    doc.set_param("dense_2", "units", 4)  # reshapes dense_2 and dense_3's kernel
    loose = doc.add_node("Dense", {"units": 3})  # no input: unknown shapes
    project = session.to_project(doc)
    assert np.array_equal(project.weights["dense_1/kernel"], trained["dense_1/kernel"])
    assert project.weights["dense_2/kernel"].shape == (8, 4)
    assert project.weights["dense_3/kernel"].shape == (4, 1)
    assert not any(k.startswith(f"{loose}/") for k in project.weights)
    state_nodes = {k.split("/")[0] for k in project.optimizer_state if "/" in k}
    assert state_nodes == {"dense_1"}
    from nndesk.io.project_file import save_project

    save_project(tmp_path / "edited.nndesk", project)
    assert load_project(tmp_path / "edited.nndesk").document == doc


# --- the one owner of the trained state -------------------------------------------------


def test_capture_is_a_copy_that_saves_as_the_session_does(tmp_path):
    session = TrainingSession(spiral_document(scaling="standard"))
    session.fit(epochs=2)
    state = session.capture()
    assert state.trained and state.epochs == 2
    assert state.preprocessing == session.preprocessing
    session.fit(epochs=1)  # the copy does not move with the model
    assert state.epochs == 2
    assert not np.array_equal(
        state.weights["dense_1/kernel"], session.model.get_weights()["dense_1/kernel"]
    )
    from nndesk.io.project_file import save_project

    save_project(tmp_path / "state.nndesk", state.to_project())
    reopened = TrainingSession.open(tmp_path / "state.nndesk")
    again = TrainingSession.from_state(state)
    raw = load_dataset("spiral:n=50,seed=3").x
    assert np.array_equal(reopened.predict(raw), again.predict(raw))
    assert reopened.history.as_dict() == state.history


def test_a_stopped_first_epoch_counts_as_trained():
    """A run stopped inside its first epoch changed the weights: it is saved."""
    session = TrainingSession(spiral_document())
    data = session.prepare(session.load_dataset())
    control = TrainingControl()
    for _ in range(3):
        control.step_batch()
    trainer = session.make_trainer(data, control=control, epochs=5)
    runner = Runner(trainer.run)
    assert control.wait_until_waiting(20)
    control.stop()
    runner.join(20)
    assert session.history.epochs == 0 and session.trained
    project = session.to_project()
    assert int(project.optimizer_state["iterations"]) == 3
    assert project.weights and project.preprocessing is None


def test_recompiled_drops_a_scaler_fitted_for_another_dataset():
    doc = spiral_document(scaling="standard")
    session = TrainingSession(doc)
    session.fit(epochs=1)
    doc.set_setting("learning_rate", 0.05)
    assert session.recompiled(doc).preprocessing == session.preprocessing
    doc.set_setting("dataset", "spiral:n=240,noise=0.2")
    edited = session.recompiled(doc)
    assert edited.preprocessing is None and edited.trained
    assert edited.history.epochs == 1


def test_an_untrained_state_carries_no_weights():
    doc = spiral_document()
    fresh = TrainingSession(doc).capture()
    assert not fresh.trained
    doc.set_param("dense_2", "units", 6)
    session = TrainingSession.from_state(fresh, doc)
    assert not session.trained and session.kept_nodes == []
    expected = TrainingSession(doc).model.get_weights()
    for key, value in expected.items():
        assert np.array_equal(session.model.get_weights()[key], value), key


def test_prepare_reuses_the_prepared_data_of_the_same_network():
    doc = spiral_document(scaling="minmax")
    first = TrainingSession(doc)
    dataset = first.load_dataset()
    data = first.prepare(dataset)
    assert first.prepare(dataset) is data  # nothing changed: the same arrays
    doc.set_setting("learning_rate", 0.05)
    second = first.recompiled(doc)
    assert second.prepare(dataset, reuse=first) is data
    doc.set_setting("validation_split", 0.3)
    third = first.recompiled(doc)
    assert third.prepare(dataset, reuse=first) is not data
    assert third.data.n_val == 60


def test_calls_between_batches_run_in_the_training_thread_and_training_goes_on():
    session = TrainingSession(spiral_document())
    data = session.prepare(session.load_dataset())
    control = TrainingControl()
    trainer = session.make_trainer(data, control=control, epochs=200)
    runner = Runner(trainer.run)
    try:
        seen: list[str] = []
        call = control.call_between_batches(
            lambda: seen.append(threading.current_thread().name) or session.capture()
        )
        assert call.wait(20)
        state = call.result()
        assert len(seen) == 1 and seen[0] != threading.current_thread().name
        assert int(state.optimizer_state["iterations"]) >= 0
        # Paused: the call wakes the trainer, runs, and the pause holds.
        control.pause()
        assert control.wait_until_waiting(20)
        iterations = session.model.optimizer.iterations
        call = control.call_between_batches(session.capture)
        assert call.wait(20)
        assert int(call.result().optimizer_state["iterations"]) == iterations
        assert control.wait_until_waiting(20) and control.state == "paused"
        assert session.model.optimizer.iterations == iterations
        failing = control.call_between_batches(lambda: 1 / 0)
        assert failing.wait(20)
        with pytest.raises(ZeroDivisionError):
            failing.result()
    finally:
        control.stop()
        runner.join(20)
    assert trainer.status == "stopped"
