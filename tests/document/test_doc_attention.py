"""The Attention node types in the document: palette category, canvas text,
shapes and parameter counts of a Transformer block, cross-attention's edge
order, and the Problems before training (issue 15)."""

from __future__ import annotations

import numpy as np

from nndesk.document import Document, infer_shapes
from nndesk.document.registry import CATEGORIES, get_spec, specs_in
from nndesk.document.validate import validate
from nndesk.training.compile import compile_network


def connect(doc: Document, *nodes: str) -> None:
    for a, b in zip(nodes, nodes[1:], strict=False):
        doc.connect(a, "out", b, "in")


def test_palette_category_entries_and_canvas_text():
    assert CATEGORIES.index("Recurrent") < CATEGORIES.index("Attention")
    assert CATEGORIES.index("Attention") < CATEGORIES.index("Activations")
    names = [s.type_name for s in specs_in("Attention")]
    assert names == ["MultiHeadAttention", "LayerNormalization", "PositionalEmbedding"]
    att = get_spec("MultiHeadAttention")
    assert att.input_port("in").multiple and att.input_port("in").label
    assert att.key_param_text({"num_heads": 4}) == "4 heads"
    assert (
        att.key_param_text({"num_heads": 1, "key_dim": 8, "causal": True})
        == "1 head × 8 · causal"
    )
    assert get_spec("PositionalEmbedding").param("encoding").choices == (
        "learned",
        "sinusoidal",
    )


def block(doc: Document, heads: int = 4, key_dim: int | None = None) -> dict:
    """ids (11) -> Embedding 32 -> positions -> pre-norm block -> per-step softmax."""
    n = {
        "ids": doc.add_node("Input", {"shape": (11,), "dtype": "int"}),
        "emb": doc.add_node("Embedding", {"input_dim": 3, "output_dim": 32}),
        "pos": doc.add_node("PositionalEmbedding"),
        "ln1": doc.add_node("LayerNormalization"),
        "att": doc.add_node(
            "MultiHeadAttention",
            {"num_heads": heads, "key_dim": key_dim, "causal": True},
        ),
        "res1": doc.add_node("Add"),
        "ff": doc.add_node("Dense", {"units": 64, "activation": "gelu"}),
        "res2": doc.add_node("Add"),
        "head": doc.add_node("Dense", {"units": 3, "activation": "softmax"}),
        "out": doc.add_node("Output", {"loss": "sparse_categorical_crossentropy"}),
    }
    proj = doc.add_node("Dense", {"units": 32, "activation": "linear"})
    connect(doc, n["ids"], n["emb"], n["pos"], n["ln1"], n["att"], n["res1"])
    doc.connect(n["pos"], "out", n["res1"], "in")
    connect(doc, n["res1"], n["ff"], proj, n["res2"])
    doc.connect(n["res1"], "out", n["res2"], "in")
    connect(doc, n["res2"], n["head"], n["out"])
    return n


def test_a_transformer_block_has_time_and_features_on_its_edges():
    doc = Document()
    n = block(doc)
    report = infer_shapes(doc)
    assert report.ok, report.errors
    assert report[n["pos"]].output_shape == (11, 32)
    assert report[n["att"]].output_shape == (11, 32)
    assert report[n["head"]].output_shape == (11, 3)
    assert report[n["pos"]].param_count == 11 * 32
    assert report[n["ln1"]].param_count == 64
    assert report[n["att"]].param_count == 4 * 32 * 32 + 4 * 32  # torch's count
    assert not [p for p in validate(doc) if p.node_id is not None]
    net = compile_network(doc)
    probabilities = net.model.predict(np.zeros((2, 11), np.float32))
    assert probabilities.shape == (2, 11, 3)


def message_of(doc: Document, node: str) -> str:
    problems = [p for p in validate(doc) if p.node_id == node]
    assert problems, f"no problem on {node}"
    return problems[0].message


def test_heads_that_do_not_fit_the_width_are_a_problem_with_the_fix():
    doc = Document()
    n = block(doc, heads=4, key_dim=16)
    assert message_of(doc, n["att"]) == (
        f"MultiHeadAttention '{n['att']}' needs num_heads × key_dim = 4 × 16 = 64 "
        "features but receives (11, 32): set key_dim to 8 (or leave it empty)."
    )
    doc.set_param(n["att"], "key_dim", None)
    doc.set_param(n["att"], "num_heads", 5)
    assert "choose num_heads dividing 32" in message_of(doc, n["att"])


def test_attention_on_vectors_is_a_problem():
    doc = Document()
    x = doc.add_node("Input", {"shape": (16,)})
    att = doc.add_node("MultiHeadAttention", {"num_heads": 2})
    out = doc.add_node("Output", {"loss": "mse"})
    connect(doc, x, att, out)
    assert "it has no time axis" in message_of(doc, att)


def cross(doc: Document, query_steps: int, causal: bool) -> tuple[str, str, str]:
    """An input of 12 steps; queries of ``query_steps`` steps through a Reshape
    and a Dense, keys and values the input itself."""
    x = doc.add_node("Input", {"shape": (12, 6)})
    fold = doc.add_node("Reshape", {"target_shape": (query_steps, -1)})
    q = doc.add_node("Dense", {"units": 6, "activation": "linear"})
    att = doc.add_node("MultiHeadAttention", {"num_heads": 2, "causal": causal})
    out = doc.add_node("Output", {"loss": "mse"})
    connect(doc, x, fold, q, att, out)
    doc.connect(x, "out", att, "in")  # second edge: the keys and values
    return x, q, att


def test_cross_attention_takes_the_queries_first():
    doc = Document()
    _, q, att = cross(doc, 4, causal=False)
    report = infer_shapes(doc)
    assert report[att].input_shapes == ((4, 6), (12, 6))
    assert report[att].output_shape == (4, 6)  # one output per query


def test_causal_cross_attention_between_different_lengths_is_a_problem():
    doc = Document()
    _, _, att = cross(doc, 4, causal=True)
    assert "is causal but its queries have 4 steps and its keys 12" in message_of(
        doc, att
    )
