"""Training on painted data: a saved painted project trains from the command line,
and new data handed to a trainer between epochs is what the next epochs train on."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nndesk import cli
from nndesk.document.examples import spiral_classifier
from nndesk.document.painted import PaintedPoints
from nndesk.engine.callbacks import Callback
from nndesk.io.project_file import Project, load_project, save_project
from nndesk.training.session import TrainingSession


def painted_points(n: int, seed: int) -> PaintedPoints:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-1, 1, size=(n, 2))
    return PaintedPoints(xy, (xy[:, 0] * xy[:, 1] > 0).astype(np.int64), 2)


def painted_doc(n: int = 40, **settings: Any):
    doc = spiral_classifier()
    doc.set_painted(painted_points(n, 1))
    doc.set_setting("dataset", "painted")
    doc.set_setting("epochs", 3)
    for name, value in settings.items():
        doc.set_setting(name, value)
    return doc


class Seen(Callback):
    """Records the samples each epoch trained on and the validation size."""

    def __init__(self, trainer_of) -> None:
        super().__init__()
        self.trainer_of = trainer_of
        self.sizes: dict[int, int] = {}
        self.train_x: dict[int, np.ndarray] = {}
        self.hook: Any = None

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        epoch = int((logs or {})["epoch"])
        self.sizes[epoch] = self.sizes.get(epoch, 0) + int((logs or {})["size"])

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.train_x[epoch] = self.trainer_of().data.x_train.copy()
        if self.hook is not None:
            self.hook(epoch)


def test_a_saved_painted_project_trains_on_exactly_its_points(tmp_path: Path) -> None:
    doc = painted_doc(validation_split=0.0)
    path = tmp_path / "painted.nndesk"
    save_project(path, Project(document=doc))
    session = TrainingSession.open(path)
    history = session.fit(epochs=2)
    assert history.epochs == 2
    assert session.data is not None
    np.testing.assert_array_equal(session.data.x_train, doc.painted.xy)
    np.testing.assert_array_equal(session.data.y_train[:, 0], doc.painted.values)


def test_nndesk_train_painted_nndesk(tmp_path: Path) -> None:
    path = tmp_path / "painted.nndesk"
    save_project(path, Project(document=painted_doc()))
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["train", str(path), "--epochs", "2"], out=out, err=err)
    assert code == 0, err.getvalue()
    saved = load_project(path)
    assert len(saved.history["loss"]) == 2
    assert saved.document.painted == painted_points(40, 1)


def test_an_empty_painted_set_says_what_to_do(tmp_path: Path) -> None:
    doc = painted_doc()
    doc.set_painted(PaintedPoints.empty())
    path = tmp_path / "empty.nndesk"
    save_project(path, Project(document=doc))
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["train", str(path)], out=out, err=err)
    assert code == 2
    assert "The painted dataset has no points yet" in err.getvalue()


@pytest.mark.parametrize("validation_split", [0.0, 0.25])
def test_new_data_between_epochs_trains_the_next_epochs(
    validation_split: float,
) -> None:
    doc = painted_doc(validation_split=validation_split)
    session = TrainingSession(doc)
    data = session.prepare(session.load_dataset())
    seen = Seen(lambda: session.trainer)
    more = doc.painted.added(painted_points(20, 2).xy, 1)
    replaced = {}

    def after_epoch(epoch: int) -> None:
        if epoch == 0:
            new = session.prepare(_painted_dataset(more))
            replaced["data"] = new
            session.trainer.replace_data(new)

    seen.hook = after_epoch
    trainer = session.make_trainer(data, callbacks=[seen], epochs=3)
    trainer.run()
    new = replaced["data"]
    n_old, n_new = data.n_train, new.n_train
    assert n_new > n_old
    assert seen.sizes == {0: n_old, 1: n_new, 2: n_new}
    np.testing.assert_array_equal(seen.train_x[0], data.x_train)
    np.testing.assert_array_equal(seen.train_x[2], new.x_train)
    assert trainer.history.epochs == 3 and trainer.status == "completed"
    if validation_split:
        # the whole new set is split again with the same seed and fraction
        assert new.n_val == round(len(more) * validation_split)
        assert len(trainer.history.as_dict()["val_loss"]) == 3


def _painted_dataset(painted: PaintedPoints):
    from nndesk.io.datasets import load_dataset

    return load_dataset("painted", painted=painted)


def test_replacing_data_mid_run_equals_two_runs(numpy_kernels) -> None:
    """One run whose data changes after epoch 0 trains exactly like one epoch on
    the old data and then a second run of two epochs on the new data."""
    doc = painted_doc(validation_split=0.0, scaling="standard")
    more = doc.painted.added(painted_points(20, 2).xy, 0)

    one = TrainingSession(doc)
    seen = Seen(lambda: one.trainer)
    seen.hook = lambda e: (
        one.trainer.replace_data(one.prepare(_painted_dataset(more)))
        if e == 0
        else None
    )
    one.make_trainer(one.prepare(one.load_dataset()), callbacks=[seen], epochs=3).run()

    two = TrainingSession(doc)
    two.make_trainer(two.prepare(two.load_dataset()), epochs=1).run()
    two.make_trainer(two.prepare(_painted_dataset(more)), epochs=2).run()

    for key, w in one.model.get_weights().items():
        assert w.tobytes() == two.model.get_weights()[key].tobytes(), key
    # the scaler fitted on the first data is kept for the new data
    assert one.preprocessing == two.preprocessing
    assert one.history.as_dict()["loss"] == two.history.as_dict()["loss"]


def test_data_handed_over_in_the_last_epoch_waits_for_the_next_run() -> None:
    doc = painted_doc(validation_split=0.0)
    session = TrainingSession(doc)
    data = session.prepare(session.load_dataset())
    seen = Seen(lambda: session.trainer)
    new = session.prepare(_painted_dataset(doc.painted.added([[0.5, 0.5]], 1)))
    seen.hook = lambda e: session.trainer.replace_data(new) if e == 1 else None
    trainer = session.make_trainer(data, callbacks=[seen], epochs=2)
    trainer.run()
    assert seen.sizes == {0: data.n_train, 1: data.n_train}
    seen.hook = None
    trainer.run(1)
    assert seen.sizes[2] == new.n_train


def test_data_handed_over_before_an_epochs_first_batch_trains_that_epoch() -> None:
    """As when painting while paused at an epoch boundary: the epoch that has
    begun but trained no batch yet starts again on the new data."""
    doc = painted_doc(validation_split=0.0)
    session = TrainingSession(doc)
    data = session.prepare(session.load_dataset())
    new = session.prepare(_painted_dataset(doc.painted.added([[0.5, 0.5]], 1)))
    seen = Seen(lambda: session.trainer)

    class AtFirstBatch(Callback):
        epoch = 0

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.epoch = epoch

        def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
            if self.epoch == 1 and batch == 0 and session.trainer.data is data:
                session.trainer.replace_data(new)

    trainer = session.make_trainer(data, callbacks=[seen, AtFirstBatch()], epochs=3)
    trainer.run()
    assert seen.sizes == {0: data.n_train, 1: new.n_train, 2: new.n_train}
    batches = -(-data.n_train // 16) + 2 * -(-new.n_train // 16)
    assert int(session.model.optimizer.iterations) == batches
    assert trainer.history.epochs == 3


def test_a_step_grant_is_refunded_when_its_batch_did_not_run() -> None:
    from nndesk.training.control import TrainingControl

    control = TrainingControl()
    control.step_batch()
    assert control.wait_for_batch()  # the granted batch
    control.refund_batch()  # ... did not run: the grant comes back
    assert control.wait_for_batch()
    assert not control.waiting and control.state == "paused"
