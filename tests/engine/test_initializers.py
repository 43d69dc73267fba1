"""Initializers: names, shapes, the variance each scheme promises, seeding."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nndesk.engine.errors import ConfigError
from nndesk.engine.initializers import (
    INITIALIZERS,
    compute_fans,
    get_initializer,
    initialize,
)

FAN_IN, FAN_OUT = 400, 300


def test_names():
    assert set(INITIALIZERS) == {
        "glorot_uniform",
        "glorot_normal",
        "he_uniform",
        "he_normal",
        "lecun_uniform",
        "lecun_normal",
        "zeros",
        "ones",
        "constant",
    }


@pytest.mark.parametrize(
    ("name", "variance"),
    [
        ("glorot_uniform", 2 / (FAN_IN + FAN_OUT)),
        ("glorot_normal", 2 / (FAN_IN + FAN_OUT)),
        ("he_uniform", 2 / FAN_IN),
        ("he_normal", 2 / FAN_IN),
        ("lecun_uniform", 1 / FAN_IN),
        ("lecun_normal", 1 / FAN_IN),
    ],
)
def test_random_schemes_have_their_variance(name, variance):
    w = initialize(name, (FAN_IN, FAN_OUT), np.random.default_rng(0), np.float64)
    assert w.shape == (FAN_IN, FAN_OUT) and w.dtype == np.float64
    # 120k draws: the sample variance is within a few percent.
    assert w.var() == pytest.approx(variance, rel=0.03)
    assert abs(w.mean()) < 0.05 * math.sqrt(variance)
    if name.endswith("uniform"):
        assert np.abs(w).max() <= math.sqrt(3 * variance)


def test_constants():
    rng = np.random.default_rng(0)
    assert np.all(initialize("zeros", (3,), rng) == 0)
    assert np.all(initialize("ones", (2, 2), rng) == 1)
    assert np.all(initialize("constant", (2,), rng, value=0.5) == 0.5)
    assert np.all(initialize("constant:0.25", (2,), rng) == 0.25)
    assert initialize("ones", (2,), rng).dtype == np.float32


def test_same_seed_same_weights_and_float32_is_rounded_float64():
    a = initialize("he_normal", (5, 7), np.random.default_rng(3), np.float64)
    b = initialize("he_normal", (5, 7), np.random.default_rng(3), np.float64)
    c = initialize("he_normal", (5, 7), np.random.default_rng(3), np.float32)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(c, a.astype(np.float32))


def test_fans_of_higher_rank_kernels():
    assert compute_fans((3, 3, 8, 16)) == (72, 144)
    assert compute_fans((10,)) == (10, 10)
    assert compute_fans((4, 5)) == (4, 5)


def test_unknown_and_bad_constant():
    with pytest.raises(ConfigError, match="Unknown initializer 'glorot'.*he_normal"):
        get_initializer("glorot")
    with pytest.raises(ConfigError, match="constant value must be a number"):
        get_initializer("constant:abc")
    assert get_initializer("xavier_uniform") is get_initializer("glorot_uniform")
