"""The training worker and its probes, without the window: same results as headless
training, probes that match the model, and the thread bridge's signals."""

from __future__ import annotations

import os
import sys
import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt, QThread

from nndesk.document.examples import (
    residual_classifier,
    sine_regression,
    spiral_classifier,
)
from nndesk.training.compile import compile_network
from nndesk.training.data import load_settings_dataset, prepare_data
from nndesk.training.session import TrainingSession
from nndesk.training.trainer import TrainConfig, Trainer
from nndesk.ui.training.probes import Prober, describe_model, evaluate_model, histogram
from nndesk.ui.training.worker import (
    ReportingControl,
    TrainingJob,
    TrainingOutcome,
    TrainingWorker,
    describe_error,
    lower_thread_priority,
    short_gil_slices,
)

pytestmark = pytest.mark.gui


def prepared(doc):
    dataset = load_settings_dataset(doc.settings)
    net = compile_network(doc, dataset=dataset)
    return net, prepare_data(net, dataset), dataset


class Recorder:
    """Collects what a worker emits (connected directly: no event loop needed)."""

    def __init__(self, worker: TrainingWorker) -> None:
        self.batches: list[dict] = []
        self.epochs: list[dict] = []
        self.probes: list = []
        self.evaluations: list = []
        self.failures: list[str] = []
        self.finished: list[TrainingOutcome] = []
        worker.sig_batch_logged.connect(self.batches.append)
        worker.sig_epoch_finished.connect(self.epochs.append)
        worker.sig_probe_ready.connect(self.probes.append)
        worker.sig_evaluated.connect(self.evaluations.append)
        worker.sig_failed.connect(self.failures.append)
        worker.sig_finished.connect(self.finished.append)


def test_gui_training_gives_the_same_weights_as_headless_training(qapp) -> None:
    doc = spiral_classifier()
    doc.set_setting("epochs", 4)
    worker = TrainingWorker(TrainingJob(TrainingSession(doc)), ReportingControl())
    seen = Recorder(worker)
    worker.run()  # in this thread: the probes run between batches all the same
    (outcome,) = seen.finished
    assert outcome.status == "completed" and not seen.failures
    assert len(seen.epochs) == 4 and seen.probes and seen.evaluations

    net, data, _ = prepared(doc)
    trainer = Trainer(net.model, data, TrainConfig.from_settings(doc.settings))
    trainer.run()
    expected = net.model.get_weights()
    assert outcome.state.weights.keys() == expected.keys()
    for key, value in expected.items():
        np.testing.assert_array_equal(outcome.state.weights[key], value, err_msg=key)
    assert outcome.state.history == trainer.history.as_dict()
    # The outcome hands back the very session the worker trained.
    assert outcome.session.history.as_dict() == trainer.history.as_dict()
    losses = np.concatenate([b["losses"] for b in seen.batches])
    assert len(losses) == 4 * 20


def test_a_worker_continues_from_kept_weights_and_history(qapp) -> None:
    doc = spiral_classifier()
    doc.set_setting("epochs", 2)
    first = TrainingWorker(TrainingJob(TrainingSession(doc)), ReportingControl())
    a = Recorder(first)
    first.run()
    done = a.finished[0]
    # The same session trains on: weights, optimizer state, history and scaling
    # are its own, nothing is handed over by hand.
    second = TrainingWorker(TrainingJob(done.session), ReportingControl())
    b = Recorder(second)
    second.run()
    assert b.finished[0].session is done.session
    assert [e["epoch"] for e in b.epochs] == [2, 3]
    assert len(b.finished[0].state.history["loss"]) == 4

    # Four epochs at once give the same weights (the trainer's resumability).
    doc.set_setting("epochs", 4)
    once = TrainingWorker(TrainingJob(TrainingSession(doc)), ReportingControl())
    c = Recorder(once)
    once.run()
    for key, value in c.finished[0].state.weights.items():
        np.testing.assert_array_equal(
            b.finished[0].state.weights[key], value, err_msg=key
        )


def test_optimizer_state_that_does_not_fit_is_reset_and_training_continues(
    qapp,
) -> None:
    """As on the command line: a stored optimizer state that does not fit the
    network is dropped (fresh moments) instead of failing the run."""
    doc = spiral_classifier()
    doc.set_setting("epochs", 1)
    trained = TrainingSession(doc)
    trained.fit()
    state = trained.model.optimizer.get_state()
    state["dense_1/kernel/m"] = np.zeros((3, 3), dtype=np.float32)  # wrong shape
    session = TrainingSession(
        doc, weights=trained.model.get_weights(), optimizer_state=state
    )
    assert int(session.model.optimizer.get_state()["iterations"]) == 0
    worker = TrainingWorker(TrainingJob(session), ReportingControl())
    seen = Recorder(worker)
    worker.run()
    assert not seen.failures and seen.finished[0].status == "completed"
    assert int(seen.finished[0].state.optimizer_state["iterations"]) == 20


def test_worker_failures_are_one_sentence_and_end_with_finished(qapp) -> None:
    doc = spiral_classifier()
    doc.set_setting("dataset", "nosuchgenerator:n=3")
    worker = TrainingWorker(TrainingJob(TrainingSession(doc)), ReportingControl())
    seen = Recorder(worker)
    worker.run()
    (message,) = seen.failures
    assert "nosuchgenerator" in message and "\n" not in message
    assert seen.finished[0].status == "failed" and seen.finished[0].state is None


def test_describe_error_names_unexpected_exceptions() -> None:
    assert describe_error(KeyError("dense_9")) == (
        "Training failed (KeyError: 'dense_9'); details are in the log."
    )


def test_a_thread_stepping_one_batch_reports_exactly_that_batch(qtbot) -> None:
    doc = spiral_classifier()
    control = ReportingControl()
    control.step_batch()
    worker = TrainingWorker(TrainingJob(TrainingSession(doc)), control)
    seen = Recorder(worker)
    thread = QThread()
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.sig_finished.connect(thread.quit)
    thread.start()
    try:
        assert control.wait_until_waiting(timeout=20)
        qtbot.waitUntil(lambda: sum(len(b["losses"]) for b in seen.batches) == 1)
        assert seen.probes[-1].step == pytest.approx(1 / 20)
        control.step_batch()
        qtbot.waitUntil(lambda: sum(len(b["losses"]) for b in seen.batches) == 2)
        assert control.wait_until_waiting(timeout=20)
        qtbot.waitUntil(lambda: seen.probes[-1].step == pytest.approx(2 / 20))
    finally:
        with qtbot.waitSignal(thread.finished, timeout=20_000):
            control.stop()
    assert seen.finished[0].status == "stopped"
    thread.wait()


# --- probes ----------------------------------------------------------------------------------


def test_describe_model_folds_pass_through_layers_and_keeps_merges() -> None:
    net, data, dataset = prepared(residual_classifier())
    info = describe_model(net.model, task=dataset.task, class_names=dataset.class_names)
    names = [c.name for c in info.layers]
    assert names[0] == "input_1" and info.output.is_output
    add = info.layer("add_1")
    assert add.kind == "Add" and set(add.inputs) == {"dense_1", "dense_2"}
    assert add.kernel is None and info.layer("dense_2").kernel == "dense_2/kernel"
    assert info.is_plane and not info.is_image


def test_probe_values_match_the_model() -> None:
    net, data, dataset = prepared(spiral_classifier())
    info = describe_model(net.model, task=dataset.task, class_names=dataset.class_names)
    prober = Prober(
        net.model, info, data.x_train, data.y_train, grid_size=16, batch_size=50
    )
    probe = prober.probe(7, epoch=0, step=0.0)
    out = net.model.predict(data.x_train[7:8])
    np.testing.assert_allclose(probe.activations["dense_3"], out[0], rtol=1e-6)
    np.testing.assert_array_equal(probe.sample, data.x_train[7])
    assert probe.target == dataset.class_names[int(data.y_train[7, 0])]
    x0, x1, y0, y1 = probe.grid.extent
    corner = np.array([[x0, y0], [x1, y1]], dtype=np.float32)
    ends = net.model.predict(corner)[:, 0]
    np.testing.assert_allclose(probe.grid.output[[0, -1], [0, -1]], ends, rtol=1e-5)
    assert probe.grid.hidden["dense_1"].shape == (8, 16, 16)
    assert probe.weights.keys() == net.model.get_weights().keys()
    edges, counts = probe.weight_hist["dense_1"]
    assert counts.sum() == 2 * 8 + 8  # kernel and bias


def test_histogram_handles_constant_and_non_finite_values() -> None:
    edges, counts = histogram(np.array([1.0, 1.0, np.nan, np.inf]))
    assert counts.sum() == 2 and edges[0] < 1.0 < edges[-1]
    edges, counts = histogram(np.array([np.nan]))
    assert counts.sum() == 0 and len(edges) == len(counts) + 1


def test_evaluation_of_a_classifier_and_a_regression() -> None:
    net, data, dataset = prepared(spiral_classifier())
    info = describe_model(net.model, task=dataset.task, class_names=dataset.class_names)
    ev = evaluate_model(net.model, data.x_val, data.y_val, info)
    assert ev.confusion.shape == (2, 2) and ev.confusion.sum() == data.n_val
    assert ev.report["accuracy"] == pytest.approx(np.trace(ev.confusion) / data.n_val)
    (roc,) = ev.roc
    assert roc[0] == dataset.class_names[1] and 0.0 <= roc[3] <= 1.0

    net, data, dataset = prepared(sine_regression())
    info = describe_model(net.model, task=dataset.task)
    ev = evaluate_model(net.model, data.x_val, data.y_val, info)
    pred = net.model.predict(data.x_val)
    assert ev.mae == pytest.approx(float(np.mean(np.abs(pred - data.y_val))), rel=1e-5)
    assert len(ev.y_true) == data.n_val and ev.confusion is None


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="no thread priorities")
def test_lower_thread_priority_touches_only_the_calling_thread() -> None:
    main_before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen: list[tuple[bool, int, int]] = []

    def lower() -> None:
        tid = threading.get_native_id()
        before = os.getpriority(os.PRIO_PROCESS, tid)
        applied = lower_thread_priority(3)
        seen.append((applied, before, os.getpriority(os.PRIO_PROCESS, tid)))

    thread = threading.Thread(target=lower)
    thread.start()
    thread.join()
    applied, before, after = seen[0]
    assert applied and after == min(19, before + 3)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main_before
    assert not lower_thread_priority(0)


def test_short_gil_slices_lower_the_switch_interval_and_put_it_back() -> None:
    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.005)
        with short_gil_slices(0.001):
            assert sys.getswitchinterval() == pytest.approx(0.001, abs=1e-5)
        assert sys.getswitchinterval() == pytest.approx(0.005, abs=1e-5)
        # Never longer than what is set already.
        sys.setswitchinterval(0.0002)
        with short_gil_slices(0.001):
            assert sys.getswitchinterval() == pytest.approx(0.0002, abs=1e-5)
        # A change made meanwhile by someone else is left alone.
        sys.setswitchinterval(0.005)
        with short_gil_slices(0.001):
            sys.setswitchinterval(0.003)
        assert sys.getswitchinterval() == pytest.approx(0.003, abs=1e-5)
    finally:
        sys.setswitchinterval(before)


def test_a_worker_thread_trains_with_short_gil_slices_and_restores_them(qapp) -> None:
    doc = spiral_classifier()
    doc.set_setting("epochs", 1)
    worker = TrainingWorker(TrainingJob(TrainingSession(doc)), ReportingControl())
    seen: list[float] = []
    # A direct connection runs the slot in the worker's thread, during training.
    worker.sig_epoch_finished.connect(
        lambda _logs: seen.append(sys.getswitchinterval()),
        Qt.ConnectionType.DirectConnection,
    )
    before = sys.getswitchinterval()
    thread = threading.Thread(target=worker.run)
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    assert seen and max(seen) <= min(before, 0.0005) + 1e-6
    assert sys.getswitchinterval() == pytest.approx(before)
