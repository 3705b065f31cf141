"""
Interop of the real printer plugin (L{proxier.plugins.printer}) with real
IPP peers, end to end through the fake ACS (issue 13, PRINTERS.md §10): an
C{ippeveprinter} started by the test on 127.0.0.1 with the MFP 4000
attribute file, and a private C{cupsd} queue in front of it. The proxier
polls them every second; every CWMP message both ways is validated against
the BBF schema (L{tests._e2e}). Skipped with the reason when a binary or
fixture is absent; every peer is stopped by its PID.
"""

from __future__ import annotations

import time
from typing import Any

from twisted.internet import defer, reactor, task
from twisted.trial import unittest

from proxier.cwmp import messages as m
from proxier.datamodel.faults import SetParameterValuesFault
from proxier.datamodel.values import DeviceIdentity, ParameterValue
from proxier.plugins.printer import PrinterProtocol
from proxier.printer.ippclient import IPPClient
from tests import _e2e
from tests._e2e import answers, events, waitFor
from tests.peers import printers

PROXIER = DeviceIdentity("proxier", "000000", "Gateway", "GW-INTEROP-1")
SERVICE = "Device.Services.PrintService.1."
LOCATION = SERVICE + "PrintServiceDescription.ServiceLocation"
DOCUMENT = SERVICE + "PrintServiceDefaults.DefaultPrintJobTicket.PrintDocumentProcessing."
SUPPLY = SERVICE + "PrintServiceConfiguration.Markers.Marker.1.MarkerSupplies.MarkerSupply."
TRAY = SERVICE + "PrintServiceConfiguration.InputTrays.InputTray."
#: Seconds ippeveprinter runs at least before it is killed. Its restart a few seconds later, well within the
#: poller's 30 s tolerance on the boot time, shows only as printer-up-time going back: the last polls before the
#: kill must have seen more seconds (3 or 4) than the first poll after it answers again (1 or 2).
UP_BEFORE_KILL = 5.0


class Lab(_e2e.Lab):
    """The proxier tree with the real printer plugin on one printer URL, polled every second."""

    printer: DeviceIdentity  # the printer's identity, once start() has seen its BOOTSTRAP

    def __init__(self, testCase: unittest.TestCase, url: str) -> None:
        # poll_interval below the file's least (10 s): the config key bounds what an operator asks of a fleet
        super().__init__(testCase, [PrinterProtocol()], PROXIER, {
            "printer": {"printers": (url,), "poll_interval": 1, "offline_after_failures": 2, "request_timeout": 2},
        })

    @defer.inlineCallbacks
    def start(self) -> Any:
        """The tree up, the proxier and the printer bootstrapped; L{printer} is the printer's identity."""
        yield super().start()
        yield waitFor(lambda: bool(self._printerSessions()), what="the BOOTSTRAP session of the printer")
        [session] = self._printerSessions()
        yield waitFor(lambda: session.ended, what="the end of the printer's BOOTSTRAP session")
        self.printer = session.inform.deviceId
        return self

    def _printerSessions(self) -> list:
        """The sessions of any device but the proxier: the printer's, whose identity the test learns from them."""
        return [s for s in self.acs.sessions if s.device != str(PROXIER)]


class _PeersCase(unittest.TestCase):
    """A private D-Bus bus and ippeveprinter with the MFP 4000 fixture, on a free loopback port."""

    timeout = 60  # trial's bound on each test; every wait inside has its own

    def setUp(self) -> None:
        self.peer = printers.startPrinter(self, location="Room 1")
        self.started = time.monotonic()
        self.url = self.peer.url

    @defer.inlineCallbacks
    def attributes(self, url: str, *names: str) -> Any:
        """C{names} as the peer at C{url} tells them now, asked directly (not through the proxier)."""
        group = yield IPPClient(url, reactor=reactor, timeout=5).getPrinterAttributes(names)
        return {name: group.get(name) for name in names}


class IppeveprinterTests(_PeersCase):
    @defer.inlineCallbacks
    def test_identityAndDemoRows(self) -> Any:
        """
        The printer bootstraps with its own identity (it tells neither
        printer-serial-number nor printer-device-id: the serial number is
        its printer-uuid, which follows its port) and its firmware;
        GetParameterValues reads every demo row it serves with the fixture's
        values (PRINTERS.md §4; it tells no printer-contact-col nor
        printer-media-sheets-completed, and Memory, MAC and Front Panel are
        SNMP's).
        """
        lab = yield Lab(self, self.url).start()
        told = yield self.attributes(self.url, "printer-uuid")
        self.assertEqual(lab.printer, DeviceIdentity("ExampleCo", "000000", "ExampleCo MFP 4000 Color",
                                                     told["printer-uuid"][len("urn:uuid:"):]))
        [boot] = lab.sessions(lab.printer)
        self.assertEqual(events(boot), ["0 BOOTSTRAP"])
        self.assertEqual({p.name: p.value for p in boot.inform.parameters}["Device.DeviceInfo.SoftwareVersion"],
                         "2.11.3")

        level = "MarkerSupplyDescription.MarkerSupplyCurrentLevel"
        rows = {
            "Device.DeviceInfo.SerialNumber": lab.printer.serialNumber,
            "Device.DeviceInfo.ProductClass": "ExampleCo MFP 4000 Color",
            SERVICE + "PrintServiceDescription.ServiceInfo": "MFP4000",  # its service name, not the file's
            LOCATION: "Room 1",
            SERVICE + "PrintServiceDescription.ColorSupported": "true",
            SERVICE + "PrintServiceStatus.State": "Idle",
            SERVICE + "PrintServiceStatus.StateReasons.StateReason": "None",
            SUPPLY + "1." + level: "8",
            SUPPLY + "2." + level: "55",
            SUPPLY + "2.MarkerSupplyDescription.MarkerSupplyMaxCapacity": "100",
            SUPPLY + "2.MarkerSupplyDescription.MarkerSupplyCurrentLevelBasis": "Actual",
            SUPPLY + "2.MarkerSupplyStatus.MarkerSupplyType": "Toner",
            SUPPLY + "2.MarkerSupplyStatus.MarkerSupplyClass": "SupplyThatIsConsumed",
            SUPPLY + "2.MarkerSupplyStatus.MarkerSupplyCapacityUnit": "Percent",
            TRAY + "1.InputTrayDescription.InputTrayCurrentLevelBasis": "Unknown",  # level=-2
            TRAY + "2.InputTrayDescription.InputTrayCurrentLevel": "275",
            TRAY + "2.InputTrayDescription.InputTrayMaxCapacity": "550",
            TRAY + "2.InputTrayStatus.SubunitStates.SubunitState": "AvailableAndIdle",
            SERVICE + "PrintServiceStatus.PrintServiceCounters.WorkTotals.Impressions": "123456",
            DOCUMENT + "OrientationRequested": "Portrait",
            DOCUMENT + "Sides": "TwoSidedLongEdge",
            DOCUMENT + "Resolution.CrossFeedDir": "600",
            DOCUMENT + "Resolution.FeedDir": "600",
            DOCUMENT + "Resolution.Units": "Dpi",
            DOCUMENT + "Copies": "1",
        }
        session = yield lab.session([m.GetParameterValues(tuple(rows))], lab.printer)
        [gpv] = answers(session)
        self.assertEqual({p.name: p.value for p in gpv.parameters}, rows)

    @defer.inlineCallbacks
    def test_refusedWrite(self) -> Any:
        """
        ippeveprinter lists no settable attribute: SetParameterValues of
        ServiceLocation is refused, 9003 with 9008 for the parameter, and
        the location reads back unchanged, on the printer too.
        """
        lab = yield Lab(self, self.url).start()
        session = yield lab.session([
            m.GetParameterNames(LOCATION, False),
            m.SetParameterValues((ParameterValue(LOCATION, "Lab 7"),), "pk-1"),
            m.GetParameterValues((LOCATION,)),
        ], lab.printer)
        names, refused, after = answers(session)
        self.assertEqual([(p.name, p.writable) for p in names.parameters], [(LOCATION, False)])
        self.assertIsInstance(refused, m.SOAPFault)
        self.assertEqual(refused.fault.code, 9003)
        self.assertEqual(list(refused.fault.parameterFaults), [SetParameterValuesFault(LOCATION, 9008)])
        self.assertEqual([p.value for p in after.parameters], ["Room 1"])
        told = yield self.attributes(self.url, "printer-location")
        self.assertEqual(told, {"printer-location": "Room 1"})

    @defer.inlineCallbacks
    def test_killedOfflineRestartedBoot(self) -> Any:
        """
        The printer killed: its Virtual CWMP Device goes offline, and its
        Connection Request is answered 503 with no session; started again on
        its port, it comes back online with a "1 BOOT" session of its own.
        """
        lab = yield Lab(self, self.url).start()
        endpoint = lab.endpoint(lab.printer)
        yield task.deferLater(reactor, max(0.0, UP_BEFORE_KILL - (time.monotonic() - self.started)), lambda: None)
        self.peer.stop()
        yield waitFor(lambda: not endpoint.online, what="the printer's Virtual CWMP Device offline")
        status = yield lab.connectionRequest(lab.printer)
        self.assertEqual(status, 503)
        self.assertEqual(len(lab.sessions(lab.printer)), 1, "no session while offline")

        self.peer.restart(self)
        yield waitFor(lab.ended(lab.printer, 2), what="the session after the printer's restart")
        self.assertTrue(endpoint.online)
        self.assertEqual(events(lab.sessions(lab.printer)[1]), ["1 BOOT"])


class CupsdTests(_PeersCase):
    """The same printer behind a private cupsd queue, which lets printer-location be set."""

    def setUp(self) -> None:
        printers.skipUnlessQueue()
        super().setUp()
        self.queue = printers.startQueue(self, self.peer)

    @defer.inlineCallbacks
    def test_locationSetAndReadBack(self) -> Any:
        """
        The queue bootstraps with its own identity (its printer-uuid);
        ServiceLocation is writable there, set through cupsd, and read back
        as the new value by a GetParameterValues of a later session; the
        queue itself tells the new printer-location.
        """
        lab = yield Lab(self, self.queue).start()
        told = yield self.attributes(self.queue, "printer-uuid", "printer-make-and-model")
        self.assertEqual((lab.printer.serialNumber, lab.printer.productClass),
                         (told["printer-uuid"][len("urn:uuid:"):], told["printer-make-and-model"]))
        session = yield lab.session([
            m.GetParameterNames(LOCATION, False),
            m.SetParameterValues((ParameterValue(LOCATION, "Lab 7"),), "pk-1"),
        ], lab.printer)
        names, spv = answers(session)
        self.assertEqual([(p.name, p.writable) for p in names.parameters], [(LOCATION, True)])
        self.assertEqual(spv, m.SetParameterValuesResponse(0))
        session = yield lab.session([m.GetParameterValues((LOCATION, "Device.ManagementServer.ParameterKey"))],
                                    lab.printer)
        [gpv] = answers(session)
        self.assertEqual({p.name: p.value for p in gpv.parameters},
                         {LOCATION: "Lab 7", "Device.ManagementServer.ParameterKey": "pk-1"})
        told = yield self.attributes(self.queue, "printer-location")
        self.assertEqual(told, {"printer-location": "Lab 7"})
