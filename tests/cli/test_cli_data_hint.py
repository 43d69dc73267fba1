"""The command line's own hint when no dataset is named; the library's sentence (which
the window shows too) names no command-line flag."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from nndesk import cli
from nndesk.io.datasets import DatasetError
from nndesk.io.project_file import load_project, save_project
from nndesk.training.data import load_settings_dataset
from nndesk.training.examples import example_path


@pytest.fixture
def no_data(tmp_path: Path) -> Path:
    project = load_project(Path(str(example_path("spiral"))))
    project.document.set_setting("dataset", "")
    path = tmp_path / "nodata.nndesk"
    save_project(path, project)
    return path


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_a_network_without_dataset_asks_for_data(no_data: Path, command: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main([command, str(no_data)], out=out, err=err)
    text = err.getvalue()
    assert code == 2 and text.count("\n") == 1 and "Traceback" not in text
    assert text.startswith(f"nndesk {command}: error: No dataset is chosen")
    assert "pass --data SPEC" in text


def test_the_librarys_sentence_names_no_flag() -> None:
    with pytest.raises(DatasetError) as info:
        load_settings_dataset({"dataset": "  "})
    assert str(info.value) == "No dataset is chosen: set one in the network settings."
    assert "--" not in str(info.value)
