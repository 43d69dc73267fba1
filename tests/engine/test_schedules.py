"""Learning-rate schedules: closed-form values, registry and bad arguments."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from nndesk.engine import schedules
from nndesk.engine.errors import ConfigError


def test_step_decay():
    s = schedules.StepDecay(step_size=3, gamma=0.5)
    rates = [s(epoch, 0.8) for epoch in range(8)]
    assert rates == pytest.approx([0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2, 0.2])
    assert schedules.StepDecay(step_size=1)(2, 1.0) == pytest.approx(0.01)


def test_exponential_decay():
    s = schedules.ExponentialDecay(gamma=0.9)
    assert [s(e, 2.0) for e in range(4)] == pytest.approx([2.0, 1.8, 1.62, 1.458])


def test_cosine_decay():
    s = schedules.CosineDecay(total_epochs=4, min_lr=0.1)
    # torch's CosineAnnealingLR closed form: eta_min + (base - eta_min)(1 + cos(pi t/T))/2
    expected = [0.1 + 0.9 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(5)]
    assert [s(e, 1.0) for e in range(5)] == pytest.approx(expected)
    assert s(2, 1.0) == pytest.approx(0.55)
    assert s(4, 1.0) == pytest.approx(0.1)
    assert s(9, 1.0) == pytest.approx(0.1)  # held at min_lr after total_epochs
    assert schedules.CosineDecay(10)(0, 0.3) == pytest.approx(0.3)


def test_warmup_cosine_in_epochs():
    s = schedules.WarmupCosine(warmup_epochs=3, total_epochs=7, min_lr=0.1)
    assert not s.per_step
    warm = [s(e, 0.8) for e in range(3)]
    assert warm == pytest.approx([0.2, 0.4, 0.6])  # linear, never 0
    cos = [0.1 + 0.7 * (1 + math.cos(math.pi * k / 4)) / 2 for k in range(5)]
    assert [s(e, 0.8) for e in range(3, 8)] == pytest.approx(cos)
    assert s(3, 0.8) == pytest.approx(0.8) and s(20, 0.8) == pytest.approx(0.1)
    # Every batch of an epoch runs at the epoch's rate.
    assert [s.rate(4, b, 3, 0.8) for b in range(3)] == [s(4, 0.8)] * 3
    plain = schedules.CosineDecay(total_epochs=5, min_lr=0.1)
    no_warmup = schedules.WarmupCosine(0, 5, 0.1)
    assert [no_warmup(e, 1.0) for e in range(8)] == [plain(e, 1.0) for e in range(8)]
    with pytest.raises(ConfigError, match="warmup_epochs must be an integer >= 0"):
        schedules.WarmupCosine(-1, 3)


def test_warmup_cosine_in_steps_changes_the_rate_every_step():
    s = schedules.WarmupCosine(warmup_steps=5, total_epochs=3, min_lr=0.1)
    assert s.per_step and s.warmup_steps == 5 and s.warmup_epochs is None
    batches = 4  # 12 steps: 5 of warm-up, a cosine over the other 7
    got = [s.rate(e, b, batches, 0.8) for e in range(4) for b in range(batches)]
    warm = [0.8 * (k + 1) / 6 for k in range(5)]
    cos = [0.1 + 0.7 * (1 + math.cos(math.pi * k / 7)) / 2 for k in range(7)]
    assert got == pytest.approx(warm + cos + [0.1] * 4)  # held at min_lr after
    assert got[4] < got[5] == pytest.approx(0.8)  # the warm-up's last step is below
    assert len(set(got[:4])) == 4  # not one rate per epoch
    with pytest.raises(ConfigError, match="changes the rate at every step"):
        s(0, 0.8)
    # No warm-up: CosineDecay over the steps.
    plain = schedules.CosineDecay(total_epochs=6, min_lr=0.1)
    flat = schedules.WarmupCosine(warmup_steps=0, total_epochs=2, min_lr=0.1)
    rates = [flat.rate(e, b, 3, 1.0) for e in range(2) for b in range(3)]
    assert rates == pytest.approx([plain(k, 1.0) for k in range(6)])


def test_a_warmup_as_long_as_the_run_rises_through_it():
    """No refusal (a 1-epoch run of a network with a longer warm-up trains): the
    rate climbs the whole run, as LambdaLR with the same function would."""
    s = schedules.WarmupCosine(warmup_steps=10, total_epochs=2, min_lr=0.01)
    rates = [s.rate(e, b, 4, 1.0) for e in range(2) for b in range(4)]
    assert rates == pytest.approx([(k + 1) / 11 for k in range(8)])
    assert s.warmup_outlasts(5) and not s.warmup_outlasts(6)
    assert s.rate(2, 1, 4, 1.0) == pytest.approx(10 / 11)  # training on past the run
    assert s.rate(2, 2, 4, 1.0) == 0.01  # and past the warm-up: min_lr
    epochs = schedules.WarmupCosine(3, 3)
    assert [epochs(e, 1.0) for e in range(4)] == pytest.approx([0.25, 0.5, 0.75, 0])
    assert epochs.warmup_outlasts(100)
    assert not schedules.WarmupCosine(2, 3).warmup_outlasts(1)


FIXTURE = Path(__file__).parent / "fixtures" / "schedule_lambdalr.npz"


@pytest.mark.parametrize(
    "case", ["steps", "steps_sort", "steps_none", "steps_outlasting", "epochs"]
)
def test_rates_equal_pytorch_lambdalr(case):
    """The rate of every step equals LambdaLR's with the same function, stepped
    per batch (or per epoch), from tests/engine/make_schedule_fixtures.py."""
    with np.load(FIXTURE) as f:
        spec = json.loads(str(f["spec"]))[case]
        expected = f[f"lr/{case}"]
    unit = "warmup_steps" if spec["unit"] == "steps" else "warmup_epochs"
    s = schedules.get(
        "warmup_cosine",
        **{unit: spec["warmup"]},
        total_epochs=spec["epochs"],
        min_lr=spec["min_lr"],
    )
    batches = spec["batches"]
    got = [
        s.rate(e, b, batches, spec["base_lr"])
        for e in range(spec["epochs"] + 2)
        for b in range(batches)
    ]
    assert len(got) == len(expected)
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-18)


def test_rate_checks_its_position():
    s = schedules.StepDecay(2)
    assert s.rate(3, 1, 2, 1.0) == s(3, 1.0)
    for args, match in [
        ((0, 2, 2), "batch that is an integer from 0 to 1"),
        ((0, -1, 2), "batch that is an integer from 0 to 1"),
        ((0, 0, 0), "batches per epoch that is an integer >= 1"),
        ((-1, 0, 2), "epoch that is an integer >= 0"),
    ]:
        with pytest.raises(ConfigError, match=match):
            s.rate(*args, 1.0)
    per_step = schedules.WarmupCosine(warmup_steps=1, total_epochs=1)
    with pytest.raises(ConfigError, match="epoch that is an integer >= 0"):
        per_step.rate(1.5, 0, 2, 1.0)


def test_schedules_register_themselves():
    class Halving(schedules.Schedule, register=True):
        name = "test_halving"

        def _rate(self, epoch, base_lr):
            return base_lr / 2**epoch

    try:
        assert schedules.get("test_halving")(3, 1.0) == 0.125
        with pytest.raises(RuntimeError, match="registered twice"):

            class Other(schedules.Schedule, register=True):
                name = "test_halving"

    finally:
        schedules._CLASSES.pop("test_halving")


def test_registry_and_config_round_trip():
    assert schedules.SCHEDULES == ("step", "exponential", "cosine", "warmup_cosine")
    made = [
        schedules.get("step", step_size=2),
        schedules.get("exponential", gamma=0.5),
        schedules.get("cosine", total_epochs=7, min_lr=0.01),
        schedules.get("warmup_cosine", warmup_epochs=2, total_epochs=7),
        schedules.get("warmup_cosine", warmup_steps=5, total_epochs=7, min_lr=0.01),
    ]
    for s in made:
        again = schedules.get(s.name, **s.get_config())
        assert type(again) is type(s) and again.per_step == s.per_step
        assert [again.rate(e, b, 3, 0.1) for e in range(9) for b in range(3)] == [
            s.rate(e, b, 3, 0.1) for e in range(9) for b in range(3)
        ]
    assert repr(made[-1]) == (
        "WarmupCosine(warmup_steps=5, total_epochs=7, min_lr=0.01)"
    )
    assert isinstance(schedules.get("StepLR", step_size=4), schedules.StepDecay)
    assert schedules.get(made[0]) is made[0]


@pytest.mark.parametrize(
    "call,match",
    [
        (
            lambda: schedules.get("linear"),
            r"Unknown schedule 'linear'.*step, exponential",
        ),
        (lambda: schedules.get("step"), "needs parameter 'step_size'"),
        (lambda: schedules.get("step", step_size=2, rate=3), "no parameter 'rate'"),
        (lambda: schedules.StepDecay(0), "step_size must be an integer >= 1"),
        (lambda: schedules.StepDecay(2.5), "step_size must be an integer >= 1"),
        (lambda: schedules.ExponentialDecay(-0.5), "gamma must be a finite number > 0"),
        (
            lambda: schedules.CosineDecay(5, min_lr=-1),
            "min_lr must be a finite number >= 0",
        ),
        (lambda: schedules.CosineDecay(True), "total_epochs must be an integer"),
        (
            lambda: schedules.get("warmup_cosine", total_epochs=3),
            "needs one of warmup_steps .* got neither",
        ),
        (
            lambda: schedules.WarmupCosine(1, 3, warmup_steps=2),
            "needs one of warmup_steps .* got both",
        ),
        (
            lambda: schedules.WarmupCosine(warmup_steps=2),
            "needs parameter 'total_epochs'",
        ),
        (
            lambda: schedules.WarmupCosine(warmup_steps=1.5, total_epochs=3),
            "warmup_steps must be an integer >= 0",
        ),
        (
            lambda: schedules.ExponentialDecay(0.5)(-1, 0.1),
            "epoch that is an integer >= 0",
        ),
        (
            lambda: schedules.ExponentialDecay(0.5)(1.5, 0.1),
            "epoch that is an integer >= 0",
        ),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises(ConfigError, match=match):
        call()
