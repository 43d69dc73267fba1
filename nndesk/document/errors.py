"""Errors the network document raises; each message is one sentence fit for a user.

The editor shows these messages as they are (in a status bar while dragging an edge,
in a dialog when a file cannot be read), so every message names the place: the node,
the port, the parameter or the file key.
"""

from __future__ import annotations

from ..engine.errors import NNDeskError


class DocumentError(NNDeskError, ValueError):
    """Root of the document errors: an edit or a file the document refuses."""


class UnknownNodeTypeError(DocumentError):
    """A node type name that is not in the registry."""


class NodeNotFoundError(DocumentError):
    """A node id that is not in the document."""


class ParamError(DocumentError):
    """A parameter or setting value outside its schema (type, range, choices)."""


class ConnectionRefused(DocumentError):
    """An edge the document will not add: missing port, taken port, duplicate, cycle."""


class EdgeNotFoundError(DocumentError):
    """An edge that is not in the document."""


class SchemaError(DocumentError):
    """Saved document data that does not fit the format; the message names the key."""
