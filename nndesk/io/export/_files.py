"""Atomic writes of exported files and folders: all of it, or nothing at all."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from .._atomic import remove_temporary, sync_folder
from .errors import ExportError

log = logging.getLogger(__name__)


def write_file_atomically(target: Path, data: bytes, what: str) -> None:
    """Write ``data`` to ``target`` through a synced temporary file and a rename.

    Raises
    ------
    ExportError
        When the folder is missing, a folder is in the way, or writing fails; a
        file already at ``target`` is then left untouched.
    """
    target = Path(os.path.realpath(target))
    folder = target.parent
    if target.is_dir():
        raise ExportError(
            f"Cannot write {what}: a folder named {target} is in the way."
        )
    if not folder.is_dir():
        raise ExportError(f"Cannot write {what}: the folder {folder} does not exist.")
    try:
        fd, temp = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".part", dir=folder
        )
    except OSError as exc:
        raise ExportError(f"Cannot write {what}: {exc.strerror or exc}.") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except BaseException as exc:
        remove_temporary(temp)
        if isinstance(exc, OSError):
            raise ExportError(f"Cannot write {what}: {exc.strerror or exc}.") from exc
        raise
    sync_folder(folder)


def write_folder_atomically(
    target: Path, fill: Callable[[Path], None], what: str
) -> None:
    """Make a folder at ``target`` whose files ``fill(folder)`` writes.

    ``fill`` writes into a temporary folder beside ``target``; only when it
    succeeds does that folder take ``target``'s place (an existing folder there
    is replaced only after the new one is complete).

    Raises
    ------
    ExportError
        When ``target`` is a file, its parent is missing, or writing fails.
    """
    target = Path(os.path.realpath(target))
    parent = target.parent
    if target.exists() and not target.is_dir():
        raise ExportError(f"Cannot write {what}: a file named {target} is in the way.")
    if not parent.is_dir():
        raise ExportError(f"Cannot write {what}: the folder {parent} does not exist.")
    try:
        temp = Path(
            tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=parent)
        )
    except OSError as exc:
        raise ExportError(f"Cannot write {what}: {exc.strerror or exc}.") from exc
    old: Path | None = None
    try:
        fill(temp)
        temp.chmod(0o755)
        if target.exists():
            old = Path(
                tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=parent)
            )
            os.replace(target, old / target.name)
        os.replace(temp, target)
    except BaseException as exc:
        shutil.rmtree(temp, ignore_errors=True)
        if old is not None and not target.exists():
            os.replace(old / target.name, target)  # put the previous folder back
        if isinstance(exc, OSError):
            raise ExportError(f"Cannot write {what}: {exc.strerror or exc}.") from exc
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    sync_folder(parent)


