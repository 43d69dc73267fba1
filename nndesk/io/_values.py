"""Checks of plain values read from a file's JSON, shared by its member parsers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["check_keys", "short"]


def check_keys(
    value: Mapping[Any, Any],
    allowed: Sequence[str],
    required: Iterable[str],
    where: str,
    error: type[Exception],
) -> None:
    """Refuse a key outside ``allowed`` first, then a missing ``required`` one.

    Raises
    ------
    error
        ``"<where> has the unknown key <key>."`` or ``"<where> is missing <key>."``.
    """
    for key in value:
        if key not in allowed:
            raise error(f"{where} has the unknown key {short(key)}.")
    for key in required:
        if key not in value:
            raise error(f"{where} is missing {key!r}.")


def short(value: Any) -> str:
    """A value for a message, cut so a hostile file cannot flood the dialog."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
