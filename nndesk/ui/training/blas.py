"""How many threads NumPy's OpenBLAS runs matrix products on, set while the window trains.

On a machine with few cores a training run in the window has three busy threads:
the training thread, OpenBLAS's helper (one per further core) and the GUI thread.
OpenBLAS splits each matrix product between the training thread and its helpers
and waits for all of them, so whenever the GUI thread redraws on one of their
cores the whole product waits (and the helpers spin meanwhile): on 2 cores every
millisecond of redrawing costs training about two. With one core left to the GUI
thread, training runs undisturbed on the others.

Only the OpenBLAS that NumPy loaded is found (by its exported
``openblas_set_num_threads``, with or without the ``scipy_`` prefix and the ``64_``
suffix of NumPy's own build); with any other BLAS, or off Linux, nothing changes.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import statistics
import time
from collections.abc import Callable, Iterator, Sequence

log = logging.getLogger(__name__)

__all__ = [
    "OpenBlas",
    "ThreadTuner",
    "find_openblas",
    "gui_friendly_threads",
    "threads_for_training",
]

_SYMBOLS = (
    ("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
    ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
    ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
    ("openblas_set_num_threads", "openblas_get_num_threads"),
)


class OpenBlas:
    """The thread-count functions of one loaded OpenBLAS library.

    The count is process-wide (OpenBLAS built with pthreads has no per-thread
    count): every thread's matrix products use it.
    """

    def __init__(self, path: str, setter: ctypes._CFuncPtr, getter: ctypes._CFuncPtr):
        self.path = path
        self._set = setter
        self._get = getter
        self._set.argtypes, self._set.restype = [ctypes.c_int], None
        self._get.argtypes, self._get.restype = [], ctypes.c_int

    @property
    def threads(self) -> int:
        """Threads a matrix product runs on now."""
        return int(self._get())

    @threads.setter
    def threads(self, count: int) -> None:
        self._set(max(1, int(count)))


_found: list[OpenBlas | None] = []


def find_openblas() -> OpenBlas | None:
    """The OpenBLAS loaded in this process (NumPy's), or None; looked up once."""
    if not _found:
        _found.append(_search())
    return _found[0]


def _search() -> OpenBlas | None:
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
            paths = {
                line.split(None, 5)[-1].strip()
                for line in f
                if "openblas" in line.lower() and ".so" in line
            }
    except OSError:  # not Linux: leave the BLAS alone
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)  # already loaded: the same handle, no new copy
        except OSError:
            continue
        for set_name, get_name in _SYMBOLS:
            setter = getattr(lib, set_name, None)
            getter = getattr(lib, get_name, None)
            if setter is not None and getter is not None:
                return OpenBlas(path, setter, getter)
    return None


def gui_friendly_threads() -> int:
    """Threads for training beside a GUI: every core this process may use but one."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


@contextlib.contextmanager
def threads_for_training(count: int | None = None) -> Iterator[int | None]:
    """Run OpenBLAS on at most ``count`` threads meanwhile (default: all cores but one).

    Yields the count in force (None when no OpenBLAS was found). The previous
    count comes back afterwards, unless someone changed it meanwhile. Fewer
    threads sum a matrix product's terms in another order, so results can differ
    in the last bits from a run on more threads (as they do between machines
    with different numbers of cores).
    """
    blas = find_openblas()
    if blas is None:
        yield None
        return
    previous = blas.threads
    wanted = min(previous, gui_friendly_threads() if count is None else int(count))
    blas.threads = wanted
    applied = blas.threads
    log.debug("OpenBLAS threads during training: %d (was %d)", applied, previous)
    try:
        yield applied
    finally:
        if blas.threads == applied:
            blas.threads = previous


class ThreadTuner:
    """Trains on whichever OpenBLAS thread count is faster now, found by timing batches.

    Leaving a core to the GUI thread wins on a busy machine; on an idle one a matrix
    product on every core can be 1.6x faster (Fashion-MNIST MLP, 2 cores: 100k
    against 58k samples/s headless). Which holds changes while a run goes on, so
    every ``period`` seconds the tuner runs ``trial`` batches on each count in
    ``counts`` (the first batch after a switch is not timed), keeps the one with
    the shortest median batch, and trains on it until the next trial. The count
    only changes between batches, in the training thread. Results can differ in
    the last bits between counts (see ``threads_for_training``).

    ``batch_done`` is called at the end of every batch; ``chosen`` is the count in
    force after the last trial (None before the first ends).
    """

    def __init__(
        self,
        blas: OpenBlas | None,
        counts: Sequence[int],
        *,
        trial: int = 6,
        period: float = 20.0,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._blas = blas
        self._counts = tuple(dict.fromkeys(max(1, int(c)) for c in counts))
        self._trial = max(1, int(trial))
        self._period = float(period)
        self._clock = clock
        self._times: dict[int, list[float]] = {}
        self._queue: list[int] = []
        self._skip = False
        self._last: float | None = None
        self._next_trial = clock()
        self.chosen: int | None = None

    @property
    def active(self) -> bool:
        """Whether there is a choice to make (an OpenBLAS and two counts)."""
        return self._blas is not None and len(self._counts) > 1

    def batch_done(self) -> None:
        if not self.active:
            return
        now = self._clock()
        last, self._last = self._last, now
        if not self._queue:
            if now < self._next_trial:
                return
            self._times = {c: [] for c in self._counts}
            self._queue = list(self._counts)
            self._switch(self._queue[0])
            return
        count = self._queue[0]
        if self._skip:
            self._skip = False
        elif last is not None:
            self._times[count].append(now - last)
        if len(self._times[count]) < self._trial:
            return
        self._queue.pop(0)
        if self._queue:
            self._switch(self._queue[0])
            return
        medians = {c: statistics.median(t) for c, t in self._times.items()}
        self.chosen = min(medians, key=medians.__getitem__)
        self._switch(self.chosen)
        self._next_trial = now + self._period
        log.debug("OpenBLAS threads: median batch seconds %s -> %d", medians, self.chosen)

    def _switch(self, count: int) -> None:
        assert self._blas is not None
        self._blas.threads = count
        self._skip = True  # the batch that follows pays for the switch
