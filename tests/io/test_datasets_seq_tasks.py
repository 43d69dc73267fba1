"""Sorting and reversal generators (issue 15): shapes, labels, vocabulary, seeds."""

from __future__ import annotations

import numpy as np
import pytest

from nndesk.io.datasets import GENERATORS, generate, load_dataset
from nndesk.io.datasets.sequences import decode
from nndesk.io.errors import DatasetError


def test_sort_labels_each_step_with_the_sorted_digits() -> None:
    d = generate("sort", n=50, length=6, symbols=3, seed=4)
    assert d.x.shape == (50, 6) and d.x.dtype == np.float32
    assert d.y.shape == (50, 6) and d.y.dtype == np.int64
    assert d.vocabulary == ["0", "1", "2"] and d.class_names == ["0", "1", "2"]
    for row, label in zip(d.x, d.y, strict=True):
        text = decode(row, d.vocabulary)
        assert decode(label, d.vocabulary) == "".join(sorted(text))
    assert set(np.unique(d.x)) <= {0.0, 1.0, 2.0}


def test_reverse_labels_each_step_with_the_digit_from_the_end() -> None:
    d = load_dataset("reverse:n=20,length=5,symbols=10,seed=2")
    assert d.x.shape == (20, 5) and d.y.shape == (20, 5)
    for row, label in zip(d.x, d.y, strict=True):
        assert decode(label, d.vocabulary) == decode(row, d.vocabulary)[::-1]
    assert d.target_steps == 5


def test_same_seed_same_data_other_seed_other_data() -> None:
    a, b = generate("sort", seed=1), generate("sort", seed=1)
    c = generate("sort", seed=2)
    assert np.array_equal(a.x, b.x) and not np.array_equal(a.x, c.x)


def test_both_are_registered_with_their_options() -> None:
    assert [p.name for p in GENERATORS["sort"].params] == ["n", "length", "symbols"]
    assert GENERATORS["reverse"].defaults() == {"n": 2000, "length": 6, "symbols": 10}


@pytest.mark.parametrize("spec", ["sort:symbols=11", "reverse:length=0"])
def test_options_out_of_range_are_refused_in_one_sentence(spec: str) -> None:
    with pytest.raises(DatasetError, match=r"^Option '(symbols|length)' .*\.$"):
        load_dataset(spec)
