"""Training in the real main window: train, pause/step/resume/stop, NaN, close, save/reopen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from ui_helpers import OFFSCREEN_NOISE

from nndesk.document.examples import sine_regression, spiral_classifier
from nndesk.io.project_file import load_project
from nndesk.training.compile import compile_network
from nndesk.ui.main_window import MainWindow
from nndesk.ui.training.controller import TrainingController

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

RUN_TIMEOUT = 30_000


LONG_RUN = 100_000
"""Epochs of a run a test stops itself: no machine gets to the end first (a CI run
under load finished 500 epochs of the spiral before a test's next step)."""


def set_epochs(window: MainWindow, epochs: int) -> None:
    assert window.edit_setting("epochs", epochs)


def run_to_end(qtbot, training: TrainingController, action=None) -> object:
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT) as blocker:
        (action or training.actions.train).trigger()
    return blocker.args[0]


def test_train_button_trains_the_spiral_and_the_curves_follow(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    set_epochs(main_window, 15)
    assert training.actions.train.isEnabled()
    outcome = run_to_end(qtbot, training)
    assert outcome.status == "completed"
    losses = training.curves.epoch_values("loss")
    assert len(losses) == 15
    assert losses[-1] < losses[0]
    assert training.curves.batch_count == len(losses) * 20  # 320 samples, batch 16
    assert training.history["loss"] == pytest.approx(list(losses))
    rows = training.curves.table_model.rows()
    assert [r["epoch"] for r in rows] == list(range(1, len(losses) + 1))
    assert "val_accuracy" in training.curves.table_model.columns
    training.curves.flush()
    assert training.curves.epoch_curve.getData()[0] is not None
    assert training.state == "idle" and not training.view.progress.isVisible()
    assert training.trained and training.session.history.epochs == 15
    assert training.actions.reset.isEnabled()
    assert main_window.errors == []


def test_pause_step_batch_step_epoch_resume_and_stop(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    set_epochs(main_window, LONG_RUN)
    training.actions.train.trigger()
    qtbot.waitUntil(lambda: training.curves.batch_count > 40, timeout=RUN_TIMEOUT)
    training.actions.pause.trigger()
    assert training.state == "paused"
    assert training.control.wait_until_waiting(timeout=10)
    # The pause reported the batch it stopped after; nothing arrives while paused.
    qtbot.wait(50)
    paused_at = training.curves.batch_count
    probe = training.last_probe
    assert probe is not None and probe.step == pytest.approx(paused_at / 20)

    training.actions.step_batch.trigger()
    qtbot.waitUntil(lambda: training.curves.batch_count == paused_at + 1)
    assert training.control.wait_until_waiting(timeout=10)
    qtbot.wait(50)
    assert training.curves.batch_count == paused_at + 1

    epochs_before = len(training.curves.epoch_values("loss"))
    training.actions.step_epoch.trigger()
    qtbot.waitUntil(
        lambda: len(training.curves.epoch_values("loss")) == epochs_before + 1
    )
    assert training.control.wait_until_waiting(timeout=10)
    qtbot.waitUntil(lambda: training.curves.batch_count % 20 == 0)
    assert training.state == "paused"

    training.actions.resume.trigger()
    assert training.state == "running"
    count = training.curves.batch_count
    qtbot.waitUntil(
        lambda: training.curves.batch_count > count + 20, timeout=RUN_TIMEOUT
    )
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT) as blocker:
        training.actions.stop.trigger()
    assert blocker.args[0].status == "stopped"
    assert training.state == "idle"
    assert len(training.history["loss"]) == len(training.curves.epoch_values("loss"))
    assert main_window.errors == []


def test_learning_rate_changes_while_training(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    set_epochs(main_window, LONG_RUN)
    training.actions.train.trigger()
    qtbot.waitUntil(lambda: training.curves.batch_count > 20, timeout=RUN_TIMEOUT)
    field = training.panel.learning_rate
    field.selectAll()
    qtbot.keyClicks(field, "0.002")  # typed in the panel, then Enter
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert main_window.document.settings["learning_rate"] == 0.002
    qtbot.waitUntil(
        lambda: any(
            r.get("lr") == pytest.approx(0.002)
            for r in training.curves.table_model.rows()
        ),
        timeout=RUN_TIMEOUT,
    )
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT):
        training.stop()
    rows = training.curves.table_model.rows()
    assert rows[0]["lr"] == pytest.approx(0.01)


def test_nan_loss_stops_with_a_message_and_finite_weights(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    doc = sine_regression()
    doc.set_setting("optimizer", "sgd")
    doc.set_setting("learning_rate", 10.0)
    main_window.set_document(doc)
    outcome = run_to_end(qtbot, training)
    assert outcome.status == "failed"
    (message,) = main_window.errors
    assert "epoch 1" in message and "batch" in message
    assert "lower the learning rate" in message
    assert training.panel.message.text() == message
    assert training.trained
    weights = training.session.model.get_weights()
    assert all(np.isfinite(w).all() for w in weights.values())
    # The app keeps working: fresh weights and a sane learning rate train again.
    training.actions.reset.trigger()
    assert main_window.edit_setting("learning_rate", 0.01)
    assert main_window.edit_setting("epochs", 2)
    outcome = run_to_end(qtbot, training)
    assert outcome.status == "completed"


def test_train_on_a_dataset_that_failed_says_so_once_and_the_app_keeps_working(
    qtbot, main_window: MainWindow, training: TrainingController, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.csv"
    main_window.edit_setting("dataset", str(missing))
    main_window.errors.clear()
    message = main_window.dataset_error
    assert message is not None and str(missing.name) in message
    training.actions.train.trigger()
    # The training panel repeats the Problems entry's sentence; no dialog, no run.
    assert training.panel.message.text() == message and "\n" not in message
    assert training.last_error == message
    assert main_window.errors == []
    assert training.state == "idle" and not training.is_active
    main_window.undo_stack.undo()
    set_epochs(main_window, 1)
    assert run_to_end(qtbot, training).status == "completed"


def test_editing_while_paused_keeps_the_weights_of_unchanged_nodes(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    set_epochs(main_window, LONG_RUN)
    training.actions.train.trigger()
    qtbot.waitUntil(lambda: training.curves.batch_count > 40, timeout=RUN_TIMEOUT)
    training.pause()
    assert training.control.wait_until_waiting(timeout=10)
    qtbot.wait(50)
    paused = training.last_probe.weights
    assert main_window.editor.set_param("dense_2", "units", 6)
    qtbot.waitUntil(
        lambda: (
            training.preview.net is not None
            and training.preview.net.model.layer("dense_2").units == 6
        )
    )
    preview = training.preview.net.model.get_weights()
    np.testing.assert_array_equal(preview["dense_1/kernel"], paused["dense_1/kernel"])
    assert preview["dense_2/kernel"].shape == (8, 6)
    with qtbot.waitSignal(training.sig_epoch_finished, timeout=RUN_TIMEOUT):
        training.actions.resume.trigger()
    assert "dense_2, dense_3" in training.panel.message.text()
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT):
        training.stop()
    assert training.session.model.get_weights()["dense_2/kernel"].shape == (8, 6)
    assert main_window.errors == []


def test_close_during_training_stops_the_worker(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    set_epochs(main_window, 100_000)
    training.actions.train.trigger()
    qtbot.waitUntil(lambda: training.curves.batch_count > 20, timeout=RUN_TIMEOUT)
    thread = training._thread
    assert thread is not None and thread.isRunning()
    main_window.questions.answer = "cancel"  # the edit of epochs is unsaved
    main_window.close()
    assert main_window.isVisible() and thread.isRunning()  # cancel keeps training
    main_window.questions.answer = "discard"
    main_window.close()
    assert not main_window.isVisible()
    assert thread.isFinished()


def test_save_after_training_and_reopen_shows_history_and_same_predictions(
    qtbot, main_window: MainWindow, training: TrainingController, tmp_path: Path
) -> None:
    set_epochs(main_window, 8)
    run_to_end(qtbot, training)
    x = main_window.dataset.x[:64]
    before = training.predict(x)
    history = {k: list(v) for k, v in training.history.items()}
    path = tmp_path / "spiral.nndesk"
    assert main_window.save_as(path)  # File > Save As: the window asks the trainer
    saved = load_project(path)
    assert saved.history == history
    assert saved.weights.keys() == training.session.model.get_weights().keys()

    main_window.set_document(spiral_classifier())  # something else in between
    assert training.history == {} and training.session is None
    assert len(training.curves.epoch_values("loss")) == 0

    assert main_window.open_file(path)  # File > Open
    assert training.history == history
    np.testing.assert_array_equal(training.curves.epoch_values("loss"), history["loss"])
    assert len(training.curves.table_model.rows()) == 8
    np.testing.assert_array_equal(training.predict(x), before)
    # Training continues the history where it ended.
    set_epochs(main_window, 2)
    run_to_end(qtbot, training)
    assert len(training.history["loss"]) == 10
    assert main_window.errors == []


def test_saving_after_an_edit_keeps_the_weights_that_still_fit(
    qtbot, main_window: MainWindow, training: TrainingController, tmp_path: Path
) -> None:
    set_epochs(main_window, 2)
    run_to_end(qtbot, training)
    trained = training.session.model.get_weights()
    assert main_window.editor.set_param("dense_2", "units", 5)
    path = tmp_path / "edited.nndesk"
    assert main_window.save_as(path)
    saved = load_project(path)
    assert saved.weights["dense_2/kernel"].shape == (8, 5)
    np.testing.assert_array_equal(
        saved.weights["dense_1/kernel"], trained["dense_1/kernel"]
    )
    # The reshaped nodes are saved as the window shows them, and reopen so.
    shown = training.preview.session.model.get_weights()
    for key, value in shown.items():
        np.testing.assert_array_equal(saved.weights[key], value, err_msg=key)
    # Moments belong to the weights they were made for: dense_1's are kept.
    nodes = {k.split("/", 1)[0] for k in saved.optimizer_state if k != "iterations"}
    assert nodes == {"dense_1"} and int(saved.optimizer_state["iterations"]) == 40
    assert main_window.errors == []


def test_reset_weights_is_undoable_and_starts_over_from_the_seeded_initialisation(
    qtbot, main_window: MainWindow, training: TrainingController, tmp_path: Path
) -> None:
    set_epochs(main_window, 3)
    run_to_end(qtbot, training)
    assert training.actions.reset.isEnabled()
    trained = training.session.capture()
    assert main_window.save_as(tmp_path / "trained.nndesk")
    assert not main_window.is_modified()  # so the Reset alone makes it modified
    training.actions.reset.trigger()
    assert training.session is None and training.history == {}
    assert main_window.is_modified() and main_window.undo_stack.canUndo()
    assert training.curves.batch_count == 0
    fresh = compile_network(main_window.document).model.get_weights()
    np.testing.assert_array_equal(
        training.network.weights["dense_1/kernel"], fresh["dense_1/kernel"]
    )
    assert not training.actions.reset.isEnabled()

    # Ctrl+Z brings back the weights, the optimizer state and the history.
    main_window.actions.undo.trigger()
    back = training.current_state()
    assert back.history == trained.history
    for key, value in trained.weights.items():
        np.testing.assert_array_equal(back.weights[key], value, err_msg=key)
    for key, value in trained.optimizer_state.items():
        np.testing.assert_array_equal(back.optimizer_state[key], value, err_msg=key)
    assert len(training.curves.epoch_values("loss")) == 3
    np.testing.assert_array_equal(
        training.network.weights["dense_1/kernel"], trained.weights["dense_1/kernel"]
    )
    assert training.actions.reset.isEnabled()
    # Redo resets again; training then starts from the seeded initialisation.
    main_window.actions.redo.trigger()
    assert training.session is None
    set_epochs(main_window, 1)
    run_to_end(qtbot, training)
    assert training.session.history.epochs == 1


def test_early_stopping_ends_the_run_and_says_so(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    main_window.edit_setting("early_stopping_patience", 1)
    main_window.edit_setting("learning_rate", 0.5)
    set_epochs(main_window, 200)
    outcome = run_to_end(qtbot, training)
    assert outcome.status == "early_stopped"
    assert len(training.history["loss"]) < 200
    assert "Early stopping" in training.panel.message.text()


def test_evaluate_fills_the_evaluation_panel(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    set_epochs(main_window, 5)
    run_to_end(qtbot, training)
    training.evaluation.set_evaluation(None)
    training.actions.evaluate.trigger()
    ev = training.evaluation.evaluation
    assert ev is not None and ev.split == "validation" and ev.n == 80
    assert ev.confusion.sum() == 80
    training.evaluation.flush()
    assert "Accuracy" in training.evaluation.summary.text()


def test_a_bad_early_stopping_setting_fails_before_the_first_epoch(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    assert main_window.edit_setting("early_stopping_patience", 2)
    assert main_window.edit_setting("early_stopping_metric", "val_mae")
    training.actions.train.trigger()
    qtbot.waitUntil(lambda: training.state == "idle", timeout=RUN_TIMEOUT)
    message = training.last_error
    assert "mae" in message and "\n" not in message
    assert training.panel.message.text() == message
    assert training.curves.batch_count == 0 and not training.history
    assert not training.trained


def test_undoing_reset_during_a_run_stops_it_and_brings_the_weights_back(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    set_epochs(main_window, 2)
    run_to_end(qtbot, training)
    trained = training.session.capture()
    training.actions.reset.trigger()
    set_epochs(main_window, LONG_RUN)
    training.actions.train.trigger()
    qtbot.waitUntil(lambda: training.curves.batch_count > 10, timeout=RUN_TIMEOUT)
    thread = training._thread
    # Undo the epochs edit, then the reset: the run of the fresh weights ends.
    main_window.undo_stack.undo()
    assert training.state == "running"
    main_window.undo_stack.undo()
    assert thread.isFinished() and training.state == "idle"
    back = training.current_state()
    assert back.history == trained.history
    for key, value in trained.weights.items():
        np.testing.assert_array_equal(back.weights[key], value, err_msg=key)
    qtbot.wait(100)  # nothing the stopped run still had queued reaches the panels
    assert len(training.curves.epoch_values("loss")) == 2
    assert training.curves.batch_count == 0  # no batch of the stopped run shows
    assert main_window.errors == []


def test_choosing_samples_while_paused_copies_the_run_once(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    set_epochs(main_window, LONG_RUN)
    training.actions.train.trigger()
    qtbot.waitUntil(lambda: training.curves.batch_count > 20, timeout=RUN_TIMEOUT)
    training.pause()
    assert training.control.wait_until_waiting(timeout=10)
    qtbot.wait(50)
    training.activations.sig_sample_requested.emit(3)
    shown = training.preview.session
    assert shown is not None
    training.activations.sig_sample_requested.emit(5)
    assert training.preview.session is shown  # no second copy, no recompiling
    assert training.last_probe.sample_index == 5
    np.testing.assert_array_equal(
        training.last_probe.weights["dense_1/kernel"],
        training.current_state().weights["dense_1/kernel"],
    )
    training.actions.step_batch.trigger()
    count = training.curves.batch_count
    qtbot.waitUntil(lambda: training.curves.batch_count == count + 1)
    assert training.control.wait_until_waiting(timeout=10)
    qtbot.wait(50)
    training.activations.sig_sample_requested.emit(6)
    assert training.preview.session is not shown  # the step made a new state
    stop_and_wait = qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT)
    with stop_and_wait:
        training.stop()


def test_evaluate_on_a_network_with_problems_says_so_in_the_panel(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    main_window.set_document(spiral_classifier())
    loose = main_window.editor.add_node("Dense")  # no input: does not compile
    assert loose is not None
    main_window.errors.clear()
    training.actions.evaluate.trigger()
    assert main_window.errors == []  # no dialog: the Problems panel lists it
    assert loose in training.panel.message.text()
    assert training.last_error == training.panel.message.text()


def test_a_warm_up_as_long_as_the_run_is_said_in_the_window(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    # It trains (the rate rises through the run), but not as the user meant: the
    # command line warns on stderr, the window in the Training panel.
    assert main_window.edit_setting("lr_schedule", "warmup_cosine")
    assert main_window.edit_setting("lr_warmup_steps", 1000)
    set_epochs(main_window, 2)
    outcome = run_to_end(qtbot, training)
    assert outcome.status == "completed"
    message = training.panel.message.text()
    assert "warm-up of 1,000 steps (lr_warmup_steps)" in message
    assert "40 steps (2 epochs of 20 batches)" in message
    # A warm-up shorter than the run says nothing.
    assert main_window.edit_setting("lr_warmup_steps", 10)
    training.panel.set_message("")
    run_to_end(qtbot, training)
    assert "warm-up" not in training.panel.message.text()


def test_reset_weights_does_not_prepare_the_data_again(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    # The preview let go of its session before showing the fresh one and
    # prepared the dataset again on the GUI thread (Fashion-MNIST: 0.3-1.8 s).
    assert main_window.edit_setting("scaling", "standard")
    set_epochs(main_window, 2)
    run_to_end(qtbot, training)
    prepared = training.preview.data
    assert prepared is not None
    training.reset_weights()
    assert not training.trained
    assert training.preview.data is prepared
    # The scaler fitted on this data is the fresh network's too (refitted, equal).
    assert training.preview.session.preprocessing == prepared.preprocessing
    # Another split is prepared anew.
    assert main_window.edit_setting("validation_split", 0.3)
    training.refresh_preview()
    assert training.preview.data is not prepared
