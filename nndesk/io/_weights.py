"""Checks that weights and optimizer state fit a graph: keys, shapes, dtypes, values.

The expected shapes come from shape inference and the engine layers' own
``param_shapes``/``state_shapes``, so the rules live where the layers are defined.
The same checks run when saving (raising ProjectSaveError) and when loading
(raising FileFormatError), so a file that was saved always loads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from ..document import GraphView, infer_shapes
from ..engine.errors import NNDeskError
from .errors import NonFiniteWeightsError

__all__ = ["check_optimizer_state", "check_weights", "expected_weight_shapes"]

Shape = tuple[int, ...]

_SLOT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def expected_weight_shapes(view: GraphView) -> dict[str, Shape]:
    """The weight arrays a graph implies: ``"<node_id>/<param>"`` -> shape.

    Trainable parameters and non-trainable state (BatchNorm running statistics)
    of every node whose input shapes are known; nodes with shape errors are left
    out. A caller can keep the weights that still fit after an edit::

        fit = expected_weight_shapes(doc)
        kept = {k: w for k, w in weights.items() if fit.get(k) == w.shape}

    Parameters
    ----------
    view : GraphView
        A Document or Snapshot.

    Returns
    -------
    dict[str, tuple of int]
        In node order, parameters before state within a node.
    """
    params, state, _ = _layout(view)
    return {**params, **state}


def _layout(
    view: GraphView,
) -> tuple[dict[str, Shape], dict[str, Shape], dict[str, str]]:
    """Trainable shapes, state shapes, and why each unknown node is unknown."""
    report = infer_shapes(view)
    params: dict[str, Shape] = {}
    state: dict[str, Shape] = {}
    unknown: dict[str, str] = {}
    for node in view.nodes:
        spec = node.spec
        if spec.layer_type is None:
            continue
        result = report[node.id]
        if not result.ok:
            unknown[node.id] = result.message or "its input shapes are unknown."
            continue
        try:
            layer = spec.build_layer(node.params, node.id)
            assert layer is not None
            inputs = list(result.input_shapes)
            own = layer.param_shapes(inputs)
            buffers = layer.state_shapes(inputs)
        except NNDeskError as exc:
            unknown[node.id] = str(exc)
            continue
        params.update({f"{node.id}/{k}": _shape(s) for k, s in own.items()})
        state.update({f"{node.id}/{k}": _shape(s) for k, s in buffers.items()})
    return params, state, unknown


def _shape(shape: tuple[int, ...]) -> Shape:
    return tuple(int(d) for d in shape)


def check_weights(
    view: GraphView,
    weights: Mapping[str, np.ndarray],
    where: str,
    error: type[Exception],
    allow_nonfinite: bool,
) -> dict[str, Shape]:
    """Check that ``weights`` are exactly the arrays the graph implies.

    Empty weights (an untrained network) always pass. Otherwise the keys must be
    exactly those of ``expected_weight_shapes``: nodes whose shapes are unknown (a
    node dropped on the canvas but not connected yet) must have no weights, all
    other layer nodes all of theirs. Every array must be float32 or float64 (all
    the same) with the expected shape, and finite unless ``allow_nonfinite``.

    Parameters
    ----------
    view : GraphView
        The graph the weights belong to.
    weights : Mapping[str, np.ndarray]
        ``"<node_id>/<param>"`` -> array.
    where : str
        How messages name the weights (``"spiral.nndesk: weights.npz"``); each
        message is ``f"{where} <predicate>."``.
    error : type
        The exception raised for a mismatch (FileFormatError or ProjectSaveError).
    allow_nonfinite : bool
        Accept NaN and Inf values.

    Returns
    -------
    dict[str, tuple of int]
        Shapes of the trainable weights (what optimizer state may refer to).

    Raises
    ------
    error
        For the first problem found, naming the key and both shapes or types.
    NonFiniteWeightsError
        For NaN or Inf, when not allowed.
    """
    params, state, unknown = _layout(view)
    if not weights:
        return params
    expected = {**params, **state}
    for key in expected:
        if key not in weights:
            raise error(f"{where} is missing the array {key!r}.")
    for key in weights:
        if key in expected:
            continue
        node = key.rpartition("/")[0]
        if node in unknown:
            raise error(
                f"{where} holds {key!r}, but the shapes of node '{node}' are unknown: "
                f"{unknown[node]}"
            )
        raise error(f"{where} holds the array {key!r}, which no node of the graph has.")
    first: str | None = None
    for key, want in expected.items():
        array = weights[key]
        if not _is_float(array.dtype):
            raise error(
                f"{where} has {key!r} as {array.dtype}; weights must be float32 or float64."
            )
        if array.shape != want:
            node = key.rpartition("/")[0]
            raise error(
                f"{where} has {key!r} of shape {array.shape}, but node '{node}' needs "
                f"{want}."
            )
        if first is None:
            first = key
        elif array.dtype.itemsize != weights[first].dtype.itemsize:
            raise error(
                f"{where} has {key!r} as {array.dtype} but {first!r} as "
                f"{weights[first].dtype}; all weights must share one type."
            )
        _check_finite(array, key, where, allow_nonfinite)
    return params


def check_optimizer_state(
    state: Mapping[str, np.ndarray],
    trainable: Mapping[str, Shape],
    has_weights: bool,
    where: str,
    error: type[Exception],
    allow_nonfinite: bool,
) -> None:
    """Check optimizer state against the trainable weights it belongs to.

    Valid state is empty, or holds ``"iterations"`` (a 0-d non-negative integer)
    and ``"<weight key>/<slot>"`` arrays for trainable weights: float arrays of the
    weight's shape (moments) or 0-d non-negative integers (per-weight step
    counters).

    Raises
    ------
    error
        For the first problem, naming the key.
    NonFiniteWeightsError
        For NaN or Inf, when not allowed.
    """
    if not state:
        return
    if not has_weights:
        raise error(f"{where} holds optimizer state but the network has no weights.")
    if "iterations" not in state:
        raise error(f"{where} is missing the array 'iterations'.")
    for key, array in state.items():
        if key == "iterations":
            _check_counter(array, key, where, error)
            continue
        weight, _, slot = key.rpartition("/")
        if weight not in trainable or not _SLOT_RE.match(slot):
            raise error(
                f"{where} holds {key!r}, which is not '<weight>/<slot>' for a trainable "
                "weight of the graph."
            )
        if _is_float(array.dtype):
            if array.shape != trainable[weight]:
                raise error(
                    f"{where} has {key!r} of shape {array.shape}, but its weight "
                    f"{weight!r} has shape {trainable[weight]}."
                )
            _check_finite(array, key, where, allow_nonfinite)
        else:
            _check_counter(array, key, where, error)


def _is_float(dtype: np.dtype) -> bool:
    """float32 or float64 in either byte order."""
    return dtype.kind == "f" and dtype.itemsize in (4, 8)


def _check_counter(
    array: np.ndarray, key: str, where: str, error: type[Exception]
) -> None:
    if array.dtype.kind not in "iu" or array.shape != () or int(array) < 0:
        raise error(
            f"{where} has {key!r} as {array.dtype} of shape {array.shape}; a step count "
            "must be one whole number of at least 0."
        )


def _check_finite(array: np.ndarray, key: str, where: str, allow: bool) -> None:
    if not allow and not np.isfinite(array).all():
        raise NonFiniteWeightsError(
            f"{where} has NaN or infinite values in {key!r} (the training that saved "
            "it diverged)."
        )
