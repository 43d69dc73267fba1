"""What the panels look at outside a run: the trained state, for the document as it is now.

Between runs (and while a run is paused) the panels still answer questions: the
network view shows the current weights, the activations panel follows the chosen
sample, Evaluate scores the model, and ``predict`` answers tests and scripts. The
preview holds no trained state of its own: it holds a ``TrainingSession`` derived
from the one that owns the trained state (the controller's, or a copy a paused
worker took between two batches), recompiled for the current document when it was
edited (``TrainingSession.recompiled`` keeps what still fits), and a prober over
that session's prepared data. No Qt here.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from nndesk.document.graph import Snapshot
from nndesk.engine.errors import ConfigError
from nndesk.io.datasets import Dataset
from nndesk.training.compile import CompiledNetwork
from nndesk.training.data import PreparedData, encode_targets, held_out_indices
from nndesk.training.planes import Plane
from nndesk.training.session import TrainedState, TrainingSession

from .probes import (
    Evaluation,
    ModelInfo,
    Prober,
    ProbeResult,
    evaluate_model,
    session_prober,
)

log = logging.getLogger(__name__)

__all__ = ["Preview", "Source"]

Source = TrainingSession | TrainedState | None
"""Where the preview's weights come from: the owning session, a copy of a paused
run's state, or nothing (the seeded initialisation)."""


class Preview:
    """A session for the document shown, its prepared data and a prober.

    Attributes
    ----------
    session : TrainingSession or None
        The session the panels look at (None before a network compiled, and
        while a worker trains: then the worker has it).
    info : ModelInfo or None
        Its columns, for the panels (None without data).
    data : PreparedData or None
        The data last prepared (kept while a worker trains, read-only).
    """

    def __init__(self) -> None:
        self.session: TrainingSession | None = None
        self.info: ModelInfo | None = None
        self.prober: Prober | None = None
        self.data: PreparedData | None = None
        self._source: Source = None  # what the session shown was derived from
        self._dataset: Dataset | None = None
        # The session that prepared ``data``: offered for reuse after a release
        # too (Reset Weights, an undo), so a large dataset is not prepared again
        # on the GUI thread (Fashion-MNIST: 0.3-1.8 s); ``prepare`` checks it fits.
        self._data_owner: TrainingSession | None = None

    @property
    def net(self) -> CompiledNetwork | None:
        """The compiled network of the session shown."""
        return self.session.net if self.session is not None else None

    def update(
        self,
        source: Source,
        snapshot: Snapshot,
        dataset: Dataset | None,
        base_dir: Path | None = None,
    ) -> TrainingSession:
        """Show ``source`` for ``snapshot``: the owning session itself when it was
        compiled from the same document, else a session recompiled from it; with
        ``dataset``, its prepared data and a prober too.

        Returns
        -------
        TrainingSession
            The session shown.

        Raises
        ------
        NNDeskError
            When the network does not compile or the data does not fit it; the
            previous state is kept then.
        """
        session = self.session
        current = (
            session is not None
            and self._source is source
            and self._dataset is dataset
            and session.snapshot.same_content(snapshot)
            and (dataset is None or self.info is not None)
        )
        if current and session is not None:
            return session
        session = _derive(source, snapshot, base_dir)
        info = prober = None
        if dataset is not None:
            data = session.prepare(dataset, reuse=self.session or self._data_owner)
            prober = session_prober(session, data, dataset)
            info = prober.info
            self.data, self._data_owner = data, session
        self.session, self.info, self.prober = session, info, prober
        self._source, self._dataset = source, dataset
        return session

    def release(self) -> TrainingSession | None:
        """Hand the session over (to a worker that trains it); the panels keep
        showing what they show, the prepared data stays cached."""
        session = self.session
        self.session = self.info = self.prober = None
        self._source = self._dataset = None
        return session

    def clear(self) -> None:
        """Forget the session and the data."""
        self.release()
        self.data = self._data_owner = None

    # --- questions -------------------------------------------------------------------------
    def probe(
        self, sample_index: int, epoch: int, plane: Plane | None = None
    ) -> ProbeResult | None:
        """A probe of the preview model (None without one); it carries no gradients
        (the preview never trains: the panels keep the last run's) and no sampled
        text (the text panel samples in a pool thread, from the probe's weights);
        ``plane``: where to draw the decision boundary of inputs that are not 2-D."""
        if self.prober is None:
            return None
        return self.prober.probe(
            sample_index,
            epoch,
            float(epoch),
            gradients=False,
            samples=False,
            plane=plane,
        )

    def evaluate(self, epoch: int) -> Evaluation | None:
        """Scores on all of the validation data (training data without a split):
        the samples ``nndesk evaluate --split val`` scores."""
        session, info = self.session, self.info
        if session is None or info is None or session.data is None:
            return None
        data = session.data
        if data.x_val is not None and data.y_val is not None:
            x, y, split = data.x_val, data.y_val, "validation"
        else:
            x, y, split = data.x_train, data.y_train, "training"
        return evaluate_model(session.model, x, y, info, split=split, epoch=epoch)

    def evaluate_test(self, epoch: int) -> Evaluation | None:
        """Scores on the test part: the samples the ``test_split`` setting holds
        out of the dataset shown, else the dataset's own test part (read now);
        the samples ``nndesk evaluate --split test`` scores.

        Raises
        ------
        DatasetError
            When there is no test part (a generator or CSV file without a test
            split), or it does not load.
        """
        session, info, dataset = self.session, self.info, self._dataset
        if session is None or info is None or dataset is None:
            return None
        if float(session.settings.get("test_split", 0.0)) > 0:
            rows = held_out_indices(dataset, session.settings)
            test = dataset.subset(rows, f"{dataset.name} (test)")
        else:
            test = session.load_dataset(split="test")
        x, y = session.scale(test.x), encode_targets(session.net, test)
        return evaluate_model(session.model, x, y, info, split="test", epoch=epoch)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predictions for raw inputs ``(n, *input_shape)``, scaled as in training.

        Raises
        ------
        ConfigError
            When there is no compiled network to predict with.
        """
        if self.session is None:
            raise ConfigError(
                "There is no network to predict with: fix its problems first."
            )
        return self.session.predict(np.asarray(x))


def _derive(
    source: Source, snapshot: Snapshot, base_dir: Path | None
) -> TrainingSession:
    if isinstance(source, TrainingSession):
        if source.snapshot.same_content(snapshot):
            return source
        return source.recompiled(snapshot)
    if isinstance(source, TrainedState):
        return TrainingSession.from_state(source, snapshot, base_dir=base_dir)
    return TrainingSession(snapshot, base_dir=base_dir)
