"""Tests for L{proxier.sim.bms}: BasicManagement:2 — reboot, status, diagnostics and logs."""

from __future__ import annotations

from twisted.internet import task
from twisted.trial import unittest

from proxier.sim import bms as B
from proxier.sim.errors import ActionError
from proxier.sim.logs import LOG_LEVELS

from tests.test_sim_fakes import invoke

PING = dict(Host="www.example.com", NumberOfRepetitions=3, Timeout=1000, DataBlockSize=32, DSCP=0)


class StubDevice:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def requestReboot(self, reason: str = "", delay=None) -> None:
        self.asked.append("reboot" if delay is None else f"reboot in {delay}")

    def requestBaselineReset(self) -> None:
        self.asked.append("baselineReset")

    def logURL(self, name: str) -> str:
        return f"http://192.168.1.20:49200/logs/{name}"


class BMSTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.device = StubDevice()
        self.bms = B.BasicManagement(self.device, self.clock)
        self.events: list[list[tuple[str, str]]] = []
        self.bms.addListener(self.events.append)

    def code(self, action: str, **arguments) -> int:
        with self.assertRaises(ActionError) as caught:
            invoke(self.bms, action, **arguments)
        return caught.exception.code

    def active(self) -> str:
        return invoke(self.bms, "GetActiveTestIDs")["TestIDs"]

    def runFor(self, seconds: float = 30) -> None:
        self.clock.pump([0.05] * int(seconds / 0.05))


class RebootTests(BMSTestCase):
    def test_reboot(self) -> None:
        """Reboot answers RebootNow and asks the device to reboot (after the answer); the log says so."""
        self.assertEqual(invoke(self.bms, "Reboot"), {"RebootStatus": "RebootNow"})
        self.assertEqual(self.device.asked, ["reboot"])
        self.assertIn(b"reboot requested", self.bms.logs["system"].content())
        self.bms.rebootStatus = "RebootLater"
        self.assertEqual(invoke(self.bms, "Reboot"), {"RebootStatus": "RebootLater"})
        self.assertEqual(self.device.asked[-1], "reboot in 30.0")

    def test_baselineReset(self) -> None:
        """BaselineReset asks the device for a factory reset."""
        self.assertEqual(invoke(self.bms, "BaselineReset"), {})
        self.assertEqual(self.device.asked, ["baselineReset"])

    def test_deviceStatus(self) -> None:
        """DeviceStatus is 'status,time of change', changes by the device's own view, and is evented."""
        self.assertEqual(invoke(self.bms, "GetDeviceStatus"), {"DeviceStatus": "OK,1970-01-01T00:00:00Z"})
        self.clock.advance(60)
        self.bms.setDeviceStatus("Error")
        self.assertEqual(self.events, [[("DeviceStatus", "Error,1970-01-01T00:01:00Z")]])
        self.assertRaises(ValueError, self.bms.setDeviceStatus, "a,b")


class TestLifecycleTests(BMSTestCase):
    def test_pingLifecycle(self) -> None:
        """A Ping is Requested, then InProgress, then Completed; ActiveTestIDs events track it (TR-330 Table 1)."""
        testId = int(invoke(self.bms, "Ping", **PING)["TestID"])
        self.assertEqual(invoke(self.bms, "GetTestInfo", TestID=testId), {"Type": "Ping", "State": "Requested"})
        self.assertEqual(self.events[-1], [("TestIDs", str(testId)), ("ActiveTestIDs", str(testId))])
        self.clock.advance(self.bms.startDelay)
        self.assertEqual(invoke(self.bms, "GetTestInfo", TestID=testId)["State"], "InProgress")
        self.assertEqual(self.code("GetPingResult", TestID=testId), 703)
        self.runFor()
        self.assertEqual(invoke(self.bms, "GetTestInfo", TestID=testId)["State"], "Completed")
        self.assertEqual(self.events[-1], [("ActiveTestIDs", "")])
        result = invoke(self.bms, "GetPingResult", TestID=testId)
        self.assertEqual((result["Status"], result["SuccessCount"], result["FailureCount"]), ("Success", "3", "0"))
        self.assertEqual(invoke(self.bms, "GetTestIDs"), {"TestIDs": str(testId)})

    def test_nslookupAndTraceroute(self) -> None:
        """NSLookup and Traceroute run like Ping and answer their own result actions."""
        n = int(invoke(self.bms, "NSLookup", HostName="www.example.com", DNSServer="", NumberOfRepetitions=1,
                       Timeout=1000)["TestID"])
        t = int(invoke(self.bms, "Traceroute", Host="www.example.com", Timeout=1000, DataBlockSize=40,
                       MaxHopCount=30, DSCP=0)["TestID"])
        self.runFor()
        self.assertIn("NSLookupResult", invoke(self.bms, "GetNSLookupResult", TestID=n)["Result"])
        self.assertEqual(invoke(self.bms, "GetTracerouteResult", TestID=t)["Status"], "Success")
        self.assertEqual(self.code("GetPingResult", TestID=n), 707)
        self.assertEqual(self.code("GetNSLookupResult", TestID=t), 707)

    def test_errors(self) -> None:
        """No such test 706; another type 707; canceled 708; cancel after the end 709; a bad host 402."""
        self.assertEqual(self.code("GetTestInfo", TestID=99), 706)
        self.assertEqual(self.code("CancelTest", TestID=99), 706)
        testId = int(invoke(self.bms, "Ping", **PING)["TestID"])
        self.assertEqual(invoke(self.bms, "CancelTest", TestID=testId), {})
        self.assertEqual(invoke(self.bms, "GetTestInfo", TestID=testId)["State"], "Canceled")
        self.assertEqual(self.code("GetPingResult", TestID=testId), 708)
        self.assertEqual(self.code("CancelTest", TestID=testId), 709)
        self.assertEqual(self.active(), "")
        self.runFor()
        self.assertEqual(invoke(self.bms, "GetTestInfo", TestID=testId)["State"], "Canceled")
        self.assertEqual(self.code("Ping", **dict(PING, Host="  ")), 402)
        self.assertEqual(self.code("Ping", **dict(PING, Host="a b")), 402)

    def test_resultWhileActiveKnob(self) -> None:
        """A result asked while the test runs is 703 (TR-330 §4.5.1) or 708 (rygel), as the knob says."""
        testId = int(invoke(self.bms, "Ping", **PING)["TestID"])
        self.assertEqual(self.code("GetPingResult", TestID=testId), 703)
        self.bms.resultWhileActiveError = 708
        self.assertEqual(self.code("GetPingResult", TestID=testId), 708)

    def test_failureKnob(self) -> None:
        """A host configured to fail makes its test complete with that status."""
        self.bms.rules.failures["www.example.com"] = "Error_Internal"
        testId = int(invoke(self.bms, "Ping", **PING)["TestID"])
        self.runFor()
        self.assertEqual(invoke(self.bms, "GetPingResult", TestID=testId)["Status"], "Error_Internal")

    def test_sequenceMode(self) -> None:
        """In SequenceMode tests run one after the other; without it they run together."""
        self.assertEqual(invoke(self.bms, "SetSequenceMode", NewSequenceMode=True), {"OldSequenceMode": "0"})
        self.assertEqual(invoke(self.bms, "GetSequenceMode"), {"SequenceMode": "1"})
        first = int(invoke(self.bms, "Ping", **PING)["TestID"])
        second = int(invoke(self.bms, "Ping", **dict(PING, Host="other.example"))["TestID"])
        self.clock.advance(0.1)
        self.assertEqual(self.bms.testState(first), "InProgress")
        self.assertEqual(self.bms.testState(second), "Requested")
        self.clock.advance(0.7)
        self.assertEqual(self.bms.testState(first), "Completed")
        self.assertEqual(self.bms.testState(second), "Requested")
        self.clock.advance(0.1)
        self.assertEqual(self.bms.testState(second), "InProgress")
        invoke(self.bms, "SetSequenceMode", NewSequenceMode=False)
        a = int(invoke(self.bms, "Ping", **PING)["TestID"])
        b = int(invoke(self.bms, "Ping", **PING)["TestID"])
        self.clock.advance(0.1)
        self.assertEqual((self.bms.testState(a), self.bms.testState(b)), ("InProgress", "InProgress"))
        self.assertIn(("SequenceMode", "1"), [v for e in self.events for v in e])

    def test_sequenceModeOffStartsWaiting(self) -> None:
        """Leaving SequenceMode starts the tests that were waiting."""
        invoke(self.bms, "SetSequenceMode", NewSequenceMode=True)
        invoke(self.bms, "Ping", **PING)
        waiting = int(invoke(self.bms, "Ping", **PING)["TestID"])
        self.clock.advance(0.1)
        invoke(self.bms, "SetSequenceMode", NewSequenceMode=False)
        self.clock.advance(0.1)
        self.assertEqual(self.bms.testState(waiting), "InProgress")

    def test_forgetsOldTests(self) -> None:
        """Beyond MAX_TESTS, the oldest ended tests are forgotten; active ones never."""
        ids = [int(invoke(self.bms, "Ping", **PING)["TestID"]) for _ in range(5)]
        self.runFor()
        for _ in range(B.MAX_TESTS):
            invoke(self.bms, "Ping", **PING)
        known = invoke(self.bms, "GetTestIDs")["TestIDs"].split(",")
        self.assertEqual(len(known), B.MAX_TESTS)
        self.assertNotIn(str(ids[0]), known)
        self.assertEqual(self.code("GetTestInfo", TestID=ids[0]), 706)

    def test_rebootForgetsTests(self) -> None:
        """A reboot loses every test and its timer."""
        testId = int(invoke(self.bms, "Ping", **PING)["TestID"])
        self.bms.halt()
        self.bms.rebooted()
        self.assertEqual(self.code("GetTestInfo", TestID=testId), 706)
        self.assertEqual(self.clock.getDelayedCalls(), [])


class LogTests(BMSTestCase):
    def test_logURIsAndInfo(self) -> None:
        """GetLogURIs lists the logs; GetLogInfo describes one with the URL the device serves it at."""
        uris = invoke(self.bms, "GetLogURIs")["LogURIs"].split(",")
        self.assertEqual(uris, ["urn:proxier-sim:log:system", "urn:proxier-sim:log:boot"])
        info = invoke(self.bms, "GetLogInfo", LogURI=uris[0])
        self.assertEqual(info["LogURL"], "http://192.168.1.20:49200/logs/system")
        self.assertEqual((info["Configurable"], info["Enabled"], info["LogLevel"], info["MaxSize"]),
                         ("1", "1", "Informational", "32768"))
        self.assertEqual(self.code("GetLogInfo", LogURI="urn:nope"), 704)

    def test_setLogInfo(self) -> None:
        """SetLogInfo changes a configurable log (705 for the other one, 601 for a level not in the list)."""
        invoke(self.bms, "SetLogInfo", LogURI="urn:proxier-sim:log:system", Enabled=True, LogLevel="Debug")
        self.assertEqual(self.bms.logs["system"].level, "Debug")
        self.assertEqual(self.code("SetLogInfo", LogURI="urn:proxier-sim:log:boot", Enabled=False,
                                   LogLevel="Debug"), 705)
        self.assertEqual(self.code("SetLogInfo", LogURI="urn:proxier-sim:log:system", Enabled=True,
                                   LogLevel="Chatty"), 601)
        self.assertEqual(set(LOG_LEVELS), set(self.bms.serviceType.stateVariables["A_ARG_TYPE_LogLevel"].allowed))
