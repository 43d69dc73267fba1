"""The training loop: determinism, resuming, schedules, early stopping, NaN, logs."""

from __future__ import annotations

import re

import numpy as np
import pytest
from training_helpers import chain_document, compiled_with_data, spiral_document

from nndesk.engine.errors import ConfigError, NumericalError
from nndesk.training.callbacks import LambdaCallback, ProgressPrinter, format_epoch_line
from nndesk.training.compile import compile_network, transfer_weights
from nndesk.training.early_stopping import EarlyStopping, early_stopping_from_settings
from nndesk.training.trainer import TrainConfig, Trainer


def _train(doc, epochs, **kwargs):
    net, data = compiled_with_data(doc)
    trainer = Trainer(
        net.model,
        data,
        TrainConfig.from_settings(net.settings, epochs=epochs),
        **kwargs,
    )
    trainer.run()
    return trainer


def _same_weights(a, b):
    assert a.keys() == b.keys()
    return all(np.array_equal(a[k], b[k]) for k in a)


def test_same_seed_gives_bit_identical_weights_and_another_seed_does_not():
    a = _train(spiral_document(seed=7), 3).model.get_weights()
    b = _train(spiral_document(seed=7), 3).model.get_weights()
    c = _train(spiral_document(seed=8), 3).model.get_weights()
    assert _same_weights(a, b)
    assert not _same_weights(a, c)


def test_dropout_runs_are_deterministic_too():
    doc = chain_document(
        [
            ("Dense", {"units": 16, "activation": "relu"}),
            ("Dropout", {"rate": 0.5}),
            ("Dense", {"units": 1, "activation": "sigmoid"}),
        ],
        "binary_crossentropy",
        dataset="moons:n=120",
        batch_size=16,
        seed=3,
    )
    a = _train(doc, 2).model.get_weights()
    b = _train(doc.copy(), 2).model.get_weights()
    assert _same_weights(a, b)


def test_resuming_continues_history_and_matches_one_long_run():
    """3 epochs, then (weights, optimizer state, history) into a new model, then 2
    more, equals 5 epochs at once, bit for bit."""
    doc = spiral_document(seed=1, lr_schedule="step", lr_step_size=2, lr_gamma=0.5)
    long_run = _train(doc, 5)

    first = _train(doc, 3)
    net, data = compiled_with_data(doc)  # a fresh model, as after loading a file
    kept = transfer_weights(first.model.get_weights(), net.model)
    assert kept == ["dense_1", "dense_2", "dense_3"]
    net.model.optimizer.set_state(first.model.optimizer.get_state())
    second = Trainer(
        net.model,
        data,
        TrainConfig.from_settings(net.settings, epochs=2),
        history=first.history.as_dict(),
    )
    epochs = []
    second.callbacks.append(
        LambdaCallback(on_epoch_end=lambda e, logs: epochs.append(e))
    )
    second.run()

    assert epochs == [3, 4]
    assert second.history.epochs == 5
    assert second.history["lr"] == [0.01, 0.01, 0.005, 0.005, 0.0025]
    assert second.history.as_dict() == long_run.history.as_dict()
    assert _same_weights(second.model.get_weights(), long_run.model.get_weights())


def test_schedule_sets_the_rate_of_each_epoch():
    trainer = _train(spiral_document(lr_schedule="exponential", lr_gamma=0.5), 3)
    assert trainer.history["lr"] == pytest.approx([0.01, 0.005, 0.0025])


def test_batch_and_epoch_logs_carry_progress():
    batch_logs, epoch_logs = [], []
    trainer = _train(
        spiral_document(),
        2,
        callbacks=[
            LambdaCallback(
                on_batch_end=lambda b, logs: batch_logs.append(dict(logs)),
                on_epoch_end=lambda e, logs: epoch_logs.append(dict(logs)),
            )
        ],
    )
    assert len(batch_logs) == 20
    first, last = batch_logs[0], batch_logs[-1]
    for key in (
        "loss",
        "epoch",
        "epochs",
        "batch",
        "batches",
        "lr",
        "samples_per_sec",
        "eta",
        "progress",
    ):
        assert key in first
    assert (first["epoch"], first["batch"], first["batches"], first["epochs"]) == (
        0,
        0,
        10,
        2,
    )
    assert first["samples_per_sec"] > 0 and first["eta"] > 0
    assert last["progress"] == pytest.approx(1.0) and last["eta"] == pytest.approx(0.0)
    assert set(epoch_logs[0]) >= {
        "loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
        "lr",
        "epoch_time",
        "samples_per_sec",
        "eta",
    }
    # The history keeps the metrics, not the progress information.
    assert set(trainer.history) == {
        "loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
        "lr",
    }
    assert trainer.history["loss"] == [e["loss"] for e in epoch_logs]


def test_progress_printer_writes_one_line_per_epoch():
    lines: list[str] = []
    _train(spiral_document(), 2, callbacks=[ProgressPrinter(lines.append)])
    assert len(lines) == 2
    assert lines[0].startswith("epoch 1/2  loss ")
    for part in ("val_loss", "accuracy", "samples/s", "ETA"):
        assert part in lines[1]


def test_format_epoch_line_orders_training_then_validation_values():
    line = format_epoch_line(
        4, {"loss": 0.5, "val_loss": 0.6, "accuracy": 0.9, "epochs": 10, "eta": 75}
    )
    assert line == "epoch 5/10  loss 0.5000  accuracy 0.9000  val_loss 0.6000  ETA 1:15"


def _overfitting_document(**settings):
    """Few noisy points and a wide net: the validation loss turns up early."""
    base = {
        "dataset": "spiral:n=60,noise=0.6",
        "learning_rate": 0.05,
        "batch_size": 8,
        "validation_split": 0.5,
        "seed": 2,
    }
    base.update(settings)
    return chain_document(
        [
            ("Dense", {"units": 64, "activation": "relu"}),
            ("Dense", {"units": 64, "activation": "relu"}),
            ("Dense", {"units": 1, "activation": "sigmoid"}),
        ],
        "binary_crossentropy",
        **base,
    )


def test_early_stopping_stops_after_patience_and_restores_the_best_weights():
    snapshots: dict[int, dict] = {}
    net, data = compiled_with_data(
        _overfitting_document(
            early_stopping_patience=3, early_stopping_metric="val_loss"
        )
    )
    trainer = Trainer(
        net.model,
        data,
        TrainConfig.from_settings(net.settings, epochs=200),
        callbacks=[
            LambdaCallback(
                on_epoch_end=lambda e, logs: snapshots.__setitem__(
                    e, net.model.get_weights()
                )
            )
        ],
    )
    history = trainer.run()
    es = trainer.early_stopping
    assert trainer.status == "early_stopped"
    val = history["val_loss"]
    best = int(np.argmin(val))
    assert es.best_epoch == best and es.best == val[best]
    assert es.stopped_epoch == best + 3 == history.epochs - 1
    assert _same_weights(net.model.get_weights(), snapshots[best])
    assert not _same_weights(net.model.get_weights(), snapshots[history.epochs - 1])


def test_early_stopping_set_state_keeps_its_values_through_train_begin():
    es = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    weights = {"dense_1/bias": np.ones(2, np.float32)}
    state = {"monitor": "val_loss", "best": 0.5, "best_epoch": 2, "wait": 1,
             "stopped_epoch": 3}  # fmt: skip
    es.set_state(state, weights)
    es.on_train_begin()
    assert es.get_state() == dict(state, stopped_epoch=None)
    assert es.best_weights == weights
    es.on_train_begin()  # a second fit without a carried state starts afresh
    assert es.get_state()["best"] is None and es.wait == 0
    with pytest.raises(ConfigError, match="watched 'loss'"):
        es.set_state(dict(state, monitor="loss"))


def test_early_stopping_monitor_must_be_logged():
    with pytest.raises(ConfigError, match="no validation data"):
        early_stopping_from_settings(
            {"early_stopping_patience": 2, "early_stopping_metric": "val_loss"},
            has_validation=False,
            metrics=(),
        )
    with pytest.raises(ConfigError, match="accuracy is not computed"):
        early_stopping_from_settings(
            {"early_stopping_patience": 2, "early_stopping_metric": "accuracy"},
            has_validation=True,
            metrics=("mae",),
        )
    assert (
        early_stopping_from_settings(
            {"early_stopping_patience": 0, "early_stopping_metric": "val_loss"},
            has_validation=False,
            metrics=(),
        )
        is None
    )
    es = early_stopping_from_settings(
        {"early_stopping_patience": 2, "early_stopping_metric": "val_accuracy"},
        has_validation=True,
        metrics=("accuracy",),
    )
    assert isinstance(es, EarlyStopping) and es.mode == "max"


def test_trainer_refuses_early_stopping_on_missing_validation_before_training():
    net, data = compiled_with_data(
        spiral_document(early_stopping_patience=2, early_stopping_metric="val_loss")
    )
    data.x_val = data.y_val = None  # as if the validation split were 0
    trainer = Trainer(net.model, data, TrainConfig.from_settings(net.settings))
    with pytest.raises(ConfigError, match="no validation data"):
        trainer.run()
    assert trainer.history.epochs == 0


def test_compile_refuses_early_stopping_without_validation_split():
    from nndesk.training.errors import CompileError

    doc = spiral_document(
        validation_split=0.0,
        early_stopping_patience=2,
        early_stopping_metric="val_loss",
    )
    with pytest.raises(CompileError, match="validation split is 0"):
        compile_network(doc)


def test_diverging_loss_stops_with_a_clear_error_and_finite_weights():
    doc = chain_document(
        [
            ("Dense", {"units": 16, "activation": "relu"}),
            ("Dense", {"units": 1, "activation": "linear"}),
        ],
        "mse",
        input_shape=(1,),
        dataset="sine:n=200",
        optimizer="sgd",
        learning_rate=10.0,
        batch_size=16,
        validation_split=0.0,
    )
    net, data = compiled_with_data(doc)
    trainer = Trainer(
        net.model, data, TrainConfig.from_settings(net.settings, epochs=20)
    )
    with pytest.raises(NumericalError) as info:
        trainer.run()
    message = str(info.value)
    assert "NaN or infinite at epoch" in message and ", batch " in message
    assert "lower the learning rate (it was 10)" in message
    assert "\n" not in message
    weights = net.model.get_weights()
    assert all(np.isfinite(w).all() for w in weights.values())
    state = net.model.optimizer.get_state()
    assert all(np.isfinite(np.asarray(v, dtype=float)).all() for v in state.values())
    assert trainer.status == "stopped"
    # The epochs before the failure stay in the history.
    epoch = int(re.search(r"at epoch (\d+), batch \d+", message).group(1))
    assert trainer.history.epochs == epoch - 1


def test_run_refuses_zero_epochs():
    net, data = compiled_with_data(spiral_document())
    with pytest.raises(ConfigError, match="epochs"):
        Trainer(net.model, data, TrainConfig.from_settings(net.settings)).run(0)


def test_config_overrides_replace_settings():
    net = compile_network(spiral_document())
    config = TrainConfig.from_settings(net.settings, epochs=7, batch_size=None)
    assert config.epochs == 7 and config.batch_size == 16
