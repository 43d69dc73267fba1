"""ParamSpec: validation, canonical values, text parsing and messages."""

from __future__ import annotations

import numpy as np
import pytest

from nndesk.document import ParamError, ParamSpec
from nndesk.document.params import check_params

UNITS = ParamSpec("units", "int", 16, min=1)
RATE = ParamSpec("rate", "float", 0.2, min=0.0, max=1.0, max_inclusive=False)
SHAPE = ParamSpec("shape", "shape", (2,))
TARGET = ParamSpec("target_shape", "shape", (-1,), wildcard=True)
ACT = ParamSpec("activation", "choice", "relu", choices=("relu", "tanh"))
METRICS = ParamSpec("metrics", "multichoice", (), choices=("accuracy", "mae"))
ALPHA = ParamSpec("alpha", "float", None, min=0.0, optional=True)
FLAG = ParamSpec("use_bias", "bool", True)


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        (UNITS, 3, 3),
        (UNITS, np.int64(5), 5),
        (UNITS, 256.0, 256),
        (RATE, 0, 0.0),
        (RATE, np.float32(0.5), 0.5),
        (SHAPE, [28, 28], (28, 28)),
        (SHAPE, (np.int32(3),), (3,)),
        (TARGET, [-1, 4], (-1, 4)),
        (ACT, "tanh", "tanh"),
        (METRICS, ["mae", "accuracy"], ("mae", "accuracy")),
        (ALPHA, None, None),
        (ALPHA, 2, 2.0),
        (FLAG, np.bool_(False), False),
    ],
)
def test_valid_values_become_canonical(spec: ParamSpec, value, expected) -> None:
    result = spec.validate(value)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("spec", "value"),
    [
        (UNITS, 0),
        (UNITS, 2.5),
        (UNITS, True),
        (UNITS, "3"),
        (UNITS, None),
        (RATE, 1.0),
        (RATE, -0.1),
        (RATE, float("nan")),
        (RATE, float("inf")),
        (SHAPE, []),
        (SHAPE, [0, 3]),
        (SHAPE, [-1]),
        (SHAPE, [2.5]),
        (SHAPE, "28,28"),
        (TARGET, [-1, -1]),
        (ACT, "sigmoid"),
        (ACT, 1),
        (METRICS, ["mae", "mae"]),
        (METRICS, "mae"),
        (METRICS, ["r2"]),
        (FLAG, 1),
    ],
)
def test_invalid_values_are_refused_with_one_sentence(spec: ParamSpec, value) -> None:
    with pytest.raises(ParamError) as info:
        spec.validate(value, "Dense 'dense_2'")
    message = str(info.value)
    assert message.startswith(f"Dense 'dense_2': {spec.name} must be ")
    assert message.endswith(".")
    assert message.count(". ") == 0
    assert not spec.is_valid(value)


def test_message_names_the_range() -> None:
    with pytest.raises(ParamError, match=r"units must be an integer ≥ 1, got 0\."):
        UNITS.validate(0, "")
    with pytest.raises(
        ParamError, match=r"rate must be a number ≥ 0 and < 1, got 1\.0"
    ):
        RATE.validate(1.0)


@pytest.mark.parametrize(
    ("spec", "text", "expected"),
    [
        (UNITS, " 12 ", 12),
        (RATE, "0.25", 0.25),
        (SHAPE, "28, 28", (28, 28)),
        (SHAPE, "(28, 28)", (28, 28)),
        (SHAPE, "28x28", (28, 28)),
        (SHAPE, "[3]", (3,)),
        (TARGET, "-1, 7", (-1, 7)),
        (FLAG, "no", False),
        (FLAG, "True", True),
        (METRICS, "accuracy, mae", ("accuracy", "mae")),
        (ALPHA, "", None),
        (ACT, "tanh", "tanh"),
    ],
)
def test_parse_text(spec: ParamSpec, text: str, expected) -> None:
    assert spec.parse(text) == expected


@pytest.mark.parametrize(
    ("spec", "text"),
    [(UNITS, "12.5"), (UNITS, "many"), (RATE, "x"), (SHAPE, "a, b"), (FLAG, "maybe")],
)
def test_parse_refuses_bad_text(spec: ParamSpec, text: str) -> None:
    with pytest.raises(ParamError, match=spec.name):
        spec.parse(text, "Node 'n'")


@pytest.mark.parametrize(
    ("spec", "value", "text"),
    [
        (SHAPE, (28, 28), "(28, 28)"),
        (SHAPE, (2,), "(2,)"),
        (RATE, 0.001, "0.001"),
        (FLAG, True, "true"),
        (METRICS, ("accuracy", "mae"), "accuracy, mae"),
        (ALPHA, None, ""),
    ],
)
def test_format_and_parse_agree(spec: ParamSpec, value, text: str) -> None:
    assert spec.format(value) == text
    assert spec.parse(text) == value


def test_to_json_turns_tuples_into_lists() -> None:
    assert SHAPE.to_json((28, 28)) == [28, 28]
    assert RATE.to_json(0.5) == 0.5


def test_label_defaults_to_the_name_with_spaces() -> None:
    assert ParamSpec("use_bias", "bool", True).label == "use bias"
    assert ParamSpec("l1", "float", 0.0, label="L1").label == "L1"


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        ParamSpec("x", "complex", 0)  # type: ignore[arg-type]


def test_check_params_fills_defaults_and_refuses_unknown_names() -> None:
    specs = (UNITS, ACT)
    assert check_params(specs, {"units": 4}, "Dense 'd'") == {
        "units": 4,
        "activation": "relu",
    }
    with pytest.raises(ParamError, match=r"Dense 'd' has no parameter 'unit' \(it has"):
        check_params(specs, {"unit": 4}, "Dense 'd'")
