"""Optimizers: update formulas, clipping, save/restore, kernel paths and bad input."""

from __future__ import annotations

import io
import math
import tracemalloc

import numpy as np
import pytest

from nndesk.engine import kernels, optimizers
from nndesk.engine.errors import ConfigError, ShapeError

CONFIGS = [
    ("sgd", {"lr": 0.1}),
    ("sgd", {"lr": 0.05, "momentum": 0.9}),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("adam", {"lr": 0.01}),
    ("adam", {"lr": 0.01, "weight_decay": 0.1, "clipnorm": 0.5}),
    ("adamw", {"lr": 0.01, "weight_decay": 0.1, "clipvalue": 0.2}),
    ("rmsprop", {"lr": 0.01}),
    ("rmsprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("adagrad", {"lr": 0.1, "initial_accumulator_value": 0.1}),
]
IDS = [f"{n}-{'-'.join(k for k in kw if k != 'lr') or 'plain'}" for n, kw in CONFIGS]


def _problem(seed: int = 0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = {
        "d1/kernel": rng.normal(size=(4, 3)).astype(dtype),
        "d1/bias": rng.normal(size=3).astype(dtype),
    }
    grads = [
        {k: rng.normal(size=v.shape).astype(dtype) for k, v in params.items()}
        for _ in range(6)
    ]
    return params, grads


# --- formulas, written out element by element ---------------------------------------------
def _reference(name: str, kw: dict, params: dict, grads: list[dict]) -> dict:
    """Plain-Python update rules from the torch.optim documentation."""
    lr = kw["lr"]
    wd = kw.get("weight_decay", 0.0 if name != "adamw" else 0.01)
    p = {k: v.astype(np.float64).ravel().tolist() for k, v in params.items()}
    state: dict = {k: {} for k in p}
    for t, g_all in enumerate(grads, start=1):
        g_all = {k: v.astype(np.float64).ravel().tolist() for k, v in g_all.items()}
        scale = 1.0
        if kw.get("clipnorm"):
            norm = math.sqrt(sum(x * x for g in g_all.values() for x in g))
            scale = min(kw["clipnorm"] / (norm + 1e-6), 1.0)
        for key in p:
            st = state[key]
            for i, x in enumerate(p[key]):
                g = g_all[key][i] * scale
                if kw.get("clipvalue"):
                    g = max(-kw["clipvalue"], min(kw["clipvalue"], g))
                if name != "adamw":
                    g += wd * x
                if name == "sgd":
                    mu = kw.get("momentum", 0.0)
                    if mu:
                        b = g if t == 1 else mu * st[i] + g
                        st[i] = b
                        g = g + mu * b if kw.get("nesterov") else b
                    x -= lr * g
                elif name in ("adam", "adamw"):
                    b1, b2, eps = kw.get("beta1", 0.9), kw.get("beta2", 0.999), 1e-8
                    if name == "adamw":
                        x *= 1 - lr * wd
                    m, v = st.get(i, (0.0, 0.0))
                    m = b1 * m + (1 - b1) * g
                    v = b2 * v + (1 - b2) * g * g
                    st[i] = (m, v)
                    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
                    x -= lr * m_hat / (math.sqrt(v_hat) + eps)
                elif name == "rmsprop":
                    alpha, eps, mu = (
                        kw.get("alpha", 0.99),
                        1e-8,
                        kw.get("momentum", 0.0),
                    )
                    s, a, b = st.get(i, (0.0, 0.0, 0.0))
                    s = alpha * s + (1 - alpha) * g * g
                    if kw.get("centered"):
                        a = alpha * a + (1 - alpha) * g
                        denom = math.sqrt(s - a * a) + eps
                    else:
                        denom = math.sqrt(s) + eps
                    if mu:
                        b = mu * b + g / denom
                        x -= lr * b
                    else:
                        x -= lr * g / denom
                    st[i] = (s, a, b)
                elif name == "adagrad":
                    acc = st.get(i, kw.get("initial_accumulator_value", 0.0)) + g * g
                    st[i] = acc
                    x -= lr * g / (math.sqrt(acc) + 1e-10)
                p[key][i] = x
    return {k: np.array(v).reshape(params[k].shape) for k, v in p.items()}


@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_update_matches_the_formula(kernel_path, name, kw):
    params, grads = _problem()
    expected = _reference(name, kw, params, grads)
    opt = optimizers.get(name, **kw)
    for g in grads:
        opt.step(params, g)
    for key in params:
        np.testing.assert_allclose(params[key], expected[key], rtol=1e-12, atol=1e-14)
    assert opt.iterations == len(grads)


@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numba_and_numpy_paths_agree(name, kw, dtype):
    if not kernels.numba_enabled():
        pytest.skip("Numba is not installed or disabled")
    results = []
    for enabled in (True, False):
        kernels.set_numba_enabled(enabled)
        try:
            params, grads = _problem(1, dtype)
            opt = optimizers.get(name, **kw)
            for g in grads:
                opt.step(params, g)
            results.append(params)
        finally:
            kernels.set_numba_enabled(None)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for key in results[0]:
        assert results[0][key].dtype == dtype
        np.testing.assert_allclose(
            results[0][key], results[1][key], rtol=rtol, atol=rtol
        )


# --- clipping -------------------------------------------------------------------------------
def test_clipnorm_scales_all_gradients_together(kernel_path):
    params = {"a": np.zeros(2), "b": np.zeros(1)}
    grads = {"a": np.array([6.0, 0.0]), "b": np.array([8.0])}  # global norm 10
    opt = optimizers.SGD(lr=1.0, clipnorm=1.0)
    opt.step(params, grads)
    scale = 1.0 / (10.0 + 1e-6)
    np.testing.assert_allclose(params["a"], [-6.0 * scale, 0.0], rtol=1e-12)
    np.testing.assert_allclose(params["b"], [-8.0 * scale], rtol=1e-12)
    np.testing.assert_array_equal(grads["a"], [6.0, 0.0])  # inputs untouched


def test_clipnorm_leaves_small_gradients_alone(kernel_path):
    params = {"a": np.zeros(2)}
    opt = optimizers.SGD(lr=1.0, clipnorm=5.0)
    opt.step(params, {"a": np.array([3.0, 0.0])})
    np.testing.assert_array_equal(params["a"], [-3.0, 0.0])


def test_clipvalue_clamps_each_element(kernel_path):
    params = {"a": np.zeros(3)}
    grads = {"a": np.array([-5.0, 0.25, 5.0])}
    optimizers.SGD(lr=1.0, clipvalue=0.5).step(params, grads)
    np.testing.assert_array_equal(params["a"], [0.5, -0.25, -0.5])
    np.testing.assert_array_equal(grads["a"], [-5.0, 0.25, 5.0])


def test_clipnorm_applies_before_clipvalue(kernel_path):
    params = {"a": np.zeros(2)}
    opt = optimizers.SGD(lr=1.0, clipnorm=1.0, clipvalue=0.7)
    opt.step(params, {"a": np.array([3.0, 4.0])})  # -> (0.6, 0.8) -> (0.6, 0.7)
    np.testing.assert_allclose(params["a"], [-0.6, -0.7], rtol=1e-6)


# --- state ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_saved_state_continues_bit_identically(kernel_path, name, kw):
    params, grads = _problem(2, np.float32)
    opt = optimizers.get(name, **kw)
    for g in grads[:3]:
        opt.step(params, g)
    saved_state = opt.get_state()
    saved_params = {k: v.copy() for k, v in params.items()}
    for g in grads[3:]:
        opt.step(params, g)

    buffer = io.BytesIO()  # through a file, as a project save would
    np.savez(buffer, **saved_state)
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as data:
        loaded = {k: data[k] for k in data.files}
    again = optimizers.get(opt.name, **opt.get_config())
    again.set_state(loaded)
    assert again.iterations == 3
    for g in grads[3:]:
        again.step(saved_params, g)
    for key in params:
        np.testing.assert_array_equal(saved_params[key], params[key])


def test_state_keys_and_dtype():
    params, grads = _problem(3, np.float32)
    opt = optimizers.Adam()
    opt.step(params, grads[0])
    state = opt.get_state()
    assert set(state) == {
        "iterations",
        "d1/kernel/m",
        "d1/kernel/v",
        "d1/kernel/step",
        "d1/bias/m",
        "d1/bias/v",
        "d1/bias/step",
    }
    assert state["d1/kernel/m"].dtype == np.float32
    assert state["d1/kernel/m"].shape == (4, 3)
    assert int(state["iterations"]) == 1
    assert set(optimizers.SGD().get_state()) == {"iterations"}
    rms = optimizers.RMSprop(centered=True, momentum=0.9)
    rms.step(params, grads[0])
    assert {k.rpartition("/")[2] for k in rms.get_state()} == {
        "iterations",
        "square_avg",
        "grad_avg",
        "momentum",
    }


def test_adam_counts_steps_per_parameter(kernel_path):
    """A parameter joining late gets its own bias correction, as in torch."""
    late = {"b": np.zeros(1)}
    opt = optimizers.Adam(lr=0.1)
    opt.step({"a": np.zeros(1)}, {"a": np.ones(1)})
    opt.step({"a": np.zeros(1), **late}, {"a": np.ones(1), "b": np.ones(1)})
    # First Adam step on b: m_hat / sqrt(v_hat) = 1, so b moves by almost lr.
    np.testing.assert_allclose(late["b"], [-0.1], rtol=1e-6)


def test_state_in_float32_and_update_in_place():
    params, grads = _problem(4, np.float32)
    kernel = params["d1/kernel"]
    opt = optimizers.RMSprop(momentum=0.9)
    opt.step(params, grads[0])
    assert params["d1/kernel"] is kernel
    assert all(v.dtype == np.float32 for k, v in opt.get_state().items() if "/" in k)


def test_non_contiguous_parameter_is_updated_in_place(kernel_path):
    base = np.zeros((3, 4))
    view = base.T  # not C-contiguous
    opt = optimizers.Adam(lr=0.1)
    opt.step({"w": view}, {"w": np.ones((4, 3))})
    np.testing.assert_allclose(base, -0.1, rtol=1e-6)


def test_lr_is_settable_between_steps(kernel_path):
    params = {"a": np.zeros(1)}
    opt = optimizers.SGD(lr=1.0)
    opt.step(params, {"a": np.ones(1)})
    opt.lr = 0.5
    opt.step(params, {"a": np.ones(1)})
    np.testing.assert_array_equal(params["a"], [-1.5])
    with pytest.raises(ConfigError, match="lr must be a finite number >= 0"):
        opt.lr = -1.0
    with pytest.raises(ConfigError, match="lr must be a number"):
        opt.lr = "fast"


def test_reset_forgets_state():
    params, grads = _problem(5)
    opt = optimizers.Adam()
    opt.step(params, grads[0])
    opt.reset()
    assert opt.iterations == 0 and opt.get_state() == {"iterations": 0}


def test_numpy_step_allocates_nothing_large(kernel_path):
    """Preallocated state and in-place kernels: no per-step temporaries."""
    rng = np.random.default_rng(6)
    params = {"w": rng.normal(size=(500, 500)).astype(np.float32)}
    grads = {"w": rng.normal(size=(500, 500)).astype(np.float32)}
    for name, kw in CONFIGS:
        opt = optimizers.get(name, **kw)
        opt.step(params, grads)  # creates state, scratch and compiles
        tracemalloc.start()
        try:
            opt.step(params, grads)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 50_000, f"{name} {kw}: {peak} bytes for a 1 MB parameter"


# --- config and registry ----------------------------------------------------------------------
def test_defaults_are_pytorchs():
    assert optimizers.SGD().get_config() == {
        "lr": 0.01,
        "momentum": 0.0,
        "nesterov": False,
        "weight_decay": 0.0,
        "clipnorm": None,
        "clipvalue": None,
    }
    adam = optimizers.Adam().get_config()
    assert (adam["lr"], adam["beta1"], adam["beta2"], adam["eps"]) == (
        0.001,
        0.9,
        0.999,
        1e-8,
    )
    assert adam["weight_decay"] == 0.0
    assert optimizers.AdamW().get_config()["weight_decay"] == 0.01
    rms = optimizers.RMSprop().get_config()
    assert (rms["lr"], rms["alpha"], rms["eps"], rms["momentum"], rms["centered"]) == (
        0.01,
        0.99,
        1e-8,
        0.0,
        False,
    )
    ada = optimizers.Adagrad().get_config()
    assert (ada["lr"], ada["initial_accumulator_value"], ada["eps"]) == (
        0.01,
        0.0,
        1e-10,
    )


def test_registry():
    assert optimizers.OPTIMIZERS == ("sgd", "adam", "adamw", "rmsprop", "adagrad")
    for name in optimizers.OPTIMIZERS:
        opt = optimizers.get(name, lr=0.5, clipnorm=2.0)
        assert opt.name == name and opt.lr == 0.5 and opt.clipnorm == 2.0
        again = optimizers.get(name, **opt.get_config())
        assert again.get_config() == opt.get_config()
    assert optimizers.get("Adam").name == "adam"
    obj = optimizers.SGD()
    assert optimizers.get(obj) is obj
    with pytest.raises(
        ConfigError, match=r"Unknown optimizer 'adamm'.*sgd, adam, adamw"
    ):
        optimizers.get("adamm")
    with pytest.raises(ConfigError, match="has no parameter 'momentum'"):
        optimizers.get("adam", momentum=0.9)


@pytest.mark.parametrize(
    "factory,match",
    [
        (lambda: optimizers.SGD(nesterov=True), "nesterov needs a momentum"),
        (lambda: optimizers.SGD(momentum=-0.1), "momentum must be"),
        (lambda: optimizers.Adam(beta1=1.0), r"beta1 must be in \[0, 1\)"),
        (lambda: optimizers.Adam(clipnorm=0), "clipnorm must be > 0"),
        (lambda: optimizers.RMSprop(alpha=1.5), r"alpha must be in \[0, 1\)"),
        (lambda: optimizers.Adagrad(eps=float("nan")), "eps must be a finite"),
        (lambda: optimizers.SGD(lr=None), "lr must be a number"),
    ],
)
def test_bad_hyperparameters(factory, match):
    with pytest.raises(ConfigError, match=match):
        factory()


# --- bad input ------------------------------------------------------------------------------------
def test_mismatched_keys_name_the_key():
    opt = optimizers.Adam()
    with pytest.raises(ConfigError, match="parameter 'd1/bias' has no gradient"):
        opt.step(
            {"d1/kernel": np.zeros(2), "d1/bias": np.zeros(1)},
            {"d1/kernel": np.zeros(2)},
        )
    with pytest.raises(ConfigError, match="gradient 'extra' has no parameter"):
        opt.step({"a": np.zeros(2)}, {"a": np.zeros(2), "extra": np.zeros(1)})


def test_mismatched_shapes_name_the_key_and_shapes():
    opt = optimizers.SGD(momentum=0.9)
    with pytest.raises(ShapeError, match=r"gradient 'a' has shape \(3,\).*\(2,\)"):
        opt.step({"a": np.zeros(2)}, {"a": np.zeros(3)})
    opt.step({"a": np.zeros(2)}, {"a": np.zeros(2)})
    with pytest.raises(
        ShapeError, match=r"state 'a/momentum' has shape \(2,\).*\(4,\)"
    ):
        opt.step({"a": np.zeros(4)}, {"a": np.zeros(4)})


def test_parameters_must_be_writable_float_arrays():
    opt = optimizers.Adam()
    with pytest.raises(ConfigError, match="'a' must be a float array"):
        opt.step({"a": np.zeros(2, dtype=np.int64)}, {"a": np.zeros(2)})
    frozen = np.zeros(2)
    frozen.flags.writeable = False
    with pytest.raises(ConfigError, match="'a' is read-only"):
        opt.step({"a": frozen}, {"a": np.zeros(2)})


def test_set_state_rejects_foreign_state():
    adam = optimizers.Adam()
    with pytest.raises(ConfigError, match="lacks 'iterations'"):
        adam.set_state({})
    with pytest.raises(
        ConfigError, match=r"'d/kernel/momentum' is not.*\(m, v, step\)"
    ):
        adam.set_state({"iterations": np.array(1), "d/kernel/momentum": np.zeros(2)})
    with pytest.raises(ConfigError, match=r"lacks 'd/kernel/v'"):
        adam.set_state(
            {"iterations": np.array(1), "d/kernel/m": np.zeros(2), "d/kernel/step": 1}
        )
    # A failed restore leaves the optimizer as it was.
    params = {"d/kernel": np.zeros(2)}
    adam.step(params, {"d/kernel": np.ones(2)})
    before = adam.get_state()
    with pytest.raises(ConfigError):
        adam.set_state({"iterations": np.array(1), "x/m": np.zeros(1)})
    after = adam.get_state()
    assert set(after) == set(before)
    assert all(np.array_equal(after[k], before[k]) for k in before)


def test_restored_state_adapts_dtype():
    params64, grads64 = _problem(7, np.float64)
    opt = optimizers.Adam()
    opt.step(params64, grads64[0])
    state = opt.get_state()
    params32 = {k: v.astype(np.float32) for k, v in params64.items()}
    again = optimizers.Adam()
    again.set_state(state)
    again.step(params32, {k: v.astype(np.float32) for k, v in grads64[1].items()})
    assert again.get_state()["d1/kernel/m"].dtype == np.float32


def test_an_error_leaves_every_parameter_unchanged(kernel_path):
    params = {"a": np.zeros(2), "b": np.zeros(3)}
    opt = optimizers.Adam(lr=0.1)
    with pytest.raises(ShapeError, match="'b'"):
        opt.step(params, {"a": np.ones(2), "b": np.ones(4)})
    np.testing.assert_array_equal(params["a"], 0.0)
    assert opt.iterations == 0
    opt.step(params, {"a": np.ones(2), "b": np.ones(3)})
    np.testing.assert_allclose(params["a"], -0.1, rtol=1e-6)  # a clean first step
