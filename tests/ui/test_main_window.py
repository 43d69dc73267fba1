"""The main window: docks, menus and shortcuts, files, unsaved changes, layout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel
from ui_helpers import OFFSCREEN_NOISE, UnsavedQuestions

from nndesk.document.examples import EXAMPLES, spiral_classifier, xor_network
from nndesk.ui.main_window import MainWindow
from nndesk.ui.project_io import Project, load_network, save_network
from nndesk.ui.settings import AppSettings
from nndesk.ui.theme import DARK, ThemeManager

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

StandardKey = QKeySequence.StandardKey


def make_window(qtbot, settings: AppSettings) -> MainWindow:
    window = MainWindow(settings, ThemeManager("light"))
    window.notify_error = lambda message: None
    window.ask_unsaved = UnsavedQuestions()
    qtbot.addWidget(window)
    return window


def test_opens_with_the_spiral_network_and_its_dataset(main_window: MainWindow) -> None:
    doc = main_window.document
    assert doc is not None and doc == spiral_classifier()
    assert main_window.dataset is not None
    assert main_window.dataset.input_shape == (2,) and len(main_window.dataset) == 400
    assert main_window.windowTitle() == "Untitled[*] — nndesk"
    assert not main_window.isWindowModified()
    main_window.editor.scene.flush()
    assert main_window.problems.problems == ()
    assert "ready to train" in main_window.problems.summary.text()
    assert main_window.params_label.text() == "105 params"


def test_docks_are_movable_closable_and_listed(main_window: MainWindow) -> None:
    docks = main_window.docks
    assert set(docks) >= {"palette_dock", "inspector_dock", "problems_dock"}
    area = main_window.dockWidgetArea
    assert area(docks["palette_dock"]) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert area(docks["inspector_dock"]) == Qt.DockWidgetArea.RightDockWidgetArea
    assert area(docks["problems_dock"]) == Qt.DockWidgetArea.LeftDockWidgetArea
    for dock in docks.values():
        features = dock.features()
        assert features & QDockWidget.DockWidgetFeature.DockWidgetClosable
        assert features & QDockWidget.DockWidgetFeature.DockWidgetMovable
        assert dock.toggleViewAction() in main_window.panels_menu.actions()
    docks["inspector_dock"].toggleViewAction().trigger()
    assert not docks["inspector_dock"].isVisible()
    main_window.reset_layout()
    assert docks["inspector_dock"].isVisible()


def test_add_panel_docks_a_new_panel_at_the_bottom(main_window: MainWindow) -> None:
    label = QLabel("training")
    dock = main_window.add_panel(label, "Training", "training_dock")
    assert dock.widget().child is label  # held by a HintGate
    assert main_window.dockWidgetArea(dock) == Qt.DockWidgetArea.BottomDockWidgetArea
    assert dock.toggleViewAction() in main_window.panels_menu.actions()
    assert main_window.docks["training_dock"] is dock


def test_reset_layout_puts_each_panel_back_where_it_was_added(
    main_window: MainWindow,
) -> None:
    area = Qt.DockWidgetArea
    w = main_window
    controls = w.add_panel(
        QLabel("controls"), "Controls", "controls_dock", area.RightDockWidgetArea
    )
    plot = w.add_panel(QLabel("plot"), "Plot", "plot_dock")
    other = w.add_panel(QLabel("other"), "Other", "other_dock", tabify_with="plot_dock")
    assert w.tabifiedDockWidgets(plot) == [other]
    # Scatter them: float one, move others to the wrong sides, close one.
    controls.setFloating(True)
    w.addDockWidget(area.TopDockWidgetArea, plot)
    w.addDockWidget(area.LeftDockWidgetArea, other)
    w.addDockWidget(area.BottomDockWidgetArea, w.docks["inspector_dock"])
    w.docks["problems_dock"].close()
    w.reset_layout()
    expected = {
        "palette_dock": area.LeftDockWidgetArea,
        "problems_dock": area.LeftDockWidgetArea,
        "inspector_dock": area.RightDockWidgetArea,
        "controls_dock": area.RightDockWidgetArea,
        "plot_dock": area.BottomDockWidgetArea,
        "other_dock": area.BottomDockWidgetArea,
    }
    for name, where in expected.items():
        dock = w.docks[name]
        assert w.dockWidgetArea(dock) == where, name
        assert not dock.isFloating() and not dock.isHidden(), name
    assert w.tabifiedDockWidgets(plot) == [other]
    # The controls sit under the inspector, not beside it.
    inspector = w.docks["inspector_dock"]
    assert controls.geometry().top() >= inspector.geometry().bottom()


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("new", StandardKey.New),
        ("open", StandardKey.Open),
        ("save", StandardKey.Save),
        ("save_as", StandardKey.SaveAs),
        ("close", StandardKey.Close),
        ("undo", StandardKey.Undo),
        ("redo", StandardKey.Redo),
        ("cut", StandardKey.Cut),
        ("copy", StandardKey.Copy),
        ("paste", StandardKey.Paste),
        ("delete", StandardKey.Delete),
        ("select_all", StandardKey.SelectAll),
        ("zoom_in", StandardKey.ZoomIn),
        ("zoom_out", StandardKey.ZoomOut),
    ],
)
def test_actions_use_the_standard_shortcuts(
    main_window: MainWindow, name: str, key: QKeySequence.StandardKey
) -> None:
    action = getattr(main_window.actions, name)
    expected = QKeySequence.keyBindings(key)
    assert expected, f"the platform binds nothing to {key}"
    assert expected[0] in action.shortcuts()


def test_duplicate_is_ctrl_d_and_every_menu_action_is_reachable(
    main_window: MainWindow,
) -> None:
    a = main_window.actions
    assert a.duplicate.shortcut() == QKeySequence("Ctrl+D")
    in_menus = {
        action
        for menu in main_window.menuBar().findChildren(type(main_window.recent_menu))
        for action in menu.actions()
    }
    for action in (a.new, a.open, a.save, a.save_as, a.close, a.undo, a.redo, a.cut):
        assert action in in_menus
    for action in (a.fit, a.auto_layout, a.zoom_in, a.snap_to_grid, a.about, a.help):
        assert action in in_menus
    assert {a.new, a.open, a.save, a.undo, a.fit} <= set(main_window.toolbar.actions())


def test_shortcuts_drive_the_canvas(qtbot, main_window: MainWindow) -> None:
    doc = main_window.document
    view = main_window.editor.view
    main_window.editor.scene.select_nodes(["dense_2"])
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert doc.has_node("dense_4")
    qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not doc.has_node("dense_4")
    qtbot.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(main_window.editor.selected_node_ids()) == 5
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert len(doc) == 0


def test_title_marks_unsaved_changes(main_window: MainWindow) -> None:
    main_window.editor.set_param("dense_1", "units", 4)
    assert main_window.isWindowModified()
    main_window.undo_stack.undo()
    assert not main_window.isWindowModified()


def test_save_through_the_menu_and_reopen_gives_the_same_document(
    qtbot, main_window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor = main_window.editor
    editor.set_param("dense_2", "units", 6)
    editor.add_node("Dropout")
    expected = main_window.document.to_dict()
    target = tmp_path / "spiral"  # no suffix: the window adds .nndesk
    monkeypatch.setattr(
        "nndesk.ui.main_window.QFileDialog.getSaveFileName",
        lambda *args, **kwargs: (str(target), ""),
    )
    main_window.actions.save.trigger()
    saved = tmp_path / "spiral.nndesk"
    assert saved.exists()
    assert main_window.path == saved
    assert main_window.windowTitle() == "spiral.nndesk[*] — nndesk"
    assert not main_window.isWindowModified()
    assert main_window.settings.recent_files()[0] == str(saved.resolve())
    main_window.new_document()
    assert len(main_window.document) == 0
    monkeypatch.setattr(
        "nndesk.ui.main_window.QFileDialog.getOpenFileName",
        lambda *args, **kwargs: (str(saved), ""),
    )
    main_window.actions.open.trigger()
    assert main_window.document.to_dict() == expected
    assert main_window.editor.scene.node_item("dropout_1") is not None


def test_save_and_load_round_trip_through_the_plumbing(tmp_path: Path) -> None:
    doc = EXAMPLES["residual"].build()
    save_network(tmp_path / "r.nndesk", Project(document=doc))
    assert load_network(tmp_path / "r.nndesk").document == doc
    assert [p.name for p in tmp_path.iterdir()] == ["r.nndesk"]  # no temp file left


def test_opening_a_broken_file_says_so_in_one_sentence(
    main_window: MainWindow, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.nndesk"
    broken.write_text("{not json", encoding="utf-8")
    before = main_window.document
    assert not main_window.open_file(broken)
    assert main_window.document is before
    assert len(main_window.errors) == 1
    message = main_window.errors[0]
    assert "broken.nndesk" in message and "\n" not in message
    assert not main_window.open_file(tmp_path / "missing.nndesk")
    assert "does not exist" in main_window.errors[1]
    wrong = tmp_path / "wrong.nndesk"
    wrong.write_text(json.dumps({"format_version": 1, "nodes": [{"id": "x"}]}))
    assert not main_window.open_file(wrong)
    assert "wrong.nndesk" in main_window.errors[2]


def test_closing_with_unsaved_changes_asks(
    qtbot, app_settings: AppSettings, tmp_path: Path
) -> None:
    window = make_window(qtbot, app_settings)
    window.set_document(spiral_classifier())
    window.show()
    window.editor.set_param("dense_1", "units", 3)
    questions = window.ask_unsaved
    assert isinstance(questions, UnsavedQuestions)
    questions.answer = "cancel"
    assert not window.close()
    assert window.isVisible() and questions.asked == ["Untitled"]
    questions.answer = "save"
    target = tmp_path / "kept.nndesk"
    window.save_as = lambda path=None: window._write(target)  # no file dialog
    assert window.close()
    assert load_network(target).document.node("dense_1").params["units"] == 3
    assert not window.isVisible()


def test_closing_without_changes_does_not_ask(qtbot, app_settings: AppSettings) -> None:
    window = make_window(qtbot, app_settings)
    window.set_document(spiral_classifier())
    window.show()
    assert window.close()
    assert window.ask_unsaved.asked == []


def test_opening_another_file_with_unsaved_changes_asks(
    main_window: MainWindow, tmp_path: Path
) -> None:
    other = tmp_path / "xor.nndesk"
    save_network(other, Project(document=xor_network()))
    main_window.editor.set_param("dense_1", "units", 3)
    questions = main_window.questions
    questions.answer = "cancel"
    assert not main_window.open_file(other)
    assert main_window.document.node("dense_1").params["units"] == 3
    questions.answer = "discard"
    assert main_window.open_file(other)
    assert main_window.document == xor_network()
    assert questions.asked == ["Untitled", "Untitled"]
    assert main_window.undo_stack.count() == 0


def test_dropping_a_network_file_opens_it(
    main_window: MainWindow, tmp_path: Path
) -> None:
    path = tmp_path / "dropped.nndesk"
    save_network(path, Project(document=xor_network()))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    viewport = main_window.editor.view.viewport()
    pos = QPoint(50, 50)
    enter = QDragEnterEvent(
        pos,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(pos),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(viewport, drop)
    assert main_window.path == path
    assert main_window.document == xor_network()
    # Dropping elsewhere on the window works too: Qt hands a drop on a widget that
    # takes none (a dock) to the window.
    main_window.new_document()
    enter_window = QDragEnterEvent(
        pos,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(main_window, enter_window)
    assert enter_window.isAccepted()
    again = QDropEvent(
        QPointF(pos),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    assert not main_window.docks["problems_dock"].acceptDrops()
    QApplication.sendEvent(main_window, again)
    assert main_window.path == path


def test_window_layout_persists_between_runs(qtbot, app_settings: AppSettings) -> None:
    first = make_window(qtbot, app_settings)
    first.show()
    first.resize(780, 590)  # within the offscreen screen, or Qt clamps
    first.docks["palette_dock"].hide()
    first.removeDockWidget(first.docks["problems_dock"])
    first.addDockWidget(
        Qt.DockWidgetArea.RightDockWidgetArea, first.docks["problems_dock"]
    )
    first.docks["problems_dock"].show()
    first.actions.snap_to_grid.setChecked(True)
    assert first.close()
    second = make_window(qtbot, app_settings)
    second.show()
    assert not second.docks["palette_dock"].isVisible()
    assert second.dockWidgetArea(second.docks["problems_dock"]) == (
        Qt.DockWidgetArea.RightDockWidgetArea
    )
    assert (second.width(), second.height()) == (780, 590)
    assert second.actions.snap_to_grid.isChecked()
    assert second.editor.scene._grid > 0


def test_recent_files_menu_lists_and_opens(
    main_window: MainWindow, tmp_path: Path
) -> None:
    path = tmp_path / "recent.nndesk"
    save_network(path, Project(document=xor_network()))
    main_window.settings.add_recent_file(path)
    main_window.recent_menu.aboutToShow.emit()
    entries = [
        a
        for a in main_window.recent_menu.actions()
        if a.toolTip() == str(path.resolve())
    ]
    assert len(entries) == 1
    entries[0].trigger()
    assert main_window.document == xor_network()
    main_window.actions.clear_recent.trigger()
    assert main_window.settings.recent_files() == []


def test_new_from_example(main_window: MainWindow) -> None:
    titles = [a.text() for a in main_window.examples_menu.actions()]
    assert titles == [e.title for e in EXAMPLES.values()]
    main_window.examples_menu.actions()[1].trigger()
    assert main_window.document == xor_network()


def test_problem_click_selects_the_node(main_window: MainWindow) -> None:
    editor = main_window.editor
    editor.set_param("output_1", "loss", "categorical_crossentropy")
    editor.scene.flush()
    problems = main_window.problems
    errors = [p for p in problems.problems if p.is_error]
    assert errors and errors[0].node_id == "output_1"
    assert f"{len(errors)} error" in problems.summary.text()
    title = main_window.docks["problems_dock"].windowTitle()
    assert title == f"Problems ({len(errors)})"
    item = problems.list.item(0)
    problems.list.itemClicked.emit(item)
    assert editor.selected_node_ids() == ["output_1"]
    assert main_window.inspector.node_id == "output_1"


def test_palette_double_click_adds_at_the_view_centre(
    qtbot, main_window: MainWindow
) -> None:
    palette = main_window.palette
    item = palette.type_item("Dense")
    palette.tree.itemDoubleClicked.emit(item, 0)
    doc = main_window.document
    assert doc.has_node("dense_4")
    centre = main_window.editor.view.visible_scene_rect().center()
    rect = main_window.editor.scene.node_item("dense_4").sceneBoundingRect()
    assert rect.contains(centre)


def test_palette_search_filters_and_enter_adds(qtbot, main_window: MainWindow) -> None:
    palette = main_window.palette
    qtbot.keyClicks(palette.search, "soft")
    assert palette.visible_types() == ["Softplus", "Softmax"]
    qtbot.keyClick(palette.search, Qt.Key.Key_Return)
    assert main_window.document.has_node("softplus_1")
    palette.search.clear()
    assert len(palette.visible_types()) == len(palette._type_items)


def test_dark_theme_recolours_canvas_and_palette(main_window: MainWindow) -> None:
    main_window.theme_actions["dark"].trigger()
    assert main_window.theme_manager.theme is DARK
    assert main_window.editor.scene.theme is DARK
    assert main_window.editor.scene.node_item("dense_1").theme is DARK
    assert main_window.settings.theme_mode == "dark"
    assert QApplication.palette().window().color().name() == DARK.window
    main_window.theme_actions["light"].trigger()


def test_weights_of_an_opened_file_survive_save_unless_their_shape_changed(
    main_window: MainWindow, tmp_path: Path
) -> None:
    import numpy as np

    from nndesk.io.project_file import expected_weight_shapes

    doc = spiral_classifier()
    shapes = expected_weight_shapes(doc)
    weights = {k: np.full(s, 0.5, np.float32) for k, s in shapes.items()}
    path = tmp_path / "trained.nndesk"
    save_network(path, Project(document=doc, weights=weights, history={"loss": [1.0]}))
    opened: list[Project] = []
    main_window.sig_project_opened.connect(opened.append)
    assert main_window.open_file(path)
    assert len(opened) == 1 and set(opened[0].weights) == set(weights)
    main_window.editor.set_param("dense_2", "activation", "relu")  # shapes unchanged
    assert main_window.save()
    saved = load_network(path)
    assert saved.history == {"loss": [1.0]}
    assert set(saved.weights) == set(weights)
    np.testing.assert_array_equal(
        saved.weights["dense_1/kernel"], weights["dense_1/kernel"]
    )
    main_window.editor.set_param("dense_2", "units", 5)  # shapes changed: untrained
    assert main_window.save()
    saved = load_network(path)
    assert saved.weights == {} and saved.history == {"loss": [1.0]}


def test_save_uses_the_project_source_when_one_is_set(
    main_window: MainWindow, tmp_path: Path
) -> None:
    main_window.project_source = lambda: Project(
        document=main_window.document, history={"loss": [0.5, 0.25]}
    )
    assert main_window.save_as(tmp_path / "from-trainer.nndesk")
    assert load_network(tmp_path / "from-trainer.nndesk").history == {
        "loss": [0.5, 0.25]
    }


def test_tab_on_the_canvas_opens_the_search_but_moves_focus_elsewhere(
    qtbot, main_window: MainWindow
) -> None:
    view = main_window.editor.view
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Tab)
    popup = main_window.editor.popup
    assert popup.isVisible()
    qtbot.keyClicks(popup.field, "dense")
    qtbot.keyClick(popup.field, Qt.Key.Key_Return)
    assert main_window.document.has_node("dense_4")
    palette_search = main_window.palette.search
    palette_search.setFocus()
    qtbot.keyClick(palette_search, Qt.Key.Key_Tab)
    assert not popup.isVisible()
