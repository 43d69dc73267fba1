"""Runs side by side and timeline checkpoints in the network file (format 6):
runs.json and checkpoints.npz round-trip, are written only when needed, and a
damaged one is refused in one sentence naming the file and the value."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nndesk.document.examples import spiral_classifier
from nndesk.io.errors import FileFormatError, ProjectSaveError
from nndesk.io.project_file import load_project, save_project
from nndesk.training.checkpoints import CheckpointStore, Timeline
from nndesk.training.session import TrainingSession


@pytest.fixture(scope="module")
def forked() -> tuple[TrainingSession, Timeline]:
    """The spiral example trained 3 epochs, forked at epoch 2 with another rate,
    trained 1 more."""
    doc = spiral_classifier()
    session = TrainingSession(doc)
    timeline = Timeline(CheckpointStore(bound=50_000_000))
    session.fit(epochs=3, callbacks=[timeline.recorder(session)])
    checkpoint = next(c for c in timeline.store.checkpoints(0) if c.epoch == 2)
    edited = doc.copy()
    edited.set_setting("learning_rate", 0.01)
    fork = timeline.fork(checkpoint, edited.snapshot(), name="run 2 (lr 0.01)")
    fork.fit(epochs=1, callbacks=[timeline.recorder(fork)])
    return fork, timeline


def _project(forked, with_checkpoints: bool):
    session, timeline = forked
    project = session.to_project()
    project.runs = timeline.to_plain()
    project.current_run = timeline.current
    if with_checkpoints:
        project.checkpoints = timeline.saved_checkpoints(project.weights)
    return project


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _rewrite(path: Path, member: str, data: bytes) -> None:
    members = _members(path)
    members[member] = data
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)


def test_runs_and_checkpoints_round_trip(forked, tmp_path: Path) -> None:
    project = _project(forked, with_checkpoints=True)
    assert len(project.checkpoints) >= 4
    path = tmp_path / "runs.nndesk"
    save_project(path, project)
    meta = json.loads(_members(path)["metadata.json"])
    assert meta["format_version"] == 6
    loaded = load_project(path)
    assert loaded.current_run == 1
    assert [r["name"] for r in loaded.runs] == ["run 1", "run 2 (lr 0.01)"]
    assert loaded.runs[1]["parent"] == 0 and loaded.runs[1]["fork_epoch"] == 2
    assert loaded.runs[0]["history"] == project.runs[0]["history"]
    assert len(loaded.checkpoints) == len(project.checkpoints)
    for theirs, ours in zip(loaded.checkpoints, project.checkpoints, strict=True):
        for key in ("run", "epoch", "batch", "batches", "step"):
            assert theirs[key] == ours[key]
        for part in ("weights", "optimizer_state"):
            assert theirs[part].keys() == ours[part].keys()
            assert all(
                np.array_equal(theirs[part][k], ours[part][k]) for k in ours[part]
            )
        if ours["run_state"] is not None:
            assert (
                theirs["run_state"]["weights_sha256"]
                == ours["run_state"]["weights_sha256"]
            )

    # Restored checkpoints fork as the saved ones did.
    timeline = Timeline(CheckpointStore(bound=50_000_000))
    timeline.load_plain(loaded.runs, loaded.current_run)
    timeline.load_checkpoints(
        loaded.checkpoints,
        loaded.document.snapshot(),
        loaded.preprocessing,
        loaded.vocabulary,
    )
    point = next(c for c in timeline.store.checkpoints(0) if c.epoch == 2)
    session = timeline.fork(point)
    assert session.history.epochs == 2
    assert np.array_equal(
        session.model.get_weights()["dense_1/kernel"], point.weights["dense_1/kernel"]
    )


def test_runs_without_checkpoints_write_no_checkpoints_member(forked, tmp_path) -> None:
    path = tmp_path / "runs.nndesk"
    save_project(path, _project(forked, with_checkpoints=False))
    assert "runs.json" in _members(path) and "checkpoints.npz" not in _members(path)
    assert load_project(path).checkpoints == []


def test_a_single_run_keeps_the_older_format(tmp_path: Path) -> None:
    """One run's history is history.json: no runs.json, so older nndesk opens it."""
    session = TrainingSession(spiral_classifier())
    session.fit(epochs=1)
    project = session.to_project()
    timeline = Timeline()
    timeline.update_history(project.history)
    project.runs = timeline.to_plain()
    path = tmp_path / "one.nndesk"
    save_project(path, project)
    assert "runs.json" not in _members(path)
    assert json.loads(_members(path)["metadata.json"])["format_version"] == 2
    assert load_project(path).runs is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["runs"][1].update(parent=1), "names run 1 as its parent"),
        (lambda d: d.update(current=5), "names run 5 as current"),
        (lambda d: d["runs"][0].update(name=""), "not 1-200 characters"),
        (lambda d: d["checkpoints"][0].update(run=7), "belongs to run 7"),
        (lambda d: d["checkpoints"][0].update(epoch=-1), "epoch -1"),
        (lambda d: d.pop("checkpoints"), "must be an object of current"),
    ],
)
def test_a_damaged_runs_json_is_refused(forked, tmp_path, change, message) -> None:
    path = tmp_path / "runs.nndesk"
    save_project(path, _project(forked, with_checkpoints=True))
    data = json.loads(_members(path)["runs.json"])
    change(data)
    _rewrite(path, "runs.json", json.dumps(data).encode())
    with pytest.raises(FileFormatError, match=message) as info:
        load_project(path)
    assert "runs.nndesk" in str(info.value)


def test_a_checkpoint_that_does_not_fit_the_network_is_refused(forked, tmp_path):
    project = _project(forked, with_checkpoints=True)
    bad = dict(project.checkpoints[0])
    bad["weights"] = {k: a[..., :1] for k, a in bad["weights"].items()}
    project.checkpoints = [bad]
    with pytest.raises(ProjectSaveError, match="checkpoint 0 weights"):
        save_project(tmp_path / "bad.nndesk", project)


def test_checkpoints_without_runs_json_are_refused(forked, tmp_path) -> None:
    path = tmp_path / "runs.nndesk"
    save_project(path, _project(forked, with_checkpoints=True))
    members = _members(path)
    del members["runs.json"]
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    with pytest.raises(FileFormatError, match="checkpoints.npz but not runs.json"):
        load_project(path)
