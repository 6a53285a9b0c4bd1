"""The per-plan-call watchdog: a plan call far past its budget is stopped, and its measured time checked.

A plan call under a seconds budget ``s`` may run ``max(SECONDS_FACTOR x s, s + SECONDS_GRACE)`` seconds (10x
the budget, and at least 30 s more than it); under an iteration or evaluation budget, ``PLAN_TIMEOUT``
seconds (``SweepConfig.plan_timeout``) for every ``TIMEOUT_BATCH`` problems the call plans at once (an
open-loop call plans all of a level's tasks in one batch, so its work grows with the batch). Past that the
watchdog raises `PlanTimeout` in the planning thread, and again every ``REPEAT`` seconds until the call has
ended: ``SIGALRM`` in the main thread (where the serial executor, local worker processes and Ray tasks run
units; it also interrupts ``time.sleep``), an asynchronous exception from a timer thread elsewhere. The
episode loop turns it into error rows.

`check_clock` compares the seconds the planning loop measured with the watchdog's own measurement of
the same call: a loop clock that a planner slowed down or stopped gives a ``RuntimeError`` (error rows).
"""

from __future__ import annotations

import ctypes
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from wmbench.planning import Budget

#: A plan call under a seconds budget ``s`` is stopped after ``max(SECONDS_FACTOR * s, s + SECONDS_GRACE)``.
SECONDS_FACTOR, SECONDS_GRACE = 10.0, 30.0
#: Seconds a plan call under an iteration or evaluation budget may take (default of
#: ``SweepConfig.plan_timeout``).
PLAN_TIMEOUT = 1800.0
#: An iteration- or evaluation-budgeted call planning ``n`` problems at once may take
#: ``timeout * max(1, n / TIMEOUT_BATCH)`` seconds.
TIMEOUT_BATCH = 100
#: Once past its limit, the watchdog raises again every ``REPEAT`` seconds until the plan call has ended.
REPEAT = 1.0
#: `check_clock` accepts a loop clock behind the watchdog's by at most ``CLOCK_SLACK`` seconds plus
#: ``CLOCK_SHARE`` of the call (the loop does not time its own set-up and return).
CLOCK_SLACK, CLOCK_SHARE = 0.25, 0.25


class PlanTimeout(BaseException):
    """A plan call ran past its watchdog limit (not an ``Exception``: a planner's ``except Exception``
    does not swallow it)."""


def plan_limit(budget: Budget, timeout: float = PLAN_TIMEOUT, batch: int = 1) -> float:
    """Seconds a plan call under ``budget`` planning ``batch`` problems may run (see the module docstring)."""
    if budget.seconds is not None:
        return max(SECONDS_FACTOR * budget.seconds, budget.seconds + SECONDS_GRACE)
    return float(timeout) * max(1.0, batch / TIMEOUT_BATCH)


class Watchdog:
    """``with Watchdog(limit) as watch:`` runs its body under a ``limit``-second watchdog; afterwards
    ``watch.seconds`` is the body's duration on the clock bound at import."""

    def __init__(self, limit: float, *, _clock: Callable[[], float] = time.perf_counter):
        if not limit > 0:
            raise ValueError(f"a watchdog limit must be > 0 seconds, got {limit!r}")
        self.limit = float(limit)
        self.seconds = 0.0
        self._clock = _clock
        self._armed = False
        self._previous: Any = None
        self._timer: threading.Thread | None = None
        self._done = threading.Event()

    def __enter__(self) -> Watchdog:
        self._armed = True
        self._start = self._clock()
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGALRM, self._alarm)
            signal.setitimer(signal.ITIMER_REAL, self.limit, REPEAT)
        else:
            self._timer = threading.Thread(target=self._interrupt, args=(threading.get_ident(),),
                                           daemon=True, name="wmbench-watchdog")
            self._timer.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        self._armed = False
        self.seconds = self._clock() - self._start
        if self._timer is None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)
        else:
            self._done.set()
            self._timer.join()
            _async_raise(threading.get_ident(), None)  # drop an exception sent but not yet raised
        if kind is not None and issubclass(kind, PlanTimeout):
            raise PlanTimeout(f"plan call stopped by the watchdog after {self.limit:g} s") from None

    def _alarm(self, signum: int, frame: Any) -> None:
        if self._armed:
            raise PlanTimeout

    def _interrupt(self, thread_id: int) -> None:
        deadline = self._start + self.limit
        while not self._done.wait(max(0.0, deadline - self._clock())):
            if self._clock() >= deadline:
                _async_raise(thread_id, PlanTimeout)
                deadline += REPEAT


def _async_raise(thread_id: int, kind: type[BaseException] | None) -> None:
    """Raise ``kind`` in thread ``thread_id`` at its next bytecode (None: cancel one not yet raised)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id),
                                               None if kind is None else ctypes.py_object(kind))


def check_clock(loop_seconds: float, watched_seconds: float) -> None:
    """``RuntimeError`` if the planning loop's seconds for a call disagree with the watchdog's."""
    if not watched_seconds - CLOCK_SLACK - CLOCK_SHARE * watched_seconds <= loop_seconds \
            <= watched_seconds + 1e-3:
        raise RuntimeError(f"the planning loop measured {loop_seconds:.3g} s for a plan call that took "
                           f"{watched_seconds:.3g} s: its clock was changed")
