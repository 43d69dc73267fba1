"""Planes through the input space, for decision boundaries of inputs with more than two values.

A network with two inputs has its decision boundary drawn over the input plane
itself. Any other network can be looked at on a two-dimensional slice of its
input space: a ``Plane`` is an origin and two orthonormal directions in the
flattened input space, so a point ``(s, t)`` of the plane is the input
``origin + s * u + t * v``, and an input ``x`` lies at ``((x - origin) @ u,
(x - origin) @ v)`` on it (its orthogonal projection). Three ways to choose one:

- ``feature_plane``: two input features vary, every other one is held at a
  value (a sample's, the mean, or whatever the user moved it to); the plane's
  coordinates are the two features' own values.
- ``pca_plane``: through the mean of the data along its two principal
  directions (an SVD of the centred data, at most ``PCA_ROWS`` rows of it).
- ``three_point_plane``: through three inputs (three images): the first is the
  origin, the second lies on the first axis, the third in the upper half-plane.

No Qt here: the training worker builds the grid of inputs from a plane, and the
boundary panel projects the data onto it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from nndesk.engine.errors import DataError

__all__ = [
    "PCA_ROWS",
    "Plane",
    "feature_plane",
    "pca_plane",
    "plane_extent",
    "three_point_plane",
]

PCA_ROWS = 2000
"""Rows of the data the PCA plane is computed from (evenly spaced beyond it): the
two directions of 2,000 of Fashion-MNIST's 60,000 images are 1.7 and 3.0 degrees
from those of all of them (1,000 rows: 2.7 and 4.5)."""
MARGIN = 0.1
"""Share of the data's span added on each side of a plane's extent."""


@dataclass(frozen=True, eq=False)
class Plane:
    """A two-dimensional slice of the input space.

    Attributes
    ----------
    origin : np.ndarray
        ``(d,)`` float64: the input at plane coordinates ``(0, 0)``; ``d`` is the
        number of input values (all axes of one sample flattened).
    basis : np.ndarray
        ``(2, d)`` float64, orthonormal rows: the directions of the plane's first
        and second axis.
    input_shape : tuple of int
        Shape of one sample (``prod(input_shape) == d``).
    extent : tuple of float
        ``(s_min, s_max, t_min, t_max)``: the part of the plane to draw.
    kind : str
        ``"features"``, ``"pca"`` or ``"points"``.
    labels : tuple of str
        The axes' names.
    anchors : np.ndarray
        ``(m, 2)`` plane coordinates of the points it was made through (the three
        images of a three-point plane; empty otherwise).
    note : str
        One line on how it was made (shown under the map).

    Planes compare by identity: a changed choice is a new plane.
    """

    origin: np.ndarray
    basis: np.ndarray
    input_shape: tuple[int, ...]
    extent: tuple[float, float, float, float] = (-1.0, 1.0, -1.0, 1.0)
    kind: str = "features"
    labels: tuple[str, str] = ("", "")
    anchors: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    note: str = ""

    def __post_init__(self) -> None:
        # A plane crosses threads (the GUI makes it, the worker reads it): its
        # arrays are read-only, so no one changes a plane another thread uses.
        for array in (self.origin, self.basis, self.anchors):
            array.flags.writeable = False

    @property
    def dim(self) -> int:
        """Number of input values ``d``."""
        return int(self.origin.size)

    def project(self, x: np.ndarray) -> np.ndarray:
        """Plane coordinates of inputs: ``(n, *input_shape)`` -> ``(n, 2)`` float64
        (the orthogonal projection; exact for points of the plane)."""
        flat = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        return (flat - self.origin) @ self.basis.T

    def to_inputs(
        self, coords: np.ndarray, dtype: np.dtype | type = np.float32
    ) -> np.ndarray:
        """Inputs at plane coordinates: ``(n, 2)`` -> ``(n, *input_shape)`` ``dtype``."""
        st = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
        flat = self.origin + st @ self.basis
        return flat.reshape(len(st), *self.input_shape).astype(dtype, copy=False)

    def grid(self, size: int, dtype: np.dtype | type = np.float32) -> np.ndarray:
        """The inputs at a ``size`` x ``size`` grid over ``extent``.

        Returns
        -------
        np.ndarray
            ``(size * size, *input_shape)``; row ``i * size + j`` is the point with
            second coordinate index ``i`` and first coordinate index ``j`` (rows
            follow the plane's second axis, as the decision map's image does).
        """
        s0, s1, t0, t1 = self.extent
        ss, tt = np.meshgrid(np.linspace(s0, s1, size), np.linspace(t0, t1, size))
        return self.to_inputs(np.column_stack([ss.reshape(-1), tt.reshape(-1)]), dtype)

    def with_extent(self, extent: tuple[float, float, float, float]) -> Plane:
        """The same plane drawn over another extent."""
        return Plane(
            self.origin, self.basis, self.input_shape, tuple(map(float, extent)),  # type: ignore[arg-type]
            self.kind, self.labels, self.anchors, self.note,
        )  # fmt: skip


def plane_extent(
    coords: np.ndarray, margin: float = MARGIN
) -> tuple[float, float, float, float]:
    """The bounding box of ``(n, 2)`` plane coordinates widened by ``margin`` of
    its span on each side (at least 1e-3; ``(-1, 1, -1, 1)`` without points)."""
    c = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
    c = c[np.isfinite(c).all(axis=1)]
    if not len(c):
        return (-1.0, 1.0, -1.0, 1.0)
    lo, hi = c.min(axis=0), c.max(axis=0)
    pad = np.maximum((hi - lo) * margin, 1e-3)
    lo, hi = lo - pad, hi + pad
    return (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))


def feature_plane(
    held: np.ndarray,
    first: int,
    second: int,
    names: Sequence[str] = (),
    points: np.ndarray | None = None,
) -> Plane:
    """The plane of two input features, every other feature held at ``held``.

    Parameters
    ----------
    held : np.ndarray
        ``(d,)`` or ``input_shape``: the value of every input (the two chosen
        features' entries are ignored: they vary over the plane).
    first, second : int
        Indices (into the flattened input) of the features along the plane's
        first and second axis.
    names : sequence of str
        Feature names (for the axis labels; default ``feature <i>``).
    points : np.ndarray, optional
        ``(n, *input_shape)`` data whose projection sets the extent.

    Raises
    ------
    DataError
        When an index is outside the input or both are the same feature.
    """
    values = np.asarray(held, dtype=np.float64)
    shape = tuple(int(s) for s in values.shape) or (1,)
    origin = values.reshape(-1).copy()
    d = origin.size
    for index in (first, second):
        if not 0 <= index < d:
            raise DataError(
                f"Feature {index} is outside the input's {d} features of the "
                "decision boundary's plane."
            )
    if first == second:
        raise DataError(
            f"The decision boundary's plane needs two different features "
            f"(feature {first} was chosen twice)."
        )
    origin[[first, second]] = 0.0
    basis = np.zeros((2, d))
    basis[0, first] = basis[1, second] = 1.0

    def name(i: int) -> str:
        return str(names[i]) if i < len(names) else f"feature {i}"

    plane = Plane(
        origin, basis, shape, kind="features", labels=(name(first), name(second))
    )
    if points is not None and len(points):
        plane = plane.with_extent(plane_extent(plane.project(points)))
    return plane


def pca_plane(x: np.ndarray, max_rows: int = PCA_ROWS) -> Plane:
    """The plane through the data's mean along its two principal directions.

    Parameters
    ----------
    x : np.ndarray
        ``(n, *input_shape)`` data (as the network sees it), ``n >= 2``.
    max_rows : int
        At most this many rows, evenly spaced, are decomposed (the mean is that of
        all of them).

    Returns
    -------
    Plane
        Origin the mean; basis the first two right singular vectors of the centred
        rows, each signed so its largest entry is positive; the extent covers the
        data; the note gives each axis's share of the variance.

    Raises
    ------
    DataError
        With fewer than two samples or fewer than two input values.
    """
    n = len(x)
    shape = tuple(int(s) for s in np.shape(x)[1:])
    d = int(np.prod(shape, dtype=np.int64))
    if n < 2 or d < 2:
        raise DataError(
            f"A PCA plane needs at least two samples of two values each "
            f"({n} sample(s) of {d} value(s) given)."
        )
    # No float64 copy of all the data (Fashion-MNIST's would be 340 MB): the
    # mean is accumulated in float64, the decomposed rows are converted alone.
    flat = np.asarray(x).reshape(n, d)
    mean = flat.mean(axis=0, dtype=np.float64)
    if n > max_rows:
        flat = flat[np.linspace(0, n - 1, max_rows).astype(np.int64)]
    rows = flat.astype(np.float64)
    centred = rows - mean
    var, basis = _principal_directions(centred)
    for row in basis:
        if row[np.argmax(np.abs(row))] < 0:
            row *= -1.0
    share = var[:2] / var.sum() if var.sum() > 0 else np.zeros(2)
    plane = Plane(
        mean,
        basis,
        shape,
        kind="pca",
        labels=(f"PC 1 ({share[0]:.0%} of the variance)", f"PC 2 ({share[1]:.0%})"),
        note=(
            f"Principal components of {len(rows):,} training samples: "
            f"{share[0] + share[1]:.0%} of their variance."
        ),
    )
    return plane.with_extent(plane_extent(plane.project(rows)))


def _principal_directions(centred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Squared singular values ``(k,)`` of ``centred`` ``(m, d)``, largest first,
    and its first two right singular vectors ``(2, d)``.

    With at most ``PCA_ROWS`` input values the eigenvectors of the ``(d, d)``
    scatter matrix are the cheaper way (2,000 Fashion-MNIST rows: 0.1 s against
    0.43 s for the SVD on a quiet machine, 0.3-0.9 s against 2.3-3.3 s on a busy
    one; the GUI thread makes the plane); wider inputs take the thin SVD.
    """
    m, d = centred.shape
    if d <= PCA_ROWS:
        values, vectors = np.linalg.eigh(centred.T @ centred)
        order = np.argsort(values)[::-1]
        return np.clip(values[order], 0.0, None), vectors[:, order[:2]].T.copy()
    _, sing, vt = np.linalg.svd(centred, full_matrices=False)
    return sing**2, vt[:2].copy()


def three_point_plane(
    a: np.ndarray,
    b: np.ndarray,
    c: np.ndarray,
    names: Sequence[str] = ("A", "B", "C"),
    points: np.ndarray | None = None,
) -> Plane:
    """The plane through three inputs (three images).

    ``a`` is the origin; the first axis points from ``a`` to ``b`` (so ``b`` lies at
    ``(|b - a|, 0)``); the second is the part of ``c - a`` orthogonal to it (so
    ``c`` lies above the first axis). Distances on the plane are distances in the
    input space.

    Parameters
    ----------
    a, b, c : np.ndarray
        Three samples of the same shape.
    names : sequence of str
        What to call them in the axis labels.
    points : np.ndarray, optional
        ``(n, *input_shape)`` data whose projection, with the three, sets the extent.

    Raises
    ------
    DataError
        When two of them are the same or the three lie on one line.
    """
    shape = tuple(int(s) for s in np.shape(a))
    pa, pb, pc = (np.asarray(p, dtype=np.float64).reshape(-1) for p in (a, b, c))
    if not pa.shape == pb.shape == pc.shape:
        raise DataError(
            "The three points of a decision boundary's plane differ in shape."
        )
    u = pb - pa
    nu = float(np.linalg.norm(u))
    w = pc - pa
    scale = max(nu, float(np.linalg.norm(w)), 1e-300)
    if nu <= 1e-9 * scale or nu == 0.0:
        raise DataError(
            f"{names[0]} and {names[1]} are the same input: choose another for the "
            "decision boundary's plane."
        )
    u /= nu
    v = w - (w @ u) * u
    nv = float(np.linalg.norm(v))
    if nv <= 1e-9 * scale:
        raise DataError(
            f"{names[0]}, {names[1]} and {names[2]} lie on one line: choose another "
            "for the decision boundary's plane."
        )
    v /= nv
    basis = np.stack([u, v])
    anchors = np.array([[0.0, 0.0], [nu, 0.0], [float(w @ u), nv]])
    plane = Plane(
        pa,
        basis,
        shape,
        kind="points",
        labels=(f"from {names[0]} towards {names[1]}", f"towards {names[2]}"),
        anchors=anchors,
    )
    shown = (
        anchors
        if points is None or not len(points)
        else np.vstack([anchors, plane.project(points)])
    )
    return plane.with_extent(plane_extent(shown))
