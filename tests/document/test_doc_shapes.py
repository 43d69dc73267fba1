"""Shape inference: per-node results, one sentence per problem, never a first-error stop."""

from __future__ import annotations

import pytest
from conftest import make_chain

from nndesk.document import Document, Edge, Node, Snapshot, get_spec, infer_shapes
from nndesk.document.shapes import final_activation


def classifier(units: int, activation: str, loss: str, shape=(4,)) -> Document:
    """Input -> [Flatten] -> Dense(units, activation) -> Output(loss)."""
    doc = Document()
    prev = doc.add_node("Input", {"shape": shape})
    if len(shape) > 1:
        flat = doc.add_node("Flatten")
        doc.connect(prev, "out", flat, "in")
        prev = flat
    d = doc.add_node("Dense", {"units": units, "activation": activation})
    out = doc.add_node("Output", {"loss": loss})
    doc.connect(prev, "out", d, "in")
    doc.connect(d, "out", out, "in")
    return doc


def raw(nodes: list[tuple[str, str, dict]], edges: list[tuple[str, str]]) -> Snapshot:
    """A view built from parts without the document's checks (to reach states a
    Document refuses, such as cycles or two edges into a single port)."""
    records = [Node(i, t, get_spec(t).check_params(p), (0.0, 0.0)) for i, t, p in nodes]
    return Snapshot(records, [Edge(a, "out", b, "in") for a, b in edges])


def test_a_valid_network_gets_every_shape_and_count() -> None:
    report = infer_shapes(make_chain())
    assert report.ok
    assert [(r.node_id, r.output_shape, r.param_count) for r in report] == [
        ("input_1", (2,), 0),
        ("dense_1", (8,), 2 * 8 + 8),
        ("dense_2", (1,), 8 + 1),
        ("output_1", (1,), 0),
    ]
    assert report.total_params == 24 + 9
    assert report.errors == ()
    assert report["dense_1"].input_shapes == ((2,),)
    assert report.edge_shape(Edge("input_1", "out", "dense_1", "in")) == (2,)


def test_merges_get_shapes_from_all_inputs(merge: Document) -> None:
    report = infer_shapes(merge)
    assert report.ok
    assert report["concatenate_1"].input_shapes == ((5,), (7,))
    assert report["concatenate_1"].output_shape == (12,)
    assert report["dense_3"].param_count == 12 * 3 + 3


def test_unconnected_input_is_named() -> None:
    doc = make_chain()
    doc.add_node("Dense", node_id="dense_9")
    result = infer_shapes(doc)["dense_9"]
    assert result.status == "error"
    assert result.message == "Dense 'dense_9' has no input: connect its 'in' port."


def test_engine_shape_error_is_passed_through() -> None:
    doc = Document()
    x = doc.add_node("Input", {"shape": (28, 28, 1)})
    d = doc.add_node("Dense", {"units": 10})
    doc.connect(x, "out", d, "in")
    result = infer_shapes(doc)[d]
    assert result.status == "error"
    assert result.message == (
        "Dense 'dense_1' expects 1-D features or (time, features) sequences but "
        "receives (28, 28, 1): insert Flatten."
    )
    assert result.input_shapes == ((28, 28, 1),)


def test_merge_with_too_few_inputs(merge: Document) -> None:
    merge.disconnect(merge.edges_in("concatenate_1")[1])
    assert infer_shapes(merge)["concatenate_1"].message == (
        "Concatenate 'concatenate_1' needs at least 2 inputs but has 1: connect "
        "another node to its 'in' port."
    )


def test_add_with_unequal_shapes(merge: Document) -> None:
    cat = merge.node("concatenate_1")
    removed = merge.remove_node(cat.id)
    add = merge.add_node("Add", node_id="add_1")
    for _, e in removed.edges:
        if e.dst_node == cat.id:
            merge.connect(e.src_node, "out", add, "in")
    message = infer_shapes(merge)[add].message
    assert message is not None and message.startswith("Add 'add_1' needs inputs of one")
    assert "(5,)" in message and "(7,)" in message


def test_several_inputs_where_one_is_allowed() -> None:
    view = raw(
        [("a", "Input", {}), ("b", "Input", {}), ("d", "Dense", {})],
        [("a", "d"), ("b", "d")],
    )
    assert infer_shapes(view)["d"].message == (
        "Dense 'd' has 2 inputs on its 'in' port but takes one: remove all but one."
    )


def test_cycle_names_its_nodes_and_downstream_waits() -> None:
    view = raw(
        [
            ("x", "Input", {}),
            ("a", "Add", {}),
            ("d", "Dense", {"units": 2}),
            ("after", "Dense", {}),
        ],
        [("x", "a"), ("a", "d"), ("d", "a"), ("d", "after")],
    )
    report = infer_shapes(view)
    assert report["x"].ok
    assert report["a"].message == (
        "Add 'a' is on a cycle with 'd': remove one of those connections."
    )
    assert report["d"].message == (
        "Dense 'd' is on a cycle with 'a': remove one of those connections."
    )
    assert report["after"].status == "waiting"
    with pytest.raises(Exception, match="are on or behind a cycle"):
        view.topological_order()


def test_no_input_and_no_output_are_graph_problems() -> None:
    report = infer_shapes(Document())
    assert report.graph_messages == (
        "The network has no Input node: add one from the Input category.",
        "The network has no Output node: add one and connect the last layer to it.",
    )
    assert not report.ok
    doc = make_chain()
    doc.remove_node("output_1")
    assert infer_shapes(doc).graph_messages == (
        "The network has no Output node: add one and connect the last layer to it.",
    )


@pytest.mark.parametrize(
    ("units", "activation", "loss", "message"),
    [
        (
            1,
            "sigmoid",
            "sparse_categorical_crossentropy",
            "sparse_categorical_crossentropy needs one output unit per class but "
            "Dense 'dense_1' gives 1: use binary_crossentropy with one sigmoid unit, "
            "or one softmax unit per class.",
        ),
        (
            10,
            "softmax",
            "binary_crossentropy",
            "binary_crossentropy scores each unit on its own but Dense 'dense_1' ends "
            "in a softmax over 10 classes: use sparse_categorical_crossentropy "
            "(integer labels) or categorical_crossentropy (one-hot labels).",
        ),
        (
            10,
            "softmax",
            "mse",
            "mse is a regression loss but Dense 'dense_1' ends in softmax, which gives "
            "class probabilities: use a linear activation for regression, or a "
            "cross-entropy loss for classes.",
        ),
        (
            1,
            "linear",
            "binary_crossentropy",
            "binary_crossentropy expects probabilities in (0, 1): set the activation "
            "of Dense 'dense_1' to sigmoid.",
        ),
        (
            3,
            "relu",
            "categorical_crossentropy",
            "categorical_crossentropy expects class probabilities: set the activation "
            "of Dense 'dense_1' to softmax.",
        ),
    ],
)
def test_loss_that_does_not_fit_the_output(units, activation, loss, message) -> None:
    doc = classifier(units, activation, loss)
    result = infer_shapes(doc)["output_1"]
    assert result.status == "error"
    assert result.message == message
    assert result.output_shape == (units,)


@pytest.mark.parametrize(
    ("units", "activation", "loss"),
    [
        (1, "sigmoid", "binary_crossentropy"),
        (5, "sigmoid", "binary_crossentropy"),  # multi-label
        (3, "softmax", "sparse_categorical_crossentropy"),
        (3, "softmax", "categorical_crossentropy"),
        (1, "linear", "mse"),
        (2, "tanh", "mae"),
        (1, "sigmoid", "huber"),
    ],
)
def test_loss_that_fits(units, activation, loss) -> None:
    assert infer_shapes(classifier(units, activation, loss)).ok


def test_classification_loss_on_a_multi_dimensional_output() -> None:
    doc = Document()
    x = doc.add_node("Input", {"shape": (4, 3, 2)})
    s = doc.add_node("Softmax")
    out = doc.add_node("Output")
    doc.connect(x, "out", s, "in")
    doc.connect(s, "out", out, "in")
    assert infer_shapes(doc)[out].message == (
        "Output 'output_1': sparse_categorical_crossentropy needs 1-D scores per "
        "sample but receives (4, 3, 2): insert Flatten and a Dense layer before the "
        "output."
    )


def test_classification_loss_on_scores_per_time_step() -> None:
    """(time, classes) is a sequence of class scores (issue 14): it fits, and the
    class count is its last axis."""
    doc = Document()
    x = doc.add_node("Input", {"shape": (4, 3)})
    s = doc.add_node("Softmax")
    out = doc.add_node("Output")
    doc.connect(x, "out", s, "in")
    doc.connect(s, "out", out, "in")
    assert infer_shapes(doc).ok
    one = Document()
    x = one.add_node("Input", {"shape": (4, 1)})
    o = one.add_node("Output")
    one.connect(x, "out", o, "in")
    assert "needs one output unit per class but" in (infer_shapes(one)[o].message or "")


def test_final_activation_looks_through_dropout_and_activation_nodes() -> None:
    doc = classifier(3, "linear", "sparse_categorical_crossentropy")
    d = "dense_1"
    drop = doc.add_node("Dropout")
    soft = doc.add_node("Softmax")
    doc.disconnect(doc.edges_in("output_1")[0])
    doc.connect(d, "out", soft, "in")
    doc.connect(soft, "out", drop, "in")
    doc.connect(drop, "out", "output_1", "in")
    act, producer = final_activation(doc, drop)
    assert act == "softmax" and producer is not None and producer.id == soft
    assert infer_shapes(doc).ok
    doc.set_param("output_1", "loss", "mse")
    assert (
        "Softmax 'softmax_1' ends in softmax" in infer_shapes(doc)["output_1"].message
    )
    # a generic Activation node names its parameter
    gen = doc.add_node("Activation", {"activation": "tanh"})
    doc.disconnect(doc.edges_in("output_1")[0])
    doc.connect(drop, "out", gen, "in")
    doc.connect(gen, "out", "output_1", "in")
    doc.set_param("output_1", "loss", "binary_crossentropy")
    assert infer_shapes(doc)["output_1"].message.endswith(
        "set the activation of Activation 'activation_1' to sigmoid."
    )


def test_activation_node_without_a_parameter_suggests_a_layer() -> None:
    doc = classifier(3, "linear", "sparse_categorical_crossentropy")
    relu = doc.add_node("ReLU")
    doc.disconnect(doc.edges_in("output_1")[0])
    doc.connect("dense_1", "out", relu, "in")
    doc.connect(relu, "out", "output_1", "in")
    assert infer_shapes(doc)["output_1"].message == (
        "sparse_categorical_crossentropy expects class probabilities: end the network "
        "with a softmax (a Dense with softmax activation)."
    )


def test_many_problems_at_once_and_branches_stay_independent() -> None:
    doc = Document()
    x = doc.add_node("Input", {"shape": (28, 28, 1)})
    bad = doc.add_node("Dense", {"units": 16})  # needs Flatten
    after_bad = doc.add_node("Dense", {"units": 4})
    flat = doc.add_node("Flatten")
    good = doc.add_node("Dense", {"units": 10, "activation": "softmax"})
    out = doc.add_node("Output")
    lonely = doc.add_node("Dropout")
    doc.connect(x, "out", bad, "in")
    doc.connect(bad, "out", after_bad, "in")
    doc.connect(x, "out", flat, "in")
    doc.connect(flat, "out", good, "in")
    doc.connect(good, "out", out, "in")

    report = infer_shapes(doc)
    assert report[bad].status == "error" and "insert Flatten" in report[bad].message
    assert report[after_bad].status == "waiting"
    assert report[after_bad].message == "Waiting on upstream Dense 'dense_1'."
    assert report[after_bad].param_count == 0
    assert report[good].ok and report[good].output_shape == (10,)
    assert report[good].param_count == 784 * 10 + 10
    assert report[out].ok
    assert (
        report[lonely].message
        == "Dropout 'dropout_1' has no input: connect its 'in' port."
    )
    assert [node for node, _ in report.errors] == [bad, lonely]
    assert report.edge_shape(Edge(bad, "out", after_bad, "in")) is None
    assert report.total_params == 7850


def test_a_fix_clears_the_problem() -> None:
    doc = classifier(1, "sigmoid", "sparse_categorical_crossentropy")
    assert not infer_shapes(doc).ok
    doc.set_param("output_1", "loss", "binary_crossentropy")
    assert infer_shapes(doc).ok


def test_reshape_rules_come_from_the_engine() -> None:
    doc = Document()
    x = doc.add_node("Input", {"shape": (12,)})
    r = doc.add_node("Reshape", {"target_shape": (3, -1)})
    doc.connect(x, "out", r, "in")
    assert infer_shapes(doc)[r].output_shape == (3, 4)
    doc.set_param(r, "target_shape", (5, -1))
    message = infer_shapes(doc)[r].message
    assert message is not None and message.startswith(
        "Reshape 'reshape_1' cannot reshape"
    )


def test_inference_works_on_snapshots(chain: Document) -> None:
    assert infer_shapes(chain.snapshot()) == infer_shapes(chain)
