"""
Tests for L{proxier.sim.fleet}: many devices in one process, in the
unicast-loopback SSDP mode (nothing leaves 127.0.0.1).
"""

from __future__ import annotations

import random
from typing import Any

from treq.client import HTTPClient
from twisted.internet import defer, reactor, task
from twisted.internet.protocol import DatagramProtocol
from twisted.trial import unittest
from twisted.web.client import Agent, HTTPConnectionPool

from proxier.sim.fleet import MULTICAST, Fleet, FleetOptions
from proxier.upnp import ssdp


class ControlPoint(DatagramProtocol):
    def __init__(self) -> None:
        self.messages: list[tuple[Any, tuple]] = []

    def datagramReceived(self, data: bytes, address: tuple) -> None:
        self.messages.append((ssdp.parse(data), address))

    def of(self, kind: type) -> list:
        return [m for m, _ in self.messages if isinstance(m, kind)]


def agent() -> Agent:
    return Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False))


def client() -> HTTPClient:
    return HTTPClient(agent())


def wait(seconds: float) -> defer.Deferred:
    return task.deferLater(reactor, seconds, lambda: None)


class FleetTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.cp = ControlPoint()
        self.cpPort = reactor.listenUDP(0, self.cp, interface="127.0.0.1")
        self.addCleanup(self.cpPort.stopListening)

    def start(self, **options: Any) -> Fleet:
        fleet = Fleet(FleetOptions(controlPoint=("127.0.0.1", self.cpPort.getHost().port), downtime=0.2, **options),
                      reactor=reactor, agent=agent())
        fleet.startService()
        self.addCleanup(lambda: fleet.stopService() if fleet.running else None)
        return fleet


class UnicastLoopbackTests(FleetTestCase):
    @defer.inlineCallbacks
    def test_announcesToControlPoint(self) -> None:
        """Each device announces itself to the loopback control point, with its own LOCATION and SEARCHPORT."""
        fleet = self.start(count=3)
        yield wait(0.6)
        alive = [n for n in self.cp.of(ssdp.Notify) if n.nts == ssdp.ALIVE]
        self.assertEqual(len(alive), 3 * 6 * 3)
        self.assertEqual({n.udn for n in alive}, {d.udn for d in fleet.devices})
        self.assertEqual(len({n.location for n in alive}), 3)
        self.assertEqual({n.searchPort for n in alive}, {fleet.searchAddress[1]})
        self.assertTrue(49152 <= fleet.searchAddress[1] <= 65535)
        self.assertEqual({a for _, a in self.cp.messages}, {("127.0.0.1", fleet.searchAddress[1])})
        self.assertEqual(len({d.identity.serialNumber for d in fleet.devices}), 3)

    @defer.inlineCallbacks
    def test_answersSearches(self) -> None:
        """An M-SEARCH sent to the search port is answered by every matching device, to the searcher."""
        fleet = self.start(count=2)
        yield wait(0.1)
        self.cpPort.write(ssdp.Search(st="urn:schemas-upnp-org:device:ManageableDevice:2", mx=1,
                                      host=f"127.0.0.1:{fleet.searchAddress[1]}").toBytes(), fleet.searchAddress)
        yield wait(1.3)
        answers = self.cp.of(ssdp.SearchResponse)
        self.assertEqual(sorted(a.udn for a in answers), sorted(d.udn for d in fleet.devices))

    @defer.inlineCallbacks
    def test_httpAndStop(self) -> None:
        """Each device serves its description on its own port; stopping says byebye and frees every port."""
        fleet = self.start(count=2)
        http = client()
        for device in fleet.devices:
            response = yield http.get(device.location)
            body = yield response.content()
            self.assertIn(device.udn.encode(), body)
        yield fleet.stopService()
        yield wait(0.2)
        byebye = [n for n in self.cp.of(ssdp.Notify) if n.nts == ssdp.BYEBYE]
        self.assertEqual(len(byebye), 12)
        failure = yield self.assertFailure(http.get(fleet.devices[0].location), Exception)
        self.assertTrue(failure)

    @defer.inlineCallbacks
    def test_sharedPort(self) -> None:
        """With a shared port, every device is served under its own path on one port."""
        fleet = self.start(count=3, sharedPort=True)
        ports = {d.location.split("/")[2] for d in fleet.devices}
        self.assertEqual(len(ports), 1)
        response = yield client().get(fleet.devices[2].location)
        body = yield response.content()
        self.assertIn(b"/dev2/cms/control", body)

    @defer.inlineCallbacks
    def test_setControlPoint(self) -> None:
        """A control point that starts later is told where to listen: devices announce themselves to it."""
        fleet = self.start(count=2)
        late = ControlPoint()
        port = reactor.listenUDP(0, late, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        fleet.setControlPoint(("127.0.0.1", port.getHost().port))
        yield wait(0.6)
        alive = [n for n in late.of(ssdp.Notify) if n.nts == ssdp.ALIVE]
        self.assertEqual({n.udn for n in alive}, {d.udn for d in fleet.devices})
        self.assertEqual({n.host for n in alive}, {f"127.0.0.1:{port.getHost().port}"})

    @defer.inlineCallbacks
    def test_stagger(self) -> None:
        """Staggered devices power on one after the other."""
        fleet = self.start(count=3, stagger=0.2)
        self.assertEqual([d.state for d in fleet.devices], ["up", "off", "off"])
        yield wait(0.5)
        self.assertEqual([d.state for d in fleet.devices], ["up", "up", "up"])

    def test_searchPortTakenTriesAnother(self) -> None:
        """A random search port that is taken (Twisted raises CannotListenError, not OSError) is skipped."""
        taken = reactor.listenUDP(0, DatagramProtocol(), interface="127.0.0.1")
        self.addCleanup(taken.stopListening)

        class Picks(random.Random):
            picks = 0

            def randint(self, a: int, b: int) -> int:
                self.picks += 1
                return taken.getHost().port if self.picks == 1 else super().randint(a, b)

        picks = Picks(7)
        fleet = Fleet(FleetOptions(controlPoint=("127.0.0.1", self.cpPort.getHost().port), downtime=0.2, count=1),
                      reactor=reactor, agent=agent(), random=picks)
        fleet.startService()
        self.addCleanup(fleet.stopService)
        self.assertGreaterEqual(picks.picks, 2)
        self.assertNotEqual(fleet.searchAddress[1], taken.getHost().port)

    def test_fixedPorts(self) -> None:
        """Given a first HTTP port, the devices use consecutive ports from it."""
        import socket

        picker = random.Random()
        for _ in range(50):
            base = picker.randrange(20000, 30000)  # below the ephemeral range: nobody else gets these
            probes = [socket.socket(), socket.socket()]
            try:
                for offset, probe in enumerate(probes):
                    probe.bind(("127.0.0.1", base + offset))
                break
            except OSError:
                continue
            finally:
                for probe in probes:
                    probe.close()
        else:
            raise unittest.SkipTest("no two free consecutive ports found")
        fleet = self.start(count=2, httpPort=base)
        self.assertEqual([d.location.split(":")[2].split("/")[0] for d in fleet.devices], [str(base), str(base + 1)])

    @defer.inlineCallbacks
    def test_ipv6Loopback(self) -> None:
        """On ::1, devices announce bracketed IPv6 LOCATIONs, serve them, and send events to ::1 callbacks."""
        from twisted.web import resource
        from twisted.web.client import readBody
        from twisted.web.server import Site

        from proxier.upnp import gena

        cp = ControlPoint()
        port = reactor.listenUDP(0, cp, interface="::1")
        self.addCleanup(port.stopListening)
        fleet = Fleet(FleetOptions(count=1, host="::1", controlPoint=("::1", port.getHost().port)), reactor=reactor,
                      agent=agent())
        fleet.startService()
        self.addCleanup(fleet.stopService)
        device = fleet.devices[0]
        self.assertTrue(device.location.startswith("http://[::1]:"))
        self.assertEqual(str(device.interface.network), "::1/128")
        yield wait(0.3)
        self.assertIn(device.location, {m.location for m in cp.of(ssdp.Notify)})
        http = agent()  # treq cannot write [::1] hosts
        response = yield http.request(b"GET", device.location.encode("ascii"))
        body = yield readBody(response)
        self.assertIn(device.udn.encode(), body)

        events: list = []

        class Callback(resource.Resource):
            isLeaf = True

            def render_NOTIFY(self, request: Any) -> bytes:
                events.append(gena.parseEventMessage(request.requestHeaders, request.content.read()))
                return b""

        callback = reactor.listenTCP(0, Site(Callback()), interface="::1")
        self.addCleanup(callback.stopListening)
        from twisted.web.http_headers import Headers

        headers = Headers({b"CALLBACK": [f"<http://[::1]:{callback.getHost().port}/cb>".encode()],
                           b"NT": [b"upnp:event"], b"TIMEOUT": [b"Second-60"]})
        response = yield http.request(b"SUBSCRIBE", (device.baseURL + "cms/event").encode(), headers)
        yield readBody(response)
        self.assertEqual(response.code, 200)
        for _ in range(50):
            if events:
                break
            yield wait(0.1)
        self.assertEqual(events[0].seq, 0)

    def test_prefixDefaults(self) -> None:
        """A device's subnet defaults to the loopback block or a typical LAN prefix."""
        from proxier.sim.fleet import defaultPrefixLength

        self.assertEqual([defaultPrefixLength(h) for h in ("127.0.0.1", "::1", "10.1.2.3", "fe80::2")], [8, 128, 24, 64])

    def test_multicastNeedsInterface(self) -> None:
        """Multicast mode refuses to start without the interface to use."""
        fleet = Fleet(FleetOptions(ssdpMode=MULTICAST), reactor=reactor, agent=agent())
        self.assertRaises(ValueError, fleet.startService)
