"""ONNX export: valid models (full checker), onnxruntime equals nndesk predict, names
kept, symbolic batch, atomic writes and one-sentence refusals."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from export_graphs import (
    CONV_BLOCKS,
    TRANSPOSE_BLOCKS,
    conv_network,
    example_inputs,
    random_network,
)

from nndesk.document.examples import EXAMPLES
from nndesk.document.gan import is_gan
from nndesk.engine.activations import ACTIVATIONS
from nndesk.io.export import (
    LAYER_EXPORTERS,
    ExportError,
    MissingDependencyError,
    export_onnx,
    model_to_onnx,
)
from nndesk.io.export._onnx import IR_VERSION, OPSET
from nndesk.training.session import TrainingSession

# GAN examples are two networks, not a predictor: tests/io/test_gan_export.py.
PREDICTORS = sorted(n for n, e in EXAMPLES.items() if not is_gan(e.build()))

SEEDS = range(40)


def run_onnx(proto: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(
        proto.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]


def check_same_as_predict(session: TrainingSession, x: np.ndarray, document=None):
    proto = model_to_onnx(
        session.model, preprocessing=session.preprocessing, document=document
    )
    onnx.checker.check_model(proto, full_check=True)
    got = run_onnx(proto, x)
    want = session.predict(x)
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    return proto


@pytest.mark.parametrize("name", PREDICTORS)
def test_every_example_exports_and_runs_like_predict(name):
    doc = EXAMPLES[name].build()
    session = TrainingSession(doc)
    shape = session.model.input_shapes[0]
    if name == "fashion_mnist":  # the example standardises its pixels
        session.preprocessing = {
            "method": "standard",
            "axis": "global",
            "input_shape": list(shape),
            "offset": 72.94,
            "scale": 90.02,
        }
    x = np.random.default_rng(1).uniform(0, 255, size=(17, *shape)).astype(np.float32)
    if name != "fashion_mnist":
        x = (x / 60.0 - 2.0).astype(np.float32)
    if any(layer.type_name == "Embedding" for layer in session.model.layers):
        x = example_inputs(session, 17, seed=1)  # token ids
    proto = check_same_as_predict(session, x, doc)
    assert proto.opset_import[0].version == OPSET == 17
    assert proto.ir_version == IR_VERSION


def test_trained_example_exports_like_predict():
    network = TrainingSession(EXAMPLES["spiral"].build())
    dataset = network.load_dataset()
    network.fit(dataset, epochs=3)
    check_same_as_predict(network, dataset.x[:50].astype(np.float32))


@pytest.mark.parametrize("seed", SEEDS)
def test_random_graphs_export_and_run_like_predict(seed):
    net = random_network(seed)
    check_same_as_predict(net.session, net.x, net.document)


@pytest.mark.parametrize("index", range(len(CONV_BLOCKS)))
def test_convolutions_and_pools_export_and_run_like_predict(index):
    net = conv_network(index)
    check_same_as_predict(net.session, net.x, net.document)


@pytest.mark.parametrize("index", range(len(TRANSPOSE_BLOCKS)))
def test_transposed_convolutions_export_and_run_like_predict(index):
    net = conv_network(len(CONV_BLOCKS) + index)
    proto = check_same_as_predict(net.session, net.x, net.document)
    (node,) = [n for n in proto.graph.node if n.op_type == "ConvTranspose"]
    assert node.name == "conv2d_transpose_1"


NOT_YET_EXPORTED: set[str] = set()
"""Layer types with no ONNX form yet (docs/export.md says so): adding one's
exporter must remove it here, and a test of it must join the suites."""
FAMILY_TESTED = {
    "Embedding",
    "SimpleRNN",
    "LSTM",
    "GRU",
    "LayerNormalization",
    "MultiHeadAttention",
    "PositionalEmbedding",
}
"""Exported by an ``onnx_layers_*`` module and tested in its own test file
(tests/io/test_export_recurrent.py, test_export_attention.py), not in the random
suites."""


def test_the_suites_cover_every_layer_type_with_an_exporter():
    from nndesk.engine.layers import LAYER_TYPES

    used: set[str] = set()
    for seed in SEEDS:
        used |= random_network(seed).used
    for index in range(len(CONV_BLOCKS) + len(TRANSPOSE_BLOCKS)):
        used |= conv_network(index).used
    assert used | FAMILY_TESTED == set(LAYER_EXPORTERS) | {"Input"}
    assert set(LAYER_TYPES) - used - FAMILY_TESTED == NOT_YET_EXPORTED


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_exports_like_the_engine(activation):
    from nndesk.document.graph import Document

    doc = Document()
    x = doc.add_node("Input", {"shape": (5,)})
    d = doc.add_node("Dense", {"units": 4, "activation": activation})
    doc.connect(x, "out", d, "in")
    out = doc.add_node(
        "Output",
        {"loss": "categorical_crossentropy" if activation == "softmax" else "mse"},
    )
    doc.connect(d, "out", out, "in")
    session = TrainingSession(doc)
    xs = np.linspace(-30, 30, 5 * 40, dtype=np.float32).reshape(40, 5)
    check_same_as_predict(session, xs)


def test_names_batch_and_weights_are_kept():
    doc = EXAMPLES["residual"].build()
    session = TrainingSession(doc)
    proto = model_to_onnx(session.model)
    graph = proto.graph
    assert [i.name for i in graph.input] == ["input_1"]
    assert [o.name for o in graph.output] == ["dense_3"]
    batch = graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param == "batch" and not batch.HasField("dim_value")
    names = [n.name for n in graph.node]
    assert "dense_1" in names and "dense_1/relu" in names and "add_1" in names
    weights = {t.name: onnx.numpy_helper.to_array(t) for t in graph.initializer}
    for key, value in session.model.get_weights().items():
        assert weights[key].tobytes() == value.tobytes()  # bit for bit


def test_batch_norm_on_images_is_wrapped_in_transposes():
    from nndesk.document.graph import Document

    doc = Document()
    x = doc.add_node("Input", {"shape": (3, 4, 2)})
    bn = doc.add_node("BatchNorm")
    f = doc.add_node("Flatten")
    d = doc.add_node("Dense", {"units": 2, "activation": "linear"})
    out = doc.add_node("Output", {"loss": "mse"})
    for a, b in ((x, bn), (bn, f), (f, d), (d, out)):
        doc.connect(a, "out", b, "in")
    session = TrainingSession(doc)
    w = session.model.get_weights()
    rng = np.random.default_rng(3)
    w = {k: rng.uniform(0.5, 2, size=v.shape).astype(np.float32) for k, v in w.items()}
    session.model.set_weights(w)
    proto = check_same_as_predict(
        session, rng.normal(size=(6, 3, 4, 2)).astype(np.float32)
    )
    ops = [n.op_type for n in proto.graph.node]
    assert ops[:3] == ["Transpose", "BatchNormalization", "Transpose"]


def test_export_writes_atomically_and_refuses_a_missing_folder(tmp_path):
    session = TrainingSession(EXAMPLES["xor"].build())
    target = tmp_path / "xor.onnx"
    export_onnx(session.model, target)
    assert onnx.load(str(target)).graph.output[0].name == "dense_2"
    assert [p.name for p in tmp_path.iterdir()] == ["xor.onnx"]
    with pytest.raises(ExportError, match="the folder .* does not exist"):
        export_onnx(session.model, tmp_path / "missing" / "xor.onnx")
    (tmp_path / "dir.onnx").mkdir()
    with pytest.raises(ExportError, match="folder named .* is in the way"):
        export_onnx(session.model, tmp_path / "dir.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.onnx", "xor.onnx"]


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    session = TrainingSession(EXAMPLES["xor"].build())
    target = tmp_path / "xor.onnx"
    target.write_bytes(b"old")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", broken_replace)
    with pytest.raises(ExportError, match="No space left on device"):
        export_onnx(session.model, target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["xor.onnx"]


def test_a_layer_without_an_onnx_form_is_refused_by_name(monkeypatch):
    session = TrainingSession(EXAMPLES["residual"].build())
    monkeypatch.delitem(LAYER_EXPORTERS, "Add")
    with pytest.raises(ExportError) as info:
        model_to_onnx(session.model)
    message = str(info.value)
    assert "'add_1'" in message and "Add" in message
    assert message.count(".") == 1 and message.endswith(".")


def test_missing_onnx_package_is_one_sentence(monkeypatch):
    session = TrainingSession(EXAMPLES["xor"].build())
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'nndesk\[onnx\]'"):
        model_to_onnx(session.model)


def test_nndesk_does_not_import_onnx_or_torch_on_its_own():
    import subprocess

    code = (
        "import sys, nndesk.io.export, nndesk.cli, nndesk.api; "
        "print(sorted(m for m in ('onnx', 'torch', 'onnxruntime') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_exported_file_is_small_and_reloads(tmp_path: Path):
    session = TrainingSession(EXAMPLES["spiral"].build())
    target = tmp_path / "spiral.onnx"
    export_onnx(session.model, target, document=EXAMPLES["spiral"].build())
    assert target.stat().st_size < 20_000
    onnx.checker.check_model(str(target), full_check=True)


def test_weights_past_the_protobuf_limit_are_refused(monkeypatch):
    from nndesk.io.export import onnx_export

    session = TrainingSession(EXAMPLES["spiral"].build())
    monkeypatch.setattr(onnx_export, "MAX_ONNX_WEIGHTS", 100)
    with pytest.raises(ExportError, match="an ONNX file holds at most 2 GiB"):
        model_to_onnx(session.model)
