"""What the live recurrent views show, in NumPy only: the hidden and cell states and
the gates of one sequence over time, how saturated each unit's gates are, the
gradient reaching each time step, sampled text and forecasts.

The training thread computes a ``SequenceProbe`` between batches
(``SequenceProber.probe``) and hands it over as fresh arrays; the panels only draw.

Shapes: a sequence input is ``(time, features)`` per sample (or ``(time,)`` token
ids feeding an Embedding); a recurrent layer's internals are ``(time, units)``
per sample, the directions of a bidirectional layer side by side.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from nndesk.engine.layers.recurrent import GRU, LSTM, SimpleRNN
from nndesk.engine.model import Model
from nndesk.io.datasets.text import token_name
from nndesk.io.errors import DatasetError
from nndesk.training import explain

log = logging.getLogger(__name__)

__all__ = [
    "GATE_HIGH",
    "GATE_LOW",
    "TEMPERATURES",
    "Forecast",
    "LayerTrace",
    "PromptWindow",
    "SequenceProbe",
    "SequenceProber",
    "TextPrompt",
    "TextSampler",
    "gate_saturation",
    "prompt_window",
    "recurrent_layers",
    "rollout",
    "sample_text",
    "sampling_rng",
    "step_gradient_norms",
    "temperature_probabilities",
    "token_labels",
]

GATE_LOW, GATE_HIGH = 0.1, 0.9
"""A gate value below ``GATE_LOW`` counts as shut, above ``GATE_HIGH`` as open."""
TEMPERATURES = (0.2, 0.5, 0.8, 1.0, 1.3)
"""The temperatures text is sampled at each epoch (the panel's slider stops)."""
SAMPLE_LENGTH = 80
"""Characters generated per temperature (each costs a forward pass of the window:
80 took 0.4-1.8 s for the character example's LSTM 128 on a loaded 2-core machine,
so samples are drawn once per epoch and chosen sequence)."""
GRADIENT_ROWS = 32
"""Sequences of the probe batch the gradient through time is averaged over."""
SATURATION_ROWS = 32
"""Sequences the gate saturation is counted over."""
FORECAST_POINTS = 200
"""Most (true, predicted) pairs of the forecast scatter."""


def recurrent_layers(model: Model) -> list[SimpleRNN | LSTM | GRU]:
    """The model's recurrent layers in topological order."""
    return [
        layer for layer in model.layers if isinstance(layer, (SimpleRNN, LSTM, GRU))
    ]


# --- numbers ---------------------------------------------------------------------------
def gate_saturation(
    gate: np.ndarray, low: float = GATE_LOW, high: float = GATE_HIGH
) -> tuple[np.ndarray, np.ndarray]:
    """Fraction of time each unit's gate sits near 0 and near 1.

    Parameters
    ----------
    gate : np.ndarray
        ``(n, time, units)`` gate activations in [0, 1] of ``n`` sequences.

    Returns
    -------
    shut, open : np.ndarray
        ``(units,)`` float64: the share of the ``n * time`` values below ``low``
        and above ``high``.
    """
    g = np.asarray(gate, dtype=np.float64).reshape(-1, gate.shape[-1])
    if not len(g):
        zeros = np.zeros(gate.shape[-1])
        return zeros, zeros.copy()
    return (g < low).mean(axis=0), (g > high).mean(axis=0)


def step_gradient_norms(gradient: np.ndarray) -> np.ndarray:
    """``(n, time, features)`` gradients -> ``(time,)`` float64: the mean over the
    ``n`` sequences of the gradient's Euclidean norm at each step."""
    g = np.asarray(gradient, dtype=np.float64)
    g = g.reshape(g.shape[0], g.shape[1], -1)
    return np.sqrt((g * g).sum(axis=2)).mean(axis=0)


def temperature_probabilities(p: np.ndarray, temperature: float) -> np.ndarray:
    """Class probabilities ``p`` (last axis) re-weighted to ``p ** (1 / T)``,
    normalised: softmax of the logits divided by ``temperature``; float64."""
    q = np.log(np.maximum(np.asarray(p, dtype=np.float64), 1e-300))
    q /= max(float(temperature), 1e-6)
    q -= q.max(axis=-1, keepdims=True)
    np.exp(q, out=q)
    return q / q.sum(axis=-1, keepdims=True)


def _next_probabilities(model: Model, x: np.ndarray) -> np.ndarray:
    # A copy: the output is the model's buffer, which the next pass overwrites.
    out = np.array(model.forward(x, training=False)[0], dtype=np.float64)
    return out.reshape(len(x), -1)


def sample_text(
    model: Model,
    vocabulary: Sequence[str],
    prompt_ids: np.ndarray,
    temperatures: Sequence[float],
    length: int,
    rng: np.random.Generator,
    should_stop: Callable[[], bool] | None = None,
) -> list[str] | None:
    """Generate ``length`` tokens after ``prompt_ids`` at each temperature.

    The model maps a window of token ids ``(window,)`` to next-token
    probabilities; each step appends the drawn id and slides the window on. All
    temperatures run as one batch.

    Parameters
    ----------
    prompt_ids : np.ndarray
        ``(window,)`` the ids of the starting window.
    should_stop : callable, optional
        Asked before each step; True abandons the generation (returns None).

    Returns
    -------
    list of str or None
        One generated text (without the prompt) per temperature; None when
        ``should_stop`` said so.
    """
    k = len(temperatures)
    window = np.repeat(np.asarray(prompt_ids, dtype=model.dtype)[None], k, axis=0)
    drawn = np.zeros((k, int(length)), dtype=np.int64)
    for step in range(int(length)):
        if should_stop is not None and should_stop():
            return None
        p = _next_probabilities(model, window)
        for row, t in enumerate(temperatures):
            q = temperature_probabilities(p[row], t)
            drawn[row, step] = min(
                int(np.searchsorted(q.cumsum(), rng.random())), len(q) - 1
            )
        window[:, :-1] = window[:, 1:]
        window[:, -1] = drawn[:, step]
    n = len(vocabulary)
    return ["".join(vocabulary[i] if i < n else "?" for i in row) for row in drawn]


def rollout(model: Model, window: np.ndarray, steps: int) -> np.ndarray:
    """Forecast ``steps`` values by feeding predictions back.

    Parameters
    ----------
    window : np.ndarray
        ``(time, features)`` the starting window; the model predicts the next
        ``h`` steps of every feature (``h * features`` outputs).

    Returns
    -------
    np.ndarray
        ``(steps, features)`` float64.
    """
    w = np.array(window, dtype=model.dtype)
    features = w.shape[1]
    out: list[np.ndarray] = []
    done = 0
    while done < steps:
        pred = _next_probabilities(model, w[None])[0].reshape(-1, features)
        out.append(pred)
        done += len(pred)
        w = np.concatenate([w[len(pred) :], pred.astype(w.dtype)])[-len(w) :]
    return np.concatenate(out)[:steps]


def token_labels(
    sequence: np.ndarray, vocabulary: Sequence[str] | None = None
) -> tuple[str, ...]:
    """One label per time step of a ``(time,)`` or ``(time, features)`` input: the
    character of a token id, or the first feature's value."""
    s = np.asarray(sequence)
    if vocabulary:
        n = len(vocabulary)
        ids = np.rint(s.reshape(len(s), -1)[:, 0]).astype(np.int64)
        return tuple(vocabulary[i] if 0 <= i < n else "?" for i in ids)
    first = s.reshape(len(s), -1)[:, 0].astype(np.float64)
    return tuple(f"{v:.2g}" for v in first)


# --- prompts ---------------------------------------------------------------------------
MAX_SAMPLE_LENGTH = 2000
"""Most characters one sample asks for (each is a forward pass of the window)."""


@dataclass(frozen=True)
class TextPrompt:
    """What the text sampling view asks for (immutable: it crosses threads as is).

    Attributes
    ----------
    text : str
        The typed prompt; "" for the chosen training sequence.
    length : int
        Characters to generate after it.
    seed : int
        With the epoch, seeds the draw (``sampling_rng``): another seed, other text.
    """

    text: str = ""
    length: int = SAMPLE_LENGTH
    seed: int = 0


@dataclass(frozen=True)
class PromptWindow:
    """A typed prompt as the model reads it.

    Attributes
    ----------
    ids : np.ndarray
        ``(window,)`` float32 token ids of the window the generation starts from.
    text : str
        The prompt's characters the vocabulary knows, in order (the text shown).
    unknown : tuple of str
        The distinct characters left out, in the order first typed.
    padded : int
        Copies of ``pad`` put before the prompt to fill the window.
    cut : int
        Characters at the prompt's start the window leaves out.
    pad : str
        The padding character.
    """

    ids: np.ndarray
    text: str
    unknown: tuple[str, ...] = ()
    padded: int = 0
    cut: int = 0
    pad: str = " "

    def notes(self, vocabulary_size: int) -> str:
        """One line for the panel on what was left out, padded or cut ("": none)."""
        parts = []
        if self.unknown:
            names = ", ".join(repr(token_name(c)) for c in self.unknown[:8])
            more = f" and {len(self.unknown) - 8} more" if len(self.unknown) > 8 else ""
            parts.append(
                f"Left out {names}{more}: not in the network's vocabulary of "
                f"{vocabulary_size} characters."
            )
        window = len(self.ids)
        if self.padded:
            parts.append(
                f"The model reads {window} characters: padded on the left with "
                f"{self.padded} × {token_name(self.pad)!r}."
            )
        elif self.cut:
            parts.append(
                f"The model reads {window} characters: it starts from the last "
                f"{window} of the prompt's {len(self.text)}."
            )
        return " ".join(parts)


def prompt_window(text: str, vocabulary: Sequence[str], window: int) -> PromptWindow:
    """The window of token ids a typed ``text`` starts generation from.

    Characters outside ``vocabulary`` are left out (and named); a short prompt
    is padded on the left with a space (the first character of the vocabulary
    without one), a long one keeps its last ``window`` characters.

    Raises
    ------
    DatasetError
        When the prompt is empty or none of its characters is in the vocabulary.
    """
    if not text:
        raise DatasetError("The prompt is empty: type some text to start from.")
    lookup = {t: i for i, t in enumerate(vocabulary)}
    kept = [c for c in text if c in lookup]
    unknown = tuple(dict.fromkeys(c for c in text if c not in lookup))
    if not kept:
        names = ", ".join(repr(token_name(c)) for c in unknown[:8])
        raise DatasetError(
            f"None of the prompt's characters ({names}) is in the network's "
            f"vocabulary of {len(lookup)} characters: type text like the training text."
        )
    pad = " " if " " in lookup else str(vocabulary[0])
    window = int(window)
    padded, cut = max(0, window - len(kept)), max(0, len(kept) - window)
    ids = np.array(
        [lookup[pad]] * padded + [lookup[c] for c in kept[cut:]], dtype=np.float32
    )
    return PromptWindow(ids, "".join(kept), unknown, padded, cut, pad)


def sampling_rng(seed: int, epoch: int) -> np.random.Generator:
    """The generator a sample with ``seed`` draws from after ``epoch``."""
    return np.random.default_rng([int(seed), int(epoch)])


class TextSampler:
    """Samples text on a model of its own, from weights handed over each time.

    The model is built on first use, in the thread that samples (a pool thread
    between runs), so sampling never touches the model a worker trains or the
    one the window probes. One sample at a time (a lock).

    Parameters
    ----------
    build : callable
        Returns a new built model of the network (same layer names).
    vocabulary : sequence of str
        Token id -> character.
    window : int
        Token ids the model reads.
    """

    def __init__(
        self, build: Callable[[], Model], vocabulary: Sequence[str], window: int
    ) -> None:
        self._build = build
        self.vocabulary = list(vocabulary)
        self.window = int(window)
        self._model: Model | None = None
        self._lock = threading.Lock()

    def sample(
        self,
        weights: Mapping[str, np.ndarray],
        prompt_ids: np.ndarray,
        length: int,
        rng: np.random.Generator,
        should_stop: Callable[[], bool] | None = None,
    ) -> dict[float, str] | None:
        """Temperature -> ``length`` characters after ``prompt_ids`` (``(window,)``)
        with ``weights``, at every ``TEMPERATURES`` stop (None: stopped)."""
        with self._lock:
            if self._model is None:
                self._model = self._build()
            self._model.set_weights(dict(weights))
            texts = sample_text(
                self._model,
                self.vocabulary,
                prompt_ids,
                TEMPERATURES,
                length,
                rng,
                should_stop,
            )
        return None if texts is None else dict(zip(TEMPERATURES, texts, strict=True))


# --- the probe ---------------------------------------------------------------------------
@dataclass
class LayerTrace:
    """One recurrent layer over the chosen sequence.

    Attributes
    ----------
    kind : str
        ``"SimpleRNN"``, ``"LSTM"`` or ``"GRU"``.
    hidden, cell : np.ndarray
        ``(time, units)`` float32 states (``cell`` LSTM only, else None).
    gates : dict
        Gate name -> ``(time, units)`` float32 activations (LSTM ``input``,
        ``forget``, ``output``; GRU ``update``, ``reset``).
    saturation : dict
        Gate name -> ``(shut, open)``, each ``(units,)``: the share of time over
        the probe sequences the unit's gate is below ``GATE_LOW`` / above
        ``GATE_HIGH``.
    """

    kind: str
    hidden: np.ndarray
    cell: np.ndarray | None = None
    gates: dict[str, np.ndarray] = field(default_factory=dict)
    saturation: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


@dataclass
class Forecast:
    """A time-series model on the chosen window and on the probe batch.

    Attributes
    ----------
    window : np.ndarray
        ``(time,)`` the chosen window's first feature.
    target, predicted : np.ndarray
        ``(h,)`` its true and predicted next values (first feature).
    rollout : np.ndarray
        ``(steps,)`` the predictions fed back as inputs, from the window's end.
    true, pred : np.ndarray
        ``(m,)`` the probe batch's first target and prediction.
    """

    window: np.ndarray
    target: np.ndarray
    predicted: np.ndarray
    rollout: np.ndarray
    true: np.ndarray
    pred: np.ndarray


@dataclass
class SequenceProbe:
    """What the recurrent views show at one moment of training.

    Attributes
    ----------
    tokens : tuple of str
        The chosen sequence's steps (characters, or values).
    layers : dict
        Recurrent layer name -> ``LayerTrace``.
    grad_norms : dict
        Recurrent layer name -> ``(time,)`` mean norm of the gradient of the
        prediction's score reaching the layer's input at each step (empty
        without gradients).
    samples : dict
        Temperature -> generated text (character models; empty otherwise).
    prompt : str
        The text the samples continue.
    sample_epoch : int
        The epoch the samples were drawn at (-1: none).
    sample_request : TextPrompt or None
        What they were drawn for (a prompt of "": the probed sequence).
    forecast : Forecast or None
        For time-series regression.
    """

    tokens: tuple[str, ...]
    layers: dict[str, LayerTrace]
    grad_norms: dict[str, np.ndarray] = field(default_factory=dict)
    samples: dict[float, str] = field(default_factory=dict)
    prompt: str = ""
    sample_epoch: int = -1
    sample_request: TextPrompt | None = None
    forecast: Forecast | None = None


class SequenceProber:
    """Computes ``SequenceProbe``s of a model with recurrent layers.

    Parameters
    ----------
    model : Model
        The built model (one input, one output).
    x, y : np.ndarray
        Training inputs (as the model sees them) and targets.
    batch_index : np.ndarray
        Rows of ``x`` the saturation, gradient and forecast views average over.
    task : str
        ``"classification"`` or ``"regression"``.
    vocabulary : sequence of str, optional
        Token id -> text, for a character model (its input is token ids).
    """

    def __init__(
        self,
        model: Model,
        x: np.ndarray,
        y: np.ndarray | None,
        batch_index: np.ndarray,
        task: str = "classification",
        vocabulary: Sequence[str] | None = None,
    ) -> None:
        self.model = model
        self.x, self.y = x, y
        self.task = task
        self.vocabulary = list(vocabulary) if vocabulary else None
        self.layers = recurrent_layers(model)
        sources = {str(src.name) for layer in self.layers for src in layer.inbound}
        inputs = set(model.input_names)
        self._sources = [
            str(layer.name)
            for layer in model.layers
            if str(layer.name) in sources and str(layer.name) not in inputs
        ]
        self._explainer = explain.Explainer(model, self._sources, task)
        self._rows = np.asarray(batch_index)[: max(GRADIENT_ROWS, SATURATION_ROWS)]
        self._forecast_rows = np.asarray(batch_index)[:FORECAST_POINTS]
        # (prompt key, temperature -> text, prompt text, epoch drawn at)
        self._samples: (
            tuple[tuple[object, int, int], dict[float, str], str, int] | None
        ) = None
        self._rollout: tuple[tuple[int, int], np.ndarray] | None = None
        out_units = int(np.prod(model.output_shapes[0]))
        features = int(x.shape[2]) if x.ndim == 3 else 0
        self.forecasts = (
            task == "regression" and features > 0 and out_units % features == 0
        )
        self.samples_text = (
            self.vocabulary is not None
            and x.ndim == 2
            and task == "classification"
            and out_units == len(self.vocabulary)
        )

    def probe(
        self,
        index: int,
        epoch: int,
        gradients: bool = True,
        prompt: TextPrompt | None = None,
        samples: bool = True,
    ) -> SequenceProbe:
        """The views of training sequence ``index`` (clipped to the data).

        A character model's text continues ``prompt`` (default: sequence
        ``index``); it is drawn when ``samples`` is on and none was drawn at
        ``epoch`` for that prompt, else the last text drawn for it comes along.
        """
        index = int(np.clip(index, 0, max(0, len(self.x) - 1)))
        rows = self.x[self._rows]
        stacked = np.concatenate([self.x[index : index + 1], rows])
        dtype = self.model.dtype
        _, dx, grads = self._explainer.gradients(stacked.astype(dtype, copy=False))
        result = SequenceProbe(
            tokens=token_labels(self.x[index], self.vocabulary),
            layers={str(layer.name): self._trace(layer) for layer in self.layers},
        )
        if gradients:
            batch = slice(1, 1 + GRADIENT_ROWS)
            for layer in self.layers:
                src = str(layer.inbound[0].name)
                g = grads[src][1] if src in grads else dx
                result.grad_norms[str(layer.name)] = step_gradient_norms(g[batch])
        if self.samples_text:
            self._add_samples(result, index, epoch, prompt or TextPrompt(), samples)
        if self.forecasts:
            result.forecast = self._forecast(index, epoch)
        return result

    def _trace(self, layer: SimpleRNN | LSTM | GRU) -> LayerTrace:
        parts = layer.trace()
        shown = [g for g in layer.gate_names if g not in ("candidate", "new")]
        rows = slice(1, 1 + SATURATION_ROWS)
        return LayerTrace(
            kind=layer.type_name,
            hidden=parts["hidden"][0].astype(np.float32),
            cell=parts["cell"][0].astype(np.float32) if "cell" in parts else None,
            gates={g: parts[g][0].astype(np.float32) for g in shown},
            saturation={g: gate_saturation(parts[g][rows]) for g in shown},
        )

    def _add_samples(
        self,
        result: SequenceProbe,
        index: int,
        epoch: int,
        prompt: TextPrompt,
        draw: bool,
    ) -> None:
        """Text at every temperature, drawn once per epoch and prompt."""
        assert self.vocabulary is not None
        which = prompt.text or index
        key = (which, int(prompt.length), int(prompt.seed))
        cached = self._samples
        prompt = TextPrompt(
            prompt.text, min(int(prompt.length), MAX_SAMPLE_LENGTH), prompt.seed
        )
        if draw and (cached is None or cached[0] != key or cached[3] != int(epoch)):
            ids, text = (
                self.x[index],
                "".join(token_labels(self.x[index], self.vocabulary)),
            )
            if prompt.text:
                try:
                    window = prompt_window(prompt.text, self.vocabulary, len(ids))
                    ids, text = window.ids, window.text
                except DatasetError as exc:  # the panel refuses such prompts first
                    log.debug("sampling from sequence %d instead: %s", index, exc)
            texts = sample_text(
                self.model,
                self.vocabulary,
                ids,
                TEMPERATURES,
                prompt.length,
                sampling_rng(prompt.seed, epoch),
            )
            assert texts is not None
            cached = self._samples = (
                key,
                dict(zip(TEMPERATURES, texts, strict=True)),
                text,
                int(epoch),
            )
        if cached is not None and cached[0] == key:
            result.samples = dict(cached[1])
            result.prompt, result.sample_epoch = cached[2], cached[3]
            result.sample_request = prompt

    def _forecast(self, index: int, epoch: int) -> Forecast:
        """The one-step forecasts now; the rollout (a pass per step, 122 ms for
        the sine example's 32 steps under load) once per epoch and window."""
        x = self.x
        window = x[index]
        features = window.shape[1]
        pred = _next_probabilities(self.model, window[None].astype(self.model.dtype))
        pred = pred.reshape(-1, features)[:, 0]
        target = (
            np.asarray(self.y[index], dtype=np.float64).reshape(-1, features)[:, 0]
            if self.y is not None
            else np.zeros(0)
        )
        rows = self._forecast_rows
        batch_pred = _next_probabilities(self.model, x[rows].astype(self.model.dtype))
        true = (
            np.asarray(self.y[rows], dtype=np.float64).reshape(len(rows), -1)[:, 0]
            if self.y is not None
            else np.zeros(0)
        )
        return Forecast(
            window=np.asarray(window[:, 0], dtype=np.float64),
            target=target,
            predicted=pred,
            rollout=self._rolled(index, epoch),
            true=true,
            pred=batch_pred[:, 0].copy(),
        )

    def _rolled(self, index: int, epoch: int) -> np.ndarray:
        key = (int(epoch), index)
        if self._rollout is None or self._rollout[0] != key:
            steps = self.x.shape[1]
            self._rollout = (key, rollout(self.model, self.x[index], steps)[:, 0])
        return self._rollout[1].copy()
