"""The redraw scheduler's budgets: wall-clock costs space redraws, nothing goes stale."""

from __future__ import annotations

import time

import pytest
from PySide6.QtWidgets import QWidget
from ui_helpers import OFFSCREEN_NOISE

from nndesk.ui.panels.plots import base
from nndesk.ui.panels.plots.base import PlotPanel

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

COST = 0.02
"""Seconds a redraw of the test panel takes: sleeping, so wall-clock time only."""


class SlowPanel(PlotPanel):
    """A panel whose redraw takes ``COST`` seconds of waiting (no CPU)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Slow", parent)
        self.redrawn_at: list[float] = []

    def _redraw(self) -> None:
        time.sleep(COST)
        self.redrawn_at.append(time.perf_counter())

    def csv_columns(self) -> dict[str, list[float]]:
        return {"t": self.redrawn_at}


def shown_panels(qtbot, count: int) -> list[SlowPanel]:
    panels = []
    for _ in range(count):
        panel = SlowPanel()
        qtbot.addWidget(panel)
        panel.resize(200, 150)
        panel.show()
        qtbot.waitExposed(panel)
        panel.schedule_redraw()
        panels.append(panel)
    # The first redraw of a new panel comes at once; the budgets apply from then.
    qtbot.waitUntil(lambda: all(p.redraw_count == 1 for p in panels), timeout=5000)
    return panels


def test_a_redraw_that_waits_holds_back_the_next_of_any_panel(qtbot) -> None:
    first, second = shown_panels(qtbot, 2)
    first.schedule_redraw()
    qtbot.waitUntil(lambda: first.redraw_count == 2, timeout=5000)
    second.schedule_redraw()
    qtbot.waitUntil(lambda: second.redraw_count == 2, timeout=5000)
    # The sleep counts (wall-clock time, as a redraw waiting for a CPU does):
    # after a COST-second redraw, the next waits COST / TOTAL_SHARE.
    gap = second.redrawn_at[-1] - first.redrawn_at[-1]
    assert gap >= 0.9 * COST / base.TOTAL_SHARE
    assert first.redraw_seconds >= COST


def test_a_panel_redraws_at_most_its_rate_and_never_goes_stale(qtbot) -> None:
    (panel,) = shown_panels(qtbot, 1)
    started = time.perf_counter()
    deadline = started + 3.0
    while time.perf_counter() < deadline:
        panel.schedule_redraw()  # new data all the time
        qtbot.wait(20)
    times = panel.redrawn_at
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(times) >= 3  # it kept redrawing while data kept coming
    assert min(gaps) >= 0.9 / panel.redraw_hz
    assert max(gaps) <= base.MAX_WAIT + 0.5


def test_while_panels_wait_for_the_budget_the_scheduler_sleeps(
    qtbot, monkeypatch
) -> None:
    first, second = shown_panels(qtbot, 2)
    scheduler = base._redraw_scheduler()
    ticks: list[float] = []
    real_timeout = scheduler._on_timer_timeout

    def counted() -> None:
        ticks.append(time.perf_counter())
        real_timeout()

    monkeypatch.setattr(scheduler, "_on_timer_timeout", counted)
    scheduler._timer.timeout.disconnect()
    scheduler._timer.timeout.connect(scheduler._on_timer_timeout)
    # Both dirty; after one COST-second redraw the other waits COST / TOTAL_SHARE
    # (0.4 s): the timer is set for that moment instead of ticking every TICK_MS.
    first.schedule_redraw()
    second.schedule_redraw()
    qtbot.waitUntil(
        lambda: first.redraw_count == 2 and second.redraw_count == 2, timeout=5000
    )
    waited = max(first.redrawn_at[-1], second.redrawn_at[-1]) - min(
        first.redrawn_at[-1], second.redrawn_at[-1]
    )
    assert waited >= 0.9 * COST / base.TOTAL_SHARE
    # A ticking timer would have fired about waited / TICK_MS = 33 times.
    assert len(ticks) <= 8, ticks


def test_after_a_run_panels_redraw_at_their_rate_whatever_the_budget(qtbot) -> None:
    first, second = shown_panels(qtbot, 2)
    first.schedule_redraw()
    qtbot.waitUntil(lambda: first.redraw_count == 2, timeout=5000)
    # The budget now holds the next redraw of any panel back COST / TOTAL_SHARE
    # (0.4 s); a run's end waives it: the second redraws as its rate allows.
    base.show_latest_soon(1.0)
    second.schedule_redraw()
    qtbot.waitUntil(lambda: second.redraw_count == 2, timeout=5000)
    gap = second.redrawn_at[-1] - first.redrawn_at[-1]
    assert gap < 0.5 * COST / base.TOTAL_SHARE
