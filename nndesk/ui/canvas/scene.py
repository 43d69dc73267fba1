"""The canvas scene: mirrors a Document through its events (node id → NodeItem)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QGraphicsScene,
    QGraphicsSceneContextMenuEvent,
    QGraphicsSceneMouseEvent,
    QWidget,
)

from nndesk.document import events as ev
from nndesk.document.graph import Document, Edge
from nndesk.document.validate import DatasetInfo

from ..theme import LIGHT, Theme
from .items.edge_item import EdgeItem
from .items.node_item import NodeItem, NodeStatus
from .items.port_item import PortItem
from .overlay_items import OverlayItems
from .status import GraphStatus, compute_status

if TYPE_CHECKING:
    from .gestures.base import Gesture

log = logging.getLogger(__name__)

BUILD_AT_ONCE = 150
"""Documents with up to this many nodes get all their items in one go."""

BUILD_SLICE_S = 0.015
"""Seconds of item building per turn of the event loop for larger documents, so
opening one never freezes the window for long (the rest follows on a timer)."""


class SceneHandler(Protocol):
    """Who decides what a press on the canvas begins (the editor)."""

    def gesture_for_press(self, event: QGraphicsSceneMouseEvent) -> Gesture | None:
        """The gesture a left-button press begins, or None for Qt's own handling."""
        ...

    def scene_context_menu(self, event: QGraphicsSceneContextMenuEvent) -> bool:
        """Show the context menu; True when it was handled."""
        ...


class CanvasScene(QGraphicsScene):
    """Graphics items for one document, rebuilt from the document's events.

    The document is the only truth: the scene never changes it. After every change
    the scene re-runs shape inference and validation (coalesced: once per event-loop
    turn, so a paste of 50 nodes costs one run) and shows the results on the items.

    A large document's items are built a slice at a time between turns of the
    event loop (``is_building``); any change of the document, and any query that
    needs every item, first builds the rest at once.

    Mouse gestures (``gestures/``) run one at a time: the active one
    (``gesture``) gets every mouse event and the keys the view passes on; with
    none active, a left press asks the handler (the editor) which gesture it
    begins, and presses no gesture takes (on an edge, other buttons) get Qt's
    item handling.

    Signals
    -------
    sig_status_changed(GraphStatus)
        Shape inference and validation ran; carries problems and per-node results.
    sig_built
        Every item of the document shown exists (after ``set_document``).
    """

    sig_status_changed = Signal(object)
    sig_built = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # benchmarks/canvas_scale.py measured NoIndex and the BSP tree alike for zoom
        # and pan on 500 nodes; without an index, moving nodes costs no rebuilds.
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self._doc: Document | None = None
        self._nodes: dict[str, NodeItem] = {}
        self._edges: dict[Edge, EdgeItem] = {}
        self._theme = LIGHT
        self._grid = 0.0
        self.status = GraphStatus()
        self.last_refresh_ms = 0.0
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self.refresh_status)
        self.handler: SceneHandler | None = None
        self._gesture: Gesture | None = None
        self._dataset: DatasetInfo | None = None
        self._to_build: Iterator[None] | None = None
        self._build_timer = QTimer(self)
        self._build_timer.setInterval(0)
        self._build_timer.timeout.connect(self._build_slice)
        self.overlay = OverlayItems(self)  # group frames/boxes and notes

    # -- gestures: the active one gets the mouse and the keys first ------------------

    @property
    def gesture(self) -> Gesture | None:
        """The gesture in progress, or None."""
        return self._gesture

    def start_gesture(self, gesture: Gesture) -> bool:
        """Make ``gesture`` the active one and start it; False (and nothing starts)
        while another gesture is active."""
        if self._gesture is not None:
            return False
        self._gesture = gesture
        gesture.start()
        return True

    def end_gesture(self, gesture: Gesture) -> None:
        """Called by a gesture when it is over."""
        if self._gesture is gesture:
            self._gesture = None

    def cancel_gesture(self) -> bool:
        """Escape: cancel the gesture in progress (False if there is none)."""
        gesture = self._gesture
        if gesture is None:
            return False
        # The rest of its drag then reaches Qt's default handlers, which do nothing
        # with it: the press that began it made no item the mouse grabber.
        gesture.cancel()
        self._gesture = None
        return True

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        gesture = self._gesture
        if gesture is not None:
            if event.button() != gesture.button and event.buttons() & gesture.button:
                event.accept()  # another button during the gesture: ignored
                return
            # Its button is pressed anew: the release was lost (a dialog took it).
            self.cancel_gesture()
        if self.handler is not None and event.button() == Qt.MouseButton.LeftButton:
            new = self.handler.gesture_for_press(event)
            if new is not None and self.start_gesture(new):
                event.accept()
                return
        _shift_as_control(event)
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        # The second press of a double-click arrives as this event; Qt's default
        # would make the item under it the mouse grabber and move it behind the
        # gestures' back.
        self.mousePressEvent(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._gesture is not None:
            self._gesture.mouse_move(event)
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._gesture is not None:
            self._gesture.mouse_release(event)
            event.accept()
            return
        _shift_as_control(event)
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self._gesture is not None and self._gesture.key_press(event):
            event.accept()
            return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event: QGraphicsSceneContextMenuEvent) -> None:
        if self._gesture is not None:
            event.accept()  # no menu in the middle of a gesture
            return
        if self.handler is not None and self.handler.scene_context_menu(event):
            event.accept()
            return
        super().contextMenuEvent(event)

    # -- document ----------------------------------------------------------------------

    @property
    def document(self) -> Document | None:
        """The document shown, or None."""
        return self._doc

    def set_document(self, doc: Document | None) -> None:
        """Show ``doc`` (replacing any previous one) and follow its events."""
        self.cancel_gesture()
        if self._doc is not None:
            self._subscribe(self._doc, connect=False)
        self._refresh_timer.stop()
        self._build_timer.stop()
        self._to_build = None
        self._clear_items()
        self._doc = doc
        if doc is None:
            self.status = GraphStatus()
            return
        self._subscribe(doc, connect=True)
        # Shape inference first: items are made with their final texts.
        self._compute_status()
        self._to_build = self._build_steps(doc.node_ids, doc.edges)
        if len(doc) <= BUILD_AT_ONCE:
            self.ensure_built()
        else:
            self._build_timer.start()  # shape inference was this turn's share
        self.sig_status_changed.emit(self.status)  # problems need no items

    @property
    def is_building(self) -> bool:
        """Whether some items of the document are still to be made."""
        return self._to_build is not None

    def ensure_built(self) -> None:
        """Make every item still missing now.

        Event handlers call this after the document changed, so the rest is made
        from the document as it is now, not from the lists the slices follow.
        """
        if self._to_build is None:
            return
        self._build_timer.stop()
        self._to_build = None
        doc = self._doc
        assert doc is not None
        for node_id in doc.node_ids:
            if node_id not in self._nodes:
                self._add_node_item(node_id)
        for edge in doc.edges:
            if edge not in self._edges:
                self._add_edge_item(edge)
        self._finish_building()

    def _build_steps(
        self, node_ids: tuple[str, ...], edges: tuple[Edge, ...]
    ) -> Iterator[None]:
        # Slices run between events only, and the first event after a change
        # finishes the building (ensure_built): these lists stay true meanwhile.
        for node_id in node_ids:
            self._add_node_item(node_id)
            yield
        for edge in edges:
            self._add_edge_item(edge)
            yield

    def _build_slice(self) -> None:
        steps = self._to_build
        if steps is None:
            self._build_timer.stop()
            return
        deadline = time.perf_counter() + BUILD_SLICE_S
        for _ in steps:
            if time.perf_counter() >= deadline:
                return
        self._build_timer.stop()
        self._finish_building()

    def _finish_building(self) -> None:
        self._to_build = None
        if self._doc is not None:
            self.overlay.rebuild(self._doc)
        self.sig_built.emit()

    def _subscribe(self, doc: Document, connect: bool) -> None:
        pairs = (
            (doc.events.node_added, self._on_node_added),
            (doc.events.node_removed, self._on_node_removed),
            (doc.events.edge_added, self._on_edge_added),
            (doc.events.edge_removed, self._on_edge_removed),
            (doc.events.param_changed, self._on_param_changed),
            (doc.events.node_moved, self._on_node_moved),
            (doc.events.label_changed, self._on_label_changed),
            (doc.events.note_changed, self._on_note_changed),
            (doc.events.changed, self._on_changed),
        )
        for signal, slot in pairs:
            if connect:
                signal.connect(slot)
            else:
                signal.disconnect(slot)

    def _clear_items(self) -> None:
        self.overlay.clear()
        for item in self._edges.values():
            self.removeItem(item)
        for item in self._nodes.values():
            self.removeItem(item)
        self._edges.clear()
        self._nodes.clear()

    def set_dataset_info(self, dataset: DatasetInfo | None) -> None:
        """The loaded dataset (input shape, task, classes) for validation."""
        self._dataset = dataset
        self.schedule_refresh()

    # -- queries -----------------------------------------------------------------------

    def node_item(self, node_id: str) -> NodeItem:
        """The item showing ``node_id`` (KeyError if none: a programming error)."""
        self.ensure_built()
        return self._nodes[node_id]

    def node_items(self) -> list[NodeItem]:
        """All node items in document order."""
        self.ensure_built()
        if self._doc is None:
            return list(self._nodes.values())
        return [self._nodes[n] for n in self._doc.node_ids if n in self._nodes]

    def edge_item(self, edge: Edge) -> EdgeItem:
        """The item showing ``edge``."""
        self.ensure_built()
        return self._edges[edge]

    def edge_items(self) -> list[EdgeItem]:
        """All edge items."""
        self.ensure_built()
        return list(self._edges.values())

    def port_item(self, node_id: str, port: str, is_input: bool) -> PortItem:
        """The port item of a node (KeyError if the port does not exist)."""
        self.ensure_built()
        item = self._nodes[node_id].port_item(port, is_input)
        if item is None:
            raise KeyError(
                f"{node_id} has no {'input' if is_input else 'output'} {port}"
            )
        return item

    def selected_node_ids(self) -> list[str]:
        """Ids of the selected nodes, in document order (with the nodes of selected
        groups)."""
        grouped = set(self.overlay.selected_group_members())
        return [
            n for n, item in self._nodes.items() if item.isSelected() or n in grouped
        ]

    def selected_edges(self) -> list[Edge]:
        """The selected edges, in document order."""
        doc_edges = self._doc.edges if self._doc is not None else ()
        return [
            e for e in doc_edges if e in self._edges and self._edges[e].isSelected()
        ]

    def select_nodes(self, node_ids: Iterable[str], clear: bool = True) -> None:
        """Select these nodes (and, by default, nothing else); one selectionChanged."""
        self.ensure_built()
        wanted = set(node_ids)
        # Qt emits selectionChanged per item; listeners only need the end result.
        with _signals_blocked(self):
            if clear:
                self.clearSelection()
            for node_id in wanted:
                item = self._nodes.get(node_id)
                if item is not None:
                    item.setSelected(True)
        self.selectionChanged.emit()

    def select_all(self) -> None:
        """Select every node and edge; one selectionChanged."""
        self.ensure_built()
        with _signals_blocked(self):
            for item in (*self._nodes.values(), *self._edges.values()):
                item.setSelected(True)
        self.selectionChanged.emit()

    def node_at(self, pos: QPointF) -> NodeItem | None:
        """The topmost node item under a scene position."""
        for item in self.items(pos):
            if isinstance(item, NodeItem):
                return item
            if isinstance(item, PortItem):
                return item.node_item
        return None

    def port_at(self, pos: QPointF) -> PortItem | None:
        """The port item under a scene position (ports are checked by distance)."""
        for item in self.items(pos):
            if isinstance(item, PortItem):
                return item
        return None

    def edge_at(self, pos: QPointF) -> EdgeItem | None:
        """The document edge under a scene position."""
        for item in self.items(pos):
            if isinstance(item, EdgeItem) and item.edge is not None:
                return item
        return None

    def nodes_rect(self, node_ids: Iterable[str] | None = None) -> QRectF:
        """Scene rectangle covering the given nodes (default: all), also those
        whose items are still to be made (from their document positions)."""
        doc = self._doc
        if node_ids is None:
            ids = list(doc.node_ids) if doc is not None else list(self._nodes)
        else:
            ids = list(node_ids)
        rect = QRectF()
        for node_id in ids:
            item = self._nodes.get(node_id)
            if item is not None:
                rect = rect.united(item.sceneBoundingRect())
            elif doc is not None and node_id in doc:
                x, y = doc.node(node_id).pos
                rect = rect.united(NodeItem.bounds_at(x, y))
        return rect

    # -- view options ------------------------------------------------------------------

    def set_theme(self, theme: Theme) -> None:
        """Repaint every item in ``theme``."""
        self._theme = theme
        for item in self._nodes.values():
            item.set_theme(theme)
        for edge in self._edges.values():
            edge.set_theme(theme)
        self.overlay.set_theme()

    @property
    def theme(self) -> Theme:
        """The theme items are painted in."""
        return self._theme

    def set_grid_snap(self, grid: float) -> None:
        """Snap dragged nodes to multiples of ``grid`` scene units (0: off)."""
        self._grid = float(grid)
        snap = self._snap if self._grid > 0 else None
        for item in self._nodes.values():
            item.snap = snap

    def _snap(self, pos: QPointF) -> QPointF:
        g = self._grid
        return QPointF(round(pos.x() / g) * g, round(pos.y() / g) * g)

    def snap_point(self, pos: QPointF) -> QPointF:
        """``pos`` on the grid when snapping is on, else unchanged."""
        return self._snap(pos) if self._grid > 0 else QPointF(pos)

    # -- event handlers (model → items) ------------------------------------------------

    def _on_node_added(self, event: ev.NodeAdded) -> None:
        self.ensure_built()  # which may have made the node's items already
        if event.node.id not in self._nodes:
            self._add_node_item(event.node.id)
        for edge in event.edges:
            if edge not in self._edges:
                self._add_edge_item(edge)

    def _on_node_removed(self, event: ev.NodeRemoved) -> None:
        self.ensure_built()
        for edge in event.edges:
            self._remove_edge_item(edge)
        item = self._nodes.pop(event.node.id, None)
        if item is not None:
            self.removeItem(item)

    def _on_edge_added(self, event: ev.EdgeAdded) -> None:
        self.ensure_built()  # which may have made the edge's item already
        if event.edge not in self._edges:
            self._add_edge_item(event.edge)

    def _on_edge_removed(self, event: ev.EdgeRemoved) -> None:
        self.ensure_built()
        self._remove_edge_item(event.edge)

    def _on_param_changed(self, event: ev.ParamChanged) -> None:
        self.ensure_built()
        self._refresh_node_record(event.node_id)

    def _on_label_changed(self, event: ev.LabelChanged) -> None:
        self.ensure_built()
        self._refresh_node_record(event.node_id)

    def _on_node_moved(self, event: ev.NodeMoved) -> None:
        self.ensure_built()
        item = self._nodes.get(event.node_id)
        if item is not None:
            assert self._doc is not None
            item.node = self._doc.node(event.node_id)
            item.set_model_pos(event.new)

    def _on_changed(self, _event: object) -> None:
        self.schedule_refresh()
        self.overlay.sync()

    def _on_note_changed(self, event: ev.NoteChanged) -> None:
        self.ensure_built()
        self.overlay.on_note_changed(event.note_id)

    def _refresh_node_record(self, node_id: str) -> None:
        item = self._nodes.get(node_id)
        if item is not None and self._doc is not None:
            item.set_node(self._doc.node(node_id))

    def _add_node_item(self, node_id: str) -> NodeItem:
        assert self._doc is not None
        node = self._doc.node(node_id)
        status = self.status.nodes.get(node_id, NodeStatus())
        item = NodeItem(node, node.spec, self._theme, status)
        item.snap = self._snap if self._grid > 0 else None
        self.addItem(item)
        self._nodes[node_id] = item
        return item

    def _add_edge_item(self, edge: Edge) -> EdgeItem:
        src = self._nodes[edge.src_node].port_item(edge.src_port, False)
        dst = self._nodes[edge.dst_node].port_item(edge.dst_port, True)
        item = EdgeItem(edge, src, dst, self._theme)
        label = self.status.edge_labels.get(edge)
        if label:
            item.set_label(label)
        self.addItem(item)
        self._edges[edge] = item
        for port_item in (src, dst):
            if port_item is not None:
                port_item.node_item.edges.append(item)
                port_item.set_connected(True)
        if dst is not None and dst.multiple:
            dst.node_item.refresh_texts()
        return item

    def _remove_edge_item(self, edge: Edge) -> None:
        item = self._edges.pop(edge, None)
        if item is None:
            return
        for port_item in (item.src, item.dst):
            if port_item is None:
                continue
            node_item = port_item.node_item
            if item in node_item.edges:
                node_item.edges.remove(item)
            still = any(
                e.src is port_item or e.dst is port_item for e in node_item.edges
            )
            port_item.set_connected(still)
        if item.dst is not None and item.dst.multiple:
            item.dst.node_item.refresh_texts()
        self.removeItem(item)

    # -- shape inference ---------------------------------------------------------------

    def schedule_refresh(self) -> None:
        """Re-run shape inference once the current burst of events is over."""
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def flush(self) -> None:
        """Run a pending refresh now (tests and code that reads the results)."""
        if self._refresh_timer.isActive():
            self._refresh_timer.stop()
            self.refresh_status()

    def refresh_status(self) -> None:
        """Run shape inference and validation and show the results on the items
        (those still to be made get them when they are made)."""
        if self._doc is None:
            return
        status = self._compute_status()
        for node_id, item in self._nodes.items():
            item.set_status(status.nodes.get(node_id, NodeStatus()))
        for edge, item in self._edges.items():
            item.set_label(status.edge_labels.get(edge, ""))
        self.overlay.sync()  # the boxes' shapes and problems
        self.sig_status_changed.emit(status)

    def _compute_status(self) -> GraphStatus:
        assert self._doc is not None
        start = time.perf_counter()
        self.status = compute_status(self._doc, self._dataset)
        self.last_refresh_ms = (time.perf_counter() - start) * 1000.0
        log.debug("status refresh took %.1f ms", self.last_refresh_ms)
        return self.status


def _shift_as_control(event: QGraphicsSceneMouseEvent) -> None:
    # Qt adds to the selection with Ctrl only; Shift-click should too, as users
    # expect. Press and release both carry the modifier (release clears otherwise).
    mods = event.modifiers()
    if mods & Qt.KeyboardModifier.ShiftModifier:
        event.setModifiers(mods | Qt.KeyboardModifier.ControlModifier)


@contextmanager
def _signals_blocked(obj: QObject) -> Iterator[None]:
    previous = obj.blockSignals(True)
    try:
        yield
    finally:
        obj.blockSignals(previous)
