"""Render the main window to PNG for the docs: the editor, and a trained spiral.

Usage::

    .venv/bin/python docs/screenshots.py [--example residual] [--theme light]
        [--select dense_1] [--output docs/images/editor.png] [--size 1440x900]
        [--training-output docs/images/training.png] [--epochs 300] [--seed 0]
        [--data-output docs/images/data-{size}.png] [--data-sizes 1280x800,1920x1080]
        [--gan-file TRAINED.nndesk] [--gan-output docs/images/gan-samples.png]
        [--only editor|training|data|gan]

The training shot attaches the training panels as the app does, trains the spiral
example for ``--epochs`` epochs with the network seed ``--seed`` (so the picture
comes out the same each time), waits for the run to end and grabs the window.
The data shots show the Data panel at each of ``--data-sizes``: the spiral with a
test split, and Fashion-MNIST's image strip when its files are found (by the bare
name ``fashion-mnist``, see docs/datasets.md).

The GAN shot opens a trained "GAN on Fashion-MNIST" file (``--gan-file``; made
with ``nndesk train`` from the example, see docs/gan.md) and grabs its GAN Samples
panel: the grid of samples from fixed noise and the interpolation strip.

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
        "--gan-file", type=Path, default=None, help="a trained GAN .nndesk file"
    )
    parser.add_argument(
        "--gan-output", type=Path, default=HERE / "images" / "gan-samples.png"
    )
    parser.add_argument(
        "--planes-output",
        default=str(HERE / "images" / "planes-{case}-{size}.png"),
        help="decision boundary on planes; {case} is features or images",
    )
    parser.add_argument("--planes-sizes", default="1280x800,1920x1080", help="WxH,...")
    parser.add_argument(
        "--only", choices=("editor", "training", "data", "planes", "gan"), default=None
    )
    return parser.parse_args(argv)


def _size(text: str) -> tuple[int, int]:
    width, height = (int(v) for v in text.lower().split("x"))
    return width, height


def _settle(app: object, rounds: int = 5) -> None:
    for _ in range(rounds):
        app.processEvents()  # type: ignore[attr-defined]


def _spin(ms: int) -> None:
    """Run the event loop for ``ms`` milliseconds (timers fire, as for a user)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def _previewed(controller: object, timeout_s: float = 30.0) -> None:
    """Wait until the untrained network's preview is drawn (the boundary and
    network panels; the preview waits for the compiled kernels to load), then
    past the docks' one-second size settling (``ui.hint_gate``)."""
    import time

    deadline = time.monotonic() + timeout_s
    panels = (controller.boundary, controller.network)  # type: ignore[attr-defined]
    while time.monotonic() < deadline and not all(p.redraw_count for p in panels):
        _spin(100)
    _spin(1200)


def _flush_window(app: object, window: object) -> None:
    """Draw what every panel holds now (their redraws wait on throttled timers)
    and show the whole network on the canvas, then let the paints land."""
    from nndesk.ui.panels.plots.base import PlotPanel

    for panel in window.findChildren(PlotPanel):  # type: ignore[attr-defined]
        panel.flush()
    window.editor.view.show_network()  # type: ignore[attr-defined]
    window.editor.scene.flush()  # type: ignore[attr-defined]
    _settle(app)


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
        if args.only in (None, "planes"):
            ok = render_planes(app, Path(folder), args) and ok
        if args.only == "gan" or (args.only is None and args.gan_file is not None):
            ok = render_gan(app, Path(folder) / "gan.ini", args) and ok
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
        controller = attach_training(window)
        doc = EXAMPLES["spiral"].build()
        doc.set_setting("test_split", 0.2)
        window.set_document(doc)
        window.show()
        dock = window.docks["data_dock"]
        dock.show()
        dock.raise_()
        _settle(app)
        window.editor.scene.flush()
        _previewed(controller)
        output = Path(args.data_output.replace("{size}", size))
        ok = _save(app, window, output) and ok
        window.set_document(EXAMPLES["fashion_mnist"].build())
        dataset = window.wait_for_dataset()
        if dataset is not None:
            _settle(app)
            _spin(4000)  # the new network's preview on 60,000 images
            images = output.with_name(output.stem + "-images" + output.suffix)
            ok = _save(app, window, images) and ok
        window.close()
    return ok


def _train(app: object, controller: object, timeout_ms: int = 300_000) -> bool:
    """Train the window's document to its last epoch; False if it did not finish."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    controller.sig_run_finished.connect(loop.quit)  # type: ignore[attr-defined]
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    timer.start(timeout_ms)
    controller.train()  # type: ignore[attr-defined]
    loop.exec()
    finished = timer.isActive() and not controller.last_error  # type: ignore[attr-defined]
    timer.stop()
    settle = QTimer()
    settle.setSingleShot(True)
    settle.timeout.connect(loop.quit)
    settle.start(500)  # the last probe's redraws
    loop.exec()
    return finished


def _six_features(folder: Path) -> Path:
    """A CSV of three classes in six features (two of them noise), for the shot."""
    import numpy as np

    rng = np.random.default_rng(4)
    centres = rng.normal(scale=2.0, size=(3, 4))
    label = np.repeat(np.arange(3), 150)
    signal = centres[label] + rng.normal(size=(450, 4))
    x = np.column_stack([signal, rng.normal(size=(450, 2))])
    names = ["length", "width", "depth", "weight", "noise_a", "noise_b"]
    path = folder / "six_features.csv"
    with path.open("w") as f:
        f.write(",".join([*names, "kind"]) + "\n")
        for row, k in zip(x, label, strict=True):
            f.write(",".join(f"{v:.4f}" for v in row) + f",{'abc'[k]}\n")
    return path


def render_planes(app: object, folder: Path, args: argparse.Namespace) -> bool:
    """The decision boundary of networks with more than two inputs, at each size:
    a six-feature table on two of its features (the others held, with their
    sliders), and the Fashion-MNIST MLP on the plane through three images with the
    weight distributions over its epochs (when the Fashion-MNIST files are found)."""
    from nndesk.document.examples import _chain, fashion_mnist_mlp
    from nndesk.document.graph import Document
    from nndesk.ui.training.controller import attach_training

    csv_path = _six_features(folder)
    data = HERE.parent.parent / "shared" / "data" / "fashion-mnist"
    ok = True
    for size in args.planes_sizes.split(","):
        for case in ("features", "images"):
            if case == "images" and not data.is_dir():
                continue
            window = _window(folder / f"planes-{case}-{size}.ini", args.theme)
            window.resize(*_size(size))
            controller = attach_training(window)
            if case == "features":
                doc = Document({"dataset": str(csv_path), "epochs": 60, "seed": 1,
                                "batch_size": 32, "scaling": "standard",
                                "validation_split": 0.2})  # fmt: skip
                _chain(doc, [
                    ("Input", {"shape": (6,)}),
                    ("Dense", {"units": 8, "activation": "tanh"}),
                    ("Dense", {"units": 3, "activation": "softmax"}),
                    ("Output", {"loss": "sparse_categorical_crossentropy"}),
                ])  # fmt: skip
            else:
                doc = fashion_mnist_mlp(str(data))
                doc.set_setting("epochs", 4)
            window.set_document(doc)
            window.show()
            _settle(app)
            window.wait_for_dataset()
            if not _train(app, controller):
                sys.stderr.write(f"screenshots: the {case} run did not finish\n")
                window.close()
                ok = False
                continue
            boundary = controller.boundary  # type: ignore[attr-defined]
            chooser = boundary.chooser
            if case == "features":
                chooser.x_box.setCurrentIndex(0)
                chooser.y_box.setCurrentIndex(2)
            else:
                chooser.mode_box.setCurrentIndex(chooser.mode_box.findData("points"))
            controller.docks["histograms"].raise_()  # type: ignore[attr-defined]
            chooser._update_plane()
            controller.docks["boundary"].raise_()  # type: ignore[attr-defined]
            _settle(app, 20)
            boundary.flush()
            controller.histograms.flush()  # type: ignore[attr-defined]
            controller.curves.flush()  # type: ignore[attr-defined]
            window.editor.view.show_network()
            window.editor.scene.flush()
            _settle(app)
            output = Path(
                args.planes_output.replace("{case}", case).replace("{size}", size)
            )
            ok = _save(app, window, output) and ok
            window.close()
    return ok


def render_gan(app: object, settings_path: Path, args: argparse.Namespace) -> bool:
    """The GAN Samples panel of a trained GAN file (``args.gan_file``)."""
    from nndesk.ui.training.controller import attach_training

    if args.gan_file is None or not Path(args.gan_file).is_file():
        sys.stderr.write("screenshots: --gan-file names no trained GAN file\n")
        return False
    window = _window(settings_path, args.theme)
    window.resize(1440, 900)
    controller = attach_training(window)
    window.show()
    if not window.open_file(args.gan_file):
        sys.stderr.write(f"screenshots: cannot open {args.gan_file}\n")
        window.close()
        return False
    window.wait_for_dataset()
    controller.refresh_preview()  # the picture of the trained generator
    picture = controller.view.gan_samples.picture
    window.close()
    if picture is None or picture.image is None:
        sys.stderr.write(f"screenshots: {args.gan_file} makes no images\n")
        return False
    # The panel on its own, at a size that shows the samples large (in the
    # window it shares a dock).
    from nndesk.ui.panels.plots.gan_samples import GanSamplesPanel

    panel = GanSamplesPanel()
    panel.resize(560, 680)
    panel.set_picture(picture)
    panel.show()
    _settle(app)
    panel.flush()
    _settle(app)
    ok = _save(app, panel, args.gan_output)
    panel.close()
    return ok


if __name__ == "__main__":
    sys.exit(main())
