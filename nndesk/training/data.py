"""Training data from the network settings: load, check, split, scale, encode targets.

The settings name the dataset (a spec string, relative paths relative to the project
file's folder), the validation and test fractions and their seed, and the feature
scaling. The test part (``test_split``) is held out before anything else: training,
validation, scaling and the window's panels never see it; it is scored on request
(``nndesk evaluate --split test``, the Data panel's Evaluate on Test). The
scaler is fitted on the training split only; its statistics travel with the network
(``Project.preprocessing``), so a loaded network scales raw inputs exactly as during
training. Targets are encoded as the Output node's loss needs them: integer labels
for sparse cross-entropy, one-hot for categorical, ``(n, 1)`` 0/1 for binary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..document.graph import GraphView
from ..document.painted import PaintedPoints
from ..engine.data import sample_fits_input
from ..engine.memory import check_fits
from ..io.datasets import Dataset, Scaler, Splits, load_dataset
from ..io.errors import DatasetError
from .compile import CompiledNetwork, check_network
from .errors import DataMismatchError

__all__ = [
    "PreparedData",
    "check_dataset_fits",
    "encode_targets",
    "held_out_indices",
    "input_shape_update",
    "load_settings_dataset",
    "make_scaler",
    "prepare_data",
    "scale_inputs",
    "split_dataset",
    "split_fractions",
    "split_order",
]


@dataclass(eq=False)
class PreparedData:
    """Arrays ready for the trainer, and how they were made.

    Attributes
    ----------
    x_train : np.ndarray
        ``(n_train, *input_shape)`` float32, scaled, shaped as the network's Input
        (``(n, 28, 28)`` images gain its channel axis of 1).
    y_train : np.ndarray
        Targets encoded for the loss (int64 ``(n,)`` or float32 ``(n, k)``).
    x_val, y_val : np.ndarray or None
        The validation split, or None when ``validation_split`` is 0. The test
        split (``test_split``) is in neither part. With a
        validation split, ``x_train`` and ``x_val`` (and ``y_train`` and ``y_val``)
        are views of one array, the training rows first.
    dataset : Dataset
        The whole dataset as loaded (raw features).
    scaler : Scaler or None
        The fitted feature scaler, None when ``scaling`` is ``"none"``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    dataset: Dataset
    scaler: Scaler | None = None

    @property
    def n_train(self) -> int:
        """Number of training samples."""
        return int(len(self.x_train))

    @property
    def n_val(self) -> int:
        """Number of validation samples (0 without a validation split)."""
        return 0 if self.x_val is None else int(len(self.x_val))

    @property
    def validation_data(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(x_val, y_val)`` or None."""
        if self.x_val is None or self.y_val is None:
            return None
        return self.x_val, self.y_val

    @property
    def preprocessing(self) -> dict[str, Any] | None:
        """``scaler.to_dict()`` for ``Project.preprocessing``, or None."""
        return None if self.scaler is None else self.scaler.to_dict()


def load_settings_dataset(
    settings: Mapping[str, Any],
    *,
    spec: str | None = None,
    target: str | int | None = None,
    base_dir: str | Path | None = None,
    painted: PaintedPoints | None = None,
) -> Dataset:
    """Load the dataset the settings (or an explicit ``spec``) name.

    Parameters
    ----------
    settings : Mapping
        Network settings (``dataset``, ``dataset_target``, ``seed``).
    spec : str, optional
        Overrides the ``dataset`` setting (the command line's ``--data``).
    target : str or int, optional
        CSV target column; default: the ``dataset_target`` setting when the spec is
        the setting's own.
    base_dir : str or Path, optional
        Folder that relative paths are resolved against (the project file's).
    painted : PaintedPoints, optional
        The document's painted points, which the spec ``painted`` names.

    Raises
    ------
    DatasetError
        When no dataset is named, or it cannot be loaded (one sentence naming the
        file, row, column or option).
    """
    chosen = spec if spec is not None else str(settings.get("dataset") or "")
    if not chosen.strip():
        raise DatasetError(
            # No command-line flag here: the window shows it too (the CLI adds one).
            "No dataset is chosen: set one in the network settings."
        )
    if target is None and spec is None and settings.get("dataset_target"):
        target = str(settings["dataset_target"])
    return load_dataset(
        chosen,
        target=target if target not in ("", None) else None,
        seed=int(settings.get("seed", 0)),
        base_dir=base_dir,
        painted=painted,
    )


def check_dataset_fits(view: GraphView, dataset: Dataset) -> None:
    """Check that ``dataset`` fits the network: input shape, classes, task vs loss.

    Raises
    ------
    DataMismatchError
        One sentence per problem, joined (e.g. "Input 'input_1' has shape (2,) but
        the dataset's samples have shape (28, 28): set the Input shape to (28, 28).").
    """
    problems = check_network(view, dataset)
    if problems:
        raise DataMismatchError(
            f"The dataset '{dataset.name}' does not fit the network: "
            + " ".join(p.message for p in problems)
        )


def input_shape_update(
    view: GraphView, dataset: Dataset
) -> tuple[str, tuple[int, ...]] | None:
    """The Input node and the shape it needs for ``dataset``, or None if it fits.

    The GUI applies it as an undoable ``set_param(node_id, "shape", shape)``.
    """
    want = tuple(int(d) for d in dataset.input_shape)
    for node in view.nodes_of_type("Input"):
        # (28, 28) images fit an Input of (28, 28, 1) as they are
        if not sample_fits_input(want, node.params["shape"]):
            return node.id, want
    return None


def split_fractions(settings: Mapping[str, Any]) -> tuple[float, float]:
    """The ``(validation_split, test_split)`` fractions of the settings.

    Raises
    ------
    DatasetError
        When together they leave nothing to train on (their sum is 1 or more).
    """
    val = float(settings.get("validation_split", 0.0))
    test = float(settings.get("test_split", 0.0))
    if val + test >= 1.0:
        raise DatasetError(
            f"The validation split ({val:g}) and the test split ({test:g}) leave "
            "nothing to train on: their sum must be below 1."
        )
    return val, test


def split_dataset(dataset: Dataset, settings: Mapping[str, Any]) -> Splits:
    """Training, validation and test parts by the ``validation_split``,
    ``test_split`` and ``seed`` settings.

    The split is stratified for classification and the same for the same seed;
    without a test split it is the split of ``Dataset.split(val, seed=seed)``.
    """
    val, test = split_fractions(settings)
    if val <= 0 and test <= 0:
        return Splits(train=dataset)
    return dataset.split(val=val, test=test, seed=int(settings.get("seed", 0)))


def held_out_indices(dataset: Dataset, settings: Mapping[str, Any]) -> np.ndarray:
    """The int64 indices of the samples the ``test_split`` setting holds out.

    They are deterministic from the ``seed`` setting and the dataset, and never in
    :func:`split_order`. Empty when the test split is 0.
    """
    val, test = split_fractions(settings)
    if test <= 0:
        return np.empty(0, dtype=np.int64)
    return dataset.split_indices(val=val, test=test, seed=int(settings.get("seed", 0)))[
        2
    ]


def make_scaler(
    settings: Mapping[str, Any],
    train_x: np.ndarray,
    preprocessing: Mapping[str, Any] | None = None,
) -> Scaler | None:
    """The feature scaler: restored from ``preprocessing`` when given, else fitted
    on ``train_x`` by the ``scaling`` setting (None for ``"none"``).

    Statistics are per feature (per pixel for images).
    """
    if preprocessing:
        return Scaler.from_dict(dict(preprocessing))
    method = str(settings.get("scaling", "none"))
    if method == "none":
        return None
    return Scaler(method).fit(train_x)


def scale_inputs(
    x: np.ndarray, preprocessing: Mapping[str, Any] | Scaler | None
) -> np.ndarray:
    """Raw features ``(n, *input_shape)`` scaled as during training (float32)."""
    if preprocessing is None:
        return np.asarray(x, dtype=np.float32)
    scaler = (
        preprocessing
        if isinstance(preprocessing, Scaler)
        else Scaler.from_dict(dict(preprocessing))
    )
    return scaler.transform(x)


def prepare_data(
    net: CompiledNetwork,
    dataset: Dataset,
    *,
    preprocessing: Mapping[str, Any] | None = None,
) -> PreparedData:
    """Split, scale and encode ``dataset`` for training ``net``.

    The features are held once: one copy in split order (the training part, then
    the validation part) that is scaled in place, with ``x_train`` and ``x_val``
    views of it. Without a validation split or scaling no copy is made at all
    (``x_train`` is ``dataset.x``). The values are those of splitting with
    ``Dataset.split`` and scaling each part with ``Scaler.transform``.

    Parameters
    ----------
    net : CompiledNetwork
        Gives the settings, the loss and the output width.
    dataset : Dataset
        Raw features and targets; left unchanged.
    preprocessing : Mapping, optional
        Stored scaler statistics (a loaded project); reused instead of refitting so
        the trained weights keep seeing the inputs they were trained on.

    Raises
    ------
    DataMismatchError
        When the dataset does not fit the network.
    DatasetError
        When the split is impossible (too few samples).
    ResourceError
        When the prepared copy would not fit in the memory this process can use.
    """
    check_dataset_fits(net.snapshot, dataset)
    settings = net.settings
    order, n_train = split_order(dataset, settings)
    y = dataset.targets_for(net.loss, n_outputs=net.output_units)
    if order is None:
        x = dataset.x
    else:
        _check_copy_fits(dataset, dataset.x.nbytes)
        x = np.take(dataset.x, order, axis=0)
        y = np.take(y, order, axis=0)
    scaler = make_scaler(settings, x[:n_train], preprocessing)
    if scaler is not None:
        if order is None:
            _check_copy_fits(dataset, dataset.x.nbytes)
            x = scaler.transform(x)
        else:
            scaler.transform(x, out=x)
    x = np.asarray(x, dtype=np.float32)
    # As the model sees them: (n, 28, 28) images get the Input's channel axis.
    x = x.reshape(len(x), *net.model.input_shapes[0])
    has_val = n_train < len(x)
    return PreparedData(
        x[:n_train] if has_val else x,
        y[:n_train] if has_val else y,
        x[n_train:] if has_val else None,
        y[n_train:] if has_val else None,
        dataset,
        scaler,
    )


def split_order(
    dataset: Dataset, settings: Mapping[str, Any]
) -> tuple[np.ndarray | None, int]:
    """The sample order of the prepared data and the size of its training part.

    Returns
    -------
    (order, n_train) : tuple
        ``order`` lists the training part's sample indices and then the validation
        part's, as :func:`split_dataset` makes them; the test part is in neither
        (None without a validation or test split: every sample trains, in the
        dataset's order).
    """
    val, test = split_fractions(settings)
    if val <= 0 and test <= 0:
        return None, len(dataset)
    train, val_idx, _ = dataset.split_indices(
        val=val, test=test, seed=int(settings.get("seed", 0))
    )
    return np.concatenate([train, val_idx]), len(train)


def _check_copy_fits(dataset: Dataset, nbytes: int) -> None:
    check_fits(
        int(nbytes),
        f"Preparing dataset '{dataset.name}' for training",
        purpose=" for its split and scaled copy",
    )


def encode_targets(net: CompiledNetwork, dataset: Dataset) -> np.ndarray:
    """``dataset``'s targets as ``net``'s loss needs them."""
    return dataset.targets_for(net.loss, n_outputs=net.output_units)
