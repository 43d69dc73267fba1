"""Gradient flow and dead units of a training model, measured between batches.

``GradientFlow`` is a training callback. At the first batch, then whenever the
time it has spent is within ``MAX_SHARE`` of the time trained since (and at least
``MIN_INTERVAL`` after the last time), it copies the weights before a step and,
after the step, measures for every layer with parameters:

- the gradient norm: the Euclidean norm of all the layer's parameter gradients of
  that step (the mean-loss gradients the optimizer received);
- the update ratio ``|Δw| / |w|``: the norm of the step's change of the layer's
  parameters over their norm before it.

It then runs one forward pass (inference mode) over a batch of the training data
(``batch_size`` samples drawn at random, a new draw each time) and counts, for every
layer ending in a ReLU or leaky ReLU, the units that never fire on it: a unit (a
feature, or a channel of a convolution) is dead when its pre-activation is <= 0 for
every sample (and every position) of that batch, so ReLU outputs zero for the whole
batch and no gradient reaches its weights.

A layer's reported values are the medians of its last ``WINDOW`` measurements
(the measured step's own are kept beside them), and it is classified on them
(``classify``; one noisy step does not flip it):

- exploding: a gradient norm that is not finite or above ``EXPLODING_NORM``, or an
  update ratio above ``EXPLODING_RATIO`` (a tenth of the weights' size per step);
- vanishing: a gradient norm below ``VANISHING_FRACTION`` of the largest layer's
  (gradients shrink a thousandfold on the way back), or an update ratio below
  ``VANISHING_RATIO`` (the weights hardly move);
- otherwise ok. Healthy update ratios are around 1e-3.

Each non-ok layer comes with a suggestion (initialisation, normalisation or
learning rate) and ``FlowReport.warnings`` words one sentence per layer.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..engine.callbacks import Callback
from ..engine.model import Model

log = logging.getLogger(__name__)

__all__ = [
    "DEAD_ACTIVATIONS",
    "EXPLODING_NORM",
    "EXPLODING_RATIO",
    "MAX_SHARE",
    "VANISHING_FRACTION",
    "VANISHING_RATIO",
    "FlowReport",
    "GradientFlow",
    "LayerFlow",
    "classify",
    "dead_units",
]

MAX_SHARE = 0.02
"""Most of the training time measuring may take."""
MIN_INTERVAL = 0.5
"""Least seconds between two measurements."""
WINDOW = 5
"""Measurements a layer's classification looks at (their median)."""
EXPLODING_NORM = 100.0
"""A layer gradient norm above this is exploding."""
EXPLODING_RATIO = 0.1
"""An update ratio above this (a tenth of the weights per step) is exploding."""
VANISHING_FRACTION = 1e-3
"""A gradient norm below this share of the largest layer's is vanishing."""
VANISHING_RATIO = 1e-6
"""An update ratio below this is vanishing (the weights hardly move)."""
DEAD_ACTIVATIONS = ("relu", "leaky_relu")
"""Activations whose units can die (no output above zero, no gradient through)."""
DEAD_WARN_SHARE = 0.5
"""More than this share of a layer's units dead is a warning."""

SUGGEST_LOWER_LR = "lower the learning rate or clip gradients"
SUGGEST_NORMALISE = (
    "add BatchNorm before it or use a smaller initialisation (Glorot), "
    "and lower the learning rate"
)
SUGGEST_INIT = (
    "use He initialisation with ReLU instead of sigmoid or tanh, or add BatchNorm"
)
SUGGEST_RAISE_LR = "raise the learning rate"
SUGGEST_DEAD = "lower the learning rate, or use leaky ReLU or He initialisation"


@dataclass(frozen=True)
class LayerFlow:
    """One layer's gradient flow at one measurement.

    Attributes
    ----------
    name : str
        The layer (node id).
    grad_norm, update_ratio : float or None
        Gradient norm and ``|Δw| / |w|``, the medians of the last ``WINDOW``
        measurements (what ``status`` is decided on); None for a layer without
        parameters.
    weight_norm : float or None
        The parameters' norm before the measured step.
    status : str
        ``"ok"``, ``"vanishing"`` or ``"exploding"``; ``"ok"`` for a layer
        without parameters.
    suggestion : str
        What to try (empty when ok).
    dead : int or None
        Units that never fired on the measured batch; None when the layer does
        not end in a ReLU-family activation.
    units : int
        Units (features or channels) of its output.
    step_grad_norm, step_update_ratio : float or None
        The same two of the measured step alone.
    """

    name: str
    grad_norm: float | None
    weight_norm: float | None
    update_ratio: float | None
    status: str = "ok"
    suggestion: str = ""
    dead: int | None = None
    units: int = 0
    step_grad_norm: float | None = None
    step_update_ratio: float | None = None

    @property
    def dead_warning(self) -> bool:
        """More than ``DEAD_WARN_SHARE`` of its units are dead."""
        return bool(self.dead) and self.dead > DEAD_WARN_SHARE * self.units

    def warning(self) -> str:
        """One sentence naming the layer, what is wrong and the suggestion; empty
        when nothing is."""
        if self.status == "exploding":
            return (
                f"Layer '{self.name}' has exploding gradients (norm "
                f"{self.grad_norm:.3g}, update ratio {self.update_ratio:.3g}): "
                f"{self.suggestion}."
            )
        if self.status == "vanishing":
            return (
                f"Layer '{self.name}' has vanishing gradients (norm "
                f"{self.grad_norm:.3g}, update ratio {self.update_ratio:.3g}): "
                f"{self.suggestion}."
            )
        if self.dead_warning:
            return (
                f"Layer '{self.name}' has {self.dead} of {self.units} ReLU units "
                f"dead (no output above zero for a whole batch): {SUGGEST_DEAD}."
            )
        return ""


@dataclass(frozen=True)
class FlowReport:
    """One measurement of every layer, sent to the panels.

    ``layers`` is in model order; ``share`` is the time measuring took so far over
    the training time (0.02 is 2%); ``batch`` is the number of samples the dead
    units were counted on.
    """

    epoch: int
    step: float
    layers: tuple[LayerFlow, ...]
    batch: int = 0
    share: float = 0.0

    def layer(self, name: str) -> LayerFlow | None:
        """The entry of layer ``name`` (None when it has none)."""
        for entry in self.layers:
            if entry.name == name:
                return entry
        return None

    def warnings(self) -> list[tuple[str, str]]:
        """``(layer name, sentence)`` for every layer with something wrong."""
        return [(e.name, e.warning()) for e in self.layers if e.warning()]


def classify(
    grad_norm: float, update_ratio: float, largest_norm: float
) -> tuple[str, str]:
    """``(status, suggestion)`` of a layer from its gradient norm, its update ratio
    and the largest gradient norm of the network (see the module docstring)."""
    if not math.isfinite(grad_norm) or grad_norm > EXPLODING_NORM:
        return "exploding", SUGGEST_NORMALISE
    if not math.isfinite(update_ratio) or update_ratio > EXPLODING_RATIO:
        return "exploding", SUGGEST_LOWER_LR
    if largest_norm > 0 and grad_norm < VANISHING_FRACTION * largest_norm:
        return "vanishing", SUGGEST_INIT
    if update_ratio < VANISHING_RATIO:
        if grad_norm == 0.0:
            return "vanishing", SUGGEST_INIT
        return "vanishing", SUGGEST_RAISE_LR
    return "ok", ""


def dead_units(output: np.ndarray) -> int:
    """Units of ``output`` (``(batch, ..., units)``, the last axis the units) that
    are <= 0 for every sample and position."""
    if output.size == 0:
        return 0
    peak = np.max(output.reshape(-1, output.shape[-1]), axis=0)
    return int(np.count_nonzero(~(peak > 0)))


def _norm(arrays: Sequence[np.ndarray]) -> float:
    total = 0.0
    for a in arrays:
        flat = a.reshape(-1)
        total += float(np.dot(flat, flat))
    return math.sqrt(total)


class _ParamLayer:
    """The parameters of one layer, and room for their values before a step."""

    def __init__(self, name: str, params: dict[str, np.ndarray], grads: dict) -> None:
        self.name = name
        self.params = list(params.values())
        self.grads = [grads[k] for k in params]
        self.before = [np.empty_like(p) for p in self.params]
        self.diff = [np.empty_like(p) for p in self.params]

    def keep(self) -> None:
        for src, dst in zip(self.params, self.before, strict=True):
            np.copyto(dst, src)

    def measure(self) -> tuple[float, float, float]:
        """(gradient norm, weight norm before the step, update norm)."""
        with np.errstate(all="ignore"):
            for now, old, d in zip(self.params, self.before, self.diff, strict=True):
                np.subtract(now, old, out=d)
            return _norm(self.grads), _norm(self.before), _norm(self.diff)


class GradientFlow(Callback):
    """Measures gradient flow and dead units during ``Model.fit`` (see the module).

    Parameters
    ----------
    model : Model
        The training model (built). Create the GradientFlow before training
        starts: its sub-model for the dead units shares the model's layers, and
        building a model hands its generator to the layers.
    x : np.ndarray
        ``(n, *input_shape)`` training inputs as the model sees them (the dead
        units are counted on batches drawn from them).
    batch_size : int
        Samples per measured batch.
    on_report : callable, optional
        Called with each ``FlowReport``, in the training thread.
    seed : int
        Seeds the draws of the measured batches.
    max_share, min_interval : float
        The time budget (see ``MAX_SHARE``, ``MIN_INTERVAL``).
    clock : callable
        Seconds, monotonic (tests pass their own).
    """

    def __init__(
        self,
        model: Model,
        x: np.ndarray,
        batch_size: int,
        on_report: Callable[[FlowReport], None] | None = None,
        *,
        seed: int = 0,
        max_share: float = MAX_SHARE,
        min_interval: float = MIN_INTERVAL,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        super().__init__()
        self.model_ref = model
        self.on_report = on_report
        self.batch_size = max(1, int(batch_size))
        self.max_share = float(max_share)
        self.min_interval = float(min_interval)
        self.clock = clock
        self.x = x
        self._rng = np.random.default_rng(seed)
        self._layers = [
            _ParamLayer(str(layer.name), layer.params, layer.grads)
            for layer in model.layers
            if layer.params
        ]
        self._dead_names = [
            str(layer.name)
            for layer in model.layers
            if getattr(layer, "activation_name", None) in DEAD_ACTIVATIONS
            and layer not in model.inputs
        ]
        self._units = {
            name: int((model.output_shape_of(name) or (1,))[-1])
            for name in self._dead_names
        }
        self._probe: Model | None = None
        if self._dead_names:
            self._probe = Model(
                inputs=model.inputs,
                outputs=[model.layer(n) for n in self._dead_names],
                name="gradient_flow",
                dtype=model.dtype,
            )
        self._history: dict[str, deque[tuple[float, float]]] = {
            p.name: deque(maxlen=WINDOW) for p in self._layers
        }
        self._armed = False
        self._last = -math.inf
        self._spent = 0.0  # seconds spent measuring
        self._kept_cost = 0.0  # seconds the last copy of the weights took
        self._last_cost = 0.0  # seconds the last whole measurement took
        self._started: float | None = None  # the clock at the first batch
        self.epoch = 0
        self.last_report: FlowReport | None = None
        self.measurements = 0

    # --- the time budget --------------------------------------------------------
    @property
    def share(self) -> float:
        """Time spent measuring over the time since the first batch began."""
        if self._started is None:
            return 0.0
        elapsed = self.clock() - self._started
        return self._spent / elapsed if elapsed > 0 else 0.0

    @property
    def spent(self) -> float:
        """Seconds spent measuring so far."""
        return self._spent

    def use_data(self, x: np.ndarray) -> None:
        """Count dead units on batches of ``x`` from now on (new training data)."""
        self.x = x

    # --- hooks (training thread) -------------------------------------------------------
    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch = int(epoch)

    def on_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        now = self.clock()
        if self._started is None:
            self._started = now
        if not self._layers or now - self._last < self.min_interval:
            return
        # After the first (values show at once), only while the time spent so
        # far and the next measurement (costing what the last one did) stay
        # within the budget of the time trained.
        budget = self.max_share * (now - self._started)
        if self.measurements and self._spent + self._last_cost > budget:
            return
        for p in self._layers:
            p.keep()
        self._armed = True
        self._kept_cost = self.clock() - now
        self._spent += self._kept_cost

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if not self._armed:
            return
        self._armed = False
        started = self.clock()
        logs = logs or {}
        batches = max(1, int(logs.get("batches", 1)))
        report = self.measure(self.epoch + (int(batch) + 1) / batches)
        self._last = self.clock()
        self._last_cost = self._last - started + self._kept_cost
        self._spent += self._last - started
        self.last_report = report
        if self.on_report is not None:
            self.on_report(report)

    # --- measuring -----------------------------------------------------------------------
    def measure(self, step: float) -> FlowReport:
        """Measure now: the parameters kept before the step against the current
        ones, and the dead units on a fresh batch."""
        self.measurements += 1
        raw = {p.name: p.measure() for p in self._layers}
        for name, (g, w, d) in raw.items():
            self._history[name].append((g, d / w if w > 0 else math.inf))
        medians = {
            name: (
                float(np.median([h[0] for h in hist])),
                float(np.median([h[1] for h in hist])),
            )
            for name, hist in self._history.items()
        }
        finite = [g for g, _ in medians.values() if math.isfinite(g)]
        largest = max(finite, default=0.0)
        dead, n = self._dead_counts()
        entries = []
        for layer in self.model_ref.layers:
            name = str(layer.name)
            if name in raw:
                g, w, d = raw[name]
                median_g, median_r = medians[name]
                status, suggestion = classify(median_g, median_r, largest)
                entries.append(
                    LayerFlow(
                        name,
                        median_g,
                        w,
                        median_r,
                        status,
                        suggestion,
                        dead.get(name),
                        self._units.get(name, 0),
                        step_grad_norm=g,
                        step_update_ratio=d / w if w > 0 else math.inf,
                    )
                )
            elif name in dead:
                entries.append(
                    LayerFlow(
                        name, None, None, None, dead=dead[name], units=self._units[name]
                    )
                )
        return FlowReport(self.epoch, float(step), tuple(entries), n, self.share)

    def _dead_counts(self) -> tuple[dict[str, int], int]:
        if self._probe is None or len(self.x) == 0:
            return {}, 0
        count = min(len(self.x), self.batch_size)
        idx = np.sort(self._rng.choice(len(self.x), size=count, replace=False))
        batch = self.x[idx]
        with np.errstate(all="ignore"):
            outs = self._probe.forward(batch, training=False)
        return {
            name: dead_units(out)
            for name, out in zip(self._dead_names, outs, strict=True)
        }, count
