"""Race mode: identical batches in lockstep, equal to separate runs, clear refusals."""

from __future__ import annotations

import numpy as np
import pytest
from training_helpers import chain_document, spiral_document

from nndesk.document.errors import ParamError
from nndesk.engine.errors import ResourceError
from nndesk.engine.memory import MemoryBudget
from nndesk.training.data import load_settings_dataset
from nndesk.training.race import (
    BatchLedger,
    Entrant,
    Race,
    RaceError,
    check_race_memory,
    race_memory,
    race_table,
    variant_name,
    variant_of,
)
from nndesk.training.session import TrainingSession


def _variant(**settings):
    doc = spiral_document(**settings)
    return doc


def _dataset(doc):
    return load_settings_dataset(doc.settings)


def test_race_variants_see_identical_batch_indices():
    docs = {
        "lr 0.01": _variant(),
        "lr 0.1": _variant(learning_rate=0.1),
        "sgd": _variant(optimizer="sgd"),
    }
    dataset = _dataset(docs["lr 0.01"])
    race = Race.start(
        [Entrant(name, d.snapshot()) for name, d in docs.items()],
        dataset,
        epochs=3,
        keep_rows=True,
    )
    race.run()
    ledgers = [r.ledger for r in race.runners]
    n_train = race.data[0].n_train
    # One prepared copy of the data serves every variant (same loss and output).
    assert race.data[0] is race.data[1] is race.data[2]
    orders = []
    for epoch in range(3):
        first = ledgers[0].rows[epoch]
        assert len(first) == 10  # 160 training samples in batches of 16
        for other in ledgers[1:]:
            assert len(other.rows[epoch]) == len(first)
            for a, b in zip(first, other.rows[epoch], strict=True):
                np.testing.assert_array_equal(a, b)
        order = np.concatenate(first)
        # Every training row once per epoch, in a new order each epoch.
        np.testing.assert_array_equal(np.sort(order), np.arange(n_train))
        orders.append(order)
        assert len({lg.digests[epoch] for lg in ledgers}) == 1
    assert not np.array_equal(orders[0], orders[1])
    # The variants really differ: the same batches made different weights.
    w = [r.session.model.get_weights() for r in race.runners]
    assert not np.array_equal(w[0]["dense_1/kernel"], w[1]["dense_1/kernel"])


def test_ledger_tells_other_batches_apart():
    """The proof can fail: a network shuffled with another seed has other batches."""
    ledgers = []
    for seed in (0, 1):
        doc = _variant(seed=seed)
        session = TrainingSession(doc)
        ledger = BatchLedger(keep_rows=True)
        session.fit(_dataset(_variant()), epochs=1, callbacks=[ledger])
        ledgers.append(ledger)
    assert ledgers[0].digests[0] != ledgers[1].digests[0]
    assert not np.array_equal(ledgers[0].rows[0][0], ledgers[1].rows[0][0])


def test_two_variant_race_equals_two_separate_runs_bit_for_bit(numpy_kernels):
    a, b = _variant(), _variant(learning_rate=0.05, optimizer="rmsprop")
    dataset = _dataset(a)
    race = Race.start(
        [Entrant("a", a.snapshot()), Entrant("b", b.snapshot())], dataset, epochs=4
    )
    standings = race.run()
    assert [s.status for s in standings] == ["completed", "completed"]
    for s, runner in zip(standings, race.runners, strict=True):
        accuracy = runner.session.history["val_accuracy"]
        key, epoch, value = s.best_metric
        assert key == "val_accuracy" and value == max(accuracy)  # higher is better
        assert accuracy[epoch] == value
        key, epoch, value = s.best
        assert key == "val_loss" and value == min(runner.session.history["val_loss"])
    for runner, doc in zip(race.runners, (a, b), strict=True):
        alone = TrainingSession(doc)
        alone.fit(_dataset(doc), epochs=4)
        mine, theirs = runner.session.capture(), alone.capture()
        assert mine.weights.keys() == theirs.weights.keys()
        for key in mine.weights:
            assert np.array_equal(mine.weights[key], theirs.weights[key]), key
        for key in mine.optimizer_state:
            assert np.array_equal(
                mine.optimizer_state[key], theirs.optimizer_state[key]
            ), key
        epoch_keys = [k for k in theirs.history if k != "epoch_time"]
        for key in epoch_keys:
            assert mine.history[key] == theirs.history[key], key


def test_race_with_early_stopping_equals_separate_runs(numpy_kernels):
    settings = {"early_stopping_patience": 1, "epochs": 30, "learning_rate": 0.3}
    a, b = _variant(**settings), _variant(**settings, optimizer="sgd")
    dataset = _dataset(a)
    race = Race.start([Entrant("a", a.snapshot()), Entrant("b", b.snapshot())], dataset)
    race.run()
    assert any(r.status == "early_stopped" for r in race.runners)
    for runner, doc in zip(race.runners, (a, b), strict=True):
        alone = TrainingSession(doc)
        alone.fit(_dataset(doc))
        assert runner.session.history["loss"] == alone.history["loss"]
        assert runner.status == alone.trainer.status
        mine, theirs = runner.session.model.get_weights(), alone.model.get_weights()
        for key in mine:
            assert np.array_equal(mine[key], theirs[key]), key


def _sine(**settings):
    base = {"dataset": "sine:n=200", "batch_size": 16, "epochs": 3}
    return chain_document(
        [
            ("Dense", {"units": 16, "activation": "relu"}),
            ("Dense", {"units": 1, "activation": "linear"}),
        ],
        "mse",
        input_shape=(1,),
        **{**base, **settings},
    )


def test_diverging_variant_drops_out_and_others_race_on():
    a, b = _sine(learning_rate=0.01), _sine(learning_rate=10.0, optimizer="sgd")
    race = Race.start(
        [Entrant("calm", a.snapshot()), Entrant("wild", b.snapshot())],
        _dataset(a),
        epochs=3,
    )
    standings = race.run()
    assert standings[0].status == "completed" and standings[0].epochs == 3
    assert standings[1].status == "diverged"
    assert "NaN or infinite" in race.runners[1].message
    assert race.leader() == 0
    assert "diverged" in race_table(standings, race.leader())


def test_refusals_are_one_sentence():
    a = _variant()
    ds = _dataset(a)
    with pytest.raises(RaceError, match="2 to 4 variants, not 1"):
        Race.start([Entrant("a", a.snapshot())], ds)
    five = [Entrant(str(i), a.snapshot()) for i in range(5)]
    with pytest.raises(RaceError, match="not 5"):
        Race.start(five, ds)
    other = _variant(batch_size=32)
    with pytest.raises(RaceError) as info:
        Race.start([Entrant("a", a.snapshot()), Entrant("b", other.snapshot())], ds)
    assert str(info.value).startswith("Variant 'b' has batch_size 32 but 'a' has 16")
    with pytest.raises(RaceError, match="both named 'a'"):
        Race.start([Entrant("a", a.snapshot()), Entrant("a", a.snapshot())], ds)


def test_variant_that_does_not_fit_the_data_is_named():
    a = _variant()
    wide = spiral_document()
    wide.set_param("input_1", "shape", (3,))
    with pytest.raises(RaceError) as info:
        Race.start([Entrant("a", a.snapshot()), Entrant("wide", wide.snapshot())],
                   _dataset(a))  # fmt: skip
    message = str(info.value)
    assert message.startswith("Variant 'wide': The dataset")
    assert "(3,)" in message and "\n" not in message


def test_memory_is_estimated_for_all_variants_together(monkeypatch):
    a = _variant()
    one = race_memory([a.snapshot()])
    three = race_memory([a.snapshot()] * 3)
    assert three == 3 * one
    monkeypatch.setattr(
        "nndesk.engine.memory.memory_budget",
        lambda: MemoryBudget(int(three / 0.8) - 1, "cgroup memory limit"),
    )
    check_race_memory([a.snapshot()] * 2)  # two fit
    with pytest.raises(ResourceError) as info:
        check_race_memory([a.snapshot()] * 3)
    message = str(info.value)
    assert message.startswith("Racing 3 variants needs about")
    assert message.endswith("is available (the cgroup memory limit).")


def test_variant_of_changes_one_thing():
    doc = _variant()
    relu = variant_of(doc, "activation", "relu")
    acts = {n.id: n.params.get("activation") for n in relu.nodes}
    # The hidden layers change; the layer feeding the Output keeps its sigmoid.
    assert acts == {"input_1": None, "dense_1": "relu", "dense_2": "relu",
                    "dense_3": "sigmoid", "output_1": None}  # fmt: skip
    he = variant_of(doc, "kernel_initializer", "he_normal")
    assert {n.params.get("kernel_initializer") for n in he.nodes} == {None, "he_normal"}
    fast = variant_of(doc, "learning_rate", 0.5)
    assert fast.settings["learning_rate"] == 0.5
    assert doc.settings["learning_rate"] == 0.01  # the network is not changed
    assert variant_name("learning_rate", 0.5) == "lr 0.5"
    with pytest.raises(RaceError, match="no layer with a kernel initialiser"):
        variant_of(_bare(), "kernel_initializer", "he_normal")
    with pytest.raises(ParamError):
        variant_of(doc, "optimizer", "nonsense")


def _bare():
    return chain_document(
        [("Activation", {"activation": "tanh"})], "mse", input_shape=(1,)
    )
