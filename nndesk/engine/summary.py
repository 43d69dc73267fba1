"""The model summary: one row per layer and the Keras-style text table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import Model


def summary_rows(model: Model) -> list[dict[str, Any]]:
    """One dict per layer in topological order.

    Keys: ``name``, ``type``, ``output_shape`` (tuple with ``None`` for the batch),
    ``params`` (all scalars), ``trainable`` (trainable scalars), ``activation``
    (``None`` for layers without one) and ``inputs`` (names of the feeding layers).
    Needs no build: counts come from the layers' shape rules.
    """
    rows = []
    layer_shapes = model.layer_shapes
    for i, layer in enumerate(model.layers):
        shapes = model.input_shapes_of(i)
        trainable = layer.param_count(shapes)
        rows.append(
            {
                "name": layer.name,
                "type": layer.type_name,
                "output_shape": (None, *layer_shapes[i]),
                "params": trainable + layer.state_count(shapes),
                "trainable": trainable,
                "activation": getattr(layer, "activation_name", None),
                "inputs": [src.name for src in layer.inbound],
            }
        )
    return rows


def _is_chain(rows: list[dict[str, Any]]) -> bool:
    names = [r["name"] for r in rows]
    return all(r["inputs"] == ([names[k - 1]] if k else []) for k, r in enumerate(rows))


def summary_text(model: Model) -> str:
    """The summary table as text (ASCII only, fit for any console or log)."""
    rows = summary_rows(model)
    chain = _is_chain(rows)
    header = ["Layer (type)", "Output Shape", "Param #", "Activation"]
    if not chain:
        header.append("Connected to")
    table = [header]
    for r in rows:
        cells = [
            f"{r['name']} ({r['type']})",
            str(r["output_shape"]).replace(",)", ")"),
            f"{r['params']:,}",
            r["activation"] or "-",
        ]
        if not chain:
            cells.append(", ".join(r["inputs"]) or "-")
        table.append(cells)
    widths = [max(len(row[c]) for row in table) + 3 for c in range(len(header))]
    width = sum(widths)

    def line(cells: list[str]) -> str:
        return "".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    total = sum(r["params"] for r in rows)
    trainable = sum(r["trainable"] for r in rows)
    out = [f'Model: "{model.name}"', "_" * width, line(header), "=" * width]
    for k, cells in enumerate(table[1:]):
        out.append(line(cells))
        out.append("_" * width if k < len(rows) - 1 else "=" * width)
    out += [
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
    ]
    return "\n".join(out)
