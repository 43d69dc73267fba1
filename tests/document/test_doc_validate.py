"""validate(): every problem of a network at once, with node ids and severities."""

from __future__ import annotations

from dataclasses import dataclass

from conftest import make_chain

from nndesk.document import Document, Problem, infer_shapes, validate
from nndesk.document.validate import errors_only


@dataclass(frozen=True)
class Data:
    """The facts validate reads from a dataset."""

    input_shape: tuple[int, ...]
    task: str
    n_classes: int | None
    target_steps: int | None = None  # labels per time step (issue 14)


def ready(doc: Document) -> Document:
    doc.set_setting("dataset", "spiral:n=100")
    return doc


def messages(problems: list[Problem]) -> list[str]:
    return [p.message for p in problems]


def test_a_ready_network_has_no_problems() -> None:
    assert validate(ready(make_chain())) == []
    assert validate(ready(make_chain()), Data((2,), "classification", 2)) == []


def test_missing_dataset_is_an_error() -> None:
    assert validate(make_chain()) == [
        Problem(None, "No dataset is chosen: set one in the network settings.")
    ]


def test_empty_document_reports_graph_problems() -> None:
    problems = validate(Document())
    assert [p.node_id for p in problems] == [None, None, None]
    assert all(p.is_error for p in problems)
    assert "no Input node" in problems[0].message
    assert "no Output node" in problems[1].message


def test_shape_errors_are_problems_with_node_ids() -> None:
    doc = ready(make_chain())
    doc.set_param("dense_2", "activation", "linear")
    doc.add_node("Dense", node_id="stray")
    problems = validate(doc)
    assert [(p.node_id, p.severity) for p in problems] == [
        ("output_1", "error"),
        ("stray", "error"),
        ("stray", "warning"),
    ]
    assert problems[2].message == (
        "Dense 'stray' does not lead to the Output: its result is unused."
    )
    assert errors_only(problems) == problems[:2]


def test_several_inputs_and_outputs() -> None:
    doc = ready(make_chain())
    doc.add_node("Input", node_id="input_2")
    doc.add_node("Output", node_id="output_2")
    text = messages(validate(doc))
    assert (
        "The network has 2 Input nodes but a dataset feeds one: remove all but one."
        in text
    )
    assert (
        "The network has 2 Output nodes but a dataset gives one target: remove all but one."
        in text
    )


def test_early_stopping_settings() -> None:
    doc = ready(make_chain())
    doc.set_setting("early_stopping_patience", 3)
    doc.set_setting("validation_split", 0.0)
    doc.set_setting("early_stopping_metric", "val_f1")
    assert messages(validate(doc)) == [
        "Early stopping watches val_f1 but the validation split is 0: set a "
        "validation split or watch a training metric.",
        "Early stopping watches val_f1 but f1 is not among the metrics: add "
        "it to the metrics or watch the loss.",
    ]
    doc.set_setting("metrics", ("f1",))
    doc.set_setting("early_stopping_metric", "f1")
    assert validate(doc) == []
    # A cross-entropy loss computes accuracy without choosing it.
    doc.set_setting("metrics", ())
    doc.set_setting("early_stopping_metric", "accuracy")
    assert validate(doc) == []
    doc.set_setting("early_stopping_patience", 0)  # off: nothing to check
    doc.set_setting("early_stopping_metric", "val_auc")
    assert validate(doc) == []


def test_metrics_that_do_not_suit_the_loss_warn() -> None:
    doc = ready(make_chain())
    doc.set_setting("metrics", ("accuracy", "r2"))
    assert validate(doc) == [
        Problem(
            None,
            "The metrics r2 do not suit a classification loss (binary_crossentropy): "
            "remove them from the metrics.",
            "warning",
        )
    ]


def test_input_shape_must_match_the_dataset() -> None:
    problems = validate(ready(make_chain()), Data((3,), "classification", 2))
    assert problems == [
        Problem(
            "input_1",
            "Input 'input_1' has shape (2,) but the dataset's samples have shape (3,): "
            "set the Input shape to (3,).",
        )
    ]


def test_classes_must_match_the_output_units(merge: Document) -> None:
    ready(merge)
    assert validate(merge, Data((4,), "classification", 3)) == []
    assert messages(validate(merge, Data((4,), "classification", 5))) == [
        "The dataset has 5 classes but Dense 'dense_3' gives 3 outputs: give it 5 "
        "units, one per class."
    ]


def test_binary_loss_on_a_multi_class_dataset() -> None:
    assert messages(validate(ready(make_chain()), Data((2,), "classification", 4))) == [
        "binary_crossentropy fits 2 classes but the dataset has 4: use "
        "sparse_categorical_crossentropy with 4 softmax units."
    ]


def test_task_and_loss_must_agree() -> None:
    doc = ready(make_chain())
    assert messages(validate(doc, Data((2,), "regression", None))) == [
        "binary_crossentropy needs class labels but the dataset is a regression set: "
        "use mse, mae or huber."
    ]
    doc.set_param("output_1", "loss", "mse")
    assert validate(doc, Data((2,), "regression", None)) == []
    problems = validate(doc, Data((2,), "classification", 2))
    assert [(p.node_id, p.severity) for p in problems] == [("output_1", "warning")]


def test_a_precomputed_report_is_used(chain: Document) -> None:
    ready(chain)
    assert validate(chain, shapes=infer_shapes(chain)) == validate(chain)
