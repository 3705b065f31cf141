"""Tests for L{proxier.sim.httpclient}: a device's NOTIFY and firmware GET, bounded, against a loopback server."""

from __future__ import annotations

from typing import Any

from twisted.internet import defer, reactor
from twisted.trial import unittest
from twisted.web import resource
from twisted.web.client import Agent, HTTPConnectionPool, ResponseNeverReceived
from twisted.web.server import NOT_DONE_YET, Site

from proxier.sim.httpclient import Fetcher, HTTPStatusError, Notifier, TooBig
from proxier.upnp import gena


class Server(resource.Resource):
    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.notifies: list[tuple[dict, bytes]] = []
        self.hanging: list[Any] = []

    def render_NOTIFY(self, request: Any) -> bytes:
        self.notifies.append((gena.normalizeHeaders(request.requestHeaders), request.content.read()))
        request.setResponseCode(412 if request.path == b"/refuse" else 200)
        return b""

    def render_GET(self, request: Any) -> Any:
        if request.path == b"/image":
            return b"F" * 1000
        if request.path == b"/hang":
            self.hanging.append(request)
            request.notifyFinish().addErrback(lambda _: None)
            return NOT_DONE_YET
        if request.path == b"/slowbody":
            request.setHeader(b"content-length", b"100")
            request.write(b"x" * 10)
            self.hanging.append(request)
            request.notifyFinish().addErrback(lambda _: None)
            return NOT_DONE_YET
        if request.path == b"/moved":
            request.redirect(b"/image")
            return b""
        request.setResponseCode(404)
        return b"no"


class ClientTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.server = Server()
        self.port = reactor.listenTCP(0, Site(self.server), interface="127.0.0.1")
        self.addCleanup(self.port.stopListening)
        self.client = Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False))
        self.base = f"http://127.0.0.1:{self.port.getHost().port}"

    def tearDown(self) -> None:
        for request in self.server.hanging:
            if not request.finished and request.channel is not None:
                request.channel.transport.loseConnection()


class NotifierTests(ClientTestCase):
    @defer.inlineCallbacks
    def test_notify(self) -> None:
        """A NOTIFY carries the GENA headers and body, and fires with the subscriber's status."""
        message = gena.EventMessage("uuid:s", 3, (("A", "1"),))
        status = yield Notifier(self.client, reactor)(self.base + "/cb", message.headers(), message.body())
        self.assertEqual(status, 200)
        headers, body = self.server.notifies[0]
        self.assertEqual((headers["sid"], headers["seq"], headers["nt"], headers["nts"]),
                         ("uuid:s", "3", "upnp:event", "upnp:propchange"))
        self.assertEqual(gena.decodePropertySet(body), [("A", "1")])
        status = yield Notifier(self.client, reactor)(self.base + "/refuse", message.headers(), message.body())
        self.assertEqual(status, 412)

    def test_refused(self) -> None:
        """A subscriber that is gone fails the Deferred."""
        port = self.port.getHost().port
        d = self.port.stopListening()
        d.addCallback(lambda _: Notifier(self.client, reactor)(f"http://127.0.0.1:{port}/cb", [], b""))
        return self.assertFailure(d, Exception)


class FetcherTests(ClientTestCase):
    @defer.inlineCallbacks
    def test_fetch(self) -> None:
        """An image comes back whole when within the size limit."""
        data = yield Fetcher(self.client, reactor)(self.base + "/image", 1000)
        self.assertEqual(data, b"F" * 1000)

    def test_tooBig(self) -> None:
        """A body beyond the limit stops the download with TooBig."""
        return self.assertFailure(Fetcher(self.client, reactor)(self.base + "/image", 999), TooBig)

    @defer.inlineCallbacks
    def test_statusAndRedirect(self) -> None:
        """A 404 and a redirect (never followed) fail with the status."""
        for path, code in (("/missing", 404), ("/moved", 302)):
            failure = yield self.assertFailure(Fetcher(self.client, reactor)(self.base + path, 1000), HTTPStatusError)
            self.assertEqual(failure.code, code)

    def test_timeoutWaitingForHeaders(self) -> None:
        """A server that never answers fails the fetch after the timeout."""
        d = Fetcher(self.client, reactor, timeout=0.3)(self.base + "/hang", 1000)
        return self.assertFailure(d, defer.CancelledError, ResponseNeverReceived)

    def test_timeoutWaitingForBody(self) -> None:
        """A body that stops coming fails the fetch after the timeout."""
        d = Fetcher(self.client, reactor, timeout=0.3)(self.base + "/slowbody", 1000)
        return self.assertFailure(d, TimeoutError)
