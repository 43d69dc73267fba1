"""ONNX export of SimpleRNN, LSTM, GRU and Embedding, run with onnxruntime.

The exporters live in ``nndesk/io/export/onnx_layers_recurrent.py``, merged into
``onnx_export.LAYER_EXPORTERS`` like every ``onnx_layers_*`` module. Each model's
ONNX output must equal the engine's ``predict``: a wrong gate order (ONNX LSTM
i, o, f, c; GRU z, r, h) or GRU's ``linear_before_reset`` would not.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from nndesk.engine.layers import GRU, LSTM, Dense, Embedding, Input, SimpleRNN
from nndesk.engine.model import Model
from nndesk.io.export import onnx_export
from nndesk.io.export.onnx_layers_recurrent import EXPORTERS, gate_order


def test_the_family_exporters_are_merged():
    for type_name, fn in EXPORTERS.items():
        assert onnx_export.LAYER_EXPORTERS[type_name] is fn


def run(model: Model, x: np.ndarray) -> np.ndarray:
    proto = onnx_export.model_to_onnx(model)
    onnx.checker.check_model(proto, full_check=True)
    sess = ort.InferenceSession(
        proto.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]


def randomized(model: Model, seed: int) -> Model:
    """Weights and biases far from their zero/glorot start, so every gate and
    both biases matter."""
    rng = np.random.default_rng(seed)
    model.set_weights(
        {
            k: (0.5 * rng.normal(size=v.shape)).astype(v.dtype)
            for k, v in model.get_weights().items()
        }
    )
    return model


CELLS = {
    "rnn_tanh": (SimpleRNN, {"activation": "tanh"}),
    "rnn_relu": (SimpleRNN, {"activation": "relu"}),
    "lstm": (LSTM, {}),
    "gru": (GRU, {}),
}


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_layer_exports_like_predict(cell, return_sequences, bidirectional):
    cls, kw = CELLS[cell]
    x = Input((7, 3), name="x")
    y = cls(
        4,
        return_sequences=return_sequences,
        bidirectional=bidirectional,
        name="r",
        **kw,
    )(x)
    model = randomized(Model(x, y, seed=0), 1)
    data = np.random.default_rng(2).normal(size=(5, 7, 3)).astype(np.float32)
    got = run(model, data)
    want = model.predict(data)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_without_biases():
    x = Input((4, 2), name="x")
    model = randomized(Model(x, GRU(3, use_bias=False, name="g")(x), seed=0), 3)
    data = np.random.default_rng(4).normal(size=(2, 4, 2)).astype(np.float32)
    np.testing.assert_allclose(run(model, data), model.predict(data), atol=1e-5)


def test_dense_on_sequences_exports_like_predict():
    """A per-step Dense (MatMul + Add: ONNX's Gemm takes 2-D inputs only)."""
    x = Input((6,), dtype="int", name="ids")
    h = LSTM(4, return_sequences=True, name="l")(Embedding(7, 3, name="emb")(x))
    h = Dense(5, activation="softmax", name="tag")(h)
    model = randomized(Model(x, Dense(2, use_bias=False, name="o")(h), seed=0), 7)
    ids = np.random.default_rng(8).integers(0, 7, size=(3, 6)).astype(np.float32)
    np.testing.assert_allclose(run(model, ids), model.predict(ids), atol=1e-5)


def test_token_model_exports_like_predict():
    x = Input((6,), dtype="int", name="ids")
    h = Embedding(9, 4, name="emb")(x)
    h = LSTM(5, return_sequences=True, bidirectional=True, name="l1")(h)
    h = GRU(3, name="g2")(h)
    model = randomized(Model(x, Dense(2, name="out")(h), seed=0), 5)
    ids = np.random.default_rng(6).integers(0, 9, size=(4, 6)).astype(np.float32)
    np.testing.assert_allclose(run(model, ids), model.predict(ids), atol=1e-5)


def test_gate_orders():
    assert gate_order("LSTM") == (0, 3, 1, 2)  # ONNX i, o, f, c from i, f, g, o
    assert gate_order("GRU") == (1, 0, 2)  # ONNX z, r, h from r, z, n
    x = Input((3, 2), name="x")
    model = Model(x, GRU(2, name="g")(x), seed=0)
    proto = onnx_export.model_to_onnx(model)
    (node,) = [n for n in proto.graph.node if n.op_type == "GRU"]
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    assert attrs["linear_before_reset"] == 1
