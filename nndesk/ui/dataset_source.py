"""Loads the dataset a document's settings name, remembering the last one loaded."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nndesk.io.datasets import Dataset, load_dataset

log = logging.getLogger(__name__)


def dataset_key(settings: Mapping[str, Any], base_dir: Path | None) -> tuple[Any, ...]:
    """What decides which dataset the settings name (spec, target, seed, folder)."""
    return (
        settings.get("dataset", ""),
        settings.get("dataset_target", ""),
        settings.get("seed", 0),
        str(base_dir) if base_dir is not None else None,
    )


class DatasetSource:
    """Makes or reads the dataset of a network, reusing the last one when unchanged.

    Generators are seeded with the network's ``seed`` setting (unless the spec has
    its own ``seed=``), so the data shown is the data trained on.
    """

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self._dataset: Dataset | None = None

    @property
    def dataset(self) -> Dataset | None:
        """The last dataset loaded."""
        return self._dataset

    def load(
        self, settings: Mapping[str, Any], base_dir: Path | None
    ) -> Dataset | None:
        """The dataset the settings name; None when none is chosen.

        Raises
        ------
        nndesk.io.errors.DatasetError
            When it cannot be made or read (one sentence naming file or option).
        """
        key = dataset_key(settings, base_dir)
        if key == self._key:
            return self._dataset
        spec = str(settings.get("dataset", "")).strip()
        dataset: Dataset | None = None
        if spec:
            target = str(settings.get("dataset_target", "")).strip() or None
            target_arg: str | int | None = target
            if target is not None and target.lstrip("-").isdigit():
                target_arg = int(target)
            dataset = load_dataset(
                spec,
                target=target_arg,
                seed=int(settings.get("seed", 0)),
                base_dir=base_dir,
            )
            log.info("loaded dataset %s", dataset.source)
        self._key = key
        self._dataset = dataset
        return dataset

    def clear(self) -> None:
        """Forget the cached dataset."""
        self._key = None
        self._dataset = None
