"""
A CWMP session owns its TCP connection (issue 17.1, INTEROP §CWMP 6): the
agents of L{proxier.cwmp.tls} over real loopback connections, plain and TLS,
seen from the server side — which connection each request arrived on.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Optional

from twisted.internet import defer, reactor, ssl, task
from twisted.trial import unittest
from twisted.web.resource import Resource
from twisted.web.server import Site
from zope.interface.verify import verifyObject

from proxier.cwmp.tls import makeACSAgent
from proxier.cwmp.transport import ACSHTTPSession
from proxier.interfaces import IACSAgent, ISessionAgent
from tests import _helpers
from tests.test_cwmp_transport import makeCertificate, pem


class Connections(Resource):
    """Answers every POST, recording the server-side connection (HTTP channel) it came on."""

    isLeaf = True

    def __init__(self, close: Callable[[int], bool] = lambda n: False) -> None:
        super().__init__()
        self.channels: list[Any] = []
        self.close = close

    def render_POST(self, request: Any) -> bytes:
        self.channels.append(request.channel)
        if self.close(len(self.channels)):
            request.setHeader(b"Connection", b"close")
            request.channel.persistent = False
        return b"ok"


def closed(channel: Any) -> bool:
    transport = channel.transport
    return bool(getattr(transport, "disconnected", False) or getattr(transport, "disconnecting", False))


class SessionAgentTests(unittest.TestCase):
    def serve(self, resource: Resource, contextFactory: Any = None) -> str:
        if contextFactory is None:
            port = reactor.listenTCP(0, Site(resource), interface="127.0.0.1")
            scheme = "http"
        else:
            port = reactor.listenSSL(0, Site(resource), contextFactory, interface="127.0.0.1")
            scheme = "https"
        self.addCleanup(port.stopListening)
        return f"{scheme}://127.0.0.1:{port.getHost().port}/acs"

    def sessions(self, url: str, count: int, acs: Optional[dict] = None) -> list:
        agents = makeACSAgent(reactor, dict({"request_timeout": 10}, **(acs or {})))
        result = []
        verifyObject(IACSAgent, agents)
        for _ in range(count):
            agent = agents.sessionAgent()
            verifyObject(ISessionAgent, agent)
            self.addCleanup(agent.close)
            result.append((agent, ACSHTTPSession(agent, url, requestTimeout=10)))
        return result

    @defer.inlineCallbacks
    def test_sessionsKeepTheirOwnConnection(self) -> None:
        """
        Three sessions whose POSTs alternate, each waiting for the others (the
        pattern that made a shared pool hand one session's idle connection to
        another): every POST of a session arrives on that session's one
        connection, and no two sessions share one.
        """
        resource = Connections()
        url = self.serve(resource)
        sessions = self.sessions(url, 3)
        seen: dict[int, list] = {0: [], 1: [], 2: []}
        for _ in range(4):
            for i, (_, http) in enumerate(sessions):
                answer = yield http.post(b"<x/>")
                self.assertEqual(answer.status, 200)
                seen[i].append(resource.channels[-1])
        for i in seen:
            self.assertEqual(len({id(c) for c in seen[i]}), 1, f"session {i} changed connections")
        self.assertEqual(len({id(seen[i][0]) for i in seen}), 3, "two sessions shared a connection")

    @defer.inlineCallbacks
    def test_closedAtSessionEnd(self) -> None:
        """Closing a session's agent closes its connection; the next session's goes on a new one."""
        resource = Connections()
        url = self.serve(resource)
        [(first, http)] = self.sessions(url, 1)
        yield http.post(b"<x/>")
        yield first.close()
        channel = resource.channels[0]
        yield _helpers.waitFor(lambda: closed(channel), timeout=10.0, step=0.01)
        [(_, nextSession)] = self.sessions(url, 1)
        yield nextSession.post(b"<x/>")
        self.assertIsNot(resource.channels[1], channel)

    @defer.inlineCallbacks
    def test_connectionCloseHonoured(self) -> None:
        """
        An ACS that answers C{Connection: close}: the session's next POST goes
        on a new connection of its own, never on the connection of the
        session running beside it.
        """
        resource = Connections(close=lambda n: n == 1)
        url = self.serve(resource)
        (_, a), (_, b) = self.sessions(url, 2)
        yield a.post(b"<x/>")  # answered "Connection: close"
        yield b.post(b"<x/>")
        yield a.post(b"<x/>")
        yield b.post(b"<x/>")
        first, other, second, otherAgain = resource.channels
        self.assertIsNot(second, first)
        self.assertIsNot(second, other)
        self.assertIs(otherAgain, other)
        yield _helpers.waitFor(lambda: closed(first), timeout=10.0, step=0.01)

    @defer.inlineCallbacks
    def test_tls(self) -> None:
        """
        Over HTTPS with the C{[acs]} CA file, a session keeps its one verified
        connection for every POST, and another session has its own.
        """
        directory = self.mktemp()
        os.makedirs(directory)
        ca = makeCertificate("Test ACS CA", ca=True)
        caFile = os.path.join(directory, "ca.pem")
        with open(caFile, "wb") as f:
            f.write(pem(ca[0]))
        server = ssl.PrivateCertificate.loadPEM(pem(*makeCertificate("127.0.0.1", ca, ("127.0.0.1",))))
        resource = Connections()
        url = self.serve(resource, server.options())
        (_, a), (_, b) = self.sessions(url, 2, {"ca_file": caFile})
        for http in (a, b, a, b):
            answer = yield http.post(b"<x/>")
            self.assertEqual(answer.status, 200)
        first, other, second, otherAgain = resource.channels
        self.assertIs(second, first)
        self.assertIs(otherAgain, other)
        self.assertIsNot(first, other)


class ManyDevicesTests(unittest.TestCase):
    """
    Issue 17.1 end to end: many Virtual CWMP Devices of one proxier (the
    real CWMPService, with the agents it makes from the C{[acs]} section)
    refresh C{Device.DeviceInfo.} at the same time, round after round, with a
    fake ACS that binds each session to its TCP connection as GenieACS does.
    No request may reach the ACS on another session's connection.
    """

    DEVICES = 8
    ROUNDS = 6
    genieacs = False

    def setUp(self) -> None:
        from proxier.config import load
        from proxier.cwmp.fakeacs import FakeACS
        from proxier.cwmp.service import CWMPService
        from proxier.service import DeviceDirectory
        from proxier.store import Store
        from tests.cwmpxsd import assertValidCWMP
        from tests.test_cwmp_endpoint import FakeModel
        from tests.test_cwmp_service import FakeDevice

        self.acs = FakeACS(clock=reactor, genieacs=self.genieacs,
                           validator=lambda body: assertValidCWMP(self, body))
        port = reactor.listenTCP(0, Site(self.acs), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        config = load(None).replace(
            "acs", url=f"http://127.0.0.1:{port.getHost().port}/acs", periodic_inform_enable=False,
            retry_minimum_wait=1, retry_interval_multiplier=1000).replace(
            "connection_request", port=0, listen_address="127.0.0.1", url_host="127.0.0.1")
        self.directory = DeviceDirectory()
        self.devices = [FakeDevice(f"MANY-{i}") for i in range(self.DEVICES)]
        for device in self.devices:
            self.directory.deviceAppeared(device)
        class DeviceModel(FakeModel):
            """A device whose answers take a few milliseconds, as a real one's do over the network."""

            def __init__(self, delay: float) -> None:
                super().__init__()
                self.delay = delay

            def getParameterNames(self, path: str, nextLevel: bool) -> Any:
                return task.deferLater(reactor, self.delay, FakeModel.getParameterNames, self, path, nextLevel)

            def getParameterValues(self, names: Any) -> Any:
                return task.deferLater(reactor, self.delay, FakeModel.getParameterValues, self, names)

        delays = iter([0.002 * (1 + i % 4) for i in range(self.DEVICES)])
        self.service = CWMPService(config, Store.open(self.mktemp()), self.directory,
                                   lambda device, settings, url, store: DeviceModel(next(delays)), reactor=reactor)
        self.service.startService()
        self.addCleanup(self.service.stopService)

    def ended(self, count: int) -> Callable[[], bool]:
        return lambda: len(self.acs.sessions) >= count and all(s.ended for s in self.acs.sessions)

    @defer.inlineCallbacks
    def test_simultaneousRefreshes(self) -> None:
        """
        After the bootstrap sessions (all at once), each round every device
        gets a Connection Request at the same moment and the ACS asks
        GetParameterNames and GetParameterValues of C{Device.DeviceInfo.}:
        every session ends well with the device's own answers, the ACS never
        sees a request on another session's connection, no connection serves
        two sessions, and every message is valid CWMP.
        """
        from proxier.cwmp import messages as m

        wait = dict(timeout=30.0, step=0.02)
        yield self.service.ready
        yield _helpers.waitFor(self.ended(self.DEVICES), what="the bootstrap sessions", **wait)
        endpoints = self.service.manager.endpoints
        for round in range(self.ROUNDS):
            for device in self.devices:
                self.acs.script([m.GetParameterNames("Device.DeviceInfo.", False),
                                 m.GetParameterValues(("Device.DeviceInfo.",))], str(device.identity))
            requests = []
            for device in self.devices:
                endpoint = endpoints[device.key]
                username, password = endpoint.connectionRequestCredentials()
                requests.append(self.acs.connectionRequest(self.service.server.url(endpoint.connectionRequestPath),
                                                           username, password))
            statuses = yield defer.gatherResults(requests)
            self.assertEqual(statuses, [200] * self.DEVICES)
            yield _helpers.waitFor(self.ended(self.DEVICES * (round + 2)), what=f"the sessions of round {round}",
                                   **wait)
            self.assertEqual(self.acs.invalidSessions, [], f"round {round}")
        self.assertEqual(self.acs.invalidSessions, [])
        self.assertEqual(self.acs.validationErrors, [])
        self.assertEqual(len(self.acs.sessions), self.DEVICES * (self.ROUNDS + 1))
        self.assertTrue(all(s.ok for s in self.acs.sessions), [s.invalid for s in self.acs.sessions if not s.ok])
        owners: dict[int, set] = {}
        for session in self.acs.sessions:
            for number in session.connections:
                owners.setdefault(number, set()).add(id(session))
        self.assertEqual([n for n, s in owners.items() if len(s) > 1], [], "connections serving two sessions")
        for device in self.devices:
            refreshes = [s for s in self.acs.sessionsFor(str(device.identity))
                         if s.inform.events[0].code == "6 CONNECTION REQUEST"]
            self.assertEqual(len(refreshes), self.ROUNDS)
            for session in refreshes:
                (_, gpn), (_, gpv) = session.responses
                self.assertIn("Device.DeviceInfo.SoftwareVersion", [p.name for p in gpn.parameters])
                self.assertIn(("Device.DeviceInfo.SoftwareVersion", "sw1"),
                              [(p.name, p.value) for p in gpv.parameters])


    @defer.inlineCallbacks
    def test_connectionCloseMidSession(self) -> None:
        """
        An ACS that closes the connection after chosen responses (the
        InformResponse, the third answer): each session of every device goes
        on over a new connection of its own and ends well; none is ever
        refused as an invalid session.
        """
        from proxier.cwmp import messages as m

        self.acs.closeResponses = {1, 3}
        yield self.service.ready
        yield _helpers.waitFor(self.ended(self.DEVICES), what="the bootstrap sessions", timeout=30.0, step=0.02)
        for device in self.devices:
            self.acs.script([m.GetParameterValues(("Device.DeviceInfo.",))] * 3, str(device.identity))
            self.service.manager.endpoints[device.key].connectionRequested()
        yield _helpers.waitFor(self.ended(2 * self.DEVICES), what="the refreshes", timeout=30.0, step=0.02)
        self.assertEqual(self.acs.invalidSessions, [])
        self.assertTrue(all(s.ok for s in self.acs.sessions))
        for session in self.acs.sessions[self.DEVICES:]:
            self.assertEqual(len(session.responses), 3)
            changes = [i for i in range(1, len(session.connections))
                       if session.connections[i] != session.connections[i - 1]]
            self.assertEqual(changes, [1, 3], session.connections)

class ManyDevicesGenieACSTests(ManyDevicesTests):
    """The same with a fake ACS behaving as GenieACS (204 and C{Connection: close} at each session's end)."""

    genieacs = True

