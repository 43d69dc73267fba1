"""The Race… dialog: two to four variants of the current network (or network files),
each with one setting changed, and the epochs to race.

Each row is a variant: its source (this network, or a saved ``.nndesk`` file), one
change (nothing, the learning rate, the optimizer, the hidden layers' activation or
the kernel initialiser; ``nndesk.training.race.variant_of``) and its name. File
variants train on the window's dataset: their ``dataset`` and ``dataset_target``
settings are replaced with the document's. ``entrants()`` gives the variants as
``Entrant``s; a problem (a file that does not load, a change the network has no
layer for, two variants with one name) is said in one sentence under the rows and
the dialog stays open.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nndesk.document.graph import Document, GraphView, Snapshot
from nndesk.document.registry import REGISTRY
from nndesk.document.settings import get_setting_spec
from nndesk.engine.errors import NNDeskError
from nndesk.io.project_file import load_project
from nndesk.training.race import (
    CHANGES,
    MAX_VARIANTS,
    MIN_VARIANTS,
    Entrant,
    RaceError,
    variant_name,
    variant_of,
)
from nndesk.training.session import TrainedState

__all__ = ["RaceDialog", "VariantRow"]

THIS_NETWORK = "This network"
NO_CHANGE = "nothing"


def _choices(type_name: str, param: str, leave_out: tuple[str, ...] = ()) -> list[str]:
    spec = next(p for p in REGISTRY[type_name].params if p.name == param)
    return [c for c in spec.choices if c not in leave_out]


class VariantRow(QWidget):
    """One variant: source, change, value and name (the widgets of a grid row)."""

    def __init__(self, dialog: RaceDialog, lr: float) -> None:
        super().__init__(dialog)
        self.dialog = dialog
        self.source = QComboBox(dialog)
        self.source.addItem(THIS_NETWORK, None)
        self.source.addItem("Network file…", "browse")
        self.change = QComboBox(dialog)
        self.change.addItem(NO_CHANGE, None)
        for key, label in CHANGES.items():
            self.change.addItem(label, key)
        self.values = QStackedWidget(dialog)
        self.blank = QLabel("", dialog)
        self.lr = QDoubleSpinBox(dialog)
        self.lr.setDecimals(5)
        self.lr.setRange(0.00001, 10.0)
        self.lr.setSingleStep(0.001)
        self.lr.setValue(lr)
        self.optimizer = QComboBox(dialog)
        self.optimizer.addItems(list(get_setting_spec("optimizer").choices))
        self.activation = QComboBox(dialog)
        self.activation.addItems(_choices("Dense", "activation", ("softmax",)))
        self.initializer = QComboBox(dialog)
        self.initializer.addItems(
            _choices("Dense", "kernel_initializer", ("constant", "zeros", "ones"))
        )
        self.editors: dict[str | None, QWidget] = {
            None: self.blank,
            "learning_rate": self.lr,
            "optimizer": self.optimizer,
            "activation": self.activation,
            "kernel_initializer": self.initializer,
        }
        for editor in self.editors.values():
            self.values.addWidget(editor)
        self.name = QLineEdit(dialog)
        self.name.setPlaceholderText("name")
        self.remove = QToolButton(dialog)
        self.remove.setText("✕")
        self.remove.setToolTip("Remove this variant")
        self._named = False  # whether the user typed the name
        self.path: Path | None = None
        self.change.currentIndexChanged.connect(self._on_change_changed)
        self.source.activated.connect(self._on_source_activated)
        self.name.textEdited.connect(self._on_name_edited)
        for editor in (self.optimizer, self.activation, self.initializer):
            editor.currentIndexChanged.connect(self._rename)
        self.lr.valueChanged.connect(self._rename)

    def widgets(self) -> list[QWidget]:
        return [self.source, self.change, self.values, self.name, self.remove]

    def set_change(self, change: str | None, value: Any = None) -> None:
        """Choose the change (and its value) as the user would."""
        self.change.setCurrentIndex(max(0, self.change.findData(change)))
        if value is None:
            return
        editor = self.editors[change]
        if isinstance(editor, QDoubleSpinBox):
            editor.setValue(float(value))
        elif isinstance(editor, QComboBox):
            editor.setCurrentText(str(value))

    def set_file(self, path: Path) -> None:
        """Race the network in ``path`` (as a chosen file)."""
        self.path = Path(path)
        index = self.source.findData(str(self.path))
        if index < 0:
            self.source.insertItem(1, self.path.name, str(self.path))
            index = 1
        self.source.setCurrentIndex(index)
        self._rename()

    def value(self) -> Any:
        change = self.change.currentData()
        editor = self.editors[change]
        if isinstance(editor, QDoubleSpinBox):
            return float(editor.value())
        if isinstance(editor, QComboBox):
            return editor.currentText()
        return None

    def auto_name(self) -> str:
        change = self.change.currentData()
        if change is not None:
            base = variant_name(change, self.value())
            return f"{self.path.stem} {base}" if self.path is not None else base
        return self.path.stem if self.path is not None else "this network"

    def _rename(self) -> None:
        if not self._named:
            self.name.setText(self.auto_name())

    def _on_change_changed(self) -> None:
        self.values.setCurrentWidget(self.editors[self.change.currentData()])
        self._rename()

    def _on_name_edited(self, text: str) -> None:
        self._named = bool(text.strip())

    def _on_source_activated(self) -> None:
        data = self.source.currentData()
        if data == "browse":
            chosen = self.dialog.ask_file()
            if chosen is not None:
                self.set_file(chosen)
            else:
                self.source.setCurrentIndex(
                    self.source.findData(str(self.path)) if self.path else 0
                )
            return
        self.path = Path(data) if data else None
        self._rename()


class RaceDialog(QDialog):
    """Choose the variants of a race.

    Parameters
    ----------
    document : GraphView
        The network the variants are made from ("This network").
    state : TrainedState, optional
        The window's trained state; with "Start from the trained weights" checked
        the variants of this network start from it (files from their own).
    base_dir : Path, optional
        The document's folder (its relative dataset path's).
    ask_file : callable, optional
        Returns a chosen ``.nndesk`` path or None (default: a file dialog).
    """

    def __init__(
        self,
        document: GraphView,
        *,
        state: TrainedState | None = None,
        base_dir: Path | None = None,
        ask_file: Callable[[], Path | None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Race variants")
        self.setObjectName("race_dialog")
        self.document = Snapshot(
            document.nodes, document.edges, document.settings, document.painted
        )
        self.state = state
        self.base_dir = base_dir
        self._ask_file = ask_file
        self.rows: list[VariantRow] = []
        intro = QLabel(
            "Every variant trains on the same batches in the same order, epoch by "
            "epoch. Change one thing per variant, or race a saved network file.",
            self,
        )
        intro.setWordWrap(True)
        self.grid = QGridLayout()
        for col, title in enumerate(("Network", "Change", "To", "Name")):
            self.grid.addWidget(QLabel(f"<b>{title}</b>", self), 0, col)
        self.grid.setColumnStretch(3, 1)
        self.add_button = QPushButton("Add variant", self)
        self.add_button.clicked.connect(self.add_row)
        self.epochs = QSpinBox(self)
        self.epochs.setRange(1, 100_000)
        self.epochs.setValue(int(self.document.settings["epochs"]))
        self.carry = QCheckBox("Start from the trained weights", self)
        self.carry.setToolTip(
            "Off: every variant starts from its seeded initial weights, so the race "
            "compares the settings alone."
        )
        self.carry.setEnabled(state is not None and state.trained)
        form = QFormLayout()
        form.addRow("Epochs", self.epochs)
        form.addRow("", self.carry)
        self.message = QLabel("", self)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c0392b;")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
            self,
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Race")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(self.grid)
        layout.addWidget(self.add_button)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        lr = float(self.document.settings["learning_rate"])
        self.add_row()
        second = self.add_row()
        second.set_change("learning_rate", min(10.0, lr * 10))
        self.resize(self.sizeHint().width() + 120, self.sizeHint().height())

    # --- rows ------------------------------------------------------------------------
    def add_row(self) -> VariantRow:
        """One more variant of this network, unchanged (at most four)."""
        row = VariantRow(self, float(self.document.settings["learning_rate"]))
        row.name.setText(row.auto_name())
        self.rows.append(row)
        row.remove.clicked.connect(lambda: self.remove_row(row))
        self._lay_out()
        return row

    def remove_row(self, row: VariantRow) -> None:
        """Drop a variant (at least two stay)."""
        if len(self.rows) <= MIN_VARIANTS or row not in self.rows:
            return
        self.rows.remove(row)
        for widget in row.widgets():
            self.grid.removeWidget(widget)
            widget.deleteLater()
        row.deleteLater()
        self._lay_out()

    def _lay_out(self) -> None:
        for r, row in enumerate(self.rows, start=1):
            for c, widget in enumerate(row.widgets()):
                self.grid.addWidget(widget, r, c)
            row.remove.setEnabled(len(self.rows) > MIN_VARIANTS)
        self.add_button.setEnabled(len(self.rows) < MAX_VARIANTS)

    def ask_file(self) -> Path | None:
        if self._ask_file is not None:
            return self._ask_file()
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Race a network file",
            str(self.base_dir or Path.home()),
            "nndesk networks (*.nndesk)",
        )
        return Path(path) if path else None

    # --- the result ------------------------------------------------------------------
    def entrants(self) -> list[Entrant]:
        """The variants as chosen.

        Raises
        ------
        NNDeskError
            One sentence: a file that does not load, a change the network has
            no layer for, a value refused, two variants with one name.
        """
        carry = self.carry.isChecked() and self.carry.isEnabled()
        out: list[Entrant] = []
        for row in self.rows:
            name = row.name.text().strip() or row.auto_name()
            view, state = self._source(row, carry)
            change = row.change.currentData()
            if change is not None:
                try:
                    view = variant_of(view, change, row.value())
                except RaceError as exc:
                    raise RaceError(f"Variant '{name}': {exc}") from None
            out.append(Entrant(name, view, state, self.base_dir))
        names = [e.name for e in out]
        twice = next((n for n in names if names.count(n) > 1), None)
        if twice is not None:
            raise RaceError(f"Two variants are both named '{twice}': rename one.")
        return out

    def _source(
        self, row: VariantRow, carry: bool
    ) -> tuple[Snapshot, TrainedState | None]:
        if row.path is None:
            return self.document, self.state if carry else None
        project = load_project(row.path)
        doc: Document = project.document
        for key in ("dataset", "dataset_target"):
            doc.set_setting(key, self.document.settings[key])
        state = TrainedState.from_project(project) if carry else None
        return doc.snapshot(), state

    def accept(self) -> None:
        try:
            self.entrants()
        except NNDeskError as exc:
            self.message.setText(str(exc))
            return
        self.message.setText("")
        super().accept()
