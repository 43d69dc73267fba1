"""The Data panel's look at a dataset: a scatter of 2-D data, a strip of sample
images, traces of a few sequences, token ids written out as text, the first rows
of a table, and the class counts.

It only draws what it is given (a ``Dataset``, or a CSV head); it never loads.
At most ``MAX_POINTS`` points and ``STRIP_IMAGES`` images are drawn, picked by a
fixed seed, so 60,000 images preview as fast as 400 points.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont, QIcon, QImage, QPalette, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nndesk.io.datasets import Dataset

from ..plots.base import style_plot
from ..plots.boundary import CLASS_COLORS
from .sources import CsvHead

__all__ = ["MAX_POINTS", "STRIP_IMAGES", "DataPreview", "class_counts_text", "sample"]

MAX_POINTS = 2000
"""Most points the scatter draws (a seeded subsample of bigger sets)."""
STRIP_IMAGES = 12
"""Sample images in the strip."""
TABLE_ROWS = 5
THUMB_PX = 56
TRACES = 5
"""Sequences drawn, one above the other, for (time, features) data."""
_MAX_SEQUENCE_FEATURES = 4  # (time, features) wider than this is shown as an image


def sample(n: int, most: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of at most ``most`` of ``n`` samples, the same every time."""
    if n <= most:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=most, replace=False))


def class_counts_text(dataset: Dataset) -> str:
    """The class counts line, e.g. "Class counts: 0 200 · 1 200" (label order)."""
    if not dataset.is_classification:
        y = np.asarray(dataset.y, dtype=np.float64)
        return (
            f"Regression: {dataset.n_targets} target(s), "
            f"from {y.min():.3g} to {y.max():.3g}."
            if len(y)
            else "Regression: no samples."
        )
    counts = dataset.class_counts()
    names = dataset.class_names or [str(i) for i in range(len(counts))]
    parts = [f"{name}: {int(c):,}" for name, c in zip(names, counts, strict=False)]
    return "Class counts: " + " · ".join(parts)


class DataPreview(QWidget):
    """Shows one dataset: scatter (1-D or 2-D features), image strip or first rows.

    Attributes
    ----------
    mode : str
        What is shown: ``"empty"``, ``"scatter"``, ``"images"``, ``"table"`` or
        ``"custom"`` (a widget placed with ``set_custom_widget``, e.g. painting).
    shown : tuple[np.ndarray, np.ndarray] or None
        The scatter's x and y coordinates (tests compare them).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode = "empty"
        self.shown: tuple[np.ndarray, np.ndarray] | None = None
        self._custom: QWidget | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.plot = pg.PlotWidget(self)
        self.plot.setMenuEnabled(False)
        self.plot.setMinimumHeight(12 * self.fontMetrics().height())
        self.plot.hideButtons()
        self.scatter = pg.ScatterPlotItem(size=5, pen=None)
        self.plot.addItem(self.scatter)
        self._traces: list[pg.GraphicsObject] = []  # sequence lines and labels
        # A wrapping icon list: as many images a row as the dock's width allows.
        self.strip = QListWidget(self)
        self.strip.setObjectName("image_strip")
        self.strip.setViewMode(QListView.ViewMode.IconMode)
        self.strip.setResizeMode(QListView.ResizeMode.Adjust)
        self.strip.setWrapping(True)
        self.strip.setMovement(QListView.Movement.Static)
        self.strip.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.strip.setIconSize(QSize(THUMB_PX, THUMB_PX))
        self.strip.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        text_width = self.fontMetrics().horizontalAdvance("T-shirt/top") + 8
        cell_height = THUMB_PX + self.fontMetrics().height() + 10
        self.strip.setGridSize(QSize(max(THUMB_PX, text_width) + 6, cell_height))
        self.strip.setMinimumHeight(3 * cell_height + 8)
        self.table = QTableWidget(self)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.counts = QLabel(self)
        self.counts.setWordWrap(True)
        self.counts.setObjectName("class_counts")
        self.counts.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        layout.addWidget(self.plot)
        for w in (self.strip, self.table, self.counts, self.note):
            layout.addWidget(w)
        layout.addStretch(1)  # a short preview stays at the top
        self._apply_palette()
        self.clear()

    # --- what to show ----------------------------------------------------------------------
    def clear(self, note: str = "") -> None:
        """Show nothing but ``note``."""
        self.mode = "empty"
        self.shown = None
        self.scatter.clear()
        self._clear_traces()
        for w in (self.plot, self.strip, self.table, self.counts):
            w.hide()
        self._hide_custom()
        self.set_note(note)

    def show_dataset(
        self,
        dataset: Dataset,
        note: str = "",
        head: CsvHead | None = None,
        target: int | None = None,
    ) -> None:
        """Show ``dataset`` the way its shape suits: 1-D or 2-D features as a
        scatter, images as a strip, anything else as its first rows. A CSV file's
        ``head`` (its columns, their types and first rows, ``target`` marked) is
        shown below a scatter, or instead of the rows."""
        self._hide_custom()
        shape = dataset.input_shape
        self._clear_traces()
        self.plot.getPlotItem().showAxis("left")
        if dataset.vocabulary is not None and len(shape) == 1:
            self._show_tokens(dataset)
        elif len(shape) == 1 and shape[0] in (1, 2):
            self._show_scatter(dataset)
            if head is not None:
                self._fill_table(head.columns, head.types, head.rows, target)
        elif len(shape) == 2 and shape[1] <= _MAX_SEQUENCE_FEATURES:
            self._show_sequences(dataset)
        elif len(shape) in (2, 3):
            self._show_images(dataset)
        else:
            self._show_rows(dataset, head, target)
        self.counts.setText(class_counts_text(dataset))
        self.counts.show()
        self.set_note(note)

    def show_head(self, head: CsvHead, target: int | None, note: str = "") -> None:
        """Show a CSV file's first rows (before or without a loaded dataset)."""
        self._hide_custom()
        self.mode = "table"
        self.shown = None
        self.plot.hide()
        self.strip.hide()
        self.counts.hide()
        self._fill_table(head.columns, head.types, head.rows, target)
        self.set_note(note)

    def set_custom_widget(self, widget: QWidget | None, note: str = "") -> None:
        """Show ``widget`` (the paint widget of a painted dataset) instead of the
        plot; None takes it away."""
        if widget is self._custom and widget is not None:
            self.set_note(note)
            return
        self._hide_custom()
        if widget is None:
            return
        self._custom = widget
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(0, widget, 1)
        for w in (self.plot, self.strip, self.table):
            w.hide()
        widget.show()
        self.mode = "custom"
        self.set_note(note)

    # --- drawing ----------------------------------------------------------------------------
    def _show_scatter(self, dataset: Dataset) -> None:
        self.mode = "scatter"
        self.strip.hide()
        self.table.hide()
        idx = sample(len(dataset), MAX_POINTS)
        x = np.asarray(dataset.x[idx], dtype=np.float64)
        if x.shape[1] == 2:
            px, py = x[:, 0], x[:, 1]
            names = dataset.feature_names or ["x1", "x2"]
        else:
            px = x[:, 0]
            py = np.asarray(dataset.y[idx], dtype=np.float64).reshape(len(idx), -1)[
                :, 0
            ]
            names = [(dataset.feature_names or ["x"])[0], "target"]
        self.scatter.setData(px, py, brush=self._brushes(dataset, idx))
        # Points in a plane keep their shape; a function of x fills the plot.
        self.plot.setAspectLocked(x.shape[1] == 2)
        self.plot.setLabel("bottom", names[0])
        self.plot.setLabel("left", names[1])
        self.plot.autoRange()
        self.shown = (px, py)
        self.plot.show()

    def _show_sequences(self, dataset: Dataset) -> None:
        """A few samples' first feature over time, one above the other, each with
        its label; a forecast's targets continue its line as dots."""
        self.mode = "sequences"
        self.strip.hide()
        self.table.hide()
        self.scatter.clear()
        idx = sample(len(dataset), TRACES, seed=1)
        x = np.asarray(dataset.x[idx, :, 0], dtype=np.float64)
        steps = x.shape[1]
        targets = None
        if not dataset.is_classification and dataset.input_shape[1] == 1:
            targets = np.asarray(dataset.y[idx], dtype=np.float64)
        both = x if targets is None else np.concatenate([x, targets], axis=1)
        lo, span = float(both.min()), float(np.ptp(both)) or 1.0
        color = self.palette().color(QPalette.ColorRole.Text)
        for row, j in enumerate(idx):
            base = 1.3 * (len(idx) - 1 - row)
            line = pg.PlotDataItem(
                np.arange(steps), base + (x[row] - lo) / span, pen=pg.mkPen(color)
            )
            self._add_trace(line)
            end = steps - 1
            if targets is not None:
                t = np.arange(steps, steps + targets.shape[1])
                dots = pg.ScatterPlotItem(
                    t, base + (targets[row] - lo) / span, size=6,
                    brush=pg.mkBrush(*CLASS_COLORS[1]), pen=None,
                )  # fmt: skip
                self._add_trace(dots)
                end = int(t[-1])
            label = pg.TextItem(
                _label_text(dataset, int(j)), color=color, anchor=(0, 0.5)
            )
            label.setPos(end + 0.5, base + 0.5)
            self._add_trace(label)
        self.plot.setAspectLocked(False)
        self.plot.setLabel("bottom", "time step")
        self.plot.getPlotItem().hideAxis("left")  # traces are offset: no common scale
        self.plot.autoRange()
        self.shown = None
        self.plot.show()

    def _add_trace(self, item: pg.GraphicsObject) -> None:
        self.plot.addItem(item)
        self._traces.append(item)

    def _clear_traces(self) -> None:
        for item in self._traces:
            self.plot.removeItem(item)
        self._traces = []

    def _show_tokens(self, dataset: Dataset) -> None:
        """Token ids written out with the vocabulary, one sample a row."""
        self.mode = "table"
        self.shown = None
        self.plot.hide()
        self.strip.hide()
        vocabulary = dataset.vocabulary or []
        rows = []
        for j in range(min(len(dataset), TABLE_ROWS)):
            text = "".join(vocabulary[int(i)] for i in dataset.x[j])
            rows.append([_visible(text), _visible(_label_text(dataset, j))])
        self._fill_table(["sequence", "label"], ["text", "text"], rows, 1)

    def _brushes(self, dataset: Dataset, idx: np.ndarray) -> list[pg.QtGui.QBrush]:
        if dataset.is_classification:
            colors = CLASS_COLORS[np.asarray(dataset.y[idx]) % len(CLASS_COLORS)]
        else:
            t = np.asarray(dataset.y[idx], dtype=np.float64).reshape(len(idx), -1)[:, 0]
            span = float(t.max() - t.min()) if len(t) else 0.0
            u = (t - t.min()) / span if span > 0 else np.zeros_like(t)
            colors = (1 - u)[:, None] * CLASS_COLORS[0] + u[:, None] * CLASS_COLORS[1]
        brushes = {}
        out = []
        for rgb in colors.astype(int):
            key = tuple(rgb)
            if key not in brushes:
                brushes[key] = pg.mkBrush(*key, 200)
            out.append(brushes[key])
        return out

    def _show_images(self, dataset: Dataset) -> None:
        self.mode = "images"
        self.shown = None
        self.plot.hide()
        self.table.hide()
        self.strip.clear()
        for j in sample(len(dataset), STRIP_IMAGES, seed=1):
            item = QListWidgetItem(
                QIcon(_thumbnail(np.asarray(dataset.x[j]))),
                _label_text(dataset, int(j)),
            )
            item.setToolTip(f"Sample {int(j):,}: {item.text()}")
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
            self.strip.addItem(item)
        self.strip.show()

    def _show_rows(
        self, dataset: Dataset, head: CsvHead | None, target: int | None
    ) -> None:
        self.mode = "table"
        self.shown = None
        self.plot.hide()
        self.strip.hide()
        if head is not None:
            self._fill_table(head.columns, head.types, head.rows, target)
            return
        x = np.asarray(dataset.x[:TABLE_ROWS]).reshape(
            min(len(dataset), TABLE_ROWS), -1
        )
        width = min(x.shape[1], 50)
        names = (dataset.feature_names or [f"x{j}" for j in range(x.shape[1])])[:width]
        rows = [[f"{v:.4g}" for v in r[:width]] for r in x]
        self._fill_table(list(names), ["number"] * width, rows, None)

    def _fill_table(
        self,
        columns: Sequence[str],
        types: Sequence[str],
        rows: Sequence[Sequence[str]],
        target: int | None,
    ) -> None:
        table = self.table
        table.clear()
        table.setColumnCount(len(columns))
        table.setRowCount(len(rows))
        for j, name in enumerate(columns):
            role = "target" if j == target else types[j]
            item = QTableWidgetItem(f"{name}\n{role}")
            if j == target:
                bold = QFont(item.font())
                bold.setBold(True)
                item.setFont(bold)
            table.setHorizontalHeaderItem(j, item)
        for i, row in enumerate(rows):
            for j, cell in enumerate(row):
                table.setItem(i, j, QTableWidgetItem(cell))
        table.resizeRowsToContents()
        header = table.horizontalHeader().sizeHint().height()
        body = sum(table.rowHeight(i) for i in range(len(rows)))
        bar = table.horizontalScrollBar().sizeHint().height()
        table.setFixedHeight(header + body + bar + 2 * table.frameWidth())
        table.show()

    # --- helpers ----------------------------------------------------------------------------
    def _hide_custom(self) -> None:
        if self._custom is not None:
            self._custom.hide()
            self._custom.setParent(None)
            self._custom = None

    def set_note(self, note: str) -> None:
        self.note.setText(note)
        self.note.setVisible(bool(note))

    def _apply_palette(self) -> None:
        palette = self.palette()
        self.plot.setBackground(palette.color(QPalette.ColorRole.Base))
        style_plot(self.plot.getPlotItem(), palette)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        # About square: a spiral in a letterbox is a few pixels tall.
        line = self.fontMetrics().height()
        self.plot.setFixedHeight(
            int(min(max(0.8 * self.width(), 12 * line), 30 * line))
        )

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:
            self._apply_palette()


def _visible(text: str) -> str:
    """Text on one line: newlines and tabs written as arrows."""
    return text.replace("\n", "↵").replace("\t", "→")


def _label_text(dataset: Dataset, index: int) -> str:
    if dataset.is_classification and dataset.y.ndim == 2:
        # a label per time step: the labels written out
        names = dataset.vocabulary or dataset.class_names or []
        return "".join(names[int(k)] for k in dataset.y[index])
    if dataset.is_classification:
        label = int(dataset.y[index])
        names = dataset.class_names
        return names[label] if names and label < len(names) else str(label)
    return f"{float(np.ravel(dataset.y[index])[0]):.3g}"


def _thumbnail(image: np.ndarray) -> QPixmap:
    """A grey (or RGB) thumbnail of one image, stretched to 0-255 by its range."""
    img = np.asarray(image, dtype=np.float64)
    if img.ndim == 3 and img.shape[-1] not in (1, 3):
        img = img[..., 0]
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    lo, hi = float(img.min()), float(img.max())
    scaled = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
    data = np.ascontiguousarray((scaled * 255).astype(np.uint8))
    h, w = data.shape[:2]
    if data.ndim == 3:
        qimage = QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    else:
        qimage = QImage(data.data, w, h, w, QImage.Format.Format_Grayscale8)
    pixmap = QPixmap.fromImage(qimage.copy())
    return pixmap.scaled(
        THUMB_PX,
        THUMB_PX,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.FastTransformation,
    )
