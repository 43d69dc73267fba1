"""Painting 2-D data: a paint tool for any pyqtgraph plot, its toolbar, a ready widget.

The painted points live in the document (``Document.painted``, a
``nndesk.document.painted.PaintedPoints``); every edit is one ``PaintCommand`` on
the window's undo stack, pushed through the canvas editor's ``push`` (tried on a
copy first, like every edit). The tool only draws the document's set and follows
its ``painted_changed`` events, so undo and redo repaint by themselves.

Mouse: left click adds a point of the chosen class (or target value), a left drag
adds points along the path (one per ``spacing`` pixels), a right drag erases the
points under the brush circle (so does a left drag with Erase on). Each stroke is
one undo step, pushed on release. Keys (with the plot focused): 1-9 and 0 pick a
class, E toggles Erase, Esc cancels a stroke.

Embedding, as the Data panel does (a plot, the toolbar and the tool in one)::

    paint = PaintWidget(push=window.editor.push)
    paint.set_document(window.document)       # again on sig_document_replaced
    paint.sig_message.connect(window.statusBar().showMessage)

On a plot you already have, as the Decision Boundary panel does::

    tool = PaintTool(plot_item, push=editor.push)
    toolbar = PaintToolbar(tool)
    tool.set_document(doc)
    tool.set_active(True)     # off: the plot pans and zooms as usual

``start_painting(push, doc, dataset)`` makes the painted set the network's
dataset in one undo step, starting from ``dataset``'s points (a 2-D generator's,
say) or from an empty canvas.
"""

from __future__ import annotations

from .commands import PaintCommand, Push, start_painting
from .tool import PaintTool
from .toolbar import FlowLayout, PaintToolbar
from .widget import PaintWidget

__all__ = [
    "FlowLayout",
    "PaintCommand",
    "PaintTool",
    "PaintToolbar",
    "PaintWidget",
    "Push",
    "start_painting",
]
