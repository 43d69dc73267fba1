"""Canvas scale benchmark: open, zoom and pan a generated 500-node, 600-edge network.

Runs offscreen (no display needed) and prints one line per figure, then a JSON line
with every number. Each figure is the time from the call to the end of a synchronous
repaint of the viewport, so it includes what a user waits for. Opening builds the
items a slice per turn of the event loop: ``open_ms`` is the time until every item
exists, ``open_max_stall_ms`` the longest turn (with its repaint) meanwhile. Both scene index
methods are measured; the canvas uses the faster one (see ``CanvasScene``).

Usage: ``.venv/bin/python benchmarks/canvas_scale.py [--nodes 500] [--edges 600]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtGui import QUndoStack  # noqa: E402
from PySide6.QtWidgets import QApplication, QGraphicsScene  # noqa: E402

from nndesk.document.graph import Document  # noqa: E402
from nndesk.ui.canvas.editor import CanvasEditor  # noqa: E402

BUDGET_MS = 50.0


def generate(n_nodes: int, n_edges: int, seed: int = 0) -> Document:
    """A random layered DAG: one Input, Dense nodes fed by earlier nodes, and Add
    nodes (several inputs) taking the extra edges; every edge goes left to right."""
    rng = random.Random(seed)
    doc = Document({"dataset": "spiral:n=100"})
    ids = [doc.add_node("Input", {"shape": (16,)}, pos=(0.0, 0.0))]
    n_add = max(1, (n_edges - (n_nodes - 1)) // 2)
    add_slots = set(rng.sample(range(1, n_nodes), n_add))
    columns = max(1, int(n_nodes**0.5))
    for i in range(1, n_nodes):
        kind = "Add" if i in add_slots else "Dense"
        params = {} if kind == "Add" else {"units": 16, "activation": "relu"}
        pos = (220.0 * (1 + i // columns), 110.0 * (i % columns))
        node = doc.add_node(kind, params, pos=pos)
        src = ids[rng.randrange(max(0, len(ids) - columns * 2), len(ids))]
        doc.connect(src, "out", node, "in")
        ids.append(node)
    adds = [n for n in ids if doc.node(n).type_name == "Add"]
    attempts = 0
    while len(doc.edges) < n_edges and attempts < 100 * n_edges:
        attempts += 1
        dst = rng.choice(adds)
        i = ids.index(dst)
        src = ids[rng.randrange(max(0, i - columns * 2), i)]
        if doc.can_connect(src, "out", dst, "in") is None:
            doc.connect(src, "out", dst, "in")
    return doc


CPU: list[float] = []


def timed(action, repaint) -> float:
    """Wall time in ms of ``action`` plus a synchronous repaint; the process CPU time
    of the same span goes to ``CPU`` (on a busy machine wall time includes waiting
    for a core, CPU time is the work this process did)."""
    cpu = time.process_time()
    start = time.perf_counter()
    action()
    repaint()
    CPU.append((time.process_time() - cpu) * 1000.0)
    return (time.perf_counter() - start) * 1000.0


def measure(doc: Document, index: QGraphicsScene.ItemIndexMethod) -> dict[str, float]:
    app = QApplication.instance()
    assert app is not None
    editor = CanvasEditor(QUndoStack())
    editor.scene.setItemIndexMethod(index)
    view = editor.view
    view.resize(1400, 900)
    view.show()
    app.processEvents()
    repaint = view.viewport().repaint

    # Opening: the first slice of items, fit and paint, then the event loop turns
    # that build the rest; the longest of these is the stall a user can feel.
    start = time.perf_counter()
    stalls = [timed(lambda: (editor.set_document(doc), view.fit_to_view()), repaint)]
    while editor.scene.is_building:
        stalls.append(timed(app.processEvents, repaint))
    figures: dict[str, float] = {
        "open_ms": (time.perf_counter() - start) * 1000.0,
        "open_max_stall_ms": max(stalls),
    }
    start = time.perf_counter()
    editor.scene.refresh_status()
    figures["shape_refresh_ms"] = (time.perf_counter() - start) * 1000.0

    # Zoom from the whole graph (every node visible: the worst case) to close up
    # and back, one wheel notch at a time, anchored off-centre like a cursor.
    anchor = view.viewport().rect().center() + view.viewport().rect().topLeft()
    zooms = []
    CPU.clear()
    for factor in [1.2] * 12 + [1 / 1.2] * 12:
        zooms.append(timed(lambda f=factor: view.zoom_by(f, anchor), repaint))
    figures["zoom_median_ms"] = statistics.median(zooms)
    figures["zoom_max_ms"] = max(zooms)
    figures["zoom_cpu_median_ms"] = statistics.median(CPU)
    figures["zoom_cpu_max_ms"] = max(CPU)

    pans = []
    CPU.clear()
    for scale in (0.3, 1.0):
        view.set_zoom(scale)
        repaint()
        for step in range(20):
            dx = 40 if step % 2 == 0 else -25
            pans.append(timed(lambda d=dx: view.pan_by(d, 15), repaint))
    figures["pan_median_ms"] = statistics.median(pans)
    figures["pan_max_ms"] = max(pans)
    figures["pan_cpu_median_ms"] = statistics.median(CPU)
    figures["pan_cpu_max_ms"] = max(CPU)

    # One edit with everything visible: change a parameter, refresh shapes, repaint.
    view.fit_to_view()
    repaint()
    dense = next(n for n in doc.node_ids if doc.node(n).type_name == "Dense")

    def edit() -> None:
        editor.set_param(dense, "units", 17)
        editor.scene.flush()

    figures["edit_ms"] = timed(edit, repaint)
    editor.set_document(None)
    view.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--edges", type=int, default=600)
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert app is not None
    doc = generate(args.nodes, args.edges)
    print(f"graph: {len(doc)} nodes, {len(doc.edges)} edges")
    results: dict[str, dict[str, float]] = {}
    methods = {
        "NoIndex": QGraphicsScene.ItemIndexMethod.NoIndex,
        "BspTreeIndex": QGraphicsScene.ItemIndexMethod.BspTreeIndex,
    }
    for name, method in methods.items():
        results[name] = measure(doc.copy(), method)
        for key, value in results[name].items():
            flag = (
                ""
                if not key.endswith(("max_ms", "median_ms", "stall_ms"))
                or value <= BUDGET_MS
                else "  (over budget)"
            )
            print(f"{name:>13}  {key:<18} {value:8.1f} ms{flag}")
    summary = {
        "load_average_1min": round(os.getloadavg()[0], 2),
        "nodes": len(doc),
        "edges": len(doc.edges),
        "budget_ms": BUDGET_MS,
        "results": {
            k: {m: round(v, 2) for m, v in r.items()} for k, r in results.items()
        },
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
