"""The optimizer base class: checks, clipping, state save/restore, kernel-call plans.

A step is planned once and then replayed: ``_Plan`` holds one parameter's kernel
call, ``FusedPlan`` one call for all parameters when a model packed them (and
their gradients) into one buffer each. Concrete optimizers in ``optimizers`` only
say which kernel to call with which scalars.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from .errors import ConfigError, ShapeError

_EMPTY: dict[np.dtype, np.ndarray] = {}


def empty_placeholder(dtype: np.dtype) -> np.ndarray:
    """A zero-size placeholder for unused kernel arguments (one per dtype)."""
    if dtype not in _EMPTY:
        _EMPTY[dtype] = np.empty(0, dtype=dtype)
    return _EMPTY[dtype]


def step_count(value: Any, optimizer: str, what: str) -> int:
    """A saved step counter as an int; ConfigError for anything else."""
    try:
        arr = np.asarray(value)
        count = int(arr)
    except (TypeError, ValueError):
        count = -1
        arr = np.asarray(0.5)
    if arr.ndim or count < 0 or count != arr:
        raise ConfigError(
            f"Optimizer '{optimizer}' state '{what}' must be a whole number >= 0, "
            f"got {value!r}."
        )
    return count


class _Plan:
    """One parameter's kernel call: the function and its array arguments."""

    __slots__ = ("args", "dtype", "fn", "g", "numba", "p")

    def __init__(
        self, p: np.ndarray, g: Any, numba: bool, fn: Any, args: tuple[Any, ...]
    ) -> None:
        self.p, self.g, self.numba, self.fn, self.args = p, g, numba, fn, args
        self.dtype = p.dtype


def _span(arrays: list[np.ndarray]) -> np.ndarray | None:
    """The 1-D array covering ``arrays`` when they lie back to back in one buffer,
    in this order (as a model lays its weights out), else None."""
    first = arrays[0]
    dtype = first.dtype
    addr = first.__array_interface__["data"][0]
    total = 0
    for a in arrays:
        if (
            a.dtype != dtype
            or not a.flags.c_contiguous
            or a.__array_interface__["data"][0] != addr + total * dtype.itemsize
        ):
            return None
        total += a.size
    root = first
    while isinstance(root.base, np.ndarray):
        root = root.base
    if root.dtype != dtype or not root.flags.c_contiguous:
        return None
    flat = root.reshape(-1)
    offset, rest = divmod(addr - flat.__array_interface__["data"][0], dtype.itemsize)
    if rest or offset < 0 or offset + total > flat.size:
        return None
    return flat[offset : offset + total]


class FusedPlan:
    """One kernel call for all parameters, when they (and their gradients) are
    views into one buffer each; ``fn`` is None when they are not, so the step
    takes the per-key path without looking again."""

    __slots__ = ("args", "dtype", "fn", "grads", "keys", "numba", "params", "state")

    def __init__(
        self,
        keys: tuple[str, ...],
        params: list[Any],
        grads: list[Any],
        numba: bool,
    ) -> None:
        self.keys, self.params, self.grads, self.numba = keys, params, grads, numba
        self.fn: Any = None
        self.args: tuple[Any, ...] = ()
        self.dtype: np.dtype | None = None
        # (slots, size): row s is slot s of every parameter, in key order.
        self.state: np.ndarray | None = None

    def matches(
        self,
        params: Mapping[str, np.ndarray],
        grads: Mapping[str, np.ndarray],
        numba: bool,
    ) -> bool:
        """True when ``params`` and ``grads`` hold the very arrays planned for."""
        return (
            numba == self.numba
            and tuple(params) == self.keys
            and tuple(grads) == self.keys
            and all(map(operator.is_, params.values(), self.params))
            and all(map(operator.is_, grads.values(), self.grads))
        )


class Optimizer:
    """Base class: key checks, clipping, lazily created state, save and restore.

    Subclasses set ``name``, fill ``self.slots`` (names of the per-parameter state
    arrays) in their constructor, point ``_kernel`` at their fused update and
    implement ``_scalar_values`` (the kernel's scalar arguments).
    """

    name: ClassVar[str] = "optimizer"
    _kernel: ClassVar[Any]

    def __init__(
        self,
        lr: float,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
    ) -> None:
        self.lr = lr
        self.clipnorm = self._optional_positive("clipnorm", clipnorm)
        self.clipvalue = self._optional_positive("clipvalue", clipvalue)
        self.iterations = 0
        self.slots: tuple[str, ...] = ()
        self._state: dict[str, tuple[np.ndarray, ...]] = {}
        self._scratch: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._plans: dict[str, _Plan] = {}
        self._fused: FusedPlan | None = None
        self._scalar_cache: dict[Any, tuple[Any, ...]] = {}

    # --- learning rate -------------------------------------------------------------
    @property
    def lr(self) -> float:
        """Learning rate used by the next ``step`` (settable between steps)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = self._non_negative("lr", value)

    @property
    def fused_plan(self) -> FusedPlan | None:
        """The single-call update planned by the last ``step`` (None before one);
        a model's own training step (kernels/chain.py) replays it."""
        return self._fused

    # --- stepping ------------------------------------------------------------------
    def step(
        self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]
    ) -> None:
        """Update every array of ``params`` in place from ``grads``.

        Parameters
        ----------
        params
            Weight key -> float array (float32 or float64), updated in place.
        grads
            Weight key -> gradient of the loss, same keys and shapes; not modified.

        Raises
        ------
        ConfigError
            When the key sets differ or a parameter is not a writable float array.
        ShapeError
            When a gradient (or restored state) does not match its parameter's shape.
        """
        numba = self._kernel.uses_numba
        fused = self._fused
        if fused is None or not fused.matches(params, grads, numba):
            fused = self._plan_fused(params, grads, numba)
        if fused is not None and fused.fn is not None:
            self.step_fused(fused, grads)
            return
        if params.keys() != grads.keys():
            self._key_error(params, grads)
        plans = self._plans
        # Every parameter is checked before any is updated, so an error leaves
        # all of them (and the state) as they were.
        todo = []
        for key, p in params.items():
            g = grads[key]
            plan = plans.get(key)
            # The model passes the same arrays every step, so the checks and
            # views are worked out once per key, not once per step.
            if (
                plan is None
                or plan.p is not p
                or plan.g is not g
                or plan.numba != numba
            ):
                plan = self._plan(key, p, g, numba)
            todo.append((key, plan))
        self._scale = self._clip_scale(grads)
        self._scalar_cache.clear()
        self.iterations += 1
        scalars = self._scalars
        for key, plan in todo:
            plan.fn(*plan.args, *scalars(plan.dtype, key))

    def step_fused(self, fused: FusedPlan, grads: Mapping[str, np.ndarray]) -> None:
        """The single-call update of a plan known to match ``grads`` (a model that
        checked its own arrays calls this directly, skipping ``matches``)."""
        self._scale = self._clip_scale(grads)
        self._scalar_cache.clear()
        self.iterations += 1
        fused.fn(*fused.args, *self._fused_scalars(fused.dtype, fused.keys))

    def advance_fused(self, fused: FusedPlan) -> tuple[Any, ...]:
        """Count one single-call step done elsewhere (a model's compiled step) and
        return its kernel scalars as Python numbers, uncast: no clipnorm."""
        self._scale = 1.0
        self._scalar_cache.clear()
        self.iterations += 1
        clip = self.clipvalue if self.clipvalue is not None else 0.0
        return self._scalar_values(fused.keys[0], 1.0, clip)

    def undo_fused(self, fused: FusedPlan) -> None:
        """Take back ``advance_fused`` when the step it was for did not happen."""
        self.iterations -= 1

    def _plan_fused(
        self,
        params: Mapping[str, np.ndarray],
        grads: Mapping[str, np.ndarray],
        numba: bool,
    ) -> FusedPlan | None:
        """Lay out the single-call update when every parameter, gradient and state
        array can be a view into one buffer per kind; None for a key mismatch
        (reported by the per-key path)."""
        if not params or params.keys() != grads.keys():
            self._fused = None
            return None
        keys = tuple(params)
        ps, gs = list(params.values()), [grads[k] for k in keys]
        plan = FusedPlan(keys, ps, gs, numba)
        self._fused = plan
        packable = all(
            isinstance(p, np.ndarray)
            and isinstance(g, np.ndarray)
            and p.dtype.kind == "f"
            and p.flags.writeable
            and g.shape == p.shape
            and g.dtype == p.dtype
            for p, g in zip(ps, gs, strict=True)
        ) and self._steps_aligned(keys)
        flat_p = _span(ps) if packable else None
        flat_g = _span(gs) if flat_p is not None else None
        if flat_p is None or flat_g is None or flat_p.base is flat_g.base:
            return plan
        # The state moves into one buffer per slot too; its per-key arrays become
        # views, so get_state and set_state see the same keys and values.
        states = [self._prepare_state(k, p) for k, p in zip(keys, ps, strict=True)]
        dtype = flat_p.dtype
        plan.state = np.empty((len(self.slots), flat_p.size), dtype=dtype)
        flat_state = []
        for s in range(len(self.slots)):
            buf = plan.state[s]
            start = 0
            for state in states:
                a = state[s]
                buf[start : start + a.size] = a.reshape(-1)
                start += a.size
            flat_state.append(buf)
        start = 0
        for k, p in zip(keys, ps, strict=True):
            self._state[k] = tuple(
                buf[start : start + p.size].reshape(p.shape) for buf in flat_state
            )
            start += p.size
        # Per-key plans hold the old state arrays.
        self._plans.clear()
        arrays = self._kernel_arrays(flat_p, tuple(flat_state))
        if numba:
            empty = empty_placeholder(dtype)
            plan.fn = self._kernel.implementation
            plan.args = (flat_p, flat_g, *arrays, empty, empty)
        else:
            plan.fn = self._kernel.fallback
            scratch = (np.empty_like(flat_p), np.empty_like(flat_p))
            plan.args = (flat_p, flat_g, *arrays, *scratch)
        plan.dtype = dtype
        return plan

    def _steps_aligned(self, keys: tuple[str, ...]) -> bool:
        """True when one set of scalars serves every key (Adam counts per key)."""
        return True

    def _fused_scalars(self, dtype: np.dtype, keys: tuple[str, ...]) -> tuple[Any, ...]:
        """The kernel's scalars for the single-call update of ``keys``."""
        return self._scalars(dtype, keys[0])

    def _plan(self, key: str, p: np.ndarray, g: Any, numba: bool) -> _Plan:
        """Validate one parameter and lay out its kernel arguments."""
        if not isinstance(g, np.ndarray) or g.shape != getattr(p, "shape", None):
            raise ShapeError(
                f"Optimizer '{self.name}': gradient '{key}' has shape "
                f"{np.shape(g)} but the parameter has shape {np.shape(p)}."
            )
        state = self._prepare_state(key, p)
        arrays = self._kernel_arrays(p, state)
        if numba and p.flags.c_contiguous:
            empty = empty_placeholder(p.dtype)
            flat = [a.reshape(-1) for a in (p, g, *arrays)]
            # Kernel.__call__ would look the implementation up on every call.
            fn = self._kernel.implementation
            plan = _Plan(p, g, numba, fn, (*flat, empty, empty))
            if not g.flags.c_contiguous:
                plan.g = None  # flat is a copy then: rebuild the plan every step
        else:
            scratch = self._scratch.get(key)
            if (
                scratch is None
                or scratch[0].shape != p.shape
                or scratch[0].dtype != p.dtype
            ):
                scratch = (np.empty_like(p), np.empty_like(p))
                self._scratch[key] = scratch
            plan = _Plan(p, g, numba, self._kernel.fallback, (p, g, *arrays, *scratch))
        self._plans[key] = plan
        return plan

    def _kernel_arrays(
        self, p: np.ndarray, state: tuple[np.ndarray, ...]
    ) -> tuple[np.ndarray, ...]:
        """The state arrays in the kernel's argument order."""
        return state

    def _scalars(self, dtype: np.dtype, key: str) -> tuple[Any, ...]:
        """The kernel's scalar arguments in ``dtype``, computed once per step."""
        values = self._scalar_cache.get(dtype)
        if values is None:
            values = self._cast_scalars(dtype, key)
            self._scalar_cache[dtype] = values
        return values

    def _cast_scalars(self, dtype: np.dtype, key: str) -> tuple[Any, ...]:
        # Scalars in the array dtype keep a float32 kernel in float32.
        clip = self.clipvalue if self.clipvalue is not None else 0.0
        cast = dtype.type
        return tuple(
            [
                v if v.__class__ is bool else cast(v)
                for v in self._scalar_values(key, self._scale, clip)
            ]
        )

    def _scalar_values(self, key: str, scale: float, clip: float) -> tuple[Any, ...]:
        raise NotImplementedError

    def _clip_scale(self, grads: Mapping[str, np.ndarray]) -> float:
        if self.clipnorm is None:
            return 1.0
        total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
        # torch.nn.utils.clip_grad_norm_: the 1e-6 keeps a zero norm finite.
        return min(self.clipnorm / (total + 1e-6), 1.0)

    # --- state -----------------------------------------------------------------------
    def _initial_value(self, slot: str) -> float:
        return 0.0

    def _prepare_state(self, key: str, p: np.ndarray) -> tuple[np.ndarray, ...]:
        """Create the state for ``key`` or adapt restored state to the parameter."""
        if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
            raise ConfigError(
                f"Optimizer '{self.name}': parameter '{key}' must be a float array, "
                f"got {getattr(p, 'dtype', type(p).__name__)}."
            )
        if not p.flags.writeable:
            raise ConfigError(
                f"Optimizer '{self.name}': parameter '{key}' is read-only and cannot "
                "be updated in place."
            )
        old = self._state.get(key)
        if old is None:
            state = tuple(
                np.full(p.shape, self._initial_value(s), dtype=p.dtype)
                for s in self.slots
            )
        else:
            for slot, a in zip(self.slots, old, strict=True):
                if a.shape != p.shape:
                    raise ShapeError(
                        f"Optimizer '{self.name}': state '{key}/{slot}' has shape "
                        f"{a.shape} but the parameter has shape {p.shape}."
                    )
            state = tuple(np.ascontiguousarray(a, dtype=p.dtype) for a in old)
        self._state[key] = state
        return state

    def reset(self) -> None:
        """Forget all state (moments, step counts), as a freshly built optimizer."""
        self.iterations = 0
        self._state.clear()
        self._scratch.clear()
        self._plans.clear()
        self._fused = None

    def get_state(self) -> dict[str, np.ndarray]:
        """Everything a step depends on besides the config, as a flat dict.

        Returns
        -------
        dict[str, np.ndarray]
            ``"iterations"`` (0-d int64) and one copy per state array, keyed
            ``"<weight key>/<slot>"`` (``"dense_1/kernel/m"``); fit for ``np.savez``.
        """
        out: dict[str, np.ndarray] = {
            "iterations": np.array(self.iterations, dtype=np.int64)
        }
        for key, arrays in self._state.items():
            for slot, a in zip(self.slots, arrays, strict=True):
                out[f"{key}/{slot}"] = a.copy()
            out.update(self._extra_state(key))
        return out

    def set_state(self, state: Mapping[str, np.ndarray]) -> None:
        """Restore what ``get_state`` returned (replacing the current state).

        Raises
        ------
        ConfigError
            For a key that is not ``"iterations"`` or ``"<weight key>/<slot>"``
            with a slot of this optimizer, or a weight key missing some slot.
        """
        if "iterations" not in state:
            raise ConfigError(
                f"Optimizer '{self.name}' state lacks 'iterations'; it was not "
                "saved by get_state()."
            )
        extra = self._extra_slots()
        per_key: dict[str, dict[str, np.ndarray]] = {}
        for full, value in state.items():
            if full == "iterations":
                continue
            key, _, slot = full.rpartition("/")
            if not key or slot not in self.slots + extra:
                valid = ", ".join(self.slots + extra) or "none"
                raise ConfigError(
                    f"Optimizer '{self.name}' state key '{full}' is not "
                    f"'<weight key>/<slot>' with a slot of this optimizer ({valid})."
                )
            per_key.setdefault(key, {})[slot] = np.asarray(value)
        restored: dict[str, tuple[np.ndarray, ...]] = {}
        for key, slots in per_key.items():
            missing = [s for s in self.slots + extra if s not in slots]
            if missing:
                raise ConfigError(
                    f"Optimizer '{self.name}' state for '{key}' lacks "
                    f"{', '.join(repr(f'{key}/{s}') for s in missing)}."
                )
            arrays = tuple(np.array(slots[s], copy=True) for s in self.slots)
            for s, a in zip(self.slots, arrays, strict=True):
                if a.dtype.kind != "f":
                    raise ConfigError(
                        f"Optimizer '{self.name}' state '{key}/{s}' must be a float "
                        f"array, got {a.dtype}."
                    )
            if len({a.shape for a in arrays}) > 1:
                raise ShapeError(
                    f"Optimizer '{self.name}' state arrays for '{key}' have different "
                    f"shapes {[a.shape for a in arrays]}."
                )
            restored[key] = arrays
            self._restore_extra(key, slots)
        self.iterations = step_count(state["iterations"], self.name, "iterations")
        self._state = restored
        self._scratch.clear()
        self._plans.clear()
        self._fused = None

    def _extra_slots(self) -> tuple[str, ...]:
        return ()

    def _extra_state(self, key: str) -> dict[str, np.ndarray]:
        return {}

    def _restore_extra(self, key: str, slots: Mapping[str, np.ndarray]) -> None:
        return None

    # --- config ------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """Constructor arguments (current ``lr``); ``get(name, **config)`` rebuilds."""
        return {"lr": self.lr, "clipnorm": self.clipnorm, "clipvalue": self.clipvalue}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    # --- validation helpers ---------------------------------------------------------
    def _non_negative(self, what: str, value: Any) -> float:
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"Optimizer '{self.name}': {what} must be a number, got {value!r}."
            ) from None
        if not (v >= 0.0 and math.isfinite(v)):
            raise ConfigError(
                f"Optimizer '{self.name}': {what} must be a finite number >= 0, "
                f"got {value!r}."
            )
        return v

    def _optional_positive(self, what: str, value: Any) -> float | None:
        if value is None:
            return None
        v = self._non_negative(what, value)
        if v == 0.0:
            raise ConfigError(
                f"Optimizer '{self.name}': {what} must be > 0 (or None for no "
                "clipping), got 0."
            )
        return v

    def _beta(self, what: str, value: Any) -> float:
        v = self._non_negative(what, value)
        if v >= 1.0:
            raise ConfigError(
                f"Optimizer '{self.name}': {what} must be in [0, 1), got {value!r}."
            )
        return v

    def _key_error(self, params: Mapping[str, Any], grads: Mapping[str, Any]) -> None:
        no_grad = [k for k in params if k not in grads]
        no_param = [k for k in grads if k not in params]
        if no_grad:
            raise ConfigError(
                f"Optimizer '{self.name}': parameter '{no_grad[0]}' has no gradient."
            )
        raise ConfigError(
            f"Optimizer '{self.name}': gradient '{no_param[0]}' has no parameter."
        )
