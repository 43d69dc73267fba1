"""The inspector: a form generated from the registry's ParamSpecs for the selected node,
or the network settings when nothing is selected."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QPoint, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeyEvent, QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QMenu,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nndesk.document import events as ev
from nndesk.document.graph import Document
from nndesk.document.params import ParamSpec
from nndesk.document.settings import (
    SETTINGS,
    inactive_settings,
    optimizer_default,
    optimizer_options,
)
from nndesk.document.validate import input_note
from nndesk.engine.errors import NNDeskError
from nndesk.io.datasets import GENERATORS, parse_spec

from ..theme import DARK, LIGHT
from .combo import ElidingComboBox

log = logging.getLogger(__name__)

LOSS_PARAM = "loss"
_STEP_KEYS = {
    Qt.Key.Key_Up: 1,
    Qt.Key.Key_Down: -1,
    Qt.Key.Key_PageUp: 10,
    Qt.Key.Key_PageDown: -10,
}


class NumberEdit(QLineEdit):
    """A number field that never changes what was typed.

    The text is checked by the field's ParamSpec when the edit is committed (Enter or
    focus out): a value outside the range stays as typed and is marked invalid,
    instead of being clamped or replaced as a spin box would. Up/Down (and Page
    Up/Down, ten steps) step a valid value within the range, as a spin box does, and
    commit it (``sig_stepped``).
    """

    sig_stepped = Signal()

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec

    def stepBy(self, steps: int) -> None:
        """Step the current value ``steps`` times (ints by 1, floats by a tenth of
        their leading digit); nothing happens when the text is not a valid value or
        the step would leave the range."""
        try:
            value = self.spec.parse(self.text())
        except NNDeskError:
            return
        if value is None:  # optional and empty: nothing to step from
            return
        stepped = _stepped(self.spec, value, steps)
        if stepped is None:
            return
        self.setText(number_text(stepped))
        self.sig_stepped.emit()

    def stepUp(self) -> None:
        """One step up."""
        self.stepBy(1)

    def stepDown(self) -> None:
        """One step down."""
        self.stepBy(-1)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        steps = _STEP_KEYS.get(Qt.Key(event.key()))
        if steps is None:
            super().keyPressEvent(event)
            return
        self.stepBy(steps)
        event.accept()


def number_text(value: Any) -> str:
    """A number as the field shows it: every digit that matters (``0.00012345678``,
    ``1e-05``), so showing a value and committing it again changes nothing."""
    if value is None:
        return ""
    return repr(float(value)) if isinstance(value, float) else str(value)


def _stepped(spec: ParamSpec, value: float, steps: int) -> float | int | None:
    if spec.kind == "int":
        candidate: float | int = int(value) + steps
    else:
        size = 10.0 ** (math.floor(math.log10(abs(value))) - 1) if value else 0.1
        candidate = float(f"{value + steps * size:.12g}")
    # Clamp to an inclusive bound (a spin box stops there); an exclusive one
    # refuses the step.
    if spec.min is not None and candidate < spec.min and spec.min_inclusive:
        candidate = type(candidate)(spec.min)
    if spec.max is not None and candidate > spec.max and spec.max_inclusive:
        candidate = type(candidate)(spec.max)
    if candidate == value or not spec.is_valid(candidate):
        return None
    return candidate


class MultiChoiceButton(QToolButton):
    """Pick several names from a fixed list (a menu of check boxes); as wide as
    the other fields of its form."""

    sig_changed = Signal(tuple)

    def __init__(self, choices: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
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
    into the widget without calling ``on_edit``. Text that the spec refuses (a
    number out of range, a malformed shape) is not applied: the field gets a red
    frame, and the reason is shown under it (``error``) and as its tooltip, until
    a valid value is committed or the document's value is shown again.
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
        self._tooltip = tip.strip()
        self.widget.setToolTip(self._tooltip)
        self.widget.setAccessibleName(spec.label)
        self.error = QLabel(parent)
        self.error.setObjectName(f"error_{spec.name}")
        self.error.setWordWrap(True)
        self.error.hide()
        # The row holds the widget with the reason for a refusal under it.
        self.row = QWidget(parent)
        box = QVBoxLayout(self.row)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(self.widget)
        box.addWidget(self.error)

    def _make(self, parent: QWidget) -> QWidget:
        spec = self.spec
        if spec.kind in ("int", "float"):
            number = NumberEdit(spec, parent)
            number.editingFinished.connect(self._commit_text)
            number.sig_stepped.connect(self._commit_text)
            return number
        if spec.kind == "bool":
            check = QCheckBox(parent)
            check.toggled.connect(self._emit)
            return check
        if spec.kind == "choice":
            combo = ElidingComboBox(parent)
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
        # shape and str: text parsed by the spec on commit.
        edit = QLineEdit(parent)
        edit.editingFinished.connect(self._commit_text)
        return edit

    @property
    def is_invalid(self) -> bool:
        """Whether the field shows text the spec refused."""
        return not self.error.isHidden()

    def set_placeholder(self, text: str) -> None:
        """What an empty optional field shows (e.g. the default it stands for)."""
        if isinstance(self.widget, QLineEdit):
            self.widget.setPlaceholderText(text)

    def value(self) -> Any:
        """The widget's current value (text kinds: parsed by the spec).

        Raises
        ------
        ParamError
            When the text does not give a valid value.
        """
        w = self.widget
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
        """Display a document value (clearing a refusal); never calls back."""
        w = self.widget
        with QSignalBlocker(w):
            if isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, QComboBox):
                w.setCurrentText(str(value))
            elif isinstance(w, MultiChoiceButton):
                w.set_values(tuple(value))
            else:
                assert isinstance(w, QLineEdit)
                if isinstance(w, NumberEdit):
                    text = number_text(value)
                elif self.spec.kind == "str":
                    text = value
                else:
                    text = self.spec.format(value)
                w.setText(text)
                w.setCursorPosition(0)  # long specs and paths: show their start
        self._mark_valid()

    def _emit(self, *_args: object) -> None:
        self._on_edit(self.value())

    def _commit_text(self) -> None:
        try:
            value = self.value()
        except NNDeskError as exc:
            self._mark_invalid(str(exc))
            self._on_invalid(str(exc))
            return
        self._mark_valid()
        self._on_edit(value)

    def _mark_invalid(self, reason: str) -> None:
        color = _error_color(self.widget)
        self.widget.setStyleSheet(f"QLineEdit {{ border: 2px solid {color}; }}")
        self.widget.setToolTip(reason)
        self.error.setStyleSheet(f"QLabel {{ color: {color}; }}")
        self.error.setText(reason)
        self.error.show()

    def _mark_valid(self) -> None:
        if self.error.isHidden():
            return
        self.widget.setStyleSheet("")
        self.widget.setToolTip(self._tooltip)
        self.error.hide()
        self.error.setText("")


def _error_color(widget: QWidget) -> str:
    """The theme's error colour for the widget's palette (light or dark)."""
    dark = widget.palette().color(widget.backgroundRole()).lightness() < 128
    return (DARK if dark else LIGHT).error


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
        self._data_shape: tuple[int, ...] | None = None
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
        self.help = _help_label(self)
        self.help.setObjectName("inspector_help")
        # Measures the help texts of the form (never shown): the help box is as
        # tall as the longest one from the start, so focusing a field never grows
        # it and moves the field being edited (issue 11: a triple-click missed).
        self._help_probe = _help_label(None)
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
        self.form_scroll = scroll
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addWidget(self.title)
        layout.addWidget(self.description)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.help)
        self._show_empty()

    COMPACT_HEIGHT = 340
    """Below this height the description and the help box give their room to the
    fields (each field's tooltip still explains it)."""

    HELP_SHARE = 0.35
    """The most of the panel's height the help box takes (longer help is cut; the
    field's tooltip holds all of it)..."""

    HELP_LINES = 6
    """... and the most lines of text it holds."""

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        compact = event.size().height() < self.COMPACT_HEIGHT
        self.description.setHidden(compact)
        self.help.setHidden(compact)
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width() or (
            event.size().height() != event.oldSize().height()
        ):
            self._reserve_help_height()
        self._keep_focus_visible()

    def _help_texts(self) -> list[str]:
        texts = [self.help.text()]
        texts += [_help_text(f.spec) for f in self.fields.values()]
        return texts

    def _reserve_help_height(self) -> None:
        """Size the help box for the longest help text of the form at its width."""
        margins = self.layout().contentsMargins()
        width = max(80, self.width() - margins.left() - margins.right())
        probe = self._help_probe
        probe.setFont(self.help.font())
        needed = 0
        for text in self._help_texts():
            probe.setText(text)
            needed = max(needed, probe.heightForWidth(width))
        lines = self.help.fontMetrics().lineSpacing() * self.HELP_LINES + 16
        cap = min(int(self.height() * self.HELP_SHARE), lines)
        self.help.setFixedHeight(
            max(self.help.fontMetrics().height(), min(needed, cap))
        )

    def _keep_focus_visible(self) -> None:
        """Scroll the form so the field being edited is inside the viewport."""
        focused = self.focusWidget()
        field = next((f for f in self.fields.values() if f.widget is focused), None)
        if field is None or not field.row.isVisible():
            return
        # Only a field (partly) out of view moves: one in view stays put. (Qt's
        # ensureWidgetVisible only brings a line edit's cursor into view.)
        viewport = self.form_scroll.viewport()
        top = field.widget.mapTo(viewport, QPoint(0, 0)).y()
        bottom = top + field.widget.height()
        margin = 6
        bar = self.form_scroll.verticalScrollBar()
        if top < 0:
            bar.setValue(bar.value() + top - margin)
        elif bottom > viewport.height():
            bar.setValue(bar.value() + bottom - viewport.height() + margin)

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
        self._reserve_help_height()

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
        self._show_description()
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

    def set_data_shape(self, shape: tuple[int, ...] | None) -> None:
        """The dataset's sample shape (None: no dataset), for the note of an Input
        that its samples reach with an axis of 1 added (``(28, 28)`` images and
        an Input of ``(28, 28, 1)``)."""
        self._data_shape = None if shape is None else tuple(shape)
        if self._node_id is not None and self._doc is not None:
            self._show_description()

    def _show_description(self) -> None:
        assert self._doc is not None and self._node_id is not None
        node = self._doc.node(self._node_id)
        note = None
        if self._data_shape is not None and node.spec.category == "Input":
            note = input_note(node.params["shape"], self._data_shape)
        text = node.spec.description
        self.description.setText(text if note is None else f"{text}\n\n{note}")

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
        self._update_settings_rows()
        self.help.setText(
            "Hover a field for its meaning. Only the options of the chosen optimizer "
            "and schedule are shown."
        )

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
        if spec.optional:
            field.set_placeholder("default")
        field.show(value)
        self.fields[spec.name] = field
        label = QLabel(spec.label, self._form_host)
        # Long names ("early-stopping min delta") break over two lines rather than
        # push the fields past a narrow dock's edge (issue 11: clipped at 1280x800).
        label.setWordWrap(True)
        label.setToolTip(field.widget.toolTip())
        label.setBuddy(field.widget)
        self._form.addRow(label, field.row)
        field.widget.installEventFilter(self)

    def is_field_shown(self, name: str) -> bool:
        """Whether the form shows the row of ``name`` (settings that have no effect
        under the others, such as another optimizer's options, are hidden)."""
        return name in self.fields and self._form.isRowVisible(self.fields[name].row)

    def _update_settings_rows(self) -> None:
        """Show the settings that act under the current ones, with the defaults the
        chosen optimizer gives its empty options."""
        assert self._doc is not None
        settings = self._doc.settings
        inactive = inactive_settings(settings) | _unused_dataset_options(settings)
        optimizer = str(settings["optimizer"])
        for name, field in self.fields.items():
            self._form.setRowVisible(field.row, name not in inactive)
            if field.spec.optional and name in optimizer_options(optimizer):
                default = optimizer_default(optimizer, name)
                field.set_placeholder(
                    "off" if default is None else f"default: {number_text(default)}"
                )

    def eventFilter(self, watched: Any, event: Any) -> bool:
        # Focusing a field shows its help text in the help label, and scrolls the
        # field into view (after the scroll area has seen the focus change).
        if event.type() == event.Type.FocusIn:
            for field in self.fields.values():
                if field.widget is watched:
                    self._show_help(field.spec)
                    QTimer.singleShot(0, self._keep_focus_visible)
        return super().eventFilter(watched, event)

    def _show_help(self, spec: ParamSpec) -> None:
        self.help.setStyleSheet("")
        self.help.setText(_help_text(spec))

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
            self._show_description()
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
            self._update_settings_rows()

    def _on_node_removed(self, event: ev.NodeRemoved) -> None:
        if event.node.id == self._node_id:
            self.show_selection([])


def _help_label(parent: QWidget | None) -> QLabel:
    label = QLabel(parent)
    label.setWordWrap(True)
    label.setFrameShape(QFrame.Shape.StyledPanel)
    label.setMargin(6)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    return label


def _help_text(spec: ParamSpec) -> str:
    """What the help box says about a focused field."""
    text = f"<b>{spec.label}</b>: {spec.help}" if spec.help else f"<b>{spec.label}</b>"
    return text + f"<br><i>Accepts {spec.describe()}.</i>"


def _unused_dataset_options(settings: dict[str, Any]) -> frozenset[str]:
    # A generator takes no target column and its reader refuses one: hide the
    # field (unless it holds a value to clear) instead of offering an edit that
    # fails with a dialog (found by random input, issue 19).
    if settings.get("dataset_target"):
        return frozenset()
    try:
        head, _options = parse_spec(str(settings.get("dataset", "")))
    except NNDeskError:
        return frozenset()
    return frozenset({"dataset_target"}) if head in GENERATORS else frozenset()


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b
