"""Shared fixtures for the document tests: small networks and an event recorder."""

from __future__ import annotations

from typing import Any

import pytest

from nndesk.document import Document
from nndesk.document.events import DocumentEvents


class EventLog:
    """Records every event a document sends, per signal."""

    def __init__(self, events: DocumentEvents) -> None:
        self.calls: list[tuple[str, Any]] = []
        for signal in events.signals():
            # default argument binds the current name (closures would share one)
            signal.connect(lambda ev, name=signal.name: self.calls.append((name, ev)))

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def specific(self) -> list[tuple[str, Any]]:
        """Events on the per-kind signals (not ``changed``)."""
        return [(n, e) for n, e in self.calls if n != "changed"]

    def clear(self) -> None:
        self.calls.clear()


def make_chain() -> Document:
    """Input(2) -> Dense 8 tanh -> Dense 1 sigmoid -> Output(binary CE)."""
    doc = Document()
    x = doc.add_node("Input", {"shape": (2,)})
    h = doc.add_node("Dense", {"units": 8, "activation": "tanh"}, pos=(200, 0))
    y = doc.add_node("Dense", {"units": 1, "activation": "sigmoid"}, pos=(400, 0))
    out = doc.add_node("Output", {"loss": "binary_crossentropy"}, pos=(600, 0))
    doc.connect(x, "out", h, "in")
    doc.connect(h, "out", y, "in")
    doc.connect(y, "out", out, "in")
    return doc


def make_merge() -> Document:
    """Input(4) -> Dense a, Dense b -> Concatenate -> Dense 3 softmax -> Output."""
    doc = Document()
    x = doc.add_node("Input", {"shape": (4,)})
    a = doc.add_node("Dense", {"units": 5}, pos=(200, -100))
    b = doc.add_node("Dense", {"units": 7}, pos=(200, 100))
    cat = doc.add_node("Concatenate", pos=(400, 0))
    y = doc.add_node("Dense", {"units": 3, "activation": "softmax"}, pos=(600, 0))
    out = doc.add_node("Output", pos=(800, 0))
    doc.connect(x, "out", a, "in")
    doc.connect(x, "out", b, "in")
    doc.connect(a, "out", cat, "in")
    doc.connect(b, "out", cat, "in")
    doc.connect(cat, "out", y, "in")
    doc.connect(y, "out", out, "in")
    return doc


@pytest.fixture
def chain() -> Document:
    return make_chain()


@pytest.fixture
def merge() -> Document:
    return make_merge()


@pytest.fixture
def log_for():
    """``log_for(doc)`` starts recording the events of ``doc``."""
    return EventLog
