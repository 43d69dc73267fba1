"""Palette templates: small wired graph fragments inserted as one titled group.

A template is not a node type: dropping it pastes several nodes, their edges and a
group around them in one undo step. Each ``Template`` builds a ``Fragment`` for the
feature count ``d`` of the tensor it will receive (``None`` when unknown: the
template's default), in the clipboard layout ``Document.paste_dict`` reads, plus
where the incoming tensor enters (``entries``) and which port carries the result
(``exit``). Template names start with ``template:`` so they never clash with node
type names; the palette lists them under their category like node types.

Adding a template is one ``Template`` in ``TEMPLATES`` (or ``register_template``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import DocumentError
from .schema import FORMAT_VERSION

PREFIX = "template:"
"""Every template name starts with this."""

CATEGORY = "Templates"
"""The palette category a template is listed under unless it names another (a
node category such as "Attention", after that category's node types)."""


@dataclass(frozen=True)
class Fragment:
    """What a template inserts.

    Attributes
    ----------
    data : dict
        Clipboard layout (``nodes`` with positions relative to the drop point,
        ``edges``, ``groups``) for ``Document.paste_dict``.
    entries : tuple of (int, str)
        (index into ``data["nodes"]``, input port) that receive the incoming tensor.
    exit : (int, str)
        (index into ``data["nodes"]``, output port) that carries the result.
    """

    data: dict[str, Any]
    entries: tuple[tuple[int, str], ...]
    exit: tuple[int, str]


@dataclass(frozen=True)
class Template:
    """One palette template.

    Attributes
    ----------
    name : str
        ``template:<Name>``, what palette drags carry.
    title, description : str
        Palette text and tooltip.
    make : callable
        ``make(d)`` -> ``Fragment`` for ``d`` incoming features (None: unknown).
    category : str
        Palette category.
    """

    name: str
    title: str
    description: str
    make: Callable[[int | None], Fragment]
    category: str = CATEGORY


TRANSFORMER_D = 64
"""Features of a Transformer block dropped where no incoming shape is known."""


def heads_for(d: int) -> int:
    """The number of attention heads a block of ``d`` features gets: the largest of
    4, 3, 2, 1 that divides ``d`` (d 48 -> 4 heads of 12, d 6 -> 3 heads of 2)."""
    return next(h for h in (4, 3, 2, 1) if d % h == 0)


def transformer_block(d: int | None) -> Fragment:
    """A pre-norm Transformer encoder block over ``d`` features.

    LayerNormalization -> MultiHeadAttention -> Add (with the block input) ->
    LayerNormalization -> Dense(4 d, gelu) -> Dense(d) -> Add (with the first Add),
    grouped as "Transformer block". The input is (time, d) and so is the output.
    """
    d = TRANSFORMER_D if d is None else int(d)
    if d < 1:
        raise DocumentError(f"A Transformer block needs at least 1 feature, got {d}.")
    step, row = 250.0, 150.0
    layout: list[tuple[str, dict[str, Any], tuple[float, float]]] = [
        ("LayerNormalization", {}, (0.0, 0.0)),
        ("MultiHeadAttention", {"num_heads": heads_for(d)}, (step, 0.0)),
        ("Add", {}, (2 * step, 0.0)),
        ("LayerNormalization", {}, (0.0, row)),
        ("Dense", {"units": 4 * d, "activation": "gelu"}, (step, row)),
        ("Dense", {"units": d, "activation": "linear"}, (2 * step, row)),
        ("Add", {}, (3 * step, row)),
    ]
    ids = [f"t{i}" for i in range(len(layout))]
    wires = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (2, 6)]
    data = {
        "format_version": FORMAT_VERSION,
        "nodes": [
            {"id": i, "type_name": t, "params": p, "pos": list(pos), "label": None}
            for i, (t, p, pos) in zip(ids, layout, strict=True)
        ],
        "edges": [
            {
                "src_node": ids[a],
                "src_port": "out",
                "dst_node": ids[b],
                "dst_port": "in",
            }
            for a, b in wires
        ],
        "groups": [{"id": "group_1", "title": "Transformer block", "nodes": ids}],
    }
    return Fragment(data, entries=((0, "in"), (2, "in")), exit=(6, "out"))


TEMPLATES: dict[str, Template] = {}
"""Every template by name, in palette order."""


def register_template(template: Template) -> Template:
    """Add ``template`` to ``TEMPLATES``; returns it.

    Raises
    ------
    DocumentError
        If the name lacks the ``template:`` prefix or is taken.
    """
    if not template.name.startswith(PREFIX):
        raise DocumentError(f"Template name {template.name!r} must start {PREFIX!r}.")
    if template.name in TEMPLATES:
        raise DocumentError(f"Template name {template.name!r} is already in use.")
    TEMPLATES[template.name] = template
    return template


register_template(
    Template(
        f"{PREFIX}TransformerBlock",
        "Transformer block",
        "A pre-norm Transformer encoder block as a group: LayerNorm, multi-head "
        "attention and a residual Add, then LayerNorm, a GELU feed-forward of 4×d "
        "and d units and a second residual Add. Drop it on an edge (or with a node "
        "selected) and d is the incoming sequence's features; elsewhere d is 64.",
        transformer_block,
        # beside the layers it is made of; a category of its own would be one
        # more header the palette must keep in view
        category="Attention",
    )
)


def is_template(name: str) -> bool:
    """Whether ``name`` names a template (rather than a node type)."""
    return name in TEMPLATES


def get_template(name: str) -> Template:
    """The template called ``name``.

    Raises
    ------
    DocumentError
        If there is none (naming the known ones).
    """
    try:
        return TEMPLATES[name]
    except KeyError:
        known = ", ".join(TEMPLATES) or "none"
        raise DocumentError(f"Unknown template {name!r} (known: {known}).") from None


def templates_in(category: str) -> list[Template]:
    """The templates of one palette category, in registration order."""
    return [t for t in TEMPLATES.values() if t.category == category]


def incoming_features(shape: Mapping[str, Any] | tuple[Any, ...] | None) -> int | None:
    """The last dimension of a per-sample shape, or None if unknown."""
    if not isinstance(shape, tuple) or not shape:
        return None
    last = shape[-1]
    return last if isinstance(last, int) and last > 0 else None


__all__ = [
    "CATEGORY",
    "Fragment",
    "PREFIX",
    "TEMPLATES",
    "TRANSFORMER_D",
    "Template",
    "get_template",
    "heads_for",
    "incoming_features",
    "is_template",
    "register_template",
    "templates_in",
    "transformer_block",
]
