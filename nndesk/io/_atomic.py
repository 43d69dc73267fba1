"""The two last steps of an atomic write, shared by project saves and exports."""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

__all__ = ["remove_temporary", "sync_folder"]


def remove_temporary(path: str) -> None:
    """Delete a temporary file a failed write left; a failure is only logged."""
    try:
        os.unlink(path)
    except OSError as exc:
        log.warning("Could not remove the temporary file %s: %s", path, exc)


def sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX); not every file system supports it."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        log.debug("Could not sync the folder %s: %s", folder, exc)
    finally:
        os.close(fd)
