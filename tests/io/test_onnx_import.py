"""ONNX import: export -> import is the identity, PyTorch-exported models open and
predict like PyTorch, and what cannot be read is refused in one sentence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from export_graphs import CONV_BLOCKS, TRANSPOSE_BLOCKS, conv_network, random_network
from onnx import TensorProto, helper

from nndesk.api import Network
from nndesk.document.examples import EXAMPLES
from nndesk.document.gan import is_gan
from nndesk.io.export import ModelImportError, model_to_onnx
from nndesk.io.export.onnx_import import import_onnx, onnx_to_project
from nndesk.io.project_file import load_project, save_project
from nndesk.training.session import TrainingSession

# GAN examples are two networks, not a predictor: tests/io/test_gan_export.py.
PREDICTORS = sorted(n for n, e in EXAMPLES.items() if not is_gan(e.build()))

FIXTURES = Path(__file__).parent / "data" / "onnx"
TORCH_MODELS = ("torch_mlp", "torch_mlp_extras", "torch_skip", "torch_lstm")
TORCH_CNNS = ("torch_cnn", "torch_cnn_global", "torch_deconv")


def assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].dtype == b[key].dtype == np.float32
        assert a[key].tobytes() == b[key].tobytes(), key


def round_trip(session: TrainingSession, document):
    proto = model_to_onnx(
        session.model, preprocessing=session.preprocessing, document=document
    )
    return proto, onnx_to_project(proto, "model.onnx")


@pytest.mark.parametrize("name", PREDICTORS)
def test_export_then_import_is_the_identity_for_examples(name):
    doc = EXAMPLES[name].build()
    session = TrainingSession(doc)
    _, project = round_trip(session, doc)
    assert project.document == doc  # nodes, params, positions, edges, settings
    assert_same_weights(project.weights, session.model.get_weights())


@pytest.mark.parametrize("seed", range(40))
def test_export_then_import_is_the_identity_for_random_graphs(seed):
    net = random_network(seed)
    _, project = round_trip(net.session, net.document)
    assert project.document == net.document
    assert_same_weights(project.weights, net.session.model.get_weights())
    assert project.preprocessing == net.session.preprocessing


@pytest.mark.parametrize("index", range(len(CONV_BLOCKS) + len(TRANSPOSE_BLOCKS)))
def test_export_then_import_is_the_identity_for_convolutions(index):
    net = conv_network(index)
    _, project = round_trip(net.session, net.document)
    assert project.document == net.document
    assert_same_weights(project.weights, net.session.model.get_weights())


@pytest.mark.parametrize("seed", range(0, 40, 3))
def test_without_nndesk_metadata_the_graph_still_computes_the_same(seed):
    net = random_network(seed)
    proto = model_to_onnx(net.session.model, preprocessing=net.session.preprocessing)
    proto.producer_name = "elsewhere"
    project = onnx_to_project(proto, "foreign.onnx")
    types = {n.spec.layer_type for n in project.document.nodes} - {None}
    assert types <= net.used
    imported = TrainingSession.from_project(project)
    np.testing.assert_allclose(
        imported.predict(net.x), net.session.predict(net.x), rtol=1e-6, atol=1e-6
    )


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_pytorch_exported_models_predict_like_pytorch(name):
    project = import_onnx(FIXTURES / f"{name}.onnx")
    data = np.load(FIXTURES / f"{name}.npz")
    session = TrainingSession.from_project(project)
    got = session.predict(data["x"])
    np.testing.assert_allclose(got, data["y"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", TORCH_CNNS)
def test_pytorch_cnns_open_channels_last_and_predict_like_pytorch(name):
    project = import_onnx(FIXTURES / f"{name}.onnx")
    data = np.load(FIXTURES / f"{name}.npz")
    x_nchw = data["x"]
    shape = project.document.node("input_1").params["shape"]
    assert shape == tuple(x_nchw.shape[2:]) + (x_nchw.shape[1],)  # (h, w, c)
    session = TrainingSession.from_project(project)
    got = session.predict(x_nchw.transpose(0, 2, 3, 1))
    np.testing.assert_allclose(got, data["y"], rtol=1e-5, atol=1e-5)


def test_pytorch_cnn_nodes_and_kernel_layout():
    project = import_onnx(FIXTURES / "torch_cnn.onnx")
    types = [n.type_name for n in project.document.nodes]
    assert types[:4] == ["Input", "Conv2D", "ReLU", "MaxPool2D"]
    assert project.document.node("conv2d_1").params["padding"] == "same"
    assert project.weights["conv2d_1/kernel"].shape == (3, 3, 2, 4)  # kh, kw, in, out


def test_pytorch_mlp_becomes_one_node_per_module_laid_out_left_to_right():
    project = import_onnx(FIXTURES / "torch_mlp.onnx")
    doc = project.document
    assert [n.type_name for n in doc.nodes] == [
        "Input",
        "Flatten",
        "Dense",
        "ReLU",
        "Dense",
        "Tanh",
        "Dense",
        "Softmax",
        "Output",
    ]
    assert doc.node("dense_1").label == "/1/Gemm"
    assert doc.node("input_1").params["shape"] == (5, 5)
    xs = [n.pos[0] for n in doc.nodes]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    assert doc.node("output_1").params["loss"] == "sparse_categorical_crossentropy"


def test_imported_pytorch_model_trains_and_saves(tmp_path):
    project = import_onnx(FIXTURES / "torch_skip.onnx")
    net = Network(TrainingSession.from_project(project))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    before = net.evaluate(x, y)["loss"]
    net.fit(x, y, epochs=20, learning_rate=0.01)
    assert net.evaluate(x, y)["loss"] < before
    net.save(tmp_path / "skip.nndesk")
    reloaded = load_project(tmp_path / "skip.nndesk")
    assert reloaded.history["loss"]


def test_imported_project_saves_and_loads_back_identically(tmp_path):
    project = import_onnx(FIXTURES / "torch_mlp_extras.onnx")
    save_project(tmp_path / "extras.nndesk", project)
    back = load_project(tmp_path / "extras.nndesk")
    assert back.document == project.document
    assert_same_weights(back.weights, project.weights)


def _graph(nodes, inits=(), shape=(None, 4), out_shape=(None, 4), opset=17):
    dims = ["batch" if d is None else d for d in shape]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
        [
            helper.make_tensor_value_info(
                "y", TensorProto.FLOAT, ["batch" if d is None else d for d in out_shape]
            )
        ],
        initializer=list(inits),
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def test_every_unsupported_operator_is_listed_in_one_message():
    w = onnx.numpy_helper.from_array(np.ones((4, 4), np.float32), "w")
    nodes = [
        helper.make_node("Cos", ["x"], ["a"], name="my_cos"),
        helper.make_node("MatMul", ["a", "w"], ["b"], name="fc"),
        helper.make_node("LSTM", ["b", "w", "w"], ["c"], name="rnn"),
        helper.make_node("HardSwish", ["x"], ["d"], name="hs"),
        helper.make_node("Add", ["c", "d"], ["y"], name="sum"),
    ]
    with pytest.raises(ModelImportError) as info:
        onnx_to_project(_graph(nodes, [w]), "odd.onnx")
    message = str(info.value)
    assert message == (
        "Cannot import odd.onnx: nndesk has no layer for 3 ONNX nodes: 'my_cos' "
        "(Cos), 'rnn' (LSTM), 'hs' (HardSwish)."
    )


def test_a_node_nndesk_cannot_hold_is_named_with_the_reason():
    nodes = [helper.make_node("Concat", ["x", "x"], ["y"], name="stack", axis=0)]
    with pytest.raises(ModelImportError, match="ONNX node 'stack' .*batch axis"):
        onnx_to_project(_graph(nodes), "cat.onnx")
    nodes = [helper.make_node("MatMul", ["x", "x"], ["y"], name="gram")]
    with pytest.raises(ModelImportError, match="ONNX node 'gram' \\(MatMul\\)"):
        onnx_to_project(_graph(nodes), "gram.onnx")


def test_a_shape_that_does_not_fit_names_the_onnx_node():
    w = onnx.numpy_helper.from_array(np.ones((3, 2), np.float32), "w")
    nodes = [helper.make_node("Gemm", ["x", "w"], ["y"], name="bad_fc")]
    with pytest.raises(ModelImportError, match="'bad_fc'"):
        onnx_to_project(_graph(nodes, [w], out_shape=(None, 2)), "bad.onnx")


def test_old_opsets_and_non_onnx_files_are_refused(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="r")]
    with pytest.raises(ModelImportError, match="opset 11; nndesk reads opset 13"):
        onnx_to_project(_graph(nodes, opset=11), "old.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00\xffnot a model" * 10)
    with pytest.raises(ModelImportError, match="junk.onnx: it is not an ONNX model"):
        import_onnx(junk)
    with pytest.raises(ModelImportError, match="missing.onnx"):
        import_onnx(tmp_path / "missing.onnx")


def test_two_inputs_are_refused():
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "z"], ["y"], name="a")],
        "g",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", 2]),
            helper.make_tensor_value_info("z", TensorProto.FLOAT, ["b", 2]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["b", 2])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(ModelImportError, match="2 inputs and 1 outputs"):
        onnx_to_project(model, "two.onnx")
