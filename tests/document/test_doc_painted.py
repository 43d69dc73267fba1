"""PaintedPoints (the painted 2-D data value) and Document.set_painted."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nndesk.document import Document
from nndesk.document.painted import MAX_CLASSES, PaintedDataError, PaintedPoints


def test_a_value_is_read_only_and_equal_by_content() -> None:
    p = PaintedPoints([[0.0, 1.0], [2.0, 3.0]], [0, 1])
    assert not p.xy.flags.writeable and not p.values.flags.writeable
    assert p == PaintedPoints(np.array([[0, 1], [2, 3]]), np.array([0, 1]))
    assert hash(p) == hash(PaintedPoints([[0.0, 1.0], [2.0, 3.0]], [0, 1]))
    assert p != PaintedPoints([[0.0, 1.0], [2.0, 3.0]], [0, 1], 3)
    assert copy.deepcopy(p) is p
    with pytest.raises(ValueError):
        p.xy[0, 0] = 5.0


@pytest.mark.parametrize(
    ("xy", "values", "n_classes", "message"),
    [
        ([[0, 0, 0]], [0], 2, "must be an (n, 2) array"),
        ([[0, 0]], [0, 1], 2, "has 1 points but values of shape (2,)"),
        ([[np.inf, 0]], [0], 2, "must be finite"),
        ([[0, 0]], [2], 2, "Painted class 2 is outside 0..1"),
        ([[0, 0]], [-1], 2, "Painted class -1 is outside 0..1"),
        ([[0, 0]], [0.5], 2, "must be whole numbers"),
        ([[0, 0]], [np.nan], 0, "target values must be finite"),
        ([[0, 0]], ["a"], 0, "must be numbers"),
        ([[0, 0]], [0], 1, "2 to 20 classes"),
        ([[0, 0]], [0], MAX_CLASSES + 1, "2 to 20 classes"),
        ([[0, 0]], [0], True, "whole number"),
    ],
)
def test_bad_points_are_refused_with_one_sentence(xy, values, n_classes, message):
    with pytest.raises(
        PaintedDataError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        PaintedPoints(xy, values, n_classes)


def test_edits_make_new_sets() -> None:
    p = PaintedPoints.empty(3).added([[0, 0], [1, 1]], 2).added([[5, 5]], 0)
    assert p.values.tolist() == [2, 2, 0] and p.class_counts().tolist() == [1, 0, 2]
    assert p.removed([0, 0, 2]).xy.tolist() == [[1.0, 1.0]]
    assert p.near((0.9, 1.1), (0.5, 0.5)).tolist() == [1]
    assert p.near((0.0, 0.0), (2.0, 2.0)).tolist() == [0, 1]
    with pytest.raises(PaintedDataError, match="Painted class 3.5 is not a class index"):
        p.added([[0, 0]], 3.5)
    with pytest.raises(PaintedDataError, match="Painted class 2 has points"):
        p.with_classes(2)
    assert p.with_classes(5).n_classes == 5
    values = p.with_classes(0)
    assert values.task == "regression" and values.values.tolist() == [2.0, 2.0, 0.0]
    assert values.with_classes(2).values.tolist() == [1, 1, 0]  # clipped to classes
    with pytest.raises(PaintedDataError, match="no painted point 7"):
        p.removed([7])
    assert p.cleared() == PaintedPoints.empty(3)


def test_set_painted_emits_once_and_returns_the_old_set() -> None:
    doc = Document()
    seen = []
    doc.events.painted_changed.connect(seen.append)
    doc.events.changed.connect(seen.append)
    new = PaintedPoints([[1, 2]], [1])
    old = doc.set_painted(new)
    assert old == PaintedPoints.empty() and doc.painted is new
    assert [e.kind for e in seen] == ["painted_changed", "painted_changed"]
    assert doc.set_painted(PaintedPoints([[1, 2]], [1])) is new  # equal: no event
    assert len(seen) == 2
    with pytest.raises(PaintedDataError, match="must be PaintedPoints"):
        doc.set_painted([[1, 2]])  # type: ignore[arg-type]


def test_snapshots_and_copies_carry_the_painted_set() -> None:
    doc = Document()
    doc.set_painted(PaintedPoints([[1, 2]], [1]))
    snap = doc.snapshot()
    doc.set_painted(PaintedPoints.empty())
    assert snap.painted == PaintedPoints([[1, 2]], [1])
    assert snap.to_document().painted == snap.painted
    assert doc.copy().painted == PaintedPoints.empty()
    assert not snap.same_content(doc)


edits = st.lists(
    st.one_of(
        st.tuples(
            st.just("add"),
            st.lists(
                st.tuples(st.floats(-5, 5), st.floats(-5, 5)), min_size=1, max_size=6
            ),
            st.integers(0, 2),
        ),
        st.tuples(st.just("remove"), st.lists(st.integers(0, 30), max_size=4)),
        st.tuples(st.just("classes"), st.sampled_from([0, 3, 4])),
        st.just(("clear",)),
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(edits)
def test_undoing_every_edit_in_reverse_restores_every_state(script) -> None:
    """set_painted returns what its inverse needs: replaying the returned sets in
    reverse order walks back through every state (what PaintCommand.undo does)."""
    doc = Document()
    states, olds = [doc.painted], []
    for edit in script:
        p = doc.painted
        try:
            if edit[0] == "add":
                value = edit[2] if p.n_classes == 0 else min(edit[2], p.n_classes - 1)
                new = p.added(edit[1], value)
            elif edit[0] == "remove":
                new = p.removed([i for i in edit[1] if i < len(p)])
            elif edit[0] == "classes":
                new = p.with_classes(edit[1])
            else:
                new = p.cleared()
        except PaintedDataError:
            continue  # refused edits change nothing
        olds.append(doc.set_painted(new))
        states.append(doc.painted)
    for old, state in zip(reversed(olds), reversed(states[:-1]), strict=True):
        doc.set_painted(old)
        assert doc.painted == state
    assert doc.painted == PaintedPoints.empty()
