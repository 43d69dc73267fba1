"""Activation functions: values against independent formulas, derivatives, stability."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from gradcheck import assert_gradient

from nndesk.engine.activations import ACTIVATIONS, get_activation
from nndesk.engine.errors import ConfigError
from nndesk.engine.kernels.layers import erf, normal_cdf

GRID = np.concatenate([np.linspace(-8, 8, 161), [-30.0, -1e-4, 0.0, 1e-4, 30.0]])


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


# Independent scalar references written straight from the definitions.
REFERENCE = {
    "linear": lambda z, a: z,
    "relu": lambda z, a: max(z, 0.0),
    "leaky_relu": lambda z, a: z if z > 0 else a * z,
    "elu": lambda z, a: z if z > 0 else a * (math.exp(z) - 1),
    "gelu": lambda z, a: 0.5 * z * (1 + math.erf(z / math.sqrt(2))),
    "silu": lambda z, a: z * _sigmoid(z),
    "sigmoid": lambda z, a: _sigmoid(z),
    "tanh": lambda z, a: math.tanh(z),
    "softplus": lambda z, a: math.log1p(math.exp(-abs(z))) + max(z, 0.0),
}


def test_names_are_the_documented_ones():
    assert ACTIVATIONS == (
        "linear",
        "relu",
        "leaky_relu",
        "elu",
        "gelu",
        "silu",
        "sigmoid",
        "tanh",
        "softplus",
        "softmax",
    )
    assert get_activation("swish").name == "silu"
    assert get_activation("ReLU").name == "relu"


def test_unknown_name_lists_valid_ones():
    with pytest.raises(ConfigError, match="Unknown activation 'rleu'.*relu.*softmax"):
        get_activation("rleu")


def test_alpha_defaults_and_override():
    assert get_activation("leaky_relu").alpha == 0.01
    assert get_activation("elu").alpha == 1.0
    assert get_activation("leaky_relu", 0.2).alpha == 0.2
    # Activations without alpha ignore it (a form may keep a stale value).
    assert get_activation("relu", 0.3).alpha is None


@pytest.mark.parametrize("name", [a for a in ACTIVATIONS if a != "softmax"])
@pytest.mark.parametrize("alpha", [None, 0.3])
def test_values_match_reference(name, alpha, kernel_path):
    act = get_activation(name, alpha)
    a = act.alpha if act.alpha is not None else 0.0
    want = np.array([REFERENCE[name](float(z), a) for z in GRID])
    got = act(GRID[:, None]).reshape(-1)
    # The NumPy path of gelu uses a fitted erf, good to ~4e-11 relative.
    tol = 1e-9 if name == "gelu" else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=1e-12)


def test_softmax_matches_reference(kernel_path, rng):
    z = rng.normal(size=(4, 5, 6)) * 3
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    want = e / e.sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(get_activation("softmax")(z), want, rtol=1e-12)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_backward_matches_finite_differences(name, kernel_path, rng):
    act = get_activation(name, 0.2 if name in ("leaky_relu", "elu") else None)
    # Keep away from the kinks of relu-like functions, where no derivative exists.
    z = rng.normal(size=(6, 5)) * 2
    z[np.abs(z) < 1e-3] = 0.5
    w = rng.normal(size=z.shape)

    def f() -> float:
        return float(np.sum(w * act(z)))

    y = act(z)
    dz = act.backward(w, z.copy(), y, np.empty_like(z))
    assert_gradient(f, z, dz, what=name)


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_inputs_stay_finite_without_warnings(name, dtype, kernel_path):
    act = get_activation(name)
    z = np.array([[-1e4, -1000.0, -100.0, 0.0, 100.0, 1000.0, 1e4]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = act(z)
        dz = act.backward(np.ones_like(z), z.copy(), y, np.empty_like(z))
    assert y.dtype == dtype and dz.dtype == dtype
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dz))


def test_saturated_values():
    z = np.array([-1000.0, 1000.0])
    np.testing.assert_array_equal(get_activation("sigmoid")(z), [0.0, 1.0])
    np.testing.assert_array_equal(get_activation("softplus")(z), [0.0, 1000.0])
    np.testing.assert_array_equal(get_activation("gelu")(z), [-0.0, 1000.0])
    np.testing.assert_array_equal(
        get_activation("softmax")(np.array([[1000.0, -1000.0, 1000.0]])),
        [[0.5, 0, 0.5]],
    )
    # Tiny sigmoid outputs keep their relative precision.
    np.testing.assert_allclose(
        get_activation("sigmoid")(np.array([-50.0])), math.exp(-50)
    )


def test_erf_is_accurate_to_1e_9():
    x = np.linspace(-10, 10, 200_001)
    want = np.array([math.erf(v) for v in x])
    assert np.abs(erf(x) - want).max() < 1e-9
    assert erf(np.float32(0.5)).dtype == np.float32


def test_normal_cdf_keeps_relative_precision_in_the_tail():
    z = np.linspace(-12, 12, 2401)
    want = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in z])
    np.testing.assert_allclose(normal_cdf(z), want, rtol=1e-9)
    # float32 rounds the exponent -z**2/2 to ~|z|**2 * 6e-8 relative.
    got32 = normal_cdf(z.astype(np.float32))
    core = np.abs(z) <= 5
    np.testing.assert_allclose(got32[core], want[core], rtol=5e-6)
    np.testing.assert_allclose(got32, want, rtol=1e-4)


def test_float32_stays_float32(kernel_path):
    z = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    for name in ACTIVATIONS:
        assert get_activation(name)(z).dtype == np.float32


def test_derivative_helper_and_softmax_refusal():
    z = np.array([-1.0, 2.0])
    np.testing.assert_allclose(get_activation("relu").derivative(z), [0.0, 1.0])
    with pytest.raises(ConfigError, match="Jacobian"):
        get_activation("softmax").derivative(z)
