"""The palette by keyboard (issue 11): the best title match is highlighted, Enter adds
it after the selected node, connected, and every category header is in view."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from ui_helpers import OFFSCREEN_NOISE

from nndesk.document.registry import REGISTRY
from nndesk.ui.canvas.search_popup import rank_specs
from nndesk.ui.panels.palette import TYPE_ROLE, PalettePanel

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("Flatten", "Flatten"),
        ("flat", "Flatten"),
        ("dense", "Dense"),
        ("Dropout", "Dropout"),
        ("out", "Output"),
        ("relu", "ReLU"),
        ("Add", "Add"),
    ],
)
def test_exact_and_prefix_title_matches_rank_first(text: str, first: str) -> None:
    assert rank_specs(REGISTRY.values(), text)[0].type_name == first


def test_searching_highlights_the_best_match(qtbot) -> None:
    panel = PalettePanel()
    qtbot.addWidget(panel)
    panel.resize(220, 500)
    panel.show()
    qtbot.keyClicks(panel.search, "Flatten")
    current = panel.tree.currentItem()
    assert current is not None and current.data(0, TYPE_ROLE) == "Flatten"
    assert "Dense" in panel.visible_types()  # its help mentions Flatten: still listed


def test_enter_adds_after_the_selected_node_connected(main_window, qtbot) -> None:
    doc = main_window.document
    editor = main_window.editor
    # The spiral example is a chain; select its last Dense (it feeds the Output).
    last_dense = [n.id for n in doc.nodes if n.type_name == "Dense"][-1]
    editor.scene.select_nodes([last_dense])
    (old_edge,) = doc.edges_out(last_dense)
    before = len(doc)
    palette = main_window.palette
    qtbot.keyClicks(palette.search, "Dropout")
    qtbot.keyClick(palette.search, Qt.Key.Key_Return)
    assert len(doc) == before + 1
    (new_id,) = [n.id for n in doc.nodes if n.type_name == "Dropout"]
    # Inserted into the selected node's edge: dense -> dropout -> output.
    assert doc.successors(last_dense) == (new_id,)
    assert doc.successors(new_id) == (old_edge.dst_node,)
    assert editor.selected_node_ids() == [new_id]
    main_window.undo_stack.undo()  # one undo step
    assert len(doc) == before and doc.successors(last_dense) == (old_edge.dst_node,)


def test_enter_adds_a_branch_from_a_node_whose_output_is_taken_twice(
    main_window, qtbot
) -> None:
    doc = main_window.document
    editor = main_window.editor
    first_dense = [n.id for n in doc.nodes if n.type_name == "Dense"][0]
    editor.scene.select_nodes([first_dense])
    main_window.palette.search.setText("Output")
    qtbot.keyClick(main_window.palette.search, Qt.Key.Key_Return)
    outputs = [n for n in doc.nodes if n.type_name == "Output"]
    assert len(outputs) == 2  # Output passes nothing on: a new branch
    new = next(n for n in outputs if doc.predecessors(n.id) == (first_dense,))
    mover = doc.node(first_dense)
    assert new.pos[0] > mover.pos[0]  # to the right of the selected node
    boxes = [n.pos for n in doc.nodes if n.id != new.id]
    assert all(abs(new.pos[0] - x) > 1 or abs(new.pos[1] - y) > 1 for x, y in boxes)


def test_enter_with_nothing_selected_adds_at_the_view_centre(
    main_window, qtbot
) -> None:
    doc = main_window.document
    editor = main_window.editor
    editor.scene.select_nodes([])
    main_window.palette.search.setText("Dense")
    qtbot.keyClick(main_window.palette.search, Qt.Key.Key_Return)
    (new_id,) = editor.selected_node_ids()
    assert doc.predecessors(new_id) == () and doc.successors(new_id) == ()
    centre = editor.view.visible_scene_rect().center()
    x, y = doc.node(new_id).pos
    assert abs(x - centre.x()) < 200 and abs(y - centre.y()) < 200


# 240 px is the smallest height that holds the 11 category headers (Convolution,
# Pooling, Recurrent and Attention joined the base seven); at 1280x800 the palette
# is about 470 px tall. 900 px holds every category open (47 rows since Noise joined
# Input; 700 px no longer did).
@pytest.mark.parametrize("height", [240, 300, 900])
def test_every_category_header_is_in_view(qtbot, height: int) -> None:
    panel = PalettePanel()
    qtbot.addWidget(panel)
    panel.resize(190, height)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.waitUntil(panel.categories_in_view)
    core = panel.type_item("Dense").parent()
    output = panel.type_item("Output").parent()
    if height >= 900:
        assert all(p.isExpanded() for p in (core, output))
    # Opening a closed category keeps it open, and every header in view when the
    # category fits beside them (others close, the farthest first).
    headers = len(panel._category_items)
    rows = panel.tree.viewport().height() // panel.tree.sizeHintForRow(0)
    closed = [p for p in panel._category_items.values() if not p.isExpanded()]
    for parent in closed:
        parent.setExpanded(True)
        QApplication.processEvents()
        assert parent.isExpanded()
        if parent.childCount() + headers <= rows:
            assert panel.categories_in_view(), parent.text(0)
