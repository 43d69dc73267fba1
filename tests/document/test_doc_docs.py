"""The code in docs/document.md and the docstring examples run as written."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import nndesk.document.graph
from nndesk.document import Document, infer_shapes

DOC = Path(__file__).resolve().parents[2] / "docs" / "document.md"


def test_python_blocks_of_the_guide_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert blocks
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    doc = namespace["doc"]
    assert isinstance(doc, Document)
    assert infer_shapes(doc).ok


def test_docstring_examples() -> None:
    result = doctest.testmod(nndesk.document.graph)
    assert result.attempted > 0
    assert result.failed == 0
