# -*- test-case-name: tests.test_printer_sources -*-
"""
Tests for L{proxier.printer.ippsource}: the demo-table rows read from
Get-Printer-Attributes answers recorded from the real peers (the MFP 4000
ippeveprinter and a private cupsd queue in front of it; the bytes under
C{tests/fixtures/ipp/}), odd values left out with a reason, the identity,
the write side, a tree built with every served path bound, and the same
against the live peers when their binaries exist.

The fixtures were recorded once with C{tests.peers.printers} (ippeveprinter
with C{ippeveprinter-mfp4000.conf}, then C{lpadmin -m everywhere} in a
private cupsd): a Get-Printer-Attributes of C{all}, the response's bytes.
"""

from __future__ import annotations

import datetime
import os
from typing import Any, Callable, Iterable

from twisted.internet import defer
from twisted.trial import unittest

from proxier.datamodel.tree import TreeDataModel
from proxier.printer import ipp, model
from proxier.printer import ippsource as S
from proxier.printer.ipp import Attribute, AttributeGroup, Collection, Resolution, TextWithLanguage, Value
from proxier.printer.ippclient import IPPClient
from tests.peers import printers

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "ipp")
PS = "Device.Services.PrintService.1."
LEVEL = "MarkerSupplyDescription.MarkerSupplyCurrentLevel"


def recorded(name: str) -> AttributeGroup:
    """The printer group of a recorded Get-Printer-Attributes response."""
    with open(os.path.join(FIXTURES, name), "rb") as f:
        response = ipp.decode(f.read())
    assert response.code == 0
    group = response.group(0x04)
    assert group is not None
    return group


def ippeveprinter() -> AttributeGroup:
    return recorded("ippeveprinter-mfp4000-attributes.ipp")


def cupsQueue() -> AttributeGroup:
    return recorded("cupsd-queue-attributes.ipp")


def printer(*attributes: tuple[str, int, Any]) -> AttributeGroup:
    """A printer group of C{(name, tag, value or list of values)}."""
    return AttributeGroup(0x04, [
        Attribute(name, tuple(Value(tag, v) for v in (value if isinstance(value, list) else [value])))
        for name, tag, value in attributes
    ])


def demoRows(readings: S.Readings) -> dict:
    """The demo table's IPP rows, as the tests check them."""
    v = readings.values
    return {
        "ServiceInfo": v.get(S.DESCRIPTION + "ServiceInfo"),
        "ServiceLocation": v.get(S.DESCRIPTION + "ServiceLocation"),
        "ColorSupported": v.get(S.DESCRIPTION + "ColorSupported"),
        "State": v.get(S.STATUS + "State"),
        "StateReason": v.get(S.STATE_REASONS),
        "OrientationRequested": v.get(S.PDP + "OrientationRequested"),
        "Sides": v.get(S.PDP + "Sides"),
        "Resolution": tuple(v.get(S.RESOLUTION + f) for f in ("CrossFeedDir", "FeedDir", "Units")),
        "Copies": v.get(S.PDP + "Copies"),
        "Impressions": (v.get(S.STATUS + "ImpressionsCompleted"),
                        v.get(S.STATUS + "PrintServiceCounters.WorkTotals.Impressions")),
    }


class RecordedTests(unittest.TestCase):
    """The recorded answers of the real peers."""

    def test_ippeveprinterRows(self) -> None:
        """Every IPP-served demo row of the MFP 4000, converted to the SM's values."""
        readings = S.read(ippeveprinter())
        self.assertEqual(readings.problems, [])
        self.assertEqual(demoRows(readings), {
            "ServiceInfo": "MFP4000",
            "ServiceLocation": "Room 1",
            "ColorSupported": True,
            "State": "Idle",
            "StateReason": ("None",),
            "OrientationRequested": "Portrait",
            "Sides": "TwoSidedLongEdge",
            "Resolution": (600, 600, "Dpi"),
            "Copies": 1,
            "Impressions": (123456, 123456),
        })

    def test_ippeveprinterSupplies(self) -> None:
        """printer-supply rows by (marker, index=), with the description as Info and the MIB labels as SM values."""
        readings = S.read(ippeveprinter())
        self.assertEqual(readings.rows[S.MARKER], {(1,): {"MarkerStatus.Id": 1}})
        supplies = readings.rows[S.SUPPLY]
        self.assertEqual(sorted(supplies), [(1, 1), (1, 2)])
        self.assertEqual(supplies[(1, 1)], {
            "MarkerSupplyStatus.Id": 1,
            LEVEL: 8,
            "MarkerSupplyDescription.MarkerSupplyCurrentLevelBasis": "Actual",
            "MarkerSupplyDescription.MarkerSupplyMaxCapacity": 100,
            "MarkerSupplyDescription.MarkerSupplyMaxCapacityBasis": "Actual",
            "MarkerSupplyStatus.MarkerSupplyType": "Toner",
            "MarkerSupplyStatus.MarkerSupplyClass": "SupplyThatIsConsumed",
            "MarkerSupplyStatus.MarkerSupplyCapacityUnit": "Percent",
            "MarkerSupplyStatus.MarkerSupplyInfo": "Black Toner Cartridge EX-K",
        })
        self.assertEqual(supplies[(1, 2)][LEVEL], 55)

    def test_ippeveprinterTrays(self) -> None:
        """Input trays by position with their SubunitStates; level -2 is Basis Unknown, remaining -3 NotEmpty."""
        readings = S.read(ippeveprinter())
        trays = readings.rows[S.INPUT_TRAY]
        self.assertEqual(sorted(trays), [(1,), (2,)])
        self.assertEqual(trays[(1,)]["InputTrayDescription.InputTrayCurrentLevel"], 0)
        self.assertEqual(trays[(1,)]["InputTrayDescription.InputTrayCurrentLevelBasis"], "Unknown")
        self.assertEqual(trays[(2,)]["InputTrayDescription.InputTrayCurrentLevel"], 275)
        self.assertEqual(trays[(2,)]["InputTrayStatus.InputTrayType"], "SheetFeedAutoRemovableTray")
        self.assertEqual(trays[(2,)]["InputTrayStatus.SubunitStates.SubunitState"], ("AvailableAndIdle",))
        out = readings.rows[S.OUTPUT_TRAY][(1,)]
        self.assertEqual(out["OutputTrayDescription.OutputTrayRemainingCapacityBasis"], "NotEmpty")
        self.assertEqual(out["OutputTrayStatus.OutputTrayType"], "UnremovableBin")

    def test_impressionsNeverSheets(self) -> None:
        """The MFP 4000 reports impressions only: no MediaUsed row is made from them."""
        self.assertNotIn(S.MEDIA_USED, S.read(ippeveprinter()).rows)
        readings = S.read(printer(("printer-impressions-completed", 0x21, 10), ("printer-media-sheets-completed", 0x21, 6)))
        self.assertEqual(readings.rows[S.MEDIA_USED], {(1,): {"MediaUsedTotalSheets": 6}})
        self.assertEqual(readings.values[S.STATUS + "ImpressionsCompleted"], 10)

    def test_ippeveprinterIdentity(self) -> None:
        """Without a serial number or device ID, the serial is the printer-uuid; the rest from make-and-model and firmware."""
        self.assertEqual(S.read(ippeveprinter()).identity, S.Identity(
            manufacturer="ExampleCo", modelName="ExampleCo MFP 4000 Color", productClass="ExampleCo MFP 4000 Color",
            serialNumber="c3705b61-ca3b-3972-67b0-4a073ba10c82", softwareVersion="2.11.3", upTime=0))

    def test_cupsQueue(self) -> None:
        """A cupsd queue: no-value defaults are left absent, no supplies, its settable attributes."""
        group = cupsQueue()
        readings = S.read(group)
        self.assertEqual(readings.problems, [])
        self.assertNotIn(S.PDP + "OrientationRequested", readings.values)  # no-value
        self.assertEqual(readings.values[S.DESCRIPTION + "ServiceInfo"], "TestQ")
        self.assertEqual(readings.values[S.STATUS + "State"], "Idle")
        self.assertNotIn(S.SUPPLY, readings.rows)
        self.assertEqual(S.settablePaths(group), {S.DESCRIPTION + "ServiceLocation", S.DESCRIPTION + "ServiceInfo"})
        self.assertEqual(S.settablePaths(ippeveprinter()), frozenset())  # "none"


class MoreInfoTests(unittest.TestCase):
    """C{MoreInfoUri}, the EWS address (PRINTERS.md §9): printer-more-info, else the discovery record's adminurl."""

    def test_recorded(self) -> None:
        """Both real peers tell their web pages' address in printer-more-info."""
        self.assertEqual(S.read(ippeveprinter()).values[S.MORE_INFO], "https://127.0.0.1:47935/")
        self.assertEqual(S.read(cupsQueue()).values[S.MORE_INFO], "http://127.0.0.1:55111/printers/TestQ")

    def test_adminURL(self) -> None:
        """The DNS-SD adminurl fills MoreInfoUri only where the printer tells no printer-more-info."""
        self.assertEqual(S.read(ippeveprinter(), adminURL="http://192.0.2.7/admin").values[S.MORE_INFO],
                         "https://127.0.0.1:47935/")
        self.assertEqual(S.read(printer(), adminURL="http://192.0.2.7/admin").values[S.MORE_INFO],
                         "http://192.0.2.7/admin")
        self.assertNotIn(S.MORE_INFO, S.read(printer()).values)
        outOfBand = AttributeGroup(0x04, [Attribute("printer-more-info", (Value(0x13, None),))])  # unknown
        self.assertEqual(S.read(outOfBand, adminURL="http://192.0.2.7/").values[S.MORE_INFO], "http://192.0.2.7/")


class ValueTests(unittest.TestCase):
    """Conversions and what is left out."""

    def test_contact(self) -> None:
        """printer-contact-col: its vCard text, else a vCard of its name and URI."""
        vcard = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ops\r\nEND:VCARD\r\n"
        contact = Collection([Attribute("contact-name", (Value(0x42, "Ops"),)),
                              Attribute("contact-uri", (Value(0x45, "mailto:ops@example.com"),)),
                              Attribute("contact-vcard", (Value(0x41, vcard),))])
        readings = S.read(printer(("printer-contact-col", 0x34, contact)))
        self.assertEqual(readings.values[S.DESCRIPTION + "OwnerVCard"], vcard)
        contact = Collection([Attribute("contact-name", (Value(0x36, TextWithLanguage("en", "Ops")),)),
                              Attribute("contact-uri", (Value(0x45, "mailto:ops@example.com"),))])
        readings = S.read(printer(("printer-contact-col", 0x34, contact)))
        self.assertEqual(readings.values[S.DESCRIPTION + "OwnerVCard"],
                         "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ops\r\nURL:mailto:ops@example.com\r\nEND:VCARD\r\n")
        readings = S.read(printer(("printer-contact-col", 0x34, Collection())))
        self.assertNotIn(S.DESCRIPTION + "OwnerVCard", readings.values)
        self.assertIn("no contact", readings.problems[0])

    def test_stateReasons(self) -> None:
        """Suffixes dropped, duplicates merged, keywords with no SM value left out and named."""
        readings = S.read(printer(("printer-state", 0x23, 5), ("printer-state-reasons", 0x44,
                                  ["media-empty-error", "media-empty-warning", "toner-low-report", "x-vendor-thing", "Bad"])))
        self.assertEqual(readings.values[S.STATUS + "State"], "Stopped")
        self.assertEqual(readings.values[S.STATE_REASONS], ("MediaEmpty", "TonerLow"))
        self.assertEqual(len(readings.problems), 2)

    def test_oddValuesLeftOut(self) -> None:
        """Values with no mapping or that break the document's facets are left out, each with a reason."""
        readings = S.read(printer(
            ("printer-state", 0x23, 9),
            ("orientation-requested-default", 0x23, 2),
            ("printer-location", 0x41, "x" * 128),  # SM maxLength 127
            ("sides-default", 0x44, "two-sided-sideways"),  # not a SidesValues value
            ("copies-default", 0x44, "one"),
            ("printer-resolution-default", 0x32, Resolution(600, 0, 3)),  # FeedDir >= 1
            ("printer-config-change-date-time", 0x31, b"\0" * 11),
            ("color-supported", 0x21, 1),
        ))
        for path in (S.STATUS + "State", S.PDP + "OrientationRequested", S.DESCRIPTION + "ServiceLocation",
                     S.PDP + "Sides", S.PDP + "Copies", S.RESOLUTION + "CrossFeedDir",
                     S.DESCRIPTION + "ServiceConfigChangeDateTime", S.DESCRIPTION + "ColorSupported"):
            self.assertNotIn(path, readings.values)
        self.assertEqual(len(readings.problems), 8, readings.problems)

    def test_dateTime(self) -> None:
        """IPP dateTime becomes an aware datetime."""
        readings = S.read(printer(("printer-current-time", 0x31, bytes([7, 234, 1, 2, 3, 4, 5, 0, 43, 1, 0]))))
        self.assertEqual(readings.values[S.STATUS + "CurrentTime"],
                         datetime.datetime(2026, 1, 2, 2, 4, 5, tzinfo=datetime.timezone.utc))

    def test_badRows(self) -> None:
        """A malformed supply or tray row and a repeated index are left out; the good ones stay."""
        readings = S.read(printer(
            ("printer-supply", 0x30, [b"index=1;type=toner;level=5", b"index=2;level=-7", b"index=1;type=ink", b"\xff"]),
            ("printer-input-tray", 0x30, [b"type=sheetFeedManual;status=7", b"type=other;status=9"]),
            ("printer-output-tray", 0x30, [b"noequals"]),
        ))
        self.assertEqual(list(readings.rows[S.SUPPLY]), [(1, 1)])
        self.assertEqual(list(readings.rows[S.INPUT_TRAY]), [(2,)])
        self.assertEqual(readings.rows[S.INPUT_TRAY][(2,)]["InputTrayStatus.SubunitStates.SubunitState"],
                         ("UnavailableAndOnRequest", "WarningAlerts"))
        self.assertNotIn(S.OUTPUT_TRAY, readings.rows)
        self.assertEqual(len(readings.problems), 5, readings.problems)

    def test_markerLevels(self) -> None:
        """Without printer-supply, CUPS's marker-levels make percent supplies, -1/-2/-3 as Basis."""
        readings = S.read(printer(("marker-levels", 0x21, [40, -3]), ("marker-types", 0x44, ["toner", "waste-toner"]),
                                  ("marker-names", 0x42, ["Black", "Waste"])))
        supplies = readings.rows[S.SUPPLY]
        self.assertEqual(supplies[(1, 1)][LEVEL], 40)
        self.assertEqual(supplies[(1, 1)]["MarkerSupplyStatus.MarkerSupplyInfo"], "Black")
        self.assertEqual(supplies[(1, 2)]["MarkerSupplyStatus.MarkerSupplyType"], "WasteToner")
        self.assertEqual((supplies[(1, 2)][LEVEL], supplies[(1, 2)]["MarkerSupplyDescription.MarkerSupplyCurrentLevelBasis"]),
                         (0, "NotEmpty"))
        readings = S.read(printer(("marker-levels", 0x21, [-9])))
        self.assertNotIn(S.SUPPLY, readings.rows)
        self.assertEqual(len(readings.problems), 1)

    def test_identityOrder(self) -> None:
        """Serial: printer-serial-number, then the device ID's SN:, then the uuid; manufacturer from MFG:."""
        uuid = ("printer-uuid", 0x45, "urn:uuid:00000000-0000-0000-0000-000000000001")
        deviceId = ("printer-device-id", 0x41, "MFG:Acme;MDL:Laser 9;SN:DEV123;")
        self.assertEqual(S.read(printer(uuid)).identity.serialNumber, "00000000-0000-0000-0000-000000000001")
        identity = S.read(printer(uuid, deviceId)).identity
        self.assertEqual((identity.serialNumber, identity.manufacturer, identity.modelName), ("DEV123", "Acme", "Laser 9"))
        identity = S.read(printer(uuid, deviceId, ("printer-serial-number", 0x41, "SER9"))).identity
        self.assertEqual(identity.serialNumber, "SER9")
        identity = S.read(printer(("printer-make-and-model", 0x41, "M" * 80))).identity
        self.assertEqual(len(identity.productClass), 64)
        self.assertEqual(S.read(printer()).identity, S.Identity("", "", "", "", "", None))

    def test_deviceId(self) -> None:
        """IEEE 1284 pairs, keys upper-cased, first wins, junk skipped."""
        self.assertEqual(S.deviceId("mfg:A; MDL : B ;junk;;MFG:C"), {"MFG": "A", "MDL": "B"})


class WriteTests(unittest.TestCase):
    """The write side as data."""

    def test_everyWriteIsWritableInTheModel(self) -> None:
        """Each write path is a readWrite parameter of the document."""
        for path in S.WRITES:
            self.assertTrue(model.document().parameters[path].writable, path)

    def test_encode(self) -> None:
        """Each path's attribute, tag and value."""
        current = S.read(ippeveprinter()).values
        cases = {
            S.DESCRIPTION + "ServiceLocation": ("printer-location", Value(0x41, "Lab 7"), "Lab 7"),
            S.DESCRIPTION + "ServiceInfo": ("printer-info", Value(0x41, "Front desk"), "Front desk"),
            S.PDP + "OrientationRequested": ("orientation-requested-default", Value(0x23, 4), "Landscape"),
            S.PDP + "Sides": ("sides-default", Value(0x44, "two-sided-short-edge"), "TwoSidedShortEdge"),
            S.PDP + "Copies": ("copies-default", Value(0x21, 3), 3),
            S.RESOLUTION + "Units": ("printer-resolution-default", Value(0x32, Resolution(600, 600, 4)), "Dpcm"),
        }
        for path, (attribute, value, modelValue) in cases.items():
            [encoded] = S.encodeWrites({path: modelValue}, current)
            self.assertEqual(encoded, Attribute(attribute, (value,)))
            ipp.encode(ipp.request(0x13, 1, [], [AttributeGroup(0x04, [encoded])]))  # encodable

    def test_resolutionTogether(self) -> None:
        """The three Resolution fields make one value; unchanged fields keep their current value."""
        current = S.read(ippeveprinter()).values
        encoded = S.encodeWrites({S.RESOLUTION + "CrossFeedDir": 1200, S.RESOLUTION + "FeedDir": 1200,
                                  S.PDP + "Copies": 2}, current)
        self.assertEqual(encoded, [Attribute("printer-resolution-default", (Value(0x32, Resolution(1200, 1200, 3)),)),
                                   Attribute("copies-default", (Value(0x21, 2),))])

    def test_refused(self) -> None:
        """No IPP write, no IPP spelling, or no current Resolution: WriteError."""
        self.assertRaises(S.WriteError, S.encodeWrites, {S.DESCRIPTION + "OwnerVCard": "x"}, {})
        self.assertRaises(S.WriteError, S.encodeWrites, {S.PDP + "OrientationRequested": "Sideways"}, {})
        self.assertRaises(S.WriteError, S.encodeWrites, {S.RESOLUTION + "Units": "Dpi"}, {})

    def test_notTaken(self) -> None:
        """A value that did not read back is named."""
        readBack = S.read(ippeveprinter())
        self.assertEqual(S.notTaken({S.DESCRIPTION + "ServiceLocation": "Room 1"}, readBack), [])
        self.assertEqual(S.notTaken({S.PDP + "Sides": "OneSided"}, readBack), [S.PDP + "Sides"])


SERVED = ([p for p, _, _ in S.SCALARS] + [S.STATE_REASONS, S.STATUS + "Id"]
          + [S.RESOLUTION + f for f in ("CrossFeedDir", "FeedDir", "Units")])  # the scalar paths IPP serves


def boundTree(readings: S.Readings, scalars: Iterable[str], rowPaths: dict[str, Iterable[str]],
              column: Callable[[dict, str], Any] = dict.__getitem__) -> TreeDataModel:
    """
    A PrintService tree with C{scalars} and the C{rowPaths} columns bound to
    C{readings} (a row's column read by C{column}), its rows added by native
    index: how the model serves a source's readings (IPP's here, SNMP's too).
    """
    bindings = {path: model.Binding(lambda node, p=path: readings.values[p]) for path in scalars}
    for table, rels in rowPaths.items():
        for rel in rels:
            bindings[table + rel] = model.Binding(lambda node, t=table, r=rel: column(readings.rows[t][node.data], r))
    tree = TreeDataModel(model.declare(bindings))
    tree.addInstance(model.SERVICE_TABLE, key="1")
    for table in sorted(readings.rows, key=len):
        for key in readings.rows[table]:
            parent = table[: -len("{i}.")]
            for number in key[:-1]:
                parent = parent.replace("{i}", str(number), 1)
            tree.addInstance(PS + parent, key=".".join(map(str, key)), data=key)
    return tree


class TreeTests(unittest.TestCase):
    """Every path IPP serves is in the model, and reads through the tree."""

    def test_pathsInModel(self) -> None:
        """Binding every served path raises no BindingError, and every reading's path is one of them."""
        readings = S.read(ippeveprinter())
        tree = boundTree(readings, SERVED, S.ROW_PATHS)
        self.assertLessEqual(set(readings.values), set(SERVED))
        for table, rows in readings.rows.items():
            for row in rows.values():
                self.assertLessEqual(set(row), set(S.ROW_PATHS[table]))
        self.assertIsNotNone(tree)

    def test_readThroughTree(self) -> None:
        """GetParameterValues of the demo rows gives the SM wire values."""
        tree = boundTree(S.read(ippeveprinter()), SERVED, S.ROW_PATHS)
        names = [
            PS + S.DESCRIPTION + "ServiceLocation",
            PS + S.STATUS + "State",
            PS + S.STATE_REASONS,
            PS + "PrintServiceConfiguration.Markers.Marker.1.MarkerSupplies.MarkerSupply.2." + LEVEL,
            PS + "PrintServiceConfiguration.InputTrays.InputTray.1.InputTrayStatus.SubunitStates.SubunitState",
            PS + S.RESOLUTION + "Units",
            PS + S.PDP + "Sides",
            PS + "PrintServiceConfiguration.Markers.Marker.1.MarkerSupplies.MarkerSupplyNumberOfEntries",
        ]
        values = [v.value for v in tree._getParameterValues(names)]
        self.assertEqual(values, ["Room 1", "Idle", "None", "55", "AvailableAndIdle", "Dpi", "TwoSidedLongEdge", "2"])


class _Peers:
    """Clients of the real peers of L{tests.peers.printers}, which a test starts."""

    timeout = 120

    def client(self: Any, url: str) -> IPPClient:
        from twisted.internet import reactor

        return IPPClient(url, reactor=reactor, timeout=20)


class LiveIppeveprinterTests(_Peers, unittest.TestCase):
    """Against a running ippeveprinter."""

    @defer.inlineCallbacks
    def test_demoRows(self) -> Any:
        """Every IPP-served demo row reads from the live printer as from the recording."""
        group = yield self.client(printers.startPrinter(self).url).getPrinterAttributes()
        readings = S.read(group)
        self.assertEqual(readings.problems, [])
        self.assertEqual(demoRows(readings), demoRows(S.read(ippeveprinter())))
        self.assertEqual(readings.rows[S.SUPPLY][(1, 1)][LEVEL], 8)
        self.assertEqual(S.settablePaths(group), frozenset())


class LiveCupsQueueTests(_Peers, unittest.TestCase):
    """Against a private cupsd queue in front of the ippeveprinter."""

    @defer.inlineCallbacks
    def test_locationWriteReadBack(self) -> Any:
        """ServiceLocation is settable on the queue; its encoded write is accepted and reads back."""
        printers.skipUnlessQueue()
        client = self.client(printers.startQueue(self, printers.startPrinter(self)))
        before = S.read((yield client.getPrinterAttributes()))
        path = S.DESCRIPTION + "ServiceLocation"
        group = yield client.getPrinterAttributes(["printer-settable-attributes-supported"])
        self.assertIn(path, S.settablePaths(group))
        changes = {path: "Lab 7"}
        yield client.setPrinterAttributes(S.encodeWrites(changes, before.values))
        after = S.read((yield client.getPrinterAttributes()))
        self.assertEqual(S.notTaken(changes, after), [])
        self.assertEqual(S.notTaken(changes, before), [path])
