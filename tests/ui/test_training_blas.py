"""OpenBLAS while the window trains: its helper threads niced like the training
thread, every core (all but one when they could not be niced), then as before."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt

from nndesk.document.examples import spiral_classifier
from nndesk.training.session import TrainingSession
from nndesk.ui.training import blas as blas_module
from nndesk.ui.training.blas import (
    default_threads,
    find_openblas,
    gui_friendly_threads,
    idle_threads,
    lower_helper_priority,
    threads_for_models,
    threads_for_training,
)
from nndesk.ui.training.worker import ReportingControl, TrainingJob, TrainingWorker

pytestmark = pytest.mark.gui


@pytest.fixture
def blas():
    """NumPy's OpenBLAS (the wheels on Linux bundle it), at 2 threads for the test."""
    found = find_openblas()
    assert found is not None, "NumPy's OpenBLAS was not found in /proc/self/maps"
    before = found.threads
    found.threads = 2
    assert found.threads == 2
    yield found
    found.threads = before


def test_numpys_openblas_is_found_and_its_count_set(blas) -> None:
    assert "openblas" in blas.path.lower()
    blas.threads = 1
    assert blas.threads == 1
    # Matrix products still work, with the same result as NumPy's own loop order
    # on a product small enough to be exact.
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(a @ a.T, np.einsum("ik,jk->ij", a, a))


def test_gui_friendly_threads_leave_one_core_unless_the_helpers_are_niced(
    monkeypatch,
) -> None:
    monkeypatch.setattr(blas_module, "_helpers_lowered", [True])
    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: {0, 1})
    assert gui_friendly_threads() == 2
    monkeypatch.setattr(blas_module, "_helpers_lowered", [False])
    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: {0, 1, 2, 3})
    assert gui_friendly_threads() == 3
    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: {0, 1})
    assert gui_friendly_threads() == 1
    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: {5})
    assert gui_friendly_threads() == 1


def test_threads_for_training_sets_the_count_then_the_idle_one(
    blas, monkeypatch
) -> None:
    monkeypatch.setattr(blas_module, "_helpers_lowered", [False])
    monkeypatch.setattr(blas_module, "_first_count", [2])
    with threads_for_training(1) as applied:
        assert applied == 1 and blas.threads == 1
    assert blas.threads == 2
    # Back up to OpenBLAS's own count when the count is lower now...
    blas.threads = 1
    with threads_for_training(2) as applied:
        assert applied == 2 and blas.threads == 2
    assert blas.threads == 1
    # ...but never past it (OPENBLAS_NUM_THREADS=1 stays 1).
    monkeypatch.setattr(blas_module, "_first_count", [1])
    with threads_for_training(3) as applied:
        assert applied == 1 and blas.threads == 1
    monkeypatch.setattr(blas_module, "_first_count", [2])
    # A change made meanwhile by someone else is left alone.
    blas.threads = 2
    with threads_for_training(1):
        blas.threads = 2
    assert blas.threads == 2
    # Once the helpers run niced, the count between runs is 1: the GUI thread's
    # products never wait for a helper that runs after everything else.
    monkeypatch.setattr(blas_module, "_helpers_lowered", [True])
    with threads_for_training(2) as applied:
        assert applied == 2 and blas.threads == 2
    assert blas.threads == 1
    assert idle_threads(2) == 1
    monkeypatch.setattr(blas_module, "_helpers_lowered", [False])
    assert idle_threads(2) == 2
    assert default_threads() == 2


def test_openblas_helpers_get_the_nice_value_asked_for(blas) -> None:
    # The fixture's 2 threads: OpenBLAS has started its helper by now.
    main = os.getpid()
    own = os.getpriority(os.PRIO_PROCESS, main)
    assert lower_helper_priority(own + 3) >= 1
    with open(f"/proc/self/task/{main}/comm") as f:
        name = f.read()
    known = {t.native_id for t in threading.enumerate()}
    helpers = []
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/comm") as f:
            if f.read() == name and int(task) != main and int(task) not in known:
                helpers.append(int(task))
    assert helpers
    assert all(os.getpriority(os.PRIO_PROCESS, tid) >= own + 3 for tid in helpers)
    assert os.getpriority(os.PRIO_PROCESS, main) == own  # the GUI thread's stays
    assert gui_friendly_threads() == len(os.sched_getaffinity(0))


def threads_each_epoch(blas, epochs: int) -> list[int]:
    """OpenBLAS's count at each epoch end of a spiral run in a worker thread."""
    doc = spiral_classifier()
    doc.set_setting("epochs", epochs)
    worker = TrainingWorker(TrainingJob(TrainingSession(doc)), ReportingControl())
    seen: list[int] = []
    # A direct connection runs the slot in the worker's thread, during training.
    worker.sig_epoch_finished.connect(
        lambda _logs: seen.append(blas.threads), Qt.ConnectionType.DirectConnection
    )
    thread = threading.Thread(target=worker.run)
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    return seen


def test_a_worker_trains_on_every_core_and_restores_the_count(
    qapp, blas, monkeypatch
) -> None:
    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: {0, 1})
    # The spiral's products are small (threads_for_models): count them large.
    monkeypatch.setattr(blas_module, "SMALL_PRODUCT", 0)
    # The worker's thread niced OpenBLAS's helpers with itself: both cores...
    assert threads_each_epoch(blas, epochs=3) == [2, 2, 2]
    # ...and one between runs, for the GUI thread's products.
    assert blas.threads == 1


def test_networks_of_small_dense_products_train_on_one_thread(
    qapp, blas, monkeypatch
) -> None:
    from nndesk.document.examples import EXAMPLES
    from nndesk.training.gan import GanSession

    def threads(name: str) -> int | None:
        doc = EXAMPLES[name].build()
        if name.startswith("gan"):
            gan = GanSession(doc)
            nets = [gan.gan.generator, gan.gan.discriminator]
            return threads_for_models(nets, gan.config.batch_size)
        session = TrainingSession(doc)
        return threads_for_models([session.model], int(doc.settings["batch_size"]))

    # 8 and 64 units: one thread (the helper would spin between products).
    assert threads("spiral") == 1 and threads("gan_ring") == 1
    # 784x256 by 128 rows, and convolution kernels: the window's default.
    assert threads("fashion_mnist") is None
    assert threads("fashion_mnist_cnn") is None
    assert threads("gan_fashion_mnist") is None
    # A sequence's positions count: the character Transformer's 48x192 kernel
    # meets 32 positions of each of its 32 samples a batch.
    assert threads("sort_transformer") == 1
    assert threads("char_transformer") is None
    # The worker uses it: the spiral trains on one thread.
    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: {0, 1})
    assert threads_each_epoch(blas, epochs=2) == [1, 1]
