"""The convolution and pooling node types: palette, parameters, shapes, counts and
the problems the editor shows before training."""

from __future__ import annotations

import pytest

from nndesk.document import CATEGORIES, Document, get_spec, infer_shapes
from nndesk.document.errors import ParamError
from nndesk.document.registry import specs_in
from nndesk.document.validate import input_note, validate


def chain(shape: tuple[int, ...], *nodes: tuple[str, dict]) -> tuple[Document, list]:
    """Input(shape) -> nodes... ; returns the document and the node ids."""
    doc = Document()
    ids = [doc.add_node("Input", {"shape": shape})]
    for type_name, params in nodes:
        ids.append(doc.add_node(type_name, params))
        doc.connect(ids[-2], "out", ids[-1], "in")
    return doc, ids


def test_palette_has_convolution_and_pooling_after_core() -> None:
    core = CATEGORIES.index("Core")
    assert CATEGORIES[core + 1 : core + 3] == ("Convolution", "Pooling")
    assert [s.type_name for s in specs_in("Convolution")] == [
        "Conv2D",
        "Conv2DTranspose",
        "Conv1D",
    ]
    assert [s.type_name for s in specs_in("Pooling")] == [
        "MaxPool2D",
        "AvgPool2D",
        "GlobalAvgPool2D",
        "GlobalMaxPool2D",
    ]
    assert get_spec("UpSampling2D").category == "Reshape"


def test_inspector_ranges_refuse_nonsense() -> None:
    spec = get_spec("Conv2D")
    assert spec.defaults()["filters"] == 32
    assert spec.defaults()["kernel_size"] == 3
    for name, bad in (("filters", 0), ("kernel_size", 0), ("strides", 17)):
        with pytest.raises(ParamError, match=name):
            spec.check_params({name: bad}, "Conv 2D 'conv2d_1'")
    with pytest.raises(ParamError, match="padding"):
        spec.check_params({"padding": "full"})
    # an empty pool stride means "the pool size", as in the engine
    assert get_spec("MaxPool2D").param("strides").parse("") is None


def test_shapes_and_parameter_counts_of_the_fashion_cnn() -> None:
    doc, ids = chain(
        (28, 28, 1),
        ("Conv2D", {"filters": 32}),
        ("MaxPool2D", {}),
        ("Conv2D", {"filters": 64}),
        ("MaxPool2D", {}),
        ("Flatten", {}),
        ("Dense", {"units": 128}),
    )
    report = infer_shapes(doc)
    shapes = [report[n].output_shape for n in ids]
    assert shapes == [
        (28, 28, 1),
        (26, 26, 32),
        (13, 13, 32),
        (11, 11, 64),
        (5, 5, 64),
        (1600,),
        (128,),
    ]
    counts = [report[n].param_count for n in ids]
    assert counts == [
        0,
        3 * 3 * 1 * 32 + 32,
        0,
        3 * 3 * 32 * 64 + 64,
        0,
        0,
        1600 * 128 + 128,
    ]
    # every edge carries (H, W, C)
    assert [report.edge_shape(e) for e in doc.edges][:2] == [(28, 28, 1), (26, 26, 32)]


@pytest.mark.parametrize(
    ("nodes", "shape", "expected"),
    [
        ((("Conv2D", {"kernel_size": 31}),), (28, 28, 1), "31x31 kernel larger"),
        ((("Conv2D", {}),), (784,), "expects (height, width, channels) inputs"),
        (
            (("MaxPool2D", {"pool_size": 8}), ("MaxPool2D", {"pool_size": 8})),
            (28, 28, 1),
            "8x8 pool window larger",
        ),
        ((("Conv1D", {"kernel_size": 9}),), (5, 2), "9-step kernel larger"),
        ((("GlobalAvgPool2D", {}),), (10,), "expects (height, width, channels)"),
    ],
)
def test_engine_shape_rules_are_problems_naming_the_node(
    nodes: tuple, shape: tuple[int, ...], expected: str
) -> None:
    doc, ids = chain(shape, *nodes)
    bad = ids[-1]
    problems = [p for p in validate(doc) if p.node_id == bad]
    assert len(problems) == 1 and problems[0].is_error
    message = problems[0].message
    assert expected in message
    assert f"'{bad}'" in message
    assert message.endswith(".")
    assert infer_shapes(doc)[bad].status == "error"


def test_same_padding_and_strides_and_transpose_shapes() -> None:
    doc, ids = chain(
        (27, 20, 3),
        ("Conv2D", {"filters": 8, "padding": "same", "strides": 2}),
        ("Conv2DTranspose", {"filters": 4, "strides": 2, "padding": "same"}),
        ("UpSampling2D", {"size": 2}),
        ("AvgPool2D", {"pool_size": 3, "strides": 1, "padding": "same"}),
        ("GlobalMaxPool2D", {}),
    )
    report = infer_shapes(doc)
    assert [report[n].output_shape for n in ids[1:]] == [
        (14, 10, 8),
        (28, 20, 4),
        (56, 40, 4),
        (56, 40, 4),
        (4,),
    ]
    assert report[ids[2]].param_count == 3 * 3 * 8 * 4 + 4


# --- grey-scale images and the channel axis ---------------------------------------------


class Images:
    """What validate knows of an IDX dataset of (28, 28) images in 10 classes."""

    input_shape = (28, 28)
    task = "classification"
    n_classes = 10
    target_steps = None  # one label per sample


def cnn(input_shape: tuple[int, ...]) -> tuple[Document, list]:
    doc, ids = chain(
        input_shape,
        ("Conv2D", {"filters": 4}),
        ("Flatten", {}),
        ("Dense", {"units": 10, "activation": "softmax"}),
        ("Output", {"loss": "sparse_categorical_crossentropy"}),
    )
    doc.set_setting("dataset", "fashion-mnist")
    return doc, ids


def test_an_input_without_channels_gets_a_problem_proposing_the_fix() -> None:
    doc, (inp, conv, *_) = cnn((28, 28))
    problems = validate(doc, Images())
    assert [p.node_id for p in problems] == [conv]
    message = problems[0].message
    assert "set the Input shape to (28, 28, 1)" in message
    assert f"Conv2D '{conv}'" in message and f"Input '{inp}'" in message
    # the fix works, and the (28, 28) images fit the new Input as they are
    doc.set_param(inp, "shape", (28, 28, 1))
    assert validate(doc, Images()) == []


def test_the_fix_is_only_proposed_when_it_works() -> None:
    doc, (_, conv, *_) = cnn((2, 2))  # too small for a 3x3 kernel even with channels
    (problem,) = [p for p in validate(doc) if p.node_id == conv]
    assert "set the Input shape" not in problem.message
    doc, (_, conv, *_) = cnn((784,))  # flat pixels: a channel axis does not help
    (problem,) = [p for p in validate(doc) if p.node_id == conv]
    assert "Reshape" in problem.message


def test_images_fit_an_input_with_one_channel_but_not_two() -> None:
    doc, (inp, *_) = cnn((28, 28, 2))
    (problem,) = validate(doc, Images())
    assert problem.node_id == inp
    assert "set the Input shape to (28, 28)" in problem.message


def test_the_inspector_note_of_an_input_given_images() -> None:
    note = input_note((28, 28, 1), (28, 28))
    assert note is not None
    assert "(28, 28)" in note and "(28, 28, 1)" in note
    assert input_note((28, 28), (28, 28)) is None
    assert input_note((28, 28, 3), (28, 28)) is None


def test_canvas_text_of_windows_says_size_stride_and_padding() -> None:
    conv = get_spec("Conv2D")
    assert conv.key_param_text({}) == "32 × 3x3 · relu"
    strided = {"strides": 2, "padding": "same", "dilation_rate": 2}
    assert conv.key_param_text(strided) == "32 × 3x3 /2 dil 2 same · relu"
    assert get_spec("Conv1D").key_param_text({"kernel_size": 5}) == "32 × 5 · relu"
    pool = get_spec("MaxPool2D")
    assert pool.key_param_text({}) == "2x2"  # the stride is the pool size
    assert pool.key_param_text({"strides": 2}) == "2x2"
    assert pool.key_param_text({"pool_size": 3, "strides": 1}) == "3x3 /1"
    assert get_spec("UpSampling2D").key_param_text({"size": 3}) == "× 3"
