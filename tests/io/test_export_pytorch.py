"""PyTorch project export: model.py computes what nndesk computes, train.py's steps
track nndesk's losses, torchrun with 2 processes trains and writes a network file."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from export_graphs import (
    CONV_BLOCKS,
    TRANSPOSE_BLOCKS,
    conv_network,
    example_inputs,
    random_network,
)

from nndesk.document.examples import EXAMPLES
from nndesk.document.gan import is_gan
from nndesk.io.export import ExportError, export_pytorch
from nndesk.io.project_file import load_project
from nndesk.training.session import TrainingSession

# GAN examples are two networks, not a predictor: tests/io/test_gan_export.py.
PREDICTORS = sorted(n for n, e in EXAMPLES.items() if not is_gan(e.build()))

TORCHRUN = Path(sys.executable).with_name("torchrun")


def export(session: TrainingSession, folder: Path) -> Path:
    export_pytorch(
        session.model, session.snapshot, folder, save_network=session.save, title="t"
    )
    return folder


@pytest.fixture
def load_project_modules():
    """Import model.py and train.py of an exported folder; forget them afterwards."""
    added: list[str] = []

    def load(folder: Path):
        for name in ("model", "train"):
            sys.modules.pop(name, None)
        sys.path.insert(0, str(folder))
        added.append(str(folder))
        return importlib.import_module("model"), importlib.import_module("train")

    yield load
    for name in ("model", "train"):
        sys.modules.pop(name, None)
    for folder in added:
        sys.path.remove(folder)


def torch_forward(model_module, folder: Path, x: np.ndarray) -> np.ndarray:
    net = model_module.Network()
    model_module.load_weights(net, str(folder / "weights.npz"))
    net.eval()
    with torch.no_grad():
        return net(torch.as_tensor(x)).numpy()


@pytest.mark.parametrize("name", PREDICTORS)
def test_module_forward_equals_nndesk_for_every_example(
    name, tmp_path, load_project_modules
):
    session = TrainingSession(EXAMPLES[name].build(), base_dir=tmp_path)
    folder = export(session, tmp_path / name)
    model_module, _ = load_project_modules(folder)
    x = example_inputs(session, 13)
    np.testing.assert_allclose(
        torch_forward(model_module, folder, x),
        session.model.predict(x),
        rtol=1e-5,
        atol=1e-5,
    )


@pytest.mark.parametrize("seed", range(0, 40, 2))
def test_module_forward_equals_nndesk_for_random_graphs(
    seed, tmp_path, load_project_modules
):
    net = random_network(seed)
    folder = export(net.session, tmp_path / "p")
    model_module, _ = load_project_modules(folder)
    np.testing.assert_allclose(
        torch_forward(model_module, folder, net.x),
        net.session.model.predict(net.x),
        rtol=1e-5,
        atol=1e-5,
    )
    # The weights round-trip through the module bit for bit.
    module = model_module.Network()
    model_module.load_weights(module, str(folder / "weights.npz"))
    back = model_module.nndesk_weights(module)
    for key, value in net.session.model.get_weights().items():
        assert back[key].tobytes() == value.tobytes()


@pytest.mark.parametrize("index", range(len(CONV_BLOCKS) + len(TRANSPOSE_BLOCKS)))
def test_module_forward_equals_nndesk_for_convolutions(
    index, tmp_path, load_project_modules
):
    net = conv_network(index)
    folder = export(net.session, tmp_path / "p")
    model_module, _ = load_project_modules(folder)
    np.testing.assert_allclose(
        torch_forward(model_module, folder, net.x),
        net.session.model.predict(net.x),
        rtol=1e-5,
        atol=1e-5,
    )
    module = model_module.Network()
    model_module.load_weights(module, str(folder / "weights.npz"))
    back = model_module.nndesk_weights(module)
    for key, value in net.session.model.get_weights().items():
        assert back[key].tobytes() == value.tobytes()


@pytest.mark.parametrize(
    ("name", "optimizer"),
    [("spiral", "adam"), ("residual", "sgd"), ("sine", "rmsprop"), ("xor", "adamw")],
)
def test_training_steps_track_nndesk_losses(
    name, optimizer, tmp_path, load_project_modules
):
    doc = EXAMPLES[name].build()
    doc.set_setting("optimizer", optimizer)
    if optimizer == "sgd":
        doc.set_setting("momentum", 0.9)
    session = TrainingSession(doc, base_dir=tmp_path)
    data = session.prepare(session.load_dataset())
    folder = export(session, tmp_path / "p")
    model_module, train = load_project_modules(folder)
    net = model_module.Network()
    model_module.load_weights(net, str(folder / "weights.npz"))
    loss_fn = train.make_loss()
    opt = train.make_optimizer(net.parameters())
    engine = session.model
    batch = int(doc.settings["batch_size"])
    ours, theirs = [], []
    for step in range(8):  # the same batches in the same order for both
        xb = data.x_train[step * batch : (step + 1) * batch]
        yb = data.y_train[step * batch : (step + 1) * batch]
        ours.append(engine.train_on_batch(xb, yb)["loss"])
        theirs.append(
            train.train_step(net, opt, loss_fn, torch.as_tensor(xb), train.targets(yb))
        )
    np.testing.assert_allclose(theirs, ours, rtol=1e-4, atol=1e-4)
    assert ours[0] != ours[-1]  # the weights did move


def test_export_refuses_a_missing_folder_and_replaces_an_old_one(tmp_path):
    session = TrainingSession(EXAMPLES["xor"].build(), base_dir=tmp_path)
    with pytest.raises(ExportError, match="does not exist"):
        export(session, tmp_path / "no" / "p")
    old = tmp_path / "p"
    old.mkdir()
    (old / "stale.txt").write_text("old")
    export(session, old)
    assert sorted(p.name for p in old.iterdir()) == [
        "README.md",
        "model.py",
        "network.nndesk",
        "train.py",
        "weights.npz",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]
    weights = np.load(old / "weights.npz", allow_pickle=False)
    assert set(weights.files) == set(session.model.get_weights())


def test_a_failed_export_leaves_the_old_folder_and_no_debris(tmp_path):
    session = TrainingSession(EXAMPLES["xor"].build(), base_dir=tmp_path)
    old = tmp_path / "p"
    old.mkdir()
    (old / "keep.txt").write_text("mine")

    def broken_save(path: Path) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(ExportError, match="No space left on device"):
        export_pytorch(session.model, session.snapshot, old, save_network=broken_save)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]
    assert (old / "keep.txt").read_text() == "mine"


@pytest.mark.slow
def test_torchrun_two_processes_trains_and_writes_a_better_network(tmp_path):
    doc = EXAMPLES["spiral"].build()
    doc.set_setting("dataset", "spiral:n=200,noise=0.1")
    session = TrainingSession(doc, base_dir=tmp_path)
    folder = export(session, tmp_path / "p")
    out = tmp_path / "trained.nndesk"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run(
        [
            str(TORCHRUN if TORCHRUN.exists() else shutil.which("torchrun")),
            "--nproc_per_node=2",
            "--standalone",
            "train.py",
            "--epochs",
            "1",
            "--out",
            str(out),
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("epoch 1/1") == 1  # rank 0 logs alone
    assert (folder / "checkpoint.npz").exists()
    trained = load_project(out)
    assert len(trained.history["loss"]) == 1
    before = TrainingSession.from_project(load_project(folder / "network.nndesk"))
    after = TrainingSession.from_project(trained, base_dir=tmp_path)
    dataset = after.load_dataset()
    assert after.evaluate(dataset)["loss"] < before.evaluate(dataset)["loss"]
