"""The plain-data members of a network file: metadata, graph, training and history.

Each ``parse_*`` turns parsed JSON into checked values or raises one
``FileFormatError`` naming the file and member; the save side uses the same checks
(with ``ProjectSaveError``), so what is written is what the loader accepts.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from numbers import Real
from typing import Any

from .._version import __version__
from ..document import Document, DocumentError
from ..document.schema import FORMAT_VERSION as GRAPH_FORMAT_VERSION
from ..document.schema import data_version
from ..engine.optimizers import OPTIMIZERS
from ._archive import fail
from ._values import check_keys, short
from .datasets.preprocess import Scaler
from .errors import DatasetError, FileFormatError, ProjectSaveError

__all__ = [
    "FILE_FORMAT_VERSION",
    "FORMAT_NAME",
    "MAX_EDGES",
    "MAX_NODES",
    "ProjectMetadata",
    "app_version",
    "check_optimizer_name",
    "check_preprocessing",
    "history_to_json",
    "parse_graph",
    "parse_history",
    "parse_metadata",
    "parse_training",
    "parse_vocabulary",
    "utc_now",
    "vocabulary_to_json",
]

log = logging.getLogger(__name__)

FILE_FORMAT_VERSION = 7
"""Newest version of the container layout (``metadata.json`` ``format_version``)
this build reads and writes: 2 adds the run state (``run_state.json`` and
``run_state.npz``), 3 the painted data (``painted.npz``), 4 the vocabulary of a
network trained on token ids (``vocabulary.json``), 5 a GAN's step counters
(``gan.json``), 6 the training runs side by side and the timeline's checkpoints
(``runs.json``, ``checkpoints.npz``), 7 the panels' view state (``view.json``:
the Decision Boundary's plane); a file is written as the
oldest version that holds what it has (1 without any of them)."""

MAX_VOCABULARY = 100_000
"""Most tokens a stored vocabulary may have (as many as a dataset has classes)."""
_MAX_TOKEN = 256  # characters of one token

FORMAT_NAME = "nndesk"
"""The ``format`` value of ``metadata.json``; tells a network file from a foreign zip."""


MAX_NODES = 1000
"""Most nodes a graph may have to be opened."""

MAX_EDGES = 2000
"""Most edges a graph may have: building the document checks each for a cycle, so
the cost grows with edges times graph size; this keeps the worst order under 1 s."""

_NONFINITE_TEXT = {
    "NaN": float("nan"),
    "Infinity": float("inf"),
    "-Infinity": -float("inf"),
}
_MAX_NAME = 200


def app_version() -> str:
    """The running nndesk's version (what a saved file records)."""
    return __version__


def utc_now() -> datetime:
    """Now, in UTC, to the second (how files record times)."""
    return datetime.now(timezone.utc).replace(microsecond=0)


@dataclass(frozen=True)
class ProjectMetadata:
    """Who wrote a network file and when.

    Attributes
    ----------
    app_version : str
        The nndesk version that last saved the file.
    created : datetime
        When the project was first saved (timezone-aware, UTC).
    modified : datetime
        When it was last saved (timezone-aware, UTC).
    """

    app_version: str
    created: datetime
    modified: datetime

    @classmethod
    def new(cls) -> ProjectMetadata:
        """Metadata of a project made now by this version of nndesk."""
        now = utc_now()
        return cls(app_version(), now, now)


def parse_metadata(data: Any, name: str) -> ProjectMetadata:
    """Check ``metadata.json`` of file ``name``: an nndesk file of a version this
    build reads (checked before its keys, which a newer format may extend)."""
    where = f"{name}: metadata.json"
    if not isinstance(data, dict):
        raise fail(where, "must hold a JSON object.")
    if data.get("format") != FORMAT_NAME:
        raise fail(
            name, "is not an nndesk network file (metadata.json names another format)."
        )
    version = data.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise fail(where, f"has no valid format_version (got {short(version)}).")
    if version > FILE_FORMAT_VERSION:
        raise _newer(name, "format", version, FILE_FORMAT_VERSION)
    check_keys(
        data,
        ("format", "format_version", "app_version", "created", "modified"),
        (),
        where,
        FileFormatError,
    )
    writer = data.get("app_version")
    if not isinstance(writer, str) or not 0 < len(writer) <= 64:
        raise fail(where, f"has no valid app_version (got {short(writer)}).")
    return ProjectMetadata(
        writer,
        _parse_time(data.get("created"), "created", where),
        _parse_time(data.get("modified"), "modified", where),
    )


def _parse_time(value: Any, key: str, where: str) -> datetime:
    if isinstance(value, str) and len(value) <= 64:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if moment.tzinfo is None:  # a writer that forgot the zone meant UTC
                moment = moment.replace(tzinfo=timezone.utc)
            return moment
    raise fail(
        where, f"has no valid {key} time (ISO 8601 expected, got {short(value)})."
    )


def _newer(name: str, what: str, version: int, supported: int) -> FileFormatError:
    return fail(
        name,
        f"was made by a newer nndesk ({what} {version}; this build reads up to "
        f"{supported}): update nndesk to open it.",
    )


def parse_graph(data: Any, name: str) -> Document:
    """Build the document of ``graph.json``: version check, size limits, then the
    document schema (migration, node types from the registry, every check)."""
    where = f"{name}: graph.json"
    try:
        version = data_version(data, where)
    except DocumentError as exc:
        raise FileFormatError(str(exc)) from None
    if version > GRAPH_FORMAT_VERSION:
        raise _newer(name, "graph format", version, GRAPH_FORMAT_VERSION)
    nodes, edges = data.get("nodes"), data.get("edges")
    if isinstance(nodes, (list, dict)) and len(nodes) > MAX_NODES:
        raise fail(
            where, f"has {len(nodes):,} nodes; nndesk opens at most {MAX_NODES:,}."
        )
    if isinstance(edges, list) and len(edges) > MAX_EDGES:
        raise fail(
            where, f"has {len(edges):,} edges; nndesk opens at most {MAX_EDGES:,}."
        )
    try:
        return Document.from_dict(data, source=where)
    except DocumentError as exc:
        raise FileFormatError(str(exc)) from None
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        # The schema answers malformed data with SchemaError; should it miss a case,
        # the file still gets one clear error, and the log keeps the bug visible.
        log.warning("graph.json slipped past the schema checks", exc_info=True)
        raise fail(where, f"does not describe a network ({short(str(exc))}).") from None


def parse_training(data: Any, name: str) -> dict[str, Any]:
    """``training.json`` as ``{"optimizer": str | None, "preprocessing": dict | None}``."""
    where = f"{name}: training.json"
    if not isinstance(data, dict):
        raise fail(where, "must hold a JSON object.")
    check_keys(data, ("optimizer", "preprocessing"), (), where, FileFormatError)
    return {
        "optimizer": check_optimizer_name(
            data.get("optimizer"), f"{where} optimizer", FileFormatError
        ),
        "preprocessing": check_preprocessing(
            data.get("preprocessing"), f"{where} preprocessing", FileFormatError
        ),
    }


def check_optimizer_name(value: Any, where: str, error: type[Exception]) -> str | None:
    """``value`` if it is None or an optimizer name of the engine, else ``error``."""
    if value is None or (isinstance(value, str) and value in OPTIMIZERS):
        return value
    raise error(
        f"{where} names {short(value)}, which is not an optimizer of this nndesk "
        f"({', '.join(OPTIMIZERS)})."
    )


def check_preprocessing(value: Any, where: str, error: type[Exception]) -> Any:
    """``value`` if it is None or data ``Scaler.from_dict`` accepts, else ``error``."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise error(f"{where} must be null or scaling statistics, got {short(value)}.")
    try:
        Scaler.from_dict(value)
    except DatasetError as exc:
        raise error(f"{where} is not usable: {exc}") from None
    return value


def parse_history(data: Any, name: str) -> dict[str, list[float]]:
    """``history.json`` as metric -> floats (``"NaN"``/``"Infinity"`` texts decoded)."""
    where = f"{name}: history.json"
    if not isinstance(data, dict):
        raise fail(where, "must hold a JSON object of metric lists.")
    history: dict[str, list[float]] = {}
    for metric, values in data.items():
        if not 0 < len(metric) <= _MAX_NAME:
            raise fail(where, f"has a metric name of {len(metric)} characters.")
        if not isinstance(values, list):
            raise fail(where, f"has {metric!r} as {short(values)}, not a list.")
        history[metric] = [
            _history_value(v, metric, i, where) for i, v in enumerate(values)
        ]
    return history


def _history_value(value: Any, metric: str, epoch: int, where: str) -> float:
    if isinstance(value, str) and value in _NONFINITE_TEXT:
        return _NONFINITE_TEXT[value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            pass
    raise fail(
        where, f"has {short(value)} at epoch {epoch} of {metric!r}, not a number."
    )


def history_to_json(history: Any, where: str) -> dict[str, list[float | str]]:
    """A project's history as standard JSON (non-finite values as texts).

    Raises
    ------
    ProjectSaveError
        For a name that is not 1-200 characters of text, or a value that is not a
        real number.
    """
    if not isinstance(history, Mapping):
        raise ProjectSaveError(f"{where} must be a dict of metric lists.")
    out: dict[str, list[float | str]] = {}
    for metric, values in history.items():
        if not isinstance(metric, str) or not 0 < len(metric) <= _MAX_NAME:
            raise ProjectSaveError(f"{where} has the metric name {metric!r}.")
        try:
            items = list(values)
        except TypeError:
            items = [values]
        if not all(isinstance(v, Real) and not isinstance(v, bool) for v in items):
            raise ProjectSaveError(
                f"{where} has {metric!r} with values that are not numbers."
            )
        out[metric] = [_json_number(float(v)) for v in items]
    return out


def _json_number(value: float) -> float | str:
    if value != value:
        return "NaN"
    if value in (float("inf"), -float("inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def parse_vocabulary(data: Any, name: str) -> list[str]:
    """``vocabulary.json`` (``{"tokens": [str, ...]}``) as the list of tokens."""
    where = f"{name}: vocabulary.json"
    if not isinstance(data, dict):
        raise fail(where, "must hold a JSON object.")
    check_keys(data, ("tokens",), ("tokens",), where, FileFormatError)
    return check_vocabulary(data["tokens"], where, FileFormatError)


def vocabulary_to_json(tokens: Any, where: str) -> dict[str, list[str]]:
    """A project's vocabulary as the content of ``vocabulary.json``.

    Raises
    ------
    ProjectSaveError
        For anything ``parse_vocabulary`` would refuse.
    """
    return {"tokens": check_vocabulary(tokens, where, ProjectSaveError)}


def check_vocabulary(tokens: Any, where: str, error: type[Exception]) -> list[str]:
    """``tokens`` as a list if it is 1..``MAX_VOCABULARY`` distinct non-empty texts
    of at most 256 characters, else ``error`` naming the first bad one."""
    if not isinstance(tokens, (list, tuple)) or not tokens:
        raise error(f"{where} must be a non-empty list of tokens, got {short(tokens)}.")
    if len(tokens) > MAX_VOCABULARY:
        raise error(
            f"{where} has {len(tokens):,} tokens; nndesk reads at most "
            f"{MAX_VOCABULARY:,}."
        )
    seen: set[str] = set()
    for i, token in enumerate(tokens):
        if not isinstance(token, str) or not 0 < len(token) <= _MAX_TOKEN:
            raise error(
                f"{where} has {short(token)} as token {i}; tokens are texts of 1 to "
                f"{_MAX_TOKEN} characters."
            )
        if token in seen:
            raise error(f"{where} has the token {token!r} twice (at {i}).")
        seen.add(token)
    return list(tokens)
