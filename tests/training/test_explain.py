"""Numbers of nndesk.training.explain: gradients against finite differences,
Grad-CAM, SmoothGrad, scaling and tiling, permutation importance by hand."""

from __future__ import annotations

import numpy as np
import pytest
from explain_helpers import conv_model, dense_model, engine_conv_model

from nndesk.engine.errors import ConfigError
from nndesk.engine.model import Model
from nndesk.training import explain as ex


def _score(model, x, cls):
    """The class's logit: the softmax output layer 'out' without its softmax."""
    (before,) = model.inbound_names("out")
    head = Model(model.inputs, [model.layer(before)], dtype=model.dtype)
    h = head.predict(x).reshape(len(x), -1)
    out = model.layer("out").params
    return float((h @ out["kernel"] + out["bias"])[0, cls])


def _numeric_input_gradient(model, x, cls, eps=1e-6):
    grad = np.zeros_like(x)
    flat, g = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = _score(model, x, cls)
        flat[i] = old - eps
        down = _score(model, x, cls)
        flat[i] = old
        g[i] = (up - down) / (2 * eps)
    return grad


@pytest.mark.parametrize("make", [dense_model, conv_model, engine_conv_model])
@pytest.mark.parametrize("cls", [0, 2])
def test_input_gradient_matches_finite_differences(make, cls):
    model = make()
    shape = model.input_shapes[0]
    x = np.random.default_rng(1).normal(size=(1, *shape))
    explainer = ex.Explainer(model, [])
    _, dx, _ = explainer.gradients(x, [cls])
    np.testing.assert_allclose(
        dx, _numeric_input_gradient(model, x.copy(), cls), rtol=1e-6, atol=1e-8
    )


def test_layer_gradient_is_the_chain_rule_of_the_input_gradient():
    # hidden = tanh(x @ W + b): d score / dx = W @ (d score / d hidden * (1 - h²)).
    model = dense_model()
    x = np.random.default_rng(2).normal(size=(3, 4))
    explainer = ex.Explainer(model, ["hidden"])
    _, dx, layers = explainer.gradients(x, [0, 1, 2])
    h, dh = layers["hidden"]
    kernel = model.layer("hidden").params["kernel"]
    np.testing.assert_allclose(dx, (dh * (1 - h**2)) @ kernel.T, rtol=1e-10)


def test_conv_layer_gradient_matches_finite_differences_of_its_bias():
    # The conv output is linear in its bias: d score / d bias_o = sum of dA[..., o].
    model = conv_model()
    x = np.random.default_rng(3).normal(size=(1, 6, 5, 2))
    _, _, layers = ex.Explainer(model, ["conv"]).gradients(x, [1])
    _, da = layers["conv"]
    bias = model.layer("conv").params["bias"]
    numeric = np.zeros_like(bias)
    for o in range(len(bias)):
        old = bias[o]
        bias[o] = old + 1e-6
        up = _score(model, x, 1)
        bias[o] = old - 1e-6
        down = _score(model, x, 1)
        bias[o] = old
        numeric[o] = (up - down) / 2e-6
    np.testing.assert_allclose(da[0].sum(axis=(0, 1)), numeric, rtol=1e-6)


def test_gradients_leave_the_model_as_they_found_it():
    model = dense_model()
    for layer in model.layers:
        for g in layer.grads.values():
            g[...] = 7.0
    hints = [layer.needs_input_grad for layer in model.layers]
    model.layer("hidden").needs_input_grad = False
    hints = [layer.needs_input_grad for layer in model.layers]
    ex.Explainer(model, ["hidden"]).gradients(np.ones((2, 4)))
    assert [layer.needs_input_grad for layer in model.layers] == hints
    assert all((g == 7.0).all() for layer in model.layers for g in layer.grads.values())


def test_class_score_seed_for_sigmoid_and_regression():
    out = np.array([[0.2], [0.9]])
    seed = ex.class_score_seed(out, [1, 0])  # logit z for class 1, -z for class 0
    np.testing.assert_allclose(seed[:, 0], [1.0, -1.0])
    reg = ex.class_score_seed(np.zeros((2, 3)), [2, 0], task="regression")
    np.testing.assert_array_equal(reg, [[0, 0, 1], [1, 0, 0]])


def test_grad_cam_by_hand():
    value = np.arange(12, dtype=np.float64).reshape(2, 3, 2)
    grad = np.zeros((2, 3, 2))
    grad[..., 0] = 1.0  # alpha = (1, -0.5)
    grad[..., 1] = -0.5
    expected = np.maximum(value[..., 0] - 0.5 * value[..., 1], 0)
    np.testing.assert_allclose(ex.grad_cam(value, grad), expected)
    assert ex.gradcam_problem((1, 1, 64)) is not None
    assert "1x1" in ex.gradcam_problem((1, 1, 64))
    assert ex.gradcam_problem((10,)) is not None
    assert ex.gradcam_problem((3, 3, 8)) is None


def test_saliency_maps_of_a_conv_model():
    model = conv_model()
    x = np.random.default_rng(4).normal(size=(6, 5, 2))
    explainer = ex.Explainer(model, ["conv"])
    result = ex.saliency(explainer, x, [0, 2], smooth_samples=5, seed=3)
    assert result.classes == (0, 2)
    for c in (0, 2):
        _, dx, layers = explainer.gradients(x[None], [c])
        np.testing.assert_allclose(result.vanilla[c], np.abs(dx[0]).max(axis=-1))
        np.testing.assert_allclose(result.grad_x_input[c], (dx[0] * x).sum(axis=-1))
        value, grad = layers["conv"]
        np.testing.assert_allclose(
            result.grad_cam["conv"][c], ex.grad_cam(value[0], grad[0])
        )
        assert result.grad_cam["conv"][c].shape == (4, 3)
    # SmoothGrad: the mean gradient over the noisy copies drawn from the seed.
    rng = np.random.default_rng(3)
    sigma = ex.SMOOTH_NOISE * (x.max() - x.min())
    noisy = x + rng.normal(0.0, sigma, size=(5, *x.shape))
    _, dxn, _ = explainer.gradients(noisy, [2] * 5)
    np.testing.assert_allclose(result.smooth[2], np.abs(dxn.mean(axis=0)).max(axis=-1))
    # SmoothGrad for some classes only: the same maps, for those.
    some = ex.saliency(
        explainer, x, [0, 2], smooth_classes=[2], smooth_samples=5, seed=3
    )
    assert set(some.smooth) == {2} and set(some.vanilla) == {0, 2}
    np.testing.assert_allclose(some.smooth[2], result.smooth[2])
    # The same seed gives the same maps (a live view does not flicker).
    again = ex.saliency(explainer, x, [0, 2], smooth_samples=5, seed=3)
    np.testing.assert_array_equal(again.smooth[0], result.smooth[0])


def test_resize_bilinear():
    img = np.array([[0.0, 1.0], [2.0, 3.0]])
    same = ex.resize_bilinear(img, (2, 2))
    np.testing.assert_allclose(same, img)
    big = ex.resize_bilinear(img, (4, 4))
    assert big.shape == (4, 4)
    np.testing.assert_allclose(big[0], [0, 0.25, 0.75, 1.0])
    np.testing.assert_allclose(big[:, 0], [0, 0.5, 1.5, 2.0])


def test_scale_maps_scopes():
    a = np.zeros((2, 2, 2))
    a[..., 0] = [[0, 1], [2, 4]]
    a[..., 1] = [[0, 0], [0, 2]]
    b = np.full((1, 1, 1), 8.0)
    maps = {"a": a, "b": b}
    per_channel = ex.scale_maps(maps, "channel")
    np.testing.assert_allclose(per_channel["a"][..., 1], [[0, 0], [0, 1]])
    np.testing.assert_allclose(per_channel["a"][..., 0], [[0, 0.25], [0.5, 1]])
    assert (per_channel["b"] == 0).all()  # a constant channel
    # top=100: the layer's / network's minimum to maximum.
    per_layer = ex.scale_maps(maps, "layer", top=100)
    np.testing.assert_allclose(per_layer["a"][..., 1], [[0, 0], [0, 0.5]])
    network = ex.scale_maps(maps, "network", top=100)
    np.testing.assert_allclose(network["a"][..., 0], [[0, 1 / 8], [2 / 8, 4 / 8]])
    np.testing.assert_allclose(network["b"], [[[1.0]]])
    # By default the 99.5th percentile is full brightness: one outlier saturates
    # instead of leaving the rest of its layer black.
    layer = np.zeros((20, 20, 2))
    layer[..., 0] = np.arange(400).reshape(20, 20) / 400.0
    layer[0, 0, 1] = 1000.0
    scaled = ex.scale_maps({"c": layer}, "layer")["c"]
    hi = np.percentile(layer, 99.5)
    assert 0.99 < hi < 1000
    np.testing.assert_allclose(
        scaled[..., 0], np.clip(layer[..., 0] / hi, 0, 1), rtol=1e-6
    )
    assert scaled[0, 0, 1] == 1.0 and scaled.max() == 1.0
    # A layer that is almost all zeros keeps its few values (the maximum is 1).
    sparse = np.zeros((10, 10, 3))
    sparse[2, 3, 1] = 0.5
    assert ex.scale_maps({"d": sparse}, "layer")["d"][2, 3, 1] == 1.0
    with pytest.raises(ConfigError, match="colour scope"):
        ex.scale_maps(maps, "pixel")


def test_channel_grid_places_each_channel():
    maps = np.arange(2 * 3 * 5, dtype=np.float32).reshape(2, 3, 5)
    grid = ex.channel_grid(maps, columns=2)
    assert grid.shape == (3 * 3 - 1, 2 * 4 - 1)
    np.testing.assert_array_equal(grid[0:2, 0:3], maps[..., 0])
    np.testing.assert_array_equal(grid[0:2, 4:7], maps[..., 1])
    np.testing.assert_array_equal(grid[6:8, 0:3], maps[..., 4])
    assert np.isnan(grid[2]).all() and np.isnan(grid[6:8, 4:7]).all()


def test_filter_grid_rgb_and_tiles():
    rng = np.random.default_rng(5)
    rgb, cols = ex.filter_grid(rng.normal(size=(3, 3, 3, 4)))
    assert cols == 2 and rgb.shape == (7, 7, 3)
    tile = rgb[0:3, 4:7]
    assert np.nanmin(tile) == 0.0 and np.nanmax(tile) == 1.0
    kernel = rng.normal(size=(2, 3, 4, 5))
    tiles, cols = ex.filter_grid(kernel)
    assert cols == 4 and tiles.shape == (5 * 3 - 1, 4 * 4 - 1)
    top = np.abs(kernel).max()
    np.testing.assert_allclose(tiles[3:5, 4:7], kernel[:, :, 1, 1] / top, rtol=1e-6)


def test_channel_peaks_find_dead_filters():
    values = np.ones((4, 3, 3, 2))
    values[..., 1] = -np.abs(values[..., 1])
    np.testing.assert_array_equal(ex.channel_peaks(values), [1.0, -1.0])


def test_permutation_importance_by_hand():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(200, 3))
    y = (x[:, 0] > 0).astype(np.int64)

    def predict(a):  # uses feature 0 only
        p = 1 / (1 + np.exp(-10 * a[:, 0]))
        return np.column_stack([1 - p, p])

    base, mean, std = ex.permutation_importance(
        predict, x, y, "classification", repeats=4, seed=9
    )
    assert base == 1.0
    assert mean[0] > 0.3 and mean[1] == 0.0 and mean[2] == 0.0
    assert std[1] == 0.0
    # Column 0's drops, computed by hand with the documented permutation order.
    perm = np.random.default_rng(9)
    drops = []
    for _ in range(4):
        shuffled = x.copy()
        shuffled[:, 0] = x[perm.permutation(200), 0]
        drops.append(1.0 - np.mean(predict(shuffled).argmax(1) == y))
    assert mean[0] == pytest.approx(np.mean(drops))
    assert std[0] == pytest.approx(np.std(drops))


def test_feature_importance_of_a_dense_model():
    model = dense_model()
    x = np.random.default_rng(7).normal(size=(50, 4))
    x[:, 3] = 0.0  # gradient x input is exactly 0 for a column that is always 0
    explainer = ex.Explainer(model, [])
    y = explainer.predict(x).argmax(axis=1)
    result = ex.feature_importance(explainer, x, y, ["a", "b", "c", "d"], repeats=2)
    assert result.features == ("a", "b", "c", "d")
    assert result.metric == "accuracy" and result.baseline == 1.0
    assert result.gradient[3] == 0.0 and result.permutation[3] == 0.0
    _, dx, _ = explainer.gradients(x)
    np.testing.assert_allclose(result.gradient, np.abs(dx * x).mean(axis=0))
    unnamed = ex.feature_importance(explainer, x, y, ["only one"], repeats=1)
    assert unnamed.features == ("x0", "x1", "x2", "x3")


def test_explainer_refuses_models_with_two_outputs():
    from nndesk.engine.layers import Dense, Input

    inp = Input((2,), name="x")
    a = Dense(1, name="a")(inp)
    b = Dense(1, name="b")(inp)
    model = Model(inp, [a, b], seed=0).build()
    with pytest.raises(ConfigError, match="one of each"):
        ex.Explainer(model)


def test_sigmoid_and_regression_scores_by_hand():
    from nndesk.engine.layers import Dense, Input

    inp = Input((3,), name="x")
    model = Model(inp, Dense(1, activation="sigmoid", name="p")(inp), seed=2).build(
        dtype=np.float64
    )
    kernel = model.layer("p").params["kernel"][:, 0]
    x = np.random.default_rng(8).normal(size=(2, 3))
    _, dx, _ = ex.Explainer(model).gradients(x, [1, 0])  # z = x @ w + b
    np.testing.assert_allclose(dx, [kernel, -kernel])
    inp = Input((3,), name="x")
    model = Model(inp, Dense(2, name="y")(inp), seed=2).build(dtype=np.float64)
    _, dx, _ = ex.Explainer(model, task="regression").gradients(x, [1, 1])
    np.testing.assert_allclose(
        dx, np.tile(model.layer("y").params["kernel"][:, 1], (2, 1))
    )


def test_grad_cam_layers_of_the_engine_conv_layers():
    # pool = maxpool(conv): the gradient reaching conv is the pool's routed back.
    model = engine_conv_model()
    x = np.random.default_rng(9).normal(size=(1, 7, 6, 2))
    _, dx, layers = ex.Explainer(model, ["conv", "pool"]).gradients(x, [2])
    conv, dconv = layers["conv"]
    pool, dpool = layers["pool"]
    assert conv.shape == (1, 7, 6, 3) and pool.shape == (1, 3, 3, 3)
    # Every pooled value's gradient lands on its window's maximum (a positive one).
    assert np.isclose(dconv.sum(), dpool.sum())
    window = conv[0, :2, :2, :]
    arg = window.reshape(4, 3).argmax(axis=0)
    for c in range(3):
        i, j = divmod(int(arg[c]), 2)
        assert dconv[0, i, j, c] == pytest.approx(dpool[0, 0, 0, c])
