"""Fixtures for the engine tests: both kernel paths, and small seeded data."""

from __future__ import annotations

import numpy as np
import pytest

from nndesk.engine import kernels


@pytest.fixture(params=[False, True], ids=["numpy", "numba"])
def kernel_path(request: pytest.FixtureRequest):
    """Run the test once with the NumPy kernels and once with the Numba ones."""
    kernels.set_numba_enabled(request.param)
    if request.param and not kernels.numba_enabled():
        kernels.set_numba_enabled(None)
        pytest.skip("Numba is not installed")
    yield request.param
    kernels.set_numba_enabled(None)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
