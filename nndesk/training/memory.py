"""The memory guard: how much memory training a network takes, refused before it runs.

``compile_network`` calls ``check_training_memory`` before any weight exists, and
``Trainer`` calls it again before the first batch, when the batch size and the
prepared data are final. Both compare the estimate with what this process can
really use (``nndesk.engine.memory``) and refuse with one sentence naming the node
that needs the most::

    Node 'dense_1' (Dense, 1,000,000 units) makes this network need about 30.6 GB
    of memory to train at batch size 32, but only 5.7 GB is available (the
    address-space limit).

The estimate reads the unbuilt engine model (the per-layer shape and parameter
rules that the document's shape inference uses too), so nothing is allocated to
make it. It follows what the engine really allocates, with ``d`` the bytes of one
float (4 for float32) and ``P`` the trainable parameters:

- building: each layer draws its weights in float64 and casts them (16 bytes per
  parameter of the layer being drawn), then the weights and gradients are packed
  into one buffer each while the per-layer arrays still exist: ``4·d·P`` at most;
- training: weights and gradients (``2·d·P``), the trainer's two copies of the
  weights that undo a diverged step, one more copy for a snapshot (saving, the
  run state, the window's probes) and, with early stopping, the best epoch's
  weights (twice: the old copy lives until the new one is made), the optimizer's
  state slots (``len(optimizer.slots)`` arrays, counted twice because the first
  step builds them per parameter and then packs them), and without Numba two
  scratch arrays of the NumPy update (``2·d·P``);
- activations: for every layer and every batch shape in use (the full batch and
  the last, partial one), up to four buffers per output value (forward output,
  pre-activation, output gradient, mask) and two per input value (input gradient
  and the Dense chain's input copy), plus the work arrays a layer says it keeps
  (``Layer.scratch_size``: a convolution's padded input and im2col columns, and
  their gradients); evaluation and prediction keep forward buffers (and forward
  work arrays) for 256 rows (``EVAL_BATCH``) and their partial batch;
- data, once known: the prepared arrays, the predictions an epoch keeps for its
  metrics, the shuffle order and one gathered batch.

Views (Flatten, Reshape) and layers with fewer buffers are counted by the same
rule, so the estimate errs on the high side; docs/training.md gives the factor to
the measured peak.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..engine.kernels import numba_expected
from ..engine.layers import Layer
from ..engine.memory import MemoryBudget, check_fits, format_bytes, memory_budget
from ..engine.model import Model
from ..engine.optimizers import Optimizer

if TYPE_CHECKING:
    from .data import PreparedData

__all__ = [
    "EVAL_BATCH",
    "MemoryEstimate",
    "NodeMemory",
    "check_fresh_weights",
    "check_training_memory",
    "describe_estimate",
    "estimate_training_memory",
]

EVAL_BATCH = 256
"""Rows per forward pass of ``Model.evaluate`` and ``Model.predict`` (their default,
which validation, the CLI and the window's panels use)."""

# Bytes per parameter while a layer draws its weights: the initializer's float64
# array and its float64 copy (``initialize`` casts with ``astype``).
_DRAW_BYTES = 16
# Buffers per output value and per input value of a layer in a training step
# (see the module docstring), and per output value in a forward pass.
_TRAIN_OUT, _TRAIN_IN, _FORWARD_OUT = 4, 2, 2


@dataclass(frozen=True)
class NodeMemory:
    """One node's share of the training estimate.

    Attributes
    ----------
    node_id : str
        The node (the engine layer's name).
    description : str
        Its type and size, as messages show it: ``"Dense, 1,000,000 units"``.
    params : int
        Trainable parameters.
    weights : int
        Bytes of its weights, gradients, weight copies and optimizer state.
    activations : int
        Bytes of its training, evaluation and prediction buffers.
    """

    node_id: str
    description: str
    params: int
    weights: int
    activations: int

    @property
    def total(self) -> int:
        """Bytes this node accounts for while training."""
        return self.weights + self.activations


@dataclass(frozen=True)
class MemoryEstimate:
    """The memory a network needs to be built and trained.

    Attributes
    ----------
    build : int
        Peak bytes while the weights are created (``Model.build``).
    train : int
        Peak bytes while training: every node's share plus ``data``.
    data : int
        Bytes of the prepared data and what training derives from it.
    batch_size : int
    nodes : tuple of NodeMemory
        One per layer (not the Inputs), in the model's order.
    """

    build: int
    train: int
    data: int
    batch_size: int
    nodes: tuple[NodeMemory, ...]

    @property
    def peak(self) -> int:
        """The most the network holds at once: building or training."""
        return max(self.build, self.train)

    @property
    def largest(self) -> NodeMemory | None:
        """The node that needs the most memory to train (None without layers)."""
        return max(self.nodes, key=lambda n: n.total, default=None)


def _size(shape: Sequence[int]) -> int:
    return math.prod(int(d) for d in shape)


def _rows(batch: int, n: int | None) -> int:
    """Rows of the buffers kept for batches of ``batch`` over ``n`` samples: the
    full batch and the last, partial one (assumed as large when ``n`` is unknown)."""
    if n is None:
        return 2 * batch
    if n <= batch:
        return n
    return batch + n % batch


def _describe(layer: Layer, params: int) -> str:
    """``"Dense, 1,000,000 units"``, or the type and its parameter count."""
    type_name = layer.type_name
    units = layer.get_config().get("units")
    if isinstance(units, int):
        return f"{type_name}, {units:,} units"
    if params:
        return f"{type_name}, {params:,} parameters"
    return type_name


def estimate_training_memory(
    model: Model,
    optimizer: Optimizer,
    batch_size: int,
    *,
    data: PreparedData | None = None,
    guard_weights: bool = True,
    early_stopping: bool = False,
) -> MemoryEstimate:
    """Estimate the memory ``model`` needs to be built and trained.

    Parameters
    ----------
    model : Model
        Built or not: only its layers, shapes and parameter counts are read.
    optimizer : Optimizer
        The optimizer training will use (its state slots count).
    batch_size : int
        Samples per training step.
    data : PreparedData, optional
        The prepared data, when known: its arrays, sample counts and the
        predictions an epoch keeps count too.
    guard_weights : bool
        Whether the trainer keeps its two weight copies (``Trainer``'s default).
    early_stopping : bool
        Whether early stopping keeps the best epoch's weights.

    Returns
    -------
    MemoryEstimate
    """
    d = model.dtype.itemsize
    batch = max(1, int(batch_size))
    n_train = None if data is None else data.n_train
    n_val = None if data is None else data.n_val
    train_rows = _rows(batch, n_train)
    eval_rows = _rows(EVAL_BATCH, n_val if n_val else None)
    # Copies of the weights (and state): the trainer's two, a snapshot, and early
    # stopping's best epoch (the old copy lives until the new one is made).
    copies = (2 if guard_weights else 0) + 1 + (2 if early_stopping else 0)
    # Per parameter: weights and gradients, the copies, the optimizer slots
    # (built per parameter, then packed) and the NumPy update's scratch.
    per_param = 2 + copies + 2 * len(optimizer.slots)
    if not numba_expected():  # never imports Numba (seconds in the GUI thread)
        per_param += 2
    nodes: list[NodeMemory] = []
    held = drawn = build_peak = 0
    state_total = 0
    for layer in model.layers:
        name = str(layer.name)
        sources = model.inbound_names(name)
        if not sources:
            continue  # an Input: its values are the data
        in_shapes = [model.output_shape_of(s) for s in sources]
        params = int(layer.param_count(in_shapes))
        state = int(layer.state_count(in_shapes))
        v_out = _size(model.output_shape_of(name))
        v_in = sum(_size(s) for s in in_shapes)
        weights = d * (params * per_param + (1 + copies) * state)
        if layer.has_regularization:
            weights += d * params  # the penalty's gradient buffer
        acts = d * (
            train_rows
            * (
                _TRAIN_OUT * v_out
                + _TRAIN_IN * v_in
                + layer.scratch_size(in_shapes, training=True)
            )
            + eval_rows
            * (_FORWARD_OUT * v_out + layer.scratch_size(in_shapes, training=False))
        )
        nodes.append(NodeMemory(name, _describe(layer, params), params, weights, acts))
        build_peak = max(build_peak, held + _DRAW_BYTES * (params + state))
        held += 2 * d * params + d * state
        drawn += params
        state_total += state
    build_peak = max(build_peak, 4 * d * drawn + d * state_total)
    data_bytes = _data_bytes(model, data, train_rows)
    train = sum(n.total for n in nodes) + data_bytes
    return MemoryEstimate(build_peak, train, data_bytes, batch, tuple(nodes))


def _data_bytes(model: Model, data: PreparedData | None, train_rows: int) -> int:
    """The prepared arrays, one gathered batch of inputs and targets, the shuffle
    order, and the predictions an epoch keeps (and joins) for its metrics."""
    d = model.dtype.itemsize
    v_in = sum(_size(s) for s in model.input_shapes)
    v_out = sum(_size(s) for s in model.output_shapes)
    total = d * train_rows * (v_in + v_out)
    if data is None:
        return total
    arrays = (data.x_train, data.y_train, data.x_val, data.y_val)
    total += sum(int(a.nbytes) for a in arrays if a is not None)
    total += 8 * data.n_train  # the shuffle order
    total += d * v_out * (2 * data.n_train + data.n_val)  # kept and joined outputs
    total += int(data.y_train.nbytes)  # the targets in shuffled order
    return total


def _held(model: Model, data: PreparedData | None) -> int:
    """Bytes of the estimate that already exist: a built model's weights,
    gradients and state, and the prepared data."""
    total = 0
    if model.built:
        arrays = [*model.trainable_weights().values(), *model.gradients().values()]
        total += sum(int(a.nbytes) for a in arrays)
        total += sum(
            int(a.nbytes) for layer in model.layers for a in layer.state.values()
        )
    if data is not None:
        arrays = (data.x_train, data.y_train, data.x_val, data.y_val)
        total += sum(int(a.nbytes) for a in arrays if a is not None)
    return total


def check_training_memory(
    model: Model,
    optimizer: Optimizer,
    batch_size: int,
    *,
    data: PreparedData | None = None,
    guard_weights: bool = True,
    early_stopping: bool = False,
    budget: MemoryBudget | None = None,
) -> MemoryEstimate:
    """Refuse to build or train ``model`` when it would not fit in memory.

    Parameters
    ----------
    model, optimizer, batch_size, data, guard_weights, early_stopping
        As for ``estimate_training_memory``.
    budget : MemoryBudget, optional
        What this process can use (default: ``memory_budget()`` now). What the
        model and the data already hold is added to it, since the estimate
        counts them too.

    Returns
    -------
    MemoryEstimate
        The estimate, when it fits.

    Raises
    ------
    ResourceError
        Naming the node that needs the most, the estimate and the memory
        available, e.g. "Node 'dense_1' (Dense, 1,000,000 units) makes this
        network need about 30.6 GB of memory to train at batch size 32, but only
        5.7 GB is available (the address-space limit)."
    """
    estimate = estimate_training_memory(
        model,
        optimizer,
        batch_size,
        data=data,
        guard_weights=guard_weights,
        early_stopping=early_stopping,
    )
    budget = memory_budget() if budget is None else budget
    largest = estimate.largest
    what = (
        f"Node '{largest.node_id}' ({largest.description})"
        if largest is not None
        else "The data"
    )
    check_fits(
        estimate.peak,
        what,
        budget.plus(_held(model, data)),
        verb="makes this network need",
        purpose=f" to train at batch size {estimate.batch_size}",
    )
    return estimate


def describe_estimate(estimate: MemoryEstimate) -> str:
    """A short account of an estimate for logs: peak, build, train, data."""
    return (
        f"peak {format_bytes(estimate.peak)} (build {format_bytes(estimate.build)}, "
        f"train {format_bytes(estimate.train)}, data {format_bytes(estimate.data)})"
    )


def check_fresh_weights(
    fresh: Sequence[tuple[Layer, int]],
    itemsize: int,
    budget: MemoryBudget | None = None,
) -> None:
    """Refuse to draw fresh weights (for a file) that would not fit in memory.

    Saving a trained network whose nodes were edited draws fresh weights for the
    nodes whose shapes changed (``compile.complete_weights``): each is drawn in
    float64 (16 bytes per parameter, one node at a time), then kept, and encoded
    for the file (``2 * itemsize`` bytes per parameter).

    Parameters
    ----------
    fresh : sequence of (Layer, int)
        The unbuilt layers (named by node id) that need fresh weights, with their
        parameter and state counts.
    itemsize : int
        Bytes per value of the weights (4 for float32).
    budget : MemoryBudget, optional
        What this process can use (default: ``memory_budget()`` now).

    Raises
    ------
    ResourceError
        Naming the largest such node, the estimate and the memory available.
    """
    if not fresh:
        return
    layer, count = max(fresh, key=lambda pair: pair[1])
    needed = 2 * itemsize * sum(n for _, n in fresh) + _DRAW_BYTES * count
    check_fits(
        needed,
        f"Node '{layer.name}' ({_describe(layer, count)})",
        memory_budget() if budget is None else budget,
        verb="needs",
        purpose=" for fresh weights to save",
    )
