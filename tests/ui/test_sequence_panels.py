"""The recurrent views (hidden state, gates, gradient through time, text sampling,
forecast) driven like a user, on probes of real recurrent models."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from ui_helpers import OFFSCREEN_NOISE

from nndesk.engine.layers import GRU, LSTM, Dense, Embedding, Input, SimpleRNN
from nndesk.engine.model import Model
from nndesk.training import sequence_views as sv
from nndesk.ui.panels.plots.forecast import ForecastPanel
from nndesk.ui.panels.plots.gates import GatesPanel
from nndesk.ui.panels.plots.gradient_time import GradientTimePanel
from nndesk.ui.panels.plots.hidden_state import (
    NO_RECURRENT,
    HiddenStatePanel,
    firing_steps,
    time_ticks,
)
from nndesk.ui.panels.plots.text_sampling import TextSamplingPanel
from nndesk.ui.training.probes import Prober, describe_model

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

VOCAB = list("ab c.\n")


def char_setup():
    """Embedding -> LSTM 6 -> GRU 5 -> softmax over 6 characters, and its prober."""
    inp = Input((7,), dtype="int", name="ids")
    h = Embedding(len(VOCAB), 3, name="emb")(inp)
    h = LSTM(6, return_sequences=True, name="lstm")(h)
    h = GRU(5, name="gru")(h)
    out = Dense(len(VOCAB), activation="softmax", name="out")(h)
    model = Model(inp, out, seed=1).build()
    rng = np.random.default_rng(0)
    x = rng.integers(0, len(VOCAB), size=(30, 7)).astype(np.float32)
    y = rng.integers(0, len(VOCAB), 30)
    info = describe_model(model, class_names=VOCAB)
    prober = Prober(model, info, x, y, batch_size=30, vocabulary=VOCAB)
    return model, x, prober


def forecast_setup(cell=LSTM):
    inp = Input((12, 1), name="series")
    out = Dense(1, name="out")(cell(8, name="rnn")(inp))
    model = Model(inp, out, seed=2).build()
    t = np.arange(13)
    phase = np.random.default_rng(1).uniform(0, 6.28, size=(40, 1))
    series = np.sin(t / 2 + phase).astype(np.float32)
    x, y = series[:, :12, None], series[:, 12:]
    info = describe_model(model, task="regression")
    return model, x, y, Prober(model, info, x, y, batch_size=40)


def shown(qtbot, panel, width=900, height=460):
    qtbot.addWidget(panel)
    panel.resize(width, height)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def hover_scene(panel, plot, x, y):
    """Move the mouse over ``plot`` at data coordinates (as pyqtgraph's proxy sees)."""
    pos = plot.vb.mapViewToScene(QPointF(x, y))
    panel._on_mouse_moved((pos,))


def test_hidden_state_heatmap_tokens_and_hovering_a_unit(qtbot):
    _, x, prober = char_setup()
    panel = shown(qtbot, HiddenStatePanel())
    panel.set_structure(len(x))
    probe = prober.probe(4, 0, 0.0)
    panel.set_probe(probe)
    panel.flush()
    assert [panel.layer_box.itemText(i) for i in range(2)] == ["lstm", "gru"]
    trace = probe.sequence.layers["lstm"]
    np.testing.assert_array_equal(panel.values(), trace.hidden.T)
    assert panel.image.image.shape[:2] == (6, 7)  # units x time
    labels = [t for _, t in panel.heat.getAxis("bottom")._tickLevels[0]]
    assert labels == [{" ": "␣", "\n": "↵"}.get(c, c) for c in probe.sequence.tokens]
    # The cell state is a choice for the LSTM only.
    panel.set_state("cell")
    panel.flush()
    np.testing.assert_array_equal(panel.values(), trace.cell.T)
    panel.set_layer("gru")
    assert panel.state_box.count() == 1 and panel.state == "hidden"
    panel.set_layer("lstm")
    panel.set_state("hidden")
    panel.flush()
    # Hovering unit 2's row frames it and plots it over time, marking where it fires.
    hover_scene(panel, panel.heat, 3.2, 2.5)
    assert panel.hover_unit == 2
    row = trace.hidden[:, 2]
    fires = firing_steps(row)
    assert panel.hover_text.startswith("unit 2:")
    assert f"steps {', '.join(map(str, fires))}" in panel.hover_text
    np.testing.assert_allclose(panel.unit_curve.yData, row)
    np.testing.assert_allclose(panel.fire_bars.opts["x"], fires + 0.5)
    assert panel.frame.yData.min() == 2 and panel.frame.yData.max() == 3
    # Choosing another sequence asks for it.
    with qtbot.waitSignal(panel.sig_sample_requested) as blocker:
        panel.chooser.setValue(9)
    assert blocker.args == [9]


def test_firing_steps_and_ticks_by_hand():
    np.testing.assert_array_equal(firing_steps(np.array([0.1, -0.8, 0.5, 0.3])), [1, 2])
    assert len(firing_steps(np.zeros(4))) == 0
    ticks = time_ticks([str(k % 10) for k in range(100)], most=40)
    assert [t for t, _ in ticks][:3] == [0.5, 3.5, 6.5]  # every 3rd of 100 steps


def test_gates_heatmaps_and_saturation_scatter(qtbot):
    _, x, prober = char_setup()
    panel = shown(qtbot, GatesPanel())
    panel.set_structure(len(x))
    probe = prober.probe(2, 0, 0.0)
    panel.set_probe(probe)
    panel.flush()
    trace = probe.sequence.layers["lstm"]
    assert list(trace.gates) == ["input", "forget", "output"]
    assert all(p.isVisible() for p in panel.plots)
    shut, open_ = trace.saturation["forget"]
    xs, ys = panel.scatters["forget"].getData()
    np.testing.assert_allclose(xs, shut)
    np.testing.assert_allclose(ys, open_)
    # The GRU has two gates: the third heatmap hides and its scatter goes.
    panel.set_layer("gru")
    panel.flush()
    assert set(panel.scatters) == {"reset", "update"}
    assert [p.isVisible() for p in panel.plots] == [True, True, False]
    drawn = panel.images[0].image
    assert drawn.shape[:2] == (5, 7)


def test_views_that_do_not_apply_say_so(qtbot):
    """A SimpleRNN has no gates; a regression model samples no text; a dense
    network has no recurrent views at all."""
    model, x, y, prober = forecast_setup(SimpleRNN)
    probe = prober.probe(0, 0, 0.0)
    gates = shown(qtbot, GatesPanel())
    gates.set_probe(probe)
    assert gates.notice.isVisible() and "SimpleRNN" in gates.notice.text()
    text = shown(qtbot, TextSamplingPanel())
    text.set_probe(probe)
    assert text.notice.isVisible() and "character model" in text.notice.text()
    inp = Input((3,))
    dense = Model(inp, Dense(1)(inp), seed=0).build()
    flat = Prober(dense, describe_model(dense), np.zeros((4, 3), np.float32))
    hidden = shown(qtbot, HiddenStatePanel())
    hidden.set_probe(flat.probe(0, 0, 0.0))
    assert hidden.notice.text() == NO_RECURRENT and not hidden.splitter.isVisible()


def test_gradient_through_time_curves_per_layer(qtbot):
    _, _, prober = char_setup()
    panel = shown(qtbot, GradientTimePanel())
    first = prober.probe(0, 0, 0.0)
    panel.set_probe(first)
    panel.flush()
    assert set(panel.curves) == {"lstm", "gru"}
    np.testing.assert_allclose(
        panel.curves["gru"].yData, np.maximum(first.sequence.grad_norms["gru"], 1e-30)
    )
    # A look without gradients (a preview) keeps the last real curves.
    panel.set_probe(prober.probe(0, 1, 1.0, gradients=False))
    assert panel.norms["gru"] is not None and not panel.notice.isVisible()
    assert "last/first step" in panel.plot.titleLabel.text


def test_temperature_slider_changes_the_sample(qtbot):
    _, x, prober = char_setup()
    panel = shown(qtbot, TextSamplingPanel())
    panel.set_structure(len(x))
    probe = prober.probe(3, 0, 0.0)
    panel.set_probe(probe)
    panel.flush()
    samples = probe.sequence.samples
    assert panel.sample() == samples[panel.temperature]
    seen = {}
    for stop in range(panel.slider.maximum() + 1):
        panel.slider.setValue(stop)
        panel.flush()
        seen[panel.temperature] = panel.text.toPlainText()
    assert set(seen) == set(sv.TEMPERATURES)
    for t, text in seen.items():
        assert text.endswith(samples[t]) and probe.sequence.prompt in text
    assert len(set(samples.values())) > 1  # the temperatures write different text
    qtbot.keyClick(panel.slider, Qt.Key.Key_Home)
    assert panel.temperature == sv.TEMPERATURES[0]
    assert "temperature 0.2" in panel.temperature_label.text()


def test_forecast_window_rollout_and_true_vs_predicted(qtbot):
    model, x, y, prober = forecast_setup()
    panel = shown(qtbot, ForecastPanel())
    panel.set_structure(len(x))
    probe = prober.probe(5, 0, 0.0)
    panel.set_probe(probe)
    panel.flush()
    f = probe.sequence.forecast
    np.testing.assert_allclose(panel.window_curve.yData, x[5, :, 0], rtol=1e-6)
    assert panel.target_points.yData[0] == pytest.approx(float(y[5, 0]))
    rolled = sv.rollout(model, x[5], 12)[:, 0]
    np.testing.assert_allclose(panel.rollout_curve.yData[1:], rolled, rtol=1e-5)
    assert panel.rollout_curve.xData[0] == 11  # joins the window's last step
    xs, ys = panel.points.getData()
    np.testing.assert_allclose(xs, f.true)
    np.testing.assert_allclose(ys, f.pred)
    assert "MSE" in panel.scatter.titleLabel.text


@pytest.mark.slow
def test_training_the_sine_forecast_example_feeds_every_recurrent_view(
    qtbot, main_window
):
    """File > New from Example, Train for 2 epochs: the worker's probes reach the
    recurrent views, which come forward; the text view says why it does not apply."""
    from nndesk.ui.training.controller import attach_training

    training = getattr(main_window, "training", None) or attach_training(main_window)
    view = training.view
    action = next(
        a
        for a in main_window.examples_menu.actions()
        if a.text() == "Sine forecast (LSTM)"
    )
    action.trigger()
    assert main_window.edit_setting("epochs", 2)
    with qtbot.waitSignal(training.sig_run_finished, timeout=60_000) as blocker:
        training.actions.train.trigger()
    assert blocker.args[0].status == "completed"
    probe = training.last_probe
    assert probe is not None and probe.sequence is not None
    assert set(probe.sequence.layers) == {"lstm_1"}
    assert probe.sequence.grad_norms["lstm_1"].shape == (32,)
    qtbot.waitUntil(view.hidden_state.isVisible, timeout=5_000)
    view.hidden_state.flush()
    assert view.hidden_state.image.image.shape[:2] == (32, 32)
    for key in ("gates", "gradient_time", "forecast", "text_sampling"):
        view.docks[key].raise_()
        panel = getattr(view, key)
        qtbot.waitUntil(panel.isVisible, timeout=5_000)
        panel.flush()
    assert not view.forecast.notice.isVisible()
    assert view.forecast.forecast.rollout.shape == (32,)
    assert "MSE" in view.forecast.scatter.titleLabel.text
    assert view.gradient_time.curves["lstm_1"].yData.shape == (32,)
    assert view.text_sampling.notice.isVisible()
    # Choosing a window in one view probes it for all.
    view.forecast.chooser.setValue(7)
    assert view.activations.sample_index == 7
    qtbot.waitUntil(lambda: training.last_probe.sample_index == 7, timeout=5_000)
    assert view.hidden_state.chooser.value() == 7
    assert main_window.errors == []
