# -*- test-case-name: tests.test_printer_conversions -*-
"""
Value conversion between IPP / the Printer-MIB and the PWG Semantic Model's
values in the PrintService tree (PRINTERS.md section 4), as data tables:

 - IPP keywords <-> SM well-known values: a generic kebab -> Camel rule
   (C{two-sided-long-edge} <-> C{TwoSidedLongEdge}) plus L{KEYWORD_EXCEPTIONS}
   where the SM spells a value otherwise;
 - IPP enums: C{orientation-requested} (L{ORIENTATION}), C{printer-state}
   (L{PRINTER_STATE}), resolution units (L{RESOLUTION_UNITS});
 - PrtSubUnitStatusTC bits -> the SM's C{SubunitStateWKV} list
   (L{subunitStates});
 - the Printer-MIB's textual conventions by number (L{MIB_LABELS}, generated
   from the MIB text) and their labels -> SM values (L{labelToWKV}), which
   PWG 5100.13 rows carry as labels and SNMP as numbers;
 - HOST-RESOURCES-MIB printer status -> the SM's State (L{HR_PRINTER_STATUS},
   L{HR_DEVICE_STATUS}) and hrPrinterDetectedErrorState bits -> StateReasons
   (L{detectedErrors});
 - RFC 2579 DateAndTime octets (IPP C{dateTime}) -> an aware datetime.

Every function raises L{ConversionError} (a C{ValueError}) for a value it
has no mapping for: a printer's odd value is a clear error for the caller
to log or skip, never a crash.
"""

from __future__ import annotations

import datetime
import re
from typing import Mapping

from proxier.printer import mib

__all__ = [
    "ConversionError",
    "KEYWORD_EXCEPTIONS",
    "LABEL_EXCEPTIONS",
    "ORIENTATION",
    "PRINTER_STATE",
    "RESOLUTION_UNITS",
    "SUBUNIT_AVAILABILITY",
    "SUBUNIT_FLAGS",
    "MIB_LABELS",
    "HR_PRINTER_STATUS",
    "HR_DEVICE_STATUS",
    "DETECTED_ERRORS",
    "detectedErrors",
    "keywordToWKV",
    "wkvToKeyword",
    "stateReasonToWKV",
    "labelToWKV",
    "mibLabel",
    "enumToWKV",
    "wkvToEnum",
    "subunitStates",
    "dateTime",
]


class ConversionError(ValueError):
    """A value with no mapping (out of range, malformed, not in a table)."""


# IPP keyword -> SM value where the generic kebab -> Camel rule gives another
# spelling than the SM's (PwgWellKnownValues.xsd / the SM's *Values types).
KEYWORD_EXCEPTIONS: Mapping[str, str] = {
    "printer-nms-reset": "PrinterNMSReset",  # printer-state-reasons; SM keeps the acronym
}
_WKV_EXCEPTIONS = {v: k for k, v in KEYWORD_EXCEPTIONS.items()}

# RFC 8011 5.4.12: a printer-state-reasons keyword may carry a severity suffix.
_REASON_SUFFIXES = ("-report", "-warning", "-error")

_KEYWORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
_WKV = re.compile(r"[A-Z][A-Za-z0-9]*\Z")
_LABEL = re.compile(r"[a-z][A-Za-z0-9]*\Z")
_MAX_TEXT = 255


def _checkText(text: object, what: str) -> str:
    if not isinstance(text, str):
        raise ConversionError(f"{what} {text!r} is not text")
    if len(text) > _MAX_TEXT:
        raise ConversionError(f"{what} of {len(text)} characters is too long")
    return text


def keywordToWKV(keyword: str) -> str:
    """C{two-sided-long-edge} -> C{TwoSidedLongEdge} (exceptions first)."""
    _checkText(keyword, "keyword")
    if keyword in KEYWORD_EXCEPTIONS:
        return KEYWORD_EXCEPTIONS[keyword]
    if not _KEYWORD.match(keyword):
        raise ConversionError(f"{keyword!r} is not an IPP keyword in kebab case")
    return "".join(part[:1].upper() + part[1:] for part in keyword.split("-"))


def wkvToKeyword(value: str) -> str:
    """C{TwoSidedLongEdge} -> C{two-sided-long-edge}: the inverse of L{keywordToWKV}."""
    _checkText(value, "value")
    if value in _WKV_EXCEPTIONS:
        return _WKV_EXCEPTIONS[value]
    if not _WKV.match(value):
        raise ConversionError(f"{value!r} is not an SM well-known value")
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", value).lower()


def stateReasonToWKV(keyword: str) -> str:
    """A C{printer-state-reasons} keyword, severity suffix dropped, as an SM StateReason."""
    _checkText(keyword, "keyword")
    for suffix in _REASON_SUFFIXES:
        if keyword.endswith(suffix):
            keyword = keyword[: -len(suffix)]
            break
    return keywordToWKV(keyword)


# IANA-PRINTER-MIB label -> SM value where capitalising the first letter is not
# the SM's spelling.
LABEL_EXCEPTIONS: Mapping[str, str] = {
    "unRemovableBin": "UnremovableBin",  # PrtOutputTypeTC 4; SM OutputTrayTypeWKV
    "impactMovingHeadDotMatrix9pin": "ImpactMovingHeadDotMatrix9Pin",  # PrtMarkerMarkTechTC 6; SM MarkerTechnology
    "impactMovingHeadDotMatrix24pin": "ImpactMovingHeadDotMatrix24Pin",  # PrtMarkerMarkTechTC 7
}


def labelToWKV(label: str) -> str:
    """An IANA-PRINTER-MIB label (C{toner}, C{supplyThatIsConsumed}) as the SM value (C{Toner}, ...)."""
    _checkText(label, "label")
    if label in LABEL_EXCEPTIONS:
        return LABEL_EXCEPTIONS[label]
    if not _LABEL.match(label):
        raise ConversionError(f"{label!r} is not an IANA-PRINTER-MIB label")
    return label[0].upper() + label[1:]


# The Printer-MIB's and IANA-PRINTER-MIB's textual conventions (RFC 3805), by
# name: number -> label, generated from the MIB text (proxier.printer.mib, one
# source). PWG 5100.13 rows carry the labels, SNMP the numbers.
MIB_LABELS: Mapping[str, Mapping[int, str]] = mib.LABELS


def mibLabel(convention: str, number: int) -> str:
    """The label of C{number} in the textual convention C{convention} (L{MIB_LABELS})."""
    labels = MIB_LABELS.get(convention)
    if labels is None:
        raise ConversionError(f"no textual convention {convention!r}")
    if type(number) is not int or number not in labels:
        raise ConversionError(f"{number!r} is not a value of {convention}")
    return labels[number]


# IPP enums -> SM values.
# orientation-requested (RFC 8011 5.2.10; 7 "none" from PWG 5100.13) -> OrientationRequestedValues.
ORIENTATION: Mapping[int, str] = {3: "Portrait", 4: "Landscape", 5: "ReverseLandscape", 6: "ReversePortrait", 7: "None"}
# printer-state (RFC 8011 5.4.11) -> the SM's ObjectStateWKV (PRINTERS.md section 4).
PRINTER_STATE: Mapping[int, str] = {3: "Idle", 4: "Processing", 5: "Stopped"}
# resolution units (RFC 8010 3.9) -> UnitsValues.
RESOLUTION_UNITS: Mapping[int, str] = {3: "Dpi", 4: "Dpcm"}


def enumToWKV(table: Mapping[int, str], number: object, what: str) -> str:
    """C{table[number]}, or L{ConversionError} naming C{what}."""
    if type(number) is not int or number not in table:
        raise ConversionError(f"{number!r} is not a known {what} value")
    return table[number]


def wkvToEnum(table: Mapping[int, str], value: str, what: str) -> int:
    """The number C{table} maps to C{value}: the inverse of L{enumToWKV}."""
    for number, name in table.items():
        if name == value:
            return number
    raise ConversionError(f"{value!r} is not a known {what} value")


# HOST-RESOURCES-MIB (RFC 2790) hrPrinterStatus -> the SM's State (PRINTERS.md
# section 4). warmup(5) is work under way towards printing, not idle.
HR_PRINTER_STATUS: Mapping[int, str] = {1: "Other", 2: "Unknown", 3: "Idle", 4: "Processing", 5: "Processing"}
# hrDeviceStatus values that say more than hrPrinterStatus: down(5) -> Down
# (PRINTERS.md section 4), testing(4) -> Testing; the others leave it.
HR_DEVICE_STATUS: Mapping[int, str] = {4: "Testing", 5: "Down"}
# hrPrinterDetectedErrorState (RFC 2790): bit number (0 = the first octet's
# most significant bit) -> SM StateReason, the IPP printer-state-reasons each
# condition is. offline(6), serviceRequested(7), markerSupplyMissing(10) and
# overduePreventMaint(14) have no SM StateReason and are not reported.
DETECTED_ERRORS: tuple[tuple[int, str], ...] = (
    (0, "MediaLow"),
    (1, "MediaEmpty"),
    (2, "TonerLow"),
    (3, "TonerEmpty"),
    (4, "DoorOpen"),
    (5, "MediaJam"),
    (8, "InputTrayMissing"),
    (9, "OutputTrayMissing"),
    (11, "OutputAreaAlmostFull"),
    (12, "OutputAreaFull"),
    (13, "InputTrayEmpty"),
)


def detectedErrors(octets: object) -> tuple[str, ...]:
    """hrPrinterDetectedErrorState -> StateReason list (C{("None",)} when no known bit is set): 0x20 -> TonerLow."""
    if not isinstance(octets, bytes) or len(octets) > 8:
        raise ConversionError(f"hrPrinterDetectedErrorState {octets!r:.40} is not up to eight octets")
    reasons = tuple(reason for bit, reason in DETECTED_ERRORS
                    if bit // 8 < len(octets) and octets[bit // 8] & (0x80 >> bit % 8))
    return reasons or ("None",)


# PrtSubUnitStatusTC (RFC 3805): bits 0-2 the availability, then one bit each.
# The names are the SM's SubunitStateWKV (PwgWellKnownValues.xsd).
SUBUNIT_AVAILABILITY: Mapping[int, str] = {
    0: "AvailableAndIdle",
    1: "UnavailableAndOnRequest",
    2: "AvailableAndStandby",
    3: "UnavailableAndBroken",
    4: "AvailableAndActive",
    5: "Unknown",
    6: "AvailableAndBusy",
}
SUBUNIT_FLAGS: tuple[tuple[int, str], ...] = (
    (8, "WarningAlerts"),
    (16, "CriticalAlerts"),
    (32, "Offline"),
    (64, "Transitioning"),
)


def subunitStates(status: object) -> tuple[str, ...]:
    """PrtSubUnitStatusTC -> SubunitStateWKV list: 9 -> (UnavailableAndOnRequest, WarningAlerts)."""
    if type(status) is not int or not 0 <= status <= 126:
        raise ConversionError(f"PrtSubUnitStatusTC {status!r} is not 0..126")
    availability = SUBUNIT_AVAILABILITY.get(status & 7)
    if availability is None:
        raise ConversionError(f"PrtSubUnitStatusTC {status}: availability 7 is not defined")
    return (availability,) + tuple(name for bit, name in SUBUNIT_FLAGS if status & bit)


def dateTime(octets: object) -> datetime.datetime:
    """An IPP C{dateTime} (RFC 2579 DateAndTime, eleven octets) as an aware datetime."""
    if not isinstance(octets, bytes) or len(octets) != 11:
        raise ConversionError(f"a dateTime is eleven octets, not {octets!r:.40}")
    year = octets[0] << 8 | octets[1]
    month, day, hour, minute, second, decis, direction, offsetHours, offsetMinutes = octets[2:]
    if direction not in b"+-" or offsetHours > 14 or offsetMinutes > 59 or decis > 9:
        raise ConversionError(f"dateTime {octets.hex()}: bad deci-seconds or offset")
    offset = datetime.timedelta(hours=offsetHours, minutes=offsetMinutes)
    try:
        return datetime.datetime(year, month, day, hour, minute, min(second, 59), decis * 100000,
                                 tzinfo=datetime.timezone(offset if direction == ord("+") else -offset))
    except ValueError as e:
        raise ConversionError(f"dateTime {octets.hex()}: {e}") from None
