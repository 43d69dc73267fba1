"""Seeded sequence-to-sequence tasks for attention: sorting and reversal.

Both read ``length`` symbols and answer at every step (labels per time step,
``(n, time)``), so a Transformer encoder with a softmax per position learns them
without a decoder. ``sort`` is minGPT's classic (6 digits from 0-2 -> the same
digits in order); ``reverse`` writes the sequence backwards. Inputs are token ids
``(n, length)`` (float32 whole numbers for an Input of integer ids feeding an
Embedding) over the vocabulary of the first ``symbols`` digits, which is also the
list of classes. Like the other generators each takes ``n`` and ``seed`` and
joins ``GENERATORS`` at import, so specs (``sort:length=8``), the command line and
the Data panel know them.
"""

from __future__ import annotations

import numpy as np

from .base import CLASSIFICATION, Dataset
from .toy import (
    GeneratorSpec,
    ParamSpec,
    SeedLike,
    _check,
    _rng,
    _source,
    register_generator,
)

__all__ = ["reverse", "sort_digits"]

_DIGITS = "0123456789"


def _symbols(
    name: str, n: int, length: int, symbols: int, seed: SeedLike
) -> tuple[np.ndarray, list[str], dict[str, int | float]]:
    """Random digit ids ``(n, length)`` int64, the vocabulary and checked options."""
    o = _check(name, n=n, length=length, symbols=symbols)
    rng = _rng(seed)
    vocabulary = list(_DIGITS[: int(o["symbols"])])
    x = rng.integers(0, len(vocabulary), size=(int(o["n"]), int(o["length"])))
    return x, vocabulary, o


def _dataset(
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    vocabulary: list[str],
    source: str,
) -> Dataset:
    return Dataset(
        x=x.astype(np.float32),
        y=y.astype(np.int64),
        task=CLASSIFICATION,
        class_names=list(vocabulary),
        name=name,
        source=source,
        vocabulary=vocabulary,
    )


def sort_digits(
    n: int = 2000, length: int = 6, symbols: int = 3, seed: SeedLike = 0
) -> Dataset:
    """Sorting (minGPT's task): ``length`` digits from ``0`` to ``symbols - 1``;
    the label at step ``t`` is the ``t``-th smallest of them.

    Returns
    -------
    Dataset
        ``x`` token ids ``(n, length)`` (float32), ``y`` int64 ``(n, length)``,
        ``np.sort(x, axis=1)``; the vocabulary and the class names are the digits.

    Examples
    --------
    >>> from nndesk.io.datasets.sequences import decode
    >>> d = sort_digits(n=1, seed=3)
    >>> sorted(decode(d.x[0], d.vocabulary)) == list(decode(d.y[0], d.vocabulary))
    True
    """
    x, vocabulary, o = _symbols("sort", n, length, symbols, seed)
    return _dataset(
        "sort", x, np.sort(x, axis=1), vocabulary, _source("sort", seed, **o)
    )


def reverse(
    n: int = 2000, length: int = 6, symbols: int = 10, seed: SeedLike = 0
) -> Dataset:
    """Reversal: ``length`` digits from ``0`` to ``symbols - 1``; the label at step
    ``t`` is the digit at step ``length - 1 - t``.

    Returns
    -------
    Dataset
        ``x`` token ids ``(n, length)`` (float32), ``y`` int64 ``(n, length)``,
        ``x[:, ::-1]``; the vocabulary and the class names are the digits.
    """
    x, vocabulary, o = _symbols("reverse", n, length, symbols, seed)
    return _dataset(
        "reverse", x, x[:, ::-1].copy(), vocabulary, _source("reverse", seed, **o)
    )


def _params(length: int, symbols: int) -> tuple[ParamSpec, ...]:
    return (
        ParamSpec("n", "int", 2000, 2, 1_000_000, "Number of sequences."),
        ParamSpec("length", "int", length, 1, 1000, "Digits per sequence."),
        ParamSpec("symbols", "int", symbols, 2, 10, "Distinct digits (0 to 9)."),
    )


for _spec in (
    GeneratorSpec(
        "sort",
        CLASSIFICATION,
        "Read digits, write them in order (token ids, a label per step).",
        _params(6, 3),
        sort_digits,
    ),
    GeneratorSpec(
        "reverse",
        CLASSIFICATION,
        "Read digits, write them backwards (token ids, a label per step).",
        _params(6, 10),
        reverse,
    ),
):
    register_generator(_spec)
