"""The Python API: load a network file, predict, evaluate, train and save in a script.

>>> import nndesk
>>> net = nndesk.load("spiral.nndesk")
>>> net.fit(epochs=20)                 # on the dataset its settings name
>>> probabilities = net.predict(points)
>>> net.save("spiral-trained.nndesk")

A ``Network`` wraps a ``TrainingSession``: the same compilation, data preparation,
trainer and file format as the app and the command line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .document.graph import Document, GraphView
from .engine import losses
from .engine.callbacks import Callback
from .engine.errors import DataError
from .io.datasets import Dataset
from .training.control import TrainingControl
from .training.gan import GanSession
from .training.session import TrainingSession

__all__ = ["Network", "load"]


class Network:
    """A trained or untrained network with its settings, weights and history.

    Make one with ``nndesk.load(path)`` or ``Network.from_document(doc)``.

    Attributes
    ----------
    path : Path or None
        The file it was loaded from or last saved to.
    """

    def __init__(self, session: TrainingSession, path: Path | None = None) -> None:
        self._session = session
        self.path = path

    # --- making one -------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path) -> Network:
        """Open a ``.nndesk`` file (see ``nndesk.load``)."""
        path = Path(path)
        return cls(TrainingSession.open(path), path)

    @classmethod
    def from_document(
        cls, document: GraphView, *, base_dir: str | Path | None = None
    ) -> Network:
        """A fresh (untrained) network from a document, e.g. one built in code.

        Parameters
        ----------
        document : Document or Snapshot
            The network; it is copied, later edits do not change this Network.
        base_dir : str or Path, optional
            Folder for relative dataset paths in the settings.

        Raises
        ------
        CompileError
            Listing the problems of a network that cannot be compiled.
        """
        return cls(TrainingSession(document, base_dir=base_dir))

    # --- what it is -------------------------------------------------------------------
    @property
    def document(self) -> Document:
        """A copy of the network document (edit it, then ``Network.from_document``)."""
        return self._session.snapshot.to_document()

    @property
    def settings(self) -> Mapping[str, Any]:
        """The training settings (read-only)."""
        return self._session.settings

    @property
    def history(self) -> dict[str, list[float]]:
        """Per-epoch metrics of every training run so far (a copy)."""
        return self._session.history.as_dict()

    @property
    def model(self) -> Any:
        """The engine ``Model`` (layers named by node id)."""
        return self._session.model

    @property
    def loss(self) -> str:
        """The loss of the Output node."""
        return self._session.net.loss

    @property
    def vocabulary(self) -> list[str] | None:
        """The text of each token id the network was trained on (a character
        model's characters, ``Project.vocabulary``), or None: ids in, ids out,
        ``nndesk.io.datasets.text.encode_text``/``decode_ids`` map them."""
        vocabulary = self._session.vocabulary
        return list(vocabulary) if vocabulary is not None else None

    def get_weights(self) -> dict[str, np.ndarray]:
        """Copies of the weights, keyed ``"<node_id>/<param>"``."""
        return self._session.model.get_weights()

    def summary(self) -> str:
        """The table of layers, output shapes and parameter counts."""
        return self._session.model.summary()

    def __repr__(self) -> str:
        where = f" from {self.path.name}" if self.path else ""
        return (
            f"<Network{where}: {len(self._session.model.layers)} layers, "
            f"{self._session.history.epochs} epochs trained>"
        )

    # --- using it ---------------------------------------------------------------------
    def predict(self, x: Any, batch_size: int = 256) -> np.ndarray:
        """Outputs for raw features ``x`` ``(n, *input_shape)``.

        The feature scaling stored with the network is applied first, so pass data
        as it comes (like the dataset it was trained on).

        Returns
        -------
        np.ndarray
            ``(n, units)`` float32: class probabilities (softmax), the probability of
            class 1 (sigmoid), or predicted values (regression).
        """
        return self._session.predict(np.asarray(x), batch_size=batch_size)

    def predict_classes(self, x: Any, batch_size: int = 256) -> np.ndarray:
        """Predicted class indices ``(n,)`` int64 for a classifier.

        Raises
        ------
        DataError
            When the network is a regression network.
        """
        if losses.get(self.loss).fuses_with is None:
            raise DataError(
                f"The network is trained with {self.loss}, a regression loss; it has "
                "no classes to predict."
            )
        p = self.predict(x, batch_size)
        if p.shape[-1] == 1:
            return (p[:, 0] >= 0.5).astype(np.int64)
        return np.argmax(p, axis=-1).astype(np.int64)

    def evaluate(
        self, x: Any = None, y: Any = None, *, split: str = "all", batch_size: int = 256
    ) -> dict[str, float]:
        """Loss and metrics on ``(x, y)`` or, without them, on its own dataset.

        Parameters
        ----------
        x, y : array-like, optional
            Raw features ``(n, *input_shape)`` and targets: class indices ``(n,)``
            (or one-hot rows) for a classifier, values ``(n,)`` or ``(n, k)`` for
            regression.
        split : {"all", "train", "val", "test"}
            Without ``x``/``y``: which part of the settings' dataset.

        Returns
        -------
        dict[str, float]
            ``"loss"`` and one entry per metric of the settings.
        """
        dataset = self._dataset(x, y, split)
        return self._session.evaluate(dataset, batch_size=batch_size)

    def fit(
        self,
        x: Any = None,
        y: Any = None,
        *,
        epochs: int | None = None,
        batch_size: int | None = None,
        learning_rate: float | None = None,
        callbacks: Iterable[Callback] = (),
        control: TrainingControl | None = None,
    ) -> dict[str, list[float]]:
        """Train, continuing the history (and optimizer state) of earlier runs.

        Parameters
        ----------
        x, y : array-like, optional
            Raw features and targets (as for ``evaluate``); without them the
            dataset named by the settings is used. The settings' validation split
            and feature scaling apply either way.
        epochs, batch_size, learning_rate : optional
            Override the settings for this run.
        callbacks : iterable of Callback
            Keras-like hooks (``on_epoch_end(epoch, logs)``, ...).
        control : TrainingControl, optional
            To pause or stop the run from another thread.

        Returns
        -------
        dict[str, list[float]]
            The whole history (a copy), this run's epochs at the end.
        """
        dataset = None if x is None and y is None else self._dataset(x, y, "all")
        self._session.fit(
            dataset,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            callbacks=callbacks,
            control=control,
        )
        return self.history

    def save(self, path: str | Path | None = None) -> Path:
        """Write the network (document, weights, optimizer state, history, scaling)
        to ``path``, or back to the file it came from.

        Returns
        -------
        Path
            Where it was saved.
        """
        if path is None:
            if self.path is None:
                raise DataError("This network has no file yet: give save() a path.")
            path = self.path
        target = Path(path)
        self._session.save(target)
        self.path = target
        return target

    # --- helpers ----------------------------------------------------------------------
    def _dataset(self, x: Any, y: Any, split: str) -> Dataset:
        if x is None and y is None:
            session = self._session
            if split == "test":
                return session.load_dataset(split="test")
            return session.part(session.load_dataset(), split)
        if x is None or y is None:
            raise DataError(
                "Give both x and y, or neither (to use the settings' dataset)."
            )
        return _arrays_dataset(np.asarray(x), np.asarray(y), self.loss, self._units())

    def _units(self) -> int:
        return self._session.net.output_units


def _arrays_dataset(x: np.ndarray, y: np.ndarray, loss: str, units: int) -> Dataset:
    """A Dataset from user arrays, with targets decoded to what a Dataset stores."""
    classifier = losses.get(loss).fuses_with is not None
    if not classifier:
        return Dataset(x, y, "regression", name="arrays")
    if y.ndim == 2 and y.shape[1] > 1:
        y = np.argmax(y, axis=1)  # one-hot rows -> class indices
    classes = 2 if units == 1 else units
    return Dataset(
        x,
        y,
        "classification",
        class_names=[str(i) for i in range(classes)],
        name="arrays",
    )


def load(path: str | Path) -> Network | GanSession:
    """Open a ``.nndesk`` network file.

    Parameters
    ----------
    path : str or Path
        The file; relative dataset paths in its settings are relative to its folder.

    Returns
    -------
    Network or GanSession
        A ``GanSession`` (``nndesk.training.gan``, docs/gan.md) for a GAN file:
        ``fit``, ``save``, ``summary`` and its ``trainer``'s ``sample``.

    Raises
    ------
    FileFormatError
        For a missing, corrupt or incompatible file (one sentence naming it).
    """
    from .document.gan import is_gan
    from .io.project_file import load_project

    path = Path(path)
    project = load_project(path)
    if is_gan(project.document):
        return GanSession.from_project(project, base_dir=path.resolve().parent)
    return Network(
        TrainingSession.from_project(project, base_dir=path.resolve().parent), path
    )
