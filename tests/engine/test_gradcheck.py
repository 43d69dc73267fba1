"""nndesk.engine.gradcheck: the finite-difference core the suite and the app share."""

from __future__ import annotations

import numpy as np
import pytest

from nndesk.engine import ConfigError, Dense, Dropout, Flatten, Input, Sequential
from nndesk.engine.gradcheck import (
    check_model,
    model_gradients,
    numerical_gradient,
    relative_error,
)
from nndesk.engine.layers.embedding import Embedding


def _mlp(seed: int = 0) -> Sequential:
    model = Sequential(
        [Input((4,)), Dense(5, activation="tanh"), Dropout(0.3), Dense(3)], seed=seed
    )
    return model.build(dtype=np.float64)


def test_numerical_gradient_of_chosen_entries_equals_the_full_one():
    x = np.random.default_rng(0).standard_normal((3, 4))
    w = np.random.default_rng(1).standard_normal((3, 4))

    def f() -> float:
        return float(np.sum(w * np.sin(x)))

    full = numerical_gradient(f, x)
    np.testing.assert_allclose(full, w * np.cos(x), rtol=1e-8, atol=1e-10)
    picked = numerical_gradient(f, x, indices=np.array([0, 5, 11]))
    np.testing.assert_array_equal(picked, full.reshape(-1)[[0, 5, 11]])


def test_relative_error():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.ones(2), np.ones(2)) == 0.0
    assert relative_error(np.array([1.0, 0.0]), np.array([0.0, 0.0])) == 1.0
    assert relative_error(np.array([3.0]), np.array([1.0])) == pytest.approx(0.5)


def test_check_model_reports_every_array_with_dropout_masks_fixed():
    model = _mlp()
    x = np.random.default_rng(2).standard_normal((6, 4))
    result = check_model(model, x, seed=4)
    assert [r.key for r in result.arrays] == [
        "input 0",
        "dense_1/kernel",
        "dense_1/bias",
        "dense_2/kernel",
        "dense_2/bias",
    ]
    assert list(result.per_layer()) == ["input_1", "dense_1", "dense_2"]
    assert all(r.checked == r.size for r in result.arrays)
    assert result.worst < 1e-7 and result.batch == 6


def test_max_entries_checks_a_seeded_sample():
    model = _mlp()
    x = np.random.default_rng(2).standard_normal((6, 4))
    a = model_gradients(model, x, seed=1, max_entries=7)
    b = model_gradients(model, x, seed=1, max_entries=7)
    kernel = next(p for p in a if p.key == "dense_1/kernel")
    assert len(kernel.indices) == 7 and kernel.size == 20
    assert len(set(kernel.indices.tolist())) == 7
    assert [p.indices.tolist() for p in a] == [p.indices.tolist() for p in b]
    full = {p.key: p for p in model_gradients(model, x, seed=1)}
    np.testing.assert_array_equal(
        kernel.analytic, full["dense_1/kernel"].analytic[kernel.indices]
    )


def test_token_id_inputs_get_no_input_check():
    model = Sequential(
        [Input((3,), dtype="int"), Embedding(5, 2), Flatten(), Dense(2)], seed=0
    ).build(dtype=np.float64)
    ids = np.array([[0, 1, 4], [2, 2, 3]])
    result = check_model(model, ids)
    assert [r.key for r in result.arrays] == [
        "embedding_1/embeddings",
        "dense_1/kernel",
        "dense_1/bias",
    ]
    assert result.worst < 1e-7


def test_a_float32_model_is_refused():
    model = Sequential([Input((2,)), Dense(1)], seed=0).build()
    with pytest.raises(ConfigError, match="needs a float64 model; 'sequential'"):
        check_model(model, np.zeros((1, 2)))


def test_stop_request():
    model = _mlp()
    x = np.zeros((2, 4))
    result = check_model(model, x, should_stop=lambda: True)
    assert result.arrays == () and result.worst == 0.0
