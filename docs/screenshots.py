"""Render the main window with an example network to PNG for the docs.

Usage::

    .venv/bin/python docs/screenshots.py [--example residual] [--theme light]
        [--select dense_1] [--output docs/images/editor.png] [--size 1440x900]

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
    parser.add_argument("--example", default="spiral", help="example network name")
    parser.add_argument("--theme", default="light", choices=("light", "dark"))
    parser.add_argument("--select", default="", help="node id to select (inspector)")
    parser.add_argument("--output", type=Path, default=HERE / "images" / "editor.png")
    parser.add_argument("--size", default="1440x900", help="window size WxH")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QStandardPaths
    from PySide6.QtWidgets import QApplication

    from nndesk.document.examples import EXAMPLES
    from nndesk.ui.icons import app_icon
    from nndesk.ui.main_window import MainWindow
    from nndesk.ui.settings import AppSettings
    from nndesk.ui.theme import ThemeManager

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setStyle("Fusion")
    app.setWindowIcon(app_icon())
    QStandardPaths.setTestModeEnabled(True)
    width, height = (int(v) for v in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory(prefix="nndesk-shots-") as folder:
        themes = ThemeManager(args.theme)
        themes.apply()
        window = MainWindow(AppSettings.at_path(Path(folder) / "s.ini"), themes)
        window.set_document(EXAMPLES[args.example].build())
        window.resize(width, height)
        window.show()
        for _ in range(5):
            app.processEvents()
        window.editor.view.fit_to_view()
        if args.select:
            window.editor.focus_node(args.select)
        window.editor.scene.flush()
        for _ in range(5):
            app.processEvents()
        args.output.parent.mkdir(parents=True, exist_ok=True)
        image = window.grab()
        if not image.save(str(args.output)):
            sys.stderr.write(f"screenshots: cannot write {args.output}\n")
            return 1
        sys.stdout.write(
            f"wrote {args.output} ({image.width()}x{image.height()} px, "
            f"platform {app.platformName()})\n"
        )
        window.undo_stack.setClean()
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
