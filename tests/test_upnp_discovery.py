"""Tests for L{proxier.upnp.discovery}: the SSDP sockets, with injected fakes (no socket is opened)."""

from __future__ import annotations

import ipaddress
import random
import socket
import struct

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import succeed
from twisted.internet.task import Clock
from twisted.trial import unittest

from proxier.upnp import ssdp
from proxier.lan.multicast import openIPv6GroupSocket
from proxier.upnp.discovery import SEARCH_TARGETS, Discovery, openIPv6SearchSocket
from proxier.lan.netif import NetworkInterface
from proxier.upnp.ssdp import Notify, Search

from ._helpers import LogCapture
from .test_lan_urlpolicy import LAN

UDN = "uuid:0badcafe-0000-4000-8000-000000000001"
ALIVE = Notify(nts=ssdp.ALIVE, nt="upnp:rootdevice", usn=UDN + "::upnp:rootdevice",
               location="http://192.168.1.20:1/d.xml").toBytes()


class FakeSock:
    """A socket that records what is done to it."""

    made: list = []

    def __init__(self, family: int, kind: int) -> None:
        self.family, self.kind = family, kind
        self.options: list = []
        self.bound = None
        self.closed = False
        self.blocking = True
        FakeSock.made.append(self)

    def setsockopt(self, level: int, option: int, value: object) -> None:
        self.options.append((level, option, value))

    def bind(self, address: tuple) -> None:
        self.bound = address

    def setblocking(self, flag: bool) -> None:
        self.blocking = flag

    def fileno(self) -> int:
        return 100 + FakeSock.made.index(self)

    def close(self) -> None:
        self.closed = True


class FakePort:
    def __init__(self, protocol: object, host: str, number: int, family: str = "v4") -> None:
        self.protocol, self.host, self.number, self.family = protocol, host, number, family
        self.written: list = []
        self.joined: list = []
        self.ttl = None
        self.outgoing = None
        self.stopped = False
        self.socket = FakeSock(socket.AF_INET, socket.SOCK_DGRAM)
        protocol.makeConnection(self)

    def write(self, data: bytes, address: tuple) -> None:
        self.written.append((data, address))

    def getHost(self) -> object:
        if self.family == "v6":
            return IPv6Address("UDP", self.host, self.number)
        return IPv4Address("UDP", self.host, self.number)

    def joinGroup(self, group: str, interface: str) -> object:
        self.joined.append((group, interface))
        return succeed(None)

    def setOutgoingInterface(self, address: str) -> object:
        self.outgoing = address
        return succeed(None)

    def setTTL(self, ttl: int) -> None:
        self.ttl = ttl

    def stopListening(self) -> None:
        self.stopped = True


class Reactorish:
    """The listen functions, recording their calls."""

    def __init__(self) -> None:
        self.multicast: list = []
        self.udp: list = []
        self.adopted: list = []
        self.fail: set = set()

    def listenMulticast(self, port: int, protocol: object, interface: str = "", listenMultiple: bool = False,
                        maxPacketSize: int = 8192) -> FakePort:
        if interface in self.fail:
            raise OSError("cannot bind")
        p = FakePort(protocol, interface, port or 40000 + len(self.multicast))
        self.multicast.append((port, interface, listenMultiple, p))
        return p

    def listenUDP(self, port: int, protocol: object, interface: str = "", maxPacketSize: int = 8192) -> FakePort:
        p = FakePort(protocol, interface, port or 45000)
        self.udp.append((port, interface, p))
        return p

    def adoptDatagramPort(self, fd: int, family: int, protocol: object, maxPacketSize: int = 8192) -> FakePort:
        p = FakePort(protocol, "::", 46000 + len(self.adopted), "v6")
        self.adopted.append((fd, family, p))
        return p


class MulticastTests(unittest.TestCase):
    def setUp(self) -> None:
        FakeSock.made = []
        self.clock = Clock()
        self.r = Reactorish()
        self.received: list = []
        self.discovery = Discovery(
            lambda m, o: self.received.append((m, o)), self.clock, mode="multicast", interfaces=[LAN],
            ipv6=True, searchInterval=300, mx=2, copies=3, copyGap=0.25,
            listenUDP=self.r.listenUDP, listenMulticast=self.r.listenMulticast,
            adoptDatagramPort=self.r.adoptDatagramPort, socketFactory=FakeSock, rng=random.Random(3),
        )
        self.logs = LogCapture(self)
        self.discovery.start()

    def test_ipv4Sockets(self) -> None:
        """IPv4: a group socket bound to 239.255.255.250:1900, joined on the interface, hearing only its own membership; a search socket with IP_MULTICAST_IF and TTL 2."""
        (gport, ginterface, multiple, group), (sport, sinterface, _, search) = self.r.multicast
        self.assertEqual((gport, ginterface, multiple), (1900, "239.255.255.250", True))
        self.assertEqual(group.joined, [("239.255.255.250", "192.168.1.1")])
        self.assertIn((socket.IPPROTO_IP, 49, 0), group.socket.options)
        self.assertEqual((sport, sinterface, search.outgoing, search.ttl), (0, "192.168.1.1", "192.168.1.1", 2))

    def test_receiveBuffers(self) -> None:
        """Every SSDP socket asks for a large receive buffer (a power cut brings every device back at once)."""
        from proxier.upnp.discovery import RECEIVE_BUFFER

        ports = [p for *_, p in self.r.multicast] + [p for *_, p in self.r.adopted]
        self.assertEqual(len(ports), 5)
        for port in ports:
            self.assertIn((socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER), port.socket.options)

    def test_ipv6Sockets(self) -> None:
        """IPv6: FF02::C and FF05::C joined with IPV6_JOIN_GROUP and the interface index on own sockets, adopted; a search socket with IPV6_MULTICAST_IF and hops 2."""
        link, site, search = [s for s in FakeSock.made if s.family == socket.AF_INET6]
        self.assertEqual(link.bound, ("ff02::c", 1900, 0, 5))
        self.assertEqual(site.bound, ("ff05::c", 1900, 0, 0))
        for s, group in ((link, "ff02::c"), (site, "ff05::c")):
            join = socket.inet_pton(socket.AF_INET6, group) + struct.pack("@I", 5)
            self.assertIn((socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, join), s.options)
            self.assertIn((socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1), s.options)
            self.assertFalse(s.blocking)
        self.assertIn((socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, 5), search.options)
        self.assertIn((socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 2), search.options)
        self.assertEqual([a[0] for a in self.r.adopted], [link.fileno(), site.fileno(), search.fileno()])
        self.assertTrue(all(s.closed for s in (link, site, search)))

    def test_searchRound(self) -> None:
        """A round sends every ST to every group, three copies a little apart, with MX 2 and the right HOST."""
        self.clock.advance(1.0)
        v4 = self.r.multicast[1][3]
        v6 = self.r.adopted[2][2]
        self.assertEqual(len(v4.written), len(SEARCH_TARGETS))
        self.clock.advance(0.3)
        self.assertEqual(len(v4.written), 2 * len(SEARCH_TARGETS))
        self.clock.advance(0.3)
        self.assertEqual(len(v4.written), 3 * len(SEARCH_TARGETS))
        searches = [ssdp.parse(d) for d, _ in v4.written]
        self.assertEqual({s.st for s in searches}, set(SEARCH_TARGETS))
        self.assertTrue(all(isinstance(s, Search) and s.mx == 2 and s.host == "239.255.255.250:1900" for s in searches))
        self.assertEqual({a for _, a in v4.written}, {("239.255.255.250", 1900)})
        self.assertEqual({a for _, a in v6.written}, {("ff02::c%br-lan", 1900), ("ff05::c", 1900)})
        self.assertEqual({ssdp.parse(d).host for d, _ in v6.written}, {"[FF02::C]:1900", "[FF05::C]:1900"})
        self.assertEqual(self.discovery.stats["sent"], 3 * 3 * len(SEARCH_TARGETS))

    def test_periodic(self) -> None:
        """Rounds repeat every search_interval, jittered by up to 10 %."""
        self.clock.advance(1.0)
        self.clock.advance(269)
        self.assertEqual(self.discovery.stats["rounds"], 1)
        self.clock.advance(62)
        self.assertEqual(self.discovery.stats["rounds"], 2)

    def test_onLinkOnly(self) -> None:
        """An on-link NOTIFY reaches the sink with its origin; off-link, malformed and other searches do not."""
        group = self.r.multicast[0][3].protocol
        group.datagramReceived(ALIVE, ("192.168.1.20", 1900))
        group.datagramReceived(ALIVE, ("10.0.0.5", 1900))
        group.datagramReceived(b"garbage", ("192.168.1.21", 1900))
        group.datagramReceived(Search(st="ssdp:all").toBytes(), ("192.168.1.22", 50000))
        v6 = self.r.adopted[0][2].protocol
        v6.datagramReceived(ALIVE, ("fe80::20%br-lan", 1900))
        v6.datagramReceived(ALIVE, ("2001:db8::1", 1900))
        self.assertEqual([(o.source, o.interface.name) for _, o in self.received],
                         [("192.168.1.20", "br-lan"), ("fe80::20%br-lan", "br-lan")])
        stats = self.discovery.stats
        self.assertEqual((stats["off-link"], stats["malformed"], stats["searches"], stats["parsed"]), (2, 1, 1, 2))

    def test_sinkErrorContained(self) -> None:
        """A failure behind the sink is logged with the source; the next datagram is handled."""
        def broken(message: object, origin: object) -> None:
            raise RuntimeError("tracker bug")

        self.discovery.sink = broken
        group = self.r.multicast[0][3].protocol
        group.sink = broken
        group.datagramReceived(ALIVE, ("192.168.1.20", 1900))
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        group.sink = lambda m, o: self.received.append((m, o))
        group.datagramReceived(ALIVE, ("192.168.1.20", 1900))
        self.assertEqual(len(self.received), 1)

    def test_stop(self) -> None:
        """stop() closes every socket and cancels the rounds."""
        self.discovery.stop()
        self.assertTrue(all(p.stopped for *_, p in self.r.multicast))
        self.assertTrue(all(p.stopped for *_, p in self.r.adopted))
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_sendErrorsContained(self) -> None:
        """A failing send is counted and logged; the round goes on."""
        port = self.r.multicast[1][3]

        def broken(data: bytes, address: tuple) -> None:
            raise OSError("Network is unreachable")

        port.write = broken
        for _ in range(3):
            self.clock.advance(1)
        self.assertEqual(self.discovery.stats["send-errors"], 3 * len(SEARCH_TARGETS))
        self.assertGreater(self.discovery.stats["sent"], 0)


BRIDGE = NetworkInterface("br-guest", 9, addresses=(ipaddress.ip_interface("192.168.7.1/24"),))


class InterfaceChangeTests(unittest.TestCase):
    """An interface that appears, changes or goes while discovery runs (issue 16)."""

    def setUp(self) -> None:
        FakeSock.made = []
        self.clock = Clock()
        self.r = Reactorish()
        self.logs = LogCapture(self)
        self.discovery = Discovery(
            lambda m, o: None, self.clock, interfaces=[], ipv6=False, copies=1,
            listenUDP=self.r.listenUDP, listenMulticast=self.r.listenMulticast,
            adoptDatagramPort=self.r.adoptDatagramPort, socketFactory=FakeSock, rng=random.Random(3),
        )
        self.discovery.start()

    def test_lateInterface(self) -> None:
        """Started with no interface, discovery waits (not 'off'); a bridge that comes up later is opened and searched."""
        self.assertEqual(self.discovery.ports, [])
        self.assertTrue(any("waits for a usable LAN interface" in e["log_format"] for e in self.logs.errors()))
        self.assertTrue(self.discovery.setInterfaces([BRIDGE]))
        self.assertEqual([(port, iface) for port, iface, _, _ in self.r.multicast],
                         [(1900, "239.255.255.250"), (0, "192.168.7.1")])
        self.assertEqual(self.r.multicast[0][3].joined, [("239.255.255.250", "192.168.7.1")])
        self.clock.advance(1.0)
        search = self.r.multicast[1][3]
        self.assertEqual(len(search.written), len(SEARCH_TARGETS))
        self.assertFalse(self.discovery.setInterfaces([BRIDGE]), "nothing changed: nothing reopened")
        self.assertEqual(len(self.r.multicast), 2)

    def test_goneAndChanged(self) -> None:
        """A vanished interface's sockets are closed; one whose address changed is reopened on the new address."""
        self.discovery.setInterfaces([BRIDGE, LAN])
        bridgePorts = [p for _, iface, _, p in self.r.multicast if iface in ("239.255.255.250", "192.168.7.1")][:2]
        self.discovery.setInterfaces([LAN])
        self.assertTrue(all(p.stopped for p in bridgePorts))
        self.assertEqual(len(self.discovery.searchers), 1)
        self.assertNotIn(bridgePorts[0], self.discovery.ports)
        moved = NetworkInterface("br-lan", LAN.index, addresses=(ipaddress.ip_interface("192.168.8.1/24"),))
        self.discovery.setInterfaces([moved])
        self.assertEqual(self.r.multicast[-1][1], "192.168.8.1")
        self.assertEqual(len(self.discovery.searchers), 1)
        self.assertEqual(len(self.discovery.ports), 2)
        self.discovery.setInterfaces([])
        self.assertEqual(self.discovery.ports, [])
        self.assertEqual(self.clock.getDelayedCalls(), [], "no round left scheduled")

    def test_newInterfaceSearchedAtOnce(self) -> None:
        """While rounds run, a new interface gets a search round of its own at once, the others none extra."""
        self.discovery.setInterfaces([LAN])
        self.clock.advance(1.0)
        lanSearch = self.r.multicast[1][3]
        sent = len(lanSearch.written)
        self.discovery.setInterfaces([LAN, BRIDGE])
        bridgeSearch = self.r.multicast[3][3]
        self.assertEqual(len(bridgeSearch.written), len(SEARCH_TARGETS))
        self.assertEqual(len(lanSearch.written), sent)


class PartialTests(unittest.TestCase):
    def test_oneInterfaceFails(self) -> None:
        """An interface that cannot be opened is logged; the others work; none at all turns discovery off."""
        FakeSock.made = []
        r = Reactorish()
        r.fail.add("192.168.1.1")
        logs = LogCapture(self)
        d = Discovery(lambda m, o: None, Clock(), interfaces=[LAN], ipv6=False, listenMulticast=r.listenMulticast,
                      listenUDP=r.listenUDP, adoptDatagramPort=r.adoptDatagramPort, socketFactory=FakeSock)
        d.start()
        self.assertEqual(d.searchers, [])
        self.assertTrue(any("cannot listen on br-lan" in e.get("log_format", "").replace("{iface}", "br-lan")
                            for e in logs.errors()))
        none = Discovery(lambda m, o: None, Clock(), interfaces=[], listenMulticast=r.listenMulticast)
        none.start()
        self.assertIsNone(none.timer)

    def test_groupSocketClosedOnFailure(self) -> None:
        """A group socket whose join fails is closed and the error raised."""
        class Refusing(FakeSock):
            def setsockopt(self, level: int, option: int, value: object) -> None:
                if option == socket.IPV6_JOIN_GROUP:
                    raise OSError("No such device")
                super().setsockopt(level, option, value)

        FakeSock.made = []
        self.assertRaises(OSError, openIPv6GroupSocket, "ff02::c", 1900, 99, Refusing)
        self.assertTrue(FakeSock.made[0].closed)
        s = openIPv6SearchSocket(7, 2, FakeSock)
        self.assertEqual(s.bound, ("::", 0, 0, 0))

    def test_badMX(self) -> None:
        """MX outside 1-5 is refused at construction."""
        self.assertRaises(ValueError, Discovery, lambda m, o: None, Clock(), mx=0)
        self.assertRaises(ValueError, Discovery, lambda m, o: None, Clock(), mx=6)
        self.assertRaises(ValueError, Discovery, lambda m, o: None, Clock(), mode="broadcast")


class LoopbackTests(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.r = Reactorish()
        self.received: list = []
        self.discovery = Discovery(
            lambda m, o: self.received.append((m, o)), self.clock, mode="unicast-loopback", ssdpPort=0,
            loopbackPorts=[5001], copies=2, listenUDP=self.r.listenUDP, rng=random.Random(1),
        )
        self.discovery.start()
        self.port = self.r.udp[0][2]

    def test_socket(self) -> None:
        """One socket on 127.0.0.1, no group joined, nothing multicast opened."""
        self.assertEqual(self.r.udp[0][:2], (0, "127.0.0.1"))
        self.assertEqual((self.r.multicast, self.r.adopted), ([], []))
        self.assertEqual(self.discovery.address, ("127.0.0.1", 45000))

    def test_loopbackOnly(self) -> None:
        """Only loopback sources are heard; the origin is in loopback mode."""
        proto = self.port.protocol
        proto.datagramReceived(ALIVE, ("127.0.0.1", 6000))
        proto.datagramReceived(ALIVE, ("192.168.1.20", 6000))
        self.assertEqual(len(self.received), 1)
        self.assertTrue(self.received[0][1].loopbackMode)

    def test_unicastSearches(self) -> None:
        """Searches go unicast to configured and learned loopback ports (and SEARCHPORT), never to a group."""
        proto = self.port.protocol
        proto.datagramReceived(ALIVE, ("127.0.0.1", 6000))
        withPort = Notify(nts=ssdp.ALIVE, nt="upnp:rootdevice", usn=UDN, location="http://127.0.0.1:1/d.xml",
                          searchPort=50000).toBytes()
        proto.datagramReceived(withPort, ("127.0.0.1", 6001))
        self.clock.advance(1.0)
        destinations = {a for _, a in self.port.written}
        self.assertEqual(destinations, {("127.0.0.1", 5001), ("127.0.0.1", 6000), ("127.0.0.1", 6001),
                                        ("127.0.0.1", 50000)})
        search = ssdp.parse(self.port.written[0][0])
        self.assertEqual((search.mx, search.host), (None, "127.0.0.1:5001"))
        self.assertEqual(len(self.port.written), 4 * len(SEARCH_TARGETS))

    def test_learnedTargetsBounded(self) -> None:
        """Learned loopback ports are bounded; the configured ones stay."""
        proto = self.port.protocol
        for port in range(10000, 12000):
            proto.datagramReceived(ALIVE, ("127.0.0.1", port))
        self.assertEqual(len(self.discovery.loopbackTargets), 1024)
        self.assertIn(5001, self.discovery.loopbackTargets)
