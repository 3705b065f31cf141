"""
TR-330 §4.5 end to end over real loopback sockets: the proxier's tree, a
simulated UPnP DM device (its BMS tests), the fake ACS — every CWMP message
validated against the BBF schema. Each diagnostics type succeeds, fails on
the device, and outlives a device gone mid-test; the ACS reads the results
in the session after "8 DIAGNOSTICS COMPLETE".
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.trial import unittest

from proxier.cwmp import messages as m
from proxier.datamodel.values import ParameterValue
from proxier.sim import diagnostics as simdiag
from tests.test_upnpdm_e2e import Lab, answers, events, sleep, waitFor

PING = "Device.IP.Diagnostics.IPPing."
TRACE = "Device.IP.Diagnostics.TraceRoute."
NSL = "Device.DNS.Diagnostics.NSLookupDiagnostics."


def values(answer: Any) -> dict[str, str]:
    return {p.name: p.value for p in answer.parameters}


class DiagnosticsE2ETests(unittest.TestCase):
    timeout = 120

    @defer.inlineCallbacks
    def diagnose(self, lab: Lab, path: str, *setting: ParameterValue) -> Any:
        """Request a test in one session; wait for "8 DIAGNOSTICS COMPLETE"; read the object in that session."""
        before = len(lab.sessions())
        session = yield lab.session([m.SetParameterValues(setting + (
            ParameterValue(path + "DiagnosticsState", "Requested"),), "diag")])
        self.assertEqual(answers(session), [m.SetParameterValuesResponse(0)])
        lab.acs.script([m.GetParameterValues((path,))], lab.name())
        yield waitFor(lambda: any("8 DIAGNOSTICS COMPLETE" in events(s) for s in lab.sessions()[before + 1:]),
                      what="the DIAGNOSTICS COMPLETE session")
        yield waitFor(lab.ended(0, len(lab.sessions())), what="its end")
        complete = [s for s in lab.sessions()[before + 1:] if "8 DIAGNOSTICS COMPLETE" in events(s)][0]
        return values(answers(complete)[0])

    @defer.inlineCallbacks
    def test_ping(self) -> None:
        """IPPing: Requested → Ping on the device after the session → "8 DIAGNOSTICS COMPLETE" → results read."""
        lab = yield Lab(self).start()
        got = yield self.diagnose(lab, PING, ParameterValue(PING + "Host", "example.com"),
                             ParameterValue(PING + "NumberOfRepetitions", "3", "xsd:unsignedInt"))
        expected = simdiag.ping("example.com", 3, 1000, 56, simdiag.DiagnosticsRules())
        self.assertEqual(got[PING + "DiagnosticsState"], "Complete")
        self.assertEqual(got[PING + "SuccessCount"], "3")
        self.assertEqual(got[PING + "MinimumResponseTime"], str(expected.minimum))

    @defer.inlineCallbacks
    def test_traceroute(self) -> None:
        """TraceRoute: the route's hops as RouteHops rows, read after the event."""
        lab = yield Lab(self).start()
        got = yield self.diagnose(lab, TRACE, ParameterValue(TRACE + "Host", "example.com"))
        hops = simdiag.traceroute("example.com", 5000, 38, 30, simdiag.DiagnosticsRules()).hopHosts.split(",")
        self.assertEqual(got[TRACE + "DiagnosticsState"], "Complete")
        self.assertEqual(got[TRACE + "RouteHopsNumberOfEntries"], str(len(hops)))
        self.assertEqual(got[TRACE + f"RouteHops.{len(hops)}.Host"], hops[-1])

    @defer.inlineCallbacks
    def test_nslookup(self) -> None:
        """NSLookupDiagnostics: one Result row per repetition."""
        lab = yield Lab(self).start()
        got = yield self.diagnose(lab, NSL, ParameterValue(NSL + "HostName", "example.com"),
                             ParameterValue(NSL + "NumberOfRepetitions", "2", "xsd:unsignedInt"))
        self.assertEqual(got[NSL + "DiagnosticsState"], "Complete")
        self.assertEqual(got[NSL + "ResultNumberOfEntries"], "2")
        self.assertEqual(got[NSL + "Result.1.Status"], "Success")

    @defer.inlineCallbacks
    def test_deviceErrors(self) -> None:
        """
        The device's own errors, one per type: Error_CannotResolveHostName (ping, traceroute),
        Error_DNSServerNotResolved (nslookup).
        """
        lab = yield Lab(self).start()
        got = yield self.diagnose(lab, PING, ParameterValue(PING + "Host", "nowhere.invalid"))
        self.assertEqual(got[PING + "DiagnosticsState"], "Error_CannotResolveHostName")
        got = yield self.diagnose(lab, TRACE, ParameterValue(TRACE + "Host", "nowhere.invalid"))
        self.assertEqual(got[TRACE + "DiagnosticsState"], "Error_CannotResolveHostName")
        got = yield self.diagnose(lab, NSL, ParameterValue(NSL + "HostName", "example.com"),
                                  ParameterValue(NSL + "DNSServer", "192.0.2.53"))
        self.assertEqual(got[NSL + "DiagnosticsState"], "Error_DNSServerNotResolved")

    @defer.inlineCallbacks
    def test_deviceGoneMidTest(self) -> None:
        """
        For each type: the device loses power during the test and comes back; the test is lost with it —
        Error_Other, "8 DIAGNOSTICS COMPLETE" once it is back (once), the result read from the proxier.
        """
        lab = yield Lab(self).start()
        lab.sim().bms.rules.secondsPerStep = 60.0
        for path, target in ((PING, "Host"), (TRACE, "Host"), (NSL, "HostName")):
            before = len(lab.sessions())
            session = yield lab.session([m.SetParameterValues((
                ParameterValue(path + target, "example.com"),
                ParameterValue(path + "DiagnosticsState", "Requested")), "diag")])
            self.assertEqual(answers(session), [m.SetParameterValuesResponse(0)])
            yield waitFor(lambda: lab.sim().bms.value_ActiveTestIDs() != "", what="the test under way")
            lab.sim().powerOff()
            yield waitFor(lambda: not lab.endpoint().online, what="the device offline")
            yield sleep(0.5)
            lab.acs.script([m.GetParameterValues((path + "DiagnosticsState",))], lab.name())
            lab.sim().powerOn()
            yield waitFor(lambda: any("8 DIAGNOSTICS COMPLETE" in events(s) for s in lab.sessions()[before + 1:]),
                          what="the DIAGNOSTICS COMPLETE session")
            yield waitFor(lab.ended(0, len(lab.sessions())))
            complete = [s for s in lab.sessions()[before + 1:] if "8 DIAGNOSTICS COMPLETE" in events(s)]
            self.assertEqual(len(complete), 1, path)
            self.assertEqual(values(answers(complete[0])[0]), {path + "DiagnosticsState": "Error_Other"})

    @defer.inlineCallbacks
    def test_namesInTheTree(self) -> None:
        """GetParameterNames of Device.IP.Diagnostics. lists IPPing and TraceRoute (§4.3.2, Figure 7)."""
        lab = yield Lab(self).start()
        session = yield lab.session([m.GetParameterNames("Device.IP.Diagnostics.", True),
                                     m.GetParameterNames("Device.DNS.", False)])
        nextLevel, subtree = answers(session)
        self.assertEqual(sorted(p.name for p in nextLevel.parameters), [PING, TRACE])
        self.assertIn((NSL + "DiagnosticsState", True), [(p.name, p.writable) for p in subtree.parameters])
