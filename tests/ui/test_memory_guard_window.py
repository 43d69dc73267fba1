"""The memory guard in the window (issue 10): a Dense of 1,000,000 units and Train
shows one sentence, starts no thread, and the window stays responsive."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from ui_helpers import OFFSCREEN_NOISE

from nndesk.engine.memory import MemoryBudget
from nndesk.training import memory as guard
from nndesk.ui.main_window import MainWindow
from nndesk.ui.training.controller import TrainingController, attach_training

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

# 4 GiB: what a process under `prlimit --as=4294967296` could use, on any machine.
BUDGET = MemoryBudget(4 * 1024**3, "address-space limit")


@pytest.fixture
def training(main_window: MainWindow, monkeypatch) -> TrainingController:
    monkeypatch.setattr(guard, "memory_budget", lambda: BUDGET)
    controller = getattr(main_window, "training", None)
    if controller is None:
        controller = attach_training(main_window)
    return controller


def rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")  # pragma: no cover - Linux only


def training_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t is not threading.main_thread()]


def test_a_million_unit_dense_and_train_shows_the_sentence(
    qtbot, main_window: MainWindow, training: TrainingController
) -> None:
    main_window.errors.clear()
    threads = training_threads()
    before = rss()
    assert main_window.editor.set_param("dense_1", "units", 1_000_000)
    # The preview compiles in the GUI thread: it must refuse at once, not freeze.
    start = time.perf_counter()
    training.refresh_preview()
    assert time.perf_counter() - start < 2.0

    start = time.perf_counter()
    training.actions.train.trigger()
    assert time.perf_counter() - start < 2.0
    (message,) = main_window.errors
    assert message.startswith(
        "Node 'dense_1' (Dense, 1,000,000 units) makes this network need about "
    )
    assert message.endswith("is available (the address-space limit).")
    assert "\n" not in message
    assert training.panel.message.text() == message
    assert training.state == "idle"
    assert training_threads() == threads  # no worker thread was started
    assert rss() - before < 300 * 2**20  # memory never climbed
    # The window still answers, and a network that fits trains again.
    qtbot.wait(50)
    main_window.undo_stack.undo()
    assert main_window.document.node("dense_1").params["units"] == 8
    assert main_window.edit_setting("epochs", 1)
    with qtbot.waitSignal(training.sig_run_finished, timeout=30_000) as blocker:
        training.actions.train.trigger()
    assert blocker.args[0].status == "completed"
    assert main_window.errors == [message]
