"""
Tests for L{proxier.printer.device} and L{proxier.printer.proxy}: one IPP
printer as one Virtual CWMP Device — first against an in-memory printer
(L{tests._fakeprinter}) driven by L{task.Clock}, then against the real
C{ippeveprinter} on 127.0.0.1 when it is installed.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Optional

from twisted.internet import defer, task
from twisted.trial import unittest
from zope.interface import implementer

from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.standard import isUUID, supportedDataModelUUID
from proxier.datamodel.values import DeviceIdentity
from proxier.interfaces import IDataModel, IDeviceObserver
from proxier.printer import ipp, ippsource
from proxier.printer.device import PrinterDevice
from proxier.printer.devicemodel import SUPPORTED_DATA_MODELS
from proxier.printer.poller import PollSlots
from proxier.printer.proxy import identityOf
from proxier.printer.settings import PrinterSettings
from proxier.store import Store
from tests import _helpers
from tests._fakeprinter import INTEGER, TEXT, URL, FakeClient, FakePrinter, attribute, mfp4000
from tests._helpers import fired
from tests.peers import printers

IDENTITY = DeviceIdentity("ExampleCo", "000000", "ExampleCo MFP 4000 Color", "EX4000-0001")
SETTINGS = PrinterSettings(printers=(URL,), pollInterval=60, fullPollInterval=900, offlineAfterFailures=3,
                           requestTimeout=10)


@implementer(IDeviceObserver)
class Endpoint:
    """What the CWMP endpoint would hear."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def deviceOnline(self, device: Any) -> None:
        self.events.append("online")

    def deviceOffline(self, device: Any) -> None:
        self.events.append("offline")

    def deviceBooted(self, device: Any) -> None:
        self.events.append("1 BOOT")

    def deviceFactoryReset(self, device: Any) -> None:
        self.events.append("0 BOOTSTRAP")

    def diagnosticsComplete(self, device: Any) -> None:
        self.events.append("8 DIAGNOSTICS COMPLETE")

    def transferComplete(self, device: Any, result: Any) -> None:
        self.events.append("7 TRANSFER COMPLETE")

    def autonomousTransferComplete(self, device: Any, result: Any) -> None:
        self.events.append("10 AUTONOMOUS TRANSFER COMPLETE")


class IdentityTests(unittest.TestCase):
    def identity(self, attributes: Any, oui: str = "000000") -> Optional[DeviceIdentity]:
        return identityOf(ippsource.read(ipp.AttributeGroup(0x04, attributes)), oui)

    def test_order(self) -> None:
        """
        PRINTERS.md §4: the serial number from printer-serial-number, else
        the device ID's SN, else printer-uuid; the manufacturer from the
        device ID's MFG; the product class from printer-make-and-model; the
        OUI from the config. No serial number at all: no identity.
        """
        attributes = mfp4000()
        self.assertEqual(self.identity(attributes), IDENTITY)
        withSerial = self.identity(attributes + [attribute("printer-serial-number", TEXT, "S-1")], "ABCDEF")
        self.assertEqual((withSerial.serialNumber, withSerial.oui), ("S-1", "ABCDEF"))
        noId = [a for a in attributes if a.name != "printer-device-id"]
        self.assertEqual(self.identity(noId), DeviceIdentity("ExampleCo", "000000", "ExampleCo MFP 4000 Color",
                                                             "7d1c7a5e-0000-4000-8000-000000004000"))
        self.assertIsNone(self.identity([a for a in noId if a.name != "printer-uuid"]))


class _PrinterCase(unittest.TestCase):
    """A device on an in-memory printer, a clock, and what its endpoint hears."""

    def setUp(self) -> None:
        self.clock = task.Clock()
        self.clock.advance(1_000_000)
        self.printer = FakePrinter(self.clock)
        self.client = FakeClient(self.printer)
        self.state = Store.open(self.mktemp())
        self.slots = PollSlots(4)
        self.endpoint = Endpoint()
        self.replaced: list = []

    def device(self, found: bool = True) -> PrinterDevice:
        group = self.printer.group(("all",)) if found else None
        device = PrinterDevice(IDENTITY, URL, self.client, self.state.child("printer"), self.slots, SETTINGS,
                               self.clock, found=group, identify=lambda readings: identityOf(readings, "000000"),
                               replaced=lambda d, g: self.replaced.append(d), random=lambda: 0.0)
        device.addObserver(self.endpoint)
        device.start()
        self.addCleanup(device.stop)
        return device

    def gpv(self, device: PrinterDevice, *names: str) -> dict[str, str]:
        model = device.model
        return {v.name: v.value for v in fired(model.getParameterValues(list(names)))}


class DeviceTests(_PrinterCase):
    def test_supportedDataModelUUID(self) -> None:
        """
        Each SupportedDataModel row answers the name-based UUID of its URN
        (its URL is empty): TR-181's 36 characters, the same on a device
        built again (a restart).
        """
        names = [f"Device.DeviceInfo.SupportedDataModel.{i}.UUID" for i in (1, 2)]
        first = self.gpv(self.device(), *names)
        self.assertEqual(first, {name: supportedDataModelUUID(urn, "")
                                 for name, (urn, _) in zip(names, SUPPORTED_DATA_MODELS)})
        self.assertTrue(all(isUUID(value) for value in first.values()))
        self.assertEqual(len(set(first.values())), 2)
        self.assertEqual(self.gpv(self.device(), *names), first)

    def test_found(self) -> None:
        """
        A printer found now is online with the answer that found it: its
        identity, firmware and up-time in DeviceInfo, the two data models it
        supports, PrintService.1 present; the next poll is a cheap one.
        """
        device = self.device()
        self.assertTrue(device.online)
        self.assertEqual((device.proxyProtocol, device.discoveryProtocol), ("X_000000_IPP", "X_000000_Static"))
        self.assertEqual(device.host, "127.0.0.1")
        values = self.gpv(device, "Device.DeviceInfo.", "Device.Services.PrintServiceNumberOfEntries")
        self.assertEqual(values["Device.DeviceInfo.SerialNumber"], "EX4000-0001")
        self.assertEqual(values["Device.DeviceInfo.ProductClass"], "ExampleCo MFP 4000 Color")
        self.assertEqual(values["Device.DeviceInfo.SoftwareVersion"], "4.2.1")
        self.assertEqual(values["Device.DeviceInfo.UpTime"], "100")
        self.assertEqual(values["Device.DeviceInfo.SupportedDataModel.2.URN"], "urn:x-proxier:pwg-sm-printservice-1-0")
        self.assertEqual(values["Device.Services.PrintServiceNumberOfEntries"], "1")
        self.clock.advance(0)
        self.clock.advance(60)
        self.assertEqual(self.printer.requests[-1][0], "Get-Printer-Attributes")
        self.assertNotIn("all", self.printer.requests[-1][1])
        self.assertEqual(self.endpoint.events, [])

    def test_knownStartsOffline(self) -> None:
        """A printer known from an earlier run is offline until its first answer, then online."""
        device = self.device(found=False)
        self.assertFalse(device.online)
        self.clock.advance(0)
        self.assertTrue(device.online)
        self.assertEqual(self.endpoint.events, ["online"])
        self.assertEqual([r for r in self.printer.requests if r[0] == "Get-Printer-Attributes"][0],
                         ("Get-Printer-Attributes", ("all",)), "its first read is a full one")

    def test_offlineOnceThenOnline(self) -> None:
        """
        Switched off: offline once after three silent polls, however many
        follow; back with the same boot: online, no "1 BOOT".
        """
        device = self.device()
        self.printer.up = False
        for _ in range(10):
            self.clock.advance(60)
        self.assertFalse(device.online)
        self.assertEqual(self.endpoint.events, ["offline"])
        self.printer.up = True
        self.clock.advance(60)
        self.assertEqual(self.endpoint.events, ["offline", "online"])

    def test_restartIsBoot(self) -> None:
        """Killed, offline, restarted: "1 BOOT" before it is online again."""
        device = self.device()
        self.printer.up = False
        for _ in range(3):
            self.clock.advance(60)
        self.printer.restart()
        self.printer.up = True
        self.clock.advance(60)
        self.assertEqual(self.endpoint.events, ["offline", "1 BOOT", "online"])
        self.assertTrue(device.online)

    def test_restartWhileProxierDown(self) -> None:
        """The boot time is kept: a printer that restarted while the proxier was down boots on its first answer."""
        first = self.device()
        first.stop()
        self.clock.advance(3600)
        self.printer.restart()
        self.clock.advance(5)
        self.device(found=False)
        self.clock.advance(0)
        self.assertEqual(self.endpoint.events, ["1 BOOT", "online"])

    def test_reboot(self) -> None:
        """
        Reboot is offered because operations-supported lists
        Restart-Printer; it is sent, and the restart the next poll finds is
        reported "1 BOOT" (the endpoint adds "M Reboot").
        """
        device = self.device()
        self.assertIn("Reboot", device.model.supportedMethods())
        fired(device.model.reboot("key"))
        self.assertIn(("Restart", None), self.printer.requests)
        self.clock.advance(0)
        self.assertEqual(self.endpoint.events, ["1 BOOT"])

    def test_rebootNotOffered(self) -> None:
        """Without Restart-Printer or Restart-System, Reboot is not offered and answers 9000."""
        self.printer.set("operations-supported", 0x23, 0x000B)
        device = self.device()
        self.assertNotIn("Reboot", device.model.supportedMethods())
        fault = self.assertRaises(CWMPFault, fired, device.model.reboot("key"))
        self.assertEqual(fault.code, 9000)

    def test_anotherPrinter(self) -> None:
        """A full answer naming another identity: the device stops and the service is told."""
        device = self.device()
        self.printer.set("printer-device-id", TEXT, "MFG:ExampleCo;MDL:MFP 4000 Color;SN:OTHER;")
        self.printer.set("printer-config-change-time", INTEGER, 2)
        self.clock.advance(60)
        self.assertEqual(self.replaced, [device])
        self.clock.advance(600)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_fullAnswerReadOnce(self) -> None:
        """
        A full answer is made into PrintService values once: the identity
        check's readings are the device's (bench_printer_gpv: each reading
        costs about a tenth of a millisecond); the values are the answer's.
        """
        device = self.device()
        reads: list = []
        read = ippsource.read
        self.patch(ippsource, "read", lambda group, *rest: reads.append(group) or read(group, *rest))
        self.printer.set("printer-location", TEXT, "Room 2")
        self.printer.set("printer-config-change-time", INTEGER, 2)
        self.clock.advance(60)
        self.assertEqual([r for r in self.printer.requests if r[0] == "Get-Printer-Attributes"][-1][1], ("all",))
        self.assertEqual(len(reads), 1)
        self.assertEqual(self.gpv(device, LOCATION), {LOCATION: "Room 2"})

    def test_eventMakesThePollComeNow(self) -> None:
        """
        A printer offering ippget events: a printer-config-changed event makes
        the next poll come at once (its diff is the truth), not an interval
        later; a printer without them is polled alone.
        """
        self.printer.offersEvents = True
        device = self.device()
        self.clock.advance(60)
        self.printer.set("printer-location", TEXT, "Lab 9")
        self.printer.set("printer-config-change-time", INTEGER, 2)
        self.printer.notify("printer-config-changed")
        self.clock.advance(30)
        self.assertEqual(self.gpv(device, "Device.Services.PrintService.1.PrintServiceDescription.ServiceLocation"),
                         {"Device.Services.PrintService.1.PrintServiceDescription.ServiceLocation": "Lab 9"})
        self.assertEqual(device.events.state.value, "subscribed")
        fired(device.stop())
        self.assertEqual(self.printer.subscriptions, set(), "cancelled when the device stops")

    def test_adapter(self) -> None:
        """The device's model is an IDataModel."""
        self.assertTrue(IDataModel.providedBy(self.device().model))


SERVICE = "Device.Services.PrintService.1."
LOCATION = SERVICE + "PrintServiceDescription.ServiceLocation"
INFO = SERVICE + "PrintServiceDescription.ServiceInfo"
SIDES = SERVICE + "PrintServiceDefaults.DefaultPrintJobTicket.PrintDocumentProcessing.Sides"
SUPPLIES = SERVICE + "PrintServiceConfiguration.Markers.Marker.1.MarkerSupplies."
LEVEL = "MarkerSupplyDescription.MarkerSupplyCurrentLevel"


class PrintServiceTests(_PrinterCase):
    """The PrintService rows: read from the printer's answers, written with a read-back, all or nothing."""

    def sets(self) -> list:
        return [r[1] for r in self.printer.requests if r[0] == "Set-Printer-Attributes"]

    def spv(self, device: PrinterDevice, *pairs: tuple[str, str]) -> Any:
        from proxier.datamodel.values import ParameterValue

        return device.model.setParameterValues([ParameterValue(n, v) for n, v in pairs])

    def test_demoRowsRead(self) -> None:
        """The demo table's IPP rows read from the printer (PRINTERS.md §4)."""
        values = self.gpv(self.device(), SERVICE)
        self.assertEqual(values[LOCATION], "Room 1")
        self.assertEqual(values[INFO], "MFP4000")
        self.assertEqual(values[SERVICE + "PrintServiceDescription.ColorSupported"], "true")
        self.assertEqual(values[SERVICE + "PrintServiceStatus.State"], "Idle")
        self.assertEqual(values[SIDES], "TwoSidedLongEdge")
        self.assertEqual(values[SUPPLIES + "MarkerSupply.1." + LEVEL], "8")
        self.assertEqual(values[SUPPLIES + "MarkerSupply.2." + LEVEL], "55")
        self.assertEqual(values[SUPPLIES + "MarkerSupplyNumberOfEntries"], "2")

    def test_writableIsPerPrinter(self) -> None:
        """Writable only where printer-settable-attributes-supported lists the attribute."""
        device = self.device()
        infos = {i.name: i.writable for i in fired(device.model.getParameterNames(SERVICE, False))}
        self.assertEqual(sorted(n for n, w in infos.items() if w), [INFO, LOCATION])
        self.printer.set("printer-settable-attributes-supported", 0x44, "printer-location", "sides-default")
        self.printer.set("printer-config-change-time", INTEGER, 2)
        self.clock.advance(60)
        infos = {i.name: i.writable for i in fired(device.model.getParameterNames(SERVICE, False))}
        self.assertEqual(sorted(n for n, w in infos.items() if w), [SIDES, LOCATION])
        self.assertEqual(self.gpv(device, LOCATION)[LOCATION], "Room 1", "its values are still read")

    def test_writeReadBack(self) -> None:
        """
        printer-location is written with Set-Printer-Attributes and read
        back before the answer; the value the ACS set is not reported back
        as a change.
        """
        from proxier.datamodel.values import AttributeChange

        device = self.device()
        changes: list = []
        device.model.addChangeListener(lambda values, active: changes.append([v.name for v in values]))
        fired(device.model.setParameterAttributes([AttributeChange(LOCATION, True, 2)]))
        self.assertEqual(fired(self.spv(device, (LOCATION, "Lab 7"))), 0)
        [[written]] = self.sets()
        self.assertEqual((written.name, written.value), ("printer-location", "Lab 7"))
        self.assertEqual(self.printer.requests[-1], ("Get-Printer-Attributes", ("printer-location",)))
        self.assertEqual(self.gpv(device, LOCATION)[LOCATION], "Lab 7")
        self.clock.advance(60)
        self.assertEqual(changes, [])

    def test_cupsQueueDefaults(self) -> None:
        """
        A CUPS queue (operations-supported lists CUPS-Add-Modify-Printer)
        writes the demo table's job defaults with CUPS-Add-Modify-Printer,
        read back like any write; printer-location still goes through
        Set-Printer-Attributes.
        """
        self.printer.set("operations-supported", 0x23, 0x000B, 0x0013, 0x4003)
        device = self.device()
        copies = SERVICE + "PrintServiceDefaults.DefaultPrintJobTicket.PrintDocumentProcessing.Copies"
        infos = {i.name: i.writable for i in fired(device.model.getParameterNames(copies, False))}
        self.assertEqual(infos, {copies: True})
        self.assertEqual(fired(self.spv(device, (copies, "3"), (SIDES, "OneSided"), (LOCATION, "Lab 7"))), 0)
        writes = [(r[0], [a.name for a in r[1]]) for r in self.printer.requests
                  if r[0] in ("CUPS-Add-Modify-Printer", "Set-Printer-Attributes")]
        self.assertEqual(sorted(writes), [("CUPS-Add-Modify-Printer", ["copies-default"]),
                                          ("CUPS-Add-Modify-Printer", ["sides-default"]),
                                          ("Set-Printer-Attributes", ["printer-location"])])
        self.assertEqual(self.gpv(device, copies, SIDES), {copies: "3", SIDES: "OneSided"})

    def test_refused(self) -> None:
        """The printer refuses the write: 9001, nothing changed."""
        device = self.device()
        self.printer.refuseWrites = True
        fault = self.assertRaises(CWMPFault, fired, self.spv(device, (LOCATION, "Lab 7")))
        self.assertEqual(fault.code, 9001)
        self.assertEqual(self.gpv(device, LOCATION)[LOCATION], "Room 1")

    def test_notTaken(self) -> None:
        """successful-ok but the value read back is the old one (cupsd): 9001."""
        device = self.device()
        self.printer.ignored = {"printer-location"}
        fault = self.assertRaises(CWMPFault, fired, self.spv(device, (LOCATION, "Lab 7")))
        self.assertEqual(fault.code, 9001)
        self.assertIn("did not take printer-location", fault.string)

    def test_notSettable(self) -> None:
        """A parameter this printer cannot write: 9003 with 9008 for it, and nothing is sent."""
        device = self.device()
        fault = self.assertRaises(CWMPFault, fired, self.spv(device, (SIDES, "OneSided"), (LOCATION, "Lab 7")))
        self.assertEqual(fault.code, 9003)
        self.assertEqual([(f.parameterName, f.faultCode) for f in fault.parameterFaults], [(SIDES, 9008)])
        self.assertEqual(self.sets(), [])

    def test_invalidValue(self) -> None:
        """A value the model's type refuses (longer than ServiceLocation's 127) is 9003/9007 before any write."""
        device = self.device()
        fault = self.assertRaises(CWMPFault, fired, self.spv(device, (LOCATION, "x" * 200)))
        self.assertEqual([f.faultCode for f in fault.parameterFaults], [9007])
        self.assertEqual(self.sets(), [])

    def test_allOrNothing(self) -> None:
        """
        Two attributes: the first takes, the second does not; the first is
        written back to its earlier value, and the tree's own
        ProvisioningCode is not set.
        """
        device = self.device()
        self.printer.ignored = {"printer-info"}
        fault = self.assertRaises(CWMPFault, fired, self.spv(
            device, (LOCATION, "Lab 7"), (INFO, "Front desk"), ("Device.DeviceInfo.ProvisioningCode", "P1")))
        self.assertEqual(fault.code, 9001)
        self.assertEqual([[a.value for a in s] for s in self.sets()], [["Lab 7"], ["Front desk"], ["Room 1"]])
        self.assertEqual(self.printer.attributes["printer-location"].value, "Room 1")
        values = self.gpv(device, LOCATION, "Device.DeviceInfo.ProvisioningCode")
        self.assertEqual(values, {LOCATION: "Room 1", "Device.DeviceInfo.ProvisioningCode": ""})

    def test_localWrite(self) -> None:
        """
        A write from the gateway itself (the console: ILocalWrites) takes
        the ACS's way — Set-Printer-Attributes, then the read-back — but
        what the printer took is a change: told at once where Notification
        is on, not on a later poll (the ProvisioningCode set with it is a
        Forced Inform parameter: every Inform carries it, no change told).
        """
        from proxier.datamodel.capabilities import ILocalWrites
        from proxier.datamodel.values import AttributeChange, ParameterValue

        device = self.device()
        self.assertTrue(ILocalWrites.providedBy(device.model))
        changes: list = []
        device.model.addChangeListener(lambda values, active: changes.append(([(v.name, v.value) for v in values],
                                                                              active)))
        code = "Device.DeviceInfo.ProvisioningCode"
        fired(device.model.setParameterAttributes([AttributeChange(LOCATION, True, 1)]))
        self.assertEqual(fired(device.model.setParameterValuesLocally(
            [ParameterValue(LOCATION, "Lab 7"), ParameterValue(code, "P1")])), 0)
        [[written]] = self.sets()
        self.assertEqual((written.name, written.value), ("printer-location", "Lab 7"))
        self.assertEqual(self.printer.requests[-1], ("Get-Printer-Attributes", ("printer-location",)))
        self.assertEqual(changes, [([(LOCATION, "Lab 7")], False)])
        self.assertEqual(self.gpv(device, code), {code: "P1"})
        self.clock.advance(60)
        self.assertEqual(len(changes), 1, "reported once")

    def test_localWriteAllOrNothing(self) -> None:
        """A local write the printer does not take: 9001, written back, nothing reported."""
        from proxier.datamodel.values import AttributeChange, ParameterValue

        device = self.device()
        changes: list = []
        device.model.addChangeListener(lambda values, active: changes.append(values))
        fired(device.model.setParameterAttributes([AttributeChange(LOCATION, True, 2)]))
        self.printer.ignored = {"printer-info"}
        fault = self.assertRaises(CWMPFault, fired, device.model.setParameterValuesLocally(
            [ParameterValue(LOCATION, "Lab 7"), ParameterValue(INFO, "Front desk")]))
        self.assertEqual(fault.code, 9001)
        self.assertEqual(self.printer.attributes["printer-location"].value, "Room 1")
        self.clock.advance(60)
        self.assertEqual(changes, [])

    def test_valueChange(self) -> None:
        """
        A toner level the printer lowers by itself is a value change of its
        supply row (passive Notification: the model denies active for a
        level), found by the next cheap poll.
        """
        from proxier.datamodel.values import AttributeChange

        device = self.device()
        changes: list = []
        device.model.addChangeListener(lambda values, active: changes.append(([(v.name, v.value) for v in values],
                                                                              active)))
        fired(device.model.setParameterAttributes([AttributeChange(SUPPLIES + "MarkerSupply.2." + LEVEL, True, 1)]))
        self.clock.advance(60)
        self.assertEqual(changes, [])
        self.printer.set("printer-supply", 0x30,
                         b"index=1;class=supplyThatIsConsumed;type=toner;unit=percent;maxcapacity=100;level=8;",
                         b"index=2;class=supplyThatIsConsumed;type=toner;unit=percent;maxcapacity=100;level=54;")
        self.clock.advance(60)
        self.assertEqual(changes, [([(SUPPLIES + "MarkerSupply.2." + LEVEL, "54")], False)])
        self.assertEqual(self.printer.requests[-1][1][0], "printer-state", "found by a cheap poll")

    def test_rowsFollowIndexes(self) -> None:
        """
        Supply rows follow the printer's index= through the durable map: a
        supply that goes is removed, and back it takes its number again,
        also in a new device on the same state (a restart of the proxier).
        """
        device = self.device()
        only2 = b"index=2;class=supplyThatIsConsumed;type=toner;unit=percent;maxcapacity=100;level=55;"
        self.printer.set("printer-supply", 0x30, only2)
        self.clock.advance(60)
        values = self.gpv(device, SUPPLIES)
        self.assertEqual(values[SUPPLIES + "MarkerSupplyNumberOfEntries"], "1")
        self.assertEqual(values[SUPPLIES + "MarkerSupply.2." + LEVEL], "55")
        self.printer.set("printer-supply", 0x30,
                         b"index=1;class=supplyThatIsConsumed;type=toner;unit=percent;maxcapacity=100;level=7;", only2)
        self.clock.advance(60)
        self.assertEqual(self.gpv(device, SUPPLIES + "MarkerSupply.1." + LEVEL),
                         {SUPPLIES + "MarkerSupply.1." + LEVEL: "7"})
        device.stop()
        self.printer.set("printer-supply", 0x30, only2)
        again = self.device()
        self.assertEqual(self.gpv(again, SUPPLIES + "MarkerSupply.2." + LEVEL),
                         {SUPPLIES + "MarkerSupply.2." + LEVEL: "55"})



class RealPrinterTests(unittest.TestCase):
    """
    The device against a real ippeveprinter (and a private cupsd queue in
    front of it) on 127.0.0.1, started and stopped by PID by the test
    (L{tests.peers.printers}); skipped with the reason when absent.
    """

    timeout = 120  # trial's bound on each test; every wait inside has its own

    def setUp(self) -> Any:
        self.peer = printers.startPrinter(self, location="Room 1")
        self.endpoint = Endpoint()

    @defer.inlineCallbacks
    def device(self, url: str) -> Any:
        """A device on a real client, found by a real Get-Printer-Attributes, polled twice a second."""
        from twisted.internet import reactor

        from proxier.printer.ippclient import IPPClient

        settings = PrinterSettings(printers=(url,), pollInterval=0.5, fullPollInterval=900, offlineAfterFailures=2,
                                   requestTimeout=5)
        client = IPPClient(url, reactor=reactor, timeout=settings.requestTimeout)
        found = yield client.getPrinterAttributes()
        identity = identityOf(ippsource.read(found), "000000")
        device = PrinterDevice(identity, url, client, Store.open(self.mktemp()), PollSlots(1), settings, reactor,
                               found=found)
        device.addObserver(self.endpoint)
        device.start()
        self.addCleanup(device.stop)
        return device

    @defer.inlineCallbacks
    def test_demoRowsRead(self) -> Any:
        """Every demo-table row ippeveprinter serves reads through the device's model."""
        device = yield self.device(self.peer.url)
        values = {v.name: v.value for v in (yield device.model.getParameterValues([SERVICE, "Device.DeviceInfo."]))}
        pdp = SERVICE + "PrintServiceDefaults.DefaultPrintJobTicket.PrintDocumentProcessing."
        self.assertEqual(values[LOCATION], "Room 1")
        self.assertEqual(values[SERVICE + "PrintServiceDescription.ColorSupported"], "true")
        self.assertIn(values[SERVICE + "PrintServiceStatus.State"], ("Idle", "Processing", "Stopped"))
        self.assertEqual(values[SUPPLIES + "MarkerSupply.1." + LEVEL], "8")
        self.assertEqual(values[SUPPLIES + "MarkerSupply.2." + LEVEL], "55")
        self.assertEqual(values[SIDES], "TwoSidedLongEdge")
        self.assertEqual(values[pdp + "OrientationRequested"], "Portrait")
        self.assertEqual(values[pdp + "Copies"], "1")
        self.assertEqual((values[pdp + "Resolution.CrossFeedDir"], values[pdp + "Resolution.FeedDir"]), ("600", "600"))
        trays = SERVICE + "PrintServiceConfiguration.InputTrays.InputTray."
        self.assertEqual(values[trays + "2.InputTrayDescription.InputTrayCurrentLevel"], "275")
        self.assertEqual(values["Device.DeviceInfo.SoftwareVersion"], "2.11.3")
        self.assertEqual(values["Device.DeviceInfo.ProductClass"], "ExampleCo MFP 4000 Color")

    @defer.inlineCallbacks
    def test_refusedWrite(self) -> Any:
        """
        ippeveprinter lists no settable attribute: printer-location is not
        writable here, and the ACS hears 9003 with 9008 for it.
        """
        from proxier.datamodel.values import ParameterValue

        device = yield self.device(self.peer.url)
        try:
            yield device.model.setParameterValues([ParameterValue(LOCATION, "Lab 7")])
        except CWMPFault as fault:
            self.assertEqual([(f.parameterName, f.faultCode) for f in fault.parameterFaults], [(LOCATION, 9008)])
        else:
            self.fail("a printer-location ippeveprinter cannot set was written")

    @defer.inlineCallbacks
    def test_killedOfflineRestartedBoot(self) -> Any:
        """The printer killed: offline (once); started again on its port: "1 BOOT", then online."""
        device = yield self.device(self.peer.url)
        yield deferLater(3)  # up a few seconds: its restart shows as printer-up-time going back (whole seconds)
        self.peer.stop()
        yield waitFor(lambda: not device.online, what="the printer offline")
        self.assertEqual(self.endpoint.events, ["offline"])
        self.peer.restart(self)
        yield waitFor(lambda: device.online, what="the printer online again")
        self.assertEqual(self.endpoint.events, ["offline", "1 BOOT", "online"])

    @defer.inlineCallbacks
    def test_locationThroughCupsd(self) -> Any:
        """
        Through a private cupsd queue in front of the printer,
        printer-location is writable, set, read back, and read as the new
        ServiceLocation; the queue's copies and sides defaults are set with
        CUPS-Add-Modify-Printer and read back.
        """
        from proxier.datamodel.values import ParameterValue

        device = yield self.device(printers.startQueue(self, self.peer))
        names = {i.name: i.writable for i in (yield device.model.getParameterNames(LOCATION, False))}
        self.assertEqual(names, {LOCATION: True})
        status = yield device.model.setParameterValues([ParameterValue(LOCATION, "Lab 7")])
        self.assertEqual(status, 0)
        values = yield device.model.getParameterValues([LOCATION])
        self.assertEqual([v.value for v in values], ["Lab 7"])
        copies = SERVICE + "PrintServiceDefaults.DefaultPrintJobTicket.PrintDocumentProcessing.Copies"
        status = yield device.model.setParameterValues([ParameterValue(copies, "3"),
                                                        ParameterValue(SIDES, "TwoSidedLongEdge")])
        self.assertEqual(status, 0)
        values = yield device.model.getParameterValues([copies, SIDES])
        self.assertEqual([v.value for v in values], ["3", "TwoSidedLongEdge"])


def deferLater(seconds: float) -> Any:
    from twisted.internet import reactor, task

    return task.deferLater(reactor, seconds, lambda: None)


waitFor = partial(_helpers.waitFor, timeout=30.0)
