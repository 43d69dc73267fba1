"""App start-up: the self-test, start-up time, the error hook, settings and icons."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QSize, Signal
from PySide6.QtGui import QIcon, QImage

from nndesk.document.errors import ParamError
from nndesk.ui.app import error_sentence, install_excepthook
from nndesk.ui.icons import ICON_NAMES, app_icon, make_icon
from nndesk.ui.settings import MAX_RECENT_FILES, AppSettings
from nndesk.ui.theme import DARK, LIGHT, ThemeManager, make_palette

pytestmark = pytest.mark.gui

REPO = Path(__file__).resolve().parents[2]


STARTUP_PROBE = """
import sys, time
start = time.perf_counter()
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(["nndesk"])

def report():
    window = next(w for w in app.topLevelWidgets() if w.objectName() == "main_window")
    doc, data = window.document, window.dataset
    print(f"ready {time.perf_counter() - start:.3f} nodes {len(doc)} "
          f"samples {len(data) if data is not None else 0} title {window.windowTitle()}")
    window.close()

QTimer.singleShot(0, report)
from nndesk.ui.app import run_app
sys.exit(run_app([]))
"""


def test_start_up_shows_the_spiral_network_with_its_data_quickly(
    tmp_path: Path,
) -> None:
    # run_app as `make run` calls it; the probe reports once the event loop runs.
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        XDG_CONFIG_HOME=str(tmp_path),  # the user's settings stay untouched
        HOME=str(tmp_path),
        NNDESK_LOG_DIR=str(tmp_path / "logs"),  # and so do their logs
    )
    result = subprocess.run(
        [sys.executable, "-c", STARTUP_PROBE],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    words = result.stdout.split()
    seconds = float(words[words.index("ready") + 1])
    assert words[words.index("nodes") + 1] == "5"
    assert words[words.index("samples") + 1] == "400"
    assert "Untitled" in result.stdout
    assert (tmp_path / "logs" / "nndesk.log").is_file()  # run_app attached the log
    # The 2 s start-up target is measured by benchmarks/startup.py, not here: on a
    # shared 2-core machine wall time is noisy. This bound only catches a stall.
    assert seconds < 20.0, f"start-up took {seconds:.2f} s"


def test_error_sentence_is_one_line() -> None:
    assert error_sentence(ParamError("units must be an integer ≥ 1, got 0.")) == (
        "units must be an integer ≥ 1, got 0."
    )
    text = error_sentence(KeyError("dense_9"))
    assert text.startswith("Something went wrong (KeyError") and "\n" not in text


class _Emitter(QObject):
    sig = Signal()


def test_exceptions_in_slots_reach_the_user_as_one_sentence(qtbot) -> None:
    shown: list[str] = []
    previous = install_excepthook(shown.append)
    try:
        emitter = _Emitter()

        def broken() -> None:
            raise ParamError("rate must be a number < 1, got 2.")

        emitter.sig.connect(broken)
        with qtbot.captureExceptions() as exceptions:
            # pytest-qt captures exceptions raised in slots; hand them to the hook
            # as Qt would outside tests.
            emitter.sig.emit()
        assert len(exceptions) == 1
        sys.excepthook(*exceptions[0])
    finally:
        sys.excepthook = previous
    assert shown == ["rate must be a number < 1, got 2."]


def test_settings_round_trip_in_a_private_file(qapp, tmp_path: Path) -> None:
    settings = AppSettings.at_path(tmp_path / "s.ini")
    assert settings.recent_files() == [] and settings.theme_mode == "system"
    for i in range(MAX_RECENT_FILES + 3):
        settings.add_recent_file(tmp_path / f"n{i}.nndesk")
    settings.add_recent_file(tmp_path / "n5.nndesk")
    settings.snap_to_grid = True
    settings.theme_mode = "dark"
    settings.sync()
    again = AppSettings.at_path(tmp_path / "s.ini")
    recent = again.recent_files()
    assert len(recent) == MAX_RECENT_FILES
    assert recent[0].endswith("n5.nndesk") and recent.count(recent[0]) == 1
    assert again.snap_to_grid is True and again.theme_mode == "dark"
    with pytest.raises(ValueError):
        again.theme_mode = "purple"


def test_themes_follow_the_mode(qapp) -> None:
    manager = ThemeManager("dark")
    assert manager.theme is DARK
    changes: list[object] = []
    manager.sig_theme_changed.connect(changes.append)
    manager.set_mode("light")
    assert manager.theme is LIGHT and changes == [LIGHT]
    assert make_palette(DARK).window().color().name() == DARK.window
    manager.set_mode("system")  # offscreen reports no dark preference
    assert manager.theme in (LIGHT, DARK)


@pytest.mark.parametrize("name", ICON_NAMES)
def test_icons_are_drawn_sharp_and_transparent(qapp, name: str) -> None:
    icon = make_icon(name, "#000000")
    image = icon.pixmap(QSize(24, 24), 2.0).toImage()
    assert image.devicePixelRatio() == 2.0 and image.width() == 48
    assert image.pixelColor(0, 0).alpha() == 0  # the corner stays transparent
    drawn = sum(
        image.pixelColor(x, y).alpha() > 0 for x in range(48) for y in range(48)
    )
    assert 20 < drawn < 48 * 48 / 2
    disabled = icon.pixmap(QSize(24, 24), QIcon.Mode.Disabled).toImage()
    assert isinstance(disabled, QImage)


def test_app_icon_loads(qapp) -> None:
    icon = app_icon()
    assert not icon.isNull()
    assert icon.pixmap(64, 64).width() == 64
