# -*- test-case-name: tests.test_upnpdm_diag -*-
"""
TR-330 §4.5 Figure 6, as a state machine per diagnostics object, and the
objects themselves as the Virtual CWMP Device shows them (§4.3.2).

The ACS's SetParameterValues of DiagnosticsState=Requested (with the test's
parameters, possibly in the same request) is recorded durably in the
proxier and answered at once; the BMS test action goes out once the
session is over; its TestID is kept; a test timer computed from the test's
parameters (L{diagnostics.testSeconds}) bounds the wait for the
ActiveTestIDs event that says the test ended (GetActiveTestIDs, else
GetTestInfo, are polled when it does not come); the result is read
(GetTestInfo, Get…Result), stored in the proxier, and "8 DIAGNOSTICS
COMPLETE" told to the endpoint. The ACS reads the results from the proxier,
device or no device.

Every step is bounded: retries of an action that got no answer ("max ?" in
Figure 6) and polls of a test that does not end are counted, and a
watchdog ends any diagnostic still open L{SLACK} seconds past its test
timer. A diagnostic that cannot be carried out ends in Error_Other (or the
TR-181 error the device's result names), with "8 DIAGNOSTICS COMPLETE".
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, Sequence

from twisted.internet.defer import CancelledError, Deferred, DeferredList
from twisted.python.failure import Failure

from proxier.datamodel.declarations import CAN_DENY, Batch, Object, Parameter, Table
from proxier.datamodel.faults import CWMPFault, SetParameterValuesFault
from proxier.datamodel.tree import TreeDataModel
from proxier.datamodel.types import UnsignedInt, acceptValue
from proxier.datamodel.values import ParameterValue
from proxier.proxy.heldmodel import HeldModel
from proxier.store import Document, Retrier, Store
from proxier.upnp.soap import UPnPError
from proxier.upnpdm import diagnostics as d

__all__ = ["Diagnostic", "DiagnosticsService", "SEND_ATTEMPTS", "RETRY_DELAYS", "POLL_ATTEMPTS", "SLACK"]

#: Times the test action (or a result action) is sent when it gets no answer.
SEND_ATTEMPTS = 4
#: Seconds before each retry.
RETRY_DELAYS = (5.0, 15.0, 45.0)
#: Polls of a test still active after its timer, before it is given up.
POLL_ATTEMPTS = 5
#: Seconds past the test timer after which any diagnostic still open ends (Error_Other).
SLACK = 900.0

# BMS:2 errors of the result actions: 703 "test active" (TR-330 §4.5.1) and
# 708 (rygel answers a result of an active test with it); 706 no such test.
_STILL_ACTIVE = frozenset({703, 708})


def _describe(failure: Failure) -> str:
    if failure.check(UPnPError):
        return f"UPnP error {failure.value.code} {failure.value.description}".strip()
    return failure.getErrorMessage() or failure.type.__name__


class Diagnostic:
    """
    One diagnostics object of one device and the BMS test behind it.

    Its phases (L{Record.phase<proxier.upnpdm.diagnostics.Record>}), each
    durable:
     - C{idle}: nothing under way; DiagnosticsState is None, Complete or an
       error, with the last results.
     - C{waiting}: requested; waits for the session to end and the device to
       answer, then sends the test action (after a failed attempt, waits the
       retry delay).
     - C{sending}: the test action is in flight (after a restart: sent again).
     - C{running}: the TestID is known; the test timer runs; an ActiveTestIDs
       without it, or a poll after the timer, ends the wait.
     - C{collecting}: the test ended on the device; GetTestInfo and the result
       action are in flight.

    A new request, a Canceled, or any other test parameter set while a test
    is under way ends it (CancelTest on the device, best effort) — TR-181
    DiagnosticsState's rules.

    The phase moves only as L{diagnostics.TRANSITIONS<proxier.upnpdm.diagnostics.TRANSITIONS>}
    allows (L{Record.moveTo<proxier.upnpdm.diagnostics.Record.moveTo>}); any
    other move is a bug, raised as C{IllegalTransition} — in an action's
    callback it ends the diagnostic in Error_Other (C{_crashed}).
    """

    def __init__(self, kind: d.Kind, record: d.Record, link: Any, save: Callable[[], None],
                 changed: Callable[["Diagnostic", bool], None]) -> None:
        self.kind = kind
        self.record = record
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
            r.moveTo(d.Phase.WAITING)
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
        if r.phase == d.Phase.WAITING:
            self._arm()
        self._flushCancels()

    def _terminate(self) -> None:
        """End the test under way, if any: its TestID goes on the list to cancel on the device."""
        r = self.record
        if not r.pending:
            return
        if r.testId is not None and r.testId not in r.cancel:
            r.cancel.append(r.testId)
            del r.cancel[:-16]
        r.moveTo(d.Phase.IDLE)
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
            if r.phase in (d.Phase.RUNNING, d.Phase.COLLECTING, d.Phase.SENDING):
                self._finish(d.ERROR_OTHER, "the device rebooted during the test")
                return
        self._arm()
        self._flushCancels()

    def activeTests(self, active: set[int]) -> None:
        """An ActiveTestIDs event (or GetActiveTestIDs): a running test that is not in it ended."""
        r = self.record
        if r.phase == d.Phase.RUNNING and r.testId is not None and r.testId not in active:
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
        if r.phase in (d.Phase.WAITING, d.Phase.SENDING):
            r.moveTo(d.Phase.WAITING)
            self._waitThenSend()
        elif r.phase == d.Phase.RUNNING:
            due = r.sentAt + d.testSeconds(self.kind, r.config)
            self._later(due - self.clock.seconds(), self._poll)
        elif r.phase == d.Phase.COLLECTING:
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
        if self._stopped or generation != r.generation or r.phase != d.Phase.WAITING:
            return
        if not self.link.online:
            self.log.info("{kind}: the device is offline; the test waits for it", kind=self.kind.key)
            return  # deviceReady goes on; the watchdog bounds the wait
        r.moveTo(d.Phase.SENDING)
        self._save()
        arguments = d.testArguments(self.kind, r.config)
        call = self._track(self.link.call("bms", self.kind.action, arguments))
        call.addCallbacks(self._sent, self._sendFailed, (generation,), None, (generation,))
        call.addErrback(self._crashed, generation)

    def _sent(self, answer: Mapping[str, str], generation: int) -> None:
        r = self.record
        if generation != r.generation:
            return
        testId = d.parseIDList(str(answer.get("TestID", "")))
        if not testId or len(testId) != 1:
            self.log.warn("{kind}: the device answered TestID {id!r}, not a test ID", kind=self.kind.key,
                          id=str(answer.get("TestID", ""))[:40])
            self._finish(d.ERROR_OTHER, "the device's TestID is unusable")
            return
        r.testId = testId.pop()
        r.moveTo(d.Phase.RUNNING)
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
        r.moveTo(d.Phase.WAITING)
        if failure.check(UPnPError):
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
        if r.phase != d.Phase.RUNNING or self._stopped:
            return
        if not self.link.online:
            # the device is away: no poll is counted; deviceReady goes on (a
            # reboot means the test is lost), the watchdog bounds the wait
            self._later(self._pollInterval(), self._poll)
            return
        generation = r.generation
        if self.link.has("bms", "GetActiveTestIDs"):
            call = self._track(self.link.call("bms", "GetActiveTestIDs"))

            def answered(answer: Mapping[str, str]) -> None:
                if generation != r.generation or r.phase != d.Phase.RUNNING:
                    return
                active = d.parseIDList(str(answer.get("TestIDs", "")))
                if active is None:
                    self._pollFailed(Failure(ValueError("GetActiveTestIDs answered no ID list")), generation)
                elif r.testId in active:
                    self._stillActive()
                else:
                    self._collect()

            call.addCallbacks(answered, self._pollFailed, errbackArgs=(generation,))
        else:
            call = self._track(self.link.call("bms", "GetTestInfo", {"TestID": r.testId}))
            call.addCallbacks(self._testInfo, self._pollFailed, (generation,), None, (generation,))
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
        if generation != r.generation or r.phase != d.Phase.RUNNING or failure.check(CancelledError):
            return
        if failure.check(UPnPError) and failure.value.code == 706:
            self._finish(d.ERROR_OTHER, "the device no longer knows the test")
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
        if self._inFlight is not None and r.phase == d.Phase.COLLECTING:
            return
        r.moveTo(d.Phase.COLLECTING)
        self._save()
        generation = r.generation
        if self.link.has("bms", "GetTestInfo"):
            call = self._track(self.link.call("bms", "GetTestInfo", {"TestID": r.testId}))
            call.addCallbacks(self._testInfo, self._collectFailed, (generation,), None, (generation,))
            call.addErrback(self._crashed, generation)
        else:
            self._readResult(generation)

    def _readResult(self, generation: int) -> None:
        call = self._track(self.link.call("bms", self.kind.resultAction, {"TestID": self.record.testId}))
        call.addCallbacks(self._result, self._collectFailed, (generation,), None, (generation,))
        call.addErrback(self._crashed, generation)

    def _testInfo(self, answer: Mapping[str, str], generation: int) -> None:
        r = self.record
        if generation != r.generation:
            return
        state = str(answer.get("State", "")).strip()
        testType = str(answer.get("Type", "")).strip()
        if testType and testType != self.kind.testType:
            self._finish(d.ERROR_OTHER, f"the device says test {r.testId} is a {testType[:20]} test")
        elif state in ("Requested", "InProgress"):
            r.moveTo(d.Phase.RUNNING)
            self._stillActive()
        elif state == "Canceled":
            self._finish(d.ERROR_OTHER, "the test was canceled on the device")
        elif state == "Completed":
            r.moveTo(d.Phase.COLLECTING)
            self._readResult(generation)
        else:
            self.log.warn("{kind}: GetTestInfo answered State {state!r}", kind=self.kind.key, state=state[:20])
            self._collectFailed(Failure(ValueError(f"unknown test state {state[:20]!r}")), generation)

    def _result(self, answer: Mapping[str, str], generation: int) -> None:
        if generation != self.record.generation:
            return
        outcome = d.parseResult(self.kind, answer)
        self._finish(outcome.state, outcome.additionalInfo, outcome)

    def _collectFailed(self, failure: Failure, generation: int) -> None:
        r = self.record
        if generation != r.generation or failure.check(CancelledError):
            return
        if failure.check(UPnPError):
            code = failure.value.code
            if code in _STILL_ACTIVE and not self.link.has("bms", "GetTestInfo"):
                r.moveTo(d.Phase.RUNNING)
                self._stillActive()
                return
            self._finish(d.ERROR_OTHER, f"the result could not be read ({_describe(failure)})")
            return
        if not self._retry(f"reading the result failed ({_describe(failure)})"):
            self._finish(d.ERROR_OTHER, f"the result could not be read ({_describe(failure)})")

    # -- the end ----------------------------------------------------------------------------

    def _finish(self, state: str, info: str = "", outcome: Optional[d.Outcome] = None) -> None:
        r = self.record
        self._stopTimers()
        r.state = state
        r.moveTo(d.Phase.IDLE)
        r.testId = None
        r.generation += 1
        r.additionalInfo = info[:256]
        if outcome is not None:
            r.values = dict(outcome.values)
            r.rows = d.rowsFor(outcome.rows)
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
        if not self.link.has("bms", "CancelTest"):
            r.cancel.clear()  # the device cannot cancel: the proxier only stops following the test
            self._save()
            return
        self._cancelling = True

        def cancel(_: Any) -> Any:
            calls = []
            for testId in list(r.cancel):
                call = self.link.call("bms", "CancelTest", {"TestID": testId})
                calls.append(call.addBoth(self._cancelled, testId))
            return DeferredList(calls)

        def done(_: Any) -> None:
            self._cancelling = False
            self._cancelWait = None

        self._cancelWait = self.link.idle()
        self._cancelWait.addCallback(cancel).addBoth(done)

    def _cancelled(self, result: Any, testId: int) -> None:
        if isinstance(result, Failure) and not result.check(UPnPError):
            return  # no answer: tried again when the device is back
        if testId in self.record.cancel:
            self.record.cancel.remove(testId)
            self._save()


# ---- the objects, and their durable document ---------------------------------------------------


class DiagnosticsService:
    """
    The diagnostics objects of one Virtual CWMP Device: one L{Diagnostic} per
    BMS test the device offers, their durable document, and the overlay that
    shows them (mount L{model} at each of L{mounts}).
    """

    def __init__(self, kinds: Sequence[d.Kind], link: Any, document: Document, treeStore: Optional[Store]) -> None:
        self.link = link
        self.log = link.log
        self.kinds = tuple(kinds)
        self._document = document
        self._saver = Retrier(document, lambda: {key: diagnostic.record.toJSON()
                                                 for key, diagnostic in self.diagnostics.items()}, link.clock)
        stored = document.load(default={}, validate=self._validate)
        self.diagnostics: dict[str, Diagnostic] = {}
        for kind in self.kinds:
            try:
                record = d.Record.fromJSON(kind, stored[kind.key]) if kind.key in stored else d.Record.fresh(kind)
            except d.RecordError as e:
                self.log.error("stored diagnostic {kind} unusable ({why}); starting afresh", kind=kind.key, why=str(e))
                record = d.Record.fresh(kind)
            self.diagnostics[kind.key] = Diagnostic(kind, record, link, self._save, self._changed)
        self.tree = TreeDataModel(_roots(self), treeStore, log=link.log)
        for diagnostic in self.diagnostics.values():
            self._showRows(diagnostic)
        self.tree.startNotifications()
        self.model = HeldModel(self.tree, checkValues=self._checkValues)

    @property
    def mounts(self) -> list[tuple[str, Any]]:
        return [(kind.path, self.model) for kind in self.kinds]

    @staticmethod
    def _validate(payload: Any) -> None:
        if not isinstance(payload, dict):
            raise ValueError("not a mapping")

    def _save(self) -> None:
        self._saver.save()  # a failure is logged once by the store and tried again with the clock

    def _changed(self, diagnostic: Diagnostic, report: bool) -> None:
        """
        A diagnostic's state or results changed: the result rows follow; with
        C{report}, parameters with Notification on are reported (a test that
        ended), else the new values are taken as they are (what the ACS's own
        SetParameterValues did).
        """
        self._showRows(diagnostic)
        if report:
            self.tree.changed(diagnostic.kind.path)
        else:
            self.tree.rebaseline(diagnostic.kind.path)

    def _showRows(self, diagnostic: Diagnostic) -> None:
        table = diagnostic.kind.table
        if table is None:
            return
        tablePath = diagnostic.kind.path + table.name + "."
        rows = diagnostic.record.rows
        present = self.tree.instances(tablePath)
        for number in present:
            if number > len(rows):
                self.tree.removeInstance(tablePath, number)
        for index, row in enumerate(rows, start=1):
            if index in present:
                self.tree.node(f"{tablePath}{index}.").data = row
            else:
                self.tree.addInstance(tablePath, key=str(index), data=row)

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

    def eventReceived(self, variables: Sequence[tuple[str, str]]) -> None:
        for name, value in variables:
            if name == "ActiveTestIDs":
                active = d.parseIDList(value)
                if active is None:
                    self.log.warn("ActiveTestIDs {value!r} is not an ID list; ignored", value=value[:60])
                    continue
                for diagnostic in self.diagnostics.values():
                    diagnostic.activeTests(active)

    def stateMayBeStale(self) -> None:
        for diagnostic in self.diagnostics.values():
            if diagnostic.record.phase == d.Phase.RUNNING:
                diagnostic._poll()

    def deviceReady(self, rebooted: bool) -> None:
        for diagnostic in self.diagnostics.values():
            diagnostic.deviceReady(rebooted)

    def observed(self) -> None:
        """The endpoint listens now: owed "8 DIAGNOSTICS COMPLETE" events are told."""
        for diagnostic in self.diagnostics.values():
            diagnostic.announce()

    def stop(self) -> None:
        self._saver.stop()
        for diagnostic in self.diagnostics.values():
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
                                      get=lambda node, k=param.result, v=default: record.values.get(k, v),
                                      activeNotify=param.activeNotify))
        if kind.table is not None and param.name == _countAfter(kind):
            children.append(Parameter(kind.table.numberOfEntries, UnsignedInt(),
                                      get=lambda node: len(record.rows), activeNotify=CAN_DENY))
    if kind.table is not None:
        columns = [Parameter(c.name, c.type, get=lambda node, k=c.result: node.data[k], activeNotify=c.activeNotify)
                   for c in kind.table.columns]
        children.append(Table(kind.table.name, *columns, numberOfEntries=None))
    return Object(name, *children)


def _countAfter(kind: d.Kind) -> str:
    """Where TR-181 lists the table's NumberOfEntries: after the last test parameter."""
    return kind.writable[-1].name
