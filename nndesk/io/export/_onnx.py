"""The lazy import of the optional ``onnx`` package (the ``nndesk[onnx]`` extra)."""

from __future__ import annotations

from types import ModuleType

from .errors import MissingDependencyError

OPSET = 17
"""The ONNX operator set nndesk writes (and the oldest it reads)."""

IR_VERSION = 8
"""The ONNX IR version written: the one opset 17 came with, which every
onnxruntime since 1.12 loads (the ``onnx`` package would otherwise write its
newest, which older runtimes refuse)."""

PRODUCER = "nndesk"


def require_onnx(what: str) -> ModuleType:
    """The ``onnx`` module, or one sentence saying how to install it.

    Parameters
    ----------
    what : str
        What needs it, for the message (``"ONNX export"``).

    Raises
    ------
    MissingDependencyError
        When ``onnx`` is not importable.
    """
    try:
        import onnx
    except ImportError:
        raise MissingDependencyError(
            f"{what} needs the onnx package, which is not installed: run "
            "pip install 'nndesk[onnx]'."
        ) from None
    return onnx
