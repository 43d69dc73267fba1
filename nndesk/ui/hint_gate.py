"""A holder that passes a widget's geometry changes on in time, not at once.

Qt re-lays out every ancestor of a widget whose geometry may have changed: a label's
new text re-lays out its panel, the panel's dock and then the whole main window
(``QLayout::activate`` tells the parent unconditionally), whose dock layout then
starts a geometry animation for every dock. During a training run the panels'
labels change several times a second: measured on the Fashion-MNIST MLP, the main
window was re-laid out 50 times in 9 s, costing the GUI thread about 45 ms of CPU
per second of training (its layout pass, then 20 dock animations created and
deleted each time) to arrive at the same geometry.

``HintGate`` holds one widget in a layout that does not pass its invalidation up,
so a change inside it stops here. Its parent hears of it at once when the gate is
hidden, was shown less than ``SETTLE_MS`` ago (a window still arranging its docks)
or when the widget no longer fits its current size (its new minimum is larger, or
its maximum smaller); any other change of its size hint, limits or policy is
passed on by one shared timer, at most once per ``SETTLE_MS`` for all gates
together. Meanwhile the parent may hold a minimum larger than the widget now
needs, never a smaller one.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import shiboken6
from PySide6.QtCore import QRect, QSize, Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QApplication, QLayout, QLayoutItem, QWidget

__all__ = ["SETTLE_MS", "HintGate"]

SETTLE_MS = 1000
"""Longest delay before a parent hears of a change that needs no room now."""


class _GateLayout(QLayout):
    """One widget filling its parent. ``invalidate`` (what a child's
    ``updateGeometry`` calls) asks the gate whether to pass it on, instead of
    re-laying out the parent and every ancestor."""

    def __init__(self, gate: HintGate, child: QWidget) -> None:
        super().__init__(gate)
        self._gate: HintGate | None = None  # set once the child is in
        self._item: QLayoutItem | None = None
        self.setContentsMargins(0, 0, 0, 0)
        self.addWidget(child)
        self._gate = gate

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 - Qt override
        self._item = item

    def count(self) -> int:
        return 1 if getattr(self, "_item", None) is not None else 0  # also mid-init

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt override
        return self._item if index == 0 and self.count() else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt override
        item = self.itemAt(index)
        if item is not None:
            self._item = None
        return item

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return self._item.sizeHint() if self.count() else QSize()

    def minimumSize(self) -> QSize:  # noqa: N802 - Qt override
        return self._item.minimumSize() if self.count() else QSize()

    def maximumSize(self) -> QSize:  # noqa: N802 - Qt override
        return self._item.maximumSize() if self.count() else super().maximumSize()

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 - Qt override
        return (
            self._item.expandingDirections()
            if self.count()
            else super().expandingDirections()
        )

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt override
        return self.count() > 0 and self._item.hasHeightForWidth()

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt override
        return self._item.heightForWidth(width) if self.count() else -1

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 - Qt override
        super().setGeometry(rect)
        if self.count():
            self._item.setGeometry(rect)

    def invalidate(self) -> None:
        gate = getattr(self, "_gate", None)
        if gate is not None:
            gate.child_changed()


class HintGate(QWidget):
    """Holds ``child``, filling the gate; tells the parent's layout of the child's
    changes at once only when they matter now (see the module's notes).

    Attributes
    ----------
    child : QWidget
        The widget held (reparented to the gate).
    """

    _stale: ClassVar[list[HintGate]] = []
    _timer: ClassVar[QTimer | None] = None

    def __init__(self, child: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.child = child
        self._limits: tuple[Any, ...] | None = None
        self._shown_at: float | None = None
        self._layout = _GateLayout(self, child)
        self.child_changed()

    def _read_limits(self) -> tuple[Any, ...]:
        item = self._layout.itemAt(0)
        policy = self.child.sizePolicy()
        return (
            item.sizeHint(),
            item.minimumSize(),
            item.maximumSize(),
            policy.horizontalPolicy(),
            policy.verticalPolicy(),
            item.hasHeightForWidth(),
        )

    def child_changed(self) -> None:
        """The child's size hint, limits or policy may have changed: tell the
        parent now when that matters now, else within SETTLE_MS."""
        limits = self._read_limits()
        if limits == self._limits:
            return
        self._limits = limits
        self.setSizePolicy(self.child.sizePolicy())
        self.setMaximumSize(self.child.maximumSize())
        low, high = limits[1], limits[2]
        size = self.size()
        fits = (
            low.width() <= size.width() <= high.width()
            and low.height() <= size.height() <= high.height()
        )
        shown = self._shown_at
        settled = shown is not None and time.monotonic() - shown > SETTLE_MS / 1000
        if fits and settled and self.isVisible():
            self._later()
        else:
            self.updateGeometry()

    def _later(self) -> None:
        if self not in HintGate._stale:
            HintGate._stale.append(self)
        timer = HintGate._timer
        if timer is None or not shiboken6.isValid(timer):  # none, or its app gone
            timer = HintGate._timer = QTimer(QApplication.instance())
            timer.setSingleShot(True)
            timer.setInterval(SETTLE_MS)
            timer.timeout.connect(HintGate._flush)
        if not timer.isActive():
            timer.start()

    @staticmethod
    def _flush() -> None:
        stale, HintGate._stale = HintGate._stale, []
        for gate in stale:
            try:
                gate.updateGeometry()
            except RuntimeError:  # deleted meanwhile
                pass

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        if self._shown_at is None:
            self._shown_at = time.monotonic()
        super().showEvent(event)
