"""What the decision boundary on a plane through the input space costs a probe.

For the Fashion-MNIST MLP and CNN examples: the median time of a probe
(``Prober.probe``, what the training worker runs between batches) without a
plane and with the PCA plane's 40 x 40 grid, the median time of a training
batch, and the share of training time probing then takes under the worker's
adaptive interval (``worker.PROBE_MIN_INTERVAL``, ``worker.PROBE_MAX_SHARE``:
a probe waits at least ``spent / PROBE_MAX_SHARE`` after one took ``spent``).
Also how long making the PCA plane takes (once per dataset, in the GUI thread).

Usage: ``python benchmarks/boundary_planes.py [--data DIR] [--repeats 15]``;
the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

DEFAULT_DATA = REPO.parent / "shared" / "data" / "fashion-mnist"


def _median_seconds(fn, repeats: int) -> float:
    fn()  # warm: caches, Numba
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _alternating(first, second, repeats: int) -> tuple[float, float]:
    """Median seconds of two calls timed in turns (a busy machine moves both)."""
    first(), second()  # warm both: caches, buffers, Numba
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for fn, out in ((first, times[0]), (second, times[1])):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def run_case(doc, dataset, repeats: int) -> dict:
    from nndesk.training.compile import compile_network
    from nndesk.training.data import prepare_data
    from nndesk.training.planes import pca_plane
    from nndesk.ui.training.probes import Prober, describe_network
    from nndesk.ui.training.worker import PROBE_MAX_SHARE, PROBE_MIN_INTERVAL

    net = compile_network(doc, dataset=dataset)
    data = prepare_data(net, dataset)
    info = describe_network(net, dataset)
    prober = Prober(net.model, info, data.x_train, data.y_train)
    started = time.perf_counter()
    plane = pca_plane(data.x_train)
    plane_seconds = time.perf_counter() - started
    batch = int(doc.settings["batch_size"])
    xb, yb = data.x_train[:batch], data.y_train[:batch]
    model = net.model

    def train_batch() -> None:
        model.train_on_batch(xb, yb)

    without, with_plane = _alternating(
        lambda: prober.probe(0, 0, 0.0),
        lambda: prober.probe(0, 0, 0.0, plane=plane),
        repeats,
    )
    batch_seconds = _median_seconds(train_batch, repeats)

    def share(spent: float) -> float:
        interval = max(PROBE_MIN_INTERVAL, spent / PROBE_MAX_SHARE)
        return spent / (interval + spent)

    return {
        "grid": f"{prober._plane[1].shape[0]} points" if prober._plane else "none",
        "probe_ms_without_plane": round(without * 1e3, 2),
        "probe_ms_with_plane": round(with_plane * 1e3, 2),
        "batch_ms": round(batch_seconds * 1e3, 2),
        "probes_per_s_with_plane": round(
            1.0 / max(PROBE_MIN_INTERVAL, with_plane / PROBE_MAX_SHARE), 3
        ),
        "share_without_plane": round(share(without), 4),
        "share_with_plane": round(share(with_plane), 4),
        "pca_plane_ms": round(plane_seconds * 1e3, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    from gui_training import fashion_cnn, fashion_mlp

    from nndesk.io.datasets import load_dataset

    dataset = load_dataset(args.data, seed=0)
    results = {}
    for name, build in (("mlp", fashion_mlp), ("cnn", fashion_cnn)):
        results[name] = run_case(build(args.data), dataset, args.repeats)
        print(name, results[name], flush=True)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
