"""Training in the window with every live panel showing, against headless training.

Three cases (``--case``; ``mlp`` by default; ``both`` runs mlp, then cnn):

- ``mlp``: the Fashion-MNIST seed network (784-256-128-10, ReLU, softmax, Adam,
  batch 128, the ``fashion_mnist`` example);
- ``cnn``: the Fashion-MNIST CNN (Conv 32 3x3, MaxPool, Conv 64 3x3, MaxPool,
  Flatten, Dense 128, Dense 10, Adam, batch 64, the ``fashion_mnist_cnn``
  example), with the Feature Maps, Filters and Saliency panels showing too;
- ``gan``: the "GAN on a ring of 8 Gaussians" example (issue 16) trained through
  ``GanSession.fit``, with the GAN picture (every layer on), samples and curves
  showing (``gan_case.py``; samples are real samples, an epoch a pass over them).

Each case trains in rounds: each round trains headless with
``nndesk.training.Trainer`` in a process of its own, as ``nndesk train`` runs
(no thread niced, OpenBLAS on its own count), then in the real main window
(offscreen) with all the training panels visible side by side, the way a user
watches it. Both run the same engine on the same prepared data, for the same
number of epochs, chosen so that a round trains for at least ``--seconds`` (10 by
default) of epoch time: short rounds measure the start of a run and the machine's
mood more than steady training. (The headless run had shared the window's process,
where the window's first run leaves OpenBLAS's helper threads niced for good: a
product of the headless run then waited for a niced helper whenever another
program took a core, which favoured the window.)

Reported per case:

- throughput (training samples per second of epoch time, validation included)
  with panels, headless, and their ratio per round; the median of the rounds'
  ratios is the figure (target >= 0.85), the best round is shown for reference;
- the gaps between ticks of a 10 ms QTimer on the GUI thread while the window
  trains, over every round: the 99th percentile (target <= 50 ms) and the worst
  gap (target <= 100 ms), and each round's worst;
- redraws per panel during a run, and the GUI thread's CPU time in each panel's
  redraws (ms per second of the run);
- for reference, the ratio to headless training on the window's number of BLAS
  threads (``nndesk.ui.training.blas``: every core once OpenBLAS's helper
  threads run niced like the training thread, else all but one, leaving a core
  to the GUI thread). With 2 threads a matrix product waits for whichever half
  another thread preempts, so on a busy 2-core machine headless training can
  fall far below the window's; this second ratio shows what the panels cost
  with the same BLAS on both sides. ``targets_met`` does not use it;
- what the window costs in CPU time, which other programs on the machine move
  much less than wall-clock time: the CPU ratio (the headless run's CPU seconds
  per sample on the window's BLAS threads over the window's, every thread of the
  process counted, from the Train press to the end of the run), the share of the
  run's wall time the GUI thread and the training thread ran, and the training
  thread's CPU per sample against headless training's (probes and evaluations
  are its extra work). On a machine whose cores are all taken, each program gets
  a share of CPU time, and the CPU ratio is then the throughput ratio to expect.

``targets_met`` is true when all three targets hold for every case run. Rounds
alternate headless and GUI runs (the machine may be shared with other work, which
moves single runs a lot). A short warm-up first keeps Numba's compilation out of
the timings. The last line is one JSON object.

With ``--trace`` every event the GUI thread handles is timed: the ten longest of
each window run are listed with, on Linux, how much of their time the thread ran
and how much it waited for a CPU (the training thread and other processes compete
for it), and the GUI thread's CPU time is summed by kind of event, with the paints
of each panel apart. For each event that runs over 60 ms, a watchdog thread
records the GUI thread's Python stack at that moment, and the innermost nndesk
and library frames of the longest ones are printed. Tracing itself costs time: judge ratios without it.

Usage: ``python benchmarks/gui_training.py [--case mlp|cnn|gan|both] [--data DIR]
[--rounds 5] [--seconds 10] [--trace]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import gan_case  # noqa: E402  (beside this file)

DEFAULT_DATA = REPO.parent / "shared" / "data" / "fashion-mnist"
TICK_MS = 10
WINDOW_SIZE = (1920, 1080)
TARGET_RATIO = 0.85
TARGET_P99_GAP_MS = 50.0
TARGET_WORST_GAP_MS = 100.0
TRACE_LONGER_THAN = 0.004
"""Events listed by ``--trace`` (seconds); shorter ones are only summed."""
STACK_AFTER = 0.06
"""``--trace`` prints where the GUI thread's Python code was once an event had run
this long (seconds)."""


def fashion_cnn(data_path: str):
    """The "Fashion-MNIST CNN" example (built here when the examples lack it)."""
    from nndesk.document import examples

    builder = getattr(examples, "fashion_mnist_cnn", None)
    if builder is not None:
        return builder(data_path)
    from nndesk.document.graph import Document

    doc = Document(
        {
            "dataset": data_path,
            "optimizer": "adam",
            "learning_rate": 0.001,
            "batch_size": 64,
            "epochs": 3,
            "metrics": ("accuracy",),
            "validation_split": 0.1,
            "scaling": "standard",
        }
    )
    prev = None
    for k, (type_name, params) in enumerate(
        [
            ("Input", {"shape": (28, 28, 1)}),
            ("Conv2D", {"filters": 32, "kernel_size": 3, "activation": "relu"}),
            ("MaxPool2D", {"pool_size": 2}),
            ("Conv2D", {"filters": 64, "kernel_size": 3, "activation": "relu"}),
            ("MaxPool2D", {"pool_size": 2}),
            ("Flatten", {}),
            ("Dense", {"units": 128, "activation": "relu"}),
            ("Dense", {"units": 10, "activation": "softmax"}),
            ("Output", {"loss": "sparse_categorical_crossentropy"}),
        ]
    ):
        node = doc.add_node(type_name, params, pos=(220.0 * k, 0.0))
        if prev is not None:
            doc.connect(prev, "out", node, "in")
        prev = node
    return doc


def fashion_mlp(data_path: str):
    from nndesk.document.examples import fashion_mnist_mlp

    return fashion_mnist_mlp(data_path)


CASES: dict[str, tuple[str, Callable, tuple[str, ...]]] = {
    # name: (title, document builder, panels that must be showing)
    "mlp": (
        "Fashion-MNIST 784-256-128-10, batch 128",
        fashion_mlp,
        ("curves", "network", "activations", "histograms", "evaluation", "boundary"),
    ),
    "cnn": (
        "Fashion-MNIST CNN (conv 32, pool, conv 64, pool, 128, 10), batch 64",
        fashion_cnn,
        (
            "curves",
            "network",
            "activations",
            "histograms",
            "evaluation",
            "feature_maps",
            "filters",
            "saliency",
        ),
    ),
    "gan": (
        "GAN on a ring of 8 Gaussians (every live layer showing)",
        gan_case.gan_ring,
        ("gan_picture", "gan_samples", "gan_curves", "curves"),
    ),
}


def headless_run(doc, dataset, epochs: int, blas_threads: int | None = None) -> dict:
    """``epochs`` epochs with the Trainer alone; returns its samples/s.

    ``blas_threads``: run OpenBLAS on this many threads (default: its own count).
    The CPU time counts compiling, preparing the data and training (every
    thread of the process), as the window's does from its Train press.
    """
    from nndesk.training.callbacks import LambdaCallback
    from nndesk.training.compile import compile_network
    from nndesk.training.data import prepare_data
    from nndesk.training.trainer import TrainConfig, Trainer
    from nndesk.ui.training.blas import default_threads, threads_for_training

    cpu = time.process_time()
    net = compile_network(doc, dataset=dataset)
    data = prepare_data(net, dataset)
    times: list[float] = []
    trainer = Trainer(
        net.model,
        data,
        TrainConfig.from_settings(doc.settings, epochs=epochs),
        callbacks=[
            LambdaCallback(
                on_epoch_end=lambda _e, logs: times.append(logs["epoch_time"])
            )
        ],
    )
    # None: OpenBLAS's own count, as the command line trains (the window leaves
    # 1 thread between its runs once it niced the helpers: see blas.idle_threads).
    limit = threads_for_training(
        default_threads() if blas_threads is None else blas_threads
    )
    with limit:
        start = time.perf_counter()
        trainer.run()
        wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    epoch_time = float(sum(times))
    samples = data.n_train * epochs
    return {
        "samples": samples,
        "epochs": epochs,
        "epoch_time": epoch_time,
        "wall": wall,
        "samples_per_sec": samples / epoch_time,
        "cpu_per_sample": cpu / samples,
        "val_accuracy": float(trainer.last_logs.get("val_accuracy", float("nan"))),
    }


def window_blas_threads(doc, gan: bool) -> int | None:
    """The OpenBLAS threads the window's worker picks for ``doc``
    (``blas.threads_for_models``; None: ``gui_friendly_threads``)."""
    from nndesk.ui.training.blas import threads_for_models

    if gan:
        from nndesk.training.gan import GanSession

        session = GanSession(doc)
        nets = [session.gan.generator, session.gan.discriminator]
        return threads_for_models(nets, session.config.batch_size)
    from nndesk.training.session import TrainingSession

    model = TrainingSession(doc).model
    return threads_for_models([model], int(doc.settings["batch_size"]))


def headless_child(case: str, data: Path, epochs: int) -> dict:
    """``headless_run`` of ``case`` for ``epochs`` epochs in a fresh process, as
    the command line trains: nothing niced, OpenBLAS on its own count."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--case",
        case,
        "--data",
        str(data),
        "--headless-epochs",
        str(epochs),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"the headless run failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def headless_main(case: str, data: Path, epochs: int) -> int:
    """The child of ``headless_child``: prints the run's figures as one JSON line."""
    from nndesk.io.datasets import load_dataset

    doc = CASES[case][1](str(data))
    if case == "gan":
        dataset = gan_case.load(doc)
        gan_case.warm_up(doc, dataset)
    else:
        dataset = load_dataset(str(data), seed=int(doc.settings["seed"]))
        warm_up(doc, dataset)
    doc.set_setting("epochs", epochs)
    doc.set_setting("early_stopping_patience", 0)
    run = (gan_case.headless_run if case == "gan" else headless_run)(
        doc, dataset, epochs
    )
    print(json.dumps(run))
    return 0


def warm_up(doc, dataset) -> None:
    """A few batches so Numba compiles its kernels before anything is timed."""
    from nndesk.training.compile import compile_network
    from nndesk.training.data import prepare_data

    net = compile_network(doc, dataset=dataset)
    data = prepare_data(net, dataset)
    n = 128 * 8
    net.model.fit(data.x_train[:n], data.y_train[:n], epochs=1, batch_size=128)
    net.model.predict(data.x_train[:300])


def epoch_seconds(doc, dataset, blas_threads: int | None = None) -> float:
    """An estimate of one epoch's time: an eighth of the training data timed
    (a CNN's whole epoch takes half a minute), scaled up, validation included.

    CPU time, not wall-clock time: on a busy machine the wall clock runs several
    times faster than training, and runs sized by it came out shorter than asked
    once the machine was quieter (a 4 s run for ``--seconds 10``).
    """
    from nndesk.training.compile import compile_network
    from nndesk.training.data import prepare_data
    from nndesk.ui.training.blas import default_threads, threads_for_training

    net = compile_network(doc, dataset=dataset)
    data = prepare_data(net, dataset)
    n = max(1, data.n_train // 8)
    batch = int(doc.settings["batch_size"])
    # None: OpenBLAS's own count, as the command line trains (the window leaves
    # 1 thread between its runs once it niced the helpers: see blas.idle_threads).
    limit = threads_for_training(
        default_threads() if blas_threads is None else blas_threads
    )
    with limit:
        start = time.process_time()
        net.model.fit(data.x_train[:n], data.y_train[:n], epochs=1, batch_size=batch)
        if data.x_val is not None:
            net.model.predict(data.x_val[: data.n_val // 8])
        seconds = time.process_time() - start
    return 8 * seconds


TRAINING_THREAD = "nndesk-training"  # the QThread's name (controller.py)


class ThreadClock:
    """CPU time of every thread of this process (Linux; empty elsewhere)."""

    @staticmethod
    def read() -> dict[int, tuple[float, float, str]]:
        """Thread id -> (seconds it ran, seconds it waited for a CPU, its name)."""
        out = {}
        with contextlib.suppress(OSError):
            for tid in os.listdir("/proc/self/task"):
                with contextlib.suppress(OSError, ValueError):
                    with open(f"/proc/self/task/{tid}/schedstat") as f:
                        ran, waited, _ = f.read().split()
                    with open(f"/proc/self/task/{tid}/comm") as f:
                        name = f.read().strip()
                    out[int(tid)] = (int(ran) / 1e9, int(waited) / 1e9, name)
        return out

    @staticmethod
    def spent(
        before: dict[int, tuple[float, float, str]],
        after: dict[int, tuple[float, float, str]],
    ) -> dict[int, tuple[float, float, str]]:
        """What each thread ran and waited between two readings."""
        return {
            tid: (
                ran - before.get(tid, (0.0, 0.0, name))[0],
                wait - before.get(tid, (0.0, 0.0, name))[1],
                name,
            )
            for tid, (ran, wait, name) in after.items()
        }


def _by_name(spent: dict[int, tuple[float, float, str]], wall: float) -> dict:
    """Share of the wall time each named group of other threads ran (busiest first)."""
    shares: dict[str, float] = {}
    for ran, _, name in spent.values():
        if name != TRAINING_THREAD:
            shares[name] = shares.get(name, 0.0) + ran / wall
    return dict(sorted(shares.items(), key=lambda kv: -kv[1]))


def _thread_schedstat() -> tuple[float, float]:
    """Seconds this thread ran and waited for a CPU (Linux; zeros elsewhere)."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            ran, waited, _ = f.read().split()
    except OSError:
        return 0.0, 0.0
    return int(ran) / 1e9, int(waited) / 1e9


def make_tracing_app():
    """A QApplication that times every event its thread handles."""
    from PySide6.QtCore import QEvent, QTimer
    from PySide6.QtWidgets import QApplication

    from nndesk.ui.panels.plots.base import PlotPanel

    paint = QEvent.Type.Paint
    timer_event = QEvent.Type.Timer

    def panel_of(receiver):
        """The plot panel a widget, or a graphics scene's view, belongs to."""
        try:
            views = getattr(receiver, "views", None)
            item = views()[0] if callable(views) and views() else receiver
            while item is not None and not isinstance(item, PlotPanel):
                item = item.parent() if hasattr(item, "parent") else None
        except RuntimeError:  # deleted while its event ran
            return None
        return item

    class TracingApp(QApplication):
        def __init__(self, args: list[str]) -> None:
            super().__init__(args)
            self.records: list[tuple[float, float, float, str]] = []
            self.cpu_by_kind: dict[str, float] = defaultdict(float)
            self.count_by_kind: dict[str, int] = defaultdict(int)
            self.paint_by_panel: dict[str, float] = defaultdict(float)
            self.stacks: dict[int, list[str]] = {}
            self._depth = 0
            self.tracing = True  # off from the end of a run until the next reset
            self.t0 = time.perf_counter()
            self._event_start = 0.0
            self._event_number = 0
            self._gui_thread = threading.get_ident()
            threading.Thread(target=self._watch, daemon=True).start()

        def reset(self) -> None:
            self.tracing = True
            self.t0 = time.perf_counter()
            self.records.clear()
            self.cpu_by_kind.clear()
            self.count_by_kind.clear()
            self.paint_by_panel.clear()
            self.stacks.clear()

        def _watch(self) -> None:
            """Every 10 ms: has the GUI thread's outermost event run over
            STACK_AFTER? Then keep where its Python code is (once per event)."""
            while True:
                time.sleep(0.01)
                number, start = self._event_number, self._event_start
                if (
                    self._depth > 0
                    and number not in self.stacks
                    and time.perf_counter() - start > STACK_AFTER
                ):
                    frame = sys._current_frames().get(self._gui_thread)
                    if frame is not None:
                        self.stacks[number] = traceback.format_stack(frame)

        def notify(self, receiver, event) -> bool:  # noqa: N802 - Qt override
            self._depth += 1
            start = time.perf_counter()
            if self._depth == 1:
                self._event_number += 1
                self._event_start = start
                self._nested_paints: dict[str, float] = defaultdict(float)
            number = self._event_number
            cpu = time.thread_time()
            ran, waited = _thread_schedstat()
            kind = event.type()
            try:
                return super().notify(receiver, event)
            finally:
                self._depth -= 1
                wall = time.perf_counter() - start
                spent = time.thread_time() - cpu
                if kind == paint:
                    panel = receiver
                    while panel is not None and not isinstance(panel, PlotPanel):
                        panel = panel.parent() if hasattr(panel, "parent") else None
                    if panel is not None:
                        self.paint_by_panel[panel.title] += spent
                        if self._depth > 0:
                            self._nested_paints[panel.title] += spent
                if self._depth == 0 and self.tracing:  # outermost events only
                    label = f"{type(receiver).__name__} {kind.name}"
                    if kind == timer_event and isinstance(receiver, QTimer):
                        owner = receiver.parent()  # whose timer: the panel's, the bar's
                        label += " of " + (
                            type(owner).__name__ if owner else receiver.objectName()
                        )
                    elif hasattr(receiver, "propertyName"):  # whose animation
                        try:
                            target = receiver.targetObject()
                            label += (
                                f" of {type(target).__name__}."
                                f"{bytes(receiver.propertyName()).decode()}"
                            )
                        except RuntimeError:
                            pass
                    self.cpu_by_kind[label] += spent
                    self.count_by_kind[label] += 1
                    when = f"at {start - self.t0:.1f} s: "
                    if wall > TRACE_LONGER_THAN:
                        ran2, waited2 = _thread_schedstat()
                        where = panel_of(receiver)
                        if where is not None:  # a scene's queued work: whose?
                            label += f" ({where.title})"
                        nested = sorted(
                            self._nested_paints.items(), key=lambda kv: -kv[1]
                        )
                        if nested:  # the window painted inside this event
                            label += (
                                "; panels painted inside it (CPU ms): "
                                + ", ".join(
                                    f"{title} {1000 * cpu:.0f}" for title, cpu in nested
                                )
                            )
                        stack = self.stacks.get(number)
                        if stack is not None:
                            label += "\n" + _stack_summary(stack)
                        self.records.append(
                            (wall, ran2 - ran, waited2 - waited, when + label)
                        )

    return TracingApp(["gui_training"])


def _stack_summary(stack: list[str], frames: int = 10) -> str:
    """The innermost ``frames`` frames of a formatted stack, leaving out this
    file's (the event loop's calls into ``notify`` at each level of nesting)."""
    inner = [f for f in stack if "gui_training.py" not in f][-frames:]
    return "".join(
        "        " + line.strip().replace("\n", "\n          ") + "\n" for line in inner
    ).rstrip()


def print_trace(app, seconds: float) -> None:
    """The ten longest events of the last window run, and where its time went."""
    records = sorted(getattr(app, "records", ()), reverse=True)[:10]
    for wall, ran, waited, label in records:
        print(
            f"    {1000 * wall:6.1f} ms (ran {1000 * ran:5.1f}, waited for a CPU "
            f"{1000 * waited:5.1f}) {label}"
        )
    kinds = sorted(app.cpu_by_kind.items(), key=lambda kv: -kv[1])[:14]
    print(
        "    GUI thread CPU by event (ms per second of run; events per second): "
        + ", ".join(
            f"{label} {1000 * cpu / seconds:.1f}; "
            f"{app.count_by_kind[label] / seconds:.0f}"
            for label, cpu in kinds
        )
    )
    paints = sorted(app.paint_by_panel.items(), key=lambda kv: -kv[1])
    print(
        "    paints by panel (ms per second of run): "
        + ", ".join(f"{title} {1000 * cpu / seconds:.1f}" for title, cpu in paints)
    )


class Ticker:
    """Records the gaps between the ticks of a 10 ms QTimer on the GUI thread."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[float] = []
        self._last = 0.0
        self.timer = QTimer()
        self.timer.setObjectName("the benchmark's ticker")
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


def gui_run(app, training, epochs: int, required: tuple[str, ...]) -> dict:
    """One Train press of ``epochs`` epochs in the window; returns samples/s,
    every gap between the GUI thread's ticks and where the CPU time went."""
    from PySide6.QtCore import QEventLoop

    from nndesk.ui.training.docks import PLOT_DOCKS

    panels = {name: getattr(training.view, name) for name in PLOT_DOCKS}
    hidden = [name for name in required if not panels[name].isVisible()]
    if hidden:
        raise RuntimeError(f"panels not visible: {hidden}")
    before = {name: panel.redraw_count for name, panel in panels.items()}
    redraw_cpu = {name: panel.redraw_seconds_total for name, panel in panels.items()}
    paint = {name: panel.paint_seconds_total for name, panel in panels.items()}
    longest: dict[str, float] = {}

    def recorder(name: str, panel) -> Callable[[], None]:
        def on_redrawn() -> None:
            longest[name] = max(longest.get(name, 0.0), panel.last_redraw_seconds)

        return on_redrawn

    recorders = {name: recorder(name, panel) for name, panel in panels.items()}
    for name, panel in panels.items():
        panel.sig_redrawn.connect(recorders[name])
    ticker = Ticker()
    done: list[object] = []
    times: list[float] = []

    def on_epoch(_epoch: int) -> None:
        times.append(float(training.last_epoch_logs["epoch_time"]))

    loop = QEventLoop()
    training.sig_epoch_finished.connect(on_epoch)
    training.sig_run_finished.connect(done.append)
    training.sig_run_finished.connect(loop.quit)
    gui_tid = threading.get_native_id()
    threads = ThreadClock.read()
    ticker.start()
    start = time.perf_counter()
    cpu = time.process_time()
    training.actions.train.trigger()
    loop.exec()  # as the app's own event loop runs: no polling
    app.tracing = False  # the run is over (a TracingApp's records end here)
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - start
    spent = ThreadClock.spent(threads, ThreadClock.read())
    ticker.stop()
    training.sig_epoch_finished.disconnect(on_epoch)
    training.sig_run_finished.disconnect(done.append)
    training.sig_run_finished.disconnect(loop.quit)
    for name, panel in panels.items():
        panel.sig_redrawn.disconnect(recorders[name])
    outcome = done[0]
    if outcome.status != "completed":
        raise RuntimeError(f"the GUI run ended as {outcome.status}: {outcome.message}")
    if len(times) != epochs:
        raise RuntimeError(f"the GUI run reported {len(times)} of {epochs} epochs")
    logs = training.last_epoch_logs
    epoch_time = float(sum(times))
    if training.gan.active:  # real samples of a GAN's epochs
        samples = len(training.session.data) * epochs
    else:
        samples = training.preview.data.n_train * epochs
    gaps = sorted(ticker.gaps)
    gui_ran = spent.pop(gui_tid, (0.0, 0.0, ""))[0]
    # The training thread is the one the controller names "nndesk-training". It
    # may have ended before the reading: then it ran what the process ran beyond
    # the threads still alive, and its wait for a CPU is unknown. BLAS helper
    # threads count apart (they share the training's matrix products).
    training_threads = [
        (r, w) for r, w, name in spent.values() if name == TRAINING_THREAD
    ]
    others = sum(r for r, _, name in spent.values() if name != TRAINING_THREAD)
    if training_threads:
        train_ran, train_waited = training_threads[0]
    else:
        train_ran, train_waited = max(0.0, cpu - gui_ran - others), float("nan")
    # As a user would see it before pressing Train again: the panels show the
    # fresh network (else the next run's start rebuilds them).
    training.reset_weights()
    training.refresh_preview()
    app.processEvents()
    return {
        "samples": samples,
        "epochs": epochs,
        "epoch_time": epoch_time,
        "wall": wall,
        "samples_per_sec": samples / epoch_time,
        "cpu_per_sample": cpu / samples,
        "val_accuracy": float(logs.get("val_accuracy", float("nan"))),
        "gaps_ms": [1000 * g for g in gaps],
        "max_tick_gap_ms": 1000 * gaps[-1],
        "p99_tick_gap_ms": 1000 * percentile(gaps, 0.99),
        "ticks": len(gaps),
        "gui_thread_cpu_share": gui_ran / wall if gui_ran else 0.0,
        "training_thread_cpu_share": train_ran / wall,
        "training_thread_wait_share": train_waited / wall,
        "other_threads_cpu_share": others / wall,
        "other_threads_by_name": _by_name(spent, wall),
        "training_cpu_per_sample": train_ran / samples,
        "redraws": {
            name: panel.redraw_count - before[name]
            for name, panel in panels.items()
            if panel.redraw_count > before[name]
        },
        "redraw_ms_per_s": {
            name: 1000 * (panel.redraw_seconds_total - redraw_cpu[name]) / wall
            for name, panel in panels.items()
            if panel.redraw_count > before[name]
        },
        "paint_ms_per_s": {
            name: 1000 * (panel.paint_seconds_total - paint[name]) / wall
            for name, panel in panels.items()
            if panel.redraw_count > before[name]
        },
        "longest_redraw_ms": {name: 1000 * s for name, s in longest.items()},
    }


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank on the sorted values)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_case(app, case: str, args: argparse.Namespace, dataset) -> dict:
    """Every round of one case; prints them and returns the case's summary."""
    from nndesk.ui.training.blas import gui_friendly_threads, lower_helper_priority
    from nndesk.ui.training.worker import WORKER_NICENESS

    title, build, required = CASES[case]
    doc = build(str(args.data))
    gan = case == "gan"
    run_headless = gan_case.headless_run if gan else headless_run
    epoch_seconds_of = gan_case.epoch_seconds if gan else epoch_seconds
    (gan_case.warm_up if gan else warm_up)(doc, dataset)
    # The window's first run nices OpenBLAS's helper threads for good (they are
    # the process's, headless runs use them too): done here, every round sees the
    # same. On a machine with an idle core a nice value changes nothing.
    lower_helper_priority(os.getpriority(os.PRIO_PROCESS, 0) + WORKER_NICENESS)
    # Epochs per run: enough for args.seconds of the faster headless epoch time.
    window_threads = window_blas_threads(doc, gan) or gui_friendly_threads()
    fastest = min(
        epoch_seconds_of(doc, dataset),
        epoch_seconds_of(doc, dataset, window_threads),
    )
    # A margin: a single epoch's time varies, and the window's runs (on the
    # window's BLAS threads) may go faster than either headless epoch did.
    epochs = max(1, math.ceil(1.5 * args.seconds / fastest))
    doc.set_setting("epochs", epochs)
    # Every run trains all its epochs, so the window's and the headless runs match.
    doc.set_setting("early_stopping_patience", 0)
    print(
        f"[{case}] {title}: an epoch takes about {fastest:.2f} s of CPU headless; "
        f"{epochs} epoch(s) a run; the window trains on {window_threads} BLAS "
        "thread(s)",
        flush=True,
    )
    window, training = make_window(app, doc.copy())
    load_start = os.getloadavg()

    headless, same_blas, gui = [], [], []
    for k in range(args.rounds):
        headless.append(headless_child(case, args.data, epochs))
        same_blas.append(run_headless(doc, dataset, epochs, window_threads))
        print(
            f"[{case}] round {k + 1} headless: "
            f"{headless[-1]['samples_per_sec']:,.0f} samples/s over "
            f"{headless[-1]['epoch_time']:.1f} s; on {window_threads} BLAS thread(s) "
            f"{same_blas[-1]['samples_per_sec']:,.0f} samples/s over "
            f"{same_blas[-1]['epoch_time']:.1f} s; load average "
            f"{os.getloadavg()[0]:.2f}",
            flush=True,
        )
        if args.trace:
            app.reset()
        gui.append(gui_run(app, training, epochs, required))
        g = gui[-1]
        print(
            f"[{case}] round {k + 1} window:   {g['samples_per_sec']:,.0f} samples/s "
            f"over {g['epoch_time']:.1f} s, ratio "
            f"{g['samples_per_sec'] / headless[-1]['samples_per_sec']:.3f} (same BLAS "
            f"{g['samples_per_sec'] / same_blas[-1]['samples_per_sec']:.3f}, CPU "
            f"{same_blas[-1]['cpu_per_sample'] / g['cpu_per_sample']:.3f}), GUI gaps "
            f"p99 {g['p99_tick_gap_ms']:.1f} ms, worst {g['max_tick_gap_ms']:.1f} ms; "
            f"GUI thread busy {100 * g['gui_thread_cpu_share']:.1f}%, training "
            f"thread {100 * g['training_thread_cpu_share']:.0f}% (waited for a CPU "
            f"{100 * g['training_thread_wait_share']:.0f}%), other threads "
            f"{100 * g['other_threads_cpu_share']:.0f}% ("
            + ", ".join(
                f"{name} {100 * share:.0f}%"
                for name, share in list(g["other_threads_by_name"].items())[:3]
            )
            + "), its CPU per sample "
            f"{g['training_cpu_per_sample'] / same_blas[-1]['cpu_per_sample']:.3f} "
            "x headless\n"
            "    redraws (count; CPU ms per s of run; paint ms per s; longest "
            "redraw ms): "
            + ", ".join(
                f"{name} {n}; {g['redraw_ms_per_s'][name]:.1f}; "
                f"{g['paint_ms_per_s'][name]:.1f}; {g['longest_redraw_ms'].get(name, 0.0):.0f}"
                for name, n in g["redraws"].items()
            ),
            flush=True,
        )
        if args.trace:
            print_trace(app, g["wall"])
    window.close()
    window.deleteLater()
    app.processEvents()

    round_ratios = [
        g["samples_per_sec"] / h["samples_per_sec"]
        for h, g in zip(headless, gui, strict=True)
    ]
    same_blas_ratios = [
        g["samples_per_sec"] / h["samples_per_sec"]
        for h, g in zip(same_blas, gui, strict=True)
    ]
    cpu_ratios = [
        h["cpu_per_sample"] / g["cpu_per_sample"]
        for h, g in zip(same_blas, gui, strict=True)
    ]
    median_ratio = float(statistics.median(round_ratios))
    median_same_blas = float(statistics.median(same_blas_ratios))
    median_cpu = float(statistics.median(cpu_ratios))
    best_headless = max(headless, key=lambda r: r["samples_per_sec"])
    best_gui = max(gui, key=lambda r: r["samples_per_sec"])
    best_ratio = best_gui["samples_per_sec"] / best_headless["samples_per_sec"]
    all_gaps = [gap for g in gui for gap in g["gaps_ms"]]
    p99_gap = percentile(all_gaps, 0.99)
    worst_gap = max(all_gaps)
    round_worst = [g["max_tick_gap_ms"] for g in gui]
    gui_busy = [g["gui_thread_cpu_share"] for g in gui]
    targets_met = (
        median_ratio >= TARGET_RATIO
        and p99_gap <= TARGET_P99_GAP_MS
        and worst_gap <= TARGET_WORST_GAP_MS
    )

    def joined(values: list[float], fmt: str = ".3f") -> str:
        return ", ".join(f"{v:{fmt}}" for v in values)

    median_headless = statistics.median(h["samples_per_sec"] for h in headless)
    median_gui = statistics.median(g["samples_per_sec"] for g in gui)
    print(
        f"[{case}] {title}, {epochs} epoch(s) of "
        f"{best_gui['samples'] // epochs:,} samples a run, {args.rounds} round(s)\n"
        f"  headless      median {median_headless:>10,.0f} samples/s\n"
        f"  with panels   median {median_gui:>10,.0f} samples/s\n"
        f"  ratio         median of rounds {median_ratio:.3f} (target >= "
        f"{TARGET_RATIO}); rounds {joined(round_ratios)}; best runs {best_ratio:.3f}\n"
        f"  ratio to headless on {window_threads} BLAS thread(s) (reference) median "
        f"{median_same_blas:.3f}; rounds {joined(same_blas_ratios)}\n"
        f"  CPU ratio (reference) median {median_cpu:.3f}; rounds "
        f"{joined(cpu_ratios)}; GUI thread busy {joined(gui_busy, '.1%')}\n"
        f"  gaps between 10 ms GUI ticks over {len(all_gaps):,} ticks: p99 "
        f"{p99_gap:.1f} ms (target <= {TARGET_P99_GAP_MS:.0f}), worst {worst_gap:.1f} "
        f"ms (target <= {TARGET_WORST_GAP_MS:.0f}); worst per round "
        f"{joined(round_worst, '.1f')}\n"
        f"  targets met: {targets_met}",
        flush=True,
    )
    return {
        "case": case,
        "epochs_per_run": epochs,
        "samples_per_run": best_gui["samples"],
        "rounds": args.rounds,
        "median_round_ratio": round(median_ratio, 4),
        "round_ratios": [round(r, 4) for r in round_ratios],
        "best_runs_ratio": round(best_ratio, 4),
        "p99_tick_gap_ms": round(p99_gap, 2),
        "max_tick_gap_ms": round(worst_gap, 2),
        "round_max_tick_gaps_ms": [round(g, 1) for g in round_worst],
        "headless_runs": [round(r["samples_per_sec"], 1) for r in headless],
        "window_blas_threads": window_threads,
        "median_same_blas_ratio": round(median_same_blas, 4),
        "same_blas_ratios": [round(r, 4) for r in same_blas_ratios],
        "same_blas_headless_runs": [round(r["samples_per_sec"], 1) for r in same_blas],
        "median_cpu_ratio": round(median_cpu, 4),
        "cpu_ratios": [round(r, 4) for r in cpu_ratios],
        "load_average_start_end": [
            round(load_start[0], 2),
            round(os.getloadavg()[0], 2),
        ],
        "gui_runs": [round(r["samples_per_sec"], 1) for r in gui],
        "run_seconds": [round(r["epoch_time"], 2) for r in gui],
        "gui_thread_cpu_share": [round(share, 4) for share in gui_busy],
        "training_thread_cpu_per_sample_vs_headless": [
            round(g["training_cpu_per_sample"] / h["cpu_per_sample"], 4)
            for h, g in zip(same_blas, gui, strict=True)
        ],
        "redraws": best_gui["redraws"],
        "redraw_ms_per_s": {
            name: round(
                statistics.median(g["redraw_ms_per_s"].get(name, 0.0) for g in gui), 2
            )
            for name in best_gui["redraws"]
        },
        "targets_met": targets_met,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--case",
        choices=(*CASES, "both"),
        default="mlp",
        help="the network to train: the seed MLP, the CNN, both, or the ring GAN "
        "(default: mlp)",
    )
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="Fashion-MNIST IDX folder"
    )
    parser.add_argument(
        "--rounds", type=int, default=5, help="headless+GUI pairs to run"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=10.0,
        help="least training time of each run (epochs are added to reach it)",
    )
    parser.add_argument(
        "--trace", action="store_true", help="time the GUI thread's events"
    )
    parser.add_argument(
        "--headless-epochs", type=int, default=0, help=argparse.SUPPRESS
    )  # the child process of one headless run (headless_child)
    args = parser.parse_args(argv)
    if args.headless_epochs:
        return headless_main(args.case, args.data, args.headless_epochs)
    if not args.data.is_dir():
        print(
            f"Fashion-MNIST not found at {args.data}; pass --data DIR.", file=sys.stderr
        )
        return 2

    from PySide6.QtCore import QStandardPaths
    from PySide6.QtWidgets import QApplication

    from nndesk.io.datasets import load_dataset

    app = QApplication.instance() or (
        make_tracing_app() if args.trace else QApplication(["gui_training"])
    )
    QStandardPaths.setTestModeEnabled(True)
    cases = ["mlp", "cnn"] if args.case == "both" else [args.case]
    dataset = None
    results = {}
    for case in cases:
        if case == "gan":
            gan_data = gan_case.load(CASES[case][1](str(args.data)))
            results[case] = run_case(app, case, args, gan_data)
            continue
        if dataset is None:
            seed = int(CASES[case][1](str(args.data)).settings["seed"])
            dataset = load_dataset(str(args.data), seed=seed)
        results[case] = run_case(app, case, args, dataset)
    targets_met = all(r["targets_met"] for r in results.values())
    if len(results) == 1:
        summary = {"benchmark": "gui_training", **results[cases[0]]}
    else:
        summary = {
            "benchmark": "gui_training",
            "cases": results,
            "targets_met": targets_met,
        }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
