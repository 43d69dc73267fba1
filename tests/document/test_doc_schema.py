"""The data format: round trips, one clear error per defect, and migrations."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from conftest import make_chain, make_merge

from nndesk.document import (
    FORMAT_VERSION,
    Document,
    SchemaError,
    document_from_dict,
    document_to_dict,
)
from nndesk.document.schema import MIGRATIONS, data_version, migrate
from nndesk.document.settings import default_settings, optimizer_arguments


def saved() -> dict[str, Any]:
    doc = make_merge()
    doc.set_label("dense_1", "left")
    doc.set_setting("metrics", ("accuracy",))
    return json.loads(json.dumps(doc.to_dict()))


def test_round_trip_is_exact() -> None:
    doc = make_merge()
    doc.set_label("dense_1", "left")
    doc.set_setting("dataset", "spiral:n=10")
    data = doc.to_dict()
    assert data["format_version"] == FORMAT_VERSION == 1
    again = document_from_dict(json.loads(json.dumps(data)))
    assert again == doc
    assert again.to_dict() == data
    assert document_to_dict(doc.snapshot()) == data


def test_layout_of_version_1() -> None:
    data = make_chain().to_dict()
    assert set(data) == {"format_version", "nodes", "edges", "settings"}
    assert data["nodes"][0] == {
        "id": "input_1",
        "type_name": "Input",
        "params": {"shape": [2], "dtype": "float"},
        "pos": [0.0, 0.0],
        "label": None,
    }
    assert data["edges"][0] == {
        "src_node": "input_1",
        "src_port": "out",
        "dst_node": "dense_1",
        "dst_port": "in",
    }
    assert data["settings"] == {
        k: list(v) if isinstance(v, tuple) else v for k, v in default_settings().items()
    }


def test_missing_params_settings_and_edges_get_defaults() -> None:
    data = {
        "format_version": 1,
        "nodes": [{"id": "d", "type_name": "Dense", "pos": [1, 2]}],
    }
    doc = document_from_dict(data)
    assert doc.node("d").params["units"] == 16
    assert doc.node("d").pos == (1.0, 2.0)
    assert doc.settings == default_settings()
    assert doc.edges == ()


def broken(path: str, value: Any, delete: bool = False) -> dict[str, Any]:
    """``saved()`` with one value replaced (or deleted) at a dotted path."""
    data = saved()
    *parents, last = path.split(".")
    target: Any = data
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if isinstance(target, list):
        last_key: Any = int(last)
    else:
        last_key = last
    if delete:
        del target[last_key]
    else:
        target[last_key] = value
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "graph.json: expected an object at the top level, got a list."),
        (
            {"nodes": []},
            "graph.json has no format_version: it is not an nndesk network.",
        ),
        (
            broken("format_version", "1"),
            "graph.json: format_version must be a whole number, got '1'.",
        ),
        (
            broken("format_version", 7),
            "graph.json uses format 7, newer than this nndesk reads (1): update nndesk "
            "to open it.",
        ),
        (broken("extra", 1), "graph.json: the top level has unknown key 'extra'."),
        (
            broken("nodes", None, True),
            "graph.json: the top level is missing the key 'nodes'.",
        ),
        (broken("nodes", {}), "graph.json: 'nodes' must be a list, got an object."),
        (broken("edges", "x"), "graph.json: 'edges' must be a list, got a text."),
        (
            broken("settings", []),
            "graph.json: 'settings' must be an object, got a list.",
        ),
        (broken("nodes.1", 5), "graph.json: node 1 must be an object, got a number."),
        (
            broken("nodes.1.type_name", "Dense3"),
            "graph.json: node 'dense_1' has unknown type 'Dense3'.",
        ),
        (
            broken("nodes.1.colour", "red"),
            "graph.json: node 'dense_1' has unknown key 'colour'.",
        ),
        (
            broken("nodes.1.pos", None, True),
            "graph.json: node 'dense_1' is missing the key 'pos'.",
        ),
        (
            broken("nodes.1.pos", [1, "a"]),
            "graph.json: node 'dense_1' needs 'pos' as two numbers, got [1, 'a'].",
        ),
        (
            broken("nodes.1.id", 3),
            "graph.json: node 1 has an id that is not text: 3.",
        ),
        (
            broken("nodes.2.id", "dense_1"),
            "graph.json: node id 'dense_1' appears twice.",
        ),
        (
            broken("nodes.1.id", "bad id"),
            "graph.json, node 'bad id': Node id 'bad id' is not valid: use letters, "
            "digits and underscores, starting with a letter.",
        ),
        (
            broken("nodes.1.params.units", 0),
            "graph.json: node 'dense_1': units must be an integer ≥ 1 and ≤ 1000000, "
            "got 0.",
        ),
        (
            broken("nodes.1.params.size", 3),
            "graph.json: node 'dense_1' has no parameter 'size' (it has: activation, "
            "alpha, bias_initializer, kernel_initializer, l1, l2, units, use_bias).",
        ),
        (
            broken("nodes.1.params", [1]),
            "graph.json: node 'dense_1' has params that are not an object.",
        ),
        (
            broken("nodes.1.label", 4),
            "graph.json, node 'dense_1': Label of 'dense_1' must be text, got 4.",
        ),
        (
            broken("edges.0.dst_node", "ghost"),
            "graph.json: edge 0 refers to missing node 'ghost'.",
        ),
        (
            broken("edges.0.dst_port", "side"),
            "graph.json: edge 0 (input_1.out -> dense_1.side) is refused: Dense "
            "'dense_1' has no input port 'side'.",
        ),
        (
            broken("edges.0.src_port", 1),
            "graph.json: edge 0 has a node or port that is not text.",
        ),
        (
            broken("edges.0.weight", 1),
            "graph.json: edge 0 has unknown key 'weight'.",
        ),
        (
            broken("edges.1.dst_node", "dense_1"),
            "graph.json: edge 1 (input_1.out -> dense_1.in) is refused: Input "
            "'input_1' is already connected to Dense 'dense_1'.",
        ),
        (
            broken("settings.lr", 0.1),
            "graph.json: unknown setting 'lr'.",
        ),
        (
            broken("settings.epochs", 0),
            "graph.json: settings: epochs must be an integer ≥ 1 and ≤ 1000000, got 0.",
        ),
        (
            broken("settings.metrics", ["accuracy", "bogus"]),
            "graph.json: settings: metrics must be a list of distinct names from "
            "accuracy, precision, recall, f1, auc, mse, mae, rmse, r2, got "
            "['accuracy', 'bogus'].",
        ),
    ],
)
def test_every_defect_gets_one_sentence_naming_the_place(data, message: str) -> None:
    with pytest.raises(SchemaError) as info:
        document_from_dict(data)
    assert str(info.value) == message


def test_single_port_with_two_edges_and_cycles_are_refused() -> None:
    data = make_chain().to_dict()
    data["edges"].append(
        {
            "src_node": "dense_2",
            "src_port": "out",
            "dst_node": "dense_1",
            "dst_port": "in",
        }
    )
    with pytest.raises(SchemaError, match=r"edge 3 .* already has an input"):
        document_from_dict(data)
    doc = make_merge()
    data = doc.to_dict()
    data["edges"].insert(
        0,
        {
            "src_node": "dense_3",
            "src_port": "out",
            "dst_node": "concatenate_1",
            "dst_port": "in",
        },
    )
    with pytest.raises(SchemaError, match=r"would make a cycle"):
        document_from_dict(data)


def test_source_name_is_used_in_messages() -> None:
    with pytest.raises(SchemaError, match=r"^net\.json: unknown setting 'x'\.$"):
        Document.from_dict(broken("settings.x", 1), source="net.json")


# --- migrations -------------------------------------------------------------------------

V0: dict[str, Any] = {
    "version": 0,
    "nodes": {
        "input_1": {"type": "Input", "params": {"shape": [2]}, "x": 0, "y": 10},
        "dense_1": {
            "type": "Dense",
            "params": {"units": 3, "activation": "softmax"},
            "x": 200,
            "y": 10,
            "label": "head",
        },
        "output_1": {"type": "Output", "x": 400, "y": 10},
    },
    "edges": [
        ["input_1", "out", "dense_1", "in"],
        ["dense_1", "out", "output_1", "in"],
    ],
    "training": {
        "dataset": "spirals:n=90,classes=3",
        "optimizer": "sgd",
        "lr": 0.05,
        "batch_size": 8,
        "epochs": 4,
        "loss": "categorical_crossentropy",
    },
}


def test_version_0_migrates_to_the_current_format() -> None:
    original = copy.deepcopy(V0)
    doc = document_from_dict(V0)
    assert V0 == original  # the input is not modified
    assert doc.node_ids == ("input_1", "dense_1", "output_1")
    assert doc.node("dense_1").params["units"] == 3
    assert doc.node("dense_1").label == "head"
    assert doc.node("dense_1").pos == (200.0, 10.0)
    assert doc.node("output_1").params["loss"] == "categorical_crossentropy"
    assert doc.settings["learning_rate"] == 0.05
    assert doc.settings["optimizer"] == "sgd"
    assert [tuple(e) for e in doc.edges] == [tuple(e) for e in V0["edges"]]
    # after migrating, the document writes the current version and reads it back
    data = doc.to_dict()
    assert data["format_version"] == FORMAT_VERSION
    assert document_from_dict(data) == doc


def test_migration_chain_covers_every_old_version() -> None:
    assert sorted(MIGRATIONS) == list(range(FORMAT_VERSION))
    assert data_version(V0) == 0
    assert data_version(migrate(V0)) == FORMAT_VERSION
    current = make_chain().to_dict()
    assert migrate(current) == current and migrate(current) is not current


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d.update(nodes=[]),
            "graph.json: version 0 'nodes' must be an object by id.",
        ),
        (
            lambda d: d["edges"].append(["a", "b"]),
            "graph.json: version 0 edge 2 must be a list of 4 names.",
        ),
        (
            lambda d: d["nodes"]["input_1"].update(kind="x"),
            "graph.json: node 'input_1' has unknown key 'kind'.",
        ),
        (
            lambda d: d.update(training=3),
            "graph.json: version 0 'training' must be an object.",
        ),
        (
            lambda d: d["nodes"]["dense_1"].update(type="Dens"),
            "graph.json: node 'dense_1' has unknown type 'Dens'.",
        ),
    ],
)
def test_broken_version_0_data(change, message: str) -> None:
    data = copy.deepcopy(V0)
    change(data)
    with pytest.raises(SchemaError) as info:
        document_from_dict(data)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"nodes": {"in": {"type": "Input", "params": [1, 2]}}}, "'params' must be an object"),
        ({"nodes": {}, "edges": {"a": 1}}, "'edges' must be a list"),
    ],
)
def test_v0_with_wrong_container_types_is_a_schema_error(patch, message) -> None:
    data = {"version": 0, "nodes": {}, "edges": []}
    data.update(patch)
    with pytest.raises(SchemaError, match=message):
        migrate(data, "old.json")


def test_optimizer_options_round_trip_through_the_file() -> None:
    doc = make_chain()
    changes = {
        "optimizer": "rmsprop",
        "momentum": 0.5,
        "centered": True,
        "alpha": 0.95,
        "eps": 1e-7,
        "weight_decay": 0.001,
        "clipnorm": 1.0,
        "clipvalue": 0.25,
        "shuffle": False,
    }
    for name, value in changes.items():
        doc.set_setting(name, value)
    data = json.loads(json.dumps(doc.to_dict()))
    assert {k: data["settings"][k] for k in changes} == changes
    back = document_from_dict(data)
    assert {k: back.settings[k] for k in changes} == changes
    doc.set_setting("clipnorm", None)  # empty: no clipping, saved as null
    data = json.loads(json.dumps(doc.to_dict()))
    assert data["settings"]["clipnorm"] is None
    assert document_from_dict(data).settings["clipnorm"] is None


def test_a_file_without_the_optimizer_options_gets_the_engine_defaults() -> None:
    """Settings as files held them before the options existed: every option is at
    its default, and the empty ones leave the optimizer's own default."""
    data = saved()
    old_names = (
        "dataset dataset_target validation_split scaling optimizer learning_rate "
        "batch_size epochs seed metrics lr_schedule lr_step_size lr_gamma lr_min "
        "early_stopping_patience early_stopping_metric"
    ).split()
    data["settings"] = {k: data["settings"][k] for k in old_names}
    data["settings"]["optimizer"] = "adamw"
    doc = document_from_dict(data)
    assert doc.settings["weight_decay"] is None and doc.settings["eps"] is None
    assert doc.settings["shuffle"] is True
    assert optimizer_arguments(doc.settings) == {
        "lr": data["settings"]["learning_rate"],
        "beta1": 0.9,
        "beta2": 0.999,
    }


def test_a_bad_optimizer_option_in_a_file_is_refused() -> None:
    data = saved()
    data["settings"]["momentum"] = -0.5
    with pytest.raises(SchemaError, match="momentum must be a number ≥ 0 and < 1"):
        document_from_dict(data)
