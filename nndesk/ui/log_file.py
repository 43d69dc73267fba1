"""The app's log file: where it lives on each platform, and its rotating handler.

Error dialogs say "details are in the log" and name this file. It is written only
while the window runs (``run_app`` attaches the handler, the excepthook logs each
uncaught exception's traceback to it) and rotates at ``MAX_BYTES``, keeping
``BACKUPS`` old files, so it never grows without bound.
"""

from __future__ import annotations

import logging
import os
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

log = logging.getLogger(__name__)

LOG_DIR_ENV = "NNDESK_LOG_DIR"
LOG_NAME = "nndesk.log"
MAX_BYTES = 1_000_000
BACKUPS = 3
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_handler: RotatingFileHandler | None = None


def default_log_dir() -> Path:
    """The folder for the log: ``$NNDESK_LOG_DIR`` when set, else the platform's.

    Linux and other XDG systems: ``$XDG_STATE_HOME/nndesk`` (by default
    ``~/.local/state/nndesk``, the XDG place for logs); macOS: ``~/Library/Logs/nndesk``;
    Windows: Qt's ``AppLocalDataLocation`` (``%LOCALAPPDATA%``) plus ``logs``.
    """
    override = os.environ.get(LOG_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Logs" / "nndesk"
    if sys.platform == "win32":
        from PySide6.QtCore import QStandardPaths

        location = QStandardPaths.StandardLocation.AppLocalDataLocation
        return Path(QStandardPaths.writableLocation(location)) / "logs"
    state = os.environ.get("XDG_STATE_HOME", "")
    # The XDG spec: a relative path in the variable is invalid and ignored.
    base = Path(state) if os.path.isabs(state) else Path.home() / ".local" / "state"
    return base / "nndesk"


def install_log_file(folder: Path | None = None) -> Path | None:
    """Send the root logger's records to ``folder/nndesk.log`` (rotating).

    Replaces a handler this module attached before. Returns the file's path, or
    None when the folder cannot be made (the reason goes to the other handlers).
    """
    global _handler
    remove_log_file()
    folder = folder if folder is not None else default_log_dir()
    path = folder / LOG_NAME
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    except OSError as exc:
        log.warning("No log file: cannot write %s (%s).", path, exc.strerror or exc)
        return None
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logging.getLogger().addHandler(handler)
    _handler = handler
    return path


def remove_log_file() -> None:
    """Detach and close the handler ``install_log_file`` attached (if any)."""
    global _handler
    if _handler is not None:
        logging.getLogger().removeHandler(_handler)
        _handler.close()
        _handler = None


def log_file_path() -> Path | None:
    """The log file being written, or None when none is attached."""
    return Path(_handler.baseFilename) if _handler is not None else None


def details_hint() -> str:
    """Where the details of an unexpected error are: names the log file."""
    path = log_file_path()
    if path is None:
        return "details are in the log"
    return f"details are in the log file {path}"


def error_sentence(exc: BaseException, failure: str = "Something went wrong") -> str:
    """One sentence for a user: nndesk errors speak for themselves, others are named
    after ``failure`` ("Training failed") with the exception and the log file."""
    from nndesk.engine.errors import NNDeskError

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, NNDeskError) and text:
        return text
    detail = f": {text}" if text else ""
    return f"{failure} ({type(exc).__name__}{detail}); {details_hint()}."
