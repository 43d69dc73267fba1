"""NumPy-only looks inside a training model for the live panels (no Qt here).

The worker thread calls these between batches, on the model it trains, and sends
the results (fresh arrays, never views of the model's buffers) to the GUI thread:

- ``describe_model``: the layer columns the network view draws.
- ``Prober.probe``: weights, weight and gradient histograms, the activations of one
  sample and the mean over a fixed batch, and for 2-D inputs the model's output
  (and each hidden unit's activation) over a grid of the input plane.
- ``evaluate_model``: confusion matrix, per-class report and ROC curves, or the
  predicted-vs-actual points with R², MAE and RMSE.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nndesk.engine import metrics
from nndesk.engine.layers import LAYER_TYPES
from nndesk.engine.model import Model
from nndesk.io.datasets import Dataset
from nndesk.training import attention_views, explain, planes, sequence_views
from nndesk.training.compile import CompiledNetwork, compile_network
from nndesk.training.data import PreparedData
from nndesk.training.session import TrainingSession

__all__ = [
    "PASS_THROUGH",
    "Evaluation",
    "GridResult",
    "LayerInfo",
    "ModelInfo",
    "ProbeResult",
    "Prober",
    "describe_model",
    "evaluate_model",
    "histogram",
    "session_prober",
]

PASS_THROUGH = tuple(name for name, cls in LAYER_TYPES.items() if cls.pass_through)
"""Layer types the network view folds into their input (they only move values:
their engine class is ``pass_through``)."""

HIST_BINS = 40
HIST_SAMPLE = 50_000
"""Largest number of values a histogram counts (a regular subsample beyond it)."""
MAX_HIDDEN_MAPS = 16
"""Per-unit decision maps shown per hidden layer (the first units)."""
PLANE_GRID_SIZE = 40
PLANE_GRID_SIZE_SPATIAL = 24
"""Points per side of the decision grid on a plane through a many-input space
(2-D inputs keep their 64), for networks without and with convolutions: a grid
point costs as much as a sample (``benchmarks/boundary_planes.py``). Measured on
Fashion-MNIST: the MLP's probe took 4-13 ms with its 1,600 points; the CNN's
probe 59 ms of CPU without a grid and 123 ms with 576 points (167 ms of wall time
with 1,600); the worker's adaptive interval keeps either at 2% of the time."""
MAX_CURVE_POINTS = 300
MAX_SCATTER_POINTS = 4000
MAX_IMPORTANCE_SAMPLES = 1000
MAX_IMPORTANCE_FEATURES = 100
IMPORTANCE_ROWS = 60_000
"""Feature importance is computed for tabular inputs of at most
``MAX_IMPORTANCE_FEATURES`` columns, on at most ``MAX_IMPORTANCE_SAMPLES`` of the
evaluated samples and fewer for many columns: its shuffles predict about this many
rows in all (100 columns: 200 samples), so an evaluation with it stays cheap (a
100-column network's took 316 ms on 1,000 samples, 38 ms without it)."""


@dataclass(frozen=True)
class LayerInfo:
    """One column of the network view.

    Attributes
    ----------
    name : str
        Layer name (the node id).
    kind : str
        Engine layer type (``"Dense"``, ``"Input"``, ...).
    units : int
        Width of the output per sample (all axes flattened).
    inputs : tuple of str
        Names of the columns feeding it (pass-through layers skipped).
    kernel, bias : str or None
        Weight keys (``"<name>/kernel"``) of a Dense layer, else None.
    activation : str or None
        Activation name of a Dense or Activation layer.
    is_output : bool
        Whether it is the model's prediction.
    shape : tuple of int
        Per-sample output shape (``(h, w, c)`` for a convolution or pooling layer).
    """

    name: str
    kind: str
    units: int
    inputs: tuple[str, ...] = ()
    kernel: str | None = None
    bias: str | None = None
    activation: str | None = None
    is_output: bool = False
    shape: tuple[int, ...] = ()

    @property
    def is_spatial(self) -> bool:
        """Its output is channels of maps, ``(h, w, c)``, computed from inputs."""
        return len(self.shape) == 3 and bool(self.inputs)


@dataclass(frozen=True)
class ModelInfo:
    """What the panels need to know about a model and its data.

    Attributes
    ----------
    layers : tuple of LayerInfo
        The displayed columns in topological order, the Input first.
    input_shape : tuple of int
        Per-sample input shape.
    task : str
        ``"classification"`` or ``"regression"``.
    loss : str
        Canonical loss name.
    class_names : tuple of str
        Class names (empty for regression).
    feature_names : tuple of str
        Names of the input columns of tabular data (empty otherwise).
    sequence : bool
        The model reads sequences (token ids, recurrent or attention layers).
    """

    layers: tuple[LayerInfo, ...]
    input_shape: tuple[int, ...]
    task: str = "classification"
    loss: str = ""
    class_names: tuple[str, ...] = ()
    feature_names: tuple[str, ...] = ()
    sequence: bool = False

    @property
    def is_image(self) -> bool:
        """Inputs are pictures: ``(h, w)`` or ``(h, w, 1|3)``."""
        s = self.input_shape
        return len(s) == 2 or (len(s) == 3 and s[-1] in (1, 3))

    @property
    def is_tabular(self) -> bool:
        """Inputs are rows of feature columns (feature importance applies)."""
        return len(self.input_shape) == 1

    @property
    def spatial(self) -> tuple[LayerInfo, ...]:
        """Columns whose outputs are maps (convolution, pooling), in order."""
        return tuple(layer for layer in self.layers if layer.is_spatial)

    @property
    def is_plane(self) -> bool:
        """Inputs are points of a plane (a decision boundary can be drawn)."""
        return self.input_shape == (2,)

    @property
    def takes_planes(self) -> bool:
        """Inputs of more than two real values: a decision boundary is drawn on a
        plane through the input space (``training.planes``)."""
        size = int(np.prod(self.input_shape, dtype=np.int64))
        return not self.is_plane and not self.sequence and size >= 2

    @property
    def output(self) -> LayerInfo:
        """The prediction column."""
        return self.layers[-1]

    @property
    def hidden(self) -> tuple[LayerInfo, ...]:
        """Columns between the input and the prediction that compute something."""
        return tuple(
            layer
            for layer in self.layers[1:]
            if not layer.is_output and layer.units > 0
        )

    def layer(self, name: str) -> LayerInfo:
        """The column called ``name`` (KeyError naming it otherwise)."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"The network view has no layer '{name}'.")


def describe_network(net: CompiledNetwork, dataset: Dataset) -> ModelInfo:
    """``describe_model`` of a compiled network for the dataset it trains on."""
    return describe_model(
        net.model,
        task=dataset.task,
        loss=net.loss,
        class_names=dataset.class_names or (),
        feature_names=dataset.feature_names or (),
    )


def session_prober(
    session: TrainingSession, data: PreparedData, dataset: Dataset
) -> Prober:
    """A Prober of a session's model on its prepared training data (its ``info``
    describes the network for ``dataset``); seeded by the network's seed."""
    return Prober(
        session.model,
        describe_network(session.net, dataset),
        data.x_train,
        data.y_train,
        seed=int(session.settings["seed"]),
        vocabulary=dataset.vocabulary,
        ablator=_head_ablator(session, data),
        sampler=_text_sampler(session, data, dataset),
    )


def _text_sampler(
    session: TrainingSession, data: PreparedData, dataset: Dataset
) -> sequence_views.TextSampler | None:
    """Text sampling off the training thread, on a model compiled from the
    session's snapshot on first use (a character model's inputs are token ids)."""
    if not dataset.vocabulary or data.x_train.ndim != 2:
        return None
    snapshot = session.snapshot
    return sequence_views.TextSampler(
        lambda: compile_network(snapshot).model,
        dataset.vocabulary,
        int(data.x_train.shape[1]),
    )


def _head_ablator(
    session: TrainingSession, data: PreparedData
) -> attention_views.HeadAblator | None:
    """Head ablation for a network with attention and a softmax over classes
    (sparse labels), scored on the validation data (the training data without)."""
    if (
        not attention_views.attention_layers(session.model)
        or session.net.loss != "sparse_categorical_crossentropy"
    ):
        return None
    split = "validation" if data.validation_data is not None else "training"
    x, y = data.validation_data or (data.x_train, data.y_train)
    snapshot = session.snapshot
    return attention_views.HeadAblator(
        lambda: compile_network(snapshot).model, x, y, split=split
    )


def describe_model(
    model: Model,
    *,
    task: str = "classification",
    loss: str = "",
    class_names: Sequence[str] = (),
    feature_names: Sequence[str] = (),
) -> ModelInfo:
    """The columns of ``model`` as the network view draws them.

    Pass-through layers (Flatten, Reshape, Dropout) are folded into the column
    that feeds them; every other layer is a column.
    """
    alias: dict[str, str] = {}
    columns: list[LayerInfo] = []
    (output,) = model.output_names
    for layer in model.layers:
        name = str(layer.name)
        inputs = tuple(dict.fromkeys(alias[src.name] for src in layer.inbound))  # type: ignore[index]
        if layer.pass_through and len(inputs) == 1 and name != output:
            alias[name] = inputs[0]
            continue
        alias[name] = name
        has_kernel = "kernel" in layer.params
        shape = tuple(int(d) for d in model.output_shape_of(name))
        columns.append(
            LayerInfo(
                name=name,
                kind=layer.type_name,
                units=int(np.prod(shape, dtype=np.int64)),
                inputs=inputs,
                kernel=f"{name}/kernel" if has_kernel else None,
                bias=f"{name}/bias" if "bias" in layer.params else None,
                activation=getattr(layer, "activation_name", None),
                is_output=name == output,
                shape=shape,
            )
        )
    return ModelInfo(
        layers=tuple(columns),
        input_shape=tuple(int(d) for d in model.input_shapes[0]),
        task=task,
        loss=loss,
        class_names=tuple(str(c) for c in class_names),
        feature_names=tuple(str(f) for f in feature_names),
        sequence=bool(
            any(layer.needs_integer_input for layer in model.layers)
            or sequence_views.recurrent_layers(model)
            or attention_views.attention_layers(model)
        ),
    )


# --- probes -----------------------------------------------------------------------------


Histogram = tuple[np.ndarray, np.ndarray]
"""``(edges, counts)`` of one histogram."""


def histogram(
    values: np.ndarray, bins: int = HIST_BINS
) -> tuple[np.ndarray, np.ndarray]:
    """Counts of the finite ``values`` in ``bins`` equal bins over their range.

    Beyond ``HIST_SAMPLE`` values, a regular subsample is counted (the counts are
    then those of the subsample).

    Returns
    -------
    edges : np.ndarray
        ``(bins + 1,)`` float64.
    counts : np.ndarray
        ``(bins,)`` float64 (a constant array gets one bin of width 1e-3 around it).
    """
    flat = np.asarray(values).reshape(-1)
    if flat.size > HIST_SAMPLE:
        # A strided subsample keeps the shape of the distribution at a fraction
        # of the cost (the worker probes between batches).
        flat = flat[:: -(-flat.size // HIST_SAMPLE)]
    flat = flat[np.isfinite(flat)]
    if flat.size == 0:
        return np.linspace(-1.0, 1.0, bins + 1), np.zeros(bins)
    flat = flat.astype(np.float64, copy=False)
    lo, hi = float(flat.min()), float(flat.max())
    if hi - lo < 1e-12:
        lo, hi = lo - 5e-4, hi + 5e-4
    counts, edges = np.histogram(flat, bins=bins, range=(lo, hi))
    return edges, counts.astype(np.float64)


@dataclass
class GridResult:
    """The model over a grid of the input plane (2-D inputs), or of a plane through
    the input space (``planes.Plane``) for any other input.

    Attributes
    ----------
    extent : tuple of float
        ``(x_min, x_max, y_min, y_max)`` of the grid in model-input coordinates
        (in the plane's coordinates for a ``plane``).
    output : np.ndarray
        ``(g, g)`` for one output (probability or value), ``(g, g, k)`` for k class
        probabilities; row ``i`` is ``y`` index ``i``, column ``j`` is ``x`` index ``j``.
    hidden : dict
        Layer name -> ``(m, g, g)`` activations of its first ``m`` units (layers
        whose outputs are maps are left out).
    plane : Plane or None
        The plane the grid lies on (None: the 2-D input plane itself).
    """

    extent: tuple[float, float, float, float]
    output: np.ndarray
    hidden: dict[str, np.ndarray] = field(default_factory=dict)
    plane: planes.Plane | None = None


@dataclass
class ProbeResult:
    """One look at the model, sent from the worker to the panels.

    Attributes
    ----------
    epoch : int
        The epoch under way (0-based).
    step : float
        Position in epochs (``epoch + batches done / batches``).
    weights : dict
        ``"<layer>/<param>"`` -> a copy of every parameter and state array.
    weight_hist, grad_hist : dict
        Layer name -> ``(edges, counts)`` over all its parameters / gradients
        (``grad_hist`` is empty when the model computed no gradients).
    sample_index : int
        Index (in the training data) of the probed sample.
    sample : np.ndarray
        That sample, ``input_shape``, as the model sees it.
    activations, mean_activations : dict
        Column name -> ``(units,)`` output for the sample / mean over the probe batch.
    grid : GridResult or None
        For 2-D inputs only.
    target : str
        The sample's true class name or value ("" when unknown).
    channel_peaks : dict
        Spatial column name -> ``(channels,)`` each channel's largest value over
        the probe batch (at most 0: the filter never fires on it).
    saliency : explain.Saliency or None
        Saliency maps and Grad-CAM of the sample (image inputs only).
    pool : tuple of np.ndarray or None
        ``(indices, true, predicted)`` of the probe batch (classification): the
        training indices and their true and predicted class, to pick a sample by
        its confusion-matrix cell.
    sequence : SequenceProbe or None
        The recurrent views (``training.sequence_views``) of a model with
        recurrent layers.
    attention : AttentionProbe or None
        The attention maps and per-head entropy (``training.attention_views``)
        of a model with attention layers.
    ablator : HeadAblator or None
        Scores the validation data with heads muted, on a model of its own
        (``weights`` are the ones to score).
    sampler : TextSampler or None
        Samples a character model's text from ``weights`` on a model of its own.
    """

    epoch: int
    step: float
    weights: dict[str, np.ndarray]
    weight_hist: dict[str, tuple[np.ndarray, np.ndarray]]
    grad_hist: dict[str, tuple[np.ndarray, np.ndarray]]
    sample_index: int
    sample: np.ndarray
    activations: dict[str, np.ndarray]
    mean_activations: dict[str, np.ndarray]
    grid: GridResult | None = None
    target: str = ""
    channel_peaks: dict[str, np.ndarray] = field(default_factory=dict)
    saliency: explain.Saliency | None = None
    pool: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    sequence: sequence_views.SequenceProbe | None = None
    attention: attention_views.AttentionProbe | None = None
    ablator: attention_views.HeadAblator | None = None
    sampler: sequence_views.TextSampler | None = None


class Prober:
    """Runs probes on a live model from the thread that trains it.

    Parameters
    ----------
    model : Model
        The training model (built). A sub-model sharing its layers gives every
        column's output in one forward pass; create the Prober before training
        starts, because a model's construction hands its generator to the layers.
    info : ModelInfo
        From ``describe_model(model)``.
    x : np.ndarray
        ``(n, *input_shape)`` training inputs (as the model sees them).
    y : np.ndarray, optional
        Their targets as the loss takes them (to name a sample's true class).
    grid_size : int
        Points per side of the decision grid.
    batch_size : int
        Samples averaged for the batch-mean activations (a fixed, seeded choice).
    seed : int
        Chooses the probe batch.
    vocabulary : sequence of str, optional
        The dataset's token texts (a character model's sampled text).
    ablator : HeadAblator, optional
        Handed on with every probe of a model with attention layers.
    sampler : TextSampler, optional
        Handed on with every probe of a character model.
    """

    def __init__(
        self,
        model: Model,
        info: ModelInfo,
        x: np.ndarray,
        y: np.ndarray | None = None,
        *,
        grid_size: int = 64,
        batch_size: int = 256,
        seed: int = 0,
        vocabulary: Sequence[str] | None = None,
        ablator: attention_views.HeadAblator | None = None,
        sampler: sequence_views.TextSampler | None = None,
    ) -> None:
        self.model = model
        self.info = info
        self.x = x
        self.y = y
        self.names = [c.name for c in info.layers[1:]]
        self._probe = Model(
            inputs=model.inputs,
            outputs=[model.layer(n) for n in self.names],
            name="probe",
            dtype=model.dtype,
        )
        rng = np.random.default_rng(seed)
        count = min(len(x), int(batch_size))
        self._batch_index = np.sort(rng.choice(len(x), size=count, replace=False))
        self._batch = x[self._batch_index]
        self._batch_true = (
            _labels(y[self._batch_index], info) if y is not None else None
        )
        self._explainer: explain.Explainer | None = None
        if info.is_image and len(model.inputs) == len(model.outputs) == 1:
            self._explainer = explain.Explainer(
                model, [c.name for c in info.spatial], info.task
            )
        self.grid_size = int(grid_size)
        self.extent: tuple[float, float, float, float] | None = None
        self._grid: np.ndarray | None = None
        if info.is_plane and len(x):
            self.extent, self._grid = _plane_grid(x, self.grid_size, model.dtype)
        self._plane: tuple[planes.Plane, np.ndarray] | None = None  # and its grid
        self._param_layers = [layer for layer in model.layers if layer.params]
        self._sequence: sequence_views.SequenceProber | None = None
        self._attention: attention_views.AttentionProber | None = None
        self._ablator = ablator
        if attention_views.attention_layers(model):
            self._attention = attention_views.AttentionProber(
                model, x, self._batch_index, vocabulary
            )
        # A character model samples text whether it reads with a recurrent
        # layer or with attention.
        samples_text = bool(vocabulary) and int(
            np.prod(model.output_shapes[0])
        ) == len(vocabulary or ())
        if (
            sequence_views.recurrent_layers(model)
            or (self._attention is not None and samples_text)
        ) and len(model.inputs) == len(model.outputs) == 1:
            self._sequence = sequence_views.SequenceProber(
                model, x, y, self._batch_index, info.task, vocabulary
            )
        self._sampler = sampler if self.samples_text else None

    @property
    def samples_text(self) -> bool:
        """Whether the probes carry sampled text (a character model)."""
        return self._sequence is not None and self._sequence.samples_text

    def probe(
        self,
        sample_index: int,
        epoch: int,
        step: float,
        gradients: bool = True,
        prompt: sequence_views.TextPrompt | None = None,
        samples: bool = True,
        plane: planes.Plane | None = None,
    ) -> ProbeResult:
        """Everything the panels show, from the model's current weights.

        Parameters
        ----------
        sample_index : int
            Training sample whose activations to report (clipped to the data).
        epoch : int
            Current epoch, recorded in the result.
        step : float
            Current position in epochs, recorded in the result.
        gradients : bool
            Whether the model's gradients are real (it trains); False for a model
            that never ran backward, whose zero gradients would mean nothing.
        prompt : TextPrompt, optional
            What a character model's text continues (default: the sample).
        samples : bool
            Whether to draw text when none was drawn at ``epoch`` for ``prompt``
            (a forward pass per character: the GUI thread leaves it to
            ``sampler``).
        plane : Plane, optional
            The plane of the input space to compute the decision grid on, for
            inputs that are not 2-D (ignored for 2-D inputs and for a plane of
            another input size).
        """
        index = int(np.clip(sample_index, 0, max(0, len(self.x) - 1)))
        sample = self.x[index : index + 1]
        parts = [sample, self._batch]
        grid = self._grid if self._grid is not None else self._plane_grid(plane)
        grid_outs: dict[str, np.ndarray] = {}
        if grid is not None and self.info.spatial:
            grid_outs, grid = self._grid_outputs(grid), None
        if grid is not None:
            parts.append(grid)
        stacked = np.concatenate(parts).astype(self.model.dtype, copy=False)
        outs = self._probe.forward(stacked, training=False)
        n_batch = len(self._batch)
        activations: dict[str, np.ndarray] = {}
        means: dict[str, np.ndarray] = {}
        for name, out in zip(self.names, outs, strict=True):
            flat = out.reshape(len(stacked), -1)
            activations[name] = flat[0].astype(np.float32)  # a copy
            means[name] = (
                flat[1 : 1 + n_batch].mean(axis=0, dtype=np.float64).astype(np.float32)
            )
            if grid is not None:
                grid_outs[name] = flat[1 + n_batch :]
        peaks = {
            c.name: explain.channel_peaks(
                outs[self.names.index(c.name)][1 : 1 + n_batch]
            )
            for c in self.info.spatial
        }
        output = outs[self.names.index(self.info.output.name)].reshape(len(stacked), -1)
        result = ProbeResult(
            epoch=int(epoch),
            step=float(step),
            weights=self.model.get_weights(),
            weight_hist=self._histograms("params"),
            grad_hist=self._histograms("grads") if gradients else {},
            sample_index=index,
            sample=np.array(sample[0], dtype=np.float32),
            activations=activations,
            mean_activations=means,
            grid=self._grid_result(grid_outs, plane) if grid_outs else None,
            target=self._target_text(index),
            channel_peaks=peaks,
        )
        if self._batch_true is not None and self.info.task == "classification":
            predicted = explain.class_of(output[1 : 1 + n_batch])
            result.pool = (self._batch_index.copy(), self._batch_true, predicted)
        if self._explainer is not None:
            # After the histograms: the explainer's backward pass reuses the layers
            # (it puts their gradients back, but reads none of them).
            wanted = self._wanted(output[0], index)
            k = explain.class_count(self.info.output.units, self.info.task)
            every = list(range(k)) if k <= explain.MAX_SALIENCY_CLASSES else wanted
            result.saliency = explain.saliency(
                self._explainer, sample[0], every, smooth_classes=wanted
            )
        if self._sequence is not None:
            result.sequence = self._sequence.probe(
                index, epoch, gradients, prompt, samples
            )
            result.sampler = self._sampler
        if self._attention is not None:
            result.attention = self._attention.probe(index, epoch, step)
            result.ablator = self._ablator
        return result

    def _wanted(self, output: np.ndarray, index: int) -> list[int]:
        """The sample's predicted and true class (regression: the first output):
        SmoothGrad's classes, and all a probe explains beyond
        ``explain.MAX_SALIENCY_CLASSES`` classes (the others cost one row each)."""
        if self.info.task != "classification":
            return [0]
        wanted = [int(explain.class_of(output[None], self.info.task)[0])]
        if self.y is not None and index < len(self.y):
            wanted.append(int(_labels(self.y[index : index + 1], self.info)[0]))
        return list(dict.fromkeys(wanted))

    def _target_text(self, index: int) -> str:
        if self.y is None or index >= len(self.y):
            return ""
        row = np.asarray(self.y[index]).reshape(-1)
        if self.info.task != "classification":
            return ", ".join(f"{v:.4g}" for v in row)
        label = int(row.argmax()) if row.size > 1 else int(round(float(row[0])))
        names = self.info.class_names
        return names[label] if label < len(names) else str(label)

    def histograms(self) -> tuple[dict[str, Histogram], dict[str, Histogram]]:
        """The weight and gradient histograms of a probe alone (``weight_hist``,
        ``grad_hist``): a few milliseconds where a probe takes tens."""
        return self._histograms("params"), self._histograms("grads")

    def _histograms(self, which: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        out = {}
        for layer in self._param_layers:
            arrays = list(getattr(layer, which).values())
            if arrays:
                total = sum(a.size for a in arrays)
                step = max(1, -(-total // HIST_SAMPLE))
                # Subsample before joining: no copy of a large kernel per probe.
                out[str(layer.name)] = histogram(
                    np.concatenate([a.reshape(-1)[::step] for a in arrays])
                )
        return out

    def _plane_grid(self, plane: planes.Plane | None) -> np.ndarray | None:
        """The grid of inputs on ``plane`` (made once per plane), or None when
        there is no plane for this model's inputs."""
        if plane is None or not self.info.takes_planes or not len(self.x):
            return None
        if plane.dim != int(np.prod(self.info.input_shape, dtype=np.int64)):
            return None  # a plane of the previous data, on its way out
        if self._plane is None or self._plane[0] is not plane:
            spatial = bool(self.info.spatial)
            size = PLANE_GRID_SIZE_SPATIAL if spatial else PLANE_GRID_SIZE
            grid = plane.grid(size, self.model.dtype)
            self._plane = (plane, grid.reshape(len(grid), *self.x.shape[1:]))
        return self._plane[1]

    def _grid_outputs(self, grid: np.ndarray) -> dict[str, np.ndarray]:
        """The columns a decision grid shows (output, dense hidden layers) over
        ``grid``, forwarded in pieces the probe batch's size: in one piece a
        convolutional network would hold the maps of every grid row at once
        (576 rows: 2.2 times the probe batch's peak memory), for the same CPU
        time (123 ms against 127 ms per Fashion-MNIST CNN probe)."""
        wanted = {self.info.output.name} | {
            c.name for c in self.info.hidden if not c.is_spatial
        }
        step = max(1, len(self._batch))
        pieces: dict[str, list[np.ndarray]] = {name: [] for name in wanted}
        for start in range(0, len(grid), step):
            chunk = grid[start : start + step].astype(self.model.dtype, copy=False)
            outs = self._probe.forward(chunk, training=False)
            for name, out in zip(self.names, outs, strict=True):
                if name in wanted:  # copied: the next forward reuses the buffers
                    pieces[name].append(np.array(out.reshape(len(chunk), -1)))
        return {name: np.concatenate(p) for name, p in pieces.items()}

    def _grid_result(
        self, outs: Mapping[str, np.ndarray], plane: planes.Plane | None = None
    ) -> GridResult:
        pred = outs[self.info.output.name]
        g = int(round(np.sqrt(len(pred))))
        if self.extent is not None:
            extent, plane = self.extent, None
        else:
            assert plane is not None
            extent = plane.extent
        output = pred.reshape(g, g) if pred.shape[1] == 1 else pred.reshape(g, g, -1)
        hidden = {}
        for column in self.info.hidden:
            if column.is_spatial:
                continue  # a map per unit of a feature map says little
            acts = outs[column.name][:, :MAX_HIDDEN_MAPS]
            hidden[column.name] = np.ascontiguousarray(acts.T.reshape(-1, g, g))
        return GridResult(extent, np.array(output, dtype=np.float32), hidden, plane)


def _labels(y: np.ndarray, info: ModelInfo) -> np.ndarray:
    """``(n,)`` int class of each target row as the loss takes it (labels, one-hot
    rows or 0/1 values); zeros for regression."""
    rows = np.asarray(y).reshape(len(y), -1)
    if info.task != "classification":
        return np.zeros(len(rows), dtype=np.int64)
    if rows.shape[1] > 1:
        return rows.argmax(axis=1).astype(np.int64)
    return np.rint(rows[:, 0]).astype(np.int64)


def _plane_grid(
    x: np.ndarray, size: int, dtype: np.dtype
) -> tuple[tuple[float, float, float, float], np.ndarray]:
    """A ``size`` x ``size`` grid over the data's bounding box plus a 10% margin."""
    lo = x.min(axis=0).astype(np.float64)
    hi = x.max(axis=0).astype(np.float64)
    pad = np.maximum((hi - lo) * 0.1, 1e-3)
    lo, hi = lo - pad, hi + pad
    gx = np.linspace(lo[0], hi[0], size)
    gy = np.linspace(lo[1], hi[1], size)
    xx, yy = np.meshgrid(gx, gy)  # rows follow y, columns follow x
    points = np.column_stack([xx.reshape(-1), yy.reshape(-1)]).astype(dtype)
    return (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])), points


# --- evaluation ---------------------------------------------------------------------------


@dataclass
class Evaluation:
    """How well the model does on one split.

    Classification fills ``confusion``, ``report`` and ``roc``; regression fills
    ``y_true``/``y_pred`` (at most ``MAX_SCATTER_POINTS`` of them, first output) and
    ``r2``, ``mae``, ``rmse`` (over every sample and output). ``n`` samples were
    scored: the first ``n`` of the split's ``total`` when a live evaluation
    subsamples for speed (``total`` 0 or ``n``: all of them). Tabular inputs also
    get ``importance`` (on the first ``MAX_IMPORTANCE_SAMPLES`` scored samples).
    """

    split: str
    task: str
    n: int
    epoch: int
    class_names: tuple[str, ...] = ()
    total: int = 0
    confusion: np.ndarray | None = None
    report: dict[str, Any] | None = None
    roc: list[tuple[str, np.ndarray, np.ndarray, float]] = field(default_factory=list)
    y_true: np.ndarray | None = None
    y_pred: np.ndarray | None = None
    r2: float | None = None
    mae: float | None = None
    rmse: float | None = None
    importance: explain.Importance | None = None


def evaluate_model(
    model: Model,
    x: np.ndarray,
    y: np.ndarray,
    info: ModelInfo,
    *,
    split: str = "validation",
    epoch: int = 0,
    total: int | None = None,
) -> Evaluation:
    """Predict ``x`` and score the predictions against ``y`` (encoded for the loss).

    Parameters
    ----------
    model : Model
        The model to evaluate (called from the thread that owns it).
    x : np.ndarray
        ``(n, *input_shape)`` inputs.
    y : np.ndarray
        Targets as the loss takes them: ``(n,)`` labels, ``(n, k)`` one-hot,
        ``(n, 1)`` 0/1 for a sigmoid output, or ``(n, k)`` values for regression.
    info : ModelInfo
        Gives the task and class names.
    total : int, optional
        The size of the split ``x`` was taken from (default: ``len(x)``).
    """
    pred = np.asarray(model.predict(x))
    n = len(x)
    result = Evaluation(
        split=split,
        task=info.task,
        n=n,
        epoch=int(epoch),
        total=n if total is None else int(total),
    )
    per_step = (
        info.task == "classification"
        and pred.ndim == 3
        and np.shape(y) == pred.shape[:2]
    )
    if per_step:
        # Labels per time step (sort, copy): every step is scored as a sample,
        # and permuting one input step says nothing about a per-step prediction.
        y, pred = np.asarray(y).reshape(-1), pred.reshape(-1, pred.shape[-1])
    else:
        result.importance = _importance(model, x, y, info)
    if info.task != "classification":
        return _regression(result, y, pred)
    k = 2 if pred.ndim == 1 or pred.shape[1] == 1 else int(pred.shape[1])
    names = (
        info.class_names if len(info.class_names) == k else tuple(map(str, range(k)))
    )
    result.class_names = tuple(names)
    result.confusion = metrics.confusion_matrix(y, pred, num_classes=k)
    result.report = metrics.classification_report(
        y, pred, num_classes=k, class_names=names
    )
    result.roc = _roc_curves(y, pred, names)
    return result


def _importance(
    model: Model, x: np.ndarray, y: np.ndarray, info: ModelInfo
) -> explain.Importance | None:
    """Feature importance of a tabular model (None for other inputs)."""
    if not info.is_tabular or not 0 < info.input_shape[0] <= MAX_IMPORTANCE_FEATURES:
        return None
    if len(model.inputs) != 1 or len(model.outputs) != 1 or len(x) == 0:
        return None
    repeats = 3
    per_row = info.input_shape[0] * repeats
    m = min(len(x), MAX_IMPORTANCE_SAMPLES, max(100, IMPORTANCE_ROWS // per_row))
    return explain.feature_importance(
        explain.Explainer(model, [], info.task),
        x[:m],
        y[:m],
        info.feature_names,
        repeats=repeats,
    )


def _regression(result: Evaluation, y: np.ndarray, pred: np.ndarray) -> Evaluation:
    yt = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    yp = np.asarray(pred, dtype=np.float64).reshape(len(pred), -1)
    result.r2 = metrics.r2(yt, yp)
    result.mae = metrics.mae(yt, yp)
    result.rmse = metrics.rmse(yt, yp)
    keep = _spread(len(yt), MAX_SCATTER_POINTS)
    result.y_true = yt[keep, 0].copy()
    result.y_pred = yp[keep, 0].copy()
    return result


def _roc_curves(
    y: np.ndarray, pred: np.ndarray, names: Sequence[str]
) -> list[tuple[str, np.ndarray, np.ndarray, float]]:
    curves = []
    if pred.ndim == 1 or pred.shape[1] == 1:
        labels = np.asarray(y).reshape(-1)
        if 0 < labels.sum() < labels.size:
            fpr, tpr, _ = metrics.roc_curve(labels, pred.reshape(-1))
            curves.append((names[1], *_thin(fpr, tpr), metrics.auc(fpr, tpr)))
        return curves
    true = np.asarray(y)
    labels = true.argmax(axis=1) if true.ndim == 2 else true.reshape(-1)
    for c, (fpr, tpr, _) in enumerate(metrics.roc_curve_ovr(labels, pred)):
        positives = int(np.count_nonzero(labels == c))
        if 0 < positives < labels.size:
            curves.append((names[c], *_thin(fpr, tpr), metrics.auc(fpr, tpr)))
    return curves


def _spread(n: int, limit: int) -> np.ndarray:
    """At most ``limit`` indices spread evenly over ``range(n)``, first and last kept."""
    if n <= limit:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(np.int64))


def _thin(fpr: np.ndarray, tpr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = _spread(len(fpr), MAX_CURVE_POINTS)
    return fpr[keep].copy(), tpr[keep].copy()
