"""
Tests for L{proxier.cwmp.fakeacs}: the scriptable ACS behaves as an ACS (and,
when asked, as GenieACS does), and everything it sends is valid CWMP.
"""

from __future__ import annotations

from typing import Any, Optional

from treq.testing import RequestTraversalAgent
from twisted.internet import defer, task
from twisted.trial import unittest
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from proxier.cwmp import codec
from proxier.cwmp import messages as m
from proxier.cwmp.fakeacs import GENIEACS_METHODS, FakeACS, connectionRequest
from proxier.cwmp.transport import ACSHTTPSession
from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.values import DeviceIdentity, ParameterValue, TransferResult
from tests._helpers import fired
from tests.cwmpxsd import assertValidCWMP

IDENTITY = DeviceIdentity("ACME", "00D09E", "GW", "SN9")
URL = "http://acs.example.net/acs"


def inform(**headers: Any) -> bytes:
    return codec.encode(m.Envelope(m.Inform(IDENTITY, (m.EventStruct("2 PERIODIC"),)), id="i1", **headers))


def envelope(message: Optional[m.Message], id: str = "c1") -> bytes:
    return codec.encode(m.Envelope(message, id=id))


class FakeACSTests(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.acs = FakeACS(clock=self.clock, validator=lambda body: assertValidCWMP(self, body))
        self.agent = RequestTraversalAgent(self.acs)

    def session(self, **kw: Any) -> ACSHTTPSession:
        return ACSHTTPSession(self.agent, URL, clock=self.clock, **kw)

    def post(self, http: ACSHTTPSession, body: bytes) -> tuple[int, Optional[m.Envelope]]:
        result = fired(http.post(body))
        if result.body.strip() and result.body.startswith(b"<?xml version='1.0'"):
            assertValidCWMP(self, result.body)
            return result.status, codec.decode(result.body)
        return result.status, None

    def test_scriptedSession(self) -> None:
        """Inform, empty POST, the script's requests one by one with the CPE's answers recorded, then the end."""
        gpv = m.GetParameterValues(("Device.A",))
        self.acs.script([gpv, m.Reboot("r")], str(IDENTITY))
        http = self.session()
        status, answer = self.post(http, inform())
        self.assertEqual((status, answer.body, answer.id), (200, m.InformResponse(1), "i1"))
        status, answer = self.post(http, b"")
        self.assertEqual((answer.body, answer.id), (gpv, "acs-1"))
        response = m.GetParameterValuesResponse((ParameterValue("Device.A", "1"),))
        status, answer = self.post(http, envelope(response, "acs-1"))
        self.assertEqual(answer.body, m.Reboot("r"))
        status, answer = self.post(http, envelope(m.RebootResponse(), "acs-2"))
        self.assertEqual((status, answer), (200, None))
        (session,) = self.acs.sessions
        self.assertEqual(session.responses, [(gpv, response), (m.Reboot("r"), m.RebootResponse())])
        self.assertEqual(session.received[1:], [None, response, m.RebootResponse()])
        self.assertTrue(session.ended and session.ok)
        self.assertEqual(self.acs.validationErrors, [])

    def test_callableScript(self) -> None:
        """A callable script picks the next request from the last answer."""
        def script(session: Any, last: Any) -> Any:
            if last is None:
                return m.GetParameterNames("Device.", True)
            return None

        self.acs.script(script)
        http = self.session()
        self.post(http, inform())
        _, answer = self.post(http, b"")
        self.assertEqual(answer.body, m.GetParameterNames("Device.", True))
        status, answer = self.post(http, envelope(m.GetParameterNamesResponse(()), "acs-1"))
        self.assertEqual((status, answer), (200, None))

    def test_cpeRequests(self) -> None:
        """GetRPCMethods and TransferComplete are answered; an unsupported RPC gets a valid 8000 fault."""
        self.acs.methods = GENIEACS_METHODS
        http = self.session()
        self.post(http, inform())
        _, answer = self.post(http, envelope(m.GetRPCMethods()))
        self.assertEqual(answer.body, m.GetRPCMethodsResponse(GENIEACS_METHODS))
        _, answer = self.post(http, envelope(m.TransferComplete(TransferResult("k", ""))))
        self.assertEqual(answer.body, m.TransferCompleteResponse())
        _, answer = self.post(http, envelope(m.RequestDownload("2 Web Content")))
        self.assertEqual(answer.body.fault.code, 8000)

    def test_requestFaults(self) -> None:
        """Queued faults answer the CPE's requests first, then normal answers resume."""
        self.acs.requestFaults["TransferComplete"] = [CWMPFault(8005)]
        http = self.session()
        self.post(http, inform())
        tc = envelope(m.TransferComplete(TransferResult("k", "")))
        self.assertEqual(self.post(http, tc)[1].body.fault.code, 8005)
        self.assertEqual(self.post(http, tc)[1].body, m.TransferCompleteResponse())

    def test_sessionNeedsItsCookie(self) -> None:
        """A POST of a session without its cookie is refused with 400 "Invalid session", as GenieACS does."""
        self.post(self.session(), inform())
        result = fired(self.session().post(b""))
        self.assertEqual((result.status, result.body), (400, b"Invalid session"))

    def test_informAnswers(self) -> None:
        """Faults to the Inform, unavailability with Retry-After, and HoldRequests are as configured."""
        self.acs.informFaults.append(CWMPFault(8005))
        status, answer = self.post(self.session(), inform())
        self.assertEqual((status, answer.body.fault.code), (500, 8005))
        self.acs.unavailable = (503, 30)
        result = fired(self.session().post(inform()))
        self.assertEqual((result.status, result.header("Retry-After")), (503, "30"))
        self.acs.unavailable = None
        self.acs.holdRequests = True
        _, answer = self.post(self.session(), inform())
        self.assertTrue(answer.holdRequests)

    def test_validator(self) -> None:
        """What fails the validator is recorded and answered 500."""
        acs = FakeACS(clock=self.clock, validator=lambda body: (_ for _ in ()).throw(AssertionError("bad")))
        result = fired(ACSHTTPSession(RequestTraversalAgent(acs), URL, clock=self.clock).post(inform()))
        self.assertEqual(result.status, 500)
        self.assertEqual(acs.validationErrors, ["bad"])

    def test_unreadable(self) -> None:
        """An unreadable envelope is answered 400 (when no validator answered 500 first)."""
        self.acs.validator = None
        result = fired(self.session().post(b"<not-soap/>"))
        self.assertEqual(result.status, 400)

    def test_digest(self) -> None:
        """An ACS with credentials challenges with Digest and accepts the right answer."""
        acs = FakeACS(clock=self.clock, username="cpe", password="secret")
        agent = RequestTraversalAgent(acs)
        self.assertEqual(fired(ACSHTTPSession(agent, URL, clock=self.clock).post(inform())).status, 401)
        self.assertEqual(fired(ACSHTTPSession(agent, URL, "cpe", "wrong", clock=self.clock).post(inform())).status, 401)
        self.assertEqual(fired(ACSHTTPSession(agent, URL, "cpe", "secret", clock=self.clock).post(inform())).status, 200)


class GenieACSBehaviourTests(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.acs = FakeACS(clock=self.clock, genieacs=True)
        self.agent = RequestTraversalAgent(self.acs)

    def session(self) -> ACSHTTPSession:
        return ACSHTTPSession(self.agent, URL, clock=self.clock)

    def test_methods(self) -> None:
        """GenieACS supports Inform, GetRPCMethods and TransferComplete only."""
        self.assertEqual(self.acs.methods, GENIEACS_METHODS)

    def test_brokenFaultForUnknownRPC(self) -> None:
        """An RPC it does not support gets the namespace-broken fault INTEROP §CWMP 4 describes."""
        http = self.session()
        fired(http.post(inform()))
        result = fired(http.post(envelope(m.AutonomousTransferComplete())))
        self.assertRaises(codec.DecodeError, codec.decode, result.body)
        self.assertEqual(codec.salvageFault(result.body).code, 8000)

    def test_endWith204(self) -> None:
        """The end of the session is a 204."""
        http = self.session()
        fired(http.post(inform()))
        self.assertEqual(fired(http.post(b"")).status, 204)

    def test_idleSessionsDropped(self) -> None:
        """After 30 s idle the session is gone (400), unless the Inform set a longer session timeout."""
        http = self.session()
        fired(http.post(inform()))
        self.clock.advance(31)
        self.assertEqual(fired(http.post(b"")).status, 400)
        patient = self.session()
        fired(patient.post(inform(sessionTimeout=60)))
        self.clock.advance(45)
        self.assertEqual(fired(patient.post(b"")).status, 204)

    def test_idleTimeoutConfigurable(self) -> None:
        """The idle limit is a parameter of the fake ACS."""
        acs = FakeACS(clock=self.clock, genieacs=True, idleTimeout=5)
        http = ACSHTTPSession(RequestTraversalAgent(acs), URL, clock=self.clock)
        fired(http.post(inform()))
        self.clock.advance(6)
        self.assertEqual(fired(http.post(b"")).status, 400)

    def test_cwmp14NamespaceRefused(self) -> None:
        """An Inform in a cwmp-1-4 namespace is refused with 400 "Unrecognized CWMP version"."""
        body = codec.encode(m.Envelope(m.Inform(IDENTITY), id="x", namespace="urn:dslforum-org:cwmp-1-4"))
        result = fired(self.session().post(body))
        self.assertEqual((result.status, result.body), (400, b"Unrecognized CWMP version"))


class ConnectionRequestClientTests(unittest.TestCase):
    def test_timeout(self) -> None:
        """A CPE that does not answer fails the Connection Request after the timeout (2 s, like GenieACS)."""
        class Silent(Resource):
            isLeaf = True

            def render_GET(self, request: Any) -> Any:
                return NOT_DONE_YET

        clock = task.Clock()
        d = connectionRequest("http://cpe.example.net:7547/x", "u", "p", agent=RequestTraversalAgent(Silent()),
                              clock=clock)
        clock.advance(1.9)
        self.assertNoResult(d)
        clock.advance(0.1)
        self.failureResultOf(d)

    def test_noChallenge(self) -> None:
        """A 401 without a Digest challenge is the final answer."""
        class BasicOnly(Resource):
            isLeaf = True

            def render_GET(self, request: Any) -> bytes:
                request.setResponseCode(401)
                request.setHeader(b"WWW-Authenticate", b'Basic realm="x"')
                return b""

        d = connectionRequest("http://cpe.example.net/x", "u", "p", agent=RequestTraversalAgent(BasicOnly()),
                              clock=task.Clock())
        self.assertEqual(self.successResultOf(d), 401)


class StrictConnectionTests(unittest.TestCase):
    """
    The fake ACS binds a session to its TCP connection as GenieACS does (its
    lib/cwmp.ts): real loopback connections, requests made by hand so that
    the test picks which connection and which cookie each one carries.
    """

    def setUp(self) -> None:
        from twisted.internet import reactor
        from twisted.web.server import Site

        self.reactor = reactor
        self.acs = FakeACS(clock=reactor, validator=lambda body: assertValidCWMP(self, body))
        port = reactor.listenTCP(0, Site(self.acs), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.url = f"http://127.0.0.1:{port.getHost().port}/acs".encode()

    def connection(self) -> Any:
        """An agent with one persistent connection of its own (closed at the end of the test)."""
        from twisted.web.client import Agent, HTTPConnectionPool

        pool = HTTPConnectionPool(self.reactor, persistent=True)
        pool.maxPersistentPerHost = 1
        self.addCleanup(pool.closeCachedConnections)
        return Agent(self.reactor, pool=pool)

    @defer.inlineCallbacks
    def post(self, agent: Any, body: bytes, cookie: Optional[bytes] = None) -> Any:
        """POST C{body}; fires with (status, headers, body, the Set-Cookie value)."""
        from twisted.web.client import readBody
        from twisted.web.http_headers import Headers

        from proxier.httpbody import BytesProducer

        headers = Headers({b"Content-Type": [b"text/xml"]})
        if cookie:
            headers.setRawHeaders(b"Cookie", [cookie])
        response = yield agent.request(b"POST", self.url, headers, BytesProducer(body) if body else None)
        data = yield readBody(response)
        setCookie = response.headers.getRawHeaders(b"Set-Cookie", [b""])[0].split(b";")[0]
        return response.code, response.headers, data, setCookie

    @defer.inlineCallbacks
    def test_requestOnAnotherSessionsConnection(self) -> None:
        """
        A session's POST on the connection of another running session (what a
        shared connection pool does) gets 400 "Invalid session" with
        C{Connection: close}, and both sessions end, recorded as invalid.
        """
        first, second = self.connection(), self.connection()
        _, _, _, cookieA = yield self.post(first, inform())
        _, _, _, cookieB = yield self.post(second, codec.encode(m.Envelope(
            m.Inform(DeviceIdentity("ACME", "00D09E", "GW", "SN10"), (m.EventStruct("2 PERIODIC"),)), id="i2")))
        status, headers, body, _ = yield self.post(second, b"", cookieA)  # A's empty POST on B's connection
        self.assertEqual((status, body), (400, b"Invalid session"))
        a, b = self.acs.sessions
        self.assertTrue(a.ended and b.ended)
        self.assertFalse(a.ok or b.ok)
        self.assertIn("belongs to", b.invalid)
        self.assertEqual(len(self.acs.invalidSessions), 1)
        self.assertNotEqual(cookieA, cookieB)
        yield self.post(second, inform())  # the ACS closed that connection: a new one
        self.assertEqual(self.acs.sessions[-1].connections, [3])

    @defer.inlineCallbacks
    def test_newConnectionWhileOwnIsOpen(self) -> None:
        """A session's POST on a new connection while its own connection is still open is an invalid session."""
        own, other = self.connection(), self.connection()
        _, _, _, cookie = yield self.post(own, inform())
        status, _, body, _ = yield self.post(other, b"", cookie)
        self.assertEqual((status, body), (400, b"Invalid session"))
        (session,) = self.acs.sessions
        self.assertIn("while its own connection 1 is open", session.invalid)

    @defer.inlineCallbacks
    def test_newConnectionAfterConnectionClose(self) -> None:
        """
        After the ACS answered C{Connection: close}, the session goes on over a
        new connection (with its cookie) — allowed — and ends well; the
        connections it used are recorded.
        """
        self.acs.closeResponses = {1}
        agent = self.connection()
        status, headers, _, cookie = yield self.post(agent, inform())  # answered "Connection: close"
        self.assertEqual(status, 200)
        status, _, body, _ = yield self.post(agent, b"", cookie)
        self.assertEqual((status, body), (200, b""))
        (session,) = self.acs.sessions
        self.assertTrue(session.ok)
        self.assertEqual(session.connections, [1, 2])
        self.assertEqual(self.acs.invalidSessions, [])

    @defer.inlineCallbacks
    def test_sameConnectionNextSession(self) -> None:
        """A session that ended leaves its connection free: the next Inform on it starts a session."""
        agent = self.connection()
        _, _, _, cookie = yield self.post(agent, inform())
        yield self.post(agent, b"", cookie)
        status, _, _, _ = yield self.post(agent, inform())
        self.assertEqual(status, 200)
        self.assertEqual([s.connections for s in self.acs.sessions], [[1, 1], [1]])
        self.assertEqual(self.acs.invalidSessions, [])

    @defer.inlineCallbacks
    def test_genieACSClosesAtTheEnd(self) -> None:
        """As GenieACS, the 204 that ends a session carries C{Connection: close}: the next goes on a new one."""
        self.acs.genieacs = True
        agent = self.connection()
        _, _, _, cookie = yield self.post(agent, inform())
        status, _, _, _ = yield self.post(agent, b"", cookie)
        self.assertEqual(status, 204)
        yield self.post(agent, inform())
        self.assertEqual([s.connections for s in self.acs.sessions], [[1, 1], [2]])


class SchemaValidationTests(unittest.TestCase):
    def test_validatesByDefault(self) -> None:
        """
        Without a validator of its own the fake ACS validates every message
        against the BBF schemas (here, beside the checkout): an Inform whose
        declared header is invalid, or with an undeclared header marked
        mustUnderstand, is answered 500 and recorded.
        """
        acs = FakeACS(clock=task.Clock())
        http = ACSHTTPSession(RequestTraversalAgent(acs), URL, clock=task.Clock())
        self.assertEqual(fired(http.post(inform(sessionTimeout=30))).status, 200)
        bad = inform().replace(b"<cwmp:ID", b'<cwmp:Extra soapenv:mustUnderstand="1">x</cwmp:Extra><cwmp:ID')
        self.assertEqual(fired(ACSHTTPSession(RequestTraversalAgent(acs), URL, clock=task.Clock()).post(bad)).status,
                         500)
        self.assertIn("mustUnderstand", acs.validationErrors[0])
