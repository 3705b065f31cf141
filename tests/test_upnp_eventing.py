"""Tests for L{proxier.upnp.eventing}: the GENA subscription state machine and the callback server."""

from __future__ import annotations

import ipaddress
import random

from twisted.internet import defer, reactor, task
from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.trial import unittest
from twisted.web.client import Agent, HTTPConnectionPool
from treq.client import HTTPClient
from treq.testing import StubTreq

from proxier.upnp import gena
from proxier.upnp.eventing import (ASSUMED_TIMEOUT, INITIAL_EVENT_DUE, LOST_INTERVAL, MAX_GAPS, RETRY_DELAYS,
                                   CallbackServer, Subscription, SubscriptionTerms, renewDelay)
from proxier.upnp.gena import INFINITE, EventMessage
from proxier.lan.httpclient import Requester
from proxier.lan.netif import NetworkInterface
from proxier.lan.urlpolicy import Origin, URLPolicy

from ._fakehttp import FakeConnection, status
from .test_upnp_fakes import FakeDMDevice
from .test_lan_urlpolicy import LAN, resolverOf

ORIGIN = Origin("192.168.1.20", LAN)
DEVICE = IPv4Address("TCP", "192.168.1.20", 40000)
STRANGER = IPv4Address("TCP", "192.168.1.66", 40000)


class FakePort:
    def __init__(self, interface: str, number: int) -> None:
        self.interface, self.number, self.stopped = interface, number, False

    def getHost(self) -> IPv4Address:
        return IPv4Address("TCP", self.interface, self.number)

    def stopListening(self) -> None:
        self.stopped = True


class Listens:
    def __init__(self) -> None:
        self.calls: list = []

    def __call__(self, port: int, factory: object, backlog: int = 50, interface: str = "") -> FakePort:
        self.calls.append((port, interface))
        self.backlog = backlog
        return FakePort(interface, 41000 + len(self.calls))


class Owner:
    def __init__(self) -> None:
        self.events: list = []
        self.stale: list = []

    def eventReceived(self, subscription: Subscription, variables: list) -> None:
        self.events.append(variables)

    def stateMayBeStale(self, subscription: Subscription, reason: str) -> None:
        self.stale.append(reason)


def notifyHeaders(sid: str, seq: int) -> dict:
    return {"NT": "upnp:event", "NTS": "upnp:propchange", "SID": sid, "SEQ": str(seq)}


class SubscriptionTests(unittest.TestCase):
    def setUp(self) -> None:
        self.device = FakeDMDevice()
        self.publisher = self.device.publishers[b"/event/cms"]
        self.stub = StubTreq(self.device)
        self.clock = Clock()
        policy = URLPolicy(resolverOf({}))
        self.listens = Listens()
        self.server = CallbackServer(self.clock, self.listens)
        self.owner = Owner()
        target = policy.checkAddressLiteral("http://192.168.1.20:49152/event/cms", ORIGIN)
        terms = SubscriptionTerms(self.server, Requester(self.stub, self.clock, policy), self.clock,
                                  requestedTimeout=1800, pollInterval=60, rng=random.Random(4))
        self.sub = Subscription(terms, target, ORIGIN, self.owner, localAddress="192.168.1.1", label="cms")
        self.settled: list = []

    def start(self) -> None:
        self.sub.start().addCallback(self.settled.append)
        self.stub.flush()

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.stub.flush()

    def event(self, seq: int, sid: object = None, peer: IPv4Address = DEVICE, **variables: str) -> int:
        message = EventMessage(sid or self.sub.sid, seq, tuple(variables.items()) or (("A", str(seq)),))
        path = b"/gena/" + (self.sub.token or "none").encode()
        return self.server.notify(path, peer, message.headers(), message.body())

    def test_subscribe(self) -> None:
        """SUBSCRIBE carries the callback URL on a fresh path, NT and TIMEOUT; the SID and grant are kept."""
        self.start()
        method, headers = self.publisher.requests[0]
        self.assertEqual(method, b"SUBSCRIBE")
        self.assertEqual(headers["nt"], "upnp:event")
        self.assertEqual(headers["timeout"], "Second-1800")
        url = gena.parseCallback(headers["callback"])[0]
        self.assertEqual(url, f"http://192.168.1.1:41001/gena/{self.sub.token}")
        self.assertGreaterEqual(len(self.sub.token), 24)
        self.assertEqual((self.sub.state, self.sub.sid, self.sub.granted), ("subscribed", "uuid:sid-1", 300))
        self.assertEqual(self.settled, ["subscribed"])
        self.assertEqual(self.listens.calls, [(0, "192.168.1.1")])
        self.assertEqual(self.owner.stale, [])

    def test_renewal(self) -> None:
        """The renewal goes at about half the grant with the SID and no CALLBACK, and is re-armed."""
        self.start()
        delay = renewDelay(300, random.Random(4))
        self.advance(delay - 0.5)
        self.assertEqual(len(self.publisher.requests), 1)
        self.advance(1)
        method, headers = self.publisher.requests[1]
        self.assertEqual((headers["sid"], headers.get("callback")), ("uuid:sid-1", None))
        self.assertEqual((self.sub.state, self.sub.sid), ("subscribed", "uuid:sid-1"))
        self.advance(150)
        self.assertEqual(len(self.publisher.requests), 3)

    def test_renewRefused(self) -> None:
        """A renewal answered 412 or 404, or failing, leads to a new SUBSCRIBE on a new path, and state may be stale."""
        for status in (412, 404, 500):
            self.setUp()
            self.start()
            self.event(0)
            token = self.sub.token
            self.publisher.refuseRenew = status
            self.advance(160)
            self.assertEqual((self.sub.state, self.sub.sid), ("subscribed", "uuid:sid-2"), status)
            self.assertNotEqual(self.sub.token, token)
            self.assertNotIn(token, self.server.subscriptions)
            self.assertEqual(self.owner.stale, ["resubscribed"])
            self.assertIn(b"UNSUBSCRIBE", [m for m, _ in self.publisher.requests])

    def test_renewNow(self) -> None:
        """renewNow renews at once, counts the renewal, and re-arms the timer; outside 'subscribed' it does nothing."""
        self.assertFalse(self.sub.renewNow())
        self.start()
        self.event(0)
        self.assertTrue(self.sub.renewNow())
        self.stub.flush()
        self.assertEqual((self.sub.state, self.sub.renewals, len(self.publisher.requests)), ("subscribed", 1, 2))
        self.assertEqual(len([c for c in self.clock.getDelayedCalls() if c.active()]), 1)

    def test_unreachableSignalled(self) -> None:
        """A renewal with no answer at all tells the owner the device may be gone; a refusal (412) does not."""
        calls = []
        self.owner.unreachable = lambda sub, why: calls.append(why)
        self.start()
        self.publisher.refuseRenew = 412
        self.sub.renewNow()
        self.stub.flush()
        self.assertEqual(calls, [])
        self.publisher.refuseRenew = None
        self.publisher.hold = True
        self.sub.renewNow()
        self.stub.flush()
        self.advance(11)  # the renewal's deadline passes
        self.assertEqual(len(calls), 1)
        self.assertIn("no answer within", calls[0])

    def test_neverSubscribedNotUnreachable(self) -> None:
        """A device that never accepted a subscription is not reported unreachable for it."""
        calls = []
        self.owner.unreachable = lambda sub, why: calls.append(why)
        self.publisher.hold = True
        self.sub.start()
        self.stub.flush()
        self.advance(11)
        self.assertEqual((self.sub.state, calls), ("polling", []))

    def test_quirkyGrants(self) -> None:
        """Bare TIMEOUT, a SID without uuid:, and no TIMEOUT at all (assumed 300 s) are all held."""
        self.publisher.granted = "1800"
        self.publisher.sidPrefix = "sid-without-uuid-"
        self.start()
        self.assertEqual((self.sub.sid, self.sub.granted), ("sid-without-uuid-1", 1800))
        self.setUp()
        self.publisher.granted = None
        self.start()
        self.assertEqual(self.sub.granted, ASSUMED_TIMEOUT)
        self.setUp()
        self.publisher.granted = "Second-infinite"
        self.start()
        self.assertIs(self.sub.granted, INFINITE)
        self.advance(renewDelay(INFINITE, random.Random(4)) + 1)
        self.assertEqual(len(self.publisher.requests), 2)

    def test_events(self) -> None:
        """Events in SEQ order are delivered; a duplicate is dropped; SEQ wraps to 1."""
        self.start()
        self.assertEqual(self.event(0, A="x"), 200)
        self.assertEqual(self.event(1), 200)
        self.assertEqual(self.event(1), 200)
        self.assertEqual(self.owner.events, [[("A", "x")], [("A", "1")]])
        self.sub.expectedSeq = gena.MAX_SEQ
        self.event(gena.MAX_SEQ)
        self.event(1)
        self.assertEqual(len(self.owner.events), 4)
        self.assertEqual(self.owner.stale, [])

    def test_firstSeqNotZero(self) -> None:
        """
        A device whose first event is not SEQ 0 is followed from there, not
        resubscribed forever; the initial event (all the variables) was lost,
        so the state is read once.
        """
        self.start()
        self.event(5)
        self.event(6)
        self.assertEqual(len(self.owner.events), 2)
        self.assertEqual(self.owner.stale, ["seq-gap"])
        self.assertEqual(len(self.publisher.requests), 1)

    def test_noInitialEvent(self) -> None:
        """No event INITIAL_EVENT_DUE seconds after the SUBSCRIBE answer: the state is read, once."""
        self.start()
        self.advance(INITIAL_EVENT_DUE - 1)
        self.assertEqual(self.owner.stale, [])
        self.advance(1)
        self.assertEqual(self.owner.stale, ["no-initial-event"])
        self.advance(INITIAL_EVENT_DUE)
        self.assertEqual(self.owner.stale, ["no-initial-event"])
        self.setUp()
        self.start()
        self.event(0)
        self.advance(INITIAL_EVENT_DUE)
        self.assertEqual(self.owner.stale, [])

    def test_lostEventsRateLimited(self) -> None:
        """
        Losses reported by the server: the state is read at once, then at most
        once per LOST_INTERVAL — a loss within it gets one read at its end
        (so a read always begins after the loss) — and none once stopped.
        """
        self.start()
        self.event(0)
        self.sub.eventsMayBeLost("NOTIFY refused")
        self.assertEqual(self.owner.stale, ["lost"])
        self.advance(1)
        self.sub.eventsMayBeLost("NOTIFY refused")
        self.sub.eventsMayBeLost("NOTIFY evicted")
        self.assertEqual(self.owner.stale, ["lost"])
        self.advance(LOST_INTERVAL - 1)
        self.assertEqual(self.owner.stale, ["lost", "lost"])
        self.advance(1)
        self.sub.eventsMayBeLost("NOTIFY refused")  # within the interval again: put off
        self.sub.stop(unsubscribe=False)
        self.advance(LOST_INTERVAL)
        self.assertEqual(self.owner.stale, ["lost", "lost"])
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_seqGap(self) -> None:
        """A SEQ gap: state may be stale, UNSUBSCRIBE the old SID, SUBSCRIBE again."""
        self.start()
        self.event(0)
        self.event(3)
        self.assertEqual(self.owner.stale, ["seq-gap", "resubscribed"])
        self.assertEqual(len(self.owner.events), 1)
        methods = [(m, h.get("sid")) for m, h in self.publisher.requests]
        self.assertIn((b"UNSUBSCRIBE", "uuid:sid-1"), methods)
        self.assertEqual(self.sub.sid, "uuid:sid-2")

    def test_tooManyGaps(self) -> None:
        """More than MAX_GAPS gaps within the window: events are not trusted, the device is polled."""
        self.start()
        for _ in range(MAX_GAPS + 1):
            self.event(0)
            self.event(7)
        self.assertEqual(self.sub.state, "polling")

    def test_refusedThenPolled(self) -> None:
        """A device refusing SUBSCRIBE is polled on a timer and asked again with growing delays."""
        self.publisher.refuse = 501
        self.start()
        self.assertEqual((self.sub.state, self.settled), ("polling", ["polling"]))
        self.advance(RETRY_DELAYS[0])
        self.assertEqual(len(self.publisher.requests), 2)
        self.advance(30)
        self.assertEqual(self.owner.stale, ["poll"])
        self.advance(RETRY_DELAYS[1] - 30)
        self.assertEqual(len(self.publisher.requests), 3)
        self.publisher.refuse = None
        self.advance(RETRY_DELAYS[2])
        self.assertEqual(self.sub.state, "subscribed")
        polls = self.owner.stale.count("poll")
        self.assertNotIn("resubscribed", self.owner.stale)  # the first subscription: its initial event is the state
        self.advance(600)
        self.assertEqual(self.owner.stale.count("poll"), polls)

    def test_backlog(self) -> None:
        """An event arriving before the SUBSCRIBE answer is kept and delivered once the SID is known."""
        self.publisher.hold = True
        self.sub.start()
        self.stub.flush()
        self.assertEqual(self.sub.state, "subscribing")
        self.assertEqual(self.event(0, sid="uuid:sid-1"), 200)
        self.assertEqual(self.event(0, sid="uuid:other"), 200)
        self.assertEqual(self.owner.events, [])
        held = self.publisher.held.pop()
        held.finish()
        self.stub.flush()
        self.assertEqual(self.sub.state, "subscribed")
        self.assertEqual(self.owner.events, [[("A", "0")]])

    def test_backlogExpires(self) -> None:
        """Kept events older than the backlog time are dropped."""
        self.publisher.hold = True
        self.sub.start()
        self.stub.flush()
        self.event(0, sid="uuid:sid-1")
        self.clock.advance(6)
        self.publisher.held.pop().finish()
        self.stub.flush()
        self.assertEqual(self.owner.events, [])

    def test_backlogBounded(self) -> None:
        """The backlog of one path is bounded; beyond it NOTIFY is refused."""
        self.publisher.hold = True
        self.sub.start()
        self.stub.flush()
        statuses = [self.event(i, sid="uuid:sid-1") for i in range(20)]
        self.assertEqual(statuses.count(200), 16)
        self.assertEqual(statuses[-1], 412)

    def test_stop(self) -> None:
        """stop() sends UNSUBSCRIBE, releases the path, and no timer fires afterwards."""
        self.start()
        token = self.sub.token
        self.sub.stop()
        self.stub.flush()
        self.assertEqual(self.publisher.requests[-1], (b"UNSUBSCRIBE", self.publisher.requests[-1][1]))
        self.assertEqual(self.publisher.requests[-1][1]["sid"], "uuid:sid-1")
        self.assertEqual(self.sub.state, "closed")
        self.assertEqual(self.server.notify(b"/gena/" + token.encode(), DEVICE, notifyHeaders("uuid:sid-1", 0), b""), 412)
        count = len(self.publisher.requests)
        self.advance(10000)
        self.assertEqual(len(self.publisher.requests), count)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_stopWhilePolling(self) -> None:
        """stop() while polling cancels every timer and sends nothing."""
        self.publisher.refuse = 500
        self.start()
        self.sub.stop()
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_startTwice(self) -> None:
        """start() on a running subscription only reports its state."""
        self.start()
        results: list = []
        self.sub.start().addCallback(results.append)
        self.assertEqual(results, ["subscribed"])
        self.assertEqual(len(self.publisher.requests), 1)


class RenewDelayTests(unittest.TestCase):
    def test_bounds(self) -> None:
        """About half of the grant, never later than N-10 s, never sooner than 1 s."""
        rng = random.Random(1)
        for granted, low, high in ((1800, 720, 900), (300, 120, 150), (30, 12, 15), (22, 8.8, 11), (15, 6, 7.5),
                                   (2, 1, 1), (INFINITE, 720, 900)):
            for _ in range(50):
                delay = renewDelay(granted, rng)
                self.assertTrue(low <= delay <= high, (granted, delay))
                if granted is not INFINITE and granted > 20:
                    self.assertLessEqual(delay, granted - 10)

    def test_jitter(self) -> None:
        """Two subscriptions with the same grant do not renew in lockstep."""
        rng = random.Random(2)
        self.assertGreater(len({round(renewDelay(1800, rng), 3) for _ in range(20)}), 15)


class CallbackServerTests(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.listens = Listens()
        self.server = CallbackServer(self.clock, self.listens)
        self.owner = Owner()
        policy = URLPolicy(resolverOf({}))
        target = policy.checkAddressLiteral("http://192.168.1.20:49152/event/cms", ORIGIN)
        self.sub = Subscription(SubscriptionTerms(self.server, None, self.clock), target, ORIGIN, self.owner,
                                localAddress="192.168.1.1")
        self.sub.state, self.sub.sid = "subscribed", "uuid:s"
        self.token = self.server.register(self.sub)
        self.path = b"/gena/" + self.token.encode()

    def test_refusals(self) -> None:
        """Unknown path 412, a stranger 403, missing NT 400, wrong NTS 412, missing SID 412, not our SID 412."""
        body = gena.encodePropertySet({"A": "1"})
        good = notifyHeaders("uuid:s", 0)
        rows = (
            (b"/gena/unknown", DEVICE, good, 412),
            (b"/other", DEVICE, good, 412),
            (self.path, STRANGER, good, 403),
            (self.path, DEVICE, {k: v for k, v in good.items() if k != "NT"}, 400),
            (self.path, DEVICE, dict(good, NTS="upnp:other"), 412),
            (self.path, DEVICE, {k: v for k, v in good.items() if k != "SID"}, 412),
            (self.path, DEVICE, {k: v for k, v in good.items() if k != "SEQ"}, 400),
            (self.path, DEVICE, dict(good, SID="uuid:not-ours"), 412),
        )
        for path, peer, headers, status in rows:
            self.assertEqual(self.server.notify(path, peer, headers, body), status, (path, headers))
        self.assertEqual(self.owner.events, [])
        self.assertEqual(self.server.notify(self.path, DEVICE, good, body), 200)
        self.assertEqual(self.owner.events, [[("A", "1")]])
        self.assertEqual(self.server.counts, {"accepted": 1, "backlogged": 0, "refused": 8, "lost": 0})

    def test_seqOfUnicodeDigits(self) -> None:
        """A NOTIFY whose SEQ is '²' or '①' is refused 400 (it was an HTTP 500) and delivers nothing."""
        body = gena.encodePropertySet({"A": "1"})
        for bad in ("²", "①", "١"):
            headers = dict(notifyHeaders("uuid:s", 0), SEQ=bad)
            self.assertEqual(self.server.notify(self.path, DEVICE, headers, body), 400, bad)
        self.assertEqual(self.owner.events, [])

    def test_listenOncePerAddress(self) -> None:
        """One listener per local address, never a wildcard; IPv6 bracketed, link-local bound with its scope."""
        a = self.server.callbackURL("192.168.1.1", "t1")
        b = self.server.callbackURL("192.168.1.1", "t2")
        c = self.server.callbackURL("fe80::1", "t3", scope="br-lan")
        self.assertEqual(a.rpartition("/")[0], b.rpartition("/")[0])
        self.assertEqual(c, "http://[fe80::1]:41002/gena/t3")
        self.assertEqual(self.listens.calls, [(0, "192.168.1.1"), (0, "fe80::1%br-lan")])
        self.server.stop()
        self.assertEqual(self.server.listeners, {})


class RealCallbackServerTests(unittest.TestCase):
    """The callback resource over a real loopback socket."""

    def setUp(self) -> None:
        self.server = CallbackServer(reactor, reactor.listenTCP)
        self.owner = Owner()
        origin = Origin("127.0.0.1", None, loopbackMode=True)
        target = URLPolicy(resolverOf({})).checkAddressLiteral("http://127.0.0.1:1/e", origin)
        self.sub = Subscription(SubscriptionTerms(self.server, None, reactor), target, origin, self.owner,
                                localAddress="127.0.0.1")
        self.sub.state, self.sub.sid = "subscribed", "uuid:s"
        self.url = self.server.callbackURL("127.0.0.1", self.server.register(self.sub))
        self.addCleanup(self.server.stop)
        self.client = HTTPClient(Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False)))

    def notify(self, body: bytes, **headers: str):  # noqa: ANN201
        hdrs = notifyHeaders("uuid:s", 0)
        hdrs.update(headers, Connection="close")
        return self.client.request("NOTIFY", self.url, headers=hdrs, data=body, timeout=10)

    def test_notify(self) -> None:
        """A NOTIFY over HTTP is answered 200 and delivered; GET is 405."""
        d = self.notify(gena.encodePropertySet({"ConfigurationUpdate": "1,/A"}))
        d.addCallback(lambda r: self.assertEqual(r.code, 200))
        d.addCallback(lambda _: self.assertEqual(self.owner.events, [[("ConfigurationUpdate", "1,/A")]]))
        d.addCallback(lambda _: self.client.get(self.url, headers={"Connection": "close"}, timeout=10))
        d.addCallback(lambda r: self.assertEqual(r.code, 405))
        return d

    @defer.inlineCallbacks
    def test_keepAlive(self) -> None:
        """
        A device that keeps its connection sends its next NOTIFY on it: one
        connection for two events; idle, it is closed at the deadline.
        """
        pool = HTTPConnectionPool(reactor, persistent=True)
        self.addCleanup(pool.closeCachedConnections)
        client = HTTPClient(Agent(reactor, pool=pool))
        accepted: list = []
        build = self.server.site.buildProtocol
        self.patch(self.server.site, "buildProtocol", lambda addr: accepted.append(addr) or build(addr))
        self.server.site.requestTimeout = 0.5
        for seq in (0, 1):
            response = yield client.request("NOTIFY", self.url, headers=notifyHeaders("uuid:s", seq),
                                            data=gena.encodePropertySet({"A": str(seq)}), timeout=10)
            self.assertEqual(response.code, 200)
            yield response.content()
        self.assertEqual(len(accepted), 1)
        self.assertEqual(self.owner.events, [[("A", "0")], [("A", "1")]])
        self.assertEqual(self.server.site.openConnections, 1)
        yield task.deferLater(reactor, 1.0, lambda: None)
        self.assertEqual(self.server.site.openConnections, 0)
        self.assertEqual(self.server.counts["lost"], 0)

    def test_bodyCap(self) -> None:
        """A body over the cap gets the connection dropped, and nothing is delivered."""
        self.server.site.maxBody = 1000
        d = self.notify(gena.encodePropertySet({"A": "x" * 5000}))

        def done(result: object) -> None:
            self.assertEqual(self.owner.events, [])
            if hasattr(result, "code"):
                self.assertNotEqual(result.code, 200)

        return d.addBoth(done)



class ReentrancyTests(unittest.TestCase):
    """An owner may stop its subscription from inside any callback."""

    def setUp(self) -> None:
        base = SubscriptionTests("test_subscribe")
        base.setUp()
        self.base = base

    def test_stopWhenSettled(self) -> None:
        """Stopping from the start() callback (the device became ready, the service stops) leaves no error and no timer."""
        base = self.base
        d = base.sub.start()
        d.addCallback(lambda _: base.sub.stop())
        base.stub.flush()
        self.assertEqual(base.sub.state, "closed")
        base.stub.flush()
        self.assertEqual(base.clock.getDelayedCalls(), [])

    def test_stopOnGap(self) -> None:
        """Stopping from stateMayBeStale after a SEQ gap does not subscribe again."""
        base = self.base
        base.owner.stateMayBeStale = lambda sub, reason: sub.stop()
        base.start()
        base.event(0)
        count = len(base.publisher.requests)
        base.event(5)
        base.stub.flush()
        self.assertEqual(base.sub.state, "closed")
        self.assertEqual([m for m, _ in base.publisher.requests[count:]], [b"UNSUBSCRIBE"])


class ConnectionCapTests(unittest.TestCase):
    def test_cap(self) -> None:
        """
        The callback site queues connections beyond its cap up to maxWaiting,
        refuses beyond, and gives a slot freed to the oldest queued.
        """
        from twisted.internet.testing import StringTransport

        server = CallbackServer(Clock(), Listens(), maxWaiting=1)
        site = server.site
        site.maxConnections = 2
        address = IPv4Address("TCP", "192.168.1.20", 1)
        first, second, third = site.buildProtocol(address), site.buildProtocol(address), site.buildProtocol(address)
        self.assertEqual(third.state, "queued")
        self.assertIsNone(site.buildProtocol(address))
        from twisted.internet.error import ConnectionDone
        from twisted.python.failure import Failure

        for protocol in (first, third):
            protocol.makeConnection(StringTransport())
        first.connectionLost(Failure(ConnectionDone()))
        self.assertEqual((site.openConnections, site.queuedConnections, third.state), (2, 0, "reading"))
        self.assertIsNotNone(site.buildProtocol(address))
        del second

    def test_listenBacklog(self) -> None:
        """The kernel's accept queue holds a burst as long as the wait queue (within 50 and 4096)."""
        listens = Listens()
        CallbackServer(Clock(), listens, maxWaiting=1024).callbackURL("192.168.1.1", "t")
        self.assertEqual(listens.backlog, 1024)
        CallbackServer(Clock(), listens, maxWaiting=0).callbackURL("192.168.1.1", "t")
        self.assertEqual(listens.backlog, 50)


WIDE_LAN = NetworkInterface("br-lan", 5, addresses=(ipaddress.ip_interface("10.0.0.254/16"),))


class BurstTests(unittest.TestCase):
    """
    1,000 devices subscribed at once each send their initial event (issue
    19): every connection is accepted before any is read, as by a busy
    reactor; the queued ones send once admitted (their bytes wait in the
    kernel meanwhile).
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.server = CallbackServer(self.clock, Listens())
        self.owner = Owner()
        self.policy = URLPolicy(resolverOf({}))

    def subscribe(self, host: str, origin: Origin, i: int) -> str:
        target = self.policy.checkAddressLiteral(f"http://{host}:{49152 + i}/event/cms", origin)
        sub = Subscription(SubscriptionTerms(self.server, None, self.clock), target, origin, self.owner,
                           localAddress=origin.source)
        sub.state, sub.sid = "subscribed", f"uuid:s{i}"
        return "/gena/" + self.server.register(sub)

    def burst(self, hosts: list[str], origin: Origin) -> list:
        paths = [self.subscribe(host, origin, i) for i, host in enumerate(hosts)]
        connections = [FakeConnection(self.server.site, host) for host in hosts]
        requests = {}
        for i, (connection, path) in enumerate(zip(connections, paths)):
            body = gena.encodePropertySet({"A": str(i)})
            headers = "".join(f"{k}: {v}\r\n" for k, v in notifyHeaders(f"uuid:s{i}", 0).items())
            requests[connection] = (f"NOTIFY {path} HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n"
                                    f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        sent = True
        while sent:  # a reactor's turns: each admitted connection is read, answered and closed by its client
            sent = False
            for connection in connections:
                if connection in requests and not connection.closing and \
                        connection.transport.producerState == "producing":
                    connection.send(requests.pop(connection))
                    connection.finish()
                    sent = True
        return connections

    def test_oneEventFromEachOf1000Devices(self) -> None:
        """A thousand NOTIFYs from a thousand LAN addresses: none refused, each delivered."""
        hosts = [f"10.0.{1 + i // 250}.{1 + i % 250}" for i in range(1000)]
        origin = Origin("10.0.1.1", WIDE_LAN)
        connections = self.burst(hosts, origin)
        self.assertEqual(sorted(int(v[0][1]) for v in self.owner.events), list(range(1000)))
        self.assertTrue(all(status(c.transport.value()) == 200 for c in connections))
        self.assertEqual((self.server.site.counts["refused"], self.server.site.counts["evicted"]), (0, 0))
        self.assertGreater(self.server.site.counts["queued"], 900)
        self.assertEqual((self.server.site.openConnections, self.server.site.queuedConnections), (0, 0))
        self.assertEqual(self.owner.stale, [])

    def test_loopbackFleet(self) -> None:
        """
        The same from one loopback address (a simulated fleet, as in the
        benchmarks) is not bounded as one LAN device: none refused.
        """
        origin = Origin("127.0.0.1", None, loopbackMode=True)
        self.burst(["127.0.0.1"] * 1000, origin)
        self.assertEqual(len(self.owner.events), 1000)
        self.assertEqual(self.server.site.counts["refused"], 0)

    def test_oneLANAddressStillBounded(self) -> None:
        """One LAN address still holds at most maxPerPeer connections, queued ones included."""
        connections = [FakeConnection(self.server.site, "192.168.1.66") for _ in range(100)]
        self.assertEqual(sum(not c.refused for c in connections), self.server.site.maxPerPeer)

    def test_refusedNotifyMakesStateStale(self) -> None:
        """
        A NOTIFY connection refused (the queue full too) or cut: the
        subscription of its path, if it came, else those of the address, are
        told their state may be stale; other devices' are not.
        """
        origin = Origin("192.168.1.254", LAN)
        stale: list = []
        self.owner.stateMayBeStale = lambda sub, reason: stale.append((sub.sid, reason))
        paths = [self.subscribe(host, origin, i) for i, host in enumerate(["192.168.1.20", "192.168.1.20",
                                                                                "192.168.1.21"])]
        site = self.server.site
        site.maxConnections, site.maxWaiting = 4, 0
        holders = [FakeConnection(site, f"192.168.1.{30 + i}") for i in range(4)]
        self.assertTrue(FakeConnection(site, "192.168.1.20").refused)
        self.assertEqual(sorted(stale), [("uuid:s0", "lost"), ("uuid:s1", "lost")])
        del stale[:]
        for holder in holders:
            holder.finish()
        cut = FakeConnection(site, "192.168.1.21")
        cut.send(f"NOTIFY {paths[2]} HTTP/1.1\r\nHost: x\r\n".encode())
        self.clock.advance(self.server.site.requestTimeout)
        self.assertEqual(stale, [("uuid:s2", "lost")])
        self.assertEqual(self.server.counts["lost"], 2)


class HostileClientTests(unittest.TestCase):
    """The callback server under a slowloris and a huge body (issue 11), on fake transports and a clock."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.server = CallbackServer(self.clock, Listens())
        self.owner = Owner()
        policy = URLPolicy(resolverOf({}))
        target = policy.checkAddressLiteral("http://192.168.1.20:49152/event/cms", ORIGIN)
        self.sub = Subscription(SubscriptionTerms(self.server, None, self.clock), target, ORIGIN, self.owner,
                                localAddress="192.168.1.1")
        self.sub.state, self.sub.sid = "subscribed", "uuid:s"
        self.path = "/gena/" + self.server.register(self.sub)

    def slowloris(self, hosts: list[str], seconds: float) -> list:
        """Connections from C{hosts} that each send one byte of a NOTIFY head every 2 s, for C{seconds}."""
        head = f"NOTIFY {self.path} HTTP/1.1\r\nHost: 192.168.1.1\r\n".encode() + b"X-Pad: " + b"a" * 10_000
        attackers = [FakeConnection(self.server.site, host) for host in hosts]
        for step in range(int(seconds / 2)):
            for i, attacker in enumerate(attackers):
                if attacker.closing:  # the attacker reconnects at once, as a slowloris does
                    attacker.finish()
                    attackers[i] = attacker = FakeConnection(self.server.site, attacker.address.host)
                attacker.send(head[step:step + 1])
            self.clock.advance(2)
        return attackers

    def notify(self, seq: int) -> int:
        device = FakeConnection(self.server.site, DEVICE.host)
        body = gena.encodePropertySet({"A": str(seq)})
        return status(device.request("NOTIFY", self.path, dict(notifyHeaders("uuid:s", seq), Connection="close"),
                                     body))

    def test_slowlorisFromManyAddresses(self) -> None:
        """
        70 connections from 70 addresses trickling a byte every 2 s (more than
        the 64 slots) do not keep a device's NOTIFY out: it is answered 200 and
        delivered, during the attack and after each round of it.
        """
        hosts = [f"192.168.1.{100 + i}" for i in range(70)]
        self.slowloris(hosts, 30)
        self.assertEqual(self.notify(0), 200)
        self.slowloris(hosts, 30)
        self.assertEqual(self.notify(1), 200)
        self.assertEqual(self.owner.events, [[("A", "0")], [("A", "1")]])
        self.assertLessEqual(self.server.site.openConnections, 64)

    def test_slowlorisFromOneAddress(self) -> None:
        """One address holds at most its share of the slots; the device's NOTIFY is served beside it."""
        attackers = self.slowloris(["192.168.1.66"] * 70, 8)
        self.assertLessEqual(sum(not a.closing for a in attackers), self.server.site.maxPerPeer)
        self.assertEqual(self.notify(0), 200)
        self.assertEqual(self.owner.events, [[("A", "0")]])

    def test_hugeBodies(self) -> None:
        """
        A NOTIFY declaring 100 MB is answered 413 right after its head; a
        chunked one is cut off with 413 once past the cap: at most the cap is
        ever read, nothing delivered.
        """
        device = FakeConnection(self.server.site, DEVICE.host)
        headers = "".join(f"{k}: {v}\r\n" for k, v in notifyHeaders("uuid:s", 0).items())
        device.send(f"NOTIFY {self.path} HTTP/1.1\r\n{headers}Content-Length: {100 * 2**20}\r\n\r\n".encode())
        self.assertEqual(status(device.received()), 413)
        self.assertTrue(device.closing)
        device = FakeConnection(self.server.site, DEVICE.host)
        device.send(f"NOTIFY {self.path} HTTP/1.1\r\n{headers}Transfer-Encoding: chunked\r\n\r\n".encode())
        chunk, sent = b"10000\r\n" + b"<" * 0x10000 + b"\r\n", 0
        while not device.closing and sent < 100 * 2**20:
            device.send(chunk)
            sent += 0x10000
        self.assertLessEqual(sent, gena.MAX_BODY_BYTES + 0x10000)
        self.assertEqual(status(device.received()), 413)
        self.assertEqual(self.owner.events, [])
