"""The explanation panels (feature maps, filters, saliency, feature importance)
driven like a user, on probes of real models, and the confusion-cell pick."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QFileDialog
from ui_helpers import OFFSCREEN_NOISE

from nndesk.engine.layers import Dense, Flatten, Input
from nndesk.engine.model import Model
from nndesk.training import explain
from nndesk.ui.panels.plots.feature_maps import FeatureMapsPanel
from nndesk.ui.panels.plots.filters import FiltersPanel
from nndesk.ui.panels.plots.importance import ImportancePanel
from nndesk.ui.panels.plots.saliency import PREDICTED, TRUE, SaliencyPanel
from nndesk.ui.training.probes import Prober, describe_model, evaluate_model

sys.path.insert(0, str(Path(__file__).parents[1] / "training"))
from explain_helpers import PlainConv, dense_model  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

CLASSES = ("cat", "dog", "owl")


def image_setup():
    """A 3-class model on 8x8x1 images: conv_1 (6x6x4, filter 0 dead),
    conv_2 (4x4x3), conv_3 (1x1x2: no Grad-CAM), and its prober."""
    inp = Input((8, 8, 1), name="image")
    h = PlainConv(4, 3, name="conv_1")(inp)
    h = PlainConv(3, 3, name="conv_2")(h)
    h = PlainConv(2, 4, name="conv_3")(h)
    out = Dense(3, activation="softmax", name="out")(Flatten(name="flat")(h))
    model = Model(inp, out, seed=1).build()
    model.layer("conv_1").params["bias"][0] = -100.0  # never fires
    rng = np.random.default_rng(0)
    x = rng.random((40, 8, 8, 1)).astype(np.float32)
    y = rng.integers(0, 3, 40)
    info = describe_model(model, class_names=CLASSES)
    return model, info, x, y, Prober(model, info, x, y, batch_size=32)


def shown(qtbot, panel, width=900, height=420):
    qtbot.addWidget(panel)
    panel.resize(width, height)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def test_feature_maps_one_grid_per_layer_in_each_colour_scope(qtbot):
    _, info, x, _, prober = image_setup()
    panel = shown(qtbot, FeatureMapsPanel())
    panel.set_structure(info, x)
    assert list(panel.images) == ["conv_1", "conv_2", "conv_3"]
    probe = prober.probe(5, 0, 0.0)
    panel.set_probe(probe)
    panel.flush()
    assert panel.scope == "layer"  # the default
    maps = panel.maps()
    assert maps["conv_1"].shape == (6, 6, 4)
    np.testing.assert_array_equal(
        maps["conv_2"].reshape(-1), probe.activations["conv_2"]
    )
    drawn = panel.images["conv_1"].image
    assert drawn.shape[:2] == explain.channel_grid(maps["conv_1"]).shape
    by_layer = panel.grids()["conv_2"]
    for scope in ("channel", "network"):
        panel.scope_box.setCurrentIndex(panel.scope_box.findData(scope))
        assert panel.scope == scope
        panel.flush()
        expected = explain.channel_grid(explain.scale_maps(maps, scope)["conv_2"])
        np.testing.assert_array_equal(panel.grids()["conv_2"], expected)
    assert not np.array_equal(panel.grids()["conv_2"], by_layer, equal_nan=True)
    # Each channel spans [0, 1] in the per-channel scope.
    panel.set_scope("channel")
    grid = panel.grids()["conv_2"]
    assert np.nanmax(grid) == pytest.approx(1.0)
    assert panel.picker.caption.text().startswith("sample 5 · true: ")
    assert set(panel.csv_columns()) >= {"conv_1_channel_mean", "conv_3_channel_max"}
    # Hover: conv_1's 4 channels are a 2x2 grid of 6x6 tiles with 1-pixel gaps.
    value = maps["conv_1"][3, 2, 3]
    assert panel.describe_at("conv_1", 7 + 2.5, 7 + 3.5).startswith(
        f"conv_1 channel 3: {value:.4g} at (3, 2), max "
    )
    assert panel.describe_at("conv_1", 6.5, 2.0) == ""  # the gap between tiles
    assert panel.describe_at("conv_1", 20.0, 2.0) == ""  # outside the grid
    plot = panel.plots["conv_1"]
    scene = plot.vb.mapViewToScene(QPointF(7 + 2.5, 7 + 3.5))
    panel._on_mouse_moved((scene,))
    assert panel.hover_text.startswith("conv_1 channel 3")
    assert panel.graphics.toolTip() == panel.hover_text


def test_picking_a_sample_by_index_and_from_the_strip(qtbot):
    _, info, x, _, prober = image_setup()
    panel = shown(qtbot, FeatureMapsPanel(), width=1100)
    panel.set_structure(info, x)
    panel.set_probe(prober.probe(0, 0, 0.0))
    with qtbot.waitSignal(panel.sig_sample_requested) as asked:
        panel.picker.box.setValue(14)
    assert asked.args == [14]
    strip = panel.picker.strip
    per = strip.per_page
    assert 4 <= per <= 12  # as many as fit, whole
    first = 14 // per * per
    assert list(strip.visible_indices()) == list(range(first, first + per))
    assert strip._thumb_rect(per - 1).right() <= strip.width()
    third = strip._thumb_rect(3).center()
    with qtbot.waitSignal(panel.sig_sample_requested) as asked:
        qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=third)
    assert asked.args == [first + 3]
    # A probe of the sample asked for updates the box without asking again.
    with qtbot.assertNotEmitted(panel.sig_sample_requested):
        panel.set_probe(prober.probe(first + 3, 0, 0.0))
    assert panel.picker.index == first + 3 and strip.current == first + 3


def test_views_that_do_not_apply_say_so_in_one_line(qtbot):
    info = describe_model(dense_model(), class_names=CLASSES)
    maps, filters = shown(qtbot, FeatureMapsPanel()), shown(qtbot, FiltersPanel())
    saliency, importance = (
        shown(qtbot, SaliencyPanel()),
        shown(qtbot, ImportancePanel()),
    )
    maps.set_structure(info)
    filters.set_structure(info)
    saliency.set_structure(info)
    importance.set_structure(info)
    assert maps.notice.isVisible() and "convolution or pooling" in maps.notice.text()
    assert not maps.graphics.isVisible()
    # The line alone: no sample or colour choices for nothing.
    assert not maps.picker.isVisible() and not maps.scope_box.isVisible()
    assert not saliency.picker.isVisible() and not saliency.method_box.isVisible()
    saliency.set_method("grad_cam")
    assert not saliency.layer_box.isVisible()
    assert filters.notice.isVisible() and "convolution" in filters.notice.text()
    assert saliency.notice.isVisible() and "(4,)" in saliency.notice.text()
    assert not importance.notice.isVisible()  # tabular: it applies
    _, image_info, _, _, _ = image_setup()
    importance.set_structure(image_info)
    assert importance.notice.isVisible() and "(8, 8, 1)" in importance.notice.text()
    maps.set_structure(image_info)
    assert not maps.notice.isVisible() and maps.graphics.isVisible()
    assert maps.picker.isVisible() and maps.scope_box.isVisible()
    saliency.set_structure(image_info)
    assert saliency.picker.isVisible() and saliency.layer_box.isVisible()


def test_filters_show_kernels_and_badge_the_dead_filter(qtbot):
    model, info, _, _, prober = image_setup()
    panel = shown(qtbot, FiltersPanel())
    panel.set_structure(info)
    assert [c.name for c in panel.layers] == ["conv_1", "conv_2", "conv_3"]
    probe = prober.probe(0, 0, 0.0)
    panel.set_probe(probe)
    panel.flush()
    assert list(panel.dead["conv_1"]) == [0]
    # Hover: a first-layer tile names its filter; a deeper one its input channel.
    text = panel.describe_at("conv_1", 1.0, 1.0)
    assert text.startswith("conv_1 filter 0: weights ") and text.endswith("(dead)")
    k2 = probe.weights["conv_2/kernel"]
    text = panel.describe_at("conv_2", 4 * 2 + 1.5, 4 * 1 + 0.5)
    assert text.startswith(
        f"conv_2 filter 1, input channel 2: weights {k2[:, :, 2, 1].min():+.3g} to "
    )
    assert "(dead)" not in text
    assert panel.describe_at("conv_2", 3.5, 0.5) == ""  # between two tiles
    assert (
        probe.channel_peaks["conv_1"][0] <= 0 < probe.channel_peaks["conv_1"][1:].min()
    )
    badges = [b for b in panel.badges["conv_1"] if b.isVisible()]
    assert len(badges) == 1 and badges[0].textItem.toPlainText() == "dead"
    assert "1 dead" in panel.plots["conv_1"].titleLabel.text
    # In a dock too small for the word, the tint and the title say it alone.
    panel.resize(260, 140)
    qtbot.waitUntil(lambda: not any(b.isVisible() for b in panel.badges["conv_1"]))
    assert "1 dead" in panel.plots["conv_1"].titleLabel.text
    panel.resize(900, 420)
    qtbot.waitUntil(lambda: any(b.isVisible() for b in panel.badges["conv_1"]))
    # First layer (1 input channel): a 2x2 grid of 3x3 tiles.
    assert panel.images["conv_1"].image.shape == (7, 7, 4)
    # Deeper: one row per filter, one tile per input channel.
    assert panel.images["conv_2"].image.shape == (3 * 4 - 1, 4 * 4 - 1, 4)
    # Live: new weights redraw, the dead filter comes back to life.
    model.layer("conv_1").params["bias"][0] = 5.0
    panel.set_probe(prober.probe(0, 1, 1.0))
    panel.flush()
    assert len(panel.dead["conv_1"]) == 0
    assert not any(b.isVisible() for b in panel.badges["conv_1"])
    assert "dead" not in panel.plots["conv_1"].titleLabel.text
    assert list(panel.csv_columns()["conv_1_dead"]) == [0, 0, 0, 0]


def test_saliency_methods_classes_and_grad_cam_layers(qtbot):
    _, info, _, _, prober = image_setup()
    panel = shown(qtbot, SaliencyPanel())
    panel.set_structure(info)
    probe = prober.probe(3, 0, 0.0)
    s = probe.saliency
    assert s is not None and s.classes == (0, 1, 2)
    panel.set_probe(probe)
    panel.flush()
    predicted = panel.chosen_class()
    assert panel.class_box.currentData() == PREDICTED
    assert predicted == int(np.argmax(probe.activations["out"]))
    np.testing.assert_array_equal(panel.shown, s.vanilla[predicted])
    for method, maps in (("grad_x_input", s.grad_x_input), ("smooth", s.smooth)):
        panel.method_box.setCurrentIndex(panel.method_box.findData(method))
        panel.flush()
        np.testing.assert_array_equal(panel.shown, maps[predicted])
    # SmoothGrad explains the predicted and the true class, and says so for others.
    assert set(s.smooth) == {predicted, CLASSES.index(probe.target)}
    other = next(c for c in range(3) if c not in s.smooth)
    panel.set_class(other)
    panel.flush()
    assert panel.shown is None and "predicted and true class" in panel.status.text()
    panel.set_class(TRUE)
    panel.flush()
    np.testing.assert_array_equal(panel.shown, s.smooth[CLASSES.index(probe.target)])
    panel.set_class(2)
    # Grad-CAM: the layer list greys out the 1x1 layer, with the reason.
    assert not panel.layer_box.isVisibleTo(panel)
    panel.set_method("grad_cam")
    assert panel.layer_box.isVisibleTo(panel)
    assert panel.layer_enabled("conv_1") and panel.layer_enabled("conv_2")
    assert not panel.layer_enabled("conv_3")
    row = panel.layer_box.findData("conv_3")
    assert "1x1" in panel.layer_box.itemData(row, Qt.ItemDataRole.ToolTipRole)
    assert panel.layer == "conv_2"  # the deepest usable layer by default
    panel.flush()
    np.testing.assert_array_equal(panel.shown, s.grad_cam["conv_2"][2])
    assert panel.over_image.image.shape[:2] == (8, 8)  # upsampled over the sample
    panel.set_layer("conv_3")  # refused, as the list refuses it
    assert panel.layer == "conv_2"
    panel.set_layer("conv_1")
    panel.flush()
    np.testing.assert_array_equal(panel.shown, s.grad_cam["conv_1"][2])
    assert panel.status.text().startswith("Grad-CAM on conv_1")
    # An empty map says why instead of showing black.
    empty = not s.grad_cam["conv_1"][2].max() > 0
    assert ("nothing here speaks for this class" in panel.status.text()) == empty


def test_feature_importance_bars_and_csv_export(qtbot, tmp_path, monkeypatch):
    model = dense_model(dtype=np.float32)
    info = describe_model(
        model, class_names=CLASSES, feature_names=("age", "height", "weight", "zero")
    )
    x = np.random.default_rng(3).normal(size=(120, 4)).astype(np.float32)
    x[:, 3] = 0.0
    y = model.predict(x).argmax(axis=1)
    evaluation = evaluate_model(model, x, y, info)
    imp = evaluation.importance
    assert imp is not None and imp.features == ("age", "height", "weight", "zero")
    assert imp.baseline == 1.0 and imp.gradient[3] == 0.0 and imp.permutation[3] == 0.0
    panel = shown(qtbot, ImportancePanel())
    panel.set_structure(info)
    assert not panel.csv_button.isEnabled()
    with qtbot.waitSignal(panel.sig_compute_requested):
        qtbot.mouseClick(panel.compute_button, Qt.MouseButton.LeftButton)
    panel.set_importance(imp)
    panel.flush()
    assert panel.csv_button.isEnabled()
    assert panel.order[-1] == 3 or imp.permutation[panel.order[-1]] == 0.0
    widths = panel.permutation_bars.opts["width"]
    np.testing.assert_allclose(widths, np.abs(imp.permutation[panel.order]))
    target = tmp_path / "importance.csv"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "CSV (*.csv)")
    )
    qtbot.mouseClick(panel.csv_button, Qt.MouseButton.LeftButton)
    rows = list(csv.DictReader(target.open()))
    assert [r["feature"] for r in rows] == ["age", "height", "weight", "zero"]
    for row, g, p in zip(rows, imp.gradient, imp.permutation, strict=True):
        assert float(row["gradient_x_input"]) == pytest.approx(g, rel=1e-6)
        assert float(row["permutation_accuracy_drop"]) == pytest.approx(p, abs=1e-12)
    # Cancelled dialog: nothing written.
    target.unlink()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    qtbot.mouseClick(panel.csv_button, Qt.MouseButton.LeftButton)
    assert not target.exists()


def _click_cell(qtbot, evaluation, true: int, predicted: int) -> None:
    plot = evaluation.cm_plot
    scene = plot.vb.mapViewToScene(QPointF(predicted, true))
    view = evaluation.graphics
    point = view.mapFromScene(scene)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(point))


@pytest.mark.slow
def test_clicking_a_confusion_cell_shows_one_of_its_samples(qtbot, main_window):
    from nndesk.ui.training.controller import attach_training

    training = getattr(main_window, "training", None) or attach_training(main_window)
    qtbot.waitUntil(lambda: training.view.info is not None, timeout=10_000)
    assert main_window.edit_setting("epochs", 1)
    with qtbot.waitSignal(training.sig_run_finished, timeout=30_000):
        training.actions.train.trigger()
    training.evaluate()
    view = training.view
    qtbot.waitUntil(lambda: view.evaluation.evaluation is not None, timeout=10_000)
    # The spiral is tabular: importance came with the evaluation, the image
    # views say why they are empty.
    assert view.importance.importance is not None
    assert view.importance.importance.features == tuple(
        view.info.feature_names or ("x0", "x1")
    )
    assert view.feature_maps.notice.text() and view.saliency.notice.text()
    view.docks["evaluation"].raise_()
    view.evaluation.resize(800, 400)
    view.evaluation.flush()
    qtbot.waitUntil(lambda: view.evaluation.isVisible(), timeout=5_000)
    pool = training.last_probe.pool
    assert pool is not None
    indices, true, predicted = pool
    wanted = int(true[0]), int(predicted[0])
    matches = indices[(true == wanted[0]) & (predicted == wanted[1])]
    _click_cell(qtbot, view.evaluation, *wanted)
    qtbot.waitUntil(
        lambda: training.last_probe.sample_index == int(matches[0]), timeout=10_000
    )
    assert view.activations.sample_index == int(matches[0])
    assert "probe batch" in main_window.statusBar().currentMessage()
    if len(matches) > 1:  # a second click shows the next one
        _click_cell(qtbot, view.evaluation, *wanted)
        qtbot.waitUntil(
            lambda: training.last_probe.sample_index == int(matches[1]), timeout=10_000
        )


def test_network_panel_draws_map_layers_as_stacks_not_edges(qtbot):
    from nndesk.ui.panels.plots.network import MAX_CARDS, NetworkPanel

    _, info, _, _, prober = image_setup()
    panel = shown(qtbot, NetworkPanel())
    panel.set_structure(info)
    probe = prober.probe(0, 0, 0.0)
    panel.set_weights(probe.weights)
    panel.flush()
    stacks = {name for name, c in panel.columns.items() if c.is_stack}
    assert stacks == {"image", "conv_1", "conv_2", "conv_3"}
    assert len(panel.columns["conv_1"].cards) == min(4, MAX_CARDS)
    # Between stacks: one funnel item labelled with the kernel, no edges or tiles.
    funnels = [link for link in panel.links if link.note is not None]
    assert len(funnels) == 3
    assert all(len(link.curves) == 1 and link.tile is None for link in funnels)
    conv_2 = next(link for link in funnels if link.dst.info.name == "conv_2")
    assert conv_2.note.toPlainText() == "3×3\n4→3"
    # Each card takes its channel's bias colour.
    bias = probe.weights["conv_1/bias"]
    brushes = [c.brush().color().name() for c in panel.columns["conv_1"].cards]
    assert brushes[int(np.argmax(bias))] != brushes[int(np.argmin(bias))]
    # The dense layer after the last stack gets its weights as one heatmap tile.
    dense = next(link for link in panel.links if link.dst.info.name == "out")
    assert dense.tile is not None
    assert dense.tile.image.shape == probe.weights["out/kernel"].shape
    # Hover names the maps and the kernel.
    column = panel.columns["conv_1"]
    text = panel.describe_at(column.x, (column.top + column.bottom) / 2)
    assert text.startswith("conv_1: 4 maps of 6×6, biases ")
    r = conv_2.rect
    assert "kernel 3×3×4×3" in panel.describe_at(r.center().x(), r.center().y())


def test_rgb_first_layer_filters_are_colour_images(qtbot):
    inp = Input((6, 6, 3), name="image")
    out = Dense(2, activation="softmax", name="out")(
        Flatten(name="flat")(PlainConv(5, 3, name="conv_1")(inp))
    )
    model = Model(inp, out, seed=3).build()
    x = np.random.default_rng(1).random((10, 6, 6, 3)).astype(np.float32)
    info = describe_model(model, class_names=("a", "b"))
    probe = Prober(model, info, x, np.zeros(10, np.int64)).probe(0, 0, 0.0)
    panel = shown(qtbot, FiltersPanel())
    panel.set_structure(info)
    panel.set_probe(probe)
    panel.flush()
    rgba = panel.images["conv_1"].image
    grid, cols = explain.filter_grid(probe.weights["conv_1/kernel"])
    assert cols == 3 and rgba.shape == (*grid.shape[:2], 4)
    tile = rgba[0:3, 4:7]  # filter 1: its own range, in colour
    assert tile[..., 3].min() == 255
    assert len({tuple(p) for p in tile[..., :3].reshape(-1, 3)}) > 3
    assert (rgba[3, :, 3] == 0).all()  # the gap between rows is transparent


def test_the_window_shows_a_cnn_in_every_explanation_panel(qtbot, main_window):
    """The docks route a probe of an engine Conv2D/MaxPool2D network to the panels
    and a confusion-cell click to the shared sample."""
    from nndesk.engine.layers.conv import Conv2D
    from nndesk.engine.layers.pooling import MaxPool2D
    from nndesk.ui.training.controller import attach_training

    training = getattr(main_window, "training", None) or attach_training(main_window)
    view = training.view
    # The window's own preview (the spiral) first, so it cannot replace ours.
    qtbot.waitUntil(lambda: view.info is not None, timeout=10_000)
    inp = Input((10, 10, 1), name="input")
    h = Conv2D(6, 3, activation="relu", name="conv_1")(inp)
    h = MaxPool2D(2, name="pool_1")(h)
    h = Conv2D(4, 3, activation="relu", name="conv_2")(h)
    out = Dense(3, activation="softmax", name="out")(Flatten(name="flat")(h))
    model = Model(inp, out, seed=5).build()
    rng = np.random.default_rng(2)
    x = rng.random((60, 10, 10, 1)).astype(np.float32)
    y = rng.integers(0, 3, 60)
    info = describe_model(model, class_names=CLASSES)
    probe = Prober(model, info, x, y, batch_size=60).probe(0, 0, 0.0)
    view.show_structure(info, x, y)
    view.show_probe(probe)
    view.evaluation.set_evaluation(evaluate_model(model, x, y, info))
    assert [c.name for c in info.spatial] == ["conv_1", "pool_1", "conv_2"]
    assert set(view.feature_maps.images) == {"conv_1", "pool_1", "conv_2"}
    assert [c.name for c in view.filters.layers] == ["conv_1", "conv_2"]
    assert view.saliency.layer == "conv_2" and not view.saliency.notice.isVisible()
    assert view.importance.notice.isVisible()  # images are not tabular
    assert view.importance.importance is None
    assert {n for n, c in view.network.columns.items() if c.is_stack} == {
        "input",
        "conv_1",
        "pool_1",
        "conv_2",
    }
    for key in ("feature_maps", "filters", "saliency"):
        view.docks[key].raise_()
        panel = getattr(view, key)
        qtbot.waitUntil(panel.isVisible, timeout=5_000)
        panel.flush()
    assert (
        view.feature_maps.images["pool_1"].image.shape[:2]
        == explain.channel_grid(np.zeros((4, 4, 6))).shape
    )
    assert view.saliency.shown is not None
    # A confusion cell picks a probe-batch sample of it for every panel.
    indices, true, predicted = probe.pool
    cell = int(true[7]), int(predicted[7])
    view._on_evaluation_cell_clicked(*cell)
    first = indices[(true == cell[0]) & (predicted == cell[1])][0]
    assert view.activations.sample_index == first
    # A picked sample in one panel is the sample of all: the controller probes it.
    view.saliency.picker.box.setValue(11)
    assert view.activations.sample_index == 11


def test_feature_importance_charts_stack_in_a_narrow_dock(qtbot):
    panel = shown(qtbot, ImportancePanel(), width=900)
    layout = panel.graphics.ci.layout

    def cell(plot):
        for r in range(layout.rowCount()):
            for c in range(layout.columnCount()):
                if layout.itemAt(r, c) is plot:
                    return r, c
        return None

    assert not panel.stacked and cell(panel.permutation_plot) == (0, 1)
    panel.resize(400, 500)
    qtbot.waitUntil(lambda: panel.stacked)
    assert cell(panel.permutation_plot) == (1, 0)
    panel.resize(900, 420)
    qtbot.waitUntil(lambda: not panel.stacked)
    assert cell(panel.permutation_plot) == (0, 1)


def test_network_panel_draws_no_tile_for_a_conv1d_kernel(qtbot):
    from nndesk.engine.layers.conv import Conv1D
    from nndesk.ui.panels.plots.network import NetworkPanel

    inp = Input((400, 2), name="signal")
    h = Conv1D(64, 3, name="conv")(inp)  # (398, 64): 25,472 units
    model = Model(inp, Dense(3, name="out")(Flatten(name="flat")(h)), seed=0).build()
    panel = shown(qtbot, NetworkPanel())
    panel.set_structure(describe_model(model))
    panel.set_weights(model.get_weights())
    panel.flush()
    into_conv = next(link for link in panel.links if link.dst.info.name == "conv")
    # A (3, 2, 64) kernel: a passage, not an (800 x 25,472) tile of zeros.
    assert into_conv.tile is None and into_conv.segments is None
    assert panel.describe_at(into_conv.src.x + 1.0, 0.0) == ""
    out = next(link for link in panel.links if link.dst.info.name == "out")
    assert out.tile is not None
    assert out.tile.image.shape == model.get_weights()["out/kernel"].shape


def test_csv_columns_get_their_importance_by_name(tmp_path):
    """A CSV whose label depends on one column: both importances rank it first."""
    from training_helpers import spiral_document

    from nndesk.training.session import TrainingSession
    from nndesk.ui.training.probes import session_prober

    rng = np.random.default_rng(4)
    signal, noise = rng.normal(size=400), rng.normal(size=400)
    rows = ["noise,signal,label"] + [
        f"{n:.5f},{s:.5f},{int(s > 0)}" for n, s in zip(noise, signal, strict=True)
    ]
    (tmp_path / "points.csv").write_text("\n".join(rows) + "\n")
    doc = spiral_document(dataset=str(tmp_path / "points.csv"), epochs=15)
    session = TrainingSession(doc)
    dataset = session.load_dataset()
    data = session.prepare(dataset)
    session.make_trainer(data).run()
    info = session_prober(session, data, dataset).info
    assert info.feature_names == ("noise", "signal")
    result = evaluate_model(session.model, data.x_val, data.y_val, info)
    imp = result.importance
    assert imp is not None and imp.features == ("noise", "signal")
    assert imp.n == len(data.x_val) and imp.metric == "accuracy"
    assert imp.baseline > 0.9
    assert imp.permutation[1] > 0.3 > abs(imp.permutation[0])
    assert imp.gradient[1] > 3 * imp.gradient[0]


def test_feature_maps_rows_give_the_maps_the_most_room(qtbot):
    from nndesk.ui.panels.plots.feature_maps import PLOT_WIDTH

    _, info, x, _, _ = image_setup()
    panel = shown(qtbot, FeatureMapsPanel(), width=1000, height=300)
    panel.set_structure(info, x)
    need = panel.plot_width
    widest = max(p.titleLabel.item.boundingRect().width() for p in panel.plots.values())
    assert need >= PLOT_WIDTH and need >= widest  # a title is never cut
    layout = panel.graphics.ci.layout
    assert panel.per_row == 3  # wide and low: one row
    panel.resize(2 * need + 10, 900)
    qtbot.waitUntil(lambda: panel.per_row == 1)  # narrow and tall: a column
    assert layout.itemAt(2, 0) is panel.plots["conv_3"]
    panel.resize(3 * need + 10, 300)
    qtbot.waitUntil(lambda: panel.per_row == 3)
    panel.resize(int(1.5 * need), 250)  # low, but two in a row would cut titles
    qtbot.waitUntil(lambda: panel.per_row == 1)


def test_saliency_controls_fit_a_narrow_dock(qtbot):
    # Two 12-letter boxes made the panel 368 px at least: at 1280x800 its tab
    # group (with the Decision Boundary) squeezed the Network dock to 210 px.
    _, info, _, _, _ = image_setup()
    panel = shown(qtbot, SaliencyPanel())
    panel.set_structure(info)
    assert panel.minimumSizeHint().width() <= 300
    panel.resize(panel.minimumSizeHint().width(), 300)
    qtbot.wait(10)
    method = panel.method_box
    method.setCurrentIndex(method.findData("grad_x_input"))
    shown_text = method.shown_text()
    assert shown_text == "Gradient × input" or shown_text.endswith("…")
