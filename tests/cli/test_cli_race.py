"""``nndesk race``: the table, the lockstep equality with ``train``, one-line errors."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from nndesk import cli
from nndesk.io.project_file import load_project, save_project
from nndesk.training.examples import example_path


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _spiral(folder: Path, name: str, **settings: object) -> Path:
    project = load_project(Path(str(example_path("spiral"))))
    project.document.set_setting("dataset", "spiral:n=200,noise=0.1")
    for key, value in settings.items():
        project.document.set_setting(key, value)
    path = folder / f"{name}.nndesk"
    save_project(path, project)
    return path


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    return _spiral(tmp_path, "adam"), _spiral(tmp_path, "sgd", optimizer="sgd")


def test_race_prints_a_table_per_variant(pair: tuple[Path, Path]) -> None:
    code, out, err = run("race", str(pair[0]), str(pair[1]), "--epochs", "3")
    assert code == 0, err
    lines = out.splitlines()
    assert sum(line.startswith("Round ") for line in lines) == 3
    head = next(i for i, line in enumerate(lines) if "variant" in line)
    header = lines[head].split()
    assert header == [
        "variant", "epochs", "loss", "val_loss", "best", "val_loss",
        "accuracy", "val_accuracy", "best", "val_accuracy", "s/epoch", "status",
    ]  # fmt: skip
    rows = [line.lstrip("* ").split() for line in lines[head + 1 : head + 3]]
    assert [r[0] for r in rows] == ["adam", "sgd"]
    assert all(r[1] == "3" and r[-1] == "completed" for r in rows)
    assert sum(line.startswith("* ") for line in lines[head + 1 : head + 3]) == 1
    # The files are not changed by a race.
    assert load_project(pair[0]).history == {}


def test_race_out_dir_saves_what_train_gives(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    out_dir = tmp_path / "raced"
    out_dir.mkdir()
    code, out, err = run(
        "race", str(pair[0]), str(pair[1]), "--epochs", "2", "-q", "--out-dir",
        str(out_dir),
    )  # fmt: skip
    assert code == 0, err
    assert "Round" not in out and "Saved 2 variants" in out
    for path in pair:
        trained = tmp_path / f"alone-{path.name}"
        assert run("train", str(path), "--epochs", "2", "-q", "--out",
                   str(trained))[0] == 0  # fmt: skip
        raced, alone = load_project(out_dir / path.name), load_project(trained)
        assert raced.history["loss"] == alone.history["loss"]
        for key, w in alone.weights.items():
            assert np.array_equal(raced.weights[key], w), key


def test_race_errors_are_one_line(pair: tuple[Path, Path], tmp_path: Path) -> None:
    code, out, err = run("race", str(pair[0]), "--epochs", "1")
    assert code == 2
    assert err == "nndesk race: error: A race takes 2 to 4 network files, not 1.\n"
    five = [str(pair[0])] * 5
    assert "not 5" in run("race", *five)[2]
    big = _spiral(tmp_path, "big", batch_size=64)
    code, _, err = run("race", str(pair[0]), str(big))
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("nndesk race: error: Variant 'big' has batch_size 64")
    other = _spiral(tmp_path, "moons")
    project = load_project(other)
    project.document.set_setting("dataset", "moons:n=200")
    save_project(other, project)
    code, _, err = run("race", str(pair[0]), str(other))
    assert code == 2
    assert "Variant 'moons' trains on 'moons:n=200'" in err
    # One dataset for all with --data.
    code, _, err = run(
        "race", str(pair[0]), str(other), "--data", "moons:n=100", "--epochs", "1"
    )
    assert code == 0, err


def test_race_refuses_a_variant_whose_shape_does_not_fit(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    project = load_project(pair[0])
    project.document.set_param("input_1", "shape", (3,))
    wide = tmp_path / "wide.nndesk"
    save_project(wide, project)
    code, _, err = run("race", str(pair[0]), str(wide), "--epochs", "1")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("nndesk race: error: Variant 'wide': The dataset")
    missing = tmp_path / "nowhere.nndesk"
    code, _, err = run("race", str(pair[0]), str(missing))
    assert code == 2 and "nowhere.nndesk" in err


def test_a_diverging_variant_is_named_under_the_table(tmp_path: Path) -> None:
    from nndesk.document import Document
    from nndesk.io.project_file import Project

    paths = []
    for name, lr, optimizer in (("calm", 0.01, "adam"), ("wild", 10.0, "sgd")):
        doc = Document({"dataset": "sine:n=200", "batch_size": 16, "epochs": 3,
                        "learning_rate": lr, "optimizer": optimizer})  # fmt: skip
        x = doc.add_node("Input", {"shape": (1,)})
        h = doc.add_node("Dense", {"units": 16, "activation": "relu"})
        y = doc.add_node("Dense", {"units": 1, "activation": "linear"})
        out = doc.add_node("Output", {"loss": "mse"})
        for a, b in ((x, h), (h, y), (y, out)):
            doc.connect(a, "out", b, "in")
        paths.append(tmp_path / f"{name}.nndesk")
        save_project(paths[-1], Project(document=doc))
    code, out, err = run("race", *map(str, paths), "-q")
    assert code == 0, err
    row = next(
        line for line in out.splitlines() if line.lstrip("* ").startswith("wild")
    )
    assert row.endswith("diverged")
    assert out.splitlines()[-1].startswith("wild: The loss became NaN or infinite")


def test_out_dir_keeps_variants_of_one_name_apart(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    paths = [_spiral(first, "net"), _spiral(second, "net", optimizer="sgd")]
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, out, err = run("race", *map(str, paths), "--epochs", "1", "-q",
                         "--out-dir", str(out_dir))  # fmt: skip
    assert code == 0, err
    assert str(paths[0]) in out  # the whole path names each variant
    saved = sorted(p.name for p in out_dir.iterdir())
    assert saved == ["1-net.nndesk", "2-net.nndesk"]
    assert (
        load_project(out_dir / "2-net.nndesk").document.settings["optimizer"] == "sgd"
    )
