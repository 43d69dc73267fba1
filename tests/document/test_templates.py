"""Palette templates: the Transformer block fragment, its sizes and the registry."""

from __future__ import annotations

import pytest

from nndesk.document import Document
from nndesk.document.errors import DocumentError
from nndesk.document.shapes import infer_shapes
from nndesk.document.templates import (
    TEMPLATES,
    TRANSFORMER_D,
    Template,
    get_template,
    heads_for,
    incoming_features,
    is_template,
    register_template,
    transformer_block,
)

BLOCK = "template:TransformerBlock"


@pytest.mark.parametrize(("d", "heads"), [(48, 4), (6, 3), (10, 2), (7, 1), (64, 4)])
def test_heads_divide_the_features(d: int, heads: int) -> None:
    assert heads_for(d) == heads and d % heads == 0


@pytest.mark.parametrize("d", [None, 6, 12, 48])
def test_the_block_wires_a_pre_norm_transformer_with_two_residuals(
    d: int | None,
) -> None:
    width = TRANSFORMER_D if d is None else d
    doc = Document()
    x = doc.add_node("Input", {"shape": (5, width)})
    fragment = get_template(BLOCK).make(d)
    ids = doc.paste_dict(fragment.data, (250.0, 0.0))
    for index, port in fragment.entries:
        doc.connect(x, "out", ids[index], port)
    types = [doc.node(n).type_name for n in ids]
    assert types == [
        "LayerNormalization",
        "MultiHeadAttention",
        "Add",
        "LayerNormalization",
        "Dense",
        "Dense",
        "Add",
    ]
    assert doc.node(ids[4]).params["units"] == 4 * width
    assert doc.node(ids[4]).params["activation"] == "gelu"
    assert doc.node(ids[5]).params["units"] == width
    assert {e.src_node for e in doc.edges_in(ids[2])} == {x, ids[1]}
    assert {e.src_node for e in doc.edges_in(ids[6])} == {ids[2], ids[5]}
    report = infer_shapes(doc)
    assert all(report[n].ok for n in ids), report.errors
    assert report[ids[fragment.exit[0]]].output_shape == (5, width)
    (group,) = doc.groups
    assert group.title == "Transformer block" and group.node_ids == tuple(ids)
    # torch's parameter counts: LayerNorm 2d, MHA 4d^2 + 4d, FFN 8d^2 + 5d
    expected = 2 * 2 * width + 4 * width**2 + 4 * width + 8 * width**2 + 5 * width
    assert sum(report[n].param_count for n in ids) == expected


def test_a_block_of_no_features_is_refused() -> None:
    with pytest.raises(DocumentError, match="at least 1 feature, got 0"):
        transformer_block(0)


def test_the_registry_refuses_bad_names_and_knows_its_templates() -> None:
    assert is_template(BLOCK) and not is_template("Dense")
    with pytest.raises(DocumentError, match="must start 'template:'"):
        register_template(Template("Block", "B", "", transformer_block))
    with pytest.raises(DocumentError, match="already in use"):
        register_template(TEMPLATES[BLOCK])
    with pytest.raises(DocumentError, match="Unknown template 'template:Nope'"):
        get_template("template:Nope")


def test_incoming_features_is_the_last_dimension() -> None:
    assert incoming_features((11, 48)) == 48
    assert incoming_features((48,)) == 48
    assert incoming_features(None) is None
    assert incoming_features(()) is None
