"""A short inspector gives the room of its description and help box to the fields."""

from __future__ import annotations

import pytest
from ui_helpers import OFFSCREEN_NOISE

from nndesk.document.examples import spiral_classifier
from nndesk.ui.panels.inspector import InspectorPanel

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]


def test_a_short_inspector_hides_its_description_and_help(qtbot) -> None:
    panel = InspectorPanel()
    qtbot.addWidget(panel)
    doc = spiral_classifier()
    panel.set_document(doc)  # nothing selected: the network settings
    panel.resize(400, InspectorPanel.COMPACT_HEIGHT + 200)
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.help.isVisible() and panel.description.isVisible()
    panel.resize(400, InspectorPanel.COMPACT_HEIGHT - 100)
    qtbot.waitUntil(lambda: not panel.help.isVisible())
    assert not panel.description.isVisible()
    assert panel.fields["dataset"].widget.isVisible()
    panel.resize(400, InspectorPanel.COMPACT_HEIGHT + 200)
    qtbot.waitUntil(lambda: panel.help.isVisible())
    assert panel.description.isVisible()
    panel.set_document(None)
