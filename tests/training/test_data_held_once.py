"""Training data held once: one prepared copy, views for the split, same training.

``prepare_data`` used to copy each split part out of the dataset, fit the scaler on
float64 copies and scale each part into another copy. The reference path below
does exactly that, so the tests check the prepared arrays and the weights after an
epoch against it bit for bit, and that the copies are gone.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest
from training_helpers import REPO, SHARED_DATA, chain_document

from nndesk.document.examples import fashion_mnist_mlp
from nndesk.io.datasets import Dataset, load_dataset
from nndesk.training.compile import CompiledNetwork, compile_network
from nndesk.training.data import PreparedData, prepare_data
from nndesk.training.trainer import TrainConfig, Trainer

FASHION = SHARED_DATA / "fashion-mnist"


def _reference(net: CompiledNetwork, dataset: Dataset) -> PreparedData:
    """Split into copies, fit on float64 copies, scale each part into a new array."""
    settings = net.settings
    fraction = float(settings["validation_split"])
    parts = [dataset]
    if fraction > 0:
        split = dataset.split(val=fraction, seed=int(settings["seed"]))
        parts = [split.train, split.val]
    method = settings["scaling"]
    scaled = [p.x for p in parts]
    if method != "none":
        data = parts[0].x.astype(np.float64)
        if method == "standard":
            offset, spread = data.mean(axis=0), data.std(axis=0)
        else:
            offset = data.min(axis=0)
            spread = data.max(axis=0) - offset
        scale = np.where(spread > 1e-12, spread, 1.0)
        scaled = [
            np.subtract(p.x, offset.astype(np.float32), dtype=np.float32)
            / scale.astype(np.float32)
            for p in parts
        ]
    targets = [p.targets_for(net.loss, n_outputs=net.output_units) for p in parts]
    if len(parts) == 1:
        return PreparedData(scaled[0], targets[0], None, None, dataset)
    return PreparedData(scaled[0], targets[0], scaled[1], targets[1], dataset)


def _image_document(loss: str = "sparse_categorical_crossentropy", **settings):
    base = {
        "validation_split": 0.2,
        "scaling": "standard",
        "batch_size": 32,
        "metrics": ("accuracy",),
        "seed": 3,
    }
    base.update(settings)
    return chain_document(
        [
            ("Flatten", {}),
            ("Dense", {"units": 16, "activation": "relu"}),
            ("Dense", {"units": 4, "activation": "softmax"}),
        ],
        loss,
        input_shape=(6, 5),
        **base,
    )


def _images(n: int = 900) -> Dataset:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(n, 6, 5)).astype(np.float32) * 20 + 100
    return Dataset(x=x, y=rng.integers(0, 4, n), task="classification")


def _one_epoch(net: CompiledNetwork, data: PreparedData) -> dict[str, np.ndarray]:
    config = TrainConfig.from_settings(net.settings, epochs=1)
    Trainer(net.model, data, config, metrics=net.metrics).run()
    return net.model.get_weights()


CASES = [
    {},
    {"scaling": "minmax"},
    {"scaling": "none"},
    {"validation_split": 0.0},
    {"validation_split": 0.0, "scaling": "none"},
    {"loss": "categorical_crossentropy"},
]


@pytest.mark.parametrize("case", CASES)
def test_prepared_data_equals_the_copying_path_bit_for_bit(case):
    case = dict(case)
    loss = case.pop("loss", "sparse_categorical_crossentropy")
    net = compile_network(_image_document(loss, **case))
    dataset = _images()
    raw = dataset.x.copy()
    data = prepare_data(net, dataset)
    ref = _reference(net, dataset)
    assert np.array_equal(dataset.x, raw), "the dataset's own features changed"
    for got, want in [
        (data.x_train, ref.x_train),
        (data.y_train, ref.y_train),
        (data.x_val, ref.x_val),
        (data.y_val, ref.y_val),
    ]:
        if want is None:
            assert got is None
            continue
        assert got.dtype == want.dtype and got.shape == want.shape
        assert np.array_equal(got, want)
        assert got.flags.c_contiguous


@pytest.mark.parametrize("case", CASES)
def test_one_epoch_gives_the_weights_of_the_copying_path(case):
    case = dict(case)
    loss = case.pop("loss", "sparse_categorical_crossentropy")
    doc = _image_document(loss, **case)
    dataset = _images()
    net = compile_network(doc, seed=11)
    ours = _one_epoch(net, prepare_data(net, dataset))
    ref_net = compile_network(doc, seed=11)
    theirs = _one_epoch(ref_net, _reference(ref_net, dataset))
    assert ours.keys() == theirs.keys()
    for key in ours:
        assert np.array_equal(ours[key], theirs[key]), key


def test_the_split_parts_are_views_of_one_scaled_copy():
    net = compile_network(_image_document())
    dataset = _images()
    data = prepare_data(net, dataset)
    assert data.x_train.base is not None and data.x_train.base is data.x_val.base
    assert not np.shares_memory(data.x_train, dataset.x)
    assert data.y_train.base is data.y_val.base
    # Without a split or scaling nothing is copied at all.
    plain = prepare_data(
        compile_network(_image_document(validation_split=0.0, scaling="none")),
        dataset,
    )
    # (The training features are shaped as the Input takes them: here a view of
    # the same memory, the same bytes.)
    assert plain.x_train.base is dataset.x or plain.x_train is dataset.x
    assert np.shares_memory(plain.x_train, dataset.x)
    assert plain.x_train.nbytes == dataset.x.nbytes


@pytest.mark.parametrize("scaling", ["standard", "none"])
def test_preparing_allocates_one_copy_of_the_features(scaling):
    net = compile_network(
        chain_document(
            [("Dense", {"units": 3, "activation": "softmax"})],
            "sparse_categorical_crossentropy",
            input_shape=(500,),
            validation_split=0.1,
            scaling=scaling,
        )
    )
    rng = np.random.default_rng(0)
    dataset = Dataset(
        x=rng.random((20_000, 500), dtype=np.float32),  # 40 MB
        y=rng.integers(0, 3, 20_000),
        task="classification",
    )
    tracemalloc.start()
    try:
        prepare_data(net, dataset)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The copy, an 8 MB float64 block of the scaler and the indices and targets.
    # Copying per part and scaling into new arrays took 2x, the float64 fit 4x more.
    assert peak < dataset.x.nbytes + 12 * 2**20, peak / 2**20


def test_a_copy_that_does_not_fit_is_refused_in_one_sentence(tmp_path):
    """Under an address-space limit too small for the prepared copy: ResourceError."""
    script = textwrap.dedent(
        """
        import resource, sys
        import numpy as np
        from training_helpers import chain_document
        from nndesk.engine.errors import ResourceError
        from nndesk.io.datasets import Dataset
        from nndesk.training.compile import compile_network
        from nndesk.training.data import prepare_data

        net = compile_network(chain_document(
            [("Dense", {"units": 3, "activation": "softmax"})],
            "sparse_categorical_crossentropy", input_shape=(1000,),
            validation_split=0.1, scaling="standard"))
        rng = np.random.default_rng(0)
        ds = Dataset(x=rng.random((50_000, 1000), dtype=np.float32),
                     y=rng.integers(0, 3, 50_000), task="classification")
        with open("/proc/self/statm") as f:
            mapped = int(f.read().split()[0]) * resource.getpagesize()
        room = mapped + 150 * 2**20  # the copy needs 200 MB
        resource.setrlimit(resource.RLIMIT_AS, (room, room))
        try:
            prepare_data(net, ds)
        except ResourceError as exc:
            print(exc)
            sys.exit(0)
        sys.exit(1)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO / "tests" / "training",
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO / "tests" / "training")},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    message = done.stdout.strip()
    assert message.startswith("Preparing dataset 'dataset' for training needs about")
    assert "for its split and scaled copy" in message
    assert "(the address-space limit)" in message
    assert message.count(". ") == 0 and message.endswith(".")


@pytest.mark.slow
@pytest.mark.skipif(
    not FASHION.is_dir(), reason="../shared/data/fashion-mnist is missing"
)
def test_fashion_mnist_example_trains_as_before_on_6000_images():
    """The example's settings (standard scaling, validation split 0.1, Adam, batch
    128) on the first 6,000 training images: the same weights after an epoch."""
    doc = fashion_mnist_mlp(str(FASHION))
    dataset = load_dataset(str(FASHION))
    dataset = dataset.subset(np.arange(6_000))
    net = compile_network(doc, seed=5)
    ours = _one_epoch(net, prepare_data(net, dataset))
    ref_net = compile_network(doc, seed=5)
    theirs = _one_epoch(ref_net, _reference(ref_net, dataset))
    for key in ours:
        assert np.array_equal(ours[key], theirs[key]), key
