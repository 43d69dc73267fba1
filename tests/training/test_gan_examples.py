"""The GAN examples (issue 16) open as GANs and train briefly; the slow CLI tests
(tests/cli/test_cli_gan_examples.py) check what they learn."""

from __future__ import annotations

from nndesk.document.gan import gan_setup
from nndesk.io.project_file import load_project
from nndesk.training.examples import copy_example, load_example
from nndesk.training.gan import GanSession


def test_the_gan_examples_are_gans() -> None:
    ring = gan_setup(load_example("gan_ring").document)
    assert ring is not None and ring.noise_shape == (2,) and ring.loss == "standard"
    images = gan_setup(load_example("gan_fashion_mnist").document)
    assert images is not None and images.noise_shape == (64,)
    settings = load_example("gan_fashion_mnist").document.settings
    assert str(settings["dataset"]).endswith(":class=sneaker")


def test_the_ring_example_trains_briefly_and_saves(tmp_path) -> None:
    path = copy_example("gan_ring", tmp_path)
    session = GanSession.open(path)
    history = session.fit(epochs=2)
    assert len(history["d_loss"]) == 2 and len(history["g_loss"]) == 2
    assert session.trainer.g_steps_done == 200  # 10,000 samples, batch 100
    session.save(path)
    assert len(load_project(path).history["d_loss"]) == 2
