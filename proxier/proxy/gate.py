# -*- test-case-name: tests.test_proxy_gate -*-
"""
The one door every action to one device goes through.

A Virtual CWMP Device's every action on its device — for an ACS request, an
event, a probe; CMS and BMS for UPnP DM — is a call of L{ActionGate.call},
which:

 - queues it behind the device's other actions, at most C{concurrency} in
   flight at once and C{queueLimit} waiting (a full queue fails at once:
   9004 for the ACS, never an unbounded backlog);
 - bounds it: C{timeout} seconds from the moment it was asked for, waiting
   in the queue included, after which it fails with L{ActionTimeout} (and
   the request in flight is cancelled); cancelling the caller's Deferred
   withdraws it from the queue or cancels it on the wire;
 - tells whether the device answers: after C{offlineAfter} calls in a row
   that got no answer at all (a timeout, a refused connection, a malformed
   body) the device is reported unreachable; any answer — a result or a
   refusal — reports it reachable again;
 - lets observers see each action start and end (the demo prints them);
 - is where an action can be refused before it leaves (L{ActionGate.policy}):
   DeviceProtection's role check and TLS identity (issue 8) plug in here.

So one hung device holds at most its own C{concurrency} slots; every other
device has its own gate.

The gate knows no protocol: the device, the service and the arguments are
the protocol's, passed through; which failures are nonetheless the device's
answer (a UPnPError) the protocol tells it (C{refused}).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, Protocol

from twisted.internet.defer import CancelledError, Deferred, fail, maybeDeferred
from twisted.python.failure import Failure

__all__ = ["ActionGate", "ActionTimeout", "GateFull", "IActionObserver", "NoAnswer"]


class NoAnswer(Exception):
    """The gate ended the action without an answer: no device reachable, the device left, the deadline passed."""


class ActionTimeout(NoAnswer):
    """The action got no answer within its deadline (in the queue or on the wire)."""


class GateFull(Exception):
    """Too many actions wait for this device already."""


class IActionObserver(Protocol):
    def actionStarted(self, gate: "ActionGate", service: Any, action: str,
                      arguments: Mapping[str, object]) -> None: ...

    def actionEnded(self, gate: "ActionGate", service: Any, action: str, arguments: Mapping[str, object],
                    result: Any, elapsed: float) -> None: ...


class _Call:
    __slots__ = ("service", "action", "arguments", "timeout", "deferred", "deadline", "timer", "inner", "started")

    deadline: float

    def __init__(self, service: Any, action: str, arguments: Mapping[str, object], timeout: float) -> None:
        self.service = service
        self.action = action
        self.arguments = arguments
        self.timeout = timeout
        self.deferred: Optional[Deferred] = None  # the caller's; let go once fired (its canceller holds this call)
        self.timer: Any = None
        self.inner: Optional[Deferred] = None
        self.started: Optional[float] = None


def _without(calls: tuple[_Call, ...], call: _Call) -> tuple[_Call, ...]:
    """C{calls} without C{call} (the same tuple when it is not there)."""
    if call not in calls:
        return calls
    index = calls.index(call)
    return calls[:index] + calls[index + 1:]


class ActionGate:
    """
    @param target: C{() → the device to call now} (or C{None} when none is
        reachable), looked up when each action leaves the queue: anything
        with C{callAction(service, action, arguments, timeout) → Deferred}
        (a UPnPDevice).
    @param clock: C{callLater} and C{seconds}.
    @param refused: C{failure → bool}: whether a failed call is the
        device's answer all the same (it refused: a UPnPError), which shows
        it reachable; every other failure is no answer. The protocol's.
    @param onUnreachable: called once when C{offlineAfter} calls in a row
        got no answer.
    @param onAnswer: called when the device answers after that.

    @ivar policy: C{(service, action) → None} to let an action go, or an
        exception to fail it with (never sent); for DeviceProtection.
    @ivar counts: actions sent, answered, refused, unanswered.
    """

    # slots, and tuples for the queue (at most queueLimit) and the calls in
    # flight (at most concurrency), mostly empty, the empty one shared: one
    # gate per device, its empty deque and set were 0.8 KB, two lists 112 B (issue 19)
    __slots__ = ("target", "clock", "refused", "timeout", "concurrency", "queueLimit", "offlineAfter",
                 "onUnreachable", "onAnswer", "name", "policy", "observers", "failuresInARow", "unreachable",
                 "counts", "_waiting", "_inFlight")

    def __init__(
        self,
        target: Callable[[], Any],
        clock: Any,
        *,
        refused: Callable[[Failure], bool],
        timeout: float = 30.0,
        concurrency: int = 2,
        queueLimit: int = 64,
        offlineAfter: int = 3,
        onUnreachable: Optional[Callable[[], None]] = None,
        onAnswer: Optional[Callable[[], None]] = None,
        name: str = "",
    ) -> None:
        self.target = target
        self.clock = clock
        self.refused = refused
        self.timeout = timeout
        self.concurrency = max(1, concurrency)
        self.queueLimit = queueLimit
        self.offlineAfter = max(1, offlineAfter)
        self.onUnreachable = onUnreachable
        self.onAnswer = onAnswer
        self.name = name
        self.policy: Optional[Callable[[Any, str], Optional[Exception]]] = None
        self.observers: list[IActionObserver] = []
        self.failuresInARow = 0
        self.unreachable = False
        self.counts = {"sent": 0, "answered": 0, "refused": 0, "unanswered": 0, "timeouts": 0}
        self._waiting: tuple[_Call, ...] = ()
        self._inFlight: tuple[_Call, ...] = ()

    @property
    def busy(self) -> int:
        """Actions in flight plus waiting."""
        return len(self._inFlight) + len(self._waiting)

    def call(self, service: Any, action: str, arguments: Optional[Mapping[str, object]] = None, *,
             timeout: Optional[float] = None) -> Deferred:
        """
        Invoke C{action} on C{service} of the device, in turn.

        @return: Deferred firing with the output arguments; failing with a
            refusal (the device's, or the policy's), the protocol's or the
            gate's no usable answer (L{NoAnswer}, L{ActionTimeout}) or
            L{GateFull}.
        """
        if len(self._waiting) >= self.queueLimit:
            return fail(GateFull(f"{len(self._waiting)} actions already wait for this device"))
        call = _Call(service, action, dict(arguments or {}), float(timeout or self.timeout))
        call.deferred = d = Deferred(lambda _: self._cancel(call))
        call.deadline = self.clock.seconds() + call.timeout
        call.timer = self.clock.callLater(call.timeout, self._expired, call)
        self._waiting += (call,)
        self._next()
        return d

    def cancelAll(self, reason: str) -> None:
        """Fail every waiting and running action (the device is gone for now)."""
        for call in self._waiting + self._inFlight:
            self._finish(call, Failure(NoAnswer(f"{call.action}: {reason}")), count=False)

    # -- the queue -------------------------------------------------------------------

    def _next(self) -> None:
        while self._waiting and len(self._inFlight) < self.concurrency:
            call, self._waiting = self._waiting[0], self._waiting[1:]
            if self.clock.seconds() >= call.deadline:  # its timer is due in this same turn: never send it
                self._stopTimer(call)
                self.counts["timeouts"] += 1
                self._fire(call, Failure(ActionTimeout(
                    f"{call.action}: no answer within {call.timeout:g} s (waiting in the queue)")))
                continue
            self._send(call)

    def _send(self, call: _Call) -> None:
        self._inFlight += (call,)
        refusal = self.policy(call.service, call.action) if self.policy is not None else None
        if refusal is not None:
            self._finish(call, Failure(refusal), count=False)
            return
        device = self.target()
        if device is None:
            self._finish(call, Failure(NoAnswer(f"{call.action}: the device is not reachable now")), count=False)
            return
        call.started = self.clock.seconds()
        remaining = max(0.1, call.deadline - call.started)
        self.counts["sent"] += 1
        for observer in list(self.observers):
            try:
                observer.actionStarted(self, call.service, call.action, call.arguments)
            except Exception:
                pass
        call.inner = maybeDeferred(device.callAction, call.service, call.action, call.arguments, remaining)
        call.inner.addBoth(self._answered, call)

    def _answered(self, result: Any, call: _Call) -> None:
        call.inner = None
        if call not in self._inFlight:
            return  # already ended (timed out or cancelled)
        self._finish(call, result, count=True)

    def _expired(self, call: _Call) -> None:
        call.timer = None
        where = "on the wire" if call in self._inFlight else "waiting in the queue"
        self.counts["timeouts"] += 1
        self._finish(call, Failure(ActionTimeout(f"{call.action}: no answer within {call.timeout:g} s ({where})")),
                     count=call in self._inFlight)

    def _cancel(self, call: _Call) -> None:
        call.deferred = None  # it fails with CancelledError by itself
        self._waiting = _without(self._waiting, call)
        self._stopTimer(call)
        inner, call.inner = call.inner, None
        self._inFlight = _without(self._inFlight, call)
        if inner is not None:
            inner.cancel()
        self._next()

    def _stopTimer(self, call: _Call) -> None:
        if call.timer is not None and call.timer.active():
            call.timer.cancel()
        call.timer = None

    def _finish(self, call: _Call, result: Any, count: bool) -> None:
        self._stopTimer(call)
        self._waiting = _without(self._waiting, call)
        self._inFlight = _without(self._inFlight, call)
        inner, call.inner = call.inner, None
        if inner is not None:
            inner.cancel()
        if count:
            self._account(call, result)
        self._fire(call, result)
        self._next()

    @staticmethod
    def _fire(call: _Call, result: Any) -> None:
        """
        The caller's Deferred fired with C{result}, and let go: it and the
        call hold each other (its canceller is the call's), and were freed
        by the cyclic collector only, with the answer (issue 19).
        """
        d, call.deferred = call.deferred, None
        if d is not None and not d.called:
            if isinstance(result, Failure):
                d.errback(result)
            else:
                d.callback(result)

    def _account(self, call: _Call, result: Any) -> None:
        elapsed = self.clock.seconds() - call.started if call.started is not None else 0.0
        for observer in list(self.observers):
            try:
                observer.actionEnded(self, call.service, call.action, call.arguments, result, elapsed)
            except Exception:
                pass
        answered = not isinstance(result, Failure) or self.refused(result)
        if answered:
            self.counts["answered" if not isinstance(result, Failure) else "refused"] += 1
            self.failuresInARow = 0
            if self.unreachable:
                self.unreachable = False
                if self.onAnswer is not None:
                    self.onAnswer()
            return
        if result.check(CancelledError):
            return
        self.counts["unanswered"] += 1
        self.failuresInARow += 1
        if self.failuresInARow >= self.offlineAfter and not self.unreachable:
            self.unreachable = True
            if self.onUnreachable is not None:
                self.onUnreachable()
