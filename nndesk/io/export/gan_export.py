"""Export of a GAN: its generator and its discriminator as ONNX files or a PyTorch project.

A GAN document (docs/gan.md) compiles into two engine models (the generator,
Noise -> sample, and the discriminator, sample -> score); this module writes
both, from the built models the caller gives it (``nndesk.training.gan``'s
``CompiledGan``), so it needs nothing above ``io``.

**ONNX.** Two files, because they are two networks used apart: the generator
makes samples from noise (what a GAN is exported for), the discriminator scores
samples. ``export_gan_onnx(..., "ring.onnx")`` writes ``ring-generator.onnx``
and ``ring-discriminator.onnx`` beside each other; asked for one part
(``parts=("generator",)``), it writes that network to the path itself. Each
keeps nndesk's names (graph input: the Noise or Input node's id, output: the
sample or score node's id) and says in its metadata (``nndesk.gan``) which part
it is, the noise shape and distribution, and the loss. The discriminator
outputs what the drawn network computes: for the standard loss the probability
of being real (a ``Sigmoid`` on the engine's logit, ``<score_id>/sigmoid``),
for the others the raw score. The files are written together: both or neither.

**PyTorch.** A project folder: ``generator.py`` and ``discriminator.py`` (each
a ``Network`` module written as for any network, with its ``WEIGHTS`` map),
``weights.npz`` (both networks' weights under nndesk's keys), ``network.nndesk``
and ``train.py``, a GAN training loop with the GAN's loss, its k discriminator
steps per generator step, two optimizers with their own learning rates and
Wasserstein clipping, that runs alone or under ``torchrun``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import pprint
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..._version import __version__
from ...document.settings import optimizer_arguments
from ...document.view import GraphView
from ...engine import optimizers
from .._atomic import remove_temporary, sync_folder
from . import gan_templates
from ._files import write_folder_atomically
from ._onnx import OPSET, require_onnx
from .errors import ExportError
from .onnx_export import model_to_onnx
from .torch_project import model_source

if TYPE_CHECKING:
    from ...document.gan import GanSetup

__all__ = [
    "FORMATS",
    "GAN_PARTS",
    "META_GAN",
    "CompiledGanLike",
    "export_gan",
    "export_gan_onnx",
    "export_gan_pytorch",
    "gan_onnx_paths",
    "gan_to_onnx",
]

log = logging.getLogger(__name__)

GAN_PARTS: tuple[str, ...] = ("generator", "discriminator")
"""The two networks of a GAN, in the order they are written."""

FORMATS: tuple[str, ...] = ("onnx", "pytorch")
"""The forms a GAN is exported in."""

META_GAN = "nndesk.gan"
"""Metadata key of a GAN part: JSON with ``part``, ``noise_shape``,
``distribution``, ``loss`` and ``sample_shape``."""


# --- ONNX ----------------------------------------------------------------------------------


def gan_onnx_paths(
    path: str | Path, parts: Sequence[str] = GAN_PARTS
) -> dict[str, Path]:
    """Where ``export_gan_onnx`` writes each part for the chosen ``path``.

    Both parts: ``<stem>-generator.onnx`` and ``<stem>-discriminator.onnx`` beside
    ``path`` (a missing ``.onnx`` suffix is added); one part: ``path`` itself.

    Raises
    ------
    ExportError
        For an unknown or repeated part, or none.
    """
    chosen = _parts(parts)
    target = Path(path)
    if len(chosen) == 1:
        return {chosen[0]: target}
    stem = target.name[:-5] if target.name.lower().endswith(".onnx") else target.name
    return {part: target.with_name(f"{stem}-{part}.onnx") for part in chosen}


def _parts(parts: Sequence[str]) -> tuple[str, ...]:
    chosen = tuple(parts)
    unknown = [p for p in chosen if p not in GAN_PARTS]
    if unknown or not chosen or len(set(chosen)) != len(chosen):
        raise ExportError(
            f"Cannot export the GAN: the parts {', '.join(map(repr, chosen)) or 'none'} "
            f"are not a choice of {', '.join(GAN_PARTS)}."
        )
    return chosen


def gan_to_onnx(
    generator: Any,
    discriminator: Any,
    setup: GanSetup,
    parts: Sequence[str] = GAN_PARTS,
) -> dict[str, Any]:
    """The ONNX ``ModelProto`` of each part of a GAN.

    Parameters
    ----------
    generator, discriminator : nndesk.engine.Model
        Built, layers named by node id (``CompiledGan``'s); for the standard loss
        the discriminator ends in its logit (its sigmoid is added here).
    setup : GanSetup
        Which node is which, the noise and the loss.
    parts : sequence of {"generator", "discriminator"}

    Returns
    -------
    dict
        Part name -> ``onnx.ModelProto`` (opset 17), in the order of ``parts``.

    Raises
    ------
    ExportError
        Naming the first node without an ONNX form, or an unknown part.
    MissingDependencyError
        When the onnx package is not installed.
    """
    models = {"generator": generator, "discriminator": discriminator}
    out = {}
    for part in _parts(parts):
        proto = model_to_onnx(models[part])
        proto.graph.name = part
        if part == "discriminator" and setup.loss == "standard":
            _append_sigmoid(proto, setup.score_id)
        meta = {
            "part": part,
            "noise_shape": list(setup.noise_shape),
            "distribution": setup.distribution,
            "loss": setup.loss,
            "sample_shape": [int(d) for d in generator.output_shapes[0]],
        }
        require_onnx("ONNX export").helper.set_model_props(
            proto, {META_GAN: json.dumps(meta)}
        )
        out[part] = proto
    return out


def _append_sigmoid(proto: Any, score: str) -> None:
    """Rename the graph's output tensor ``score`` to ``score/logit`` and add the
    ``Sigmoid`` that makes ``score`` again: the probability of being real."""
    logit = f"{score}/logit"
    for node in proto.graph.node:
        node.output[:] = [logit if o == score else o for o in node.output]
        node.input[:] = [logit if i == score else i for i in node.input]
    onnx = require_onnx("ONNX export")
    proto.graph.node.append(
        onnx.helper.make_node("Sigmoid", [logit], [score], name=f"{score}/sigmoid")
    )


def export_gan_onnx(
    generator: Any,
    discriminator: Any,
    setup: GanSetup,
    path: str | Path,
    *,
    parts: Sequence[str] = GAN_PARTS,
) -> dict[str, Path]:
    """Write the GAN's parts as ONNX files (see the module docstring).

    Every model passes ``onnx.checker.check_model(full_check=True)`` before a
    byte is written; then all files are written to temporary files and renamed
    into place together, so a failure leaves no file and no debris behind, and
    files already there untouched.

    Returns
    -------
    dict
        Part name -> the path written.

    Raises
    ------
    ExportError
        For a node without an ONNX form, a model the checker refuses, or a file
        that cannot be written.
    """
    onnx = require_onnx("ONNX export")
    protos = gan_to_onnx(generator, discriminator, setup, parts)
    targets = gan_onnx_paths(path, tuple(protos))
    data = {}
    for part, proto in protos.items():
        try:
            onnx.checker.check_model(proto, full_check=True)
        except onnx.checker.ValidationError as exc:  # a bug of ours, said plainly
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid"
            raise ExportError(
                f"Cannot export the GAN's {part} to ONNX: the ONNX checker refuses "
                f"the model ({first})."
            ) from exc
        data[targets[part]] = proto.SerializeToString()
    _write_together(data)
    log.info("Exported %s (ONNX opset %d)", ", ".join(map(str, data)), OPSET)
    return targets


def _write_together(files: Mapping[Path, bytes]) -> None:
    """Write every file to a synced temporary file beside it, then rename them
    all into place; on any failure before the renames nothing is left behind."""
    temps: list[tuple[str, Path]] = []
    try:
        for target, data in files.items():
            real = Path(os.path.realpath(target))
            what = real.name
            if real.is_dir():
                raise ExportError(
                    f"Cannot write {what}: a folder named {real} is in the way."
                )
            if not real.parent.is_dir():
                raise ExportError(
                    f"Cannot write {what}: the folder {real.parent} does not exist."
                )
            try:
                fd, temp = tempfile.mkstemp(
                    prefix=f".{real.name}.", suffix=".part", dir=real.parent
                )
            except OSError as exc:
                raise ExportError(
                    f"Cannot write {what}: {exc.strerror or exc}."
                ) from exc
            temps.append((temp, real))
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.chmod(temp, 0o644)
            except OSError as exc:
                raise ExportError(
                    f"Cannot write {what}: {exc.strerror or exc}."
                ) from exc
        for temp, real in temps:
            os.replace(temp, real)
    except BaseException:
        for temp, _ in temps:
            if os.path.exists(temp):
                remove_temporary(temp)
        raise
    for folder in {real.parent for _, real in temps}:
        sync_folder(folder)


# --- PyTorch --------------------------------------------------------------------------------


def _regularized(document: GraphView, ids: Sequence[str]) -> dict[str, list[float]]:
    out = {}
    for node_id in ids:
        params = document.node(node_id).params
        if params.get("l1") or params.get("l2"):
            out[node_id] = [
                float(params.get("l1") or 0.0),
                float(params.get("l2") or 0.0),
            ]
    return out


def _gan_config(
    document: GraphView, setup: GanSetup, sample_shape: Sequence[int]
) -> dict[str, Any]:
    """train.py's CONFIG: the GAN setup and the settings it trains with."""
    s = document.settings
    lr = float(s["learning_rate"])
    engine_optimizer = optimizers.get(str(s["optimizer"]), **optimizer_arguments(s))
    return {
        "loss": setup.loss,
        "d_steps": setup.d_steps,
        "generator_lr": lr if setup.generator_lr is None else setup.generator_lr,
        "discriminator_lr": lr
        if setup.discriminator_lr is None
        else setup.discriminator_lr,
        "clip_value": setup.clip_value,
        "noise_shape": tuple(setup.noise_shape),
        "distribution": setup.distribution,
        "sample_shape": tuple(int(d) for d in sample_shape),
        "optimizer": s["optimizer"],
        # Every option, defaults included: the engine's equal PyTorch's.
        "optimizer_arguments": engine_optimizer.get_config(),
        "batch_size": s["batch_size"],
        "epochs": s["epochs"],
        "seed": s["seed"],
        "regularized_generator": _regularized(document, setup.generator_ids),
        "regularized_discriminator": _regularized(document, setup.discriminator_ids),
    }


def export_gan_pytorch(
    generator: Any,
    discriminator: Any,
    setup: GanSetup,
    document: GraphView,
    path: str | Path,
    *,
    save_network: Callable[[Path], None],
    title: str = "gan",
) -> None:
    """Write the PyTorch project folder of a GAN (see the module docstring).

    Parameters
    ----------
    generator, discriminator : nndesk.engine.Model
        Built (``CompiledGan``'s, with the weights to export); for the standard
        loss the discriminator ends in its logit.
    setup : GanSetup
    document : GraphView
        The GAN document (settings, L1/L2 of its nodes).
    path : str or Path
        The folder to write (replaced as a whole, atomically).
    save_network : callable
        Writes the network file (``network.nndesk``) to the path it is given;
        ``GanSession.save``, which keeps relative dataset paths working.
    title : str
        How the modules' docstrings name the network.

    Raises
    ------
    ExportError
        For a layer without a PyTorch form or a folder that cannot be written
        (nothing is left behind then).
    """
    fused = "sigmoid" if setup.loss == "standard" else None
    g_source = model_source(generator, f"{title} (generator)", None)
    d_source = model_source(discriminator, f"{title} (discriminator)", fused)
    config = _gan_config(document, setup, generator.output_shapes[0])
    train = gan_templates.GAN_TRAIN_PY.replace("@VERSION@", __version__).replace(
        "@CONFIG@", pprint.pformat(config, sort_dicts=False)
    )
    readme = gan_templates.GAN_README_MD.replace("@TITLE@", title).replace(
        "@VERSION@", __version__
    )
    weights = {**generator.get_weights(), **discriminator.get_weights()}

    def fill(folder: Path) -> None:
        (folder / "generator.py").write_text(g_source, encoding="utf-8")
        (folder / "discriminator.py").write_text(d_source, encoding="utf-8")
        (folder / "train.py").write_text(train, encoding="utf-8")
        (folder / "README.md").write_text(readme, encoding="utf-8")
        buffer = io.BytesIO()
        np.savez(buffer, **weights)
        (folder / "weights.npz").write_bytes(buffer.getvalue())
        save_network(folder / "network.nndesk")

    target = Path(path)
    write_folder_atomically(target, fill, f"the PyTorch project {target.name}")
    log.info("Exported the GAN PyTorch project %s", target)


# --- either form -----------------------------------------------------------------------------


class CompiledGanLike(Protocol):
    """What exporting reads of a compiled GAN (``nndesk.training.gan.CompiledGan``)."""

    @property
    def generator(self) -> Any: ...

    @property
    def discriminator(self) -> Any: ...

    @property
    def setup(self) -> GanSetup: ...

    @property
    def snapshot(self) -> GraphView: ...


def export_gan(
    gan: CompiledGanLike,
    fmt: str,
    path: str | Path,
    *,
    save_network: Callable[[Path], None],
    title: str = "gan",
    parts: Sequence[str] = GAN_PARTS,
) -> list[Path]:
    """Export a compiled GAN as ``fmt``: what the command line and the window call.

    Parameters
    ----------
    gan : CompiledGanLike
        A ``CompiledGan`` holding the weights to export (``GanSession.gan``).
    fmt : {"onnx", "pytorch"}
    path : str or Path
        ONNX: the chosen file name (see ``gan_onnx_paths``); PyTorch: the folder.
    save_network : callable
        Writes the GAN file into a PyTorch project (``GanSession.save``).
    title : str
        How a PyTorch project names the network.
    parts : sequence of {"generator", "discriminator"}
        ONNX only: the networks to write (default both).

    Returns
    -------
    list of Path
        The files (ONNX) or the folder (PyTorch) written.

    Raises
    ------
    ExportError
        For an unknown format, parts given for a PyTorch project, or anything
        the exporters refuse.
    """
    if fmt == "onnx":
        written = export_gan_onnx(
            gan.generator, gan.discriminator, gan.setup, path, parts=parts
        )
        return list(written.values())
    if fmt != "pytorch":
        raise ExportError(
            f"Cannot export the GAN as {fmt!r}: valid formats are {', '.join(FORMATS)}."
        )
    if tuple(parts) != GAN_PARTS:
        raise ExportError(
            "Cannot export one part of a GAN as a PyTorch project: its train.py "
            "trains both networks; export both, or one part as ONNX."
        )
    export_gan_pytorch(
        gan.generator,
        gan.discriminator,
        gan.setup,
        gan.snapshot,
        path,
        save_network=save_network,
        title=title,
    )
    return [Path(path)]
