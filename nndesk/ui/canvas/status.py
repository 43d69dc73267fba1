"""Shape inference and validation results turned into what the canvas displays."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from nndesk.document.graph import Edge, GraphView
from nndesk.document.shapes import ShapeReport, infer_shapes
from nndesk.document.validate import DatasetInfo, Problem, validate

from .items.node_item import NodeStatus


@dataclass(frozen=True)
class GraphStatus:
    """Everything the canvas and the problems list show after one inference run."""

    nodes: Mapping[str, NodeStatus] = field(default_factory=dict)
    edge_labels: Mapping[Edge, str] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()
    total_params: int = 0
    report: ShapeReport | None = None

    @property
    def ok(self) -> bool:
        """No error anywhere (warnings allowed)."""
        return not any(p.is_error for p in self.problems)


def format_shape(shape: tuple[int, ...] | None) -> str:
    """``(28, 28)``, ``(8,)``; empty for an unknown shape."""
    if shape is None:
        return ""
    return (
        "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    )


def format_count(count: int, short: bool = False) -> str:
    """``1 param``, ``24 params``, ``1.2M params``: compact enough for a node.

    ``short`` rounds from 10,000 on (``18.5k params``), for a node whose line
    has no room for the exact count.
    """
    if count >= 10_000_000:
        text = f"{count / 1e6:.0f}M"
    elif count >= 1_000_000:
        text = f"{count / 1e6:.1f}M"
    elif count >= 100_000:
        text = f"{count / 1e3:.0f}k"
    elif short and count >= 10_000:
        text = f"{count / 1e3:.1f}k"
    else:
        text = f"{count:,}"
    return f"{text} param" + ("" if count == 1 else "s")


def compute_status(view: GraphView, dataset: DatasetInfo | None = None) -> GraphStatus:
    """Run shape inference and validation over ``view`` once.

    Parameters
    ----------
    view : GraphView
        The document.
    dataset : DatasetInfo, optional
        The loaded dataset, for the data-vs-network checks.

    Returns
    -------
    GraphStatus
        Per-node display texts, edge labels (the shape each edge carries) and the
        problems, graph-level ones first.
    """
    report = infer_shapes(view)
    problems = tuple(validate(view, dataset, shapes=report))
    # The first problem of a node decides its outline: errors before warnings.
    node_problem: dict[str, Problem] = {}
    for problem in sorted(problems, key=lambda p: not p.is_error):
        if problem.node_id is not None:
            node_problem.setdefault(problem.node_id, problem)
    nodes: dict[str, NodeStatus] = {}
    for result in report:
        shape = format_shape(result.output_shape)
        inputs = " + ".join(format_shape(s) for s in result.input_shapes)
        problem = node_problem.get(result.node_id)
        if result.status == "waiting":
            nodes[result.node_id] = NodeStatus(problem=result.message, waiting=True)
        elif problem is not None:
            nodes[result.node_id] = NodeStatus(
                shape_text=shape,
                input_text=inputs,
                problem=problem.message,
                severity=problem.severity,
            )
        else:
            count = result.param_count
            nodes[result.node_id] = NodeStatus(
                shape,
                format_count(count) if count else "",
                inputs,
                params_short=format_count(count, short=True) if count else "",
            )
    labels = {}
    for edge in view.edges:
        edge_shape = report.edge_shape(edge)
        if edge_shape is not None:
            labels[edge] = format_shape(edge_shape)
    return GraphStatus(
        MappingProxyType(nodes),
        MappingProxyType(labels),
        problems,
        report.total_params,
        report,
    )
