"""Light and dark colour themes for the app and the canvas, following the system by default."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QMainWindow, QTabBar

from nndesk.document.registry import BASE_CATEGORIES, CATEGORIES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Theme:
    """Colours used by the canvas items and panels; widgets get them via QPalette."""

    name: str
    is_dark: bool
    window: str
    base: str
    alternate_base: str
    text: str
    text_muted: str
    highlight: str
    canvas: str
    grid_minor: str
    grid_major: str
    node_fill: str
    node_border: str
    node_selected: str
    error: str
    warning: str
    ok: str
    edge: str
    edge_selected: str
    port_fill: str
    port_compatible: str
    port_refused: str
    categories: dict[str, str] = field(default_factory=dict)

    def color(self, attribute: str) -> QColor:
        """The named colour as a QColor (``theme.color("error")``)."""
        return QColor(getattr(self, attribute))

    def category_color(self, category: str) -> QColor:
        """Header colour of a node category. Categories that node-type modules add
        (Convolution, Recurrent...) take the extra colours in palette order, so a
        new family needs no edit here; anything else gets a neutral grey."""
        if category in self.categories:
            return QColor(self.categories[category])
        added = [c for c in CATEGORIES if c not in BASE_CATEGORIES]
        extra = _EXTRA_DARK if self.is_dark else _EXTRA_LIGHT
        if category in added:
            return QColor(extra[added.index(category) % len(extra)])
        return QColor("#7f8c8d")


# Category colours are chosen to stay distinguishable for common colour-vision
# deficiencies (blue/orange/purple/teal/olive) and readable with white header text.
_CATEGORIES_LIGHT = {
    "Input": "#2f6fb0",
    "Core": "#5b5fc7",
    "Activations": "#b35c1e",
    "Regularization": "#7b4aa6",
    "Reshape": "#2a8577",
    "Merge": "#737b1f",
    "Output": "#a33a55",
}
_CATEGORIES_DARK = {
    "Input": "#3b7cc0",
    "Core": "#6468d4",
    "Activations": "#c06a2a",
    "Regularization": "#8a58b6",
    "Reshape": "#2f9584",
    "Merge": "#828b2a",
    "Output": "#b24862",
}

# For the categories node-type modules add, in palette order: also distinguishable
# from the base colours and readable under white header text.
_EXTRA_LIGHT = ("#8c5a2b", "#1f7a9e", "#9c3d8f", "#4f7a32", "#5c6b8a", "#a0522d")
_EXTRA_DARK = ("#9c6a38", "#2b8cb0", "#ad4da0", "#5c8a3c", "#6b7a9a", "#b0623a")

LIGHT = Theme(
    name="light",
    is_dark=False,
    window="#eff0f1",
    base="#ffffff",
    alternate_base="#f5f6f7",
    text="#1d2125",
    text_muted="#5f6770",
    highlight="#2f6fd6",
    canvas="#f7f8fa",
    grid_minor="#e8eaee",
    grid_major="#d6d9df",
    node_fill="#ffffff",
    node_border="#9aa1aa",
    node_selected="#2f6fd6",
    error="#d0312d",
    warning="#c77c02",
    ok="#2e8540",
    edge="#6b7480",
    edge_selected="#2f6fd6",
    port_fill="#dfe3e8",
    port_compatible="#2e9e4a",
    port_refused="#d0312d",
    categories=_CATEGORIES_LIGHT,
)

DARK = Theme(
    name="dark",
    is_dark=True,
    window="#2b2d31",
    base="#1f2023",
    alternate_base="#26282c",
    text="#e6e8eb",
    text_muted="#a2a8b0",
    highlight="#4c8ff0",
    canvas="#1b1c1f",
    grid_minor="#25272b",
    grid_major="#303338",
    node_fill="#2d3036",
    node_border="#5b616b",
    node_selected="#5a9cff",
    error="#ff5c57",
    warning="#f0a531",
    ok="#5cc977",
    edge="#8d96a3",
    edge_selected="#5a9cff",
    port_fill="#474b53",
    port_compatible="#4fd06f",
    port_refused="#ff5c57",
    categories=_CATEGORIES_DARK,
)

THEMES = {"light": LIGHT, "dark": DARK}


def system_prefers_dark() -> bool:
    """True when the desktop asks for a dark colour scheme."""
    app = QGuiApplication.instance()
    if app is None:
        return False
    scheme = QGuiApplication.styleHints().colorScheme()
    return scheme == Qt.ColorScheme.Dark


def make_palette(theme: Theme) -> QPalette:
    """A QPalette for widgets that matches ``theme``."""
    palette = QPalette()
    roles = QPalette.ColorRole
    text = QColor(theme.text)
    muted = QColor(theme.text_muted)
    palette.setColor(roles.Window, QColor(theme.window))
    palette.setColor(roles.WindowText, text)
    palette.setColor(roles.Base, QColor(theme.base))
    palette.setColor(roles.AlternateBase, QColor(theme.alternate_base))
    palette.setColor(roles.Text, text)
    palette.setColor(roles.Button, QColor(theme.window))
    palette.setColor(roles.ButtonText, text)
    palette.setColor(roles.ToolTipBase, QColor(theme.base))
    palette.setColor(roles.ToolTipText, text)
    palette.setColor(roles.PlaceholderText, muted)
    palette.setColor(roles.Highlight, QColor(theme.highlight))
    palette.setColor(roles.HighlightedText, QColor("#ffffff"))
    palette.setColor(roles.Link, QColor(theme.highlight))
    palette.setColor(roles.BrightText, QColor(theme.error))
    disabled = QPalette.ColorGroup.Disabled
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        palette.setColor(disabled, role, muted)
    return palette


class ThemeManager(QObject):
    """Chooses the active theme from the user's mode and the system colour scheme.

    ``mode`` is "system" (follow ``QStyleHints.colorScheme`` and its changes),
    "light" or "dark". ``sig_theme_changed`` fires with the new Theme.
    """

    sig_theme_changed = Signal(object)

    def __init__(self, mode: str = "system", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._mode = mode
        self._theme = self._resolve()
        hints = QGuiApplication.styleHints()
        hints.colorSchemeChanged.connect(self._on_system_scheme_changed)

    @property
    def theme(self) -> Theme:
        """The active theme."""
        return self._theme

    @property
    def mode(self) -> str:
        """The mode: "system", "light" or "dark"."""
        return self._mode

    def set_mode(self, mode: str) -> None:
        """Switch mode and apply the resulting theme to the app."""
        self._mode = mode
        self._update()

    def apply(self) -> None:
        """Apply the current theme's palette to the running QApplication."""
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.setPalette(make_palette(self._theme))

    def _resolve(self) -> Theme:
        if self._mode in THEMES:
            return THEMES[self._mode]
        return DARK if system_prefers_dark() else LIGHT

    def _update(self) -> None:
        theme = self._resolve()
        if theme is self._theme:
            return
        self._theme = theme
        self.apply()
        log.debug("theme changed to %s", theme.name)
        self.sig_theme_changed.emit(theme)

    def _on_system_scheme_changed(self, _scheme: Qt.ColorScheme) -> None:
        if self._mode == "system":
            self._update()


class WholeTabTitles(QObject):
    """Keeps the tab bars of a main window's tabbed docks showing whole titles,
    with scroll arrows when they do not fit ("Decision B…", "Sa…" at 1280x800,
    issue 11). Qt makes such a bar when docks are first tabbed together, also by
    the user, and elides its titles."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._pending = False
        window.installEventFilter(self)
        self.apply()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if (
            watched is self._window
            and event.type() == QEvent.Type.ChildAdded
            and not self._pending
        ):
            # The new child is still being built (a bare QObject yet), and Qt sets
            # a tab bar's elide mode right after creating it: look again later.
            self._pending = True
            QTimer.singleShot(0, self.apply)
        return False

    def apply(self) -> None:
        """Unelide every dock tab bar of the window."""
        self._pending = False
        for bar in self._window.findChildren(
            QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly
        ):
            bar.setElideMode(Qt.TextElideMode.ElideNone)
            bar.setUsesScrollButtons(True)
