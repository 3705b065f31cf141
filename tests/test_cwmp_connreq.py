"""
Tests for L{proxier.cwmp.connreq}: the Connection Request server on a real
loopback port, asked the way GenieACS asks (GET, no credentials, then Digest
with the query in the uri), and its path and credential helpers.
"""

from __future__ import annotations

import socket
from typing import Any

from twisted.internet import defer, reactor
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
from proxier.cwmp.digest import DigestClient, basicAuthorization, parseChallenges
from proxier.cwmp.fakeacs import connectionRequest
from proxier.cwmp.settings import EndpointSettings
from proxier.store import Store


class Target:
    """An endpoint as the server sees it, recording Connection Requests."""

    def __init__(self, path: bytes, username: str = "acs", password: str = "pw", accept: bool = True) -> None:
        self.connectionRequestPath = path
        self.online = True
        self.accept = accept
        self.requests = 0
        self.credentials = (username, password)

    def connectionRequestCredentials(self) -> tuple[str, str]:
        return self.credentials

    def connectionRequested(self) -> bool:
        self.requests += 1
        return self.accept


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
    def test_rateLimited(self) -> None:
        """An endpoint that refuses more sessions gets 503 with Retry-After."""
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
    def test_connectionLimit(self) -> None:
        """Connections beyond the limit are closed at once; those within stay open."""
        from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
        from twisted.internet.protocol import Protocol

        small = ConnectionRequestServer(reactor=reactor, listenAddress="127.0.0.1", port=0, maxConnections=2)
        small.startListening()
        self.addCleanup(small.stopListening)

        class Idle(Protocol):
            def __init__(self) -> None:
                self.closed = defer.Deferred()

            def connectionLost(self, reason: Any = None) -> None:
                self.closed.callback(None)

        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", small.port, timeout=5)
        kept = []
        for _ in range(2):
            protocol = yield connectProtocol(endpoint, Idle())
            kept.append(protocol)
        extra = yield connectProtocol(endpoint, Idle())
        yield extra.closed.addTimeout(5, reactor)
        for protocol in kept:
            self.assertFalse(protocol.closed.called)
            protocol.transport.loseConnection()
            yield protocol.closed

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
