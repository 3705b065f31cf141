# -*- test-case-name: tests.test_sim_fleet -*-
"""
N simulated devices in one process: the demo's, the tests' and the
benchmarks' way to run them.

Each device has its own UDN, serial number and MAC address
(L{Identity.forIndex}) and its own HTTP port — so that every device is a
distinct LOCATION, as on a real LAN, and a control point that keys devices
by host and port sees them apart. One listening socket per device costs a
file descriptor and a few kilobytes; a thousand devices fit well within the
default limits. L{FleetOptions.sharedPort} serves them all on one port under
C{/dev<n>/} instead, for runs beyond the descriptor limit.

SSDP goes through one UDP endpoint for the whole fleet, in one of the two
modes of the C{[lan] ssdp_mode} configuration key:

 - C{unicast-loopback}: bound to C{127.0.0.1:<search port>}, joining no
   group; NOTIFYs go unicast to the control point's loopback port, searches
   sent to the search port are answered unicast, and every announcement
   carries SEARCHPORT.UPNP.ORG. No packet leaves the host.
 - C{multicast}: bound to port 1900 and joined to 239.255.255.250 on one
   interface address, NOTIFYs to the group with TTL 2 — only ever inside a
   network namespace or on a lab LAN.

The shared HTTP client sends GENA events and fetches firmware images.
"""

from __future__ import annotations

import ipaddress
import os
import random as _random
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from twisted.application.service import Service
from twisted.internet.defer import Deferred, DeferredList, maybeDeferred
from twisted.internet.error import CannotListenError
from twisted.internet.protocol import DatagramProtocol
from twisted.logger import Logger

from proxier.sim.cmstree import Schema
from proxier.sim.device import UP, Identity, SimulatedDevice
from proxier.sim.httpclient import Fetcher, Notifier
from proxier.sim.ssdp import SearchResponder
from proxier.sim.web import DeviceResource, FleetResource, makeSite
from proxier.upnp import ssdp

__all__ = ["Fleet", "FleetOptions", "DEFAULT_DATA_FILE", "UNICAST_LOOPBACK", "MULTICAST", "defaultPrefixLength"]

DEFAULT_DATA_FILE = os.path.join(os.path.dirname(__file__), "data", "manageable-device.json")
UNICAST_LOOPBACK = "unicast-loopback"
MULTICAST = "multicast"
#: UDA 1.1 §1.2.2: SEARCHPORT.UPNP.ORG values lie in 49152-65535.
_SEARCH_PORTS = (49152, 65535)


@dataclass
class FleetOptions:
    """
    How to run a fleet.

    @ivar host: the address devices serve HTTP on and announce.
    @ivar prefixLength: the length of the host's subnet (the network a
        device accepts GENA callbacks from and fetches firmware from).
    @ivar httpPort: the first device's HTTP port (the next ones follow); 0
        lets the system pick a free port for each.
    @ivar controlPoint: C{(host, port)} NOTIFYs go to in unicast-loopback mode.
    @ivar searchPort: the UDP port searches are answered on in
        unicast-loopback mode (0: a free one in 49152-65535).
    @ivar interfaceAddress: in multicast mode, the address of the interface
        to join the group on and send from.
    @ivar stagger: seconds between two devices' power-on.
    @ivar prepare: called with C{(index, device)} for each device once it is
        made and served, before power-on — for what must precede the first
        announcement (DeviceProtection: L{proxier.sim.dps.protect}).
    """

    count: int = 1
    host: str = "127.0.0.1"
    prefixLength: Optional[int] = None
    httpPort: int = 0
    sharedPort: bool = False
    ssdpMode: str = UNICAST_LOOPBACK
    controlPoint: tuple[str, int] = ("127.0.0.1", 1900)
    searchPort: int = 0
    interfaceAddress: str = ""
    maxAge: int = 1800
    dataFile: str = DEFAULT_DATA_FILE
    seed: str = "proxier-sim"
    stagger: float = 0.0
    downtime: float = 3.0
    identityOverrides: dict[str, str] = field(default_factory=dict)
    prepare: Optional[Callable[[int, SimulatedDevice], None]] = None


def defaultPrefixLength(host: str) -> int:
    """The subnet a device assumes around its address: 8 or 128 on loopback, else 24 or 64."""
    address = ipaddress.ip_address(host)
    if address.version == 6:
        return 128 if address.is_loopback else 64
    return 8 if address.is_loopback else 24


class _SSDPEndpoint(DatagramProtocol):
    noisy = False

    def __init__(self, fleet: "Fleet") -> None:
        self.fleet = fleet

    def datagramReceived(self, data: bytes, address: tuple) -> None:
        self.fleet.responder.datagramReceived(data, address)


class _Sender:
    """An L{SSDPSender} on the fleet's UDP endpoint."""

    log = Logger()

    def __init__(self, endpoint: _SSDPEndpoint, notifyTo: tuple[str, int]) -> None:
        self.endpoint = endpoint
        self.notifyTo = notifyTo
        self.sent = 0

    def _write(self, datagram: bytes, address: tuple) -> None:
        transport = self.endpoint.transport
        if transport is None:
            return
        try:
            transport.write(datagram, address)
            self.sent += 1
        except OSError as e:
            self.log.debug("SSDP datagram to {address} not sent: {reason}", address=address,
                           reason=e.strerror or str(e))

    def sendNotify(self, datagram: bytes) -> None:
        self._write(datagram, self.notifyTo)

    def sendTo(self, datagram: bytes, address: tuple) -> None:
        self._write(datagram, address)


class Fleet(Service):
    """
    A twisted.application service running L{FleetOptions.count} devices.

    @param agent: the C{IAgent} devices send events and fetch firmware with
        (default: an C{Agent} with a small persistent pool, closed on stop).

    @ivar devices: the devices, in index order (after start).
    @ivar searchAddress: C{(host, port)} of the SSDP endpoint (after start).
    """

    log = Logger()

    def __init__(self, options: FleetOptions, *, reactor: Any = None, agent: Any = None,
                 random: Optional[_random.Random] = None) -> None:
        if reactor is None:
            from twisted.internet import reactor  # type: ignore[no-redef]
        self.reactor = reactor
        self.options = options
        self.random = random or _random.Random()
        self._agent = agent
        self._pool: Any = None
        self.devices: list[SimulatedDevice] = []
        self._ports: list[Any] = []
        self._udp: Any = None
        self._endpoint = _SSDPEndpoint(self)
        self.responder = SearchResponder(self._advertisers, None, reactor,  # type: ignore[arg-type]
                                         multicast=options.ssdpMode == MULTICAST, random=self.random)
        self.searchAddress: tuple[str, int] = ("", 0)
        self._powerOns: list[Any] = []
        self.schema = Schema.fromFile(options.dataFile)

    def _advertisers(self):
        return (d.advertiser for d in self.devices if d.advertiser is not None)

    def _httpAgent(self) -> Any:
        if self._agent is None:
            from twisted.web.client import Agent, HTTPConnectionPool

            pool = HTTPConnectionPool(self.reactor, persistent=True)
            pool.maxPersistentPerHost = 2
            pool.cachedConnectionTimeout = 30
            self._pool = pool
            self._agent = Agent(self.reactor, connectTimeout=5, pool=pool)
        return self._agent

    def _listenSSDP(self) -> tuple[str, int]:
        options = self.options
        if options.ssdpMode == MULTICAST:
            if not options.interfaceAddress:
                raise ValueError("multicast mode needs the address of the interface to use")
            self._udp = self.reactor.listenMulticast(ssdp.SSDP_PORT, self._endpoint, listenMultiple=True)
            self._udp.setOutgoingInterface(options.interfaceAddress)
            self._udp.setTTL(2)
            self._udp.setLoopbackMode(True)
            self._udp.joinGroup(ssdp.IPV4_GROUP, options.interfaceAddress)
            return options.interfaceAddress, ssdp.SSDP_PORT
        if options.searchPort:
            self._udp = self.reactor.listenUDP(options.searchPort, self._endpoint, interface=options.host)
        else:
            for _ in range(64):
                port = self.random.randint(*_SEARCH_PORTS)
                try:
                    self._udp = self.reactor.listenUDP(port, self._endpoint, interface=options.host)
                    break
                except (CannotListenError, OSError):  # taken: Twisted's error is not an OSError
                    continue
            else:
                raise OSError("no free UDP port for SSDP searches in 49152-65535")
        return options.host, self._udp.getHost().port

    def startService(self) -> None:
        super().startService()
        options = self.options
        self.searchAddress = self._listenSSDP()
        if options.ssdpMode == MULTICAST:
            notifyTo = (ssdp.IPV4_GROUP, ssdp.SSDP_PORT)
            hostHeader = ssdp.hostHeader(ssdp.IPV4_GROUP)
            searchPort = None
        else:
            notifyTo = options.controlPoint
            hostHeader = ssdp.hostHeader(*options.controlPoint)
            searchPort = self.searchAddress[1] if self.searchAddress[1] != ssdp.SSDP_PORT else None
        sender = _Sender(self._endpoint, notifyTo)
        self.sender = sender
        self.responder.sender = sender
        agent = self._httpAgent()
        notifier = Notifier(agent, self.reactor)
        fetcher = Fetcher(agent, self.reactor)
        prefixLength = options.prefixLength if options.prefixLength is not None else defaultPrefixLength(options.host)
        shared = FleetResource() if options.sharedPort else None
        if shared is not None:
            port = self.reactor.listenTCP(options.httpPort, makeSite(shared), interface=options.host)
            self._ports.append(port)
        for index in range(options.count):
            identity = Identity.forIndex(index, options.seed, **options.identityOverrides)
            device = SimulatedDevice(identity, self.schema, self.reactor,
                                     address=f"{options.host}/{prefixLength}", notifier=notifier,
                                     fetcher=fetcher)
            device.downtime = options.downtime
            device.attachSSDP(sender, maxAge=options.maxAge, host=hostHeader, searchPort=searchPort,
                              random=self.random)
            if shared is not None:
                shared.add(f"dev{index}", device)
                device.setLocation(self._url(self._ports[0]), f"/dev{index}/")
            else:
                wanted = options.httpPort + index if options.httpPort else 0
                port = self.reactor.listenTCP(wanted, makeSite(DeviceResource(device)),
                                              interface=options.host)
                self._ports.append(port)
                device.setLocation(self._url(port))
            self.devices.append(device)
            if options.prepare is not None:
                options.prepare(index, device)
            if options.stagger > 0 and index > 0:
                self._powerOns.append(self.reactor.callLater(index * options.stagger, device.powerOn))
            else:
                device.powerOn()
        self.log.info("{count} simulated devices, SSDP {mode} on {address}", count=options.count,
                      mode=options.ssdpMode, address=self.searchAddress)

    def setControlPoint(self, address: tuple[str, int], announce: bool = True) -> None:
        """
        Send NOTIFYs (unicast-loopback mode) to C{address} from now on — for a
        control point whose port is known only once it listens — and, with
        C{announce}, let every device that is up announce itself there now.
        """
        self.options.controlPoint = address
        if self.options.ssdpMode == MULTICAST:
            return
        self.sender.notifyTo = address
        for device in self.devices:
            if device.advertiser is not None:
                device.advertiser.host = ssdp.hostHeader(*address)
                if announce and device.state == UP:
                    device.advertiser.start()

    def _url(self, port: Any) -> str:
        host = self.options.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port.getHost().port}"

    def stopService(self) -> Deferred:
        super().stopService()
        for call in self._powerOns:
            if call.active():
                call.cancel()
        self._powerOns = []
        for device in self.devices:
            device.powerOff()
        self.responder.stop()
        waits = [maybeDeferred(port.stopListening) for port in self._ports]
        self._ports = []
        if self._udp is not None:
            waits.append(maybeDeferred(self._udp.stopListening))
            self._udp = None
        if self._pool is not None:
            waits.append(self._pool.closeCachedConnections())
        return DeferredList(waits)

    def device(self, index: int) -> SimulatedDevice:
        return self.devices[index]
