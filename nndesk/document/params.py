"""Parameter schemas: what values a node parameter or a network setting accepts.

A ``ParamSpec`` says the kind of a value (int, float, bool, choice, multichoice,
shape, str), its default, range, choices and help text. The inspector builds its form
from it, the document validates every edit with it, and the file reader checks saved
values with it. Validated values are immutable and JSON-friendly (tuples for shapes
and multichoices), so node records can share them safely.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Literal, NoReturn

import numpy as np

from .errors import ParamError

ParamKind = Literal["int", "float", "bool", "choice", "multichoice", "shape", "str"]
PARAM_KINDS: tuple[str, ...] = (
    "int",
    "float",
    "bool",
    "choice",
    "multichoice",
    "shape",
    "str",
)


@dataclass(frozen=True)
class ParamSpec:
    """Schema of one parameter.

    Parameters
    ----------
    name : str
        Key in the node's params (and the engine layer's keyword argument).
    kind : str
        One of ``PARAM_KINDS``. ``shape`` is a tuple of positive ints (per-sample
        shape, no batch dimension); ``multichoice`` a tuple of distinct choices.
    default : Any
        The value a new node gets; always valid for this spec.
    label : str
        Text for forms; defaults to the name with spaces.
    help : str
        One or two sentences for tooltips and the inspector.
    min, max : float or None
        Inclusive bounds for int and float unless ``min_inclusive`` /
        ``max_inclusive`` say otherwise.
    choices : tuple of str
        Allowed values for choice and multichoice.
    optional : bool
        ``None`` is accepted and means "the engine's default".
    wildcard : bool
        For shapes: one dimension may be -1 (inferred, as in Reshape).
    """

    name: str
    kind: ParamKind
    default: Any
    label: str = ""
    help: str = ""
    min: float | None = None
    max: float | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True
    choices: tuple[str, ...] = ()
    optional: bool = False
    wildcard: bool = False

    def __post_init__(self) -> None:
        if self.kind not in PARAM_KINDS:
            raise ValueError(f"parameter '{self.name}' has unknown kind {self.kind!r}")
        if not self.label:
            object.__setattr__(self, "label", self.name.replace("_", " "))

    # --- validation ----------------------------------------------------------------
    def validate(self, value: Any, owner: str = "") -> Any:
        """Check ``value`` and return it in canonical form.

        Ints stay ints (an integral float such as ``256.0`` becomes ``256``), floats
        become Python floats, shapes and multichoices become tuples.

        Parameters
        ----------
        value : Any
            The candidate value, e.g. from an inspector widget or a JSON file.
        owner : str
            How messages name the owner, e.g. ``"Dense 'dense_2'"``.

        Raises
        ------
        ParamError
            One sentence naming the owner, the parameter, what it accepts and the
            value received.
        """
        if value is None:
            if self.optional:
                return None
            self._fail(value, owner)
        checker = getattr(self, f"_check_{self.kind}")
        result = checker(value)
        if result is _INVALID:
            self._fail(value, owner)
        return result

    def is_valid(self, value: Any) -> bool:
        """Whether ``validate`` would accept ``value``."""
        try:
            self.validate(value)
        except ParamError:
            return False
        return True

    def describe(self) -> str:
        """What this parameter accepts, as a phrase: ``"an integer ≥ 1"``."""
        if self.kind in ("int", "float"):
            noun = "an integer" if self.kind == "int" else "a number"
            text = noun + self._range_text()
        elif self.kind == "bool":
            text = "true or false"
        elif self.kind == "choice":
            text = "one of " + ", ".join(self.choices)
        elif self.kind == "multichoice":
            text = "a list of distinct names from " + ", ".join(self.choices)
        elif self.kind == "shape":
            text = "a shape of positive integers such as (28, 28)"
            if self.wildcard:
                text += " (one dimension may be -1)"
        else:
            text = "a text"
        return text + (" or empty" if self.optional else "")

    # --- text form (inspector line edits, command-line overrides) ----------------
    def parse(self, text: str, owner: str = "") -> Any:
        """Turn user text into a validated value.

        Shapes accept ``"28, 28"``, ``"(28, 28)"`` or ``"28x28"``; multichoices a
        comma-separated list; bools true/false/yes/no/1/0; an empty text is ``None``
        for optional parameters.

        Raises
        ------
        ParamError
            When the text does not give a valid value.
        """
        raw = text.strip()
        if raw == "" and self.optional:
            return None
        value: Any = raw
        try:
            if self.kind == "int":
                value = int(raw)
            elif self.kind == "float":
                value = float(raw)
            elif self.kind == "bool":
                value = _BOOL_WORDS.get(raw.lower(), raw)
            elif self.kind == "shape":
                value = _parse_int_list(raw)
            elif self.kind == "multichoice":
                value = tuple(p.strip() for p in raw.split(",") if p.strip())
        except ValueError:
            self._fail(text, owner)
        return self.validate(value, owner)

    def format(self, value: Any) -> str:
        """Short display text for a valid value: ``(28, 28)``, ``0.001``, ``relu``."""
        if value is None:
            return ""
        if self.kind == "shape":
            return (
                "("
                + ", ".join(str(d) for d in value)
                + ("," if len(value) == 1 else "")
                + ")"
            )
        if self.kind == "multichoice":
            return ", ".join(value)
        if self.kind == "bool":
            return "true" if value else "false"
        if self.kind == "float":
            return f"{value:g}"
        return str(value)

    def to_json(self, value: Any) -> Any:
        """JSON-compatible form of a valid value (tuples become lists)."""
        if isinstance(value, tuple):
            return list(value)
        return value

    # --- per-kind checks (return the canonical value or _INVALID) ------------------
    def _check_int(self, value: Any) -> Any:
        if isinstance(value, bool):
            return _INVALID
        if isinstance(value, numbers.Integral):
            v = int(value)
        elif (
            isinstance(value, numbers.Real)
            and math.isfinite(value)
            and value == int(value)
        ):
            v = int(value)
        else:
            return _INVALID
        return v if self._in_range(v) else _INVALID

    def _check_float(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return _INVALID
        v = float(value)
        return v if math.isfinite(v) and self._in_range(v) else _INVALID

    def _check_bool(self, value: Any) -> Any:
        # numpy.bool_ is not a bool subclass but is what values read from arrays are
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        return _INVALID

    def _check_choice(self, value: Any) -> Any:
        return value if isinstance(value, str) and value in self.choices else _INVALID

    def _check_multichoice(self, value: Any) -> Any:
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            return _INVALID
        items = tuple(value)
        if not all(isinstance(v, str) and v in self.choices for v in items):
            return _INVALID
        return items if len(set(items)) == len(items) else _INVALID

    def _check_shape(self, value: Any) -> Any:
        if not isinstance(value, (list, tuple)) or len(value) == 0:
            return _INVALID
        dims: list[int] = []
        for d in value:
            if isinstance(d, bool) or not isinstance(d, numbers.Integral):
                return _INVALID
            dims.append(int(d))
        n_wild = sum(d == -1 for d in dims)
        if any(d < 1 and d != -1 for d in dims) or n_wild > (1 if self.wildcard else 0):
            return _INVALID
        return tuple(dims)

    def _check_str(self, value: Any) -> Any:
        return value if isinstance(value, str) else _INVALID

    def _in_range(self, v: float) -> bool:
        lo, hi = self.min, self.max
        if lo is not None and (v < lo or (v == lo and not self.min_inclusive)):
            return False
        return not (hi is not None and (v > hi or (v == hi and not self.max_inclusive)))

    def _range_text(self) -> str:
        parts = []
        if self.min is not None:
            parts.append(f"{'≥' if self.min_inclusive else '>'} {_num(self.min)}")
        if self.max is not None:
            parts.append(f"{'≤' if self.max_inclusive else '<'} {_num(self.max)}")
        return (" " + " and ".join(parts)) if parts else ""

    def _fail(self, value: Any, owner: str) -> NoReturn:
        where = f"{owner}: " if owner else ""
        shown = _show(value)
        raise ParamError(f"{where}{self.name} must be {self.describe()}, got {shown}.")


class _Invalid:
    """Marker a per-kind check returns for a rejected value (None can be valid)."""


_INVALID = _Invalid()

_BOOL_WORDS = {
    "true": True,
    "yes": True,
    "on": True,
    "1": True,
    "false": False,
    "no": False,
    "off": False,
    "0": False,
}


def _parse_int_list(text: str) -> tuple[int, ...]:
    cleaned = text.strip().strip("()[]").replace("x", ",").replace("×", ",")
    parts = [p.strip() for p in cleaned.split(",")]
    return tuple(int(p) for p in parts if p)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_params(
    specs: tuple[ParamSpec, ...], values: dict[str, Any], owner: str
) -> dict[str, Any]:
    """Validate a full or partial params dict against ``specs``.

    Missing names get their defaults; unknown names are an error.

    Returns
    -------
    dict
        Every spec's name mapped to its canonical value, in spec order.

    Raises
    ------
    ParamError
        For an unknown name or an invalid value, naming ``owner`` and the key.
    """
    known = {s.name for s in specs}
    for key in values:
        if key not in known:
            names = ", ".join(sorted(known)) or "none"
            raise ParamError(f"{owner} has no parameter '{key}' (it has: {names}).")
    return {
        s.name: s.validate(values[s.name], owner) if s.name in values else s.default
        for s in specs
    }
