"""Race mode in the window: Training > Race…, the race dock, its worker thread, Promote.

``RaceMode`` belongs to the ``TrainingController`` and uses the window only
through the controller's ``TrainingHost``. Race… opens a ``RaceDialog`` on the
current network; the race then runs in one ``RaceWorker`` in a QThread (the worker
never touches a widget; its batch losses arrive throttled) and the Race dock shows
the variants' curves overlaid, their standings and a column per variant of the
decision boundary, weight histograms and evaluation. Pause, Resume and Stop reach
every variant through one ``TrainingControl``.

The race's boundary columns draw inputs of more than two values on one plane,
chosen above them and starting from the main Decision Boundary's choice; a plane
chosen during the race reaches the worker's next probes, one chosen after it is
drawn from the race's kept probers (the variants' final weights).

**Promote winner** puts the chosen variant — its graph, its settings and its
trained state (weights, optimizer state, history, scaling) — into the document as
one step on the window's undo stack (``PromoteVariantCommand``): the graph and
setting edits are the canvas's own commands (tried on a copy of the document
first, as every edit is), and the trained state is adopted by the controller;
Undo brings the network and the state it had back.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoCommand
from PySide6.QtWidgets import QDialog, QDockWidget

from nndesk.document.graph import Document, GraphView
from nndesk.engine.errors import NNDeskError
from nndesk.training.control import TrainingControl
from nndesk.training.planes import Plane
from nndesk.training.race import (
    Entrant,
    check_entrants,
    check_race_memory,
    check_variants_fit,
)
from nndesk.training.session import TrainedState

from ..canvas.commands import (
    AddNodeCommand,
    ConnectCommand,
    DisconnectCommand,
    MacroCommand,
    RemoveNodesCommand,
    SetParamCommand,
    SetSettingCommand,
)
from .probes import Prober
from .race_dialog import RaceDialog
from .race_view import RaceView
from .race_worker import (
    RaceEvaluation,
    RaceJob,
    RaceOutcome,
    RaceProbe,
    RaceProgress,
    RaceStart,
    RaceWorker,
)

if TYPE_CHECKING:
    from .controller import TrainingController

log = logging.getLogger(__name__)

__all__ = ["PromoteVariantCommand", "RaceMode", "graph_edits"]

STOP_TIMEOUT_MS = 60_000
FLOAT_SIZE = (1240, 760)
"""The race window's size when it first opens (at most the screen less
``FRAME_ROOM`` pixels each way)."""
FRAME_ROOM = 40


def graph_edits(doc: Document, target: GraphView, text: str) -> MacroCommand:
    """The canvas commands that turn ``doc`` into ``target``, as one macro.

    Edges between nodes that stay are disconnected first, nodes ``target`` lacks
    (or has with another type) are removed, its new nodes are added under their
    own ids, changed parameters set, its edges connected and changed settings set.
    Built against ``doc`` as it is now; run ``redo`` once on it.
    """
    macro = MacroCommand(text)
    mine = {n.id: n for n in doc.nodes}
    theirs = {n.id: n for n in target.nodes}
    gone = [
        i
        for i, n in mine.items()
        if i not in theirs or theirs[i].type_name != n.type_name
    ]
    kept = set(mine) - set(gone)
    for edge in doc.edges:
        if edge not in target.edges and {edge.src_node, edge.dst_node} <= kept:
            macro.add(DisconnectCommand(doc, edge))
    if gone:
        macro.add(RemoveNodesCommand(doc, gone))
    for node in target.nodes:
        if node.id not in kept:
            macro.add(
                AddNodeCommand(
                    doc, node.type_name, node.params, node.pos, node.label, node.id
                )
            )
            continue
        for name, value in node.params.items():
            if mine[node.id].params.get(name) != value:
                macro.add(SetParamCommand(doc, node.id, name, value))
    present = set(doc.edges)
    for edge in target.edges:
        if edge not in present or not {edge.src_node, edge.dst_node} <= kept:
            macro.add(ConnectCommand(doc, edge))
    for name, value in target.settings.items():
        if doc.settings.get(name) != value:
            macro.add(SetSettingCommand(doc, name, value))
    return macro


class PromoteVariantCommand(QUndoCommand):
    """Promote a race variant: its graph and settings into the document and its
    trained state into the controller, as one undo step."""

    def __init__(
        self,
        edits: MacroCommand,
        controller: TrainingController,
        state: TrainedState,
        previous: TrainedState | None,
        name: str,
    ) -> None:
        super().__init__(f"Promote '{name}'")
        self._edits = edits
        self._controller = controller
        self._state = state
        self._previous = previous
        self._name = name

    def redo(self) -> None:
        self._edits.redo()
        self._controller.adopt_session(self._state)
        self._controller.panel.set_message(
            f"Promoted '{self._name}': its network, settings and trained weights are "
            "the document's now (Undo goes back)."
        )

    def undo(self) -> None:
        self._edits.undo()
        self._controller.adopt_session(self._previous)
        self._controller.panel.set_message(f"Promotion of '{self._name}' undone.")


class RaceMode(QObject):
    """The Race… command, the race dock and the race's worker thread.

    Signals
    -------
    sig_finished(RaceOutcome)
        A race ended (completed, stopped or failed); its thread is gone.

    Attributes
    ----------
    view : RaceView
        The race dock's widget.
    outcome : RaceOutcome or None
        How the last race ended (its variants' trained states for Promote).
    """

    sig_finished = Signal(object)

    def __init__(self, controller: TrainingController) -> None:
        super().__init__(controller)
        self.controller = controller
        self.window = controller.window
        self.control = TrainingControl()
        self.entrants: list[Entrant] = []
        self.outcome: RaceOutcome | None = None
        self._thread: QThread | None = None
        self._worker: RaceWorker | None = None
        self._finished: RaceOutcome | None = None
        self._probers: list[Prober] = []  # the last race's, for a plane after it
        self._closing = False
        self._placed = False  # the race window was placed once
        self.action = QAction("Ra&ce…", self)
        self.action.setObjectName("race")
        self.action.setShortcut(QKeySequence("Ctrl+Shift+R"))
        tip = "Train 2-4 variants of the network on identical batches, side by side"
        self.action.setStatusTip(tip)
        self.action.setToolTip(f"{tip} (Ctrl+Shift+R)")
        self.action.triggered.connect(self.open_dialog)
        menu = controller.view.menu
        menu.insertAction(controller.actions.show_all, self.action)
        menu.insertSeparator(controller.actions.show_all)
        self.view = RaceView()
        # A panel of the window (listed in View > Panels, its place saved with the
        # layout), hidden until a race starts.
        self.dock: QDockWidget = controller.view.window.add_panel(
            self.view, "Race", "race_dock"
        )
        self.dock.hide()
        self.view.sig_pause_requested.connect(self.pause)
        self.view.sig_resume_requested.connect(self.resume)
        self.view.sig_stop_requested.connect(self.stop)
        self.view.sig_promote_requested.connect(self.promote)
        self.view.sig_plane_changed.connect(self._on_view_plane_changed)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    @property
    def is_running(self) -> bool:
        """Whether a race's thread exists."""
        return self._thread is not None

    # --- starting ---------------------------------------------------------------------
    def open_dialog(self) -> None:
        """Race…: choose the variants, then race them in the background."""
        doc = self.window.document
        if doc is None:
            return
        if self.is_running:
            self._show_dock()
            return
        path = self.window.path
        dialog = RaceDialog(
            doc.snapshot(),
            state=self.controller.current_state(),
            base_dir=path.parent if path is not None else None,
            parent=self.window,  # type: ignore[arg-type]
        )
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.start(dialog.entrants(), dialog.epochs.value())

    def start(self, entrants: Sequence[Entrant], epochs: int) -> bool:
        """Race ``entrants`` for ``epochs`` epochs on the window's dataset.

        Refusals (no dataset, variants that cannot race together, not enough
        memory) are one sentence in the race view and an error dialog; False then.
        """
        if self.is_running:
            return False
        dataset = self.window.dataset
        try:
            if dataset is None:
                raise NNDeskError(
                    self.window.dataset_error
                    or (
                        "The dataset is still loading: start the race when it is."
                        if self.window.dataset_loading
                        else "A race needs data: choose a dataset in the network "
                        "settings first."
                    )
                )
            check_entrants(entrants)
            check_variants_fit(entrants, dataset)
            check_race_memory([e.view for e in entrants], dataset)
        except NNDeskError as exc:
            self._refuse(str(exc))
            return False
        self.entrants = list(entrants)
        self.outcome = None
        self.control.reset()
        job = RaceJob(tuple(entrants), dataset, int(epochs))
        worker = RaceWorker(job, self.control)
        thread = QThread()
        thread.setObjectName("nndesk-race")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.sig_finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.sig_started.connect(self._on_worker_started)
        worker.sig_progress.connect(self._on_worker_progress)
        worker.sig_probe_ready.connect(self._on_worker_probe_ready)
        worker.sig_evaluated.connect(self._on_worker_evaluated)
        worker.sig_failed.connect(self._on_worker_failed)
        worker.sig_finished.connect(self._on_worker_finished)
        thread.finished.connect(self._on_thread_finished)
        self._worker, self._thread = worker, thread
        self._probers = []
        # The columns start on the main Decision Boundary's plane.
        choice = self.controller.boundary.chooser.choice()
        self.view.begin([e.name for e in entrants], choice)
        self.view.set_running(True)
        self.view.status.setText(
            f"Preparing {len(entrants)} variants on {dataset.name}…"
        )
        self._show_dock()
        thread.start()
        return True

    def _show_dock(self) -> None:
        """Show the race in a window of its own over the main window (the first
        time): a column per variant needs more room than a slot among the training
        panels has. Its title bar docks it like any panel."""
        if not self.dock.isVisible() and not self._placed:
            self._placed = True
            self.dock.setFloating(True)
            frame = self.window.geometry()  # type: ignore[attr-defined]
            screen = self.window.screen().availableGeometry()  # type: ignore[attr-defined]
            # Room for the window frame the platform adds around it.
            room_w, room_h = screen.width() - FRAME_ROOM, screen.height() - FRAME_ROOM
            width, height = min(FLOAT_SIZE[0], room_w), min(FLOAT_SIZE[1], room_h)
            self.dock.resize(width, height)
            x = frame.center().x() - width // 2
            y = frame.center().y() - height // 2
            x = max(screen.left(), min(x, screen.left() + room_w - width))
            y = max(screen.top(), min(y, screen.top() + room_h - height))
            self.dock.move(x, y)
        self.dock.show()
        self.dock.raise_()

    def _refuse(self, message: str) -> None:
        self.view.status.setText(message)
        self.controller.panel.set_message(message, error=True)
        self.window.show_error(message)

    # --- steering ---------------------------------------------------------------------
    def pause(self) -> None:
        if self.is_running:
            self.control.pause()
            self.view.status.setText("Paused (Resume goes on).")

    def resume(self) -> None:
        if self.is_running:
            self.control.resume()
            self.view.status.setText("Racing…")

    def stop(self) -> None:
        if self.is_running:
            self.control.stop()
            self.view.status.setText("Stopping after the current batch…")

    def shutdown(self, timeout_ms: int = STOP_TIMEOUT_MS) -> bool:
        """Stop a race and wait for its thread (the window closes)."""
        self._closing = True
        thread = self._thread
        if thread is None:
            return True
        self.control.stop()
        finished = thread.wait(timeout_ms)
        if not finished:
            log.error("the race thread did not stop within %d ms", timeout_ms)
        return bool(finished)

    # --- what the worker reports --------------------------------------------------------
    def _on_worker_started(self, start: RaceStart) -> None:
        for i, info in enumerate(start.infos):
            x, y = start.data[i]
            self.view.set_structure(i, info, x, y, start.preprocessing[i])
        self.view.status.setText(
            f"Racing {len(start.names)} variants for {start.epochs} epochs on "
            "identical batches…"
        )

    def _on_worker_progress(self, progress: RaceProgress) -> None:
        curves = self.view.curves
        for index, (steps, losses) in progress.batches.items():
            curves.add_batches(index, steps, losses)
        for index, logs in progress.epochs:
            curves.add_epoch(index, logs)
        done = progress.round
        if done is not None:
            self.view.show_standings(done.standings, done.leader)

    def _on_worker_probe_ready(self, probe: RaceProbe) -> None:
        self.view.show_probe(probe.index, probe.probe)

    def _on_worker_evaluated(self, result: RaceEvaluation) -> None:
        self.view.show_evaluation(result.index, result.evaluation)

    def _on_view_plane_changed(self, plane: Plane | None) -> None:
        """Every column's grid on ``plane``: the running race's next probes, or
        now from the last race's final weights."""
        if self._worker is not None:
            self._worker.set_plane(plane)
            return
        outcome = self.outcome
        for index, prober in enumerate(self._probers):
            standings = outcome.standings if outcome is not None else []
            epochs = standings[index].epochs if index < len(standings) else 0
            epoch = max(0, epochs - 1)
            probe = prober.probe(
                0, epoch, float(epoch + 1), gradients=False, samples=False,
                plane=plane,
            )  # fmt: skip
            self.view.show_grid(index, probe.grid)

    def _on_worker_failed(self, message: str) -> None:
        if not self._closing:
            self._refuse(message)

    def _on_worker_finished(self, outcome: RaceOutcome) -> None:
        self._finished = outcome

    def _on_thread_finished(self) -> None:
        thread, worker = self._thread, self._worker
        if thread is None:
            return
        self._thread = self._worker = None
        thread.wait()
        thread.deleteLater()
        probed_on = None
        if worker is not None:
            self._probers = list(worker.probers)
            probed_on = worker.probed_plane
            worker.deleteLater()
        outcome, self._finished = self._finished, None
        if self._closing or outcome is None:
            return
        self.outcome = outcome
        if self._probers and self.view.plane is not probed_on:
            # The columns' plane came after the race's final probes (a race of a
            # few epochs ends before the view has made it): draw them on it now
            # from the final weights, as for a plane chosen after the race.
            self._on_view_plane_changed(self.view.plane)
        promotable = bool(outcome.states)
        self.view.set_running(False, can_promote=promotable)
        if outcome.standings:
            self.view.show_standings(outcome.standings, outcome.leader)
            self.view.winner.setCurrentIndex(outcome.leader)
        if outcome.status != "failed":
            leader = outcome.names[outcome.leader]
            ended = "stopped" if outcome.status == "stopped" else "finished"
            self.view.status.setText(
                f"The race {ended}: '{leader}' leads. Promote winner puts the chosen "
                "variant into the document."
            )
        self.sig_finished.emit(outcome)

    # --- promote ----------------------------------------------------------------------
    def promote(self, index: int) -> bool:
        """Put variant ``index`` of the last race into the document (one undo step).

        Returns False (with the reason in the race view) when there is nothing to
        promote or the window is training.
        """
        doc = self.window.document
        outcome = self.outcome
        if doc is None or outcome is None or not 0 <= index < len(outcome.states):
            return False
        if self.controller.is_active:
            self.view.status.setText(
                "Stop the training run before promoting a variant."
            )
            return False
        state = outcome.states[index]
        name = outcome.names[index]
        text = f"Promote '{name}'"
        try:  # on a copy first, as every edit (CanvasEditor.push)
            graph_edits(doc.copy(), state.snapshot, text).redo()
        except NNDeskError as exc:
            self.view.status.setText(f"'{name}' cannot be promoted: {exc}")
            return False
        command = PromoteVariantCommand(
            graph_edits(doc, state.snapshot, text),
            self.controller,
            state,
            self.controller.current_state(),
            name,
        )
        self.window.undo_stack.push(command)
        self.view.status.setText(
            f"Promoted '{name}' into the document (Edit > Undo goes back)."
        )
        return True
