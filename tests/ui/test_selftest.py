"""``nndesk --self-test``: it passes on a good install and fails loudly, never hangs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from nndesk.document.examples import spiral_classifier
from nndesk.io.project_file import Project, save_project
from nndesk.ui.selftest import HARD_EXIT_CODE, Watchdog

pytestmark = pytest.mark.gui

REPO = Path(__file__).resolve().parents[2]


def run_python(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")
    }
    env.pop("QT_QPA_PLATFORM", None)  # the self-test picks offscreen without a display
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_self_test_trains_one_epoch_saves_reopens_and_compares() -> None:
    result = run_python("-m", "nndesk", "--self-test")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "nndesk self-test: ok"
    assert "one epoch trained" in lines[0] and "predictions match" in lines[0]


def test_a_network_whose_data_cannot_load_fails_with_one_sentence(
    tmp_path: Path,
) -> None:
    doc = spiral_classifier()
    doc.set_setting("dataset", "missing-data.csv")
    path = tmp_path / "no-data.nndesk"
    save_project(path, Project(document=doc))
    result = run_python("-m", "nndesk", str(path), "--self-test")
    assert result.returncode == 1
    (line,) = [
        ln for ln in result.stderr.splitlines() if ln.startswith("nndesk self-test")
    ]
    assert "dataset did not load" in line and "missing-data.csv" in line
    assert "ok" not in result.stdout


def test_an_unreadable_file_falls_back_to_the_example(tmp_path: Path) -> None:
    path = tmp_path / "broken.nndesk"
    path.write_bytes(b"not a zip")
    result = run_python("-m", "nndesk", str(path), "--self-test")
    assert result.returncode == 0, result.stderr
    assert "broken.nndesk" in result.stderr and "spiral example" in result.stderr


def test_an_exception_in_a_qt_slot_fails_the_self_test() -> None:
    script = textwrap.dedent(
        """
        import os, sys
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        from nndesk.ui.selftest import run_self_test

        app = QApplication([])

        def broken():
            raise RuntimeError("a slot broke")

        QTimer.singleShot(0, broken)
        sys.exit(run_self_test())
        """
    )
    result = run_python("-c", script)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "RuntimeError: a slot broke" in result.stderr
    assert "nndesk self-test: failed to" in result.stderr


def test_a_step_past_the_deadline_fails_instead_of_waiting() -> None:
    script = "import sys; from nndesk.ui.selftest import run_self_test; sys.exit(run_self_test(timeout=0))"
    result = run_python("-c", script)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "did not finish in time" in result.stderr


def test_the_watchdog_ends_a_hung_process_with_a_message(
    capfd: pytest.CaptureFixture[str],
) -> None:
    codes: list[int] = []
    ended = threading.Event()

    def fake_exit(code: int) -> None:
        codes.append(code)
        ended.set()

    dog = Watchdog(0.05, exit=fake_exit)
    dog.step = "train one epoch"
    dog.start()
    assert ended.wait(5)
    assert codes == [HARD_EXIT_CODE]
    err = capfd.readouterr().err
    assert "no answer within 0.05 s" in err and "train one epoch" in err


def test_a_cancelled_watchdog_stays_quiet() -> None:
    codes: list[int] = []
    dog = Watchdog(0.05, exit=codes.append)
    dog.start()
    dog.cancel()
    threading.Event().wait(0.2)
    assert codes == []
