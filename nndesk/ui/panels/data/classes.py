"""The Data panel's class chooser: the images of one class of an IDX folder.

A GAN that should draw sneakers only trains on ``fashion-mnist:class=7``
(docs/datasets.md, "One class"); this combo box writes and shows that spec
option. It is shown for IDX data; its classes are the loaded dataset's class
names (all of them stay in a one-class dataset, so the list does not shrink).
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from nndesk.io.datasets import Dataset, format_spec

from .sources import SourceChoice

__all__ = ["ClassChooser", "class_spec"]

ALL = ""
"""The combo's data for "All classes" (no ``class`` option)."""


def class_spec(choice: SourceChoice, value: str) -> str:
    """``choice``'s spec with ``class=value`` (``ALL``: the option removed)."""
    options = {k: v for k, v in choice.options.items() if k != "class"}
    if value != ALL:
        options["class"] = value
    return format_spec(choice.head, options)


class ClassChooser(QWidget):
    """The "Class" row: All classes, 0 · T-shirt/top, … for IDX image data.

    Signals
    -------
    sig_class_chosen(str, str)
        The user picked an entry: the ``class`` option's value (``ALL`` for
        every class) and the text to name the edit by.
    """

    sig_class_chosen = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel("Class", self)
        self.combo = QComboBox(self)
        self.combo.setObjectName("image_class")
        self.combo.setToolTip(
            "Train on the images of one class only (a GAN that draws sneakers)"
        )
        self.combo.activated.connect(self._on_activated)
        layout.addWidget(self.label)
        layout.addWidget(self.combo, 1)
        self._names: list[str] = []
        self.hide()

    def show_choice(self, choice: SourceChoice, is_idx: bool) -> None:
        """Show the chooser for IDX data (hidden otherwise) at ``choice``'s class."""
        self.setVisible(is_idx)
        if is_idx:
            self._select(choice.options.get("class", ALL))

    def show_dataset(self, dataset: Dataset, choice: SourceChoice) -> None:
        """Fill the entries from a loaded IDX dataset's class names."""
        names = list(dataset.class_names or [])
        if names != self._names:
            self._names = names
            with QSignalBlocker(self.combo):
                self.combo.clear()
                self.combo.addItem("All classes", ALL)
                for i, name in enumerate(names):
                    text = name if name == str(i) else f"{i} · {name}"
                    self.combo.addItem(text, str(i))
        self._select(choice.options.get("class", ALL))

    def _select(self, value: str) -> None:
        wanted = value.strip().lower()
        index = 0
        for i, name in enumerate(self._names):
            if wanted in (str(i), name.lower()):
                index = i + 1
        with QSignalBlocker(self.combo):
            self.combo.setCurrentIndex(index if self.combo.count() else -1)

    def _on_activated(self, index: int) -> None:
        value = str(self.combo.itemData(index))
        name = "all classes" if value == ALL else f"class {self._names[int(value)]}"
        self.sig_class_chosen.emit(value, name)
