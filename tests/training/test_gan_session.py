"""GanSession and GanTrainer: the schedule, reproducibility, saving and continuing."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nndesk.document import Document
from nndesk.engine.errors import ConfigError, DataError
from nndesk.io.errors import FileFormatError
from nndesk.io.project_file import load_project, save_project
from nndesk.training.control import TrainingControl
from nndesk.training.errors import CompileError
from nndesk.training.gan import (
    GAN_LOG_KEYS,
    GanSession,
    GanState,
    GanTrainer,
    compile_gan,
)
from nndesk.training.session import TrainingSession


def gan_document(
    loss: str = "standard", d_steps: int = 1, dropout: bool = False, **settings: Any
) -> Document:
    """Noise(2) -> Dense 16 tanh -> Dense 2; Input(2) -> Dense 16 -> Dense 1."""
    base: dict[str, Any] = {
        "dataset": "moons:n=200",
        "batch_size": 32,
        "epochs": 2,
        "seed": 4,
    }
    base.update(settings)
    doc = Document(base)
    z = doc.add_node("Noise", {"gan_loss": loss, "d_steps": d_steps})
    g1 = doc.add_node("Dense", {"units": 16, "activation": "tanh"})
    g2 = doc.add_node("Dense", {"units": 2, "activation": "linear"})
    doc.connect(z, "out", g1, "in")
    doc.connect(g1, "out", g2, "in")
    chain = [doc.add_node("Input", {"shape": (2,)})]
    chain.append(doc.add_node("Dense", {"units": 16, "activation": "leaky_relu"}))
    if dropout:
        chain.append(doc.add_node("Dropout", {"rate": 0.3}))
    end = "sigmoid" if loss == "standard" else "linear"
    chain.append(doc.add_node("Dense", {"units": 1, "activation": end}))
    chain.append(doc.add_node("Output"))
    for a, b in zip(chain, chain[1:], strict=False):
        doc.connect(a, "out", b, "in")
    return doc


def weights_equal(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_compile_gives_two_models_named_by_node_id() -> None:
    gan = compile_gan(gan_document())
    assert gan.generator.input_names == ["noise_1"]
    assert gan.generator.output_names == ["dense_2"]
    assert gan.discriminator.input_names == ["input_1"]
    assert gan.discriminator.output_names == ["dense_4"]
    # the standard loss reads the logit: the model's last layer is linear
    assert gan.discriminator.layer("dense_4").get_config()["activation"] == "linear"
    assert gan.generator.output_shapes == [(2,)]
    # the same seed draws the same weights; another seed others
    again = compile_gan(gan_document())
    assert weights_equal(gan.generator.get_weights(), again.generator.get_weights())
    other = compile_gan(gan_document(seed=5))
    assert not weights_equal(gan.generator.get_weights(), other.generator.get_weights())


def test_a_document_that_is_not_a_gan_is_refused() -> None:
    doc = gan_document()
    doc.remove_node("noise_1")
    with pytest.raises(CompileError, match="no Noise node"):
        compile_gan(doc)
    broken = gan_document()
    broken.set_param("dense_2", "units", 3)
    with pytest.raises(CompileError, match=r"makes samples of \(3,\)"):
        GanSession(broken)


def test_a_training_session_refuses_a_gan() -> None:
    """Its Output is the discriminator's: training it as a classifier would
    silently fit the labels."""
    with pytest.raises(CompileError, match="is a GAN"):
        TrainingSession(gan_document())


def test_discriminator_then_generator_on_the_schedule() -> None:
    trainer = GanTrainer(compile_gan(gan_document(d_steps=3)))
    real = np.random.default_rng(0).normal(size=(32, 2)).astype(np.float32)
    g_before = trainer.generator.get_weights()
    for i in range(3):
        logs = trainer.train_batch(real)
        assert set(logs) == (
            {"d_loss", "d_real", "d_fake", "g_loss"}
            if i == 2
            else {
                "d_loss",
                "d_real",
                "d_fake",
            }
        )
        moved = not weights_equal(g_before, trainer.generator.get_weights())
        assert moved == (i == 2)
    assert trainer.counters() == {
        "d_steps_done": 3,
        "g_steps_done": 1,
        "since_generator_step": 0,
    }
    assert trainer.d_optimizer.iterations == 3
    assert trainer.g_optimizer.iterations == 1
    # steps alone leave the schedule's count as it is
    d_before = trainer.discriminator.get_weights()
    trainer.train_batch(real, mode="generator")
    assert weights_equal(d_before, trainer.discriminator.get_weights())
    trainer.train_batch(real, mode="discriminator")
    assert trainer.counters()["since_generator_step"] == 0
    assert trainer.counters()["g_steps_done"] == 2
    with pytest.raises(ConfigError, match="Unknown GAN step"):
        trainer.train_batch(real, mode="sideways")


def test_separate_learning_rates() -> None:
    doc = gan_document(learning_rate=0.003)
    doc.set_param("noise_1", "discriminator_lr", 0.02)
    trainer = GanTrainer(compile_gan(doc))
    assert trainer.g_optimizer.lr == pytest.approx(0.003)
    assert trainer.d_optimizer.lr == pytest.approx(0.02)
    assert trainer.g_optimizer is not trainer.d_optimizer


def test_wasserstein_clips_the_discriminator() -> None:
    doc = gan_document("wasserstein", d_steps=5, optimizer="rmsprop")
    doc.set_param("noise_1", "clip_value", 0.02)
    trainer = GanTrainer(compile_gan(doc))
    real = np.random.default_rng(1).normal(size=(32, 2)).astype(np.float32)
    trainer.discriminator_step(real)
    for value in trainer.discriminator.trainable_weights().values():
        assert np.abs(value).max() <= 0.02
    assert np.abs(trainer.generator.get_weights()["dense_1/kernel"]).max() > 0.02


def test_noise_distributions() -> None:
    doc = gan_document()
    doc.set_param("noise_1", "shape", (3,))
    doc.set_param("dense_1", "units", 16)
    trainer = GanTrainer(compile_gan(doc))
    z = trainer.noise(4000, 0)
    assert z.shape == (4000, 3) and z.dtype == np.float32
    assert abs(z.std() - 1.0) < 0.05 and z.min() < -2.5
    doc.set_param("noise_1", "distribution", "uniform")
    z = GanTrainer(compile_gan(doc)).noise(4000, 0)
    assert -1.0 <= z.min() < -0.99 and 0.99 < z.max() <= 1.0


def test_discriminate_is_a_probability_for_the_standard_loss() -> None:
    trainer = GanTrainer(compile_gan(gan_document()))
    x = np.random.default_rng(2).normal(size=(7, 2)).astype(np.float32) * 20
    p = trainer.discriminate(x)
    assert p.shape == (7,) and np.all((p > 0) & (p < 1))
    logits = trainer.discriminator.predict(x)[:, 0]
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-logits)), rtol=1e-6)
    ls = GanTrainer(compile_gan(gan_document("least_squares")))
    np.testing.assert_array_equal(ls.discriminate(x), ls.discriminator.predict(x)[:, 0])


def test_the_same_seed_trains_the_same_weights() -> None:
    a, b = (
        GanSession(gan_document(dropout=True)),
        GanSession(gan_document(dropout=True)),
    )
    a.fit()
    b.fit()
    assert weights_equal(a.trainer.get_weights(), b.trainer.get_weights())
    assert a.history.as_dict() == b.history.as_dict()
    assert set(a.history) == set(GAN_LOG_KEYS)
    assert a.history.epochs == 2
    # 200 samples in batches of 32: 7 discriminator and 7 generator steps an epoch
    assert a.trainer.counters()["d_steps_done"] == 14
    assert a.trainer.counters()["g_steps_done"] == 14


@pytest.mark.parametrize("stop_after", [3, 7, 10])
def test_saved_mid_run_and_continued_equals_straight_training(
    tmp_path: Path, stop_after: int
) -> None:
    """Stop after a few batches (inside an epoch, at its end, in the next one),
    save, open, continue: weights, both optimizer states and the history equal
    an uninterrupted run's, bit for bit (dropout in the discriminator, k=2)."""
    doc = gan_document("least_squares", d_steps=2, dropout=True, epochs=3)
    straight = GanSession(doc)
    straight.fit()

    first = GanSession(doc)
    control = TrainingControl()
    done = 0

    def count(*_: Any) -> None:
        nonlocal done
        done += 1
        if done == stop_after:
            control.stop()

    from nndesk.training.callbacks import LambdaCallback

    first.fit(callbacks=[LambdaCallback(on_batch_end=count)], control=control)
    assert first.epoch * 7 + first.batch == stop_after
    path = tmp_path / "gan.nndesk"
    first.save(path)
    again = GanSession.open(path)
    assert again.epoch == first.epoch and again.batch == first.batch
    again.fit(epochs=3 - again.epoch)
    assert weights_equal(again.trainer.get_weights(), straight.trainer.get_weights())
    for name in ("g_optimizer", "d_optimizer"):
        assert weights_equal(
            getattr(again.trainer, name).get_state(),
            getattr(straight.trainer, name).get_state(),
        )
    assert again.history.as_dict() == straight.history.as_dict()
    assert again.trainer.counters() == straight.trainer.counters()


def test_the_file_holds_both_networks_and_optimizers(tmp_path: Path) -> None:
    session = GanSession(gan_document())
    session.fit(epochs=1)
    path = tmp_path / "gan.nndesk"
    session.save(path)
    with zipfile.ZipFile(path) as archive:
        meta = json.loads(archive.read("metadata.json"))
        gan = json.loads(archive.read("gan.json"))
        names = archive.namelist()
    assert meta["format_version"] >= 5 and "gan.json" in names
    assert gan["generator_iterations"] == 7 and gan["d_steps_done"] == 7
    project = load_project(path)
    assert {k.split("/")[0] for k in project.weights} == {
        "dense_1",
        "dense_2",
        "dense_3",
        "dense_4",
    }
    nodes = {k.split("/")[0] for k in project.optimizer_state if k != "iterations"}
    assert nodes == {"dense_1", "dense_2", "dense_3", "dense_4"}
    state = GanState.from_project(project)
    assert int(state.g_optimizer_state["iterations"]) == 7
    assert int(state.d_optimizer_state["iterations"]) == 7
    assert all(
        k.startswith(("dense_1", "dense_2", "iterations"))
        for k in state.g_optimizer_state
    )
    opened = GanSession.open(path)
    assert weights_equal(opened.trainer.get_weights(), session.trainer.get_weights())
    assert opened.history.as_dict() == session.history.as_dict()
    # an untrained GAN saves no weights and no gan.json
    GanSession(gan_document()).save(tmp_path / "fresh.nndesk")
    with zipfile.ZipFile(tmp_path / "fresh.nndesk") as archive:
        assert "gan.json" not in archive.namelist()
    assert load_project(tmp_path / "fresh.nndesk").weights == {}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda g: g.update(epoch="x"), "gan.json epoch must be a whole number"),
        (lambda g: g.update(batch=-1), "gan.json batch is -1, outside 0"),
        (lambda g: g.pop("d_steps_done"), "gan.json is missing 'd_steps_done'"),
        (lambda g: g.update(extra=1), "gan.json has the unknown key 'extra'"),
        (
            lambda g: g.update(partial={"d_loss": ["x", 1]}),
            "partial d_loss has the sum 'x', not a finite number",
        ),
        (lambda g: g.update(partial={"loss": [1.0, 1]}), "unknown key 'loss'"),
        (lambda g: g.update(partial=[1]), "partial must be an object"),
        (lambda g: g.update(lr_factor=0), "lr_factor must be a number above 0"),
    ],
)
def test_a_hostile_gan_json_gives_one_sentence(
    tmp_path: Path, change: Any, message: str
) -> None:
    session = GanSession(gan_document())
    session.fit(epochs=1)
    good = tmp_path / "good.nndesk"
    session.save(good)
    bad = tmp_path / "bad.nndesk"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "gan.json":
                gan = json.loads(data)
                change(gan)
                data = json.dumps(gan).encode()
            dst.writestr(info, data)
    with pytest.raises(FileFormatError, match=message) as caught:
        load_project(bad)
    text = str(caught.value)
    assert text.startswith("bad.nndesk: gan.json") and "\n" not in text


def test_gan_json_in_an_older_format_is_refused(tmp_path: Path) -> None:
    session = GanSession(gan_document())
    session.fit(epochs=1)
    good = tmp_path / "good.nndesk"
    session.save(good)
    bad = tmp_path / "old.nndesk"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "metadata.json":
                meta = json.loads(data)
                meta["format_version"] = 4
                data = json.dumps(meta).encode()
            dst.writestr(info, data)
    with pytest.raises(FileFormatError, match="unexpected member 'gan.json'"):
        load_project(bad)


def test_saving_a_bad_gan_state_is_refused(tmp_path: Path) -> None:
    from nndesk.io.errors import ProjectSaveError

    project = GanSession(gan_document()).to_project()
    project.gan_state = {"epoch": 1}
    with pytest.raises(ProjectSaveError, match="project.gan_state"):
        save_project(tmp_path / "x.nndesk", project)
    assert not (tmp_path / "x.nndesk").exists()


def test_weights_that_no_longer_fit_start_afresh() -> None:
    session = GanSession(gan_document())
    session.fit(epochs=1)
    state = session.capture()
    edited = gan_document()
    edited.set_param("dense_1", "units", 8)  # the generator changed shape
    carried = GanSession(edited, state=state)
    d_now = carried.trainer.discriminator.get_weights()
    assert weights_equal(d_now, session.trainer.discriminator.get_weights())
    fresh = GanSession(edited).trainer.generator.get_weights()
    assert weights_equal(carried.trainer.generator.get_weights(), fresh)


def test_data_of_another_shape_is_refused() -> None:
    from nndesk.io.datasets import Dataset

    session = GanSession(gan_document())
    data = Dataset(np.zeros((50, 4), np.float32), np.zeros(50), "regression")
    with pytest.raises(DataError, match=r"samples have shape \(4,\)"):
        session.prepare(data)
    fits = Dataset(np.ones((5, 2), np.float64), np.zeros(5), "regression")
    prepared = session.prepare(fits)
    assert prepared.shape == (5, 2) and prepared.dtype == np.float32


def test_control_pauses_and_steps_between_batches() -> None:
    import threading

    session = GanSession(gan_document(epochs=1))
    control = TrainingControl()
    control.pause()
    thread = threading.Thread(target=session.fit, kwargs={"control": control})
    thread.start()
    try:
        assert control.wait_until_waiting(timeout=10)
        assert session.trainer.counters()["d_steps_done"] == 0
        control.step_batch()
        assert control.wait_until_waiting(timeout=10)
        assert session.trainer.counters()["d_steps_done"] == 1
    finally:
        control.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert session.batch == 1 and session.history.epochs == 0


def test_summary_shows_both_networks() -> None:
    text = GanSession(gan_document()).summary()
    assert 'Model: "generator"' in text and 'Model: "discriminator"' in text
    assert "standard loss, 1 discriminator step per generator step" in text
    assert "Trained: not yet." in text


def test_an_output_marking_the_sample_compiles_and_trains(tmp_path: Path) -> None:
    doc = gan_document()
    marker = doc.add_node("Output")
    doc.connect("dense_2", "out", marker, "in")
    session = GanSession(doc)
    assert session.gan.generator.output_names == ["dense_2"]
    session.fit(epochs=1)
    session.save(tmp_path / "marked.nndesk")
    again = GanSession.open(tmp_path / "marked.nndesk")
    assert weights_equal(again.trainer.get_weights(), session.trainer.get_weights())


def test_saving_an_edited_document_gives_edited_nodes_fresh_weights(
    tmp_path: Path,
) -> None:
    """The window saves its live document, which may have changed since the
    run: reshaped nodes get fresh weights and lose their moments, the others
    keep theirs."""
    session = GanSession(gan_document())
    session.fit(epochs=1)
    edited = gan_document()
    edited.set_param("dense_3", "units", 12)  # the discriminator's first layer
    project = session.capture().to_project(edited)
    save_project(tmp_path / "edited.nndesk", project)
    loaded = load_project(tmp_path / "edited.nndesk")
    assert loaded.weights["dense_3/kernel"].shape == (2, 12)
    kept = session.trainer.get_weights()
    for key in ("dense_1/kernel", "dense_2/bias"):
        np.testing.assert_array_equal(loaded.weights[key], kept[key])
    nodes = {k.split("/")[0] for k in loaded.optimizer_state if k != "iterations"}
    assert nodes == {"dense_1", "dense_2"}  # dense_4's input width changed too
    again = GanSession.from_project(loaded)
    assert again.trainer.generator.get_weights().keys() == {
        "dense_1/kernel",
        "dense_1/bias",
        "dense_2/kernel",
        "dense_2/bias",
    }


def test_a_learning_rate_changed_mid_run_is_kept_and_continued(tmp_path: Path) -> None:
    """TrainingControl.set_lr (the window's rate box) rescales both networks'
    rates from the next batch; a file saved afterwards keeps the factor, so
    continuing equals a run that never stopped."""
    from nndesk.training.callbacks import LambdaCallback

    doc = gan_document(epochs=2, learning_rate=0.002)
    doc.set_param("noise_1", "discriminator_lr", 0.004)

    def run(stop_at: int | None) -> GanSession:
        session = GanSession(doc)
        control = TrainingControl()
        done = 0

        def on_batch(*_: Any) -> None:
            nonlocal done
            done += 1
            if done == 3:
                control.set_lr(0.001)  # half the setting
            if done == stop_at:
                control.stop()

        session.fit(callbacks=[LambdaCallback(on_batch_end=on_batch)], control=control)
        return session

    straight = run(None)
    assert straight.lr_factor == pytest.approx(0.5)
    assert straight.trainer.g_optimizer.lr == pytest.approx(0.001)
    assert straight.trainer.d_optimizer.lr == pytest.approx(0.002)
    stopped = run(9)
    stopped.save(tmp_path / "lr.nndesk")
    again = GanSession.open(tmp_path / "lr.nndesk")
    assert again.trainer.d_optimizer.lr == pytest.approx(0.002)
    again.fit(epochs=2 - again.epoch)
    assert weights_equal(again.trainer.get_weights(), straight.trainer.get_weights())
    with pytest.raises(ConfigError, match="above 0"):
        again.scale_learning_rates(0.0)
