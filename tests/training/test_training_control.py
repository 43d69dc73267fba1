"""Steering a training run from another thread: pause, step, stop, learning rate."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from training_helpers import Runner, compiled_with_data, spiral_document

from nndesk.engine.errors import ConfigError
from nndesk.training.callbacks import LambdaCallback
from nndesk.training.control import TrainingControl
from nndesk.training.trainer import TrainConfig, Trainer

WAIT = 20.0  # seconds; generous for a loaded CI machine, never reached when it works


class Recorder:
    """Counts batches and epochs and keeps the batch logs, from the training thread."""

    def __init__(self) -> None:
        self.batches: list[dict] = []
        self.epochs: list[int] = []
        self.lock = threading.Lock()
        self.callback = LambdaCallback(
            on_batch_end=self._batch, on_epoch_end=self._epoch
        )

    def _batch(self, batch: int, logs: dict) -> None:
        with self.lock:
            self.batches.append(dict(logs))

    def _epoch(self, epoch: int, logs: dict) -> None:
        with self.lock:
            self.epochs.append(epoch)

    @property
    def n_batches(self) -> int:
        with self.lock:
            return len(self.batches)


def _paused_trainer(epochs: int = 3, **settings):
    net, data = compiled_with_data(spiral_document(**settings))
    control = TrainingControl()
    control.pause()
    rec = Recorder()
    trainer = Trainer(
        net.model,
        data,
        TrainConfig.from_settings(net.settings, epochs=epochs),
        callbacks=[rec.callback],
        control=control,
    )
    return trainer, control, rec


def test_pause_blocks_before_the_first_batch_and_resume_finishes():
    trainer, control, rec = _paused_trainer()
    runner = Runner(trainer.run)
    assert control.wait_until_waiting(WAIT)
    assert control.waiting and control.state == "paused"
    assert rec.n_batches == 0
    control.resume()
    runner.join(WAIT)
    assert trainer.status == "completed"
    assert rec.epochs == [0, 1, 2]
    assert rec.n_batches == 3 * 10  # 160 training samples in batches of 16


def test_step_batch_runs_exactly_one_batch_each_time():
    trainer, control, rec = _paused_trainer()
    runner = Runner(trainer.run)
    assert control.wait_until_waiting(WAIT)
    for expected in (1, 2, 3):
        control.step_batch()
        assert control.wait_until_waiting(WAIT)
        assert rec.n_batches == expected
    assert [b["batch"] for b in rec.batches] == [0, 1, 2]
    control.stop()
    runner.join(WAIT)


def test_step_epoch_runs_to_the_end_of_the_epoch_then_waits():
    trainer, control, rec = _paused_trainer()
    runner = Runner(trainer.run)
    assert control.wait_until_waiting(WAIT)
    control.step_batch()
    assert control.wait_until_waiting(WAIT)
    control.step_epoch()  # the rest of epoch 0
    assert control.wait_until_waiting(WAIT)
    assert rec.n_batches == 10 and rec.epochs == [0]
    control.step_epoch()  # all of epoch 1
    assert control.wait_until_waiting(WAIT)
    assert rec.n_batches == 20 and rec.epochs == [0, 1]
    assert trainer.history.epochs == 2
    control.resume()
    runner.join(WAIT)
    assert trainer.history.epochs == 3


def test_stop_while_paused_ends_the_run_without_another_batch():
    trainer, control, rec = _paused_trainer()
    runner = Runner(trainer.run)
    assert control.wait_until_waiting(WAIT)
    control.step_batch()
    assert control.wait_until_waiting(WAIT)
    before = trainer.model.get_weights()
    control.stop()
    history = runner.join(WAIT)
    assert trainer.status == "stopped"
    assert rec.n_batches == 1
    assert history.epochs == 0  # the unfinished epoch is not recorded
    after = trainer.model.get_weights()
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_stop_while_running_ends_after_the_current_batch():
    net, data = compiled_with_data(spiral_document())
    control = TrainingControl()
    seen = []

    def on_batch_end(batch, logs):
        seen.append(batch)
        if len(seen) == 4:
            control.stop()

    trainer = Trainer(
        net.model,
        data,
        TrainConfig.from_settings(net.settings, epochs=50),
        callbacks=[LambdaCallback(on_batch_end=on_batch_end)],
        control=control,
    )
    trainer.run()
    assert trainer.status == "stopped"
    assert len(seen) == 4


def test_learning_rate_change_applies_before_the_next_batch():
    trainer, control, rec = _paused_trainer(learning_rate=0.01)
    runner = Runner(trainer.run)
    assert control.wait_until_waiting(WAIT)
    control.step_batch()
    assert control.wait_until_waiting(WAIT)
    control.set_lr(0.123)
    control.step_batch()
    assert control.wait_until_waiting(WAIT)
    assert [b["lr"] for b in rec.batches] == [0.01, 0.123]
    assert trainer.model.optimizer.lr == 0.123
    control.resume()
    runner.join(WAIT)
    assert trainer.history["lr"] == [0.123] * 3


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), "fast"])
def test_set_lr_refuses_bad_values(bad):
    with pytest.raises(ConfigError, match="learning rate"):
        TrainingControl().set_lr(bad)


def test_waiting_uses_no_cpu_while_paused():
    """A paused trainer sleeps on a condition variable instead of polling."""
    import time

    trainer, control, _ = _paused_trainer()
    runner = Runner(trainer.run)
    assert control.wait_until_waiting(WAIT)
    cpu0 = time.process_time()
    time.sleep(0.3)
    busy = time.process_time() - cpu0
    assert busy < 0.15, f"the paused trainer used {busy:.2f} s of CPU in 0.3 s"
    control.stop()
    runner.join(WAIT)


def test_control_can_steer_a_second_run_after_reset():
    trainer, control, rec = _paused_trainer(epochs=1)
    control.stop()
    trainer.run()
    assert trainer.status == "stopped" and rec.n_batches == 0
    control.reset()
    trainer.run()
    assert trainer.status == "completed" and rec.n_batches == 10
