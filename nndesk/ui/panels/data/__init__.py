"""The Data panel: the dataset's source, options, preview, splits and scaling."""

from __future__ import annotations

from .drop import data_path_from_mime
from .panel import DataPanel

__all__ = ["DataPanel", "data_path_from_mime"]
