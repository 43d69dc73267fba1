"""Starts the desktop app: the QApplication, theme, error hook and the main window."""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

from .log_file import error_sentence

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

__all__ = [
    "delete_now",
    "error_sentence",
    "install_excepthook",
    "make_application",
    "run_app",
]

log = logging.getLogger(__name__)

ExceptHook = Callable[
    [type[BaseException], BaseException, TracebackType | None], object
]


def install_excepthook(show: Callable[[str], object]) -> ExceptHook:
    """Route uncaught exceptions (also those raised in Qt slots) to the log and to
    ``show(sentence)``; returns the previous hook so it can be restored."""
    previous = sys.excepthook
    busy = False

    def hook(
        kind: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        nonlocal busy
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, exc, tb)
            return
        log.error(
            "uncaught exception\n%s", "".join(traceback.format_exception(kind, exc, tb))
        )
        if busy:  # an error while showing an error: the log has it
            return
        busy = True
        try:
            show(error_sentence(exc))
        except Exception:  # noqa: BLE001 - the hook must never raise
            log.exception("could not show the error")
        finally:
            busy = False

    sys.excepthook = hook
    return previous


def _configure_logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=os.environ.get("NNDESK_LOG", "WARNING").upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )


def run_app(args: list[str]) -> int:
    """Open the main window and run the event loop.

    Parameters
    ----------
    args : list of str
        Command-line arguments after the program name: file names to open (the
        first one is opened), or ``--self-test`` (see ``nndesk.ui.selftest``).

    Returns
    -------
    int
        The exit code.
    """
    start = time.perf_counter()
    _configure_logging()
    self_test = "--self-test" in args
    files = [a for a in args if not a.startswith("-")]
    if self_test:
        from .selftest import run_self_test

        return run_self_test(files)

    from .log_file import install_log_file, remove_log_file
    from .main_window import MainWindow
    from .settings import AppSettings
    from .theme import ThemeManager
    from .training.controller import attach_training

    app = make_application()
    log_path = install_log_file()
    log.info("nndesk started; log file %s", log_path)
    settings = AppSettings()
    themes = ThemeManager(settings.theme_mode)
    themes.apply()
    window = MainWindow(settings, themes)
    # Before a file is opened, so the opened project's weights and history reach
    # the training panels; the controller stops its worker when the window closes.
    attach_training(window)
    previous_hook = install_excepthook(window.show_error)
    try:
        if not files or not window.open_file(files[0]):
            _show_default(window)
        window.show()
        log.info("window ready in %.2f s", time.perf_counter() - start)
        return app.exec()
    finally:
        sys.excepthook = previous_hook
        remove_log_file()
        _release_clipboard(app)
        delete_now(window)


def make_application() -> QApplication:
    """The QApplication (reused when one exists) with nndesk's names, icon and style."""
    from PySide6.QtWidgets import QApplication

    from nndesk import __version__

    from .icons import app_icon
    from .settings import APPLICATION, ORGANIZATION

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication([sys.argv[0] if sys.argv else "nndesk"])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationVersion(__version__)
    app.setApplicationDisplayName("nndesk")
    app.setDesktopFileName("nndesk")
    app.setWindowIcon(app_icon())
    # Fusion draws every widget from the palette, so the light and dark themes look
    # the same on every platform.
    app.setStyle("Fusion")
    return app


def delete_now(widget: object) -> None:
    """Delete ``widget`` and its children now, while the QApplication still exists.

    Left to the interpreter's exit, PySide destroys the plots' graphics widgets
    one by one as it tears the application down; a resize that destruction sends
    to a pyqtgraph item runs its Python override half-torn and crashed the exit
    with a segfault (PySide6 6.11, 2 in 3 self-tests). Deleted with their window
    while the application and the Python wrappers are whole, they go in Qt's own
    order (no crash in 10 self-tests since).
    """
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QWidget

    if isinstance(widget, QWidget):
        widget.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _release_clipboard(app: QApplication) -> None:
    # Qt's offscreen platform keeps its clipboard in a global that outlives
    # Python: nodes copied there (mime data made in Python) crashed the exit with
    # a segfault (PySide6 6.11; found by random input). Only this process can
    # read that clipboard, so emptying it loses nothing.
    if app.platformName() == "offscreen":
        app.clipboard().clear()


def _show_default(window: object) -> None:
    from nndesk.document.examples import DEFAULT_EXAMPLE, EXAMPLES

    from .main_window import MainWindow

    assert isinstance(window, MainWindow)
    window.set_document(EXAMPLES[DEFAULT_EXAMPLE].build())
