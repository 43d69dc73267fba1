"""The layering rules of STYLE.md, checked mechanically."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nndesk

ROOT = Path(__file__).resolve().parents[1]


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def test_import_contracts_hold() -> None:
    """import-linter: ui|cli -> training -> io -> document -> engine; Qt only in ui."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_import_nndesk_loads_no_qt_and_no_numba() -> None:
    result = _run_python(
        """
        import sys
        import nndesk, nndesk.cli
        bad = sorted(m for m in sys.modules
                     if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'numba'))
        print(bad)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def _non_ui_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(nndesk.__path__, prefix="nndesk."):
        if info.name.startswith("nndesk.ui") or info.name == "nndesk.__main__":
            continue
        names.append(info.name)
    return names


def test_every_non_ui_module_imports_without_qt() -> None:
    """Like napari's headless env: with PySide6 unimportable, all non-ui code loads."""
    modules = _non_ui_modules()
    assert "nndesk.engine.layers.base" in modules
    result = _run_python(
        f"""
        import importlib, sys
        class _Block:
            def find_spec(self, name, path=None, target=None):
                if name.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph'):
                    raise ImportError('Qt is blocked in this test: ' + name)
        sys.meta_path.insert(0, _Block())
        for name in {modules!r}:
            importlib.import_module(name)
        print('ok')
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_version_from_command_line() -> None:
    result = _run_python("from nndesk.__main__ import main; main(['--version'])")
    assert result.stdout.strip() == f"nndesk {nndesk.__version__}"
    result = subprocess.run(
        [sys.executable, "-m", "nndesk", "--version"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"nndesk {nndesk.__version__}"
