"""A wide layer's activations are drawn as the peaks of runs of units."""

from __future__ import annotations

import numpy as np

from nndesk.ui.panels.plots.activations import MAX_BARS, _peaks


def test_a_narrow_layer_gets_one_bar_per_unit() -> None:
    values = np.array([0.5, -2.0, 3.0])
    edges, heights = _peaks(values)
    np.testing.assert_array_equal(edges, [-0.5, 0.5, 1.5, 2.5])
    np.testing.assert_array_equal(heights, values)


def test_a_wide_layer_keeps_the_largest_value_of_each_run_with_its_sign() -> None:
    units = 26 * 26 * 32  # a Conv2D(32) output on 28x28 images
    values = np.zeros(units)
    values[5] = -7.0  # the first run's peak is negative
    values[units - 1] = 4.0  # in the last, shorter run
    edges, heights = _peaks(values)
    assert len(heights) <= MAX_BARS
    assert len(edges) == len(heights) + 1
    assert edges[0] == -0.5 and edges[-1] == units - 0.5
    assert heights[0] == -7.0 and heights[-1] == 4.0
    assert np.count_nonzero(heights) == 2
