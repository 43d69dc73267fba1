"""Character-level text datasets: a window of characters -> the next character.

The spec ``text`` names one (``text:path=notes.txt,window=40``); without a
``path`` the text is Python's own documentation, ``pydoc_data.topics`` (about
465,000 characters of English that every Python install has offline). The
characters become token ids by the text's sorted set of characters, its
vocabulary, which a trained network keeps in its file (``Project.vocabulary``)
so that its ids map back to characters after loading.

Sample ``i`` is the window ``ids[i * step : i * step + window]`` and its label the
character that follows. The windows are a strided view of one array of ids
(``numpy.lib.stride_tricks.sliding_window_view``), not a copy: the dataset holds
4 bytes per character however long the window.
"""

from __future__ import annotations

import logging
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ...engine.memory import MemoryBudget, check_fits
from ..errors import DatasetError
from .base import CLASSIFICATION, Dataset, stat_path
from .toy import ParamSpec

log = logging.getLogger(__name__)

__all__ = [
    "MAX_TEXT_BYTES",
    "MAX_VOCABULARY",
    "PYDOC",
    "TEXT",
    "TEXT_OPTIONS",
    "TEXT_PARAMS",
    "decode_ids",
    "encode_text",
    "pydoc_text",
    "text_dataset",
    "token_name",
]

TEXT = "text"
"""The spec head of a character dataset."""
TEXT_OPTIONS = ("path", "window", "step")
"""The options ``text`` takes."""
PYDOC = "Python documentation (pydoc_data.topics)"
"""How messages and the dataset's name call the default text."""
MAX_TEXT_BYTES = 256 << 20
"""Largest text file read (256 MB): its windows would train for days anyway."""
MAX_VOCABULARY = 5000
"""Most distinct characters a text may have (each is one output class)."""
DEFAULT_WINDOW = 40
_MAX_WINDOW = 10_000
TEXT_PARAMS = (
    ParamSpec(
        "window", "int", DEFAULT_WINDOW, 1, _MAX_WINDOW, "Characters read per sample."
    ),
    ParamSpec("step", "int", 1, 1, _MAX_WINDOW, "Characters between window starts."),
)
"""The numeric options of ``text`` (a form shows them as a generator's)."""
_NAMES = {" ": "␣", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def pydoc_text() -> str:
    """The standard library's documentation topics, joined in sorted key order."""
    from pydoc_data import topics

    return "\n\n".join(topics.topics[key] for key in sorted(topics.topics))


def token_name(token: str) -> str:
    """A character as a class name can show it: ``␣`` for a space, ``\\n``…"""
    if token in _NAMES:
        return _NAMES[token]
    if not token.isprintable():
        return f"U+{ord(token):04X}"
    return token


def text_dataset(
    path: str | Path | None = None,
    *,
    window: int = DEFAULT_WINDOW,
    step: int = 1,
    budget: MemoryBudget | None = None,
) -> Dataset:
    """The character dataset of a UTF-8 text file (or of Python's documentation).

    Parameters
    ----------
    path : str or Path, optional
        A UTF-8 text file (a byte-order mark is ignored); None for
        ``pydoc_text()``.
    window : int
        Characters the network reads before it predicts the next one.
    step : int
        Characters between the starts of consecutive windows.
    budget : MemoryBudget, optional
        What training on the windows may take (default: ``memory_budget()`` now).

    Returns
    -------
    Dataset
        ``x`` float32 ``(n, window)`` token ids, a read-only view of one array of
        the text's ids; ``y`` int64 ``(n,)`` the next character's id; class names
        ``token_name`` of each character; ``vocabulary`` the characters
        themselves, sorted. ``n = (chars - window - 1) // step + 1``.

    Raises
    ------
    DatasetError
        For a missing, unreadable, huge, empty, binary or non-UTF-8 file (naming
        the line and byte), too short a text for one window, or too many distinct
        characters.
    ResourceError
        When the windows, once a training copy is made, would not fit in memory.
    """
    if isinstance(window, bool) or not 1 <= int(window) <= _MAX_WINDOW:
        raise DatasetError(
            f"The text window must be 1..{_MAX_WINDOW:,} characters, got {window!r}."
        )
    if isinstance(step, bool) or not 1 <= int(step) <= _MAX_WINDOW:
        raise DatasetError(f"The text step must be 1..{_MAX_WINDOW:,}, got {step!r}.")
    window, step = int(window), int(step)
    if path is None:
        text, label = pydoc_text(), PYDOC
    else:
        text, label = _read_text(Path(path)), Path(path).name
    if len(text) < window + 1:
        raise DatasetError(
            f"{label} has {len(text):,} characters, too few for one window of "
            f"{window} and the character after it."
        )
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    chars, ids = np.unique(codes, return_inverse=True)
    if len(chars) > MAX_VOCABULARY:
        raise DatasetError(
            f"{label} has {len(chars):,} distinct characters; a character dataset "
            f"takes at most {MAX_VOCABULARY:,} (each is one output class)."
        )
    vocabulary = [chr(int(c)) for c in chars]
    n = (len(text) - window - 1) // step + 1
    check_fits(n * window * 4, f"The {window}-character windows of {label}", budget)
    ids32 = ids.astype(np.float32)
    x = sliding_window_view(ids32[:-1], window)[::step][:n]
    y = ids[window::step][:n].astype(np.int64)
    log.debug(
        "text %s: %d chars, %d tokens, %d windows", label, len(text), len(chars), n
    )
    return Dataset(
        x=x,
        y=y,
        task=CLASSIFICATION,
        class_names=[token_name(t) for t in vocabulary],
        name=label,
        vocabulary=vocabulary,
    )


def encode_text(text: str, vocabulary: Sequence[str]) -> np.ndarray:
    """Token ids of ``text`` (float32 ``(len(text),)``) by a dataset's vocabulary.

    Raises
    ------
    DatasetError
        Naming the first character the vocabulary lacks and its position.
    """
    lookup = {t: i for i, t in enumerate(vocabulary)}
    ids = np.empty(len(text), dtype=np.float32)
    for i, c in enumerate(text):
        if c not in lookup:
            raise DatasetError(
                f"Character {token_name(c)!r} at position {i} of the text is not in "
                f"the network's vocabulary of {len(lookup)} characters."
            )
        ids[i] = lookup[c]
    return ids


def decode_ids(ids: np.ndarray | Sequence[int], vocabulary: Sequence[str]) -> str:
    """The text of token ids (any shape, read in C order).

    Raises
    ------
    DatasetError
        For an id outside the vocabulary.
    """
    flat = np.asarray(ids).reshape(-1)
    if flat.size and (flat.min() < 0 or flat.max() >= len(vocabulary)):
        raise DatasetError(
            f"Token id {int(flat.max() if flat.max() >= len(vocabulary) else flat.min())}"
            f" is outside the vocabulary of {len(vocabulary)} tokens."
        )
    return "".join(vocabulary[int(i)] for i in flat)


def text_from_options(
    options: Mapping[str, str], base_dir: str | Path | None, spec: str
) -> Dataset:
    """The dataset of a ``text`` spec's options (see ``spec.load_dataset``)."""
    for key in options:
        if key not in TEXT_OPTIONS:
            raise DatasetError(
                f"Option '{key}' does not apply to text data ('{spec}'); valid "
                f"options are {', '.join(TEXT_OPTIONS)}."
            )
    numbers = {}
    for key, default in (("window", DEFAULT_WINDOW), ("step", 1)):
        value = options.get(key, str(default))
        if not value.isdigit():
            raise DatasetError(
                f"Option {key}={value} in '{spec}' must be a whole number."
            )
        numbers[key] = int(value)
    path = None
    if options.get("path"):
        path = Path(options["path"]).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
    return text_dataset(path, window=numbers["window"], step=numbers["step"])


def _read_text(path: Path) -> str:
    info = stat_path(path, f"Text file {path}")
    if info is None:
        raise DatasetError(f"Text file {path} does not exist.")
    if stat.S_ISDIR(info.st_mode):
        raise DatasetError(f"Text path {path} is a folder, not a text file.")
    if info.st_size > MAX_TEXT_BYTES:
        raise DatasetError(
            f"Text file {path.name} is {info.st_size:,} bytes; nndesk reads at most "
            f"{MAX_TEXT_BYTES:,} as a character dataset."
        )
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_TEXT_BYTES + 1)
    except OSError as exc:
        raise DatasetError(
            f"Text file {path} cannot be read: {exc.strerror}."
        ) from None
    if len(raw) > MAX_TEXT_BYTES:  # grew since stat, or a device that lies
        raise DatasetError(
            f"Text file {path.name} is over {MAX_TEXT_BYTES:,} bytes; nndesk reads "
            "at most that as a character dataset."
        )
    start = 3 if raw.startswith(b"\xef\xbb\xbf") else 0  # a byte-order mark
    if not raw[start:].strip():
        raise DatasetError(f"Text file {path.name} is empty.")
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise DatasetError(
            f"Text file {path.name} holds a NUL byte at line {_line(raw, nul)} "
            f"(byte {nul}): it is binary, not text."
        )
    try:
        return raw[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        at = exc.start + start
        raise DatasetError(
            f"Text file {path.name} is not UTF-8: line {_line(raw, at)}, byte {at} "
            f"({raw[at]:#04x}) cannot be decoded."
        ) from None


def _line(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1
