"""Class colours shared by the plots that colour points by class (boundary, painting)."""

from __future__ import annotations

import numpy as np

__all__ = ["CLASS_COLORS", "class_color"]

CLASS_COLORS = np.array(
    [
        (8, 119, 189), (245, 147, 34), (44, 160, 44), (214, 39, 40), (148, 103, 189),
        (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
    ],
    dtype=np.float64,
)  # fmt: skip
"""Colour of class k is ``CLASS_COLORS[k % 10]`` (class 0 blue, class 1 orange)."""


def class_color(k: int) -> tuple[int, int, int]:
    """The RGB colour of class ``k``."""
    r, g, b = CLASS_COLORS[int(k) % len(CLASS_COLORS)]
    return int(r), int(g), int(b)
