"""Render race mode to PNG for the docs: three spiral variants after a race.

Usage::

    .venv/bin/python docs/screenshots_race.py [--output docs/images/race.png]
        [--size 1600x1000] [--epochs 150] [--sizes-output docs/images/race-{size}.png]
        [--sizes 1280x800,1920x1080]

The window opens the spiral example (seed 0), races it against a copy with ten
times the learning rate and one with ReLU hidden layers for ``--epochs`` epochs
(Training > Race…, here started without the dialog), waits for the race to end and
grabs the race window (it opens over the main window). The same happens at each of ``--sizes`` (to check the layout at
small and large screens) when ``--sizes-output`` is given. As for
``docs/screenshots.py``, run it under Xvfb to draw with the real platform.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _shots() -> object:
    spec = importlib.util.spec_from_file_location(
        "screenshots", HERE / "screenshots.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Render the race-mode screenshot.")
    parser.add_argument("--output", type=Path, default=HERE / "images" / "race.png")
    parser.add_argument("--size", default="1600x1000", help="window size WxH")
    parser.add_argument("--epochs", type=int, default=150, help="epochs to race")
    parser.add_argument("--sizes-output", default="", help="{size} becomes WxH")
    parser.add_argument("--sizes", default="1280x800,1920x1080", help="WxH,...")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QStandardPaths
    from PySide6.QtWidgets import QApplication

    from nndesk.ui.icons import app_icon

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setStyle("Fusion")
    app.setWindowIcon(app_icon())
    QStandardPaths.setTestModeEnabled(True)
    shots = _shots()
    jobs = [(args.size, args.output)]
    if args.sizes_output:
        jobs += [
            (size, Path(args.sizes_output.replace("{size}", size)))
            for size in args.sizes.split(",")
        ]
    ok = True
    with tempfile.TemporaryDirectory(prefix="nndesk-shots-") as folder:
        for i, (size, output) in enumerate(jobs):
            ini = Path(folder) / f"race-{i}.ini"
            ok = render_race(app, shots, ini, size, args.epochs, output) and ok
    return 0 if ok else 1


def render_race(
    app: object, shots: object, ini: Path, size: str, epochs: int, output: Path
) -> bool:
    """Race three spiral variants in a window of ``size`` and grab it."""
    from PySide6.QtCore import QEventLoop, QTimer

    from nndesk.document.examples import EXAMPLES
    from nndesk.training.race import Entrant, variant_of
    from nndesk.ui.training.controller import attach_training

    window = shots._window(ini, "light")  # type: ignore[attr-defined]
    window.resize(*shots._size(size))  # type: ignore[attr-defined]
    controller = attach_training(window)
    doc = EXAMPLES["spiral"].build()
    doc.set_setting("seed", 0)
    window.set_document(doc)
    window.show()
    shots._settle(app)  # type: ignore[attr-defined]
    window.wait_for_dataset()
    snap = doc.snapshot()
    lr = float(snap.settings["learning_rate"])
    entrants = [
        Entrant(f"lr {lr:g}", snap),
        Entrant(f"lr {lr * 10:g}", variant_of(snap, "learning_rate", lr * 10)),
        Entrant("relu", variant_of(snap, "activation", "relu")),
    ]
    race = controller.race
    loop = QEventLoop()
    race.sig_finished.connect(loop.quit)
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    timer.start(300_000)
    if not race.start(entrants, epochs):
        window.close()
        return False
    loop.exec()
    finished = timer.isActive()
    timer.stop()
    if not finished:
        sys.stderr.write("screenshots: the race did not finish\n")
        window.close()
        return False
    view = race.view
    while view.busy:  # the panels are built one per turn of the event loop
        shots._settle(app)  # type: ignore[attr-defined]
    for panel in (view.curves, *view.boundaries, *view.histograms, *view.evaluations):
        panel.flush()
    shots._settle(app, 20)  # type: ignore[attr-defined]
    # The race has a window of its own, over the main window.
    ok = shots._save(app, race.dock, output)  # type: ignore[attr-defined]
    window.close()
    return ok


if __name__ == "__main__":
    sys.exit(main())
