"""Render gradient flow on the canvas to PNG: the window, and the canvas alone.

Usage::

    .venv/bin/python docs/gradient_flow_shots.py [--sizes 1280x800,1920x1080]
        [--output docs/images/gradient-flow-{size}.png]
        [--canvas-output docs/images/gradient-flow-canvas.png] [--epochs 20]

A 2-16-16-16-16-16-1 spiral classifier whose first hidden layer is ReLU and the
others sigmoid, trained with plain SGD: the first layers' gradients vanish and are
named in the Problems dock, and the ReLU layer shows its dead units. As
docs/screenshots.py, it draws with the real platform when there is a display (or
Xvfb) and offscreen otherwise; settings go to a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from screenshots import _save, _settle, _size, _window  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Render gradient-flow screenshots.")
    parser.add_argument("--sizes", default="1280x800,1920x1080", help="WxH,...")
    parser.add_argument(
        "--output",
        default=str(HERE / "images" / "gradient-flow-{size}.png"),
        help="window shots; {size} becomes WxH",
    )
    parser.add_argument(
        "--canvas-output",
        type=Path,
        default=HERE / "images" / "gradient-flow-canvas.png",
        help="the canvas of the last size alone (the README's picture)",
    )
    parser.add_argument("--epochs", type=int, default=20)
    return parser.parse_args(argv)


def vanishing_spiral(epochs: int) -> object:
    """The spiral with a deep sigmoid stack trained by SGD (see the module)."""
    from nndesk.document import Document

    doc = Document(
        {
            "dataset": "spiral:n=400,noise=0.1",
            "optimizer": "sgd",
            "learning_rate": 0.5,
            "batch_size": 16,
            "epochs": epochs,
            "metrics": ("accuracy",),
            "validation_split": 0.2,
            "seed": 1,
        }
    )
    layers = [
        ("Input", {"shape": (2,)}),
        ("Dense", {"units": 16, "activation": "relu"}),
    ]
    layers += [("Dense", {"units": 16, "activation": "sigmoid"}) for _ in range(4)]
    layers += [
        ("Dense", {"units": 1, "activation": "sigmoid"}),
        ("Output", {"loss": "binary_crossentropy"}),
    ]
    prev = None
    for i, (type_name, params) in enumerate(layers):
        row, col = divmod(i, 4)
        x = 210.0 * (col if row % 2 == 0 else 3 - col)
        node = doc.add_node(type_name, params, pos=(x, 190.0 * row))
        if prev is not None:
            doc.connect(prev, "out", node, "in")
        prev = node
    return doc


def _train(app: object, window: object, controller: object) -> bool:
    from PySide6.QtCore import QEventLoop, QTimer

    window.wait_for_dataset()  # type: ignore[attr-defined]
    loop = QEventLoop()
    controller.sig_run_finished.connect(loop.quit)  # type: ignore[attr-defined]
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    timer.start(300_000)
    controller.train()  # type: ignore[attr-defined]
    loop.exec()
    finished = timer.isActive()
    timer.stop()
    pause = QTimer()
    pause.setSingleShot(True)
    pause.timeout.connect(loop.quit)
    pause.start(500)  # the last signals land
    loop.exec()
    return finished and not controller.last_error  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QStandardPaths
    from PySide6.QtWidgets import QApplication

    from nndesk.ui.training.controller import attach_training

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setStyle("Fusion")
    QStandardPaths.setTestModeEnabled(True)
    ok = True
    with tempfile.TemporaryDirectory(prefix="nndesk-shots-") as folder:
        for k, size in enumerate(args.sizes.split(",")):
            window = _window(Path(folder) / f"flow{k}.ini", "light")
            window.resize(*_size(size))
            controller = attach_training(window)
            window.set_document(vanishing_spiral(args.epochs))
            window.show()
            _settle(app)
            if not _train(app, window, controller):
                sys.stderr.write("gradient_flow_shots: the run did not finish\n")
                window.close()
                return 1
            network = window.docks.get("network_dock")
            if network is not None:
                network.raise_()
            window.editor.view.fit_to_view()
            window.editor.scene.flush()
            _settle(app)
            ok = _save(app, window, Path(args.output.replace("{size}", size))) and ok
            if k == len(args.sizes.split(",")) - 1:
                view = window.editor.view
                ok = _save(app, view, args.canvas_output) and ok
            window.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
