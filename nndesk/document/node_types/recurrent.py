"""Node types of the Recurrent category: Embedding, SimpleRNN, LSTM and GRU.

Their engine classes are ``nndesk.engine.layers.recurrent`` and ``.embedding``;
sequences are ``(time, features)`` per sample, so edges show both axes.
"""

from __future__ import annotations

from ...engine.layers.recurrent import RNN_ACTIVATIONS
from ..params import ParamSpec
from .spec import CategorySpec, NodeSpec, initializer_param, layer_spec

CATEGORIES = (CategorySpec("Recurrent", after="Core"),)


def _units() -> ParamSpec:
    return ParamSpec(
        "units",
        "int",
        32,
        min=1,
        max=100_000,
        help="Size of the hidden state (per direction).",
    )


def _recurrent_params() -> tuple[ParamSpec, ...]:
    """What every recurrent node has after its units (and activation)."""
    return (
        ParamSpec(
            "return_sequences",
            "bool",
            False,
            help="Output the hidden state of every time step, (time, units), for "
            "a recurrent or per-step layer after this one; off outputs only the "
            "final state, (units,).",
        ),
        ParamSpec(
            "bidirectional",
            "bool",
            False,
            help="Also read the sequence backwards with a second set of weights "
            "and put both states side by side (2 × units features).",
        ),
        ParamSpec("use_bias", "bool", True, help="Add the learned biases."),
        initializer_param("kernel_initializer", "glorot_uniform", "input weights"),
        initializer_param(
            "recurrent_initializer", "glorot_uniform", "recurrent weights"
        ),
        initializer_param("bias_initializer", "zeros", "biases"),
    )


NODE_TYPES: list[NodeSpec] = [
    layer_spec(
        "Embedding",
        "Recurrent",
        "Turns integer token ids into learned vectors: each id in [0, input_dim) "
        "picks one row of a table of output_dim values. Feed it from an Input "
        "of dtype int.",
        (
            ParamSpec(
                "input_dim",
                "int",
                100,
                min=1,
                max=10_000_000,
                help="Vocabulary size: ids run from 0 to input_dim − 1.",
            ),
            ParamSpec(
                "output_dim",
                "int",
                16,
                min=1,
                max=100_000,
                help="Length of each token's vector.",
            ),
            initializer_param("embeddings_initializer", "glorot_uniform", "table"),
        ),
        key_params=("input_dim", "output_dim"),
    ),
    layer_spec(
        "SimpleRNN",
        "Recurrent",
        "Plain recurrent layer (torch.nn.RNN): the new state is the activation of "
        "the input and the previous state, each through its own weights. Needs "
        "(time, features) sequences.",
        (
            _units(),
            ParamSpec(
                "activation",
                "choice",
                "tanh",
                choices=RNN_ACTIVATIONS,
                help="Non-linearity of the state: tanh or relu.",
            ),
            *_recurrent_params(),
        ),
        key_params=("units", "activation"),
        title="Simple RNN",
    ),
    layer_spec(
        "LSTM",
        "Recurrent",
        "Long short-term memory (torch.nn.LSTM): input, forget and output gates "
        "decide what a cell state keeps over time. Needs (time, features) "
        "sequences.",
        (_units(), *_recurrent_params()),
        key_params=("units",),
    ),
    layer_spec(
        "GRU",
        "Recurrent",
        "Gated recurrent unit (torch.nn.GRU): reset and update gates mix the "
        "previous state with a new candidate. Needs (time, features) sequences.",
        (_units(), *_recurrent_params()),
        key_params=("units",),
    ),
]
