"""PyTorch project export of a GAN: the modules compute what the engine computes,
train.py's GAN steps equal GanTrainer's, and torchrun trains and writes a GAN file."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch
from gan_graphs import dense_gan, image_gan

from nndesk.document.graph import Document
from nndesk.io.export import ExportError
from nndesk.io.export.gan_export import export_gan_pytorch
from nndesk.io.project_file import load_project
from nndesk.training.gan import GAN_LOG_KEYS, GanSession

TORCHRUN = Path(sys.executable).with_name("torchrun")
MODULES = ("generator", "discriminator", "train")
FILES = [
    "README.md",
    "discriminator.py",
    "generator.py",
    "network.nndesk",
    "train.py",
    "weights.npz",
]


def export(session: GanSession, folder: Path) -> Path:
    gan = session.gan
    export_gan_pytorch(
        gan.generator,
        gan.discriminator,
        gan.setup,
        session.snapshot,
        folder,
        save_network=session.save,
        title="t.nndesk",
    )
    return folder


@pytest.fixture
def load_train():
    """Import train.py (and the two modules it imports) of an exported folder;
    forget them afterwards."""
    added: list[str] = []

    def load(folder: Path) -> ModuleType:
        for name in MODULES:
            sys.modules.pop(name, None)
        sys.path.insert(0, str(folder))
        added.append(str(folder))
        return importlib.import_module("train")

    yield load
    for name in MODULES:
        sys.modules.pop(name, None)
    for folder in added:
        sys.path.remove(folder)


def torch_pair(train: ModuleType, folder: Path):
    g = train.generator_module.Network()
    d = train.discriminator_module.Network()
    weights = np.load(folder / "weights.npz", allow_pickle=False)
    train.generator_module.load_weights(g, weights)
    train.discriminator_module.load_weights(d, weights)
    return g, d


@pytest.mark.parametrize("loss", ["standard", "least_squares", "wasserstein"])
def test_modules_compute_what_the_engine_computes(loss, tmp_path, load_train) -> None:
    session = GanSession(dense_gan(loss), base_dir=tmp_path)
    trainer = session.trainer
    for _ in range(2):  # weights that are not the initial draw
        trainer.train_batch(np.random.default_rng(0).normal(size=(16, 2)).astype("f4"))
    folder = export(session, tmp_path / "p")
    assert sorted(p.name for p in folder.iterdir()) == FILES
    g, d = torch_pair(load_train(folder), folder)
    g.eval()
    d.eval()
    z = trainer.noise(50, 4)
    with torch.no_grad():
        samples = g(torch.as_tensor(z)).numpy()
        scores = d(torch.as_tensor(samples)).numpy()[:, 0]
        logits = d(torch.as_tensor(samples), logits=True).numpy()[:, 0]
    np.testing.assert_allclose(samples, trainer.sample(z), atol=1e-5)
    np.testing.assert_allclose(scores, trainer.discriminate(samples), atol=1e-5)
    if loss == "standard":  # forward gives D(x); logits=True the loss's input
        np.testing.assert_allclose(1 / (1 + np.exp(-logits)), scores, atol=1e-6)
    else:
        np.testing.assert_array_equal(logits, scores)


@pytest.mark.parametrize(
    "doc",
    [
        pytest.param(
            dense_gan("standard", optimizer="adam", d_steps=1), id="standard-adam"
        ),
        pytest.param(
            dense_gan("standard", optimizer="adam", regularize=True, noise="uniform"),
            id="standard-l1l2-uniform",
        ),
        pytest.param(
            dense_gan("least_squares", optimizer="sgd", extra={"momentum": 0.9}),
            id="least_squares-sgd",
        ),
        pytest.param(
            dense_gan("least_squares", batchnorm=True), id="least_squares-batchnorm"
        ),
        pytest.param(
            dense_gan("wasserstein", optimizer="rmsprop", d_steps=3), id="wgan-rmsprop"
        ),
        pytest.param(
            dense_gan("standard", optimizer="adamw", extra={"clipnorm": 0.05}),
            id="standard-adamw-clipnorm",
        ),
        # BatchNorm in the generator (its running statistics move in both steps);
        # slow: the first convolutions compile their Numba kernels.
        pytest.param(image_gan("standard"), id="dcgan", marks=pytest.mark.slow),
    ],
)
def test_gan_steps_equal_the_engines(doc: Document, tmp_path, load_train) -> None:
    session = GanSession(doc, base_dir=tmp_path)
    folder = export(session, tmp_path / "p")
    train = load_train(folder)
    g, d = torch_pair(train, folder)
    g.train()
    d.train()
    config = train.CONFIG
    g_opt = train.make_optimizer(g.parameters(), config["generator_lr"])
    d_opt = train.make_optimizer(d.parameters(), config["discriminator_lr"])
    trainer = session.trainer
    shape = tuple(session.gan.discriminator.input_shapes[0])
    rng = np.random.default_rng(1)
    since, ours, theirs = 0, [], []
    for step in range(6):  # the schedule of GanTrainer.train_batch, noise given
        real = rng.normal(0.0, 0.5, size=(16, *shape)).astype(np.float32)
        z = trainer.noise(16, 100 + step)
        ours.append(trainer.discriminator_step(real, z)["d_loss"])
        t = torch.as_tensor
        theirs.append(train.discriminator_step(g, d, d_opt, t(real), t(z))["d_loss"])
        since += 1
        if since >= config["d_steps"]:
            since = 0
            z = trainer.noise(config["batch_size"], 200 + step)
            ours.append(trainer.generator_step(z)["g_loss"])
            theirs.append(train.generator_step(g, d, g_opt, t(z))["g_loss"])
    np.testing.assert_allclose(theirs, ours, rtol=1e-4, atol=1e-5)
    engine = trainer.get_weights()
    exported = train.nndesk_weights(g, d)
    assert set(exported) == set(engine)
    for key, value in engine.items():
        np.testing.assert_allclose(exported[key], value, atol=2e-5, err_msg=key)
    start = np.load(folder / "weights.npz")
    assert any(not np.array_equal(start[k], v) for k, v in engine.items())
    if config["loss"] == "wasserstein":  # every discriminator weight was clipped
        critic = set(session.gan.setup.discriminator_ids)
        clipped = [v for k, v in exported.items() if k.split("/")[0] in critic]
        assert max(np.abs(v).max() for v in clipped) <= config["clip_value"] + 1e-7


def test_config_holds_the_gan_setup(tmp_path, load_train) -> None:
    doc = dense_gan("wasserstein", d_steps=5, regularize=True)
    (noise,) = doc.nodes_of_type("Noise")
    doc.set_param(noise.id, "generator_lr", 0.0005)
    doc.set_param(noise.id, "clip_value", 0.02)
    session = GanSession(doc, base_dir=tmp_path)
    config = load_train(export(session, tmp_path / "p")).CONFIG
    assert config["loss"] == "wasserstein" and config["d_steps"] == 5
    assert config["generator_lr"] == 0.0005 and config["discriminator_lr"] == 0.01
    assert config["clip_value"] == 0.02
    assert config["noise_shape"] == (4,) and config["sample_shape"] == (2,)
    assert config["regularized_generator"] == {"dense_1": [0.001, 0.01]}
    assert config["regularized_discriminator"] == {"dense_3": [0.001, 0.01]}


def test_weights_and_network_file_are_both_networks(tmp_path) -> None:
    session = GanSession(dense_gan(), base_dir=tmp_path)
    folder = export(session, tmp_path / "p")
    weights = np.load(folder / "weights.npz", allow_pickle=False)
    assert set(weights.files) == set(session.trainer.get_weights())
    again = GanSession.open(folder / "network.nndesk")
    assert again.snapshot.to_dict() == session.snapshot.to_dict()


def test_a_failed_export_leaves_the_old_folder_and_no_debris(tmp_path) -> None:
    session = GanSession(dense_gan(), base_dir=tmp_path)
    gan = session.gan
    old = tmp_path / "p"
    old.mkdir()
    (old / "keep.txt").write_text("mine")

    def broken_save(path: Path) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(ExportError, match="No space left on device"):
        export_gan_pytorch(
            gan.generator,
            gan.discriminator,
            gan.setup,
            session.snapshot,
            old,
            save_network=broken_save,
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]
    assert (old / "keep.txt").read_text() == "mine"


@pytest.mark.slow
def test_torchrun_trains_the_gan_and_writes_a_gan_file(tmp_path) -> None:
    doc = dense_gan("standard")
    doc.set_setting("dataset", "ring-gaussians:n=512")
    session = GanSession(doc, base_dir=tmp_path)
    folder = export(session, tmp_path / "p")
    out = tmp_path / "trained.nndesk"
    result = subprocess.run(
        [
            str(TORCHRUN if TORCHRUN.exists() else shutil.which("torchrun")),
            "--nproc_per_node=1",
            "--standalone",
            "train.py",
            "--epochs",
            "3",
            "--out",
            str(out),
        ],
        cwd=folder,
        env=dict(os.environ, OMP_NUM_THREADS="1"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert [line.split()[1] for line in result.stdout.splitlines()[:3]] == [
        "1/3",
        "2/3",
        "3/3",
    ]
    assert (folder / "checkpoint.npz").exists()
    project = load_project(out)
    assert {k: len(v) for k, v in project.history.items()} == {
        k: 3 for k in GAN_LOG_KEYS
    }
    again = GanSession.from_project(project, base_dir=tmp_path)
    before = session.trainer.get_weights()
    after = again.trainer.get_weights()
    assert set(after) == set(before)
    assert all(not np.array_equal(after[k], before[k]) for k in before)
    # The trained generator's samples are data-like numbers, not a divergence.
    z = again.trainer.noise(512, 0)
    samples = again.trainer.sample(z)
    assert np.isfinite(samples).all() and np.abs(samples).max() < 10


# Runs train.py's steps on one half of each batch per process (or on the whole
# batch alone) and saves the weights each process ends with.
DRIVER = """
import sys

import numpy as np
import torch
import torch.distributed as dist

import train

rank, world, _ = train.setup("cpu")
g = train.generator_module.Network()
d = train.discriminator_module.Network()
weights = np.load("weights.npz")
train.generator_module.load_weights(g, weights)
train.discriminator_module.load_weights(d, weights)
g_opt = train.make_optimizer(g.parameters(), train.CONFIG["generator_lr"])
d_opt = train.make_optimizer(d.parameters(), train.CONFIG["discriminator_lr"])
batches = np.load(sys.argv[1])
for real, zd, zg in zip(batches["real"], batches["zd"], batches["zg"]):
    part = slice(rank * len(real) // world, (rank + 1) * len(real) // world)
    t = torch.as_tensor
    train.discriminator_step(g, d, d_opt, t(real[part]), t(zd[part]), world)
    train.generator_step(g, d, g_opt, t(zg[part]), world)
np.savez(f"{sys.argv[2]}-{world}-{rank}.npz", **train.nndesk_weights(g, d))
if world > 1:
    dist.destroy_process_group()
"""


@pytest.mark.slow
def test_two_processes_step_as_one_process_on_the_whole_batch(tmp_path) -> None:
    """Gradients averaged over two halves of each batch are the whole batch's, so
    both processes end with the weights one process reaches on whole batches."""
    doc = dense_gan("wasserstein", optimizer="adam", regularize=True)
    session = GanSession(doc, base_dir=tmp_path)
    folder = export(session, tmp_path / "p")
    (folder / "driver.py").write_text(DRIVER, encoding="utf-8")
    rng = np.random.default_rng(7)
    np.savez(
        folder / "batches.npz",
        real=rng.normal(size=(3, 16, 2)).astype(np.float32),
        zd=rng.normal(size=(3, 16, 4)).astype(np.float32),
        zg=rng.normal(size=(3, 16, 4)).astype(np.float32),
    )
    torchrun = str(TORCHRUN if TORCHRUN.exists() else shutil.which("torchrun"))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for command in (
        [sys.executable, "driver.py"],
        [torchrun, "--nproc_per_node=2", "--standalone", "driver.py"],
    ):
        result = subprocess.run(
            [*command, "batches.npz", "w"],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr[-2000:]
    alone = np.load(folder / "w-1-0.npz")
    first, second = np.load(folder / "w-2-0.npz"), np.load(folder / "w-2-1.npz")
    start = np.load(folder / "weights.npz")
    for key in alone.files:
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)
        np.testing.assert_allclose(first[key], alone[key], atol=1e-6, err_msg=key)
    assert any(not np.array_equal(alone[k], start[k]) for k in alone.files)
