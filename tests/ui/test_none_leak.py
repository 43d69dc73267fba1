"""Regression: PySide6 6.12.0 on Python < 3.12 leaks references to None.

Each call of a wrapped C++ method that returns nothing dropped one reference to
``None``; pyqtgraph makes such calls on every plot update, so after ~20 s of live
plotting the count reached zero and the process aborted with ``Fatal Python error:
none_dealloc``. pyproject.toml excludes that version; this test catches the leak in
whatever binding is installed.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

pytestmark = pytest.mark.gui

# Small enough that a leaking binding fails cleanly here instead of draining None's
# count (a few tens of thousands in a test process) and aborting the whole run.
CALLS = 2_000


def test_void_calls_keep_none_refcount(qapp) -> None:
    import pyqtgraph as pg
    from PySide6.QtWidgets import QGraphicsRectItem

    item = QGraphicsRectItem(0, 0, 1, 1)
    plot = pg.PlotWidget()
    curve = plot.plot(np.arange(10.0), np.arange(10.0))
    x = np.arange(10.0)
    before = sys.getrefcount(None)
    for i in range(CALLS):
        item.setPos(float(i), 0.0)  # a void C++ call
        item.setZValue(1.0)
    for _ in range(50):
        curve.setData(x, x)  # the live-plotting path
    drift = before - sys.getrefcount(None)
    # Unrelated code may hold or drop a handful of references; a leak loses one per
    # call (tens of thousands).
    assert drift < CALLS // 10, f"None lost {drift} references over {CALLS} calls"
    plot.close()
    plot.deleteLater()
