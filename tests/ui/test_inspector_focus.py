"""The help text never moves the field being edited, and the focused field stays in
view (issue 11: a triple-click on "128" missed its field, which the growing help box
had scrolled away, and the user's "128" became "16128")."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QWidget
from ui_helpers import OFFSCREEN_NOISE

from nndesk.document.examples import spiral_classifier
from nndesk.ui.panels.inspector import InspectorPanel

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]


def _panel(qtbot, width: int, height: int, seed: int = 0) -> InspectorPanel:
    panel = InspectorPanel()
    qtbot.addWidget(panel)
    doc = spiral_classifier()
    doc.set_setting("seed", seed)
    panel.set_document(doc)  # nothing selected: the settings
    panel.resize(width, height)
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    qtbot.waitActive(panel)
    for _ in range(3):  # let the layout settle before measuring positions
        QApplication.processEvents()
    return panel


def _lowest_visible_field(panel: InspectorPanel) -> QWidget:
    """The number field nearest the bottom edge of the scroll viewport."""
    viewport = panel.form_scroll.viewport()
    bottom = viewport.mapToGlobal(QPoint(0, viewport.height())).y()
    best, best_y = None, -1
    for name, field in panel.fields.items():
        w = field.widget
        if not panel.is_field_shown(name) or field.spec.kind not in ("int", "float"):
            continue
        y = w.mapToGlobal(QPoint(0, w.height())).y()
        if best_y < y <= bottom:
            best, best_y = w, y
    assert best is not None
    return best


def _inside_viewport(panel: InspectorPanel, widget: QWidget) -> bool:
    viewport = panel.form_scroll.viewport()
    top_left = widget.mapTo(viewport, QPoint(0, 0))
    return top_left.y() >= 0 and top_left.y() + widget.height() <= viewport.height()


def test_focusing_a_field_does_not_move_it(qtbot) -> None:
    panel = _panel(qtbot, 360, 460)
    assert panel.help.isVisible()
    field = _lowest_visible_field(panel)
    before = field.mapToGlobal(QPoint(0, 0))
    qtbot.mouseClick(field, Qt.MouseButton.LeftButton, pos=QPoint(10, 8))
    qtbot.waitUntil(lambda: QApplication.focusWidget() is field)
    assert "Accepts" in panel.help.text()  # the help grew with the field's text
    for _ in range(3):
        QApplication.processEvents()
    assert field.mapToGlobal(QPoint(0, 0)) == before
    assert _inside_viewport(panel, field)
    panel.set_document(None)


def test_triple_click_then_typing_replaces_the_value(qtbot) -> None:
    """The reported bug: click-click-click on a number, type 128, Enter."""
    panel = _panel(qtbot, 360, 460, seed=16)
    # The user was editing a field with a short help text...
    panel.fields["batch_size"].widget.setFocus(Qt.FocusReason.MouseFocusReason)
    for _ in range(3):  # the focus change, then the panel's deferred scroll
        QApplication.processEvents()
    name = "seed"  # ...and goes on to one with a long help text.
    field = panel.fields[name].widget
    # Scroll so the field is the last one in view, at the viewport's bottom edge.
    viewport = panel.form_scroll.viewport()
    bar = panel.form_scroll.verticalScrollBar()
    below = field.mapTo(viewport, QPoint(0, field.height())).y() - viewport.height()
    bar.setValue(bar.value() + below)
    QApplication.processEvents()
    assert _inside_viewport(panel, field)
    edits: list[tuple[str, object]] = []
    panel.sig_setting_edited.connect(lambda n, v: edits.append((n, v)))
    where = QPoint(12, field.height() // 2)
    # Each click lands where the field was when the user aimed: its first
    # position on screen.
    aim = field.mapToGlobal(where)

    def under_aim() -> QWidget:
        # The event loop runs between a user's clicks (and lays the panel out).
        for _ in range(3):
            QApplication.processEvents()
        return QApplication.widgetAt(aim) or panel

    # Press, double-click, press: what a triple-click sends.
    target = under_aim()
    qtbot.mouseClick(target, Qt.MouseButton.LeftButton, pos=target.mapFromGlobal(aim))
    target = under_aim()
    qtbot.mouseDClick(target, Qt.MouseButton.LeftButton, pos=target.mapFromGlobal(aim))
    target = under_aim()
    qtbot.mousePress(target, Qt.MouseButton.LeftButton, pos=target.mapFromGlobal(aim))
    qtbot.mouseRelease(target, Qt.MouseButton.LeftButton, pos=target.mapFromGlobal(aim))
    assert QApplication.focusWidget() is field
    qtbot.keyClicks(field, "128")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert edits[-1] == (name, 128)
    panel.set_document(None)


def test_the_focused_field_scrolls_into_view(qtbot) -> None:
    panel = _panel(qtbot, 360, 460)
    last = [f for n, f in panel.fields.items() if panel.is_field_shown(n)][-1]
    assert not _inside_viewport(panel, last.widget)
    last.widget.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: _inside_viewport(panel, last.widget))
    panel.set_document(None)


def test_the_help_box_keeps_its_height_from_field_to_field(qtbot) -> None:
    panel = _panel(qtbot, 360, 460)
    heights = set()
    for name, field in panel.fields.items():
        if not panel.is_field_shown(name):
            continue
        field.widget.setFocus(Qt.FocusReason.TabFocusReason)
        QApplication.processEvents()
        heights.add(panel.help.height())
    assert len(heights) == 1
    panel.set_document(None)
