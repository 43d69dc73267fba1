"""Render the training timeline to PNG for the docs: a spiral run, a fork, scrubbing.

Usage::

    .venv/bin/python docs/screenshots_timeline.py [--output docs/images/timeline.png]
        [--sizes 1280x800,1920x1080] [--epochs 60] [--fork-at 20]

The window opens the spiral example (seed 0), trains ``--epochs`` epochs, forks
from the checkpoint at epoch ``--fork-at`` with ten times the learning rate
(Fork from Here), trains the fork to the same epoch, then drags the timeline back
to the checkpoint at epoch 8 of the fork's lineage, so every panel shows the network
as it was then, and grabs the window at each of ``--sizes``
(``--output``'s name gets ``-<size>``; the last size is also written to
``--output``, the README's picture). As for ``docs/screenshots.py``, run it under Xvfb to draw with the
real platform.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
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
    parser = argparse.ArgumentParser(description="Render the timeline screenshot.")
    parser.add_argument("--output", type=Path, default=HERE / "images" / "timeline.png")
    parser.add_argument("--sizes", default="1280x800,1920x1080", help="WxH,...")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--fork-at", type=int, default=20)
    parser.add_argument("--show-epoch", type=int, default=8)
    parser.add_argument("--theme", default="light", choices=("light", "dark"))
    return parser.parse_args(argv)


def _wait(app: object, until: object, timeout_s: float = 60.0) -> bool:
    import time

    deadline = time.monotonic() + timeout_s
    while not until():  # type: ignore[operator]
        if time.monotonic() > deadline:
            return False
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.01)
    return True


def render(app: object, shots: object, size: str, folder: Path, args) -> Path | None:
    from nndesk.document.examples import EXAMPLES
    from nndesk.ui.training.controller import attach_training

    window = shots._window(folder / f"timeline-{size}.ini", args.theme)  # type: ignore[attr-defined]
    window.resize(*shots._size(size))  # type: ignore[attr-defined]
    controller = attach_training(window)
    doc = EXAMPLES["spiral"].build()
    doc.set_setting("seed", 0)
    doc.set_setting("epochs", args.epochs)
    window.set_document(doc)
    window.show()
    shots._settle(app)  # type: ignore[attr-defined]
    window.wait_for_dataset()
    if not shots._train(app, controller):  # type: ignore[attr-defined]
        sys.stderr.write("screenshots: the first run did not finish\n")
        return None
    part = controller.timeline
    part.refresh()
    points = part.bar.checkpoints
    fork_at = next(
        i for i, c in enumerate(points) if c.epoch == args.fork_at and c.batch == 0
    )
    shown = []
    part.sig_shown.connect(shown.append)
    part.bar.slider.setValue(fork_at)
    _wait(app, lambda: shown)
    rate = float(window.document.settings["learning_rate"])
    window.edit_setting("learning_rate", rate * 10)
    window.edit_setting("epochs", args.epochs - args.fork_at)
    part.fork()
    if not shots._train(app, controller):  # type: ignore[attr-defined]
        sys.stderr.write("screenshots: the fork did not finish\n")
        return None
    part.refresh()
    points = part.bar.checkpoints
    back = next(
        i for i, c in enumerate(points) if c.epoch == args.show_epoch and c.batch == 0
    )
    shown.clear()
    part.bar.slider.setValue(back)
    _wait(app, lambda: shown)
    shots._settle(app)  # type: ignore[attr-defined]
    shots._flush_window(app, window)  # type: ignore[attr-defined]
    output = args.output.with_name(f"{args.output.stem}-{size}{args.output.suffix}")
    ok = shots._save(app, window, output)  # type: ignore[attr-defined]
    window.close()
    return output if ok else None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QStandardPaths
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setStyle("Fusion")
    QStandardPaths.setTestModeEnabled(True)
    shots = _shots()
    written = []
    with tempfile.TemporaryDirectory(prefix="nndesk-timeline-") as folder:
        for size in args.sizes.split(","):
            out = render(app, shots, size, Path(folder), args)
            if out is None:
                return 1
            written.append(out)
    shutil.copyfile(written[-1], args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
