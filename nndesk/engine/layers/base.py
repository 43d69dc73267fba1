"""The Layer contract every engine layer follows.

Shapes named here exclude the batch dimension: a Dense layer on a ``(batch, 784)``
tensor has the per-sample input shape ``(784,)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from ..errors import ConfigError, ShapeError

Shape = tuple[int, ...]


class Layer:
    """Base class: config in the constructor, parameters from ``build``.

    Lifecycle: ``__init__`` stores configuration only; ``build(input_shapes, rng)``
    creates the parameters (``self.params``, float32 unless built otherwise);
    ``self.state`` holds non-trainable buffers (running statistics);
    ``forward(inputs, training)`` computes the output and caches what ``backward``
    needs; ``backward(dy)`` returns one input gradient per input and fills
    ``self.grads`` (same keys and shapes as ``self.params``).

    Single-input layers receive and return one-element lists, so the model treats
    every layer alike; ``min_inputs``/``max_inputs`` say how many inputs fit
    (``max_inputs = None`` for any number, as in Add and Concatenate).
    """

    type_name: ClassVar[str] = "Layer"
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int | None] = 1

    def __init__(self, name: str | None = None) -> None:
        self.name = name
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        # Non-trainable buffers saved with the weights (BatchNorm running stats).
        self.state: dict[str, np.ndarray] = {}
        self.rng: np.random.Generator | None = None
        self.input_shapes: list[Shape] | None = None
        self.dtype: np.dtype = np.dtype(np.float32)
        self.built = False

    # --- shape rules (pure) --------------------------------------------------
    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        """Per-sample output shape for these per-sample input shapes.

        Raises
        ------
        ShapeError
            When the inputs do not fit; the message names the layer and shapes.
        """
        raise NotImplementedError

    def param_shapes(self, input_shapes: Sequence[Shape]) -> dict[str, Shape]:
        """Shapes of the trainable parameters this layer would create."""
        return {}

    def param_count(self, input_shapes: Sequence[Shape]) -> int:
        """Number of trainable scalars for these input shapes."""
        return sum(int(np.prod(s)) for s in self.param_shapes(input_shapes).values())

    # --- lifecycle -----------------------------------------------------------
    def build(
        self,
        input_shapes: Sequence[Shape],
        rng: np.random.Generator,
        dtype: np.dtype | type = np.float32,
    ) -> None:
        """Validate input shapes and create parameters drawn from ``rng``."""
        shapes = [tuple(int(d) for d in s) for s in input_shapes]
        self.check_input_count(len(shapes))
        self.output_shape(shapes)  # raises ShapeError early
        self.input_shapes = shapes
        self.dtype = np.dtype(dtype)
        self.rng = rng  # layers that draw at run time (Dropout) use the model's rng
        self.params = {
            k: v.astype(self.dtype, copy=False)
            for k, v in self.init_params(shapes, rng).items()
        }
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.built = True

    def init_params(
        self, input_shapes: Sequence[Shape], rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """Fresh parameter arrays; layers without parameters return ``{}``."""
        return {}

    def forward(self, inputs: Sequence[np.ndarray], training: bool) -> np.ndarray:
        """Output for a batch; ``inputs`` holds one array per input port."""
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> list[np.ndarray]:
        """Input gradients (one per input) for output gradient ``dy``."""
        raise NotImplementedError

    # --- config --------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """JSON-compatible constructor arguments (``name`` included)."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        return cls(**config)

    # --- helpers ---------------------------------------------------------------
    @property
    def label(self) -> str:
        """How messages refer to this layer: ``Dense 'dense_3'``."""
        return f"{self.type_name} '{self.name}'" if self.name else self.type_name

    def check_input_count(self, n: int) -> None:
        hi = self.max_inputs
        if n < self.min_inputs or (hi is not None and n > hi):
            want = (
                str(self.min_inputs)
                if hi == self.min_inputs
                else f"at least {self.min_inputs}"
                if hi is None
                else f"{self.min_inputs} to {hi}"
            )
            raise ShapeError(f"{self.label} takes {want} input(s) but receives {n}.")

    def shape_error(self, detail: str) -> ShapeError:
        return ShapeError(f"{self.label} {detail}")

    def config_error(self, detail: str) -> ConfigError:
        return ConfigError(f"{self.label}: {detail}")
