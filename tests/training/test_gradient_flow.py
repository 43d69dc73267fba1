"""Gradient flow and dead units (training.gradient_flow): the measurements, the
classification and the time budget, on real training runs."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from training_helpers import chain_document, spiral_document

from nndesk.training import gradient_flow as gf
from nndesk.training.session import TrainingSession

EVERY_BATCH = {"min_interval": 0.0, "max_share": math.inf}
"""No time budget: a measurement at every batch."""


def _run(session: TrainingSession, flow_kwargs=None, **overrides):
    dataset = session.load_dataset()
    data = session.prepare(dataset)
    reports: list[gf.FlowReport] = []
    flow = gf.GradientFlow(
        session.model,
        data.x_train,
        int(session.settings["batch_size"]),
        reports.append,
        **(EVERY_BATCH if flow_kwargs is None else flow_kwargs),
    )
    session.make_trainer(data, callbacks=[flow], **overrides).run()
    return flow, reports


def test_sgd_update_ratio_is_learning_rate_times_gradient_norm():
    # Plain SGD moves each weight by -lr * g: |Δw| = lr |g| exactly.
    doc = spiral_document(optimizer="sgd", learning_rate=0.05, epochs=1, momentum=0.0)
    flow, reports = _run(TrainingSession(doc))
    assert len(reports) == 10  # every batch of the epoch was measured
    for report in reports:
        assert [e.name for e in report.layers] == ["dense_1", "dense_2", "dense_3"]
        for e in report.layers:
            assert e.step_grad_norm > 0 and e.weight_norm > 0
            assert e.step_update_ratio * e.weight_norm == pytest.approx(
                0.05 * e.step_grad_norm, rel=1e-4
            )
    assert reports[-1].step == pytest.approx(1.0)


def test_gradient_norm_is_the_models_last_gradient():
    doc = spiral_document(epochs=1)
    session = TrainingSession(doc)
    flow, reports = _run(session)
    grads = session.model.gradients()
    last = reports[-1].layer("dense_2")
    want = math.sqrt(
        sum(float(np.sum(grads[f"dense_2/{k}"] ** 2)) for k in ("kernel", "bias"))
    )
    assert last.step_grad_norm == pytest.approx(want, rel=1e-6)
    # The reported norm is the median of the last five measurements.
    norms = [r.layer("dense_2").step_grad_norm for r in reports[-5:]]
    assert last.grad_norm == pytest.approx(float(np.median(norms)), rel=1e-12)


def test_dead_units_are_counted_on_a_whole_batch():
    doc = chain_document(
        [
            ("Dense", {"units": 12, "activation": "relu"}),
            ("Dense", {"units": 1, "activation": "sigmoid"}),
        ],
        "binary_crossentropy",
        dataset="spiral:n=200,noise=0.1",
        batch_size=20,
        epochs=1,
        learning_rate=1e-9,
        optimizer="sgd",
    )
    session = TrainingSession(doc)
    # Five units get a bias so negative that no input can make them fire.
    bias = session.model.layer("dense_1").params["bias"]
    bias[:5] = -1e4
    flow, reports = _run(session)
    entry = reports[-1].layer("dense_1")
    assert entry.dead == 5 and entry.units == 12
    assert reports[-1].batch == 20
    assert reports[-1].layer("dense_2").dead is None  # sigmoid units cannot die
    assert gf.dead_units(np.array([[0.0, 1.0, -2.0], [0.0, 0.0, -1.0]])) == 2


def test_dead_majority_warns_with_a_suggestion():
    entry = gf.LayerFlow("dense_1", 0.1, 1.0, 1e-3, dead=9, units=12)
    assert entry.warning() == (
        "Layer 'dense_1' has 9 of 12 ReLU units dead (no output above zero for a "
        f"whole batch): {gf.SUGGEST_DEAD}."
    )
    assert gf.LayerFlow("dense_1", 0.1, 1.0, 1e-3, dead=6, units=12).warning() == ""


@pytest.mark.parametrize(
    ("grad", "ratio", "largest", "status", "suggestion"),
    [
        (0.5, 1e-3, 1.0, "ok", ""),
        (float("nan"), 1e-3, 1.0, "exploding", gf.SUGGEST_NORMALISE),
        (500.0, 1e-3, 500.0, "exploding", gf.SUGGEST_NORMALISE),
        (0.5, 0.5, 1.0, "exploding", gf.SUGGEST_LOWER_LR),
        (1e-5, 1e-3, 1.0, "vanishing", gf.SUGGEST_INIT),
        (0.5, 1e-8, 1.0, "vanishing", gf.SUGGEST_RAISE_LR),
        (0.0, 0.0, 0.0, "vanishing", gf.SUGGEST_INIT),
    ],
)
def test_classify_thresholds(grad, ratio, largest, status, suggestion):
    assert gf.classify(grad, ratio, largest) == (status, suggestion)


def test_deep_sigmoid_stack_vanishes_at_the_first_layer():
    layers = [("Dense", {"units": 16, "activation": "sigmoid"}) for _ in range(10)]
    doc = chain_document(
        [*layers, ("Dense", {"units": 1, "activation": "sigmoid"})],
        "binary_crossentropy",
        dataset="spiral:n=200,noise=0.1",
        batch_size=20,
        epochs=1,
        optimizer="sgd",
        learning_rate=0.1,
    )
    flow, reports = _run(TrainingSession(doc))
    first = reports[-1].layers[0]
    assert first.status == "vanishing" and first.suggestion == gf.SUGGEST_INIT
    assert reports[-1].layers[-1].status == "ok"
    (name, sentence), *_ = reports[-1].warnings()
    assert name == first.name
    assert sentence.startswith(f"Layer '{first.name}' has vanishing gradients (norm ")
    assert sentence.endswith(f": {gf.SUGGEST_INIT}.")


def test_huge_learning_rate_explodes():
    doc = spiral_document(optimizer="sgd", learning_rate=10.0, epochs=1)
    flow, reports = _run(TrainingSession(doc))
    statuses = {e.name: e.status for e in reports[-1].layers}
    assert "exploding" in statuses.values()
    bad = [e for e in reports[-1].layers if e.status == "exploding"]
    assert all(e.suggestion in (gf.SUGGEST_LOWER_LR, gf.SUGGEST_NORMALISE) for e in bad)


def test_time_budget_keeps_measuring_under_two_percent():
    # A real clock: the interval between measurements adapts to their cost. The
    # run is long enough (about 1 s) for 2% of it to pay for several measurements
    # on a loaded machine (40 epochs allowed only one in the full suite).
    doc = spiral_document(epochs=150, batch_size=8)
    started = time.perf_counter()
    flow, reports = _run(TrainingSession(doc), flow_kwargs={"min_interval": 0.05})
    elapsed = time.perf_counter() - started
    assert len(reports) >= 2
    assert flow.share <= gf.MAX_SHARE * 1.25
    assert reports[-1].share <= gf.MAX_SHARE * 1.5
    assert flow.measurements <= elapsed / 0.05 + 1


class _Clock:
    """Time that moves only when the test says so, and by 1 ms per reading (the
    readings inside a measurement make its cost)."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        self.t += 0.001
        return self.t


def test_budget_rule_keeps_the_share_under_two_percent_at_any_speed():
    doc = spiral_document(epochs=1)
    session = TrainingSession(doc)
    data = session.prepare(session.load_dataset())
    model = session.model
    clock = _Clock()
    flow = gf.GradientFlow(model, data.x_train, 16, clock=clock, min_interval=0.0)
    x, y = data.x_train[:16], data.y_train[:16]
    for batch in range(3000):
        flow.on_batch_begin(batch)
        model.train_on_batch(x, y)
        flow.on_batch_end(batch, {"batches": 10})
        clock.t += 0.010  # a 10 ms batch
        if batch >= 500:
            assert flow.share <= gf.MAX_SHARE
    # A measurement here costs 2-3 ms: about one every 12 batches keeps 2%.
    assert 3000 / 14 < flow.measurements < 3000 / 10


def test_dead_channels_of_a_convolution():
    doc = chain_document(
        [
            ("Conv2D", {"filters": 6, "kernel_size": 3, "activation": "relu"}),
            ("Flatten", {}),
            ("Dense", {"units": 10, "activation": "softmax"}),
        ],
        "sparse_categorical_crossentropy",
        input_shape=(8, 8, 1),
    )
    session = TrainingSession(doc)
    conv = session.model.layer("conv2d_1")
    conv.params["bias"][[1, 4]] = -1e4
    x = np.random.default_rng(0).standard_normal((40, 8, 8, 1)).astype(np.float32)
    y = np.arange(40) % 10
    reports: list[gf.FlowReport] = []
    flow = gf.GradientFlow(session.model, x, 20, reports.append, **EVERY_BATCH)
    session.model.fit(x, y, epochs=1, batch_size=20, callbacks=[flow])
    entry = reports[-1].layer("conv2d_1")
    assert (entry.dead, entry.units) == (2, 6)
    assert entry.grad_norm > 0


def test_measuring_leaves_training_bit_for_bit_the_same(numpy_kernels):
    def document():
        return chain_document(
            [
                ("Dense", {"units": 12, "activation": "relu"}),
                ("BatchNorm", {}),
                ("Dropout", {"rate": 0.3}),
                ("Dense", {"units": 1, "activation": "sigmoid"}),
            ],
            "binary_crossentropy",
            dataset="spiral:n=200,noise=0.1",
            batch_size=16,
            epochs=3,
        )

    plain = TrainingSession(document())
    plain.fit()
    watched = TrainingSession(document())
    flow, reports = _run(watched)
    assert len(reports) == 3 * 10
    mine, theirs = watched.model.get_weights(), plain.model.get_weights()
    assert mine.keys() == theirs.keys()
    for key in mine:
        np.testing.assert_array_equal(mine[key], theirs[key], err_msg=key)
