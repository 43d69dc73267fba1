"""Race mode in the window: the dialog, a short race in the background, Promote + Undo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from ui_helpers import OFFSCREEN_NOISE

from nndesk.io.project_file import load_project, save_project
from nndesk.training.examples import example_path
from nndesk.training.race import Entrant, variant_of
from nndesk.ui.main_window import MainWindow
from nndesk.ui.training.controller import attach_training
from nndesk.ui.training.race_dialog import RaceDialog
from nndesk.ui.training.race_mode import RaceMode

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

RACE_TIMEOUT = 120_000


@pytest.fixture
def race(main_window: MainWindow) -> RaceMode:
    """The race mode of the window's training controller (attached here)."""
    controller = main_window.training or attach_training(main_window)
    return controller.race


def _wait_for_data(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=RACE_TIMEOUT)


def _run(qtbot, race: RaceMode, entrants, epochs: int):
    with qtbot.waitSignal(race.sig_finished, timeout=RACE_TIMEOUT) as blocker:
        assert race.start(entrants, epochs)
    return blocker.args[0]


def _two(window: MainWindow) -> list[Entrant]:
    snap = window.document.snapshot()
    return [
        Entrant("adam", snap),
        Entrant("sgd", variant_of(snap, "optimizer", "sgd")),
    ]


def test_dialog_builds_one_change_per_variant(
    qtbot, main_window: MainWindow, tmp_path: Path
) -> None:
    doc = main_window.document
    other = load_project(Path(str(example_path("spiral"))))
    other.document.set_setting("learning_rate", 0.05)
    saved = tmp_path / "other.nndesk"
    save_project(saved, other)
    dialog = RaceDialog(doc.snapshot(), ask_file=lambda: saved)
    qtbot.addWidget(dialog)
    lr = float(doc.settings["learning_rate"])
    assert len(dialog.rows) == 2
    assert dialog.rows[1].name.text() == f"lr {lr * 10:g}"
    third, fourth = dialog.add_row(), dialog.add_row()
    assert not dialog.add_button.isEnabled()  # four at most
    third.set_change("activation", "relu")
    assert third.name.text() == "relu"
    fourth.source.setCurrentIndex(fourth.source.findData("browse"))
    fourth.source.activated.emit(fourth.source.currentIndex())
    assert fourth.path == saved and fourth.name.text() == "other"
    entrants = dialog.entrants()
    assert [e.name for e in entrants] == ["this network", f"lr {lr * 10:g}", "relu",
                                          "other"]  # fmt: skip
    assert entrants[1].view.settings["learning_rate"] == pytest.approx(lr * 10)
    acts = {n.id: n.params.get("activation") for n in entrants[2].view.nodes}
    assert acts["dense_1"] == "relu" and acts["dense_3"] == "sigmoid"
    assert entrants[3].view.settings["learning_rate"] == 0.05
    assert entrants[3].view.settings["dataset"] == doc.settings["dataset"]
    # Two with one name: said under the rows, the dialog stays open.
    third.name.setText("other")
    third.name.textEdited.emit("other")
    dialog.show()
    dialog.accept()
    assert "both named 'other'" in dialog.message.text()
    assert dialog.isVisible()
    # Removing goes down to two, not below.
    for row in list(dialog.rows):
        dialog.remove_row(row)
    assert len(dialog.rows) == 2 and not dialog.rows[0].remove.isEnabled()


@pytest.mark.slow
def test_short_race_runs_in_the_background_and_shows_every_variant(
    qtbot, main_window: MainWindow, race: RaceMode
) -> None:
    _wait_for_data(qtbot, main_window)
    assert race.action in main_window.training.view.menu.actions()
    outcome = _run(qtbot, race, _two(main_window), epochs=3)
    assert outcome.status == "completed", outcome.message
    view = race.view
    # The panels are built one per turn of the event loop, probes queued behind.
    qtbot.waitUntil(lambda: not view.busy, timeout=RACE_TIMEOUT)
    assert race.dock.isVisible() and view.names == ["adam", "sgd"]
    # A window of its own over the main window, inside the screen.
    assert race.dock.isFloating()
    screen = main_window.screen().availableGeometry()
    assert screen.contains(race.dock.frameGeometry())
    for i in range(2):
        assert len(view.curves.epoch_values(i)) == 3
        assert view.boundaries[i].grid is not None
        assert view.evaluations[i].evaluation is not None
        assert view.histograms[i].weight_hist
    assert view.table.rowCount() == 2
    assert view.table.item(outcome.leader, 0).text().startswith("★ ")
    assert [s.epochs for s in outcome.standings] == [3, 3]
    # The two boundaries differ: each column shows its own variant.
    g0, g1 = view.boundaries[0].grid.output, view.boundaries[1].grid.output
    assert not np.allclose(g0, g1)
    assert view.promote_button.isEnabled() and not view.stop_button.isEnabled()
    assert not main_window.errors


@pytest.mark.slow
def test_race_can_be_paused_and_stopped(
    qtbot, main_window: MainWindow, race: RaceMode
) -> None:
    _wait_for_data(qtbot, main_window)
    with qtbot.waitSignal(race.sig_finished, timeout=RACE_TIMEOUT) as blocker:
        # So many epochs that only the Stop button can end it, however slow the
        # window is to show the first round (one CI run finished 500 first).
        assert race.start(_two(main_window), 100_000)
        qtbot.waitUntil(lambda: race.view.table.rowCount() == 2, timeout=RACE_TIMEOUT)
        race.view.pause_button.click()
        assert race.view.pause_button.text() == "Resume"
        race.view.pause_button.click()
        race.view.stop_button.click()
    outcome = blocker.args[0]
    assert outcome.status == "stopped"
    assert all(s.epochs < 100_000 for s in outcome.standings)
    assert len(outcome.states) == 2  # a stopped race can still be promoted


@pytest.mark.slow
def test_promote_winner_is_one_undoable_step(
    qtbot, main_window: MainWindow, race: RaceMode
) -> None:
    _wait_for_data(qtbot, main_window)
    doc = main_window.document
    before_settings = dict(doc.settings)
    before_nodes = list(doc.nodes)
    assert main_window.training.current_state() is None  # untrained
    outcome = _run(qtbot, race, _two(main_window), epochs=2)
    steps = main_window.undo_stack.count()
    race.view.winner.setCurrentIndex(1)
    race.view.promote_button.click()
    assert main_window.undo_stack.count() == steps + 1
    assert doc.settings["optimizer"] == "sgd"
    state = main_window.training.current_state()
    promoted = outcome.states[1]
    assert state.history["loss"] == promoted.history["loss"]
    for key, w in promoted.weights.items():
        assert np.array_equal(state.weights[key], w), key
    main_window.undo_stack.undo()
    assert dict(doc.settings) == before_settings and list(doc.nodes) == before_nodes
    assert main_window.training.current_state() is None
    main_window.undo_stack.redo()
    assert doc.settings["optimizer"] == "sgd"
    assert main_window.training.current_state().history == promoted.history


@pytest.mark.slow
def test_promote_a_variant_with_another_graph(
    qtbot, main_window: MainWindow, race: RaceMode
) -> None:
    _wait_for_data(qtbot, main_window)
    doc = main_window.document
    wider = doc.copy()
    wider.set_param("dense_1", "units", 12)
    extra = wider.add_node("Dense", {"units": 6, "activation": "tanh"}, (600.0, 300.0))
    (edge,) = [e for e in wider.edges if e.src_node == "dense_2"]
    wider.disconnect(edge)
    wider.connect("dense_2", "out", extra, "in")
    wider.connect(extra, "out", edge.dst_node, edge.dst_port)
    entrants = [Entrant("base", doc.snapshot()), Entrant("wider", wider.snapshot())]
    outcome = _run(qtbot, race, entrants, epochs=2)
    before = doc.snapshot()
    assert race.promote(1)
    after = doc.snapshot()
    assert {n.id for n in after.nodes} == {n.id for n in wider.nodes}
    assert set(after.edges) == set(wider.edges)
    assert after.node("dense_1").params["units"] == 12
    state = main_window.training.current_state()
    assert np.array_equal(
        state.weights[f"{extra}/kernel"], outcome.states[1].weights[f"{extra}/kernel"]
    )
    main_window.undo_stack.undo()
    restored = doc.snapshot()
    assert [n.id for n in restored.nodes] == [n.id for n in before.nodes]
    assert set(restored.edges) == set(before.edges)
    assert restored.node("dense_1").params["units"] == 8


def test_refusal_is_one_sentence(qtbot, main_window: MainWindow, race: RaceMode):
    _wait_for_data(qtbot, main_window)
    snap = main_window.document.snapshot()
    other = main_window.document.copy()
    other.set_setting("batch_size", 64)
    entrants = [Entrant("a", snap), Entrant("b", other.snapshot())]
    assert not race.start(entrants, 2)
    assert not race.is_running
    (message,) = main_window.errors
    assert message.startswith("Variant 'b' has batch_size 64 but 'a' has")
    assert race.view.status.text() == message


@pytest.mark.slow
def test_closing_the_window_mid_race_stops_it(
    qtbot, main_window: MainWindow, race: RaceMode
) -> None:
    _wait_for_data(qtbot, main_window)
    assert race.start(_two(main_window), 10_000)
    qtbot.waitUntil(lambda: race.view.table.rowCount() == 2, timeout=RACE_TIMEOUT)
    thread = race._thread
    main_window.close()
    assert thread is not None and thread.isFinished()


def test_dialog_starts_from_the_trained_weights_when_asked(qtbot) -> None:
    from nndesk.document.examples import spiral_classifier
    from nndesk.training.session import TrainingSession

    doc = spiral_classifier()
    session = TrainingSession(doc)
    session.fit(epochs=1)
    state = session.capture()
    dialog = RaceDialog(doc.snapshot(), state=state)
    qtbot.addWidget(dialog)
    assert dialog.carry.isEnabled() and not dialog.carry.isChecked()
    assert all(e.state is None for e in dialog.entrants())
    dialog.carry.setChecked(True)
    entrants = dialog.entrants()
    assert all(e.state is state for e in entrants)
    # Untrained: nothing to start from.
    fresh = RaceDialog(doc.snapshot(), state=None)
    qtbot.addWidget(fresh)
    assert not fresh.carry.isEnabled()


@pytest.mark.slow
def test_race_command_opens_the_dialog_and_races(
    qtbot, main_window: MainWindow, race: RaceMode
) -> None:
    _wait_for_data(qtbot, main_window)
    seen: list[RaceDialog] = []

    def choose() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, RaceDialog)
        seen.append(dialog)
        dialog.rows[1].set_change("optimizer", "rmsprop")
        dialog.epochs.setValue(2)
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

    QTimer.singleShot(0, choose)
    with qtbot.waitSignal(race.sig_finished, timeout=RACE_TIMEOUT) as blocker:
        race.action.trigger()
    assert seen and blocker.args[0].names == ["this network", "rmsprop"]
    assert [s.epochs for s in blocker.args[0].standings] == [2, 2]


@pytest.mark.slow
def test_the_window_stays_responsive_during_a_race(
    qtbot, main_window: MainWindow, race: RaceMode
) -> None:
    """Hundreds of tiny epochs a second reach the GUI thread as at most ten
    progress signals a second, and the panels are built one per turn."""
    _wait_for_data(qtbot, main_window)
    seen: list[object] = []
    race.sig_finished.connect(seen.append)
    assert race.start(_two(main_window), 200)
    worker = race._worker
    progress: list[object] = []
    worker.sig_progress.connect(progress.append, Qt.ConnectionType.DirectConnection)
    qtbot.waitUntil(lambda: bool(seen), timeout=RACE_TIMEOUT)
    epochs = sum(len(p.epochs) for p in progress)
    assert len(progress) < epochs / 4  # 400 epochs in far fewer signals
    assert all(len(race.view.curves.epoch_values(i)) == 200 for i in range(2))


def test_a_variant_that_does_not_fit_the_data_is_refused_before_it_starts(
    qtbot, main_window: MainWindow, race: RaceMode
) -> None:
    _wait_for_data(qtbot, main_window)
    wide = main_window.document.copy()
    wide.set_param("input_1", "shape", (3,))
    entrants = [Entrant("base", main_window.document.snapshot()),
                Entrant("wide", wide.snapshot())]  # fmt: skip
    assert not race.start(entrants, 2)
    assert not race.is_running
    (message,) = main_window.errors
    assert message.startswith("Variant 'wide': The dataset")


def _five_features_network(window: MainWindow, folder: Path) -> None:
    """A network of five inputs on a CSV table (its boundary needs a plane)."""
    from nndesk.document.examples import _chain
    from nndesk.document.graph import Document

    rng = np.random.default_rng(0)
    x = rng.normal(size=(240, 5)) * [1, 2, 3, 0.5, 1]
    y = (x[:, 0] + x[:, 2] > 0).astype(np.int64) + (x[:, 4] > 1)
    path = folder / "five.csv"
    rows = [
        ",".join(f"{v:.5f}" for v in r) + f",{'abc'[k]}"
        for r, k in zip(x, y, strict=True)
    ]
    path.write_text("a,b,c,d,e,kind\n" + "\n".join(rows) + "\n")
    doc = Document({"dataset": str(path), "seed": 2, "batch_size": 32})
    _chain(doc, [
        ("Input", {"shape": (5,)}),
        ("Dense", {"units": 6, "activation": "tanh"}),
        ("Dense", {"units": 3, "activation": "softmax"}),
        ("Output", {"loss": "sparse_categorical_crossentropy"}),
    ])  # fmt: skip
    window.set_document(doc)


@pytest.mark.slow
def test_race_columns_draw_inputs_beyond_two_on_the_main_panels_plane(
    qtbot, main_window: MainWindow, race: RaceMode, tmp_path: Path
) -> None:
    """Every column draws on one plane, the main Decision Boundary's choice to
    start with; a plane chosen after the race redraws every column on it."""
    _five_features_network(main_window, tmp_path)
    _wait_for_data(qtbot, main_window)
    main = main_window.training.boundary.chooser
    qtbot.waitUntil(lambda: main.plane is not None, timeout=RACE_TIMEOUT)
    main.y_box.setCurrentIndex(3)  # a against d
    qtbot.waitUntil(lambda: main.plane.labels == ("a", "d"))
    outcome = _run(qtbot, race, _two(main_window), epochs=3)
    assert outcome.status == "completed", outcome.message
    view = race.view
    qtbot.waitUntil(lambda: not view.busy, timeout=RACE_TIMEOUT)
    assert view.tabs.isTabEnabled(0)
    plane = view.plane
    assert plane is not None and plane.labels == ("a", "d")
    assert view.plane_chooser.choice() == main.choice()
    grids = [b.grid for b in view.boundaries]
    assert all(g is not None and g.plane is plane for g in grids)
    for b in view.boundaries:
        b.flush()
        assert b.plane is plane and b.image.image is not None
        xs, _ = b.points.getData()
        assert len(xs) == len(b._x)  # the data, projected on the plane
    assert not np.allclose(grids[0].output, grids[1].output)  # two variants

    # After the race: the PCA plane, drawn from the variants' final weights.
    chooser = view.plane_chooser
    chooser.mode_box.setCurrentIndex(chooser.mode_box.findData("pca"))
    qtbot.waitUntil(lambda: view.plane is not None and view.plane.kind == "pca")
    qtbot.waitUntil(lambda: all(b.grid.plane is view.plane for b in view.boundaries))
    flat = [b.grid.output for b in view.boundaries]
    assert not np.allclose(flat[0], flat[1])
    # The race's final weights, on that plane: variant 0's grid is its model's.
    model = race._probers[0].model
    size = flat[0].shape[0]
    want = model.predict(view.plane.grid(size)).reshape(size, size, -1)
    np.testing.assert_allclose(flat[0], want, rtol=1e-5, atol=1e-6)
    assert not main_window.errors
