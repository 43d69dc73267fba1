"""Recurrent layers in PyTorch's form: SimpleRNN, LSTM and GRU.

Samples are ``(time, features)``: a batch is ``(batch, time, features)`` as in
``torch.nn.LSTM(batch_first=True)``. Every layer starts from a zero state and
returns the whole sequence of hidden states ``(time, units)`` when
``return_sequences`` is true, else the final state ``(units,)``. With
``bidirectional`` a second set of weights reads the sequence backwards and its
states are concatenated after the forward ones (``2 * units`` features), as torch
does; without ``return_sequences`` that is the final state of each direction
(torch's ``h_n``: the forward state after the last step, the reverse state after
the first).

Weights per direction (``_reverse`` suffix for the backward one), with ``G``
gates of ``units`` each stacked in torch's order (SimpleRNN: 1; LSTM: input,
forget, cell, output; GRU: reset, update, new):

- ``kernel`` ``(features, G*units)`` = torch ``weight_ih_l0.T``
- ``recurrent_kernel`` ``(units, G*units)`` = torch ``weight_hh_l0.T``
- ``bias`` ``(G*units,)`` = ``bias_ih_l0``; ``recurrent_bias`` = ``bias_hh_l0``

Speed: the input projection of all time steps is one matrix product, each step
one fused product of the state with the recurrent kernel (all gates at once), the
per-step arrays live in preallocated ``(time, batch, ...)`` buffers, and the
backward pass (full backpropagation through time) ends with one product each for
the kernel, the recurrent kernel and the input gradient over all steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from ..errors import ConfigError
from ..initializers import get_initializer, initialize
from ..kernels import layers as K
from ..kernels import recurrent as RK
from .base import Layer, Shape, format_shape
from .core import _positive_int

__all__ = ["GRU", "LSTM", "SimpleRNN", "sequence_shape"]

DIRECTIONS = ("", "_reverse")
PARAM_NAMES = ("kernel", "recurrent_kernel", "bias", "recurrent_bias")


def sequence_shape(layer: Layer, shape: Shape) -> Shape:
    """``shape`` when it is ``(time, features)``, else a ShapeError naming
    ``layer``, the shape and the likely fix."""
    if len(shape) == 2:
        return shape
    if len(shape) == 1:
        fix = (
            ": it has no time axis; set return_sequences on the recurrent layer "
            f"before it, or Reshape({format_shape((shape[0], 1))}) a single series"
        )
    else:
        fix = ": Reshape it to (time, features) first"
    raise layer.shape_error(
        f"expects (time, features) sequences but receives {format_shape(shape)}{fix}."
    )


class _Pass:
    """The per-step buffers of one direction over one batch, time-major.

    ``h`` has ``time + 1`` rows: the zero initial state and one per step. The
    forward direction writes step ``t`` to ``h[t + 1]`` (its previous state is
    ``h[t]``); the reverse one writes it to ``h[t]`` (previous ``h[t + 1]``), so
    the outputs in time order are ``h[1:]`` and ``h[:-1]`` and the previous
    states ``h[:-1]`` and ``h[1:]`` in both cases.
    """

    def __init__(
        self, xp: np.ndarray, acts: np.ndarray, h: np.ndarray, reverse: bool
    ) -> None:
        steps = xp.shape[0]
        self.reverse = reverse
        self.xp = xp  # input projections (with the biases that fold in)
        self.acts = acts  # gate activations
        self.h = h
        self.h[steps if reverse else 0] = 0.0
        self.order = range(steps - 1, -1, -1) if reverse else range(steps)
        # Set by the cells that need them: LSTM's cell states (c, with a zero
        # row like h) and their tanh (tc); GRU's recurrent products (hr) and
        # their gradients (drec); backward's per-step work arrays.
        self.c: np.ndarray | None = None
        self.tc: np.ndarray | None = None
        self.hr: np.ndarray | None = None
        self.drec: np.ndarray | None = None
        self.dc: np.ndarray | None = None
        self.tmp: np.ndarray | None = None
        self.carry: np.ndarray | None = None
        # What the NumPy twin of a small LSTM's forward returns for its backward,
        # and whether ``acts``, ``c`` and ``tc`` still wait to be written from it.
        self.work: tuple | None = None
        self.unstored = False

    def slot(self, t: int) -> tuple[int, int]:
        """Rows of ``h`` holding (previous state, new state) of step ``t``."""
        return (t + 1, t) if self.reverse else (t, t + 1)

    @property
    def outputs(self) -> np.ndarray:
        """The states in time order, ``(time, batch, units)``."""
        return self.h[:-1] if self.reverse else self.h[1:]

    @property
    def previous(self) -> np.ndarray:
        """The state before each step, in time order."""
        return self.h[1:] if self.reverse else self.h[:-1]

    @property
    def final(self) -> np.ndarray:
        """The state after the direction's last step, ``(batch, units)``."""
        return self.h[0] if self.reverse else self.h[-1]


class _Recurrent(Layer):
    """What SimpleRNN, LSTM and GRU share: config, weights, the input
    projection, the loop over directions and the weight gradients.

    Subclasses set ``gates`` and implement ``_step`` and ``_step_back``.
    """

    gates: ClassVar[int] = 1
    gate_names: ClassVar[tuple[str, ...]] = ()
    """The gate blocks ``trace`` reports, in the weights' order."""
    folds_recurrent_bias: ClassVar[bool] = True
    """The recurrent bias adds straight to the input projection (SimpleRNN, LSTM);
    GRU's new gate multiplies it by the reset gate, so it cannot."""

    def __init__(
        self,
        units: int,
        return_sequences: bool = False,
        bidirectional: bool = False,
        use_bias: bool = True,
        kernel_initializer: str = "glorot_uniform",
        recurrent_initializer: str = "glorot_uniform",
        bias_initializer: str = "zeros",
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        label = self.label
        self.units = _positive_int(units, "units", label)
        self.return_sequences = bool(return_sequences)
        self.bidirectional = bool(bidirectional)
        self.use_bias = bool(use_bias)
        for init in (kernel_initializer, recurrent_initializer, bias_initializer):
            try:
                get_initializer(init)
            except ConfigError as exc:
                raise ConfigError(f"{label}: {exc}") from None
        self.kernel_initializer = kernel_initializer
        self.recurrent_initializer = recurrent_initializer
        self.bias_initializer = bias_initializer
        self._passes: list[_Pass] = []
        self._x2: np.ndarray | None = None

    # --- shapes ----------------------------------------------------------------------
    @property
    def directions(self) -> int:
        """1, or 2 when bidirectional."""
        return 2 if self.bidirectional else 1

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        self.check_input_count(len(input_shapes))
        steps, _ = sequence_shape(self, tuple(input_shapes[0]))
        width = self.units * self.directions
        return (steps, width) if self.return_sequences else (width,)

    def param_shapes(self, input_shapes: Sequence[Shape]) -> dict[str, Shape]:
        self.output_shape(input_shapes)
        features = int(input_shapes[0][1])
        gu = self.gates * self.units
        one = {
            "kernel": (features, gu),
            "recurrent_kernel": (self.units, gu),
        }
        if self.use_bias:
            one |= {"bias": (gu,), "recurrent_bias": (gu,)}
        return {
            f"{k}{suffix}": s
            for suffix in DIRECTIONS[: self.directions]
            for k, s in one.items()
        }

    def scratch_size(self, input_shapes: Sequence[Shape], training: bool) -> int:
        """Values per sample of the per-step buffers (projections, gates, states
        of every step) and, in training, their gradients."""
        steps, features = sequence_shape(self, tuple(input_shapes[0]))
        u, gu = self.units, self.gates * self.units
        per_direction = steps * (2 * gu + 3 * u)
        values = self.directions * per_direction + steps * features
        return 2 * values if training else values

    def init_params(self, input_shapes, rng):
        inits = {
            "kernel": self.kernel_initializer,
            "recurrent_kernel": self.recurrent_initializer,
            "bias": self.bias_initializer,
            "recurrent_bias": self.bias_initializer,
        }
        return {
            key: initialize(inits[key.removesuffix("_reverse")], shape, rng, np.float64)
            for key, shape in self.param_shapes(input_shapes).items()
        }

    def _param(self, name: str, d: int) -> np.ndarray | None:
        return self.params.get(name + DIRECTIONS[d])

    def _grad(self, name: str, d: int) -> np.ndarray | None:
        return self.grads.get(name + DIRECTIONS[d])

    # --- forward -----------------------------------------------------------------------
    def forward(self, inputs: Sequence[np.ndarray], training: bool) -> np.ndarray:
        x = inputs[0]
        batch, steps, features = x.shape
        # Time-major copy: each step's rows of every buffer are then contiguous.
        xt = self._buffer("xt", (steps, batch, features))
        np.copyto(xt, x.transpose(1, 0, 2))
        self._x2 = x2 = xt.reshape(steps * batch, features)
        self._passes = []
        for d in range(self.directions):
            p = self._new_pass(d, steps, batch)
            kernel, bias = self._projection_weights(d, batch)
            if kernel is not None:  # else _run projects (LSTM, small, NumPy)
                np.matmul(x2, kernel, out=p.xp.reshape(steps * batch, -1))
                if bias is not None:
                    p.xp += bias
            self._run(p, d)
            self._passes.append(p)
        return self._output(batch, steps)

    def _projection_weights(
        self, d: int, batch: int
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The kernel and the bias (None without one) that make direction ``d``'s
        input projections; the recurrent bias is in it when it folds. A None
        kernel: ``_run`` makes the projections itself."""
        bias = None
        if self.use_bias:
            bias = self._param("bias", d)
            if self.folds_recurrent_bias:  # one pass over the projections
                bias = bias + self._param("recurrent_bias", d)
        return self._param("kernel", d), bias

    def _new_pass(self, d: int, steps: int, batch: int) -> _Pass:
        u, gu, key = self.units, self.gates * self.units, DIRECTIONS[d]
        return _Pass(
            self._buffer("xp" + key, (steps, batch, gu)),
            self._buffer("acts" + key, (steps, batch, gu)),
            self._buffer("h" + key, (steps + 1, batch, u)),
            reverse=d == 1,
        )

    def _run(self, p: _Pass, d: int) -> None:
        rk = self._param("recurrent_kernel", d)
        rb = self._param("recurrent_bias", d)
        for t in p.order:
            prev, new = p.slot(t)
            self._step(p, t, p.h[prev], p.h[new], rk, rb)

    def _output(self, batch: int, steps: int) -> np.ndarray:
        u, width = self.units, self.units * self.directions
        if not self.return_sequences:
            if self.directions == 1:
                return self._passes[0].final
            y = self._buffer("y", (batch, width))
            for d, p in enumerate(self._passes):
                y[:, d * u : (d + 1) * u] = p.final
            return y
        y = self._buffer("y", (batch, steps, width))
        for d, p in enumerate(self._passes):
            y[:, :, d * u : (d + 1) * u] = p.outputs.transpose(1, 0, 2)
        return y

    def _step(
        self,
        p: _Pass,
        t: int,
        h_prev: np.ndarray,
        h: np.ndarray,
        rk: np.ndarray,
        rb: np.ndarray | None,
    ) -> None:
        """Step ``t``: gates into ``p.acts[t]``, the new state into ``h``."""
        raise NotImplementedError

    def trace(self) -> dict[str, np.ndarray]:
        """The per-step internals of the last forward pass, for the live views.

        Returns
        -------
        dict
            Fresh ``(batch, time, directions * units)`` arrays in time order (the
            directions side by side, as in the output): ``"hidden"``, ``"cell"``
            (LSTM) and one per name of ``gate_names`` (its activation).
        """
        if not self._passes:
            raise self.config_error("has no forward pass to trace yet.")
        u = self.units

        def joined(parts: list[np.ndarray]) -> np.ndarray:
            return np.concatenate([a.transpose(1, 0, 2) for a in parts], axis=-1)

        self._store_passes()
        out = {"hidden": joined([p.outputs for p in self._passes])}
        if self._passes[0].c is not None:
            out["cell"] = joined(
                [p.c[:-1] if p.reverse else p.c[1:] for p in self._passes]  # type: ignore[index]
            )
        for k, gate in enumerate(self.gate_names):
            out[gate] = joined(
                [p.acts[:, :, k * u : (k + 1) * u] for p in self._passes]
            )
        return out

    def _store_passes(self) -> None:
        """Fill the per-step buffers a kernel left in its own arrays."""

    # --- backward ----------------------------------------------------------------------
    def backward(self, dy: np.ndarray) -> list[np.ndarray | None]:
        x2 = self._x2
        assert x2 is not None, "backward before forward"
        steps, batch = self._passes[0].acts.shape[:2]
        u = self.units
        dx2 = None
        for d, p in enumerate(self._passes):
            part = dy[..., d * u : (d + 1) * u]
            # dz: gradient of each step's gate pre-activations, time-major.
            dz = self._buffer("dz" + DIRECTIONS[d], p.acts.shape)
            drec = self._back_through_time(p, d, part, dz)
            dz2 = dz.reshape(steps * batch, -1)
            np.matmul(x2.T, dz2, out=self._grad("kernel", d))
            np.matmul(
                p.previous.reshape(steps * batch, u).T,
                drec.reshape(steps * batch, -1),
                out=self._grad("recurrent_kernel", d),
            )
            if self.use_bias:
                K.column_sum(dz2, self._grad("bias", d))  # NumPy: one GEMV
                if drec is dz:  # the recurrent bias adds where the bias does
                    np.copyto(self._grad("recurrent_bias", d), self._grad("bias", d))
                else:
                    np.sum(
                        drec.reshape(steps * batch, -1),
                        axis=0,
                        out=self._grad("recurrent_bias", d),
                    )
            if self.needs_input_grad:
                if dx2 is None:
                    dx2 = self._buffer("dx2", x2.shape)
                    np.matmul(dz2, self._param("kernel", d).T, out=dx2)
                else:
                    dx2 += dz2 @ self._param("kernel", d).T
        if dx2 is None:
            return [None]
        dx = self._buffer("dx", (batch, steps, x2.shape[1]))
        np.copyto(dx, dx2.reshape(steps, batch, -1).transpose(1, 0, 2))
        return [dx]

    def _back_through_time(
        self, p: _Pass, d: int, dy: np.ndarray, dz: np.ndarray
    ) -> np.ndarray:
        """Fill ``dz`` step by step from the last; returns the gradient of the
        recurrent products (``dz`` itself unless GRU)."""
        # A C-ordered copy of the transpose: BLAS multiplies by it 1.5x faster
        # than by the transposed view (128 units, batch 32).
        rk = self._param("recurrent_kernel", d)
        rk_t = self._buffer("rk_t" + DIRECTIONS[d], rk.shape[::-1])
        np.copyto(rk_t, rk.T)
        batch = dz.shape[1]
        dh = self._buffer("dh" + DIRECTIONS[d], (batch, self.units))
        dh[...] = 0.0
        self._begin_back(p, d, batch)
        drec = self._recurrent_grad_buffer(p, d, dz)
        first, last = p.order[0], p.order[-1]
        for t in reversed(p.order):
            if self.return_sequences:
                dh += dy[:, t]
            elif t == last:
                dh += dy
            prev, _ = p.slot(t)
            carry = self._step_back(p, t, p.h[prev], dh, dz[t])
            if t == first:
                break  # no product for the gradient reaching the zero state
            # np.dot: about 0.5 µs less per call than np.matmul, the same product
            np.dot(drec[t], rk_t, out=dh)
            if carry is not None:
                dh += carry
        return drec

    def _begin_back(self, p: _Pass, d: int, batch: int) -> None:
        """Reset the per-direction state the backward steps carry (LSTM's cell
        gradient)."""

    def _recurrent_grad_buffer(self, p: _Pass, d: int, dz: np.ndarray) -> np.ndarray:
        return dz

    def _step_back(
        self, p: _Pass, t: int, h_prev: np.ndarray, dh: np.ndarray, dz: np.ndarray
    ) -> np.ndarray | None:
        """Gate pre-activation gradients of step ``t`` into ``dz`` from ``dh``,
        the gradient reaching its new state; returns the part of ``dh`` that
        reaches the previous state other than through the recurrent product
        (None when there is none)."""
        raise NotImplementedError

    # --- config -------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        return {
            "units": self.units,
            "return_sequences": self.return_sequences,
            "bidirectional": self.bidirectional,
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer,
            "recurrent_initializer": self.recurrent_initializer,
            "bias_initializer": self.bias_initializer,
            "name": self.name,
        }


RNN_ACTIVATIONS = ("tanh", "relu")


class SimpleRNN(_Recurrent):
    """Elman recurrence ``h_t = act(x_t @ kernel + bias + h_{t-1} @
    recurrent_kernel + recurrent_bias)`` (torch.nn.RNN), ``act`` tanh or relu."""

    type_name = "SimpleRNN"
    gates = 1

    def __init__(self, units: int, activation: str = "tanh", **kwargs: Any) -> None:
        super().__init__(units, **kwargs)
        if activation not in RNN_ACTIVATIONS:
            raise self.config_error(
                f"activation must be 'tanh' or 'relu' (as in torch.nn.RNN), got "
                f"{activation!r}."
            )
        self.activation = activation

    def _step(self, p, t, h_prev, h, rk, rb):
        z = p.acts[t]
        np.matmul(h_prev, rk, out=z)
        z += p.xp[t]
        if self.activation == "tanh":
            np.tanh(z, out=z)
        else:
            np.maximum(z, 0.0, out=z)
        h[...] = z

    def _step_back(self, p, t, h_prev, dh, dz):
        y = p.acts[t]
        if self.activation == "tanh":
            np.multiply(y, y, out=dz)
            np.subtract(1.0, dz, out=dz)
            dz *= dh
        else:
            np.multiply(dh, y > 0, out=dz)
        return None

    def get_config(self) -> dict[str, Any]:
        return {"units": self.units, "activation": self.activation} | {
            k: v for k, v in super().get_config().items() if k != "units"
        }


class LSTM(_Recurrent):
    """Long short-term memory (torch.nn.LSTM), gates in torch's order:

    ``i, f, g, o = sigmoid, sigmoid, tanh, sigmoid`` of ``x_t @ kernel + bias +
    h_{t-1} @ recurrent_kernel + recurrent_bias`` (split in four), then
    ``c_t = f * c_{t-1} + i * g`` and ``h_t = o * tanh(c_t)``.
    """

    type_name = "LSTM"
    gates = 4
    gate_names = ("input", "forget", "candidate", "output")

    _halved = False
    """Whether the running forward pass takes the NumPy kernels, whose sigmoid
    gates come halved in the weights (``_projection_weights``)."""

    def _numpy_steps(self, batch: int) -> bool:
        """Whether a batch of ``batch`` runs the NumPy LSTM kernels (the choice
        ``_run`` and ``_step`` make)."""
        small = batch * self.units <= RK.SMALL_STEP
        if small and (self.dtype == np.float32 or not RK.lstm_sequence32.uses_numba):
            return not RK.lstm_sequence32.uses_numba
        if self.dtype == np.float32:
            return not RK.lstm_forward32.uses_numba
        return not small or not RK.lstm_forward_small.uses_numba

    def _gate_scale(self) -> np.ndarray:
        """0.5 for the sigmoid gates' columns (i, f, o), 1 for the cell's (g)."""
        scale = self.__dict__.get("_scale")
        if scale is None or scale.dtype != self.dtype:
            u = self.units
            scale = np.full(4 * u, 0.5, self.dtype)
            scale[2 * u : 3 * u] = 1.0
            self._scale = scale
        return scale

    def _projection_weights(self, d, batch):
        # The NumPy kernels evaluate sigmoid(v) as 0.5 * tanh(v / 2) + 0.5: with
        # the sigmoid gates' kernel and bias columns halved here (exact: a power
        # of two), and the recurrent kernel's in _run, the projections and
        # products arrive halved, which spares two strided passes a step.
        kernel, bias = super()._projection_weights(d, batch)
        self._halved = self._numpy_steps(batch)
        if not self._halved:
            return kernel, bias
        scale = self._gate_scale()
        halved = self._buffer("kernel_halved" + DIRECTIONS[d], kernel.shape)
        np.multiply(kernel, scale, out=halved)
        bias = None if bias is None else bias * scale
        if batch * self.units <= RK.SMALL_STEP:
            # The whole-sequence twin projects feature-major itself (_run).
            self._projection = (halved, bias)
            return None, None
        return halved, bias

    def _run(self, p: _Pass, d: int) -> None:
        steps, batch = p.acts.shape[:2]
        key = DIRECTIONS[d]
        p.c = self._buffer("c" + key, (steps + 1, batch, self.units))
        p.tc = self._buffer("tc" + key, (steps, batch, self.units))
        p.c[steps if p.reverse else 0] = 0.0
        small = batch * self.units <= RK.SMALL_STEP
        if self._halved:
            rk = self._param("recurrent_kernel", d)
            rk_halved = self._buffer("rk_halved" + key, rk.shape)
            np.multiply(rk, self._gate_scale(), out=rk_halved)
            if small:
                # The layer's own work arrays: the backward reads the gates and
                # cell states there, the buffers get them only for trace().
                cache = self.__dict__.setdefault("_twin_work", {})
                assert self._x2 is not None
                x = self._x2.reshape(steps, batch, -1)
                p.work = RK.lstm_sequence_numpy(
                    p.xp, rk_halved, p.acts, p.h, p.c, p.tc, p.reverse, True, cache,
                    (x, *self._projection),
                )  # fmt: skip
                p.unstored = True
                return
            step, first = RK.lstm_forward_halved, p.order[0]
            for t in p.order:
                prev, new = p.slot(t)
                a = p.acts[t]
                if t == first:
                    a.fill(0.0)  # the initial state is zero: no product
                else:
                    np.dot(p.h[prev], rk_halved, out=a)
                step(a, p.xp[t], p.c[prev], p.c[new], p.tc[t], p.h[new])
        elif small and (
            p.acts.dtype == np.float32 or not RK.lstm_sequence32.uses_numba
        ):
            # Small layers: the whole direction in one call (per-call overhead
            # dominates there): compiled for float32 (its fast tanh), else the
            # NumPy twin, exact at every dtype.
            rk = self._param("recurrent_kernel", d)
            RK.lstm_sequence32(p.xp, rk, p.acts, p.h, p.c, p.tc, p.reverse)
        else:
            super()._run(p, d)

    def _back_through_time(self, p, d, dy, dz):
        batch = dz.shape[1]
        if batch * self.units > RK.SMALL_STEP:
            return super()._back_through_time(p, d, dy, dz)
        key, rk = DIRECTIONS[d], self._param("recurrent_kernel", d)
        rk_t = self._buffer("rk_t" + key, rk.shape[::-1])
        np.copyto(rk_t, rk.T)
        dh = self._buffer("dh" + key, (batch, self.units))
        self._begin_back(p, d, batch)
        if self.return_sequences:
            dh[...] = 0.0
        else:
            np.copyto(dh, dy)
            dy = dy[:, None, :]
        args = (
            p.acts, p.c, p.tc, rk_t, dy, self.return_sequences, dz, dh, p.dc, p.tmp,
            p.reverse,
        )  # fmt: skip
        if p.work is not None and not RK.lstm_sequence_backward.uses_numba:
            # The forward's feature-major arrays instead of transposed copies.
            RK.lstm_sequence_backward_numpy(*args, p.work, False)
        else:
            self._store_passes()
            RK.lstm_sequence_backward(*args)
        return dz

    def _store_passes(self) -> None:
        for p in self._passes:
            if p.unstored:
                RK.lstm_sequence_store(p.work, p.acts, p.c, p.tc, p.reverse)
                p.unstored = False

    def _step(self, p, t, h_prev, h, rk, rb):
        a = p.acts[t]
        np.matmul(h_prev, rk, out=a)
        prev, new = p.slot(t)
        if a.dtype == np.float32:
            step = RK.lstm_forward32
        elif h.size <= RK.SMALL_STEP:
            step = RK.lstm_forward_small
        else:
            step = RK.lstm_forward
        step(a, p.xp[t], p.c[prev], p.c[new], p.tc[t], h)

    def _begin_back(self, p, d, batch):
        p.dc = self._buffer("dc" + DIRECTIONS[d], (batch, self.units))
        p.dc[...] = 0.0
        p.tmp = self._buffer("tmp" + DIRECTIONS[d], (batch, self.units))

    def _step_back(self, p, t, h_prev, dh, dz):
        prev, _ = p.slot(t)
        RK.lstm_backward(p.acts[t], p.c[prev], p.tc[t], dh, p.dc, dz, p.tmp)
        return None


class GRU(_Recurrent):
    """Gated recurrent unit (torch.nn.GRU; ONNX ``linear_before_reset=1``), gates
    in torch's order:

    ``r = sigmoid(x_t W_r + b_ir + h_{t-1} R_r + b_hr)``, ``z`` alike,
    ``n = tanh(x_t W_n + b_in + r * (h_{t-1} R_n + b_hn))`` and
    ``h_t = (1 - z) * n + z * h_{t-1}``: the reset gate scales the recurrent
    product after it is taken.
    """

    type_name = "GRU"
    gates = 3
    gate_names = ("reset", "update", "new")
    folds_recurrent_bias = False

    def _run(self, p: _Pass, d: int) -> None:
        steps, batch = p.acts.shape[:2]
        # The recurrent products of every step (all three gates, with their bias);
        # backward needs the new gate's part.
        p.hr = self._buffer("hr" + DIRECTIONS[d], p.acts.shape)
        super()._run(p, d)

    def _step(self, p, t, h_prev, h, rk, rb):
        hr = p.hr[t]
        np.matmul(h_prev, rk, out=hr)
        if rb is not None:
            hr += rb
        step = RK.gru_forward_small if h.size <= RK.SMALL_STEP else RK.gru_forward
        step(p.xp[t], hr, p.acts[t], h_prev, h)

    def _recurrent_grad_buffer(self, p, d, dz):
        p.drec = self._buffer("drec" + DIRECTIONS[d], dz.shape)
        return p.drec

    def _begin_back(self, p, d, batch):
        p.tmp = self._buffer("tmp" + DIRECTIONS[d], (batch, self.units))
        p.carry = self._buffer("carry" + DIRECTIONS[d], (batch, self.units))

    def _step_back(self, p, t, h_prev, dh, dz):
        # h_t = ... + z * h_{t-1}: the state reaches the previous one directly
        # too (p.carry), besides through the recurrent product (p.drec).
        RK.gru_backward(p.acts[t], p.hr[t], h_prev, dh, dz, p.drec[t], p.carry, p.tmp)
        return p.carry
