"""Seeded sequence generators for recurrent networks, registered with the toy ones.

Forecasting (``sine-forecast``, ``sines-forecast``: a window of a series -> its
next values), memory tasks (``adding``, ``parity``, ``copy``) and little
languages (``brackets``, ``digit-addition``). Real-valued series are float32
``(n, time, 1)``; symbol sequences are token ids ``(n, time)`` (float32 whole
numbers, for an Input of integer ids feeding an Embedding) with the
``Dataset.vocabulary`` that says which text each id stands for. Tasks that answer
at every step (``copy``, ``digit-addition``) have labels per time step
``(n, time)`` in the same vocabulary. Like the toy generators, each takes ``n``
and ``seed`` (an int or an ``np.random.Generator``): the same int seed gives
identical arrays. Every generator joins ``GENERATORS`` at import
(``register_generator``), so specs (``parity:bits=12``), the command line and the
Data panel's option widgets know it.
"""

from __future__ import annotations

import numpy as np

from ..errors import DatasetError
from .base import CLASSIFICATION, REGRESSION, Dataset
from .toy import (
    GeneratorSpec,
    ParamSpec,
    SeedLike,
    _check,
    _rng,
    _source,
    register_generator,
)

__all__ = [
    "BLANK",
    "adding",
    "balanced",
    "brackets",
    "copy_task",
    "decode",
    "digit_addition",
    "parity",
    "sine_forecast",
    "sines_forecast",
]

BLANK = "_"
"""The token of "nothing to read / nothing to say yet" in symbol tasks."""
_BRACKETS = "()[]{}"
_COPY_SYMBOLS = "abcdefghijklmnopqrstuvwxyz"
_GO = ":"  # the copy task's "now repeat" marker
_DIGITS = "0123456789"


def decode(ids: np.ndarray, vocabulary: list[str]) -> str:
    """The text of a row of token ids (``"".join(vocabulary[i] for i in ids)``)."""
    return "".join(vocabulary[int(i)] for i in np.asarray(ids).reshape(-1))


# --- forecasting --------------------------------------------------------------------------
def _forecast(
    name: str,
    series: np.ndarray,
    window: int,
    rng: np.random.Generator,
    noise: float,
    source: str,
) -> Dataset:
    """Split rows of ``series`` ``(n, window + horizon)`` into inputs and targets."""
    if noise > 0:
        series = series + rng.normal(0.0, noise, size=series.shape)
    return Dataset(
        x=series[:, :window, None].astype(np.float32),
        y=series[:, window:].astype(np.float32),
        task=REGRESSION,
        name=name,
        source=source,
    )


def sine_forecast(
    n: int = 1000,
    window: int = 32,
    horizon: int = 1,
    noise: float = 0.0,
    period: float = 25.0,
    seed: SeedLike = 0,
) -> Dataset:
    """Windows of a sine wave of random phase -> its next ``horizon`` values.

    Row ``i`` is ``sin(2 pi t / period + phase_i)`` for ``t = 0 .. window +
    horizon - 1``; Gaussian ``noise`` is added to every value (inputs and
    targets).

    Returns
    -------
    Dataset
        ``x`` float32 ``(n, window, 1)``; ``y`` float32 ``(n, horizon)``.
    """
    o = _check(
        "sine-forecast", n=n, window=window, horizon=horizon, noise=noise, period=period
    )
    rng = _rng(seed)
    steps = np.arange(int(o["window"]) + int(o["horizon"]))
    phase = rng.uniform(0.0, 2 * np.pi, size=(int(o["n"]), 1))
    series = np.sin(2 * np.pi * steps / float(o["period"]) + phase)
    src = _source("sine-forecast", seed, **o)
    return _forecast(
        "sine-forecast", series, int(o["window"]), rng, float(o["noise"]), src
    )


def sines_forecast(
    n: int = 1000,
    window: int = 48,
    horizon: int = 1,
    noise: float = 0.0,
    periods: int = 3,
    seed: SeedLike = 0,
) -> Dataset:
    """Windows of a sum of ``periods`` sines -> the next ``horizon`` values.

    The dataset's sines have periods drawn once from [6, 60] steps and weights
    summing to 1 (so values stay in [-1, 1]); each row has its own random phases.

    Returns
    -------
    Dataset
        ``x`` float32 ``(n, window, 1)``; ``y`` float32 ``(n, horizon)``.
    """
    o = _check(
        "sines-forecast",
        n=n,
        window=window,
        horizon=horizon,
        noise=noise,
        periods=periods,
    )
    rng = _rng(seed)
    k = int(o["periods"])
    period = rng.uniform(6.0, 60.0, size=k)
    weight = rng.uniform(0.5, 1.0, size=k)
    weight /= weight.sum()
    steps = np.arange(int(o["window"]) + int(o["horizon"]))
    phase = rng.uniform(0.0, 2 * np.pi, size=(int(o["n"]), 1, k))
    waves = np.sin(2 * np.pi * steps[None, :, None] / period + phase)
    series = waves @ weight
    src = _source("sines-forecast", seed, **o)
    return _forecast(
        "sines-forecast", series, int(o["window"]), rng, float(o["noise"]), src
    )


# --- memory tasks -------------------------------------------------------------------------
def adding(n: int = 2000, length: int = 50, seed: SeedLike = 0) -> Dataset:
    """The adding problem (Hochreiter & Schmidhuber 1997): add the two marked values.

    Each step holds a value uniform in [0, 1] and a marker; exactly two steps are
    marked, one in each half of the sequence. The target is the sum of the two
    marked values.

    Returns
    -------
    Dataset
        ``x`` float32 ``(n, length, 2)`` (value, marker); ``y`` float32 ``(n, 1)``.
    """
    o = _check("adding", n=n, length=length)
    rng = _rng(seed)
    count, steps = int(o["n"]), int(o["length"])
    values = rng.uniform(0.0, 1.0, size=(count, steps))
    half = steps // 2
    marks = np.zeros((count, steps))
    rows = np.arange(count)
    marks[rows, rng.integers(0, half, size=count)] = 1.0
    marks[rows, rng.integers(half, steps, size=count)] = 1.0
    return Dataset(
        x=np.stack([values, marks], axis=2).astype(np.float32),
        y=(values * marks).sum(axis=1, keepdims=True),
        task=REGRESSION,
        name="adding",
        source=_source("adding", seed, **o),
    )


def parity(n: int = 2000, bits: int = 8, seed: SeedLike = 0) -> Dataset:
    """Random bit strings, one bit per time step; the class is their parity (xor).

    Returns
    -------
    Dataset
        ``x`` float32 ``(n, bits, 1)`` of 0/1; ``y`` int64 ``(n,)``, 1 for an odd
        number of ones (class names ``even``, ``odd``).
    """
    o = _check("parity", n=n, bits=bits)
    rng = _rng(seed)
    x = rng.integers(0, 2, size=(int(o["n"]), int(o["bits"]), 1))
    return Dataset(
        x=x.astype(np.float32),
        y=x.sum(axis=(1, 2)) % 2,
        task=CLASSIFICATION,
        class_names=["even", "odd"],
        name="parity",
        source=_source("parity", seed, **o),
    )


def copy_task(
    n: int = 2000,
    length: int = 5,
    symbols: int = 8,
    delay: int = 10,
    seed: SeedLike = 0,
) -> Dataset:
    """The copy task: read ``length`` symbols, wait, then repeat them.

    The input is the symbols, ``delay - 1`` blanks, the marker ``:``, then
    ``length`` blanks; the label at every step is the blank until the marker has
    passed and then the symbols in order. Time steps: ``2 * length + delay``.

    Returns
    -------
    Dataset
        ``x`` token ids ``(n, time)`` (float32), ``y`` int64 ``(n, time)``; the
        vocabulary is ``_``, ``:`` and the first ``symbols`` letters, and the class
        names are the same tokens.
    """
    o = _check("copy", n=n, length=length, symbols=symbols, delay=delay)
    rng = _rng(seed)
    count, k, wait = int(o["n"]), int(o["length"]), int(o["delay"])
    vocabulary = [BLANK, _GO, *_COPY_SYMBOLS[: int(o["symbols"])]]
    shown = rng.integers(2, len(vocabulary), size=(count, k))
    x = np.zeros((count, 2 * k + wait), dtype=np.int64)
    x[:, :k] = shown
    x[:, k + wait - 1] = vocabulary.index(_GO)
    y = np.zeros_like(x)
    y[:, k + wait :] = shown
    return Dataset(
        x=x.astype(np.float32),
        y=y,
        task=CLASSIFICATION,
        class_names=list(vocabulary),
        name="copy",
        source=_source("copy", seed, **o),
        vocabulary=vocabulary,
    )


# --- little languages ---------------------------------------------------------------------
def balanced(text: str) -> bool:
    """Whether every bracket in ``text`` is closed by its partner, properly nested."""
    stack: list[str] = []
    for c in text:
        at = _BRACKETS.find(c)
        if at < 0:
            continue
        if at % 2 == 0:
            stack.append(_BRACKETS[at + 1])
        elif not stack or stack.pop() != c:
            return False
    return not stack


def _balanced_string(steps: int, kinds: int, rng: np.random.Generator) -> list[str]:
    """A random properly nested string of ``steps`` (even) brackets."""
    out: list[str] = []
    stack: list[str] = []
    for left in range(steps, 0, -1):
        must_close = len(stack) == left
        if stack and (must_close or rng.random() < 0.5):
            out.append(stack.pop())
        else:
            kind = int(rng.integers(0, kinds))
            out.append(_BRACKETS[2 * kind])
            stack.append(_BRACKETS[2 * kind + 1])
    return out


def _near_miss(chars: list[str], kinds: int, rng: np.random.Generator) -> list[str]:
    """A balanced string with one bracket changed or two swapped (often unbalanced)."""
    out = list(chars)
    i, j = rng.choice(len(out), size=2, replace=False)
    if rng.random() < 0.5:
        out[i], out[j] = out[j], out[i]
    else:
        out[i] = _BRACKETS[int(rng.integers(0, 2 * kinds))]
    return out


def brackets(
    n: int = 2000, length: int = 20, kinds: int = 1, seed: SeedLike = 0
) -> Dataset:
    """Bracket strings; the class says whether they are balanced (properly nested).

    Half the samples are balanced, random nestings of ``kinds`` bracket pairs
    (``()``, ``[]``, ``{}``); the other half are near misses: a balanced string
    with one bracket changed or two swapped, kept only when that unbalanced it.

    Returns
    -------
    Dataset
        ``x`` token ids ``(n, length)`` (float32) over the vocabulary of the
        ``kinds`` pairs; ``y`` int64 ``(n,)``, 1 for balanced (class names
        ``unbalanced``, ``balanced``).
    """
    o = _check("brackets", n=n, length=length, kinds=kinds)
    rng = _rng(seed)
    count, steps, k = int(o["n"]), int(o["length"]), int(o["kinds"])
    if steps % 2:
        raise DatasetError(
            f"Option 'length' of generator 'brackets' must be even, got {steps}."
        )
    vocabulary = list(_BRACKETS[: 2 * k])
    rows: list[list[str]] = []
    labels = np.arange(count) % 2
    for label in labels:
        text = _balanced_string(steps, k, rng)
        if not label:
            wrong = _near_miss(text, k, rng)
            while balanced("".join(wrong)):
                wrong = _near_miss(text, k, rng)
            text = wrong
        rows.append(text)
    order = rng.permutation(count)
    lookup = {c: i for i, c in enumerate(vocabulary)}
    x = np.array([[lookup[c] for c in rows[i]] for i in order], dtype=np.float32)
    return Dataset(
        x=x.reshape(count, steps),
        y=labels[order].astype(np.int64),
        task=CLASSIFICATION,
        class_names=["unbalanced", "balanced"],
        name="brackets",
        source=_source("brackets", seed, **o),
        vocabulary=vocabulary,
    )


def digit_addition(n: int = 2000, digits: int = 3, seed: SeedLike = 0) -> Dataset:
    """Sums written out: read ``"042+317="``, then write ``"0359"`` step by step.

    Operands are uniform in ``0 .. 10**digits - 1``, written with leading zeros;
    the answer has ``digits + 1`` digits. The input is the question followed by
    one blank per answer digit; the label is the blank while the question is read,
    then the answer's digits. Time steps: ``3 * digits + 3``.

    Returns
    -------
    Dataset
        ``x`` token ids ``(n, time)`` (float32), ``y`` int64 ``(n, time)``, both
        over the vocabulary ``0``-``9``, ``+``, ``=``, ``_`` (the class names).
    """
    o = _check("digit-addition", n=n, digits=digits)
    rng = _rng(seed)
    count, d = int(o["n"]), int(o["digits"])
    vocabulary = [*_DIGITS, "+", "=", BLANK]
    a, b = rng.integers(0, 10**d, size=(2, count))
    plus, equals, blank = (np.full(count, vocabulary.index(c)) for c in "+=" + BLANK)
    columns = [*_digit_ids(a, d), plus, *_digit_ids(b, d), equals]
    x = np.stack(columns + [blank] * (d + 1), axis=1)
    y = np.full_like(x, vocabulary.index(BLANK))
    y[:, 2 * d + 2 :] = np.stack(_digit_ids(a + b, d + 1), axis=1)
    return Dataset(
        x=x.astype(np.float32),
        y=y,
        task=CLASSIFICATION,
        class_names=list(vocabulary),
        name="digit-addition",
        source=_source("digit-addition", seed, **o),
        vocabulary=vocabulary,
    )


def _digit_ids(values: np.ndarray, width: int) -> list[np.ndarray]:
    """The decimal digits of ``values``, most significant first, ``width`` of them."""
    return [(values // 10 ** (width - 1 - k)) % 10 for k in range(width)]


# --- registry -----------------------------------------------------------------------------
def _n(default: int) -> ParamSpec:
    return ParamSpec("n", "int", default, 2, 1_000_000, "Number of sequences.")


def _steps(name: str, default: int, low: int, high: int, what: str) -> ParamSpec:
    return ParamSpec(name, "int", default, low, high, what)


_WINDOW_HELP = "Time steps the network sees."
_HORIZON = _steps("horizon", 1, 1, 100, "Next values to predict after the window.")
_NOISE = ParamSpec(
    "noise", "float", 0.0, 0.0, 10.0, "Std of Gaussian noise on every value."
)

for _spec in (
    GeneratorSpec(
        "sine-forecast",
        REGRESSION,
        "A window of a sine wave -> its next value(s) (time series).",
        (
            _n(1000),
            _steps("window", 32, 1, 1000, _WINDOW_HELP),
            _HORIZON,
            _NOISE,
            ParamSpec("period", "float", 25.0, 2.0, 1000.0, "Steps per cycle."),
        ),
        sine_forecast,
    ),
    GeneratorSpec(
        "sines-forecast",
        REGRESSION,
        "A window of a sum of sines -> its next value(s) (time series).",
        (
            _n(1000),
            _steps("window", 48, 1, 1000, _WINDOW_HELP),
            _HORIZON,
            _NOISE,
            _steps("periods", 3, 1, 10, "Sines added up (each its own period)."),
        ),
        sines_forecast,
    ),
    GeneratorSpec(
        "adding",
        REGRESSION,
        "Add the two marked values of a long sequence (memory).",
        (_n(2000), _steps("length", 50, 2, 1000, "Time steps per sequence.")),
        adding,
    ),
    GeneratorSpec(
        "parity",
        CLASSIFICATION,
        "Is the number of ones in a bit string odd? (2 classes).",
        (_n(2000), _steps("bits", 8, 1, 1000, "Bits, one per time step.")),
        parity,
    ),
    GeneratorSpec(
        "copy",
        CLASSIFICATION,
        "Read symbols, wait, repeat them (token ids, a label per step).",
        (
            _n(2000),
            _steps("length", 5, 1, 100, "Symbols to remember."),
            _steps("symbols", 8, 1, len(_COPY_SYMBOLS), "Distinct symbols."),
            _steps("delay", 10, 1, 1000, "Steps between reading and repeating."),
        ),
        copy_task,
    ),
    GeneratorSpec(
        "brackets",
        CLASSIFICATION,
        "Are the brackets balanced? (token ids, 2 classes).",
        (
            ParamSpec("n", "int", 2000, 2, 200_000, "Number of sequences."),
            ParamSpec("length", "int", 20, 2, 500, "Brackets per string (even)."),
            _steps("kinds", 1, 1, 3, "Kinds of bracket pairs: (), [], {}."),
        ),
        brackets,
    ),
    GeneratorSpec(
        "digit-addition",
        CLASSIFICATION,
        "Read '042+317=', write '0359' (token ids, a label per step).",
        (_n(2000), _steps("digits", 3, 1, 9, "Digits per operand.")),
        digit_addition,
    ),
):
    register_generator(_spec)
