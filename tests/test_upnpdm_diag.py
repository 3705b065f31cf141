"""
Tests for TR-330 §4.3.2 / §4.5 (Figure 6) on a UPnP DM device: the
diagnostics objects of a Virtual CWMP Device run as BMS tests —
L{proxier.upnpdm.bmsdiagnostics} (the BMS tables and parsers, sans-IO, and
the runner) under the core's state machine (L{proxier.proxy.diagnostics},
tested alone in tests.test_proxy_diagnostics) — over the simulator's real
BasicManagement:2, on a clock.
"""

from __future__ import annotations

from typing import Any, Optional

from twisted.internet.defer import Deferred, fail, succeed
from twisted.logger import Logger
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.values import AttributeChange, ParameterValue
from proxier.interfaces import ISessionObserver
from proxier.proxy import diagnostics as core
from proxier.proxy.device import DeviceStatus
from proxier.proxy import diagtables as tables
from proxier.sim import diagnostics as simdiag
from proxier.store import Store
from proxier.upnp.soap import UPnPError
from proxier.upnpdm import bmsdiagnostics as bms
from tests._helpers import LogCapture
from tests.test_upnpdm_transfer_support import ManagedDevice

PING = "Device.IP.Diagnostics.IPPing."
TRACE = "Device.IP.Diagnostics.TraceRoute."
NSL = "Device.DNS.Diagnostics.NSLookupDiagnostics."


def pv(name: str, value: str, xsi: str = "xsd:string") -> ParameterValue:
    return ParameterValue(name, value, xsi)


def uint(name: str, value: int) -> ParameterValue:
    return ParameterValue(name, str(value), "xsd:unsignedInt")


# ---- the tables and parsers ---------------------------------------------------------------


class StatusMapTests(unittest.TestCase):
    def test_everyRow(self) -> None:
        """Each row of the BMS Status → DiagnosticsState tables gives its state, and it is one TR-181 allows."""
        for kind in tables.KINDS:
            states = kind.parameter("DiagnosticsState").type.enumeration
            for status, state in bms.STATUS_MAPS[kind.key].items():
                self.assertEqual(bms.diagnosticsState(kind, status), state, (kind.key, status))
                self.assertIn(state, states, (kind.key, status))

    def test_everyBMSStatusIsMapped(self) -> None:
        """Every value of the BMS:2 A_ARG_TYPE_*Status allowed values (the sim's) has a row."""
        allowed = {"IPPing": ("Success", "Error_CannotResolveHostName", "Error_Internal", "Error_Other"),
                   "TraceRoute": ("Success", "Error_CannotResolveHostName", "Error_MaxHopCountExceeded",
                                  "Error_Internal", "Error_Other"),
                   "NSLookup": ("Success", "Error_DNSServerNotResolved", "Error_Internal", "Error_Other")}
        for key, statuses in allowed.items():
            self.assertEqual(sorted(bms.STATUS_MAPS[key]), sorted(statuses))

    def test_madeUpStatus(self) -> None:
        """A status the device makes up (or none) is Error_Other."""
        for kind in tables.KINDS:
            self.assertEqual(bms.diagnosticsState(kind, "Error_Bananas"), "Error_Other")
            self.assertEqual(bms.diagnosticsState(kind, ""), "Error_Other")


class KindsTests(unittest.TestCase):
    def test_supportedKinds(self) -> None:
        """A kind needs its test and result actions and a way to see the end (GetActiveTestIDs or GetTestInfo)."""
        every = frozenset({"Ping", "GetPingResult", "Traceroute", "GetTracerouteResult", "NSLookup",
                           "GetNSLookupResult", "GetActiveTestIDs", "GetTestInfo"})
        self.assertEqual([k.key for k in bms.supportedKinds(every)], ["IPPing", "TraceRoute", "NSLookup"])
        self.assertEqual(bms.supportedKinds(every - {"GetActiveTestIDs", "GetTestInfo"}), ())
        self.assertEqual([k.key for k in bms.supportedKinds(every - {"GetActiveTestIDs"})],
                         ["IPPing", "TraceRoute", "NSLookup"])
        self.assertEqual([k.key for k in bms.supportedKinds(every - {"GetPingResult"})], ["TraceRoute", "NSLookup"])

    def test_testArguments(self) -> None:
        """The BMS arguments come from the test parameters that map to them; the others stay in the proxier."""
        config = tables.IPPING.initialConfig()
        config["Host"] = "h"
        self.assertEqual(bms.testArguments(tables.IPPING, config),
                         {"Host": "h", "NumberOfRepetitions": 3, "Timeout": 1000, "DataBlockSize": 56, "DSCP": 0})
        config = dict(tables.TRACEROUTE.initialConfig(), Host="t")
        self.assertEqual(bms.testArguments(tables.TRACEROUTE, config),
                         {"Host": "t", "Timeout": 5000, "DataBlockSize": 38, "MaxHopCount": 30, "DSCP": 0})
        config = dict(tables.NSLOOKUP.initialConfig(), HostName="n", DNSServer="s")
        self.assertEqual(bms.testArguments(tables.NSLOOKUP, config),
                         {"HostName": "n", "DNSServer": "s", "Timeout": 1000, "NumberOfRepetitions": 1})

    def test_parseIDList(self) -> None:
        """ID lists: empty, several, spaces; anything else (or beyond ui4) is not one."""
        self.assertEqual(bms.parseIDList(""), set())
        self.assertEqual(bms.parseIDList("1, 2,3"), {1, 2, 3})
        for bad in ("1,,2", "a", "-1", "4294967296", "1;2", "²", "1,①", "١٢", "1\n", "\u00a01"):
            self.assertIsNone(bms.parseIDList(bad), bad)

    def test_resultNumbersASCII(self) -> None:
        """A result count of Unicode digits ('١٢', which int() read as 12) or '1_0' is a lie: 0."""
        for bad in ("١٢", "1_0", "²", "+4"):
            outcome = bms.parseResult(tables.IPPING, {"Status": "Success", "SuccessCount": bad, "FailureCount": "0",
                                               "AverageResponseTime": bad})
            self.assertEqual(outcome.values["SuccessCount"], 0, bad)
            self.assertEqual(outcome.values["AverageResponseTime"], 0, bad)
        self.assertEqual(bms.parseResult(tables.IPPING, {"Status": "Success", "SuccessCount": " 4\n"}).values["SuccessCount"], 4)


def _answer(result: Any, **fields: str) -> dict[str, str]:
    return {k: str(v) for k, v in fields.items()}


class ParseResultTests(unittest.TestCase):
    def test_ping(self) -> None:
        """GetPingResult → the IPPing results, milliseconds and (×1000) microseconds."""
        r = simdiag.ping("example.com", 4, 1000, 56, simdiag.DiagnosticsRules())
        outcome = bms.parseResult(tables.IPPING, {"Status": r.status, "AdditionalInfo": "", "SuccessCount": str(r.successCount),
                                           "FailureCount": "0", "AverageResponseTime": str(r.average),
                                           "MinimumResponseTime": str(r.minimum),
                                           "MaximumResponseTime": str(r.maximum)})
        self.assertEqual(outcome.state, "Complete")
        self.assertEqual(outcome.values["SuccessCount"], 4)
        self.assertEqual(outcome.values["MinimumResponseTime"], r.minimum)
        self.assertEqual(outcome.values["MaximumResponseTimeDetailed"], r.maximum * 1000)

    def test_traceroute(self) -> None:
        """GetTracerouteResult → ResponseTime and one RouteHops row per HopHosts entry (addresses as HostAddress)."""
        outcome = bms.parseResult(tables.TRACEROUTE, {"Status": "Success", "ResponseTime": "12",
                                               "HopHosts": "192.168.1.1,gw.example,10.1.2.1"})
        self.assertEqual(outcome.values["ResponseTime"], 12)
        self.assertEqual([(r["Host"], r["HostAddress"]) for r in outcome.rows],
                         [("192.168.1.1", "192.168.1.1"), ("gw.example", ""), ("10.1.2.1", "10.1.2.1")])

    def test_nslookup(self) -> None:
        """GetNSLookupResult's document (as the simulator, shaped like rygel, writes it) → the Result rows."""
        r = simdiag.nslookup("example.com", "192.168.1.1", 2, 1000, simdiag.DiagnosticsRules())
        outcome = bms.parseResult(tables.NSLOOKUP, {"Status": r.status, "SuccessCount": str(r.successCount),
                                             "Result": r.result})
        self.assertEqual(outcome.values["SuccessCount"], 2)
        self.assertEqual(len(outcome.rows), 2)
        self.assertEqual(outcome.rows[0]["Status"], "Success")
        self.assertEqual(outcome.rows[0]["AnswerType"], "NonAuthoritative")
        self.assertEqual(len(outcome.rows[0]["IPAddresses"]), 2)

    def test_lyingDevice(self) -> None:
        """Numbers that are not ui4 read 0; an unknown row Status is Error_Other; hostile or broken XML gives no rows."""
        outcome = bms.parseResult(tables.IPPING, {"Status": "Success", "SuccessCount": "many", "AverageResponseTime": "-5"})
        self.assertEqual((outcome.values["SuccessCount"], outcome.values["AverageResponseTime"]), (0, 0))
        rows = bms.parseNSLookupResult("<r><Result><Status>Maybe</Status><AnswerType>Kinda</AnswerType>"
                                     "<IPAddresses>" + ",".join(["10.0.0.1"] * 20) + "</IPAddresses></Result></r>")
        self.assertEqual((rows[0]["Status"], rows[0]["AnswerType"], len(rows[0]["IPAddresses"])),
                         ("Error_Other", "None", 10))
        self.assertEqual(bms.parseNSLookupResult("<r><Result>"), ())
        self.assertEqual(bms.parseNSLookupResult('<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>'), ())

    def test_rowsBounded(self) -> None:
        """A device that lists thousands of hops or answers is kept to MAX_ROWS."""
        outcome = bms.parseResult(tables.TRACEROUTE, {"Status": "Success", "HopHosts": ",".join(["h"] * 5000)})
        self.assertEqual(len(outcome.rows), core.MAX_ROWS)
        document = "<r>" + "<Result><Status>Success</Status></Result>" * 500 + "</r>"
        self.assertEqual(len(bms.parseNSLookupResult(document)), core.MAX_ROWS)


class ScriptedLink:
    """A device's BMS as the runner sees it: the actions its SCPD has, each answering as scripted."""

    def __init__(self, actions: set[str], **answers: Any) -> None:
        self.actions = actions
        self.answers = answers
        self.calls: list[tuple[str, dict]] = []
        self.log = Logger(namespace="test_upnpdm_diag")

    def has(self, service: str, action: str) -> bool:
        return service == "bms" and action in self.actions

    def call(self, service: str, action: str, arguments: Optional[dict] = None) -> Deferred:
        self.calls.append((action, dict(arguments or {})))
        answer = self.answers[action]
        return fail(answer) if isinstance(answer, Exception) else succeed(answer)


class BMSTestRunnerTests(unittest.TestCase):
    """L{bms.BMSTestRunner}: the core's contract (L{core.ITestRunner}) kept with BMS actions and errors."""

    EVERY = {"Ping", "GetPingResult", "GetActiveTestIDs", "GetTestInfo", "CancelTest"}

    def test_isARunner(self) -> None:
        """It provides ITestRunner fully."""
        verifyObject(core.ITestRunner, bms.BMSTestRunner(ScriptedLink(self.EVERY)))

    def test_start(self) -> None:
        """The test action with its BMS arguments gives the TestID; a refusal or an unusable TestID is TestFailed."""
        link = ScriptedLink(self.EVERY, Ping={"TestID": "12"})
        runner = bms.BMSTestRunner(link)
        config = dict(tables.IPPING.initialConfig(), Host="h")
        self.assertEqual(self.successResultOf(runner.start(tables.IPPING, config)), 12)
        self.assertEqual(link.calls, [("Ping", bms.testArguments(tables.IPPING, config))])
        link.answers["Ping"] = UPnPError(402, "Invalid Args")
        failure = self.failureResultOf(runner.start(tables.IPPING, config), core.TestFailed)
        self.assertEqual(failure.value.text, "UPnP error 402 Invalid Args")
        link.answers["Ping"] = {"TestID": "1,2"}
        self.failureResultOf(runner.start(tables.IPPING, config), core.TestFailed)
        link.answers["Ping"] = OSError("no answer")
        self.failureResultOf(runner.start(tables.IPPING, config), OSError)

    def test_pollActiveTestIDs(self) -> None:
        """GetActiveTestIDs: running while listed; not an ID list is no answer; 706 is TestFailed."""
        link = ScriptedLink(self.EVERY, GetActiveTestIDs={"TestIDs": "3,12"})
        runner = bms.BMSTestRunner(link)
        self.assertTrue(self.successResultOf(runner.poll(tables.IPPING, 12)))
        self.assertFalse(self.successResultOf(runner.poll(tables.IPPING, 4)))
        link.answers["GetActiveTestIDs"] = {"TestIDs": "many"}
        self.failureResultOf(runner.poll(tables.IPPING, 4), ValueError)
        link.answers["GetActiveTestIDs"] = UPnPError(706, "No Such Test")
        self.assertEqual(self.failureResultOf(runner.poll(tables.IPPING, 4), core.TestFailed).value.text,
                         "the device no longer knows the test")
        link.answers["GetActiveTestIDs"] = UPnPError(501)
        self.failureResultOf(runner.poll(tables.IPPING, 4), UPnPError)

    def test_pollGetTestInfoThenResultOnce(self) -> None:
        """Without GetActiveTestIDs GetTestInfo polls; once it said Completed the result is read without asking again."""
        link = ScriptedLink(self.EVERY - {"GetActiveTestIDs"}, GetTestInfo={"Type": "Ping", "State": "Completed"},
                            GetPingResult={"Status": "Success", "SuccessCount": "3"})
        runner = bms.BMSTestRunner(link)
        self.assertFalse(self.successResultOf(runner.poll(tables.IPPING, 5)))
        outcome = self.successResultOf(runner.result(tables.IPPING, 5))
        self.assertEqual((outcome.state, outcome.values["SuccessCount"]), ("Complete", 3))
        self.assertEqual([a for a, _ in link.calls], ["GetTestInfo", "GetPingResult"])
        self.successResultOf(runner.result(tables.IPPING, 5))  # read again (a restart): GetTestInfo first
        self.assertEqual([a for a, _ in link.calls][2:], ["GetTestInfo", "GetPingResult"])

    def test_testInfoStates(self) -> None:
        """GetTestInfo: InProgress is still running, Canceled or another test's Type is TestFailed, an unknown State no answer."""
        link = ScriptedLink(self.EVERY, GetTestInfo={"Type": "Ping", "State": "InProgress"})
        runner = bms.BMSTestRunner(link)
        self.failureResultOf(runner.result(tables.IPPING, 5), core.TestStillRunning)
        link.answers["GetTestInfo"] = {"Type": "Ping", "State": "Canceled"}
        self.assertEqual(self.failureResultOf(runner.result(tables.IPPING, 5), core.TestFailed).value.text,
                         "the test was canceled on the device")
        link.answers["GetTestInfo"] = {"Type": "Traceroute", "State": "Completed"}
        self.assertEqual(self.failureResultOf(runner.result(tables.IPPING, 5), core.TestFailed).value.text,
                         "the device says test 5 is a Traceroute test")
        link.answers["GetTestInfo"] = {"Type": "Ping", "State": "Pondering"}
        self.failureResultOf(runner.result(tables.IPPING, 5), ValueError)
        link.answers["GetTestInfo"] = UPnPError(501, "Action Failed")
        self.assertEqual(self.failureResultOf(runner.result(tables.IPPING, 5), core.TestFailed).value.text,
                         "the result could not be read (UPnP error 501 Action Failed)")

    def test_resultStillActive(self) -> None:
        """Without GetTestInfo, the result action's 703/708 means still running; other UPnP errors end it."""
        link = ScriptedLink(self.EVERY - {"GetTestInfo"}, GetPingResult=UPnPError(708))
        runner = bms.BMSTestRunner(link)
        self.failureResultOf(runner.result(tables.IPPING, 5), core.TestStillRunning)
        link.answers["GetPingResult"] = UPnPError(703)
        self.failureResultOf(runner.result(tables.IPPING, 5), core.TestStillRunning)
        link.answers["GetPingResult"] = UPnPError(706)
        self.failureResultOf(runner.result(tables.IPPING, 5), core.TestFailed)
        link.answers["GetPingResult"] = OSError("no answer")
        self.failureResultOf(runner.result(tables.IPPING, 5), OSError)

    def test_cancel(self) -> None:
        """CancelTest: a UPnP error settles it (TestFailed), no answer does not; without CancelTest it cannot."""
        link = ScriptedLink(self.EVERY, CancelTest=UPnPError(706))
        runner = bms.BMSTestRunner(link)
        self.assertTrue(runner.canCancel())
        self.failureResultOf(runner.cancel(5), core.TestFailed)
        self.assertEqual(link.calls, [("CancelTest", {"TestID": 5})])
        link.answers["CancelTest"] = OSError("no answer")
        self.failureResultOf(runner.cancel(5), OSError)
        self.assertFalse(bms.BMSTestRunner(ScriptedLink(self.EVERY - {"CancelTest"})).canCancel())

    def test_activeTestIDs(self) -> None:
        """The ActiveTestIDs of an event; one that is not an ID list is logged and skipped, other variables ignored."""
        logs = LogCapture(self)
        log = Logger(namespace="test_upnpdm_diag")
        variables = [("ActiveTestIDs", "1,2"), ("LastChange", "x"), ("ActiveTestIDs", "soon"), ("ActiveTestIDs", "")]
        self.assertEqual(list(bms.activeTestIDs(variables, log)), [{1, 2}, set()])
        self.assertTrue(any("not an ID list" in str(e.get("log_format", "")) for e in logs.events))


# ---- the state machine over the simulator ----------------------------------------------------


class DiagnosticsCase(unittest.TestCase):
    def setUp(self) -> None:
        self.lab = ManagedDevice(self)
        self.sim = self.lab.sim
        self.upnp = self.lab.upnp

    @property
    def model(self) -> Any:
        return self.lab.model

    def request(self, *values: ParameterValue) -> int:
        """An SPV inside a session (the observer is in a session until the test says otherwise)."""
        self.lab.observer.inSession = True
        return self.lab.ok(self.model.setParameterValues(list(values)))

    def endSession(self) -> None:
        self.lab.observer.inSession = False

    def state(self, path: str) -> str:
        return self.lab.values(path + "DiagnosticsState")[path + "DiagnosticsState"]

    def completes(self) -> list:
        return self.lab.told("diagnosticsComplete")


class ObjectsTests(DiagnosticsCase):
    def test_inTheModel(self) -> None:
        """The three objects are in GetParameterNames of the whole model (Figure 7), with their parameters."""
        names = [i.name for i in self.lab.ok(self.model.getParameterNames("Device.", False))]
        for name in (PING, PING + "Host", TRACE + "RouteHops.", TRACE + "RouteHopsNumberOfEntries", NSL + "Result.",
                     "Device.IP.", "Device.IP.Diagnostics.", "Device.DNS.Diagnostics."):
            self.assertIn(name, names)
        self.assertEqual(self.state(PING), "None")

    def test_onlyWhatTheSCPDOffers(self) -> None:
        """A device whose BMS lacks Traceroute gets no TraceRoute object; one without test results, none at all."""
        lab = ManagedDevice(self, disabled=("Traceroute",))
        self.assertEqual([k.key for k in lab.device.management.diagnostics.kinds], ["IPPing", "NSLookup"])
        self.assertEqual(lab.fault(lab.model.getParameterValues([TRACE + "Host"])).code, 9005)
        lab = ManagedDevice(self, disabled=("GetActiveTestIDs", "GetTestInfo"))
        self.assertIsNone(lab.device.management.diagnostics)


class SuccessTests(DiagnosticsCase):
    def test_ping(self) -> None:
        """
        Figure 6, all the way: SPV Requested (with Host) answered 0 and recorded; nothing sent during the
        session; Ping after it; the ActiveTestIDs event → GetTestInfo, GetPingResult; results stored;
        "8 DIAGNOSTICS COMPLETE" told once.
        """
        status = self.request(pv(PING + "Host", "example.com"), uint(PING + "NumberOfRepetitions", 4),
                              pv(PING + "DiagnosticsState", "Requested"))
        self.assertEqual(status, 0)
        self.assertEqual(self.state(PING), "Requested")
        self.lab.advance(2.0)
        self.assertNotIn("Ping", self.lab.calls("bms"), "sent during the session")
        self.endSession()
        self.lab.advance(0.5)
        [arguments] = [args for s, a, args in self.upnp.calls if a == "Ping"]
        self.assertEqual(arguments, {"Host": "example.com", "NumberOfRepetitions": 4, "Timeout": 1000,
                                     "DataBlockSize": 56, "DSCP": 0})
        self.lab.advance(2.0)
        self.assertEqual(self.lab.calls("bms")[-3:], ["Ping", "GetTestInfo", "GetPingResult"])
        values = self.lab.values(PING)
        expected = simdiag.ping("example.com", 4, 1000, 56, simdiag.DiagnosticsRules())
        self.assertEqual(values[PING + "DiagnosticsState"], "Complete")
        self.assertEqual(values[PING + "SuccessCount"], "4")
        self.assertEqual(values[PING + "AverageResponseTime"], str(expected.average))
        self.assertEqual(len(self.completes()), 1)

    def test_traceroute(self) -> None:
        """TraceRoute: the hops of the simulated route become RouteHops rows, numbered from 1."""
        self.request(pv(TRACE + "Host", "example.com"), pv(TRACE + "DiagnosticsState", "Requested"))
        self.endSession()
        self.lab.advance(5.0)
        expected = simdiag.traceroute("example.com", 5000, 38, 30, simdiag.DiagnosticsRules())
        values = self.lab.values(TRACE)
        hops = expected.hopHosts.split(",")
        self.assertEqual(values[TRACE + "DiagnosticsState"], "Complete")
        self.assertEqual(values[TRACE + "RouteHopsNumberOfEntries"], str(len(hops)))
        self.assertEqual([values[f"{TRACE}RouteHops.{i}.Host"] for i in range(1, len(hops) + 1)], hops)
        self.assertEqual(values[TRACE + "ResponseTime"], str(expected.responseTime))
        self.assertEqual(len(self.completes()), 1)

    def test_nslookup(self) -> None:
        """NSLookupDiagnostics: one Result row per repetition, from the device's result document."""
        self.request(pv(NSL + "HostName", "example.com"), uint(NSL + "NumberOfRepetitions", 2),
                     pv(NSL + "DiagnosticsState", "Requested"))
        self.endSession()
        self.lab.advance(3.0)
        values = self.lab.values(NSL)
        self.assertEqual(values[NSL + "DiagnosticsState"], "Complete")
        self.assertEqual(values[NSL + "ResultNumberOfEntries"], "2")
        self.assertEqual(values[NSL + "Result.1.Status"], "Success")
        self.assertEqual(values[NSL + "Result.2.HostNameReturned"], "example.com")
        self.assertEqual(values[NSL + "SuccessCount"], "2")

    def test_fewerRowsNextTime(self) -> None:
        """A second traceroute with a shorter route leaves only its own rows (the numbers stay 1..n)."""
        self.request(pv(TRACE + "Host", "example.com"), pv(TRACE + "DiagnosticsState", "Requested"))
        self.endSession()
        self.lab.advance(5.0)
        self.request(uint(TRACE + "MaxHopCount", 2), pv(TRACE + "DiagnosticsState", "Requested"))
        self.assertEqual(self.state(TRACE), "Requested")
        self.endSession()
        self.lab.advance(5.0)
        names = [i.name for i in self.lab.ok(self.model.getParameterNames(TRACE + "RouteHops.", True))]
        self.assertEqual(names, [TRACE + "RouteHops.1.", TRACE + "RouteHops.2."])
        self.assertEqual(self.state(TRACE), "Error_MaxHopCountExceeded")

    def test_eventsLost(self) -> None:
        """Without events the test timer's poll (GetActiveTestIDs) finds the end."""
        self.lab.lose.add("bms")
        self.request(pv(PING + "Host", "example.com"), pv(PING + "DiagnosticsState", "Requested"))
        self.endSession()
        self.lab.advance(5.0)
        self.assertEqual(self.state(PING), "Requested")
        self.lab.advance(tables.testSeconds(tables.IPPING, tables.IPPING.initialConfig()))
        self.assertIn("GetActiveTestIDs", self.lab.calls("bms"))
        self.assertEqual(self.state(PING), "Complete")
        self.assertEqual(len(self.completes()), 1)

    def test_pollingWithGetTestInfoOnly(self) -> None:
        """A BMS without GetActiveTestIDs is polled with GetTestInfo."""
        lab = ManagedDevice(self, disabled=("GetActiveTestIDs",))
        lab.lose.add("bms")
        lab.ok(lab.model.setParameterValues([pv(PING + "Host", "example.com"),
                                             pv(PING + "DiagnosticsState", "Requested")]))
        lab.advance(tables.testSeconds(tables.IPPING, tables.IPPING.initialConfig()) + 2)
        self.assertNotIn("GetActiveTestIDs", lab.calls("bms"))
        self.assertEqual(lab.values(PING + "DiagnosticsState")[PING + "DiagnosticsState"], "Complete")

    def test_activeNotification(self) -> None:
        """Notification on DiagnosticsState: its change to Complete reaches the model's listeners (4 VALUE CHANGE)."""
        changes: list = []
        self.model.addChangeListener(lambda values, active: changes.append((list(values), active)))
        self.lab.ok(self.model.setParameterAttributes([AttributeChange(PING + "DiagnosticsState", True, 2)]))
        self.request(pv(PING + "Host", "example.com"), pv(PING + "DiagnosticsState", "Requested"))
        self.assertEqual(changes, [], "the ACS's own request is not reported back")
        self.endSession()
        self.lab.advance(3.0)
        self.assertEqual(changes, [([ParameterValue(PING + "DiagnosticsState", "Complete")], True)])


class DeviceErrorTests(DiagnosticsCase):
    def test_resultErrors(self) -> None:
        """The device's result status becomes the TR-181 error state, with "8 DIAGNOSTICS COMPLETE"."""
        self.sim.bms.rules.failures["broken.example"] = "Error_Internal"
        for host, expected in (("name.invalid", "Error_CannotResolveHostName"), ("broken.example", "Error_Internal")):
            self.request(pv(PING + "Host", host), pv(PING + "DiagnosticsState", "Requested"))
            self.endSession()
            self.lab.advance(3.0)
            self.assertEqual(self.state(PING), expected, host)
        self.assertEqual(len(self.completes()), 2)

    def test_nslookupServerError(self) -> None:
        """An unreachable DNS server: Error_DNSServerNotResolved."""
        self.request(pv(NSL + "HostName", "example.com"), pv(NSL + "DNSServer", "192.0.2.53"),
                     pv(NSL + "DiagnosticsState", "Requested"))
        self.endSession()
        self.lab.advance(3.0)
        self.assertEqual(self.state(NSL), "Error_DNSServerNotResolved")

    def test_refused(self) -> None:
        """Figure 6 "Fail": the device refuses the test action → Error_Other at once, with the event."""
        self.sim.bms.injectFault(402, "Ping")
        self.request(pv(PING + "Host", "example.com"), pv(PING + "DiagnosticsState", "Requested"))
        self.endSession()
        self.lab.advance(0.5)
        self.assertEqual(self.state(PING), "Error_Other")
        self.assertEqual(len(self.completes()), 1)
        self.assertEqual(self.lab.calls("bms").count("Ping"), 1)

    def test_noAnswerRetriedThenGivenUp(self) -> None:
        """
        Figure 6 "max ?": a test action that gets no answer is sent again after a delay, at most
        SEND_ATTEMPTS times (the device meanwhile found unreachable by its gate and back by its probe),
        then Error_Other with the event — within the watchdog's bound in any case.
        """
        self.upnp.hang.add("Ping")
        self.request(pv(PING + "Host", "example.com"), pv(PING + "DiagnosticsState", "Requested"))
        self.endSession()
        self.lab.advance(tables.testSeconds(tables.IPPING, tables.IPPING.initialConfig()) + core.SLACK + 1, step=0.5)
        self.assertGreaterEqual(self.lab.calls("bms").count("Ping"), 2)
        self.assertLessEqual(self.lab.calls("bms").count("Ping"), core.SEND_ATTEMPTS)
        self.assertEqual(self.state(PING), "Error_Other")
        self.assertEqual(len(self.completes()), 1)

    def test_testNeverEnds(self) -> None:
        """A test still active after POLL_ATTEMPTS polls past its timer is given up (Error_Other) and cancelled."""
        self.sim.bms.rules.secondsPerStep = 10**5
        self.request(pv(PING + "Host", "example.com"), pv(PING + "DiagnosticsState", "Requested"))
        self.endSession()
        self.lab.advance(tables.testSeconds(tables.IPPING, tables.IPPING.initialConfig()) + 60 * core.POLL_ATTEMPTS, step=0.5)
        self.assertEqual(self.lab.calls("bms").count("GetActiveTestIDs"), core.POLL_ATTEMPTS)
        self.assertEqual(self.state(PING), "Error_Other")
        self.assertIn("CancelTest", self.lab.calls("bms"))
        self.assertEqual(len(self.completes()), 1)

    def test_lyingTestID(self) -> None:
        """A TestID that is not one: Error_Other, logged, no crash."""
        self.upnp.rewrite = lambda action, out: dict(out, TestID="soon") if action == "Ping" else out
        logs = LogCapture(self)
        self.request(pv(PING + "Host", "example.com"), pv(PING + "DiagnosticsState", "Requested"))
        self.endSession()
        self.lab.advance(0.5)
        self.assertEqual(self.state(PING), "Error_Other")
        self.assertTrue(any("not a test ID" in str(e.get("log_format", "")) for e in logs.events))

    def test_testForgotten(self) -> None:
        """The device answers 706 (no such test) when asked about it: Error_Other."""
        self.lab.lose.add("bms")
        self.request(pv(PING + "Host", "example.com"), pv(PING + "DiagnosticsState", "Requested"))
        self.endSession()
        self.lab.advance(0.5)
        self.sim.bms.halt()  # the device lost its tests without rebooting
        self.lab.advance(tables.testSeconds(tables.IPPING, tables.IPPING.initialConfig()) + 1)
        self.assertEqual(self.state(PING), "Error_Other")


class DeviceGoneTests(DiagnosticsCase):
    def test_rebootMidTest(self) -> None:
        """The device reboots during the test (the test is lost with it): Error_Other as soon as it is back."""
        self.sim.bms.rules.secondsPerStep = 30
        self.request(pv(PING + "Host", "example.com"), pv(PING + "DiagnosticsState", "Requested"))
        self.endSession()
        self.lab.advance(0.5)
        self.lab.reboot()
        self.lab.advance(0.5)
        self.assertEqual(self.state(PING), "Error_Other")
        self.assertEqual(len(self.completes()), 1)

    def test_goneForGood(self) -> None:
        """The device leaves during the test and never comes back: the watchdog ends it (Error_Other)."""
        self.sim.bms.rules.secondsPerStep = 30
        self.request(pv(PING + "Host", "example.com"), pv(PING + "DiagnosticsState", "Requested"))
        self.endSession()
        self.lab.advance(0.5)
        self.sim.powerOff()
        self.upnp.state = "gone"
        self.lab.device.memberGone(self.upnp, "byebye")
        self.lab.advance(tables.testSeconds(tables.IPPING, tables.IPPING.initialConfig()) + core.SLACK + 1, step=1.0)
        self.assertEqual(self.state(PING), "Error_Other")
        self.assertEqual(len(self.completes()), 1)

    def test_resultsReadableOffline(self) -> None:
        """Results come from the proxier: readable with the device unreachable, without one device action."""
        self.request(pv(PING + "Host", "example.com"), pv(PING + "DiagnosticsState", "Requested"))
        self.endSession()
        self.lab.advance(3.0)
        self.upnp.unreachable = True
        before = len(self.upnp.calls)
        values = self.lab.values(PING)
        self.assertEqual(values[PING + "DiagnosticsState"], "Complete")
        self.assertEqual(len(self.upnp.calls), before)

    def test_requestedWhileOffline(self) -> None:
        """A test requested while the device is offline runs when it is back."""
        self.upnp.unreachable = True
        self.lab.device._setOffline(DeviceStatus.OFFLINE, "test")
        self.request(pv(PING + "Host", "example.com"), pv(PING + "DiagnosticsState", "Requested"))
        self.endSession()
        self.lab.advance(5.0)
        self.assertNotIn("Ping", self.lab.calls("bms"))
        self.upnp.unreachable = False
        self.lab.device._setOnline()
        self.lab.device.management.deviceReady(False)
        self.lab.advance(3.0)
        self.assertEqual(self.state(PING), "Complete")


class ACSRulesTests(DiagnosticsCase):
    def test_targetRequired(self) -> None:
        """Requested without a Host (set before or in the same request): 9003 with a 9007 for DiagnosticsState."""
        fault = self.lab.fault(self.model.setParameterValues([pv(PING + "DiagnosticsState", "Requested")]))
        self.assertEqual(fault.code, 9003)
        self.assertEqual([(f.parameterName, f.faultCode) for f in fault.parameterFaults],
                         [(PING + "DiagnosticsState", 9007)])
        self.assertEqual(self.state(PING), "None")

    def test_onlyRequestedOrCanceledWritten(self) -> None:
        """DiagnosticsState accepts Requested and Canceled only (9007 for Complete)."""
        fault = self.lab.fault(self.model.setParameterValues([pv(PING + "DiagnosticsState", "Complete")]))
        self.assertEqual(fault.parameterFaults[0].faultCode, 9007)

    def test_otherParameterSetsNone(self) -> None:
        """Setting a test parameter after a test ended sets DiagnosticsState None (results kept)."""
        self.request(pv(PING + "Host", "example.com"), pv(PING + "DiagnosticsState", "Requested"))
        self.endSession()
        self.lab.advance(3.0)
        self.request(uint(PING + "DSCP", 8))
        self.assertEqual(self.state(PING), "None")
        self.assertEqual(self.lab.values(PING + "DSCP")[PING + "DSCP"], "8")

    def test_otherParameterWhileRunningTerminates(self) -> None:
        """A test parameter set while the test runs: the test ends (CancelTest), DiagnosticsState None, no event."""
        self.sim.bms.rules.secondsPerStep = 30
        self.request(pv(PING + "Host", "example.com"), pv(PING + "DiagnosticsState", "Requested"))
        self.endSession()
        self.lab.advance(0.5)
        [testId] = [int(t) for t in self.sim.bms.value_ActiveTestIDs().split(",")]
        self.request(uint(PING + "Timeout", 500))
        self.assertEqual(self.state(PING), "None")
        self.endSession()
        self.lab.advance(0.5)
        self.assertEqual(self.sim.bms.testState(testId), "Canceled")
        self.lab.advance(200.0, step=1.0)
        self.assertEqual(self.completes(), [])

    def test_canceled(self) -> None:
        """DiagnosticsState Canceled while the test runs: cancelled on the device, state None, no event."""
        self.sim.bms.rules.secondsPerStep = 30
        self.request(pv(PING + "Host", "example.com"), pv(PING + "DiagnosticsState", "Requested"))
        self.endSession()
        self.lab.advance(0.5)
        self.request(pv(PING + "DiagnosticsState", "Canceled"))
        self.assertEqual(self.state(PING), "None")
        self.endSession()
        self.lab.advance(0.5)
        self.assertIn("CancelTest", self.lab.calls("bms"))
        self.assertEqual(self.completes(), [])

    def test_requestedAgainRestarts(self) -> None:
        """Requested while a test runs: that test is cancelled and a new one starts with the new parameters."""
        self.sim.bms.rules.secondsPerStep = 30
        self.request(pv(PING + "Host", "example.com"), pv(PING + "DiagnosticsState", "Requested"))
        self.endSession()
        self.lab.advance(0.5)
        self.sim.bms.rules.secondsPerStep = 0.2
        self.request(pv(PING + "Host", "other.example"), pv(PING + "DiagnosticsState", "Requested"))
        self.endSession()
        self.lab.advance(3.0)
        pings = [args["Host"] for s, a, args in self.upnp.calls if a == "Ping"]
        self.assertEqual(pings, ["example.com", "other.example"])
        self.assertIn("CancelTest", self.lab.calls("bms"))
        self.assertEqual(self.state(PING), "Complete")
        self.assertEqual(len(self.completes()), 1)

    def test_spansDeviceAndOverlay(self) -> None:
        """One SPV setting a device parameter and requesting a test: both applied (the overlay validates)."""
        self.request(pv("Device.Time.NTPServer1", "ntp.example"), pv(PING + "Host", "example.com"),
                     pv(PING + "DiagnosticsState", "Requested"))
        self.assertEqual(self.lab.values("Device.Time.NTPServer1")["Device.Time.NTPServer1"], "ntp.example")
        self.assertEqual(self.state(PING), "Requested")


class DurabilityTests(DiagnosticsCase):
    def test_requestedBeforeRestartRunsOnce(self) -> None:
        """Requested, then the proxier dies before sending: the new one runs the test once and reports it."""
        self.request(pv(PING + "Host", "example.com"), pv(PING + "DiagnosticsState", "Requested"))
        again = self.lab.restartProxier()
        self.assertEqual(again.values(PING + "DiagnosticsState")[PING + "DiagnosticsState"], "Requested")
        again.advance(3.0)
        self.assertEqual(again.calls("bms").count("Ping"), 1)
        self.assertEqual(again.values(PING + "DiagnosticsState")[PING + "DiagnosticsState"], "Complete")
        self.assertEqual(len(again.told("diagnosticsComplete")), 1)
        self.assertEqual(self.completes(), [])

    def test_runningBeforeRestartCompletes(self) -> None:
        """The proxier dies with the test under way: the new one follows the same TestID to its result."""
        self.sim.bms.rules.secondsPerStep = 2.0
        self.request(pv(PING + "Host", "example.com"), pv(PING + "DiagnosticsState", "Requested"))
        self.endSession()
        self.lab.advance(0.5)
        again = self.lab.restartProxier()
        again.advance(tables.testSeconds(tables.IPPING, tables.IPPING.initialConfig()) + 1)
        self.assertEqual(again.calls("bms").count("Ping"), 0)
        self.assertEqual(again.values(PING + "DiagnosticsState")[PING + "DiagnosticsState"], "Complete")
        self.assertEqual(len(again.told("diagnosticsComplete")), 1)

    def test_rebootWhileProxierDown(self) -> None:
        """The device rebooted while the proxier was down: its test is lost — Error_Other, reported once."""
        self.sim.bms.rules.secondsPerStep = 30
        self.request(pv(PING + "Host", "example.com"), pv(PING + "DiagnosticsState", "Requested"))
        self.endSession()
        self.lab.advance(0.5)
        self.lab.stopProxier()
        self.sim.reboot("while the proxier is down")
        self.lab.advance(self.sim.downtime + 0.1)
        again = self.lab.restartProxier()
        again.advance(0.5)
        self.assertEqual(again.values(PING + "DiagnosticsState")[PING + "DiagnosticsState"], "Error_Other")
        self.assertEqual(len(again.told("diagnosticsComplete")), 1)

    def test_owedEventToldAfterRestart(self) -> None:
        """Completed with no endpoint listening yet: the event is told once the endpoint observes."""
        lab = ManagedDevice(self, observe=False)
        lab.ok(lab.model.setParameterValues([pv(PING + "Host", "example.com"),
                                             pv(PING + "DiagnosticsState", "Requested")]))
        lab.advance(3.0)
        lab.device.addObserver(lab.observer)
        self.assertEqual(len(lab.told("diagnosticsComplete")), 1)

    def test_corruptRecord(self) -> None:
        """A stored record that breaks TR-181's types is logged and replaced by a fresh one."""
        self.lab.stopProxier()
        store = Store.open(self.lab.storePath).child("manage")
        store.document("diagnostics").save({"IPPing": {"state": "Bananas"}})
        logs = LogCapture(self)
        again = self.lab.restartProxier()
        self.assertEqual(again.values(PING + "DiagnosticsState")[PING + "DiagnosticsState"], "None")
        self.assertTrue(any("unusable" in str(e.get("log_format", "")) for e in logs.errors()))
        self.assertIsInstance(again.fault(again.model.getParameterValues([PING + "Nope"])), CWMPFault)


class LinkTests(unittest.TestCase):
    def test_idleWaitsForTheSessionEnd(self) -> None:
        """The link's idle() fires once the endpoint is out of its session — not before, and not in the same turn."""
        lab = ManagedDevice(self)
        link = lab.device.management.link
        lab.observer.inSession = True
        d = link.idle()
        lab.clock.advance(10.0)
        self.assertNoResult(d)
        [watcher] = lab.observer.sessionObservers
        verifyObject(ISessionObserver, watcher)
        lab.observer.inSession = False  # the endpoint signals the end: no polling, no clock step needed
        self.successResultOf(d)
        self.assertEqual(lab.observer.sessionObservers, [])
        self.assertEqual(lab.clock.getDelayedCalls(), [])
        lab.observer.inSession = False
        d = link.idle()
        self.assertNoResult(d)  # one turn later at least: the answer that asked goes out first
        lab.clock.advance(0)
        self.successResultOf(d)

    def test_idleBounded(self) -> None:
        """A session that never ends: idle() fires after IDLE_LIMIT all the same (logged); cancelling stops it."""
        from proxier.upnpdm.link import IDLE_LIMIT

        lab = ManagedDevice(self)
        link = lab.device.management.link
        lab.observer.inSession = True
        logs = LogCapture(self)
        d = link.idle()
        lab.advance(IDLE_LIMIT - 20, step=10.0)
        self.assertNoResult(d)
        lab.advance(30.0, step=1.0)
        self.successResultOf(d)
        self.assertTrue(any("goes ahead" in str(e.get("log_format", "")) for e in logs.events))
        d = link.idle()
        d.cancel()
        self.failureResultOf(d)
        self.assertEqual(lab.observer.sessionObservers, [])
        self.assertEqual([c for c in lab.clock.getDelayedCalls() if c.func.__self__.__class__.__name__ == "_Idle"], [])

    def test_idleAfterAnotherSession(self) -> None:
        """A session that ends while another already started: idle() waits for the end of that one too."""
        lab = ManagedDevice(self)
        link = lab.device.management.link
        lab.observer.inSession = True
        d = link.idle()
        lab.clock.advance(0)
        [watcher] = lab.observer.sessionObservers
        watcher.sessionEnded(lab.observer)  # told, but the endpoint is in a session again
        self.assertNoResult(d)
        lab.observer.inSession = False
        self.successResultOf(d)
