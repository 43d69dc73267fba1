"""The nndesk error hierarchy; every error a user can see derives from NNDeskError.

The message of each error is one sentence that names the cause and the place (the
layer, node, file, row or column), fit to be shown to a user as it is.
"""

from __future__ import annotations


class NNDeskError(Exception):
    """Root of every error nndesk raises on purpose."""


class ConfigError(NNDeskError, ValueError):
    """An unknown name or an invalid parameter (activation, loss, optimizer, ...)."""


class ShapeError(NNDeskError, ValueError):
    """Tensor shapes that do not fit together; the message names layer and shapes."""


class DataError(NNDeskError, ValueError):
    """Input data that cannot be used: NaN/Inf, labels out of range, wrong dtype."""


class NumericalError(NNDeskError, ArithmeticError):
    """Training produced NaN or Inf (a loss, a gradient, a weight)."""


class GraphError(NNDeskError, ValueError):
    """A model graph that cannot be executed: a cycle, a dangling input, ..."""


class ResourceError(NNDeskError, MemoryError):
    """A plan that needs more memory than this process can use; the message names
    the node or file, the estimate and the memory available."""
