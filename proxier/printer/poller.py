# -*- test-case-name: tests.test_printer_poller -*-
"""
When each printer is polled, and what its answers (or silences) mean
(PRINTERS.md §6) — sans-IO: the clock, the fetch and the randomness are
given, so a test drives every transition with L{twisted.internet.task.Clock}.

A printer's polls are an explicit state machine (L{Phase}; the transitions
are the table L{TRANSITIONS}):

    STOPPED ──start──▶ WAITING ──due / pollNow──▶ QUEUED ──slot──▶ POLLING
                          ▲                                          │
                          └──────────── answered / failed ───────────┘
    (stop from any phase ──▶ STOPPED: timer cancelled, queue left, fetch cancelled)

 - each poll comes C{interval} seconds after the last one ended, plus up to a
   tenth of it at random, so a fleet started together drifts apart;
 - the printers polled at once are bounded across the fleet by one
   L{PollSlots}; a printer waiting for a slot is C{QUEUED};
 - a poll is cheap (C{full=False}: the attributes that change by
   themselves) unless the printer was never read, C{fullInterval} passed
   since the last full one, or a cheap answer shows that
   C{printer-config-change-time} or C{printer-state-change-time} moved or
   that the printer restarted: then a full read follows at once, in the
   same slot, and only the full answer is handed on.

What the answers mean (L{Health}, told to an L{IPollObserver}):

 - C{offlineAfter} polls in a row without an answer: C{silent} once,
   however many more fail (no flood of changes); the next answer:
   C{answering} (also the first answer ever);
 - a restart: C{printer-up-time} went backwards, or the boot time it gives
   (now − up-time) moved later by more than L{RESTART_TOLERANCE} (a long
   outage hides a restart from the first rule; the boot time survives a
   restart of the proxier through L{PrinterPoller.bootTime}): C{restarted},
   expected when the proxier asked for it (L{PrinterPoller.expectRestart})
   within L{RESTART_WINDOW}.

On an answer the observer hears C{restarted} (if so), then C{polled}, then
C{answering} (if it was not): its values are in place before sessions resume.
"""

from __future__ import annotations

import enum
import random as _random
from typing import Any, Callable, Mapping, Optional

from twisted.internet.defer import CancelledError, Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import Interface

__all__ = [
    "IPollObserver",
    "Phase",
    "Health",
    "TRANSITIONS",
    "PollSlots",
    "PrinterPoller",
    "CHEAP_ATTRIBUTES",
    "RESTART_TOLERANCE",
    "RESTART_WINDOW",
    "JITTER",
]

#: What a cheap poll asks for (PRINTERS.md §6): what changes by itself, and the times that say whether more did.
CHEAP_ATTRIBUTES = (
    "printer-state",
    "printer-state-reasons",
    "printer-state-change-time",
    "printer-config-change-time",
    "printer-up-time",
    "printer-supply",
    "marker-levels",
    "printer-input-tray",
    "printer-media-sheets-completed",
    "printer-impressions-completed",
)
#: The share of the interval added at random to each wait.
JITTER = 0.1
#: Seconds the boot time (now − printer-up-time) may move later without meaning a restart (poll latency).
RESTART_TOLERANCE = 30.0
#: Seconds after the proxier asked for a restart during which the restart found is the one asked for.
RESTART_WINDOW = 600.0

_CHANGE_TIMES = ("printer-config-change-time", "printer-state-change-time")


class IPollObserver(Interface):
    """What a L{PrinterPoller} tells the printer's device."""

    def polled(attributes, full):
        """
        An answer: the printer's attributes (a mapping-like group with
        C{get(name)}); C{full} when every attribute was asked for.
        """

    def silent(reason):
        """The printer stopped answering (once, after C{offlineAfter} polls in a row)."""

    def answering():
        """The printer answers: the first answer ever, or the first after L{silent}."""

    def restarted(expected):
        """The printer restarted; C{expected} when the proxier asked for it."""


class Phase(enum.Enum):
    STOPPED = "stopped"
    WAITING = "waiting"  # for the next poll's time
    QUEUED = "queued"  # for a slot
    POLLING = "polling"  # a fetch under way


class Health(enum.Enum):
    UNKNOWN = "unknown"  # never answered yet in this run
    ONLINE = "online"
    OFFLINE = "offline"


#: (phase, event) → the next phase; an event not listed in a phase is a bug, not ignored.
TRANSITIONS: Mapping[tuple[Phase, str], Phase] = {
    (Phase.STOPPED, "start"): Phase.WAITING,
    (Phase.WAITING, "due"): Phase.QUEUED,
    (Phase.WAITING, "pollNow"): Phase.QUEUED,
    (Phase.QUEUED, "slot"): Phase.POLLING,
    (Phase.POLLING, "done"): Phase.WAITING,
    (Phase.WAITING, "stop"): Phase.STOPPED,
    (Phase.QUEUED, "stop"): Phase.STOPPED,
    (Phase.POLLING, "stop"): Phase.STOPPED,
    (Phase.STOPPED, "stop"): Phase.STOPPED,
}


class PollSlots:
    """
    At most C{limit} printers polled at once across the fleet; the others
    wait in the order they asked.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("at least one poll at a time")
        self.limit = limit
        self.busy = 0
        self.waiting: list[Callable[[], None]] = []

    def request(self, granted: Callable[[], None]) -> None:
        """Call C{granted()} now if a slot is free, else when one is."""
        if self.busy < self.limit:
            self.busy += 1
            granted()
        else:
            self.waiting.append(granted)

    def withdraw(self, granted: Callable[[], None]) -> None:
        """A waiter that no longer wants its slot (stopped)."""
        if granted in self.waiting:
            self.waiting.remove(granted)

    def release(self) -> None:
        """A poll ended: its slot goes to the first waiter."""
        if self.waiting:
            self.waiting.pop(0)()
        else:
            self.busy -= 1


class PrinterPoller:
    """
    The polls of one printer.

    @param fetch: C{fetch(full)} → Deferred firing with the printer's
        attributes (mapping-like, C{get(name)}); a failure is a poll without
        an answer, its message the reason logged.
    @param observer: an L{IPollObserver}.
    @param slots: the fleet's L{PollSlots}.
    @param bootTime: the boot time (clock seconds) known from an earlier
        run, None when unknown.
    @param random: C{random()} in [0, 1), for the jitter.
    """

    log = Logger()

    def __init__(self, fetch: Callable[[bool], Deferred], observer: Any, slots: PollSlots, clock: Any, *,
                 interval: float = 60.0, fullInterval: float = 900.0, offlineAfter: int = 3,
                 bootTime: Optional[float] = None, random: Callable[[], float] = _random.random,
                 log: Any = None) -> None:
        self.fetch = fetch
        self.observer = IPollObserver(observer)
        self.slots = slots
        self.clock = clock
        self.interval = interval
        self.fullInterval = fullInterval
        self.offlineAfter = offlineAfter
        self.random = random
        if log is not None:
            self.log = log
        self.phase = Phase.STOPPED
        self.health = Health.UNKNOWN
        self.failures = 0
        self.bootTime = bootTime
        self.lastFull: Optional[float] = None  # clock time of the last full answer
        self._upTime: Optional[int] = None
        self._times: dict[str, Any] = {}
        self._restartAsked: Optional[float] = None
        self._again = False  # pollNow while queued or polling: poll again once done
        self._timer: Any = None
        self._call: Optional[Deferred] = None

    def _move(self, event: str) -> None:
        try:
            self.phase = TRANSITIONS[(self.phase, event)]
        except KeyError:
            raise RuntimeError(f"poller: {event!r} in phase {self.phase.value}") from None

    # -- control --------------------------------------------------------------------

    def start(self) -> None:
        """Begin: the first poll comes after a random part of the jitter (a fleet does not start in step)."""
        self._move("start")
        self._wait(self.interval * JITTER * self.random())

    def stop(self) -> None:
        """Stop for good: nothing more is fetched or told."""
        phase = self.phase
        self._move("stop")
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        if phase is Phase.QUEUED:
            self.slots.withdraw(self._granted)
        call, self._call = self._call, None
        if call is not None:
            call.cancel()
        if phase is Phase.POLLING:
            self.slots.release()

    def pollNow(self) -> None:
        """Poll as soon as a slot is free (an event said something changed; an ACS asked)."""
        if self.phase is Phase.WAITING:
            self._timer.cancel()
            self._timer = None
            self._queue("pollNow")
        elif self.phase in (Phase.QUEUED, Phase.POLLING):
            self._again = True

    def seed(self, attributes: Any) -> None:
        """
        A full answer read before this poller existed (the read that found
        the printer): remembered as the last full read, told to nobody.
        """
        if self.phase is not Phase.STOPPED:
            raise RuntimeError("seed before start")
        now = self.clock.seconds()
        self._remember(attributes, now)
        self.lastFull = now
        self.health = Health.ONLINE

    def expectRestart(self) -> None:
        """The proxier asked the printer to restart: the restart found next is the one asked for."""
        self._restartAsked = self.clock.seconds()

    # -- the machine ------------------------------------------------------------------

    def _wait(self, delay: float) -> None:
        self._timer = self.clock.callLater(delay, self._due)

    def _due(self) -> None:
        self._timer = None
        self._queue("due")

    def _queue(self, event: str) -> None:
        self._move(event)
        self.slots.request(self._granted)

    def _granted(self) -> None:
        self._move("slot")
        self._again = False
        full = self.lastFull is None or self.clock.seconds() - self.lastFull >= self.fullInterval
        self._fetch(full)

    def _fetch(self, full: bool) -> None:
        d = self.fetch(full)
        self._call = d
        d.addCallbacks(self._answered, self._failed, (full,))
        d.addErrback(lambda f: self.log.failure("handling a poll failed", f))

    def _done(self) -> None:
        self._call = None
        self.slots.release()
        self._move("done")
        if self._again:
            self._again = False
            self._timer = None
            self._queue("pollNow")
        else:
            self._wait(self.interval * (1 + JITTER * self.random()))

    def _answered(self, attributes: Any, full: bool) -> None:
        if self.phase is not Phase.POLLING:
            return
        now = self.clock.seconds()
        restarted = self._restartIn(attributes, now)
        moved = self._timesMoved(attributes)
        if not full and (restarted or moved):
            self._fetch(True)  # what moved is read in full before anything is told, in the same slot
            return
        self._call = None
        self.failures = 0
        self._remember(attributes, now)
        if full:
            self.lastFull = now
        wasOnline = self.health is Health.ONLINE
        self.health = Health.ONLINE
        if restarted:
            expected = self._restartAsked is not None and now - self._restartAsked <= RESTART_WINDOW
            self._restartAsked = None
            self._tell("restarted", lambda o: o.restarted(expected))
        if self.phase is Phase.POLLING:
            self._tell("polled", lambda o: o.polled(attributes, full))
        if not wasOnline and self.phase is Phase.POLLING:
            self._tell("answering", lambda o: o.answering())
        if self.phase is Phase.POLLING:  # the observer may have stopped it
            self._done()

    def _failed(self, failure: Failure) -> None:
        if self.phase is not Phase.POLLING or failure.check(CancelledError):
            return
        self._call = None
        self.failures += 1
        reason = failure.getErrorMessage()
        if self.failures >= self.offlineAfter and self.health is not Health.OFFLINE:
            self.health = Health.OFFLINE
            self.log.info("no answer to {n} polls in a row ({reason}): offline", n=self.failures, reason=reason)
            self._tell("silent", lambda o: o.silent(reason))
        elif self.health is not Health.OFFLINE:
            self.log.debug("a poll got no answer ({reason})", reason=reason)
        if self.phase is Phase.POLLING:  # the observer may have stopped it
            self._done()

    def _tell(self, method: str, call: Callable[[Any], None]) -> None:
        """C{call(observer)}; its failure is logged (naming C{method}) and the polls go on."""
        try:
            call(self.observer)
        except Exception:
            self.log.failure("the poll observer failed in {method}", method=method)

    # -- what an answer says ----------------------------------------------------------------

    def _restartIn(self, attributes: Any, now: float) -> bool:
        upTime = _whole(attributes.get("printer-up-time"))
        if upTime is None:
            return False
        if self._upTime is not None and upTime < self._upTime:
            return True
        return self.bootTime is not None and (now - upTime) - self.bootTime > RESTART_TOLERANCE

    def _timesMoved(self, attributes: Any) -> bool:
        if not self._times:
            return False
        return any(self._times.get(name) != attributes.get(name) for name in _CHANGE_TIMES)

    def _remember(self, attributes: Any, now: float) -> None:
        self._times = {name: attributes.get(name) for name in _CHANGE_TIMES}
        upTime = _whole(attributes.get("printer-up-time"))
        if upTime is not None:
            self._upTime = upTime
            bootTime = now - upTime
            # the earliest estimate wins between restarts: latency only ever makes it later
            if self.bootTime is None or bootTime - self.bootTime > RESTART_TOLERANCE or bootTime < self.bootTime:
                self.bootTime = bootTime


def _whole(value: Any) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
