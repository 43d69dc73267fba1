"""Checks and conversions of the data given to a Model: shapes, counts, NaN/Inf.

Every problem becomes a ShapeError, DataError or ConfigError naming the model
input or output and the shapes involved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ConfigError, DataError, ShapeError
from .kernels.layers import all_finite

if TYPE_CHECKING:
    from .model import Model


def _split(model_names: Sequence[str], data: Any, what: str, role: str) -> list[Any]:
    """One item per model input/output from an array, a list or a dict by name."""
    n = len(model_names)
    if isinstance(data, Mapping):
        unknown = [k for k in data if k not in model_names]
        missing = [k for k in model_names if k not in data]
        if unknown or missing:
            raise ConfigError(
                f"{what} is keyed by {', '.join(map(str, data))} but the model "
                f"expects {', '.join(model_names)}."
            )
        return [data[k] for k in model_names]
    if n == 1:
        if (
            isinstance(data, (list, tuple))
            and len(data) == 1
            and isinstance(data[0], np.ndarray)
        ):
            return [data[0]]
        return [data]
    if not isinstance(data, (list, tuple)) or len(data) != n:
        got = len(data) if isinstance(data, (list, tuple)) else "one array"
        raise ConfigError(
            f"The model has {n} {role}s "
            f"({', '.join(model_names)}), so {what} must be a list of {n} arrays or "
            f"a dict by name; got {got}."
        )
    return list(data)


def _numeric(a: Any, what: str) -> np.ndarray:
    try:
        arr = np.asarray(a)
    except (ValueError, TypeError):
        raise DataError(f"{what} cannot be read as a numeric array.") from None
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise DataError(f"{what} holds {arr.dtype} values, not numbers.")
    return arr


def sample_fits_input(sample: Sequence[int], input_shape: Sequence[int]) -> bool:
    """Whether samples of shape ``sample`` feed an Input of ``input_shape``: the
    same shape, or that shape without its last axis when that axis is 1 (a
    ``(28, 28)`` image for ``(28, 28, 1)``, a number for ``(1,)``)."""
    sample, input_shape = tuple(sample), tuple(input_shape)
    return sample == input_shape or (
        input_shape[-1:] == (1,) and sample == input_shape[:-1]
    )


def prepare_inputs(model: Model, x: Any, what: str = "x") -> list[np.ndarray]:
    """Model inputs as contiguous arrays of the model dtype, shapes checked.

    An array whose samples lack the Input's last axis of size 1 gets it
    (``sample_fits_input``): ``(n, 28, 28)`` images feed ``(28, 28, 1)``, a 1-D
    array an input of shape ``(1,)``.

    Raises
    ------
    ShapeError
        When a sample shape differs from the Input's shape.
    DataError
        When the arrays are empty, not numeric, or their sample counts differ.
    """
    names = model.input_names
    if (
        len(names) == 1
        and type(x) is np.ndarray
        and x.dtype == model.dtype
        and x.flags.c_contiguous
        and x.ndim > 1
        and len(x) > 0
        and x.shape[1:] == model.input_shapes[0]
    ):
        return [x]  # the common case, checked without copies
    items = _split(names, x, what, "input")
    out: list[np.ndarray] = []
    for name, shape, item in zip(names, model.input_shapes, items, strict=True):
        label = what if len(names) == 1 else f"{what} for input '{name}'"
        arr = _numeric(item, label)
        if arr.ndim >= 1 and sample_fits_input(arr.shape[1:], shape):
            arr = arr.reshape(len(arr), *shape)  # a view: adds a missing axis of 1
        if arr.ndim == 0 or arr.shape[1:] != shape:
            raise ShapeError(
                f"Input '{name}' expects samples of shape {shape}, i.e. an array of "
                f"shape {(None, *shape)}, but {label} has shape {arr.shape}."
            )
        if len(arr) == 0:
            raise DataError(f"{label} has no samples.")
        out.append(np.ascontiguousarray(arr, dtype=model.dtype))
    counts = {len(a) for a in out}
    if len(counts) > 1:
        detail = ", ".join(f"'{n}': {len(a)}" for n, a in zip(names, out, strict=True))
        raise DataError(f"The inputs have different numbers of samples ({detail}).")
    return out


def prepare_targets(model: Model, y: Any, n: int, what: str = "y") -> list[np.ndarray]:
    """Targets per output: floats cast to the model dtype, integers kept.

    A 1-D array is reshaped to ``(n, 1)`` for an output of shape ``(1,)``.

    Raises
    ------
    DataError
        When the targets are not numeric or their count differs from ``n``.
    """
    names = model.output_names
    if len(names) == 1 and type(y) is np.ndarray and y.ndim > 0 and len(y) == n:
        if y.ndim == 1 and model.output_shapes[0] == (1,):
            y = y.reshape(-1, 1)
        if y.dtype != model.dtype and (y.dtype == np.bool_ or y.dtype.kind == "f"):
            y = y.astype(model.dtype)
        return [y]
    items = _split(names, y, what, "output")
    out: list[np.ndarray] = []
    for name, shape, item in zip(names, model.output_shapes, items, strict=True):
        label = what if len(names) == 1 else f"{what} for output '{name}'"
        arr = _numeric(item, label)
        if arr.ndim == 0:
            raise ShapeError(f"{label} is a scalar; it needs one row per sample.")
        if arr.ndim == 1 and shape == (1,):
            arr = arr.reshape(-1, 1)
        if arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.floating):
            arr = arr.astype(model.dtype, copy=False)
        if len(arr) != n:
            raise DataError(f"x has {n} samples but {label} has {len(arr)}.")
        out.append(arr)
    return out


def check_finite(model: Model, xs: Sequence[np.ndarray], what: str = "x") -> None:
    """Raise DataError naming the input and the count of NaN/Inf values, if any."""
    for name, a in zip(model.input_names, xs, strict=True):
        if all_finite(a.reshape(-1)):
            continue
        bad = int(a.size - np.count_nonzero(np.isfinite(a)))
        raise DataError(
            f"Input '{name}' ({what}) contains {bad} NaN/Inf value(s); clean or "
            "impute them before training."
        )


def check_batch_size(batch_size: Any) -> int:
    """``batch_size`` as an int, or ConfigError when it is not a positive integer."""
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size < 1
    ):
        raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}.")
    return int(batch_size)


class BatchBuffers:
    """Reused arrays for the rows of shuffled batches (``Model.batch_buffers``)."""

    def __init__(self) -> None:
        self._buffers: dict[Any, np.ndarray] = {}

    def gather(self, a: np.ndarray, idx: Any, key: tuple[str, int]) -> np.ndarray:
        """Rows ``idx`` of ``a``: a view for a slice, else a copy into a buffer
        reused by later calls with the same ``key`` and shape."""
        if isinstance(idx, slice):
            return a[idx]
        buffers = self._buffers
        shape = (len(idx), *a.shape[1:])
        # Keyed by size too: full batches and the last partial one keep their own.
        full_key = (*key, shape, a.dtype.str)
        buf = buffers.get(full_key)
        if buf is None:
            if len(buffers) > 32:
                buffers.clear()
            buf = np.empty(shape, dtype=a.dtype)
            buffers[full_key] = buf
        # mode="clip" skips np.take's buffered bounds checking; idx is a permutation.
        return np.take(a, idx, axis=0, out=buf, mode="clip")
