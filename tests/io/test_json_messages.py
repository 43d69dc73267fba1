"""JSON syntax errors read as one sentence: "at" once before the place (issue 11
reported "Unterminated string starting at at line 75")."""

from __future__ import annotations

import pytest

from nndesk.io._archive import parse_json
from nndesk.io.errors import FileFormatError


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b'{"a": "open', "Unterminated string starting at line 1, column 7"),
        (b'{"a": adam}', "Expecting value at line 1, column 7"),
        (b'{"a": "x\ny"}', "Invalid control character at line 1, column 9"),
    ],
)
def test_json_syntax_errors_say_at_once(text: bytes, message: str) -> None:
    with pytest.raises(FileFormatError) as caught:
        parse_json(text, "graph.json", max_depth=32)
    assert message in str(caught.value)
    assert "at at" not in str(caught.value)
