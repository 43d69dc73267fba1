"""Training > Check gradients and the speed readout, without Qt
(training.diagnostics)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from training_helpers import chain_document, spiral_document

from nndesk.engine.gradcheck import WRONG_ERROR, relative_error
from nndesk.training import diagnostics
from nndesk.training.compile import compile_network
from nndesk.training.session import TrainingSession

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from gradcheck import check_model_gradients  # noqa: E402 - the suite's checker


def _trained_spiral() -> tuple[TrainingSession, np.ndarray]:
    session = TrainingSession(spiral_document(epochs=2))
    session.fit()
    assert session.data is not None
    return session, session.data.x_train


def test_check_equals_the_suite_checker_on_the_same_network_and_batch():
    session, x = _trained_spiral()
    weights = session.model.get_weights()
    result = diagnostics.network_gradient_check(session.snapshot, weights, x, seed=3)
    # The suite's checker on its own float64 model of the same network and batch.
    model = compile_network(session.snapshot, dtype=np.float64).model
    model.set_weights(weights)
    pairs = check_model_gradients(model, x[: diagnostics.CHECK_BATCH], seed=3)
    suite: dict[str, float] = {}
    for pair in pairs:
        err = relative_error(pair.analytic, pair.numeric)
        suite[pair.layer] = max(suite.get(pair.layer, 0.0), err)
    assert result.per_layer() == suite
    assert list(suite) == ["input_1", "dense_1", "dense_2", "dense_3"]
    assert all(row.checked == row.size for row in result.arrays)
    assert result.batch == diagnostics.CHECK_BATCH
    assert 0 < result.worst < 1e-7


def test_large_networks_check_a_sample_of_each_array():
    doc = chain_document(
        [
            ("Dense", {"units": 64, "activation": "relu"}),
            ("Dense", {"units": 64, "activation": "tanh"}),
            ("Dense", {"units": 1, "activation": "sigmoid"}),
        ],
        "binary_crossentropy",
        input_shape=(60,),
    )
    net = compile_network(doc)
    x = np.random.default_rng(0).standard_normal((20, 60)).astype(np.float32)
    result = diagnostics.network_gradient_check(doc, net.model.get_weights(), x)
    kernel = next(r for r in result.arrays if r.key == "dense_1/kernel")
    assert kernel.checked == diagnostics.MAX_ENTRIES and kernel.size == 60 * 64
    assert result.worst < WRONG_ERROR


def test_a_wrong_backward_is_caught(monkeypatch):
    session, x = _trained_spiral()
    from nndesk.engine.layers.core import Dense

    real = Dense.backward

    def halved(self, dy):
        dxs = real(self, dy)
        if self.name == "dense_2":
            self.grads["kernel"] *= 0.5
        return dxs

    monkeypatch.setattr(Dense, "backward", halved)
    result = diagnostics.network_gradient_check(
        session.snapshot, session.model.get_weights(), x
    )
    layers = result.per_layer()
    assert layers["dense_2"] > 0.1
    assert layers["dense_1"] < 1e-6 and layers["dense_3"] < 1e-6


def test_stop_request_ends_the_check_early():
    session, x = _trained_spiral()
    asked = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 2

    result = diagnostics.network_gradient_check(
        session.snapshot, session.model.get_weights(), x, should_stop=stop
    )
    assert len(result.arrays) == 2


@pytest.mark.slow
def test_speed_of_both_paths_in_child_processes(tmp_path):
    session, _ = _trained_spiral()
    path = tmp_path / "spiral.nndesk"
    session.save(path)
    numpy = diagnostics.measure_speed(path, None, "numpy", batches=5)
    assert numpy.message == "" and numpy.samples_per_sec > 0
    # Rounds of 5 batches for at least a second.
    assert numpy.batch_size == 16 and numpy.batches % 5 == 0 and numpy.batches > 5
    assert numpy.kernels and not numpy.compiled  # NNDESK_NUMBA=0: nothing compiled
    names = {k.name for k in numpy.kernels}
    assert "chain_step" in names  # the Dense stack trains in one call
    numba = diagnostics.measure_speed(path, None, "numba", batches=5)
    if not diagnostics.numba_installed():
        assert numba.message == "Numba is not installed."
    else:
        assert numba.message == "" and numba.samples_per_sec > 0
        assert {k.name for k in numba.compiled} == {k.name for k in numba.kernels}


def test_speed_of_a_missing_file_says_why(tmp_path):
    result = diagnostics.measure_speed(tmp_path / "gone.nndesk", None, "numpy")
    assert result.samples_per_sec == 0
    assert "gone.nndesk" in result.message
