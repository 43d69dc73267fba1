"""GAN steps against PyTorch, and the generator's gradient against finite differences.

The fixtures (tests/fixtures/gan/, made by tests/make_gan_fixtures.py with the
reference venv) hold a small GAN document, its initial weights, the batches and
the weights after a hand-written PyTorch GAN step for each loss. Here nndesk
takes the same steps from the same weights and noise and must land on the same
weights (float32; measured worst difference ~1e-7).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nndesk.document import Document
from nndesk.training.gan import (
    GanTrainer,
    compile_gan,
    discriminator_loss,
    generator_loss,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gan"
LOSSES = ("standard", "least_squares", "wasserstein")
TOL = {"rtol": 1e-5, "atol": 1e-6}


def load_case(loss: str) -> tuple[GanTrainer, dict[str, np.ndarray]]:
    with np.load(FIXTURES / f"gan_{loss}.npz", allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    doc = Document.from_dict(json.loads(str(arrays["graph"])))
    trainer = GanTrainer(compile_gan(doc))
    trainer.set_weights(
        {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("w0/")}
    )
    return trainer, arrays


def assert_weights(trainer: GanTrainer, arrays: dict[str, np.ndarray], tag: str):
    got = trainer.get_weights()
    want = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith(tag)}
    assert set(got) == set(want)
    for key, value in want.items():
        np.testing.assert_allclose(got[key], value, **TOL, err_msg=f"{tag}{key}")


@pytest.mark.parametrize("loss", LOSSES)
def test_one_gan_step_equals_pytorch(loss: str) -> None:
    trainer, arrays = load_case(loss)
    before = trainer.get_weights()
    d = trainer.discriminator_step(arrays["real_0_0"], arrays["noise_d_0_0"])
    assert d["d_loss"] == pytest.approx(arrays["d_loss"][0], rel=1e-5, abs=1e-6)
    assert_weights(trainer, arrays, "after_d/")
    # the discriminator step moved the discriminator, not the generator's weights
    g_kernels = [k for k in before if k.startswith(trainer.generator.layers[1].name)]
    for key in g_kernels:
        np.testing.assert_array_equal(trainer.get_weights()[key], before[key])
    g = trainer.generator_step(arrays["noise_g_0"])
    assert g["g_loss"] == pytest.approx(arrays["g_loss"][0], rel=1e-5, abs=1e-6)
    assert_weights(trainer, arrays, "after_g/")


@pytest.mark.parametrize("loss", LOSSES)
def test_rounds_of_k_steps_equal_pytorch(loss: str) -> None:
    """Further rounds of k discriminator steps and one generator step: the
    optimizers' moments carry over (Wasserstein: k=2 with RMSprop, clipped)."""
    trainer, arrays = load_case(loss)
    k = trainer.config.d_steps
    d_losses, g_losses = [], []
    for r in range(int(arrays["rounds"])):
        for j in range(1 if r == 0 else k):
            logs = trainer.discriminator_step(
                arrays[f"real_{r}_{j}"], arrays[f"noise_d_{r}_{j}"]
            )
            d_losses.append(logs["d_loss"])
        g_losses.append(trainer.generator_step(arrays[f"noise_g_{r}"])["g_loss"])
    np.testing.assert_allclose(d_losses, arrays["d_loss"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g_losses, arrays["g_loss"], rtol=1e-5, atol=1e-6)
    assert_weights(trainer, arrays, "final/")
    if loss == "wasserstein":
        clip = trainer.config.clip_value
        for value in trainer.discriminator.trainable_weights().values():
            assert np.abs(value).max() <= clip


# --- the gradient reaching the generator through the discriminator ---------------


@pytest.mark.parametrize("loss", LOSSES)
def test_generator_gradient_through_the_discriminator(loss: str) -> None:
    """Float64 central differences of the generator loss (through the
    discriminator's frozen weights) against ``generator_gradients``."""
    _, arrays = load_case(loss)
    doc = Document.from_dict(json.loads(str(arrays["graph"])))
    # BatchNorm's batch statistics make the loss depend on the whole batch,
    # which the check covers as well; running statistics do not enter it.
    trainer = GanTrainer(compile_gan(doc, dtype=np.float64))
    rng = np.random.default_rng(11)
    noise = trainer.noise(5, rng)
    trainer.generator_gradients(noise)
    analytic = {k: g.copy() for k, g in trainer.generator.gradients().items()}
    params = trainer.generator.trainable_weights()
    d_before = trainer.discriminator.get_weights()
    eps = 1e-6
    checked = 0
    for key, p in params.items():
        flat = p.reshape(-1)
        for i in rng.choice(flat.size, size=min(flat.size, 6), replace=False):
            old = flat[i]
            flat[i] = old + eps
            up = trainer.generator_gradients(noise)["g_loss"]
            flat[i] = old - eps
            down = trainer.generator_gradients(noise)["g_loss"]
            flat[i] = old
            numeric = (up - down) / (2 * eps)
            assert analytic[key].reshape(-1)[i] == pytest.approx(
                numeric, rel=1e-5, abs=1e-8
            ), (key, i)
            checked += 1
    assert checked >= 20
    # computing the generator's gradients leaves the discriminator's weights be
    for key, value in trainer.discriminator.get_weights().items():
        if "running" not in key:
            np.testing.assert_array_equal(value, d_before[key])


@pytest.mark.parametrize("loss", LOSSES)
def test_sample_gradients_are_the_per_sample_loss_gradients(loss: str) -> None:
    """``sample_gradients`` gives d(loss of sample i)/d(sample i), checked by
    finite differences of the discriminator's output in float64."""
    _, arrays = load_case(loss)
    doc = Document.from_dict(json.loads(str(arrays["graph"])))
    trainer = GanTrainer(compile_gan(doc, dtype=np.float64))
    noise = trainer.noise(4, 5)
    samples, grads = trainer.sample_gradients(noise)
    assert samples.shape == grads.shape == (4, 2)

    def sample_loss(x: np.ndarray) -> float:
        out = trainer.discriminator.predict(x[None, :])
        return generator_loss(loss, np.asarray(out))[0]

    eps = 1e-6
    for i in range(4):
        for j in range(2):
            x = samples[i].copy()
            x[j] += eps
            up = sample_loss(x)
            x[j] -= 2 * eps
            down = sample_loss(x)
            assert grads[i, j] == pytest.approx((up - down) / (2 * eps), rel=1e-5)


def test_loss_functions_match_their_formulas() -> None:
    real = np.array([[2.0], [-1.0]])
    fake = np.array([[0.5], [-3.0], [1.0]])
    loss, g_real, g_fake = discriminator_loss("standard", real, fake)
    p_real, p_fake = 1 / (1 + np.exp(-real)), 1 / (1 + np.exp(-fake))
    want = -np.log(p_real).mean() - np.log(1 - p_fake).mean()
    assert loss == pytest.approx(want)
    np.testing.assert_allclose(g_real, (p_real - 1) / 2)
    np.testing.assert_allclose(g_fake, p_fake / 3)
    loss, g = generator_loss("standard", fake)
    assert loss == pytest.approx(-np.log(p_fake).mean())
    loss, _, _ = discriminator_loss("wasserstein", real, fake)
    assert loss == pytest.approx(fake.mean() - real.mean())
    loss, _, _ = discriminator_loss("least_squares", real, fake)
    assert loss == pytest.approx(
        0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake**2).mean()
    )
    # a saturated discriminator still gives the generator a gradient
    loss, g = generator_loss("standard", np.array([[-80.0]]))
    assert loss == pytest.approx(80.0) and g[0, 0] == pytest.approx(-1.0)
