"""Checks of a network the window runs in the background: its gradients, its speed.

- ``network_gradient_check``: a float64 copy of the network with the current
  weights, checked by finite differences on a few training samples
  (``nndesk.engine.gradcheck``, the code the test suite checks layers with).
- ``measure_speed``: the training samples per second of the network on the NumPy
  and on the Numba kernels, and which kernels ran compiled. Each path is timed in
  a process of its own (``NNDESK_NUMBA`` chooses the path once per process, so
  one process cannot time both, nor time one without changing the kernels of a
  run under way); ``python -m nndesk.training.diagnostics FILE`` is that process.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..document.graph import GraphView
from ..engine.errors import NNDeskError
from ..engine.gradcheck import GradientCheck, check_model
from .compile import compile_network
from .errors import TrainingStateError

log = logging.getLogger(__name__)

__all__ = [
    "CHECK_BATCH",
    "FULL_CHECK_LIMIT",
    "MAX_ENTRIES",
    "KernelUse",
    "SpeedResult",
    "measure_speed",
    "network_gradient_check",
    "numba_installed",
]

CHECK_BATCH = 8
"""Training samples the gradient check runs on."""
FULL_CHECK_LIMIT = 5_000
"""Networks with at most this many parameters get every element checked."""
MAX_ENTRIES = 40
"""Elements checked per array of a larger network (drawn at random)."""
SPEED_BATCHES = 30
"""Batches timed per kernel path in a round (after 3 untimed ones that compile and
warm up); rounds repeat for at least ``SPEED_MIN_SECONDS``."""
SPEED_MIN_SECONDS = 1.0
"""The timed batches are repeated until they took at least this long."""
SPEED_MAX_ROUNDS = 1000
SPEED_TIMEOUT = 300.0
"""Seconds a speed measurement may take per path."""


def network_gradient_check(
    view: GraphView,
    weights: Mapping[str, np.ndarray],
    x: np.ndarray,
    *,
    batch: int = CHECK_BATCH,
    seed: int = 0,
    should_stop: Callable[[], bool] | None = None,
) -> GradientCheck:
    """Finite-difference check of the network ``view`` with ``weights``, in float64.

    Parameters
    ----------
    view : GraphView
        The network (a Document or a Snapshot).
    weights : Mapping
        ``"<node>/<param>"`` -> array (float32 weights are widened); missing
        keys keep the seeded initial weights.
    x : np.ndarray
        ``(n, *input_shape)`` inputs as the model sees them (scaled); the first
        ``batch`` rows are used.
    should_stop : callable, optional
        Asked between arrays; True ends the check early.

    Returns
    -------
    GradientCheck
        Every element of every array checked for a network of at most
        ``FULL_CHECK_LIMIT`` parameters, else ``MAX_ENTRIES`` per array.

    Raises
    ------
    CompileError
        When the network does not compile.
    TrainingStateError
        When there is no sample to check on.
    """
    if len(x) == 0:
        raise TrainingStateError(
            "The gradient check needs at least one training sample."
        )
    model = compile_network(view, dtype=np.float64).model
    model.set_weights(dict(weights), strict=False)
    total = sum(p.size for p in model.trainable_weights().values())
    limit = None if total <= FULL_CHECK_LIMIT else MAX_ENTRIES
    return check_model(
        model, x[:batch], seed=seed, max_entries=limit, should_stop=should_stop
    )


# --- speed -------------------------------------------------------------------------------
def numba_installed() -> bool:
    """Whether Numba can be imported (without importing it)."""
    return importlib.util.find_spec("numba") is not None


@dataclass(frozen=True)
class KernelUse:
    """A kernel a training step called: its name, family (module) and whether it
    ran compiled by Numba."""

    name: str
    family: str
    compiled: bool


@dataclass(frozen=True)
class SpeedResult:
    """One kernel path timed on one network.

    ``path`` is ``"numpy"`` or ``"numba"``; ``samples_per_sec`` is 0 and
    ``message`` says why when it could not be measured.
    """

    path: str
    samples_per_sec: float = 0.0
    batch_size: int = 0
    batches: int = 0
    kernels: tuple[KernelUse, ...] = field(default_factory=tuple)
    message: str = ""

    @property
    def compiled(self) -> tuple[KernelUse, ...]:
        return tuple(k for k in self.kernels if k.compiled)


def measure_speed(
    project_path: str | os.PathLike[str],
    base_dir: str | os.PathLike[str] | None,
    path: str,
    *,
    batches: int = SPEED_BATCHES,
    timeout: float = SPEED_TIMEOUT,
) -> SpeedResult:
    """Time the network saved at ``project_path`` on one kernel path, in a child
    process (see the module docstring).

    Parameters
    ----------
    project_path : path-like
        A ``.nndesk`` file with the network and its weights.
    base_dir : path-like or None
        Folder relative dataset paths are resolved against (the window's file's).
    path : {"numpy", "numba"}
        The kernels to use.
    """
    if path == "numba" and not numba_installed():
        return SpeedResult(path, message="Numba is not installed.")
    if getattr(sys, "frozen", False):
        # A bundled app's executable is the app, which cannot run this module.
        return SpeedResult(
            path,
            message="The packaged app cannot time the kernels in a separate "
            "process; run nndesk from its Python package for the speed readout.",
        )
    env = dict(os.environ, NNDESK_NUMBA="1" if path == "numba" else "0")
    cmd = [
        sys.executable,
        "-m",
        "nndesk.training.diagnostics",
        str(project_path),
        "--batches",
        str(int(batches)),
    ]
    if base_dir is not None:
        cmd += ["--base-dir", str(base_dir)]
    try:
        done = subprocess.run(  # noqa: S603 - our own module, no shell
            cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return SpeedResult(path, message=f"The {path} timing took over {timeout:g} s.")
    lines = done.stdout.strip().splitlines()
    try:
        data = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        return SpeedResult(path, message=f"The {path} timing failed: {tail[0]}")
    return SpeedResult(
        path,
        samples_per_sec=float(data.get("samples_per_sec", 0.0)),
        batch_size=int(data.get("batch_size", 0)),
        batches=int(data.get("batches", 0)),
        kernels=tuple(KernelUse(*k) for k in data.get("kernels", ())),
        message=str(data.get("message", "")),
    )


def _time_training(
    project_path: Path, base_dir: Path | None, batches: int
) -> dict[str, Any]:
    """Train ``batches`` batches of the saved network and time them (this process)."""
    from ..engine.kernels import jit  # noqa: PLC0415 - after NNDESK_NUMBA is set
    from ..io.project_file import load_project  # noqa: PLC0415
    from .session import TrainingSession  # noqa: PLC0415

    session = TrainingSession.from_project(load_project(project_path), base_dir)
    data = session.prepare(session.load_dataset())
    model = session.model
    bs = int(session.settings["batch_size"])
    n = len(data.x_train)
    warm = 3
    need = (warm + batches) * bs
    rows = np.arange(need) % max(n, 1)
    x, y = data.x_train[rows], data.y_train[rows]
    jit.reset_kernels()
    model.fit(x[: warm * bs], y[: warm * bs], epochs=1, batch_size=bs, shuffle=False)
    # Rounds of ``batches`` batches until SPEED_MIN_SECONDS have passed: a small
    # network's 30 batches take a few milliseconds, too few to time.
    elapsed, rounds = 0.0, 0
    while elapsed < SPEED_MIN_SECONDS and rounds < SPEED_MAX_ROUNDS:
        started = time.perf_counter()
        model.fit(
            x[warm * bs :], y[warm * bs :], epochs=1, batch_size=bs, shuffle=False
        )
        elapsed += time.perf_counter() - started
        rounds += 1
    batches *= rounds
    kernels = [
        (
            k.loop.__name__.strip("_").removesuffix("_loop"),
            k.loop.__module__.rpartition(".")[2],
            bool(k.uses_numba),
        )
        for k in jit.used_kernels()
    ]
    return {
        "samples_per_sec": batches * bs / elapsed if elapsed > 0 else 0.0,
        "batch_size": bs,
        "batches": batches,
        "kernels": kernels,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """The child process of ``measure_speed``: prints one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m nndesk.training.diagnostics")
    parser.add_argument("project", type=Path)
    parser.add_argument("--base-dir", type=Path, default=None)
    parser.add_argument("--batches", type=int, default=SPEED_BATCHES)
    args = parser.parse_args(argv)
    try:
        result = _time_training(args.project, args.base_dir, max(1, args.batches))
    except NNDeskError as exc:
        result = {"message": str(exc)}
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
