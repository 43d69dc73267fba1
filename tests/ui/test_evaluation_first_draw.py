"""The Evaluation panel makes its plot items before a run, not in its first draw."""

from __future__ import annotations

import numpy as np
import pytest
from ui_helpers import OFFSCREEN_NOISE

from nndesk.ui.panels.plots.evaluation import CLASS_COLORS, EvaluationPanel
from nndesk.ui.training.probes import Evaluation

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

NAMES = tuple(f"class {i}" for i in range(10))


def _evaluation(roc_names: tuple[str, ...]) -> Evaluation:
    rng = np.random.default_rng(0)
    k = len(NAMES)
    roc = [(n, np.linspace(0, 1, 50), np.sqrt(np.linspace(0, 1, 50)), 0.75) for n in roc_names]
    return Evaluation(
        split="validation",
        task="classification",
        n=500,
        epoch=0,
        class_names=NAMES,
        confusion=rng.integers(0, 50, (k, k)),
        report={"accuracy": 0.5},
        roc=roc,
    )


def _legend_texts(panel: EvaluationPanel) -> list[str]:
    legend = panel.roc_plot.legend
    return [label.text for _, label in legend.items]


def test_the_first_draw_of_a_run_adds_no_curve(qtbot) -> None:
    panel = EvaluationPanel()
    qtbot.addWidget(panel)
    panel.resize(700, 400)
    panel.show()
    panel.prepare("classification", NAMES)
    made = dict(panel.roc_curves)
    assert list(made) == list(NAMES)
    items = len(panel.roc_plot.items)
    panel.set_evaluation(_evaluation(NAMES))
    panel.flush()
    assert panel.roc_curves == made  # the same objects, drawn
    assert len(panel.roc_plot.items) == items
    assert all(len(c.xData) > 0 for c in made.values())
    assert _legend_texts(panel) == [f"{n} 0.75" for n in NAMES]


def test_a_class_without_a_curve_leaves_the_legend(qtbot) -> None:
    panel = EvaluationPanel()
    qtbot.addWidget(panel)
    panel.resize(700, 400)
    panel.show()
    panel.prepare("classification", NAMES)
    panel.set_evaluation(_evaluation(NAMES[1:]))  # class 0 had no positives
    panel.flush()
    assert "class 0" not in panel.roc_curves
    assert _legend_texts(panel) == [f"{n} 0.75" for n in NAMES[1:]]
    # A class keeps its colour whichever classes have curves.
    color = panel.roc_curves["class 1"].opts["pen"].color().getRgb()[:3]
    assert color == tuple(int(v) for v in CLASS_COLORS[1][:3])
