"""Learning-rate schedules: closed-form values, registry and bad arguments."""

from __future__ import annotations

import math

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


def test_warmup_cosine():
    s = schedules.WarmupCosine(warmup_epochs=3, total_epochs=7, min_lr=0.1)
    warm = [s(e, 0.8) for e in range(3)]
    assert warm == pytest.approx([0.2, 0.4, 0.6])  # linear, never 0
    cos = [0.1 + 0.7 * (1 + math.cos(math.pi * k / 4)) / 2 for k in range(5)]
    assert [s(e, 0.8) for e in range(3, 8)] == pytest.approx(cos)
    assert s(3, 0.8) == pytest.approx(0.8) and s(20, 0.8) == pytest.approx(0.1)
    plain = schedules.CosineDecay(total_epochs=5, min_lr=0.1)
    no_warmup = schedules.WarmupCosine(0, 5, 0.1)
    assert [no_warmup(e, 1.0) for e in range(8)] == [plain(e, 1.0) for e in range(8)]
    with pytest.raises(ConfigError, match="total_epochs \\(3\\) must exceed warmup"):
        schedules.WarmupCosine(3, 3)
    with pytest.raises(ConfigError, match="warmup_epochs must be an integer >= 0"):
        schedules.WarmupCosine(-1, 3)


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
    ]
    for s in made:
        again = schedules.get(s.name, **s.get_config())
        assert type(again) is type(s)
        assert [again(e, 0.1) for e in range(9)] == [s(e, 0.1) for e in range(9)]
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
