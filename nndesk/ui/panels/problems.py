"""The problems list: every validation problem of the network; clicking one selects its node."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from nndesk.document.validate import Problem

NODE_ROLE = Qt.ItemDataRole.UserRole + 1


class ProblemsPanel(QWidget):
    """Lists the problems from the last shape inference / validation run.

    Signals
    -------
    sig_node_activated(str)
        A problem about a node was clicked: select and show that node.
    """

    sig_node_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("problems_panel")
        self.summary = QLabel(self)
        self.summary.setObjectName("problems_summary")
        self.summary.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setObjectName("problems_list")
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        layout.addStretch(0)  # holds the summary at the top while the list is hidden
        self.list.itemClicked.connect(self._on_item_clicked)
        self.list.itemActivated.connect(self._on_item_clicked)
        self.problems: tuple[Problem, ...] = ()
        self.live: tuple[Problem, ...] = ()  # measured while training (gradient flow)
        self._network: tuple[Problem, ...] = ()
        self.set_problems(())

    def set_live_problems(self, problems: tuple[Problem, ...] | list[Problem]) -> None:
        """Warnings measured while training (gradient flow), listed with the
        network's own problems until replaced (an empty list removes them)."""
        self.live = tuple(problems)
        self.set_problems(self._network)

    def set_problems(self, problems: tuple[Problem, ...] | list[Problem]) -> None:
        """Show ``problems`` and the live ones (errors first, in the order given
        within each severity)."""
        self._network = tuple(problems)
        problems = tuple(sorted((*problems, *self.live), key=lambda p: not p.is_error))
        if problems == self.problems and self.list.count() == len(problems):
            return
        self.problems = problems
        self.list.clear()
        style = self.style()
        error_icon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical)
        warning_icon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        for problem in problems:
            item = QListWidgetItem(problem.message)
            item.setIcon(error_icon if problem.is_error else warning_icon)
            item.setToolTip(problem.message)
            item.setData(NODE_ROLE, problem.node_id)
            self.list.addItem(item)
        # An empty list box said nothing the summary does not, and took the height
        # the palette needs beside the training docks at 1280x800 (issue 11).
        self.list.setHidden(not problems)
        errors = sum(p.is_error for p in problems)
        warnings = len(problems) - errors
        if not problems:
            self.summary.setText("No problems: the network is ready to train.")
        else:
            parts = []
            if errors:
                parts.append(f"{errors} error{'s' if errors != 1 else ''}")
            if warnings:
                parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
            self.summary.setText(", ".join(parts) + ". Click one to select its node.")

    def messages(self) -> list[str]:
        """The listed messages, in display order."""
        return [self.list.item(i).text() for i in range(self.list.count())]

    def _on_item_clicked(self, item: QListWidgetItem) -> None:
        node_id = item.data(NODE_ROLE)
        if node_id:
            self.sig_node_activated.emit(str(node_id))
