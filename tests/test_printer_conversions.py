# -*- test-case-name: tests.test_printer_conversions -*-
"""
Tests for L{proxier.printer.conversions}: each table walked row by row
against the PrintService document's enumerations, and odd values refused
with L{ConversionError}.
"""

from __future__ import annotations

import datetime

from twisted.trial import unittest

from proxier.printer import conversions as C
from proxier.printer import mib, model
from proxier.printer.conversions import ConversionError

_CONF = "PrintServiceConfiguration."
_PDP = "PrintServiceDefaults.DefaultPrintJobTicket.PrintDocumentProcessing."


def enumeration(path: str) -> tuple:
    """The enumeration of a document parameter (its item's, for a list)."""
    dataType = model.document().parameters[path].type
    return getattr(dataType, "item", dataType).enumeration


# Each IANA-PRINTER-MIB convention and a parameter whose values it gives.
_CONVENTION_TARGETS = {
    "PrtMarkerSuppliesTypeTC": _CONF + "Markers.Marker.{i}.MarkerSupplies.MarkerSupply.{i}.MarkerSupplyStatus.MarkerSupplyType",
    "PrtMarkerSuppliesClassTC": _CONF + "Markers.Marker.{i}.MarkerSupplies.MarkerSupply.{i}.MarkerSupplyStatus.MarkerSupplyClass",
    "PrtMarkerSuppliesSupplyUnitTC": _CONF + "Markers.Marker.{i}.MarkerSupplies.MarkerSupply.{i}.MarkerSupplyStatus.MarkerSupplyCapacityUnit",
    "PrtInputTypeTC": _CONF + "InputTrays.InputTray.{i}.InputTrayStatus.InputTrayType",
    "PrtOutputTypeTC": _CONF + "OutputTrays.OutputTray.{i}.OutputTrayStatus.OutputTrayType",
    "PrtCapacityUnitTC": _CONF + "InputTrays.InputTray.{i}.InputTrayStatus.InputTrayCapacityUnit",
    "PrtMarkerCounterUnitTC": _CONF + "Markers.Marker.{i}.MarkerStatus.MarkerCounterUnit",
    "PrtMarkerMarkTechTC": _CONF + "Markers.Marker.{i}.MarkerStatus.MarkerTechnology",
}
# Labels IANA added after the SM (v2.905) was published: a printer's value of
# these is left out with its reason by the sources (the document's enumeration).
_SM_LACKS = {("PrtMarkerSuppliesTypeTC", 35), ("PrtMarkerSuppliesTypeTC", 36)}


class KeywordTests(unittest.TestCase):
    """IPP keywords <-> SM values."""

    def test_generic(self) -> None:
        """kebab -> Camel and back."""
        self.assertEqual(C.keywordToWKV("two-sided-long-edge"), "TwoSidedLongEdge")
        self.assertEqual(C.keywordToWKV("one-sided"), "OneSided")
        self.assertEqual(C.wkvToKeyword("TwoSidedShortEdge"), "two-sided-short-edge")
        self.assertEqual(C.wkvToKeyword("OpcNearEol"), "opc-near-eol")

    def test_exceptions(self) -> None:
        """Each exception row is used both ways."""
        for keyword, value in C.KEYWORD_EXCEPTIONS.items():
            self.assertEqual(C.keywordToWKV(keyword), value)
            self.assertEqual(C.wkvToKeyword(value), keyword)
        self.assertEqual(C.keywordToWKV("printer-nms-reset"), "PrinterNMSReset")

    def test_sides(self) -> None:
        """The sides keywords are the SM's SidesValues."""
        self.assertEqual({C.keywordToWKV(k) for k in ("one-sided", "two-sided-long-edge", "two-sided-short-edge")},
                         set(enumeration(_PDP + "Sides")))

    def test_everyStateReasonRoundTrips(self) -> None:
        """Every SM StateReason has an IPP keyword that maps back to it."""
        for value in enumeration("PrintServiceStatus.StateReasons.StateReason"):
            self.assertEqual(C.keywordToWKV(C.wkvToKeyword(value)), value)

    def test_stateReasonSuffix(self) -> None:
        """RFC 8011's severity suffixes are dropped."""
        self.assertEqual(C.stateReasonToWKV("media-empty-error"), "MediaEmpty")
        self.assertEqual(C.stateReasonToWKV("toner-low-warning"), "TonerLow")
        self.assertEqual(C.stateReasonToWKV("cover-open-report"), "CoverOpen")
        self.assertEqual(C.stateReasonToWKV("none"), "None")

    def test_refused(self) -> None:
        """Non-keywords and non-values are errors."""
        for bad in ("", "Two-Sided", "a--b", "-a", "a b", "é", "x" * 300, None, 3):
            self.assertRaises(ConversionError, C.keywordToWKV, bad)
        for bad in ("", "twoSided", "Two-Sided", "Two Sided", None):
            self.assertRaises(ConversionError, C.wkvToKeyword, bad)


class LabelTests(unittest.TestCase):
    """IANA-PRINTER-MIB conventions and labels."""

    def test_everyLabelIsAnSMValue(self) -> None:
        """Every label of every convention maps to a value of the parameter it fills, but those the SM lacks."""
        self.assertLessEqual(set(_CONVENTION_TARGETS), set(C.MIB_LABELS))
        for convention, path in _CONVENTION_TARGETS.items():
            allowed = enumeration(path)
            for number, label in C.MIB_LABELS[convention].items():
                if (convention, number) in _SM_LACKS:
                    self.assertNotIn(C.labelToWKV(label), allowed, f"{convention} {number} {label}")
                else:
                    self.assertIn(C.labelToWKV(label), allowed, f"{convention} {number} {label}")

    def test_generated(self) -> None:
        """The labels are the generated MIB tables (one source), not a copy."""
        self.assertIs(C.MIB_LABELS, mib.LABELS)
        self.assertEqual(C.mibLabel("PrtMarkerSuppliesTypeTC", 35), "matteToner")

    def test_examples(self) -> None:
        """toner(3) -> Toner; unRemovableBin is the SM's UnremovableBin."""
        self.assertEqual(C.labelToWKV(C.mibLabel("PrtMarkerSuppliesTypeTC", 3)), "Toner")
        self.assertEqual(C.labelToWKV("supplyThatIsConsumed"), "SupplyThatIsConsumed")
        self.assertEqual(C.labelToWKV(C.mibLabel("PrtOutputTypeTC", 4)), "UnremovableBin")

    def test_refused(self) -> None:
        """Unknown numbers, conventions and labels are errors."""
        self.assertRaises(ConversionError, C.mibLabel, "PrtMarkerSuppliesTypeTC", 37)
        self.assertRaises(ConversionError, C.mibLabel, "PrtMarkerSuppliesClassTC", 2)  # the MIB has no unknown(2)
        self.assertRaises(ConversionError, C.mibLabel, "PrtMarkerSuppliesTypeTC", True)
        self.assertRaises(ConversionError, C.mibLabel, "NoSuchTC", 1)
        for bad in ("", "Toner", "to ner", "3", None):
            self.assertRaises(ConversionError, C.labelToWKV, bad)


class EnumTests(unittest.TestCase):
    """IPP enums."""

    def test_orientation(self) -> None:
        """orientation-requested 3..7 are the SM's OrientationRequestedValues, both ways."""
        self.assertEqual(set(C.ORIENTATION.values()), set(enumeration(_PDP + "OrientationRequested")))
        self.assertEqual([C.enumToWKV(C.ORIENTATION, n, "o") for n in (3, 4, 5, 6)],
                         ["Portrait", "Landscape", "ReverseLandscape", "ReversePortrait"])
        for number, value in C.ORIENTATION.items():
            self.assertEqual(C.wkvToEnum(C.ORIENTATION, value, "o"), number)

    def test_printerState(self) -> None:
        """printer-state 3/4/5 -> Idle/Processing/Stopped, all ObjectStateWKV values."""
        self.assertEqual([C.enumToWKV(C.PRINTER_STATE, n, "s") for n in (3, 4, 5)], ["Idle", "Processing", "Stopped"])
        self.assertLessEqual(set(C.PRINTER_STATE.values()), set(enumeration("PrintServiceStatus.State")))

    def test_units(self) -> None:
        """Resolution units 3/4 are the SM's UnitsValues."""
        self.assertEqual(set(C.RESOLUTION_UNITS.values()), set(enumeration(_PDP + "Resolution.Units")))

    def test_refused(self) -> None:
        """Values outside a table are errors naming what they are."""
        for bad in (2, 8, "3", None, True):
            with self.assertRaises(ConversionError) as caught:
                C.enumToWKV(C.ORIENTATION, bad, "orientation-requested")
            self.assertIn("orientation-requested", str(caught.exception))
        self.assertRaises(ConversionError, C.wkvToEnum, C.ORIENTATION, "Upside", "o")


class SubunitTests(unittest.TestCase):
    """PrtSubUnitStatusTC -> SubunitStateWKV."""

    def test_table(self) -> None:
        """Availability 0..6 and each flag bit, with the SM's names."""
        allowed = enumeration(_CONF + "InputTrays.InputTray.{i}.InputTrayStatus.SubunitStates.SubunitState")
        for number, name in C.SUBUNIT_AVAILABILITY.items():
            self.assertEqual(C.subunitStates(number), (name,))
            self.assertIn(name, allowed)
        for bit, name in C.SUBUNIT_FLAGS:
            self.assertEqual(C.subunitStates(bit), ("AvailableAndIdle", name))
            self.assertIn(name, allowed)

    def test_examples(self) -> None:
        """9 -> UnavailableAndOnRequest + WarningAlerts; every flag at once."""
        self.assertEqual(C.subunitStates(9), ("UnavailableAndOnRequest", "WarningAlerts"))
        self.assertEqual(C.subunitStates(0), ("AvailableAndIdle",))
        self.assertEqual(C.subunitStates(6 + 8 + 16 + 32 + 64),
                         ("AvailableAndBusy", "WarningAlerts", "CriticalAlerts", "Offline", "Transitioning"))

    def test_refused(self) -> None:
        """Availability 7, negatives, more than 7 bits and non-integers are errors."""
        for bad in (7, 15, -1, 127, 128, "9", None, True):
            self.assertRaises(ConversionError, C.subunitStates, bad)


class DateTimeTests(unittest.TestCase):
    """RFC 2579 DateAndTime."""

    def test_decode(self) -> None:
        """Eleven octets with an offset become an aware datetime."""
        value = C.dateTime(bytes([0x07, 0xEA, 12, 6, 12, 8, 6, 3, ord("-"), 5, 30]))
        self.assertEqual(value, datetime.datetime(2026, 12, 6, 17, 38, 6, 300000, tzinfo=datetime.timezone.utc))

    def test_refused(self) -> None:
        """Wrong length, bad fields, a bad direction are errors."""
        good = bytes([0x07, 0xEA, 12, 6, 12, 8, 6, 0, ord("+"), 0, 0])
        for bad in (good[:10], good + b"\0", good[:2] + b"\x0d" + good[3:], good[:8] + b"*" + good[9:],
                    good[:7] + b"\x0a" + good[8:], good[:9] + b"\x0f" + good[10:], "x" * 11, None):
            self.assertRaises(ConversionError, C.dateTime, bad)


class HostResourcesTests(unittest.TestCase):
    """HOST-RESOURCES-MIB printer status and detected errors -> the SM's State and StateReasons."""

    def test_statusTables(self) -> None:
        """Every hrPrinterStatus is mapped, every value is an SM State, and the device status overrides are too."""
        self.assertEqual(set(C.HR_PRINTER_STATUS), set(mib.LABELS["hrPrinterStatus"]))
        allowed = enumeration("PrintServiceStatus.State")
        self.assertLessEqual(set(C.HR_PRINTER_STATUS.values()) | set(C.HR_DEVICE_STATUS.values()), set(allowed))
        self.assertEqual(mib.LABELS["hrDeviceStatus"][5], "down")
        self.assertEqual(C.HR_DEVICE_STATUS[5], "Down")

    def test_detectedErrors(self) -> None:
        """Bit 0 is the first octet's most significant bit; every reason is an SM StateReason."""
        allowed = enumeration("PrintServiceStatus.StateReasons.StateReason")
        for bit, reason in C.DETECTED_ERRORS:
            octets = bytearray(2)
            octets[bit // 8] = 0x80 >> bit % 8
            self.assertEqual(C.detectedErrors(bytes(octets)), (reason,))
            self.assertIn(reason, allowed)
        self.assertEqual(C.detectedErrors(b"\x20"), ("TonerLow",))
        self.assertEqual(C.detectedErrors(b"\xc0"), ("MediaLow", "MediaEmpty"))
        self.assertEqual(C.detectedErrors(b"\x00"), ("None",))
        self.assertEqual(C.detectedErrors(b""), ("None",))
        self.assertEqual(C.detectedErrors(b"\x02\x00"), ("None",))  # offline(6): no SM StateReason
        for bad in ("\x20", 32, None, b"\x00" * 9):
            self.assertRaises(ConversionError, C.detectedErrors, bad)
