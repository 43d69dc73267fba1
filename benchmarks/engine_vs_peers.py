"""nndesk's engine against PyTorch CPU and scikit-learn, side by side.

Trains the 784-256-128-10 MLP (ReLU, softmax cross-entropy) for one pass over 60,000
float32 samples with nndesk (plain NumPy, and Numba when installed), PyTorch eager
and scikit-learn's MLPClassifier, with SGD-momentum and Adam at batch sizes 32, 128
and 512; then times single steps of the 2-8-8-1 tanh network at batch 10, the size
people play with. Each thread count (1 and 2) runs in its own subprocess with the
BLAS and torch thread counts set before NumPy loads, so all peers share the same
settings. A peer that is not installed is skipped with a note.

Reported: samples/s, nndesk/PyTorch and nndesk/sklearn throughput ratios, and
nndesk's fraction of the GEMM ceiling: batch / (time of the step's own forward and
backward matrix products alone). The last line is one JSON object.

Usage: ``python benchmarks/engine_vs_peers.py [--threads 1 2] [--quick]``.
The data is random (uniform pixels, random labels): speed does not depend on it.
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


# --- one thread setting (a subprocess) ------------------------------------------------
def worker(threads: int, quick: bool) -> dict:
    n = 12_000 if quick else N_SAMPLES
    x, y = make_data(n)
    have_torch, have_sk = _importable("torch"), _importable("sklearn")
    numba = _numba_available()
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
    notes = []
    if not have_torch:
        notes.append("PyTorch not installed: skipped (pip install torch==2.13.0)")
    if not have_sk:
        notes.append("scikit-learn not installed: skipped")
    if not numba:
        notes.append("Numba not installed: nndesk ran plain NumPy only")
    return {"threads": threads, "samples": n, "rows": rows, "small": small, "notes": notes}


def _format_row(row: dict) -> str:
    parts = [f"{row['threads']}t {row['optimizer']:<12} batch {row['batch']:>3}:"]
    for key in ("nndesk_numpy", "nndesk_numba", "torch", "sklearn", "gemm_ceiling"):
        if key in row:
            parts.append(f"{key} {row[key]:>9,.0f}/s")
    return "  ".join(parts)


# --- the report -------------------------------------------------------------------
def summarise(results: list[dict]) -> dict:
    out: dict = {"samples": N_SAMPLES, "mlp": [], "small": {}, "notes": []}
    for res in results:
        out["samples"] = res["samples"]
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
        if "torch" in small:
            for impl in ("nndesk_numpy", "nndesk_numba"):
                if impl in small:
                    small[f"{impl}_vs_torch"] = small[impl] / small["torch"]
        out["small"][str(res["threads"])] = small
        out["notes"] = sorted(set(out["notes"]) | set(res["notes"]))
    return out


def print_report(summary: dict) -> None:
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
    for note in summary["notes"]:
        print(f"note: {note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--quick", action="store_true", help="12k samples, fewer steps")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        print(json.dumps(worker(args.worker, args.quick)))
        return 0
    results = []
    for threads in args.threads:
        env = dict(os.environ, **{v: str(threads) for v in THREAD_VARS})
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", str(threads)]
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
