"""Equality with PyTorch (and scikit-learn) on the committed float64 fixtures.

The fixtures are written by ``make_torch_fixtures.py`` (run by hand; this test
imports neither torch nor scikit-learn). Each file carries a JSON spec, so the
nndesk side is rebuilt from the file alone: losses on fixed inputs, small networks
(forward, loss, input and parameter gradients, one SGD step, BatchNorm statistics),
5 steps of every optimizer configuration, and the classification / ROC /
regression metrics.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nndesk.engine import losses, metrics, optimizers, schedules
from nndesk.engine.layers import LAYER_TYPES, Input
from nndesk.engine.model import Model

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RTOL = 1e-5
ATOL = 1e-9

NETS = sorted(p.stem for p in FIXTURES.glob("net_*.npz"))
OPTIMS = sorted(p.stem for p in FIXTURES.glob("optim_*.npz"))


def load(stem: str) -> tuple[dict[str, np.ndarray], dict]:
    with np.load(FIXTURES / f"{stem}.npz", allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    return arrays, json.loads(str(arrays.pop("spec")))


def prefixed(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}


def assert_close(actual, expected, what: str, rtol: float = RTOL) -> None:
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, (
        f"{what}: shape {actual.shape}, PyTorch {expected.shape}"
    )
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=ATOL, err_msg=what)


def build(spec: dict) -> Model:
    """The nndesk float64 model of a fixture spec (explicit layer names)."""
    tensors = {name: Input(tuple(shape), name=name) for name, shape in spec["inputs"]}
    for type_name, name, inputs, kwargs in spec["layers"]:
        kwargs = dict(kwargs)
        if "target_shape" in kwargs:
            kwargs["target_shape"] = tuple(kwargs["target_shape"])
        layer = LAYER_TYPES[type_name](name=name, **kwargs)
        args = [tensors[i] for i in inputs]
        tensors[name] = layer(args[0] if len(args) == 1 else args)
    return Model(
        inputs=[tensors[name] for name, _ in spec["inputs"]],
        outputs=[tensors[name] for name in spec["outputs"]],
        dtype=np.float64,
        seed=0,
    )


def test_fixture_set_is_complete():
    """Guards against a missing or half-written fixtures folder."""
    assert (FIXTURES / "losses.npz").exists() and (FIXTURES / "metrics.npz").exists()
    assert len(NETS) >= 30 and len(OPTIMS) >= 20
    acts = {"linear", "relu", "leaky_relu", "elu", "gelu", "silu", "sigmoid", "tanh"}
    acts |= {"softplus", "softmax"}
    assert {f"net_act_{a}" for a in acts} <= set(NETS)
    # The folder holds every family's fixtures (dense, convolution, recurrent,
    # attention: about 1.0 MB together); they stay small enough to commit.
    total = sum(p.stat().st_size for p in FIXTURES.glob("*.npz"))
    assert total < 1_500_000


# --- losses ------------------------------------------------------------------------------
_LOSS_ARRAYS, _LOSS_SPEC = load("losses")


@pytest.mark.parametrize("case", sorted(_LOSS_SPEC))
def test_loss_matches_torch(kernel_path, case):
    spec = _LOSS_SPEC[case]
    a = prefixed(_LOSS_ARRAYS, f"{case}/")
    loss = losses.get(spec["loss"], **spec["kwargs"])
    value = loss.forward(a["input"], a["y_true"])
    assert_close(value, a["loss"], f"{case} loss")
    grad = loss.backward()
    assert grad.shape == a["input"].shape and grad.dtype == np.float64
    assert_close(grad, a["grad"], f"{case} gradient")
    if spec["input"] == "logits":
        # The fused route of the from-probabilities loss gives the same numbers.
        plain = losses.get(spec["loss"])
        if plain.fuses_with is not None:
            assert_close(
                plain.forward_from_logits(a["input"], a["y_true"]), a["loss"], case
            )
            assert_close(plain.backward_from_logits(), a["grad"], f"{case} fused grad")


# --- networks ------------------------------------------------------------------------------
@pytest.mark.parametrize("stem", NETS)
def test_network_matches_torch(stem):
    a, spec = load(stem)
    model = build(spec)
    weights = prefixed(a, "w/")
    model.set_weights(weights)
    xs = [a[f"x/{name}"] for name, _ in spec["inputs"]]
    loss_spec = spec["loss"]

    # Training-mode forward, then the loss gradient pushed back by hand (no fusion).
    (out,) = model.forward(xs, training=True)
    assert_close(out, a["out"], f"{stem} output")
    loss = losses.get(loss_spec["name"], **loss_spec["kwargs"])
    loss.forward(out, a["y"])
    dxs = model.backward([loss.backward()])
    for (name, _), dx in zip(spec["inputs"], dxs, strict=True):
        assert_close(dx, a[f"dx/{name}"], f"{stem} input gradient {name}")

    # One SGD step through train_on_batch (fused losses, regularisation included).
    model.set_weights(weights)  # undo the running-statistics update above
    model.compile(
        loss=losses.get(loss_spec["name"], **loss_spec["kwargs"]),
        optimizer=optimizers.SGD(lr=0.1),
    )
    logs = model.train_on_batch(xs if len(xs) > 1 else xs[0], a["y"])
    assert_close(logs["loss"], a["loss"], f"{stem} loss")
    grads = model.gradients()
    expected = prefixed(a, "g/")
    assert sorted(grads) == sorted(expected)
    for key, g in expected.items():
        assert_close(grads[key], g, f"{stem} gradient {key}")
    after = model.get_weights()
    for key, w in prefixed(a, "after/w/").items():
        assert_close(after[key], w, f"{stem} {key} after one step")
    (out_eval,) = model.forward(xs, training=False)
    assert_close(out_eval, a["after/out_eval"], f"{stem} inference output after a step")


# --- optimizers --------------------------------------------------------------------------
def _schedule(spec: dict):
    s = spec["schedule"]
    return None if s is None else schedules.get(s["name"], **s["kwargs"])


@pytest.mark.parametrize("stem", OPTIMS)
def test_optimizer_matches_torch(kernel_path, stem):
    """Replaying torch's raw gradients: clipping, decay and schedule included."""
    a, spec = load(stem)
    opt = optimizers.get(spec["optimizer"]["name"], **spec["optimizer"]["kwargs"])
    sched = _schedule(spec)
    base_lr = opt.lr
    params = {k: v.copy() for k, v in prefixed(a, "w/").items()}
    for step in range(spec["steps"]):
        if sched is not None:
            opt.lr = sched(step, base_lr)
        assert_close(opt.lr, a[f"lr/{step}"], f"{stem} lr at step {step}")
        opt.step(params, prefixed(a, f"grads/{step}/"))
        for key, w in prefixed(a, f"params/{step}/").items():
            assert_close(params[key], w, f"{stem} {key} after step {step + 1}")


@pytest.mark.parametrize("stem", OPTIMS)
def test_training_matches_torch(stem):
    """The same 5 steps end to end through the model's train_on_batch."""
    a, spec = load(stem)
    model = build(spec)
    model.set_weights(prefixed(a, "w/"))
    opt = optimizers.get(spec["optimizer"]["name"], **spec["optimizer"]["kwargs"])
    model.compile(loss="mse", optimizer=opt)
    sched = _schedule(spec)
    base_lr = opt.lr
    for step in range(spec["steps"]):
        if sched is not None:
            opt.lr = sched(step, base_lr)
        model.train_on_batch(a[f"x/{step}"], a[f"y/{step}"])
    weights = model.get_weights()
    last = spec["steps"] - 1
    for key, w in prefixed(a, f"params/{last}/").items():
        assert_close(weights[key], w, f"{stem} {key} after {spec['steps']} steps")


# --- metrics ---------------------------------------------------------------------------------
_METRIC_ARRAYS, _METRIC_SPEC = load("metrics")


@pytest.mark.parametrize("case", sorted(_METRIC_SPEC))
def test_metrics_match_sklearn(case):
    spec = _METRIC_SPEC[case]
    a = prefixed(_METRIC_ARRAYS, f"{case}/")
    yt, yp = a["y_true"], a["y_pred"]
    kind = spec["kind"]
    if kind in ("binary", "multiclass"):
        onehot = np.eye(yp.shape[1])[yt] if yp.ndim == 2 else None
        for y in (
            [yt] if onehot is None else [yt, onehot, yt.reshape(-1, 1).astype(float)]
        ):
            assert_close(metrics.accuracy(y, yp), a["accuracy"], f"{case} accuracy")
            for m in ("precision", "recall", "f1"):
                fn = metrics.get(m)
                assert_close(fn(y, yp), a[m], f"{case} {m}")
            np.testing.assert_array_equal(
                metrics.confusion_matrix(y, yp, num_classes=len(a["confusion_matrix"])),
                a["confusion_matrix"],
            )
            if "auc" in a:
                assert_close(metrics.get("auc")(y, yp), a["auc"], f"{case} auc")
    if kind == "binary":
        assert_close(
            metrics.precision(yt, yp, average="macro"), a["precision_macro"], case
        )
        fpr, tpr, thr = metrics.roc_curve(yt, yp)
        assert_close(fpr, a["roc_fpr"], f"{case} fpr")
        assert_close(tpr, a["roc_tpr"], f"{case} tpr")
        np.testing.assert_array_equal(thr, a["roc_thresholds"])
    if kind == "multiclass":
        k = spec["classes"]
        if not spec["auc"]:
            assert_close(metrics.accuracy(yt, yp), a["accuracy"], f"{case} accuracy")
            np.testing.assert_array_equal(
                metrics.confusion_matrix(yt, yp), a["confusion_matrix"]
            )
        for m in ("precision", "recall", "f1"):
            fn = getattr(metrics, m)
            assert_close(fn(yt, yp), a[m], f"{case} {m} macro")
            assert_close(fn(yt, yp, average="weighted"), a[f"{m}_weighted"], case)
            assert_close(fn(yt, yp, average=None), a[f"{m}_per_class"], case)
        report = metrics.classification_report(yt, yp)
        for c in range(k):
            assert_close(report[str(c)]["f1"], a["f1_per_class"][c], f"{case} report")
        assert_close(report["macro avg"]["recall"], a["recall"], f"{case} report macro")
        if spec["auc"]:
            curves = metrics.roc_curve_ovr(yt, yp)
            for c, (fpr, tpr, thr) in enumerate(curves):
                assert_close(fpr, a[f"roc{c}_fpr"], f"{case} class {c} fpr")
                assert_close(tpr, a[f"roc{c}_tpr"], f"{case} class {c} tpr")
                np.testing.assert_array_equal(thr, a[f"roc{c}_thresholds"])
    if kind == "regression":
        for m in ("mse", "mae", "rmse", "r2"):
            assert_close(metrics.get(m)(yt, yp), a[m], f"{case} {m}")
    if kind == "r2_only":
        assert_close(metrics.r2(yt, yp), a["r2"], f"{case} r2")
