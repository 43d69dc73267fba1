"""Gradient flow on the canvas, Training > Check Gradients and Training > Speed.

``Diagnostics`` belongs to the ``TrainingController``:

- ``show_flow`` (a slot of the worker's ``sig_gradient_flow``) puts each layer's
  gradient norm, update ratio and dead units under its node on the canvas and
  under its column in the Network panel, and lists the layers whose gradients
  vanish or explode (or whose ReLU units mostly died) in the Problems dock, one
  sentence each with a suggestion.
- **Check Gradients** opens ``GradientCheckDialog``: a float64 finite-difference
  check of the network as the window shows it (a running run's state as of its
  last batch), on 8 training samples, in a background thread; a table gives the
  relative error of every layer.
- **Speed** opens ``SpeedDialog``: the training samples per second of the NumPy
  and of the Numba kernels on this network, and which kernels run compiled, each
  path timed in a child process (``nndesk.training.diagnostics``).
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nndesk.document.validate import Problem
from nndesk.engine.errors import NNDeskError
from nndesk.engine.gradcheck import GOOD_ERROR, WRONG_ERROR, GradientCheck
from nndesk.io.datasets import Dataset
from nndesk.io.project_file import Project, save_project
from nndesk.training import diagnostics
from nndesk.training.gradient_flow import FlowReport
from nndesk.training.session import TrainingSession

from ..canvas.items.flow_badge import FlowBadges
from ..log_file import error_sentence

if TYPE_CHECKING:
    from .controller import TrainingController

log = logging.getLogger(__name__)

__all__ = ["Diagnostics", "GradientCheckDialog", "SpeedDialog", "verdict"]


def verdict(error: float) -> str:
    """How a relative error reads: right, suspicious or wrong."""
    if error <= GOOD_ERROR:
        return "right"
    if error <= WRONG_ERROR:
        return "suspicious"
    return "wrong"


class _Job(QObject):
    """Runs ``fn(should_stop)`` in a daemon thread; results arrive as signals in
    the GUI thread (the receiver lives there)."""

    sig_progress = Signal(object)
    sig_done = Signal(object)
    sig_failed = Signal(str)

    def __init__(self, parent: QObject, what: str) -> None:
        super().__init__(parent)
        self.what = what
        self._stop = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self, fn: Callable[[_Job], Any]) -> None:
        self.thread = threading.Thread(
            target=self._run, args=(fn,), name=f"nndesk-{self.what}", daemon=True
        )
        self.thread.start()

    def _run(self, fn: Callable[[_Job], Any]) -> None:
        try:
            result = fn(self)
        except Exception as exc:  # noqa: BLE001 - one sentence reaches the user
            if not isinstance(exc, NNDeskError):
                log.exception("%s failed", self.what)
            self.emit(self.sig_failed, error_sentence(exc, f"The {self.what} failed"))
            return
        self.emit(self.sig_done, result)

    def emit(self, signal: Any, value: object) -> None:
        """Emit from the job's thread, unless the job was stopped (its dialog
        closed or started another) or its QObject is gone (the window closed)."""
        if self._stop.is_set():
            return
        try:
            signal.emit(value)
        except RuntimeError:  # the C++ object was deleted meanwhile
            self._stop.set()

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()


def _table(headers: list[str], parent: QWidget) -> QTableWidget:
    table = QTableWidget(0, len(headers), parent)
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table


def _cell(text: str, right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if right:
        item.setTextAlignment(
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        )
    return item


class _JobDialog(QDialog):
    """A non-modal dialog with a status line, a table and Close; its job stops
    when it closes."""

    def __init__(self, title: str, headers: list[str], parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.status = QLabel(self)
        self.status.setObjectName("status")
        self.status.setWordWrap(True)
        self.table = _table(headers, self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.job: _Job | None = None
        self.error = ""
        self.resize(self.fontMetrics().averageCharWidth() * 90, 360)

    def run(self, what: str, fn: Callable[[_Job], Any]) -> None:
        if self.job is not None:
            self.job.stop()
        self.error = ""
        self.table.setRowCount(0)
        job = _Job(self, what)
        job.sig_done.connect(self._on_job_done)
        job.sig_failed.connect(self._on_job_failed)
        job.sig_progress.connect(self._on_job_progress)
        self.job = job
        job.start(fn)

    @property
    def busy(self) -> bool:
        return (
            self.job is not None
            and self.job.thread is not None
            and self.job.thread.is_alive()
        )

    def _on_job_done(self, result: object) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _on_job_progress(self, value: object) -> None:
        """A part of the result arrived (the speed dialog's first path)."""

    def _on_job_failed(self, message: str) -> None:
        self.error = message
        self.status.setText(message)

    def done(self, code: int) -> None:  # noqa: D102 - stops the job on close
        if self.job is not None:
            self.job.stop()
        super().done(code)


class GradientCheckDialog(_JobDialog):
    """The relative error of every layer of a float64 finite-difference check."""

    HEADERS = ["Layer", "Arrays", "Values checked", "Relative error", "Verdict"]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Check Gradients", self.HEADERS, parent)
        self.setObjectName("gradient_check_dialog")
        self.result: GradientCheck | None = None

    def start(self, project: Project, dataset: Dataset, base_dir: Path | None) -> None:
        """Check ``project``'s network and weights on ``dataset`` in the background."""
        self.result = None
        self.status.setText(
            f"Checking the gradients in float64 on {diagnostics.CHECK_BATCH} "
            "training samples…"
        )

        def work(job: _Job) -> GradientCheck:
            session = TrainingSession.from_project(project, base_dir=base_dir)
            data = session.prepare(dataset)
            return diagnostics.network_gradient_check(
                session.snapshot,
                session.model.get_weights(),
                data.x_train,
                should_stop=lambda: job.stopped,
            )

        self.run("gradient check", work)

    def _on_job_done(self, result: object) -> None:
        assert isinstance(result, GradientCheck)
        self.result = result
        rows: dict[str, list[Any]] = {}
        for a in result.arrays:
            row = rows.setdefault(a.layer, [0, 0, 0, 0.0])
            row[0] += 1
            row[1] += a.checked
            row[2] += a.size
            row[3] = max(row[3], a.relative_error)
        self.table.setRowCount(len(rows))
        for i, (layer, (arrays, checked, size, error)) in enumerate(rows.items()):
            cells = [
                _cell(layer),
                _cell(str(arrays), True),
                _cell(f"{checked:,} of {size:,}", True),
                _cell(f"{error:.2e}", True),
                _cell(verdict(error)),
            ]
            for j, cell in enumerate(cells):
                self.table.setItem(i, j, cell)
        checked = sum(a.checked for a in result.arrays)
        worst = result.worst
        what = {
            "right": "the gradients are right",
            "suspicious": "look at the layers marked suspicious (a ReLU or max-pool "
            "kink near a value can cause it)",
            "wrong": "a layer's backward pass is wrong",
        }[verdict(worst)]
        self.status.setText(
            f"Worst relative error {worst:.2e} over {checked:,} values, "
            f"{result.batch} samples, ε = {result.eps:g}: {what}."
        )


class SpeedDialog(_JobDialog):
    """Samples per second of the NumPy and the Numba kernels, and which kernels
    run compiled."""

    HEADERS = ["Kernels", "Samples/s", "Compiled kernels"]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Training Speed", self.HEADERS, parent)
        self.setObjectName("speed_dialog")
        self.results: list[diagnostics.SpeedResult] = []
        self.note = ""
        self.kernels = QLabel(self)
        self.kernels.setObjectName("kernels")
        self.kernels.setWordWrap(True)
        self.kernels.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        box = self.layout()
        assert isinstance(box, QVBoxLayout)
        box.setStretch(1, 0)  # the two-row table keeps its height
        box.insertWidget(2, self.kernels)
        box.insertStretch(3, 1)
        self.table.setRowCount(2)
        self.table.setMaximumHeight(self.fontMetrics().height() * 6)

    def start(
        self,
        project: Project,
        base_dir: Path | None,
        batches: int,
        training: bool = False,
    ) -> None:
        """Time ``project``'s network on both kernel paths in the background
        (``training``: a run goes on meanwhile, which the status line says)."""
        self.note = (
            " Training runs meanwhile, so both paths read slower than on an idle "
            "machine."
            if training
            else ""
        )
        self.results = []
        self.kernels.setText("")
        installed = diagnostics.numba_installed()
        self.status.setText(
            "Timing training batches for a second or more on the NumPy kernels"
            + (" and on the Numba kernels…" if installed else "…")
            + self.note
        )

        def work(job: _Job) -> list[diagnostics.SpeedResult]:
            with tempfile.TemporaryDirectory(prefix="nndesk-speed-") as folder:
                path = Path(folder) / "network.nndesk"
                save_project(path, project)
                results = []
                for which in ("numpy", "numba"):
                    if job.stopped:
                        break
                    result = diagnostics.measure_speed(
                        path, base_dir, which, batches=batches
                    )
                    results.append(result)
                    job.emit(job.sig_progress, result)
                return results

        self.run("speed measurement", work)
        self.table.setRowCount(2)

    def _on_job_progress(self, value: object) -> None:
        assert isinstance(value, diagnostics.SpeedResult)
        self.results.append(value)
        self._show()

    def _on_job_done(self, result: object) -> None:
        self._show(finished=True)

    def _show(self, finished: bool = False) -> None:
        names = {"numpy": "NumPy", "numba": "Numba"}
        for i, r in enumerate(self.results):
            speed = f"{r.samples_per_sec:,.0f}" if r.samples_per_sec else r.message
            compiled = f"{len(r.compiled)} of {len(r.kernels)}" if r.kernels else "–"
            for j, text in enumerate((names[r.path], speed, compiled)):
                self.table.setItem(i, j, _cell(text, right=j == 1))
        by_path = {r.path: r for r in self.results}
        numpy, numba = by_path.get("numpy"), by_path.get("numba")
        if not finished:
            return
        parts = []
        if numba is not None and numba.message:
            parts.append(f"{numba.message} Only the NumPy kernels run.")
        elif numpy and numba and numpy.samples_per_sec and numba.samples_per_sec:
            ratio = numba.samples_per_sec / numpy.samples_per_sec
            parts.append(
                f"On this network Numba trains {ratio:.2f}× as fast as NumPy "
                f"(batch {numba.batch_size}, {numpy.batches:,} and "
                f"{numba.batches:,} batches timed)."
            )
        self.status.setText((" ".join(parts) or "Done.") + self.note)
        shown = numba if numba is not None and numba.kernels else numpy
        if shown is not None and shown.kernels:
            lines = [
                f"{k.name} ({k.family}): {'compiled' if k.compiled else 'NumPy'}"
                for k in shown.kernels
            ]
            self.kernels.setText(
                "Kernels a training step of this network calls:\n" + "\n".join(lines)
            )


class Diagnostics(QObject):
    """Gradient flow display and the two diagnostic commands of a controller."""

    SPEED_BATCHES = diagnostics.SPEED_BATCHES

    def __init__(self, controller: TrainingController) -> None:
        super().__init__(controller)
        self.controller = controller
        window = controller.window
        self.window = window
        self.badges = FlowBadges(window.editor.scene)
        self.last_report: FlowReport | None = None
        self.check_gradients = QAction("Check &Gradients…", self)
        self.check_gradients.setObjectName("check_gradients")
        self.check_gradients.setShortcut(QKeySequence("Ctrl+F7"))
        self.check_gradients.setStatusTip(
            "Compare the network's gradients with finite differences in float64, "
            "layer by layer"
        )
        self.speed = QAction("Training &Speed…", self)
        self.speed.setObjectName("training_speed")
        self.speed.setShortcut(QKeySequence("Ctrl+Shift+F7"))
        self.speed.setStatusTip(
            "Time this network on the NumPy and the Numba kernels, and list which "
            "kernels run compiled"
        )
        menu = controller.view.menu
        menu.addSeparator()
        menu.addAction(self.check_gradients)
        menu.addAction(self.speed)
        self.check_gradients.triggered.connect(self.open_gradient_check)
        self.speed.triggered.connect(self.open_speed)
        window.sig_document_replaced.connect(self._on_window_document_replaced)
        window.editor.scene.sig_status_changed.connect(self._on_scene_status_changed)
        self.check_dialog: GradientCheckDialog | None = None
        self.speed_dialog: SpeedDialog | None = None

    # --- gradient flow -----------------------------------------------------------------
    @Slot(object)
    def show_flow(self, report: FlowReport) -> None:
        """Show a measurement on the canvas, in the Network panel and, for layers
        with a problem, in the Problems dock."""
        self.last_report = report
        self.badges.show(report)
        self.controller.network.set_gradient_flow(report)
        live = tuple(
            Problem(name, sentence, "warning") for name, sentence in report.warnings()
        )
        problems = self.window.problems
        if live != problems.live:
            problems.set_live_problems(live)

    def clear_flow(self) -> None:
        """Forget the last measurement (another network)."""
        self.last_report = None
        self.badges.clear()
        self.controller.network.set_gradient_flow(None)
        self.window.problems.set_live_problems(())

    def _on_window_document_replaced(self, _doc: object) -> None:
        self.clear_flow()

    def _on_scene_status_changed(self, _status: object) -> None:
        # A layer deleted since the run: its warning goes too.
        problems = self.window.problems
        nodes = {item.node_id for item in self.window.editor.scene.node_items()}
        kept = tuple(p for p in problems.live if p.node_id in nodes)
        if kept != problems.live:
            problems.set_live_problems(kept)

    # --- commands ----------------------------------------------------------------------
    def _refuse(self, message: str) -> None:
        """Say why a command cannot run now where Train says it, without a dialog
        (a dialog at each press of Ctrl+F7 on an empty canvas, found by random
        input)."""
        self.controller.panel.set_message(message, error=True)

    def _inputs(self) -> tuple[Project, Path | None] | None:
        """The network as shown now, or None after saying why not."""
        if self.controller.gan.active:
            self._refuse(
                "Check Gradients and Training Speed take one network, and this "
                "drawing is a GAN of two (its Noise node makes it one)."
            )
            return None
        try:
            project = self.controller.project()
        except NNDeskError as exc:
            self._refuse(str(exc))
            return None
        if project is None:
            self._refuse("There is no network to check: open or build one.")
            return None
        path = self.window.path
        return project, path.parent if path is not None else None

    def open_gradient_check(self) -> GradientCheckDialog | None:
        """Training > Check Gradients: check the network as shown, in the background."""
        inputs = self._inputs()
        if inputs is None:
            return None
        dataset = self.window.dataset
        if dataset is None:
            self._refuse(
                "The gradient check needs the training data: load the dataset "
                "the settings name first."
            )
            return None
        if self.check_dialog is None:
            self.check_dialog = GradientCheckDialog(self.window)  # type: ignore[arg-type]
        self.check_dialog.start(inputs[0], dataset, inputs[1])
        self.check_dialog.show()
        self.check_dialog.raise_()
        return self.check_dialog

    def open_speed(self) -> SpeedDialog | None:
        """Training > Speed: time the network on both kernel paths."""
        inputs = self._inputs()
        if inputs is None:
            return None
        if self.speed_dialog is None:
            self.speed_dialog = SpeedDialog(self.window)  # type: ignore[arg-type]
        self.speed_dialog.start(
            inputs[0], inputs[1], self.SPEED_BATCHES, self.controller.is_active
        )
        self.speed_dialog.show()
        self.speed_dialog.raise_()
        return self.speed_dialog
