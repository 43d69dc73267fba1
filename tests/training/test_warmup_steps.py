"""The warm-up + cosine schedule per step (issue 15): the trainer sets the rate of
every batch, continuing a run from its file is exact, a learning rate changed during
the run scales the schedule, files from before step warm-ups train as they did, and
a warm-up longer than the run trains with a warning instead of being refused."""

from __future__ import annotations

import json
import logging
import zipfile

import numpy as np
import pytest
from training_helpers import compiled_with_data, spiral_document

from nndesk.document.examples import EXAMPLES
from nndesk.document.schema import document_to_dict
from nndesk.document.settings import inactive_settings
from nndesk.engine import schedules
from nndesk.io.project_file import Project, load_project, save_project
from nndesk.training.callbacks import LambdaCallback
from nndesk.training.compile import make_schedule, warmup_note
from nndesk.training.control import TrainingControl
from nndesk.training.session import TrainingSession
from nndesk.training.trainer import TrainConfig, Trainer

# spiral_document: 160 training samples in batches of 16, so 10 batches an epoch;
# a warm-up of 15 steps ends in the middle of the second epoch.
WARMUP = {"lr_schedule": "warmup_cosine", "lr_warmup_steps": 15, "lr_min": 0.001}


def _spiral(**settings):
    return spiral_document(**{"seed": 2, "epochs": 5, **WARMUP, **settings})


def _batch_rates(trainer: Trainer) -> list[float]:
    rates: list[float] = []
    trainer.callbacks.append(
        LambdaCallback(on_batch_end=lambda b, logs: rates.append(logs["lr"]))
    )
    return rates


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_the_trainer_sets_the_rate_of_every_batch():
    net, data = compiled_with_data(_spiral())
    trainer = Trainer(net.model, data, TrainConfig.from_settings(net.settings))
    rates = _batch_rates(trainer)
    trainer.run()
    schedule = schedules.WarmupCosine(warmup_steps=15, total_epochs=5, min_lr=0.001)
    expected = [schedule.rate(e, b, 10, 0.01) for e in range(5) for b in range(10)]
    assert rates == expected
    assert rates[:15] == pytest.approx([0.01 * (k + 1) / 16 for k in range(15)])
    assert rates[15] == pytest.approx(0.01) and rates[-1] > 0.001  # cosine top, tail
    assert trainer.history["lr"] == expected[9::10]  # each epoch's last step


def test_three_then_two_epochs_through_the_file_equal_five(tmp_path):
    """The schedule spans the epochs setting (5), so runs of 3 and 2 epochs with a
    save and load between them follow the one long run's rates, bit for bit."""
    at_once = TrainingSession(_spiral(), base_dir=tmp_path)
    at_once_rates = _batch_rates(
        at_once.make_trainer(at_once.prepare(at_once.load_dataset()))
    )
    at_once.trainer.run()

    path = tmp_path / "parts.nndesk"
    save_project(path, Project(document=_spiral()))
    parts: list[list[float]] = []
    for epochs in (3, 2):
        session = TrainingSession.open(path)
        trainer = session.make_trainer(session.prepare(session.load_dataset()))
        parts.append(_batch_rates(trainer))
        trainer.run(epochs)
        session.save(path)
    assert parts[0] + parts[1] == at_once_rates
    final = load_project(path)
    assert _same(final.weights, at_once.model.get_weights())
    assert _same(final.optimizer_state, at_once.model.optimizer.get_state())
    assert final.history == at_once.history.as_dict()


def test_a_run_saved_mid_epoch_starts_that_epoch_over_at_its_first_rate(tmp_path):
    """As for every schedule (docs/cli.md): a file saved during an epoch goes on
    from that epoch's first batch, so the step count restarts with it."""
    control = TrainingControl()
    session = TrainingSession(_spiral(), base_dir=tmp_path)
    trainer = session.make_trainer(
        session.prepare(session.load_dataset()), control=control
    )

    def stop(batch, logs):
        if logs["epoch"] == 1 and batch == 3:
            control.stop()

    trainer.callbacks.append(LambdaCallback(on_batch_end=stop))
    trainer.run()
    assert trainer.run_state()["batch"] == 4
    path = tmp_path / "mid.nndesk"
    session.save(path)
    again = TrainingSession.open(path)
    rates = _batch_rates(again.make_trainer(again.prepare(again.load_dataset())))
    again.trainer.run(1)
    schedule = make_schedule(again.settings)
    assert rates == [schedule.rate(1, b, 10, 0.01) for b in range(10)]
    assert again.history.epochs == 2


def test_a_learning_rate_changed_during_the_run_scales_the_schedule():
    control = TrainingControl()
    net, data = compiled_with_data(_spiral())
    trainer = Trainer(
        net.model, data, TrainConfig.from_settings(net.settings), control=control
    )
    rates = _batch_rates(trainer)

    def change(batch, logs):
        if logs["epoch"] == 0 and batch == 4:
            control.set_lr(0.02)

    trainer.callbacks.append(LambdaCallback(on_batch_end=change))
    trainer.run(2)
    schedule = make_schedule(net.settings)
    before = [schedule.rate(0, b, 10, 0.01) for b in range(5)]
    after = [schedule.rate(e, b, 10, 0.02) for e in range(2) for b in range(10)][5:]
    assert rates == before + after


def _file_from_before_step_warmups(path, doc) -> None:
    """``doc`` saved as nndesk wrote it before step warm-ups: no lr_warmup_steps,
    and a warm-up in epochs (then an integer setting, 1 by default)."""
    save_project(path, Project(document=doc))
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    graph = json.loads(members["graph.json"])
    del graph["settings"]["lr_warmup_steps"]
    if graph["settings"]["lr_warmup_epochs"] is None:
        graph["settings"]["lr_warmup_epochs"] = 1
    members["graph.json"] = json.dumps(graph).encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


def test_a_file_from_before_step_warmups_trains_per_epoch_as_it_did(tmp_path):
    """The old file's warmup_cosine kept its warm-up in epochs: the rate changes
    once per epoch (epoch e < 2 at lr (e + 1) / 3), and the weights are bit for bit
    those of the per-epoch schedule nndesk trained such files with."""
    old = _spiral(lr_warmup_epochs=2)
    path = tmp_path / "old.nndesk"
    _file_from_before_step_warmups(path, old)
    assert (
        json.loads(zipfile.ZipFile(path).read("graph.json"))["settings"][
            "lr_warmup_epochs"
        ]
        == 2
    )
    session = TrainingSession.open(path)
    assert session.settings["lr_warmup_epochs"] == 2
    assert "lr_warmup_steps" in inactive_settings(session.settings)
    rates = _batch_rates(session.make_trainer(session.prepare(session.load_dataset())))
    session.trainer.run()

    net, data = compiled_with_data(old)
    by_epoch = schedules.WarmupCosine(warmup_epochs=2, total_epochs=5, min_lr=0.001)
    config = TrainConfig.from_settings(net.settings, schedule=by_epoch)
    before = Trainer(net.model, data, config)
    before.run()
    epoch_rates = [by_epoch(e, 0.01) for e in range(5)]
    assert epoch_rates[:2] == pytest.approx([0.01 / 3, 0.02 / 3])
    assert rates == [r for r in epoch_rates for _ in range(10)]
    assert _same(session.model.get_weights(), before.model.get_weights())
    # Saved again, it keeps its warm-up in epochs.
    session.save(path)
    assert load_project(path).document.settings["lr_warmup_epochs"] == 2


def test_old_files_with_another_schedule_warm_up_in_steps_if_switched(tmp_path):
    path = tmp_path / "old.nndesk"
    _file_from_before_step_warmups(path, _spiral(lr_schedule="cosine"))
    doc = load_project(path).document
    assert doc.settings["lr_warmup_epochs"] is None
    doc.set_setting("lr_schedule", "warmup_cosine")
    assert make_schedule(doc.settings).per_step
    assert "lr_warmup_epochs" in inactive_settings(doc.settings)
    # A new file round-trips both settings as they are.
    path2 = tmp_path / "new.nndesk"
    save_project(path2, Project(document=doc))
    again = load_project(path2).document
    assert document_to_dict(again) == document_to_dict(doc)


def test_a_warmup_longer_than_the_run_trains_and_says_so(caplog):
    """Not refused (a 1-epoch try of a network warmed up over more steps): the rate
    rises through the run, and the log says why it never reaches its value."""
    net, data = compiled_with_data(_spiral(lr_warmup_steps=40, epochs=1))
    trainer = Trainer(net.model, data, TrainConfig.from_settings(net.settings))
    rates = _batch_rates(trainer)
    with caplog.at_level(logging.WARNING, logger="nndesk.training.trainer"):
        trainer.run()
    assert trainer.status == "completed"
    assert rates == pytest.approx([0.01 * (k + 1) / 41 for k in range(10)])
    assert caplog.messages == [
        "The warm-up of 40 steps (lr_warmup_steps) is as long as the run's 10 "
        "steps (1 epoch of 10 batches) or longer, so the learning rate rises "
        "through the whole run and never reaches its set value: shorten the "
        "warm-up or train more epochs."
    ]


@pytest.mark.parametrize("name", ["sort_transformer", "char_transformer"])
def test_the_transformer_examples_warm_up_within_one_epoch(name, tmp_path):
    """So any number of epochs >= 1 trains past the warm-up (the character
    model's data is Python's documentation: 328 batches an epoch)."""
    doc = EXAMPLES[name].build()
    doc.set_setting("epochs", 1)
    session = TrainingSession(doc, base_dir=tmp_path)
    data = session.prepare(session.load_dataset())
    batches = -(-data.n_train // int(doc.settings["batch_size"]))
    schedule = make_schedule(doc.settings)
    assert schedule.per_step and warmup_note(schedule, batches) is None
    assert schedule.warmup_steps <= 0.8 * batches  # a fifth of an epoch of cosine
