"""The network as an editable document: graph, events, node registry, shapes, files.

Imports only ``nndesk.engine`` and never Qt; the editor and the trainer share it.
See docs/document.md for the model, its events and the registry.
"""

from __future__ import annotations

from .errors import (
    ConnectionRefused,
    DocumentError,
    EdgeNotFoundError,
    NodeNotFoundError,
    ParamError,
    SchemaError,
    UnknownNodeTypeError,
)
from .graph import Document, RemovedNode, Snapshot
from .params import ParamSpec
from .registry import CATEGORIES, REGISTRY, NodeSpec, PortSpec, get_spec
from .schema import FORMAT_VERSION, document_from_dict, document_to_dict
from .settings import SETTINGS
from .shapes import NodeShape, ShapeReport, infer_shapes
from .validate import Problem, validate
from .view import Edge, GraphView, Node

__all__ = [
    "CATEGORIES",
    "FORMAT_VERSION",
    "REGISTRY",
    "SETTINGS",
    "ConnectionRefused",
    "Document",
    "DocumentError",
    "Edge",
    "EdgeNotFoundError",
    "GraphView",
    "Node",
    "NodeNotFoundError",
    "NodeShape",
    "NodeSpec",
    "ParamError",
    "ParamSpec",
    "PortSpec",
    "Problem",
    "RemovedNode",
    "SchemaError",
    "ShapeReport",
    "Snapshot",
    "UnknownNodeTypeError",
    "document_from_dict",
    "document_to_dict",
    "get_spec",
    "infer_shapes",
    "validate",
]
