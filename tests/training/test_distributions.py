"""Histograms over time (training.distributions): per-epoch columns, the bound, the rebinning."""

from __future__ import annotations

import numpy as np
import pytest

from nndesk.training.distributions import DistributionHistory


def _hist(lo: float, hi: float, counts: list[float]) -> tuple[np.ndarray, np.ndarray]:
    return np.linspace(lo, hi, len(counts) + 1), np.array(counts, dtype=np.float64)


def test_one_column_per_epoch_the_last_histogram_of_it() -> None:
    history = DistributionHistory()
    history.record(0, *_hist(0, 1, [1, 0]))
    history.record(0, *_hist(0, 1, [0, 1]))  # later in epoch 0: replaces
    history.record(1, *_hist(0, 1, [1, 1]))
    assert history.epochs == [0, 1]
    heat = history.heatmap(rows=2)
    assert heat is not None
    np.testing.assert_allclose(heat.image, [[0, 1], [1, 1]])
    assert heat.epochs == (0.0, 2.0) and heat.values == (0.0, 1.0)
    # A look back at an earlier state is not recorded.
    assert not history.record(0, *_hist(0, 1, [5, 5]))
    assert history.epochs == [0, 1]


def test_rebinning_keeps_the_mass_where_it_was() -> None:
    history = DistributionHistory()
    history.record(0, *_hist(0, 1, [4, 0]))  # all mass in [0, 0.5]
    history.record(1, *_hist(1, 3, [0, 2]))  # all in [2, 3]
    heat = history.heatmap(rows=6)  # bins of 0.5 over [0, 3]
    assert heat is not None and heat.values == (0.0, 3.0)
    np.testing.assert_allclose(heat.image[:, 0], [1, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(heat.image[:, 1], [0, 0, 0, 0, 1, 1])


def test_sparse_epochs_hold_the_previous_column() -> None:
    history = DistributionHistory()
    history.record(0, *_hist(0, 1, [1, 0]))
    history.record(3, *_hist(0, 1, [0, 1]))
    heat = history.heatmap(rows=2)
    assert heat is not None and heat.image.shape == (2, 4)
    np.testing.assert_allclose(heat.image[1], [0, 0, 0, 1])


def test_memory_is_bounded_whatever_the_epochs() -> None:
    history = DistributionHistory(capacity=50)
    rng = np.random.default_rng(0)
    for epoch in range(1000):
        counts, edges = np.histogram(rng.normal(size=500), bins=40)
        history.record(epoch, edges, counts)
        assert len(history) <= 50
    assert history.epochs[0] == 0 and history.epochs[-1] == 999
    assert np.all(np.diff(history.epochs) > 0)
    assert history.nbytes <= 50 * (41 + 40) * 8
    heat = history.heatmap()
    assert heat is not None and heat.image.shape[1] == 50
    assert heat.epochs == (0.0, 1000.0)


@pytest.mark.parametrize("counts", [[0, 0, 0], [3, 3, 3]])
def test_constant_and_empty_histograms(counts: list[float]) -> None:
    history = DistributionHistory()
    history.record(2, np.array([0.5, 0.5, 0.5, 0.5]), np.array(counts, dtype=float))
    heat = history.heatmap(rows=4)
    assert heat is not None
    assert np.isfinite(heat.image).all()
    assert heat.values[1] > heat.values[0]
