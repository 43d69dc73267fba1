"""Whole-network checks: every problem at once, each a node id and one sentence.

``validate`` gathers shape-inference errors, whole-graph problems (no Input, no
Output, several Inputs, nodes whose result is unused), settings that contradict each
other, and — when the caller passes what it knows of the dataset — mismatches
between the data and the network (input shape, number of classes, task vs loss).
Errors block training; warnings only inform.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from ..engine import losses, optimizers
from ..engine.data import sample_fits_input
from ..engine.errors import ConfigError, NNDeskError
from ..engine.layers.base import format_shape
from .gan import gan_problems, gan_setup, is_gan
from .settings import default_metrics, optimizer_arguments
from .shapes import NodeShape, ShapeReport, final_activation, infer_shapes
from .text import counted
from .view import GraphView

Severity = Literal["error", "warning"]

_REGRESSION_METRICS = ("mse", "mae", "rmse", "r2")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the network.

    Attributes
    ----------
    node_id : str or None
        The node to select when the user clicks the problem; None for the network
        as a whole.
    message : str
        One sentence naming the cause and what to change.
    severity : {"error", "warning"}
        Errors block training.
    """

    node_id: str | None
    message: str
    severity: Severity = "error"

    @property
    def is_error(self) -> bool:
        """Whether this problem blocks training."""
        return self.severity == "error"


class DatasetInfo(Protocol):
    """What ``validate`` needs to know of a dataset (``nndesk.io`` Datasets fit).

    Attributes
    ----------
    input_shape : tuple of int
        Per-sample feature shape.
    task : str
        ``"classification"`` or ``"regression"``.
    n_classes : int or None
        Number of classes for classification.
    target_steps : int or None
        Time steps a sample's labels cover (a label per step, ``(n, time)``
        labels), None for one target per sample.
    """

    @property
    def input_shape(self) -> tuple[int, ...]: ...

    @property
    def target_steps(self) -> int | None: ...

    @property
    def task(self) -> str: ...

    @property
    def n_classes(self) -> int | None: ...


def validate(
    view: GraphView,
    dataset: DatasetInfo | None = None,
    shapes: ShapeReport | None = None,
) -> list[Problem]:
    """Every problem of the network, graph-level ones first.

    Parameters
    ----------
    view : GraphView
        A Document or Snapshot.
    dataset : DatasetInfo, optional
        The loaded dataset (anything with ``input_shape``, ``task``, ``n_classes``);
        enables the data-vs-network checks.
    shapes : ShapeReport, optional
        A report already computed for ``view`` (saves recomputing it).

    Returns
    -------
    list of Problem
        Empty when the network is ready to train.
    """
    report = shapes if shapes is not None else infer_shapes(view)
    problems = [Problem(None, m) for m in report.graph_messages]
    problems += _structure_problems(view)
    problems += [
        Problem(r.node_id, _channel_fix(view, r) or r.message or "")
        for r in report
        if r.status == "error"
    ]
    problems += [Problem(node_id, m) for node_id, m in gan_problems(view, report)]
    problems += _unused_problems(view)
    problems += _integer_input_problems(view)
    problems += _settings_problems(view)
    if dataset is not None:
        problems += _dataset_problems(view, dataset, report)
    return problems


def errors_only(problems: list[Problem]) -> list[Problem]:
    """The problems that block training."""
    return [p for p in problems if p.is_error]


def _structure_problems(view: GraphView) -> list[Problem]:
    if is_gan(view):
        return []  # a GAN counts its inputs and outputs itself (gan_problems)
    problems = []
    inputs = [n for n in view.nodes if n.spec.category == "Input"]
    outputs = [n for n in view.nodes if n.spec.category == "Output"]
    if len(inputs) > 1:
        problems.append(
            Problem(
                inputs[1].id,
                f"The network has {len(inputs)} Input nodes but a dataset feeds one: "
                "remove all but one.",
            )
        )
    if len(outputs) > 1:
        problems.append(
            Problem(
                outputs[1].id,
                f"The network has {len(outputs)} Output nodes but a dataset gives one "
                "target: remove all but one.",
            )
        )
    return problems


def _integer_input_problems(view: GraphView) -> list[Problem]:
    """Layers that read integer ids (``needs_integer_input``: Embedding) fed by
    anything but an Input of dtype int, through pass-through layers."""
    problems = []
    for node in view.nodes:
        cls = node.spec.layer_class
        if cls is None or not cls.needs_integer_input:
            continue
        source = node
        while True:
            preds = view.predecessors(source.id)
            if not preds:
                break
            source = view.node(preds[0])
            source_cls = source.spec.layer_class
            if source_cls is None or not source_cls.pass_through:
                break
        if source is node:
            continue  # unconnected: shape inference says so
        if source.spec.category == "Input":
            if source.params.get("dtype") != "int":
                problems.append(
                    Problem(
                        node.id,
                        f"{node.title} reads integer token ids but {source.title} "
                        "declares float values: set its dtype to int if the data "
                        "are ids.",
                        "warning",
                    )
                )
        else:
            problems.append(
                Problem(
                    node.id,
                    f"{node.title} reads integer token ids but receives the "
                    f"computed values of {source.title}: feed it from an Input "
                    "of dtype int.",
                )
            )
    return problems


def _unused_problems(view: GraphView) -> list[Problem]:
    """Nodes from which no path leads to an Output node."""
    outputs = [n.id for n in view.nodes if n.spec.category == "Output"]
    if not outputs:
        return []
    useful = set(outputs)
    setup = gan_setup(view)
    if setup is not None:  # the generator ends in its sample, not the Output
        useful |= set(setup.generator_ids)
    stack = list(outputs)
    while stack:
        for pred in view.predecessors(stack.pop()):
            if pred not in useful:
                useful.add(pred)
                stack.append(pred)
    return [
        Problem(
            n.id,
            f"{n.title} does not lead to the Output: its result is unused.",
            "warning",
        )
        for n in view.nodes
        if n.id not in useful
    ]


def _settings_problems(view: GraphView) -> list[Problem]:
    s = view.settings
    problems = []
    if not s["dataset"]:
        problems.append(
            Problem(None, "No dataset is chosen: set one in the network settings.")
        )
    monitor = s["early_stopping_metric"]
    if s["early_stopping_patience"] > 0:
        if monitor.startswith("val_") and s["validation_split"] == 0:
            problems.append(
                Problem(
                    None,
                    f"Early stopping watches {monitor} but the validation split is 0: "
                    "set a validation split or watch a training metric.",
                )
            )
        base = monitor.removeprefix("val_")
        if base != "loss" and base not in (*s["metrics"], *_default_metrics(view)):
            problems.append(
                Problem(
                    None,
                    f"Early stopping watches {monitor} but {base} is not among the "
                    "metrics: add it to the metrics or watch the loss.",
                )
            )
    try:
        optimizers.get(str(s["optimizer"]), **optimizer_arguments(s))
    except ConfigError as exc:  # options that contradict each other (Nesterov)
        problems.append(Problem(None, f"Network settings: {exc}"))
    return problems + _metric_problems(view)


def _default_metrics(view: GraphView) -> tuple[str, ...]:
    outputs = view.nodes_of_type("Output")
    return default_metrics(str(outputs[0].params["loss"])) if len(outputs) == 1 else ()


def _metric_problems(view: GraphView) -> list[Problem]:
    outputs = view.nodes_of_type("Output")
    if len(outputs) != 1:
        return []
    loss = str(outputs[0].params["loss"])
    classifier = losses.get(loss).fuses_with is not None
    chosen = view.settings["metrics"]
    wrong = [m for m in chosen if (m in _REGRESSION_METRICS) == classifier]
    if not wrong:
        return []
    kind = "a classification" if classifier else "a regression"
    return [
        Problem(
            None,
            f"The metrics {', '.join(wrong)} do not suit {kind} loss ({loss}): "
            "remove them from the metrics.",
            "warning",
        )
    ]


def _channel_fix(view: GraphView, result: NodeShape) -> str | None:
    """The fix for a layer fed straight by an Input that lacks its last axis (an
    ``Input((28, 28))`` wired into a Conv2D): the Input shape with an axis of 1
    added, when the layer accepts that; None otherwise."""
    preds = view.predecessors(result.node_id)
    if len(preds) != 1 or len(result.input_shapes) != 1:
        return None
    source, node = view.node(preds[0]), view.node(result.node_id)
    if source.spec.category != "Input":
        return None
    shape = tuple(int(d) for d in source.params["shape"])
    wanted = (*shape, 1)
    try:
        layer = node.spec.build_layer(node.params, node.id)
        if layer is None:
            return None
        layer.output_shape([wanted])
    except NNDeskError:
        return None
    return (
        f"{node.title} needs one more axis than {source.title} gives "
        f"{format_shape(shape)}: set the Input shape to {format_shape(wanted)} "
        f"(samples of {format_shape(shape)}, such as grey-scale images, get that "
        "axis of 1 added automatically)."
    )


def input_note(input_shape: tuple[int, ...], data_shape: tuple[int, ...]) -> str | None:
    """What the inspector says of an Input of ``input_shape`` fed samples of
    ``data_shape`` that fit it only once an axis of 1 is added, else None."""
    shape, data = tuple(input_shape), tuple(data_shape)
    if shape == data or not sample_fits_input(data, shape):
        return None
    return (
        f"The dataset's samples are {format_shape(data)}: they reach this Input "
        f"with an axis of 1 added, as {format_shape(shape)}."
    )


def _dataset_problems(
    view: GraphView, data: DatasetInfo, report: ShapeReport
) -> list[Problem]:
    problems = []
    want = tuple(int(d) for d in data.input_shape)
    for node in view.nodes_of_type("Input"):
        shape = tuple(node.params["shape"])
        if not sample_fits_input(want, shape):
            problems.append(
                Problem(
                    node.id,
                    f"{node.title} has shape {format_shape(shape)} but the dataset's samples "
                    f"have shape {format_shape(want)}: set the Input shape to {format_shape(want)}.",
                )
            )
    outputs = view.nodes_of_type("Output")
    if len(outputs) == 1 and not is_gan(view):  # a GAN ignores the labels
        problems += _sequence_target_problems(view, outputs[0].id, data, report)
        problems += _target_problems(view, outputs[0].id, data, report)
    return problems


def _sequence_target_problems(
    view: GraphView, output_id: str, data: DatasetInfo, report: ShapeReport
) -> list[Problem]:
    """A prediction per time step ``(time, k)`` against a dataset with one target
    per sample (typically a forgotten Flatten before a Dense, or return_sequences
    left on), or the other way round, or per-step labels of another length."""
    result = report.nodes.get(output_id)
    shape = result.output_shape if result is not None else None
    steps = data.target_steps
    if shape is None or (len(shape) != 2 and steps is None):
        return []
    preds = view.predecessors(output_id)
    who = view.node(preds[0]).title if preds else "the last layer"
    if steps is not None:
        if len(shape) == 2 and shape[0] == steps:
            return []
        what = (
            f"{format_shape(shape)}, a value per time step for {shape[0]} steps"
            if len(shape) == 2
            else f"{format_shape(shape)}, one value per sample"
        )
        return [
            Problem(
                output_id,
                f"{who} predicts {what}, but the dataset has a label for each of "
                f"{steps} time steps: keep return_sequences on up to a Dense per "
                f"step, with inputs of {steps} steps.",
            )
        ]
    return [
        Problem(
            output_id,
            f"{who} predicts {format_shape(shape)}, a value per time step, but the "
            "dataset has one target per sample: insert Flatten before the last "
            "Dense, or turn return_sequences off on the last recurrent layer.",
        )
    ]


def _target_problems(
    view: GraphView, output_id: str, data: DatasetInfo, report: ShapeReport
) -> list[Problem]:
    output = view.node(output_id)
    loss = str(output.params["loss"])
    needs = losses.get(loss).fuses_with
    if data.task == "regression":
        if needs is not None:
            return [
                Problem(
                    output_id,
                    f"{loss} needs class labels but the dataset is a regression set: "
                    "use mse, mae or huber.",
                )
            ]
        return []
    if needs is None:
        return [
            Problem(
                output_id,
                f"{loss} is a regression loss but the dataset has class labels: use "
                "a cross-entropy loss.",
                "warning",
            )
        ]
    classes = int(data.n_classes or 0)
    result = report.nodes.get(output_id)
    shape = result.output_shape if result is not None else None
    if shape is None or len(shape) not in (1, 2):  # (classes,) or (time, classes)
        return []
    units = shape[-1]
    preds = view.predecessors(output_id)
    who = "the last layer"
    if preds:
        producer = final_activation(view, preds[0])[1]
        who = producer.title if producer is not None else who
    if needs == "sigmoid":
        if classes > 2 and units == 1:
            return [
                Problem(
                    output_id,
                    f"{loss} fits 2 classes but the dataset has {classes}: use "
                    f"sparse_categorical_crossentropy with {classes} softmax units.",
                )
            ]
        return []
    if classes and units != classes:
        return [
            Problem(
                output_id,
                f"The dataset has {classes} classes but {who} gives "
                f"{counted(units, 'output')}: "
                f"give it {classes} units, one per class.",
            )
        ]
    return []
