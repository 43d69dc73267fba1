"""Counts in sentences: "1 epoch", "2 epochs" (issue 11 found "1 epochs")."""

from __future__ import annotations

__all__ = ["counted"]


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun`` in the number it takes, ``n`` with thousands separators.

    Parameters
    ----------
    n : int
        The count.
    noun : str
        The singular ("epoch").
    plural : str, optional
        The plural when it is not ``noun + "s"`` ("classes" needs none:
        ``counted(2, "class", "classes")`` reads better with it all the same).

    Examples
    --------
    >>> counted(1, "epoch"), counted(2, "epoch"), counted(1200, "sample")
    ('1 epoch', '2 epochs', '1,200 samples')
    >>> counted(0, "class", "classes")
    '0 classes'
    """
    word = noun if n == 1 else (plural or noun + "s")
    return f"{n:,} {word}"
