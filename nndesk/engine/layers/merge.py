"""Merge layers: Add (elementwise sum) and Concatenate (along a per-sample axis)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import Layer, Shape, format_shape

__all__ = ["Add", "Concatenate"]


def _shapes_text(shapes: Sequence[Shape]) -> str:
    return ", ".join(format_shape(s) for s in shapes)


class Add(Layer):
    """Elementwise sum of two or more inputs of one shape (no broadcasting)."""

    type_name = "Add"
    min_inputs = 2
    max_inputs = None

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        self.check_input_count(len(input_shapes))
        first = tuple(input_shapes[0])
        if any(tuple(s) != first for s in input_shapes[1:]):
            raise self.shape_error(
                f"needs inputs of one shape but receives {_shapes_text(input_shapes)}."
            )
        return first

    def forward(self, inputs: Sequence[np.ndarray], training: bool) -> np.ndarray:
        y = self._buffer("y", inputs[0].shape)
        np.add(inputs[0], inputs[1], out=y)
        for x in inputs[2:]:
            y += x
        self._n = len(inputs)
        return y

    def backward(self, dy: np.ndarray) -> list[np.ndarray | None]:
        # The same array for every input: the model copies before accumulating.
        return [dy] * self._n


class Concatenate(Layer):
    """Joins two or more inputs along per-sample ``axis`` (-1: the last one).

    ``axis`` counts per-sample axes only: for ``(batch, 4, 3)`` inputs, ``axis=0``
    joins along the 4.
    """

    type_name = "Concatenate"
    min_inputs = 2
    max_inputs = None

    def __init__(self, axis: int = -1, name: str | None = None) -> None:
        super().__init__(name)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise self.config_error(f"axis must be an integer, got {axis!r}.")
        self.axis = int(axis)

    def _sample_axis(self, rank: int) -> int:
        if not -rank <= self.axis < rank:
            raise self.shape_error(
                f"cannot join along axis {self.axis} of {rank}-D samples."
            )
        return self.axis % rank

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        self.check_input_count(len(input_shapes))
        shapes = [tuple(s) for s in input_shapes]
        rank = len(shapes[0])
        if rank == 0 or any(len(s) != rank for s in shapes):
            raise self.shape_error(
                "needs inputs of one rank (at least 1-D) but receives "
                f"{_shapes_text(shapes)}."
            )
        ax = self._sample_axis(rank)
        rest = [s[:ax] + s[ax + 1 :] for s in shapes]
        if any(r != rest[0] for r in rest[1:]):
            raise self.shape_error(
                f"needs inputs that agree on every axis but {self.axis}; receives "
                f"{_shapes_text(shapes)}."
            )
        total = sum(s[ax] for s in shapes)
        return shapes[0][:ax] + (total,) + shapes[0][ax + 1 :]

    def forward(self, inputs: Sequence[np.ndarray], training: bool) -> np.ndarray:
        ax = self._sample_axis(inputs[0].ndim - 1) + 1
        shape = list(inputs[0].shape)
        shape[ax] = sum(x.shape[ax] for x in inputs)
        y = self._buffer("y", tuple(shape))
        np.concatenate(inputs, axis=ax, out=y)
        self._splits = (ax, [x.shape[ax] for x in inputs])
        return y

    def backward(self, dy: np.ndarray) -> list[np.ndarray | None]:
        ax, sizes = self._splits
        grads: list[np.ndarray | None] = []
        start = 0
        index: list[slice] = [slice(None)] * dy.ndim
        for size in sizes:
            index[ax] = slice(start, start + size)
            grads.append(dy[tuple(index)])
            start += size
        return grads

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis, "name": self.name}
