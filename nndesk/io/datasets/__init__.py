"""Datasets: toy generators, CSV/NPZ/IDX readers, splits, scaling and spec strings.

Everything here returns a :class:`Dataset` (float32 features, int64 class labels
or float32 regression targets); every failure is a
:class:`~nndesk.io.errors.DatasetError` with a one-sentence message.
"""

from __future__ import annotations

from ..errors import DatasetError
from .base import CLASSIFICATION, REGRESSION, TASKS, Dataset, Splits
from .csv_reader import read_csv
from .idx import (
    DIGIT_CLASSES,
    FASHION_CLASSES,
    load_idx,
    read_idx_file,
    write_idx_file,
)
from .npz_reader import read_npz, save_npz
from .preprocess import SCALING_AXES, SCALING_METHODS, Scaler
from .spec import data_search_path, format_spec, load_dataset, parse_spec
from .toy import GENERATORS, GeneratorSpec, ParamSpec, generate, register_generator

# Modules of generators register theirs with GENERATORS when imported.
from . import sequences  # noqa: E402,F401  isort: skip
from . import seq_tasks  # noqa: E402,F401  isort: skip
from .generative import (  # noqa: E402  isort: skip
    Mixture,
    ModeCoverage,
    mixture_of,
    mode_coverage,
)

__all__ = [
    "CLASSIFICATION",
    "DIGIT_CLASSES",
    "FASHION_CLASSES",
    "GENERATORS",
    "REGRESSION",
    "SCALING_AXES",
    "SCALING_METHODS",
    "TASKS",
    "Dataset",
    "DatasetError",
    "GeneratorSpec",
    "Mixture",
    "ModeCoverage",
    "ParamSpec",
    "Scaler",
    "Splits",
    "data_search_path",
    "format_spec",
    "generate",
    "load_dataset",
    "load_idx",
    "mixture_of",
    "mode_coverage",
    "parse_spec",
    "read_csv",
    "read_idx_file",
    "read_npz",
    "register_generator",
    "save_npz",
    "write_idx_file",
]
