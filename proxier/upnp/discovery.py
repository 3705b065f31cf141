# -*- test-case-name: tests.test_upnp_discovery -*-
"""
The SSDP sockets: listening for announcements and searching, per interface
and address family, or on loopback only.

Multicast mode (INTEROP.md, SSDP): on each LAN interface, IPv4
239.255.255.250:1900 joined with Twisted's C{joinGroup}; IPv6 FF02::C and
FF05::C joined on sockets of our own (Twisted's C{joinGroup} is IPv4 only)
with C{IPV6_JOIN_GROUP} and the interface index, then adopted by the reactor.
Each group socket is bound to the group address with C{IP_MULTICAST_ALL}
off, so it hears its own interface only and the receiving interface is known.
Searches go from one socket per interface and family, with
C{IP_MULTICAST_IF}/C{IPV6_MULTICAST_IF}, TTL/hops 2, MX 1-5, two or three
copies a little apart, repeated every C{[lan] search_interval} with jitter;
the answers come back to that socket.

Unicast-loopback mode (the demo and the tests outside a namespace): one
socket on 127.0.0.1:C{ssdp_port}, no group joined; searches go unicast to the
loopback ports devices announced from (or that the configuration names).
No packet leaves the host.

Only datagrams from on-link sources (the receiving interface's subnets,
IPv6 link-local) — or from loopback in loopback mode — are parsed; the rest
is counted and dropped. The listen functions and the socket factory are
injected, so that all of this is unit-tested without a socket.
"""

from __future__ import annotations

import ipaddress
import random
import socket
from collections import OrderedDict
from typing import Any, Callable, Iterable, Optional, Sequence

from twisted.internet.protocol import DatagramProtocol
from twisted.logger import Logger

from proxier._version import __version__
from proxier.log import RateLimitedLog
from proxier.upnp import ssdp
from proxier.lan.multicast import IP_MULTICAST_ALL, openIPv6GroupSocket, setSocketOption
from proxier.lan.netif import NetworkInterface
from proxier.upnp.ssdp import Search, SSDPError
from proxier.lan.urlpolicy import Origin

__all__ = [
    "Discovery",
    "SSDPSocket",
    "SEARCH_TARGETS",
    "openIPv6SearchSocket",
    "Sink",
]

# TR-330 §4.1.1: the types searched for (and root devices, which may embed a
# ManageableDevice).
SEARCH_TARGETS = (
    "urn:schemas-upnp-org:device:ManageableDevice:2",
    "urn:schemas-upnp-org:service:BasicManagement:2",
    "urn:schemas-upnp-org:service:ConfigurationManagement:2",
    "urn:schemas-upnp-org:service:SoftwareManagement:2",
    "urn:schemas-upnp-org:service:DeviceProtection:1",
    ssdp.ROOT_DEVICE,
)

USER_AGENT = f"Linux UPnP/1.1 proxier/{__version__}"
# Linux socket options the socket module may lack.
_MAX_LOOPBACK_TARGETS = 1024
#: Receive buffer asked for on every SSDP socket (the kernel caps it at net.core.rmem_max).
RECEIVE_BUFFER = 1 << 20

Sink = Callable[[ssdp.Message, Origin], None]


class SSDPSocket(DatagramProtocol):
    """
    One SSDP socket: parses what arrives from acceptable sources and hands it
    to the sink; sends what it is asked to.

    @param originFor: source address → L{Origin}, or C{None} to drop.
    """

    log = Logger()

    def __init__(self, name: str, sink: Sink, originFor: Callable[[str], Optional[Origin]],
                 stats: dict[str, int], limited: RateLimitedLog,
                 learn: Optional[Callable[[str, int, ssdp.Message], None]] = None) -> None:
        self.name = name
        self.sink = sink
        self.originFor = originFor
        self.stats = stats
        self.limited = limited
        self.learn = learn
        self.port: Any = None

    def startProtocol(self) -> None:
        # a power cut brings every device back at once: their announcements
        # arrive in one burst, and a default-sized receive buffer drops most
        setSocketOption(self.transport, socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)

    def datagramReceived(self, data: bytes, addr: Any) -> None:
        host, port = addr[0], addr[1]
        self.stats["received"] += 1
        origin = self.originFor(host)
        if origin is None:
            self.stats["off-link"] += 1
            self.limited.warn(f"offlink-{self.name}", "SSDP packet on {socket} from {host}, not on-link: dropped",
                              socket=self.name, host=host)
            return
        try:
            message = ssdp.parse(data, now=self.limited.clock.seconds())
        except SSDPError as e:
            self.stats["malformed"] += 1
            self.limited.warn(f"malformed-{self.name}", "SSDP packet on {socket} from {host} dropped: {why}",
                              socket=self.name, host=host, why=str(e))
            return
        if isinstance(message, Search):
            self.stats["searches"] += 1  # another control point's search: not ours to answer
            return
        self.stats["parsed"] += 1
        try:
            if self.learn is not None:
                self.learn(host, port, message)
            self.sink(message, origin)
        except Exception:  # a bug behind the sink must not cost the other datagrams of this read
            self.log.failure("SSDP packet from {host} on {socket} could not be handled", host=host, socket=self.name)

    def send(self, data: bytes, address: tuple[str, int]) -> None:
        try:
            self.transport.write(data, address)
            self.stats["sent"] += 1
        except Exception as e:  # a send error (interface gone, no route) must not stop the rounds
            self.stats["send-errors"] += 1
            self.limited.warn(f"send-{self.name}", "SSDP send on {socket} to {address} failed: {error}",
                              socket=self.name, address=address, error=e)


def openIPv6SearchSocket(ifindex: int, hops: int = 2, socketFactory: Callable[..., Any] = socket.socket) -> Any:
    """A non-blocking IPv6 UDP socket on an ephemeral port that multicasts through one interface."""
    s = socketFactory(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, hops)
        s.bind(("::", 0, 0, 0))
        s.setblocking(False)
    except BaseException:
        s.close()
        raise
    return s


class Discovery:
    """
    The SSDP sockets of one control point, and its search rounds.

    @param interfaces: the LAN interfaces (multicast mode).
    @param loopbackPorts: ports on 127.0.0.1 to search (unicast-loopback mode),
        besides those learned from announcements.
    @param mx: the MX of searches (1-5).
    @param copies: copies of each search (UDP is lossy), C{copyGap} seconds apart.
    """

    log = Logger()

    def __init__(
        self,
        sink: Sink,
        clock: Any,
        *,
        mode: str = "multicast",
        interfaces: Sequence[NetworkInterface] = (),
        ipv6: bool = True,
        ssdpPort: int = ssdp.SSDP_PORT,
        searchInterval: float = 300.0,
        searchTargets: Sequence[str] = SEARCH_TARGETS,
        mx: int = 2,
        copies: int = 2,
        copyGap: float = 0.25,
        loopbackPorts: Iterable[int] = (),
        listenUDP: Optional[Callable[..., Any]] = None,
        listenMulticast: Optional[Callable[..., Any]] = None,
        adoptDatagramPort: Optional[Callable[..., Any]] = None,
        socketFactory: Callable[..., Any] = socket.socket,
        rng: Optional[random.Random] = None,
    ) -> None:
        if mode not in ("multicast", "unicast-loopback"):
            raise ValueError(f"unknown SSDP mode {mode!r}")
        if not 1 <= mx <= ssdp.MAX_MX:
            raise ValueError("MX must be 1-5")
        self.sink = sink
        self.clock = clock
        self.mode = mode
        self.interfaces = list(interfaces)
        self.ipv6 = ipv6
        self.ssdpPort = ssdpPort
        self.searchInterval = searchInterval
        self.searchTargets = tuple(searchTargets)
        self.mx = mx
        self.copies = copies
        self.copyGap = copyGap
        self.listenUDP = listenUDP
        self.listenMulticast = listenMulticast
        self.adoptDatagramPort = adoptDatagramPort
        self.socketFactory = socketFactory
        self.rng = rng or random.Random()
        self.loopbackTargets: OrderedDict[int, None] = OrderedDict((p, None) for p in loopbackPorts)
        self.configuredLoopbackPorts = frozenset(self.loopbackTargets)
        self.stats = {k: 0 for k in ("received", "off-link", "malformed", "parsed", "searches", "sent",
                                     "send-errors", "rounds")}
        self.limited = RateLimitedLog(clock, self.log)
        self.ports: list[Any] = []
        # (socket, destination) pairs a search round sends to
        self.searchers: list[tuple[SSDPSocket, tuple[str, int], str]] = []
        self.loopbackSocket: Optional[SSDPSocket] = None
        # interface name -> (the interface as opened, its ports, its searchers)
        self._opened: dict[str, tuple[NetworkInterface, list[Any], list[tuple[SSDPSocket, tuple[str, int], str]]]] = {}
        self.timer: Any = None
        self.pending: list[Any] = []
        self.running = False

    # start and stop

    def start(self) -> None:
        """Open the sockets (failures per interface are logged, not fatal) and start searching."""
        self.running = True
        if self.mode == "unicast-loopback":
            self._openLoopback()
        else:
            for interface in self.interfaces:
                self._openOne(interface)
        if not self.ports:
            if self.mode == "unicast-loopback":
                self.log.error("SSDP: no socket could be opened; discovery is off")
            else:
                self.log.error("SSDP: no socket could be opened; discovery waits for a usable LAN interface")
            return
        self.timer = self.clock.callLater(self.rng.uniform(0.1, 1.0), self._round)

    def setInterfaces(self, interfaces: Sequence[NetworkInterface]) -> bool:
        """
        Discover on these interfaces from now on (multicast mode): the
        sockets of an interface that is gone or changed (index, flags,
        addresses) are closed, a new or changed one is opened and searched
        at once. A bridge that comes up after the daemon is picked up here.

        @return: whether anything changed.
        """
        if self.mode != "multicast" or not self.running:
            self.interfaces = list(interfaces)
            return False
        wanted = {i.name: i for i in interfaces}
        changed = False
        for name, (old, ports, searchers) in list(self._opened.items()):
            if wanted.get(name) == old:
                continue
            del self._opened[name]
            changed = True
            for port in ports:
                if port in self.ports:
                    self.ports.remove(port)
                try:
                    port.stopListening()
                except Exception as e:
                    self.log.warn("SSDP: closing a socket of {iface}: {error}", iface=name, error=e)
            self.searchers = [entry for entry in self.searchers if entry not in searchers]
            self.log.info("SSDP: interface {iface} {what}; its sockets are closed", iface=name,
                          what="changed" if name in wanted else "is gone")
        fresh: list[tuple[SSDPSocket, tuple[str, int], str]] = []
        for name, interface in wanted.items():
            if name not in self._opened:
                changed = True
                fresh.extend(self._openOne(interface))
        self.interfaces = list(interfaces)
        if fresh and self.timer is None:
            self.timer = self.clock.callLater(self.rng.uniform(0.1, 1.0), self._round)
        elif fresh:
            self._send(fresh)
        elif not self.ports and self.timer is not None:
            if self.timer.active():
                self.timer.cancel()
            self.timer = None
        return changed

    def _openOne(self, interface: NetworkInterface) -> list[tuple[SSDPSocket, tuple[str, int], str]]:
        """Open one interface's sockets and remember which they are; returns its searchers."""
        ports, searchers = len(self.ports), len(self.searchers)
        self._openInterface(interface)
        opened = (interface, self.ports[ports:], self.searchers[searchers:])
        self._opened[interface.name] = opened
        return opened[2]

    def stop(self) -> list[Any]:
        """Close every socket and cancel every timer; returns the ports' stop Deferreds."""
        self.running = False
        for call in [self.timer] + self.pending:
            if call is not None and call.active():
                call.cancel()
        self.timer, self.pending = None, []
        results = [p.stopListening() for p in self.ports]
        self.ports, self.searchers, self.loopbackSocket = [], [], None
        self._opened = {}
        return [r for r in results if r is not None]

    @property
    def address(self) -> Optional[tuple[str, int]]:
        """Where the loopback socket listens (unicast-loopback mode)."""
        if self.loopbackSocket is None or self.loopbackSocket.port is None:
            return None
        host = self.loopbackSocket.port.getHost()
        return host.host, host.port

    def _socket(self, name: str, originFor: Callable[[str], Optional[Origin]],
                learn: Optional[Callable[[str, int, ssdp.Message], None]] = None) -> SSDPSocket:
        return SSDPSocket(name, self.sink, originFor, self.stats, self.limited, learn)

    def _openLoopback(self) -> None:
        assert self.listenUDP is not None
        proto = self._socket("loopback", _loopbackOrigin, self._learn)
        try:
            port = self.listenUDP(self.ssdpPort, proto, interface="127.0.0.1", maxPacketSize=ssdp.MAX_DATAGRAM_BYTES)
        except Exception as e:
            self.log.error("SSDP: cannot listen on 127.0.0.1:{port}: {error}", port=self.ssdpPort, error=e)
            return
        proto.port = port
        self.ports.append(port)
        self.loopbackSocket = proto
        self.log.info("SSDP in unicast-loopback mode on 127.0.0.1:{port}", port=port.getHost().port)

    def _openInterface(self, interface: NetworkInterface) -> None:
        def originFor(host: str) -> Optional[Origin]:
            try:
                if not interface.isOnLink(host):
                    return None
            except ValueError:
                return None
            return Origin(host, interface)

        v4 = interface.addressesOf(socket.AF_INET)
        if v4:
            self._openIPv4(interface, str(v4[0].ip), originFor)
        if self.ipv6 and interface.addressesOf(socket.AF_INET6):
            self._openIPv6(interface, originFor)

    def _openIPv4(self, interface: NetworkInterface, address: str, originFor: Callable[[str], Optional[Origin]]) -> None:
        assert self.listenMulticast is not None
        name = f"{interface.name}/IPv4"
        try:
            proto = self._socket(name + " group", originFor)
            port = self.listenMulticast(self.ssdpPort, proto, interface=ssdp.IPV4_GROUP, listenMultiple=True,
                                        maxPacketSize=ssdp.MAX_DATAGRAM_BYTES)
            proto.port = port
            self.ports.append(port)
            setSocketOption(port, socket.IPPROTO_IP, IP_MULTICAST_ALL, 0)
            port.joinGroup(ssdp.IPV4_GROUP, address).addErrback(
                lambda f: self.log.error("SSDP: joining {group} on {iface} failed: {why}", group=ssdp.IPV4_GROUP,
                                         iface=interface.name, why=f.getErrorMessage()))
            searcher = self._socket(name + " search", originFor)
            sport = self.listenMulticast(0, searcher, interface=address, maxPacketSize=ssdp.MAX_DATAGRAM_BYTES)
            searcher.port = sport
            self.ports.append(sport)
            d = sport.setOutgoingInterface(address)
            if d is not None:
                d.addErrback(lambda f: self.log.error("SSDP: IP_MULTICAST_IF {address} failed: {why}",
                                                      address=address, why=f.getErrorMessage()))
            sport.setTTL(2)
            self.searchers.append((searcher, (ssdp.IPV4_GROUP, ssdp.SSDP_PORT), ssdp.hostHeader(ssdp.IPV4_GROUP)))
            self.log.info("SSDP on {iface}: {group} joined via {address}", iface=interface.name,
                          group=ssdp.IPV4_GROUP, address=address)
        except Exception as e:
            self.log.error("SSDP: cannot listen on {iface} over IPv4: {error}", iface=interface.name, error=e)

    def _openIPv6(self, interface: NetworkInterface, originFor: Callable[[str], Optional[Origin]]) -> None:
        assert self.adoptDatagramPort is not None
        name = f"{interface.name}/IPv6"
        for group in (ssdp.IPV6_LINK_LOCAL_GROUP, ssdp.IPV6_SITE_LOCAL_GROUP):
            try:
                s = openIPv6GroupSocket(group, self.ssdpPort, interface.index, self.socketFactory)
                try:
                    proto = self._socket(f"{name} {group}", originFor)
                    port = self.adoptDatagramPort(s.fileno(), socket.AF_INET6, proto, ssdp.MAX_DATAGRAM_BYTES)
                    proto.port = port
                    self.ports.append(port)
                finally:
                    s.close()  # the reactor holds its own copy of the descriptor
                self.log.info("SSDP on {iface}: {group} joined", iface=interface.name, group=group)
            except Exception as e:
                self.log.error("SSDP: cannot join {group} on {iface}: {error}", group=group, iface=interface.name,
                               error=e)
        try:
            s = openIPv6SearchSocket(interface.index, 2, self.socketFactory)
            try:
                searcher = self._socket(name + " search", originFor)
                port = self.adoptDatagramPort(s.fileno(), socket.AF_INET6, searcher, ssdp.MAX_DATAGRAM_BYTES)
                searcher.port = port
                self.ports.append(port)
            finally:
                s.close()
            self.searchers.append((searcher, (f"{ssdp.IPV6_LINK_LOCAL_GROUP}%{interface.name}", ssdp.SSDP_PORT),
                                   ssdp.hostHeader(ssdp.IPV6_LINK_LOCAL_GROUP)))
            self.searchers.append((searcher, (ssdp.IPV6_SITE_LOCAL_GROUP, ssdp.SSDP_PORT),
                                   ssdp.hostHeader(ssdp.IPV6_SITE_LOCAL_GROUP)))
        except Exception as e:
            self.log.error("SSDP: no IPv6 search socket on {iface}: {error}", iface=interface.name, error=e)

    # loopback targets

    def _learn(self, host: str, port: int, message: ssdp.Message) -> None:
        """A device on loopback announced itself from C{port}: search it there too."""
        for candidate in (port, getattr(message, "searchPort", None)):
            if candidate is None or candidate == self.ssdpPort:
                continue
            self.loopbackTargets[candidate] = None
            self.loopbackTargets.move_to_end(candidate)
        while len(self.loopbackTargets) > _MAX_LOOPBACK_TARGETS:
            for old in self.loopbackTargets:
                if old not in self.configuredLoopbackPorts:
                    del self.loopbackTargets[old]
                    break
            else:
                break

    # searching

    def searchNow(self) -> None:
        """Run a search round at once (the periodic rounds go on)."""
        self._send()

    def _round(self) -> None:
        self.timer = None
        if not self.running:
            return
        self._send()
        self.timer = self.clock.callLater(self.searchInterval * self.rng.uniform(0.9, 1.1), self._round)

    def _send(self, searchers: Optional[list[tuple[SSDPSocket, tuple[str, int], str]]] = None) -> None:
        """A round on every searcher, or on C{searchers} only (an interface that just appeared)."""
        self.stats["rounds"] += 1
        self.pending = [c for c in self.pending if c.active()]
        for copy in range(self.copies):
            delay = copy * self.copyGap
            if delay == 0:
                self._sendCopy(searchers)
            else:
                self.pending.append(self.clock.callLater(delay + self.rng.uniform(0, self.copyGap / 5),
                                                         self._sendCopy, searchers))

    def _sendCopy(self, only: Optional[list[tuple[SSDPSocket, tuple[str, int], str]]] = None) -> None:
        if not self.running:
            return
        if self.mode == "unicast-loopback":
            if self.loopbackSocket is None:
                return
            for port in list(self.loopbackTargets):
                host = ssdp.hostHeader("127.0.0.1", port)
                for st in self.searchTargets:
                    data = Search(st=st, mx=None, host=host, userAgent=USER_AGENT,
                                  extra=(("CPFN.UPNP.ORG", "proxier"),)).toBytes()
                    self.loopbackSocket.send(data, ("127.0.0.1", port))
            return
        for searcher, destination, host in self.searchers:
            if only is not None and (searcher, destination, host) not in only:
                continue  # (a searcher closed since is no longer in self.searchers either)
            for st in self.searchTargets:
                data = Search(st=st, mx=self.mx, host=host, userAgent=USER_AGENT,
                              extra=(("CPFN.UPNP.ORG", "proxier"),)).toBytes()
                searcher.send(data, destination)


def _loopbackOrigin(host: str) -> Optional[Origin]:
    try:
        if not ipaddress.ip_address(host.partition("%")[0]).is_loopback:
            return None
    except ValueError:
        return None
    return Origin(host, None, loopbackMode=True)
