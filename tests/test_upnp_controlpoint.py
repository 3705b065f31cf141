"""Tests for L{proxier.upnp.controlpoint}: the whole control point against an in-memory device."""

from __future__ import annotations

import os
import random
import tempfile
from dataclasses import replace

from twisted.internet.task import Clock
from twisted.logger import LogLevel
from twisted.trial import unittest
from treq.testing import StubTreq
from zope.interface import implementer
from zope.interface.verify import verifyObject

from proxier import config as C
from proxier.interfaces import IReloadable
from proxier.upnp import description as D, ssdp
from proxier.upnp.controlpoint import ActionError, ControlPoint, IUPnPDeviceObserver, UPnPError
from proxier.upnp.gena import EventMessage
from proxier.upnp.settings import SECTION, Settings
from proxier.upnp.ssdp import Notify

from ._helpers import LogCapture
from .test_upnp_discovery import FakeSock, Reactorish
from .test_upnp_eventing import Listens
from .test_upnp_fakes import ROOT_UDN, FakeDMDevice
from .test_lan_netif import WAN
from .test_lan_urlpolicy import LAN

LOC = "http://192.168.1.20:49152/desc.xml"
CMS = D.CONFIGURATION_MANAGEMENT_2


def alive(**kw: object) -> bytes:
    kw.setdefault("bootId", 1)
    kw.setdefault("configId", 1)
    kw.setdefault("maxAge", 1800)
    kw.setdefault("location", LOC)
    return Notify(nts=ssdp.ALIVE, nt=CMS, usn=f"{ROOT_UDN}::{CMS}", **kw).toBytes()


@implementer(IUPnPDeviceObserver)
class Recorder:
    def __init__(self) -> None:
        self.calls: list = []

    def deviceReady(self, device):  # noqa: ANN001, ANN201
        self.calls.append(("ready", device.udn))

    def deviceChanged(self, device, change):  # noqa: ANN001, ANN201
        self.calls.append(("changed", device.udn, str(change)))

    def deviceGone(self, device, reason):  # noqa: ANN001, ANN201
        self.calls.append(("gone", device.udn, reason))

    def announcement(self, device, value):  # noqa: ANN001, ANN201
        self.calls.append(("announcement", device.udn, value))

    def eventReceived(self, device, service, variables):  # noqa: ANN001, ANN201
        self.calls.append(("event", service.serviceId, variables))

    def stateMayBeStale(self, device, service, reason):  # noqa: ANN001, ANN201
        self.calls.append(("stale", service.serviceId, reason))


class ControlPointTests(unittest.TestCase):
    def setUp(self) -> None:
        FakeSock.made = []
        self.clock = Clock()
        self.device = FakeDMDevice()
        self.stub = StubTreq(self.device)
        self.r = Reactorish()
        self.listens = Listens()
        config = C.load(None, [SECTION]).replace("lan", interfaces=("br-lan",), ipv6=False)
        self.cp = ControlPoint(
            config, reactor=object(), clock=self.clock, httpClient=self.stub, interfaces=[LAN],
            listenUDP=self.r.listenUDP, listenMulticast=self.r.listenMulticast,
            adoptDatagramPort=self.r.adoptDatagramPort, listenTCP=self.listens, socketFactory=FakeSock,
            resolve=lambda name: None, rng=random.Random(5),
        )
        self.observer = Recorder()
        self.cp.addObserver(self.observer)
        self.logs = LogCapture(self)
        self.cp.startService()
        self.group = self.r.multicast[0][3].protocol

    def tearDown(self) -> None:
        if self.cp.running:
            self.cp.stopService()

    def flush(self) -> None:
        for _ in range(5):
            self.stub.flush()

    def announce(self, data: bytes = None, source: str = "192.168.1.20") -> None:
        self.group.datagramReceived(data or alive(), (source, 1900))
        self.flush()

    def test_observerInterface(self) -> None:
        """The recorder used here provides the observer interface fully."""
        self.assertTrue(verifyObject(IUPnPDeviceObserver, self.observer))

    def test_ready(self) -> None:
        """An alive leads to description, SCPDs, subscriptions to CMS and BMS, then ready; initial events flow."""
        self.announce()
        self.assertEqual(self.observer.calls, [("ready", ROOT_UDN)])
        device = self.cp.device(ROOT_UDN)
        self.assertEqual((device.state, device.host, device.bootId), ("ready", "192.168.1.20", 1))
        subscribes = [(m, p) for m, p in self.device.log if m == b"SUBSCRIBE"]
        self.assertEqual(sorted(p for _, p in subscribes), [b"/event/bms", b"/event/cms"])
        cms = device.services(CMS)[0][1]
        self.assertEqual(device.subscriptionState(cms), "subscribed")
        self.assertEqual(self.cp.devices(), [device])
        self.assertEqual(self.listens.calls, [(0, "192.168.1.1")])
        # what the subscriptions share is one object (issue 19), made from the settings
        self.assertEqual({id(sub.terms) for sub in device.subscriptions}, {id(self.cp.subscriptionTerms)})
        terms = self.cp.subscriptionTerms
        self.assertEqual((terms.requestedTimeout, terms.pollInterval, terms.requestTimeout),
                         (self.cp.settings.subscriptionTimeout, self.cp.settings.pollInterval,
                          self.cp.settings.descriptionTimeout))

    def test_callAction(self) -> None:
        """callAction reaches the device's control URL; UPnPError and unknown actions come back typed."""
        self.announce()
        device = self.cp.device(ROOT_UDN)
        cms = device.services(CMS)[0][1]
        self.device.handlers["GetCurrentConfigurationVersion"] = lambda args: {"CurrentVersion": "7"}
        results: list = []
        device.callAction(cms, "GetCurrentConfigurationVersion").addBoth(results.append)
        self.flush()
        self.assertEqual(results, [{"CurrentVersion": "7"}])

        def refuse(args: dict) -> dict:
            raise UPnPError(703, "No such name")

        self.device.handlers["GetValues"] = refuse
        device.callAction(cms, "GetValues", {"Parameters": "<x/>"}).addBoth(results.append)
        self.flush()
        self.assertEqual(results[-1].value, UPnPError(703, "No such name"))
        device.callAction(cms, "Reboot").addBoth(results.append)
        self.assertEqual(results[-1].value.code, 401)

    def test_events(self) -> None:
        """A NOTIFY on the subscription's path reaches observers as an event of that service."""
        self.announce()
        device = self.cp.device(ROOT_UDN)
        cms = device.services(CMS)[0][1]
        sub = next(s for s in device.subscriptions if s.owner.service.serviceId == cms.serviceId)
        message = EventMessage(sub.sid, 0, (("ConfigurationUpdate", "2,/BBF/A"),))
        from twisted.internet.address import IPv4Address
        status = self.cp.callbacks.notify(b"/gena/" + sub.token.encode(), IPv4Address("TCP", "192.168.1.20", 1),
                                          message.headers(), message.body())
        self.assertEqual(status, 200)
        self.assertEqual(self.observer.calls[-1], ("event", cms.serviceId, [("ConfigurationUpdate", "2,/BBF/A")]))

    def test_announcementThenGoneThenBack(self) -> None:
        """byebye with AboutToReboot: announcement, gone; an alive with a new BOOTID: ready again."""
        self.announce()
        bye = Notify(nts=ssdp.BYEBYE, nt=CMS, usn=f"{ROOT_UDN}::{CMS}", bootId=1, configId=1,
                     announcement="AboutToReboot").toBytes()
        self.announce(bye)
        self.clock.advance(2)
        self.assertEqual(self.observer.calls[1:], [("announcement", ROOT_UDN, "AboutToReboot"),
                                                   ("gone", ROOT_UDN, "byebye")])
        self.assertIsNone(self.cp.device(ROOT_UDN))
        unsubscribes = [p for m, p in self.device.log if m == b"UNSUBSCRIBE"]
        self.assertEqual(unsubscribes, [])
        self.announce(alive(bootId=2))
        self.assertEqual(self.observer.calls[-1], ("ready", ROOT_UDN))

    def test_changed(self) -> None:
        """A CONFIGID change: described again, subscriptions replaced (old ones UNSUBSCRIBEd), changed."""
        self.announce()
        self.announce(alive(configId=2))
        self.assertEqual(self.observer.calls[-1], ("changed", ROOT_UDN, "CONFIGID"))
        self.assertEqual(len([1 for m, _ in self.device.log if m == b"UNSUBSCRIBE"]), 2)
        self.assertEqual(self.cp.device(ROOT_UDN).configId, 2)

    def test_rebootSkipsUnsubscribe(self) -> None:
        """A BOOTID change: the device forgot its subscriptions; no UNSUBSCRIBE, new SUBSCRIBEs."""
        self.announce()
        self.announce(alive(bootId=9))
        self.assertEqual(self.observer.calls[-1], ("changed", ROOT_UDN, "BOOTID"))
        self.assertEqual([m for m, _ in self.device.log].count(b"UNSUBSCRIBE"), 0)
        self.assertEqual([m for m, _ in self.device.log].count(b"SUBSCRIBE"), 4)

    def test_expiry(self) -> None:
        """No re-announcement within max-age: gone (expired); its actions then fail with ActionError."""
        self.announce(alive(maxAge=100))
        device = self.cp.device(ROOT_UDN)
        self.clock.advance(111)
        self.flush()
        self.assertEqual(self.observer.calls[-1], ("gone", ROOT_UDN, "expired"))
        results: list = []
        device.callAction(device.services(CMS)[0][1], "GetValues").addBoth(results.append)
        self.assertTrue(results[0].check(ActionError))

    def test_refusedSubscriptionPolled(self) -> None:
        """A device refusing SUBSCRIBE is still ready; observers are asked to poll it."""
        for publisher in self.device.publishers.values():
            publisher.refuse = 500
        self.announce()
        self.assertEqual(self.observer.calls, [("ready", ROOT_UDN)])
        self.clock.advance(300)
        self.flush()
        self.assertIn(("stale", "urn:upnp-org:serviceId:CMS", "poll"), self.observer.calls)

    def test_noEventURLPolled(self) -> None:
        """An evented DM service whose event URL is refused is polled instead, and the device is still ready."""
        from proxier.upnp.description import DeviceDescription

        desc = self.device.description
        cms, bms, cds = desc.device.services
        evil = cms.__class__(cms.serviceType, cms.serviceId, cms.scpdURL, cms.controlURL,
                             "http://127.0.0.1:9/event/cms")
        device = replace(desc.device, services=(evil, bms, cds))
        self.device.documents[b"/desc.xml"] = DeviceDescription(device=device).toBytes()
        self.announce()
        self.assertEqual(self.observer.calls, [("ready", ROOT_UDN)])
        found = self.cp.device(ROOT_UDN)
        cmsService = found.services(CMS)[0][1]
        self.assertEqual(found.subscriptionState(cmsService), "polling")
        self.clock.advance(300)
        self.assertIn(("stale", "urn:upnp-org:serviceId:CMS", "poll"), self.observer.calls)
        self.cp.stopService()
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_silentDeparture(self) -> None:
        """A device gone without byebye: its renewal gets no answer, it is probed, and lost as unreachable."""
        self.announce()
        device = self.cp.device(ROOT_UDN)
        for publisher in self.device.publishers.values():
            publisher.hold = True  # the event URLs stop answering
        self.device.documents.clear()  # so does its description
        for sub in device.subscriptions:
            sub.renewNow()
        self.flush()
        for _ in range(5):
            self.clock.advance(10)
            self.flush()
        self.assertEqual(self.observer.calls[-1], ("gone", ROOT_UDN, "unreachable"))

    def test_lateObserver(self) -> None:
        """An observer added later first hears of the devices already ready."""
        self.announce()
        late = Recorder()
        self.cp.addObserver(late)
        self.assertEqual(late.calls, [("ready", ROOT_UDN)])
        self.cp.removeObserver(late)
        self.announce(alive(configId=3))
        self.assertEqual(len(late.calls), 1)

    def test_observerFailureContained(self) -> None:
        """An observer that raises is logged; the others still hear."""
        class Broken(Recorder):
            def deviceReady(self, device):  # noqa: ANN001, ANN201
                raise RuntimeError("observer bug")

        self.cp.observers.insert(0, Broken())
        self.announce()
        self.assertEqual(self.observer.calls, [("ready", ROOT_UDN)])
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    def test_forgedLocation(self) -> None:
        """An alive whose LOCATION points at loopback or metadata is never fetched."""
        for location in ("http://127.0.0.1:8080/desc.xml", "http://169.254.169.254/latest/meta-data/",
                         "http://10.9.9.9/desc.xml"):
            self.announce(alive(location=location))
        self.assertEqual(self.device.log, [])
        self.assertEqual(self.observer.calls, [])

    def test_stop(self) -> None:
        """stopService closes the sockets, UNSUBSCRIBEs, and leaves no timer behind."""
        self.announce()
        self.cp.stopService()
        self.flush()
        self.assertEqual([m for m, _ in self.device.log].count(b"UNSUBSCRIBE"), 2)
        self.assertTrue(all(p.stopped for *_, p in self.r.multicast))
        self.assertEqual(self.clock.getDelayedCalls(), [])


class InterfaceTests(unittest.TestCase):
    """Which interfaces discovery runs on, and when they change (issue 16: discovery only on the LAN)."""

    def setUp(self) -> None:
        FakeSock.made = []
        self.clock = Clock()
        self.r = Reactorish()
        self.available: list = [WAN]
        self.routes = {"eth0"}
        self.logs = LogCapture(self)

    def start(self, **lan: object) -> ControlPoint:
        config = C.load(None, [SECTION]).replace("lan", ipv6=False, **lan)
        cp = ControlPoint(
            config, reactor=object(), clock=self.clock, httpClient=StubTreq(FakeDMDevice()),
            interfaces=lambda: list(self.available), defaultRoutes=lambda: set(self.routes),
            listenUDP=self.r.listenUDP, listenMulticast=self.r.listenMulticast,
            adoptDatagramPort=self.r.adoptDatagramPort, listenTCP=Listens(), socketFactory=FakeSock,
            resolve=lambda name: None, rng=random.Random(5),
        )
        cp.startService()
        self.addCleanup(lambda: cp.running and cp.stopService())
        return cp

    def joinedOn(self) -> list:
        return [iface for port, iface, _, p in self.r.multicast if port == 0 and not p.stopped]

    def test_neverOnTheWAN(self) -> None:
        """With no [lan] interfaces, the interface holding the default route is left out, and the log says why."""
        cp = self.start()
        self.assertEqual(self.r.multicast, [], "no socket at all on eth0 (the WAN)")
        self.assertEqual(cp.discovery.ports, [])
        infos = [e["log_format"].format(**e) for e in self.logs.atLeast(LogLevel.info) if "log_format" in e]
        self.assertTrue(any("no discovery on eth0: it holds the default route" in line for line in infos), infos)

    def test_namedWAN(self) -> None:
        """Named in [lan] interfaces, even the interface holding the default route is discovered on."""
        self.start(interfaces=("eth0",))
        self.assertEqual(self.joinedOn(), ["203.0.113.7"])

    def test_lateBridge(self) -> None:
        """A bridge that comes up after the start is discovered on at the next check, without a restart."""
        cp = self.start()
        self.clock.advance(29)
        self.available = [WAN, LAN]
        self.assertEqual(self.joinedOn(), [])
        self.clock.advance(1)
        self.assertEqual(self.joinedOn(), ["192.168.1.1"])
        self.assertEqual(cp.discovery.interfaces, [LAN])
        self.available = [WAN]
        self.clock.advance(30)
        self.assertEqual(self.joinedOn(), [], "gone again: its sockets are closed")

    def test_lateNamedInterface(self) -> None:
        """A named interface missing at start is reported once and used when it appears; checkInterfaces looks at once."""
        cp = self.start(interfaces=("br-lan",))
        errors = len(self.logs.errors())
        self.assertTrue(any("br-lan does not exist" in e["log_format"].format(**e) for e in self.logs.errors()))
        self.clock.advance(90)
        self.assertEqual(len(self.logs.errors()), errors, "the same problem is not logged again at each check")
        self.available = [WAN, LAN]
        self.assertTrue(cp.checkInterfaces())
        self.assertEqual(self.joinedOn(), ["192.168.1.1"])

    def test_routeBecomesWAN(self) -> None:
        """An interface that starts holding the default route stops being discovered on."""
        self.available = [WAN, LAN]
        self.routes = set()
        self.start()
        self.assertEqual(sorted(self.joinedOn()), ["192.168.1.1", "203.0.113.7"])
        self.routes = {"eth0"}
        self.clock.advance(30)
        self.assertEqual(self.joinedOn(), ["192.168.1.1"])

    def test_checkOff(self) -> None:
        """interface_check_interval = 0: no periodic look (SIGHUP still calls checkInterfaces)."""
        cp = self.start(interface_check_interval=0)
        self.assertIsNone(cp._interfaceCheck)
        self.available = [WAN, LAN]
        self.clock.advance(3600)
        self.assertEqual(self.joinedOn(), [])

    def test_configReloaded(self) -> None:
        """SIGHUP's new [lan] interfaces apply at once, and the interfaces are looked at at once (hotplug's reload)."""
        self.available = [WAN, LAN]
        cp = self.start(interfaces=("eth0",))
        self.assertEqual(self.joinedOn(), ["203.0.113.7"])
        config = C.load(None, [SECTION]).replace("lan", interfaces=("br-lan",), interface_check_interval=600)
        verifyObject(IReloadable, cp)
        cp.configReloaded(config)
        self.assertEqual(self.joinedOn(), ["192.168.1.1"])
        self.assertEqual([c.getTime() for c in self.clock.getDelayedCalls() if c.func == cp._periodicCheck], [600])

    def test_stopCancelsCheck(self) -> None:
        """Stopping the control point cancels the periodic check."""
        cp = self.start()
        cp.stopService()
        self.assertEqual(self.clock.getDelayedCalls(), [])


class SettingsTests(unittest.TestCase):
    def test_defaults(self) -> None:
        """Without the UPnP section, the documented defaults apply; with it, its values."""
        base = C.load(None)
        s = Settings.fromConfig(base)
        for key in SECTION.keys:
            self.assertIsNotNone(key.doc)
        self.assertEqual((s.searchMX, s.subscriptionTimeout, s.ssdpMode, s.maxDevices), (2, 1800, "multicast", 256))
        withSection = C.load(None, [SECTION]).replace("upnp", search_mx=4, loopback_search_ports=(5000,))
        s = Settings.fromConfig(withSection)
        self.assertEqual((s.searchMX, s.loopbackSearchPorts), (4, (5000,)))

    def test_everyKeyRead(self) -> None:
        """Every documented key changes the settings when set."""
        values = {"search_mx": "5", "search_copies": "3", "loopback_search_ports": "4000, 4001",
                  "description_timeout": "7", "description_max_bytes": "9999", "max_pending": "3",
                  "action_timeout": "8", "action_max_bytes": "8888", "subscription_timeout": "60",
                  "poll_interval": "20", "callback_port": "4321", "callback_request_timeout": "5",
                  "callback_max_connections": "128", "callback_max_connections_per_peer": "4",
                  "callback_max_waiting": "10"}
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
            # the DeviceProtection keys (proxier.upnp.dps.security); files must exist, this one does
            values.update({"dps_certificate": f.name, "dps_private_key": f.name, "dps_certificate_chain": f.name,
                           "dps_certificate_days": "400", "dps_renew_days": "7", "dps_device_ca_file": f.name,
                           "dps_introduction": "pbc", "dps_introduction_timeout": "60",
                           "dps_introduction_retry": "600", "dps_proxy_public": "true",
                           "dps_accept_certificates": "uuid:x=SHA256:00"})
            self.assertEqual(set(values), {k.name for k in SECTION.keys})
            f.write("[upnp]\n" + "".join(f"{k} = {v}\n" for k, v in values.items()))
        self.addCleanup(os.unlink, f.name)
        configured = Settings.fromConfig(C.load(f.name, [SECTION]))
        default = Settings()
        changed = {name for name in default.__dataclass_fields__ if getattr(default, name) != getattr(configured, name)}
        self.assertEqual(len(changed), len(values))

    def test_callbackLimitsReachTheServer(self) -> None:
        """[upnp] callback_* keys bound the GENA callback server the control point runs (issue 11.2's guard)."""
        config = C.load(None, [SECTION]).replace("upnp", callback_request_timeout=5, callback_max_connections=128,
                                                  callback_max_connections_per_peer=4, callback_max_waiting=10)
        cp = ControlPoint(config, reactor=object(), clock=Clock(), httpClient=StubTreq(FakeDMDevice()),
                          listenTCP=Listens(), resolve=lambda name: None)
        site = cp.callbacks.site
        self.assertEqual((site.requestTimeout, site.maxConnections, site.maxPerPeer, site.maxWaiting),
                         (5, 128, 4, 10))

    def test_badPorts(self) -> None:
        """A bad port list stops the start with the key named."""
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
            f.write("[upnp]\nloopback_search_ports = 4000 x\n")
        self.addCleanup(os.unlink, f.name)
        e = self.assertRaises(C.ConfigError, C.load, f.name, [SECTION])
        self.assertIn("[upnp] loopback_search_ports: 'x' is not a port number", str(e))

    def test_portsOfUnicodeDigits(self) -> None:
        """A port of Unicode digits ('٤٠٠٠', which int() read as 4000) is not a port number."""
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False, encoding="utf-8") as f:
            f.write("[upnp]\nloopback_search_ports = 4001 ٤٠٠٠\n")
        self.addCleanup(os.unlink, f.name)
        e = self.assertRaises(C.ConfigError, C.load, f.name, [SECTION])
        self.assertIn("is not a port number", str(e))
