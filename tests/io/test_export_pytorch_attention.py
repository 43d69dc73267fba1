"""PyTorch project export of MultiHeadAttention, LayerNormalization and
PositionalEmbedding (issue 15).

The exported model.py (torch.nn.MultiheadAttention with batch_first, nn.LayerNorm,
a Positions module) must compute what nndesk's predict computes, and its weights
must go through load_weights and nndesk_weights bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_export_pytorch import (  # the fixture too
    export,
    load_project_modules,  # noqa: F401
)
from test_export_pytorch_recurrent import check

from nndesk.document import Document
from nndesk.io.export.torch_layers_attention import WRITERS
from nndesk.io.export.torch_project import LAYER_WRITERS
from nndesk.training.session import TrainingSession


def test_the_family_writers_are_merged():
    for type_name, fn in WRITERS.items():
        assert LAYER_WRITERS[type_name] is fn


def block_session(tmp_path, encoding: str, cross: bool, seed: int) -> TrainingSession:
    """Token ids -> Embedding -> positions -> pre-norm block (causal
    self-attention, or cross-attention from a per-step Dense's queries to the
    positions) -> GELU feed-forward -> residual Adds -> Flatten -> softmax."""
    doc = Document()

    def chain(*nodes: str) -> None:
        for a, b in zip(nodes, nodes[1:], strict=False):
            doc.connect(a, "out", b, "in")

    ids = doc.add_node("Input", {"shape": (7,), "dtype": "int"})
    emb = doc.add_node("Embedding", {"input_dim": 5, "output_dim": 8})
    pos = doc.add_node("PositionalEmbedding", {"encoding": encoding})
    ln1 = doc.add_node("LayerNormalization")
    att = doc.add_node(
        "MultiHeadAttention", {"num_heads": 2, "causal": not cross, "dropout": 0.1}
    )
    res1 = doc.add_node("Add")
    ln2 = doc.add_node("LayerNormalization", {"epsilon": 1e-3})
    ff1 = doc.add_node("Dense", {"units": 16, "activation": "gelu"})
    ff2 = doc.add_node("Dense", {"units": 8, "activation": "linear"})
    res2 = doc.add_node("Add")
    flat = doc.add_node("Flatten")
    head = doc.add_node("Dense", {"units": 2, "activation": "softmax"})
    out = doc.add_node("Output")
    chain(ids, emb, pos, ln1)
    if cross:
        query = doc.add_node("Dense", {"units": 8, "activation": "tanh"})
        chain(ln1, query, att)
        doc.connect(pos, "out", att, "in")  # the keys and values
    else:
        chain(ln1, att)
    doc.connect(pos, "out", res1, "in")
    doc.connect(att, "out", res1, "in")
    chain(res1, ln2, ff1, ff2, res2)
    doc.connect(res1, "out", res2, "in")
    chain(res2, flat, head, out)
    doc.set_setting("dataset", "spiral:n=40")
    session = TrainingSession(doc, base_dir=tmp_path)
    rng = np.random.default_rng(seed)
    session.model.set_weights(
        {
            k: (0.5 * rng.normal(size=v.shape)).astype(v.dtype)
            for k, v in session.model.get_weights().items()
        }
    )
    return session


@pytest.mark.parametrize("encoding", ["learned", "sinusoidal"])
@pytest.mark.parametrize("cross", [False, True])
def test_transformer_block_exports_like_predict(
    encoding,
    cross,
    tmp_path,
    load_project_modules,  # noqa: F811
):
    session = block_session(tmp_path, encoding, cross, seed=5)
    folder = export(session, tmp_path / "p")
    ids = np.random.default_rng(6).integers(0, 5, size=(6, 7)).astype(np.float32)
    check(session, folder, load_project_modules, ids)
