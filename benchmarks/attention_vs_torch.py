"""One pre-norm Transformer block, forward + backward, nndesk against PyTorch eager.

The block (issue 15): LayerNorm -> MultiHeadAttention -> Add -> LayerNorm ->
Dense(4d, gelu) -> Dense(d) -> Add, float32, on one thread, at the sort-task
size (d_model 48, 3 heads, sequence 11, batch 64) and at d_model 128, 4 heads,
sequence 64, batch 32. Each round times ``--repeats`` forward+backward passes of
each framework, nndesk and torch alternating so both see the same machine load;
the report gives the median per pass of every round, their range, and the
median of the per-round ratios (torch time / nndesk time: above 1, nndesk is
faster). The reference venv has torch and nndesk but no Numba (nndesk's NumPy
path); ``.venv`` has torch and Numba too (the compiled path)::

    OPENBLAS_NUM_THREADS=1 /work/refvenv/bin/python benchmarks/attention_vs_torch.py
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/attention_vs_torch.py

The training case with AdamW, both nndesk paths side by side, is
``benchmarks/engine_vs_peers.py --cases block``.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from nndesk.engine.layers import (  # noqa: E402
    Add,
    Dense,
    Input,
    LayerNormalization,
    MultiHeadAttention,
)
from nndesk.engine.model import Model  # noqa: E402

SIZES = {"small": (48, 3, 11, 64), "large": (128, 4, 64, 32)}


def nndesk_block(d: int, heads: int, steps: int, causal: bool) -> Model:
    x = Input((steps, d), name="x")
    a = LayerNormalization(name="ln1")(x)
    a = MultiHeadAttention(heads, d // heads, causal=causal, name="att")(a)
    h = Add(name="res1")([x, a])
    f = LayerNormalization(name="ln2")(h)
    f = Dense(4 * d, activation="gelu", name="ff1")(f)
    f = Dense(d, name="ff2")(f)
    out = Add(name="res2")([h, f])
    model = Model(x, out, seed=0)
    model.build()
    return model


class TorchBlock(torch.nn.Module):
    def __init__(self, d: int, heads: int, steps: int, causal: bool) -> None:
        super().__init__()
        self.ln1 = torch.nn.LayerNorm(d)
        self.att = torch.nn.MultiheadAttention(d, heads, batch_first=True)
        self.ln2 = torch.nn.LayerNorm(d)
        self.ff1 = torch.nn.Linear(d, 4 * d)
        self.ff2 = torch.nn.Linear(4 * d, d)
        self.mask = (
            torch.triu(torch.ones(steps, steps, dtype=torch.bool), 1)
            if causal
            else None
        )

    def forward(self, x):
        a = self.ln1(x)
        h = x + self.att(a, a, a, attn_mask=self.mask, need_weights=False)[0]
        return h + self.ff2(torch.nn.functional.gelu(self.ff1(self.ln2(h))))


def time_nndesk(model: Model, x: np.ndarray, dy: np.ndarray, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.forward([x], training=True)
        model.backward([dy])
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def time_torch(block, x, dy, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        block.zero_grad(set_to_none=False)
        out = block(x)
        out.backward(dy)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def run(size: str, rounds: int, repeats: int, causal: bool) -> None:
    d, heads, steps, batch = SIZES[size]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, steps, d)).astype(np.float32)
    dy = rng.normal(size=(batch, steps, d)).astype(np.float32)
    model = nndesk_block(d, heads, steps, causal)
    block = TorchBlock(d, heads, steps, causal)
    xt = torch.from_numpy(x).requires_grad_(True)
    dyt = torch.from_numpy(dy)
    time_nndesk(model, x, dy, 3)  # warm-up: buffers, BLAS
    time_torch(block, xt, dyt, 3)
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(time_nndesk(model, x, dy, repeats))
        theirs.append(time_torch(block, xt, dyt, repeats))
    ratio = np.median(np.array(theirs) / np.array(ours))
    ms = 1e3
    print(
        f"{size}: d_model {d}, {heads} heads, seq {steps}, batch {batch}"
        f"{', causal' if causal else ''}: nndesk {np.median(ours) * ms:.2f} ms "
        f"[{min(ours) * ms:.2f}-{max(ours) * ms:.2f}], torch "
        f"{np.median(theirs) * ms:.2f} ms [{min(theirs) * ms:.2f}-"
        f"{max(theirs) * ms:.2f}], speed ratio {ratio:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--causal", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(
        f"torch {torch.__version__}, numpy {np.__version__}, load {os.getloadavg()[0]:.1f}"
    )
    for size in args.sizes:
        run(size, args.rounds, args.repeats, args.causal)


if __name__ == "__main__":
    main()
