"""A GAN file from the command line (nndesk train, summary) and nndesk.load."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest

import nndesk
from nndesk import cli
from nndesk.document import Document
from nndesk.io.project_file import Project, load_project, save_project
from nndesk.training.gan import GanSession


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def gan_file(tmp_path: Path) -> Path:
    doc = Document({"dataset": "moons:n=256", "batch_size": 32, "epochs": 2})
    z = doc.add_node("Noise", {"d_steps": 2})
    g1 = doc.add_node("Dense", {"units": 8, "activation": "tanh"})
    g2 = doc.add_node("Dense", {"units": 2, "activation": "linear"})
    doc.connect(z, "out", g1, "in")
    doc.connect(g1, "out", g2, "in")
    x = doc.add_node("Input", {"shape": (2,)})
    d1 = doc.add_node("Dense", {"units": 8, "activation": "tanh"})
    d2 = doc.add_node("Dense", {"units": 1, "activation": "sigmoid"})
    out = doc.add_node("Output")
    doc.connect(x, "out", d1, "in")
    doc.connect(d1, "out", d2, "in")
    doc.connect(d2, "out", out, "in")
    path = tmp_path / "gan.nndesk"
    save_project(path, Project(document=doc))
    return path


def test_train_prints_both_losses_per_epoch_and_continues(gan_file: Path) -> None:
    code, out, err = run("train", str(gan_file), "--epochs", "3")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("moons: 256 samples")
    epochs = [line for line in lines if line.startswith("epoch ")]
    assert len(epochs) == 3
    for i, line in enumerate(epochs):
        assert re.match(
            rf"epoch {i + 1}/3  d_loss \d+\.\d{{4}}  g_loss \d+\.\d{{4}}  "
            r"d_real 0\.\d{4}  d_fake 0\.\d{4}",
            line,
        ), line
    assert lines[-1] == f"Saved {gan_file} (3 epochs trained in all)."
    project = load_project(gan_file)
    assert len(project.history["g_loss"]) == 3
    assert project.gan_state is not None
    # 256 samples / 32 = 8 discriminator steps an epoch, k=2: 4 generator steps
    assert project.gan_state["d_steps_done"] == 24
    assert project.gan_state["g_steps_done"] == 12
    # training continues from the file: 2 more epochs equal 5 in one go
    code, out, err = run("train", str(gan_file), "--epochs", "2", "-q")
    assert code == 0, err
    assert "epoch " not in out
    straight = gan_file.with_name("straight.nndesk")
    fresh = load_project(gan_file)
    fresh.weights, fresh.optimizer_state, fresh.history = {}, {}, {}
    fresh.gan_state = None
    save_project(straight, fresh)
    assert run("train", str(straight), "--epochs", "5", "-q")[0] == 0
    a, b = load_project(gan_file), load_project(straight)
    assert a.weights.keys() == b.weights.keys()
    for key in a.weights:
        np.testing.assert_array_equal(a.weights[key], b.weights[key])


def test_summary_shows_both_networks(gan_file: Path) -> None:
    code, out, err = run("summary", str(gan_file))
    assert code == 0, err
    assert 'Model: "generator"' in out and 'Model: "discriminator"' in out
    assert "noise_1 (Input)" in out and "input_1 (Input)" in out
    assert "GAN: standard loss, 2 discriminator steps per generator step" in out
    assert "Trained: not yet." in out
    run("train", str(gan_file), "--epochs", "1", "-q")
    out = run("summary", str(gan_file))[1]
    assert re.search(r"Trained: 1 epoch \(last d_loss \d\.\d{4}, g_loss", out)


def test_evaluate_and_predict_say_a_gan_does_not_predict(gan_file: Path) -> None:
    code, _, err = run("evaluate", str(gan_file))
    assert code == 2
    assert err.startswith("nndesk evaluate: error: The network has a problem: The ")
    assert "is a GAN (it has a Noise node), not a predictor" in err
    assert err.count("\n") == 1


def test_nndesk_load_opens_a_gan_as_a_gan_session(gan_file: Path) -> None:
    gan = nndesk.load(gan_file)
    assert isinstance(gan, GanSession)
    gan.fit(epochs=1)
    samples = gan.trainer.sample(gan.trainer.noise(5, 0))
    assert samples.shape == (5, 2) and samples.dtype == np.float32
    gan.save(gan_file)
    assert load_project(gan_file).history["d_loss"]


def test_the_python_blocks_of_docs_gan_md_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """docs/gan.md's API example runs as written (the PyTorch mapping, which
    needs torch, is checked by the fixtures instead)."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "gan.md").read_text(
        encoding="utf-8"
    )
    head = text.split("## PyTorch mapping")[0]
    blocks = re.findall(r"```python\n(.*?)```", head, re.S)
    assert blocks
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "gan_doc"}
    for k, code in enumerate(blocks):
        exec(compile(code, f"docs/gan.md block {k + 1}", "exec"), namespace)
    assert (tmp_path / "gan.nndesk").exists()
    assert len(capsys.readouterr().out.splitlines()) == 1
