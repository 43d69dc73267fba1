"""Seeded distributions for generative models (GANs) and the mode coverage of samples.

Four generators join ``GENERATORS`` at import, so specs (``ring-gaussians:modes=8``),
the command line and the Data panel's sliders know them like the other toy sets:

- ``ring-gaussians``: ``modes`` Gaussians (8) evenly spaced on the circle of radius
  ``RING_RADIUS``, the classic mode-collapse test;
- ``grid-gaussians``: a ``side`` x ``side`` grid (5 x 5) of Gaussians on
  ``[-GRID_HALF_WIDTH, GRID_HALF_WIDTH]^2``;
- ``swiss-roll``: the 2-D swiss roll (a spiral band), its target the position
  along the roll;
- ``mixture-1d``: ``modes`` Gaussians (3) evenly spaced on
  ``[-LINE_HALF_WIDTH, LINE_HALF_WIDTH]``, its target the mixture's density.

Every mode of a mixture holds the same number of samples (to within one) and the
mixture's ``noise`` is the standard deviation σ of each mode. Two moons
(``moons``) and painted points (``painted``) are GAN data as they are: a GAN
reads a dataset's features ``x`` only.

:func:`mixture_of` reads the modes of a mixture (these three, and ``blobs``) from
a dataset's spec; :meth:`Mixture.coverage` counts the modes a generator's samples
reach. A mode is **covered** when at least ``min_count`` samples lie within 3σ of
its centre (a sample counts for its nearest centre only). The default
``min_count`` is 20% of a mode's fair share of the samples, and never below 2, so
that a stray sample does not count: ``max(2, ceil(0.2 * n_samples / n_modes))``,
the rule of VEEGAN and PacGAN (20 of 2,500 samples over 25 modes).

Examples
--------
>>> from nndesk.io.datasets import generate
>>> data = generate("ring-gaussians", n=800, seed=0)
>>> mixture = mixture_of(data.source)
>>> mixture.n_modes, mixture.sigma
(8, 0.05)
>>> mixture.coverage(data.x).covered
8
>>> collapsed = np.repeat(mixture.centres[:1], 800, axis=0)
>>> mixture.coverage(collapsed)[:2]
(1, 8)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..errors import DatasetError
from .base import CLASSIFICATION, REGRESSION, Dataset
from .spec import parse_spec
from .toy import (
    GENERATORS,
    GeneratorSpec,
    ParamSpec,
    SeedLike,
    _check,
    _per_class,
    _rng,
    _source,
    blob_centres,
    register_generator,
)

__all__ = [
    "COVERAGE_RADIUS",
    "GRID_HALF_WIDTH",
    "LINE_HALF_WIDTH",
    "MIN_SHARE",
    "RING_RADIUS",
    "Mixture",
    "ModeCoverage",
    "grid_gaussians",
    "mixture_1d",
    "mixture_of",
    "mode_coverage",
    "ring_gaussians",
    "swiss_roll",
]

RING_RADIUS = 0.8
GRID_HALF_WIDTH = 0.8
LINE_HALF_WIDTH = 0.75
COVERAGE_RADIUS = 3.0
"""A sample within this many σ of a mode's centre counts for that mode."""
MIN_SHARE = 0.2
"""A covered mode holds at least this share of its fair part (n_samples / n_modes)."""
_MIN_COUNT_FLOOR = 2  # one stray sample never covers a mode
_SWISS_START = 1.5 * np.pi  # the roll's inner end, as in scikit-learn's make_swiss_roll
_CHUNK = 1 << 16  # samples per distance block in coverage (k distances each)


# --- modes and coverage ---------------------------------------------------------------
class ModeCoverage(NamedTuple):
    """How many modes of a mixture a set of samples reaches.

    Attributes
    ----------
    covered : int
        Modes holding at least the minimum count of samples within 3σ.
    total : int
        Modes of the mixture.
    counts : np.ndarray
        int64 ``(total,)``: samples within 3σ of each mode (nearest centre only).
    """

    covered: int
    total: int
    counts: np.ndarray


@dataclass(frozen=True, eq=False)
class Mixture:
    """The modes of a Gaussian mixture: centres and one standard deviation.

    Parameters
    ----------
    name : str
        The generator it describes (for messages).
    centres : np.ndarray
        ``(k, d)`` mode centres, stored as read-only float64.
    sigma : float
        The standard deviation of every mode (> 0), in the units of the data.
    """

    name: str
    centres: np.ndarray
    sigma: float

    def __post_init__(self) -> None:
        centres = np.array(self.centres, dtype=np.float64)
        if centres.ndim != 2 or not len(centres) or not np.isfinite(centres).all():
            raise DatasetError(
                f"Mixture '{self.name}' needs finite centres of shape (modes, "
                f"coordinates), got shape {centres.shape}."
            )
        if not (math.isfinite(self.sigma) and self.sigma > 0):
            raise DatasetError(
                f"Mixture '{self.name}' needs a standard deviation > 0, got "
                f"{self.sigma}."
            )
        centres.setflags(write=False)
        object.__setattr__(self, "centres", centres)
        object.__setattr__(self, "_centre_norms", (centres**2).sum(axis=1)[None, :])
        object.__setattr__(self, "sigma", float(self.sigma))

    @property
    def n_modes(self) -> int:
        """Number of modes ``k``."""
        return int(self.centres.shape[0])

    @property
    def dim(self) -> int:
        """Coordinates of a point ``d`` (1 or 2)."""
        return int(self.centres.shape[1])

    def min_count(self, n_samples: int) -> int:
        """Samples a mode needs within 3σ to count as covered, for ``n_samples``.

        ``max(2, ceil(MIN_SHARE * n_samples / n_modes))``: a fifth of the mode's
        fair share, so a stray sample (or a few) does not cover a mode.
        """
        share = MIN_SHARE * max(int(n_samples), 0) / self.n_modes
        return max(_MIN_COUNT_FLOOR, math.ceil(share - 1e-9))

    def assign(self, samples: np.ndarray) -> np.ndarray:
        """The mode each sample counts for: its nearest centre, or -1 beyond 3σ.

        Parameters
        ----------
        samples : np.ndarray
            ``(n, d)`` points (``(n,)`` for a 1-D mixture), any float dtype. A
            non-finite sample (a diverged generator) counts for no mode.

        Returns
        -------
        np.ndarray
            int64 ``(n,)`` mode indices in ``[-1, n_modes)``.

        Raises
        ------
        DatasetError
            When the samples' shape does not fit the mixture's points.
        """
        x = self._points(samples)
        out = np.full(len(x), -1, dtype=np.int64)
        reach = (COVERAGE_RADIUS * self.sigma) ** 2
        for start in range(0, len(x), _CHUNK):
            block = x[start : start + _CHUNK]
            # |x - c|^2 by one product: 10x faster than broadcasting differences.
            d2 = (block**2).sum(axis=1)[:, None] - 2.0 * block @ self.centres.T
            d2 += self._centre_norms
            # A NaN/Inf sample has NaN distances: argmin picks one, "<=" refuses it.
            nearest = np.argmin(d2, axis=1)
            near = d2[np.arange(len(block)), nearest] <= reach
            out[start : start + len(block)] = np.where(near, nearest, -1)
        return out

    def coverage(
        self, samples: np.ndarray, min_count: int | None = None
    ) -> ModeCoverage:
        """How many modes ``samples`` cover (see the module docstring).

        Parameters
        ----------
        samples : np.ndarray
            ``(n, d)`` generated points (``(n,)`` for a 1-D mixture).
        min_count : int, optional
            Samples a mode needs within 3σ; default :meth:`min_count` of ``n``.

        Returns
        -------
        ModeCoverage
            ``(covered, total, counts)``.

        Raises
        ------
        DatasetError
            For samples of the wrong shape or a ``min_count`` below 1.
        """
        modes = self.assign(samples)
        need = self.min_count(len(modes)) if min_count is None else min_count
        if (
            isinstance(need, bool)
            or not isinstance(need, (int, np.integer))
            or need < 1
        ):
            raise DatasetError(
                f"The minimum count of mode coverage must be a whole number >= 1, "
                f"got {min_count!r}."
            )
        counts = np.bincount(modes[modes >= 0], minlength=self.n_modes)
        counts = counts.astype(np.int64)
        return ModeCoverage(int((counts >= need).sum()), self.n_modes, counts)

    def _points(self, samples: np.ndarray) -> np.ndarray:
        x = np.asarray(samples)
        if x.ndim == 1 and self.dim == 1:
            x = x[:, None]
        if (
            x.ndim != 2
            or x.shape[1] != self.dim
            or not np.issubdtype(x.dtype, np.number)
        ):
            raise DatasetError(
                f"Samples of shape {x.shape} cannot be matched to the modes of "
                f"'{self.name}', whose points have {self.dim} coordinate(s)."
            )
        return x.astype(np.float64, copy=False)


def mode_coverage(
    samples: np.ndarray, mixture: Mixture, min_count: int | None = None
) -> ModeCoverage:
    """``mixture.coverage(samples, min_count)``: see :meth:`Mixture.coverage`."""
    return mixture.coverage(samples, min_count)


def mixture_of(spec: str) -> Mixture | None:
    """The modes of the mixture a dataset spec names, or None for any other data.

    Parameters
    ----------
    spec : str
        A dataset spec or ``Dataset.source`` (``ring-gaussians:n=1000,noise=0.05,
        modes=8,seed=0``); missing options take their defaults.

    Returns
    -------
    Mixture or None
        For ``ring-gaussians``, ``grid-gaussians``, ``mixture-1d`` and ``blobs``
        with noise > 0; None for every other spec (files, ``painted``, ``moons``,
        a spec that does not parse, "").

    Raises
    ------
    DatasetError
        When a mixture's option is invalid (the message names it).
    """
    if not isinstance(spec, str) or not spec.strip():
        return None
    try:
        head, options = parse_spec(spec)
    except DatasetError:
        return None
    centres_of = _CENTRES.get(head)
    if centres_of is None:
        return None
    generator = GENERATORS[head]
    where = f"generator '{head}'"
    values = generator.defaults()
    for key, text in options.items():
        if key != "seed":
            values[key] = generator.param(key).convert(text, where)
    sigma = float(values["noise"])
    if sigma <= 0:
        return None  # blobs without noise: points, not Gaussians
    return Mixture(head, centres_of(values), sigma)


# --- centres ---------------------------------------------------------------------------
def _ring_centres(modes: int) -> np.ndarray:
    angle = 2 * np.pi * np.arange(modes) / modes
    return RING_RADIUS * np.stack([np.cos(angle), np.sin(angle)], axis=1)


def _grid_centres(side: int) -> np.ndarray:
    ticks = np.linspace(-GRID_HALF_WIDTH, GRID_HALF_WIDTH, side)
    gx, gy = np.meshgrid(ticks, ticks)  # row by row from the bottom, x fastest
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def _line_centres(modes: int) -> np.ndarray:
    if modes == 1:
        return np.zeros((1, 1))
    return np.linspace(-LINE_HALF_WIDTH, LINE_HALF_WIDTH, modes)[:, None]


_CENTRES: dict[str, Callable[[Mapping[str, int | float]], np.ndarray]] = {
    "ring-gaussians": lambda o: _ring_centres(int(o["modes"])),
    "grid-gaussians": lambda o: _grid_centres(int(o["side"])),
    "mixture-1d": lambda o: _line_centres(int(o["modes"])),
    "blobs": lambda o: blob_centres(int(o["centers"])),
}


def _mixture_points(
    centres: np.ndarray, o: Mapping[str, int | float], seed: SeedLike
) -> tuple[np.ndarray, np.ndarray]:
    """Float64 points ``(n, d)`` balanced over the modes and shuffled, and their
    int64 mode labels ``(n,)``."""
    rng = _rng(seed)
    k, d = centres.shape
    labels = np.repeat(np.arange(k, dtype=np.int64), _per_class(int(o["n"]), k))
    x = centres[labels] + rng.normal(0.0, float(o["noise"]), size=(len(labels), d))
    order = rng.permutation(len(labels))
    return x[order], labels[order]


def _mixture_2d(
    name: str, centres: np.ndarray, o: Mapping[str, int | float], seed: SeedLike
) -> Dataset:
    x, labels = _mixture_points(centres, o, seed)
    return Dataset(
        x=x.astype(np.float32),
        y=labels,
        task=CLASSIFICATION,
        class_names=[f"mode {i + 1}" for i in range(len(centres))],
        feature_names=["x1", "x2"],
        name=name,
        source=_source(name, seed, **o),
        notes=_overlap_note(name, centres, float(o["noise"])),
    )


def _overlap_note(name: str, centres: np.ndarray, sigma: float) -> list[str]:
    """A remark when two modes' 3σ discs overlap (coverage then splits them)."""
    if len(centres) < 2:
        return []
    gaps = np.sqrt(((centres[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2))
    closest = float(gaps[~np.eye(len(centres), dtype=bool)].min())
    if 2 * COVERAGE_RADIUS * sigma <= closest:
        return []
    return [
        f"The modes of '{name}' overlap within 3σ (σ = {sigma:g}, neighbouring centres "
        f"{closest:.3g} apart), so mode coverage gives each sample to its nearest "
        "centre."
    ]


# --- generators ---------------------------------------------------------------------
def ring_gaussians(
    n: int = 1000, noise: float = 0.05, modes: int = 8, seed: SeedLike = 0
) -> Dataset:
    """``modes`` Gaussians evenly spaced on the circle of radius ``RING_RADIUS``.

    Mode ``i`` is centred at angle ``2*pi*i/modes``; its samples are the centre
    plus Gaussian noise of standard deviation ``noise`` (σ). Labels are the modes.

    Returns
    -------
    Dataset
        ``x`` float32 ``(n, 2)``; ``y`` int64 ``(n,)`` mode index in ``[0, modes)``.
    """
    o = _check("ring-gaussians", n=n, noise=noise, modes=modes)
    return _mixture_2d("ring-gaussians", _ring_centres(int(o["modes"])), o, seed)


def grid_gaussians(
    n: int = 1000, noise: float = 0.04, side: int = 5, seed: SeedLike = 0
) -> Dataset:
    """A ``side`` x ``side`` grid of Gaussians on ``[-0.8, 0.8]^2``.

    Mode ``r * side + c`` sits in row ``r`` (from the bottom) and column ``c``
    (from the left); each has standard deviation ``noise`` (σ).

    Returns
    -------
    Dataset
        ``x`` float32 ``(n, 2)``; ``y`` int64 ``(n,)`` in ``[0, side**2)``.
    """
    o = _check("grid-gaussians", n=n, noise=noise, side=side)
    return _mixture_2d("grid-gaussians", _grid_centres(int(o["side"])), o, seed)


def mixture_1d(
    n: int = 1000, noise: float = 0.08, modes: int = 3, seed: SeedLike = 0
) -> Dataset:
    """``modes`` Gaussians evenly spaced on ``[-0.75, 0.75]`` (one mode: at 0).

    The target is the mixture's probability density at each sample, so a plot of
    ``x`` against ``y`` draws the distribution a generator should learn.

    Returns
    -------
    Dataset
        ``x`` float32 ``(n, 1)``; ``y`` float32 ``(n, 1)``, the density at ``x``.
    """
    o = _check("mixture-1d", n=n, noise=noise, modes=modes)
    centres = _line_centres(int(o["modes"]))
    x, _ = _mixture_points(centres, o, seed)
    sigma = float(o["noise"])
    z = (x - centres[:, 0][None, :]) / sigma  # (n, modes)
    density = np.exp(-0.5 * z**2).mean(axis=1) / (sigma * math.sqrt(2 * math.pi))
    return Dataset(
        x=x.astype(np.float32),
        y=density[:, None].astype(np.float32),
        task=REGRESSION,
        feature_names=["x"],
        name="mixture-1d",
        source=_source("mixture-1d", seed, **o),
        notes=_overlap_note("mixture-1d", centres, sigma),
    )


def swiss_roll(
    n: int = 1000, noise: float = 0.02, turns: float = 1.5, seed: SeedLike = 0
) -> Dataset:
    """The 2-D swiss roll: ``t * (cos t, sin t)`` scaled into the unit disc.

    ``t = 1.5*pi + 2*pi*turns*u`` for ``u`` uniform in [0, 1] (scikit-learn's
    ``make_swiss_roll`` with ``turns=1.5``), divided by the largest ``t`` so the
    roll ends on the unit circle. The target is ``u``, the position along the roll.

    Returns
    -------
    Dataset
        ``x`` float32 ``(n, 2)`` within about [-1, 1]^2; ``y`` float32 ``(n, 1)``
        in [0, 1].
    """
    o = _check("swiss-roll", n=n, noise=noise, turns=turns)
    rng = _rng(seed)
    u = rng.uniform(0.0, 1.0, size=int(o["n"]))
    t = _SWISS_START + 2 * np.pi * float(o["turns"]) * u
    t_max = _SWISS_START + 2 * np.pi * float(o["turns"])
    x = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / t_max
    x = x + rng.normal(0.0, float(o["noise"]), size=x.shape)
    return Dataset(
        x=x.astype(np.float32),
        y=u[:, None].astype(np.float32),
        task=REGRESSION,
        feature_names=["x1", "x2"],
        name="swiss-roll",
        source=_source("swiss-roll", seed, **o),
    )


# --- registry ------------------------------------------------------------------------
def _n() -> ParamSpec:
    return ParamSpec("n", "int", 1000, 2, 10_000_000, "Number of samples.")


def _sigma(default: float) -> ParamSpec:
    return ParamSpec(
        "noise",
        "float",
        default,
        0.001,
        1.0,
        "Standard deviation σ of each mode; coverage counts samples within 3σ.",
    )


for _spec in (
    GeneratorSpec(
        "ring-gaussians",
        CLASSIFICATION,
        "A ring of Gaussians, one class per mode (GAN data).",
        (
            _n(),
            _sigma(0.05),
            ParamSpec("modes", "int", 8, 2, 64, "Number of Gaussians on the ring."),
        ),
        ring_gaussians,
    ),
    GeneratorSpec(
        "grid-gaussians",
        CLASSIFICATION,
        "A square grid of Gaussians, one class per mode (GAN data).",
        (
            _n(),
            _sigma(0.04),
            ParamSpec("side", "int", 5, 2, 10, "Gaussians per side of the grid."),
        ),
        grid_gaussians,
    ),
    GeneratorSpec(
        "swiss-roll",
        REGRESSION,
        "A 2-D swiss roll; the target is the position along it (GAN data).",
        (
            _n(),
            ParamSpec(
                "noise",
                "float",
                0.02,
                0.0,
                1.0,
                "Std of Gaussian noise on each coordinate.",
            ),
            ParamSpec("turns", "float", 1.5, 0.25, 5.0, "Turns of the roll."),
        ),
        swiss_roll,
    ),
    GeneratorSpec(
        "mixture-1d",
        REGRESSION,
        "Gaussians on a line; the target is their density (1-D GAN data).",
        (
            _n(),
            _sigma(0.08),
            ParamSpec("modes", "int", 3, 1, 10, "Number of Gaussians on the line."),
        ),
        mixture_1d,
    ),
):
    register_generator(_spec)
