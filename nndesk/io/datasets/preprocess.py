"""Feature scaling fitted on the training split and stored with the network.

A fitted :class:`Scaler` turns features ``x`` of shape ``(n, *input_shape)`` into
``(x - offset) / scale``; ``to_dict``/``from_dict`` keep its statistics as plain
JSON lists so predictions on raw data give the same answers after a reload.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DatasetError

__all__ = ["SCALING_AXES", "SCALING_METHODS", "Scaler"]

SCALING_METHODS = ("standard", "minmax")
SCALING_AXES = ("feature", "global")

# A feature whose spread is below this (in float64) is treated as constant: it is
# shifted but not divided, so it maps to 0 instead of blowing up to inf or noise.
_TINY = 1e-12


class Scaler:
    """Standard (mean/std) or min-max scaling with statistics from training data.

    Parameters
    ----------
    method : str
        ``"standard"``: ``(x - mean) / std`` (population std, ``ddof=0``);
        ``"minmax"``: ``(x - min) / (max - min)``, mapping training data to [0, 1].
        A constant feature (std or range 0) gets scale 1, so it maps to 0.
    axis : str
        ``"feature"``: one statistic per feature (per pixel for images);
        ``"global"``: one statistic over all values (usual for images).

    Examples
    --------
    >>> s = Scaler("standard").fit(train_x)
    >>> x_val = s.transform(val_x)  # uses the training mean and std
    >>> s2 = Scaler.from_dict(s.to_dict())  # after a JSON round trip
    """

    def __init__(self, method: str = "standard", axis: str = "feature") -> None:
        if method not in SCALING_METHODS:
            raise DatasetError(
                f"Unknown scaling method {method!r}; valid methods are "
                f"{', '.join(SCALING_METHODS)}."
            )
        if axis not in SCALING_AXES:
            raise DatasetError(
                f"Unknown scaling axis {axis!r}; valid axes are {', '.join(SCALING_AXES)}."
            )
        self.method = method
        self.axis = axis
        self.offset: np.ndarray | None = None  # float64, per-sample shape or ()
        self.scale: np.ndarray | None = None
        self.input_shape: tuple[int, ...] | None = None

    @property
    def fitted(self) -> bool:
        """True once statistics exist (after ``fit`` or ``from_dict``)."""
        return self.offset is not None

    def fit(self, x: np.ndarray) -> Scaler:
        """Compute the statistics from training features ``x`` ``(n, *input_shape)``.

        Statistics are computed in float64, a block of rows at a time, so fitting
        60,000 Fashion-MNIST images needs a few MB besides ``x`` rather than two
        float64 copies of it; the sums are taken in the order NumPy takes them on
        the whole array, so the statistics are bit-identical to
        ``x.astype(np.float64).mean(axis=...)`` and ``.std(axis=...)``. Returns
        ``self``.

        Raises
        ------
        DatasetError
            For an empty, non-numeric or non-finite ``x``.
        """
        arr = np.asarray(x)
        if arr.ndim < 2 or arr.shape[0] == 0 or arr.dtype.kind not in "biuf":
            raise DatasetError(
                f"A scaler needs numeric features of shape (n, ...) with n >= 1, got "
                f"shape {arr.shape} and dtype {arr.dtype}."
            )
        if not _all_finite(arr):
            raise DatasetError(
                "A scaler cannot be fitted on features holding NaN or Inf."
            )
        if self.method == "standard":
            if self.axis == "feature":
                offset = _row_sum(arr, None) / len(arr)
                spread = np.sqrt(_row_sum(arr, offset) / len(arr))
            else:
                flat = arr.reshape(-1)
                offset = np.float64(_tree_sum(flat, None) / flat.size)
                spread = np.sqrt(_tree_sum(flat, offset) / flat.size)
        else:
            axes = 0 if self.axis == "feature" else None
            # min and max are exact in any order and dtype, so no float64 copy.
            offset = arr.min(axis=axes).astype(np.float64)
            spread = arr.max(axis=axes).astype(np.float64) - offset
        self.offset = np.asarray(offset, dtype=np.float64)
        self.scale = np.where(np.asarray(spread) > _TINY, spread, 1.0).astype(
            np.float64
        )
        self.input_shape = tuple(int(d) for d in arr.shape[1:])
        return self

    def transform(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Scale ``x`` ``(n, *input_shape)`` with the fitted statistics → float32.

        Parameters
        ----------
        x : np.ndarray
            Raw features.
        out : np.ndarray, optional
            A float32 array of ``x``'s shape to write into; it may be ``x`` itself,
            which scales ``x`` in place. The values are the same either way.

        Raises
        ------
        DatasetError
            When not fitted, when the per-sample shape differs from the one the
            scaler was fitted on, or when ``out`` is not a float32 array of that
            shape.
        """
        offset, scale = self._stats()
        arr = self._check_shape(x)
        if out is None:
            out = np.subtract(arr, offset.astype(np.float32), dtype=np.float32)
        else:
            if out.dtype != np.float32 or out.shape != arr.shape:
                raise DatasetError(
                    f"Scaled features go into a float32 array of shape {arr.shape}, "
                    f"not a {out.dtype} array of shape {out.shape}."
                )
            np.subtract(arr, offset.astype(np.float32), out=out, dtype=np.float32)
        out /= scale.astype(np.float32)
        return out

    def fit_transform(self, x: np.ndarray) -> np.ndarray:
        """``fit(x)`` then ``transform(x)``."""
        return self.fit(x).transform(x)

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        """Undo :meth:`transform`: ``x * scale + offset`` as float32."""
        offset, scale = self._stats()
        arr = self._check_shape(x)
        out = np.multiply(arr, scale.astype(np.float32), dtype=np.float32)
        out += offset.astype(np.float32)
        return out

    def to_dict(self) -> dict[str, Any]:
        """The scaler as plain JSON-compatible data (floats in nested lists).

        Python floats are float64, so ``from_dict(to_dict())`` restores the exact
        statistics.
        """
        offset, scale = self._stats()
        return {
            "method": self.method,
            "axis": self.axis,
            "input_shape": list(self.input_shape or ()),
            "offset": offset.tolist(),
            "scale": scale.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scaler:
        """Rebuild a fitted scaler from :meth:`to_dict` output.

        Raises
        ------
        DatasetError
            When a key is missing or the statistics have the wrong shape or values.
        """
        if not isinstance(data, dict):
            raise DatasetError(
                f"Scaler data must be a mapping, got {type(data).__name__}."
            )
        missing = [
            k
            for k in ("method", "axis", "input_shape", "offset", "scale")
            if k not in data
        ]
        if missing:
            raise DatasetError(f"Scaler data lacks the key(s) {', '.join(missing)}.")
        scaler = cls(str(data["method"]), axis=str(data["axis"]))
        try:
            shape = tuple(int(d) for d in data["input_shape"])
            offset = np.asarray(data["offset"], dtype=np.float64)
            scale = np.asarray(data["scale"], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise DatasetError(
                f"Scaler data holds a value that is not a number: {exc}."
            ) from exc
        want = shape if scaler.axis == "feature" else ()
        if offset.shape != want or scale.shape != want:
            raise DatasetError(
                f"Scaler statistics have shapes {offset.shape} and {scale.shape}; "
                f"{want} is needed for input shape {shape} and axis '{scaler.axis}'."
            )
        if not (
            np.isfinite(offset).all() and np.isfinite(scale).all() and (scale > 0).all()
        ):
            raise DatasetError("Scaler statistics must be finite with positive scales.")
        scaler.offset, scaler.scale, scaler.input_shape = offset, scale, shape
        return scaler

    def __repr__(self) -> str:
        state = f"input_shape={self.input_shape}" if self.fitted else "unfitted"
        return f"Scaler({self.method!r}, axis={self.axis!r}, {state})"

    def _stats(self) -> tuple[np.ndarray, np.ndarray]:
        if self.offset is None or self.scale is None:
            raise DatasetError(
                "The scaler is not fitted; fit it on the training split first."
            )
        return self.offset, self.scale

    def _check_shape(self, x: np.ndarray) -> np.ndarray:
        arr = np.asarray(x)
        if arr.dtype.kind not in "biuf":
            raise DatasetError(
                f"A scaler needs numeric features, got dtype {arr.dtype}."
            )
        if tuple(arr.shape[1:]) != self.input_shape or arr.ndim < 2:
            raise DatasetError(
                f"The scaler was fitted on samples of shape {self.input_shape} but "
                f"receives features of shape {arr.shape}."
            )
        return arr


# --- statistics a block of rows at a time ----------------------------------------------
# Values per float64 block (8 MB): 1,337 Fashion-MNIST images.
_BLOCK_ELEMENTS = 1 << 20


def _all_finite(arr: np.ndarray) -> bool:
    """True when ``arr`` holds no NaN or Inf; integers always do."""
    if arr.dtype.kind != "f":
        return True
    rows = _block_rows(arr)
    return all(
        bool(np.isfinite(arr[i : i + rows]).all()) for i in range(0, len(arr), rows)
    )


def _block_rows(arr: np.ndarray) -> int:
    per_row = max(1, int(np.prod(arr.shape[1:])))
    return max(1, _BLOCK_ELEMENTS // per_row)


def _row_sum(arr: np.ndarray, center: np.ndarray | None) -> np.ndarray:
    """``sum(x, axis=0)`` in float64, or ``sum((x - center)**2, axis=0)``.

    NumPy sums over the first axis of a C-ordered array one row after another, so
    carrying the running sum as the first row of each block's reduction adds the
    rows in exactly that order: the result equals the whole-array expression bit
    for bit.
    """
    rows = _block_rows(arr)
    acc = np.zeros(arr.shape[1:], dtype=np.float64)
    block = np.empty((min(rows, len(arr)) + 1, *arr.shape[1:]), dtype=np.float64)
    for start in range(0, len(arr), rows):
        part = arr[start : start + rows]
        m = len(part)
        block[0] = acc
        body = block[1 : m + 1]
        body[...] = part
        if center is not None:
            body -= center
            body *= body
        np.add.reduce(block[: m + 1], axis=0, out=acc)
    return acc


def _tree_sum(flat: np.ndarray, center: np.float64 | None) -> float:
    """``sum(flat)`` in float64, or ``sum((flat - center)**2)``, over a 1-D array.

    NumPy sums a contiguous array pairwise: halves split at a multiple of 8 until a
    piece is small. Splitting the same way until a piece fits a block and letting
    NumPy sum each piece reproduces its result bit for bit.
    """
    n = flat.size
    # NumPy adds pieces of up to 128 values in one unrolled loop, so never split one.
    if n > max(_BLOCK_ELEMENTS, 128):
        half = n // 2
        half -= half % 8
        return _tree_sum(flat[:half], center) + _tree_sum(flat[half:], center)
    piece = flat.astype(np.float64)
    if center is not None:
        piece -= center
        piece *= piece
    return float(np.add.reduce(piece))
