"""nndesk: a desktop workbench for neural networks.

Importing this package imports no Qt and no Numba; the GUI and the accelerated
kernels load lazily when first used, and ``nndesk.load`` (the Python API, see
``nndesk.api``) imports the engine only when it is first looked up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

__all__ = ["__version__", "load"]

if TYPE_CHECKING:
    from .api import load


def __getattr__(name: str) -> Any:
    # PEP 562: keeps `import nndesk` (and `nndesk --version`) free of NumPy work.
    if name == "load":
        from .api import load

        return load
    raise AttributeError(f"module 'nndesk' has no attribute {name!r}")
