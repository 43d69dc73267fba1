"""PyTorch project export of SimpleRNN, LSTM, GRU and Embedding (issue 14).

The exported model.py (torch.nn.RNN/LSTM/GRU with batch_first, nn.Embedding)
must compute what nndesk's predict computes, and its weights must go through
load_weights and nndesk_weights bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_export_pytorch import (  # the fixture too
    export,
    load_project_modules,  # noqa: F401
    torch_forward,
)

from nndesk.document import Document
from nndesk.io.export.torch_layers_recurrent import WRITERS
from nndesk.io.export.torch_project import LAYER_WRITERS
from nndesk.training.session import TrainingSession


def session_of(tmp_path, nodes, seed: int) -> TrainingSession:
    doc = Document()
    ids = [doc.add_node(t, p) for t, p in nodes]
    for a, b in zip(ids, ids[1:], strict=False):
        doc.connect(a, "out", b, "in")
    doc.set_setting("dataset", "spiral:n=40")
    session = TrainingSession(doc, base_dir=tmp_path)
    rng = np.random.default_rng(seed)
    model = session.model
    model.set_weights(
        {
            k: (0.5 * rng.normal(size=v.shape)).astype(v.dtype)
            for k, v in model.get_weights().items()
        }
    )
    return session


def check(session: TrainingSession, folder, load, x: np.ndarray) -> None:
    model_module, _ = load(folder)
    np.testing.assert_allclose(
        torch_forward(model_module, folder, x),
        session.model.predict(x),
        rtol=1e-5,
        atol=1e-5,
    )
    module = model_module.Network()
    model_module.load_weights(module, str(folder / "weights.npz"))
    back = model_module.nndesk_weights(module)
    for key, value in session.model.get_weights().items():
        assert back[key].tobytes() == value.tobytes(), key


def test_the_family_writers_are_merged():
    for type_name, fn in WRITERS.items():
        assert LAYER_WRITERS[type_name] is fn


@pytest.mark.parametrize(
    ("cell", "extra"),
    [
        ("SimpleRNN", {"activation": "relu"}),
        ("SimpleRNN", {"activation": "tanh"}),
        ("LSTM", {}),
        ("GRU", {}),
    ],
)
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_layers_export_like_predict(
    cell,
    extra,
    return_sequences,
    bidirectional,
    tmp_path,
    load_project_modules,  # noqa: F811
):
    params = {
        "units": 4,
        "return_sequences": return_sequences,
        "bidirectional": bidirectional,
        **extra,
    }
    last = (
        [("Flatten", {}), ("Dense", {"units": 2, "activation": "softmax"})]
        if return_sequences
        else [("Dense", {"units": 2, "activation": "softmax"})]
    )
    session = session_of(
        tmp_path,
        [("Input", {"shape": (6, 3)}), (cell, params), *last, ("Output", {})],
        seed=1,
    )
    folder = export(session, tmp_path / "p")
    x = np.random.default_rng(2).normal(size=(5, 6, 3)).astype(np.float32)
    check(session, folder, load_project_modules, x)


def test_a_token_model_with_a_per_step_dense(
    tmp_path,
    load_project_modules,  # noqa: F811
):
    session = session_of(
        tmp_path,
        [
            ("Input", {"shape": (7,), "dtype": "int"}),
            ("Embedding", {"input_dim": 9, "output_dim": 4}),
            ("GRU", {"units": 5, "return_sequences": True, "bidirectional": True}),
            ("Dense", {"units": 3, "activation": "tanh"}),
            ("LSTM", {"units": 4, "use_bias": False}),
            ("Dense", {"units": 2, "activation": "softmax"}),
            ("Output", {}),
        ],
        seed=3,
    )
    folder = export(session, tmp_path / "p")
    ids = np.random.default_rng(4).integers(0, 9, size=(6, 7)).astype(np.float32)
    check(session, folder, load_project_modules, ids)
