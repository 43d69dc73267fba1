"""Leaving and entering nndesk: ONNX export and import, PyTorch project export.

The ``onnx`` package is optional (``pip install 'nndesk[onnx]'``) and imported
only when an ONNX file is written or read; PyTorch is never imported here (the
PyTorch project is text written from templates).
"""

from __future__ import annotations

from .errors import ExportError, MissingDependencyError, ModelImportError
from .gan_export import GAN_PARTS, export_gan, gan_onnx_paths
from .onnx_export import LAYER_EXPORTERS, export_onnx, model_to_onnx
from .onnx_import import OP_IMPORTERS, import_onnx, onnx_to_project
from .torch_project import LAYER_WRITERS, export_pytorch

__all__ = [
    "GAN_PARTS",
    "LAYER_EXPORTERS",
    "LAYER_WRITERS",
    "OP_IMPORTERS",
    "ExportError",
    "MissingDependencyError",
    "ModelImportError",
    "export_gan",
    "export_onnx",
    "export_pytorch",
    "gan_onnx_paths",
    "import_onnx",
    "model_to_onnx",
    "onnx_to_project",
]
