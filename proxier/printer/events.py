# -*- test-case-name: tests.test_printer_events -*-
"""
IPP events where a printer offers them (RFC 3995, ippget RFC 3996;
PRINTERS.md §6): an event only makes the printer's next poll come now — the
poll's diff is the truth, so polling stays correct without events
(ippeveprinter 2.4 offers none; cupsd does).

Sans-IO: the IPP operations go through C{call(action, arguments)} (the
device's gate), the clock is given. The states (L{State}; the moves are
L{TRANSITIONS}):

    IDLE ──start──▶ SUBSCRIBING ──granted──▶ SUBSCRIBED ◀──────┐
                        │  ▲                    │ due          │ got (events: poll now)
              refused   │  │ lost / retry       ▼              │
                        ▼  │                 FETCHING ─────────┘
                   UNSUPPORTED / BACKOFF ◀── (a failure without an answer)
    (stop from any state ──▶ IDLE: timers cancelled, the subscription cancelled, best effort)

 - SUBSCRIBING: Create-Printer-Subscriptions (printer-state-changed,
   printer-config-changed, lease L{LEASE});
 - SUBSCRIBED: Get-Notifications is due after the printer's
   C{notify-get-interval}, kept between L{MIN_INTERVAL} and the poll
   interval; the lease is renewed at half its time;
 - an answer with events: the poll comes now; a subscription the printer
   no longer knows (it restarted): subscribe again, and poll now;
 - UNSUPPORTED: the printer refused (an IPP status): asked again after
   C{retry} seconds (the full-poll interval), logged once;
 - BACKOFF: no answer: tried again after the poll interval (whether the
   printer is offline is the poller's to say).
"""

from __future__ import annotations

import enum
from typing import Any, Callable, Mapping, Optional

from twisted.internet.defer import CancelledError, Deferred, succeed
from twisted.logger import Logger
from twisted.python.failure import Failure

from proxier.printer.ippclient import IPPStatusError

__all__ = ["IPPEvents", "State", "TRANSITIONS", "LEASE", "MIN_INTERVAL", "EVENTS"]

EVENTS = ("printer-state-changed", "printer-config-changed")
#: Seconds of lease asked for; renewed at half of what the printer granted.
LEASE = 3600
#: The shortest wait between two Get-Notifications, whatever the printer asks.
MIN_INTERVAL = 5.0


class State(enum.Enum):
    IDLE = "idle"
    SUBSCRIBING = "subscribing"
    SUBSCRIBED = "subscribed"
    FETCHING = "fetching"
    UNSUPPORTED = "unsupported"
    BACKOFF = "backoff"


#: (state, event) → the next state; an event not listed in a state is a bug, not ignored.
TRANSITIONS: Mapping[tuple[State, str], State] = {
    (State.IDLE, "start"): State.SUBSCRIBING,
    (State.SUBSCRIBING, "granted"): State.SUBSCRIBED,
    (State.SUBSCRIBING, "refused"): State.UNSUPPORTED,
    (State.SUBSCRIBING, "unanswered"): State.BACKOFF,
    (State.UNSUPPORTED, "retry"): State.SUBSCRIBING,
    (State.BACKOFF, "retry"): State.SUBSCRIBING,
    (State.SUBSCRIBED, "due"): State.FETCHING,
    (State.FETCHING, "got"): State.SUBSCRIBED,
    (State.FETCHING, "unanswered"): State.SUBSCRIBED,
    (State.FETCHING, "lost"): State.SUBSCRIBING,
    (State.SUBSCRIBED, "lost"): State.SUBSCRIBING,
}


class IPPEvents:
    """
    @param call: C{call(action, arguments)} → Deferred: the device's IPP
        operations (C{"Create-Printer-Subscriptions"}, C{"Get-Notifications"},
        C{"Renew-Subscription"}, C{"Cancel-Subscription"}).
    @param pollNow: what an event does.
    @param interval: the poll interval: notifications are not asked for
        less often, nor a printer without an answer asked again sooner.
    @param retry: seconds before a printer that refused is asked again.
    """

    log = Logger()

    def __init__(self, call: Callable[[str, Mapping[str, Any]], Deferred], pollNow: Callable[[], None], clock: Any, *,
                 interval: float = 60.0, retry: float = 900.0, log: Any = None) -> None:
        self.call = call
        self.pollNow = pollNow
        self.clock = clock
        self.interval = interval
        self.retry = retry
        if log is not None:
            self.log = log
        self.state = State.IDLE
        self.subscription: Optional[int] = None
        self.sequence = 1
        self.wait = interval
        self._refusal = ""  # the last refusal logged, so that it is logged once
        self._timer: Any = None
        self._renewal: Any = None
        self._pending: Optional[Deferred] = None

    def _move(self, event: str) -> None:
        try:
            self.state = TRANSITIONS[(self.state, event)]
        except KeyError:
            raise RuntimeError(f"IPP events: {event!r} in state {self.state.value}") from None

    def _later(self, delay: float, what: Callable[[], None]) -> None:
        self._timer = self.clock.callLater(delay, what)

    def _send(self, action: str, arguments: Mapping[str, Any], ok: Callable[[Any], None],
              failed: Callable[[Failure], None]) -> None:
        d = self.call(action, arguments)
        self._pending = d

        def done(result: Any) -> None:
            if self._pending is d:
                self._pending = None
            if self.state is State.IDLE or (isinstance(result, Failure) and result.check(CancelledError)):
                return
            (failed if isinstance(result, Failure) else ok)(result)

        d.addBoth(done)
        d.addErrback(lambda f: self.log.failure("handling an IPP event answer failed", f))

    # -- control ------------------------------------------------------------------------------

    def start(self) -> None:
        self._move("start")
        self._subscribe()

    def stop(self) -> Deferred:
        """
        Stop for good; the printer is asked to cancel the subscription.

        @return: a Deferred firing (never failing) once the printer
            answered that, or could not.
        """
        for timer in (self._timer, self._renewal):
            if timer is not None and timer.active():
                timer.cancel()
        self._timer = self._renewal = None
        self.state = State.IDLE
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.cancel()
        subscription, self.subscription = self.subscription, None
        if subscription is None:
            return succeed(None)
        d = self.call("Cancel-Subscription", {"id": subscription})
        return d.addErrback(lambda f: self.log.info("cancelling the ippget subscription failed: {why}",
                                                    why=f.getErrorMessage()))

    # -- the machine ----------------------------------------------------------------------------

    def _subscribe(self) -> None:
        self._timer = None
        self._send("Create-Printer-Subscriptions", {"events": EVENTS, "lease": LEASE}, self._granted, self._notGranted)

    def _granted(self, subscription: Any) -> None:
        self._move("granted")
        self._refusal = ""
        self.subscription = subscription.identifier
        self.sequence = 1
        self.log.info("ippget subscription {id} granted: events make the next poll come at once",
                      id=subscription.identifier)
        if subscription.lease > 0:
            self._renewal = self.clock.callLater(subscription.lease / 2, self._renew)
        self._later(self.wait, self._due)

    def _notGranted(self, failure: Failure) -> None:
        if failure.check(IPPStatusError):
            self._move("refused")
            why = failure.getErrorMessage()
            if why != self._refusal:
                self._refusal = why
                self.log.info("no IPP events ({why}): polling alone", why=why)
            self._later(self.retry, self._retry)
        else:
            self._move("unanswered")
            self._later(self.interval, self._retry)

    def _retry(self) -> None:
        self._move("retry")
        self._subscribe()

    def _due(self) -> None:
        self._move("due")
        self._timer = None
        self._send("Get-Notifications", {"id": self.subscription, "sequence": self.sequence}, self._got,
                   self._notGot)

    def _got(self, notifications: Any) -> None:
        self._move("got")
        if notifications.interval is not None:
            self.wait = min(max(float(notifications.interval), MIN_INTERVAL), self.interval)
        after = notifications.sequenceAfter(self.sequence)
        if notifications.events and after > self.sequence:
            self.pollNow()
        self.sequence = after
        self._later(self.wait, self._due)

    def _notGot(self, failure: Failure) -> None:
        if failure.check(IPPStatusError):
            self._lost(failure.getErrorMessage())
            return
        self._move("unanswered")
        self._later(self.wait, self._due)

    def _lost(self, why: str) -> None:
        """The printer no longer knows the subscription (it restarted, the lease ran out): again, and poll now."""
        self.log.info("the ippget subscription is gone ({why}): subscribing again", why=why)
        self._move("lost")
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        if self._renewal is not None and self._renewal.active():
            self._renewal.cancel()
        self._renewal = None
        self.subscription = None
        self.pollNow()
        self._subscribe()

    def _renew(self) -> None:
        self._renewal = None
        if self.subscription is None:
            return

        def renewed(_: Any) -> None:
            if self.state is not State.IDLE:
                self._renewal = self.clock.callLater(LEASE / 2, self._renew)

        def failed(failure: Failure) -> None:
            if self.state is State.IDLE or failure.check(CancelledError):
                return
            if failure.check(IPPStatusError) and self.state is State.SUBSCRIBED:
                self._lost(failure.getErrorMessage())
            else:
                self._renewal = self.clock.callLater(self.interval, self._renew)

        d = self.call("Renew-Subscription", {"id": self.subscription, "lease": LEASE})
        d.addCallbacks(renewed, failed)
        d.addErrback(lambda f: self.log.failure("renewing the ippget subscription failed", f))
