"""The app's log file: uncaught exceptions land in it with their traceback, the error
sentence names it, it lives in the platform's place and rotates."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from nndesk.ui import log_file
from nndesk.ui.app import error_sentence, install_excepthook

pytestmark = pytest.mark.gui


@pytest.fixture
def log_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "logs"
    monkeypatch.setenv(log_file.LOG_DIR_ENV, str(folder))
    yield folder
    log_file.remove_log_file()


def _explode_in_a_slot() -> None:
    raise ZeroDivisionError("a slot divided by zero")


def test_an_uncaught_exception_lands_in_the_log_with_its_traceback(
    qtbot, log_dir: Path
) -> None:
    path = log_file.install_log_file()
    assert path == log_dir / "nndesk.log"
    shown: list[str] = []
    previous = install_excepthook(shown.append)
    try:
        # A Qt slot raising goes to sys.excepthook, as in the running app.
        with qtbot.capture_exceptions() as captured:
            QTimer.singleShot(0, _explode_in_a_slot)
            qtbot.waitUntil(lambda: bool(shown or captured))
        for kind, exc, tb in captured:  # pytest-qt took the hook: hand it over
            sys.excepthook(kind, exc, tb)
    finally:
        sys.excepthook = previous
    text = path.read_text(encoding="utf-8")
    assert "ERROR nndesk.ui.app: uncaught exception" in text
    assert "Traceback (most recent call last)" in text
    assert "in _explode_in_a_slot" in text
    assert "ZeroDivisionError: a slot divided by zero" in text
    assert shown == [
        "Something went wrong (ZeroDivisionError: a slot divided by zero); "
        f"details are in the log file {path}."
    ]


def test_without_a_log_file_the_sentence_says_so_plainly() -> None:
    log_file.remove_log_file()
    assert error_sentence(KeyError("x")) == (
        "Something went wrong (KeyError: 'x'); details are in the log."
    )


def test_the_log_lives_in_the_xdg_state_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(log_file.LOG_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(sys, "platform", "linux")
    assert log_file.default_log_dir() == tmp_path / "state" / "nndesk"
    monkeypatch.setenv("XDG_STATE_HOME", "relative/is/ignored")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert log_file.default_log_dir() == tmp_path / ".local" / "state" / "nndesk"


def test_the_log_rotates_at_its_size_bound(
    log_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_file, "MAX_BYTES", 2_000)
    path = log_file.install_log_file()
    assert path is not None
    logger = logging.getLogger("nndesk.test_rotation")
    for i in range(200):
        logger.error("line %d %s", i, "x" * 40)
    files = sorted(p.name for p in log_dir.iterdir())
    assert files == ["nndesk.log", "nndesk.log.1", "nndesk.log.2", "nndesk.log.3"]
    assert all(p.stat().st_size <= 2_000 for p in log_dir.iterdir())
    assert "line 199" in path.read_text(encoding="utf-8")


def test_an_unwritable_folder_means_no_log_file_not_a_crash(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    assert log_file.install_log_file(blocker / "logs") is None
    assert log_file.log_file_path() is None
    assert "No log file: cannot write" in caplog.text
