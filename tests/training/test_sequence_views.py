"""The recurrent views' numbers (training.sequence_views) against hand computations."""

from __future__ import annotations

import numpy as np
import pytest

from nndesk.engine.errors import ConfigError
from nndesk.engine.layers import GRU, LSTM, Dense, Embedding, Input, SimpleRNN
from nndesk.engine.model import Model
from nndesk.training import sequence_views as sv


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm_model(units=3, steps=4, features=2, seed=0, **kw):
    x = Input((steps, features), name="x")
    h = LSTM(units, name="lstm", **kw)(x)
    y = Dense(1, name="out")(h)
    model = Model(x, y, seed=seed, dtype=np.float64)
    model.forward(np.zeros((1, steps, features)))  # built, as a training model is
    return model


def test_lstm_trace_matches_the_equations_by_hand():
    model = lstm_model()
    layer = model.layer("lstm")
    x = np.random.default_rng(1).normal(size=(2, 4, 2))
    model.forward(x)
    got = layer.trace()
    w, r = layer.params["kernel"], layer.params["recurrent_kernel"]
    b = layer.params["bias"] + layer.params["recurrent_bias"]
    u = 3
    h, c = np.zeros((2, u)), np.zeros((2, u))
    for t in range(4):
        z = x[:, t] @ w + h @ r + b
        i, f = sigmoid(z[:, :u]), sigmoid(z[:, u : 2 * u])
        g, o = np.tanh(z[:, 2 * u : 3 * u]), sigmoid(z[:, 3 * u :])
        c = f * c + i * g
        h = o * np.tanh(c)
        for name, want in (("input", i), ("forget", f), ("output", o)):
            np.testing.assert_allclose(got[name][:, t], want, atol=1e-12)
        np.testing.assert_allclose(got["cell"][:, t], c, atol=1e-12)
        np.testing.assert_allclose(got["hidden"][:, t], h, atol=1e-12)


def test_gru_trace_reports_reset_and_update_gates():
    x = Input((3, 1))
    layer = GRU(2, bidirectional=True, name="gru")
    model = Model(x, Dense(1)(layer(x)), seed=0, dtype=np.float64)
    xs = np.random.default_rng(0).normal(size=(2, 3, 1))
    model.forward(xs)
    got = layer.trace()
    assert got["hidden"].shape == (2, 3, 4) and "cell" not in got
    w, r = layer.params["kernel"], layer.params["recurrent_kernel"]
    z = xs[:, 0] @ w + layer.params["bias"] + layer.params["recurrent_bias"]
    # First step from a zero state: r = sigmoid(x W_r + b_ir + b_hr).
    np.testing.assert_allclose(got["reset"][:, 0, :2], sigmoid(z[:, :2]), atol=1e-12)
    np.testing.assert_allclose(got["update"][:, 0, :2], sigmoid(z[:, 2:4]), atol=1e-12)
    assert r.shape == (2, 6)


def test_trace_before_any_forward_pass_is_one_clear_error():
    layer = SimpleRNN(2, name="rnn")
    layer.build([(3, 1)], np.random.default_rng(0))
    with pytest.raises(ConfigError, match="rnn.*no forward pass"):
        layer.trace()


def test_gate_saturation_counts_by_hand():
    gate = np.array([[[0.05, 0.5], [0.95, 0.92], [0.5, 0.08], [0.02, 0.99]]])
    shut, open_ = sv.gate_saturation(gate)
    np.testing.assert_allclose(shut, [2 / 4, 1 / 4])
    np.testing.assert_allclose(open_, [1 / 4, 2 / 4])


def test_step_gradient_norms_by_hand():
    g = np.zeros((2, 3, 2))
    g[0, 0] = [3, 4]  # norm 5
    g[1, 0] = [0, 1]  # norm 1
    g[1, 2] = [6, 8]  # norm 10
    np.testing.assert_allclose(sv.step_gradient_norms(g), [3.0, 0.0, 5.0])


def test_temperature_reweights_probabilities():
    p = np.array([0.5, 0.3, 0.2])
    np.testing.assert_allclose(sv.temperature_probabilities(p, 1.0), p)
    sharp = sv.temperature_probabilities(p, 0.5)
    np.testing.assert_allclose(sharp, p**2 / (p**2).sum())
    assert sv.temperature_probabilities(p, 0.01)[0] > 0.999


def char_model(vocab=5, window=6, seed=0):
    x = Input((window,), dtype="int", name="x")
    h = Embedding(vocab, 4, name="emb")(x)
    h = LSTM(8, name="lstm")(h)
    y = Dense(vocab, activation="softmax", name="out")(h)
    model = Model(x, y, seed=seed)
    model.forward(np.zeros((1, window)))
    return model


def test_sample_text_draws_from_the_models_probabilities():
    """At a tiny temperature the sample is the greedy continuation, computed here
    step by step with the window slid by hand."""
    model = char_model()
    vocab = list("abcde")
    prompt = np.array([0, 1, 2, 3, 4, 0])
    texts = sv.sample_text(
        model, vocab, prompt, (1e-4, 1.0), 10, np.random.default_rng(0)
    )
    window = prompt.astype(np.float32)
    greedy = []
    for _ in range(10):
        nxt = int(np.asarray(model.forward(window[None])[0]).argmax())
        greedy.append(vocab[nxt])
        window = np.append(window[1:], nxt)
    assert texts[0] == "".join(greedy)
    assert len(texts[1]) == 10 and set(texts[1]) <= set(vocab)


def test_rollout_feeds_predictions_back():
    model = lstm_model(steps=4, features=1)
    window = np.arange(4.0)[:, None] / 4
    got = sv.rollout(model, window, 3)
    w = window.copy()
    for k in range(3):
        nxt = float(np.asarray(model.forward(w[None])[0])[0, 0])
        assert got[k, 0] == pytest.approx(nxt, abs=1e-12)
        w = np.vstack([w[1:], [[nxt]]])


def test_token_labels_use_the_vocabulary_or_values():
    assert sv.token_labels(np.array([2, 0, 1]), ["a", "b", "c"]) == ("c", "a", "b")
    assert sv.token_labels(np.array([[1.0], [0.0], [0.25]])) == ("1", "0", "0.25")


def test_prober_reports_every_view_of_a_forecaster():
    rng = np.random.default_rng(0)
    model = lstm_model(units=5, steps=6, features=1)
    x = rng.normal(size=(40, 6, 1))
    y = x.sum(axis=1)
    prober = sv.SequenceProber(model, x, y, np.arange(40), task="regression")
    probe = prober.probe(3, epoch=0)
    trace = probe.layers["lstm"]
    assert trace.kind == "LSTM"
    assert trace.hidden.shape == trace.cell.shape == (6, 5)
    assert set(trace.gates) == {"input", "forget", "output"}
    # The chosen sequence is row 0 of the pass the trace comes from.
    model.forward(x[3:4])
    np.testing.assert_allclose(trace.hidden, model.layer("lstm").trace()["hidden"][0])
    assert probe.tokens == sv.token_labels(x[3])
    assert probe.grad_norms["lstm"].shape == (6,)
    assert np.all(probe.grad_norms["lstm"] > 0)
    f = probe.forecast
    assert f is not None and f.rollout.shape == (6,)
    assert f.target[0] == pytest.approx(y[3, 0])
    assert len(f.true) == len(f.pred) == 40
    assert not probe.samples


def test_gradient_through_time_equals_the_input_gradient_of_the_score():
    """For a recurrent layer on the model's input, the per-step norm is that of
    d(output)/d(x_t), checked by central differences."""
    model = lstm_model(units=3, steps=5, features=2)
    x = np.random.default_rng(2).normal(size=(33, 5, 2))
    prober = sv.SequenceProber(model, x, None, np.arange(1, 33), task="regression")
    norms = prober.probe(0, epoch=0).grad_norms["lstm"]
    eps, want = 1e-6, np.zeros(5)
    for row in range(1, 33):
        for t in range(5):
            g = np.zeros(2)
            for f in range(2):
                up, down = x[row].copy(), x[row].copy()
                up[t, f] += eps
                down[t, f] -= eps
                diff = (
                    model.forward(up[None])[0][0, 0]
                    - model.forward(down[None])[0][0, 0]
                )
                g[f] = diff / (2 * eps)
            want[t] += np.linalg.norm(g) / 32
    np.testing.assert_allclose(norms, want, rtol=1e-5)


def test_prober_samples_text_once_per_epoch():
    model = char_model(vocab=5, window=6)
    x = np.random.default_rng(0).integers(0, 5, size=(20, 6)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 5, size=20)
    prober = sv.SequenceProber(
        model, x, y, np.arange(20), task="classification", vocabulary=list("abcde")
    )
    first = prober.probe(2, epoch=0)
    assert set(first.samples) == set(sv.TEMPERATURES)
    assert all(len(t) == sv.SAMPLE_LENGTH for t in first.samples.values())
    assert first.prompt == "".join(sv.token_labels(x[2], list("abcde")))
    again = prober.probe(2, epoch=0)
    assert again.samples == first.samples  # same epoch: not drawn again
    assert first.forecast is None
    assert "emb" not in first.layers and "lstm" in first.grad_norms
