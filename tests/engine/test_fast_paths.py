"""Speed paths: packed weights with one optimizer call, and one-call small Dense layers.

Each fast path must give what the general path gives: the same updates and state
for the optimizer, the same outputs and gradients for the layers.
"""

from __future__ import annotations

import numpy as np
import pytest

from nndesk.engine import kernels, optimizers
from nndesk.engine.kernels import chain as _chain
from nndesk.engine.kernels import layers as K
from nndesk.engine.layers import Dense, Input
from nndesk.engine.layers import core as core_layers
from nndesk.engine.model import Model

CONFIGS = [
    ("sgd", {"lr": 0.1}),
    ("sgd", {"lr": 0.05, "momentum": 0.9}),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("adam", {"lr": 0.01}),
    ("adam", {"lr": 0.01, "weight_decay": 0.1, "clipnorm": 0.5}),
    ("adamw", {"lr": 0.01, "weight_decay": 0.1, "clipvalue": 0.2}),
    ("rmsprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
    ("adagrad", {"lr": 0.1, "initial_accumulator_value": 0.1}),
]
SHAPES = {"a/kernel": (4, 3), "a/bias": (3,), "b/kernel": (3, 2), "b/bias": (2,)}


def _packed(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Copies of ``values`` laid out back to back in one buffer, as a model does."""
    flat = np.concatenate([v.reshape(-1) for v in values.values()])
    out, start = {}, 0
    for key, v in values.items():
        out[key] = flat[start : start + v.size].reshape(v.shape)
        start += v.size
    return out


def _problem(dtype, seed=0):
    rng = np.random.default_rng(seed)
    params = {k: rng.normal(size=s).astype(dtype) for k, s in SHAPES.items()}
    grads = [
        {k: rng.normal(size=s).astype(dtype) for k, s in SHAPES.items()}
        for _ in range(5)
    ]
    return params, grads


def _run(name, kw, params, grads_seq, packed: bool, state=None):
    opt = optimizers.get(name, **kw)
    p = _packed(params) if packed else {k: v.copy() for k, v in params.items()}
    g = (
        _packed(grads_seq[0])
        if packed
        else {k: v.copy() for k, v in grads_seq[0].items()}
    )
    if state is not None:
        opt.set_state(state)
    for step in grads_seq:
        for k in g:
            g[k][...] = step[k]  # the same arrays every step, as the model passes
        opt.step(p, g)
    return p, opt


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "kw"), CONFIGS)
def test_packed_weights_update_exactly_like_separate_arrays(
    kernel_path, name, kw, dtype
):
    params, grads = _problem(dtype)
    p_sep, opt_sep = _run(name, kw, params, grads, packed=False)
    p_pack, opt_pack = _run(name, kw, params, grads, packed=True)
    assert opt_pack._fused is not None and opt_pack._fused.fn is not None
    assert opt_sep._fused is not None and opt_sep._fused.fn is None
    for key in SHAPES:
        np.testing.assert_array_equal(p_pack[key], p_sep[key], err_msg=key)
    s_sep, s_pack = opt_sep.get_state(), opt_pack.get_state()
    assert list(s_pack) == list(s_sep)
    for key in s_sep:
        np.testing.assert_array_equal(s_pack[key], s_sep[key], err_msg=key)


@pytest.mark.parametrize(("name", "kw"), CONFIGS)
def test_packed_state_round_trip_continues_identically(kernel_path, name, kw):
    params, grads = _problem(np.float32, seed=1)
    p1, opt = _run(name, kw, params, grads[:3], packed=True)
    state = opt.get_state()
    p2 = _packed(p1)
    opt.step(p1, _packed(grads[3]))
    fresh = optimizers.get(name, **kw)
    fresh.set_state(state)
    fresh.step(p2, _packed(grads[3]))
    assert fresh._fused.fn is not None
    for k in SHAPES:
        np.testing.assert_array_equal(p2[k], p1[k], err_msg=k)


def test_adam_with_different_step_counts_per_key_stays_exact(kernel_path):
    params, grads = _problem(np.float64, seed=2)
    _, opt = _run("adam", {"lr": 0.01}, params, grads[:2], packed=False)
    state = opt.get_state()
    state["a/bias/step"] = np.array(7, dtype=np.int64)  # out of step with the rest
    p_sep, o_sep = _run("adam", {"lr": 0.01}, params, grads, False, state=state)
    p_pack, o_pack = _run("adam", {"lr": 0.01}, params, grads, True, state=state)
    assert o_pack._fused.fn is None  # one set of scalars cannot serve every key
    for key in SHAPES:
        np.testing.assert_array_equal(p_pack[key], p_sep[key], err_msg=key)
    assert o_pack.get_state()["a/bias/step"] == 12


def test_switching_between_packed_and_separate_dicts(kernel_path):
    params, grads = _problem(np.float64, seed=3)
    opt_ref = optimizers.Adam(lr=0.01)
    ref = {k: v.copy() for k, v in params.items()}
    opt = optimizers.Adam(lr=0.01)
    packed = _packed(params)
    for i, g in enumerate(grads):
        opt_ref.step(ref, g)
        if i % 2:
            opt.step(packed, _packed(g))
        else:
            opt.step(packed, {k: v.copy() for k, v in g.items()})
    for key in SHAPES:
        np.testing.assert_array_equal(packed[key], ref[key], err_msg=key)


def _small_net(dtype=np.float32, seed=0):
    inp = Input((2,))
    h = Dense(8, activation="tanh")(inp)
    h = Dense(8, activation="relu")(h)
    h = Dense(4, activation="sigmoid", use_bias=False)(h)
    model = Model(inp, Dense(1, activation="sigmoid")(h), seed=seed, dtype=dtype)
    model.compile(loss="binary_crossentropy", optimizer=optimizers.Adam(lr=0.01))
    return model


def test_model_lays_weights_out_in_one_buffer():
    model = _small_net()
    weights = model.trainable_weights()
    flat = next(iter(weights.values())).base
    assert all(w.base is flat for w in weights.values())
    assert flat.size == sum(w.size for w in weights.values())
    grads = model.gradients()
    assert all(g.base is next(iter(grads.values())).base for g in grads.values())
    x = np.random.default_rng(0).normal(size=(10, 2)).astype(np.float32)
    model.train_on_batch(x, (x[:, :1] > 0).astype(np.float32))
    assert model.optimizer._fused.fn is not None
    state = model.optimizer.get_state()
    assert set(state) == {"iterations"} | {
        f"{k}/{s}" for k in weights for s in ("m", "v", "step")
    }
    # set_weights writes through the views into the packed buffer.
    new = {k: np.full(v.shape, 0.5) for k, v in model.get_weights().items()}
    model.set_weights(new)
    assert np.all(flat == 0.5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("act", list(K.DENSE_ACTIVATIONS))
@pytest.mark.parametrize("bias", [True, False])
def test_small_dense_kernels_agree_with_numpy(act, bias, dtype):
    if not kernels.numba_enabled():
        pytest.skip("Numba is not installed")
    rng = np.random.default_rng(5)
    x = rng.normal(size=(6, 5)).astype(dtype)
    w = rng.normal(size=(5, 3)).astype(dtype)
    b = rng.normal(size=3).astype(dtype) if bias else np.empty(0, dtype)
    dy = rng.normal(size=(6, 3)).astype(dtype)
    code = K.DENSE_ACTIVATIONS[act]
    results = []
    for use_numba in (False, True):
        kernels.set_numba_enabled(use_numba)
        try:
            z, y = np.empty((6, 3), dtype), np.empty((6, 3), dtype)
            K.dense_forward(x, w, b, z, y, code)
            gw, gb = np.empty_like(w), np.empty_like(b)
            dz, dx = np.empty_like(dy), np.empty_like(x)
            K.dense_backward(dy, y, x, w, gw, gb, dz, dx, code)
            assert K.dense_backward.uses_numba == use_numba
        finally:
            kernels.set_numba_enabled(None)
        results.append((z, y, gw, gb, dz, dx))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for name, a, c in zip(("z", "y", "gw", "gb", "dz", "dx"), *results, strict=True):
        np.testing.assert_allclose(c, a, rtol=tol, atol=tol, err_msg=name)


def test_relu_kernel_passes_nan_through():
    if not kernels.numba_enabled():
        pytest.skip("Numba is not installed")
    x = np.array([[np.nan], [2.0], [-3.0]], dtype=np.float32)
    w = np.ones((1, 1), dtype=np.float32)
    z, y = np.empty((3, 1), np.float32), np.empty((3, 1), np.float32)
    K.dense_forward(x, w, np.empty(0, np.float32), z, y, K.DENSE_ACTIVATIONS["relu"])
    assert np.isnan(y[0, 0]) and y[1, 0] == 2.0 and y[2, 0] == 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_dense_path_trains_like_the_blas_path(monkeypatch, dtype):
    if not kernels.numba_enabled():
        pytest.skip("Numba is not installed")
    rng = np.random.default_rng(7)
    x = rng.normal(size=(10, 2)).astype(dtype)
    y = (x[:, :1] * x[:, 1:] > 0).astype(dtype)
    losses = []
    # Layer by layer: the whole-stack step (tested below) would bypass the layers.
    monkeypatch.setattr(_chain, "NUMBA_MAX_MACS", 0)
    for macs in (core_layers._SMALL_MACS, 0):
        monkeypatch.setattr(core_layers, "_SMALL_MACS", macs)
        model = _small_net(dtype)
        run = [model.train_on_batch(x, y)["loss"] for _ in range(20)]
        assert any(layer._small for layer in model.layers[1:]) == (macs > 0)
        losses.append((run, model.get_weights()))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(losses[0][0], losses[1][0], rtol=tol)
    for key, value in losses[1][1].items():
        np.testing.assert_allclose(losses[0][1][key], value, rtol=tol, atol=tol)
