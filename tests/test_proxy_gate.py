"""
Tests for L{proxier.proxy.gate}: the per-device queue, its bounds, its
timeouts and cancellation, whether the device answers, observers and the
policy hook — all on a L{task.Clock} with a scripted device of a neutral
protocol (its own refusal and no-answer errors), since the gate knows none.
"""

from __future__ import annotations

from typing import Any, Optional

from twisted.internet import task
from twisted.internet.defer import CancelledError, Deferred
from twisted.python.failure import Failure
from twisted.trial import unittest

from proxier.proxy.gate import ActionGate, ActionTimeout, GateFull, NoAnswer

#: the protocol's service handle: the gate passes it through
CMS = object()


class Refused(Exception):
    """The scripted protocol's answer that says no."""


class Unreachable(Exception):
    """The scripted protocol's "no usable answer"."""


def refused(failure: Failure) -> bool:
    """The scripted protocol's word on a failed call: a Refused is the device's answer."""
    return failure.check(Refused) is not None


class ScriptedDevice:
    """Answers each action with what the test puts in C{answers}, or holds it."""

    def __init__(self) -> None:
        self.started: list[tuple[str, Deferred, Optional[float]]] = []
        self.cancelled: list[str] = []

    def callAction(self, service: Any, action: str, arguments: Any = None, timeout: Optional[float] = None):
        d: Deferred = Deferred(lambda _: self.cancelled.append(action))
        self.started.append((action, d, timeout))
        return d

    def answer(self, index: int, result: Any) -> None:
        d = self.started[index][1]
        if isinstance(result, Exception):
            d.errback(result)
        else:
            d.callback(result)


class GateTests(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.device = ScriptedDevice()
        self.events: list[str] = []
        self.gate = ActionGate(lambda: self.device, self.clock, refused=refused, timeout=10, concurrency=2,
                               queueLimit=3, offlineAfter=2, onUnreachable=lambda: self.events.append("unreachable"),
                               onAnswer=lambda: self.events.append("answer"))

    def test_concurrencyAndOrder(self) -> None:
        """At most two in flight; the rest leave in order as answers come."""
        ds = [self.gate.call(CMS, f"A{i}") for i in range(4)]
        self.assertEqual([a for a, _, _ in self.device.started], ["A0", "A1"])
        self.device.answer(0, {"x": "1"})
        self.assertEqual(self.successResultOf(ds[0]), {"x": "1"})
        self.assertEqual([a for a, _, _ in self.device.started], ["A0", "A1", "A2"])
        self.assertEqual(self.gate.busy, 3)

    def test_freedWithoutTheCollector(self) -> None:
        """
        Once a call ended — answered, refused, timed out on the wire,
        cancelled while waiting — its Deferred is freed as soon as the caller lets go
        of it: the call and its Deferred no longer hold each other, which
        left every action's answer to the cyclic collector (issue 19).
        """
        import gc
        import weakref

        if gc.isenabled():
            gc.disable()
            self.addCleanup(gc.enable)
        self.device.started.clear()
        ds = [self.gate.call(CMS, f"A{i}") for i in range(5)]  # two on the wire, three waiting
        refs = [weakref.ref(d) for d in ds]
        for d in ds:
            d.addErrback(lambda f: None)
        self.device.answer(0, {"x": "1"})
        self.device.answer(1, Refused())
        ds[4].cancel()  # waiting
        self.clock.advance(10)  # A2 and A3, sent as A0 and A1 ended, time out on the wire
        self.device.started.clear()
        del ds, d
        self.assertEqual([ref() for ref in refs], [None] * 5)

    def test_idleHoldsTheEmptyTuple(self) -> None:
        """
        An idle gate's queue and calls in flight are the one empty tuple, again
        once every call ended — answered, timed out, cancelled (issue 19).
        """
        self.assertEqual((self.gate._waiting, self.gate._inFlight), ((), ()))
        ds = [self.gate.call(CMS, f"A{i}") for i in range(4)]
        self.device.answer(1, {})
        ds[3].cancel()
        self.assertEqual(self.gate.busy, 2)
        self.clock.advance(10)
        self.assertEqual([self.successResultOf(ds[1]), self.gate.busy], [{}, 0])
        self.failureResultOf(ds[0], ActionTimeout)
        self.failureResultOf(ds[2], ActionTimeout)
        self.failureResultOf(ds[3], CancelledError)
        self.assertIs(self.gate._waiting, ())
        self.assertIs(self.gate._inFlight, ())

    def test_queueLimit(self) -> None:
        """Beyond the waiting limit a call fails at once with GateFull."""
        for i in range(5):
            self.gate.call(CMS, f"A{i}")
        self.failureResultOf(self.gate.call(CMS, "X"), GateFull)

    def test_timeoutOnTheWire(self) -> None:
        """An action unanswered within the deadline fails with ActionTimeout and is cancelled on the wire."""
        d = self.gate.call(CMS, "Slow")
        self.assertEqual(self.device.started[0][2], 10)  # the device call gets what is left
        self.clock.advance(10)
        failure = self.failureResultOf(d, ActionTimeout)
        self.assertIn("on the wire", str(failure.value))
        self.assertEqual(self.device.cancelled, ["Slow"])

    def test_timeoutCountsQueueTime(self) -> None:
        """The deadline runs from the call: time spent waiting counts, and expiry in the queue sends nothing."""
        first, second = self.gate.call(CMS, "A"), self.gate.call(CMS, "B")
        waiting = self.gate.call(CMS, "C")
        self.clock.advance(6)
        self.device.answer(0, {})
        self.assertEqual(self.device.started[2][2], 4)  # C left the queue with 4 s to go
        third = self.gate.call(CMS, "D")
        self.clock.advance(4)
        self.failureResultOf(second, ActionTimeout)
        self.failureResultOf(waiting, ActionTimeout)
        self.clock.advance(6)
        failure = self.failureResultOf(third, ActionTimeout)
        self.assertIn("on the wire", str(failure.value))
        self.successResultOf(first)

    def test_expiredInQueueNeverSent(self) -> None:
        """A call that expires while waiting is never sent."""
        running = [self.gate.call(CMS, "A"), self.gate.call(CMS, "B")]
        waiting = self.gate.call(CMS, "C")
        self.clock.advance(10)
        for d in running + [waiting]:
            self.failureResultOf(d, ActionTimeout)
        self.assertEqual([a for a, _, _ in self.device.started], ["A", "B"])

    def test_cancel(self) -> None:
        """Cancelling withdraws a waiting call, or cancels one in flight; the next one goes."""
        running = self.gate.call(CMS, "A")
        self.gate.call(CMS, "B")
        waiting = self.gate.call(CMS, "C")
        waiting.cancel()
        self.failureResultOf(waiting, CancelledError)
        running.cancel()
        self.failureResultOf(running, CancelledError)
        self.assertEqual(self.device.cancelled, ["A"])
        self.assertEqual([a for a, _, _ in self.device.started], ["A", "B"])
        self.gate.call(CMS, "D")
        self.assertEqual([a for a, _, _ in self.device.started], ["A", "B", "D"])

    def test_unreachableThenAnswering(self) -> None:
        """Two calls in a row without an answer: unreachable (once); any answer, a refusal too: back."""
        for i in range(3):
            d = self.gate.call(CMS, f"A{i}")
            self.device.answer(i, Unreachable("connection refused"))
            self.failureResultOf(d, Unreachable)
        self.assertEqual(self.events, ["unreachable"])
        d = self.gate.call(CMS, "B")
        self.device.answer(3, Refused("No Such Name"))
        self.failureResultOf(d, Refused)
        self.assertEqual(self.events, ["unreachable", "answer"])
        self.assertEqual(self.gate.failuresInARow, 0)
        self.assertEqual(self.gate.counts["unanswered"], 3)
        self.assertEqual(self.gate.counts["refused"], 1)

    def test_timeoutsCount(self) -> None:
        """Timeouts on the wire count as no answer."""
        calls = [self.gate.call(CMS, "A"), self.gate.call(CMS, "B")]
        self.clock.advance(10)
        for d in calls:
            self.failureResultOf(d, ActionTimeout)
        self.assertEqual(self.events, ["unreachable"])

    def test_noTarget(self) -> None:
        """With no reachable device the call fails at once with NoAnswer, and is not counted."""
        gate = ActionGate(lambda: None, self.clock, refused=refused)
        self.failureResultOf(gate.call(CMS, "A"), NoAnswer)
        self.assertEqual(gate.failuresInARow, 0)

    def test_policy(self) -> None:
        """The policy may refuse an action before it leaves (DeviceProtection's hook)."""
        self.gate.policy = lambda service, action: Refused("Action not authorized") if action == "SetValues" else None
        self.failureResultOf(self.gate.call(CMS, "SetValues"), Refused)
        self.assertEqual(self.device.started, [])
        self.gate.call(CMS, "GetValues")
        self.assertEqual([a for a, _, _ in self.device.started], ["GetValues"])

    def test_observers(self) -> None:
        """Observers hear each action start and end, with its result and how long it took."""
        seen: list = []

        class Observer:
            def actionStarted(self, gate, service, action, arguments):
                seen.append(("start", action, dict(arguments)))

            def actionEnded(self, gate, service, action, arguments, result, elapsed):
                seen.append(("end", action, result, elapsed))

        self.gate.observers.append(Observer())
        d = self.gate.call(CMS, "GetValues", {"Parameters": "p"})
        self.clock.advance(1.5)
        self.device.answer(0, {"ParameterValueList": "v"})
        self.successResultOf(d)
        self.assertEqual(seen, [("start", "GetValues", {"Parameters": "p"}),
                                ("end", "GetValues", {"ParameterValueList": "v"}, 1.5)])

    def test_cancelAll(self) -> None:
        """cancelAll fails what waits and what runs (the device left), without counting them."""
        ds = [self.gate.call(CMS, f"A{i}") for i in range(3)]
        self.gate.cancelAll("the device left")
        for d in ds:
            self.failureResultOf(d, NoAnswer)
        self.assertEqual(self.gate.failuresInARow, 0)
        self.assertEqual(self.gate.busy, 0)

    def test_lateAnswerIgnored(self) -> None:
        """An answer arriving after the timeout changes nothing."""
        d = self.gate.call(CMS, "A")
        self.clock.advance(10)
        self.failureResultOf(d, ActionTimeout)
        self.assertEqual(self.gate.busy, 0)

    def test_otherFailuresCountAsNoAnswer(self) -> None:
        """An error the protocol does not call a refusal is no answer: it counts towards unreachable."""
        for i in range(2):
            d = self.gate.call(CMS, f"A{i}")
            self.device.answer(i, ValueError("malformed"))
            self.failureResultOf(d, ValueError)
        self.assertEqual(self.events, ["unreachable"])
        self.assertEqual(self.gate.counts["refused"], 0)
