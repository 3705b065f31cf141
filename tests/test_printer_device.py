"""
Tests for L{proxier.printer.device} and L{proxier.printer.proxy}: one IPP
printer as one Virtual CWMP Device — first against an in-memory printer
(L{tests._fakeprinter}) driven by L{task.Clock}, then against the real
C{ippeveprinter} on 127.0.0.1 when it is installed.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import task
from twisted.trial import unittest
from zope.interface import implementer

from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.values import DeviceIdentity
from proxier.interfaces import IDataModel, IDeviceObserver
from proxier.printer.device import PrinterDevice
from proxier.printer.poller import PollSlots
from proxier.printer.proxy import identityOf
from proxier.printer.settings import PrinterSettings
from proxier.store import Store
from tests._fakeprinter import INTEGER, TEXT, URL, FakeClient, FakePrinter, attribute, mfp4000

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

    def valuesChanged(self, device: Any, values: Any, active: bool) -> None:
        self.events.append("4 VALUE CHANGE")

    def diagnosticsComplete(self, device: Any) -> None:
        self.events.append("8 DIAGNOSTICS COMPLETE")

    def transferComplete(self, device: Any, result: Any) -> None:
        self.events.append("7 TRANSFER COMPLETE")

    def autonomousTransferComplete(self, device: Any, result: Any) -> None:
        self.events.append("10 AUTONOMOUS TRANSFER COMPLETE")


def result(d: Any) -> Any:
    """The result of a Deferred that has fired (a Failure's exception is raised)."""
    out: list = []
    d.addBoth(out.append)
    assert out, "the Deferred has not fired"
    if hasattr(out[0], "raiseException"):
        out[0].raiseException()
    return out[0]


class IdentityTests(unittest.TestCase):
    def test_order(self) -> None:
        """
        PRINTERS.md §4: the serial number from printer-serial-number, else
        the device ID's SN, else printer-uuid; the manufacturer from the
        device ID's MFG; the product class from printer-make-and-model.
        """
        attributes = {a.name: a for a in mfp4000()}
        group = _Group(attributes.values())
        self.assertEqual(identityOf(group, "000000"), IDENTITY)
        withSerial = _Group(list(attributes.values()) + [attribute("printer-serial-number", TEXT, "S-1")])
        self.assertEqual(identityOf(withSerial, "ABCDEF").serialNumber, "S-1")
        self.assertEqual(identityOf(withSerial, "ABCDEF").oui, "ABCDEF")
        noId = _Group(a for a in attributes.values() if a.name != "printer-device-id")
        self.assertEqual(identityOf(noId, "000000"),
                         DeviceIdentity("ExampleCo", "000000", "ExampleCo MFP 4000 Color",
                                        "7d1c7a5e-0000-4000-8000-000000004000"))
        nothing = _Group(a for a in attributes.values() if a.name not in ("printer-device-id", "printer-uuid"))
        self.assertIsNone(identityOf(nothing, "000000"))


class _Group:
    def __init__(self, attributes: Any) -> None:
        self.byName = {a.name: a for a in attributes}

    def get(self, name: str, default: Any = None) -> Any:
        a = self.byName.get(name)
        return a.value if a is not None else default


class DeviceTests(unittest.TestCase):
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
                               self.clock, found=group, identify=lambda g: identityOf(g, "000000"),
                               replaced=lambda d, g: self.replaced.append(d), random=lambda: 0.0)
        device.addObserver(self.endpoint)
        device.start()
        self.addCleanup(device.stop)
        return device

    def gpv(self, device: PrinterDevice, *names: str) -> dict[str, str]:
        model = device.model
        return {v.name: v.value for v in result(model.getParameterValues(list(names)))}

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
        self.assertEqual(self.printer.requests[0], ("Get-Printer-Attributes", ("all",)))

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
        result(device.model.reboot("key"))
        self.assertIn(("Restart", None), self.printer.requests)
        self.clock.advance(0)
        self.assertEqual(self.endpoint.events, ["1 BOOT"])

    def test_rebootNotOffered(self) -> None:
        """Without Restart-Printer or Restart-System, Reboot is not offered and answers 9000."""
        self.printer.set("operations-supported", 0x23, 0x000B)
        device = self.device()
        self.assertNotIn("Reboot", device.model.supportedMethods())
        fault = self.assertRaises(CWMPFault, result, device.model.reboot("key"))
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

    def test_adapter(self) -> None:
        """The device's model is an IDataModel."""
        self.assertTrue(IDataModel.providedBy(self.device().model))
