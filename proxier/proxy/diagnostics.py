# -*- test-case-name: tests.test_proxy_diagnostics -*-
"""
TR-330 §4.5 Figure 6 for any proxied device: the TR-181 diagnostics objects
(L{proxier.proxy.diagtables}) the proxier holds, one state machine per
object, its durable record, and "8 DIAGNOSTICS COMPLETE". How a test runs on
the device is the protocol's (L{ITestRunner}: BMS tests for a UPnP DM
device, L{proxier.upnpdm.bmsdiagnostics}).

The ACS's SetParameterValues of DiagnosticsState=Requested (with the test's
parameters, possibly in the same request) is recorded durably in the
proxier and answered at once; the test starts once the session is over
(L{ITestRunner.start}); its ID is kept; a test timer computed from the
test's parameters (L{diagtables.testSeconds<proxier.proxy.diagtables.testSeconds>})
bounds the wait for the device's word that the test ended
(L{DiagnosticsService.testsActive}; the runner is polled when it does not
come); the result is read (L{ITestRunner.result}), stored in the proxier,
and "8 DIAGNOSTICS COMPLETE" told to the endpoint. The ACS reads the results
from the proxier, device or no device.

Every step is bounded: retries of a step that got no answer ("max ?" in
Figure 6) and polls of a test that does not end are counted, and a
watchdog ends any diagnostic still open L{SLACK} seconds past its test
timer. A diagnostic that cannot be carried out ends in Error_Other (or the
TR-181 error the device's result names), with "8 DIAGNOSTICS COMPLETE".
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Mapping, Optional, Protocol, Sequence, Union

from twisted.internet.defer import CancelledError, Deferred, DeferredList
from twisted.python.failure import Failure
from zope.interface import Interface

from proxier.datamodel.declarations import CAN_DENY, Batch, Object, Parameter, Table
from proxier.datamodel.faults import CWMPFault, SetParameterValuesFault
from proxier.datamodel.tree import TreeDataModel
from proxier.datamodel.types import ListOf, UnsignedInt, acceptValue
from proxier.datamodel.values import ParameterValue
from proxier.proxy import diagtables as d
from proxier.proxy.heldmodel import HeldModel
from proxier.store import Document, Retrier, Store

__all__ = [
    "ITestRunner",
    "TestFailed",
    "TestStillRunning",
    "Outcome",
    "DiagnosticsLink",
    "Phase",
    "PHASES",
    "TRANSITIONS",
    "IllegalTransition",
    "Record",
    "RecordError",
    "rowsFor",
    "MAX_ROWS",
    "Diagnostic",
    "DiagnosticsService",
    "SEND_ATTEMPTS",
    "RETRY_DELAYS",
    "POLL_ATTEMPTS",
    "SLACK",
]

#: Times a step (starting the test, reading its result) is tried when it gets no answer.
SEND_ATTEMPTS = 4
#: Seconds before each retry.
RETRY_DELAYS = (5.0, 15.0, 45.0)
#: Polls of a test still active after its timer, before it is given up.
POLL_ATTEMPTS = 5
#: Seconds past the test timer after which any diagnostic still open ends (Error_Other).
SLACK = 900.0
#: Result rows kept (route hops, NSLookup answers): a device that lies about
#: them cannot grow the proxier's state beyond this.
MAX_ROWS = 64


# ---- the protocol side ------------------------------------------------------------------


class TestFailed(Exception):
    """
    The device answered, and the test cannot go on (it refused it, lost it,
    canceled it): the diagnostic ends in Error_Other with this text as its
    reason.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class TestStillRunning(Exception):
    """The result was asked for, and the device says the test still runs."""


@dataclass(frozen=True)
class Outcome:
    """
    What a finished test gave: its DiagnosticsState (Complete or one of the
    object's errors), the device's word on it (AdditionalInfo, kept for the
    log), the result parameters' values by name, and the result table's
    rows (by column name).
    """

    state: str
    additionalInfo: str = ""
    values: Mapping[str, Any] = field(default_factory=dict)
    rows: tuple[Mapping[str, Any], ...] = ()


class ITestRunner(Interface):
    """
    The protocol side of one device's diagnostics: runs a test with the
    test parameters the ACS set and tells what came of it. Everything else —
    the objects, phases, durable record, retries, timers and "8 DIAGNOSTICS
    COMPLETE" — is L{DiagnosticsService}'s.

    A method's Deferred fails with L{TestFailed} when the device answered
    and the test cannot go on; any other failure means no usable answer (a
    timeout, a broken reply), and the step is tried again within the
    service's bounds.
    """

    def start(kind: d.Kind, parameters: Mapping[str, Any]) -> Deferred:
        """
        Start a C{kind} test with the test parameters C{parameters} (TR-181
        names; the runner takes those its protocol has): fires with the
        test's ID on the device (an C{int}, kept across restarts).
        """

    def poll(kind: d.Kind, testId: int) -> Deferred:
        """Whether test C{testId} still runs: fires with C{True} while it does, C{False} once it ended."""

    def result(kind: d.Kind, testId: int) -> Deferred:
        """
        The L{Outcome} of test C{testId}, which ended; fails with
        L{TestStillRunning} when the device says it has not.
        """

    def canCancel() -> bool:
        """Whether the device can cancel a test (else the proxier only stops following it)."""

    def cancel(testId: int) -> Deferred:
        """
        Cancel test C{testId} on the device (the ACS ended it): fires once the
        device took it; L{TestFailed} means the device will not (it is done
        with all the same), any other failure that it is asked again later.
        """


class DiagnosticsLink(Protocol):
    """
    What the diagnostics need of their device besides its tests
    (L{proxier.upnpdm.link.DeviceLink} is one).
    """

    clock: Any
    log: Any

    @property
    def online(self) -> bool:
        """Whether the device answers now."""

    def idle(self) -> Deferred:
        """Fires (never fails) once no CWMP session of the device runs (TR-330 §4.5.1); cancellable."""

    def diagnosticsComplete(self) -> None:
        """Tell the endpoint "8 DIAGNOSTICS COMPLETE"."""


def _describe(failure: Failure) -> str:
    if failure.check(TestFailed):
        return failure.value.text
    return failure.getErrorMessage() or failure.type.__name__


# ---- the durable record ----------------------------------------------------------------


class Phase(str, Enum):
    """
    The phases of one diagnostic (see L{Diagnostic}); each is saved by its
    value. DiagnosticsState is Requested while the phase is not idle.
    """

    IDLE = "idle"
    WAITING = "waiting"
    SENDING = "sending"
    RUNNING = "running"
    COLLECTING = "collecting"


#: The phases' saved values.
PHASES = tuple(phase.value for phase in Phase)

#: The moves a diagnostic's phase may make (TR-330 §4.5 Figure 6, as
#: L{Diagnostic} drives it): phase → the phases it may go to. Any phase
#: under way goes back to idle (an end, or the ACS's new request or
#: Canceled); idle goes only to waiting (a request).
TRANSITIONS: Mapping[Phase, frozenset] = {
    Phase.IDLE: frozenset({Phase.WAITING}),
    # the session or the device is awaited (again, after a retry delay);
    # the test starts
    Phase.WAITING: frozenset({Phase.WAITING, Phase.SENDING, Phase.IDLE}),
    # the start failed (retry) or was in flight at a restart; its test ID came
    Phase.SENDING: frozenset({Phase.WAITING, Phase.RUNNING, Phase.IDLE}),
    # a poll says it still runs; it ended on the device
    Phase.RUNNING: frozenset({Phase.RUNNING, Phase.COLLECTING, Phase.IDLE}),
    # the result read again (after a restart); the device says it still runs
    Phase.COLLECTING: frozenset({Phase.COLLECTING, Phase.RUNNING, Phase.IDLE}),
}


#: How a diagnostic under way is told to a person (L{DiagnosticsService.notices}).
_PHASE_TEXT = {
    Phase.WAITING: "waiting to start",
    Phase.SENDING: "starting",
    Phase.RUNNING: "running",
    Phase.COLLECTING: "reading its result",
}


def _isoTime(seconds: float) -> str:
    """Clock seconds as ISO 8601 UTC text (C{""} for 0: not known)."""
    if not seconds:
        return ""
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).isoformat(timespec="seconds")


class IllegalTransition(RuntimeError):
    """A diagnostic's phase was asked to make a move L{TRANSITIONS} refuses (a bug)."""


class RecordError(ValueError):
    """A stored record that cannot be used."""


@dataclass(slots=True)
class Record:
    """
    Everything the proxier keeps about one diagnostics object, saved before
    anyone is told: the test parameters the ACS set, the DiagnosticsState, the
    phase of the test under way (and its ID on the device), and the last
    results. Slotted: every device holds one per diagnostics object.

    @ivar generation: counts requests, so that an answer about an earlier
        request is recognised and ignored.
    @ivar notify: "8 DIAGNOSTICS COMPLETE" is owed to the endpoint (set with
        the final state, cleared once told).
    @ivar cancel: IDs of tests the ACS terminated, to cancel on the device.
    """

    kind: d.Kind
    config: dict[str, Any]
    state: str = "None"
    phase: Phase = Phase.IDLE
    generation: int = 0
    testId: Optional[int] = None
    requestedAt: float = 0.0
    sentAt: float = 0.0
    attempts: int = 0
    polls: int = 0
    notify: bool = False
    cancel: list[int] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    additionalInfo: str = ""

    @classmethod
    def fresh(cls, kind: d.Kind) -> "Record":
        return cls(kind, kind.initialConfig())

    @property
    def pending(self) -> bool:
        """A test is requested and not yet over."""
        return self.phase != Phase.IDLE

    def moveTo(self, phase: Phase) -> None:
        """
        Go to C{phase}.

        @raise IllegalTransition: when L{TRANSITIONS} does not allow the move
            (the phase is left as it was).
        """
        current = Phase(self.phase)
        if phase not in TRANSITIONS[current]:
            raise IllegalTransition(f"{self.kind.key}: no move from {current.value} to {Phase(phase).value}")
        self.phase = phase

    def toJSON(self) -> dict:
        return {
            "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.config.items()},
            "state": self.state, "phase": Phase(self.phase).value, "generation": self.generation, "testId": self.testId,
            "requestedAt": self.requestedAt, "sentAt": self.sentAt, "attempts": self.attempts, "polls": self.polls,
            "notify": self.notify, "cancel": list(self.cancel),
            "values": dict(self.values),
            "rows": [{k: (list(v) if isinstance(v, tuple) else v) for k, v in row.items()} for row in self.rows],
            "additionalInfo": self.additionalInfo,
        }

    @classmethod
    def fromJSON(cls, kind: d.Kind, raw: Any) -> "Record":
        """
        @raise RecordError: when C{raw} is not a record of C{kind} whose every
            value fits TR-181's type (a hand edit, a bug of another version).
        """
        try:
            record = cls(kind, kind.initialConfig())
            for name, value in dict(raw["config"]).items():
                param = kind.parameter(name)
                if not param.writable or name == "DiagnosticsState":
                    raise RecordError(f"{name} is not a test parameter")
                param.type.check(value)
                record.config[name] = value
            state = raw["state"]
            kind.parameter("DiagnosticsState").type.check(state)
            record.state = state
            if raw["phase"] not in PHASES:
                raise RecordError(f"unknown phase {raw['phase']!r}")
            record.phase = Phase(raw["phase"])
            record.generation = int(raw["generation"])
            record.testId = None if raw["testId"] is None else int(raw["testId"])
            record.requestedAt = float(raw["requestedAt"])
            record.sentAt = float(raw["sentAt"])
            record.attempts = int(raw["attempts"])
            record.polls = int(raw["polls"])
            record.notify = bool(raw["notify"])
            record.cancel = [int(i) for i in raw["cancel"]][:16]
            record.additionalInfo = str(raw["additionalInfo"])[:256]
            results = {p.name: p for p in kind.results}
            for key, value in dict(raw["values"]).items():
                param = results[key]
                param.type.check(value)
                record.values[key] = value
            columns = {c.name: c for c in kind.table.columns} if kind.table else {}
            for row in list(raw["rows"])[:MAX_ROWS]:
                clean: dict[str, Any] = {}
                for key, value in dict(row).items():
                    column = columns[key]
                    if isinstance(column.type, ListOf):
                        value = tuple(value)
                        if value:
                            column.type.check(value)
                    else:
                        column.type.check(value)
                    clean[key] = value
                record.rows.append(clean)
        except RecordError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise RecordError(f"{kind.key}: {e}") from None
        return record


def rowsFor(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Result rows as the record keeps them: copies, at most L{MAX_ROWS}."""
    return [dict(row) for row in rows[:MAX_ROWS]]


# ---- one diagnostic ----------------------------------------------------------------------


class Diagnostic:
    """
    One diagnostics object of one device and the test behind it.

    Its phases (L{Record.phase}), each durable:
     - C{idle}: nothing under way; DiagnosticsState is None, Complete or an
       error, with the last results.
     - C{waiting}: requested; waits for the session to end and the device to
       answer, then starts the test (after a failed attempt, waits the retry
       delay).
     - C{sending}: the start is in flight (after a restart: sent again).
     - C{running}: the test's ID is known; the test timer runs; the device's
       word that the test is no longer active, or a poll after the timer,
       ends the wait.
     - C{collecting}: the test ended on the device; its result is being read.

    A new request, a Canceled, or any other test parameter set while a test
    is under way ends it (cancelled on the device, best effort) — TR-181
    DiagnosticsState's rules.

    The phase moves only as L{TRANSITIONS} allows (L{Record.moveTo}); any
    other move is a bug, raised as C{IllegalTransition} — in a step's
    callback it ends the diagnostic in Error_Other (C{_crashed}).
    """

    # every device holds one per diagnostics object offered (issue 19)
    __slots__ = ("kind", "record", "runner", "link", "clock", "log", "_save", "_changed", "_timer", "_watchdog",
                 "_inFlight", "_ready", "_stopped", "_cancelling", "_cancelWait")

    def __init__(self, kind: d.Kind, record: Record, runner: ITestRunner, link: DiagnosticsLink,
                 save: Callable[[], None], changed: Callable[["Diagnostic", bool], None]) -> None:
        self.kind = kind
        self.record = record
        self.runner = runner
        self.link = link
        self.clock = link.clock
        self.log = link.log
        self._save = save
        self._changed = changed
        self._timer: Any = None
        self._watchdog: Any = None
        self._inFlight: Optional[Deferred] = None
        self._ready = False
        self._stopped = False
        self._cancelling = False
        self._cancelWait: Optional[Deferred] = None

    # -- what the ACS asks (inside its session) ------------------------------------------

    def apply(self, changes: Mapping[str, Any]) -> None:
        """
        A SetParameterValues of this object's parameters (validated): C{changes}
        maps names to values. Saved before it returns.
        """
        r = self.record
        state = changes.get("DiagnosticsState")
        config = {k: v for k, v in changes.items() if k != "DiagnosticsState"}
        self._terminate()
        r.config.update(config)
        if state == "Requested":
            r.state = "Requested"
            r.moveTo(Phase.WAITING)
            r.generation += 1
            r.testId = None
            r.attempts = r.polls = 0
            r.requestedAt = self.clock.seconds()
            r.sentAt = 0.0
            r.notify = False
            r.values, r.rows, r.additionalInfo = {}, [], ""
            self.log.info("{kind} requested ({target} {host!r}); runs after the session",
                          kind=self.kind.key, target=self.kind.target, host=r.config.get(self.kind.target, ""))
        else:
            # TR-181: Canceled, or any other test parameter, sets None (and ends a test under way)
            r.state = "None"
        self._save()
        self._changed(self, False)  # the ACS's own doing: not reported back to it
        if r.phase == Phase.WAITING:
            self._arm()
        self._flushCancels()

    def _terminate(self) -> None:
        """End the test under way, if any: its ID goes on the list to cancel on the device."""
        r = self.record
        if not r.pending:
            return
        if r.testId is not None and r.testId not in r.cancel:
            r.cancel.append(r.testId)
            del r.cancel[:-16]
        r.moveTo(Phase.IDLE)
        r.testId = None
        r.generation += 1
        self._stopTimers()

    # -- the device ------------------------------------------------------------------------

    def deviceReady(self, rebooted: bool) -> None:
        """The device is (back) online; C{rebooted}: it rebooted since it was last seen."""
        self._ready = True
        r = self.record
        if rebooted:
            r.cancel.clear()  # a reboot ended every test on the device
            if r.phase in (Phase.RUNNING, Phase.COLLECTING, Phase.SENDING):
                self._finish(d.ERROR_OTHER, "the device rebooted during the test")
                return
        self._arm()
        self._flushCancels()

    def activeTests(self, active: set[int]) -> None:
        """The device named the tests it runs (C{active}): a running test that is not among them ended."""
        r = self.record
        if r.phase == Phase.RUNNING and r.testId is not None and r.testId not in active:
            self._collect()

    def stop(self) -> None:
        """The proxier stops: timers and actions under way go; the record stays as saved."""
        self._stopped = True
        self._stopTimers()
        if self._cancelWait is not None:
            self._cancelWait.cancel()
        if self._inFlight is not None:
            inFlight, self._inFlight = self._inFlight, None
            inFlight.cancel()

    # -- driving ----------------------------------------------------------------------------

    def _stopTimers(self) -> None:
        for name in ("_timer", "_watchdog"):
            call = getattr(self, name)
            if call is not None and call.active():
                call.cancel()
            setattr(self, name, None)
        if self._inFlight is not None:
            inFlight, self._inFlight = self._inFlight, None
            inFlight.cancel()

    def _later(self, seconds: float, what: Callable[[], None]) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = self.clock.callLater(max(0.0, seconds), self._fire, self.record.generation, what)

    def _fire(self, generation: int, what: Callable[[], None]) -> None:
        self._timer = None
        if generation == self.record.generation and not self._stopped:
            what()

    def _deadline(self) -> float:
        r = self.record
        return r.requestedAt + d.testSeconds(self.kind, r.config) + SLACK

    def _arm(self) -> None:
        """Go on from the phase the record is in (after a request, a restart, the device back)."""
        r = self.record
        if self._stopped or not r.pending:
            return
        if self._watchdog is None or not self._watchdog.active():
            self._watchdog = self.clock.callLater(max(0.0, self._deadline() - self.clock.seconds()),
                                                  self._expired, r.generation)
        if not self._ready or self._inFlight is not None:
            return
        if r.phase in (Phase.WAITING, Phase.SENDING):
            r.moveTo(Phase.WAITING)
            self._waitThenSend()
        elif r.phase == Phase.RUNNING:
            due = r.sentAt + d.testSeconds(self.kind, r.config)
            self._later(due - self.clock.seconds(), self._poll)
        elif r.phase == Phase.COLLECTING:
            self._collect()

    def _expired(self, generation: int) -> None:
        self._watchdog = None
        if generation != self.record.generation or not self.record.pending:
            return
        testId = self.record.testId
        if testId is not None:
            self.record.cancel.append(testId)
        self._finish(d.ERROR_OTHER, f"no result {SLACK:g} s past the test timer")
        self._flushCancels()

    def _track(self, deferred: Deferred) -> Deferred:
        self._inFlight = deferred

        def done(result: Any) -> Any:
            if self._inFlight is deferred:
                self._inFlight = None
            return result

        return deferred.addBoth(done)

    def _waitThenSend(self) -> None:
        generation = self.record.generation
        waiting = self._track(self.link.idle())
        waiting.addCallback(lambda _: self._send(generation) if generation == self.record.generation else None)
        waiting.addErrback(lambda f: None if f.check(CancelledError) else self.log.failure("diagnostic", f))

    def _retry(self, why: str) -> bool:
        """Count a failed attempt; True when another is due (and armed)."""
        r = self.record
        r.attempts += 1
        if r.attempts >= SEND_ATTEMPTS:
            return False
        self._save()
        delay = RETRY_DELAYS[min(r.attempts - 1, len(RETRY_DELAYS) - 1)]
        self.log.info("{kind}: {why}; trying again in {delay:g} s", kind=self.kind.key, why=why, delay=delay)
        self._later(delay, self._arm)
        return True

    def _send(self, generation: int) -> None:
        r = self.record
        if self._stopped or generation != r.generation or r.phase != Phase.WAITING:
            return
        if not self.link.online:
            self.log.info("{kind}: the device is offline; the test waits for it", kind=self.kind.key)
            return  # deviceReady goes on; the watchdog bounds the wait
        r.moveTo(Phase.SENDING)
        self._save()
        call = self._track(self.runner.start(self.kind, dict(r.config)))
        call.addCallbacks(self._sent, self._sendFailed, (generation,), None, (generation,))
        call.addErrback(self._crashed, generation)

    def _sent(self, testId: int, generation: int) -> None:
        r = self.record
        if generation != r.generation:
            return
        r.testId = int(testId)
        r.moveTo(Phase.RUNNING)
        r.sentAt = self.clock.seconds()
        r.attempts = 0
        self._save()
        seconds = d.testSeconds(self.kind, r.config)
        self.log.info("{kind}: test {id} under way; result expected within {s:g} s", kind=self.kind.key,
                      id=r.testId, s=seconds)
        self._later(seconds, self._poll)

    def _sendFailed(self, failure: Failure, generation: int) -> None:
        r = self.record
        if generation != r.generation or failure.check(CancelledError):
            return
        r.moveTo(Phase.WAITING)
        if failure.check(TestFailed):
            # Figure 6: the device refused the request ("Fail") → Error_Other
            self.log.warn("{kind}: the device refused the test: {why}", kind=self.kind.key, why=_describe(failure))
            self._finish(d.ERROR_OTHER, _describe(failure))
            return
        if not self._retry(f"the test action got no answer ({_describe(failure)})"):
            self._finish(d.ERROR_OTHER, f"the device did not answer the test action ({_describe(failure)})")

    def _crashed(self, failure: Failure, generation: int) -> None:
        self.log.failure("{kind}: the diagnostic failed", failure, kind=self.kind.key)
        if generation == self.record.generation and self.record.pending:
            self._finish(d.ERROR_OTHER, "internal error")

    # -- noticing the end -----------------------------------------------------------------

    def _poll(self) -> None:
        r = self.record
        if r.phase != Phase.RUNNING or self._stopped:
            return
        if not self.link.online:
            # the device is away: no poll is counted; deviceReady goes on (a
            # reboot means the test is lost), the watchdog bounds the wait
            self._later(self._pollInterval(), self._poll)
            return
        generation = r.generation
        call = self._track(self.runner.poll(self.kind, r.testId))

        def answered(running: bool) -> None:
            if generation != r.generation or r.phase != Phase.RUNNING:
                return
            if running:
                self._stillActive()
            else:
                self._collect()

        call.addCallbacks(answered, self._pollFailed, errbackArgs=(generation,))
        call.addErrback(self._crashed, generation)

    def _pollInterval(self) -> float:
        return max(5.0, min(60.0, d.testSeconds(self.kind, self.record.config) / 4))

    def _stillActive(self) -> None:
        r = self.record
        r.polls += 1
        if r.polls >= POLL_ATTEMPTS:
            self.log.warn("{kind}: test {id} still active after {n} polls; given up", kind=self.kind.key, id=r.testId,
                          n=r.polls)
            if r.testId is not None:
                r.cancel.append(r.testId)
            self._finish(d.ERROR_OTHER, "the test did not end")
            self._flushCancels()
            return
        self._save()
        self._later(self._pollInterval(), self._poll)

    def _pollFailed(self, failure: Failure, generation: int) -> None:
        r = self.record
        if generation != r.generation or r.phase != Phase.RUNNING or failure.check(CancelledError):
            return
        if failure.check(TestFailed):
            self._finish(d.ERROR_OTHER, _describe(failure))
            return
        self.log.info("{kind}: asking about test {id} failed ({why})", kind=self.kind.key, id=r.testId,
                      why=_describe(failure))
        self._stillActive()

    def _collect(self) -> None:
        r = self.record
        if self._stopped:
            return
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        if self._inFlight is not None and r.phase == Phase.COLLECTING:
            return
        r.moveTo(Phase.COLLECTING)
        self._save()
        generation = r.generation
        call = self._track(self.runner.result(self.kind, r.testId))
        call.addCallbacks(self._result, self._collectFailed, (generation,), None, (generation,))
        call.addErrback(self._crashed, generation)

    def _result(self, outcome: Outcome, generation: int) -> None:
        if generation != self.record.generation:
            return
        self._finish(outcome.state, outcome.additionalInfo, outcome)

    def _collectFailed(self, failure: Failure, generation: int) -> None:
        r = self.record
        if generation != r.generation or failure.check(CancelledError):
            return
        if failure.check(TestStillRunning):
            r.moveTo(Phase.RUNNING)
            self._stillActive()
            return
        if failure.check(TestFailed):
            self._finish(d.ERROR_OTHER, _describe(failure))
            return
        if not self._retry(f"reading the result failed ({_describe(failure)})"):
            self._finish(d.ERROR_OTHER, f"the result could not be read ({_describe(failure)})")

    # -- the end ----------------------------------------------------------------------------

    def _finish(self, state: str, info: str = "", outcome: Optional[Outcome] = None) -> None:
        r = self.record
        self._stopTimers()
        r.state = state
        r.moveTo(Phase.IDLE)
        r.testId = None
        r.generation += 1
        r.additionalInfo = info[:256]
        if outcome is not None:
            r.values = dict(outcome.values)
            r.rows = rowsFor(outcome.rows)
        r.notify = True
        self._save()
        self._changed(self, True)
        if state == "Complete":
            self.log.info("{kind} complete", kind=self.kind.key)
        else:
            self.log.warn("{kind} ended in {state}: {info}", kind=self.kind.key, state=state, info=info or "-")
        self.announce()

    def announce(self) -> None:
        """Tell the endpoint "8 DIAGNOSTICS COMPLETE" if it is owed (also after a restart)."""
        if self.record.notify:
            self.link.diagnosticsComplete()
            self.record.notify = False
            self._save()

    def _flushCancels(self) -> None:
        """Cancel on the device the tests the ACS terminated (after the session; once each, best effort)."""
        r = self.record
        if not r.cancel or self._stopped or not self._ready or self._cancelling:
            return
        if not self.runner.canCancel():
            r.cancel.clear()  # the device cannot cancel: the proxier only stops following the test
            self._save()
            return
        self._cancelling = True

        def cancel(_: Any) -> Any:
            calls = []
            for testId in list(r.cancel):
                call = self.runner.cancel(testId)
                calls.append(call.addBoth(self._cancelled, testId))
            return DeferredList(calls)

        def done(_: Any) -> None:
            self._cancelling = False
            self._cancelWait = None

        self._cancelWait = self.link.idle()
        self._cancelWait.addCallback(cancel).addBoth(done)

    def _cancelled(self, result: Any, testId: int) -> None:
        if isinstance(result, Failure) and not result.check(TestFailed):
            return  # no answer: tried again when the device is back
        if testId in self.record.cancel:
            self.record.cancel.remove(testId)
            self._save()


# ---- the objects, and their durable document ---------------------------------------------------


class DiagnosticsService:
    """
    The diagnostics objects of one proxied device: one L{Diagnostic} per
    test its C{runner} can run, their durable document, and the held model
    that shows them (mount L{model} at each of L{mounts}).

    The objects' tree (some 300 Python objects: a parameter, a getter and a
    node per field) is built when first used — an RPC under the mounts, or a
    test that ends — not for every device of a fleet that may never run a
    test (issue 19). Its Notification attributes and last reported values
    are on disk, so a change is reported all the same when it is built late.
    Likewise the L{Diagnostic}s and their records: made at once when the
    document holds any (a test may be under way, a notice owed), else when
    first used; until then every object is idle with its initial values, and
    what the device says of its tests concerns none of them.

    @param treeStore: the tree's store, or C{() → Store} giving it when the
        tree is built (its directory is made then).
    """

    # slots: one per device (issue 19)
    __slots__ = ("runner", "link", "log", "kinds", "_document", "_saver", "_diagnostics", "_ready", "_stopped",
                 "_treeStore", "model")

    def __init__(self, kinds: Sequence[d.Kind], runner: ITestRunner, link: DiagnosticsLink, document: Document,
                 treeStore: Union[Store, Callable[[], Optional[Store]], None]) -> None:
        self.runner = runner
        self.link = link
        self.log = link.log
        self.kinds = tuple(kinds)
        self._document = document
        self._saver: Optional[Retrier] = None
        self._diagnostics: Optional[dict[str, Diagnostic]] = None
        self._ready = False  # deviceReady was told: a Diagnostic made later starts ready
        self._stopped = False
        self._treeStore = treeStore
        self.model = HeldModel(self._buildTree, checkValues=self._checkValues)
        stored = document.load(default={}, validate=self._validate)
        if stored:
            self._make(stored)

    @property
    def diagnostics(self) -> dict[str, Diagnostic]:
        """Kind key → its L{Diagnostic} (made now if they were not)."""
        if self._diagnostics is None:
            self._make({})
        assert self._diagnostics is not None
        return self._diagnostics

    def _made(self) -> list[Diagnostic]:
        """The Diagnostics made so far (none: every object idle, nothing owed)."""
        return list(self._diagnostics.values()) if self._diagnostics is not None else []

    def _make(self, stored: dict) -> None:
        self._saver = Retrier(self._document, self._snapshot, self.link.clock)
        self._diagnostics = {}
        for kind in self.kinds:
            try:
                record = Record.fromJSON(kind, stored[kind.key]) if kind.key in stored else Record.fresh(kind)
            except RecordError as e:
                self.log.error("stored diagnostic {kind} unusable ({why}); starting afresh", kind=kind.key, why=str(e))
                record = Record.fresh(kind)
            diagnostic = Diagnostic(kind, record, self.runner, self.link, self._save, self._changed)
            self._diagnostics[kind.key] = diagnostic
            if self._stopped:
                diagnostic.stop()
            elif self._ready:
                diagnostic.deviceReady(False)

    def _snapshot(self) -> dict:
        return {key: diagnostic.record.toJSON() for key, diagnostic in self.diagnostics.items()}

    @property
    def tree(self) -> TreeDataModel:
        """The objects' tree (built now if it was not)."""
        return self.model.tree

    def _buildTree(self) -> TreeDataModel:
        store = self._treeStore
        self._treeStore = None
        tree = TreeDataModel(_roots(self), store if store is None or isinstance(store, Store) else store(),
                             log=self.link.log)
        for diagnostic in self.diagnostics.values():
            self._showRows(diagnostic, tree)
        tree.startNotifications()
        return tree

    @property
    def mounts(self) -> list[tuple[str, Any]]:
        return [(kind.path, self.model) for kind in self.kinds]

    def notices(self) -> list[tuple[str, str, str]]:
        """
        The diagnostics under way, as L{IDeviceAttention<proxier.interfaces.IDeviceAttention>}
        notices: which test, how far it is, since the ACS asked for it.
        """
        out = []
        for diagnostic in self._made():
            record = diagnostic.record
            if record.pending:
                name = diagnostic.kind.path.rstrip(".").rpartition(".")[2]
                out.append(("info", f"diagnostics {name} {_PHASE_TEXT[Phase(record.phase)]} (asked by the ACS)",
                            _isoTime(record.requestedAt)))
        return out

    @staticmethod
    def _validate(payload: Any) -> None:
        if not isinstance(payload, dict):
            raise ValueError("not a mapping")

    def _save(self) -> None:
        assert self._saver is not None  # made with the Diagnostics, the only ones that save
        self._saver.save()  # a failure is logged once by the store and tried again with the clock

    def _changed(self, diagnostic: Diagnostic, report: bool) -> None:
        """
        A diagnostic's state or results changed: the result rows follow; with
        C{report}, parameters with Notification on are reported (a test that
        ended), else the new values are taken as they are (what the ACS's own
        SetParameterValues did).
        """
        self._showRows(diagnostic, self.tree)
        if report:
            self.tree.changed(diagnostic.kind.path)
        else:
            self.tree.rebaseline(diagnostic.kind.path)

    @staticmethod
    def _showRows(diagnostic: Diagnostic, tree: TreeDataModel) -> None:
        table = diagnostic.kind.table
        if table is None:
            return
        tablePath = diagnostic.kind.path + table.name + "."
        rows = diagnostic.record.rows
        present = tree.instances(tablePath)
        with tree.batch():  # a result's rows written once
            for number in present:
                if number > len(rows):
                    tree.removeInstance(tablePath, number)
            for index, row in enumerate(rows, start=1):
                if index in present:
                    tree.node(f"{tablePath}{index}.").data = row
                else:
                    tree.addInstance(tablePath, key=str(index), data=row)

    def _checkValues(self, values: Sequence[ParameterValue]) -> None:
        """
        TR-181 DiagnosticsState: a test is requested with its target (Host,
        HostName) set — in the same request or before.
        """
        faults = []
        for kind in self.kinds:
            mine = {v.name[len(kind.path):]: v for v in values if v.name.startswith(kind.path)}
            state = mine.get("DiagnosticsState")
            if state is None or state.value.strip() != "Requested":
                continue
            record = self.diagnostics[kind.key].record
            target = mine.get(kind.target)
            try:
                value = acceptValue(kind.parameter(kind.target).type, target.value, target.type) \
                    if target is not None else record.config.get(kind.target, "")
            except (ValueError, TypeError):
                continue  # the tree reports that parameter's own fault
            if not str(value).strip():
                faults.append(SetParameterValuesFault(
                    state.name, 9007, f"Invalid parameter value ({kind.path}{kind.target} is empty)"))
        if faults:
            raise CWMPFault(9003, parameterFaults=faults)

    # -- what the device says --------------------------------------------------------------

    def testsActive(self, active: set[int]) -> None:
        """The device named the tests it runs now (a BMS ActiveTestIDs event): those not named ended."""
        for diagnostic in self._made():
            diagnostic.activeTests(active)

    def stateMayBeStale(self) -> None:
        """The device's word on its tests may have been lost (events missed): running tests are polled."""
        for diagnostic in self._made():
            if diagnostic.record.phase == Phase.RUNNING:
                diagnostic._poll()

    def deviceReady(self, rebooted: bool) -> None:
        self._ready = True
        for diagnostic in self._made():
            diagnostic.deviceReady(rebooted)

    def observed(self) -> None:
        """The endpoint listens now: owed "8 DIAGNOSTICS COMPLETE" events are told."""
        for diagnostic in self._made():
            diagnostic.announce()

    def stop(self) -> None:
        self._stopped = True
        if self._saver is not None:
            self._saver.stop()
        for diagnostic in self._made():
            diagnostic.stop()


def _roots(service: DiagnosticsService) -> list[Object]:
    """The declared tree: Device.IP.Diagnostics.* and Device.DNS.Diagnostics.* for the kinds offered."""
    byTop: dict[tuple[str, str], list] = {}
    for kind in service.kinds:
        segments = kind.path.rstrip(".").split(".")  # Device, IP|DNS, Diagnostics, Name
        byTop.setdefault((segments[1], segments[2]), []).append(_object(service.diagnostics[kind.key], segments[3]))
    tops = [Object(top, Object(middle, *objects)) for (top, middle), objects in byTop.items()]
    return [Object("Device", *tops)]


def _object(diagnostic: Diagnostic, name: str) -> Object:
    kind = diagnostic.kind
    record = diagnostic.record
    batch = Batch(lambda changes: diagnostic.apply({key: value for _, key, value in changes}))
    writes = ("Requested", "Canceled")  # TR-181: the only values the ACS may write

    def checkState(node: Any, value: str) -> None:
        if value not in writes:
            raise ValueError(f"DiagnosticsState can be set to {' or '.join(writes)} only")

    children: list[Any] = []
    for param in kind.parameters:
        if param.name == "DiagnosticsState":
            children.append(Parameter(param.name, param.type, get=lambda node: record.state,
                                      set=batch.field(param.name), check=checkState,
                                      activeNotify=param.activeNotify))
        elif param.writable:
            children.append(Parameter(param.name, param.type, get=lambda node, n=param.name: record.config[n],
                                      set=batch.field(param.name), activeNotify=param.activeNotify))
        else:
            default = param.type.default()
            children.append(Parameter(param.name, param.type,
                                      get=lambda node, k=param.name, v=default: record.values.get(k, v),
                                      activeNotify=param.activeNotify))
        if kind.table is not None and param.name == _countAfter(kind):
            children.append(Parameter(kind.table.numberOfEntries, UnsignedInt(),
                                      get=lambda node: len(record.rows), activeNotify=CAN_DENY))
    if kind.table is not None:
        columns = [Parameter(c.name, c.type, get=lambda node, k=c.name: node.data[k], activeNotify=c.activeNotify)
                   for c in kind.table.columns]
        children.append(Table(kind.table.name, *columns, numberOfEntries=None))
    return Object(name, *children)


def _countAfter(kind: d.Kind) -> str:
    """Where TR-181 lists the table's NumberOfEntries: after the last test parameter."""
    return kind.writable[-1].name
