"""Model graphs: layers reached from the outputs, in topological order, with unique names.

``trace_graph`` turns the input and output tensors of a functional model into the
plan the model executes: layers in topological order and, for each layer, the
positions of the layers that feed it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .errors import GraphError
from .layers.base import Layer, SymbolicTensor
from .layers.core import Input


@dataclass(frozen=True)
class Graph:
    """A traced model graph.

    Attributes
    ----------
    layers
        Every layer in topological order (each after all the layers feeding it).
    sources
        ``sources[i]``: positions in ``layers`` of the inputs of layer ``i``, in
        port order (empty for Input layers).
    consumers
        ``consumers[i]``: positions of the layers that read layer ``i``'s output.
    input_positions, output_positions
        Positions of the model's inputs and outputs, in the order given.
    """

    layers: tuple[Layer, ...]
    sources: tuple[tuple[int, ...], ...]
    consumers: tuple[tuple[int, ...], ...]
    input_positions: tuple[int, ...]
    output_positions: tuple[int, ...]


def as_layers(items: object, role: str) -> list[Layer]:
    """Layers behind a tensor, a layer, or a list of either (``role``: for messages)."""
    seq = list(items) if isinstance(items, (list, tuple)) else [items]
    if not seq:
        raise GraphError(f"A model needs at least one {role}.")
    layers: list[Layer] = []
    for item in seq:
        if isinstance(item, SymbolicTensor):
            layer = item.layer
        elif isinstance(item, Layer):
            layer = item
        else:
            raise GraphError(
                f"Model {role}s must be layers or their outputs, got "
                f"{type(item).__name__}."
            )
        if layer._graph_shape is None:
            raise GraphError(f"Model {role} {layer.label} is not connected to a graph.")
        if any(layer is other for other in layers):
            raise GraphError(f"{layer.label} is listed twice among the model {role}s.")
        layers.append(layer)
    return layers


def _topological(outputs: Sequence[Layer]) -> list[Layer]:
    """Depth-first post-order from the outputs, following inputs in port order."""
    order: list[Layer] = []
    done: set[int] = set()
    active: set[int] = set()
    for out in outputs:
        stack: list[tuple[Layer, int]] = [(out, 0)]
        while stack:
            layer, k = stack.pop()
            if id(layer) in done:
                continue
            if k == 0:
                if id(layer) in active:
                    raise GraphError(f"The graph has a cycle through {layer.label}.")
                active.add(id(layer))
            if k < len(layer.inbound):
                stack.append((layer, k + 1))
                stack.append((layer.inbound[k], 0))
            else:
                active.discard(id(layer))
                done.add(id(layer))
                order.append(layer)
    return order


def assign_names(layers: Sequence[Layer]) -> None:
    """Give unnamed layers ``<prefix>_<k>`` names (``dense_1``, ``dense_2``, ...).

    Raises
    ------
    GraphError
        When two layers carry the same explicit name.
    """
    taken: set[str] = set()
    for layer in layers:
        if layer.name is not None:
            if layer.name in taken:
                raise GraphError(
                    f"Two layers are named '{layer.name}'; layer names must be unique."
                )
            taken.add(layer.name)
    counters: dict[str, int] = {}
    for layer in layers:
        if layer.name is None:
            prefix = layer.name_prefix()
            k = counters.get(prefix, 0)
            while True:
                k += 1
                candidate = f"{prefix}_{k}"
                if candidate not in taken:
                    break
            counters[prefix] = k
            layer.name = candidate
            taken.add(candidate)


def trace_graph(inputs: object, outputs: object) -> Graph:
    """Trace the graph between ``inputs`` and ``outputs`` and name its layers.

    Raises
    ------
    GraphError
        When an input is not an Input layer, an output depends on an Input that is
        not among ``inputs``, an input reaches no output, or names clash.
    """
    in_layers = as_layers(inputs, "input")
    out_layers = as_layers(outputs, "output")
    for layer in in_layers:
        if not isinstance(layer, Input):
            raise GraphError(
                f"Model inputs must be Input layers, but {layer.label} is not one."
            )
    order = _topological(out_layers)
    pos = {id(layer): i for i, layer in enumerate(order)}
    for layer in order:
        if isinstance(layer, Input) and not any(layer is x for x in in_layers):
            raise GraphError(
                f"The outputs depend on {layer.label}, which is not among the model "
                "inputs."
            )
    for layer in in_layers:
        if id(layer) not in pos:
            raise GraphError(f"Model input {layer.label} does not reach any output.")
    assign_names(order)
    sources = tuple(tuple(pos[id(src)] for src in layer.inbound) for layer in order)
    consumers: list[list[int]] = [[] for _ in order]
    for i, src in enumerate(sources):
        for j in src:
            if i not in consumers[j]:
                consumers[j].append(i)
    return Graph(
        layers=tuple(order),
        sources=sources,
        consumers=tuple(tuple(c) for c in consumers),
        input_positions=tuple(pos[id(x)] for x in in_layers),
        output_positions=tuple(pos[id(y)] for y in out_layers),
    )
