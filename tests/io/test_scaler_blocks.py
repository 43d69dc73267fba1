"""The scaler's statistics a block at a time: bit-identical to whole-array NumPy."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from nndesk.io.datasets import DatasetError, Scaler, preprocess


def _whole_array_stats(method: str, axis: str, x: np.ndarray):
    """What Scaler.fit computed before it worked in blocks: float64 copies."""
    data = x.astype(np.float64)
    axes = 0 if axis == "feature" else None
    if method == "standard":
        offset, spread = data.mean(axis=axes), data.std(axis=axes)
    else:
        offset = data.min(axis=axes)
        spread = data.max(axis=axes) - offset
    return np.asarray(offset), np.where(np.asarray(spread) > 1e-12, spread, 1.0)


@pytest.mark.parametrize("method", ["standard", "minmax"])
@pytest.mark.parametrize("axis", ["feature", "global"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint8])
@pytest.mark.parametrize("block", [7, 129, 4096, 1 << 20])
def test_statistics_equal_the_whole_array_ones_bit_for_bit(
    monkeypatch: pytest.MonkeyPatch, method: str, axis: str, dtype, block: int
) -> None:
    # Small blocks make the block and pairwise-split paths run on a small array.
    monkeypatch.setattr(preprocess, "_BLOCK_ELEMENTS", block)
    rng = np.random.default_rng(block)
    for shape in [(1, 3), (9, 2), (1500, 7, 5), (20011, 3)]:
        x = (rng.normal(size=shape) * 40 + 3).astype(dtype)
        scaler = Scaler(method, axis=axis).fit(x)
        offset, scale = _whole_array_stats(method, axis, x)
        assert scaler.offset.dtype == np.float64 and scaler.scale.dtype == np.float64
        assert np.array_equal(scaler.offset, offset), (shape, "offset")
        assert np.array_equal(scaler.scale, scale), (shape, "scale")


def test_fitting_needs_no_float64_copy_of_the_data() -> None:
    x = np.random.default_rng(0).random((8000, 784), dtype=np.float32)  # 25 MB
    tracemalloc.start()
    try:
        Scaler("standard").fit(x)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # One float64 block (8 MB) and per-feature sums; a float64 copy would be 50 MB.
    assert peak < 0.5 * x.nbytes, peak


def test_transform_in_place_gives_the_same_values() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(500, 4, 3)).astype(np.float32) * 9 + 2
    scaler = Scaler("standard").fit(x)
    expected = scaler.transform(x)
    same = x.copy()
    assert scaler.transform(same, out=same) is same
    assert np.array_equal(same, expected)
    target = np.empty_like(x)
    assert scaler.transform(x, out=target) is target
    assert np.array_equal(target, expected)


def test_transform_refuses_an_output_of_another_shape_or_dtype() -> None:
    scaler = Scaler("minmax").fit(np.zeros((4, 3)))
    with pytest.raises(DatasetError, match=r"float32 array of shape \(4, 3\)"):
        scaler.transform(np.zeros((4, 3)), out=np.zeros((4, 3)))
    with pytest.raises(DatasetError, match=r"not a float32 array of shape \(4, 2\)"):
        scaler.transform(np.zeros((4, 3)), out=np.zeros((4, 2), dtype=np.float32))


def test_nan_in_a_later_block_is_still_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preprocess, "_BLOCK_ELEMENTS", 16)
    x = np.ones((100, 4), dtype=np.float32)
    x[97, 2] = np.inf
    with pytest.raises(DatasetError, match="NaN or Inf"):
        Scaler("standard").fit(x)
