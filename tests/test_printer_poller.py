"""
Tests for L{proxier.printer.poller}: every transition of a printer's polls,
sans-IO with L{task.Clock} and a scripted fetch.
"""

from __future__ import annotations

from typing import Any, Optional

from twisted.internet import task
from twisted.internet.defer import Deferred
from twisted.trial import unittest
from zope.interface import implementer

from proxier.printer.poller import (
    JITTER,
    RESTART_TOLERANCE,
    TRANSITIONS,
    Health,
    IPollObserver,
    Phase,
    PollSlots,
    PrinterPoller,
)


@implementer(IPollObserver)
class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.failIn: str = ""

    def polled(self, attributes: Any, full: bool) -> None:
        self.events.append(("polled", attributes.get("n"), full))
        if self.failIn == "polled":
            raise RuntimeError("observer bug")

    def silent(self, reason: str) -> None:
        self.events.append(("offline", reason))

    def answering(self) -> None:
        self.events.append(("online",))

    def restarted(self, expected: bool) -> None:
        self.events.append(("restarted", expected))


class Printer:
    """The fetch: each call pends until the test answers it."""

    def __init__(self) -> None:
        self.calls: list[tuple[bool, Deferred]] = []
        self.cancelled = 0

    def fetch(self, full: bool) -> Deferred:
        def cancel(d: Deferred) -> None:
            self.cancelled += 1

        d: Deferred = Deferred(cancel)
        self.calls.append((full, d))
        return d

    def answer(self, n: int, upTime: Optional[int] = None, config: int = 1, state: int = 1) -> bool:
        """Answer the oldest pending fetch; returns whether it was a full one."""
        full, d = self.calls.pop(0)
        attrs = {"n": n, "printer-config-change-time": config, "printer-state-change-time": state}
        if upTime is not None:
            attrs["printer-up-time"] = upTime
        d.callback(attrs)
        return full

    def fail(self, why: str = "connection refused") -> None:
        self.calls.pop(0)[1].errback(ConnectionRefusedError(why))


class PollerTests(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.printer = Printer()
        self.observer = Recorder()
        self.slots = PollSlots(1)

    def make(self, printer: Optional[Printer] = None, observer: Optional[Recorder] = None, **kw: Any) -> PrinterPoller:
        for name, value in (("random", lambda: 0.5), ("interval", 60), ("fullInterval", 900), ("offlineAfter", 3)):
            kw.setdefault(name, value)
        poller = PrinterPoller((printer or self.printer).fetch, observer or self.observer, self.slots, self.clock,
                               **kw)
        self.addCleanup(lambda: poller.phase is Phase.STOPPED or poller.stop())
        return poller

    def test_transitionTable(self) -> None:
        """An event a phase does not list is a bug and raises instead of being ignored."""
        poller = self.make()
        self.assertRaises(RuntimeError, poller._move, "slot")
        self.assertEqual(poller.phase, Phase.STOPPED)
        self.assertEqual({p for p, _ in TRANSITIONS} | set(TRANSITIONS.values()), set(Phase))

    def test_firstPollFullThenCheap(self) -> None:
        """
        The first poll comes within the jitter and is full; the next comes an
        interval (plus jitter) after it ended and is cheap.
        """
        poller = self.make()
        poller.start()
        self.assertEqual(poller.phase, Phase.WAITING)
        self.clock.advance(60 * JITTER * 0.5)
        self.assertEqual(poller.phase, Phase.POLLING)
        self.assertTrue(self.printer.answer(1, upTime=100))
        self.assertEqual(self.observer.events, [("polled", 1, True), ("online",)])
        self.assertEqual(poller.phase, Phase.WAITING)
        self.clock.advance(60 * (1 + JITTER * 0.5) - 0.01)
        self.assertEqual(self.printer.calls, [])
        self.clock.advance(0.01)
        self.assertFalse(self.printer.answer(2, upTime=166))
        self.assertEqual(self.observer.events[-1], ("polled", 2, False), "online only once")

    def test_fullAfterFullInterval(self) -> None:
        """Once full_poll_interval passed since the last full read, the poll is full again."""
        poller = self.make(random=lambda: 0.0)
        poller.start()
        self.clock.advance(0)
        self.printer.answer(1)
        fulls = []
        for n in range(15):
            self.clock.advance(60)
            fulls.append(self.printer.answer(n))
        self.assertEqual(fulls, [False] * 14 + [True])
        self.assertEqual(poller.lastFull, 900)

    def test_changeTimesMoved(self) -> None:
        """
        A cheap answer whose config or state change time moved is not handed
        on: a full read follows at once, in the same slot, and only it is.
        """
        poller = self.make(random=lambda: 0.0)
        poller.start()
        self.clock.advance(0)
        self.printer.answer(1)
        self.clock.advance(60)
        self.assertFalse(self.printer.answer(2, config=2))
        self.assertEqual(poller.phase, Phase.POLLING)
        self.assertTrue(self.printer.answer(3, config=2))
        self.clock.advance(60)
        self.assertFalse(self.printer.answer(4, config=2, state=5))
        self.assertTrue(self.printer.answer(5, config=2, state=5))
        self.assertEqual([e for e in self.observer.events if e[0] == "polled"],
                         [("polled", 1, True), ("polled", 3, True), ("polled", 5, True)])

    def test_boundedConcurrency(self) -> None:
        """Two printers, one slot: the second waits (QUEUED) until the first answered."""
        other, otherObserver = Printer(), Recorder()
        first = self.make(random=lambda: 0.0)
        second = self.make(other, otherObserver, random=lambda: 0.0)
        first.start()
        second.start()
        self.clock.advance(0)
        self.assertEqual((first.phase, second.phase), (Phase.POLLING, Phase.QUEUED))
        self.assertEqual(other.calls, [])
        self.printer.answer(1)
        self.assertEqual(second.phase, Phase.POLLING)
        other.answer(1)
        self.assertEqual(self.slots.busy, 0)

    def test_offlineOnceOnlineAgain(self) -> None:
        """
        offline_after_failures polls in a row without an answer: offline,
        once however many more fail; the next answer: online.
        """
        poller = self.make(random=lambda: 0.0)
        poller.start()
        self.clock.advance(0)
        self.printer.answer(1)
        for _ in range(6):
            self.clock.advance(60)
            self.printer.fail()
        self.assertEqual(self.observer.events, [("polled", 1, True), ("online",), ("offline", "connection refused")])
        self.assertEqual(poller.health, Health.OFFLINE)
        self.assertEqual(poller.phase, Phase.WAITING, "an offline printer is still polled")
        self.clock.advance(60)
        self.printer.answer(2)
        self.assertEqual(self.observer.events[-2:], [("polled", 2, False), ("online",)])
        self.assertEqual((poller.health, poller.failures), (Health.ONLINE, 0))

    def test_failuresNotInARow(self) -> None:
        """Failures separated by an answer do not add up."""
        poller = self.make(random=lambda: 0.0)
        poller.start()
        self.clock.advance(0)
        for _ in range(3):
            self.printer.fail()
            self.clock.advance(60)
            self.printer.fail()
            self.clock.advance(60)
            self.printer.answer(1)
            self.clock.advance(60)
        self.assertNotIn("offline", [e[0] for e in self.observer.events])

    def test_neverAnswered(self) -> None:
        """A printer that never answered goes offline too (its device is known from an earlier run)."""
        poller = self.make(random=lambda: 0.0)
        poller.start()
        self.clock.advance(0)
        for _ in range(3):
            self.printer.fail("timeout")
            self.clock.advance(60)
        self.assertEqual(self.observer.events, [("offline", "timeout")])

    def test_upTimeBackwards(self) -> None:
        """printer-up-time going backwards is a restart, read in full, told before the values."""
        poller = self.make(random=lambda: 0.0)
        poller.start()
        self.clock.advance(0)
        self.printer.answer(1, upTime=500)
        self.clock.advance(60)
        self.assertFalse(self.printer.answer(2, upTime=3))
        self.assertTrue(self.printer.answer(3, upTime=3))
        self.assertEqual(self.observer.events[2:], [("restarted", False), ("polled", 3, True)])

    def test_restartHiddenByOutage(self) -> None:
        """
        Killed, offline, back with an up-time above the last one read: the
        boot time moved, so it restarted; online follows the values.
        """
        poller = self.make(random=lambda: 0.0)
        poller.start()
        self.clock.advance(0)
        self.printer.answer(1, upTime=10)
        for _ in range(5):
            self.clock.advance(60)
            self.printer.fail()
        self.clock.advance(60)
        self.assertFalse(self.printer.answer(2, upTime=20))
        self.assertTrue(self.printer.answer(3, upTime=20))
        self.assertEqual(self.observer.events[-4:],
                         [("offline", "connection refused"), ("restarted", False), ("polled", 3, True), ("online",)])

    def test_noRestartFromLatency(self) -> None:
        """An up-time that lags the clock by less than the tolerance is not a restart."""
        poller = self.make(random=lambda: 0.0)
        poller.start()
        self.clock.advance(0)
        self.printer.answer(1, upTime=1000)
        self.clock.advance(60)
        self.printer.answer(2, upTime=1060 - int(RESTART_TOLERANCE) + 1)
        self.assertNotIn("restarted", [e[0] for e in self.observer.events])

    def test_bootTimeFromEarlierRun(self) -> None:
        """A boot time kept from an earlier run finds a restart made while the proxier was down."""
        self.clock.advance(10000)
        poller = self.make(bootTime=5000.0, random=lambda: 0.0)
        poller.start()
        self.clock.advance(0)
        self.printer.answer(1, upTime=100)
        self.assertEqual(self.observer.events, [("restarted", False), ("polled", 1, True), ("online",)])
        self.assertEqual(poller.bootTime, 9900)

    def test_sameBootFromEarlierRun(self) -> None:
        """The same boot time as the earlier run's is no restart."""
        self.clock.advance(10000)
        poller = self.make(bootTime=9900.0, random=lambda: 0.0)
        poller.start()
        self.clock.advance(0)
        self.printer.answer(1, upTime=105)
        self.assertEqual(self.observer.events, [("polled", 1, True), ("online",)])

    def test_expectedRestart(self) -> None:
        """A restart the proxier asked for is told as expected ("M Reboot"); the next one is not."""
        poller = self.make(random=lambda: 0.0)
        poller.start()
        self.clock.advance(0)
        self.printer.answer(1, upTime=500)
        poller.expectRestart()
        self.clock.advance(60)
        self.printer.answer(2, upTime=5)
        self.printer.answer(2, upTime=5)
        self.clock.advance(60)
        self.printer.answer(3, upTime=1)
        self.printer.answer(3, upTime=1)
        self.assertEqual([e for e in self.observer.events if e[0] == "restarted"],
                         [("restarted", True), ("restarted", False)])

    def test_expectedRestartWindow(self) -> None:
        """A restart found long after the one asked for is not the one asked for."""
        poller = self.make(random=lambda: 0.0, interval=3600, fullInterval=7200)
        poller.start()
        self.clock.advance(0)
        self.printer.answer(1, upTime=5000)
        poller.expectRestart()
        self.clock.advance(3600 * 1.0)
        self.printer.answer(2, upTime=5)
        self.printer.answer(2, upTime=5)
        self.assertIn(("restarted", False), self.observer.events)

    def test_pollNow(self) -> None:
        """
        pollNow while waiting queues at once; while polling, another poll
        follows the one under way instead of waiting an interval.
        """
        poller = self.make(random=lambda: 0.0)
        poller.start()
        self.clock.advance(0)
        self.printer.answer(1)
        poller.pollNow()
        self.assertEqual(poller.phase, Phase.POLLING)
        poller.pollNow()
        self.printer.answer(2)
        self.assertEqual(poller.phase, Phase.POLLING)
        self.printer.answer(3)
        self.assertEqual(poller.phase, Phase.WAITING)
        self.assertEqual(len(self.clock.getDelayedCalls()), 1)

    def test_stopInEveryPhase(self) -> None:
        """
        stop cancels the timer, leaves the queue, cancels the fetch and frees
        its slot; nothing is told afterwards.
        """
        waiting = self.make()
        waiting.start()
        waiting.stop()
        self.assertEqual(self.clock.getDelayedCalls(), [])

        other = Printer()
        polling = self.make(random=lambda: 0.0)
        queued = self.make(other, Recorder(), random=lambda: 0.0)
        polling.start()
        queued.start()
        self.clock.advance(0)
        queued.stop()
        self.assertEqual(self.slots.waiting, [])
        polling.stop()
        self.assertEqual(self.printer.cancelled, 1)
        self.assertEqual(self.slots.busy, 0)
        self.assertEqual(self.observer.events, [])
        self.assertEqual(other.calls, [])

    def test_observerFailure(self) -> None:
        """An observer that raises is logged; the poller goes on waiting for the next poll."""
        poller = self.make(random=lambda: 0.0)
        self.observer.failIn = "polled"
        poller.start()
        self.clock.advance(0)
        self.printer.answer(1)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.assertEqual(poller.phase, Phase.WAITING)
        self.assertEqual(self.slots.busy, 0)

    def test_observerStops(self) -> None:
        """An observer that stops the poller while told of an answer ends it there: nothing more is told or fetched."""
        poller = self.make(random=lambda: 0.0)
        self.observer.polled = lambda attributes, full: poller.stop()  # type: ignore[method-assign]
        poller.start()
        self.clock.advance(0)
        self.printer.answer(1)
        self.assertEqual((poller.phase, self.slots.busy), (Phase.STOPPED, 0))
        self.assertEqual(self.observer.events, [])
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_seed(self) -> None:
        """A seeded answer counts as the last full read: the first poll is cheap, and no online is told."""
        poller = self.make(random=lambda: 0.0)
        poller.seed({"printer-up-time": 10, "printer-config-change-time": 1, "printer-state-change-time": 1})
        poller.start()
        self.clock.advance(0)
        self.assertFalse(self.printer.answer(1, upTime=10))
        self.assertEqual(self.observer.events, [("polled", 1, False)])
        self.assertRaises(RuntimeError, poller.seed, {})
