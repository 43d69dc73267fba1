"""nndesk: a desktop workbench for neural networks.

Importing this package imports no Qt and no Numba; the GUI and the accelerated
kernels load lazily when first used.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
