"""
Kill tests: the process dies at every point of a session, and a new
incarnation of the endpoint, made from the same store, finishes the job.

An incarnation is "killed" by abandoning it: its clock never advances again
and its HTTP agent never gets another byte, exactly as after SIGKILL (no
stop(), no clean-up, nothing written after the kill). Each POST of a session
is cut in two ways: before it reaches the ACS, and after the ACS processed it
but before its answer reached the CPE. Whatever the point, every event and
the TransferComplete reach the ACS, and nothing is sent again after the CPE
had the ACS's acknowledgement — the only repeats are those TR-069 allows (a
request whose answer the CPE never saw).
"""

from __future__ import annotations

from typing import Any

from treq.testing import RequestTraversalAgent
from twisted.internet import task
from twisted.trial import unittest
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from proxier.config import load
from proxier.cwmp.endpoint import CWMPEndpoint
from proxier.cwmp.fakeacs import FakeACS
from proxier.cwmp.settings import EndpointSettings
from proxier.datamodel.values import DeviceIdentity, ParameterValue, TransferResult
from proxier.store import Store
from tests.cwmpxsd import assertValidCWMP
from tests.test_cwmp_endpoint import FakeModel

IDENTITY = DeviceIdentity("ACME", "00D09E", "Speaker", "K-1")
URL = "http://acs.example.net/acs"


class KillSwitch(Resource):
    """
    Passes the first C{allow} POSTs to the ACS; then, C{"before"}: the next
    never reaches it; C{"lost"}: the ACS processes it, its answer is lost.
    Either way the POST hangs for ever (the process is dead).
    """

    isLeaf = True

    def __init__(self, acs: FakeACS, allow: int, mode: str) -> None:
        super().__init__()
        self.acs = acs
        self.allow = allow
        self.mode = mode
        self.seen = 0

    def render_POST(self, request: Any) -> Any:
        self.seen += 1
        if self.seen <= self.allow:
            return self.acs.render(request)
        if self.seen == self.allow + 1 and self.mode == "lost":
            self.acs.render(request)
        return NOT_DONE_YET


class KillTests(unittest.TestCase):
    def setUp(self) -> None:
        self.acsConfig = dict(load(None)["acs"], url=URL, periodic_inform_enable=False)

    def incarnation(self, store: Store, resource: Resource, prepare: Any = None) -> tuple[CWMPEndpoint, task.Clock]:
        clock = task.Clock()
        clock.advance(1_700_000_000)
        settings = EndpointSettings(store.document("management-server"), self.acsConfig)
        endpoint = CWMPEndpoint(IDENTITY, FakeModel(), settings, store, agent=RequestTraversalAgent(resource),
                                reactor=clock, random=lambda: 0.0)
        endpoint.start()
        if prepare is not None:
            prepare(endpoint)  # before its first session starts
        clock.advance(0)
        return endpoint, clock

    def owed(self, endpoint: CWMPEndpoint) -> None:
        """What the killed session has to deliver: an event, a value change and a TransferComplete."""
        endpoint.diagnosticsComplete(None)
        endpoint.model.changed([ParameterValue("Device.X_Test.Level", "3", "xsd:unsignedInt")], False)
        endpoint.transferComplete(None, TransferResult("ck-1", "Download"))

    def scenario(self, allow: int, mode: str) -> tuple[FakeACS, CWMPEndpoint]:
        store = Store.open(self.mktemp()).child("endpoint-kill")
        acs = FakeACS(clock=task.Clock(), validator=lambda body: assertValidCWMP(self, body))
        self.incarnation(store, acs)  # first contact: bootstrapped, the ACS's methods known
        self.assertEqual(len(acs.sessions), 1)
        victim, _ = self.incarnation(store, KillSwitch(acs, allow, mode), self.owed)
        self.assertTrue(victim.inSession)  # killed mid-session; its clock never moves again
        survivor, clock = self.incarnation(store, acs)
        clock.advance(3600)
        self.assertFalse(survivor.inSession)
        self.assertFalse(survivor.state.hasPending())
        self.assertEqual(acs.validationErrors, [])
        return acs, survivor

    def count(self, acs: FakeACS) -> tuple[int, int, int]:
        """How often the ACS acknowledged the event, the value change and the TransferComplete."""
        events = sum(1 for s in acs.sessions[1:] if any(e.code == "8 DIAGNOSTICS COMPLETE" for e in s.inform.events))
        changes = sum(1 for s in acs.sessions[1:] if any(p.name == "Device.X_Test.Level" for p in s.inform.parameters))
        transfers = sum(1 for s in acs.sessions[1:] for msg in s.received
                        if msg is not None and msg.name == "TransferComplete")
        return events, changes, transfers

    def test_killBeforeEachPost(self) -> None:
        """
        Killed before the Inform, the TransferComplete or the empty POST
        reaches the ACS: everything is delivered exactly once.
        """
        for allow in (0, 1, 2):
            acs, _ = self.scenario(allow, "before")
            self.assertEqual(self.count(acs), (1, 1, 1), f"killed before POST {allow + 1}")

    def test_killWithAnswerLost(self) -> None:
        """
        Killed after the ACS processed a POST but before its answer arrived:
        what that POST carried may be delivered twice (the CPE never saw the
        acknowledgement, as TR-069 allows); everything else exactly once.
        """
        expected = {0: (2, 2, 1), 1: (1, 1, 2), 2: (1, 1, 1)}
        for allow, counts in expected.items():
            acs, _ = self.scenario(allow, "lost")
            self.assertEqual(self.count(acs), counts, f"answer to POST {allow + 1} lost")
