"""The .nndesk file: round trips, old versions, the documented layout, atomic saving."""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from make_sample_files import (
    V0_SAMPLE,
    V1_SAMPLE,
    sample_document,
    sample_project,
)
from test_project_file_run_state import sample_project_with_run_state

import nndesk
from nndesk.document import Document
from nndesk.io import (
    FILE_FORMAT_VERSION,
    FileFormatError,
    NonFiniteWeightsError,
    Project,
    ProjectMetadata,
    ProjectSaveError,
    expected_weight_shapes,
    load_project,
    peek_project_metadata,
    project_file,
    save_project,
)
from nndesk.io.run_state import RUN_STATE_KEYS, WEIGHT_SETS


def assert_same_project(a: Project, b: Project) -> None:
    assert a.document.to_dict() == b.document.to_dict()
    for mine, theirs in (
        (a.weights, b.weights),
        (a.optimizer_state, b.optimizer_state),
    ):
        assert list(mine) == list(theirs)
        for key in mine:
            assert mine[key].dtype == theirs[key].dtype, key
            assert mine[key].shape == theirs[key].shape, key
            assert mine[key].tobytes() == theirs[key].tobytes(), key
    assert a.history == b.history
    assert a.preprocessing == b.preprocessing
    assert a.optimizer_name == b.optimizer_name


# --- round trips -----------------------------------------------------------------------


def test_save_then_load_gives_the_same_project(tmp_path: Path) -> None:
    project = sample_project()
    path = tmp_path / "spiral.nndesk"
    save_project(path, project)
    loaded = load_project(path)
    assert_same_project(loaded, project)
    assert loaded.document == project.document


def test_untrained_network_round_trips_without_arrays(tmp_path: Path) -> None:
    project = Project(document=sample_document())
    save_project(tmp_path / "new.nndesk", project)
    loaded = load_project(tmp_path / "new.nndesk")
    assert loaded.weights == {} and loaded.optimizer_state == {}
    assert loaded.history == {} and loaded.preprocessing is None
    assert loaded.document.to_dict() == project.document.to_dict()


def test_empty_document_round_trips(tmp_path: Path) -> None:
    save_project(tmp_path / "empty.nndesk", Project())
    assert len(load_project(tmp_path / "empty.nndesk").document) == 0


def test_float64_weights_and_nonfinite_history_round_trip(tmp_path: Path) -> None:
    project = sample_project()
    project.weights = {k: w.astype(np.float64) for k, w in project.weights.items()}
    project.optimizer_state = {}
    project.history = {
        "loss": [float("nan"), float("inf"), -float("inf"), -0.0, 1e-310]
    }
    save_project(tmp_path / "f64.nndesk", project)
    loaded = load_project(tmp_path / "f64.nndesk")
    assert all(w.dtype == np.float64 for w in loaded.weights.values())
    values = loaded.history["loss"]
    assert np.isnan(values[0]) and values[1:3] == [float("inf"), -float("inf")]
    assert str(values[3]) == "-0.0" and values[4] == 1e-310


def test_big_endian_weights_load_in_native_order(tmp_path: Path) -> None:
    project = sample_project()
    expected = dict(project.weights)
    project.weights = {k: w.astype(">f4") for k, w in project.weights.items()}
    save_project(tmp_path / "be.nndesk", project)
    loaded = load_project(tmp_path / "be.nndesk")
    for key, w in loaded.weights.items():
        assert w.dtype == np.dtype("=f4")
        np.testing.assert_array_equal(w, expected[key])


def test_metadata_keeps_created_and_stamps_modified(tmp_path: Path) -> None:
    project = sample_project()
    long_ago = datetime(2020, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    project.metadata = ProjectMetadata("0.0.9", long_ago, long_ago)
    before = datetime.now(timezone.utc).replace(microsecond=0)
    save_project(tmp_path / "m.nndesk", project)
    meta = load_project(tmp_path / "m.nndesk").metadata
    assert meta.created == long_ago
    assert meta.modified >= before
    assert meta.app_version == nndesk.__version__
    assert peek_project_metadata(tmp_path / "m.nndesk") == meta


def test_saving_does_not_modify_the_project(tmp_path: Path) -> None:
    project = sample_project()
    metadata, weights = project.metadata, dict(project.weights)
    save_project(tmp_path / "x.nndesk", project)
    assert project.metadata is metadata
    assert all(project.weights[k] is w for k, w in weights.items())


def test_written_layout_is_the_documented_one(tmp_path: Path) -> None:
    save_project(tmp_path / "s.nndesk", sample_project_with_run_state())
    with zipfile.ZipFile(tmp_path / "s.nndesk") as archive:
        infos = archive.infolist()
        # every member but painted.npz (a file with painted data: test_painted_file)
        assert [i.filename for i in infos] == list(project_file.MEMBERS[:8])
        kinds = {i.filename: i.compress_type for i in infos}
        meta = json.loads(archive.read("metadata.json"))
        training = json.loads(archive.read("training.json"))
        run = json.loads(archive.read("run_state.json"))
    stored = ("weights.npz", "optimizer.npz", "run_state.npz")
    assert {kinds[m] for m in stored} == {zipfile.ZIP_STORED}
    assert kinds["graph.json"] == kinds["run_state.json"] == zipfile.ZIP_DEFLATED
    assert set(meta) == {
        "format",
        "format_version",
        "app_version",
        "created",
        "modified",
    }
    # a run state needs format 2; painted data (format 3) is not in this file
    assert meta["format"] == "nndesk" and meta["format_version"] == 2
    # 4: vocabulary.json, 5: gan.json (test_gan_file), 6: runs.json (test_runs_file),
    # 7: view.json (test_view_state_file)
    assert FILE_FORMAT_VERSION == 7
    assert set(training) == {"optimizer", "preprocessing"}
    assert set(run) == set(RUN_STATE_KEYS)


def test_a_file_without_a_run_state_is_written_as_format_1(tmp_path: Path) -> None:
    """So an nndesk that reads format 1 only still opens it."""
    save_project(tmp_path / "s.nndesk", sample_project())
    with zipfile.ZipFile(tmp_path / "s.nndesk") as archive:
        names = archive.namelist()
        meta = json.loads(archive.read("metadata.json"))
    assert names == list(project_file.MEMBERS[:6]) and meta["format_version"] == 1
    assert load_project(tmp_path / "s.nndesk").run_state is None


def test_the_run_state_round_trips(tmp_path: Path) -> None:
    project = sample_project_with_run_state()
    save_project(tmp_path / "r.nndesk", project)
    loaded = load_project(tmp_path / "r.nndesk").run_state
    original = project.run_state
    assert {k: v for k, v in loaded.items() if k not in WEIGHT_SETS} == {
        k: v for k, v in original.items() if k not in WEIGHT_SETS
    }
    assert loaded["best_weights"] == {}
    resume = original["resume_weights"]
    assert list(loaded["resume_weights"]) == list(resume)
    for key, array in loaded["resume_weights"].items():
        assert array.dtype == resume[key].dtype
        assert array.tobytes() == resume[key].tobytes()


# --- old versions and the documented format ----------------------------------------------


def test_old_version_sample_migrates() -> None:
    project = load_project(V0_SAMPLE)
    doc = project.document
    assert doc.node_ids == ("input_1", "dense_1", "dense_2", "output_1")
    # version 0 kept the loss in the training settings and called the rate "lr"
    assert doc.node("output_1").params["loss"] == "binary_crossentropy"
    assert doc.settings["learning_rate"] == 0.05
    assert doc.node("dense_1").label == "hidden"
    assert project.weights["dense_1/kernel"].shape == (2, 8)
    assert project.history == {"loss": [0.69, 0.52, 0.31]}
    assert project.metadata.app_version == "0.0.1"


def test_current_version_sample_loads() -> None:
    project = load_project(V1_SAMPLE)
    assert set(project.weights) == set(expected_weight_shapes(project.document))
    assert project.optimizer_state["iterations"] == 3
    assert project.optimizer_name == "adam"
    assert (
        project.preprocessing is not None
        and project.preprocessing["method"] == "standard"
    )


def test_a_file_written_from_the_documentation_alone_loads(tmp_path: Path) -> None:
    """docs/file-format.md, followed with only zipfile, json and NumPy."""
    import io

    graph = {
        "format_version": 1,
        "nodes": [
            {"id": "input_1", "type_name": "Input", "params": {"shape": [4]},
             "pos": [0, 0], "label": None},
            {"id": "dense_1", "type_name": "Dense",
             "params": {"units": 3, "activation": "softmax"}, "pos": [200, 0],
             "label": "classifier"},
            {"id": "output_1", "type_name": "Output",
             "params": {"loss": "sparse_categorical_crossentropy"}, "pos": [400, 0],
             "label": None},
        ],
        "edges": [
            {"src_node": "input_1", "src_port": "out", "dst_node": "dense_1",
             "dst_port": "in"},
            {"src_node": "dense_1", "src_port": "out", "dst_node": "output_1",
             "dst_port": "in"},
        ],
        "settings": {"optimizer": "sgd", "learning_rate": 0.1, "epochs": 5},
    }  # fmt: skip
    kernel = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    bias = np.zeros(3, dtype=np.float32)

    def npz(**arrays: np.ndarray) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        return buffer.getvalue()

    path = tmp_path / "handmade.nndesk"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", json.dumps({
            "format": "nndesk", "format_version": 1, "app_version": "handmade",
            "created": "2025-01-01T00:00:00+00:00",
            "modified": "2025-01-02T00:00:00+00:00",
        }))  # fmt: skip
        archive.writestr("graph.json", json.dumps(graph))
        archive.writestr(
            "training.json",
            json.dumps({"optimizer": "sgd", "preprocessing": {
                "method": "minmax", "axis": "feature", "input_shape": [4],
                "offset": [0, 0, 0, 0], "scale": [1, 2, 3, 4]}}),
        )  # fmt: skip
        archive.writestr("history.json", json.dumps({"loss": [1.5, "NaN", 0.25]}))
        archive.writestr(
            "weights.npz", npz(**{"dense_1/kernel": kernel, "dense_1/bias": bias})
        )
        archive.writestr("optimizer.npz", npz(
            iterations=np.array(7),
            **{"dense_1/kernel/momentum": np.ones((4, 3), np.float32),
               "dense_1/bias/momentum": np.ones(3, np.float32)}))  # fmt: skip

    project = load_project(path)
    doc = project.document
    assert doc.node("dense_1").params["units"] == 3
    assert doc.node("dense_1").label == "classifier"
    assert doc.settings["optimizer"] == "sgd" and doc.settings["epochs"] == 5
    np.testing.assert_array_equal(project.weights["dense_1/kernel"], kernel)
    assert project.optimizer_state["iterations"] == 7
    assert project.history["loss"][0] == 1.5 and np.isnan(project.history["loss"][1])
    assert project.preprocessing["scale"] == [1, 2, 3, 4]
    assert project.metadata.app_version == "handmade"


# --- saving refuses what would not load back --------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda p: p.weights.pop("dense_2/bias"),
            "Cannot save s.nndesk: project.weights is missing the array 'dense_2/bias'.",
        ),
        (
            lambda p: p.weights.update(
                {"dense_1/kernel": np.zeros((3, 8), np.float32)}
            ),
            "Cannot save s.nndesk: project.weights has 'dense_1/kernel' of shape (3, 8), "
            "but node 'dense_1' needs (2, 8).",
        ),
        (
            lambda p: p.weights.update({"dense_1/kernel": [[0.0] * 8] * 2}),
            "Cannot save s.nndesk: project.weights has 'dense_1/kernel' as list, not a "
            "NumPy array.",
        ),
        (
            lambda p: p.optimizer_state.pop("iterations"),
            "Cannot save s.nndesk: project.optimizer_state is missing the array "
            "'iterations'.",
        ),
        (
            lambda p: p.history.update({"loss": ["low", "lower"]}),
            "Cannot save s.nndesk: project.history has 'loss' with values that are not "
            "numbers.",
        ),
        (
            lambda p: setattr(p, "optimizer_name", "lion"),
            "Cannot save s.nndesk: project.optimizer_name names 'lion', which is not an "
            "optimizer of this nndesk",
        ),
        (
            lambda p: p.preprocessing.pop("scale"),
            "Cannot save s.nndesk: project.preprocessing is not usable: Scaler data lacks "
            "the key(s) scale.",
        ),
    ],
    ids=[
        "missing",
        "shape",
        "not-array",
        "no-iterations",
        "history",
        "optimizer",
        "scaler",
    ],
)
def test_save_refuses_contents_that_would_not_load(tmp_path, change, message) -> None:
    path = tmp_path / "s.nndesk"
    save_project(path, sample_project())
    before = path.read_bytes()
    project = sample_project()
    change(project)
    with pytest.raises(ProjectSaveError) as info:
        save_project(path, project)
    assert str(info.value).startswith(message)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["s.nndesk"]


def test_save_refuses_what_the_size_limits_would_refuse_to_open(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(project_file, "MAX_NODES", 4)
    with pytest.raises(ProjectSaveError) as info:
        save_project(tmp_path / "big.nndesk", sample_project())
    assert str(info.value) == (
        "Cannot save big.nndesk: the network has 5 nodes and 4 edges; files hold at "
        "most 4 and 2,000."
    )
    monkeypatch.undo()
    caps = dict(project_file._JSON_CAPS, **{"history.json": 100})
    monkeypatch.setattr(project_file, "_JSON_CAPS", caps)
    project = sample_project()
    project.history = {"loss": [0.123456789] * 50}
    with pytest.raises(ProjectSaveError) as info:
        save_project(tmp_path / "big.nndesk", project)
    assert re.fullmatch(
        r"Cannot save big\.nndesk: its history\.json would be \d+ bytes; files hold "
        r"at most 100\.",
        str(info.value),
    )
    assert not (tmp_path / "big.nndesk").exists()


def test_unconnected_node_without_weights_does_not_block_saving(tmp_path: Path) -> None:
    project = sample_project()
    project.document.add_node("Dense", {"units": 4}, pos=(0.0, 300.0))  # not connected
    save_project(tmp_path / "s.nndesk", project)
    assert "dense_3" in load_project(tmp_path / "s.nndesk").document


def test_nonfinite_weights_are_saved_and_refused_on_load_unless_allowed(
    tmp_path: Path,
) -> None:
    project = sample_project()
    project.weights["dense_2/kernel"][0, 0] = np.nan
    save_project(tmp_path / "nan.nndesk", project)
    with pytest.raises(NonFiniteWeightsError, match=r"'dense_2/kernel'"):
        load_project(tmp_path / "nan.nndesk")
    loaded = load_project(tmp_path / "nan.nndesk", allow_nonfinite=True)
    assert np.isnan(loaded.weights["dense_2/kernel"][0, 0])


# --- atomic saving ---------------------------------------------------------------------


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, bytes]:
    path = tmp_path / "spiral.nndesk"
    save_project(path, sample_project(seed=5))
    return path, path.read_bytes()


def assert_untouched(path: Path, before: bytes) -> None:
    assert path.read_bytes() == before
    assert sorted(os.listdir(path.parent)) == [path.name], "a temporary file was left"


def test_failing_rename_leaves_the_old_file(saved, monkeypatch) -> None:
    path, before = saved

    def full_disk(src: str, dst: str) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(project_file.os, "replace", full_disk)
    with pytest.raises(ProjectSaveError) as info:
        save_project(path, sample_project(seed=6))
    assert str(info.value) == f"Cannot save spiral.nndesk: {os.strerror(errno.ENOSPC)}."
    assert_untouched(path, before)


def test_disk_full_in_the_middle_of_writing_leaves_the_old_file(
    saved, monkeypatch
) -> None:
    path, before = saved
    real_writestr = zipfile.ZipFile.writestr
    calls = []

    def writestr(self, info, data, *args, **kwargs):
        calls.append(info)
        if len(calls) == 3:  # after metadata.json and graph.json hit the temp file
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_writestr(self, info, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", writestr)
    with pytest.raises(ProjectSaveError, match="No space left on device"):
        save_project(path, sample_project(seed=6))
    assert len(calls) == 3
    assert_untouched(path, before)


def test_failing_fsync_leaves_the_old_file(saved, monkeypatch) -> None:
    path, before = saved

    def broken_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(project_file.os, "fsync", broken_fsync)
    with pytest.raises(ProjectSaveError, match="Input/output error"):
        save_project(path, sample_project(seed=6))
    assert_untouched(path, before)


def test_interrupt_while_writing_removes_the_temp_file(saved, monkeypatch) -> None:
    path, before = saved

    def interrupted(f, members):
        f.write(b"PK\x03\x04 half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(project_file, "_write_zip", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_project(path, sample_project(seed=6))
    assert_untouched(path, before)


def test_array_serialisation_error_happens_before_any_file_is_touched(
    saved, monkeypatch
) -> None:
    path, before = saved

    def broken_savez(*args, **kwargs):
        raise OSError(errno.ENOMEM, "Cannot allocate memory")

    monkeypatch.setattr(project_file.np, "savez", broken_savez)
    with pytest.raises(OSError, match="Cannot allocate memory"):
        save_project(path, sample_project(seed=6))
    assert_untouched(path, before)


def test_successful_save_replaces_the_file_and_keeps_its_permissions(saved) -> None:
    path, before = saved
    os.chmod(path, 0o640)
    save_project(path, sample_project(seed=7))
    assert path.read_bytes() != before
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(os.listdir(path.parent)) == [path.name]
    np.testing.assert_array_equal(
        load_project(path).weights["dense_1/kernel"],
        sample_project(seed=7).weights["dense_1/kernel"],
    )


def test_new_file_gets_ordinary_permissions(tmp_path: Path) -> None:
    save_project(tmp_path / "new.nndesk", Project())
    mode = stat.S_IMODE((tmp_path / "new.nndesk").stat().st_mode)
    assert mode == 0o666 & ~project_file._UMASK


def test_saving_through_a_symlink_replaces_its_target(tmp_path: Path) -> None:
    target = tmp_path / "real.nndesk"
    save_project(target, Project())
    link = tmp_path / "link.nndesk"
    link.symlink_to(target)
    save_project(link, sample_project())
    assert link.is_symlink()
    assert "dense_1/kernel" in load_project(target).weights


def test_save_into_a_missing_folder_says_so(tmp_path: Path) -> None:
    with pytest.raises(
        ProjectSaveError, match=r"the folder .*nowhere does not exist\."
    ):
        save_project(tmp_path / "nowhere" / "x.nndesk", Project())


def test_save_over_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.nndesk").mkdir()
    with pytest.raises(ProjectSaveError, match="a folder of that name is in the way"):
        save_project(tmp_path / "x.nndesk", Project())


def test_save_into_a_read_only_folder_says_why(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root may write anywhere")
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ProjectSaveError, match="Permission denied"):
            save_project(folder / "x.nndesk", Project())
    finally:
        folder.chmod(0o700)


def test_project_defaults_are_independent() -> None:
    a, b = Project(), Project()
    assert a.document is not b.document and a.weights is not b.weights
    assert isinstance(a.document, Document)
    assert a.metadata.created.tzinfo is not None


def test_load_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match=r"^gone\.nndesk does not exist\.$"):
        load_project(tmp_path / "gone.nndesk")


# --- the documentation stays true ------------------------------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "file-format.md"


def test_the_hand_written_example_of_the_documentation_loads(
    tmp_path, monkeypatch
) -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Writing a file by hand", 1)[1]
    code = section.split("```python", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(DOC), "exec"), {})
    project = load_project(tmp_path / "handmade.nndesk")
    assert project.weights["dense_1/kernel"].shape == (4, 3)
    assert project.history == {"loss": [1.1, 0.9]}


def test_the_documentation_lists_every_node_type_and_setting() -> None:
    from nndesk.document import REGISTRY, SETTINGS

    text = DOC.read_text(encoding="utf-8")
    for type_name, spec in REGISTRY.items():
        assert f"`{type_name}`" in text, type_name
        for param in spec.params:
            assert f"`{param.name}" in text, (type_name, param.name)
    for setting in SETTINGS:
        assert f"`{setting.name}`" in text, setting.name
    for member in project_file.MEMBERS:
        assert f"### `{member}`" in text, member
