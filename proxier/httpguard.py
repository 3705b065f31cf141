# -*- test-case-name: tests.test_httpguard,tests.test_cwmp_connreq,tests.test_upnp_eventing -*-
"""
The proxier's HTTP servers (Connection Requests from the ACS, GENA events
from devices) under hostile clients: one guard, used by both.

A client that trickles a request one byte at a time keeps Twisted's idle
timer from ever firing (it restarts on every byte), so a few dozen of them
held every slot of a server for as long as they liked (issue 11, slowloris).
L{GuardedSite} bounds instead:

 - the time to receive a whole request, head and body
   (C{requestTimeout}, counted from the connection, or from the end of the
   previous response on a kept-alive one), whatever the pace of the bytes;
 - the connections open at once (C{maxConnections}): a new one takes the
   slot of the oldest connection still I{waiting for} a complete request —
   never one whose request is being served, and not one just accepted that
   has sent nothing yet (for C{grace} seconds: it has not had its chance to
   be read, and a burst of new connections must not push out the one real
   request among them) — and is refused only when there is none;
 - the connections one peer holds (C{maxPerPeer}, or what L{GuardedSite.peerQuota}
   says), the same way within that peer's own connections — a peer being an
   IPv4 address, or an IPv6 prefix of C{ipv6PeerPrefix} bits (64 where one
   host may take any address of its /64, as towards the WAN; 128 on a LAN
   whose devices all share one /64);
 - with C{maxWaiting}, a burst: when every slot is taken and none is held by
   a connection that had its chance (began its request and stalls, or sits
   idle after an answer), a new connection waits, unread, in a queue of that
   many (oldest admitted first as slots free, within C{requestTimeout}),
   instead of pushing out a fresh one or being refused: a waiting connection
   holds a socket and a channel but none of its bytes, so it costs far less
   than a slot, which may hold a body of C{maxBody};
 - the request body (C{maxBody}): a declared C{Content-Length} over it is
   answered 413 as soon as the head is read, a chunked or unbounded body is
   cut off (413) the moment it passes it; nothing past the cap is kept, in
   memory or on disk.

What it did is logged as one warning line per C{logInterval} at most, with
counts, so a flood of packets is not a flood of lines. C{lost}, when given,
hears of each connection closed before its request was served
(L{GuardedSite.lost}): a server whose clients do not retry (GENA) learns
what it may have missed. The clock is the
site's reactor (injected: a L{twisted.internet.task.Clock} in tests).
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict
from io import BytesIO
from typing import Any, Callable, Optional

from twisted.logger import Logger
from twisted.web import http, server

__all__ = ["GuardedSite", "GuardedChannel", "BoundedRequest"]

_TOO_LARGE = b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class GuardedChannel(http.HTTPChannel):
    """
    An HTTP/1.1 channel whose time to read each request is bounded, and which
    tells its L{GuardedSite} when it waits for a request (evictable) and when
    it serves one (not evictable).

    States: C{queued} (accepted in a burst, not read: no slot yet; a
    deadline runs), C{reading} (from the connection, or the end of a
    response, to the last byte of the next request; a deadline runs),
    C{serving} (the request is being answered; no deadline), C{closed}.
    """

    state = "reading"
    since = 0.0  # when the present wait for a request began
    heard = False  # whether any byte came during the present wait
    served = False  # whether a request of this connection was answered (it is kept alive)
    target: Optional[bytes] = None  # the request target of the request being read, once its line came
    _deadline: Any = None
    _refused = False

    def connectionMade(self) -> None:
        super().connectionMade()
        if self.state == "queued":
            self.transport.pauseProducing()  # its bytes stay in the kernel until it has a slot
            self.since = self.site.reactor.seconds()
            self._deadline = self.site.reactor.callLater(self.site.requestTimeout, self._tooSlow)
            return
        self._reading()

    def admit(self) -> None:
        """A slot is free for this queued connection: read its request now, with a whole deadline."""
        self._reading()
        self.transport.resumeProducing()

    def _reading(self) -> None:
        self.state = "reading"
        self.since = self.site.reactor.seconds()
        self.heard = False
        self.target = None
        self._cancelDeadline()
        self._deadline = self.site.reactor.callLater(self.site.requestTimeout, self._tooSlow)
        self.site._reading(self)

    def _cancelDeadline(self) -> None:
        if self._deadline is not None and self._deadline.active():
            self._deadline.cancel()
        self._deadline = None

    def _tooSlow(self) -> None:
        self._deadline = None
        if self.served and not self.heard:
            # a kept-alive connection nothing came on since its last answer: an
            # idle close, what every client that keeps connections expects (GUPnP
            # and the simulators do, between NOTIFYs) — not a sign of pressure
            self.site._forget(self)
            self.drop()
            return
        self.site._note("refused" if self.state == "queued" else "slow", self._peer(), self)
        self.site._forget(self)
        self.drop()

    @property
    def idle(self) -> bool:
        """Kept alive after an answer, nothing sent since: closing it costs its client nothing owed."""
        return self.served and not self.heard

    def _peer(self) -> str:
        return getattr(self.transport.getPeer(), "host", "") if self.transport is not None else ""

    def drop(self) -> None:
        """Close at once: nothing is owed to a client that has not finished its request."""
        self._refused = True
        self._cancelDeadline()
        abort = getattr(self.transport, "abortConnection", None)
        if abort is not None:
            abort()
        else:
            self.transport.loseConnection()

    def dataReceived(self, data: bytes) -> None:
        if self._refused:
            return  # closing: what still arrives is not parsed
        self.heard = True
        super().dataReceived(data)

    def lineReceived(self, line: bytes) -> None:
        if self.target is None and self.state == "reading" and line:
            parts = line.split()
            self.target = parts[1] if len(parts) == 3 else b""
        super().lineReceived(line)

    def allHeadersReceived(self) -> None:
        if self.length is not None and self.length > self.site.maxBody:
            self.bodyTooLarge()
            return
        super().allHeadersReceived()

    def bodyTooLarge(self) -> None:
        """Answer 413 and close, keeping nothing (called on a declared or a streamed body over the cap)."""
        if self._refused:
            return
        self._refused = True
        self._cancelDeadline()
        self.site._note("large", self._peer(), self)
        self.site._forget(self)
        self.transport.write(_TOO_LARGE)
        self.loseConnection()

    def allContentReceived(self) -> None:
        if self._refused:
            return  # a body cut off (413) may still end in the same read: it is not a request
        self._cancelDeadline()
        self.state = "serving"
        self.site._serving(self)
        super().allContentReceived()

    def requestDone(self, request: Any) -> None:
        self.served = True
        if self.persistent and not self._refused:
            # before the parent: it may parse a pipelined request at once
            self._reading()
        super().requestDone(request)

    def connectionLost(self, reason: Any) -> None:
        self.state = "closed"
        self._cancelDeadline()
        self.site._forget(self)
        super().connectionLost(reason)


class BoundedRequest(server.Request):
    """
    A request whose body is kept in memory up to the site's C{maxBody}
    (never in a temporary file) — or not at all when C{keepBody} is false —
    and whose streamed body past the cap ends the connection with 413.
    """

    keepBody = True
    _bodySize = 0

    def gotLength(self, length: Optional[int]) -> None:
        self._bodySize = 0
        self.content = BytesIO()

    def handleContentChunk(self, data: bytes) -> None:
        self._bodySize += len(data)
        if self._bodySize > self.channel.site.maxBody:
            self.channel.bodyTooLarge()
            return
        if self.keepBody:
            self.content.write(data)


class GuardedSite(server.Site):
    """
    A L{server.Site} whose connections are L{GuardedChannel}s, counted and
    evicted as the module docstring says.

    @ivar counts: what the guard did, since the start: C{evicted} (a waiting
        connection closed to make room), C{refused} (no room at all, or no
        slot within C{requestTimeout} for one queued), C{slow} (request not
        complete in time), C{large} (body over the cap), C{queued} (made to
        wait for a slot, then served or not).
    @ivar lost: C{(address, target, what)}, told of every connection closed
        before its request was served — C{target} the request target if its
        line came, else C{None}; C{what} a key of C{counts} — or C{None}.
    """

    protocol = GuardedChannel  # type: ignore[assignment]  # HTTP/1.1 only: no h2 negotiation behind it
    requestFactory = BoundedRequest
    _logger = Logger()

    def __init__(self, resource: Any, *, clock: Any = None, name: str = "HTTP server", maxConnections: int = 64,
                 maxPerPeer: int = 32, ipv6PeerPrefix: int = 128, requestTimeout: float = 10.0,
                 maxBody: int = 64 * 1024, idleTimeout: float = 60.0, logInterval: float = 60.0,
                 grace: float = 0.5, maxWaiting: int = 0) -> None:
        if clock is None:
            from twisted.internet import reactor as clock  # type: ignore[no-redef]
        super().__init__(resource, timeout=idleTimeout, reactor=clock)
        self.name = name
        self.maxConnections = maxConnections
        self.maxPerPeer = maxPerPeer
        self.ipv6PeerPrefix = ipv6PeerPrefix
        self.requestTimeout = requestTimeout
        self.maxBody = maxBody
        self.logInterval = logInterval
        self.grace = grace
        self.maxWaiting = maxWaiting
        self.lost: Optional[Callable[[str, Optional[bytes], str], None]] = None
        self.displayTracebacks = False
        self.noisy = False
        self._open: dict[GuardedChannel, str] = {}  # every counted connection → its peer
        self._waiting: "OrderedDict[GuardedChannel, None]" = OrderedDict()  # reading, oldest first
        self._queued: "OrderedDict[GuardedChannel, str]" = OrderedDict()  # waiting for a slot, oldest first
        self._perPeer: dict[str, int] = {}  # open and queued connections of each peer
        self.counts = {"evicted": 0, "refused": 0, "slow": 0, "large": 0, "queued": 0}
        self._unlogged = dict(self.counts)
        self._lastLog: Optional[float] = None

    @property
    def openConnections(self) -> int:
        """Connections holding a slot now."""
        return len(self._open)

    @property
    def queuedConnections(self) -> int:
        """Connections waiting, unread, for a slot now."""
        return len(self._queued)

    def peerQuota(self, peer: str) -> int:
        """The connections (open and queued) the peer C{peer} (L{peer}) may hold at once."""
        return self.maxPerPeer

    def peer(self, host: str) -> str:
        """Whose quota a connection from C{host} counts against (an address, or an IPv6 prefix)."""
        if ":" not in host or self.ipv6PeerPrefix >= 128:
            return host
        try:
            network = ipaddress.IPv6Network((host.partition("%")[0], self.ipv6PeerPrefix), strict=False)
        except ValueError:
            return host
        return str(network)

    def buildProtocol(self, addr: Any) -> Any:
        address = getattr(addr, "host", "") or ""
        host = self.peer(address)
        anyone = lambda channel: True  # noqa: E731
        if self._perPeer.get(host, 0) >= self.peerQuota(host):
            if not self._evict(lambda channel: self._open.get(channel) == host):
                self._note("refused", host, address=address)
                return None
        if len(self._open) >= self.maxConnections:
            if not self.maxWaiting:
                self._evict(anyone)
            elif not self._evict(anyone, hadTheirChance=True) and len(self._queued) >= self.maxWaiting:
                self._evict(anyone)  # the queue is full: a fresh silent one goes after all
            # a slot freed goes to the oldest queued connection first
            if len(self._open) >= self.maxConnections and len(self._queued) >= self.maxWaiting:
                self._note("refused", host, address=address)
                return None
        channel = super().buildProtocol(addr)
        if len(self._open) >= self.maxConnections:
            channel.state = "queued"
            self._queued[channel] = host
            self.counts["queued"] += 1
            self._unlogged["queued"] += 1
        else:
            self._open[channel] = host
        self._perPeer[host] = self._perPeer.get(host, 0) + 1
        return channel

    def _evict(self, eligible: Any, hadTheirChance: bool = False) -> bool:
        """
        Close the oldest waiting connection C{eligible} accepts that has sent
        something, or has been there C{grace} seconds — with
        C{hadTheirChance}, only one that has sent something or sits idle
        after an answer that long, never one not read yet; whether there was
        one.
        """
        now = self.reactor.seconds()
        for channel in self._waiting:
            if not eligible(channel):
                continue
            if channel.heard or (now - channel.since >= self.grace and (channel.idle or not hadTheirChance)):
                self._note("evicted", self._open.get(channel, ""), channel)
                self._forget(channel)
                channel.drop()
                return True
        return False

    def _reading(self, channel: GuardedChannel) -> None:
        if channel in self._open:
            self._waiting.pop(channel, None)
            self._waiting[channel] = None  # to the end: the freshest

    def _serving(self, channel: GuardedChannel) -> None:
        self._waiting.pop(channel, None)

    def _forget(self, channel: GuardedChannel) -> None:
        """Stop counting C{channel} (closed, or being closed: its slot is free now, for the oldest queued)."""
        self._waiting.pop(channel, None)
        host = self._open.pop(channel, None)
        if host is None:
            host = self._queued.pop(channel, None)
            if host is None:
                return
        left = self._perPeer.get(host, 1) - 1
        if left > 0:
            self._perPeer[host] = left
        else:
            self._perPeer.pop(host, None)
        while self._queued and len(self._open) < self.maxConnections:
            admitted, host = self._queued.popitem(last=False)
            self._open[admitted] = host
            admitted.admit()

    def _note(self, what: str, host: str, channel: Optional[GuardedChannel] = None, address: str = "") -> None:
        """
        Count what the guard did; one warning per C{logInterval} at most, with
        the counts since the last. A connection closed unserved is told to
        L{lost}.
        """
        if self.lost is not None and not (channel is not None and channel.idle):  # an idle one owes nothing
            if channel is not None:
                address = channel._peer()
            self.lost(address, channel.target if channel is not None else None, what)
        self.counts[what] += 1
        self._unlogged[what] += 1
        now = self.reactor.seconds()
        if self._lastLog is not None and now - self._lastLog < self.logInterval:
            return
        self._lastLog = now
        done, self._unlogged = self._unlogged, {k: 0 for k in self.counts}
        self._logger.warn(
            "{name} under pressure (latest from {host}): {evicted} waiting connections closed to make room, "
            "{refused} refused (no room), {slow} too slow to send their request in {timeout:g} s, "
            "{large} with a body over {maxBody} bytes, {queued} made to wait for a slot — since the last such line",
            name=self.name, host=host or "?", timeout=self.requestTimeout, maxBody=self.maxBody, **done)
