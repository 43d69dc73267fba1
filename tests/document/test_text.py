"""Counts read right in messages: "1 epoch", "2 epochs" (issue 11 found "1 epochs")."""

from __future__ import annotations

import doctest

from nndesk.document import text
from nndesk.document.text import counted


def test_counted_takes_the_number_of_its_count() -> None:
    assert counted(1, "epoch") == "1 epoch"
    assert counted(0, "epoch") == "0 epochs"
    assert counted(60000, "sample") == "60,000 samples"
    assert counted(1, "class", "classes") == "1 class"
    assert counted(3, "class", "classes") == "3 classes"


def test_the_docstring_examples_hold() -> None:
    assert doctest.testmod(text).failed == 0
