"""The Python API: nndesk.load, Network, and the examples in docs/python-api.md."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from training_helpers import REPO, spiral_document

import nndesk
from nndesk.api import Network
from nndesk.engine.errors import DataError
from nndesk.io.errors import FileFormatError
from nndesk.training.errors import CompileError


def _code_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


def test_the_examples_in_the_python_api_doc_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    blocks = _code_blocks(REPO / "docs" / "python-api.md")
    assert len(blocks) >= 6
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/python-api.md", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "[5, 6]" in printed
    assert printed.count("True") >= 2
    assert (tmp_path / "spiral-trained.nndesk").is_file()
    assert "does not exist" in printed


def test_import_nndesk_does_not_import_the_engine():
    code = (
        "import sys, nndesk; "
        "print('numpy' in sys.modules, 'nndesk.api' in sys.modules); "
        "nndesk.load; print('nndesk.api' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    ).stdout.split()
    assert out == ["False", "False", "True"]


def test_unknown_attribute_of_the_package():
    with pytest.raises(AttributeError, match="no attribute 'lode'"):
        nndesk.lode  # noqa: B018


def test_from_document_fit_predict_evaluate_save_load(tmp_path):
    net = Network.from_document(spiral_document())
    assert net.path is None and net.history == {}
    history = net.fit(epochs=2)
    assert len(history["loss"]) == 2
    x = np.random.default_rng(1).normal(size=(5, 2)).astype(np.float32)
    p = net.predict(x)
    assert p.shape == (5, 1) and ((p > 0) & (p < 1)).all()
    assert set(net.predict_classes(x)) <= {0, 1}
    assert set(net.evaluate()) == {"loss", "accuracy"}
    with pytest.raises(DataError, match="no file yet"):
        net.save()
    path = net.save(tmp_path / "n.nndesk")
    loaded = nndesk.load(path)
    assert loaded.history == net.history
    assert np.array_equal(loaded.predict(x), p)
    assert "2 epochs trained" in repr(loaded) and "n.nndesk" in repr(loaded)
    loaded.fit(epochs=1)
    assert loaded.save() == path
    assert len(nndesk.load(path).history["loss"]) == 3


def test_fit_on_arrays_accepts_one_hot_targets_and_checks_pairs():
    net = Network.from_document(spiral_document(validation_split=0.0))
    x = np.random.default_rng(2).normal(size=(40, 2)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(np.int64)
    net.fit(x, labels, epochs=1)
    one_hot = np.eye(2)[labels]
    assert net.evaluate(x, one_hot) == net.evaluate(x, labels)
    with pytest.raises(DataError, match="both x and y"):
        net.evaluate(x, None)


def test_predict_classes_refuses_a_regression_network():
    from training_helpers import chain_document

    doc = chain_document(
        [("Dense", {"units": 1, "activation": "linear"})],
        "mse",
        input_shape=(1,),
        dataset="sine:n=20",
    )
    with pytest.raises(DataError, match="regression loss"):
        Network.from_document(doc).predict_classes(np.zeros((2, 1)))


def test_errors_are_nndesk_errors(tmp_path):
    with pytest.raises(FileFormatError, match="does not exist"):
        nndesk.load(tmp_path / "missing.nndesk")
    doc = spiral_document()
    doc.remove_node("dense_2")
    with pytest.raises(CompileError, match="has no input"):
        Network.from_document(doc)


def test_document_property_is_an_editable_copy():
    net = Network.from_document(spiral_document())
    doc = net.document
    doc.set_param("dense_1", "units", 4)
    assert net.document.node("dense_1").params["units"] == 8
    edited = Network.from_document(doc)
    assert edited.model.layer("dense_1").units == 4
