"""Export of plots to PNG (pyqtgraph's exporter), SVG (Qt's QSvgGenerator) and CSV.

pyqtgraph's own SVG exporter is broken in 0.14 (it writes malformed paths for
items with transforms), so SVG goes through Qt: the scene is rendered with a
QPainter onto a ``QSvgGenerator``, which keeps curves as vector paths.
"""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem

from nndesk.engine.errors import NNDeskError

log = logging.getLogger(__name__)

__all__ = ["ExportError", "export_png", "export_svg", "write_columns_csv"]


class ExportError(NNDeskError, OSError):
    """A plot or its data that could not be written; the message names the file."""


def _check_folder(path: Path) -> None:
    if not path.parent.is_dir():
        raise ExportError(
            f"Cannot export to '{path}': the folder '{path.parent}' does not exist."
        )


def export_png(item: QGraphicsItem, path: str | Path, width: int | None = None) -> Path:
    """Render ``item`` (a plot or a whole layout) to a PNG file.

    Parameters
    ----------
    item : QGraphicsItem
        Usually a ``GraphicsLayoutWidget``'s central item (``widget.ci``).
    path : str or Path
        The file to write.
    width : int, optional
        Width in pixels; default: the item's size on screen (at least 400).

    Raises
    ------
    ExportError
        When the file cannot be written.
    """
    path = Path(path)
    _check_folder(path)
    exporter = ImageExporter(item)
    current = int(exporter.parameters()["width"])
    exporter.parameters()["width"] = int(width or max(current, 400))
    image = exporter.export(toBytes=True)
    if image is None or image.isNull() or not image.save(str(path), "PNG"):
        raise ExportError(f"Cannot write the PNG file '{path}'.")
    return path


def export_svg(
    item: QGraphicsItem, path: str | Path, title: str = "nndesk plot"
) -> Path:
    """Render ``item`` and everything it contains to an SVG file, as vectors.

    Raises
    ------
    ExportError
        When the item is not in a scene or the file cannot be written.
    """
    path = Path(path)
    _check_folder(path)
    scene = item.scene()
    if scene is None:
        raise ExportError(f"Cannot export '{path.name}': the plot is not shown.")
    source = item.sceneBoundingRect()
    if source.width() < 1 or source.height() < 1:
        source = QRectF(0, 0, 400, 300)
    size = QSize(math.ceil(source.width()), math.ceil(source.height()))
    generator = QSvgGenerator()
    # The generator's default 72 dpi makes Qt scale fonts and cosmetic geometry
    # differently from the screen the plot was laid out for, which shifts the view
    # boxes against their axes; use the view's resolution.
    views = scene.views()
    generator.setResolution(views[0].logicalDpiX() if views else 96)
    generator.setFileName(str(path))
    generator.setSize(size)
    generator.setViewBox(QRectF(0, 0, size.width(), size.height()))
    generator.setTitle(title)
    painter = QPainter()
    if not painter.begin(generator):
        raise ExportError(f"Cannot write the SVG file '{path}'.")
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        scene.render(painter, QRectF(0, 0, size.width(), size.height()), source)
    finally:
        painter.end()
    if not path.is_file() or path.stat().st_size == 0:
        raise ExportError(f"Cannot write the SVG file '{path}'.")
    return path


def _cell(value: object) -> str:
    if isinstance(value, (float, np.floating)):
        return repr(float(value)) if math.isfinite(value) else str(float(value))
    return str(value)


def write_columns_csv(
    path: str | Path, columns: Mapping[str, Sequence[object] | np.ndarray]
) -> Path:
    """Write named columns side by side; shorter columns are padded with blanks.

    Parameters
    ----------
    path : str or Path
        The CSV file to write (comma-separated, a header row first).
    columns : Mapping[str, sequence]
        Column name -> values (numbers or text), each 1-D; lengths may differ.

    Raises
    ------
    ExportError
        When there is nothing to write or the file cannot be written.
    """
    path = Path(path)
    _check_folder(path)
    if not columns:
        raise ExportError(f"Nothing to export to '{path.name}': the plot is empty.")
    names = list(columns)
    values = [np.asarray(columns[name]).reshape(-1) for name in names]
    length = max(len(v) for v in values)
    try:
        with path.open("w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(names)
            for row in range(length):
                writer.writerow([_cell(v[row]) if row < len(v) else "" for v in values])
    except OSError as exc:
        raise ExportError(f"Cannot write '{path}': {exc.strerror or exc}.") from exc
    return path
