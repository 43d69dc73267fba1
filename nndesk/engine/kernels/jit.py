"""Hot loops: compiled with Numba when it is importable, NumPy fallbacks otherwise.

Numba is never imported when this module is imported; each kernel compiles on its
first call. ``NNDESK_NUMBA=0`` in the environment forces the NumPy fallbacks; it is
read once, at the first kernel call.

A kernel is declared as a pair: a loop function written in the Numba-compatible
subset of Python (explicit loops over flat arrays), and a vectorised NumPy fallback
with the same signature and the same in-place effects::

    def _scale_loop(x, a):
        for i in range(x.size):
            x.flat[i] *= a

    def _scale_numpy(x, a):
        x *= a

    scale = kernel(_scale_loop, _scale_numpy)

A loop may call small per-element functions shared with other loops; they are
passed as ``helpers`` and compiled (inlined) with it, since Numba cannot call a
plain Python function. Numba's disk cache notices changes of the loop's own file
only: after editing a helper that lives in another module, delete the
``__pycache__/*.nbi`` files (or touch the loop's file).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import types
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger(__name__)

_numba_state: dict[str, Any] = {}


def numba_enabled() -> bool:
    """True when Numba is installed and not disabled by ``NNDESK_NUMBA=0``."""
    if "enabled" not in _numba_state:
        wanted = os.environ.get("NNDESK_NUMBA", "1").strip().lower() not in (
            "0",
            "false",
            "no",
            "off",
        )
        njit = None
        if wanted:
            try:
                from numba import njit  # noqa: PLC0415 - lazy by design
            except Exception as exc:  # ImportError, or a broken llvmlite
                log.info("Numba unavailable, using NumPy kernels: %s", exc)
                njit = None
        _numba_state["njit"] = njit
        _numba_state["enabled"] = njit is not None
    return bool(_numba_state["enabled"])


def numba_resolved() -> bool:
    """Whether the Numba-or-NumPy choice is made already (``numba_enabled`` has
    run), so asking it costs nothing."""
    return "enabled" in _numba_state


def numba_expected() -> bool:
    """Whether kernels will use Numba, answered without importing it: the first
    import takes seconds, too long for the GUI thread (the memory estimate of a
    preview asked ``numba_enabled`` and froze the window, issue 19). It is
    ``numba_enabled()`` once that is known, else whether Numba is wanted and
    installed (a Numba that then fails to import gives the NumPy kernels)."""
    if "enabled" in _numba_state:
        return bool(_numba_state["enabled"])
    wanted = os.environ.get("NNDESK_NUMBA", "1").strip().lower() not in (
        "0",
        "false",
        "no",
        "off",
    )
    return wanted and importlib.util.find_spec("numba") is not None


def set_numba_enabled(enabled: bool | None) -> None:
    """Force the choice for this process (tests); ``None`` re-reads the environment.

    Kernels already called keep the implementation they picked unless
    ``reset_kernels()`` is called too.
    """
    _numba_state.clear()
    if enabled is False:
        _numba_state.update(enabled=False, njit=None)
    elif enabled:
        numba_enabled()
    reset_kernels()


_jitted_helpers: dict[Callable[..., Any], Callable[..., Any]] = {}


def _rebind(fn: Callable[..., Any], names: dict[str, Any]) -> Callable[..., Any]:
    """``fn`` seeing ``names`` as globals (the compiled helpers) over its module's."""
    if not names:
        return fn
    copy = types.FunctionType(
        fn.__code__, {**fn.__globals__, **names}, fn.__name__, fn.__defaults__
    )
    copy.__qualname__, copy.__module__ = fn.__qualname__, fn.__module__
    return copy


def _with_helpers(
    loop: Callable[..., Any], helpers: Sequence[Callable[..., Any]], njit: Any
) -> Callable[..., Any]:
    """``loop`` seeing each helper's compiled version under the helper's name; a
    helper may call the helpers listed before it."""
    names: dict[str, Any] = {}
    for helper in helpers:
        jitted = _jitted_helpers.get(helper)
        if jitted is None:
            jitted = njit(inline="always")(_rebind(helper, names))
            _jitted_helpers[helper] = jitted
        names[helper.__name__] = jitted
    return _rebind(loop, names)


class Kernel:
    """A callable that picks the Numba or the NumPy implementation on first call."""

    def __init__(
        self,
        loop: Callable[..., Any],
        fallback: Callable[..., Any],
        helpers: Sequence[Callable[..., Any]] = (),
    ) -> None:
        self.loop = loop
        self.fallback = fallback
        self.helpers = tuple(helpers)
        self._impl: Callable[..., Any] | None = None
        # The Numba dispatcher outlives reset(): switching paths back and forth
        # (as the tests do) must not recompile.
        self._jitted: Callable[..., Any] | None = None
        self.__name__ = getattr(fallback, "__name__", "kernel")
        self.__doc__ = fallback.__doc__

    @property
    def uses_numba(self) -> bool:
        return self._resolve() is not self.fallback

    @property
    def implementation(self) -> Callable[..., Any]:
        """The chosen implementation (the Numba dispatcher or the fallback): a
        caller in a hot loop calls it directly, skipping ``__call__``."""
        impl = self._impl
        return impl if impl is not None else self._resolve()

    def _resolve(self) -> Callable[..., Any]:
        if self._impl is None:
            if numba_enabled():
                if self._jitted is None:
                    njit = _numba_state["njit"]
                    # error_model="numpy": x / 0 gives inf/nan as in the NumPy
                    # fallbacks instead of raising, and without that check LLVM
                    # can vectorise loops that divide (6x on the Adam update).
                    # cache=True: compiled kernels are kept on disk (beside the
                    # module, or in Numba's user cache folder when that is read-only),
                    # so only the first run on a machine pays ~1 s of compilation;
                    # it was most of the app's start-up time.
                    self._jitted = njit(
                        cache=True, fastmath=False, nogil=True, error_model="numpy"
                    )(_with_helpers(self.loop, self.helpers, njit))
                self._impl = self._jitted
            else:
                self._impl = self.fallback
        return self._impl

    def reset(self) -> None:
        self._impl = None

    def __call__(self, *args: Any) -> Any:
        impl = self._impl
        if impl is None:
            impl = self._resolve()
        return impl(*args)


_registry: list[Kernel] = []


def kernel(
    loop: Callable[..., Any],
    fallback: Callable[..., Any],
    helpers: Sequence[Callable[..., Any]] = (),
) -> Kernel:
    """Declare a kernel from a Numba-compatible loop and its NumPy fallback;
    ``helpers`` are the module-level functions the loop calls."""
    k = Kernel(loop, fallback, helpers)
    _registry.append(k)
    return k


def used_kernels() -> list[Kernel]:
    """The kernels called since the last reset, in declaration order; each has
    chosen its implementation (``uses_numba`` says which)."""
    return [k for k in _registry if k._impl is not None]


def reset_kernels() -> None:
    """Forget every kernel's chosen implementation (after ``set_numba_enabled``)."""
    for k in _registry:
        k.reset()
