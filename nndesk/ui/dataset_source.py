"""Loads the dataset a network's settings name: cheap ones at once, big ones in a thread.

``DatasetSource`` lives in the GUI thread and keeps the last few datasets loaded.
Datasets that take a moment at most (generators of up to ``quick_samples`` samples,
files up to ``quick_bytes``, and anything that fails before reading, such as a
missing file) load inline; the rest load in a ``DatasetWorker`` on its own QThread.
The worker touches no widget and only calls ``load_dataset``; its results come back
through queued signals to the source's bound slots, which drop them when a newer
request superseded theirs.
"""

from __future__ import annotations

import logging
import os
import stat
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from nndesk.document.painted import PaintedPoints
from nndesk.engine.errors import NNDeskError
from nndesk.io.datasets import (
    GENERATORS,
    Dataset,
    DatasetError,
    data_search_path,
    load_dataset,
    parse_spec,
)
from nndesk.io.datasets.base import stat_path
from nndesk.io.datasets.painted import is_painted_spec
from nndesk.io.datasets.text import TEXT

from .log_file import details_hint

log = logging.getLogger(__name__)

DatasetKey = tuple[Any, ...]

QUICK_SAMPLES = 50_000
"""Generators up to this many samples are made inline (a few milliseconds)."""
QUICK_BYTES = 1_000_000
"""Files (or IDX folders) up to this size are read inline."""
CACHE_SIZE = 2
"""Datasets kept, so undoing a dataset change does not read the old one again."""
STOP_TIMEOUT_MS = 30_000


def dataset_key(
    settings: Mapping[str, Any],
    base_dir: Path | None,
    painted: PaintedPoints | None = None,
) -> DatasetKey:
    """What decides which dataset the settings name (spec, target, seed, folder,
    and the painted points when the spec is ``painted``)."""
    spec = settings.get("dataset", "")
    return (
        spec,
        settings.get("dataset_target", ""),
        settings.get("seed", 0),
        str(base_dir) if base_dir is not None else None,
        painted if is_painted_spec(spec) else None,
    )


def load_settings(
    settings: Mapping[str, Any],
    base_dir: Path | None,
    painted: PaintedPoints | None = None,
) -> Dataset | None:
    """The dataset the settings name, made or read now; None when none is chosen.

    Generators are seeded with the network's ``seed`` setting (unless the spec has
    its own ``seed=``), so the data shown is the data trained on; the spec
    ``painted`` names ``painted``, the document's painted points.

    Raises
    ------
    nndesk.io.errors.DatasetError
        When it cannot be made or read (one sentence naming file or option).
    """
    spec = str(settings.get("dataset", "")).strip()
    if not spec:
        return None
    target = str(settings.get("dataset_target", "")).strip() or None
    target_arg: str | int | None = target
    if target is not None and target.lstrip("-").isdigit():
        target_arg = int(target)
    dataset = load_dataset(
        spec,
        target=target_arg,
        seed=int(settings.get("seed", 0)),
        base_dir=base_dir,
        painted=painted,
    )
    log.info("loaded dataset %s", dataset.source)
    return dataset


def _size_on_disk(path: Path, info: os.stat_result) -> int:
    if not stat.S_ISDIR(info.st_mode):
        return info.st_size
    return sum(p.stat().st_size for p in path.iterdir() if p.is_file())


def _find_file(head: str, base_dir: Path | None) -> tuple[Path, os.stat_result] | None:
    # The same places load_dataset looks in; a miss means it fails at once. A name
    # the file system refuses (too long) is no file, as for the readers.
    path = Path(head).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    candidates = [path]
    if not any(sep in head for sep in ("/", "\\")) and not head.startswith("."):
        candidates += [folder / head for folder in data_search_path()]
    for candidate in candidates:
        info = stat_path(candidate, "Dataset path")
        if info is not None:
            return candidate, info
    return None


class DatasetWorker(QObject):
    """Loads one dataset when its thread starts (``run``); never touches a widget.

    Signals
    -------
    sig_loaded(int, object)
        The request id and the Dataset (or None when none is chosen).
    sig_failed(int, str)
        The request id and one sentence for the user.
    sig_finished()
        Always last.
    """

    sig_loaded = Signal(int, object)
    sig_failed = Signal(int, str)
    sig_finished = Signal()

    def __init__(
        self,
        request_id: int,
        settings: Mapping[str, Any],
        base_dir: Path | None,
        painted: PaintedPoints | None = None,
    ) -> None:
        super().__init__()
        self.request_id = request_id
        self.settings = dict(settings)
        self.base_dir = base_dir
        self.painted = painted  # immutable: safe to read from the worker's thread

    @Slot()
    def run(self) -> None:
        """Load, report the result, then finish."""
        try:
            dataset = load_settings(self.settings, self.base_dir, self.painted)
        except NNDeskError as exc:
            self.sig_failed.emit(self.request_id, str(exc))
        except Exception as exc:  # noqa: BLE001 - reported as one sentence
            log.exception("loading dataset %r failed", self.settings.get("dataset"))
            name = self.settings.get("dataset", "")
            self.sig_failed.emit(
                self.request_id,
                f"Loading the dataset '{name}' failed ({type(exc).__name__}); "
                f"{details_hint()}.",
            )
        else:
            self.sig_loaded.emit(self.request_id, dataset)
        finally:
            self.sig_finished.emit()


class DatasetSource(QObject):
    """Makes or reads the dataset of a network, reusing recent ones when unchanged.

    Parameters
    ----------
    parent
        Owner in the GUI thread (the main window).

    Attributes
    ----------
    quick_samples, quick_bytes : int
        Up to these sizes a dataset loads inline (tests set them to 0 to force
        the background path).
    painted : callable() -> PaintedPoints or None
        The painted points the spec ``painted`` names (the window's document's).

    Signals
    -------
    sig_loaded(object, object)
        The key and the dataset of the latest request, loaded in the background.
    sig_failed(object, str)
        The key of the latest request and the sentence saying why it failed.
    sig_busy_changed(bool)
        A background load started (True) or the latest one ended (False).
    """

    sig_loaded = Signal(object, object)
    sig_failed = Signal(object, str)
    sig_busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.quick_samples = QUICK_SAMPLES
        self.quick_bytes = QUICK_BYTES
        self.painted: Callable[[], PaintedPoints | None] = lambda: None
        self._cache: OrderedDict[DatasetKey, Dataset | None] = OrderedDict()
        self._jobs: dict[int, tuple[QThread, DatasetWorker, DatasetKey]] = {}
        self._next_id = 0
        self._latest: int | None = None
        self._last: Dataset | None = None

    # -- queries -------------------------------------------------------------------------

    @property
    def dataset(self) -> Dataset | None:
        """The dataset loaded last."""
        return self._last

    @property
    def busy(self) -> bool:
        """Whether the latest request is still loading in the background."""
        return self._latest is not None

    @property
    def pending_key(self) -> DatasetKey | None:
        """The key of the dataset loading in the background, if any."""
        if self._latest is None:
            return None
        return self._jobs[self._latest][2]

    def key(self, settings: Mapping[str, Any], base_dir: Path | None) -> DatasetKey:
        """``dataset_key`` of the settings, with the painted points at hand."""
        return dataset_key(settings, base_dir, self.painted())

    def is_quick(self, settings: Mapping[str, Any], base_dir: Path | None) -> bool:
        """Whether loading what the settings name takes a moment at most."""
        spec = str(settings.get("dataset", "")).strip()
        if not spec or is_painted_spec(spec):
            return True
        try:
            head, options = parse_spec(spec)
        except DatasetError:
            return True
        generator = GENERATORS.get(head)
        if generator is not None:
            try:
                n = int(float(options.get("n", generator.defaults().get("n", 0))))
            except ValueError:
                return True  # refused at once with a sentence
            return n <= self.quick_samples
        if head == TEXT:  # a text file is as quick as its size; Python's docs 0.3 s
            head = options.get("path") or ""
            if not head:
                return True
        try:
            found = _find_file(head, base_dir)
            return found is None or _size_on_disk(*found) <= self.quick_bytes
        except (OSError, DatasetError):
            return True  # refused at once with a sentence

    def cached(
        self, settings: Mapping[str, Any], base_dir: Path | None
    ) -> tuple[bool, Dataset | None]:
        """``(True, dataset)`` when the settings' dataset is at hand, else
        ``(False, None)`` (failures are not kept: the next load tries again)."""
        key = self.key(settings, base_dir)
        if key in self._cache:
            self._cache.move_to_end(key)
            return True, self._cache[key]
        return False, None

    # -- loading -------------------------------------------------------------------------

    def load(
        self, settings: Mapping[str, Any], base_dir: Path | None
    ) -> Dataset | None:
        """The dataset the settings name if it is at hand or quick to load, else None.

        Never blocks for long: a big dataset not loaded yet gives None (call
        ``request`` to load it in the background, or ``load_now``).

        Raises
        ------
        nndesk.io.errors.DatasetError
            When it cannot be made or read (one sentence naming file or option).
        """
        hit, dataset = self.cached(settings, base_dir)
        if hit or not self.is_quick(settings, base_dir):
            return dataset
        return self.load_now(settings, base_dir)

    def load_now(
        self, settings: Mapping[str, Any], base_dir: Path | None
    ) -> Dataset | None:
        """The dataset the settings name, loaded in this thread if not at hand.

        Raises
        ------
        nndesk.io.errors.DatasetError
            When it cannot be made or read.
        """
        hit, dataset = self.cached(settings, base_dir)
        if hit:
            return dataset
        dataset = load_settings(settings, base_dir, self.painted())
        self._store(self.key(settings, base_dir), dataset)
        return dataset

    def request(self, settings: Mapping[str, Any], base_dir: Path | None) -> int:
        """Load the settings' dataset in a background thread; returns the request id.

        A newer request supersedes this one: its result is then dropped. The
        outcome arrives as ``sig_loaded`` or ``sig_failed``.
        """
        key = self.key(settings, base_dir)
        self._next_id += 1
        request_id = self._next_id
        # No parents: the jobs table owns both, and drops them once the thread ended.
        thread = QThread()
        thread.setObjectName(f"dataset-loader-{request_id}")
        worker = DatasetWorker(request_id, settings, base_dir, self.painted())
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # Direct: quit from the worker's thread right away, without a GUI round trip.
        worker.sig_finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.sig_loaded.connect(self._on_worker_loaded)
        worker.sig_failed.connect(self._on_worker_failed)
        thread.finished.connect(self._on_thread_finished)
        self._jobs[request_id] = (thread, worker, key)
        was_busy = self.busy
        self._latest = request_id
        thread.start()
        log.info("loading dataset %r in the background", settings.get("dataset"))
        if not was_busy:
            self.sig_busy_changed.emit(True)
        return request_id

    def cancel(self) -> None:
        """Drop the result of the background load under way (it still finishes)."""
        if self._latest is not None:
            self._latest = None
            self.sig_busy_changed.emit(False)

    def alias(self, key: DatasetKey, new_key: DatasetKey) -> None:
        """Keep the dataset cached under ``key`` under ``new_key`` too (the same
        data, named from another folder)."""
        if key in self._cache:
            self._store(new_key, self._cache[key])

    def forget(self) -> None:
        """Forget the cached datasets (files may have changed)."""
        self._cache.clear()

    def shutdown(self, timeout_ms: int = STOP_TIMEOUT_MS) -> bool:
        """Drop pending results and wait for every loader thread to end.

        Returns False if one did not end within ``timeout_ms`` (a read cannot be
        interrupted; it is left to finish).
        """
        self._latest = None
        finished = True
        for thread, _worker, _key in list(self._jobs.values()):
            if not thread.wait(timeout_ms):
                log.error("a dataset loader did not finish within %d ms", timeout_ms)
                finished = False
        self._on_thread_finished()
        return finished

    def _store(self, key: DatasetKey, dataset: Dataset | None) -> None:
        self._cache[key] = dataset
        self._cache.move_to_end(key)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        self._last = dataset

    @Slot(int, object)
    def _on_worker_loaded(self, request_id: int, dataset: object) -> None:
        if request_id != self._latest:
            return  # superseded: a newer request decides what is shown
        assert dataset is None or isinstance(dataset, Dataset)
        key = self._jobs[request_id][2]
        self._latest = None
        self._store(key, dataset)
        self.sig_busy_changed.emit(False)
        self.sig_loaded.emit(key, dataset)

    @Slot(int, str)
    def _on_worker_failed(self, request_id: int, message: str) -> None:
        if request_id != self._latest:
            return
        key = self._jobs[request_id][2]
        self._latest = None
        self.sig_busy_changed.emit(False)
        self.sig_failed.emit(key, message)

    @Slot()
    def _on_thread_finished(self) -> None:
        for request_id, (thread, _worker, _key) in list(self._jobs.items()):
            if thread.isFinished() and request_id != self._latest:
                thread.wait()
                del self._jobs[request_id]
