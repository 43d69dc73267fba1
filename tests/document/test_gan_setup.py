"""A GAN on one canvas: the Noise node, reading the two networks off the drawing,
and the problems that keep a drawing from training as a GAN."""

from __future__ import annotations

import json

import pytest

from nndesk.document import Document, ParamError, get_spec, infer_shapes, validate
from nndesk.document.gan import gan_problems, gan_setup, is_gan


def gan_document(loss: str = "standard") -> Document:
    doc = Document({"dataset": "moons"})
    z = doc.add_node("Noise", {"gan_loss": loss})
    g1 = doc.add_node("Dense", {"units": 8, "activation": "relu"})
    g2 = doc.add_node("Dense", {"units": 2, "activation": "linear"})
    doc.connect(z, "out", g1, "in")
    doc.connect(g1, "out", g2, "in")
    x = doc.add_node("Input", {"shape": (2,)})
    d1 = doc.add_node("Dense", {"units": 8, "activation": "relu"})
    end = "sigmoid" if loss == "standard" else "linear"
    d2 = doc.add_node("Dense", {"units": 1, "activation": end})
    out = doc.add_node("Output")  # its default loss is not used in a GAN
    doc.connect(x, "out", d1, "in")
    doc.connect(d1, "out", d2, "in")
    doc.connect(d2, "out", out, "in")
    return doc


def messages(doc: Document) -> list[tuple[str | None, str]]:
    return [(p.node_id, p.message) for p in validate(doc) if p.is_error]


@pytest.mark.parametrize("loss", ["standard", "least_squares", "wasserstein"])
def test_a_drawn_gan_has_no_problems(loss: str) -> None:
    doc = gan_document(loss)
    assert is_gan(doc)
    assert validate(doc) == []  # no errors, and no "unused" warning either
    setup = gan_setup(doc)
    assert setup is not None
    assert setup.generator_ids == ("noise_1", "dense_1", "dense_2")
    assert setup.sample_id == "dense_2" and setup.noise_id == "noise_1"
    assert setup.discriminator_ids == ("input_1", "dense_3", "dense_4")
    assert setup.score_id == "dense_4" and setup.output_id == "output_1"
    assert setup.loss == loss and setup.d_steps == 1
    assert setup.noise_shape == (2,) and setup.distribution == "normal"
    assert setup.generator_lr is None and setup.clip_value == 0.01


def test_the_noise_node() -> None:
    spec = get_spec("Noise")
    assert spec.category == "Input" and spec.inputs == () and spec.id_prefix == "noise"
    doc = Document()
    z = doc.add_node("Noise", {"shape": (16,), "distribution": "uniform"})
    assert infer_shapes(doc)[z].output_shape == (16,)
    assert spec.key_param_text(doc.node(z).params) == "16 · uniform · standard"
    layer = spec.build_layer(doc.node(z).params, z)
    assert layer is not None and layer.type_name == "Input" and layer.name == z
    with pytest.raises(ParamError, match="gan_loss must be one of standard"):
        doc.set_param(z, "gan_loss", "hinge")
    with pytest.raises(ParamError):
        doc.set_param(z, "d_steps", 0)
    with pytest.raises(ParamError):
        doc.set_param(z, "clip_value", 0.0)
    doc.set_param(z, "generator_lr", 0.0002)
    again = Document.from_dict(json.loads(json.dumps(doc.to_dict())))
    assert again.node(z).params == doc.node(z).params
    assert not is_gan(Document())


def test_the_sample_must_have_the_data_shape() -> None:
    doc = gan_document()
    doc.set_param("dense_2", "units", 3)
    assert messages(doc) == [
        (
            "dense_2",
            "The generator's last layer Dense 'dense_2' makes samples of (3,) but "
            "the discriminator's Input 'input_1' takes (2,): give it 2 units.",
        )
    ]
    doc.set_param("dense_2", "units", 2)
    doc.set_param("input_1", "shape", (4, 1))
    doc.disconnect(doc.edges_in("dense_3")[0])
    flat = doc.add_node("Flatten")
    doc.connect("input_1", "out", flat, "in")
    doc.connect(flat, "out", "dense_3", "in")
    assert messages(doc) == [
        (
            "dense_2",
            "The generator's last layer Dense 'dense_2' makes samples of (2,) but "
            "the discriminator's Input 'input_1' takes (4, 1): make it output "
            "(4, 1).",
        )
    ]


def test_the_discriminator_scores_each_sample_with_one_value() -> None:
    doc = gan_document()
    doc.set_param("dense_4", "units", 2)
    assert (
        "dense_4",
        "Dense 'dense_4' gives (2,) per sample but a GAN's discriminator scores "
        "each sample with one value: end it in a Dense of 1 unit.",
    ) in messages(doc)


def test_the_last_activation_suits_the_loss() -> None:
    doc = gan_document()
    doc.set_param("dense_4", "activation", "tanh")
    assert messages(doc) == [
        (
            "dense_4",
            "The standard GAN loss needs the discriminator to end in a sigmoid "
            "probability but Dense 'dense_4' ends in tanh: set its activation to "
            "sigmoid.",
        )
    ]
    doc.set_param("noise_1", "gan_loss", "least_squares")
    assert messages(doc) == []
    doc.set_param("noise_1", "gan_loss", "wasserstein")
    assert messages(doc) == [
        (
            "dense_4",
            "The Wasserstein loss needs a linear critic but the discriminator ends "
            "in tanh (Dense 'dense_4'): set its activation to linear.",
        )
    ]


def test_the_sigmoid_must_be_the_last_layer() -> None:
    doc = gan_document()
    doc.disconnect(doc.edges_in("output_1")[0])
    drop = doc.add_node("Dropout")
    doc.connect("dense_4", "out", drop, "in")
    doc.connect(drop, "out", "output_1", "in")
    assert messages(doc) == [
        (
            "dropout_1",
            "The discriminator's sigmoid (Dense 'dense_4') must be its last layer, "
            "but Dropout 'dropout_1' comes after it: remove Dropout 'dropout_1' or "
            "move the sigmoid to it.",
        )
    ]


def test_the_generator_must_not_lead_to_the_output() -> None:
    doc = gan_document()
    doc.disconnect(doc.edges_in("dense_3")[0])
    doc.connect("dense_2", "out", "dense_3", "in")
    assert (
        "noise_1",
        "Noise 'noise_1' leads to Output 'output_1' but Input 'input_1' leads to "
        "no Output: nndesk feeds the generator's samples to the discriminator "
        "itself, so end the generator at its last layer and run the discriminator "
        "from Input 'input_1' to an Output.",
    ) in messages(doc)
    assert gan_setup(doc) is None
    # with the data Input joining in through a merge, the Output is both ends
    merge = doc.add_node("Concatenate")
    doc.disconnect(doc.edges_in("dense_3")[0])
    doc.connect("dense_2", "out", merge, "in")
    doc.connect("input_1", "out", merge, "in")
    doc.connect(merge, "out", "dense_3", "in")
    assert (
        "noise_1",
        "Noise 'noise_1' leads to Output 'output_1', the discriminator's end: "
        "leave the generator's last layer unconnected or end it in an Output of "
        "its own (nndesk feeds its samples to the discriminator), and start the "
        "discriminator at the data Input.",
    ) in messages(doc)


def test_an_output_after_the_generator_marks_the_sample() -> None:
    """Two Inputs (Noise and data) and two Outputs: the one after the generator
    marks the sample, the other the discriminator's score."""
    doc = gan_document()
    marker = doc.add_node("Output")
    doc.connect("dense_2", "out", marker, "in")
    assert validate(doc) == []
    setup = gan_setup(doc)
    assert setup is not None
    assert setup.sample_id == "dense_2" and setup.sample_output_id == marker
    assert setup.generator_ids == ("noise_1", "dense_1", "dense_2")
    assert setup.output_id == "output_1" and setup.score_id == "dense_4"
    # the marker's loss is not judged, and the sample shape still is
    doc.set_param("dense_2", "units", 3)
    assert [m for _, m in messages(doc)] == [
        "The generator's last layer Dense 'dense_2' makes samples of (3,) but the "
        "discriminator's Input 'input_1' takes (2,): give it 2 units."
    ]
    # with no Output after the discriminator there is no score
    doc.set_param("dense_2", "units", 2)
    doc.remove_node("output_1")
    assert messages(doc) == [
        (
            None,
            "A GAN needs an Output after the discriminator: connect its last layer "
            "(one score per sample) to an Output.",
        )
    ]
    third = doc.add_node("Output")
    doc.connect("dense_4", "out", third, "in")
    fourth = doc.add_node("Output")
    doc.connect("dense_4", "out", fourth, "in")
    assert messages(doc) == [
        (
            fourth,
            "The discriminator ends in 2 Output nodes but gives one score: remove "
            "all but one.",
        )
    ]


def test_one_noise_one_input_one_end() -> None:
    doc = gan_document()
    second = doc.add_node("Noise")
    assert messages(doc) == [
        (
            second,
            "The network has 2 Noise nodes but a GAN has one generator: remove all "
            "but one.",
        )
    ]
    doc.remove_node(second)
    extra = doc.add_node("Dense", {"units": 2})
    doc.connect("dense_1", "out", extra, "in")
    assert (
        extra,
        "The generator ends in 2 nodes (Dense 'dense_2', Dense 'dense_5') but "
        "makes one sample: connect or remove all but the last layer.",
    ) in messages(doc)
    doc.remove_node(extra)
    other = doc.add_node("Input", {"shape": (2,)})
    assert messages(doc) == [
        (
            other,
            "The network has 2 Input nodes but a GAN's discriminator reads one "
            "dataset: remove all but one.",
        )
    ]
    doc.remove_node(other)
    doc.remove_node("input_1")
    assert (
        None,
        "A GAN needs an Input node for the real data: add one and lead it through "
        "the discriminator's layers to the Output.",
    ) in messages(doc)


def test_a_lone_noise_node_and_a_mixed_node() -> None:
    doc = gan_document()
    doc.remove_node("dense_1")
    doc.remove_node("dense_2")
    assert (
        "noise_1",
        "Noise 'noise_1' feeds no layer: add the generator's layers after it, "
        "ending in one that makes a sample of the data's shape.",
    ) in messages(doc)
    doc = gan_document()
    merge = doc.add_node("Add")
    doc.connect("dense_2", "out", merge, "in")
    doc.connect("input_1", "out", merge, "in")
    assert (
        merge,
        "Add 'add_1' joins the generator and the data Input: the generator runs "
        "from Noise 'noise_1' alone.",
    ) in messages(doc)


def test_the_data_input_must_reach_the_output() -> None:
    doc = gan_document()
    doc.disconnect(doc.edges_in("dense_3")[0])
    other = doc.add_node("Input", {"shape": (2,)})
    doc.remove_node("input_1")
    doc.connect(other, "out", "dense_3", "in")
    assert messages(doc) == []
    doc.disconnect(doc.edges_in("dense_3")[0])
    found = messages(doc)
    assert (
        other,
        f"Input '{other}' does not lead to Output 'output_1': the discriminator "
        "runs from the data Input to the Output.",
    ) in found


def test_labels_and_the_output_loss_do_not_matter() -> None:
    """The dataset's labels and the Output's loss are not used by a GAN, so no
    problem is raised about them (a 10-class dataset, a sparse cross-entropy)."""

    class TenClasses:
        input_shape = (2,)
        task = "classification"
        n_classes = 10
        target_steps = None

    doc = gan_document()
    assert doc.node("output_1").params["loss"] == "sparse_categorical_crossentropy"
    assert validate(doc, TenClasses()) == []
    # the data Input must still fit the data
    doc.set_param("input_1", "shape", (3,))
    doc.set_param("dense_2", "units", 3)
    found = [p.message for p in validate(doc, TenClasses())]
    assert any("the dataset's samples have shape (2,)" in m for m in found)


def test_gan_problems_are_empty_without_a_noise_node() -> None:
    doc = Document()
    x = doc.add_node("Input")
    out = doc.add_node("Output")
    doc.connect(x, "out", out, "in")
    assert gan_problems(doc, infer_shapes(doc)) == []
    assert gan_setup(doc) is None
