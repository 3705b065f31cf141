"""
Tests for L{proxier.printer.snmpsource}: every SNMP-served row of the demo
table read from the snmpsim recordings (the invented MFP 4000, copied into
C{tests/fixtures/snmp/}, and the partial walk of a real Brother in
C{../shared}, skipped without it), the -1/-2/-3 rule, page counts by
counter unit, odd values left out with a reason, the identity (the MAC as
serial number for an SNMP-only printer without one, the OUI from the MAC),
restarts from sysUpTime, the write side, and a PrintService tree with every
served path bound.
"""

from __future__ import annotations

import os
from typing import Any

from twisted.trial import unittest

from proxier.printer import ippsource, mib, proxy, snmp
from proxier.printer import snmpsource as S
from proxier.printer.ippsource import WriteError
from proxier.printer.snmp import Value, VarBind
from tests import _snmprec
from tests.test_printer_sources import boundTree

PS = "Device.Services.PrintService.1."
LEVEL = "MarkerSupplyDescription.MarkerSupplyCurrentLevel"
BASIS = "MarkerSupplyDescription.MarkerSupplyCurrentLevelBasis"
STATES = "InputTrayStatus.SubunitStates.SubunitState"
MFP = "printer-mfp4000.snmprec"
BROTHER = "brother-mfc-l2710dw.snmprec"


def mfp(**changes: Any) -> dict[tuple[int, ...], Any]:
    """The MFP 4000's walk, with C{object_index=value} changed (None removes it): C{prtMarkerCounterUnit_1_1=8}."""
    varbinds = _snmprec.load(MFP)
    for key, value in changes.items():
        name, *index = key.split("_")
        oid = mib.OID[name] + tuple(int(i) for i in index)
        if value is None:
            del varbinds[oid]
        else:
            varbinds[oid] = value
    return varbinds


def brother() -> dict[tuple[int, ...], Any]:
    if not os.path.exists(os.path.join(_snmprec.SHARED_FIXTURES, BROTHER)):
        raise unittest.SkipTest(f"{_snmprec.SHARED_FIXTURES}/{BROTHER} is absent (GPL test data, kept in ../shared)")
    return _snmprec.load(BROTHER, shared=True)


class FixtureTests(unittest.TestCase):
    """The fixture copy and the reader of snmpsim recordings."""

    def test_copyIsTheOriginal(self) -> None:
        """tests/fixtures/snmp holds ../shared's recording byte for byte."""
        original = os.path.join(_snmprec.SHARED_FIXTURES, MFP)
        if not os.path.exists(original):
            raise unittest.SkipTest(f"{original} is absent")
        with open(original, "rb") as a, open(os.path.join(_snmprec.FIXTURES, MFP), "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_tags(self) -> None:
        """Each snmpsim tag as the value an SNMP codec gives."""
        varbinds = _snmprec.parse("1.1|2|-3\n1.2|4|Tray 1\n1.3|4x|0002a5\n1.4|6|1.3.6.1\n1.5|64|10.0.0.1\n"
                                  "1.6|65|12\n1.7|67|8640000\n1.8|70|18446744073709551615\n"
                                  "1.9|4:writecache|hexvalue=4142\n1.10|2:writecache|value=3\n")
        self.assertEqual(list(varbinds.values()), [-3, b"Tray 1", b"\x00\x02\xa5", (1, 3, 6, 1), b"\n\x00\x00\x01", 12,
                                                   8640000, 2**64 - 1, b"AB", 3])
        self.assertRaises(ValueError, _snmprec.parse, "1.1|2|1\n1.1|2|2\n")
        self.assertRaises(ValueError, _snmprec.parse, "1.1|99|1\n")

    def test_fromTheWire(self) -> None:
        """The recording sent as a Response through the codec and unwrapped by plain() reads the same."""
        tags = {int: snmp.INTEGER, bytes: snmp.OCTET_STRING, tuple: snmp.OBJECT_IDENTIFIER}
        bindings = tuple(VarBind(oid, Value(snmp.TIMETICKS if oid == mib.OID["sysUpTime"] + (0,) else tags[type(v)], v))
                         for oid, v in mfp().items())
        bindings += (VarBind((1, 3, 6, 1, 2, 1, 1, 9, 0), Value(snmp.NO_SUCH_INSTANCE)),
                     VarBind((1, 3, 6, 1, 2, 1, 1, 10, 0), snmp.NULL_VALUE))
        message = snmp.decode(snmp.encode(snmp.Message(snmp.V2C, b"public", snmp.PDU(snmp.RESPONSE, 1,
                                                                                      varBinds=bindings))))
        self.assertEqual(S.plain(message.pdu.varBinds), mfp())
        self.assertEqual(S.read(S.plain(message.pdu.varBinds)), S.read(mfp()))


class DemoRowTests(unittest.TestCase):
    """Every SNMP-served demo-table row of the MFP 4000, with the value its recording holds."""

    def setUp(self) -> None:
        self.readings = S.read(mfp())

    def row(self, table: str, *key: int) -> dict[str, Any]:
        return self.readings.rows[table][key]

    def test_noProblems(self) -> None:
        """The recording reads without a problem, as an ippsource.Readings."""
        self.assertIsInstance(self.readings, ippsource.Readings)
        self.assertEqual(self.readings.problems, [])

    def test_serialNumber(self) -> None:
        """Serial Number: prtGeneralSerialNumber.1."""
        self.assertEqual(self.readings.values[S.STATUS + "SerialNumber"], "EXC4K-2024-000123")

    def test_description(self) -> None:
        """Device Description: hrDeviceDescr.1."""
        self.assertEqual(self.readings.values[S.DESCRIPTION + "ServiceInfo"], "ExampleCo MFP 4000 Color")

    def test_memory(self) -> None:
        """Memory Capacity: hrMemorySize (KiB) as one RAM storage without hrStorageTable."""
        self.assertEqual(self.readings.rows[S.STORAGE], {(1,): {
            "StorageStatus.Id": 1, "StorageStatus.StorageSize": 524288, "StorageStatus.StorageType": "RAM"}})

    def test_contactAndLocation(self) -> None:
        """Contact: sysContact verbatim as OwnerVCard; Location: sysLocation."""
        self.assertEqual(self.readings.values[S.DESCRIPTION + "OwnerVCard"], "helpdesk@example.net")
        self.assertEqual(self.readings.values[S.DESCRIPTION + "ServiceLocation"], "Building A, Floor 2, Copy Room")

    def test_mac(self) -> None:
        """MAC Address: ifPhysAddress.1 as aa:bb:cc:dd:ee:ff, in the interface row keyed by ifIndex."""
        self.assertEqual(self.row(S.INTERFACE, 1), {
            "InterfaceStatus.Id": 1, "InterfaceStatus.InterfacePhysicalAddress": "00:02:a5:c0:ff:ee",
            "InterfaceStatus.InterfaceType": 6, "InterfaceStatus.InterfaceOperState": "Up",
            "InterfaceDescription.InterfaceName": "eth0"})

    def test_frontPanel(self) -> None:
        """Front Panel: prtConsoleDisplayBufferText lines in order, one console."""
        self.assertEqual(self.row(S.CONSOLE, 1)["ConsoleDescription.ConsoleDisplayBuffer.ConsoleDisplayText"],
                         ("Ready", "Black toner low"))
        self.assertEqual(self.row(S.CONSOLE, 1)["ConsoleDescription.ConsoleNumberOfDisplayLines"], 2)

    def test_color(self) -> None:
        """Printer Color: prtMarkerProcessColorants 4 > 1."""
        self.assertIs(self.readings.values[S.DESCRIPTION + "ColorSupported"], True)
        self.assertIs(S.read(mfp(prtMarkerProcessColorants_1_1=1)).values[S.DESCRIPTION + "ColorSupported"], False)

    def test_status(self) -> None:
        """Printer Status: hrPrinterStatus idle(3) -> Idle; hrPrinterDetectedErrorState 0x20 -> TonerLow."""
        self.assertEqual(self.readings.values[S.STATUS + "State"], "Idle")
        self.assertEqual(self.readings.values[S.STATE_REASONS], ("TonerLow",))

    def test_statusDown(self) -> None:
        """hrDeviceStatus down(5) -> Down whatever hrPrinterStatus says; printing(4)/warmup(5) -> Processing."""
        self.assertEqual(S.read(mfp(hrDeviceStatus_1=5)).values[S.STATUS + "State"], "Down")
        self.assertEqual(S.read(mfp(hrDeviceStatus_1=4)).values[S.STATUS + "State"], "Testing")
        self.assertEqual(S.read(mfp(hrPrinterStatus_1=4)).values[S.STATUS + "State"], "Processing")
        self.assertEqual(S.read(mfp(hrPrinterStatus_1=5)).values[S.STATUS + "State"], "Processing")

    def test_tonerLevels(self) -> None:
        """Toner Levels: prtMarkerSuppliesTable rows keyed (marker, index); -3 is NotEmpty with level 0."""
        self.assertEqual(self.row(S.SUPPLY, 1, 1), {
            "MarkerSupplyStatus.Id": 1, LEVEL: 8, BASIS: "Actual",
            "MarkerSupplyDescription.MarkerSupplyMaxCapacity": 100,
            "MarkerSupplyDescription.MarkerSupplyMaxCapacityBasis": "Actual",
            "MarkerSupplyStatus.MarkerSupplyType": "Toner", "MarkerSupplyStatus.MarkerSupplyClass": "SupplyThatIsConsumed",
            "MarkerSupplyStatus.MarkerSupplyCapacityUnit": "Percent",
            "MarkerSupplyStatus.MarkerSupplyInfo": "Black Toner Cartridge EX-K"})
        self.assertEqual([self.row(S.SUPPLY, 1, i)[LEVEL] for i in range(1, 8)], [8, 55, 61, 47, 30, 41234, 0])
        self.assertEqual(self.row(S.SUPPLY, 1, 7)[BASIS], "NotEmpty")
        self.assertEqual(self.row(S.SUPPLY, 1, 5)["MarkerSupplyStatus.MarkerSupplyClass"], "ReceptacleThatIsFilled")
        self.assertEqual(self.row(S.SUPPLY, 1, 6)["MarkerSupplyStatus.MarkerSupplyType"], "Opc")

    def test_trays(self) -> None:
        """Tray status: prtInputStatus 9 -> UnavailableAndOnRequest + WarningAlerts; -2 is an Unknown level."""
        self.assertEqual([self.row(S.INPUT_TRAY, i)[STATES] for i in (1, 2, 3)],
                         [("AvailableAndIdle",), ("AvailableAndIdle",), ("UnavailableAndOnRequest", "WarningAlerts")])
        self.assertEqual(self.row(S.INPUT_TRAY, 1)["InputTrayDescription.InputTrayCurrentLevelBasis"], "Unknown")
        self.assertEqual(self.row(S.INPUT_TRAY, 2)["InputTrayDescription.InputTrayCurrentLevel"], 275)
        self.assertEqual(self.row(S.INPUT_TRAY, 2)["InputTrayDescription.InputTrayName"], "Tray 2")
        self.assertEqual(self.row(S.INPUT_TRAY, 1)["InputTrayStatus.InputTrayType"], "SheetFeedManual")

    def test_pageCountImpressions(self) -> None:
        """General Page Count: prtMarkerCounterUnit impressions(7) fills the impression counters, never sheets."""
        self.assertEqual(self.readings.values[S.STATUS + "ImpressionsCompleted"], 123456)
        self.assertEqual(self.readings.values[S.STATUS + "PrintServiceCounters.WorkTotals.Impressions"], 123456)
        self.assertNotIn(S.MEDIA_USED, self.readings.rows)
        self.assertEqual(self.row(S.MARKER, 1)["MarkerStatus.MarkerCounterUnit"], "Impressions")

    def test_pageCountSheets(self) -> None:
        """sheets(8) fills MediaUsedTotalSheets and no impression counter; another unit fills neither."""
        readings = S.read(mfp(prtMarkerCounterUnit_1_1=8))
        self.assertEqual(readings.rows[S.MEDIA_USED], {(1,): {"MediaUsedTotalSheets": 123456}})
        self.assertNotIn(S.STATUS + "ImpressionsCompleted", readings.values)
        readings = S.read(mfp(prtMarkerCounterUnit_1_1=17))  # meters
        self.assertNotIn(S.MEDIA_USED, readings.rows)
        self.assertNotIn(S.STATUS + "ImpressionsCompleted", readings.values)
        self.assertEqual(readings.rows[S.MARKER][(1,)]["MarkerStatus.MarkerCounterLife"], 123456)

    def test_upTime(self) -> None:
        """sysUpTime (hundredths) in whole seconds."""
        self.assertEqual(self.readings.values[S.STATUS + "UpTime"], 86400)


class IdentityTests(unittest.TestCase):
    """PRINTERS.md section 4's identity from SNMP."""

    def test_identity(self) -> None:
        """Serial from prtGeneralSerialNumber, product class from hrDeviceDescr, OUI from the MAC, firmware sysDescr."""
        identity = S.read(mfp()).identity
        self.assertIsInstance(identity, ippsource.Identity)
        self.assertEqual(identity, S.Identity(
            manufacturer="ExampleCo", modelName="ExampleCo MFP 4000 Color", productClass="ExampleCo MFP 4000 Color",
            serialNumber="EXC4K-2024-000123", softwareVersion="ExampleCo MFP 4000 Color; FW 2.11.3; Printer-MIB v2",
            upTime=86400, macAddress="00:02:a5:c0:ff:ee", oui="0002A5"))

    def test_macAsSerial(self) -> None:
        """An SNMP-only printer without prtGeneralSerialNumber is known by its MAC; the device identity follows."""
        readings = S.read(mfp(prtGeneralSerialNumber_1=None))
        self.assertEqual(readings.identity.serialNumber, "00:02:a5:c0:ff:ee")
        self.assertNotIn(S.STATUS + "SerialNumber", readings.values)
        self.assertEqual(proxy.identityOf(readings, readings.identity.oui).serialNumber, "00:02:a5:c0:ff:ee")

    def test_noMac(self) -> None:
        """A zero or short ifPhysAddress is no MAC: no OUI, and without a serial number no identity."""
        readings = S.read(mfp(prtGeneralSerialNumber_1=None, ifPhysAddress_1=b"\x00" * 6))
        self.assertEqual((readings.identity.macAddress, readings.identity.oui, readings.identity.serialNumber),
                         ("", "", ""))
        self.assertIsNone(proxy.identityOf(readings, "000000"))

    def test_printerIndex(self) -> None:
        """The printer's hrDeviceIndex: the prtGeneralTable row, else the hrDeviceType printer row."""
        self.assertEqual(S.printerIndex(mfp()), 1)
        varbinds = {oid[:-1] + (2,) if oid[:len(mib.OID["hrDevice"])] == mib.OID["hrDevice"] else oid: v
                    for oid, v in mfp().items() if oid[:len(mib.OID["prtGeneral"])] != mib.OID["prtGeneral"]}
        self.assertEqual(S.printerIndex(varbinds), 2)
        self.assertEqual(S.read(varbinds).values[S.DESCRIPTION + "ServiceInfo"], "ExampleCo MFP 4000 Color")
        self.assertIsNone(S.printerIndex({}))

    def test_restarted(self) -> None:
        """sysUpTime going back is a restart, growing less than the time passed too; its 2**32-tick wrap is not."""
        self.assertTrue(S.restarted(86400, 10, elapsed=60))
        self.assertFalse(S.restarted(86400, 86460, elapsed=60))
        self.assertFalse(S.restarted(86400, 86455, elapsed=60))  # latency
        self.assertTrue(S.restarted(86400, 86400 + 100, elapsed=7200))  # down and up again between polls
        top = int(S.UPTIME_WRAP) - 20
        self.assertFalse(S.restarted(top, 40, elapsed=60))
        self.assertTrue(S.restarted(top, 4000, elapsed=60))


class OddValueTests(unittest.TestCase):
    """A printer's odd values are left out with the reason, never a crash."""

    def test_tooLong(self) -> None:
        """A sysLocation beyond the SM's 127 characters is left out, named."""
        readings = S.read(mfp(sysLocation_0=b"x" * 200))
        self.assertNotIn(S.DESCRIPTION + "ServiceLocation", readings.values)
        self.assertEqual(len(readings.problems), 1)
        self.assertIn("ServiceLocation", readings.problems[0])

    def test_wrongTypes(self) -> None:
        """A value of the wrong type (text for octets, octets for an integer) is a problem."""
        readings = S.read(mfp(sysContact_0="helpdesk", hrPrinterStatus_1=b"\x03", prtMarkerSuppliesLevel_1_2=True))
        self.assertNotIn(S.DESCRIPTION + "OwnerVCard", readings.values)
        self.assertNotIn(S.STATUS + "State", readings.values)
        self.assertEqual(readings.rows[S.SUPPLY][(1, 2)][BASIS], "Unknown")  # the level left out: unknown
        self.assertEqual(len(readings.problems), 3, readings.problems)

    def test_labels(self) -> None:
        """A supply type the SM lacks (matteToner) leaves that field out; an unknown number is named."""
        readings = S.read(mfp(prtMarkerSuppliesType_1_1=35, prtMarkerSuppliesClass_1_2=2))
        self.assertNotIn("MarkerSupplyStatus.MarkerSupplyType", readings.rows[S.SUPPLY][(1, 1)])
        self.assertEqual(readings.rows[S.SUPPLY][(1, 1)][LEVEL], 8)
        self.assertEqual(readings.rows[S.SUPPLY][(1, 2)]["MarkerSupplyStatus.MarkerSupplyClass"], "Unknown")
        self.assertEqual(len(readings.problems), 2, readings.problems)

    def test_badRows(self) -> None:
        """A level below -3 or a status with availability 7 leaves its row out; a row index of two numbers too."""
        varbinds = mfp(prtMarkerSuppliesLevel_1_3=-4, prtInputStatus_1_2=7)
        varbinds[mib.OID["prtInputName"] + (1, 9, 9)] = b"odd"
        readings = S.read(varbinds)
        self.assertNotIn((1, 3), readings.rows[S.SUPPLY])
        self.assertEqual(sorted(readings.rows[S.INPUT_TRAY]), [(1,), (3,)])
        self.assertEqual(len(readings.problems), 3, readings.problems)

    def test_text(self) -> None:
        """Octets that are not UTF-8 read as ISO 8859-1; trailing NULs go."""
        readings = S.read(mfp(prtConsoleDisplayBufferText_1_2=b"Bac vide \xe9\x00\x00"))
        self.assertEqual(readings.rows[S.CONSOLE][(1,)]["ConsoleDescription.ConsoleDisplayBuffer.ConsoleDisplayText"],
                         ("Ready", "Bac vide \xe9"))

    def test_storageTable(self) -> None:
        """hrStorageTable's RAM rows (size x units, in KiB) are used where present, other storage ignored."""
        varbinds = mfp()
        for index, kind, size, unit, name in ((3, "hrStorageFixedDisk", 1000, 4096, b"disk"),
                                              (5, "hrStorageRam", 2048, 4096, b"RAM")):
            for column, value in (("hrStorageType", mib.OID[kind]), ("hrStorageSize", size),
                                  ("hrStorageAllocationUnits", unit), ("hrStorageDescr", name)):
                varbinds[mib.OID[column] + (index,)] = value
        self.assertEqual(S.read(varbinds).rows[S.STORAGE], {(5,): {
            "StorageStatus.Id": 5, "StorageStatus.StorageSize": 8192, "StorageStatus.StorageType": "RAM",
            "StorageDescription.StorageName": "RAM"}})


class BrotherTests(unittest.TestCase):
    """The partial walk of a real Brother MFC-L2710DW (../shared, GPL test data)."""

    def setUp(self) -> None:
        self.readings = S.read(brother())

    def test_supplies(self) -> None:
        """Level -3 and capacity -2 are bases with value 0, the drum's level is actual; no marker index: marker 1."""
        toner, drum = self.readings.rows[S.SUPPLY][(1, 1)], self.readings.rows[S.SUPPLY][(1, 2)]
        self.assertEqual((toner[LEVEL], toner[BASIS]), (0, "NotEmpty"))
        self.assertEqual((toner["MarkerSupplyDescription.MarkerSupplyMaxCapacity"],
                          toner["MarkerSupplyDescription.MarkerSupplyMaxCapacityBasis"]), (0, "Unknown"))
        self.assertEqual((drum[LEVEL], drum[BASIS], drum["MarkerSupplyStatus.MarkerSupplyType"]), (11501, "Actual", "Opc"))
        self.assertEqual(toner["MarkerSupplyStatus.MarkerSupplyInfo"], "Black Toner Cartridge")

    def test_trays(self) -> None:
        """Three trays by prtInputIndex, names kept, no status: Unknown."""
        trays = self.readings.rows[S.INPUT_TRAY]
        self.assertEqual([trays[(i,)]["InputTrayDescription.InputTrayName"] for i in (1, 2, 3)],
                         ["AUTO", "MANUAL TRAY", "TRAY1"])
        self.assertEqual(trays[(1,)][STATES], ("Unknown",))
        self.assertEqual(trays[(1,)]["InputTrayDescription.InputTrayCurrentLevelBasis"], "NotEmpty")

    def test_rest(self) -> None:
        """Memory and description read; no hrPrinterStatus leaves State out, named; no serial nor MAC: no identity."""
        self.assertEqual(self.readings.rows[S.STORAGE][(1,)]["StorageStatus.StorageSize"], 65536)
        self.assertEqual(self.readings.values[S.DESCRIPTION + "ServiceInfo"], "Brother MFC-L2710DW series")
        self.assertNotIn(S.STATUS + "State", self.readings.values)
        self.assertEqual(self.readings.problems, ["no hrPrinterStatus"])
        self.assertEqual(self.readings.identity.serialNumber, "")
        self.assertEqual(self.readings.identity.productClass, "Brother MFC-L2710DW series")


class WriteTests(unittest.TestCase):
    """The write side as data (PRINTERS.md section 5)."""

    def test_settable(self) -> None:
        """A path is writable where its object took a SET (or is configured so)."""
        self.assertEqual(S.settablePaths(["sysContact"]), {S.DESCRIPTION + "OwnerVCard"})
        self.assertEqual(S.settablePaths(["sysContact", "sysLocation", "prtGeneralReset"]),
                         {S.DESCRIPTION + "OwnerVCard", S.DESCRIPTION + "ServiceLocation"})
        self.assertEqual(S.settablePaths([]), frozenset())

    def test_encode(self) -> None:
        """OwnerVCard -> sysContact.0 and ServiceLocation -> sysLocation.0, the UTF-8 octets verbatim."""
        vcard = "BEGIN:VCARD\r\nFN:Zoë\r\nEND:VCARD\r\n"
        self.assertEqual(S.encodeWrites({S.DESCRIPTION + "OwnerVCard": vcard, S.DESCRIPTION + "ServiceLocation": "Room 1"}),
                         [VarBind(mib.OID["sysContact"] + (0,), Value(snmp.OCTET_STRING, vcard.encode("utf-8"))),
                          VarBind(mib.OID["sysLocation"] + (0,), Value(snmp.OCTET_STRING, b"Room 1"))])

    def test_refused(self) -> None:
        """More than 255 octets for sysContact (9007 above), a path SNMP does not write, a non-text value."""
        self.assertEqual(len(S.encodeWrites({S.DESCRIPTION + "OwnerVCard": "é" * 127 + "x"})[0].value.value), 255)
        self.assertRaises(WriteError, S.encodeWrites, {S.DESCRIPTION + "OwnerVCard": "é" * 128})
        self.assertRaises(WriteError, S.encodeWrites, {S.STATUS + "SerialNumber": "X"})
        self.assertRaises(WriteError, S.encodeWrites, {S.DESCRIPTION + "ServiceLocation": 3})

    def test_resets(self) -> None:
        """Reboot is prtGeneralReset powerCycleReset(4), FactoryReset resetToFactoryDefaults(6), of the printer."""
        self.assertEqual(S.resetWrite("Reboot", 1), VarBind(mib.OID["prtGeneralReset"] + (1,), Value(snmp.INTEGER, 4)))
        self.assertEqual(S.resetWrite("FactoryReset", 2),
                         VarBind(mib.OID["prtGeneralReset"] + (2,), Value(snmp.INTEGER, 6)))

    def test_onTheWire(self) -> None:
        """The writes encode as a SetRequest the codec reads back unchanged."""
        bindings = S.encodeWrites({S.DESCRIPTION + "OwnerVCard": "x"}) + [S.resetWrite("Reboot", 1)]
        message = snmp.Message(snmp.V2C, b"private", snmp.PDU(snmp.SET, 7, varBinds=tuple(bindings)))
        self.assertEqual(snmp.decode(snmp.encode(message)), message)

    def test_readBack(self) -> None:
        """A write is checked by reading back through SNMP: a value that did not take is named."""
        readBack = S.read(mfp(sysLocation_0=b"Room 1"))
        self.assertEqual(ippsource.notTaken({S.DESCRIPTION + "ServiceLocation": "Room 1"}, readBack), [])
        self.assertEqual(ippsource.notTaken({S.DESCRIPTION + "OwnerVCard": "x"}, readBack), [S.DESCRIPTION + "OwnerVCard"])


class TreeTests(unittest.TestCase):
    """Every path SNMP serves is in the model, and reads through the tree."""

    def test_pathsInModel(self) -> None:
        """Binding every served path raises no BindingError, and every reading's path is one of them."""
        readings = S.read(mfp())
        self.assertIsNotNone(boundTree(readings, S.SCALARS, S.ROW_PATHS, dict.get))
        self.assertLessEqual(set(readings.values), set(S.SCALARS))
        for table, rows in readings.rows.items():
            for row in rows.values():
                self.assertLessEqual(set(row), set(S.ROW_PATHS[table]))

    def test_readThroughTree(self) -> None:
        """GetParameterValues of the SNMP-served demo rows gives their wire values."""
        tree = boundTree(S.read(mfp()), S.SCALARS, S.ROW_PATHS, dict.get)  # an SNMP row may lack a column
        conf = PS + "PrintServiceConfiguration."
        names = {
            PS + S.STATUS + "SerialNumber": "EXC4K-2024-000123",
            PS + S.DESCRIPTION + "ServiceInfo": "ExampleCo MFP 4000 Color",
            conf + "Storages.Storage.1.StorageStatus.StorageSize": "524288",
            PS + S.DESCRIPTION + "OwnerVCard": "helpdesk@example.net",
            PS + S.DESCRIPTION + "ServiceLocation": "Building A, Floor 2, Copy Room",
            conf + "Interfaces.Interface.1.InterfaceStatus.InterfacePhysicalAddress": "00:02:a5:c0:ff:ee",
            conf + "Consoles.Console.1.ConsoleDescription.ConsoleDisplayBuffer.ConsoleDisplayText": "Ready,Black toner low",
            PS + S.DESCRIPTION + "ColorSupported": "true",
            PS + S.STATUS + "State": "Idle",
            PS + S.STATE_REASONS: "TonerLow",
            conf + "Markers.Marker.1.MarkerSupplies.MarkerSupply.7." + LEVEL: "0",
            conf + "Markers.Marker.1.MarkerSupplies.MarkerSupply.7." + BASIS: "NotEmpty",
            conf + "InputTrays.InputTray.3." + STATES: "UnavailableAndOnRequest,WarningAlerts",
            PS + S.STATUS + "PrintServiceCounters.WorkTotals.Impressions": "123456",
            conf + "Markers.Marker.1.MarkerSupplies.MarkerSupplyNumberOfEntries": "7",
        }
        values = [v.value for v in tree._getParameterValues(list(names))]
        self.assertEqual(dict(zip(names, values)), names)
