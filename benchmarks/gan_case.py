"""The GAN case of ``gui_training.py`` (issue 16): the "GAN on a ring of 8
Gaussians" example trained headless through ``GanSession.fit`` and in the window
with its live layers showing (the GAN picture with every layer, samples, curves).

Throughput counts real samples a second (each discriminator step reads one batch
of them); an epoch is one pass over the real data.
"""

from __future__ import annotations

import time
from typing import Any


def gan_ring(data_path: str = "") -> Any:
    """The example's document (``data_path`` unused: the ring is generated)."""
    from nndesk.document.examples import gan_ring_gaussians

    return gan_ring_gaussians()


def load(doc: Any) -> Any:
    """The dataset the document names."""
    from nndesk.training.gan import GanSession

    return GanSession(doc).load_dataset()


def _limit(blas_threads: int | None) -> Any:
    from nndesk.ui.training.blas import default_threads, threads_for_training

    # None: OpenBLAS's own count, as the command line trains (the window leaves
    # 1 thread between its runs once it niced the helpers: see blas.idle_threads).
    return threads_for_training(
        default_threads() if blas_threads is None else blas_threads
    )


def headless_run(
    doc: Any, dataset: Any, epochs: int, blas_threads: int | None = None
) -> dict:
    """``epochs`` epochs through ``GanSession.fit`` alone; the keys of
    ``gui_training.headless_run``."""
    from nndesk.training.gan import GanSession

    cpu = time.process_time()
    session = GanSession(doc)
    session.prepare(dataset)
    times: list[float] = []
    last = [0.0]

    def on_epoch_end(_epoch: int, _logs: dict) -> None:
        now = time.perf_counter()
        times.append(now - last[0])
        last[0] = now

    with _limit(blas_threads):
        start = last[0] = time.perf_counter()
        session.fit(epochs=epochs, on_epoch_end=on_epoch_end)
        wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    samples = len(dataset) * epochs
    epoch_time = float(sum(times))
    return {
        "samples": samples,
        "epochs": epochs,
        "epoch_time": epoch_time,
        "wall": wall,
        "samples_per_sec": samples / epoch_time,
        "cpu_per_sample": cpu / samples,
        "val_accuracy": float("nan"),
    }


def warm_up(doc: Any, dataset: Any) -> None:
    """A few steps so Numba compiles its kernels before anything is timed."""
    from nndesk.training.gan import GanSession

    session = GanSession(doc)
    session.prepare(dataset)
    for _ in range(8):
        session.step()


def epoch_seconds(doc: Any, dataset: Any, blas_threads: int | None = None) -> float:
    """CPU seconds of one epoch (an eighth of it timed, scaled up)."""
    from nndesk.training.gan import GanSession

    session = GanSession(doc)
    session.prepare(dataset)
    steps = max(1, session.batches_per_epoch() // 8)
    with _limit(blas_threads):
        start = time.process_time()
        for _ in range(steps):
            session.step()
        seconds = time.process_time() - start
    return seconds * session.batches_per_epoch() / steps
