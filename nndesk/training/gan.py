"""Generative adversarial networks: two engine models trained against each other.

A GAN document (a Noise node, see ``nndesk.document.gan`` and docs/gan.md)
compiles into two engine models: the **generator** (Noise -> sample) and the
**discriminator** (data Input -> one score per sample). ``GanTrainer`` owns both,
their two optimizers and learning rates, and the step counters; it steps the
discriminator alone, the generator alone, or both on the schedule of k
discriminator steps per generator step, with one of three losses:

- ``standard``: the non-saturating loss of Goodfellow et al.; the discriminator's
  sigmoid is folded into the loss (computed from its logit, like PyTorch's
  ``BCEWithLogitsLoss``), so saturated probabilities keep their gradient;
- ``least_squares``: LSGAN, ``½(D(x) - 1)² + ½D(G(z))²`` and ``½(D(G(z)) - 1)²``;
- ``wasserstein``: WGAN, ``D(G(z)) - D(x)`` and ``-D(G(z))``, the discriminator's
  trainable weights clipped to ``[-clip, clip]`` after each of its steps.

Every random draw is a function of the seed and a step counter (the noise of
discriminator step t, the noise of generator step s, the order of epoch e), so
a run is reproducible bit for bit and a run saved between two batches and
continued gives the same weights as one that never stopped.

``GanSession`` is the GAN's sibling of ``TrainingSession``: the one owner of a
GAN's trained state (both networks' weights, both optimizer states, the step
counters, the history) for the command line, the API and the window's worker;
``GanState`` is its thread-safe copy, and both turn into a ``Project`` to save.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..document.gan import GanSetup, gan_setup, is_gan
from ..document.graph import Document, GraphView, Snapshot
from ..document.validate import Problem
from ..engine.callbacks import Callback
from ..engine.errors import ConfigError, DataError, NNDeskError, NumericalError
from ..engine.layers import Layer
from ..engine.model import Model
from ..engine.optimizers import Optimizer
from ..io.datasets import Dataset
from ..io.datasets.spec import rebase_spec
from ..io.project_file import Project, ProjectMetadata, load_project, save_project
from .compile import check_network, complete_weights, make_optimizer
from .control import TrainingControl
from .data import load_settings_dataset
from .errors import CompileError
from .history import TrainingHistory
from .memory import check_training_memory

log = logging.getLogger(__name__)

__all__ = [
    "GAN_LOG_KEYS",
    "GAN_LOSSES",
    "CompiledGan",
    "GanConfig",
    "GanSession",
    "GanState",
    "GanTrainer",
    "compile_gan",
    "discriminator_loss",
    "generator_loss",
]

GAN_LOSSES: tuple[str, ...] = ("standard", "least_squares", "wasserstein")
"""The GAN losses (the Noise node's ``gan_loss``)."""

GAN_LOG_KEYS: tuple[str, ...] = ("d_loss", "g_loss", "d_real", "d_fake")
"""What a GAN run logs per step and per epoch: both losses and the
discriminator's mean output on real and on generated samples (a probability
for the standard loss, the raw score otherwise)."""

GENERATOR_NAME = "generator"
DISCRIMINATOR_NAME = "discriminator"

# Streams of np.random.default_rng([seed, stream, counter]).
_EPOCH_ORDER, _D_STEP, _G_STEP = 0, 1, 2
_QUIET = {"all": "ignore"}


# --- the losses --------------------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))  # never overflows; exact in both tails
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def discriminator_loss(
    kind: str, real: np.ndarray, fake: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """The discriminator's loss and its gradients w.r.t. its raw outputs.

    Parameters
    ----------
    kind : {"standard", "least_squares", "wasserstein"}
    real, fake : np.ndarray
        The discriminator's raw outputs (logits for ``standard``) on a batch of
        real and of generated samples.

    Returns
    -------
    (loss, d_real, d_fake)
        The batch loss (means over each batch) and its gradients, shaped as
        ``real`` and ``fake``.
    """
    real_loss, d_real = _discriminator_term(kind, real, True)
    fake_loss, d_fake = _discriminator_term(kind, fake, False)
    return real_loss + fake_loss, d_real, d_fake


def _discriminator_term(
    kind: str, out: np.ndarray, real: bool
) -> tuple[float, np.ndarray]:
    """The discriminator's loss on one batch (real or generated) and its
    gradient; the losses are sums of the two terms."""
    n = out.size
    if kind == "standard":  # BCE(sigmoid(out), 1 or 0)
        if real:
            return float(_softplus(-out).mean()), (_sigmoid(out) - 1.0) / n
        return float(_softplus(out).mean()), _sigmoid(out) / n
    if kind == "least_squares":  # ½(out - 1)² or ½out²
        target = 1.0 if real else 0.0
        return float(0.5 * np.mean((out - target) ** 2)), (out - target) / n
    if kind == "wasserstein":  # -out or out
        sign = -1.0 if real else 1.0
        return float(sign * out.mean()), np.full_like(out, sign / n)
    raise ConfigError(f"Unknown GAN loss {kind!r}; valid: {', '.join(GAN_LOSSES)}.")


def generator_loss(kind: str, fake: np.ndarray) -> tuple[float, np.ndarray]:
    """The generator's loss and its gradient w.r.t. the discriminator's raw
    outputs on the generated batch (non-saturating ``-log D(G(z))`` for
    ``standard``)."""
    n = fake.size
    if kind == "standard":
        return float(_softplus(-fake).mean()), (_sigmoid(fake) - 1.0) / n
    if kind == "least_squares":
        return float(0.5 * np.mean((fake - 1.0) ** 2)), (fake - 1.0) / n
    if kind == "wasserstein":
        return float(-fake.mean()), np.full_like(fake, -1.0 / n)
    raise ConfigError(f"Unknown GAN loss {kind!r}; valid: {', '.join(GAN_LOSSES)}.")


# --- configuration and compilation ---------------------------------------------------------


@dataclass(frozen=True)
class GanConfig:
    """How a GAN trains (from the Noise node and the network settings).

    Attributes
    ----------
    loss : {"standard", "least_squares", "wasserstein"}
    d_steps : int
        Discriminator steps per generator step (k).
    generator_lr, discriminator_lr : float
    clip_value : float
        Wasserstein only: the discriminator's weights stay in ``[-clip, clip]``.
    noise_shape : tuple of int
    distribution : {"normal", "uniform"}
        Standard normal, or uniform on [-1, 1].
    batch_size : int
        Real samples per discriminator step, noise samples per generator step.
    epochs : int
        Passes over the data ``GanSession.fit`` makes by default.
    seed : int
        Seeds the initial weights and every draw of the run.
    """

    loss: str = "standard"
    d_steps: int = 1
    generator_lr: float = 0.001
    discriminator_lr: float = 0.001
    clip_value: float = 0.01
    noise_shape: tuple[int, ...] = (2,)
    distribution: str = "normal"
    batch_size: int = 32
    epochs: int = 10
    seed: int = 0

    @classmethod
    def from_setup(
        cls, setup: GanSetup, settings: Mapping[str, Any], **overrides: Any
    ) -> GanConfig:
        """The config of a document's GAN setup and settings; ``overrides``
        replace fields (None values are ignored)."""
        lr = float(settings["learning_rate"])
        config = cls(
            loss=setup.loss,
            d_steps=setup.d_steps,
            generator_lr=lr if setup.generator_lr is None else setup.generator_lr,
            discriminator_lr=lr
            if setup.discriminator_lr is None
            else setup.discriminator_lr,
            clip_value=setup.clip_value,
            noise_shape=setup.noise_shape,
            distribution=setup.distribution,
            batch_size=int(settings["batch_size"]),
            epochs=int(settings["epochs"]),
            seed=int(settings["seed"]),
        )
        chosen = {k: v for k, v in overrides.items() if v is not None}
        return replace(config, **chosen) if chosen else config


@dataclass(frozen=True)
class CompiledGan:
    """A GAN document compiled: both models, built, and what they came from.

    Attributes
    ----------
    generator : Model
        Noise -> sample; layers named by node id, the model named "generator".
    discriminator : Model
        Sample -> one raw score (the standard loss's logit: its sigmoid is left
        out of the model and applied by ``GanTrainer.discriminate``).
    setup : GanSetup
        Which node is which.
    snapshot : Snapshot
        The frozen document.
    config : GanConfig
    """

    generator: Model
    discriminator: Model
    setup: GanSetup
    snapshot: Snapshot
    config: GanConfig

    @property
    def settings(self) -> Mapping[str, Any]:
        """The network settings of the snapshot."""
        return self.snapshot.settings


def _frozen(view: GraphView) -> Snapshot:
    if isinstance(view, Snapshot):
        return view
    return Snapshot(view.nodes, view.edges, view.settings, view.painted)


def _build(
    view: GraphView, ids: Sequence[str], linear_end: str | None
) -> dict[str, Layer]:
    """Engine layers of ``ids`` connected as drawn; ``linear_end`` gets a linear
    activation (the standard loss reads the discriminator's logit)."""
    layers: dict[str, Layer] = {}
    for node_id in ids:
        node = view.node(node_id)
        layer = node.spec.build_layer(node.params, node.id)
        assert layer is not None  # Output nodes are not in ids
        if node_id == linear_end:
            config = layer.get_config()
            config["activation"] = "linear"
            layer = type(layer).from_config(config)
        preds = view.predecessors(node_id)
        if preds:
            layer([layers[p] for p in preds] if len(preds) > 1 else layers[preds[0]])
        layers[node_id] = layer
    return layers


def compile_gan(
    view: GraphView,
    *,
    seed: int | None = None,
    dtype: np.dtype | type = np.float32,
    check_memory: bool = True,
) -> CompiledGan:
    """Build both models of a GAN document with fresh, seeded weights.

    The generator's weights are drawn from ``default_rng([seed, 1])``, the
    discriminator's from ``default_rng([seed, 2])``.

    Raises
    ------
    CompileError
        Listing every problem of the network (the GAN's own among them), or
        saying the document is not a GAN.
    ResourceError
        When training it would need more memory than this process can use.
    """
    snap = _frozen(view)
    if not is_gan(snap):
        raise CompileError(
            [
                Problem(
                    None,
                    "The network has no Noise node, so it is not a GAN: add a Noise "
                    "node and the generator's layers after it.",
                )
            ]
        )
    problems = check_network(snap)
    if problems:
        raise CompileError(problems)
    setup = gan_setup(snap)
    assert setup is not None  # no problems: the drawing is a GAN
    config = GanConfig.from_setup(setup, snap.settings)
    seed = config.seed if seed is None else int(seed)
    g_layers = _build(snap, setup.generator_ids, None)
    strip = setup.score_id if setup.loss == "standard" else None
    d_layers = _build(snap, setup.discriminator_ids, strip)
    generator = Model(
        inputs=g_layers[setup.noise_id],
        outputs=g_layers[setup.sample_id],
        name=GENERATOR_NAME,
        seed=seed,
        dtype=dtype,
    )
    discriminator = Model(
        inputs=d_layers[setup.input_id],
        outputs=d_layers[setup.score_id],
        name=DISCRIMINATOR_NAME,
        seed=seed,
        dtype=dtype,
    )
    if check_memory:
        for model in (generator, discriminator):
            check_training_memory(
                model, make_optimizer(snap.settings), config.batch_size
            )
    generator.build(np.random.default_rng([seed, 1]))
    discriminator.build(np.random.default_rng([seed, 2]))
    return CompiledGan(
        generator, discriminator, setup, snap, replace(config, seed=seed)
    )


# --- the trainer ---------------------------------------------------------------------------


def _regularized(model: Model) -> list[Layer]:
    return [layer for layer in model.layers if layer.has_regularization]


class GanTrainer:
    """Both networks of a GAN, their optimizers and step counters.

    Parameters
    ----------
    gan : CompiledGan
        The two models (``compile_gan``); the trainer updates their weights.
    g_optimizer, d_optimizer : Optimizer, optional
        Default: the optimizer the settings name. Either way their learning
        rates are set to the config's.
    config : GanConfig, optional
        Default: ``gan.config``.

    Attributes
    ----------
    generator, discriminator : Model
    g_optimizer, d_optimizer : Optimizer
    config : GanConfig
    d_steps_done, g_steps_done : int
        Discriminator and generator updates made so far (they index the noise
        of the next step).
    since_generator_step : int
        Discriminator steps of the schedule since the last generator step.

    A trainer is not thread-safe: one thread steps it (the window's worker
    while a run is under way).
    """

    def __init__(
        self,
        gan: CompiledGan,
        *,
        g_optimizer: Optimizer | None = None,
        d_optimizer: Optimizer | None = None,
        config: GanConfig | None = None,
    ) -> None:
        self.gan = gan
        self.generator = gan.generator
        self.discriminator = gan.discriminator
        self.config = config if config is not None else gan.config
        if self.config.loss not in GAN_LOSSES:
            raise ConfigError(
                f"Unknown GAN loss {self.config.loss!r}; valid: "
                f"{', '.join(GAN_LOSSES)}."
            )
        self.g_optimizer = g_optimizer or make_optimizer(gan.settings)
        self.d_optimizer = d_optimizer or make_optimizer(gan.settings)
        self.g_optimizer.lr = self.config.generator_lr
        self.d_optimizer.lr = self.config.discriminator_lr
        self.d_steps_done = 0
        self.g_steps_done = 0
        self.since_generator_step = 0
        self._g_reg = _regularized(self.generator)
        self._d_reg = _regularized(self.discriminator)

    # --- drawing -----------------------------------------------------------------------
    @property
    def dtype(self) -> np.dtype:
        """The models' float type."""
        return self.generator.dtype

    def noise(self, n: int, rng: np.random.Generator | int) -> np.ndarray:
        """``n`` noise samples ``(n, *noise_shape)`` in the models' dtype, drawn
        from ``rng`` (a Generator, or a seed for a fresh one)."""
        if not isinstance(rng, np.random.Generator):
            rng = np.random.default_rng(rng)
        shape = (int(n), *self.config.noise_shape)
        if self.config.distribution == "uniform":
            z = rng.uniform(-1.0, 1.0, shape)
        else:
            z = rng.standard_normal(shape)
        return z.astype(self.dtype, copy=False)

    def _step_rng(self, stream: int, counter: int) -> np.random.Generator:
        rng = np.random.default_rng([self.config.seed, stream, counter])
        self.generator.set_rng(rng)  # dropout masks of this step
        self.discriminator.set_rng(rng)
        return rng

    # --- inference ---------------------------------------------------------------------
    def sample(self, noise: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Generated samples ``(n, *sample_shape)`` for ``noise`` (inference mode,
        a copy)."""
        return np.asarray(self.generator.predict(noise, batch_size=batch_size))

    def discriminate(self, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """The discriminator's output per sample, shape ``(n,)``: the probability
        of being real for the standard loss, the raw score for the others
        (inference mode)."""
        out = np.asarray(self.discriminator.predict(x, batch_size=batch_size))
        out = out.reshape(len(out), -1)[:, 0]
        return _sigmoid(out) if self.config.loss == "standard" else out

    def sample_gradients(self, noise: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Generated samples and the gradient of the generator's loss w.r.t. each.

        Returns
        -------
        (samples, gradients)
            Both ``(n, *sample_shape)``. ``gradients[i]`` is the derivative of
            sample i's own loss term (the batch mean times n), so it does not
            shrink with the batch; a sample moves along ``-gradients[i]`` when
            the generator learns. Inference mode: no running statistic changes.
        """
        x = np.array(self.generator.forward(noise, training=False)[0], copy=True)
        out = np.array(self.discriminator.forward(x, training=False)[0], copy=True)
        _, grad = generator_loss(self.config.loss, out)
        (dx,) = self.discriminator.backward([grad * out.size])
        return x, np.array(dx, copy=True)

    # --- gradients without a step ----------------------------------------------------------
    def discriminator_gradients(
        self, real: np.ndarray, noise: np.ndarray
    ) -> dict[str, float]:
        """Fill the discriminator's gradients (``discriminator.gradients()``) for
        one batch, without stepping; returns the logs ``d_loss``, ``d_real``,
        ``d_fake``."""
        real = np.asarray(real, dtype=self.dtype)
        with np.errstate(**_QUIET):
            fake = np.array(self.generator.forward(noise, training=True)[0], copy=True)
            d, kind = self.discriminator, self.config.loss
            # Real batch, then generated batch, each through its own pass (as
            # PyTorch's errD_real.backward(); errD_fake.backward()): running
            # statistics see them apart, the gradients are summed.
            real_out = np.array(d.forward(real, training=True)[0], copy=True)
            real_loss, g_real = _discriminator_term(kind, real_out, True)
            d.backward([g_real])
            grads = d.gradients()
            kept = {k: g.copy() for k, g in grads.items()}
            fake_out = np.array(d.forward(fake, training=True)[0], copy=True)
            fake_loss, g_fake = _discriminator_term(kind, fake_out, False)
            d.backward([g_fake])
            for key, g in grads.items():
                g += kept[key]
            loss = real_loss + fake_loss
            for layer in self._d_reg:
                loss += layer.regularization_loss()
                layer.add_regularization_grads()
            if not math.isfinite(loss):
                raise NumericalError(
                    f"The discriminator's loss became {loss} (weights left "
                    "unchanged): lower the learning rates or scale the data."
                )
        return {
            "d_loss": loss,
            "d_real": self._mean_output(real_out),
            "d_fake": self._mean_output(fake_out),
        }

    def generator_gradients(self, noise: np.ndarray) -> dict[str, float]:
        """Fill the generator's gradients (``generator.gradients()``) for one
        batch of noise, through the discriminator, without stepping; returns the
        logs ``g_loss`` and ``d_fake``."""
        with np.errstate(**_QUIET):
            fake = self.generator.forward(noise, training=True)[0]
            out = np.array(
                self.discriminator.forward(fake, training=True)[0], copy=True
            )
            loss, grad = generator_loss(self.config.loss, out)
            for layer in self._g_reg:
                loss += layer.regularization_loss()
            if not math.isfinite(loss):
                raise NumericalError(
                    f"The generator's loss became {loss} (weights left unchanged): "
                    "lower the learning rates or scale the data."
                )
            (dx,) = self.discriminator.backward([grad])
            self.generator.backward([dx])
            for layer in self._g_reg:
                layer.add_regularization_grads()
        return {"g_loss": loss, "d_fake": self._mean_output(out)}

    def _mean_output(self, out: np.ndarray) -> float:
        return float(
            _sigmoid(out).mean() if self.config.loss == "standard" else out.mean()
        )

    # --- steps ---------------------------------------------------------------------
    def discriminator_step(
        self, real: np.ndarray, noise: np.ndarray | None = None
    ) -> dict[str, float]:
        """One discriminator update on a batch of real samples and generated ones.

        Parameters
        ----------
        real : np.ndarray
            ``(n, *sample_shape)`` real samples.
        noise : np.ndarray, optional
            The generator's noise for the fake half; default: ``n`` samples drawn
            for this step (``default_rng([seed, 1, d_steps_done])``).

        Returns
        -------
        dict
            ``d_loss``, ``d_real``, ``d_fake``.
        """
        rng = self._step_rng(_D_STEP, self.d_steps_done)
        if noise is None:
            noise = self.noise(len(real), rng)
        logs = self.discriminator_gradients(real, noise)
        d = self.discriminator
        params = d.trainable_weights()
        self.d_optimizer.step(params, d.gradients())
        if self.config.loss == "wasserstein":
            c = self.config.clip_value
            for p in params.values():
                np.clip(p, -c, c, out=p)
        self.d_steps_done += 1
        return logs

    def generator_step(self, noise: np.ndarray | None = None) -> dict[str, float]:
        """One generator update through the discriminator (whose weights stay).

        Parameters
        ----------
        noise : np.ndarray, optional
            Default: ``batch_size`` samples drawn for this step
            (``default_rng([seed, 2, g_steps_done])``).

        Returns
        -------
        dict
            ``g_loss``, ``d_fake`` (the discriminator's mean output on the batch
            before the update).
        """
        rng = self._step_rng(_G_STEP, self.g_steps_done)
        if noise is None:
            noise = self.noise(self.config.batch_size, rng)
        logs = self.generator_gradients(noise)
        g = self.generator
        self.g_optimizer.step(g.trainable_weights(), g.gradients())
        self.g_steps_done += 1
        return logs

    def train_batch(self, real: np.ndarray, mode: str = "both") -> dict[str, float]:
        """One batch of the schedule: a discriminator step on ``real``, then a
        generator step once k discriminator steps have passed.

        Parameters
        ----------
        real : np.ndarray
            A batch of real samples.
        mode : {"both", "discriminator", "generator"}
            ``"both"``: the schedule; ``"discriminator"``: the discriminator step
            only; ``"generator"``: a generator step only (``real`` unused).
            Steps taken alone leave the schedule's count as it is.

        Returns
        -------
        dict
            The logs of the steps taken (``GAN_LOG_KEYS`` that apply).
        """
        if mode == "generator":
            return self.generator_step()
        if mode not in ("both", "discriminator"):
            raise ConfigError(
                f"Unknown GAN step {mode!r}; valid: both, discriminator, generator."
            )
        logs = self.discriminator_step(real)
        if mode == "both":
            self.since_generator_step += 1
            if self.since_generator_step >= self.config.d_steps:
                self.since_generator_step = 0
                g_logs = self.generator_step()
                logs["g_loss"] = g_logs["g_loss"]
        return logs

    # --- state -----------------------------------------------------------------------
    def get_weights(self) -> dict[str, np.ndarray]:
        """Copies of both networks' weights, keyed ``"<node_id>/<param>"``."""
        return {**self.generator.get_weights(), **self.discriminator.get_weights()}

    def set_weights(self, weights: Mapping[str, np.ndarray]) -> None:
        """Copy ``weights`` (both networks', as ``get_weights``) into the models.

        Raises
        ------
        ConfigError, ShapeError
            For a missing key or an array of another shape.
        """
        for model in (self.generator, self.discriminator):
            mine = {k: weights[k] for k in model.get_weights() if k in weights}
            model.set_weights(mine, strict=True)

    def counters(self) -> dict[str, int]:
        """The step counters (``gan.json`` in a file)."""
        return {
            "d_steps_done": self.d_steps_done,
            "g_steps_done": self.g_steps_done,
            "since_generator_step": self.since_generator_step,
        }

    def set_counters(self, counters: Mapping[str, int]) -> None:
        """Restore ``counters()``."""
        self.d_steps_done = int(counters["d_steps_done"])
        self.g_steps_done = int(counters["g_steps_done"])
        self.since_generator_step = int(counters["since_generator_step"])


# --- the session ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class GanState:
    """Copies of everything a trained GAN is, taken at one batch boundary.

    Attributes
    ----------
    snapshot : Snapshot
    weights : dict[str, np.ndarray]
        Both networks' weights, ``"<node_id>/<param>"``.
    g_optimizer_state, d_optimizer_state : dict[str, np.ndarray]
        ``Optimizer.get_state()`` of each network's optimizer.
    optimizer_name : str
    history : dict[str, list[float]]
        ``GAN_LOG_KEYS`` per finished epoch.
    run : dict
        The step counters (``GanTrainer.counters()``), the run's place in the
        data (``epoch``: finished epochs, ``batch``: batches done in the
        current one) and ``partial``: ``{log key: [sum, count]}`` of the epoch
        under way.
    trained : bool
    """

    snapshot: Snapshot
    weights: dict[str, np.ndarray]
    g_optimizer_state: dict[str, np.ndarray]
    d_optimizer_state: dict[str, np.ndarray]
    optimizer_name: str
    history: dict[str, list[float]]
    run: dict[str, Any] = field(default_factory=dict)
    trained: bool = False

    @classmethod
    def from_project(cls, project: Project) -> GanState:
        """The GAN state a loaded ``Project`` holds (``Project.gan_state``)."""
        doc = project.document
        gan = project.gan_state or {}
        g_keys = _generator_keys(doc)
        g_state, d_state = _split_optimizer_state(
            project.optimizer_state, g_keys, gan.get("generator_iterations", 0)
        )
        return cls(
            snapshot=doc.snapshot(),
            weights=dict(project.weights),
            g_optimizer_state=g_state,
            d_optimizer_state=d_state,
            optimizer_name=project.optimizer_name or str(doc.settings["optimizer"]),
            history={k: list(v) for k, v in project.history.items()},
            run={k: v for k, v in gan.items() if k != "generator_iterations"},
            trained=bool(project.weights),
        )

    def to_project(
        self,
        document: GraphView | None = None,
        metadata: ProjectMetadata | None = None,
    ) -> Project:
        """A ``Project`` of this state: both networks' weights in
        ``weights.npz``, both optimizers' moments in ``optimizer.npz`` (each
        keyed by its own nodes; ``iterations`` is the discriminator's), the
        generator's iteration count and the step counters in ``gan.json``.

        Parameters
        ----------
        document : GraphView, optional
            The document to save (default: the compiled snapshot). The window
            passes its live document, which may have been edited since: nodes
            the models lack, or whose shapes changed, get fresh weights and no
            optimizer moments (``complete_weights``).
        metadata : ProjectMetadata, optional
        """
        view = document if document is not None else self.snapshot
        doc = view.copy() if isinstance(view, Document) else _as_document(view)
        if not self.trained:
            return Project(
                document=doc,
                history={k: list(v) for k, v in self.history.items()},
                metadata=metadata or ProjectMetadata.new(),
            )
        stored = complete_weights(
            doc, self.weights, int(self.snapshot.settings["seed"])
        )
        fresh = {
            k.split("/", 1)[0]
            for k, w in stored.items()
            if k not in self.weights or self.weights[k].shape != w.shape
        }
        ours = {k.split("/", 1)[0] for k in stored} - fresh
        state = {
            k: v
            for k, v in {**self.g_optimizer_state, **self.d_optimizer_state}.items()
            if k != "iterations" and k.split("/", 1)[0] in ours
        }
        state["iterations"] = self.d_optimizer_state.get(
            "iterations", np.array(0, dtype=np.int64)
        )
        gan = dict(self.run)
        gan["generator_iterations"] = int(
            self.g_optimizer_state.get("iterations", np.int64(0))
        )
        return Project(
            document=doc,
            weights=stored,
            optimizer_state=state,
            history={k: list(v) for k, v in self.history.items()},
            optimizer_name=self.optimizer_name,
            metadata=metadata or ProjectMetadata.new(),
            gan_state=gan,
        )


def _generator_keys(view: GraphView) -> set[str]:
    setup = gan_setup(view)
    return set(setup.generator_ids) if setup is not None else set()


def _split_optimizer_state(
    state: Mapping[str, np.ndarray], generator_nodes: set[str], g_iterations: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    g: dict[str, np.ndarray] = {}
    d: dict[str, np.ndarray] = {}
    for key, value in state.items():
        if key == "iterations":
            continue
        (g if key.split("/", 1)[0] in generator_nodes else d)[key] = value
    if state:
        g["iterations"] = np.array(int(g_iterations), dtype=np.int64)
        d["iterations"] = np.asarray(state.get("iterations", 0), dtype=np.int64)
    return g, d


def _as_document(view: GraphView) -> Document:
    if isinstance(view, Snapshot):
        return view.to_document()
    return Snapshot(view.nodes, view.edges, view.settings, view.painted).to_document()


class GanSession:
    """One GAN with everything it needs to train and be saved: the one owner of
    its trained state, as ``TrainingSession`` is for other networks.

    Parameters
    ----------
    view : GraphView
        A GAN document (snapshotted).
    state : GanState, optional
        Weights, optimizer states, counters and history to carry on from (a
        loaded file's); nodes whose weights do not fit start fresh.
    base_dir : str or Path, optional
        Folder relative dataset paths are resolved against (the file's).
    metadata : ProjectMetadata, optional

    Attributes
    ----------
    gan : CompiledGan
    trainer : GanTrainer
    history : TrainingHistory
        ``GAN_LOG_KEYS`` per finished epoch.
    epoch : int
        Finished epochs (the history's length once a run is under way).
    batch : int
        Batches done in the current epoch (0 at an epoch boundary).
    data : np.ndarray or None
        The real samples last prepared (``prepare``), shaped as the Input.
    """

    def __init__(
        self,
        view: GraphView,
        *,
        state: GanState | None = None,
        base_dir: str | Path | None = None,
        metadata: ProjectMetadata | None = None,
    ) -> None:
        self.gan = compile_gan(view)
        self.trainer = GanTrainer(self.gan)
        self.base_dir = Path(base_dir) if base_dir is not None else None
        self.metadata = metadata
        self.history = TrainingHistory(state.history if state is not None else None)
        self.epoch = self.history.epochs
        self.batch = 0
        self.data: np.ndarray | None = None
        self._dataset: Dataset | None = None
        # Sum and count of each log of the epoch under way (its mean goes to
        # the history when it ends; a file saved mid-epoch keeps them).
        self._partial: dict[str, list[float]] = {}
        self._order: tuple[tuple[int, int], np.ndarray] | None = None
        self.lr_factor = 1.0
        if state is not None and state.trained:
            self._restore(state)

    def _restore(self, state: GanState) -> None:
        t = self.trainer
        for model, opt, saved in (
            (t.generator, t.g_optimizer, state.g_optimizer_state),
            (t.discriminator, t.d_optimizer, state.d_optimizer_state),
        ):
            current = model.get_weights()
            if not all(
                k in state.weights and state.weights[k].shape == v.shape
                for k, v in current.items()
            ):
                log.info("Weights of the %s do not fit; it starts afresh.", model.name)
                continue
            model.set_weights({k: state.weights[k] for k in current})
            if saved and state.optimizer_name == str(self.settings["optimizer"]):
                mine = {
                    k: v
                    for k, v in saved.items()
                    if k == "iterations" or k.rsplit("/", 1)[0] in current
                }
                try:
                    opt.set_state(mine)
                except NNDeskError as exc:  # moments that do not fit: start afresh
                    log.warning(
                        "Optimizer state of the %s dropped: %s", model.name, exc
                    )
                    opt.reset()
        run = state.run
        if run:
            t.set_counters(run)
            self.epoch = int(run.get("epoch", self.epoch))
            self.batch = int(run.get("batch", 0))
            partial = run.get("partial") or {}
            self._partial = {k: [float(v[0]), int(v[1])] for k, v in partial.items()}
            self.scale_learning_rates(float(run.get("lr_factor", 1.0)))

    # --- construction -----------------------------------------------------------------
    @classmethod
    def from_project(
        cls, project: Project, base_dir: str | Path | None = None
    ) -> GanSession:
        """A session holding everything a loaded GAN ``Project`` holds."""
        return cls(
            project.document,
            state=GanState.from_project(project),
            base_dir=base_dir,
            metadata=project.metadata,
        )

    @classmethod
    def open(cls, path: str | Path) -> GanSession:
        """Load a GAN ``.nndesk`` file.

        Raises
        ------
        FileFormatError
            For a missing, corrupt or incompatible file.
        CompileError
            For a network that is not a GAN that compiles.
        """
        path = Path(path)
        return cls.from_project(load_project(path), base_dir=path.resolve().parent)

    # --- what it is -------------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        """The document the models were compiled from."""
        return self.gan.snapshot

    @property
    def settings(self) -> Mapping[str, Any]:
        """The network settings."""
        return self.gan.settings

    @property
    def config(self) -> GanConfig:
        """How the GAN trains."""
        return self.trainer.config

    @property
    def trained(self) -> bool:
        """Whether either network has been stepped (here or before saving)."""
        t = self.trainer
        return t.d_steps_done > 0 or t.g_steps_done > 0 or self.history.epochs > 0

    def capture(self) -> GanState:
        """Copies of both networks' weights and optimizer states, the counters
        and the history, now (call it from the thread that trains)."""
        t = self.trainer
        run: dict[str, Any] = {
            **t.counters(),
            "epoch": self.epoch,
            "batch": self.batch,
            "partial": {k: [v[0], int(v[1])] for k, v in self._partial.items()},
        }
        if self.lr_factor != 1.0:
            run["lr_factor"] = self.lr_factor
        return GanState(
            snapshot=self.snapshot,
            weights=t.get_weights(),
            g_optimizer_state=t.g_optimizer.get_state(),
            d_optimizer_state=t.d_optimizer.get_state(),
            optimizer_name=str(self.settings["optimizer"]),
            history=self.history.as_dict(),
            run=run,
            trained=self.trained,
        )

    # --- data -------------------------------------------------------------------------
    def load_dataset(self, spec: str | None = None) -> Dataset:
        """The dataset ``spec`` names (default: the ``dataset`` setting; relative
        paths of the setting are relative to ``base_dir``).

        Raises
        ------
        DatasetError
            When nothing is named or it cannot be loaded.
        """
        return load_settings_dataset(
            self.settings,
            spec=spec,
            base_dir=self.base_dir if spec is None else None,
            painted=self.snapshot.painted,
        )

    def prepare(self, dataset: Dataset) -> np.ndarray:
        """The dataset's samples as the discriminator's Input takes them (float,
        labels ignored); kept as ``data``.

        Raises
        ------
        DataError
            When the samples do not have the Input's shape.
        """
        want = tuple(self.gan.discriminator.input_shapes[0])
        x = np.asarray(dataset.x)
        shape = tuple(x.shape[1:])
        if shape != want and (*shape, 1) == want:
            x = x.reshape(len(x), *want)
        elif shape != want:
            data_id = self.gan.setup.input_id
            raise DataError(
                f"The dataset's samples have shape {shape} but the GAN's Input "
                f"'{data_id}' takes {want}: set the Input shape to {shape}."
            )
        self.data = np.ascontiguousarray(x, dtype=self.trainer.dtype)
        self._order = None
        self._dataset = dataset
        return self.data

    # --- training ---------------------------------------------------------------------
    def scale_learning_rates(self, factor: float) -> None:
        """Train on with both learning rates ``factor`` times the config's
        (``lr_factor``, kept in a saved file so continuing stays exact)."""
        if not (math.isfinite(factor) and factor > 0):
            raise ConfigError(f"A learning-rate factor must be above 0, got {factor}.")
        t = self.trainer
        t.g_optimizer.lr = t.config.generator_lr * factor
        t.d_optimizer.lr = t.config.discriminator_lr * factor
        self.lr_factor = float(factor)

    def set_learning_rate(self, lr: float) -> None:
        """A new base learning rate (the window's rate box, ``TrainingControl
        .set_lr``): both networks' rates keep their ratio to the
        ``learning_rate`` setting, so a network without a rate of its own trains
        at ``lr``."""
        self.scale_learning_rates(float(lr) / float(self.settings["learning_rate"]))

    def batches_per_epoch(self) -> int:
        """Discriminator batches in one pass over ``data``."""
        if self.data is None:
            return 0
        return max(1, math.ceil(len(self.data) / self.config.batch_size))

    def next_batch(self) -> np.ndarray:
        """The real samples of the run's next batch (its place does not move)."""
        if self.data is None:
            raise DataError("The GAN has no data yet: call prepare(dataset) first.")
        key = (self.epoch, len(self.data))
        if self._order is None or self._order[0] != key:  # drawn once an epoch
            rng = np.random.default_rng([self.config.seed, _EPOCH_ORDER, self.epoch])
            self._order = (key, rng.permutation(len(self.data)))
        order = self._order[1]
        bs = self.config.batch_size
        return self.data[order[self.batch * bs : (self.batch + 1) * bs]]

    def step(self, mode: str = "both") -> dict[str, float]:
        """Train one batch (see ``GanTrainer.train_batch``); discriminator
        steps take the run's next batch of real data and move its place on.

        Returns
        -------
        dict
            The logs of the steps taken; ``"epoch_ended": True`` when the batch
            was its epoch's last (not appended to the history: ``fit`` does
            that).
        """
        real = self.next_batch() if mode != "generator" else np.empty(0)
        logs: dict[str, Any] = dict(self.trainer.train_batch(real, mode))
        if mode != "generator":
            self.batch += 1
            if self.batch >= self.batches_per_epoch():
                self.batch = 0
                self.epoch += 1
                logs["epoch_ended"] = True
        return logs

    def fit(
        self,
        dataset: Dataset | None = None,
        *,
        epochs: int | None = None,
        callbacks: Iterable[Callback] = (),
        control: TrainingControl | None = None,
        on_epoch_end: Callable[[int, dict[str, float]], Any] | None = None,
    ) -> TrainingHistory:
        """Train for ``epochs`` more epochs (default: the ``epochs`` setting).

        A run saved between two batches continues where it stopped: the rest of
        that epoch first. Each finished epoch appends the means of its
        ``GAN_LOG_KEYS`` to the history and goes to the callbacks'
        ``on_epoch_end(epoch, logs)`` (``epoch`` 0-based, Keras style; the logs
        add the progress keys ``epochs``, ``epoch_time`` and
        ``samples_per_sec``, so ``ProgressPrinter`` prints GAN runs too) and to
        ``on_epoch_end(epoch, means)``; ``on_batch_end(batch, logs)`` gets every
        batch's logs. ``control`` pauses, steps and stops between batches, and
        a rate it is given (``set_lr``) goes to ``set_learning_rate``.

        Returns
        -------
        TrainingHistory
            The whole history.
        """
        if dataset is not None or self.data is None:
            self.prepare(dataset if dataset is not None else self.load_dataset())
        n = self.config.epochs if epochs is None else int(epochs)
        goal = self.epoch + n  # a partial epoch's rest counts as one
        hooks = list(callbacks)
        for cb in hooks:
            cb.set_model(self.trainer.generator)
            cb.on_train_begin({})
        started, samples = time.perf_counter(), 0
        try:
            while self.epoch < goal:
                if control is not None:
                    if not control.wait_for_batch():
                        break
                    lr = control.take_lr()
                    if lr is not None:
                        self.set_learning_rate(lr)
                batch = self.batch
                logs = self.step()
                samples += self.config.batch_size
                ended = bool(logs.pop("epoch_ended", False))
                for key in GAN_LOG_KEYS:
                    if key in logs:
                        total = self._partial.setdefault(key, [0.0, 0])
                        total[0] += float(logs[key])
                        total[1] += 1
                for cb in hooks:
                    cb.on_batch_end(batch, dict(logs))
                if control is not None:
                    control.batch_done(epoch_ended=ended)
                if ended:
                    means = {
                        k: self._partial[k][0] / self._partial[k][1]
                        for k in GAN_LOG_KEYS
                        if k in self._partial
                    }
                    self.history.append(means)
                    self._partial = {}
                    took = max(time.perf_counter() - started, 1e-9)
                    progress = {
                        "epochs": goal,
                        "epoch_time": took,
                        "samples_per_sec": samples / took,
                    }
                    started, samples = time.perf_counter(), 0
                    for cb in hooks:
                        cb.on_epoch_end(self.epoch - 1, {**means, **progress})
                    if on_epoch_end is not None:
                        on_epoch_end(self.epoch - 1, means)
        finally:
            for cb in hooks:
                cb.on_train_end({})
        return self.history

    def summary(self) -> str:
        """Both networks' layer tables and the GAN's setup, as ``nndesk summary``
        prints them."""
        c, s = self.config, self.settings
        k = c.d_steps
        lines = [
            "Generator:",
            self.trainer.generator.summary(),
            "Discriminator:",
            self.trainer.discriminator.summary(),
        ]
        if c.loss == "standard":
            lines.append(
                f"({self.gan.setup.score_id}'s sigmoid is part of the standard "
                "loss, which reads its logit.)"
            )
        lines += [
            f"GAN: {c.loss} loss, {k} discriminator step{'s' if k != 1 else ''} "
            f"per generator step, noise {c.noise_shape} {c.distribution}"
            + (
                f", weights clipped to ±{c.clip_value:g}"
                if c.loss == "wasserstein"
                else ""
            )
            + ".",
            f"Optimizer {s['optimizer']}: learning rate {c.generator_lr:g} "
            f"(generator), {c.discriminator_lr:g} (discriminator); batch size "
            f"{c.batch_size}, {c.epochs} epoch{'s' if c.epochs != 1 else ''}.",
            f"Dataset: {s['dataset'] or '(none chosen)'}",
        ]
        epochs = self.history.epochs
        if epochs:
            last = {k: self.history.last(k) for k in ("d_loss", "g_loss")}
            done = f"{epochs} epoch{'s' if epochs != 1 else ''}"
            parts = [f"{k} {v:.4f}" for k, v in last.items() if v is not None]
            lines.append(f"Trained: {done} (last {', '.join(parts)}).")
        else:
            lines.append("Trained: not yet.")
        return "\n".join(lines)

    # --- saving -----------------------------------------------------------------------
    def to_project(self, document: GraphView | None = None) -> Project:
        """A ``Project`` of this session (see ``GanState.to_project``)."""
        return self.capture().to_project(document, metadata=self.metadata)

    def save(self, path: str | Path) -> None:
        """Save as a ``.nndesk`` file (atomically); a relative dataset path is
        rewritten to name the same file from the new folder."""
        project = self.to_project()
        spec = str(project.document.settings.get("dataset") or "")
        folder = Path(path).resolve().parent
        project.document.set_setting(
            "dataset", rebase_spec(spec, self.base_dir, folder)
        )
        save_project(path, project)
