"""Nothing is lost: saving at any moment of a run reopens to what the window shows,
and training makes the document modified so every way out asks first (issue 10)."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import numpy as np
import pytest
from ui_helpers import OFFSCREEN_NOISE

from nndesk.cli import main as cli_main
from nndesk.document.examples import spiral_classifier
from nndesk.document.graph import Document
from nndesk.io.project_file import load_project
from nndesk.training.control import TrainingControl
from nndesk.training.errors import CompileError
from nndesk.training.session import TrainingSession
from nndesk.ui.main_window import MainWindow
from nndesk.ui.training import worker as worker_module
from nndesk.ui.training.controller import TrainingController, attach_training

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

RUN_TIMEOUT = 30_000
BATCHES_PER_EPOCH = 20  # 320 training samples, batch 16


def scaled_spiral() -> Document:
    """The spiral with standard scaling (a scaler that must travel with the file)."""
    doc = spiral_classifier()
    doc.set_setting("scaling", "standard")
    doc.set_setting("early_stopping_patience", 0)
    return doc


@pytest.fixture
def training(main_window: MainWindow) -> TrainingController:
    controller = attach_training(main_window)
    assert main_window.training is controller
    main_window.set_document(scaled_spiral())
    return controller


LONG_RUN = 100_000
"""Epochs of a run that a test ends itself: with 500 a busy machine could finish
the spiral's run before the test's next step (a CI run did)."""


def start_long_run(qtbot, window: MainWindow, training, batches: int = 30) -> None:
    assert window.edit_setting("epochs", LONG_RUN)
    training.actions.train.trigger()
    qtbot.waitUntil(lambda: training.curves.batch_count > batches, timeout=RUN_TIMEOUT)


def stop_run(qtbot, training: TrainingController) -> None:
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT):
        training.stop()


def headless_after(doc: Document, batches: int) -> TrainingSession:
    """The session the command line's trainer leaves after exactly ``batches``."""
    session = TrainingSession(doc)
    data = session.prepare(session.load_dataset())
    control = TrainingControl()
    trainer = session.make_trainer(data, control=control, epochs=LONG_RUN)
    for _ in range(batches):
        control.step_batch()
    # A daemon thread, stopped whatever happens: a trainer left running its
    # LONG_RUN epochs would keep the test process from exiting.
    thread = threading.Thread(target=trainer.run, daemon=True)
    thread.start()
    try:
        assert control.wait_until_waiting(timeout=60)
    finally:
        control.stop()
        thread.join(60)
    return session


def assert_file_is_batch_boundary(path: Path) -> TrainingSession:
    """The file holds the state of one batch boundary, bit for bit: the same as
    training its network headless for its ``iterations`` batches."""
    reopened = TrainingSession.open(path)
    saved = load_project(path)
    doc = saved.document
    batches = int(saved.optimizer_state["iterations"])
    assert batches > 0
    assert reopened.history.epochs == batches // BATCHES_PER_EPOCH
    expected = headless_after(doc, batches)
    assert reopened.history.as_dict() == expected.history.as_dict()
    assert saved.preprocessing == expected.preprocessing
    for key, value in expected.model.get_weights().items():
        np.testing.assert_array_equal(saved.weights[key], value, err_msg=key)
    for key, value in expected.model.optimizer.get_state().items():
        np.testing.assert_array_equal(saved.optimizer_state[key], value, err_msg=key)
    return reopened


def test_saving_when_idle_reopens_to_what_the_window_shows(
    qtbot, main_window: MainWindow, training: TrainingController, tmp_path: Path
) -> None:
    assert main_window.edit_setting("epochs", 3)
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT):
        training.actions.train.trigger()
    x = main_window.dataset.x[:64]
    shown = training.predict(x)
    path = tmp_path / "idle.nndesk"
    assert main_window.save_as(path)
    reopened = assert_file_is_batch_boundary(path)
    np.testing.assert_array_equal(reopened.predict(x), shown)
    assert reopened.history.epochs == 3
    assert main_window.errors == []


def test_saving_while_paused_reopens_to_what_the_window_shows(
    qtbot, main_window: MainWindow, training: TrainingController, tmp_path: Path
) -> None:
    start_long_run(qtbot, main_window, training)
    training.pause()
    assert training.control.wait_until_waiting(timeout=10)
    x = main_window.dataset.x[:64]
    shown = training.predict(x)
    path = tmp_path / "paused.nndesk"
    assert main_window.save_as(path)
    assert not main_window.isWindowModified()
    reopened = assert_file_is_batch_boundary(path)
    np.testing.assert_array_equal(reopened.predict(x), shown)
    # Unscaled inputs would give other answers: the scaler is in the file.
    assert not np.array_equal(reopened.model.predict(x.astype(np.float32)), shown)
    assert training.state == "paused"
    # The run goes on from where it paused.
    count = training.curves.batch_count
    training.resume()
    qtbot.waitUntil(lambda: training.curves.batch_count > count + 5)
    stop_run(qtbot, training)
    assert training.session.history.epochs >= reopened.history.epochs
    assert main_window.errors == []


def test_saving_while_running_snapshots_a_batch_boundary_and_goes_on(
    qtbot, main_window: MainWindow, training: TrainingController, tmp_path: Path
) -> None:
    start_long_run(qtbot, main_window, training, batches=45)
    path = tmp_path / "running.nndesk"
    assert main_window.save_as(path)
    assert training.state == "running"
    count = training.curves.batch_count
    qtbot.waitUntil(lambda: training.curves.batch_count > count + 10)
    stop_run(qtbot, training)
    reopened = assert_file_is_batch_boundary(path)
    assert reopened.history.epochs >= 2
    # The window went on training after the save: its state is newer.
    assert training.session.model.optimizer.iterations > int(
        load_project(path).optimizer_state["iterations"]
    )
    assert main_window.errors == []


def test_answering_save_when_closing_during_a_run_writes_the_run(
    qtbot, main_window: MainWindow, training: TrainingController, tmp_path: Path
) -> None:
    path = tmp_path / "closing.nndesk"
    assert main_window.save_as(path)  # a file to save to, and a clean start
    start_long_run(qtbot, main_window, training)
    thread = training._thread
    assert main_window.isWindowModified()
    main_window.questions.answer = "save"
    main_window.close()
    assert not main_window.isVisible()
    assert thread is not None and thread.isFinished()
    assert main_window.questions.asked == ["closing.nndesk"]
    assert_file_is_batch_boundary(path)


# --- training makes the document modified --------------------------------------------------


def leave(window: MainWindow, way: str, other: Path) -> None:
    """Leave the document the way a user would."""
    a = window.actions
    if way == "new":
        a.new.trigger()
    elif way == "close":  # Ctrl+W
        a.close.trigger()
    elif way == "quit":  # Ctrl+Q
        a.quit.trigger()
    elif way == "close_button":
        window.close()
    else:
        window.open_file(other)


WAYS = ["new", "open", "close", "quit", "close_button"]


def saved_clean(window: MainWindow, tmp_path: Path, epochs: int) -> Path:
    """Set the epochs and save, so only training can make the document modified."""
    assert window.edit_setting("epochs", epochs)
    path = tmp_path / "net.nndesk"
    assert window.save_as(path)
    assert not window.is_modified() and not window.isWindowModified()
    other = tmp_path / "other.nndesk"
    assert window.save_as(other)
    assert window.open_file(path)
    return other


@pytest.mark.parametrize("way", WAYS)
def test_after_a_run_every_way_out_asks_first(
    qtbot, main_window: MainWindow, training: TrainingController, tmp_path, way
) -> None:
    other = saved_clean(main_window, tmp_path, 1)
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT):
        training.actions.train.trigger()
    assert main_window.is_modified() and main_window.isWindowModified()
    assert "[*]" in main_window.windowTitle()
    doc = main_window.document
    main_window.questions.answer = "cancel"
    leave(main_window, way, other)
    assert main_window.questions.asked == ["net.nndesk"]
    assert main_window.isVisible() and main_window.document is doc
    assert training.session.history.epochs == 1  # nothing lost
    main_window.questions.answer = "discard"
    leave(main_window, way, other)
    assert main_window.questions.asked == ["net.nndesk", "net.nndesk"]
    if way in ("quit", "close_button"):
        assert not main_window.isVisible()
    else:
        assert main_window.document is not doc


@pytest.mark.parametrize("way", WAYS)
def test_during_a_run_every_way_out_asks_first(
    qtbot, main_window: MainWindow, training: TrainingController, tmp_path, way
) -> None:
    # Still running when Cancel is answered, however long the machine takes.
    other = saved_clean(main_window, tmp_path, LONG_RUN)
    training.actions.train.trigger()
    qtbot.waitUntil(lambda: training.curves.batch_count > 5, timeout=RUN_TIMEOUT)
    assert main_window.isWindowModified()
    thread = training._thread
    main_window.questions.answer = "cancel"
    leave(main_window, way, other)
    assert main_window.questions.asked == ["net.nndesk"]
    assert thread.isRunning() and training.state == "running"  # cancel: it trains on
    main_window.questions.answer = "discard"
    leave(main_window, way, other)
    if way in ("quit", "close_button"):
        assert not main_window.isVisible() and thread.isFinished()
    else:
        qtbot.waitUntil(lambda: training.state == "idle", timeout=RUN_TIMEOUT)
        assert training.session is None or training.session.snapshot.same_content(
            main_window.document
        )
        assert not main_window.is_modified()


def test_a_single_step_marks_the_document_modified(
    qtbot, main_window: MainWindow, training: TrainingController, tmp_path: Path
) -> None:
    saved_clean(main_window, tmp_path, 5)
    training.actions.step_batch.trigger()
    qtbot.waitUntil(lambda: training.curves.batch_count == 1, timeout=RUN_TIMEOUT)
    assert main_window.is_modified() and main_window.isWindowModified()
    stop_run(qtbot, training)


def test_undoing_every_edit_after_training_keeps_the_document_modified(
    qtbot, main_window: MainWindow, training: TrainingController, tmp_path: Path
) -> None:
    saved_clean(main_window, tmp_path, 1)
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT):
        training.actions.train.trigger()
    assert main_window.edit_setting("learning_rate", 0.02)
    main_window.undo_stack.undo()
    assert main_window.undo_stack.isClean()
    assert main_window.is_modified() and main_window.isWindowModified()


# --- one validation set ------------------------------------------------------------------


def test_evaluate_scores_the_samples_the_command_line_scores(
    qtbot, main_window: MainWindow, training: TrainingController, tmp_path: Path
) -> None:
    assert main_window.edit_setting("epochs", 2)
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT):
        training.actions.train.trigger()
    path = tmp_path / "evaluated.nndesk"
    assert main_window.save_as(path)
    training.evaluation.set_evaluation(None)
    training.actions.evaluate.trigger()
    shown = training.evaluation.evaluation
    out = io.StringIO()
    assert cli_main(["evaluate", str(path), "--split", "val"], out=out) == 0
    record = json.loads(out.getvalue().splitlines()[-1])
    assert shown.n == shown.total == record["samples"] == 80
    assert shown.report["accuracy"] == pytest.approx(record["accuracy"], abs=1e-6)
    training.evaluation.flush()
    assert "80 samples" in training.evaluation.summary.text()


def test_a_live_evaluation_that_subsamples_says_so(
    qtbot,
    main_window: MainWindow,
    training: TrainingController,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(worker_module, "MAX_EVAL_SAMPLES", 50)
    assert main_window.edit_setting("epochs", 1)
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT):
        training.actions.train.trigger()
    live = training.evaluation.evaluation
    assert live.n == 50 and live.total == 80
    training.evaluation.flush()
    assert "first 50 of 80 samples" in training.evaluation.summary.text()


def test_a_file_saved_mid_edit_keeps_its_weights_until_the_network_compiles(
    qtbot, main_window: MainWindow, training: TrainingController, tmp_path: Path
) -> None:
    assert main_window.edit_setting("epochs", 2)
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT):
        training.actions.train.trigger()
    trained = training.session.capture()
    loose = main_window.editor.add_node("Dense")  # not connected: no compiling
    assert loose is not None
    path = tmp_path / "mid-edit.nndesk"
    assert main_window.save_as(path)
    with pytest.raises(CompileError):
        TrainingSession.open(path)
    assert main_window.open_example("xor") and main_window.open_file(path)
    assert training.history == trained.history and training.trained
    main_window.editor.scene.select_nodes([loose])
    assert main_window.editor.delete_selection()  # fixed: it compiles again
    training.refresh_preview()
    shown = training.preview.session.model.get_weights()
    for key, value in trained.weights.items():
        np.testing.assert_array_equal(shown[key], value, err_msg=key)
    again = tmp_path / "fixed.nndesk"
    assert main_window.save_as(again)
    saved = load_project(again)
    for key, value in trained.weights.items():
        np.testing.assert_array_equal(saved.weights[key], value, err_msg=key)
    assert saved.history == trained.history
