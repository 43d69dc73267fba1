"""nndesk's LSTM/GRU/SimpleRNN layers against torch.nn's, forward + backward, 1 thread.

Times one forward and one backward pass of the layer alone (the whole output
sequence, a random output gradient, input gradient included, float32) at two
sizes from issue 14: batch 32, 50 steps, 64 inputs, 128 units (matrix products
dominate) and batch 16, 20 steps, 8 inputs, 16 units (per-call overhead
dominates). Each case runs ``--repeats`` times (default 10), nndesk and torch
interleaved, after a warm-up; the median, min and max in milliseconds are
printed, with the PyTorch/nndesk ratio (above 1: nndesk is faster). Thread counts are pinned to 1 before NumPy loads.

Usage (needs torch; .venv has it, and Numba, which the reference venv lacks)::

    .venv/bin/python benchmarks/rnn_vs_torch.py [--repeats 10] [--cells LSTM GRU]

The training case (Adam, one pass over 5,120 sequences, nndesk's NumPy and Numba
paths side by side) is ``benchmarks/engine_vs_peers.py --cases lstm``.
"""

from __future__ import annotations

import argparse
import json
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

SIZES = {"large": (32, 50, 64, 128), "small": (16, 20, 8, 16)}


def _time_pair(fa, fb, repeats: int) -> tuple[list[float], list[float]]:
    """Milliseconds of ``repeats`` calls of each, interleaved (a and b alike see
    the machine's load as it changes), after one warm-up call each (buffers,
    BLAS, Numba and torch's first-call setup)."""
    fa()
    fb()
    ta, tb = [], []
    for _ in range(repeats):
        for fn, out in ((fa, ta), (fb, tb)):
            t0 = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t0) * 1e3)
    return ta, tb


def nndesk_case(cell: str, batch: int, steps: int, features: int, units: int):
    from nndesk.engine.layers import LAYER_TYPES

    layer = LAYER_TYPES[cell](units, return_sequences=True)
    layer.build([(steps, features)], np.random.default_rng(0))
    rng = np.random.default_rng(1)
    x = rng.normal(size=(batch, steps, features)).astype(np.float32)
    dy = rng.normal(size=(batch, steps, units)).astype(np.float32)

    def step() -> None:
        layer.forward([x], True)
        layer.backward(dy)

    return step


def torch_case(cell: str, batch: int, steps: int, features: int, units: int):
    import torch

    torch.set_num_threads(1)
    cls = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU, "SimpleRNN": torch.nn.RNN}[cell]
    module = cls(features, units, batch_first=True)
    x = torch.randn(batch, steps, features, requires_grad=True)
    dy = torch.randn(batch, steps, units)

    def step() -> None:
        module.zero_grad()
        x.grad = None
        out, _ = module(x)
        out.backward(dy)

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--cells", nargs="+", default=["LSTM"])
    args = parser.parse_args()
    results = {}
    for cell in args.cells:
        for size, dims in SIZES.items():
            ours, theirs = _time_pair(
                nndesk_case(cell, *dims), torch_case(cell, *dims), args.repeats
            )
            med_o, med_t = statistics.median(ours), statistics.median(theirs)
            results[f"{cell}_{size}"] = {
                "dims": dims,
                "nndesk_ms": [med_o, min(ours), max(ours)],
                "torch_ms": [med_t, min(theirs), max(theirs)],
                "torch_over_nndesk": med_t / med_o,
            }
            print(
                f"{cell:9s} {size:5s} batch {dims[0]}, {dims[1]} steps, {dims[2]} in, "
                f"{dims[3]} units: nndesk {med_o:.2f} ms ({min(ours):.2f}-"
                f"{max(ours):.2f}), torch {med_t:.2f} ms ({min(theirs):.2f}-"
                f"{max(theirs):.2f}); torch/nndesk {med_t / med_o:.2f}"
            )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
