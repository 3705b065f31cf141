"""
Tests for L{proxier.lan.keepalive}: kept-alive connections to devices,
against loopback servers that count their connections and answer as
devices do (well, or mishandling keep-alive). The pool's clock is a
C{Clock}: idle timeouts and early closes are decided by advancing it.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from twisted.internet import reactor
from twisted.internet.defer import Deferred, gatherResults, inlineCallbacks, succeed
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import Clock, deferLater
from twisted.logger import globalLogPublisher
from twisted.trial import unittest
from twisted.web.client import readBody

from proxier.lan.httpclient import BodyTooLarge, HTTPFailure, HTTPTimeout, Requester, makeHTTPClient
from proxier.lan.keepalive import IDLE_TIMEOUT, DevicePool
from proxier.lan.urlpolicy import Origin, URLPolicy

from .test_lan_httpclient import withoutTreq
from .test_lan_urlpolicy import resolverOf

LOOPBACK = Origin("127.0.0.1", None, loopbackMode=True)
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class Device(Protocol):
    """One connection of a L{DeviceServer}: parses requests, lets the server's C{answer} reply."""

    def connectionMade(self) -> None:
        self.buffer = b""
        self.served = 0
        self.factory.connections.append(self)

    def dataReceived(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, _, rest = self.buffer.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
            length = int(headers.get("content-length", "0"))
            if len(rest) < length:
                return
            self.buffer = rest[length:]
            self.served += 1
            self.factory.requests.append((lines[0].split(" ")[0], headers, self.served))
            self.factory.answer(self, headers)

    def connectionLost(self, reason: Any) -> None:
        self.factory.lost += 1
        waiters, self.factory.lostWaiters = self.factory.lostWaiters, []
        for d in waiters:
            d.callback(None)


class DeviceServer(Factory):
    """
    A loopback device web server.

    @param answer: C{(protocol, headers)} → writes the reply (default: 200
        with a length, the connection kept open unless asked to close).
    """

    protocol = Device

    def __init__(self, answer: Optional[Callable[[Device, dict], None]] = None) -> None:
        self.answer = answer or self.keepAlive
        self.connections: list[Device] = []
        self.requests: list[tuple[str, dict, int]] = []
        self.lost = 0
        self.lostWaiters: list[Deferred] = []

    @staticmethod
    def keepAlive(conn: Device, headers: dict) -> None:
        conn.transport.write(OK)
        if headers.get("connection", "").lower() == "close":
            conn.transport.loseConnection()

    def waitLost(self, count: int) -> Deferred:
        """Fires once C{count} connections have been closed."""
        if self.lost >= count:
            return succeed(None)
        d: Deferred = Deferred()
        self.lostWaiters.append(d)
        return d.addCallback(lambda _: self.waitLost(count))


def turn() -> Deferred:
    """A few reactor turns: what the peer sent (a close) is read."""
    return deferLater(reactor, 0.05, lambda: None)


class KeepAliveTests(unittest.TestCase):
    """The control point's client (what treq sends, on an Agent) on a L{DevicePool}."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.pool = DevicePool(self.clock)
        self.addCleanup(self.pool.closeCachedConnections)
        client, endpoints = makeHTTPClient(reactor, connectTimeout=5, pool=self.pool)
        self.policy = URLPolicy(resolverOf({}))
        self.requester = Requester(client, reactor, self.policy, endpoints=endpoints)

    def serve(self, answer: Optional[Callable[[Device, dict], None]] = None) -> DeviceServer:
        server = DeviceServer(answer)
        port = reactor.listenTCP(0, server, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        server.url = f"http://127.0.0.1:{port.getHost().port}"  # type: ignore[attr-defined]
        return server

    def get(self, server: DeviceServer, method: str = "GET", body: Optional[bytes] = None,
            timeout: float = 10, maxBytes: int = 1000) -> Deferred:
        target = self.policy.checkAddressLiteral(server.url + "/desc.xml", LOOPBACK)  # type: ignore[attr-defined]
        return self.requester.request(method, target, LOOPBACK, body=body, timeout=timeout, maxBytes=maxBytes)

    def logged(self) -> list[str]:
        from twisted.logger import formatEvent

        events: list[str] = []

        def observe(event: dict) -> None:
            if event.get("log_namespace", "").startswith("proxier.lan.keepalive"):
                events.append(formatEvent(event))

        globalLogPublisher.addObserver(observe)
        self.addCleanup(globalLogPublisher.removeObserver, observe)
        return events

    @inlineCallbacks
    def test_reuse(self) -> Any:
        """Two requests, one after the other: one TCP connection, kept idle afterwards; no Connection: close."""
        server = self.serve()
        for _ in range(2):
            result = yield self.get(server)
            self.assertEqual((result.code, result.body), (200, b"ok"))
        self.assertEqual(len(server.connections), 1)
        self.assertEqual([served for _, _, served in server.requests], [1, 2])
        self.assertNotIn("connection", server.requests[0][1])
        self.assertEqual(self.pool.idle, 1)
        self.assertEqual(self.pool.fallbacks(), {})

    @inlineCallbacks
    def test_idleClose(self) -> Any:
        """An idle connection is closed after IDLE_TIMEOUT seconds of the pool's clock; the next request opens one."""
        server = self.serve()
        yield self.get(server)
        self.clock.advance(IDLE_TIMEOUT - 0.5)
        self.assertEqual(self.pool.idle, 1)
        self.clock.advance(0.5)
        self.assertEqual(self.pool.idle, 0)
        self.assertEqual([record.idle for record in self.pool._devices.values()], [()])  # the empty tuple, issue 19
        yield server.waitLost(1)
        yield self.get(server)
        self.assertEqual(len(server.connections), 2)
        self.assertEqual(self.pool.fallbacks(), {}, "closed by the proxier: nothing said of the device")

    @inlineCallbacks
    def test_perDeviceBound(self) -> Any:
        """Three requests at once: three connections, two kept, the third closed."""
        server = self.serve()
        yield gatherResults([self.get(server) for _ in range(3)])
        self.assertEqual(len(server.connections), 3)
        self.assertEqual(self.pool.idle, 2)
        yield server.waitLost(1)

    @inlineCallbacks
    def test_totalBoundLRU(self) -> Any:
        """Past the total bound the least recently used idle connection is closed, whatever its device."""
        self.pool.maxIdle = 2
        servers = [self.serve() for _ in range(3)]
        for server in servers:
            yield self.get(server)
        self.assertEqual(self.pool.idle, 2)
        yield servers[0].waitLost(1)
        self.assertEqual((servers[1].lost, servers[2].lost), (0, 0))
        yield self.get(servers[2])
        self.assertEqual(len(servers[2].connections), 1, "the recent ones are still reused")

    @inlineCallbacks
    def test_staleGetRetried(self) -> Any:
        """A GET on a kept connection the device closed unanswered is sent once more on a new connection."""
        def answer(conn: Device, headers: dict) -> None:
            if conn.served == 2:
                conn.transport.loseConnection()  # as if it had timed it out just before
            else:
                conn.transport.write(OK)

        server = self.serve(answer)
        yield self.get(server)
        result = yield self.get(server)
        self.assertEqual(result.body, b"ok")
        self.assertEqual(len(server.connections), 2)
        self.assertEqual([m for m, _, _ in server.requests], ["GET"] * 3)

    @inlineCallbacks
    def test_staleGetRetriedOnce(self) -> Any:
        """The retry is one: a device that closes the new connection too fails the GET."""
        def answer(conn: Device, headers: dict) -> None:
            if len(conn.factory.requests) == 1:
                conn.transport.write(OK)
            else:
                conn.transport.loseConnection()

        server = self.serve(answer)
        yield self.get(server)
        yield self.assertFailure(self.get(server), HTTPFailure)
        self.assertEqual(len(server.requests), 3)

    @inlineCallbacks
    def test_staleNowAndThen(self) -> Any:
        """Stale connections count against a device only in a row: an answer on a reused one in between clears them."""
        def answer(conn: Device, headers: dict) -> None:
            if len(conn.factory.requests) in (2, 5):
                conn.transport.loseConnection()
            else:
                conn.transport.write(OK)

        server = self.serve(answer)
        for _ in range(4):
            yield self.get(server)
        self.assertEqual(len(server.requests), 6)
        self.assertEqual(self.pool.fallbacks(), {})

    @inlineCallbacks
    def test_staleInARow(self) -> Any:
        """A device whose kept connections are stale twice in a row is recorded; the GETs still succeed."""
        def answer(conn: Device, headers: dict) -> None:
            if conn.served == 2:
                conn.transport.loseConnection()
            else:
                conn.transport.write(OK)

        server = self.serve(answer)
        for _ in range(3):
            yield self.get(server)
        self.assertIn("before they are reused", list(self.pool.fallbacks().values())[0])
        yield self.get(server)
        self.assertEqual([h.get("connection") for _, h, _ in server.requests], [None] * 5 + ["close"])

    @inlineCallbacks
    def test_restarting(self) -> Any:
        """A device closing all its kept connections at once (restarting) is suspected once, not given up."""
        server = self.serve()
        yield gatherResults([self.get(server) for _ in range(2)])
        for connection in server.connections:
            connection.transport.loseConnection()
        yield server.waitLost(2)
        yield turn()
        self.assertEqual(self.pool.idle, 0)
        self.assertEqual(self.pool.fallbacks(), {})
        yield self.get(server)  # it answers again: one strike of the two in a row it takes
        self.assertEqual(self.pool.fallbacks(), {})
        yield self.get(server)
        self.assertEqual(self.pool.fallbacks(), {})

    @inlineCallbacks
    def test_actionNotSentAgain(self) -> Any:
        """A POST (a SOAP action) on a kept connection closed unanswered fails: it is never sent twice."""
        def answer(conn: Device, headers: dict) -> None:
            if conn.served == 3:
                conn.transport.loseConnection()
            else:
                conn.transport.write(OK)

        server = self.serve(answer)
        yield self.get(server)
        yield self.get(server)  # answered on a reused connection: keep-alive works there
        yield self.assertFailure(self.get(server, "POST", b"<s:Envelope/>"), HTTPFailure)
        self.assertEqual([m for m, _, _ in server.requests], ["GET", "GET", "POST"])
        self.assertEqual(len(server.connections), 1)

    @inlineCallbacks
    def test_actionNeverSentIsSent(self) -> Any:
        """A POST that provably never left (RequestNotSent: the connection was no longer usable) goes on a new one."""
        from twisted.internet.defer import fail
        from twisted.web._newclient import Request, RequestNotSent
        from twisted.web.http_headers import Headers

        from proxier.httpbody import BytesProducer
        from proxier.lan.keepalive import _Use

        class Unusable:
            def request(self, request: Any) -> Deferred:
                return fail(RequestNotSent())

        server = self.serve()
        port = int(server.url.rpartition(":")[2])  # type: ignore[attr-defined]
        device = self.pool._device(b"127.0.0.1", port)
        device.proven = True
        use = _Use(self.pool, device, (b"http", b"127.0.0.1", port), TCP4ClientEndpoint(reactor, "127.0.0.1", port),
                   Unusable(), reused=True)
        request = Request._construct(b"POST", b"/control", Headers({b"host": [b"127.0.0.1"]}),
                                     BytesProducer(b"<s:Envelope/>"), persistent=True)
        response = yield use.request(request)
        self.assertEqual((yield readBody(response)), b"ok")
        self.assertEqual([m for m, _, _ in server.requests], ["POST"])

    @inlineCallbacks
    def test_actionWaitsForProvenKeepAlive(self) -> Any:
        """A POST reuses a connection only to a device that already answered on a reused one."""
        server = self.serve()
        yield self.get(server)
        yield self.get(server, "POST", b"<s:Envelope/>")
        self.assertEqual([served for _, _, served in server.requests], [1, 1])
        self.assertEqual(self.pool.idle, 2)
        yield self.get(server)  # on the most recently kept one, answered: proven
        yield self.get(server, "POST", b"<s:Envelope/>")
        self.assertEqual([served for _, _, served in server.requests], [1, 1, 2, 3])
        self.assertEqual(len(server.connections), 2)

    @inlineCallbacks
    def test_closeEveryTime(self) -> Any:
        """A device answering Connection: close every time is recorded (logged once) and asked with close."""
        events = self.logged()

        def answer(conn: Device, headers: dict) -> None:
            conn.transport.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
            conn.transport.loseConnection()

        server = self.serve(answer)
        for _ in range(4):
            result = yield self.get(server)
            self.assertEqual(result.body, b"ok")
        self.assertEqual([h.get("connection", "").lower() for _, h, _ in server.requests],
                         ["", "", "close", "close"])
        self.assertEqual(list(self.pool.fallbacks().values()), ["answers Connection: close every time"])
        self.assertIn(server.url[len("http://"):], self.pool.fallbacks())  # type: ignore[attr-defined]
        self.assertEqual(len(events), 1, events)
        self.assertIn(f"keep-alive given up for device {server.url[7:]}: it answers Connection: close every time",
                      events[0])

    @inlineCallbacks
    def test_noLengthClosing(self) -> Any:
        """An answer without Content-Length ended by closing: read whole, and the device recorded."""
        def answer(conn: Device, headers: dict) -> None:
            conn.transport.write(b"HTTP/1.1 200 OK\r\n\r\nok")
            conn.transport.loseConnection()

        server = self.serve(answer)
        result = yield self.get(server)
        self.assertEqual(result.body, b"ok")
        self.assertIn("without Content-Length", list(self.pool.fallbacks().values())[0])
        yield self.get(server)
        self.assertEqual(server.requests[1][1].get("connection"), "close")

    @inlineCallbacks
    def test_noLengthNoClose(self) -> Any:
        """No length and no close: the deadline ends it; the device is recorded and then asked with close."""
        def answer(conn: Device, headers: dict) -> None:
            conn.transport.write(b"HTTP/1.1 200 OK\r\n\r\nok")
            if headers.get("connection") == "close":
                conn.transport.loseConnection()

        server = self.serve(answer)
        yield self.assertFailure(self.get(server, timeout=0.3), HTTPTimeout)
        yield turn()  # the dropped connection's end is read
        self.assertIn("did not close", list(self.pool.fallbacks().values())[0])
        result = yield self.get(server)
        self.assertEqual(result.body, b"ok")

    @inlineCallbacks
    def test_closeMidAnswer(self) -> Any:
        """A device closing in the middle of an answer: that request fails, the device is recorded."""
        def answer(conn: Device, headers: dict) -> None:
            conn.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok")
            conn.transport.loseConnection()

        server = self.serve(answer)
        yield self.assertFailure(self.get(server), HTTPFailure)
        self.assertIn("in the middle of an answer", list(self.pool.fallbacks().values())[0])

    @inlineCallbacks
    def test_silentCloseAfterAnswer(self) -> Any:
        """Closing each kept connection right after answering, without saying so: recorded after two."""
        def answer(conn: Device, headers: dict) -> None:
            conn.transport.write(OK)
            conn.transport.loseConnection()

        server = self.serve(answer)
        for _ in range(4):
            yield self.get(server)
            yield turn()
        self.assertIn("right after answering", list(self.pool.fallbacks().values())[0])
        self.assertEqual([h.get("connection") for _, h, _ in server.requests], [None, None, None, "close"])

    @inlineCallbacks
    def test_droppedConnectionsNotReused(self) -> Any:
        """A body over its cap drops its connection: the next request opens another; nothing recorded."""
        server = self.serve()
        yield self.assertFailure(self.get(server, maxBytes=1), BodyTooLarge)
        yield self.get(server)
        self.assertEqual(len(server.connections), 2)
        self.assertEqual(self.pool.fallbacks(), {})

    @inlineCallbacks
    def test_httpsNotKept(self) -> Any:
        """https (DeviceProtection) connections are never kept: each request asks to close and gets its own."""
        server = self.serve()
        port = int(server.url.rpartition(":")[2])  # type: ignore[attr-defined]
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port)
        for _ in range(2):
            use = yield self.pool.getConnection((b"https", b"127.0.0.1", port), endpoint)
            from twisted.web._newclient import Request
            from twisted.web.http_headers import Headers

            headers = Headers({b"host": [b"127.0.0.1"]})
            response = yield use.request(Request._construct(b"GET", b"/", headers, None, persistent=True))
            self.assertEqual(response.code, 200)
        self.assertEqual([h.get("connection") for _, h, _ in server.requests], ["close", "close"])
        self.assertEqual(len(server.connections), 2)
        self.assertEqual(self.pool.idle, 0)

    @inlineCallbacks
    def test_closeCachedConnections(self) -> Any:
        """Closing the pool closes the idle connections (the control point's stop)."""
        server = self.serve()
        yield self.get(server)
        yield self.pool.closeCachedConnections()
        self.assertEqual(self.pool.idle, 0)
        yield server.waitLost(1)


class FallbackForTests(unittest.TestCase):
    def test_byAddress(self) -> None:
        """A device's fallback is found by its address and port, an IPv6 one as the client names it; else ""."""
        from proxier.lan.httpclient import ipv6HostName

        pool = DevicePool(Clock())
        pool._fallback(pool._device(b"192.168.1.7", 49152), "four")
        pool._fallback(pool._device(ipv6HostName("fe80::7").encode("ascii"), 80), "six")
        self.assertEqual((pool.fallbackFor("192.168.1.7", 49152), pool.fallbackFor("fe80::7", 80)), ("four", "six"))
        self.assertEqual((pool.fallbackFor("192.168.1.7", 80), pool.fallbackFor("192.168.1.8", 49152)), ("", ""))
        self.assertEqual(pool.fallbacks(), {"192.168.1.7:49152": "four", "[fe80::7]:80": "six"})

    def test_recordsBounded(self) -> None:
        """Past maxRecords the least recently asked device is forgotten (its flag too), not one holding a connection."""
        pool = DevicePool(Clock(), maxRecords=2)
        pool._fallback(pool._device(b"10.0.0.1", 80), "x")
        pool._device(b"10.0.0.2", 80)
        pool._device(b"10.0.0.3", 80)
        self.assertEqual(pool.fallbackFor("10.0.0.1", 80), "")
        self.assertEqual(len(pool._devices), 2)


class WithoutTreqKeepAliveTests(KeepAliveTests):
    """The same with treq unimportable (OpenWrt): connections kept alive all the same."""

    def setUp(self) -> None:
        withoutTreq(self)
        super().setUp()


class BodyWatchTests(unittest.TestCase):
    def test_letsGo(self) -> None:
        """
        Once the body ended, the watch lets go of the reader (whose transport
        it is) and of its report (which holds the response): with the
        collector off the reader is freed as soon as nobody else holds it,
        after the report was told how the body ended (issue 19).
        """
        import gc
        import weakref

        from twisted.python.failure import Failure
        from twisted.web.client import ResponseDone

        from proxier.lan.keepalive import _BodyWatch

        if gc.isenabled():
            gc.disable()
            self.addCleanup(gc.enable)
        reader = Protocol()
        told: list = []
        watch = _BodyWatch(reader, lambda reason, stopped: told.append((reason.type, stopped)))
        watch.makeConnection(object())
        self.assertIs(reader.transport, watch)
        ref = weakref.ref(reader)
        del reader
        watch.connectionLost(Failure(ResponseDone()))
        self.assertEqual(told, [(ResponseDone, False)])
        self.assertIsNone(ref())
