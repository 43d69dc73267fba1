"""Registry-driven tests: every node type's defaults, layer, shapes and JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nndesk.document import (
    CATEGORIES,
    REGISTRY,
    Document,
    NodeSpec,
    UnknownNodeTypeError,
    get_spec,
    infer_shapes,
)
from nndesk.document.registry import ALPHA_DEFAULTS, specs_in
from nndesk.engine.activations import ACTIVATIONS, get_activation
from nndesk.engine.layers import LAYER_TYPES, Layer
from nndesk.engine.losses import LOSSES

SPECS = list(REGISTRY.values())
IDS = [s.type_name for s in SPECS]


# Per-sample shapes a node type's defaults must accept one of: features, a
# sequence (steps, channels), an image (height, width, channels).
SAMPLE_SHAPES = ((4,), (6, 3), (8, 8, 3))


def network_around(spec: NodeSpec) -> tuple[Document, str]:
    """A document feeding an input into a node of ``spec`` (two branches for
    merges); the node under test is returned with the document. The input is the
    first of ``SAMPLE_SHAPES`` the node accepts ((4,) for every dense-network
    type), so node types of any family are covered by the tests here."""
    for shape in SAMPLE_SHAPES:
        doc, node = _network_around(spec, shape)
        if spec.category == "Output" or infer_shapes(doc)[node].ok:
            break
    return doc, node


def _network_around(spec: NodeSpec, shape: tuple[int, ...]) -> tuple[Document, str]:
    doc = Document()
    if spec.category == "Input":
        node = doc.add_node(spec.type_name, {"shape": shape})
        return doc, node
    x = doc.add_node("Input", {"shape": shape})
    node = doc.add_node(spec.type_name)
    if spec.input_port("in") is not None and spec.input_port("in").multiple:
        for _ in range(spec.min_inputs):
            if len(shape) == 1:
                branch = doc.add_node("Dense", {"units": 4})
            else:
                branch = doc.add_node("ReLU")
            doc.connect(x, "out", branch, "in")
            doc.connect(branch, "out", node, "in")
    else:
        doc.connect(x, "out", node, "in")
    return doc, node


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_defaults_are_valid(spec: NodeSpec) -> None:
    for p in spec.params:
        assert p.validate(p.default, spec.title) == p.default
        assert p.help, f"{spec.type_name}.{p.name} needs help text"
    assert spec.check_params({}) == spec.defaults()
    assert spec.description.endswith(".")
    assert spec.category in CATEGORIES
    for key in spec.key_params:
        assert spec.has_param(key)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_builds_its_engine_layer(spec: NodeSpec) -> None:
    layer = spec.build_layer(spec.defaults(), "node_1")
    if spec.layer_type is None:
        assert layer is None
        assert spec.category == "Output"
        return
    assert isinstance(layer, LAYER_TYPES[spec.layer_type])
    assert layer.name == "node_1"
    for key, value in spec.fixed.items():
        assert layer.get_config()[key] == value
    # the engine's own config round trip accepts what the document built
    again = type(layer).from_config(layer.get_config())
    assert again.get_config() == layer.get_config()


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_infers_a_shape(spec: NodeSpec) -> None:
    doc, node = network_around(spec)
    result = infer_shapes(doc)[node]
    if spec.category == "Output":
        # the default loss (sparse CE) needs a softmax: the node says so
        assert result.status == "error"
        assert result.output_shape == (4,)
        assert "softmax" in (result.message or "")
        return
    assert result.ok, result.message
    assert all(isinstance(d, int) and d > 0 for d in result.output_shape)
    layer = spec.build_layer(doc.node(node).params, node)
    assert result.output_shape == tuple(layer.output_shape(list(result.input_shapes)))
    assert result.param_count == layer.param_count(list(result.input_shapes))


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_round_trips_through_json(spec: NodeSpec) -> None:
    doc, _ = network_around(spec)
    text = json.dumps(doc.to_dict())
    again = Document.from_dict(json.loads(text))
    assert again == doc
    assert again.to_dict() == doc.to_dict()


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_key_param_text(spec: NodeSpec) -> None:
    text = spec.key_param_text(spec.defaults())
    assert isinstance(text, str)
    if spec.type_name == "Dense":
        assert text == "16 · relu"


def test_one_node_per_activation_plus_the_generic_one() -> None:
    activations = specs_in("Activations")
    fixed = {s.fixed.get("activation") for s in activations if s.fixed}
    assert fixed == set(ACTIVATIONS) - {"linear"}
    assert "Activation" in [s.type_name for s in activations]
    assert get_spec("ReLU").fixed["activation"] == "relu"
    assert get_spec("LeakyReLU").param("alpha").default == 0.01


def test_alpha_defaults_come_from_the_engine() -> None:
    for name, alpha in ALPHA_DEFAULTS.items():
        assert get_activation(name).default_alpha == alpha
    assert set(ALPHA_DEFAULTS) == {
        a for a in ACTIVATIONS if get_activation(a).default_alpha is not None
    }


def test_choices_come_from_the_engine() -> None:
    assert get_spec("Dense").param("activation").choices == ACTIVATIONS
    assert get_spec("Output").param("loss").choices == LOSSES


def test_every_engine_layer_has_a_node_type() -> None:
    used = {s.layer_type for s in SPECS}
    assert set(LAYER_TYPES) <= used


def test_ports_follow_the_engine_input_counts() -> None:
    for spec in SPECS:
        if spec.layer_type is None:
            continue
        cls: type[Layer] = LAYER_TYPES[spec.layer_type]
        assert (spec.min_inputs, spec.max_inputs) == (cls.min_inputs, cls.max_inputs)
        if cls.max_inputs == 0:
            assert spec.inputs == ()
        else:
            assert len(spec.inputs) == 1
            # one port takes every input of a layer with several (merges, the
            # query then the keys and values of cross-attention)
            assert spec.inputs[0].multiple == (cls.max_inputs != 1)


def test_output_node_builds_no_layer_and_has_no_outputs() -> None:
    spec = get_spec("Output")
    assert spec.outputs == ()
    assert spec.build_layer({"loss": "mse"}, "out") is None


def test_registry_is_grouped_by_category_order() -> None:
    order = [CATEGORIES.index(s.category) for s in SPECS]
    assert order == sorted(order)
    assert [s.category for s in specs_in("Merge")] == ["Merge", "Merge"]


def test_registry_cannot_be_edited() -> None:
    with pytest.raises(TypeError):
        REGISTRY["X"] = get_spec("Dense")  # type: ignore[index]


def test_unknown_type_is_named() -> None:
    with pytest.raises(UnknownNodeTypeError, match="Unknown node type 'Dense3'"):
        get_spec("Dense3")


def test_build_layer_validates_params() -> None:
    from nndesk.document import ParamError

    with pytest.raises(ParamError, match="Dense 'd1': units must be"):
        get_spec("Dense").build_layer({"units": 0}, "d1")


def test_built_dense_runs_in_the_engine() -> None:
    """The params the document stores are the engine's keyword arguments."""
    layer = get_spec("Dense").build_layer(
        {"units": 3, "activation": "tanh", "use_bias": False}, "d1"
    )
    layer.build([(5,)], np.random.default_rng(0))
    y = layer.forward([np.ones((2, 5), np.float32)], training=False)
    assert y.shape == (2, 3)
    assert set(layer.params) == {"kernel"}


def test_output_node_builds_the_engine_loss() -> None:
    from nndesk.document.registry import build_loss
    from nndesk.engine import losses

    huber = build_loss({"loss": "huber", "delta": 0.5})
    assert isinstance(huber, losses.Huber)
    assert huber.get_config() == {"delta": 0.5}
    for name in LOSSES:
        assert build_loss({"loss": name}).name == name
    assert build_loss({"loss": "binary_crossentropy"}).fuses_with == "sigmoid"


def test_specs_are_hashable_for_views() -> None:
    assert len(set(REGISTRY.values())) == len(REGISTRY)
    assert {get_spec("ReLU"): 1}[get_spec("ReLU")] == 1


def test_node_type_modules_add_categories_after_the_one_they_name() -> None:
    from types import SimpleNamespace

    from nndesk.document.node_types.spec import BASE_CATEGORIES, CategorySpec
    from nndesk.document.registry import _categories

    conv = SimpleNamespace(
        __name__="conv",
        CATEGORIES=(
            CategorySpec("Convolution", after="Core"),
            CategorySpec("Pooling", after="Convolution"),
        ),
    )
    rnn = SimpleNamespace(__name__="rnn", CATEGORIES=(CategorySpec("Recurrent", "Core"),))
    order = _categories([conv, rnn])
    assert order[:5] == ("Input", "Core", "Convolution", "Pooling", "Recurrent")
    assert [c for c in order if c in BASE_CATEGORIES] == list(BASE_CATEGORIES)
    assert _categories([]) == BASE_CATEGORIES
    assert [c for c in CATEGORIES if c in BASE_CATEGORIES] == list(BASE_CATEGORIES)
    lost = SimpleNamespace(__name__="lost", CATEGORIES=(CategorySpec("X", "Nowhere"),))
    with pytest.raises(ValueError, match="'X' comes after 'Nowhere'"):
        _categories([lost])


def test_a_node_type_names_a_registered_engine_layer() -> None:
    from nndesk.document.node_types.spec import OUT

    with pytest.raises(ValueError, match="names the engine layer 'Conv9D'"):
        NodeSpec("Conv9D", "Conv9D", "Core", "Nine.", (), (OUT,), layer_type="Conv9D")
    assert get_spec("Dense").layer_class is LAYER_TYPES["Dense"]
    assert get_spec("Output").layer_class is None
