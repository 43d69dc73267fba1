"""The Model: a DAG of layers executed in topological order, trained with fit.

Functional use::

    x = Input((2,))
    h = Dense(16, activation="tanh")(x)
    y = Dense(1, activation="sigmoid")(h)
    model = Model(inputs=x, outputs=y, seed=0)
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=10)

Arrays are ``(batch, *shape)``; the model computes in float32 unless built with
``dtype=np.float64``. All randomness (initial weights, shuffling, dropout masks)
comes from one ``np.random.Generator`` seeded by ``seed``, so a seed fixes a run
bit for bit. A model is not thread-safe: layers reuse their buffers from call to
call, so give each thread its own model.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from . import optimizers as optimizers_mod
from . import schedules as schedules_mod
from .callbacks import Callback, History
from .data import (
    BatchBuffers,
    check_batch_size,
    check_finite,
    prepare_inputs,
    prepare_targets,
)
from .errors import ConfigError, GraphError, NumericalError, ShapeError
from .fit import run_fit
from .graph import Graph, trace_graph
from .kernels.chain import DenseChain, plan_chain
from .layers.base import Layer, Shape
from .layers.core import Input
from .outputs import fuse_losses, resolve_losses, resolve_metrics
from .summary import summary_rows, summary_text
from .weights import assign_weights, pack_parameters

log = logging.getLogger(__name__)

__all__ = ["Model", "Sequential"]

ArrayOrList = np.ndarray | Sequence[np.ndarray] | Mapping[str, np.ndarray]

# Diverging runs overflow all over the place; the loss check turns that into one
# NumericalError instead of a cascade of RuntimeWarnings.
_QUIET = {"all": "ignore"}


def _check_dtype(dtype: object) -> np.dtype:
    try:
        dt = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError:
        dt = None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ConfigError(f"A model computes in float32 or float64, not {dtype!r}.")
    return dt


class Model:
    """A network of layers between ``inputs`` and ``outputs``.

    Parameters
    ----------
    inputs
        An ``Input`` layer (or its tensor), or a list of them.
    outputs
        The output tensor (or layer) or a list of them.
    name
        Shown by ``summary``.
    seed
        Seeds the model's generator (weights, shuffling, dropout); ``None`` draws
        fresh entropy.
    dtype
        ``np.float32`` (default) or ``np.float64`` (for gradient checks).

    Attributes
    ----------
    layers
        Every layer in topological order. Unnamed layers get ``<type>_<k>`` names
        (``dense_1``, ``dense_2``, ``batch_norm_1``) in that order.
    stop_training
        Set to True (by a callback or another thread) to end ``fit`` after the
        current batch.

    Raises
    ------
    GraphError
        For a graph that cannot run (see ``graph.trace_graph``).
    """

    def __init__(
        self,
        inputs: Any,
        outputs: Any,
        name: str = "model",
        seed: int | None = None,
        dtype: np.dtype | type = np.float32,
    ) -> None:
        graph = trace_graph(inputs, outputs)
        self.name = name
        self.seed = seed
        self.dtype = _check_dtype(dtype)
        self._graph = graph
        self.layers: list[Layer] = list(graph.layers)
        self.inputs: list[Layer] = [self.layers[i] for i in graph.input_positions]
        self.outputs: list[Layer] = [self.layers[i] for i in graph.output_positions]
        self._shapes = self._infer_shapes()
        # (position, layer, source positions) for every layer but the Inputs.
        self._plan = [
            (i, layer, graph.sources[i])
            for i, layer in enumerate(self.layers)
            if not isinstance(layer, Input)
        ]
        self._by_name = {layer.name: layer for layer in self.layers}
        self.stop_training = False
        self.rng: np.random.Generator = np.random.default_rng(seed)
        self.optimizer: optimizers_mod.Optimizer | None = None
        self.loss_functions: list[Any] = []
        self.metric_functions: list[list[tuple[str, Callable[..., float]]]] = []
        self.lr_schedule: Callable[[int, float], float] | None = None
        self.history: History | None = None
        self.base_lr = 0.0  # the optimizer's rate at compile time (lr_schedule's base)
        self.batch_buffers = BatchBuffers()  # fit's shuffled batches, reused
        # The rows of the batch fit trains now (a slice when it does not shuffle):
        # callbacks read it to tell which samples a batch held (race mode's ledger).
        self.batch_rows: np.ndarray | slice | None = None
        self.built = False
        self._fused: list[bool] = []
        self._grad_mode = ""
        # The one-call training step of a plain Dense stack (kernels/chain.py), planned
        # at the first step after compile or build.
        self._chain: DenseChain | None = None
        self._chain_planned = False
        self._chain_pending = False  # layer caches predate the last chain step
        # A model made from layers that are already built (a sub-model sharing
        # weights with another) starts built instead of re-drawing its weights.
        if (
            all(layer.built and layer.dtype == self.dtype for layer in self.layers)
            and self._built_shapes_match()
        ):
            self._finish_build()

    # --- structure ---------------------------------------------------------------
    def _infer_shapes(self) -> list[Shape]:
        shapes: list[Shape] = []
        for layer, src in zip(self.layers, self._graph.sources, strict=True):
            shapes.append(tuple(layer.output_shape([shapes[j] for j in src])))
        return shapes

    def input_shapes_of(self, i: int) -> list[Shape]:
        """Per-sample shapes reaching ``layers[i]``, in its input order."""
        return [self._shapes[j] for j in self._graph.sources[i]]

    @property
    def graph(self) -> Graph:
        """The traced graph: ``sources``/``consumers`` of each layer position,
        ``input_positions`` and ``output_positions``."""
        return self._graph

    @property
    def layer_shapes(self) -> list[Shape]:
        """Per-sample output shape of every layer, in ``layers`` order."""
        return list(self._shapes)

    @property
    def fused_outputs(self) -> tuple[bool, ...]:
        """Per output, whether its loss runs from the output layer's
        pre-activation (set by ``compile``; see ``outputs.fuse_losses``)."""
        return tuple(self._fused)

    def _built_shapes_match(self) -> bool:
        return all(
            isinstance(layer, Input) or layer.input_shapes == self.input_shapes_of(i)
            for i, layer in enumerate(self.layers)
        )

    @property
    def input_names(self) -> list[str]:
        return [layer.name for layer in self.inputs]  # type: ignore[misc]

    @property
    def output_names(self) -> list[str]:
        return [layer.name for layer in self.outputs]  # type: ignore[misc]

    @property
    def input_shapes(self) -> list[Shape]:
        """Per-sample shapes of the inputs (no batch axis)."""
        return [self._shapes[i] for i in self._graph.input_positions]

    @property
    def output_shapes(self) -> list[Shape]:
        """Per-sample shapes of the outputs (no batch axis)."""
        return [self._shapes[i] for i in self._graph.output_positions]

    def output_shape_of(self, name: str) -> Shape:
        """Per-sample output shape of the layer called ``name``."""
        return self._shapes[self.layers.index(self.layer(name))]

    def layer(self, name: str) -> Layer:
        """The layer called ``name``.

        Raises
        ------
        ConfigError
            When no layer has that name (the message lists the names).
        """
        try:
            return self._by_name[name]
        except KeyError:
            raise ConfigError(
                f"Model '{self.name}' has no layer named '{name}'; its layers are "
                f"{', '.join(self._by_name)}."
            ) from None

    def inbound_names(self, name: str) -> list[str]:
        """Names of the layers feeding the layer called ``name``, in port order."""
        return [src.name for src in self.layer(name).inbound]  # type: ignore[misc]

    # --- building ------------------------------------------------------------------
    def build(
        self,
        seed: int | np.random.Generator | None = None,
        dtype: np.dtype | type | None = None,
    ) -> Model:
        """Create fresh weights for every layer.

        Parameters
        ----------
        seed
            An int or a Generator; ``None`` uses the ``seed`` given to the
            constructor. The generator is kept as ``self.rng`` for shuffling and
            dropout.
        dtype
            ``np.float32`` or ``np.float64``; ``None`` keeps the model's dtype.

        Returns
        -------
        Model
            ``self``.
        """
        if dtype is not None:
            self.dtype = _check_dtype(dtype)
        if isinstance(seed, np.random.Generator):
            self.rng = seed
        else:
            self.rng = np.random.default_rng(self.seed if seed is None else seed)
        for i, layer in enumerate(self.layers):
            layer.build(self.input_shapes_of(i), self.rng, self.dtype)
        # Only build packs: layers built elsewhere (shared with another model)
        # keep the arrays that model knows.
        pack_parameters(self.layers, self.dtype)
        self._finish_build()
        return self

    def _finish_build(self) -> None:
        self._param_refs: list[tuple[str, Layer, str]] = []
        self._state_refs: list[tuple[str, Layer, str]] = []
        for layer in self.layers:
            layer.rng = self.rng
            self._param_refs += [(f"{layer.name}/{k}", layer, k) for k in layer.params]
            self._state_refs += [(f"{layer.name}/{k}", layer, k) for k in layer.state]
        self._reg_layers = [layer for layer in self.layers if layer.has_regularization]
        self._params = {key: layer.params[k] for key, layer, k in self._param_refs}
        self._grads = {key: layer.grads[k] for key, layer, k in self._param_refs}
        self._requires_grad = []
        for layer, src in zip(self.layers, self._graph.sources, strict=True):
            upstream = any(self._requires_grad[j] for j in src)
            self._requires_grad.append(bool(layer.params) or upstream)
        self._grad_mode = ""
        self._inference_buffers: dict[tuple[int, int], np.ndarray] = {}
        self._chain_planned = False
        self.built = True
        if self.optimizer is not None:
            self.optimizer.reset()

    def _ensure_built(self) -> None:
        if not self.built:
            self.build()

    def set_rng(self, rng: np.random.Generator) -> None:
        """Use ``rng`` from now on for shuffling and dropout."""
        self.rng = rng
        for layer in self.layers:
            layer.rng = rng

    # --- compile -------------------------------------------------------------------
    def compile(
        self,
        loss: Any = "mse",
        optimizer: Any = "adam",
        metrics: Sequence[Any] = (),
        lr_schedule: Any = None,
    ) -> Model:
        """Choose the loss, the optimizer, the metrics and a learning-rate schedule.

        Parameters
        ----------
        loss
            A name from ``losses.LOSSES`` or a loss object; for several outputs one
            loss for all, or a list (or a dict by output name) with one per output.
        optimizer
            A name from ``optimizers.OPTIMIZERS`` or an optimizer object.
        metrics
            Names from ``metrics.METRICS`` or functions ``f(y_true, y_pred)``,
            applied to every output; or a dict output name -> list of metrics.
        lr_schedule
            ``None``, a name from ``schedules.SCHEDULES`` with default arguments, or
            a callable ``(epoch, base_lr) -> lr`` that ``fit`` applies at the start
            of each epoch (``base_lr`` is the optimizer's rate at compile time); a
            schedule whose ``per_step`` is true (``warmup_cosine`` with
            ``warmup_steps``) is asked before every batch (``Schedule.rate``).

        Raises
        ------
        ConfigError
            For unknown names or a loss list that does not match the outputs.
        """
        self.loss_functions = resolve_losses(loss, self.output_names)
        self.optimizer = optimizers_mod.get(optimizer)
        self.metric_functions = resolve_metrics(metrics, self.output_names)
        if isinstance(lr_schedule, str):
            lr_schedule = schedules_mod.get(lr_schedule)
        if lr_schedule is not None and not callable(lr_schedule):
            raise ConfigError("lr_schedule must be a schedule name or a callable.")
        self.lr_schedule = lr_schedule
        self.base_lr = float(self.optimizer.lr)
        self._fused = fuse_losses(self)
        self._chain_planned = False
        self._ensure_built()
        return self

    def require_compiled(self) -> None:
        """ConfigError unless ``compile`` has chosen a loss and an optimizer."""
        if self.optimizer is None or not self.loss_functions:
            raise ConfigError(
                f"Model '{self.name}' is not compiled: call "
                "model.compile(loss=..., optimizer=...) before training or evaluating."
            )

    # --- forward and backward --------------------------------------------------------
    def _forward(self, xs: Sequence[np.ndarray], training: bool) -> list[np.ndarray]:
        self._chain_pending = False
        values: list[Any] = [None] * len(self.layers)
        for k, i in enumerate(self._graph.input_positions):
            values[i] = xs[k]
        for i, layer, src in self._plan:
            if len(src) == 1:
                values[i] = layer.forward([values[src[0]]], training)
            else:
                values[i] = layer.forward([values[j] for j in src], training)
        return [values[i] for i in self._graph.output_positions]

    def _set_grad_mode(self, mode: str) -> None:
        """``"train"``: skip gradients nobody needs; ``"inputs"``: compute them all."""
        if mode == self._grad_mode:
            return
        for layer, src in zip(self.layers, self._graph.sources, strict=True):
            layer.needs_input_grad = mode == "inputs" or any(
                self._requires_grad[j] for j in src
            )
        self._grad_mode = mode

    def _backward(
        self, seeds: dict[int, np.ndarray], preact: dict[int, np.ndarray]
    ) -> list[Any]:
        """Backpropagate from output gradients (``seeds``) or, for fused outputs,
        pre-activation gradients (``preact``); returns the gradient per position."""
        grads: list[Any] = [None] * len(self.layers)
        owned = [False] * len(self.layers)
        for i, g in seeds.items():
            grads[i] = g
        for i, layer, src in reversed(self._plan):
            if i in preact:
                dxs = layer.backward_from_preactivation(preact[i])  # type: ignore[attr-defined]
            elif grads[i] is None:
                for g in layer.grads.values():
                    g.fill(0)  # no gradient reached this layer
                continue
            else:
                dxs = layer.backward(grads[i])
            for j, dx in zip(src, dxs, strict=True):
                if dx is None:
                    continue
                if grads[j] is None:
                    grads[j] = dx
                elif not owned[j]:
                    # The first sum makes a new array: dx arrays may be aliased
                    # (Add returns one array for all its inputs).
                    grads[j] = grads[j] + dx
                    owned[j] = True
                else:
                    grads[j] += dx
        return grads

    def forward(self, x: ArrayOrList, training: bool = False) -> list[np.ndarray]:
        """Run the model on one batch and return every output.

        The returned arrays may be internal buffers, valid until the next call;
        ``predict`` returns copies.

        Parameters
        ----------
        x
            ``(batch, *input_shape)`` array, or a list / dict (by input name) of them.
        training
            Training mode (dropout active, batch statistics in BatchNorm).
        """
        self._ensure_built()
        xs = prepare_inputs(self, x)
        check_finite(self, xs)
        return self._forward(xs, training)

    def backward(self, dys: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Backpropagate output gradients through the last ``forward`` call.

        Fills every layer's ``grads`` and returns the gradient for each model input.

        Parameters
        ----------
        dys
            One gradient per output, shaped like that output.
        """
        if len(dys) != len(self.outputs):
            raise ShapeError(
                f"backward needs {len(self.outputs)} output gradient(s), got {len(dys)}."
            )
        if self._chain_pending and self._chain is not None:
            self._chain.restore_layers()
            self._chain_pending = False
        self._set_grad_mode("inputs")
        seeds = {
            i: np.asarray(dy, dtype=self.dtype)
            for i, dy in zip(self._graph.output_positions, dys, strict=True)
        }
        grads = self._backward(seeds, {})
        return [grads[i] for i in self._graph.input_positions]

    # --- weights -----------------------------------------------------------------------
    def trainable_weights(self) -> dict[str, np.ndarray]:
        """Weight key -> the live parameter array (not a copy)."""
        self._ensure_built()
        return {key: layer.params[k] for key, layer, k in self._param_refs}

    def gradients(self) -> dict[str, np.ndarray]:
        """Weight key -> the live gradient array of the last backward pass."""
        self._ensure_built()
        return {key: layer.grads[k] for key, layer, k in self._param_refs}

    def get_weights(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and state array, keyed ``"<layer>/<name>"``.

        Builds the model first if needed.
        """
        self._ensure_built()
        out = {key: layer.params[k].copy() for key, layer, k in self._param_refs}
        out.update({key: layer.state[k].copy() for key, layer, k in self._state_refs})
        return out

    def set_weights(self, weights: Mapping[str, Any], strict: bool = True) -> None:
        """Copy ``weights`` into the model's arrays (cast to the model dtype).

        Parameters
        ----------
        weights
            Weight key -> array, as returned by ``get_weights``.
        strict
            When true, unknown and missing keys are errors; when false they are
            skipped.

        Raises
        ------
        ConfigError
            For unknown or missing keys (strict) or a value that is not numeric.
        ShapeError
            When an array's shape differs from the model's; nothing is copied then.
        """
        self._ensure_built()
        targets = {key: layer.params[k] for key, layer, k in self._param_refs}
        targets.update({key: layer.state[k] for key, layer, k in self._state_refs})
        assign_weights(self.name, targets, weights, strict)

    def count_params(self) -> int:
        """Total number of scalars: trainable parameters plus running statistics."""
        return sum(row["params"] for row in self.summary_rows())

    # --- summary ----------------------------------------------------------------------
    def summary_rows(self) -> list[dict[str, Any]]:
        """One dict per layer: name, type, output_shape (batch None), params,
        trainable, activation, inputs (names of the feeding layers)."""
        return summary_rows(self)

    def summary(self) -> str:
        """The Keras-style table of layers, output shapes and parameter counts."""
        return summary_text(self)

    # --- training ---------------------------------------------------------------------
    def train_step(
        self,
        xs: Sequence[np.ndarray],
        ys: Sequence[np.ndarray],
        inputs_checked: bool = True,
    ) -> tuple[float, list[float], list[np.ndarray]]:
        """One optimizer step on a validated batch: (loss, per-output losses, outputs).

        ``xs`` and ``ys`` hold one array per input and per output, checked and
        converted (``data.prepare_inputs``/``prepare_targets``); ``inputs_checked``
        False leaves the NaN/Inf check of ``xs`` to this step. The outputs may be
        internal buffers, valid until the next step.
        """
        self._set_grad_mode("train")
        if not self._chain_planned:
            self._chain = plan_chain(self)
            self._chain_planned = True
            log.debug("Model '%s': Dense-chain step %s", self.name, self._chain)
        if self._chain is not None:
            done = self._chain.run(
                xs[0],
                ys[0],
                self.optimizer,  # type: ignore[arg-type]
                self._params,
                self._grads,
                inputs_checked,
            )
            if done is not None:
                total, out = done
                if not math.isfinite(total):
                    raise NumericalError(
                        f"The training loss became {total} (weights left "
                        "unchanged): lower the learning rate, scale the inputs, "
                        "or add gradient clipping."
                    )
                self._chain_pending = True
                return total, [total], [out]
        if not inputs_checked:
            check_finite(self, xs)
        with np.errstate(**_QUIET):
            outs = self._forward(xs, True)
            parts, seeds, preact = self._losses(outs, ys, with_grads=True)
            total = math.fsum(parts)
            for layer in self._reg_layers:
                total += layer.regularization_loss()
            if not math.isfinite(total):
                raise NumericalError(
                    f"The training loss became {total} (weights left unchanged): "
                    "lower the learning rate, scale the inputs, or add gradient "
                    "clipping."
                )
            self._backward(seeds, preact)
            for layer in self._reg_layers:
                layer.add_regularization_grads()
            self.optimizer.step(self._params, self._grads)  # type: ignore[union-attr]
        return total, parts, outs

    def _losses(
        self, outs: Sequence[np.ndarray], ys: Sequence[np.ndarray], with_grads: bool
    ) -> tuple[list[float], dict[int, np.ndarray], dict[int, np.ndarray]]:
        parts: list[float] = []
        seeds: dict[int, np.ndarray] = {}
        preact: dict[int, np.ndarray] = {}
        for k, i in enumerate(self._graph.output_positions):
            fn = self.loss_functions[k]
            if self._fused[k]:
                z = self.layers[i].preactivation  # type: ignore[attr-defined]
                parts.append(float(fn.forward_from_logits(z, ys[k])))
                if with_grads:
                    preact[i] = fn.backward_from_logits()
            else:
                parts.append(float(fn.forward(outs[k], ys[k])))
                if with_grads:
                    seeds[i] = fn.backward()
        return parts, seeds, preact

    def loss_logs(self, total: float, parts: Sequence[float]) -> dict[str, float]:
        """``{"loss": total}``, plus ``"<output>_loss"`` per output when there
        are several."""
        logs = {"loss": float(total)}
        if len(parts) > 1:
            for name, part in zip(self.output_names, parts, strict=True):
                logs[f"{name}_loss"] = float(part)
        return logs

    def metric_logs(
        self, ys: Sequence[np.ndarray], preds: Sequence[np.ndarray]
    ) -> dict[str, float]:
        """The compiled metrics of ``preds`` against ``ys`` (one array per
        output), named ``"<output>_<metric>"`` when there are several outputs."""
        logs: dict[str, float] = {}
        multi = len(self.outputs) > 1
        for k, (y, p) in enumerate(zip(ys, preds, strict=True)):
            for name, fn in self.metric_functions[k]:
                key = f"{self.output_names[k]}_{name}" if multi else name
                logs[key] = float(fn(y, p))
        return logs

    def train_on_batch(self, x: ArrayOrList, y: ArrayOrList) -> dict[str, float]:
        """One optimizer step on one batch.

        Parameters
        ----------
        x
            ``(batch, *input_shape)`` array, or a list / dict of them.
        y
            Targets for each output, as the loss expects them.

        Returns
        -------
        dict[str, float]
            ``"loss"`` (including regularisation) and the compiled metrics on this
            batch's predictions (made before the step).

        Raises
        ------
        NumericalError
            When the loss is NaN or infinite; the weights are left unchanged.
        """
        self.require_compiled()
        xs = prepare_inputs(self, x)
        ys = prepare_targets(self, y, len(xs[0]))
        total, parts, outs = self.train_step(xs, ys, inputs_checked=False)
        logs = self.loss_logs(total, parts)
        if any(self.metric_functions):
            logs.update(self.metric_logs(ys, [o.copy() for o in outs]))
        return logs

    def fit(
        self,
        x: ArrayOrList,
        y: ArrayOrList,
        epochs: int = 1,
        batch_size: int = 32,
        shuffle: bool = True,
        validation_data: tuple[Any, Any] | None = None,
        callbacks: Sequence[Callback] = (),
        verbose: int = 0,
        initial_epoch: int = 0,
    ) -> History:
        """Train for ``epochs`` passes over ``(x, y)`` in mini-batches.

        Parameters
        ----------
        x, y
            Inputs ``(n, *input_shape)`` and targets (see ``train_on_batch``).
        epochs
            Index of the last epoch + 1 (training runs ``initial_epoch..epochs-1``).
        batch_size
            Samples per step; the last batch of an epoch may be smaller.
        shuffle
            Draw a new order each epoch from the model's generator.
        validation_data
            ``(x_val, y_val)`` evaluated after each epoch (``val_*`` logs).
        callbacks
            Callback objects; a History is always added and returned.
        verbose
            ``>= 1`` logs one INFO line per epoch.

        Returns
        -------
        History
            ``history.history["loss"]`` etc., one value per epoch; also kept as
            ``self.history``.
        """
        return run_fit(
            self,
            x,
            y,
            epochs=epochs,
            batch_size=batch_size,
            shuffle=shuffle,
            validation_data=validation_data,
            callbacks=callbacks,
            verbose=verbose,
            initial_epoch=initial_epoch,
        )

    # --- inference --------------------------------------------------------------------
    def predict(
        self, x: ArrayOrList, batch_size: int = 256
    ) -> np.ndarray | list[np.ndarray]:
        """Outputs for ``x`` in inference mode, computed ``batch_size`` rows at a time.

        Returns
        -------
        np.ndarray or list of np.ndarray
            ``(n, *output_shape)`` in the model dtype (probabilities for a softmax or
            sigmoid output); a list when the model has several outputs.
        """
        self._ensure_built()
        xs = prepare_inputs(self, x)
        check_finite(self, xs)
        preds = self._predict(xs, batch_size)
        return preds[0] if len(preds) == 1 else preds

    def _predict(self, xs: list[np.ndarray], batch_size: int) -> list[np.ndarray]:
        n = len(xs[0])
        out = [np.empty((n, *s), dtype=self.dtype) for s in self.output_shapes]
        batch_size = check_batch_size(batch_size)
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            with np.errstate(**_QUIET):
                outs = self._forward([a[start:stop] for a in xs], False)
            for k, o in enumerate(outs):
                out[k][start:stop] = o
        return out

    def evaluate(
        self, x: ArrayOrList, y: ArrayOrList, batch_size: int = 256
    ) -> dict[str, float]:
        """Loss (with regularisation, as in training) and compiled metrics on ``(x, y)``.

        Returns
        -------
        dict[str, float]
            ``"loss"``, per-output losses when there are several outputs, and one
            entry per metric (computed on all predictions at once).
        """
        self.require_compiled()
        xs = prepare_inputs(self, x)
        check_finite(self, xs)
        ys = prepare_targets(self, y, len(xs[0]))
        return self.evaluate_arrays(xs, ys, batch_size)

    def evaluate_arrays(
        self, xs: list[np.ndarray], ys: list[np.ndarray], batch_size: int
    ) -> dict[str, float]:
        """``evaluate`` on data already checked and converted: one array per
        input and per output (``data.prepare_inputs``/``prepare_targets``)."""
        n = len(xs[0])
        sums = np.zeros(len(self.outputs))
        preds = [np.empty((n, *s), dtype=self.dtype) for s in self.output_shapes]
        batch_size = check_batch_size(batch_size)
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            with np.errstate(**_QUIET):
                outs = self._forward([a[start:stop] for a in xs], False)
                parts, _, _ = self._losses(outs, [a[start:stop] for a in ys], False)
            sums += (stop - start) * np.asarray(parts)
            for k, o in enumerate(outs):
                preds[k][start:stop] = o
        reg = sum(layer.regularization_loss() for layer in self._reg_layers)
        parts = list(sums / n)
        logs = self.loss_logs(math.fsum(parts) + reg, parts)
        logs.update(self.metric_logs(ys, preds))
        return logs

    def __repr__(self) -> str:
        return (
            f"<Model '{self.name}': {len(self.layers)} layers, "
            f"{len(self.inputs)} input(s), {len(self.outputs)} output(s)>"
        )


class Sequential(Model):
    """A chain of layers, the first of them an ``Input``.

    ``Sequential([Input((2,)), Dense(8, activation="relu"), Dense(1)])`` is the
    functional model that calls each layer on the previous one.
    """

    def __init__(
        self,
        layers: Sequence[Layer],
        name: str = "sequential",
        seed: int | None = None,
        dtype: np.dtype | type = np.float32,
    ) -> None:
        layers = list(layers)
        if not layers or not isinstance(layers[0], Input):
            raise GraphError("A Sequential model starts with an Input layer.")
        if len(layers) < 2:
            raise GraphError("A Sequential model needs a layer after its Input.")
        t = layers[0].output
        for layer in layers[1:]:
            if not isinstance(layer, Layer):
                raise GraphError(
                    f"Sequential takes layers, got {type(layer).__name__}."
                )
            t = layer(t)
        super().__init__(layers[0], t, name=name, seed=seed, dtype=dtype)
