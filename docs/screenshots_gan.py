"""Render the window training a GAN to PNG: the ring example's picture and curves.

Usage::

    .venv/bin/python docs/screenshots_gan.py [--output docs/images/gan-ring.png]
        [--sizes 1280x800,1920x1080] [--example gan_ring] [--epochs 10]

The window opens the example (``gan_ring``: "GAN on a ring of 8 Gaussians"),
trains it for ``--epochs`` epochs with its own seed, waits for the run to end,
brings the GAN Picture (GAN Samples for images) and GAN Curves panels forward and grabs the window at each
of ``--sizes`` (``--output``'s name gets ``-<size>``). As for
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
    parser = argparse.ArgumentParser(description="Render the GAN window screenshot.")
    parser.add_argument("--output", type=Path, default=HERE / "images" / "gan-ring.png")
    parser.add_argument("--sizes", default="1280x800,1920x1080", help="WxH,...")
    parser.add_argument("--example", default="gan_ring")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--theme", default="light", choices=("light", "dark"))
    return parser.parse_args(argv)


def render(app: object, shots: object, size: str, folder: Path, args) -> Path | None:
    from nndesk.document.examples import EXAMPLES
    from nndesk.ui.training.controller import attach_training

    window = shots._window(folder / f"gan-{size}.ini", args.theme)  # type: ignore[attr-defined]
    window.resize(*shots._size(size))  # type: ignore[attr-defined]
    controller = attach_training(window)
    doc = EXAMPLES[args.example].build()
    doc.set_setting("epochs", args.epochs)
    window.set_document(doc)
    window.show()
    shots._settle(app)  # type: ignore[attr-defined]
    window.wait_for_dataset()
    if not shots._train(app, controller):  # type: ignore[attr-defined]
        sys.stderr.write("screenshots: the GAN run did not finish\n")
        return None
    view = controller.view  # type: ignore[attr-defined]
    picture = view.gan_samples.picture
    shown = "gan_samples" if picture is not None and picture.image is not None else None
    for key in (shown or "gan_picture", "gan_curves"):
        view.docks[key].raise_()
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
    with tempfile.TemporaryDirectory(prefix="nndesk-gan-shots-") as folder:
        for size in args.sizes.split(","):
            if render(app, shots, size, Path(folder), args) is None:
                return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
