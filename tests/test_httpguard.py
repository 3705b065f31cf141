"""
Tests for L{proxier.httpguard}: the whole-request deadline, slots taken
from the oldest waiting connection, per-peer limits, body caps and the
rate-limited log line, on fake transports and a L{task.Clock}.
"""

from __future__ import annotations

from twisted.internet.task import Clock
from twisted.logger import LogLevel, globalLogPublisher
from twisted.trial import unittest
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from proxier.httpguard import GuardedSite
from tests._fakehttp import FakeConnection, status


class Echo(Resource):
    """Answers every request with the size of the body it received."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[int] = []

    def render(self, request: object) -> bytes:
        body = request.content.read()  # type: ignore[attr-defined]
        self.bodies.append(len(body))
        return b"%d" % len(body)


class GuardTests(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.resource = Echo()
        self.site = GuardedSite(self.resource, clock=self.clock, maxConnections=4, maxPerPeer=3,
                                requestTimeout=10, maxBody=1000)
        self.logged: list[dict] = []
        globalLogPublisher.addObserver(self.logged.append)
        self.addCleanup(globalLogPublisher.removeObserver, self.logged.append)

    def connect(self, host: str = "192.0.2.10") -> FakeConnection:
        return FakeConnection(self.site, host)

    def slow(self, host: str = "192.0.2.10") -> FakeConnection:
        """A connection that has begun a request (as a slowloris does at once) and stops there."""
        connection = self.connect(host)
        connection.send(b"GET / HT")
        return connection

    def warnings(self) -> list[dict]:
        return [e for e in self.logged if e.get("log_level") == LogLevel.warn and "name" in e]

    def test_deadlineCountsTheWholeRequest(self) -> None:
        """
        A client sending a byte every 2 s is closed when the whole request is
        not in after the deadline, though no gap between bytes ever reached the
        idle timeout (the idle timer restarts on every byte; this one does not).
        """
        slow = self.connect()
        request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        for i in range(5):
            slow.send(request[i:i + 1])
            self.clock.advance(2)
        self.assertTrue(slow.closing)
        self.assertEqual(self.site.counts["slow"], 1)
        self.assertEqual(self.site.openConnections, 0)

    def test_deadlineRestartsAfterEachResponse(self) -> None:
        """A kept-alive connection gets the full deadline again for each request, none while being served."""
        client = self.connect()
        for _ in range(3):
            self.clock.advance(9)
            self.assertEqual(status(client.request("GET", "/")), 200)
        self.assertFalse(client.closing)
        self.clock.advance(10)
        self.assertTrue(client.closing)

    def test_newConnectionEvictsOldestWaiting(self) -> None:
        """
        With every slot taken, a new connection takes the slot of the oldest
        connection still sending its request — not of one being served — and
        is refused only when every slot is serving.
        """
        hosts = ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"]
        first, second, third, fourth = (self.slow(h) for h in hosts)
        fresh = self.connect("192.0.2.5")
        self.assertFalse(fresh.refused)
        self.assertTrue(first.closing)
        self.assertFalse(any(c.closing for c in (second, third, fourth)))
        self.assertEqual(status(fresh.request("GET", "/")), 200)
        self.assertEqual(self.site.counts["evicted"], 1)

    def test_silentNewcomersHaveTheirChance(self) -> None:
        """
        A connection just accepted that has sent nothing yet is not pushed out
        by the next newcomer (in a burst of connections it has not been read
        yet): the newcomer is refused — until the grace is over, or the silent
        one is the oldest of those that sent something.
        """
        older = self.slow("192.0.2.1")
        silent = [self.connect(h) for h in ("192.0.2.2", "192.0.2.3", "192.0.2.4")]
        self.assertFalse(self.connect("192.0.2.5").refused)  # takes the slot of the one that sent something
        self.assertTrue(older.closing)
        self.assertTrue(self.connect("192.0.2.6").refused)
        self.assertFalse(any(c.closing for c in silent))
        self.clock.advance(self.site.grace)
        self.assertFalse(self.connect("192.0.2.7").refused)
        self.assertTrue(silent[0].closing)
        self.assertEqual((self.site.counts["evicted"], self.site.counts["refused"]), (2, 1))

    def test_servingConnectionsAreNeverEvicted(self) -> None:
        """Connections whose request is being answered keep their slot; a newcomer is refused instead."""
        self.resource.render = lambda request: NOT_DONE_YET
        busy = [self.connect(h) for h in ("192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4")]
        for client in busy:
            client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        extra = self.connect("192.0.2.9")
        self.assertTrue(extra.refused)
        self.assertFalse(any(c.closing for c in busy))
        self.clock.advance(3600)  # no deadline while serving
        self.assertFalse(any(c.closing for c in busy))
        self.assertEqual(self.site.counts["refused"], 1)

    def test_perPeerLimit(self) -> None:
        """
        One address holds at most maxPerPeer connections: its fourth takes the
        place of its own oldest waiting one, and other peers are untouched.
        """
        other = self.slow("192.0.2.99")
        mine = [self.slow("192.0.2.10") for _ in range(3)]
        fourth = self.connect("192.0.2.10")
        self.assertFalse(fourth.refused)
        self.assertEqual([c.closing for c in mine], [True, False, False])
        self.assertFalse(other.closing)
        self.assertEqual(self.site.openConnections, 4)

    def test_closedConnectionsFreeTheirSlot(self) -> None:
        """A connection that ends (here after its answer) no longer counts."""
        client = self.connect()
        client.send(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
        self.assertTrue(client.closing)
        client.finish()
        self.assertEqual(self.site.openConnections, 0)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_declaredBodyTooLarge(self) -> None:
        """A Content-Length over the cap is answered 413 as soon as the head is in; nothing is read or kept."""
        client = self.connect()
        client.send(b"POST / HTTP/1.1\r\nContent-Length: 104857600\r\n\r\n")
        answer = client.received()
        self.assertEqual(status(answer), 413)
        self.assertTrue(client.closing)
        self.assertEqual(self.resource.bodies, [])
        self.assertEqual(self.site.counts["large"], 1)

    def test_chunkedBodyTooLarge(self) -> None:
        """A chunked body is cut off with 413 the moment it passes the cap, never buffered whole."""
        client = self.connect()
        client.send(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
        sent = 0
        while not client.closing and sent < 100 * 1024 * 1024:
            client.send(b"100\r\n" + b"x" * 256 + b"\r\n")
            sent += 256
        self.assertLessEqual(sent, 1000 + 256)
        self.assertEqual(status(client.received()), 413)
        self.assertEqual(self.resource.bodies, [])

    def test_bodyWithinCapKept(self) -> None:
        """A body within the cap reaches the resource whole, chunked or not."""
        client = self.connect()
        self.assertEqual(client.request("POST", "/", body=b"y" * 1000).rsplit(b"\r\n", 1)[1], b"1000")
        client.send(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        self.assertEqual(self.resource.bodies, [1000, 5])

    def test_idleKeptAliveIsNoPressure(self) -> None:
        """
        A kept-alive connection that sends nothing after its answer is closed
        at the deadline quietly (an idle close, as between a device's NOTIFYs);
        one that starts its next request and stalls is still too slow.
        """
        idle = self.connect()
        self.assertEqual(status(idle.request("GET", "/")), 200)
        self.clock.advance(10)
        self.assertTrue(idle.closing)
        self.assertEqual((self.site.counts["slow"], self.warnings()), (0, []))
        self.assertEqual(self.site.openConnections, 0)
        stalled = self.connect("192.0.2.11")
        self.assertEqual(status(stalled.request("GET", "/")), 200)
        stalled.send(b"GET / HT")
        self.clock.advance(10)
        self.assertTrue(stalled.closing)
        self.assertEqual(self.site.counts["slow"], 1)

    def test_logRateLimited(self) -> None:
        """Seventy evictions and refusals in a minute make one warning; the next minute's first makes one more, with counts."""
        for i in range(70):
            self.slow(f"192.0.2.{i + 1}")
        self.assertEqual(len(self.warnings()), 1)
        self.clock.advance(11)  # the four left waiting time out: counted, not logged yet
        self.clock.advance(50)
        self.slow("192.0.2.200")  # the four waiting ones timed out meanwhile: no eviction now
        for i in range(5):
            self.slow(f"198.51.100.{i + 1}")
        self.assertEqual(len(self.warnings()), 2)
        self.assertEqual((self.warnings()[1]["slow"], self.warnings()[1]["evicted"]), (4, 66))

    def test_pipelinedRequests(self) -> None:
        """Two requests in one packet are both answered; the connection then waits, with a fresh deadline, for more."""
        client = self.connect()
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nPOST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
        self.assertEqual(client.received().count(b"HTTP/1.1 200"), 2)
        self.assertEqual(self.resource.bodies, [0, 3])
        self.assertEqual(list(self.site._waiting), [client.protocol])
        self.clock.advance(10)
        self.assertTrue(client.closing)

    def test_ipv6PeersByPrefix(self) -> None:
        """
        With ipv6PeerPrefix 64, the addresses of one /64 are one peer (a host
        may take any of them); with 128 (the default, for a LAN) each address
        is its own.
        """
        self.site.ipv6PeerPrefix = 64
        self.assertEqual(self.site.peer("2001:db8:1:2::5"), self.site.peer("2001:db8:1:2:abcd::9"))
        self.assertNotEqual(self.site.peer("2001:db8:1:2::5"), self.site.peer("2001:db8:1:3::5"))
        self.assertEqual(self.site.peer("192.0.2.1"), "192.0.2.1")
        self.assertEqual(self.site.peer("fe80::1%eth0"), "fe80::/64")
        mine = [self.slow(f"2001:db8:1:2::{i + 1}") for i in range(3)]
        fourth = FakeConnection(self.site, "2001:db8:1:2::99")
        self.assertEqual([c.closing for c in mine], [True, False, False])
        self.assertFalse(fourth.closing)
        self.site.ipv6PeerPrefix = 128
        self.assertNotEqual(self.site.peer("2001:db8:1:2::5"), self.site.peer("2001:db8:1:2::6"))

    def test_burstWaitsForASlot(self) -> None:
        """
        With maxWaiting, a newcomer finding every slot held by connections not
        read yet waits, unread, instead of being refused or pushing one out;
        the oldest waiting gets the first slot freed, with a whole deadline;
        past the queue, the refusal is as before.
        """
        self.site.maxWaiting = 2
        pending: list = []
        self.resource.render = lambda request: pending.append(request) or NOT_DONE_YET
        fresh = [self.connect(f"192.0.2.{i + 1}") for i in range(4)]
        queued = [self.connect(f"192.0.2.{i + 11}") for i in range(2)]
        self.assertFalse(any(c.closing for c in fresh + queued))
        self.assertEqual([c.transport.producerState for c in queued], ["paused", "paused"])
        self.assertEqual((self.site.openConnections, self.site.queuedConnections), (4, 2))
        self.assertTrue(self.connect("192.0.2.30").refused)
        for client in fresh:  # they are read first (being served keeps a slot for good)
            client.send(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
        self.clock.advance(5)
        pending[0].finish()
        self.assertEqual(status(fresh[0].received()), 200)
        fresh[0].finish()
        self.assertEqual(queued[0].transport.producerState, "producing")
        self.assertEqual(queued[1].transport.producerState, "paused")
        self.clock.advance(5)  # the second waited its requestTimeout: refused; the first has a deadline of its own
        self.assertTrue(queued[1].closing)
        self.assertFalse(queued[0].closing)
        queued[0].send(b"GET / HTTP/1.1\r\n\r\n")
        pending[-1].finish()
        self.assertEqual(status(queued[0].received()), 200)
        self.assertEqual((self.site.counts["queued"], self.site.counts["refused"], self.site.counts["evicted"]),
                         (2, 2, 0))

    def test_burstStillEvictsStalledRequests(self) -> None:
        """
        With maxWaiting, a connection that began its request and stalls still
        gives its slot to a newcomer (a slowloris does not make devices wait);
        a fresh silent one past the grace does only when the queue is full.
        """
        self.site.maxWaiting = 1
        stalled = self.slow("192.0.2.1")
        silent = [self.connect(f"192.0.2.{i + 2}") for i in range(3)]
        self.clock.advance(self.site.grace)
        newcomer = self.connect("192.0.2.9")
        self.assertTrue(stalled.closing)
        self.assertEqual(self.site.queuedConnections, 0)
        self.assertFalse(self.connect("192.0.2.10").closing)  # queued: the silent ones keep their slots
        self.assertEqual(self.site.queuedConnections, 1)
        self.assertFalse(any(c.closing for c in silent + [newcomer]))
        self.connect("192.0.2.11")  # the queue is full: the oldest silent one goes, its slot to the queued one
        self.assertTrue(silent[0].closing)
        self.assertEqual((self.site.openConnections, self.site.queuedConnections), (4, 1))

    def test_lostConnectionsTold(self) -> None:
        """
        C{lost} hears of each connection closed unserved, with the request
        target once its line came; not of an idle kept-alive one.
        """
        lost: list = []
        self.site.lost = lambda address, target, what: lost.append((address, target, what))
        idle = self.connect("192.0.2.1")
        idle.request("GET", "/a")
        named = self.connect("192.0.2.2")
        named.send(b"NOTIFY /gena/t HTTP/1.1\r\nHost: x\r\n")
        self.clock.advance(10)
        self.assertEqual(lost, [("192.0.2.2", b"/gena/t", "slow")])
        self.assertTrue(idle.closing)
        busy = [self.slow(f"192.0.2.{i + 3}") for i in range(4)]
        busy.append(self.connect("192.0.2.9"))
        self.assertEqual(lost[1:], [("192.0.2.3", None, "evicted")])  # no whole line yet
        self.resource.render = lambda request: NOT_DONE_YET
        for client in busy[1:4]:
            client.send(b"TP/1.1\r\n\r\n")
        busy[4].send(b"GET / HTTP/1.1\r\n\r\n")
        self.assertTrue(self.connect("192.0.2.11").refused)
        self.assertEqual(lost[2:], [("192.0.2.11", None, "refused")])

    def test_cutOffBodyEndingInTheSameRead(self) -> None:
        """A chunked body that passes the cap and ends in the same packet is still refused, never rendered."""
        client = self.connect()
        client.send(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"800\r\n" + b"x" * 0x800 + b"\r\n0\r\n\r\n")
        answer = client.received()
        self.assertEqual(status(answer), 413)
        self.assertNotIn(b"200", answer)
        self.assertEqual(self.resource.bodies, [])

    def test_randomInputsKeepTheBooksRight(self) -> None:
        """
        Random request-shaped input (heads cut anywhere, bad chunk sizes,
        pipelined requests, bodies around the cap, garbage), split at random
        and mixed with the clock moving: nothing raises, every connection is
        answered or closed, and once all are gone nothing is counted or timed.
        """
        import random

        rng = random.Random(11)
        pieces = [b"GET / HTTP/1.1\r\n", b"Host: x\r\n", b"\r\n", b"POST / HTTP/1.1\r\n", b"Content-Length: 5\r\n",
                  b"Content-Length: 99999\r\n", b"Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n", b"0\r\n\r\n",
                  b"zz\r\n", b"3e9\r\n" + b"q" * 1001, b"abcde", b"\x00\xff" * 10, b"X: " + b"y" * 20000 + b"\r\n",
                  b"Connection: close\r\n", b"Expect: 100-continue\r\n", b"GET /\r\n"]
        connections = []
        for n in range(300):
            client = self.connect(f"192.0.2.{rng.randrange(1, 9)}")
            connections.append(client)
            stream = rng.choice(pieces[:1] + pieces[3:4]) + b"".join(  # a request line, headers, a blank line
                rng.choice(pieces) for _ in range(rng.randrange(0, 4))) + b"\r\n" + b"".join(
                rng.choice(pieces) for _ in range(rng.randrange(0, 4)))  # then anything: body, next request
            cut = sorted(rng.sample(range(len(stream) + 1), min(3, len(stream) + 1)))
            for a, b in zip([0] + cut, cut + [len(stream)]):
                client.send(stream[a:b])
            if rng.random() < 0.3:
                self.clock.advance(rng.choice((0.1, 1, 5, 11)))
            for c in connections:
                if c.closing and not c.refused:
                    c.finish()
        self.clock.advance(11)
        answers = b"".join(c.transport.value() for c in connections)
        for code in (b"200", b"400", b"413"):
            self.assertIn(b"HTTP/1.1 " + code, answers)  # the inputs reached each outcome
        self.assertGreater(self.site.counts["slow"] + self.site.counts["evicted"], 0)
        for c in connections:
            c.finish()
        self.assertEqual(self.site.openConnections, 0)
        self.assertEqual(list(self.site._waiting), [])
        self.assertEqual([call for call in self.clock.getDelayedCalls()
                          if call.func.__name__ == "_tooSlow"], [])
