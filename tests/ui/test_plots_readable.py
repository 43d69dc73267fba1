"""The plots stay readable in the docks of a 1280x800 window (issue 11): legends beside
the curves, not over them or cut off; confusion-matrix labels that do not overlap."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QApplication
from ui_helpers import OFFSCREEN_NOISE

from nndesk.engine import metrics
from nndesk.ui.panels.plots.activations import ActivationsPanel
from nndesk.ui.panels.plots.evaluation import EvaluationPanel
from nndesk.ui.panels.plots.loss import CurvesPanel
from nndesk.ui.panels.plots.network import NetworkPanel
from nndesk.ui.training.probes import Evaluation

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]


def _shown(qtbot, panel, width: int, height: int):
    qtbot.addWidget(panel)
    panel.resize(width, height)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def _fill_curves(panel: CurvesPanel, epochs: int = 30) -> None:
    rng = np.random.default_rng(3)
    for epoch in range(epochs):
        steps = epoch + np.arange(1, 11) / 10
        panel.add_batches(steps, np.exp(-steps / 10) + rng.uniform(0, 0.05, 10))
        panel.add_epoch(
            epoch,
            {
                "loss": float(np.exp(-epoch / 10)),
                "val_loss": float(1.1 * np.exp(-epoch / 10)),
                "accuracy": 0.5 + epoch / 70,
                "val_accuracy": 0.48 + epoch / 75,
            },
        )
    panel.flush()


def _scene_rect(item: pg.GraphicsObject) -> QRectF:
    return item.mapRectToScene(item.boundingRect())


@pytest.mark.parametrize("width", [265, 330, 480, 700])
def test_legends_neither_cover_the_curves_nor_leave_the_panel(qtbot, width) -> None:
    panel = _shown(qtbot, CurvesPanel(), width, 340)
    _fill_curves(panel)
    qtbot.wait(1)  # the legends fit themselves once the plots have their width
    QApplication.processEvents()
    view_rect = QRectF(panel.graphics.viewport().rect())
    for plot in (panel.loss_plot, panel.metric_plot):
        legend = plot.legend
        assert legend.items, "every curve is listed"
        plotted = _scene_rect(plot.getViewBox())
        assert view_rect.contains(plotted), "the plot runs past the panel's edge"
        # Epochs read 0, 20, 40, not 20000 (a stale SI scale of pyqtgraph's).
        assert plot.getAxis("bottom").autoSIPrefixScale == 1.0
        for sample, label in legend.items:
            for part in (sample, label):
                rect = _scene_rect(part)
                assert not rect.intersects(plotted), label.text
                assert view_rect.contains(rect), f"{label.text} is cut"
    names = [label.text for _, label in panel.metric_plot.legend.items]
    assert names == ["accuracy", "validation accuracy"]


def _classification(k: int, names: tuple[str, ...], n: int = 3000) -> Evaluation:
    rng = np.random.default_rng(k)
    labels = rng.integers(0, k, size=n)
    scores = rng.dirichlet(np.ones(k), size=n)
    scores[np.arange(n), labels] += 0.5
    scores /= scores.sum(axis=1, keepdims=True)
    roc = [
        (names[c], fpr, tpr, metrics.auc(fpr, tpr))
        for c, (fpr, tpr, _) in enumerate(metrics.roc_curve_ovr(labels, scores))
    ]
    return Evaluation(
        split="validation", task="classification", n=n, epoch=4, class_names=names,
        confusion=metrics.confusion_matrix(labels, scores, num_classes=k),
        report=metrics.classification_report(
            labels, scores, num_classes=k, class_names=names
        ),
        roc=roc,
    )  # fmt: skip


FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
           "Sneaker", "Bag", "Ankle boot")  # fmt: skip


def _label_rects(panel: EvaluationPanel) -> dict[str, list[QRectF]]:
    """Where each labelled tick's text sits on screen, axis by axis."""
    plot = panel.cm_plot
    vb = plot.vb
    out: dict[str, list[QRectF]] = {}
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        ticks = [t for t in axis._tickLevels[0] if t[1]]  # as the axis draws them
        metrics_ = QFontMetricsF(axis.style["tickFont"] or axis.font())
        rects = []
        for value, text in ticks:
            w, h = metrics_.horizontalAdvance(text), metrics_.height()
            if name == "left":
                y = vb.mapViewToScene(QPointF(0, value)).y()
                rects.append(QRectF(0, y - h / 2, w, h))
            else:
                x = vb.mapViewToScene(QPointF(value, 0)).x()
                rects.append(QRectF(x - w / 2, 0, w, h))
        out[name] = rects
    return out


@pytest.mark.parametrize(
    ("k", "size"),
    [(10, (900, 330)), (10, (520, 330)), (10, (1300, 420)), (30, (900, 420))],
)
def test_confusion_matrix_labels_do_not_overlap(qtbot, k, size) -> None:
    names = FASHION if k == 10 else tuple(f"class {i}" for i in range(k))
    panel = _shown(qtbot, EvaluationPanel(), *size)
    panel.set_evaluation(_classification(k, names))
    panel.flush()
    QApplication.processEvents()
    rects = _label_rects(panel)
    for name, axis_rects in rects.items():
        assert axis_rects, f"the {name} axis names some classes"
        for a, b in zip(axis_rects, axis_rects[1:], strict=False):
            assert not a.intersects(b), name
    labels = [t for _, t in panel.cm_tick_labels()["left"]]
    assert labels[0] == f"{names[0]} (0)"  # the readable name, and its column number
    if k == 10 and size[0] >= 900:
        assert len(labels) == 10  # every class is named at 10 classes


def test_cell_counts_fit_their_cells_or_are_not_printed(qtbot) -> None:
    panel = _shown(qtbot, EvaluationPanel(), 1300, 420)
    panel.set_evaluation(_classification(10, FASHION, n=30000))
    panel.flush()
    QApplication.processEvents()
    counts = panel.cell_counts
    assert counts.counts.max() >= 1000  # four digits
    vb = panel.cm_plot.vb
    corner = vb.mapViewToScene(QPointF(0, 0))
    step = vb.mapViewToScene(QPointF(1, 1)) - corner
    w, h = abs(step.x()), abs(step.y())
    font = counts.text_font(panel.font(), w, h)
    assert font is not None  # a 1300 px panel prints them
    widest = QFontMetricsF(font).horizontalAdvance(str(int(counts.counts.max())))
    assert widest <= w - 2
    assert counts.text_font(panel.font(), 6.0, 6.0) is None
    assert counts.text_font(panel.font(), 1.0, 0.5) is None  # no negative font size


def test_roc_legend_sits_beside_the_plot_or_gives_way(qtbot) -> None:
    wide = _shown(qtbot, EvaluationPanel(), 1300, 420)
    wide.set_evaluation(_classification(10, FASHION))
    wide.flush()
    QApplication.processEvents()
    assert wide.roc_legend_shown()
    plotted = _scene_rect(wide.roc_plot.getViewBox())
    for _sample, label in wide.roc_plot.legend.items:
        assert not _scene_rect(label).intersects(plotted)
    narrow = _shown(qtbot, EvaluationPanel(), 520, 330)
    narrow.set_evaluation(_classification(10, FASHION))
    narrow.flush()
    QApplication.processEvents()
    assert not narrow.roc_legend_shown()
    assert "mean AUC" in narrow.roc_plot.titleLabel.text


def test_a_narrow_evaluation_gives_the_matrix_the_width(qtbot) -> None:
    panel = _shown(qtbot, EvaluationPanel(), 270, 330)
    panel.set_evaluation(_classification(10, FASHION))
    panel.flush()
    QApplication.processEvents()
    assert not panel.roc_shown()
    view_rect = QRectF(panel.graphics.viewport().rect())
    assert view_rect.contains(_scene_rect(panel.cm_plot.getViewBox()))
    panel.resize(1300, 420)
    QApplication.processEvents()
    assert panel.roc_shown()
    assert "Accuracy" in panel.summary.text()
    assert panel.summary.height() < 3 * panel.summary.fontMetrics().lineSpacing()


def test_activations_fit_a_narrow_dock(qtbot) -> None:
    """Four layers side by side in 270 px were cut at the right edge; the caption
    was cut in the controls' row and the sample box squashed."""
    from test_plots_panels import mlp_info, probe_for  # the panels' own fixtures

    info = mlp_info([2, 8, 8, 8, 1])
    panel = _shown(qtbot, ActivationsPanel(), 270, 330)
    panel.set_structure(info, n_samples=60000)
    probe = probe_for(info, np.array([0.5, -0.5], dtype=np.float32))
    panel.set_probe(probe)
    panel.flush()
    qtbot.wait(1)
    QApplication.processEvents()
    view_rect = QRectF(panel.graphics.viewport().rect())
    assert panel.plots_per_row() < len(panel.plots)
    for plot in panel.plots.values():
        assert view_rect.contains(_scene_rect(plot)), plot.titleLabel.text
    caption = panel.caption
    needed = caption.fontMetrics().boundingRect(
        caption.contentsRect(), int(Qt.TextFlag.TextWordWrap), caption.text()
    )
    assert needed.height() <= caption.contentsRect().height(), caption.text()
    box = panel.sample_box
    assert box.width() >= box.fontMetrics().horizontalAdvance("59999")


@pytest.mark.parametrize("width", [270, 330, 700])
def test_network_layer_names_are_whole_and_apart(qtbot, width: int) -> None:
    from test_plots_panels import mlp_info

    panel = _shown(qtbot, NetworkPanel(), width, 330)
    panel.set_structure(mlp_info([784, 256, 128, 10], (28, 28)))
    QApplication.processEvents()
    panel.resize(width, 331)  # the frame follows the panel's size
    QApplication.processEvents()
    view_rect = QRectF(panel.graphics.viewport().rect())
    rects = []
    for column in panel.columns.values():
        rect = column.label.mapRectToScene(column.label.boundingRect())
        assert view_rect.contains(rect), column.label.textItem.toPlainText()
        rects.append(rect)
    for a, b in zip(rects, rects[1:], strict=False):
        assert not a.intersects(b)
