"""Transformer layers: LayerNormalization, MultiHeadAttention, PositionalEmbedding.

Sequences are ``(time, features)`` per sample, ``(batch, time, features)`` per
batch, as ``torch.nn.MultiheadAttention(batch_first=True)``. The layers follow
PyTorch exactly (``tests/engine/test_attention_reference.py``):

- ``LayerNormalization`` is ``torch.nn.LayerNorm(features)``: statistics over
  the last axis with the biased variance, ``gamma`` = ``weight``, ``beta`` =
  ``bias``.
- ``MultiHeadAttention`` is ``torch.nn.MultiheadAttention(d, num_heads,
  batch_first=True)`` with ``d = num_heads * key_dim``: ``in_kernel`` ``(d, 3d)``
  = ``in_proj_weight.T`` (query, key and value blocks of ``d`` columns),
  ``in_bias`` ``(3d,)`` = ``in_proj_bias``, ``out_kernel`` ``(d, d)`` =
  ``out_proj.weight.T``, ``out_bias`` = ``out_proj.bias``. One input is
  self-attention; two inputs are cross-attention (the first gives the queries,
  the second the keys and values).
- ``PositionalEmbedding`` adds a learned ``(time, features)`` table, or the fixed
  sinusoids of "Attention is all you need", to its input.

Speed: the query, key and value projections of self-attention are one matrix
product with the packed kernel; the heads run as batched products over
``(batch, heads, time, key_dim)`` arrays; the softmax subtracts the row maximum
only where that changes the result (``_softmax_rows``) and writes in place; every
work array is a buffer reused from batch to batch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..initializers import get_initializer, initialize
from ..kernels import attention as AK
from .base import Layer, Shape, format_shape
from .core import _positive_int

__all__ = [
    "POSITION_ENCODINGS",
    "LayerNormalization",
    "MultiHeadAttention",
    "PositionalEmbedding",
    "sinusoids",
]

POSITION_ENCODINGS = ("learned", "sinusoidal")
"""The ``encoding`` choices of PositionalEmbedding."""


def _sequence(layer: Layer, shape: Shape, what: str = "") -> Shape:
    """``shape`` when it is ``(time, features)``, else a ShapeError with the fix."""
    if len(shape) == 2:
        return shape
    fix = (
        ": it has no time axis; feed it a sequence, e.g. from an Embedding or a "
        "recurrent layer with return_sequences"
        if len(shape) <= 1
        else ": Reshape it to (time, features) first"
    )
    raise layer.shape_error(
        f"expects (time, features) sequences{what} but receives "
        f"{format_shape(shape)}{fix}."
    )


class LayerNormalization(Layer):
    """``y = gamma * (x - mean) / sqrt(var + epsilon) + beta`` over the last axis.

    ``x`` is ``(batch, ..., features)``; each sample's each position is normalised
    on its own (no running statistics, the same in training and inference).
    ``gamma`` and ``beta`` are ``(features,)``, torch's ``LayerNorm.weight`` and
    ``.bias``.
    """

    type_name = "LayerNormalization"

    def __init__(self, epsilon: float = 1e-5, name: str | None = None) -> None:
        super().__init__(name)
        try:
            e = float(epsilon)
        except (TypeError, ValueError):
            raise self.config_error(
                f"epsilon must be a number, got {epsilon!r}."
            ) from None
        if not (e > 0 and math.isfinite(e)):
            raise self.config_error(f"epsilon must be positive, got {epsilon!r}.")
        self.epsilon = e
        self._cache: tuple[np.ndarray, np.ndarray] | None = None

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        self.check_input_count(len(input_shapes))
        shape = tuple(input_shapes[0])
        if len(shape) == 0:
            raise self.shape_error(
                "needs at least 1-D features (it normalises the last axis) but "
                "receives scalars per sample."
            )
        return shape

    def param_shapes(self, input_shapes: Sequence[Shape]) -> dict[str, Shape]:
        features = self.output_shape(input_shapes)[-1]
        return {"gamma": (features,), "beta": (features,)}

    def init_params(self, input_shapes, rng):
        (features,) = self.param_shapes(input_shapes)["gamma"]
        return {"gamma": np.ones(features), "beta": np.zeros(features)}

    def forward(self, inputs: Sequence[np.ndarray], training: bool) -> np.ndarray:
        x = inputs[0]
        x2 = x.reshape(-1, x.shape[-1])
        xhat = self._buffer("xhat", x2.shape)
        y = self._buffer("y", x2.shape)
        inv_std = self._buffer("inv_std", (x2.shape[0], 1))
        p = self.params
        AK.layer_norm_forward(x2, p["gamma"], p["beta"], self.epsilon, y, xhat, inv_std)
        self._cache = (xhat, inv_std)
        return y.reshape(x.shape)

    def backward(self, dy: np.ndarray) -> list[np.ndarray | None]:
        assert self._cache is not None, "backward before forward"
        xhat, inv_std = self._cache
        dy2 = dy.reshape(-1, dy.shape[-1])
        dx = self._buffer("dx", dy2.shape)
        need = self.needs_input_grad
        g = self.grads
        AK.layer_norm_backward(
            dy2, xhat, inv_std, self.params["gamma"], g["gamma"], g["beta"], dx, need
        )
        return [dx.reshape(dy.shape) if need else None]

    def get_config(self) -> dict[str, Any]:
        return {"epsilon": self.epsilon, "name": self.name}


class MultiHeadAttention(Layer):
    """Scaled dot-product attention over ``num_heads`` heads of ``key_dim`` each.

    Inputs: ``(batch, time, d)`` for self-attention, or ``[query (batch, tq, d),
    key/value (batch, tk, d)]`` for cross-attention, with ``d = num_heads *
    key_dim`` (torch's ``embed_dim``); ``key_dim=None`` takes ``d / num_heads``.
    Output ``(batch, tq, d)``.

    Per head ``h``: ``Q = x Wq + bq``, ``K``, ``V`` alike (columns ``h*key_dim``
    onwards of each block), ``A = softmax(Q K^T / sqrt(key_dim))`` (with
    ``causal``, query ``i`` sees keys ``j <= i`` only), ``O_h = A V``; the heads
    side by side go through ``out_kernel`` and ``out_bias``. ``dropout`` drops
    attention weights in training (inverted, as torch).

    ``attention_weights`` holds the last forward pass's ``A``, ``(batch, heads,
    tq, tk)``, before dropout. ``head_mask``, when set to a ``(num_heads,)``
    array, multiplies each head's output before the output projection (0 mutes
    a head: head ablation), in training and inference alike.
    """

    type_name = "MultiHeadAttention"
    max_inputs = 2

    def __init__(
        self,
        num_heads: int,
        key_dim: int | None = None,
        causal: bool = False,
        dropout: float = 0.0,
        use_bias: bool = True,
        kernel_initializer: str = "glorot_uniform",
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        self.num_heads = _positive_int(num_heads, "num_heads", self.label)
        self.key_dim = (
            None if key_dim is None else _positive_int(key_dim, "key_dim", self.label)
        )
        self.causal = bool(causal)
        try:
            rate = float(dropout)
        except (TypeError, ValueError):
            raise self.config_error(
                f"dropout must be a number, got {dropout!r}."
            ) from None
        if not 0.0 <= rate < 1.0:
            raise self.config_error(f"dropout must be in [0, 1), got {dropout!r}.")
        self.dropout = rate
        self.use_bias = bool(use_bias)
        try:
            get_initializer(kernel_initializer)
        except ConfigError as exc:
            raise ConfigError(f"{self.label}: {exc}") from None
        self.kernel_initializer = kernel_initializer
        self.head_mask: np.ndarray | None = None
        self._cache: dict[str, Any] = {}

    # --- shapes ----------------------------------------------------------------------
    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        self.check_input_count(len(input_shapes))
        tq, fq = _sequence(self, tuple(input_shapes[0]), " as queries")
        h = self.num_heads
        fit = (
            f"set key_dim to {fq // h} (or leave it empty)"
            if fq % h == 0
            else f"choose num_heads dividing {fq}"
        )
        if self.key_dim is None and fq % h:
            raise self.shape_error(
                f"splits its {fq} features into {h} heads, which does not divide "
                f"them ({format_shape((tq, fq))}): {fit}."
            )
        d = h * (self.key_dim or fq // h)
        if fq != d:
            raise self.shape_error(
                f"needs num_heads × key_dim = {h} × {self.key_dim} = {d} features "
                f"but receives {format_shape((tq, fq))}: {fit}."
            )
        if len(input_shapes) == 2:
            tk, fk = _sequence(self, tuple(input_shapes[1]), " as keys and values")
            if fk != d:
                raise self.shape_error(
                    f"needs keys and values of {d} features like its queries but "
                    f"receives {format_shape((tk, fk))}: insert a Dense({d}) before "
                    "its second input."
                )
            if self.causal and tk != tq:
                raise self.shape_error(
                    f"is causal but its queries have {tq} steps and its keys "
                    f"{tk}: causal attention needs sequences of one length; turn "
                    "causal off for cross-attention between different lengths."
                )
        return (tq, d)

    def param_shapes(self, input_shapes: Sequence[Shape]) -> dict[str, Shape]:
        d = self.output_shape(input_shapes)[1]
        shapes: dict[str, Shape] = {"in_kernel": (d, 3 * d)}
        if self.use_bias:
            shapes["in_bias"] = (3 * d,)
        shapes["out_kernel"] = (d, d)
        if self.use_bias:
            shapes["out_bias"] = (d,)
        return shapes

    def scratch_size(self, input_shapes: Sequence[Shape], training: bool) -> int:
        """Per sample: the projections and heads (3 arrays of ``3*t*d``), the
        scores, the softmax's work array and the weights (``3*heads*tq*tk``, a
        fourth with dropout), the context (``2*tq*d``); in training their
        gradients too."""
        tq, d = self.output_shape(input_shapes)
        tk = int(input_shapes[-1][0])
        scores = self.num_heads * tq * tk * (4 if self.dropout else 3)
        values = 9 * max(tq, tk) * d + scores + 2 * tq * d
        return 2 * values if training else values

    def init_params(self, input_shapes, rng):
        d = self.output_shape(input_shapes)[1]
        blocks = [
            initialize(self.kernel_initializer, (d, d), rng, np.float64)
            for _ in range(3)
        ]
        params = {"in_kernel": np.concatenate(blocks, axis=1)}
        if self.use_bias:
            params["in_bias"] = np.zeros(3 * d)
        params["out_kernel"] = initialize(
            self.kernel_initializer, (d, d), rng, np.float64
        )
        if self.use_bias:
            params["out_bias"] = np.zeros(d)
        return params

    @property
    def attention_weights(self) -> np.ndarray | None:
        """The last forward pass's attention ``(batch, heads, tq, tk)``, or None."""
        return self._cache.get("p")

    # --- forward -----------------------------------------------------------------------
    def _project(self, x: np.ndarray, cols: slice, key: str) -> np.ndarray:
        """``x @ in_kernel[:, cols] + in_bias[cols]`` as ``(batch, heads, k, t,
        key_dim)`` (``k`` projections side by side), a contiguous buffer."""
        batch, steps, d = x.shape
        w = self.params["in_kernel"][:, cols]
        flat = self._buffer("proj" + key, (batch * steps, w.shape[1]))
        np.matmul(x.reshape(batch * steps, d), w, out=flat)
        if self.use_bias:
            flat += self.params["in_bias"][cols]
        k, h = w.shape[1] // d, self.num_heads
        heads = self._buffer("heads" + key, (k, batch, h, steps, d // h))
        np.copyto(
            heads,
            flat.reshape(batch, steps, k, h, d // h).transpose(2, 0, 3, 1, 4),
        )
        return heads

    def forward(self, inputs: Sequence[np.ndarray], training: bool) -> np.ndarray:
        xq = inputs[0]
        batch, tq, d = xq.shape
        heads, dk = self.num_heads, d // self.num_heads
        scale = 1.0 / math.sqrt(dk)
        if len(inputs) == 1:
            q, k, v = self._project(xq, slice(None), "qkv")
        else:
            (q,) = self._project(xq, slice(0, d), "q")
            k, v = self._project(inputs[1], slice(d, 3 * d), "kv")
        q *= scale  # scaling the queries is cheaper than scaling the scores
        tk = k.shape[2]
        p = self._buffer("p", (batch, heads, tq, tk))
        np.matmul(q, k.transpose(0, 1, 3, 2), out=p)
        if self.causal:
            p += self._causal_mask(tq)
        _softmax_rows(p, self._buffer("softmax", p.shape))
        pd = p
        mask = None
        if training and self.dropout > 0.0:
            mask = self._dropout_mask(p.shape)
            pd = self._buffer("pd", p.shape)
            np.multiply(p, mask, out=pd)
        ctx = self._buffer("ctx", (batch, heads, tq, dk))
        np.matmul(pd, v, out=ctx)
        if self.head_mask is not None:
            ctx *= self._head_scale()
        merged = self._buffer("merged", (batch, tq, heads, dk))
        np.copyto(merged, ctx.transpose(0, 2, 1, 3))
        merged2 = merged.reshape(batch * tq, d)
        y = self._buffer("y", (batch * tq, d))
        np.matmul(merged2, self.params["out_kernel"], out=y)
        if self.use_bias:
            y += self.params["out_bias"]
        self._cache = {
            "inputs": list(inputs),
            "q": q,
            "k": k,
            "v": v,
            "p": p,
            "pd": pd,
            "mask": mask,
            "merged": merged2,
        }
        return y.reshape(batch, tq, d)

    def _head_scale(self) -> np.ndarray:
        scale = np.asarray(self.head_mask, dtype=self.dtype)
        if scale.shape != (self.num_heads,):
            raise self.config_error(
                f"head_mask needs {self.num_heads} values, one per head, but has "
                f"shape {scale.shape}."
            )
        return scale.reshape(1, -1, 1, 1)

    def _causal_mask(self, steps: int) -> np.ndarray:
        """``(steps, steps)``: 0 on and below the diagonal, -inf above it."""
        mask = self._buffers.get(("causal", (steps, steps)))
        if mask is None:
            mask = self._buffer("causal", (steps, steps))
            mask[...] = 0.0
            mask[np.triu_indices(steps, 1)] = -np.inf
        return mask

    def _dropout_mask(self, shape: Shape) -> np.ndarray:
        if self.rng is None:
            raise self.config_error("needs the model's random generator for dropout.")
        mask = self._buffer("mask", shape)
        self.rng.random(dtype=self.dtype.type, out=mask)
        keep = 1.0 - self.dropout
        np.less(mask, keep, out=mask, casting="unsafe")
        mask *= 1.0 / keep
        return mask

    # --- backward ----------------------------------------------------------------------
    def backward(self, dy: np.ndarray) -> list[np.ndarray | None]:
        c = self._cache
        assert c, "backward before forward"
        q, k, v, p, pd = c["q"], c["k"], c["v"], c["p"], c["pd"]
        batch, tq, d = dy.shape
        heads, dk = self.num_heads, d // self.num_heads
        dy2 = dy.reshape(batch * tq, d)
        np.matmul(c["merged"].T, dy2, out=self.grads["out_kernel"])
        if self.use_bias:
            np.add.reduce(dy2, axis=0, out=self.grads["out_bias"])
        dmerged = self._buffer("dmerged", (batch * tq, d))
        np.matmul(dy2, self.params["out_kernel"].T, out=dmerged)
        dctx = self._buffer("dctx", (batch, heads, tq, dk))
        np.copyto(dctx, dmerged.reshape(batch, tq, heads, dk).transpose(0, 2, 1, 3))
        if self.head_mask is not None:
            dctx *= self._head_scale()
        two = len(c["inputs"]) == 2
        dqkv = self._buffer("dqkv", (3, batch, heads, max(tq, k.shape[2]), dk))
        tk = k.shape[2]
        dq, dkk, dv = dqkv[0, :, :, :tq], dqkv[1, :, :, :tk], dqkv[2, :, :, :tk]
        np.matmul(pd.transpose(0, 1, 3, 2), dctx, out=dv)
        ds = self._buffer("ds", p.shape)
        np.matmul(dctx, v.transpose(0, 1, 3, 2), out=ds)
        if c["mask"] is not None:
            ds *= c["mask"]
        # Softmax backward: ds = p * (dp - sum(dp * p) over the keys).
        dot = self._buffer("dot", (*p.shape[:3], 1))
        np.einsum("bhqk,bhqk->bhq", ds, p, out=dot[..., 0])
        ds -= dot
        ds *= p
        np.matmul(ds, k, out=dq)
        dq *= 1.0 / math.sqrt(dk)
        np.matmul(ds.transpose(0, 1, 3, 2), q, out=dkk)  # q holds the scaled queries
        if two:
            dxq = self._input_grads(
                c["inputs"][0], dqkv[:1, :, :, :tq], slice(0, d), "q"
            )
            dxkv = self._input_grads(
                c["inputs"][1], dqkv[1:, :, :, :tk], slice(d, 3 * d), "kv"
            )
            return [dxq, dxkv]
        return [self._input_grads(c["inputs"][0], dqkv, slice(None), "qkv")]

    def _input_grads(
        self, x: np.ndarray, dheads: np.ndarray, cols: slice, key: str
    ) -> np.ndarray | None:
        """Fill the gradients of ``in_kernel[:, cols]`` (and the bias) from the
        heads' gradients ``(k, batch, heads, t, key_dim)``; return ``dx``."""
        batch, steps, d = x.shape
        k, h = dheads.shape[0], self.num_heads
        flat = self._buffer("dproj" + key, (batch, steps, k, h, d // h))
        np.copyto(flat, dheads.transpose(1, 3, 0, 2, 4))
        flat2 = flat.reshape(batch * steps, k * d)
        x2 = x.reshape(batch * steps, d)
        dw = self.grads["in_kernel"]
        if cols == slice(None):
            np.matmul(x2.T, flat2, out=dw)
        else:
            dw[:, cols] = x2.T @ flat2
        if self.use_bias:
            self.grads["in_bias"][cols] = flat2.sum(axis=0)
        if not self.needs_input_grad:
            return None
        dx = self._buffer("dx" + key, (batch * steps, d))
        np.matmul(flat2, self.params["in_kernel"][:, cols].T, out=dx)
        return dx.reshape(batch, steps, d)

    def get_config(self) -> dict[str, Any]:
        return {
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "causal": self.causal,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer,
            "name": self.name,
        }


_SOFTMAX_SAFE_MAX = 60.0
"""Scores up to this give finite exponentials and sums (e^60 * 1e9 keys < the
float32 maximum), so the row maximum need not be subtracted."""
_SOFTMAX_MIN_SUM = 1e-30
"""A row whose exponentials sum to less (row maximum below about -69) is
recomputed with its maximum subtracted."""
_ONES: dict[tuple[int, np.dtype], np.ndarray] = {}


def _softmax_rows(s: np.ndarray, work: np.ndarray) -> None:
    """Softmax over the last axis of the contiguous ``s``, in place; ``work`` is
    a scratch array of its shape.

    The row maximum (reduced over rows of a few keys, 94 of the 208 µs of the
    d48 block's softmax at 64x3x11x11) is subtracted only when it matters: when
    no score exceeds ``_SOFTMAX_SAFE_MAX`` and every row's sum of exponentials
    reaches ``_SOFTMAX_MIN_SUM``, ``exp(s) / sum(exp(s))`` is the same function
    within float32 rounding (entries so small that they lose precision weigh
    below 1e-15 of their row). The row sums are one matrix-vector product. Else
    (or with NaN) the stable form: the row maximum first (a causal row keeps its
    finite diagonal, so no row is all -inf).
    """
    n = s.shape[-1]
    rows, out = work.reshape(-1, n), s.reshape(-1, n)
    if np.max(s) <= _SOFTMAX_SAFE_MAX:
        np.exp(s, out=work)
        key = (n, s.dtype)
        ones = _ONES.get(key)
        if ones is None:
            if len(_ONES) >= 32:
                _ONES.clear()
            ones = _ONES[key] = np.ones(n, s.dtype)
        sums = np.dot(rows, ones)
        if sums.min() >= _SOFTMAX_MIN_SUM:
            np.divide(rows, sums[:, None], out=out)
            return
    s -= s.max(axis=-1, keepdims=True)
    np.exp(s, out=s)
    s /= s.sum(axis=-1, keepdims=True)


def sinusoids(steps: int, features: int) -> np.ndarray:
    """The fixed positions of "Attention is all you need", ``(steps, features)``
    float64: ``sin(t / 10000**(2i/features))`` in column ``2i``, the cosine in
    column ``2i + 1``."""
    t = np.arange(steps, dtype=np.float64)[:, None]
    i = np.arange(0, features, 2, dtype=np.float64)
    angles = t / np.power(10000.0, i / features)
    table = np.zeros((steps, features))
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, : features // 2])
    return table


class PositionalEmbedding(Layer):
    """Adds a position vector to each step: ``y[:, t] = x[:, t] + table[t]``.

    ``x`` is ``(batch, time, features)``. ``encoding="learned"`` trains the table
    ``embeddings`` ``(time, features)`` (torch: an ``nn.Embedding(time,
    features).weight`` indexed by ``arange(time)``), ``"sinusoidal"`` uses the
    fixed sinusoids (``sinusoids``) and has no weights.
    """

    type_name = "PositionalEmbedding"

    def __init__(
        self,
        encoding: str = "learned",
        embeddings_initializer: str = "glorot_uniform",
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        if encoding not in POSITION_ENCODINGS:
            raise self.config_error(
                f"encoding must be one of {', '.join(POSITION_ENCODINGS)}, got "
                f"{encoding!r}."
            )
        self.encoding = encoding
        try:
            get_initializer(embeddings_initializer)
        except ConfigError as exc:
            raise ConfigError(f"{self.label}: {exc}") from None
        self.embeddings_initializer = embeddings_initializer
        self._table: np.ndarray | None = None

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        self.check_input_count(len(input_shapes))
        return _sequence(self, tuple(input_shapes[0]))

    def param_shapes(self, input_shapes: Sequence[Shape]) -> dict[str, Shape]:
        shape = self.output_shape(input_shapes)
        return {"embeddings": shape} if self.encoding == "learned" else {}

    def init_params(self, input_shapes, rng):
        return {
            k: initialize(self.embeddings_initializer, s, rng, np.float64)
            for k, s in self.param_shapes(input_shapes).items()
        }

    def table(self) -> np.ndarray:
        """The ``(time, features)`` values added (built layers only)."""
        if self.encoding == "learned":
            return self.params["embeddings"]
        if self._table is None or self._table.dtype != self.dtype:
            assert self.input_shapes is not None, "table() before build()"
            self._table = sinusoids(*self.input_shapes[0]).astype(self.dtype)
        return self._table

    def forward(self, inputs: Sequence[np.ndarray], training: bool) -> np.ndarray:
        x = inputs[0]
        y = self._buffer("y", x.shape)
        np.add(x, self.table(), out=y)
        return y

    def backward(self, dy: np.ndarray) -> list[np.ndarray | None]:
        if self.encoding == "learned":
            np.add.reduce(dy, axis=0, out=self.grads["embeddings"])
        return [dy if self.needs_input_grad else None]

    def get_config(self) -> dict[str, Any]:
        return {
            "encoding": self.encoding,
            "embeddings_initializer": self.embeddings_initializer,
            "name": self.name,
        }
