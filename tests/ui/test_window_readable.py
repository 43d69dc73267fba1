"""The window with its training panels at 1280x800 (issue 11): the inspector gets the
height it needs, dock tabs show whole titles, and everything fits the screen."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QTabBar
from ui_helpers import OFFSCREEN_NOISE

from nndesk.engine.data import all_finite
from nndesk.ui.training.controller import attach_training

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]


@pytest.fixture
def trained_window(main_window, qtbot):
    # Load the compiled kernels here, so no warm-up thread outlives this short test.
    for dtype in (np.float32, np.float64):
        all_finite(np.zeros(1, dtype))
    controller = attach_training(main_window)
    main_window.resize(1280, 800)
    qtbot.wait(1)
    for _ in range(3):
        QApplication.processEvents()
    yield main_window
    assert controller is main_window.training


def test_the_inspector_gets_the_room_of_the_right_column(trained_window) -> None:
    inspector = trained_window.docks["inspector_dock"]
    # It ran above the plots' row before: 1.5 rows of settings, about 120 px.
    assert inspector.height() >= 0.4 * trained_window.height()
    shown = [
        name
        for name, field in trained_window.inspector.fields.items()
        if trained_window.inspector.is_field_shown(name)
        and not field.widget.visibleRegion().isEmpty()
    ]
    assert len(shown) >= 6


def test_dock_tabs_show_whole_titles(trained_window) -> None:
    bars = trained_window.findChildren(QTabBar)
    assert bars
    for bar in bars:
        assert bar.elideMode() == Qt.TextElideMode.ElideNone
        assert bar.usesScrollButtons()


def test_the_window_fits_a_1280_pixel_screen(trained_window) -> None:
    assert trained_window.minimumSizeHint().width() <= 1280
    assert trained_window.width() <= 1280


def test_the_palette_shows_every_category_beside_the_plots(trained_window) -> None:
    # The Problems dock under it gave up no height to the plots: the palette showed
    # 9 of its 11 categories at 1280x800.
    tree = trained_window.palette.tree
    tree.collapseAll()
    QApplication.processEvents()
    viewport = tree.viewport().rect()
    for i in range(tree.topLevelItemCount()):
        rect = tree.visualItemRect(tree.topLevelItem(i))
        assert viewport.contains(rect), tree.topLevelItem(i).text(0)
    # With no problems the dock is one line of text, not an empty list box, and
    # gives the rest of its height to the palette.
    dock = trained_window.docks["problems_dock"]
    assert trained_window.problems.list.isHidden()
    line = dock.fontMetrics().height()
    assert dock.height() <= dock.minimumSizeHint().height() + 4 * line
