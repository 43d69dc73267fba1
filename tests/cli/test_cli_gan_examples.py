"""The GAN examples (issue 16) learn what the issue asks, trained by `nndesk train`
as a user would (slow: they run in CI)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from nndesk import cli
from nndesk.document.examples import EXAMPLES
from nndesk.io.datasets.generative import mixture_of
from nndesk.training.examples import copy_example
from nndesk.training.gan import GanSession

pytestmark = pytest.mark.slow

FASHION = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "fashion-mnist"
)


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_the_ring_gan_covers_all_8_modes(tmp_path: Path) -> None:
    path = copy_example("gan_ring", tmp_path)
    code, out, err = run("train", str(path))
    assert code == 0, err
    assert "epoch 10/10" in out
    session = GanSession.open(path)
    assert session.history.epochs == 10
    mixture = mixture_of(str(session.settings["dataset"]))
    assert mixture is not None and mixture.n_modes == 8
    samples = session.trainer.sample(session.trainer.noise(2000, 123))
    coverage = mixture.coverage(samples)
    assert coverage.covered == 8, coverage
    # The untrained generator covers few: the training made the difference.
    fresh = GanSession(EXAMPLES["gan_ring"].build())
    before = mixture.coverage(fresh.trainer.sample(fresh.trainer.noise(2000, 123)))
    assert before.covered < 8


@pytest.mark.skipif(
    not FASHION.is_dir(), reason="../shared/data/fashion-mnist is missing"
)
def test_the_fashion_mnist_gan_trains_from_the_cli(tmp_path: Path) -> None:
    path = copy_example("gan_fashion_mnist", tmp_path)
    data = f"{FASHION}:class=sneaker,split=test"  # 1,000 images: 16 steps
    code, out, err = run("train", str(path), "--epochs", "1", "--data", data)
    assert code == 0, err
    session = GanSession.open(path)
    assert session.history.epochs == 1
    images = session.trainer.sample(session.trainer.noise(16, 0))
    assert images.shape == (16, 28, 28)
    assert np.isfinite(images).all() and 0.0 <= images.min() and images.max() <= 1.0
