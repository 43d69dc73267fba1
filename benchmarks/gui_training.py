"""Training in the window with every live panel showing, against headless training.

Trains the Fashion-MNIST seed network (784-256-128-10, ReLU, softmax, Adam, batch
128, the ``fashion_mnist`` example) for one epoch twice per round: headless with
``nndesk.training.Trainer``, and in the real main window (offscreen) with all the
training panels visible side by side, the way a user watches it. Both run the same
engine on the same prepared data.

Reported:

- throughput (training samples per second of epoch time, validation included)
  with panels, headless, and their ratio (target >= 0.85);
- the longest gap between ticks of a 10 ms QTimer on the GUI thread while the
  window trains (target <= 50 ms), and its 99th percentile;
- redraws per panel during the run.

Rounds alternate a headless and a GUI run (the machine may be shared with other
work, which moves single runs a lot): the report gives the ratio of the best runs
of each kind and the median of the per-round ratios, and the longest tick gap of
every round (worst and median). A short warm-up first keeps Numba's compilation
out of the timings. The last line is one JSON object.

With ``--trace`` every event the GUI thread handles for more than 4 ms is timed,
and the ten longest of each window run are listed with, on Linux, how much of
their time the thread ran and how much it waited for a CPU (the training thread
and other processes compete for it).

Usage: ``python benchmarks/gui_training.py [--data DIR] [--rounds 5] [--trace]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "fashion-mnist"
TICK_MS = 10
WINDOW_SIZE = (1920, 1080)


def headless_epoch(doc, dataset) -> dict:
    """One epoch with the Trainer alone; returns its samples/s."""
    from nndesk.training.compile import compile_network
    from nndesk.training.data import prepare_data
    from nndesk.training.trainer import TrainConfig, Trainer

    net = compile_network(doc, dataset=dataset)
    data = prepare_data(net, dataset)
    trainer = Trainer(
        net.model, data, TrainConfig.from_settings(doc.settings, epochs=1)
    )
    start = time.perf_counter()
    trainer.run()
    wall = time.perf_counter() - start
    epoch_time = float(trainer.last_logs["epoch_time"])
    return {
        "samples": data.n_train,
        "epoch_time": epoch_time,
        "wall": wall,
        "samples_per_sec": data.n_train / epoch_time,
        "val_accuracy": float(trainer.last_logs.get("val_accuracy", float("nan"))),
    }


def warm_up(doc, dataset) -> None:
    """A few batches so Numba compiles its kernels before anything is timed."""
    from nndesk.training.compile import compile_network
    from nndesk.training.data import prepare_data

    net = compile_network(doc, dataset=dataset)
    data = prepare_data(net, dataset)
    n = 128 * 8
    net.model.fit(data.x_train[:n], data.y_train[:n], epochs=1, batch_size=128)
    net.model.predict(data.x_train[:300])


def _thread_schedstat() -> tuple[float, float]:
    """Seconds this thread ran and waited for a CPU (Linux; zeros elsewhere)."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            ran, waited, _ = f.read().split()
    except OSError:
        return 0.0, 0.0
    return int(ran) / 1e9, int(waited) / 1e9


def make_tracing_app():
    """A QApplication that records every event handled for more than 4 ms."""
    from PySide6.QtWidgets import QApplication

    class TracingApp(QApplication):
        def __init__(self, args: list[str]) -> None:
            super().__init__(args)
            self.records: list[tuple[float, float, float, str]] = []
            self._depth = 0

        def notify(self, receiver, event) -> bool:  # noqa: N802 - Qt override
            self._depth += 1
            start = time.perf_counter()
            ran, waited = _thread_schedstat()
            try:
                return super().notify(receiver, event)
            finally:
                self._depth -= 1
                wall = time.perf_counter() - start
                if wall > 0.004 and self._depth == 0:  # outermost events only
                    ran2, waited2 = _thread_schedstat()
                    name = type(receiver).__name__
                    label = f"{name} {event.type().name}"
                    self.records.append((wall, ran2 - ran, waited2 - waited, label))

    return TracingApp(["gui_training"])


def print_trace(app) -> None:
    """The ten longest events of the last window run."""
    records = sorted(getattr(app, "records", ()), reverse=True)[:10]
    for wall, ran, waited, label in records:
        print(
            f"    {1000 * wall:6.1f} ms (ran {1000 * ran:5.1f}, waited for a CPU "
            f"{1000 * waited:5.1f}) {label}"
        )


class Ticker:
    """Records the gaps between the ticks of a 10 ms QTimer on the GUI thread."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[float] = []
        self._last = 0.0
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._on_tick)

    def start(self) -> None:
        self.gaps.clear()
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _on_tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now


def make_window(app, doc):
    from nndesk.ui.main_window import MainWindow
    from nndesk.ui.settings import AppSettings
    from nndesk.ui.theme import ThemeManager
    from nndesk.ui.training.controller import attach_training

    folder = tempfile.mkdtemp(prefix="nndesk-bench-")
    window = MainWindow(
        AppSettings.at_path(Path(folder) / "settings.ini"), ThemeManager("light")
    )
    window.notify_error = lambda message: print(f"error: {message}", file=sys.stderr)
    window.ask_unsaved = lambda name: "discard"
    training = getattr(window, "training", None) or attach_training(window)
    window.set_document(doc)
    window.resize(*WINDOW_SIZE)
    window.show()
    training.show_all_panels()
    app.processEvents()
    # The window may read a big dataset in a background thread: wait for it.
    deadline = time.perf_counter() + 300
    while training._dataset() is None:
        if time.perf_counter() > deadline:
            raise RuntimeError("the window did not load the dataset in 300 s")
        app.processEvents()
        time.sleep(0.02)
    training.refresh_preview()
    app.processEvents()
    return window, training


def gui_epoch(app, window, training) -> dict:
    """One epoch in the window; returns samples/s and the GUI thread's tick gaps."""
    panels = {
        "curves": training.curves,
        "network": training.network,
        "activations": training.activations,
        "histograms": training.histograms,
        "evaluation": training.evaluation,
        "boundary": training.boundary,
    }
    hidden = [name for name, panel in panels.items() if not panel.isVisible()]
    if hidden:
        raise RuntimeError(f"panels not visible: {hidden}")
    from PySide6.QtCore import QEventLoop

    before = {name: panel.redraw_count for name, panel in panels.items()}
    ticker = Ticker()
    done: list[object] = []
    loop = QEventLoop()
    training.sig_run_finished.connect(done.append)
    training.sig_run_finished.connect(loop.quit)
    ticker.start()
    start = time.perf_counter()
    cpu = time.thread_time()
    training.actions.train.trigger()
    loop.exec()  # as the app's own event loop runs: no polling
    gui_cpu = time.thread_time() - cpu
    wall = time.perf_counter() - start
    ticker.stop()
    training.sig_run_finished.disconnect(done.append)
    training.sig_run_finished.disconnect(loop.quit)
    outcome = done[0]
    if outcome.status != "completed":
        raise RuntimeError(f"the GUI run ended as {outcome.status}: {outcome.message}")
    logs = training.last_epoch_logs
    epoch_time = float(logs["epoch_time"])
    samples = training.preview.data.n_train
    gaps = sorted(ticker.gaps)
    training.reset_weights()
    app.processEvents()
    return {
        "samples": samples,
        "epoch_time": epoch_time,
        "wall": wall,
        "samples_per_sec": samples / epoch_time,
        "val_accuracy": float(logs.get("val_accuracy", float("nan"))),
        "max_tick_gap_ms": 1000 * gaps[-1],
        "p99_tick_gap_ms": 1000 * gaps[int(0.99 * (len(gaps) - 1))],
        "ticks": len(gaps),
        "gui_thread_cpu_share": gui_cpu / wall,
        "redraws": {
            name: panel.redraw_count - before[name] for name, panel in panels.items()
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="Fashion-MNIST IDX folder"
    )
    parser.add_argument(
        "--rounds", type=int, default=5, help="headless+GUI pairs to run"
    )
    parser.add_argument(
        "--trace", action="store_true", help="list the longest GUI-thread events"
    )
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(
            f"Fashion-MNIST not found at {args.data}; pass --data DIR.", file=sys.stderr
        )
        return 2

    from PySide6.QtCore import QStandardPaths
    from PySide6.QtWidgets import QApplication

    from nndesk.document.examples import fashion_mnist_mlp
    from nndesk.io.datasets import load_dataset

    app = QApplication.instance() or (
        make_tracing_app() if args.trace else QApplication(["gui_training"])
    )
    QStandardPaths.setTestModeEnabled(True)
    doc = fashion_mnist_mlp(str(args.data))
    doc.set_setting("epochs", 1)
    dataset = load_dataset(str(args.data), seed=int(doc.settings["seed"]))
    warm_up(doc, dataset)
    window, training = make_window(app, doc.copy())

    headless, gui = [], []
    for k in range(args.rounds):
        headless.append(headless_epoch(doc, dataset))
        print(
            f"round {k + 1} headless: {headless[-1]['samples_per_sec']:,.0f} samples/s",
            flush=True,
        )
        if args.trace:
            app.records.clear()
        gui.append(gui_epoch(app, window, training))
        g = gui[-1]
        print(
            f"round {k + 1} window:   {g['samples_per_sec']:,.0f} samples/s, "
            f"longest GUI gap {g['max_tick_gap_ms']:.1f} ms, GUI thread busy "
            f"{100 * g['gui_thread_cpu_share']:.0f}%, redraws {g['redraws']}",
            flush=True,
        )
        if args.trace:
            print_trace(app)
    window.close()

    best_headless = max(headless, key=lambda r: r["samples_per_sec"])
    best_gui = max(gui, key=lambda r: r["samples_per_sec"])
    ratio = best_gui["samples_per_sec"] / best_headless["samples_per_sec"]
    round_ratios = [
        g["samples_per_sec"] / h["samples_per_sec"]
        for h, g in zip(headless, gui, strict=True)
    ]
    gaps = [g["max_tick_gap_ms"] for g in gui]
    worst_gap = max(gaps)
    median_gap = float(statistics.median(gaps))
    print(
        f"Fashion-MNIST 784-256-128-10, one epoch of {best_gui['samples']:,} samples, batch 128\n"
        f"  headless      {best_headless['samples_per_sec']:>10,.0f} samples/s\n"
        f"  with panels   {best_gui['samples_per_sec']:>10,.0f} samples/s\n"
        f"  ratio         {ratio:>10.3f}   (target >= 0.85; median of rounds "
        f"{statistics.median(round_ratios):.3f})\n"
        f"  longest gap between 10 ms GUI ticks: median of rounds {median_gap:.1f} ms, "
        f"worst {worst_gap:.1f} ms (target <= 50 ms)"
    )
    summary = {
        "benchmark": "gui_training",
        "samples": best_gui["samples"],
        "headless_samples_per_sec": round(best_headless["samples_per_sec"], 1),
        "gui_samples_per_sec": round(best_gui["samples_per_sec"], 1),
        "throughput_ratio": round(ratio, 4),
        "median_round_ratio": round(float(statistics.median(round_ratios)), 4),
        "max_tick_gap_ms": round(worst_gap, 2),
        "median_max_tick_gap_ms": round(median_gap, 2),
        "p99_tick_gap_ms": round(max(g["p99_tick_gap_ms"] for g in gui), 2),
        "rounds": args.rounds,
        "headless_runs": [round(r["samples_per_sec"], 1) for r in headless],
        "gui_runs": [round(r["samples_per_sec"], 1) for r in gui],
        "gui_thread_cpu_share": round(best_gui["gui_thread_cpu_share"], 3),
        "redraws": best_gui["redraws"],
        "round_max_tick_gaps_ms": [round(g, 1) for g in gaps],
        "targets_met": ratio >= 0.85 and median_gap <= 50.0,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
