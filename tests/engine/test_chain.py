"""The whole-step fast path of plain Dense stacks against the layer-by-layer path.

A model that qualifies (see nndesk/engine/kernels/chain.py) must train exactly as it would
layer by layer, on both kernel paths: same losses, logs, weights, optimizer state,
gradients and errors.
"""

from __future__ import annotations

import numpy as np
import pytest

from nndesk.engine import optimizers
from nndesk.engine.errors import DataError, NumericalError
from nndesk.engine.kernels import chain as _chain
from nndesk.engine.layers import Dense, Dropout, Input
from nndesk.engine.model import Model

# (hidden layers as (units, activation, bias), output activation, loss)
NETS = [
    ([(8, "tanh", True), (8, "tanh", True)], "sigmoid", "binary_crossentropy"),
    ([(8, "relu", True), (4, "sigmoid", False)], "sigmoid", "binary_crossentropy"),
    ([(5, "linear", False)], "sigmoid", "binary_crossentropy"),
    ([(8, "tanh", True), (6, "relu", True)], "linear", "mse"),
    ([(6, "sigmoid", True)], "tanh", "mse"),
    ([], "relu", "mse"),
]


def _net(hidden, out_act, loss, dtype, n_out=1, metrics=()):
    inp = Input((3,))
    t = inp
    for units, act, bias in hidden:
        t = Dense(units, activation=act, use_bias=bias)(t)
    model = Model(inp, Dense(n_out, activation=out_act)(t), seed=3, dtype=dtype)
    model.compile(loss=loss, optimizer=optimizers.Adam(lr=0.02), metrics=metrics)
    return model


def _data(dtype, n, n_out=1, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(dtype)
    y = (x[:, :n_out] * x[:, 1:2] > 0).astype(dtype)
    return x, y


@pytest.fixture
def no_chain(monkeypatch):
    def disable():
        monkeypatch.setattr(_chain, "NUMBA_MAX_MACS", 0)
        monkeypatch.setattr(_chain, "NUMPY_MAX_MACS", 0)

    return disable


def _train(model, x, y, batch):
    logs = []
    for step in range(12):
        start = (step * batch) % len(x)
        xb, yb = x[start : start + batch], y[start : start + batch]
        logs.append(model.train_on_batch(xb, yb))
    return logs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("hidden", "out_act", "loss"), NETS)
def test_chain_step_trains_exactly_like_the_layers(
    kernel_path, no_chain, hidden, out_act, loss, dtype
):
    n_out = 2
    metrics = ["accuracy"] if loss == "binary_crossentropy" else ["mae"]
    x, y = _data(dtype, 25, n_out)
    runs = []
    for use_chain in (True, False):
        if not use_chain:
            no_chain()
        model = _net(hidden, out_act, loss, dtype, n_out, metrics)
        # Batches of 10 and the partial batch of 5 each get their buffers.
        logs = _train(model, x, y, batch=10)
        assert (model._chain is not None and model._chain._last is not None) == (
            use_chain
        )
        runs.append((logs, model.get_weights(), model.optimizer.get_state(), model))
    tol = 2e-5 if dtype == np.float32 else 1e-10
    (logs_c, w_c, s_c, m_c), (logs_l, w_l, s_l, m_l) = runs
    for a, b in zip(logs_c, logs_l, strict=True):
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_allclose(a[key], b[key], rtol=tol, atol=tol, err_msg=key)
    for key in w_l:
        np.testing.assert_allclose(w_c[key], w_l[key], rtol=tol, atol=tol, err_msg=key)
    assert s_c.keys() == s_l.keys()
    for key in s_l:
        np.testing.assert_allclose(s_c[key], s_l[key], rtol=tol, atol=tol, err_msg=key)
    for key, g in m_l.gradients().items():
        np.testing.assert_allclose(
            m_c.gradients()[key], g, rtol=tol, atol=tol, err_msg=key
        )
    # Input gradients right after a step use that step's activations in both.
    dy = np.ones((10, n_out), dtype)  # the last step had 10 rows
    np.testing.assert_allclose(
        m_c.backward([dy])[0], m_l.backward([dy])[0], rtol=tol, atol=tol
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fit_uses_the_chain_and_matches_the_layers(kernel_path, no_chain, dtype):
    x, y = _data(dtype, 37)
    histories = []
    for use_chain in (True, False):
        if not use_chain:
            no_chain()
        model = _net(*NETS[0], dtype=dtype, metrics=["accuracy"])
        history = model.fit(x, y, epochs=3, batch_size=8)
        assert (model._chain._last is not None) == use_chain
        histories.append((history.history, model.get_weights()))
    tol = 2e-5 if dtype == np.float32 else 1e-10
    for key in histories[1][0]:
        np.testing.assert_allclose(
            histories[0][0][key], histories[1][0][key], rtol=tol, err_msg=key
        )
    for key, w in histories[1][1].items():
        np.testing.assert_allclose(histories[0][1][key], w, rtol=tol, atol=tol)


def test_models_the_chain_does_not_cover():
    def chain(*layers):
        inp = Input((3,))
        t = inp
        for layer in layers:
            t = layer(t)
        return Model(inp, t, seed=0)

    cases = [
        (chain(Dense(4), Dropout(0.5), Dense(1, "sigmoid")), "binary_crossentropy"),
        (chain(Dense(4), Dense(3, "softmax")), "categorical_crossentropy"),
        (chain(Dense(4, l2=0.01), Dense(1)), "mse"),
        (chain(Dense(1, "elu")), "mse"),
        (chain(Dense(1, "sigmoid")), "mae"),
        (chain(Dense(1, "tanh")), "binary_crossentropy"),  # not fused: no sigmoid
    ]
    for model, loss in cases:
        model.compile(loss=loss, optimizer="sgd")
        assert _chain.plan_chain(model) is None, model.layers
    model = chain(Dense(4), Dense(1, "sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="sgd")
    assert _chain.plan_chain(model) is not None


def test_oversized_batches_take_the_layer_path(kernel_path, monkeypatch):
    model = _net(*NETS[0], dtype=np.float32)
    x, y = _data(np.float32, 10)
    model.train_on_batch(x, y)
    assert model._chain._last is not None
    model._chain._last = None
    monkeypatch.setattr(_chain, "NUMBA_MAX_MACS", 8 * 8 * 9)
    monkeypatch.setattr(_chain, "NUMPY_MAX_MACS", 8 * 8 * 9)
    model.train_on_batch(x, y)
    assert model._chain._last is None


@pytest.mark.parametrize("loss", ["binary_crossentropy", "mse"])
def test_chain_rejects_bad_data_like_the_layers(kernel_path, loss):
    out_act = "sigmoid" if loss == "binary_crossentropy" else "linear"
    model = _net([(4, "tanh", True)], out_act, loss, np.float32)
    x, y = _data(np.float32, 6)
    model.train_on_batch(x, y)
    before = model.get_weights()
    bad_x = x.copy()
    bad_x[2, 1] = np.nan
    with pytest.raises(DataError, match="NaN"):
        model.train_on_batch(bad_x, y)
    bad_y = y.copy()
    bad_y[3, 0] = np.nan
    with pytest.raises(DataError, match="row 3"):
        model.train_on_batch(x, bad_y)
    if loss == "binary_crossentropy":
        bad_y[3, 0] = 2.0
        with pytest.raises(DataError, match=r"\[0, 1\]"):
            model.train_on_batch(x, bad_y)
        neg_zero = y.copy()
        neg_zero[y == 0] = -0.0  # a valid 0 whose bits look out of range
        assert np.isfinite(model.train_on_batch(x, neg_zero)["loss"])
    else:
        for name, w in model.get_weights().items():
            np.testing.assert_array_equal(w, before[name])


def test_diverging_chain_step_leaves_the_weights(kernel_path):
    model = _net([(4, "linear", True)], "linear", "mse", np.float32)
    x, y = _data(np.float32, 6)
    before = model.get_weights()
    with pytest.raises(NumericalError, match="weights left unchanged"):
        model.train_on_batch(x * np.float32(1e30), y)
    assert model._chain is not None
    for name, w in model.get_weights().items():
        np.testing.assert_array_equal(w, before[name])


def test_bce_loss_stays_accurate_for_confident_right_predictions(kernel_path):
    # softplus(z) - z*y cancels for large z and y = 1; the chain must not.
    model = _net([], "sigmoid", "binary_crossentropy", np.float32)
    x, y = _data(np.float32, 4)
    model.set_weights({"dense_1/kernel": np.full((3, 1), 0.0), "dense_1/bias": [20.0]})
    loss = model.train_on_batch(x, np.ones_like(y))["loss"]
    np.testing.assert_allclose(loss, np.log1p(np.exp(-20.0)), rtol=1e-5)


OPTIMIZERS = [
    lambda: optimizers.Adam(lr=0.02),
    lambda: optimizers.AdamW(lr=0.02, weight_decay=0.05, clipvalue=0.01),
    lambda: optimizers.Adam(lr=0.02, weight_decay=0.01, clipnorm=0.05),
    lambda: optimizers.SGD(lr=0.1),
    lambda: optimizers.SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda: optimizers.SGD(lr=0.1, momentum=0.8, clipvalue=0.02),
    lambda: optimizers.RMSprop(lr=0.01, momentum=0.5),
]


def _opt_run(make_opt, dtype, hidden, out_act, loss, steps=9):
    x, y = _data(dtype, 25, 2)
    model = _net(hidden, out_act, loss, dtype, n_out=2)
    model.compile(loss=loss, optimizer=make_opt())
    logs = []
    for step in range(steps):
        start = (step * 10) % len(x)
        logs.append(model.train_on_batch(x[start : start + 10], y[start : start + 10]))
        if step == 4:
            model.optimizer.lr *= 0.5  # as a schedule would
    return logs, model.get_weights(), model.optimizer.get_state(), model


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make_opt", OPTIMIZERS)
@pytest.mark.parametrize(("hidden", "out_act", "loss"), [NETS[0], NETS[3]])
def test_update_inside_the_step_matches_the_optimizer(
    kernel_path, no_chain, monkeypatch, make_opt, dtype, hidden, out_act, loss
):
    # The compiled step's own update (Adam, SGD) gives the very bits of the
    # optimizer's kernel; the layer path agrees to rounding.
    fused = _opt_run(make_opt, dtype, hidden, out_act, loss)
    inside = _chain.chain_step.uses_numba and type(fused[3].optimizer) in (
        optimizers.Adam,
        optimizers.AdamW,
        optimizers.SGD,
    )
    assert (fused[3]._chain._opt_code > 0) == inside
    monkeypatch.setattr(_chain, "_OPT_CODES", {})
    apart = _opt_run(make_opt, dtype, hidden, out_act, loss)
    no_chain()
    layers = _opt_run(make_opt, dtype, hidden, out_act, loss)
    assert [a["loss"] for a in fused[0]] == [a["loss"] for a in apart[0]]
    for key, w in apart[1].items():
        np.testing.assert_array_equal(fused[1][key], w, err_msg=key)
    assert fused[2].keys() == apart[2].keys() == layers[2].keys()
    for key, s in apart[2].items():
        np.testing.assert_array_equal(fused[2][key], s, err_msg=key)
    tol = 2e-5 if dtype == np.float32 else 1e-10
    for key, w in layers[1].items():
        np.testing.assert_allclose(fused[1][key], w, rtol=tol, atol=tol, err_msg=key)
    for key, s in layers[2].items():
        np.testing.assert_allclose(fused[2][key], s, rtol=tol, atol=tol, err_msg=key)


@pytest.mark.parametrize("make_opt", [OPTIMIZERS[0], OPTIMIZERS[4]])
def test_state_saved_mid_training_resumes_exactly(kernel_path, make_opt):
    x, y = _data(np.float32, 30)
    model = _net(*NETS[0], dtype=np.float32)
    model.compile(loss="binary_crossentropy", optimizer=make_opt())
    for k in range(3):
        model.train_on_batch(x[k * 10 : k * 10 + 10], y[k * 10 : k * 10 + 10])
    weights, state = model.get_weights(), model.optimizer.get_state()
    resumed = _net(*NETS[0], dtype=np.float32)
    resumed.compile(loss="binary_crossentropy", optimizer=make_opt())
    resumed.set_weights(weights)
    resumed.optimizer.set_state(state)
    for m in (model, resumed):
        for k in range(4):
            m.train_on_batch(x[k * 5 : k * 5 + 10], y[k * 5 : k * 5 + 10])
    for key, w in model.get_weights().items():
        np.testing.assert_array_equal(resumed.get_weights()[key], w, err_msg=key)
    end = model.optimizer.get_state()
    assert int(end["iterations"]) == 7
    for key, s in end.items():
        np.testing.assert_array_equal(resumed.optimizer.get_state()[key], s)


@pytest.mark.parametrize("make_opt", [OPTIMIZERS[0], OPTIMIZERS[4]])
def test_failed_steps_leave_the_optimizer_state(kernel_path, make_opt):
    model = _net([(4, "linear", True)], "linear", "mse", np.float32)
    model.compile(loss="mse", optimizer=make_opt())
    x, y = _data(np.float32, 6)
    model.train_on_batch(x, y)
    model.train_on_batch(x, y)
    before, state = model.get_weights(), model.optimizer.get_state()
    bad_x = x.copy()
    bad_x[1, 2] = np.inf
    bad_y = y.copy()
    bad_y[2, 0] = np.nan
    with pytest.raises(DataError, match="NaN/Inf"):
        model.train_on_batch(bad_x, y)
    with pytest.raises(DataError):
        model.train_on_batch(x, bad_y)
    with pytest.raises(NumericalError):
        model.train_on_batch(x * np.float32(1e30), y)
    for key, w in model.get_weights().items():
        np.testing.assert_array_equal(w, before[key], err_msg=key)
    after = model.optimizer.get_state()
    assert after.keys() == state.keys()
    for key, s in state.items():
        np.testing.assert_array_equal(after[key], s, err_msg=key)


def _sparse_net(dtype, n_in=3, hidden=((8, "relu"), (6, "tanh")), classes=4):
    inp = Input((n_in,))
    t = inp
    for units, act in hidden:
        t = Dense(units, activation=act)(t)
    model = Model(inp, Dense(classes, activation="softmax")(t), seed=5, dtype=dtype)
    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=optimizers.Adam(lr=0.02),
        metrics=["accuracy"],
    )
    return model


def _sparse_data(dtype, n, n_in=3, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_in)).astype(dtype)
    labels = np.argmax(x[:, :1] * rng.normal(size=(1, classes)), axis=1)
    return x, labels.astype(np.int64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fold_first", [True, False])
def test_sparse_softmax_chain_matches_the_layers(
    no_chain, monkeypatch, dtype, fold_first
):
    # NumPy route only: the compiled step has no softmax and leaves it to the layers.
    from nndesk.engine import kernels

    kernels.set_numba_enabled(False)
    monkeypatch.setattr(_chain, "NUMPY_FOLD_MAX", 1 << 20 if fold_first else 0)
    x, labels = _sparse_data(dtype, 37)
    runs = []
    try:
        for use_chain in (True, False):
            if not use_chain:
                no_chain()
            model = _sparse_net(dtype)
            history = model.fit(x, labels, epochs=3, batch_size=8)
            assert (model._chain._last is not None) == use_chain
            # An input gradient right after a step uses that step's activations.
            dx = model.backward([np.ones((5, 4), dtype)])[0]
            runs.append((history.history, model.get_weights(), model, dx))
    finally:
        kernels.set_numba_enabled(None)
    tol = 2e-5 if dtype == np.float32 else 1e-10
    (h_c, w_c, m_c, dx_c), (h_l, w_l, m_l, dx_l) = runs
    assert h_c.keys() == h_l.keys()
    for key in h_l:
        np.testing.assert_allclose(h_c[key], h_l[key], rtol=tol, err_msg=key)
    for key in w_l:
        np.testing.assert_allclose(w_c[key], w_l[key], rtol=tol, atol=tol, err_msg=key)
    for key, g in m_l.gradients().items():
        np.testing.assert_allclose(m_c.gradients()[key], g, rtol=tol, atol=tol)
    np.testing.assert_allclose(dx_c, dx_l, rtol=tol, atol=tol)
    np.testing.assert_allclose(
        m_c.predict(x), m_l.predict(x), rtol=tol, atol=tol, err_msg="predict"
    )


@pytest.mark.parametrize("label_dtype", [np.int64, np.int32, np.uint8])
def test_sparse_chain_rejects_labels_out_of_range(label_dtype):
    from nndesk.engine import kernels

    kernels.set_numba_enabled(False)
    try:
        model = _sparse_net(np.float32)
        x, labels = _sparse_data(np.float32, 6)
        model.train_on_batch(x, labels.astype(label_dtype))
        assert model._chain._last is not None
        before = model.get_weights()
        for bad in (4, -1) if label_dtype != np.uint8 else (4, 255):
            wrong = labels.astype(label_dtype)
            wrong[3] = bad
            with pytest.raises(DataError, match="row 3"):
                model.train_on_batch(x, wrong)
        for name, w in model.get_weights().items():
            np.testing.assert_array_equal(w, before[name])
    finally:
        kernels.set_numba_enabled(None)


def test_sparse_chain_leaves_the_compiled_path_to_the_layers(kernel_path):
    model = _sparse_net(np.float32)
    assert _chain.plan_chain(model) is not None
    x, labels = _sparse_data(np.float32, 6)
    model.train_on_batch(x, labels)
    assert (model._chain._last is not None) == (not kernel_path)
