"""Each live plot panel on synthetic data: it renders, updates in place, and exports."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QFontMetrics, QImage
from PySide6.QtSvg import QSvgRenderer
from ui_helpers import OFFSCREEN_NOISE

from nndesk.engine import metrics
from nndesk.ui.panels.plots.activations import ActivationsPanel
from nndesk.ui.panels.plots.base import PlotPanel
from nndesk.ui.panels.plots.boundary import BoundaryPanel, class_shading
from nndesk.ui.panels.plots.evaluation import EvaluationPanel, thin_curve
from nndesk.ui.panels.plots.export import ExportError, write_columns_csv
from nndesk.ui.panels.plots.histograms import HistogramsPanel
from nndesk.ui.panels.plots.loss import CurvesPanel
from nndesk.ui.panels.plots.network import WIDE_UNITS, NetworkPanel
from nndesk.ui.training.probes import (
    Evaluation,
    GridResult,
    LayerInfo,
    ModelInfo,
    ProbeResult,
    histogram,
)

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

RNG = np.random.default_rng(7)


def mlp_info(
    widths: list[int], input_shape: tuple[int, ...] | None = None
) -> ModelInfo:
    """A chain Input -> Dense... as the network view sees it."""
    names = ["input_1"] + [f"dense_{k}" for k in range(1, len(widths))]
    layers = [LayerInfo("input_1", "Input", widths[0])]
    for k in range(1, len(widths)):
        layers.append(
            LayerInfo(
                names[k], "Dense", widths[k], (names[k - 1],),
                kernel=f"{names[k]}/kernel", bias=f"{names[k]}/bias",
                activation="tanh", is_output=k == len(widths) - 1,
            )
        )  # fmt: skip
    return ModelInfo(
        tuple(layers), input_shape or (widths[0],), "classification", "x", ("a", "b")
    )


def random_weights(widths: list[int]) -> dict[str, np.ndarray]:
    weights = {}
    for k in range(1, len(widths)):
        weights[f"dense_{k}/kernel"] = RNG.normal(
            size=(widths[k - 1], widths[k])
        ).astype(np.float32)
        weights[f"dense_{k}/bias"] = RNG.normal(size=widths[k]).astype(np.float32)
    return weights


def shown(qtbot, panel: PlotPanel, width: int = 700, height: int = 420) -> PlotPanel:
    qtbot.addWidget(panel)
    panel.resize(width, height)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def npoints(curve) -> int:
    """Points a curve holds (0 before any data)."""
    x = curve.getData()[0]
    return 0 if x is None else len(x)


def colors_in(panel: PlotPanel) -> int:
    """How many distinct colours the rendered panel has (an empty plot has few)."""
    image = panel.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    pixels = np.frombuffer(
        image.constBits(), dtype=np.uint32, count=image.width() * image.height()
    )
    return len(np.unique(pixels[::7]))


def check_exports(panel: PlotPanel, folder: Path) -> list[list[str]]:
    """PNG loads, SVG is valid, CSV has a header and rows; returns the CSV rows."""
    png = panel.export_png(folder / "plot.png")
    image = QImage(str(png))
    assert not image.isNull() and image.width() >= 400
    svg = panel.export_svg(folder / "plot.svg")
    assert svg.stat().st_size > 1000
    assert QSvgRenderer(str(svg)).isValid()
    path = panel.export_csv(folder / "plot.csv")
    with path.open(newline="") as stream:
        rows = list(csv.reader(stream))
    assert len(rows) >= 2 and all(rows[0])
    return rows


# --- curves ------------------------------------------------------------------------------------


def test_curves_panel_draws_batches_epochs_and_the_table(qtbot, tmp_path: Path) -> None:
    panel = shown(qtbot, CurvesPanel())
    empty = colors_in(panel)
    for epoch in range(6):
        steps = epoch + np.arange(1, 11) / 10
        panel.add_batches(steps, np.exp(-steps) + RNG.uniform(0, 0.05, 10))
        panel.add_epoch(epoch, {"loss": np.exp(-epoch), "val_loss": 1.1 * np.exp(-epoch),
                                "accuracy": 0.5 + epoch / 20, "lr": 0.01, "eta": 3.0})  # fmt: skip
    curves = (panel.batch_curve, panel.smooth_curve, panel.epoch_curve, panel.val_curve)
    panel.flush()
    assert panel.redraw_count == 1  # many updates, one coalesced redraw
    x, y = panel.epoch_curve.getData()
    np.testing.assert_allclose(x, np.arange(1, 7))
    np.testing.assert_allclose(y, np.exp(-np.arange(6)))
    assert len(panel.batch_curve.getData()[0]) == 60
    assert colors_in(panel) > empty
    assert panel.table_model.columns == ["epoch", "loss", "val_loss", "accuracy", "lr"]
    assert panel.table_model.rowCount() == 6

    panel.add_epoch(6, {"loss": float("nan"), "val_loss": 0.001})  # a diverged epoch
    panel.log_scale.setChecked(True)
    panel.flush()
    assert (
        panel.batch_curve,
        panel.smooth_curve,
        panel.epoch_curve,
        panel.val_curve,
    ) == curves
    assert len(panel.epoch_curve.getData()[0]) == 6  # the NaN point is left out
    assert set(panel.metric_curves) == {"accuracy"}
    rows = check_exports(panel, tmp_path)
    assert rows[0][:2] == ["epoch", "loss"] and len(rows) == 1 + 60


def test_curves_panel_gives_each_metric_its_own_colour(qtbot) -> None:
    """A GAN logs d_real before d_fake: the later name sorts first and took the
    first one's colour (both purple at 1280x800); a validation twin shares its
    metric's."""
    panel = shown(qtbot, CurvesPanel())
    panel.set_history(
        {"loss": [1.0], "d_real": [0.5], "d_fake": [0.4], "val_d_real": [0.6]}
    )
    panel.flush()
    pens = {k: c.opts["pen"].color().getRgb() for k, c in panel.metric_curves.items()}
    assert pens["d_real"] != pens["d_fake"]
    assert pens["val_d_real"] == pens["d_real"]


def test_curves_panel_shows_a_saved_history_and_clears(qtbot) -> None:
    panel = shown(qtbot, CurvesPanel())
    panel.set_history(
        {"loss": [1.0, 0.5, 0.25], "val_loss": [1.2, 0.7, 0.4], "r2": [0.1, 0.5, 0.8]}
    )
    panel.flush()
    np.testing.assert_array_equal(panel.epoch_values("val_loss"), [1.2, 0.7, 0.4])
    assert [r["epoch"] for r in panel.table_model.rows()] == [1, 2, 3]
    assert "r2" in panel.metric_curves
    panel.clear()
    panel.flush()
    assert panel.table_model.rowCount() == 0 and npoints(panel.epoch_curve) == 0


# --- network --------------------------------------------------------------------------------------


def test_network_panel_draws_edges_by_sign_and_updates_in_place(
    qtbot, tmp_path: Path
) -> None:
    widths = [2, 8, 8, 1]
    panel = shown(qtbot, NetworkPanel())
    panel.set_structure(mlp_info(widths))
    weights = random_weights(widths)
    panel.set_weights(weights)
    panel.flush()
    link = panel.links[0]
    assert link.tile is None and len(link.curves) == 8  # 2 signs x 4 magnitude buckets
    drawn = sum(npoints(c) for c in link.curves)
    assert drawn == 2 * 2 * 8  # every weight is one segment (two points)
    items = [id(c) for link in panel.links for c in link.curves]
    positive = sum(npoints(c) for c in link.curves[:4]) // 2
    assert positive == int((weights["dense_1/kernel"] >= 0).sum())

    flipped = {k: -v for k, v in weights.items()}
    panel.set_weights(flipped)
    panel.flush()
    assert [id(c) for link in panel.links for c in link.curves] == items
    assert sum(npoints(c) for c in link.curves[:4]) // 2 == 16 - positive
    rows = check_exports(panel, tmp_path)
    assert rows[0] == ["layer", "param", "row", "col", "value"]
    assert len(rows) == 1 + sum(w.size for w in weights.values())
    assert rows[1][:4] == ["dense_1", "kernel", "0", "0"]
    assert float(rows[1][4]) == pytest.approx(-weights["dense_1/kernel"][0, 0])


def test_network_panel_hover_names_neurons_and_weights(qtbot) -> None:
    widths = [2, 4, 1]
    panel = shown(qtbot, NetworkPanel())
    panel.set_structure(mlp_info(widths))
    weights = random_weights(widths)
    panel.set_weights(weights)
    panel.flush()
    column = panel.columns["dense_1"]
    text = panel.describe_at(column.x, column.ys[2])
    assert text == f"dense_1 unit 2: bias {weights['dense_1/bias'][2]:+.4g}"
    seg = panel.links[0].segments[5]  # input 1 -> dense_1 unit 1
    # A quarter of the way along: the middles of crossing edges coincide.
    text = panel.describe_at(
        seg[0] + (seg[2] - seg[0]) / 4, seg[1] + (seg[3] - seg[1]) / 4
    )
    assert text.startswith("input_1[1] → dense_1[1]")
    assert panel.describe_at(column.x + 2.5, 100.0) == ""


def test_wide_layers_become_heatmap_tiles(qtbot, tmp_path: Path) -> None:
    widths = [784, 256, 128, 10]
    assert widths[1] > WIDE_UNITS
    panel = shown(qtbot, NetworkPanel(), 900, 500)
    panel.set_structure(mlp_info(widths, (28, 28)))
    panel.set_weights(random_weights(widths))
    panel.flush()
    assert all(link.tile is not None for link in panel.links)
    assert panel.links[0].tile.image.shape == (784, 256)
    # A handful of items for 235k weights, not one per edge.
    assert len(panel.box.addedItems) < 20
    rect = panel.links[0].rect
    assert panel.describe_at(rect.left() + 0.01, rect.top() + 0.01).startswith(
        "input_1[0] → dense_1[0]"
    )


# --- activations -------------------------------------------------------------------------------------


def probe_for(
    info: ModelInfo, sample: np.ndarray, grid: GridResult | None = None
) -> ProbeResult:
    acts = {
        c.name: RNG.normal(size=c.units).astype(np.float32) for c in info.layers[1:]
    }
    return ProbeResult(
        epoch=0, step=0.5, weights={}, weight_hist={}, grad_hist={}, sample_index=3,
        sample=sample, activations=acts,
        mean_activations={k: v * 0.5 for k, v in acts.items()}, grid=grid, target="b",
    )  # fmt: skip


def test_activations_panel_shows_bars_and_an_image_input(qtbot, tmp_path: Path) -> None:
    info = mlp_info([784, 32, 2], (28, 28))
    panel = shown(qtbot, ActivationsPanel())
    panel.set_structure(info, n_samples=100)
    assert panel.image is not None and set(panel.bars) == {"dense_1", "dense_2"}
    picture = RNG.uniform(size=(28, 28)).astype(np.float32)
    probe = probe_for(info, picture)
    panel.set_probe(probe)
    panel.flush()
    bars = dict(panel.bars)
    np.testing.assert_allclose(
        panel.bars["dense_1"].getData()[1], probe.activations["dense_1"]
    )
    assert panel.image.image.shape == (28, 28)
    assert "true: b" in panel.caption.text() and "predicted:" in panel.caption.text()
    # The caption gets the row's free width (its text must be readable).
    metrics = panel.caption.fontMetrics()
    assert panel.caption.width() >= metrics.horizontalAdvance("sample 0 · true: b")
    second = probe_for(info, picture)
    panel.set_probe(second)
    panel.flush()
    assert panel.bars == bars
    np.testing.assert_allclose(
        panel.bars["dense_1"].getData()[1], second.activations["dense_1"]
    )
    with qtbot.waitSignal(panel.sig_sample_requested) as blocker:
        panel.sample_box.setValue(42)
    assert blocker.args == [42]
    check_exports(panel, tmp_path)


# --- boundary ---------------------------------------------------------------------------------------


def test_boundary_panel_maps_the_plane_and_hidden_units(qtbot, tmp_path: Path) -> None:
    info = mlp_info([2, 6, 1])
    g = 32
    xx, yy = np.meshgrid(np.linspace(-1, 1, g), np.linspace(-1, 1, g))
    grid = GridResult(
        (-1.0, 1.0, -1.0, 1.0),
        (1 / (1 + np.exp(-3 * xx * yy))).astype(np.float32),
        {"dense_1": np.stack([np.tanh(xx * k) for k in range(6)]).astype(np.float32)},
    )
    panel = shown(qtbot, BoundaryPanel())
    empty = colors_in(panel)
    panel.set_structure(info)
    x = RNG.uniform(-1, 1, size=(200, 2)).astype(np.float32)
    panel.set_points(x, (x[:, 0] * x[:, 1] > 0).astype(np.int64))
    panel.set_grid(grid)
    panel.flush()
    assert panel.image.image.shape == (g, g)
    assert len(panel.unit_maps["dense_1"]) == 6
    assert panel.points.data.size == 200
    assert colors_in(panel) > empty
    image = panel.image
    panel.set_grid(GridResult(grid.extent, 1 - grid.output, grid.hidden))
    panel.flush()
    assert panel.image is image
    np.testing.assert_allclose(panel.image.image, 1 - grid.output)
    rows = check_exports(panel, tmp_path)
    assert rows[0][:3] == ["grid_x", "grid_y", "output_0"]


def test_boundary_unit_maps_give_way_in_a_narrow_panel(qtbot) -> None:
    # At 1280x800 the panel is about 250 px wide: the unit maps were squeezed into
    # an 80 px column of slivers beside the output map.
    panel = shown(qtbot, BoundaryPanel())
    panel.set_structure(mlp_info([2, 6, 1]))
    assert panel.maps_layout.maximumWidth() >= 80
    panel.resize(250, 330)
    qtbot.waitUntil(lambda: panel.maps_layout.maximumWidth() == 0)
    panel.resize(700, 420)
    qtbot.waitUntil(lambda: panel.maps_layout.maximumWidth() >= 80)


def test_boundary_panel_explains_when_inputs_are_not_a_plane(qtbot) -> None:
    panel = shown(qtbot, BoundaryPanel())
    # Images and many features are drawn on a plane (test_boundary_planes.py);
    # a sequence model's token ids and single inputs are not.
    panel.set_structure(mlp_info([784, 10], (28, 28)))
    assert panel.plot.isVisible()
    panel.set_structure(mlp_info([1, 10]))
    assert "two or more real values" in panel.note.text()
    assert not panel.plot.isVisible()


def test_class_shading_colours_the_winner_and_fades_ties() -> None:
    probs = np.array([[[0.9, 0.05, 0.05], [1 / 3, 1 / 3, 1 / 3]]])
    rgb = class_shading(probs)
    assert rgb.shape == (1, 2, 3) and rgb.dtype == np.uint8
    assert rgb[0, 0, 2] > rgb[0, 0, 0]  # class 0 is blue
    assert (rgb[0, 1] == 245).all()  # a tie is white


# --- histograms -------------------------------------------------------------------------------------


def test_histograms_panel_updates_its_step_curves(qtbot, tmp_path: Path) -> None:
    panel = shown(qtbot, HistogramsPanel())
    panel.set_structure(["dense_1", "dense_2"])
    w = {n: histogram(RNG.normal(size=500)) for n in ("dense_1", "dense_2")}
    g = {n: histogram(RNG.normal(scale=0.01, size=500)) for n in ("dense_1", "dense_2")}
    panel.set_histograms(w, g)
    panel.flush()
    curve = panel.weight_curves["dense_1"]
    x, y = curve.getData()
    assert len(x) == len(y) + 1 and y.sum() == 500
    w2 = {n: histogram(RNG.normal(loc=3, size=300)) for n in ("dense_1", "dense_2")}
    panel.set_histograms(w2, g)
    panel.flush()
    assert panel.weight_curves["dense_1"] is curve
    assert curve.getData()[1].sum() == 300
    rows = check_exports(panel, tmp_path)
    assert "dense_1_weights_count" in rows[0]


# --- evaluation ---------------------------------------------------------------------------------------


def classification_evaluation(k: int) -> Evaluation:
    labels = RNG.integers(0, k, size=400)
    scores = RNG.dirichlet(np.ones(k), size=400)
    scores[np.arange(400), labels] += 0.5
    scores /= scores.sum(axis=1, keepdims=True)
    names = tuple(f"class {i}" for i in range(k))
    roc = [
        (names[c], fpr, tpr, metrics.auc(fpr, tpr))
        for c, (fpr, tpr, _) in enumerate(metrics.roc_curve_ovr(labels, scores))
    ]
    return Evaluation(
        split="validation", task="classification", n=400, epoch=4, class_names=names,
        confusion=metrics.confusion_matrix(labels, scores, num_classes=k),
        report=metrics.classification_report(labels, scores, num_classes=k, class_names=names),
        roc=roc,
    )  # fmt: skip


def test_evaluation_panel_shows_confusion_matrix_table_and_roc(
    qtbot, tmp_path: Path
) -> None:
    panel = shown(qtbot, EvaluationPanel(), 900, 420)
    ev = classification_evaluation(3)
    panel.set_evaluation(ev)
    panel.flush()
    counts = [int(text) for text in panel.cell_counts.texts()]
    assert counts == ev.confusion.reshape(-1).tolist()
    assert panel.table.rowCount() == 5  # 3 classes + macro + weighted
    assert panel.table.item(0, 0).text() == f"{ev.report['class 0']['precision']:.3f}"
    assert set(panel.roc_curves) == {"class 0", "class 1", "class 2"}
    image, curve = panel.cm_image, panel.roc_curves["class 1"]
    second = classification_evaluation(3)
    panel.set_evaluation(second)
    panel.flush()
    assert panel.cm_image is image and panel.roc_curves["class 1"] is curve
    counts = [int(text) for text in panel.cell_counts.texts()]
    assert counts == second.confusion.reshape(-1).tolist()
    # The counts are painted: hiding them changes the picture.
    with_counts = panel.graphics.grab().toImage()
    panel.cell_counts.set_counts(None, None)
    assert panel.graphics.grab().toImage() != with_counts
    panel.cell_counts.set_counts(second.confusion, None)
    assert "Accuracy" in panel.summary.text()
    rows = check_exports(panel, tmp_path)
    assert rows[0][0] == "true_class" and rows[1][0] == "class 0"


def test_evaluation_panel_shows_regression_scatter_and_scores(
    qtbot, tmp_path: Path
) -> None:
    panel = shown(qtbot, EvaluationPanel())
    y = RNG.normal(size=300)
    pred = y + RNG.normal(scale=0.1, size=300)
    ev = Evaluation(
        split="validation", task="regression", n=300, epoch=0, y_true=y, y_pred=pred,
        r2=metrics.r2(y, pred), mae=metrics.mae(y, pred), rmse=metrics.rmse(y, pred),
    )  # fmt: skip
    panel.set_evaluation(ev)
    panel.flush()
    assert panel.scatter is not None and panel.scatter.data.size == 300
    assert f"R² {ev.r2:.4f}" in panel.summary.text()
    assert not panel.table.isVisible()
    rows = check_exports(panel, tmp_path)
    assert rows[0] == ["actual", "predicted"] and len(rows) == 301


# --- export helpers ------------------------------------------------------------------------------------


def test_csv_columns_of_different_lengths_are_padded(tmp_path: Path) -> None:
    path = write_columns_csv(
        tmp_path / "a.csv", {"a": [1.5, 2.0, float("nan")], "b": ["x"]}
    )
    assert path.read_text().splitlines() == ["a,b", "1.5,x", "2.0,", "nan,"]


def test_export_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="does not exist"):
        write_columns_csv(tmp_path / "nope" / "a.csv", {"a": [1]})
    with pytest.raises(ExportError, match="empty"):
        write_columns_csv(tmp_path / "a.csv", {})


def test_thin_curve_keeps_ends_and_shape_with_few_points() -> None:
    x = np.sort(RNG.random(5000))
    x[0], x[-1] = 0.0, 1.0
    y = np.sqrt(x)
    tx, ty = thin_curve(x, y, 200)
    assert 2 < len(tx) <= 202
    assert (tx[0], ty[0], tx[-1], ty[-1]) == (x[0], y[0], x[-1], y[-1])
    assert np.all(np.diff(tx) > 0)
    # Every dropped point lies within a step of 1/200 of the curve's length.
    assert np.abs(np.interp(x, tx, ty) - y).max() < 2.0 / 200
    short_x, short_y = thin_curve(x[:50], y[:50], 200)
    np.testing.assert_array_equal(short_x, x[:50])
    np.testing.assert_array_equal(short_y, y[:50])


def test_a_short_plot_keeps_its_tick_labels_apart(qtbot) -> None:
    # At 1280x800 the loss plot is about 35 px tall: pyqtgraph's two or more major
    # ticks put 0.6, 0.4 and 0.2 on top of each other.
    panel = shown(qtbot, CurvesPanel(), width=330, height=290)
    n = 300
    panel.set_history(
        {
            "loss": list(np.linspace(0.7, 0.16, n)),
            "val_loss": list(np.linspace(0.7, 0.32, n)),
        }
    )
    axis = panel.loss_plot.getAxis("left")
    qtbot.waitUntil(lambda: axis.range[1] > 0.7)
    size = axis.geometry().height()
    lo, hi = axis.range
    levels = axis.tickValues(lo, hi, size)
    values = levels[0][1]
    assert len(values) >= 1 and all(lo <= v <= hi for v in values)
    text = QFontMetrics(axis.font()).height()
    pixels = [v * size / (hi - lo) for v in values]
    assert all(b - a >= text for a, b in zip(pixels, pixels[1:], strict=False))
    # A tall plot keeps pyqtgraph's own ticks.
    assert len(axis.tickValues(lo, hi, 400)[0][1]) >= 3
