"""Tests for L{proxier.timers}: many timers on one reactor call."""

from __future__ import annotations

from twisted.internet.task import Clock
from twisted.logger import globalLogPublisher
from twisted.trial import unittest

from proxier.timers import TimerQueue


class TimerQueueTests(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.queue = TimerQueue(self.clock)
        self.fired: list = []

    def later(self, delay: float, name: str) -> object:
        return self.queue.callLater(delay, self.fired.append, name)

    def test_orderAndOneCall(self) -> None:
        """Timers fire in time order (equal times in the order set), on one reactor call at a time."""
        self.later(30, "c")
        self.later(10, "a")
        self.later(10, "b")
        self.assertEqual([c.getTime() for c in self.clock.getDelayedCalls()], [10])
        self.clock.advance(10)
        self.assertEqual(self.fired, ["a", "b"])
        self.assertEqual([c.getTime() for c in self.clock.getDelayedCalls()], [30])
        self.clock.advance(19.5)
        self.assertEqual(self.fired, ["a", "b"])
        self.clock.advance(0.5)
        self.assertEqual(self.fired, ["a", "b", "c"])
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_exactTimes(self) -> None:
        """A timer fires when the clock reaches its time, whatever the float arithmetic of the delays."""
        self.clock.advance(0.1)
        self.later(0.2, "x")
        self.clock.advance(0.2)
        self.assertEqual(self.fired, ["x"])

    def test_cancel(self) -> None:
        """A cancelled timer does not fire; with none left, the reactor holds nothing."""
        first, second = self.later(5, "first"), self.later(8, "second")
        first.cancel()
        self.assertFalse(first.active())
        self.assertEqual([c.getTime() for c in self.clock.getDelayedCalls()], [8])
        second.cancel()
        second.cancel()
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.assertEqual(len(self.queue), 0)
        self.clock.advance(10)
        self.assertEqual(self.fired, [])

    def test_earlierTimerMovesTheCall(self) -> None:
        """A timer earlier than the armed one brings the reactor call forward."""
        self.later(100, "late")
        self.later(1, "early")
        self.assertEqual([c.getTime() for c in self.clock.getDelayedCalls()], [1])
        self.clock.advance(1)
        self.assertEqual(self.fired, ["early"])

    def test_setWhileFiring(self) -> None:
        """A timer set or cancelled by a firing one is honoured."""
        def first() -> None:
            self.fired.append("first")
            victim.cancel()
            self.later(0, "again")

        self.queue.callLater(5, first)
        victim = self.later(5, "victim")
        kept = self.later(5, "kept")
        self.clock.advance(5)
        self.assertEqual(self.fired, ["first", "kept", "again"])  # "again" on a call of its own, as with callLater
        self.assertFalse(kept.active())
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_failureLogged(self) -> None:
        """A timer that raises is logged; the others due with it still fire."""
        events: list = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        self.queue.callLater(1, lambda: 1 / 0)
        self.later(1, "after")
        self.clock.advance(1)
        self.assertEqual(self.fired, ["after"])
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)

    def test_cancelledRebuilt(self) -> None:
        """Many cancelled timers behind a live one do not stay in the heap."""
        self.later(1, "live")
        timers = [self.later(1000 + i, str(i)) for i in range(100)]
        for timer in timers:
            timer.cancel()
        self.assertLess(len(self.queue._heap), 50)
        self.assertEqual(len(self.queue), 1)
        self.clock.advance(2000)
        self.assertEqual(self.fired, ["live"])
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_resetLater(self) -> None:
        """A timer moved later fires at its new time only, the others at theirs; moved again, at the last."""
        moved, other = self.later(10, "moved"), self.later(15, "other")
        self.clock.advance(5)
        moved.reset(20)
        self.assertEqual(moved.getTime(), 25)
        self.assertEqual(len(self.queue._heap), 2)  # no new entry
        self.clock.advance(5)
        self.assertEqual(self.fired, [])
        moved.reset(20)  # at 10, to 30
        self.clock.advance(5)
        self.assertEqual(self.fired, ["other"])
        self.clock.advance(14.5)
        self.assertEqual(self.fired, ["other"])
        self.clock.advance(0.5)
        self.assertEqual(self.fired, ["other", "moved"])
        self.assertFalse(moved.active())
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_resetSooner(self) -> None:
        """A timer moved sooner brings the reactor call forward and fires before those it now precedes."""
        self.later(10, "other")
        moved = self.later(100, "moved")
        moved.reset(50)  # later than its place, sooner than its time
        moved.reset(3)
        self.assertEqual([c.getTime() for c in self.clock.getDelayedCalls()], [3])
        self.clock.advance(3)
        self.assertEqual(self.fired, ["moved"])
        self.clock.advance(7)
        self.assertEqual(self.fired, ["moved", "other"])
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_resetWhileFiring(self) -> None:
        """A timer due in the same call, moved later by an earlier one, waits for its new time."""
        self.queue.callLater(5, lambda: victim.reset(10))
        victim = self.later(5, "victim")
        self.clock.advance(5)
        self.assertEqual(self.fired, [])
        self.assertTrue(victim.active())
        self.clock.advance(10)
        self.assertEqual(self.fired, ["victim"])

    def test_resetInactive(self) -> None:
        """A timer that fired or was cancelled cannot be reset."""
        fired, cancelled = self.later(1, "fired"), self.later(5, "cancelled")
        cancelled.cancel()
        self.clock.advance(1)
        self.assertRaises(ValueError, fired.reset, 1)
        self.assertRaises(ValueError, cancelled.reset, 1)
