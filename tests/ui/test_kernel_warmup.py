"""The kernel warm-up thread outlives the window that started it without an error."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import os, sys, threading
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QObject
    from PySide6.QtWidgets import QApplication
    import shiboken6
    from nndesk.engine.kernels import numba_resolved
    from nndesk.ui.training.warmup import KernelWarmup

    app = QApplication([])
    assert not numba_resolved(), "a fresh process has not loaded the kernels"
    parent = QObject()
    warmup = KernelWarmup(parent)
    thread = warmup._thread
    assert thread is not None and thread.is_alive()
    shiboken6.delete(parent)  # the window closes while Numba loads
    thread.join(120)
    app.processEvents()
    print("joined", not thread.is_alive())
    """
)


def test_closing_the_window_while_the_kernels_load_raises_nothing() -> None:
    env = dict(os.environ, NNDESK_NUMBA="1", PYTHONFAULTHANDLER="1")
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=180, env=env
    )
    assert result.returncode == 0, result.stderr
    assert "joined True" in result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert "deleted" not in result.stderr, result.stderr
