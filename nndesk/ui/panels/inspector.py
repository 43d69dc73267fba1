"""The inspector: a form generated from the registry's ParamSpecs for the selected node,
or the network settings when nothing is selected."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QAction, QDoubleValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QMenu,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nndesk.document import events as ev
from nndesk.document.graph import Document
from nndesk.document.params import ParamSpec
from nndesk.document.settings import SETTINGS
from nndesk.engine.errors import NNDeskError

log = logging.getLogger(__name__)

INT_LIMIT = 2**31 - 1
LOSS_PARAM = "loss"
FLOAT_LIMIT = 1e12


class FloatSpinBox(QDoubleSpinBox):
    """A double spin box that shows ``0.001`` or ``1e-05`` rather than fixed decimals."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(12)
        self.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> object:
        stripped = text.strip()
        if stripped in ("", "-", "+", ".", "-.", "e", "E") or stripped.endswith(
            ("e", "E", "e-", "E-", "e+", "E+")
        ):
            return QDoubleValidator.State.Intermediate, text, pos
        try:
            float(stripped)
        except ValueError:
            return QDoubleValidator.State.Invalid, text, pos
        return QDoubleValidator.State.Acceptable, text, pos


class MultiChoiceButton(QToolButton):
    """Pick several names from a fixed list (a menu of check boxes)."""

    sig_changed = Signal(tuple)

    def __init__(self, choices: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        menu = QMenu(self)
        self.choice_actions: dict[str, QAction] = {}
        for name in choices:
            action = menu.addAction(name)
            action.setCheckable(True)
            action.toggled.connect(self._on_toggled)
            self.choice_actions[name] = action
        self.setMenu(menu)
        self._update_text()

    def values(self) -> tuple[str, ...]:
        """The checked names, in choice order."""
        return tuple(n for n, a in self.choice_actions.items() if a.isChecked())

    def set_values(self, values: Sequence[str]) -> None:
        """Check exactly ``values`` without emitting ``sig_changed``."""
        for name, action in self.choice_actions.items():
            with QSignalBlocker(action):
                action.setChecked(name in values)
        self._update_text()

    def _on_toggled(self, _checked: bool) -> None:
        self._update_text()
        self.sig_changed.emit(self.values())

    def _update_text(self) -> None:
        self.setText(", ".join(self.values()) or "none")


class ParamField:
    """One form row: a widget made for a ParamSpec, reading and showing values.

    ``on_edit(value)`` is called with the widget's value when the user commits an
    edit (the form turns it into a command). ``show(value)`` puts a document value
    into the widget without calling ``on_edit``.
    """

    def __init__(
        self,
        spec: ParamSpec,
        on_edit: Callable[[Any], None],
        on_invalid: Callable[[str], None],
        parent: QWidget,
    ) -> None:
        self.spec = spec
        self._on_edit = on_edit
        self._on_invalid = on_invalid
        self.widget = self._make(parent)
        self.widget.setObjectName(f"field_{spec.name}")
        tip = spec.help + (f" Accepts {spec.describe()}." if spec.help else "")
        self.widget.setToolTip(tip.strip())
        self.widget.setAccessibleName(spec.label)

    def _make(self, parent: QWidget) -> QWidget:
        spec = self.spec
        if spec.kind == "int" and not spec.optional:
            box = QSpinBox(parent)
            box.setRange(
                _int_bound(spec.min, -INT_LIMIT), _int_bound(spec.max, INT_LIMIT)
            )
            box.setKeyboardTracking(False)
            box.setAccelerated(True)
            box.valueChanged.connect(self._emit)
            return box
        if spec.kind == "float" and not spec.optional:
            fbox = FloatSpinBox(parent)
            fbox.setRange(
                spec.min if spec.min is not None else -FLOAT_LIMIT,
                spec.max if spec.max is not None else FLOAT_LIMIT,
            )
            fbox.setKeyboardTracking(False)
            fbox.valueChanged.connect(self._emit)
            return fbox
        if spec.kind == "bool":
            check = QCheckBox(parent)
            check.toggled.connect(self._emit)
            return check
        if spec.kind == "choice":
            combo = QComboBox(parent)
            # Sized to a short name, not the longest one: the dock may be narrow,
            # and the open list still shows every name in full.
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(8)
            combo.addItems(list(spec.choices))
            combo.currentTextChanged.connect(self._emit)
            return combo
        if spec.kind == "multichoice":
            button = MultiChoiceButton(spec.choices, parent)
            button.sig_changed.connect(self._emit)
            return button
        # shape, str and optional numbers: text parsed by the spec on commit.
        edit = QLineEdit(parent)
        if spec.optional:
            edit.setPlaceholderText("default")
        edit.editingFinished.connect(self._commit_text)
        return edit

    def value(self) -> Any:
        """The widget's current value (text kinds: parsed by the spec)."""
        w = self.widget
        if isinstance(w, QSpinBox | QDoubleSpinBox):
            return w.value()
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QComboBox):
            return w.currentText()
        if isinstance(w, MultiChoiceButton):
            return w.values()
        assert isinstance(w, QLineEdit)
        if self.spec.kind == "str":
            return w.text()
        return self.spec.parse(w.text())

    def value_or_none(self) -> Any:
        """``value()``, or None when the text does not parse."""
        try:
            return self.value()
        except NNDeskError:
            return None

    def show(self, value: Any) -> None:
        """Display a document value; never calls back."""
        w = self.widget
        with QSignalBlocker(w):
            if isinstance(w, QSpinBox):
                w.setValue(int(value))
            elif isinstance(w, QDoubleSpinBox):
                w.setValue(float(value))
            elif isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, QComboBox):
                w.setCurrentText(str(value))
            elif isinstance(w, MultiChoiceButton):
                w.set_values(tuple(value))
            else:
                assert isinstance(w, QLineEdit)
                text = value if self.spec.kind == "str" else self.spec.format(value)
                w.setText(text)
                w.setCursorPosition(0)  # long specs and paths: show their start
                w.setStyleSheet("")

    def _emit(self, *_args: object) -> None:
        self._on_edit(self.value())

    def _commit_text(self) -> None:
        assert isinstance(self.widget, QLineEdit)
        try:
            value = self.value()
        except NNDeskError as exc:
            self.widget.setStyleSheet(
                "QLineEdit { border: 1px solid palette(bright-text); }"
            )
            self._on_invalid(str(exc))
            return
        self.widget.setStyleSheet("")
        self._on_edit(value)


def _int_bound(value: float | None, fallback: int) -> int:
    if value is None:
        return fallback
    return int(max(-INT_LIMIT, min(INT_LIMIT, value)))


class InspectorPanel(QWidget):
    """Shows and edits the selected node's parameters, or the network settings.

    The panel only reads the document and follows its events; edits leave as
    signals that the main window connects to the canvas editor (which pushes the
    undo commands).

    Signals
    -------
    sig_param_edited(str, str, object)
        node id, parameter name, new value.
    sig_label_edited(str, str)
        node id, new label ("" clears it).
    sig_setting_edited(str, object)
        setting name, new value.
    """

    sig_param_edited = Signal(str, str, object)
    sig_label_edited = Signal(str, str)
    sig_setting_edited = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inspector_panel")
        self._doc: Document | None = None
        self._node_id: str | None = None
        self.fields: dict[str, ParamField] = {}
        self.label_edit: QLineEdit | None = None
        self.title = QLabel(self)
        self.title.setObjectName("inspector_title")
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.description = QLabel(self)
        self.description.setWordWrap(True)
        self.description.setObjectName("inspector_description")
        self.help = QLabel(self)
        self.help.setWordWrap(True)
        self.help.setObjectName("inspector_help")
        self.help.setFrameShape(QFrame.Shape.StyledPanel)
        self.help.setMargin(6)
        self._form_host = QWidget()
        self._form = QFormLayout(self._form_host)
        self._form.setFieldGrowthPolicy(
            QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow
        )
        self._form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        # Fields shrink to the dock's width (a sideways scroll would hide them).
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self._form_host)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addWidget(self.title)
        layout.addWidget(self.description)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.help)
        self._show_empty()

    # -- what is shown -------------------------------------------------------------------

    @property
    def node_id(self) -> str | None:
        """The node whose parameters are shown (None: the network settings)."""
        return self._node_id

    def set_document(self, doc: Document | None) -> None:
        """Follow ``doc`` (its events keep the widgets current); shows its settings."""
        if self._doc is not None:
            self._subscribe(self._doc, connect=False)
        self._doc = doc
        if doc is not None:
            self._subscribe(doc, connect=True)
        self.show_selection([])

    def _subscribe(self, doc: Document, connect: bool) -> None:
        pairs = (
            (doc.events.param_changed, self._on_param_changed),
            (doc.events.label_changed, self._on_label_changed),
            (doc.events.settings_changed, self._on_settings_changed),
            (doc.events.node_removed, self._on_node_removed),
        )
        for signal, slot in pairs:
            (signal.connect if connect else signal.disconnect)(slot)

    def show_selection(self, node_ids: Sequence[str]) -> None:
        """Show one node's form, the settings (nothing selected), or a count."""
        if self._doc is None:
            self._show_empty()
        elif len(node_ids) == 1:
            self._show_node(node_ids[0])
        elif not node_ids:
            self._show_settings()
        else:
            self._clear_form()
            self._node_id = None
            self.title.setText(f"{len(node_ids)} nodes selected")
            self.description.setText("Select a single node to edit its parameters.")
            self.help.setText("")

    def _clear_form(self) -> None:
        while self._form.rowCount():
            self._form.removeRow(0)
        self.fields = {}
        self.label_edit = None

    def _show_empty(self) -> None:
        self._clear_form()
        self._node_id = None
        self.title.setText("No network")
        self.description.setText("Create or open a network to edit it.")
        self.help.setText("")

    def _show_node(self, node_id: str) -> None:
        assert self._doc is not None
        node = self._doc.node(node_id)
        spec = node.spec
        self._clear_form()
        self._node_id = node_id
        self.title.setText(f"{spec.title} — {node_id}")
        self.description.setText(spec.description)
        self.label_edit = QLineEdit(self._form_host)
        self.label_edit.setObjectName("field_label")
        self.label_edit.setPlaceholderText(node_id)
        self.label_edit.setText(node.label or "")
        self.label_edit.setToolTip("A name of your own, shown on the canvas.")
        self.label_edit.editingFinished.connect(self._on_label_edit_finished)
        self._form.addRow("label", self.label_edit)
        for param in spec.params:
            self._add_field(
                param, node.params[param.name], self._param_editor(param.name)
            )
        self.help.setText(
            "Hover a field for its meaning."
            if spec.params
            else "This node has no parameters."
        )

    def _show_settings(self) -> None:
        assert self._doc is not None
        self._clear_form()
        self._node_id = None
        self.title.setText("Network settings")
        self.description.setText(
            "Dataset and training settings of the whole network. Select a node to "
            "edit its parameters."
        )
        for spec in SETTINGS:
            self._add_field(
                spec, self._doc.settings[spec.name], self._setting_editor(spec.name)
            )
            if spec.name == "dataset_target":
                self._add_loss_field()
        self.help.setText("Hover a field for its meaning.")

    def _add_loss_field(self) -> None:
        # The loss belongs to the Output node (next to the prediction it scores),
        # but users look for it among the training settings: show it here too.
        assert self._doc is not None
        outputs = self._doc.nodes_of_type("Output")
        if len(outputs) != 1:
            return
        output = outputs[0]
        spec = output.spec.param(LOSS_PARAM)
        self._add_field(spec, output.params[LOSS_PARAM], self._loss_editor(output.id))

    def _loss_editor(self, output_id: str) -> Callable[[Any], None]:
        def edit(value: Any) -> None:
            if self._doc is None or output_id not in self._doc:
                return
            self.sig_param_edited.emit(output_id, LOSS_PARAM, value)
            current = self._doc.node(output_id).params[LOSS_PARAM]
            if self._node_id is None and LOSS_PARAM in self.fields:
                if self.fields[LOSS_PARAM].value_or_none() != current:
                    self.fields[LOSS_PARAM].show(current)

        return edit

    def _add_field(
        self, spec: ParamSpec, value: Any, on_edit: Callable[[Any], None]
    ) -> None:
        field = ParamField(spec, on_edit, self._show_invalid, self._form_host)
        field.show(value)
        self.fields[spec.name] = field
        label = QLabel(spec.label, self._form_host)
        label.setToolTip(field.widget.toolTip())
        label.setBuddy(field.widget)
        self._form.addRow(label, field.widget)
        field.widget.installEventFilter(self)

    def eventFilter(self, watched: Any, event: Any) -> bool:
        # Focusing a field shows its help text in the help label.
        if event.type() == event.Type.FocusIn:
            for field in self.fields.values():
                if field.widget is watched:
                    self._show_help(field.spec)
        return super().eventFilter(watched, event)

    def _show_help(self, spec: ParamSpec) -> None:
        self.help.setStyleSheet("")
        text = (
            f"<b>{spec.label}</b>: {spec.help}" if spec.help else f"<b>{spec.label}</b>"
        )
        self.help.setText(text + f"<br><i>Accepts {spec.describe()}.</i>")

    def _show_invalid(self, message: str) -> None:
        self.help.setStyleSheet("QLabel { color: palette(bright-text); }")
        self.help.setText(message)

    # -- edits leave as signals ------------------------------------------------------------

    def _param_editor(self, name: str) -> Callable[[Any], None]:
        def edit(value: Any) -> None:
            node_id = self._node_id
            if node_id is None or self._doc is None:
                return
            self.sig_param_edited.emit(node_id, name, value)
            # Refused edits leave the document as it was: show its value again.
            if (
                node_id in self._doc
                and self._node_id == node_id
                and name in self.fields
            ):
                current = self._doc.node(node_id).params[name]
                if not _same(self.fields[name].value_or_none(), current):
                    self.fields[name].show(current)

        return edit

    def _setting_editor(self, name: str) -> Callable[[Any], None]:
        def edit(value: Any) -> None:
            if self._doc is None:
                return
            self.sig_setting_edited.emit(name, value)
            if self._node_id is None and name in self.fields:
                current = self._doc.settings[name]
                if not _same(self.fields[name].value_or_none(), current):
                    self.fields[name].show(current)

        return edit

    def _on_label_edit_finished(self) -> None:
        if self._node_id is not None and self.label_edit is not None:
            self.sig_label_edited.emit(self._node_id, self.label_edit.text())

    # -- document → widgets ----------------------------------------------------------------

    def _on_param_changed(self, event: ev.ParamChanged) -> None:
        if event.node_id == self._node_id and event.name in self.fields:
            self.fields[event.name].show(event.new)
        elif (
            self._node_id is None
            and event.name == LOSS_PARAM
            and LOSS_PARAM in self.fields
        ):
            self.fields[LOSS_PARAM].show(event.new)

    def _on_label_changed(self, event: ev.LabelChanged) -> None:
        if event.node_id == self._node_id and self.label_edit is not None:
            with QSignalBlocker(self.label_edit):
                self.label_edit.setText(event.new or "")

    def _on_settings_changed(self, event: ev.SettingsChanged) -> None:
        if self._node_id is None and event.name in self.fields:
            self.fields[event.name].show(event.new)

    def _on_node_removed(self, event: ev.NodeRemoved) -> None:
        if event.node.id == self._node_id:
            self.show_selection([])


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b
