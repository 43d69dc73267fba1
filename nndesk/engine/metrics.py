"""Evaluation metrics in plain NumPy: classification, ROC curves and regression.

Classification inputs, as a model produces them:

- ``y_pred`` of shape ``(n, k)`` with ``k > 1`` holds class scores (probabilities or
  logits); the predicted class is the argmax.
- ``y_pred`` of shape ``(n,)`` or ``(n, 1)`` holds binary probabilities, thresholded
  at 0.5 (``p >= 0.5`` is class 1); integer dtypes are taken as class labels.
- ``y_true`` is sparse integer labels ``(n,)``/``(n, 1)`` (integer-valued floats
  too), one-hot ``(n, k)``, or binary 0/1.

Precision, recall and F1 divide by zero for a class that is never predicted (or
never present); the result is then 0.0, as scikit-learn's ``zero_division=0``. The
macro average runs over the classes present in ``y_true`` or ``y_pred``, as
scikit-learn's default labels do. ``average="auto"`` (the default) reports the
positive class for binary-shaped predictions (scikit-learn's ``"binary"``, Keras'
Precision/Recall) and the macro average otherwise.

``METRICS`` lists the names usable in ``model.compile(metrics=[...])``; ``get(name)``
returns the function ``f(y_true, y_pred) -> float``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .errors import ConfigError, DataError, ShapeError
from .lookup import canonical

__all__ = [
    "METRICS",
    "accuracy",
    "auc",
    "classification_report",
    "confusion_matrix",
    "f1",
    "get",
    "mae",
    "mse",
    "precision",
    "r2",
    "recall",
    "rmse",
    "roc_auc",
    "roc_curve",
    "roc_curve_ovr",
]

MetricFn = Callable[[Any, Any], float]


# --- input handling ------------------------------------------------------------------
def _array(a: Any, what: str, metric: str) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype.kind not in "fiub":
        raise DataError(f"Metric '{metric}' needs numeric {what}, got dtype {a.dtype}.")
    if a.ndim == 0 or a.shape[0] == 0:
        raise DataError(
            f"Metric '{metric}' needs a non-empty batch of {what}, got shape {a.shape}."
        )
    return a


def _check_rows(y_true: np.ndarray, y_pred: np.ndarray, metric: str) -> None:
    if y_true.shape[0] != y_pred.shape[0]:
        raise ShapeError(
            f"Metric '{metric}' receives y_true of shape {y_true.shape} and y_pred of "
            f"shape {y_pred.shape}: different numbers of samples."
        )


def _is_binary_shaped(a: np.ndarray) -> bool:
    return a.ndim == 1 or (a.ndim == 2 and a.shape[1] == 1)


def _true_labels(y: np.ndarray, metric: str) -> np.ndarray:
    """Integer class labels ``(n,)`` from sparse, one-hot or binary targets."""
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1)
    if not _is_binary_shaped(y):
        raise ShapeError(
            f"Metric '{metric}' needs y_true of shape (n,), (n, 1) or (n, classes), "
            f"got {y.shape}."
        )
    y = y.reshape(-1)
    if y.dtype.kind == "f":
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            row = int(np.argmax(bad))
            raise DataError(
                f"Metric '{metric}': y_true holds {y[row]:g} in row {row}, not a "
                "class label."
            )
    if y.min() < 0:
        row = int(np.argmin(y))
        raise DataError(
            f"Metric '{metric}': y_true holds the negative label {y[row]:g} in row "
            f"{row}."
        )
    return y.astype(np.intp)


def _pred_labels(y: np.ndarray, metric: str) -> np.ndarray:
    """Predicted class labels ``(n,)``: argmax, threshold 0.5, or labels as given."""
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1)
    if not _is_binary_shaped(y):
        raise ShapeError(
            f"Metric '{metric}' needs y_pred of shape (n,), (n, 1) or (n, classes), "
            f"got {y.shape}."
        )
    y = y.reshape(-1)
    if y.dtype.kind == "f":
        return (y >= 0.5).astype(np.intp)
    if y.min() < 0:
        raise DataError(f"Metric '{metric}': y_pred holds a negative class label.")
    return y.astype(np.intp)


def _steps_as_rows(
    yt: np.ndarray, yp: np.ndarray, metric: str
) -> tuple[np.ndarray, np.ndarray]:
    """Sequence outputs ``(n, time, classes)`` with targets ``(n, time)`` or
    ``(n, time, classes)``: every time step counts as a sample (a row)."""
    if yp.ndim != 3:
        return yt, yp
    if yt.shape[:2] != yp.shape[:2] or yt.ndim > 3:
        raise ShapeError(
            f"Metric '{metric}' receives y_true of shape {yt.shape} for the sequence "
            f"y_pred of shape {yp.shape}: give one label per sample and time step."
        )
    rows = yp.shape[0] * yp.shape[1]
    return yt.reshape(rows, *yt.shape[2:]), yp.reshape(rows, yp.shape[2])


def _class_labels(
    y_true: Any, y_pred: Any, metric: str, num_classes: int | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """``(true labels, predicted labels, number of classes)`` for classification."""
    yt = _array(y_true, "targets", metric)
    yp = _array(y_pred, "predictions", metric)
    _check_rows(yt, yp, metric)
    yt, yp = _steps_as_rows(yt, yp, metric)
    t = _true_labels(yt, metric)
    p = _pred_labels(yp, metric)
    widths = [a.shape[1] for a in (yp, yt) if a.ndim == 2 and a.shape[1] > 1]
    if len(set(widths)) > 1:
        raise ShapeError(
            f"Metric '{metric}' receives y_true of shape {yt.shape} and y_pred of "
            f"shape {yp.shape}: different numbers of classes."
        )
    if num_classes is not None:
        k = int(num_classes)
    elif widths:
        k = widths[0]
    elif yp.dtype.kind == "f":
        k = 2
    else:
        k = int(max(t.max(), p.max())) + 1
    k = max(k, 1)
    if t.max() >= k:
        row = int(np.argmax(t >= k))
        raise DataError(
            f"Metric '{metric}': label {t[row]} in row {row} is outside [0, {k}) for "
            f"{k} classes."
        )
    if p.max() >= k:
        raise DataError(
            f"Metric '{metric}': predicted label {p.max()} is outside [0, {k}) for "
            f"{k} classes."
        )
    return t, p, k


def _safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with 0.0 where ``den == 0`` (scikit-learn's zero_division=0)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den != 0)
    return out


# --- classification --------------------------------------------------------------------
def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of samples whose predicted class equals the true class.

    Parameters
    ----------
    y_true
        ``(n,)``/``(n, 1)`` integer labels, ``(n, k)`` one-hot, or binary 0/1.
    y_pred
        ``(n, k)`` class scores, ``(n,)``/``(n, 1)`` binary probabilities, or labels.

    Returns
    -------
    float
        In ``[0, 1]``.
    """
    t, p, _ = _class_labels(y_true, y_pred, "accuracy")
    return float(np.mean(t == p))


def confusion_matrix(
    y_true: Any, y_pred: Any, num_classes: int | None = None
) -> np.ndarray:
    """Counts ``C[i, j]`` of samples of true class ``i`` predicted as class ``j``.

    Parameters
    ----------
    y_true, y_pred
        As for ``accuracy``.
    num_classes
        Size of the matrix; inferred from the score width (or 2 for binary
        probabilities, or the largest label + 1) when None.

    Returns
    -------
    np.ndarray
        ``(k, k)`` int64, rows true classes, columns predicted classes.
    """
    t, p, k = _class_labels(y_true, y_pred, "confusion_matrix", num_classes)
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k).astype(np.int64)


def _per_class(cm: np.ndarray) -> dict[str, np.ndarray]:
    tp = np.diag(cm).astype(np.float64)
    predicted = cm.sum(axis=0)
    support = cm.sum(axis=1)
    fp = predicted - tp
    fn = support - tp
    return {
        "precision": _safe_divide(tp, predicted),
        "recall": _safe_divide(tp, support),
        # F1 from counts, as scikit-learn: 2tp / (2tp + fp + fn), 0 when all are 0.
        "f1": _safe_divide(2 * tp, 2 * tp + fp + fn),
        "support": support,
        "present": (support + predicted) > 0,
    }


def _averaged(
    which: str, y_true: Any, y_pred: Any, average: str | None
) -> float | np.ndarray:
    t, p, k = _class_labels(y_true, y_pred, which)
    cm = np.bincount(t * k + p, minlength=k * k).reshape(k, k)
    stats = _per_class(cm)
    values = stats[which]
    if average == "auto":
        binary = _is_binary_shaped(np.asarray(y_pred)) and k == 2
        average = "binary" if binary else "macro"
    if average is None:
        return values
    if average == "binary":
        if k != 2:
            raise ConfigError(
                f"Metric '{which}' with average='binary' needs two classes, got {k}."
            )
        return float(values[1])
    if average == "macro":
        present = stats["present"]
        return float(values[present].mean()) if present.any() else 0.0
    if average == "weighted":
        support = stats["support"]
        total = support.sum()
        return float((values * support).sum() / total) if total else 0.0
    raise ConfigError(
        f"Metric '{which}': unknown average {average!r}; use 'auto', 'macro', "
        "'weighted', 'binary' or None."
    )


def precision(
    y_true: Any, y_pred: Any, average: str | None = "auto"
) -> float | np.ndarray:
    """Precision ``tp / (tp + fp)``, 0.0 for a class never predicted.

    Parameters
    ----------
    y_true, y_pred
        As for ``accuracy``.
    average
        ``"auto"`` (positive class for binary-shaped predictions, else macro),
        ``"macro"``, ``"weighted"`` (by support), ``"binary"`` (class 1), or None
        for the per-class array ``(k,)``.
    """
    return _averaged("precision", y_true, y_pred, average)


def recall(
    y_true: Any, y_pred: Any, average: str | None = "auto"
) -> float | np.ndarray:
    """Recall ``tp / (tp + fn)``, 0.0 for a class absent from ``y_true``.

    ``average`` as for ``precision``.
    """
    return _averaged("recall", y_true, y_pred, average)


def f1(y_true: Any, y_pred: Any, average: str | None = "auto") -> float | np.ndarray:
    """F1 score ``2tp / (2tp + fp + fn)``, 0.0 when the class is absent everywhere.

    ``average`` as for ``precision``.
    """
    return _averaged("f1", y_true, y_pred, average)


def classification_report(
    y_true: Any,
    y_pred: Any,
    num_classes: int | None = None,
    class_names: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Per-class precision, recall, F1 and support, plus accuracy and averages.

    Parameters
    ----------
    y_true, y_pred
        As for ``accuracy``.
    num_classes
        Number of classes (rows of the report); inferred when None.
    class_names
        Keys for the class rows; ``"0"``, ``"1"``, ... when None.

    Returns
    -------
    dict
        ``{name: {"precision", "recall", "f1", "support"}}`` for every class, then
        ``"accuracy"`` (float), ``"macro avg"`` (over classes present in either
        input) and ``"weighted avg"`` (by support), each with the same four keys
        (support is the number of samples).
    """
    t, p, k = _class_labels(y_true, y_pred, "classification_report", num_classes)
    names = [str(i) for i in range(k)] if class_names is None else list(class_names)
    if len(names) != k:
        raise ConfigError(
            f"classification_report receives {len(names)} class names for {k} classes."
        )
    cm = np.bincount(t * k + p, minlength=k * k).reshape(k, k)
    stats = _per_class(cm)
    report: dict[str, Any] = {}
    for i, name in enumerate(names):
        report[name] = {
            key: float(stats[key][i]) for key in ("precision", "recall", "f1")
        }
        report[name]["support"] = int(stats["support"][i])
    n = int(t.size)
    present, support = stats["present"], stats["support"]
    report["accuracy"] = float(np.trace(cm) / n)
    report["macro avg"] = {
        key: float(stats[key][present].mean()) if present.any() else 0.0
        for key in ("precision", "recall", "f1")
    }
    report["macro avg"]["support"] = n
    report["weighted avg"] = {
        key: float((stats[key] * support).sum() / n)
        for key in ("precision", "recall", "f1")
    }
    report["weighted avg"]["support"] = n
    return report


# --- ROC ----------------------------------------------------------------------------------
def _binary_targets(y: np.ndarray, metric: str) -> np.ndarray:
    y = y.reshape(-1)
    if not np.isin(y, (0, 1)).all():
        bad = int(np.argmax(~np.isin(y, (0, 1))))
        raise DataError(
            f"Metric '{metric}' needs binary 0/1 targets but y_true holds {y[bad]:g} "
            f"in row {bad}."
        )
    return y.astype(np.float64)


def _roc(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC points for 0/1 targets ``y`` and scores, one per distinct score."""
    order = np.argsort(-score, kind="mergesort")
    score = score[order]
    y = y[order]
    # The last index of every run of equal scores: one ROC point per distinct score.
    last = np.r_[np.flatnonzero(np.diff(score)), score.size - 1]
    tps = np.cumsum(y)[last]
    fps = (last + 1) - tps
    tps = np.r_[0.0, tps]
    fps = np.r_[0.0, fps]
    thresholds = np.r_[np.inf, score[last]]
    # No negatives (or no positives): the rate is 0/0; defined as 0, without warning.
    fpr = _safe_divide(fps, fps[-1])
    tpr = _safe_divide(tps, tps[-1])
    return fpr, tpr, thresholds


def roc_curve(y_true: Any, y_score: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Binary ROC curve, one point per distinct score (no points dropped).

    Matches scikit-learn's ``roc_curve(..., drop_intermediate=False)``: the first
    point is ``(0, 0)`` at threshold ``inf``; a sample counts as positive when its
    score is ``>=`` the threshold.

    Parameters
    ----------
    y_true
        ``(n,)`` or ``(n, 1)`` binary 0/1 targets.
    y_score
        ``(n,)`` or ``(n, 1)`` scores (probabilities of class 1, or logits).

    Returns
    -------
    fpr, tpr, thresholds
        float64 arrays ``(m,)``; thresholds decrease. A rate whose class is absent
        from ``y_true`` is all zeros.
    """
    yt = _array(y_true, "targets", "roc_curve")
    ys = _array(y_score, "scores", "roc_curve")
    _check_rows(yt, ys, "roc_curve")
    if not (_is_binary_shaped(yt) and _is_binary_shaped(ys)):
        raise ShapeError(
            f"roc_curve needs binary targets and scores of shape (n,) or (n, 1), got "
            f"{yt.shape} and {ys.shape}; use roc_curve_ovr for several classes."
        )
    return _roc(_binary_targets(yt, "roc_curve"), ys.reshape(-1).astype(np.float64))


def roc_curve_ovr(
    y_true: Any, y_score: Any
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """One-vs-rest ROC curves, one ``(fpr, tpr, thresholds)`` per class.

    Parameters
    ----------
    y_true
        ``(n,)`` labels or ``(n, k)`` one-hot.
    y_score
        ``(n, k)`` class scores.
    """
    yt = _array(y_true, "targets", "roc_curve_ovr")
    ys = _array(y_score, "scores", "roc_curve_ovr")
    _check_rows(yt, ys, "roc_curve_ovr")
    if ys.ndim != 2:
        raise ShapeError(f"roc_curve_ovr needs scores of shape (n, k), got {ys.shape}.")
    t, _, k = _class_labels(yt, ys, "roc_curve_ovr")
    scores = ys.astype(np.float64)
    return [_roc((t == c).astype(np.float64), scores[:, c]) for c in range(k)]


def auc(x: Any, y: Any) -> float:
    """Area under the curve through the points ``(x, y)``, by the trapezoid rule.

    ``x`` must be monotonic (increasing or decreasing).
    """
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if x.shape != y.shape or x.size < 2:
        raise ShapeError(
            f"auc needs two arrays of the same length >= 2, got {x.shape} and {y.shape}."
        )
    dx = np.diff(x)
    direction = 1.0
    if (dx < 0).any():
        if (dx > 0).any():
            raise DataError("auc needs monotonic x values.")
        direction = -1.0
    return direction * float(np.sum(dx * (y[1:] + y[:-1]) / 2.0))


def roc_auc(y_true: Any, y_score: Any) -> float:
    """Area under the ROC curve; one-vs-rest macro average for several classes.

    Binary scores ``(n,)``/``(n, 1)`` give the binary AUC; ``(n, k)`` scores give the
    mean over classes of each class-vs-rest AUC (scikit-learn's
    ``roc_auc_score(multi_class="ovr", average="macro")``). A class with no
    positive or no negative sample has no AUC and is left out of the mean; NaN is
    returned when no class has one (a batch holding a single class).
    """
    ys = np.asarray(y_score)
    if _is_binary_shaped(ys):
        yt = _array(y_true, "targets", "auc")
        y = _binary_targets(yt, "auc")
        if y.min() == y.max():
            return float("nan")
        fpr, tpr, _ = roc_curve(y, ys)
        return auc(fpr, tpr)
    t, _, k = _class_labels(y_true, ys, "auc")
    areas = [
        auc(fpr, tpr)
        for c, (fpr, tpr, _) in enumerate(roc_curve_ovr(t, ys))
        if 0 < np.count_nonzero(t == c) < t.size
    ]
    return float(np.mean(areas)) if areas else float("nan")


# --- regression ----------------------------------------------------------------------------
def _regression(y_true: Any, y_pred: Any, metric: str) -> tuple[np.ndarray, np.ndarray]:
    yt = _array(y_true, "targets", metric).astype(np.float64, copy=False)
    yp = _array(y_pred, "predictions", metric).astype(np.float64, copy=False)
    if yt.shape != yp.shape:
        if (
            yt.size == yp.size
            and yt.shape[0] == yp.shape[0]
            and (yt.ndim + yp.ndim == 3 and max(yt.ndim, yp.ndim) == 2)
        ):
            yt = yt.reshape(yp.shape)
        else:
            raise ShapeError(
                f"Metric '{metric}' receives y_true of shape {yt.shape} and y_pred of "
                f"shape {yp.shape}; they must match."
            )
    if not np.isfinite(yt).all():
        raise DataError(f"Metric '{metric}': y_true holds NaN or Inf values.")
    return yt, yp


def mse(y_true: Any, y_pred: Any) -> float:
    """Mean squared error over all elements."""
    yt, yp = _regression(y_true, y_pred, "mse")
    return float(np.mean((yp - yt) ** 2))


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error over all elements."""
    yt, yp = _regression(y_true, y_pred, "mae")
    return float(np.mean(np.abs(yp - yt)))


def rmse(y_true: Any, y_pred: Any) -> float:
    """Root of the mean squared error over all elements (as Keras' RMSE)."""
    yt, yp = _regression(y_true, y_pred, "rmse")
    return float(np.sqrt(np.mean((yp - yt) ** 2)))


def r2(y_true: Any, y_pred: Any) -> float:
    """Coefficient of determination ``1 - SS_res / SS_tot``.

    Several outputs ``(n, k)`` give the mean of the per-output scores. A constant
    target (``SS_tot = 0``) scores 1.0 if predicted exactly and 0.0 otherwise, as
    scikit-learn's ``force_finite=True``.
    """
    yt, yp = _regression(y_true, y_pred, "r2")
    yt2 = yt.reshape(yt.shape[0], -1)
    yp2 = yp.reshape(yp.shape[0], -1)
    ss_res = ((yt2 - yp2) ** 2).sum(axis=0)
    ss_tot = ((yt2 - yt2.mean(axis=0)) ** 2).sum(axis=0)
    scores = np.where(ss_res == 0, 1.0, 0.0)
    ok = ss_tot != 0
    scores[ok] = 1.0 - ss_res[ok] / ss_tot[ok]
    return float(scores.mean())


# --- registry -------------------------------------------------------------------------------
_FUNCTIONS: dict[str, MetricFn] = {
    "accuracy": accuracy,
    "precision": precision,
    "recall": recall,
    "f1": f1,
    "auc": roc_auc,
    "mse": mse,
    "mae": mae,
    "rmse": rmse,
    "r2": r2,
}

METRICS: tuple[str, ...] = tuple(_FUNCTIONS)
"""Names usable in ``model.compile(metrics=[...])``; each maps to a scalar metric."""

_ALIASES = {
    "acc": "accuracy",
    "f1_score": "f1",
    "roc_auc": "auc",
    "mean_squared_error": "mse",
    "mean_absolute_error": "mae",
    "root_mean_squared_error": "rmse",
    "r2_score": "r2",
}


def get(name_or_fn: str | MetricFn) -> MetricFn:
    """The metric function ``f(y_true, y_pred) -> float`` for a name in ``METRICS``.

    A callable is returned unchanged (a custom metric).

    Raises
    ------
    ConfigError
        For an unknown name; the message lists the valid ones.
    """
    if callable(name_or_fn):
        return name_or_fn
    return _FUNCTIONS[canonical(name_or_fn, METRICS, _ALIASES, "metric")]
