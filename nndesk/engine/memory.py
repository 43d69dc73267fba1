"""How much memory this process can really use, and a guard against asking for more.

The budget is the smallest of three limits, each of which ends a process that
crosses it (a ``MemoryError`` for the address-space limit, the kernel's OOM killer
for the others):

- the RAM the system says is available now (``MemAvailable`` in ``/proc/meminfo``);
- the process's address-space limit (``RLIMIT_AS``, as set by ``ulimit -v`` or
  ``prlimit --as``), less what the process has already mapped;
- the memory limit of the process's cgroup and of every cgroup above it (v2
  ``memory.max``, v1 ``memory.limit_in_bytes`` or its hierarchical limit), less
  what the cgroup already uses; page cache the kernel can drop (``inactive_file``)
  does not count as used.

Only a share of it (``SAFE_SHARE``) is handed out, so that a refusal comes before
the machine starts swapping or NumPy fails half-way through an allocation.
Where a limit cannot be read (another platform, no ``/proc``) it is ignored; where
none can, the budget is unknown and ``check_fits`` lets everything through.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ResourceError

__all__ = [
    "SAFE_SHARE",
    "MemoryBudget",
    "check_fits",
    "format_bytes",
    "memory_budget",
]

SAFE_SHARE = 0.8
"""The share of the usable memory an allocation plan may take."""

_UNLIMITED = 1 << 60  # cgroup and rlimit "no limit" values are at least this


@dataclass(frozen=True)
class MemoryBudget:
    """The memory this process can use now, in bytes, and which limit sets it.

    Attributes
    ----------
    usable : int or None
        Bytes that can still be allocated (None: no limit could be read).
    limit : str
        Which limit is the smallest ("available RAM", "address-space limit",
        "cgroup memory limit"), or "" when none was read.
    """

    usable: int | None
    limit: str = ""

    @property
    def safe(self) -> int | None:
        """The bytes one plan may take: ``SAFE_SHARE`` of ``usable``."""
        return None if self.usable is None else int(self.usable * SAFE_SHARE)

    def plus(self, held: int) -> MemoryBudget:
        """This budget with ``held`` bytes added back: for judging a whole plan of
        which ``held`` bytes are already allocated (and so missing from ``usable``).
        """
        if self.usable is None:
            return self
        return MemoryBudget(self.usable + max(0, int(held)), self.limit)


def format_bytes(n: float) -> str:
    """``1536`` -> ``"1.5 KB"``; decimal units up to TB, then EB for absurd sizes."""
    n = float(n)
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            if unit == "bytes":
                return f"{int(n)} bytes"
            return f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} PB"  # pragma: no cover - the loop returns


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except (OSError, ValueError):
        return None
    if not text or text == "max":
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _meminfo() -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        lines = Path("/proc/meminfo").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            out[name] = int(parts[0]) * 1024  # the values are in kB
    return out


def _available_ram() -> int | None:
    info = _meminfo()
    if "MemAvailable" in info:
        return info["MemAvailable"]
    if "MemFree" in info:
        return info["MemFree"] + info.get("Cached", 0)
    return None


def _mapped_bytes() -> int:
    """The process's virtual size now (what already counts against RLIMIT_AS)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _address_space_left() -> int | None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft <= 0 or soft >= _UNLIMITED:
        return None
    return max(0, int(soft) - _mapped_bytes())


def _stat(path: Path) -> dict[str, int]:
    """A cgroup ``memory.stat`` file as name -> value."""
    out: dict[str, int] = {}
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        name, _, value = line.partition(" ")
        if value.strip().isdigit():
            out[name] = int(value)
    return out


def _room(limit: int | None, used: int | None, reclaimable: int) -> int | None:
    if limit is None or not 0 < limit < _UNLIMITED:
        return None
    return max(0, limit - max(0, (used or 0) - reclaimable))


def _cgroup_v2_left(folder: Path, root: Path) -> int | None:
    """The least room under ``memory.max`` of ``folder`` and its ancestors."""
    rooms = []
    while True:
        stat = _stat(folder / "memory.stat")
        room = _room(
            _read_int(folder / "memory.max"),
            _read_int(folder / "memory.current"),
            stat.get("inactive_file", 0),
        )
        if room is not None:
            rooms.append(room)
        if folder == root or root not in folder.parents:
            break
        folder = folder.parent
    return min(rooms) if rooms else None


def _cgroup_v1_left(folder: Path) -> int | None:
    stat = _stat(folder / "memory.stat")
    limit = _read_int(folder / "memory.limit_in_bytes")
    hierarchical = stat.get("hierarchical_memory_limit")
    if hierarchical is not None and 0 < hierarchical < (limit or _UNLIMITED):
        limit = hierarchical
    return _room(
        limit,
        _read_int(folder / "memory.usage_in_bytes"),
        stat.get("total_inactive_file", stat.get("inactive_file", 0)),
    )


def _cgroup_left() -> int | None:
    """What the process's cgroups (v2 and v1) still allow, or None."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    root = Path("/sys/fs/cgroup")
    # Hybrid systems mount the v2 hierarchy under "unified".
    v2_root = root if (root / "cgroup.controllers").exists() else root / "unified"
    rooms = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        controllers, rel = parts[1], parts[2].lstrip("/")
        if controllers == "":  # v2 unified hierarchy
            room = _cgroup_v2_left(v2_root / rel, v2_root)
        elif "memory" in controllers.split(","):
            room = _cgroup_v1_left(root / "memory" / rel)
        else:
            continue
        if room is not None:
            rooms.append(room)
    return min(rooms) if rooms else None


def memory_budget() -> MemoryBudget:
    """The memory this process can use now: the smallest of the available RAM, the
    room left under its address-space limit and under its cgroup's memory limit."""
    candidates = [
        (_available_ram(), "available RAM"),
        (_address_space_left(), "address-space limit"),
        (_cgroup_left(), "cgroup memory limit"),
    ]
    known = [(n, what) for n, what in candidates if n is not None]
    if not known:
        return MemoryBudget(None)
    n, what = min(known, key=lambda pair: pair[0])
    return MemoryBudget(int(n), what)


def check_fits(
    needed: int,
    what: str,
    budget: MemoryBudget | None = None,
    *,
    verb: str = "needs",
    purpose: str = "",
) -> None:
    """Refuse a plan that needs more than ``SAFE_SHARE`` of the usable memory.

    Parameters
    ----------
    needed : int
        Estimated bytes.
    what : str
        The plan, as the start of a sentence: "Training node 'dense_1' (Dense)"
        or "The data in 'train.gz'". The refusal reads "<what> needs about 12.5 GB
        of memory, but only 4.1 GB is available (the address-space limit)."
    budget : MemoryBudget, optional
        The budget to compare with (default: ``memory_budget()`` now).
    verb : str, optional
        The verb after ``what`` ("needs"; "makes this network need").
    purpose : str, optional
        Said after "of memory", with its leading space: " to train at batch size 32".

    Raises
    ------
    ResourceError
        When the estimate exceeds the safe share of the budget.
    """
    if os.environ.get("NNDESK_NO_MEMORY_GUARD"):
        return
    budget = memory_budget() if budget is None else budget
    safe = budget.safe
    if safe is None or needed <= safe:
        return
    raise ResourceError(
        f"{what} {verb} about {format_bytes(needed)} of memory{purpose}, but only "
        f"{format_bytes(budget.usable or 0)} is available (the {budget.limit})."
    )
