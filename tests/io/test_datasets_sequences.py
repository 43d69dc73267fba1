"""Sequence generators (issue 14): shapes, determinism and the property defining each."""

from __future__ import annotations

import numpy as np
import pytest

from nndesk.io.datasets import (
    GENERATORS,
    DatasetError,
    GeneratorSpec,
    load_dataset,
    register_generator,
)
from nndesk.io.datasets.sequences import balanced, decode

SEQUENCE_GENERATORS = (
    "sine-forecast",
    "sines-forecast",
    "adding",
    "parity",
    "copy",
    "brackets",
    "digit-addition",
)

# name -> (spec options, input shape, target shape per sample, task)
SHAPES = {
    "sine-forecast": ("n=30,window=12,horizon=3", (12, 1), (3,), "regression"),
    "sines-forecast": ("n=30,window=20,horizon=2", (20, 1), (2,), "regression"),
    "adding": ("n=30,length=16", (16, 2), (1,), "regression"),
    "parity": ("n=30,bits=5", (5, 1), (), "classification"),
    "copy": ("n=30,length=4,symbols=3,delay=6", (14,), (14,), "classification"),
    "brackets": ("n=30,length=10,kinds=2", (10,), (), "classification"),
    "digit-addition": ("n=30,digits=2", (9,), (9,), "classification"),
}


def test_every_sequence_generator_is_registered() -> None:
    # The Data panel and the CLI list GENERATORS: registration is what shows them.
    assert set(SEQUENCE_GENERATORS) <= set(GENERATORS)
    assert set(SHAPES) == set(SEQUENCE_GENERATORS)


@pytest.mark.parametrize("name", SEQUENCE_GENERATORS)
def test_shapes_task_and_source(name: str) -> None:
    options, input_shape, target_shape, task = SHAPES[name]
    data = load_dataset(f"{name}:{options}", seed=3)
    assert len(data) == 30
    assert data.input_shape == input_shape and data.x.dtype == np.float32
    assert data.y.shape[1:] == (target_shape or ())
    assert data.task == task
    written = data.source.partition(":")[2].split(",")
    assert set(options.split(",")) | {"seed=3"} <= set(written)
    again = load_dataset(data.source)
    np.testing.assert_array_equal(again.x, data.x)
    np.testing.assert_array_equal(again.y, data.y)


@pytest.mark.parametrize("name", SEQUENCE_GENERATORS)
def test_the_seed_decides_everything(name: str) -> None:
    options = SHAPES[name][0]
    a, b = (load_dataset(f"{name}:{options}", seed=7) for _ in range(2))
    other = load_dataset(f"{name}:{options}", seed=8)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.x, other.x)


@pytest.mark.parametrize("name", SEQUENCE_GENERATORS)
def test_default_options_make_a_dataset(name: str) -> None:
    data = GENERATORS[name].function(n=40, seed=0)
    assert len(data) == 40 and data.task == GENERATORS[name].task


def test_parity_label_is_the_xor_of_the_bits() -> None:
    data = load_dataset("parity:n=500,bits=9", seed=1)
    bits = data.x[:, :, 0].astype(np.int64)
    assert set(np.unique(bits)) == {0, 1}
    np.testing.assert_array_equal(data.y, np.bitwise_xor.reduce(bits, axis=1))
    assert data.class_names == ["even", "odd"]
    assert 0.4 < data.y.mean() < 0.6


def test_adding_target_is_the_sum_of_the_two_marked_values() -> None:
    data = load_dataset("adding:n=300,length=21", seed=2)
    values, marks = data.x[:, :, 0], data.x[:, :, 1]
    assert (marks.sum(axis=1) == 2).all()
    half = 21 // 2
    assert (marks[:, :half].sum(axis=1) == 1).all()  # one mark in each half
    np.testing.assert_allclose(data.y[:, 0], (values * marks).sum(axis=1), rtol=1e-6)
    assert ((values >= 0) & (values <= 1)).all()


def test_brackets_are_balanced_exactly_when_labelled_one() -> None:
    data = load_dataset("brackets:n=400,length=12,kinds=3", seed=4)
    texts = [decode(row, data.vocabulary) for row in data.x]
    assert [balanced(t) for t in texts] == [bool(label) for label in data.y]
    assert data.y.sum() == 200  # half and half
    assert set("".join(texts)) <= set("()[]{}")
    assert data.vocabulary == list("()[]{}")


def test_brackets_negatives_are_near_misses() -> None:
    # Same length, and most keep the count of opening brackets within one.
    data = load_dataset("brackets:n=200,length=16", seed=5)
    opening = (data.x == 0).sum(axis=1)
    assert np.abs(opening[data.y == 0] - 8).max() <= 1


def test_balanced_checks_nesting_not_only_counts() -> None:
    assert balanced("([]{})") and balanced("")
    assert not balanced("([)]") and not balanced(")(") and not balanced("((")


def test_odd_bracket_length_is_refused() -> None:
    with pytest.raises(
        DatasetError, match="'length' of generator 'brackets' must be even"
    ):
        load_dataset("brackets:length=7")


def test_digit_addition_strings_decode_to_correct_sums() -> None:
    data = load_dataset("digit-addition:n=300,digits=3", seed=6)
    assert data.class_names == data.vocabulary
    for row, label in zip(data.x, data.y, strict=True):
        question = decode(row, data.vocabulary)
        answer = decode(label, data.vocabulary)
        a, _, rest = question.partition("+")
        b, _, blanks = rest.partition("=")
        assert len(a) == len(b) == 3 and blanks == "____"
        assert answer[:8] == "_" * 8
        assert int(answer[8:]) == int(a) + int(b)


def test_copy_task_repeats_the_symbols_after_the_marker() -> None:
    data = load_dataset("copy:n=100,length=4,symbols=5,delay=7", seed=7)
    for row, label in zip(data.x, data.y, strict=True):
        seen, said = decode(row, data.vocabulary), decode(label, data.vocabulary)
        assert seen[4:] == "_" * 6 + ":" + "_" * 4
        assert said[:11] == "_" * 11 and said[11:] == seen[:4]
        assert set(seen[:4]) <= set("abcde")


def test_labels_per_step_encode_for_every_loss() -> None:
    data = load_dataset("copy:n=10,length=2,symbols=3,delay=2")
    assert data.targets_for("sparse_categorical_crossentropy").shape == (10, 6)
    one_hot = data.targets_for("categorical_crossentropy")
    assert one_hot.shape == (10, 6, 5)
    np.testing.assert_array_equal(one_hot.argmax(axis=2), data.y)
    assert data.class_counts().sum() == 60
    parts = data.split(val=0.3, seed=1)  # not stratified: labels are sequences
    assert len(parts.train) + len(parts.val) == 10


def test_forecast_targets_continue_the_window() -> None:
    data = load_dataset("sine-forecast:n=50,window=10,horizon=4,period=16", seed=1)
    # A noiseless sine obeys s[t+1] = 2 cos(w) s[t] - s[t-1], windows and targets alike.
    series = np.concatenate([data.x[:, :, 0], data.y], axis=1).astype(np.float64)
    w = 2 * np.pi / 16
    np.testing.assert_allclose(
        series[:, 2:], 2 * np.cos(w) * series[:, 1:-1] - series[:, :-2], atol=1e-5
    )


def test_sum_of_sines_stays_in_range_and_noise_is_added() -> None:
    clean = load_dataset("sines-forecast:n=200,periods=4", seed=2)
    noisy = load_dataset("sines-forecast:n=200,periods=4,noise=0.1", seed=2)
    assert np.abs(clean.x).max() <= 1.0
    residual = (noisy.x - clean.x).std()
    assert 0.08 < residual < 0.12


def test_a_bad_option_names_generator_and_option() -> None:
    with pytest.raises(DatasetError, match="Option 'bits' in generator 'parity'"):
        load_dataset("parity:bits=0")
    with pytest.raises(DatasetError, match="Generator 'adding' has no option 'bits'"):
        load_dataset("adding:bits=3")


def test_a_name_registers_once() -> None:
    spec = GENERATORS["parity"]
    with pytest.raises(DatasetError, match="'parity' is registered already"):
        register_generator(GeneratorSpec("parity", spec.task, "", (), spec.function))


def _token_tagger(spec: str, steps: int, vocab: int, return_sequences: bool):
    from nndesk.document import Document

    doc = Document(
        {
            "dataset": spec,
            "epochs": 3,
            "batch_size": 32,
            "learning_rate": 0.01,
            "validation_split": 0.2,
            "metrics": ("accuracy",),
        }
    )
    prev = doc.add_node("Input", {"shape": (steps,), "dtype": "int"})
    chain = [
        ("Embedding", {"input_dim": vocab, "output_dim": 8}),
        ("LSTM", {"units": 16, "return_sequences": return_sequences}),
        ("Dense", {"units": vocab, "activation": "softmax"}),
    ]
    for i, (type_name, params) in enumerate(chain):
        node = doc.add_node(type_name, params, pos=(200.0 * (i + 1), 0.0))
        doc.connect(prev, "out", node, "in")
        prev = node
    out = doc.add_node("Output", {"loss": "sparse_categorical_crossentropy"})
    doc.connect(prev, "out", out, "in")
    return doc


def test_labels_per_step_train_a_sequence_output() -> None:
    from nndesk.api import Network

    spec = "digit-addition:n=300,digits=1"
    net = Network.from_document(_token_tagger(spec, 6, 13, True))
    history = net.fit()
    assert len(history["val_accuracy"]) == 3
    assert history["loss"][-1] < history["loss"][0]
    # the blanks alone are 4 of 6 steps: above that the answer digits are learnt
    assert history["accuracy"][-1] >= 4 / 6 - 1e-6


def test_labels_per_step_against_one_prediction_is_a_problem() -> None:
    from nndesk.document.validate import validate

    data = load_dataset("copy:n=20,length=2,symbols=3,delay=2")
    assert data.target_steps == 6 and load_dataset("parity:n=4").target_steps is None
    doc = _token_tagger("copy:n=20,length=2,symbols=3,delay=2", 6, 5, False)
    messages = [p.message for p in validate(doc, data) if p.is_error]
    assert (
        "Dense 'dense_1' predicts (5,), one value per sample, but the dataset has a "
        "label for each of 6 time steps: keep return_sequences on up to a Dense per "
        "step, with inputs of 6 steps."
    ) in messages
    seq = _token_tagger("copy:n=20,length=2,symbols=3,delay=2", 6, 5, True)
    assert not [p for p in validate(seq, data) if p.is_error]
