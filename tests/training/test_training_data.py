"""Training data from the settings: loading, fit checks, split, scaling, targets."""

from __future__ import annotations

import numpy as np
import pytest
from training_helpers import chain_document, spiral_document

from nndesk.io.datasets import Scaler, load_dataset
from nndesk.io.errors import DatasetError
from nndesk.training.compile import compile_network
from nndesk.training.data import (
    check_dataset_fits,
    input_shape_update,
    load_settings_dataset,
    prepare_data,
    scale_inputs,
)
from nndesk.training.errors import DataMismatchError


def _softmax_doc(units=3, loss="sparse_categorical_crossentropy", **settings):
    base = {"dataset": "blobs:n=300,centers=3", "validation_split": 0.2}
    base.update(settings)
    return chain_document(
        [
            ("Dense", {"units": 8, "activation": "relu"}),
            ("Dense", {"units": units, "activation": "softmax"}),
        ],
        loss,
        **base,
    )


def test_no_dataset_is_one_clear_error():
    with pytest.raises(DatasetError, match="No dataset is chosen"):
        load_settings_dataset(spiral_document(dataset="").settings)


def test_relative_paths_resolve_against_the_project_folder(tmp_path):
    rows = ["a,b,label"] + [f"{i},{i % 3},{i % 2}" for i in range(20)]
    (tmp_path / "data.csv").write_text("\n".join(rows) + "\n")
    settings = dict(spiral_document(dataset="data.csv").settings)
    ds = load_settings_dataset(settings, base_dir=tmp_path)
    assert ds.input_shape == (2,) and ds.n_classes == 2
    with pytest.raises(DatasetError, match="does not exist"):
        load_settings_dataset(settings, base_dir=tmp_path / "elsewhere")


def test_dataset_target_setting_picks_the_csv_column(tmp_path):
    rows = ["label,a,b"] + [f"{i % 2},{i},{i * 2}" for i in range(20)]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    settings = dict(spiral_document(dataset="d.csv", dataset_target="label").settings)
    ds = load_settings_dataset(settings, base_dir=tmp_path)
    assert ds.feature_names == ["a", "b"]


def test_split_and_scaling_fit_on_the_training_part_only():
    net = compile_network(spiral_document(scaling="standard", validation_split=0.25))
    ds = load_dataset("spiral:n=200,noise=0.1")
    data = prepare_data(net, ds)
    assert data.n_train == 150 and data.n_val == 50
    assert data.x_train.dtype == np.float32
    # Standardised with the training statistics: the training part has mean 0, std 1.
    assert np.allclose(data.x_train.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(data.x_train.std(axis=0), 1, atol=1e-4)
    assert not np.allclose(data.x_val.mean(axis=0), 0, atol=1e-3)
    scaler = Scaler.from_dict(data.preprocessing)
    raw_val = ds.split(val=0.25, seed=0).val.x
    assert np.array_equal(scaler.transform(raw_val), data.x_val)
    assert np.array_equal(scale_inputs(raw_val, data.preprocessing), data.x_val)


def test_stored_preprocessing_is_reused_not_refitted():
    net = compile_network(spiral_document(scaling="minmax"))
    stored = Scaler("minmax").fit(np.array([[0.0, 0.0], [10.0, 10.0]])).to_dict()
    data = prepare_data(net, load_dataset("spiral:n=100"), preprocessing=stored)
    assert data.preprocessing == stored


def test_no_scaling_and_no_validation_split():
    net = compile_network(spiral_document(validation_split=0.0))
    data = prepare_data(net, load_dataset("spiral:n=100"))
    assert data.scaler is None and data.preprocessing is None
    assert data.validation_data is None and data.n_val == 0 and data.n_train == 100


@pytest.mark.parametrize(
    ("loss", "shape", "dtype"),
    [
        ("sparse_categorical_crossentropy", (240,), np.int64),
        ("categorical_crossentropy", (240, 3), np.float32),
    ],
)
def test_targets_are_encoded_as_the_loss_needs(loss, shape, dtype):
    net = compile_network(_softmax_doc(loss=loss))
    data = prepare_data(net, load_dataset("blobs:n=300,centers=3"))
    assert data.y_train.shape == shape and data.y_train.dtype == dtype


def test_binary_targets_are_a_column_of_zeros_and_ones():
    net = compile_network(spiral_document())
    data = prepare_data(net, load_dataset("spiral:n=100"))
    assert data.y_train.shape == (80, 1) and set(np.unique(data.y_train)) == {0.0, 1.0}


def test_a_dataset_with_another_sample_shape_is_refused_in_one_sentence():
    net = compile_network(spiral_document())
    ds = load_dataset("sine:n=50")  # samples of shape (1,)
    with pytest.raises(DataMismatchError) as info:
        prepare_data(net, ds)
    message = str(info.value)
    assert "has shape (2,) but the dataset's samples have shape (1,)" in message
    assert "set the Input shape to (1,)" in message
    assert input_shape_update(net.snapshot, ds) == ("input_1", (1,))
    assert input_shape_update(net.snapshot, load_dataset("spiral:n=50")) is None


def test_class_count_mismatch_names_the_layer():
    net = compile_network(_softmax_doc(units=4))
    with pytest.raises(
        DataMismatchError, match="3 classes but Dense 'dense_2' gives 4"
    ):
        check_dataset_fits(net.snapshot, load_dataset("blobs:n=60,centers=3"))


def test_regression_data_for_a_classifier_is_refused():
    net = compile_network(spiral_document())
    with pytest.raises(DataMismatchError, match="regression"):
        check_dataset_fits(net.snapshot, load_dataset("plane:n=40"))
