"""Seeded random input on the real window never breaks it (issue 19).

Run as a script, this file starts the app as ``nndesk`` does (``run_app``: log file,
excepthook, training attached) and drives it with random input chosen by a seeded
``numpy.random.Generator``: every shortcut the window has, clicks, double-clicks,
drags, wheel turns and typing into the focused widget, through the window system
(QTest events on the QWindow, so Qt routes them to the widget under the cursor,
makes context menus and respects modality). A second timer answers what the input
opens: it counts error dialogs, closes every other modal dialog with Escape and
closes menus after a few events. After the given time it checks that the window
answers (a round trip through the event loop within a second) and presses Ctrl+Q,
answering Discard to the save question.

The test runs it in a subprocess under Xvfb (xcb), offscreen where Xvfb is
missing, with HOME, the XDG folders and the working directory in a temporary
folder, Qt's own (non-native) file dialogs, and the log file in that folder. It
passes when no error dialog appeared, nothing reached the log, the window answered
and Ctrl+Q quit. ``python tests/ui/test_random_input.py --seed N --seconds S``
runs other seeds by hand (it prints the result as JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shiboken6
from PySide6 import QtCore, QtGui, QtTest, QtWidgets

SEED_IN_SUITE = 1
SECONDS_IN_SUITE = 30.0
INPUT_INTERVAL_MS = 15
GUARD_INTERVAL_MS = 60
STALL_LIMIT_S = 1.0  # the longest event-loop turn the run allows
STARTUP_STALL_LIMIT_S = 3.0  # the first turn, before any input (the window's start)
STALL_REPORT_S = 0.5  # turns reported with the input before them
MENU_EVENTS = 3  # random events a popup menu gets before it is closed
TYPED = "abcdefxyz0123456789.-e_ /"

pytestmark = [pytest.mark.gui]


# -- the test ------------------------------------------------------------------------


@pytest.mark.slow
def test_random_input_never_breaks_the_window(tmp_path: Path) -> None:
    from real_display import run_script, xvfb_available

    platform = "xcb" if xvfb_available() else "offscreen"
    args = ["--seed", str(SEED_IN_SUITE), "--seconds", str(SECONDS_IN_SUITE)]
    done = run_script(Path(__file__), args, platform, tmp_path, timeout=300)
    assert done.stdout.strip(), done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["platform"] == platform
    assert result["events"] > 300, result  # the driver really ran
    # No error dialog of any kind: a dataset that fails to load (typing into the
    # dataset field) is listed in Problems and named in the status bar only.
    assert result["error_dialogs"] == [], result["error_dialogs"]
    # Nothing reached the log: no warning, no error, no traceback.
    assert _log_records(result["log"]) == set(), result["log"]
    # The event loop never stood still for a second (a 10 ms timer's longest gap)
    # once input began. The first turn, before any input, finishes the window's
    # start (layout, the example's first preview): it has its own bound, since it
    # took 1.16 s in one clean-clone CI run under load (and under 1 s in others).
    startup = [s for s in result["stalls"] if s["at_s"] == 0.0 and not s["after"]]
    later = [s for s in result["stalls"] if s not in startup]
    assert all(s["seconds"] < STARTUP_STALL_LIMIT_S for s in startup), startup
    assert all(s["seconds"] < STALL_LIMIT_S for s in later), later
    assert result["final_round_trip_s"] < 1.0
    assert result["quit_by_ctrl_q"], result
    assert done.returncode == 0, done.stderr[-3000:]


def _log_records(text: str) -> set[tuple[str, str]]:
    """(level, message) of each record in the log file's text."""
    records = set()
    for line in text.splitlines():
        parts = line.split(" ", 4)  # date time level logger: message
        if len(parts) == 5 and parts[2] in ("DEBUG", "INFO"):
            continue  # only with NNDESK_LOG set lower than its default (WARNING)
        if len(parts) == 5 and parts[2] in ("WARNING", "ERROR", "CRITICAL"):
            records.add((parts[2], parts[4]))
        elif line.strip():
            records.add(("TEXT", line))  # a traceback line or anything else
    return records


# -- what the seeds found, one targeted test each -------------------------------------


@pytest.mark.qt_log_ignore("This plugin does not support")
def test_train_on_a_network_with_problems_refuses_without_a_dialog(
    qtbot, main_window
) -> None:
    # Seeds 1 and 2: every F5 on a half-built network opened a dialog repeating
    # every problem ("The network has 27 problems: ..."), the Problems panel's list.
    from nndesk.ui.training.controller import attach_training

    training = getattr(main_window, "training", None) or attach_training(main_window)
    for x in (0.0, 400.0):
        main_window.editor.add_node("Dense", QtCore.QPointF(x, 600.0))
    training.actions.train.trigger()
    assert main_window.errors == []
    assert training.state == "idle"
    words = training.last_error.split()
    assert words[:3] == ["The", "network", "has"] and int(words[3]) >= 2
    assert training.last_error.endswith("problems; the Problems panel lists them.")


@pytest.mark.qt_log_ignore("This plugin does not support")
def test_a_generator_dataset_offers_no_target_column(qtbot, main_window) -> None:
    # Seed 2: typing into "target column" while the dataset is the spiral
    # generator opened "Generator 'spiral' takes no target or task" dialogs.
    inspector = main_window.inspector
    main_window.editor.scene.clearSelection()
    doc = main_window.document
    assert doc is not None and doc.settings["dataset"].startswith("spiral")

    def target_shown() -> bool:
        return inspector._form.isRowVisible(inspector.fields["dataset_target"].row)

    assert not target_shown()
    assert main_window.edit_setting("dataset", "data/table.csv")
    assert target_shown()


COPY_THEN_QUIT = """
import sys
from PySide6.QtCore import QTimer
from nndesk.ui.app import make_application, run_app

app = make_application()

def copy_and_quit():
    window = next(w for w in app.topLevelWidgets() if w.objectName() == "main_window")
    window.editor.select_all()
    assert window.editor.copy_selection() > 0
    window.close()

QTimer.singleShot(0, copy_and_quit)
sys.exit(run_app([]))
"""


def test_quitting_after_a_copy_exits_cleanly_offscreen(tmp_path: Path) -> None:
    # Seed 3 offscreen: nodes on the offscreen clipboard (a Qt global holding
    # Python-made mime data) crashed the exit with a segfault (code -11).
    from real_display import run_script

    script = tmp_path / "copy_then_quit.py"
    script.write_text(COPY_THEN_QUIT)
    done = run_script(script, [], "offscreen", tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]


STEP_EPOCH_THEN_CLICK = """
import json
import sys
import time

sys.path.insert(0, sys.argv[1])
from PySide6.QtCore import QTimer
from nndesk.ui.app import make_application, run_app
from test_random_input import StallMeter

app = make_application()
meter = StallMeter()
done = []

def start():
    window = next(w for w in app.topLevelWidgets() if w.objectName() == "main_window")
    training = window.training
    steps = [
        training.actions.step_epoch.trigger,
        lambda: training.activations.sig_sample_requested.emit(3),
        training.actions.evaluate.trigger,
        lambda: window.edit_setting("learning_rate", 0.02),
        lambda: training.activations.sig_sample_requested.emit(5),
    ]
    meter.start()
    for i, step in enumerate(steps):
        QTimer.singleShot(300 + 30 * i, lambda step=step: done.append(step()))

    def end():
        meter.stop()
        saved = window.save_as(sys.argv[2])  # waits for the paused run's copy
        print(json.dumps({
            "steps": len(done), "worst": meter.worst, "stalls": meter.stalls,
            "state": training.state, "saved": saved,
        }))
        window.ask_unsaved = lambda name: "discard"
        window.close()

    QTimer.singleShot(4000, end)

# After the window's first second: the first build of the training panels at
# start-up (0.4-0.7 s, more on a loaded machine) is start-up time, which
# benchmarks/startup.py measures; this test is about what Step Epoch and the
# clicks after it do to the event loop.
QTimer.singleShot(1000, start)
sys.exit(run_app([]))
"""


def test_step_epoch_then_clicks_never_stall_the_window(tmp_path: Path) -> None:
    # Seeds 2-5: the event loop stood still for 1.5-2.9 s, at start-up or after
    # Shift+F10 (Step Epoch). The GUI thread imported Numba (the preview's memory
    # estimate and its forward pass call kernels; the first import takes seconds)
    # or waited for the worker to reach its first batch. Now Numba loads in a
    # background thread and the preview takes a paused run's copy when it comes.
    from real_display import run_script

    script = tmp_path / "step_epoch_then_click.py"
    script.write_text(STEP_EPOCH_THEN_CLICK)
    target = tmp_path / "paused.nndesk"
    args = [str(Path(__file__).parent), str(target)]
    done = run_script(script, args, "offscreen", tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["steps"] == 5 and result["state"] == "paused", result
    assert result["worst"] < STALL_LIMIT_S, result["stalls"]
    assert result["saved"] and target.stat().st_size > 0


def test_a_preview_compile_does_not_import_numba() -> None:
    # The memory estimate of every compile asked whether Numba is used by
    # importing it: seconds in the GUI thread the first time.
    code = (
        "import sys\n"
        "from nndesk.document.examples import spiral_classifier\n"
        "from nndesk.training.session import TrainingSession\n"
        "TrainingSession(spiral_classifier())\n"
        "print('numba' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"


# -- the driver (runs in the subprocess) ---------------------------------------------


class _Bridge(QtCore.QObject):
    sig_ping = QtCore.Signal(object)

    def answer(self, event: threading.Event) -> None:
        event.set()


class Pinger:
    """Measures round trips through the GUI event loop from another thread."""

    def __init__(self) -> None:
        self.bridge = _Bridge()
        self.bridge.sig_ping.connect(
            self.bridge.answer, QtCore.Qt.ConnectionType.QueuedConnection
        )
        self.worst = 0.0
        self.slow: list[tuple[float, float]] = []  # (when, seconds) over 0.5 s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def round_trip(self, timeout: float = 10.0) -> float:
        """Seconds until the GUI thread ran a queued call (``timeout`` if never)."""
        done = threading.Event()
        start = time.perf_counter()
        self.bridge.sig_ping.emit(done)
        done.wait(timeout)
        return time.perf_counter() - start

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            when = time.monotonic()
            took = self.round_trip()
            self.worst = max(self.worst, took)
            if took > 0.5:
                self.slow.append((when, took))

    def stop(self) -> None:
        # No join: the thread may be waiting for this (the GUI) thread's loop.
        self._stop.set()

    def join(self) -> None:
        """Wait for the thread, answering its last ping: a thread left running
        into the interpreter's shutdown can crash it."""
        while self._thread.is_alive():
            QtWidgets.QApplication.processEvents()
            self._thread.join(0.05)


class StallMeter:
    """The longest turn of the GUI event loop: a 10 ms QTimer notes each tick.

    (Copying the GUI thread's stack from another thread during a long turn found
    the causes of issue 19's stalls, but crashed the app in 2 of 5 runs: the
    report gives the input before each stall instead.)"""

    def __init__(self) -> None:
        self.worst = 0.0
        self.stalls: list[dict[str, Any]] = []  # turns over STALL_REPORT_S
        self._last = time.monotonic()
        self._timer = QtCore.QTimer()
        self._timer.setInterval(10)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = time.monotonic()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = time.monotonic()
        gap, self._last = now - self._last, now
        self.worst = max(self.worst, gap)
        if gap > STALL_REPORT_S:
            self.stalls.append({"at": now - gap, "seconds": round(gap, 3)})


class RandomDriver:
    """Sends random input to the main window, answers dialogs, then quits."""

    def __init__(self, seed: int, seconds: float) -> None:
        self.rng = np.random.default_rng(seed)
        self.seconds = seconds
        self.window: Any = None
        self.phase = "start"
        self.counts: Counter[str] = Counter()
        self.shortcuts_sent: Counter[str] = Counter()
        self.error_dialogs: list[str] = []
        self.closes_refused = 0
        self.quit_state: dict[str, Any] = {}
        self.quit_by_ctrl_q = False
        self.final_round_trip = float("nan")
        self.pinger = Pinger()
        self.stall_meter = StallMeter()
        self._menu_events = 0
        self.history: list[tuple[float, str]] = []  # (when, what) for slow turns
        self._input = QtCore.QTimer()
        self._input.setInterval(INPUT_INTERVAL_MS)
        self._input.timeout.connect(self._on_input)
        self._guard = QtCore.QTimer()
        self._guard.setInterval(GUARD_INTERVAL_MS)
        self._guard.timeout.connect(self._on_guard)
        self._end = 0.0
        self.started = 0.0
        self._shortcuts: list[tuple[str, Any]] = []

    # -- setup ---------------------------------------------------------------------

    def start(self) -> None:
        from nndesk.ui.main_window import MainWindow

        found = [
            w for w in QtWidgets.QApplication.topLevelWidgets()
            if isinstance(w, MainWindow)
        ]  # fmt: skip
        assert len(found) == 1, found
        self.window = found[0]
        self.window.installEventFilter(CloseFilter(self, self.window))
        self._shortcuts = self._collect_shortcuts()
        self.window.activateWindow()
        self.phase = "random"
        self.started = time.monotonic()
        self._end = self.started + self.seconds
        self.pinger.start()
        self.stall_meter.start()
        self._input.start()
        self._guard.start()

    def _collect_shortcuts(self) -> list[tuple[str, Any]]:
        keys: dict[str, Any] = {}
        for action in self.window.findChildren(QtGui.QAction):
            if action is self.window.actions.quit:
                continue  # Ctrl+Q ends the run: pressed at the end
            if not any(
                isinstance(w, QtWidgets.QWidget) for w in action.associatedObjects()
            ):
                continue
            for seq in action.shortcuts():
                keys[seq.toString()] = seq[0]
        for text in ("Left", "Shift+Right", "Up", "Down", "Esc", "Space", "Tab",
                     "Return", "Del", "Backspace"):  # fmt: skip
            keys.setdefault(text, QtGui.QKeySequence(text)[0])
        return sorted(keys.items())

    # -- random input ------------------------------------------------------------------

    def _on_input(self) -> None:
        if self.phase != "random":
            return
        if time.monotonic() >= self._end:
            self._begin_quit()
            return
        if QtWidgets.QApplication.activeModalWidget() is not None:
            return  # the guard answers it
        kind = self.rng.choice(
            ["shortcut", "click", "double", "drag", "wheel", "type"],
            p=[0.22, 0.3, 0.06, 0.14, 0.1, 0.18],
        )
        choice = self._choose(str(kind))
        # Each event runs from a fresh single-shot timer, so an event that opens a
        # modal loop (a menu, a dialog, a drag) does not stop the input timer.
        QtCore.QTimer.singleShot(0, choice)

    def _choose(self, kind: str):
        popup = QtWidgets.QApplication.activePopupWidget()
        target = popup if popup is not None else self.window
        handle = target.windowHandle()
        self.counts[kind] += 1
        self.history.append((time.monotonic(), kind))
        if kind == "shortcut":
            name, combo = self._shortcuts[self.rng.integers(len(self._shortcuts))]
            self.shortcuts_sent[name] += 1
            self.history[-1] = (self.history[-1][0], f"key {name}")
            key, mods = combo.key(), combo.keyboardModifiers()
            return lambda: _alive(handle) and QtTest.QTest.keyClick(handle, key, mods)
        if kind == "type":
            text = "".join(self.rng.choice(list(TYPED), self.rng.integers(1, 6)))

            def type_text() -> None:
                widget = QtWidgets.QApplication.focusWidget()
                if (
                    widget is not None
                    and QtWidgets.QApplication.activeModalWidget() is None
                ):
                    QtTest.QTest.keyClicks(widget, text)
                    if self.rng.random() < 0.3:
                        QtTest.QTest.keyClick(widget, QtCore.Qt.Key.Key_Return)

            return type_text
        point = self._point(target)
        mods = self._modifiers()
        under = target.childAt(point)
        self.history[-1] = (self.history[-1][0], f"{kind} {type(under).__name__}")
        if kind == "wheel":
            delta = QtCore.QPoint(0, int(self.rng.choice([-240, -120, 120, 240])))
            return lambda: (
                _alive(handle)
                and QtTest.QTest.wheelEvent(
                    handle, point, delta, QtCore.QPoint(0, 0), mods
                )
            )
        button = self._button()
        if kind == "click":
            return lambda: (
                _alive(handle) and QtTest.QTest.mouseClick(handle, button, mods, point)
            )
        if kind == "double":
            return lambda: (
                _alive(handle) and QtTest.QTest.mouseDClick(handle, button, mods, point)
            )
        end = self._point(target)

        def drag() -> None:
            if not _alive(handle):
                return
            QtTest.QTest.mousePress(handle, button, mods, point)
            for i in range(1, 6):
                if not _alive(handle):
                    return
                QtTest.QTest.mouseMove(handle, point + (end - point) * (i / 5))
            if _alive(handle):
                QtTest.QTest.mouseRelease(handle, button, mods, end)

        return drag

    def _point(self, target: Any) -> Any:
        if target is self.window and self.rng.random() < 0.4:
            aimed = self._point_on_canvas_item()
            if aimed is not None:
                return aimed
        w, h = max(target.width(), 1), max(target.height(), 1)
        return QtCore.QPoint(int(self.rng.integers(w)), int(self.rng.integers(h)))

    def _point_on_canvas_item(self) -> Any:
        # Aim at nodes and ports often: uniform points rarely hit a port.
        editor = self.window.editor
        items = editor.scene.node_items()
        if not items:
            return None
        rect = items[self.rng.integers(len(items))].sceneBoundingRect()
        x = rect.left() + (self.rng.random() * 1.2 - 0.1) * rect.width()
        y = rect.top() + (self.rng.random() * 1.2 - 0.1) * rect.height()
        view_point = editor.view.mapFromScene(QtCore.QPointF(x, y))
        viewport = editor.view.viewport()
        if not viewport.rect().contains(view_point):
            return None
        return viewport.mapTo(self.window, view_point)

    def _modifiers(self) -> Any:
        mod = QtCore.Qt.KeyboardModifier
        r = self.rng.random()
        if r < 0.8:
            return mod.NoModifier
        return mod.ShiftModifier if r < 0.9 else mod.ControlModifier

    def _button(self) -> Any:
        button = QtCore.Qt.MouseButton
        r = self.rng.random()
        if r < 0.75:
            return button.LeftButton
        return button.RightButton if r < 0.93 else button.MiddleButton

    # -- dialogs and menus ---------------------------------------------------------

    def _on_guard(self) -> None:
        modal = QtWidgets.QApplication.activeModalWidget()
        if modal is not None:
            self._answer(modal)
            return
        popup = QtWidgets.QApplication.activePopupWidget()
        if popup is None:
            self._menu_events = 0
            if QtWidgets.QApplication.activeWindow() is None:
                # With no window manager a click does not activate the window,
                # and a closed floating panel leaves none active: do what a
                # window manager does on a click.
                self.counts["activations"] += 1
                self.window.activateWindow()
            return
        self._menu_events += 1
        if self._menu_events > MENU_EVENTS or self.phase != "random":
            QtTest.QTest.keyClick(popup, QtCore.Qt.Key.Key_Escape)
            self.counts["menus_closed"] += 1
            if popup.isVisible() and self._menu_events > MENU_EVENTS + 3:
                popup.close()

    def _answer(self, modal: Any) -> None:
        box = QtWidgets.QMessageBox
        if isinstance(modal, box):
            if modal.property("nndesk_counted") is None:
                modal.setProperty("nndesk_counted", True)
                if modal.windowTitle() == "Unsaved changes":
                    self.counts["save_questions"] += 1
                elif modal.icon() in (box.Icon.Warning, box.Icon.Critical):
                    self.error_dialogs.append(f"{modal.windowTitle()}: {modal.text()}")
                else:
                    self.counts["message_boxes"] += 1
            if self.phase == "quit" and modal.windowTitle() == "Unsaved changes":
                modal.button(box.StandardButton.Discard).click()
                return
        else:
            name = type(modal).__name__
            if modal.property("nndesk_counted") is None:
                modal.setProperty("nndesk_counted", True)
                self.counts[f"dialog:{name}"] += 1
        QtTest.QTest.keyClick(modal, QtCore.Qt.Key.Key_Escape)
        if modal.isVisible():
            modal.close()

    # -- the end -------------------------------------------------------------------

    def _begin_quit(self) -> None:
        self.phase = "settle"
        self._input.stop()
        # Let the guard close what is open, then check the window answers.
        QtCore.QTimer.singleShot(1000, self._quit)

    def _quit(self) -> None:
        if (
            QtWidgets.QApplication.activeModalWidget() is not None
            or QtWidgets.QApplication.activePopupWidget() is not None
        ):
            QtCore.QTimer.singleShot(200, self._quit)
            return
        self.pinger.stop()
        self.stall_meter.stop()  # closing may wait for the training thread
        # The round trip is timed from another thread while this one runs its loop.
        thread = threading.Thread(target=self._time_round_trip, daemon=True)
        thread.start()
        self._wait_for_round_trip()

    def _time_round_trip(self) -> None:
        self.final_round_trip = self.pinger.round_trip()

    def _wait_for_round_trip(self) -> None:
        if self.final_round_trip != self.final_round_trip:  # NaN: not yet
            QtCore.QTimer.singleShot(20, self._wait_for_round_trip)
            return
        self.phase = "quit"
        self.window.activateWindow()
        QtTest.QTest.keyClick(
            self.window.windowHandle(),
            QtCore.Qt.Key.Key_Q,
            QtCore.Qt.KeyboardModifier.ControlModifier,
        )
        # Ctrl+Q must have quit within 20 s (a run stops, the question is answered).
        QtCore.QTimer.singleShot(20_000, self._quit_failed)

    def _quit_failed(self) -> None:
        app = QtWidgets.QApplication
        self.quit_state = {
            "active_window": type(app.activeWindow()).__name__,
            "focus": type(app.focusWidget()).__name__,
            "modal": type(app.activeModalWidget()).__name__,
            "popup": type(app.activePopupWidget()).__name__,
            "visible": self.window.isVisible(),
            "quit_enabled": self.window.actions.quit.isEnabled(),
            "training": getattr(self.window.training, "state", None),
        }
        self.counts["quit_timed_out"] += 1
        QtWidgets.QApplication.exit(3)

    def stop(self) -> None:
        """Stop the timers and delete the closed window while Python still runs
        (a window that outlives the run must go without a crash too)."""
        self._input.stop()
        self._guard.stop()
        self.pinger.stop()
        self.stall_meter.stop()
        if shiboken6.isValid(self.window):
            self.window.deleteLater()
        QtCore.QCoreApplication.sendPostedEvents(
            None, QtCore.QEvent.Type.DeferredDelete
        )
        QtWidgets.QApplication.processEvents()
        self.pinger.join()

    def on_window_closed(self) -> None:
        if self.phase == "quit":
            self.quit_by_ctrl_q = True


def _alive(handle: Any) -> bool:
    # A menu's window can be gone by the time the event is sent.
    return handle is not None and shiboken6.isValid(handle) and handle.isVisible()


class CloseFilter(QtCore.QObject):
    """Refuses to close the window during random input (Ctrl+Q and File > Quit
    belong to the end), and notes the close at the end."""

    def __init__(self, driver: RandomDriver, parent: QtCore.QObject) -> None:
        super().__init__(parent)
        self.driver = driver

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.Close:
            if self.driver.phase != "quit":
                self.driver.closes_refused += 1
                event.ignore()
                return True
            self.driver.on_window_closed()
        return False


def sandbox() -> None:
    """Keep the run in a temporary folder: HOME, the XDG folders and the working
    directory (``run_script`` sets them up; run by hand, a new temp folder)."""
    home = Path(os.environ.get("HOME", "/"))
    if home.resolve() == Path.cwd().resolve() and "XDG_CONFIG_HOME" in os.environ:
        return
    home = Path(tempfile.mkdtemp(prefix="nndesk-random-"))
    os.environ["HOME"] = str(home)
    for name in ("CONFIG", "DATA", "STATE", "CACHE"):
        folder = home / name.lower()
        folder.mkdir()
        os.environ[f"XDG_{name}_HOME"] = str(folder)
    os.chdir(home)
    print(f"random input runs in {home}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED_IN_SUITE)
    parser.add_argument("--seconds", type=float, default=SECONDS_IN_SUITE)
    args = parser.parse_args()
    sandbox()
    log_dir = Path.cwd() / "logs"
    os.environ["NNDESK_LOG_DIR"] = str(log_dir)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from nndesk.ui.app import make_application, run_app

    app = make_application()
    # Qt's own dialogs: a native one could block on a platform service forever.
    app.setAttribute(QtCore.Qt.ApplicationAttribute.AA_DontUseNativeDialogs, True)
    driver = RandomDriver(args.seed, args.seconds)
    QtCore.QTimer.singleShot(0, driver.start)
    started = time.monotonic()
    code = run_app([])
    driver.stop()
    log_path = log_dir / "nndesk.log"
    log_text = log_path.read_text(encoding="utf-8") if log_path.exists() else ""
    result = {
        "platform": app.platformName(),
        "seed": args.seed,
        "seconds": round(time.monotonic() - started, 1),
        "exit_code": code,
        "events": sum(
            driver.counts[k]
            for k in ("shortcut", "click", "double", "drag", "wheel", "type")
        ),
        "counts": dict(driver.counts),
        "shortcuts": dict(driver.shortcuts_sent),
        "error_dialogs": driver.error_dialogs,
        "log": log_text,
        "closes_refused": driver.closes_refused,
        "worst_round_trip_s": round(driver.pinger.worst, 3),
        "slow_round_trips": [
            {
                "seconds": round(took, 2),
                "after": [w for t, w in driver.history if when - 2.0 <= t <= when],
            }
            for when, took in driver.pinger.slow
        ],
        "worst_stall_s": round(driver.stall_meter.worst, 3),
        "stalls": [
            {
                "at_s": round(stall["at"] - driver.started, 1),
                "seconds": stall["seconds"],
                "after": [
                    w
                    for t, w in driver.history
                    if stall["at"] - 2.0 <= t <= stall["at"]
                ],
            }
            for stall in driver.stall_meter.stalls
        ],
        "final_round_trip_s": round(driver.final_round_trip, 3),
        "quit_by_ctrl_q": driver.quit_by_ctrl_q,
        "quit_state": driver.quit_state,
    }
    print(json.dumps(result))
    ok = code == 0 and driver.quit_by_ctrl_q and not driver.error_dialogs
    calm = driver.stall_meter.worst < STALL_LIMIT_S
    return 0 if ok and calm and not _log_records(log_text) else 1


if __name__ == "__main__":
    sys.exit(main())
