"""PyTorch project export of MultiHeadAttention, LayerNormalization and
PositionalEmbedding.

MultiHeadAttention becomes ``torch.nn.MultiheadAttention(batch_first=True)`` in an
``Attention`` wrapper that takes one input (self-attention) or two (queries, then
keys and values) and builds the causal mask; LayerNormalization is
``nn.LayerNorm``; PositionalEmbedding a ``Positions`` module adding a learned
``weight`` or the fixed sinusoids. Weights map by name (docs/engine.md):
``in_kernel`` is ``in_proj_weight`` transposed, ``out_kernel`` ``out_proj.weight``
transposed, the biases, ``gamma``/``beta`` and the position table keep their
layout. ``torch_project`` merges ``WRITERS``, ``WEIGHTS`` and ``HELPERS`` like
every ``torch_layers_*`` module; this one must not import it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["HELPERS", "WEIGHTS", "WRITERS"]

HELPERS = '''
class Attention(nn.Module):
    """nn.MultiheadAttention (batch_first) called as nndesk's MultiHeadAttention:
    one input is self-attention, two are (queries, keys and values); causal lets
    each query see the keys up to its own step."""

    def __init__(self, d: int, heads: int, causal: bool, dropout: float, bias: bool) -> None:
        super().__init__()
        self.inner = nn.MultiheadAttention(
            d, heads, dropout=dropout, bias=bias, batch_first=True
        )
        self.causal = causal

    def forward(self, q: torch.Tensor, kv: torch.Tensor | None = None) -> torch.Tensor:
        kv = q if kv is None else kv
        mask = None
        if self.causal:
            ones = torch.ones(q.shape[1], kv.shape[1], dtype=torch.bool, device=q.device)
            mask = torch.triu(ones, 1)
        return self.inner(q, kv, kv, attn_mask=mask, need_weights=False)[0]


class Positions(nn.Module):
    """Adds a (time, features) table: learned (weight) or the fixed sinusoids."""

    def __init__(self, steps: int, features: int, learned: bool) -> None:
        super().__init__()
        if learned:
            self.weight = nn.Parameter(torch.zeros(steps, features))
            return
        t = torch.arange(steps, dtype=torch.float64)[:, None]
        i = torch.arange(0, features, 2, dtype=torch.float64)
        angles = t / torch.pow(10000.0, i / features)
        table = torch.zeros(steps, features, dtype=torch.float64)
        table[:, 0::2] = torch.sin(angles)
        table[:, 1::2] = torch.cos(angles[:, : features // 2])
        self.register_buffer("table", table.float(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + (self.weight if hasattr(self, "weight") else self.table)
'''


def _attention(layer: Any, xs: Sequence[str]) -> tuple[str | None, str]:
    d = layer.input_shapes[0][-1]
    attr = (
        f"Attention({d}, {layer.num_heads}, {layer.causal}, {layer.dropout!r}, "
        f"{layer.use_bias})"
    )
    return attr, f"self.{layer.name}({', '.join(xs)})"


def _layer_norm(layer: Any, xs: Sequence[str]) -> tuple[str | None, str]:
    attr = f"nn.LayerNorm({layer.input_shapes[0][-1]}, eps={layer.epsilon!r})"
    return attr, f"self.{layer.name}({xs[0]})"


def _positions(layer: Any, xs: Sequence[str]) -> tuple[str | None, str]:
    steps, features = layer.input_shapes[0]
    attr = f"Positions({steps}, {features}, {layer.encoding == 'learned'})"
    return attr, f"self.{layer.name}({xs[0]})"


_ATTENTION_NAMES = {
    "in_kernel": ("inner.in_proj_weight", (1, 0)),
    "in_bias": ("inner.in_proj_bias", None),
    "out_kernel": ("inner.out_proj.weight", (1, 0)),
    "out_bias": ("inner.out_proj.bias", None),
}


def _attention_weights(layer: Any) -> dict[str, tuple[str, tuple[int, ...] | None]]:
    return {
        f"{layer.name}/{key}": (f"{layer.name}.{_ATTENTION_NAMES[key][0]}", axes)
        for key in layer.params
        for axes in [_ATTENTION_NAMES[key][1]]
    }


def _layer_norm_weights(layer: Any) -> dict[str, tuple[str, tuple[int, ...] | None]]:
    return {
        f"{layer.name}/gamma": (f"{layer.name}.weight", None),
        f"{layer.name}/beta": (f"{layer.name}.bias", None),
    }


def _positions_weights(layer: Any) -> dict[str, tuple[str, tuple[int, ...] | None]]:
    return {
        f"{layer.name}/{key}": (f"{layer.name}.weight", None) for key in layer.params
    }


WRITERS = {
    "MultiHeadAttention": _attention,
    "LayerNormalization": _layer_norm,
    "PositionalEmbedding": _positions,
}
WEIGHTS = {
    "MultiHeadAttention": _attention_weights,
    "LayerNormalization": _layer_norm_weights,
    "PositionalEmbedding": _positions_weights,
}
