"""Automatic layout: nodes in columns left to right by depth, ordered to limit crossings."""

from __future__ import annotations

from nndesk.document.graph import GraphView, Pos

COLUMN_GAP = 90.0
ROW_GAP = 36.0


def layered_positions(
    view: GraphView,
    node_width: float,
    node_height: float,
    origin: Pos = (0.0, 0.0),
) -> dict[str, Pos]:
    """Positions that put every node one column right of its deepest input.

    Columns hold the nodes of equal depth (longest path from a source), each column
    centred vertically on the tallest one. Within a column, nodes are ordered by
    the mean row of their inputs (one barycentre sweep), which keeps chains straight
    and parallel branches apart. Nodes on a cycle (not possible in a Document) go
    into the last column.

    Parameters
    ----------
    view : GraphView
        The graph to lay out.
    node_width, node_height : float
        Size of a node on the canvas.
    origin : (float, float)
        Top-left corner of the layout.

    Returns
    -------
    dict
        Node id → new (x, y) top-left position, for every node.
    """
    order, rest = view.partial_order()
    depth: dict[str, int] = {}
    for node_id in order:
        preds = [p for p in view.predecessors(node_id) if p in depth]
        depth[node_id] = 1 + max((depth[p] for p in preds), default=-1)
    last = max(depth.values(), default=-1) + 1
    for node_id in rest:
        depth[node_id] = last
    columns: dict[int, list[str]] = {}
    for node_id in view.node_ids:
        columns.setdefault(depth[node_id], []).append(node_id)

    tallest = max((len(c) for c in columns.values()), default=0)
    # Rows are in units of one node slot; shorter columns are centred, so a row
    # can be fractional.
    row: dict[str, float] = {}
    for d in sorted(columns):
        column = columns[d]
        place = {node_id: i for i, node_id in enumerate(column)}

        def barycentre(
            node_id: str, place: dict[str, int] = place
        ) -> tuple[float, int]:
            rows = [row[p] for p in view.predecessors(node_id) if p in row]
            mean = sum(rows) / len(rows) if rows else float("inf")
            return mean, place[node_id]

        column.sort(key=barycentre)
        offset = (tallest - len(column)) / 2.0
        for i, node_id in enumerate(column):
            row[node_id] = offset + i

    step_y = node_height + ROW_GAP
    step_x = node_width + COLUMN_GAP
    return {
        node_id: (
            origin[0] + depth[node_id] * step_x,
            origin[1] + row[node_id] * step_y,
        )
        for node_id in view.node_ids
    }
