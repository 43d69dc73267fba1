"""The training timeline: bounded checkpoints, exact scrubbing, forks that reproduce.

A checkpoint restored into another model of the network holds exactly the weights
of a headless run stopped at that step (same seed); a fork from an epoch end with
unchanged settings trains on bit for bit as the original run did; the store stays
under its byte bound over a 200-epoch run of the Fashion-MNIST network and thins
so that the ends stay and the rest spreads out.
"""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from training_helpers import SHARED_DATA, spiral_document

from nndesk.engine.callbacks import Callback
from nndesk.engine.errors import ConfigError
from nndesk.training.checkpoints import (
    DEFAULT_BOUND,
    Checkpoint,
    CheckpointStore,
    Timeline,
    checkpoint_bound,
    restore_weights,
)
from nndesk.training.compile import compile_network
from nndesk.training.control import TrainingControl
from nndesk.training.examples import load_example
from nndesk.training.session import TrainingSession


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]) for k in a
    )


def _recorded(doc, epochs: int) -> tuple[TrainingSession, Timeline]:
    session = TrainingSession(doc)
    timeline = Timeline(CheckpointStore(bound=DEFAULT_BOUND))
    session.fit(epochs=epochs, callbacks=[timeline.recorder(session)])
    return session, timeline


class _StopAfter(Callback):
    """Stops the run after ``steps`` batches (at the next batch boundary)."""

    def __init__(self, control: TrainingControl, steps: int) -> None:
        super().__init__()
        self.control, self.steps, self.done = control, steps, 0

    def on_batch_end(self, batch, logs=None) -> None:
        self.done += 1
        if self.done == self.steps:
            self.control.stop()


@pytest.mark.usefixtures("numpy_kernels")
def test_scrubbed_weights_equal_a_run_stopped_at_that_step():
    doc = spiral_document(optimizer="adam", seed=3)
    session, timeline = _recorded(doc, epochs=4)
    points = timeline.store.checkpoints(0)
    inside = [c for c in points if c.batch > 0]
    ends = [c for c in points if c.batch == 0 and c.epoch > 0]
    assert inside and ends, "checkpoints inside the first epochs and at epoch ends"
    view = compile_network(timeline.runs[0].snapshot).model
    for checkpoint in (inside[len(inside) // 2], ends[1]):
        restore_weights(view, checkpoint)
        control = TrainingControl()
        headless = TrainingSession(spiral_document(optimizer="adam", seed=3))
        headless.fit(
            epochs=4,
            control=control,
            callbacks=[_StopAfter(control, checkpoint.step)],
        )
        assert headless.model.optimizer.iterations == checkpoint.step
        assert _same(view.get_weights(), headless.model.get_weights())
    # The run itself was not touched by the scrubbing.
    assert _same(session.model.get_weights(), points[-1].weights)


@pytest.mark.usefixtures("numpy_kernels")
def test_a_fork_from_epoch_k_with_unchanged_settings_reproduces_the_run():
    doc = spiral_document(
        optimizer="adam",
        early_stopping_patience=2,
        early_stopping_metric="val_loss",
        seed=5,
    )
    original, timeline = _recorded(doc, epochs=6)
    k = 3
    checkpoint = next(
        c for c in timeline.store.checkpoints(0) if c.epoch == k and c.batch == 0
    )
    fork = timeline.fork(checkpoint)
    assert timeline.current == 1 and timeline.runs[1].parent == 0
    assert timeline.runs[1].fork_epoch == k and fork.history.epochs == k
    fork.fit(epochs=6 - k, callbacks=[timeline.recorder(fork)])
    assert _same(fork.model.get_weights(), original.model.get_weights())
    assert _same(fork.model.optimizer.get_state(), original.model.optimizer.get_state())
    assert fork.history.as_dict() == original.history.as_dict()
    assert fork.trainer.status == original.trainer.status


@pytest.mark.usefixtures("numpy_kernels")
def test_a_fork_takes_changed_settings_and_keeps_unchanged_nodes():
    doc = spiral_document(optimizer="adam", seed=1)
    original, timeline = _recorded(doc, epochs=3)
    checkpoint = next(c for c in timeline.store.checkpoints(0) if c.epoch == 2)
    edited = doc.copy()
    edited.set_setting("learning_rate", 0.1)
    dense = [n.id for n in edited.nodes if n.type_name == "Dense"]
    edited.set_param(dense[1], "units", 5)  # reshapes the second and third layers
    fork = timeline.fork(checkpoint, edited.snapshot(), name="wider lr")
    assert list(fork.kept_nodes) == [dense[0]]
    key = f"{dense[0]}/kernel"
    assert np.array_equal(fork.model.get_weights()[key], checkpoint.weights[key])
    fork.fit(epochs=1)
    assert fork.model.optimizer.lr == pytest.approx(0.1)
    assert timeline.runs[-1].name == "wider lr"


def _checkpoint(step: int, size: int = 100, run: int = 0) -> Checkpoint:
    w = {"a/kernel": np.full(size, step, dtype=np.float32)}
    return Checkpoint(run, step, 0, 1, step, w, {"iterations": np.array(step)})


def test_thinning_keeps_the_ends_and_spreads_the_rest():
    one = _checkpoint(0).nbytes
    store = CheckpointStore(bound=20 * one)
    for step in range(300):
        assert store.add(_checkpoint(step))
        assert store.nbytes <= store.bound
    kept = store.checkpoints()
    steps = [c.step for c in kept]
    assert steps[0] == 0 and steps[-1] == 299 and len(kept) == 20
    gaps = np.diff(steps)
    # Even spacing would be 299 / 19 = 15.7 steps.
    assert gaps.max() <= 2 * gaps.min() and gaps.max() <= 32
    assert store.nbytes == sum(
        a.nbytes
        for c in kept
        for a in (*c.weights.values(), *c.optimizer_state.values())
    )


def test_thinning_keeps_pinned_checkpoints_and_each_runs_ends():
    one = _checkpoint(0).nbytes
    store = CheckpointStore(bound=12 * one)
    for step in range(40):
        store.add(_checkpoint(step))
        if step == 7:
            pinned = store.checkpoints()[-1]
            store.pin(pinned)
    for step in range(7, 30):
        store.add(_checkpoint(step, run=1))
    assert pinned in store.checkpoints()
    for run in (0, 1):
        steps = [c.step for c in store.checkpoints(run)]
        assert steps[0] == (0 if run == 0 else 7) and steps[-1] == (
            39 if run == 0 else 29
        )
    assert store.nbytes <= store.bound


def test_a_checkpoint_over_the_bound_is_refused_and_said():
    store = CheckpointStore(bound=1000)
    assert not store.add(_checkpoint(0, size=1000))
    assert len(store) == 0 and store.refused == 4008
    assert "Checkpoints off" in store.describe() and "over the" in store.describe()


@pytest.mark.usefixtures("numpy_kernels")
def test_a_network_over_the_bound_is_copied_once_and_trains_on():
    session = TrainingSession(spiral_document(optimizer="adam"))
    timeline = Timeline(CheckpointStore(bound=100))  # the spiral net takes ~1 KB
    recorder = timeline.recorder(session)
    session.fit(epochs=3, callbacks=[recorder])
    assert session.history.epochs == 3 and len(timeline.store) == 0
    assert recorder.refused and timeline.store.refused > 100
    assert timeline.store.describe().startswith("Checkpoints off: one takes")


def test_the_bound_is_lowered_to_a_quarter_of_the_usable_memory():
    assert checkpoint_bound(8 << 30) == DEFAULT_BOUND
    assert checkpoint_bound(400 << 20) == 100 << 20
    with pytest.raises(ConfigError, match="checkpoint bound"):
        CheckpointStore(bound=0)


def _read_idx(path):
    with gzip.open(path) as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _write_idx(path, array) -> None:
    head = struct.pack(">BBBB", 0, 0, 8, array.ndim)
    path.write_bytes(
        head + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    )


class _Watch(Callback):
    """Reads the store after every epoch's checkpoint (it runs after the recorder)."""

    def __init__(self, store: CheckpointStore) -> None:
        super().__init__()
        self.store, self.epochs, self.most = store, 0, 0

    def on_epoch_end(self, epoch, logs=None) -> None:
        self.epochs += 1
        self.most = max(self.most, self.store.nbytes)


@pytest.mark.slow
def test_memory_stays_under_the_bound_over_200_epochs_of_fashion_mnist(tmp_path):
    """The Fashion-MNIST example network (784-256-128-10, Adam: 2.8 MB a
    checkpoint), 200 epochs on its first 256 training images (2 batches an
    epoch: the network and the 200 epoch-end checkpoints are real, the data is
    small to keep the test short)."""
    for kind in ("images-idx3", "labels-idx1"):
        array = _read_idx(SHARED_DATA / "fashion-mnist" / f"train-{kind}-ubyte.gz")
        _write_idx(tmp_path / f"train-{kind}-ubyte", array[:256])
    project = load_example("fashion_mnist")
    project.document.set_setting("early_stopping_patience", 0)
    session = TrainingSession.from_project(project)
    dataset = session.load_dataset(str(tmp_path))
    timeline = Timeline(CheckpointStore(bound=DEFAULT_BOUND))
    recorder = timeline.recorder(session)
    watch = _Watch(timeline.store)
    session.fit(dataset, epochs=200, callbacks=[recorder, watch])
    store = timeline.store
    # The first (before any step) holds no Adam moments yet: the others do.
    one = store.checkpoints()[-1].nbytes
    assert watch.epochs == 200 and session.history.epochs == 200
    assert 2_700_000 < one < 3_000_000
    assert 200 * one > 1.5 * DEFAULT_BOUND, "thinning had to happen"
    assert watch.most <= DEFAULT_BOUND and store.nbytes <= DEFAULT_BOUND
    kept = store.checkpoints()
    assert store.nbytes == sum(c.nbytes for c in kept)
    assert kept[0].step == 0 and kept[-1].epoch == 200
    assert DEFAULT_BOUND // one <= len(kept) <= DEFAULT_BOUND // one + 1
    ends = [c.position for c in kept]
    assert max(np.diff(ends)) <= 2.0, "spread evenly over the 200 epochs"
    # Copying took a small share of the run.
    assert recorder.spent < 10.0


@pytest.mark.usefixtures("numpy_kernels")
def test_a_run_that_does_not_go_on_from_the_last_checkpoint_is_a_new_run():
    doc = spiral_document(optimizer="adam", seed=2)
    session, timeline = _recorded(doc, epochs=2)
    # Trained on: the same run.
    session.fit(epochs=1, callbacks=[timeline.recorder(session)])
    assert len(timeline.runs) == 1 and timeline.runs[0].epochs == 3
    # The graph edited between two runs: a run forked at the end of the first.
    edited = doc.copy()
    dense = [n.id for n in edited.nodes if n.type_name == "Dense"]
    edited.set_param(dense[0], "units", 6)
    changed = session.recompiled(edited.snapshot())
    changed.fit(epochs=1, callbacks=[timeline.recorder(changed)])
    assert [r.name for r in timeline.runs] == ["run 1", "run 2 (edited graph)"]
    assert timeline.runs[1].parent == 0 and timeline.runs[1].fork_epoch == 3
    # Weights reset: a run of its own, without a parent.
    fresh = TrainingSession(edited.snapshot())
    fresh.fit(epochs=1, callbacks=[timeline.recorder(fresh)])
    assert timeline.runs[2].name == "run 3" and timeline.runs[2].parent is None
    lineage = timeline.lineage(2)
    assert {c.run for c in lineage} == {2} and lineage[0].step == 0
    assert lineage[-1].epoch == 1 and lineage[-1].batch == 0


@pytest.mark.usefixtures("numpy_kernels")
def test_training_a_file_of_several_runs_keeps_them(tmp_path):
    """As ``nndesk train`` and the API do: load, train, save."""
    from nndesk.io.project_file import load_project, save_project

    doc = spiral_document(optimizer="adam")
    session, timeline = _recorded(doc, epochs=2)
    fork = timeline.fork(timeline.store.checkpoints(0)[-1], name="again")
    project = fork.to_project()
    project.runs, project.current_run = timeline.to_plain(), timeline.current
    project.checkpoints = timeline.saved_checkpoints(project.weights)
    path = tmp_path / "runs.nndesk"
    save_project(path, project)
    loaded = TrainingSession.from_project(load_project(path))
    loaded.fit(epochs=1)
    loaded.save(path)
    again = load_project(path)
    assert [r["name"] for r in again.runs] == ["run 1", "again"]
    assert again.runs[1]["history"] == loaded.history.as_dict()
    assert len(again.runs[1]["history"]["loss"]) == 3
    assert len(again.checkpoints) == len(project.checkpoints)
