"""The Dataset container shared by generators, readers, splits and the trainer.

A dataset holds features ``x`` of shape ``(n, *input_shape)`` as float32 and targets
``y``: ``(n,)`` int64 class indices for classification, ``(n, k)`` float32 values for
regression.
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from ..errors import DatasetError

if TYPE_CHECKING:
    from pathlib import Path

    from .preprocess import Scaler

log = logging.getLogger(__name__)

__all__ = [
    "CLASSIFICATION",
    "MAX_CLASSES",
    "REGRESSION",
    "TASKS",
    "Dataset",
    "Splits",
]

CLASSIFICATION = "classification"
REGRESSION = "regression"
TASKS = (CLASSIFICATION, REGRESSION)

MAX_CLASSES = 100_000
"""Most classes a classification dataset may have (class names, or the largest
label + 1 when there are no names). Labels size lists and one-hot arrays, so a
hostile label such as 2**62 must be refused before anything is sized by it."""

# Loss name -> target encoding. The names are the engine's canonical loss names.
_LOSS_ENCODINGS = {
    "sparse_categorical_crossentropy": "sparse",
    "categorical_crossentropy": "one_hot",
    "binary_crossentropy": "binary",
    "mse": "value",
    "mae": "value",
    "huber": "value",
}


@dataclass(eq=False)
class Dataset:
    """Features, targets and what they mean.

    Parameters
    ----------
    x : np.ndarray
        Features, shape ``(n, *input_shape)``; stored as float32, all finite.
    y : np.ndarray
        Classification: ``(n,)`` int64 class indices in ``[0, n_classes)``, or
        ``(n, time)`` for a label per time step (sequence tagging, the copy task).
        Regression: ``(n, k)`` float32 targets (a 1-D array becomes ``(n, 1)``).
    task : str
        ``"classification"`` or ``"regression"``.
    class_names : list of str, optional
        One name per class (at most ``MAX_CLASSES``); defaults to
        ``"0" .. str(max label)`` for classification, which needs the largest label
        below both the sample count and ``MAX_CLASSES``, and is None for regression.
    feature_names : list of str, optional
        One name per feature column for tabular data, None otherwise.
    name : str
        Short human-readable name ("spiral", "iris.csv", "fashion-mnist (train)").
    source : str
        A dataset spec string that recreates this dataset with ``load_dataset``
        (empty when there is none, e.g. for a subset or an in-memory array).
    notes : list of str
        Remarks worth showing to the user (e.g. "only the test split was found").
    vocabulary : list of str, optional
        For features that are token ids (text, symbol sequences): the text each id
        stands for, id ``i`` is ``vocabulary[i]`` (distinct strings). Saved with a
        trained network so its ids map back to text (``Project.vocabulary``).

    Raises
    ------
    DatasetError
        When the arrays do not fit together or hold NaN/Inf or bad labels.
    """

    x: np.ndarray
    y: np.ndarray
    task: str
    class_names: list[str] | None = None
    feature_names: list[str] | None = None
    name: str = "dataset"
    source: str = ""
    notes: list[str] = field(default_factory=list)
    vocabulary: list[str] | None = None

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise DatasetError(
                f"Dataset '{self.name}' has task {self.task!r}; "
                f"valid tasks are {', '.join(TASKS)}."
            )
        self.x = _as_features(self.x, self.name)
        if self.task == CLASSIFICATION:
            self.y, self.class_names = _as_labels(self.y, self.class_names, self.name)
        else:
            self.y = _as_regression_targets(self.y, self.name)
            if self.class_names is not None:
                raise DatasetError(
                    f"Dataset '{self.name}' is a regression dataset and cannot have "
                    "class names."
                )
        if len(self.y) != len(self.x):
            raise DatasetError(
                f"Dataset '{self.name}' has {len(self.x)} feature rows but "
                f"{len(self.y)} targets."
            )
        if self.vocabulary is not None:
            self.vocabulary = _checked_vocabulary(self.vocabulary, self.name)
        if self.feature_names is not None:
            self.feature_names = [str(s) for s in self.feature_names]
            if self.x.ndim != 2 or len(self.feature_names) != self.x.shape[1]:
                raise DatasetError(
                    f"Dataset '{self.name}' has {len(self.feature_names)} feature "
                    f"names for features of shape {self.input_shape}."
                )

    # --- what it is -----------------------------------------------------------
    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def n_samples(self) -> int:
        """Number of samples ``n``."""
        return len(self)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Per-sample feature shape, ``x.shape[1:]`` (e.g. ``(2,)`` or ``(28, 28)``)."""
        return tuple(int(d) for d in self.x.shape[1:])

    @property
    def target_steps(self) -> int | None:
        """Time steps a sample's labels cover (``y`` of shape ``(n, time)``), None
        for one target per sample."""
        if self.task == CLASSIFICATION and self.y.ndim == 2:
            return int(self.y.shape[1])
        return None

    @property
    def n_classes(self) -> int | None:
        """Number of classes for classification, None for regression."""
        return None if self.class_names is None else len(self.class_names)

    @property
    def n_targets(self) -> int:
        """Number of network outputs a natural model has: classes or target columns.

        A two-class dataset reports 2 (a softmax output); a single sigmoid output
        fits it as well, see :meth:`targets_for`.
        """
        if self.task == CLASSIFICATION:
            return int(self.n_classes or 0)
        return int(self.y.shape[1])

    @property
    def is_classification(self) -> bool:
        """True for a classification dataset."""
        return self.task == CLASSIFICATION

    def class_counts(self) -> np.ndarray:
        """Samples per class, int64 array of shape ``(n_classes,)``.

        Raises
        ------
        DatasetError
            For a regression dataset.
        """
        self._require_classification("class counts")
        return np.bincount(self.y.ravel(), minlength=self.n_classes).astype(np.int64)

    def summary(self) -> str:
        """A one-line description: name, samples, input shape and task."""
        if self.task == CLASSIFICATION:
            what = f"{self.n_classes} classes"
        else:
            what = f"regression, {self.n_targets} target(s)"
        return (
            f"{self.name}: {len(self)} samples, input shape {self.input_shape}, {what}"
        )

    # --- targets as a loss needs them ------------------------------------------
    def one_hot(self) -> np.ndarray:
        """One-hot targets for categorical cross-entropy, float32 ``(n, n_classes)``
        (``(n, time, n_classes)`` for labels per time step).

        Raises
        ------
        DatasetError
            For a regression dataset.
        """
        self._require_classification("one-hot targets")
        if self.y.ndim == 2:
            return np.eye(self.n_classes or 0, dtype=np.float32)[self.y]
        out = np.zeros((len(self), self.n_classes or 0), dtype=np.float32)
        out[np.arange(len(self)), self.y] = 1.0
        return out

    def binary_targets(self) -> np.ndarray:
        """0/1 targets for one sigmoid output (binary cross-entropy), float32 ``(n, 1)``.

        Class index 1 (the second class name) is the positive class.

        Raises
        ------
        DatasetError
            Unless the dataset has exactly two classes.
        """
        self._require_classification("binary targets")
        if self.n_classes != 2:
            raise DatasetError(
                f"Binary targets need 2 classes but dataset '{self.name}' has "
                f"{self.n_classes}; use a softmax output with (sparse) categorical "
                "cross-entropy."
            )
        return self.y.astype(np.float32)[..., None]  # (n, 1) or (n, time, 1)

    def targets_for(self, loss: str, n_outputs: int | None = None) -> np.ndarray:
        """Targets encoded the way ``loss`` expects them.

        Parameters
        ----------
        loss : str
            An engine loss name: ``"sparse_categorical_crossentropy"`` → int64
            ``(n,)``; ``"categorical_crossentropy"`` → float32 one-hot
            ``(n, n_classes)``; ``"binary_crossentropy"`` → float32 ``(n, 1)``;
            ``"mse"``, ``"mae"``, ``"huber"`` → the regression targets, or for a
            classification dataset 0/1 ``(n, 1)`` when ``n_outputs == 1`` and
            one-hot otherwise.
        n_outputs : int, optional
            Width of the network output, used to choose between ``(n, 1)`` and
            one-hot for regression losses on classes (default: 1 for two classes,
            ``n_classes`` otherwise).

        Raises
        ------
        DatasetError
            For an unknown loss or one that does not fit the task.
        """
        encoding = _LOSS_ENCODINGS.get(loss)
        if encoding is None:
            raise DatasetError(
                f"Unknown loss {loss!r} for dataset targets; valid losses are "
                f"{', '.join(_LOSS_ENCODINGS)}."
            )
        if encoding == "value":
            if self.task == REGRESSION:
                return self.y
            if n_outputs is None:
                n_outputs = 1 if self.n_classes == 2 else self.n_classes
            return self.binary_targets() if n_outputs == 1 else self.one_hot()
        if self.task == REGRESSION:
            raise DatasetError(
                f"Loss '{loss}' needs class labels but dataset '{self.name}' is a "
                "regression dataset; use mse, mae or huber."
            )
        if encoding == "sparse":
            return self.y
        return self.one_hot() if encoding == "one_hot" else self.binary_targets()

    # --- subsets and splits -----------------------------------------------------
    def subset(
        self, indices: np.ndarray | Sequence[int], name: str | None = None
    ) -> Dataset:
        """A new dataset holding the samples at ``indices`` (copies of the arrays).

        The subset keeps class names (even of classes it does not contain) so label
        indices mean the same thing; its ``source`` is empty.
        """
        idx = np.asarray(indices, dtype=np.int64)
        return replace(
            self,
            x=self.x[idx],
            y=self.y[idx],
            name=self.name if name is None else name,
            source="",
            notes=list(self.notes),
        )

    def with_x(self, x: np.ndarray) -> Dataset:
        """The same dataset with new features of the same sample count (e.g. scaled)."""
        if len(x) != len(self):
            raise DatasetError(
                f"New features for dataset '{self.name}' have {len(x)} rows, "
                f"expected {len(self)}."
            )
        return replace(self, x=x, notes=list(self.notes))

    def split(
        self, val: float = 0.2, test: float = 0.0, seed: int = 0, stratify: bool = True
    ) -> Splits:
        """Shuffle and split into training, validation and test parts.

        Parameters
        ----------
        val, test : float
            Fractions of the samples for validation and test, each in ``[0, 1)``
            with ``val + test < 1``; 0 means no such part (None in the result).
        seed : int
            Seed of the shuffle; the same seed gives the same split.
        stratify : bool
            For classification, keep the class proportions in every part (each
            class is split on its own and its leftovers go where the overall sizes
            need them). Ignored for regression.

        Returns
        -------
        Splits
            ``train``, ``val`` and ``test`` datasets; together they hold every
            sample exactly once. The part sizes are ``round(n * val)`` and
            ``round(n * test)``; a non-zero fraction gets at least one sample.

        Raises
        ------
        DatasetError
            For fractions out of range or too few samples to split.
        """
        train_idx, val_idx, test_idx = self.split_indices(val, test, seed, stratify)
        parts = {"train": train_idx, "val": val_idx, "test": test_idx}
        return Splits(
            **{
                key: self.subset(idx, f"{self.name} ({key})") if len(idx) else None
                for key, idx in parts.items()
            }
        )

    def split_indices(
        self, val: float = 0.2, test: float = 0.0, seed: int = 0, stratify: bool = True
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The sample indices of the parts :meth:`split` makes, without copying data.

        Parameters are those of :meth:`split`.

        Returns
        -------
        (train, val, test) : tuple of np.ndarray
            int64 indices into this dataset, in the order :meth:`split` puts the
            samples; a part that is not asked for is empty.

        Raises
        ------
        DatasetError
            For fractions out of range or too few samples to split.
        """
        n_val, n_test = _part_sizes(len(self), val, test, self.name)
        rng = np.random.default_rng(seed)
        if stratify and self.task == CLASSIFICATION and self.y.ndim == 1:
            parts = _stratified_indices(self.y, (n_val, n_test), rng)
        else:
            order = rng.permutation(len(self))
            parts = [order[:n_val], order[n_val : n_val + n_test]]
            parts.append(order[n_val + n_test :])
        val_idx, test_idx, train_idx = (np.asarray(p, dtype=np.int64) for p in parts)
        return train_idx, val_idx, test_idx

    def _require_classification(self, what: str) -> None:
        if self.task != CLASSIFICATION:
            raise DatasetError(
                f"Dataset '{self.name}' is a regression dataset and has no {what}."
            )


@dataclass(eq=False)
class Splits:
    """Training, validation and test parts of one dataset (val/test may be None)."""

    train: Dataset
    val: Dataset | None = None
    test: Dataset | None = None

    def parts(self) -> dict[str, Dataset]:
        """The parts that exist, keyed ``"train"``, ``"val"``, ``"test"``."""
        named = {"train": self.train, "val": self.val, "test": self.test}
        return {k: v for k, v in named.items() if v is not None}

    def scale(
        self, method: str = "standard", axis: str = "feature"
    ) -> tuple[Splits, Scaler]:
        """Fit a :class:`Scaler` on the training part only and apply it to every part.

        Returns
        -------
        (Splits, Scaler)
            Scaled copies and the fitted scaler (store ``scaler.to_dict()`` with the
            network so raw inputs can be scaled the same way later).
        """
        from .preprocess import Scaler

        scaler = Scaler(method, axis=axis).fit(self.train.x)
        scaled = {k: d.with_x(scaler.transform(d.x)) for k, d in self.parts().items()}
        return Splits(**scaled), scaler


# --- files -------------------------------------------------------------------------
# Errors of os.stat that mean "there is no such file here", including names the
# file system refuses outright (a 10,000-character name is ENAMETOOLONG, not a
# crash); anything else (no permission) is a file that cannot be read.
_NO_SUCH_FILE = (errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG, errno.ELOOP)


def stat_path(path: Path, where: str) -> os.stat_result | None:
    """``os.stat(path)``, or None when there is no such file (or no such name).

    Parameters
    ----------
    path : Path
    where : str
        How the message names the path ("Dataset file data/x.npz").

    Raises
    ------
    DatasetError
        When the path exists but cannot be examined (no permission).
    """
    try:
        return os.stat(path)
    except (OSError, ValueError) as exc:  # ValueError: an embedded NUL byte
        if isinstance(exc, ValueError) or exc.errno in _NO_SUCH_FILE:
            return None
        raise DatasetError(f"{where} cannot be read: {exc.strerror or exc}.") from None


# --- validation helpers --------------------------------------------------------
def class_names_from_labels(y: np.ndarray, name: str) -> list[str]:
    """The default class names ``"0" .. str(max label)`` that labels ``y`` imply.

    For readers whose parts share classes (an archive's train and test labels), so
    every part gets the same names.

    Raises
    ------
    DatasetError
        For labels that are not whole numbers, are negative, or imply more classes
        than there are labels or than ``MAX_CLASSES``.
    """
    return _as_labels(y, None, name)[1]


def _as_features(x: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise DatasetError(
            f"Dataset '{name}' features have dtype {arr.dtype}; numbers are needed."
        )
    if arr.ndim == 0:
        raise DatasetError(f"Dataset '{name}' features are a single number, not rows.")
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.dtype == np.float32:
        # Kept as it is, strides too: windows over a series or a text are views of
        # it (numpy.lib.stride_tricks), and a copy would multiply its size by the
        # window length.
        _check_finite(arr, name)
        return arr
    # float32 overflow (e.g. 1e40 from a float64 file) becomes inf here and is
    # reported below with its index, so NumPy's warning would only repeat it.
    with np.errstate(over="ignore"):
        arr = np.ascontiguousarray(arr, dtype=np.float32)
    _check_finite(arr, name)
    return arr


def _check_finite(arr: np.ndarray, name: str) -> None:
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise DatasetError(
            f"Dataset '{name}' features hold NaN or Inf (or a value too large for "
            f"float32), first at index {tuple(int(i) for i in bad)}."
        )


def _checked_vocabulary(vocabulary: Sequence[str], name: str) -> list[str]:
    tokens = list(vocabulary)
    if not tokens or not all(isinstance(t, str) for t in tokens):
        raise DatasetError(
            f"Dataset '{name}' has a vocabulary that is not a non-empty list of text."
        )
    if len(set(tokens)) != len(tokens):
        raise DatasetError(f"Dataset '{name}' has a vocabulary with repeated tokens.")
    return tokens


def _as_labels(
    y: np.ndarray, class_names: Sequence[str] | None, name: str
) -> tuple[np.ndarray, list[str]]:
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim not in (1, 2):
        raise DatasetError(
            f"Dataset '{name}' class labels have shape {arr.shape}; one label per "
            "sample (n,) or per time step (n, time) is needed."
        )
    shape = arr.shape
    arr = arr.reshape(-1)  # labels per time step are checked as one run (flat index)
    if arr.dtype.kind == "f":
        finite = np.isfinite(arr)
        if not finite.all() or np.any(arr != np.round(arr)):
            bad = int(np.argmax(~finite | (arr != np.round(np.where(finite, arr, 0)))))
            raise DatasetError(
                f"Dataset '{name}' class label at index {bad} is {arr[bad]!r}, "
                "not a whole number."
            )
    elif arr.dtype.kind not in "biu":
        raise DatasetError(
            f"Dataset '{name}' class labels have dtype {arr.dtype}; integers are needed."
        )
    if class_names is not None:
        names = _checked_names(class_names, name)
        _check_label_range(arr, len(names), name)
    else:
        names = [str(i) for i in range(_inferred_class_count(arr, name))]
    # The range is checked, so the cast can neither wrap (uint64) nor be undefined
    # (floats beyond int64).
    return arr.astype(np.int64).reshape(shape), names


def _checked_names(class_names: Sequence[str], name: str) -> list[str]:
    if len(class_names) > MAX_CLASSES:
        raise DatasetError(
            f"Dataset '{name}' has {len(class_names):,} class names; nndesk reads at "
            f"most {MAX_CLASSES:,} classes."
        )
    names = [str(s) for s in class_names]
    if len(names) == 0:
        raise DatasetError(f"Dataset '{name}' has an empty list of class names.")
    return names


def _check_label_range(arr: np.ndarray, n_classes: int, name: str) -> None:
    """Refuse the first label outside ``0 .. n_classes - 1``."""
    if arr.size == 0:
        return
    bad_mask = (arr < 0) | (arr >= n_classes)
    if bad_mask.any():
        bad = int(np.argmax(bad_mask))
        raise DatasetError(
            f"Dataset '{name}' class label at index {bad} is {_label_text(arr[bad])}, "
            f"outside 0..{n_classes - 1} for {n_classes} classes."
        )


def _inferred_class_count(arr: np.ndarray, name: str) -> int:
    """The class count labels imply without names: the largest label + 1.

    Checked against the sample count and ``MAX_CLASSES`` before any list is sized
    by it (an NPZ label of 2**62 once asked for a list of 2**62 names).
    """
    if arr.size == 0:
        return 1
    low = int(np.argmin(arr))
    if arr[low] < 0:
        raise DatasetError(
            f"Dataset '{name}' class label at index {low} is "
            f"{_label_text(arr[low])}; class labels are indices from 0."
        )
    top = int(np.argmax(arr))
    count = int(arr[top]) + 1
    cap = min(MAX_CLASSES, len(arr))
    if count > cap:
        why = (
            f"nndesk reads at most {MAX_CLASSES:,} classes"
            if count > MAX_CLASSES
            else f"there are only {len(arr):,} samples, and a dataset has no more "
            "classes than samples"
        )
        raise DatasetError(
            f"Dataset '{name}' class label at index {top} is "
            f"{_label_text(arr[top])}, which implies {count:,} classes, but {why}; "
            "store class names with the data if the labels are right."
        )
    return max(count, 1)


def _label_text(value: np.generic) -> str:
    """A label as the user wrote it: ``3`` for 3.0, ``-1`` for int64(-1)."""
    number = float(value) if np.asarray(value).dtype.kind == "f" else int(value)
    if isinstance(number, float) and number.is_integer() and abs(number) < 2**63:
        return str(int(number))
    return str(number)


def _as_regression_targets(y: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(y)
    if arr.dtype.kind not in "biuf":
        raise DatasetError(
            f"Dataset '{name}' regression targets have dtype {arr.dtype}; numbers are "
            "needed."
        )
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise DatasetError(
            f"Dataset '{name}' regression targets have shape {arr.shape}; (n, k) is "
            "needed."
        )
    with np.errstate(over="ignore"):
        arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise DatasetError(
            f"Dataset '{name}' regression targets hold NaN or Inf (or a value too "
            f"large for float32), first at index "
            f"{tuple(int(i) for i in bad)}."
        )
    return arr


def _part_sizes(n: int, val: float, test: float, name: str) -> tuple[int, int]:
    for label, frac in (("val", val), ("test", test)):
        if not (0.0 <= float(frac) < 1.0):
            raise DatasetError(
                f"Split fraction {label}={frac} for dataset '{name}' must be in [0, 1)."
            )
    if val + test >= 1.0:
        raise DatasetError(
            f"Split fractions val={val} and test={test} for dataset '{name}' leave "
            "nothing to train on; their sum must be below 1."
        )
    n_val = max(int(round(n * val)), 1 if val > 0 else 0)
    n_test = max(int(round(n * test)), 1 if test > 0 else 0)
    if n - n_val - n_test < 1:
        raise DatasetError(
            f"Dataset '{name}' has only {n} samples, too few for val={val} and "
            f"test={test} with at least one training sample."
        )
    return n_val, n_test


def _stratified_indices(
    labels: np.ndarray, sizes: tuple[int, ...], rng: np.random.Generator
) -> list[np.ndarray]:
    """Split indices into ``len(sizes)`` parts of exactly ``sizes`` plus the rest.

    Each class contributes its proportional share, rounded down; the parts' missing
    samples then go to the classes with the largest fractional remainders (the
    largest-remainder method), so the totals are exact and the proportions as close
    as whole samples allow.
    """
    n = len(labels)
    classes = np.unique(labels)
    members = [rng.permutation(np.flatnonzero(labels == c)) for c in classes]
    counts = np.array([len(m) for m in members])
    take = np.zeros((len(sizes), len(classes)), dtype=np.int64)
    left = counts.copy()
    for p, size in enumerate(sizes):
        exact = counts * (size / n)
        share = np.minimum(np.floor(exact).astype(np.int64), left)
        missing = size - int(share.sum())
        # Prefer large remainders; ties go to the class with more samples left. A
        # second round is only needed when exhausted classes refused their share.
        order = np.lexsort((-left, -(exact - np.floor(exact))))
        while missing > 0:
            for c in order:
                if missing > 0 and left[c] - share[c] > 0:
                    share[c] += 1
                    missing -= 1
        take[p] = share
        left -= share
    parts: list[list[np.ndarray]] = [[] for _ in range(len(sizes) + 1)]
    for c, idx in enumerate(members):
        start = 0
        for p in range(len(sizes)):
            parts[p].append(idx[start : start + take[p, c]])
            start += int(take[p, c])
        parts[-1].append(idx[start:])
    # Shuffle inside each part so classes are interleaved, not in blocks.
    return [rng.permutation(np.concatenate(p)) for p in parts]
