"""Read and write datasets as NumPy .npz archives, never unpickling anything.

Layout: ``x`` (features, ``(n, ...)``, any real numeric dtype) and ``y`` (targets),
optionally ``class_names`` and ``feature_names`` (1-D string arrays) and ``task``
(a 0-d string array). Keras-style archives with ``x_train``/``y_train``/
``x_test``/``y_test`` are read too, choosing the part with ``split``. Without a
``task`` entry, integer or boolean ``y`` means classification and float ``y``
regression. Values are cast to float32 as they are (no scaling).
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ..errors import DatasetError
from .base import CLASSIFICATION, REGRESSION, TASKS, Dataset

__all__ = ["read_npz", "save_npz"]

_SPLITS = ("train", "test")


def read_npz(
    path: str | Path, *, split: str | None = None, task: str | None = None
) -> Dataset:
    """Read a dataset from the .npz archive ``path``.

    Parameters
    ----------
    path : str or Path
    split : {"train", "test"}, optional
        For archives holding ``x_train``/``x_test``: which part (default "train").
        Giving it for an archive with plain ``x``/``y`` is an error.
    task : {"classification", "regression"}, optional
        Overrides the task stored in or guessed from the archive.

    Returns
    -------
    Dataset

    Raises
    ------
    DatasetError
        For a missing or corrupt file, object (pickled) arrays, missing keys, bad
        shapes or dtypes, or labels out of range.
    """
    path = Path(path)
    if task is not None and task not in TASKS:
        raise DatasetError(
            f"Unknown task {task!r}; valid tasks are {', '.join(TASKS)}."
        )
    arrays = _load(path)
    x_key, y_key = _keys(path, arrays, split)
    x = arrays[x_key]
    y = arrays[y_key]
    stored_task = _text(path, arrays, "task")
    if task is None:
        task = stored_task or (CLASSIFICATION if y.dtype.kind in "biu" else REGRESSION)
    if task not in TASKS:
        raise DatasetError(
            f"{path.name} stores task {task!r}; valid tasks are {', '.join(TASKS)}."
        )
    if x.dtype.kind not in "biuf":
        raise DatasetError(
            f"{path.name} array '{x_key}' has dtype {x.dtype}; real numbers are needed."
        )
    if y.dtype.kind not in "biuf":
        raise DatasetError(
            f"{path.name} array '{y_key}' has dtype {y.dtype}; numbers are needed."
        )
    if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
        raise DatasetError(
            f"{path.name} arrays '{x_key}' {x.shape} and '{y_key}' {y.shape} need the "
            "same number of rows."
        )
    class_names = _names(path, arrays, "class_names")
    if task == REGRESSION:
        class_names = None
    feature_names = _names(path, arrays, "feature_names")
    part = "" if x_key == "x" else f" ({x_key.split('_')[1]})"
    return Dataset(
        x=x,
        y=y,
        task=task,
        class_names=class_names,
        feature_names=feature_names,
        name=path.name + part,
        source=str(path) + (f":split={x_key.split('_')[1]}" if part else ""),
    )


def save_npz(dataset: Dataset, path: str | Path) -> None:
    """Write ``dataset`` to ``path`` as a compressed .npz that :func:`read_npz` reads.

    The file is written to a temporary name in the same folder and then moved into
    place, so an interrupted save never leaves a half-written file.
    """
    path = Path(path)
    arrays: dict[str, np.ndarray] = {
        "x": dataset.x,
        "y": dataset.y,
        "task": np.array(dataset.task),
    }
    if dataset.class_names is not None:
        arrays["class_names"] = np.array(dataset.class_names, dtype=str)
    if dataset.feature_names is not None:
        arrays["feature_names"] = np.array(dataset.feature_names, dtype=str)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        raise DatasetError(f"Dataset file {path} does not exist.")
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise DatasetError(
                f"{path.name} is a single .npy array, not an .npz archive with x and y."
            )
        with loaded as npz:
            return {key: _array(path, npz, key) for key in npz.files}
    except DatasetError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise DatasetError(
            f"{path.name} is not a readable .npz archive ({exc})."
        ) from None


def _array(path: Path, npz: np.lib.npyio.NpzFile, key: str) -> np.ndarray:
    try:
        return npz[key]
    except ValueError:
        # NumPy refuses object arrays without allow_pickle; unpickling could run code.
        raise DatasetError(
            f"{path.name} array '{key}' holds Python objects (pickled data), which "
            "nndesk does not load; store numbers and strings only."
        ) from None
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise DatasetError(
            f"{path.name} array '{key}' cannot be read ({exc})."
        ) from None


def _keys(
    path: Path, arrays: dict[str, np.ndarray], split: str | None
) -> tuple[str, str]:
    if split is not None and split not in _SPLITS:
        raise DatasetError(
            f"Unknown split {split!r} for {path.name}; valid splits are {', '.join(_SPLITS)}."
        )
    if "x" in arrays and "y" in arrays:
        if split is not None:
            raise DatasetError(
                f"{path.name} holds one dataset (x and y), so it has no '{split}' split."
            )
        return "x", "y"
    part = split or "train"
    x_key, y_key = f"x_{part}", f"y_{part}"
    if x_key in arrays and y_key in arrays:
        return x_key, y_key
    found = ", ".join(sorted(arrays)) or "nothing"
    raise DatasetError(
        f"{path.name} needs arrays 'x' and 'y' (or '{x_key}' and '{y_key}') but holds "
        f"{found}."
    )


def _text(path: Path, arrays: dict[str, np.ndarray], key: str) -> str | None:
    if key not in arrays:
        return None
    value = arrays[key]
    if value.ndim != 0 or value.dtype.kind not in "US":
        raise DatasetError(f"{path.name} entry '{key}' must be a single string.")
    item = value.item()
    return item.decode("utf-8") if isinstance(item, bytes) else str(item)


def _names(path: Path, arrays: dict[str, np.ndarray], key: str) -> list[str] | None:
    if key not in arrays:
        return None
    value = arrays[key]
    if value.ndim != 1 or value.dtype.kind not in "US":
        raise DatasetError(f"{path.name} entry '{key}' must be a 1-D array of strings.")
    return [
        v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in value.tolist()
    ]
