"""The ``.nndesk`` network file: a zip of JSON and ``.npz`` members, saved atomically
and read without trusting a byte of it.

Layout (documented field by field in docs/file-format.md)::

    metadata.json   {"format": "nndesk", "format_version": 1, "app_version": ...,
                     "created": ISO 8601, "modified": ISO 8601}
    graph.json      the document (nndesk.document.schema), with its own version
    training.json   {"optimizer": name or null, "preprocessing": Scaler dict or null}
    history.json    {"loss": [...], "val_loss": [...], ...} per-epoch metrics
    weights.npz     np.savez of "<node_id>/<param>" -> float array
    optimizer.npz   np.savez of "iterations" and "<node_id>/<param>/<slot>" arrays
    run_state.json  (format 2) what continuing the run exactly needs (nndesk.io.run_state)
    run_state.npz   (format 2) its weight sets: "resume/<key>" and "best/<key>" arrays
    painted.npz     (format 3) the painted 2-D data: "xy", "values", "n_classes"
    vocabulary.json (format 4) {"tokens": [...]}: the text of each token id
    gan.json        (format 5) a GAN's step counters (nndesk.io.gan_state)
    runs.json       (format 6) the training runs side by side (nndesk.io.runs)
    checkpoints.npz (format 6) the timeline's checkpoints, when saved with them
    view.json       (format 7) how the panels were set (nndesk.io.view_state)

Saving validates everything first (so a file that was saved always loads), writes
a temporary file next to the target, syncs it and renames it over the old file.
Loading parses plain data, checks it against size limits before each allocation,
migrates old graphs through the document schema, and checks every array against
the shapes the graph implies. Nothing in a file is ever executed: node types come
from the registry and arrays are loaded with ``allow_pickle=False``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import stat
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..document import Document, GraphView
from ..document.painted import PaintedPoints
from . import _archive
from ._archive import ZipLimits, fail
from ._atomic import remove_temporary, sync_folder
from ._members import (
    FILE_FORMAT_VERSION,
    FORMAT_NAME,
    MAX_EDGES,
    MAX_NODES,
    ProjectMetadata,
    app_version,
    check_optimizer_name,
    check_preprocessing,
    history_to_json,
    parse_graph,
    parse_history,
    parse_metadata,
    parse_training,
    parse_vocabulary,
    utc_now,
    vocabulary_to_json,
)
from ._weights import check_optimizer_state, check_weights, expected_weight_shapes
from .datasets.painted import painted_from_arrays, painted_to_arrays
from .errors import FileFormatError, ProjectSaveError
from .gan_state import check_gan_state
from .run_state import run_state_from_members, run_state_to_members
from .runs import runs_from_members, runs_to_members
from .view_state import check_view_state, parse_view_state

__all__ = [
    "FILE_FORMAT_VERSION",
    "MAX_EDGES",
    "MAX_FILE_SIZE",
    "MAX_NODES",
    "MEMBERS",
    "Project",
    "ProjectMetadata",
    "expected_weight_shapes",
    "load_project",
    "peek_project_metadata",
    "save_project",
]

log = logging.getLogger(__name__)

MEMBERS: tuple[str, ...] = (
    "metadata.json",
    "graph.json",
    "training.json",
    "history.json",
    "weights.npz",
    "optimizer.npz",
    "run_state.json",
    "run_state.npz",
    "painted.npz",
    "vocabulary.json",
    "gan.json",
    "runs.json",
    "checkpoints.npz",
    "view.json",
)
"""Every member a network file may hold, in the order nndesk writes them."""

_RUN_MEMBERS = ("run_state.json", "run_state.npz")
# The first format version that may hold each member (format 1 has the others).
_SINCE = {
    "run_state.json": 2,
    "run_state.npz": 2,
    "painted.npz": 3,
    "vocabulary.json": 4,
    "gan.json": 5,
    "runs.json": 6,
    "checkpoints.npz": 6,
    "view.json": 7,
}

_REQUIRED = ("metadata.json", "graph.json")

MAX_FILE_SIZE = 2 << 30
"""Largest network file opened (2 GiB), and the cap on everything it unpacks to."""

_MiB = 1 << 20
_JSON_CAPS = {
    "metadata.json": 64 << 10,
    "graph.json": 4 * _MiB,
    "training.json": 16 * _MiB,
    "history.json": 16 * _MiB,
    "run_state.json": 64 << 10,
    "vocabulary.json": 16 * _MiB,
    "gan.json": 64 << 10,
    "runs.json": 64 * _MiB,
    "view.json": 4 * _MiB,
}
_MAX_JSON_DEPTH = 32
_MAX_ARRAYS = 20_000
_FILE_LIMITS = ZipLimits(
    max_members=64,  # more than MEMBERS, so a stray member is named, not counted
    max_directory_size=64 << 10,
    max_member_size=MAX_FILE_SIZE,
    max_total_size=MAX_FILE_SIZE,
)
_NPZ_LIMITS = ZipLimits(
    max_members=_MAX_ARRAYS,
    max_directory_size=8 * _MiB,
    max_member_size=MAX_FILE_SIZE,
    max_total_size=MAX_FILE_SIZE,
)
# painted.npz: three arrays of at most 100,000 points (1.6 MB as written).
_PAINTED_CAP = 16 * _MiB
_PAINTED_LIMITS = ZipLimits(
    max_members=8,
    max_directory_size=4 << 10,
    max_member_size=_PAINTED_CAP,
    max_total_size=_PAINTED_CAP,
)


@dataclass(eq=False)
class Project:
    """Everything a network file holds.

    Attributes
    ----------
    document : Document
        The network and its settings (training settings included), and the
        painted data (``document.painted``, the member ``painted.npz``).
    weights : dict[str, np.ndarray]
        Parameters and BatchNorm running statistics keyed ``"<node_id>/<param>"``
        (``"dense_1/kernel"``, ``"batchnorm_1/running_mean"``); float32 (or float64),
        shapes as the graph implies. Empty for an untrained network.
    optimizer_state : dict[str, np.ndarray]
        ``Optimizer.get_state()``: ``"iterations"`` (0-d int64) and slots keyed
        ``"<weight key>/<slot>"``; empty when there is none.
    history : dict[str, list[float]]
        Per-epoch metrics (``"loss"``, ``"val_loss"``, ``"accuracy"``, ...).
    preprocessing : dict or None
        ``Scaler.to_dict()`` of the feature scaling fitted on the training data.
    optimizer_name : str or None
        The optimizer that produced ``optimizer_state`` (the settings may have
        changed since), so a trainer can tell whether the state still applies.
    metadata : ProjectMetadata
        App version and timestamps; ``save_project`` writes its own ``modified``.
    run_state : dict or None
        ``Trainer.run_state()`` of the run that made the weights: what continuing
        it exactly needs (layout in ``nndesk.io.run_state``); None when there is
        none (an untrained network, a file of format 1).
    vocabulary : list of str or None
        For a network trained on token ids (a character dataset): the text of
        each id (``Dataset.vocabulary``), so its inputs and outputs map back to
        text after loading; None otherwise.
    gan_state : dict or None
        For a GAN (docs/gan.md): the step counters and the generator optimizer's
        iteration count (layout in ``nndesk.io.gan_state``); ``weights`` then
        holds both networks and ``optimizer_state`` both optimizers' moments.
    runs : list of dict or None
        The training runs side by side (``name``, ``parent``, ``fork_epoch``,
        ``fork_batch``, ``history``; layout in ``nndesk.io.runs``); written only
        when there is more than one run or there are checkpoints.
    current_run : int
        The run ``weights`` belong to (an index in ``runs``).
    checkpoints : list of dict or None
        Timeline checkpoints saved with the file (``run``, ``epoch``, ``batch``,
        ``batches``, ``step``, ``weights``, ``optimizer_state``, ``run_state``).
    view : dict or None
        How the panels were set (``view.json``, layout in ``nndesk.io.view_state``:
        the Decision Boundary's plane); None for the panels' defaults.
    view_problem : str
        Set by ``load_project`` when the file's ``view.json`` broke a rule: one
        sentence for the user (the file still loads, with ``view`` None).
    """

    document: Document = field(default_factory=Document)
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    optimizer_state: dict[str, np.ndarray] = field(default_factory=dict)
    history: dict[str, list[float]] = field(default_factory=dict)
    preprocessing: dict[str, Any] | None = None
    optimizer_name: str | None = None
    metadata: ProjectMetadata = field(default_factory=ProjectMetadata.new)
    run_state: dict[str, Any] | None = None
    vocabulary: list[str] | None = None
    gan_state: dict[str, Any] | None = None
    runs: list[dict[str, Any]] | None = None
    current_run: int = 0
    checkpoints: list[dict[str, Any]] | None = None
    view: dict[str, Any] | None = None
    view_problem: str = ""


# --- saving ----------------------------------------------------------------------------


def save_project(path: str | os.PathLike[str], project: Project) -> None:
    """Write ``project`` to ``path`` atomically.

    Everything is checked and encoded in memory first; then a temporary file is
    written in the same folder, flushed and synced, and renamed over ``path``. On
    any failure the temporary file is removed and an existing file at ``path`` is
    left untouched. A symbolic link at ``path`` is kept and its target replaced.
    NaN or Inf weights are saved as they are (``load_project`` then refuses them
    unless asked not to).

    Parameters
    ----------
    path : str or os.PathLike
        The ``.nndesk`` file to write.
    project : Project
        What to save; it is not modified.

    Raises
    ------
    ProjectSaveError
        When the contents would not load back (weights that do not fit the graph,
        a history that is not numbers, ...) or the file cannot be written (a
        missing folder, no permission, a full disk), in one sentence.
    """
    name = Path(path).name
    members = _encode(project, name)
    target = Path(os.path.realpath(path))
    _write_atomically(target, members, name)
    log.info("Saved %s (%d weight arrays)", target, len(project.weights))


def _encode(project: Project, name: str) -> list[tuple[str, bytes, int]]:
    """Member name, bytes and zip method of each member, after every check."""
    where = f"Cannot save {name}:"
    doc = project.document
    if not isinstance(doc, GraphView):
        raise ProjectSaveError(f"{where} project.document is not a network document.")
    weights = _arrays_to_save(project.weights, f"{where} project.weights")
    state = _arrays_to_save(project.optimizer_state, f"{where} project.optimizer_state")
    trainable = check_weights(
        doc, weights, f"{where} project.weights", ProjectSaveError, allow_nonfinite=True
    )
    check_optimizer_state(
        state,
        trainable,
        bool(weights),
        f"{where} project.optimizer_state",
        ProjectSaveError,
        allow_nonfinite=True,
    )
    if not all(np.isfinite(a).all() for a in (*weights.values(), *state.values())):
        log.warning("Saving %s with NaN or infinite weights (training diverged)", name)
    training = {
        "optimizer": check_optimizer_name(
            project.optimizer_name, f"{where} project.optimizer_name", ProjectSaveError
        ),
        "preprocessing": check_preprocessing(
            project.preprocessing, f"{where} project.preprocessing", ProjectSaveError
        ),
    }
    history = history_to_json(project.history, f"{where} project.history")
    run: tuple[dict[str, Any], dict[str, np.ndarray]] | None = None
    if project.run_state is not None:
        run = run_state_to_members(
            project.run_state,
            doc,
            weights,
            f"{where} project.run_state",
            ProjectSaveError,
        )
    painted = doc.painted
    has_painted = painted != PaintedPoints.empty()
    vocabulary = None
    if project.vocabulary is not None:
        vocabulary = vocabulary_to_json(
            project.vocabulary, f"{where} project.vocabulary"
        )
    gan = None
    if project.gan_state is not None:
        gan = check_gan_state(
            project.gan_state, f"{where} project.gan_state", ProjectSaveError
        )
    runs = None
    if project.runs is not None and (len(project.runs) > 1 or project.checkpoints):
        runs = runs_to_members(
            project.runs,
            project.current_run,
            project.checkpoints,
            doc,
            f"{where} project.runs",
            ProjectSaveError,
        )
    view = None
    if project.view:
        view = check_view_state(project.view, f"{where} project.view", ProjectSaveError)
    now = utc_now()
    # The oldest format that holds everything, so older nndesk opens what it can.
    version = 3 if has_painted else 2 if run is not None else 1
    version = 4 if vocabulary is not None else version
    metadata = {
        "format": FORMAT_NAME,
        "format_version": (
            7 if view else 6 if runs else 5 if gan is not None else version
        ),
        "app_version": app_version(),
        "created": _created(project).isoformat(),
        "modified": now.isoformat(),
    }
    deflated = zipfile.ZIP_DEFLATED
    members = [
        ("metadata.json", _json_bytes(metadata, where), deflated),
        ("graph.json", _json_bytes(doc.to_dict(), where), deflated),
        ("training.json", _json_bytes(training, where), deflated),
        ("history.json", _json_bytes(history, where, compact=True), deflated),
        # Float data barely compresses; stored members can be checked and read fast.
        ("weights.npz", _npz_bytes(weights), zipfile.ZIP_STORED),
        ("optimizer.npz", _npz_bytes(state), zipfile.ZIP_STORED),
    ]
    n_run = 0
    if run is not None:
        plain, arrays = run
        members.append(("run_state.json", _json_bytes(plain, where), deflated))
        members.append(("run_state.npz", _npz_bytes(arrays), zipfile.ZIP_STORED))
        n_run = len(arrays)
    if has_painted:
        data = _npz_bytes(painted_to_arrays(painted))
        members.append(("painted.npz", data, zipfile.ZIP_STORED))
    if vocabulary is not None:
        members.append(("vocabulary.json", _json_bytes(vocabulary, where), deflated))
    if gan is not None:
        members.append(("gan.json", _json_bytes(gan, where), deflated))
    n_points = 0
    if runs is not None:
        members.append(("runs.json", _json_bytes(runs[0], where), deflated))
        if runs[1]:
            data = _npz_bytes(runs[1])
            members.append(("checkpoints.npz", data, zipfile.ZIP_STORED))
            n_points = len(runs[1])
    if view:
        members.append(("view.json", _json_bytes(view, where), deflated))
    _check_within_limits(
        doc, members, len(weights), max(len(state), n_run, n_points), where
    )
    return members


def _check_within_limits(
    doc: GraphView,
    members: Sequence[tuple[str, bytes, int]],
    n_weights: int,
    n_state: int,
    where: str,
) -> None:
    """Refuse to write what the loader's size limits would refuse to read."""
    if len(doc.nodes) > MAX_NODES or len(doc.edges) > MAX_EDGES:
        raise ProjectSaveError(
            f"{where} the network has {len(doc.nodes):,} nodes and "
            f"{len(doc.edges):,} edges; files hold at most {MAX_NODES:,} and "
            f"{MAX_EDGES:,}."
        )
    if max(n_weights, n_state) > _MAX_ARRAYS:
        raise ProjectSaveError(f"{where} more than {_MAX_ARRAYS:,} arrays to store.")
    for member, data, _ in members:
        cap = _JSON_CAPS.get(member, MAX_FILE_SIZE)
        if len(data) > cap:
            raise ProjectSaveError(
                f"{where} its {member} would be {len(data):,} bytes; files hold at "
                f"most {cap:,}."
            )
    total = sum(len(data) for _, data, _ in members)
    if total > MAX_FILE_SIZE:
        raise ProjectSaveError(
            f"{where} the file would be {total:,} bytes; nndesk opens at most "
            f"{MAX_FILE_SIZE:,}."
        )


def _created(project: Project) -> datetime:
    created = getattr(project.metadata, "created", None)
    return created if isinstance(created, datetime) else utc_now()


def _arrays_to_save(arrays: Any, where: str) -> dict[str, np.ndarray]:
    if not isinstance(arrays, Mapping):
        raise ProjectSaveError(f"{where} must be a dict of arrays.")
    out: dict[str, np.ndarray] = {}
    for key, value in arrays.items():
        if not isinstance(key, str):
            raise ProjectSaveError(f"{where} has the key {key!r}, which is not text.")
        if not isinstance(value, np.ndarray):
            raise ProjectSaveError(
                f"{where} has {key!r} as {type(value).__name__}, not a NumPy array."
            )
        out[key] = value
    return out


def _json_bytes(value: Any, where: str, compact: bool = False) -> bytes:
    try:
        if compact:
            text = json.dumps(value, separators=(",", ":"), allow_nan=False)
        else:
            text = json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ProjectSaveError(
            f"{where} some data cannot be written as JSON ({exc})."
        ) from None
    return text.encode("utf-8") + b"\n"


def _npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    # Every key is "<node>/<param>[/<slot>]" or "iterations" (checked), so none can
    # clash with np.savez's own parameter names, and no dtype is an object dtype.
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _write_atomically(
    target: Path, members: Sequence[tuple[str, bytes, int]], name: str
) -> None:
    folder = target.parent
    if target.is_dir():
        raise ProjectSaveError(
            f"Cannot save {name}: a folder of that name is in the way."
        )
    try:
        fd, temp = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".part", dir=folder
        )
    except FileNotFoundError:
        raise ProjectSaveError(
            f"Cannot save {name}: the folder {folder} does not exist."
        ) from None
    except OSError as exc:
        raise ProjectSaveError(f"Cannot save {name}: {exc.strerror or exc}.") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            _write_zip(f, members)
            f.flush()
            os.fsync(f.fileno())
        _set_mode(temp, target)
        os.replace(temp, target)
    except OSError as exc:
        remove_temporary(temp)
        raise ProjectSaveError(f"Cannot save {name}: {exc.strerror or exc}.") from exc
    except BaseException:
        remove_temporary(temp)
        raise
    sync_folder(folder)


def _write_zip(f: IO[bytes], members: Sequence[tuple[str, bytes, int]]) -> None:
    stamp = datetime.now().timetuple()[:6]
    with zipfile.ZipFile(f, "w") as archive:
        for member, data, method in members:
            info = zipfile.ZipInfo(member, date_time=stamp)
            info.compress_type = method
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Read once at import, on the main thread: os.umask can only be read by setting it.
_UMASK = _current_umask()


def _set_mode(temp: str, target: Path) -> None:
    """Give the new file the old file's permissions (mkstemp makes it private)."""
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        mode = 0o666 & ~_UMASK
    try:
        os.chmod(temp, mode)
    except OSError as exc:  # some network file systems refuse; the save still stands
        log.debug("Could not set the mode of %s: %s", temp, exc)




# --- loading ---------------------------------------------------------------------------


def load_project(
    path: str | os.PathLike[str], *, allow_nonfinite: bool = False
) -> Project:
    """Read a network file, checking everything before it is used.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.nndesk`` file.
    allow_nonfinite : bool
        Accept NaN or Inf in the weights and optimizer state (a diverged training
        saved as it was); by default they are refused.

    Returns
    -------
    Project
        The document (migrated to the current schema), weights and optimizer
        state in native byte order, history, preprocessing and metadata.

    Raises
    ------
    FileFormatError
        One sentence naming the file and the cause, for anything that is not a
        sound network file this version can read: a missing, empty or non-zip
        file, a damaged or hostile archive, invalid JSON, a newer format, an
        unknown node type, weights that do not fit the graph, ...
    NonFiniteWeightsError
        (a FileFormatError) for NaN or Inf arrays when ``allow_nonfinite`` is False.
    """
    name = Path(path).name
    with _archive.open_checked_file(
        Path(path), name, _FILE_LIMITS, MAX_FILE_SIZE
    ) as zf:
        metadata = _read_header(zf, name)
        document = parse_graph(_read_json(zf, "graph.json", name), name)
        training = parse_training(_read_json(zf, "training.json", name, {}), name)
        history = parse_history(_read_json(zf, "history.json", name, {}), name)
        weights = _read_arrays(zf, "weights.npz", name)
        state = _read_arrays(zf, "optimizer.npz", name)
        run_json = _read_json(zf, "run_state.json", name)
        run_arrays = _read_arrays(zf, "run_state.npz", name)
        painted = _read_painted(zf, name)
        vocabulary_json = _read_json(zf, "vocabulary.json", name)
        gan_json = _read_json(zf, "gan.json", name)
        runs_json = _read_json(zf, "runs.json", name)
        points = _read_arrays(zf, "checkpoints.npz", name)
        view, view_problem = _read_view(zf, name)
    vocabulary = None
    if vocabulary_json is not None:
        vocabulary = parse_vocabulary(vocabulary_json, name)
    if painted is not None:
        document.set_painted(painted)
    gan_state = None
    if gan_json is not None:
        gan_state = check_gan_state(gan_json, f"{name}: gan.json", FileFormatError)
    trainable = check_weights(
        document, weights, f"{name}: weights.npz", FileFormatError, allow_nonfinite
    )
    check_optimizer_state(
        state,
        trainable,
        bool(weights),
        f"{name}: optimizer.npz",
        FileFormatError,
        allow_nonfinite,
    )
    run_state = None
    if run_json is not None:
        run_state = run_state_from_members(
            run_json,
            run_arrays,
            document,
            weights,
            name,
            FileFormatError,
            allow_nonfinite,
        )
    runs, current_run, checkpoints = None, 0, None
    if runs_json is not None:
        runs, current_run, checkpoints = runs_from_members(
            runs_json, points, document, name, FileFormatError, allow_nonfinite
        )
    elif points:
        raise fail(name, "has checkpoints.npz but not runs.json.")
    log.info(
        "Loaded %s (%d nodes, %d weight arrays)", name, len(document), len(weights)
    )
    return Project(
        document=document,
        weights=weights,
        optimizer_state=state,
        history=history,
        preprocessing=training["preprocessing"],
        optimizer_name=training["optimizer"],
        metadata=metadata,
        run_state=run_state,
        vocabulary=vocabulary,
        gan_state=gan_state,
        runs=runs,
        current_run=current_run,
        checkpoints=checkpoints,
        view=view,
        view_problem=view_problem,
    )


def _read_view(
    archive: zipfile.ZipFile, name: str
) -> tuple[dict[str, Any] | None, str]:
    """``view.json``: the panels' state, or None and one sentence when it breaks a
    rule (view state never costs the network: the file loads without it)."""
    try:
        raw = _read_json(archive, "view.json", name)
    except FileFormatError as exc:
        return None, f"{exc} The panels show their default views."
    if raw is None:
        return None, ""
    return parse_view_state(raw, f"{name}: view.json")


def peek_project_metadata(path: str | os.PathLike[str]) -> ProjectMetadata:
    """Read only ``metadata.json`` (for an Open Recent list): cheap, still checked.

    Raises
    ------
    FileFormatError
        As ``load_project`` for the archive and the metadata.
    """
    name = Path(path).name
    with _archive.open_checked_file(
        Path(path), name, _FILE_LIMITS, MAX_FILE_SIZE
    ) as zf:
        return _read_header(zf, name)


def _read_header(archive: zipfile.ZipFile, name: str) -> ProjectMetadata:
    """The metadata, after refusing foreign zips, newer formats, then (once the
    version is known) stray or missing members."""
    names = archive.namelist()
    if "metadata.json" not in names:
        raise fail(name, "is not an nndesk network file (it has no metadata.json).")
    # A newer format may add members: its version must be read before names are judged.
    raw = _read_json(archive, "metadata.json", name)
    metadata = parse_metadata(raw, name)
    version = int(raw["format_version"])  # checked by parse_metadata
    for member in names:
        if member not in MEMBERS or version < _SINCE.get(member, 1):
            raise fail(name, f"holds the unexpected member {member!r}.")
    for member in _REQUIRED:
        if member not in names:
            raise fail(name, f"is missing its {member}.")
    present = [m for m in _RUN_MEMBERS if m in names]
    if len(present) == 1:
        other = next(m for m in _RUN_MEMBERS if m not in names)
        raise fail(name, f"has {present[0]} but not {other}.")
    return metadata


def _read_json(
    archive: zipfile.ZipFile, member: str, name: str, default: Any = None
) -> Any:
    if member not in archive.namelist():
        return default
    data = _archive.read_member(archive, member, name, _JSON_CAPS[member])
    return _archive.parse_json(data, f"{name}: {member}", _MAX_JSON_DEPTH)


def _read_painted(archive: zipfile.ZipFile, name: str) -> PaintedPoints | None:
    member = "painted.npz"
    if member not in archive.namelist():
        return None
    arrays = _read_arrays(archive, member, name, _PAINTED_LIMITS, _PAINTED_CAP)
    return painted_from_arrays(arrays, f"{name}: {member}", FileFormatError)


def _read_arrays(
    archive: zipfile.ZipFile,
    member: str,
    name: str,
    limits: ZipLimits = _NPZ_LIMITS,
    cap: int = MAX_FILE_SIZE,
) -> dict[str, np.ndarray]:
    if member not in archive.namelist():
        return {}
    data = _archive.read_member(archive, member, name, cap)
    arrays = _archive.read_npz(data, f"{name}: {member}", limits)
    # Arrays written on a big-endian machine load fine but in foreign byte order.
    return {
        k: a.astype(a.dtype.newbyteorder("="), copy=False) for k, a in arrays.items()
    }
