"""A whole training step for a plain stack of small Dense layers, in few calls.

A model that is a chain ``Input -> Dense -> ... -> Dense`` with packed weights
(``Model.build``), no regularisation, and a loss that is the fused sigmoid + binary
cross-entropy, mean squared error, or (NumPy route only) the fused softmax + sparse
categorical cross-entropy spends much of a step in per-call overhead: layer
dispatch, loss checks, NumPy's cost per call, which grows after large products have
pushed NumPy's own code and data out of the caches. For such a model
``DenseChain.run`` computes forward pass, loss and every gradient in one compiled
call with Numba (small layers), or in about five NumPy calls per layer without it, and
writes the gradients into the model's packed gradient buffer, where the optimizer
reads them. The layers' own caches (``preactivation``, the inputs ``backward``
would use) are not refreshed by such a step.

The NumPy route folds each bias into its kernel: the packed layout puts ``bias``
right after ``kernel``, so the two form one ``(n_in + 1, n_out)`` matrix, and each
layer's input buffer carries a column of ones. One product then gives
``x @ kernel + bias`` and one gives both gradients. The first layer's input is the
batch itself; it is copied into such a buffer only while that copy is cheaper than
a separate bias add and bias-gradient product (``NUMPY_FOLD_MAX``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..data import check_finite
from ..layers.core import Dense, Input
from ..losses import (
    BinaryCrossentropy,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
    check_label_range,
)
from ..optimizers import SGD, Adam, AdamW, Optimizer
from .jit import kernel
from .layers import DENSE_ACTIVATIONS, act_grad, act_value, scalar_sigmoid
from .optim import adam_step, grad_in, momentum_step

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..model import Model

# Per-layer multiply-adds per batch up to which the chain runs. The compiled loops
# are plain triple loops (BLAS wins past a few thousand); the NumPy route uses
# BLAS for every product, so it runs at any size (the limit is for tests).
NUMBA_MAX_MACS = 4096
NUMPY_MAX_MACS = 1 << 62
# Batch values (rows * inputs) up to which the first layer's input is copied next to
# a ones column so its bias folds into the product (see the module docstring).
NUMPY_FOLD_MAX = 1 << 12

# Activation codes: the compiled Dense kernels' table (linear, relu, tanh,
# sigmoid), plus the output layer's softmax, which only the fused sparse
# cross-entropy of the NumPy route takes.
_LINEAR, _RELU, _TANH, _SIGMOID = (
    DENSE_ACTIVATIONS[name] for name in ("linear", "relu", "tanh", "sigmoid")
)
_SOFTMAX = len(DENSE_ACTIVATIONS)
_BCE, _MSE, _SCE = 0, 1, 2
_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
# Optimizers whose update the compiled step runs itself (AdamW is an Adam).
_OPT_CODES = {Adam: 1, AdamW: 1, SGD: 2}
_N_SCALARS = 10  # the most scalars an update in the step takes (Adam's)
_QUIET = {"all": "ignore"}
# Status codes of the step kernels.
_OK, _BAD_INPUT, _BAD_TARGET, _NOT_FINITE = 0, 1, 2, 3
# Bit pattern of 1.0: for an IEEE float read as an unsigned integer, values in
# [+0, 1] are exactly the patterns <= this one (NaN, negatives and -0.0 are larger).
_ONE_BITS = {
    np.dtype(np.float32): (np.uint32, 0x3F800000),
    np.dtype(np.float64): (np.uint64, 0x3FF0000000000000),
}


# --- the compiled step --------------------------------------------------------------
def _chain_step_loop(x, y, P, G, meta, W, S, h):
    """Forward, loss, backward and (optionally) the optimizer update of a Dense
    stack on flat buffers, in one call: every argument is an array, since each
    one costs dispatch time.

    ``meta[l]`` for layer ``l`` = (weight offset, n_in, n_out, has_bias,
    activation, input offset, output offset, pre-activation offset), offsets
    into the work buffer ``W`` (activations, ``x`` first, then pre-activations
    and their gradients). The last row is (loss kind, optimizer code, loss
    gradient offset, scalar offset, first parameter, parameter count, 0, 0):
    the loss gradient with respect to the output (the logits for BCE) goes to
    ``W`` at its offset; optimizer 1 is Adam and 2 SGD on ``P``/``G`` over the
    parameter range with state rows ``S``, 0 is none. ``h`` holds ``1 / size``
    of the targets, then the optimizer's scalars, which are first stored into
    ``W`` at the scalar offset so that they round to the parameter dtype as the
    optimizer's own kernels receive them. Returns ``(total, status)``; status 1
    is a non-finite input, 2 a bad target, 3 a non-finite loss, and gradients
    and parameters are written only when status is 0.
    """
    rows, n0 = x.shape
    n_layers = meta.shape[0] - 1
    last = n_layers - 1
    kind, opt = meta[n_layers, 0], meta[n_layers, 1]
    og, sc = meta[n_layers, 2], meta[n_layers, 3]
    inv_n = h[0]
    for r in range(rows):
        for i in range(n0):
            v = x[r, i]
            if not math.isfinite(v):
                return 0.0, 1
            W[r * n0 + i] = v
    for layer in range(n_layers):
        w_off, n_in, n_out = meta[layer, 0], meta[layer, 1], meta[layer, 2]
        has_bias, act = meta[layer, 3], meta[layer, 4]
        a_in, a_out, d_off = meta[layer, 5], meta[layer, 6], meta[layer, 7]
        for r in range(rows):
            for j in range(n_out):
                acc = 0.0
                for i in range(n_in):
                    acc += W[a_in + r * n_in + i] * P[w_off + i * n_out + j]
                if has_bias:
                    acc += P[w_off + n_in * n_out + j]
                k = r * n_out + j
                W[d_off + k] = acc
                if layer == last and kind == 0:
                    continue  # the loss turns the logits into probabilities
                W[a_out + k] = act_value(W[d_off + k], act)
    # Loss, its gradient, and the output layer's pre-activation gradient.
    n_out, act = meta[last, 2], meta[last, 4]
    a_out, d_off = meta[last, 6], meta[last, 7]
    total = 0.0
    if kind == 0:
        for r in range(rows):
            for j in range(n_out):
                yi = y[r, j]
                if not (yi >= 0 and yi <= 1):
                    return 0.0, 2
                k = r * n_out + j
                zi = W[d_off + k]
                e = math.exp(-abs(zi))
                total += max(zi, 0.0) - zi * yi + math.log1p(e)
                p = 1.0 / (1.0 + e) if zi >= 0 else e / (1.0 + e)
                W[a_out + k] = p
                W[og + k] = (p - yi) * inv_n
                W[d_off + k] = W[og + k]
    else:
        two = 2.0 * inv_n
        for r in range(rows):
            for j in range(n_out):
                yi = y[r, j]
                if not abs(yi) < np.inf:
                    return 0.0, 2
                k = r * n_out + j
                d = W[a_out + k] - yi
                total += d * d
                W[og + k] = d * two
    if not math.isfinite(total):
        return total, 3
    if kind == 1:
        for k in range(rows * n_out):
            W[d_off + k] = act_grad(W[og + k], W[a_out + k], act)
    for layer in range(last, -1, -1):
        w_off, n_in, n_out = meta[layer, 0], meta[layer, 1], meta[layer, 2]
        has_bias, a_in, d_off = meta[layer, 3], meta[layer, 5], meta[layer, 7]
        for i in range(n_in):
            for j in range(n_out):
                acc = 0.0
                for r in range(rows):
                    acc += W[a_in + r * n_in + i] * W[d_off + r * n_out + j]
                G[w_off + i * n_out + j] = acc
        if has_bias:
            for j in range(n_out):
                acc = 0.0
                for r in range(rows):
                    acc += W[d_off + r * n_out + j]
                G[w_off + n_in * n_out + j] = acc
        if layer == 0:
            break
        # The input gradient, then through the previous layer's activation.
        prev_act = meta[layer - 1, 4]
        p_off = meta[layer - 1, 7]
        for r in range(rows):
            for i in range(n_in):
                acc = 0.0
                for j in range(n_out):
                    acc += W[d_off + r * n_out + j] * P[w_off + i * n_out + j]
                k = r * n_in + i
                W[p_off + k] = acc
                W[p_off + k] = act_grad(W[p_off + k], W[a_in + k], prev_act)
    if opt == 0:
        return total, 0
    for k in range(1, h.size):
        W[sc + k - 1] = h[k]
    lo, hi = meta[n_layers, 4], meta[n_layers, 4] + meta[n_layers, 5]
    # The optimizers' own per-element steps (same order, same dtypes): the same bits.
    if opt == 1:
        step_size, w1, beta2, w2 = W[sc], W[sc + 1], W[sc + 2], W[sc + 3]
        bc2_sqrt, eps, wd, decay = W[sc + 4], W[sc + 5], W[sc + 6], W[sc + 7]
        scale, clip = W[sc + 8], W[sc + 9]
        for i in range(lo, hi):
            gi = grad_in(G[i], P[i], scale, clip, wd)
            q = i - lo
            P[i], S[0, q], S[1, q] = adam_step(
                P[i],
                gi,
                S[0, q],
                S[1, q],
                step_size,
                w1,
                beta2,
                w2,
                bc2_sqrt,
                eps,
                decay,
            )
    else:
        lr, momentum, wd = W[sc], W[sc + 1], W[sc + 3]
        nesterov = h[3] != 0
        scale, clip = W[sc + 4], W[sc + 5]
        for i in range(lo, hi):
            gi = grad_in(G[i], P[i], scale, clip, wd)
            if momentum != 0:
                S[0, i - lo], gi = momentum_step(gi, S[0, i - lo], momentum, nesterov)
            P[i] -= lr * gi
    return total, 0


def _chain_step_unavailable(x, y, P, G, meta, W, S, h):
    raise RuntimeError("The compiled Dense-chain step runs only with Numba.")


chain_step = kernel(
    _chain_step_loop,
    _chain_step_unavailable,
    (scalar_sigmoid, act_value, act_grad, grad_in, momentum_step, adam_step),
)


# --- planning -----------------------------------------------------------------------
class _Layer:
    """One Dense layer of the chain: its packed views and activation."""

    __slots__ = ("act", "bias", "gwb", "kernel", "n_in", "n_out", "offset", "wb")

    def __init__(self, layer: Dense, flat_p: np.ndarray, flat_g: np.ndarray) -> None:
        self.kernel = layer.params["kernel"]
        self.n_in, self.n_out = self.kernel.shape
        self.bias = bool(layer.use_bias)
        self.act = DENSE_ACTIVATIONS.get(layer.activation_name, _SOFTMAX)
        self.offset = _offset(self.kernel, flat_p)
        rows = self.n_in + self.bias
        stop = self.offset + rows * self.n_out
        self.wb = flat_p[self.offset : stop].reshape(rows, self.n_out)
        self.gwb = flat_g[self.offset : stop].reshape(rows, self.n_out)


def _offset(a: np.ndarray, flat: np.ndarray) -> int:
    start = a.__array_interface__["data"][0] - flat.__array_interface__["data"][0]
    return start // a.itemsize


def _packed_in_place(layer: Dense, flat_p: np.ndarray, flat_g: np.ndarray) -> bool:
    """True when kernel (then bias) are contiguous views of the packed buffers."""
    arrays = [(layer.params["kernel"], layer.grads["kernel"])]
    if layer.use_bias:
        arrays.append((layer.params["bias"], layer.grads["bias"]))
    p0, g0 = arrays[0]
    if _offset(p0, flat_p) != _offset(g0, flat_g):
        return False
    expected = _offset(p0, flat_p)
    for p, g in arrays:
        if (
            p.base is not flat_p
            or g.base is not flat_g
            or not p.flags.c_contiguous
            or not g.flags.c_contiguous
            or _offset(p, flat_p) != expected
            or _offset(g, flat_g) != expected
        ):
            return False
        expected += p.size
    return True


def plan_chain(model: Model) -> DenseChain | None:
    """The chain step for ``model``, or None when the model is not such a stack.

    Called after ``compile`` (the loss decides); the result holds views of the
    packed buffers, so a rebuild needs a new plan.
    """
    if len(model.inputs) != 1 or len(model.outputs) != 1 or not model.built:
        return None
    fn = model.loss_functions[0]
    if type(fn) is BinaryCrossentropy and model.fused_outputs[0]:
        kind = _BCE
    elif type(fn) is MeanSquaredError:
        kind = _MSE
    elif type(fn) is SparseCategoricalCrossentropy and model.fused_outputs[0]:
        kind = _SCE  # the fused output layer ends in softmax
    else:
        return None
    layers = model.layers
    sources = model.graph.sources
    if not isinstance(layers[0], Input) or len(layers) < 2:
        return None
    for i, layer in enumerate(layers[1:], start=1):
        if (
            type(layer) is not Dense
            or tuple(sources[i]) != (i - 1,)
            or (
                layer.activation_name not in DENSE_ACTIVATIONS
                and not (kind == _SCE and i == len(layers) - 1)
            )
            or layer.has_regularization
        ):
            return None
    if list(model.graph.output_positions) != [len(layers) - 1]:
        return None
    if any(len(model.graph.consumers[i]) != 1 for i in range(len(layers) - 1)):
        return None
    kernel0 = layers[1].params["kernel"]
    flat_p, flat_g = kernel0.base, layers[1].grads["kernel"].base
    if (
        not isinstance(flat_p, np.ndarray)
        or not isinstance(flat_g, np.ndarray)
        or flat_p.ndim != 1
        or flat_g.ndim != 1
        or flat_p.dtype != model.dtype
        or flat_g.dtype != model.dtype
        or flat_p.size != flat_g.size
    ):
        return None
    if not all(_packed_in_place(layer, flat_p, flat_g) for layer in layers[1:]):
        return None
    return DenseChain(model, kind, flat_p, flat_g)


class _Buffers:
    """Work arrays for one batch size."""

    __slots__ = (
        "W",
        "base",
        "dh",
        "dz",
        "fold0",
        "grad",
        "h",
        "hv",
        "ins",
        "ins_t",
        "mask",
        "meta",
        "ones",
        "ones_k",
        "ones_n",
        "out",
        "pick",
        "pick_idx",
        "s",
        "t",
        "u",
        "z",
        "zeros",
    )


class DenseChain:
    """The fast training step of one model (see the module docstring)."""

    def __init__(
        self, model: Model, kind: int, flat_p: np.ndarray, flat_g: np.ndarray
    ) -> None:
        self.model = model
        self.kind = kind
        self.loss = model.loss_functions[0]
        self.dtype = model.dtype
        self.flat_p, self.flat_g = flat_p, flat_g
        self.layers = [_Layer(layer, flat_p, flat_g) for layer in model.layers[1:]]
        self.n_in = self.layers[0].n_in
        self.n_out = self.layers[-1].n_out
        self.macs_per_row = max(c.n_in * c.n_out for c in self.layers)
        self.kernel_t = [c.kernel.T for c in self.layers]
        self._buffers: dict[tuple[int, bool], _Buffers] = {}
        self._last: tuple[_Buffers, np.ndarray, bool] | None = None
        self._one_bits = _ONE_BITS.get(self.dtype)
        # The chain's parameters: where they start in the packed buffer, how many.
        self.p_start = self.layers[0].offset
        last = self.layers[-1]
        self.p_count = last.offset + (last.n_in + last.bias) * last.n_out - self.p_start
        # The optimizer's single-call plan last seen, with what it allows:
        # (plan, numba, update code for the compiled step, or 0).
        self._opt_key: tuple[Any, bool] | None = None
        self._opt_code = 0
        self._no_state = np.empty((0, 0), self.dtype)

    def run(
        self,
        x: np.ndarray,
        y: np.ndarray,
        optimizer: Optimizer,
        params: Mapping[str, np.ndarray],
        grads: Mapping[str, np.ndarray],
        inputs_checked: bool = True,
    ) -> tuple[float, np.ndarray] | None:
        """One training step on a batch with checked shapes: ``(mean loss,
        output)``, or None when this batch is not for the chain (shapes, dtypes,
        size). ``optimizer`` has updated ``params`` (the model's) from ``grads``
        when the loss is finite; otherwise nothing changed. ``inputs_checked``
        False has the step check ``x`` for NaN/Inf (the compiled one does so as
        it reads ``x``).

        Raises
        ------
        DataError
            For NaN/Inf inputs or targets the loss cannot use.
        """
        numba = chain_step.uses_numba
        if numba and self.kind == _SCE:
            return None  # the compiled step has no softmax
        n = x.shape[0]
        if self.kind == _SCE:
            y_ok = (
                y.__class__ is np.ndarray
                and y.dtype.kind in "iu"
                and y.shape == (n,)
                and y.flags.c_contiguous
            )
        else:
            y_ok = (
                y.__class__ is np.ndarray
                and y.dtype == self.dtype
                and y.shape == (n, self.n_out)
                and y.flags.c_contiguous
            )
        if not y_ok or x.ndim != 2 or x.dtype != self.dtype or not x.flags.c_contiguous:
            return None
        limit = NUMBA_MAX_MACS if numba else NUMPY_MAX_MACS
        if n * self.macs_per_row > limit:
            return None
        bufs = self._buffers.get((n, numba))
        if bufs is None:
            bufs = self._make_buffers(n, numba)
        plan = optimizer.fused_plan
        if (
            self._opt_key is None
            or plan is not self._opt_key[0]
            or (numba is not self._opt_key[1])
        ):
            self._adopt(optimizer, params, grads, numba)
        code = self._opt_code
        if code > 0 and optimizer.clipnorm is not None:
            code = 0  # the global norm needs every gradient first
        if numba:
            done = self._run_numba(x, y, bufs, optimizer, plan, code)
        else:
            if not inputs_checked:
                check_finite(self.model, [x])
            with np.errstate(**_QUIET):
                done = self._run_numpy(x, y, n, bufs)
        self._last = (bufs, x, numba)
        if code <= 0 and math.isfinite(done[0]):
            if code == 0:
                optimizer.step_fused(plan, grads)  # type: ignore[arg-type]
            else:
                optimizer.step(params, grads)
        return done

    def _adopt(
        self,
        optimizer: Optimizer,
        params: Mapping[str, np.ndarray],
        grads: Mapping[str, np.ndarray],
        numba: bool,
    ) -> None:
        """Work out how this step may update with ``optimizer``'s current plan:
        code > 0 in the compiled step, 0 by the plan's own call, -1 through
        ``optimizer.step`` (which checks everything and plans again)."""
        plan = optimizer.fused_plan
        self._opt_key = (plan, numba)
        self._opt_code = -1
        if (
            plan is None
            or plan.fn is None
            or plan.state is None
            or not plan.matches(params, grads, numba)
        ):
            return
        self._opt_code = 0
        flat = plan.args[0]
        if (
            numba
            and type(optimizer) in _OPT_CODES
            and flat.base is self.flat_p
            and _offset(flat, self.flat_p) == self.p_start
            and flat.size == self.p_count
        ):
            self._opt_code = _OPT_CODES[type(optimizer)]

    # --- Numba ------------------------------------------------------------------------
    def _run_numba(
        self,
        x: np.ndarray,
        y: np.ndarray,
        b: _Buffers,
        optimizer: Optimizer,
        plan: Any,
        code: int,
    ) -> tuple[float, np.ndarray]:
        meta = b.meta
        if code > 0:
            values = optimizer.advance_fused(plan)
            b.h[1 : 1 + len(values)] = values
            state = plan.state
        else:
            state = self._no_state
        meta[-1, 1] = max(code, 0)
        total, status = chain_step.implementation(
            x, y, self.flat_p, self.flat_g, meta, b.W, state, b.h
        )
        if status != _OK:
            if code > 0:
                optimizer.undo_fused(plan)
            if status == _BAD_INPUT:
                check_finite(self.model, [x])
            elif status == _BAD_TARGET:
                self.loss.reject_targets(y)
        self._set_loss_cache(b.grad)
        return total / y.size, b.out

    # --- NumPy ------------------------------------------------------------------------
    def _run_numpy(
        self, x: np.ndarray, y: np.ndarray, n: int, b: _Buffers
    ) -> tuple[float, np.ndarray]:
        layers = self.layers
        last = len(layers) - 1
        dot = np.dot
        first = layers[0]
        if b.fold0:
            np.copyto(b.hv[0], x)
            ins, ins_t = b.ins, b.ins_t
        else:
            ins, ins_t = [x, *b.ins[1:]], [x.T, *b.ins_t[1:]]
        for k, c in enumerate(layers):
            z = b.z[k]
            if k == 0 and not b.fold0 and first.bias:
                dot(x, c.wb[:-1], out=z)
                z += c.wb[-1]
            else:
                dot(ins[k], c.wb, out=z)
            if k < last:
                _numpy_activate(c.act, z, b.hv[k + 1], b.zeros[k])
        z, out, grad, t, u = b.z[last], b.out, b.grad, b.t, b.u
        if self.kind == _SCE:
            total, inv_n = self._sparse_ce(z, y, n, b)
            if not math.isfinite(total):
                return total * inv_n, out
            dz = grad
        elif self.kind == _BCE:
            inv_n = 1.0 / y.size
            if self._one_bits is not None:
                kind, one = self._one_bits
                if np.maximum.reduce(y.view(kind), axis=None) > one:
                    self.loss.validate_targets(y)  # raises unless the values were -0.0
            else:
                self.loss.validate_targets(y)
            # softplus(z) - z*y = logaddexp(-z*y, z - z*y): no cancellation when a
            # confident prediction is right.
            np.multiply(z, y, out=u)
            np.subtract(z, u, out=t)
            np.negative(u, out=u)
            np.logaddexp(u, t, out=t)
            total = float(np.vdot(t, b.ones))
            # sigmoid(z) = 1 / (1 + exp(-z)): exp may overflow to inf, giving 0.
            np.negative(z, out=out)
            np.exp(out, out=out)
            out += 1
            np.reciprocal(out, out=out)
            np.subtract(out, y, out=grad)
            grad *= inv_n
            if not math.isfinite(total):
                return total * inv_n, out
            dz = grad
        else:
            inv_n = 1.0 / y.size
            if out is not z:
                _numpy_activate(layers[last].act, z, out, b.zeros[last])
            np.subtract(out, y, out=grad)
            total = float(np.vdot(grad, grad))
            if not math.isfinite(total):
                self.loss.validate_targets(y)
                return total * inv_n, out
            grad *= 2 * inv_n
            dz = _numpy_act_grad(layers[last].act, grad, out, b.dz[last], b.mask[last])
        for k in range(last, -1, -1):
            c = layers[k]
            if k == 0 and not b.fold0 and first.bias:
                dot(x.T, dz, out=c.gwb[:-1])
                dot(b.ones_n, dz, out=c.gwb[-1])
                break
            dot(ins_t[k], dz, out=c.gwb)
            if k == 0:
                break
            dh = b.dh[k]
            dot(dz, self.kernel_t[k], out=dh)
            prev = layers[k - 1].act
            dz = _numpy_act_grad(prev, dh, b.hv[k], b.dz[k - 1], b.mask[k - 1])
        self._set_loss_cache(grad)
        return total * inv_n, out

    def _sparse_ce(
        self, z: np.ndarray, labels: np.ndarray, n: int, b: _Buffers
    ) -> tuple[float, float]:
        """Softmax probabilities into ``b.out``, d mean-loss / d logits into
        ``b.grad``: returns (sum of the per-sample losses, 1 / n)."""
        k = self.n_out
        # Negative labels are huge as unsigned integers: one reduction checks both
        # ends of [0, k).
        top = np.maximum.reduce(labels.view(_UNSIGNED[labels.itemsize]))
        if top >= k:
            check_label_range(labels, k, self.loss.name)
        inv_n = 1.0 / n
        t, out, grad, s, pick = b.t, b.out, b.grad, b.s, b.pick
        # log-sum-exp shifted by the row maximum: exp never overflows.
        np.subtract(z, np.maximum.reduce(z, axis=1, keepdims=True), out=t)
        np.exp(t, out=out)
        np.dot(out, b.ones_k, out=s)
        flat = np.add(b.base, labels, out=b.pick_idx, casting="unsafe")
        np.take(t.reshape(-1), flat, out=pick)
        out /= s[:, None]
        np.log(s, out=s)
        total = float(s.sum() - pick.sum())
        np.multiply(out, inv_n, out=grad)
        grad.reshape(-1)[flat] -= inv_n
        return total, inv_n

    def restore_layers(self) -> None:
        """Point each layer's backward caches at the last step's activations, so
        ``Model.backward`` right after a chain step works as after a forward pass.

        Pre-activations are not kept (``layer.preactivation`` is None then); the
        chain's activations need only their outputs for the backward pass.
        """
        if self._last is None:
            return
        b, x, numba = self._last
        n = x.shape[0]
        layers = self.model.layers[1:]
        for k, (layer, c) in enumerate(zip(layers, self.layers, strict=True)):
            if numba:
                a_in, a_out = int(b.meta[k, 5]), int(b.meta[k, 6])
                x_k = b.W[a_in : a_in + n * c.n_in].reshape(n, c.n_in)
                y_k = b.W[a_out : a_out + n * c.n_out].reshape(n, c.n_out)
            else:
                x_k = b.hv[k] if k or b.fold0 else x
                y_k = b.hv[k + 1] if k + 1 < len(layers) else b.out
            layer.set_backward_inputs(x_k, y_k)

    def _set_loss_cache(self, grad: np.ndarray) -> None:
        # What the loss's own forward would have left for backward().
        self.loss.keep_gradient(grad, from_logits=self.kind != _MSE)

    def _make_buffers(self, n: int, numba: bool) -> _Buffers:
        if len(self._buffers) > 8:
            self._buffers.clear()
        dt = self.dtype
        b = _Buffers()
        layers = self.layers
        if numba:
            # W: activations (x first), pre-activations, loss gradient, scalars.
            n_layers = len(layers)
            meta = np.zeros((n_layers + 1, 8), dtype=np.int64)
            a_size = n * (self.n_in + sum(c.n_out for c in layers))
            a_off = n * self.n_in
            d_off = a_size
            a_in = 0
            for k, c in enumerate(layers):
                size = n * c.n_out
                meta[k] = (c.offset, c.n_in, c.n_out, c.bias, c.act, a_in, a_off, d_off)
                a_in = a_off
                a_off += size
                d_off += size
            og = d_off
            sc = og + n * self.n_out
            meta[n_layers] = (self.kind, 0, og, sc, self.p_start, self.p_count, 0, 0)
            b.meta = meta
            b.W = np.empty(sc + _N_SCALARS, dt)
            b.out = b.W[a_in:a_off].reshape(n, self.n_out)
            b.grad = b.W[og:sc].reshape(n, self.n_out)
            b.h = np.zeros(1 + _N_SCALARS)
            b.h[0] = 1.0 / (n * self.n_out)
        else:
            b.grad = np.empty((n, self.n_out), dt)
            b.ins, b.ins_t, b.hv, b.z, b.dz, b.dh, b.mask = [], [], [], [], [], [], []
            b.zeros = []
            first = layers[0]
            b.fold0 = first.bias and n * first.n_in <= NUMPY_FOLD_MAX
            for k, c in enumerate(layers):
                if k == 0 and not b.fold0:
                    buf = np.empty((0, 0), dt)  # the batch itself is the input
                else:
                    buf = np.empty((n, c.n_in + c.bias), dt)
                    if c.bias:
                        buf[:, -1] = 1
                b.ins.append(buf)
                b.ins_t.append(buf.T)
                b.hv.append(buf[:, : c.n_in])
                b.z.append(np.empty((n, c.n_out), dt))
                b.dz.append(np.empty((n, c.n_out), dt))
                b.dh.append(np.empty((n, c.n_in), dt))
                b.mask.append(np.empty((n, c.n_out), bool))
                # np.maximum against an array runs its SIMD loop; against the
                # scalar 0 it is several times slower.
                b.zeros.append(np.zeros((n, c.n_out), dt) if c.act == _RELU else None)
            last = layers[-1]
            linear_mse = self.kind == _MSE and last.act == _LINEAR
            b.out = b.z[-1] if linear_mse else np.empty((n, self.n_out), dt)
            b.t = np.empty((n, self.n_out), dt)
            b.u = np.empty((n, self.n_out), dt)
            b.ones = np.ones((n, self.n_out), dt)
            b.ones_n = np.ones(n, dt)
            b.ones_k = np.ones(self.n_out, dt)
            b.s = np.empty(n, dt)
            b.pick = np.empty(n, dt)
            b.base = np.arange(n, dtype=np.intp) * self.n_out
            b.pick_idx = np.empty(n, np.intp)
        self._buffers[(n, numba)] = b
        return b


def _numpy_activate(
    act: int, z: np.ndarray, out: np.ndarray, zeros: np.ndarray | None
) -> None:
    """``out = act(z)``; ``z`` may be overwritten; ``zeros`` is shaped like ``z``
    for ReLU."""
    if act == _TANH:
        np.tanh(z, out=out)
    elif act == _RELU:
        np.maximum(z, zeros, out=out)
    elif act == _SIGMOID:
        np.negative(z, out=z)
        np.exp(z, out=z)
        z += 1
        np.reciprocal(z, out=out)
    else:
        np.copyto(out, z)


def _numpy_act_grad(
    act: int, dy: np.ndarray, y: np.ndarray, out: np.ndarray, mask: np.ndarray
) -> np.ndarray:
    """The pre-activation gradient from the output gradient ``dy`` and output
    ``y``, in ``out`` (or ``dy`` itself for a linear layer)."""
    if act == _TANH:
        np.multiply(y, y, out=out)
        np.subtract(1, out, out=out)
        np.multiply(out, dy, out=out)
    elif act == _RELU:
        np.greater(y, 0, out=mask)
        np.multiply(dy, mask, out=out)
    elif act == _SIGMOID:
        np.subtract(1, y, out=out)
        np.multiply(out, y, out=out)
        np.multiply(out, dy, out=out)
    else:
        return dy
    return out
