"""Write the PyTorch reference of the warm-up + cosine schedule (schedule_lambdalr.npz).

Run by hand with the reference venv (it has torch; the test suite never imports
it)::

    /work/refvenv/bin/python tests/engine/make_schedule_fixtures.py

Each case is ``torch.optim.lr_scheduler.LambdaLR`` on an SGD optimizer, with the
warm-up + cosine function written out below (the one docs/engine.md gives), stepped
the way a training loop steps it: after every batch for a warm-up in steps, after
every epoch for one in epochs. The fixture keeps the rate each optimizer step ran
at (``param_groups[0]["lr"]`` before ``optimizer.step()``), so
``test_schedules.py`` checks ``WarmupCosine.rate(epoch, batch, batches, base_lr)``
against PyTorch's own stepping: its first rate, its counter and the product
``base_lr * factor`` it makes.

Layout: a JSON ``spec`` (a 0-d unicode array) with one entry per case (``unit``,
``warmup``, ``epochs``, ``batches``, ``base_lr``, ``min_lr``) and ``lr/<case>``, the
rates of the run's steps in order, plus steps past the run (the rate held at
``min_lr``): ``epochs + 2`` epochs in all.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch

OUT = Path(__file__).parent / "fixtures"

CASES = {
    # A warm-up in steps that ends inside the second epoch, a minimum rate.
    "steps": {
        "unit": "steps",
        "warmup": 7,
        "epochs": 4,
        "batches": 5,
        "base_lr": 0.003,
        "min_lr": 0.0001,
    },
    # The sort example's shape: 25 of 50 batches, 3 epochs, down to 0.
    "steps_sort": {
        "unit": "steps",
        "warmup": 25,
        "epochs": 3,
        "batches": 50,
        "base_lr": 0.003,
        "min_lr": 0.0,
    },
    # No warm-up: a plain cosine over the steps.
    "steps_none": {
        "unit": "steps",
        "warmup": 0,
        "epochs": 2,
        "batches": 6,
        "base_lr": 0.1,
        "min_lr": 0.01,
    },
    # Longer than the run (2 x 4 steps): the rate rises through it.
    "steps_outlasting": {
        "unit": "steps",
        "warmup": 10,
        "epochs": 2,
        "batches": 4,
        "base_lr": 0.01,
        "min_lr": 0.0,
    },
    # The warm-up in epochs of files from before step warm-ups.
    "epochs": {
        "unit": "epochs",
        "warmup": 2,
        "epochs": 6,
        "batches": 3,
        "base_lr": 0.01,
        "min_lr": 0.001,
    },
}


def factor_of(warmup: int, total: int, base: float, low: float):
    """Linear warm-up to 1 over ``warmup`` counts, (t + 1) / (warmup + 1), then half
    a cosine from 1 to low / base over the rest of ``total``, held after it."""

    def factor(t: int) -> float:
        if t < warmup:
            return (t + 1) / (warmup + 1)
        if total <= warmup:
            return low / base
        progress = min(t - warmup, total - warmup) / (total - warmup)
        return (low + (base - low) * 0.5 * (1.0 + math.cos(math.pi * progress))) / base

    return factor


def rates(case: dict) -> np.ndarray:
    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([param], lr=case["base_lr"])
    per_step = case["unit"] == "steps"
    total = case["epochs"] * (case["batches"] if per_step else 1)
    factor = factor_of(case["warmup"], total, case["base_lr"], case["min_lr"])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
    out = []
    for _epoch in range(case["epochs"] + 2):
        for _batch in range(case["batches"]):
            out.append(opt.param_groups[0]["lr"])
            param.grad = torch.ones_like(param)
            opt.step()
            if per_step:
                sched.step()
        if not per_step:
            sched.step()
    return np.array(out, dtype=np.float64)


def main() -> None:
    arrays = {f"lr/{name}": rates(case) for name, case in CASES.items()}
    arrays["spec"] = np.array(json.dumps(CASES, sort_keys=True))
    np.savez_compressed(OUT / "schedule_lambdalr.npz", **arrays)
    print(f"wrote {OUT / 'schedule_lambdalr.npz'} ({len(CASES)} cases)")


if __name__ == "__main__":
    main()
