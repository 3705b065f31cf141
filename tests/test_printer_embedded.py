"""
Tests for embedded mode (PRINTERS.md §11, issue 14.5): C{[printer]
embedded} makes the proxier one printer's own CWMP CPE. The key itself;
L{EmbeddedPrinterService} alone, sans-IO on an in-memory printer (the
identity learnt from the printer's first answer, never made up; the bound
on that wait; another identity later); the whole tree with the in-memory
printer and the fake ACS on loopback (BOOTSTRAP as the printer, its tree
without VirtualDevice nor ProxierInfo, Download refused, Reboot through
IPP, other protocols not started); and the same against a real
ippeveprinter (skipped with the reason without it). C{[printer]
embedded_snmp}: the printer's own SNMP agent merged into the CPE's device,
on the in-memory agent, and through the fake ACS with ippeveprinter and
snmpsim (skipped with the reason without them). Every CWMP message both
ways is validated against the BBF schema (L{tests._e2e}).
"""

from __future__ import annotations

import os
from typing import Any

from twisted.application.service import Service
from twisted.internet import defer, reactor, task
from twisted.trial import unittest
from zope.interface import implementer
from zope.interface.registry import Components

from proxier.config import load
from proxier.cwmp import messages as m
from proxier.datamodel.faults import SetParameterValuesFault
from proxier.datamodel.values import DeviceIdentity, ParameterValue, TransferRequest
from proxier.interfaces import IDeviceObserver, IEmbeddedDevice
from proxier.plugins.printer import PrinterProtocol
from proxier.printer import ippsource, snmp
from proxier.printer.ippclient import Credentials, IPPClient
from proxier.printer.proxy import EMBEDDED_WAIT, EmbeddedPrinterService, PrinterService, identityOf
from proxier.printer.settings import SECTION, PrinterSettings
from proxier.printer.snmp import Value
from proxier.printer.snmpclient import SNMPClient
from proxier.service import DeviceDirectory, ProtocolContext
from proxier.store import Store
from tests import _e2e
from tests._e2e import answers, events, waitFor
from tests._fakeprinter import INTEGER, TEXT, URL, FakeClient, FakePrinter, attribute, mfp4000
from tests.peers import printers
from tests.peers import snmp as snmpPeer
from tests.test_printer_snmpdevice import SERIAL, _AgentCase
from tests.test_printer_snmpreader import CONTACT

PRINTER = DeviceIdentity("ExampleCo", "000000", "ExampleCo MFP 4000 Color", "EX4000-0001")
SERVICE = "Device.Services.PrintService.1."
LOCATION = SERVICE + "PrintServiceDescription.ServiceLocation"
CONTACT_ROW = SERVICE + "PrintServiceDescription.OwnerVCard"
MAC_ROW = SERVICE + "PrintServiceConfiguration.Interfaces.Interface.1.InterfaceStatus.InterfacePhysicalAddress"
AGENT_ENTRY = "snmp://public@127.0.0.1:161"
FIRMWARE = TransferRequest("Download", "fw-1", "1 Firmware Upgrade Image", "http://127.0.0.1:9/fw.bin")


class SettingsTests(unittest.TestCase):
    def test_embeddedKey(self) -> None:
        """
        [printer] embedded takes one ipp:// or ipps:// URL, empty by
        default; credentials given for it are not stray.
        """
        self.assertEqual(load(None, [SECTION])["printer"]["embedded"], "")
        parse = SECTION.key("embedded").parse
        self.assertEqual(parse(" ipp://localhost:631/ipp/print "), "ipp://localhost:631/ipp/print")
        self.assertEqual(parse(""), "")
        for bad in ("http://localhost:631/ipp/print", "ipp://a/ipp/print ipp://b/ipp/print"):
            self.assertRaises(ValueError, parse, bad)
        settings = PrinterSettings(embedded=URL, credentials={URL: Credentials("a", "b"),
                                                              "ipp://x/ipp/print": Credentials("a", "b")})
        self.assertEqual(settings.strayCredentials(), ["ipp://x/ipp/print"])

    def test_embeddedSNMPKey(self) -> None:
        """
        [printer] embedded_snmp takes one snmp:// entry, empty by default;
        its write community on a credentials line is not stray.
        """
        self.assertEqual(load(None, [SECTION])["printer"]["embedded_snmp"], "")
        parse = SECTION.key("embedded_snmp").parse
        self.assertEqual(parse(" snmp://public@127.0.0.1:1161 "), "snmp://public@127.0.0.1:1161")
        self.assertEqual(parse(""), "")
        for bad in ("ipp://localhost/ipp/print", "snmp://127.0.0.1", "snmp://public@printer.local",
                    "snmp://a@127.0.0.1 snmp://b@127.0.0.1"):
            self.assertRaises(ValueError, parse, bad)
        settings = PrinterSettings(embedded=URL, embeddedSNMP=AGENT_ENTRY,
                                   writeCommunities={AGENT_ENTRY: b"private", "snmp://x@127.0.0.2": b"private"})
        self.assertEqual(settings.strayCredentials(), ["snmp://127.0.0.2:161"])


@implementer(IDeviceObserver)
class _Recorder:
    """An IDeviceObserver that keeps the name of each call it hears."""

    def __init__(self) -> None:
        self.heard: list[str] = []

    def deviceOnline(self, device: Any) -> None:
        self.heard.append("deviceOnline")

    def deviceOffline(self, device: Any) -> None:
        self.heard.append("deviceOffline")

    def deviceBooted(self, device: Any) -> None:
        self.heard.append("deviceBooted")

    def deviceFactoryReset(self, device: Any) -> None:
        self.heard.append("deviceFactoryReset")

    def diagnosticsComplete(self, device: Any) -> None:
        self.heard.append("diagnosticsComplete")

    def transferComplete(self, device: Any, result: Any) -> None:
        self.heard.append("transferComplete")

    def autonomousTransferComplete(self, device: Any, result: Any) -> None:
        self.heard.append("autonomousTransferComplete")


class EmbeddedServiceTests(unittest.TestCase):
    """L{EmbeddedPrinterService} alone on an in-memory printer and task.Clock."""

    def setUp(self) -> None:
        self.clock = task.Clock()
        self.clock.advance(1_000_000)
        self.printer = FakePrinter(self.clock)
        self.directory = DeviceDirectory()
        self.state = self.mktemp()
        self.config = load(None, [SECTION]).replace("printer", embedded=URL)

    def service(self, config: Any = None) -> EmbeddedPrinterService:
        context = ProtocolContext(self.clock, Components(), config or self.config, Store.open(self.state),
                                  self.directory)
        self.urls: list[str] = []

        def client(url: str, credentials: Any, timeout: float) -> FakeClient:
            self.urls.append(url)
            return FakeClient(self.printer, url)

        service = EmbeddedPrinterService(context, clientFactory=client, random=lambda: 0.0)
        service.startService()
        self.addCleanup(lambda: service.stopService() if service.running else None)
        return service

    def identified(self, service: EmbeddedPrinterService) -> list:
        found: list = []
        service.identified().addCallback(found.append)
        return found

    def test_plugin(self) -> None:
        """The plugin makes the embedded service, an IEmbeddedDevice, only when [printer] embedded is set."""
        context = ProtocolContext(self.clock, Components(), self.config, Store.open(self.state), self.directory)
        service = PrinterProtocol().makeService(context)
        self.assertIsInstance(service, EmbeddedPrinterService)
        self.assertTrue(IEmbeddedDevice.providedBy(service))
        context = ProtocolContext(self.clock, Components(), load(None, [SECTION]), Store.open(self.state),
                                  self.directory)
        plain = PrinterProtocol().makeService(context)
        self.assertFalse(IEmbeddedDevice.providedBy(plain))
        self.assertIsInstance(plain, PrinterService)

    def test_identifiedAtTheFirstAnswer(self) -> None:
        """
        Nothing is identified while the printer is silent (it is asked again
        every poll interval); its first answer gives the device, with the
        printer's identity, online, and no Virtual CWMP Device is reported.
        """
        self.printer.up = False
        service = self.service()
        found = self.identified(service)
        self.clock.advance(60)
        self.assertEqual(found, [])
        self.printer.up = True
        self.clock.advance(60)
        [device] = found
        self.assertEqual((device.identity, device.online), (PRINTER, True))
        self.assertEqual(self.directory.devices(), [])
        self.assertEqual(self.identified(service), [device], "a later caller hears it at once")
        self.assertEqual(service.devices, {URL: device})

    def test_earlierIdentityAfterTheWait(self) -> None:
        """
        A printer silent at start is waited for L{EMBEDDED_WAIT} seconds;
        then the identity it told at an earlier run is taken, the device
        offline until it answers.
        """
        first = self.service()
        first.stopService()
        self.printer.up = False
        service = self.service()
        found = self.identified(service)
        self.clock.advance(EMBEDDED_WAIT - 1)
        self.assertEqual(found, [])
        self.clock.advance(1)
        [device] = found
        self.assertEqual((device.identity, device.online), (PRINTER, False))
        self.printer.up = True
        self.clock.advance(61)
        self.assertTrue(device.online)

    def test_noIdentityKeepsWaiting(self) -> None:
        """With no identity from an earlier run the wait goes on past the bound, until the printer answers."""
        self.printer.up = False
        service = self.service()
        found = self.identified(service)
        self.clock.advance(EMBEDDED_WAIT * 3)
        self.assertEqual(found, [])
        self.printer.up = True
        self.clock.advance(60)
        self.assertEqual([device.identity for device in found], [PRINTER])

    def test_printersNotProxied(self) -> None:
        """[printer] printers is left alone in embedded mode: only the embedded printer is asked."""
        config = self.config.replace("printer", printers=("ipp://127.0.0.1:8632/ipp/print",))
        service = self.service(config)
        self.clock.advance(120)
        self.assertEqual(set(self.urls), {URL})
        self.assertEqual(list(service.devices), [URL])
        self.assertEqual(self.directory.devices(), [])

    def test_anotherIdentityLater(self) -> None:
        """
        The printer names another identity later: the CPE keeps its own,
        the device goes offline (its observers hear it) and is not replaced.
        """
        service = self.service()
        [device] = self.identified(service)
        recorder = _Recorder()
        device.addObserver(recorder)
        self.printer.set("printer-device-id", TEXT, "MFG:ExampleCo;MDL:MFP 4000 Color;SN:EX4000-0002;")
        self.printer.set("printer-config-change-time", INTEGER, 2)
        self.clock.advance(60)
        self.assertEqual((device.identity, device.online), (PRINTER, False))
        self.assertEqual(recorder.heard, ["deviceOffline"])
        self.assertIs(service.device, device)
        self.assertEqual(list(service.devices.values()), [device])
        self.assertEqual(self.directory.devices(), [])

    def test_downloadRefused(self) -> None:
        """
        The embedded printer's model lists Download (TR-069 requires it of
        a CPE) and refuses a firmware image with 9003; a Virtual CWMP
        Device's does not list it.
        """
        service = self.service()
        [device] = self.identified(service)
        self.assertIn("Download", device.model.supportedMethods())
        failure = self.failureResultOf(device.model.download(FIRMWARE))
        self.assertEqual(failure.value.code, 9003)
        config = load(None, [SECTION]).replace("printer", printers=(URL,))
        context = ProtocolContext(self.clock, Components(), config, Store.open(self.mktemp()), DeviceDirectory())
        plain = PrinterService(context, clientFactory=lambda url, c, t: FakeClient(self.printer, url),
                               random=lambda: 0.0)
        plain.startService()
        self.addCleanup(plain.stopService)
        self.assertNotIn("Download", plain.devices[URL].model.supportedMethods())


class EmbeddedSNMPTests(_AgentCase):
    """
    C{[printer] embedded_snmp}: the in-memory agent (the MFP 4000 recording)
    is the embedded printer's SNMP source, merged as for a printer listed
    both ways, on task.Clock.
    """

    def service(self, serial: str = SERIAL) -> EmbeddedPrinterService:
        self.printer = FakePrinter(self.clock, mfp4000() + [attribute("printer-serial-number", TEXT, serial)])
        config = load(None, [SECTION]).replace("printer", embedded=URL, embedded_snmp=AGENT_ENTRY)
        context = ProtocolContext(self.clock, Components(), config, self.state, DeviceDirectory())
        self.entries: list = []

        def snmpClient(entry: Any, writeCommunity: Any) -> SNMPClient:
            self.entries.append(entry.url)
            return SNMPClient(self.protocol, entry.host, entry.port, community=entry.community,
                              writeCommunity=b"private", timeout=1.0, retries=1)

        service = EmbeddedPrinterService(context, clientFactory=lambda url, c, t: FakeClient(self.printer, url),
                                         snmpClientFactory=snmpClient, random=lambda: 0.0)
        service.startService()
        self.addCleanup(lambda: service.stopService() if service.running else None)
        self.clock.advance(0)
        return service

    def test_merged(self) -> None:
        """
        The CPE's device has the agent as its SNMP source: the MAC only SNMP
        tells, Location from IPP where both answer, Contact from sysContact.
        """
        service = self.service()
        device = service.device
        self.assertTrue(device.hasSNMP)
        self.assertEqual(self.entries, [AGENT_ENTRY])
        self.clock.pump([1.0] * 3)
        values = self.gpv(device, LOCATION, CONTACT_ROW, MAC_ROW)
        self.assertEqual(values, {LOCATION: "Room 1", CONTACT_ROW: "helpdesk@example.net",
                                  MAC_ROW: "00:02:a5:c0:ff:ee"})

    def test_notMatched(self) -> None:
        """The configured agent is the printer's even when their serial numbers differ: no matching here."""
        device = self.service(serial="OTHER-1").device
        self.assertEqual(device.identity.serialNumber, "OTHER-1")
        self.assertTrue(device.hasSNMP)

    def test_contactWrittenAndReadBack(self) -> None:
        """SetParameterValues of OwnerVCard is an SNMP SET of sysContact; the value read back is the CPE's."""
        device = self.service().device
        self.clock.pump([1.0] * 3)
        self.assertEqual(device.writeProtocol("PrintServiceDescription.OwnerVCard"), "SNMP")
        self.assertEqual(self.successResultOf(self.spv(device, ParameterValue(CONTACT_ROW, "ops@example.org"))), 0)
        self.assertEqual(self.agent.values[CONTACT], Value(snmp.OCTET_STRING, b"ops@example.org"))
        self.assertEqual(self.gpv(device, CONTACT_ROW), {CONTACT_ROW: "ops@example.org"})

    def test_restartOneBoot(self) -> None:
        """The printer restarted (printer-up-time and sysUpTime back): one "1 BOOT"; SNMP alone keeps it online."""
        device = self.service().device
        recorder = _Recorder()
        device.addObserver(recorder)
        self.clock.pump([60.0] * 2)
        self.printer.restart()
        self.agent.restart()
        self.clock.pump([60.0] * 3)
        self.assertEqual(recorder.heard, ["deviceBooted"])
        self.printer.up = False
        for _ in range(4):
            self.clock.pump([60.0] + [1.0] * 11)
        self.assertTrue(device.online)


class FakeEmbeddedProtocol(PrinterProtocol):
    """The plugin, its printer in memory."""

    def __init__(self, printer: FakePrinter) -> None:
        self.printer = printer

    def makeService(self, context: Any) -> PrinterService:
        return EmbeddedPrinterService(context,
                                      clientFactory=lambda url, credentials, timeout: FakeClient(self.printer, url))


class OtherProtocol:
    """A second protocol plugin, which embedded mode must not start."""

    name = "X_000000_Other"
    discoveryProtocol = "X_000000_Other"
    configSection = None

    def __init__(self) -> None:
        self.service = Service()

    def makeService(self, context: Any) -> Any:
        return self.service


class Lab(_e2e.Lab):
    """The proxier as the in-memory printer's own CPE (plus another protocol enabled), and the fake ACS."""

    def __init__(self, testCase: unittest.TestCase) -> None:
        self.printer = FakePrinter(reactor)
        self.other = OtherProtocol()
        super().__init__(testCase, [FakeEmbeddedProtocol(self.printer), self.other], PRINTER,
                         {"printer": {"embedded": URL, "printers": ("ipp://127.0.0.1:8632/ipp/print",),
                                      "poll_interval": 1}})


def _values(answer: Any) -> dict:
    return {p.name: p.value for p in answer.parameters}


class EmbeddedTreeTests(unittest.TestCase):
    timeout = 60

    @defer.inlineCallbacks
    def test_bootstrapAsThePrinter(self) -> Any:
        """
        The proxier's one endpoint bootstraps with the printer's identity;
        its tree is DeviceInfo, ManagementServer (no VirtualDevice table)
        and the PrintService, with no ProxierInfo; the other protocol is not
        started, and no Virtual CWMP Device is made.
        """
        lab = yield Lab(self).start()
        tree = lab.tree
        self.assertEqual(list(tree.cwmp.manager.endpoints.values()), [tree.ownEndpoint])
        self.assertEqual(tree.ownEndpoint.identity, PRINTER)
        self.assertFalse(lab.other.service.running)
        self.assertIsNone(lab.other.service.parent)
        [boot] = lab.sessions(PRINTER)
        self.assertIn("0 BOOTSTRAP", events(boot))
        self.assertEqual(boot.inform.deviceId, PRINTER)
        informed = _values(boot.inform)
        self.assertEqual(informed["Device.DeviceInfo.SoftwareVersion"], "4.2.1")
        self.assertTrue(informed["Device.ManagementServer.ConnectionRequestURL"].startswith("http://"))
        self.assertEqual(len(lab.acs.sessions), 1, "no other CPE informs")

        session = yield lab.session([
            m.GetParameterNames("Device.", True),
            m.GetParameterNames("Device.ManagementServer.", True),
            m.GetParameterNames("Device.DeviceInfo.", True),
            m.GetParameterValues(("Device.DeviceInfo.SerialNumber", LOCATION,
                                  "Device.Services.PrintServiceNumberOfEntries", "Device.ManagementServer.URL")),
            m.GetRPCMethods(),
        ], PRINTER)
        top, management, info, values, methods = answers(session)
        self.assertEqual(sorted(p.name for p in top.parameters), [
            "Device.DeviceInfo.", "Device.ManagementServer.", "Device.RootDataModelVersion", "Device.Services."])
        self.assertFalse([p.name for p in management.parameters if "VirtualDevice" in p.name])
        self.assertNotIn("Device.DeviceInfo.ProxierInfo.", [p.name for p in info.parameters])
        self.assertEqual(_values(values), {
            "Device.DeviceInfo.SerialNumber": "EX4000-0001", LOCATION: "Room 1",
            "Device.Services.PrintServiceNumberOfEntries": "1", "Device.ManagementServer.URL": lab.acsURL})
        self.assertTrue({"Download", "Reboot"} <= set(methods.methods))

    @defer.inlineCallbacks
    def test_downloadSetAndReboot(self) -> Any:
        """
        Download of a firmware image is refused with 9003; a
        SetParameterValues writes the printer's location; Reboot restarts
        the printer through IPP and the next session says "1 BOOT" and "M
        Reboot".
        """
        lab = yield Lab(self).start()
        session = yield lab.session([
            m.Download(FIRMWARE),
            m.SetParameterValues((ParameterValue(LOCATION, "Lab 7"),), "pk-1"),
            m.Reboot("rb-1"),
        ], PRINTER)
        download, spv, reboot = answers(session)
        self.assertIsInstance(download, m.SOAPFault)
        self.assertEqual(download.fault.code, 9003)
        self.assertEqual(spv, m.SetParameterValuesResponse(0))
        self.assertEqual(lab.printer.attributes["printer-location"].value, "Lab 7")
        self.assertIsInstance(reboot, m.RebootResponse)
        yield waitFor(lab.ended(PRINTER, 3), what="the session after the printer's restart")
        self.assertEqual(events(lab.sessions(PRINTER)[2]), ["1 BOOT", "M Reboot"])
        self.assertIn(("Restart", None), lab.printer.requests)

    @defer.inlineCallbacks
    def test_restartNoBootstrapAgain(self) -> Any:
        """The proxier restarted on the same printer: "1 BOOT", never "0 BOOTSTRAP" again."""
        lab = Lab(self)
        first = lab.startTree()
        yield waitFor(lab.ended(PRINTER, 1), what="the BOOTSTRAP session")
        yield first.stopService()
        lab.startTree()
        yield waitFor(lab.ended(PRINTER, 2), what="the session after the restart")
        self.assertEqual(events(lab.sessions(PRINTER)[1]), ["1 BOOT"])


class IppeveprinterTests(unittest.TestCase):
    """The proxier as the CPE of a real ippeveprinter (MFP 4000 fixture) on loopback."""

    timeout = 60

    @defer.inlineCallbacks
    def setUp(self) -> Any:
        self.peer = printers.startPrinter(self, location="Room 1")
        client = IPPClient(self.peer.url, reactor=reactor, timeout=5)
        group = yield client.getPrinterAttributes()
        self.identity = identityOf(ippsource.read(group), "000000")
        self.restartOffered = IPPClient.restartOperation(group) is not None
        self.lab = _e2e.Lab(self, [PrinterProtocol()], self.identity, {
            "printer": {"embedded": self.peer.url, "poll_interval": 1, "request_timeout": 2,
                        "offline_after_failures": 2}})

    @defer.inlineCallbacks
    def test_embeddedOnIppeveprinter(self) -> Any:
        """
        BOOTSTRAP with the printer's identity (its printer-uuid as serial
        number); the demo rows it serves read; SetParameterValues of
        ServiceLocation is 9003 with 9008 (it lists nothing settable) and
        reads back unchanged; Download of firmware is 9003; Reboot follows
        what the printer offers — ippeveprinter 2.4 lists no
        Restart-Printer, so Reboot is not among the RPC methods and is
        answered 9000.
        """
        lab = yield self.lab.start()
        [boot] = lab.sessions(self.identity)
        self.assertEqual(events(boot), ["0 BOOTSTRAP", "1 BOOT"])
        self.assertEqual(boot.inform.deviceId, self.identity)
        self.assertTrue(self.identity.serialNumber)
        document = SERVICE + "PrintServiceDefaults.DefaultPrintJobTicket.PrintDocumentProcessing."
        supply = SERVICE + "PrintServiceConfiguration.Markers.Marker.1.MarkerSupplies.MarkerSupply."
        rows = {
            "Device.DeviceInfo.SerialNumber": self.identity.serialNumber,
            "Device.DeviceInfo.ProductClass": "ExampleCo MFP 4000 Color",
            LOCATION: "Room 1",
            SERVICE + "PrintServiceDescription.ColorSupported": "true",
            SERVICE + "PrintServiceStatus.State": "Idle",
            supply + "2.MarkerSupplyDescription.MarkerSupplyCurrentLevel": "55",
            document + "OrientationRequested": "Portrait",
            document + "Sides": "TwoSidedLongEdge",
            document + "Copies": "1",
        }
        session = yield lab.session([
            m.GetParameterValues(tuple(rows)),
            m.SetParameterValues((ParameterValue(LOCATION, "Lab 7"),), "pk-1"),
            m.GetParameterValues((LOCATION,)),
            m.Download(FIRMWARE),
            m.GetRPCMethods(),
            m.Reboot("rb-1"),
        ], self.identity)
        gpv, refused, after, download, methods, reboot = answers(session)
        self.assertEqual(_values(gpv), rows)
        self.assertIsInstance(refused, m.SOAPFault)
        self.assertEqual(refused.fault.code, 9003)
        self.assertEqual(list(refused.fault.parameterFaults), [SetParameterValuesFault(LOCATION, 9008)])
        self.assertEqual(_values(after), {LOCATION: "Room 1"})
        self.assertIsInstance(download, m.SOAPFault)
        self.assertEqual(download.fault.code, 9003)
        if self.restartOffered:
            self.assertIn("Reboot", methods.methods)
            self.assertIsInstance(reboot, m.RebootResponse)
            yield waitFor(lab.ended(self.identity, 3), what="the session after the printer's restart")
            self.assertIn("M Reboot", events(lab.sessions(self.identity)[2]))
        else:
            self.assertNotIn("Reboot", methods.methods)
            self.assertIsInstance(reboot, m.SOAPFault)
            self.assertEqual(reboot.fault.code, 9000)
        self.assertEqual([s.device for s in lab.acs.sessions], [str(self.identity)] * len(lab.acs.sessions))


class IppeveprinterSnmpsimTests(unittest.TestCase):
    """
    The proxier as the CPE of a real ippeveprinter with C{[printer]
    embedded_snmp} on snmpsim serving the MFP 4000 recording, on loopback.
    """

    timeout = 120

    @defer.inlineCallbacks
    def setUp(self) -> Any:
        reason = snmpPeer.missing()
        if reason:
            raise unittest.SkipTest(reason)
        self.peer = printers.startPrinter(self, location="Room 1")
        directory = self.mktemp()
        os.makedirs(directory)
        port = snmpPeer.startSnmpsim(self, directory)
        group = yield IPPClient(self.peer.url, reactor=reactor, timeout=5).getPrinterAttributes()
        self.identity = identityOf(ippsource.read(group), "000000")
        self.lab = _e2e.Lab(self, [PrinterProtocol()], self.identity, {
            "printer": {"embedded": self.peer.url, "embedded_snmp": f"snmp://printer-mfp4000@127.0.0.1:{port}",
                        "poll_interval": 10, "request_timeout": 2}})

    @defer.inlineCallbacks
    def test_snmpRowsAndContact(self) -> Any:
        """
        The embedded CPE reads an IPP row (Location: ippeveprinter's) and
        SNMP-only rows (the MAC, the front panel text); OwnerVCard is
        writable, set through sysContact and read back.
        """
        lab = yield self.lab.start()
        yield waitFor(lambda: lab.tree.embedded.device.snmp.readings is not None, what="snmpsim's first answer")
        panel = SERVICE + "PrintServiceConfiguration.Consoles.Console.1.ConsoleDescription.ConsoleDisplayBuffer."
        rows = {LOCATION: "Room 1", MAC_ROW: "00:02:a5:c0:ff:ee", panel + "ConsoleDisplayText": "Ready,Black toner low"}
        session = yield lab.session([
            m.GetParameterValues(tuple(rows)),
            m.GetParameterNames(CONTACT_ROW, False),
            m.SetParameterValues((ParameterValue(CONTACT_ROW, "ops@example.org"),), "k"),
            m.GetParameterValues((CONTACT_ROW,)),
        ], self.identity)
        got, names, spv, after = answers(session)
        self.assertEqual(_values(got), rows)
        self.assertEqual([(p.name, p.writable) for p in names.parameters], [(CONTACT_ROW, True)])
        self.assertEqual(spv, m.SetParameterValuesResponse(0))
        self.assertEqual(_values(after), {CONTACT_ROW: "ops@example.org"})
