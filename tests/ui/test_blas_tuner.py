"""The window's OpenBLAS thread tuner keeps the count whose batches are faster."""

from __future__ import annotations

from nndesk.ui.training.blas import ThreadTuner


class FakeBlas:
    """Stands in for the process's OpenBLAS: a count that batches' speed follows."""

    def __init__(self) -> None:
        self.threads = 2
        self.history: list[int] = []

    def __setattr__(self, name: str, value: object) -> None:
        if name == "threads" and hasattr(self, "history"):
            self.history.append(int(value))
        object.__setattr__(self, name, value)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run(tuner: ThreadTuner, blas: FakeBlas, clock: Clock, batches: int, cost: dict) -> None:
    for _ in range(batches):
        clock.now += cost[blas.threads]
        tuner.batch_done()


def test_the_faster_count_wins_and_is_checked_again_later() -> None:
    blas, clock = FakeBlas(), Clock()
    tuner = ThreadTuner(blas, (1, 2), trial=4, period=10.0, clock=clock)
    run(tuner, blas, clock, 20, {1: 0.010, 2: 0.006})  # idle machine: every core wins
    assert tuner.chosen == 2 and blas.threads == 2
    assert blas.history[:2] == [1, 2]
    run(tuner, blas, clock, 2000, {1: 0.010, 2: 0.030})  # busy: one core wins
    assert tuner.chosen == 1 and blas.threads == 1


def test_the_batch_after_a_switch_is_not_timed() -> None:
    blas, clock = FakeBlas(), Clock()
    tuner = ThreadTuner(blas, (1, 2), trial=3, period=100.0, clock=clock)
    costs = iter([0.0, 9.0, 0.01, 0.01, 0.01, 9.0, 0.02, 0.02, 0.02])
    for cost in costs:
        clock.now += cost
        tuner.batch_done()
    # The two 9 s batches (each right after a switch) did not count against 1 or 2.
    assert tuner.chosen == 1


def test_no_choice_without_openblas_or_with_one_count() -> None:
    clock = Clock()
    for tuner in (
        ThreadTuner(None, (1, 2), clock=clock),
        ThreadTuner(FakeBlas(), (1, 1), clock=clock),
    ):
        for _ in range(50):
            clock.now += 0.01
            tuner.batch_done()
        assert not tuner.active and tuner.chosen is None
