"""The memory budget (issue 19): the address-space limit, cgroups, and check_fits."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nndesk.engine import memory
from nndesk.engine.errors import NNDeskError, ResourceError
from nndesk.engine.memory import (
    SAFE_SHARE,
    MemoryBudget,
    check_fits,
    format_bytes,
    memory_budget,
)

ROOT = Path(__file__).resolve().parents[2]

BUDGET_SCRIPT = textwrap.dedent(
    """
    import json
    from nndesk.engine.memory import check_fits, memory_budget, _mapped_bytes
    from nndesk.engine.errors import ResourceError
    budget = memory_budget()
    try:
        check_fits(2 * 1024**3, "The test plan")
        refused = ""
    except ResourceError as exc:
        refused = str(exc)
    check_fits(100 * 2**20, "A small plan")
    print(json.dumps({"usable": budget.usable, "limit": budget.limit,
                      "mapped": _mapped_bytes(), "refused": refused}))
    """
)


def budget_under_limit(limit: int) -> dict:
    result = subprocess.run(
        ["prlimit", f"--as={limit}", sys.executable, "-c", BUDGET_SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_address_space_limit_sets_the_budget():
    limit = 2 * 1024**3
    seen = budget_under_limit(limit)
    assert seen["limit"] == "address-space limit"
    # What is left under the limit: the limit less what is mapped already.
    assert 0 < seen["usable"] <= limit - seen["mapped"] + 16 * 2**20
    assert seen["usable"] > limit - 1024**3  # Python and NumPy map well under 1 GiB
    assert seen["refused"].startswith("The test plan needs about 2.1 GB of memory, ")
    assert seen["refused"].endswith("is available (the address-space limit).")


def test_a_wider_limit_gives_a_larger_budget():
    narrow = budget_under_limit(2 * 1024**3)["usable"]
    wide = budget_under_limit(3 * 1024**3)["usable"]
    assert wide - narrow == pytest.approx(1024**3, abs=32 * 2**20)


def test_without_a_limit_the_budget_is_at_most_the_available_ram():
    budget = memory_budget()
    info = memory._meminfo()
    assert budget.usable is not None
    assert budget.usable <= info["MemAvailable"] + 64 * 2**20


# --- check_fits -----------------------------------------------------------------------


def test_check_fits_refuses_past_the_safe_share_in_one_sentence():
    budget = MemoryBudget(10 * 10**9, "cgroup memory limit")
    check_fits(int(10 * 10**9 * SAFE_SHARE), "A plan", budget)  # exactly the share
    with pytest.raises(ResourceError) as info:
        check_fits(int(10 * 10**9 * SAFE_SHARE) + 1, "A plan", budget)
    assert str(info.value) == (
        "A plan needs about 8.0 GB of memory, but only 10.0 GB is available "
        "(the cgroup memory limit)."
    )
    assert isinstance(info.value, NNDeskError) and isinstance(info.value, MemoryError)


def test_check_fits_says_what_the_memory_is_for():
    with pytest.raises(ResourceError) as info:
        check_fits(
            5 * 10**9,
            "Node 'dense_1' (Dense, 1,000 units)",
            MemoryBudget(10**9, "available RAM"),
            verb="makes this network need",
            purpose=" to train at batch size 32",
        )
    assert str(info.value) == (
        "Node 'dense_1' (Dense, 1,000 units) makes this network need about 5.0 GB "
        "of memory to train at batch size 32, but only 1.0 GB is available (the "
        "available RAM)."
    )


def test_an_unknown_budget_and_the_switch_let_everything_through(monkeypatch):
    check_fits(10**18, "A plan", MemoryBudget(None))
    monkeypatch.setenv("NNDESK_NO_MEMORY_GUARD", "1")
    check_fits(10**18, "A plan", MemoryBudget(10**9, "available RAM"))


def test_plus_adds_back_what_a_plan_already_holds():
    budget = MemoryBudget(10**9, "available RAM")
    assert budget.plus(5 * 10**8) == MemoryBudget(15 * 10**8, "available RAM")
    assert budget.plus(-1) == budget
    assert MemoryBudget(None).plus(10**9) == MemoryBudget(None)


def test_format_bytes():
    assert format_bytes(512) == "512 bytes"
    assert format_bytes(1536) == "1.5 KB"
    assert format_bytes(12.6e9) == "12.6 GB"
    assert format_bytes(4e18) == "4000.0 PB"


# --- cgroups --------------------------------------------------------------------------


def write_cgroup(folder: Path, limit: str, current: int, inactive: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "memory.max").write_text(f"{limit}\n")
    (folder / "memory.current").write_text(f"{current}\n")
    (folder / "memory.stat").write_text(f"anon 1\ninactive_file {inactive}\n")


def test_a_v2_cgroup_counts_its_ancestors_and_not_the_page_cache(tmp_path):
    root = tmp_path / "cgroup"
    write_cgroup(root, "max", 0, 0)
    write_cgroup(root / "user.slice", str(4 * 10**9), 3 * 10**9, 10**9)
    write_cgroup(root / "user.slice" / "app", "max", 10**9, 0)
    # The parent allows 4 GB, uses 3 GB of which 1 GB is droppable cache: 2 GB left.
    assert memory._cgroup_v2_left(root / "user.slice" / "app", root) == 2 * 10**9
    write_cgroup(root / "user.slice" / "app", str(15 * 10**8), 10**9, 0)
    assert memory._cgroup_v2_left(root / "user.slice" / "app", root) == 5 * 10**8
    write_cgroup(root / "free", "max", 10**9, 0)
    assert memory._cgroup_v2_left(root / "free", root) is None


def test_a_v1_cgroup_takes_its_hierarchical_limit(tmp_path):
    folder = tmp_path / "memory" / "job"
    folder.mkdir(parents=True)
    (folder / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    (folder / "memory.usage_in_bytes").write_text(f"{10**9}\n")
    (folder / "memory.stat").write_text(
        f"hierarchical_memory_limit {3 * 10**9}\ntotal_inactive_file {10**8}\n"
    )
    assert memory._cgroup_v1_left(folder) == 3 * 10**9 - 9 * 10**8
    (folder / "memory.stat").write_text(
        "hierarchical_memory_limit 9223372036854771712\n"
    )
    assert memory._cgroup_v1_left(folder) is None
