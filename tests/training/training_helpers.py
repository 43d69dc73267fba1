"""Helpers for the training tests: small networks, their data, a threaded run."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nndesk.document import Document
from nndesk.training.compile import CompiledNetwork, compile_network
from nndesk.training.data import PreparedData, load_settings_dataset, prepare_data

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"


def chain_document(
    layers: Sequence[tuple[str, Mapping[str, Any]]],
    loss: str,
    input_shape: tuple[int, ...] = (2,),
    **settings: Any,
) -> Document:
    """Input -> ``layers`` in a chain -> Output(loss), with these settings."""
    doc = Document(settings)
    prev = doc.add_node("Input", {"shape": input_shape})
    for i, (type_name, params) in enumerate(layers):
        node = doc.add_node(type_name, params, pos=(200.0 * (i + 1), 0.0))
        doc.connect(prev, "out", node, "in")
        prev = node
    out = doc.add_node("Output", {"loss": loss}, pos=(200.0 * (len(layers) + 1), 0.0))
    doc.connect(prev, "out", out, "in")
    return doc


def spiral_document(**settings: Any) -> Document:
    """A small 2-8-8-1 tanh classifier on a 200-point spiral (10 batches/epoch)."""
    base: dict[str, Any] = {
        "dataset": "spiral:n=200,noise=0.1",
        "learning_rate": 0.01,
        "batch_size": 16,
        "epochs": 3,
        "metrics": ("accuracy",),
        "validation_split": 0.2,
    }
    base.update(settings)
    return chain_document(
        [
            ("Dense", {"units": 8, "activation": "tanh"}),
            ("Dense", {"units": 8, "activation": "tanh"}),
            ("Dense", {"units": 1, "activation": "sigmoid"}),
        ],
        "binary_crossentropy",
        **base,
    )


def compiled_with_data(doc: Document) -> tuple[CompiledNetwork, PreparedData]:
    """Compile ``doc`` and prepare the dataset its settings name."""
    net = compile_network(doc)
    data = prepare_data(net, load_settings_dataset(net.settings))
    return net, data


class Runner:
    """Runs a callable in a thread and collects its result or exception."""

    def __init__(self, fn: Any) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self._thread.start()

    def _run(self, fn: Any) -> None:
        try:
            self.result = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            self.error = exc

    def join(self, timeout: float = 30.0) -> Any:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the training thread did not finish"
        if self.error is not None:
            raise self.error
        return self.result
