"""The Data panel: choose, preview and split the dataset of the network.

The panel is a view of the document's dataset settings (``dataset``, the spec
string, ``dataset_target``, ``validation_split``, ``test_split``, ``scaling``):
every widget shows them, and every change the user makes leaves the panel as one
request, ``sig_settings_edited({name: value, ...}, text)``, which the window turns
into one undoable edit (``WindowDataset.edit_settings``). The panel never loads a
dataset itself but for the quick preview of a generator whose widgets are moving
(capped at ``MAX_POINTS`` samples, debounced); the window loads the real one (big
files in a background thread) and hands it over with ``show_status``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from nndesk.document import events as ev
from nndesk.document.graph import Document
from nndesk.document.settings import SCALINGS
from nndesk.engine.errors import NNDeskError
from nndesk.io.datasets import (
    GENERATORS,
    Dataset,
    DatasetError,
    data_search_path,
    load_dataset,
)
from nndesk.training.data import split_fractions

from ..paint import PaintWidget, Push, start_painting
from .classes import ClassChooser, class_spec
from .fields import GeneratorField
from .preview import MAX_POINTS, DataPreview, class_counts_text
from .sources import (
    DATA_FILE_FILTER,
    PAINTED,
    CsvHead,
    SourceChoice,
    csv_head,
    data_path_kind,
    describe,
    exists,
    file_spec,
    generator_spec,
    option_params,
    options_description,
    options_spec,
    preview_spec,
    text_spec,
)

log = logging.getLogger(__name__)

__all__ = ["DataPanel"]

PREVIEW_DELAY_MS = 120
"""A moving widget redraws the preview at most this often."""
COMMIT_DELAY_MS = 600
"""A widget that stopped moving for this long becomes a document edit (a slider
commits when released: one drag, one undo step)."""
PANEL_SETTINGS = ("dataset", "dataset_target", "validation_split", "test_split",
                  "scaling", "seed")  # fmt: skip
_FILE_ITEM = "file"
_TEXT_ITEM = "text"
_OWN_TEST_KINDS = ("npz", "idx")


class DataPanel(QWidget):
    """Dataset source, its options, preview, splits and scaling.

    Parameters
    ----------
    base_dir
        Gives the folder relative dataset paths are relative to (the network
        file's; None for a network never saved).

    Attributes
    ----------
    open_action : QAction
        File > Open Data File… (Ctrl+Shift+O): the file dialog.
    paint_widget : PaintWidget or None
        The painting of the ``painted`` dataset (``nndesk.ui.panels.paint``),
        shown in the preview while that is the source; made once
        ``set_painting`` gave the edit door. Without it the painted points are
        shown read-only.

    Signals
    -------
    sig_settings_edited(object, str)
        ``{setting: value}`` and the undo text: one edit the user made.
    sig_evaluate_test_requested()
        Evaluate on Test Split was pressed.
    """

    sig_settings_edited = Signal(object, str)
    sig_evaluate_test_requested = Signal()

    def __init__(
        self,
        base_dir: Callable[[], Path | None] = lambda: None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("data_panel")
        self._base_dir = base_dir
        self.paint_widget: PaintWidget | None = None
        self._push: Push | None = None
        self._doc: Document | None = None
        self._dataset: Dataset | None = None
        self._error: str | None = None
        self._loading = False
        self._choice = SourceChoice("none")
        self._head: CsvHead | None = None
        self._trial: str | None = None  # a generator spec not committed yet
        self._fields: list[GeneratorField] = []
        self._build()
        self._preview_timer = _single_shot(self, PREVIEW_DELAY_MS, self._show_trial)
        self._commit_timer = _single_shot(self, COMMIT_DELAY_MS, self._commit_trial)
        self.set_document(None)

    # --- building ------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        # The panel follows the dock's width; only its height scrolls.
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(scroll)
        body = QWidget(scroll)
        scroll.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)

        self.source_combo = QComboBox(body)
        self.source_combo.setObjectName("data_source")
        self.source_combo.setToolTip("Where the training data comes from")
        for spec in GENERATORS.values():
            self.source_combo.addItem(spec.name.capitalize(), f"generator:{spec.name}")
            index = self.source_combo.count() - 1
            self.source_combo.setItemData(
                index, spec.description, Qt.ItemDataRole.ToolTipRole
            )
        self.source_combo.insertSeparator(self.source_combo.count())
        self.source_combo.addItem("Paint your own…", f"painted:{PAINTED}")
        self.source_combo.addItem("Text (characters)", f"text:{_TEXT_ITEM}")
        self.source_combo.setItemData(
            self.source_combo.count() - 1,
            "A window of characters -> the next one; Python's documentation, or "
            "text:path=FILE in the spec line",
            Qt.ItemDataRole.ToolTipRole,
        )
        self.source_combo.addItem("Data file…", f"{_FILE_ITEM}:")
        self.source_combo.activated.connect(self._on_source_activated)

        self.open_action = QAction("Open &Data File…", self)
        self.open_action.setShortcut(QKeySequence("Ctrl+Shift+O"))
        self.open_action.setStatusTip(
            "Choose a CSV, NPZ or MNIST IDX file as the dataset"
        )
        self.open_action.triggered.connect(lambda: self.open_data_file())
        self.open_button = QPushButton("Open data file…", body)
        self.open_button.setToolTip("CSV, NPZ or MNIST IDX file (Ctrl+Shift+O)")
        self.open_button.clicked.connect(lambda: self.open_data_file())
        self.folder_button = QPushButton("IDX folder…", body)
        self.folder_button.setToolTip("A folder holding MNIST-style IDX files")
        self.folder_button.clicked.connect(lambda: self.open_data_folder())
        row = QHBoxLayout()
        row.addWidget(self.source_combo, 1)
        layout.addLayout(row)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.folder_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)

        self.error_label = QLabel(body)
        self.error_label.setObjectName("data_error")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.error_label.setStyleSheet("color: #c0392b;")
        self.error_label.hide()
        layout.addWidget(self.error_label)

        self.description = QLabel(body)
        self.description.setWordWrap(True)
        layout.addWidget(self.description)

        self.options_form = QFormLayout()
        self.options_form.setFieldGrowthPolicy(
            QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow
        )
        layout.addLayout(self.options_form)
        self.target_combo = QComboBox(body)
        self.target_combo.setObjectName("target_column")
        self.target_combo.setToolTip("The column the network learns to predict")
        self.target_combo.activated.connect(self._on_target_activated)
        self.target_label = QLabel("Target column", body)
        target_row = QHBoxLayout()
        target_row.addWidget(self.target_label)
        target_row.addWidget(self.target_combo, 1)
        layout.addLayout(target_row)
        self.class_chooser = ClassChooser(body)  # IDX images: one class or all
        self.class_chooser.sig_class_chosen.connect(self._on_class_chosen)
        layout.addWidget(self.class_chooser)

        self.busy = QProgressBar(body)
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(self.fontMetrics().height() // 2 + 2)
        self.busy.hide()
        layout.addWidget(self.busy)
        self.preview = DataPreview(body)
        layout.addWidget(self.preview, 1)

        layout.addWidget(_heading("Splits and scaling", body))
        form = QFormLayout()
        self.val_spin = _fraction_spin(body, "validation_split")
        self.test_spin = _fraction_spin(body, "test_split")
        self.val_spin.setToolTip("Held out to validate after each epoch")
        self.test_spin.setToolTip(
            "Held out as a test set that training never sees; scored only when "
            "you press Evaluate on Test Split"
        )
        self.val_spin.valueChanged.connect(
            lambda v: self._on_fraction_changed("validation_split", v)
        )
        self.test_spin.valueChanged.connect(
            lambda v: self._on_fraction_changed("test_split", v)
        )
        self.scaling_combo = QComboBox(body)
        self.scaling_combo.setObjectName("scaling")
        self.scaling_combo.addItems(list(SCALINGS))
        self.scaling_combo.setToolTip(
            "Fitted on the training part: none, standard (zero mean, unit "
            "variance) or minmax (0 to 1)"
        )
        self.scaling_combo.activated.connect(self._on_scaling_activated)
        form.addRow("Validation", self.val_spin)
        form.addRow("Test", self.test_spin)
        form.addRow("Scaling", self.scaling_combo)
        layout.addLayout(form)
        self.split_label = QLabel(body)
        self.split_label.setObjectName("split_sizes")
        self.split_label.setWordWrap(True)
        layout.addWidget(self.split_label)
        self.evaluate_test_button = QPushButton("Evaluate on Test Split", body)
        self.evaluate_test_button.setToolTip(
            "Score the network on the held-out test samples (Evaluation panel)"
        )
        self.evaluate_test_button.clicked.connect(self.sig_evaluate_test_requested)
        layout.addWidget(self.evaluate_test_button)

        layout.addWidget(_heading("Spec", body))
        self.spec_edit = QLineEdit(body)
        self.spec_edit.setObjectName("dataset_spec")
        self.spec_edit.setPlaceholderText("spiral:n=400,noise=0.1 or a file path")
        self.spec_edit.setToolTip(
            "What the network file stores: a generator spec or a data path with "
            "options (docs/datasets.md); Enter applies it"
        )
        self.spec_edit.editingFinished.connect(self._on_spec_edited)
        layout.addWidget(self.spec_edit)

    # --- the document --------------------------------------------------------------------
    def set_document(self, doc: Document | None) -> None:
        """Follow ``doc``'s dataset settings (None: show nothing)."""
        if self._doc is not None:
            self._doc.events.settings_changed.disconnect(self._on_settings_changed)
        self._doc = doc
        self._trial = None
        self._preview_timer.stop()
        self._commit_timer.stop()
        self._dataset, self._error = None, None
        if doc is not None:
            doc.events.settings_changed.connect(self._on_settings_changed)
        if self.paint_widget is not None:
            self.paint_widget.set_document(doc)
        self.setEnabled(doc is not None)
        self._refresh()

    def set_painting(self, push: Push) -> None:
        """Let "Paint your own…" and the paint widget edit the document through
        ``push`` (the canvas editor's: one undo step per stroke)."""
        self._push = push

    def show_status(
        self, dataset: Dataset | None, error: str | None, loading: bool
    ) -> None:
        """What the window has loaded for the settings: the dataset, or the
        sentence saying why it did not load, or that it is loading."""
        self._dataset, self._error, self._loading = dataset, error, loading
        self._show_error(error)
        self.busy.setVisible(loading)
        if self._trial is None:
            self._show_loaded()
        self._update_splits()

    def _on_settings_changed(self, event: ev.SettingsChanged) -> None:
        if event.name in PANEL_SETTINGS:
            self._refresh()

    def _settings(self) -> Mapping[str, Any]:
        return self._doc.settings if self._doc is not None else {}

    def _refresh(self) -> None:
        """Show the document's settings in every widget."""
        settings = self._settings()
        spec = str(settings.get("dataset", ""))
        choice = describe(spec)
        rebuild = (choice.kind, choice.head) != (self._choice.kind, self._choice.head)
        self._choice = choice
        if self._trial is not None and self._trial != spec:
            self._trial = None  # an undo or a typed spec overrides the moving widgets
            self._commit_timer.stop()
        with QSignalBlocker(self.spec_edit):
            if not self.spec_edit.hasFocus():
                self.spec_edit.setText(spec)
        self._select_source(choice)
        if rebuild or option_params(choice):
            self._show_options(choice)
        self._show_target(choice, settings)
        self.class_chooser.show_choice(choice, self._file_kind() == "idx")
        for spin, name in ((self.val_spin, "validation_split"),
                           (self.test_spin, "test_split")):  # fmt: skip
            with QSignalBlocker(spin):
                spin.setValue(float(settings.get(name, 0.0)))
        with QSignalBlocker(self.scaling_combo):
            self.scaling_combo.setCurrentText(str(settings.get("scaling", "none")))
        if self._trial is None:
            self._show_loaded()
        self._update_splits()

    # --- the source ----------------------------------------------------------------------
    def _select_source(self, choice: SourceChoice) -> None:
        combo = self.source_combo
        file_index = combo.findData(f"{_FILE_ITEM}:")
        if file_index < 0:
            file_index = combo.count() - 1
        if choice.kind in ("file", "custom"):
            name = Path(choice.head).name or choice.head
            text = f"File: {name}" if choice.kind == "file" else "Custom spec"
        else:
            text = "Data file…"
        combo.setItemText(file_index, text)
        with QSignalBlocker(combo):
            if choice.kind == "generator":
                combo.setCurrentIndex(combo.findData(f"generator:{choice.head}"))
            elif choice.kind == "painted":
                combo.setCurrentIndex(combo.findData(f"painted:{PAINTED}"))
            elif choice.kind == "text":
                combo.setCurrentIndex(combo.findData(f"text:{_TEXT_ITEM}"))
            elif choice.kind == "none":
                combo.setCurrentIndex(-1)
            else:
                combo.setCurrentIndex(file_index)
        combo.setToolTip(choice.head or "No dataset chosen")

    def _on_source_activated(self, index: int) -> None:
        kind, _, name = str(self.source_combo.itemData(index)).partition(":")
        if kind == "generator":
            keep = {}
            if self._choice.kind == "generator":
                keep = {k: v for k, v in self._choice.options.items() if k == "seed"}
            spec = generator_spec(name, GENERATORS[name].defaults(), keep)
            self._commit({"dataset": spec, "dataset_target": ""}, f"Use {name} data")
        elif kind == "painted":
            self.start_painting()
        elif kind == "text":
            values = {"dataset": text_spec(), "dataset_target": ""}
            self._commit(values, "Use text data")
        elif not self.open_data_file():
            self._select_source(self._choice)  # cancelled: show what it still is

    def start_painting(self) -> bool:
        """ "Paint your own…": the painted points become the dataset (one undo
        step), starting from the points painted before, else from the current 2-D
        dataset's points (Clear empties the canvas), else from an empty one."""
        doc, push = self._doc, self._push
        if doc is None:
            return False
        if push is None:
            return self._commit({"dataset": PAINTED, "dataset_target": ""}, "Paint")
        dataset = self._dataset
        if dataset is not None and dataset.input_shape != (2,):
            dataset = None
        try:
            done = start_painting(push, doc, dataset, keep=True)
        except NNDeskError as exc:
            self._show_error(str(exc))
            done = False
        if not done:
            self._select_source(self._choice)
        return done

    def open_data_file(self) -> bool:
        """Ask for a CSV, NPZ or IDX file and make it the dataset (one undo step).

        Returns False when the dialog was cancelled or the edit refused.
        """
        chosen, _ = QFileDialog.getOpenFileName(
            self, "Open data file", self._start_folder(), DATA_FILE_FILTER
        )
        return bool(chosen) and self.use_path(chosen)

    def open_data_folder(self) -> bool:
        """Ask for a folder of MNIST-style IDX files and make it the dataset."""
        chosen = QFileDialog.getExistingDirectory(
            self, "Open IDX folder", self._start_folder()
        )
        return bool(chosen) and self.use_path(chosen)

    def use_path(self, path: str | Path) -> bool:
        """Make the data file or IDX folder at ``path`` the dataset (one undo
        step; a CSV's target is its last column until another is chosen). The
        spec names it relative to the network file's folder when it is saved."""
        text = self._spec_path(Path(path))
        try:
            spec = file_spec(text)
        except DatasetError as exc:
            self._show_error(str(exc))
            return False
        name = Path(path).name
        return self._commit({"dataset": spec, "dataset_target": ""}, f"Use {name}")

    def _spec_path(self, path: Path) -> str:
        base = self._base_dir()
        path = path.expanduser().absolute()
        if base is not None:
            try:
                return os.path.relpath(path, base)
            except ValueError:  # another drive
                pass
        return str(path)

    def _start_folder(self) -> str:
        if self._choice.kind == "file":
            path = self._resolve(self._choice.head)
            if path is not None:
                return str(path.parent)
        base = self._base_dir()
        return str(base) if base is not None else ""

    def _resolve(self, head: str) -> Path | None:
        """The file or folder a spec head names, where the reader looks for it
        (the network's folder, then the data folders for a bare name)."""
        path = Path(head).expanduser()
        base = self._base_dir()
        if not path.is_absolute() and base is not None:
            path = base / path
        if exists(path):
            return path
        if not any(sep in head for sep in "/\\") and not head.startswith("."):
            for folder in data_search_path():
                if exists(folder / head):
                    return folder / head
        return None

    def _file_kind(self) -> str:
        """``"csv"``, ``"npz"`` or ``"idx"`` for a file source, else ""."""
        if self._choice.kind != "file":
            return ""
        path = self._resolve(self._choice.head)
        return data_path_kind(path) if path is not None else self._choice.file_kind

    # --- generator options -------------------------------------------------------------------
    def _show_options(self, choice: SourceChoice) -> None:
        params = option_params(choice)
        if params:
            if choice.kind == "generator":
                self.description.setText(GENERATORS[choice.head].description)
            else:
                self.description.setText(options_description(choice))
            names = [f.spec.name for f in self._fields]
            if names != [p.name for p in params]:
                self._clear_options()
                for p in params:
                    field = GeneratorField(p, self)
                    field.sig_moved.connect(self._on_option_moved)
                    field.sig_committed.connect(self._on_option_committed)
                    self.options_form.addRow(field.label_text(), field)
                    self._fields.append(field)
            defaults = {p.name: p.default for p in params}
            for field in self._fields:
                text = choice.options.get(field.spec.name)
                field.set_value(
                    defaults[field.spec.name] if text is None else float(text)
                )
            return
        self._clear_options()
        self.description.setText(
            {
                "none": "No dataset is chosen: pick a generator or open a data file.",
                "painted": "Points painted by hand, stored in the network file.",
                "custom": "A spec the form cannot show; edit it below.",
            }.get(choice.kind, "")
        )

    def _clear_options(self) -> None:
        while self.options_form.rowCount():
            self.options_form.removeRow(0)
        self._fields = []

    def _trial_spec(self) -> str:
        values = {f.spec.name: f.value() for f in self._fields}
        return options_spec(self._choice, values)

    def _on_option_moved(self) -> None:
        """A widget moves: preview soon, commit once it rests (or is released)."""
        if not option_params(self._choice):
            return
        self._trial = self._trial_spec()
        self._preview_timer.start()
        if any(f.dragging for f in self._fields):
            self._commit_timer.stop()
        else:
            self._commit_timer.start()

    def _on_option_committed(self) -> None:
        self._on_option_moved()
        self._commit_timer.stop()
        self._show_trial()
        self._commit_trial()

    def _show_trial(self) -> None:
        self._preview_timer.stop()
        if self._trial is None or self._choice.kind != "generator":
            return  # a file or text is previewed once the edit has loaded it
        seed = int(self._settings().get("seed", 0))
        shown = preview_spec(self._trial, MAX_POINTS)
        try:
            dataset = load_dataset(shown, seed=seed)
        except NNDeskError as exc:
            self._show_error(str(exc))
            return
        self._show_error(None)
        note = ""
        if shown != self._trial:
            note = f"Preview of {MAX_POINTS:,} samples; the dataset has more."
        self.preview.show_dataset(dataset, note)

    def _commit_trial(self) -> None:
        self._commit_timer.stop()
        trial, self._trial = self._trial, None
        if trial is not None and trial != self._settings().get("dataset"):
            self._commit({"dataset": trial}, f"Set {self._choice.head} options")

    # --- CSV target ------------------------------------------------------------------------------
    def _show_target(self, choice: SourceChoice, settings: Mapping[str, Any]) -> None:
        self._head = None
        combo = self.target_combo
        with QSignalBlocker(combo):
            combo.clear()
        is_csv = self._file_kind() == "csv"
        self.target_combo.setVisible(is_csv)
        self.target_label.setVisible(is_csv)
        if not is_csv:
            return
        path = self._resolve(choice.head)
        if path is None:
            return  # the load says it does not exist
        try:
            self._head = csv_head(path)
        except DatasetError as exc:
            log.info("no CSV head: %s", exc)
            return
        head = self._head
        with QSignalBlocker(combo):
            for j, (name, kind) in enumerate(
                zip(head.columns, head.types, strict=True)
            ):
                combo.addItem(f"{name} ({kind})", name if head.has_header else str(j))
            combo.setCurrentIndex(self._target_index(choice, settings))

    def _target_index(self, choice: SourceChoice, settings: Mapping[str, Any]) -> int:
        head = self._head
        assert head is not None
        wanted = choice.options.get("target") or str(settings.get("dataset_target", ""))
        if not wanted:
            return len(head.columns) - 1
        if wanted in head.columns:
            return head.columns.index(wanted)
        if wanted.lstrip("-").isdigit() and -len(head.columns) <= int(wanted) < len(
            head.columns
        ):
            return int(wanted) % len(head.columns)
        return len(head.columns) - 1

    def _on_target_activated(self, index: int) -> None:
        choice = self._choice
        value = str(self.target_combo.itemData(index))
        options = {**choice.options, "target": value}
        try:
            spec = file_spec(choice.head, options)
            values = {"dataset": spec, "dataset_target": ""}
        except DatasetError:
            # A column name a spec cannot carry (',' '=' ':'): the setting holds it.
            options.pop("target")
            values = {
                "dataset": file_spec(choice.head, options),
                "dataset_target": value,
            }
        name = self.target_combo.itemText(index).rsplit(" (", 1)[0]
        self._commit(values, f"Set target column {name}")

    def _on_class_chosen(self, value: str, name: str) -> None:
        self._commit({"dataset": class_spec(self._choice, value)}, f"Use {name}")

    # --- splits and scaling ------------------------------------------------------------------------
    def _on_fraction_changed(self, name: str, value: float) -> None:
        settings = {**self._settings(), name: float(value)}
        try:
            split_fractions(settings)
        except DatasetError as exc:
            self._show_error(str(exc))
            with QSignalBlocker(self.val_spin), QSignalBlocker(self.test_spin):
                self.val_spin.setValue(
                    float(self._settings().get("validation_split", 0))
                )
                self.test_spin.setValue(float(self._settings().get("test_split", 0)))
            return
        label = "validation split" if name == "validation_split" else "test split"
        self._commit({name: float(value)}, f"Set {label}")

    def _on_scaling_activated(self, index: int) -> None:
        value = self.scaling_combo.itemText(index)
        self._commit({"scaling": value}, "Set scaling")

    def _update_splits(self) -> None:
        settings = self._settings()
        dataset = self._dataset
        test = float(settings.get("test_split", 0.0))
        has_own_test = self._file_kind() in _OWN_TEST_KINDS
        self.evaluate_test_button.setEnabled(
            dataset is not None and (test > 0 or has_own_test)
        )
        if test <= 0 and has_own_test:
            self.evaluate_test_button.setToolTip(
                "Score the network on the dataset's own test part (Evaluation panel)"
            )
        if dataset is None:
            self.split_label.setText("")
            return
        try:
            val, test = split_fractions(settings)
            train_idx, val_idx, test_idx = dataset.split_indices(
                val=val, test=test, seed=int(settings.get("seed", 0))
            )
        except DatasetError as exc:
            self.split_label.setText(str(exc))
            return
        self.split_label.setText(
            f"Train {len(train_idx):,} · validation {len(val_idx):,} · "
            f"test {len(test_idx):,} of {len(dataset):,} samples"
        )

    # --- the spec line ---------------------------------------------------------------------------
    def _on_spec_edited(self) -> None:
        text = self.spec_edit.text().strip()
        if text == str(self._settings().get("dataset", "")):
            return
        self._commit({"dataset": text}, "Set dataset")

    # --- showing ---------------------------------------------------------------------------------
    def _show_loaded(self) -> None:
        choice, dataset = self._choice, self._dataset
        if choice.kind == "painted" and self._push is not None and self._doc:
            if self.paint_widget is None:
                self.paint_widget = PaintWidget(push=self._push)
                self.paint_widget.sig_message.connect(self.preview.set_note)
                self.paint_widget.set_document(self._doc)
            note = "Left-click or drag to paint, right-drag to erase."
            self.preview.set_custom_widget(self.paint_widget, note)
            if dataset is not None:
                self.preview.counts.setText(class_counts_text(dataset))
                self.preview.counts.show()
            return
        head = self._head
        target = self.target_combo.currentIndex() if head is not None else None
        if dataset is not None:
            note = self._loaded_note(dataset)
            self.preview.show_dataset(dataset, note, head, target)
            if self._file_kind() == "idx":
                self.class_chooser.show_dataset(dataset, choice)
            return
        if self._loading:
            self.preview.clear(f"Loading {Path(choice.head).name}…")
        elif head is not None:
            self.preview.show_head(head, target)
        else:
            self.preview.clear()

    def _loaded_note(self, dataset: Dataset) -> str:
        shape = dataset.input_shape
        if dataset.vocabulary is not None and len(shape) == 1:
            what = f"{shape[0]} token ids ({len(dataset.vocabulary)} tokens)"
        elif len(shape) == 1:
            what = f"{shape[0]} feature" + ("s" if shape[0] != 1 else "")
        else:
            what = "shape " + " × ".join(str(d) for d in shape)
        note = f"{len(dataset):,} samples of {what}"
        if len(dataset) > MAX_POINTS and len(dataset.input_shape) == 1:
            note += f"; {MAX_POINTS:,} of them shown"
        return note + "."

    def _show_error(self, message: str | None) -> None:
        self.error_label.setText(message or "")
        self.error_label.setVisible(bool(message))

    def _commit(self, values: Mapping[str, Any], text: str) -> bool:
        if self._doc is None:
            return False
        self._show_error(self._error)
        self.sig_settings_edited.emit(dict(values), text)
        return True


def _single_shot(parent: QWidget, ms: int, slot: Callable[[], None]) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(ms)
    timer.timeout.connect(slot)
    return timer


def _fraction_spin(parent: QWidget, name: str) -> QDoubleSpinBox:
    spin = QDoubleSpinBox(parent)
    spin.setObjectName(name)
    spin.setRange(0.0, 0.95)
    spin.setSingleStep(0.05)
    spin.setDecimals(2)
    spin.setKeyboardTracking(False)  # one edit per value, not per keystroke
    return spin


def _heading(text: str, parent: QWidget) -> QLabel:
    label = QLabel(f"<b>{text}</b>", parent)
    return label
