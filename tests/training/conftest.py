"""Fixtures for the training tests."""

from __future__ import annotations

import pytest

from nndesk.engine import kernels


@pytest.fixture
def numpy_kernels():
    """Force the NumPy kernels (bit-identity tests compare runs on one path)."""
    kernels.set_numba_enabled(False)
    yield
    kernels.set_numba_enabled(None)
