"""Learning tests of the whole pipeline (document -> compile -> data -> trainer).

These are the foundation issue's acceptance checks: real data, real training, the
accuracy a correct engine reaches. Slow, but bounded (seconds on an idle 2-core
machine; well under a minute under load).
"""

from __future__ import annotations

import pytest
from training_helpers import SHARED_DATA, chain_document

from nndesk.document.examples import fashion_mnist_mlp
from nndesk.training.session import TrainingSession

FASHION = SHARED_DATA / "fashion-mnist"


@pytest.mark.slow
@pytest.mark.skipif(
    not FASHION.is_dir(), reason="../shared/data/fashion-mnist is missing"
)
def test_fashion_mnist_784_256_128_10_reaches_087_test_accuracy_in_3_epochs():
    """The seed architecture: Flatten, Dense 256 relu, Dense 128 relu, Dense 10
    softmax, sparse cross-entropy, Adam (lr 0.001), batch 128, inputs standardised
    per pixel with training statistics; all 60,000 training images, 3 epochs."""
    doc = fashion_mnist_mlp(str(FASHION))
    for name, value in {
        "validation_split": 0.0,
        "early_stopping_patience": 0,
        "scaling": "standard",
        "seed": 0,
    }.items():
        doc.set_setting(name, value)
    session = TrainingSession(doc)
    assert [layer.name for layer in session.model.layers] == [
        "input_1",
        "flatten_1",
        "dense_1",
        "dense_2",
        "dense_3",
    ]
    assert (
        session.model.count_params()
        == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
    )
    train = session.load_dataset(split="train")
    assert len(train) == 60_000
    history = session.fit(train, epochs=3)
    assert history["loss"][0] > history["loss"][1] > history["loss"][2]
    test = session.load_dataset(split="test")
    assert len(test) == 10_000
    scores = session.evaluate(test)
    assert scores["accuracy"] >= 0.87, scores


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_class_spiral_reaches_099_training_accuracy(seed):
    """A 2-16-16-1 tanh net with a sigmoid output and binary cross-entropy (Adam,
    lr 0.01, batch 16) separates a 400-point spiral (noise 0.02) completely."""
    doc = chain_document(
        [
            ("Dense", {"units": 16, "activation": "tanh"}),
            ("Dense", {"units": 16, "activation": "tanh"}),
            ("Dense", {"units": 1, "activation": "sigmoid"}),
        ],
        "binary_crossentropy",
        dataset="spiral:n=400,noise=0.02",
        learning_rate=0.01,
        batch_size=16,
        validation_split=0.0,
        metrics=("accuracy",),
        epochs=500,
        seed=seed,
    )
    session = TrainingSession(doc)
    session.fit()
    scores = session.evaluate(session.load_dataset())
    assert scores["accuracy"] >= 0.99, scores
