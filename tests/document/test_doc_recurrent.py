"""The Recurrent node types in the document: palette category, shapes on edges,
parameter counts, Problems before training, the Input's dtype (issue 14)."""

from __future__ import annotations

import pytest

from nndesk.document import Document, infer_shapes
from nndesk.document.registry import CATEGORIES, get_spec, specs_in
from nndesk.document.validate import validate


def chain(*nodes: tuple[str, dict]) -> tuple[Document, list[str]]:
    doc = Document()
    ids = [doc.add_node(t, p) for t, p in nodes]
    for a, b in zip(ids, ids[1:], strict=False):
        doc.connect(a, "out", b, "in")
    return doc, ids


def test_palette_category_and_entries():
    assert CATEGORIES.index("Core") < CATEGORIES.index("Recurrent")
    assert CATEGORIES.index("Recurrent") < CATEGORIES.index("Activations")
    names = [s.type_name for s in specs_in("Recurrent")]
    assert names == ["Embedding", "SimpleRNN", "LSTM", "GRU"]
    lstm = get_spec("LSTM")
    assert [p.name for p in lstm.params][:3] == [
        "units",
        "return_sequences",
        "bidirectional",
    ]
    assert get_spec("SimpleRNN").param("activation").choices == ("tanh", "relu")
    assert get_spec("SimpleRNN").key_param_text({"units": 8}) == "8 · tanh"
    assert get_spec("Embedding").key_param_text({}) == "100 · 16"


def test_a_character_model_has_time_and_features_on_its_edges():
    doc, (x, emb, lstm, gru, dense, out) = chain(
        ("Input", {"shape": (50,), "dtype": "int"}),
        ("Embedding", {"input_dim": 80, "output_dim": 16}),
        ("LSTM", {"units": 64, "return_sequences": True, "bidirectional": True}),
        ("GRU", {"units": 32, "return_sequences": True}),
        ("Dense", {"units": 80, "activation": "softmax"}),
        ("Output", {"loss": "sparse_categorical_crossentropy"}),
    )
    report = infer_shapes(doc)
    assert report.ok, report.errors
    shapes = {e.src_node: report.edge_shape(e) for e in doc.edges}
    assert shapes == {
        x: (50,),
        emb: (50, 16),
        lstm: (50, 128),
        gru: (50, 32),
        dense: (50, 80),
    }
    assert report[emb].param_count == 80 * 16
    assert report[lstm].param_count == 2 * (4 * 64 * (16 + 64) + 8 * 64)
    assert report[gru].param_count == 3 * 32 * (128 + 32) + 6 * 32
    assert report[dense].param_count == 32 * 80 + 80
    assert not [p for p in validate(doc) if p.node_id is not None]


def test_a_recurrent_layer_fed_a_1d_tensor_says_how_to_fix_it():
    doc, (_, _, first, second, _, _) = chain(
        ("Input", {"shape": (20, 3)}),
        ("Dense", {"units": 4}),
        ("LSTM", {"units": 8}),  # return_sequences off: (8,)
        ("LSTM", {"units": 8}),
        ("Dense", {"units": 1, "activation": "linear"}),
        ("Output", {"loss": "mse"}),
    )
    report = infer_shapes(doc)
    assert report[first].ok and report[first].output_shape == (8,)
    assert report[second].message == (
        "LSTM 'lstm_2' expects (time, features) sequences but receives (8,): it "
        "has no time axis; set return_sequences on the recurrent layer before it, "
        "or Reshape((8, 1)) a single series."
    )
    doc.set_param(first, "return_sequences", True)
    assert infer_shapes(doc).ok


@pytest.mark.parametrize("cell", ["SimpleRNN", "GRU"])
def test_an_image_fed_to_a_recurrent_layer_is_refused(cell):
    doc, (_, node, _) = chain(
        ("Input", {"shape": (8, 8, 3)}), (cell, {}), ("Output", {"loss": "mse"})
    )
    message = infer_shapes(doc)[node].message
    assert message.endswith(
        "expects (time, features) sequences but receives (8, 8, 3): Reshape it to "
        "(time, features) first."
    )


def test_embedding_problems_name_the_input_dtype():
    doc, (x, emb, lstm, _, _) = chain(
        ("Input", {"shape": (10,)}),
        ("Embedding", {"input_dim": 20, "output_dim": 4}),
        ("LSTM", {"units": 4}),
        ("Dense", {"units": 2, "activation": "softmax"}),
        ("Output", {}),
    )
    (problem,) = [p for p in validate(doc) if p.node_id == emb]
    assert problem.severity == "warning"
    assert problem.message == (
        "Embedding 'embedding_1' reads integer token ids but Input 'input_1' "
        "declares float values: set its dtype to int if the data are ids."
    )
    doc.set_param(x, "dtype", "int")
    assert not [p for p in validate(doc) if p.node_id == emb]
    # Through a pass-through layer it still finds the Input.
    drop = doc.add_node("Dropout")
    doc.disconnect(doc.edges_in(emb)[0])
    doc.connect(x, "out", drop, "in")
    doc.connect(drop, "out", emb, "in")
    assert not [p for p in validate(doc) if p.node_id == emb]


def test_an_embedding_fed_computed_values_is_an_error():
    doc, (_, dense, emb, _, _, _) = chain(
        ("Input", {"shape": (10,), "dtype": "int"}),
        ("Dense", {"units": 10}),
        ("Embedding", {"input_dim": 20, "output_dim": 4}),
        ("GRU", {"units": 4}),
        ("Dense", {"units": 1, "activation": "sigmoid"}),
        ("Output", {"loss": "binary_crossentropy"}),
    )
    (problem,) = [p for p in validate(doc) if p.node_id == emb]
    assert problem.is_error
    assert "receives the computed values of Dense 'dense_1'" in problem.message


def test_input_dtype_reaches_the_engine_and_files():
    spec = get_spec("Input")
    layer = spec.build_layer({"shape": (5,), "dtype": "int"}, "input_1")
    assert layer.get_config() == {"shape": [5], "dtype": "int", "name": "input_1"}
    assert spec.defaults()["dtype"] == "float"
    doc, (x,) = chain(("Input", {"shape": (5,), "dtype": "int"}))
    again = Document.from_dict(doc.to_dict())
    assert again.node(x).params["dtype"] == "int"


class _Data:
    """A dataset as validate sees it: one target per sample."""

    input_shape = (28, 28)
    task = "classification"
    n_classes = 10
    target_steps = None  # one label per sample


def test_a_prediction_per_time_step_against_per_sample_targets():
    """(28, 28) is a sequence to Dense now, so an image network that forgot its
    Flatten predicts per step: the Problems list says so once the data is known."""
    doc, (_, _, last, out) = chain(
        ("Input", {"shape": (28, 28)}),
        ("Dense", {"units": 32}),
        ("Dense", {"units": 10, "activation": "softmax"}),
        ("Output", {}),
    )
    assert infer_shapes(doc).ok
    problems = [p for p in validate(doc, _Data()) if p.node_id == out]
    assert [p.message for p in problems] == [
        "Dense 'dense_2' predicts (28, 10), a value per time step, but the dataset "
        "has one target per sample: insert Flatten before the last Dense, or turn "
        "return_sequences off on the last recurrent layer."
    ]
    flat = doc.add_node("Flatten")
    doc.disconnect(doc.edges_in(last)[0])
    doc.connect("dense_1", "out", flat, "in")
    doc.connect(flat, "out", last, "in")
    assert not [p for p in validate(doc, _Data()) if p.node_id == out]
