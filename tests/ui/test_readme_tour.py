"""The README's tour builds the network it says (issue 11): the parameter count it
quotes is the one the window shows, and every setting in which the ready-made
"Fashion-MNIST MLP" example differs from the tour-built network is named there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ui_helpers import OFFSCREEN_NOISE

from nndesk.document.examples import EXAMPLES
from nndesk.document.graph import Document
from nndesk.document.settings import SETTINGS

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

README = Path(__file__).resolve().parents[2] / "README.md"


def tour_text() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("3. **Build a network from the palette.**")
    return " ".join(text[start : text.index("4. **Save and reopen.**")].split())


def tour_network() -> Document:
    """What step 3 builds: File > New, the palette's nodes with their defaults
    and the values the tour names, the dataset and the loss."""
    doc = Document()
    chain = [
        ("Input", {"shape": (28, 28)}),
        ("Flatten", {}),
        ("Dense", {"units": 256, "activation": "relu"}),
        ("Dense", {"units": 128, "activation": "relu"}),
        ("Dense", {"units": 10, "activation": "softmax"}),
        ("Output", {"loss": "sparse_categorical_crossentropy"}),
    ]
    previous = None
    for k, (type_name, params) in enumerate(chain):
        node = doc.add_node(type_name, params, pos=(220.0 * k, 0.0))
        if previous is not None:
            doc.connect(previous, "out", node, "in")
        previous = node
    doc.set_setting("dataset", "fashion-mnist")
    return doc


def test_the_tour_quotes_the_parameter_count_the_window_shows(main_window) -> None:
    main_window.set_document(tour_network())
    main_window.editor.scene.flush()
    shown = main_window.params_label.text()
    exact = main_window.params_label.toolTip()
    text = tour_text()
    compact = re.search(r"status bar shows (\S+ params)", text)
    quoted = re.search(r"exact count: ([\d,]+) parameters", text)
    assert compact is not None and quoted is not None
    assert shown == compact.group(1)
    assert exact.startswith(f"{quoted.group(1)} parameters")


def test_the_example_differs_from_the_tour_only_where_the_readme_says() -> None:
    tour, example = tour_network(), EXAMPLES["fashion_mnist"].build()
    text = tour_text()
    assert [n.type_name for n in tour.nodes] == [n.type_name for n in example.nodes]
    assert [dict(n.params) for n in tour.nodes] == [
        dict(n.params) for n in example.nodes
    ]
    differing = [
        s for s in SETTINGS if tour.settings[s.name] != example.settings[s.name]
    ]
    assert differing, "the example sets some training settings of its own"
    for spec in differing:
        if spec.name == "dataset":
            continue  # the tour says: the folder holding the IDX files
        assert spec.label in text, f"the tour does not say the example's {spec.label}"
