"""The painted dataset: the document's painted points as a Dataset, a file member and CSV.

The dataset spec ``painted`` names the points painted in the network's document
(``Document.painted``); ``load_dataset("painted", painted=doc.painted)`` makes
them a :class:`~nndesk.io.datasets.base.Dataset` (float32 ``(n, 2)`` features,
int64 classes or float32 targets). In a ``.nndesk`` file they are the member
``painted.npz`` (``painted_to_arrays`` / ``painted_from_arrays``: three arrays, no
pickle); ``export_painted_csv`` writes them as a CSV file the CSV reader loads
back as the same dataset.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ...document.errors import DocumentError
from ...document.painted import PaintedPoints
from ..errors import DatasetError
from .base import CLASSIFICATION, Dataset

__all__ = [
    "FEATURE_NAMES",
    "PAINTED",
    "export_painted_csv",
    "is_painted_spec",
    "painted_dataset",
    "painted_from_arrays",
    "painted_from_dataset",
    "painted_to_arrays",
]

PAINTED = "painted"
"""The dataset spec of the painted points."""

FEATURE_NAMES = ("x", "y")
"""The feature columns of painted data (and of its CSV export)."""

ARRAY_KEYS = ("xy", "values", "n_classes")
"""The arrays of ``painted.npz``."""


def is_painted_spec(spec: Any) -> bool:
    """Whether a dataset spec names the painted points (``painted``, any options)."""
    if not isinstance(spec, str):
        return False
    head = spec.strip().partition(":")[0].strip()
    return head == PAINTED


def painted_dataset(
    painted: PaintedPoints | None, options: Mapping[str, str] | None = None
) -> Dataset:
    """The painted points as a Dataset named ``painted`` (source ``painted``).

    Raises
    ------
    DatasetError
        When there are no painted points (none given, or none painted yet), or the
        spec has options (``painted`` takes none).
    """
    if options:
        raise DatasetError(
            f"The painted dataset takes no options, got '{', '.join(sorted(options))}'."
        )
    if painted is None or not len(painted):
        raise DatasetError(
            "The painted dataset has no points yet: paint some in the Data panel or "
            "the Decision Boundary panel."
        )
    if painted.is_classification:
        return Dataset(
            x=np.array(painted.xy, dtype=np.float32),
            y=np.array(painted.values, dtype=np.int64),
            task=CLASSIFICATION,
            class_names=[str(k) for k in range(painted.n_classes)],
            feature_names=list(FEATURE_NAMES),
            name=PAINTED,
            source=PAINTED,
        )
    return Dataset(
        x=np.array(painted.xy, dtype=np.float32),
        y=np.array(painted.values, dtype=np.float32).reshape(-1, 1),
        task="regression",
        feature_names=list(FEATURE_NAMES),
        name=PAINTED,
        source=PAINTED,
    )


def painted_from_dataset(dataset: Dataset) -> PaintedPoints:
    """A painted set holding a 2-D dataset's samples (to paint on from there).

    Raises
    ------
    DatasetError
        When the samples are not 2-D points, a regression dataset has several
        targets, or there are too many points or classes to paint.
    """
    if dataset.input_shape != (2,):
        raise DatasetError(
            f"Only 2-D points can be painted on; dataset '{dataset.name}' has samples "
            f"of shape {dataset.input_shape}."
        )
    if not dataset.is_classification and dataset.n_targets != 1:
        raise DatasetError(
            f"Dataset '{dataset.name}' has {dataset.n_targets} targets; painted data "
            "has one value per point."
        )
    n_classes = int(dataset.n_classes or 0)
    try:
        return PaintedPoints.from_dataset_arrays(dataset.x, dataset.y, n_classes)
    except DocumentError as exc:
        raise DatasetError(
            f"Dataset '{dataset.name}' cannot be painted on: {exc}"
        ) from None


def painted_to_arrays(painted: PaintedPoints) -> dict[str, np.ndarray]:
    """The arrays of ``painted.npz``: ``xy`` float32 ``(n, 2)``, ``values`` int64
    (classes) or float32 (targets) ``(n,)``, ``n_classes`` int64 0-d (0: regression)."""
    return {
        "xy": np.array(painted.xy, dtype=np.float32),
        "values": np.array(painted.values),
        "n_classes": np.array(painted.n_classes, dtype=np.int64),
    }


def painted_from_arrays(
    arrays: Mapping[str, np.ndarray], where: str, error: type[Exception]
) -> PaintedPoints:
    """Check the arrays of ``painted.npz`` and build the set.

    Parameters
    ----------
    arrays : Mapping
        What the member held (already read without pickle).
    where : str
        How messages name the member ("net.nndesk: painted.npz").
    error : type
        The exception to raise (``FileFormatError`` when loading).

    Raises
    ------
    error
        For missing or unknown arrays, wrong dtypes or shapes, classes out of range
        or values that are not finite, in one sentence starting with ``where``.
    """
    keys = set(arrays)
    for key in sorted(keys - set(ARRAY_KEYS)):
        raise error(f"{where} holds the unexpected array {key!r}.")
    for key in ARRAY_KEYS:
        if key not in keys:
            raise error(f"{where} is missing its array '{key}'.")
    count = arrays["n_classes"]
    if count.shape != () or count.dtype.kind not in "iu":
        raise error(f"{where}: 'n_classes' must be one whole number.")
    xy, values = arrays["xy"], arrays["values"]
    if xy.dtype.kind != "f":
        raise error(f"{where}: 'xy' must hold floats, not {xy.dtype}.")
    wanted = "iu" if int(count) else "f"
    if values.dtype.kind not in wanted:
        kind = "whole numbers (classes)" if int(count) else "floats (targets)"
        raise error(f"{where}: 'values' must hold {kind}, not {values.dtype}.")
    try:
        return PaintedPoints(xy, values, int(count))
    except DocumentError as exc:
        raise error(f"{where}: {exc}") from None


def export_painted_csv(painted: PaintedPoints, path: str | os.PathLike[str]) -> Path:
    """Write the painted points as CSV: a header ``x,y,class`` (or ``x,y,target``),
    then one row per point, written atomically.

    The numbers are written exactly (shortest repr of the float32 values), so
    ``read_csv`` gives back the same features and classes (or targets).

    Raises
    ------
    DatasetError
        When there are no points or the file cannot be written.
    """
    path = Path(path)
    if not len(painted):
        raise DatasetError(f"There are no painted points to export to '{path.name}'.")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    target = "class" if painted.is_classification else "target"
    writer.writerow([*FEATURE_NAMES, target])
    xs = painted.xy.astype(np.float32)
    for (x, y), v in zip(xs.tolist(), painted.values.tolist(), strict=True):
        writer.writerow([_exact(x), _exact(y), v if painted.n_classes else _exact(v)])
    _write_text(path, buffer.getvalue())
    return path


def _exact(value: float) -> str:
    # float32 values: the shortest text that reads back as the same float32.
    return np.format_float_positional(np.float32(value), unique=True, trim="-")


def _write_text(path: Path, text: str) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise DatasetError(
            f"Cannot write '{path.name}': the folder {folder} does not exist."
        )
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise DatasetError(f"Cannot write '{path}': {exc.strerror or exc}.") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.chmod(temp, 0o644)  # mkstemp makes it private; a CSV is for sharing
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise DatasetError(f"Cannot write '{path}': {exc.strerror or exc}.") from None
