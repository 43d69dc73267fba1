"""File > Export (ONNX, PyTorch project): the window's side of ``nndesk.io.export``.

The window hands over what Save would write (``MainWindow.current_project``); the
network is compiled with those weights and written by the exporters, which write
atomically and refuse in one sentence. A GAN is written as its two networks
(``nndesk.io.export.gan_export``: two ONNX files named after the one chosen, or
one PyTorch project). The file dialogs live here so the main window stays wiring
only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtWidgets import QFileDialog, QStatusBar, QWidget

from nndesk.document.gan import is_gan
from nndesk.engine.errors import NNDeskError
from nndesk.io.export import export_gan, export_onnx, export_pytorch
from nndesk.io.project_file import Project
from nndesk.training.gan import GanSession
from nndesk.training.session import TrainingSession

log = logging.getLogger(__name__)

ONNX_FILTER = "ONNX models (*.onnx);;All files (*)"

__all__ = ["ONNX_FILTER", "ExportHost", "export_network"]


class ExportHost(Protocol):
    """What exporting asks of the window."""

    def current_project(self) -> Project:
        """What Save would write now (the trained state the window shows)."""
        ...

    def export_base_dir(self) -> Path | None:
        """The folder relative dataset paths are relative to."""
        ...

    def export_stem(self) -> str:
        """The name to suggest, without suffix."""
        ...

    def show_error(self, message: str) -> None: ...

    def statusBar(self) -> QStatusBar: ...  # noqa: N802 (Qt's name)


def _ask_path(parent: QWidget, title: str, start: str, kind: str) -> Path | None:
    # A PyTorch project is a new folder: asked for by name, like a file.
    filters = ONNX_FILTER if kind == "onnx" else "Folders (*)"
    chosen, _ = QFileDialog.getSaveFileName(parent, title, start, filters)
    return Path(chosen) if chosen else None


def _with_onnx_suffix(path: Path) -> Path:
    return path if path.suffix else path.with_suffix(".onnx")


def export_network(
    window: ExportHost,
    fmt: str,
    path: str | Path | None = None,
    ask: Callable[[QWidget, str, str, str], Path | None] | None = None,
) -> bool:
    """Export the window's network as ``fmt`` (``"onnx"`` or ``"pytorch"``).

    Asks for the path when it is None. Errors (a network that does not compile,
    a layer without an ONNX form, a folder that is missing) are shown as one
    sentence; nothing is written then.

    Returns
    -------
    bool
        Whether the file was written.
    """
    base = window.export_base_dir()
    onnx = fmt == "onnx"
    if path is None:
        name = f"{window.export_stem()}{'.onnx' if onnx else '-pytorch'}"
        title = "Export as ONNX" if onnx else "Export as PyTorch project"
        chosen = (ask or _ask_path)(
            window, title, str((base or Path.home()) / name), fmt
        )  # type: ignore[arg-type]
        if chosen is None:
            return False
        path = chosen
    target = _with_onnx_suffix(Path(path)) if onnx else Path(path)
    written = [target]
    session: Any
    try:
        project = window.current_project()
        if is_gan(project.document):  # the generator and the discriminator
            session = GanSession.from_project(project, base_dir=base)
            written = export_gan(
                session.gan,
                fmt,
                target,
                save_network=session.save,
                title=f"{window.export_stem()}.nndesk",
            )
        elif onnx:
            session = TrainingSession.from_project(project, base_dir=base)
            export_onnx(
                session.model,
                target,
                preprocessing=session.preprocessing,
                document=session.snapshot,
            )
        else:
            session = TrainingSession.from_project(project, base_dir=base)
            export_pytorch(
                session.model,
                session.snapshot,
                target,
                save_network=session.save,
                title=f"{window.export_stem()}.nndesk",
            )
    except NNDeskError as exc:
        window.show_error(str(exc))
        return False
    what = "ONNX" if onnx else "a PyTorch project"
    note = "" if session.trained else " (untrained: the initial weights)"
    names = " and ".join(p.name for p in written)
    window.statusBar().showMessage(f"Exported {names} as {what}{note}.", 8000)
    log.info("Exported %s", names)
    return True
