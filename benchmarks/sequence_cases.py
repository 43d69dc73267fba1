"""The sequence cases of ``engine_vs_peers.py`` (issues 14 and 15), one thread.

Each case trains one model against the same model in PyTorch eager, in the same
process, on random data (speed does not depend on it):

- ``lstm``: one LSTM layer returning the whole sequence, MSE against random
  targets, Adam; batch 32, 50 steps, 64 inputs, 128 units and batch 16, 20 steps,
  8 inputs, 16 units, each one pass over 5,120 sequences.
- ``block``: one pre-norm Transformer block (LayerNorm, MultiHeadAttention, Add,
  LayerNorm, Dense 4d GELU, Dense d, Add), MSE, AdamW (forward + backward + AdamW);
  d_model 48, 3 heads, sequence 11, batch 64 and d_model 128, 4 heads, sequence
  64, batch 32.

``peers(case, size, quick, numba, have_torch)`` returns per peer a function of the
round number that trains that round's steps and returns seconds per step, for
``engine_vs_peers.interleaved``; ``engine_vs_peers`` reports them like the
convolutional cases. ``benchmarks/rnn_vs_torch.py`` and ``attention_vs_torch.py``
time the layer and the block alone (no optimizer) for profiling.
"""

from __future__ import annotations

import time

SEQUENCES = 5_120
LSTM_SIZES = {"large": (32, 50, 64, 128), "small": (16, 20, 8, 16)}
"""batch, steps, inputs, units"""
BLOCK_SIZES = {"small": (48, 3, 11, 64), "large": (128, 4, 64, 32)}
"""d_model, heads, sequence, batch"""
ROUND_STEPS = {"lstm": 10, "block": 10}
BLOCK_ROUNDS = 9


def rounds_of(case: str, size: str, quick: bool) -> int:
    """Rounds of ``ROUND_STEPS`` steps: the LSTM cases one pass over ``SEQUENCES``."""
    if case == "lstm":
        batch = LSTM_SIZES[size][0]
        return 3 if quick else SEQUENCES // (batch * ROUND_STEPS[case])
    return 3 if quick else BLOCK_ROUNDS


def title(case: str, size: str, rounds: int) -> str:
    if case == "lstm":
        b, s, f, u = LSTM_SIZES[size]
        return (
            f"LSTM {u} units, batch {b}, {s} steps, {f} inputs, Adam, one pass over "
            f"{rounds * ROUND_STEPS[case] * b:,} sequences"
        )
    d, h, s, b = BLOCK_SIZES[size]
    return (
        f"Transformer block d_model {d}, {h} heads, sequence {s}, batch {b}, "
        f"AdamW, {rounds * ROUND_STEPS[case]} steps"
    )


def _data(case: str, size: str, n_batches: int):
    import numpy as np

    rng = np.random.default_rng(0)
    if case == "lstm":
        b, s, f, u = LSTM_SIZES[size]
        x = rng.standard_normal((n_batches, b, s, f), dtype=np.float32)
        y = rng.standard_normal((n_batches, b, s, u), dtype=np.float32)
    else:
        d, _, s, b = BLOCK_SIZES[size]
        x = rng.standard_normal((n_batches, b, s, d), dtype=np.float32)
        y = rng.standard_normal((n_batches, b, s, d), dtype=np.float32)
    return x, y


def _nndesk_model(case: str, size: str):
    from nndesk.engine import optimizers
    from nndesk.engine.layers import (
        LSTM,
        Add,
        Dense,
        Input,
        LayerNormalization,
        MultiHeadAttention,
    )
    from nndesk.engine.model import Model

    if case == "lstm":
        _, s, f, u = LSTM_SIZES[size]
        x = Input((s, f))
        model = Model(x, LSTM(u, return_sequences=True)(x), seed=0)
        model.compile(loss="mse", optimizer=optimizers.Adam(lr=0.001))
        return model
    d, heads, s, _ = BLOCK_SIZES[size]
    x = Input((s, d))
    a = MultiHeadAttention(heads, d // heads)(LayerNormalization()(x))
    h = Add()([x, a])
    f = Dense(4 * d, activation="gelu")(LayerNormalization()(h))
    model = Model(x, Add()([h, Dense(d)(f)]), seed=0)
    model.compile(loss="mse", optimizer=optimizers.AdamW(lr=0.001))
    return model


def _torch_model(case: str, size: str):
    import torch

    torch.manual_seed(0)
    if case == "lstm":
        _, _, f, u = LSTM_SIZES[size]
        lstm = torch.nn.LSTM(f, u, batch_first=True)
        return lambda x: lstm(x)[0], lstm.parameters(), torch.optim.Adam

    d, heads, _, _ = BLOCK_SIZES[size]

    class Block(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln1, self.ln2 = torch.nn.LayerNorm(d), torch.nn.LayerNorm(d)
            self.att = torch.nn.MultiheadAttention(d, heads, batch_first=True)
            self.ff1, self.ff2 = torch.nn.Linear(d, 4 * d), torch.nn.Linear(4 * d, d)

        def forward(self, x):
            a = self.ln1(x)
            h = x + self.att(a, a, a, need_weights=False)[0]
            return h + self.ff2(torch.nn.functional.gelu(self.ff1(self.ln2(h))))

    block = Block()
    return block, block.parameters(), torch.optim.AdamW


def peers(case: str, size: str, quick: bool, numba: bool, have_torch: bool) -> dict:
    """Per peer (``nndesk_numpy``, ``nndesk_numba`` when Numba is on, ``torch``)
    a function training round ``r``'s ``ROUND_STEPS`` batches and returning
    seconds per step; each is warmed up (and compiled) on 3 batches first."""
    from nndesk.engine import kernels

    rounds, steps = rounds_of(case, size, quick), ROUND_STEPS[case]
    x, y = _data(case, size, rounds * steps + 3)
    warm = rounds * steps
    trainers = {}
    for label, on in (("nndesk_numpy", False), ("nndesk_numba", True)):
        if on and not numba:
            continue
        model = _nndesk_model(case, size)

        def train(first, n, model=model, on=on) -> float:
            kernels.set_numba_enabled(on)
            start = time.perf_counter()
            for i in range(first, first + n):
                model.train_on_batch(x[i], y[i])
            return (time.perf_counter() - start) / n

        trainers[label] = train
    if have_torch:
        import torch

        net, params, opt_cls = _torch_model(case, size)
        opt = opt_cls(params, lr=0.001)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        loss_fn = torch.nn.MSELoss()

        def train_torch(first, n) -> float:
            start = time.perf_counter()
            for i in range(first, first + n):
                opt.zero_grad(set_to_none=True)
                loss_fn(net(xt[i]), yt[i]).backward()
                opt.step()
            return (time.perf_counter() - start) / n

        trainers["torch"] = train_torch
    for train in trainers.values():
        train(warm, 3)
    return {
        name: (lambda r, t=train: t(r * steps, steps))
        for name, train in trainers.items()
    }
