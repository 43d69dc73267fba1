"""Batch normalisation over every axis but the last (channels-last), PyTorch semantics.

In training the batch statistics normalise (biased variance) and the running
statistics move by ``momentum``: ``running = (1 - momentum) * running + momentum *
batch``, with the unbiased variance for ``running_var``. At inference the running
statistics normalise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import Layer, Shape

__all__ = ["BatchNorm"]


class BatchNorm(Layer):
    """``y = gamma * (x - mean) / sqrt(var + epsilon) + beta`` per channel.

    ``x`` is ``(batch, ..., channels)``; statistics run over all axes but the last.
    Parameters ``gamma``, ``beta`` and state ``running_mean``, ``running_var`` are
    ``(channels,)``. A training batch with a single value per channel normalises
    to ``beta`` and leaves ``running_var`` unchanged (its unbiased estimate is
    undefined).
    """

    type_name = "BatchNorm"

    def __init__(
        self, momentum: float = 0.1, epsilon: float = 1e-5, name: str | None = None
    ) -> None:
        super().__init__(name)
        try:
            m, e = float(momentum), float(epsilon)
        except (TypeError, ValueError):
            raise self.config_error("momentum and epsilon must be numbers.") from None
        if not 0.0 <= m <= 1.0:
            raise self.config_error(f"momentum must be in [0, 1], got {momentum!r}.")
        if not (e > 0 and math.isfinite(e)):
            raise self.config_error(f"epsilon must be positive, got {epsilon!r}.")
        self.momentum = m
        self.epsilon = e
        self._cache: tuple[Any, ...] | None = None

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        self.check_input_count(len(input_shapes))
        shape = tuple(input_shapes[0])
        if len(shape) == 0:
            raise self.shape_error(
                "needs at least 1-D features (the last axis holds the channels) "
                "but receives scalars per sample."
            )
        return shape

    def param_shapes(self, input_shapes: Sequence[Shape]) -> dict[str, Shape]:
        channels = self.output_shape(input_shapes)[-1]
        return {"gamma": (channels,), "beta": (channels,)}

    def state_shapes(self, input_shapes: Sequence[Shape]) -> dict[str, Shape]:
        channels = self.output_shape(input_shapes)[-1]
        return {"running_mean": (channels,), "running_var": (channels,)}

    def init_params(self, input_shapes, rng):
        (channels,) = self.param_shapes(input_shapes)["gamma"]
        return {"gamma": np.ones(channels), "beta": np.zeros(channels)}

    def init_state(self, input_shapes):
        (channels,) = self.state_shapes(input_shapes)["running_mean"]
        return {"running_mean": np.zeros(channels), "running_var": np.ones(channels)}

    def forward(self, inputs: Sequence[np.ndarray], training: bool) -> np.ndarray:
        x = inputs[0]
        x2 = x.reshape(-1, x.shape[-1])
        y = self._buffer("y", x2.shape)
        if training:
            self._forward_train(x2, y)
        else:
            self._forward_eval(x2, y)
        return y.reshape(x.shape)

    def _forward_train(self, x2: np.ndarray, y: np.ndarray) -> None:
        gamma, beta = self.params["gamma"], self.params["beta"]
        m = x2.shape[0]
        mean = x2.mean(axis=0)
        xhat = self._buffer("xhat", x2.shape)
        np.subtract(x2, mean, out=xhat)
        np.multiply(xhat, xhat, out=y)  # y is scratch until the output is written
        var = y.mean(axis=0)
        inv_std = 1.0 / np.sqrt(var + self.epsilon)
        xhat *= inv_std
        np.multiply(xhat, gamma, out=y)
        y += beta
        self._update_running(mean, var, m)
        self._cache = (True, xhat, inv_std, m)

    def _update_running(self, mean: np.ndarray, var: np.ndarray, m: int) -> None:
        mom = self.momentum
        rm, rv = self.state["running_mean"], self.state["running_var"]
        rm *= 1.0 - mom
        rm += mom * mean
        if m > 1:
            rv *= 1.0 - mom
            rv += (mom * m / (m - 1)) * var

    def _forward_eval(self, x2: np.ndarray, y: np.ndarray) -> None:
        rm, rv = self.state["running_mean"], self.state["running_var"]
        inv_std = 1.0 / np.sqrt(rv + self.epsilon)
        scale = self.params["gamma"] * inv_std
        np.multiply(x2, scale, out=y)
        y += self.params["beta"] - rm * scale
        self._cache = (False, x2, inv_std, x2.shape[0])

    def backward(self, dy: np.ndarray) -> list[np.ndarray | None]:
        training, xarr, inv_std, m = self._cache
        dy2 = dy.reshape(-1, dy.shape[-1])
        gamma = self.params["gamma"]
        dgamma, dbeta = self.grads["gamma"], self.grads["beta"]
        dx = self._buffer("dx", dy2.shape)
        np.add.reduce(dy2, axis=0, out=dbeta)
        if training:
            xhat = xarr
            np.multiply(dy2, xhat, out=dx)  # dx is scratch here
            np.add.reduce(dx, axis=0, out=dgamma)
            if not self.needs_input_grad:
                return [None]
            # dx = gamma*inv_std/m * (m*dy - sum(dy) - xhat*sum(dy*xhat))
            np.multiply(xhat, dgamma, out=dx)
            dx += dbeta
            dx *= -1.0 / m
            dx += dy2
            dx *= gamma * inv_std
        else:
            xhat = (xarr - self.state["running_mean"]) * inv_std
            np.add.reduce(dy2 * xhat, axis=0, out=dgamma)
            if not self.needs_input_grad:
                return [None]
            np.multiply(dy2, gamma * inv_std, out=dx)
        return [dx.reshape(dy.shape)]

    def get_config(self) -> dict[str, Any]:
        return {"momentum": self.momentum, "epsilon": self.epsilon, "name": self.name}
