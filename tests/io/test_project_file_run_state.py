"""The run state members of a network file: checked like every other member.

``run_state.json`` and ``run_state.npz`` (format 2) hold what continuing a run
exactly needs. Each hostile or broken variant gets one sentence naming the file,
the member and the value at fault, in under a second and with little memory
(``load_error`` from the hostile-file tests checks both).
"""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
from make_sample_files import (
    Entry,
    forge_zip,
    json_bytes,
    npz_bytes,
    read_members,
    sample_project,
    write_members,
)
from test_project_file_hostile import _npy, _Touch, load_error, with_member

from nndesk.io import (
    NonFiniteWeightsError,
    ProjectSaveError,
    load_project,
    save_project,
)

NAME = "spiral.nndesk"


def sample_project_with_run_state():  # -> Project
    """``sample_project()`` with the run state of a run that early stopping ended
    at its best epoch 1 of 3 (so training goes on from other weights)."""
    project = sample_project()
    project.run_state = {
        "epoch": 3,
        "batch": 0,
        "learning_rate": 0.01,
        "learning_rate_setting": 0.05,
        "weights_sha256": "0123456789abcdef" * 4,
        "early_stopping": {
            "monitor": "val_loss",
            "best": 0.8,
            "best_epoch": 1,
            "wait": 1,
            "stopped_epoch": None,
        },
        "resume_weights": {k: w + 0.5 for k, w in project.weights.items()},
        "best_weights": {},
    }
    return project


@pytest.fixture(scope="module")
def members(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    path = tmp_path_factory.mktemp("base") / NAME
    save_project(path, sample_project_with_run_state())
    return read_members(path)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / NAME


def run_json(members: dict[str, bytes]) -> dict:
    return json.loads(members["run_state.json"])


def with_run_json(members: dict[str, bytes], **changes) -> dict[str, bytes]:
    data = run_json(members)
    data.update(changes)
    return with_member(members, "run_state.json", json_bytes(data))


def with_early_stopping(members: dict[str, bytes], **changes) -> dict[str, bytes]:
    es = dict(run_json(members)["early_stopping"], **changes)
    return with_run_json(members, early_stopping=es)


def run_arrays(members: dict[str, bytes]) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(members["run_state.npz"])) as npz:
        return {k: npz[k] for k in npz.files}


def with_run_arrays(members: dict[str, bytes], **changes) -> dict[str, bytes]:
    arrays = run_arrays(members)
    for key, value in changes.items():
        key = key.replace("__", "/")
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    return with_member(members, "run_state.npz", npz_bytes(arrays))


def test_the_sample_loads(path: Path, members: dict[str, bytes]) -> None:
    write_members(path, members)
    state = load_project(path).run_state
    assert state["early_stopping"]["best_epoch"] == 1
    assert set(state["resume_weights"]) == set(load_project(path).weights)


# --- members ---------------------------------------------------------------------------


def test_run_state_json_without_its_arrays(path: Path, members) -> None:
    write_members(path, {k: v for k, v in members.items() if k != "run_state.npz"})
    assert load_error(path) == (
        "spiral.nndesk has run_state.json but not run_state.npz."
    )


def test_run_state_arrays_without_the_json(path: Path, members) -> None:
    write_members(path, {k: v for k, v in members.items() if k != "run_state.json"})
    assert load_error(path) == (
        "spiral.nndesk has run_state.npz but not run_state.json."
    )


def test_a_format_1_file_holds_no_run_state(path: Path, members) -> None:
    meta = json.loads(members["metadata.json"])
    meta["format_version"] = 1
    write_members(path, with_member(members, "metadata.json", json_bytes(meta)))
    assert load_error(path) == (
        "spiral.nndesk holds the unexpected member 'run_state.json'."
    )


def test_a_run_state_without_weights(path: Path, members) -> None:
    changed = with_member(members, "weights.npz", npz_bytes({}))
    changed = with_member(changed, "optimizer.npz", npz_bytes({}))
    write_members(path, changed)
    assert load_error(path) == (
        "spiral.nndesk holds a run state but the network has no weights."
    )


# --- run_state.json -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "predicate"),
    [
        ({"extra": 1}, "has the unknown key 'extra'."),
        ({"epoch": "3"}, "has epoch '3', not a whole number."),
        ({"epoch": True}, "has epoch True, not a whole number."),
        ({"batch": -1}, "has batch -1, outside 0..1,000,000,000."),
        ({"epoch": 10**12}, "has epoch 1000000000000, outside 0..1,000,000,000."),
        ({"learning_rate": -0.5}, "has learning_rate -0.5, below 0."),
        ({"learning_rate": "NaN"}, "has learning_rate 'NaN', not a number."),
        ({"weights_sha256": "xyz"}, "has a weights_sha256 that is not 64 hex digits."),
        ({"early_stopping": [1]}, "early_stopping must be null or an object."),
    ],
)
def test_bad_plain_values(path: Path, members, changes, predicate) -> None:
    write_members(path, with_run_json(members, **changes))
    assert load_error(path) == f"spiral.nndesk: run_state.json {predicate}"


def test_a_learning_rate_beyond_float(path: Path, members) -> None:
    text = members["run_state.json"].replace(
        b'"learning_rate_setting": 0.05', b'"learning_rate_setting": 1e400'
    )
    write_members(path, with_member(members, "run_state.json", text))
    assert load_error(path) == (
        "spiral.nndesk: run_state.json has learning_rate_setting inf, not a finite "
        "number."
    )


def test_a_missing_plain_value(path: Path, members) -> None:
    data = run_json(members)
    del data["weights_sha256"]
    write_members(path, with_member(members, "run_state.json", json_bytes(data)))
    assert load_error(path) == (
        "spiral.nndesk: run_state.json is missing 'weights_sha256'."
    )


def test_run_state_json_that_is_not_an_object(path: Path, members) -> None:
    write_members(path, with_member(members, "run_state.json", b"[1, 2]"))
    assert load_error(path) == (
        "spiral.nndesk: run_state.json must be an object of run-state values."
    )


def test_run_state_json_too_large(path: Path, members) -> None:
    huge = b'{"epoch": 3' + b" " * (70 << 10) + b"}"
    write_members(path, with_member(members, "run_state.json", huge))
    assert "has member 'run_state.json' of 71,69" in load_error(path)


@pytest.mark.parametrize(
    ("changes", "predicate"),
    [
        ({"monitor": ""}, "has a monitor that is not a metric name."),
        ({"best": None}, "has a best_epoch but no best value."),
        ({"best_epoch": 3}, "has best_epoch 3, not one of the 3 epochs trained."),
        ({"wait": 4}, "waited 4 epochs of 3 trained."),
        ({"wait": False}, "has wait False, not a whole number."),
        ({"stopped_epoch": 7}, "has stopped_epoch 7, not one of the 3 epochs trained."),
        ({"patience": 3}, "has the unknown key 'patience'."),
    ],
)
def test_bad_early_stopping_values(path: Path, members, changes, predicate) -> None:
    write_members(path, with_early_stopping(members, **changes))
    assert load_error(path) == (
        f"spiral.nndesk: run_state.json early_stopping {predicate}"
    )


# --- run_state.npz --------------------------------------------------------------------


def test_an_array_of_neither_set(path: Path, members) -> None:
    write_members(path, with_run_arrays(members, dense_1__bias=np.zeros(8, "f4")))
    assert load_error(path) == (
        "spiral.nndesk: run_state.npz holds 'dense_1/bias', which is not "
        "'resume/<weight>' or 'best/<weight>'."
    )


def test_a_weight_set_missing_an_array(path: Path, members) -> None:
    write_members(path, with_run_arrays(members, resume__dense_1__kernel=None))
    assert load_error(path) == (
        "spiral.nndesk: run_state.npz is missing the array 'dense_1/kernel'."
    )


def test_a_weight_set_with_the_wrong_shape(path: Path, members) -> None:
    bad = np.zeros((2, 16), "f4")
    write_members(path, with_run_arrays(members, best__dense_1__kernel=bad))
    # A best set of one array is incomplete before its shape is judged.
    assert "run_state.npz is missing the array" in load_error(path)
    write_members(path, with_run_arrays(members, resume__dense_1__kernel=bad))
    assert load_error(path) == (
        "spiral.nndesk: run_state.npz has 'dense_1/kernel' of shape (2, 16), but node "
        "'dense_1' needs (2, 8)."
    )


def test_a_weight_set_of_another_precision(path: Path, members) -> None:
    arrays = {k: a.astype(np.float64) for k, a in run_arrays(members).items()}
    write_members(path, with_member(members, "run_state.npz", npz_bytes(arrays)))
    assert load_error(path) == (
        "spiral.nndesk: run_state.npz has 'dense_1/kernel' as float64, but the weights "
        "are float32."
    )


def test_a_weight_set_with_nan(path: Path, members) -> None:
    arrays = run_arrays(members)
    arrays["resume/dense_1/bias"] = np.full(8, np.nan, np.float32)
    write_members(path, with_member(members, "run_state.npz", npz_bytes(arrays)))
    with pytest.raises(NonFiniteWeightsError, match="run_state.npz has NaN"):
        load_project(path)
    assert load_project(path, allow_nonfinite=True).run_state["resume_weights"]


def test_an_object_array_is_never_unpickled(path: Path, members, tmp_path) -> None:
    marker = tmp_path / "pwned"
    evil = np.array([_Touch(marker)], dtype=object)
    write_members(path, with_run_arrays(members, resume__dense_1__bias=evil))
    assert load_error(path) == (
        "spiral.nndesk: run_state.npz stores 'resume/dense_1/bias' as Python objects, "
        "which nndesk never loads."
    )
    assert not marker.exists()


def test_a_pickle_instead_of_the_arrays(path: Path, members, tmp_path) -> None:
    marker = tmp_path / "pwned"
    write_members(
        path, with_member(members, "run_state.npz", pickle.dumps(_Touch(marker)))
    )
    assert load_error(path) == (
        "spiral.nndesk: run_state.npz is not a zip archive, or it is truncated or has "
        "data appended."
    )
    assert not marker.exists()


def test_a_header_promising_a_huge_array(path: Path, members) -> None:
    header = {"descr": "<f4", "fortran_order": False, "shape": (1_000_000_000,)}
    npy = _npy(header, b"\0" * 32)
    inner = forge_zip(
        [Entry("resume/dense_1/kernel.npy", npy, method=zipfile.ZIP_STORED)]
    )
    write_members(path, with_member(members, "run_state.npz", inner))
    assert load_error(path) == (
        "spiral.nndesk: run_state.npz declares 'resume/dense_1/kernel' as float32 of "
        "shape (1000000000,) (4,000,000,000 bytes) but stores 32 bytes."
    )


# --- saving -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda s: s.update(epoch=-1),
            "Cannot save s.nndesk: project.run_state has epoch -1, outside "
            "0..1,000,000,000.",
        ),
        (
            lambda s: s["resume_weights"].pop("dense_2/bias"),
            "Cannot save s.nndesk: project.run_state resume_weights is missing the "
            "array 'dense_2/bias'.",
        ),
        (
            lambda s: s.update(best_weights=[1, 2]),
            "Cannot save s.nndesk: project.run_state has best_weights that are not a "
            "dict of arrays.",
        ),
    ],
)
def test_saving_refuses_a_run_state_that_would_not_load(tmp_path, change, message):
    project = sample_project_with_run_state()
    change(project.run_state)
    with pytest.raises(ProjectSaveError) as info:
        save_project(tmp_path / "s.nndesk", project)
    assert str(info.value) == message
    assert not (tmp_path / "s.nndesk").exists()


def test_saving_a_run_state_without_weights_is_refused(tmp_path) -> None:
    project = sample_project_with_run_state()
    project.weights, project.optimizer_state = {}, {}
    project.run_state["resume_weights"] = {}
    with pytest.raises(ProjectSaveError, match="project.run_state is there, but the"):
        save_project(tmp_path / "s.nndesk", project)
