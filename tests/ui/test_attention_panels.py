"""The attention views (maps with a timeline, per-head entropy, head ablation)
driven like a user, on probes of the sort example's real Transformer."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from ui_helpers import OFFSCREEN_NOISE

from nndesk.document.examples import sort_transformer, spiral_classifier
from nndesk.io.project_file import Project
from nndesk.training.session import TrainingSession
from nndesk.ui.panels.plots.attention_maps import NO_ATTENTION, AttentionMapsPanel
from nndesk.ui.panels.plots.head_entropy import HeadEntropyPanel, uniform_entropy
from nndesk.ui.training.probes import session_prober

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]


@pytest.fixture(scope="module")
def sort_run():
    """The sort example: its session, prepared data and prober (untrained)."""
    session = TrainingSession.from_project(Project(document=sort_transformer()))
    dataset = session.load_dataset()
    data = session.prepare(dataset)
    return session, data, session_prober(session, data, dataset)


def shown(qtbot, panel, width=1000, height=520):
    qtbot.addWidget(panel)
    panel.resize(width, height)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def test_maps_show_every_layer_and_head_with_tokens(qtbot, sort_run):
    session, data, prober = sort_run
    panel = shown(qtbot, AttentionMapsPanel())
    panel.set_structure(len(data.x_train))
    probe = prober.probe(5, 0, 0.0)
    panel.set_probe(probe)
    panel.flush()
    assert sorted(panel._plots) == [
        (f"attention_{k}", h) for k in (1, 2) for h in (0, 1, 2)
    ]
    plot = panel._plots[("attention_2", 1)]
    ticks = plot.getAxis("left")._tickLevels[0]
    assert [t for _, t in ticks] == list(probe.attention.tokens)
    image = panel._images[("attention_1", 0)].image
    assert image.shape[:2] == (6, 6)
    assert not panel.notice.isVisible()


def test_choosing_a_sequence_asks_for_it_and_restarts_the_timeline(qtbot, sort_run):
    _, data, prober = sort_run
    panel = shown(qtbot, AttentionMapsPanel())
    panel.set_structure(len(data.x_train))
    panel.set_probe(prober.probe(1, 0, 0.1))
    panel.set_probe(prober.probe(1, 0, 0.2))
    with qtbot.waitSignal(panel.sig_sample_requested) as asked:
        panel.chooser.setValue(7)
    assert asked.args == [7]
    panel.set_probe(prober.probe(7, 0, 0.3))
    assert len(panel.timeline) == 1 and panel.shown.index == 7
    assert panel.shown.tokens == tuple(str(int(v)) for v in data.x_train[7])


def test_the_timeline_steps_back_and_returns_to_live(qtbot, sort_run):
    session, data, prober = sort_run
    panel = shown(qtbot, AttentionMapsPanel())
    panel.set_structure(len(data.x_train))
    model = session.model
    first = prober.probe(2, 0, 0.0)
    panel.set_probe(first)
    model.fit(data.x_train[:256], data.y_train[:256], epochs=1, batch_size=32)
    later = prober.probe(2, 1, 1.0)
    panel.set_probe(later)
    assert panel.is_live and panel.shown is later.attention
    assert "live" in panel.when_label.text()
    qtbot.keyClick(panel.slider, Qt.Key.Key_Left)
    panel.flush()
    assert panel.shown is first.attention and not panel.is_live
    assert panel.when_label.text() == "epoch 0.00"
    drawn = panel._images[("attention_1", 0)].image
    assert not np.array_equal(
        first.attention.maps["attention_1"], later.attention.maps["attention_1"]
    )
    # A new probe while stepped back keeps the view where the user put it.
    panel.set_probe(prober.probe(2, 1, 1.5))
    assert panel.shown is first.attention and len(panel.timeline) == 3
    assert drawn is not None
    qtbot.keyClick(panel.slider, Qt.Key.Key_End)
    assert panel.is_live and panel.shown.step == 1.5


def test_clicking_a_head_mutes_it_and_shows_the_change(qtbot, sort_run):
    session, data, prober = sort_run
    panel = shown(qtbot, AttentionMapsPanel())
    panel.set_structure(len(data.x_train))
    probe = prober.probe(0, 1, 1.0)
    panel.set_probe(probe)
    panel.flush()
    before = {k: v.copy() for k, v in session.model.get_weights().items()}
    plot = panel._plots[("attention_1", 2)]
    centre = plot.vb.mapViewToScene(QPointF(3.0, 3.0))
    view_point = panel.graphics.mapFromScene(centre)
    with qtbot.waitSignal(panel.sig_ablation_finished, timeout=60_000):
        qtbot.mouseClick(
            panel.graphics.viewport(), Qt.MouseButton.LeftButton, pos=view_point
        )
    assert panel.muted == [("attention_1", 2)]
    result = panel.ablation
    assert result is not None and result.muted == (("attention_1", 2),)
    # The numbers are those of muting the head by hand on the session's weights.
    layer = session.model.layer("attention_1")
    x, y = data.x_val, data.y_val
    p0 = session.model.predict(x)
    layer.head_mask = np.array([1.0, 1.0, 0.0])
    try:
        p1 = session.model.predict(x)
    finally:
        layer.head_mask = None

    def ce(p):
        return float(
            -np.log(np.take_along_axis(p, y[..., None].astype(int), -1)).mean()
        )

    assert result.loss == pytest.approx(ce(p0), rel=1e-4)
    assert result.muted_loss == pytest.approx(ce(p1), rel=1e-4)
    assert "attention_1 head 3 muted: validation loss" in panel.ablation_label.text()
    assert "points" in panel.ablation_label.text()
    assert all(
        np.array_equal(v, before[k]) for k, v in session.model.get_weights().items()
    )
    panel.flush()
    assert "muted" in plot.titleLabel.text
    # A second click unmutes it.
    panel.toggle_head("attention_1", 2)
    assert panel.muted == [] and panel.ablation is None
    assert panel.ablation_label.text() == "Click a head to mute it."


def test_a_network_without_attention_says_so(qtbot):
    session = TrainingSession.from_project(Project(document=spiral_classifier()))
    dataset = session.load_dataset()
    data = session.prepare(dataset)
    prober = session_prober(session, data, dataset)
    maps, entropy = shown(qtbot, AttentionMapsPanel()), shown(qtbot, HeadEntropyPanel())
    probe = prober.probe(0, 0, 0.0)
    maps.set_probe(probe)
    entropy.set_probe(probe)
    assert maps.notice.text() == NO_ATTENTION and maps.notice.isVisible()
    assert entropy.notice.text() == NO_ATTENTION


def test_entropy_curves_follow_the_probes(qtbot, sort_run):
    session, data, prober = sort_run
    panel = shown(qtbot, HeadEntropyPanel())
    probes = [prober.probe(0, 0, s) for s in (0.25, 0.5)]
    for p in probes:
        panel.set_probe(p)
    panel.flush()
    x, e = panel.curves("attention_1")
    assert list(x) == [0.25, 0.5] and e.shape == (2, 3)
    assert np.allclose(e[1], probes[1].attention.entropy["attention_1"])
    assert panel._guides["attention_1"].value() == pytest.approx(math.log(6))
    assert len(panel._curves["attention_2"]) == 3
    # A repeated moment replaces its point.
    panel.set_probe(prober.probe(3, 0, 0.5))
    assert list(panel.curves("attention_1")[0]) == [0.25, 0.5]


def test_uniform_entropy_by_hand():
    assert uniform_entropy(4, 4, causal=False) == pytest.approx(math.log(4))
    assert uniform_entropy(3, 3, causal=True) == pytest.approx(
        (0 + math.log(2) + math.log(3)) / 3
    )


def test_live_evaluation_scores_labels_per_step(sort_run):
    """The Evaluation panel's numbers for per-step labels: each step a sample (the
    sort example's first run failed in its live evaluation before)."""
    from nndesk.ui.training.probes import evaluate_model

    session, data, prober = sort_run
    result = evaluate_model(session.model, data.x_val, data.y_val, prober.info)
    assert result.n == len(data.x_val) and result.class_names == ("0", "1", "2")
    assert result.confusion.sum() == data.y_val.size
    predicted = session.model.predict(data.x_val).argmax(-1)
    right = np.trace(result.confusion) / result.confusion.sum()
    assert right == pytest.approx((predicted == data.y_val).mean())
    assert result.importance is None
