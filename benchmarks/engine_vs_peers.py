"""nndesk's engine against PyTorch CPU and scikit-learn, side by side.

Trains the 784-256-128-10 MLP (ReLU, softmax cross-entropy) for one pass over 60,000
float32 samples with nndesk (plain NumPy, and Numba when installed), PyTorch eager
and scikit-learn's MLPClassifier, with SGD-momentum and Adam at batch sizes 32, 128
and 512; then times single steps of the 2-8-8-1 tanh network at batch 10, the size
people play with. Each thread count (1 and 2) runs in its own subprocess with the
BLAS and torch thread counts set before NumPy loads, so all peers share the same
settings. A peer that is not installed is skipped with a note.

Then, on one thread, the convolutional cases of issue 12 against PyTorch eager in
the same process: the Fashion-MNIST CNN (Conv 32 3x3 relu, MaxPool 2, Conv 64 3x3
relu, MaxPool 2, Flatten, Dense 128 relu, Dense 10; Adam, batch 64) trained for one
pass over 10,240 Fashion-MNIST images, and one convolution (3x3, 32->64 channels,
13x13 input, batch 64, ReLU, forward + backward with the input gradient). The peers
take turns in interleaved rounds (the pass is cut into rounds of 10 steps; the
convolution runs rounds of median-of-10 steps), in an order rotated every round, so
a change of machine load hits them alike; each figure is the median of the rounds
with their range, and each ratio the median of the per-round ratios.

The sequence cases of issues 14 and 15 (``benchmarks/sequence_cases.py``) run the
same way on one thread: an LSTM layer (batch 32, 50 steps, 64 inputs, 128 units;
and batch 16, 20 steps, 8 inputs, 16 units; MSE, Adam, one pass over 5,120
sequences) and a pre-norm Transformer block (d_model 48, 3 heads, sequence 11,
batch 64; d_model 128, 4 heads, sequence 64, batch 32; forward + backward + AdamW).

Reported: samples/s (MLP) or ms per step (CNN, convolution), nndesk/PyTorch and
nndesk/sklearn speed ratios (above 1: nndesk is faster), and nndesk's fraction of
the GEMM ceiling: the time of the step's own matrix products alone (the same
shapes through ``np.dot``; for the convolutions, the im2col products: forward,
kernel gradient, column gradient) divided by the step's time. The last line is
one JSON object.

Usage: ``python benchmarks/engine_vs_peers.py [--threads 1 2] [--quick]
[--cases mlp cnn conv lstm block] [--data fashion-mnist]``. The MLP's data is random
(uniform pixels, random labels): speed does not depend on it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings

N_SAMPLES = 60_000
SIZES = (784, 256, 128, 10)
BATCHES = (32, 128, 512)
OPTIMIZERS = ("sgd_momentum", "adam")
LR = {"sgd_momentum": 0.01, "adam": 0.001}
CASES = ("mlp", "cnn", "conv", "lstm", "block")
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)


# --- data ------------------------------------------------------------------------
def make_data(n: int, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.random((n, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], n).astype(np.int64)
    return x, y


# --- nndesk ------------------------------------------------------------------------
def nndesk_mlp(opt: str, sizes=SIZES, hidden="relu", out="softmax", seed=0):
    from nndesk.engine import optimizers
    from nndesk.engine.layers import Dense, Input
    from nndesk.engine.model import Model

    x = Input((sizes[0],))
    h = x
    for units in sizes[1:-1]:
        h = Dense(units, activation=hidden)(h)
    y = Dense(sizes[-1], activation=out)(h)
    model = Model(x, y, seed=seed)
    if opt == "sgd_momentum":
        optimizer = optimizers.SGD(lr=LR[opt], momentum=0.9)
    else:
        optimizer = optimizers.Adam(lr=LR[opt])
    loss = "sparse_categorical_crossentropy" if out == "softmax" else "binary_crossentropy"
    model.compile(loss=loss, optimizer=optimizer)
    return model


def time_nndesk(x, y, opt: str, batch: int, numba: bool) -> float:
    from nndesk.engine import kernels

    kernels.set_numba_enabled(numba)
    model = nndesk_mlp(opt)
    model.fit(x[: batch * 20], y[: batch * 20], epochs=1, batch_size=batch)  # warm-up/JIT
    start = time.perf_counter()
    model.fit(x, y, epochs=1, batch_size=batch, shuffle=True)
    return len(x) / (time.perf_counter() - start)


def gemm_ceiling(batch: int, reps: int = 200) -> float:
    """Samples/s if a step cost only its forward and backward matrix products."""
    import numpy as np

    rng = np.random.default_rng(0)
    f32 = np.float32
    acts = [rng.random((batch, s), dtype=f32) for s in SIZES]
    ws = [rng.random((a, b), dtype=f32) for a, b in zip(SIZES[:-1], SIZES[1:], strict=True)]
    outs = [np.empty((batch, s), f32) for s in SIZES[1:]]
    dws = [np.empty_like(w) for w in ws]
    dxs = [np.empty((batch, s), f32) for s in SIZES[1:-1]]

    def step() -> None:
        for a, w, o in zip(acts[:-1], ws, outs, strict=True):
            np.matmul(a, w, out=o)
        for k in range(len(ws) - 1, -1, -1):
            np.matmul(acts[k].T, acts[k + 1], out=dws[k])
            if k > 0:  # no gradient for the data itself
                np.matmul(acts[k + 1], ws[k].T, out=dxs[k - 1])

    for _ in range(10):
        step()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(reps):
            step()
        best = min(best, (time.perf_counter() - start) / reps)
    return batch / best


# --- PyTorch -----------------------------------------------------------------------
def time_torch(x, y, opt: str, batch: int, threads: int) -> float:
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    layers = []
    for a, b in zip(SIZES[:-1], SIZES[1:], strict=True):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1])
    if opt == "sgd_momentum":
        optimizer = torch.optim.SGD(net.parameters(), lr=LR[opt], momentum=0.9)
    else:
        optimizer = torch.optim.Adam(net.parameters(), lr=LR[opt])
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def epoch(n: int) -> None:
        order = torch.randperm(n)
        for i in range(0, n, batch):
            idx = order[i : i + batch]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(net(xt[idx]), yt[idx])
            loss.backward()
            optimizer.step()

    epoch(batch * 20)
    start = time.perf_counter()
    epoch(len(x))
    return len(x) / (time.perf_counter() - start)


def time_sklearn(x, y, opt: str, batch: int) -> float:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    solver = "sgd" if opt == "sgd_momentum" else "adam"
    clf = MLPClassifier(
        hidden_layer_sizes=SIZES[1:-1],
        solver=solver,
        batch_size=batch,
        learning_rate_init=LR[opt],
        momentum=0.9,
        nesterovs_momentum=False,
        alpha=0.0,
        max_iter=1,
        shuffle=True,
        random_state=0,
        tol=0.0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(x[: batch * 20], y[: batch * 20])  # warm-up
        start = time.perf_counter()
        clf.fit(x, y)
    return len(x) / (time.perf_counter() - start)


# --- the small network ---------------------------------------------------------------
def small_step_times(threads: int, have_torch: bool, steps: int) -> dict[str, float]:
    """Seconds per training step of 2-8-8-1 tanh (sigmoid output, BCE, Adam), batch 10."""
    import numpy as np

    from nndesk.engine import kernels, optimizers
    from nndesk.engine.layers import Dense, Input
    from nndesk.engine.model import Model

    rng = np.random.default_rng(0)
    x = rng.standard_normal((10, 2)).astype(np.float32)
    y = (x[:, :1] * x[:, 1:] > 0).astype(np.float32)
    result: dict[str, float] = {}
    for label, numba in (("nndesk_numpy", False), ("nndesk_numba", True)):
        if numba and not _numba_available():
            continue
        kernels.set_numba_enabled(numba)
        inp = Input((2,))
        h = Dense(8, activation="tanh")(inp)
        h = Dense(8, activation="tanh")(h)
        model = Model(inp, Dense(1, activation="sigmoid")(h), seed=0)
        model.compile(loss="binary_crossentropy", optimizer=optimizers.Adam(lr=0.01))
        for _ in range(200):
            model.train_on_batch(x, y)
        result[label] = _best_time(lambda m=model: m.train_on_batch(x, y), steps)
    if have_torch:
        import torch

        torch.set_num_threads(threads)
        net = torch.nn.Sequential(
            torch.nn.Linear(2, 8), torch.nn.Tanh(),
            torch.nn.Linear(8, 8), torch.nn.Tanh(),
            torch.nn.Linear(8, 1),
        )
        opt = torch.optim.Adam(net.parameters(), lr=0.01)
        loss_fn = torch.nn.BCEWithLogitsLoss()
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)

        def torch_step() -> None:
            opt.zero_grad(set_to_none=True)
            loss_fn(net(xt), yt).backward()
            opt.step()

        for _ in range(200):
            torch_step()
        result["torch"] = _best_time(torch_step, steps)
    return result


def _best_time(fn, steps: int) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(steps):
            fn()
        best = min(best, (time.perf_counter() - start) / steps)
    return best


def _numba_available() -> bool:
    from nndesk.engine import kernels

    kernels.set_numba_enabled(None)
    return kernels.numba_enabled()


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


# --- the Fashion-MNIST CNN and one convolution (issue 12), on one thread ------------
CNN_SAMPLES = 10_240
CNN_BATCH = 64
CNN_ROUND_STEPS = 10
CONV_SHAPE = (64, 13, 13, 32)  # batch, height, width, in channels
CONV_FILTERS = 64
CONV_ROUNDS = 9
CONV_REPS = 10
GEMM_REPS = 5
NNDESK_MODES = {"nndesk_numpy": False, "nndesk_numba": True}


def load_fashion(n: int, spec: str):
    """``n`` Fashion-MNIST training images ``(n, 28, 28, 1)`` float32 in [0, 1] (a
    fixed shuffle) and their int64 labels; None when the dataset is not found."""
    import numpy as np

    from nndesk.engine.errors import NNDeskError
    from nndesk.io.datasets.spec import load_dataset

    try:
        ds = load_dataset(spec)
    except NNDeskError:
        return None
    order = np.random.default_rng(0).permutation(len(ds.x))[:n]
    x = np.ascontiguousarray(ds.x[order].reshape(n, 28, 28, 1), dtype=np.float32)
    return x, ds.y[order].astype(np.int64)


def nndesk_cnn(seed: int = 0):
    from nndesk.engine import optimizers
    from nndesk.engine.layers import Conv2D, Dense, Flatten, Input, MaxPool2D
    from nndesk.engine.model import Model

    x = Input((28, 28, 1))
    h = MaxPool2D(2)(Conv2D(32, 3, activation="relu")(x))
    h = MaxPool2D(2)(Conv2D(64, 3, activation="relu")(h))
    h = Dense(128, activation="relu")(Flatten()(h))
    model = Model(x, Dense(10, activation="softmax")(h), seed=seed)
    model.compile(
        loss="sparse_categorical_crossentropy", optimizer=optimizers.Adam(lr=0.001)
    )
    return model


def torch_cnn():
    import torch

    torch.manual_seed(0)
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10),
    )


def cnn_products(batch: int) -> list[tuple[int, int, int, bool]]:
    """The CNN step's matrix products ``(m, k, n, a_transposed)`` as the engine
    runs them: per convolution the im2col forward, kernel gradient and (not for
    the first layer, fed by data) column gradient; per Dense its three."""
    r1, r2 = batch * 26 * 26, batch * 11 * 11
    return [
        (r1, 9, 32, False), (9, r1, 32, True),
        (r2, 288, 64, False), (288, r2, 64, True), (r2, 64, 288, False),
        (batch, 1600, 128, False), (1600, batch, 128, True), (batch, 128, 1600, False),
        (batch, 128, 10, False), (128, batch, 10, True), (batch, 10, 128, False),
    ]  # fmt: skip


def conv_products(batch: int) -> list[tuple[int, int, int, bool]]:
    n, h, w, c = CONV_SHAPE
    rows, taps = batch * (h - 2) * (w - 2), 9 * c
    return [
        (rows, taps, CONV_FILTERS, False),
        (taps, rows, CONV_FILTERS, True),
        (rows, CONV_FILTERS, taps, False),
    ]


def gemm_runner(products: list[tuple[int, int, int, bool]]):
    """A function timing ``GEMM_REPS`` runs of ``products`` through ``np.dot``;
    it returns seconds per run. ``a_transposed`` operands are transposed views
    of ``(k, m)`` arrays, as the engine's ``cols.T``."""
    import numpy as np

    rng = np.random.default_rng(0)
    f32 = np.float32
    ops = []
    for m, k, n, a_t in products:
        a = rng.random((k, m), dtype=f32).T if a_t else rng.random((m, k), dtype=f32)
        ops.append((a, rng.random((k, n), dtype=f32), np.empty((m, n), f32)))

    def run(_round: int) -> float:
        start = time.perf_counter()
        for _ in range(GEMM_REPS):
            for a, b, out in ops:
                np.dot(a, b, out=out)
        return (time.perf_counter() - start) / GEMM_REPS

    run(0)
    return run


def cnn_peers(x, y, rounds: int, have_torch: bool, numba: bool) -> dict:
    """Per peer, a function training round ``r``'s slice of the pass (10 steps)
    and returning seconds per step; each peer is warmed up (and compiled) first
    on the 3 batches after the pass."""
    peers = {}
    for label, on in NNDESK_MODES.items():
        if not on or numba:
            peers[label] = _nndesk_cnn_trainer(x, y, on)
    if have_torch:
        peers["torch"] = _torch_cnn_trainer(x, y)
    warm = rounds * CNN_ROUND_STEPS * CNN_BATCH
    for train in peers.values():
        train(warm, 3)
    peers = {
        name: (lambda r, t=train: t(r * CNN_ROUND_STEPS * CNN_BATCH, CNN_ROUND_STEPS))
        for name, train in peers.items()
    }
    peers["gemm"] = gemm_runner(cnn_products(CNN_BATCH))
    return peers


def _nndesk_cnn_trainer(x, y, numba: bool):
    """``train(first, steps)``: ``steps`` batches from image ``first`` with
    ``Model.fit``; seconds per step."""
    from nndesk.engine import kernels

    model = nndesk_cnn()

    def train(first: int, steps: int) -> float:
        kernels.set_numba_enabled(numba)
        part = slice(first, first + steps * CNN_BATCH)
        start = time.perf_counter()
        model.fit(x[part], y[part], epochs=1, batch_size=CNN_BATCH, shuffle=False)
        return (time.perf_counter() - start) / steps

    return train


def _torch_cnn_trainer(x, y):
    """The same for PyTorch eager (NCHW images, converted once, untimed)."""
    import numpy as np
    import torch

    net = torch_cnn()
    opt = torch.optim.Adam(net.parameters(), lr=0.001)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    yt = torch.from_numpy(y)

    def train(first: int, steps: int) -> float:
        start = time.perf_counter()
        for i in range(first, first + steps * CNN_BATCH, CNN_BATCH):
            opt.zero_grad(set_to_none=True)
            loss_fn(net(xt[i : i + CNN_BATCH]), yt[i : i + CNN_BATCH]).backward()
            opt.step()
        return (time.perf_counter() - start) / steps

    return train


def conv_peers(reps: int, have_torch: bool, numba: bool) -> dict:
    """Per peer, a function running ``reps`` forward + backward steps of the
    convolution and returning the median seconds per step."""
    import numpy as np

    from nndesk.engine import kernels
    from nndesk.engine.layers import Conv2D

    n, h, w, c = CONV_SHAPE
    rng = np.random.default_rng(0)
    x = rng.standard_normal(CONV_SHAPE, dtype=np.float32)
    dy = rng.standard_normal((n, h - 2, w - 2, CONV_FILTERS), dtype=np.float32)
    peers = {}

    def median_of(step) -> float:
        times = []
        for _ in range(reps):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        return sorted(times)[len(times) // 2]

    for label, on in NNDESK_MODES.items():
        if on and not numba:
            continue
        layer = Conv2D(CONV_FILTERS, 3, activation="relu")
        layer.build([(h, w, c)], np.random.default_rng(0))

        def nn_step(layer=layer) -> None:
            layer.forward([x], True)
            layer.backward(dy)

        def run(_round: int, on=on, step=nn_step) -> float:
            kernels.set_numba_enabled(on)
            return median_of(step)

        run(0)
        peers[label] = run
    if have_torch:
        import torch

        conv = torch.nn.Conv2d(c, CONV_FILTERS, 3)
        xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        xt.requires_grad_(True)
        dyt = torch.from_numpy(np.ascontiguousarray(dy.transpose(0, 3, 1, 2)))

        def torch_step() -> None:
            xt.grad = None
            conv.zero_grad(set_to_none=True)
            torch.relu(conv(xt)).backward(dyt)

        peers["torch"] = lambda _round: median_of(torch_step)
        peers["torch"](0)
    peers["gemm"] = gemm_runner(conv_products(n))
    return peers


def interleaved(peers: dict, rounds: int) -> dict[str, list[float]]:
    """Seconds per step of every peer, one value per round; within a round the
    peers take turns, starting one later each round so none always runs first."""
    names = list(peers)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            times[name].append(peers[name](r))
    return times


def _median(values: list[float]) -> float:
    import statistics

    return statistics.median(values)


def step_stats(times: dict[str, list[float]]) -> dict:
    """Milliseconds per step (median, min, max of the rounds) per peer; per nndesk
    mode, its speed over PyTorch's and its fraction of the GEMM ceiling, each the
    median (and range) of the per-round ratios."""
    out: dict = {}
    for name, ts in times.items():
        ms = [t * 1e3 for t in ts]
        out[name] = {"ms": _median(ms), "min": min(ms), "max": max(ms)}
    for impl in NNDESK_MODES:
        if impl not in times:
            continue
        for ref, key in (("torch", "vs_torch"), ("gemm", "gemm_fraction")):
            if ref in times:
                per_round = [
                    b / a for a, b in zip(times[impl], times[ref], strict=True)
                ]
                out[impl][key] = _median(per_round)
                out[impl][f"{key}_range"] = [min(per_round), max(per_round)]
    return out


def conv_cases(cases: list[str], quick: bool, data: str, numba: bool) -> dict:
    """The CNN and convolution results (whichever of them ``cases`` names)."""
    have_torch = _importable("torch")
    if have_torch:
        import torch

        torch.set_num_threads(1)
    result: dict = {"notes": []}
    if "cnn" in cases:
        rounds = 4 if quick else CNN_SAMPLES // (CNN_ROUND_STEPS * CNN_BATCH)
        need = (rounds * CNN_ROUND_STEPS + 3) * CNN_BATCH
        loaded = load_fashion(need, data)
        if loaded is None:
            result["notes"].append(f"dataset {data!r} not found: the CNN was skipped")
        else:
            peers = cnn_peers(*loaded, rounds, have_torch, numba)
            result["cnn"] = step_stats(interleaved(peers, rounds))
            result["cnn"]["samples"] = rounds * CNN_ROUND_STEPS * CNN_BATCH
            print(_format_steps("CNN", result["cnn"]), file=sys.stderr, flush=True)
    if "conv" in cases:
        rounds, reps = (3, 3) if quick else (CONV_ROUNDS, CONV_REPS)
        peers = conv_peers(reps, have_torch, numba)
        result["conv"] = step_stats(interleaved(peers, rounds))
        result["conv"]["rounds"] = rounds
        print(_format_steps("conv", result["conv"]), file=sys.stderr, flush=True)
    return result


def _format_steps(label: str, stats: dict) -> str:
    parts = [f"{label}:"]
    for name in (*NNDESK_MODES, "torch", "gemm"):
        if name in stats:
            s = stats[name]
            parts.append(f"{name} {s['ms']:.1f} ms ({s['min']:.1f}-{s['max']:.1f})")
    return "  ".join(parts)


# --- one thread setting (a subprocess) ------------------------------------------------
def worker(threads: int, quick: bool, cases: list[str], data: str) -> dict:
    numba = _numba_available()
    result: dict = {"threads": threads, "rows": [], "small": {}, "notes": []}
    if not numba:
        result["notes"].append("Numba not installed: nndesk ran plain NumPy only")
    if not _importable("torch"):
        result["notes"].append(
            "PyTorch not installed: skipped (pip install torch==2.13.0)"
        )
    if "mlp" in cases:
        mlp = mlp_worker(threads, quick, numba)
        result["notes"] += mlp.pop("notes")
        result.update(mlp)
    if threads == 1 and {"cnn", "conv"} & set(cases):
        conv = conv_cases(cases, quick, data, numba)
        result["notes"] += conv.pop("notes")
        result.update(conv)
    if threads == 1 and {"lstm", "block"} & set(cases):
        result["sequence"] = sequence_results(cases, quick, numba)
    return result


def sequence_results(cases: list[str], quick: bool, numba: bool) -> dict:
    """The LSTM and Transformer block cases (benchmarks/sequence_cases.py), each
    size in interleaved rounds like the CNN."""
    import sequence_cases as sc

    have_torch = _importable("torch")
    if have_torch:
        import torch

        torch.set_num_threads(1)
    out = {}
    for case, sizes in (("lstm", sc.LSTM_SIZES), ("block", sc.BLOCK_SIZES)):
        if case not in cases:
            continue
        for size in sizes:
            rounds = sc.rounds_of(case, size, quick)
            peers = sc.peers(case, size, quick, numba, have_torch)
            stats = step_stats(interleaved(peers, rounds))
            stats["title"] = sc.title(case, size, rounds)
            out[f"{case}_{size}"] = stats
            print(_format_steps(f"{case} {size}", stats), file=sys.stderr, flush=True)
    return out


def mlp_worker(threads: int, quick: bool, numba: bool) -> dict:
    n = 12_000 if quick else N_SAMPLES
    x, y = make_data(n)
    have_torch, have_sk = _importable("torch"), _importable("sklearn")
    rows = []
    for opt in OPTIMIZERS:
        for batch in BATCHES:
            row = {"threads": threads, "optimizer": opt, "batch": batch}
            row["nndesk_numpy"] = time_nndesk(x, y, opt, batch, numba=False)
            if numba:
                row["nndesk_numba"] = time_nndesk(x, y, opt, batch, numba=True)
            if have_torch:
                row["torch"] = time_torch(x, y, opt, batch, threads)
            if have_sk:
                row["sklearn"] = time_sklearn(x, y, opt, batch)
            row["gemm_ceiling"] = gemm_ceiling(batch)
            rows.append(row)
            print(_format_row(row), file=sys.stderr, flush=True)
    small = small_step_times(threads, have_torch, steps=300 if quick else 2000)
    notes = [] if have_sk else ["scikit-learn not installed: skipped"]
    return {"samples": n, "rows": rows, "small": small, "notes": notes}


def _format_row(row: dict) -> str:
    parts = [f"{row['threads']}t {row['optimizer']:<12} batch {row['batch']:>3}:"]
    for key in ("nndesk_numpy", "nndesk_numba", "torch", "sklearn", "gemm_ceiling"):
        if key in row:
            parts.append(f"{key} {row[key]:>9,.0f}/s")
    return "  ".join(parts)


# --- the report -------------------------------------------------------------------
def summarise(results: list[dict]) -> dict:
    out: dict = {"samples": None, "mlp": [], "small": {}, "notes": []}
    for res in results:
        out["samples"] = res.get("samples", out["samples"])
        for case in ("cnn", "conv", "sequence"):
            if case in res:
                out[case] = res[case]
        for row in res["rows"]:
            entry = dict(row)
            for impl in ("nndesk_numpy", "nndesk_numba"):
                if impl not in row:
                    continue
                if "torch" in row:
                    entry[f"{impl}_vs_torch"] = row[impl] / row["torch"]
                if "sklearn" in row:
                    entry[f"{impl}_vs_sklearn"] = row[impl] / row["sklearn"]
                entry[f"{impl}_gemm_fraction"] = row[impl] / row["gemm_ceiling"]
            out["mlp"].append(entry)
        small = dict(res["small"])
        if not small:
            out["notes"] = sorted(set(out["notes"]) | set(res["notes"]))
            continue
        if "torch" in small:
            for impl in ("nndesk_numpy", "nndesk_numba"):
                if impl in small:
                    small[f"{impl}_vs_torch"] = small[impl] / small["torch"]
        out["small"][str(res["threads"])] = small
        out["notes"] = sorted(set(out["notes"]) | set(res["notes"]))
    return out


def print_report(summary: dict) -> None:
    if summary["mlp"]:
        print_mlp(summary)
    for case, title in (
        ("cnn", f"Fashion-MNIST CNN, batch {CNN_BATCH}, Adam, one pass over "
         f"{summary.get('cnn', {}).get('samples', 0):,} images"),
        ("conv", "Conv2D 3x3, 32->64 channels, 13x13, batch 64, ReLU, "
         "forward + backward"),
    ):  # fmt: skip
        if case in summary:
            print_steps(title, summary[case])
    for stats in summary.get("sequence", {}).values():
        print_steps(stats["title"], stats)
    for note in summary["notes"]:
        print(f"note: {note}")


def print_steps(title: str, stats: dict) -> None:
    """One line per peer: ms per step, median of the rounds (their range); for
    nndesk its speed over PyTorch's and its fraction of the GEMM ceiling."""
    print(f"{title}, 1 thread (ms per step, median of rounds (range))")
    for name in (*NNDESK_MODES, "torch", "gemm"):
        if name not in stats:
            continue
        s = stats[name]
        line = f"  {name:<13} {s['ms']:7.1f} ({s['min']:.1f}-{s['max']:.1f})"
        for key, label in (("vs_torch", "x PyTorch"), ("gemm_fraction", "of GEMM")):
            if key in s:
                lo, hi = s[f"{key}_range"]
                line += f"  {s[key]:.2f} ({lo:.2f}-{hi:.2f}) {label}"
        print(line)


def print_mlp(summary: dict) -> None:
    print(f"MLP 784-256-128-10, one pass over {summary['samples']:,} samples (samples/s)")
    head = (
        f"{'thr':>3} {'optimizer':<12} {'batch':>5} {'numpy':>9} {'numba':>9} "
        f"{'torch':>9} {'sklearn':>9} {'np/torch':>8} {'nb/torch':>8} "
        f"{'np/skl':>7} {'np/gemm':>7} {'nb/gemm':>7}"
    )
    print(head)

    def f(e: dict, k: str, spec: str) -> str:
        return format(e[k], spec) if k in e else "-"

    for e in summary["mlp"]:
        print(
            f"{e['threads']:>3} {e['optimizer']:<12} {e['batch']:>5} "
            f"{f(e, 'nndesk_numpy', ',.0f'):>9} {f(e, 'nndesk_numba', ',.0f'):>9} "
            f"{f(e, 'torch', ',.0f'):>9} {f(e, 'sklearn', ',.0f'):>9} "
            f"{f(e, 'nndesk_numpy_vs_torch', '.2f'):>8} "
            f"{f(e, 'nndesk_numba_vs_torch', '.2f'):>8} "
            f"{f(e, 'nndesk_numpy_vs_sklearn', '.2f'):>7} "
            f"{f(e, 'nndesk_numpy_gemm_fraction', '.2f'):>7} "
            f"{f(e, 'nndesk_numba_gemm_fraction', '.2f'):>7}"
        )
    print("Small network 2-8-8-1 tanh, batch 10 (µs per training step)")
    for threads, s in summary["small"].items():
        cells = [f"{k} {v * 1e6:.1f}" for k, v in s.items() if not k.endswith("_torch")]
        ratios = [f"{k} {v:.3f}" for k, v in s.items() if k.endswith("_vs_torch")]
        print(f"  {threads} thread(s): " + ", ".join(cells + ratios))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--quick", action="store_true", help="12k samples, fewer steps")
    parser.add_argument(
        "--cases", nargs="+", choices=CASES, default=list(CASES), help="what to time"
    )
    parser.add_argument(
        "--data", default="fashion-mnist", help="the CNN's images (a dataset spec)"
    )
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        print(json.dumps(worker(args.worker, args.quick, args.cases, args.data)))
        return 0
    runs = [(t, args.cases) for t in args.threads] if "mlp" in args.cases else []
    convs = [c for c in args.cases if c != "mlp"]
    if convs and not any(t == 1 for t, _ in runs):
        runs.append((1, convs))  # the convolutional cases run on one thread
    results = []
    for threads, cases in runs:
        env = dict(os.environ, **{v: str(threads) for v in THREAD_VARS})
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", str(threads)]
        cmd += ["--cases", *cases, "--data", args.data]
        if args.quick:
            cmd.append("--quick")
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=True)
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    summary = summarise(results)
    print_report(summary)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
