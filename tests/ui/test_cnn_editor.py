"""The Fashion-MNIST CNN in the window: opened from File > New from Example, the
(28, 28) IDX images keep its (28, 28, 1) Input and the inspector says why, an
Input without the channel axis gets a problem proposing it, conv nodes show their
text and shapes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ui_helpers import OFFSCREEN_NOISE

from nndesk.io.datasets import write_idx_file
from nndesk.ui.main_window import MainWindow

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]


@pytest.fixture
def images(tmp_path: Path) -> Path:
    """A small MNIST-style IDX folder of (28, 28) images in 10 classes."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "tiny-fashion"
    folder.mkdir()
    for part, n in (("train", 60), ("t10k", 20)):
        write_idx_file(
            folder / f"{part}-images-idx3-ubyte",
            rng.integers(0, 256, (n, 28, 28)).astype(np.uint8),
        )
        write_idx_file(
            folder / f"{part}-labels-idx1-ubyte", (np.arange(n) % 10).astype(np.uint8)
        )
    return folder


def open_cnn(qtbot, window: MainWindow, images: Path) -> None:
    menu = window.examples_menu
    (action,) = [a for a in menu.actions() if a.text() == "Fashion-MNIST CNN"]
    action.trigger()
    assert window.document is not None
    assert window.edit_setting("dataset", str(images))
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=20_000)
    window.editor.scene.flush()


def test_the_cnn_example_keeps_its_channel_axis_and_the_inspector_says_so(
    qtbot, main_window: MainWindow, images: Path
) -> None:
    w = main_window
    open_cnn(qtbot, w, images)
    doc = w.document
    assert w.dataset.input_shape == (28, 28)
    # loading (28, 28) images did not take the Input's channel axis away
    assert doc.node("input_1").params["shape"] == (28, 28, 1)
    assert w.problems.messages() == []
    w.editor.scene.select_nodes(["input_1"])
    text = w.inspector.description.text()
    assert "(28, 28)" in text and "axis of 1 added" in text
    # another node says nothing of it
    w.editor.scene.select_nodes(["conv2d_1"])
    assert "axis of 1 added" not in w.inspector.description.text()
    # with two channels the images no longer fit, and the note goes
    w.editor.scene.select_nodes(["input_1"])
    w.editor.set_param("input_1", "shape", (28, 28, 2))
    assert "axis of 1 added" not in w.inspector.description.text()


def test_an_input_without_channels_gets_the_fix_in_problems(
    qtbot, main_window: MainWindow, images: Path
) -> None:
    w = main_window
    open_cnn(qtbot, w, images)
    w.editor.set_param("input_1", "shape", (28, 28))
    w.editor.scene.flush()
    messages = w.problems.messages()
    assert len(messages) == 1
    assert "conv2d_1" in messages[0]
    assert "set the Input shape to (28, 28, 1)" in messages[0]
    w.undo_stack.undo()
    w.editor.scene.flush()
    assert w.problems.messages() == []


def test_conv_nodes_show_their_parameters_and_shapes(
    qtbot, main_window: MainWindow, images: Path
) -> None:
    w = main_window
    open_cnn(qtbot, w, images)
    status = w.editor.scene.status
    conv = status.nodes["conv2d_1"]
    assert conv.shape_text == "(26, 26, 32)"
    assert "320" in conv.params_text
    labels = sorted(status.edge_labels.values())
    assert "(13, 13, 32)" in labels and "(5, 5, 64)" in labels
    item = w.editor.scene.node_item("conv2d_1")
    assert item.text("key") == "32 × 3x3 · relu"
    assert w.editor.scene.node_item("maxpool_1").text("key") == "2x2"


def test_categories_added_by_node_type_modules_get_colours_of_their_own() -> None:
    from nndesk.document.registry import CATEGORIES
    from nndesk.ui.theme import DARK, LIGHT

    for theme in (LIGHT, DARK):
        colours = [theme.category_color(c).name() for c in CATEGORIES]
        assert len(set(colours)) == len(colours), colours
        assert theme.category_color("Convolution").name() != "#7f8c8d"
        assert theme.category_color("no such category").name() == "#7f8c8d"


def test_a_count_too_long_for_its_node_is_rounded_not_cut(
    qtbot, main_window: MainWindow, images: Path
) -> None:
    w = main_window
    open_cnn(qtbot, w, images)
    # conv2d_1's line fits as it is; conv2d_2's "(11, 11, 64)  ·  18,496 params"
    # was cut to "18,496 p…" in the node's 164 px.
    assert w.editor.scene.node_item("conv2d_1").text("shape") == (
        "(26, 26, 32)  ·  320 params"
    )
    second = w.editor.scene.node_item("conv2d_2").text("shape")
    assert "…" not in second
    assert second.startswith(("(11, 11, 64)", "(11,11,64)"))
    assert second.endswith(("18,496 params", "18.5k params"))
    assert w.editor.scene.status.nodes["conv2d_2"].params_text == "18,496 params"
    # The exact count is in the node's tooltip.
    assert "18,496 params" in w.editor.scene.node_item("conv2d_2").toolTip()
