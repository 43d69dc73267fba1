"""Start-up time of the app: process start until the main window shows its network.

Runs ``nndesk`` (``run_app([])``, what ``make run`` starts) offscreen N times in
fresh processes and reports the time until the event loop first runs with the
default spiral network and its data loaded. Target: under 2 s. The last line is
one JSON object.

Usage: ``python benchmarks/startup.py [--runs 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

PROBE = """
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(["nndesk"])

def report():
    window = next(w for w in app.topLevelWidgets() if w.objectName() == "main_window")
    ok = window.document is not None and window.dataset is not None
    print("ready" if ok else "incomplete", flush=True)
    window.close()

QTimer.singleShot(0, report)
from nndesk.ui.app import run_app
sys.exit(run_app([]))
"""


def one_run() -> float:
    """Seconds from launching the interpreter to the window ready with its data."""
    with tempfile.TemporaryDirectory() as home:
        env = dict(
            os.environ, QT_QPA_PLATFORM="offscreen", HOME=home, XDG_CONFIG_HOME=home
        )
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", PROBE], env=env, stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        elapsed = time.perf_counter() - start
        proc.wait(timeout=60)
    if line != "ready":
        raise SystemExit(f"start-up probe said {line!r} instead of 'ready'")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    one_run()  # warm the file cache so every measured run starts alike
    times = [one_run() for _ in range(args.runs)]
    result = {
        "runs": args.runs,
        "median_s": statistics.median(times),
        "best_s": min(times),
        "worst_s": max(times),
        "target_s": 2.0,
    }
    print(
        f"start-up to window ready: median {result['median_s']:.2f} s, best "
        f"{result['best_s']:.2f} s, worst {result['worst_s']:.2f} s (target < 2 s)"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
