"""What the live attention views show, in NumPy only: attention maps of a chosen
sequence, per-head entropy, a bounded timeline of snapshots, and head ablation.

The worker thread calls ``AttentionProber.probe`` between batches on the model it
trains (a forward pass of the chosen sequence and a fixed batch; the maps are
copied out of the layers' buffers). ``Timeline`` keeps at most ``capacity``
snapshots over a whole run by thinning the older ones evenly. ``HeadAblator``
mutes heads (``MultiHeadAttention.head_mask``) on a model of its own built from
the same network, so the change in validation loss and accuracy can be computed
in any thread without touching the training model or its weights.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from nndesk.engine.layers.attention import MultiHeadAttention
from nndesk.engine.model import Model

__all__ = [
    "ABLATION_ROWS",
    "ENTROPY_ROWS",
    "TIMELINE_CAPACITY",
    "AblationResult",
    "AttentionProbe",
    "AttentionProber",
    "HeadAblator",
    "Timeline",
    "attention_layers",
    "head_entropy",
    "score",
]

ENTROPY_ROWS = 64
"""Sequences of the probe batch the per-head entropy averages over."""
TIMELINE_CAPACITY = 120
"""Snapshots a timeline keeps (the sort example's maps: 2 x 3 x 6 x 6 floats each,
a character model's 2 x 4 x 32 x 32: 32 KB each, 4 MB for 120)."""
ABLATION_ROWS = 512
"""Validation sequences an ablation scores (the first ones)."""


def attention_layers(model: Model) -> list[MultiHeadAttention]:
    """The model's attention layers in topological order."""
    return [layer for layer in model.layers if isinstance(layer, MultiHeadAttention)]


def head_entropy(weights: np.ndarray) -> np.ndarray:
    """Mean entropy (nats) of each head's attention rows.

    Parameters
    ----------
    weights : np.ndarray
        ``(batch, heads, tq, tk)`` attention weights, each row summing to 1.

    Returns
    -------
    np.ndarray
        ``(heads,)`` float64: ``-sum_k a log a`` averaged over the batch and the
        queries. 0 when every query looks at one key; ``log(tk)`` when it spreads
        evenly over ``tk`` keys (a causal row ``i`` can reach ``log(i + 1)``).
    """
    a = np.asarray(weights, dtype=np.float64)
    if a.ndim != 4:
        raise ValueError(f"attention weights must be 4-D, got shape {a.shape}")
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(a > 0, a * np.log(a), 0.0)
    return -terms.sum(axis=-1).mean(axis=(0, 2))


@dataclass
class AttentionProbe:
    """What the attention views show at one moment of training.

    Attributes
    ----------
    epoch : int
        The epoch under way.
    step : float
        Position in epochs (``epoch + finished batches / batches``).
    index : int
        The training sequence the maps are of.
    tokens : tuple of str
        Its tokens (queries and keys of self-attention).
    maps : dict
        Attention layer name -> ``(heads, tq, tk)`` float32 weights of the sequence.
    entropy : dict
        Attention layer name -> ``(heads,)`` mean entropy over the probe batch.
    """

    epoch: int
    step: float
    index: int
    tokens: tuple[str, ...]
    maps: dict[str, np.ndarray]
    entropy: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def heads(self) -> list[tuple[str, int]]:
        """Every (layer, head) in order."""
        return [(name, h) for name, m in self.maps.items() for h in range(len(m))]


def _tokens(row: np.ndarray, vocabulary: Sequence[str] | None) -> tuple[str, ...]:
    values = np.asarray(row).reshape(len(row), -1)[:, 0]
    if vocabulary:
        n = len(vocabulary)
        return tuple(vocabulary[int(v)] if 0 <= int(v) < n else "?" for v in values)
    return tuple(f"{v:.3g}" for v in values)


class AttentionProber:
    """Computes ``AttentionProbe``s of a model with attention layers.

    Parameters
    ----------
    model : Model
        The built model.
    x : np.ndarray
        Training inputs as the model sees them (``(n, time)`` token ids or
        ``(n, time, features)``).
    batch_index : np.ndarray
        Rows of ``x`` the entropy averages over (the first ``ENTROPY_ROWS``).
    vocabulary : sequence of str, optional
        Token id -> text, for the axes.
    """

    def __init__(
        self,
        model: Model,
        x: np.ndarray,
        batch_index: np.ndarray,
        vocabulary: Sequence[str] | None = None,
    ) -> None:
        self.model = model
        self.x = x
        self.layers = attention_layers(model)
        self.vocabulary = list(vocabulary) if vocabulary else None
        self._rows = np.asarray(batch_index)[:ENTROPY_ROWS]

    def probe(self, index: int, epoch: int, step: float) -> AttentionProbe:
        """The maps of training sequence ``index`` (clipped to the data) and the
        per-head entropy over the probe batch, from the current weights."""
        index = int(np.clip(index, 0, max(0, len(self.x) - 1)))
        stacked = np.concatenate([self.x[index : index + 1], self.x[self._rows]])
        saved = [layer.head_mask for layer in self.layers]
        try:
            # The maps of the network as it is, whatever an ablation set.
            for layer in self.layers:
                layer.head_mask = None
            self.model.forward(stacked.astype(self.model.dtype, copy=False))
        finally:
            for layer, mask in zip(self.layers, saved, strict=True):
                layer.head_mask = mask
        maps: dict[str, np.ndarray] = {}
        entropy: dict[str, np.ndarray] = {}
        for layer in self.layers:
            a = layer.attention_weights
            assert a is not None
            maps[str(layer.name)] = np.array(a[0], dtype=np.float32)  # a copy
            entropy[str(layer.name)] = head_entropy(a[1:] if len(a) > 1 else a)
        return AttentionProbe(
            epoch=int(epoch),
            step=float(step),
            index=index,
            tokens=_tokens(self.x[index], self.vocabulary),
            maps=maps,
            entropy=entropy,
        )


class Timeline:
    """Snapshots of a run, at most ``capacity``, spread evenly over the whole run.

    Snapshot ``k`` (counting from 0) is kept when ``k`` is a multiple of the
    stride, which starts at 1 and doubles (dropping every second kept one)
    whenever more than ``capacity - 1`` would be kept; the newest is always kept
    too. So memory stays bounded however long the run, and the kept snapshots
    stay evenly spaced from the first to the newest.
    """

    def __init__(self, capacity: int = TIMELINE_CAPACITY) -> None:
        if capacity < 3:
            raise ValueError(f"a timeline keeps at least 3 snapshots, not {capacity}")
        self.capacity = int(capacity)
        self._kept: list[tuple[int, AttentionProbe]] = []  # multiples of the stride
        self._newest: tuple[int, AttentionProbe] | None = None
        self._stride = 1
        self._count = 0

    @property
    def _items(self) -> list[AttentionProbe]:
        items = [p for _, p in self._kept]
        if self._newest is not None and (
            not self._kept or self._kept[-1][0] != self._newest[0]
        ):
            items.append(self._newest[1])
        return items

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i: int) -> AttentionProbe:
        return self._items[i]

    @property
    def steps(self) -> list[float]:
        """The step of each kept snapshot, oldest first."""
        return [p.step for p in self._items]

    def add(self, probe: AttentionProbe) -> None:
        """Keep ``probe`` (a later one replaces one of the same step)."""
        if self._newest is not None and self._newest[1].step == probe.step:
            k = self._newest[0]
            self._newest = (k, probe)
            if self._kept and self._kept[-1][0] == k:
                self._kept[-1] = (k, probe)
            return
        k = self._count
        self._count += 1
        self._newest = (k, probe)
        if k % self._stride == 0:
            self._kept.append((k, probe))
        while len(self._kept) > self.capacity - 1:
            self._stride *= 2
            self._kept = [(i, p) for i, p in self._kept if i % self._stride == 0]

    def clear(self) -> None:
        """Forget every snapshot."""
        self._kept, self._newest, self._stride, self._count = [], None, 1, 0

    def entropy_curves(self, layer: str) -> tuple[np.ndarray, np.ndarray]:
        """``(steps (k,), entropy (k, heads))`` of ``layer`` over the kept
        snapshots that have it."""
        kept = [p for p in self._items if layer in p.entropy]
        if not kept:
            return np.zeros(0), np.zeros((0, 0))
        return (
            np.array([p.step for p in kept]),
            np.stack([p.entropy[layer] for p in kept]),
        )


@dataclass(frozen=True)
class AblationResult:
    """Validation scores with and without the muted heads.

    Attributes
    ----------
    muted : tuple of (str, int)
        The muted (layer, head) pairs.
    loss, accuracy : float
        The network as trained.
    muted_loss, muted_accuracy : float
        With the heads muted.
    sequence_accuracy, muted_sequence_accuracy : float or None
        Share of sequences right at every step (labels per step only).
    rows : int
        Validation sequences scored.
    step : float
        The training step of the weights scored.
    """

    muted: tuple[tuple[str, int], ...]
    loss: float
    accuracy: float
    muted_loss: float
    muted_accuracy: float
    sequence_accuracy: float | None
    muted_sequence_accuracy: float | None
    rows: int
    step: float

    @property
    def loss_change(self) -> float:
        return self.muted_loss - self.loss

    @property
    def accuracy_change(self) -> float:
        return self.muted_accuracy - self.accuracy


def score(
    probabilities: np.ndarray, labels: np.ndarray
) -> tuple[float, float, float | None]:
    """Cross-entropy, accuracy and (labels per step) sequence accuracy.

    Parameters
    ----------
    probabilities : np.ndarray
        ``(n, classes)`` or ``(n, time, classes)`` softmax outputs.
    labels : np.ndarray
        ``(n,)`` or ``(n, time)`` class ids.

    Returns
    -------
    tuple
        Mean ``-log p[label]`` over every prediction (p clipped at 1e-7, as
        the loss), the share of predictions whose argmax is the label, and for
        ``(n, time)`` labels the share of sequences right at every step (else
        None).
    """
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels).astype(np.int64).reshape(p.shape[:-1])
    picked = np.take_along_axis(p, y[..., None], axis=-1)[..., 0]
    loss = float(-np.log(np.clip(picked, 1e-7, 1.0)).mean())
    right = p.argmax(axis=-1) == y
    sequence = float(right.all(axis=1).mean()) if right.ndim == 2 else None
    return loss, float(right.mean()), sequence


class HeadAblator:
    """Scores a network on validation data with chosen heads muted.

    It owns a model of the same network (``build`` makes it on first use, in
    the thread that scores), so muting never touches the training model; the
    weights it scores are handed over each time (a probe's copy). One scoring at
    a time (a lock).

    Parameters
    ----------
    build : callable
        Returns a new built model of the network (same layer names).
    x, y : np.ndarray
        Validation inputs and class labels (the first ``ABLATION_ROWS`` are used).
    split : str
        What ``x`` is, for the panel (``"validation"``, or ``"training"`` for a
        network trained without a validation split).
    """

    def __init__(
        self,
        build: Callable[[], Model],
        x: np.ndarray,
        y: np.ndarray,
        split: str = "validation",
    ) -> None:
        self._build = build
        self.split = split
        self.x = x[:ABLATION_ROWS]
        self.y = y[:ABLATION_ROWS]
        self._model: Model | None = None
        self._lock = threading.Lock()

    @property
    def rows(self) -> int:
        return len(self.x)

    def run(
        self,
        weights: Mapping[str, np.ndarray],
        muted: Sequence[tuple[str, int]],
        step: float = 0.0,
    ) -> AblationResult:
        """Scores with ``weights``, as they are and with the ``muted`` heads off."""
        with self._lock:
            if self._model is None:
                self._model = self._build()
            model = self._model
            model.set_weights(dict(weights))
            layers = {str(layer.name): layer for layer in attention_layers(model)}
            for name, head in muted:
                if name not in layers or not 0 <= head < layers[name].num_heads:
                    raise KeyError(f"no attention head {head} in layer {name}")
            base = score(model.predict(self.x), self.y)
            try:
                for name, layer in layers.items():
                    mask = np.ones(layer.num_heads)
                    mask[[h for n, h in muted if n == name]] = 0.0
                    layer.head_mask = mask
                cut = score(model.predict(self.x), self.y)
            finally:
                for layer in layers.values():
                    layer.head_mask = None
        return AblationResult(
            muted=tuple((str(n), int(h)) for n, h in muted),
            loss=base[0],
            accuracy=base[1],
            muted_loss=cut[0],
            muted_accuracy=cut[1],
            sequence_accuracy=base[2],
            muted_sequence_accuracy=cut[2],
            rows=self.rows,
            step=float(step),
        )
