"""Convolution and pooling layers: shape rules, errors, gradients, kernels, models.

``LAYER_EXAMPLES`` feeds the generic layer tests of ``test_layers.py`` (config
round trip through JSON, float64 gradient check, inputs left alone); the PyTorch
equality is ``test_conv_reference.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import assert_gradient, check_layer_gradients, check_model_gradients

from nndesk.engine import losses, optimizers
from nndesk.engine.errors import ConfigError, ShapeError
from nndesk.engine.kernels.conv import (
    WindowGeometry,
    axis_geometry,
    col2im,
    im2col,
    product_block,
)
from nndesk.engine.layers import (
    AvgPool2D,
    BatchNorm,
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    GlobalMaxPool2D,
    Input,
    Layer,
    MaxPool2D,
    UpSampling2D,
)
from nndesk.engine.model import Model, Sequential

LAYER_EXAMPLES: dict[str, tuple[Layer, list[tuple[int, ...]]]] = {
    "Conv2D": (
        Conv2D(
            3,
            (3, 2),
            strides=(2, 1),
            padding="same",
            dilation_rate=(1, 2),
            activation="tanh",
            l1=0.01,
            l2=0.02,
            name="conv",
        ),
        [(5, 6, 2)],
    ),
    "Conv1D": (Conv1D(3, 3, strides=2, padding="same", name="c1"), [(7, 2)]),
    "Conv2DTranspose": (
        Conv2DTranspose(2, 3, strides=2, padding="same", name="up"),
        [(3, 4, 2)],
    ),
    "MaxPool2D": (MaxPool2D(3, strides=2, padding="same", name="mp"), [(5, 6, 2)]),
    "AvgPool2D": (AvgPool2D((2, 3), strides=1, name="ap"), [(4, 5, 2)]),
    "GlobalAvgPool2D": (GlobalAvgPool2D(name="gap"), [(3, 4, 2)]),
    "GlobalMaxPool2D": (GlobalMaxPool2D(name="gmp"), [(3, 4, 2)]),
    "UpSampling2D": (UpSampling2D((2, 3), name="us"), [(2, 3, 2)]),
}


def build(layer: Layer, shapes, dtype=np.float64) -> Layer:
    layer.build(shapes, np.random.default_rng(0), dtype)
    return layer


# --- shape rules and counts ---------------------------------------------------------
@pytest.mark.parametrize(
    ("layer", "shape", "out", "params"),
    [
        (Conv2D(32, 3), (28, 28, 1), (26, 26, 32), 320),
        (Conv2D(32, 3, use_bias=False), (28, 28, 1), (26, 26, 32), 288),
        (Conv2D(64, 3), (13, 13, 32), (11, 11, 64), 18496),
        (Conv2D(8, 3, padding="same"), (28, 27, 3), (28, 27, 8), 224),
        (Conv2D(8, 3, strides=2, padding="same"), (28, 27, 3), (14, 14, 8), 224),
        (Conv2D(8, 3, strides=2), (28, 27, 3), (13, 13, 8), 224),
        (Conv2D(4, 3, dilation_rate=2), (9, 10, 1), (5, 6, 4), 40),
        (Conv2D(4, (1, 5)), (3, 5, 2), (3, 1, 4), 44),
        (Conv1D(16, 5), (100, 3), (96, 16), 256),
        (Conv1D(16, 5, strides=2, padding="same"), (100, 3), (50, 16), 256),
        (Conv2DTranspose(8, 3, strides=2), (7, 7, 4), (15, 15, 8), 296),
        (Conv2DTranspose(8, 3, strides=2, padding="same"), (7, 6, 4), (14, 12, 8), 296),
        (Conv2DTranspose(8, 1, strides=3, padding="same"), (2, 2, 4), (6, 6, 8), 40),
        (MaxPool2D(), (26, 26, 32), (13, 13, 32), 0),
        (MaxPool2D(), (27, 27, 1), (13, 13, 1), 0),
        (MaxPool2D(padding="same"), (27, 27, 1), (14, 14, 1), 0),
        (AvgPool2D(3, strides=1, padding="same"), (5, 4, 2), (5, 4, 2), 0),
        (GlobalAvgPool2D(), (7, 7, 64), (64,), 0),
        (GlobalMaxPool2D(), (7, 7, 64), (64,), 0),
        (UpSampling2D(), (7, 5, 3), (14, 10, 3), 0),
    ],
)
def test_output_shape_and_param_count(layer, shape, out, params):
    assert layer.output_shape([shape]) == out
    assert layer.param_count([shape]) == params


def test_kernel_layouts():
    assert Conv2D(8, (3, 2)).param_shapes([(9, 9, 4)]) == {
        "kernel": (3, 2, 4, 8),
        "bias": (8,),
    }
    assert Conv1D(8, 5).param_shapes([(20, 3)])["kernel"] == (5, 3, 8)
    assert Conv2DTranspose(8, 3).param_shapes([(5, 5, 2)])["kernel"] == (3, 3, 2, 8)


def test_automatic_names_keep_the_digits():
    model = Sequential([Input((6, 6, 1)), Conv2D(2, 3), MaxPool2D(), Flatten()])
    assert [layer.name for layer in model.layers[1:]] == [
        "conv2d_1",
        "max_pool2d_1",
        "flatten_1",
    ]


# --- bad input: one sentence from the shape rule ------------------------------------
@pytest.mark.parametrize(
    ("layer", "shape", "message"),
    [
        (
            Conv2D(8, 3, name="conv_1"),
            (784,),
            r"^Conv2D 'conv_1' expects \(height, width, channels\) inputs but "
            r"receives \(784,\): reshape it to an image first, e\.g\. "
            r"Reshape\(\(height, width, 1\)\)\.$",
        ),
        (
            Conv2D(8, 3, name="conv_1"),
            (28, 28),
            r"^Conv2D 'conv_1' expects \(height, width, channels\) inputs but "
            r"receives \(28, 28\): add a channel axis, e\.g\. Reshape\(\(28, 28, 1\)\)\.$",
        ),
        (
            Conv2D(8, 5, name="conv_2"),
            (4, 9, 3),
            r"^Conv2D 'conv_2' has a 5x5 kernel larger than its input \(4, 9, 3\) with "
            r"padding 'valid': use a smaller kernel, padding 'same', or a larger "
            r"input\.$",
        ),
        (
            Conv2D(8, 3, dilation_rate=3, name="c"),
            (6, 9, 3),
            r"^Conv2D 'c' has a 3x3 kernel \(dilated to 7x7\) larger than its input",
        ),
        (
            Conv1D(8, 5, name="c1"),
            (3, 2),
            r"^Conv1D 'c1' has a 5-step kernel larger than its input \(3, 2\) with "
            r"padding 'valid'",
        ),
        (
            Conv1D(4, 3, dilation_rate=2, name="c1"),
            (4, 1),
            r"^Conv1D 'c1' has a 3-step kernel \(dilated to 5 steps\) larger than "
            r"its input \(4, 1\)",
        ),
        (
            Conv1D(8, 5, name="c1"),
            (30,),
            r"^Conv1D 'c1' expects \(steps, channels\) inputs but receives \(30,\): "
            r"add a channel axis, e\.g\. Reshape\(\(30, 1\)\)\.$",
        ),
        (
            MaxPool2D(4, name="mp"),
            (3, 8, 2),
            r"^MaxPool2D 'mp' has a 4x4 pool window larger than its input \(3, 8, 2\)",
        ),
        (
            GlobalAvgPool2D(name="g"),
            (10,),
            r"^GlobalAvgPool2D 'g' expects \(height, width, channels\) inputs",
        ),
        (
            Conv2DTranspose(2, 3, name="t"),
            (5, 5, 2, 1),
            r"^Conv2DTranspose 't' expects \(height, width, channels\) inputs but "
            r"receives \(5, 5, 2, 1\)\.$",
        ),
    ],
)
def test_bad_shapes_are_one_sentence(layer, shape, message):
    with pytest.raises(ShapeError, match=message):
        layer.output_shape([shape])
    if isinstance(layer, (Conv2D, Conv2DTranspose)):  # weight shapes too
        with pytest.raises(ShapeError, match=message):
            layer.param_count([shape])


def test_bad_shape_is_refused_when_the_graph_is_built():
    with pytest.raises(ShapeError, match="insert|add a channel axis"):
        Conv2D(4, 3)(Input((28, 28)))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Conv2D(0, 3), r"filters must be a positive integer, got 0"),
        (lambda: Conv2D(4, 0), r"kernel_size must be a positive integer, got 0"),
        (
            lambda: Conv2D(4, (3, 3, 3)),
            r"kernel_size must be a positive integer or 2 of them, got \(3, 3, 3\)",
        ),
        (lambda: Conv2D(4, 3, padding="full"), r"padding must be 'valid' or 'same'"),
        (lambda: Conv2D(4, 3, strides=True), r"strides must be a positive integer"),
        (lambda: Conv1D(4, (3, 3)), r"kernel_size must be a positive integer, got"),
        (lambda: Conv2D(4, 3, activation="nope"), r"Conv2D: .*nope"),
        (lambda: Conv2D(4, 3, l2=-1), r"l2 must be finite and >= 0"),
        (lambda: MaxPool2D(0), r"pool_size must be a positive integer"),
        (lambda: UpSampling2D((2, 0)), r"size must be a positive integer"),
    ],
)
def test_bad_config_is_one_sentence(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_padding_is_case_insensitive_and_defaults_strides_to_the_pool():
    assert Conv2D(2, 3, padding="SAME").padding == "same"
    assert MaxPool2D((2, 3)).strides == (2, 3)


# --- window arithmetic ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("size", "k", "s", "d", "out", "before", "after"),
    [
        (7, 3, 1, 1, 7, 1, 1),
        (6, 2, 1, 1, 6, 0, 1),  # even kernel: the extra pad at the end (Keras)
        (7, 3, 2, 1, 4, 1, 1),
        (6, 3, 2, 1, 3, 0, 1),
        (5, 4, 3, 1, 2, 1, 1),
        (5, 3, 1, 2, 5, 2, 2),
        (4, 1, 2, 1, 2, 0, 0),
    ],
)
def test_same_padding_follows_keras(size, k, s, d, out, before, after):
    g = axis_geometry(size, k, s, d, "same")
    assert (g.out, g.before, g.after) == (out, before, after)


def test_valid_window_larger_than_input_has_no_geometry():
    assert axis_geometry(4, 5, 1, 1, "valid") is None
    assert axis_geometry(8, 3, 1, 4, "valid") is None  # span 9
    assert axis_geometry(9, 3, 1, 4, "valid").out == 1


@pytest.mark.parametrize(("k", "s", "d"), [(3, 1, 1), (3, 2, 1), (2, 3, 2), (5, 2, 2)])
@pytest.mark.parametrize("c", [1, 3, 8])  # compiled col2im from 8; 1: per-tap im2col
def test_im2col_and_col2im_against_loops(k, s, d, c, kernel_path, rng):
    """im2col reads what an explicit loop reads; col2im is its adjoint, equal to
    np.add.at over every window."""
    n, h, w = 2, 10, 9
    rows = axis_geometry(h, k, s, d, "valid")
    cols = axis_geometry(w, k, s, d, "valid")
    g = WindowGeometry(rows, cols, c)
    x = rng.normal(size=(n, h, w, c))
    got = im2col(x, g, np.empty((n * rows.out * cols.out, k * k * c)))
    want = np.empty((n, rows.out, cols.out, k, k, c))
    for a in range(rows.out):
        for b in range(cols.out):
            for i in range(k):
                for j in range(k):
                    want[:, a, b, i, j] = x[:, a * s + i * d, b * s + j * d]
    np.testing.assert_array_equal(got, want.reshape(got.shape))

    dtaps = rng.normal(size=(k * k, n * rows.out * cols.out, c))
    dx = col2im(dtaps, g, np.full((n, h, w, c), np.nan))
    ref = np.zeros((n, h, w, c))
    blocks = dtaps.reshape(k, k, n, rows.out, cols.out, c)
    for a in range(rows.out):
        for b in range(cols.out):
            for i in range(k):
                for j in range(k):
                    np.add.at(
                        ref,
                        (slice(None), a * s + i * d, b * s + j * d),
                        blocks[i, j, :, a, b],
                    )
    np.testing.assert_allclose(dx, ref, rtol=1e-12, atol=1e-12)
    # Adjoint: <im2col(x), dcols> == <x, col2im(dcols)>.
    as_cols = dtaps.reshape(k * k, -1, c).transpose(1, 0, 2).reshape(got.shape)
    assert np.vdot(got, as_cols) == pytest.approx(np.vdot(x, dx), rel=1e-12)


def test_thin_columns_multiply_in_blocks(rng):
    """A one-channel image's column products run in blocks of rows (faster in
    OpenBLAS); forward and kernel gradient equal the single products."""
    layer = build(Conv2D(32, 3, activation="relu", name="c"), [(28, 28, 1)])
    rows = 4 * 26 * 26
    block = product_block(rows, 9, 32)
    assert 128 <= block < rows and rows % block == 0
    assert product_block(64 * 11 * 11, 288, 64) == 64 * 11 * 11  # wide: one product
    x = rng.normal(size=(4, 28, 28, 1))
    y = layer.forward([x], True)
    cols = x[:, :, :, 0]
    windows = np.stack(
        [cols[:, i : i + 26, j : j + 26] for i in range(3) for j in range(3)], -1
    ).reshape(rows, 9)
    kernel = layer.params["kernel"].reshape(9, 32)
    z = windows @ kernel + layer.params["bias"]
    np.testing.assert_allclose(y.reshape(rows, 32), np.maximum(z, 0), atol=1e-12)
    dy = rng.normal(size=y.shape)
    layer.backward(dy)
    dz = dy.reshape(rows, 32) * (z > 0)
    np.testing.assert_allclose(
        layer.grads["kernel"].reshape(9, 32), windows.T @ dz, rtol=1e-10, atol=1e-10
    )
    np.testing.assert_allclose(layer.grads["bias"], dz.sum(0), rtol=1e-10)


# --- gradients -------------------------------------------------------------------------
CONV_VARIANTS = [
    (Conv2D, dict(filters=3, kernel_size=3), (5, 6, 2)),
    (Conv2D, dict(filters=2, kernel_size=(2, 3), strides=2, padding="same"), (5, 6, 2)),
    (
        Conv2D,
        dict(filters=2, kernel_size=3, dilation_rate=2, padding="same"),
        (6, 5, 1),
    ),
    (Conv2D, dict(filters=3, kernel_size=1), (3, 4, 2)),
    (Conv2D, dict(filters=3, kernel_size=1, strides=2, use_bias=False), (3, 4, 2)),
    (Conv2D, dict(filters=2, kernel_size=4, strides=3, padding="same"), (5, 4, 2)),
    (Conv1D, dict(filters=2, kernel_size=3, dilation_rate=2), (9, 2)),
    (Conv2DTranspose, dict(filters=2, kernel_size=3, strides=2), (3, 2, 2)),
    (
        Conv2DTranspose,
        dict(filters=2, kernel_size=1, strides=2, padding="same"),
        (2, 3, 2),
    ),
    (
        Conv2DTranspose,
        dict(filters=2, kernel_size=(3, 2), strides=(1, 3), dilation_rate=(2, 1)),
        (2, 3, 2),
    ),
]


@pytest.mark.parametrize(("cls", "kwargs", "shape"), CONV_VARIANTS)
@pytest.mark.parametrize("activation", ["linear", "relu", "sigmoid"])
def test_conv_gradients(cls, kwargs, shape, activation, kernel_path, rng):
    layer = build(cls(activation=activation, name="c", **kwargs), [shape])
    if "bias" in layer.params:
        # Off zero: the outputs of a transposed convolution that no tap reaches
        # equal the bias, which would sit on ReLU's kink.
        layer.params["bias"][:] = rng.normal(size=layer.params["bias"].shape)
    x = rng.normal(size=(2, *shape))
    check_layer_gradients(layer, [x])


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (MaxPool2D(), (4, 6, 2)),
        (MaxPool2D(3, strides=2, padding="same"), (5, 6, 2)),
        (MaxPool2D((2, 3), strides=1), (4, 5, 1)),
        (AvgPool2D(), (5, 4, 2)),
        (AvgPool2D(3, strides=2, padding="same"), (6, 5, 2)),
        (GlobalAvgPool2D(), (3, 4, 2)),
        (GlobalMaxPool2D(), (3, 4, 2)),
        (UpSampling2D(), (2, 3, 2)),
    ],
)
def test_pool_gradients(layer, shape, rng):
    check_layer_gradients(build(layer, [shape]), [rng.normal(size=(3, *shape))])


def test_conv_regularization_gradient(rng):
    layer = build(Conv2D(2, 3, l1=0.03, l2=0.2, name="c"), [(4, 4, 2)])
    w = layer.params["kernel"]
    assert layer.has_regularization
    assert layer.regularization_loss() == pytest.approx(
        0.03 * np.abs(w).sum() + 0.2 * (w**2).sum()
    )
    layer.grads["kernel"][:] = 0
    layer.add_regularization_grads()
    assert_gradient(layer.regularization_loss, w, layer.grads["kernel"].copy())


def test_first_layer_skips_its_input_gradient(rng):
    layer = build(Conv2D(2, 3), [(5, 5, 1)])
    layer.needs_input_grad = False
    y = layer.forward([rng.normal(size=(2, 5, 5, 1))], True)
    assert layer.backward(np.ones_like(y)) == [None]
    assert np.abs(layer.grads["kernel"]).sum() > 0


def test_small_cnn_model_gradients(rng):
    model = Sequential(
        [
            Input((6, 5, 2)),
            Conv2D(3, 3, padding="same", activation="tanh"),
            BatchNorm(),
            MaxPool2D(),
            Conv2DTranspose(2, 2, strides=2, activation="sigmoid"),
            Dropout(0.3),
            GlobalAvgPool2D(),
            Dense(2),
        ],
        dtype=np.float64,
        seed=0,
    )
    check_model_gradients(model, rng.normal(size=(3, 6, 5, 2)))


# --- BatchNorm and Dropout over the channels of images -----------------------------------
def test_batchnorm_normalises_each_channel_over_batch_height_width(rng):
    layer = build(BatchNorm(), [(4, 5, 3)])
    x = rng.normal(loc=[1.0, -2.0, 5.0], scale=[1.0, 3.0, 0.5], size=(6, 4, 5, 3))
    y = layer.forward([x], training=True)
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 1, 2)), 1, rtol=1e-4)
    np.testing.assert_allclose(
        layer.state["running_mean"], 0.1 * x.mean(axis=(0, 1, 2)), rtol=1e-12
    )
    assert layer.param_shapes([(4, 5, 3)]) == {"gamma": (3,), "beta": (3,)}


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_image_gradients(training, rng):
    layer = build(BatchNorm(), [(3, 4, 2)])
    layer.params["gamma"][:] = rng.uniform(0.5, 2.0, size=2)
    layer.state["running_var"][:] = rng.uniform(0.5, 2.0, size=2)
    check_layer_gradients(layer, [rng.normal(size=(2, 3, 4, 2))], training=training)


def test_dropout_on_images_masks_every_value(kernel_path, rng):
    layer = build(Dropout(0.25), [(8, 8, 4)], dtype=np.float32)
    x = np.ones((32, 8, 8, 4), dtype=np.float32)
    y = layer.forward([x], training=True)
    assert y.shape == x.shape
    assert (y != 0).mean() == pytest.approx(0.75, abs=0.02)
    np.testing.assert_allclose(y[y != 0], 1 / 0.75, rtol=1e-6)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x))[0], y)


def test_dropout_image_gradients(rng):
    layer = build(Dropout(0.4), [(3, 4, 2)])
    check_layer_gradients(layer, [rng.normal(size=(2, 3, 4, 2))], training=True)


# --- speed by design: buffers reused, float32 throughout ---------------------------------
def test_buffers_are_reused_across_steps(rng):
    layer = build(
        Conv2D(4, 3, padding="same", activation="relu"), [(7, 7, 3)], np.float32
    )
    x = rng.normal(size=(5, 7, 7, 3)).astype(np.float32)
    y1 = layer.forward([x], True)
    dx1 = layer.backward(np.ones_like(y1))[0]
    arrays = {k: id(v) for k, v in layer._buffers.items()}
    y2 = layer.forward([x], True)
    dx2 = layer.backward(np.ones_like(y2))[0]
    assert np.shares_memory(y1, y2) and np.shares_memory(dx1, dx2)
    assert {k: id(v) for k, v in layer._buffers.items()} == arrays
    assert y2.dtype == dx2.dtype == np.float32


def test_float32_matches_float64(rng):
    x = rng.normal(size=(3, 8, 7, 2))
    outs = []
    for dtype in (np.float32, np.float64):
        layer = Conv2D(3, 3, strides=2, padding="same", name="c")
        layer.build([(8, 7, 2)], np.random.default_rng(5), dtype)
        outs.append(layer.forward([x.astype(dtype)], False).astype(np.float64))
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("pool", "strides", "padding", "shape"),
    [
        (2, None, "valid", (6, 8, 3)),  # tiled: every value written once
        (3, 2, "same", (7, 6, 2)),  # overlapping windows, -inf padding
        ((2, 3), 1, "valid", (5, 5, 1)),
        (12, None, "valid", (12, 13, 2)),  # 144 taps: an int32 mask
    ],
)
def test_max_pool_against_a_loop(pool, strides, padding, shape, kernel_path, rng):
    """Each window's largest value, and its gradient to the first maximum
    (row-major), ties included (ReLU zeros), on both kernel paths."""
    layer = build(MaxPool2D(pool, strides=strides, padding=padding), [shape])
    x = np.maximum(rng.normal(size=(3, *shape)), 0)  # half of it tied zeros
    y = layer.forward([x], True)
    dy = rng.normal(size=y.shape)
    dx = layer.backward(dy)[0]
    k = layer.pool_size
    s = layer.strides
    rows = axis_geometry(shape[0], k[0], s[0], 1, padding)
    cols = axis_geometry(shape[1], k[1], s[1], 1, padding)
    xp = np.full((3, rows.padded, cols.padded, shape[2]), -np.inf)
    xp[:, rows.before : rows.before + shape[0], cols.before : cols.before + shape[1]] = x
    want_y = np.empty_like(y)
    want_dx = np.zeros_like(xp)
    for a in range(rows.out):
        for b in range(cols.out):
            r0, c0 = a * s[0], b * s[1]
            window = xp[:, r0 : r0 + k[0], c0 : c0 + k[1]].reshape(3, -1, shape[2])
            first = window.argmax(axis=1)  # the first maximum
            want_y[:, a, b] = window.max(axis=1)
            for n in range(3):
                for c in range(shape[2]):
                    i, j = divmod(first[n, c], k[1])
                    want_dx[n, r0 + i, c0 + j, c] += dy[n, a, b, c]
    np.testing.assert_array_equal(y, want_y)
    inner = want_dx[
        :, rows.before : rows.before + shape[0], cols.before : cols.before + shape[1]
    ]
    np.testing.assert_allclose(dx, inner, rtol=1e-12, atol=1e-12)


def test_max_pool_gradient_goes_to_the_first_maximum():
    layer = build(MaxPool2D(), [(2, 2, 1)])
    x = np.zeros((1, 2, 2, 1))
    layer.forward([x], True)
    dx = layer.backward(np.ones((1, 1, 1, 1)))[0]
    np.testing.assert_array_equal(dx[0, :, :, 0], [[1, 0], [0, 0]])


# --- in a model: fit, weights, summary, memory ---------------------------------------
def tiny_cnn(seed: int = 0) -> Model:
    return Sequential(
        [
            Input((8, 8, 1), name="image"),
            Conv2D(4, 3, activation="relu", name="conv"),
            MaxPool2D(name="pool"),
            Flatten(name="flat"),
            Dense(2, activation="softmax", name="out"),
        ],
        seed=seed,
    )


def bars(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Images with a vertical (class 0) or horizontal (class 1) bright bar."""
    x = 0.1 * rng.normal(size=(n, 8, 8, 1)).astype(np.float32)
    y = rng.integers(0, 2, size=n)
    where = rng.integers(1, 7, size=n)
    for i in range(n):
        if y[i]:
            x[i, where[i], :, 0] += 1
        else:
            x[i, :, where[i], 0] += 1
    return x, y


def test_a_small_cnn_learns(rng):
    x, y = bars(rng, 256)
    model = tiny_cnn()
    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=optimizers.Adam(lr=0.02),
        metrics=["accuracy"],
    )
    before = model.evaluate(x, y)["loss"]
    model.fit(x, y, epochs=8, batch_size=32)
    after = model.evaluate(x, y)
    assert after["loss"] < 0.5 * before
    assert after["accuracy"] > 0.9


def test_weights_round_trip_and_summary(rng, tmp_path):
    model = tiny_cnn(seed=1)
    model.build()
    weights = model.get_weights()
    assert {k: v.shape for k, v in weights.items()} == {
        "conv/kernel": (3, 3, 1, 4),
        "conv/bias": (4,),
        "out/kernel": (36, 2),
        "out/bias": (2,),
    }
    np.savez(tmp_path / "w.npz", **weights)
    other = tiny_cnn(seed=2)
    with np.load(tmp_path / "w.npz", allow_pickle=False) as data:
        other.set_weights({k: data[k] for k in data.files})
    x = rng.normal(size=(3, 8, 8, 1)).astype(np.float32)
    np.testing.assert_array_equal(model.predict(x), other.predict(x))
    rows = {r["name"]: r for r in model.summary_rows()}
    assert rows["conv"]["output_shape"] == (None, 6, 6, 4)
    assert rows["conv"]["params"] == 40 and rows["conv"]["activation"] == "relu"
    assert rows["pool"]["output_shape"] == (None, 3, 3, 4)
    assert "conv (Conv2D)" in model.summary()


def test_memory_estimate_counts_the_im2col_columns():
    from nndesk.training.memory import estimate_training_memory

    def node(model, name):
        est = estimate_training_memory(model, optimizers.SGD(), batch_size=64)
        return next(n for n in est.nodes if n.node_id == name)

    conv = Sequential([Input((28, 28, 3)), Conv2D(8, 5, name="c")])
    pointwise = Sequential([Input((28, 28, 3)), Conv2D(8, 1, name="c")])
    # Per sample in training: 24*24 windows of 5*5*3 taps, and their gradient.
    layer = conv.layer("c")
    assert layer.scratch_size([(28, 28, 3)], training=True) == 2 * 24 * 24 * 75
    assert node(conv, "c").activations > node(pointwise, "c").activations
    extra = node(conv, "c").activations - 4 * 128 * (4 * 24 * 24 * 8 + 2 * 28 * 28 * 3)
    assert extra >= 4 * 128 * 2 * 24 * 24 * 75


def test_fused_sigmoid_crossentropy_on_a_conv_output(rng):
    """A Conv2D output ending in sigmoid fuses with binary cross-entropy (the loss
    reads the pre-activation) and steps exactly as a linear Conv2D trained with
    the from-logits loss."""

    def make(activation: str) -> Model:
        return Sequential(
            [Input((6, 6, 2)), Conv2D(1, 3, padding="same", activation=activation)],
            dtype=np.float64,
            seed=0,
        )

    x = rng.normal(size=(4, 6, 6, 2))
    y = (rng.random((4, 6, 6, 1)) > 0.5).astype(float)
    fused, logits = make("sigmoid"), make("linear")
    fused.compile(loss="binary_crossentropy", optimizer="sgd")
    logits.compile(
        loss=losses.get("binary_crossentropy", from_logits=True), optimizer="sgd"
    )
    assert fused._fused == [True]
    logits.set_weights(fused.get_weights())
    a = fused.train_on_batch(x, y)["loss"]
    b = logits.train_on_batch(x, y)["loss"]
    assert a == pytest.approx(b, rel=1e-12)
    for key, w in logits.get_weights().items():
        np.testing.assert_allclose(fused.get_weights()[key], w, rtol=1e-12)


def test_per_pixel_softmax_gradients(rng):
    layer = build(Conv2D(3, 1, activation="softmax", name="seg"), [(4, 5, 2)])
    check_layer_gradients(layer, [rng.normal(size=(2, 4, 5, 2))])


@pytest.mark.parametrize("cls", [MaxPool2D, AvgPool2D])
@pytest.mark.parametrize("shape", [(4, 6, 2), (5, 6, 2)])  # tiled, and a spare row
def test_pool_backward_reuses_its_buffer_cleanly(cls, shape, kernel_path, rng):
    """The second backward through reused buffers equals a fresh layer's (tiled
    windows write each value once and skip zeroing)."""
    x1, x2 = rng.normal(size=(2, 3, *shape))
    used = build(cls(), [shape])
    y = used.forward([x1], True)
    used.backward(rng.normal(size=y.shape))
    used.forward([x2], True)
    dy = rng.normal(size=y.shape)
    fresh = build(cls(), [shape])
    fresh.forward([x2], True)
    np.testing.assert_array_equal(used.backward(dy)[0], fresh.backward(dy)[0])
