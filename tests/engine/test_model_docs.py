"""docs/engine.md: its Python blocks run in order, and its summary table is current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nndesk.engine import Dense, Input, Sequential

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "engine.md"


def _blocks(language: str) -> list[str]:
    return re.findall(
        rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S
    )


def test_python_blocks_run(monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {"__name__": "engine_doc"}
    blocks = _blocks("python")
    assert len(blocks) >= 5
    for k, code in enumerate(blocks):
        exec(compile(code, f"docs/engine.md block {k + 1}", "exec"), namespace)
    out = capsys.readouterr().out
    assert (
        "Dense 'dense_2' expects 1-D features or (time, features) sequences but "
        "receives (28, 28, 1): insert Flatten."
        in out
    )
    assert "['label_accuracy', 'label_loss', 'loss', 'score_loss']" in out


def test_summary_block_matches_the_code():
    (table,) = _blocks("text")
    same = Sequential(
        [
            Input((2,)),
            Dense(16, activation="tanh"),
            Dense(16, activation="tanh"),
            Dense(1, activation="sigmoid"),
        ],
        seed=0,
    )
    assert same.summary() == table.strip()
