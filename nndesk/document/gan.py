"""A GAN on one canvas: which nodes are the generator, which the discriminator.

A document is a GAN when it holds a Noise node (docs/gan.md). Its two networks
are read off the drawing, with nothing to mark by hand:

- the **generator** is the Noise node and every node downstream of it; it ends in
  one node with no successor, whose output is a generated sample (or in an
  Output node after that layer, which only marks it);
- the **discriminator** is the data Input and the nodes from it to the Output; the
  node feeding the Output gives one score per sample (a real/fake probability
  for the standard loss). The Output node only marks that end: its loss is not
  used, the Noise node's GAN loss is.

``gan_setup`` returns the two node lists and the GAN's settings (held by the
Noise node); ``gan_problems`` says, one sentence per node, what keeps a drawing
from being a GAN that trains (``nndesk.document.validate`` reports them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..engine.layers.base import format_shape
from .shapes import ShapeReport, final_activation
from .view import GraphView

__all__ = ["GanSetup", "gan_problems", "gan_setup", "generator_nodes", "is_gan"]

GanIssue = tuple[str | None, str]
"""A problem of the GAN setup: the node to select (or None) and one sentence."""


@dataclass(frozen=True)
class GanSetup:
    """The two networks of a GAN document and its training setup.

    Attributes
    ----------
    noise_id : str
        The Noise node (the generator's input).
    sample_id : str
        The generator's last layer: its output is a generated sample.
    sample_output_id : str or None
        An Output node after it, when one is drawn (it only marks the sample).
    generator_ids : tuple of str
        The generator's layer nodes in topological order, the Noise node first
        (an Output marking the sample left out).
    input_id : str
        The data Input (the discriminator's input).
    score_id : str
        The node feeding the Output: the discriminator's score of a sample.
    output_id : str
        The Output node that marks the discriminator's end.
    discriminator_ids : tuple of str
        The discriminator's nodes in topological order, the Input first (the
        Output, which builds no layer, left out).
    noise_shape : tuple of int
        Shape of one noise sample.
    distribution : {"normal", "uniform"}
        Standard normal, or uniform on [-1, 1].
    loss : {"standard", "least_squares", "wasserstein"}
    d_steps : int
        Discriminator steps per generator step (k).
    generator_lr, discriminator_lr : float or None
        Learning rates; None: the ``learning_rate`` setting.
    clip_value : float
        Wasserstein weight clipping bound.
    """

    noise_id: str
    sample_id: str
    sample_output_id: str | None
    generator_ids: tuple[str, ...]
    input_id: str
    score_id: str
    output_id: str
    discriminator_ids: tuple[str, ...]
    noise_shape: tuple[int, ...]
    distribution: str
    loss: str
    d_steps: int
    generator_lr: float | None
    discriminator_lr: float | None
    clip_value: float


def is_gan(view: GraphView) -> bool:
    """Whether the document is a GAN (holds a Noise node)."""
    return bool(view.nodes_of_type("Noise"))


def generator_nodes(view: GraphView) -> set[str]:
    """Every node downstream of a Noise node (the Noise nodes included): the
    generator's side of the drawing, its marking Output too."""
    found: set[str] = set()
    for noise in view.nodes_of_type("Noise"):
        found |= _downstream(view, noise.id)
    return found


def _downstream(view: GraphView, start: str) -> set[str]:
    seen = {start}
    stack = [start]
    while stack:
        for nxt in view.successors(stack.pop()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _upstream(view: GraphView, start: str) -> set[str]:
    seen = {start}
    stack = [start]
    while stack:
        for prev in view.predecessors(stack.pop()):
            if prev not in seen:
                seen.add(prev)
                stack.append(prev)
    return seen


def _ordered(view: GraphView, ids: Iterable[str]) -> tuple[str, ...]:
    wanted = set(ids)
    order, _rest = view.partial_order()
    return tuple(n for n in order if n in wanted)


def _structure(view: GraphView) -> tuple[GanSetup | None, list[GanIssue]]:
    issues: list[GanIssue] = []
    noises = view.nodes_of_type("Noise")
    if not noises:
        return None, issues
    if len(noises) > 1:
        issues.append(
            (
                noises[1].id,
                f"The network has {len(noises)} Noise nodes but a GAN has one "
                "generator: remove all but one.",
            )
        )
    noise = noises[0]
    inputs = view.nodes_of_type("Input")
    outputs = view.nodes_of_type("Output")
    if not inputs:
        issues.append(
            (
                None,
                "A GAN needs an Input node for the real data: add one and lead it "
                "through the discriminator's layers to the Output.",
            )
        )
    elif len(inputs) > 1:
        issues.append(
            (
                inputs[1].id,
                f"The network has {len(inputs)} Input nodes but a GAN's "
                "discriminator reads one dataset: remove all but one.",
            )
        )
    generator = _downstream(view, noise.id)
    if not outputs or not inputs:
        return None, issues
    data = inputs[0]
    real_side = _downstream(view, data.id)
    for out in outputs:
        if out.id in generator and out.id in real_side:
            issues.append(
                (
                    noise.id,
                    f"{noise.title} leads to {out.title}, the discriminator's end: "
                    "leave the generator's last layer unconnected or end it in an "
                    "Output of its own (nndesk feeds its samples to the "
                    "discriminator), and start the discriminator at the data Input.",
                )
            )
            return None, issues
    # An Output after the generator's last layer only marks the sample.
    d_outputs = [o for o in outputs if o.id not in generator]
    if not d_outputs and not view.successors(data.id):  # G drawn into D
        issues.append(
            (
                noise.id,
                f"{noise.title} leads to {outputs[0].title} but {data.title} leads "
                "to no Output: nndesk feeds the generator's samples to the "
                "discriminator itself, so end the generator at its last layer and "
                f"run the discriminator from {data.title} to an Output.",
            )
        )
        return None, issues
    if not d_outputs:
        issues.append(
            (
                None,
                "A GAN needs an Output after the discriminator: connect its last "
                "layer (one score per sample) to an Output.",
            )
        )
        return None, issues
    if len(d_outputs) > 1:
        issues.append(
            (
                d_outputs[1].id,
                f"The discriminator ends in {len(d_outputs)} Output nodes but gives "
                "one score: remove all but one.",
            )
        )
        return None, issues
    output = d_outputs[0]
    sinks = [n for n in _ordered(view, generator) if not view.successors(n)]
    marker: str | None = None
    if len(sinks) == 1 and view.node(sinks[0]).type_name == "Output":
        marker = sinks[0]
        ends = view.predecessors(marker)
        if len(ends) != 1:
            return None, issues  # shape inference names the Output's inputs
        sinks = [ends[0]]  # the layer before it (the only sink is the Output)
        generator = generator - {marker}
    discriminator = _upstream(view, output.id) - {output.id}
    mixed = _ordered(view, generator & _downstream(view, data.id))
    if mixed:
        issues.append(
            (
                mixed[0],
                f"{view.node(mixed[0]).title} joins the generator and the data "
                f"Input: the generator runs from {noise.title} alone.",
            )
        )
        return None, issues
    if data.id not in discriminator:
        issues.append(
            (
                data.id,
                f"{data.title} does not lead to {output.title}: the discriminator "
                "runs from the data Input to the Output.",
            )
        )
        return None, issues
    if sinks == [noise.id]:
        issues.append(
            (
                noise.id,
                f"{noise.title} feeds no layer: add the generator's layers after it, "
                "ending in one that makes a sample of the data's shape.",
            )
        )
        return None, issues
    if len(sinks) > 1:
        names = ", ".join(view.node(n).title for n in sinks)
        issues.append(
            (
                sinks[1],
                f"The generator ends in {len(sinks)} nodes ({names}) but makes one "
                "sample: connect or remove all but the last layer.",
            )
        )
        return None, issues
    preds = view.predecessors(output.id)
    if len(preds) != 1:
        return None, issues  # shape inference names the Output's inputs
    params = noise.params
    setup = GanSetup(
        noise_id=noise.id,
        sample_id=sinks[0],
        sample_output_id=marker,
        generator_ids=_ordered(view, generator),
        input_id=data.id,
        score_id=preds[0],
        output_id=output.id,
        discriminator_ids=_ordered(view, discriminator),
        noise_shape=tuple(int(d) for d in params["shape"]),
        distribution=str(params["distribution"]),
        loss=str(params["gan_loss"]),
        d_steps=int(params["d_steps"]),
        generator_lr=None
        if params["generator_lr"] is None
        else float(params["generator_lr"]),
        discriminator_lr=None
        if params["discriminator_lr"] is None
        else float(params["discriminator_lr"]),
        clip_value=float(params["clip_value"]),
    )
    return setup, issues


def gan_setup(view: GraphView) -> GanSetup | None:
    """The GAN's two networks and settings, or None when the document is not a
    GAN or its drawing does not yet say which node is which (``gan_problems``
    tells why)."""
    setup, issues = _structure(view)
    return setup if not issues else None


def gan_problems(view: GraphView, report: ShapeReport) -> list[GanIssue]:
    """What keeps a GAN document from training, one sentence per problem.

    Empty for a document without a Noise node. Checks the drawing (one Noise
    node, one data Input, one Output, a generator that ends in one node and does
    not touch the discriminator), that the generator's sample has the shape of
    the discriminator's Input, that the discriminator gives one score per
    sample, and that its last activation suits the GAN loss (a sigmoid for the
    standard loss, linear for Wasserstein).
    """
    setup, issues = _structure(view)
    if setup is None or issues:
        return issues
    sample = report.nodes.get(setup.sample_id)
    data = view.node(setup.input_id)
    want = tuple(int(d) for d in data.params["shape"])
    if sample is not None and sample.ok and sample.output_shape != want:
        got = sample.output_shape
        node = view.node(setup.sample_id)
        how = (
            f"give it {want[0]} units"
            if len(want) == 1 and node.spec.has_param("units")
            else f"make it output {format_shape(want)}"
        )
        issues.append(
            (
                setup.sample_id,
                f"The generator's last layer {node.title} makes samples of "
                f"{format_shape(got)} but the discriminator's {data.title} takes "
                f"{format_shape(want)}: {how}.",
            )
        )
    score = report.nodes.get(setup.score_id)
    scorer = view.node(setup.score_id)
    if score is not None and score.ok and score.output_shape is not None:
        size = 1
        for d in score.output_shape:
            size *= int(d)
        if size != 1:
            issues.append(
                (
                    setup.score_id,
                    f"{scorer.title} gives {format_shape(score.output_shape)} per "
                    "sample but a GAN's discriminator scores each sample with one "
                    "value: end it in a Dense of 1 unit.",
                )
            )
    if score is None or not score.ok:  # broken or on a cycle: shapes say why
        return issues
    act, producer = final_activation(view, setup.score_id)
    if act is None:
        return issues
    if setup.loss == "standard":
        if act != "sigmoid":
            issues.append(
                (
                    setup.score_id,
                    "The standard GAN loss needs the discriminator to end in a "
                    f"sigmoid probability but {scorer.title} ends in {act}: set its "
                    "activation to sigmoid.",
                )
            )
        elif producer is not None and producer.id != setup.score_id:
            issues.append(
                (
                    setup.score_id,
                    f"The discriminator's sigmoid ({producer.title}) must be its "
                    f"last layer, but {scorer.title} comes after it: remove "
                    f"{scorer.title} or move the sigmoid to it.",
                )
            )
    elif setup.loss == "wasserstein" and act != "linear":
        issues.append(
            (
                setup.score_id,
                "The Wasserstein loss needs a linear critic but the discriminator "
                f"ends in {act} ({scorer.title}): set its activation to linear.",
            )
        )
    return issues
