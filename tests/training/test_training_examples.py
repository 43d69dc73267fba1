"""The packaged example networks: up to date with their builders, and each trains."""

from __future__ import annotations

from importlib import resources

import pytest
from training_helpers import SHARED_DATA

from nndesk.document.examples import DEFAULT_EXAMPLE, EXAMPLES
from nndesk.io.datasets import DatasetError
from nndesk.io.project_file import load_project
from nndesk.training.examples import (
    EXAMPLE_NAMES,
    copy_example,
    example_path,
    load_example,
    write_example_files,
)
from nndesk.training.session import TrainingSession

FASHION = SHARED_DATA / "fashion-mnist"


def test_the_package_holds_exactly_the_example_files():
    folder = resources.files("nndesk.resources.examples")
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".nndesk"))
    assert names == sorted(f"{n}.nndesk" for n in EXAMPLE_NAMES)
    assert DEFAULT_EXAMPLE == "spiral"


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_committed_example_files_are_up_to_date(name):
    """Regenerate with `python -m nndesk.training.examples` when this fails."""
    project = load_example(name)
    assert project.document.to_dict() == EXAMPLES[name].build().to_dict()
    assert project.weights == {} and project.history == {}


def test_write_example_files_makes_loadable_files(tmp_path):
    paths = write_example_files(tmp_path)
    assert [p.stem for p in paths] == list(EXAMPLE_NAMES)
    for path in paths:
        assert load_project(path).document == EXAMPLES[path.stem].build()


def test_copy_example_and_unknown_names(tmp_path):
    path = copy_example("xor", tmp_path)
    assert path == tmp_path / "xor.nndesk" and load_project(path).document.settings
    assert copy_example("xor", tmp_path / "mine.nndesk").name == "mine.nndesk"
    with pytest.raises(DatasetError, match="no example network 'xorr'"):
        example_path("xorr")


# The character model's epoch takes a minute: tests/cli/test_cli_rnn_examples.py
# trains it (slow); the Fashion-MNIST CNN's takes minutes: tests/cli/test_cli_cnn.py.
# The character Transformer's epoch takes 15-35 s: tests/cli/test_cli_attention_examples.py.
@pytest.mark.parametrize(
    "name",
    [
        n
        for n in EXAMPLE_NAMES
        if n
        not in ("fashion_mnist", "fashion_mnist_cnn", "char_model", "char_transformer")
        # GANs train through GanSession: tests/training/test_gan_examples.py.
        and not n.startswith("gan_")
    ],
)
def test_each_example_trains_briefly_and_evaluates(name, tmp_path):
    path = copy_example(name, tmp_path)
    session = TrainingSession.open(path)
    history = session.fit(epochs=2)
    assert len(history["loss"]) == 2
    scores = session.evaluate(session.load_dataset())
    assert "loss" in scores and scores["loss"] >= 0
    session.save(path)
    assert len(load_project(path).history["loss"]) == 2


@pytest.mark.skipif(
    not FASHION.is_dir(), reason="../shared/data/fashion-mnist is missing"
)
def test_the_fashion_mnist_example_trains_on_the_test_split(tmp_path):
    session = TrainingSession.open(copy_example("fashion_mnist", tmp_path))
    dataset = session.load_dataset(str(FASHION), split="test")
    assert dataset.input_shape == (28, 28) and len(dataset) == 10_000
    history = session.fit(dataset, epochs=1, batch_size=256)
    assert history["val_accuracy"][-1] > 0.6
    assert session.evaluate(dataset)["accuracy"] > 0.6
