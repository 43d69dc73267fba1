"""Network settings: the optimizer options, which settings act, default metrics."""

from __future__ import annotations

import pytest

from nndesk.document import Document
from nndesk.document.schema import document_from_dict, document_to_dict
from nndesk.document.settings import (
    OPTIMIZERS,
    SETTINGS,
    default_metrics,
    default_settings,
    inactive_settings,
    optimizer_arguments,
    optimizer_options,
    settings_of_old_files,
    warmup_unit,
)
from nndesk.engine import optimizers
from nndesk.engine.losses import LOSSES


def settings(**changes) -> dict:
    return {**default_settings(), **changes}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_only_the_chosen_optimizers_options_act(name: str) -> None:
    inactive = inactive_settings(settings(optimizer=name))
    every_option = {o for n in OPTIMIZERS for o in optimizer_options(n)}
    assert every_option - inactive == set(optimizer_options(name))
    # the options are settings, and nothing else is hidden by the optimizer
    names = {s.name for s in SETTINGS}
    assert every_option <= names
    assert "learning_rate" not in inactive and "optimizer" not in inactive


@pytest.mark.parametrize(
    ("schedule", "acting"),
    [
        ("constant", set()),
        ("step", {"lr_step_size", "lr_gamma"}),
        ("exponential", {"lr_gamma"}),
        ("cosine", {"lr_min"}),
        ("warmup_cosine", {"lr_min", "lr_warmup_steps"}),
    ],
)
def test_only_the_chosen_schedules_options_act(schedule: str, acting: set) -> None:
    inactive = inactive_settings(settings(lr_schedule=schedule))
    options = {"lr_step_size", "lr_gamma", "lr_min", "lr_warmup_steps"}
    assert options | {"lr_warmup_epochs"} <= {s.name for s in SETTINGS}
    assert (options | {"lr_warmup_epochs"}) - inactive == acting


def test_the_warmup_shows_the_unit_it_counts() -> None:
    """A new network warms up in steps; a warm-up in epochs (files from before step
    warm-ups) shows instead while it holds a number, and clearing it brings the
    steps back."""
    steps = settings(lr_schedule="warmup_cosine")
    assert steps["lr_warmup_epochs"] is None and warmup_unit(steps) == "steps"
    active = {"lr_min", "lr_warmup_steps", "lr_warmup_epochs"} - inactive_settings(
        steps
    )
    assert active == {"lr_min", "lr_warmup_steps"}
    epochs = settings(lr_schedule="warmup_cosine", lr_warmup_epochs=1)
    assert warmup_unit(epochs) == "epochs"
    active = {"lr_min", "lr_warmup_steps", "lr_warmup_epochs"} - inactive_settings(
        epochs
    )
    assert active == {"lr_min", "lr_warmup_epochs"}


@pytest.mark.parametrize(
    ("stored", "upgrade"),
    [
        ({"lr_schedule": "warmup_cosine", "lr_warmup_epochs": 3}, {}),
        ({"lr_schedule": "warmup_cosine"}, {"lr_warmup_epochs": 1}),
        ({"lr_schedule": "cosine", "lr_warmup_epochs": 1}, {"lr_warmup_epochs": None}),
        ({}, {"lr_warmup_epochs": None}),
        ({"lr_schedule": "warmup_cosine", "lr_warmup_steps": 9}, {}),
        (
            {
                "lr_schedule": "warmup_cosine",
                "lr_warmup_steps": 9,
                "lr_warmup_epochs": 2,
            },
            {},
        ),
    ],
)
def test_files_from_before_step_warmups_keep_their_epochs(stored, upgrade) -> None:
    assert settings_of_old_files(stored) == upgrade
    data = document_to_dict(Document())
    data["settings"] = {**stored, "dataset": "spiral"}
    loaded = document_from_dict(data).settings
    expected = {**default_settings(), **stored, **upgrade}
    for name in ("lr_schedule", "lr_warmup_steps", "lr_warmup_epochs"):
        assert loaded[name] == expected[name]


def test_early_stopping_options_act_only_with_a_patience() -> None:
    off = inactive_settings(settings())
    assert {"early_stopping_metric", "early_stopping_min_delta"} <= off
    on = inactive_settings(settings(early_stopping_patience=2))
    assert not {"early_stopping_metric", "early_stopping_min_delta"} & on


def test_optimizer_arguments_leave_empty_options_to_the_engine() -> None:
    args = optimizer_arguments(
        settings(optimizer="adamw", learning_rate=0.01, beta1=0.8, momentum=0.9)
    )
    # momentum is not an AdamW option; eps and weight_decay are empty
    assert args == {"lr": 0.01, "beta1": 0.8, "beta2": 0.999}
    built = optimizers.get("adamw", **args)
    assert built.weight_decay == 0.01 and built.eps == 1e-8


def test_the_help_of_empty_options_names_the_engine_defaults() -> None:
    by_name = {s.name: s for s in SETTINGS}
    for option, phrase in (
        ("eps", "1e-8; Adagrad 1e-10"),
        ("weight_decay", "AdamW 0.01"),
    ):
        assert phrase in by_name[option].help
    assert optimizers.get("adam").eps == 1e-8 and optimizers.get("adagrad").eps == 1e-10
    assert optimizers.get("adamw").weight_decay == 0.01
    assert all(optimizers.get(n).weight_decay == 0 for n in OPTIMIZERS if n != "adamw")


@pytest.mark.parametrize("loss", LOSSES)
def test_cross_entropy_losses_have_accuracy_by_default(loss: str) -> None:
    expected = ("accuracy",) if "crossentropy" in loss else ()
    assert default_metrics(loss) == expected
