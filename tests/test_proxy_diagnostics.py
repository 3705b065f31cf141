"""
Tests for the diagnostics every proxied device gets (TR-330 §4.3.2, §4.5
Figure 6), whatever its protocol: the TR-181 declarations
(L{proxier.proxy.diagtables}), the durable record and its phase machine,
and the service (L{proxier.proxy.diagnostics}) driven over an in-memory
L{ITestRunner} on a clock — the phases a test goes through, the TR-181
values the ACS reads, what survives a restart, and "8 DIAGNOSTICS
COMPLETE". The BMS mapping is tested in tests.test_upnpdm_diag.
"""

from __future__ import annotations

import os

from typing import Any, Optional

from twisted.internet import task
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.trial import unittest
from zope.interface import implementer
from zope.interface.verify import verifyObject

from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.values import AttributeChange, ParameterValue
from proxier.proxy import diagnostics as core
from proxier.proxy import diagtables as tables
from proxier.store import Store
from tests import tr181
from tests._helpers import LogCapture

PING = tables.IPPING.path
TRACE = tables.TRACEROUTE.path


def pv(name: str, value: str, xsi: str = "xsd:string") -> ParameterValue:
    return ParameterValue(name, value, xsi)


# ---- the declarations and the record ------------------------------------------------------


class TablesTests(unittest.TestCase):
    def test_testSeconds(self) -> None:
        """The test timer: repetitions × timeout (ping: one a second), hops × tries × timeout, plus grace, bounded."""
        self.assertEqual(tables.testSeconds(tables.IPPING, {"NumberOfRepetitions": 4, "Timeout": 2000}), 4 * 2.0 + tables.TEST_GRACE)
        self.assertEqual(tables.testSeconds(tables.IPPING, {"NumberOfRepetitions": 4, "Timeout": 100}), 4 * 1.0 + tables.TEST_GRACE)
        self.assertEqual(tables.testSeconds(tables.TRACEROUTE, {"MaxHopCount": 10, "NumberOfTries": 2, "Timeout": 500}),
                         10 * 2 * 0.5 + tables.TEST_GRACE)
        self.assertEqual(tables.testSeconds(tables.NSLOOKUP, {"NumberOfRepetitions": 3, "Timeout": 1000}), 3.0 + tables.TEST_GRACE)
        self.assertEqual(tables.testSeconds(tables.IPPING, {"NumberOfRepetitions": 10**6, "Timeout": 10**6}), tables.MAX_TEST_SECONDS)



class DeclarationTests(unittest.TestCase):
    def setUp(self) -> None:
        if not tr181.available():
            raise unittest.SkipTest(f"{tr181.TR181_FULL} is not here")
        self.standard = tr181.load()

    def test_declarationsAreTR181(self) -> None:
        """The tables of diagtables.KINDS themselves, row by row: names, writability, activeNotify, types."""
        for kind in tables.KINDS:
            rows = [(kind.path, p) for p in kind.parameters]
            if kind.table is not None:
                rows += [(f"{kind.path}{kind.table.name}.{{i}}.", c) for c in kind.table.columns]
                count = self.standard.parameters[kind.path + kind.table.numberOfEntries]
                self.assertEqual(count.activeNotify, "canDeny")
            for prefix, param in rows:
                standard = self.standard.parameters[prefix + param.name]
                self.assertEqual(param.writable, standard.writable, param.name)
                self.assertEqual(param.activeNotify, standard.activeNotify, param.name)
                if param.writable:
                    self.assertEqual(param.type.spec(), standard.type().spec(), param.name)
                    if param.initial is not None:
                        standard.type().check(param.initial)
                else:
                    self.assertEqual(param.type.base, standard.type().base, param.name)


class RecordTests(unittest.TestCase):
    def test_roundTrip(self) -> None:
        """A record survives JSON as it was (lists, rows, the test under way)."""
        record = core.Record.fresh(tables.NSLOOKUP)
        record.config["HostName"] = "x"
        record.state, record.phase, record.testId, record.cancel = "Requested", "running", 7, [3]
        record.rows = [{"Status": "Success", "AnswerType": "None", "HostNameReturned": "x", "IPAddresses": ("1.2.3.4",),
                        "DNSServerIP": "", "ResponseTime": 3}]
        again = core.Record.fromJSON(tables.NSLOOKUP, record.toJSON())
        self.assertEqual(again.toJSON(), record.toJSON())
        self.assertEqual(again.rows[0]["IPAddresses"], ("1.2.3.4",))

    def test_badRecords(self) -> None:
        """A record with a value outside TR-181's type, an unknown name or phase is refused."""
        good = core.Record.fresh(tables.IPPING).toJSON()
        for change in ({"state": "Bananas"}, {"phase": "flying"}, {"config": {"DSCP": 99}},
                       {"config": {"Nope": 1}}, {"values": {"SuccessCount": -1}}, {"generation": "x"}):
            self.assertRaises(core.RecordError, core.Record.fromJSON, tables.IPPING, dict(good, **change))


class PhaseTransitionTests(unittest.TestCase):
    """The diagnostic's phase machine (L{core.TRANSITIONS}), move by move."""

    # every move, as Diagnostic makes it: (from, to, why)
    ALLOWED = [
        ("idle", "waiting", "the ACS requests a test"),
        ("waiting", "waiting", "the retry delay, or the device back"),
        ("waiting", "sending", "the test action goes out"),
        ("waiting", "idle", "ended (new request, Canceled, no answer, watchdog)"),
        ("sending", "waiting", "the action failed (retry), or was in flight at a restart"),
        ("sending", "running", "the TestID came"),
        ("sending", "idle", "refused, unusable TestID, device rebooted, watchdog"),
        ("running", "running", "a poll says it still runs"),
        ("running", "collecting", "it ended on the device"),
        ("running", "idle", "given up, 706, device rebooted, watchdog"),
        ("collecting", "collecting", "the result read again after a restart; GetTestInfo says Completed"),
        ("collecting", "running", "GetTestInfo or the result action say it still runs"),
        ("collecting", "idle", "the result, or it could not be read"),
    ]

    def test_tableRowByRow(self) -> None:
        """L{core.TRANSITIONS} allows exactly the moves listed, for every phase."""
        self.assertEqual(set(core.TRANSITIONS), set(core.Phase))
        table = {(a.value, b.value) for a, targets in core.TRANSITIONS.items() for b in targets}
        self.assertEqual(table, {(a, b) for a, b, _ in self.ALLOWED})

    def test_everyMove(self) -> None:
        """Each allowed move is made; each other one raises IllegalTransition and leaves the phase as it was."""
        allowed = {(a, b) for a, b, _ in self.ALLOWED}
        for start in core.Phase:
            for target in core.Phase:
                record = core.Record.fresh(tables.IPPING)
                record.phase = start
                if (start.value, target.value) in allowed:
                    record.moveTo(target)
                    self.assertIs(record.phase, target)
                else:
                    with self.assertRaises(core.IllegalTransition, msg=f"{start} → {target}"):
                        record.moveTo(target)
                    self.assertIs(record.phase, start)
        self.assertEqual(len(allowed), 13)
        self.assertEqual(len(core.Phase) ** 2 - len(allowed), 12)  # the refused moves walked above

    def test_savedAsItsValue(self) -> None:
        """A phase is saved as the same string as before the enum (records written by today's main load)."""
        record = core.Record.fresh(tables.IPPING)
        record.moveTo(core.Phase.WAITING)
        self.assertEqual(record.toJSON()["phase"], "waiting")
        self.assertEqual(core.PHASES, ("idle", "waiting", "sending", "running", "collecting"))
        again = core.Record.fromJSON(tables.IPPING, dict(record.toJSON(), phase="collecting"))
        self.assertIs(again.phase, core.Phase.COLLECTING)
        again.moveTo(core.Phase.RUNNING)  # a loaded phase moves by the table too
        self.assertRaises(core.IllegalTransition, again.moveTo, core.Phase.SENDING)


# ---- the service over an in-memory runner ----------------------------------------------------


class FakeLink:
    """The device as the diagnostics see it: a clock, online or not, CWMP sessions that end when told."""

    def __init__(self, clock: task.Clock) -> None:
        self.clock = clock
        self.log = Logger(namespace="test_proxy_diagnostics")
        self.online = True
        self.inSession = True
        self.waiting: list[Deferred] = []
        self.completes = 0

    def idle(self) -> Deferred:
        waiting: Deferred = Deferred()
        if self.inSession:
            self.waiting.append(waiting)
        else:
            self.clock.callLater(0, waiting.callback, None)
        return waiting

    def endSession(self) -> None:
        self.inSession = False
        waiting, self.waiting = self.waiting, []
        for each in waiting:
            if not each.called:
                each.callback(None)

    def diagnosticsComplete(self) -> None:
        self.completes += 1


@implementer(core.ITestRunner)
class FakeRunner:
    """A device's tests in memory: every call is recorded with a Deferred the test fires."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple, Deferred]] = []
        self.cancellable = True
        self.cancelled: list[str] = []

    def _call(self, name: str, *args: Any) -> Deferred:
        call: Deferred = Deferred(lambda _: self.cancelled.append(name))
        self.calls.append((name, args, call))
        return call

    def start(self, kind: tables.Kind, parameters: Any) -> Deferred:
        return self._call("start", kind.key, dict(parameters))

    def poll(self, kind: tables.Kind, testId: int) -> Deferred:
        return self._call("poll", kind.key, testId)

    def result(self, kind: tables.Kind, testId: int) -> Deferred:
        return self._call("result", kind.key, testId)

    def canCancel(self) -> bool:
        return self.cancellable

    def cancel(self, testId: int) -> Deferred:
        return self._call("cancel", testId)

    def made(self, name: Optional[str] = None) -> list[tuple]:
        """The calls made (of C{name}), as C{(name, args)}."""
        return [(n, args) for n, args, _ in self.calls if name is None or n == name]

    def open(self, name: str) -> Deferred:
        """The one call of C{name} not answered yet."""
        [call] = [c for n, _, c in self.calls if n == name and not c.called]
        return call


class ServiceCase(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.path = self.mktemp()
        self.link = FakeLink(self.clock)
        self.runner = FakeRunner()
        self.service = self.make()

    def make(self, kinds: tuple = tables.KINDS, ready: bool = True) -> core.DiagnosticsService:
        """A service over the store; C{ready}: the device is online (as the protocol says when it has it)."""
        store = Store.open(self.path)
        service = core.DiagnosticsService(kinds, self.runner, self.link, store.document("diagnostics"),
                                          store.child("diagnostics-tree"))
        self.addCleanup(service.stop)
        if ready:
            service.deviceReady(False)
        return service

    def restart(self) -> core.DiagnosticsService:
        """
        The proxier stops and starts again: a new service, link and runner
        over the same store; the device not seen yet (the test says when).
        """
        self.service.stop()
        self.link = FakeLink(self.clock)
        self.runner = FakeRunner()
        self.service = self.make(ready=False)
        return self.service

    def ok(self, d: Deferred) -> Any:
        return self.successResultOf(d)

    def values(self, path: str) -> dict[str, str]:
        return {v.name: v.value for v in self.ok(self.service.model.getParameterValues([path]))}

    def state(self, path: str = PING) -> str:
        return self.values(path + "DiagnosticsState")[path + "DiagnosticsState"]

    def saved(self, key: str = "IPPing") -> dict:
        """The record of C{key} as the store holds it now."""
        return Store.open(self.path).document("diagnostics").load()[key]

    def request(self, *values: ParameterValue) -> int:
        self.link.inSession = True
        return self.ok(self.service.model.setParameterValues(list(values)))

    def requestPing(self, host: str = "example.com") -> None:
        self.assertEqual(self.request(pv(PING + "Host", host), pv(PING + "DiagnosticsState", "Requested")), 0)

    def started(self, testId: int = 7) -> None:
        """The session ends, the test starts on the device and gets C{testId}."""
        self.link.endSession()
        self.clock.advance(0)
        self.runner.open("start").callback(testId)


class RunnerInterfaceTests(unittest.TestCase):
    def test_fakeIsARunner(self) -> None:
        """The in-memory runner provides ITestRunner fully (so the tests below drive the real contract)."""
        verifyObject(core.ITestRunner, FakeRunner())


class PhaseTests(ServiceCase):
    def test_slots(self) -> None:
        """The service and its held model keep no instance dict: one each a device (issue 19)."""
        self.assertFalse(hasattr(self.service, "__dict__") or hasattr(self.service.model, "__dict__"))

    def test_allTheWay(self) -> None:
        """
        Figure 6 through the phases, each saved before anyone is told: idle → waiting (the request,
        answered 0 in the session, nothing started) → sending (the session over) → running (the test's
        ID) → collecting (the device no longer lists it) → idle (Complete, the results, one
        "8 DIAGNOSTICS COMPLETE").
        """
        self.assertEqual(self.service.diagnostics["IPPing"].record.phase, core.Phase.IDLE)
        self.requestPing()
        self.assertEqual((self.state(), self.saved()["phase"]), ("Requested", "waiting"))
        self.clock.advance(30.0)
        self.assertEqual(self.runner.made(), [], "started during the session")
        self.link.endSession()
        self.clock.advance(0)
        config = dict(tables.IPPING.initialConfig(), Host="example.com")
        self.assertEqual(self.runner.made(), [("start", ("IPPing", config))])
        self.assertEqual(self.saved()["phase"], "sending")
        self.runner.open("start").callback(7)
        self.assertEqual((self.saved()["phase"], self.saved()["testId"]), ("running", 7))
        self.service.testsActive({7, 9})
        self.assertEqual(self.runner.made("result"), [], "7 still runs")
        self.service.testsActive({9})
        self.assertEqual(self.runner.made("result"), [("result", ("IPPing", 7))])
        self.assertEqual(self.saved()["phase"], "collecting")
        self.assertEqual(self.link.completes, 0)
        self.runner.open("result").callback(core.Outcome("Complete", "fine", {"SuccessCount": 3}))
        self.assertEqual((self.saved()["phase"], self.saved()["state"], self.saved()["testId"]),
                         ("idle", "Complete", None))
        self.assertEqual(self.state(), "Complete")
        self.assertEqual(self.link.completes, 1)
        self.assertFalse(self.saved()["notify"], "told, so no longer owed")
        self.assertEqual(self.clock.getDelayedCalls(), [], "no timer left behind")

    def test_notices(self) -> None:
        """
        A diagnostic under way is a notice (IDeviceAttention's plain items):
        which test, its phase in words, since the ACS asked; none once it ended.
        """
        self.assertEqual(self.service.notices(), [])
        self.clock.advance(1796562000)  # 2026-12-06 13:00 UTC
        self.requestPing()
        self.assertEqual(self.service.notices(), [
            ("info", "diagnostics IPPing waiting to start (asked by the ACS)", "2026-12-06T13:00:00+00:00")])
        self.started()
        self.assertEqual([text for _, text, _ in self.service.notices()],
                         ["diagnostics IPPing running (asked by the ACS)"])
        self.service.testsActive(set())
        self.runner.open("result").callback(core.Outcome("Complete", "fine", {"SuccessCount": 3}))
        self.assertEqual(self.service.notices(), [])

    def test_noEventPolls(self) -> None:
        """No word from the device: the test timer's poll finds the end (False), then the result is read."""
        self.requestPing()
        self.started()
        seconds = tables.testSeconds(tables.IPPING, tables.IPPING.initialConfig())
        self.clock.advance(seconds - 1)
        self.assertEqual(self.runner.made("poll"), [])
        self.clock.advance(1)
        self.assertEqual(self.runner.made("poll"), [("poll", ("IPPing", 7))])
        self.runner.open("poll").callback(False)
        self.assertEqual(self.runner.made("result"), [("result", ("IPPing", 7))])

    def test_pollsBoundedThenCancelled(self) -> None:
        """A test still running after POLL_ATTEMPTS polls is given up (Error_Other, told) and cancelled on the device."""
        self.requestPing()
        self.started()
        self.clock.advance(tables.testSeconds(tables.IPPING, tables.IPPING.initialConfig()))
        for _ in range(core.POLL_ATTEMPTS):
            self.runner.open("poll").callback(True)
            self.clock.advance(60.0)
        self.assertEqual(len(self.runner.made("poll")), core.POLL_ATTEMPTS)
        self.assertEqual((self.state(), self.link.completes), ("Error_Other", 1))
        self.assertEqual(self.runner.made("cancel"), [("cancel", (7,))])
        self.assertEqual(self.saved()["cancel"], [7])
        self.runner.open("cancel").callback(None)
        self.assertEqual(self.saved()["cancel"], [])

    def test_stillRunningGoesBackToRunning(self) -> None:
        """The result is asked too early (TestStillRunning): back to running, polled later, no end yet."""
        self.requestPing()
        self.started()
        self.service.testsActive(set())
        self.runner.open("result").errback(core.TestStillRunning())
        self.assertEqual((self.saved()["phase"], self.saved()["polls"]), ("running", 1))
        self.assertEqual(self.state(), "Requested")
        self.clock.advance(60.0)
        self.assertEqual(self.runner.made("poll"), [("poll", ("IPPing", 7))])

    def test_refused(self) -> None:
        """TestFailed from the start: Error_Other at once with its text, told, not tried again."""
        self.requestPing()
        self.link.endSession()
        self.clock.advance(0)
        self.runner.open("start").errback(core.TestFailed("UPnP error 402 Invalid Args"))
        self.assertEqual(self.state(), "Error_Other")
        self.assertEqual(self.saved()["additionalInfo"], "UPnP error 402 Invalid Args")
        self.assertEqual(self.link.completes, 1)
        self.clock.advance(3600.0)
        self.assertEqual(len(self.runner.made("start")), 1)

    def test_noAnswerRetried(self) -> None:
        """Any other failure of the start is no answer: tried again after RETRY_DELAYS, SEND_ATTEMPTS in all, then Error_Other."""
        self.requestPing()
        self.link.endSession()
        self.clock.advance(0)
        for attempt in range(core.SEND_ATTEMPTS):
            self.runner.open("start").errback(OSError("timed out"))
            if attempt < core.SEND_ATTEMPTS - 1:
                self.assertEqual(self.saved()["phase"], "waiting")
                self.clock.advance(core.RETRY_DELAYS[min(attempt, len(core.RETRY_DELAYS) - 1)])
                self.clock.advance(0)
        self.assertEqual(len(self.runner.made("start")), core.SEND_ATTEMPTS)
        self.assertEqual((self.state(), self.link.completes), ("Error_Other", 1))
        self.assertIn("timed out", self.saved()["additionalInfo"])

    def test_resultUnreadable(self) -> None:
        """TestFailed from the result (the device lost or canceled the test): Error_Other, told once."""
        self.requestPing()
        self.started()
        self.service.testsActive(set())
        self.runner.open("result").errback(core.TestFailed("the test was canceled on the device"))
        self.assertEqual((self.state(), self.link.completes), ("Error_Other", 1))

    def test_watchdog(self) -> None:
        """A start that never answers: the watchdog ends the diagnostic SLACK past its timer, the call cancelled."""
        self.requestPing()
        self.link.endSession()
        self.clock.advance(0)
        self.clock.advance(tables.testSeconds(tables.IPPING, tables.IPPING.initialConfig()) + core.SLACK)
        self.assertEqual((self.state(), self.link.completes), ("Error_Other", 1))
        self.assertEqual(self.runner.cancelled, ["start"])

    def test_rebootMidTest(self) -> None:
        """The device rebooted while the test ran: Error_Other, told, the device not asked about it."""
        self.requestPing()
        self.started()
        self.service.deviceReady(True)
        self.assertEqual((self.state(), self.link.completes), ("Error_Other", 1))
        self.assertEqual(self.runner.made("poll") + self.runner.made("result") + self.runner.made("cancel"), [])

    def test_offlineWaits(self) -> None:
        """Requested while the device is offline: started once it is back (deviceReady)."""
        self.link.online = False
        self.requestPing()
        self.link.endSession()
        self.clock.advance(10.0)
        self.assertEqual(self.runner.made("start"), [])
        self.link.online = True
        self.service.deviceReady(False)
        self.clock.advance(0)
        self.assertEqual(len(self.runner.made("start")), 1)


class ACSRuleTests(ServiceCase):
    def test_targetRequired(self) -> None:
        """Requested without its target: 9003 with a 9007 for DiagnosticsState, nothing recorded."""
        fault = self.failureResultOf(self.service.model.setParameterValues(
            [pv(PING + "DiagnosticsState", "Requested")]), CWMPFault).value
        self.assertEqual([(f.parameterName, f.faultCode) for f in fault.parameterFaults],
                         [(PING + "DiagnosticsState", 9007)])
        self.assertIs(self.service.diagnostics["IPPing"].record.phase, core.Phase.IDLE)
        self.assertEqual(self.state(), "None")
        self.link.endSession()
        self.clock.advance(60.0)
        self.assertEqual(self.runner.made(), [])

    def test_canceledWhileRunning(self) -> None:
        """Canceled while the test runs: None at once, cancelled on the device after the session, never told."""
        self.requestPing()
        self.started()
        self.assertEqual(self.request(pv(PING + "DiagnosticsState", "Canceled")), 0)
        self.assertEqual((self.state(), self.saved()["phase"], self.saved()["cancel"]), ("None", "idle", [7]))
        self.assertEqual(self.runner.made("cancel"), [], "not during the session")
        self.link.endSession()
        self.clock.advance(0)
        self.runner.open("cancel").errback(core.TestFailed("UPnP error 706"))
        self.assertEqual(self.saved()["cancel"], [], "the device's refusal settles it too")
        self.service.testsActive(set())
        self.assertEqual((self.runner.made("result"), self.link.completes), ([], 0))

    def test_cancelUnanswered(self) -> None:
        """A cancel that got no answer stays owed; a device that cannot cancel owes nothing."""
        self.requestPing()
        self.started()
        self.request(pv(PING + "DiagnosticsState", "Canceled"))
        self.link.endSession()
        self.clock.advance(0)
        self.runner.open("cancel").errback(OSError("timed out"))
        self.assertEqual(self.saved()["cancel"], [7])
        self.runner.cancellable = False
        self.service.deviceReady(False)
        self.assertEqual(self.saved()["cancel"], [])

    def test_valueChangeOnlyForTheEnd(self) -> None:
        """Notification on DiagnosticsState: the ACS's own Requested is not reported, the end is (active)."""
        changes: list = []
        self.service.model.addChangeListener(lambda values, active: changes.append((list(values), active)))
        self.ok(self.service.model.setParameterAttributes([AttributeChange(PING + "DiagnosticsState", True, 2)]))
        self.requestPing()
        self.assertEqual(changes, [])
        self.started()
        self.service.testsActive(set())
        self.runner.open("result").callback(core.Outcome("Complete"))
        self.assertEqual(changes, [([ParameterValue(PING + "DiagnosticsState", "Complete")], True)])


class ValuesTests(ServiceCase):
    def test_resultsAsTR181(self) -> None:
        """The outcome's values and rows are what the ACS reads, with TR-181's types; parameters never set read their default."""
        self.request(pv(TRACE + "Host", "example.com"), pv(TRACE + "DiagnosticsState", "Requested"))
        self.started(3)
        self.service.testsActive(set())
        rows = ({"Host": "gw", "HostAddress": "192.0.2.1", "ErrorCode": 0, "RTTimes": (1, 2)},
                {"Host": "example.com", "HostAddress": "", "ErrorCode": 0, "RTTimes": ()})
        self.runner.open("result").callback(core.Outcome("Complete", "", {"ResponseTime": 12}, rows))
        values = self.values(TRACE)
        self.assertEqual(values[TRACE + "DiagnosticsState"], "Complete")
        self.assertEqual(values[TRACE + "ResponseTime"], "12")
        self.assertEqual(values[TRACE + "IPAddressUsed"], "")
        self.assertEqual(values[TRACE + "RouteHopsNumberOfEntries"], "2")
        self.assertEqual(values[TRACE + "RouteHops.1.HostAddress"], "192.0.2.1")
        self.assertEqual(values[TRACE + "RouteHops.1.RTTimes"], "1,2")
        self.assertEqual(values[TRACE + "RouteHops.2.Host"], "example.com")
        self.assertEqual(values[TRACE + "Host"], "example.com")
        self.assertEqual(values[TRACE + "MaxHopCount"], "30")

    def test_fewerRowsNextTime(self) -> None:
        """A second outcome with fewer rows leaves only its own (numbered 1..n)."""
        row = {"Host": "h", "HostAddress": "", "ErrorCode": 0, "RTTimes": ()}
        for testId, count in ((3, 3), (4, 1)):
            self.request(pv(TRACE + "Host", "example.com"), pv(TRACE + "DiagnosticsState", "Requested"))
            self.started(testId)
            self.service.testsActive(set())
            self.runner.open("result").callback(core.Outcome("Complete", "", {}, (row,) * count))
        names = [i.name for i in self.ok(self.service.model.getParameterNames(TRACE + "RouteHops.", True))]
        self.assertEqual(names, [TRACE + "RouteHops.1."])

    def test_onlyTheKindsGiven(self) -> None:
        """A runner with fewer tests gets fewer objects: only those are mounted and readable."""
        self.runner = FakeRunner()
        service = self.make(kinds=(tables.NSLOOKUP,))
        self.assertEqual([path for path, _ in service.mounts], [tables.NSLOOKUP.path])
        self.assertEqual(self.failureResultOf(service.model.getParameterValues([PING + "Host"]), CWMPFault).value.code,
                         9005)


class BuiltWhenUsedTests(ServiceCase):
    def makeLazy(self) -> core.DiagnosticsService:
        """A service whose tree's store is given as a function, as a device's is (its folder made when used)."""
        store = Store.open(self.path)
        service = core.DiagnosticsService(tables.KINDS, self.runner, self.link, store.document("diagnostics"),
                                          lambda: store.child("lazy-tree"))
        self.addCleanup(service.stop)
        service.deviceReady(False)
        return service

    def test_noTreeUntilUsed(self) -> None:
        """Made, mounted and listened to, a device's diagnostics hold no tree nor folder; the first read builds it."""
        service = self.makeLazy()
        service.model.addChangeListener(lambda values, active: None)
        self.assertEqual([path for path, _ in service.mounts], [k.path for k in tables.KINDS])
        self.assertFalse(service.model.built)
        self.assertFalse(os.path.exists(os.path.join(self.path, "lazy-tree")))
        values = {v.name: v.value for v in self.ok(service.model.getParameterValues([PING + "DiagnosticsState"]))}
        self.assertEqual(values, {PING + "DiagnosticsState": "None"})
        self.assertTrue(service.model.built)
        self.assertTrue(os.path.isdir(os.path.join(self.path, "lazy-tree")))

    def test_noDiagnosticUntilUsed(self) -> None:
        """
        A device with nothing stored holds no Diagnostic through what the
        device says (ready, tests active, events missed, the endpoint
        listening), has no notice, and saves nothing; the first request
        makes them, ready, and the test starts once the session is over.
        """
        service = self.service = self.makeLazy()
        service.testsActive({3})
        service.stateMayBeStale()
        service.observed()
        self.assertEqual(service.notices(), [])
        self.assertIsNone(service._diagnostics)
        self.assertNotIn("diagnostics.json", os.listdir(self.path))
        self.requestPing()
        self.assertIsNotNone(service._diagnostics)
        self.started(7)
        self.assertEqual(self.saved()["phase"], "running")

    def test_storedRecordsMadeAtOnce(self) -> None:
        """A document holding records (a test under way) makes the Diagnostics with the service: the test goes on."""
        service = self.service = self.makeLazy()
        self.requestPing()
        self.started(7)
        service.stop()
        self.link = FakeLink(self.clock)
        self.runner = FakeRunner()
        service = self.service = self.makeLazy()
        self.assertIsNotNone(service._diagnostics)
        self.assertEqual([notice[1] for notice in service.notices()],
                         ["diagnostics IPPing " + core._PHASE_TEXT[core.Phase.RUNNING] + " (asked by the ACS)"])
        service.testsActive(set())
        self.assertEqual(self.runner.made(), [("result", ("IPPing", 7))])

    def test_endReportedByATreeBuiltAfterRestart(self) -> None:
        """
        Notification on, a test requested, the proxier restarted: the new
        service builds its tree only when the test ends, and the end is
        still reported to the listener added before (the reference is on disk).
        """
        service = self.service = self.makeLazy()
        self.ok(service.model.setParameterAttributes([AttributeChange(PING + "DiagnosticsState", True, 2)]))
        self.requestPing()
        self.started(7)
        self.service.stop()
        self.link = FakeLink(self.clock)
        self.runner = FakeRunner()
        service = self.service = self.makeLazy()
        changes: list = []
        service.model.addChangeListener(lambda values, active: changes.append((list(values), active)))
        self.assertFalse(service.model.built)
        service.testsActive(set())
        self.runner.open("result").callback(core.Outcome("Complete"))
        self.assertTrue(service.model.built)
        self.assertEqual(changes, [([ParameterValue(PING + "DiagnosticsState", "Complete")], True)])


class RestartTests(ServiceCase):
    def test_requestedRunsOnceAfterRestart(self) -> None:
        """Requested, then the proxier stops before starting it: the new one starts it once and completes."""
        self.requestPing()
        self.restart()
        self.assertEqual(self.state(), "Requested")
        self.service.deviceReady(False)
        self.link.endSession()
        self.clock.advance(0)
        self.assertEqual(len(self.runner.made("start")), 1)

    def test_runningFollowsTheSameTest(self) -> None:
        """Stopped with test 7 running: the new service polls test 7 at its timer (no new start) and completes."""
        self.requestPing()
        self.started(7)
        self.restart()
        self.service.deviceReady(False)
        self.clock.advance(tables.testSeconds(tables.IPPING, tables.IPPING.initialConfig()))
        self.assertEqual(self.runner.made(), [("poll", ("IPPing", 7))])
        self.runner.open("poll").callback(False)
        self.runner.open("result").callback(core.Outcome("Complete", "", {"SuccessCount": 3}))
        self.assertEqual((self.state(), self.values(PING)[PING + "SuccessCount"]), ("Complete", "3"))
        self.assertEqual(self.link.completes, 1)

    def test_collectingReadsAgain(self) -> None:
        """Stopped while the result was read: the new service reads it again as soon as the device is ready."""
        self.requestPing()
        self.started(7)
        self.service.testsActive(set())
        self.restart()
        self.assertEqual(self.saved()["phase"], "collecting")
        self.service.deviceReady(False)
        self.assertEqual(self.runner.made(), [("result", ("IPPing", 7))])

    def test_resultsKept(self) -> None:
        """Results and test parameters survive a restart: read from the store, not from the device."""
        self.requestPing("kept.example")
        self.started()
        self.service.testsActive(set())
        self.runner.open("result").callback(core.Outcome("Complete", "", {"SuccessCount": 3, "FailureCount": 1}))
        self.restart()
        values = self.values(PING)
        self.assertEqual((values[PING + "DiagnosticsState"], values[PING + "Host"], values[PING + "SuccessCount"],
                          values[PING + "FailureCount"]), ("Complete", "kept.example", "3", "1"))
        self.assertEqual(self.runner.made(), [])

    def test_owedEventToldOnObserve(self) -> None:
        """A record saved with "8 DIAGNOSTICS COMPLETE" owed: told once the endpoint observes, then no longer owed."""
        self.service.stop()
        record = core.Record.fresh(tables.IPPING)
        record.state, record.notify = "Complete", True
        Store.open(self.path).document("diagnostics").save({"IPPing": record.toJSON()})
        self.restart()
        self.assertEqual(self.link.completes, 0)
        self.service.observed()
        self.service.observed()
        self.assertEqual(self.link.completes, 1)
        self.assertFalse(self.saved()["notify"])

    def test_corruptRecordStartsAfresh(self) -> None:
        """A stored record that breaks TR-181's types: that object starts afresh, the others keep theirs."""
        self.request(pv(TRACE + "Host", "kept.example"))
        self.service.stop()
        document = Store.open(self.path).document("diagnostics")
        document.save(dict(document.load(), IPPing={"state": "Bananas"}))
        logs = LogCapture(self)
        self.restart()
        self.assertTrue(any("unusable" in str(e.get("log_format", "")) for e in logs.errors()))
        self.assertEqual(self.state(), "None")
        self.assertEqual(self.values(TRACE + "Host")[TRACE + "Host"], "kept.example")
