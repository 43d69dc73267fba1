"""Persistent user preferences of the desktop app (window layout, recent files, view options)."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

log = logging.getLogger(__name__)

ORGANIZATION = "nndesk"
APPLICATION = "nndesk"
MAX_RECENT_FILES = 10
THEME_MODES = ("system", "light", "dark")

# Bumped when docks are renamed or added in a way that makes an old saved layout
# meaningless; restoreState() refuses a state saved under another version.
LAYOUT_VERSION = 1


class AppSettings:
    """Typed access to the app's QSettings.

    Parameters
    ----------
    qsettings
        The store to use. ``None`` uses the user's native store for nndesk; tests pass
        ``AppSettings.at_path(tmp_path / "settings.ini")`` so they never touch it.
    """

    def __init__(self, qsettings: QSettings | None = None) -> None:
        if qsettings is None:
            qsettings = QSettings(ORGANIZATION, APPLICATION)
        self._store = qsettings

    @classmethod
    def at_path(cls, path: str | Path) -> AppSettings:
        """Settings kept in one ini file at ``path`` (for tests and portable installs)."""
        return cls(QSettings(str(path), QSettings.Format.IniFormat))

    @property
    def store(self) -> QSettings:
        """The underlying QSettings (for panels that keep their own keys)."""
        return self._store

    def sync(self) -> None:
        """Write pending changes to disk."""
        self._store.sync()

    # -- window layout -----------------------------------------------------------

    def save_window(self, window: QMainWindow) -> None:
        """Remember the geometry and the dock/toolbar layout of ``window``."""
        self._store.setValue("window/geometry", window.saveGeometry())
        self._store.setValue("window/state", window.saveState(LAYOUT_VERSION))
        self._store.sync()

    def restore_window(self, window: QMainWindow) -> bool:
        """Apply the remembered geometry and layout; False when nothing was saved."""
        geometry = self._store.value("window/geometry")
        state = self._store.value("window/state")
        restored = False
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            restored = window.restoreGeometry(geometry)
        if isinstance(state, QByteArray) and not state.isEmpty():
            restored = window.restoreState(state, LAYOUT_VERSION) and restored
        return restored

    def clear_window(self) -> None:
        """Forget the saved layout (View > Reset Layout)."""
        self._store.remove("window")

    # -- recent files --------------------------------------------------------------

    def recent_files(self) -> list[str]:
        """Recently opened or saved files, newest first."""
        value = self._store.value("files/recent", [])
        if isinstance(value, str):  # QSettings returns a bare str for one-item lists
            value = [value]
        return [str(v) for v in (value or [])][:MAX_RECENT_FILES]

    def add_recent_file(self, path: str | Path) -> None:
        """Put ``path`` at the top of the recent files."""
        text = str(Path(path).resolve())
        files = [text] + [f for f in self.recent_files() if f != text]
        self._store.setValue("files/recent", files[:MAX_RECENT_FILES])

    def remove_recent_file(self, path: str | Path) -> None:
        """Drop ``path`` from the recent files (it no longer opens)."""
        text = str(path)
        self._store.setValue(
            "files/recent", [f for f in self.recent_files() if f != text]
        )

    def clear_recent_files(self) -> None:
        """Forget all recent files."""
        self._store.setValue("files/recent", [])

    # -- view options --------------------------------------------------------------

    @property
    def snap_to_grid(self) -> bool:
        """Whether dragged nodes snap to the canvas grid."""
        return _as_bool(self._store.value("view/snap_to_grid", False))

    @snap_to_grid.setter
    def snap_to_grid(self, value: bool) -> None:
        self._store.setValue("view/snap_to_grid", bool(value))

    @property
    def theme_mode(self) -> str:
        """One of ``THEME_MODES``; "system" follows the desktop's colour scheme."""
        value = str(self._store.value("view/theme", "system"))
        return value if value in THEME_MODES else "system"

    @theme_mode.setter
    def theme_mode(self, value: str) -> None:
        if value not in THEME_MODES:
            raise ValueError(f"theme mode {value!r} is not one of {THEME_MODES}")
        self._store.setValue("view/theme", value)


def _as_bool(value: object) -> bool:
    # Ini files give back "true"/"false" strings rather than bools.
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
