"""Thread-safe pause, resume, step, stop and learning-rate requests for a training loop.

The GUI thread calls the request methods (``pause``, ``resume``, ``step_batch``,
``step_epoch``, ``stop``, ``set_lr``); the thread that trains calls
``wait_for_batch`` before every batch and ``batch_done`` after it. While paused,
``wait_for_batch`` blocks on a condition variable (no polling) until a request
wakes it. ``call_between_batches(fn)`` has the training thread run ``fn`` at the
next batch boundary (a paused trainer wakes for it, runs it and waits again), e.g.
to copy the weights of a running model consistently.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any, Literal

from ..engine.errors import ConfigError

State = Literal["running", "paused", "stopping"]

__all__ = ["BatchBoundaryCall", "State", "TrainingControl"]


class BatchBoundaryCall:
    """A function the training thread runs between two batches, and its result."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self._fn = fn
        self._done = threading.Event()
        self._result: Any = None
        self._error: BaseException | None = None

    def run(self) -> None:
        """Run the function (in the training thread) and keep what it gave."""
        try:
            self._result = self._fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            self._error = exc
        finally:
            self._done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the call ran; False when ``timeout`` seconds pass first."""
        return self._done.wait(timeout)

    @property
    def done(self) -> bool:
        """Whether the call ran."""
        return self._done.is_set()

    def result(self) -> Any:
        """What the function returned (re-raises what it raised); call after
        ``wait`` returned True."""
        if self._error is not None:
            raise self._error
        return self._result


class TrainingControl:
    """Flags shared between the thread that trains and the one that steers it.

    Semantics, as the trainer sees them between two batches:

    - ``pause()``: block before the next batch until another request arrives.
    - ``resume()``: run freely again.
    - ``step_batch()``: run exactly one more batch, then stay paused (pauses a
      running loop after its next batch).
    - ``step_epoch()``: run until the current epoch ends (a whole epoch when paused
      at an epoch boundary), then stay paused.
    - ``stop()``: end training after the current batch; wakes a paused loop. The
      trainer finishes normally (callbacks' ``on_train_end`` run, the history is
      kept); stopping is not an error.
    - ``set_lr(lr)``: a new base learning rate, applied before the next batch.

    A control can steer one training run after another; ``reset()`` clears the
    stop flag and any pending requests before a new run.

    Examples
    --------
    >>> control = TrainingControl()
    >>> control.pause()
    >>> control.state
    'paused'
    >>> control.step_batch()   # the trainer runs one batch, then waits again
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._paused = False
        self._stop = False
        self._batch_grants = 0
        self._epoch_grant = False
        self._pending_lr: float | None = None
        self._waiting = False
        self._calls: list[BatchBoundaryCall] = []

    # --- requests (any thread) -------------------------------------------------------
    def pause(self) -> None:
        """Pause before the next batch."""
        with self._cond:
            self._paused = True
            self._batch_grants = 0
            self._epoch_grant = False
            self._cond.notify_all()

    def resume(self) -> None:
        """Run freely again (cancels pending steps)."""
        with self._cond:
            self._paused = False
            self._batch_grants = 0
            self._epoch_grant = False
            self._release()

    def step_batch(self) -> None:
        """Allow one more batch, then pause."""
        with self._cond:
            self._paused = True
            self._batch_grants += 1
            self._release()

    def step_epoch(self) -> None:
        """Allow the batches up to the end of the current epoch, then pause."""
        with self._cond:
            self._paused = True
            self._epoch_grant = True
            self._release()

    def stop(self) -> None:
        """End training after the current batch (wakes a paused trainer)."""
        with self._cond:
            self._stop = True
            self._release()

    def set_lr(self, lr: float) -> None:
        """Request a new base learning rate, applied before the next batch.

        Raises
        ------
        ConfigError
            For a value that is not a finite number > 0.
        """
        try:
            value = float(lr)
        except (TypeError, ValueError):
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise ConfigError(
                f"The learning rate must be a finite number > 0, got {lr!r}."
            )
        with self._cond:
            self._pending_lr = value
            self._cond.notify_all()

    def call_between_batches(self, fn: Callable[[], Any]) -> BatchBoundaryCall:
        """Have the training thread run ``fn`` before its next batch (or, paused,
        right away) and go on as before; wait on the returned call for the result.

        Nothing runs it when no training thread uses this control: the caller
        should then run ``fn`` itself (see ``serve_calls``).
        """
        call = BatchBoundaryCall(fn)
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()
        return call

    def serve_calls(self) -> None:
        """Run the pending ``call_between_batches`` functions in this thread (the
        training thread calls it between batches and once more when it ends)."""
        if not self._calls:  # the usual case, every batch: no lock needed to see it
            return
        with self._cond:
            calls, self._calls = self._calls, []
        for call in calls:
            call.run()

    def reset(self) -> None:
        """Forget every request (before reusing this control for a new run),
        calls between batches too: nobody waits for those of an ended run."""
        with self._cond:
            self._paused = False
            self._stop = False
            self._batch_grants = 0
            self._epoch_grant = False
            self._pending_lr = None
            self._calls = []
            self._cond.notify_all()

    # --- state (any thread) ----------------------------------------------------------
    @property
    def state(self) -> State:
        """``"stopping"`` after a stop request, else ``"paused"`` or ``"running"``."""
        with self._cond:
            if self._stop:
                return "stopping"
            return "paused" if self._paused else "running"

    @property
    def stop_requested(self) -> bool:
        """Whether ``stop()`` was called since the last ``reset()``."""
        with self._cond:
            return self._stop

    @property
    def waiting(self) -> bool:
        """Whether the training thread is blocked in ``wait_for_batch`` right now."""
        with self._cond:
            return self._waiting

    def wait_until_waiting(self, timeout: float | None = None) -> bool:
        """Block until the training thread is blocked in ``wait_for_batch``.

        Returns False when ``timeout`` seconds pass first. Tests and the GUI use it
        to know that a pause has taken effect; after ``step_batch`` (or
        ``step_epoch``) it returns once the step is done and the trainer waits
        again.
        """
        with self._cond:
            return self._cond.wait_for(lambda: self._waiting, timeout)

    # --- the training thread ----------------------------------------------------------
    def wait_for_batch(self) -> bool:
        """Block while paused without a step grant; True to run the batch, False
        when training should stop. Pending ``call_between_batches`` functions run
        here, also while paused."""
        self.serve_calls()
        with self._cond:
            if not self._may_run():
                self._waiting = True
                self._cond.notify_all()
                try:
                    while not self._may_run():
                        self._cond.wait_for(lambda: self._calls or self._may_run())
                        # The lock is re-entrant: the calls run under it, which
                        # keeps the pause from changing meanwhile.
                        self.serve_calls()
                finally:
                    self._waiting = False
                    self._cond.notify_all()
            if self._stop:
                return False
            if self._paused and not self._epoch_grant:
                self._batch_grants -= 1
            return True

    def batch_done(self, epoch_ended: bool) -> None:
        """Note a finished batch (``epoch_ended``: it was the epoch's last one)."""
        if epoch_ended:
            with self._cond:
                self._epoch_grant = False

    def refund_batch(self) -> None:
        """A batch ``wait_for_batch`` allowed did not run (the trainer began its
        epoch again on new data first): a pending step grant is given back, so a
        Step Batch still trains one batch."""
        with self._cond:
            if self._paused and not self._epoch_grant:
                self._batch_grants += 1

    def take_lr(self) -> float | None:
        """The base learning rate requested since the last call, or None."""
        with self._cond:
            lr, self._pending_lr = self._pending_lr, None
            return lr

    def _release(self) -> None:
        # The waiting thread is free from now on, even before it wakes up, so a
        # caller of wait_until_waiting sees the *next* wait, not this one.
        self._waiting = False
        self._cond.notify_all()

    def _may_run(self) -> bool:
        return (
            self._stop
            or not self._paused
            or self._epoch_grant
            or self._batch_grants > 0
        )
