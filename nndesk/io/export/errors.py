"""Errors of the exporters and importers: one sentence naming the node and the reason."""

from __future__ import annotations

from ...engine.errors import NNDeskError

__all__ = ["ExportError", "ModelImportError", "MissingDependencyError"]


class ExportError(NNDeskError):
    """A network that cannot be written in another format, or a file that cannot be
    written; the message names the node (or file) and the reason."""


class ModelImportError(NNDeskError, ValueError):
    """A model file (ONNX) that cannot become an nndesk network; the message names
    the file and the ONNX node (or every unsupported node) at fault."""


class MissingDependencyError(NNDeskError, ImportError):
    """An optional package an exporter or importer needs is not installed."""
