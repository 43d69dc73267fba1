"""Painted 2-D data: points a user drew, each with a class or a target value.

``PaintedPoints`` is an immutable value: every edit (a brush stroke, an erase, a
clear) makes a new one, which ``Document.set_painted`` swaps in and whose
predecessor an undo command keeps. Arrays are read-only, so a snapshot for the
trainer shares them safely.

A set is for classification (``n_classes >= 2``; ``values`` are int64 class indices
in ``[0, n_classes)``) or for regression (``n_classes == 0``; ``values`` are
float32 targets). ``n_classes`` is kept even when a class has no points yet, so the
network's output width does not change under the user's brush.

Examples
--------
>>> p = PaintedPoints.empty()
>>> p = p.added([[0.0, 0.5], [1.0, -0.5]], 1)
>>> len(p), p.task, p.class_counts().tolist()
(2, 'classification', [0, 2])
>>> p.removed([0]).xy.tolist()
[[1.0, -0.5]]
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import DocumentError

__all__ = [
    "CLASSIFICATION",
    "MAX_CLASSES",
    "MAX_COORDINATE",
    "MAX_POINTS",
    "REGRESSION",
    "PaintedDataError",
    "PaintedPoints",
]

CLASSIFICATION = "classification"
REGRESSION = "regression"

MAX_POINTS = 100_000
"""Most points a painted set holds (a generator's points copied in included)."""
MAX_CLASSES = 20
"""Most classes a painted set has (the largest class count of the generators)."""
MAX_COORDINATE = 1e6
"""Coordinates and targets lie within +-this (painting far outside is a slip)."""


class PaintedDataError(DocumentError):
    """Painted points that do not fit: shape, dtype, class, count or value."""


@dataclass(frozen=True, eq=False)
class PaintedPoints:
    """Points of a painted 2-D dataset and the class or value of each.

    Parameters
    ----------
    xy : array-like
        ``(n, 2)`` coordinates; stored as a read-only float32 array.
    values : array-like
        ``(n,)`` class indices (classification) or targets (regression); stored
        read-only as int64 or float32.
    n_classes : int
        Number of classes (2..``MAX_CLASSES``), or 0 for a regression set.

    Raises
    ------
    PaintedDataError
        For arrays of the wrong shape, non-finite or out-of-range values, a class
        outside ``[0, n_classes)`` or more than ``MAX_POINTS`` points.
    """

    xy: np.ndarray
    values: np.ndarray
    n_classes: int = 2
    _digest: str = field(default="", init=False, repr=False)

    def __post_init__(self) -> None:
        n_classes, xy, values = _checked(self.xy, self.values, self.n_classes)
        object.__setattr__(self, "n_classes", n_classes)
        object.__setattr__(self, "xy", xy)
        object.__setattr__(self, "values", values)
        digest = hashlib.sha256()
        digest.update(str(n_classes).encode())
        digest.update(xy.tobytes())
        digest.update(values.tobytes())
        object.__setattr__(self, "_digest", digest.hexdigest())

    # --- making ---------------------------------------------------------------------
    @classmethod
    def empty(cls, n_classes: int = 2) -> PaintedPoints:
        """A set without points: ``n_classes`` classes, or regression when 0."""
        return cls(np.empty((0, 2), np.float32), _empty_values(n_classes), n_classes)

    @classmethod
    def from_dataset_arrays(cls, x: Any, y: Any, n_classes: int) -> PaintedPoints:
        """A set holding a 2-D dataset's samples (``x`` ``(n, 2)``; ``y`` ``(n,)``
        class indices, or ``(n,)``/``(n, 1)`` targets when ``n_classes`` is 0).

        Raises
        ------
        PaintedDataError
            When the data is not 2-D points with one class or value each, or
            holds more than ``MAX_POINTS`` points.
        """
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        return cls(np.asarray(x), y, n_classes)

    # --- what it is -----------------------------------------------------------------
    @property
    def task(self) -> str:
        """``"classification"`` or ``"regression"``."""
        return CLASSIFICATION if self.n_classes else REGRESSION

    @property
    def is_classification(self) -> bool:
        """Whether the values are class indices."""
        return self.n_classes > 0

    def __len__(self) -> int:
        return int(self.xy.shape[0])

    def class_counts(self) -> np.ndarray:
        """Points per class, int64 ``(n_classes,)`` (empty for regression)."""
        if not self.n_classes:
            return np.zeros(0, np.int64)
        return np.bincount(self.values, minlength=self.n_classes).astype(np.int64)

    def summary(self) -> str:
        """One line: how many points, of which classes (or the value range)."""
        n = len(self)
        points = f"{n} painted point{'' if n == 1 else 's'}"
        if self.n_classes:
            counts = ", ".join(str(c) for c in self.class_counts())
            return f"{points} in {self.n_classes} classes ({counts})"
        if n == 0:
            return f"{points} (regression)"
        lo, hi = float(self.values.min()), float(self.values.max())
        return f"{points}, targets {lo:g} to {hi:g}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PaintedPoints):
            return NotImplemented
        return self._digest == other._digest

    def __hash__(self) -> int:
        return hash(self._digest)

    def __repr__(self) -> str:
        return f"<PaintedPoints {self.summary()}>"

    def __deepcopy__(self, memo: dict[int, Any]) -> PaintedPoints:
        return self  # immutable: sharing is a copy

    def __reduce__(self) -> tuple[Any, ...]:
        return (PaintedPoints, (self.xy.copy(), self.values.copy(), self.n_classes))

    # --- edits (each returns a new set) -------------------------------------------------
    def added(self, xy: Any, value: float | int) -> PaintedPoints:
        """This set plus the points ``xy`` ``(m, 2)``, all of class (or target) ``value``.

        Raises
        ------
        PaintedDataError
            For a class outside ``[0, n_classes)``, a value that is not finite, or
            more than ``MAX_POINTS`` points in all.
        """
        new = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        tags = np.full(len(new), value, dtype=self.values.dtype)
        if self.n_classes and (tags != value).any():
            raise PaintedDataError(
                f"Painted class {value!r} is not a class index (0..{self.n_classes - 1})."
            )
        return PaintedPoints(
            np.concatenate([self.xy, new.astype(np.float32)]),
            np.concatenate([self.values, tags]),
            self.n_classes,
        )

    def removed(self, indices: Sequence[int] | np.ndarray) -> PaintedPoints:
        """This set without the points at ``indices`` (repeats and order ignored)."""
        keep = np.ones(len(self), dtype=bool)
        index = np.asarray(indices, dtype=np.int64).reshape(-1)
        if index.size and (index.min() < 0 or index.max() >= len(self)):
            raise PaintedDataError(
                f"There is no painted point {int(index.max())} (the set has {len(self)})."
            )
        keep[index] = False
        return PaintedPoints(self.xy[keep], self.values[keep], self.n_classes)

    def cleared(self) -> PaintedPoints:
        """The same kind of set (classes, task) without points."""
        return PaintedPoints.empty(self.n_classes)

    def with_classes(self, n_classes: int) -> PaintedPoints:
        """The same points with another class count (2..``MAX_CLASSES``), or as a
        regression set (0: class indices become target values) or, from
        regression, as classes (targets rounded and clipped to the classes).
        """
        n = _class_count(n_classes)
        if n == self.n_classes:
            return self
        if n == 0:
            return PaintedPoints(self.xy, self.values.astype(np.float32), 0)
        if self.n_classes == 0:
            labels = np.clip(np.rint(self.values), 0, n - 1).astype(np.int64)
            return PaintedPoints(self.xy, labels, n)
        used = int(self.values.max()) + 1 if len(self) else 0
        if used > n:
            raise PaintedDataError(
                f"Painted class {used - 1} has points: erase them before going down "
                f"to {n} classes."
            )
        return PaintedPoints(self.xy, self.values, n)

    def near(
        self, center: tuple[float, float], radius: tuple[float, float]
    ) -> np.ndarray:
        """Indices (int64, ascending) of the points inside the ellipse of radii
        ``radius`` ``(rx, ry)`` around ``center`` (the brush, in data units)."""
        rx, ry = (max(float(r), 1e-12) for r in radius)
        d = (self.xy[:, 0] - center[0]) / rx, (self.xy[:, 1] - center[1]) / ry
        return np.flatnonzero(d[0] * d[0] + d[1] * d[1] <= 1.0).astype(np.int64)


# --- checks -------------------------------------------------------------------------------
def _class_count(n_classes: Any) -> int:
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)):
        raise PaintedDataError(
            f"The painted class count must be a whole number, got {n_classes!r}."
        )
    n = int(n_classes)
    if n != 0 and not 2 <= n <= MAX_CLASSES:
        raise PaintedDataError(
            f"Painted data has 2 to {MAX_CLASSES} classes (or 0 for regression), "
            f"not {n}."
        )
    return n


def _empty_values(n_classes: int) -> np.ndarray:
    return np.empty(0, np.int64 if n_classes else np.float32)


def _checked(
    xy: Any, values: Any, n_classes: Any
) -> tuple[int, np.ndarray, np.ndarray]:
    n = _class_count(n_classes)
    try:
        xy = np.array(xy, dtype=np.float32, copy=True)
        values = np.array(values, copy=True)
    except (TypeError, ValueError):
        raise PaintedDataError("Painted points must be numbers.") from None
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise PaintedDataError(
            f"Painted points must be an (n, 2) array of x and y, got shape {xy.shape}."
        )
    if len(xy) > MAX_POINTS:
        raise PaintedDataError(
            f"Painted data holds at most {MAX_POINTS:,} points, not {len(xy):,}."
        )
    if values.shape != (len(xy),):
        raise PaintedDataError(
            f"Painted data has {len(xy)} points but values of shape {values.shape}."
        )
    if not np.isfinite(xy).all() or (np.abs(xy) > MAX_COORDINATE).any():
        raise PaintedDataError(
            f"Painted point coordinates must be finite and within +-{MAX_COORDINATE:g}."
        )
    if n:
        values = _labels(values, n)
    else:
        values = _targets(values)
    xy.setflags(write=False)
    values.setflags(write=False)
    return n, xy, values


def _labels(values: np.ndarray, n: int) -> np.ndarray:
    if values.dtype.kind not in "iu" and not (
        values.dtype.kind == "f"
        and np.isfinite(values).all()
        and (values == np.rint(values)).all()
    ):
        raise PaintedDataError(
            f"Painted classes must be whole numbers, got {values.dtype} values."
        )
    if len(values) and (values.min() < 0 or values.max() >= n):
        bad = values.min() if values.min() < 0 else values.max()
        raise PaintedDataError(
            f"Painted class {_number(bad)} is outside 0..{n - 1} ({n} classes)."
        )
    return values.astype(np.int64)


def _targets(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind not in "iuf":
        raise PaintedDataError(
            f"Painted target values must be numbers, got {values.dtype} values."
        )
    values = values.astype(np.float64)
    if not np.isfinite(values).all() or (np.abs(values) > MAX_COORDINATE).any():
        raise PaintedDataError(
            f"Painted target values must be finite and within +-{MAX_COORDINATE:g}."
        )
    return values.astype(np.float32)


def _number(value: Any) -> str:
    number = float(value)
    return (
        str(int(number))
        if math.isfinite(number) and number.is_integer()
        else repr(number)
    )
