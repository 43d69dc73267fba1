"""Import Numba and load the compiled kernels the GUI thread uses, off the GUI thread.

The first ``import numba`` takes 1.5-4 s (more while other imports run: PySide's
import hook reads each module's source). The preview's forward pass calls a
kernel (``all_finite``), so the first preview after start-up imported Numba in
the GUI thread and froze the window for that long (issue 19: stalls of 1.5-2.3 s
at start-up with seeds 3-5 of the random-input test). ``KernelWarmup`` does it
in a thread of its own as soon as training is attached; the controller shows its
first preview once it is done (a preview asked for meanwhile waits for it).
"""

from __future__ import annotations

import logging
import threading

import numpy as np
from PySide6.QtCore import QObject, Signal

from nndesk.engine.data import all_finite
from nndesk.engine.kernels import numba_enabled, numba_resolved

from .worker import WORKER_NICENESS, lower_thread_priority

log = logging.getLogger(__name__)


class _DoneCarrier(QObject):
    """Carries the thread's "done" to the GUI thread; parentless, so no window owns it.

    The warm-up can outlive its ``KernelWarmup`` (a window closed while Numba
    loads deletes it with its parent); emitting a deleted object's signal raises
    in the thread. The thread keeps this object alive itself, and Qt drops the
    connection to a deleted ``KernelWarmup``.
    """

    done = Signal()


class KernelWarmup(QObject):
    """Loads Numba and the GUI thread's kernels in a background thread.

    Signals
    -------
    sig_done()
        The kernels are ready (sent in the GUI thread; not sent when they were
        ready from the start).
    """

    sig_done = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        if numba_resolved():  # resolved already: nothing to wait for
            self._ready.set()
            return
        # Not a daemon: an import cut off by the interpreter's exit can crash it.
        carrier = _DoneCarrier()
        carrier.done.connect(self.sig_done)
        self._thread = threading.Thread(
            target=self._run, args=(carrier,), name="nndesk-kernels", daemon=False
        )
        self._thread.start()

    @property
    def ready(self) -> bool:
        """Whether the GUI thread can call kernels without waiting for an import."""
        return self._ready.is_set()

    def _run(self, carrier: _DoneCarrier) -> None:
        # Like the training thread: the GUI thread gets the CPU first.
        lower_thread_priority(WORKER_NICENESS)
        try:
            if numba_enabled():
                for dtype in (np.float32, np.float64):
                    all_finite(np.zeros(1, dtype))
        except Exception:  # noqa: BLE001 - the GUI thread then loads them itself
            log.exception("loading the compiled kernels failed")
        finally:
            self._ready.set()
            carrier.done.emit()  # queued to the GUI thread (both objects live there)
