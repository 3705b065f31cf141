"""
Hostile and sloppy SSDP on a real link (inside the test run's own
namespace): HTTP/1.0, odd header case, no CACHE-CONTROL, trailing garbage;
LOCATIONs aimed at 127.0.0.1, [::1], 169.254.169.254, another subnet or a
name resolving to loopback; ssdp:update without NEXTBOOTID; M-SEARCHes with
MX missing, huge or garbage; a flood of distinct USNs.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import deferLater
from twisted.trial import unittest

from proxier import config as C
from proxier.upnp import description as D, ssdp
from proxier.upnp.controlpoint import ControlPoint
from proxier.upnp.description import Device, DeviceDescription, Service
from proxier.upnp.settings import SECTION
from tests.netns.isolation import requireIsolatedNamespace
from tests.peers.lab import IP, Lab, run
from tests.test_upnp_fakes import templateSCPD
from tests._waiter import Waiter, watch

from .._helpers import LogCapture, TOP

PEERS = os.path.join(TOP, "tests", "peers")
PYTHON = "/usr/bin/python3"
UDN = "uuid:5ba71c00-0000-4000-8000-00000000beef"
WAIT = 20.0


class Recorder(Protocol):
    def connectionMade(self) -> None:
        self.factory.connections.append(self.transport.getPeer())
        self.transport.loseConnection()


class HostileTests(unittest.TestCase):
    def setUp(self) -> None:
        requireIsolatedNamespace()
        self.lab = Lab(self, reactor, ipv6=False)
        self.logs = LogCapture(self)
        folder = tempfile.mkdtemp(prefix="pxt-static-")
        self.addCleanup(shutil.rmtree, folder, True)
        description = DeviceDescription(device=Device(
            deviceType=D.MANAGEABLE_DEVICE_2, udn=UDN, friendlyName="static", manufacturer="proxier tests",
            modelName="static", services=(
                Service(D.CONFIGURATION_MANAGEMENT_2, "urn:upnp-org:serviceId:CMS", "/cms.xml", "/control/cms",
                        "/event/cms"),
            )))
        for name, data in (("desc.xml", description.toBytes()),
                           ("cms.xml", templateSCPD("ConfigurationManagement-2"))):
            with open(os.path.join(folder, name), "wb") as f:
                f.write(data)
        self.folder = folder

    @inlineCallbacks
    def startDevice(self):  # noqa: ANN201
        peer = self.lab.spawn("static", [PYTHON, os.path.join(PEERS, "static_device.py"), "--address",
                                         self.lab.devV4, "--folder", self.folder])
        line = yield peer.waitFor("READY")
        self.location = f"http://{self.lab.devV4}:{line.split()[1]}/desc.xml"
        return peer

    def controlPoint(self) -> tuple[ControlPoint, Waiter]:
        config = C.load(None, [SECTION]).replace(
            "lan", interfaces=(self.lab.cpIf,), ipv6=False, ssdp_mode="multicast", ssdp_port=1900, search_interval=60)
        cp = ControlPoint(config, reactor=reactor)
        return cp, watch(self, cp)

    @inlineCallbacks
    def send(self, *datagrams: bytes, source: str = ""):  # noqa: ANN201
        peer = self.lab.spawn("send", [PYTHON, os.path.join(PEERS, "ssdp_send.py"), "send", "--interface",
                                       self.lab.devIf, "--source", source or self.lab.devV4]
                              + [arg for d in datagrams for arg in ("--datagram", d.hex())])
        yield peer.waitFor("DONE")
        yield peer.ended

    def sloppyAlive(self, location: str, udn: str = UDN, bootId: int = 5) -> bytes:
        """HTTP/1.0, headers in odd case, no CACHE-CONTROL, garbage after the header block."""
        return (
            "NOTIFY * HTTP/1.0\r\nhost: 239.255.255.250:1900\r\n"
            f"lOcAtIoN: {location}\r\n"
            "nt: urn:schemas-upnp-org:device:ManageableDevice:2\r\nNts: ssdp:alive\r\n"
            f"usn: {udn}::urn:schemas-upnp-org:device:ManageableDevice:2\r\n"
            f"bootid.upnp.org: {bootId}\r\nconfigid.upnp.org: 1\r\n\r\n"
        ).encode() + b"garbage\x01\x02 after the headers\x00\x00"

    @inlineCallbacks
    def test_sloppyAliveAccepted(self) -> None:
        """HTTP/1.0, odd header case, no CACHE-CONTROL (1800 s assumed), trailing garbage: the device is found."""
        yield self.startDevice()
        cp, waiter = self.controlPoint()
        yield self.send(self.sloppyAlive(self.location))
        _, device = yield waiter.wait("ready", timeout=WAIT)
        self.assertEqual((device.udn, device.bootId), (UDN, 5))
        self.assertEqual(cp.tracker.get(UDN).maxAge, ssdp.DEFAULT_MAX_AGE)
        cms = device.services(D.CONFIGURATION_MANAGEMENT_2)[0][1]
        self.assertEqual(device.subscriptionState(cms), "polling")  # it refuses SUBSCRIBE (501)

    @inlineCallbacks
    def test_forgedLocations(self) -> None:
        """LOCATIONs at loopback, link-local IPv4, another subnet or a name for loopback are never connected to."""
        factory = Factory.forProtocol(Recorder)
        factory.connections = []
        run(IP, "addr", "add", "169.254.169.254/32", "dev", "lo")
        run(IP, "addr", "add", "10.99.0.1/32", "dev", "lo")
        self.addCleanup(run, IP, "addr", "del", "10.99.0.1/32", "dev", "lo", check=False)
        self.addCleanup(run, IP, "addr", "del", "169.254.169.254/32", "dev", "lo", check=False)
        ports = {}
        for host in ("127.0.0.1", "::1", "169.254.169.254", "10.99.0.1"):
            port = reactor.listenTCP(0, factory, interface=host)
            self.addCleanup(port.stopListening)
            ports[host] = port.getHost().port
        cp, waiter = self.controlPoint()
        locations = [f"http://127.0.0.1:{ports['127.0.0.1']}/desc.xml",
                     f"http://[::1]:{ports['::1']}/desc.xml",
                     f"http://169.254.169.254:{ports['169.254.169.254']}/latest/meta-data/",
                     f"http://10.99.0.1:{ports['10.99.0.1']}/desc.xml",
                     f"http://localhost:{ports['127.0.0.1']}/desc.xml",
                     f"http://[::ffff:127.0.0.1]:{ports['127.0.0.1']}/desc.xml"]
        yield self.send(*[self.sloppyAlive(loc, f"uuid:f0f0f0f0-0000-4000-8000-00000000000{i}")
                          for i, loc in enumerate(locations)])
        yield deferLater(reactor, 3.0, lambda: None)
        self.assertEqual(factory.connections, [])
        self.assertEqual(cp.devices(), [])
        refusals = [e for e in self.logs.events if "description fetch failed" in e.get("log_format", "")]
        self.assertGreaterEqual(len(refusals), len(locations))

    @inlineCallbacks
    def test_updateWithoutNextBootId(self) -> None:
        """ssdp:update without NEXTBOOTID is dropped (and said so); with it, the device is described again."""
        yield self.startDevice()
        cp, waiter = self.controlPoint()
        yield self.send(self.sloppyAlive(self.location))
        yield waiter.wait("ready", timeout=WAIT)
        update = ssdp.Notify(nts=ssdp.UPDATE, nt=D.MANAGEABLE_DEVICE_2, usn=f"{UDN}::{D.MANAGEABLE_DEVICE_2}",
                             location=self.location, bootId=5, configId=1)
        yield self.send(update.toBytes())
        yield deferLater(reactor, 1.0, lambda: None)
        self.assertFalse([c for c in waiter.calls if c[0] == "changed"])
        self.assertTrue([e for e in self.logs.events if "NEXTBOOTID" in e.get("log_format", "")])
        yield self.send(ssdp.Notify(nts=ssdp.UPDATE, nt=D.MANAGEABLE_DEVICE_2, usn=f"{UDN}::{D.MANAGEABLE_DEVICE_2}",
                                    location=self.location, bootId=5, configId=1, nextBootId=6).toBytes())
        _, device, change = yield waiter.wait("changed", timeout=WAIT)
        self.assertTrue(change.update)
        self.assertEqual(device.bootId, 6)

    @inlineCallbacks
    def test_searches(self) -> None:
        """Our M-SEARCHes carry MX 2 and the group HOST; others' searches with MX missing, huge or garbage are ignored."""
        listener = self.lab.spawn("listen", [PYTHON, os.path.join(PEERS, "ssdp_send.py"), "listen", "--interface",
                                             self.lab.devIf, "--seconds", "3"])
        yield deferLater(reactor, 0.5, lambda: None)
        cp, waiter = self.controlPoint()
        yield listener.waitFor("DONE", timeout=10)
        heard = [ssdp.parse(bytes.fromhex(line.split()[1])) for line in listener.lines if line.startswith("SEARCH")]
        self.assertTrue(heard)
        self.assertTrue(all(s.mx == 2 and s.host == "239.255.255.250:1900" for s in heard))
        self.assertEqual({s.st for s in heard} >= {D.MANAGEABLE_DEVICE_2, "upnp:rootdevice"}, True)
        base = b'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nST: ssdp:all\r\n'
        before = dict(cp.discovery.stats)
        yield self.send(base + b"\r\n", base + b"MX: 99999999\r\n\r\n", base + b"MX: soon\r\n\r\n")
        yield deferLater(reactor, 0.5, lambda: None)
        stats = cp.discovery.stats
        self.assertEqual(stats["searches"] - before["searches"], 2)
        self.assertEqual(stats["malformed"] - before["malformed"], 1)

    @inlineCallbacks
    def test_flood(self) -> None:
        """A flood of distinct USNs from one host costs a bounded number of fetches and entries; a real device is still found."""
        flooder = f"{self.lab.devV4.rsplit('.', 1)[0]}.3"
        run(IP, "-n", self.lab.ns, "addr", "add", f"{flooder}/24", "dev", self.lab.devIf)
        yield self.startDevice()
        cp, waiter = self.controlPoint()
        flood = self.lab.spawn("flood", [PYTHON, os.path.join(PEERS, "ssdp_send.py"), "flood", "--interface",
                                         self.lab.devIf, "--source", flooder, "--count", "5000"])
        yield flood.waitFor("DONE", timeout=30)
        yield self.send(self.sloppyAlive(self.location))
        _, device = yield waiter.wait("ready", timeout=WAIT)
        self.assertEqual(device.udn, UDN)
        tracker = cp.tracker
        self.assertLessEqual(len(tracker.entries), tracker.maxDevices)
        self.assertGreater(tracker.counts["dropped-pending"] + tracker.counts["dropped-failed"], 1000)
        self.assertLess(tracker.counts["fetches"], 2500)
        self.assertLessEqual(len(tracker.failed), tracker.failedCacheSize)
        self.assertEqual([d.udn for d in cp.devices()], [UDN])
