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
from collections.abc import Iterator

log = logging.getLogger(__name__)

__all__ = [
    "OpenBlas",
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
