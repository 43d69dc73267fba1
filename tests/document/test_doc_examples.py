"""Example networks: valid, laid out left to right, round-trip, expected sizes."""

from __future__ import annotations

import json

import pytest

from nndesk.document import Document, infer_shapes, validate
from nndesk.document.examples import (
    DEFAULT_EXAMPLE,
    EXAMPLES,
    fashion_mnist_mlp,
    residual_classifier,
    spiral_classifier,
)

NAMES = list(EXAMPLES)


@pytest.mark.parametrize("name", NAMES)
def test_example_is_ready_to_train(name: str) -> None:
    doc = EXAMPLES[name].build()
    assert validate(doc) == []
    assert infer_shapes(doc).ok
    assert doc.settings["dataset"]


@pytest.mark.parametrize("name", NAMES)
def test_example_is_laid_out_left_to_right(name: str) -> None:
    doc = EXAMPLES[name].build()
    for e in doc.edges:
        assert doc.node(e.src_node).pos[0] < doc.node(e.dst_node).pos[0], str(e)
    positions = [n.pos for n in doc.nodes]
    assert len(set(positions)) == len(positions)


@pytest.mark.parametrize("name", NAMES)
def test_example_round_trips_and_builds_fresh(name: str) -> None:
    doc = EXAMPLES[name].build()
    assert Document.from_dict(json.loads(json.dumps(doc.to_dict()))) == doc
    other = EXAMPLES[name].build()
    assert other == doc and other is not doc


def test_spiral_is_the_playground_net() -> None:
    doc = spiral_classifier()
    report = infer_shapes(doc)
    dense = doc.nodes_of_type("Dense")
    assert [(n.params["units"], n.params["activation"]) for n in dense] == [
        (8, "tanh"),
        (8, "tanh"),
        (1, "sigmoid"),
    ]
    assert doc.nodes_of_type("Output")[0].params["loss"] == "binary_crossentropy"
    assert report.total_params == (2 * 8 + 8) + (8 * 8 + 8) + (8 + 1)
    assert doc.settings["dataset"].startswith("spiral:")
    assert DEFAULT_EXAMPLE == "spiral"


def test_fashion_mnist_seed_network() -> None:
    doc = fashion_mnist_mlp("/data/fashion")
    report = infer_shapes(doc)
    assert [report[n].output_shape for n in doc.topological_order()] == [
        (28, 28),
        (784,),
        (256,),
        (128,),
        (10,),
        (10,),
    ]
    assert report.total_params == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
    s = doc.settings
    assert (s["dataset"], s["optimizer"], s["batch_size"]) == (
        "/data/fashion",
        "adam",
        128,
    )
    assert doc.nodes_of_type("Output")[0].params["loss"] == (
        "sparse_categorical_crossentropy"
    )


def test_residual_example_has_a_skip_connection() -> None:
    doc = residual_classifier()
    (add,) = doc.nodes_of_type("Add")
    sources = doc.predecessors(add.id)
    assert len(sources) == 2
    # one input of the Add is also the input of the other: a skip connection
    assert any(doc.reaches(a, b) for a in sources for b in sources if a != b)
