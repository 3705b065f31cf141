"""
Tests for L{proxier.printer.finder}: the lifecycle of printers found by
DNS-SD, sans-IO on a L{task.Clock} with recorded devices; then the printer
service fed a fake browser's events, its devices on in-memory printers
(L{tests._fakeprinter}), in a real tree with the fake ACS (L{tests._e2e}):
found, gone, back without BOOTSTRAP, forgotten, back with its own
VirtualDevice number, another printer never given that number.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Optional

from twisted.internet import defer, reactor, task
from twisted.internet.defer import Deferred, fail, succeed
from twisted.trial import unittest

from proxier.cwmp import messages as m
from proxier.datamodel.values import DeviceIdentity
from proxier.lan.mdns import APPEARED, GONE, InstanceEvent, ServiceInstance, parseTXT
from proxier.log import DeviceLogger
from proxier.plugins.printer import PrinterProtocol
from proxier.printer.discovery import IPP, IPPS, LPD, PDL_DATASTREAM, PrinterCandidate
from proxier.printer.finder import DNSSDDiscovery
from proxier.printer.lifecycle import GONE_REASON, PrinterLifecycle
from proxier.printer.proxy import PrinterService
from proxier.proxy.device import deviceKey
from tests import _e2e
from tests._e2e import answers, events, waitFor
from proxier.printer.snmpdevice import SNMPPrinterDevice
from tests._fakeprinter import TEXT, URI, FakeClient, FakePrinter, attribute, mfp4000
from tests._helpers import LogCapture
from tests.test_printer_snmpclient import AGENT
from tests.test_printer_snmpdevice import SERIAL as SNMP_SERIAL, _AgentCase
from tests.test_lan_urlpolicy import LAN

A = DeviceIdentity("ExampleCo", "000000", "ExampleCo MFP 4000 Color", "EX4000-0001")
B = DeviceIdentity("ExampleCo", "000000", "ExampleCo MFP 4000 Color", "EX4000-0002")
PROXIER = DeviceIdentity("proxier", "000000", "Gateway", "GW-FINDER-1")
URL_A = "ipp://192.168.1.20:631/ipp/print"
URL_B = "ipp://192.168.1.21:631/ipp/print"
FORGET = 3600.0
RETRY = 60.0
ENTRY = f"snmp://public@{AGENT[0]}:{AGENT[1]}"  # the in-memory agent of tests.test_printer_snmpdevice


def candidate(name: str = "Office", url: Optional[str] = URL_A, serviceType: str = IPP,
              address: str = "192.168.1.20") -> PrinterCandidate:
    return PrinterCandidate(key=f"br-lan/{name.lower()}.{serviceType}", name=name, serviceType=serviceType,
                            interface="br-lan", host="printer.local", port=631, address=address, ippURL=url,
                            snmpAddress=None if url else address, adminURL="http://printer.local/")


class FakeDevice:
    """What the lifecycle does to a device: started, stopped, silent (offline) and why."""

    def __init__(self, identity: DeviceIdentity, url: str, replaced: Any) -> None:
        self.identity, self.key, self.url, self.replaced = identity, deviceKey(identity), url, replaced
        self.log = DeviceLogger(identity)
        self.online = True
        self.started = self.stopped = False
        self.silentBecause: list[str] = []

    def start(self) -> None:
        self.started = True

    def stop(self) -> Deferred:
        self.stopped = True
        return succeed(None)

    def silent(self, reason: str) -> None:
        self.online = False
        self.silentBecause.append(reason)


class LifecycleTests(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.answers: dict[str, Any] = {URL_A: A}  # URL -> identity, None (no identity) or an exception
        self.asked: list[str] = []
        self.made: list[FakeDevice] = []
        self.told: list[tuple[str, FakeDevice]] = []
        self.static: set[DeviceIdentity] = set()
        self.lifecycle = PrinterLifecycle(self.clock, probe=self.probe, makeDevice=self.makeDevice,
                                          appeared=lambda d: self.told.append(("appeared", d)),
                                          removed=lambda d: self.told.append(("removed", d)),
                                          held=lambda identity: identity in self.static, forgetAfter=FORGET,
                                          retry=RETRY)

    def probe(self, c: PrinterCandidate) -> Deferred:
        assert c.ippURL is not None
        self.asked.append(c.ippURL)
        answer = self.answers[c.ippURL]
        if isinstance(answer, Exception):
            return fail(answer)
        if isinstance(answer, Deferred):
            return answer
        return succeed((answer, {"answer of": c.ippURL}))

    def makeDevice(self, c: PrinterCandidate, identity: DeviceIdentity, answer: Any, replaced: Any) -> FakeDevice:
        self.assertEqual(answer, {"answer of": c.ippURL})
        device = FakeDevice(identity, c.ippURL, replaced)
        self.made.append(device)
        return device

    def test_appears(self) -> None:
        """An IPP candidate is asked who it is; the answer makes its device, reported once."""
        self.lifecycle.found(candidate())
        [device] = self.made
        self.assertEqual((self.asked, device.identity, device.url), ([URL_A], A, URL_A))
        self.assertEqual(self.told, [("appeared", device)])

    def test_twoAdvertisementsOnePrinter(self) -> None:
        """The same printer over IPP and IPPS is one device; it stays while one advertisement is left."""
        self.answers["ipps://192.168.1.20:631/ipp/print"] = A
        ipps = candidate(url="ipps://192.168.1.20:631/ipp/print", serviceType=IPPS)
        self.lifecycle.found(candidate())
        self.lifecycle.found(ipps)
        [device] = self.made
        self.lifecycle.lost(candidate())
        self.assertEqual((device.online, device.stopped, self.told), (True, False, [("appeared", device)]))
        self.lifecycle.lost(ipps)
        self.assertEqual((device.online, device.stopped, device.silentBecause), (False, True, [GONE_REASON]))

    def test_goneThenForgotten(self) -> None:
        """
        Its advertisement gone: stopped and offline, still proxied; after
        forget_after: removed from the proxier.
        """
        self.lifecycle.found(candidate())
        [device] = self.made
        self.lifecycle.lost(candidate())
        self.assertEqual((device.online, device.stopped), (False, True))
        self.clock.advance(FORGET - 1)
        self.assertEqual(self.told, [("appeared", device)])
        self.clock.advance(1)
        self.assertEqual(self.told, [("appeared", device), ("removed", device)])
        self.assertEqual(self.lifecycle.printers, {})

    def test_backBeforeForgotten(self) -> None:
        """
        Back before forget_after: a new device of the same identity, online
        from the answer that found it (the old one, stopped, removed first);
        it is not forgotten later.
        """
        self.lifecycle.found(candidate())
        self.lifecycle.lost(candidate())
        self.clock.advance(FORGET / 2)
        self.lifecycle.found(candidate())
        old, new = self.made
        self.assertEqual((new.identity, new.key, new.online), (A, old.key, True))
        self.assertEqual(self.told, [("appeared", old), ("removed", old), ("appeared", new)])
        self.clock.advance(FORGET)
        self.assertEqual(len(self.told), 3)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_backAfterForgotten(self) -> None:
        """Forgotten, then back: proxied again as the same identity (the same device key)."""
        self.lifecycle.found(candidate())
        self.lifecycle.lost(candidate())
        self.clock.advance(FORGET)
        self.lifecycle.found(candidate())
        first, second = self.made
        self.assertEqual(self.told, [("appeared", first), ("removed", first), ("appeared", second)])
        self.assertEqual(second.key, first.key)

    def test_moved(self) -> None:
        """Advertised at another address (the same advertisement): a new device there, the old one stopped."""
        self.answers["ipp://192.168.1.30:631/ipp/print"] = A
        self.lifecycle.found(candidate())
        self.lifecycle.changed(candidate(url="ipp://192.168.1.30:631/ipp/print", address="192.168.1.30"))
        old, new = self.made
        self.assertTrue(old.stopped)
        self.assertEqual(new.url, "ipp://192.168.1.30:631/ipp/print")
        self.assertEqual(self.told, [("appeared", old), ("removed", old), ("appeared", new)])

    def test_changedTextOnly(self) -> None:
        """A change that leaves the URL as it was asks nothing and changes nothing proxied."""
        self.lifecycle.found(candidate())
        self.lifecycle.changed(replace(candidate(), location="Room 8"))
        self.assertEqual((self.asked, len(self.made)), ([URL_A], 1))

    def test_silentAskedAgain(self) -> None:
        """A candidate that does not answer is asked again every retry seconds, and no more once it is gone."""
        self.answers[URL_A] = ConnectionRefusedError()
        self.lifecycle.found(candidate())
        self.clock.advance(RETRY)
        self.assertEqual(self.asked, [URL_A, URL_A])
        self.answers[URL_A] = A
        self.clock.advance(RETRY)
        self.assertEqual(len(self.made), 1)
        self.lifecycle.lost(candidate())
        self.answers[URL_A] = ConnectionRefusedError()
        self.lifecycle.found(candidate())
        self.lifecycle.lost(candidate())
        self.clock.advance(RETRY * 3)
        self.assertEqual(len(self.asked), 4)

    def test_answerAfterLost(self) -> None:
        """An answer to an advertisement gone meanwhile makes no device."""
        pending: Deferred = Deferred()
        self.answers[URL_A] = pending
        self.lifecycle.found(candidate())
        self.lifecycle.lost(candidate())
        self.assertEqual(self.made, [])
        self.assertEqual(self.told, [])

    def test_noIdentity(self) -> None:
        """A printer telling no identity is not proxied (logged)."""
        self.answers[URL_A] = None
        logs = LogCapture(self)
        self.lifecycle.found(candidate())
        self.assertEqual(self.made, [])
        self.assertEqual(len([e for e in logs.events if "tells no serial number" in e.get("log_format", "")]), 1)

    def test_static(self) -> None:
        """A printer listed in [printer] printers is that entry's device: discovery makes none."""
        self.static.add(A)
        self.lifecycle.found(candidate())
        self.assertEqual(self.made, [])

    def test_release(self) -> None:
        """A static entry identifying a printer discovery proxies takes it over: discovery's device goes."""
        self.lifecycle.found(candidate())
        [device] = self.made
        self.lifecycle.release(A)
        self.assertTrue(device.stopped)
        self.assertEqual(self.told, [("appeared", device), ("removed", device)])
        self.lifecycle.lost(candidate())
        self.clock.advance(FORGET)
        self.assertEqual(len(self.told), 2)

    def test_replaced(self) -> None:
        """Its printer names another identity: the device goes and its advertisement is asked again."""
        self.lifecycle.found(candidate())
        [old] = self.made
        self.answers[URL_A] = B
        old.stop()
        old.replaced(old)
        [_, new] = self.made
        self.assertEqual(new.identity, B)
        self.assertEqual(self.told, [("appeared", old), ("removed", old), ("appeared", new)])

    def test_snmpOnly(self) -> None:
        """
        A _pdl-datastream or _printer candidate's address is given to the
        SNMP probe once, taken back when no such candidate advertises it,
        and moved when the advertisement moves; never asked over IPP.
        """
        probed: list[tuple[str, str]] = []
        self.lifecycle.snmpAdded = lambda address: probed.append(("add", address))
        self.lifecycle.snmpRemoved = lambda address: probed.append(("discard", address))
        raw = candidate(url=None, serviceType=PDL_DATASTREAM)
        lpd = candidate(url=None, serviceType=LPD)
        self.lifecycle.found(raw)
        self.lifecycle.changed(replace(raw, location="Room 9"))
        self.lifecycle.found(lpd)
        self.lifecycle.lost(raw)
        self.assertEqual(probed, [("add", "192.168.1.20")])
        self.lifecycle.changed(replace(lpd, address="192.168.1.30", snmpAddress="192.168.1.30"))
        self.lifecycle.lost(lpd)
        self.assertEqual(probed, [("add", "192.168.1.20"), ("discard", "192.168.1.20"), ("add", "192.168.1.30"),
                                  ("discard", "192.168.1.30")])
        self.assertEqual((self.asked, self.made, self.lifecycle.snmpOnly), ([], [], {}))

    def test_stop(self) -> None:
        """Stopping: the running devices stop, no timer is left."""
        self.answers[URL_B] = ConnectionRefusedError()
        self.lifecycle.found(candidate())
        self.lifecycle.found(candidate("Hall", URL_B, address="192.168.1.21"))
        self.lifecycle.found(candidate("Gone", URL_A))
        self.lifecycle.lost(candidate("Gone", URL_A))
        [device] = self.made
        self.assertEqual(len(self.lifecycle.stop()), 1)
        self.assertTrue(device.stopped)
        self.assertEqual(self.clock.getDelayedCalls(), [])


# -- the service, fed a fake browser's events ------------------------------------------------------------


def instance(name: str, address: str, uuid: str) -> ServiceInstance:
    return ServiceInstance(interface=LAN.name, name=f"{name}.{IPP}", instance=name, serviceType=IPP,
                           host=f"{name.lower()}.local", port=631,
                           txt=parseTXT([b"rp=ipp/print", b"UUID=" + uuid.encode(),
                                         b"adminurl=http://" + address.encode() + b"/"]),
                           addresses=(address,), source=address)


OFFICE = instance("Office", "192.168.1.20", "7d1c7a5e-0000-4000-8000-000000004000")
HALL = instance("Hall", "192.168.1.21", "7d1c7a5e-0000-4000-8000-000000004001")


class FakeBrowser:
    """The L{Browser} the service browses with: the test tells its listener what it hears."""

    def __init__(self, serviceTypes: Any, listener: Any, clock: Any, interfaces: Any) -> None:
        self.listener = listener
        self.interfaces = list(interfaces)
        self.running = False

    def start(self) -> None:
        self.running = True

    def stop(self) -> list:
        self.running = False
        return []

    def setInterfaces(self, interfaces: Any) -> bool:
        changed = list(interfaces) != self.interfaces
        self.interfaces = list(interfaces)
        return changed

    def interfaceNamed(self, name: str) -> Any:
        return next((i for i in self.interfaces if i.name == name), None)

    def hear(self, kind: str, what: ServiceInstance) -> None:
        self.listener(InstanceEvent(kind, what))


class DiscoveringProtocol(PrinterProtocol):
    """The plugin, browsing with a fake browser on br-lan; each URL's IPP client on its in-memory printer."""

    def __init__(self, printers: dict[str, FakePrinter]) -> None:
        self.printers = printers
        self.service: Optional[PrinterService] = None
        self.browser: Optional[FakeBrowser] = None

    def _browser(self, *args: Any) -> FakeBrowser:
        self.browser = FakeBrowser(*args)
        return self.browser

    def makeService(self, context: Any) -> PrinterService:
        self.service = PrinterService(
            context, clientFactory=lambda url, credentials, timeout: FakeClient(self.printers[url], url),
            discovery=lambda service: DNSSDDiscovery(service, browserFactory=self._browser,
                                                     interfaces=lambda: [LAN]))
        return self.service


def secondPrinter() -> FakePrinter:
    printer = FakePrinter(reactor)
    printer.set("printer-device-id", TEXT, "MFG:ExampleCo;MDL:MFP 4000 Color;SN:EX4000-0002;")
    printer.set("printer-uuid", URI, "urn:uuid:7d1c7a5e-0000-4000-8000-000000004001")
    return printer


class DiscoveredTests(unittest.TestCase):
    timeout = 60

    def setUp(self) -> None:
        self.printers = {URL_A: FakePrinter(reactor, mfp4000()), URL_B: secondPrinter()}
        self.plugin = DiscoveringProtocol(self.printers)
        self.lab = _e2e.Lab(self, [self.plugin], PROXIER, {"printer": {"discovery": "dns-sd"}})

    def virtualDevices(self) -> Deferred:
        """The proxier's VirtualDevice rows, asked by the ACS: {number: serial number}, and DiscoveryProtocol."""
        table = "Device.ManagementServer.VirtualDevice."

        def read(session: Any) -> tuple[dict[int, str], set[str]]:
            [answer] = answers(session)
            values = {p.name[len(table):]: p.value for p in answer.parameters}
            rows = {int(n.split(".")[0]): v for n, v in values.items() if n.endswith(".SerialNumber")}
            return rows, {v for n, v in values.items() if n.endswith(".DiscoveryProtocol")}

        return self.lab.session([m.GetParameterValues((table,))], PROXIER).addCallback(read)

    @defer.inlineCallbacks
    def test_lifecycle(self) -> Any:
        """
        Found: bootstraps, listed with DiscoveryProtocol X_000000_DNS-SD and
        its adminurl as MoreInfoUri. Gone: offline. Back: online, no
        BOOTSTRAP. Forgotten: no row; another printer then gets a new
        number; back again: its own number, still no BOOTSTRAP.
        """
        lab = self.lab
        yield lab.start()
        service = self.plugin.service
        assert service is not None and self.plugin.browser is not None
        browser = self.plugin.browser
        service.discovery.lifecycle.forgetAfter = 0.5  # [printer] forget_after, at test speed

        browser.hear(APPEARED, OFFICE)
        yield waitFor(lab.ended(A, 1), what="the BOOTSTRAP session of the printer found")
        self.assertEqual(events(lab.sessions(A)[0]), ["0 BOOTSTRAP"])
        rows, discovery = yield self.virtualDevices()
        self.assertEqual((rows, discovery), ({1: A.serialNumber}, {"X_000000_DNS-SD"}))
        session = yield lab.session([m.GetParameterValues((
            "Device.Services.PrintService.1.PrintServiceDescription.MoreInfoUri",))], A)
        self.assertEqual([p.value for p in answers(session)[0].parameters], ["http://192.168.1.20/"])

        browser.hear(GONE, OFFICE)
        [device] = [d for d in service.discovery.lifecycle.printers.values()]
        self.assertFalse(device.device.online)
        status = yield lab.connectionRequest(A)
        self.assertEqual(status, 503)

        browser.hear(APPEARED, OFFICE)
        self.assertTrue(service.discovery.lifecycle.printers[A.key].device.online)
        status = yield lab.connectionRequest(A)
        self.assertEqual(status, 200)
        yield waitFor(lab.ended(A, 3), what="the session the Connection Request asked for")
        self.assertEqual([events(s) for s in lab.sessions(A)][2], ["6 CONNECTION REQUEST"])

        browser.hear(GONE, OFFICE)
        yield waitFor(lambda: A.key not in service.discovery.lifecycle.printers, what="the printer forgotten")
        rows, _ = yield self.virtualDevices()
        self.assertEqual(rows, {})

        browser.hear(APPEARED, HALL)
        yield waitFor(lab.ended(B, 1), what="the BOOTSTRAP session of the second printer")
        browser.hear(APPEARED, OFFICE)
        rows, _ = yield self.virtualDevices()
        self.assertEqual(rows, {1: A.serialNumber, 2: B.serialNumber})
        self.assertEqual([e for s in lab.sessions(A) for e in events(s) if e == "0 BOOTSTRAP"], ["0 BOOTSTRAP"])

    @defer.inlineCallbacks
    def test_staticAndDiscovered(self) -> Any:
        """A printer listed in [printer] printers and advertised by DNS-SD is one device, the static entry's."""
        self.lab.sections["printer"] = {"discovery": "dns-sd", "printers": (URL_A,)}
        lab = yield self.lab.start()
        yield waitFor(lab.ended(A, 1), what="the BOOTSTRAP session of the static printer")
        assert self.plugin.browser is not None and self.plugin.service is not None
        self.plugin.browser.hear(APPEARED, OFFICE)
        self.assertEqual(self.plugin.service.discovery.lifecycle.printers, {})
        rows, discovery = yield self.virtualDevices()
        self.assertEqual((rows, discovery), ({1: A.serialNumber}, {"X_000000_Static"}))


class ServiceTests(unittest.TestCase):
    """The printer service with DNS-SD on a L{task.Clock}: the interfaces it browses on, a static entry taking over."""

    def setUp(self) -> None:
        from zope.interface.registry import Components

        from proxier.config import load
        from proxier.printer.settings import SECTION
        from proxier.service import DeviceDirectory, ProtocolContext
        from proxier.store import Store

        self.clock = task.Clock()
        self.clock.advance(1_000_000)
        self.directory = DeviceDirectory()
        self.interfaces = [LAN]
        self.browser: Optional[FakeBrowser] = None
        self.printers = {URL_A: FakePrinter(self.clock), "ipp://192.168.1.20/ipp/print": FakePrinter(self.clock)}
        self.config = load(None, [SECTION]).replace("printer", discovery="dns-sd",
                                                    printers=("ipp://192.168.1.20/ipp/print",))
        self.context = ProtocolContext(self.clock, Components(), self.config, Store.open(self.mktemp()),
                                       self.directory)

    def _browser(self, *args: Any) -> FakeBrowser:
        self.browser = FakeBrowser(*args)
        return self.browser

    def service(self) -> PrinterService:
        service = PrinterService(
            self.context, clientFactory=lambda url, c, t: FakeClient(self.printers[url], url), random=lambda: 0.0,
            discovery=lambda s: DNSSDDiscovery(s, browserFactory=self._browser, interfaces=lambda: self.interfaces))
        service.startService()
        self.addCleanup(lambda: service.stopService() if service.running else None)
        return service

    def test_followsInterfaces(self) -> None:
        """
        The browser follows the LAN interfaces: looked at every
        interface_check_interval, and at once on SIGHUP with the new [lan]
        interfaces.
        """
        from proxier.lan.netif import NetworkInterface

        other = NetworkInterface("lan2", 7, addresses=LAN.addresses[:1])
        service = self.service()
        assert self.browser is not None
        self.assertEqual((self.browser.running, self.browser.interfaces), (True, [LAN]))
        self.interfaces = [LAN, other]
        self.clock.advance(self.config["lan"]["interface_check_interval"])
        self.assertEqual(self.browser.interfaces, [LAN, other])
        service.configReloaded(self.config.replace("lan", interfaces=("lan2",)))
        self.assertEqual(self.browser.interfaces, [other])
        service.stopService()
        self.assertFalse(self.browser.running)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_staticTakesOver(self) -> None:
        """
        A printer proxied as found by DNS-SD that a [printer] printers entry
        then identifies is one device: the static entry's from then on.
        """
        self.printers["ipp://192.168.1.20/ipp/print"].up = False
        service = self.service()
        assert self.browser is not None
        self.browser.hear(APPEARED, OFFICE)
        [found] = self.directory.devices()
        self.assertEqual((found.identity, found.discoveryProtocol), (A, "X_000000_DNS-SD"))
        self.printers["ipp://192.168.1.20/ipp/print"].up = True
        self.clock.advance(60)
        [static] = self.directory.devices()
        self.assertEqual((static.identity, static.discoveryProtocol, static.url),
                         (A, "X_000000_Static", "ipp://192.168.1.20/ipp/print"))
        self.assertEqual(found.poller.phase.value, "stopped")
        self.assertEqual(service.discovery.lifecycle.printers, {})

    def test_offByDefault(self) -> None:
        """[printer] discovery = none (the default): no browser."""
        self.config = self.config.replace("printer", discovery="none")
        self.context.config = self.config
        service = self.service()
        self.assertIsNone(service.discovery)
        self.assertIsNone(self.browser)


class SNMPEntryTests(_AgentCase):
    """An snmp:// entry of [printer] printers and the same printer found by DNS-SD over IPP: one device."""

    def service(self, printers: tuple[str, ...] = (ENTRY,)) -> PrinterService:
        from zope.interface.registry import Components

        from proxier.config import load
        from proxier.printer.settings import SECTION
        from proxier.printer.snmpclient import SNMPClient
        from proxier.service import DeviceDirectory, ProtocolContext
        from proxier.store import Store

        printer = FakePrinter(self.clock, mfp4000() + [attribute("printer-serial-number", TEXT, SNMP_SERIAL)])
        config = load(None, [SECTION]).replace("printer", printers=printers, discovery="dns-sd")
        self.directory = DeviceDirectory()
        context = ProtocolContext(self.clock, Components(), config, Store.open(self.mktemp()), self.directory)
        service = PrinterService(
            context, clientFactory=lambda url, c, t: FakeClient(printer, url), random=lambda: 0.0,
            snmpClientFactory=lambda entry, write: SNMPClient(self.protocol, entry.host, entry.port,
                                                              community=entry.community, timeout=1.0, retries=1),
            discovery=lambda s: DNSSDDiscovery(s, browserFactory=self._browser, interfaces=lambda: [LAN]))
        service.startService()
        self.addCleanup(lambda: service.stopService() if service.running else None)
        self.clock.advance(0)
        return service

    def _browser(self, *args: Any) -> FakeBrowser:
        self.browser = FakeBrowser(*args)
        return self.browser

    def test_joinsTheDeviceFound(self) -> None:
        """
        The entry answers first and is a device of its own; the printer
        found by DNS-SD takes it as its SNMP source (the SNMP-only device
        goes); that device forgotten, the entry is its own device again.
        """
        service = self.service()
        [alone] = self.directory.devices()
        self.assertIsInstance(alone, SNMPPrinterDevice)
        self.browser.hear(APPEARED, OFFICE)
        self.clock.advance(0)
        [device] = self.directory.devices()
        self.assertEqual((device.discoveryProtocol, device.hasSNMP, device.identity.serialNumber),
                         ("X_000000_DNS-SD", True, SNMP_SERIAL))
        self.assertEqual(service.ippDevices(), [device])
        self.browser.hear(GONE, OFFICE)
        self.assertEqual(service.ippDevices(), [])
        self.clock.advance(86400)
        [again] = self.directory.devices()
        self.assertIsInstance(again, SNMPPrinterDevice)

    def test_snmpCandidate(self) -> None:
        """
        A _pdl-datastream candidate's address is probed over SNMP: its
        printer is a device (X_000000_SNMP); the advertisement gone, it is
        offline, then forgotten after forget_after.
        """
        service = self.service(printers=())
        raw = candidate("Raw", None, PDL_DATASTREAM, address=AGENT[0])
        service.discovery.lifecycle.found(raw)
        self.clock.advance(0)
        [device] = self.directory.devices()
        self.assertEqual((device.identity.serialNumber, device.discoveryProtocol, device.online),
                         (SNMP_SERIAL, "X_000000_SNMP", True))
        service.discovery.lifecycle.lost(raw)
        self.assertEqual((self.directory.devices(), device.online), ([device], False))
        self.clock.advance(86400)
        self.assertEqual(self.directory.devices(), [])

    def test_entryAnswersLater(self) -> None:
        """The entry's agent answers only after the printer was found by DNS-SD: it joins that device."""
        self.transport.silent = True
        service = self.service()
        self.browser.hear(APPEARED, OFFICE)
        self.clock.advance(0)
        [device] = self.directory.devices()
        self.assertFalse(device.hasSNMP)
        self.transport.silent = False
        self.clock.pump([1.0] * 70)
        self.assertEqual(self.directory.devices(), [device])
        self.assertTrue(device.hasSNMP)
        self.assertEqual(service.ippDevices(), [device])


class EmbeddedTests(unittest.TestCase):
    def test_noDiscovery(self) -> None:
        """In embedded mode DNS-SD finds nothing: no browser, and the log says why."""
        from zope.interface.registry import Components

        from proxier.config import load
        from proxier.printer.proxy import EmbeddedPrinterService
        from proxier.printer.settings import SECTION
        from proxier.service import DeviceDirectory, ProtocolContext
        from proxier.store import Store

        clock = task.Clock()
        config = load(None, [SECTION]).replace("printer", embedded=URL_A, discovery="dns-sd")
        context = ProtocolContext(clock, Components(), config, Store.open(self.mktemp()), DeviceDirectory())
        logs = LogCapture(self)
        service = EmbeddedPrinterService(context, clientFactory=lambda url, c, t: FakeClient(FakePrinter(clock), url),
                                         discovery=lambda s: self.fail("a browser in embedded mode"))
        service.startService()
        self.addCleanup(service.stopService)
        self.assertIsNone(service.discovery)
        self.assertEqual(len([e for e in logs.events if "finds no printer" in e.get("log_format", "")]), 1)
