"""Canvas context menus under real right-clicks: on a node, an edge and empty canvas.

The menus run modally (``QMenu.exec``), so a QTimer answers each one the way a
person would: it reads the entries, then clicks one or presses Escape. The same
scenario runs in-process on the offscreen platform and, run as a script, in a
subprocess under Xvfb with Qt's xcb platform (issue 10: every right-click showed
"Something went wrong (TypeError: 'PySide6.QtWidgets.QMenu.exec' ...)").
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

if __name__ == "__main__":  # the subprocess: the platform comes from its env
    sys.path.insert(0, str(Path(__file__).parent))

import pytest
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu

from nndesk.ui.canvas.editor import CanvasEditor

NOISE = "This plugin does not support"
pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(NOISE)]


class MenuAnswer:
    """Waits for the next popup menu, records its entries, then picks ``choice``
    with a mouse click on it (None: closes the menu with Escape)."""

    def __init__(self, choice: str | None) -> None:
        self.choice = choice
        self.entries: list[str] | None = None
        self._timer = QTimer()
        self._timer.setInterval(20)
        self._timer.timeout.connect(self._poll)
        self._timer.start()

    def _poll(self) -> None:
        menu = QApplication.activePopupWidget()
        if not isinstance(menu, QMenu) or not menu.isVisible():
            return
        self._timer.stop()
        self.entries = [a.text() for a in menu.actions() if a.text()]
        action = next((a for a in menu.actions() if a.text() == self.choice), None)
        if action is None:
            QTest.keyClick(menu, Qt.Key.Key_Escape)
        else:
            centre = menu.actionGeometry(action).center()
            QTest.mouseMove(menu, centre)
            QTest.mouseClick(menu, Qt.MouseButton.LeftButton, pos=centre)

    def stop(self) -> None:
        self._timer.stop()


def right_click(editor: CanvasEditor, scene_pos: QPointF) -> None:
    """A right-click through the window system at a scene point of the canvas.

    QTest's widget overload delivers only press and release to the viewport; the
    context-menu event a real click brings is made by the window, so the click
    goes to the window handle at the viewport point mapped into the window.
    """
    viewport = editor.view.viewport()
    point = viewport.mapTo(viewport.window(), editor.view.mapFromScene(scene_pos))
    window = viewport.window().windowHandle()
    QTest.mouseMove(window, point)
    QTest.mouseClick(
        window, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, point
    )


def answered(
    editor: CanvasEditor, choice: str | None, scene_pos: QPointF, direct: bool = False
) -> list[str] | None:
    """Right-click at ``scene_pos`` (or send a contextMenuEvent when ``direct``),
    answer the menu with ``choice``; the menu's entries, None if none opened."""
    answer = MenuAnswer(choice)
    try:
        if direct:
            viewport = editor.view.viewport()
            point = editor.view.mapFromScene(scene_pos)
            event = QContextMenuEvent(
                QContextMenuEvent.Reason.Mouse, point, viewport.mapToGlobal(point)
            )
            QApplication.sendEvent(viewport, event)
        else:
            right_click(editor, scene_pos)
        QTest.qWait(50)
    finally:
        answer.stop()
    return answer.entries


def edge_midpoint(editor: CanvasEditor, index: int = 0) -> QPointF:
    item = editor.scene.edge_items()[index]
    return item.mapToScene(item.path().pointAtPercent(0.5))


def empty_point(editor: CanvasEditor) -> QPointF:
    rect = editor.scene.nodes_rect()
    return QPointF(rect.center().x(), rect.bottom() + 120)


def run_scenario(editor: CanvasEditor) -> dict[str, Any]:
    """Right-click a node (Duplicate), an edge (Delete), empty canvas (Escape) and
    send a contextMenuEvent; what each menu offered and what the document became."""
    doc = editor.document
    assert doc is not None
    result: dict[str, Any] = {"nodes_before": len(doc), "edges_before": len(doc.edges)}
    node = editor.scene.node_item("dense_2").sceneBoundingRect()
    node_point = QPointF(node.left() + 30, node.center().y())
    result["node_menu"] = answered(editor, "Duplicate", node_point)
    result["nodes_after_duplicate"] = len(doc)
    editor.scene.clearSelection()
    result["edge_menu"] = answered(editor, "Delete", edge_midpoint(editor))
    result["edges_after_delete"] = len(doc.edges)
    result["empty_menu"] = answered(editor, None, empty_point(editor))
    result["event_menu"] = answered(editor, None, empty_point(editor), direct=True)
    result["selected_after_empty"] = len(editor.scene.selectedItems())
    return result


def check(result: dict[str, Any]) -> None:
    assert result["node_menu"][:3] == ["Duplicate", "Copy", "Delete"]
    assert result["nodes_after_duplicate"] == result["nodes_before"] + 1
    assert result["edge_menu"][0] == "Delete"
    assert "Duplicate" not in result["edge_menu"]
    assert result["edges_after_delete"] == result["edges_before"] - 1
    assert result["empty_menu"] == [
        "Add Node…",
        "Paste Here",
        "Auto Layout",
        "Add Note Here",  # issue 15
    ]
    assert result["event_menu"] == result["empty_menu"]


def make_editor() -> CanvasEditor:
    from PySide6.QtGui import QUndoStack

    from nndesk.document.examples import spiral_classifier

    editor = CanvasEditor(QUndoStack())
    editor.set_document(spiral_classifier())
    editor.view.resize(1000, 700)
    editor.view.show()
    QTest.qWaitForWindowExposed(editor.view)
    editor.view.set_zoom(1.0)
    editor.view.centerOn(editor.scene.nodes_rect().center())
    return editor


def test_right_clicks_open_working_menus_offscreen(qtbot, editor: CanvasEditor) -> None:
    result = run_scenario(editor)
    check(result)


def test_right_click_keeps_a_selection_it_is_on(qtbot, editor: CanvasEditor) -> None:
    editor.select_all()
    entries = answered(editor, None, empty_point(editor))
    assert entries is not None and "Delete" not in entries  # the click deselected
    editor.select_all()
    count = len(editor.scene.selectedItems())
    node = editor.scene.node_item("dense_2").sceneBoundingRect()
    entries = answered(editor, None, QPointF(node.left() + 30, node.center().y()))
    assert entries is not None and entries[:3] == ["Duplicate", "Copy", "Delete"]
    assert len(editor.scene.selectedItems()) == count  # the selection stays whole


def test_right_clicks_open_working_menus_under_xvfb(tmp_path: Path) -> None:
    from real_display import run_script, xvfb_available

    platform = "xcb" if xvfb_available() else "offscreen"
    done = run_script(Path(__file__), [], platform, tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["platform"] == platform
    check(result)


def main() -> int:
    from nndesk.ui.app import install_excepthook, make_application

    app = make_application()
    errors: list[str] = []
    install_excepthook(errors.append)
    editor = make_editor()
    result = run_scenario(editor)
    result["platform"] = app.platformName()
    result["errors"] = errors
    editor.set_document(None)
    print(json.dumps(result))
    return 1 if errors else 0


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.exit(main())
