"""What the live GAN views show, in NumPy only: GAN Lab's layered picture for 2-D
data, sample grids and an interpolation strip for images, histograms and D(x) for
1-D data.

The worker thread calls ``GanProber.probe`` between two training steps, on the
networks it trains, and sends the result (fresh arrays, never views of a model's
buffers) to the GUI thread. The networks are reached through the small ``GanNets``
interface (``GanTrainer`` of ``nndesk.training.gan`` through ``TrainerNets``):
draw samples from noise, score samples with the discriminator, and the gradient
of the generator's loss with respect to each generated sample.

The pictures
------------
- **2-D data** (``PlanePicture``): the real samples, the generated ones, the
  discriminator's output over a regular grid of the data plane (the heatmap), the
  generator's image of a regular grid of noise (the deformed mesh), and for each
  generated sample the direction the generator's loss pushes it (the arrows).
  With 2-D noise the mesh is the image of the whole noise square; with more noise
  dimensions it is the image of a **2-D slice**: noise dimensions ``dims`` (the
  first two by default) run over the grid, every other one is held at the noise
  distribution's centre (0). Only for 2-D noise does the mesh show every sample
  the generator can make.
- **Images** (``ImagePicture``): a grid of samples from fixed noise (the same
  vectors each time, so the grid shows the generator changing, not the noise) and
  a strip between two fixed noise vectors (spherical interpolation for normal
  noise, whose samples lie near a sphere; straight for uniform noise).
- **1-D data** (``LinePicture``): histograms of real and generated values on
  shared bins (as densities) and the discriminator's output as a curve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from .gan import GanTrainer

__all__ = [
    "GRID",
    "MESH",
    "NOISE_SPAN",
    "GanNets",
    "GanPicture",
    "GanProber",
    "ImagePicture",
    "LinePicture",
    "PlanePicture",
    "TrainerNets",
    "data_kind",
    "frame",
    "image_picture",
    "interpolate_noise",
    "line_picture",
    "noise_grid",
    "plane_picture",
    "tile_images",
]

GRID = 48
"""Cells per side of the discriminator's heatmap."""
MESH = 15
"""Lines per side of the generator's mesh."""
NOISE_SPAN = {"normal": 2.0, "uniform": 1.0}
"""Half-width of the noise square the mesh covers: two standard deviations of
normal noise, the whole range of uniform noise on [-1, 1]."""
FAKES = 512
"""Generated samples in a 2-D or 1-D picture."""
REALS = 1024
"""Real samples in a 2-D or 1-D picture (a regular subsample beyond)."""
IMAGE_GRID = 36
"""Samples in an image grid (6 x 6)."""
STRIP = 10
"""Samples in an interpolation strip."""
BINS = 60
"""Histogram bins of a 1-D picture."""
CURVE = 200
"""Points of the D(x) curve of a 1-D picture."""


class GanNets(Protocol):
    """The networks of a GAN as the views reach them.

    ``noise_dim`` is the length of a noise vector and ``noise`` its distribution
    (``"normal"``: standard normal; ``"uniform"``: uniform on [-1, 1]);
    ``probabilities`` says whether the discriminator's output is a probability
    of being real (the standard loss) or a raw score.
    """

    @property
    def noise_dim(self) -> int: ...

    @property
    def noise(self) -> str: ...

    @property
    def probabilities(self) -> bool: ...

    def sample(self, noise: np.ndarray) -> np.ndarray:
        """Generated samples ``(n, *sample_shape)`` for noise ``(n, noise_dim)``."""
        ...

    def discriminate(self, x: np.ndarray) -> np.ndarray:
        """The discriminator's output ``(n,)`` (or ``(n, 1)``) for samples ``x``."""
        ...

    def sample_gradients(self, noise: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Generated samples for ``noise`` and the gradient of the generator's
        loss with respect to each (a sample moves along minus it)."""
        ...


class TrainerNets:
    """A ``GanTrainer`` (``nndesk.training.gan``) as ``GanNets``: flat noise
    vectors are reshaped to the Noise node's shape."""

    def __init__(self, trainer: GanTrainer) -> None:
        self.trainer = trainer
        config = trainer.config
        self.noise_shape = tuple(int(d) for d in config.noise_shape)
        self.noise_dim = int(np.prod(self.noise_shape))
        self.noise = str(config.distribution)
        self.probabilities = config.loss == "standard"

    def _z(self, noise: np.ndarray) -> np.ndarray:
        z = np.asarray(noise, dtype=self.trainer.dtype)
        return z.reshape(len(z), *self.noise_shape)

    def sample(self, noise: np.ndarray) -> np.ndarray:
        return self.trainer.sample(self._z(noise))

    def discriminate(self, x: np.ndarray) -> np.ndarray:
        return self.trainer.discriminate(np.asarray(x, dtype=self.trainer.dtype))

    def sample_gradients(self, noise: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.trainer.sample_gradients(self._z(noise))


def data_kind(sample_shape: Sequence[int]) -> str:
    """Which picture fits samples of ``sample_shape``: ``"plane"`` for 2 values,
    ``"line"`` for 1, ``"image"`` for ``(h, w)``, ``(h, w, 1|3)`` or a flat
    vector of a square number of pixels, else ``"none"``."""
    shape = tuple(int(s) for s in sample_shape)
    if shape == (2,):
        return "plane"
    if shape in ((1,), ()):
        return "line"
    if len(shape) == 2 or (len(shape) == 3 and shape[-1] in (1, 3)):
        return "image"
    if len(shape) == 1 and shape[0] >= 16 and round(shape[0] ** 0.5) ** 2 == shape[0]:
        return "image"
    return "none"


# --- noise ------------------------------------------------------------------------------
def draw_noise(
    rng: np.random.Generator, n: int, noise_dim: int, kind: str
) -> np.ndarray:
    """``(n, noise_dim)`` float32 noise of distribution ``kind``."""
    if kind == "uniform":
        z = rng.uniform(-1.0, 1.0, size=(n, noise_dim))
    else:
        z = rng.standard_normal((n, noise_dim))
    return z.astype(np.float32)


def noise_grid(
    noise_dim: int,
    lines: int = MESH,
    span: float = 2.0,
    dims: tuple[int, int] = (0, 1),
) -> np.ndarray:
    """A regular grid of noise vectors: the 2-D slice the generator's mesh is.

    Parameters
    ----------
    noise_dim : int
        Length of a noise vector (1 or more).
    lines : int
        Grid points per side.
    span : float
        The grid runs over ``[-span, span]`` in each of the two varied dimensions.
    dims : (int, int)
        The two noise dimensions that vary; every other one is 0. With 1-D noise
        the grid is one line (``lines`` points, the second dimension ignored).

    Returns
    -------
    np.ndarray
        ``(lines, lines, noise_dim)`` float32 (``(1, lines, 1)`` for 1-D noise):
        point ``[i, j]`` has ``dims[0]`` at the ``j``-th and ``dims[1]`` at the
        ``i``-th grid value.
    """
    if noise_dim < 1:
        raise ValueError(f"noise_dim must be at least 1, got {noise_dim}")
    ticks = np.linspace(-span, span, lines, dtype=np.float32)
    if noise_dim == 1:
        return ticks.reshape(1, lines, 1)
    a, b = dims
    if not (0 <= a < noise_dim and 0 <= b < noise_dim and a != b):
        raise ValueError(f"dims {dims} are not two noise dimensions of {noise_dim}")
    grid = np.zeros((lines, lines, noise_dim), dtype=np.float32)
    grid[:, :, a] = ticks[None, :]
    grid[:, :, b] = ticks[:, None]
    return grid


def interpolate_noise(
    a: np.ndarray, b: np.ndarray, steps: int = STRIP, kind: str = "normal"
) -> np.ndarray:
    """``steps`` noise vectors from ``a`` to ``b`` (both ends included).

    Spherical (slerp) for normal noise: a straight line between two normal vectors
    passes near the centre, where the generator saw little noise during training.
    Straight for uniform noise.

    Returns
    -------
    np.ndarray
        ``(steps, noise_dim)`` float32.
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    if kind == "normal":
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        cos = float(np.dot(a, b) / (na * nb)) if na > 0 and nb > 0 else 1.0
        omega = np.arccos(np.clip(cos, -1.0, 1.0))
        if omega > 1e-6:
            s = np.sin(omega)
            out = (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / s
            return out.astype(np.float32)
    return ((1 - t) * a + t * b).astype(np.float32)


# --- 2-D data ----------------------------------------------------------------------------
@dataclass(frozen=True)
class PlanePicture:
    """GAN Lab's layered picture of 2-D data at one moment.

    Attributes
    ----------
    real : np.ndarray
        ``(n, 2)`` real samples.
    fake : np.ndarray
        ``(m, 2)`` generated samples.
    arrows : np.ndarray
        ``(m, 2)``: where the generator's loss pushes each generated sample
        (``-dL_G/dx``).
    heatmap : np.ndarray
        ``(GRID, GRID)`` the discriminator's output over ``extent``, row ``i`` at
        height ``y0 + (i + 0.5) * dy`` (row-major image, first row at the bottom).
    levels : (float, float)
        The output values shown as most "fake" and most "real": (0, 1) for
        probabilities, else the heatmap's range.
    extent : (x0, x1, y0, y1)
        The part of the plane the heatmap covers.
    mesh : np.ndarray
        ``(lines, lines, 2)`` the generator's image of ``noise_grid`` (for 1-D
        noise ``(1, lines, 2)``, a curve).
    mesh_dims : (int, int)
        The noise dimensions the mesh varies (others are 0); ``(0, 0)`` for 1-D
        noise.
    noise_dim : int
        Length of a noise vector.
    """

    real: np.ndarray
    fake: np.ndarray
    arrows: np.ndarray
    heatmap: np.ndarray
    extent: tuple[float, float, float, float]
    mesh: np.ndarray
    mesh_dims: tuple[int, int] = (0, 1)
    noise_dim: int = 2
    levels: tuple[float, float] = (0.0, 1.0)


def frame(
    real: np.ndarray, fake: np.ndarray | None = None, margin: float = 0.15
) -> tuple[float, float, float, float]:
    """The square part of the plane the picture shows: the real data with a
    ``margin`` (share of their span) around, widened to take in the middle 98 %
    of the generated samples, but never more than three times the data's span
    (a generator that diverges should not shrink the data to a dot).

    Returns
    -------
    (x0, x1, y0, y1)
    """
    real = np.asarray(real, dtype=np.float64).reshape(-1, 2)
    lo, hi = real.min(axis=0), real.max(axis=0)
    centre, half = (lo + hi) / 2, max(float((hi - lo).max()) / 2, 1e-3)
    half *= 1 + 2 * margin
    if fake is not None and len(fake):
        f = np.asarray(fake, dtype=np.float64).reshape(-1, 2)
        f = f[np.isfinite(f).all(axis=1)]
        if len(f):
            flo, fhi = np.percentile(f, 1, axis=0), np.percentile(f, 99, axis=0)
            reach = float(
                np.max(np.abs(np.concatenate([flo, fhi]) - np.tile(centre, 2)))
            )
            half = min(max(half, reach * (1 + margin)), 3 * half)
    x0, y0 = centre - half
    x1, y1 = centre + half
    return float(x0), float(x1), float(y0), float(y1)


def _plane_points(extent: tuple[float, float, float, float], cells: int) -> np.ndarray:
    x0, x1, y0, y1 = extent
    xs = x0 + (np.arange(cells) + 0.5) * (x1 - x0) / cells
    ys = y0 + (np.arange(cells) + 0.5) * (y1 - y0) / cells
    xx, yy = np.meshgrid(xs, ys)
    return np.stack([xx.reshape(-1), yy.reshape(-1)], axis=1).astype(np.float32)


def _scores(nets: GanNets, x: np.ndarray) -> np.ndarray:
    return np.array(nets.discriminate(x), dtype=np.float64).reshape(len(x))


def plane_picture(
    nets: GanNets,
    real: np.ndarray,
    noise: np.ndarray,
    *,
    cells: int = GRID,
    lines: int = MESH,
    dims: tuple[int, int] = (0, 1),
    extent: tuple[float, float, float, float] | None = None,
    sampled: tuple[np.ndarray, np.ndarray] | None = None,
) -> PlanePicture:
    """The layered picture for 2-D data.

    Parameters
    ----------
    nets : GanNets
        The generator and discriminator (generated samples must be 2-D).
    real : np.ndarray
        ``(n, 2)`` real samples to show.
    noise : np.ndarray
        ``(m, noise_dim)`` noise of the generated samples shown.
    cells, lines : int
        Heatmap cells and mesh lines per side.
    dims : (int, int)
        Noise dimensions the mesh varies (see ``noise_grid``).
    extent : (x0, x1, y0, y1), optional
        The part of the plane to cover (default: ``frame(real, fake)``).
    sampled : (samples, gradients), optional
        ``nets.sample_gradients(noise)`` when the caller has it already.
    """
    real = np.array(real, dtype=np.float32).reshape(-1, 2)
    fake, grads = sampled if sampled is not None else nets.sample_gradients(noise)
    fake = np.array(fake, dtype=np.float32).reshape(len(noise), 2)
    arrows = -np.array(grads, dtype=np.float32).reshape(fake.shape)
    if extent is None:
        extent = frame(real, fake)
    heat = _scores(nets, _plane_points(extent, cells)).reshape(cells, cells)
    if nets.probabilities:
        levels = (0.0, 1.0)
    else:
        finite = heat[np.isfinite(heat)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0, 1)
        levels = (lo, hi if hi > lo else lo + 1.0)
    dim = int(np.shape(noise)[1])
    span = NOISE_SPAN.get(nets.noise, 2.0)
    zgrid = noise_grid(dim, lines, span, dims if dim > 1 else (0, 1))
    flat = zgrid.reshape(-1, dim)
    mesh = np.array(nets.sample(flat), dtype=np.float32).reshape(
        zgrid.shape[0], zgrid.shape[1], 2
    )
    return PlanePicture(
        real=real,
        fake=fake,
        arrows=arrows,
        heatmap=heat.astype(np.float32),
        extent=extent,
        mesh=mesh,
        mesh_dims=tuple(dims) if dim > 1 else (0, 0),  # type: ignore[arg-type]
        noise_dim=dim,
        levels=levels,
    )


# --- images --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImagePicture:
    """Samples of an image GAN at one moment.

    Attributes
    ----------
    grid : np.ndarray
        A mosaic of the samples from the fixed noise: ``(H, W)`` or ``(H, W, 3)``
        float32 in [0, 1].
    strip : np.ndarray
        A mosaic of one row: the samples between two fixed noise vectors.
    count : int
        Samples in the grid.
    columns : int
        Samples per row of the grid.
    """

    grid: np.ndarray
    strip: np.ndarray
    count: int
    columns: int


def _as_images(x: np.ndarray, image_shape: tuple[int, ...]) -> np.ndarray:
    """``(n, h, w)`` or ``(n, h, w, 3)`` float32 from samples of any layout."""
    x = np.asarray(x, dtype=np.float32)
    x = x.reshape((len(x), *image_shape))
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    return x


def image_shape_of(sample_shape: Sequence[int]) -> tuple[int, ...]:
    """The picture shape of a sample: ``(h, w)``, ``(h, w, c)`` kept, a flat vector
    of ``s * s`` values as ``(s, s)``."""
    shape = tuple(int(s) for s in sample_shape)
    if len(shape) == 1:
        side = int(round(shape[0] ** 0.5))
        return (side, side)
    return shape


def tile_images(
    images: np.ndarray,
    columns: int,
    value_range: tuple[float, float] = (0.0, 1.0),
    gap: int = 1,
) -> np.ndarray:
    """One mosaic of ``images`` ``(n, h, w[, 3])``, ``columns`` per row, each
    mapped from ``value_range`` to [0, 1] and clipped, ``gap`` pixels between them
    (filled with 1: white)."""
    images = np.asarray(images, dtype=np.float32)
    lo, hi = value_range
    scaled = np.clip((images - lo) / ((hi - lo) or 1.0), 0.0, 1.0)
    n, h, w = scaled.shape[:3]
    rows = -(-n // columns)
    extra = scaled.shape[3:]
    out = np.ones(
        (rows * h + (rows - 1) * gap, columns * w + (columns - 1) * gap, *extra),
        dtype=np.float32,
    )
    for k in range(n):
        r, c = divmod(k, columns)
        top, left = r * (h + gap), c * (w + gap)
        out[top : top + h, left : left + w] = scaled[k]
    return out


def image_picture(
    nets: GanNets,
    fixed: np.ndarray,
    ends: tuple[np.ndarray, np.ndarray],
    image_shape: tuple[int, ...],
    *,
    steps: int = STRIP,
    value_range: tuple[float, float] = (0.0, 1.0),
) -> ImagePicture:
    """The sample grid of ``fixed`` noise ``(n, noise_dim)`` and the strip between
    the two noise vectors ``ends``; pixel values in ``value_range`` are shown black
    to white."""
    n = len(fixed)
    columns = max(1, int(np.ceil(np.sqrt(n))))
    samples = _as_images(nets.sample(fixed), image_shape)
    path = interpolate_noise(ends[0], ends[1], steps, nets.noise)
    strip = _as_images(nets.sample(path), image_shape)
    return ImagePicture(
        grid=tile_images(samples, columns, value_range),
        strip=tile_images(strip, steps, value_range),
        count=n,
        columns=columns,
    )


# --- 1-D data -------------------------------------------------------------------------------
@dataclass(frozen=True)
class LinePicture:
    """Real and generated values of 1-D data, and D(x).

    Attributes
    ----------
    edges : np.ndarray
        ``(bins + 1,)`` shared bin edges.
    real, fake : np.ndarray
        ``(bins,)`` densities (each integrates to 1 over the bins it covers;
        values outside the edges are left out).
    xs, d : np.ndarray
        ``(points,)`` positions and the discriminator's output there.
    """

    edges: np.ndarray
    real: np.ndarray
    fake: np.ndarray
    xs: np.ndarray
    d: np.ndarray


def line_picture(
    nets: GanNets,
    real: np.ndarray,
    noise: np.ndarray,
    *,
    bins: int = BINS,
    points: int = CURVE,
    span: tuple[float, float] | None = None,
) -> LinePicture:
    """Histograms of ``real`` ``(n,)`` or ``(n, 1)`` values and of the samples
    generated from ``noise``, and D over ``span`` (default: the real values'
    range with a quarter of it added at each side)."""
    real = np.asarray(real, dtype=np.float64).reshape(-1)
    fake = np.array(nets.sample(noise), dtype=np.float64).reshape(-1)
    if span is None:
        lo, hi = float(real.min()), float(real.max())
        pad = max(hi - lo, 1e-3) * 0.25
        span = (lo - pad, hi + pad)
    edges = np.linspace(span[0], span[1], bins + 1)
    width = edges[1] - edges[0]
    real_counts = np.histogram(real, edges)[0].astype(np.float64)
    fake_counts = np.histogram(fake[np.isfinite(fake)], edges)[0].astype(np.float64)
    xs = np.linspace(span[0], span[1], points)
    d = _scores(nets, xs.astype(np.float32).reshape(-1, 1))
    return LinePicture(
        edges=edges,
        real=real_counts / (max(len(real), 1) * width),
        fake=fake_counts / (max(len(fake), 1) * width),
        xs=xs,
        d=d,
    )


# --- one probe ------------------------------------------------------------------------------
@dataclass(frozen=True)
class GanPicture:
    """What the GAN views show at one moment of training.

    ``kind`` says which picture is set (``"plane"``, ``"image"``, ``"line"``,
    or ``"none"``: the samples are of another shape, only the means are shown).
    ``d_real``/``d_fake`` are the discriminator's mean output on the probe's real
    samples and on its generated ones. ``coverage`` is ``(covered, modes)`` of a
    1-D or 2-D mixture's modes (see ``nndesk.io.datasets``), None when the data has no
    known modes.
    """

    kind: str
    step: float
    d_real: float
    d_fake: float
    plane: PlanePicture | None = None
    image: ImagePicture | None = None
    line: LinePicture | None = None
    coverage: tuple[int, int] | None = None
    mode_counts: np.ndarray | None = field(default=None, repr=False)


class GanProber:
    """Makes ``GanPicture`` s of one GAN and its real data, always from the same
    noise (so consecutive pictures differ only by training).

    Parameters
    ----------
    nets : GanNets
        The networks, read on each ``probe``.
    real : np.ndarray
        The real samples ``(n, *sample_shape)``; a regular subsample of at most
        ``REALS`` is kept (a copy).
    seed : int
        Seeds the probe's fixed noise.
    value_range : (float, float), optional
        Pixel values shown black and white for images (default: the real
        samples' range).
    coverage : callable, optional
        ``coverage(fake) -> (covered, modes, counts)`` for a 1-D or 2-D
        mixture's modes.
    """

    def __init__(
        self,
        nets: GanNets,
        real: np.ndarray,
        seed: int = 0,
        value_range: tuple[float, float] | None = None,
        coverage: object = None,
    ) -> None:
        self.nets = nets
        real = np.asarray(real)
        self.sample_shape = tuple(real.shape[1:])
        self.kind = data_kind(self.sample_shape)
        keep = np.linspace(0, len(real) - 1, min(len(real), REALS)).astype(np.int64)
        self.real = np.array(real[keep], dtype=np.float32)
        rng = np.random.default_rng(seed)
        dim, kind = int(nets.noise_dim), str(nets.noise)
        count = IMAGE_GRID if self.kind == "image" else FAKES
        self.noise = draw_noise(rng, count, dim, kind)
        self.ends = (draw_noise(rng, 1, dim, kind)[0], draw_noise(rng, 1, dim, kind)[0])
        if value_range is None and len(self.real):
            value_range = (float(self.real.min()), float(self.real.max()))
        self.value_range = value_range or (0.0, 1.0)
        self.coverage = coverage
        self.extent: tuple[float, float, float, float] | None = None

    def probe(self, step: float = 0.0) -> GanPicture:
        """The picture of the networks as they are now."""
        nets = self.nets
        picture: dict[str, object] = {}
        if self.kind == "plane":
            fake, grads = nets.sample_gradients(self.noise)
            fake = np.array(fake, dtype=np.float32).reshape(-1, 2)
            self.extent = self._steady(fake)
            picture["plane"] = plane_picture(
                nets, self.real, self.noise, extent=self.extent, sampled=(fake, grads)
            )
        elif self.kind == "image":
            shape = image_shape_of(self.sample_shape)
            picture["image"] = image_picture(
                nets, self.noise, self.ends, shape, value_range=self.value_range
            )
            fake = np.asarray(nets.sample(self.noise))
        else:
            fake = np.asarray(nets.sample(self.noise))
            if self.kind == "line":
                picture["line"] = line_picture(nets, self.real, self.noise)
        if self.kind in ("plane", "line") and callable(self.coverage):
            covered, modes, counts = self.coverage(np.asarray(fake, np.float32))
            picture["coverage"] = (int(covered), int(modes))
            picture["mode_counts"] = np.asarray(counts)
        return GanPicture(
            kind=self.kind,
            step=float(step),
            d_real=float(_scores(nets, self.real).mean()),
            d_fake=float(_scores(nets, np.asarray(fake, np.float32)).mean()),
            **picture,  # type: ignore[arg-type]
        )

    def _steady(self, fake: np.ndarray) -> tuple[float, float, float, float]:
        """The frame of the last picture while it still fits (a frame that moved
        with every probe would make the heatmap and the mesh jump): a new one when
        the generated samples leave it or fill much less of it."""
        new = frame(self.real, fake)
        old = self.extent
        if old is None:
            return new
        inside = old[0] <= new[0] and new[1] <= old[1]
        inside = inside and old[2] <= new[2] and new[3] <= old[3]
        return old if inside and (new[1] - new[0]) >= 0.7 * (old[1] - old[0]) else new
