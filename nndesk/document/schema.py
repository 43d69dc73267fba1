"""The document's data format: to_dict/from_dict, FORMAT_VERSION and migrations.

Format version 1 (what ``graph.json`` in a ``.nndesk`` file holds)::

    {
      "format_version": 1,
      "nodes": [
        {"id": "input_1", "type_name": "Input", "params": {"shape": [2]},
         "pos": [0.0, 0.0], "label": null},
        ...
      ],
      "edges": [
        {"src_node": "input_1", "src_port": "out",
         "dst_node": "dense_1", "dst_port": "in"},
        ...
      ],
      "settings": {"dataset": "spiral:n=400,noise=0.1", "optimizer": "adam", ...}
    }

Nodes and edges keep document order (the edge order is the input order of merge
nodes). Missing params, settings and edges get their defaults, so a file written
before a parameter was added still loads; unknown keys are errors. A file from
before step warm-ups (no ``lr_warmup_steps``) keeps its ``warmup_cosine`` warm-up
in epochs (``settings.settings_of_old_files``). Clipboard data
(``subgraph_to_dict``) has the same layout without ``settings``.

Reading goes: plain data -> ``migrate`` (one function per version step) -> checks ->
``Document``. Every refusal is a ``SchemaError`` naming the source and the place
("graph.json: node 'dense_3' has unknown type 'Dense3'.").

Version 0 is the pre-release layout, kept so the migration chain is exercised::

    {
      "version": 0,
      "nodes": {"dense_1": {"type": "Dense", "params": {...}, "x": 0, "y": 0,
                            "label": null}, ...},
      "edges": [["input_1", "out", "dense_1", "in"], ...],
      "training": {"dataset": "...", "optimizer": "adam", "lr": 0.01,
                   "batch_size": 32, "epochs": 10, "loss": "mse"}
    }

Its nodes are a mapping by id with ``type`` and separate ``x``/``y``; its edges are
4-lists; the learning rate is ``lr``; and the loss is a training setting, which
version 1 moved onto the Output node.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .errors import DocumentError, SchemaError
from .graph import Document
from .groups import Overlay, overlay_from_dict, overlay_to_dict
from .registry import REGISTRY
from .settings import SETTINGS, get_setting_spec, settings_of_old_files
from .view import Edge, GraphView, Node

FORMAT_VERSION = 1
"""The version ``document_to_dict`` writes and ``document_from_dict`` reads."""

_TOP_KEYS = ("format_version", "nodes", "edges", "settings", "groups", "notes")
_NODE_KEYS = ("id", "type_name", "params", "pos", "label")
_EDGE_KEYS = ("src_node", "src_port", "dst_node", "dst_port")


# --- writing ---------------------------------------------------------------------------


def node_to_dict(node: Node) -> dict[str, Any]:
    """One node as plain data (params in schema order, tuples as lists)."""
    spec = node.spec
    return {
        "id": node.id,
        "type_name": node.type_name,
        "params": {p.name: p.to_json(node.params[p.name]) for p in spec.params},
        "pos": [node.pos[0], node.pos[1]],
        "label": node.label,
    }


def edge_to_dict(edge: Edge) -> dict[str, str]:
    """One edge as plain data."""
    return dict(zip(_EDGE_KEYS, edge, strict=True))


def document_to_dict(view: GraphView) -> dict[str, Any]:
    """The whole document (or snapshot) as JSON-compatible data.

    Returns
    -------
    dict
        ``format_version``, ``nodes``, ``edges`` and ``settings`` as described in
        this module's docstring; ``json.dumps`` accepts it as it is.
    """
    return {
        "format_version": FORMAT_VERSION,
        "nodes": [node_to_dict(n) for n in view.nodes],
        "edges": [edge_to_dict(e) for e in view.edges],
        "settings": {s.name: s.to_json(view.settings[s.name]) for s in SETTINGS},
        **overlay_to_dict(_overlay_of(view), view.node_ids),
    }


def subgraph_to_dict(view: GraphView, node_ids: Iterable[str]) -> dict[str, Any]:
    """Chosen nodes (in document order) and the edges among them: clipboard data."""
    chosen = set(node_ids)
    # a group goes along when all of its nodes do; notes stay on the canvas
    whole = Overlay(
        tuple(
            g
            for g in _overlay_of(view).groups
            if set(g.members(view.node_ids)) <= chosen
        )
    )
    return {
        "format_version": FORMAT_VERSION,
        "nodes": [node_to_dict(n) for n in view.nodes if n.id in chosen],
        "edges": [
            edge_to_dict(e)
            for e in view.edges
            if e.src_node in chosen and e.dst_node in chosen
        ],
        **overlay_to_dict(whole, [n for n in view.node_ids if n in chosen], False),
    }


def _overlay_of(view: GraphView) -> Overlay:
    overlay = getattr(view, "overlay", None)
    return overlay if isinstance(overlay, Overlay) else Overlay()


# --- reading ---------------------------------------------------------------------------


def document_from_dict(data: Any, source: str = "graph.json") -> Document:
    """Check, migrate and build a Document from plain data.

    Parameters
    ----------
    data : Any
        Usually ``json.load`` output of a file ``document_to_dict`` wrote, of any
        version back to 0.
    source : str
        How messages name the data (a file name inside the project).

    Raises
    ------
    SchemaError
        For anything that does not fit: wrong types, unknown or missing keys,
        unknown node types, invalid parameter values, duplicate ids, edges to
        missing nodes or ports, a taken single input port, a cycle, a version newer
        than ``FORMAT_VERSION``.
    """
    data = migrate(data, source)
    _check_keys(data, _TOP_KEYS, ("format_version", "nodes"), source, "the top level")
    doc = _build(data, source)
    settings = data.get("settings", {})
    if not isinstance(settings, Mapping):
        raise SchemaError(
            f"{source}: 'settings' must be an object, got {_kind(settings)}."
        )
    for name, value in settings.items():
        try:
            spec = get_setting_spec(name)
        except DocumentError:
            raise SchemaError(f"{source}: unknown setting {name!r}.") from None
        try:
            doc._settings[name] = spec.validate(value, f"{source}: settings")
        except DocumentError as exc:
            raise SchemaError(str(exc)) from None
    doc._settings.update(settings_of_old_files(settings))
    return doc


def parse_subgraph(data: Any, source: str = "clipboard", overlay: bool = False) -> Any:
    """Check clipboard data (``subgraph_to_dict`` or whole-document layout).

    Returns
    -------
    nodes, edges[, overlay]
        Validated node records with their original ids, and the edges among them
        (edges whose ends are not both in the data are refused); with ``overlay``
        also the groups (and notes) of the data.

    Raises
    ------
    SchemaError
        As ``document_from_dict``.
    """
    data = migrate(data, source)
    _check_keys(data, _TOP_KEYS, ("format_version", "nodes"), source, "the top level")
    doc = _build(data, source)
    if overlay:
        return list(doc.nodes), list(doc.edges), doc.overlay
    return list(doc.nodes), list(doc.edges)


def _build(data: Mapping[str, Any], source: str) -> Document:
    doc = Document()
    nodes = data["nodes"]
    if not isinstance(nodes, list):
        raise SchemaError(f"{source}: 'nodes' must be a list, got {_kind(nodes)}.")
    for i, item in enumerate(nodes):
        _add_node(doc, item, i, source)
    edges = data.get("edges", [])
    if not isinstance(edges, list):
        raise SchemaError(f"{source}: 'edges' must be a list, got {_kind(edges)}.")
    for i, item in enumerate(edges):
        _add_edge(doc, item, i, source)
    doc._overlay = overlay_from_dict(data, doc.node_ids, source)
    return doc


def _add_node(doc: Document, item: Any, i: int, source: str) -> None:
    where = f"node {i}"
    if not isinstance(item, Mapping):
        raise SchemaError(f"{source}: {where} must be an object, got {_kind(item)}.")
    node_id = item.get("id")
    if isinstance(node_id, str):
        where = f"node '{node_id}'"
    _check_keys(item, _NODE_KEYS, ("id", "type_name", "pos"), source, where)
    if not isinstance(node_id, str):
        raise SchemaError(f"{source}: {where} has an id that is not text: {node_id!r}.")
    if node_id in doc:
        raise SchemaError(f"{source}: node id '{node_id}' appears twice.")
    type_name = item["type_name"]
    if not isinstance(type_name, str) or type_name not in REGISTRY:
        raise SchemaError(f"{source}: {where} has unknown type {type_name!r}.")
    params = item.get("params", {})
    if not isinstance(params, Mapping):
        raise SchemaError(f"{source}: {where} has params that are not an object.")
    pos = item["pos"]
    if not (
        isinstance(pos, (list, tuple))
        and len(pos) == 2
        and all(_is_number(v) and math.isfinite(v) for v in pos)
    ):
        raise SchemaError(f"{source}: {where} needs 'pos' as two numbers, got {pos!r}.")
    try:
        spec = REGISTRY[type_name]
        checked = spec.check_params(params, f"{source}: {where}")
        doc.add_node(type_name, checked, tuple(pos), item.get("label"), node_id=node_id)
    except DocumentError as exc:
        raise SchemaError(_placed(str(exc), source, where)) from None


def _add_edge(doc: Document, item: Any, i: int, source: str) -> None:
    where = f"edge {i}"
    if not isinstance(item, Mapping):
        raise SchemaError(f"{source}: {where} must be an object, got {_kind(item)}.")
    _check_keys(item, _EDGE_KEYS, _EDGE_KEYS, source, where)
    parts = [item[k] for k in _EDGE_KEYS]
    if not all(isinstance(p, str) for p in parts):
        raise SchemaError(f"{source}: {where} has a node or port that is not text.")
    for end in (parts[0], parts[2]):
        if end not in doc:
            raise SchemaError(f"{source}: {where} refers to missing node '{end}'.")
    reason = doc.can_connect(*parts)
    if reason is not None:
        raise SchemaError(f"{source}: {where} ({Edge(*parts)}) is refused: {reason}")
    doc.connect(*parts)


def _check_keys(
    item: Any,
    allowed: tuple[str, ...],
    required: tuple[str, ...],
    source: str,
    where: str,
) -> None:
    if not isinstance(item, Mapping):
        raise SchemaError(f"{source}: {where} must be an object, got {_kind(item)}.")
    for key in item:
        if key not in allowed:
            raise SchemaError(f"{source}: {where} has unknown key {key!r}.")
    for key in required:
        if key not in item:
            raise SchemaError(f"{source}: {where} is missing the key '{key}'.")


def _placed(message: str, source: str, where: str) -> str:
    """Prefix a document message with the source unless it already names it."""
    if message.startswith(f"{source}:"):
        return message
    return f"{source}, {where}: {message}"


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _kind(v: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a text", bool: "true/false"}
    if v is None:
        return "null"
    for t, name in names.items():
        if isinstance(v, t):
            return name
    return "a number" if _is_number(v) else type(v).__name__


# --- migrations ------------------------------------------------------------------------


def data_version(data: Any, source: str = "graph.json") -> int:
    """The format version of plain document data.

    Raises
    ------
    SchemaError
        If the data is not an object or carries no usable version.
    """
    if not isinstance(data, Mapping):
        raise SchemaError(
            f"{source}: expected an object at the top level, got {_kind(data)}."
        )
    if "format_version" in data:
        version = data["format_version"]
    elif "version" in data:  # version 0 called it "version"
        version = data["version"]
    else:
        raise SchemaError(
            f"{source} has no format_version: it is not an nndesk network."
        )
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise SchemaError(
            f"{source}: format_version must be a whole number, got {version!r}."
        )
    return version


def migrate(data: Any, source: str = "graph.json") -> dict[str, Any]:
    """Bring plain data of any known version up to ``FORMAT_VERSION``.

    The input is not modified. Each step is one function in ``MIGRATIONS``.

    Raises
    ------
    SchemaError
        For data newer than this version of nndesk, or a step that finds the old
        layout broken.
    """
    version = data_version(data, source)
    if version > FORMAT_VERSION:
        raise SchemaError(
            f"{source} uses format {version}, newer than this nndesk reads "
            f"({FORMAT_VERSION}): update nndesk to open it."
        )
    result = copy.deepcopy(dict(data))
    while version < FORMAT_VERSION:
        result = MIGRATIONS[version](result, source)
        version += 1
    return result


def _v0_to_v1(data: dict[str, Any], source: str) -> dict[str, Any]:
    """Version 0 -> 1: nodes list with ``type_name`` and ``pos``, edges as objects,
    ``training`` renamed ``settings`` with ``lr`` -> ``learning_rate``, and the loss
    moved onto the Output node(s)."""
    _check_keys(
        data,
        ("version", "nodes", "edges", "training"),
        ("nodes",),
        source,
        "the top level",
    )
    old_nodes = data["nodes"]
    if not isinstance(old_nodes, Mapping):
        raise SchemaError(f"{source}: version 0 'nodes' must be an object by id.")
    training = data.get("training", {})
    if not isinstance(training, Mapping):
        raise SchemaError(f"{source}: version 0 'training' must be an object.")
    training = dict(training)
    loss = training.pop("loss", None)
    if "lr" in training:
        training["learning_rate"] = training.pop("lr")
    nodes = []
    for node_id, item in old_nodes.items():
        where = f"node '{node_id}'"
        _check_keys(
            item, ("type", "params", "x", "y", "label"), ("type",), source, where
        )
        params = item.get("params", {})
        if not isinstance(params, Mapping):
            raise SchemaError(f"{source}: {where} 'params' must be an object.")
        params = dict(params)
        if item["type"] == "Output" and loss is not None:
            params.setdefault("loss", loss)
        nodes.append(
            {
                "id": node_id,
                "type_name": item["type"],
                "params": params,
                "pos": [item.get("x", 0.0), item.get("y", 0.0)],
                "label": item.get("label"),
            }
        )
    old_edges = data.get("edges", [])
    if not isinstance(old_edges, list):
        raise SchemaError(f"{source}: version 0 'edges' must be a list.")
    edges = []
    for i, e in enumerate(old_edges):
        if not (isinstance(e, list) and len(e) == 4):
            raise SchemaError(
                f"{source}: version 0 edge {i} must be a list of 4 names."
            )
        edges.append(dict(zip(_EDGE_KEYS, e, strict=True)))
    return {"format_version": 1, "nodes": nodes, "edges": edges, "settings": training}


MIGRATIONS: dict[int, Callable[[dict[str, Any], str], dict[str, Any]]] = {
    0: _v0_to_v1,
}
"""``MIGRATIONS[v]`` turns version-v data into version v+1 data."""
