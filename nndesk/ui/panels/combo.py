"""A combo box for narrow docks."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
)

__all__ = ["ElidingComboBox"]


class ElidingComboBox(QComboBox):
    """A combo box that ends a name too long for it with "…" (a plain one cuts
    it: "sparse_categorica" in a 1280 px window); its open list shows every name
    whole."""

    def _option(self) -> QStyleOptionComboBox:
        """The style option to paint, its text elided to the text field."""
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        field = self.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox,
            option,
            QStyle.SubControl.SC_ComboBoxEditField,
            self,
        )
        option.currentText = self.fontMetrics().elidedText(
            option.currentText, Qt.TextElideMode.ElideRight, field.width()
        )
        return option

    def shown_text(self) -> str:
        """The current name as painted."""
        return self._option().currentText

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        option = self._option()
        painter = QStylePainter(self)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)
