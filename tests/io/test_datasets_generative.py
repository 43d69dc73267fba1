"""Tests for the GAN data generators, mode coverage and one-class image data."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from nndesk.document.painted import PaintedPoints
from nndesk.io.datasets import (
    GENERATORS,
    DatasetError,
    Mixture,
    generate,
    load_dataset,
    mixture_of,
    mode_coverage,
    write_idx_file,
)
from nndesk.io.datasets import generative as gen

NEW = ["ring-gaussians", "grid-gaussians", "swiss-roll", "mixture-1d"]
MIXTURES = ["ring-gaussians", "grid-gaussians", "mixture-1d"]
FASHION = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "fashion-mnist"
)


def test_the_generators_are_registered_from_this_module() -> None:
    for name in NEW:
        assert GENERATORS[name].function.__module__ == gen.__name__
    assert "moons" in GENERATORS  # two moons are reused, not duplicated


@pytest.mark.parametrize(
    "name,shape,task",
    [
        ("ring-gaussians", (2,), "classification"),
        ("grid-gaussians", (2,), "classification"),
        ("swiss-roll", (2,), "regression"),
        ("mixture-1d", (1,), "regression"),
    ],
)
def test_shapes_dtypes_and_tasks(name: str, shape: tuple[int, ...], task: str) -> None:
    data = generate(name, n=203, seed=1)
    assert data.x.dtype == np.float32 and data.x.shape == (203, *shape)
    assert data.task == task and np.isfinite(data.x).all()
    if task == "classification":
        assert data.y.dtype == np.int64 and data.y.shape == (203,)
    else:
        assert data.y.dtype == np.float32 and data.y.shape == (203, 1)
    assert np.abs(data.x).max() < 1.5  # about [-1, 1]: no scaling needed


@pytest.mark.parametrize("name", NEW)
def test_same_seed_same_arrays_other_seed_other_arrays(name: str) -> None:
    a = generate(name, n=300, seed=4)
    b = generate(name, n=300, seed=4)
    c = generate(name, n=300, seed=5)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.x, c.x)
    np.testing.assert_array_equal(load_dataset(a.source).x, a.x)


@pytest.mark.parametrize("name", NEW)
def test_every_option_changes_the_data(name: str) -> None:
    base = generate(name, n=400, seed=2)
    for p in GENERATORS[name].params:
        other = p.default * 2 if p.name != "n" else p.default // 2
        if p.maximum is not None:
            other = min(other, p.maximum)
        changed = generate(name, seed=2, **{"n": 400, p.name: other})
        assert not np.array_equal(base.x[: len(changed)], changed.x), p.name


@pytest.mark.parametrize(
    "call,fragment",
    [
        (
            lambda: gen.ring_gaussians(modes=1),
            "Option 'modes' in generator 'ring-gaussians' is 1, outside 2..64.",
        ),
        (
            lambda: gen.grid_gaussians(side=11),
            "Option 'side' in generator 'grid-gaussians' is 11, outside 2..10.",
        ),
        (
            lambda: gen.mixture_1d(noise=0),
            "Option 'noise' in generator 'mixture-1d' is 0.0, outside 0.001..1.0.",
        ),
        (
            lambda: gen.swiss_roll(turns=0.1),
            "Option 'turns' in generator 'swiss-roll' is 0.1, outside 0.25..5.0.",
        ),
        (lambda: gen.ring_gaussians(modes=2.5), "must be a whole number, got 2.5."),
        (lambda: gen.ring_gaussians(seed=-3), "seed must be >= 0, got -3."),
        (
            lambda: load_dataset("grid-gaussians:sides=4"),
            "has no option 'sides'; valid options are n, noise, side, seed.",
        ),
    ],
)
def test_bad_options_are_one_sentence(call, fragment: str) -> None:  # noqa: ANN001
    with pytest.raises(DatasetError) as info:
        call()
    message = str(info.value)
    assert fragment in message
    assert message.count(". ") == 0 and message.endswith(".")


# --- geometry -------------------------------------------------------------------------
def test_ring_modes_are_on_the_circle_and_balanced() -> None:
    data = gen.ring_gaussians(n=8003, noise=0.01, modes=8, seed=0)
    counts = data.class_counts()
    assert counts.sum() == 8003 and counts.max() - counts.min() <= 1
    for mode in range(8):
        centre = data.x[data.y == mode].mean(axis=0)
        angle = 2 * np.pi * mode / 8
        expected = gen.RING_RADIUS * np.array([np.cos(angle), np.sin(angle)])
        np.testing.assert_allclose(centre, expected, atol=0.003)
    spread = data.x[data.y == 0] - data.x[data.y == 0].mean(axis=0)
    np.testing.assert_allclose(spread.std(axis=0), 0.01, rtol=0.1)


def test_grid_modes_are_row_major_from_the_bottom_left() -> None:
    data = gen.grid_gaussians(n=2500, noise=0.01, side=5, seed=0)
    ticks = np.linspace(-0.8, 0.8, 5)
    for mode in (0, 4, 5, 24):
        centre = data.x[data.y == mode].mean(axis=0)
        np.testing.assert_allclose(
            centre, [ticks[mode % 5], ticks[mode // 5]], atol=0.01
        )
    assert data.notes == []


def test_overlapping_modes_are_noted() -> None:
    data = gen.grid_gaussians(n=100, noise=0.04, side=10, seed=0)
    assert len(data.notes) == 1 and "overlap within 3σ" in data.notes[0]


def test_swiss_roll_lies_on_its_spiral() -> None:
    data = gen.swiss_roll(n=500, noise=0.0, turns=1.5, seed=3)
    t_max = 1.5 * np.pi + 3 * np.pi
    t = 1.5 * np.pi + 3 * np.pi * data.y[:, 0].astype(np.float64)
    expected = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / t_max
    np.testing.assert_allclose(data.x, expected, atol=1e-6)
    assert np.hypot(data.x[:, 0], data.x[:, 1]).max() <= 1 + 1e-6


def test_mixture_1d_target_is_its_density() -> None:
    data = gen.mixture_1d(n=20000, noise=0.05, modes=2, seed=0)
    # The density integrates to 1 and matches a histogram of the samples.
    grid = np.linspace(-1.2, 1.2, 2401)
    z = (grid[:, None] - np.array([-0.75, 0.75])) / 0.05
    pdf = np.exp(-0.5 * z**2).mean(axis=1) / (0.05 * math.sqrt(2 * math.pi))
    assert abs(np.trapezoid(pdf, grid) - 1) < 1e-6
    np.testing.assert_allclose(
        data.y[:, 0], np.interp(data.x[:, 0], grid, pdf), rtol=1e-2, atol=1e-3
    )
    hist, edges = np.histogram(data.x[:, 0], bins=60, range=(-1.2, 1.2), density=True)
    mids = (edges[:-1] + edges[1:]) / 2
    assert np.abs(hist - np.interp(mids, grid, pdf)).max() < 0.6


def test_one_mode_sits_at_zero() -> None:
    mixture = mixture_of("mixture-1d:modes=1")
    assert mixture is not None
    np.testing.assert_array_equal(mixture.centres, [[0.0]])


# --- mixtures and coverage ----------------------------------------------------------------
@pytest.mark.parametrize("name", MIXTURES)
def test_real_samples_cover_every_mode(name: str) -> None:
    data = generate(name, n=2000, seed=0)
    mixture = mixture_of(data.source)
    assert mixture is not None and mixture.dim == data.input_shape[0]
    covered, total, counts = mixture.coverage(data.x)
    assert covered == total == mixture.n_modes
    assert counts.sum() >= 0.99 * len(data)  # all but ~0.3% lie within 3σ (2-D: 1%)


def test_centres_and_sigma_follow_the_spec() -> None:
    ring = mixture_of("ring-gaussians:n=10,noise=0.1,modes=5,seed=3")
    assert ring is not None and ring.n_modes == 5 and ring.sigma == 0.1
    np.testing.assert_allclose(np.hypot(*ring.centres.T), gen.RING_RADIUS)
    grid = mixture_of("grid-gaussians:side=3")
    assert grid is not None and grid.n_modes == 9 and grid.sigma == 0.04
    blobs = mixture_of("blobs:centers=4,noise=0.2")
    assert blobs is not None and blobs.n_modes == 4
    data = generate("blobs", n=400, centers=4, noise=0.2, seed=0)
    for mode in range(4):
        np.testing.assert_allclose(
            data.x[data.y == mode].mean(axis=0), blobs.centres[mode], atol=0.05
        )


@pytest.mark.parametrize(
    "spec",
    ["", "moons", "swiss-roll", "painted", "blobs:noise=0", "fashion-mnist", "a:b:c=,"],
)
def test_other_data_has_no_mixture(spec: str) -> None:
    assert mixture_of(spec) is None


def test_a_bad_mixture_option_is_named() -> None:
    with pytest.raises(
        DatasetError, match="Option 'modes' in generator 'ring-gaussians'"
    ):
        mixture_of("ring-gaussians:modes=many")


def test_collapse_onto_one_mode_covers_one() -> None:
    mixture = mixture_of("ring-gaussians")
    assert mixture is not None
    rng = np.random.default_rng(0)
    collapsed = mixture.centres[3] + rng.normal(0, mixture.sigma, size=(500, 2))
    covered, total, counts = mode_coverage(collapsed, mixture)
    assert (covered, total) == (1, 8)
    assert counts[3] >= 490 and counts.sum() == counts[3]


def test_samples_far_from_every_mode_cover_none() -> None:
    mixture = mixture_of("grid-gaussians")
    assert mixture is not None
    between = np.full((300, 2), 0.2)  # halfway between four centres, 5σ from each
    assert tuple(mixture.coverage(between)[:2]) == (0, 25)
    nowhere = np.full((300, 2), np.nan)  # a diverged generator
    covered, _, counts = mixture.coverage(nowhere)
    assert covered == 0 and counts.sum() == 0
    assert mixture.coverage(np.empty((0, 2)))[0] == 0


def test_a_stray_sample_does_not_cover_a_mode() -> None:
    mixture = mixture_of("ring-gaussians")
    assert mixture is not None
    samples = np.repeat(mixture.centres[:1], 399, axis=0)
    samples = np.concatenate([samples, mixture.centres[5:6]])  # one stray sample
    covered, _, counts = mixture.coverage(samples)
    assert counts[5] == 1 and covered == 1
    assert mixture.min_count(400) == 10  # 20% of 400 / 8
    assert mixture.coverage(samples, min_count=1)[0] == 2


@pytest.mark.parametrize(
    "n,k,expected", [(2500, 25, 20), (400, 8, 10), (64, 8, 2), (10, 8, 2), (0, 8, 2)]
)
def test_min_count_rule(n: int, k: int, expected: int) -> None:
    mixture = Mixture("m", np.arange(k, dtype=float)[:, None], 0.1)
    assert mixture.min_count(n) == expected


def test_a_sample_counts_for_its_nearest_centre_only() -> None:
    mixture = Mixture("two", np.array([[0.0, 0.0], [0.5, 0.0]]), 0.1)
    # 0.2 is within 3σ of both; it belongs to the first.
    modes = mixture.assign(np.array([[0.2, 0.0], [0.3, 0.0], [0.0, 0.31]]))
    np.testing.assert_array_equal(modes, [0, 1, -1])


def test_1d_samples_may_be_flat() -> None:
    mixture = mixture_of("mixture-1d")
    assert mixture is not None
    flat = np.array([-0.75, 0.0, 0.75] * 50)
    assert mixture.coverage(flat)[0] == 3
    assert mixture.coverage(flat[:, None])[0] == 3


def test_large_sample_sets_are_counted_in_blocks() -> None:
    mixture = mixture_of("ring-gaussians")
    assert mixture is not None
    big = np.repeat(mixture.centres, 20_000, axis=0)  # 160,000 > one block
    covered, _, counts = mixture.coverage(big)
    assert covered == 8 and counts.tolist() == [20_000] * 8


@pytest.mark.parametrize(
    "samples,fragment",
    [
        (np.zeros((5, 3)), "Samples of shape (5, 3) cannot be matched"),
        (np.zeros(5), "Samples of shape (5,) cannot be matched"),
        (np.array([["a", "b"]]), "cannot be matched to the modes of 'ring-gaussians'"),
    ],
)
def test_samples_of_the_wrong_shape_are_refused(samples, fragment: str) -> None:  # noqa: ANN001
    mixture = mixture_of("ring-gaussians")
    assert mixture is not None
    with pytest.raises(
        DatasetError, match=fragment.replace("(", r"\(").replace(")", r"\)")
    ):
        mixture.coverage(samples)


def test_bad_min_count_and_bad_mixtures_are_refused() -> None:
    mixture = mixture_of("ring-gaussians")
    assert mixture is not None
    with pytest.raises(DatasetError, match="minimum count .* got 0"):
        mixture.coverage(np.zeros((4, 2)), min_count=0)
    with pytest.raises(DatasetError, match="standard deviation > 0, got 0"):
        Mixture("flat", np.zeros((2, 2)), 0.0)
    with pytest.raises(DatasetError, match="shape \\(modes, coordinates\\)"):
        Mixture("empty", np.zeros((0, 2)), 0.1)


def test_centres_cannot_be_changed() -> None:
    mixture = mixture_of("ring-gaussians")
    assert mixture is not None
    with pytest.raises(ValueError):
        mixture.centres[0, 0] = 5.0


# --- painted points and images as GAN data ---------------------------------------------------
def test_painted_points_are_gan_data() -> None:
    painted = PaintedPoints.empty().added([[0.1, 0.2], [0.3, -0.4], [-0.5, 0.5]], 0)
    data = load_dataset("painted", painted=painted)
    assert data.x.dtype == np.float32 and data.x.shape == (3, 2)
    assert mixture_of(data.source) is None  # no modes to cover: the meter stays off


def _tiny_idx(folder: Path) -> None:
    rng = np.random.default_rng(0)
    for prefix, count in (("train", 30), ("t10k", 12)):
        images = rng.integers(0, 256, size=(count, 4, 4), dtype=np.uint8)
        labels = (np.arange(count) % 3).astype(np.uint8)
        write_idx_file(folder / f"{prefix}-images-idx3-ubyte", images)
        write_idx_file(folder / f"{prefix}-labels-idx1-ubyte", labels)


def test_one_class_of_an_idx_folder(tmp_path: Path) -> None:
    _tiny_idx(tmp_path)
    whole = load_dataset(str(tmp_path))
    one = load_dataset(f"{tmp_path}:class=2")
    assert len(one) == 10 and set(one.y.tolist()) == {2}
    assert one.n_classes == 10  # class names stay, so labels keep their meaning
    np.testing.assert_array_equal(one.x, whole.x[whole.y == 2])
    assert one.source == f"{tmp_path}:class=2,split=train"
    np.testing.assert_array_equal(load_dataset(one.source).x, one.x)
    test_part = load_dataset(f"{tmp_path}:split=test,class=1")
    assert len(test_part) == 4 and test_part.name.endswith("(test), class 1")


def test_one_class_by_name_in_fashion_mnist() -> None:
    data = load_dataset(f"{FASHION}:class=sneaker,split=test")
    assert len(data) == 1000 and set(data.y.tolist()) == {7}
    assert data.name == "fashion-mnist (test), class Sneaker"
    assert data.x.shape == (1000, 28, 28)


@pytest.mark.parametrize(
    "option,fragment",
    [
        ("class=10", "names no class of"),
        ("class=shoe", "names no class of"),
        ("class=", "names no class of"),
    ],
)
def test_a_class_that_is_not_there_is_named(
    tmp_path: Path, option: str, fragment: str
) -> None:
    _tiny_idx(tmp_path)
    spec = f"{tmp_path}:{option}"
    # Digit class names: only the index range is listed.
    with pytest.raises(DatasetError, match=f"{fragment} .*valid classes are 0..9\\.$"):
        load_dataset(spec)


def test_a_class_without_samples_is_refused(tmp_path: Path) -> None:
    _tiny_idx(tmp_path)
    with pytest.raises(
        DatasetError, match=r"class=5 .* selects no samples: .* holds no '5'"
    ):
        load_dataset(f"{tmp_path}:class=5")


def test_class_is_no_option_of_a_csv_file(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("a,b\n1,0\n2,1\n")
    with pytest.raises(DatasetError, match="Option 'class' does not apply to CSV data"):
        load_dataset(f"{tmp_path / 'd.csv'}:class=1")
