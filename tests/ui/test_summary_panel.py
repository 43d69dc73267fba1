"""The Summary dock: the rows of ``nndesk summary``, following the current network."""

from __future__ import annotations

import io

import pytest
from PySide6.QtWidgets import QApplication
from ui_helpers import OFFSCREEN_NOISE

from nndesk import cli
from nndesk.io.project_file import Project, save_project
from nndesk.ui.main_window import MainWindow

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]


def show_summary(window: MainWindow) -> None:
    action = next(
        a
        for a in window.panels_menu.actions()
        if a.text().replace("&", "") == "Summary"
    )
    dock = window.docks["summary_dock"]
    if not dock.isVisible():
        action.trigger()  # View > Panels > Summary
    dock.raise_()


def cli_summary(window: MainWindow, tmp_path) -> str:
    path = tmp_path / "net.nndesk"
    save_project(path, Project(document=window.document.copy()))
    out = io.StringIO()
    assert cli.main(["summary", str(path)], out=out) == 0
    # The table, without the lines on loss, dataset and training that follow it.
    table, _, rest = out.getvalue().partition("\nLoss: ")
    assert rest
    return table


def test_the_summary_dock_sits_behind_the_inspector(main_window: MainWindow) -> None:
    docks = main_window.docks
    assert docks["inspector_dock"].isVisible()
    assert docks["summary_dock"] in main_window.tabifiedDockWidgets(
        docks["inspector_dock"]
    )
    titles = [a.text().replace("&", "") for a in main_window.panels_menu.actions()]
    assert "Summary" in titles


def test_the_summary_is_what_nndesk_summary_prints(
    qtbot, main_window: MainWindow, tmp_path
) -> None:
    show_summary(main_window)
    panel = main_window.summary
    qtbot.waitUntil(lambda: not panel.visibleRegion().isEmpty())
    text = panel.summary_text()
    assert text == cli_summary(main_window, tmp_path)
    assert "dense_1 (Dense)" in text and "Total params: 105" in text


def test_the_summary_follows_edits_and_new_documents(
    qtbot, main_window: MainWindow, tmp_path
) -> None:
    show_summary(main_window)
    panel = main_window.summary
    assert main_window.editor.set_param("dense_1", "units", 20)
    qtbot.waitUntil(lambda: "(None, 20)" in panel.summary_text())
    assert panel.summary_text() == cli_summary(main_window, tmp_path)
    main_window.undo_stack.undo()
    qtbot.waitUntil(lambda: "(None, 20)" not in panel.summary_text())
    # an edit that breaks the network: the reason instead of a stale table
    edge = next(e for e in main_window.document.edges if e.dst_node == "output_1")
    main_window.editor.disconnect_edges([edge])
    qtbot.waitUntil(lambda: panel.summary_text() == "")
    assert "problems" in panel.status.text() and "Output" in panel.status.text()
    assert not panel.copy_button.isEnabled()
    main_window.undo_stack.undo()
    qtbot.waitUntil(lambda: panel.summary_text() != "")
    assert main_window.open_example("xor")
    qtbot.waitUntil(lambda: panel.summary_text() == cli_summary(main_window, tmp_path))


def test_a_hidden_summary_catches_up_when_shown(qtbot, main_window: MainWindow) -> None:
    panel = main_window.summary
    main_window.docks["inspector_dock"].raise_()
    qtbot.waitUntil(lambda: panel.visibleRegion().isEmpty())  # a tab behind
    assert main_window.editor.set_param("dense_2", "units", 30)
    assert "(None, 30)" not in panel.summary_text()  # no work while hidden
    show_summary(main_window)
    qtbot.waitUntil(lambda: "(None, 30)" in panel.summary_text())


def test_copy_puts_the_summary_on_the_clipboard(qtbot, main_window: MainWindow) -> None:
    show_summary(main_window)
    panel = main_window.summary
    QApplication.clipboard().setText("")
    with qtbot.waitSignal(panel.sig_copied):
        panel.copy_button.click()
    assert QApplication.clipboard().text() == panel.summary_text() != ""
