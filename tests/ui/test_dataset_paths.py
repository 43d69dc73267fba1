"""Relative dataset paths in the window: relative to the network file, rebased by Save
As, relative to the current folder before the first save; names the file system
refuses are files that do not exist."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ui_helpers import OFFSCREEN_NOISE

from nndesk.io.datasets import load_dataset
from nndesk.io.project_file import load_project
from nndesk.ui.dataset_source import DatasetSource
from nndesk.ui.main_window import MainWindow

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]


def write_csv(path: Path, rows: int = 30) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 2)).round(3)
    lines = ["a,b,label"] + [f"{a},{b},{int(a > 0)}" for a, b in x]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current folder is work/net; the data is work/bad/good.csv."""
    write_csv(tmp_path / "work" / "bad" / "good.csv")
    (tmp_path / "work" / "net" / "deep" / "er").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "work" / "net")
    return tmp_path / "work"


def saved_spec(path: Path) -> str:
    return str(load_project(path).document.settings["dataset"])


def test_save_as_two_folders_deeper_keeps_the_dataset_working(
    main_window: MainWindow, work: Path
) -> None:
    w = main_window
    assert w.path is None  # unsaved: relative to the current folder
    assert w.edit_setting("dataset", "../bad/good.csv")
    loaded = w.dataset
    assert loaded is not None and len(loaded) == 30 and w.dataset_error is None
    target = work / "net" / "deep" / "er" / "spiral.nndesk"
    assert w.save_as(target)
    assert w.dataset_error is None and w.errors == []
    assert w.dataset is loaded  # the same data, not read again
    assert w.document.settings["dataset"] == "../../../bad/good.csv"
    assert saved_spec(target) == "../../../bad/good.csv"
    assert not w.is_modified() and not w.isWindowModified()
    assert w.problems.messages() == []
    # Reopened, from another current folder, it finds its data.
    w.reload_dataset()
    assert w.open_file(target)
    assert w.dataset is not None and w.dataset_error is None
    np.testing.assert_array_equal(w.dataset.x, loaded.x)
    spec = str(w.document.settings["dataset"])
    assert len(load_dataset(spec, base_dir=target.parent)) == 30


def test_save_as_into_a_sibling_folder_and_back(
    main_window: MainWindow, work: Path
) -> None:
    w = main_window
    first = work / "net" / "a.nndesk"
    w.edit_setting("dataset", "../bad/good.csv:target=label")
    assert w.save_as(first)
    assert saved_spec(first) == "../bad/good.csv:target=label"  # same folder
    sibling = work / "bad" / "b.nndesk"
    assert w.save_as(sibling)
    assert saved_spec(sibling) == "good.csv:target=label"
    assert w.dataset is not None and w.dataset_error is None
    assert w.save()  # the same folder again: nothing to rewrite
    assert saved_spec(sibling) == "good.csv:target=label"
    assert w.save_as(first)
    assert saved_spec(first) == "../bad/good.csv:target=label"
    assert w.dataset is not None and w.errors == []


@pytest.mark.parametrize("kind", ["absolute", "generator"])
def test_absolute_paths_and_generators_are_saved_as_they_are(
    main_window: MainWindow, work: Path, kind: str
) -> None:
    w = main_window
    spec = str(work / "bad" / "good.csv") if kind == "absolute" else "xor:n=64"
    assert w.edit_setting("dataset", spec)
    target = work / "net" / "deep" / "x.nndesk"
    assert w.save_as(target)
    assert saved_spec(target) == spec and w.document.settings["dataset"] == spec
    assert w.dataset is not None and w.errors == []


def test_a_save_that_fails_rewrites_nothing(
    main_window: MainWindow, work: Path
) -> None:
    w = main_window
    w.edit_setting("dataset", "../bad/good.csv")
    assert not w.save_as(work / "no" / "such" / "folder" / "x.nndesk")
    assert len(w.errors) == 1
    assert w.document.settings["dataset"] == "../bad/good.csv"
    assert w.path is None and w.dataset is not None


def test_undo_after_save_as_still_edits_the_dataset(
    main_window: MainWindow, work: Path
) -> None:
    w = main_window
    before = w.document.settings["dataset"]  # the spiral's generator
    w.edit_setting("dataset", "../bad/good.csv")
    assert w.save_as(work / "net" / "deep" / "u.nndesk")
    assert w.document.settings["dataset"] == "../../bad/good.csv"
    w.undo_stack.undo()  # the rewrite was no edit: undo takes back the user's
    assert w.document.settings["dataset"] == before
    assert w.dataset is not None and w.dataset_error is None
    assert w.is_modified()
    w.undo_stack.redo()  # the step's path was rebased with the file
    assert w.document.settings["dataset"] == "../../bad/good.csv"
    assert w.dataset is not None and w.dataset_error is None
    assert w.errors == []


LONG = "d" * 5000


@pytest.mark.parametrize("name", [LONG, LONG + ".csv", f"sub/{LONG}.npz", LONG[:300]])
def test_a_name_the_file_system_refuses_is_a_missing_file(
    main_window: MainWindow, work: Path, name: str
) -> None:
    w = main_window
    assert w.edit_setting("dataset", name)
    message = w.dataset_error
    assert message is not None and "\n" not in message
    if "." in name or "/" in name:
        assert message.startswith("Dataset file ")
        assert message.endswith("does not exist.")
    else:  # a bare name could have been a generator's
        assert message.startswith("Unknown dataset 'ddd")
    assert len(message) < 600  # the name is cut short, its length given
    assert w.problems.messages() == [message]
    assert w.errors == []  # no dialog: Problems and the status bar say it
    assert w.dataset is None


def test_the_source_answers_for_a_name_too_long_without_raising(work: Path) -> None:
    source = DatasetSource()
    for name in (LONG, LONG + ".csv", "x/" * 2500):
        settings = {"dataset": name}
        assert source.is_quick(settings, work)
        assert source.is_quick(settings, None)
        assert source.cached(settings, work) == (False, None)


def test_a_trained_network_saved_elsewhere_predicts_the_same_after_reopening(
    qtbot, main_window: MainWindow, work: Path
) -> None:
    from nndesk.ui.training.controller import attach_training

    w = main_window
    training = attach_training(w)
    write_csv(work / "bad" / "many.csv", rows=200)
    assert w.edit_setting("dataset", "../bad/many.csv")
    assert w.edit_setting("scaling", "standard")
    assert w.edit_setting("epochs", 3)
    with qtbot.waitSignal(training.sig_run_finished, timeout=30_000):
        training.actions.train.trigger()
    x = np.random.default_rng(1).normal(size=(50, 2)).astype(np.float32) * 3 + 1
    before = training.predict(x)
    target = work / "net" / "deep" / "er" / "trained.nndesk"
    assert w.save_as(target)
    assert saved_spec(target) == "../../../bad/many.csv"
    np.testing.assert_array_equal(training.predict(x), before)
    assert w.save()  # saved again from the rebased setting
    assert load_project(target).preprocessing is not None
    assert w.open_example("xor") and w.open_file(target)
    assert w.dataset is not None and w.errors == []
    np.testing.assert_array_equal(training.predict(x), before)


def test_undo_and_redo_after_save_as_set_paths_of_the_new_folder(
    main_window: MainWindow, work: Path
) -> None:
    w = main_window
    three = work / "bad" / "three.csv"
    three.write_text(
        "a,b,c,label\n" + "\n".join(f"{i},{i % 3},{i % 5},{i % 2}" for i in range(20)),
        encoding="utf-8",
    )
    assert w.edit_setting("dataset", "../bad/good.csv")
    assert w.edit_setting("dataset", "../bad/three.csv")  # Input shape follows
    inputs = [n for n in w.document.nodes if n.type_name == "Input"]
    assert inputs[0].params["shape"] == (3,)
    assert w.save_as(work / "net" / "deep" / "er" / "m.nndesk")
    assert w.document.settings["dataset"] == "../../../bad/three.csv"
    w.undo_stack.undo()
    assert w.document.settings["dataset"] == "../../../bad/good.csv"
    assert w.dataset is not None and w.dataset.input_shape == (2,)
    w.undo_stack.redo()
    assert w.document.settings["dataset"] == "../../../bad/three.csv"
    assert w.dataset is not None and w.dataset.input_shape == (3,)
    assert w.errors == [] and w.dataset_error is None
