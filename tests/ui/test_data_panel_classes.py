"""The Data panel's class chooser: one class of an IDX folder (GAN data), undoable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ui_helpers import OFFSCREEN_NOISE

from nndesk.io.datasets import write_idx_file
from nndesk.ui.main_window import MainWindow
from nndesk.ui.panels.data import DataPanel

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]


def panel_of(window: MainWindow) -> DataPanel:
    dock = window.docks["data_dock"]
    dock.show()
    dock.raise_()
    return window.data_panel


def tiny_fashion(tmp_path: Path) -> Path:
    folder = tmp_path / "fashion-tiny"
    folder.mkdir()
    rng = np.random.default_rng(1)
    images = rng.integers(0, 255, size=(40, 8, 8), dtype=np.uint8)
    labels = (np.arange(40) % 10).astype(np.uint8)
    write_idx_file(folder / "train-images-idx3-ubyte", images)
    write_idx_file(folder / "train-labels-idx1-ubyte", labels)
    return folder


def test_choosing_a_class_keeps_its_images_in_one_undo_step(
    qtbot, main_window: MainWindow, tmp_path: Path
) -> None:
    panel = panel_of(main_window)
    chooser = panel.class_chooser
    assert not chooser.isVisible()  # the spiral: no classes of images to choose
    folder = tiny_fashion(tmp_path)
    assert panel.use_path(folder)
    qtbot.waitUntil(lambda: panel.preview.mode == "images")
    assert chooser.isVisible()
    combo = chooser.combo
    entries = [combo.itemText(i) for i in range(combo.count())]
    assert entries[0] == "All classes" and entries[8] == "7 · Sneaker"
    assert len(entries) == 11 and combo.currentIndex() == 0
    count = main_window.undo_stack.count()
    combo.activated.emit(8)
    spec = str(main_window.document.settings["dataset"])
    assert spec.endswith(":class=7")
    assert main_window.undo_stack.count() == count + 1
    qtbot.waitUntil(
        lambda: main_window.dataset is not None and len(main_window.dataset) == 4
    )
    assert set(main_window.dataset.y.tolist()) == {7}
    assert combo.count() == 11 and combo.currentIndex() == 8  # all names stay
    assert "Sneaker: 4" in panel.preview.counts.text()
    main_window.undo_stack.undo()
    assert "class=" not in str(main_window.document.settings["dataset"])
    assert combo.currentIndex() == 0
    qtbot.waitUntil(
        lambda: main_window.dataset is not None and len(main_window.dataset) == 40
    )


def test_all_classes_removes_the_option_and_a_typed_name_is_shown(
    qtbot, main_window: MainWindow, tmp_path: Path
) -> None:
    panel = panel_of(main_window)
    folder = tiny_fashion(tmp_path)
    main_window.document.set_setting("dataset", f"{folder}:class=sneaker")
    qtbot.waitUntil(
        lambda: main_window.dataset is not None and len(main_window.dataset) == 4
    )
    combo = panel.class_chooser.combo
    qtbot.waitUntil(lambda: combo.count() == 11)
    assert combo.currentText() == "7 · Sneaker"
    combo.activated.emit(0)
    assert str(main_window.document.settings["dataset"]) == str(folder)
    main_window.document.set_setting("dataset", "moons")
    assert not panel.class_chooser.isVisible()
