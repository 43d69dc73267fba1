"""The attention views' numbers (issue 15), checked by hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nndesk.engine.layers import Dense, Embedding, Input
from nndesk.engine.layers.attention import MultiHeadAttention
from nndesk.engine.model import Model
from nndesk.training.attention_views import (
    AttentionProbe,
    AttentionProber,
    HeadAblator,
    Timeline,
    attention_layers,
    head_entropy,
    score,
)


def test_entropy_of_one_hot_and_uniform_rows() -> None:
    a = np.zeros((2, 2, 3, 4))
    a[:, 0, :, 1] = 1.0  # head 0 looks at one key
    a[:, 1] = 0.25  # head 1 spreads over four
    assert np.allclose(head_entropy(a), [0.0, math.log(4)])


def test_entropy_averages_queries_and_batch() -> None:
    a = np.zeros((1, 1, 2, 2))
    a[0, 0, 0] = [1.0, 0.0]
    a[0, 0, 1] = [0.5, 0.5]
    assert head_entropy(a)[0] == pytest.approx(math.log(2) / 2)


def test_score_by_hand() -> None:
    p = np.array([[[0.7, 0.3], [0.2, 0.8]], [[0.6, 0.4], [0.9, 0.1]]])
    y = np.array([[0, 1], [1, 0]])
    loss, accuracy, sequences = score(p, y)
    assert loss == pytest.approx(-np.log([0.7, 0.8, 0.4, 0.9]).mean())
    assert accuracy == 0.75 and sequences == 0.5
    loss, accuracy, sequences = score(np.array([[0.1, 0.9]]), np.array([1]))
    assert loss == pytest.approx(-math.log(0.9)) and accuracy == 1.0
    assert sequences is None


def _probe(step: float) -> AttentionProbe:
    return AttentionProbe(
        epoch=int(step),
        step=step,
        index=0,
        tokens=("a",),
        maps={"att": np.zeros((1, 1, 1))},
        entropy={"att": np.array([step])},
    )


def test_timeline_is_bounded_spans_the_run_and_keeps_the_newest() -> None:
    t = Timeline(capacity=8)
    for k in range(100):
        t.add(_probe(float(k)))
    assert len(t) <= 8
    steps = t.steps
    assert steps[-1] == 99.0 and steps[0] == 0.0
    assert steps == sorted(steps)
    gaps = np.diff(steps[:-1])
    assert len(t) >= 4 and np.all(gaps == gaps[0])  # evenly thinned, not dropped
    x, e = t.entropy_curves("att")
    assert np.array_equal(x, steps) and np.array_equal(e[:, 0], steps)


def test_timeline_replaces_a_snapshot_of_the_same_step() -> None:
    t = Timeline(capacity=4)
    t.add(_probe(1.0))
    again = _probe(1.0)
    t.add(again)
    assert len(t) == 1 and t[0] is again


def _model() -> Model:
    ids = Input((3,), dtype="int")
    h = Embedding(4, 4, name="emb")(ids)
    h = MultiHeadAttention(2, name="att")(h)
    out = Dense(4, activation="softmax", name="head")(h)
    return Model(ids, out, seed=0)


def test_prober_maps_are_the_layer_attention_of_the_sequence() -> None:
    model = _model()
    x = np.array([[0, 1, 2], [3, 2, 1], [1, 1, 1]], dtype=np.float32)
    prober = AttentionProber(model, x, np.array([1, 2]), vocabulary="abcd")
    probe = prober.probe(index=1, epoch=0, step=0.5)
    assert probe.tokens == ("d", "c", "b")
    (layer,) = attention_layers(model)
    model.forward(x[[1]])
    assert np.allclose(probe.maps["att"], layer.attention_weights[0], atol=1e-6)
    assert np.allclose(probe.maps["att"].sum(-1), 1.0, atol=1e-5)
    model.forward(x[[1, 2]])
    assert np.allclose(
        probe.entropy["att"], head_entropy(layer.attention_weights), atol=1e-5
    )
    assert probe.heads == [("att", 0), ("att", 1)]


def test_ablation_mutes_heads_on_its_own_model_and_leaves_weights() -> None:
    trained = _model()
    weights = trained.get_weights()
    x = np.array([[0, 1, 2], [3, 2, 1], [1, 1, 3], [2, 0, 0]], dtype=np.float32)
    y = np.array([[0, 1, 2], [1, 2, 3], [3, 1, 1], [0, 0, 2]])
    ablator = HeadAblator(_model, x, y)
    result = ablator.run(weights, [("att", 1)], step=2.0)
    base = score(trained.predict(x), y)
    assert (result.loss, result.accuracy) == pytest.approx(base[:2])
    (layer,) = attention_layers(trained)
    layer.head_mask = np.array([1.0, 0.0])
    cut = score(trained.predict(x), y)
    assert (result.muted_loss, result.muted_accuracy) == pytest.approx(cut[:2])
    assert result.muted_loss != pytest.approx(result.loss)
    assert result.loss_change == pytest.approx(cut[0] - base[0])
    assert result.muted_sequence_accuracy == cut[2] and result.rows == 4
    assert all(np.array_equal(v, weights[k]) for k, v in trained.get_weights().items())
    # The ablator's own model is left unmuted.
    assert all(m.head_mask is None for m in attention_layers(ablator._model))


def test_ablation_of_an_unknown_head_is_refused() -> None:
    ablator = HeadAblator(_model, np.zeros((1, 3), np.float32), np.zeros((1, 3)))
    with pytest.raises(KeyError):
        ablator.run(_model().get_weights(), [("att", 2)])
