"""The held-out test split (``test_split`` setting): never trained on, deterministic."""

from __future__ import annotations

import numpy as np
import pytest

from nndesk.document.examples import EXAMPLES
from nndesk.document.settings import default_settings
from nndesk.io.datasets import load_dataset
from nndesk.io.errors import DatasetError
from nndesk.training.data import (
    held_out_indices,
    split_dataset,
    split_fractions,
    split_order,
)
from nndesk.training.session import TrainingSession


def _settings(**values):
    return {**default_settings(), **values}


@pytest.fixture
def blobs():
    return load_dataset("blobs:n=300,centers=3,noise=0.1,seed=4")


def test_training_order_never_holds_a_test_row(blobs):
    settings = _settings(validation_split=0.2, test_split=0.25, seed=7)
    order, n_train = split_order(blobs, settings)
    held = held_out_indices(blobs, settings)
    assert len(held) == 75 and n_train == 300 - 75 - 60
    assert len(order) == 300 - 75
    assert not set(order.tolist()) & set(held.tolist())
    assert sorted([*order.tolist(), *held.tolist()]) == list(range(300))


def test_test_rows_are_deterministic_from_the_seed(blobs):
    a = held_out_indices(blobs, _settings(test_split=0.1, seed=3))
    b = held_out_indices(blobs, _settings(test_split=0.1, seed=3))
    c = held_out_indices(blobs, _settings(test_split=0.1, seed=4))
    np.testing.assert_array_equal(a, b)
    assert set(a.tolist()) != set(c.tolist())
    # stratified: each of the 3 classes gives its share of the 30 test samples
    assert np.bincount(blobs.y[a], minlength=3).tolist() == [10, 10, 10]


def test_without_a_test_split_the_split_is_unchanged(blobs):
    settings = _settings(validation_split=0.2, seed=5)
    order, n_train = split_order(blobs, settings)
    train, val, _ = blobs.split_indices(val=0.2, seed=5)
    np.testing.assert_array_equal(order, np.concatenate([train, val]))
    assert n_train == len(train)
    assert len(held_out_indices(blobs, settings)) == 0
    assert split_dataset(blobs, settings).test is None


def test_a_test_split_alone_still_holds_rows_out(blobs):
    settings = _settings(validation_split=0.0, test_split=0.5)
    order, n_train = split_order(blobs, settings)
    assert order is not None and n_train == len(order) == 150
    parts = split_dataset(blobs, settings)
    assert parts.val is None and len(parts.test) == 150


def test_fractions_that_leave_nothing_to_train_on_are_one_sentence():
    with pytest.raises(DatasetError, match=r"the test split \(0.5\) leave nothing"):
        split_fractions(_settings(validation_split=0.5, test_split=0.5))


def test_training_sees_no_test_row_and_evaluate_test_scores_them():
    doc = EXAMPLES["spiral"].build()
    doc.set_setting("dataset", "spiral:n=200,noise=0.1")
    doc.set_setting("test_split", 0.2)
    doc.set_setting("epochs", 1)
    session = TrainingSession(doc.snapshot())
    dataset = session.load_dataset()
    session.fit(dataset)
    data = session.data
    assert data is not None
    held = held_out_indices(dataset, session.settings)
    trained_rows = {r.tobytes() for r in np.vstack([data.x_train, data.x_val])}
    test_rows = {r.tobytes() for r in dataset.x[held]}
    assert len(trained_rows) == 160 and not trained_rows & test_rows
    test_part = session.load_dataset(split="test")
    assert len(test_part) == 40
    np.testing.assert_array_equal(test_part.x, dataset.x[held])
    scores = session.evaluate(test_part)
    assert set(scores) >= {"loss", "accuracy"}


def test_the_python_api_evaluates_the_held_out_rows():
    from nndesk.api import Network

    doc = EXAMPLES["spiral"].build()
    doc.set_setting("dataset", "spiral:n=200,noise=0.1")
    doc.set_setting("test_split", 0.3)
    net = Network.from_document(doc)
    net.fit(epochs=1)
    session = TrainingSession(doc.snapshot())
    dataset = session.load_dataset()
    held = held_out_indices(dataset, session.settings)
    assert len(held) == 60
    x, y = dataset.x[held], dataset.y[held]
    expected = net.evaluate(x, y)
    assert net.evaluate(split="test") == pytest.approx(expected)
