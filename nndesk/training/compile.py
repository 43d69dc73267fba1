"""Compile a document snapshot into an engine Model whose layers are named by node id.

Compilation reads the graph (through the registry's ``build_layer``), the Output
node's loss and the network settings (the optimizer with its learning rate and
options, the metrics), and returns a compiled, built ``Model``. A cross-entropy
loss always brings accuracy along (``default_metrics``), chosen or not. Weight keys
are ``"<node_id>/<param>"``, so weights move between a document's successive
versions by node id: ``transfer_weights`` keeps the weights of every node whose
parameter shapes did not change.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..document.graph import GraphView, Snapshot
from ..document.registry import build_loss
from ..document.settings import (
    default_metrics,
    is_classification_loss,
    optimizer_arguments,
    warmup_unit,
)
from ..document.shapes import infer_shapes
from ..document.text import counted
from ..document.validate import Problem, validate
from ..engine import optimizers, schedules
from ..engine.layers import Layer
from ..engine.model import Model
from ..io.project_file import expected_weight_shapes
from .errors import CompileError
from .memory import check_fresh_weights, check_training_memory

if TYPE_CHECKING:
    from ..document.validate import DatasetInfo

log = logging.getLogger(__name__)

__all__ = [
    "MODEL_NAME",
    "REGRESSION_METRICS",
    "CompiledNetwork",
    "check_network",
    "compile_network",
    "complete_weights",
    "make_optimizer",
    "make_schedule",
    "summary_model",
    "transfer_optimizer_state",
    "transfer_weights",
    "warmup_note",
]

MODEL_NAME = "network"
"""The name of every compiled model (the title of its summary)."""

REGRESSION_METRICS: tuple[str, ...] = ("mse", "mae", "rmse", "r2")
"""Metrics that score values; the others score classes."""


@dataclass(frozen=True)
class CompiledNetwork:
    """A document snapshot and the compiled model built from it.

    Attributes
    ----------
    model : Model
        Built and compiled; layer names are node ids.
    snapshot : Snapshot
        The frozen document the model was built from.
    input_id : str
        The Input node.
    output_id : str
        The Output node (it builds no layer).
    prediction_id : str
        The node feeding the Output: the model's output layer.
    loss : str
        Canonical loss name of the Output node.
    metrics : tuple of str
        The metrics the model computes: the loss's default metrics, then the
        settings' metrics that suit the loss.
    """

    model: Model
    snapshot: Snapshot
    input_id: str
    output_id: str
    prediction_id: str
    loss: str
    metrics: tuple[str, ...] = field(default=())

    @property
    def settings(self) -> Mapping[str, Any]:
        """The network settings of the snapshot."""
        return self.snapshot.settings

    @property
    def is_classifier(self) -> bool:
        """Whether the loss scores classes (a cross-entropy)."""
        return is_classification_loss(self.loss)

    @property
    def output_units(self) -> int:
        """Width of the prediction (classes, or 1 for a sigmoid/regression output)."""
        shape = self.model.output_shapes[0]
        return int(np.prod(shape)) if shape else 1


def _frozen(view: GraphView) -> Snapshot:
    if isinstance(view, Snapshot):
        return view
    return Snapshot(view.nodes, view.edges, view.settings, view.painted)


def check_network(view: GraphView, dataset: DatasetInfo | None = None) -> list[Problem]:
    """The problems that block compiling (and, given a dataset, training) ``view``.

    Without a dataset only the graph is judged (a network with no dataset chosen yet
    still compiles, for ``summary`` or ``predict``); with one, the data-vs-network
    checks of ``nndesk.document.validate`` join in, and the dataset counts as chosen.

    Returns
    -------
    list of Problem
        Errors only, graph problems first; empty when the network is fine.
    """
    settings = dict(view.settings)
    if dataset is not None or not settings.get("dataset"):
        # The dataset is given (or not needed yet): do not flag its absence.
        settings["dataset"] = settings.get("dataset") or "(given)"
    judged = Snapshot(view.nodes, view.edges, settings)
    return [p for p in validate(judged, dataset) if p.is_error]


def compile_network(
    view: GraphView,
    *,
    seed: int | None = None,
    dtype: np.dtype | type = np.float32,
    dataset: DatasetInfo | None = None,
) -> CompiledNetwork:
    """Build and compile the engine model of a network.

    Parameters
    ----------
    view : GraphView
        A Document or a Snapshot; a Document is snapshotted first, so later edits do
        not reach the model.
    seed : int, optional
        Seed of the initial weights; default: the ``seed`` setting.
    dtype : np.float32 or np.float64
        The model's float type.
    dataset : DatasetInfo, optional
        When given, the data must fit the network too (input shape, classes, task).

    Returns
    -------
    CompiledNetwork

    Raises
    ------
    CompileError
        Listing every problem of the network (shape errors, missing connections,
        loss vs output, data vs network).
    ResourceError
        When building and training it would need more memory than this process
        can use (``nndesk.training.memory``); nothing is allocated then.
    """
    snap = _frozen(view)
    problems = check_network(snap, dataset)
    if problems:
        raise CompileError(problems)
    settings = snap.settings
    (output,) = snap.nodes_of_type("Output")
    (prediction_id,) = snap.predecessors(output.id)
    layers = _build_layers(snap, prediction_id)
    (input_id,) = [n for n, layer in layers.items() if not layer.inbound]
    model = Model(
        inputs=layers[input_id],
        outputs=layers[prediction_id],
        name=MODEL_NAME,
        seed=int(settings["seed"] if seed is None else seed),
        dtype=dtype,
    )
    loss_name = str(output.params["loss"])
    metrics = _suitable_metrics(loss_name, settings["metrics"])
    optimizer = make_optimizer(settings)
    # Before compile builds the weights: refuse what cannot fit (issue 10).
    check_training_memory(
        model,
        optimizer,
        int(settings["batch_size"]),
        early_stopping=int(settings["early_stopping_patience"]) > 0,
    )
    model.compile(
        loss=build_loss(output.params),
        optimizer=optimizer,
        metrics=list(metrics),
    )
    return CompiledNetwork(
        model=model,
        snapshot=snap,
        input_id=input_id,
        output_id=output.id,
        prediction_id=prediction_id,
        loss=loss_name,
        metrics=metrics,
    )


def summary_model(view: GraphView) -> Model:
    """The engine model of a network, neither built nor compiled: for its summary.

    ``summary_model(doc).summary()`` gives the rows of ``nndesk summary`` (the
    compiled model's) without drawing a weight, so a network too large to train
    still shows its layers, shapes and parameter counts.

    Raises
    ------
    CompileError
        Listing every problem of the network, as ``compile_network``.
    """
    snap = _frozen(view)
    problems = check_network(snap)
    if problems:
        raise CompileError(problems)
    (output,) = snap.nodes_of_type("Output")
    (prediction_id,) = snap.predecessors(output.id)
    layers = _build_layers(snap, prediction_id)
    (input_id,) = [n for n, layer in layers.items() if not layer.inbound]
    return Model(
        inputs=layers[input_id], outputs=layers[prediction_id], name=MODEL_NAME
    )


def _build_layers(view: GraphView, prediction_id: str) -> dict[str, Layer]:
    """Engine layers of the nodes the prediction depends on, connected as drawn."""
    needed = {prediction_id}
    stack = [prediction_id]
    while stack:
        for pred in view.predecessors(stack.pop()):
            if pred not in needed:
                needed.add(pred)
                stack.append(pred)
    layers: dict[str, Layer] = {}
    for node_id in view.topological_order():
        if node_id not in needed:
            continue
        node = view.node(node_id)
        layer = node.spec.build_layer(node.params, node.id)
        if (
            layer is None
        ):  # pragma: no cover - only Output builds none, and it is unneeded
            continue
        preds = view.predecessors(node_id)
        if preds:
            layer([layers[p] for p in preds] if len(preds) > 1 else layers[preds[0]])
        layers[node_id] = layer
    return layers


def _suitable_metrics(loss: str, chosen: Any) -> tuple[str, ...]:
    classifier = is_classification_loss(loss)
    kept = list(default_metrics(loss))
    for name in chosen:
        if name in kept:
            continue
        if (name in REGRESSION_METRICS) == classifier:
            log.warning(
                "Metric %s does not suit the loss %s; it is skipped.", name, loss
            )
            continue
        kept.append(str(name))
    return tuple(kept)


def make_optimizer(settings: Mapping[str, Any]) -> optimizers.Optimizer:
    """The optimizer the settings name, with their learning rate and options.

    Every option the optimizer has (momentum, Nesterov, betas, epsilon, weight
    decay, clipnorm, clipvalue...) comes from the setting of the same name; an
    empty optional setting leaves the engine's default (see
    ``nndesk.document.settings.optimizer_arguments``).

    Raises
    ------
    ConfigError
        For options the optimizer refuses together (Nesterov without momentum).
    """
    return optimizers.get(str(settings["optimizer"]), **optimizer_arguments(settings))


def make_schedule(settings: Mapping[str, Any]) -> schedules.Schedule | None:
    """The learning-rate schedule of the settings, or None for a constant rate.

    ``step`` uses ``lr_step_size`` and ``lr_gamma``, ``exponential`` uses
    ``lr_gamma``, ``cosine`` decays to ``lr_min`` over the ``epochs`` setting,
    ``warmup_cosine`` warms up over ``lr_warmup_steps`` steps (per step: the
    cosine then spans the rest of ``epochs`` times the batches per epoch), or over
    ``lr_warmup_epochs`` epochs when that holds a number (a file from before step
    warm-ups: per epoch, as it trained then).
    """
    name = str(settings["lr_schedule"])
    if name == "constant":
        return None
    if name == "step":
        return schedules.get(
            name,
            step_size=int(settings["lr_step_size"]),
            gamma=float(settings["lr_gamma"]),
        )
    if name == "exponential":
        return schedules.get(name, gamma=float(settings["lr_gamma"]))
    if name == "cosine":
        return schedules.get(
            name,
            total_epochs=int(settings["epochs"]),
            min_lr=float(settings["lr_min"]),
        )
    if name == "warmup_cosine":
        if warmup_unit(settings) == "epochs":
            warmup = {"warmup_epochs": int(settings["lr_warmup_epochs"])}
        else:
            warmup = {"warmup_steps": int(settings["lr_warmup_steps"])}
        return schedules.get(
            name,
            **warmup,
            total_epochs=int(settings["epochs"]),
            min_lr=float(settings["lr_min"]),
        )
    return schedules.get(name)


def warmup_note(schedule: schedules.Schedule | None, batches: int) -> str | None:
    """One sentence when a ``warmup_cosine`` warm-up is as long as the run or
    longer (``batches`` per epoch), so the rate never reaches the learning rate;
    None otherwise. Such a run is not refused: it trains as set."""
    if not isinstance(schedule, schedules.WarmupCosine):
        return None
    if not schedule.warmup_outlasts(batches):
        return None
    epochs = schedule.total_epochs
    if schedule.per_step:
        setting, unit = "lr_warmup_steps", "step"
        run = counted(epochs * batches, "step")
        run += f" ({counted(epochs, 'epoch')} of {counted(batches, 'batch', 'batches')})"
    else:
        setting, unit, run = "lr_warmup_epochs", "epoch", counted(epochs, "epoch")
    return (
        f"The warm-up of {counted(schedule.warmup, unit)} ({setting}) is as long "
        f"as the run's {run} or longer, so the learning rate rises through the "
        "whole run and never reaches its set value: shorten the warm-up or train "
        "more epochs."
    )


# --- moving weights between versions of a network -------------------------------------


def _by_node(keys: Any) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(key.split("/", 1)[0], []).append(key)
    return groups


def transfer_weights(old_weights: Mapping[str, np.ndarray], model: Model) -> list[str]:
    """Copy into ``model`` the old weights of every node whose shapes are unchanged.

    A node's weights (parameters and running statistics) move together: only when
    the old weights hold every key of that node with the same shape. Nodes that are
    new, or whose shapes changed (more units, another input width), keep the fresh
    weights ``model`` was built with.

    Parameters
    ----------
    old_weights : Mapping[str, np.ndarray]
        ``"<node_id>/<param>"`` -> array, e.g. ``old_model.get_weights()`` or
        ``Project.weights``.
    model : Model
        The newly compiled model.

    Returns
    -------
    list of str
        The node ids whose weights were kept, in the model's layer order.
    """
    current = model.get_weights()
    kept: list[str] = []
    chosen: dict[str, np.ndarray] = {}
    for node_id, keys in _by_node(current).items():
        if all(
            k in old_weights and np.shape(old_weights[k]) == current[k].shape
            for k in keys
        ):
            kept.append(node_id)
            chosen.update({k: old_weights[k] for k in keys})
    model.set_weights(chosen, strict=False)
    return kept


def complete_weights(
    view: GraphView, weights: Mapping[str, np.ndarray], seed: int = 0
) -> dict[str, np.ndarray]:
    """Weights for every node of ``view`` whose shapes are known, as a file holds them.

    A network file stores the weights of all layer nodes with known shapes, also
    of nodes that do not lead to the Output yet (an edit in progress), and none
    for nodes whose shapes are unknown. Nodes whose arrays in ``weights`` all fit
    keep them; the others get freshly initialised weights (seeded by ``seed`` and
    the node's position, so the result is reproducible). Keys of ``weights`` that
    the graph does not imply are dropped.

    Returns
    -------
    dict[str, np.ndarray]
        ``"<node_id>/<param>"`` -> array, in node order; empty when ``weights`` is.

    Raises
    ------
    ResourceError
        When the fresh weights would not fit in memory (a node edited to 1,000,000
        units); nothing is drawn then.
    """
    if not weights:
        return {}
    expected = expected_weight_shapes(view)
    report = infer_shapes(view)
    out: dict[str, np.ndarray] = {}
    dtype = next(iter(weights.values())).dtype
    groups = _by_node(expected)
    redraw: dict[str, Layer] = {}
    for node_id, keys in groups.items():
        if not all(k in weights and np.shape(weights[k]) == expected[k] for k in keys):
            node = view.node(node_id)
            layer = node.spec.build_layer(node.params, node.id)
            assert layer is not None  # only layer nodes have expected weights
            redraw[node_id] = layer
    sizes = {n: sum(int(np.prod(expected[k])) for k in groups[n]) for n in redraw}
    check_fresh_weights([(redraw[n], sizes[n]) for n in redraw], dtype.itemsize)
    for index, (node_id, keys) in enumerate(groups.items()):
        if node_id not in redraw:
            out.update({k: np.asarray(weights[k]) for k in keys})
            continue
        layer = redraw.pop(node_id)  # freed after its weights are copied
        rng = np.random.default_rng([seed, index])
        layer.build(list(report[node_id].input_shapes), rng, dtype)
        fresh = {**layer.params, **layer.state}
        out.update({k: fresh[k.split("/", 1)[1]].copy() for k in keys})
    return out


def transfer_optimizer_state(
    old_state: Mapping[str, np.ndarray], model: Model, kept: list[str]
) -> None:
    """Restore the optimizer state of the ``kept`` nodes into ``model``'s optimizer.

    Keys are ``"<node_id>/<param>/<slot>"`` plus ``"iterations"``; the state of other
    nodes is dropped, so they start their moments afresh.
    """
    if model.optimizer is None or not old_state:
        return
    keep = set(kept)
    state = {
        k: v
        for k, v in old_state.items()
        if k == "iterations" or k.split("/", 1)[0] in keep
    }
    if "iterations" not in state:
        return
    model.optimizer.set_state(state)
