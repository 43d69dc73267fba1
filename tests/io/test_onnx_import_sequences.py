"""ONNX import of the recurrent and attention layers: export -> import is the
identity (same document, bit-identical weights) over their options, PyTorch's
LSTM opens and predicts like PyTorch, and the forms nndesk cannot hold are refused
in one sentence naming the ONNX node."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper

from nndesk.document.examples import EXAMPLES
from nndesk.document.graph import Document
from nndesk.io.export import ModelImportError, model_to_onnx, onnx_to_project
from nndesk.training.session import TrainingSession

FIXTURES = Path(__file__).parent / "data" / "onnx"
CELLS = ("SimpleRNN", "LSTM", "GRU")


def build(nodes: list[tuple[str, dict, list[int]]], loss: str = "mse") -> Document:
    """A document of ``(type, params, sources)`` nodes (sources index earlier
    nodes; 0 is the Input), its last node feeding the Output."""
    doc = Document({"seed": 3})
    ids: list[str] = []
    for k, (type_name, params, srcs) in enumerate(nodes):
        ids.append(doc.add_node(type_name, params, pos=(k * 180.0, (k % 2) * 60.0)))
        for s in srcs:
            doc.connect(ids[s], "out", ids[k], "in")
    out = doc.add_node("Output", {"loss": loss}, pos=(len(nodes) * 180.0, 0.0))
    doc.connect(ids[-1], "out", out, "in")
    return doc


def session_of(doc: Document, seed: int = 0) -> TrainingSession:
    """A session with weights far from their start (zero biases, gamma 1 and beta
    0 would hide a swapped block)."""
    session = TrainingSession(doc)
    rng = np.random.default_rng(seed)
    session.model.set_weights(
        {
            k: (0.5 * rng.normal(size=v.shape)).astype(np.float32)
            for k, v in session.model.get_weights().items()
        }
    )
    return session


def assert_identity(doc: Document, session: TrainingSession) -> onnx.ModelProto:
    proto = model_to_onnx(session.model, document=doc)
    project = onnx_to_project(proto, "model.onnx")
    assert project.document == doc
    want = session.model.get_weights()
    assert project.weights.keys() == want.keys()
    for key, value in want.items():
        assert project.weights[key].tobytes() == value.tobytes(), key
    return proto


@pytest.mark.parametrize("cell", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_layers_round_trip(cell, return_sequences, bidirectional):
    params = {
        "units": 5,
        "return_sequences": return_sequences,
        "bidirectional": bidirectional,
    }
    if cell == "SimpleRNN":
        params["activation"] = "relu"
    head = [("Flatten", {}, [1])] if return_sequences else []
    doc = build(
        [
            ("Input", {"shape": (6, 3)}, []),
            (cell, params, [0]),
            *head,
            ("Dense", {"units": 2}, [len(head) + 1]),
        ]
    )
    assert_identity(doc, session_of(doc))


def test_recurrent_layer_without_biases_round_trips():
    doc = build(
        [
            ("Input", {"shape": (4, 2)}, []),
            ("LSTM", {"units": 3, "use_bias": False}, [0]),
            ("Dense", {"units": 1}, [1]),
        ]
    )
    assert_identity(doc, session_of(doc))


@pytest.mark.parametrize("heads", [1, 2])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("use_bias", [False, True])
def test_self_attention_round_trips(heads, causal, use_bias):
    doc = build(
        [
            ("Input", {"shape": (5, 4)}, []),
            ("LayerNormalization", {"epsilon": 1e-3}, [0]),
            (
                "MultiHeadAttention",
                {"num_heads": heads, "causal": causal, "use_bias": use_bias},
                [1],
            ),
            ("Add", {}, [0, 2]),
        ]
    )
    assert_identity(doc, session_of(doc))


def test_cross_attention_keeps_query_and_key_inputs_apart():
    doc = build(
        [
            ("Input", {"shape": (6, 4)}, []),
            ("Dense", {"units": 4}, [0]),
            ("MultiHeadAttention", {"num_heads": 2}, [0, 1]),
        ]
    )
    assert_identity(doc, session_of(doc))


@pytest.mark.parametrize("encoding", ["learned", "sinusoidal"])
def test_token_transformer_round_trips(encoding):
    doc = build(
        [
            ("Input", {"shape": (7,)}, []),
            ("Embedding", {"input_dim": 9, "output_dim": 6}, [0]),
            ("PositionalEmbedding", {"encoding": encoding}, [1]),
            ("MultiHeadAttention", {"num_heads": 3, "causal": True}, [2]),
            ("Dense", {"units": 9, "activation": "softmax"}, [3]),
        ],
        loss="sparse_categorical_crossentropy",
    )
    assert_identity(doc, session_of(doc))


@pytest.mark.parametrize(
    "name", ["sine_forecast", "parity", "char_model", "sort_transformer"]
)
def test_sequence_examples_without_metadata_still_compute_the_same(name):
    doc = EXAMPLES[name].build()
    session = TrainingSession(doc)
    proto = model_to_onnx(session.model)
    proto.producer_name = "elsewhere"
    project = onnx_to_project(proto, "foreign.onnx")
    # Without the document, a Dense and its activation are two canvas nodes.
    types = [n.spec.layer_type for n in project.document.nodes]
    assert [t for t in types if t != "Activation"] == [
        n.spec.layer_type for n in doc.nodes
    ]
    rng = np.random.default_rng(2)
    shape = session.model.input_shapes[0]
    embeds = [layer for layer in session.model.layers if layer.type_name == "Embedding"]
    if embeds:
        x = rng.integers(0, embeds[0].input_dim, size=(4, *shape)).astype(np.float32)
    else:
        x = rng.normal(size=(4, *shape)).astype(np.float32)
    imported = TrainingSession.from_project(project)
    # A separate softmax node rounds apart from the fused one: not bit for bit.
    np.testing.assert_allclose(
        imported.predict(x), session.predict(x), rtol=1e-6, atol=1e-6
    )


def test_pytorch_lstm_opens_as_input_lstm_dense():
    project = onnx_to_project(onnx.load(FIXTURES / "torch_lstm.onnx"), "lstm.onnx")
    doc = project.document
    assert [n.type_name for n in doc.nodes] == ["Input", "LSTM", "Dense", "Output"]
    (lstm,) = [n for n in doc.nodes if n.type_name == "LSTM"]
    assert lstm.params["units"] == 8 and not lstm.params["return_sequences"]
    data = np.load(FIXTURES / "torch_lstm.npz")
    got = TrainingSession.from_project(project).predict(data["x"])
    np.testing.assert_allclose(got, data["y"], rtol=1e-5, atol=1e-5)


def _gru_proto(linear_before_reset: int) -> onnx.ModelProto:
    u, f = 2, 3
    rng = np.random.default_rng(0)
    inits = [
        onnx.numpy_helper.from_array(rng.normal(size=s).astype(np.float32), n)
        for n, s in (("W", (1, 3 * u, f)), ("R", (1, 3 * u, u)))
    ]
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], name="to_time", perm=[1, 0, 2]),
        helper.make_node(
            "GRU",
            ["t", "W", "R"],
            ["", "h"],
            name="my_gru",
            hidden_size=u,
            linear_before_reset=linear_before_reset,
        ),
        helper.make_node("Transpose", ["h"], ["hb"], name="hb", perm=[1, 0, 2]),
    ]
    shape = onnx.numpy_helper.from_array(np.array([0, u], np.int64), "shape")
    nodes.append(helper.make_node("Reshape", ["hb", "shape"], ["y"], name="flat"))
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["n", 4, f])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["n", u])],
        [*inits, shape],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_gru_with_the_reset_gate_before_the_product_is_refused_in_one_sentence():
    assert onnx_to_project(_gru_proto(1), "gru.onnx").document is not None
    with pytest.raises(ModelImportError) as info:
        onnx_to_project(_gru_proto(0), "gru.onnx")
    message = str(info.value)
    assert "'my_gru' (GRU)" in message and "linear_before_reset=0" in message
    assert message.count(". ") == 0 and message.endswith(".")


def test_muted_heads_are_refused_naming_the_node():
    doc = build(
        [
            ("Input", {"shape": (5, 4)}, []),
            ("MultiHeadAttention", {"num_heads": 2}, [0]),
        ]
    )
    session = session_of(doc)
    (mha,) = [x for x in session.model.layers if x.type_name == "MultiHeadAttention"]
    mha.head_mask = np.array([1.0, 0.0], dtype=np.float32)
    proto = model_to_onnx(session.model, document=doc)
    with pytest.raises(ModelImportError, match="mutes attention heads"):
        onnx_to_project(proto, "muted.onnx")


def _foreign_recurrent(op: str, tail: str) -> onnx.ModelProto:
    """A time-major ``op`` as other tools write it, with zero initial states as
    constants and the output brought batch-first by ``tail``."""
    u, f, t = 4, 3, 5
    gates = {"RNN": 1, "LSTM": 4, "GRU": 3}[op]
    rng = np.random.default_rng(1)
    arrays = {
        "W": rng.normal(size=(1, gates * u, f)) * 0.6,
        "R": rng.normal(size=(1, gates * u, u)) * 0.6,
        "B": rng.normal(size=(1, 2 * gates * u)) * 0.3,
        "h0": np.zeros((1, 1, u)),
        "axes": np.array([1 if tail == "sequence" else 0]),
    }
    inits = [
        onnx.numpy_helper.from_array(
            v.astype(np.int64 if k == "axes" else np.float32), k
        )
        for k, v in arrays.items()
    ]
    extra = {"linear_before_reset": 1} if op == "GRU" else {}
    outs = ["Y", "Y_h"]
    nodes = [
        helper.make_node("Transpose", ["x"], ["xt"], name="tm", perm=[1, 0, 2]),
        helper.make_node(
            op,
            ["xt", "W", "R", "B", "", "h0"],
            outs,
            name="cell",
            hidden_size=u,
            **extra,
        ),
    ]
    if tail == "sequence":
        nodes.append(helper.make_node("Squeeze", ["Y", "axes"], ["ys"], name="sq"))
        nodes.append(
            helper.make_node("Transpose", ["ys"], ["y"], name="bf", perm=[1, 0, 2])
        )
        out_shape = ["n", t, u]
    else:
        nodes.append(helper.make_node("Squeeze", ["Y_h", "axes"], ["y"], name="sq"))
        out_shape = ["n", u]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["n", t, f])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, out_shape)],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("op", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("tail", ["sequence", "state"])
def test_foreign_time_major_cells_predict_like_onnxruntime(op, tail):
    import onnxruntime as ort

    proto = _foreign_recurrent(op, tail)
    onnx.checker.check_model(proto, full_check=True)
    project = onnx_to_project(proto, "cell.onnx")
    cell = next(n for n in project.document.nodes if n.type_name in CELLS)
    assert cell.params["return_sequences"] == (tail == "sequence")
    # A batch of one: the constant initial state (1, 1, u) fixes onnxruntime's.
    x = np.random.default_rng(4).normal(size=(1, 5, 3)).astype(np.float32)
    sess = ort.InferenceSession(
        proto.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    want = sess.run(None, {"x": x})[0]
    got = TrainingSession.from_project(project).predict(x)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
