"""Live evaluations: one per state of the model, the end state always shown."""

from __future__ import annotations

from nndesk.document.examples import spiral_classifier
from nndesk.training.session import TrainingSession
from nndesk.ui.training import worker as worker_module
from nndesk.ui.training.worker import ReportingControl, TrainingJob, TrainingWorker


def run_and_count(epochs: int) -> tuple[list[int], str]:
    doc = spiral_classifier()
    doc.set_setting("epochs", epochs)
    doc.set_setting("early_stopping_patience", 0)
    worker = TrainingWorker(TrainingJob(TrainingSession(doc)), ReportingControl())
    evaluated: list[int] = []
    finished: list[str] = []
    worker.sig_evaluated.connect(lambda result: evaluated.append(result.epoch))
    worker.sig_finished.connect(lambda outcome: finished.append(outcome.status))
    worker.run()  # in this thread
    return evaluated, finished[0]


def test_the_end_of_a_run_is_not_evaluated_twice(monkeypatch, qapp) -> None:
    # Due at every epoch end, however long an evaluation takes.
    monkeypatch.setattr(worker_module, "EVAL_INTERVAL", 0.0)
    monkeypatch.setattr(worker_module, "EVAL_MAX_SHARE", 1e9)
    evaluated, status = run_and_count(3)
    assert status == "completed"
    assert evaluated == [0, 1, 2]  # the last epoch's evaluation is the end state


def test_a_run_whose_epochs_were_not_evaluated_ends_with_one(monkeypatch, qapp) -> None:
    monkeypatch.setattr(worker_module, "EVAL_INTERVAL", 3600.0)
    evaluated, status = run_and_count(2)
    assert status == "completed"
    assert evaluated == [1]
