"""Why a model predicts what it does: saliency maps, Grad-CAM, feature maps, filters
and feature importance, in NumPy only (the live views draw what this computes).

Arrays follow the engine: inputs are ``(batch, *input_shape)``, image-like tensors
are channels-last ``(batch, height, width, channels)`` and convolution kernels are
``(kh, kw, in, out)``.

The *class score* every gradient here starts from is, for a classifier, the
class's logit: the value before the output's softmax (``z_c``) or sigmoid (``z``
for class 1, ``-z`` for class 0), as Grad-CAM (Selvaraju et al. 2017) and the
saliency papers use it. The probability saturates: a class predicted with
p = 0.93 has almost no gradient left, and that of ``log p_c`` is dominated by
pushing the other classes down (Grad-CAM of it is all zero). An output without a
softmax or sigmoid is taken as the logits themselves; for regression the score is
the output value ``c``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from nndesk.document.text import counted
from nndesk.engine import metrics
from nndesk.engine.errors import ConfigError
from nndesk.engine.model import Model

__all__ = [
    "SCOPES",
    "Explainer",
    "Importance",
    "Saliency",
    "channel_grid",
    "channel_peaks",
    "class_score_seed",
    "filter_grid",
    "grad_cam",
    "gradcam_problem",
    "gradient_x_input_importance",
    "permutation_importance",
    "resize_bilinear",
    "scale_maps",
    "score",
]

SCOPES = ("channel", "layer", "network")
"""Colour scopes of feature maps: each channel, each layer or the whole network
spans the full colour range."""
TOP_PERCENTILE = 99.5
"""Feature maps: the percentile of a layer's values drawn at full brightness."""
SMOOTH_SAMPLES = 8
"""Noisy copies SmoothGrad averages over."""
SMOOTH_NOISE = 0.15
"""SmoothGrad's noise level, as a fraction of the input's value range (Smilkov et
al. 2017 found 10-20% best)."""
MAX_SALIENCY_CLASSES = 10
"""Beyond this many classes a probe explains the predicted and the true class only."""


# --- class scores -------------------------------------------------------------------------
def class_score_seed(
    output: np.ndarray, classes: Sequence[int], task: str = "classification"
) -> np.ndarray:
    """The gradient, at the logits (classification) or the output (regression),
    that backpropagates the class score of each row.

    Parameters
    ----------
    output : np.ndarray
        ``(n, k)`` model outputs.
    classes : sequence of int
        ``n`` class (or regression output) indices, one per row.
    task : str
        ``"classification"`` or ``"regression"``.

    Returns
    -------
    np.ndarray
        ``(n, k)`` in ``output``'s dtype: one-hot rows, except for one sigmoid
        output, where class 0's score is ``-z`` (seed -1).
    """
    out = np.asarray(output)
    rows = np.arange(len(out))
    cls = np.asarray(classes, dtype=np.int64)
    seed = np.zeros_like(out)
    if task == "classification" and out.shape[1] == 1:
        seed[:, 0] = np.where(cls == 1, 1.0, -1.0)
    else:
        seed[rows, cls] = 1.0
    return seed


def class_of(output: np.ndarray, task: str = "classification") -> np.ndarray:
    """Predicted class of each row of ``(n, k)`` outputs (0/1 for one sigmoid)."""
    out = np.asarray(output)
    if task == "classification" and out.shape[1] == 1:
        return (out[:, 0] >= 0.5).astype(np.int64)
    return out.argmax(axis=1).astype(np.int64)


def class_count(output_units: int, task: str = "classification") -> int:
    """How many classes (or regression outputs) a model's output can be asked about."""
    if task == "classification" and output_units == 1:
        return 2
    return int(output_units)


# --- gradients with respect to the input and to layer outputs ----------------------------
class Explainer:
    """Forward and backward passes of a model for explanations, from any thread
    that owns it, leaving the model as it found it (parameter gradients and
    execution hints are put back).

    Parameters
    ----------
    model : Model
        A built model with one input and one output.
    layers : sequence of str
        Layers whose outputs (and the gradients reaching them) are reported, in
        topological order; for Grad-CAM and feature maps.
    task : str
        ``"classification"`` or ``"regression"`` (see the module's class score).
    """

    def __init__(
        self, model: Model, layers: Sequence[str] = (), task: str = "classification"
    ) -> None:
        if len(model.inputs) != 1 or len(model.outputs) != 1:
            raise ConfigError(
                f"Model '{model.name}' has {counted(len(model.inputs), 'input')} and "
                f"{counted(len(model.outputs), 'output')}; explanations need one of "
                "each."
            )
        self.model = model
        self.task = task
        self.names = list(layers)
        (self.output_name,) = model.output_names
        # Seed a softmax or sigmoid output at its logits (see the module's doc).
        activation = getattr(model.layer(self.output_name), "activation_name", None)
        self.from_logits = task == "classification" and activation in (
            "softmax",
            "sigmoid",
        )
        self._sub = Model(
            inputs=model.inputs,
            outputs=[model.layer(n) for n in (*self.names, self.output_name)],
            name="explain",
            dtype=model.dtype,
        )
        # The layers a backward pass from the output goes through, output first.
        self._order = [
            layer for layer in self._sub.layers if layer.name not in model.input_names
        ][::-1]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """``(n, k)`` outputs for ``(n, *input_shape)`` inputs (a copy)."""
        outs = self._sub.forward(x.astype(self.model.dtype, copy=False))
        return np.array(outs[-1]).reshape(len(x), -1)

    def gradients(
        self, x: np.ndarray, classes: Sequence[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray, dict[str, tuple[np.ndarray, np.ndarray]]]:
        """The class score of each row and its gradients.

        Parameters
        ----------
        x : np.ndarray
            ``(n, *input_shape)`` inputs.
        classes : sequence of int, optional
            One class per row (default: each row's predicted class).

        Returns
        -------
        output : np.ndarray
            ``(n, k)`` model outputs.
        dx : np.ndarray
            ``(n, *input_shape)`` gradient of each row's score with respect to its
            input, float64.
        layers : dict
            Layer name -> ``(value, gradient)``, each ``(n, *layer_shape)``: the
            layer's output and the gradient of the score reaching it.
        """
        model = self.model
        x = np.asarray(x).astype(model.dtype, copy=False)
        outs = [np.array(o) for o in self._sub.forward(x, training=False)]
        output = outs[-1].reshape(len(x), -1)
        if classes is None:
            classes = class_of(output, self.task)
        seed = class_score_seed(output, classes, self.task)
        grads = self._backward(seed.reshape(outs[-1].shape).astype(model.dtype))
        dx = grads[model.input_names[0]].astype(np.float64)
        layers = {
            name: (value, grads[name].astype(np.float64))
            for name, value in zip(self.names, outs[:-1], strict=True)
        }
        return output, dx, layers

    def _backward(self, seed: np.ndarray) -> dict[str, np.ndarray]:
        """Gradient reaching each layer's output (and the input) from ``seed`` at
        the model's output, through the last forward pass of ``self._sub``.

        With ``from_logits`` the seed is the gradient at the output layer's
        pre-activation (``backward_from_preactivation``, which the Layer contract
        gives every layer that ends in an activation). Walks the layers' own
        ``backward`` (the Layer contract) in reverse
        topological order, summing where a value feeds several layers, as the
        model's backward pass does; that one reports input gradients only.
        """
        layers = [*self._order, *self._sub.inputs]
        saved_hints = [layer.needs_input_grad for layer in layers]
        saved_grads = [
            {k: g.copy() for k, g in layer.grads.items()} for layer in layers
        ]
        grads: dict[str, np.ndarray] = {self.output_name: seed}
        try:
            for layer in layers:
                layer.needs_input_grad = True
            for layer in self._order:
                dy = grads.get(str(layer.name))
                if dy is None:
                    continue  # feeds nothing the output depends on
                if self.from_logits and layer.name == self.output_name:
                    dxs = layer.backward_from_preactivation(dy)  # type: ignore[attr-defined]
                else:
                    dxs = layer.backward(dy)
                for src, dx in zip(layer.inbound, dxs, strict=True):
                    if dx is None:
                        continue
                    key = str(src.name)
                    # Copies: a layer's dx may be a buffer its next call reuses.
                    grads[key] = grads[key] + dx if key in grads else np.array(dx)
        finally:
            for layer, hint, saved in zip(
                layers, saved_hints, saved_grads, strict=True
            ):
                layer.needs_input_grad = hint
                for k, g in saved.items():
                    layer.grads[k][...] = g
        return grads


# --- saliency ----------------------------------------------------------------------------
def grad_cam(value: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    """Grad-CAM (Selvaraju et al. 2017) of one sample at one layer.

    Parameters
    ----------
    value, gradient : np.ndarray
        ``(h, w, c)`` the layer's output and the gradient of the class score
        reaching it.

    Returns
    -------
    np.ndarray
        ``(h, w)`` float64: ``relu(sum_c alpha_c * value[..., c])`` with
        ``alpha_c`` the mean of ``gradient[..., c]`` over the map.
    """
    alpha = gradient.mean(axis=(0, 1), dtype=np.float64)
    return np.maximum(value.astype(np.float64) @ alpha, 0.0)


def gradcam_problem(shape: Sequence[int]) -> str | None:
    """Why Grad-CAM cannot use a layer of per-sample output ``shape`` (None: it can)."""
    if len(shape) != 3:
        return "Grad-CAM needs a (height, width, channels) output."
    if int(shape[0]) * int(shape[1]) <= 1:
        return (
            f"its output is {shape[0]}x{shape[1]} in space, so Grad-CAM has no "
            "map to show."
        )
    return None


def resize_bilinear(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``(h, w)`` -> ``(H, W)`` bilinear, pixel centres aligned (as for Grad-CAM
    over the input image)."""
    h, w = image.shape
    rows = np.clip((np.arange(size[0]) + 0.5) * h / size[0] - 0.5, 0, h - 1)
    cols = np.clip((np.arange(size[1]) + 0.5) * w / size[1] - 0.5, 0, w - 1)
    r0, c0 = np.floor(rows).astype(np.int64), np.floor(cols).astype(np.int64)
    r1, c1 = np.minimum(r0 + 1, h - 1), np.minimum(c0 + 1, w - 1)
    fr, fc = (rows - r0)[:, None], (cols - c0)[None, :]
    img = image.astype(np.float64)
    top = img[r0][:, c0] * (1 - fc) + img[r0][:, c1] * fc
    bottom = img[r1][:, c0] * (1 - fc) + img[r1][:, c1] * fc
    return top * (1 - fr) + bottom * fr


@dataclass
class Saliency:
    """Saliency maps of one sample, for each class explained.

    Attributes
    ----------
    classes : tuple of int
        The classes (or regression outputs) explained.
    vanilla : dict
        Class -> ``(h, w)`` max over channels of |d score / d input|.
    grad_x_input : dict
        Class -> ``(h, w)`` sum over channels of gradient x input (signed).
    smooth : dict
        Class -> ``(h, w)`` SmoothGrad: max over channels of |mean gradient over
        ``SMOOTH_SAMPLES`` noisy copies| (for the classes asked, see ``saliency``).
    grad_cam : dict
        Layer name -> class -> ``(h', w')`` map at that layer's resolution.
    cam_problems : dict
        Layer name -> why Grad-CAM cannot use it.
    """

    classes: tuple[int, ...]
    vanilla: dict[int, np.ndarray] = field(default_factory=dict)
    grad_x_input: dict[int, np.ndarray] = field(default_factory=dict)
    smooth: dict[int, np.ndarray] = field(default_factory=dict)
    grad_cam: dict[str, dict[int, np.ndarray]] = field(default_factory=dict)
    cam_problems: dict[str, str] = field(default_factory=dict)


def _picture_maps(g: np.ndarray) -> np.ndarray:
    """``(n, h, w[, c])`` -> ``(n, h, w)``: max over channels of |g|."""
    a = np.abs(g)
    return a.max(axis=-1) if a.ndim == 4 else a


def _channel_sum(g: np.ndarray) -> np.ndarray:
    return g.sum(axis=-1) if g.ndim == 4 else g


def saliency(
    explainer: Explainer,
    sample: np.ndarray,
    classes: Sequence[int],
    *,
    smooth_classes: Sequence[int] | None = None,
    smooth_samples: int = SMOOTH_SAMPLES,
    noise: float = SMOOTH_NOISE,
    seed: int = 0,
) -> Saliency:
    """Vanilla gradient, gradient x input, SmoothGrad and Grad-CAM of one sample.

    One batched forward and backward pass: a copy of ``sample`` per class, then
    ``smooth_samples`` noisy copies per SmoothGrad class (the same noise for every
    class, drawn from ``seed``, so a live view does not flicker between probes).

    Parameters
    ----------
    explainer : Explainer
        Its ``names`` are the layers offered to Grad-CAM.
    sample : np.ndarray
        ``input_shape`` one input (an image ``(h, w)`` or ``(h, w, c)``).
    classes : sequence of int
        Classes to explain.
    smooth_classes : sequence of int, optional
        The classes SmoothGrad explains (default: ``classes``); each costs
        ``smooth_samples`` rows of the pass, the others one.
    """
    k = len(classes)
    smoothed = list(classes if smooth_classes is None else smooth_classes)
    x = np.asarray(sample, dtype=np.float64)
    span = float(x.max() - x.min()) if x.size else 0.0
    sigma = noise * (span if span > 0 else 1.0)
    rng = np.random.default_rng(seed)
    noisy = x + rng.normal(0.0, sigma, size=(smooth_samples, *x.shape))
    batch = np.concatenate(
        [
            np.repeat(x[None], k, axis=0),
            np.tile(noisy, (len(smoothed),) + (1,) * x.ndim),
        ]
    )
    labels = [
        *classes,
        *np.repeat(np.asarray(smoothed, dtype=np.int64), smooth_samples),
    ]
    _, dx, layers = explainer.gradients(batch, labels)
    clean = dx[:k]
    smooth = dx[k:].reshape(len(smoothed), smooth_samples, *x.shape).mean(axis=1)
    result = Saliency(classes=tuple(int(c) for c in classes))
    vanilla = _picture_maps(clean)
    gxi = _channel_sum(clean * x[None])
    smooth_maps = _picture_maps(smooth)
    for i, c in enumerate(result.classes):
        result.vanilla[c] = vanilla[i]
        result.grad_x_input[c] = gxi[i]
    for i, c in enumerate(smoothed):
        result.smooth[int(c)] = smooth_maps[i]
    for name, (value, grad) in layers.items():
        problem = gradcam_problem(value.shape[1:])
        if problem is not None:
            result.cam_problems[name] = problem
            continue
        result.grad_cam[name] = {
            c: grad_cam(value[i], grad[i]) for i, c in enumerate(result.classes)
        }
    return result


# --- feature maps and filters ------------------------------------------------------------
def channel_peaks(values: np.ndarray) -> np.ndarray:
    """``(n, ..., c)`` -> ``(c,)`` float64: each channel's largest value over a
    batch (a filter whose peak is at most 0 never fires on it)."""
    v = np.asarray(values)
    return v.reshape(-1, v.shape[-1]).max(axis=0).astype(np.float64)


def scale_maps(
    maps: Mapping[str, np.ndarray], scope: str = "layer", top: float = TOP_PERCENTILE
) -> dict[str, np.ndarray]:
    """Feature maps scaled to [0, 1] for display.

    Parameters
    ----------
    maps : mapping
        Layer name -> ``(h, w, c)`` one sample's output.
    scope : str
        ``"channel"``: every channel spans [0, 1] (its minimum to its maximum);
        ``"layer"``: one range per layer (maps that grow or die stay visible);
        ``"network"``: one range for all.
    top : float
        For a layer's or the network's range: the percentile of its values that
        maps to 1 (larger values saturate), so that a few outliers do not leave
        every other map black; the maximum when that percentile is the minimum.

    Returns
    -------
    dict
        Layer name -> ``(h, w, c)`` float32 in [0, 1]; a constant range maps to 0.
    """
    if scope not in SCOPES:
        raise ConfigError(f"Unknown colour scope '{scope}'; use one of {SCOPES}.")

    def fit(
        a: np.ndarray, lo: np.ndarray | float, hi: np.ndarray | float
    ) -> np.ndarray:
        span = np.asarray(hi, dtype=np.float64) - lo
        safe = np.where(span > 0, span, 1.0)
        scaled = np.where(span > 0, (a - lo) / safe, 0.0)
        return np.clip(scaled, 0.0, 1.0).astype(np.float32)

    def upper(v: np.ndarray) -> float:
        hi = float(np.percentile(v, top)) if v.size else 0.0
        return hi if v.size and hi > v.min() else float(v.max(initial=0.0))

    clean = {k: np.nan_to_num(np.asarray(v, dtype=np.float64)) for k, v in maps.items()}
    if scope == "channel":
        return {
            k: fit(v, v.min(axis=(0, 1)), v.max(axis=(0, 1))) for k, v in clean.items()
        }
    if scope == "layer":
        return {k: fit(v, v.min(initial=0.0), upper(v)) for k, v in clean.items()}
    values = np.concatenate([v.reshape(-1) for v in clean.values()] or [np.zeros(0)])
    return {k: fit(v, values.min(initial=0.0), upper(values)) for k, v in clean.items()}


def grid_columns(count: int, aspect: float = 1.0) -> int:
    """Columns of a near-square grid of ``count`` tiles of height/width ``aspect``."""
    return max(1, int(np.ceil(np.sqrt(count * aspect))))


def channel_grid(
    maps: np.ndarray, columns: int | None = None, gap: int = 1
) -> np.ndarray:
    """Tile ``(h, w, c)`` channel maps into one ``(rows*(h+gap)-gap, cols*(w+gap)-gap)``
    image, channel ``i`` at row ``i // cols``, column ``i % cols``; gaps are NaN."""
    h, w, c = maps.shape
    cols = columns or grid_columns(c, h / max(w, 1))
    rows = -(-c // cols)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan, np.float32)
    for i in range(c):
        r, q = divmod(i, cols)
        out[r * (h + gap) : r * (h + gap) + h, q * (w + gap) : q * (w + gap) + w] = (
            maps[..., i]
        )
    return out


def filter_grid(kernel: np.ndarray, gap: int = 1) -> tuple[np.ndarray, int]:
    """The filters of a convolution kernel as one image.

    Parameters
    ----------
    kernel : np.ndarray
        ``(kh, kw, in, out)``.

    Returns
    -------
    image : np.ndarray
        With 3 input channels: ``(rows*(kh+gap)-gap, cols*(kw+gap)-gap, 3)``, each
        filter an RGB tile scaled to [0, 1] on its own range (as first-layer
        filters are usually shown). Otherwise ``(out*(kh+gap)-gap,
        in*(kw+gap)-gap)``: row ``o`` holds filter ``o``'s tile for each input
        channel, scaled to [-1, 1] by the layer's largest |weight|. Gaps are NaN.
    columns : int
        Tiles per row (RGB) or the input channels per row.
    """
    kh, kw, cin, cout = kernel.shape
    k = np.asarray(kernel, dtype=np.float64)
    if cin == 3:
        cols = grid_columns(cout, kh / kw)
        rows = -(-cout // cols)
        out = np.full(
            (rows * (kh + gap) - gap, cols * (kw + gap) - gap, 3), np.nan, np.float32
        )
        for o in range(cout):
            tile = k[..., o]
            lo, hi = tile.min(), tile.max()
            tile = (tile - lo) / (hi - lo) if hi > lo else np.zeros_like(tile)
            r, q = divmod(o, cols)
            out[
                r * (kh + gap) : r * (kh + gap) + kh,
                q * (kw + gap) : q * (kw + gap) + kw,
            ] = tile
        return out, cols
    top = float(np.abs(k).max())
    scaled = k / top if top > 0 else k
    out = np.full((cout * (kh + gap) - gap, cin * (kw + gap) - gap), np.nan, np.float32)
    for o in range(cout):
        for i in range(cin):
            out[
                o * (kh + gap) : o * (kh + gap) + kh,
                i * (kw + gap) : i * (kw + gap) + kw,
            ] = scaled[:, :, i, o]
    return out, cin


# --- feature importance ------------------------------------------------------------------
def score(task: str, y: np.ndarray, pred: np.ndarray) -> float:
    """Higher is better: accuracy for a classifier, R² for a regression."""
    if task == "classification":
        return metrics.accuracy(y, pred)
    return metrics.r2(
        np.asarray(y, dtype=np.float64).reshape(len(y), -1),
        np.asarray(pred, dtype=np.float64).reshape(len(pred), -1),
    )


@dataclass
class Importance:
    """Per-feature importance of a tabular model.

    Attributes
    ----------
    features : tuple of str
        Feature names (``x0``, ``x1``, ... when the data names none).
    gradient : np.ndarray
        ``(d,)`` mean over samples of |d score / d x_j * x_j| (inputs as the model
        sees them, i.e. scaled).
    permutation : np.ndarray
        ``(d,)`` mean drop in the metric when column ``j`` is shuffled.
    permutation_std : np.ndarray
        ``(d,)`` its standard deviation over the repeats.
    metric : str
        ``"accuracy"`` or ``"R²"``.
    baseline : float
        The metric on the unshuffled data.
    n : int
        Samples used.
    """

    features: tuple[str, ...]
    gradient: np.ndarray
    permutation: np.ndarray
    permutation_std: np.ndarray
    metric: str
    baseline: float
    n: int


def permutation_importance(
    predict: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    task: str,
    *,
    repeats: int = 3,
    seed: int = 0,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Drop in ``score`` when each column of ``x`` is shuffled (Breiman 2001).

    Parameters
    ----------
    predict : callable
        ``(n, d)`` inputs -> predictions.
    x : np.ndarray
        ``(n, d)`` inputs.
    y : np.ndarray
        Targets as ``score`` takes them.
    repeats : int
        Shuffles per column; column ``j``'s ``r``-th shuffle is the ``r``-th
        permutation drawn from ``default_rng(seed)`` after ``j * repeats`` others.

    Returns
    -------
    baseline : float
        Score on ``x``.
    mean, std : np.ndarray
        ``(d,)`` the drop's mean and standard deviation over the repeats.
    """
    x = np.asarray(x)
    base = score(task, y, predict(x))
    rng = np.random.default_rng(seed)
    d = x.shape[1]
    drops = np.zeros((d, repeats))
    shuffled = x.copy()
    for j in range(d):
        for r in range(repeats):
            shuffled[:, j] = x[rng.permutation(len(x)), j]
            drops[j, r] = base - score(task, y, predict(shuffled))
        shuffled[:, j] = x[:, j]
    return base, drops.mean(axis=1), drops.std(axis=1)


def gradient_x_input_importance(explainer: Explainer, x: np.ndarray) -> np.ndarray:
    """``(d,)`` mean over rows of |gradient x input| of each row's predicted-class
    score (for regression: the first output)."""
    x = np.asarray(x)
    if explainer.task == "classification":
        classes = None
    else:
        classes = np.zeros(len(x), dtype=np.int64)
    _, dx, _ = explainer.gradients(x, classes)
    return np.abs(dx * x).reshape(len(x), -1).mean(axis=0)


def feature_importance(
    explainer: Explainer,
    x: np.ndarray,
    y: np.ndarray,
    features: Sequence[str] = (),
    *,
    repeats: int = 3,
    seed: int = 0,
) -> Importance:
    """Both importances of a tabular model on ``(n, d)`` inputs ``x`` and targets ``y``."""
    d = int(np.asarray(x).shape[1])
    names = tuple(features) if len(features) == d else tuple(f"x{j}" for j in range(d))
    base, mean, std = permutation_importance(
        explainer.predict, x, y, explainer.task, repeats=repeats, seed=seed
    )
    return Importance(
        features=names,
        gradient=gradient_x_input_importance(explainer, x),
        permutation=mean,
        permutation_std=std,
        metric="accuracy" if explainer.task == "classification" else "R²",
        baseline=base,
        n=len(x),
    )
