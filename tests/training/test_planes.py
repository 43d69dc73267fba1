"""The planes the decision boundary of a many-input network is drawn on (training.planes)."""

from __future__ import annotations

import numpy as np
import pytest

from nndesk.engine.errors import DataError
from nndesk.training.planes import (
    Plane,
    feature_plane,
    pca_plane,
    plane_extent,
    three_point_plane,
)


def _data(n: int = 300, d: int = 6, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # Anisotropic, off-centre: the principal directions are well separated.
    scales = np.array([5.0, 2.0] + [0.3] * (d - 2))
    mix, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return (rng.normal(size=(n, d)) * scales) @ mix.T + rng.normal(size=d) * 3


def _planes() -> list[Plane]:
    x = _data()
    return [
        feature_plane(x.mean(axis=0), 1, 4, points=x),
        pca_plane(x),
        three_point_plane(x[0], x[1], x[2], points=x),
    ]


@pytest.mark.parametrize("plane", _planes(), ids=["features", "pca", "points"])
def test_point_on_the_plane_maps_back_exactly(plane: Plane) -> None:
    rng = np.random.default_rng(1)
    coords = rng.uniform(-4, 4, size=(50, 2))
    inputs = plane.to_inputs(coords, np.float64)
    assert inputs.shape == (50, *plane.input_shape)
    np.testing.assert_allclose(plane.project(inputs), coords, rtol=0, atol=1e-12)
    # ... and projecting an input of the plane and mapping it back gives it again.
    np.testing.assert_allclose(plane.to_inputs(plane.project(inputs), np.float64),
                               inputs, rtol=0, atol=1e-12)  # fmt: skip
    np.testing.assert_allclose(plane.basis @ plane.basis.T, np.eye(2), atol=1e-12)
    with pytest.raises(ValueError):
        plane.origin[0] = 1.0  # read-only: the worker thread reads it


def test_pca_plane_is_the_svd_of_the_centred_data() -> None:
    x = _data(400, 7)
    plane = pca_plane(x)
    centred = x - x.mean(axis=0)
    # The first two right singular vectors of the centred data.
    sing, top = np.linalg.svd(centred, full_matrices=False)[1:]
    values, top = sing**2, top[:2]
    np.testing.assert_allclose(plane.origin, x.mean(axis=0), atol=1e-12)
    for got, want in zip(plane.basis, top, strict=True):
        assert abs(abs(float(got @ want)) - 1.0) < 1e-9
        assert got[np.argmax(np.abs(got))] > 0  # the sign rule
    # The projected data has the two largest variances, uncorrelated.
    coords = plane.project(x)
    cov = np.cov(coords.T, bias=True)
    share = sorted(values, reverse=True)[:2] / np.float64(len(x))
    np.testing.assert_allclose(np.diag(cov), share, rtol=1e-9)
    assert abs(cov[0, 1]) < 1e-9 * cov[0, 0]
    assert "PC 1" in plane.labels[0]
    s0, s1, t0, t1 = plane.extent
    assert s0 < coords[:, 0].min() and coords[:, 0].max() < s1
    assert t0 < coords[:, 1].min() and coords[:, 1].max() < t1


def test_pca_plane_of_wide_inputs_is_the_svd_too() -> None:
    # More input values than PCA_ROWS: the SVD path (the scatter matrix would
    # be larger than the data).
    rng = np.random.default_rng(5)
    x = rng.normal(size=(40, 2100)) * np.r_[6.0, 3.0, np.full(2098, 0.2)]
    plane = pca_plane(x)
    vt = np.linalg.svd(x - x.mean(axis=0), full_matrices=False)[2]
    for got, want in zip(plane.basis, vt[:2], strict=True):
        assert abs(abs(float(got @ want)) - 1.0) < 1e-9


def test_pca_plane_subsamples_large_data() -> None:
    x = _data(5000, 5)
    plane = pca_plane(x, max_rows=1000)
    np.testing.assert_allclose(plane.origin, x.mean(axis=0), atol=1e-12)
    rows = x[np.linspace(0, len(x) - 1, 1000).astype(np.int64)]
    _, _, vt = np.linalg.svd(rows - x.mean(axis=0), full_matrices=False)
    assert abs(abs(float(plane.basis[0] @ vt[0])) - 1) < 1e-9
    assert "1,000 training samples" in plane.note


def test_feature_plane_uses_the_held_values() -> None:
    held = np.array([0.5, -1.0, 2.0, 7.0])
    plane = feature_plane(held, 2, 0, names=["a", "b", "c", "d"])
    inputs = plane.to_inputs(np.array([[10.0, 20.0], [-3.0, 4.0]]), np.float64)
    # The chosen features take the plane's coordinates, the others their held value.
    np.testing.assert_array_equal(
        inputs, [[20.0, -1.0, 10.0, 7.0], [4.0, -1.0, -3.0, 7.0]]
    )
    assert plane.labels == ("c", "a")
    # Moving a held feature moves every point of the grid with it.
    moved = held.copy()
    moved[3] = -5.0
    grid = feature_plane(moved, 2, 0).grid(3, np.float64)
    assert grid.shape == (9, 4)
    np.testing.assert_array_equal(grid[:, 3], -5.0)
    np.testing.assert_array_equal(grid[:, 1], -1.0)
    # Rows follow the second axis (feature 0), columns the first (feature 2).
    s0, s1, t0, t1 = plane.extent
    np.testing.assert_allclose(grid[:3, 2], np.linspace(s0, s1, 3))
    np.testing.assert_allclose(grid[::3, 0], np.linspace(t0, t1, 3))


def test_feature_plane_extent_covers_the_data_and_refuses_bad_features() -> None:
    x = _data(100, 4)
    plane = feature_plane(x[7], 0, 3, points=x)
    s0, s1, t0, t1 = plane.extent
    assert s0 < x[:, 0].min() and x[:, 0].max() < s1
    assert t0 < x[:, 3].min() and x[:, 3].max() < t1
    np.testing.assert_allclose(plane.project(x), x[:, [0, 3]], atol=1e-12)
    with pytest.raises(DataError, match="two different features"):
        feature_plane(x[0], 2, 2)
    with pytest.raises(DataError, match="Feature 9 is outside the input's 4"):
        feature_plane(x[0], 0, 9)


def test_three_point_plane_goes_through_the_three_images() -> None:
    rng = np.random.default_rng(3)
    a, b, c = rng.uniform(0, 1, size=(3, 8, 8))
    plane = three_point_plane(a, b, c, points=rng.uniform(0, 1, size=(20, 8, 8)))
    assert plane.input_shape == (8, 8)
    coords = plane.project(np.stack([a, b, c]))
    np.testing.assert_allclose(coords, plane.anchors, atol=1e-12)
    assert coords[1, 1] == pytest.approx(0.0, abs=1e-12)
    assert coords[2, 1] > 0
    assert coords[1, 0] == pytest.approx(np.linalg.norm(b - a))
    back = plane.to_inputs(plane.anchors, np.float64)
    np.testing.assert_allclose(back, np.stack([a, b, c]), atol=1e-12)
    s0, s1, t0, t1 = plane.extent
    assert (s0 < coords[:, 0]).all() and (coords[:, 0] < s1).all()
    assert (t0 < coords[:, 1]).all() and (coords[:, 1] < t1).all()


def test_three_point_plane_refuses_points_on_a_line() -> None:
    a = np.zeros(5)
    b = np.ones(5)
    with pytest.raises(DataError, match="A and B are the same input"):
        three_point_plane(a, a.copy(), b)
    with pytest.raises(DataError, match="lie on one line"):
        three_point_plane(a, b, 3 * b)


def test_plane_extent_margin_and_empty() -> None:
    assert plane_extent(np.zeros((0, 2))) == (-1.0, 1.0, -1.0, 1.0)
    assert plane_extent(np.array([[0.0, 0.0], [10.0, 2.0]])) == pytest.approx(
        (-1.0, 11.0, -0.2, 2.2)
    )
