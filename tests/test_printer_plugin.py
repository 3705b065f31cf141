"""
Tests for the IPP printer protocol plugin (L{proxier.plugins.printer}): it
is found by the plugin system with its vendor names and C{[printer]}
section, and a real L{ProxierService} with it proxies a configured printer
(in memory, L{tests._fakeprinter}) to the fake ACS over loopback HTTP: the
printer bootstraps as a Virtual CWMP Device, answers GetParameterValues and
is listed in the gateway's C{ManagementServer.VirtualDevice.{i}}. Every
CWMP message both ways is validated against the BBF schema.
"""

from __future__ import annotations

import os
from typing import Any

from twisted.internet import defer, reactor
from twisted.plugin import IPlugin
from twisted.trial import unittest

from proxier.config import load
from proxier.cwmp import messages as m
from proxier.datamodel.values import DeviceIdentity, ParameterValue
from proxier.interfaces import IProxyProtocol
from proxier.plugins.printer import PrinterProtocol
from proxier.printer.proxy import PrinterService
from proxier.printer.settings import DISCOVERY_PROTOCOL, PROXY_PROTOCOL, SECTION
from proxier.registry import protocolPlugins
from proxier.store import Store
from tests import _e2e
from tests._e2e import answers, events, waitFor
from tests._fakeprinter import URL, FakeClient, FakePrinter

PROXIER = DeviceIdentity("proxier", "000000", "Gateway", "GW-PRINTER-1")
PRINTER = DeviceIdentity("ExampleCo", "000000", "ExampleCo MFP 4000 Color", "EX4000-0001")


class PluginTests(unittest.TestCase):
    def test_found(self) -> None:
        """
        The plugin is found by the plugin system; its ProxyProtocol and
        DiscoveryProtocols (static entries, DNS-SD, the SNMP probe) are TR-106 vendor values
        (TR-181 lists no IPP), its keys the [printer] section.
        """
        [plugin] = [p for p in protocolPlugins() if p.name == PROXY_PROTOCOL]
        self.assertTrue(IProxyProtocol.providedBy(plugin))
        self.assertTrue(IPlugin.providedBy(plugin))
        self.assertEqual((plugin.name, plugin.discoveryProtocol),
                         ("X_000000_IPP", ("X_000000_Static", "X_000000_DNS-SD", "X_000000_SNMP")))
        self.assertIs(plugin.configSection, SECTION)


class FakePrinterProtocol(PrinterProtocol):
    """The plugin, with its printers' IPP clients on in-memory printers."""

    def __init__(self, printer: FakePrinter) -> None:
        self.printer = printer

    def makeService(self, context: Any) -> PrinterService:
        return PrinterService(context, clientFactory=lambda url, credentials, timeout: FakeClient(self.printer, url))


class Lab(_e2e.Lab):
    """The proxier tree with the printer protocol only, one in-memory printer, and the fake ACS on 127.0.0.1."""

    def __init__(self, testCase: unittest.TestCase) -> None:
        self.printer = FakePrinter(reactor)
        super().__init__(testCase, [FakePrinterProtocol(self.printer)], PROXIER, {"printer": {"printers": (URL,)}})

    def devices(self) -> list[DeviceIdentity]:
        return [PRINTER]


class ProxiedTests(unittest.TestCase):
    timeout = 60

    @defer.inlineCallbacks
    def test_bootstrapsAndAnswers(self) -> Any:
        """
        The configured printer bootstraps ("0 BOOTSTRAP") as a Virtual CWMP
        Device of its own identity, with its firmware as SoftwareVersion;
        GetParameterValues reads its DeviceInfo and PrintService rows; the
        gateway lists it with the plugin's ProxyProtocol and
        DiscoveryProtocol.
        """
        lab = yield Lab(self).start()
        [session] = lab.sessions(PRINTER)
        self.assertEqual(events(session), ["0 BOOTSTRAP"])
        self.assertEqual(session.inform.deviceId, PRINTER)
        informed = {p.name: p.value for p in session.inform.parameters}
        self.assertEqual(informed["Device.DeviceInfo.SoftwareVersion"], "4.2.1")
        self.assertEqual(informed["Device.RootDataModelVersion"], "2.17")

        session = yield lab.session([m.GetParameterValues((
            "Device.DeviceInfo.SerialNumber", "Device.DeviceInfo.ProxierInfo.ProxyProtocol",
            "Device.Services.PrintServiceNumberOfEntries"))], PRINTER)
        [answer] = answers(session)
        self.assertEqual({p.name: p.value for p in answer.parameters}, {
            "Device.DeviceInfo.SerialNumber": "EX4000-0001",
            "Device.DeviceInfo.ProxierInfo.ProxyProtocol": PROXY_PROTOCOL,
            "Device.Services.PrintServiceNumberOfEntries": "1",
        })

        table = "Device.ManagementServer.VirtualDevice."
        session = yield lab.session([m.GetParameterValues((table,))], PROXIER)
        [answer] = answers(session)
        values = {p.name: p.value for p in answer.parameters}
        self.assertEqual((values[table + "1.SerialNumber"], values[table + "1.ProxyProtocol"],
                          values[table + "1.DiscoveryProtocol"]), ("EX4000-0001", PROXY_PROTOCOL, DISCOVERY_PROTOCOL))

    @defer.inlineCallbacks
    def test_printServiceRows(self) -> Any:
        """
        Through CWMP: GetParameterNames shows ServiceLocation writable (the
        printer lists printer-location as settable) and Sides not;
        GetParameterValues reads a toner level and the location;
        SetParameterValues sets the location on the printer, read back.
        """
        lab = yield Lab(self).start()
        service = "Device.Services.PrintService.1."
        location = service + "PrintServiceDescription.ServiceLocation"
        sides = service + "PrintServiceDefaults.DefaultPrintJobTicket.PrintDocumentProcessing.Sides"
        level = (service + "PrintServiceConfiguration.Markers.Marker.1.MarkerSupplies.MarkerSupply.2."
                 "MarkerSupplyDescription.MarkerSupplyCurrentLevel")
        session = yield lab.session([
            m.GetParameterNames(service + "PrintServiceDescription.", True),
            m.GetParameterNames(sides, False),
            m.GetParameterValues((location, level)),
            m.SetParameterValues((ParameterValue(location, "Lab 7"),), "pk-1"),
            m.GetParameterValues((location,)),
        ], PRINTER)
        description, sideNames, before, spv, after = answers(session)
        self.assertTrue({p.name: p.writable for p in description.parameters}[location])
        self.assertEqual([(p.name, p.writable) for p in sideNames.parameters], [(sides, False)])
        self.assertEqual({p.name: p.value for p in before.parameters}, {location: "Room 1", level: "55"})
        self.assertEqual(spv, m.SetParameterValuesResponse(0))
        self.assertEqual([p.value for p in after.parameters], ["Lab 7"])
        self.assertEqual(lab.printer.attributes["printer-location"].value, "Lab 7")

    @defer.inlineCallbacks
    def test_restartOfTheProxier(self) -> Any:
        """
        A printer known from an earlier run is proxied again at once from
        the kept identity, never bootstraps again, and reports "1 BOOT" for
        the restart it made while the proxier was down.
        """
        lab = Lab(self)
        first = lab.startTree()
        yield waitFor(lab.ended(PRINTER, 1), what="the BOOTSTRAP session of the printer")
        yield first.stopService()
        lab.printer.restart()
        lab.startTree()
        yield waitFor(lab.ended(PRINTER, 2), what="the session after the restart")
        self.assertEqual(events(lab.sessions(PRINTER)[1]), ["1 BOOT"])


class ServiceTests(unittest.TestCase):
    """L{PrinterService} alone, sans-IO: finding printers, knowing them again, another printer at a URL."""

    def setUp(self) -> None:
        from twisted.internet import task
        from zope.interface.registry import Components

        from proxier.service import DeviceDirectory, ProtocolContext

        self.clock = task.Clock()
        self.clock.advance(1_000_000)
        self.printer = FakePrinter(self.clock)
        self.directory = DeviceDirectory()
        self.state = self.mktemp()
        config = load(None, [SECTION]).replace("printer", printers=(URL,))
        self.context = lambda: ProtocolContext(self.clock, Components(), config, Store.open(self.state),
                                               self.directory)

    def service(self) -> PrinterService:
        service = PrinterService(self.context(), clientFactory=lambda url, c, t: FakeClient(self.printer, url),
                                 random=lambda: 0.0)
        service.startService()
        self.addCleanup(lambda: service.stopService() if service.running else None)
        return service

    def test_foundWhenItAnswers(self) -> None:
        """A printer that does not answer yet is asked again every poll interval, and proxied once it answers."""
        self.printer.up = False
        self.service()
        self.assertEqual(self.directory.devices(), [])
        self.printer.up = True
        self.clock.advance(60)
        [device] = self.directory.devices()
        self.assertEqual((device.identity, device.online), (PRINTER, True))

    def test_knownAgain(self) -> None:
        """Known from an earlier run: proxied at start though silent, offline until it answers."""
        first = self.service()
        first.stopService()
        self.directory = type(self.directory)()
        self.printer.up = False
        self.service()
        [device] = self.directory.devices()
        self.assertEqual((device.identity, device.online), (PRINTER, False))

    def test_unreadableState(self) -> None:
        """A device state that cannot be read is not replaced by a blank one: the printer is not proxied."""
        from proxier.proxy.device import deviceKey

        first = self.service()
        first.stopService()
        self.directory = type(self.directory)()
        path = Store.open(self.state).child("printer-" + deviceKey(PRINTER)).document("printer").path
        os.remove(path)
        os.mkdir(path)
        self.service()
        self.assertEqual(self.directory.devices(), [])
        self.assertEqual(len(self.flushLoggedErrors()), 0)

    def test_anotherPrinterAtTheURL(self) -> None:
        """Another printer answers at the URL: the old device is removed, the new one proxied."""
        from tests._fakeprinter import INTEGER, TEXT

        self.service()
        [old] = self.directory.devices()
        self.printer.set("printer-device-id", TEXT, "MFG:ExampleCo;MDL:MFP 4000 Color;SN:EX4000-0002;")
        self.printer.set("printer-config-change-time", INTEGER, 2)
        self.clock.advance(60)
        [new] = self.directory.devices()
        self.assertEqual(new.identity.serialNumber, "EX4000-0002")
        self.assertEqual(old.poller.phase.value, "stopped")
