"""The paint toolbar: class or value picker, class count, brush, Erase, Clear and
Export CSV for a ``PaintTool``, wrapping onto more rows in a narrow panel."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QSpinBox,
    QToolButton,
    QWidget,
)

from nndesk.document.painted import MAX_CLASSES
from nndesk.engine.errors import NNDeskError
from nndesk.io.datasets.painted import export_painted_csv

from ..plots.colors import class_color
from .tool import PaintTool

__all__ = ["FlowLayout", "PaintToolbar"]


class FlowLayout(QLayout):
    """Lays its items out left to right and wraps them onto more rows when the
    width runs out (the Qt flow-layout example, for the paint toolbar)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._gap = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 - Qt override
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt override
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt override
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 - Qt override
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt override
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt override
        return self._arrange(QRect(0, 0, width, 0), place=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 - Qt override
        super().setGeometry(rect)
        self._arrange(rect, place=True)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        width = sum(i.sizeHint().width() + self._gap for i in self._shown())
        height = max((i.sizeHint().height() for i in self._shown()), default=0)
        return QSize(max(0, width - self._gap), height)

    def minimumSize(self) -> QSize:  # noqa: N802 - Qt override
        size = QSize()
        for item in self._shown():
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _shown(self) -> list[QLayoutItem]:
        return [i for i in self._items if not i.isEmpty()]

    def _arrange(self, rect: QRect, place: bool) -> int:
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, row = area.x(), area.y(), 0
        for item in self._shown():
            hint = item.sizeHint()
            if x > area.x() and x + hint.width() > area.right() + 1:
                x, y, row = area.x(), y + row + self._gap // 2, 0
            if place:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._gap
            row = max(row, hint.height())
        return y + row - rect.y() + m.bottom()


def _group(parent: QWidget, *widgets: QWidget) -> QWidget:
    """Widgets kept on one row of the toolbar."""
    group = QWidget(parent)
    row = QHBoxLayout(group)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(4)
    for widget in widgets:
        row.addWidget(widget)
    return group


def _swatch(k: int) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(*class_color(k)))
    return QIcon(pixmap)


class PaintToolbar(QWidget):
    """Class (or value) picker, class count, brush, Erase, Clear and Export CSV for a
    ``PaintTool``; it follows the tool (and so the document)."""

    def __init__(self, tool: PaintTool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tool = tool
        # Groups that wrap onto further rows when the panel is narrow, so the
        # toolbar never makes its panel (or the window) wider.
        layout = FlowLayout(self, spacing=10)
        self.task = QComboBox(self)
        self.task.addItems(["Classes", "Values"])
        self.task.setToolTip(
            "Paint classes (classification) or target values (regression)."
        )
        self.classes = QSpinBox(self)
        self.classes.setRange(2, MAX_CLASSES)
        self.classes.setPrefix("")
        self.classes.setToolTip("Number of classes of the painted data.")
        self.class_box = QComboBox(self)
        self.class_box.setToolTip("The class new points get (keys 1-9, 0).")
        self.value_box = QDoubleSpinBox(self)
        self.value_box.setRange(-1e6, 1e6)
        self.value_box.setDecimals(3)
        self.value_box.setSingleStep(0.1)
        self.value_box.setToolTip("The target value new points get.")
        self.brush = QSpinBox(self)
        self.brush.setRange(2, 80)
        self.brush.setPrefix("Brush ")
        self.brush.setSuffix(" px")
        self.brush.setToolTip("Brush radius: the eraser circle and a drag's spacing.")
        self.erase = QToolButton(self)
        self.erase.setText("Erase")
        self.erase.setCheckable(True)
        self.erase.setToolTip("Left drags erase too (a right drag always erases). E")
        self.clear = QToolButton(self)
        self.clear.setText("Clear")
        self.clear.setToolTip("Remove every painted point (Undo brings them back).")
        self.export = QToolButton(self)
        self.export.setText("Export CSV…")
        self.export.setToolTip("Save the painted points as a CSV file (x, y, class).")
        self.count = QLabel(self)
        self._class_label = QLabel("Class", self)
        self._classes_label = QLabel("of", self)
        self._value_label = QLabel("Value", self)
        layout.addWidget(
            _group(
                self,
                self.task,
                self._class_label,
                self.class_box,
                self._classes_label,
                self.classes,
                self._value_label,
                self.value_box,
            )
        )
        layout.addWidget(_group(self, self.brush, self.erase, self.clear))
        layout.addWidget(_group(self, self.export, self.count))
        self.task.activated.connect(self._on_task_activated)
        self.classes.editingFinished.connect(self._on_classes_edited)
        self.class_box.activated.connect(self._on_class_box_activated)
        self.value_box.valueChanged.connect(self._on_value_box_changed)
        self.brush.valueChanged.connect(self._on_brush_changed)
        self.erase.toggled.connect(self._on_erase_toggled)
        self.clear.clicked.connect(self.clear_points)
        self.export.clicked.connect(self._on_export_clicked)
        tool.sig_changed.connect(self.sync)
        # How Export asks for a file; tests replace it.
        self.ask_path: Callable[[], str] = self._ask_path
        self.sync()

    def sync(self) -> None:
        """Show the tool's state (the document's set, the value, the brush)."""
        tool, painted = self.tool, self.tool.painted
        classes = painted.is_classification
        widgets = (self.task, self.classes, self.class_box, self.value_box)
        for w in widgets:
            w.blockSignals(True)
        try:
            self.task.setCurrentIndex(0 if classes else 1)
            for w in (self._class_label, self.class_box, self._classes_label):
                w.setVisible(classes)
            self.classes.setVisible(classes)
            self._value_label.setVisible(not classes)
            self.value_box.setVisible(not classes)
            if classes:
                self.classes.setValue(painted.n_classes)
                if self.class_box.count() != painted.n_classes:
                    self.class_box.clear()
                    for k in range(painted.n_classes):
                        self.class_box.addItem(_swatch(k), str(k))
                self.class_box.setCurrentIndex(int(tool.value))
            else:
                self.value_box.setValue(float(tool.value))
        finally:
            for w in widgets:
                w.blockSignals(False)
        self.brush.blockSignals(True)
        self.brush.setValue(tool.brush_px)
        self.brush.blockSignals(False)
        self.erase.blockSignals(True)
        self.erase.setChecked(tool.erasing)
        self.erase.blockSignals(False)
        has_doc = tool.document is not None and tool.push is not None
        for w in (self.task, self.classes, self.clear, self.export):
            w.setEnabled(has_doc)
        self.clear.setEnabled(has_doc and len(painted) > 0)
        self.export.setEnabled(has_doc and len(painted) > 0)
        n = len(painted)
        self.count.setText(f"{n} point{'s' if n != 1 else ''}")
        self.count.setToolTip(painted.summary())

    def clear_points(self) -> bool:
        """Remove every painted point (one undo step)."""
        painted = self.tool.painted
        if not len(painted):
            return False
        return self.tool.edit(painted.cleared(), "Clear Painted Points")

    def export_csv(self, path: str | Path) -> Path | None:
        """Write the painted points to ``path`` as CSV (x, y, class or target)."""
        try:
            written = export_painted_csv(self.tool.painted, path)
        except NNDeskError as exc:
            self.tool.sig_message.emit(str(exc))
            return None
        self.tool.sig_message.emit(
            f"Exported {len(self.tool.painted)} points to {written}."
        )
        return written

    def _ask_path(self) -> str:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export Painted Points", "painted.csv", "CSV files (*.csv)"
        )
        return path

    def _on_export_clicked(self) -> None:
        path = self.ask_path()
        if path:
            self.export_csv(path)

    def _on_task_activated(self, index: int) -> None:
        painted = self.tool.painted
        wanted = 0 if index == 1 else max(2, self.classes.value())
        if (wanted == 0) == (not painted.is_classification):
            return
        self._change_classes(wanted, "Paint Values" if wanted == 0 else "Paint Classes")

    def _on_classes_edited(self) -> None:
        n = self.classes.value()
        if n != self.tool.painted.n_classes:
            self._change_classes(n, f"Set {n} Painted Classes")

    def _change_classes(self, n: int, text: str) -> None:
        try:
            new = self.tool.painted.with_classes(n)
        except NNDeskError as exc:
            self.tool.sig_message.emit(str(exc))
            self.sync()
            return
        if not self.tool.edit(new, text):
            self.sync()

    def _on_class_box_activated(self, index: int) -> None:
        self.tool.set_value(index)

    def _on_value_box_changed(self, value: float) -> None:
        self.tool.set_value(value)

    def _on_brush_changed(self, value: int) -> None:
        self.tool.set_brush(value)

    def _on_erase_toggled(self, on: bool) -> None:
        self.tool.set_erasing(on)
