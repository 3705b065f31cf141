# -*- test-case-name: tests.test_lan_mdns -*-
"""
A Multicast DNS querier (RFC 6762) browsing DNS-SD service types (RFC 6763),
and its sockets.

L{Querier} is the state machine of one interface: datagrams in
(L{Querier.datagramReceived}), queries out through a C{send} callable, time
from an injected clock, and L{InstanceEvent}s (appeared, changed, gone) for
the service instances it resolves — PTR to SRV, TXT and A/AAAA. What it does,
and the RFC's rule for each:

 - continuous querying for the PTR records of its service types, the first
   query 20-120 ms after the start, then 1 s, 2 s, 4 s… apart, the interval
   capped at 60 minutes (§5.2);
 - known-answer suppression: a query lists the cached answers to its
   questions that still have more than half their TTL, over several
   truncated (TC) packets when they do not fit one (§7.1, §7.2);
 - a cache with TTLs, each record asked for again at 80, 85, 90 and 95 % of
   its TTL (plus up to 2 % of random) while something needs it (§5.2);
 - a goodbye (TTL 0) is kept for one more second, then deleted (§10.1);
 - the cache-flush bit expires, one second later, the other records of that
   name and type received more than a second ago (§10.2);
 - responses from a source port other than 5353, with a non-zero opcode or
   rcode, and queries are ignored (§6, §18);
 - a new instance is told L{SETTLE} seconds after it resolves, so that the
   rest of a burst of answers is in it.

Hostile input costs little: a datagram larger than L{MAX_PACKET_BYTES} or
holding more than L{MAX_RECORDS_PER_PACKET} records is dropped unread; one
that C{twisted.names.dns} cannot decode whole (a compression loop, a
truncated record, garbage) is dropped; each drop is one log line
(rate-limited). Only records that can matter are cached — the PTRs of the
browsed types, SRV and TXT under them, addresses of the hosts those SRVs
name — and the cache holds at most L{MAX_CACHE_RECORDS}; a record's TTL is
capped at L{MAX_TTL}.

L{Browser} is the Twisted glue: per LAN interface one L{Querier} and its
sockets, IPv4 224.0.0.251:5353 and IPv6 ff02::fb, each bound to the group
and joined on that interface only (as L{proxier.upnp.discovery} does for
SSDP), sending there with TTL/hop limit 255 (§11); only datagrams from
on-link sources reach the querier. The listen functions and the socket
factory are injected, so that unit tests need no socket; real multicast is
tested only inside a network namespace (tests/netns).
"""

from __future__ import annotations

import ipaddress
import random
import socket
import struct
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any, Callable, Iterable, Optional, Sequence

from twisted.logger import Logger
from twisted.internet.protocol import DatagramProtocol
from twisted.names import dns

from proxier.lan.multicast import IP_MULTICAST_ALL, openIPv6GroupSocket, setSocketOption
from proxier.lan.netif import NetworkInterface
from proxier.log import RateLimitedLog

__all__ = [
    "MDNS_PORT",
    "IPV4_GROUP",
    "IPV6_GROUP",
    "MAX_PACKET_BYTES",
    "MAX_RECORDS_PER_PACKET",
    "MAX_CACHE_RECORDS",
    "MAX_TTL",
    "MAX_QUERY_INTERVAL",
    "SETTLE",
    "ServiceInstance",
    "InstanceEvent",
    "APPEARED",
    "CHANGED",
    "GONE",
    "parseTXT",
    "Querier",
    "Browser",
]

MDNS_PORT = 5353
IPV4_GROUP = "224.0.0.251"
IPV6_GROUP = "ff02::fb"

#: RFC 6762 §17: a Multicast DNS packet, IP and UDP headers included, is at
#: most 9000 bytes; a larger datagram is dropped unread.
MAX_PACKET_BYTES = 9000
#: More records than this in one datagram is a flood, not a responder: a
#: printer's answer holds a handful (PTR, SRV, TXT, A, AAAA, NSEC).
MAX_RECORDS_PER_PACKET = 256
#: The most records cached per interface; more are dropped (logged).
MAX_CACHE_RECORDS = 2048
#: A TTL above this is taken as this much, so that no record stays forever.
MAX_TTL = 86400
#: RFC 6762 §5.2: the interval between queries doubles up to 60 minutes.
FIRST_QUERY_INTERVAL = 1.0
MAX_QUERY_INTERVAL = 3600.0
#: RFC 6762 §10.1, §10.2: what is left of a goodbye or a flushed record.
GRACE = 1.0
#: A new instance is told this long after it first resolves, with what came
#: meanwhile: a responder's answers over IPv6 and IPv4 (the AAAA alone in
#: one, A and AAAA in the other, as avahi sends them) are one appearance,
#: not an appearance and a change.
SETTLE = 0.2
#: The most bytes of one query we send (an Ethernet MTU less the IPv6 and
#: UDP headers and some slack); known answers beyond go into more packets.
MAX_QUERY_BYTES = 1440
#: RFC 6762 §5.2: refresh queries at these fractions of a record's TTL.
_REFRESH_AT = (0.80, 0.85, 0.90, 0.95)

APPEARED = "appeared"
CHANGED = "changed"
GONE = "gone"

_CACHE_FLUSH = 0x8000
_HEADER = struct.Struct("!6H")


@dataclass(frozen=True)
class ServiceInstance:
    """
    One resolved DNS-SD service instance (RFC 6763 §4.1).

    @ivar interface: the interface it was heard on.
    @ivar name: the full instance name (C{"Office._ipp._tcp.local"}).
    @ivar instance: its first part, the user-visible instance name (may hold dots).
    @ivar serviceType: the browsed type (C{"_ipp._tcp.local"}).
    @ivar host: the SRV target.
    @ivar port: the SRV port.
    @ivar txt: the TXT attributes (L{parseTXT}).
    @ivar addresses: the host's IPv4 then IPv6 addresses, sorted.
    @ivar source: the address of the responder that sent the SRV record,
        what a URL built from the instance is checked against (the URL
        policy of L{proxier.lan.urlpolicy}).
    """

    interface: str
    name: str
    instance: str
    serviceType: str
    host: str
    port: int
    txt: tuple[tuple[str, Optional[bytes]], ...] = ()
    addresses: tuple[str, ...] = ()
    source: str = ""

    def text(self, key: str) -> Optional[str]:
        """A TXT value as text (UTF-8, RFC 6763 §6.5), or C{None} when absent or valueless."""
        key = key.lower()
        for k, v in self.txt:
            if k == key:
                return None if v is None else v.decode("utf-8", "replace")
        return None


@dataclass(frozen=True)
class InstanceEvent:
    """L{APPEARED}, L{CHANGED} (what L{ServiceInstance} holds changed) or L{GONE}."""

    kind: str
    instance: ServiceInstance


def parseTXT(strings: Iterable[bytes]) -> tuple[tuple[str, Optional[bytes]], ...]:
    """
    TXT record strings as (key, value) pairs, RFC 6763 §6.4: the key is what
    precedes the first C{=} (printable ASCII, compared case-insensitively,
    given lower-case here), a string without C{=} is a boolean attribute
    (value C{None}), an empty key is skipped, and the first of a key wins.
    """
    found: dict[str, Optional[bytes]] = {}
    for s in strings:
        key, sep, value = s.partition(b"=")
        if not key or any(c < 0x20 or c > 0x7E for c in key):
            continue
        name = key.decode("ascii").lower()
        if name not in found:
            found[name] = value if sep else None
    return tuple(found.items())


class _InstanceName(dns.Name):
    """
    A service instance name whose first label may hold dots (RFC 6763 §4.3:
    the instance part is any UTF-8): C{dns.Name} would split it, so the
    label is written as one and the type after it.
    """

    def __init__(self, label: bytes, suffix: bytes) -> None:
        super().__init__(label + b"." + suffix)
        self.label, self.suffix = label, suffix

    def encode(self, strio: Any, compDict: Optional[dict] = None) -> None:
        if not 0 < len(self.label) < 64:
            raise ValueError(f"instance label of {len(self.label)} bytes")
        strio.write(bytes([len(self.label)]) + self.label)
        dns.Name(self.suffix).encode(strio, compDict)


@dataclass
class _Entry:
    """A cached record: C{value} is its data as it is compared (names lower-case) and re-encoded."""

    name: bytes
    type: int
    key: Any
    value: Any
    ttl: int
    received: float
    expires: float
    source: str
    refreshes: list[float] = field(default_factory=list)

    def remaining(self, now: float) -> float:
        return self.expires - now


@dataclass
class _Question:
    """A name and type being asked for, and when next (the interval doubles up to 60 minutes)."""

    nextAt: float
    interval: float = FIRST_QUERY_INTERVAL


class Querier:
    """
    The RFC 6762 querier of one interface for a set of DNS-SD service types
    (module docstring). Not started, it sends nothing; stopped, it forgets
    its cache without telling instances gone (the caller stops with it).

    @param serviceTypes: full type names, C{"_ipp._tcp.local"}.
    @param send: one query datagram → the interface's group(s).
    @param listener: called with each L{InstanceEvent}.
    @param interface: the interface's name, put on each instance.
    """

    log = Logger()

    def __init__(self, serviceTypes: Sequence[str], send: Callable[[bytes], None],
                 listener: Callable[[InstanceEvent], None], clock: Any, *, interface: str = "",
                 rng: Optional[random.Random] = None, maxCache: int = MAX_CACHE_RECORDS) -> None:
        self.types = {t.rstrip(".").lower().encode("ascii"): t.rstrip(".") for t in serviceTypes}
        if not self.types:
            raise ValueError("no service type to browse")
        self.send = send
        self.listener = listener
        self.clock = clock
        self.interface = interface
        self.rng = rng or random.Random()
        self.maxCache = maxCache
        self.limited = RateLimitedLog(clock, self.log)
        self.stats = {k: 0 for k in ("received", "dropped", "ignored", "queries", "cache-full")}
        # (lower-case name, type) -> {key: entry}
        self.rrsets: dict[tuple[bytes, int], dict[Any, _Entry]] = {}
        self.size = 0
        self.instances: dict[bytes, ServiceInstance] = {}
        # instances resolved but not told yet -> when they are (SETTLE)
        self.settling: dict[bytes, float] = {}
        # (lower-case name, type) -> question; the browse of the types is one
        self.questions: dict[tuple[bytes, int], _Question] = {}
        self.browse: Optional[_Question] = None
        self.timer: Any = None
        self.running = False

    # start and stop

    def start(self) -> None:
        """Start browsing: the first query 20-120 ms from now (RFC 6762 §5.2)."""
        self.running = True
        self.browse = _Question(self.clock.seconds() + self.rng.uniform(0.02, 0.12))
        self._schedule()

    def stop(self) -> None:
        self.running = False
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        self.timer = None
        self.rrsets, self.size, self.instances, self.questions, self.browse = {}, 0, {}, {}, None
        self.settling = {}

    # receiving

    def datagramReceived(self, data: bytes, source: str, port: int = MDNS_PORT) -> None:
        """One datagram from C{source}:C{port} on this interface (the glue checked that it is on-link)."""
        if not self.running:
            return
        self.stats["received"] += 1
        message = self._decode(data, source)
        if message is None:
            return
        if not message.answer or message.opCode != 0 or message.rCode != 0 or port != MDNS_PORT:
            self.stats["ignored"] += 1  # a query, or not a response we may use (RFC 6762 §6, §18)
            return
        now = self.clock.seconds()
        records = message.answers + message.additional
        addresses = [rr for rr in records if rr.type in (dns.A, dns.AAAA)]
        for rr in records:
            if rr.type not in (dns.A, dns.AAAA):
                self._record(rr, source, now, set())
        # addresses last: they are cached only for hosts an SRV names, maybe in this packet
        targets = self._targets() if addresses else set()
        for rr in addresses:
            self._record(rr, source, now, targets)
        self._update(now)

    def _decode(self, data: bytes, source: str) -> Optional[dns.Message]:
        """The message, or C{None} when it is dropped (logged)."""
        why = None
        if len(data) > MAX_PACKET_BYTES:
            why = f"{len(data)} bytes, more than {MAX_PACKET_BYTES}"
        elif len(data) < _HEADER.size:
            why = f"{len(data)} bytes, shorter than a header"
        else:
            counts = _HEADER.unpack_from(data)[2:]
            if sum(counts) > MAX_RECORDS_PER_PACKET:
                why = f"{sum(counts)} records, more than {MAX_RECORDS_PER_PACKET}"
        message = None
        if why is None:
            message = dns.Message()
            stream = BytesIO(data)
            try:
                message.decode(stream)
            except Exception as e:  # twisted.names raises what it meets: ValueError, struct.error, EOFError...
                why = f"undecodable ({e.__class__.__name__}: {str(e)[:80]})"
            else:
                # dns.Message stops silently at a truncated record: count what it got
                got = (len(message.queries), len(message.answers), len(message.authority), len(message.additional))
                if got != counts or stream.tell() != len(data):
                    why = "truncated or trailing garbage"
        if why is not None:
            self.stats["dropped"] += 1
            self.limited.warn(f"drop-{source}", "mDNS packet on {iface} from {source} dropped: {why}",
                              iface=self.interface or "?", source=source, why=why)
            return None
        return message

    def _record(self, rr: dns.RRHeader, source: str, now: float, targets: set[bytes]) -> None:
        if rr.cls & ~_CACHE_FLUSH != dns.IN:
            return
        name = rr.name.name
        lname = name.lower()
        payload = rr.payload
        if rr.type == dns.PTR:
            if lname not in self.types:
                return
            target = payload.name.name
            if not _under(target.lower(), lname):
                return  # a PTR for our type naming something else: not an instance of it
            value: Any = target
            key: Any = target.lower()
        elif rr.type in (dns.SRV, dns.TXT):
            if self._typeOf(lname) is None:
                return
            if rr.type == dns.SRV:
                target = payload.target.name
                value = (payload.priority, payload.weight, payload.port, target)
                key = (payload.priority, payload.weight, payload.port, target.lower())
            else:
                value = key = tuple(payload.data)
        elif rr.type in (dns.A, dns.AAAA):
            if lname not in targets:
                return
            family = socket.AF_INET if rr.type == dns.A else socket.AF_INET6
            value = key = socket.inet_ntop(family, payload.address)
        else:
            return
        self._store(name, lname, rr.type, key, value, min(rr.ttl, MAX_TTL), bool(rr.cls & _CACHE_FLUSH), source,
                    now)

    def _store(self, name: bytes, lname: bytes, rtype: int, key: Any, value: Any, ttl: int, flush: bool,
               source: str, now: float) -> None:
        rrset = self.rrsets.get((lname, rtype))
        if flush and rrset:
            for other in rrset.values():  # RFC 6762 §10.2: what came within a second is the same set
                if other.key != key and now - other.received > GRACE and other.expires > now + GRACE:
                    other.expires, other.refreshes = now + GRACE, []
        entry = rrset.get(key) if rrset else None
        if ttl == 0:  # a goodbye: RFC 6762 §10.1
            if entry is not None:
                entry.expires, entry.refreshes = min(entry.expires, now + GRACE), []
            return
        if entry is None:
            if self.size >= self.maxCache:
                self.stats["cache-full"] += 1
                self.limited.warn("cache-full", "mDNS cache on {iface} full ({size} records): a record dropped",
                                  iface=self.interface or "?", size=self.size)
                return
            entry = _Entry(name, rtype, key, value, ttl, now, now + ttl, source)
            self.rrsets.setdefault((lname, rtype), {})[key] = entry
            self.size += 1
        # (its source stays the first sender's: the same record heard over IPv4 and IPv6 is no change)
        entry.name, entry.value, entry.ttl, entry.received, entry.expires = name, value, ttl, now, now + ttl
        entry.refreshes = [now + ttl * (f + self.rng.uniform(0, 0.02)) for f in _REFRESH_AT]

    def _typeOf(self, lname: bytes) -> Optional[bytes]:
        """The browsed type a name is an instance of, or C{None}."""
        for t in self.types:
            if _under(lname, t):
                return t
        return None

    def _targets(self) -> set[bytes]:
        """The hosts the cached SRVs name (lower-case): the only ones whose addresses matter."""
        return {e.key[3] for (_, rtype), rrset in self.rrsets.items() if rtype == dns.SRV for e in rrset.values()}

    # time

    def _schedule(self) -> None:
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        self.timer = None
        if not self.running:
            return
        times = [q.nextAt for q in self.questions.values()] + list(self.settling.values())
        if self.browse is not None:
            times.append(self.browse.nextAt)
        for rrset in self.rrsets.values():
            for e in rrset.values():
                times.append(e.expires)
                if e.refreshes:
                    times.append(e.refreshes[0])
        if times:
            self.timer = self.clock.callLater(max(0.0, min(times) - self.clock.seconds()), self._wake)

    def _wake(self) -> None:
        self.timer = None
        if not self.running:
            return
        now = self.clock.seconds()
        for lkey, rrset in list(self.rrsets.items()):
            for key, e in list(rrset.items()):
                if e.expires <= now:
                    del rrset[key]
                    self.size -= 1
            if not rrset:
                del self.rrsets[lkey]
        self._update(now)

    def _update(self, now: float) -> None:
        """Resolve, tell what changed, ask what is due, and wait for the next deadline."""
        wanted = self._resolve(now)
        asked: dict[tuple[bytes, int], bytes] = {}
        if self.browse is not None and self.browse.nextAt <= now:
            for t, shown in self.types.items():
                asked[(t, dns.PTR)] = shown.encode("ascii")
            self.browse.nextAt = max(now, self.browse.nextAt + self.browse.interval)
            self.browse.interval = min(self.browse.interval * 2, MAX_QUERY_INTERVAL)
        for lkey in list(self.questions):
            if lkey not in wanted:
                del self.questions[lkey]  # answered, or no longer needed
        delay = self.rng.uniform(0.02, 0.12)
        for lkey, shown in wanted.items():
            question = self.questions.get(lkey)
            if question is None:  # wait a little: the rest of a response burst may answer it
                self.questions[lkey] = _Question(now + delay)
            elif question.nextAt <= now:
                asked[lkey] = shown
                question.nextAt = max(now, question.nextAt + question.interval)
                question.interval = min(question.interval * 2, MAX_QUERY_INTERVAL)
        targets: Optional[set[bytes]] = None
        for (lname, rtype), rrset in self.rrsets.items():
            for e in rrset.values():
                if e.refreshes and e.refreshes[0] <= now:
                    while e.refreshes and e.refreshes[0] <= now:
                        e.refreshes.pop(0)
                    if targets is None:
                        targets = self._targets()
                    if self._needed(lname, rtype, targets):
                        asked[(lname, rtype)] = e.name
        if asked:
            self._query(asked, now)
        self._schedule()

    # resolving

    def _resolve(self, now: float) -> dict[tuple[bytes, int], bytes]:
        """Build the instances, tell the listener what changed; return the questions still open."""
        found: dict[bytes, ServiceInstance] = {}
        wanted: dict[tuple[bytes, int], bytes] = {}
        for t, shown in self.types.items():
            for ptr in self.rrsets.get((t, dns.PTR), {}).values():
                name: bytes = ptr.value
                lname = ptr.key
                srv = _first(self.rrsets.get((lname, dns.SRV)), lambda e: (e.key[0], -e.key[1], e.key))
                txt = _first(self.rrsets.get((lname, dns.TXT)), lambda e: -e.received)
                if srv is None:
                    wanted[(lname, dns.SRV)] = name
                if txt is None:
                    wanted[(lname, dns.TXT)] = name
                if srv is None or not srv.key[3]:
                    continue  # (an SRV naming the root, ".", says the service is not offered: RFC 2782)
                target = srv.value[3]
                addresses = [e.value for rtype in (dns.A, dns.AAAA)
                             for e in self.rrsets.get((srv.key[3], rtype), {}).values()]
                if not addresses:
                    wanted[(srv.key[3], dns.A)] = target
                    wanted[(srv.key[3], dns.AAAA)] = target
                if txt is None or not addresses:
                    continue
                found[lname] = ServiceInstance(
                    interface=self.interface,
                    name=name.decode("utf-8", "replace"),
                    instance=name[:len(name) - len(t) - 1].decode("utf-8", "replace"),
                    serviceType=shown,
                    host=target.decode("utf-8", "replace"),
                    port=srv.value[2],
                    txt=parseTXT(txt.value),
                    addresses=tuple(sorted(addresses, key=lambda a: (":" in a, ipaddress.ip_address(a)))),
                    source=srv.source,
                )
        events = [InstanceEvent(GONE, old) for lname, old in sorted(self.instances.items()) if lname not in found]
        self.settling = {lname: at for lname, at in self.settling.items() if lname in found}
        told: dict[bytes, ServiceInstance] = {}
        for lname, new in sorted(found.items()):
            old = self.instances.get(lname)
            if old is None:
                at = self.settling.setdefault(lname, now + SETTLE)
                if at > now:
                    continue
                del self.settling[lname]
                events.append(InstanceEvent(APPEARED, new))
            elif old != new:
                events.append(InstanceEvent(CHANGED, new))
            told[lname] = new
        self.instances = told
        for event in events:
            try:
                self.listener(event)
            except Exception:  # a bug behind the listener must not stop the querier
                self.log.failure("mDNS: the listener failed on {event}", event=event)
        return wanted

    def _needed(self, lname: bytes, rtype: int, targets: set[bytes]) -> bool:
        """Whether a cached record still matters (so is worth refreshing)."""
        if rtype == dns.PTR:
            return True
        if rtype in (dns.SRV, dns.TXT):
            t = self._typeOf(lname)
            return t is not None and any(p.key == lname for p in self.rrsets.get((t, dns.PTR), {}).values())
        return lname in targets

    # asking

    def _query(self, asked: dict[tuple[bytes, int], bytes], now: float) -> None:
        """
        One query for all the questions due, with the known answers (more
        than half their TTL left, RFC 6762 §7.1) spread over truncated
        packets when they do not fit one (§7.2).
        """
        packets: list[dns.Message] = []
        current: Optional[dns.Message] = None
        for (lname, rtype), shown in sorted(asked.items()):
            query = dns.Query(b"", rtype, dns.IN)
            query.name = self._name(shown)
            if current is None or not current.queries:  # (a continuation carries known answers only)
                current = self._message()
                packets.append(current)
            current.queries.append(query)
            if len(current.queries) > 1 and _size(current) > MAX_QUERY_BYTES:
                current.queries.pop()
                current = self._message()
                packets.append(current)
                current.queries.append(query)
            for e in self.rrsets.get((lname, rtype), {}).values():
                if e.remaining(now) <= e.ttl / 2:
                    continue
                current.answers.append(self._answer(e, now))
                if len(current.queries) + len(current.answers) > 1 and _size(current) > MAX_QUERY_BYTES:
                    rr = current.answers.pop()
                    current.trunc = 1
                    current = self._message()
                    packets.append(current)
                    current.answers.append(rr)
        for message in packets:
            try:
                data = message.toStr()
            except ValueError as e:  # a label too long to ask for (it came from the network)
                self.limited.warn("encode", "mDNS query on {iface} not sent: {error}", iface=self.interface or "?",
                                  error=e)
                continue
            self.stats["queries"] += 1
            self.send(data)

    @staticmethod
    def _message() -> dns.Message:
        return dns.Message(id=0, answer=0, opCode=dns.OP_QUERY, recDes=0, maxSize=MAX_PACKET_BYTES)

    def _name(self, name: bytes) -> dns.Name:
        """A name to encode: an instance name keeps its first label whole."""
        t = self._typeOf(name.lower())
        if t is not None and len(name) > len(t) + 1:
            return _InstanceName(name[:len(name) - len(t) - 1], name[len(name) - len(t):])
        return dns.Name(name)

    def _answer(self, e: _Entry, now: float) -> dns.RRHeader:
        if e.type == dns.PTR:
            payload: Any = dns.Record_PTR()
            payload.name = self._name(e.value)
        elif e.type == dns.SRV:
            payload = dns.Record_SRV(e.value[0], e.value[1], e.value[2])
            payload.target = dns.Name(e.value[3])
        elif e.type == dns.TXT:
            payload = dns.Record_TXT(*e.value)
        elif e.type == dns.A:
            payload = dns.Record_A(e.value)
        else:
            payload = dns.Record_AAAA(e.value)
        rr = dns.RRHeader(b"", e.type, dns.IN, int(e.remaining(now)), payload)
        rr.name = self._name(e.name)
        return rr


def _under(name: bytes, suffix: bytes) -> bool:
    """Whether C{name} is C{<something>.suffix}."""
    return len(name) > len(suffix) + 1 and name.endswith(b"." + suffix)


def _size(message: dns.Message) -> int:
    try:
        return len(message.toStr())
    except ValueError:  # a label too long: it is refused when the packet is sent
        return 0


def _first(rrset: Optional[dict[Any, _Entry]], order: Callable[[_Entry], Any]) -> Optional[_Entry]:
    if not rrset:
        return None
    return min(rrset.values(), key=order)


# Twisted glue



class _Socket(DatagramProtocol):
    """One group socket of an interface: on-link datagrams to the querier, queries out."""

    def __init__(self, name: str, interface: NetworkInterface, querier: Querier, destination: tuple[str, int]) -> None:
        self.name, self.interface, self.querier, self.destination = name, interface, querier, destination
        self.port: Any = None

    def datagramReceived(self, data: bytes, addr: Any) -> None:
        host = addr[0]
        try:
            onLink = self.interface.isOnLink(host)
        except ValueError:
            onLink = False
        if not onLink:
            self.querier.stats["ignored"] += 1
            self.querier.limited.warn(f"offlink-{self.name}", "mDNS packet on {socket} from {host}, not on-link: "
                                      "dropped", socket=self.name, host=host)
            return
        self.querier.datagramReceived(data, host.partition("%")[0], addr[1])

    def send(self, data: bytes) -> None:
        try:
            self.transport.write(data, self.destination)
        except Exception as e:  # an interface going away must not stop the others
            self.querier.limited.warn(f"send-{self.name}", "mDNS send on {socket} failed: {error}",
                                      socket=self.name, error=e)


class Browser:
    """
    DNS-SD browsing on the LAN interfaces: per interface a L{Querier} with
    its IPv4 and (when C{ipv6}) IPv6 group sockets; every instance event goes
    to C{listener}, which reads the interface from the instance.

    @param listenMulticast: C{reactor.listenMulticast}.
    @param adoptDatagramPort: C{reactor.adoptDatagramPort}.
    """

    log = Logger()

    def __init__(self, serviceTypes: Sequence[str], listener: Callable[[InstanceEvent], None], clock: Any, *,
                 interfaces: Sequence[NetworkInterface] = (), ipv6: bool = True, port: int = MDNS_PORT,
                 listenMulticast: Optional[Callable[..., Any]] = None,
                 adoptDatagramPort: Optional[Callable[..., Any]] = None,
                 socketFactory: Callable[..., Any] = socket.socket, rng: Optional[random.Random] = None) -> None:
        self.serviceTypes = tuple(serviceTypes)
        self.listener = listener
        self.clock = clock
        self.interfaces = list(interfaces)
        self.ipv6 = ipv6
        self.port = port
        self.listenMulticast = listenMulticast
        self.adoptDatagramPort = adoptDatagramPort
        self.socketFactory = socketFactory
        self.rng = rng or random.Random()
        # interface name -> (the interface as opened, its querier, its ports)
        self.opened: dict[str, tuple[NetworkInterface, Querier, list[Any]]] = {}
        self.running = False

    def start(self) -> None:
        self.running = True
        for interface in self.interfaces:
            self._open(interface)

    def interfaceNamed(self, name: str) -> Optional[NetworkInterface]:
        """The interface browsed on under this name (what an instance's URL is checked against), or C{None}."""
        opened = self.opened.get(name)
        return opened[0] if opened is not None else None

    def stop(self) -> list[Any]:
        """Close every socket and stop every querier; returns the ports' stop Deferreds."""
        self.running = False
        results = []
        for name in list(self.opened):
            results += self._close(name)
        return [r for r in results if r is not None]

    def setInterfaces(self, interfaces: Sequence[NetworkInterface]) -> bool:
        """
        Browse on these interfaces from now on: one that is gone or changed
        is closed (its instances told gone), a new or changed one opened.

        @return: whether anything changed.
        """
        self.interfaces = list(interfaces)
        if not self.running:
            return False
        wanted = {i.name: i for i in interfaces}
        changed = False
        for name, (old, _, _) in list(self.opened.items()):
            if wanted.get(name) != old:
                self._close(name, tell=True)
                changed = True
        for name, interface in wanted.items():
            if name not in self.opened:
                self._open(interface)
                changed = True
        return changed

    def _open(self, interface: NetworkInterface) -> None:
        sockets: list[_Socket] = []

        def send(data: bytes) -> None:
            for s in sockets:
                s.send(data)

        querier = Querier(self.serviceTypes, send, self.listener, self.clock, interface=interface.name, rng=self.rng)
        ports: list[Any] = []
        v4 = interface.addressesOf(socket.AF_INET)
        if v4:
            address = str(v4[0].ip)
            try:
                proto = _Socket(f"{interface.name}/IPv4", interface, querier, (IPV4_GROUP, self.port))
                port = self.listenMulticast(self.port, proto, interface=IPV4_GROUP, listenMultiple=True,
                                            maxPacketSize=MAX_PACKET_BYTES)
                ports.append(port)
                setSocketOption(port, socket.IPPROTO_IP, IP_MULTICAST_ALL, 0)
                port.joinGroup(IPV4_GROUP, address).addErrback(
                    lambda f: self.log.error("mDNS: joining {group} on {iface} failed: {why}", group=IPV4_GROUP,
                                             iface=interface.name, why=f.getErrorMessage()))
                d = port.setOutgoingInterface(address)
                if d is not None:
                    d.addErrback(lambda f: self.log.error("mDNS: IP_MULTICAST_IF {address} failed: {why}",
                                                          address=address, why=f.getErrorMessage()))
                port.setTTL(255)
                sockets.append(proto)
            except Exception as e:
                self.log.error("mDNS: cannot listen on {iface} over IPv4: {error}", iface=interface.name, error=e)
        if self.ipv6 and interface.addressesOf(socket.AF_INET6):
            try:
                s = openIPv6GroupSocket(IPV6_GROUP, self.port, interface.index, self.socketFactory, hops=255)
                try:
                    proto = _Socket(f"{interface.name}/IPv6", interface, querier,
                                    (f"{IPV6_GROUP}%{interface.name}", self.port))
                    ports.append(self.adoptDatagramPort(s.fileno(), socket.AF_INET6, proto, MAX_PACKET_BYTES))
                    sockets.append(proto)
                finally:
                    s.close()  # the reactor holds its own copy of the descriptor
            except Exception as e:
                self.log.error("mDNS: cannot join {group} on {iface}: {error}", group=IPV6_GROUP,
                               iface=interface.name, error=e)
        if not sockets:
            for port in ports:
                port.stopListening()
            return
        self.opened[interface.name] = (interface, querier, ports)
        querier.start()
        self.log.info("mDNS: browsing {types} on {iface}", types=", ".join(self.serviceTypes), iface=interface.name)

    def _close(self, name: str, tell: bool = False) -> list[Any]:
        interface, querier, ports = self.opened.pop(name)
        gone = list(querier.instances.values())
        querier.stop()
        if tell:
            for instance in gone:
                self.listener(InstanceEvent(GONE, instance))
        return [port.stopListening() for port in ports]
