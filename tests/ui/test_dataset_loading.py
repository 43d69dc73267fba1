"""Datasets load in the background: busy indicator, superseding, errors, clean close."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from ui_helpers import OFFSCREEN_NOISE, UnsavedQuestions

from nndesk.document.examples import spiral_classifier
from nndesk.io.datasets import data_search_path
from nndesk.ui.dataset_source import DatasetSource
from nndesk.ui.main_window import MainWindow
from nndesk.ui.settings import AppSettings
from nndesk.ui.theme import ThemeManager

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

LOAD_TIMEOUT = 20_000


def write_csv(path: Path, rows: int, features: int, seed: int = 0) -> Path:
    """A classification CSV with ``features`` numeric columns and a 0/1 label."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features)).round(4)
    y = (x[:, 0] > 0).astype(int)
    header = ",".join([f"f{i}" for i in range(features)] + ["label"])
    lines = [header] + [
        ",".join([*map(str, row), str(label)]) for row, label in zip(x, y, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def force_background(window: MainWindow) -> None:
    """Make every existing file count as big, so it loads in a thread."""
    window.datasets.quick_bytes = 0


def settle(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.dataset_loading, timeout=LOAD_TIMEOUT)


def test_a_big_dataset_loads_in_the_background_with_a_busy_bar(
    qtbot, main_window: MainWindow, tmp_path: Path
) -> None:
    w = main_window
    force_background(w)
    csv = write_csv(tmp_path / "three.csv", rows=120, features=3)
    doc = w.document
    assert doc is not None
    assert w.edit_setting("dataset", str(csv))
    # The edit is in the document at once; the data follows.
    assert doc.settings["dataset"] == str(csv)
    assert w.dataset_loading and w.dataset is None
    assert w.dataset_progress.isVisible()
    assert w.dataset_label.text().startswith("Data: loading three.csv")
    # Not at hand: the non-blocking lookup the training controller uses says so.
    assert w.datasets.load(doc.settings, None) is None
    settle(qtbot, w)
    assert w.dataset is not None and len(w.dataset) == 120
    assert w.dataset.input_shape == (3,)
    assert not w.dataset_progress.isVisible()
    assert w.dataset_label.text() == f"Data: {w.dataset.name} · 120 samples"
    # The Input shape joined the dataset edit: one undo step for both.
    assert doc.node("input_1").params["shape"] == (3,)
    assert w.undo_stack.count() == 1
    w.undo_stack.undo()
    assert doc.settings["dataset"] == spiral_classifier().settings["dataset"]
    assert doc.node("input_1").params["shape"] == (2,)
    assert w.dataset is not None and w.dataset.input_shape == (2,)  # from the cache
    w.undo_stack.redo()
    assert doc.node("input_1").params["shape"] == (3,)
    # Both datasets are cached now: redo needs no reading.
    assert not w.dataset_loading and w.dataset is not None and len(w.dataset) == 120


def test_an_edit_made_during_the_load_keeps_its_own_undo_step(
    qtbot, main_window: MainWindow, tmp_path: Path
) -> None:
    w = main_window
    force_background(w)
    csv = write_csv(tmp_path / "four.csv", rows=50, features=4)
    assert w.edit_setting("dataset", str(csv))
    assert w.edit_setting("learning_rate", 0.05)
    settle(qtbot, w)
    doc = w.document
    assert doc is not None and doc.node("input_1").params["shape"] == (4,)
    assert w.undo_stack.count() == 3  # dataset, learning rate, input shape
    w.undo_stack.undo()
    assert doc.node("input_1").params["shape"] == (2,)
    assert doc.settings["learning_rate"] == 0.05


def test_a_newer_request_supersedes_an_older_one(
    qtbot, main_window: MainWindow, tmp_path: Path
) -> None:
    w = main_window
    force_background(w)
    first = write_csv(tmp_path / "first.csv", rows=4000, features=5)
    second = write_csv(tmp_path / "second.csv", rows=30, features=2, seed=1)
    seen: list[object] = []
    w.sig_dataset_changed.connect(seen.append)
    w.edit_setting("dataset", str(first))
    w.edit_setting("dataset", str(second))
    settle(qtbot, w)
    # Let the first thread end too, then make sure its result never showed.
    qtbot.waitUntil(lambda: not w.datasets._jobs, timeout=LOAD_TIMEOUT)
    assert w.dataset is not None and len(w.dataset) == 30
    names = [getattr(d, "name", None) for d in seen]
    assert all(name is None or "first" not in name for name in names)
    # A quick dataset chosen while a big one loads also wins.
    w.edit_setting("dataset", str(first))
    assert w.dataset_loading
    w.edit_setting("dataset", "moons:n=60")
    assert not w.dataset_loading
    assert w.dataset is not None and len(w.dataset) == 60
    qtbot.waitUntil(lambda: not w.datasets._jobs, timeout=LOAD_TIMEOUT)
    assert w.dataset is not None and len(w.dataset) == 60


def test_a_background_failure_reaches_the_user_as_one_sentence(
    qtbot, main_window: MainWindow, tmp_path: Path
) -> None:
    w = main_window
    force_background(w)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,0\n3,oops,1\n", encoding="utf-8")
    w.errors.clear()
    w.edit_setting("dataset", str(bad))
    assert w.dataset_loading
    qtbot.waitUntil(lambda: w.dataset_error is not None, timeout=LOAD_TIMEOUT)
    message = w.dataset_error
    assert "bad.csv" in message and "\n" not in message
    # Told in Problems and named in the status bar, never in a dialog.
    assert w.errors == []
    assert w.problems.messages() == [message]
    status = w.statusBar().currentMessage()
    assert status.startswith("Dataset '") and len(status) < 120, status
    assert status.endswith("bad.csv' did not load; the Problems panel says why.")
    assert w.dataset is None
    assert w.dataset_label.text() == "Data: error"
    assert not w.dataset_progress.isVisible()


def problem_texts(window: MainWindow) -> list[str]:
    return window.problems.messages()


def test_a_dataset_that_fails_shows_in_problems_with_the_readers_sentence(
    qtbot, main_window: MainWindow, tmp_path: Path
) -> None:
    w = main_window
    assert problem_texts(w) == []
    assert "ready to train" in w.problems.summary.text()
    missing = tmp_path / "missing.csv"
    w.edit_setting("dataset", str(missing))
    message = w.dataset_error
    assert message == f"Dataset file {missing} does not exist."
    assert problem_texts(w) == [message]
    assert "ready to train" not in w.problems.summary.text()
    assert w.problems.summary.text().startswith("1 error")
    assert w.docks["problems_dock"].windowTitle() == "Problems (1)"
    # An edit of the network recomputes the graph's problems: the dataset's stay.
    dense = next(n for n in w.document.nodes if n.type_name == "Dense").id
    with qtbot.waitSignal(w.editor.scene.sig_status_changed):
        w.editor.set_param(dense, "units", 9)
    assert problem_texts(w) == [message]
    # A dataset that loads takes the entry away; undo brings the failure back.
    csv = write_csv(tmp_path / "good.csv", rows=40, features=2)
    w.edit_setting("dataset", str(csv))
    assert w.dataset is not None and problem_texts(w) == []
    assert "ready to train" in w.problems.summary.text()
    assert w.docks["problems_dock"].windowTitle() == "Problems"
    w.undo_stack.undo()
    assert problem_texts(w) == [message]


def test_a_background_failure_shows_in_problems_and_a_new_network_clears_it(
    qtbot, main_window: MainWindow, tmp_path: Path
) -> None:
    w = main_window
    force_background(w)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,0\n3,oops,1\n", encoding="utf-8")
    w.edit_setting("dataset", str(bad))
    assert w.dataset_loading and problem_texts(w) == []  # nothing known yet
    qtbot.waitUntil(lambda: w.dataset_error is not None, timeout=LOAD_TIMEOUT)
    assert problem_texts(w) == [w.dataset_error]
    assert "bad.csv" in w.dataset_error
    w.new_document()
    assert all("bad.csv" not in m for m in problem_texts(w))


def test_synchronous_callers_can_wait(
    qtbot, main_window: MainWindow, tmp_path: Path
) -> None:
    w = main_window
    force_background(w)
    csv = write_csv(tmp_path / "wait.csv", rows=80, features=2)
    doc = w.document
    assert doc is not None
    doc.set_setting("dataset", str(csv))  # a model edit: the window reloads
    assert w.dataset_loading
    dataset = w.wait_for_dataset()
    assert dataset is not None and len(dataset) == 80 and not w.dataset_loading
    doc.set_setting("dataset", "xor:n=40")
    assert w.dataset is not None and len(w.dataset) == 40
    w.datasets.forget()
    doc.set_setting("dataset", str(csv))
    loaded = w.reload_dataset(wait=True)
    assert loaded is not None and len(loaded) == 80 and w.dataset is loaded


def test_closing_while_a_dataset_loads_ends_its_thread(
    qtbot, app_settings: AppSettings, tmp_path: Path
) -> None:
    window = MainWindow(app_settings, ThemeManager("light"))
    qtbot.addWidget(window)
    window.notify_error = lambda message: None
    window.ask_unsaved = UnsavedQuestions("discard")
    force_background(window)
    csv = write_csv(tmp_path / "close.csv", rows=20_000, features=8)
    window.set_document(spiral_classifier())
    window.show()
    window.edit_setting("dataset", str(csv))
    assert window.dataset_loading
    jobs = list(window.datasets._jobs.values())
    assert jobs
    assert window.close()
    assert all(thread.isFinished() for thread, _worker, _key in jobs)
    assert not window.datasets._jobs


def test_small_datasets_load_inline_and_big_ones_do_not(tmp_path: Path) -> None:
    source = DatasetSource()
    assert source.is_quick({"dataset": "spiral:n=400"}, None)
    assert not source.is_quick({"dataset": "spiral:n=2000000"}, None)
    assert source.is_quick({"dataset": ""}, None)
    assert source.is_quick({"dataset": "missing.csv"}, tmp_path)  # fails at once
    small = write_csv(tmp_path / "small.csv", rows=10, features=2)
    assert source.is_quick({"dataset": "small.csv"}, tmp_path)
    source.quick_bytes = small.stat().st_size - 1
    assert not source.is_quick({"dataset": str(small)}, None)
    assert source.load({"dataset": str(small)}, None) is None  # not read inline
    loaded = source.load_now({"dataset": str(small)}, None)
    assert loaded is not None and source.load({"dataset": str(small)}, None) is loaded


def _fashion() -> Path | None:
    for folder in data_search_path():
        if (folder / "fashion-mnist").is_dir():
            return folder / "fashion-mnist"
    return None


@pytest.mark.slow
@pytest.mark.skipif(_fashion() is None, reason="the Fashion-MNIST files are missing")
def test_fashion_mnist_loads_while_the_window_keeps_responding(
    qtbot, main_window: MainWindow
) -> None:
    w = main_window
    ticks: list[float] = []
    timer = QTimer(w)
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    started = time.perf_counter()
    assert w.edit_setting("dataset", "fashion-mnist")
    blocked = time.perf_counter() - started
    assert w.dataset_loading
    settle(qtbot, w)
    timer.stop()
    assert w.dataset is not None and len(w.dataset) == 60_000
    doc = w.document
    assert doc is not None and doc.node("input_1").params["shape"] == (28, 28)
    gaps = np.diff(ticks)
    # The event loop kept turning while the files were read.
    assert blocked < 0.2 and len(ticks) > 5 and gaps.max() < 0.5, (blocked, gaps.max())


def test_training_without_a_dataset_says_so_without_naming_a_flag(
    qtbot, main_window: MainWindow
) -> None:
    from nndesk.ui.training.controller import attach_training

    w = main_window
    training = attach_training(w)
    assert w.edit_setting("dataset", "")
    qtbot.waitUntil(
        lambda: (
            w.problems.messages()
            == ["No dataset is chosen: set one in the network settings."]
        )
    )
    training.actions.train.trigger()
    # Train says it in the training panel (the Problems list holds it): no dialog,
    # no worker started.
    assert training.state == "idle" and not training.is_active
    assert w.errors == []
    assert (
        training.last_error == "No dataset is chosen: set one in the network settings."
    )
    assert training.panel.message.text() == training.last_error
    for message in [training.last_error, *w.problems.messages()]:
        assert "--" not in message and "pass " not in message, message
