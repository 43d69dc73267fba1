"""A GAN in the real main window (issue 16): Train through GanSession in the
worker, the GAN views fed, the discriminator or the generator stepped alone, Step
Both, slow motion, Save and reopen; the GAN controls shown only for a GAN."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ui_helpers import OFFSCREEN_NOISE

from nndesk.document.examples import _chain, spiral_classifier
from nndesk.document.graph import Document
from nndesk.io.project_file import load_project
from nndesk.training.gan import GanSession
from nndesk.ui.main_window import MainWindow
from nndesk.ui.training.controller import TrainingController
from nndesk.ui.training.gan_run import GanWorker

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

RUN_TIMEOUT = 60_000


def ring_gan(
    epochs: int = 2,
    d_steps: int = 1,
    dim: int = 2,
    dataset: str = "ring-gaussians:n=400",
) -> Document:
    """A small GAN on ``dim``-D data, the ring of 8 Gaussians by default (400
    samples, batch 50: 8 batches an epoch)."""
    doc = Document(
        {
            "dataset": dataset,
            "optimizer": "adam",
            "learning_rate": 0.002,
            "batch_size": 50,
            "epochs": epochs,
            "seed": 0,
        }
    )
    _chain(
        doc,
        [
            ("Noise", {"shape": (2,), "d_steps": d_steps}),
            ("Dense", {"units": 16, "activation": "relu"}),
            ("Dense", {"units": dim, "activation": "linear"}),
        ],
    )
    _chain(
        doc,
        [
            ("Input", {"shape": (dim,)}),
            ("Dense", {"units": 16, "activation": "relu"}),
            ("Dense", {"units": 1, "activation": "sigmoid"}),
            ("Output", {"loss": "binary_crossentropy"}),
        ],
        row=1.2,
    )
    return doc


@pytest.fixture
def gan_window(qtbot, main_window: MainWindow, training: TrainingController):
    main_window.set_document(ring_gan())
    qtbot.waitUntil(lambda: training.gan.active, timeout=5000)
    return main_window


def counters(training: TrainingController) -> tuple[int, int]:
    session = training._worker.job.session if training._worker else training.session
    t = session.trainer
    return t.d_steps_done, t.g_steps_done


def test_gan_controls_show_only_for_a_gan(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    a = training.actions
    assert not a.step_discriminator.isVisible() and not training.gan.active
    main_window.set_document(ring_gan())
    assert training.gan.active and a.step_discriminator.isVisible()
    assert a.step_discriminator.isEnabled() and a.slow_motion.isEnabled()
    assert not a.evaluate.isEnabled()  # nothing to score
    # The preview draws the untrained GAN.
    qtbot.waitUntil(lambda: training.view.gan_picture.picture is not None, timeout=5000)
    assert training.view.gan_picture.picture.kind == "plane"
    main_window.set_document(spiral_classifier())
    assert not training.gan.active and not a.step_generator.isVisible()
    assert a.evaluate.isEnabled()


def test_train_a_gan_in_the_window(
    qtbot, gan_window: MainWindow, training: TrainingController
) -> None:
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT) as done:
        training.actions.train.trigger()
    outcome = done.args[0]
    assert outcome.status == "completed", outcome.message
    assert isinstance(outcome.session, GanSession)
    assert training.session.history.epochs == 2
    assert set(training.history) >= {"d_loss", "g_loss", "d_real", "d_fake"}
    view = training.view
    picture = view.gan_picture.picture
    assert picture is not None and picture.plane is not None
    assert picture.coverage is not None and picture.coverage[1] == 8
    steps, losses = view.gan_curves.series("d_loss")
    assert len(steps) == 16 and np.isfinite(losses).all()  # 2 epochs of 8 batches
    assert steps[-1] == pytest.approx(2.0)
    assert len(view.gan_curves.series("modes")[0]) >= 1
    # The final picture shows the trained generator: its samples are the session's.
    nets_fake = training.session.trainer.sample(
        training.session.trainer.noise(4, np.random.default_rng(0))
    )
    assert np.isfinite(nets_fake).all()
    assert gan_window.errors == []


def test_step_discriminator_generator_and_both(
    qtbot, gan_window: MainWindow, training: TrainingController
) -> None:
    a = training.actions
    a.step_discriminator.trigger()  # starts a run, paused after one D step
    assert training.state == "paused"
    assert isinstance(training._worker, GanWorker)
    qtbot.waitUntil(lambda: counters(training) == (1, 0), timeout=RUN_TIMEOUT)
    a.step_generator.trigger()
    qtbot.waitUntil(lambda: counters(training) == (1, 1), timeout=RUN_TIMEOUT)
    assert training.control.wait_until_waiting(timeout=10)
    a.step_both.trigger()  # d_steps 1: one D step and one G step
    qtbot.waitUntil(lambda: counters(training) == (2, 2), timeout=RUN_TIMEOUT)
    assert training.control.wait_until_waiting(timeout=10)
    qtbot.wait(100)
    assert counters(training) == (2, 2) and training.state == "paused"
    # Each step was shown: the picture follows the paused state.
    picture = training.view.gan_picture.picture
    assert picture is not None
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT):
        a.stop.trigger()
    assert training.session.trainer.g_steps_done == 2
    assert gan_window.errors == []


def test_step_both_takes_the_whole_schedule(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    main_window.set_document(ring_gan(d_steps=3))
    training.actions.step_both.trigger()
    qtbot.waitUntil(lambda: counters(training) == (3, 1), timeout=RUN_TIMEOUT)
    assert training.control.wait_until_waiting(timeout=10)
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT):
        training.actions.stop.trigger()


def test_slow_motion_paces_and_shows_every_step(
    qtbot, gan_window: MainWindow, training: TrainingController
) -> None:
    training.actions.slow_motion.setChecked(True)
    pictures: list[float] = []
    original = training.view.show_gan

    def spy(picture):
        pictures.append(picture.step)
        original(picture)

    training.view.show_gan = spy
    training.actions.train.trigger()
    qtbot.waitUntil(lambda: len(pictures) >= 3, timeout=RUN_TIMEOUT)
    d_steps = counters(training)[0]
    # 4 steps a second: after three pictures at most a few steps were made.
    assert d_steps <= 6
    assert pictures == sorted(pictures) and len(set(pictures)) == len(pictures)
    training.actions.slow_motion.setChecked(False)
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT):
        pass  # full speed again: the two epochs end soon
    assert training.session.history.epochs == 2


def test_pictures_keep_coming_when_epochs_are_short(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    """Epochs of 8 batches take a few milliseconds: the epoch ends emit the
    batches, so the picture must come on its own clock (it came only at the end
    of a run before, the ring example's 10 epochs showed no picture between)."""
    main_window.set_document(ring_gan(epochs=100_000))  # ended by Stop below
    qtbot.waitUntil(lambda: training.gan.active, timeout=5000)
    steps: list[float] = []
    original = training.view.show_gan

    def spy(picture):
        steps.append(picture.step)
        original(picture)

    training.view.show_gan = spy
    training.actions.train.trigger()
    # Three pictures during the run (after its start), at 0.25 s or more apart
    # (a probe may take 5 % of the time).
    qtbot.waitUntil(lambda: len([s for s in steps if s > 1.0]) >= 3, timeout=30_000)
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT):
        training.actions.stop.trigger()
    during = [s for s in steps if s > 1.0]
    assert during == sorted(during) and len(set(during[:3])) == 3
    assert main_window.errors == []


def test_step_epoch_shows_the_epoch_end_not_every_batch(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    """Step Epoch (80 batches here) pauses at the epoch's end and shows it; the
    control counts as paused between its batches, which drew a picture before
    each one (the ring example's epoch took 1.9-3.5 s instead of 0.1 s)."""
    main_window.set_document(ring_gan(100_000, dataset="ring-gaussians:n=4000"))
    qtbot.waitUntil(lambda: training.gan.active, timeout=5000)
    steps: list[float] = []
    original = training.view.show_gan

    def spy(picture):
        steps.append(picture.step)
        original(picture)

    training.view.show_gan = spy
    training.actions.step_epoch.trigger()
    qtbot.waitUntil(lambda: counters(training)[0] == 80, timeout=RUN_TIMEOUT)
    qtbot.waitUntil(lambda: bool(steps) and steps[-1] == 1.0, timeout=RUN_TIMEOUT)
    assert training.state == "paused"
    assert len([s for s in steps if 0.0 < s < 1.0]) < 20  # not one per batch
    training.actions.step_epoch.trigger()  # the next one, from the pause
    qtbot.waitUntil(lambda: counters(training)[0] == 160, timeout=RUN_TIMEOUT)
    qtbot.waitUntil(lambda: steps[-1] == 2.0, timeout=RUN_TIMEOUT)
    assert len([s for s in steps if 1.0 < s < 2.0]) < 20
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT):
        training.actions.stop.trigger()
    assert main_window.errors == []


def test_check_gradients_and_speed_say_a_gan_is_two_networks(
    qtbot, gan_window: MainWindow, training: TrainingController
) -> None:
    """They said "There is no network to check" of an untrained GAN."""
    from PySide6.QtGui import QAction

    for name in ("check_gradients", "training_speed"):
        training.panel.set_message("")
        action = gan_window.findChild(QAction, name)
        assert action is not None
        action.trigger()
        text = training.panel.message.text()
        assert "GAN" in text and "Noise node" in text, text
    assert gan_window.errors == []


def test_save_a_paused_gan_run(
    qtbot, main_window: MainWindow, training: TrainingController, tmp_path: Path
) -> None:
    """A paused run saves both networks as they are, and no timeline runs or
    checkpoints (the timeline keeps none of a GAN's), even with Save
    Checkpoints on."""
    from nndesk.io.project_file import save_project

    main_window.set_document(ring_gan(100_000))
    qtbot.waitUntil(lambda: training.gan.active, timeout=5000)
    training.timeline.save_checkpoints.setChecked(True)
    training.actions.step_epoch.trigger()
    qtbot.waitUntil(lambda: counters(training)[0] == 8, timeout=RUN_TIMEOUT)
    qtbot.waitUntil(lambda: training.control.waiting, timeout=RUN_TIMEOUT)
    project = training.project()
    assert project is not None and not project.runs and not project.checkpoints
    path = tmp_path / "paused.nndesk"
    save_project(path, project)
    reopened = GanSession.from_project(load_project(path))
    live = training._worker.job.session.trainer.get_weights()
    for key, value in reopened.trainer.get_weights().items():
        assert np.array_equal(value, live[key]), key
    assert reopened.trainer.d_steps_done == 8 and reopened.epoch == 1
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT):
        training.actions.stop.trigger()
    assert main_window.errors == []


def test_the_inspector_sets_each_network_its_rate_and_the_file_keeps_them(
    qtbot, gan_window: MainWindow, training: TrainingController, tmp_path: Path
) -> None:
    """Selecting the Noise node shows the GAN's setup; its two learning rates
    are typed like any parameter (one undo step each), reach the two optimizers
    and are saved in the file with both optimizers' state."""
    from PySide6.QtCore import Qt

    from nndesk.io.project_file import save_project

    doc = gan_window.document
    gan_window.editor.scene.select_nodes(["noise_1"])
    fields = gan_window.inspector.fields
    assert {"gan_loss", "d_steps", "generator_lr", "discriminator_lr"} <= set(fields)
    for name, text in (("generator_lr", "0.0005"), ("discriminator_lr", "0.004")):
        edit = fields[name].widget
        edit.setFocus()
        edit.clear()
        qtbot.keyClicks(edit, text)
        qtbot.keyClick(edit, Qt.Key.Key_Return)
        fields = gan_window.inspector.fields
    assert doc.node("noise_1").params["generator_lr"] == pytest.approx(0.0005)
    gan_window.undo_stack.undo()
    assert doc.node("noise_1").params["discriminator_lr"] is None
    gan_window.undo_stack.redo()
    assert doc.node("noise_1").params["discriminator_lr"] == pytest.approx(0.004)
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT):
        training.actions.train.trigger()
    trainer = training.session.trainer
    assert trainer.g_optimizer is not trainer.d_optimizer
    assert trainer.g_optimizer.lr == pytest.approx(0.0005)
    assert trainer.d_optimizer.lr == pytest.approx(0.004)
    path = tmp_path / "rates.nndesk"
    save_project(path, training.project())
    reopened = GanSession.open(path)
    config = reopened.trainer.config
    assert (config.generator_lr, config.discriminator_lr) == pytest.approx(
        (0.0005, 0.004)
    )
    for mine, saved in (
        (trainer.g_optimizer, reopened.trainer.g_optimizer),
        (trainer.d_optimizer, reopened.trainer.d_optimizer),
    ):
        state, back = mine.get_state(), saved.get_state()
        assert set(state) == set(back) and len(state) > 1
        for key, value in state.items():
            assert np.array_equal(np.asarray(value), np.asarray(back[key])), key
    assert gan_window.errors == []


def test_points_painted_during_a_gan_run_are_its_data_from_the_next_epoch(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    """A GAN on the painted set goes on with the points painted during its run,
    from the next epoch, and its picture shows them (they were never used)."""
    from nndesk.document.painted import PaintedPoints

    rng = np.random.default_rng(0)
    first = rng.normal((-0.5, 0.5), 0.05, (60, 2))
    doc = ring_gan(100_000, dataset="painted")
    doc.set_painted(PaintedPoints.empty().added(first, 0))
    main_window.set_document(doc)
    qtbot.waitUntil(lambda: training.gan.active, timeout=5000)
    training.actions.train.trigger()
    qtbot.waitUntil(lambda: counters(training)[0] > 0, timeout=RUN_TIMEOUT)
    second = rng.normal((0.5, -0.5), 0.05, (90, 2))
    main_window.document.set_painted(
        PaintedPoints.empty().added(np.concatenate([first, second]), 0)
    )
    session = training._worker.job.session
    qtbot.waitUntil(lambda: len(session.data) == 150, timeout=RUN_TIMEOUT)

    def shows_both() -> bool:
        picture = training.view.gan_picture.picture
        return picture is not None and len(picture.plane.real) == 150

    qtbot.waitUntil(shows_both, timeout=RUN_TIMEOUT)
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT):
        training.actions.stop.trigger()
    assert main_window.errors == []


def test_the_timeline_says_a_gan_run_is_not_kept(
    qtbot, gan_window: MainWindow, training: TrainingController
) -> None:
    """A GAN's runs are not recorded on the timeline (docs/timeline.md): its bar
    says so, before and after a run, and Fork from Here is off."""
    bar, fork = training.timeline.bar, training.timeline.fork_action
    assert bar.label.text() == "Not kept for a GAN" and "GAN" in bar.label.toolTip()
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT):
        training.actions.train.trigger()
    assert bar.label.text() == "Not kept for a GAN"
    assert not bar.slider.isEnabled() and not fork.isEnabled()
    # Without its Noise node the drawing is no GAN: the bar is the timeline's.
    doc = gan_window.document
    noise = next(n for n in doc.nodes if n.type_name == "Noise")
    doc.remove_node(noise.id)
    assert not training.gan.active
    assert bar.label.text() == "No checkpoints yet"


def test_save_and_reopen_a_trained_gan(
    qtbot, gan_window: MainWindow, training: TrainingController, tmp_path: Path
) -> None:
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT):
        training.actions.train.trigger()
    weights = training.session.trainer.get_weights()
    path = tmp_path / "ring.nndesk"
    project = training.project()
    assert project is not None
    from nndesk.io.project_file import save_project

    save_project(path, project)
    reopened = GanSession.from_project(load_project(path))
    assert reopened.history.epochs == 2
    for key, value in weights.items():
        assert np.array_equal(reopened.trainer.get_weights()[key], value)
    training.view.gan_curves.clear()
    training.restore_project(load_project(path))
    assert isinstance(training.session, GanSession) and training.trained
    # The opened file's epochs are on the GAN curves.
    assert list(training.view.gan_curves.series("g_loss")[0]) == [1.0, 2.0]


def test_the_gan_shortcuts_fire(
    qtbot, gan_window: MainWindow, training: TrainingController
) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    gan_window.activateWindow()
    gan_window.editor.view.setFocus()
    QTest.keyClick(gan_window.editor.view, Qt.Key.Key_F8)  # Step Discriminator
    qtbot.waitUntil(lambda: training._worker is not None, timeout=RUN_TIMEOUT)
    qtbot.waitUntil(lambda: counters(training) == (1, 0), timeout=RUN_TIMEOUT)
    QTest.keyClick(gan_window.editor.view, Qt.Key.Key_F9)  # Step Generator
    qtbot.waitUntil(lambda: counters(training) == (1, 1), timeout=RUN_TIMEOUT)
    QTest.keyClick(
        gan_window.editor.view, Qt.Key.Key_F8, Qt.KeyboardModifier.ShiftModifier
    )  # Slow Motion
    assert training.actions.slow_motion.isChecked()
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT):
        training.actions.stop.trigger()


def test_a_1d_gan_shows_densities_and_modes(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    main_window.set_document(ring_gan(dim=1, dataset="mixture-1d:n=400"))
    with qtbot.waitSignal(training.sig_run_finished, timeout=RUN_TIMEOUT) as done:
        training.actions.train.trigger()
    assert done.args[0].status == "completed", done.args[0].message
    picture = training.view.gan_picture.picture
    assert picture.kind == "line" and picture.line is not None
    assert picture.coverage is not None and picture.coverage[1] == 3
    panel = training.view.gan_picture
    panel.flush()
    assert panel.hist_plot.isVisible() or not panel.isVisible()
    assert main_window.errors == []
