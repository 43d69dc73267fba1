"""The one owner of a trained network: model, weights, optimizer state, history, scaling.

``TrainingSession`` is what the command line (``nndesk train|evaluate|predict``), the
Python API (``nndesk.load``) and the window's training worker all train through: it
compiles a document snapshot, takes over the weights, optimizer state, history and
feature scaling of a saved project (or of the previous version of an edited
network, by node id: ``recompiled``), loads the dataset the settings name, prepares
it (the one place that decides whether a stored scaler is reused), trains through a
``Trainer`` (with the network's metrics, so a bad early-stopping setting fails
before the first epoch), predicts and evaluates on raw data, and turns the result
back into a ``Project`` to save.

``capture()`` copies everything the session holds into a ``TrainedState``; the
window's worker takes one between two batches when asked, so a file saved while a
run is running or paused holds exactly the state of one batch boundary. The
history then holds the finished epochs only: a partial epoch's batches are in the
weights, the optimizer state (its ``iterations`` count them) and the run state
(its ``batch``), not in the history.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..document.gan import is_gan
from ..document.graph import Document, GraphView, Snapshot
from ..document.validate import Problem
from ..engine.errors import NNDeskError
from ..io.datasets import Dataset, format_spec, load_dataset, parse_spec
from ..io.datasets.painted import PAINTED
from ..io.datasets.spec import rebase_spec
from ..io.datasets.toy import GENERATORS
from ..io.errors import DatasetError
from ..io.project_file import Project, ProjectMetadata, load_project, save_project
from .callbacks import Callback
from .compile import (
    CompiledNetwork,
    compile_network,
    complete_weights,
    transfer_optimizer_state,
    transfer_weights,
)
from .control import TrainingControl
from .data import (
    PreparedData,
    check_dataset_fits,
    encode_targets,
    held_out_indices,
    load_settings_dataset,
    prepare_data,
    scale_inputs,
    split_dataset,
)
from .errors import CompileError
from .history import TrainingHistory
from .run_state import weights_sha256
from .trainer import TrainConfig, Trainer

log = logging.getLogger(__name__)

__all__ = ["SPLITS", "TrainedState", "TrainingSession"]

SPLITS: tuple[str, ...] = ("all", "train", "val", "test")
"""Parts of a dataset to evaluate: everything, the training or validation part of
the settings' split, or the dataset's own test part (IDX folders, NPZ files)."""

# Settings after whose change a stored feature scaling no longer applies: the
# scaler was fitted on another dataset, target or method.
_SCALING_SETTINGS: tuple[str, ...] = ("dataset", "dataset_target", "scaling")
# Settings that change how a dataset is split, scaled or encoded.
_DATA_SETTINGS: tuple[str, ...] = ("validation_split", "test_split", "seed", "scaling")


_GAN_MESSAGE = (
    "The network is a GAN (it has a Noise node), not a predictor: train it with "
    "nndesk train, the window or nndesk.training.gan.GanSession (evaluate and "
    "predict do not apply)."
)


@dataclass(frozen=True, eq=False)
class TrainedState:
    """Copies of everything a trained network is, taken at one moment.

    Made by ``TrainingSession.capture`` (between two batches when a run is under
    way); nothing in it is shared with the live model, so it may cross threads.

    Attributes
    ----------
    snapshot : Snapshot
        The document the model was compiled from.
    weights : dict[str, np.ndarray]
        ``"<node_id>/<param>"`` -> array, every layer of the model.
    optimizer_state : dict[str, np.ndarray]
        ``Optimizer.get_state()`` (``"iterations"`` counts every batch trained).
    optimizer_name : str
        The optimizer the state belongs to.
    history : dict[str, list[float]]
        Every finished epoch.
    preprocessing : dict or None
        The feature scaling (``Scaler.to_dict()``).
    trained : bool
        Whether the weights carry any training; untrained states save no weights.
    run_state : dict or None
        ``Trainer.run_state()``: what continuing the run exactly needs besides the
        above (early stopping, a learning rate changed mid-run).
    vocabulary : list of str or None
        The text of each token id of the data trained on (``Dataset.vocabulary``).
    """

    snapshot: Snapshot
    weights: dict[str, np.ndarray]
    optimizer_state: dict[str, np.ndarray]
    optimizer_name: str
    history: dict[str, list[float]]
    preprocessing: dict[str, Any] | None
    trained: bool
    run_state: dict[str, Any] | None = None
    vocabulary: list[str] | None = None

    @classmethod
    def from_project(cls, project: Project) -> TrainedState:
        """The state a loaded ``Project`` holds, without compiling its network
        (for a file saved while its network had problems: its weights stay at
        hand until the network compiles again, see ``TrainingSession.from_state``).
        """
        doc = project.document
        return cls(
            snapshot=doc.snapshot(),
            weights=dict(project.weights),
            optimizer_state=dict(project.optimizer_state),
            optimizer_name=project.optimizer_name or str(doc.settings["optimizer"]),
            history={k: list(v) for k, v in project.history.items()},
            preprocessing=dict(project.preprocessing)
            if project.preprocessing
            else None,
            trained=bool(project.weights),
            run_state=project.run_state,
            vocabulary=project.vocabulary,
        )

    @property
    def epochs(self) -> int:
        """Finished epochs in the history."""
        return TrainingHistory(self.history).epochs

    def to_project(
        self,
        document: GraphView | None = None,
        metadata: ProjectMetadata | None = None,
    ) -> Project:
        """A ``Project`` of this state: document, weights (when trained), optimizer
        state, history, feature scaling and metadata.

        Parameters
        ----------
        document : GraphView, optional
            The document to save (default: the compiled snapshot). The window
            passes its live document, which may have been edited since: nodes the
            model lacks, or whose shapes changed, get fresh weights
            (``complete_weights``), nodes with unknown shapes none.
        metadata : ProjectMetadata, optional
            Kept from the file the network came from (default: new).
        """
        view = document if document is not None else self.snapshot
        doc = view.copy() if isinstance(view, Document) else _as_document(view)
        trained = self.trained
        weights = self.weights if trained else {}
        seed = int(self.snapshot.settings["seed"])
        stored = complete_weights(doc, weights, seed)
        # Moments belong to the weights they were made for: keep those of nodes
        # whose arrays are the model's (a node reshaped since has fresh weights).
        fresh = {
            k.split("/", 1)[0]
            for k, w in stored.items()
            if k not in weights or weights[k].shape != w.shape
        }
        ours = {k.split("/", 1)[0] for k in stored} - fresh
        state = self.optimizer_state if trained else {}
        state = {
            k: v
            for k, v in state.items()
            if k == "iterations" or k.split("/", 1)[0] in ours
        }
        return Project(
            document=doc,
            weights=stored,
            optimizer_state=state,
            history={k: list(v) for k, v in self.history.items()},
            preprocessing=dict(self.preprocessing)
            if trained and self.preprocessing
            else None,
            optimizer_name=self.optimizer_name if trained else None,
            metadata=metadata or ProjectMetadata.new(),
            run_state=self._run_state_for(stored) if trained else None,
            vocabulary=self.vocabulary if trained else None,
        )

    def _run_state_for(self, stored: Mapping[str, np.ndarray]) -> dict[str, Any] | None:
        # A run state belongs to the weights it was taken with: not to a document
        # edited since (some nodes got fresh weights).
        run = self.run_state
        if run is None or weights_sha256(stored) != run["weights_sha256"]:
            return None
        return run


class TrainingSession:
    """One network with everything it needs to train, predict and be saved: the one
    owner of its trained state (the window's worker, the command line and the API
    all train through one).

    One thread at a time uses it: the window's worker while it trains, otherwise
    the GUI thread, which asks a training worker for ``capture()`` copies through
    ``TrainingControl.call_between_batches``.

    Parameters
    ----------
    view : GraphView
        The network (a Document is snapshotted; later edits do not reach the model).
    weights : Mapping, optional
        ``"<node_id>/<param>"`` -> array, e.g. a project's weights or the previous
        model's ``get_weights()``; nodes whose shapes are unchanged keep them.
    optimizer_state : Mapping, optional
        ``Optimizer.get_state()`` of the same run; kept for the nodes that kept
        their weights, when ``optimizer_name`` matches the settings' optimizer.
    optimizer_name : str, optional
        The optimizer that made ``optimizer_state`` (None: assume the settings').
    history : Mapping, optional
        Per-epoch history of earlier runs; training continues it.
    preprocessing : Mapping, optional
        Stored scaler statistics (``Scaler.to_dict()``).
    base_dir : str or Path, optional
        Folder that relative dataset paths are resolved against (the file's).
    metadata : ProjectMetadata, optional
        Kept so a saved file remembers when it was created.
    run_state : Mapping, optional
        ``Trainer.run_state()`` of the run that made ``weights``
        (``Project.run_state``); the next trainer carries on with it.
    vocabulary : Sequence of str, optional
        The text of each token id (``Project.vocabulary``); replaced by the
        vocabulary of the data the session prepares.

    Attributes
    ----------
    net : CompiledNetwork
        The compiled model and the snapshot it came from.
    history : TrainingHistory
    preprocessing : dict or None
    kept_nodes : list of str
        Nodes whose weights came from ``weights``.
    data : PreparedData or None
        The data last prepared (``prepare``), shared read-only.
    trainer : Trainer or None
        The trainer of the last run (``make_trainer``).
    """

    def __init__(
        self,
        view: GraphView,
        *,
        weights: Mapping[str, np.ndarray] | None = None,
        optimizer_state: Mapping[str, np.ndarray] | None = None,
        optimizer_name: str | None = None,
        history: Mapping[str, Sequence[float]] | None = None,
        preprocessing: Mapping[str, Any] | None = None,
        base_dir: str | Path | None = None,
        metadata: ProjectMetadata | None = None,
        run_state: Mapping[str, Any] | None = None,
        vocabulary: Sequence[str] | None = None,
    ) -> None:
        if is_gan(view):  # its Output is the discriminator's: not a classifier
            raise CompileError([Problem(None, _GAN_MESSAGE)])
        self.net: CompiledNetwork = compile_network(view)
        self.vocabulary = list(vocabulary) if vocabulary is not None else None
        self.base_dir = Path(base_dir) if base_dir is not None else None
        self.history = TrainingHistory(history)
        self.preprocessing: dict[str, Any] | None = (
            dict(preprocessing) if preprocessing else None
        )
        self.metadata = metadata
        # The runs side by side of the file it came from (docs/timeline.md):
        # saved again, this session's history as the current run's.
        self.file_runs: tuple[list[dict[str, Any]], int, Any] | None = None
        self.kept_nodes: list[str] = []
        if weights:
            self.kept_nodes = transfer_weights(weights, self.net.model)
        if optimizer_state:
            self._restore_optimizer(optimizer_state, optimizer_name)
        self.trainer: Trainer | None = None
        self.run_state = dict(run_state) if run_state else None
        self.data: PreparedData | None = None
        self._data_key: tuple[Any, ...] | None = None
        self._fitted_here = False  # whether self.data's scaler was fitted by prepare

    # --- construction -----------------------------------------------------------------
    @classmethod
    def from_project(
        cls, project: Project, base_dir: str | Path | None = None
    ) -> TrainingSession:
        """A session holding everything a loaded ``Project`` holds."""
        session = cls(
            project.document,
            weights=project.weights,
            optimizer_state=project.optimizer_state,
            optimizer_name=project.optimizer_name,
            history=project.history,
            preprocessing=project.preprocessing,
            base_dir=base_dir,
            metadata=project.metadata,
            run_state=project.run_state,
            vocabulary=project.vocabulary,
        )
        if project.runs:
            session.file_runs = (
                project.runs,
                project.current_run,
                project.checkpoints,
            )
        return session

    @classmethod
    def open(cls, path: str | Path) -> TrainingSession:
        """Load a ``.nndesk`` file; relative dataset paths are relative to its folder.

        Raises
        ------
        FileFormatError
            For a missing, corrupt or incompatible file.
        CompileError
            For a network that cannot be compiled.
        """
        path = Path(path)
        return cls.from_project(load_project(path), base_dir=path.resolve().parent)

    def _restore_optimizer(
        self, state: Mapping[str, np.ndarray], name: str | None
    ) -> None:
        wanted = str(self.net.settings["optimizer"])
        if name is not None and name != wanted:
            log.info(
                "Optimizer state of %s dropped: the optimizer is now %s.", name, wanted
            )
            return
        try:
            transfer_optimizer_state(state, self.net.model, self.kept_nodes)
        except NNDeskError as exc:
            log.warning("Optimizer state dropped: %s", exc)
            self.net.model.optimizer.reset()  # type: ignore[union-attr]

    @classmethod
    def from_state(
        cls,
        state: TrainedState,
        view: GraphView | None = None,
        *,
        base_dir: str | Path | None = None,
        metadata: ProjectMetadata | None = None,
    ) -> TrainingSession:
        """A session for ``view`` (default: the state's own snapshot) that keeps what
        still fits of ``state``.

        Nodes whose weight shapes are unchanged keep their weights and optimizer
        state; new or reshaped nodes start from fresh weights; the history carries
        over. The feature scaling carries over unless ``view`` names another
        dataset, target column or scaling method than the state's snapshot (then
        the next ``prepare`` fits a new one). An untrained state carries nothing
        but its history, so the result is the seeded initialisation of ``view``.
        """
        target = state.snapshot if view is None else view
        old, new = state.snapshot.settings, target.settings
        keeps_scaling = all(old.get(k) == new.get(k) for k in _SCALING_SETTINGS)
        trained = state.trained
        return cls(
            target,
            weights=state.weights if trained else None,
            optimizer_state=state.optimizer_state if trained else None,
            optimizer_name=state.optimizer_name,
            history=state.history,
            preprocessing=state.preprocessing if keeps_scaling else None,
            base_dir=base_dir,
            metadata=metadata,
            run_state=state.run_state if trained else None,
            vocabulary=state.vocabulary if keeps_scaling else None,
        )

    def recompiled(self, view: GraphView) -> TrainingSession:
        """A session for an edited version of this network that keeps what still fits.

        The window calls it for every edit of the network outside a run (its
        preview, and the next run, use the result; this session stays as it is, so
        undoing the edit brings its weights back): see ``from_state``.
        """
        return TrainingSession.from_state(
            self.capture(), view, base_dir=self.base_dir, metadata=self.metadata
        )

    def capture(self) -> TrainedState:
        """Copies of the weights, optimizer state, history and scaling, now.

        Call it from the thread that trains (or while nothing trains): the model's
        arrays change with every batch.
        """
        optimizer = self.net.model.optimizer
        return TrainedState(
            snapshot=self.net.snapshot,
            weights=self.net.model.get_weights(),
            optimizer_state=optimizer.get_state() if optimizer is not None else {},
            optimizer_name=str(self.settings["optimizer"]),
            history=self.history.as_dict(),
            preprocessing=dict(self.preprocessing) if self.preprocessing else None,
            trained=self.trained,
            run_state=(
                self.trainer.run_state() if self.trainer is not None else self.run_state
            ),
            vocabulary=self.vocabulary,
        )

    # --- what it is -------------------------------------------------------------------
    @property
    def model(self) -> Any:
        """The compiled engine ``Model`` (layers named by node id)."""
        return self.net.model

    @property
    def snapshot(self) -> Snapshot:
        """The document the model was compiled from."""
        return self.net.snapshot

    @property
    def settings(self) -> Mapping[str, Any]:
        """The network settings."""
        return self.net.settings

    @property
    def trained(self) -> bool:
        """Whether the weights carry any training (loaded, carried over or done
        here, a partial first epoch included)."""
        optimizer = self.net.model.optimizer
        stepped = optimizer is not None and optimizer.iterations > 0
        return self.history.epochs > 0 or bool(self.kept_nodes) or stepped

    # --- data -------------------------------------------------------------------------
    def load_dataset(
        self,
        spec: str | None = None,
        *,
        target: str | int | None = None,
        split: str | None = None,
        relative_to: str | Path | None = None,
    ) -> Dataset:
        """The dataset named by ``spec``, or by the ``dataset`` setting.

        Parameters
        ----------
        spec : str, optional
            A dataset spec; its relative paths are relative to ``relative_to``
            (default: the current folder). The ``dataset`` setting's relative
            paths are relative to ``base_dir`` (the network file's folder).
        target : str or int, optional
            CSV target column (default for the setting: ``dataset_target``).
        split : {"train", "test"}, optional
            For datasets with their own parts (IDX folders, NPZ files): which part.
            With a ``test_split`` setting above 0, ``"test"`` is the part of the
            dataset that setting holds out (training never saw it).

        Raises
        ------
        DatasetError
            When nothing is named, the spec is wrong, or the dataset has no such
            part.
        """
        base = relative_to if spec is not None else self.base_dir
        if split == "test" and float(self.settings.get("test_split", 0.0)) > 0:
            whole = self.load_dataset(spec, target=target, relative_to=relative_to)
            return whole.subset(
                held_out_indices(whole, self.settings), f"{whole.name} (test)"
            )
        if split is None:
            return load_settings_dataset(
                self.settings,
                spec=spec,
                target=target,
                base_dir=base,
                painted=self.snapshot.painted,
            )
        chosen = spec if spec is not None else str(self.settings.get("dataset") or "")
        if not chosen.strip():
            return load_settings_dataset(self.settings)  # raises: nothing chosen
        head, options = parse_spec(chosen)
        if head in GENERATORS or head == PAINTED:
            raise DatasetError(
                f"The dataset '{chosen}' is generated and has no {split} part: set "
                "a test split (test_split) in the network settings, or evaluate on "
                "the validation part."
            )
        options["split"] = split
        if target is None and spec is None and self.settings.get("dataset_target"):
            target = str(self.settings["dataset_target"])
        return load_dataset(
            format_spec(head, options),
            target=target,
            seed=int(self.settings.get("seed", 0)),
            base_dir=base,
        )

    def prepare(
        self, dataset: Dataset, *, reuse: TrainingSession | None = None
    ) -> PreparedData:
        """Split, scale and encode ``dataset`` for training (kept as ``data``).

        The stored scaler is reused when it matches the ``scaling`` setting and the
        dataset's sample shape (the weights were trained on inputs scaled that
        way); otherwise a new one is fitted on the training part. This is the one
        place that rule is written (``from_state`` drops a scaler whose dataset,
        target or method setting changed).

        Parameters
        ----------
        dataset : Dataset
            Raw features and targets.
        reuse : TrainingSession, optional
            Another session of the same network (e.g. before an edit): its
            prepared data is taken as it is when it came from the same dataset
            with the same split, scaling and target encoding, so a large dataset
            is not prepared twice. The arrays are shared read-only.

        Raises
        ------
        DataMismatchError
            When the dataset does not fit the network.
        """
        stored = self._usable_preprocessing(dataset)
        key = self._key_of(dataset)
        for source in (self, reuse):
            shared = source.data if source is not None else None
            if source is None or shared is None or shared.dataset is not dataset:
                continue
            same_scaling = (
                stored == shared.preprocessing
                if stored is not None
                else source._fitted_here
            )
            if source._data_key == key and same_scaling:
                self._adopt(shared, key, source._fitted_here)
                return shared
        data = prepare_data(self.net, dataset, preprocessing=stored)
        self._adopt(data, key, stored is None)
        return data

    def _adopt(self, data: PreparedData, key: tuple[Any, ...], fitted: bool) -> None:
        self.data, self._data_key, self._fitted_here = data, key, fitted
        self.preprocessing = data.preprocessing
        self.vocabulary = data.dataset.vocabulary  # what the token ids now mean

    def _key_of(self, dataset: Dataset) -> tuple[Any, ...]:
        settings = self.settings
        return (
            id(dataset),
            self.net.loss,
            self.net.output_units,
            *(settings.get(name) for name in _DATA_SETTINGS),
        )

    def _usable_preprocessing(self, dataset: Dataset) -> dict[str, Any] | None:
        stored = self.preprocessing
        if not stored:
            return None
        method = str(self.settings.get("scaling", "none"))
        shape = tuple(int(d) for d in stored.get("input_shape", ()))
        if stored.get("method") != method or shape != tuple(dataset.input_shape):
            log.info("The stored feature scaling does not fit; fitting a new one.")
            return None
        return stored

    # --- training ---------------------------------------------------------------------
    def make_trainer(
        self,
        data: PreparedData,
        *,
        callbacks: Iterable[Callback] = (),
        control: TrainingControl | None = None,
        **overrides: Any,
    ) -> Trainer:
        """A ``Trainer`` for this session's model and history.

        ``overrides`` replace ``TrainConfig`` fields (``epochs``, ``batch_size``,
        ``learning_rate``, ``seed``...); None values are ignored.
        """
        config = TrainConfig.from_settings(self.settings, **overrides)
        if self.trainer is not None:  # the run state of the last run goes on
            self.run_state = self.trainer.run_state()
        self.trainer = Trainer(
            self.net.model,
            data,
            config,
            callbacks=callbacks,
            control=control,
            history=self.history,
            metrics=self.net.metrics,
            run_state=self.run_state,
        )
        return self.trainer

    def fit(
        self,
        dataset: Dataset | None = None,
        *,
        epochs: int | None = None,
        callbacks: Iterable[Callback] = (),
        control: TrainingControl | None = None,
        **overrides: Any,
    ) -> TrainingHistory:
        """Train on ``dataset`` (default: the one the settings name).

        Returns
        -------
        TrainingHistory
            The whole history, this run appended.
        """
        if dataset is None:
            dataset = self.load_dataset()
        data = self.prepare(dataset)
        trainer = self.make_trainer(
            data, callbacks=callbacks, control=control, epochs=epochs, **overrides
        )
        return trainer.run()

    # --- inference --------------------------------------------------------------------
    def scale(self, x: np.ndarray) -> np.ndarray:
        """Raw features scaled as during training (float32)."""
        return scale_inputs(x, self.preprocessing)

    def predict(self, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Network outputs for raw features ``x`` ``(n, *input_shape)``.

        Returns
        -------
        np.ndarray
            ``(n, units)`` float32: class probabilities for a softmax, the positive
            class probability for a sigmoid, values for regression.
        """
        return np.asarray(self.net.model.predict(self.scale(x), batch_size=batch_size))

    def part(self, dataset: Dataset, split: str) -> Dataset:
        """The ``"all"``, ``"train"`` or ``"val"`` part of ``dataset`` by the settings'
        split (``"test"`` parts come from ``load_dataset(split="test")``)."""
        if split == "all" or split == "test":
            return dataset
        if split not in SPLITS:
            raise DatasetError(
                f"Unknown split '{split}'; valid splits are {', '.join(SPLITS)}."
            )
        parts = split_dataset(dataset, self.settings)
        chosen = parts.train if split == "train" else parts.val
        if chosen is None:
            raise DatasetError(
                "The settings hold no validation split (validation_split is 0), so "
                "there is no 'val' part."
            )
        return chosen

    def evaluate(self, dataset: Dataset, batch_size: int = 256) -> dict[str, float]:
        """Loss and metrics of the network on ``dataset`` (raw features).

        Raises
        ------
        DataMismatchError
            When the dataset does not fit the network.
        """
        check_dataset_fits(self.net.snapshot, dataset)
        y = encode_targets(self.net, dataset)
        return self.net.model.evaluate(self.scale(dataset.x), y, batch_size=batch_size)

    # --- saving -----------------------------------------------------------------------
    def to_project(self, document: GraphView | None = None) -> Project:
        """A ``Project`` of this session (see ``TrainedState.to_project``)."""
        project = self.capture().to_project(document, metadata=self.metadata)
        if self.file_runs is not None:
            runs, current, checkpoints = self.file_runs
            runs = [dict(r) for r in runs]
            runs[current]["history"] = project.history
            project.runs, project.current_run = runs, current
            project.checkpoints = checkpoints
        return project

    def save(self, path: str | Path) -> None:
        """Save as a ``.nndesk`` file (atomically).

        A relative dataset path is saved relative to the file's folder: saved in
        another folder than ``base_dir`` (``nndesk train --out``, ``save(path)``
        of the API), it is rewritten to name the same file from there.
        """
        project = self.to_project()  # a copy of the document
        spec = str(project.document.settings.get("dataset") or "")
        folder = Path(path).resolve().parent
        project.document.set_setting(
            "dataset", rebase_spec(spec, self.base_dir, folder)
        )
        save_project(path, project)


def _as_document(view: GraphView) -> Document:
    if isinstance(view, Snapshot):
        return view.to_document()
    return Snapshot(view.nodes, view.edges, view.settings, view.painted).to_document()
