"""Engine layers (the helper writing the layers fills in the exports)."""

from __future__ import annotations

from .base import Layer, Shape

__all__ = ["Layer", "Shape"]
