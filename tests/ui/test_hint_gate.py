"""HintGate: a panel's inner changes re-lay out the main window only when its size
limits change."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QDockWidget, QLabel, QVBoxLayout, QWidget
from ui_helpers import OFFSCREEN_NOISE

from nndesk.ui.hint_gate import SETTLE_MS
from nndesk.ui.main_window import MainWindow

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]


class LayoutPasses(QObject):
    """Counts the layout passes (LayoutRequest events) a widget receives."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__()
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def _docked(qtbot, window: MainWindow) -> tuple[QWidget, QLabel, QDockWidget]:
    """A panel with one label, docked in the shown window past its settling time."""
    panel = QWidget()
    label = QLabel("epoch 1 of 20, loss 0.6931")
    layout = QVBoxLayout(panel)
    layout.addWidget(label)
    layout.addStretch(1)
    dock = window.add_panel(panel, "Status", "status_dock")
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(SETTLE_MS + 100)  # past the arranging of a newly shown dock
    return panel, label, dock


def test_new_text_inside_a_panel_leaves_the_main_window_alone(
    qtbot, main_window: MainWindow
) -> None:
    panel, label, dock = _docked(qtbot, main_window)
    passes = LayoutPasses(main_window)
    inner = LayoutPasses(panel)
    for epoch in range(2, 12):  # new widths, all within the dock's
        label.setText(f"epoch {epoch} of 20, loss {0.7 / epoch:.4f}")
        qtbot.wait(5)
    assert inner.count >= 1  # the panel itself was laid out again
    assert passes.count == 0
    # The main window hears of the new size hints once, a while later.
    qtbot.waitUntil(lambda: passes.count == 1, timeout=3 * SETTLE_MS)
    qtbot.wait(SETTLE_MS // 2)
    assert passes.count == 1
    assert dock.widget().child is panel


def test_a_panel_that_needs_more_room_still_gets_it(
    qtbot, main_window: MainWindow
) -> None:
    panel, label, dock = _docked(qtbot, main_window)
    passes = LayoutPasses(main_window)
    wide = max(dock.width(), 300) + 150
    label.setMinimumWidth(wide)
    qtbot.waitUntil(lambda: passes.count >= 1, timeout=2000)
    qtbot.waitUntil(lambda: panel.width() >= wide, timeout=2000)
    assert dock.minimumSizeHint().width() >= wide
