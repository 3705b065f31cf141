"""
Tests for the Embedded Object Mechanism (TR-069 Annex J.3,
L{proxier.proxy.embeddedobjects}): the path adaptor and the synchronized
copy sans-IO on a small tree; then a real L{ProxierService} with in-memory
printers (L{tests._fakeprinter}) and C{[printer] mechanism} set, talking to
the fake ACS over loopback HTTP (every CWMP message validated against the
BBF schema): each printer a C{Device.Services.PrintService.{i}.} row and a
C{Device.ManagementServer.EmbeddedDevice.{i}.} row of the proxier's own
tree, every parameter RPC through them, VALUE CHANGE, CommandProcessed,
rows gone with the printer, and the own tree against TR-181 2.17.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer, task
from twisted.trial import unittest

from proxier.cwmp import messages as m
from proxier.datamodel.declarations import Object, Parameter, Table
from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.tree import TreeDataModel
from proxier.datamodel.types import String, UnsignedInt
from proxier.datamodel.values import AttributeChange, DeviceIdentity, ParameterValue
from proxier.proxy.embeddedobjects import (
    ERROR,
    PENDING,
    RETRYING,
    SUCCESS,
    DirectoryView,
    EmbeddedObjectTable,
    RemappedModel,
    SyncedModel,
    mechanismOf,
)
from proxier.store import Store
from tests import _e2e, tr181
from tests._e2e import answers, events, waitFor
from tests._fakeprinter import URL, FakePrinter
from tests.test_printer_plugin import PRINTER, FakePrinterProtocol

PROXIER = DeviceIdentity("proxier", "000000", "Gateway", "GW-EMBEDDED-1")


# ---- sans-IO: the adaptor and the copy ------------------------------------------------------------


class Device:
    """A device model's device: online or not, its observers."""

    def __init__(self) -> None:
        self.online = True
        self.observers: list = []

    def addObserver(self, observer: Any) -> None:
        self.observers.append(observer)

    def removeObserver(self, observer: Any) -> None:
        self.observers.remove(observer)


class FlakyTree(TreeDataModel):
    """A device tree whose SetParameterValues fails with C{fault} while it is set."""

    fault: Any = None

    def setParameterValues(self, values: Any) -> defer.Deferred:
        if self.fault is not None:
            return defer.fail(self.fault)
        return super().setParameterValues(values)


def deviceTree(store: Store) -> FlakyTree:
    root = Object("Device", Object("Services", Table(
        "Thing",
        Parameter("Name", String(16), writable=True, persist=True),
        Parameter("Count", UnsignedInt(0, 10), writable=True, persist=True),
        Table("Part", Parameter("Label", String(), writable=True, persist=True), writable=True),
    )))
    tree = FlakyTree(root, store)
    tree.addInstance("Device.Services.Thing.", key="1", values={"Name": "first", "Count": 1})
    tree.startNotifications()
    return tree


class AdaptorTests(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.device = Device()
        self.inner = deviceTree(Store.open(self.mktemp()))
        self.synced = SyncedModel(self.inner, self.device, self.clock, delays=(5.0, 10.0))
        self.table = EmbeddedObjectTable("Device.Services.Thing.")
        self.table.add(7, RemappedModel(self.synced, "Device.Services.Thing.1.", "Device.Services.Thing.7."))

    def result(self, d: defer.Deferred) -> Any:
        return self.successResultOf(d)

    def fault(self, d: defer.Deferred) -> CWMPFault:
        return self.failureResultOf(d, CWMPFault).value

    def test_names(self) -> None:
        """GetParameterNames of the table lists the row under its number; inside a row, the device's names renamed."""
        self.assertEqual([(i.name, i.writable) for i in self.result(self.table.getParameterNames(
            "Device.Services.Thing.", True))], [("Device.Services.Thing.7.", False)])
        names = [i.name for i in self.result(self.table.getParameterNames("Device.Services.Thing.", False))]
        self.assertEqual(names[:3], ["Device.Services.Thing.", "Device.Services.Thing.7.",
                                     "Device.Services.Thing.7.Name"])
        self.assertTrue(all(n.startswith("Device.Services.Thing.") for n in names))
        self.assertEqual(self.fault(self.table.getParameterNames("Device.Services.Thing.1.", False)).code, 9005)
        for number in ("\u2077", "\u0667", "+7", " 7"):  # a superscript and an Arabic-Indic 7: not row 7, no crash
            self.assertEqual(self.fault(self.table.getParameterValues([f"Device.Services.Thing.{number}.Name"])).code,
                             9005)

    def test_valuesAndAttributes(self) -> None:
        """GetParameterValues and Get/SetParameterAttributes go through the row, renamed both ways."""
        self.assertEqual(self.result(self.table.getParameterValues(["Device.Services.Thing.7.Name"])),
                         [ParameterValue("Device.Services.Thing.7.Name", "first", "xsd:string")])
        self.result(self.table.setParameterAttributes([AttributeChange("Device.Services.Thing.7.Count", True, 2)]))
        [attributes] = self.result(self.table.getParameterAttributes(["Device.Services.Thing.7.Count"]))
        self.assertEqual((attributes.name, attributes.notification), ("Device.Services.Thing.7.Count", 2))
        self.assertEqual(self.result(self.inner.getParameterAttributes(["Device.Services.Thing.1.Count"]))[0]
                         .notification, 2)

    def test_valueChangeRenamed(self) -> None:
        """A change of the device's model with Notification on reaches the table's listeners under the row's name."""
        heard: list = []
        self.table.addChangeListener(lambda values, active: heard.append((values, active)))
        self.result(self.table.setParameterAttributes([AttributeChange("Device.Services.Thing.7.Count", True, 2)]))
        self.inner.setLocal("Device.Services.Thing.1.Count", 4)
        self.assertEqual(heard, [([ParameterValue("Device.Services.Thing.7.Count", "4", "xsd:unsignedInt")], True)])

    def test_addDelete(self) -> None:
        """AddObject and DeleteObject inside a row reach the device's model; the rows themselves are not the ACS's."""
        number, status = self.result(self.table.addObject("Device.Services.Thing.7.Part."))
        self.assertEqual(status, 0)
        self.assertEqual(self.result(self.table.deleteObject(f"Device.Services.Thing.7.Part.{number}.")), 0)
        self.assertEqual(self.fault(self.table.addObject("Device.Services.Thing.")).code, 9001)
        self.assertEqual(self.fault(self.table.deleteObject("Device.Services.Thing.7.")).code, 9001)

    def test_setAccepted(self) -> None:
        """
        SetParameterValues is accepted into the copy (Status 1, CommandProcessed
        Pending, read back at once) and pushed down after the response: Success.
        """
        name = "Device.Services.Thing.7.Name"
        self.assertEqual(self.result(self.table.setParameterValues([ParameterValue(name, "second")])), 1)
        self.assertEqual(self.synced.state, PENDING)
        self.assertEqual(self.result(self.inner.getParameterValues(["Device.Services.Thing.1.Name"]))[0].value, "first")
        self.assertEqual(self.result(self.table.getParameterValues([name]))[0].value, "second")
        self.clock.advance(0)
        self.assertEqual((self.synced.state, self.synced.errorMessage), (SUCCESS, ""))
        self.assertEqual(self.inner.getLocal("Device.Services.Thing.1.Name"), "second")
        self.assertEqual(self.synced.lastSyncTime(), 0.0)

    def test_badValueAtOnce(self) -> None:
        """A value the device's model refuses is refused at once, named as the ACS named it; nothing is pending."""
        fault = self.fault(self.table.setParameterValues([ParameterValue("Device.Services.Thing.7.Count", "11",
                                                                        "xsd:unsignedInt")]))
        self.assertEqual(fault.code, 9003)
        self.assertEqual([(f.parameterName, f.faultCode) for f in fault.parameterFaults],
                         [("Device.Services.Thing.7.Count", 9007)])
        self.assertEqual(self.synced.state, SUCCESS)

    def test_offlineThenBack(self) -> None:
        """Offline: Retrying, and no attempt used; back online: pushed, Success."""
        self.device.online = False
        self.result(self.table.setParameterValues([ParameterValue("Device.Services.Thing.7.Name", "later")]))
        self.clock.advance(0)
        self.assertEqual(self.synced.state, RETRYING)
        self.clock.advance(1000)
        self.assertEqual(self.synced.state, RETRYING)
        self.device.online = True
        self.synced.deviceOnline(self.device)
        self.assertEqual(self.synced.state, SUCCESS)
        self.assertEqual(self.inner.getLocal("Device.Services.Thing.1.Name"), "later")

    def test_retriesThenError(self) -> None:
        """A device that fails the push is tried again after each delay, then Error, the value dropped from the copy."""
        self.inner.fault = CWMPFault(9001, "Request denied (busy)")
        name = "Device.Services.Thing.7.Name"
        self.result(self.table.setParameterValues([ParameterValue(name, "never")]))
        self.clock.advance(0)
        self.assertEqual(self.synced.state, RETRYING)
        self.assertIn("9001", self.synced.errorMessage)
        self.clock.advance(5)
        self.assertEqual(self.synced.state, RETRYING)
        self.clock.advance(10)
        self.assertEqual(self.synced.state, ERROR)
        self.assertIn("after 3 attempts", self.synced.errorMessage)
        self.assertEqual(self.result(self.table.getParameterValues([name]))[0].value, "first")

    def test_retryThenSuccess(self) -> None:
        """A push that fails once and then passes: Retrying, then Success."""
        self.inner.fault = CWMPFault(9002)
        self.result(self.table.setParameterValues([ParameterValue("Device.Services.Thing.7.Name", "third")]))
        self.clock.advance(0)
        self.assertEqual(self.synced.state, RETRYING)
        self.inner.fault = None
        self.clock.advance(5)
        self.assertEqual(self.synced.state, SUCCESS)

    def test_finalFault(self) -> None:
        """A fault saying the value is wrong for the device: Error at once, no retry."""
        self.inner.fault = CWMPFault(9007)
        self.result(self.table.setParameterValues([ParameterValue("Device.Services.Thing.7.Name", "x")]))
        self.clock.advance(0)
        self.assertEqual(self.synced.state, ERROR)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_keptAcrossRestarts(self) -> None:
        """What waits for an offline device is kept: a proxier started again pushes it once the device answers."""
        document = Store.open(self.mktemp()).document("pending")
        self.device.online = False
        first = SyncedModel(self.inner, self.device, self.clock, document=document)
        self.successResultOf(first.setParameterValues([ParameterValue("Device.Services.Thing.1.Name", "kept")]))
        self.clock.advance(0)
        self.assertEqual(first.state, RETRYING)
        first.stop()
        again = SyncedModel(self.inner, self.device, self.clock, document=document)
        self.assertEqual(again.state, PENDING)
        self.assertEqual(self.successResultOf(again.getParameterValues(["Device.Services.Thing.1.Name"]))[0].value,
                         "kept")
        self.device.online = True
        self.clock.advance(0)
        self.assertEqual((again.state, self.inner.getLocal("Device.Services.Thing.1.Name")), (SUCCESS, "kept"))
        self.assertEqual(document.load(), [])

    def test_stoppedWithTheTree(self) -> None:
        """
        The rows' copies stop with the service tree: a push the stop cut off
        leaves no timer (no retry on a stopped tree), its value stays held on
        disk, and the next start pushes it.
        """
        from proxier.proxy.embeddedobjects import DeviceObjects, EmbeddedObjects

        held: list = []

        class Hanging(FlakyTree):
            def setParameterValues(self, values: Any) -> defer.Deferred:
                d: defer.Deferred = defer.Deferred()
                held.append(d)
                return d.addCallback(lambda _: TreeDataModel.setParameterValues(self, values))

        class Rows:
            def addInstance(self, table: str, key: str, data: Any) -> int:
                return 1

            def removeInstance(self, table: str, key: str) -> None:
                pass

            def changed(self, path: str) -> None:
                pass

        root = Object("Device", Object("Services", Table(
            "Thing", Parameter("Name", String(16), writable=True, persist=True))))
        inner = Hanging(root, Store.open(self.mktemp()))
        inner.addInstance("Device.Services.Thing.", key="1", values={"Name": "first"})
        self.device.key = "thing-1"
        self.device.identity = DeviceIdentity("M", "000000", "P", "1")
        table = EmbeddedObjectTable("Device.Services.Thing.")
        store = Store.open(self.mktemp())
        objects = EmbeddedObjects(Rows(), {table.table: table},
                                  lambda device: DeviceObjects(table.table, "Device.Services.Thing.1.", inner),
                                  store, self.clock, delays=(10.0,))
        objects.startService()
        objects.deviceAppeared(self.device)
        synced = objects.rows["thing-1"].synced
        name = "Device.Services.Thing.1.Name"
        self.assertEqual(self.result(table.setParameterValues([ParameterValue(name, "kept")])), 1)
        self.clock.advance(0)
        self.assertEqual(len(held), 1)  # the push is on its way
        objects.stopService()
        held[0].errback(CWMPFault(9002, "Internal error (the device's actions were withdrawn)"))
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.assertEqual(store.document("pending-thing-1").load(), [[name, "kept", "xsd:string", True]])
        self.assertEqual(self.result(table.getParameterValues([name]))[0].value, "kept")
        self.device.online = False
        synced.deviceOnline(self.device)  # a device coming back to a stopped tree: nothing pushed
        self.device.online = True
        self.assertEqual((len(held), self.clock.getDelayedCalls()), (1, []))
        objects.startService()
        self.clock.advance(0)
        self.assertEqual(len(held), 2)
        held[1].callback(None)
        self.assertEqual((synced.state, inner.getLocal(name)), (SUCCESS, "kept"))
        self.assertEqual(store.document("pending-thing-1").load(), [])
        objects.stopService()
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_modelThatCannotValidate(self) -> None:
        """A device model without validation: every value is accepted, a wrong one ends as Error."""
        from zope.interface import implementer

        from proxier.interfaces import IDataModel

        @implementer(IDataModel)
        class Plain:
            def __init__(self, tree: TreeDataModel) -> None:
                self.tree = tree

            def setParameterValues(self, values: Any) -> defer.Deferred:
                return self.tree.setParameterValues(values)

        synced = SyncedModel(Plain(self.inner), self.device, self.clock)
        self.assertEqual(self.successResultOf(synced.setParameterValues([
            ParameterValue("Device.Services.Thing.1.Count", "11", "xsd:unsignedInt")])), 1)
        self.clock.advance(0)
        self.assertEqual(synced.state, ERROR)
        self.assertIn("9007", synced.errorMessage)

    def test_directoryView(self) -> None:
        """A view hands its listeners only the devices meant for it."""
        from proxier.service import DeviceDirectory

        class D:
            def __init__(self, key: str, protocol: str) -> None:
                self.key, self.proxyProtocol = key, protocol
                self.identity = DeviceIdentity("M", "000000", "P", key)
                self.host = ""

        directory = DeviceDirectory()
        view = DirectoryView(directory, lambda d: d.proxyProtocol == "A")
        heard: list = []

        class Listener:
            def deviceAppeared(self, device: Any) -> None:
                heard.append(("+", device.key))

            def deviceRemoved(self, device: Any) -> None:
                heard.append(("-", device.key))

        directory.deviceAppeared(D("1", "A"))
        view.addListener(Listener())
        directory.deviceAppeared(D("2", "B"))
        three = D("3", "A")
        directory.deviceAppeared(three)
        directory.deviceRemoved(three)
        self.assertEqual(heard, [("+", "1"), ("+", "3"), ("-", "3")])
        self.assertEqual([d.key for d in view.devices()], ["1"])


# ---- a proxier with printers ---------------------------------------------------------------------------

SERVICE = "Device.Services.PrintService.1."
LOCATION = SERVICE + "PrintServiceDescription.ServiceLocation"
ROW = "Device.ManagementServer.EmbeddedDevice.1."


class Lab(_e2e.Lab):
    """The proxier with the printer protocol, one in-memory printer, C{[printer] mechanism} as given."""

    def __init__(self, testCase: unittest.TestCase, mechanism: str) -> None:
        self.printer = FakePrinter(__import__("twisted.internet.reactor").internet.reactor)
        self.mechanism = mechanism
        super().__init__(testCase, [FakePrinterProtocol(self.printer)], PROXIER,
                         {"printer": {"printers": (URL,), "mechanism": mechanism}})

    def devices(self) -> list[DeviceIdentity]:
        return [PRINTER] if self.mechanism != "embedded" else []

    def values(self, session: Any) -> dict[str, str]:
        return {p.name: p.value for answer in answers(session) if isinstance(answer, m.GetParameterValuesResponse)
                for p in answer.parameters}


class EmbeddedPrinterTests(unittest.TestCase):
    timeout = 60

    @defer.inlineCallbacks
    def test_rows(self) -> Any:
        """
        mechanism = embedded: the printer is no Virtual CWMP Device and no
        VirtualDevice row; it is the own tree's PrintService.1 and
        EmbeddedDevice.1 (Reference, ProxyProtocol, SupportedDataModel, ...),
        GetParameterNames of Device.Services. lists it, and its values read
        through the row.
        """
        lab = yield Lab(self, "embedded").start()
        yield waitFor(lambda: len(lab.tree.directory) == 1, what="the printer")
        self.assertEqual(lab.tree.cwmp.manager.endpoints.get(PRINTER.key), None)
        session = yield lab.session([
            m.GetParameterNames("Device.Services.", True),
            m.GetParameterNames("Device.Services.PrintService.", True),
            m.GetParameterValues(("Device.ManagementServer.", "Device.Services.PrintServiceNumberOfEntries",
                                  LOCATION, "Device.DeviceInfo.SupportedDataModel.")),
        ], PROXIER)
        services, table, read = answers(session)
        self.assertEqual({p.name for p in services.parameters},
                         {"Device.Services.PrintServiceNumberOfEntries", "Device.Services.PrintService."})
        self.assertEqual([p.name for p in table.parameters], [SERVICE])
        values = {p.name: p.value for p in read.parameters}
        self.assertEqual(values["Device.ManagementServer.VirtualDeviceNumberOfEntries"], "0")
        self.assertEqual(values["Device.ManagementServer.EmbeddedDeviceNumberOfEntries"], "1")
        self.assertEqual(values["Device.Services.PrintServiceNumberOfEntries"], "1")
        self.assertEqual(values[LOCATION], "Room 1")
        self.assertEqual(values[ROW + "Reference"], "Device.Services.PrintService.1")
        self.assertEqual(values[ROW + "ProxiedDeviceID"], PRINTER.key)
        self.assertEqual(values[ROW + "ProxyProtocol"], "X_000000_IPP")
        self.assertEqual(values[ROW + "DiscoveryProtocol"], "X_000000_Static")
        self.assertEqual(values[ROW + "CommandProcessed"], "Success")
        self.assertNotEqual(values[ROW + "LastSyncTime"], "0001-01-01T00:00:00Z")
        [reference] = values[ROW + "SupportedDataModel"].split(",")
        self.assertEqual(values[reference + ".URN"], "urn:x-proxier:pwg-sm-printservice-1-0")

    @defer.inlineCallbacks
    def test_setThroughTheRow(self) -> Any:
        """
        SetParameterValues of the printer's location through the own
        endpoint: Status 1, read back from the copy, on the printer once
        pushed, CommandProcessed Success; a bad value is 9003/9007 at once;
        a read-only parameter 9008; AddObject of the printer's table is
        refused as on its Virtual CWMP Device.
        """
        lab = yield Lab(self, "embedded").start()
        sides = SERVICE + "PrintServiceDefaults.DefaultPrintJobTicket.PrintDocumentProcessing.Sides"
        session = yield lab.session([
            m.SetParameterValues((ParameterValue(LOCATION, "Lab 9"),), "pk-1"),
            m.GetParameterValues((LOCATION,)),
            m.SetParameterValues((ParameterValue(LOCATION, "x" * 300),), "pk-2"),
            m.SetParameterValues((ParameterValue(sides, "one-sided"),), "pk-3"),
            m.AddObject(SERVICE + "PrintServiceConfiguration.Markers.Marker.", ""),
        ], PROXIER)
        spv, read, bad, readOnly, add = answers(session)
        bad, readOnly = bad.fault, readOnly.fault
        self.assertEqual(spv, m.SetParameterValuesResponse(1))
        self.assertEqual([p.value for p in read.parameters], ["Lab 9"])
        self.assertEqual((bad.code, [(f.parameterName, f.faultCode) for f in bad.parameterFaults]),
                         (9003, [(LOCATION, 9007)]))
        self.assertEqual((readOnly.code, [(f.parameterName, f.faultCode) for f in readOnly.parameterFaults]),
                         (9003, [(sides, 9008)]))
        self.assertIsInstance(add, m.SOAPFault)
        yield waitFor(lambda: lab.printer.attributes["printer-location"].value == "Lab 9", what="the push")
        [synced] = [row.synced for row in lab.tree.ownEndpoint.model.embeddedObjects.rows.values()]
        self.assertEqual(synced.state, SUCCESS)

    @defer.inlineCallbacks
    def test_valueChange(self) -> Any:
        """
        Active notification set on the printer's location through its row:
        the printer changing it is "4 VALUE CHANGE" of the proxier's own
        endpoint, with the row's name.
        """
        lab = yield Lab(self, "embedded").start()
        yield lab.session([m.SetParameterAttributes((AttributeChange(LOCATION, True, 2),))], PROXIER)
        from tests._fakeprinter import TEXT, INTEGER

        lab.printer.set("printer-location", TEXT, "Moved")
        lab.printer.set("printer-config-change-time", INTEGER, 9)
        [device] = lab.tree.directory.devices()
        device.poller.pollNow()
        yield waitFor(lab.ended(PROXIER, 3), what="the VALUE CHANGE session")
        session = lab.sessions(PROXIER)[2]
        self.assertIn("4 VALUE CHANGE", events(session))
        self.assertIn((LOCATION, "Moved"), [(p.name, p.value) for p in session.inform.parameters])

    @defer.inlineCallbacks
    def test_offlineRetryingThenSuccess(self) -> Any:
        """The printer silent: a value set waits (Retrying); the printer back: pushed, Success."""
        lab = yield Lab(self, "embedded").start()
        [device] = lab.tree.directory.devices()
        lab.printer.up = False
        while device.online:
            yield device.poller.pollNow()
        yield lab.session([m.SetParameterValues((ParameterValue(LOCATION, "Later"),), "pk")], PROXIER)
        session = yield lab.session([m.GetParameterValues((ROW + "CommandProcessed", LOCATION))], PROXIER)
        self.assertEqual(lab.values(session), {ROW + "CommandProcessed": "Retrying", LOCATION: "Later"})
        lab.printer.up = True
        yield device.poller.pollNow()
        yield waitFor(lambda: lab.printer.attributes["printer-location"].value == "Later", what="the push")
        session = yield lab.session([m.GetParameterValues((ROW + "CommandProcessed", ROW + "CommandProcessingErrMsg"))],
                                    PROXIER)
        self.assertEqual(lab.values(session),
                         {ROW + "CommandProcessed": "Success", ROW + "CommandProcessingErrMsg": ""})

    @defer.inlineCallbacks
    def test_removed(self) -> Any:
        """The printer no longer proxied: its rows go; back, it has its old numbers again."""
        lab = yield Lab(self, "embedded").start()
        [device] = lab.tree.directory.devices()
        lab.tree.directory.deviceRemoved(device)
        own = lab.tree.ownEndpoint.model
        values = {v.name: v.value for v in self.successResultOf(own.getParameterValues([
            "Device.ManagementServer.EmbeddedDeviceNumberOfEntries", "Device.Services.PrintServiceNumberOfEntries"]))}
        self.assertEqual(set(values.values()), {"0"})
        self.assertEqual(self.failureResultOf(own.getParameterValues([LOCATION]), CWMPFault).value.code, 9005)
        lab.tree.directory.deviceAppeared(device)
        self.assertEqual(self.successResultOf(own.getParameterValues([ROW + "Reference"]))[0].value,
                         "Device.Services.PrintService.1")

    @defer.inlineCallbacks
    def test_oneRequestBothTrees(self) -> Any:
        """
        One SetParameterValues with a parameter of the proxier's own and one
        of the printer's row: both taken, or neither when one is wrong;
        GetRPCMethods lists the proxier's own RPCs as without embedded objects.
        """
        lab = yield Lab(self, "embedded").start()
        code = "Device.DeviceInfo.ProvisioningCode"
        session = yield lab.session([
            m.SetParameterValues((ParameterValue(code, "PC-1"), ParameterValue(LOCATION, "x" * 300)), "pk-1"),
            m.GetParameterValues((code,)),
            m.SetParameterValues((ParameterValue(code, "PC-2"), ParameterValue(LOCATION, "Both")), "pk-2"),
            m.GetParameterValues((code, LOCATION)),
            m.GetRPCMethods(),
        ], PROXIER)
        refused, before, spv, after, methods = answers(session)
        self.assertEqual(refused.fault.code, 9003)
        self.assertEqual([p.value for p in before.parameters], [""])
        self.assertEqual(spv, m.SetParameterValuesResponse(1))
        self.assertEqual([p.value for p in after.parameters], ["PC-2", "Both"])
        self.assertEqual(set(methods.methods), {"GetRPCMethods", "ScheduleInform", "GetParameterNames",
                                                "GetParameterValues", "SetParameterValues", "GetParameterAttributes",
                                                "SetParameterAttributes", "AddObject", "DeleteObject"})

    @defer.inlineCallbacks
    def test_rowsNotified(self) -> Any:
        """The rows' counts with Notification on: the printer no longer proxied is "4 VALUE CHANGE" of both."""
        lab = yield Lab(self, "embedded").start()
        counts = ("Device.ManagementServer.EmbeddedDeviceNumberOfEntries",
                  "Device.Services.PrintServiceNumberOfEntries")
        yield lab.session([m.SetParameterAttributes(tuple(AttributeChange(c, True, 2) for c in counts))], PROXIER)
        [device] = lab.tree.directory.devices()
        lab.tree.directory.deviceRemoved(device)
        yield waitFor(lab.ended(PROXIER, 3), what="the VALUE CHANGE session")
        session = lab.sessions(PROXIER)[2]
        self.assertIn("4 VALUE CHANGE", events(session))
        informed = {p.name: p.value for p in session.inform.parameters}
        self.assertEqual([informed.get(c) for c in counts], ["0", "0"])

    @defer.inlineCallbacks
    def test_numbersKept(self) -> Any:
        """
        A restart of the proxier keeps the printer's rows' numbers; another
        printer never gets a number the first had, even while it is away.
        """
        lab = Lab(self, "embedded")
        first = lab.startTree()
        yield waitFor(lab.ended(PROXIER, 1), what="the BOOTSTRAP session")
        [device] = first.directory.devices()
        first.directory.deviceRemoved(device)
        yield first.stopService()
        second = lab.startTree()
        yield waitFor(lambda: len(second.directory) == 1, what="the printer again")
        own = second.ownEndpoint.model
        self.assertEqual([v.value for v in self.successResultOf(own.getParameterValues([ROW + "Reference"]))],
                         ["Device.Services.PrintService.1"])
        objects = own.embeddedObjects
        [device] = second.directory.devices()
        second.directory.deviceRemoved(device)

        class Other:
            key = "other-printer"
            identity = DeviceIdentity("ExampleCo", "000000", "Other", "O-1")
            proxyProtocol = device.proxyProtocol
            discoveryProtocol = device.discoveryProtocol
            host = "127.0.0.1"
            online = True

            def embeddedObjects(self) -> Any:
                return device.embeddedObjects()

            def addObserver(self, observer: Any) -> None:
                pass

            def removeObserver(self, observer: Any) -> None:
                pass

        objects.adapt = lambda d: d.embeddedObjects()
        objects.deviceAppeared(Other())
        self.assertEqual(objects.rows["other-printer"].reference, "Device.Services.PrintService.2.")
        self.assertEqual(objects.rows["other-printer"].number, 2)

    @defer.inlineCallbacks
    def test_both(self) -> Any:
        """mechanism = both: the printer is a Virtual CWMP Device and an embedded row, with attributes each its own."""
        lab = yield Lab(self, "both").start()
        yield lab.session([m.SetParameterAttributes((AttributeChange(LOCATION, True, 2),))], PROXIER)
        session = yield lab.session([m.GetParameterAttributes((LOCATION,))], PRINTER)
        [attributes] = answers(session)
        self.assertEqual(attributes.parameters[0].notification, 0)
        session = yield lab.session([m.GetParameterValues(("Device.ManagementServer.VirtualDeviceNumberOfEntries",
                                                           "Device.ManagementServer.EmbeddedDeviceNumberOfEntries"))],
                                    PROXIER)
        self.assertEqual(set(lab.values(session).values()), {"1"})

    @defer.inlineCallbacks
    def test_virtual(self) -> Any:
        """mechanism = virtual (the default): no embedded table, no EmbeddedDevice table, as before."""
        lab = yield Lab(self, "virtual").start()
        session = yield lab.session([m.GetParameterNames("Device.ManagementServer.", True)], PROXIER)
        names = {p.name for p in answers(session)[0].parameters}
        self.assertIn("Device.ManagementServer.VirtualDevice.", names)
        self.assertNotIn("Device.ManagementServer.EmbeddedDevice.", names)


class MechanismTests(unittest.TestCase):
    def test_perProtocol(self) -> None:
        """Each protocol's section says its mechanism, for its every ProxyProtocol value; virtual without the key."""
        from proxier.config import load
        from proxier.plugins.printer import printer
        from proxier.plugins.upnpdm import upnpdm

        config = load(None, [printer.configSection, upnpdm.configSection]).replace("printer", mechanism="both")
        self.assertEqual(mechanismOf([printer, upnpdm], config),
                         {"X_000000_IPP": "both", "X_000000_SNMP": "both", "UPnP-DM": "virtual"})


class OwnTreeTR181Tests(tr181.ConformanceChecks, unittest.TestCase):
    """The own tree with an EmbeddedDevice row: every standard name, type and access TR-181 2.17's."""

    timeout = 60

    def setUp(self) -> None:
        if not tr181.available():
            raise unittest.SkipTest(f"{tr181.TR181_FULL} is not here")
        self.standard = tr181.load()

    def walk(self, model: Any) -> list:
        # the printer's own objects follow the PWG's model, not TR-181 (PRINTERS.md §3)
        return [i for i in self.successResultOf(model.getParameterNames("", False))
                if not i.name.startswith("Device.Services.")]

    @defer.inlineCallbacks
    def test_ownTree(self) -> Any:
        lab = yield Lab(self, "embedded").start()
        # the printer's Protocol values are TR-106 §3.3 vendor values
        self.checkEmbeddedDevice(lab.tree.ownEndpoint.model.tree, ROW, vendor=lambda name: name.endswith("Protocol"))


class MixedTests(unittest.TestCase):
    """UPnP DM simulators as Virtual CWMP Devices and a printer as embedded objects, on one proxier."""

    timeout = 90

    @defer.inlineCallbacks
    def test_eachItsWay(self) -> Any:
        """
        The UPnP DM device bootstraps as a Virtual CWMP Device and is the one
        VirtualDevice row; the printer is the one EmbeddedDevice row and has
        no endpoint; neither is in the other's table.
        """
        from twisted.internet import reactor

        from proxier.plugins.upnpdm import upnpdm
        from proxier.service import ProxierService
        from tests import test_upnpdm_e2e

        fake = FakePrinter(reactor)

        class MixedLab(test_upnpdm_e2e.Lab):
            def startTree(self) -> ProxierService:
                sections = {"device": {"serial_number": PROXIER.serialNumber},
                            "lan": {"ssdp_mode": "unicast-loopback", "ssdp_port": 0},
                            "upnp": {"online_probe_interval": 5},
                            "printer": {"printers": (URL,), "mechanism": "embedded"}}
                self.tree = _e2e.startProxier(self.testCase, [upnpdm, FakePrinterProtocol(fake)], self.acsURL,
                                              self.state, sections)
                return self.tree

        lab = yield MixedLab(self).start()
        yield waitFor(lambda: len(lab.tree.directory) == 2, what="both devices")
        printer = [d for d in lab.tree.directory.devices() if d.proxyProtocol == "X_000000_IPP"][0]
        self.assertNotIn(printer.key, lab.tree.cwmp.manager.endpoints)
        own = lab.tree.ownEndpoint.model
        values = {v.name: v.value for v in self.successResultOf(own.getParameterValues([
            "Device.ManagementServer.VirtualDevice.", "Device.ManagementServer.EmbeddedDevice.",
            "Device.ManagementServer.VirtualDeviceNumberOfEntries",
            "Device.ManagementServer.EmbeddedDeviceNumberOfEntries"]))}
        self.assertEqual(values["Device.ManagementServer.VirtualDeviceNumberOfEntries"], "1")
        self.assertEqual(values["Device.ManagementServer.EmbeddedDeviceNumberOfEntries"], "1")
        self.assertEqual(values["Device.ManagementServer.VirtualDevice.1.ProxyProtocol"], "UPnP-DM")
        self.assertEqual(values[ROW + "ProxyProtocol"], "X_000000_IPP")
        self.assertEqual(values[ROW + "ProxiedDeviceID"], printer.key)
