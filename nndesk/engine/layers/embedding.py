"""Embedding: a learned vector per integer token id.

The input holds token ids, one per position (``(time,)`` per sample for a
sequence); the output adds a feature axis: ``(time, output_dim)``. The ids arrive
in the model's float dtype (exact for ids below 2**24) and must be whole numbers
in ``[0, input_dim)``. ``embeddings`` ``(input_dim, output_dim)`` is
``torch.nn.Embedding.weight`` as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError, DataError
from ..initializers import get_initializer, initialize
from .base import Layer, Shape
from .core import _positive_int

__all__ = ["Embedding"]

# Ids read from float data may carry rounding noise (a scaled or averaged column);
# values this close to a whole number count as that number.
_ID_TOLERANCE = 1e-3


class Embedding(Layer):
    """``y[..., :] = embeddings[x[...]]`` for integer ids ``x``.

    ``x`` is ``(batch, *shape)`` of ids, ``y`` ``(batch, *shape, output_dim)``.
    The ids get no gradient (they are not differentiable): ``backward`` returns
    zeros for them when asked.
    """

    type_name = "Embedding"
    needs_integer_input = True

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer: str = "glorot_uniform",
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        self.input_dim = _positive_int(input_dim, "input_dim", self.label)
        self.output_dim = _positive_int(output_dim, "output_dim", self.label)
        try:
            get_initializer(embeddings_initializer)
        except ConfigError as exc:
            raise ConfigError(f"{self.label}: {exc}") from None
        self.embeddings_initializer = embeddings_initializer
        self._ids: np.ndarray | None = None

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        self.check_input_count(len(input_shapes))
        shape = tuple(input_shapes[0])
        if len(shape) == 0:
            raise self.shape_error(
                "needs at least one id per sample but receives scalars."
            )
        return (*shape, self.output_dim)

    def param_shapes(self, input_shapes: Sequence[Shape]) -> dict[str, Shape]:
        self.output_shape(input_shapes)
        return {"embeddings": (self.input_dim, self.output_dim)}

    def init_params(self, input_shapes, rng):
        shape = self.param_shapes(input_shapes)["embeddings"]
        return {
            "embeddings": initialize(
                self.embeddings_initializer, shape, rng, np.float64
            )
        }

    def token_ids(self, x: np.ndarray) -> np.ndarray:
        """``x`` as ``intp`` ids.

        Raises
        ------
        DataError
            Naming the layer, the first bad value and its sample, when a value is
            not a whole number in ``[0, input_dim)``.
        """
        ids = np.rint(x)
        bad = np.abs(ids - x) > _ID_TOLERANCE
        bad |= (ids < 0) | (ids >= self.input_dim) | ~np.isfinite(x)
        if bad.any():
            i = np.unravel_index(int(np.argmax(bad)), x.shape)
            raise DataError(
                f"{self.label} needs integer token ids in [0, {self.input_dim}) but "
                f"sample {int(i[0])} holds {float(x[i]):g}: feed it whole-number ids below "
                "input_dim (e.g. from an Input of dtype int)."
            )
        return ids.astype(np.intp)

    def forward(self, inputs: Sequence[np.ndarray], training: bool) -> np.ndarray:
        x = inputs[0]
        self._ids = ids = self.token_ids(x)
        y = self._buffer("y", (*x.shape, self.output_dim))
        np.take(self.params["embeddings"], ids, axis=0, out=y, mode="clip")
        return y

    def backward(self, dy: np.ndarray) -> list[np.ndarray | None]:
        ids = self._ids
        assert ids is not None, "backward before forward"
        g = self.grads["embeddings"]
        g[...] = 0.0
        np.add.at(g, ids.reshape(-1), dy.reshape(-1, self.output_dim))
        if not self.needs_input_grad:
            return [None]
        dx = self._buffer("dx", ids.shape)
        dx[...] = 0.0
        return [dx]

    def get_config(self) -> dict[str, Any]:
        return {
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": self.embeddings_initializer,
            "name": self.name,
        }
