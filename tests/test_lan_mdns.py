"""
Tests for L{proxier.lan.mdns}: the RFC 6762 querier driven by a
L{task.Clock} with packets built by C{twisted.names.dns}, hostile packets,
and the per-interface sockets with injected fakes (no socket is opened).
"""

from __future__ import annotations

import random
import socket
import struct
from typing import Any

from twisted.internet.task import Clock
from twisted.logger import LogLevel
from twisted.names import dns
from twisted.trial import unittest

from proxier.lan import mdns
from proxier.lan.mdns import APPEARED, CHANGED, GONE, Browser, InstanceEvent, Querier, ServiceInstance, parseTXT

from ._helpers import LogCapture
from .test_lan_urlpolicy import LAN
from .test_upnp_discovery import FakeSock, Reactorish

IPP = "_ipp._tcp.local"
IPPS = "_ipps._tcp.local"
FLUSH = 0x8000
PRINTER = "192.168.1.20"


def rr(name: str, payload: Any, ttl: int, flush: bool = False) -> dns.RRHeader:
    return dns.RRHeader(name, payload.TYPE, dns.IN | (FLUSH if flush else 0), ttl, payload)


def ptr(instance: str = "Office", serviceType: str = IPP, ttl: int = 4500) -> dns.RRHeader:
    return rr(serviceType, dns.Record_PTR(f"{instance}.{serviceType}"), ttl)


def srv(instance: str = "Office", serviceType: str = IPP, port: int = 631, host: str = "printer.local",
        ttl: int = 120) -> dns.RRHeader:
    return rr(f"{instance}.{serviceType}", dns.Record_SRV(0, 0, port, host), ttl, flush=True)


def txt(*strings: bytes, instance: str = "Office", serviceType: str = IPP, ttl: int = 4500,
        flush: bool = True) -> dns.RRHeader:
    return rr(f"{instance}.{serviceType}", dns.Record_TXT(*(strings or (b"rp=ipp/print",))), ttl, flush=flush)


def a(address: str = PRINTER, host: str = "printer.local", ttl: int = 120, flush: bool = True) -> dns.RRHeader:
    return rr(host, dns.Record_A(address), ttl, flush=flush)


def aaaa(address: str = "fe80::20", host: str = "printer.local", ttl: int = 120) -> dns.RRHeader:
    return rr(host, dns.Record_AAAA(address), ttl, flush=True)


def response(*answers: dns.RRHeader, additional: tuple = (), answer: int = 1, opCode: int = 0,
             rCode: int = 0) -> bytes:
    m = dns.Message(id=0, answer=answer, opCode=opCode, auth=1, rCode=rCode, maxSize=0)
    m.answers, m.additional = list(answers), list(additional)
    return m.toStr()


def decode(data: bytes) -> dns.Message:
    m = dns.Message()
    m.fromStr(data)
    return m


def questions(data: bytes) -> list[tuple[bytes, int]]:
    return [(q.name.name, q.type) for q in decode(data).queries]


class QuerierCase(unittest.TestCase):
    types = (IPP, IPPS)

    def setUp(self) -> None:
        self.clock = Clock()
        self.sent: list[tuple[float, bytes]] = []
        self.events: list[InstanceEvent] = []
        self.logs = LogCapture(self)
        self.q = Querier(self.types, lambda data: self.sent.append((self.clock.seconds(), data)),
                         self.events.append, self.clock, interface="br-lan", rng=random.Random(7))
        self.q.start()
        self.addCleanup(self.q.stop)

    def receive(self, data: bytes, source: str = PRINTER, port: int = mdns.MDNS_PORT) -> None:
        self.q.datagramReceived(data, source, port)

    def advance(self, seconds: float, step: float = 0.01) -> None:
        end = self.clock.seconds() + seconds
        while self.clock.seconds() + step < end:
            self.clock.advance(step)
        self.clock.advance(max(0.0, end - self.clock.seconds()))

    def jump(self, seconds: float) -> None:
        """Advance from timer to timer, each fired at its very time."""
        end = self.clock.seconds() + seconds
        while self.clock.getDelayedCalls():
            due = min(c.getTime() for c in self.clock.getDelayedCalls())
            if due > end:
                break
            self.clock.advance(max(0.0, due - self.clock.seconds()))
        self.clock.advance(max(0.0, end - self.clock.seconds()))

    def browseTimes(self) -> list[float]:
        return [round(t, 2) for t, data in self.sent if (IPP.encode(), dns.PTR) in questions(data)]

    def announce(self) -> None:
        """The whole printer in one packet (PTR with SRV, TXT, A and AAAA as additionals), and the settle time."""
        self.receive(response(ptr(), additional=(srv(), txt(b"rp=ipp/print", b"UUID=x"), a(), aaaa())))
        self.clock.advance(mdns.SETTLE)


class ContinuousQueryingTests(QuerierCase):
    def test_firstQueryAfter20To120ms(self) -> None:
        """RFC 6762 §5.2: the first query goes 20-120 ms after the start, asking PTR of every type, nothing known."""
        self.clock.advance(0.019)
        self.assertEqual(self.sent, [])
        self.advance(0.11)
        self.assertEqual(len(self.sent), 1)
        self.assertTrue(0.02 <= self.sent[0][0] <= 0.12)
        message = decode(self.sent[0][1])
        self.assertEqual(sorted(questions(self.sent[0][1])), [(IPP.encode(), dns.PTR), (IPPS.encode(), dns.PTR)])
        self.assertEqual((message.answer, message.opCode, message.id, message.answers), (0, 0, 0, []))
        self.assertEqual([q.cls for q in message.queries], [dns.IN, dns.IN])  # QM questions

    def test_intervalDoublesToSixtyMinutes(self) -> None:
        """The interval between queries is 1 s, then doubles each time, and stays at 60 minutes once there."""
        self.jump(4 * 3600 + 3600 * 6)
        times = self.browseTimes()
        gaps = [round(b - c, 2) for c, b in zip(times, times[1:])]
        self.assertEqual(gaps[:13], [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3600])
        self.assertEqual(set(gaps[12:]), {3600})
        self.assertGreaterEqual(len(gaps), 16)

    def test_knownAnswers(self) -> None:
        """
        RFC 6762 §7.1: a query lists the cached answers with more than half
        their TTL left, with the TTL left; no longer once half is gone.
        """
        self.advance(0.2)
        self.receive(response(ptr(ttl=10), ptr("Lab", ttl=4500)))
        self.sent.clear()
        self.advance(1.0)  # the second query, about 1 s after the first
        known = {(r.payload.name.name, r.ttl) for r in decode(self.sent[-1][1]).answers}
        self.assertEqual({n for n, _ in known}, {b"Office." + IPP.encode(), b"Lab." + IPP.encode()})
        self.assertIn((b"Office." + IPP.encode(), 9), known)
        self.advance(6.0)  # the fourth, at about 7 s: Office has less than 5 of its 10 s left
        last = decode([d for t, d in self.sent if (IPP.encode(), dns.PTR) in questions(d)][-1])
        self.assertEqual([r.payload.name.name for r in last.answers], [b"Lab." + IPP.encode()])

    def test_knownAnswersOverSeveralPackets(self) -> None:
        """RFC 6762 §7.2: known answers that do not fit one packet go on in more, TC set on all but the last."""
        names = [f"Printer number {i:03d} on the third floor, east wing" for i in range(60)]
        self.advance(0.2)
        self.receive(response(*(ptr(n) for n in names)))
        self.sent.clear()
        self.advance(1.0)
        packets = [decode(d) for _, d in self.sent]
        self.assertTrue(all(len(d) <= mdns.MAX_QUERY_BYTES for _, d in self.sent))
        browse = [i for i, p in enumerate(packets) if (IPP.encode(), dns.PTR) in [(q.name.name, q.type) for q in p.queries]]
        self.assertEqual(len(browse), 1)
        chain = [packets[browse[0]]]
        for p in packets[browse[0] + 1:]:
            if not chain[-1].trunc:
                break
            chain.append(p)
        self.assertGreater(len(chain), 1)
        self.assertEqual([p.trunc for p in chain], [1] * (len(chain) - 1) + [0])
        self.assertTrue(all(p.queries == [] for p in chain[1:]))
        listed = sorted(r.payload.name.name for p in chain for r in p.answers if r.type == dns.PTR)
        self.assertEqual(listed, sorted(f"{n}.{IPP}".encode() for n in names))


class ResolvingTests(QuerierCase):
    def test_allInOnePacket(self) -> None:
        """A PTR with SRV, TXT, A and AAAA as additionals is an instance, told SETTLE later; nothing more is asked."""
        self.advance(0.2)
        self.sent.clear()
        self.receive(response(ptr(), additional=(srv(), txt(b"rp=ipp/print", b"UUID=x"), a(), aaaa())))
        self.clock.advance(mdns.SETTLE - 0.01)
        self.assertEqual(self.events, [])
        self.clock.advance(0.01)
        self.assertEqual(self.events, [InstanceEvent(APPEARED, ServiceInstance(
            interface="br-lan", name="Office._ipp._tcp.local", instance="Office", serviceType=IPP,
            host="printer.local", port=631, txt=(("rp", b"ipp/print"), ("uuid", b"x")),
            addresses=(PRINTER, "fe80::20"), source=PRINTER))])
        self.advance(0.5)
        self.assertEqual(self.sent, [])

    def test_addressesBeforeTheirSRV(self) -> None:
        """Addresses placed before the SRV naming their host in the same packet are kept all the same."""
        self.receive(response(a(), aaaa(), ptr(), srv(), txt()))
        self.clock.advance(mdns.SETTLE)
        self.assertEqual([(e.kind, e.instance.addresses) for e in self.events], [(APPEARED, (PRINTER, "fe80::20"))])

    def test_settle(self) -> None:
        """
        The answers of one burst are one appearance: the AAAA alone (over
        IPv6), then A and AAAA (over IPv4) within SETTLE, are told once with
        both.
        """
        self.receive(response(ptr(), additional=(srv(), txt(), aaaa())), source="fe80::20")
        self.clock.advance(0.005)
        self.receive(response(ptr(), additional=(srv(), txt(), a(), aaaa())))
        self.clock.advance(mdns.SETTLE)
        self.assertEqual([(e.kind, e.instance.addresses) for e in self.events], [(APPEARED, (PRINTER, "fe80::20"))])
        self.receive(response(a("192.168.1.21", flush=False)))  # once told, a change is told at once
        self.assertEqual([e.kind for e in self.events], [APPEARED, CHANGED])

    def test_stepByStep(self) -> None:
        """PTR only: SRV and TXT are asked for (20-120 ms later); an SRV: its host's A and AAAA; an A: the instance."""
        self.advance(0.2)
        self.sent.clear()
        self.receive(response(ptr()))
        self.assertEqual(self.events, [])
        self.advance(0.13)
        name = b"Office." + IPP.encode()
        self.assertEqual(sorted(questions(self.sent[-1][1])), sorted([(name, dns.SRV), (name, dns.TXT)]))
        self.receive(response(srv(), txt()))
        self.advance(0.13)
        self.assertEqual(sorted(questions(self.sent[-1][1])),
                         sorted([(b"printer.local", dns.A), (b"printer.local", dns.AAAA)]))
        self.assertEqual(self.events, [])
        self.receive(response(a()))
        self.clock.advance(mdns.SETTLE)
        self.assertEqual([(e.kind, e.instance.addresses, e.instance.port) for e in self.events],
                         [(APPEARED, (PRINTER,), 631)])

    def test_unansweredQuestionBacksOff(self) -> None:
        """A question nobody answers is asked again 1 s, 2 s, 4 s… apart."""
        self.advance(0.2)
        self.receive(response(ptr()))
        self.sent.clear()
        self.advance(16)
        name = b"Office." + IPP.encode()
        times = [t for t, d in self.sent if (name, dns.SRV) in questions(d)]
        gaps = [round(b - c, 2) for c, b in zip(times, times[1:])]
        self.assertEqual(gaps, [1, 2, 4, 8])

    def test_instanceLabelWithDots(self) -> None:
        """An instance name holding dots is asked for with its first label whole (RFC 6763 §4.3)."""
        self.advance(0.2)
        self.sent.clear()
        label = b"Lab 2.1 (M402)"
        m = dns.Message(answer=1, auth=1, maxSize=0)
        record = dns.Record_PTR()
        record.name = mdns._InstanceName(label, IPP.encode())
        m.answers = [dns.RRHeader(IPP, dns.PTR, dns.IN, 4500, record)]
        self.receive(m.toStr())
        self.advance(0.13)
        self.assertIn(bytes([len(label)]) + label + b"\x04_ipp\x04_tcp\x05local\x00", self.sent[-1][1])

    def test_txtChangeWithCacheFlush(self) -> None:
        """A new TXT with the cache-flush bit: CHANGED now, and the old one, flushed a second later, tells nothing."""
        self.advance(0.2)
        self.announce()
        self.advance(2)
        self.receive(response(txt(b"rp=ipp/print", b"note=Room 7")))
        self.assertEqual([(e.kind, e.instance.text("note")) for e in self.events[1:]], [(CHANGED, "Room 7")])
        self.advance(1.5)
        self.assertEqual(len(self.events), 2)
        self.assertEqual(len(self.q.rrsets[(b"office." + IPP.encode(), dns.TXT)]), 1)

    def test_cacheFlushKeepsWhatCameWithinASecond(self) -> None:
        """RFC 6762 §10.2: records of one set arriving within a second of each other stay; older ones go a second later."""
        self.advance(0.2)
        self.announce()
        self.advance(2)
        self.receive(response(a("192.168.1.21")))
        self.advance(0.5)
        self.receive(response(a("192.168.1.22")))
        self.advance(0.6)  # the first A (received 2.5 s before the flush) is gone now
        self.assertEqual(self.events[-1].kind, CHANGED)
        self.assertEqual(self.events[-1].instance.addresses, ("192.168.1.21", "192.168.1.22", "fe80::20"))

    def test_withoutFlushBitRecordsAccumulate(self) -> None:
        """Without the cache-flush bit (a shared record) a second value is added, the first kept."""
        self.advance(0.2)
        self.announce()
        self.advance(2)
        self.receive(response(a("192.168.1.21", flush=False)))
        self.advance(2)
        self.assertEqual(self.events[-1].instance.addresses, (PRINTER, "192.168.1.21", "fe80::20"))

    def test_sourceIsTheFirstSRVSender(self) -> None:
        """The instance's source is the responder that first sent its SRV; the SRV heard again from its IPv6 address changes nothing."""
        self.advance(0.2)
        self.announce()
        self.receive(response(srv(), a(), aaaa()), source="fe80::20")
        self.assertEqual([(e.kind, e.instance.source) for e in self.events], [(APPEARED, PRINTER)])

    def test_srvNamingTheRoot(self) -> None:
        """An SRV whose target is the root ("." : not offered, RFC 2782) is no instance, and no address is asked for."""
        self.advance(0.2)
        self.receive(response(ptr(), additional=(srv(host=""), txt())))
        self.sent.clear()
        self.advance(5)
        self.assertEqual(self.events, [])
        self.assertFalse(any(t in (dns.A, dns.AAAA) for _, d in self.sent for _, t in questions(d)))

    def test_severalSRVs(self) -> None:
        """The SRV with the lowest priority (then highest weight) names host and port."""
        self.advance(0.2)
        low = rr(f"Office.{IPP}", dns.Record_SRV(10, 0, 8631, "printer.local"), 120)
        high = rr(f"Office.{IPP}", dns.Record_SRV(0, 5, 631, "printer.local"), 120)
        self.receive(response(ptr(), additional=(low, high, txt(), a())))
        self.clock.advance(mdns.SETTLE)
        self.assertEqual(self.events[-1].instance.port, 631)


class CacheTests(QuerierCase):
    def test_goodbyeOneSecondGrace(self) -> None:
        """RFC 6762 §10.1: a goodbye (TTL 0) removes the instance one second later, not at once."""
        self.advance(0.2)
        self.announce()
        self.advance(5)
        self.receive(response(ptr(ttl=0)))
        self.advance(0.9)
        self.assertEqual([e.kind for e in self.events], [APPEARED])
        self.advance(0.2)
        self.assertEqual([e.kind for e in self.events], [APPEARED, GONE])
        self.assertEqual(self.events[-1].instance.name, "Office._ipp._tcp.local")

    def test_goodbyeThenAnnouncement(self) -> None:
        """A goodbye followed within its second by the record again (a restart of the responder) is no departure."""
        self.advance(0.2)
        self.announce()
        self.receive(response(ptr(ttl=0)))
        self.advance(0.5)
        self.announce()
        self.advance(3)
        self.assertEqual([e.kind for e in self.events], [APPEARED])

    def test_goodbyeOfUnknownRecord(self) -> None:
        """A goodbye for a record never cached caches nothing."""
        self.receive(response(ptr(ttl=0)))
        self.assertEqual(self.q.size, 0)

    def test_refreshAt80To95PercentThenExpiry(self) -> None:
        """
        RFC 6762 §5.2: a needed record is asked for at 80, 85, 90 and 95 %
        of its TTL (+ up to 2 %), without it as a known answer; unanswered,
        it expires at its TTL and the instance is gone.
        """
        self.advance(0.2)
        self.announce()  # SRV and A: 120 s
        self.sent.clear()
        self.advance(121, step=0.05)
        name = b"Office." + IPP.encode()
        times = [t - 0.2 for t, d in self.sent if (name, dns.SRV) in questions(d) and t - 0.2 < 120]
        self.assertEqual(len(times), 4)
        for t, fraction in zip(times, (0.80, 0.85, 0.90, 0.95)):
            self.assertTrue(120 * fraction <= t <= 120 * (fraction + 0.02) + 0.06, (t, fraction))
        asked = [decode(d) for t, d in self.sent if (name, dns.SRV) in questions(d) and t - 0.2 < 120]
        self.assertTrue(all(not any(r.type == dns.SRV for r in m.answers) for m in asked))
        self.assertEqual([e.kind for e in self.events], [APPEARED, GONE])
        self.assertTrue(120 <= self.clock.seconds() - 0.2)

    def test_answeredRefreshKeepsInstance(self) -> None:
        """A refresh answered renews the records: the instance stays."""
        self.advance(0.2)
        self.announce()
        for _ in range(3):
            self.advance(100, step=0.1)
            self.receive(response(srv(), a(), aaaa()))
        self.assertEqual([e.kind for e in self.events], [APPEARED])

    def test_ttlCapped(self) -> None:
        """A TTL beyond MAX_TTL counts as MAX_TTL: no record stays forever."""
        self.receive(response(ptr(ttl=2**31)))
        entry = next(iter(self.q.rrsets[(IPP.encode(), dns.PTR)].values()))
        self.assertEqual(entry.ttl, mdns.MAX_TTL)

    def test_cacheBounded(self) -> None:
        """The cache holds at most maxCache records; the rest are dropped with a (rate-limited) log line."""
        self.q.maxCache = 10
        self.receive(response(*(ptr(f"P{i}") for i in range(20))))
        self.receive(response(*(ptr(f"Q{i}") for i in range(20))))
        self.assertEqual(self.q.size, 10)
        self.assertEqual(self.q.stats["cache-full"], 30)
        self.assertEqual(len([e for e in self.logs.atLeast(LogLevel.warn) if "full" in e["log_format"]]), 1)

    def test_onlyRelevantRecordsCached(self) -> None:
        """Other types' PTRs, SRVs and TXTs, a PTR of ours naming another type, and unrelated hosts' addresses are not cached."""
        other = "_http._tcp.local"
        self.receive(response(
            ptr(serviceType=other), srv(serviceType=other), txt(serviceType=other), a(host="other.local"),
            rr(IPP, dns.Record_PTR(f"Office.{other}"), 4500), rr(IPP, dns.Record_PTR(IPP), 4500),
            rr("printer.local", dns.Record_HINFO(b"x", b"y"), 120),
        ))
        self.assertEqual(self.q.size, 0)

    def test_ignored(self) -> None:
        """A query, a response from a port other than 5353, with an opcode or an rcode: nothing is cached (§6, §18)."""
        whole = (ptr(), srv(), txt(), a())
        self.receive(response(*whole, answer=0))
        self.receive(response(*whole), port=53)
        self.receive(response(*whole, opCode=1))
        self.receive(response(*whole, rCode=3))
        self.assertEqual((self.q.size, self.q.stats["ignored"]), (0, 4))
        self.assertEqual(self.events, [])

    def test_stop(self) -> None:
        """Stopped, the querier has no timer left and ignores datagrams."""
        self.advance(0.2)
        self.announce()
        self.q.stop()
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.announce()
        self.assertEqual(self.q.size, 0)

    def test_listenerFailureContained(self) -> None:
        """A listener that raises is logged; the querier goes on."""
        def broken(event: InstanceEvent) -> None:
            raise RuntimeError("bug")
        self.q.listener = broken
        self.announce()
        self.flushLoggedErrors(RuntimeError)
        self.q.listener = self.events.append
        self.receive(response(ptr("Lab"), additional=(srv("Lab", host="lab.local"), txt(instance="Lab"),
                                                      a("192.168.1.30", host="lab.local"))))
        self.clock.advance(mdns.SETTLE)
        self.assertEqual([e.instance.instance for e in self.events], ["Lab"])


class HostileTests(QuerierCase):
    def dropped(self, data: bytes, source: str) -> list[dict]:
        before = self.q.stats["dropped"]
        self.receive(data, source=source)
        self.assertEqual(self.q.stats["dropped"], before + 1)
        return [e for e in self.logs.atLeast(LogLevel.warn) if e.get("source") == source]

    def test_eachDroppedWithOneLogLine(self) -> None:
        """Oversize, short, too many records, a compression loop, truncated, garbage, trailing bytes: dropped, one line each."""
        good = response(ptr(), additional=(srv(), txt(), a()))
        loop = bytearray(struct.pack("!6H", 0, 0x8400, 0, 1, 0, 0))
        loop += b"\xc0\x0c" + struct.pack("!HHIH", dns.PTR, dns.IN, 120, 2) + b"\xc0\x0c"
        cases = {
            "10.0.0.1": b"\0" * (mdns.MAX_PACKET_BYTES + 1),
            "10.0.0.2": b"\0" * 5,
            "10.0.0.3": struct.pack("!6H", 0, 0x8400, 0, 200, 0, 100),
            "10.0.0.4": bytes(loop),
            "10.0.0.5": good[:-7],
            "10.0.0.6": bytes(random.Random(1).getrandbits(8) for _ in range(300)),
            "10.0.0.7": good + b"\x00garbage",
        }
        for source, data in cases.items():
            lines = self.dropped(data, source)
            self.assertEqual(len(lines), 1, source)
            self.assertIn("dropped", lines[0]["log_format"])
        self.assertEqual((self.q.size, self.events), (0, []))
        self.announce()  # and the querier works on
        self.assertEqual([e.kind for e in self.events], [APPEARED])

    def test_floodRateLimited(self) -> None:
        """A flood of garbage from one source costs one log line a minute."""
        for _ in range(100):
            self.receive(b"\xff" * 40, source="10.0.0.9")
        lines = [e for e in self.logs.atLeast(LogLevel.warn) if e.get("source") == "10.0.0.9"]
        self.assertEqual((len(lines), self.q.stats["dropped"]), (1, 100))

    def test_boundedFuzz(self) -> None:
        """Random mutations of a real answer never raise, and the cache stays within its bound."""
        good = response(ptr(), additional=(srv(), txt(b"rp=ipp/print", b"UUID=1"), a(), aaaa()))
        rng = random.Random(14)
        self.q.maxCache = 64
        for _ in range(2000):
            data = bytearray(good)
            for _ in range(rng.randint(1, 6)):
                data[rng.randrange(len(data))] = rng.getrandbits(8)
            if rng.random() < 0.2:
                data = data[:rng.randrange(len(data))]
            self.receive(bytes(data), source=f"10.1.{rng.randrange(256)}.1")
            self.assertLessEqual(self.q.size, 64)
        self.clock.advance(1)
        self.flushLoggedErrors()
        self.assertEqual([e for e in self.logs.errors() if e.get("log_failure")], [])


class TXTTests(unittest.TestCase):
    def test_rules(self) -> None:
        """RFC 6763 §6.4: key before the first '=', case-insensitive, first wins, no '=' is boolean, empty key skipped."""
        self.assertEqual(
            parseTXT([b"rp=ipp/print", b"RP=other", b"Color", b"=nokey", b"", b"note=a=b", b"ty=", b"bad\x01key=1"]),
            (("rp", b"ipp/print"), ("color", None), ("note", b"a=b"), ("ty", b"")),
        )

    def test_text(self) -> None:
        """ServiceInstance.text reads a key in any case, as UTF-8; absent and boolean are None."""
        i = ServiceInstance("br-lan", "x", "x", IPP, "h", 1, txt=(("note", "Büro".encode()), ("color", None)))
        self.assertEqual((i.text("NOTE"), i.text("color"), i.text("missing")), ("Büro", None, None))


class BrowserTests(unittest.TestCase):
    def setUp(self) -> None:
        FakeSock.made = []
        self.clock = Clock()
        self.r = Reactorish()
        self.events: list[InstanceEvent] = []
        self.browser = Browser((IPP,), self.events.append, self.clock, interfaces=[LAN], ipv6=True,
                               listenMulticast=self.r.listenMulticast, adoptDatagramPort=self.r.adoptDatagramPort,
                               socketFactory=FakeSock, rng=random.Random(2))
        self.logs = LogCapture(self)
        self.browser.start()
        self.addCleanup(self.browser.stop)

    def test_sockets(self) -> None:
        """IPv4: 224.0.0.251:5353 joined on the interface's address, TTL 255; IPv6: ff02::fb on its index, hops 255."""
        [(port, interface, multiple, v4)] = self.r.multicast
        self.assertEqual((port, interface, multiple), (5353, "224.0.0.251", True))
        self.assertEqual((v4.joined, v4.outgoing, v4.ttl), ([("224.0.0.251", "192.168.1.1")], "192.168.1.1", 255))
        self.assertIn((socket.IPPROTO_IP, 49, 0), v4.socket.options)
        [s] = [made for made in FakeSock.made if made.bound]
        self.assertEqual(s.bound, ("ff02::fb", 5353, 0, 5))
        group = socket.inet_pton(socket.AF_INET6, "ff02::fb") + struct.pack("@I", 5)
        for option in ((socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, group),
                       (socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, 5),
                       (socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)):
            self.assertIn(option, s.options)
        self.assertTrue(s.closed)

    def test_queriesOnBothFamilies(self) -> None:
        """The interface's queries go to both groups, IPv6 with the interface's zone."""
        self.clock.advance(0.2)
        v4 = self.r.multicast[0][3]
        v6 = self.r.adopted[0][2]
        self.assertEqual([addr for _, addr in v4.written], [("224.0.0.251", 5353)])
        self.assertEqual([addr for _, addr in v6.written], [("ff02::fb%br-lan", 5353)])
        self.assertEqual(v4.written[0][0], v6.written[0][0])

    def test_onLinkOnly(self) -> None:
        """A response from off-link is dropped (logged); one from the LAN (IPv4 or IPv6) reaches the querier."""
        v4 = self.r.multicast[0][3]
        v6 = self.r.adopted[0][2]
        whole = response(ptr(), additional=(srv(), txt(), a(), aaaa()))
        v4.protocol.datagramReceived(whole, ("10.9.9.9", 5353))
        self.assertEqual(self.events, [])
        self.assertEqual(len([e for e in self.logs.atLeast(LogLevel.warn) if "on-link" in e["log_format"]]), 1)
        v6.protocol.datagramReceived(whole, ("fe80::20%br-lan", 5353, 0, 5))
        self.clock.advance(mdns.SETTLE)
        self.assertEqual([(e.kind, e.instance.interface) for e in self.events], [(APPEARED, "br-lan")])

    def test_interfaceGone(self) -> None:
        """An interface no longer listed is closed, its instances told gone; a new one is opened."""
        self.r.multicast[0][3].protocol.datagramReceived(response(ptr(), additional=(srv(), txt(), a())),
                                                          (PRINTER, 5353))
        self.clock.advance(mdns.SETTLE)
        other = type(LAN)("eth1", 7, addresses=LAN.addresses[:1])
        self.assertTrue(self.browser.setInterfaces([other]))
        self.assertEqual([e.kind for e in self.events], [APPEARED, GONE])
        self.assertTrue(self.r.multicast[0][3].stopped and self.r.adopted[0][2].stopped)
        self.assertEqual(list(self.browser.opened), ["eth1"])
        self.assertFalse(self.browser.setInterfaces([other]))

    def test_stop(self) -> None:
        """Stop closes every port and leaves no timer."""
        self.browser.stop()
        self.assertTrue(all(p.stopped for *_, p in self.r.multicast))
        self.assertEqual(self.clock.getDelayedCalls(), [])
