"""Where a node added from the palette with the keyboard goes: after the selected
node, connected to it, or at the view centre when nothing (or several) is selected."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF

from nndesk.document.graph import Document
from nndesk.document.registry import get_spec

from .editor import CanvasEditor
from .items.node_item import NODE_HEIGHT, NODE_WIDTH, PORT_Y

__all__ = ["add_after_selection"]

GAP = 60.0
"""Scene units between a node and one added after it."""


def add_after_selection(editor: CanvasEditor, type_name: str) -> str | None:
    """Add ``type_name`` after the one selected node, one undo step.

    The new node takes the selected node's first output: into its edge when the
    output feeds exactly one input and the new type passes data on (a Dropout
    after a Dense keeps the chain), else as a new branch placed to its right. With
    no single selected node, or one without outputs, or a type without inputs,
    the node goes to the view centre, unconnected.

    Returns
    -------
    str or None
        The new node's id, or None if the document refused (the reason is shown).
    """
    doc = editor.document
    selected = editor.selected_node_ids()
    spec = get_spec(type_name)
    if doc is None or len(selected) != 1 or not spec.inputs:
        return editor.add_node(type_name)
    node = doc.node(selected[0])
    outputs = doc.output_ports(node.id)
    if not outputs:
        return editor.add_node(type_name)
    port = outputs[0].name
    x, y = node.pos
    edges = doc.edges_out(node.id, port)
    if len(edges) == 1 and spec.outputs:
        # Between the two nodes, below the edge, so the chain stays readable.
        dst_x, dst_y = doc.node(edges[0].dst_node).pos
        centre = QPointF(
            (x + dst_x + NODE_WIDTH) / 2, max(y, dst_y) + NODE_HEIGHT + GAP + PORT_Y
        )
        corner = QPointF(-NODE_WIDTH / 2, -PORT_Y)  # insert_new_node centres on x
        return editor.insert_new_node(type_name, _free(doc, centre, corner), edges[0])
    port_pos = QPointF(x + NODE_WIDTH + GAP, y + PORT_Y)
    corner = QPointF(0.0, -PORT_Y)  # the anchor is the new node's input port
    return editor.add_connected_node(
        type_name, _free(doc, port_pos, corner), node.id, port, True
    )


def _free(doc: Document, anchor: QPointF, corner: QPointF) -> QPointF:
    """``anchor`` moved down until the node it places (its top-left corner at
    ``anchor + corner``) covers no other node."""
    boxes = [QRectF(n.pos[0], n.pos[1], NODE_WIDTH, NODE_HEIGHT) for n in doc.nodes]
    step = NODE_HEIGHT + GAP / 2
    for _ in range(50):
        top_left = anchor + corner
        box = QRectF(top_left.x(), top_left.y(), NODE_WIDTH, NODE_HEIGHT)
        if not any(box.intersects(other) for other in boxes):
            break
        anchor = anchor + QPointF(0.0, step)
    return anchor
