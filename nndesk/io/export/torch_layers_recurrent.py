"""PyTorch project export of SimpleRNN, LSTM, GRU and Embedding.

The layers become ``torch.nn.RNN``/``LSTM``/``GRU`` (``batch_first=True``), each
in a ``Recurrent`` wrapper that returns the whole sequence or, without
``return_sequences``, the final state of each direction side by side (nndesk's
layout, torch's ``h_n``); Embedding becomes an ``nn.Embedding`` that reads the
float ids nndesk takes. Weights map by name: ``kernel`` is ``weight_ih_l0``
transposed, ``recurrent_kernel`` ``weight_hh_l0`` transposed, the biases keep
their layout (docs/engine.md). ``torch_project`` merges ``WRITERS``, ``WEIGHTS``
and ``HELPERS`` like every ``torch_layers_*`` module; this one must not import it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["HELPERS", "WEIGHTS", "WRITERS"]

_TORCH = {"SimpleRNN": "nn.RNN", "LSTM": "nn.LSTM", "GRU": "nn.GRU"}
_NAMES = {
    "kernel": ("weight_ih_l0", (1, 0)),
    "recurrent_kernel": ("weight_hh_l0", (1, 0)),
    "bias": ("bias_ih_l0", None),
    "recurrent_bias": ("bias_hh_l0", None),
}

HELPERS = '''
class Recurrent(nn.Module):
    """A torch RNN/LSTM/GRU (batch_first) returning every step's state, or the
    final state of each direction side by side (nndesk's return_sequences=False:
    torch's h_n as (batch, directions * units))."""

    def __init__(self, inner: nn.Module, return_sequences: bool) -> None:
        super().__init__()
        self.inner = inner
        self.return_sequences = return_sequences

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sequence, state = self.inner(x)
        if self.return_sequences:
            return sequence
        h_n = state[0] if isinstance(state, tuple) else state  # LSTM: (h_n, c_n)
        return torch.cat(list(h_n), dim=-1)


class TokenEmbedding(nn.Embedding):
    """nn.Embedding on the token ids nndesk passes as floats."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.round().long())
'''


def _recurrent(layer: Any, xs: Sequence[str]) -> tuple[str | None, str]:
    features = layer.input_shapes[0][-1]
    extra = (
        f", nonlinearity={layer.activation!r}" if layer.type_name == "SimpleRNN" else ""
    )
    inner = (
        f"{_TORCH[layer.type_name]}({features}, {layer.units}, batch_first=True, "
        f"bidirectional={layer.bidirectional}, bias={layer.use_bias}{extra})"
    )
    return (
        f"Recurrent({inner}, {layer.return_sequences})",
        f"self.{layer.name}({xs[0]})",
    )


def _embedding(layer: Any, xs: Sequence[str]) -> tuple[str | None, str]:
    attr = f"TokenEmbedding({layer.input_dim}, {layer.output_dim})"
    return attr, f"self.{layer.name}({xs[0]})"


def _recurrent_weights(layer: Any) -> dict[str, tuple[str, tuple[int, ...] | None]]:
    out = {}
    for key in layer.params:
        base = key.removesuffix("_reverse")
        suffix = key[len(base) :]
        name, axes = _NAMES[base]
        out[f"{layer.name}/{key}"] = (f"{layer.name}.inner.{name}{suffix}", axes)
    return out


def _embedding_weights(layer: Any) -> dict[str, tuple[str, tuple[int, ...] | None]]:
    return {f"{layer.name}/embeddings": (f"{layer.name}.weight", None)}


WRITERS = {
    "SimpleRNN": _recurrent,
    "LSTM": _recurrent,
    "GRU": _recurrent,
    "Embedding": _embedding,
}
WEIGHTS = {
    "SimpleRNN": _recurrent_weights,
    "LSTM": _recurrent_weights,
    "GRU": _recurrent_weights,
    "Embedding": _embedding_weights,
}
