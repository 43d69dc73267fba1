"""Seeded toy dataset generators (spirals, circles, moons, xor, ...) and their registry.

Every generator takes ``n`` (total samples), ``noise`` (standard deviation of
Gaussian noise added to the features, in the units of the features) and ``seed``
(an int or an ``np.random.Generator``) and returns a :class:`Dataset` with float32
features. The 2-D sets lie roughly in [-1, 1]^2 so a network needs no scaling.
The same int seed gives identical arrays. Samples come shuffled.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DatasetError
from .base import CLASSIFICATION, REGRESSION, Dataset

__all__ = [
    "GENERATORS",
    "GeneratorSpec",
    "ParamSpec",
    "blob_centres",
    "blobs",
    "checkerboard",
    "circles",
    "generate",
    "moons",
    "plane",
    "register_generator",
    "sine",
    "spiral",
    "spirals",
    "xor",
]

SeedLike = int | np.random.Generator

# Coefficients of the "plane" regression set: y = w . x + b (+ noise).
PLANE_WEIGHTS = (0.6, -0.4)
PLANE_BIAS = 0.1
MOONS_RADIUS = 2.0 / 3.0


@dataclass(frozen=True)
class ParamSpec:
    """One generator option: name, type, default, allowed range and help text.

    ``kind`` is ``"int"`` or ``"float"``; ``minimum``/``maximum`` are inclusive
    bounds (None = unbounded), enough for a GUI to build a spin box.
    """

    name: str
    kind: str
    default: int | float
    minimum: int | float | None
    maximum: int | float | None
    help: str

    def convert(self, value: Any, where: str) -> int | float:
        """Parse/convert ``value`` (a string from a spec or a number) and check range.

        Raises
        ------
        DatasetError
            Naming the option and ``where`` it came from.
        """
        try:
            if self.kind == "int":
                number: int | float = _to_int(value)
            else:
                number = float(value)
        except (TypeError, ValueError):
            noun = "a whole number" if self.kind == "int" else "a number"
            raise DatasetError(
                f"Option '{self.name}' in {where} must be {noun}, got {value!r}."
            ) from None
        if not math.isfinite(number):
            raise DatasetError(
                f"Option '{self.name}' in {where} must be finite, got {value!r}."
            )
        low_ok = self.minimum is None or number >= self.minimum
        high_ok = self.maximum is None or number <= self.maximum
        if not (low_ok and high_ok):
            raise DatasetError(
                f"Option '{self.name}' in {where} is {number}, outside "
                f"{_range_text(self)}."
            )
        return number


@dataclass(frozen=True)
class GeneratorSpec:
    """A registered generator: name, task, description, options and function."""

    name: str
    task: str
    description: str
    params: tuple[ParamSpec, ...]
    function: Callable[..., Dataset]

    def param(self, name: str) -> ParamSpec:
        """The option called ``name``; DatasetError listing the valid ones otherwise."""
        for p in self.params:
            if p.name == name:
                return p
        valid = ", ".join(p.name for p in self.params)
        raise DatasetError(
            f"Generator '{self.name}' has no option '{name}'; valid options are "
            f"{valid}, seed."
        )

    def defaults(self) -> dict[str, int | float]:
        """Default value of every option (seed excluded)."""
        return {p.name: p.default for p in self.params}


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("bool is not an int option")
    if isinstance(value, (int, np.integer)):
        return int(value)
    number = float(value)
    if not number.is_integer():
        raise ValueError("not a whole number")
    return int(number)


def _range_text(p: ParamSpec) -> str:
    if p.maximum is None:
        return f">= {p.minimum}"
    if p.minimum is None:
        return f"<= {p.maximum}"
    return f"{p.minimum}..{p.maximum}"


def _rng(seed: SeedLike) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (bool, float)) or not isinstance(seed, (int, np.integer)):
        raise DatasetError(
            f"A generator seed must be an int or a numpy Generator, got {seed!r}."
        )
    if seed < 0:
        raise DatasetError(f"A generator seed must be >= 0, got {seed}.")
    return np.random.default_rng(int(seed))


def _source(name: str, seed: SeedLike, **options: int | float) -> str:
    """The spec string that recreates a generated set (only with an int seed)."""
    parts = [f"{k}={v}" for k, v in options.items()]
    if not isinstance(seed, np.random.Generator):
        parts.append(f"seed={int(seed)}")
    return f"{name}:{','.join(parts)}"


def _per_class(n: int, k: int) -> np.ndarray:
    """Split ``n`` samples over ``k`` classes as evenly as possible (first get more)."""
    counts = np.full(k, n // k, dtype=np.int64)
    counts[: n % k] += 1
    return counts


def _finish(
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    rng: np.random.Generator,
    noise: float,
    source: str,
    task: str = CLASSIFICATION,
    class_names: list[str] | None = None,
) -> Dataset:
    """Add feature noise, shuffle and wrap in a Dataset."""
    x = np.asarray(x, dtype=np.float64)
    if noise > 0:
        x = x + rng.normal(0.0, noise, size=x.shape)
    order = rng.permutation(len(x))
    feature_names = [f"x{i + 1}" for i in range(x.shape[1])]
    return Dataset(
        x=x[order].astype(np.float32),
        y=y[order],
        task=task,
        class_names=class_names,
        feature_names=feature_names,
        name=name,
        source=source,
    )


def _check(name: str, **values: int | float) -> dict[str, int | float]:
    """Validate direct-call arguments against the registry (same rules as specs)."""
    spec = GENERATORS[name]
    return {
        k: spec.param(k).convert(v, f"generator '{name}'") for k, v in values.items()
    }


# --- classification generators ---------------------------------------------------
def _spiral_arms(counts: np.ndarray, turns: float) -> tuple[np.ndarray, np.ndarray]:
    """Points on ``len(counts)`` interleaved spiral arms, radius 0 → 1."""
    k = len(counts)
    xs, ys = [], []
    for c, m in enumerate(counts):
        # Radius grows linearly along each arm; arms are rotated 2*pi/k apart.
        r = (np.arange(m) + 0.5) / max(int(m), 1)
        t = 2 * np.pi * (turns * r + c / k)
        xs.append(np.stack([r * np.cos(t), r * np.sin(t)], axis=1))
        ys.append(np.full(m, c, dtype=np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def spiral(
    n: int = 500, noise: float = 0.05, turns: float = 1.0, seed: SeedLike = 0
) -> Dataset:
    """Two interleaved spirals, two classes (the TensorFlow Playground kind).

    Parameters
    ----------
    n : int
        Total samples, split evenly between the two classes.
    noise : float
        Standard deviation of Gaussian noise on each coordinate.
    turns : float
        How many turns each arm makes from the centre to radius 1.
    seed : int or np.random.Generator

    Returns
    -------
    Dataset
        ``x`` float32 ``(n, 2)`` within about [-1, 1]^2; ``y`` int64 ``(n,)``.
    """
    o = _check("spiral", n=n, noise=noise, turns=turns)
    rng = _rng(seed)
    x, y = _spiral_arms(_per_class(int(o["n"]), 2), float(o["turns"]))
    src = _source("spiral", seed, **o)
    return _finish("spiral", x, y, rng, float(o["noise"]), src)


def spirals(
    n: int = 600,
    classes: int = 3,
    noise: float = 0.05,
    turns: float = 1.0,
    seed: SeedLike = 0,
) -> Dataset:
    """``classes`` interleaved spiral arms, one class per arm (the CS231n kind).

    Returns
    -------
    Dataset
        ``x`` float32 ``(n, 2)``; ``y`` int64 ``(n,)`` in ``[0, classes)``.
    """
    o = _check("spirals", n=n, classes=classes, noise=noise, turns=turns)
    rng = _rng(seed)
    x, y = _spiral_arms(_per_class(int(o["n"]), int(o["classes"])), float(o["turns"]))
    return _finish(
        "spirals", x, y, rng, float(o["noise"]), _source("spirals", seed, **o)
    )


def circles(
    n: int = 500, noise: float = 0.05, factor: float = 0.5, seed: SeedLike = 0
) -> Dataset:
    """A disc of class 1 inside a ring of class 0.

    Class 0 lies on the circle of radius 1, class 1 on the circle of radius
    ``factor`` (before noise), at uniformly random angles.

    Returns
    -------
    Dataset
        ``x`` float32 ``(n, 2)``; ``y`` int64 ``(n,)``.
    """
    o = _check("circles", n=n, noise=noise, factor=factor)
    rng = _rng(seed)
    counts = _per_class(int(o["n"]), 2)
    radius = np.repeat([1.0, float(o["factor"])], counts)
    t = rng.uniform(0.0, 2 * np.pi, size=len(radius))
    x = np.stack([radius * np.cos(t), radius * np.sin(t)], axis=1)
    y = np.repeat(np.arange(2, dtype=np.int64), counts)
    return _finish(
        "circles", x, y, rng, float(o["noise"]), _source("circles", seed, **o)
    )


def moons(n: int = 500, noise: float = 0.05, seed: SeedLike = 0) -> Dataset:
    """Two interleaving half circles.

    Before noise, class 0 lies on ``r * (cos t - 0.5, sin t - 0.25)`` and class 1
    on ``r * (0.5 - cos t, 0.25 - sin t)`` for ``t`` in [0, pi], with ``r = 2/3``
    so the set spans [-1, 1] x [-0.5, 0.5].

    Returns
    -------
    Dataset
        ``x`` float32 ``(n, 2)``; ``y`` int64 ``(n,)``.
    """
    o = _check("moons", n=n, noise=noise)
    rng = _rng(seed)
    counts = _per_class(int(o["n"]), 2)
    t = np.concatenate([np.linspace(0.0, np.pi, int(m)) for m in counts])
    sign = np.repeat([1.0, -1.0], counts)
    x = MOONS_RADIUS * np.stack(
        [sign * (np.cos(t) - 0.5), sign * (np.sin(t) - 0.25)], axis=1
    )
    y = np.repeat(np.arange(2, dtype=np.int64), counts)
    return _finish("moons", x, y, rng, float(o["noise"]), _source("moons", seed, **o))


def xor(
    n: int = 500, noise: float = 0.05, padding: float = 0.1, seed: SeedLike = 0
) -> Dataset:
    """The XOR pattern: class 1 where ``x1 * x2 > 0``, class 0 elsewhere.

    Points are uniform in [-1, 1]^2 but at least ``padding`` away from both axes
    (before noise), half in each class.

    Returns
    -------
    Dataset
        ``x`` float32 ``(n, 2)``; ``y`` int64 ``(n,)``.
    """
    o = _check("xor", n=n, noise=noise, padding=padding)
    rng = _rng(seed)
    counts = _per_class(int(o["n"]), 2)
    pad = float(o["padding"])
    mag = rng.uniform(pad, 1.0, size=(int(o["n"]), 2))
    y = np.repeat(np.arange(2, dtype=np.int64), counts)
    s1 = rng.choice([-1.0, 1.0], size=len(y))
    # Class 1 has equal signs (quadrants I and III), class 0 opposite signs.
    s2 = np.where(y == 1, s1, -s1)
    x = mag * np.stack([s1, s2], axis=1)
    return _finish("xor", x, y, rng, float(o["noise"]), _source("xor", seed, **o))


def blob_centres(k: int) -> np.ndarray:
    """The ``(k, 2)`` centres of ``blobs``: angle ``2*pi*c/k`` on the circle of
    radius 0.7 (mode coverage reads them too, ``generative.mixture_of``)."""
    angle = 2 * np.pi * np.arange(k) / k
    return 0.7 * np.stack([np.cos(angle), np.sin(angle)], axis=1)


def blobs(
    n: int = 500, centers: int = 3, noise: float = 0.15, seed: SeedLike = 0
) -> Dataset:
    """``centers`` Gaussian blobs, one class each.

    Centre ``c`` sits at angle ``2*pi*c/centers`` on the circle of radius 0.7; each
    point is its centre plus Gaussian noise of standard deviation ``noise``.

    Returns
    -------
    Dataset
        ``x`` float32 ``(n, 2)``; ``y`` int64 ``(n,)`` in ``[0, centers)``.
    """
    o = _check("blobs", n=n, centers=centers, noise=noise)
    rng = _rng(seed)
    k = int(o["centers"])
    counts = _per_class(int(o["n"]), k)
    centre = blob_centres(k)
    y = np.repeat(np.arange(k, dtype=np.int64), counts)
    return _finish(
        "blobs", centre[y], y, rng, float(o["noise"]), _source("blobs", seed, **o)
    )


def checkerboard(
    n: int = 1000, cells: int = 4, noise: float = 0.0, seed: SeedLike = 0
) -> Dataset:
    """A ``cells`` x ``cells`` checkerboard on [-1, 1]^2, alternate squares per class.

    Class 1 holds the squares whose row + column index is odd. Points are uniform
    within squares of their class, half per class.

    Returns
    -------
    Dataset
        ``x`` float32 ``(n, 2)``; ``y`` int64 ``(n,)``.
    """
    o = _check("checkerboard", n=n, cells=cells, noise=noise)
    rng = _rng(seed)
    k = int(o["cells"])
    y = np.repeat(np.arange(2, dtype=np.int64), _per_class(int(o["n"]), 2))
    row = rng.integers(0, k, size=len(y))
    # A uniform column of the right parity, (row + col) % 2 == class: columns
    # first, first + 2, ... < k, of which there are (k - first + 1) // 2.
    first = (row + y) % 2
    col = first + 2 * rng.integers(0, (k - first + 1) // 2)
    inside = rng.uniform(0.0, 1.0, size=(len(y), 2))
    x = -1.0 + 2.0 * (np.stack([col, row], axis=1) + inside) / k
    src = _source("checkerboard", seed, **o)
    return _finish("checkerboard", x, y, rng, float(o["noise"]), src)


# --- regression generators ----------------------------------------------------------
def sine(n: int = 300, noise: float = 0.05, seed: SeedLike = 0) -> Dataset:
    """1-D regression: ``y = sin(x) + noise`` with ``x`` uniform in [-pi, pi].

    Here ``noise`` is added to the target, not the feature.

    Returns
    -------
    Dataset
        ``x`` float32 ``(n, 1)``; ``y`` float32 ``(n, 1)``.
    """
    o = _check("sine", n=n, noise=noise)
    rng = _rng(seed)
    x = rng.uniform(-np.pi, np.pi, size=(int(o["n"]), 1))
    y = np.sin(x) + rng.normal(0.0, float(o["noise"]), size=x.shape)
    return _finish("sine", x, y, rng, 0.0, _source("sine", seed, **o), task=REGRESSION)


def plane(n: int = 300, noise: float = 0.05, seed: SeedLike = 0) -> Dataset:
    """2-D regression: ``y = 0.6*x1 - 0.4*x2 + 0.1 + noise``, ``x`` uniform in [-1, 1]^2.

    The coefficients are ``PLANE_WEIGHTS`` and ``PLANE_BIAS``; ``noise`` goes to
    the target.

    Returns
    -------
    Dataset
        ``x`` float32 ``(n, 2)``; ``y`` float32 ``(n, 1)``.
    """
    o = _check("plane", n=n, noise=noise)
    rng = _rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(int(o["n"]), 2))
    y = x @ np.array(PLANE_WEIGHTS)[:, None] + PLANE_BIAS
    y = y + rng.normal(0.0, float(o["noise"]), size=y.shape)
    return _finish(
        "plane", x, y, rng, 0.0, _source("plane", seed, **o), task=REGRESSION
    )


# --- registry ------------------------------------------------------------------------
def _n(default: int) -> ParamSpec:
    return ParamSpec("n", "int", default, 2, 10_000_000, "Number of samples.")


def _noise(default: float, what: str = "each coordinate") -> ParamSpec:
    return ParamSpec(
        "noise", "float", default, 0.0, 10.0, f"Std of Gaussian noise on {what}."
    )


_TURNS = ParamSpec("turns", "float", 1.0, 0.1, 10.0, "Turns of each spiral arm.")

GENERATORS: dict[str, GeneratorSpec] = {
    g.name: g
    for g in (
        GeneratorSpec(
            "spiral",
            CLASSIFICATION,
            "Two interleaved spirals (2 classes).",
            (_n(500), _noise(0.05), _TURNS),
            spiral,
        ),
        GeneratorSpec(
            "spirals",
            CLASSIFICATION,
            "Several interleaved spiral arms, one class each.",
            (
                _n(600),
                ParamSpec("classes", "int", 3, 2, 20, "Number of arms (classes)."),
                _noise(0.05),
                _TURNS,
            ),
            spirals,
        ),
        GeneratorSpec(
            "circles",
            CLASSIFICATION,
            "A small circle inside a large one (2 classes).",
            (
                _n(500),
                _noise(0.05),
                ParamSpec(
                    "factor", "float", 0.5, 0.0, 0.99, "Inner/outer radius ratio."
                ),
            ),
            circles,
        ),
        GeneratorSpec(
            "moons",
            CLASSIFICATION,
            "Two interleaving half circles (2 classes).",
            (_n(500), _noise(0.05)),
            moons,
        ),
        GeneratorSpec(
            "xor",
            CLASSIFICATION,
            "XOR quadrants (2 classes).",
            (
                _n(500),
                _noise(0.05),
                ParamSpec(
                    "padding", "float", 0.1, 0.0, 0.9, "Gap kept around the axes."
                ),
            ),
            xor,
        ),
        GeneratorSpec(
            "blobs",
            CLASSIFICATION,
            "Gaussian blobs on a circle, one class each.",
            (
                _n(500),
                ParamSpec("centers", "int", 3, 2, 20, "Number of blobs (classes)."),
                _noise(0.15, "each point around its centre"),
            ),
            blobs,
        ),
        GeneratorSpec(
            "checkerboard",
            CLASSIFICATION,
            "Alternating squares (2 classes).",
            (
                _n(1000),
                ParamSpec("cells", "int", 4, 2, 32, "Squares per side."),
                _noise(0.0),
            ),
            checkerboard,
        ),
        GeneratorSpec(
            "sine",
            REGRESSION,
            "y = sin(x) on [-pi, pi] (1 input, 1 target).",
            (_n(300), _noise(0.05, "the target")),
            sine,
        ),
        GeneratorSpec(
            "plane",
            REGRESSION,
            "y = 0.6 x1 - 0.4 x2 + 0.1 (2 inputs, 1 target).",
            (_n(300), _noise(0.05, "the target")),
            plane,
        ),
    )
}


def register_generator(spec: GeneratorSpec) -> GeneratorSpec:
    """Add ``spec`` to ``GENERATORS``, where specs, the CLI and the Data panel find it.

    A module of generators (``sequences``) registers each of its own at import;
    the package imports every such module, so a new one joins by itself.

    Raises
    ------
    DatasetError
        When a generator of that name is registered already.
    """
    if spec.name in GENERATORS:
        raise DatasetError(f"A generator named '{spec.name}' is registered already.")
    GENERATORS[spec.name] = spec
    return spec


def generate(name: str, seed: SeedLike = 0, **options: Any) -> Dataset:
    """Run the generator called ``name`` with ``options`` (values may be strings).

    Raises
    ------
    DatasetError
        For an unknown generator or option (listing the valid ones) or a bad value.
    """
    spec = GENERATORS.get(name)
    if spec is None:
        raise DatasetError(
            f"Unknown generator '{name}'; valid generators are {', '.join(GENERATORS)}."
        )
    where = f"generator '{name}'"
    values = {k: spec.param(k).convert(v, where) for k, v in options.items()}
    return spec.function(seed=seed, **values)
