"""Model training: fit/evaluate/train_on_batch, fused losses, seeds, callbacks, learning."""

from __future__ import annotations

import numpy as np
import pytest

from nndesk.engine import (
    BatchNorm,
    Callback,
    Dense,
    Dropout,
    EarlyStopping,
    Input,
    Model,
    NumericalError,
    Sequential,
    losses,
    optimizers,
    schedules,
)


def blobs(n: int = 60, classes: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    centers = rng.normal(scale=3, size=(classes, 2))
    x = centers[labels] + rng.normal(size=(n, 2))
    return x.astype(np.float32), labels


def spiral(n_per_class: int = 100, seed: int = 0):
    """Two interleaved spirals (the classic hard toy problem), labels 0/1."""
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.uniform(0, 1, n_per_class)) * 3 * np.pi
    arm = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (1.5 * np.pi)  # radius 2
    x = np.concatenate([arm, -arm]) + rng.normal(scale=0.02, size=(2 * n_per_class, 2))
    y = np.concatenate([np.zeros(n_per_class), np.ones(n_per_class)])
    return x.astype(np.float32), y


def classifier(seed=0, dtype=np.float32, dropout=0.0, bn=False) -> Model:
    layers = [Input((2,)), Dense(16, activation="relu")]
    if bn:
        layers.append(BatchNorm())
    if dropout:
        layers.append(Dropout(dropout))
    layers.append(Dense(3, activation="softmax"))
    return Sequential(layers, seed=seed, dtype=dtype)


def test_fit_history_evaluate_and_predict():
    x, y = blobs()
    m = classifier()
    m.compile(
        "sparse_categorical_crossentropy",
        optimizers.Adam(lr=0.05),
        metrics=["accuracy"],
    )
    hist = m.fit(x, y, epochs=15, batch_size=16, validation_data=(x[:20], y[:20]))
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 15 for v in hist.history.values())
    assert hist.epoch == list(range(15)) and m.history is hist
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    result = m.evaluate(x, y)
    assert set(result) == {"loss", "accuracy"}
    pred = m.predict(x)
    assert result["accuracy"] == pytest.approx(np.mean(pred.argmax(1) == y))
    ce = -np.mean(np.log(pred[np.arange(len(y)), y]))
    assert result["loss"] == pytest.approx(ce, rel=1e-4)
    assert result["accuracy"] > 0.8


def test_train_on_batch_returns_loss_and_metrics():
    x, y = blobs()
    m = classifier()
    m.compile("sparse_categorical_crossentropy", "sgd", metrics=["accuracy", "f1"])
    before = m.predict(x)
    logs = m.train_on_batch(x, y)
    assert set(logs) == {"loss", "accuracy", "f1"}
    assert logs["accuracy"] == pytest.approx(np.mean(before.argmax(1) == y))
    assert not np.array_equal(before, m.predict(x))


def _trained_weights(seed, kernel_path=None):
    x, y = blobs(50)
    m = classifier(seed=seed, dropout=0.3, bn=True)
    m.compile("sparse_categorical_crossentropy", "adam")
    m.fit(x, y, epochs=3, batch_size=8, shuffle=True)
    return m.get_weights()


def test_same_seed_gives_bit_identical_training():
    a, b = _trained_weights(3), _trained_weights(3)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    c = _trained_weights(4)
    assert not np.array_equal(a["dense_1/kernel"], c["dense_1/kernel"])


def test_numba_and_numpy_paths_train_alike():
    from nndesk.engine import kernels

    results = []
    for enabled in (False, True):
        kernels.set_numba_enabled(enabled)
        try:
            x, y = blobs(40)
            m = Sequential(
                [
                    Input((2,)),
                    Dense(8, activation="gelu"),
                    Dense(8, activation="silu"),
                    Dense(8, activation="elu"),
                    Dropout(0.2),
                    Dense(1, activation="sigmoid"),
                ],
                seed=0,
            )
            m.compile("binary_crossentropy", "adam")
            m.fit(x, (y > 0).astype(np.float32), epochs=2, batch_size=10)
            results.append(m.get_weights())
        finally:
            kernels.set_numba_enabled(None)
    for key in results[0]:
        np.testing.assert_allclose(
            results[0][key], results[1][key], rtol=1e-4, atol=1e-5
        )


@pytest.mark.parametrize(
    ("activation", "loss", "targets"),
    [
        ("softmax", "categorical_crossentropy", lambda y: np.eye(3)[y]),
        ("softmax", "sparse_categorical_crossentropy", lambda y: y),
        ("sigmoid", "binary_crossentropy", lambda y: np.eye(3)[y]),
    ],
)
def test_fused_loss_matches_unfused(activation, loss, targets):
    x, y = blobs(12)
    t = targets(y)

    def step(fuse: bool):
        m = Sequential(
            [Input((2,)), Dense(4, activation="tanh"), Dense(3, activation=activation)],
            seed=0,
            dtype=np.float64,
        )
        fn = losses.get(loss)
        if not fuse:
            fn.fuses_with = None
        m.compile(fn, optimizers.SGD(lr=0.0))
        assert m._fused == [fuse]
        logs = m.train_on_batch(x, t)
        return logs["loss"], m.gradients()

    loss_f, grads_f = step(True)
    loss_u, grads_u = step(False)
    assert loss_f == pytest.approx(loss_u, rel=1e-10)
    for key in grads_f:
        np.testing.assert_allclose(grads_f[key], grads_u[key], rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize(
    "activation,loss",
    [("softmax", "categorical_crossentropy"), ("sigmoid", "binary_crossentropy")],
)
def test_fused_loss_is_finite_on_extreme_logits(activation, loss):
    m = Sequential([Input((2,)), Dense(2, activation=activation, name="out")], seed=0)
    m.compile(loss, optimizers.SGD(lr=0.1))
    m.set_weights(
        {
            "out/kernel": np.array([[1000.0, -1000.0], [0.0, 0.0]]),
            "out/bias": np.zeros(2),
        }
    )
    x = np.array([[1.0, 0.0], [-1.0, 0.0]], dtype=np.float32)
    y = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=np.float32)  # confidently wrong
    logs = m.train_on_batch(x, y)
    assert np.isfinite(logs["loss"]) and logs["loss"] > 100
    assert all(np.all(np.isfinite(g)) for g in m.gradients().values())
    assert all(np.all(np.isfinite(w)) for w in m.get_weights().values())
    assert np.all(
        np.isin(m.predict(x), [0.0, 1.0])
    )  # predict still gives probabilities


def test_regularization_is_in_loss_and_gradient():
    x, y = blobs(10)

    def run(l2):
        m = Sequential(
            [Input((2,)), Dense(3, activation="softmax", l2=l2, name="d")],
            seed=0,
            dtype=np.float64,
        )
        m.compile("sparse_categorical_crossentropy", optimizers.SGD(lr=0.0))
        logs = m.train_on_batch(x, y)
        return m, logs["loss"], m.gradients()["d/kernel"].copy()

    m, loss_reg, grad_reg = run(0.1)
    _, loss, grad = run(0.0)
    w = m.get_weights()["d/kernel"]
    assert loss_reg == pytest.approx(loss + 0.1 * np.sum(w**2), rel=1e-12)
    np.testing.assert_allclose(grad_reg, grad + 0.2 * w, rtol=1e-12)
    assert m.evaluate(x, y)["loss"] == pytest.approx(loss_reg, rel=1e-12)


def test_divergence_raises_and_keeps_weights():
    m = Sequential([Input((1,)), Dense(1, name="d")], seed=0)
    m.compile("mse", "sgd")
    m.set_weights({"d/kernel": np.array([[1e30]]), "d/bias": np.zeros(1)})
    before = m.get_weights()
    with pytest.raises(
        NumericalError, match="Epoch 1, batch 1: The training loss became inf"
    ):
        m.fit(np.ones((4, 1)) * 1e10, np.zeros((4, 1)), epochs=1)
    for key, value in m.get_weights().items():
        np.testing.assert_array_equal(value, before[key])


class Recorder(Callback):
    def __init__(self, stop_at_batch=None):
        super().__init__()
        self.events = []
        self.stop_at_batch = stop_at_batch

    def on_train_begin(self, logs=None):
        self.events.append("train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(f"epoch_begin {epoch}")

    def on_batch_end(self, batch, logs=None):
        self.events.append(f"batch_end {batch} {logs['size']:.0f}")
        if batch == self.stop_at_batch:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(f"epoch_end {epoch}")

    def on_train_end(self, logs=None):
        self.events.append("train_end")


def test_callback_hooks_and_stop_training():
    x, y = blobs(10)
    m = classifier()
    m.compile("sparse_categorical_crossentropy", "sgd")
    rec = Recorder()
    m.fit(x, y, epochs=2, batch_size=4, callbacks=[rec])
    assert rec.events == [
        "train_begin",
        "epoch_begin 0",
        "batch_end 0 4",
        "batch_end 1 4",
        "batch_end 2 2",
        "epoch_end 0",
        "epoch_begin 1",
        "batch_end 0 4",
        "batch_end 1 4",
        "batch_end 2 2",
        "epoch_end 1",
        "train_end",
    ]
    assert rec.model is m
    stopper = Recorder(stop_at_batch=1)
    hist = m.fit(x, y, epochs=5, batch_size=4, callbacks=[stopper])
    assert stopper.events[-3:] == ["batch_end 1 4", "epoch_end 0", "train_end"]
    assert len(hist.history["loss"]) == 1


def test_early_stopping_restores_best_weights():
    x, y = blobs(30)
    m = classifier()
    m.compile("sparse_categorical_crossentropy", optimizers.SGD(lr=0.0))
    stop = EarlyStopping(monitor="loss", patience=2, restore_best_weights=True)
    hist = m.fit(x, y, epochs=20, callbacks=[stop], shuffle=False)
    # With lr 0 the loss never improves after the first epoch: epochs 1 and 2 are
    # the two without improvement that patience allows, so training ends after 2.
    assert len(hist.history["loss"]) == 3 and stop.stopped_epoch == 2
    assert stop.best_epoch == 0


def test_lr_schedule_is_applied_per_epoch():
    x, y = blobs(10)
    m = classifier()
    m.compile(
        "sparse_categorical_crossentropy",
        optimizers.SGD(lr=0.1),
        lr_schedule=schedules.StepDecay(2, gamma=0.5),
    )
    hist = m.fit(x, y, epochs=5)
    np.testing.assert_allclose(hist.history["lr"], [0.1, 0.1, 0.05, 0.05, 0.025])


def test_a_per_step_schedule_sets_the_rate_before_every_batch():
    """10 samples in batches of 4: 3 batches an epoch, 2 epochs; a callback's
    on_batch_begin sees the rate the step runs at (and may still change it)."""
    x, y = blobs(10)
    m = classifier()
    schedule = schedules.WarmupCosine(warmup_steps=2, total_epochs=2, min_lr=0.01)
    m.compile(
        "sparse_categorical_crossentropy", optimizers.SGD(lr=0.1), lr_schedule=schedule
    )

    class Rates(Callback):
        def __init__(self):
            super().__init__()
            self.seen = []

        def on_batch_begin(self, batch, logs=None):
            self.seen.append(self.model.optimizer.lr)

    rates = Rates()
    hist = m.fit(x, y, epochs=2, batch_size=4, callbacks=[rates])
    expected = [schedule.rate(e, b, 3, 0.1) for e in range(2) for b in range(3)]
    assert rates.seen == expected
    assert expected[:3] == pytest.approx([0.1 / 3, 0.2 / 3, 0.1])  # 2 warm-up steps
    assert hist.history["lr"] == [expected[2], expected[5]]  # each epoch's last
    # initial_epoch goes on counting steps where the first fit stopped.
    again = Rates()
    m.fit(x, y, epochs=2, initial_epoch=1, batch_size=4, callbacks=[again])
    assert again.seen == expected[3:]


def test_multi_output_training_logs():
    a = Input((2,))
    h = Dense(8, activation="relu")(a)
    probs = Dense(3, activation="softmax", name="probs")(h)
    value = Dense(1, name="value")(h)
    m = Model(a, [probs, value], seed=0)
    m.compile(
        {"probs": "sparse_categorical_crossentropy", "value": "mse"},
        "adam",
        metrics={"probs": ["accuracy"], "value": ["mae"]},
    )
    x, y = blobs(20)
    target = (x[:, :1] * 2).astype(np.float32)
    logs = m.train_on_batch(x, [y, target])
    assert set(logs) == {
        "loss",
        "probs_loss",
        "value_loss",
        "probs_accuracy",
        "value_mae",
    }
    assert logs["loss"] == pytest.approx(
        logs["probs_loss"] + logs["value_loss"], rel=1e-6
    )
    hist = m.fit(x, {"probs": y, "value": target}, epochs=2)
    assert {"loss", "probs_loss", "value_loss"} <= set(hist.history)


def test_spiral_is_learned_to_99_percent():
    x, y = spiral(100)
    m = Sequential(
        [
            Input((2,)),
            Dense(16, activation="tanh"),
            Dense(16, activation="tanh"),
            Dense(1, activation="sigmoid"),
        ],
        seed=0,
    )
    m.compile("binary_crossentropy", optimizers.Adam(lr=0.02), metrics=["accuracy"])
    hist = m.fit(x, y, epochs=400, batch_size=32)
    assert hist.history["accuracy"][-1] >= 0.99
    assert m.evaluate(x, y)["accuracy"] >= 0.99
