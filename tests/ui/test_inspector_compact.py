"""A short inspector gives the room of its description and help box to the fields."""

from __future__ import annotations

import pytest
from ui_helpers import OFFSCREEN_NOISE

from nndesk.document.examples import fashion_mnist_cnn, spiral_classifier
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


def test_long_labels_wrap_rather_than_push_fields_out_of_a_narrow_dock(qtbot) -> None:
    # "early-stopping min delta" beside a 114 px combo box was wider than the
    # inspector at 1280x800; with the sideways scroll bar off, the fields' right
    # edges were clipped.
    panel = InspectorPanel()
    qtbot.addWidget(panel)
    panel.set_document(spiral_classifier())
    labels = [panel._form.labelForField(f.row) for f in panel.fields.values()]
    longest = max(
        label.fontMetrics().horizontalAdvance(label.text()) for label in labels
    )
    panel.resize(longest + 110, 600)
    panel.show()
    qtbot.waitExposed(panel)
    host = panel.form_scroll.widget()
    assert host.minimumSizeHint().width() <= panel.form_scroll.viewport().width()
    for field in panel.fields.values():
        if panel.is_field_shown(field.spec.name):
            right = field.row.mapTo(host, field.row.rect().topRight()).x()
            assert right <= panel.form_scroll.viewport().width(), field.spec.name
    panel.set_document(None)


def test_a_name_too_long_for_its_combo_box_ends_with_an_ellipsis(qtbot) -> None:
    # At 1280x800 the loss box showed "sparse_categorica", cut mid-word.
    panel = InspectorPanel()
    qtbot.addWidget(panel)
    panel.set_document(fashion_mnist_cnn())
    panel.resize(300, 600)
    panel.show()
    qtbot.waitExposed(panel)
    loss = panel.fields["loss"].widget
    assert loss.currentText() == "sparse_categorical_crossentropy"
    shown = loss.shown_text()
    assert shown.endswith("…") and shown.startswith("sparse_")
    assert loss.fontMetrics().horizontalAdvance(shown) < loss.width()
    # A name that fits is shown whole.
    assert panel.fields["optimizer"].widget.shown_text() == "adam"
    # The metrics button is as wide as the fields beside it, not its text.
    metrics = panel.fields["metrics"].widget
    assert metrics.width() >= loss.width() - 2
    panel.set_document(None)
