"""Metrics on small hand-computed cases (scikit-learn parity is in test_torch_reference)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nndesk.engine import metrics
from nndesk.engine.errors import ConfigError, DataError, ShapeError

# Three classes; predictions 0,1,1,1,0,2 for truths 0,0,1,1,2,2.
Y3 = np.array([0, 0, 1, 1, 2, 2])
PRED3 = np.array([0, 1, 1, 1, 0, 2])
PROBS3 = np.eye(3)[PRED3] * 0.6 + 0.1  # argmax = PRED3
CM3 = np.array([[1, 1, 0], [0, 2, 0], [1, 0, 1]])
PRECISION3 = [1 / 2, 2 / 3, 1.0]
RECALL3 = [1 / 2, 1.0, 1 / 2]
F13 = [1 / 2, 4 / 5, 2 / 3]


@pytest.mark.parametrize(
    "y_true",
    [Y3, Y3.reshape(-1, 1), Y3.astype(float), np.eye(3)[Y3]],
    ids=["sparse", "column", "float", "onehot"],
)
@pytest.mark.parametrize("y_pred", [PROBS3, PRED3], ids=["probs", "labels"])
def test_multiclass_by_hand(y_true, y_pred):
    assert metrics.accuracy(y_true, y_pred) == pytest.approx(4 / 6)
    np.testing.assert_array_equal(metrics.confusion_matrix(y_true, y_pred), CM3)
    np.testing.assert_allclose(
        metrics.precision(y_true, y_pred, average=None), PRECISION3
    )
    np.testing.assert_allclose(metrics.recall(y_true, y_pred, average=None), RECALL3)
    np.testing.assert_allclose(metrics.f1(y_true, y_pred, average=None), F13)
    assert metrics.precision(y_true, y_pred) == pytest.approx(np.mean(PRECISION3))
    assert metrics.recall(y_true, y_pred) == pytest.approx(np.mean(RECALL3))
    assert metrics.f1(y_true, y_pred) == pytest.approx(np.mean(F13))
    assert metrics.f1(y_true, y_pred, average="weighted") == pytest.approx(np.mean(F13))


def test_binary_threshold_and_positive_class():
    y = np.array([1, 1, 0, 0, 1])
    p = np.array([0.9, 0.4, 0.6, 0.2, 0.5])  # 0.5 counts as class 1
    for y_pred in (p, p.reshape(-1, 1)):
        assert metrics.accuracy(y, y_pred) == pytest.approx(3 / 5)
        assert metrics.precision(y, y_pred) == pytest.approx(2 / 3)
        assert metrics.recall(y, y_pred) == pytest.approx(2 / 3)
        assert metrics.f1(y, y_pred) == pytest.approx(2 / 3)
    np.testing.assert_array_equal(metrics.confusion_matrix(y, p), [[1, 1], [1, 2]])
    # Class 0: precision 1/2, recall 1/2.
    assert metrics.precision(y, p, average="macro") == pytest.approx((0.5 + 2 / 3) / 2)
    with pytest.raises(ConfigError, match="two classes"):
        metrics.precision(Y3, PROBS3, average="binary")
    with pytest.raises(ConfigError, match="unknown average 'micro'"):
        metrics.f1(y, p, average="micro")


def test_zero_division_gives_zero_and_macro_skips_absent_classes():
    y = np.zeros(4, dtype=int)
    probs = np.tile([0.9, 0.1], (4, 1))
    np.testing.assert_array_equal(metrics.precision(y, probs, average=None), [1.0, 0.0])
    np.testing.assert_array_equal(metrics.recall(y, probs, average=None), [1.0, 0.0])
    np.testing.assert_array_equal(metrics.f1(y, probs, average=None), [1.0, 0.0])
    assert metrics.precision(y, probs, average="macro") == 1.0  # class 1 is absent
    # A class that is true but never predicted counts as 0 in the macro mean.
    assert metrics.recall(np.array([0, 1]), np.array([[0.9, 0.1], [0.8, 0.2]])) == 0.5


def test_classification_report():
    report = metrics.classification_report(Y3, PROBS3, class_names=["a", "b", "c"])
    assert list(report) == ["a", "b", "c", "accuracy", "macro avg", "weighted avg"]
    assert report["b"] == {
        "precision": pytest.approx(2 / 3),
        "recall": 1.0,
        "f1": pytest.approx(0.8),
        "support": 2,
    }
    assert report["accuracy"] == pytest.approx(4 / 6)
    assert report["macro avg"]["f1"] == pytest.approx(np.mean(F13))
    assert report["weighted avg"]["support"] == 6
    wide = metrics.classification_report(Y3, PRED3, num_classes=5)
    assert wide["4"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert wide["macro avg"]["f1"] == pytest.approx(np.mean(F13))
    with pytest.raises(ConfigError, match="2 class names for 3 classes"):
        metrics.classification_report(Y3, PROBS3, class_names=["a", "b"])


# --- ROC --------------------------------------------------------------------------------------
def test_roc_curve_by_hand_with_ties():
    y = np.array([1, 0, 1, 0])
    score = np.array([0.8, 0.8, 0.6, 0.1])
    fpr, tpr, thr = metrics.roc_curve(y, score)
    np.testing.assert_allclose(fpr, [0, 0.5, 0.5, 1])
    np.testing.assert_allclose(tpr, [0, 0.5, 1, 1])
    np.testing.assert_array_equal(thr, [np.inf, 0.8, 0.6, 0.1])
    # Pairs: (0.8 vs 0.8) half, (0.8 vs 0.1) 1, (0.6 vs 0.8) 0, (0.6 vs 0.1) 1.
    assert metrics.auc(fpr, tpr) == pytest.approx(2.5 / 4)
    assert metrics.roc_auc(y, score) == pytest.approx(2.5 / 4)
    assert metrics.get("auc")(y.reshape(-1, 1), score.reshape(-1, 1)) == pytest.approx(
        0.625
    )


def test_roc_auc_extremes_and_single_class():
    y = np.array([0, 0, 1, 1])
    assert metrics.roc_auc(y, np.array([0.1, 0.2, 0.7, 0.9])) == 1.0
    assert metrics.roc_auc(y, np.array([0.9, 0.7, 0.2, 0.1])) == 0.0
    assert math.isnan(metrics.roc_auc(np.ones(3), np.array([0.2, 0.5, 0.9])))
    fpr, tpr, _ = metrics.roc_curve(np.ones(3), np.array([0.2, 0.5, 0.9]))
    assert np.all(fpr == 0) and tpr[-1] == 1.0  # no negatives: fpr defined as 0


def test_one_vs_rest():
    y = np.array([0, 1, 2, 2])
    probs = np.array(
        [[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.3, 0.6], [0.3, 0.3, 0.4]]
    )
    curves = metrics.roc_curve_ovr(y, probs)
    assert len(curves) == 3
    for c, (fpr, tpr, thr) in enumerate(curves):
        ref = metrics.roc_curve((y == c).astype(int), probs[:, c])
        for a, b in zip((fpr, tpr, thr), ref, strict=True):
            np.testing.assert_array_equal(a, b)
    # Every class is perfectly ranked by its own column here.
    assert metrics.roc_auc(y, probs) == 1.0
    assert metrics.roc_auc(np.eye(3)[y], probs) == 1.0
    # Class 2 absent: it has no AUC and is left out of the mean.
    assert metrics.roc_auc(np.array([0, 1, 1, 0]), probs) == pytest.approx(
        np.mean(
            [
                metrics.roc_auc(np.array([1, 0, 0, 1]), probs[:, 0]),
                metrics.roc_auc(np.array([0, 1, 1, 0]), probs[:, 1]),
            ]
        )
    )


def test_auc_directions():
    assert metrics.auc([0, 1, 2], [1, 1, 1]) == pytest.approx(2.0)
    assert metrics.auc([2, 1, 0], [1, 1, 1]) == pytest.approx(2.0)
    with pytest.raises(DataError, match="monotonic"):
        metrics.auc([0, 2, 1], [1, 1, 1])
    with pytest.raises(ShapeError):
        metrics.auc([0], [1])


# --- regression ---------------------------------------------------------------------------------
def test_regression_by_hand():
    y = np.array([1.0, 2.0, 3.0])
    p = np.array([1.0, 2.0, 4.0])
    assert metrics.mse(y, p) == pytest.approx(1 / 3)
    assert metrics.mae(y, p) == pytest.approx(1 / 3)
    assert metrics.rmse(y, p) == pytest.approx(math.sqrt(1 / 3))
    assert metrics.r2(y, p) == pytest.approx(1 - 1 / 2)
    assert metrics.r2(y.reshape(-1, 1), p) == pytest.approx(0.5)  # (n, 1) vs (n,)
    two = np.stack([y, 2 * y], axis=1)
    # Column 2: ss_res 4, ss_tot 8 -> 0.5; mean of the two columns.
    assert metrics.r2(two, np.stack([p, 2 * p], axis=1)) == pytest.approx(0.5)
    assert metrics.r2(np.ones(3), np.ones(3)) == 1.0
    assert metrics.r2(np.ones(3), np.array([1.0, 2.0, 1.0])) == 0.0


# --- registry and bad input --------------------------------------------------------------------
def test_registry():
    assert metrics.METRICS == (
        "accuracy",
        "precision",
        "recall",
        "f1",
        "auc",
        "mse",
        "mae",
        "rmse",
        "r2",
    )
    for name in metrics.METRICS:
        assert callable(metrics.get(name))
    assert metrics.get("acc") is metrics.accuracy
    assert metrics.get("ROC_AUC") is metrics.roc_auc

    def custom(y_true, y_pred):
        return 0.0

    assert metrics.get(custom) is custom
    with pytest.raises(
        ConfigError, match=r"Unknown metric 'acuracy'.*accuracy, precision"
    ):
        metrics.get("acuracy")


def test_bad_input():
    with pytest.raises(ShapeError, match="different numbers of samples"):
        metrics.accuracy(Y3[:5], PROBS3)
    with pytest.raises(DataError, match=r"label 3 in row 0 is outside \[0, 3\)"):
        metrics.accuracy(np.array([3, 0, 1, 1, 2, 2]), PROBS3)
    with pytest.raises(DataError, match="holds nan in row 1"):
        metrics.accuracy(np.array([0, np.nan, 1, 1, 2, 2]), PROBS3)
    with pytest.raises(DataError, match="negative label"):
        metrics.accuracy(np.array([0, -1, 1, 1, 2, 2]), PRED3)
    with pytest.raises(ShapeError, match="different numbers of classes"):
        metrics.accuracy(np.eye(4)[[0, 1, 2, 3, 0, 1]], PROBS3)
    with pytest.raises(DataError, match="binary 0/1 targets.*2 in row 2"):
        metrics.roc_curve(np.array([0, 1, 2]), np.array([0.1, 0.5, 0.9]))
    with pytest.raises(ShapeError, match="use roc_curve_ovr"):
        metrics.roc_curve(Y3, PROBS3)
    with pytest.raises(ShapeError, match="they must match"):
        metrics.mse(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(DataError, match="NaN or Inf"):
        metrics.mae(np.array([1.0, np.inf]), np.zeros(2))
    with pytest.raises(DataError, match="non-empty"):
        metrics.accuracy(np.array([]), np.array([]))
    with pytest.raises(DataError, match="numeric"):
        metrics.mse(np.array(["a"]), np.array([1.0]))
