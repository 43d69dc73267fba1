"""Every shell command in README.md is exercised: run here, or by a named test, or by CI.

The README's fenced ``sh`` blocks are the commands a user copies. Each one must be
either run by this module (the command-line tour, the benchmarks), mapped to the
tests that run it (``EXERCISED_BY``, whose test ids must exist), or be ``make test``,
which CI runs. A command added to the README without a test fails here.
"""

from __future__ import annotations

import ast
import csv
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"

PACKAGING = "tests/test_packaging.py::"
WHEEL = [PACKAGING + "test_wheel_and_sdist_install_and_run"]
EXERCISED_BY: dict[str, list[str]] = {
    # `make run` starts run_app([]) after installing; the start-up test calls exactly that.
    "make run": [
        "tests/ui/test_app.py::test_start_up_shows_the_spiral_network_with_its_data_quickly"
    ],
    "make package": [PACKAGING + "test_make_package_builds_a_versioned_archive"],
    "tar -xzf nndesk-0.1.0-linux-x86_64.tar.gz": [
        PACKAGING + "test_make_package_builds_a_versioned_archive"
    ],
    "nndesk/nndesk --self-test": [
        PACKAGING + "test_bundle_self_test_trains_saves_and_reopens"
    ],
    # The bundle's window is the one the self-test opens; run_app is tested from source.
    "nndesk/nndesk": [
        PACKAGING + "test_bundle_self_test_trains_saves_and_reopens",
        "tests/ui/test_app.py::test_start_up_shows_the_spiral_network_with_its_data_quickly",
    ],
    "nndesk/install-desktop-entry.sh": [
        PACKAGING + "test_desktop_entry_installs_for_the_user"
    ],
    "python -m venv ~/nndesk-env": WHEEL,
    "~/nndesk-env/bin/pip install nndesk-0.1.0-py3-none-any.whl": WHEEL,
    "~/nndesk-env/bin/nndesk --version": WHEEL,
    "python -m build": WHEEL,
    "make test-fast": [
        "tests/test_readme.py::test_make_test_fast_runs_the_suite_without_slow"
    ],
    "source .venv/bin/activate": [
        "tests/test_readme.py::test_activating_the_environment_puts_nndesk_on_the_path"
    ],
    "make lint": [
        "tests/test_architecture.py::test_import_contracts_hold",
        "tests/test_readme.py::test_ruff_finds_nothing",
    ],
    "make bench": ["tests/test_readme.py::test_benchmarks_run"],
    ".venv/bin/python benchmarks/canvas_scale.py": [
        "tests/test_readme.py::test_benchmarks_run"
    ],
    ".venv/bin/python benchmarks/gui_training.py": [
        "tests/test_readme.py::test_benchmarks_run"
    ],
    ".venv/bin/python benchmarks/startup.py": [
        "tests/test_readme.py::test_benchmarks_run"
    ],
    ".venv/bin/python benchmarks/memory_peak.py": [
        "tests/test_readme.py::test_benchmarks_run"
    ],
}
RUN_HERE = "tests/test_readme.py::test_readme_command_line_tour_runs"
IS_CI = "make test"  # .ci/run runs it; it runs every test, this module included


def readme_commands() -> list[str]:
    """The commands in the README's ``sh`` blocks, without trailing comments."""
    blocks = re.findall(
        r"^```(?:sh|bash|shell)\n(.*?)^```", README.read_text(), re.M | re.S
    )
    commands = []
    for block in blocks:
        for line in block.splitlines():
            command = line.split("  #")[0].strip()
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


def is_tour_command(command: str) -> bool:
    return command.startswith(("nndesk ", "python -c "))


def test_test_readme_finds_the_commands() -> None:
    commands = readme_commands()
    assert "make run" in commands and "make test" in commands
    assert any(is_tour_command(c) for c in commands)


def test_every_readme_command_is_exercised() -> None:
    unmapped = [
        c
        for c in readme_commands()
        if c != IS_CI and not is_tour_command(c) and c not in EXERCISED_BY
    ]
    assert not unmapped, f"README commands no test runs: {unmapped}"
    stale = set(EXERCISED_BY) - set(readme_commands())
    assert not stale, f"mapped commands no longer in the README: {stale}"


def test_the_mapped_tests_exist() -> None:
    ids = {t for tests in EXERCISED_BY.values() for t in tests} | {RUN_HERE}
    for test_id in sorted(ids):
        path, name = test_id.split("::")
        tree = ast.parse((REPO / path).read_text())
        names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert name in names, f"{test_id} does not exist"


def test_ci_runs_make_test() -> None:
    lines = (REPO / ".ci" / "run").read_text().splitlines()
    assert "make test" in [ln.strip() for ln in lines]


def test_readme_command_line_tour_runs(tmp_path: Path) -> None:
    """The tour's commands, run as written, in an empty folder."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")
    }
    env["PYTHONPATH"] = str(REPO)  # this checkout's nndesk, however pytest was started
    tour = [c for c in readme_commands() if is_tour_command(c)]
    assert len(tour) >= 4
    for command in tour:
        args = shlex.split(command)
        prefix = (
            [sys.executable]
            if args[0] == "python"
            else [sys.executable, "-m", "nndesk"]
        )
        result = subprocess.run(
            [*prefix, *args[1:]],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    summary = subprocess.run(
        [sys.executable, "-m", "nndesk", "summary", "trained.nndesk"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "Trained: 20 epochs" in summary.stdout
    with open(tmp_path / "predictions.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert len(rows) == 1 + 400  # a header, then every sample of the spiral


def test_activating_the_environment_puts_nndesk_on_the_path() -> None:
    """After ``make run``, ``source .venv/bin/activate`` (as the README says) makes
    ``nndesk`` and ``python`` the environment's, from a PATH that has neither."""
    assert (REPO / ".venv" / "bin" / "activate").is_file()
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PATH")}
    env["PATH"] = "/usr/bin:/bin"
    script = (
        "command -v nndesk && exit 3; source .venv/bin/activate && nndesk --version "
        "&& python -c 'import nndesk, sys; print(sys.prefix)'"
    )
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    version, prefix = result.stdout.split()[-2:]
    assert version[0].isdigit()
    assert Path(prefix).resolve() == (REPO / ".venv").resolve()


def test_make_test_fast_runs_the_suite_without_slow() -> None:
    def recipe(target: str) -> str:
        out = subprocess.run(
            ["make", "-n", target],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        (line,) = [ln for ln in out.splitlines() if "-m pytest" in ln]
        return line

    fast, full = recipe("test-fast"), recipe("test")
    assert '-m "not slow"' in fast
    assert fast.replace(' -m "not slow"', "") == full


def test_ruff_finds_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "nndesk", "tests", "benchmarks"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_benchmarks_run() -> None:
    """``make bench`` and the canvas benchmark, on their small settings."""
    runs = {
        "engine_vs_peers.py": ["--quick", "--threads", "1"],
        "canvas_scale.py": ["--nodes", "60", "--edges", "70"],
        "gui_training.py": ["--rounds", "1", "--seconds", "2"],
        "startup.py": ["--runs", "1"],
        "memory_peak.py": [],
    }
    for script, args in runs.items():
        result = subprocess.run(
            [sys.executable, str(REPO / "benchmarks" / script), *args],
            cwd=REPO,
            env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, f"{script}\n{result.stdout}\n{result.stderr}"
        last = json.loads(result.stdout.strip().splitlines()[-1])
        assert last, f"{script} printed an empty result"
    make = subprocess.run(
        ["make", "-n", "bench"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "benchmarks/engine_vs_peers.py" in make.stdout
