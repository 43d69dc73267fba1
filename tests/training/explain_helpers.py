"""A small channels-last convolution for the explanation tests (test-local).

It keeps the tests of ``nndesk.training.explain`` independent of the engine's own
convolution layers: a plain ``valid``, stride-1 convolution ``(batch, h, w, in)`` ->
``(batch, h-k+1, w-k+1, out)`` with a ``(k, k, in, out)`` kernel, written for
clarity, not speed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nndesk.engine.layers import Dense, Flatten, Input
from nndesk.engine.layers.base import Layer, Shape
from nndesk.engine.model import Model


class PlainConv(Layer):
    """``y[b, i, j, o] = sum_{u, v, c} x[b, i+u, j+v, c] * kernel[u, v, c, o] + bias[o]``."""

    type_name = "PlainConv"

    def __init__(self, filters: int, size: int, name: str | None = None) -> None:
        super().__init__(name)
        self.filters, self.size = int(filters), int(size)

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        h, w, _ = input_shapes[0]
        return (h - self.size + 1, w - self.size + 1, self.filters)

    def init_params(self, input_shapes, rng):
        cin = input_shapes[0][-1]
        shape = (self.size, self.size, cin, self.filters)
        return {
            "kernel": rng.normal(0.0, 0.5, size=shape),
            "bias": rng.normal(0.0, 0.1, size=(self.filters,)),
        }

    def forward(self, inputs: Sequence[np.ndarray], training: bool) -> np.ndarray:
        x = inputs[0]
        self._x = x
        k = self.size
        win = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))
        # win: (b, h', w', c, k, k)
        return (
            np.einsum("bijcuv,uvco->bijo", win, self.params["kernel"])
            + self.params["bias"]
        )

    def backward(self, dy: np.ndarray) -> list[np.ndarray | None]:
        x, k = self._x, self.size
        win = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))
        self.grads["kernel"][...] = np.einsum("bijcuv,bijo->uvco", win, dy)
        self.grads["bias"][...] = dy.sum(axis=(0, 1, 2))
        dx = np.zeros_like(x)
        h, w = dy.shape[1:3]
        for u in range(k):
            for v in range(k):
                dx[:, u : u + h, v : v + w, :] += dy @ self.params["kernel"][u, v].T
        return [dx]


def conv_model(
    shape: tuple[int, int, int] = (6, 5, 2), seed: int = 0, dtype=np.float64
) -> Model:
    """Input -> PlainConv(3, 3) 'conv' -> Flatten -> Dense(3, softmax) 'out'."""
    inp = Input(shape, name="image")
    conv = PlainConv(3, 3, name="conv")(inp)
    flat = Flatten(name="flat")(conv)
    out = Dense(3, activation="softmax", name="out")(flat)
    return Model(inp, out, seed=seed, dtype=dtype).build()


def engine_conv_model(seed: int = 0, dtype=np.float64) -> Model:
    """The engine's own layers: Input (7, 6, 2) -> Conv2D(3, 3, relu, same) 'conv'
    -> MaxPool2D(2) 'pool' -> Flatten -> Dense(3, softmax) 'out'."""
    from nndesk.engine.layers.conv import Conv2D
    from nndesk.engine.layers.pooling import MaxPool2D

    inp = Input((7, 6, 2), name="image")
    conv = Conv2D(3, 3, padding="same", activation="relu", name="conv")(inp)
    pool = MaxPool2D(2, name="pool")(conv)
    out = Dense(3, activation="softmax", name="out")(Flatten(name="flat")(pool))
    return Model(inp, out, seed=seed, dtype=dtype).build()


def dense_model(features: int = 4, seed: int = 0, dtype=np.float64) -> Model:
    """Input -> Dense(5, tanh) 'hidden' -> Dense(3, softmax) 'out'."""
    inp = Input((features,), name="x")
    hidden = Dense(5, activation="tanh", name="hidden")(inp)
    out = Dense(3, activation="softmax", name="out")(hidden)
    return Model(inp, out, seed=seed, dtype=dtype).build()
