"""Tests for the toy dataset generators and their registry."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from nndesk.io.datasets import GENERATORS, DatasetError, generate, load_dataset, toy

# The 2-D/1-D toy sets; other modules' generators (sequences) join GENERATORS too
# and are tested in their own files, but every one follows the registry's rules.
TOY = [name for name, g in GENERATORS.items() if g.function.__module__ == toy.__name__]
CLASSIFIERS = [n for n in TOY if GENERATORS[n].task == "classification"]
REGRESSORS = [n for n in TOY if GENERATORS[n].task == "regression"]


@pytest.mark.parametrize("name", TOY)
def test_shapes_and_dtypes(name: str) -> None:
    data = generate(name, n=101, seed=3)
    assert len(data) == 101
    assert data.x.dtype == np.float32
    assert data.x.ndim == 2 and data.x.shape[0] == 101
    assert data.input_shape == ((1,) if name == "sine" else (2,))
    assert data.feature_names == [f"x{i + 1}" for i in range(data.x.shape[1])]
    assert np.isfinite(data.x).all()
    if data.task == "classification":
        assert data.y.dtype == np.int64 and data.y.shape == (101,)
        assert data.n_classes == len(data.class_names)
    else:
        assert data.y.dtype == np.float32 and data.y.shape == (101, 1)


@pytest.mark.parametrize("name", TOY)
def test_same_seed_same_arrays_other_seed_other_arrays(name: str) -> None:
    a = generate(name, n=200, noise=0.1, seed=7)
    b = generate(name, n=200, noise=0.1, seed=7)
    c = generate(name, n=200, noise=0.1, seed=8)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.x, c.x)


@pytest.mark.parametrize("name", list(GENERATORS))
def test_generator_object_as_seed(name: str) -> None:
    a = generate(name, n=50, seed=np.random.default_rng(5))
    b = generate(name, n=50, seed=np.random.default_rng(5))
    np.testing.assert_array_equal(a.x, b.x)
    assert "seed=" not in a.source  # a Generator cannot be written into a spec


@pytest.mark.parametrize("name", list(GENERATORS))
def test_source_spec_recreates_the_dataset(name: str) -> None:
    data = generate(name, n=64, seed=11)
    again = load_dataset(data.source)
    np.testing.assert_array_equal(data.x, again.x)
    np.testing.assert_array_equal(data.y, again.y)
    assert again.source == data.source


@pytest.mark.parametrize("name", CLASSIFIERS)
@pytest.mark.parametrize("n", [100, 101, 7])
def test_classes_are_balanced(name: str, n: int) -> None:
    counts = generate(name, n=n, seed=0).class_counts()
    assert counts.sum() == n
    assert counts.max() - counts.min() <= 1


def test_samples_are_shuffled() -> None:
    y = generate("spiral", n=400, seed=0).y
    # Sorted labels would change class only once; a shuffle changes it often.
    assert np.count_nonzero(np.diff(y)) > 100


def test_registry_matches_function_defaults() -> None:
    for name, spec in GENERATORS.items():
        signature = inspect.signature(spec.function)
        assert set(signature.parameters) == {p.name for p in spec.params} | {"seed"}
        for p in spec.params:
            assert signature.parameters[p.name].default == p.default, (name, p.name)
            assert p.kind in ("int", "float")
            assert p.minimum is None or p.default >= p.minimum
            assert p.maximum is None or p.default <= p.maximum
            assert p.help


# --- geometry with noise=0 ------------------------------------------------------------
@pytest.mark.parametrize("classes,turns", [(2, 1.0), (3, 1.0), (5, 1.75)])
def test_spiral_points_lie_on_their_arm(classes: int, turns: float) -> None:
    if classes == 2:
        data = toy.spiral(n=300, noise=0.0, turns=turns, seed=0)
    else:
        data = toy.spirals(n=300, classes=classes, noise=0.0, turns=turns, seed=0)
    x = data.x.astype(np.float64)
    r = np.hypot(x[:, 0], x[:, 1])
    assert (r > 0).all() and (r <= 1).all()
    angle = np.arctan2(x[:, 1], x[:, 0]) / (2 * np.pi)
    # On arm c the angle is turns * r + c / k (in turns), up to whole turns.
    phase = angle - turns * r - data.y / classes
    off = np.abs(phase - np.round(phase))
    assert off.max() < 1e-5


def test_circles_radii() -> None:
    data = toy.circles(n=200, noise=0.0, factor=0.3, seed=1)
    r = np.hypot(data.x[:, 0], data.x[:, 1])
    np.testing.assert_allclose(r[data.y == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(r[data.y == 1], 0.3, atol=1e-6)


def test_moons_half_circles() -> None:
    data = toy.moons(n=200, noise=0.0, seed=1)
    p = data.x.astype(np.float64) / toy.MOONS_RADIUS
    sign = np.where(data.y == 0, 1.0, -1.0)[:, None]
    # Undo the class's mirror and shift: back on the upper unit half circle.
    q = sign * p + np.array([0.5, 0.25])
    np.testing.assert_allclose(np.hypot(q[:, 0], q[:, 1]), 1.0, atol=1e-6)
    assert (q[:, 1] >= -1e-6).all()
    assert np.abs(data.x[:, 0]).max() <= 1.0 + 1e-6


def test_xor_quadrants_and_padding() -> None:
    data = toy.xor(n=300, noise=0.0, padding=0.2, seed=2)
    same_sign = (data.x[:, 0] * data.x[:, 1]) > 0
    np.testing.assert_array_equal(same_sign, data.y == 1)
    assert (np.abs(data.x) >= 0.2 - 1e-6).all() and (np.abs(data.x) <= 1).all()


def test_blobs_points_sit_on_distinct_centres() -> None:
    data = toy.blobs(n=120, centers=4, noise=0.0, seed=0)
    centres = [np.unique(data.x[data.y == c], axis=0) for c in range(4)]
    assert all(len(c) == 1 for c in centres)
    stacked = np.concatenate(centres)
    assert len(np.unique(stacked, axis=0)) == 4


def test_blobs_noise_is_the_spread() -> None:
    data = toy.blobs(n=6000, centers=3, noise=0.2, seed=0)
    spread = [data.x[data.y == c].std(axis=0) for c in range(3)]
    np.testing.assert_allclose(spread, 0.2, rtol=0.1)


@pytest.mark.parametrize("cells", [2, 3, 4, 7])
def test_checkerboard_labels_follow_the_squares(cells: int) -> None:
    data = toy.checkerboard(n=400, cells=cells, noise=0.0, seed=4)
    col = np.floor((data.x[:, 0] + 1) * cells / 2).astype(int)
    row = np.floor((data.x[:, 1] + 1) * cells / 2).astype(int)
    assert col.min() >= 0 and col.max() < cells and row.max() < cells
    np.testing.assert_array_equal((row + col) % 2, data.y)


def test_sine_is_sine() -> None:
    data = toy.sine(n=200, noise=0.0, seed=0)
    assert np.abs(data.x).max() <= np.pi
    np.testing.assert_allclose(data.y, np.sin(data.x), atol=1e-6)


def test_sine_noise_goes_to_the_target() -> None:
    data = toy.sine(n=5000, noise=0.1, seed=0)
    np.testing.assert_allclose((data.y - np.sin(data.x)).std(), 0.1, rtol=0.1)


def test_plane_is_a_plane() -> None:
    data = toy.plane(n=200, noise=0.0, seed=0)
    w = np.array(toy.PLANE_WEIGHTS)
    np.testing.assert_allclose(data.y[:, 0], data.x @ w + toy.PLANE_BIAS, atol=1e-6)


# --- bad arguments -------------------------------------------------------------------
@pytest.mark.parametrize(
    "call,fragment",
    [
        (lambda: toy.spiral(n=1), "Option 'n' in generator 'spiral' is 1, outside 2.."),
        (lambda: toy.circles(noise=-0.1), "Option 'noise'"),
        (lambda: toy.blobs(centers=2.5), "must be a whole number"),
        (lambda: toy.spiral(seed=-1), "seed must be >= 0"),
        (lambda: toy.spiral(seed=1.5), "seed must be an int"),
        (lambda: generate("spiral", n="many"), "must be a whole number, got 'many'"),
        (lambda: generate("spiral", noise="nan"), "must be finite"),
        (
            lambda: generate("spiral", classes=3),
            "valid options are n, noise, turns, seed",
        ),
        (lambda: generate("galaxy"), "valid generators are spiral, spirals, circles"),
    ],
)
def test_bad_arguments_name_the_option(call, fragment: str) -> None:  # noqa: ANN001
    with pytest.raises(DatasetError) as info:
        call()
    assert fragment in str(info.value)
