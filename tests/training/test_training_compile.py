"""Document -> engine Model: node-id names, loss and optimizer, problems, weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from training_helpers import chain_document, spiral_document

from nndesk.document import Document
from nndesk.document.examples import EXAMPLES
from nndesk.document.gan import is_gan
from nndesk.document.settings import (
    get_setting_spec,
    optimizer_default,
    optimizer_options,
)
from nndesk.engine import optimizers
from nndesk.engine.optimizers import OPTIMIZERS, SGD, Adam
from nndesk.io.project_file import load_project
from nndesk.training.compile import (
    compile_network,
    make_schedule,
    transfer_optimizer_state,
    transfer_weights,
    warmup_note,
)
from nndesk.training.early_stopping import early_stopping_from_settings
from nndesk.training.errors import CompileError
from nndesk.training.trainer import TrainConfig

# GAN examples are two networks, not a predictor: tests/io/test_gan_export.py.
PREDICTORS = sorted(n for n, e in EXAMPLES.items() if not is_gan(e.build()))


@pytest.mark.parametrize("name", PREDICTORS)
def test_every_example_compiles_with_layers_named_by_node_id(name):
    doc = EXAMPLES[name].build()
    net = compile_network(doc)
    model = net.model
    layer_nodes = [n.id for n in doc.nodes if n.spec.layer_type is not None]
    assert sorted(layer.name for layer in model.layers) == sorted(layer_nodes)
    for key in model.get_weights():
        node_id, param = key.split("/")
        assert doc.has_node(node_id) and param
    (output,) = doc.nodes_of_type("Output")
    assert net.loss == output.params["loss"]
    assert net.prediction_id == doc.predecessors(output.id)[0]
    assert model.input_shapes == [tuple(doc.node(net.input_id).params["shape"])]
    assert model.optimizer.lr == doc.settings["learning_rate"]


def test_compile_reads_loss_optimizer_and_metrics_from_the_document():
    doc = spiral_document(
        optimizer="sgd", learning_rate=0.3, metrics=("accuracy", "f1")
    )
    net = compile_network(doc)
    assert isinstance(net.model.optimizer, SGD)
    assert net.model.optimizer.lr == 0.3
    assert net.metrics == ("accuracy", "f1")
    assert net.is_classifier and net.output_units == 1
    assert net.model.loss_functions[0].name == "binary_crossentropy"


def test_huber_delta_comes_from_the_output_node():
    doc = chain_document(
        [("Dense", {"units": 1, "activation": "linear"})], "huber", input_shape=(1,)
    )
    (out,) = doc.nodes_of_type("Output")
    doc.set_param(out.id, "delta", 0.25)
    assert compile_network(doc).model.loss_functions[0].delta == 0.25


def test_metrics_that_do_not_suit_the_loss_are_skipped():
    doc = chain_document(
        [("Dense", {"units": 1, "activation": "linear"})],
        "mse",
        input_shape=(1,),
        metrics=("mae", "accuracy"),
    )
    assert compile_network(doc).metrics == ("mae",)


def test_the_model_ignores_later_edits_of_the_document():
    doc = spiral_document()
    net = compile_network(doc)
    doc.set_param("dense_1", "units", 32)
    assert net.model.layer("dense_1").units == 8
    assert net.snapshot.node("dense_1").params["units"] == 8


def test_nodes_that_do_not_reach_the_output_are_left_out():
    doc = spiral_document()
    extra = doc.add_node("Dense", {"units": 5})
    doc.connect("dense_1", "out", extra, "in")
    net = compile_network(doc)
    assert extra not in [layer.name for layer in net.model.layers]


def test_merge_inputs_keep_the_edge_order():
    doc = Document({"dataset": "moons:n=50"})
    x = doc.add_node("Input", {"shape": (2,)})
    a = doc.add_node("Dense", {"units": 3})
    b = doc.add_node("Dense", {"units": 4})
    cat = doc.add_node("Concatenate")
    y = doc.add_node("Dense", {"units": 1, "activation": "sigmoid"})
    out = doc.add_node("Output", {"loss": "binary_crossentropy"})
    doc.connect(x, "out", a, "in")
    doc.connect(x, "out", b, "in")
    doc.connect(b, "out", cat, "in")
    doc.connect(a, "out", cat, "in")
    doc.connect(cat, "out", y, "in")
    doc.connect(y, "out", out, "in")
    model = compile_network(doc).model
    assert model.inbound_names(cat) == [b, a]
    assert model.output_shape_of(cat) == (7,)


def test_a_broken_document_raises_one_error_listing_every_problem():
    doc = Document()
    x = doc.add_node("Input", {"shape": (28, 28, 1)})
    d = doc.add_node("Dense", {"units": 10, "activation": "softmax"})
    doc.add_node("Dense", {"units": 3})  # no input
    doc.connect(x, "out", d, "in")
    with pytest.raises(CompileError) as info:
        compile_network(doc)
    message = str(info.value)
    assert "problems" in message
    assert "insert Flatten" in message
    assert "no Output node" in message
    assert "has no input" in message
    assert "\n" not in message
    assert len(info.value.problems) >= 3


def test_make_schedule_follows_the_settings():
    settings = dict(spiral_document().settings)
    assert make_schedule(settings) is None
    settings.update(lr_schedule="cosine", epochs=10, lr_min=0.001)
    schedule = make_schedule(settings)
    assert schedule(0, 0.1) == pytest.approx(0.1)
    assert schedule(10, 0.1) == pytest.approx(0.001)
    settings.update(lr_schedule="step", lr_step_size=3, lr_gamma=0.1)
    assert make_schedule(settings)(3, 1.0) == pytest.approx(0.1)
    # A new network warms up in steps: lr_warmup_steps, over epochs x batches.
    settings.update(lr_schedule="warmup_cosine", lr_warmup_steps=4, epochs=10)
    warm = make_schedule(settings)
    assert warm.per_step and warm.get_config() == {
        "warmup_steps": 4,
        "total_epochs": 10,
        "min_lr": 0.001,
    }
    rates = [warm.rate(0, b, 5, 0.5) for b in range(5)]
    assert rates == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5])
    assert warm.rate(10, 0, 5, 0.5) == pytest.approx(0.001)
    # A number in lr_warmup_epochs (files from before step warm-ups): per epoch.
    settings.update(lr_warmup_epochs=2)
    warm = make_schedule(settings)
    assert not warm.per_step
    assert [warm(e, 0.3) for e in (0, 1, 2)] == pytest.approx([0.1, 0.2, 0.3])
    assert warm(10, 0.3) == pytest.approx(0.001)


def test_warmup_note_names_the_setting_and_the_numbers():
    settings = dict(spiral_document().settings)
    settings.update(lr_schedule="warmup_cosine", lr_warmup_steps=100, epochs=2)
    assert warmup_note(make_schedule(settings), 51) is None  # 100 of 102 steps
    note = warmup_note(make_schedule(settings), 50)
    assert note == (
        "The warm-up of 100 steps (lr_warmup_steps) is as long as the run's 100 "
        "steps (2 epochs of 50 batches) or longer, so the learning rate rises "
        "through the whole run and never reaches its set value: shorten the "
        "warm-up or train more epochs."
    )
    settings.update(lr_warmup_epochs=2)
    assert "warm-up of 2 epochs (lr_warmup_epochs)" in warmup_note(
        make_schedule(settings), 49
    )
    settings.update(lr_schedule="cosine")
    assert warmup_note(make_schedule(settings), 1) is None


def test_transfer_keeps_the_weights_of_nodes_whose_shapes_did_not_change():
    doc = spiral_document()
    old = compile_network(doc).model
    old.set_weights({k: np.full_like(v, 0.5) for k, v in old.get_weights().items()})
    doc.set_param("dense_2", "units", 16)  # changes dense_2 and dense_3's kernel
    new = compile_network(doc, seed=99).model
    kept = transfer_weights(old.get_weights(), new)
    assert kept == ["dense_1"]
    w = new.get_weights()
    assert np.all(w["dense_1/kernel"] == 0.5) and np.all(w["dense_1/bias"] == 0.5)
    assert w["dense_2/kernel"].shape == (8, 16) and not np.all(
        w["dense_2/kernel"] == 0.5
    )
    assert not np.all(w["dense_3/kernel"] == 0.5)


def test_transfer_moves_batchnorm_state_with_its_node():
    doc = chain_document(
        [
            ("Dense", {"units": 4}),
            ("BatchNorm", {}),
            ("Dense", {"units": 1, "activation": "sigmoid"}),
        ],
        "binary_crossentropy",
        dataset="moons:n=40",
    )
    old = compile_network(doc).model
    weights = old.get_weights()
    weights["batchnorm_1/running_mean"][:] = 3.0
    new = compile_network(doc, seed=5).model
    assert "batchnorm_1" in transfer_weights(weights, new)
    assert np.all(new.get_weights()["batchnorm_1/running_mean"] == 3.0)


def test_transfer_of_optimizer_state_keeps_only_kept_nodes():
    doc = spiral_document()
    net = compile_network(doc)
    x = np.random.default_rng(0).normal(size=(16, 2)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    net.model.train_on_batch(x, y)
    state = net.model.optimizer.get_state()
    fresh = compile_network(doc)
    transfer_optimizer_state(state, fresh.model, ["dense_1"])
    got = fresh.model.optimizer.get_state()
    assert isinstance(fresh.model.optimizer, Adam)
    assert np.array_equal(got["dense_1/kernel/m"], state["dense_1/kernel/m"])
    assert not any(k.startswith("dense_2/") for k in got)


def test_complete_weights_fills_in_fresh_weights_reproducibly():
    from nndesk.training.compile import complete_weights

    doc = spiral_document()
    weights = compile_network(doc).model.get_weights()
    assert complete_weights(doc, {}) == {}
    doc.set_param("dense_3", "units", 2)
    a = complete_weights(doc, weights, seed=3)
    b = complete_weights(doc, weights, seed=3)
    assert a.keys() == weights.keys()
    assert np.array_equal(a["dense_1/kernel"], weights["dense_1/kernel"])
    assert (
        a["dense_3/kernel"].shape == (8, 2) and a["dense_3/kernel"].dtype == np.float32
    )
    assert all(np.array_equal(a[k], b[k]) for k in a)


# --- every optimizer option, from the settings to the engine ------------------------

# A value other than the engine's default for every option of every optimizer.
_OPTION_VALUES = {
    "momentum": 0.9,
    "nesterov": True,
    "beta1": 0.8,
    "beta2": 0.99,
    "alpha": 0.9,
    "centered": True,
    "initial_accumulator_value": 0.1,
    "eps": 1e-6,
    "weight_decay": 0.05,
    "clipnorm": 2.0,
    "clipvalue": 0.5,
}


@pytest.mark.parametrize(
    ("optimizer", "option"),
    [(name, option) for name in OPTIMIZERS for option in optimizer_options(name)],
)
def test_each_optimizer_setting_reaches_the_engine_optimizer(optimizer, option):
    value = _OPTION_VALUES[option]
    assert value != optimizer_default(optimizer, option)
    settings = {"optimizer": optimizer, option: value}
    if option == "nesterov":
        settings["momentum"] = 0.5  # Nesterov needs momentum
    doc = spiral_document(**settings)
    config = compile_network(doc).model.optimizer.get_config()
    assert config[option] == value
    # the other options stay at the engine's defaults
    for other in optimizer_options(optimizer):
        if other not in settings:
            assert config[other] == optimizer_default(optimizer, other), other


def test_every_engine_optimizer_argument_is_a_setting():
    for name in OPTIMIZERS:
        for option in optimizer_options(name):
            spec = get_setting_spec(option)
            default = optimizer_default(name, option)
            # the setting's default is the engine's, or empty for "the engine's"
            assert spec.default == default or (spec.optional and spec.default is None)
            assert spec.is_valid(default), (name, option)


def test_the_options_change_the_update():
    """SGD with momentum takes a different second step than plain SGD."""
    x = np.random.default_rng(0).normal(size=(16, 2)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    results = []
    for momentum in (0.0, 0.9):
        net = compile_network(
            spiral_document(optimizer="sgd", learning_rate=0.1, momentum=momentum)
        )
        net.model.train_on_batch(x, y)
        net.model.train_on_batch(x, y)
        results.append(net.model.get_weights())
    assert any(not np.array_equal(results[0][k], results[1][k]) for k in results[0])


def test_nesterov_without_momentum_is_a_problem_before_compiling():
    doc = spiral_document(optimizer="sgd", nesterov=True)
    with pytest.raises(CompileError, match="nesterov needs a momentum > 0"):
        compile_network(doc)
    doc.set_setting("momentum", 0.9)
    assert compile_network(doc).model.optimizer.nesterov is True


def test_settings_without_the_options_build_the_engine_defaults():
    """A document from before the options existed trains as it did: the optimizer
    is exactly ``optimizers.get(name, lr=...)``, AdamW's weight decay included."""
    for name in OPTIMIZERS:
        doc = spiral_document(optimizer=name, learning_rate=0.02)
        built = compile_network(doc).model.optimizer
        assert built.get_config() == optimizers.get(name, lr=0.02).get_config()
    adamw = compile_network(spiral_document(optimizer="adamw")).model.optimizer
    assert adamw.weight_decay == 0.01


def test_shuffle_setting_reaches_the_training_config():
    doc = spiral_document()
    assert TrainConfig.from_settings(doc.settings).shuffle is True
    doc.set_setting("shuffle", False)
    assert TrainConfig.from_settings(doc.settings).shuffle is False


# --- accuracy by default -------------------------------------------------------------


@pytest.mark.parametrize(
    ("layers", "loss"),
    [
        ([("Dense", {"units": 1, "activation": "sigmoid"})], "binary_crossentropy"),
        (
            [("Dense", {"units": 3, "activation": "softmax"})],
            "categorical_crossentropy",
        ),
        (
            [("Dense", {"units": 3, "activation": "softmax"})],
            "sparse_categorical_crossentropy",
        ),
    ],
)
def test_a_classifier_built_from_the_palette_reports_accuracy(layers, loss):
    doc = chain_document(layers, loss, input_shape=(2,))
    assert doc.settings["metrics"] == ()
    net = compile_network(doc)
    assert net.metrics == ("accuracy",)
    x = np.random.default_rng(1).normal(size=(8, 2)).astype(np.float32)
    y = np.arange(8) % (2 if loss == "binary_crossentropy" else 3)
    if loss == "categorical_crossentropy":
        y = np.eye(3, dtype=np.float32)[y]
    logs = net.model.evaluate(x, y.astype(np.float32))
    assert 0.0 <= logs["accuracy"] <= 1.0


def test_regression_gets_no_default_metric_and_accuracy_is_not_doubled():
    reg = chain_document(
        [("Dense", {"units": 1, "activation": "linear"})], "mse", input_shape=(1,)
    )
    assert compile_network(reg).metrics == ()
    doc = spiral_document(metrics=("f1", "accuracy"))
    assert compile_network(doc).metrics == ("accuracy", "f1")


def test_a_file_from_before_the_options_trains_with_the_old_optimizer():
    """tests/io/data/spiral_v1.nndesk was written before the optimizer options
    were settings: it gets exactly the optimizer it had, with the same slots."""
    project = load_project(Path(__file__).parents[1] / "io/data/spiral_v1.nndesk")
    doc = project.document
    assert all(doc.settings[o] is None for o in ("eps", "weight_decay", "clipnorm"))
    net = compile_network(doc)
    expected = optimizers.get("adam", lr=doc.settings["learning_rate"])
    assert net.model.optimizer.get_config() == expected.get_config()
    saved_slots = {k.rsplit("/", 1)[1] for k in project.optimizer_state if "/" in k}
    assert set(net.model.optimizer.slots) <= saved_slots


def test_early_stopping_min_delta_reaches_the_callback():
    doc = spiral_document(early_stopping_patience=3, early_stopping_min_delta=0.01)
    config = TrainConfig.from_settings(doc.settings)
    callback = early_stopping_from_settings(
        config.as_settings(), has_validation=True, metrics=("accuracy",)
    )
    assert callback is not None
    assert (callback.patience, callback.min_delta) == (3, 0.01)
    # a change smaller than min_delta is no improvement
    callback.on_train_begin()
    callback.on_epoch_end(0, {"val_loss": 1.0})
    callback.on_epoch_end(1, {"val_loss": 0.995})
    assert callback.wait == 1 and callback.best == 1.0
