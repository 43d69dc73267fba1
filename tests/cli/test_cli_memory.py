"""The command line under a real address-space limit: a network too large to train
ends at once with exit 2 and one line naming the node (issues 10 and 19)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from nndesk.document import Document
from nndesk.io.project_file import Project, ProjectMetadata, save_project

ROOT = Path(__file__).resolve().parents[2]
FASHION = ROOT.parent / "shared" / "data" / "fashion-mnist"
SIX_GIB = 6 * 1024**3


def network_file(path: Path, units: int) -> Path:
    """Fashion-MNIST images, 784 -> Dense ``units`` relu -> Dense 10 softmax."""
    doc = Document(
        {"dataset": str(FASHION), "batch_size": 32, "epochs": 1, "scaling": "none"}
    )
    prev = doc.add_node("Input", {"shape": (28, 28)})
    chain = [
        ("Flatten", {}),
        ("Dense", {"units": units, "activation": "relu"}),
        ("Dense", {"units": 10, "activation": "softmax"}),
    ]
    for i, (type_name, params) in enumerate(chain):
        node = doc.add_node(type_name, params, pos=(200.0 * (i + 1), 0.0))
        doc.connect(prev, "out", node, "in")
        prev = node
    out = doc.add_node(
        "Output", {"loss": "sparse_categorical_crossentropy"}, pos=(1000.0, 0.0)
    )
    doc.connect(prev, "out", out, "in")
    project = Project(
        document=doc,
        weights={},
        optimizer_state={},
        history={},
        preprocessing=None,
        optimizer_name=None,
        metadata=ProjectMetadata.new(),
    )
    save_project(path, project)
    return path


def nndesk_limited(*args: str) -> tuple[int, str, str, float]:
    """``nndesk ARGS`` in a process whose address space is limited to 6 GiB."""
    start = time.perf_counter()
    result = subprocess.run(
        ["prlimit", f"--as={SIX_GIB}", sys.executable, "-m", "nndesk", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    elapsed = time.perf_counter() - start
    return result.returncode, result.stdout, result.stderr, elapsed


def test_train_refuses_the_million_unit_dense_in_one_line(tmp_path):
    path = network_file(tmp_path / "huge.nndesk", 1_000_000)
    code, out, err, elapsed = nndesk_limited(
        "train", str(path), "--out", str(tmp_path / "out.nndesk")
    )
    assert code == 2, err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith(
        "nndesk train: error: Node 'dense_1' (Dense, 1,000,000 units) makes this "
        "network need about "
    )
    assert "to train at batch size 32, but only" in err
    assert err.rstrip().endswith("is available (the address-space limit).")
    assert "Traceback" not in err and "MemoryError" not in err
    assert elapsed < 10.0
    assert not (tmp_path / "out.nndesk").exists()


def test_a_batch_size_too_large_for_the_limit_is_refused(tmp_path):
    # 784 -> 8192 -> 10 trains at batch 32 in about 0.3 GB, but batches of 60,000
    # images need about 7 GB of activations: more than 6 GiB allows. --batch-size
    # is a setting before compiling, so the refusal comes before the data loads.
    path = network_file(tmp_path / "wide.nndesk", 8192)
    code, out, err, elapsed = nndesk_limited(
        "train", str(path), "--batch-size", "60000", "--epochs", "1"
    )
    assert code == 2, err
    assert err.count("\n") == 1, err
    assert "Node 'dense_1' (Dense, 8,192 units)" in err
    assert "to train at batch size 60000" in err
    assert "Traceback" not in err
    assert elapsed < 10.0
