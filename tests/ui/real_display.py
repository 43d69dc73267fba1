"""Run a test script in a subprocess under a real X server (Xvfb), offscreen without one.

The offscreen platform hides the platform's key bindings (its Delete is only Del)
and has no window system behind mouse and key events, so tests of shortcuts and
random input also run under Xvfb with Qt's xcb platform. Xvfb is started here on a
free display number and stopped afterwards; where it is not installed the script
runs offscreen (CI installs it: scripts/system_deps.sh).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

X11_SOCKETS = Path("/tmp/.X11-unix")


def xvfb_available() -> bool:
    """Whether an Xvfb binary is on the PATH."""
    return shutil.which("Xvfb") is not None


def _free_display(first: int = 90, last: int = 400) -> int:
    for number in range(first, last):
        if (
            not (X11_SOCKETS / f"X{number}").exists()
            and not Path(f"/tmp/.X{number}-lock").exists()
        ):
            return number
    raise RuntimeError(f"no free X display number between {first} and {last}")


@contextmanager
def xvfb(width: int = 1280, height: int = 800) -> Iterator[str]:
    """Start ``Xvfb :N -screen 0 WxHx24`` on a free display; yields ``":N"``."""
    for _attempt in range(5):
        number = _free_display()
        proc = subprocess.Popen(
            [
                "Xvfb",
                f":{number}",
                "-screen",
                "0",
                f"{width}x{height}x24",
                "-nolisten",
                "tcp",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        socket = X11_SOCKETS / f"X{number}"
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline and proc.poll() is None:
            if socket.exists():
                break
            time.sleep(0.05)
        if proc.poll() is None and socket.exists():
            break
        proc.kill()
        proc.wait()  # lost a race for the number: try the next free one
    else:
        raise RuntimeError("Xvfb did not start on any free display")
    try:
        yield f":{number}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_script(
    script: Path,
    args: list[str],
    platform: str,
    home: Path,
    timeout: float,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python script args`` with Qt on ``platform`` ("xcb" or "offscreen").

    HOME and the XDG folders point into ``home``, so the script cannot touch the
    user's settings, recent files or logs; "xcb" starts an Xvfb for the run.
    """
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("QT_", "XDG_", "DISPLAY", "WAYLAND_"))
    }
    for name, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_RUNTIME_DIR", "runtime"),
    ):
        folder = home / sub
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        base[name] = str(folder)
    base["HOME"] = str(home)
    base["QT_QPA_PLATFORM"] = platform
    base.update(env or {})
    command = [sys.executable, str(script), *args]

    def run(extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command,
            env={**base, **extra},
            cwd=home,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    if platform != "xcb":
        return run({})
    with xvfb() as display:
        return run({"DISPLAY": display})


def platforms() -> list[str]:
    """The Qt platforms a real-display test runs on here: xcb when Xvfb exists."""
    return ["offscreen", "xcb"] if xvfb_available() else ["offscreen"]
