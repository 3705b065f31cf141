# -*- test-case-name: tests.test_timers -*-
"""
Many timers on one reactor call (issue 19).

A Twisted C{DelayedCall} costs about half a kilobyte, and every device holds
some for as long as it lives (its event subscriptions' renewals, their
retries and polls). A L{TimerQueue} keeps such timers in a heap of small
L{Timer}s and holds one C{DelayedCall}, for the earliest: a timer costs a
tenth as much, and the reactor's own heap holds one entry for all of them.

Timers fire in the order of their times, each at (or, like a C{DelayedCall},
after) its time; one that raises is logged and the others still run. A
cancelled timer leaves the heap when it reaches the top, or when the
cancelled ones outnumber the live ones (the heap is then rebuilt). The
queue's call is cancelled when no timer is left, so that a stopped owner
leaves nothing in the reactor.
"""

from __future__ import annotations

import heapq
import itertools
from typing import Any, Callable, Optional

from twisted.logger import Logger
from twisted.python.failure import Failure

__all__ = ["Timer", "TimerQueue"]

#: Cancelled timers tolerated in the heap before it is rebuilt without them (and at least half of it).
_MIN_REBUILD = 32


class Timer:
    """One timer of a L{TimerQueue}: what a C{DelayedCall} offers its holder (C{active}, C{cancel}, C{reset} ...)."""

    __slots__ = ("time", "order", "func", "args", "cancelled", "called", "_queue", "_queued", "_due")

    def __init__(self, queue: "TimerQueue", time: float, order: int, func: Callable[..., Any], args: tuple) -> None:
        self._queue = queue
        self.time = time
        self._due = time  # where it sits in the heap: its time, or an earlier one it was moved back from
        self.order = order  # equal times fire in the order they were set
        self.func = func
        self.args = args
        self.cancelled = False
        self.called = False
        self._queued = True  # in the queue's heap

    def __lt__(self, other: "Timer") -> bool:  # the heap's order
        return (self._due, self.order) < (other._due, other.order)

    def getTime(self) -> float:
        return self.time

    def active(self) -> bool:
        return not (self.cancelled or self.called)

    def reset(self, delay: float) -> None:
        """
        Fire C{delay} seconds from now instead (as C{DelayedCall.reset}; an
        inactive timer: C{ValueError}). Moved later, it is one assignment:
        the timer keeps its place until its old time comes, and is then put
        back for the new one — a max-age deadline pushed back at every
        announcement costs no heap work (issue 19). Moved sooner, the heap is
        reordered.
        """
        if not self.active():
            raise ValueError(f"{self!r} cannot be reset")
        self.time = self._queue.clock.seconds() + max(0.0, delay)
        if self.time < self._due:
            self._due = self.time
            self._queue._moved()

    def cancel(self) -> None:
        """Do not fire (a timer that fired or was cancelled already: nothing)."""
        if self.active():
            self.cancelled = True
            if self._queued:
                self._queue._cancelled()

    def __repr__(self) -> str:
        state = "cancelled" if self.cancelled else "called" if self.called else "active"
        return f"<Timer {getattr(self.func, '__qualname__', self.func)} at {self.time:g} {state}>"


class TimerQueue:
    """
    Timers that share one C{DelayedCall} of C{clock} (an C{IReactorTime}).
    """

    log = Logger()

    __slots__ = ("clock", "_heap", "_order", "_call", "_armedFor", "_dead")

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self._heap: list[Timer] = []
        self._order = itertools.count()
        self._call: Any = None
        self._armedFor: Optional[float] = None
        self._dead = 0  # cancelled timers still in the heap

    def __len__(self) -> int:
        """The timers still to fire."""
        return len(self._heap) - self._dead

    def callLater(self, delay: float, func: Callable[..., Any], *args: Any) -> Timer:
        """As C{IReactorTime.callLater}, positional arguments only."""
        timer = Timer(self, self.clock.seconds() + max(0.0, delay), next(self._order), func, args)
        heapq.heappush(self._heap, timer)
        self._arm()
        return timer

    def _moved(self) -> None:
        """A timer was moved sooner."""
        heapq.heapify(self._heap)
        self._arm()

    def _cancelled(self) -> None:
        self._dead += 1
        if self._dead > _MIN_REBUILD and self._dead * 2 > len(self._heap):
            for timer in self._heap:
                timer._queued = not timer.cancelled
            self._heap = [timer for timer in self._heap if not timer.cancelled]
            heapq.heapify(self._heap)
            self._dead = 0
        self._arm()

    def _arm(self) -> None:
        """One call, for the earliest live timer; none when there is none."""
        heap = self._heap
        while heap and heap[0].cancelled:
            heapq.heappop(heap)._queued = False
            self._dead -= 1
        if not heap:
            if self._call is not None and self._call.active():
                self._call.cancel()
            self._call = self._armedFor = None
            return
        when = heap[0]._due
        if self._call is not None and self._call.active():
            if when == self._armedFor:
                return
            self._call.reset(max(0.0, when - self.clock.seconds()))
        else:
            self._call = self.clock.callLater(max(0.0, when - self.clock.seconds()), self._fire)
        self._armedFor = when

    def _fire(self) -> None:
        # due: what the call was set for (the clock's float arithmetic may put it a hair before) and earlier
        limit = max(self.clock.seconds(), self._armedFor or 0.0)
        self._call = self._armedFor = None
        heap, due = self._heap, []
        while heap and heap[0]._due <= limit:  # those due now; a timer set meanwhile waits for the next call
            timer = heapq.heappop(heap)
            if timer.cancelled:
                timer._queued = False
                self._dead -= 1
            elif timer.time > limit:  # moved later: back in the heap for its time
                timer._due = timer.time
                heapq.heappush(heap, timer)
            else:
                timer._queued = False
                due.append(timer)
        for timer in due:
            if timer.cancelled:  # by an earlier one of these
                continue
            if timer.time > limit:  # moved later by an earlier one of these
                timer._due, timer._queued = timer.time, True
                heapq.heappush(heap, timer)
                continue
            timer.called = True
            try:
                timer.func(*timer.args)
            except Exception:
                self.log.failure("timer {timer} failed", Failure(), timer=timer)
        self._arm()
