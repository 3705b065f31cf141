# -*- test-case-name: tests.test_printer_snmpinterop -*-
"""
Interop of the printer protocol's SNMP entries with snmpsim on 127.0.0.1
(issue 14 Tests; PRINTERS.md §10), through the whole proxier and the fake
ACS (L{tests._e2e}: every CWMP message both ways XSD-validated): the MFP
4000 recording as an SNMP-only printer — every SNMP-served demo row read,
sysContact set and read back, a read-only SET refused with the right
fault, a restart (snmpsim started again with a smaller sysUpTime) reported
as "1 BOOT" — and merged with the in-process fake IPP printer
(L{proxier.sim.ippprinter}) that tells the same serial number: one
Virtual CWMP Device. Skipped, with the reason, without snmpsim.
"""

from __future__ import annotations

import os
from typing import Any, Optional, Sequence

from twisted.internet import defer, reactor
from twisted.trial import unittest

from proxier.cwmp import messages as m
from proxier.datamodel.values import DeviceIdentity, ParameterValue
from proxier.plugins.printer import PrinterProtocol
from proxier.printer import ipp, ippsource
from proxier.printer.proxy import identityOf
from proxier.sim import ippprinter
from tests import _e2e
from tests._e2e import answers, events, waitFor
from tests.peers import snmp as peer

PROXIER = DeviceIdentity("proxier", "000000", "Gateway", "GW-SNMP-1")
SERIAL = "EXC4K-2024-000123"  # the MFP 4000 recording's prtGeneralSerialNumber
SNMP_ONLY = DeviceIdentity("ExampleCo", "0002A5", "ExampleCo MFP 4000 Color", SERIAL)
SERVICE = "Device.Services.PrintService.1."
DESCRIPTION = SERVICE + "PrintServiceDescription."
STATUS = SERVICE + "PrintServiceStatus."
CONFIG = SERVICE + "PrintServiceConfiguration."
SUPPLY = CONFIG + "Markers.Marker.1.MarkerSupplies.MarkerSupply."
LEVEL = ".MarkerSupplyDescription.MarkerSupplyCurrentLevel"
TRAY = CONFIG + "InputTrays.InputTray."
STATES = ".InputTrayStatus.SubunitStates.SubunitState"
UPTIME = 8640000  # ticks: a day, as recorded; snmpsim counts on from it
SYS_LOCATION = "1.3.6.1.2.1.1.6.0"

#: Every demo-table row SNMP serves (PRINTERS.md §4), as the MFP 4000 recording has it.
ROWS = {
    STATUS + "SerialNumber": SERIAL,
    DESCRIPTION + "ServiceInfo": "ExampleCo MFP 4000 Color",
    CONFIG + "Storages.Storage.1.StorageStatus.StorageSize": "524288",
    DESCRIPTION + "OwnerVCard": "helpdesk@example.net",
    DESCRIPTION + "ServiceLocation": "Building A, Floor 2, Copy Room",
    CONFIG + "Interfaces.Interface.1.InterfaceStatus.InterfacePhysicalAddress": "00:02:a5:c0:ff:ee",
    CONFIG + "Consoles.Console.1.ConsoleDescription.ConsoleDisplayBuffer.ConsoleDisplayText": "Ready,Black toner low",
    DESCRIPTION + "ColorSupported": "true",
    STATUS + "State": "Idle",
    STATUS + "StateReasons.StateReason": "TonerLow",
    SUPPLY + "1" + LEVEL: "8",
    SUPPLY + "2" + LEVEL: "55",
    SUPPLY + "7.MarkerSupplyDescription.MarkerSupplyCurrentLevelBasis": "NotEmpty",
    TRAY + "2.InputTrayDescription.InputTrayCurrentLevel": "275",
    TRAY + "3" + STATES: "UnavailableAndOnRequest,WarningAlerts",
    STATUS + "PrintServiceCounters.WorkTotals.Impressions": "123456",
}


def entry(port: int) -> str:
    return f"snmp://printer-mfp4000@127.0.0.1:{port}"


class Lab(_e2e.Lab):
    """The proxier with the printer protocol, its [printer] printers (and other keys) given, and the fake ACS."""

    def __init__(self, testCase: unittest.TestCase, printers: Sequence[str], devices: Sequence[DeviceIdentity],
                 **printer: Any):
        super().__init__(testCase, [PrinterProtocol()], PROXIER,
                         {"printer": {"printers": tuple(printers), "poll_interval": 10, **printer}})
        self._devices = list(devices)

    def devices(self) -> list[DeviceIdentity]:
        return self._devices


def values(session: Any) -> dict[str, str]:
    [answer] = answers(session)
    return {p.name: p.value for p in answer.parameters}


class SnmpsimTestsMixin:
    timeout = 120

    def setUp(self) -> None:
        reason = peer.missing()
        if reason:
            raise unittest.SkipTest(reason)
        self.directory = self.mktemp()  # type: ignore[attr-defined]
        os.makedirs(self.directory)

    def snmpsim(self, port: Optional[int] = None, upTime: int = UPTIME, readOnly: Sequence[str] = ()) -> int:
        return peer.startSnmpsim(self, self.directory, port=port, upTime=upTime, readOnly=readOnly)


class SNMPOnlyTests(SnmpsimTestsMixin, unittest.TestCase):
    @defer.inlineCallbacks
    def test_rows(self) -> Any:
        """
        The SNMP-only printer bootstraps with its identity (serial number
        prtGeneralSerialNumber, OUI its MAC's), every SNMP-served demo row
        reads as recorded, and the gateway lists it as X_000000_SNMP.
        """
        lab = yield Lab(self, [entry(self.snmpsim())], [SNMP_ONLY]).start()
        [boot] = lab.sessions(SNMP_ONLY)
        self.assertEqual(events(boot), ["0 BOOTSTRAP"])
        session = yield lab.session([m.GetParameterValues(tuple(ROWS) + ("Device.DeviceInfo.UpTime",))], SNMP_ONLY)
        got = values(session)
        self.assertEqual({name: got[name] for name in ROWS}, ROWS)
        self.assertGreaterEqual(int(got["Device.DeviceInfo.UpTime"]), UPTIME // 100)
        table = "Device.ManagementServer.VirtualDevice."
        session = yield lab.session([m.GetParameterValues((table,))], PROXIER)
        got = values(session)
        self.assertEqual((got[table + "1.SerialNumber"], got[table + "1.ProxyProtocol"]), (SERIAL, "X_000000_SNMP"))

    @defer.inlineCallbacks
    def test_contactSetAndReadBack(self) -> Any:
        """Contact (sysContact) is writable, set by an SNMP SET and read back through SNMP."""
        lab = yield Lab(self, [entry(self.snmpsim())], [SNMP_ONLY]).start()
        contact = DESCRIPTION + "OwnerVCard"
        session = yield lab.session([m.GetParameterNames(contact, False)], SNMP_ONLY)
        [answer] = answers(session)
        self.assertEqual([(p.name, p.writable) for p in answer.parameters], [(contact, True)])
        session = yield lab.session([
            m.SetParameterValues((ParameterValue(contact, "ops@example.org"),), "k"),
            m.GetParameterValues((contact,)),
        ], SNMP_ONLY)
        setAnswer, getAnswer = answers(session)
        self.assertEqual(setAnswer.status, 0)
        self.assertEqual({p.name: p.value for p in getAnswer.parameters}, {contact: "ops@example.org"})

    @defer.inlineCallbacks
    def test_readOnlyRefused(self) -> Any:
        """
        sysLocation read-only on this agent: snmpsim answers the probe's SET
        with noSuchInstance under status 0, so Location is not writable and
        its SetParameterValues is refused with 9008, the value unchanged.
        """
        lab = yield Lab(self, [entry(self.snmpsim(readOnly=(SYS_LOCATION,)))], [SNMP_ONLY]).start()
        location = DESCRIPTION + "ServiceLocation"
        session = yield lab.session([
            m.GetParameterNames(location, False),
            m.SetParameterValues((ParameterValue(location, "Lab 7"),), "k"),
            m.GetParameterValues((location,)),
        ], SNMP_ONLY)
        names, refused, got = answers(session)
        self.assertEqual([(p.name, p.writable) for p in names.parameters], [(location, False)])
        self.assertEqual(refused.fault.code, 9003)
        self.assertEqual([(f.parameterName, f.faultCode) for f in refused.fault.parameterFaults], [(location, 9008)])
        self.assertEqual({p.name: p.value for p in got.parameters}, {location: ROWS[location]})

    @defer.inlineCallbacks
    def test_restartBoot(self) -> Any:
        """snmpsim started again on its port with a smaller sysUpTime: the printer restarted, "1 BOOT"."""
        port = self.snmpsim()
        lab = yield Lab(self, [entry(port)], [SNMP_ONLY]).start()
        peer.stopSnmpsim(port)
        self.snmpsim(port=port, upTime=500)
        yield waitFor(lab.ended(SNMP_ONLY, 2), what="the session after the restart")
        self.assertEqual(events(lab.sessions(SNMP_ONLY)[1]), ["1 BOOT"])


class ProbedTests(SnmpsimTestsMixin, unittest.TestCase):
    @defer.inlineCallbacks
    def test_found(self) -> Any:
        """
        [printer] snmp_targets = 127.0.0.1/32, snmpsim's port as snmp_port,
        its community (the recording's name) after one it does not answer:
        the SNMP probe finds the printer, which bootstraps as an SNMP-only
        Virtual CWMP Device listed with DiscoveryProtocol X_000000_SNMP, its
        rows read as recorded.
        """
        lab = yield Lab(self, [], [SNMP_ONLY], snmp_targets=("127.0.0.1/32",), snmp_port=self.snmpsim(),
                        snmp_communities=(b"wrong", b"printer-mfp4000")).start()
        [boot] = lab.sessions(SNMP_ONLY)
        self.assertEqual(events(boot), ["0 BOOTSTRAP"])
        table = "Device.ManagementServer.VirtualDevice.1."
        session = yield lab.session([m.GetParameterValues(
            (table + "SerialNumber", table + "ProxyProtocol", table + "DiscoveryProtocol"))], PROXIER)
        self.assertEqual(values(session), {table + "SerialNumber": SERIAL, table + "ProxyProtocol": "X_000000_SNMP",
                                           table + "DiscoveryProtocol": "X_000000_SNMP"})
        session = yield lab.session([m.GetParameterValues(tuple(ROWS))], SNMP_ONLY)
        self.assertEqual(values(session), ROWS)


class MergedTests(SnmpsimTestsMixin, unittest.TestCase):
    @defer.inlineCallbacks
    def test_oneDevice(self) -> Any:
        """
        The in-process fake IPP printer telling the recording's serial number
        and snmpsim serving the recording are one printer: ONE Virtual CWMP
        Device, whose values come from IPP where both answer (Location) and
        from SNMP for Contact and the MAC.
        """
        with open(ippprinter.DEMO_ATTRIBUTES) as f:
            attributes = ippprinter.readAttributeFile(f.read())
        attributes.append(ipp.Attribute("printer-serial-number", (ipp.Value(0x41, SERIAL),)))
        printer = ippprinter.IPPPrinter(reactor, attributes, location="Front office")
        listening = ippprinter.listen(reactor, printer)
        self.addCleanup(listening.stopListening)
        url = f"ipp://127.0.0.1:{listening.getHost().port}/ipp/print"
        identity = identityOf(ippsource.read(printer.group()), "000000")
        self.assertEqual(identity.serialNumber, SERIAL)
        lab = yield Lab(self, [url, entry(self.snmpsim())], [identity]).start()
        session = yield lab.session([m.GetParameterValues(("Device.ManagementServer.VirtualDeviceNumberOfEntries",
                                                           "Device.ManagementServer.VirtualDevice.1.ProxyProtocol"))],
                                    PROXIER)
        self.assertEqual(values(session), {"Device.ManagementServer.VirtualDeviceNumberOfEntries": "1",
                                           "Device.ManagementServer.VirtualDevice.1.ProxyProtocol": "X_000000_IPP"})
        names = (DESCRIPTION + "ServiceLocation", DESCRIPTION + "OwnerVCard",
                 CONFIG + "Interfaces.Interface.1.InterfaceStatus.InterfacePhysicalAddress")
        yield waitFor(lambda: lab.tree.directory.get(identity.key).hasSNMP, what="the SNMP side joined")
        session = yield lab.session([m.GetParameterValues(names)], identity)
        self.assertEqual(values(session), dict(zip(names, ("Front office", "helpdesk@example.net",
                                                           "00:02:a5:c0:ff:ee"))))
