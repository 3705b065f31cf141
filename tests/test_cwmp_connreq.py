"""
Tests for L{proxier.cwmp.connreq}: the Connection Request server on a real
loopback port, asked the way GenieACS asks (GET, no credentials, then Digest
with the query in the uri), and its path and credential helpers; under
hostile clients (slowloris, wrong credentials by the thousand, huge bodies)
on fake transports and a clock; its rate limit, alone and with a real
endpoint in session.
"""

from __future__ import annotations

import socket
from typing import Any

from twisted.internet import defer, reactor, task
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.protocol import Protocol
from twisted.internet.testing import MemoryReactorClock
from twisted.logger import LogLevel, Logger, globalLogPublisher
from twisted.trial import unittest
from twisted.web.client import Agent, HTTPConnectionPool
from treq.client import HTTPClient

from proxier.config import load
from proxier.cwmp.connreq import (
    ConnectionRequestServer,
    connectionRequestPath,
    ensureCredentials,
    formatURL,
    localAddressToward,
)
from proxier.cwmp import messages as m
from proxier.httpauth import DigestClient, DigestServer, basicAuthorization, parseChallenges
from proxier.cwmp.fakeacs import connectionRequest
from proxier.cwmp.service import CWMPService
from proxier.cwmp.settings import EndpointSettings
from proxier.service import DeviceDirectory
from proxier.store import Store
from tests._fakehttp import FakeConnection, header, status
from tests._helpers import waitFor
from tests.test_cwmp_endpoint import DEVICE, EndpointTestCase, deviceTimeout


class Target:
    """An endpoint as the server sees it, recording Connection Requests."""

    def __init__(self, path: bytes, username: str = "acs", password: str = "pw", accept: bool = True) -> None:
        self.connectionRequestPath = path
        self.online = True
        self.inSession = False
        self.log = Logger(namespace="target")
        self.accept = accept
        self.requests = 0
        self.credentials = (username, password)

    def connectionRequestCredentials(self) -> tuple[str, str]:
        return self.credentials

    def connectionRequested(self) -> bool:
        self.requests += 1
        return self.accept


def waitUntil(predicate: Any) -> defer.Deferred:
    return waitFor(predicate, 10, "the server closing slow clients")


class Slowloris:
    """
    C{count} clients on 127.0.0.1 that each send one byte of a request head
    at once and then every 50 ms (a head that never ends), and connect again
    at once when closed.
    """

    def __init__(self, port: int, path: bytes, count: int, reconnect: bool = True) -> None:
        self.endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port, timeout=5)
        self.head = b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * 100_000
        self.count = count
        self.reconnect = reconnect
        self.closed = 0
        self.pending = 0
        self.clients: list[Any] = []
        self.running = True
        self.ticker = task.LoopingCall(self.tick)

    def start(self) -> defer.Deferred:
        d = defer.gatherResults([self.connect() for _ in range(self.count)])
        return d.addCallback(lambda _: self.ticker.start(0.05) and None)  # (the ticker's Deferred fires at its stop)

    def connect(self) -> defer.Deferred:
        attack = self

        class Client(Protocol):
            sent = 0

            def connectionMade(self) -> None:
                if not attack.running:
                    self.transport.abortConnection()
                    return
                attack.clients.append(self)
                attack.send(self)  # a slowloris begins its request at once, then trickles

            def connectionLost(self, reason: Any = None) -> None:
                if self not in attack.clients:
                    return
                attack.clients.remove(self)
                attack.closed += 1
                if attack.running and attack.reconnect:
                    attack.connect()

        def done(result: Any) -> None:
            self.pending -= 1

        self.pending += 1
        return connectProtocol(self.endpoint, Client()).addBoth(done)

    def send(self, client: Any) -> None:
        client.transport.write(self.head[client.sent:client.sent + 1])
        client.sent += 1

    def tick(self) -> None:
        for client in list(self.clients):
            self.send(client)

    def stop(self) -> defer.Deferred:
        self.running = False
        if self.ticker.running:
            self.ticker.stop()
        for client in list(self.clients):
            client.transport.abortConnection()
        return waitFor(lambda: not self.clients and not self.pending, 10, "slow clients closed")


def askFake(site: Any, path: bytes, host: str, username: str = "acs", password: str = "pw",
            uri: str = "") -> int:
    """A Connection Request on a fake connection from C{host}, the way GenieACS makes it; the final status."""
    client = FakeConnection(site, host)
    target = uri or path.decode()
    answer = client.request("GET", target)
    if status(answer) != 401:
        return status(answer)
    challenge = parseChallenges([header(answer, "WWW-Authenticate") or ""])[0]
    authorization = DigestClient(username, password, challenge).authorization("GET", target)
    code = status(client.request("GET", target, {"Authorization": authorization, "Connection": "close"}))
    client.finish()
    return code

class ServerTests(unittest.TestCase):
    def setUp(self) -> None:
        self.server = ConnectionRequestServer(reactor=reactor, listenAddress="127.0.0.1", port=0)
        self.server.startListening()
        self.addCleanup(self.server.stopListening)
        self.target = Target(b"/AbCdEfGhIjKlMnOpQrStUvWx01")
        self.server.register(self.target)
        pool = HTTPConnectionPool(reactor, persistent=False)
        self.agent = Agent(reactor, pool=pool)

    def url(self, target: Any = None, query: str = "") -> str:
        return self.server.url((target or self.target).connectionRequestPath) + query

    def ask(self, url: str | None = None, username: str = "acs", password: str = "pw") -> defer.Deferred:
        return connectionRequest(url or self.url(query="?ts=1700000000&id=7"), username, password,
                                 agent=self.agent, clock=reactor)

    @defer.inlineCallbacks
    def get(self, url: str, headers: dict | None = None, method: str = "GET", data: bytes | None = None) -> Any:
        response = yield HTTPClient(self.agent).request(method, url, headers=headers, data=data,
                                                        allow_redirects=False)
        body = yield response.content()
        return response, body

    @defer.inlineCallbacks
    def test_accepted(self) -> None:
        """A Digest answer with the query string in its uri is accepted with 200, within GenieACS's 2 s."""
        status = yield self.ask()
        self.assertEqual(status, 200)
        self.assertEqual(self.target.requests, 1)

    @defer.inlineCallbacks
    def test_challenge(self) -> None:
        """Without credentials: 401 with a Digest MD5 qop=auth challenge, and no session."""
        response, _ = yield self.get(self.url())
        self.assertEqual(response.code, 401)
        (challenge,) = parseChallenges([v.decode() for v in response.headers.getRawHeaders(b"WWW-Authenticate")])
        self.assertEqual((challenge.scheme, challenge.params["qop"], challenge.params["algorithm"]),
                         ("digest", "auth", "MD5"))
        self.assertEqual(self.target.requests, 0)

    @defer.inlineCallbacks
    def test_wrongPassword(self) -> None:
        """A wrong password is 401 again; no session."""
        status = yield self.ask(password="guess")
        self.assertEqual(status, 401)
        self.assertEqual(self.target.requests, 0)

    @defer.inlineCallbacks
    def test_uriWithoutQueryRefused(self) -> None:
        """A digest computed over the path without its query (a known client bug) is refused."""
        url = self.url(query="?x=1")
        response, _ = yield self.get(url)
        challenge = parseChallenges([v.decode() for v in response.headers.getRawHeaders(b"WWW-Authenticate")])[0]
        header = DigestClient("acs", "pw", challenge).authorization("GET", self.target.connectionRequestPath.decode())
        response, _ = yield self.get(url, {b"Authorization": [header.encode()]})
        self.assertEqual(response.code, 401)
        self.assertEqual(self.target.requests, 0)

    @defer.inlineCallbacks
    def test_basicRefused(self) -> None:
        """Basic credentials, even right ones, are not accepted."""
        response, _ = yield self.get(self.url(), {b"Authorization": [basicAuthorization("acs", "pw").encode()]})
        self.assertEqual(response.code, 401)
        self.assertEqual(self.target.requests, 0)

    @defer.inlineCallbacks
    def test_unknownPath(self) -> None:
        """Unknown paths (and the root) are 404 with a body that says nothing, no challenge."""
        for path in ("/", "/AbCdEfGhIjKlMnOpQrStUvWx02", "/AbCdEfGhIjKlMnOpQrStUvWx01/x", "/favicon.ico"):
            response, body = yield self.get(f"http://127.0.0.1:{self.server.port}{path}")
            self.assertEqual((response.code, body), (404, b"not found\n"), path)
            self.assertFalse(response.headers.hasHeader(b"WWW-Authenticate"))

    @defer.inlineCallbacks
    def test_offline(self) -> None:
        """An endpoint whose device is offline answers 503 (after authentication) and starts nothing."""
        self.target.online = False
        status = yield self.ask()
        self.assertEqual(status, 503)
        self.assertEqual(self.target.requests, 0)

    @defer.inlineCallbacks
    def test_endpointRefuses(self) -> None:
        """An endpoint that refuses the session (its device went offline meanwhile) gets 503."""
        self.target.accept = False
        status = yield self.ask()
        self.assertEqual(status, 503)
        self.assertEqual(self.target.requests, 1)

    @defer.inlineCallbacks
    def test_endpointsApart(self) -> None:
        """Each endpoint has its own path and credentials; one's credentials do not open another."""
        other = Target(b"/ZyXwVuTsRqPoNmLkJiHgFeDc99", "acs2", "other")
        self.server.register(other)
        status = yield self.ask(self.url(other), "acs", "pw")
        self.assertEqual(status, 401)
        status = yield self.ask(self.url(other), "acs2", "other")
        self.assertEqual(status, 200)
        self.assertEqual((self.target.requests, other.requests), (0, 1))
        self.server.unregister(other)
        response, _ = yield self.get(self.url(other))
        self.assertEqual(response.code, 404)

    @defer.inlineCallbacks
    def test_noCredentialsConfigured(self) -> None:
        """An endpoint without a username accepts nobody."""
        self.target.credentials = ("", "")
        status = yield self.ask(username="", password="")
        self.assertEqual(status, 401)

    @defer.inlineCallbacks
    def test_otherMethods(self) -> None:
        """Anything but GET/HEAD on an endpoint's path is 405."""
        response, _ = yield self.get(self.url(), method="DELETE")
        self.assertEqual(response.code, 405)

    @defer.inlineCallbacks
    def test_bodyNotKept(self) -> None:
        """A request body beyond the cap ends the connection; the server keeps nothing of it."""
        d = self.get(self.url(), method="POST", data=b"x" * 100_000)
        try:
            response, _ = yield d
        except Exception:
            pass
        else:
            self.assertNotEqual(response.code, 200)
        self.assertEqual(self.target.requests, 0)

    @defer.inlineCallbacks
    def test_slowlorisRealSockets(self) -> None:
        """
        Over real loopback sockets, clients that trickle their request a byte
        at a time and reconnect when closed — more of them than the server's
        slots — do not keep a Connection Request out: it is answered 200.
        """
        small = ConnectionRequestServer(reactor=reactor, listenAddress="127.0.0.1", port=0, maxConnections=4,
                                        maxPerPeer=4, requestTimeout=60)
        small.register(self.target)
        small.startListening()
        self.addCleanup(small.stopListening)
        attack = Slowloris(small.port, self.target.connectionRequestPath, count=6)
        self.addCleanup(attack.stop)
        yield attack.start()
        yield waitUntil(lambda: attack.closed >= 2)  # the server took slots back from the oldest
        status = yield connectionRequest(small.url(self.target.connectionRequestPath), "acs", "pw",
                                         agent=self.agent, clock=reactor, timeout=10)
        self.assertEqual(status, 200)
        self.assertEqual(self.target.requests, 1)
        self.assertGreaterEqual(small.site.counts["evicted"], 2)

    @defer.inlineCallbacks
    def test_requestDeadlineRealSockets(self) -> None:
        """Over a real socket, a client still sending its request after request_timeout is disconnected."""
        small = ConnectionRequestServer(reactor=reactor, listenAddress="127.0.0.1", port=0, requestTimeout=1)
        small.register(self.target)
        small.startListening()
        self.addCleanup(small.stopListening)
        attack = Slowloris(small.port, self.target.connectionRequestPath, count=1, reconnect=False)
        self.addCleanup(attack.stop)
        yield attack.start()
        yield waitUntil(lambda: attack.closed == 1)
        self.assertEqual(small.site.counts["slow"], 1)
        self.assertEqual(self.target.requests, 0)

    def test_registerChecks(self) -> None:
        """A path must start with / and be unique."""
        self.assertRaises(ValueError, self.server.register, Target(b"nope"))
        self.assertRaises(ValueError, self.server.register, Target(self.target.connectionRequestPath))
        self.server.register(self.target)  # again: no change


class HelperTests(unittest.TestCase):
    def test_pathPersistedAndUnguessable(self) -> None:
        """A path is made once per endpoint (192 random bits), kept, and differs between endpoints."""
        store = Store.open(self.mktemp())
        first = connectionRequestPath(store.child("a").document("connection-request"))
        self.assertEqual(connectionRequestPath(store.child("a").document("connection-request")), first)
        other = connectionRequestPath(store.child("b").document("connection-request"))
        self.assertNotEqual(first, other)
        self.assertTrue(first.startswith(b"/"))
        self.assertGreaterEqual(len(first) - 1, 32)  # base64 of 24 bytes

    def test_corruptPathReplaced(self) -> None:
        """A saved path that is not one is replaced by a new one."""
        document = Store.open(self.mktemp()).document("connection-request")
        document.save({"path": "../../etc"})
        path = connectionRequestPath(document)
        self.assertNotIn(b"..", path)
        self.flushLoggedErrors()

    def test_randomCredentials(self) -> None:
        """credentials = random: each endpoint gets its own, kept across restarts."""
        config = load(None)
        store = Store.open(self.mktemp())
        settings = EndpointSettings(store.document("ms"), config["acs"])
        ensureCredentials(settings, config["connection_request"])
        username, password = settings.connectionRequestUsername, settings.connectionRequestPassword
        self.assertTrue(username and len(password) >= 20)
        again = EndpointSettings(store.document("ms"), config["acs"])
        ensureCredentials(again, config["connection_request"])
        self.assertEqual((again.connectionRequestUsername, again.connectionRequestPassword), (username, password))
        other = EndpointSettings(store.document("ms2"), config["acs"])
        ensureCredentials(other, config["connection_request"])
        self.assertNotEqual(other.connectionRequestPassword, password)

    def test_sharedCredentials(self) -> None:
        """credentials = shared: every endpoint takes the configured pair."""
        config = load(None).replace("connection_request", credentials="shared", username="u", password="p")
        settings = EndpointSettings(Store.open(self.mktemp()).document("ms"), config["acs"])
        ensureCredentials(settings, config["connection_request"])
        self.assertEqual((settings.connectionRequestUsername, settings.connectionRequestPassword), ("u", "p"))

    def test_urls(self) -> None:
        """URLs bracket IPv6 addresses and keep names and IPv4 addresses as they are."""
        self.assertEqual(formatURL("192.0.2.1", 7547, b"/abc"), "http://192.0.2.1:7547/abc")
        self.assertEqual(formatURL("2001:db8::1", 7547, b"/abc"), "http://[2001:db8::1]:7547/abc")
        self.assertEqual(formatURL("gw.example.net", 80, b"/abc"), "http://gw.example.net:80/abc")

    def test_localAddressToward(self) -> None:
        """The route towards loopback starts at loopback; names are not resolved."""
        self.assertEqual(localAddressToward("127.0.0.1"), "127.0.0.1")
        self.assertIsNone(localAddressToward("acs.example.net"))
        if socket.has_ipv6:
            self.assertIn(localAddressToward("::1"), ("::1", None))


class HostileClientTests(unittest.TestCase):
    """The server under hostile clients, on fake transports and a clock (issue 11)."""

    def setUp(self) -> None:
        self.clock = task.Clock()
        self.clock.advance(1_700_000_000)
        self.server = ConnectionRequestServer(reactor=self.clock, port=0)
        self.target = Target(b"/AbCdEfGhIjKlMnOpQrStUvWx01")
        self.server.register(self.target)
        self.site = self.server.site
        self.path = self.target.connectionRequestPath
        self.logged: list[dict] = []
        globalLogPublisher.addObserver(self.logged.append)
        self.addCleanup(globalLogPublisher.removeObserver, self.logged.append)

    def slowloris(self, hosts: list[str], seconds: float) -> list[FakeConnection]:
        """Connections from C{hosts} sending a byte every 2 s for C{seconds}, reconnecting when closed."""
        head = b"GET " + self.path + b" HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 10_000
        attackers = [FakeConnection(self.site, host) for host in hosts]
        for step in range(int(seconds / 2)):
            for i, attacker in enumerate(attackers):
                if attacker.closing:
                    attacker.finish()
                    attackers[i] = attacker = FakeConnection(self.site, attacker.address.host)
                attacker.send(head[step:step + 1])
            self.clock.advance(2)
        return attackers

    def test_slowloris(self) -> None:
        """
        70 connections trickling a byte every 2 s (more than the 64 slots, from
        70 addresses, reconnecting when closed) do not keep the ACS out: its
        Connection Request is answered 200, during the attack and after it.
        """
        hosts = [f"203.0.113.{i + 1}" for i in range(70)]
        self.slowloris(hosts, 30)
        self.assertEqual(askFake(self.site, self.path, "198.51.100.7"), 200)
        attackers = self.slowloris(hosts, 30)
        self.assertEqual(askFake(self.site, self.path, "198.51.100.7"), 200)
        self.assertEqual(self.target.requests, 2)
        self.assertLessEqual(self.site.openConnections, 64)
        for attacker in attackers:
            attacker.finish()
        self.clock.advance(60)
        self.assertEqual(self.site.openConnections, 0)
        warnings = [e for e in self.logged if e.get("log_level") == LogLevel.warn and "evicted" in e]
        self.assertLessEqual(len(warnings), 2)  # a minute of attack: one line (plus the next minute's)

    def test_slowlorisFromTheACSAddress(self) -> None:
        """Even from the ACS's own address, the slow connections are the oldest waiting ones: the request gets in."""
        self.slowloris(["198.51.100.7"] * 70, 8)
        self.assertEqual(askFake(self.site, self.path, "198.51.100.7"), 200)

    def test_badCredentials(self) -> None:
        """
        10,000 requests with wrong credentials of every kind (wrong password,
        unknown user, forged or foreign nonce, Basic, garbage, another path's
        uri), on 100 kept-alive connections: none accepted, no session asked,
        nothing kept per request (no used nonce, no connection left), and the
        log says so in a few lines, not ten thousand.
        """
        foreign = DigestServer("proxier", secret=b"x" * 32, clock=self.clock.seconds)
        path = self.path.decode()
        codes: dict[int, int] = {}
        for c in range(100):
            client = FakeConnection(self.site, f"203.0.113.{c % 250 + 1}")
            for i in range(100):
                kind = (c * 100 + i) % 7
                answer = client.request("GET", path)
                challenge = parseChallenges([header(answer, "WWW-Authenticate") or ""])[0]
                if kind == 0:
                    auth = DigestClient("acs", f"guess{i}", challenge).authorization("GET", path)
                elif kind == 1:
                    auth = DigestClient(f"root{i}", "pw", challenge).authorization("GET", path)
                elif kind == 2:
                    other = parseChallenges([foreign.challenge()])[0]
                    auth = DigestClient("acs", "pw", other).authorization("GET", path)
                elif kind == 3:
                    auth = basicAuthorization("acs", "pw")
                elif kind == 4:
                    auth = "Digest " + "x" * (i * 40)
                elif kind == 5:
                    auth = DigestClient("acs", "pw", challenge).authorization("GET", "/other")
                else:
                    forged = dict(challenge.params, nonce=challenge.params["nonce"][:-4] + "AAAA")
                    auth = DigestClient("acs", "pw", type(challenge)("digest", forged)).authorization("GET", path)
                code = status(client.request("GET", path, {"Authorization": auth}))
                codes[code] = codes.get(code, 0) + 1
            self.assertFalse(client.closing)
            client.finish()
        self.assertEqual(sum(codes.values()), 10_000)
        self.assertNotIn(200, codes)
        self.assertEqual(self.target.requests, 0)
        self.assertEqual(self.server.digest.usedNonces, 0)
        self.assertEqual(self.site.openConnections, 0)
        warnings = [e for e in self.logged if e.get("log_level") == LogLevel.warn]
        self.assertLessEqual(len(warnings), 2)
        self.assertEqual(askFake(self.site, self.path, "198.51.100.7"), 200)  # the ACS still gets in

    def test_capturedRequestReplayed(self) -> None:
        """
        A Connection Request captured on the wire (its Authorization header)
        and replayed after 1100 other accepted requests, within its nonce's
        lifetime, is refused and asks for no session (issue 11.5: the nonce
        cache of 1024 had forgotten it).
        """
        self.server.resource.rateLimit = 0
        path = self.path.decode()
        client = FakeConnection(self.site, "198.51.100.7")
        challenge = parseChallenges([header(client.request("GET", path), "WWW-Authenticate") or ""])[0]
        captured = DigestClient("acs", "pw", challenge).authorization("GET", path)
        self.assertEqual(status(client.request("GET", path, {"Authorization": captured})), 200)
        for _ in range(1100):
            self.clock.advance(0.1)
            self.assertEqual(askFake(self.site, self.path, "198.51.100.7"), 200)
        self.assertEqual(self.target.requests, 1101)
        attacker = FakeConnection(self.site, "203.0.113.66")
        answer = attacker.request("GET", path, {"Authorization": captured})
        self.assertEqual(status(answer), 401)
        self.assertEqual(self.target.requests, 1101)

    def test_hugeBodies(self) -> None:
        """
        A request declaring 100 MB is answered 413 right after its head; a
        chunked 100 MB body is cut off with 413 past the 1 KB cap: nothing
        near 100 MB is ever read or kept, and no session is asked.
        """
        client = FakeConnection(self.site, "203.0.113.5")
        client.send(b"GET " + self.path + b" HTTP/1.1\r\nContent-Length: 104857600\r\n\r\n")
        self.assertEqual(status(client.received()), 413)
        self.assertTrue(client.closing)
        client = FakeConnection(self.site, "203.0.113.5")
        client.send(b"GET " + self.path + b" HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk, sent = b"10000\r\n" + b"x" * 0x10000 + b"\r\n", 0
        while not client.closing and sent < 100 * 2**20:
            client.send(chunk)
            sent += 0x10000
        self.assertEqual(sent, 0x10000)
        self.assertEqual(status(client.received()), 413)
        self.assertEqual(self.target.requests, 0)
        self.assertEqual(self.site.counts["large"], 2)


class RateLimitTests(unittest.TestCase):
    """How many Connection Requests may start sessions (issue 17.5: configurable, authenticated only, not in session)."""

    def setUp(self) -> None:
        self.clock = task.Clock()
        self.clock.advance(1_700_000_000)
        self.server = ConnectionRequestServer(reactor=self.clock, port=0, rateLimit=3, rateWindow=60)
        self.target = Target(b"/AbCdEfGhIjKlMnOpQrStUvWx01")
        self.target.inSession = False
        self.server.register(self.target)

    def ask(self, password: str = "pw") -> int:
        return askFake(self.server.site, self.target.connectionRequestPath, "198.51.100.7", password=password)

    def test_limitAndWindow(self) -> None:
        """
        The configured number of sessions per window is accepted, the next
        request is 503 without Retry-After (TR-069 3.2.2), and once the window
        has passed requests are accepted again.
        """
        self.assertEqual([self.ask() for _ in range(3)], [200] * 3)
        client = FakeConnection(self.server.site, "198.51.100.7")
        path = self.target.connectionRequestPath.decode()
        challenge = parseChallenges([header(client.request("GET", path), "WWW-Authenticate") or ""])[0]
        answer = client.request("GET", path, {"Authorization": DigestClient("acs", "pw", challenge)
                                              .authorization("GET", path)})
        self.assertEqual(status(answer), 503)
        self.assertIsNone(header(answer, "Retry-After"))
        self.clock.advance(61)
        self.assertEqual(self.ask(), 200)
        self.assertEqual(self.target.requests, 4)

    def test_onlyAuthenticatedCount(self) -> None:
        """Challenges and wrong passwords, however many, use none of the limit."""
        for _ in range(50):
            self.assertEqual(self.ask(password="guess"), 401)
        self.assertEqual([self.ask() for _ in range(4)], [200, 200, 200, 503])

    def test_duringSessionNotCounted(self) -> None:
        """
        Requests arriving while the endpoint is in a session are all accepted
        (200: the session under way is followed by one that serves them) and
        use none of the limit.
        """
        self.target.inSession = True
        self.assertEqual([self.ask() for _ in range(20)], [200] * 20)
        self.assertEqual(self.target.requests, 20)
        self.target.inSession = False
        self.assertEqual([self.ask() for _ in range(4)], [200, 200, 200, 503])

    def test_noLimit(self) -> None:
        """rate_limit = 0: no limit at all."""
        self.server.resource.rateLimit = 0
        self.assertEqual([self.ask() for _ in range(30)], [200] * 30)

    def test_configured(self) -> None:
        """The [connection_request] keys reach the server the CWMP service makes."""
        config = load(None).replace("acs", url="http://acs.example.net/acs").replace(
            "connection_request", port=0, rate_limit=25, rate_window=120, max_connections=100,
            max_connections_per_peer=50, request_timeout=7)
        service = CWMPService(config, Store.open(self.mktemp()), DeviceDirectory(), lambda *a: None,
                              reactor=MemoryReactorClock(), agent=object())
        server = service.server
        self.assertEqual((server.resource.rateLimit, server.resource.rateWindow), (25, 120))
        self.assertEqual((server.site.maxConnections, server.site.maxPerPeer, server.site.requestTimeout),
                         (100, 50, 7))


class DuringSessionTests(EndpointTestCase):
    """A real endpoint behind the server: Connection Requests while a session runs (issue 17.5, TR-069 3.2.2)."""

    def test_manyDuringSessionThenOneSession(self) -> None:
        """
        An ACS that sends Connection Requests again and again while a long
        session runs (as when it waits on a firmware update) gets 200 every
        time, never 503 ("device offline"); the session under way is followed
        by exactly one more, with "6 CONNECTION REQUEST".
        """
        endpoint = self.make()
        server = ConnectionRequestServer(reactor=self.clock, port=0)
        endpoint.connectionRequestPath = b"/AbCdEfGhIjKlMnOpQrStUvWx01"
        server.register(endpoint)
        self.model.hang.add("getParameterNames")
        self.acs.script([m.GetParameterNames("Device.", False)], DEVICE)
        endpoint.requestSession("6 CONNECTION REQUEST")
        self.clock.advance(0)
        self.assertTrue(endpoint.inSession)
        sessions = len(self.acs.sessions)
        codes = [askFake(server.site, endpoint.connectionRequestPath, "198.51.100.7", "cr", "pw")
                 for _ in range(15)]
        self.assertEqual(codes, [200] * 15)
        self.clock.advance(deviceTimeout(30))
        self.assertEqual(len(self.acs.sessions), sessions + 1)
        self.assertEqual(self.events(self.acs.sessions[-1]), [("6 CONNECTION REQUEST", "")])
        self.clock.advance(60)
        self.assertEqual(len(self.acs.sessions), sessions + 1)
