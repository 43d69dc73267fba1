"""The engine's compiled kernels: Numba loops with NumPy twins, in one place.

- ``jit``: the machinery (``kernel``, ``numba_enabled``, ``set_numba_enabled``...);
  its public names are re-exported here.
- ``layers``: elementwise kernels of layers and activations.
- ``optim``: fused optimizer updates and fused losses.
- ``chain``: the one-call training step of a plain Dense stack.

A new family of kernels (e.g. convolutions) is a new module here that imports
``kernel`` from ``.jit``. Importing this package imports neither Numba nor any of
the kernel modules.
"""

from __future__ import annotations

from .jit import (
    Kernel,
    kernel,
    numba_enabled,
    numba_expected,
    numba_resolved,
    reset_kernels,
    set_numba_enabled,
)

__all__ = [
    "Kernel",
    "kernel",
    "numba_enabled",
    "numba_expected",
    "numba_resolved",
    "reset_kernels",
    "set_numba_enabled",
]
