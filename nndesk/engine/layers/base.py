"""The Layer contract every engine layer follows, and the symbolic graph call.

Shapes named here exclude the batch dimension: a Dense layer on a ``(batch, 784)``
tensor has the per-sample input shape ``(784,)``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from ..errors import ConfigError, GraphError, ShapeError

Shape = tuple[int, ...]

_MAX_BUFFERS = 64

LAYER_TYPES: dict[str, type[Layer]] = {}
"""Every registered layer class by its ``type_name`` (see ``Layer.__init_subclass__``)."""

_PACKAGE = __name__.rpartition(".")[0]  # nndesk.engine.layers


def format_shape(shape: Sequence[int | None]) -> str:
    """``(28, 28)``, ``(784,)``: how messages print a shape."""
    return str(tuple(shape))


class SymbolicTensor:
    """The output of a layer in a graph under construction (no data).

    ``shape`` is the per-sample shape (no batch axis); ``layer`` made it.
    """

    __slots__ = ("layer", "shape")

    def __init__(self, layer: Layer, shape: Shape) -> None:
        self.layer = layer
        self.shape = shape

    def __repr__(self) -> str:
        dims = "".join(f", {d}" for d in self.shape)
        return f"<SymbolicTensor shape=(None{dims}) from {self.layer.label}>"


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

    Rules the model relies on (they make buffer reuse safe):

    - ``forward`` never modifies its inputs; its output may be an internal buffer
      that the next ``forward`` call overwrites, or a view of an input.
    - ``backward`` never modifies ``dy``; it writes parameter gradients into the
      arrays of ``self.grads`` in place (the model hands those very arrays to the
      optimizer) and may return ``None`` for an input whose gradient is not needed
      (``needs_input_grad`` false, set by the model for layers fed only by data).
    - Layers that end in an activation set ``activation_name`` and implement
      ``backward_from_preactivation(dz)``; when the model sets
      ``keep_preactivation``, ``preactivation`` holds the last pre-activation
      values, so a loss can fuse with the activation.

    Graph building: calling a layer on symbolic tensors (or on layers already in a
    graph, such as an ``Input``) records the edges and returns its output tensor;
    each layer object is used once.

    Registration: a class defined in a module of ``nndesk.engine.layers`` that sets
    its own ``type_name`` registers itself in ``LAYER_TYPES`` (files, the document
    registry and ``from_config`` find it there), so a new layer needs no list
    edited. A class defined elsewhere (a test, user code) registers only when
    declared ``class MyLayer(Layer, register=True)``; ``register=False`` keeps a
    class of the package out.
    """

    type_name: ClassVar[str] = "Layer"
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int | None] = 1
    pass_through: ClassVar[bool] = False
    """True for layers that only move, reshape or drop values (Dropout, Flatten,
    Reshape): the activation before them is still the network's final activation,
    and the network view folds them into their input."""
    needs_integer_input: ClassVar[bool] = False
    """True for layers that read integer ids (Embedding): the editor asks that
    they are fed, through pass-through layers only, by an Input of dtype int."""
    activation_name: str | None = None
    """Canonical name of the activation this layer ends with; None when it ends in
    none (layers with an ``activation`` argument override it)."""

    def __init_subclass__(cls, register: bool | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if register is None:
            module = cls.__module__
            register = "type_name" in cls.__dict__ and (
                module == _PACKAGE or module.startswith(_PACKAGE + ".")
            )
        if register:
            register_layer(cls)

    def __init__(self, name: str | None = None) -> None:
        if name is not None:
            check_name(name, self.type_name)
        self.name = name
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        # Non-trainable buffers saved with the weights (BatchNorm running stats).
        self.state: dict[str, np.ndarray] = {}
        self.rng: np.random.Generator | None = None
        self.input_shapes: list[Shape] | None = None
        self.dtype: np.dtype = np.dtype(np.float32)
        self.built = False
        # Graph: the layers whose outputs feed this one, in port order.
        self.inbound: list[Layer] = []
        self._graph_shape: Shape | None = None
        # Execution hints set by the model.
        self.needs_input_grad = True
        self.keep_preactivation = False
        self._buffers: dict[tuple[str, Shape], np.ndarray] = {}

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

    def state_shapes(self, input_shapes: Sequence[Shape]) -> dict[str, Shape]:
        """Shapes of the non-trainable state this layer would create."""
        return {}

    def param_count(self, input_shapes: Sequence[Shape]) -> int:
        """Number of trainable scalars for these input shapes."""
        return sum(int(np.prod(s)) for s in self.param_shapes(input_shapes).values())

    def state_count(self, input_shapes: Sequence[Shape]) -> int:
        """Number of non-trainable scalars (running statistics)."""
        return sum(int(np.prod(s)) for s in self.state_shapes(input_shapes).values())

    def scratch_size(self, input_shapes: Sequence[Shape], training: bool) -> int:
        """Values per sample of the work arrays this layer keeps besides its input,
        output and gradient buffers (a convolution's im2col columns), in a
        training step or (``training`` false) a forward pass; the memory guard
        counts them. Most layers keep none."""
        return 0

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
        self.state = {
            k: v.astype(self.dtype, copy=False)
            for k, v in self.init_state(shapes).items()
        }
        self._buffers.clear()
        self.built = True

    def init_params(
        self, input_shapes: Sequence[Shape], rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """Fresh parameter arrays; layers without parameters return ``{}``."""
        return {}

    def init_state(self, input_shapes: Sequence[Shape]) -> dict[str, np.ndarray]:
        """Fresh non-trainable state arrays; most layers have none."""
        return {}

    def forward(self, inputs: Sequence[np.ndarray], training: bool) -> np.ndarray:
        """Output for a batch; ``inputs`` holds one array per input port."""
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> list[np.ndarray | None]:
        """Input gradients (one per input) for output gradient ``dy``."""
        raise NotImplementedError

    # --- regularisation (Dense overrides) ----------------------------------------
    @property
    def has_regularization(self) -> bool:
        """True when ``regularization_loss`` can be non-zero."""
        return False

    def regularization_loss(self) -> float:
        """The penalty this layer adds to the training loss."""
        return 0.0

    def add_regularization_grads(self) -> None:
        """Add the penalty's gradient to ``self.grads`` in place."""

    # --- graph building ----------------------------------------------------------
    def __call__(
        self, inputs: SymbolicTensor | Layer | Sequence[SymbolicTensor | Layer]
    ) -> SymbolicTensor:
        """Connect this layer to ``inputs`` and return its symbolic output.

        Raises
        ------
        GraphError
            When this layer is already connected, or an input is not part of a graph.
        ShapeError
            When the input shapes do not fit this layer.
        """
        if self._graph_shape is not None:
            raise GraphError(
                f"{self.label} is already connected; a layer is used once, so "
                "create a new layer for another call."
            )
        items = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        sources = [self._source_of(item) for item in items]
        self.check_input_count(len(sources))
        shape = self.output_shape([s.output.shape for s in sources])
        self.inbound = sources
        self._graph_shape = tuple(shape)
        return SymbolicTensor(self, self._graph_shape)

    def _source_of(self, item: object) -> Layer:
        if isinstance(item, SymbolicTensor):
            return item.layer
        if isinstance(item, Layer) and item._graph_shape is not None:
            return item
        what = item.label if isinstance(item, Layer) else type(item).__name__
        raise GraphError(
            f"{self.label} was called on {what}, which is not the output of a "
            "layer in a graph; start the graph with Input(shape)."
        )

    @property
    def output(self) -> SymbolicTensor:
        """This layer's symbolic output (after it has been connected)."""
        if self._graph_shape is None:
            raise GraphError(f"{self.label} is not connected to a graph yet.")
        return SymbolicTensor(self, self._graph_shape)

    # --- config --------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """JSON-compatible constructor arguments (``name`` included)."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        return cls(**config)

    # --- helpers ---------------------------------------------------------------
    @classmethod
    def name_prefix(cls) -> str:
        """Stem of automatic names: ``BatchNorm`` -> ``batch_norm``, ``Conv2D`` ->
        ``conv2d`` (no break after a digit)."""
        return re.sub(r"(?<!^)(?<![0-9])(?=[A-Z])", "_", cls.type_name).lower()

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

    def _buffer(self, key: str, shape: Shape) -> np.ndarray:
        """A reusable uninitialised array of this shape and the layer's dtype.

        One buffer per (key, shape): full batches and the last partial batch each
        keep theirs, so an epoch allocates nothing after its first two batches.
        """
        buf = self._buffers.get((key, shape))
        if buf is None:
            if len(self._buffers) >= _MAX_BUFFERS:
                self._buffers.clear()
            buf = np.empty(shape, dtype=self.dtype)
            self._buffers[(key, shape)] = buf
        return buf

    def __repr__(self) -> str:
        args = ", ".join(
            f"{k}={v!r}" for k, v in self.get_config().items() if k != "name"
        )
        name = f", name={self.name!r}" if self.name else ""
        return f"{type(self).__name__}({args}{name})"


def register_layer(cls: type[Layer]) -> type[Layer]:
    """Enter ``cls`` in ``LAYER_TYPES`` under its ``type_name``; returns ``cls``.

    Raises
    ------
    RuntimeError
        When another class already holds that ``type_name`` (a programming error:
        type names are saved in files, so each names one class).
    """
    name = cls.type_name
    held = LAYER_TYPES.get(name)
    if held is not None and held is not cls and (
        (held.__module__, held.__qualname__) != (cls.__module__, cls.__qualname__)
    ):
        raise RuntimeError(
            f"Layer type '{name}' is registered twice: by {held.__module__}."
            f"{held.__qualname__} and {cls.__module__}.{cls.__qualname__}."
        )
    LAYER_TYPES[name] = cls
    return cls


def check_name(name: object, type_name: str) -> None:
    """Reject names that cannot be weight-key prefixes (empty, or with '/')."""
    if not isinstance(name, str) or not name.strip() or "/" in name:
        raise ConfigError(
            f"{type_name} name {name!r} is invalid: use a non-empty string without '/'."
        )
