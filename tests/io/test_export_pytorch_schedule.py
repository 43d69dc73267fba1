"""The exported train.py's learning-rate schedule (issue 15): a warm-up counted in
steps steps its LambdaLR after every batch, and its steps track nndesk's trainer
(the rate and the loss of each batch); one counted in epochs steps per epoch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from test_export_pytorch import (  # the fixture too
    export,
    load_project_modules,  # noqa: F401
)

from nndesk.document.examples import EXAMPLES
from nndesk.training.callbacks import LambdaCallback
from nndesk.training.compile import make_schedule
from nndesk.training.session import TrainingSession

# The spiral example's 320 training points in batches of 64: 5 batches an epoch.
BATCHES = 5


def _session(tmp_path, **settings) -> TrainingSession:
    doc = EXAMPLES["spiral"].build()
    for name, value in {
        "lr_schedule": "warmup_cosine",
        "lr_min": 0.001,
        "batch_size": 64,
        "epochs": 2,
        "shuffle": False,  # the same batches in the same order for both
        **settings,
    }.items():
        doc.set_setting(name, value)
    return TrainingSession(doc, base_dir=tmp_path)


@pytest.mark.parametrize("optimizer", ["adamw", "sgd"])
def test_per_step_warmup_tracks_nndesk_rates_and_losses(
    optimizer,
    tmp_path,
    load_project_modules,  # noqa: F811
):
    session = _session(tmp_path, lr_warmup_steps=3, optimizer=optimizer)
    data = session.prepare(session.load_dataset())
    folder = export(session, tmp_path / "p")  # the weights before training
    model_module, train = load_project_modules(folder)

    ours: list[tuple[float, float]] = []
    trainer = session.make_trainer(data)
    trainer.callbacks.append(
        LambdaCallback(
            on_batch_end=lambda b, logs: ours.append((logs["lr"], logs["loss"]))
        )
    )
    trainer.run()
    assert len(ours) == 2 * BATCHES

    net = model_module.Network()
    model_module.load_weights(net, str(folder / "weights.npz"))
    loss_fn = train.make_loss()
    opt = train.make_optimizer(net.parameters())
    assert train.schedule_per_step()
    schedule = train.make_schedule(opt, BATCHES)
    theirs: list[tuple[float, float]] = []
    for step in range(2 * BATCHES):
        start = (step % BATCHES) * 64
        xb = data.x_train[start : start + 64]
        yb = data.y_train[start : start + 64]
        lr = opt.param_groups[0]["lr"]
        theirs.append(
            (
                lr,
                train.train_step(
                    net, opt, loss_fn, torch.as_tensor(xb), train.targets(yb)
                ),
            )
        )
        schedule.step()
    np.testing.assert_allclose([r for r, _ in theirs], [r for r, _ in ours], rtol=1e-12)
    base = 0.01
    assert [r for r, _ in ours][:4] == pytest.approx(
        [base / 4, base / 2, 3 * base / 4, base]
    )
    np.testing.assert_allclose(
        [loss for _, loss in theirs], [loss for _, loss in ours], rtol=1e-4, atol=1e-4
    )
    assert ours[0][1] != ours[-1][1]  # the weights did move


def test_a_warmup_in_epochs_steps_per_epoch(
    tmp_path,
    load_project_modules,  # noqa: F811
):
    """Networks from before step warm-ups (lr_warmup_epochs holds a number)."""
    session = _session(tmp_path, lr_warmup_epochs=1, epochs=4)
    folder = export(session, tmp_path / "p")
    _model, train = load_project_modules(folder)
    assert not train.schedule_per_step()
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=0.01)
    schedule = train.make_schedule(opt, BATCHES)
    rates = []
    for _epoch in range(4):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        schedule.step()
    ours = make_schedule(session.settings)
    cos = [0.001 + 0.009 * (1 + math.cos(math.pi * k / 3)) / 2 for k in range(3)]
    assert rates == pytest.approx([ours(e, 0.01) for e in range(4)])
    assert rates == pytest.approx([0.005, *cos])


def test_the_sort_examples_labels_per_step_train_as_in_nndesk(
    tmp_path,
    load_project_modules,  # noqa: F811
):
    """Issue 15's sort example has a class id per position, (n, 6) labels: the
    exported train.py keeps them per sample (TensorDataset needs n rows) and scores
    every position, as nndesk does; 4 warm-up steps track nndesk's losses."""
    session = TrainingSession(EXAMPLES["sort_transformer"].build(), base_dir=tmp_path)
    data = session.prepare(session.load_dataset())
    folder = export(session, tmp_path / "p")
    model_module, train = load_project_modules(folder)
    y = train.targets(data.y_train)
    assert tuple(y.shape) == data.y_train.shape == (len(data.x_train), 6)
    net = model_module.Network()
    model_module.load_weights(net, str(folder / "weights.npz"))
    loss_fn = train.make_loss()
    opt = train.make_optimizer(net.parameters())
    schedule = train.make_schedule(opt, 50)
    engine = session.model
    ours, theirs = [], []
    for step in range(4):
        xb = data.x_train[step * 32 : (step + 1) * 32]
        yb = data.y_train[step * 32 : (step + 1) * 32]
        engine.optimizer.lr = opt.param_groups[0]["lr"]
        ours.append(engine.train_on_batch(xb, yb)["loss"])
        theirs.append(
            train.train_step(net, opt, loss_fn, torch.as_tensor(xb), train.targets(yb))
        )
        schedule.step()
    np.testing.assert_allclose(theirs, ours, rtol=1e-4, atol=1e-4)
    logs = train.evaluate(
        net, loss_fn, torch.as_tensor(data.x_val), train.targets(data.y_val)
    )
    expected = engine.evaluate_arrays([data.x_val], [data.y_val], 256)
    assert logs["loss"] == pytest.approx(expected["loss"], rel=1e-3)
    assert logs["accuracy"] == pytest.approx(expected["accuracy"], abs=0.002)
