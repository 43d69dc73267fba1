"""The panels' view state in the network file (format 7, view.json): the Decision
Boundary's plane round-trips; a file without it is written as before; a damaged or
hostile view.json never costs the network: the file loads, the view is dropped and
one sentence says why."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from nndesk.document.examples import spiral_classifier
from nndesk.io.errors import FileFormatError, ProjectSaveError
from nndesk.io.project_file import MEMBERS, Project, load_project, save_project

PLANE = {
    "mode": "features",
    "features": [3, 7],
    "held": "sample",
    "held_sample": 17,
    "held_values": [0.5, -1.25, 2.0, 0.0, 3.5, 1e-3, 7.0, 8.0],
    "points": [0, 5, 9],
}


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _write(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)


def _saved(tmp_path: Path, view: dict | None) -> Path:
    path = tmp_path / "planes.nndesk"
    save_project(path, Project(document=spiral_classifier(), view=view))
    return path


def test_the_plane_round_trips_as_format_7(tmp_path: Path) -> None:
    path = _saved(tmp_path, {"boundary_plane": PLANE})
    members = _members(path)
    assert list(members) == [*MEMBERS[:4], *MEMBERS[4:6], "view.json"]
    assert json.loads(members["metadata.json"])["format_version"] == 7
    assert json.loads(members["view.json"]) == {"boundary_plane": PLANE}
    project = load_project(path)
    assert project.view == {"boundary_plane": PLANE}
    assert project.view_problem == ""


@pytest.mark.parametrize("view", [None, {}])
def test_no_view_state_writes_the_file_as_before(tmp_path: Path, view) -> None:
    path = _saved(tmp_path, view)
    members = _members(path)
    assert "view.json" not in members
    assert json.loads(members["metadata.json"])["format_version"] == 1
    project = load_project(path)
    assert project.view is None and project.view_problem == ""


def test_old_sample_files_load_without_view_state() -> None:
    data = Path(__file__).parent / "data"
    for name in ("spiral_v0.nndesk", "spiral_v1.nndesk"):
        project = load_project(data / name)
        assert project.view is None and project.view_problem == ""


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b'{"boundary_plane": {"mode": "cube"}}', "mode must be one of"),
        (b'{"boundary_plane": {"features": [3, 3]}}', "names feature 3 twice"),
        (b'{"boundary_plane": {"features": [3, -1]}}', "features[1] must be from 0"),
        (b'{"boundary_plane": {"features": "3,7"}}', "must be a list of 2"),
        (b'{"boundary_plane": {"held_sample": 1.5}}', "must be a whole number"),
        (b'{"boundary_plane": {"held_sample": true}}', "must be a whole number"),
        (b'{"boundary_plane": {"held": "median"}}', "held must be 'mean' or"),
        (b'{"boundary_plane": {"held_values": [1, "x"]}}', "[1] must be a number"),
        (b'{"boundary_plane": {"held_values": [1e300]}}', "finite number within"),
        (b'{"boundary_plane": {"points": [1, 2]}}', "must be a list of 3"),
        (b'{"boundary_plane": {"zoom": 2}}', "unknown key 'zoom'"),
        (b'{"boundary_plane": [1, 2]}', "must be an object"),
        (b'{"camera": {}}', "unknown key 'camera'"),
        (b"[]", "must be an object"),
        (b'{"boundary_plane": {"mode": NaN}}', "is not valid JSON"),
        (b"{not json", "is not valid JSON"),
        (b"\xff\xfe", "is not UTF-8"),
        (b"[" * 40 + b"]" * 40, "nested more than"),
    ],
)
def test_a_bad_view_state_is_dropped_with_one_sentence(
    tmp_path: Path, content: bytes, said: str
) -> None:
    path = _saved(tmp_path, {"boundary_plane": PLANE})
    members = _members(path)
    members["view.json"] = content
    _write(path, members)
    project = load_project(path)  # the network loads all the same
    assert project.view is None
    assert project.document.nodes and said in project.view_problem
    assert project.view_problem.startswith("planes.nndesk: view.json")
    assert project.view_problem.endswith("The panels show their default views.")
    assert project.view_problem.count(". ") == 1  # the rule, then the fallback


def test_a_huge_view_state_is_dropped_before_it_is_read(tmp_path: Path) -> None:
    path = _saved(tmp_path, {"boundary_plane": PLANE})
    members = _members(path)
    members["view.json"] = (
        b'{"boundary_plane": {"held_values": [' + b"0," * (3 << 20) + b"0]}}"
    )
    _write(path, members)
    project = load_project(path)
    assert project.view is None and "view.json" in project.view_problem


def test_view_json_in_an_older_format_is_refused_like_any_stray_member(
    tmp_path: Path,
) -> None:
    path = _saved(tmp_path, {"boundary_plane": PLANE})
    members = _members(path)
    meta = json.loads(members["metadata.json"])
    meta["format_version"] = 6
    members["metadata.json"] = json.dumps(meta).encode()
    _write(path, members)
    with pytest.raises(FileFormatError, match="unexpected member 'view.json'"):
        load_project(path)


def test_saving_a_bad_view_state_is_refused_in_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(ProjectSaveError, match=r"project.view boundary_plane mode"):
        _saved(tmp_path, {"boundary_plane": {"mode": "cube"}})
    assert not (tmp_path / "planes.nndesk").exists()
