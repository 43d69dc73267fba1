"""Every shortcut of the window has one owner and fires on real key events.

Qt fires neither action when two enabled actions share a key sequence in the same
context. The platform's standard bindings overlap (on Linux Delete is [Del, Ctrl+D]
and Duplicate is Ctrl+D: issue 19), but only on a real platform: the offscreen one
hides them. So these checks run in-process offscreen and, run as a script, in a
subprocess under Xvfb with Qt's xcb platform.
"""

from __future__ import annotations

import json
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

if __name__ == "__main__":  # the subprocess: the platform comes from its env
    sys.path.insert(0, str(Path(__file__).parent))

import pytest
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from nndesk.ui.main_window import MainWindow

NOISE = "This plugin does not support"
pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(NOISE)]

Context = Qt.ShortcutContext


class Binding:
    """One key sequence of a QAction or QShortcut, with where it can fire."""

    def __init__(
        self, owner: QObject, name: str, context: Context, widgets: list[QWidget]
    ) -> None:
        self.owner, self.name, self.context, self.widgets = (
            owner,
            name,
            context,
            widgets,
        )

    def overlaps(self, other: Binding) -> bool:
        """Whether some focus widget makes both fire (Qt then fires neither)."""
        wide = (Context.WindowShortcut, Context.ApplicationShortcut)
        if self.context in wide or other.context in wide:
            return True
        return any(
            _covers(a, self.context, b) or _covers(b, other.context, a)
            for a in self.widgets
            for b in other.widgets
        )


def _covers(widget: QWidget, context: Context, other: QWidget) -> bool:
    if widget is other:
        return True
    return context == Context.WidgetWithChildrenShortcut and widget.isAncestorOf(other)


def window_bindings(window: MainWindow) -> dict[str, list[Binding]]:
    """Every key sequence of every QAction and QShortcut that can fire in the window
    (an action fires only through a widget it is added to), enabled or not."""
    found: dict[str, list[Binding]] = defaultdict(list)
    for action in window.findChildren(QAction):
        widgets = [
            w
            for w in action.associatedObjects()
            if isinstance(w, QWidget) and (w is window or window.isAncestorOf(w))
        ]
        if not widgets:
            continue
        name = action.text().replace("&", "")
        for seq in action.shortcuts():
            found[seq.toString()].append(
                Binding(action, name, action.shortcutContext(), widgets)
            )
    for shortcut in window.findChildren(QShortcut):
        parent = shortcut.parentWidget()
        for seq in shortcut.keys():
            found[seq.toString()].append(
                Binding(shortcut, seq.toString(), shortcut.context(), [parent])
            )
    return found


def conflicts(window: MainWindow) -> list[str]:
    """Key sequences bound twice where both bindings can fire, as readable text."""
    out = []
    for seq, bindings in sorted(window_bindings(window).items()):
        for i, a in enumerate(bindings):
            for b in bindings[i + 1 :]:
                if a.owner is not b.owner and a.overlaps(b):
                    out.append(f"{seq}: {a.name} and {b.name}")
    return out


def press(window: MainWindow, key: Qt.Key, mods=Qt.KeyboardModifier.NoModifier):
    """A real key press and release on the canvas, through the shortcut map."""
    view = window.editor.view
    view.setFocus()
    QTest.keyClick(view, key, mods)
    QApplication.processEvents()


def key_scenario(window: MainWindow) -> dict[str, Any]:
    """Select a node; Ctrl+D, Del and Backspace as keys; what each did."""
    doc = window.document
    assert doc is not None
    editor = window.editor
    result: dict[str, Any] = {
        "platform": QApplication.platformName(),
        "platform_delete": [
            s.toString()
            for s in QKeySequence.keyBindings(QKeySequence.StandardKey.Delete)
        ],
        "delete": [s.toString() for s in window.actions.delete.shortcuts()],
        "duplicate": [s.toString() for s in window.actions.duplicate.shortcuts()],
        "conflicts": conflicts(window),
        "nodes": len(doc),
    }
    editor.scene.select_nodes(["dense_2"])
    press(window, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    result["after_ctrl_d"] = len(doc)
    copy = editor.selected_node_ids()
    result["duplicate_selected"] = copy
    press(window, Qt.Key.Key_Delete)
    result["after_del"] = len(doc)
    result["copy_gone"] = bool(copy) and not any(n in doc for n in copy)
    editor.scene.select_nodes(["dense_2"])
    press(window, Qt.Key.Key_Backspace)
    result["after_backspace"] = len(doc)
    return result


def check(result: dict[str, Any]) -> None:
    assert result["conflicts"] == []
    assert result["duplicate"] == ["Ctrl+D"]
    assert result["delete"][0] == "Del" and "Ctrl+D" not in result["delete"]
    assert "Backspace" in result["delete"]
    n = result["nodes"]
    assert result["after_ctrl_d"] == n + 1
    assert len(result["duplicate_selected"]) == 1
    assert result["after_del"] == n and result["copy_gone"]
    assert result["after_backspace"] == n - 1


def activate(window: MainWindow) -> None:
    window.activateWindow()
    window.raise_()
    for _ in range(250):
        if QApplication.activeWindow() is window:
            return
        QTest.qWait(20)
    raise AssertionError("the window did not become active within 5 s")


@pytest.fixture
def trained_window(main_window: MainWindow) -> MainWindow:
    """The main window with training attached, as ``run_app`` makes it."""
    from nndesk.ui.training.controller import attach_training

    if getattr(main_window, "training", None) is None:
        main_window.training = attach_training(main_window)
    activate(main_window)
    return main_window


def test_no_key_sequence_has_two_owners_offscreen(trained_window: MainWindow) -> None:
    assert conflicts(trained_window) == []
    bindings = window_bindings(trained_window)
    # The walk sees the window's own, the training and the canvas-only bindings.
    for seq in ("Ctrl+D", "Del", "Ctrl+S", "F5", "Tab"):
        assert len(bindings[seq]) == 1, seq
    assert bindings["Tab"][0].context == Context.WidgetShortcut


def test_ctrl_q_quits_on_every_platform(trained_window: MainWindow) -> None:
    # The offscreen platform (like Windows) binds no key to StandardKey.Quit:
    # Ctrl+Q did nothing there (found by the random-input test).
    assert "Ctrl+Q" in [s.toString() for s in trained_window.actions.quit.shortcuts()]
    trained_window.ask_unsaved = lambda name: "discard"
    QTest.keyClick(
        trained_window.windowHandle(),
        Qt.Key.Key_Q,
        Qt.KeyboardModifier.ControlModifier,
    )
    assert not trained_window.isVisible()


def test_the_conflict_walk_sees_a_shared_sequence(trained_window: MainWindow) -> None:
    extra = QAction("Extra", trained_window)
    extra.setShortcut(QKeySequence("Ctrl+D"))
    trained_window.addAction(extra)
    try:
        assert conflicts(trained_window) == ["Ctrl+D: Duplicate and Extra"]
    finally:
        trained_window.removeAction(extra)


def test_keys_duplicate_and_delete_offscreen(qtbot, trained_window) -> None:
    check(key_scenario(trained_window))


def test_keys_duplicate_and_delete_on_the_platform_bindings(tmp_path: Path) -> None:
    from real_display import run_script, xvfb_available

    platform = "xcb" if xvfb_available() else "offscreen"
    done = run_script(Path(__file__), [], platform, tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["platform"] == platform
    if platform == "xcb":
        # The overlap this guards against is real there.
        assert result["platform_delete"] == ["Del", "Ctrl+D"]
    check(result)


def main() -> int:
    from nndesk.document.examples import spiral_classifier
    from nndesk.ui.app import install_excepthook, make_application
    from nndesk.ui.settings import AppSettings
    from nndesk.ui.theme import ThemeManager
    from nndesk.ui.training.controller import attach_training

    make_application()
    errors: list[str] = []
    install_excepthook(errors.append)
    settings = AppSettings.at_path(Path.cwd() / "settings.ini")
    window = MainWindow(settings, ThemeManager("light"))
    window.notify_error = errors.append
    window.training = attach_training(window)
    window.set_document(spiral_classifier())
    window.show()
    QTest.qWaitForWindowExposed(window)
    activate(window)
    result = key_scenario(window)
    result["errors"] = errors
    window.ask_unsaved = lambda name: "discard"
    window.close()
    print(json.dumps(result))
    return 1 if errors else 0


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.exit(main())
