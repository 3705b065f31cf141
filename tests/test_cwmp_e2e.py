"""
End to end over real loopback sockets: a CWMP endpoint with its real HTTP
agent, the Connection Request server and the fake ACS served by a real
twisted.web Site, all on 127.0.0.1 with ports picked by the system. Every
message the endpoint sends is validated against the CWMP schema. Every wait
is bounded.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable

from twisted.internet import defer, reactor, task
from twisted.trial import unittest
from twisted.web.client import HTTPConnectionPool
from twisted.web.server import Site

from proxier.config import load
from proxier.cwmp import messages as m
from proxier.cwmp.connreq import ConnectionRequestServer, connectionRequestPath, ensureCredentials
from proxier.cwmp.endpoint import CWMPEndpoint
from proxier.cwmp.fakeacs import FakeACS
from proxier.cwmp.settings import EndpointSettings
from proxier.cwmp.tls import makeACSAgent
from proxier.datamodel.values import DeviceIdentity, ParameterValue
from proxier.store import Store
from tests import _helpers
from tests.cwmpxsd import assertValidCWMP
from tests.test_cwmp_endpoint import FakeModel

IDENTITY = DeviceIdentity("ACME", "00D09E", "Printer", "E2E-1")

waitFor = partial(_helpers.waitFor, timeout=10.0, step=0.01)


class EndToEndTests(unittest.TestCase):
    def setUp(self) -> None:
        self.acs = FakeACS(clock=reactor, genieacs=True, validator=lambda body: assertValidCWMP(self, body))
        self.acsPort = reactor.listenTCP(0, Site(self.acs), interface="127.0.0.1")
        self.addCleanup(self.acsPort.stopListening)
        self.acsURL = f"http://127.0.0.1:{self.acsPort.getHost().port}/acs"
        self.crServer = ConnectionRequestServer(reactor=reactor, listenAddress="127.0.0.1", port=0)
        self.crServer.startListening()
        self.addCleanup(self.crServer.stopListening)
        self.store = Store.open(self.mktemp()).child("endpoint-e2e")

    def makeEndpoint(self, **acs: Any) -> CWMPEndpoint:
        config = load(None)
        acsConfig = dict(config["acs"], url=self.acsURL, periodic_inform_enable=False, retry_minimum_wait=1,
                         retry_interval_multiplier=1000, **acs)
        settings = EndpointSettings(self.store.document("management-server"), acsConfig)
        ensureCredentials(settings, config["connection_request"])
        path = connectionRequestPath(self.store.document("connection-request"))
        pool = HTTPConnectionPool(reactor, persistent=False)  # a new TCP connection for every POST
        agent = makeACSAgent(reactor, acsConfig, pool=pool)
        self.model = FakeModel()
        endpoint = CWMPEndpoint(IDENTITY, self.model, settings, self.store, agent=agent, reactor=reactor,
                                connectionRequestPath=path, sessionTimeout=acsConfig["session_timeout"],
                                requestTimeout=acsConfig["request_timeout"], random=lambda: 0.0)
        self.crServer.register(endpoint)
        self.addCleanup(endpoint.stop)
        self.addCleanup(lambda: self.assertEqual(self.acs.validationErrors, []))
        return endpoint

    def ended(self, count: int) -> Callable[[], bool]:
        return lambda: len(self.acs.sessions) >= count and all(s.ended for s in self.acs.sessions[:count])

    @defer.inlineCallbacks
    def test_fullSessionThenConnectionRequest(self) -> None:
        """
        A bootstrap session with a GenieACS-like ACS over new connections for
        each POST (the cookie carries the session), then a Connection Request
        made as GenieACS makes it, then the session it triggers in which the
        ACS reads and writes parameters.
        """
        endpoint = self.makeEndpoint()
        endpoint.start()
        yield waitFor(self.ended(1))
        first = self.acs.sessions[0]
        self.assertTrue(first.ok)
        self.assertEqual([e.code for e in first.inform.events], ["0 BOOTSTRAP"])
        self.assertEqual(first.received[1], m.GetRPCMethods())
        headers = [h for h, _ in self.acs.rawRequests]
        self.assertTrue(all("fakeacs-session" in h.get("cookie", [""])[0] for h in headers[1:]))
        self.assertEqual(headers[-1]["content-length"], ["0"])

        self.acs.script([m.GetParameterValues(("Device.X_Test.Level",)),
                         m.SetParameterValues((ParameterValue("Device.X_Test.Level", "9", "xsd:unsignedInt"),), "e2e")],
                        str(IDENTITY))
        username, password = endpoint.connectionRequestCredentials()
        status = yield self.acs.connectionRequest(self.crServer.url(endpoint.connectionRequestPath) + "?ts=1",
                                                  username, password)
        self.assertEqual(status, 200)
        yield waitFor(self.ended(2))
        second = self.acs.sessions[1]
        self.assertEqual([e.code for e in second.inform.events], ["6 CONNECTION REQUEST"])
        (gpv, spv) = [answer for _, answer in second.responses]
        self.assertEqual(gpv.parameters, (ParameterValue("Device.X_Test.Level", "5", "xsd:unsignedInt"),))
        self.assertEqual(spv, m.SetParameterValuesResponse(0))
        self.assertEqual(endpoint.settings.parameterKey, "e2e")
        self.assertTrue(second.ok)

    @defer.inlineCallbacks
    def test_offlineConnectionRequest(self) -> None:
        """A Connection Request for an offline device gets 503 over the wire, and no session runs."""
        endpoint = self.makeEndpoint()
        endpoint.start()
        yield waitFor(self.ended(1))
        endpoint.deviceOffline(None)
        username, password = endpoint.connectionRequestCredentials()
        status = yield self.acs.connectionRequest(self.crServer.url(endpoint.connectionRequestPath), username,
                                                  password)
        self.assertEqual(status, 503)
        yield task.deferLater(reactor, 0.2, lambda: None)
        self.assertEqual(len(self.acs.sessions), 1)

    @defer.inlineCallbacks
    def test_silentACSThenRetry(self) -> None:
        """
        An ACS that never answers: the POST times out, the session fails, and
        the retry (after CWMPRetryMinimumWaitInterval) delivers the events with
        RetryCount 1.
        """
        self.acs.silent = True
        endpoint = self.makeEndpoint(request_timeout=1)
        endpoint.start()
        yield waitFor(lambda: endpoint.state.retryCount == 1, timeout=10)
        self.assertEqual(self.acs.sessions, [])
        self.acs.silent = False
        self.assertEqual(len(self.acs.hung), 1)
        yield waitFor(self.ended(1), timeout=10)
        session = self.acs.sessions[0]
        self.assertEqual(session.inform.retryCount, 1)
        self.assertEqual([e.code for e in session.inform.events], ["0 BOOTSTRAP"])
        yield waitFor(lambda: endpoint.state.retryCount == 0)

    @defer.inlineCallbacks
    def test_hungDeviceAnsweredInTime(self) -> None:
        """
        A device that never answers: the ACS hears 9002 before its idle limit
        (GenieACS drops sessions idle past the session timeout) and the
        session ends normally.
        """
        endpoint = self.makeEndpoint(session_timeout=5)
        endpoint.start()
        yield waitFor(self.ended(1))
        self.model.hangNames.add("Device.X_Test.Level")
        self.acs.script([m.GetParameterValues(("Device.X_Test.Level",))], str(IDENTITY))
        endpoint.requestSession("6 CONNECTION REQUEST")
        yield waitFor(self.ended(2), timeout=15)
        session = self.acs.sessions[1]
        self.assertEqual(session.sessionTimeout, 5)
        ((_, answer),) = session.responses
        self.assertEqual(answer.fault.code, 9002)
        self.assertTrue(session.ok)

    @defer.inlineCallbacks
    def test_digestTowardsTheACS(self) -> None:
        """An ACS that demands Digest gets it, on a real connection, for every POST of the session."""
        self.acs._digest = None
        digestACS = FakeACS(clock=reactor, username="cpe", password="secret",
                            validator=lambda body: assertValidCWMP(self, body))
        port = reactor.listenTCP(0, Site(digestACS), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.acsURL = f"http://127.0.0.1:{port.getHost().port}/acs"
        self.acs = digestACS
        endpoint = self.makeEndpoint(username="cpe", password="secret")
        endpoint.start()
        yield waitFor(self.ended(1))
        self.assertTrue(digestACS.sessions[0].ok)
        authorized = [("authorization" in h) for h, _ in digestACS.rawRequests]
        self.assertEqual(authorized[0], False)
        self.assertTrue(all(authorized[1:]))
