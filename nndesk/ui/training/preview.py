"""A GUI-thread copy of the network to look at while no worker trains it (no Qt here).

Between runs (and while a run is paused) the panels still answer questions: the
network view shows the current weights, the activations panel follows the chosen
sample, Evaluate scores the model, and ``predict`` answers tests and scripts. The
preview compiles the document itself, loads the kept weights into it, and keeps
the prepared data (split, scaled, encoded) so a worker can share it read-only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from nndesk.document.graph import Snapshot
from nndesk.engine.errors import ConfigError
from nndesk.io.datasets import Dataset
from nndesk.training.compile import CompiledNetwork, compile_network, transfer_weights
from nndesk.training.data import PreparedData, prepare_data, scale_inputs

from .probes import (
    Evaluation,
    ModelInfo,
    Prober,
    ProbeResult,
    describe_network,
    evaluate_model,
)

log = logging.getLogger(__name__)

__all__ = ["Preview"]

# Settings that change how the data is split, scaled or encoded.
_DATA_SETTINGS = ("validation_split", "seed", "scaling")


class Preview:
    """The network compiled in the GUI thread, with its prepared data and a prober.

    Attributes
    ----------
    net : CompiledNetwork or None
        The last network that compiled.
    data : PreparedData or None
        Its prepared data.
    info : ModelInfo or None
        Its columns, for the panels.
    """

    def __init__(self) -> None:
        self.net: CompiledNetwork | None = None
        self.data: PreparedData | None = None
        self.info: ModelInfo | None = None
        self.prober: Prober | None = None
        self._data_key: tuple[Any, ...] | None = None
        self._source: tuple[Any, Any, Any] | None = None

    def update(
        self,
        snapshot: Snapshot,
        dataset: Dataset,
        weights: Mapping[str, np.ndarray] | None,
        preprocessing: Mapping[str, Any] | None,
    ) -> None:
        """Compile ``snapshot``, load ``weights`` (by node id) and prepare the data.

        Raises
        ------
        NNDeskError
            When the network does not compile or the data does not fit it; the
            previous state is kept then.
        """
        if self._is_current(snapshot, dataset, weights, preprocessing):
            return
        net = compile_network(snapshot, dataset=dataset)
        if weights:
            transfer_weights(weights, net.model)
        data = self.prepared(net, dataset, preprocessing)
        info = describe_network(net, dataset)
        prober = Prober(
            net.model,
            info,
            data.x_train,
            data.y_train,
            seed=int(snapshot.settings["seed"]),
        )
        self.net, self.data, self.info, self.prober = net, data, info, prober
        self._source = (dataset, weights, preprocessing)

    def _is_current(
        self,
        snapshot: Snapshot,
        dataset: Dataset,
        weights: Mapping[str, np.ndarray] | None,
        preprocessing: Mapping[str, Any] | None,
    ) -> bool:
        """Whether the preview already shows exactly this (nothing to recompile)."""
        if self.net is None or self._source is None:
            return False
        old_dataset, old_weights, old_preprocessing = self._source
        return (
            old_dataset is dataset
            and old_weights is weights
            and old_preprocessing is preprocessing
            and self.net.snapshot.same_content(snapshot)
        )

    def prepared(
        self,
        net: CompiledNetwork,
        dataset: Dataset,
        preprocessing: Mapping[str, Any] | None,
    ) -> PreparedData:
        """The data prepared for ``net``, reused while nothing it depends on changed."""
        settings = net.settings
        key = (
            id(dataset),
            net.loss,
            net.output_units,
            *(settings[name] for name in _DATA_SETTINGS),
        )
        cached = self.data
        if (
            cached is not None
            and key == self._data_key
            and cached.dataset is dataset
            and (preprocessing is None or preprocessing == cached.preprocessing)
        ):
            return cached
        data = prepare_data(net, dataset, preprocessing=preprocessing)
        self._data_key = key
        return data

    def set_weights(self, weights: Mapping[str, np.ndarray]) -> None:
        """Load ``weights`` (by node id) into the preview model."""
        if self.net is not None and weights:
            transfer_weights(weights, self.net.model)
            self._source = None  # no longer the weights it was built with

    def clear(self) -> None:
        """Forget the network and the data."""
        self.forget_weights()
        self.data = None
        self._data_key = None

    def forget_weights(self) -> None:
        """Forget the network (and so its weights); the prepared data stays cached."""
        self.net = self.info = self.prober = None
        self._source = None

    # --- questions -------------------------------------------------------------------------
    def probe(self, sample_index: int, epoch: int) -> ProbeResult | None:
        """A probe of the preview model (None without one); it carries no gradients
        (the preview never trains: the panels keep the last run's)."""
        if self.prober is None:
            return None
        return self.prober.probe(sample_index, epoch, float(epoch), gradients=False)

    def evaluate(self, epoch: int) -> Evaluation | None:
        """Scores on the validation data (training data without a split)."""
        if self.net is None or self.data is None or self.info is None:
            return None
        data = self.data
        if data.x_val is not None and data.y_val is not None:
            x, y, split = data.x_val, data.y_val, "validation"
        else:
            x, y, split = data.x_train, data.y_train, "training"
        return evaluate_model(self.net.model, x, y, self.info, split=split, epoch=epoch)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predictions for raw inputs ``(n, *input_shape)``, scaled as in training.

        Raises
        ------
        ConfigError
            When there is no compiled network to predict with.
        """
        if self.net is None or self.data is None:
            raise ConfigError(
                "There is no network to predict with: fix its problems first."
            )
        scaled = scale_inputs(np.asarray(x), self.data.scaler)
        return np.asarray(self.net.model.predict(scaled))
