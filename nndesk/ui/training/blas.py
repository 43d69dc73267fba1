"""How many threads NumPy's OpenBLAS runs matrix products on while the window
trains, and at what priority.

On a machine with few cores a training run in the window has three busy threads:
the training thread, OpenBLAS's helper (one per further core) and the GUI thread.
OpenBLAS splits each matrix product between the training thread and its helpers
and waits for all of them. The training thread runs niced, so the GUI thread's
redraws come first; OpenBLAS's helpers, started by the main thread when NumPy was
imported, ran at the GUI thread's priority and spun beside it, so training had to
leave a core to the GUI thread (one BLAS thread on 2 cores). ``lower_helper_priority``
gives the helpers the training thread's nice value; then training uses every
core. Fashion-MNIST MLP in the window, two runs of 6 interleaved rounds on 2
cores: 58,900 and 58,100 samples/s on 1 thread, 78,900 and 62,200 on 2 with
niced helpers (2 threads vary more between rounds: 0.84-1.49x of 1 thread); the
GUI thread's ticks kept the same 99th percentile gap (23-24 ms). Between runs
the count is 1 (``idle_threads``): the GUI thread keeps its priority, and its own
products on two threads waited for a niced helper whenever other processes held
the cores.

Only the OpenBLAS that NumPy loaded is found (by its exported
``openblas_set_num_threads``, with or without the ``scipy_`` prefix and the ``64_``
suffix of NumPy's own build); with any other BLAS, or off Linux, nothing changes.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import math
import os
import threading
from collections.abc import Iterable, Iterator
from typing import Any

log = logging.getLogger(__name__)

__all__ = [
    "OpenBlas",
    "default_threads",
    "find_openblas",
    "gui_friendly_threads",
    "idle_threads",
    "lower_helper_priority",
    "threads_for_models",
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
_first_count: list[int] = []  # the count OpenBLAS had when first found


def find_openblas() -> OpenBlas | None:
    """The OpenBLAS loaded in this process (NumPy's), or None; looked up once."""
    if not _found:
        _found.append(_search())
        if _found[0] is not None:
            _first_count.append(_found[0].threads)
    return _found[0]


def default_threads() -> int:
    """The count OpenBLAS chose for itself before this module changed it (its
    ``OPENBLAS_NUM_THREADS`` or the cores): what the command line trains on.
    1 when no OpenBLAS was found."""
    return _first_count[0] if find_openblas() is not None else 1


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


_helpers_lowered: list[bool] = [False]


def lower_helper_priority(nice: int) -> int:
    """Give OpenBLAS's helper threads at least the nice value ``nice`` (Linux).

    The helpers are the native threads NumPy's import started: named like the
    main thread, not the main thread and unknown to ``threading`` (Qt names its
    threads; Numba's workers, found the same way, also compute for training).
    A thread's nice value can only be raised, so they keep it afterwards; the GUI
    thread's own matrix products then share a core with them only when nothing
    else wants it. Returns how many threads were found (0 off Linux).
    """
    try:
        tasks = os.listdir("/proc/self/task")
        main = os.getpid()
        with open(f"/proc/self/task/{main}/comm", encoding="utf-8") as f:
            name = f.read()
    except OSError:
        return 0
    known = {t.native_id for t in threading.enumerate()}
    found = 0
    for task in tasks:
        tid = int(task)
        if tid == main or tid in known:
            continue
        try:
            with open(f"/proc/self/task/{task}/comm", encoding="utf-8") as f:
                if f.read() != name:
                    continue
            found += 1
            if os.getpriority(os.PRIO_PROCESS, tid) < nice:
                os.setpriority(os.PRIO_PROCESS, tid, nice)
        except (FileNotFoundError, ProcessLookupError):  # ended meanwhile
            continue
        except OSError as exc:  # not allowed: training keeps a core free
            log.debug("could not lower thread %d's priority: %s", tid, exc)
            return 0
    _helpers_lowered[0] = True
    return found


def gui_friendly_threads() -> int:
    """Threads for training beside a GUI: every core this process may use once
    OpenBLAS's helpers run niced (``lower_helper_priority``), else all but one."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, cores if _helpers_lowered[0] else cores - 1)


def idle_threads(previous: int) -> int:
    """The count to leave OpenBLAS at between runs: 1 once its helpers run
    niced, else ``previous``.

    A product on more than one thread waits for every helper's share. The GUI
    thread keeps its priority, so on a busy machine its products (a PCA plane, a
    preview's probe) waited for a niced helper that other processes kept from a
    core: a 784x784 eigendecomposition took 2.5-10 s on two threads at load 3,
    0.17 s on one.
    """
    return 1 if _helpers_lowered[0] else previous


SMALL_PRODUCT = 2_000_000
"""Multiply-adds of a network's largest matrix product a batch under which it
trains on one OpenBLAS thread (``threads_for_models``)."""


def threads_for_models(models: Iterable[Any], batch_size: int) -> int | None:
    """1 for networks of small dense products, else None (``gui_friendly_threads``).

    A product under ``SMALL_PRODUCT`` gains little from a second thread, and
    between products OpenBLAS's helper spins for work: training the ring GAN on
    two threads kept the helper 37 % busy (the window's CPU per sample 1.9 times
    headless training's), on one it took none (1.2 times). A layer's product is
    its weight matrix times the rows it meets a batch: ``batch_size`` times the
    positions of its input (the time steps of a sequence; 1 for a flat vector).
    A network with convolution kernels (more than two axes) keeps the default.
    """
    largest = 0
    for model in models:
        for i, layer in enumerate(model.layers):
            shapes = model.input_shapes_of(i)
            positions = math.prod(shapes[0][:-1]) if shapes else 1
            for weight in layer.params.values():
                if weight.ndim > 2:
                    return None
                if weight.ndim == 2:
                    largest = max(largest, int(positions) * int(weight.size))
    return 1 if largest * int(batch_size) < SMALL_PRODUCT else None


@contextlib.contextmanager
def threads_for_training(count: int | None = None) -> Iterator[int | None]:
    """Run OpenBLAS on ``count`` threads meanwhile (default:
    ``gui_friendly_threads``), never more than ``default_threads``.

    Yields the count in force (None when no OpenBLAS was found). Afterwards the
    count is ``idle_threads`` of the previous one, unless someone changed it
    meanwhile. Fewer threads sum a matrix product's terms in another order, so
    results can differ in the last bits from a run on more threads (as they do
    between machines with different numbers of cores).
    """
    blas = find_openblas()
    if blas is None:
        yield None
        return
    previous = blas.threads
    wanted = gui_friendly_threads() if count is None else int(count)
    blas.threads = min(default_threads(), wanted)
    applied = blas.threads
    log.debug("OpenBLAS threads during training: %d (was %d)", applied, previous)
    try:
        yield applied
    finally:
        if blas.threads == applied:
            blas.threads = idle_threads(previous)
