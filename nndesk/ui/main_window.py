"""The main window: wiring of the canvas, the docked panels, menus, toolbar and files."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QShowEvent,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QToolBar,
    QWidget,
)

from nndesk import __version__
from nndesk.document.examples import EXAMPLES
from nndesk.document.graph import Document
from nndesk.engine.errors import NNDeskError
from nndesk.io.datasets import Dataset

from .actions import Actions, gestures_html
from .canvas.editor import CanvasEditor
from .canvas.placement import add_after_selection
from .canvas.status import GraphStatus, format_count
from .canvas.view import GRID_SIZE, PROJECT_SUFFIX, project_path_from_mime
from .exchange import export_network
from .hint_gate import HintGate
from .icons import app_icon
from .panels.data import DataPanel, data_path_from_mime
from .panels.inspector import InspectorPanel
from .panels.palette import PalettePanel
from .panels.problems import ProblemsPanel
from .panels.summary import SummaryPanel
from .project_io import (
    FILE_FILTER,
    OPEN_FILTER,
    Project,
    carry_over,
    is_onnx,
    load_network,
    save_network,
    with_suffix,
)
from .settings import THEME_MODES, AppSettings
from .theme import Theme, ThemeManager, WholeTabTitles
from .window_dataset import WindowDataset

log = logging.getLogger(__name__)

UnsavedAnswer = str  # "save", "discard" or "cancel"
DATASET_NAME_SHOWN = 60  # characters of a dataset setting a status message shows


class TrainingPart(Protocol):
    """What the window asks of the part that trains its network
    (``nndesk.ui.training.TrainingController``)."""

    def project(self) -> Project | None:
        """What Save writes: the document with the trained state the window shows
        (a running run's too); None when there is none to add."""
        ...

    def shutdown(self) -> bool:
        """Stop training and wait for it (the window is closing)."""
        ...


def ask_unsaved_dialog(parent: QWidget, name: str) -> UnsavedAnswer:
    """Ask Save / Discard / Cancel about unsaved changes in ``name``."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Unsaved changes")
    box.setText(f"Save the changes to {name}?")
    box.setInformativeText("Your changes will be lost if you don't save them.")
    box.setStandardButtons(
        QMessageBox.StandardButton.Save
        | QMessageBox.StandardButton.Discard
        | QMessageBox.StandardButton.Cancel
    )
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    return {
        QMessageBox.StandardButton.Save: "save",
        QMessageBox.StandardButton.Discard: "discard",
    }.get(QMessageBox.StandardButton(answer), "cancel")


class MainWindow(QMainWindow):
    """The nndesk window: canvas in the middle, panels docked around it.

    Parameters
    ----------
    settings
        Where window layout, recent files and view options persist (tests pass
        ``AppSettings.at_path(tmp)``).
    theme_manager
        The theme source; a system-following one is made when omitted.

    Attributes
    ----------
    ask_unsaved : callable(name) -> "save" | "discard" | "cancel"
        Asked before unsaved changes would be lost; tests replace it.
    notify_error : callable(message)
        Shows a one-sentence error (a message box by default); tests replace it.
    window_dataset : WindowDataset
        Keeps the dataset the network's settings name loaded; ``datasets`` is its
        ``DatasetSource``.

    Signals
    -------
    project_source : callable() -> Project or None, or None
        Supplies what Save writes (the training part's ``project``, with the
        trained state). When it is None or gives None, Save writes the document
        with the weights and history of the file it was opened from.
    view_source : callable() -> dict or None, or None
        Supplies the panels' view state Save writes (``Project.view``: the
        Decision Boundary's plane); None: the opened file's is kept.
    training : TrainingPart or None
        The part that trains the network (``attach_training``): it says what Save
        writes and is stopped when the window closes.

    Signals
    -------
    sig_document_replaced(Document)
        New, Open or Close put another document in the window.
    sig_project_opened(Project)
        A file was opened; carries its weights, history and scaling (connect the
        training controller's ``restore_project``). Sent after
        ``sig_document_replaced``.
    sig_dataset_changed(object)
        The loaded dataset changed (a Dataset, or None).
    sig_shown()
        The window was shown for the first time (it has its real size).
    """

    sig_document_replaced = Signal(object)
    sig_project_opened = Signal(object)
    sig_dataset_changed = Signal(object)
    sig_shown = Signal()
    sig_evaluate_test_requested = Signal()

    def __init__(
        self,
        settings: AppSettings,
        theme_manager: ThemeManager | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("main_window")
        self.settings = settings
        self.theme_manager = theme_manager or ThemeManager(settings.theme_mode, self)
        self.ask_unsaved: Callable[[str], UnsavedAnswer] = lambda name: (
            ask_unsaved_dialog(self, name)
        )
        self.notify_error: Callable[[str], Any] = self._error_dialog
        self.project_source: Callable[[], Project | None] | None = None
        self.view_source: Callable[[], dict[str, Any] | None] | None = None
        self.training: TrainingPart | None = None
        self._opened: Project | None = None
        # Changes the undo stack does not hold (training): unsaved all the same.
        self._trained_since_save = False
        self._shown_once = False
        self.undo_stack = QUndoStack(self)
        self.editor = CanvasEditor(self.undo_stack, self)
        self.actions = Actions(self.undo_stack, self)
        self.window_dataset = WindowDataset(self.editor, self)
        self.datasets = self.window_dataset.source
        self._doc: Document | None = None
        self._path: Path | None = None
        self.docks: dict[str, QDockWidget] = {}
        # Each panel's default place (area, dock it is tabbed with), for Reset Layout.
        self._dock_places: dict[str, tuple[Qt.DockWidgetArea, str | None]] = {}
        self._layout_restored = False
        self.setWindowIcon(app_icon())
        self.setCentralWidget(self.editor.view)
        self.setAcceptDrops(True)
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks
            | QMainWindow.DockOption.AllowTabbedDocks
            | QMainWindow.DockOption.AllowNestedDocks
        )
        self._make_panels()
        self._make_menus()
        self._make_toolbar()
        self._make_status_bar()
        self._connect()
        self._apply_theme(self.theme_manager.theme)
        self.actions.snap_to_grid.setChecked(settings.snap_to_grid)
        self.resize(QSize(1280, 800))
        self._default_dock_sizes()
        self._layout_restored = self.settings.restore_window(self)
        self.set_document(Document())

    # -- building ------------------------------------------------------------------------

    def _make_panels(self) -> None:
        self.palette = PalettePanel()
        self.inspector = InspectorPanel()
        self.problems = ProblemsPanel()
        area = Qt.DockWidgetArea
        self.add_panel(self.palette, "Palette", "palette_dock", area.LeftDockWidgetArea)
        self.add_panel(
            self.inspector, "Inspector", "inspector_dock", area.RightDockWidgetArea
        )
        # Under the palette: the bottom area belongs to training and its plots.
        self.add_panel(
            self.problems, "Problems", "problems_dock", area.LeftDockWidgetArea
        )
        # A tab behind the inspector (View > Panels > Summary brings it forward).
        self.summary = SummaryPanel()
        summary_dock = self.add_panel(
            self.summary,
            "Summary",
            "summary_dock",
            area.RightDockWidgetArea,
            tabify_with="inspector_dock",
        )
        summary_dock.visibilityChanged.connect(self.summary.set_in_view)
        # The dataset: a tab beside the inspector (View > Panels > Data).
        self.data_panel = DataPanel(lambda: self.window_dataset.base_dir)
        self.data_panel.set_painting(self.editor.push)
        self.add_panel(
            self.data_panel,
            "Data",
            "data_dock",
            area.RightDockWidgetArea,
            tabify_with="inspector_dock",
        )
        self.docks["inspector_dock"].raise_()
        # The right column runs the full height, beside the plots rather than over
        # them: at 1280x800 the inspector had room for 1.5 rows (issue 11).
        self.setCorner(
            Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.tab_titles = WholeTabTitles(self)

    def _default_dock_sizes(self) -> None:
        # Logical pixels scaled by the font height, so 2x screens and large fonts fit.
        em = self.fontMetrics().height()
        horizontal, vertical = Qt.Orientation.Horizontal, Qt.Orientation.Vertical
        self.resizeDocks(
            [self.docks["palette_dock"], self.docks["inspector_dock"]],
            [13 * em, 21 * em],
            horizontal,
        )
        self.resizeDocks([self.docks["problems_dock"]], [8 * em], vertical)

    def add_panel(
        self,
        widget: QWidget,
        title: str,
        object_name: str,
        area: Qt.DockWidgetArea = Qt.DockWidgetArea.BottomDockWidgetArea,
        tabify_with: str | None = None,
    ) -> QDockWidget:
        """Dock ``widget`` as a movable, closable panel listed in View > Panels.

        Other parts of the app (training, plots) add their panels here. The
        ``object_name`` must be stable: the saved layout refers to it. A panel
        added after the window restored its layout returns to its saved place;
        View > Reset Layout puts it back in ``area`` (tabbed with ``tabify_with``).

        Returns
        -------
        QDockWidget
            The dock holding ``widget``.
        """
        dock = QDockWidget(title, self)
        dock.setObjectName(object_name)
        # A change inside the panel (a label's text during training) re-lays out
        # the main window only when the panel's size limits changed (see HintGate).
        dock.setWidget(HintGate(widget))
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        if tabify_with is not None and tabify_with in self.docks:
            self.tabifyDockWidget(self.docks[tabify_with], dock)
        self.docks[object_name] = dock
        self._dock_places[object_name] = (area, tabify_with)
        if hasattr(self, "panels_menu"):
            self.panels_menu.addAction(dock.toggleViewAction())
        if self.isVisible():
            dock.show()  # a child added to a shown window starts hidden
        if self._layout_restored:
            # Only with a saved layout: without one, Qt's restore undoes the tabbing.
            self.restoreDockWidget(dock)
        return dock

    def _make_menus(self) -> None:
        a = self.actions
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(a.new)
        self.examples_menu = file_menu.addMenu("New from &Example")
        for example in EXAMPLES.values():
            action = self.examples_menu.addAction(example.title)
            action.setStatusTip(example.description)
            action.setToolTip(example.description)
            action.triggered.connect(
                lambda _=False, n=example.name: self.open_example(n)
            )
        file_menu.addAction(a.open)
        file_menu.addAction(self.data_panel.open_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        file_menu.addActions([a.save, a.save_as])
        self.export_menu = file_menu.addMenu("&Export")
        self.export_menu.addActions([a.export_onnx, a.export_pytorch])
        file_menu.addSeparator()
        file_menu.addActions([a.close, a.quit])

        edit_menu = bar.addMenu("&Edit")
        edit_menu.addActions([a.undo, a.redo])
        edit_menu.addSeparator()
        edit_menu.addActions([a.cut, a.copy, a.paste, a.duplicate, a.delete])
        edit_menu.addSeparator()
        edit_menu.addActions([a.select_all, a.add_node])
        edit_menu.addSeparator()
        edit_menu.addActions([a.group, a.ungroup, a.collapse_group, a.add_note])

        view_menu = bar.addMenu("&View")
        view_menu.addActions([a.zoom_in, a.zoom_out, a.fit])
        view_menu.addSeparator()
        view_menu.addActions([a.auto_layout, a.snap_to_grid])
        view_menu.addSeparator()
        self.panels_menu = view_menu.addMenu("&Panels")
        for dock in self.docks.values():
            self.panels_menu.addAction(dock.toggleViewAction())
        self.theme_menu = view_menu.addMenu("&Theme")
        group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for mode in THEME_MODES:
            action = self.theme_menu.addAction(mode.capitalize())
            action.setCheckable(True)
            action.setChecked(mode == self.theme_manager.mode)
            action.setData(mode)
            group.addAction(action)
            self.theme_actions[mode] = action
        group.triggered.connect(self._on_theme_chosen)
        view_menu.addAction(a.reset_layout)

        help_menu = bar.addMenu("&Help")
        help_menu.addActions([a.help, a.about])
        # The view holds add-node so its Tab shortcut only works on the canvas.
        self.editor.view.addAction(a.add_node)

    def _make_toolbar(self) -> None:
        a = self.actions
        toolbar = QToolBar("Main toolbar", self)
        toolbar.setObjectName("main_toolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        toolbar.addActions([a.new, a.open, a.save])
        toolbar.addSeparator()
        toolbar.addActions([a.undo, a.redo])
        toolbar.addSeparator()
        toolbar.addActions([a.duplicate, a.delete])
        toolbar.addSeparator()
        toolbar.addActions(
            [a.zoom_in, a.zoom_out, a.fit, a.auto_layout, a.snap_to_grid]
        )
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
        self.toolbar = toolbar

    def _make_status_bar(self) -> None:
        bar = self.statusBar()
        self.dataset_label = QLabel(self)
        self.params_label = QLabel(self)
        self.zoom_label = QLabel(self)
        # A busy bar (no known length: a file read reports no progress).
        self.dataset_progress = QProgressBar(self)
        self.dataset_progress.setRange(0, 0)
        self.dataset_progress.setTextVisible(False)
        self.dataset_progress.setMaximumWidth(6 * self.fontMetrics().height())
        self.dataset_progress.setMaximumHeight(self.fontMetrics().height())
        self.dataset_progress.setToolTip("Loading the dataset in the background.")
        self.dataset_progress.hide()
        bar.addPermanentWidget(self.dataset_progress)
        for label in (self.dataset_label, self.params_label, self.zoom_label):
            label.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(label)
        self._on_zoom_changed(1.0)

    def _connect(self) -> None:
        a, editor = self.actions, self.editor
        a.new.triggered.connect(self.new_document)
        a.open.triggered.connect(lambda: self.open_file())
        a.save.triggered.connect(self.save)
        a.save_as.triggered.connect(lambda: self.save_as())
        a.export_onnx.triggered.connect(lambda: self.export_as("onnx"))
        a.export_pytorch.triggered.connect(lambda: self.export_as("pytorch"))
        a.close.triggered.connect(self.close_document)
        a.quit.triggered.connect(self.close)
        a.clear_recent.triggered.connect(self.settings.clear_recent_files)
        a.cut.triggered.connect(editor.cut_selection)
        a.copy.triggered.connect(editor.copy_selection)
        a.paste.triggered.connect(lambda: editor.paste())
        a.duplicate.triggered.connect(editor.duplicate_selection)
        a.delete.triggered.connect(editor.delete_selection)
        a.select_all.triggered.connect(editor.select_all)
        a.group.triggered.connect(lambda: editor.group_selection())
        a.ungroup.triggered.connect(editor.ungroup_selection)
        a.collapse_group.triggered.connect(editor.toggle_selected_groups)
        a.add_note.triggered.connect(lambda: editor.add_note())
        a.add_node.triggered.connect(self._on_add_node_action)
        a.zoom_in.triggered.connect(editor.view.zoom_in)
        a.zoom_out.triggered.connect(editor.view.zoom_out)
        a.fit.triggered.connect(lambda: editor.view.fit_to_view())
        a.auto_layout.triggered.connect(editor.auto_layout)
        a.snap_to_grid.toggled.connect(self._on_snap_toggled)
        a.reset_layout.triggered.connect(self.reset_layout)
        a.help.triggered.connect(self.show_help)
        a.about.triggered.connect(self.show_about)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        editor.sig_message.connect(self._on_editor_message)
        editor.sig_selection_changed.connect(self.inspector.show_selection)
        editor.scene.sig_status_changed.connect(self._on_status_changed)
        editor.view.sig_file_drop_requested.connect(self.open_file)
        editor.view.sig_zoom_changed.connect(self._on_zoom_changed)
        self.palette.sig_add_requested.connect(self._on_palette_add)
        self.inspector.sig_param_edited.connect(editor.set_param)
        self.inspector.sig_label_edited.connect(editor.set_label)
        self.inspector.sig_setting_edited.connect(self.edit_setting)
        self.problems.sig_node_activated.connect(editor.focus_node)
        self.theme_manager.sig_theme_changed.connect(self._apply_theme)
        self.window_dataset.sig_changed.connect(self.sig_dataset_changed)
        self.window_dataset.sig_status_changed.connect(self._update_dataset_label)
        self.window_dataset.sig_status_changed.connect(self._show_problems)
        self.window_dataset.sig_loaded.connect(self._on_dataset_loaded)
        self.window_dataset.sig_error.connect(self._on_dataset_error)
        self.datasets.sig_busy_changed.connect(self._on_dataset_busy_changed)
        self.window_dataset.sig_status_changed.connect(self._show_data_status)
        self.datasets.sig_busy_changed.connect(self._show_data_status)
        self.data_panel.sig_settings_edited.connect(self.window_dataset.edit_settings)
        self.data_panel.sig_evaluate_test_requested.connect(
            self.sig_evaluate_test_requested
        )

    # -- the document ----------------------------------------------------------------------

    @property
    def document(self) -> Document | None:
        """The network shown."""
        return self._doc

    @property
    def path(self) -> Path | None:
        """The file the network was opened from or saved to (None: never saved)."""
        return self._path

    def set_document(self, doc: Document, path: Path | None = None) -> None:
        """Show ``doc`` (from ``path``), with a fresh undo history and its dataset."""
        self._doc = doc
        self._path = Path(path) if path is not None else None
        self._opened = None
        self.undo_stack.clear()
        self._trained_since_save = False
        self.editor.set_document(doc)
        self.inspector.set_document(doc)
        self.summary.set_document(doc)
        self.window_dataset.set_document(doc, self._base_dir())
        self.data_panel.set_document(doc)
        self.undo_stack.setClean()
        self.setWindowModified(False)
        self._update_title()
        self.reload_dataset()
        self.editor.view.show_network()
        # The viewport has its final size only once the window is laid out.
        QTimer.singleShot(0, self._fit_view)
        self.sig_document_replaced.emit(doc)

    def _fit_view(self) -> None:
        if self._doc is not None and self.editor.scene.document is self._doc:
            self.editor.view.show_network()

    def display_name(self) -> str:
        """The file name, or "Untitled" for a network never saved."""
        return self._path.name if self._path is not None else "Untitled"

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.display_name()}[*] — nndesk")

    def is_modified(self) -> bool:
        """Whether there are unsaved changes (edits, or training since the save)."""
        return self._trained_since_save or not self.undo_stack.isClean()

    def mark_modified(self) -> None:
        """Note a change the undo stack does not hold: training changed the weights
        (the title shows [*]; New, Open, Close and Quit ask first)."""
        if not self._trained_since_save:
            self._trained_since_save = True
            self.setWindowModified(True)

    def attach_training(self, part: TrainingPart) -> None:
        """Let ``part`` supply what Save writes and stop it when the window closes."""
        self.training = part
        self.project_source = part.project

    def maybe_save(self) -> bool:
        """Before unsaved changes would be lost: ask, and save if asked to.

        Returns False when the user cancels (or saving fails): keep everything.
        """
        if not self.is_modified():
            return True
        answer = self.ask_unsaved(self.display_name())
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new_document(self) -> bool:
        """File > New: an empty network (after asking about unsaved changes)."""
        if not self.maybe_save():
            return False
        self.set_document(Document())
        return True

    def open_example(self, name: str) -> bool:
        """File > New from Example: a fresh copy of a built-in network."""
        if not self.maybe_save():
            return False
        self.set_document(EXAMPLES[name].build())
        return True

    def close_document(self) -> bool:
        """File > Close: leave an empty, untitled network."""
        return self.new_document()

    def open_file(self, path: str | Path | None = None) -> bool:
        """Open a network file (asks for one when ``path`` is None)."""
        if not self.maybe_save():
            return False
        if path is None:
            start = str(self._path.parent) if self._path is not None else ""
            chosen, _ = QFileDialog.getOpenFileName(
                self, "Open network", start, OPEN_FILTER
            )
            if not chosen:
                return False
            path = chosen
        path = Path(path)
        try:
            project = load_network(path)
        except NNDeskError as exc:
            self.show_error(str(exc))
            self.settings.remove_recent_file(path)
            return False
        imported = is_onnx(path)  # a new network: Save asks where to keep it
        self.set_document(project.document, None if imported else path)
        self._opened = project
        if imported:
            self.mark_modified()
        self.sig_project_opened.emit(project)
        self.settings.add_recent_file(path)
        self.statusBar().showMessage(
            f"Imported {path.name}: save it to keep it as a network file."
            if imported
            else f"Opened {path.name}.",
            5000,
        )
        return True

    def save(self) -> bool:
        """File > Save (Save As when the network has no file yet)."""
        if self._path is None:
            return self.save_as()
        return self._write(self._path)

    def save_as(self, path: str | Path | None = None) -> bool:
        """File > Save As (asks for a name when ``path`` is None)."""
        if path is None:
            start = (
                str(self._path)
                if self._path is not None
                else "network" + PROJECT_SUFFIX
            )
            chosen, _ = QFileDialog.getSaveFileName(
                self, "Save network", start, FILE_FILTER
            )
            if not chosen:
                return False
            path = chosen
        return self._write(with_suffix(path))

    def current_project(self) -> Project:
        """What Save writes now: the trained state the window shows, or the
        document with what still fits of the file it came from."""
        assert self._doc is not None
        project = self.project_source() if self.project_source else None
        if project is None:
            project = carry_over(self._opened, self._doc)
        if self.view_source is not None:
            project.view = self.view_source()  # a fresh Project each time
        return project

    def export_base_dir(self) -> Path | None:
        """The folder relative dataset paths are relative to (the file's)."""
        return self._base_dir()

    def export_stem(self) -> str:
        """The file name an export suggests, without suffix."""
        return self._path.stem if self._path is not None else "network"

    def export_as(self, fmt: str, path: str | Path | None = None) -> bool:
        """File > Export > ONNX… or PyTorch Project… (``fmt`` "onnx" or "pytorch";
        asks for a path when ``path`` is None)."""
        if self._doc is None:
            return False
        return export_network(self, fmt, path)

    def _write(self, path: Path) -> bool:
        assert self._doc is not None
        try:
            project = self.current_project()
            project = self.window_dataset.rebased(project, path.parent)
            save_network(path, project)
        except NNDeskError as exc:
            self.show_error(str(exc))
            return False
        self._path = path
        self._trained_since_save = False
        self.undo_stack.setClean()
        self.setWindowModified(False)
        self._update_title()
        self.settings.add_recent_file(path)
        self.statusBar().showMessage(f"Saved {path.name}.", 5000)
        self.window_dataset.set_base_dir(path.parent)  # relative paths follow
        return True

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.settings.recent_files()
        for i, name in enumerate(files):
            action = self.recent_menu.addAction(f"&{i + 1} {Path(name).name}")
            action.setToolTip(name)
            action.setStatusTip(name)
            action.triggered.connect(lambda _=False, p=name: self.open_file(p))
        if not files:
            empty = self.recent_menu.addAction("No recent files")
            empty.setEnabled(False)
        self.recent_menu.addSeparator()
        self.recent_menu.addAction(self.actions.clear_recent)

    # -- dataset -----------------------------------------------------------------------------

    @property
    def dataset(self) -> Dataset | None:
        """The dataset the settings name (None: none chosen, loading, or failed)."""
        return self.window_dataset.dataset

    @property
    def dataset_error(self) -> str | None:
        """Why the dataset the settings name did not load (one sentence), or None."""
        return self.window_dataset.error

    @property
    def dataset_loading(self) -> bool:
        """Whether the dataset the settings name is loading in the background."""
        return self.window_dataset.loading

    def _base_dir(self) -> Path | None:
        return self._path.parent if self._path is not None else None

    def reload_dataset(self, wait: bool = False) -> Dataset | None:
        """Load the dataset the settings name (cached); a failure goes to the
        Problems list and the status bar, never a dialog (``_on_dataset_error``).

        Small datasets (generators, small files) load at once. A big file loads in
        the background: this returns None, ``dataset`` is None and the status bar
        shows a busy bar until ``sig_dataset_changed`` brings it. A newer reload
        supersedes one under way.

        Parameters
        ----------
        wait
            Load a big dataset before returning (blocks the window meanwhile).
        """
        return self.window_dataset.reload(wait)

    def wait_for_dataset(self, timeout_ms: int = 60_000) -> Dataset | None:
        """Wait (running the event loop) until a background load ends; the dataset.

        For scripts, tests and the self-test; returns at once when nothing loads.
        """
        return self.window_dataset.wait(timeout_ms)

    def edit_setting(self, name: str, value: Any) -> bool:
        """An edit of a network setting. Changing the dataset also sets the Input
        node's shape to the new data's, in the same undo step (see
        ``WindowDataset.edit_setting``)."""
        return self.window_dataset.edit_setting(name, value)

    def _on_dataset_loaded(self, dataset: Dataset) -> None:
        self.statusBar().showMessage(f"Loaded {dataset.name}.", 3000)

    def _on_dataset_busy_changed(self, busy: bool) -> None:
        self.dataset_progress.setVisible(busy)
        self._update_dataset_label()

    def _on_dataset_error(self, message: str) -> None:
        # The dataset the settings name did not load. The Problems list holds the
        # reader's sentence; the status bar names the dataset. No dialog: a user
        # typing a path into the settings would get one per keystroke (issue 19).
        # Not a warning in the log either: it is the user's input, not a fault.
        log.info("dataset: %s", message)
        spec = str(self._doc.settings.get("dataset", "")) if self._doc else ""
        if len(spec) > DATASET_NAME_SHOWN:
            spec = "…" + spec[-(DATASET_NAME_SHOWN - 1) :]  # the end names the file
        self.statusBar().showMessage(
            f"Dataset '{spec}' did not load; the Problems panel says why.", 10000
        )

    def _show_data_status(self, *_args: object) -> None:
        self.data_panel.show_status(
            self.dataset, self.dataset_error, self.dataset_loading
        )

    def _update_dataset_label(self) -> None:
        text, tooltip = self.window_dataset.describe()
        self.dataset_label.setText(text)
        self.dataset_label.setToolTip(tooltip)
        data = self.window_dataset.dataset
        self.inspector.set_data_shape(None if data is None else data.input_shape)

    # -- errors and messages ------------------------------------------------------------------

    def show_error(self, message: str) -> None:
        """Show one sentence: in the status bar and through ``notify_error``."""
        log.warning("%s", message)
        self.statusBar().showMessage(message, 10000)
        self.notify_error(message)

    def _error_dialog(self, message: str) -> None:
        QMessageBox.warning(self, "nndesk", message)

    def _on_editor_message(self, text: str) -> None:
        if text:
            self.statusBar().showMessage(text, 8000)
        else:
            self.statusBar().clearMessage()

    def _on_status_changed(self, status: GraphStatus) -> None:
        self.params_label.setText(format_count(status.total_params))
        self.params_label.setToolTip(
            f"{status.total_params:,} parameters (weights and biases) in all"
        )
        self._show_problems()

    def _show_problems(self) -> None:
        # The graph's problems and the dataset's (a file that failed to load).
        problems = self.editor.scene.status.problems + self.window_dataset.problems()
        self.problems.set_problems(problems)
        errors = sum(p.is_error for p in problems)
        title = "Problems" if not errors else f"Problems ({errors})"
        self.docks["problems_dock"].setWindowTitle(title)

    def _on_zoom_changed(self, scale: float) -> None:
        self.zoom_label.setText(f"{scale * 100:.0f}%")

    # -- view ---------------------------------------------------------------------------------

    def _apply_theme(self, theme: Theme) -> None:
        self.editor.scene.set_theme(theme)
        self.editor.view.set_theme(theme)
        self.palette.set_theme(theme)
        self.actions.apply_theme(theme)

    def _on_theme_chosen(self, action: QAction) -> None:
        mode = str(action.data())
        self.settings.theme_mode = mode
        self.theme_manager.set_mode(mode)

    def _on_snap_toggled(self, on: bool) -> None:
        self.editor.scene.set_grid_snap(GRID_SIZE if on else 0.0)
        self.settings.snap_to_grid = on

    def _on_palette_add(self, type_name: str) -> None:
        add_after_selection(self.editor, type_name)
        self.editor.view.setFocus()

    def _on_add_node_action(self) -> None:
        self.editor.open_search(self.editor.view.search_anchor())

    def reset_layout(self) -> None:
        """Put every panel back in the place it was added in (View > Reset Layout)."""
        # Re-adding in the order of creation rebuilds the same splits; tabs after.
        for name, dock in self.docks.items():
            dock.setFloating(False)
            self.addDockWidget(self._dock_places[name][0], dock)
            dock.show()
        heads = []
        for name, dock in self.docks.items():
            head = self._dock_places[name][1]
            if head is not None and head in self.docks:
                self.tabifyDockWidget(self.docks[head], dock)
                heads.append(self.docks[head])
        for dock in heads:
            dock.raise_()
        self._default_dock_sizes()
        self.toolbar.show()
        self.settings.clear_window()

    def show_help(self) -> None:
        """Help > nndesk Help: the essentials of the editor."""
        QMessageBox.information(
            self,
            "nndesk help",
            "<p><b>Build</b>: drag node types from the palette onto the canvas, or "
            "press Tab on the canvas and type. Drag from an output port (right) to "
            "an input port (left) to connect.</p>"
            "<p><b>Edit</b>: select a node to edit it in the inspector; with nothing "
            "selected the inspector shows the dataset and training settings.</p>"
            "<p><b>Navigate</b>: wheel to zoom, middle button or Space+drag to pan, "
            "Ctrl+0 to fit.</p>" + gestures_html(),
        )

    def show_about(self) -> None:
        """Help > About."""
        QMessageBox.about(
            self,
            "About nndesk",
            f"<p><b>nndesk {__version__}</b></p>"
            "<p>A desktop workbench for neural networks: design by drawing, "
            "train in the background, watch it learn.</p>",
        )

    # -- window events ------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if project_path_from_mime(mime) or data_path_from_mime(mime):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        # A network file opens; a data file (or IDX folder) becomes the dataset.
        mime = event.mimeData()
        path = project_path_from_mime(mime)
        data = data_path_from_mime(mime) if not path else None
        if path:
            event.acceptProposedAction()
            self.open_file(path)
        elif data:
            event.acceptProposedAction()
            if self.data_panel.use_path(data):
                self.docks["data_dock"].show()
                self.docks["data_dock"].raise_()
        else:
            event.ignore()

    def closeEvent(self, event: QCloseEvent) -> None:
        # Ask first (Save copies a running run's state); stop training only if the
        # window really closes.
        if not self.maybe_save():
            event.ignore()
            return
        self.settings.save_window(self)
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop training, stop following the document and wait for dataset loads
        (before the window is destroyed)."""
        if self.training is not None:
            self.training.shutdown()
        self.window_dataset.shutdown()
        self.editor.set_document(None)
        self.inspector.set_document(None)
        self.summary.set_document(None)
        self.data_panel.set_document(None)
        self.editor.popup.hide()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self._fit_view)
        if not self._shown_once:
            self._shown_once = True
            self.sig_shown.emit()

    def _on_clean_changed(self, clean: bool) -> None:
        self.setWindowModified(not clean or self._trained_since_save)
