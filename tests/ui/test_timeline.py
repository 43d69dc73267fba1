"""The training timeline in the window: the slider shows checkpoints without
disturbing a paused run, Fork from Here starts a named run, runs overlay the curves
and travel in the file."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction, QKeySequence
from ui_helpers import OFFSCREEN_NOISE

from nndesk.io.project_file import load_project, save_project
from nndesk.ui.main_window import MainWindow
from nndesk.ui.training.controller import TrainingController
from nndesk.ui.training.timeline import FORK_SHORTCUT

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

RUN_TIMEOUT = 30_000


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def _train(qtbot, window: MainWindow, training: TrainingController, epochs: int):
    assert window.edit_setting("epochs", epochs)
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT) as got:
        training.actions.train.trigger()
    return got.args[0]


def _show(qtbot, training: TrainingController, index: int) -> None:
    part = training.timeline
    with qtbot.waitSignal(part.sig_shown, timeout=RUN_TIMEOUT):
        part.bar.slider.setValue(index)


def test_the_slider_shows_a_checkpoint_and_leaves_a_paused_run_alone(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    assert main_window.edit_setting("epochs", 100_000)  # ended by Stop, not by itself
    training.actions.train.trigger()
    qtbot.waitUntil(lambda: training.curves.batch_count > 60, timeout=RUN_TIMEOUT)
    training.actions.pause.trigger()
    assert training.control.wait_until_waiting(timeout=10)
    before = training.current_state()
    part = training.timeline
    part.refresh()
    points = part.bar.checkpoints
    assert len(points) >= 5 and points[0].step == 0
    assert "Checkpoints:" in part.memory_label.text()

    # Drag through every checkpoint, timing the event loop meanwhile.
    stamps: list[float] = []
    ticker = QTimer()
    ticker.setInterval(5)
    ticker.timeout.connect(lambda: stamps.append(time.perf_counter()))
    ticker.start()
    part.bar.slider.setSliderDown(True)
    for index in range(len(points)):
        part.bar.slider.setValue(index)
        qtbot.wait(15)
    part.bar.slider.setSliderDown(False)
    ticker.stop()
    worst = max(np.diff(stamps))
    print(f"worst event-loop gap while dragging: {worst * 1000:.1f} ms")
    assert worst < 0.25

    chosen = next(i for i, c in enumerate(points) if c.batch > 0)
    _show(qtbot, training, chosen)
    assert part.shows_past and part.last_shown is points[chosen]
    probe = part.last_probe
    assert probe is not None and _same(probe.weights, points[chosen].weights)
    assert _same(training.network.weights, points[chosen].weights)
    assert part.cursors[0].isVisible()
    assert part.cursors[0].value() == pytest.approx(points[chosen].position)
    # The paused run is where it paused.
    after = training.current_state()
    assert _same(after.weights, before.weights)
    assert training.state == "paused"
    part.go_live()
    assert not part.shows_past
    training.actions.stop.trigger()
    qtbot.waitUntil(lambda: training.state == "idle", timeout=RUN_TIMEOUT)


def test_fork_from_here_starts_a_named_run_overlaid_on_the_curves(
    qtbot, main_window: MainWindow, training: TrainingController, tmp_path
) -> None:
    _train(qtbot, main_window, training, 6)
    part = training.timeline
    part.refresh()
    points = part.bar.checkpoints
    k = next(i for i, c in enumerate(points) if c.epoch == 3 and c.batch == 0)
    _show(qtbot, training, k)
    assert main_window.edit_setting("learning_rate", 0.05)
    assert part.fork_action.isEnabled()
    part.fork_action.trigger()
    runs = part.timeline.runs
    assert len(runs) == 2 and part.timeline.current == 1
    assert runs[1].name == "run 2 (lr 0.05)" and runs[1].parent == 0
    assert training.session.history.epochs == 3
    assert len(training.curves.epoch_values("loss")) == 3
    names = [item.name() for item in part._overlays]
    assert names == ["run 1", None]  # its loss (named) and validation loss
    legend = [label.text for _, label in training.curves.loss_plot.legend.items]
    assert "run 1" in legend
    outcome = _train(qtbot, main_window, training, 2)
    assert outcome.state.history["loss"][:3] == runs[0].history["loss"][:3]
    assert len(runs[1].history["loss"]) == 5
    # The slider follows the fork's lineage: run 1 up to epoch 3, then run 2.
    part.refresh()
    lineage = part.bar.checkpoints
    assert {c.run for c in lineage} == {0, 1}
    assert all(c.position <= 3 for c in lineage if c.run == 0)
    assert part.bar.runs.isVisible() or not main_window.isVisible()
    assert [part.bar.runs.itemText(i) for i in range(2)] == ["run 1", runs[1].name]
    # Going along run 1 again: its newest checkpoint (epoch 6) is shown.
    with qtbot.waitSignal(part.sig_shown, timeout=RUN_TIMEOUT) as got:
        part.bar.runs.activated.emit(0)
    assert got.args[0].run == 0 and got.args[0].epoch == 6
    assert part.bar.label.text() == "epoch 6"  # run 1 alone: no name needed
    part.go_live()
    assert part.view_run == 1 and not part.shows_past

    path = tmp_path / "forked.nndesk"
    save_project(path, training.project())
    project = load_project(path)
    assert [r["name"] for r in project.runs] == ["run 1", "run 2 (lr 0.05)"]
    assert project.runs[1]["parent"] == 0 and project.runs[1]["fork_epoch"] == 3
    assert project.runs[0]["history"]["loss"] == runs[0].history["loss"]


def test_the_fork_shortcut_has_one_owner(main_window: MainWindow, training) -> None:
    owners = [
        a.objectName()
        for a in main_window.findChildren(QAction)
        if a.shortcut() == QKeySequence(FORK_SHORTCUT)
    ]
    assert owners == ["fork_from_here"]
    menu_actions = training.view.menu.actions()
    assert training.timeline.fork_action in menu_actions
    assert training.timeline.fork_action in training.timeline.bar.actions()


def test_saved_with_checkpoints_the_runs_and_checkpoints_come_back(
    qtbot, main_window: MainWindow, training: TrainingController, tmp_path
) -> None:
    _train(qtbot, main_window, training, 3)
    part = training.timeline
    part.refresh()
    two = next(c for c in part.bar.checkpoints if c.epoch == 2 and c.batch == 0)
    _show(qtbot, training, part.bar.checkpoints.index(two))
    part.fork_action.trigger()
    _train(qtbot, main_window, training, 1)
    part.save_checkpoints.setChecked(True)
    path = tmp_path / "with-checkpoints.nndesk"
    assert main_window.save_as(path)
    kept = len(part.timeline.store)
    assert main_window.open_example("xor")
    assert part.timeline.runs[0].name == "run 1" and len(part.timeline.runs) == 1
    assert len(part.timeline.store) == 0, "another network: the timeline starts over"
    assert main_window.open_file(path)
    timeline = part.timeline
    assert [r.name for r in timeline.runs] == ["run 1", "run 2"]
    assert timeline.current == 1 and len(timeline.store) == kept
    back = next(c for c in timeline.store.checkpoints(0) if c.epoch == 2)
    assert np.array_equal(back.weights["dense_1/kernel"], two.weights["dense_1/kernel"])
    part.refresh()
    assert part.bar.checkpoints and "Checkpoints:" in part.memory_label.text()
    _show(qtbot, training, 0)
    assert part.last_shown is part.bar.checkpoints[0]


@pytest.mark.slow
def test_fork_is_one_undo_step(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    _train(qtbot, main_window, training, 4)
    before = training.current_state()
    part = training.timeline
    part.refresh()
    k = next(i for i, c in enumerate(part.bar.checkpoints) if c.epoch == 2)
    _show(qtbot, training, k)
    part.fork_action.trigger()
    stack = main_window.undo_stack
    assert stack.undoText() == "Fork run 2"
    assert part.timeline.current == 1 and training.session.history.epochs == 2
    stack.undo()
    assert part.timeline.current == 0 and part.view_run == 0
    back = training.current_state()
    assert back.history == before.history and _same(back.weights, before.weights)
    assert len(part.timeline.runs) == 2, "the fork's run stays in the timeline"
    stack.redo()
    assert part.timeline.current == 1 and training.session.history.epochs == 2
    assert _same(training.current_state().weights, part.bar.checkpoints[k].weights)


def test_the_bar_fits_a_1280x800_window_with_two_runs(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    from nndesk.training.checkpoints import Run

    part = training.timeline
    part.timeline.runs.append(Run("run 2 (lr 0.1, sgd, edited graph)", parent=0))
    part.refresh()
    main_window.resize(1280, 800)
    main_window.show()
    qtbot.waitExposed(main_window)
    qtbot.wait(50)
    bar = part.bar
    assert main_window.width() == 1280
    assert not bar.runs.isHidden()
    for widget in (bar.runs, bar.label, bar.live, bar.fork):
        assert widget.width() >= widget.minimumSizeHint().width()
    assert bar.slider.width() >= 120
    assert bar.wide == (bar.width() >= bar.wide_width())


def test_a_fork_in_the_window_reproduces_the_run_bit_for_bit(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    """Through the worker, as a user does it: 6 epochs, Fork from Here at the end
    of epoch 3 with nothing changed, Train 3: the weights and history of epoch 6."""
    _train(qtbot, main_window, training, 6)
    original = training.current_state()
    part = training.timeline
    part.refresh()
    k = next(
        i for i, c in enumerate(part.bar.checkpoints) if c.epoch == 3 and c.batch == 0
    )
    _show(qtbot, training, k)
    part.fork_action.trigger()
    assert part.timeline.runs[1].name == "run 2"  # nothing changed
    _train(qtbot, main_window, training, 3)
    fork = training.current_state()
    assert _same(fork.weights, original.weights)
    assert _same(fork.optimizer_state, original.optimizer_state)
    assert fork.history == original.history


def test_scrubbing_shows_the_checkpoint_in_the_boundary_and_the_evaluation(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    """Not only the weights: the decision map is the checkpoint's network on the
    grid, and the evaluation when the slider is let go is of that checkpoint."""
    from nndesk.training.checkpoints import restore_weights
    from nndesk.training.compile import compile_network

    _train(qtbot, main_window, training, 4)
    live_grid = training.boundary.grid.output.copy()
    part = training.timeline
    part.refresh()
    index = next(
        i for i, c in enumerate(part.bar.checkpoints) if c.epoch == 1 and c.batch == 0
    )
    checkpoint = part.bar.checkpoints[index]
    with qtbot.waitSignal(part.sig_shown, timeout=RUN_TIMEOUT):
        part.bar.slider.setValue(index)
    with qtbot.waitSignal(part.sig_shown, timeout=RUN_TIMEOUT):
        part._on_released()  # let go: the evaluation too
    grid = training.boundary.grid
    g = grid.output.shape[0]
    x0, x1, y0, y1 = grid.extent
    xx, yy = np.meshgrid(np.linspace(x0, x1, g), np.linspace(y0, y1, g))
    points = np.column_stack([xx.ravel(), yy.ravel()]).astype(np.float32)
    model = compile_network(
        main_window.document.snapshot(), dataset=main_window.dataset
    ).model
    restore_weights(model, checkpoint)
    want = model.predict(points).reshape(grid.output.shape)
    np.testing.assert_allclose(grid.output, want, rtol=1e-5, atol=1e-6)
    assert not np.allclose(grid.output, live_grid)  # epoch 1 is not epoch 4
    evaluation = training.evaluation.evaluation
    assert evaluation is not None and evaluation.epoch == checkpoint.epoch - 1
    part.go_live()
