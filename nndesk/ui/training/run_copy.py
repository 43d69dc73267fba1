"""A copy of a running or paused run's trained state, asked for without making the
GUI thread wait for the worker.

The worker copies its state only between two batches. Before the first batch it
may still be preparing the data or loading compiled kernels (the first Numba
import takes seconds), and at the end of an epoch it evaluates; a GUI thread that
waited for the copy there froze for seconds (issue 19: 1-3 s after Step Epoch and
a click on a sample). ``RunCopy.ask`` waits at most ``QUICK_WAIT_S`` (long enough
for a batch of a small network); when the copy is not there by then it returns
None and ``sig_ready`` follows once it arrives (polled by a timer), so the panels
show it then.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from nndesk.training.control import BatchBoundaryCall, TrainingControl
from nndesk.training.session import TrainedState

QUICK_WAIT_S = 0.05
"""How long ``ask`` waits for the worker before it answers later instead."""
POLL_MS = 20


class RunCopy(QObject):
    """The trained state of the run under way, as of a batch boundary.

    Attributes
    ----------
    state : TrainedState or None
        The last copy taken (None before one, and after ``drop``).

    Signals
    -------
    sig_ready()
        A copy that ``ask`` could not wait for has arrived (``state`` holds it).
    """

    sig_ready = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state: TrainedState | None = None
        self._call: BatchBoundaryCall | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    @property
    def pending(self) -> bool:
        """Whether a copy was asked for and has not arrived."""
        return self._call is not None

    def ask(
        self, control: TrainingControl, capture: Callable[[], TrainedState]
    ) -> TrainedState | None:
        """The copy, if at hand or taken within ``QUICK_WAIT_S``; else None, and
        ``sig_ready`` is sent when it arrives. ``capture`` runs in the worker's
        thread between two batches."""
        if self.state is not None:
            return self.state
        if self._call is None:
            self._call = control.call_between_batches(capture)
        if self._call.wait(QUICK_WAIT_S):
            return self._take()
        self._timer.start()
        return None

    def drop(self) -> None:
        """The run trained on: the copy is out of date (one asked for stays asked)."""
        self.state = None

    def forget(self) -> None:
        """The run ended: nothing is copied any more or waited for."""
        self.state = None
        self._call = None
        self._timer.stop()

    def _take(self) -> TrainedState:
        call, self._call = self._call, None
        self._timer.stop()
        assert call is not None
        state = call.result()
        assert isinstance(state, TrainedState)
        self.state = state
        return state

    def _poll(self) -> None:
        if self._call is None:
            self._timer.stop()
        elif self._call.done:
            self._take()
            self.sig_ready.emit()
