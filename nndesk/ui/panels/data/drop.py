"""Which dropped files are data: CSV, NPZ and IDX files, and IDX folders."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData

from .sources import data_path_kind, is_folder

__all__ = ["data_path_from_mime"]


def data_path_from_mime(mime: QMimeData) -> str | None:
    """The first local data file or folder in a file drag, or None.

    A file counts by its name (``.csv``/``.tsv``/``.txt``, ``.npz``, a name with
    ``idx`` or ``ubyte``); a folder counts when it holds an IDX file.
    """
    if not mime.hasUrls():
        return None
    for url in mime.urls():
        if not url.isLocalFile():
            continue
        path = Path(url.toLocalFile())
        if is_folder(path):
            if any(data_path_kind(p) == "idx" for p in _entries(path)):
                return str(path)
        elif data_path_kind(path):
            return str(path)
    return None


def _entries(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.iterdir() if p.is_file()][:100]
    except OSError:
        return []
