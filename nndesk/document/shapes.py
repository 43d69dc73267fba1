"""Shape inference over the whole graph: one result per node, never a first-error stop.

Each node gets a ``NodeShape``: ``ok`` with its per-sample output shape and parameter
count, ``error`` with one sentence saying what is wrong and how to fix it, or
``waiting`` when an upstream node is broken (not an error of its own). Independent
branches still get their shapes. Layers answer for their own shape rules (the engine's
``output_shape``/``param_count``), so the rules live in one place; this module adds
what only the graph knows: missing or surplus inputs, cycles, and whether the Output
node's loss fits the prediction feeding it.

Shapes exclude the batch dimension: a Dense of 10 units outputs ``(10,)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from ..engine import losses
from ..engine.errors import NNDeskError
from ..engine.layers import Shape
from .view import Edge, GraphView, Node

Status = Literal["ok", "error", "waiting"]


@dataclass(frozen=True)
class NodeShape:
    """Shape-inference result of one node.

    Attributes
    ----------
    node_id : str
    status : {"ok", "error", "waiting"}
        ``waiting``: an upstream node has a problem, so this one cannot be judged.
    output_shape : tuple of int or None
        Per-sample output shape when known (for an Output node: the prediction's
        shape, known even when its loss does not fit).
    input_shapes : tuple of tuple of int
        Per-sample shapes arriving at the node, in input order.
    param_count : int
        Trainable parameters (0 when not ``ok``).
    message : str or None
        The problem (``error``) or what it waits on (``waiting``); one sentence.
    """

    node_id: str
    status: Status
    output_shape: Shape | None = None
    input_shapes: tuple[Shape, ...] = ()
    param_count: int = 0
    message: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the node is fine."""
        return self.status == "ok"


@dataclass(frozen=True)
class ShapeReport:
    """Shape inference of a whole graph.

    Attributes
    ----------
    nodes : Mapping[str, NodeShape]
        One result per node, in topological order (nodes on cycles last).
    graph_messages : tuple of str
        Problems of the whole network: no Input node, no Output node.
    """

    nodes: Mapping[str, NodeShape]
    graph_messages: tuple[str, ...] = ()

    def __getitem__(self, node_id: str) -> NodeShape:
        return self.nodes[node_id]

    def __iter__(self) -> Iterator[NodeShape]:
        return iter(self.nodes.values())

    def __len__(self) -> int:
        return len(self.nodes)

    @property
    def ok(self) -> bool:
        """No node error, no node waiting and no graph problem."""
        return not self.graph_messages and all(r.ok for r in self.nodes.values())

    @property
    def errors(self) -> tuple[tuple[str | None, str], ...]:
        """``(node_id or None, message)`` of every problem, graph problems first."""
        graph = tuple((None, m) for m in self.graph_messages)
        nodes = tuple(
            (r.node_id, r.message or "")
            for r in self.nodes.values()
            if r.status == "error"
        )
        return graph + nodes

    @property
    def total_params(self) -> int:
        """Trainable parameters of the nodes whose shapes are known."""
        return sum(r.param_count for r in self.nodes.values())

    def edge_shape(self, edge: Edge) -> Shape | None:
        """The shape travelling along ``edge`` (its source's output), if known."""
        r = self.nodes.get(edge.src_node)
        return r.output_shape if r is not None and r.ok else None


def infer_shapes(view: GraphView) -> ShapeReport:
    """Infer every node's output shape and parameter count.

    Parameters
    ----------
    view : GraphView
        A Document or Snapshot.

    Returns
    -------
    ShapeReport
        A result for every node, plus whole-network problems.
    """
    order, rest = view.partial_order()
    results: dict[str, NodeShape] = {}
    for node_id in order:
        results[node_id] = _infer_node(view, view.node(node_id), results)
    for node_id in rest:
        results[node_id] = _cycle_result(view, node_id, rest)
    return ShapeReport(MappingProxyType(results), _graph_messages(view))


def _graph_messages(view: GraphView) -> tuple[str, ...]:
    messages = []
    if not any(n.spec.category == "Input" for n in view.nodes):
        messages.append(
            "The network has no Input node: add one from the Input category."
        )
    if not any(n.spec.category == "Output" for n in view.nodes):
        messages.append(
            "The network has no Output node: add one and connect the last layer to it."
        )
    return tuple(messages)


def _infer_node(
    view: GraphView, node: Node, results: Mapping[str, NodeShape]
) -> NodeShape:
    problem = _input_count_problem(view, node)
    if problem is not None:
        return NodeShape(node.id, "error", message=problem)
    edges = view.edges_in(node.id)
    for e in edges:
        if not results[e.src_node].ok:
            title = view.node(e.src_node).title
            return NodeShape(
                node.id, "waiting", message=f"Waiting on upstream {title}."
            )
    shapes = tuple(results[e.src_node].output_shape for e in edges)
    in_shapes: tuple[Shape, ...] = tuple(s for s in shapes if s is not None)
    spec = node.spec
    if spec.layer_type is None:
        return _infer_output(view, node, in_shapes)
    try:
        layer = spec.build_layer(node.params, node.id)
        assert layer is not None
        out = tuple(int(d) for d in layer.output_shape(list(in_shapes)))
        count = int(layer.param_count(list(in_shapes)))
    except NNDeskError as exc:
        return NodeShape(node.id, "error", input_shapes=in_shapes, message=str(exc))
    return NodeShape(node.id, "ok", out, in_shapes, count)


def _input_count_problem(view: GraphView, node: Node) -> str | None:
    spec = node.spec
    total = 0
    for port in spec.inputs:
        n = len(view.edges_in(node.id, port.name))
        total += n
        if n > 1 and not port.multiple:
            return (
                f"{node.title} has {n} inputs on its '{port.name}' port but takes one: "
                "remove all but one."
            )
    if spec.inputs and total == 0 and spec.min_inputs > 0:
        port = spec.inputs[0].name
        return f"{node.title} has no input: connect its '{port}' port."
    if total < spec.min_inputs:
        port = spec.inputs[0].name
        return (
            f"{node.title} needs at least {spec.min_inputs} inputs but has {total}: "
            f"connect another node to its '{port}' port."
        )
    if spec.max_inputs is not None and total > spec.max_inputs:
        return (
            f"{node.title} takes at most {spec.max_inputs} inputs but has {total}: "
            "remove some."
        )
    return None


def _infer_output(
    view: GraphView, node: Node, in_shapes: tuple[Shape, ...]
) -> NodeShape:
    shape = in_shapes[0]
    problem = loss_problem(view, node.id, shape)
    status: Status = "error" if problem else "ok"
    return NodeShape(node.id, status, shape, in_shapes, 0, problem)


def _cycle_result(view: GraphView, node_id: str, rest: list[str]) -> NodeShape:
    on_cycle = [n for n in rest if any(view.reaches(s, n) for s in view.successors(n))]
    node = view.node(node_id)
    if node_id in on_cycle:
        names = ", ".join(f"'{n}'" for n in on_cycle if n != node_id)
        return NodeShape(
            node_id,
            "error",
            message=f"{node.title} is on a cycle with {names}: remove one of those "
            "connections.",
        )
    return NodeShape(
        node_id, "waiting", message="Waiting on upstream nodes that form a cycle."
    )


# --- does the loss fit the prediction? ---------------------------------------------------


def final_activation(view: GraphView, node_id: str) -> tuple[str | None, Node | None]:
    """The activation that produces ``node_id``'s output, and the node applying it.

    Walks back through layers whose class is ``pass_through`` (they keep the
    meaning of values: Dropout, Flatten, Reshape). A layer that ends in an
    activation (its engine class's ``activation_name``: Dense, Activation) gives
    it; any other layer (BatchNorm, merges, Input) counts as ``"linear"``.
    ``(None, None)`` when a node on the way has no input; ``(None, node)`` when
    the node's parameters do not build a layer.
    """
    current = view.node(node_id)
    while (cls := current.spec.layer_class) is not None and cls.pass_through:
        preds = view.predecessors(current.id)
        if not preds:
            return None, None
        current = view.node(preds[0])
    try:
        layer = current.spec.build_layer(current.params, current.id)
    except NNDeskError:
        return None, current
    if layer is None:  # Output builds no layer (and feeds no node)
        return "linear", current
    return layer.activation_name or "linear", current


def loss_problem(view: GraphView, output_id: str, shape: Shape) -> str | None:
    """Why the Output node's loss does not fit the prediction, or None.

    Parameters
    ----------
    view : GraphView
    output_id : str
        The Output node.
    shape : tuple of int
        Per-sample shape of the prediction reaching it.

    Returns
    -------
    str or None
        One sentence saying what to change.
    """
    if view.nodes_of_type("Noise"):
        return None  # a GAN's Output marks the discriminator's end; its loss is unused
    output = view.node(output_id)
    loss = str(output.params["loss"])
    needs = losses.get(loss).fuses_with  # "softmax", "sigmoid" or None (regression)
    preds = view.predecessors(output_id)
    if not preds:
        return None
    act, producer = final_activation(view, preds[0])
    who = producer.title if producer is not None else "the last layer"
    # Scores per sample (classes,) or per time step of a sequence (time, classes).
    if needs is not None and len(shape) not in (1, 2):
        return (
            f"{output.title}: {loss} needs 1-D scores per sample but receives "
            f"{shape}: insert Flatten and a Dense layer before the output."
        )
    if needs == "softmax":
        return _class_loss_problem(loss, shape[-1], act, producer, who)
    if needs == "sigmoid":
        return _binary_loss_problem(loss, shape[-1], act, producer, who)
    if act == "softmax":
        return (
            f"{loss} is a regression loss but {who} ends in softmax, which gives class "
            "probabilities: use a linear activation for regression, or a "
            "cross-entropy loss for classes."
        )
    return None


def _class_loss_problem(
    loss: str, units: int, act: str | None, producer: Node | None, who: str
) -> str | None:
    if units == 1:
        return (
            f"{loss} needs one output unit per class but {who} gives 1: use "
            "binary_crossentropy with one sigmoid unit, or one softmax unit per class."
        )
    if act is not None and act != "softmax":
        return f"{loss} expects class probabilities: {_set_activation(producer, who, 'softmax')}"
    return None


def _binary_loss_problem(
    loss: str, units: int, act: str | None, producer: Node | None, who: str
) -> str | None:
    if act == "softmax" and units > 1:
        return (
            f"{loss} scores each unit on its own but {who} ends in a softmax over "
            f"{units} classes: use sparse_categorical_crossentropy (integer labels) or "
            "categorical_crossentropy (one-hot labels)."
        )
    if act is not None and act != "sigmoid":
        return (
            f"{loss} expects probabilities in (0, 1): "
            f"{_set_activation(producer, who, 'sigmoid')}"
        )
    return None


def _set_activation(producer: Node | None, who: str, want: str) -> str:
    if producer is not None and producer.spec.has_param("activation"):
        return f"set the activation of {who} to {want}."
    return f"end the network with a {want} (a Dense with {want} activation)."
