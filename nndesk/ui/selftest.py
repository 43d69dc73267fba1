"""``nndesk --self-test``: open the real window, train an example, save, reopen, compare.

The packaged app runs it to prove that everything it ships works together: Qt and
its platform plugin, the package data (example networks, icons), the engine, the
training thread and the file format. It prints one line per outcome and returns an
exit code, so a CI job or a user can run the bundle and read the verdict.

A watchdog guards it: an exception in a Qt slot, or a training thread that never
reports back, could otherwise leave a headless process waiting forever.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEventLoop, QStandardPaths, QTimer
from PySide6.QtWidgets import QApplication

from nndesk.document.graph import Document
from nndesk.engine.errors import NNDeskError
from nndesk.io.project_file import Project, load_project, save_project
from nndesk.training.examples import DEFAULT_EXAMPLE, load_example

from .app import delete_now, error_sentence, install_excepthook, make_application
from .main_window import MainWindow
from .settings import AppSettings
from .theme import ThemeManager
from .training.controller import TrainingController, attach_training

log = logging.getLogger(__name__)

__all__ = ["SelfTestFailure", "Watchdog", "run_self_test"]

TIMEOUT_S = 120.0
"""The whole self-test must end within this many seconds (a cold start of the bundle
on a slow disk plus one epoch is a few seconds)."""

HARD_EXIT_CODE = 3
"""Exit code of the watchdog's last resort, when even the event loop is stuck."""

PREFIX = "nndesk self-test"
N_PROBE = 64  # samples whose predictions must survive save and reopen


def process_age() -> float | None:
    """Seconds since this process started (read from /proc), None where unknown."""
    try:
        stat = Path("/proc/self/stat").read_text()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        # Field 22, start time in clock ticks after boot; the name (field 2) may
        # hold spaces, so count from the closing parenthesis.
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        return max(0.0, uptime - ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None


class SelfTestFailure(NNDeskError):
    """A self-test step did not do what it should; the message names the step."""


class Watchdog:
    """Ends the process with a message when the self-test outlives ``seconds``.

    The self-test's own waits time out through the event loop first; this thread is
    the last resort for a loop that no longer runs (a slot stuck in C++, a deadlock).
    """

    def __init__(
        self,
        seconds: float,
        exit: Callable[[int], object] = os._exit,  # noqa: A002 - os._exit skips cleanup
    ) -> None:
        self.seconds = seconds
        self.step = "starting"
        self._exit = exit
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()

    def _expire(self) -> None:
        sys.stderr.write(
            f"{PREFIX}: failed: no answer within {self.seconds:g} s while the "
            f"self-test was to {self.step}.\n"
        )
        sys.stderr.flush()
        self._exit(HARD_EXIT_CODE)


def run_self_test(files: Sequence[str | Path] = (), timeout: float = TIMEOUT_S) -> int:
    """Open the main window, train one epoch, save, reopen and compare predictions.

    Parameters
    ----------
    files : sequence of path
        A network file to test with instead of the spiral example (the first one);
        when it cannot be opened the example is used and the reason is printed.
    timeout : float
        Seconds after which the self-test gives up and exits non-zero.

    Returns
    -------
    int
        0 when every step passed; 1 with a one-sentence message on stderr when a
        step failed; the watchdog exits with 3 when the app stopped responding.
    """
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    watchdog = Watchdog(timeout + 10.0)
    watchdog.start()
    try:
        with tempfile.TemporaryDirectory(prefix="nndesk-self-test-") as folder:
            run = _SelfTest(Path(folder), watchdog, time.monotonic() + timeout)
            return run.run([Path(f) for f in files])
    finally:
        watchdog.cancel()


class _SelfTest:
    """The steps of one self-test, sharing the window and the deadline."""

    def __init__(self, folder: Path, watchdog: Watchdog, deadline: float) -> None:
        self.folder = folder
        self.watchdog = watchdog
        self.deadline = deadline
        self.started = time.perf_counter()
        self.errors: list[str] = []
        self.times: dict[str, float] = {}
        self.loss = float("nan")
        self._loop: QEventLoop | None = None

    # --- the steps -----------------------------------------------------------------------
    def run(self, files: list[Path]) -> int:
        app = self._application()
        # Uncaught exceptions, also those raised in Qt slots, fail the self-test.
        previous_hook = install_excepthook(self._on_error_message)
        window: MainWindow | None = None
        try:
            window, controller = self._open_window(app)
            project = self._load(files)
            window.set_document(project.document)
            window.wait_for_dataset()  # a big file loads in the background
            controller.restore_project(project)
            x = self._probe_inputs(window)
            before = controller.predict(x)
            self._train_one_epoch(window, controller)
            trained = controller.predict(x)
            if np.allclose(trained, before):
                raise SelfTestFailure(
                    "Training one epoch left the predictions unchanged."
                )
            reopened = self._save_and_reopen(window, controller, x)
            self._compare(trained, reopened)
        except NNDeskError as exc:
            self.errors.insert(0, f"{self.watchdog.step}: {exc}")
        except Exception as exc:  # noqa: BLE001 - any failure is the verdict
            log.exception("self-test step failed")
            self.errors.insert(0, f"{self.watchdog.step}: {error_sentence(exc)}")
        finally:
            if window is not None:
                self._close(window)
            sys.excepthook = previous_hook
        return self._report()

    def _application(self) -> QApplication:
        self.watchdog.step = "start Qt"
        app = make_application()
        # Test mode keeps the user's settings and recent files untouched.
        QStandardPaths.setTestModeEnabled(True)
        return app

    def _open_window(self, app: QApplication) -> tuple[MainWindow, TrainingController]:
        self.watchdog.step = "open the main window"
        settings = AppSettings.at_path(self.folder / "settings.ini")
        themes = ThemeManager(settings.theme_mode)
        themes.apply()
        window = MainWindow(settings, themes)
        # Nobody is there to click a dialog away: errors are collected instead.
        window.notify_error = self._on_error_message
        window.ask_unsaved = lambda name: "discard"
        found = window.findChildren(TrainingController)
        controller = found[0] if found else attach_training(window)
        window.show()
        self._wait(lambda: window.isVisible() and window.windowHandle() is not None)
        app.processEvents()
        self.times["window"] = time.perf_counter() - self.started
        log.info("window ready in %.2f s", self.times["window"])
        age = process_age()
        self.times["start-up"] = age if age is not None else self.times["window"]
        return window, controller

    def _load(self, files: list[Path]) -> Project:
        self.watchdog.step = "load a network"
        if files:
            try:
                return load_project(files[0])
            except NNDeskError as exc:
                log.warning("%s", exc)
                sys.stderr.write(
                    f"{PREFIX}: {exc} Testing with the {DEFAULT_EXAMPLE} example.\n"
                )
        return load_example(DEFAULT_EXAMPLE)

    def _probe_inputs(self, window: MainWindow) -> np.ndarray:
        if window.dataset is None:
            raise SelfTestFailure(
                f"The network's dataset did not load ({window.dataset_error})."
            )
        return np.asarray(window.dataset.x[:N_PROBE])

    def _train_one_epoch(
        self, window: MainWindow, controller: TrainingController
    ) -> None:
        self.watchdog.step = "train one epoch"
        if not window.edit_setting("epochs", 1):
            raise SelfTestFailure("The epochs setting refused the value 1.")
        start = time.perf_counter()
        epochs_before = len(controller.history.get("loss", ()))
        finished: list[object] = []
        controller.sig_run_finished.connect(finished.append)
        try:
            # The Train action, as the toolbar button and F5 trigger it.
            controller.actions.train.trigger()
            self._wait(lambda: bool(finished) and controller.state == "idle")
        finally:
            controller.sig_run_finished.disconnect(finished.append)
        self.times["train"] = time.perf_counter() - start
        if controller.last_error:
            raise SelfTestFailure(f"Training failed: {controller.last_error}")
        losses = controller.history.get("loss", [])
        if len(losses) != epochs_before + 1 or not controller.trained:
            raise SelfTestFailure(
                f"Training ran {len(losses) - epochs_before} epochs instead of 1."
            )
        if not np.isfinite(losses[-1]):
            raise SelfTestFailure(f"The training loss is {losses[-1]}.")
        self.loss = float(losses[-1])

    def _save_and_reopen(
        self, window: MainWindow, controller: TrainingController, x: np.ndarray
    ) -> np.ndarray:
        self.watchdog.step = "save the trained network"
        path = self.folder / "self-test.nndesk"
        saved = controller.project()
        if saved is None:
            raise SelfTestFailure("The trained network had nothing to save.")
        save_project(path, saved)
        # An empty network in between: whatever predicts next comes from the file.
        window.set_document(Document())
        if controller.trained:
            raise SelfTestFailure("A new network kept the trained weights.")
        self.watchdog.step = "reopen the saved network"
        project = load_project(path)
        if project.document.to_dict() != saved.document.to_dict():
            raise SelfTestFailure("The reopened network differs from the saved one.")
        window.set_document(project.document, path)
        controller.restore_project(project)
        self.watchdog.step = "predict with the reopened network"
        return controller.predict(x)

    def _compare(self, trained: np.ndarray, reopened: np.ndarray) -> None:
        self.watchdog.step = "compare predictions"
        if trained.shape != reopened.shape:
            raise SelfTestFailure(
                f"Predictions have shape {reopened.shape} after reopening, "
                f"{trained.shape} before."
            )
        worst = float(np.max(np.abs(trained - reopened), initial=0.0))
        if not np.allclose(trained, reopened, rtol=1e-6, atol=1e-7):
            raise SelfTestFailure(
                f"Predictions differ by up to {worst:.3g} after saving and reopening."
            )

    def _close(self, window: MainWindow) -> None:
        self.watchdog.step = "close the window"
        window.undo_stack.setClean()
        window.close()
        QApplication.processEvents()
        delete_now(window)

    # --- waiting and errors --------------------------------------------------------------
    def _wait(self, done: Callable[[], bool]) -> None:
        """Run the event loop until ``done()``, an error, or the deadline."""
        loop = QEventLoop()
        poll = QTimer()
        poll.setInterval(10)
        poll.timeout.connect(lambda: (done() or self.errors) and loop.quit())
        poll.start()
        remaining_ms = int((self.deadline - time.monotonic()) * 1000)
        QTimer.singleShot(max(0, remaining_ms), loop.quit)
        self._loop = loop
        try:
            if not (done() or self.errors):
                loop.exec()
        finally:
            poll.stop()
            self._loop = None
        if self.errors:
            raise SelfTestFailure(self.errors.pop(0))
        # A step that is done but only after the deadline is late all the same.
        if not done() or time.monotonic() > self.deadline:
            raise SelfTestFailure("It did not finish in time.")

    def _on_error_message(self, message: str) -> None:
        # One sentence from the window (a failed load, a failed training run).
        self.errors.append(message)
        if self._loop is not None:
            self._loop.quit()

    def _report(self) -> int:
        if self.errors:
            sys.stderr.write(f"{PREFIX}: failed to {self.errors[0]}\n")
            return 1
        total = time.perf_counter() - self.started
        sys.stdout.write(
            f"{PREFIX}: window shown {self.times['start-up']:.2f} s after start, one epoch "
            f"trained in {self.times['train']:.2f} s (loss {self.loss:.4g}), saved, "
            f"reopened, predictions match; {total:.2f} s in all\n"
            f"{PREFIX}: ok\n"
        )
        return 0
