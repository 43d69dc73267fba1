"""Laid-out texts shared by every canvas item that shows the same words.

Hundreds of nodes show the same titles ("Dense"), parameters ("16 · relu") and
shapes; laying each one out once (``QStaticText.prepare``, ``elidedText``) instead
of once per item and change is a good part of what opening a large network costs.
A ``QStaticText`` is implicitly shared and not changed after ``prepare``, so items
may draw the same one.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetricsF, QStaticText, QTransform
from PySide6.QtWidgets import QApplication

__all__ = ["CanvasFonts", "canvas_fonts", "elided_text", "metrics", "static_text"]

MAX_ENTRIES = 8192
"""Entries per cache before it starts afresh (the texts of a few thousand nodes)."""


@dataclass(frozen=True)
class CanvasFonts:
    """The fonts of the canvas items and their ``QFont.key()`` (a slow call)."""

    title: QFont
    small: QFont
    edge: QFont
    title_key: str
    small_key: str
    edge_key: str


_fonts: dict[str, CanvasFonts] = {}
_static: dict[tuple[str, str], QStaticText] = {}
_elided: dict[tuple[str, str, float], str] = {}
_metrics: dict[str, QFontMetricsF] = {}


def canvas_fonts() -> CanvasFonts:
    """Node titles (bold), node details (1 pt smaller) and edge labels (1.5 pt
    smaller), from the application font (shared; do not change them)."""
    base = QApplication.font()
    found = _fonts.get(base.key())
    if found is None:
        title, small, edge = QFont(base), QFont(base), QFont(base)
        title.setBold(True)
        size = base.pointSizeF()
        if size > 0:
            small.setPointSizeF(max(size - 1.0, 6.0))
            edge.setPointSizeF(max(size - 1.5, 6.0))
        found = CanvasFonts(title, small, edge, title.key(), small.key(), edge.key())
        _fonts[base.key()] = found
    return found


def static_text(text: str, font: QFont, font_key: str) -> QStaticText:
    """``text`` laid out in ``font`` (whose key is ``font_key``) as plain text,
    ready to draw (shared; do not change it)."""
    key = (text, font_key)
    static = _static.get(key)
    if static is None:
        if len(_static) >= MAX_ENTRIES:
            _static.clear()
        static = QStaticText(text)
        static.setTextFormat(Qt.TextFormat.PlainText)
        static.setPerformanceHint(QStaticText.PerformanceHint.AggressiveCaching)
        static.prepare(QTransform(), font)
        _static[key] = static
    return static


def metrics(font: QFont, font_key: str) -> QFontMetricsF:
    """Font metrics of ``font`` (shared)."""
    found = _metrics.get(font_key)
    if found is None:
        found = _metrics[font_key] = QFontMetricsF(font)
    return found


def elided_text(text: str, font: QFont, font_key: str, width: float) -> str:
    """``text`` cut with an ellipsis at the right to fit ``width`` pixels of ``font``."""
    key = (text, font_key, float(width))
    found = _elided.get(key)
    if found is None:
        if len(_elided) >= MAX_ENTRIES:
            _elided.clear()
        found = metrics(font, font_key).elidedText(
            text, Qt.TextElideMode.ElideRight, width
        )
        _elided[key] = found
    return found
