"""Groups and notes in the document: edits, events, ids, plain data and refusals."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from nndesk.document import Document
from nndesk.document.errors import DocumentError, SchemaError
from nndesk.document.groups import Group, Note
from nndesk.io.project_file import Project, load_project, save_project


def _chain() -> tuple[Document, list[str]]:
    doc = Document()
    ids = [doc.add_node("Input", {"shape": (4,)})]
    for x in (220.0, 440.0):
        ids.append(doc.add_node("Dense", {"units": 3}, pos=(x, 0.0)))
        doc.connect(ids[-2], "out", ids[-1], "in")
    return doc, ids


def test_set_group_returns_the_old_record_and_emits_once() -> None:
    doc, ids = _chain()
    seen: list[object] = []
    doc.events.group_changed.connect(seen.append)
    g = Group("group_1", " Block ", (ids[1], ids[2]))
    assert doc.set_group("group_1", g) is None
    assert doc.group("group_1") == Group("group_1", "Block", (ids[1], ids[2]))
    old = doc.set_group("group_1", Group("group_1", "Block", (ids[1], ids[2]), True))
    assert old is not None and not old.collapsed
    assert doc.set_group("group_1", doc.group("group_1")) == doc.group("group_1")
    assert len(seen) == 2  # the unchanged set emitted nothing
    doc.set_group("group_1", None)
    assert doc.groups == () and len(seen) == 3


@pytest.mark.parametrize(
    ("group", "message"),
    [
        (Group("group_1", "", ("dense_1",)), "needs a title"),
        (Group("group_1", "T", ()), "has no nodes"),
        (Group("group_1", "T", ("dense_9",)), "'dense_9', which is no node"),
        (Group("group_1", "T", ("dense_1", "dense_1")), "twice"),
        (Group("g1", "T", ("dense_1",)), "not of the form group_<n>"),
        (Group("group_1", "x" * 201, ("dense_1",)), "the most is 200"),
    ],
)
def test_bad_groups_are_refused_in_one_sentence(group: Group, message: str) -> None:
    doc, _ = _chain()
    with pytest.raises(DocumentError, match=message):
        doc.set_group(group.id, group)
    assert doc.groups == ()


def test_a_node_belongs_to_one_group_only() -> None:
    doc, ids = _chain()
    doc.set_group("group_1", Group("group_1", "A", (ids[0], ids[1])))
    with pytest.raises(DocumentError, match="already in group 'A'"):
        doc.set_group("group_2", Group("group_2", "B", (ids[1], ids[2])))


def test_a_removed_node_comes_back_into_its_group_and_its_id_is_not_reused() -> None:
    doc, ids = _chain()
    doc.set_group("group_1", Group("group_1", "A", (ids[1], ids[2])))
    removed = doc.remove_node(ids[2])
    assert doc.group("group_1").node_ids == (ids[1],)
    assert doc.new_node_id("Dense") == "dense_3"  # dense_2 is still listed
    doc.restore_node(removed)
    assert doc.group("group_1").node_ids == (ids[1], ids[2])
    assert doc.group_of(ids[2]) == doc.group("group_1")


def test_notes_are_added_edited_and_removed() -> None:
    doc, _ = _chain()
    assert doc.new_note_id() == "note_1"
    doc.set_note("note_1", Note("note_1", "why 3 units?", (10, 20)))
    assert doc.note("note_1").pos == (10.0, 20.0)
    old = doc.set_note("note_1", Note("note_1", "edited", (10, 20)))
    assert old is not None and old.text == "why 3 units?"
    assert doc.new_note_id() == "note_2"
    with pytest.raises(DocumentError, match="finite"):
        doc.set_note("note_1", Note("note_1", "x", (float("nan"), 0)))
    doc.set_note("note_1", None)
    with pytest.raises(DocumentError, match="There is no note 'note_1'"):
        doc.set_note("note_1", None)


def test_groups_and_notes_round_trip_through_plain_data_copies_and_snapshots() -> None:
    doc, ids = _chain()
    doc.set_group("group_1", Group("group_1", "Block", (ids[1], ids[2]), True))
    doc.set_note("note_1", Note("note_1", "ünïcode\nsecond line", (-5.5, 3)))
    data = json.loads(json.dumps(doc.to_dict()))
    again = Document.from_dict(data)
    assert again.groups == doc.groups and again.notes == doc.notes
    assert again == doc
    for other in (doc.copy(), copy.deepcopy(doc), doc.snapshot()):
        assert other.groups == doc.groups and other.notes == doc.notes
    assert doc.snapshot().to_document().groups == doc.groups


def test_a_graph_without_groups_is_written_as_before() -> None:
    doc, _ = _chain()
    data = doc.to_dict()
    assert "groups" not in data and "notes" not in data
    assert Document.from_dict(data).groups == ()


def test_groups_notes_and_collapsed_state_survive_a_network_file(
    tmp_path: Path,
) -> None:
    doc, ids = _chain()
    doc.set_group("group_1", Group("group_1", "Block", (ids[1], ids[2]), True))
    doc.set_note("note_1", Note("note_1", "a note", (0, 100)))
    path = tmp_path / "net.nndesk"
    save_project(path, Project(document=doc))
    loaded = load_project(path).document
    assert loaded.groups == doc.groups and loaded.groups[0].collapsed
    assert loaded.notes == doc.notes


def test_older_sample_files_load_without_groups() -> None:
    folder = Path(__file__).parents[1] / "io" / "data"
    files = sorted(folder.glob("*.nndesk"))
    assert files
    for path in files:
        try:
            doc = load_project(path).document
        except Exception:  # hostile samples live there too; they fail elsewhere
            continue
        assert doc.groups == () and doc.notes == ()


def test_copying_a_whole_group_pastes_a_group_and_a_part_pastes_none() -> None:
    doc, ids = _chain()
    doc.set_group("group_1", Group("group_1", "Block", (ids[1], ids[2]), True))
    new = doc.paste_dict(doc.subgraph_dict([ids[1], ids[2]]), (0, 300))
    pasted = doc.group_of(new[0])
    assert pasted is not None and pasted.id == "group_2"
    assert pasted.node_ids == tuple(new) and pasted.collapsed
    assert pasted.title == "Block"
    more = doc.paste_dict(doc.subgraph_dict([ids[1]]), (0, 600))
    assert doc.group_of(more[0]) is None


def _with(extra: dict[str, object]) -> dict[str, object]:
    doc, _ = _chain()
    data = doc.to_dict()
    data.update(extra)
    return data


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"groups": {"a": 1}}, "'groups' must be a list, got dict"),
        ({"groups": [1]}, "group 0 must be an object"),
        ({"groups": [{"id": "group_1", "title": "T"}]}, "missing the key 'nodes'"),
        (
            {"groups": [{"id": "group_1", "title": "T", "nodes": ["dense_1"], "x": 1}]},
            "unknown key 'x'",
        ),
        (
            {"groups": [{"id": "group_1", "title": "T", "nodes": "dense_1"}]},
            "'nodes' as a list of ids",
        ),
        (
            {"groups": [{"id": "group_1", "title": "T", "nodes": ["nope"]}]},
            "'nope', which is no node",
        ),
        (
            {
                "groups": [
                    {"id": "group_1", "title": "T", "nodes": ["dense_1"]},
                    {"id": "group_2", "title": "U", "nodes": ["dense_1"]},
                ]
            },
            "in both 'group_1' and 'group_2'",
        ),
        (
            {
                "groups": [
                    {"id": "group_1", "title": "T", "nodes": ["dense_1"]},
                    {"id": "group_1", "title": "U", "nodes": ["dense_2"]},
                ]
            },
            "group id 'group_1' appears twice",
        ),
        (
            {"groups": [{"id": "group_1", "title": 5, "nodes": ["dense_1"]}]},
            "needs a title",
        ),
        (
            {
                "groups": [
                    {
                        "id": "group_1",
                        "title": "T",
                        "nodes": ["dense_1"],
                        "collapsed": "yes",
                    }
                ]
            },
            "'collapsed' 'yes'",
        ),
        ({"groups": [{}] * 1001}, "the most is 1000"),
        ({"notes": [{"id": "note_1", "text": "t"}]}, "missing the key 'pos'"),
        ({"notes": [{"id": "note_1", "text": 3, "pos": [0, 0]}]}, "must hold text"),
        ({"notes": [{"id": "note_1", "text": "t", "pos": [0, True]}]}, "finite"),
        (
            {"notes": [{"id": "note_1", "text": "x" * 10_001, "pos": [0, 0]}]},
            "the most is 10000",
        ),
    ],
)
def test_hostile_group_and_note_data_is_refused_in_one_sentence(
    extra: dict[str, object], message: str
) -> None:
    with pytest.raises(SchemaError, match=message) as info:
        Document.from_dict(_with(extra))
    text = str(info.value)
    assert text.startswith("graph.json: ") and text.count("\n") == 0
    assert len(text) < 300
