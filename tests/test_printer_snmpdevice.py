# -*- test-case-name: tests.test_printer_snmpdevice -*-
"""
Tests for L{proxier.printer.snmpdevice} and the SNMP side of
L{proxier.printer.device}: a printer that speaks only SNMP as a Virtual
CWMP Device, and one printer seen through IPP and SNMP as one device —
against the in-memory agent on the MFP 4000 recording (fed back through
C{datagramReceived}) and the in-memory IPP printer, on L{task.Clock}.
"""

from __future__ import annotations

import os
from typing import Any

from twisted.internet import task
from twisted.trial import unittest
from zope.interface.registry import Components

from proxier.config import load
from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.values import DeviceIdentity, ParameterValue
from proxier.printer import ippsource, mib, snmp
from proxier.printer.device import PrinterDevice
from proxier.printer.poller import PollSlots
from proxier.printer.proxy import PrinterService, identityOf
from proxier.printer.settings import SECTION, PrinterSettings, snmpEntry
from proxier.printer.snmp import Value
from proxier.printer.snmpclient import SNMPClient, SNMPProtocol
from proxier.printer.snmpdevice import SNMPPrinterDevice, knownKey, snmpIdentity
from proxier.printer.snmpreader import SNMPReader
from proxier.service import DeviceDirectory, ProtocolContext
from proxier.sim.snmpagent import SNMPAgent
from proxier.store import Store
from tests._fakeprinter import TEXT, URL, FakeClient, FakePrinter, attribute, mfp4000
from tests._helpers import LogCapture, fired
from tests.test_printer_device import Endpoint
from tests.test_printer_snmpclient import AGENT, FakeTransport
from tests.test_printer_snmpreader import CONTACT, LOCATION, RESET, recorded

SERIAL = "EXC4K-2024-000123"  # the recording's prtGeneralSerialNumber
SNMP_ONLY = DeviceIdentity("ExampleCo", "0002A5", "ExampleCo MFP 4000 Color", SERIAL)
SETTINGS = PrinterSettings(pollInterval=60, fullPollInterval=900, offlineAfterFailures=2, requestTimeout=10)
SERVICE = "Device.Services.PrintService.1."
DESCRIPTION = SERVICE + "PrintServiceDescription."
CONFIG = SERVICE + "PrintServiceConfiguration."


class _AgentCase(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.clock.advance(1_000_000)
        self.protocol = SNMPProtocol(self.clock, firstRequestId=1)
        self.transport = FakeTransport(self.clock, self.protocol)
        self.protocol.makeConnection(self.transport)  # type: ignore[arg-type]
        self.agent = SNMPAgent(recorded(), writable=(CONTACT, RESET), seconds=self.clock.seconds)
        self.transport.agents[AGENT] = self.agent
        self.state = Store.open(self.mktemp())
        self.endpoint = Endpoint()

    def reader(self) -> SNMPReader:
        return SNMPReader(SNMPClient(self.protocol, *AGENT, writeCommunity=b"private", timeout=1.0, retries=1), self.clock)

    def found(self, reader: SNMPReader) -> Any:
        d = reader.fetch(True)
        self.clock.advance(0)
        return self.successResultOf(d)

    def gpv(self, device: Any, *names: str) -> dict[str, str]:
        d = device.model.getParameterValues(list(names))
        self.clock.advance(0)
        return {v.name: v.value for v in self.successResultOf(d)}

    def spv(self, device: Any, *values: ParameterValue) -> Any:
        d = device.model.setParameterValues(list(values))
        self.clock.advance(0)
        return d

    def writable(self, device: Any, path: str) -> bool:
        [info] = fired(device.model.getParameterNames(path, False))
        return info.writable


class SNMPOnlyTests(_AgentCase):
    def device(self, found: bool = True, start: bool = True) -> SNMPPrinterDevice:
        reader = self.reader()
        answer = self.found(reader) if found else None
        device = SNMPPrinterDevice(SNMP_ONLY, "snmp://public@127.0.0.1:161", reader, self.state.child("p"),
                                   PollSlots(2), SETTINGS, self.clock, found=answer, random=lambda: 0.0)
        device.addObserver(self.endpoint)
        if start:
            device.start()
        self.addCleanup(device.stop)
        self.clock.advance(0)
        return device

    def test_identity(self) -> None:
        """
        PRINTERS.md §4: the serial number prtGeneralSerialNumber, else the
        MAC; the OUI the MAC's unless one is configured; none without either.
        """
        readings = self.found(self.reader()).readings()
        self.assertEqual(snmpIdentity(readings, "000000"), SNMP_ONLY)
        self.assertEqual(snmpIdentity(readings, "ABCDEF").oui, "ABCDEF")
        del self.agent.values[mib.OID["prtGeneralSerialNumber"] + (1,)]
        readings = self.found(self.reader()).readings()
        self.assertEqual(snmpIdentity(readings, "000000").serialNumber, "00:02:a5:c0:ff:ee")
        for oid in [o for o in self.agent.values if o[:len(mib.OID["ifPhysAddress"])] == mib.OID["ifPhysAddress"]]:
            del self.agent.values[oid]
        self.assertIsNone(snmpIdentity(self.found(self.reader()).readings(), "000000"))

    def test_rows(self) -> None:
        """Every SNMP-served demo row reads through the device's model; it is an X_000000_SNMP device."""
        device = self.device()
        self.assertTrue(device.online)
        self.assertEqual((device.proxyProtocol, device.host), ("X_000000_SNMP", "127.0.0.1"))
        values = self.gpv(device, SERVICE, "Device.DeviceInfo.")
        status = SERVICE + "PrintServiceStatus."
        self.assertEqual(values[status + "SerialNumber"], SERIAL)
        self.assertEqual(values[DESCRIPTION + "ServiceInfo"], "ExampleCo MFP 4000 Color")
        self.assertEqual(values[DESCRIPTION + "OwnerVCard"], "helpdesk@example.net")
        self.assertEqual(values[DESCRIPTION + "ServiceLocation"], "Building A, Floor 2, Copy Room")
        self.assertEqual(values[DESCRIPTION + "ColorSupported"], "true")
        self.assertEqual(values[status + "State"], "Idle")
        self.assertEqual(values[CONFIG + "Storages.Storage.1.StorageStatus.StorageSize"], "524288")
        self.assertEqual(values[CONFIG + "Interfaces.Interface.1.InterfaceStatus.InterfacePhysicalAddress"],
                         "00:02:a5:c0:ff:ee")
        self.assertIn(CONFIG + "Consoles.Console.1.ConsoleDescription.ConsoleDisplayBuffer.ConsoleDisplayText",
                      values)
        level = ("Markers.Marker.1.MarkerSupplies.MarkerSupply.1.MarkerSupplyDescription.MarkerSupplyCurrentLevel")
        self.assertIn(CONFIG + level, values)
        self.assertEqual(values["Device.DeviceInfo.SerialNumber"], SERIAL)
        self.assertEqual(values["Device.DeviceInfo.UpTime"], "86400")

    def test_probeWritable(self) -> None:
        """
        PRINTERS.md §5: writable is what took a SET at probe time — here
        sysContact and prtGeneralReset, not sysLocation — so Contact is
        writable and Location not; Reboot and FactoryReset are offered.
        """
        device = self.device()
        sets = [r for r in self.agent.requests if r.pdu.tag == snmp.SET]
        self.assertEqual([b.oid for r in sets for b in r.pdu.varBinds], [CONTACT, LOCATION, RESET])
        self.assertEqual(self.agent.values[RESET], Value(snmp.INTEGER, 3))  # notResetting: no effect
        self.assertTrue(self.writable(device, DESCRIPTION + "OwnerVCard"))
        self.assertFalse(self.writable(device, DESCRIPTION + "ServiceLocation"))
        self.assertLessEqual({"Reboot", "FactoryReset"}, device.model.supportedMethods())

    def test_nothingWritable(self) -> None:
        """An agent that takes no SET: nothing writable, no Reboot, no FactoryReset (9000)."""
        self.agent.writable = set()
        device = self.device()
        self.assertFalse(self.writable(device, DESCRIPTION + "OwnerVCard"))
        self.assertFalse({"Reboot", "FactoryReset"} & device.model.supportedMethods())
        d = device.model.factoryReset()
        self.assertEqual(self.failureResultOf(d, CWMPFault).value.code, 9000)

    def test_writeContact(self) -> None:
        """Contact set through SNMP, read back through SNMP, never reported back as a change."""
        device = self.device()
        changes: list = []
        device.model.addChangeListener(changes.append)
        self.assertEqual(self.successResultOf(self.spv(device, ParameterValue(DESCRIPTION + "OwnerVCard",
                                                                                 "ops@example.org"))), 0)
        self.assertEqual(self.agent.values[CONTACT], Value(snmp.OCTET_STRING, b"ops@example.org"))
        self.assertEqual([r.pdu.tag for r in self.agent.requests[-2:]], [snmp.SET, snmp.GET])
        self.assertEqual(self.gpv(device, DESCRIPTION + "OwnerVCard"), {DESCRIPTION + "OwnerVCard": "ops@example.org"})
        self.clock.pump([60.0] * 3)
        self.assertEqual(changes, [])

    def test_writeFaults(self) -> None:
        """
        Over 255 octets: 9007 before any SET. Not writable per the probe:
        9008 before any SET. Refused later by the agent (noSuchInstance under
        status 0, snmpsim's answer): read back, 9008, the value unchanged.
        """
        device = self.device()
        before = len(self.agent.requests)
        fault = self.failureResultOf(self.spv(device, ParameterValue(DESCRIPTION + "OwnerVCard", "x" * 256)),
                                     CWMPFault).value
        self.assertEqual(fault.code, 9007)
        fault = self.failureResultOf(self.spv(device, ParameterValue(DESCRIPTION + "ServiceLocation", "Lab")),
                                     CWMPFault).value
        self.assertEqual([f.faultCode for f in fault.parameterFaults], [9008])
        self.assertEqual(len(self.agent.requests), before)
        self.agent.writable.discard(CONTACT)
        fault = self.failureResultOf(self.spv(device, ParameterValue(DESCRIPTION + "OwnerVCard", "x")), CWMPFault).value
        self.assertEqual(fault.code, 9008)
        self.assertEqual(self.agent.requests[-1].pdu.tag, snmp.GET)
        self.assertEqual(self.gpv(device, DESCRIPTION + "OwnerVCard"),
                         {DESCRIPTION + "OwnerVCard": "helpdesk@example.net"})

    def test_restartAndOffline(self) -> None:
        """sysUpTime going back: "1 BOOT"; polls without an answer: offline once; an answer: online."""
        device = self.device()
        self.clock.pump([60.0] * 2)
        self.agent.restart()
        self.clock.pump([60.0] * 2)
        self.assertEqual(self.endpoint.events, ["1 BOOT"])
        self.transport.silent = True
        for _ in range(4):
            self.clock.pump([60.0] + [1.0] * 3)
        self.assertEqual(self.endpoint.events, ["1 BOOT", "offline"])
        self.assertFalse(device.online)
        self.transport.silent = False
        self.clock.pump([60.0] * 2)
        self.assertEqual(self.endpoint.events, ["1 BOOT", "offline", "online"])

    def test_reboot(self) -> None:
        """
        Reboot: prtGeneralReset powerCycleReset(4), the restart found next
        "1 BOOT"; FactoryReset: resetToFactoryDefaults(6), the restart found
        next "0 BOOTSTRAP" (TR-069: a CPE reset to its factory state
        bootstraps).
        """
        device = self.device()
        d = device.model.reboot("key")
        self.clock.advance(0)
        self.successResultOf(d)
        self.assertEqual(self.agent.values[RESET], Value(snmp.INTEGER, 4))
        self.agent.restart()
        self.clock.pump([60.0] * 2)
        self.assertEqual(self.endpoint.events, ["1 BOOT"])
        d = device.model.factoryReset()
        self.clock.advance(0)
        self.successResultOf(d)
        self.assertEqual(self.agent.values[RESET], Value(snmp.INTEGER, 6))
        self.agent.restart()
        self.clock.pump([60.0] * 2)
        self.assertEqual(self.endpoint.events, ["1 BOOT", "0 BOOTSTRAP"])

    def test_known(self) -> None:
        """Known from an earlier run: offline until the first walk, then online with its values."""
        device = self.device(found=False, start=False)
        self.assertFalse(device.online)
        device.start()
        self.clock.pump([6.0] * 2)
        self.assertTrue(device.online)
        self.assertEqual(self.endpoint.events, ["online"])
        self.assertEqual(self.gpv(device, DESCRIPTION + "OwnerVCard"), {DESCRIPTION + "OwnerVCard": "helpdesk@example.net"})

    def test_knownKey(self) -> None:
        """An entry is kept by address and a digest of its community, never the community itself."""
        key = knownKey(snmpEntry("snmp://s3cret@127.0.0.1:1161"))
        self.assertTrue(key.startswith("snmp://127.0.0.1:1161#"))
        self.assertNotIn("s3cret", key)
        self.assertNotEqual(key, knownKey(snmpEntry("snmp://other@127.0.0.1:1161")))


class MergedTests(_AgentCase):
    """One printer through IPP (the in-memory printer) and SNMP (the agent): one device."""

    def device(self) -> PrinterDevice:
        self.printer = FakePrinter(self.clock, mfp4000() + [attribute("printer-serial-number", TEXT, SERIAL)])
        group = self.printer.group(("all",))
        identity = identityOf(ippsource.read(group), "000000")
        device = PrinterDevice(identity, URL, FakeClient(self.printer), self.state.child("p"), PollSlots(2), SETTINGS,
                               self.clock, found=group, random=lambda: 0.0)
        device.addObserver(self.endpoint)
        device.start()
        self.addCleanup(device.stop)
        reader = self.reader()
        device.attachSNMP("snmp://public@127.0.0.1", reader, self.found(reader))
        self.clock.advance(0)
        return device

    def test_values(self) -> None:
        """IPP where both answer (Location, State, supplies); SNMP for Contact, MAC, memory; both in GPN."""
        device = self.device()
        self.assertTrue(device.hasSNMP)
        values = self.gpv(device, SERVICE)
        self.assertEqual(values[DESCRIPTION + "ServiceLocation"], "Room 1")
        self.assertEqual(values[DESCRIPTION + "OwnerVCard"], "helpdesk@example.net")
        self.assertEqual(values[DESCRIPTION + "ServiceInfo"], "MFP4000")
        level = CONFIG + "Markers.Marker.1.MarkerSupplies.MarkerSupply.1.MarkerSupplyDescription."
        self.assertEqual(values[level + "MarkerSupplyCurrentLevel"], "8")
        self.assertEqual(values[CONFIG + "Interfaces.Interface.1.InterfaceStatus.InterfacePhysicalAddress"],
                         "00:02:a5:c0:ff:ee")
        self.assertEqual(values[CONFIG + "Storages.Storage.1.StorageStatus.StorageSize"], "524288")

    def test_writesByProtocol(self) -> None:
        """Location through Set-Printer-Attributes (IPP lets it); Contact through an SNMP SET; one request."""
        device = self.device()
        self.assertEqual(device.writeProtocol("PrintServiceDescription.ServiceLocation"), "IPP")
        self.assertEqual(device.writeProtocol("PrintServiceDescription.OwnerVCard"), "SNMP")
        d = self.spv(device, ParameterValue(DESCRIPTION + "ServiceLocation", "Lab 7"),
                     ParameterValue(DESCRIPTION + "OwnerVCard", "ops@example.org"))
        self.assertEqual(self.successResultOf(d), 0)
        self.assertEqual(self.printer.group(("printer-location",)).get("printer-location"), "Lab 7")
        self.assertEqual(self.agent.values[CONTACT], Value(snmp.OCTET_STRING, b"ops@example.org"))
        self.assertEqual(self.agent.values[LOCATION].value, b"Building A, Floor 2, Copy Room")

    def test_failedSNMPRestoresIPP(self) -> None:
        """All or nothing: the SNMP SET refused (9008), the IPP write made before it is written back."""
        device = self.device()
        self.agent.writable.discard(CONTACT)
        d = self.spv(device, ParameterValue(DESCRIPTION + "ServiceLocation", "Lab 7"),
                     ParameterValue(DESCRIPTION + "OwnerVCard", "ops@example.org"))
        self.assertEqual(self.failureResultOf(d, CWMPFault).value.code, 9008)
        self.assertEqual(self.printer.group(("printer-location",)).get("printer-location"), "Room 1")

    def test_oneBoot(self) -> None:
        """A restart both protocols see (printer-up-time and sysUpTime back) is one "1 BOOT"."""
        self.device()
        self.clock.pump([60.0] * 2)
        self.printer.restart()
        self.agent.restart()
        self.clock.pump([60.0] * 3)
        self.assertEqual(self.endpoint.events, ["1 BOOT"])

    def test_onlineWhileOneAnswers(self) -> None:
        """IPP silent, SNMP answering: online; both silent: offline."""
        device = self.device()
        self.printer.up = False
        for _ in range(4):
            self.clock.pump([60.0] + [1.0] * 11)
        self.assertTrue(device.online)
        self.transport.silent = True
        for _ in range(4):
            self.clock.pump([60.0] + [1.0] * 11)
        self.assertEqual(self.endpoint.events, ["offline"])

    def test_rebootThroughIPP(self) -> None:
        """
        Reboot goes through IPP where offered; FactoryReset through
        prtGeneralReset, whose restart (seen by both) is one "0 BOOTSTRAP".
        """
        device = self.device()
        self.assertLessEqual({"Reboot", "FactoryReset"}, device.model.supportedMethods())
        d = device.model.reboot("k")
        self.clock.advance(0)
        self.successResultOf(d)
        self.assertEqual(self.agent.values[RESET], Value(snmp.INTEGER, 3))
        self.assertIn(("Restart", None), self.printer.requests)
        self.printer.restart()
        self.agent.restart()
        self.clock.pump([60.0] * 3)
        self.assertEqual(self.endpoint.events, ["1 BOOT"])
        d = device.model.factoryReset()
        self.clock.advance(0)
        self.successResultOf(d)
        self.assertEqual(self.agent.values[RESET], Value(snmp.INTEGER, 6))
        self.printer.restart()
        self.agent.restart()
        self.clock.pump([60.0] * 3)
        self.assertEqual(self.endpoint.events, ["1 BOOT", "0 BOOTSTRAP"])


class ServiceTests(_AgentCase):
    """The printer service's snmp:// entries: merged into the IPP device of the same printer, or their own."""

    ENTRY = "snmp://public@127.0.0.1:161"

    def setUp(self) -> None:
        super().setUp()
        self.printer = FakePrinter(self.clock, mfp4000() + [attribute("printer-serial-number", TEXT, SERIAL)])
        self.stateDir = self.mktemp()

    def service(self, printers: tuple[str, ...]) -> Any:
        config = load(None, [SECTION]).replace("printer", printers=printers, poll_interval=60)
        self.directory = DeviceDirectory()
        context = ProtocolContext(self.clock, Components(), config, Store.open(self.stateDir), self.directory)
        communities: list = []

        def snmpClient(entry: Any, writeCommunity: Any) -> SNMPClient:
            communities.append((entry.where, writeCommunity))
            return SNMPClient(self.protocol, entry.host, entry.port, community=entry.community,
                              writeCommunity=b"private", timeout=1.0, retries=1)

        service = PrinterService(context, clientFactory=lambda url, c, t: FakeClient(self.printer, url),
                                 snmpClientFactory=snmpClient, random=lambda: 0.0)
        service.startService()
        self.clock.advance(0)
        return service

    def stop(self, service: Any) -> None:
        d = service.stopService()
        self.clock.advance(0)
        self.successResultOf(d)

    def test_oneDevice(self) -> None:
        """An IPP URL and an SNMP entry of the same printer (the same serial number): one device."""
        service = self.service((URL, self.ENTRY))
        self.addCleanup(self.stop, service)
        [device] = self.directory.devices()
        self.assertIsInstance(device, PrinterDevice)
        self.assertTrue(device.hasSNMP)
        self.assertEqual(device.identity.serialNumber, SERIAL)

    def test_snmpFirst(self) -> None:
        """The SNMP entry answers before the IPP printer: it waits a poll interval for it, then joins it."""
        self.printer.up = False
        service = self.service((URL, self.ENTRY))
        self.addCleanup(self.stop, service)
        self.assertEqual(self.directory.devices(), [])
        self.printer.up = True
        self.clock.pump([60.0] * 2)
        [device] = self.directory.devices()
        self.assertTrue(device.hasSNMP)

    def test_otherPrinter(self) -> None:
        """Another serial number on the IPP side: two devices, one of them SNMP's own (X_000000_SNMP)."""
        self.printer.set("printer-serial-number", TEXT, "OTHER-1")
        service = self.service((URL, self.ENTRY))
        self.addCleanup(self.stop, service)
        devices = sorted(self.directory.devices(), key=lambda d: d.proxyProtocol)
        self.assertEqual([d.proxyProtocol for d in devices], ["X_000000_IPP", "X_000000_SNMP"])
        self.assertEqual(devices[1].identity, SNMP_ONLY)
        self.assertFalse(devices[0].hasSNMP)

    def test_knownAtRestart(self) -> None:
        """
        What an entry turned out to be is kept (by address and a digest of
        its community): at the next start it joins the same device at once,
        before any answer; an SNMP-only printer is its own device again.
        """
        self.stop(self.service((URL, self.ENTRY)))
        self.transport.silent = True
        self.printer.up = False
        service = self.service((URL, self.ENTRY))
        self.addCleanup(self.stop, service)
        [device] = self.directory.devices()
        self.assertTrue(device.hasSNMP)
        self.assertFalse(device.online)
        with open(os.path.join(self.stateDir, "printers.json"), encoding="utf-8") as f:
            self.assertNotIn("public", f.read())
        self.stop(service)
        self.transport.silent = False
        service = self.service((self.ENTRY,))
        self.addCleanup(self.stop, service)
        [device] = self.directory.devices()
        self.assertIsInstance(device, SNMPPrinterDevice)


class ProbedTests(_AgentCase):
    """
    [printer] snmp_targets: the printer service runs the SNMP probe; a
    printer it finds is a device (X_000000_SNMP), one it loses goes offline
    and is forgotten after forget_after.
    """

    def service(self, **printer: Any) -> Any:
        values = dict(poll_interval=60, forget_after=3600, snmp_targets=("127.0.0.1/32",), snmp_probe_interval=600,
                      snmp_communities=(b"wrong", b"public"))
        values.update(printer)
        config = load(None, [SECTION]).replace("printer", **values)
        self.directory = DeviceDirectory()
        self.context = ProtocolContext(self.clock, Components(), config, Store.open(self.mktemp()), self.directory)
        service = PrinterService(self.context, random=lambda: 0.0,
                                 clientFactory=lambda url, c, t: FakeClient(self.printer, url),
                                 snmpClientFactory=lambda entry, write: SNMPClient(
                                     self.protocol, entry.host, entry.port, community=entry.community, timeout=1.0,
                                     retries=1))
        service.startService()
        self.addCleanup(lambda: service.stopService() if service.running else None)
        self.clock.advance(0)
        return service

    def test_foundLostForgotten(self) -> None:
        """
        Found with the community that answers (the first one does not): a
        device of its own, online; silent at the next round: offline, then
        forgotten; answering again: a device again.
        """
        self.service()
        self.assertEqual(self.directory.devices(), [])
        self.clock.pump([1.0] * 5)
        [device] = self.directory.devices()
        self.assertIsInstance(device, SNMPPrinterDevice)
        self.assertEqual((device.identity, device.discoveryProtocol, device.online),
                         (SNMP_ONLY, "X_000000_SNMP", True))
        self.transport.silent = True
        self.clock.pump([1.0] * 600)
        self.assertEqual(self.directory.devices(), [device])
        self.assertFalse(device.online)
        self.clock.advance(3600)
        self.assertEqual(self.directory.devices(), [])
        self.transport.silent = False
        self.clock.pump([1.0] * 600)
        [back] = self.directory.devices()
        self.assertEqual((back.identity, back.online), (SNMP_ONLY, True))

    def test_backWithAnotherCommunity(self) -> None:
        """Lost, then answering to another community before it is forgotten: one device, the new one."""
        self.service(snmp_communities=(b"public", b"other"))
        self.clock.pump([1.0] * 5)
        [device] = self.directory.devices()
        self.transport.silent = True
        self.clock.pump([1.0] * 600)
        self.assertEqual(self.directory.devices(), [device])
        self.assertFalse(device.online)
        self.transport.silent = False
        self.agent.community = b"other"
        self.clock.pump([1.0] * 600)
        [back] = self.directory.devices()
        self.assertIsNot(back, device)
        self.assertEqual((back.identity, back.online), (SNMP_ONLY, True))
        self.clock.advance(3600)
        self.assertEqual(self.directory.devices(), [back])

    def test_twoAddresses(self) -> None:
        """
        One printer answering at two addresses is one device, not
        forgotten while the probe finds it at one of them.
        """
        self.transport.agents[("127.0.0.2", AGENT[1])] = self.agent
        self.service(snmp_targets=("127.0.0.1/32", "127.0.0.2/32"))
        self.clock.pump([1.0] * 5)
        [device] = self.directory.devices()
        del self.transport.agents[AGENT]
        self.clock.pump([1.0] * 600)
        self.clock.advance(3600)
        self.assertEqual(self.directory.devices(), [device])

    def test_joinsIPPDevice(self) -> None:
        """
        Found while the IPP printer of [printer] printers has not answered:
        it waits a poll interval for it, then joins its device (one printer,
        one device), though its community does not parse back as a URL's.
        """
        self.agent.community = b"pub@lic/1"
        self.printer = FakePrinter(self.clock, mfp4000() + [attribute("printer-serial-number", TEXT, SERIAL)])
        self.printer.up = False
        self.service(printers=(URL,), snmp_communities=(b"pub@lic/1",))
        self.clock.pump([1.0] * 5)
        self.assertEqual(self.directory.devices(), [])
        self.printer.up = True
        self.clock.pump([60.0] * 2)
        [device] = self.directory.devices()
        self.assertIsInstance(device, PrinterDevice)
        self.assertTrue(device.hasSNMP)

    def test_noCommunity(self) -> None:
        """snmp_communities empty: no probe (said), the service runs."""
        logs = LogCapture(self)
        service = self.service(snmp_communities=())
        self.assertIsNone(service.snmpPrinters.probe)
        self.assertTrue(any("snmp_communities is empty" in e.get("log_format", "") for e in logs.events))

    def test_stop(self) -> None:
        """Stopping the service stops the probe: no timer is left."""
        service = self.service()
        self.clock.pump([1.0] * 5)
        self.transport.silent = True
        self.clock.pump([1.0] * 600)
        d = service.stopService()
        self.clock.advance(0)
        self.successResultOf(d)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_reloaded(self) -> None:
        """SIGHUP without snmp_targets: the printer found is lost (offline); one with: found."""
        service = self.service(snmp_targets=())
        self.clock.pump([1.0] * 5)
        self.assertEqual(self.directory.devices(), [])
        config = load(None, [SECTION]).replace("printer", snmp_targets=("127.0.0.1/32",))
        service.configReloaded(config)
        self.clock.pump([1.0] * 5)
        [device] = self.directory.devices()
        service.configReloaded(config)
        self.clock.pump([1.0] * 5)
        self.assertEqual(self.directory.devices(), [device])
        self.assertTrue(device.online)
        service.configReloaded(config.replace("printer", snmp_targets=()))
        self.assertFalse(device.online)


class PluginTests(unittest.TestCase):
    def test_proxyProtocols(self) -> None:
        """An SNMP-only printer's X_000000_SNMP is in VirtualDevice.{i}.ProxyProtocol's enumeration."""
        from proxier.datamodel.managementserver import PROXY_PROTOCOLS, protocolEnumeration, proxyProtocols
        from proxier.plugins.printer import PrinterProtocol

        self.assertEqual(proxyProtocols(PrinterProtocol()), ("X_000000_IPP", "X_000000_SNMP"))
        self.assertEqual(protocolEnumeration(PROXY_PROTOCOLS, proxyProtocols(PrinterProtocol()))[-2:],
                         ("X_000000_IPP", "X_000000_SNMP"))
