"""Render the main window to PNG for the docs: the editor, and a trained spiral.

Usage::

    .venv/bin/python docs/screenshots.py [--example residual] [--theme light]
        [--select dense_1] [--output docs/images/editor.png] [--size 1440x900]
        [--training-output docs/images/training.png] [--epochs 300] [--seed 0]
        [--data-output docs/images/data-{size}.png] [--data-sizes 1280x800,1920x1080]
        [--only editor|training|data]

The training shot attaches the training panels as the app does, trains the spiral
example for ``--epochs`` epochs with the network seed ``--seed`` (so the picture
comes out the same each time), waits for the run to end and grabs the window.
The data shots show the Data panel at each of ``--data-sizes``: the spiral with a
test split, and Fashion-MNIST's image strip when its files are found (by the bare
name ``fashion-mnist``, see docs/datasets.md).

With a display (or under Xvfb: ``Xvfb :99 -screen 0 1600x1000x24 &`` then
``DISPLAY=:99 QT_QPA_PLATFORM=xcb``) the real platform draws the window; without one
the offscreen platform is used. Settings go to a temporary folder, so the user's
window layout is neither used nor changed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Render nndesk screenshots.")
    parser.add_argument(
        "--example", default="residual", help="example network name (editor)"
    )
    parser.add_argument("--theme", default="light", choices=("light", "dark"))
    parser.add_argument(
        "--select", default="dense_2", help="node id to select (inspector); '' none"
    )
    parser.add_argument("--output", type=Path, default=HERE / "images" / "editor.png")
    parser.add_argument("--size", default="1440x900", help="window size WxH")
    parser.add_argument(
        "--training-output", type=Path, default=HERE / "images" / "training.png"
    )
    parser.add_argument("--training-size", default="1600x1000", help="WxH")
    parser.add_argument("--epochs", type=int, default=300, help="epochs to train")
    parser.add_argument("--seed", type=int, default=0, help="the network's seed")
    parser.add_argument(
        "--data-output",
        default=str(HERE / "images" / "data-{size}.png"),
        help="data panel shots; {size} becomes WxH",
    )
    parser.add_argument("--data-sizes", default="1280x800,1920x1080", help="WxH,...")
    parser.add_argument(
        "--only", choices=("editor", "training", "data"), default=None
    )
    return parser.parse_args(argv)


def _size(text: str) -> tuple[int, int]:
    width, height = (int(v) for v in text.lower().split("x"))
    return width, height


def _settle(app: object, rounds: int = 5) -> None:
    for _ in range(rounds):
        app.processEvents()  # type: ignore[attr-defined]


def _save(app: object, window: object, output: Path) -> bool:
    output.parent.mkdir(parents=True, exist_ok=True)
    image = window.grab()  # type: ignore[attr-defined]
    if not image.save(str(output)):
        sys.stderr.write(f"screenshots: cannot write {output}\n")
        return False
    sys.stdout.write(
        f"wrote {output} ({image.width()}x{image.height()} px, "
        f"platform {app.platformName()})\n"  # type: ignore[attr-defined]
    )
    return True


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QStandardPaths
    from PySide6.QtWidgets import QApplication

    from nndesk.ui.icons import app_icon

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setStyle("Fusion")
    app.setWindowIcon(app_icon())
    QStandardPaths.setTestModeEnabled(True)
    ok = True
    with tempfile.TemporaryDirectory(prefix="nndesk-shots-") as folder:
        if args.only in (None, "editor"):
            ok = render_editor(app, Path(folder) / "editor.ini", args) and ok
        if args.only in (None, "training"):
            ok = render_training(app, Path(folder) / "training.ini", args) and ok
        if args.only in (None, "data"):
            ok = render_data(app, Path(folder) / "data.ini", args) and ok
    return 0 if ok else 1


def _window(settings_path: Path, theme: str) -> object:
    from nndesk.ui.main_window import MainWindow
    from nndesk.ui.settings import AppSettings
    from nndesk.ui.theme import ThemeManager

    themes = ThemeManager(theme)
    themes.apply()
    window = MainWindow(AppSettings.at_path(settings_path), themes)
    window.ask_unsaved = lambda name: "discard"
    return window


def render_editor(app: object, settings_path: Path, args: argparse.Namespace) -> bool:
    """The editor with ``args.example``, ``args.select`` selected."""
    from nndesk.document.examples import EXAMPLES

    window = _window(settings_path, args.theme)
    window.set_document(EXAMPLES[args.example].build())
    window.resize(*_size(args.size))
    window.show()
    _settle(app)
    window.editor.view.show_network()  # as a network opens
    if args.select:
        window.editor.focus_node(args.select)
    window.editor.scene.flush()
    _settle(app)
    ok = _save(app, window, args.output)
    window.close()
    return ok


def render_training(app: object, settings_path: Path, args: argparse.Namespace) -> bool:
    """The spiral example after ``args.epochs`` epochs, with the training panels."""
    from PySide6.QtCore import QEventLoop, QTimer

    from nndesk.document.examples import EXAMPLES
    from nndesk.ui.training.controller import attach_training

    window = _window(settings_path, args.theme)
    window.resize(*_size(args.training_size))
    controller = attach_training(window)  # before the document, as run_app does
    doc = EXAMPLES["spiral"].build()
    doc.set_setting("seed", args.seed)
    doc.set_setting("epochs", args.epochs)
    window.set_document(doc)
    window.show()
    _settle(app)
    window.wait_for_dataset()
    loop = QEventLoop()
    controller.sig_run_finished.connect(loop.quit)
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    timer.start(300_000)
    controller.train()
    loop.exec()
    finished = timer.isActive()
    timer.stop()
    if not finished or controller.last_error:
        sys.stderr.write(
            "screenshots: the training run did not finish"
            f"{': ' + controller.last_error if controller.last_error else ''}\n"
        )
        window.close()
        return False
    # Let the last probes and the curves' throttled redraw land.
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)
    deadline.start(500)
    loop.exec()
    controller.curves.flush()  # its redraw is throttled: draw the last epochs now
    window.editor.view.show_network()  # as a network opens
    window.editor.scene.flush()
    _settle(app)
    ok = _save(app, window, args.training_output)
    window.close()
    return ok


def render_data(app: object, settings_path: Path, args: argparse.Namespace) -> bool:
    """The Data panel in front, at each size: the spiral with a test split, then
    Fashion-MNIST's image strip (when its files are found)."""
    from nndesk.document.examples import EXAMPLES
    from nndesk.ui.training.controller import attach_training

    ok = True
    for size in args.data_sizes.split(","):
        window = _window(settings_path, args.theme)
        window.resize(*_size(size))
        attach_training(window)
        doc = EXAMPLES["spiral"].build()
        doc.set_setting("test_split", 0.2)
        window.set_document(doc)
        window.show()
        dock = window.docks["data_dock"]
        dock.show()
        dock.raise_()
        _settle(app)
        window.editor.view.fit_to_view()
        window.editor.scene.flush()
        _settle(app)
        output = Path(args.data_output.replace("{size}", size))
        ok = _save(app, window, output) and ok
        window.set_document(EXAMPLES["fashion_mnist"].build())
        dataset = window.wait_for_dataset()
        if dataset is not None:
            _settle(app)
            images = output.with_name(output.stem + "-images" + output.suffix)
            ok = _save(app, window, images) and ok
        window.close()
    return ok


if __name__ == "__main__":
    sys.exit(main())
