"""The view state of a network file (``view.json``, format 7): how its panels were set.

Only what a user chose in a panel and would miss on reopening, and nothing the
network computes. Today that is the Decision Boundary panel's plane for inputs of
more than two values::

    {
        "boundary_plane": {
            "mode": "features",          # "features", "pca" or "points"
            "features": [3, 7],          # the map's two axes (0-based feature indices)
            "held": "sample",            # the others held at "mean" or at "sample"
            "held_sample": 17,           # that training sample
            "held_values": [0.1, ...],   # optional: every feature's held value as the
                                         # sliders left it (null: the mean's or sample's)
            "points": [0, 5, 9]          # the three samples of a "points" plane
        }
    }

All keys are optional. View state is never worth a network: a ``view.json`` that
breaks a rule here is not refused with the file; ``parse_view_state`` returns
nothing and one sentence saying what was wrong, and the panel shows its default
plane (the sentence is shown to the user). Whether a choice fits the data (a
feature index beyond the data's features, a sample beyond its rows) is judged by
the panel when the data are there, the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ._values import check_keys, short

__all__ = [
    "MAX_HELD_VALUES",
    "PLANE_KEYS",
    "PLANE_MODES",
    "ViewStateError",
    "check_view_state",
    "parse_view_state",
]

PLANE_MODES: tuple[str, ...] = ("features", "pca", "points")
PLANE_KEYS: tuple[str, ...] = (
    "mode",
    "features",
    "held",
    "held_sample",
    "held_values",
    "points",
)
MAX_HELD_VALUES = 100_000
"""Most held values kept (a table of more features keeps none: the mean is used)."""
_MAX_INDEX = (1 << 31) - 1
_MAX_VALUE = 1e12


class ViewStateError(ValueError):
    """A view state that breaks a rule of the format (one sentence)."""


def check_view_state(value: Any, where: str, error: type[Exception]) -> dict[str, Any]:
    """``value`` checked as a ``view.json`` object, as plain JSON data (a copy).

    Raises
    ------
    error
        One sentence naming ``where`` and the value at fault.
    """
    if not isinstance(value, Mapping):
        raise error(f"{where} must be an object, not {type(value).__name__}.")
    check_keys(value, ("boundary_plane",), (), where, error)
    out: dict[str, Any] = {}
    if value.get("boundary_plane") is not None:
        out["boundary_plane"] = _check_plane(
            value["boundary_plane"], f"{where} boundary_plane", error
        )
    return out


def parse_view_state(value: Any, where: str) -> tuple[dict[str, Any] | None, str]:
    """A ``view.json`` read from a file: ``(state, "")``, or ``(None, sentence)``
    when it breaks a rule (the panels then keep their defaults)."""
    try:
        return check_view_state(value, where, ViewStateError), ""
    except ViewStateError as exc:
        return None, f"{exc} The panels show their default views."


def _check_plane(value: Any, where: str, error: type[Exception]) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise error(f"{where} must be an object, not {type(value).__name__}.")
    check_keys(value, PLANE_KEYS, (), where, error)
    out: dict[str, Any] = {}
    mode = value.get("mode", "features")
    if mode not in PLANE_MODES:
        raise error(
            f"{where} mode must be one of {', '.join(PLANE_MODES)}, not {short(mode)}."
        )
    out["mode"] = mode
    if "features" in value:
        features = _indices(value["features"], 2, f"{where} features", error)
        if features[0] == features[1]:
            raise error(f"{where} features names feature {features[0]} twice.")
        out["features"] = features
    if "held" in value:
        held = value["held"]
        if held not in ("mean", "sample"):
            raise error(f"{where} held must be 'mean' or 'sample', not {short(held)}.")
        out["held"] = held
    if "held_sample" in value:
        out["held_sample"] = _index(value["held_sample"], f"{where} held_sample", error)
    if value.get("held_values") is not None:
        out["held_values"] = _values(
            value["held_values"], f"{where} held_values", error
        )
    if "points" in value:
        out["points"] = _indices(value["points"], 3, f"{where} points", error)
    return out


def _index(value: Any, where: str, error: type[Exception]) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise error(f"{where} must be a whole number, not {short(value)}.")
    if not 0 <= value <= _MAX_INDEX:
        raise error(f"{where} must be from 0 to {_MAX_INDEX:,}, not {short(value)}.")
    return int(value)


def _indices(value: Any, count: int, where: str, error: type[Exception]) -> list[int]:
    if not isinstance(value, list) or len(value) != count:
        raise error(
            f"{where} must be a list of {count} whole numbers, not {short(value)}."
        )
    return [_index(v, f"{where}[{i}]", error) for i, v in enumerate(value)]


def _values(value: Any, where: str, error: type[Exception]) -> list[float]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_HELD_VALUES:
        raise error(
            f"{where} must be a list of 1 to {MAX_HELD_VALUES:,} numbers, not "
            f"{short(value)}."
        )
    out = []
    for i, v in enumerate(value):
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise error(f"{where}[{i}] must be a number, not {short(v)}.")
        if not math.isfinite(v) or abs(v) > _MAX_VALUE:
            raise error(f"{where}[{i}] must be a finite number within ±1e12, not {v}.")
        out.append(float(v))
    return out
