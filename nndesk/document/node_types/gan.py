"""The Noise node: where a generative adversarial network's generator starts.

A document with a Noise node is a GAN (docs/gan.md): the nodes downstream of the
Noise node are the generator, whose last node (the one with no successor) makes
a sample; the data Input and the nodes from it to the Output are the
discriminator, which scores a sample as real or fake. The Noise node also holds
the GAN's training setup (its loss, the discriminator steps per generator step,
the two learning rates and the Wasserstein clip), so selecting it shows the
whole setup in the inspector and undo, files and copy-paste carry it like any
parameter. The engine layer it builds is a plain ``Input`` of the noise shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...engine.layers import Layer
from ...engine.layers.core import Input
from ..params import ParamSpec
from .spec import OUT, NodeSpec

NOISE_DISTRIBUTIONS: tuple[str, ...] = ("normal", "uniform")
"""How noise is drawn: standard normal, or uniform on [-1, 1]."""

GAN_LOSSES: tuple[str, ...] = ("standard", "least_squares", "wasserstein")
"""The GAN losses: non-saturating (standard), least squares, Wasserstein with
weight clipping."""

# The parameters that are the GAN's training setup rather than the noise itself.
GAN_SETUP_PARAMS: tuple[str, ...] = (
    "gan_loss",
    "d_steps",
    "generator_lr",
    "discriminator_lr",
    "clip_value",
)


@dataclass(frozen=True, eq=False)
class NoiseSpec(NodeSpec):
    """The Noise node's entry: it builds an engine ``Input`` of its ``shape``
    (the other parameters are the GAN's setup, read by ``nndesk.training.gan``)."""

    def build_layer(self, params: Mapping[str, Any], name: str) -> Layer | None:
        checked = self.check_params(params, f"{self.title} '{name}'")
        return Input(tuple(checked["shape"]), name=name)

    def __hash__(self) -> int:
        return hash(self.type_name)


def _key_text(params: Mapping[str, Any]) -> str:
    shape = params["shape"]
    dims = "×".join(str(d) for d in shape)
    return f"{dims} · {params['distribution']} · {params['gan_loss']}"


NODE_TYPES: list[NodeSpec] = [
    NoiseSpec(
        type_name="Noise",
        title="Noise",
        category="Input",
        description="Where a GAN's generator starts: random vectors of this shape, "
        "drawn anew for every batch. A network with a Noise node trains as a GAN: "
        "the layers after it are the generator, the data Input and the layers to "
        "the Output are the discriminator; the GAN's loss and steps are set here.",
        inputs=(),
        outputs=(OUT,),
        params=(
            ParamSpec(
                "shape",
                "shape",
                (2,),
                label="noise shape",
                help="Shape of one noise sample, e.g. (2,) for the 2-D picture or "
                "(64,) for images; its size is the noise dimension.",
            ),
            ParamSpec(
                "distribution",
                "choice",
                "normal",
                choices=NOISE_DISTRIBUTIONS,
                help="normal: standard normal values; uniform: uniform on [-1, 1].",
            ),
            ParamSpec(
                "gan_loss",
                "choice",
                "standard",
                label="GAN loss",
                choices=GAN_LOSSES,
                help="standard: the non-saturating loss (the discriminator ends in "
                "a sigmoid); least_squares: squared distance to 1 (real) and 0 "
                "(fake); wasserstein: a linear critic with clipped weights.",
            ),
            ParamSpec(
                "d_steps",
                "int",
                1,
                min=1,
                max=100,
                label="D steps per G step",
                help="Discriminator updates (one batch of data each) per generator "
                "update; 5 is usual for wasserstein.",
            ),
            ParamSpec(
                "generator_lr",
                "float",
                None,
                min=0.0,
                min_inclusive=False,
                max=10.0,
                optional=True,
                label="generator learning rate",
                help="The generator optimizer's step size; empty: the network "
                "settings' learning rate.",
            ),
            ParamSpec(
                "discriminator_lr",
                "float",
                None,
                min=0.0,
                min_inclusive=False,
                max=10.0,
                optional=True,
                label="discriminator learning rate",
                help="The discriminator optimizer's step size; empty: the network "
                "settings' learning rate.",
            ),
            ParamSpec(
                "clip_value",
                "float",
                0.01,
                min=0.0,
                min_inclusive=False,
                help="wasserstein only: after each discriminator step its weights "
                "are clipped to [-clip, clip].",
            ),
        ),
        layer_type="Input",
        key_text=_key_text,
        id_prefix="noise",
        min_inputs=0,
        max_inputs=0,
    ),
]
