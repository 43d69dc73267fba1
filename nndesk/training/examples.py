"""The example network files shipped as package data, and the code that writes them.

The files in ``nndesk/resources/examples/`` are untrained ``.nndesk`` projects built
from the builders of ``nndesk.document.examples``; ``spiral`` is the network the app
opens with. Regenerate them after changing a builder::

    python -m nndesk.training.examples

A test checks that the committed files hold what the builders make.
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from ..document.examples import DEFAULT_EXAMPLE, EXAMPLES
from ..io.errors import DatasetError
from ..io.project_file import Project, load_project, save_project

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_EXAMPLE",
    "EXAMPLE_NAMES",
    "copy_example",
    "example_path",
    "load_example",
    "write_example_files",
]

EXAMPLE_NAMES: tuple[str, ...] = tuple(EXAMPLES)
"""Names of the example networks, in menu order."""

_PACKAGE = "nndesk.resources.examples"


def _file_name(name: str) -> str:
    return f"{name}.nndesk"


def example_path(name: str) -> Traversable:
    """The packaged file of example ``name`` (e.g. ``"spiral"``).

    Use ``importlib.resources.as_file(example_path(name))`` when a real file-system
    path is needed (a zipped install has none).

    Raises
    ------
    DatasetError
        For an unknown name, listing the known ones.
    """
    if name not in EXAMPLES:
        raise DatasetError(
            f"There is no example network '{name}'; the examples are "
            f"{', '.join(EXAMPLE_NAMES)}."
        )
    return resources.files(_PACKAGE).joinpath(_file_name(name))


def load_example(name: str = DEFAULT_EXAMPLE) -> Project:
    """The example network ``name`` as a Project (the default: the spiral)."""
    with resources.as_file(example_path(name)) as path:
        return load_project(path)


def copy_example(name: str, destination: str | Path = ".") -> Path:
    """Copy example ``name`` to ``destination`` (a folder, or a file path).

    Returns
    -------
    Path
        The file written (``<folder>/<name>.nndesk`` for a folder).
    """
    target = Path(destination)
    if target.is_dir():
        target = target / _file_name(name)
    target.write_bytes(example_path(name).read_bytes())
    return target


def write_example_files(folder: str | Path) -> list[Path]:
    """Write every example network to ``folder`` as ``<name>.nndesk``.

    Returns
    -------
    list of Path
        The files written, in ``EXAMPLE_NAMES`` order.
    """
    folder = Path(folder)
    written = []
    for name, example in EXAMPLES.items():
        path = folder / _file_name(name)
        save_project(path, Project(document=example.build()))
        written.append(path)
    return written


def _package_folder() -> Path:
    return Path(__file__).resolve().parents[1] / "resources" / "examples"


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    logging.basicConfig(level=logging.INFO)
    for path in write_example_files(_package_folder()):
        log.info("wrote %s", path)
