"""ONNX export of MultiHeadAttention, LayerNormalization and PositionalEmbedding,
run with onnxruntime against the engine's ``predict`` (1e-5).

The exporters live in ``nndesk/io/export/onnx_layers_attention.py``, merged into
``onnx_export.LAYER_EXPORTERS`` like every ``onnx_layers_*`` module. A swapped
query/key block, a missing scale, a mask on the wrong side of the diagonal or
heads merged in the wrong order would each change the output.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from nndesk.engine.layers import (
    Add,
    Dense,
    Embedding,
    Input,
    LayerNormalization,
    MultiHeadAttention,
    PositionalEmbedding,
    Reshape,
)
from nndesk.engine.model import Model
from nndesk.io.export import onnx_export
from nndesk.io.export.onnx_layers_attention import EXPORTERS


def test_the_family_exporters_are_merged():
    for type_name, fn in EXPORTERS.items():
        assert onnx_export.LAYER_EXPORTERS[type_name] is fn


def run(model: Model, xs: list[np.ndarray]) -> np.ndarray:
    proto = onnx_export.model_to_onnx(model)
    onnx.checker.check_model(proto, full_check=True)
    assert proto.opset_import[0].version == 17
    sess = ort.InferenceSession(
        proto.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    feed = {i.name: x for i, x in zip(sess.get_inputs(), xs, strict=True)}
    return sess.run(None, feed)[0]


def randomized(model: Model, seed: int) -> Model:
    """Weights far from their start (LayerNorm's gamma 1 and beta 0 would hide a
    swapped pair)."""
    rng = np.random.default_rng(seed)
    model.set_weights(
        {
            k: (0.5 * rng.normal(size=v.shape)).astype(v.dtype)
            for k, v in model.get_weights().items()
        }
    )
    return model


def check(model: Model, xs: list[np.ndarray]) -> None:
    expected = model.predict(xs if len(xs) > 1 else xs[0])
    np.testing.assert_allclose(run(model, xs), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("heads", [1, 2, 4])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("use_bias", [True, False])
def test_self_attention_exports_like_predict(heads, causal, use_bias):
    x = Input((7, 8), name="x")
    y = MultiHeadAttention(heads, causal=causal, use_bias=use_bias, name="att")(x)
    model = randomized(Model(x, y, seed=0), heads)
    check(model, [np.random.default_rng(1).normal(size=(5, 7, 8)).astype(np.float32)])


@pytest.mark.parametrize("causal", [False, True])
def test_cross_attention_exports_like_predict(causal):
    """The exporter takes one-input networks: the queries come from the input
    through a Reshape and a Dense (6 steps), the keys and values are the input
    itself (12 steps; 6 through a Dense when causal, which needs one length)."""
    x = Input((12, 6), name="x")
    q = Dense(6, name="q")(Reshape((6, 12), name="fold")(x))
    kv = Dense(6, name="kv")(q) if causal else x
    y = MultiHeadAttention(3, 2, causal=causal, name="cross")([q, kv])
    model = randomized(Model(x, y, seed=0), 5)
    check(model, [np.random.default_rng(2).normal(size=(4, 12, 6)).astype(np.float32)])


def test_head_mask_is_exported():
    x = Input((5, 8), name="x")
    att = MultiHeadAttention(4, name="att")
    model = randomized(Model(x, att(x), seed=0), 3)
    att.head_mask = np.array([1.0, 0.0, 1.0, 0.5])
    check(model, [np.random.default_rng(3).normal(size=(2, 5, 8)).astype(np.float32)])


@pytest.mark.parametrize("encoding", ["learned", "sinusoidal"])
def test_transformer_block_exports_like_predict(encoding):
    """Token ids -> Embedding -> positions -> pre-norm block -> per-step logits:
    LayerNormalization, GELU Dense on sequences and residual Adds included."""
    ids = Input((11,), dtype="int", name="ids")
    h = Embedding(3, 12, name="emb")(ids)
    h = PositionalEmbedding(encoding, name="pos")(h)
    a = LayerNormalization(name="ln1")(h)
    a = MultiHeadAttention(3, causal=True, name="att")(a)
    h = Add(name="res1")([h, a])
    f = LayerNormalization(epsilon=1e-3, name="ln2")(h)
    f = Dense(48, activation="gelu", name="ff1")(f)
    h = Add(name="res2")([h, Dense(12, name="ff2")(f)])
    out = Dense(3, activation="softmax", name="head")(h)
    model = randomized(Model(ids, out, seed=0), 7)
    tokens = np.random.default_rng(4).integers(0, 3, size=(6, 11)).astype(np.float32)
    check(model, [tokens])
